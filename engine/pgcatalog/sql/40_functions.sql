-- PostgreSQL functions that DuckDB lacks or answers differently. Rewrite
-- sends calls of these names (qualified with pg_catalog or not) here; see
-- ourFunctions in functions.go, which must list every macro defined below.

-- Lookup views for the macros below (see the note in 20_macros.sql).
CREATE VIEW hopsql_catalog.main.hop_l_class AS
  SELECT c.oid AS hop_oid, c.relname AS hop_relname, n.nspname AS hop_nspname
    FROM hopsql_catalog.main.pg_class c JOIN hopsql_catalog.main.pg_namespace n ON n.oid = c.relnamespace;
CREATE VIEW hopsql_catalog.main.hop_l_index AS
  SELECT indexrelid AS hop_oid, indexdef AS hop_indexdef, colnames AS hop_colnames, indkey AS hop_indkey
    FROM hopsql_catalog.main.hop_indexes;
CREATE VIEW hopsql_catalog.main.hop_l_constraint AS
  SELECT oid AS hop_oid, condef AS hop_condef FROM hopsql_catalog.main.hop_constraints;
CREATE VIEW hopsql_catalog.main.hop_l_view AS
  SELECT oid AS hop_oid, viewdef AS hop_viewdef FROM hopsql_catalog.main.hop_rels WHERE relkind = 'v';
CREATE VIEW hopsql_catalog.main.hop_l_description AS
  SELECT objoid AS hop_objoid, classoid AS hop_classoid, objsubid AS hop_objsubid, description AS hop_description
    FROM hopsql_catalog.main.pg_description;
CREATE VIEW hopsql_catalog.main.hop_l_catalog_rel AS
  SELECT oid AS hop_oid, relname AS hop_relname FROM hopsql_catalog.main.hop_catalog_rels;
CREATE VIEW hopsql_catalog.main.hop_l_proc AS
  SELECT oid AS hop_oid, prorettype AS hop_prorettype, proargnames AS hop_proargnames FROM hopsql_catalog.main.pg_proc;
CREATE VIEW hopsql_catalog.main.hop_l_schema AS
  SELECT oid AS hop_oid, nspname AS hop_nspname FROM hopsql_catalog.main.hop_schemas;

-- Defaults, CHECK expressions and view bodies are stored as text already.
CREATE MACRO hopsql_catalog.main.pg_get_expr(e, r) AS e, (e, r, pretty) AS e;

CREATE MACRO hopsql_catalog.main.pg_table_is_visible(o, path) AS
  list_contains(path, (SELECT hop_nspname FROM hopsql_catalog.main.hop_l_class WHERE hop_oid = o));
CREATE MACRO hopsql_catalog.main.pg_type_is_visible(o) AS true;
CREATE MACRO hopsql_catalog.main.pg_function_is_visible(o) AS true;

CREATE MACRO hopsql_catalog.main.pg_get_indexdef(o) AS
    (SELECT hop_indexdef FROM hopsql_catalog.main.hop_l_index WHERE hop_oid = o),
  (o, col, pretty) AS
    (SELECT CASE WHEN col = 0 THEN hop_indexdef
                 WHEN hop_indkey[col] > 0 THEN hopsql_catalog.main.quote_ident(hop_colnames[col]) ELSE hop_colnames[col] END
       FROM hopsql_catalog.main.hop_l_index WHERE hop_oid = o);

CREATE MACRO hopsql_catalog.main.pg_get_constraintdef(o) AS
    (SELECT hop_condef FROM hopsql_catalog.main.hop_l_constraint WHERE hop_oid = o),
  (o, pretty) AS
    (SELECT hop_condef FROM hopsql_catalog.main.hop_l_constraint WHERE hop_oid = o);

CREATE MACRO hopsql_catalog.main.pg_get_viewdef(o) AS
    (SELECT hop_viewdef FROM hopsql_catalog.main.hop_l_view WHERE hop_oid = o),
  (o, pretty) AS
    (SELECT hop_viewdef FROM hopsql_catalog.main.hop_l_view WHERE hop_oid = o);

