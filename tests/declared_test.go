package tests

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// TestDeclaredTypes: varchar(n), varchar and jsonb columns keep their
// declared type — which DuckDB's VARCHAR does not — in pg_attribute and in
// the RowDescription of a plain column, through ALTER TABLE and a restart,
// exactly as PostgreSQL 15 reports them for the same statements.
func TestDeclaredTypes(t *testing.T) {
	srv := startServer(t)
	ctx := context.Background()
	c := srv.connect(t)
	ref := connectURL(t, referenceURL(t))
	steps := []string{
		"DROP TABLE IF EXISTS decl_vt",
		"CREATE TABLE decl_vt (id int PRIMARY KEY, a varchar(40), b varchar, c text, d varchar(5)[])",
		"ALTER TABLE decl_vt ADD COLUMN e varchar(12)",
		"ALTER TABLE decl_vt RENAME COLUMN a TO a2",
		"ALTER TABLE decl_vt ALTER COLUMN b TYPE varchar(3)",
		"ALTER TABLE decl_vt ALTER COLUMN e TYPE text",
		"ALTER TABLE decl_vt ADD COLUMN f jsonb",
		`INSERT INTO decl_vt VALUES (1, 'x', 'y', 'z', ARRAY['p'], 'q', '{"bb": [1, 2.5], "a": null}')`,
	}
	for _, sql := range steps {
		mustExec(t, c, sql)
		mustExec(t, ref, sql)
	}
	const q = "SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = 'decl_vt'::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum"
	described := func(c *pgx.Conn) string {
		t.Helper()
		rows, err := c.Query(ctx, "SELECT a2, b, c, decl_vt.e, d, f FROM decl_vt")
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		return strings.Join(fieldTypes(rows.FieldDescriptions()), " ")
	}
	want, wantDesc := strings.Join(textRows(t, ref, q), ";"), described(ref)
	if !strings.Contains(want, "character varying(40)") || !strings.Contains(want, "f|jsonb") {
		t.Fatalf("reference PostgreSQL: %s", want)
	}
	check := func(when string) {
		t.Helper()
		if got := strings.Join(textRows(t, c, q), ";"); got != want {
			t.Fatalf("%s: pg_attribute says %s\nPostgreSQL: %s", when, got, want)
		}
		if got := described(c); got != wantDesc {
			t.Fatalf("%s: RowDescription %s\nPostgreSQL: %s", when, got, wantDesc)
		}
		if got, want := textRows(t, c, "SELECT f FROM decl_vt"), textRows(t, ref, "SELECT f FROM decl_vt"); strings.Join(got, "") != strings.Join(want, "") {
			t.Fatalf("%s: jsonb value %q, PostgreSQL %q", when, got, want)
		}
	}
	check("after ALTER")
	// Inside the transaction that declares them, before COMMIT.
	inTx := func(c *pgx.Conn) string {
		t.Helper()
		tx, err := c.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = tx.Rollback(ctx) }()
		var out []string
		for _, step := range []string{"CREATE TABLE decl_tx (a varchar(7), j jsonb)", "SELECT a, j FROM decl_tx",
			"ALTER TABLE decl_vt ADD COLUMN g varchar(9)", "SELECT *, 1 AS one FROM decl_vt",
			"ALTER TABLE decl_tx ALTER COLUMN a TYPE varchar(2)", "SELECT * FROM decl_tx"} {
			if !strings.HasPrefix(step, "SELECT") {
				if _, err := tx.Exec(ctx, step); err != nil {
					t.Fatalf("%s: %v", step, err)
				}
				continue
			}
			rows, err := tx.Query(ctx, step)
			if err != nil {
				t.Fatalf("%s: %v", step, err)
			}
			out = append(out, strings.Join(fieldTypes(rows.FieldDescriptions()), " "))
			rows.Close()
		}
		return strings.Join(out, "; ")
	}
	if got, want := inTx(c), inTx(ref); got != want {
		t.Fatalf("in the declaring transaction: RowDescription %s\nPostgreSQL: %s", got, want)
	}
	check("after a rolled-back ALTER")
	srv.Stop()
	srv.Restart()
	c = srv.connect(t)
	check("after a restart")
	// A table created again under the name forgets the old declarations.
	mustExec(t, c, "DROP TABLE decl_vt")
	mustExec(t, c, "CREATE TABLE decl_vt (id int, a2 text)")
	if got := strings.Join(textRows(t, c, q), ";"); got != "id|integer;a2|text" {
		t.Fatalf("re-created table: %s", got)
	}
}

