-- PostgreSQL functions that DuckDB lacks or answers differently. Rewrite
-- sends calls of these names (qualified with pg_catalog or not) here; see
-- ourFunctions in functions.go, which must list every macro defined below.

-- Defaults, CHECK expressions and view bodies are stored as text already.
CREATE MACRO hopsql_catalog.main.pg_get_expr(e, r) AS e, (e, r, pretty) AS e;

CREATE MACRO hopsql_catalog.main.pg_table_is_visible(o, path) AS
  list_contains(path, (SELECT n.nspname FROM hopsql_catalog.main.pg_class c
                         JOIN hopsql_catalog.main.pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = o));
CREATE MACRO hopsql_catalog.main.pg_type_is_visible(o) AS true;
CREATE MACRO hopsql_catalog.main.pg_function_is_visible(o) AS true;

CREATE MACRO hopsql_catalog.main.pg_get_indexdef(o) AS
    (SELECT indexdef FROM hopsql_catalog.main.hop_indexes WHERE indexrelid = o),
  (o, col, pretty) AS
    (SELECT CASE WHEN col = 0 THEN indexdef ELSE CASE WHEN indkey[col] > 0 THEN hopsql_catalog.main.quote_ident(colnames[col]) ELSE colnames[col] END END
       FROM hopsql_catalog.main.hop_indexes WHERE indexrelid = o);

CREATE MACRO hopsql_catalog.main.pg_get_constraintdef(o) AS
    (SELECT condef FROM hopsql_catalog.main.hop_constraints WHERE oid = o),
  (o, pretty) AS
    (SELECT condef FROM hopsql_catalog.main.hop_constraints WHERE oid = o);

CREATE MACRO hopsql_catalog.main.pg_get_viewdef(o) AS
    (SELECT viewdef FROM hopsql_catalog.main.hop_rels WHERE oid = o AND relkind = 'v'),
  (o, pretty) AS
    (SELECT viewdef FROM hopsql_catalog.main.hop_rels WHERE oid = o AND relkind = 'v');

CREATE MACRO hopsql_catalog.main.obj_description(o) AS
    (SELECT description FROM hopsql_catalog.main.pg_description WHERE objoid = o AND objsubid = 0 LIMIT 1),
  (o, cat) AS
    (SELECT description FROM hopsql_catalog.main.pg_description
      WHERE objoid = o AND objsubid = 0
        AND classoid = (SELECT oid FROM hopsql_catalog.main.hop_catalog_rels WHERE relname = cat));
CREATE MACRO hopsql_catalog.main.col_description(o, n) AS
  (SELECT description FROM hopsql_catalog.main.pg_description WHERE objoid = o AND objsubid = n AND classoid = 1259);
CREATE MACRO hopsql_catalog.main.shobj_description(o, cat) AS CAST(NULL AS VARCHAR);

CREATE MACRO hopsql_catalog.main.pg_get_function_result(o) AS
  (SELECT hopsql_catalog.main.format_type(prorettype, NULL) FROM hopsql_catalog.main.pg_proc WHERE oid = o);
CREATE MACRO hopsql_catalog.main.pg_get_function_arguments(o) AS
  (SELECT array_to_string(proargnames, ', ') FROM hopsql_catalog.main.pg_proc WHERE oid = o);
CREATE MACRO hopsql_catalog.main.pg_get_function_identity_arguments(o) AS
  (SELECT array_to_string(proargnames, ', ') FROM hopsql_catalog.main.pg_proc WHERE oid = o);

-- Features hopsql does not have: publications, partitioning, extended statistics, triggers, rules.
CREATE MACRO hopsql_catalog.main.pg_relation_is_publishable(o) AS false;
CREATE MACRO hopsql_catalog.main.pg_get_statisticsobjdef_columns(o) AS CAST(NULL AS VARCHAR);
CREATE MACRO hopsql_catalog.main.pg_get_partkeydef(o) AS CAST(NULL AS VARCHAR);
CREATE MACRO hopsql_catalog.main.pg_get_triggerdef(o) AS CAST(NULL AS VARCHAR), (o, pretty) AS CAST(NULL AS VARCHAR);
CREATE MACRO hopsql_catalog.main.pg_get_ruledef(o) AS CAST(NULL AS VARCHAR), (o, pretty) AS CAST(NULL AS VARCHAR);
CREATE MACRO hopsql_catalog.main.pg_get_serial_sequence(t, c) AS CAST(NULL AS VARCHAR);
CREATE MACRO hopsql_catalog.main.pg_is_in_recovery() AS false;

