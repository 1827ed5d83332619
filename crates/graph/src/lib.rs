//! The object graph and its algorithms (SCC, dominators, paths). Knows nothing about Python or polars.
