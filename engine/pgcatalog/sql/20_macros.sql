-- Helper macros used by the catalog views. Everything is fully qualified:
-- views and macros are bound in the caller's connection, whose default
-- catalog is the user's database, not hopsql_catalog.
--
-- Macro arguments are substituted textually, so a subquery inside a macro
-- would capture a caller's column reference such as c.oid or oid when its own
-- tables use those names. Macros therefore look things up only in the hop_l_*
-- views, whose columns all start with hop_ and which are never aliased.

CREATE VIEW hopsql_catalog.main.hop_l_role AS SELECT oid AS hop_oid, rolname AS hop_rolname FROM hopsql_catalog.main.hop_role;
CREATE VIEW hopsql_catalog.main.hop_l_type AS
  SELECT oid AS hop_oid, typname AS hop_typname, typelem AS hop_typelem, typarray AS hop_typarray,
         typcategory AS hop_typcategory, sqlname AS hop_sqlname FROM hopsql_catalog.main.hop_types;
CREATE VIEW hopsql_catalog.main.hop_l_duck_type AS SELECT name AS hop_name, oid AS hop_oid FROM hopsql_catalog.main.hop_duck_types;
CREATE VIEW hopsql_catalog.main.hop_l_enum AS SELECT type_name AS hop_name FROM duckdb_types() WHERE logical_type = 'ENUM';

-- The role that owns every object (the first superuser in Info.Roles).
CREATE MACRO hopsql_catalog.main.hop_owner() AS (SELECT owner_oid FROM hopsql_catalog.main.hop_server);

-- PostgreSQL's quote_ident: quote unless a lower-case identifier that is not
-- a reserved (or column-name) keyword of PostgreSQL 15. The list is inline
-- because DuckDB refuses subqueries inside the lambdas that call this.
CREATE MACRO hopsql_catalog.main.quote_ident(s) AS
  CASE WHEN regexp_full_match(s, '[a-z_][a-z0-9_$]*')
        AND s NOT IN ('all', 'analyse', 'analyze', 'and', 'any', 'array', 'as', 'asc', 'asymmetric', 'authorization', 'binary', 'both', 'case', 'cast', 'check', 'collate', 'collation', 'column', 'concurrently', 'constraint', 'create', 'cross', 'current_catalog', 'current_date', 'current_role', 'current_schema', 'current_time', 'current_timestamp', 'current_user', 'default', 'deferrable', 'desc', 'distinct', 'do', 'else', 'end', 'except', 'false', 'fetch', 'for', 'foreign', 'freeze', 'from', 'full', 'grant', 'group', 'having', 'ilike', 'in', 'initially', 'inner', 'intersect', 'into', 'is', 'isnull', 'join', 'lateral', 'leading', 'left', 'like', 'limit', 'localtime', 'localtimestamp', 'natural', 'not', 'notnull', 'null', 'offset', 'on', 'only', 'or', 'order', 'outer', 'overlaps', 'placing', 'primary', 'references', 'returning', 'right', 'select', 'session_user', 'similar', 'some', 'symmetric', 'system_user', 'table', 'tablesample', 'then', 'to', 'trailing', 'true', 'union', 'unique', 'user', 'using', 'variadic', 'verbose', 'when', 'where', 'window', 'with', 'between', 'bigint', 'bit', 'boolean', 'char', 'character', 'coalesce', 'dec', 'decimal', 'exists', 'extract', 'float', 'greatest', 'grouping', 'inout', 'int', 'integer', 'interval', 'least', 'national', 'nchar', 'none', 'normalize', 'nullif', 'numeric', 'out', 'overlay', 'position', 'precision', 'real', 'row', 'setof', 'smallint', 'substring', 'time', 'timestamp', 'treat', 'trim', 'values', 'varchar')
       THEN s ELSE '"' || replace(s, '"', '""') || '"' END;

