// Package jsonb is jsonb's text form: what PostgreSQL's jsonb_out prints
// for what jsonb_in read — object keys ordered by length then bytes, the
// last of duplicate keys kept, ", " and ": " separators, strings escaped
// as escape_json does, numbers as numeric prints them. hopsql keeps jsonb
// as DuckDB JSON text; the wire normalizes it on output, and jsonb casts
// on input (udf/pgfunc, engine/pgcatalog).
package jsonb
