package tests

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// wireResult is a statement's result as the wire carries it: each column's
// type OID, then every cell's bytes (text or binary as asked), NULL marked.
func wireResult(ctx context.Context, c *pgx.Conn, q string, params []string, simple bool, format int16) string {
	var results []*pgconn.Result
	if simple {
		var err error
		if results, err = c.PgConn().Exec(ctx, q).ReadAll(); err != nil {
			return "ERROR " + sqlstate(err)
		}
	} else {
		var values [][]byte
		for _, p := range params {
			values = append(values, []byte(p))
		}
		r := c.PgConn().ExecParams(ctx, q, values, nil, nil, []int16{format}).Read()
		if r.Err != nil {
			return "ERROR " + sqlstate(r.Err)
		}
		results = []*pgconn.Result{r}
	}
	var b strings.Builder
	for _, r := range results {
		for _, f := range r.FieldDescriptions {
			fmt.Fprintf(&b, "%s:%d ", f.Name, f.DataTypeOID)
		}
		for _, row := range r.Rows {
			b.WriteString("\n ")
			for _, v := range row {
				if v == nil {
					b.WriteString("NULL | ")
				} else {
					fmt.Fprintf(&b, "%q | ", v)
				}
			}
		}
	}
	return b.String()
}

// TestJSONText: json values reach clients as the text they were given
// (PostgreSQL's json keeps it), jsonb values as jsonb_out prints them —
// keys ordered and deduplicated, numbers as numeric, strings re-escaped —
// byte for byte as PostgreSQL 15 sends them, in text and in binary, with
// the json or jsonb type. A JSON null is a value, not SQL NULL, and large
// or exact numbers keep their digits.
func TestJSONText(t *testing.T) {
	srv := startServer(t)
	ctx := context.Background()
	hop := srv.connect(t)
	ref := connectURL(t, referenceURL(t))
	bothSetUp(t, []*pgx.Conn{hop, ref}, "DROP TABLE IF EXISTS jt", "DROP TABLE IF EXISTS jtk",
		"CREATE TABLE jt (id int, j json, jb jsonb)",
		`INSERT INTO jt VALUES
			(1, '{"z": 1,  "a" :null, "z": [1.0, 2e2]}', '{"z": 1,  "a" :null, "z": [1.0, 2e2]}'),
			(2, 'null', 'null'),
			(3, NULL, NULL),
			(4, '  [9007199254740993, -0.0, 1.50e1, 1E-2, "\u00e9\t\/"]  ', '  [9007199254740993, -0.0, 1.50e1, 1E-2, "\u00e9\t\/"]  '),
			(5, '"text"', '{"bb": {"b": 1, "a": [true, false]}, "c": "", "aaa": 0}')`,
		"CREATE TABLE jtk (id int PRIMARY KEY, jb jsonb)",
		`INSERT INTO jtk VALUES (1, '{"b": 2, "a": 1.10}'), (2, 'null')`)
	type query struct {
		sql    string
		params []string
	}
	queries := []query{
		{sql: `SELECT '{"b": 1,  "a":[1.0, 2e2, 12345678901234567890]}'::json AS j, '{"b":1,"a":[1.0,2e2,12345678901234567890],"b":3,"aa":"\u00e9\n"}'::jsonb AS jb`},
		{sql: `SELECT 'null'::json AS a, 'null'::jsonb AS b, '1e2'::jsonb AS c, '-0.0'::jsonb AS d, '1.50e1'::jsonb AS e, '0.0001e-2'::jsonb AS f, '"x\/y"'::jsonb AS g, '[]'::jsonb AS h, ' {} '::json AS i`},
		{sql: "SELECT * FROM jt ORDER BY id"},
		{sql: "SELECT jb, j, id FROM jt WHERE id >= 2 ORDER BY id DESC"},
		{sql: "SELECT jb FROM jtk WHERE id = 1"},
		{sql: "SELECT jb FROM jtk WHERE id = 2"},
		{sql: "SELECT id, jb FROM jtk ORDER BY id"},
		{sql: `SELECT '{"a":{"y":[1,2],"x":1}}'::jsonb -> 'a' AS a, '{"a":{"b":[1,2]}}'::jsonb #> '{a,b}' AS b, '{"b":1}'::jsonb || '{"a":2}'::jsonb AS c, '{"a":1,"b":2}'::jsonb - 'a' AS d`},
		{sql: "SELECT jsonb_build_object('b', 1, 'a', 'x') AS o, to_jsonb('x'::text) AS s, jsonb_build_array(1, 'y') AS a"},
		{sql: `SELECT '{"a":1}'::jsonb AS v UNION ALL SELECT '{"b" : 2, "a": 1}'::jsonb`},
		{sql: "SELECT coalesce(NULL, '{\"b\":1,\"a\":2}'::jsonb) AS c, CASE WHEN true THEN '[1,  2]'::jsonb END AS w"},
		{sql: `SELECT jb - 'z' AS m, jb @> '{"a":null}' AS c, jb -> 'a' AS e, jb #> '{bb,a}' AS p FROM jt WHERE id IN (1, 5) ORDER BY id`},
		{sql: "SELECT to_json(1.5::numeric) AS a, jsonb_build_object('x', 100::numeric, 'y', 2) AS b, row_to_json(t) AS c FROM (SELECT 1.5::numeric AS x, 2 AS y) t"},
		{sql: "SELECT $1::jsonb AS p, $2::json AS q", params: []string{`{"b": 1, "a": [2.50]}`, `{"b": 1, "a": [2.50]}`}},
	}
	for _, q := range queries {
		if q.params == nil {
			if got, want := wireResult(ctx, hop, q.sql, nil, true, 0), wireResult(ctx, ref, q.sql, nil, true, 0); got != want {
				t.Errorf("%s (simple protocol):\n hopsql     %s\n PostgreSQL %s", q.sql, got, want)
			}
		}
		for _, format := range []int16{0, 1} {
			if got, want := wireResult(ctx, hop, q.sql, q.params, false, format), wireResult(ctx, ref, q.sql, q.params, false, format); got != want {
				t.Errorf("%s (extended protocol, format %d):\n hopsql     %s\n PostgreSQL %s", q.sql, format, got, want)
			}
		}
	}

	// jsonb values are stored as jsonb_in stores them (keys sorted and
	// deduplicated, numbers as numeric), so that they print so through a
	// subquery, VALUES or a cast of a json column too — where hopsql
	// reports json, so only the text is compared.
	bothSetUp(t, []*pgx.Conn{hop, ref}, "DROP TABLE IF EXISTS jtj", "CREATE TABLE jtj (id int, j json)",
		`INSERT INTO jtj VALUES (1, '{"z": 1, "z": [2e1]}')`)
	for _, q := range []string{
		`SELECT * FROM (SELECT '{"b":1,"a":2,"b":3}'::jsonb AS x) s`,
		`VALUES ('[1e3, {"b": 1, "a": 2}]'::jsonb)`,
		`SELECT '{"b":1,"a":2,"b":3}'::jsonb -> 'b' AS b`,
		`SELECT j::jsonb AS a, (j::jsonb) -> 'z' AS z FROM jtj`,
		`WITH c AS (SELECT j::jsonb AS v FROM jtj) SELECT v FROM c`,
	} {
		rows := func(c *pgx.Conn) string {
			out := wireResult(ctx, c, q, nil, true, 0)
			if i := strings.IndexByte(out, '\n'); i >= 0 && !strings.HasPrefix(out, "ERROR") {
				return out[i:]
			}
			return out
		}
		if got, want := rows(hop), rows(ref); got != want {
			t.Errorf("%s (text of the rows):\n hopsql     %s\n PostgreSQL %s", q, got, want)
		}
	}

	// The text survives COPY TO and a cursor as well.
	for _, q := range []string{"COPY (SELECT id, j, jb FROM jt ORDER BY id) TO STDOUT"} {
		var got, want strings.Builder
		if _, err := hop.PgConn().CopyTo(ctx, &got, q); err != nil {
			t.Fatalf("%s on hopsql: %v", q, err)
		}
		if _, err := ref.PgConn().CopyTo(ctx, &want, q); err != nil {
			t.Fatalf("%s on PostgreSQL: %v", q, err)
		}
		if got.String() != want.String() {
			t.Errorf("%s:\n hopsql     %q\n PostgreSQL %q", q, got.String(), want.String())
		}
	}
	cursor := "BEGIN; DECLARE jc CURSOR FOR SELECT j, jb FROM jt ORDER BY id; FETCH 2 FROM jc; FETCH ALL FROM jc; COMMIT"
	if got, want := wireResult(ctx, hop, cursor, nil, true, 0), wireResult(ctx, ref, cursor, nil, true, 0); got != want {
		t.Errorf("%s:\n hopsql     %s\n PostgreSQL %s", cursor, got, want)
	}

	// pgx decodes both: a JSON null is Go's nil inside a non-NULL value,
	// and an integer beyond float64's precision keeps its digits.
	var n map[string]any
	var big []any
	if err := hop.QueryRow(ctx, `SELECT '{"k": null}'::jsonb, '[9007199254740993]'::json`).Scan(&n, &big); err != nil {
		t.Fatal(err)
	}
	if v, ok := n["k"]; !ok || v != nil {
		t.Errorf(`{"k": null} decoded as %v`, n)
	}
}