-- hop_scalar_oid maps a non-list DuckDB type name to its PostgreSQL OID.
CREATE MACRO hopsql_catalog.main.hop_scalar_oid(dt) AS coalesce(
  (SELECT hop_oid FROM hopsql_catalog.main.hop_l_duck_type WHERE hop_name = dt),
  CASE WHEN dt LIKE 'DECIMAL(%' THEN 1700
       WHEN dt LIKE 'ENUM(%' OR dt IN (SELECT hop_name FROM hopsql_catalog.main.hop_l_enum) THEN 25
       ELSE 114 END);

-- hop_type_oid maps duckdb_columns().data_type to a PostgreSQL type OID, the
-- way pgtypes.FromDuckDB maps a result column: lists of scalars become the
-- scalar's array type, anything nested becomes json.
CREATE MACRO hopsql_catalog.main.hop_type_oid(dt) AS
  CASE WHEN regexp_matches(dt, '\[\d*\]$') THEN coalesce(
         (SELECT hop_typarray FROM hopsql_catalog.main.hop_l_type
           WHERE hop_oid = hopsql_catalog.main.hop_scalar_oid(regexp_replace(dt, '\[\d*\]$', ''))
             AND hop_oid <> 114 AND hop_typcategory <> 'A' AND hop_typarray <> 0), 114)
       ELSE hopsql_catalog.main.hop_scalar_oid(dt) END;

-- hop_type_mod is atttypmod: numeric's ((precision << 16) | scale) + 4, else -1.
-- DECIMAL(38,10) is unconstrained numeric (pgtypes.UnconstrainedNumericWidth):
-- -1, as pgtypes.FromDuckDB reports it.
CREATE MACRO hopsql_catalog.main.hop_type_mod(dt) AS
  CASE WHEN regexp_matches(dt, '^DECIMAL\(38,10\)(\[\d*\])*$') THEN -1
       WHEN dt LIKE 'DECIMAL(%' THEN
    ((CAST(regexp_extract(dt, 'DECIMAL\((\d+),(\d+)\)', 1) AS INTEGER) << 16)
      | CAST(regexp_extract(dt, 'DECIMAL\((\d+),(\d+)\)', 2) AS INTEGER)) + 4
  ELSE -1 END;

-- hop_format_base is format_type for a non-array type.
CREATE MACRO hopsql_catalog.main.hop_format_base(t, m) AS
  CASE
    WHEN t IS NULL THEN NULL
    WHEN t = 1700 AND m >= 4 THEN 'numeric(' || ((m - 4) >> 16) || ',' || ((m - 4) & 65535) || ')'
    WHEN t = 1043 AND m >= 4 THEN 'character varying(' || (m - 4) || ')'
    WHEN t = 1042 THEN 'character(' || CASE WHEN m >= 4 THEN m - 4 ELSE 1 END || ')'
    WHEN t IN (1114, 1184, 1083, 1266) AND m >= 0 THEN
      replace((SELECT hop_sqlname FROM hopsql_catalog.main.hop_l_type WHERE hop_oid = t), ' with', '(' || m || ') with')
    WHEN t IN (1560) AND m >= 0 THEN 'bit(' || m || ')'
    ELSE coalesce((SELECT hop_sqlname FROM hopsql_catalog.main.hop_l_type WHERE hop_oid = t), '???')
  END;

-- Used by views as well as by client queries.
CREATE MACRO hopsql_catalog.main.pg_get_userbyid(o) AS
  coalesce((SELECT hop_rolname FROM hopsql_catalog.main.hop_l_role WHERE hop_oid = o), 'unknown (OID=' || o || ')');

CREATE MACRO hopsql_catalog.main.pg_encoding_to_char(e) AS
  CASE e WHEN 6 THEN 'UTF8' WHEN 0 THEN 'SQL_ASCII' ELSE '' END;

CREATE MACRO hopsql_catalog.main.format_type(t, m) AS
  CASE WHEN t IS NULL THEN NULL ELSE coalesce(
    hopsql_catalog.main.hop_format_base(
      (SELECT hop_typelem FROM hopsql_catalog.main.hop_l_type WHERE hop_oid = t AND starts_with(hop_typname, '_')),
      coalesce(m, -1)) || '[]',
    hopsql_catalog.main.hop_format_base(t, coalesce(m, -1))) END;

