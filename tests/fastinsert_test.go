package tests

import (
	"context"
	"fmt"
	"math"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"
)

// The single-row INSERT path (engine/fastinsert.go) makes a row's stored
// text in Go instead of through DuckDB. These tests hold it to what the
// carrier path does: a server with --small-commit-rows 0 takes neither
// path and is the reference.

// TestSingleRowInsertStoresWhatDuckDBWould: every value of every handled
// type, bound in binary and text and written as a constant, reads back as
// the same text from both servers, before and after compaction.
func TestSingleRowInsertStoresWhatDuckDBWould(t *testing.T) {
	fast := startServer(t)
	ref := startServer(t, "--small-commit-rows", "0")
	ctx := context.Background()
	fc, rc := fast.connect(t), ref.connect(t)
	const ddl = `CREATE TABLE v (id bigint PRIMARY KEY, i int, s smallint, d double precision, r real, b boolean, t text, vc varchar(20))`
	mustExec(t, fc, ddl)
	mustExec(t, rc, ddl)
	type row struct {
		i  any
		s  any
		d  any
		r  any
		b  any
		t  any
		vc any
	}
	rows := []row{
		{int32(0), int16(0), 0.0, float32(0), false, "", ""},
		{int32(math.MaxInt32), int16(math.MaxInt16), math.MaxFloat64, float32(math.MaxFloat32), true, "ünïcødé ✓", "x"},
		{int32(math.MinInt32), int16(math.MinInt16), -math.SmallestNonzeroFloat64, float32(-math.SmallestNonzeroFloat32), true, `quote " and \ and '`, "tab\there"},
		{nil, nil, nil, nil, nil, nil, nil},
		{int32(-1), int16(-1), math.Copysign(0, -1), float32(1.5), false, "line\nbreak", "{\"json\": 1}"},
		{int32(7), int16(8), math.Inf(1), float32(math.Inf(-1)), true, "0.1", "1e21"},
		{int32(9), int16(10), math.NaN(), float32(math.NaN()), false, "NULL", "null"},
		{int32(11), int16(12), 0.1, float32(0.1), true, strings.Repeat("long ", 2000), "v"},
		{int32(13), int16(14), 1e21, float32(1e-7), false, "x", "y"},
		{int32(15), int16(16), 123456789.125, float32(3.4e38), true, "x", "y"},
		{int32(17), int16(18), 1e-5, float32(16777216), false, "x", "y"},
	}
	const ins = "INSERT INTO v VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
	for n, r := range rows {
		for _, mode := range []pgx.QueryExecMode{pgx.QueryExecModeCacheStatement, pgx.QueryExecModeExec} {
			id := n*2 + 1
			if mode == pgx.QueryExecModeExec {
				id++ // text format parameters
			}
			for _, c := range []*pgx.Conn{fc, rc} {
				if _, err := c.Exec(ctx, ins, mode, id, r.i, r.s, r.d, r.r, r.b, r.t, r.vc); err != nil {
					t.Fatalf("row %d (%v): %v", id, mode, err)
				}
			}
		}
	}
	// Constants, and a column list in another order with an omitted
	// nullable column.
	for _, sql := range []string{
		"INSERT INTO v VALUES (100, 1, 2, 1.25, 2.5, true, 'const', 'c')",
		"INSERT INTO v VALUES (101, -1, -2, -3, -4, false, '', NULL)",
		"INSERT INTO v (t, id, d) VALUES ('reordered', 102, 1e300)",
		"INSERT INTO v VALUES (103, NULL, NULL, 5, 6, NULL, NULL, NULL)",
	} {
		mustExec(t, fc, sql)
		mustExec(t, rc, sql)
	}
	const q = "SELECT id, i, s, d, r, b, t, vc, d::text, r::text FROM v ORDER BY id"
	compare := func(when string) {
		t.Helper()
		a, b := textRows(t, fc, q), textRows(t, rc, q)
		if len(a) != len(rows)*2+4 {
			t.Fatalf("%s: %d rows, want %d", when, len(a), len(rows)*2+4)
		}
		for i := range a {
			if a[i] != b[i] {
				t.Fatalf("%s: row %d differs\nsingle-row path: %.300s\ncarrier:         %.300s", when, i, a[i], b[i])
			}
		}
	}
	compare("inline")
	var inline int
	if err := fc.QueryRow(ctx, "SELECT count(*) FROM fs_ls('/Projects/hopsql/Warehouse/v') WHERE stored = 'inline' AND name LIKE '%.json'").Scan(&inline); err != nil || inline != len(rows)*2+4 {
		t.Fatalf("%d inline files (%v); want one per INSERT (the stored form both small-write paths share)", inline, err)
	}
	mustExec(t, fc, "VACUUM v")
	compare("after compaction")
}

