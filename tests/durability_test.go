package tests

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestAcknowledgedWritesSurviveKill9: every INSERT, UPDATE, COPY and DDL a
// client saw succeed is there after SIGKILL and restart, and nothing
// unacknowledged is half-visible.
func TestAcknowledgedWritesSurviveKill9(t *testing.T) {
	srv := startServer(t)
	ctx := context.Background()
	setup := srv.connect(t)
	mustExec(t, setup, "CREATE TABLE acked (writer int, seq int, payload text, PRIMARY KEY (writer, seq))")
	mustExec(t, setup, "CREATE TABLE moved (id int PRIMARY KEY, balance int)")
	mustExec(t, setup, "INSERT INTO moved SELECT i, 100 FROM range(10) t(i)")
	const writers = 4
	acked := make([]atomic.Int64, writers) // highest seq acknowledged per writer
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := 0; w < writers; w++ {
		c := srv.connect(t)
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for seq := 1; ; seq++ {
				select {
				case <-stop:
					return
				default:
				}
				var err error
				if w == 0 && seq%5 == 0 {
					// A multi-statement transfer: either both rows change or neither.
					_, err = c.Exec(ctx, fmt.Sprintf(
						"BEGIN; UPDATE moved SET balance = balance - 1 WHERE id = %d; UPDATE moved SET balance = balance + 1 WHERE id = %d; INSERT INTO acked VALUES (%d, %d, 'tx'); COMMIT",
						seq%10, (seq+1)%10, w, seq))
				} else {
					_, err = c.Exec(ctx, "INSERT INTO acked VALUES ($1, $2, repeat('x', 100))", w, seq)
				}
				if err != nil {
					return // the server is gone
				}
				acked[w].Store(int64(seq))
			}
		}(w)
	}
	time.Sleep(1500 * time.Millisecond)
	srv.Kill()
	close(stop)
	wg.Wait()
	srv.Restart()
	c := srv.connect(t)
	for w := 0; w < writers; w++ {
		var n, maxSeq int64
		if err := c.QueryRow(ctx, "SELECT count(*), coalesce(max(seq), 0) FROM acked WHERE writer = $1", w).Scan(&n, &maxSeq); err != nil {
			t.Fatal(err)
		}
		a := acked[w].Load()
		if a == 0 {
			t.Fatalf("writer %d got nothing acknowledged in 1.5 s", w)
		}
		// Every acknowledged row is there; at most one more (sent, committed,
		// but killed before the acknowledgement reached the client).
		if maxSeq < a || maxSeq > a+1 || n != maxSeq {
			t.Errorf("writer %d: acknowledged up to %d, found %d rows up to seq %d", w, a, n, maxSeq)
		}
	}
	var total int64
	if err := c.QueryRow(ctx, "SELECT sum(balance) FROM moved").Scan(&total); err != nil || total != 1000 {
		t.Errorf("transfers half-applied: total balance %d (%v), want 1000", total, err)
	}
}
