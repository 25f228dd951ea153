// Package udf owns the functions SQL calls that hopsql provides itself.
// Subpackage pgfunc holds PostgreSQL built-ins DuckDB lacks and SQL macros
// cannot express (to_char of numbers, format, initcap, clock_timestamp,
// regexp_matches, justify_*, jsonb input), registered as DuckDB scalar
// functions. Subpackage jsonb is jsonb's text form (what jsonb_out prints
// for what jsonb_in read), shared by those functions, the rewriter and the
// wire's output of jsonb columns. Feature transformations fitted
// on training datasets and PREDICT (issues 4 and 5) live in the engine
// for now.
package udf
