package tests

import (
	"context"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
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

// TestAverageTypes: avg, stddev and variance of integers and numerics are
// numeric, as in PostgreSQL (DuckDB's are double precision); of floats,
// double precision. hopsql computes them in double precision and keeps 15
// significant digits (engine/aggtypes.go), so values are compared with
// PostgreSQL's to 1e-9, types exactly.
func TestAverageTypes(t *testing.T) {
	srv := startServer(t)
	ctx := context.Background()
	hop := srv.connect(t)
	ref := connectURL(t, referenceURL(t))
	bothSetUp(t, []*pgx.Conn{hop, ref}, "DROP TABLE IF EXISTS avgt",
		"CREATE TABLE avgt (g int, i int, b bigint, s smallint, n numeric(10,2), f float8)",
		"INSERT INTO avgt VALUES (1, 1, 10, 2, 1.5, 0.5), (1, 2, 20, 3, 2.25, 1.5), (2, 5, 7, 1, 0.5, 2), (2, 0, 0, 0, 0, 0)")
	for _, q := range []string{
		"SELECT avg(i), avg(b), avg(s), avg(n), avg(f), stddev(i), variance(s), stddev_pop(n), var_samp(f), var_pop(i), stddev_samp(s), stddev(b) FROM avgt",
		"SELECT g, avg(i) AS m, pg_catalog.avg(b) FROM avgt GROUP BY g ORDER BY g",
		"SELECT g, avg(i) OVER (PARTITION BY g) FROM avgt ORDER BY g, i",
		"SELECT avg(i) FROM avgt WHERE false",
		"SELECT avg(i - 1) FROM avgt WHERE g = 2",
	} {
		got, want := averages(ctx, t, hop, q), averages(ctx, t, ref, q)
		if len(got) != len(want) {
			t.Errorf("%s:\n hopsql     %v\n PostgreSQL %v", q, got, want)
			continue
		}
		for i := range got {
			g, w := got[i], want[i]
			if g.desc != w.desc || (g.null != w.null) || math.Abs(g.v-w.v) > 1e-9*math.Max(1, math.Abs(w.v)) {
				t.Errorf("%s: value %d:\n hopsql     %+v\n PostgreSQL %+v", q, i, g, w)
			}
		}
	}
}

type averageValue struct {
	desc string // column name and type OID
	v    float64
	null bool
}

// averages reads every value of q's result as a float, with its column's
// name and type.
func averages(ctx context.Context, t *testing.T, c *pgx.Conn, q string) []averageValue {
	t.Helper()
	rows, err := c.Query(ctx, q)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	defer rows.Close()
	var out []averageValue
	fds := rows.FieldDescriptions()
	for rows.Next() {
		vals, err := rows.Values()
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		for i, v := range vals {
			av := averageValue{desc: fmt.Sprintf("%s:%d", fds[i].Name, fds[i].DataTypeOID)}
			switch x := v.(type) {
			case nil:
				av.null = true
			case pgtype.Numeric:
				f, err := x.Float64Value()
				if err != nil {
					t.Fatalf("%s: %v", q, err)
				}
				av.v = f.Float64
			case float64:
				av.v = x
			case int32:
				av.v = float64(x)
			case int64:
				av.v = float64(x)
			default:
				t.Fatalf("%s: unexpected %T", q, v)
			}
			out = append(out, av)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return out
}
