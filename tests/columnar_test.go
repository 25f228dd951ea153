package tests

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgproto3"
)

// Results of flat column types leave DuckDB as Arrow batches and are
// encoded from them (engine/columnar.go, wire/codec/column.go). These tests
// hold that path to the row-by-row one, byte for byte, and both to
// PostgreSQL 15.

const columnarTable = `CREATE TABLE colv (
	n integer, b boolean, i2 smallint, i4 integer, i8 bigint, f4 real, f8 double precision,
	t text, v varchar(20), d date, ts timestamp, tz timestamptz)`

// columnarValues covers each type's edges: NULLs, extremes, float
// specials and subnormals, empty, non-ASCII and non-inlined strings,
// infinite and distant dates and timestamps.
var columnarValues = []string{
	`(1, true, -32768, -2147483648, -9223372036854775808, 'NaN', 'NaN', '', '', '0001-01-01', '0001-01-01 00:00:00', '0001-01-01 00:00:00+00')`,
	`(2, false, 32767, 2147483647, 9223372036854775807, 'Infinity', 'Infinity', 'é€𝄞 "quoted" \ back', 'varchar', '9999-12-31', '9999-12-31 23:59:59.999999', '9999-12-31 23:59:59.999999+00')`,
	`(3, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)`,
	`(4, true, 0, 0, 0, '-Infinity', '-Infinity', 'a string longer than twelve bytes', 'x', 'infinity', 'infinity', 'infinity')`,
	`(5, false, -1, -1, -1, '-0', '-0', 'line
break and	tab', 'y', '-infinity', '-infinity', '-infinity')`,
	`(6, true, 7, 7, 7, '1.17549435e-38', '4.9e-324', 'x', 'z', '1970-01-01', '1970-01-01 00:00:00', '1969-12-31 23:59:59.5+00')`,
	`(7, true, 1, 2, 3, '3.4028235e38', '1.7976931348623157e308', 'y', 'w', '2000-02-29', '2024-07-01 12:34:56.789', '2024-07-01 12:34:56.789-07')`,
	`(8, false, 9, 99, 999, '0.1', '0.1', 'z', 'v', '1600-03-01', '1899-12-31 23:59:59', '1901-12-13 20:45:52+00')`,
}

// columnarQueries read the table and compute over it, so results come both
// from scans and from expressions; the last one mixes in types that stay
// on the row path.
var columnarQueries = []string{
	"SELECT * FROM colv ORDER BY n",
	"SELECT n, i4::bigint + 1 AS i8p, f8 + 1 AS f8x, upper(t) AS tu, d + 1 AS dn, ts FROM colv WHERE n <> 2 ORDER BY n",
	"SELECT n, i4::bigint AS widened, i2::integer AS i2w, f4::double precision AS f4w, v::text AS vt FROM colv ORDER BY n",
	"SELECT count(*) AS c, min(t) AS lo, max(v) AS hi, bool_and(b) AS ba FROM colv",
	"SELECT n, interval '1 day' * n AS iv, t FROM colv ORDER BY n",
}

func rawResult(t *testing.T, c *pgx.Conn, sql string, format int16) [][]string {
	t.Helper()
	rr := c.PgConn().ExecParams(context.Background(), sql, nil, nil, nil, []int16{format}).Read()
	if rr.Err != nil {
		t.Fatalf("%s (format %d): %v", sql, format, rr.Err)
	}
	out := make([][]string, len(rr.Rows))
	for i, r := range rr.Rows {
		for _, cell := range r {
			if cell == nil {
				out[i] = append(out[i], "NULL")
			} else {
				out[i] = append(out[i], fmt.Sprintf("%x", cell))
			}
		}
	}
	return out
}

// counterPair reads two of hopsql.server_counters in one query. The query
// is itself a text result: it counts as columnar when the path is built,
// as row by row otherwise, after it has read the counters.
func counterPair(t *testing.T, c *pgx.Conn, a, b string) (int64, int64) {
	t.Helper()
	var va, vb int64
	q := "SELECT sum(value) FILTER (WHERE name = $1)::text || ',' || sum(value) FILTER (WHERE name = $2)::text FROM hopsql.server_counters"
	var s string
	if err := c.QueryRow(context.Background(), q, a, b).Scan(&s); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	if _, err := fmt.Sscanf(s, "%d,%d", &va, &vb); err != nil {
		t.Fatalf("counters %s, %s = %q: %v", a, b, s, err)
	}
	return va, vb
}

