// Package storage owns the table data files kept as snapshots: their two
// formats (Parquet, and JSON lines for small commits) and how DuckDB reads
// them (ReadSQL), and background maintenance — compacting a table's small
// files into one (a new version with identical content) and expiring
// versions older than the retention period, deleting the files only they
// used. Writing, committing and reading snapshots happen on a session's
// DuckDB connection, in engine/storage.go and engine/smallwrite.go. See
// DESIGN.md.
package storage
