package tests

import (
	"context"
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