CREATE MACRO hopsql_catalog.main.obj_description(o) AS
    (SELECT hop_description FROM hopsql_catalog.main.hop_l_description WHERE hop_objoid = o AND hop_objsubid = 0 LIMIT 1),
  (o, cat) AS
    (SELECT hop_description FROM hopsql_catalog.main.hop_l_description
      WHERE hop_objoid = o AND hop_objsubid = 0
        AND hop_classoid = (SELECT hop_oid FROM hopsql_catalog.main.hop_l_catalog_rel WHERE hop_relname = cat));
CREATE MACRO hopsql_catalog.main.col_description(o, n) AS
  (SELECT hop_description FROM hopsql_catalog.main.hop_l_description WHERE hop_objoid = o AND hop_objsubid = n AND hop_classoid = 1259);
CREATE MACRO hopsql_catalog.main.shobj_description(o, cat) AS CAST(NULL AS VARCHAR);

CREATE MACRO hopsql_catalog.main.pg_get_function_result(o) AS
  (SELECT hopsql_catalog.main.format_type(hop_prorettype, NULL) FROM hopsql_catalog.main.hop_l_proc WHERE hop_oid = o);
CREATE MACRO hopsql_catalog.main.pg_get_function_arguments(o) AS
  (SELECT array_to_string(hop_proargnames, ', ') FROM hopsql_catalog.main.hop_l_proc WHERE hop_oid = o);
CREATE MACRO hopsql_catalog.main.pg_get_function_identity_arguments(o) AS
  (SELECT array_to_string(hop_proargnames, ', ') FROM hopsql_catalog.main.hop_l_proc WHERE hop_oid = o);

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
  list_transform(generate_series(1, len(a)), hop_i -> {'x': a[hop_i], 'n': CAST(hop_i AS INTEGER)});

-- reg* types. Constants are resolved by these lookups; oids print as names.
CREATE MACRO hopsql_catalog.main.regclass_in(nsp, rel, path) AS coalesce(
  (SELECT hop_oid FROM hopsql_catalog.main.hop_l_class
    WHERE hop_relname = rel AND (hop_nspname = nsp OR (nsp IS NULL AND list_contains(path, hop_nspname)))
    ORDER BY list_position(path, hop_nspname) LIMIT 1),
  error('relation "' || CASE WHEN nsp IS NULL THEN rel ELSE nsp || '.' || rel END || '" does not exist'));
CREATE MACRO hopsql_catalog.main.regclass_out(o, path) AS
  CASE WHEN o IS NULL THEN NULL ELSE coalesce(
    (SELECT CASE WHEN list_contains(path, hop_nspname) THEN hopsql_catalog.main.quote_ident(hop_relname)
                 ELSE hopsql_catalog.main.quote_ident(hop_nspname) || '.' || hopsql_catalog.main.quote_ident(hop_relname) END
       FROM hopsql_catalog.main.hop_l_class WHERE hop_oid = o),
    CAST(o AS VARCHAR)) END;
CREATE MACRO hopsql_catalog.main.regnamespace_in(nsp) AS coalesce(
  (SELECT hop_oid FROM hopsql_catalog.main.hop_l_schema WHERE hop_nspname = nsp),
  error('schema "' || nsp || '" does not exist'));
CREATE MACRO hopsql_catalog.main.regnamespace_out(o) AS
  CASE WHEN o IS NULL THEN NULL ELSE coalesce((SELECT hopsql_catalog.main.quote_ident(hop_nspname) FROM hopsql_catalog.main.hop_l_schema WHERE hop_oid = o), CAST(o AS VARCHAR)) END;
CREATE MACRO hopsql_catalog.main.regtype_out(o) AS
  CASE WHEN o IS NULL THEN NULL ELSE hopsql_catalog.main.format_type(o, NULL) END;
CREATE MACRO hopsql_catalog.main.regrole_out(o) AS
  CASE WHEN o IS NULL THEN NULL ELSE coalesce((SELECT hop_rolname FROM hopsql_catalog.main.hop_l_role WHERE hop_oid = o), CAST(o AS VARCHAR)) END;

-- PostgreSQL raises division_by_zero where DuckDB returns NULL.
CREATE MACRO hopsql_catalog.main.pg_div(a, b) AS CASE WHEN b = 0 THEN error('division by zero') ELSE a / b END;
CREATE MACRO hopsql_catalog.main.pg_mod(a, b) AS CASE WHEN b = 0 THEN error('division by zero') ELSE a % b END;