// resultCounters: how many results went each way so far.
func resultCounters(t *testing.T, c *pgx.Conn) (columnar, rows int64) {
	return counterPair(t, c, "results_columnar", "results_row_by_row")
}

func TestColumnarResultsMatchRowsAndPostgres(t *testing.T) {
	srv := startServer(t)
	c := srv.connect(t)
	ref := connectURL(t, referenceURL(t))
	for _, conn := range []*pgx.Conn{c, ref} {
		mustExec(t, conn, "DROP TABLE IF EXISTS colv")
		mustExec(t, conn, columnarTable)
		mustExec(t, conn, "INSERT INTO colv VALUES "+strings.Join(columnarValues, ", "))
		mustExec(t, conn, "SET TimeZone = 'America/New_York'") // timestamptz text follows it
	}
	t.Cleanup(func() { ref.Exec(context.Background(), "DROP TABLE IF EXISTS colv") })

	for _, q := range columnarQueries {
		for _, format := range []int16{0, 1} {
			mustExec(t, c, "SET hopsql.columnar_results = on")
			beforeCol, beforeRows := resultCounters(t, c)
			columnar := rawResult(t, c, q, format)
			afterCol, afterRows := resultCounters(t, c)
			mustExec(t, c, "SET hopsql.columnar_results = off")
			rows := rawResult(t, c, q, format)
			want := rawResult(t, ref, q, format)

			// The deltas hold the first counter query and this one.
			var wantCol, wantRows int64
			if columnarBuilt {
				wantCol++
			} else {
				wantRows++
			}
			if columnarBuilt && !strings.Contains(q, "interval") {
				wantCol++
			} else {
				wantRows++
			}
			if afterCol-beforeCol != wantCol || afterRows-beforeRows != wantRows {
				t.Errorf("%s (format %d): columnar results +%d, row-by-row +%d; want +%d, +%d (built with duckdb_arrow: %v)",
					q, format, afterCol-beforeCol, afterRows-beforeRows, wantCol, wantRows, columnarBuilt)
			}
			if !slices.EqualFunc(columnar, rows, slices.Equal[[]string]) {
				t.Errorf("%s (format %d): columnar and row-by-row results differ\ncolumnar: %v\nrows:     %v", q, format, columnar, rows)
			}
			if !slices.EqualFunc(columnar, want, slices.Equal[[]string]) {
				t.Errorf("%s (format %d): hopsql and PostgreSQL differ\nhopsql:     %v\npostgresql: %v", q, format, columnar, want)
			}
		}
	}
}

