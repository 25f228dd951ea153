package tests

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// TestScanCacheReadsTheSameRows: scans read uncompressed copies of table
// blocks once the scan cache has them. Every read — full scans, filters,
// time travel, an UPDATE's copy-on-write, after a restart — must give
// exactly what a server without the cache gives for the same statements,
// and copies go when their blocks are collected.
func TestScanCacheReadsTheSameRows(t *testing.T) {
	plain := startServer(t, "--scan-cache-bytes", "0")
	cached := startServer(t, "--retention", "1ms", "--gc-grace", "1ms")
	pc, cc := plain.connect(t), cached.connect(t)
	both := func(sql string) {
		t.Helper()
		mustExec(t, pc, sql)
		mustExec(t, cc, sql)
	}
	same := func(when, sql string) {
		t.Helper()
		a := strings.Join(textRows(t, pc, sql), ";")
		b := strings.Join(textRows(t, cc, sql), ";")
		if a != b {
			t.Fatalf("%s: %s\nwithout cache: %.300s\nwith cache:    %.300s", when, sql, a, b)
		}
		if a == "" {
			t.Fatalf("%s: %s returned nothing", when, sql)
		}
	}
	entries := func() string {
		t.Helper()
		return textRows(t, cc, "SELECT entries FROM hopsql.scan_cache")[0]
	}
	both(`CREATE TABLE t (id bigint PRIMARY KEY, x double precision, d numeric(12,3), s text, b boolean, ts timestamp,
		tz timestamptz, day date, iv interval, u uuid, arr int[], j json)`)
	both(`INSERT INTO t SELECT i, i / 7.0, i * 1.125, 'row-' || i, i % 3 = 0, TIMESTAMP '2024-01-01' + i * INTERVAL '1 minute',
		TIMESTAMPTZ '2024-01-01 00:00:00+02' + i * INTERVAL '1 hour', DATE '2024-01-01' + CAST(i % 400 AS int),
		(i - 500) * INTERVAL '1 second', CAST('00000000-0000-0000-0000-' || lpad(CAST(i AS text), 12, '0') AS uuid),
		ARRAY[i, i + 1], CAST('{"i":' || i || '}' AS json) FROM generate_series(1, 2000) AS g(i)`)
	both("INSERT INTO t VALUES (0, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)")
	// The commit of a Parquet block has the background copy it.
	for deadline := time.Now().Add(20 * time.Second); entries() == "0"; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the scan cache stayed empty after a commit")
		}
	}
	queries := []string{
		"SELECT * FROM t ORDER BY id",
		"SELECT count(*), sum(x), sum(d), min(s), max(ts), max(tz), min(iv), count(DISTINCT u) FROM t",
		"SELECT id, arr, j FROM t WHERE id BETWEEN 100 AND 120 ORDER BY id",
	}
	readsCopies := func(c *pgx.Conn) bool {
		t.Helper()
		return textRows(t, c, "SELECT position('scan-cache' IN sql) > 0 FROM duckdb_views() WHERE view_name = 't' AND temporary")[0] == "t"
	}
	for _, q := range append(queries, "SELECT * FROM t AT (VERSION => 1) WHERE id % 97 = 0 ORDER BY id") {
		same("cached", q)
	}
	if !readsCopies(cc) || readsCopies(pc) {
		t.Fatal("the session's view of t does not read the scan cache's copy (or the server without one does)")
	}
	mustExec(t, cc, "VACUUM t") // compacts, expires, collects, fills the cache again
	if entries() == "0" {
		t.Fatal("VACUUM left the scan cache empty")
	}
	for _, q := range queries {
		same("after VACUUM", q)
	}
	// Copy-on-write reads the blocks themselves (it needs file names).
	both("UPDATE t SET s = 'changed' WHERE id % 500 = 0")
	both("DELETE FROM t WHERE id BETWEEN 10 AND 19")
	mustExec(t, cc, "VACUUM t")
	for _, q := range queries {
		same("after UPDATE, DELETE and VACUUM", q)
	}
	cached.Stop()
	cached.Restart()
	cc = cached.connect(t)
	for _, q := range queries[:3] {
		same("after a restart", q)
	}
	// With versions expired and blocks collected, their copies go too:
	// what remains is at most one copy per current file.
	time.Sleep(10 * time.Millisecond)
	mustExec(t, cc, "VACUUM")
	files, _ := strconv.Atoi(textRows(t, cc, "SELECT files FROM hopsql.tables WHERE table_name = 't'")[0])
	if e, _ := strconv.Atoi(entries()); e > files || e == 0 {
		t.Fatalf("%d copies for %d current files", e, files)
	}
	same("after collection", queries[0])
	if !readsCopies(cc) {
		t.Fatal("after collection the view of t does not read the copy")
	}
}
