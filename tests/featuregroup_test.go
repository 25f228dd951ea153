package tests

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
)

// TestFeatureGroupReplacesRows drives a feature group with random writes —
// single rows (inline files), batches with repeated keys, COPY of hundreds of
// rows (Parquet files), updates, deletes, compaction — and after each checks
// the table against a model in which a row is identified by (key, event
// time) and the one written last wins. Every version read back by time
// travel must equal the model as it was.
func TestFeatureGroupReplacesRows(t *testing.T) {
	rng, seed := seededRand(t)
	srv := startServer(t)
	ctx := context.Background()
	c := srv.connect(t)
	mustExec(t, c, "CREATE FEATURE GROUP fg (k int, ts timestamp, v bigint, note text) PRIMARY KEY (k) EVENT TIME (ts)")

	type key struct{ k, day int }
	model := map[key]int64{}
	render := func(m map[key]int64) string {
		var rows []string
		for kk, v := range m {
			rows = append(rows, fmt.Sprintf("%03d|2024-01-%02d 00:00:00|%d", kk.k, kk.day, v))
		}
		sort.Strings(rows)
		return strings.Join(rows, ";")
	}
	read := func(q string) string {
		var rows []string
		for _, r := range textRows(t, c, q) {
			f := strings.SplitN(r, "|", 3)
			var k int
			fmt.Sscan(f[0], &k)
			rows = append(rows, fmt.Sprintf("%03d|%s|%s", k, f[1], f[2]))
		}
		sort.Strings(rows)
		return strings.Join(rows, ";")
	}
	snapshots := map[int64]string{}
	next := int64(1)
	for step := 0; step < 60; step++ {
		var what string
		switch op := rng.Intn(10); {
		case op < 3:
			kk := key{rng.Intn(20), 1 + rng.Intn(5)}
			v := next
			next++
			what = fmt.Sprintf("INSERT (%d, day %d)", kk.k, kk.day)
			mustExec(t, c, fmt.Sprintf("INSERT INTO fg VALUES (%d, '2024-01-%02d', %d, 'single')", kk.k, kk.day, v))
			model[kk] = v
		case op < 5:
			var vals []string
			for n := 1 + rng.Intn(10); n > 0; n-- {
				kk := key{rng.Intn(20), 1 + rng.Intn(5)}
				vals = append(vals, fmt.Sprintf("(%d, '2024-01-%02d', %d, 'batch')", kk.k, kk.day, next))
				model[kk] = next
				next++
			}
			what = "INSERT batch"
			mustExec(t, c, "INSERT INTO fg VALUES "+strings.Join(vals, ", "))
		case op < 6:
			var b strings.Builder
			for n := 300 + rng.Intn(300); n > 0; n-- {
				kk := key{rng.Intn(60), 1 + rng.Intn(5)}
				fmt.Fprintf(&b, "%d,2024-01-%02d,%d,copy\n", kk.k, kk.day, next)
				model[kk] = next
				next++
			}
			what = "COPY"
			if _, err := c.PgConn().CopyFrom(ctx, strings.NewReader(b.String()), "COPY fg FROM STDIN (FORMAT csv)"); err != nil {
				t.Fatalf("step %d COPY: %v", step, err)
			}
		case op < 8:
			k := rng.Intn(20)
			what = fmt.Sprintf("UPDATE k=%d", k)
			mustExec(t, c, fmt.Sprintf("UPDATE fg SET v = v + 1000000 WHERE k = %d", k))
			for kk := range model {
				if kk.k == k {
					model[kk] += 1000000
				}
			}
		case op < 9:
			kk := key{rng.Intn(20), 1 + rng.Intn(5)}
			what = fmt.Sprintf("DELETE (%d, day %d)", kk.k, kk.day)
			mustExec(t, c, fmt.Sprintf("DELETE FROM fg WHERE k = %d AND ts = '2024-01-%02d'", kk.k, kk.day))
			delete(model, kk)
		default:
			what = "VACUUM"
			mustExec(t, c, "VACUUM fg")
		}
		want := render(model)
		if got := read("SELECT k, ts, v FROM fg"); got != want {
			t.Fatalf("step %d (%s, seed %d):\n got %s\nwant %s", step, what, seed, got, want)
		}
		var v int64
		if err := c.QueryRow(ctx, "SELECT COALESCE(max(version), 0) FROM hopsql.table_history WHERE table_name = 'fg'").Scan(&v); err != nil {
			t.Fatal(err)
		}
		snapshots[v] = want
	}
	for v, want := range snapshots {
		if got := read(fmt.Sprintf("SELECT k, ts, v FROM fg AT (VERSION => %d)", v)); got != want {
			t.Fatalf("version %d (seed %d):\n got %s\nwant %s", v, seed, got, want)
		}
	}
	var n, distinct int
	if err := c.QueryRow(ctx, "SELECT count(*), count(DISTINCT (k, ts)) FROM fg").Scan(&n, &distinct); err != nil || n != distinct {
		t.Fatalf("rows %d, distinct keys %d (%v)", n, distinct, err)
	}
}

