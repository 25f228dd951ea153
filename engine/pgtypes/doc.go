// Package pgtypes maps DuckDB's types onto PostgreSQL's: type OIDs, typmods,
// names as format_type prints them, and the element type of each array type.
// It is the single place that decides how a DuckDB column looks to a
// PostgreSQL client, so that result descriptions, pg_catalog and the codecs
// agree with each other.
package pgtypes
