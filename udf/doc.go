// Package udf owns the functions SQL calls that hopsql provides itself.
// Subpackage pgfunc holds PostgreSQL built-ins DuckDB lacks and SQL macros
// cannot express (to_char of numbers, format, initcap, clock_timestamp),
// registered as DuckDB scalar functions. Feature transformations fitted
// on training datasets and PREDICT (issues 4 and 5) live in the engine
// for now.
package udf
