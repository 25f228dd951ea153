package tests

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// noticeConn connects with a handler collecting the NOTICEs it receives;
// configure adjusts the connection's configuration first.
func noticeConn(t *testing.T, srv *server, configure ...func(*pgx.ConnConfig)) (*pgx.Conn, func() []string) {
	t.Helper()
	cfg, err := pgx.ParseConfig(srv.URL("hopsql"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range configure {
		f(cfg)
	}
	var mu sync.Mutex
	var got []string
	cfg.OnNotice = func(_ *pgconn.PgConn, n *pgconn.Notice) {
		mu.Lock()
		got = append(got, n.Message)
		mu.Unlock()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close(context.Background()) })
	return c, func() []string {
		mu.Lock()
		defer mu.Unlock()
		out := got
		got = nil
		return out
	}
}

// TestExpectationsStrictWriteNothing: a STRICT expectation rejects the
// whole INSERT, COPY, UPDATE or MERGE with 23514 and the table keeps exactly
// what it had (same version, same rows); in a transaction block the block
// fails. Committed rows a rewrite carries along unchanged are not checked
// again, even when they would fail an expectation added after them.
func TestExpectationsStrictWriteNothing(t *testing.T) {
	srv := startServer(t)
	ctx := context.Background()
	c := srv.connect(t)
	mustExec(t, c, "CREATE FEATURE GROUP acct (id int, ts timestamp, balance double precision, tier text) PRIMARY KEY (id) EVENT TIME (ts)")
	// Rows written before the expectation exists, one of them failing it.
	mustExec(t, c, "INSERT INTO acct VALUES (1, '2024-01-01', -10, 'a'), (2, '2024-01-01', 5, 'b')")
	mustExec(t, c, "ALTER FEATURE GROUP acct ADD EXPECTATION non_negative CHECK (balance >= 0)")
	state := func() string {
		return strings.Join(textRows(t, c, "SELECT (SELECT max(version) FROM hopsql.table_history WHERE table_name = 'acct')"), "") + "/" +
			strings.Join(textRows(t, c, "SELECT id, ts, balance, tier FROM acct ORDER BY id, ts"), ";")
	}
	before := state()

	var csv strings.Builder
	for i := 0; i < 500; i++ {
		bal := i
		if i == 377 {
			bal = -1
		}
		fmt.Fprintf(&csv, "%d,2024-02-01,%d,x\n", 100+i, bal)
	}
	rejected := []struct {
		what string
		run  func() error
	}{
		{"INSERT", func() error {
			_, err := c.Exec(ctx, "INSERT INTO acct VALUES (3, '2024-01-01', 1, 'c'), (4, '2024-01-01', -0.5, 'd')")
			return err
		}},
		{"INSERT … SELECT", func() error {
			_, err := c.Exec(ctx, "INSERT INTO acct SELECT i, '2024-03-01', 100 - i, 'g' FROM generate_series(1, 300) AS s(i)")
			return err
		}},
		{"COPY", func() error {
			_, err := c.PgConn().CopyFrom(ctx, strings.NewReader(csv.String()), "COPY acct FROM STDIN (FORMAT csv)")
			return err
		}},
		{"UPDATE", func() error {
			_, err := c.Exec(ctx, "UPDATE acct SET balance = balance - 100 WHERE id = 2")
			return err
		}},
		{"MERGE", func() error {
			_, err := c.Exec(ctx, "MERGE INTO acct AS a USING (SELECT 2 AS id, TIMESTAMP '2024-01-01' AS ts, -7.0 AS b) AS s ON a.id = s.id AND a.ts = s.ts "+
				"WHEN MATCHED THEN UPDATE SET balance = s.b")
			return err
		}},
		{"replace on key", func() error {
			_, err := c.Exec(ctx, "INSERT INTO acct VALUES (2, '2024-01-01', -3, 'b')")
			return err
		}},
	}
	for _, r := range rejected {
		err := r.run()
		if sqlstate(err) != "23514" {
			t.Fatalf("%s: got %v, want 23514", r.what, err)
		}
		if !strings.Contains(err.Error(), `violates expectation "non_negative"`) {
			t.Fatalf("%s: message %v", r.what, err)
		}
		if got := state(); got != before {
			t.Fatalf("%s wrote something:\n got %s\nwant %s", r.what, got, before)
		}
	}

	// In a transaction block the failed statement fails the block.
	tx, err := c.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, "INSERT INTO acct VALUES (5, '2024-01-01', 1, 'e')"); err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, "INSERT INTO acct VALUES (6, '2024-01-01', -1, 'f')"); sqlstate(err) != "23514" {
		t.Fatalf("in a block: got %v, want 23514", err)
	}
	if _, err := tx.Exec(ctx, "SELECT 1"); sqlstate(err) != "25P02" {
		t.Fatalf("after the failure: got %v, want 25P02", err)
	}
	tx.Rollback(ctx)
	if got := state(); got != before {
		t.Fatalf("the failed block wrote something:\n got %s\nwant %s", got, before)
	}

	// Rewrites carry row 1 (balance -10, older than the expectation) along
	// unchanged: the writes succeed and row 1 stays as it was.
	mustExec(t, c, "INSERT INTO acct VALUES (2, '2024-01-01', 6, 'b')")
	mustExec(t, c, "UPDATE acct SET tier = 'bb' WHERE id = 2")
	if got := strings.Join(textRows(t, c, "SELECT id, balance, tier FROM acct ORDER BY id"), ";"); got != "1|-10|a;2|6|bb" {
		t.Fatalf("after the rewrites: %s", got)
	}
	got := strings.Join(textRows(t, c, "SELECT snapshot, expectation, rows_checked, rows_failed FROM hopsql.validation_results WHERE feature_group = 'acct' ORDER BY snapshot"), ";")
	if want := "2|non_negative|1|0;3|non_negative|1|0"; got != want {
		t.Fatalf("validation results %s, want %s", got, want)
	}

	// Errors of the statement itself.
	for _, x := range []struct{ sql, code string }{
		{"ALTER FEATURE GROUP acct ADD EXPECTATION non_negative CHECK (balance > 0)", "42710"},
		{"ALTER FEATURE GROUP acct ADD EXPECTATION typo CHECK (balanse > 0)", "42703"},
		{"ALTER FEATURE GROUP acct ADD EXPECTATION agg CHECK (sum(balance) > 0)", ""},
		{"ALTER FEATURE GROUP acct ADD EXPECTATION inj CHECK (balance > 0)) OR (true", "42601"},
		{"ALTER FEATURE GROUP acct ADD EXPECTATION e CHECK balance > 0", "42601"},
		{"ALTER FEATURE GROUP acct ADD EXPECTATION e CHECK (balance > 0) SOMETIMES", "42601"},
		{"ALTER FEATURE GROUP acct DROP EXPECTATION nothing", "42704"},
		{"ALTER FEATURE GROUP nosuch ADD EXPECTATION e CHECK (true)", "42704"},
		{"BEGIN; ALTER FEATURE GROUP acct DROP EXPECTATION non_negative", "25001"},
		{"ALTER FEATURE GROUP acct ADD EXPECTATION e CHECK (balance + 1)", "42804"},
		{"ALTER FEATURE GROUP acct ADD EXPECTATION e CHECK (balance > (SELECT 0))", "0A000"},
		{"ALTER FEATURE GROUP acct ADD EXPECTATION e CHECK (rank() OVER () > 0)", "42P20"},
		// The DO statements the rewrite makes are not for clients to write.
		{`DO LANGUAGE hopsql_expectation '{"op":"add","group":"acct","name":"x","check":"true"}'`, "42704"},
		{`DO LANGUAGE hopsql_training_dataset '{"op":"drop","name":"x"}'`, "42704"},
	} {
		_, err := c.Exec(ctx, x.sql, pgx.QueryExecModeSimpleProtocol)
		if err == nil || x.code != "" && sqlstate(err) != x.code {
			t.Errorf("%s: got %v, want SQLSTATE %s", x.sql, err, x.code)
		}
		c.Exec(ctx, "ROLLBACK")
	}
	if got := strings.Join(textRows(t, c, "SELECT expectations FROM hopsql.feature_groups WHERE name = 'acct'"), ""); got != "{\"non_negative CHECK (balance >= 0) STRICT\"}" {
		t.Fatalf("expectations after the failed changes: %s", got)
	}
	mustExec(t, c, "ALTER FEATURE GROUP acct DROP EXPECTATION non_negative")
	mustExec(t, c, "INSERT INTO acct VALUES (7, '2024-01-01', -1, 'g')")
	// PostgreSQL's operators mean what they mean in PostgreSQL: ~ matches
	// anywhere in the text (DuckDB's own ~ would need the whole text).
	mustExec(t, c, "ALTER FEATURE GROUP acct ADD EXPECTATION lower CHECK (tier ~ '^[a-z]')")
	mustExec(t, c, "INSERT INTO acct VALUES (8, '2024-01-01', 1, 'hello')")
	if _, err := c.Exec(ctx, "INSERT INTO acct VALUES (9, '2024-01-01', 1, 'Hello')"); sqlstate(err) != "23514" {
		t.Fatalf("~ expectation: %v", err)
	}
}

