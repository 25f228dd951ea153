package tests

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
)

func sqlstate(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code
	}
	return ""
}

// TestPgxTypesRoundTrip sends and reads every supported type through the
// extended protocol in binary (pgx's default for these types) and text.
func TestPgxTypesRoundTrip(t *testing.T) {
	srv := startServer(t)
	c := srv.connect(t)
	ctx := context.Background()
	mustExec(t, c, `CREATE TABLE types (b bool, i2 smallint, i4 int, i8 bigint, f4 real, f8 double precision,
		n numeric(12,3), s text, v varchar, bya bytea, d date, tm time, ts timestamp, tz timestamptz,
		iv interval, u uuid, j json, ai int[], att text[])`)
	ts := time.Date(2024, 2, 29, 13, 14, 15, 123456000, time.UTC)
	u := [16]byte{0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde, 0xf0, 1, 2, 3, 4, 5, 6, 7, 8}
	num := pgtype.Numeric{Int: big.NewInt(1234567), Exp: -3, Valid: true}
	_, err := c.Exec(ctx, `INSERT INTO types VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$18,$19)`,
		true, int16(-7), int32(1<<30), int64(-1<<40), float32(1.5), 3.25, num, "héllo", "v\"q", []byte{0, 1, 255},
		time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC), pgtype.Time{Microseconds: (13*3600 + 14*60 + 15) * 1e6, Valid: true},
		ts, ts, pgtype.Interval{Months: 14, Days: 3, Microseconds: 4*3600e6 + 5e6, Valid: true}, u,
		`{"a": [1, 2]}`, []int32{1, 2, 3}, []string{"a b", "c,d", `e"f`})
	if err != nil {
		t.Fatalf("insert: %v", err)
	}
	var (
		b      bool
		i2     int16
		i4     int32
		i8     int64
		f4     float32
		f8     float64
		n      pgtype.Numeric
		s, v   string
		by     []byte
		d      time.Time
		tm     pgtype.Time
		tsv    time.Time
		tzv    time.Time
		iv     pgtype.Interval
		uv     [16]byte
		j      map[string]any
		ai     []int32
		at     []string
		nullOK *int32
	)
	for _, mode := range []pgx.QueryExecMode{pgx.QueryExecModeCacheStatement, pgx.QueryExecModeExec, pgx.QueryExecModeSimpleProtocol} {
		t.Run(fmt.Sprint(mode), func(t *testing.T) {
			err := c.QueryRow(ctx, `SELECT b, i2, i4, i8, f4, f8, n, s, v, bya, d, tm, ts, tz, iv, u, j, ai, att, NULL::int FROM types`, mode).
				Scan(&b, &i2, &i4, &i8, &f4, &f8, &n, &s, &v, &by, &d, &tm, &tsv, &tzv, &iv, &uv, &j, &ai, &at, &nullOK)
			if err != nil {
				t.Fatalf("select: %v", err)
			}
			if !b || i2 != -7 || i4 != 1<<30 || i8 != -1<<40 || f4 != 1.5 || f8 != 3.25 {
				t.Errorf("scalars: %v %v %v %v %v %v", b, i2, i4, i8, f4, f8)
			}
			if nv, _ := n.Value(); nv != "1234.567" {
				t.Errorf("numeric = %v", nv)
			}
			if s != "héllo" || v != `v"q` || string(by) != "\x00\x01\xff" {
				t.Errorf("strings: %q %q %v", s, v, by)
			}
			if !d.Equal(time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC)) || tm.Microseconds != (13*3600+14*60+15)*1e6 {
				t.Errorf("date/time: %v %v", d, tm)
			}
			if !tsv.Equal(ts) || !tzv.Equal(ts) {
				t.Errorf("timestamps: %v %v want %v", tsv, tzv, ts)
			}
			if iv.Months != 14 || iv.Days != 3 || iv.Microseconds != 4*3600e6+5e6 {
				t.Errorf("interval: %+v", iv)
			}
			if uv != u {
				t.Errorf("uuid: %x", uv)
			}
			if fmt.Sprint(j) != "map[a:[1 2]]" {
				t.Errorf("json: %v", j)
			}
			if fmt.Sprint(ai) != "[1 2 3]" || len(at) != 3 || at[0] != "a b" || at[1] != "c,d" || at[2] != `e"f` {
				t.Errorf("arrays: %v %q", ai, at)
			}
			if nullOK != nil {
				t.Errorf("NULL came back as %v", *nullOK)
			}
		})
	}
}

