package tests

import (
	"context"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
)

// TestParameterTypes: parameters whose type the client leaves open take
// the type PostgreSQL 15 gives them — a cast's ($1::int[]), the other
// operand's in arithmetic (qty + $1), also after a parameter DuckDB could
// not type — and array parameters with NULL elements bind, in text and
// binary, in SELECT, INSERT and UPDATE. pgx describes each statement and
// encodes its arguments by the types hopsql reports, so a wrong type
// shows as an error or a different value; results, names and type OIDs are
// compared with PostgreSQL's. Results typed by a visible cast
// ('x'::varchar(3)) or by integer generate_series are compared too.
func TestParameterTypes(t *testing.T) {
	srv := startServer(t)
	ctx := context.Background()
	hop := srv.connect(t)
	ref := connectURL(t, referenceURL(t))
	bothSetUp(t, []*pgx.Conn{hop, ref}, "DROP TABLE IF EXISTS ptyp",
		"CREATE TABLE ptyp (id int, qty int, price float8, tags text[], nums int[])",
		"INSERT INTO ptyp VALUES (1, 10, 2.5, '{a,b}', '{1,2}'), (2, 20, 4, NULL, NULL)")
	a, b := "a,b", `c"d`
	cases := []struct {
		sql  string
		args []any
	}{
		{"SELECT $1::int + $2 AS s, $3::float8 * $4 AS p, $5::text || $6 AS c", []any{1, 2, 1.5, 2, "a", "b"}},
		{"SELECT $1::int[] AS a, $2::text[] AS t, $3::int + $4 AS s", []any{[]*int32{ptr(int32(4)), nil, ptr(int32(6))}, []*string{&a, nil, &b}, 1, 2}},
		{"SELECT id, qty + $1 AS q, price * $2 AS p FROM ptyp ORDER BY id", []any{5, 2}},
		{"SELECT id FROM ptyp WHERE qty > $1 - 1 ORDER BY id", []any{11}},
		{"SELECT $1::text[] AS t", []any{[]*string{nil}}},
		{"SELECT ($1::numeric(4,1) + $2)::float8 AS s, (1.5 * $3)::float8 AS p, $4::numeric::float8 AS n", []any{1, 1.25, 100, 7}},
		{"SELECT sum(id) AS s, avg(qty)::float8 AS a, $2::text[] AS t FROM ptyp WHERE id = any($1::int[])", []any{[]int32{1, 2}, []*string{&a, nil}}},
		{"SELECT $1::bytea[] AS b", []any{[][]byte{{1, 2, 255}, nil}}},
		{"SELECT $1::text[] AS t", []any{[]string{}}},
		{"SELECT 'x'::varchar(3) AS v, 'ab'::char(4) AS c, 'q'::varchar AS w, generate_series(1, 2) AS g", nil},
		{"SELECT x FROM generate_series(1, 7, 3) AS x", nil},
	}
	for _, c := range cases {
		for _, mode := range []pgx.QueryExecMode{pgx.QueryExecModeCacheStatement, pgx.QueryExecModeDescribeExec} {
			got, want := describedArgs(ctx, hop, mode, c.sql, c.args...), describedArgs(ctx, ref, mode, c.sql, c.args...)
			if got != want {
				t.Errorf("%s %v (%v):\n hopsql     %s\n PostgreSQL %s", c.sql, c.args, mode, got, want)
			}
		}
	}
	writes := []struct {
		sql  string
		args []any
	}{
		{"INSERT INTO ptyp (id, tags, nums) VALUES ($1, $2, $3)", []any{3, []*string{&a, nil}, []*int32{nil, ptr(int32(7))}}},
		{"UPDATE ptyp SET tags = $1, qty = qty + $2 WHERE id = $3", []any{[]*string{nil, &b}, 1, 1}},
		{"UPDATE ptyp SET qty = qty * $1 WHERE id = 2", []any{3}},
	}
	for _, w := range writes {
		for _, c := range []*pgx.Conn{hop, ref} {
			if _, err := c.Exec(ctx, w.sql, w.args...); err != nil {
				t.Fatalf("%s: %v", w.sql, err)
			}
		}
	}
	sameInBothModes(t, hop, ref, "SELECT id, qty, tags, nums FROM ptyp ORDER BY id")

	// A parameter type the client declared is kept: PostgreSQL refuses
	// integer + text at prepare, and so does hopsql.
	for _, c := range []*pgx.Conn{hop, ref} {
		_, err := c.PgConn().Prepare(ctx, "declared_text", "SELECT 1 + $1", []uint32{25})
		if sqlstate(err) != "42883" {
			t.Errorf("SELECT 1 + $1 with $1 declared text: %v, want 42883", err)
		}
	}

	// A statement only DuckDB parses (QUALIFY) cannot have its array
	// parameter rewritten; it is refused, and the server goes on (binding
	// it would panic inside duckdb-go, and its interrupt watcher could
	// crash the server afterwards).
	q := "SELECT list_contains($1, 'a') AS x FROM range(1) t(x) QUALIFY row_number() OVER () = 1"
	for i := 0; i < 3; i++ {
		if _, err := hop.Exec(ctx, q, []*string{&a, nil}); sqlstate(err) != "0A000" {
			t.Fatalf("array parameter in a DuckDB-only statement: %v, want 0A000", err)
		}
	}
	other := srv.connect(t)
	var one int
	if err := other.QueryRow(ctx, "SELECT 1").Scan(&one); err != nil || one != 1 {
		t.Fatalf("the server after refused array parameters: %v", err)
	}
}

func ptr[T any](v T) *T { return &v }

// describedArgs is described with arguments: column names and type OIDs,
// then the outcome.
func describedArgs(ctx context.Context, c *pgx.Conn, mode pgx.QueryExecMode, q string, args ...any) string {
	out := outcomeArgs(ctx, c, mode, q, args...)
	if len(out) >= 5 && out[:5] == "ERROR" {
		return out
	}
	rows, err := c.Query(ctx, q, append([]any{mode}, args...)...)
	if err != nil {
		return "ERROR " + sqlstate(err)
	}
	fields := fieldTypes(rows.FieldDescriptions())
	rows.Close()
	return strings.Join(fields, ",") + " " + out
}
