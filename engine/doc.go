// Package engine owns what a session means: its DuckDB connection, its
// settings, its transaction state, its prepared statements and portals. It
// parses every statement with pg_query_go (PostgreSQL's own grammar),
// classifies it (utility statements such as SET, SHOW, BEGIN and COPY are
// handled here; everything else goes to DuckDB), asks engine/pgcatalog to
// rewrite it so DuckDB answers the way PostgreSQL would, prepares it on the
// session's DuckDB connection and runs it. Results come row by row or, when
// every column is of a flat type, as Arrow batches (columnar.go, with
// engine/columnar; duckarrow_*.go: the duckdb_arrow build tag). It knows
// SQL, not bytes on the wire: package wire turns its results into protocol
// messages. counters.go counts which of these paths statements took
// (hopsql.server_counters).
//
// It also owns the session side of table storage (storage.go, smallwrite.go,
// keyindex.go, fastinsert.go: the single-row INSERT path, insertbuffer.go:
// single-row INSERTs inside transactions), SQL PREPARE/EXECUTE (sqlprepare.go)
// and hopsql's SQL extensions: feature groups, their
// expectations and statistics, feature views, training datasets and their
// fitted transformation functions, the online store (featuregroup.go,
// expectation.go, statistics.go, featureview.go, trainingdataset.go,
// transform.go, online.go; onlinerows.go: rows by key, held without Go
// pointers so that the collector has nothing to trace in them), point
// lookups of plain tables by primary key from memory (pointlookup.go;
// literals.go keeps simple-query lookups prepared with their constants as
// parameters), sum() of int2/int4 as bigint (aggtypes.go),
// column types DuckDB does not keep and their length limits (declared.go),
// time travel (timetravel.go), and experiments
// (experiment_sql.go: the grammar; experiments.go: checks, data export as
// .npy, trials as jobs, resume, system tables; engine/experiment: searchers,
// early stopping and the asynchronous driver).
//
// A database is a hopsql project; each has its own DuckDB database file under
// <data>/databases/<name>.duckdb, opened once per process and shared by the
// sessions connected to it, each with its own DuckDB connection.
package engine