// TestPgxResultDescription checks type OIDs and names in RowDescription.
func TestPgxResultDescription(t *testing.T) {
	srv := startServer(t)
	c := srv.connect(t)
	rows, err := c.Query(context.Background(), `SELECT 1 AS one, 'x'::text, 2.5::float8, count(*), true, 7/2 FROM (SELECT 1) s`)
	if err != nil {
		t.Fatal(err)
	}
	fds := rows.FieldDescriptions()
	rows.Close()
	want := []struct {
		name string
		oid  uint32
	}{{"one", 23}, {"text", 25}, {"float8", 701}, {"count", 20}, {"?column?", 16}, {"?column?", 23}}
	if len(fds) != len(want) {
		t.Fatalf("got %d fields", len(fds))
	}
	for i, w := range want {
		if fds[i].Name != w.name || fds[i].DataTypeOID != w.oid {
			t.Errorf("field %d = %s/%d, want %s/%d", i, fds[i].Name, fds[i].DataTypeOID, w.name, w.oid)
		}
	}
}

func TestPgxSQLSTATEs(t *testing.T) {
	srv := startServer(t)
	c := srv.connect(t)
	ctx := context.Background()
	mustExec(t, c, `CREATE TABLE s (id int PRIMARY KEY, v text NOT NULL)`)
	mustExec(t, c, `INSERT INTO s VALUES (1, 'a')`)
	cases := []struct {
		sql  string
		code string
	}{
		{"SELECT * FROM missing_table", "42P01"},
		{"SELEC 1", "42601"},
		{"SELECT missing_col FROM s", "42703"},
		{"SELECT 1/0", "22012"},
		{"SELECT 5 % 0", "22012"},
		{"SELECT 'abc'::int", "22P02"},
		{"INSERT INTO s VALUES (2, NULL)", "23502"},
		{"INSERT INTO s VALUES (1, 'dup')", "23505"},
		{"SELECT no_such_function(1)", "42883"},
		{"SET no_such_setting = 1", "42704"},
		{"SHOW no_such_setting", "42704"},
		{"CREATE TABLE s (x int)", "42P07"},
		{"SELECT * FROM s WHERE id = 'x'", "22P02"},
		// Not supported, said as PostgreSQL says of what it lacks, and
		// nothing deleted.
		{"WITH d AS (DELETE FROM s RETURNING *) SELECT count(*) FROM d", "0A000"},
		{"WITH i AS (INSERT INTO s VALUES (9, 'x') RETURNING id) SELECT * FROM i", "0A000"},
	}
	for _, tc := range cases {
		_, err := c.Exec(ctx, tc.sql)
		if got := sqlstate(err); got != tc.code {
			t.Errorf("%s: SQLSTATE %q (%v), want %s", tc.sql, got, err, tc.code)
		}
	}
	// Syntax errors carry the same message and position as PostgreSQL's.
	ref := connectURL(t, referenceURL(t))
	for _, bad := range []string{"SELECT 1 FROM s WHER id = 1", "SELECT (1", "SELECT 'unterminated"} {
		_, err := c.Exec(ctx, bad)
		_, rerr := ref.Exec(ctx, bad)
		var pe, re *pgconn.PgError
		if !errors.As(err, &pe) || !errors.As(rerr, &re) {
			t.Fatalf("%s: %v / %v", bad, err, rerr)
		}
		if pe.Code != re.Code || pe.Message != re.Message || pe.Position != re.Position {
			t.Errorf("%s: hopsql %s %q at %d, PostgreSQL %s %q at %d", bad, pe.Code, pe.Message, pe.Position, re.Code, re.Message, re.Position)
		}
	}
	var rowsLeft int
	if err := c.QueryRow(ctx, "SELECT count(*) FROM s").Scan(&rowsLeft); err != nil || rowsLeft != 1 {
		t.Fatalf("rows after the refused data-modifying WITH: %d, %v; want 1", rowsLeft, err)
	}
	// The connection is still usable after all of that.
	var n int
	if err := c.QueryRow(ctx, "SELECT count(*) FROM s").Scan(&n); err != nil || n != 1 {
		t.Fatalf("after errors: %v %d", err, n)
	}
}

