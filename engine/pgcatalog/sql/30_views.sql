-- Catalog views. Each section is "-- view: NAME" followed by one SELECT.
-- hop_* sections are helper views created as written. Sections named after a
-- PostgreSQL catalog relation are wrapped by relations.go into a view with
-- exactly PostgreSQL 15's columns: the SELECT names the columns it provides
-- (explicitly, no *), the rest get PostgreSQL's value for "feature unused".
-- OIDs: user objects are DuckDB oid + 16384; indexes that back PRIMARY KEY
-- and UNIQUE constraints are 1000000000 + table oid * 64 + constraint index.

-- view: hop_schemas
SELECT CASE WHEN schema_name = 'main' THEN 2200 ELSE oid + 16384 END AS oid,
       CASE WHEN schema_name = 'main' THEN 'public' ELSE schema_name END AS nspname,
       schema_name AS duck_name, comment
  FROM duckdb_schemas()
 WHERE database_name = current_database() AND schema_name NOT IN ('pg_catalog', 'information_schema')
UNION ALL SELECT 11, 'pg_catalog', NULL, 'system catalog schema'
UNION ALL SELECT 13207, 'information_schema', NULL, NULL
UNION ALL SELECT 99, 'pg_toast', NULL, 'reserved schema for TOAST tables'

-- view: hop_rels
SELECT table_oid + 16384 AS oid, table_name AS relname, schema_name, 'r' AS relkind, column_count AS relnatts,
       (index_count > 0 OR has_primary_key) AS relhasindex, check_constraint_count AS relchecks,
       comment, NULL AS viewdef, table_oid AS duck_oid, 2 AS relam
  FROM duckdb_tables() WHERE database_name = current_database() AND NOT internal
UNION ALL
SELECT view_oid + 16384, view_name, schema_name, 'v', column_count, false, 0, comment,
       regexp_extract(sql, '(?is)^CREATE\s+(?:OR\s+REPLACE\s+)?(?:TEMP\w*\s+)?VIEW\s+.*?\s+AS\s+(.*?);?\s*$', 1),
       view_oid, 0
  FROM duckdb_views() WHERE database_name = current_database() AND NOT internal
UNION ALL
SELECT index_oid + 16384, index_name, schema_name, 'i', len(CAST(expressions AS VARCHAR[])), false, 0, comment, NULL, index_oid, 403
  FROM duckdb_indexes() WHERE database_name = current_database()
UNION ALL
SELECT 1000000000 + table_oid * 64 + constraint_index,
       CASE WHEN constraint_type = 'PRIMARY KEY' THEN table_name || '_pkey' ELSE constraint_name END,
       schema_name, 'i', len(constraint_column_indexes), false, 0, NULL, NULL, NULL, 403
  FROM duckdb_constraints()
 WHERE database_name = current_database() AND constraint_type IN ('PRIMARY KEY', 'UNIQUE')
UNION ALL
SELECT sequence_oid + 16384, sequence_name, schema_name, 'S', 3, false, 0, comment, NULL, sequence_oid, 0
  FROM duckdb_sequences() WHERE database_name = current_database()