// TestExpectationsWarn: a WARN expectation writes the rows, sends a NOTICE
// counting the failures, and records the outcome per commit; expectations
// and results survive a restart.
func TestExpectationsWarn(t *testing.T) {
	srv := startServer(t)
	ctx := context.Background()
	c, notices := noticeConn(t, srv)
	mustExec(t, c, "CREATE FEATURE GROUP s (id int, v int, label text) PRIMARY KEY (id)")
	mustExec(t, c, "ALTER FEATURE GROUP s ADD EXPECTATION small CHECK (v < 10) WARN")
	mustExec(t, c, "ALTER FEATURE GROUP s ADD EXPECTATION labelled CHECK (label IS NOT NULL) WARN")
	notices()
	mustExec(t, c, "INSERT INTO s SELECT i, i, CASE WHEN i % 4 = 0 THEN NULL ELSE 'x' END FROM generate_series(1, 20) AS g(i)")
	got := notices()
	sort.Strings(got)
	want := []string{
		`11 of 20 rows written to feature group "s" fail expectation "small": CHECK (v < 10)`,
		`5 of 20 rows written to feature group "s" fail expectation "labelled": CHECK (label IS NOT NULL)`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("notices:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if n := textRows(t, c, "SELECT count(*) FROM s"); n[0] != "20" {
		t.Fatalf("rows written: %v", n)
	}
	// NULL passes, as in a CHECK constraint; a passing write sends nothing.
	mustExec(t, c, "INSERT INTO s VALUES (21, NULL, 'y')")
	if n := notices(); len(n) != 0 {
		t.Fatalf("notices for a passing write: %v", n)
	}
	// A transaction's rows are checked together at COMMIT.
	tx, _ := c.Begin(ctx)
	tx.Exec(ctx, "INSERT INTO s VALUES (22, 50, 'z')")
	tx.Exec(ctx, "INSERT INTO s VALUES (23, 1, 'z')")
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	q := "SELECT snapshot, expectation, mode, rows_checked, rows_failed, success, committed_by FROM hopsql.validation_results ORDER BY snapshot, expectation"
	want2 := "1|labelled|WARN|20|5|f|hopsql;1|small|WARN|20|11|f|hopsql;2|labelled|WARN|1|0|t|hopsql;2|small|WARN|1|0|t|hopsql;3|labelled|WARN|2|0|t|hopsql;3|small|WARN|2|1|f|hopsql"
	if got := strings.Join(textRows(t, c, q), ";"); got != want2 {
		t.Fatalf("validation results\n got %s\nwant %s", got, want2)
	}
	srv.Stop()
	srv.Restart()
	c = srv.connect(t)
	if got := strings.Join(textRows(t, c, q), ";"); got != want2 {
		t.Fatalf("validation results after restart\n got %s\nwant %s", got, want2)
	}
	if got := textRows(t, c, "SELECT expectations FROM hopsql.feature_groups"); got[0] != `{"small CHECK (v < 10) WARN","labelled CHECK (label IS NOT NULL) WARN"}` {
		t.Fatalf("expectations after restart: %v", got)
	}
}

// TestFeatureStatistics checks the statistics recorded for each version
// against the same figures computed here from the rows written (random
// numbers with NULLs, NaN and infinities, repeated texts), including the
// histograms' counts, across commits, a restart and ANALYZE.
func TestFeatureStatistics(t *testing.T) {
	rng, _ := seededRand(t)
	srv := startServer(t)
	c := srv.connect(t)
	mustExec(t, c, "CREATE FEATURE GROUP m (id int, x double precision, n bigint, cat text, d date) PRIMARY KEY (id)")

	type row struct {
		x   *float64
		n   *int64
		cat *string
	}
	rows := map[int]row{}
	version := int64(0)
	for round := 0; round < 3; round++ {
		var vals []string
		for i := 0; i < 200; i++ {
			id := rng.Intn(400)
			var r row
			xs, ns, cs := "NULL", "NULL", "NULL"
			switch p := rng.Intn(20); {
			case p == 0:
			case p == 1:
				f := math.Inf(1 - 2*rng.Intn(2))
				r.x, xs = &f, fmt.Sprintf("'%v'::double precision", f)
			case p == 2:
				f := math.NaN()
				r.x, xs = &f, "'NaN'::double precision"
			default:
				f := math.Round(rng.NormFloat64()*1000) / 8
				r.x, xs = &f, strconv.FormatFloat(f, 'g', -1, 64)
			}
			if rng.Intn(10) > 0 {
				n := rng.Int63n(1000) - 500
				r.n, ns = &n, strconv.FormatInt(n, 10)
			}
			if rng.Intn(10) > 0 {
				s := fmt.Sprintf("c%d", rng.Intn(30))
				r.cat, cs = &s, "'"+s+"'"
			}
			rows[id] = r // the row written last per key stays
			vals = append(vals, fmt.Sprintf("(%d, %s, %s, %s, DATE '2024-01-01' + %d)", id, xs, ns, cs, round))
		}
		mustExec(t, c, "INSERT INTO m VALUES "+strings.Join(vals, ", "))
		version++
		check := func(when string) {
			t.Helper()
			// x: finite values give mean, stddev and the histogram.
			var fin []float64
			var xCount, nCount, catCount int64
			freq := map[string]int64{}
			var nVals []float64
			for _, r := range rows {
				if r.x != nil {
					xCount++
					if !math.IsNaN(*r.x) && !math.IsInf(*r.x, 0) {
						fin = append(fin, *r.x)
					}
				}
				if r.n != nil {
					nCount++
					nVals = append(nVals, float64(*r.n))
				}
				if r.cat != nil {
					catCount++
					freq[*r.cat]++
				}
			}
			total := int64(len(rows))
			stat := func(feature string) map[string]string {
				got := textRows(t, c, fmt.Sprintf("SELECT count, nulls, distinct_values, coalesce(min, '∅'), coalesce(max, '∅'), coalesce(mean::text, '∅'), coalesce(stddev::text, '∅'), coalesce(histogram, '∅') "+
					"FROM hopsql.feature_statistics WHERE feature_group = 'm' AND snapshot = %d AND feature = '%s'", version, feature))
				if len(got) != 1 {
					t.Fatalf("%s: statistics of %s at version %d: %v", when, feature, version, got)
				}
				f := strings.SplitN(got[0], "|", 8)
				return map[string]string{"count": f[0], "nulls": f[1], "distinct": f[2], "min": f[3], "max": f[4], "mean": f[5], "stddev": f[6], "histogram": f[7]}
			}
			near := func(what, got string, want float64) {
				g, err := strconv.ParseFloat(got, 64)
				if err != nil || math.Abs(g-want) > 1e-9*math.Max(1, math.Abs(want)) {
					t.Fatalf("%s: %s = %s, want %v", when, what, got, want)
				}
			}
			for _, x := range []struct {
				feature string
				vals    []float64
				count   int64
			}{{"x", fin, xCount}, {"n", nVals, nCount}} {
				s := stat(x.feature)
				if s["count"] != fmt.Sprint(x.count) || s["nulls"] != fmt.Sprint(total-x.count) {
					t.Fatalf("%s: %s count/nulls %s/%s, want %d/%d", when, x.feature, s["count"], s["nulls"], x.count, total-x.count)
				}
				mean, lo, hi := 0.0, math.Inf(1), math.Inf(-1)
				for _, v := range x.vals {
					mean += v
					lo, hi = math.Min(lo, v), math.Max(hi, v)
				}
				mean /= float64(len(x.vals))
				ss := 0.0
				for _, v := range x.vals {
					ss += (v - mean) * (v - mean)
				}
				near(x.feature+" mean", s["mean"], mean)
				near(x.feature+" stddev", s["stddev"], math.Sqrt(ss/float64(len(x.vals)-1)))
				var bins []struct {
					Lo, Hi float64
					Count  int64
				}
				if err := json.Unmarshal([]byte(s["histogram"]), &bins); err != nil || len(bins) != 20 {
					t.Fatalf("%s: %s histogram %s: %v", when, x.feature, s["histogram"], err)
				}
				near(x.feature+" histogram low", fmt.Sprint(bins[0].Lo), lo)
				near(x.feature+" histogram high", fmt.Sprint(bins[19].Hi), hi)
				w := (hi - lo) / 20
				want := make([]int64, 20)
				for _, v := range x.vals {
					want[min(int(math.Floor((v-lo)/w)), 19)]++
				}
				for i, b := range bins {
					if b.Count != want[i] {
						t.Fatalf("%s: %s bin %d [%v, %v) holds %d, want %d", when, x.feature, i, b.Lo, b.Hi, b.Count, want[i])
					}
				}
			}
			s := stat("n")
			if s["min"] != fmt.Sprint(slicesMin(nVals)) || s["max"] != fmt.Sprint(slicesMax(nVals)) {
				t.Fatalf("%s: n min/max %s/%s", when, s["min"], s["max"])
			}
			s = stat("cat")
			if s["count"] != fmt.Sprint(catCount) || s["mean"] != "∅" {
				t.Fatalf("%s: cat %v", when, s)
			}
			if s["distinct"] != fmt.Sprint(len(freq)) {
				t.Fatalf("%s: cat distinct values %s, want %d", when, s["distinct"], len(freq))
			}
			type vc struct {
				v string
				n int64
			}
			var top []vc
			for v, n := range freq {
				top = append(top, vc{v, n})
			}
			sort.Slice(top, func(i, j int) bool { return top[i].n > top[j].n || top[i].n == top[j].n && top[i].v < top[j].v })
			top = top[:min(20, len(top))]
			var bins []struct {
				Value string
				Count int64
			}
			json.Unmarshal([]byte(s["histogram"]), &bins)
			if len(bins) != len(top) {
				t.Fatalf("%s: cat histogram %s", when, s["histogram"])
			}
			for i := range top {
				if bins[i].Value != top[i].v || bins[i].Count != top[i].n {
					t.Fatalf("%s: cat histogram %s, want %v", when, s["histogram"], top)
				}
			}
			s = stat("d")
			if s["min"] != "2024-01-01" || s["mean"] != "∅" || s["histogram"] != "∅" {
				t.Fatalf("%s: d %v", when, s)
			}
		}
		check(fmt.Sprintf("round %d", round))
		if round == 2 {
			srv.Stop()
			srv.Restart()
			c = srv.connect(t)
			check("after restart")
			// Compaction makes a version without statistics; ANALYZE gives
			// it its own.
			mustExec(t, c, "VACUUM m")
			v := textRows(t, c, "SELECT max(version) FROM hopsql.table_history WHERE table_name = 'm'")[0]
			if v != fmt.Sprint(version) {
				version, _ = strconv.ParseInt(v, 10, 64)
				if n := textRows(t, c, fmt.Sprintf("SELECT count(*) FROM hopsql.feature_statistics WHERE snapshot = %d", version)); n[0] != "0" {
					t.Fatalf("compaction version has statistics: %v", n)
				}
			}
			mustExec(t, c, "ANALYZE m")
			check("after ANALYZE")
		}
	}
}

func slicesMin(v []float64) float64 {
	m := math.Inf(1)
	for _, x := range v {
		m = math.Min(m, x)
	}
	return m
}

func slicesMax(v []float64) float64 {
	m := math.Inf(-1)
	for _, x := range v {
		m = math.Max(m, x)
	}
	return m
}

// TestFeatureStatisticsInTheBackground: versions bigger than
// --stats-sync-rows get their statistics from the maintenance loop, after
// the commit is acknowledged.
func TestFeatureStatisticsInTheBackground(t *testing.T) {
	srv := startServer(t, "--stats-sync-rows", "10")
	c := srv.connect(t)
	mustExec(t, c, "CREATE FEATURE GROUP big (k int, v double precision) PRIMARY KEY (k)")
	mustExec(t, c, "INSERT INTO big VALUES (1, 1), (2, 2)") // 2 rows: before the acknowledgement
	if got := textRows(t, c, "SELECT count(*) FROM hopsql.feature_statistics WHERE snapshot = 1"); got[0] != "2" {
		t.Fatalf("small version: %v", got)
	}
	mustExec(t, c, "INSERT INTO big SELECT i, i * 0.5 FROM generate_series(3, 100) AS g(i)")
	q := "SELECT count, min, max FROM hopsql.feature_statistics WHERE snapshot = 2 AND feature = 'k'"
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if got := textRows(t, c, q); len(got) == 1 {
			if got[0] != "100|1|100" {
				t.Fatalf("version 2: %v", got)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("no statistics for version 2")
		}
	}
}
