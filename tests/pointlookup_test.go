package tests

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// Lookups of a plain table by primary key are answered from the node's
// memory once the table has been read by key often enough since it last
// changed (engine/pointlookup.go). Whatever the path, the answer must be
// DuckDB's: each lookup is compared with the same query made ineligible
// for the fast path (an ORDER BY), after random inserts, updates, deletes,
// COPYs and compactions, in binary and text results, and the counters
// must show that memory answered.

// lookupRows runs a query and returns its rows, sorted (a lookup of
// several keys has no order).
func lookupRows(t *testing.T, c *pgx.Conn, mode pgx.QueryExecMode, sql string, args ...any) string {
	t.Helper()
	out := valueRows(t, c, sql, append([]any{mode}, args...)...)
	slices.Sort(out)
	return strings.Join(out, ";")
}

func memoryLookups(t *testing.T, c *pgx.Conn) int64 {
	t.Helper()
	var n int64
	if err := c.QueryRow(context.Background(), "SELECT value FROM hopsql.server_counters WHERE name = 'point_lookups_memory'").Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestPointLookupMatchesDuckDB(t *testing.T) {
	rng, seed := seededRand(t)
	srv := startServer(t)
	ctx := context.Background()
	c := srv.connect(t)
	mustExec(t, c, "CREATE TABLE pl (id bigint PRIMARY KEY, x double precision, s text, ts timestamp, b boolean, n integer)")
	mustExec(t, c, "INSERT INTO pl SELECT i, i * 0.5, 'row-' || i, TIMESTAMP '2024-01-01' + i * INTERVAL '1 second', i % 2 = 0, "+
		"CASE WHEN i % 7 = 0 THEN NULL ELSE i % 50 END FROM range(3000) r(i)")
	mustExec(t, c, "CREATE TABLE pair (a integer, b text, v double precision, PRIMARY KEY (a, b))")
	mustExec(t, c, "INSERT INTO pair SELECT i % 40, 'k' || (i / 40), i * 1.25 FROM range(400) r(i)")

	modes := []pgx.QueryExecMode{pgx.QueryExecModeCacheStatement, pgx.QueryExecModeSimpleProtocol}
	check := func(when, fastSQL, slowSQL string, args ...any) {
		t.Helper()
		for _, m := range modes {
			fast := lookupRows(t, c, m, fastSQL, args...)
			slow := lookupRows(t, c, m, slowSQL, args...)
			if fast != slow {
				t.Fatalf("%s (seed %d, mode %v): %s %v\nfast path: %q\nDuckDB:    %q", when, seed, m, fastSQL, args, fast, slow)
			}
		}
	}
	next := int64(10000)
	// touched are keys the last writes inserted, changed or deleted: the
	// lookups most likely to meet a stale row.
	var touched []int64
	lookups := func(when string) {
		keys := append([]int64(nil), touched...)
		for i := 0; i < 15; i++ {
			keys = append(keys, rng.Int63n(3200))
		}
		for _, k := range keys {
			check(when, "SELECT * FROM pl WHERE id = $1", "SELECT * FROM pl WHERE id = $1 ORDER BY id", k)
		}
		a, b, d := rng.Int63n(3200), rng.Int63n(3200), next+5
		check(when, "SELECT s, id, x FROM pl WHERE id IN ($1, $2, $3)", "SELECT s, id, x FROM pl WHERE id IN ($1, $2, $3) ORDER BY id", a, b, d)
		check(when, fmt.Sprintf("SELECT ts, b FROM public.pl WHERE id = %d", a), fmt.Sprintf("SELECT ts, b FROM public.pl WHERE id = %d ORDER BY 1", a))
		pa, pb := rng.Intn(42), fmt.Sprintf("k%d", rng.Intn(11))
		check(when, "SELECT v FROM pair WHERE a = $1 AND b = $2", "SELECT v FROM pair WHERE a = $1 AND b = $2 ORDER BY v", pa, pb)
		check(when, "SELECT * FROM pair WHERE b = $1 AND a = $2", "SELECT * FROM pair WHERE b = $1 AND a = $2 ORDER BY v", pb, pa)
		// Not the key: every matching row, from DuckDB.
		check(when, "SELECT id FROM pl WHERE n = $1", "SELECT id FROM pl WHERE n = $1 ORDER BY id", rng.Intn(50))
	}
	before := memoryLookups(t, c)
	lookups("initial")
	// Constants of other forms match as PostgreSQL compares them.
	for _, k := range []string{"'05'", "' 7 '", "5.0", "'12'::bigint", "12::bigint", "-0", "9223372036854775807", "99999999999999999999"} {
		for i := 0; i < 10; i++ {
			check("constant "+k, "SELECT id, s FROM pl WHERE id = "+k, "SELECT id, s FROM pl WHERE id = "+k+" ORDER BY id")
		}
	}
	for step := 0; step < 24; step++ {
		if len(touched) > 12 {
			touched = touched[len(touched)-12:]
		}
		switch op := rng.Intn(6); op {
		case 0:
			mustExec(t, c, fmt.Sprintf("INSERT INTO pl VALUES (%d, %d.25, 'new', '2025-01-01', true, 3)", next, next))
			touched = append(touched, next)
			next++
		case 1:
			k := rng.Int63n(3000)
			mustExec(t, c, fmt.Sprintf("UPDATE pl SET x = x + 1000, s = s || '+' WHERE id = %d", k))
			mustExec(t, c, fmt.Sprintf("UPDATE pair SET v = -v WHERE a = %d", rng.Intn(40)))
			touched = append(touched, k)
		case 2:
			k := rng.Int63n(3000)
			mustExec(t, c, fmt.Sprintf("DELETE FROM pl WHERE id = %d OR id = %d", k, next-1))
			touched = append(touched, k, next-1)
		case 3:
			var b strings.Builder
			for n := 0; n < 200; n++ {
				fmt.Fprintf(&b, "%d,%d.5,copy,2025-02-01 00:00:00,false,\n", next, next)
				if n%50 == 0 {
					touched = append(touched, next)
				}
				next++
			}
			if _, err := c.PgConn().CopyFrom(ctx, strings.NewReader(b.String()), "COPY pl FROM STDIN (FORMAT csv)"); err != nil {
				t.Fatal(err)
			}
		case 4:
			mustExec(t, c, "VACUUM pl")
		}
		lookups(fmt.Sprintf("step %d", step))
	}
	if n := memoryLookups(t, c) - before; n < 100 {
		t.Fatalf("only %d lookups were answered from memory", n)
	}

	// Inside a transaction block the block's own writes count: DuckDB
	// answers, and the next autocommit lookup sees the table as committed.
	mustExec(t, c, "BEGIN")
	mustExec(t, c, "UPDATE pl SET s = 'in tx' WHERE id = 1")
	if got := lookupRows(t, c, pgx.QueryExecModeCacheStatement, "SELECT s FROM pl WHERE id = $1", 1); got != "[in tx]" {
		t.Fatalf("in a transaction: %s", got)
	}
	mustExec(t, c, "ROLLBACK")
	check("after a rollback", "SELECT * FROM pl WHERE id = $1", "SELECT * FROM pl WHERE id = $1 ORDER BY id", 1)

	// Another session's commit is seen by the next lookup.
	other := srv.connect(t)
	for i := 0; i < 20; i++ {
		lookupRows(t, c, pgx.QueryExecModeCacheStatement, "SELECT s FROM pl WHERE id = $1", 2)
	}
	mustExec(t, other, "UPDATE pl SET s = 'other session' WHERE id = 2")
	if got := lookupRows(t, c, pgx.QueryExecModeCacheStatement, "SELECT s FROM pl WHERE id = $1", 2); got != "[other session]" {
		t.Fatalf("after another session's commit: %s", got)
	}

	// A table dropped and created again under the same name is another
	// table: none of the old rows may answer.
	for i := 0; i < 20; i++ {
		lookupRows(t, c, pgx.QueryExecModeSimpleProtocol, "SELECT * FROM pl WHERE id = 5")
	}
	mustExec(t, c, "DROP TABLE pl")
	mustExec(t, c, "CREATE TABLE pl (id bigint PRIMARY KEY, s text)")
	mustExec(t, c, "INSERT INTO pl VALUES (6, 'recreated')")
	for i := 0; i < 20; i++ {
		if got := lookupRows(t, c, pgx.QueryExecModeSimpleProtocol, "SELECT * FROM pl WHERE id = 5"); got != "" {
			t.Fatalf("lookup %d after DROP and CREATE: %q", i, got)
		}
		if got := lookupRows(t, c, pgx.QueryExecModeSimpleProtocol, "SELECT * FROM pl WHERE id = 6"); got != "[6 recreated]" {
			t.Fatalf("lookup %d after DROP and CREATE: %q", i, got)
		}
	}

	// A table without a primary key has no fast path: every duplicate.
	mustExec(t, c, "CREATE TABLE nokey (id bigint, v text)")
	mustExec(t, c, "INSERT INTO nokey VALUES (1, 'a'), (1, 'b'), (2, 'c')")
	for i := 0; i < 20; i++ {
		if got := lookupRows(t, c, pgx.QueryExecModeCacheStatement, "SELECT v FROM nokey WHERE id = $1", 1); got != "[a];[b]" {
			t.Fatalf("table without a key: %q", got)
		}
	}
}

// hopsql.point_lookups shows a table's kept rows: read once (a build),
// brought forward by an INSERT (a catch-up, not a second build), and
// released after --point-lookup-idle without a lookup.
func TestPointLookupFollowsInsertsAndReleasesIdleRows(t *testing.T) {
	srv := startServer(t, "--maintenance-interval", "1s", "--point-lookup-idle", "1s")
	ctx := context.Background()
	c := srv.connect(t)
	mustExec(t, c, "CREATE TABLE kv (k bigint PRIMARY KEY, v text)")
	mustExec(t, c, "INSERT INTO kv SELECT i, 'v' || i FROM range(100) r(i)")
	state := func() (keys int64, loaded bool, builds, catchUps int64) {
		t.Helper()
		if err := c.QueryRow(ctx, "SELECT keys, loaded, builds, catch_ups FROM hopsql.point_lookups WHERE name = 'kv'").Scan(&keys, &loaded, &builds, &catchUps); err != nil {
			t.Fatal(err)
		}
		return
	}
	lookup := func(k int64, want string) {
		t.Helper()
		var v string
		if err := c.QueryRow(ctx, "SELECT v FROM kv WHERE k = $1", k).Scan(&v); err != nil || v != want {
			t.Fatalf("k = %d: %q, %v; want %q", k, v, err, want)
		}
	}
	for i := int64(0); i < 20; i++ {
		lookup(i, fmt.Sprintf("v%d", i))
	}
	if keys, loaded, builds, catchUps := state(); !loaded || keys != 100 || builds != 1 || catchUps != 0 {
		t.Fatalf("after 20 lookups: keys %d, loaded %v, builds %d, catch-ups %d; want 100 keys from one build", keys, loaded, builds, catchUps)
	}
	mustExec(t, c, "INSERT INTO kv VALUES (100, 'new')")
	lookup(100, "new")
	if keys, loaded, builds, catchUps := state(); !loaded || keys != 101 || builds != 1 || catchUps != 1 {
		t.Fatalf("after an INSERT: keys %d, loaded %v, builds %d, catch-ups %d; want 101 keys, one build, one catch-up", keys, loaded, builds, catchUps)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		if _, loaded, _, _ := state(); !loaded {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the rows were not released after a second without lookups")
		}
		time.Sleep(200 * time.Millisecond)
	}
	for i := int64(0); i < 20; i++ {
		lookup(100-i, map[bool]string{true: "new", false: fmt.Sprintf("v%d", 100-i)}[i == 0])
	}
	if _, loaded, builds, _ := state(); !loaded || builds != 2 {
		t.Fatalf("after lookups resumed: loaded %v, builds %d; want the rows read again", loaded, builds)
	}
}

// Lookups from several sessions while another session keeps changing the
// looked-up rows: each session's reads of a key must never go back in
// time (a later autocommit statement sees at least what an earlier one
// saw), whichever session brought the kept rows forward, and after the
// writes stop every session sees the last value.
func TestPointLookupConcurrentWritesAreMonotonic(t *testing.T) {
	srv := startServer(t)
	ctx := context.Background()
	w := srv.connect(t)
	mustExec(t, w, "CREATE TABLE mono (k bigint PRIMARY KEY, v bigint)")
	mustExec(t, w, "INSERT INTO mono SELECT i, 0 FROM range(2000) r(i)")
	before := memoryLookups(t, w)
	stop := make(chan struct{})
	errs := make(chan error, 8)
	var wg sync.WaitGroup
	for r := 0; r < 4; r++ {
		c := srv.connect(t)
		wg.Add(1)
		go func() {
			defer wg.Done()
			last := map[int64]int64{}
			for {
				select {
				case <-stop:
					errs <- nil
					return
				default:
				}
				for _, k := range []int64{7, 1500} {
					var v int64
					if err := c.QueryRow(ctx, "SELECT v FROM mono WHERE k = $1", k).Scan(&v); err != nil {
						errs <- fmt.Errorf("k = %d: %w", k, err)
						return
					}
					if v < last[k] {
						errs <- fmt.Errorf("k = %d went back from %d to %d", k, last[k], v)
						return
					}
					last[k] = v
				}
			}
		}()
	}
	deadline := time.Now().Add(4 * time.Second)
	n := 0
	for ; time.Now().Before(deadline); n++ {
		mustExec(t, w, "UPDATE mono SET v = v + 1 WHERE k = 7 OR k = 1500")
		if n%5 == 0 {
			mustExec(t, w, fmt.Sprintf("INSERT INTO mono VALUES (%d, 0)", 100000+n))
		}
	}
	close(stop)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	for r := 0; r < 3; r++ {
		c := srv.connect(t)
		for i := 0; i < 12; i++ {
			var v int64
			if err := c.QueryRow(ctx, "SELECT v FROM mono WHERE k = $1", int64(7)).Scan(&v); err != nil || v != int64(n) {
				t.Fatalf("after %d updates: v = %d, %v", n, v, err)
			}
		}
	}
	got := memoryLookups(t, w) - before
	t.Logf("%d updates; %d lookups answered from memory", n, got)
	if got == 0 {
		t.Fatal("no lookup was answered from memory")
	}
}
