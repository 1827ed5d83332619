//! The one output path of every report: the format the user chose, checked against the formats the report has
//! ([`Report::FORMATS`]), then the report's writer for it.

use std::io::Write;

use heapscope_query::report::{Format, Report};

use crate::args;

/// The commands whose report has a picture, for the hint when another command is asked for DOT.
const DOT_COMMANDS: &str = "`path` and `cycles`";

/// The report format for a `--format` value.
fn format(f: args::Format) -> Format {
    match f {
        args::Format::Table => Format::Table,
        args::Format::Json => Format::Json,
        args::Format::Dot => Format::Dot,
        args::Format::Md => Format::Markdown,
    }
}

/// Refuses a format that reports of type `R` do not have, naming the command and the formats it has. Called by each
/// command before it opens the core, so that a wrong format fails at once; [`emit`] checks again.
pub fn check<R: Report>(command: &str, f: args::Format) -> anyhow::Result<()> {
    check_formats(command, f, R::FORMATS)
}

fn check_formats(command: &str, f: args::Format, formats: &[Format]) -> anyhow::Result<()> {
    let wanted = format(f);
    if formats.contains(&wanted) {
        return Ok(());
    }
    let has: Vec<&str> = formats.iter().map(|f| f.name()).collect();
    let users = match wanted {
        Format::Dot => format!(": --format dot is for {DOT_COMMANDS}"),
        Format::Markdown => ": --format md is for `diff` and `report`".to_owned(),
        Format::Html => ": --format html is for `report`".to_owned(),
        Format::Table | Format::Json => String::new(),
    };
    anyhow::bail!(
        "`heapscope {command}` has no {} output (--format {}){users}",
        wanted.name().to_uppercase(),
        has.join(" or ")
    )
}

/// Writes `report` of `command` to `out` in the format the user chose.
pub fn emit<R: Report>(report: &R, command: &str, f: args::Format, out: &mut dyn Write) -> anyhow::Result<()> {
    check::<R>(command, f)?;
    report.write(format(f), out)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::io;

    use heapscope_query::alive::{LeaksReport, PathsReport, RetainedReport, TopReport};
    use heapscope_query::cycles::DrawnCycles;
    use heapscope_query::garbage::GarbageReport;
    use heapscope_query::info::InfoReport;
    use heapscope_query::show::{RefsReport, ShowReport};
    use heapscope_query::stacks::StacksReport;
    use heapscope_query::summary::SummaryReport;
    use serde::Serialize;

    use super::*;

    #[derive(Serialize)]
    struct Count {
        count: u64,
    }

    impl Report for Count {
        fn write_table(&self, w: &mut dyn Write) -> io::Result<()> {
            writeln!(w, "{} objects", self.count)
        }
    }

    fn emitted(f: args::Format) -> anyhow::Result<String> {
        let mut out = Vec::new();
        emit(&Count { count: 7 }, "summary", f, &mut out)?;
        Ok(String::from_utf8(out).unwrap())
    }

    #[test]
    fn writes_the_formats_a_report_has() {
        assert_eq!(emitted(args::Format::Table).unwrap(), "7 objects\n");
        assert_eq!(emitted(args::Format::Json).unwrap(), "{\n  \"count\": 7\n}\n");
    }

    #[test]
    fn refuses_another_naming_the_command_and_its_formats() {
        let e = emitted(args::Format::Dot).unwrap_err().to_string();
        assert_eq!(
            e,
            "`heapscope summary` has no DOT output (--format table or json): --format dot is for `path` and `cycles`"
        );
        let e = check_formats("info", args::Format::Json, &[Format::Table]).unwrap_err().to_string();
        assert_eq!(e, "`heapscope info` has no JSON output (--format table)");
    }

    #[test]
    fn dot_is_for_path_and_cycles_only() {
        let dot = |formats: &[Format]| formats.contains(&Format::Dot);
        assert!(dot(PathsReport::FORMATS));
        assert!(dot(DrawnCycles::<heapscope_coredump::CoreProcess>::FORMATS));
        for formats in [
            InfoReport::FORMATS,
            StacksReport::FORMATS,
            SummaryReport::FORMATS,
            ShowReport::FORMATS,
            RefsReport::FORMATS,
            GarbageReport::FORMATS,
            RetainedReport::FORMATS,
            TopReport::FORMATS,
            LeaksReport::FORMATS,
        ] {
            assert!(!dot(formats), "{formats:?}");
        }
    }
}