// TestSingleRowInsertErrorsAsCarrier: what the single-row path cannot
// decide goes the carrier's way, with PostgreSQL's SQLSTATE at the
// statement that caused it.
func TestSingleRowInsertErrorsAsCarrier(t *testing.T) {
	srv := startServer(t)
	ctx := context.Background()
	c := srv.connect(t)
	mustExec(t, c, `CREATE TABLE e (id bigint PRIMARY KEY, n int NOT NULL, d text DEFAULT 'dflt', pos double precision CHECK (pos > 0), u int UNIQUE)`)
	mustExec(t, c, "CREATE TABLE plain (id bigint PRIMARY KEY, n int NOT NULL, label text)")
	const ins = "INSERT INTO plain VALUES ($1, $2, $3)"
	mustExec(t, c, ins, 1, 1, "one")
	for _, tc := range []struct {
		name, state string
		sql         string
		args        []any
	}{
		{"duplicate of a committed key", "23505", ins, []any{1, 2, "dup"}},
		{"NULL into NOT NULL", "23502", ins, []any{2, nil, "null"}},
		{"integer out of range", "22003", "INSERT INTO plain VALUES (3, 1099511627776, 'big')", nil},
		{"text that is not an integer", "22P02", "INSERT INTO plain VALUES (4, 'four', 'x')", nil},
		{"CHECK", "23514", "INSERT INTO e (id, n, pos) VALUES ($1, $2, $3)", []any{1, 1, -1.0}},
		{"unknown column", "42703", "INSERT INTO plain (id, nope) VALUES ($1, $2)", []any{5, 5}},
	} {
		if _, err := c.Exec(ctx, tc.sql, tc.args...); sqlstate(err) != tc.state {
			t.Errorf("%s: %v, want %s", tc.name, err, tc.state)
		}
	}
	// A default is DuckDB's to fill; a unique column is checked like the key.
	mustExec(t, c, "INSERT INTO e (id, n, pos, u) VALUES ($1, $2, $3, $4)", 2, 2, 2.5, 7)
	if _, err := c.Exec(ctx, "INSERT INTO e (id, n, pos, u) VALUES ($1, $2, $3, $4)", 3, 3, 3.5, 7); sqlstate(err) != "23505" {
		t.Errorf("duplicate of a UNIQUE column: %v, want 23505", err)
	}
	if got := textRows(t, c, "SELECT id, n, d, pos, u FROM e ORDER BY id"); strings.Join(got, ";") != "2|2|dflt|2.5|7" {
		t.Errorf("e holds %q", got)
	}
	if got := textRows(t, c, "SELECT id, n, label FROM plain ORDER BY id"); strings.Join(got, ";") != "1|1|one" {
		t.Errorf("failed INSERTs left rows: %q", got)
	}
}