// TestDeclaredLengths: values longer than a varchar(n) or char(n) column
// allows are refused with PostgreSQL's 22001 and message, whichever way
// they arrive (a literal INSERT, the single-row fast path with a bound
// parameter, UPDATE, COPY in text and binary, a transaction block), and
// char(n) values print padded to n, in text and binary, with the type
// PostgreSQL reports — each compared with PostgreSQL 15 running the same
// statements.
func TestDeclaredLengths(t *testing.T) {
	srv := startServer(t)
	ctx := context.Background()
	c := srv.connect(t)
	ref := connectURL(t, referenceURL(t))
	outcome := func(c *pgx.Conn, sql string, args ...any) string {
		t.Helper()
		_, err := c.Exec(ctx, sql, args...)
		if err == nil {
			return "ok"
		}
		var pe *pgconn.PgError
		if !errors.As(err, &pe) {
			t.Fatalf("%s: %v", sql, err)
		}
		return pe.Code + " " + pe.Message
	}
	copyOutcome := func(c *pgx.Conn, rows [][]any) string {
		t.Helper()
		_, err := c.CopyFrom(ctx, pgx.Identifier{"decl_len"}, []string{"id", "v"}, pgx.CopyFromRows(rows))
		if err == nil {
			return "ok"
		}
		var pe *pgconn.PgError
		if !errors.As(err, &pe) {
			t.Fatalf("copy: %v", err)
		}
		return pe.Code + " " + pe.Message
	}
	type step struct {
		sql  string
		args []any
		copy [][]any
	}
	steps := []step{
		{sql: "DROP TABLE IF EXISTS decl_len"},
		{sql: "CREATE TABLE decl_len (id int, c char(3), d char, v varchar(3), t text)"}, // a bare char is char(1)
		{sql: "INSERT INTO decl_len VALUES (1, 'ab', 'x', 'ab', 'free text of any length')"},
		{sql: "INSERT INTO decl_len VALUES (2, 'abcd', 'x', 'ab', 't')"},
		{sql: "INSERT INTO decl_len VALUES (3, 'ab', 'xy', 'ab', 't')"},
		{sql: "INSERT INTO decl_len VALUES (4, 'ab', 'x', 'abcd', 't')"},
		{sql: "INSERT INTO decl_len VALUES (5, 'é€', 'é', 'é€d', 't')"},               // characters, not bytes
		{sql: "INSERT INTO decl_len VALUES (6, 'ab ', 'x', 'a  ', 't')"},              // trailing spaces within n
		{sql: "INSERT INTO decl_len (id, v) VALUES ($1, $2)", args: []any{7, "abcd"}}, // the fast path
		{sql: "INSERT INTO decl_len (id, v) VALUES ($1, $2)", args: []any{8, "abc"}},
		{sql: "UPDATE decl_len SET v = v || 'zz' WHERE id = 1"},
		{sql: "UPDATE decl_len SET c = 'z' WHERE id = 1"},
		{copy: [][]any{{10, "abcd"}}},
		{copy: [][]any{{11, "abc"}, {12, "xyz"}}},
		{sql: "ALTER TABLE decl_len ALTER COLUMN v TYPE varchar(2)"}, // 'abc' is there
		{sql: "ALTER TABLE decl_len ALTER COLUMN t TYPE varchar(1)"},
		{sql: "ALTER TABLE decl_len ADD COLUMN w varchar(2)"},
		{sql: "BEGIN"},
		{sql: "INSERT INTO decl_len (id, v) VALUES (13, 'ok')"},
		{sql: "INSERT INTO decl_len (id, v) VALUES (14, 'too long')"},
		{sql: "INSERT INTO decl_len (id, v) VALUES (15, 'ok')"},
		{sql: "ROLLBACK"},
	}
	for _, s := range steps {
		if s.sql == "" {
			_, direct0 := counterPair(t, c, "copies_arrow", "copies_direct")
			got, want := copyOutcome(c, s.copy), copyOutcome(ref, s.copy)
			if got != want {
				t.Fatalf("COPY %v: hopsql %q, PostgreSQL %q", s.copy, got, want)
			}
			// Written straight to Parquet, and checked there.
			if _, direct1 := counterPair(t, c, "copies_arrow", "copies_direct"); direct1 != direct0+1 {
				t.Fatalf("COPY %v did not take the direct path (%d → %d)", s.copy, direct0, direct1)
			}
			continue
		}
		got, want := outcome(c, s.sql, s.args...), outcome(ref, s.sql, s.args...)
		if got != want {
			t.Fatalf("%s %v: hopsql %q, PostgreSQL %q", s.sql, s.args, got, want)
		}
	}
	// Text COPY through psql's path: a CSV row over the limit.
	_, direct0 := counterPair(t, c, "copies_arrow", "copies_direct")
	for _, conn := range []*pgx.Conn{c, ref} {
		_, err := conn.PgConn().CopyFrom(ctx, strings.NewReader("9,abcd\n"), "COPY decl_len (id, v) FROM STDIN (FORMAT csv)")
		var pe *pgconn.PgError
		if !errors.As(err, &pe) || pe.Code != "22001" || pe.Message != "value too long for type character varying(3)" {
			t.Fatalf("text COPY of an over-long value: %v", err)
		}
	}
	if _, direct1 := counterPair(t, c, "copies_arrow", "copies_direct"); direct1 != direct0+1 {
		t.Fatalf("text COPY did not take the direct path (%d → %d)", direct0, direct1)
	}
	// An explicit cast truncates instead (characters, not bytes).
	const casts = "SELECT 'abcd'::varchar(2), CAST('abcd' AS varchar(3)), 'abcd'::char(2), 'ab'::varchar(5), NULL::varchar(2), " +
		"'é€d'::varchar(2), 12345::varchar(3), length('abcd'::varchar(2)), 'ab'::char(3) = 'ab'"
	if got, want := strings.Join(textRows(t, c, casts), ";"), strings.Join(textRows(t, ref, casts), ";"); got != want {
		t.Fatalf("explicit casts:\nhopsql     %s\nPostgreSQL %s", got, want)
	}
	const q = "SELECT id, c, d, v FROM decl_len ORDER BY id"
	if got, want := strings.Join(textRows(t, c, q), ";"), strings.Join(textRows(t, ref, q), ";"); got != want {
		t.Fatalf("rows (text):\nhopsql     %s\nPostgreSQL %s", got, want)
	}
	binary := func(c *pgx.Conn) string {
		t.Helper()
		rows, err := c.Query(ctx, q, pgx.QueryResultFormats{pgx.BinaryFormatCode})
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		out := fieldTypes(rows.FieldDescriptions())
		for rows.Next() {
			for _, v := range rows.RawValues() {
				out = append(out, strconv.Quote(string(v)))
			}
		}
		if rows.Err() != nil {
			t.Fatal(rows.Err())
		}
		return strings.Join(out, " ")
	}
	if got, want := binary(c), binary(ref); got != want {
		t.Fatalf("rows (binary):\nhopsql     %s\nPostgreSQL %s", got, want)
	}
}

// fieldTypes describes result columns as name:oid/typmod.
func fieldTypes(fds []pgconn.FieldDescription) []string {
	var out []string
	for _, f := range fds {
		out = append(out, f.Name+":"+strconv.Itoa(int(f.DataTypeOID))+"/"+strconv.Itoa(int(f.TypeModifier)))
	}
	return out
}