-- view: hop_columns
SELECT r.oid AS attrelid, c.column_name AS attname, c.column_index AS attnum,
       -- A declared type DuckDB does not keep (varchar(n)) comes from the catalog.
       coalesce(d.type_oid, hopsql_catalog.main.hop_type_oid(c.data_type)) AS atttypid,
       coalesce(d.typmod, hopsql_catalog.main.hop_type_mod(c.data_type)) AS atttypmod,
       NOT c.is_nullable AS attnotnull,
       -- PostgreSQL prints a literal default with a cast to the column type ('x'::text).
       CASE WHEN c.column_default LIKE '''%''' AND length(c.column_default) >= 2
                 AND strpos(substr(c.column_default, 2, length(c.column_default) - 2), '''') = 0
                 AND t.sqlname IS NOT NULL
            THEN c.column_default || '::' || t.sqlname ELSE c.column_default END AS adsrc,
       c.comment, c.data_type
  FROM duckdb_columns() c
  JOIN hopsql_catalog.main.hop_rels r ON r.duck_oid = c.table_oid AND r.relkind IN ('r', 'v')
  LEFT JOIN hopsql_catalog.main.hop_declared d ON d.database_name = c.database_name AND d.schema_name = c.schema_name
        AND d.table_name = c.table_name AND d.column_name = c.column_name
  LEFT JOIN hopsql_catalog.main.hop_types t ON t.oid = coalesce(d.type_oid, hopsql_catalog.main.hop_type_oid(c.data_type))
 WHERE c.database_name = current_database() AND NOT c.internal

-- view: hop_index_cols
SELECT 1000000000 + k.table_oid * 64 + k.constraint_index AS indexrelid, k.table_oid + 16384 AS indrelid,
       k.table_name, k.schema_name,
       CASE WHEN k.constraint_type = 'PRIMARY KEY' THEN k.table_name || '_pkey' ELSE k.constraint_name END AS index_name,
       true AS indisunique, k.constraint_type = 'PRIMARY KEY' AS indisprimary,
       unnest(k.constraint_column_indexes) + 1 AS attnum,
       unnest(k.constraint_column_names) AS coldef,
       generate_subscripts(k.constraint_column_indexes, 1) AS pos,
       k.constraint_index AS conindex
  FROM duckdb_constraints() k
 WHERE k.database_name = current_database() AND k.constraint_type IN ('PRIMARY KEY', 'UNIQUE')
UNION ALL
SELECT e.indexrelid, e.indrelid, e.table_name, e.schema_name, e.index_name, e.indisunique, e.indisprimary,
       coalesce(c.column_index, 0), coalesce(c.column_name, e.expr), e.pos, NULL
  FROM (SELECT i.index_oid + 16384 AS indexrelid, i.table_oid + 16384 AS indrelid, i.table_oid, i.table_name,
               i.schema_name, i.index_name, i.is_unique AS indisunique, i.is_primary AS indisprimary,
               unnest(CAST(i.expressions AS VARCHAR[])) AS expr,
               generate_subscripts(CAST(i.expressions AS VARCHAR[]), 1) AS pos
          FROM duckdb_indexes() i WHERE i.database_name = current_database()) e
  LEFT JOIN duckdb_columns() c
    ON c.table_oid = e.table_oid
   AND (c.column_name = e.expr OR '"' || replace(c.column_name, '"', '""') || '"' = e.expr)

-- view: hop_indexes
SELECT indexrelid, indrelid, any_value(index_name) AS index_name, any_value(indisunique) AS indisunique,
       any_value(indisprimary) AS indisprimary,
       list(attnum ORDER BY pos) AS indkey,
       list(coldef ORDER BY pos) AS colnames,
       'CREATE ' || CASE WHEN any_value(indisunique) THEN 'UNIQUE ' ELSE '' END || 'INDEX '
         || hopsql_catalog.main.quote_ident(any_value(index_name)) || ' ON '
         || CASE WHEN any_value(schema_name) = 'main' THEN '' ELSE hopsql_catalog.main.quote_ident(any_value(schema_name)) || '.' END
         || hopsql_catalog.main.quote_ident(any_value(table_name)) || ' USING btree ('
         || string_agg(CASE WHEN attnum > 0 THEN hopsql_catalog.main.quote_ident(coldef) ELSE coldef END, ', ' ORDER BY pos)
         || ')' AS indexdef
  FROM hopsql_catalog.main.hop_index_cols
 GROUP BY indexrelid, indrelid

-- view: hop_constraints
SELECT CASE WHEN k.constraint_type IN ('PRIMARY KEY', 'UNIQUE') THEN 1000000000 + k.table_oid * 64 + k.constraint_index
            ELSE 1000000000 + k.table_oid * 64 + k.constraint_index END AS oid,
       CASE WHEN k.constraint_type = 'PRIMARY KEY' THEN k.table_name || '_pkey' ELSE k.constraint_name END AS conname,
       n.oid AS connamespace,
       CASE k.constraint_type WHEN 'PRIMARY KEY' THEN 'p' WHEN 'UNIQUE' THEN 'u' WHEN 'CHECK' THEN 'c' WHEN 'FOREIGN KEY' THEN 'f' END AS contype,
       k.table_oid + 16384 AS conrelid,
       CASE WHEN k.constraint_type IN ('PRIMARY KEY', 'UNIQUE') THEN 1000000000 + k.table_oid * 64 + k.constraint_index ELSE 0 END AS conindid,
       coalesce((SELECT r.oid FROM hopsql_catalog.main.hop_rels r
                  WHERE k.constraint_type = 'FOREIGN KEY' AND r.relkind = 'r'
                    AND r.relname = k.referenced_table AND r.schema_name = k.schema_name), 0) AS confrelid,
       CAST(list_transform(k.constraint_column_indexes, x -> x + 1) AS SMALLINT[]) AS conkey,
       k.expression AS conbin,
       CASE k.constraint_type
         WHEN 'PRIMARY KEY' THEN 'PRIMARY KEY (' || array_to_string(list_transform(k.constraint_column_names, x -> hopsql_catalog.main.quote_ident(x)), ', ') || ')'
         WHEN 'UNIQUE' THEN 'UNIQUE (' || array_to_string(list_transform(k.constraint_column_names, x -> hopsql_catalog.main.quote_ident(x)), ', ') || ')'
         WHEN 'CHECK' THEN 'CHECK (' || k.expression || ')'
         WHEN 'FOREIGN KEY' THEN 'FOREIGN KEY (' || array_to_string(list_transform(k.constraint_column_names, x -> hopsql_catalog.main.quote_ident(x)), ', ')
              || ') REFERENCES ' || hopsql_catalog.main.quote_ident(k.referenced_table) || '('
              || array_to_string(list_transform(k.referenced_column_names, x -> hopsql_catalog.main.quote_ident(x)), ', ') || ')'
       END AS condef
  FROM duckdb_constraints() k
  JOIN hopsql_catalog.main.hop_schemas n ON n.duck_name = k.schema_name
 WHERE k.database_name = current_database() AND k.constraint_type IN ('PRIMARY KEY', 'UNIQUE', 'CHECK', 'FOREIGN KEY')

-- view: pg_namespace
SELECT oid, nspname, hopsql_catalog.main.hop_owner() AS nspowner FROM hopsql_catalog.main.hop_schemas

-- view: pg_class
SELECT r.oid, r.relname, n.oid AS relnamespace, hopsql_catalog.main.hop_owner() AS relowner, r.relam,
       r.oid AS relfilenode, r.relhasindex, 'p' AS relpersistence, r.relkind, r.relnatts, r.relchecks,
       true AS relispopulated, CASE WHEN r.relkind = 'r' THEN 'd' ELSE 'n' END AS relreplident,
       CASE WHEN r.relkind = 'i' THEN 0 ELSE -1 END AS reltuples, CASE WHEN r.relkind = 'i' THEN 1 ELSE 0 END AS relpages
  FROM hopsql_catalog.main.hop_rels r JOIN hopsql_catalog.main.hop_schemas n ON n.duck_name = r.schema_name
UNION ALL
SELECT oid, relname, 11, hopsql_catalog.main.hop_owner(), CASE WHEN relkind = 'r' THEN 2 ELSE 0 END,
       oid, false, 'p', relkind, ncols, 0, true, 'n', -1, 0
  FROM hopsql_catalog.main.hop_catalog_rels

-- view: pg_attribute
SELECT a.attrelid, a.attname, a.atttypid, t.typlen AS attlen, a.attnum,
       CASE WHEN t.typcategory = 'A' THEN 1 ELSE 0 END AS attndims, -1 AS attcacheoff, a.atttypmod,
       t.typbyval AS attbyval, t.typalign AS attalign, t.typstorage AS attstorage, '' AS attcompression,
       a.attnotnull, a.adsrc IS NOT NULL AS atthasdef, '' AS attidentity, '' AS attgenerated,
       true AS attislocal, -1 AS attstattarget, t.typcollation AS attcollation
  FROM hopsql_catalog.main.hop_columns a LEFT JOIN hopsql_catalog.main.hop_types t ON t.oid = a.atttypid
UNION ALL
-- An index has one attribute per key column, numbered by key position (\d on an index reads them).
SELECT ic.indexrelid, a.attname, a.atttypid, t.typlen, ic.pos,
       CASE WHEN t.typcategory = 'A' THEN 1 ELSE 0 END, -1, a.atttypmod,
       t.typbyval, t.typalign, t.typstorage, '', false, false, '', '', true, -1, t.typcollation
  FROM hopsql_catalog.main.hop_index_cols ic
  JOIN hopsql_catalog.main.hop_columns a ON a.attrelid = ic.indrelid AND a.attnum = ic.attnum
  LEFT JOIN hopsql_catalog.main.hop_types t ON t.oid = a.atttypid

-- view: pg_attrdef
SELECT 16384 + hash(attrelid, attnum) % 1000000000 AS oid, attrelid AS adrelid, attnum AS adnum, adsrc AS adbin
  FROM hopsql_catalog.main.hop_columns WHERE adsrc IS NOT NULL

-- view: pg_type
SELECT oid, typname, 11 AS typnamespace, hopsql_catalog.main.hop_owner() AS typowner, typlen, typbyval, typtype,
       typcategory, typname IN ('text', 'float8', 'bool', 'oid', 'timestamptz', 'interval') AS typispreferred,
       true AS typisdefined, ',' AS typdelim, 0 AS typrelid, typsubscript, typelem, typarray,
       typinput, typoutput, typreceive, typsend, '-' AS typmodin, '-' AS typmodout, '-' AS typanalyze,
       typalign, typstorage, false AS typnotnull, 0 AS typbasetype, -1 AS typtypmod, 0 AS typndims, typcollation
  FROM hopsql_catalog.main.hop_types

-- view: pg_index
SELECT indexrelid, indrelid, len(indkey) AS indnatts, len(indkey) AS indnkeyatts, indisunique, indisprimary,
       true AS indimmediate, true AS indisvalid, true AS indisready, true AS indislive,
       indkey, list_transform(indkey, x -> 0) AS indoption
  FROM hopsql_catalog.main.hop_indexes

-- view: pg_constraint
SELECT oid, conname, connamespace, contype, true AS convalidated, conrelid, conindid, confrelid,
       CASE WHEN contype = 'f' THEN 'a' ELSE ' ' END AS confupdtype, CASE WHEN contype = 'f' THEN 'a' ELSE ' ' END AS confdeltype,
       CASE WHEN contype = 'f' THEN 's' ELSE ' ' END AS confmatchtype, true AS conislocal, conkey, conbin
  FROM hopsql_catalog.main.hop_constraints

-- view: pg_description
SELECT r.oid AS objoid, 1259 AS classoid, 0 AS objsubid, r.comment AS description
  FROM hopsql_catalog.main.hop_rels r WHERE r.comment IS NOT NULL
UNION ALL
SELECT attrelid, 1259, attnum, comment FROM hopsql_catalog.main.hop_columns WHERE comment IS NOT NULL
UNION ALL
SELECT oid, 2615, 0, comment FROM hopsql_catalog.main.hop_schemas WHERE comment IS NOT NULL

-- view: pg_database
SELECT oid, datname, hopsql_catalog.main.hop_owner() AS datdba, 6 AS encoding, 'c' AS datlocprovider,
       true AS datallowconn, -1 AS datconnlimit, 1663 AS dattablespace, 'C.UTF-8' AS datcollate, 'C.UTF-8' AS datctype
  FROM hopsql_catalog.main.hop_database

-- view: pg_authid
SELECT oid, rolname, rolsuper, true AS rolinherit, rolsuper AS rolcreaterole, rolsuper AS rolcreatedb,
       rolcanlogin, rolsuper AS rolreplication, rolsuper AS rolbypassrls, -1 AS rolconnlimit
  FROM hopsql_catalog.main.hop_role

-- view: pg_roles
SELECT oid, rolname, rolsuper, true AS rolinherit, rolsuper AS rolcreaterole, rolsuper AS rolcreatedb,
       rolcanlogin, rolsuper AS rolreplication, rolsuper AS rolbypassrls, -1 AS rolconnlimit, '********' AS rolpassword
  FROM hopsql_catalog.main.hop_role

-- view: pg_user
SELECT rolname AS usename, oid AS usesysid, rolsuper AS usecreatedb, rolsuper AS usesuper, rolsuper AS userepl,
       rolsuper AS usebypassrls, '********' AS passwd
  FROM hopsql_catalog.main.hop_role WHERE rolcanlogin

-- view: pg_am
SELECT oid, amname, amtype, amhandler
  FROM (VALUES (2, 'heap', 't', 'heap_tableam_handler'), (403, 'btree', 'i', 'bthandler'), (405, 'hash', 'i', 'hashhandler'))
       AS v(oid, amname, amtype, amhandler)

-- view: pg_tablespace
SELECT oid, spcname, hopsql_catalog.main.hop_owner() AS spcowner
  FROM (VALUES (1663, 'pg_default'), (1664, 'pg_global')) AS v(oid, spcname)

-- view: pg_collation
SELECT oid, collname, 11 AS collnamespace, hopsql_catalog.main.hop_owner() AS collowner, collprovider,
       true AS collisdeterministic, -1 AS collencoding, collcollate, collctype
  FROM (VALUES (100, 'default', 'd', NULL, NULL), (950, 'C', 'c', 'C', 'C'), (951, 'POSIX', 'c', 'POSIX', 'POSIX'))
       AS v(oid, collname, collprovider, collcollate, collctype)

-- view: pg_language
SELECT oid, lanname, hopsql_catalog.main.hop_owner() AS lanowner, lanispl, lanpltrusted
  FROM (VALUES (12, 'internal', false, false), (13, 'c', false, false), (14, 'sql', false, true))
       AS v(oid, lanname, lanispl, lanpltrusted)

-- view: pg_proc
SELECT 16384 + hash(f.function_oid) % 1000000000 AS oid, f.function_name AS proname, n.oid AS pronamespace,
       hopsql_catalog.main.hop_owner() AS proowner, 14 AS prolang, -1 AS procost, 0 AS prorows,
       CASE WHEN f.function_type = 'table_macro' THEN true ELSE false END AS proretset,
       CASE WHEN f.function_type = 'aggregate' THEN 'a' ELSE 'f' END AS prokind,
       'v' AS provolatile, 'u' AS proparallel, len(f.parameters) AS pronargs, 0 AS pronargdefaults,
       25 AS prorettype, f.parameters AS proargnames, f.macro_definition AS prosrc
  FROM duckdb_functions() f JOIN hopsql_catalog.main.hop_schemas n ON n.duck_name = f.schema_name
 WHERE f.database_name = current_database() AND NOT f.internal

-- view: pg_tables
SELECT n.nspname AS schemaname, r.relname AS tablename, hopsql_catalog.main.pg_get_userbyid(hopsql_catalog.main.hop_owner()) AS tableowner,
       r.relhasindex AS hasindexes
  FROM hopsql_catalog.main.hop_rels r JOIN hopsql_catalog.main.hop_schemas n ON n.duck_name = r.schema_name
 WHERE r.relkind = 'r'

-- view: pg_views
SELECT n.nspname AS schemaname, r.relname AS viewname, hopsql_catalog.main.pg_get_userbyid(hopsql_catalog.main.hop_owner()) AS viewowner,
       r.viewdef AS definition
  FROM hopsql_catalog.main.hop_rels r JOIN hopsql_catalog.main.hop_schemas n ON n.duck_name = r.schema_name
 WHERE r.relkind = 'v'

-- view: pg_indexes
SELECT CASE WHEN c.schema_name = 'main' THEN 'public' ELSE c.schema_name END AS schemaname, t.relname AS tablename,
       i.index_name AS indexname, i.indexdef
  FROM hopsql_catalog.main.hop_indexes i JOIN hopsql_catalog.main.hop_rels t ON t.oid = i.indrelid
  JOIN hopsql_catalog.main.hop_rels c ON c.oid = i.indrelid

-- view: pg_settings
SELECT name, CASE WHEN name = 'server_version' THEN (SELECT server_version FROM hopsql_catalog.main.hop_server) ELSE setting END AS setting, unit, category, short_desc, context, vartype, source
  FROM (VALUES ('server_version', NULL, NULL, 'Preset Options', 'Shows the server version.', 'internal', 'string', 'default'),
               ('server_encoding', 'UTF8', NULL, 'Preset Options', 'Shows the server (database) character set encoding.', 'internal', 'string', 'default'),
               ('client_encoding', 'UTF8', NULL, 'Client Connection Defaults / Locale and Formatting', 'Sets the client''s character set encoding.', 'user', 'string', 'default'),
               ('DateStyle', 'ISO, MDY', NULL, 'Client Connection Defaults / Locale and Formatting', 'Sets the display format for date and time values.', 'user', 'string', 'default'),
               ('TimeZone', 'UTC', NULL, 'Client Connection Defaults / Locale and Formatting', 'Sets the time zone for displaying and interpreting time stamps.', 'user', 'string', 'default'),
               ('standard_conforming_strings', 'on', NULL, 'Version and Platform Compatibility', 'Causes ''...'' strings to treat backslashes literally.', 'user', 'bool', 'default'),
               ('integer_datetimes', 'on', NULL, 'Preset Options', 'Shows whether datetimes are integer based.', 'internal', 'bool', 'default'),
               ('max_identifier_length', '63', NULL, 'Preset Options', 'Shows the maximum identifier length.', 'internal', 'integer', 'default'),
               ('search_path', '"$user", public', NULL, 'Client Connection Defaults / Statement Behavior', 'Sets the schema search order for names that are not schema-qualified.', 'user', 'string', 'default'))
       AS v(name, setting, unit, category, short_desc, context, vartype, source)

-- information_schema, with PostgreSQL type names (DuckDB's own views report
-- DuckDB's). Only the commonly read columns are present.

-- view: information_schema_schemata
SELECT current_database() AS catalog_name, nspname AS schema_name,
       hopsql_catalog.main.pg_get_userbyid(hopsql_catalog.main.hop_owner()) AS schema_owner,
       NULL AS default_character_set_catalog, NULL AS default_character_set_schema,
       NULL AS default_character_set_name, NULL AS sql_path
  FROM hopsql_catalog.main.hop_schemas WHERE nspname <> 'pg_toast'

-- view: information_schema_tables
SELECT current_database() AS table_catalog, n.nspname AS table_schema, r.relname AS table_name,
       CASE r.relkind WHEN 'r' THEN 'BASE TABLE' ELSE 'VIEW' END AS table_type,
       NULL AS self_referencing_column_name, NULL AS reference_generation, NULL AS user_defined_type_catalog,
       NULL AS user_defined_type_schema, NULL AS user_defined_type_name,
       CASE r.relkind WHEN 'r' THEN 'YES' ELSE 'NO' END AS is_insertable_into, 'NO' AS is_typed, NULL AS commit_action
  FROM hopsql_catalog.main.hop_rels r JOIN hopsql_catalog.main.hop_schemas n ON n.duck_name = r.schema_name
 WHERE r.relkind IN ('r', 'v')

-- view: information_schema_views
SELECT current_database() AS table_catalog, n.nspname AS table_schema, r.relname AS table_name,
       r.viewdef AS view_definition, 'NONE' AS check_option, 'NO' AS is_updatable, 'NO' AS is_insertable_into,
       'NO' AS is_trigger_updatable, 'NO' AS is_trigger_deletable, 'NO' AS is_trigger_insertable_into
  FROM hopsql_catalog.main.hop_rels r JOIN hopsql_catalog.main.hop_schemas n ON n.duck_name = r.schema_name
 WHERE r.relkind = 'v'

-- view: information_schema_columns
SELECT current_database() AS table_catalog, n.nspname AS table_schema, r.relname AS table_name,
       a.attname AS column_name, a.attnum AS ordinal_position, a.adsrc AS column_default,
       CASE WHEN a.attnotnull THEN 'NO' ELSE 'YES' END AS is_nullable,
       CASE WHEN t.typcategory = 'A' THEN 'ARRAY' ELSE hopsql_catalog.main.format_type(a.atttypid, NULL) END AS data_type,
       CAST(NULL AS INTEGER) AS character_maximum_length,
       CASE WHEN a.atttypid IN (25, 1043, 1042) THEN 1073741824 END AS character_octet_length,
       CASE a.atttypid WHEN 21 THEN 16 WHEN 23 THEN 32 WHEN 20 THEN 64 WHEN 700 THEN 24 WHEN 701 THEN 53
                       WHEN 1700 THEN CASE WHEN a.atttypmod >= 4 THEN (a.atttypmod - 4) >> 16 END END AS numeric_precision,
       CASE WHEN a.atttypid IN (21, 23, 20, 700, 701) THEN 2 WHEN a.atttypid = 1700 THEN 10 END AS numeric_precision_radix,
       CASE WHEN a.atttypid IN (21, 23, 20) THEN 0 WHEN a.atttypid = 1700 AND a.atttypmod >= 4 THEN (a.atttypmod - 4) & 65535 END AS numeric_scale,
       CASE WHEN a.atttypid IN (1082) THEN 0 WHEN a.atttypid IN (1083, 1114, 1184, 1266, 1186) THEN 6 END AS datetime_precision,
       current_database() AS udt_catalog, 'pg_catalog' AS udt_schema, t.typname AS udt_name,
       CAST(a.attnum AS VARCHAR) AS dtd_identifier, 'NO' AS is_self_referencing, 'NO' AS is_identity,
       'NEVER' AS is_generated, CASE r.relkind WHEN 'r' THEN 'YES' ELSE 'NO' END AS is_updatable
  FROM hopsql_catalog.main.hop_columns a
  JOIN hopsql_catalog.main.hop_rels r ON r.oid = a.attrelid
  JOIN hopsql_catalog.main.hop_schemas n ON n.duck_name = r.schema_name
  LEFT JOIN hopsql_catalog.main.hop_types t ON t.oid = a.atttypid
