// Package storage maintains tables kept as Parquet snapshots: it compacts
// a table's small files into one (a new version with identical content) and
// expires versions older than the retention period, deleting the files only
// they used. Writing, committing and reading snapshots happen on a
// session's DuckDB connection, in engine/storage.go. See DESIGN.md.
package storage