// TestFeatureGroupDefinition: the statements' errors, the catalog's record
// (also after a restart), NOT NULL keys, a key column that cannot go, and
// concurrent writers of the same key.
func TestFeatureGroupDefinition(t *testing.T) {
	dir := t.TempDir()
	srv := startServerIn(t, dir, nil)
	ctx := context.Background()
	c := srv.connect(t)
	for _, tc := range []struct{ sql, code string }{
		{"CREATE FEATURE GROUP bad (a int, b int)", "42P16"},
		{"CREATE FEATURE GROUP bad (a int PRIMARY KEY, b int) PRIMARY KEY (a)", "42P16"},
		{"CREATE FEATURE GROUP bad (a int, b int, UNIQUE (b)) PRIMARY KEY (a)", "42P16"},
		{"CREATE FEATURE GROUP bad (a int, b int) PRIMARY KEY (c)", "42703"},
		{"CREATE FEATURE GROUP bad (a int, b text) PRIMARY KEY (a) EVENT TIME (b)", "42804"},
		{"CREATE FEATURE GROUP bad (a int) PRIMARY KEY (a) NONSENSE", "42601"},
		{"CREATE FEATURE GROUP bad PRIMARY KEY (z) AS SELECT 1 AS a", "42703"},
		{"DROP FEATURE GROUP missing", "42704"},
	} {
		if _, err := c.Exec(ctx, tc.sql); sqlstate(err) != tc.code {
			t.Errorf("%s: %v, want %s", tc.sql, err, tc.code)
		}
	}
	if got := textRows(t, c, "SELECT count(*) FROM hopsql.tables WHERE table_name = 'bad'"); got[0] != "0" {
		t.Fatalf("a refused CREATE FEATURE GROUP left a table: %v", got)
	}
	mustExec(t, c, "CREATE TABLE plain (a int)")
	if _, err := c.Exec(ctx, "DROP FEATURE GROUP plain"); sqlstate(err) != "42809" {
		t.Fatalf("DROP FEATURE GROUP of a table: %v", err)
	}
	mustExec(t, c, "CREATE FEATURE GROUP users (id int, region text, score double precision, day date) PRIMARY KEY (id, region) EVENT TIME (day) DESCRIPTION 'it''s users'")
	mustExec(t, c, "CREATE FEATURE GROUP IF NOT EXISTS users (id int) PRIMARY KEY (id)")
	for _, q := range []string{
		"INSERT INTO users VALUES (NULL, 'eu', 1, '2024-01-01')",
		"INSERT INTO users VALUES (1, NULL, 1, '2024-01-01')",
		"INSERT INTO users VALUES (1, 'eu', 1, NULL)",
	} {
		if _, err := c.Exec(ctx, q); sqlstate(err) != "23502" {
			t.Fatalf("%s: %v, want 23502", q, err)
		}
	}
	if _, err := c.Exec(ctx, "ALTER TABLE users DROP COLUMN region"); sqlstate(err) != "2BP01" {
		t.Fatalf("dropping a key column: %v", err)
	}
	mustExec(t, c, "ALTER TABLE users ADD COLUMN tier int") // other changes are fine
	mustExec(t, c, "INSERT INTO users VALUES (1, 'eu', 0.5, '2024-01-01', 1), (1, 'us', 0.7, '2024-01-01', 2)")

	// Two sessions writing the same key and event time at once: both rows
	// never survive; the loser may get 40001.
	var wg sync.WaitGroup
	for w := 0; w < 2; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			wc := srv.connect(t)
			defer wc.Close(ctx)
			for i := 0; i < 20; i++ {
				_, err := wc.Exec(ctx, "INSERT INTO users VALUES (7, 'eu', $1, '2024-02-01', $2)", float64(i), w)
				if err != nil && sqlstate(err) != "40001" {
					t.Errorf("writer %d: %v", w, err)
					return
				}
			}
		}(w)
	}
	wg.Wait()
	if got := textRows(t, c, "SELECT count(*) FROM users WHERE id = 7"); got[0] != "1" {
		t.Fatalf("concurrent writers of one key and event time left %s rows", got[0])
	}

	srv.Stop()
	srv = startServerIn(t, dir, nil)
	c = srv.connect(t)
	want := "users|1|{id,region}|day|f|it's users|{id,region,score,day,tier}|3"
	if got := textRows(t, c, "SELECT name, version, primary_key, event_time, online, description, features, rows FROM hopsql.feature_groups"); strings.Join(got, ";") != want {
		t.Fatalf("after a restart: %v, want %s", got, want)
	}
	mustExec(t, c, "INSERT INTO users VALUES (1, 'eu', 0.9, '2024-01-01', 3)")
	if got := textRows(t, c, "SELECT score, tier FROM users WHERE id = 1 AND region = 'eu'"); strings.Join(got, ";") != "0.9|3" {
		t.Fatalf("replace after a restart: %v", got)
	}
	mustExec(t, c, "DROP FEATURE GROUP users")
	if got := textRows(t, c, "SELECT count(*) FROM hopsql.feature_groups"); got[0] != "0" {
		t.Fatalf("after DROP: %v", got)
	}
}