func TestPgxAbortedTransaction(t *testing.T) {
	srv := startServer(t)
	c := srv.connect(t)
	ctx := context.Background()
	mustExec(t, c, `CREATE TABLE a (id int)`)
	tx, err := c.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, "INSERT INTO a VALUES (1)"); err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, "SELECT 1/0"); sqlstate(err) != "22012" {
		t.Fatalf("want 22012, got %v", err)
	}
	if c.PgConn().TxStatus() != 'E' {
		t.Errorf("tx status %c, want E", c.PgConn().TxStatus())
	}
	if _, err := tx.Exec(ctx, "SELECT 1"); sqlstate(err) != "25P02" {
		t.Fatalf("want 25P02, got %v", err)
	}
	if err := tx.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	var n int
	c.QueryRow(ctx, "SELECT count(*) FROM a").Scan(&n)
	if n != 0 {
		t.Errorf("rolled back insert is visible: %d rows", n)
	}
	// COMMIT of a failed transaction reports ROLLBACK.
	mustExec(t, c, "BEGIN")
	c.Exec(ctx, "SELECT * FROM nope")
	tag, err := c.PgConn().Exec(ctx, "COMMIT").ReadAll()
	if err != nil || tag[0].CommandTag.String() != "ROLLBACK" {
		t.Errorf("COMMIT after error: %v %v", tag, err)
	}
}

func TestPgxSavepoints(t *testing.T) {
	srv := startServer(t)
	c := srv.connect(t)
	ctx := context.Background()
	mustExec(t, c, `CREATE TABLE sp (id int)`)
	tx, err := c.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	mustExec(t, c, "INSERT INTO sp VALUES (1)")
	nested, err := tx.Begin(ctx) // pgx uses SAVEPOINT for nested transactions
	if err != nil {
		t.Fatal(err)
	}
	mustExec(t, c, "INSERT INTO sp VALUES (2)")
	if _, err := nested.Exec(ctx, "SELECT 1/0"); err == nil {
		t.Fatal("expected error")
	}
	if err := nested.Rollback(ctx); err != nil { // ROLLBACK TO SAVEPOINT
		t.Fatalf("rollback to savepoint: %v", err)
	}
	mustExec(t, c, "INSERT INTO sp VALUES (3)")
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	var got []int32
	rows, _ := c.Query(ctx, "SELECT id FROM sp ORDER BY id")
	got, err = pgx.CollectRows(rows, pgx.RowTo[int32])
	if err != nil || fmt.Sprint(got) != "[1 3]" {
		t.Fatalf("after savepoint rollback: %v %v", got, err)
	}
}

