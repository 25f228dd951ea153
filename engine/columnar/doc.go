// Package columnar owns the columnar form of query results: which DuckDB
// result types may travel as Arrow record batches instead of row by row,
// and the Go value of one cell, identical to what duckdb-go's row interface
// returns for the same cell, for code that still wants rows. It knows
// nothing of DuckDB's API or of the wire protocol: engine produces the
// batches (engine/columnar.go), wire/codec encodes them.
package columnar
