package tests

import (
	"context"
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestCrashHarness runs INSERT, COPY, UPDATE and DELETE loops from several
// clients against Parquet-backed tables, kills the server with SIGKILL at a
// random moment, restarts it and checks that every acknowledged statement is
// there, that no transaction is half-visible, that every retained version
// of every table is readable (no snapshot references a missing file), and,
// at the end, that unreferenced block files are collected. Rounds:
// HOPSQL_CRASH_ROUNDS (default 3; the long run uses 50).
func TestCrashHarness(t *testing.T) {
	rounds := 3
	if v, err := strconv.Atoi(os.Getenv("HOPSQL_CRASH_ROUNDS")); err == nil && v > 0 {
		rounds = v
	}
	dir := t.TempDir()
	srv := startServerIn(t, dir, nil, "--gc-grace", "1s", "--maintenance-interval", "300ms")
	ctx := context.Background()
	setup := srv.connect(t)
	mustExec(t, setup, "CREATE TABLE kv (writer int, seq int, payload text, PRIMARY KEY (writer, seq))")
	mustExec(t, setup, "CREATE TABLE acct (id int PRIMARY KEY, balance int NOT NULL)")
	mustExec(t, setup, "INSERT INTO acct SELECT i, 100 FROM range(10) t(i)")
	setup.Close(ctx)

	const writers = 4
	type ledger struct {
		mu      sync.Mutex
		present map[int]bool // acknowledged rows of kv and whether they must exist
		nextSeq int
	}
	ledgers := make([]*ledger, writers)
	for w := range ledgers {
		ledgers[w] = &ledger{present: map[int]bool{}}
	}
	rng := rand.New(rand.NewSource(time.Now().UnixNano()))
	for round := 0; round < rounds; round++ {
		stop := make(chan struct{})
		var wg sync.WaitGroup
		for w := 0; w < writers; w++ {
			c := srv.connect(t)
			wg.Add(1)
			go func(w int, seed int64) {
				defer wg.Done()
				r := rand.New(rand.NewSource(seed))
				l := ledgers[w]
				for {
					select {
					case <-stop:
						return
					default:
					}
					var err error
					switch op := r.Intn(10); {
					case op < 4:
						seq := l.nextSeq
						l.nextSeq++
						_, err = c.Exec(ctx, "INSERT INTO kv VALUES ($1, $2, 'i')", w, seq)
						if err == nil {
							l.present[seq] = true
						}
					case op < 6:
						first := l.nextSeq
						l.nextSeq += 5
						var b strings.Builder
						for s := first; s < first+5; s++ {
							fmt.Fprintf(&b, "%d,%d,c\n", w, s)
						}
						_, err = c.PgConn().CopyFrom(ctx, strings.NewReader(b.String()), "COPY kv FROM STDIN (FORMAT csv)")
						if err == nil {
							for s := first; s < first+5; s++ {
								l.present[s] = true
							}
						}
					case op < 8:
						// A transfer: both rows change or neither (sum stays 1000).
						from, to := r.Intn(10), r.Intn(10)
						_, err = c.Exec(ctx, fmt.Sprintf("BEGIN; UPDATE acct SET balance = balance - 1 WHERE id = %d; UPDATE acct SET balance = balance + 1 WHERE id = %d; COMMIT", from, to))
						if sqlstate(err) == "40001" {
							err = nil // a lost race, rolled back: nothing to check
						}
					default:
						// Delete one acknowledged row of this writer.
						victim := -1
						for s, ok := range l.present {
							if ok {
								victim = s
								break
							}
						}
						if victim < 0 {
							continue
						}
						// Until acknowledged, the row may or may not survive a kill.
						delete(l.present, victim)
						_, err = c.Exec(ctx, "DELETE FROM kv WHERE writer = $1 AND seq = $2", w, victim)
						if sqlstate(err) == "40001" {
							err = nil
						} else if err == nil {
							l.present[victim] = false
						}
					}
					if err != nil {
						// The server is gone: whatever was in flight may or
						// may not have committed, and is not checked.
						return
					}
				}
			}(w, rng.Int63())
		}
		time.Sleep(time.Duration(300+rng.Intn(1200)) * time.Millisecond)
		srv.Kill()
		close(stop)
		wg.Wait()
		srv.Restart()

		c := srv.connect(t)
		for w, l := range ledgers {
			rows, err := c.Query(ctx, "SELECT seq FROM kv WHERE writer = $1", w)
			if err != nil {
				t.Fatalf("round %d: %v", round, err)
			}
			have := map[int]bool{}
			for rows.Next() {
				var s int
				rows.Scan(&s)
				have[s] = true
			}
			rows.Close()
			for s, want := range l.present {
				if want && !have[s] {
					t.Fatalf("round %d: writer %d row %d was acknowledged but is missing", round, w, s)
				}
				if !want && have[s] {
					t.Fatalf("round %d: writer %d row %d was deleted (acknowledged) but is back", round, w, s)
				}
			}
			// Rows neither acknowledged nor refused (in flight at the kill)
			// may exist; they become part of the ledger either way.
			for s := range have {
				if _, known := l.present[s]; !known {
					l.present[s] = true
				}
			}
		}
		var sum, n int64
		if err := c.QueryRow(ctx, "SELECT sum(balance), count(*) FROM acct").Scan(&sum, &n); err != nil || sum != 1000 || n != 10 {
			t.Fatalf("round %d: acct sum %d over %d rows (%v): a transfer is half-visible", round, sum, n, err)
		}
		// Every retained version of every table is readable.
		hist, err := c.Query(ctx, "SELECT table_name, version FROM hopsql.table_history")
		if err != nil {
			t.Fatal(err)
		}
		type tv struct {
			name string
			v    int64
		}
		var all []tv
		for hist.Next() {
			var x tv
			hist.Scan(&x.name, &x.v)
			all = append(all, x)
		}
		hist.Close()
		for _, x := range all {
			var cnt int64
			if err := c.QueryRow(ctx, fmt.Sprintf("SELECT count(*) FROM %s AT (VERSION => %d)", x.name, x.v)).Scan(&cnt); err != nil {
				t.Fatalf("round %d: %s version %d unreadable: %v", round, x.name, x.v, err)
			}
		}
		c.Close(ctx)
	}

	// Unreferenced blocks (orphans of killed writes) are collected: after
	// the grace period, the block files on disk are exactly the block files
	// the tables' directories list.
	time.Sleep(1500 * time.Millisecond)
	c := srv.connect(t)
	mustExec(t, c, "VACUUM")
	var listed int64
	for _, tbl := range []string{"kv", "acct"} {
		var n int64
		if err := c.QueryRow(ctx, "SELECT count(*) FROM fs_ls($1) WHERE stored = 'block'", "/Projects/hopsql/Warehouse/"+tbl).Scan(&n); err != nil {
			t.Fatal(err)
		}
		listed += n
	}
	onDisk := 0
	filepath.WalkDir(filepath.Join(dir, "blocks"), func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			onDisk++
		}
		return nil
	})
	if int64(onDisk) != listed {
		t.Fatalf("%d block files on disk, %d files referenced", onDisk, listed)
	}
}