// COPY … TO STDOUT of a columnar result writes the bytes of the row path,
// and PostgreSQL's, in text, CSV and binary format.
func TestColumnarCopyToMatchesRowsAndPostgres(t *testing.T) {
	srv := startServer(t)
	c := srv.connect(t)
	ref := connectURL(t, referenceURL(t))
	ctx := context.Background()
	for _, conn := range []*pgx.Conn{c, ref} {
		mustExec(t, conn, "DROP TABLE IF EXISTS colv")
		mustExec(t, conn, columnarTable)
		mustExec(t, conn, "INSERT INTO colv VALUES "+strings.Join(columnarValues, ", "))
		mustExec(t, conn, "SET TimeZone = 'Asia/Kolkata'")
	}
	t.Cleanup(func() { ref.Exec(context.Background(), "DROP TABLE IF EXISTS colv") })
	copyOut := func(conn *pgx.Conn, q string) string {
		var b strings.Builder
		if _, err := conn.PgConn().CopyTo(ctx, &b, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		return b.String()
	}
	for _, opts := range []string{"", "(FORMAT csv, HEADER)", "(FORMAT csv, DELIMITER ';', NULL 'null', FORCE_QUOTE *)", "(FORMAT binary)"} {
		q := "COPY (SELECT * FROM colv ORDER BY n) TO STDOUT " + opts
		mustExec(t, c, "SET hopsql.columnar_results = on")
		before, _ := resultCounters(t, c)
		columnar := copyOut(c, q)
		after, _ := resultCounters(t, c)
		// The first counter query counts too when the path is built.
		if want := map[bool]int64{true: 2, false: 0}[columnarBuilt]; after-before != want {
			t.Errorf("%s: columnar results +%d, want +%d (built with duckdb_arrow: %v)", q, after-before, want, columnarBuilt)
		}
		mustExec(t, c, "SET hopsql.columnar_results = off")
		rows := copyOut(c, q)
		want := copyOut(ref, q)
		if columnar != rows {
			t.Errorf("%s: columnar and row-by-row output differ\ncolumnar: %q\nrows:     %q", q, columnar, rows)
		}
		if columnar != want {
			t.Errorf("%s: hopsql and PostgreSQL differ\nhopsql:     %q\npostgresql: %q", q, columnar, want)
		}
	}
}

// A result of several DuckDB chunks, read through a portal in slices that
// end inside chunks and on their edges, arrives whole and in order, with
// PortalSuspended between slices and the last slice's count in the tag.
func TestColumnarPortalAcrossChunks(t *testing.T) {
	srv := startServer(t)
	w := dialWire(t, hopsqlTarget(srv))
	const n = 5000 // DuckDB's chunks hold 2048 rows
	w.fe.Send(&pgproto3.Parse{Name: "big", Query: fmt.Sprintf("SELECT i::bigint AS i, 'r' || i AS s FROM range(%d) AS r(i) ORDER BY i", n)})
	w.fe.Send(&pgproto3.Bind{DestinationPortal: "p", PreparedStatement: "big", ResultFormatCodes: []int16{0}})
	limits := []uint32{1, 2047, 2048, 3, 0}
	for _, m := range limits {
		w.fe.Send(&pgproto3.Execute{Portal: "p", MaxRows: m})
	}
	w.fe.Send(&pgproto3.Sync{})
	if err := w.fe.Flush(); err != nil {
		t.Fatal(err)
	}
	next, suspended := 0, 0
	var tag string
	for {
		m, err := w.receive(30 * time.Second)
		if err != nil {
			t.Fatal(err)
		}
		switch m := m.(type) {
		case *pgproto3.DataRow:
			if got, want := string(m.Values[0])+" "+string(m.Values[1]), fmt.Sprintf("%d r%d", next, next); got != want {
				t.Fatalf("row %d = %q, want %q", next, got, want)
			}
			next++
		case *pgproto3.PortalSuspended:
			suspended++
			if want := 0; suspended <= 4 {
				for _, l := range limits[:suspended] {
					want += int(l)
				}
				if next != want {
					t.Fatalf("suspended after %d rows, want %d", next, want)
				}
			}
		case *pgproto3.CommandComplete:
			tag = string(m.CommandTag)
		case *pgproto3.ErrorResponse:
			t.Fatalf("%s: %s", m.Code, m.Message)
		case *pgproto3.ReadyForQuery:
			if next != n || suspended != 4 {
				t.Fatalf("got %d rows and %d suspensions, want %d and 4", next, suspended, n)
			}
			if want := fmt.Sprintf("SELECT %d", n-(1+2047+2048+3)); tag != want {
				t.Fatalf("tag %q, want %q", tag, want)
			}
			return
		}
	}
}

// A cancel request stops a result midway, on either path, with 57014, and
// the session goes on.
func TestColumnarCancelMidResult(t *testing.T) {
	srv := startServer(t)
	for _, path := range []string{"on", "off"} {
		t.Run("columnar_results="+path, func(t *testing.T) {
			cancelMidResult(t, srv, path)
		})
	}
}

func cancelMidResult(t *testing.T, srv *server, columnar string) {
	c := srv.connect(t)
	ctx := context.Background()
	mustExec(t, c, "SET hopsql.columnar_results = "+columnar)
	// The client's context is never cancelled: only the server's answer to
	// the CancelRequest can end the result early, and the connection stays.
	const total = 3000000
	rows, err := c.Query(ctx, "SELECT i::bigint, repeat('x', 100) FROM range(3000000) AS r(i)")
	if err != nil {
		t.Fatal(err)
	}
	got := 0
	for rows.Next() {
		got++
		if got == 5000 {
			if err := c.PgConn().CancelRequest(ctx); err != nil {
				t.Fatalf("cancel request: %v", err)
			}
		}
	}
	rows.Close()
	if got >= total {
		t.Fatalf("all %d rows arrived despite the cancel", got)
	}
	if code := sqlstate(rows.Err()); code != "57014" {
		t.Fatalf("after %d rows: %v (SQLSTATE %q), want 57014", got, rows.Err(), code)
	}
	var one int
	if err := c.QueryRow(ctx, "SELECT 1").Scan(&one); err != nil || one != 1 {
		t.Fatalf("the session after the cancel: %d, %v", one, err)
	}
}
