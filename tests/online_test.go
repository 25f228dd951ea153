package tests

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
)

// onlineRows runs a query and renders its rows as text.
func onlineRows(t *testing.T, c *pgx.Conn, sql string, args ...any) string {
	t.Helper()
	return strings.Join(valueRows(t, c, sql, args...), ";")
}

// valueRows runs a query and prints each row's values as pgx decodes them.
func valueRows(t *testing.T, c *pgx.Conn, sql string, args ...any) []string {
	t.Helper()
	rows, err := c.Query(context.Background(), sql, args...)
	if err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		vals, err := rows.Values()
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, fmt.Sprint(vals))
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return out
}

// TestOnlineStoreMatchesDuckDB: lookups of online.<g> by key are answered
// from memory and must always equal what DuckDB answers for the same query
// (made ineligible for the fast path by an ORDER BY) — after random
// inserts, replaced rows, late rows, updates, deletes and compaction, and
// after a restart. hopsql.online_store shows the lookups were served from
// memory.
func TestOnlineStoreMatchesDuckDB(t *testing.T) {
	rng, seed := seededRand(t)
	dir := t.TempDir()
	srv := startServerIn(t, dir, nil)
	ctx := context.Background()
	c := srv.connect(t)
	mustExec(t, c, "CREATE FEATURE GROUP g (k bigint, ts timestamp, v bigint, s text) PRIMARY KEY (k) EVENT TIME (ts) ONLINE")
	mustExec(t, c, "CREATE FEATURE GROUP pair (a int, b text, x double precision) PRIMARY KEY (a, b) ONLINE")

	const keys = 30
	next := 0
	compare := func(when string) int {
		t.Helper()
		n := 0
		for i := 0; i < 12; i++ {
			k := int64(rng.Intn(keys + 5))
			fast := onlineRows(t, c, "SELECT * FROM online.g WHERE k = $1", k)
			slow := onlineRows(t, c, "SELECT * FROM online.g WHERE k = $1 ORDER BY k", k)
			if fast != slow {
				t.Fatalf("%s (seed %d): key %d: memory %q, DuckDB %q", when, seed, k, fast, slow)
			}
			n++
		}
		a, b := int64(rng.Intn(keys)), int64(rng.Intn(keys))
		fast := onlineRows(t, c, fmt.Sprintf("SELECT v, k FROM online.g WHERE k IN (%d, %d, 999)", a, b))
		slow := onlineRows(t, c, fmt.Sprintf("SELECT v, k FROM online.g WHERE k IN (%d, %d, 999) ORDER BY (k = %d) DESC, k", a, b, a))
		if fast != slow && a != b {
			t.Fatalf("%s (seed %d): IN (%d, %d): memory %q, DuckDB %q", when, seed, a, b, fast, slow)
		}
		return n + 1
	}
	fastQueries := 0
	for step := 0; step < 40; step++ {
		switch op := rng.Intn(10); {
		case op < 4:
			var vals []string
			for n := 1 + rng.Intn(6); n > 0; n-- {
				vals = append(vals, fmt.Sprintf("(%d, TIMESTAMP '2024-01-01' + INTERVAL '%d minutes', %d, 's%d')", rng.Intn(keys), rng.Intn(100), next, next))
				next++
			}
			mustExec(t, c, "INSERT INTO g VALUES "+strings.Join(vals, ", "))
		case op < 5:
			var b strings.Builder
			for n := 300; n > 0; n-- {
				fmt.Fprintf(&b, "%d,2024-01-01 00:%02d:00,%d,copy\n", rng.Intn(keys), rng.Intn(60), next)
				next++
			}
			if _, err := c.PgConn().CopyFrom(ctx, strings.NewReader(b.String()), "COPY g FROM STDIN (FORMAT csv)"); err != nil {
				t.Fatal(err)
			}
		case op < 6:
			mustExec(t, c, fmt.Sprintf("UPDATE g SET v = v + 1000000 WHERE k = %d", rng.Intn(keys)))
		case op < 8:
			mustExec(t, c, fmt.Sprintf("DELETE FROM g WHERE k = %d AND ts >= TIMESTAMP '2024-01-01' + INTERVAL '%d minutes'", rng.Intn(keys), rng.Intn(100)))
		default:
			mustExec(t, c, "VACUUM g")
		}
		fastQueries += compare(fmt.Sprintf("step %d", step))
	}
	var lookups, builds int64
	if err := c.QueryRow(ctx, "SELECT lookups, builds FROM hopsql.online_store WHERE name = 'g'").Scan(&lookups, &builds); err != nil {
		t.Fatal(err)
	}
	if lookups == 0 || builds > 40 {
		t.Fatalf("online store: %d keys answered from memory, %d builds", lookups, builds)
	}

	// A composite key.
	mustExec(t, c, "INSERT INTO pair VALUES (1, 'a', 0.5), (1, 'b', 1.5), (2, 'a', 2.5)")
	mustExec(t, c, "INSERT INTO pair VALUES (1, 'b', 9.5)")
	if got := onlineRows(t, c, "SELECT x FROM online.pair WHERE a = $1 AND b = $2", 1, "b"); got != "[9.5]" {
		t.Fatalf("composite key: %s", got)
	}
	// Inside a transaction block the session's own writes count: DuckDB answers.
	mustExec(t, c, "BEGIN")
	mustExec(t, c, "INSERT INTO g VALUES (777, '2024-01-01', 1, 'tx')")
	if got := onlineRows(t, c, "SELECT s FROM online.g WHERE k = $1", 777); got != "[tx]" {
		t.Fatalf("in a transaction: %s", got)
	}
	mustExec(t, c, "ROLLBACK")
	if got := onlineRows(t, c, "SELECT s FROM online.g WHERE k = $1", 777); got != "" {
		t.Fatalf("after ROLLBACK: %s", got)
	}

	srv.Stop()
	srv = startServerIn(t, dir, nil)
	c = srv.connect(t)
	compare("after a restart")
	if got := onlineRows(t, c, "SELECT x FROM online.pair WHERE a = 1 AND b = 'b'"); got != "[9.5]" {
		t.Fatalf("composite key after a restart: %s", got)
	}
	if _, err := c.Exec(ctx, "CREATE FEATURE GROUP offline_only (k int) PRIMARY KEY (k)"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Exec(ctx, "SELECT * FROM online.offline_only WHERE k = 1"); sqlstate(err) != "42P01" {
		t.Fatalf("online lookup of a feature group that is not ONLINE: %v", err)
	}
}

// TestOnlineFeatureViewMatchesDuckDB: online.<feature view> joins the
// latest rows of its feature groups by the serving key. Lookups by key are
// answered from the groups' stores and must equal what DuckDB answers for
// the same query on the session view (made ineligible for the fast path by
// an ORDER BY), for LEFT and inner joins, keys present in some groups only
// or none, after random writes and a restart; the stores' lookup counters
// show the fast path ran.
func TestOnlineFeatureViewMatchesDuckDB(t *testing.T) {
	rng, seed := seededRand(t)
	srv := startServer(t)
	ctx := context.Background()
	c := srv.connect(t)
	mustExec(t, c, "CREATE FEATURE GROUP tx (cc bigint, ts timestamp, amount double precision, cat text) PRIMARY KEY (cc) EVENT TIME (ts) ONLINE")
	mustExec(t, c, "CREATE FEATURE GROUP profile (card bigint, tier text, since date) PRIMARY KEY (card) ONLINE")
	mustExec(t, c, "CREATE TABLE labels (cc bigint, label_ts timestamp, fraud boolean)")
	mustExec(t, c, `CREATE FEATURE VIEW fv EVENT TIME (label_ts) AS
		SELECT l.cc, l.label_ts, l.fraud, t.amount, t.cat, p.tier, since AS customer_since
		FROM labels l LEFT JOIN tx t USING (cc) LEFT JOIN profile p ON l.cc = p.card`)
	mustExec(t, c, `CREATE FEATURE VIEW both_fv EVENT TIME (label_ts) AS
		SELECT l.cc, t.amount, p.tier FROM labels l JOIN tx t USING (cc) JOIN profile p ON p.card = l.cc`)

	const keys = 25
	compare := func(when string) {
		t.Helper()
		for i := 0; i < 10; i++ {
			k := int64(rng.Intn(keys + 3))
			for _, q := range []string{"SELECT * FROM online.fv WHERE cc = $1", "SELECT tier, amount FROM online.both_fv WHERE cc = $1"} {
				got := onlineRows(t, c, q, k)
				want := onlineRows(t, c, q+" ORDER BY 1", k)
				if got != want {
					t.Fatalf("%s (seed %d): %s with %d: memory %q, DuckDB %q", when, seed, q, k, got, want)
				}
			}
		}
		a, b := rng.Intn(keys+3), rng.Intn(keys+3)
		if a == b {
			return
		}
		q := fmt.Sprintf("SELECT cc, cat, customer_since FROM online.fv WHERE cc IN (%d, %d)", a, b)
		got := onlineRows(t, c, q)
		want := onlineRows(t, c, q+fmt.Sprintf(" ORDER BY (cc = %d) DESC", a))
		if got != want {
			t.Fatalf("%s (seed %d): %s: memory %q, DuckDB %q", when, seed, q, got, want)
		}
	}
	for step := 0; step < 30; step++ {
		switch op := rng.Intn(6); {
		case op < 3:
			var vals []string
			for n := 1 + rng.Intn(5); n > 0; n-- {
				vals = append(vals, fmt.Sprintf("(%d, TIMESTAMP '2024-01-01' + INTERVAL '%d minutes', %d, 'c%d')", rng.Intn(keys), rng.Intn(50), rng.Intn(1000), rng.Intn(4)))
			}
			mustExec(t, c, "INSERT INTO tx VALUES "+strings.Join(vals, ", "))
		case op < 5:
			mustExec(t, c, fmt.Sprintf("INSERT INTO profile VALUES (%d, 't%d', DATE '2020-01-01' + %d)", rng.Intn(keys), rng.Intn(3), rng.Intn(900)))
		default:
			mustExec(t, c, fmt.Sprintf("DELETE FROM profile WHERE card = %d", rng.Intn(keys)))
		}
		compare(fmt.Sprintf("step %d", step))
	}
	// The fast path ran: a key both groups hold, looked up 10 times, is 20
	// rows read from the stores.
	mustExec(t, c, "INSERT INTO tx VALUES (999, '2024-01-01', 1, 'c0')")
	mustExec(t, c, "INSERT INTO profile VALUES (999, 't0', '2020-01-01')")
	lookups := func() int64 {
		var n int64
		if err := c.QueryRow(ctx, "SELECT sum(lookups) FROM hopsql.online_store").Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	onlineRows(t, c, "SELECT * FROM online.fv WHERE cc = $1", 999) // builds the stores
	before := lookups()
	for i := 0; i < 10; i++ {
		if got := onlineRows(t, c, "SELECT * FROM online.fv WHERE cc = $1", 999); !strings.HasPrefix(got, "[999 ") {
			t.Fatalf("key 999: %s", got)
		}
	}
	if n := lookups() - before; n != 20 {
		t.Fatalf("10 lookups of a key both groups hold read %d rows from memory, want 20", n)
	}
	// The label's columns other than the key are not features.
	if names := columnNames(t, c, "SELECT * FROM online.fv WHERE cc = 1"); names != "cc,amount,cat,tier,customer_since" {
		t.Fatalf("online.fv's columns: %s", names)
	}

	srv.Stop()
	srv.Restart()
	c = srv.connect(t)
	compare("after a restart")

	// A view whose groups are not all ONLINE, or that computes, has no online form.
	mustExec(t, c, "CREATE FEATURE GROUP offline_g (cc bigint, x int) PRIMARY KEY (cc)")
	mustExec(t, c, "CREATE FEATURE VIEW mixed AS SELECT l.cc, o.x FROM labels l LEFT JOIN offline_g o USING (cc)")
	mustExec(t, c, "CREATE FEATURE VIEW computed EVENT TIME (label_ts) AS SELECT l.cc, t.amount * 2 AS double_amount FROM labels l LEFT JOIN tx t USING (cc)")
	mustExec(t, c, "CREATE FEATURE VIEW filtered EVENT TIME (label_ts) AS SELECT l.cc, t.amount FROM labels l LEFT JOIN tx t USING (cc) WHERE t.amount > 0")
	mustExec(t, c, "CREATE FEATURE VIEW fresh EVENT TIME (label_ts) TTL INTERVAL '1 day' AS SELECT l.cc, t.amount FROM labels l LEFT JOIN tx t USING (cc)")
	for _, q := range []string{"SELECT * FROM online.mixed WHERE cc = 1", "SELECT * FROM online.computed WHERE cc = 1",
		"SELECT * FROM online.filtered WHERE cc = 1", "SELECT * FROM online.fresh WHERE cc = 1"} {
		if _, err := c.Exec(ctx, q); sqlstate(err) != "0A000" {
			t.Errorf("%s: got %v, want 0A000", q, err)
		}
	}
}
