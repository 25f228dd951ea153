//go:build !duckdb_arrow

package tests

const columnarBuilt = false
