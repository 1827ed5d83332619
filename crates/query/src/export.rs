//! Writing the [tables](crate::tables) as files: Parquet, CSV or newline-delimited JSON, one table per file.
//!
//! The writers take any `Write`; the binary chooses the destination (and makes each file appear atomically).

use std::io::Write;

use polars::prelude::*;

/// The file formats of `heapscope export`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    /// Apache Parquet, zstd-compressed, typed columns (unsigned integers keep their type).
    Parquet,
    /// CSV with a header row; null is an empty field.
    Csv,
    /// One JSON object per row and line; null is `null`.
    Ndjson,
    /// One JSON array of row objects; null is `null`.
    Json,
}

impl ExportFormat {
    /// The file name extension, without the dot.
    pub fn extension(self) -> &'static str {
        match self {
            ExportFormat::Parquet => "parquet",
            ExportFormat::Csv => "csv",
            ExportFormat::Ndjson => "ndjson",
            ExportFormat::Json => "json",
        }
    }
}

/// Writes `df` to `w` in `format`.
pub fn write_frame(df: &mut DataFrame, format: ExportFormat, w: &mut dyn Write) -> PolarsResult<()> {
    match format {
        ExportFormat::Parquet => {
            ParquetWriter::new(w).with_compression(ParquetCompression::Zstd(None)).finish(df)?;
        }
        ExportFormat::Csv => CsvWriter::new(w).include_header(true).finish(df)?,
        ExportFormat::Ndjson => JsonWriter::new(w).with_json_format(JsonFormat::JsonLines).finish(df)?,
        ExportFormat::Json => JsonWriter::new(w).with_json_format(JsonFormat::Json).finish(df)?,
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame() -> DataFrame {
        let a = Column::new("a".into(), [Some(1u64), None, Some(u64::MAX)]);
        let b = Column::new("b".into(), ["x", "y,\"z\"", "é"]);
        DataFrame::new(3, vec![a, b]).unwrap()
    }

    #[test]
    fn csv_and_ndjson_round_trip_the_values() {
        let mut out = Vec::new();
        write_frame(&mut frame(), ExportFormat::Csv, &mut out).unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), "a,b\n1,x\n,\"y,\"\"z\"\"\"\n18446744073709551615,é\n");
        let mut out = Vec::new();
        write_frame(&mut frame(), ExportFormat::Ndjson, &mut out).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "{\"a\":1,\"b\":\"x\"}\n{\"a\":null,\"b\":\"y,\\\"z\\\"\"}\n{\"a\":18446744073709551615,\"b\":\"é\"}\n"
        );
    }

    #[test]
    fn parquet_reads_back() {
        let mut out = Vec::new();
        write_frame(&mut frame(), ExportFormat::Parquet, &mut out).unwrap();
        let back = ParquetReader::new(std::io::Cursor::new(out)).finish().unwrap();
        assert!(back.equals_missing(&frame()), "{back}");
    }
}
