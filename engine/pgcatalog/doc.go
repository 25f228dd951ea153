// Package pgcatalog makes DuckDB answer PostgreSQL catalog queries the way
// PostgreSQL 15 does, so that psql's backslash commands, PgJDBC's
// DatabaseMetaData and TypeInfoCache, psycopg2 and BI tools work unchanged.
//
// It owns two things:
//
//   - The catalog itself (Install, Refresh): an in-memory DuckDB database
//     attached as hopsql_catalog, holding in its main schema every
//     pg_catalog relation clients read (with exactly PostgreSQL 15's columns,
//     see sql/pg15_columns.txt), plus macros implementing PostgreSQL's catalog
//     functions. Relations with content are views over duckdb_tables(),
//     duckdb_columns(), duckdb_constraints(), duckdb_indexes(), … so they are
//     evaluated per query in the caller's connection and always current;
//     pg_type comes from pgtypes.Builtin; databases and roles come from Info.
//     Relations for features hopsql lacks (publications, policies, triggers,
//     inheritance, extended statistics, …) are empty tables of the right shape,
//     so queries bind and return no rows. DuckDB's own pg_catalog, which
//     reports DuckDB type ids, is never reached by rewritten queries.
//
//   - The rewrite (Rewrite): an AST-to-AST translation of one statement parsed
//     by pg_query, run before the engine deparses it for DuckDB. SQL text is
//     never edited. It maps pg_catalog (and unqualified catalog) relations and
//     functions to hopsql_catalog, folds session functions (current_setting,
//     set_config, version, current_user, current_schemas, …) to constants from
//     Env, translates reg* casts (and pg_typeof, a regtype), PostgreSQL's
//     array literals ('{1,2}'::int[], arrays.go), PostgreSQL-only types, the regex operators
//     (PostgreSQL's ~ is a partial match, DuckDB's a full one) and COLLATE
//     "C"/default, makes / and % raise division_by_zero, and maps schema
//     public to main. builtins.go rewrites PostgreSQL built-in functions and
//     operators DuckDB lacks or gives other semantics (to_char, format,
//     JSON functions and operators, LIKE's backslash escape, …) into DuckDB
//     expressions, macros of sql/45_builtins.sql, or Go functions of
//     udf/pgfunc; datetime.go reads date, time and boolean literals that
//     PostgreSQL accepts and DuckDB does not. Statements needing none of this come back unchanged
//     (changed=false) with no allocation; the walk is generated code
//     (walk_gen.go, from internal/genwalk) that reaches every node kind.
//     Retype (retype.go) is its second chance: when DuckDB refuses to bind
//     an operator whose meaning depends on types the rewrite could not see
//     (a jsonb column's @>, int[] || 3, time - time), it rewrites the one
//     operator DuckDB's error names and points at.
//
// # Decisions
//
// Schema naming: DuckDB's default schema main is presented as public
// (pg_namespace oid 2200, as in PostgreSQL), and RangeVars naming public are
// rewritten to main. pg_catalog (11), information_schema (13207) and pg_toast
// (99) appear in pg_namespace with PostgreSQL's oids. "$user" in search_path
// is ignored. Which DuckDB database is listed is DuckDB's current_database()
// of the querying connection; the system, temp and hopsql_catalog databases
// are never listed.
//
// OIDs: catalog relations keep PostgreSQL's own oids (pg_class is 1259), so
// 'pg_class'::regclass and pg_description.classoid work. User tables, views,
// indexes and sequences get DuckDB's catalog oid + 16384 (DuckDB oids are
// unique per database instance, so these are consistent across pg_class,
// pg_attribute, pg_index, pg_constraint and pg_attrdef within a process, but
// not across restarts). The index behind a PRIMARY KEY or UNIQUE constraint,
// which DuckDB does not list, and the constraint itself get
// 1000000000 + table oid × 64 + constraint index. Databases and roles get
// 16384 + FNV-32a(name) mod 2^30, stable across restarts. Everything is
// owned by the first superuser in Info.Roles. oid columns are BIGINT.
//
// Types: pg_attribute.atttypid/atttypmod are derived from
// duckdb_columns().data_type exactly as pgtypes.FromDuckDB maps a result
// column (the DuckDB→OID table is computed from FromDuckDB at Install), so
// the catalog and the wire layer agree — except for declared types DuckDB
// does not keep (varchar(n) is VARCHAR): the engine passes them in
// (Info.Declared, SetDeclared after DDL) and pg_attribute reports them.
//
// reg* casts: a constant ('t'::regclass) is looked up and becomes an oid;
// a reg* value in a select list or cast to text prints as a name (as
// PostgreSQL's output function does); elsewhere it is the bare oid. regproc
// columns hold function names (typinput = 'array_in'::regproc works).
//
// Macro hygiene: DuckDB macros substitute arguments textually, so a subquery
// inside a macro could capture a caller's column (c.oid). Macros look things
// up only in the hop_l_* views, whose columns all start with hop_.
//
// Known differences from PostgreSQL: column defaults and CHECK expressions
// print in DuckDB's syntax ('x' rather than 'x'::character varying); public
// is owned by the first superuser rather than pg_database_owner; pg_proc
// lists DuckDB macros only (no built-in functions); pg_settings holds a few
// static rows; relation sizes are 0; an unqualified catalog name is rewritten even when a CTE of that name
// exists.
package pgcatalog
