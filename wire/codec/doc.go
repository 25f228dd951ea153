// Package codec owns the conversion between values of the DuckDB Go driver
// and PostgreSQL's wire representations.
//
// Result columns: NewEncoder plans, once per column, how a value the driver
// produced is written in text (format 0) or binary (format 1) form for the
// column's PostgreSQL type (see engine/pgtypes); the returned Encoder is then
// called for every row, so the common types have allocation-free fast paths.
// Text output is byte-for-byte what PostgreSQL 15 prints (floats under
// extra_float_digits, timestamptz in the session TimeZone, intervals in the
// postgres IntervalStyle, arrays with PostgreSQL's quoting); AppendText gives
// the same text form to COPY TO and anything else that needs it.
// BindColumn does the same for a column of an Arrow batch (engine/columnar):
// direct writers for the common scalar columns, the row Encoder for the
// rest, so a cell is sent identically whichever path its result took.
//
// Bind parameters: DecodeParam turns the bytes of one parameter (text or
// binary) into a Go value the DuckDB driver can bind, parsing PostgreSQL input
// syntax itself wherever DuckDB's VARCHAR casts would disagree with
// PostgreSQL (booleans, integers, bytea, uuid, interval, arrays).
//
// The package knows types and values only: no sessions, no SQL, no messages.
package codec
