//go:build duckdb_arrow

package tests

// columnarBuilt: this test binary, and so the server the harness builds
// with the same GOFLAGS, has the columnar result path (make test sets it).
const columnarBuilt = true
