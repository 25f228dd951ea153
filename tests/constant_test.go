package tests

import (
	"context"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
)

// A constant statement sent as a simple query is answered from the
// session's cache from its second run on, however the client ends it:
// pgbench and psql scripts send "SELECT 1;", pools "SELECT 1".
func TestConstantCacheSimpleQueryText(t *testing.T) {
	srv := startServer(t)
	c := srv.connect(t)
	ctx := context.Background()
	replays := func() int64 {
		var n int64
		if err := c.QueryRow(ctx, "SELECT value FROM hopsql.server_counters WHERE name = 'results_constant'").Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	for _, q := range []string{"SELECT 1", "SELECT 2;", "SELECT 'a' || 'b' AS x ;\n", "  SELECT 3 ; "} {
		before := replays()
		for i := 0; i < 3; i++ {
			rows, err := c.Query(ctx, q, pgx.QueryExecModeSimpleProtocol)
			if err != nil {
				t.Fatalf("%q: %v", q, err)
			}
			n := 0
			for rows.Next() {
				n++
			}
			if rows.Err() != nil || n != 1 {
				t.Fatalf("%q: %d rows, %v", q, n, rows.Err())
			}
		}
		if got := replays() - before; got != 2 {
			t.Errorf("%q run 3 times: %d replays from the cache, want 2 (the first run executes it)", q, got)
		}
	}
	// Two statements in one string are not a constant to keep.
	before := replays()
	for i := 0; i < 2; i++ {
		if _, err := c.Exec(ctx, "SELECT 1; SELECT 2;", pgx.QueryExecModeSimpleProtocol); err != nil {
			t.Fatal(err)
		}
	}
	if got := replays() - before; got != 0 {
		t.Errorf("multi-statement string: %d replays, want 0", got)
	}
}

// Drivers that send every query as a new unnamed statement (Parse, Bind,
// Execute: node-postgres, PgJDBC before its prepare threshold, pgx's exec
// modes) get the kept constant statement at Parse: no DuckDB prepare, no
// execution. It is shared with named statements of the same text, whose
// closing must not close it, and an aborted transaction still refuses it.
func TestConstantCacheExtendedParse(t *testing.T) {
	srv := startServer(t)
	c := srv.connect(t)
	ctx := context.Background()
	replays := func() int64 {
		var n int64
		if err := c.QueryRow(ctx, "SELECT value FROM hopsql.server_counters WHERE name = 'results_constant'", pgx.QueryExecModeSimpleProtocol).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	for _, mode := range []pgx.QueryExecMode{pgx.QueryExecModeExec, pgx.QueryExecModeDescribeExec} {
		q := "SELECT 40 + 2 AS answer, 'x' || 'y' AS s"
		if mode == pgx.QueryExecModeDescribeExec {
			q += " "
		}
		before := replays()
		for i := 0; i < 4; i++ {
			var n int
			var s string
			if err := c.QueryRow(ctx, q, mode).Scan(&n, &s); err != nil || n != 42 || s != "xy" {
				t.Fatalf("mode %v run %d: %d %q %v", mode, i, n, s, err)
			}
		}
		if got := replays() - before; got != 3 {
			t.Errorf("mode %v, 4 runs: %d replays, want 3", mode, got)
		}
	}
	// A named statement of the same text shares it; closing the name
	// leaves the unnamed path working.
	if _, err := c.Prepare(ctx, "named7", "SELECT 7"); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ {
		var n int
		if err := c.QueryRow(ctx, "SELECT 7", pgx.QueryExecModeExec).Scan(&n); err != nil || n != 7 {
			t.Fatalf("unnamed SELECT 7: %d %v", n, err)
		}
	}
	if err := c.Deallocate(ctx, "named7"); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := c.QueryRow(ctx, "SELECT 7", pgx.QueryExecModeExec).Scan(&n); err != nil || n != 7 {
		t.Fatalf("after closing the named statement: %d %v", n, err)
	}
	// A setting the result depends on is honoured after a SET.
	const ts = "SELECT '2024-01-01 00:00:00+00'::timestamptz::text"
	var f string
	mustExec(t, c, "SET TimeZone = 'UTC'")
	if err := c.QueryRow(ctx, ts, pgx.QueryExecModeExec).Scan(&f); err != nil || f != "2024-01-01 00:00:00+00" {
		t.Fatalf("in UTC: %q %v", f, err)
	}
	mustExec(t, c, "SET TimeZone = 'Asia/Tokyo'")
	if err := c.QueryRow(ctx, ts, pgx.QueryExecModeExec).Scan(&f); err != nil || f != "2024-01-01 09:00:00+09" {
		t.Fatalf("after SET TimeZone: %q %v", f, err)
	}
	// So is a prepared statement DuckDB planned before the SET (it folds
	// constant expressions when it plans): pgx caches this one by name.
	const tsFrom = "SELECT '2024-01-01 00:00:00+00'::timestamptz::text FROM (VALUES (1)) v"
	for _, want := range []string{"2024-01-01 00:00:00+00", "2024-01-01 09:00:00+09"} {
		zone := "UTC"
		if strings.HasSuffix(want, "+09") {
			zone = "Asia/Tokyo"
		}
		mustExec(t, c, "SET TimeZone = '"+zone+"'")
		if err := c.QueryRow(ctx, tsFrom).Scan(&f); err != nil || f != want {
			t.Fatalf("prepared, in %s: %q %v, want %q", zone, f, err, want)
		}
	}
	// In an aborted transaction the kept statement is refused like any other.
	tx, err := c.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, "SELECT 1/0"); sqlstate(err) != "22012" {
		t.Fatalf("division by zero: %v", err)
	}
	if err := tx.QueryRow(ctx, "SELECT 7", pgx.QueryExecModeExec).Scan(&n); sqlstate(err) != "25P02" {
		t.Fatalf("constant in an aborted transaction: %v, want 25P02", err)
	}
	if err := tx.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
}
