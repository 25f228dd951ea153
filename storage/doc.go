// Package storage will own table data: immutable Parquet files in the fs
// namespace, committed as snapshots through the catalog, read back as
// DuckDB views over a snapshot's files, with time travel, copy-on-write
// UPDATE/DELETE and compaction (issue 3). Until then tables live in each
// database's DuckDB file, managed by the engine.
package storage
