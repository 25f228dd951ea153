package tests

import (
	"context"
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// tableRows reads "id:val" pairs of a query, sorted.
func tableRows(t *testing.T, c *pgx.Conn, sql string) []string {
	t.Helper()
	rows, err := c.Query(context.Background(), sql)
	if err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id int64
		var v *string
		if err := rows.Scan(&id, &v); err != nil {
			t.Fatal(err)
		}
		s := "NULL"
		if v != nil {
			s = *v
		}
		out = append(out, fmt.Sprintf("%d:%s", id, s))
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	sort.Strings(out)
	return out
}

// TestStorageTimeTravelMatchesModel applies random INSERT, UPDATE, DELETE,
// COPY and TRUNCATE statements to a table and to a model in memory, and
// checks that every version read back with AT (VERSION => v) is exactly the
// model's state after the statement that made it — also after VACUUM
// merged the files and after a restart.
func TestStorageTimeTravelMatchesModel(t *testing.T) {
	srv := startServer(t)
	ctx := context.Background()
	c := srv.connect(t)
	mustExec(t, c, "CREATE TABLE tt (id bigint PRIMARY KEY, val text)")
	rng := rand.New(rand.NewSource(7))
	model := map[int64]string{}
	snapshot := func() []string {
		var out []string
		for id, v := range model {
			out = append(out, fmt.Sprintf("%d:%s", id, v))
		}
		sort.Strings(out)
		return out
	}
	versions := map[int64][]string{0: nil}
	version := func() int64 {
		var v int64
		if err := c.QueryRow(ctx, "SELECT version FROM hopsql.tables WHERE table_name = 'tt'").Scan(&v); err != nil {
			t.Fatal(err)
		}
		return v
	}
	next := int64(1)
	for step := 0; step < 40; step++ {
		switch op := rng.Intn(10); {
		case op < 4: // INSERT a few rows
			n := 1 + rng.Intn(5)
			var vals []string
			for i := 0; i < n; i++ {
				v := fmt.Sprintf("v%d", rng.Intn(1000))
				vals = append(vals, fmt.Sprintf("(%d, '%s')", next, v))
				model[next] = v
				next++
			}
			mustExec(t, c, "INSERT INTO tt VALUES "+strings.Join(vals, ", "))
		case op < 6: // UPDATE a range
			lo := rng.Int63n(next)
			v := fmt.Sprintf("u%d", step)
			mustExec(t, c, fmt.Sprintf("UPDATE tt SET val = '%s' WHERE id BETWEEN %d AND %d", v, lo, lo+3))
			for id := range model {
				if id >= lo && id <= lo+3 {
					model[id] = v
				}
			}
		case op < 8: // DELETE by a predicate over values
			lo := rng.Int63n(next)
			mustExec(t, c, fmt.Sprintf("DELETE FROM tt WHERE id %% 7 = %d %% 7 AND id > %d", lo, lo))
			for id := range model {
				if id%7 == lo%7 && id > lo {
					delete(model, id)
				}
			}
		case op < 9: // COPY
			var b strings.Builder
			for i := 0; i < 3; i++ {
				fmt.Fprintf(&b, "%d\tc%d\n", next, step)
				model[next] = fmt.Sprintf("c%d", step)
				next++
			}
			if _, err := c.PgConn().CopyFrom(ctx, strings.NewReader(b.String()), "COPY tt FROM STDIN"); err != nil {
				t.Fatal(err)
			}
		default:
			if rng.Intn(3) == 0 {
				mustExec(t, c, "TRUNCATE tt")
				model = map[int64]string{}
			} else {
				continue
			}
		}
		versions[version()] = snapshot()
	}
	check := func(stage string) {
		t.Helper()
		for v, want := range versions {
			got := tableRows(t, c, fmt.Sprintf("SELECT id, val FROM tt AT (VERSION => %d)", v))
			if strings.Join(got, ",") != strings.Join(want, ",") {
				t.Fatalf("%s: version %d:\n got %v\nwant %v", stage, v, got, want)
			}
		}
		got := tableRows(t, c, "SELECT id, val FROM tt")
		if strings.Join(got, ",") != strings.Join(snapshot(), ",") {
			t.Fatalf("%s: current rows differ from the model", stage)
		}
	}
	check("after the workload")
	if len(versions) < 20 {
		t.Fatalf("only %d versions were made", len(versions))
	}

	// VACUUM merges the files into one, as a new version with the same rows.
	var filesBefore int64
	c.QueryRow(ctx, "SELECT files FROM hopsql.tables WHERE table_name = 'tt'").Scan(&filesBefore)
	mustExec(t, c, "VACUUM tt")
	var files, v int64
	var op string
	if err := c.QueryRow(ctx, "SELECT t.files, t.version, h.operation FROM hopsql.tables t JOIN hopsql.table_history h ON h.table_name = t.table_name AND h.version = t.version WHERE t.table_name = 'tt'").Scan(&files, &v, &op); err != nil {
		t.Fatal(err)
	}
	if filesBefore > 1 && (files != 1 || op != "COMPACT") {
		t.Fatalf("VACUUM: %d files before, %d after, last operation %s", filesBefore, files, op)
	}
	versions[v] = snapshot()
	check("after VACUUM")

	srv.Kill()
	srv.Restart()
	c = srv.connect(t)
	check("after kill -9 and restart")
}

// TestStorageTransactions: snapshot isolation for reads in a transaction
// block, 40001 for write-write conflicts, unique keys across files, and
// concurrent autocommit appends to a keyed table all succeeding.
func TestStorageTransactions(t *testing.T) {
	srv := startServer(t)
	ctx := context.Background()
	a, b := srv.connect(t), srv.connect(t)
	mustExec(t, a, "CREATE TABLE acct (id int PRIMARY KEY, balance int NOT NULL)")
	mustExec(t, a, "INSERT INTO acct SELECT i, 100 FROM range(10) t(i)")

	count := func(c *pgx.Conn) int64 {
		var n int64
		if err := c.QueryRow(ctx, "SELECT count(*) FROM acct").Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	// Snapshot isolation: a's block keeps reading the version it started on.
	mustExec(t, a, "BEGIN ISOLATION LEVEL REPEATABLE READ")
	if n := count(a); n != 10 {
		t.Fatalf("count %d", n)
	}
	mustExec(t, b, "INSERT INTO acct VALUES (10, 5)")
	if n := count(a); n != 10 {
		t.Fatalf("a sees b's commit inside its transaction: %d rows", n)
	}
	if n := count(b); n != 11 {
		t.Fatalf("b does not see its own commit: %d", n)
	}
	mustExec(t, a, "COMMIT")
	if n := count(a); n != 11 {
		t.Fatalf("after COMMIT a sees %d rows, want 11", n)
	}

	// Write-write conflict: both change row 1; the second to commit fails.
	mustExec(t, a, "BEGIN")
	mustExec(t, a, "UPDATE acct SET balance = balance - 10 WHERE id = 1")
	mustExec(t, b, "UPDATE acct SET balance = balance + 1 WHERE id = 1")
	_, err := a.Exec(ctx, "COMMIT")
	if got := sqlstate(err); got != "40001" {
		t.Fatalf("conflicting COMMIT: %v (SQLSTATE %s), want 40001", err, got)
	}
	var bal int
	a.QueryRow(ctx, "SELECT balance FROM acct WHERE id = 1").Scan(&bal)
	if bal != 101 {
		t.Fatalf("balance %d after the failed transaction, want 101", bal)
	}

	// A key already in a committed file.
	_, err = a.Exec(ctx, "INSERT INTO acct VALUES (3, 1)")
	if got := sqlstate(err); got != "23505" {
		t.Fatalf("duplicate key across files: %v", err)
	}
	// A rolled-back transaction leaves nothing.
	mustExec(t, a, "BEGIN")
	mustExec(t, a, "DELETE FROM acct")
	mustExec(t, a, "ROLLBACK")
	if n := count(a); n != 11 {
		t.Fatalf("rolled-back DELETE removed rows: %d left", n)
	}

	// Concurrent autocommit appends to a keyed table: none may fail.
	mustExec(t, a, "CREATE TABLE events (writer int, seq int, PRIMARY KEY (writer, seq))")
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for w := 0; w < 4; w++ {
		c := srv.connect(t)
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < 25; i++ {
				if _, err := c.Exec(ctx, "INSERT INTO events VALUES ($1, $2)", w, i); err != nil {
					errs <- fmt.Errorf("writer %d row %d: %w", w, i, err)
					return
				}
			}
		}(w)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	var n int64
	a.QueryRow(ctx, "SELECT count(*) FROM events").Scan(&n)
	if n != 100 {
		t.Fatalf("%d events, want 100", n)
	}
	// Writes in DuckDB-only syntax would bypass the storage layer: refused,
	// and nothing changes. Queries in DuckDB syntax still run.
	if _, err := a.Exec(ctx, "INSERT INTO events BY NAME SELECT 9 AS writer, 9 AS seq"); err == nil {
		t.Error("an INSERT in DuckDB-only syntax succeeded")
	}
	if _, err := a.Exec(ctx, "CREATE TABLE copied AS FROM events"); sqlstate(err) != "0A000" {
		t.Errorf("CREATE TABLE … AS FROM: %v, want 0A000", err)
	}
	if err := a.QueryRow(ctx, "FROM events SELECT count(*)").Scan(&n); err != nil || n != 100 {
		t.Fatalf("a DuckDB-syntax query: %d, %v", n, err)
	}
	// DDL naming a table (not its view): indexes, comments; a unique index
	// holds across the table's files.
	mustExec(t, a, "CREATE INDEX events_seq ON events (seq)")
	mustExec(t, a, "CREATE TABLE uq (k int, v int)")
	mustExec(t, a, "INSERT INTO uq VALUES (1, 1), (2, 2)")
	mustExec(t, a, "CREATE UNIQUE INDEX uq_v ON public.uq (v)")
	mustExec(t, a, "COMMENT ON TABLE events IS 'who wrote what'")
	mustExec(t, a, "COMMENT ON COLUMN public.events.seq IS 'per writer'")
	mustExec(t, a, "COMMENT ON COLUMN events.writer IS 'who'")
	// A table named like a schema is just a name (and this one does not exist).
	if _, err := a.Exec(ctx, "COMMENT ON TABLE main IS 'x'"); err == nil || sqlstate(err) == "XX000" {
		t.Fatalf("COMMENT ON TABLE main: %v, want a plain error", err)
	}
	var comment string
	if err := a.QueryRow(ctx, "SELECT obj_description('events'::regclass)").Scan(&comment); err != nil || comment != "who wrote what" {
		t.Fatalf("table comment: %q %v", comment, err)
	}
	if _, err := a.Exec(ctx, "INSERT INTO uq VALUES (3, 2)"); sqlstate(err) != "23505" || !strings.Contains(err.Error(), "uq_v") {
		t.Fatalf("a unique index across files: %v", err)
	}
}

// TestStorageSchemaChangesAndExpiry: ALTER TABLE keeps older versions
// readable with their own columns; with a short retention, VACUUM forgets
// replaced versions and their files' blocks are collected; a table with many
// small files is compacted in the background without a VACUUM.
func TestStorageSchemaChangesAndExpiry(t *testing.T) {
	dir := t.TempDir()
	// First with the default retention, so no version expires while the
	// versions are read; then again with a 1 ms one.
	srv := startServerIn(t, dir, nil, "--gc-grace", "1s", "--maintenance-interval", "200ms")
	ctx := context.Background()
	c := srv.connect(t)
	mustExec(t, c, "CREATE TABLE sc (id int, name text)")
	mustExec(t, c, "INSERT INTO sc VALUES (1, 'one'), (2, 'two')")                 // v1
	mustExec(t, c, "ALTER TABLE sc ADD COLUMN score double precision DEFAULT 0.5") // v2
	mustExec(t, c, "ALTER TABLE sc RENAME COLUMN name TO label")                   // v3
	mustExec(t, c, "ALTER TABLE sc DROP COLUMN score")                             // v4
	for _, tc := range []struct {
		v    int
		cols string
	}{{1, "id,name"}, {2, "id,name,score"}, {3, "id,label,score"}, {4, "id,label"}} {
		rows, err := c.Query(ctx, fmt.Sprintf("SELECT * FROM sc AT (VERSION => %d) ORDER BY id", tc.v))
		if err != nil {
			t.Fatalf("version %d: %v", tc.v, err)
		}
		var names []string
		for _, f := range rows.FieldDescriptions() {
			names = append(names, f.Name)
		}
		n := 0
		for rows.Next() {
			n++
		}
		rows.Close()
		if strings.Join(names, ",") != tc.cols || n != 2 {
			t.Errorf("version %d: columns %v, %d rows; want %s, 2 rows", tc.v, names, n, tc.cols)
		}
	}
	var score float64
	if err := c.QueryRow(ctx, "SELECT score FROM sc AT (VERSION => 2) WHERE id = 1").Scan(&score); err != nil || score != 0.5 {
		t.Fatalf("the default of an added column in the version that added it: %v %v", score, err)
	}

	c.Close(ctx)
	srv.Stop()
	srv = startServerIn(t, dir, nil, "--retention", "1ms", "--gc-grace", "1s", "--maintenance-interval", "200ms")
	c = srv.connect(t)
	// Files of the table: small commits keep theirs inline in the catalog,
	// larger ones in blocks; expiry must let go of both.
	mustExec(t, c, "INSERT INTO sc SELECT i, 'big' || i FROM range(100000, 120000) AS r(i)") // v5, a block
	mustExec(t, c, "DELETE FROM sc WHERE id >= 100000")                                      // v6
	listed := func() int {
		var n int
		if err := c.QueryRow(ctx, "SELECT count(*) FROM fs_ls('/Projects/hopsql/Warehouse/sc')").Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	blocks := func() int {
		n := 0
		filepath.WalkDir(filepath.Join(dir, "blocks"), func(p string, d os.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				n++
			}
			return nil
		})
		return n
	}
	before := blocks()
	time.Sleep(1100 * time.Millisecond) // past the retention and the block grace period
	mustExec(t, c, "VACUUM sc")
	var versions int
	c.QueryRow(ctx, "SELECT count(*) FROM hopsql.table_history WHERE table_name = 'sc'").Scan(&versions)
	if versions != 1 {
		t.Fatalf("%d versions kept after VACUUM with a 1 ms retention, want 1", versions)
	}
	if _, err := c.Exec(ctx, "SELECT * FROM sc AT (VERSION => 1)"); sqlstate(err) != "22023" {
		t.Fatalf("an expired version: %v", err)
	}
	if after := blocks(); after >= before {
		t.Fatalf("%d blocks before expiry, %d after: replaced files were not collected", before, after)
	}
	// Six versions wrote files (most of them inline): one is left.
	if after := listed(); after != 1 {
		t.Fatalf("%d files in the table's directory after expiry, want 1", after)
	}
	if got := tableRows(t, c, "SELECT id, label FROM sc"); strings.Join(got, ",") != "1:one,2:two" {
		t.Fatalf("current rows after expiry: %v", got)
	}

	// Many small commits: the table is compacted in the background.
	mustExec(t, c, "CREATE TABLE many (id int)")
	for i := 0; i < 20; i++ {
		mustExec(t, c, fmt.Sprintf("INSERT INTO many VALUES (%d)", i))
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		var files, n int64
		c.QueryRow(ctx, "SELECT files FROM hopsql.tables WHERE table_name = 'many'").Scan(&files)
		c.QueryRow(ctx, "SELECT count(*) FROM many").Scan(&n)
		if n != 20 {
			t.Fatalf("%d rows in many, want 20", n)
		}
		if files < 16 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("still %d files after 20 s: no background compaction", files)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