-- Sizes are not tracked per relation (storage is Parquet snapshots).
CREATE MACRO hopsql_catalog.main.pg_relation_size(o) AS CAST(0 AS BIGINT), (o, fork) AS CAST(0 AS BIGINT);
CREATE MACRO hopsql_catalog.main.pg_total_relation_size(o) AS CAST(0 AS BIGINT);
CREATE MACRO hopsql_catalog.main.pg_table_size(o) AS CAST(0 AS BIGINT);
CREATE MACRO hopsql_catalog.main.pg_indexes_size(o) AS CAST(0 AS BIGINT);
CREATE MACRO hopsql_catalog.main.pg_database_size(o) AS CAST(0 AS BIGINT);

CREATE MACRO hopsql_catalog.main.pg_size_pretty(b) AS
  CASE WHEN b IS NULL THEN NULL
       WHEN abs(b) < 10240 THEN CAST(b AS BIGINT) || ' bytes'
       WHEN abs(b) < 10485760 THEN CAST(round(b / 1024.0) AS BIGINT) || ' kB'
       WHEN abs(b) < 10737418240 THEN CAST(round(b / 1048576.0) AS BIGINT) || ' MB'
       WHEN abs(b) < 10995116277760 THEN CAST(round(b / 1073741824.0) AS BIGINT) || ' GB'
       ELSE CAST(round(b / 1099511627776.0) AS BIGINT) || ' TB' END;

-- PostgreSQL arrays are 1-based like DuckDB lists; bounds of an empty array are NULL.
CREATE MACRO hopsql_catalog.main.array_upper(a, d) AS CASE WHEN len(a) = 0 OR d <> 1 THEN NULL ELSE len(a) END;
CREATE MACRO hopsql_catalog.main.array_lower(a, d) AS CASE WHEN len(a) = 0 OR d <> 1 THEN NULL ELSE 1 END;

-- information_schema._pg_expandarray(a) is a set-returning function of
-- (x, n) rows; the rewrite wraps this list in unnest().
CREATE MACRO hopsql_catalog.main.pg_expandarray(a) AS
  list_transform(generate_series(1, len(a)), i -> {'x': a[i], 'n': CAST(i AS INTEGER)});

-- reg* types. Constants are resolved by these lookups; oids print as names.
CREATE MACRO hopsql_catalog.main.regclass_in(nsp, rel, path) AS coalesce(
  (SELECT c.oid FROM hopsql_catalog.main.pg_class c JOIN hopsql_catalog.main.pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relname = rel AND (n.nspname = nsp OR (nsp IS NULL AND list_contains(path, n.nspname)))
    ORDER BY list_position(path, n.nspname) LIMIT 1),
  error('relation "' || CASE WHEN nsp IS NULL THEN rel ELSE nsp || '.' || rel END || '" does not exist'));
CREATE MACRO hopsql_catalog.main.regclass_out(o, path) AS
  CASE WHEN o IS NULL THEN NULL ELSE coalesce(
    (SELECT CASE WHEN list_contains(path, n.nspname) THEN hopsql_catalog.main.quote_ident(c.relname)
                 ELSE hopsql_catalog.main.quote_ident(n.nspname) || '.' || hopsql_catalog.main.quote_ident(c.relname) END
       FROM hopsql_catalog.main.pg_class c JOIN hopsql_catalog.main.pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = o),
    CAST(o AS VARCHAR)) END;
CREATE MACRO hopsql_catalog.main.regnamespace_in(nsp) AS coalesce(
  (SELECT oid FROM hopsql_catalog.main.hop_schemas WHERE nspname = nsp),
  error('schema "' || nsp || '" does not exist'));
CREATE MACRO hopsql_catalog.main.regnamespace_out(o) AS
  CASE WHEN o IS NULL THEN NULL ELSE coalesce((SELECT hopsql_catalog.main.quote_ident(nspname) FROM hopsql_catalog.main.hop_schemas WHERE oid = o), CAST(o AS VARCHAR)) END;
CREATE MACRO hopsql_catalog.main.regtype_out(o) AS
  CASE WHEN o IS NULL THEN NULL ELSE hopsql_catalog.main.format_type(o, NULL) END;
CREATE MACRO hopsql_catalog.main.regrole_out(o) AS
  CASE WHEN o IS NULL THEN NULL ELSE coalesce((SELECT rolname FROM hopsql_catalog.main.hop_role WHERE oid = o), CAST(o AS VARCHAR)) END;

-- PostgreSQL raises division_by_zero where DuckDB returns NULL.
CREATE MACRO hopsql_catalog.main.pg_div(a, b) AS CASE WHEN b = 0 THEN error('division by zero') ELSE a / b END;
CREATE MACRO hopsql_catalog.main.pg_mod(a, b) AS CASE WHEN b = 0 THEN error('division by zero') ELSE a % b END;