// TestSingleRowInsertJoinsItsPipeline: an INSERT's row belongs to the
// implicit transaction of its pipeline until Sync, as in PostgreSQL.
func TestSingleRowInsertJoinsItsPipeline(t *testing.T) {
	srv := startServer(t)
	ctx := context.Background()
	c := srv.connect(t)
	mustExec(t, c, "CREATE TABLE p (id bigint PRIMARY KEY, x int)")
	count := func() string {
		t.Helper()
		return strings.Join(textRows(t, c, "SELECT count(*), coalesce(sum(x), 0) FROM p"), ";")
	}

	// A later statement of the pipeline reads the row.
	b := &pgx.Batch{}
	b.Queue("INSERT INTO p VALUES ($1, $2)", 1, 10)
	b.Queue("SELECT count(*) FROM p WHERE id = $1", 1)
	br := c.SendBatch(ctx, b)
	if _, err := br.Exec(); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := br.QueryRow().Scan(&n); err != nil || n != 1 {
		t.Fatalf("the pipeline's SELECT saw %d rows (%v), want its INSERT's row", n, err)
	}
	if err := br.Close(); err != nil {
		t.Fatal(err)
	}

	// A failure later in the pipeline undoes the INSERT.
	b = &pgx.Batch{}
	b.Queue("INSERT INTO p VALUES ($1, $2)", 2, 20)
	b.Queue("SELECT 1 / $1::int", 0)
	if err := c.SendBatch(ctx, b).Close(); sqlstate(err) != "22012" {
		t.Fatalf("pipeline with a division by zero: %v, want 22012", err)
	}
	// So does a duplicate of the pipeline's own row.
	b = &pgx.Batch{}
	b.Queue("INSERT INTO p VALUES ($1, $2)", 3, 30)
	b.Queue("INSERT INTO p VALUES ($1, $2)", 3, 31)
	if err := c.SendBatch(ctx, b).Close(); sqlstate(err) != "23505" {
		t.Fatalf("pipeline inserting one key twice: %v, want 23505", err)
	}
	if got := count(); got != "1|10" {
		t.Fatalf("after the failed pipelines p holds count|sum %s, want 1|10", got)
	}

	// Several INSERTs in one pipeline commit together.
	b = &pgx.Batch{}
	for i := 4; i < 8; i++ {
		b.Queue("INSERT INTO p VALUES ($1, $2)", i, i)
	}
	if err := c.SendBatch(ctx, b).Close(); err != nil {
		t.Fatal(err)
	}
	// An explicit transaction block: rolled back, nothing stays.
	mustExec(t, c, "BEGIN")
	mustExec(t, c, "INSERT INTO p VALUES ($1, $2)", 100, 100)
	mustExec(t, c, "ROLLBACK")
	if got := count(); got != "5|32" {
		t.Fatalf("p holds count|sum %s, want 5|32", got)
	}
	// Multi-statement simple query: one implicit transaction.
	if _, err := c.Exec(ctx, "INSERT INTO p VALUES (8, 8); INSERT INTO p VALUES (8, 9)", pgx.QueryExecModeSimpleProtocol); sqlstate(err) != "23505" {
		t.Fatalf("simple query inserting one key twice: %v, want 23505", err)
	}
	if got := count(); got != "5|32" {
		t.Fatalf("after the failed simple query p holds count|sum %s, want 5|32", got)
	}
}

// TestSingleRowInsertsRace: writers of overlapping keys share the Raft
// log's batches; each key is taken exactly once, and every acknowledged
// row survives a kill -9.
func TestSingleRowInsertsRace(t *testing.T) {
	srv := startServer(t)
	ctx := context.Background()
	c := srv.connect(t)
	mustExec(t, c, "CREATE TABLE r (id bigint PRIMARY KEY, w int, s text)")
	const writers, keys = 6, 150
	acked := make([]map[int]bool, writers)
	var wg sync.WaitGroup
	for w := 0; w < writers; w++ {
		acked[w] = map[int]bool{}
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			wc := srv.connect(t)
			defer wc.Close(ctx)
			for k := 0; k < keys; k++ {
				id := (k*7 + w*3) % keys // writers collide on every key
				_, err := wc.Exec(ctx, "INSERT INTO r VALUES ($1, $2, $3)", id, w, fmt.Sprint("w", w))
				switch {
				case err == nil:
					acked[w][id] = true
				case sqlstate(err) != "23505":
					t.Errorf("writer %d key %d: %v", w, id, err)
					return
				}
			}
		}(w)
	}
	wg.Wait()
	owner := map[int]int{}
	for w, m := range acked {
		for id := range m {
			if prev, dup := owner[id]; dup {
				t.Fatalf("key %d acknowledged to writers %d and %d", id, prev, w)
			}
			owner[id] = w
		}
	}
	if len(owner) != keys {
		t.Fatalf("%d keys acknowledged, want all %d", len(owner), keys)
	}
	srv.Kill()
	srv.Restart()
	c = srv.connect(t)
	got := textRows(t, c, "SELECT id, w FROM r ORDER BY id")
	if len(got) != keys {
		t.Fatalf("after kill -9: %d rows, want %d", len(got), keys)
	}
	for _, line := range got {
		var id, w int
		if _, err := fmt.Sscanf(line, "%d|%d", &id, &w); err != nil || owner[id] != w {
			t.Fatalf("after kill -9: row %q, acknowledged to writer %d", line, owner[id])
		}
	}
}

