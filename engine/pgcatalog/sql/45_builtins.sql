-- PostgreSQL built-in functions DuckDB lacks or gives other semantics
-- (builtins.go sends calls here). Macros are untyped; where PostgreSQL
-- overloads on the argument's type, typeof() picks the branch (it is folded
-- when the statement is bound, so the other branch never runs).

-- quote_literal(anyelement): the value as text, quoted; backslashes make it an E'' string.
CREATE MACRO hopsql_catalog.main.quote_literal(s) AS
  CASE WHEN s IS NULL THEN NULL
       WHEN contains(CAST(s AS VARCHAR), chr(92)) THEN 'E''' || replace(replace(CAST(s AS VARCHAR), chr(92), chr(92) || chr(92)), '''', '''''') || ''''
       ELSE '''' || replace(CAST(s AS VARCHAR), '''', '''''') || '''' END;
CREATE MACRO hopsql_catalog.main.quote_nullable(s) AS coalesce(hopsql_catalog.main.quote_literal(s), 'NULL');

-- div(y, x): the integer quotient, truncated towards zero, as numeric.
CREATE MACRO hopsql_catalog.main.pg_numeric_div(a, b) AS
  CASE WHEN b = 0 THEN error('division by zero') ELSE CAST(trunc(a / b) AS DECIMAL(38, 0)) END;

-- octet_length and bit_length of text count UTF-8 bytes (DuckDB's take bytea only).
CREATE MACRO hopsql_catalog.main.pg_octet_length(x) AS
  CAST(CASE WHEN typeof(x) = 'BLOB' THEN octet_length(try_cast(x AS BLOB)) ELSE strlen(CAST(x AS VARCHAR)) END AS INTEGER);
CREATE MACRO hopsql_catalog.main.pg_bit_length(x) AS 8 * hopsql_catalog.main.pg_octet_length(x);

-- json_typeof: PostgreSQL's lower-case names of JSON value kinds.
CREATE MACRO hopsql_catalog.main.json_typeof(j) AS
  CASE WHEN j IS NULL THEN NULL ELSE CASE json_type(CAST(j AS JSON)) WHEN 'OBJECT' THEN 'object' WHEN 'ARRAY' THEN 'array' WHEN 'VARCHAR' THEN 'string'
    WHEN 'BOOLEAN' THEN 'boolean' WHEN 'NULL' THEN 'null' ELSE 'number' END END;
CREATE MACRO hopsql_catalog.main.jsonb_typeof(j) AS hopsql_catalog.main.json_typeof(j);
-- json_array_length is an integer (DuckDB's is unsigned 64-bit).
CREATE MACRO hopsql_catalog.main.pg_json_array_length(j) AS CAST(json_array_length(CAST(j AS JSON)) AS INTEGER);