func TestPgxBatch(t *testing.T) {
	srv := startServer(t)
	c := srv.connect(t)
	ctx := context.Background()
	mustExec(t, c, `CREATE TABLE bt (id int, name text)`)
	b := &pgx.Batch{}
	for i := 0; i < 100; i++ {
		b.Queue("INSERT INTO bt VALUES ($1, $2)", i, fmt.Sprintf("n%d", i))
	}
	b.Queue("SELECT count(*), sum(id) FROM bt")
	br := c.SendBatch(ctx, b)
	for i := 0; i < 100; i++ {
		tag, err := br.Exec()
		if err != nil || tag.String() != "INSERT 0 1" {
			t.Fatalf("batch insert %d: %v %v", i, tag, err)
		}
	}
	var n, sum int64
	if err := br.QueryRow().Scan(&n, &sum); err != nil || n != 100 || sum != 4950 {
		t.Fatalf("batch select: %v %d %d", err, n, sum)
	}
	if err := br.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestPgxCopyFrom(t *testing.T) {
	srv := startServer(t)
	c := srv.connect(t)
	ctx := context.Background()
	mustExec(t, c, `CREATE TABLE cf (id bigint, name text, score double precision, at_ timestamptz, ok bool)`)
	const n = 50000
	at := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	rows := make([][]any, n)
	for i := range rows {
		var name any = fmt.Sprintf("name %d, \"quoted\"\ttab", i)
		if i%10 == 0 {
			name = nil
		}
		rows[i] = []any{int64(i), name, float64(i) / 3, at.Add(time.Duration(i) * time.Second), i%2 == 0}
	}
	got, err := c.CopyFrom(ctx, pgx.Identifier{"cf"}, []string{"id", "name", "score", "at_", "ok"}, pgx.CopyFromRows(rows))
	if err != nil || got != n {
		t.Fatalf("CopyFrom: %d %v", got, err)
	}
	var cnt, nulls int64
	var maxAt time.Time
	var name string
	c.QueryRow(ctx, "SELECT count(*), count(*) - count(name), max(at_) FROM cf").Scan(&cnt, &nulls, &maxAt)
	c.QueryRow(ctx, "SELECT name FROM cf WHERE id = 7").Scan(&name)
	if cnt != n || nulls != n/10 || !maxAt.Equal(at.Add((n-1)*time.Second)) || name != "name 7, \"quoted\"\ttab" {
		t.Fatalf("after copy: %d %d %v %q", cnt, nulls, maxAt, name)
	}
	// A failing COPY writes nothing.
	_, err = c.CopyFrom(ctx, pgx.Identifier{"cf"}, []string{"id", "name", "score", "at_", "ok"},
		pgx.CopyFromFunc(func() ([]any, error) { return nil, errors.New("client gave up") }))
	if err == nil {
		t.Fatal("expected the aborted copy to fail")
	}
	c.QueryRow(ctx, "SELECT count(*) FROM cf").Scan(&cnt)
	if cnt != n {
		t.Fatalf("aborted COPY changed the table: %d rows", cnt)
	}
}

func TestPgxCancel(t *testing.T) {
	srv := startServer(t)
	c := srv.connect(t)
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := c.Exec(ctx, "SELECT count(*) FROM range(100000000000) a")
	if err == nil {
		t.Fatal("long query was not cancelled")
	}
	if time.Since(start) > 15*time.Second {
		t.Fatalf("cancel took %v", time.Since(start))
	}
	// pgx closes the connection after a context cancel; a new one works and
	// a CancelRequest-driven cancellation reports 57014.
	c2 := srv.connect(t)
	done := make(chan error, 1)
	go func() {
		_, err := c2.Exec(context.Background(), "SELECT count(*) FROM range(100000000000) a")
		done <- err
	}()
	time.Sleep(300 * time.Millisecond)
	if err := c2.PgConn().CancelRequest(context.Background()); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if sqlstate(err) != "57014" {
			t.Fatalf("want 57014, got %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("CancelRequest did not interrupt the query")
	}
	var one int
	if err := c2.QueryRow(context.Background(), "SELECT 1").Scan(&one); err != nil || one != 1 {
		t.Fatalf("session unusable after cancel: %v", err)
	}
}

func TestPgxSetShowDoNotLeak(t *testing.T) {
	srv := startServer(t)
	a, b := srv.connect(t), srv.connect(t)
	ctx := context.Background()
	mustExec(t, a, "SET TimeZone = 'America/New_York'")
	var tzA, tzB string
	a.QueryRow(ctx, "SHOW TimeZone").Scan(&tzA)
	b.QueryRow(ctx, "SHOW TimeZone").Scan(&tzB)
	if tzA != "America/New_York" || tzB != "UTC" {
		t.Fatalf("TimeZone leaked: a=%s b=%s", tzA, tzB)
	}
	if a.PgConn().ParameterStatus("TimeZone") != "America/New_York" {
		t.Errorf("no ParameterStatus for TimeZone: %q", a.PgConn().ParameterStatus("TimeZone"))
	}
	var s string
	a.QueryRow(ctx, "SELECT '2024-06-01 12:00:00+00'::timestamptz::text").Scan(&s)
	if s != "2024-06-01 08:00:00-04" {
		t.Errorf("timestamptz text in New York = %q", s)
	}
	// SET is transactional.
	mustExec(t, a, "BEGIN")
	mustExec(t, a, "SET application_name = 'inside'")
	mustExec(t, a, "ROLLBACK")
	a.QueryRow(ctx, "SHOW application_name").Scan(&s)
	if s == "inside" {
		t.Errorf("SET survived ROLLBACK")
	}
	mustExec(t, a, "RESET TimeZone")
	a.QueryRow(ctx, "SHOW TimeZone").Scan(&tzA)
	if tzA != "UTC" {
		t.Errorf("RESET TimeZone = %s", tzA)
	}
	for _, p := range []string{"server_version", "client_encoding", "DateStyle", "integer_datetimes", "standard_conforming_strings", "is_superuser", "session_authorization"} {
		if b.PgConn().ParameterStatus(p) == "" {
			t.Errorf("no ParameterStatus %s at startup", p)
		}
	}
	if !strings.HasPrefix(b.PgConn().ParameterStatus("server_version"), "15.") {
		t.Errorf("server_version %q", b.PgConn().ParameterStatus("server_version"))
	}
}
