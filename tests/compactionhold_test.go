package tests

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestCompactionLeavesOpenWritesAlone: background compaction skips the
// files an open transaction rewrites (UPDATE, DELETE; all of them for
// TRUNCATE and ALTER), so that
// its COMMIT does not fail with 40001 because of a merge no client asked
// for. Each case: a table with one small (inline) file, a transaction that
// rewrites it, another client's commit adding a second small file — which
// the maintenance loop would merge with the first — and COMMIT.
func TestCompactionLeavesOpenWritesAlone(t *testing.T) {
	srv := startServer(t, "--maintenance-interval", "50ms")
	ctx := context.Background()
	c := srv.connect(t)
	other := srv.connect(t)
	for i, x := range []struct{ stmt, want string }{
		{"UPDATE t%d SET v = v + 100 WHERE k = 1", "1|101;2|2"},
		{"DELETE FROM t%d WHERE k = 1", "2|2"},
	} {
		stmt := fmt.Sprintf(x.stmt, i)
		table := fmt.Sprintf("t%d", i)
		mustExec(t, c, "CREATE TABLE "+table+" (k int PRIMARY KEY, v int)")
		mustExec(t, c, "INSERT INTO "+table+" VALUES (1, 1)")
		mustExec(t, c, "BEGIN")
		mustExec(t, c, stmt)
		mustExec(t, other, "INSERT INTO "+table+" VALUES (2, 2)")
		time.Sleep(400 * time.Millisecond) // many maintenance rounds
		if _, err := c.Exec(ctx, "COMMIT"); err != nil {
			t.Fatalf("%s: COMMIT: %v", stmt, err)
		}
		if got := strings.Join(textRows(t, c, "SELECT k, v FROM "+table+" ORDER BY k"), ";"); got != x.want {
			t.Fatalf("after %s: %s, want %s", stmt, got, x.want)
		}
	}
	// Once the transactions ended, the small files are merged.
	var files int
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if err := other.QueryRow(ctx, "SELECT files FROM hopsql.tables WHERE table_name = 't0'").Scan(&files); err != nil {
			t.Fatal(err)
		}
		if files == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("t0 still has %d files", files)
		}
	}
}