// TestFeatureGroupVersions: additive changes keep a feature group's
// version, breaking ones make the next, and every version stays readable
// with its own columns.
func TestFeatureGroupVersions(t *testing.T) {
	srv := startServer(t)
	ctx := context.Background()
	c := srv.connect(t)
	mustExec(t, c, "CREATE FEATURE GROUP g (k int, ts timestamp, a int, b text) PRIMARY KEY (k) EVENT TIME (ts)") // no data: version 0
	mustExec(t, c, "INSERT INTO g VALUES (1, '2024-01-01', 10, 'x')")                                             // snapshot 1
	mustExec(t, c, "ALTER FEATURE GROUP g ADD COLUMN c double precision")                                         // 2, additive
	mustExec(t, c, "ALTER TABLE g ALTER COLUMN a TYPE bigint")                                                    // 3, breaking
	mustExec(t, c, "ALTER FEATURE GROUP g RENAME COLUMN b TO label")                                              // 4, breaking
	mustExec(t, c, "ALTER FEATURE GROUP g ADD COLUMN d int")                                                      // 5, additive
	want := "1|0|{k,ts,a,b,c};2|3|{k,ts,a,b,c};3|4|{k,ts,a,label,c,d}"
	if got := strings.Join(textRows(t, c, "SELECT version, first_snapshot, features FROM hopsql.feature_group_versions WHERE name = 'g' ORDER BY version"), ";"); got != want {
		t.Fatalf("versions: %s, want %s", got, want)
	}
	if got := textRows(t, c, "SELECT version FROM hopsql.feature_groups WHERE name = 'g'"); got[0] != "3" {
		t.Fatalf("current version: %v", got)
	}
	// Version 1 as it was, before the first breaking change.
	if names := columnNames(t, c, "SELECT * FROM g AT (VERSION => 2)"); names != "k,ts,a,b,c" {
		t.Fatalf("version 1's columns: %s", names)
	}
	for _, tc := range []struct{ sql, code string }{
		{"ALTER FEATURE GROUP g DROP COLUMN ts", "2BP01"},
		{"ALTER FEATURE GROUP g RENAME COLUMN k TO key", "2BP01"},
		{"ALTER FEATURE GROUP nope ADD COLUMN z int", "42704"},
	} {
		if _, err := c.Exec(ctx, tc.sql); sqlstate(err) != tc.code {
			t.Errorf("%s: %v, want %s", tc.sql, err, tc.code)
		}
	}
	mustExec(t, c, "CREATE TABLE plain (a int)")
	if _, err := c.Exec(ctx, "ALTER FEATURE GROUP plain ADD COLUMN z int"); sqlstate(err) != "42809" {
		t.Fatalf("ALTER FEATURE GROUP on a table: %v", err)
	}
}

