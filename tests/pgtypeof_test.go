package tests

import (
	"context"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
)

// TestPgTypeof: pg_typeof names PostgreSQL types (DuckDB's own names
// DuckDB's: hugeint, double, varchar), prints as a name where a regtype
// prints, and compares as a regtype oid.
func TestPgTypeof(t *testing.T) {
	srv := startServer(t)
	hop := srv.connect(t)
	ref := connectURL(t, referenceURL(t))
	bothSetUp(t, []*pgx.Conn{hop, ref}, "DROP TABLE IF EXISTS ptt",
		"CREATE TABLE ptt (i int, b bigint, n numeric(10,2), f float8, s text, ts timestamp, a int[])",
		"INSERT INTO ptt VALUES (1, 2, 1.5, 0.5, 'x', '2024-01-01', ARRAY[1])")
	sameInBothModes(t, hop, ref,
		"SELECT pg_typeof(1), pg_typeof(1.5), pg_typeof('a'::text), pg_typeof(now()), pg_typeof(true), pg_typeof(2::bigint)",
		"SELECT pg_typeof(ARRAY[1,2]), pg_typeof(1.5::float8), pg_typeof(current_date), pg_typeof(1)::text AS t",
		"SELECT pg_typeof(1) = 'integer'::regtype AS eq, pg_typeof(1::int2) = 'int4'::regtype AS ne, pg_catalog.pg_typeof(2.5::real) AS r",
		"SELECT pg_typeof(i), pg_typeof(b), pg_typeof(n), pg_typeof(f), pg_typeof(s), pg_typeof(ts), pg_typeof(a) FROM ptt",
		"SELECT count(*) FROM ptt WHERE pg_typeof(i) = 'integer'::regtype",
	)
}

// TestSumTypes: sum() of smallint and integer values is bigint, as in
// PostgreSQL (DuckDB sums them into a 128-bit integer); of bigint and
// numeric values, numeric. Values and types are compared with PostgreSQL.
func TestSumTypes(t *testing.T) {
	srv := startServer(t)
	ctx := context.Background()
	hop := srv.connect(t)
	ref := connectURL(t, referenceURL(t))
	bothSetUp(t, []*pgx.Conn{hop, ref}, "DROP TABLE IF EXISTS sm",
		"CREATE TABLE sm (g int, i int, b bigint, s smallint, n numeric(10,2))",
		"INSERT INTO sm VALUES (1, 1, 10, 2, 1.5), (1, 2, 20, 3, 2.25), (2, 5, 7, 1, 0.5)")
	for _, q := range []string{
		"SELECT sum(i), sum(b), sum(s), sum(n) FROM sm",
		"SELECT g, sum(i) AS total, sum(DISTINCT s) FROM sm GROUP BY g ORDER BY g",
		"SELECT g, i, sum(i) OVER (PARTITION BY g) FROM sm ORDER BY g, i",
		"SELECT g, pg_catalog.sum(i) FROM sm GROUP BY g HAVING sum(i) > 2 ORDER BY 1",
		"SELECT sum(i) FROM sm WHERE false",
		"SELECT sum(i) FROM sm WHERE i = $1",
	} {
		for _, mode := range []pgx.QueryExecMode{pgx.QueryExecModeSimpleProtocol, pgx.QueryExecModeCacheStatement} {
			var args []any
			if mode == pgx.QueryExecModeCacheStatement && strings.Contains(q, "$1") {
				args = []any{5}
			} else if strings.Contains(q, "$1") {
				continue
			}
			got, want := outcomeArgs(ctx, hop, mode, q, args...), outcomeArgs(ctx, ref, mode, q, args...)
			if got != want {
				t.Errorf("%s (%v):\n hopsql     %s\n PostgreSQL %s", q, mode, got, want)
			}
		}
	}
}