// TestPreparedReadSeesLaterWrites: a statement prepared before a write in
// the same transaction (a cached statement, a pipeline's next one) reads
// the written rows: DuckDB planned it over the carrier as it was then and
// prunes scans by the statistics it saw, so it is prepared again.
func TestPreparedReadSeesLaterWrites(t *testing.T) {
	srv := startServer(t)
	ctx := context.Background()
	c := srv.connect(t)
	mustExec(t, c, "CREATE TABLE w (id int PRIMARY KEY, v text)")
	const q = "SELECT count(*) FROM w WHERE id = 20" // a constant: prunable
	var n int
	if err := c.QueryRow(ctx, q).Scan(&n); err != nil || n != 0 {
		t.Fatalf("empty table: %d (%v)", n, err)
	}
	tx, err := c.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	mustExec(t, c, "INSERT INTO w VALUES (20, 'm')")
	if err := tx.QueryRow(ctx, q).Scan(&n); err != nil || n != 1 {
		t.Fatalf("cached statement after an INSERT in the transaction: %d rows (%v), want 1", n, err)
	}
	if err := tx.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	b := &pgx.Batch{}
	b.Queue("INSERT INTO w VALUES (20, 'm')")
	b.Queue(q)
	br := c.SendBatch(ctx, b)
	if _, err := br.Exec(); err != nil {
		t.Fatal(err)
	}
	if err := br.QueryRow().Scan(&n); err != nil || n != 1 {
		t.Fatalf("cached statement after an INSERT in its pipeline: %d rows (%v), want 1", n, err)
	}
	if err := br.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestRowByRowCompactionKeepsUp: a table written row by row by concurrent
// sessions is compacted as it goes (the rows end up in few files), but
// each compaction waits until the table is due again — 256 inline files or
// 1,024 inline rows, storage.CompactionDue — rather than one running per
// request queued meanwhile, which merged a handful of rows at a time and
// cost a block, an fsync and a log entry each (a third of the server's
// CPU under bench (g)). Every acknowledged row is there afterwards.
func TestRowByRowCompactionKeepsUp(t *testing.T) {
	srv := startServer(t)
	ctx := context.Background()
	c := srv.connect(t)
	mustExec(t, c, "CREATE TABLE rc (id bigint PRIMARY KEY, w int, s text)")
	before, _ := counterPair(t, c, "compactions", "inserts_direct")
	const writers, each = 8, 600
	var wg sync.WaitGroup
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			wc := srv.connect(t)
			defer wc.Close(ctx)
			for k := 0; k < each; k++ {
				if _, err := wc.Exec(ctx, "INSERT INTO rc VALUES ($1, $2, 'x')", w*each+k, w); err != nil {
					t.Errorf("writer %d row %d: %v", w, k, err)
					return
				}
			}
		}(w)
	}
	wg.Wait()
	after, direct := counterPair(t, c, "compactions", "inserts_direct")
	const rows = writers * each
	if direct < rows {
		t.Fatalf("%d INSERTs took the direct path, want all %d (the test measures that path)", direct, rows)
	}
	// 4,800 rows make at most ~19 blocks of 256 rows and one Parquet merge
	// of 16 of them; a maintenance round (one a minute) may add one more.
	// The churn this guards against made one per ~12 rows (~400 here).
	if n := after - before; n < 1 || n > 40 {
		t.Fatalf("%d compactions for %d single-row INSERTs, want 1..40", n, rows)
	}
	if got := textRows(t, c, "SELECT count(*), count(DISTINCT id) FROM rc"); got[0] != "4800|4800" {
		t.Fatalf("rows after compaction: %v", got)
	}
}