// TestFeatureGroupUpdateOntoKey: INSERT replaces a row with the same key
// and event time, but an UPDATE that moves a row onto another row's key and
// event time fails with 23505 — whether that row is in the same file, in
// another file or written earlier in the transaction — and changes nothing.
func TestFeatureGroupUpdateOntoKey(t *testing.T) {
	srv := startServer(t)
	ctx := context.Background()
	c := srv.connect(t)
	mustExec(t, c, "CREATE FEATURE GROUP g (k int, ts date, v int) PRIMARY KEY (k) EVENT TIME (ts)")
	mustExec(t, c, "INSERT INTO g VALUES (1, '2024-01-01', 1), (1, '2024-01-02', 2)") // one file
	mustExec(t, c, "INSERT INTO g VALUES (2, '2024-01-01', 3)")                       // another
	mustExec(t, c, "INSERT INTO g VALUES (1, '2024-01-03', 4)")
	before := strings.Join(textRows(t, c, "SELECT k, ts, v FROM g ORDER BY k, ts"), ";")
	for _, x := range []struct{ sql, detail string }{
		{"UPDATE g SET ts = '2024-01-02' WHERE k = 1 AND ts = '2024-01-01'", "(k, ts)=(1, 2024-01-02)"},
		{"UPDATE g SET ts = '2024-01-03' WHERE k = 1 AND ts = '2024-01-01'", "(k, ts)=(1, 2024-01-03)"},
		{"UPDATE g SET k = 2 WHERE k = 1 AND ts = '2024-01-01'", "(k, ts)=(2, 2024-01-01)"},
		{"UPDATE g SET ts = '2024-01-09'", "(k, ts)=(1, 2024-01-09)"},
	} {
		_, err := c.Exec(ctx, x.sql)
		if sqlstate(err) != "23505" {
			t.Fatalf("%s: got %v, want 23505", x.sql, err)
		}
		var pe *pgconn.PgError
		if errors.As(err, &pe) && !strings.Contains(pe.Detail, x.detail) {
			t.Fatalf("%s: detail %q, want %s", x.sql, pe.Detail, x.detail)
		}
		if got := strings.Join(textRows(t, c, "SELECT k, ts, v FROM g ORDER BY k, ts"), ";"); got != before {
			t.Fatalf("%s changed the table: %s", x.sql, got)
		}
	}
	// A row written earlier in the same transaction.
	mustExec(t, c, "BEGIN")
	mustExec(t, c, "INSERT INTO g VALUES (3, '2024-01-01', 5)")
	if _, err := c.Exec(ctx, "UPDATE g SET k = 3 WHERE k = 2"); sqlstate(err) != "23505" {
		t.Fatalf("onto a row of the transaction: %v", err)
	}
	mustExec(t, c, "ROLLBACK")
	// Moves onto free keys and plain updates work.
	mustExec(t, c, "UPDATE g SET ts = '2024-01-05' WHERE k = 1 AND ts = '2024-01-01'")
	mustExec(t, c, "UPDATE g SET v = v + 10")
	if got := strings.Join(textRows(t, c, "SELECT k, ts, v FROM g ORDER BY k, ts"), ";"); got != "1|2024-01-02|12;1|2024-01-03|14;1|2024-01-05|11;2|2024-01-01|13" {
		t.Fatalf("after the updates: %s", got)
	}
}
