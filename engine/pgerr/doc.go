// Package pgerr is hopsql's error type: a PostgreSQL error with a SQLSTATE,
// severity, message, detail, hint and cursor position, plus the translation
// of DuckDB's and pg_query's errors into it. Every error a client can see
// passes through here, so that no client ever gets a bare XX000 for a
// mistake it made.
package pgerr
