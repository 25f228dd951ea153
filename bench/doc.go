// Command bench measures hopsql against PostgreSQL 15 and embedded DuckDB on
// the same machine in one run and writes the figures, the ratios and whether
// each target is met to a Markdown file (bench/RESULTS.md by default).
//
// It starts a throw-away PostgreSQL (initdb into a temporary directory) and
// `hopsql serve` on a fresh data directory, drives both over the PostgreSQL
// protocol with pgx, and opens DuckDB in-process as the ceiling for the scan
// and aggregate benchmarks. See bench/README.md for what each figure means.
//
//	go run ./bench -hopsql ./bin/hopsql -out bench/RESULTS.md [-rows N] [-duration D] [-only a,b,c,d,e]
package main
