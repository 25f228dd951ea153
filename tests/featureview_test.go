package tests

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
)

// TestFeatureViewPointInTime checks a feature view against a brute-force
// reference on random data: many keys, event times in no order, repeated
// timestamps (a key's row written again at the same time replaces the old
// one), labels at exactly a feature's event time, keys without features,
// and rows arriving after the view was made. For every label row, each
// feature must be the value with the latest event time at or before the
// label's time — never one from its future.
func TestFeatureViewPointInTime(t *testing.T) {
	rng, seed := seededRand(t)
	srv := startServer(t)
	ctx := context.Background()
	c := srv.connect(t)
	mustExec(t, c, "CREATE FEATURE GROUP g1 (k int, ts timestamp, a bigint) PRIMARY KEY (k) EVENT TIME (ts)")
	mustExec(t, c, "CREATE FEATURE GROUP g2 (k int, ts timestamp, b text) PRIMARY KEY (k) EVENT TIME (ts)")
	mustExec(t, c, "CREATE TABLE labels (id int, k int, lts timestamp)")

	const keys, span = 40, 300 // seconds
	type kt = pitKey
	g1 := map[kt]int64{}
	g2 := map[kt]string{}
	stamp := func(sec int) string { return fmt.Sprintf("2024-01-01 00:%02d:%02d", sec/60, sec%60) }
	next := int64(1)
	write := func(n int, copyIt bool) {
		var rows1, rows2 []string
		var csv1, csv2 strings.Builder
		for i := 0; i < n; i++ {
			a := kt{rng.Intn(keys), rng.Intn(span)}
			b := kt{rng.Intn(keys), rng.Intn(span)}
			g1[a] = next
			g2[b] = fmt.Sprint("v", next)
			rows1 = append(rows1, fmt.Sprintf("(%d, '%s', %d)", a.k, stamp(a.ts), next))
			rows2 = append(rows2, fmt.Sprintf("(%d, '%s', 'v%d')", b.k, stamp(b.ts), next))
			fmt.Fprintf(&csv1, "%d,%s,%d\n", a.k, stamp(a.ts), next)
			fmt.Fprintf(&csv2, "%d,%s,v%d\n", b.k, stamp(b.ts), next)
			next++
		}
		if copyIt {
			for _, x := range []struct{ table, data string }{{"g1", csv1.String()}, {"g2", csv2.String()}} {
				if _, err := c.PgConn().CopyFrom(ctx, strings.NewReader(x.data), "COPY "+x.table+" FROM STDIN (FORMAT csv)"); err != nil {
					t.Fatal(err)
				}
			}
			return
		}
		mustExec(t, c, "INSERT INTO g1 VALUES "+strings.Join(rows1, ", "))
		mustExec(t, c, "INSERT INTO g2 VALUES "+strings.Join(rows2, ", "))
	}
	for i := 0; i < 6; i++ {
		write(5+rng.Intn(20), false) // small commits: inline files
	}
	write(400, true) // a Parquet file
	type label = pitLabel
	var labels []label
	var lrows []string
	for id := 0; id < 300; id++ {
		l := label{id, rng.Intn(keys + 5), rng.Intn(span + 20)}
		if id%10 == 0 { // exactly at some feature's event time
			for x := range g1 {
				l.k, l.ts = x.k, x.ts
				break
			}
		}
		labels = append(labels, l)
		lrows = append(lrows, fmt.Sprintf("(%d, %d, '%s')", l.id, l.k, stamp(l.ts)))
	}
	mustExec(t, c, "INSERT INTO labels VALUES "+strings.Join(lrows, ", "))
	mustExec(t, c, `CREATE FEATURE VIEW fv EVENT TIME (lts) AS
		SELECT l.id, g1.a, g2.b FROM labels l LEFT JOIN g1 USING (k) LEFT JOIN g2 ON g2.k = l.k`)
	// With a TTL of 60 s: older values read NULL (LEFT JOIN) or drop the
	// label row (JOIN).
	const ttl = 60
	mustExec(t, c, `CREATE FEATURE VIEW fv_ttl EVENT TIME (lts) TTL INTERVAL '60 seconds' AS
		SELECT l.id, a, g2.b FROM labels l LEFT JOIN g1 USING (k) LEFT JOIN g2 ON g2.k = l.k`)
	mustExec(t, c, `CREATE FEATURE VIEW fv_ttl_inner EVENT TIME (lts) TTL INTERVAL '60 seconds' AS
		SELECT l.id, g1.a, g2.b FROM labels l JOIN g1 USING (k) LEFT JOIN g2 ON g2.k = l.k`)

	check := func(when string) {
		t.Helper()
		checkView(t, c, when, seed, "fv", labels, g1, g2, -1, false)
		checkView(t, c, when, seed, "fv_ttl", labels, g1, g2, ttl, false)
		checkView(t, c, when, seed, "fv_ttl_inner", labels, g1, g2, ttl, true)
	}
	check("as made")
	write(30, false) // late rows, older event times among them
	write(300, true)
	check("after late-arriving rows")
	mustExec(t, c, "VACUUM")
	check("after compaction")

	var reads string
	if err := c.QueryRow(ctx, "SELECT array_to_string(feature_groups, ',') FROM hopsql.feature_views WHERE name = 'fv'").Scan(&reads); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(reads, "g1@") || !strings.Contains(reads, "g2@") || strings.Count(reads, "as of") != 2 {
		t.Fatalf("lineage: %s", reads)
	}
}

type pitKey struct{ k, ts int }
type pitLabel struct{ id, k, ts int }

// checkView compares a feature view over labels, g1 and g2 with the
// brute-force answer: per label, the latest row of each group at or before
// its time (no older than ttl seconds when ttl ≥ 0; with inner, a label
// without a fresh enough g1 row is left out).
func checkView(t *testing.T, c *pgx.Conn, when string, seed int64, view string, labels []pitLabel, g1 map[pitKey]int64, g2 map[pitKey]string, ttl int, inner bool) {
	t.Helper()
	stamp := func(sec int) string { return fmt.Sprintf("2024-01-01 00:%02d:%02d", sec/60, sec%60) }
	{
		got := map[int]string{}
		for _, r := range textRows(t, c, "SELECT id, a, b FROM "+view) {
			f := strings.SplitN(r, "|", 2)
			var id int
			fmt.Sscan(f[0], &id)
			if _, dup := got[id]; dup {
				t.Fatalf("%s: label %d appears twice", when, id)
			}
			got[id] = f[1]
		}
		want := 0
		for _, l := range labels {
			a, b := "∅", "∅"
			bestA, bestB := -1, -1
			for x, v := range g1 {
				if x.k == l.k && x.ts <= l.ts && x.ts > bestA {
					bestA, a = x.ts, fmt.Sprint(v)
				}
			}
			for x, v := range g2 {
				if x.k == l.k && x.ts <= l.ts && x.ts > bestB {
					bestB, b = x.ts, v
				}
			}
			if ttl >= 0 && bestA >= 0 && bestA < l.ts-ttl {
				a, bestA = "∅", -1
			}
			if ttl >= 0 && bestB >= 0 && bestB < l.ts-ttl {
				b = "∅"
			}
			if inner && bestA < 0 {
				if g, ok := got[l.id]; ok {
					t.Fatalf("%s (seed %d): %s: label %d (key %d at %s) has no fresh g1 row but appears: %s", when, seed, view, l.id, l.k, stamp(l.ts), g)
				}
				continue
			}
			want++
			if w := a + "|" + b; got[l.id] != w {
				t.Fatalf("%s (seed %d): %s: label %d (key %d at %s): got %s, want %s", when, seed, view, l.id, l.k, stamp(l.ts), got[l.id], w)
			}
		}
		if len(got) != want {
			t.Fatalf("%s: %s: %d label rows, want %d", when, view, len(got), want)
		}
	}
}

// TestFeatureViewDefinition: what a feature view refuses, its plain-join
// opt-out, DROP, and that it survives a restart.
func TestFeatureViewDefinition(t *testing.T) {
	dir := t.TempDir()
	srv := startServerIn(t, dir, nil)
	ctx := context.Background()
	c := srv.connect(t)
	mustExec(t, c, "CREATE FEATURE GROUP g (k int, ts timestamp, x int) PRIMARY KEY (k) EVENT TIME (ts)")
	mustExec(t, c, "CREATE FEATURE GROUP labels_fg (k int, ts timestamp, y boolean) PRIMARY KEY (k) EVENT TIME (ts)")
	mustExec(t, c, "CREATE TABLE plain_labels (k int, y boolean)")
	mustExec(t, c, "INSERT INTO g VALUES (1, '2024-01-01', 10), (1, '2024-01-03', 30)")
	mustExec(t, c, "INSERT INTO labels_fg VALUES (1, '2024-01-02', true)")
	mustExec(t, c, "INSERT INTO plain_labels VALUES (1, false)")
	for _, tc := range []struct{ sql, code string }{
		{"CREATE FEATURE VIEW v AS SELECT l.k, g.x FROM plain_labels l JOIN g USING (k)", "42P16"},
		{"CREATE FEATURE VIEW v AS SELECT k FROM (SELECT 1 AS k) s", "0A000"},
		{"CREATE FEATURE VIEW v AS SELECT l.k FROM labels_fg l RIGHT JOIN g USING (k)", "0A000"},
		{"CREATE FEATURE VIEW v EVENT TIME (nope) AS SELECT l.k FROM plain_labels l", "42703"},
		{"CREATE FEATURE VIEW v WRONG AS SELECT 1", "42601"},
		{"DROP FEATURE VIEW g", "42809"},
		{"DROP FEATURE VIEW nope", "42704"},
	} {
		if _, err := c.Exec(ctx, tc.sql); sqlstate(err) != tc.code {
			t.Errorf("%s: %v, want %s", tc.sql, err, tc.code)
		}
	}
	// A label feature group brings its own event time.
	mustExec(t, c, "CREATE FEATURE VIEW pit AS SELECT l.k, l.y, g.x FROM labels_fg l JOIN g USING (k)")
	mustExec(t, c, "CREATE FEATURE VIEW latest PLAIN JOIN AS SELECT l.k, g.x FROM plain_labels l JOIN g USING (k)")
	if got := textRows(t, c, "SELECT k, y, x FROM pit"); strings.Join(got, ";") != "1|t|10" {
		t.Fatalf("pit: %v", got)
	}
	if got := textRows(t, c, "SELECT x FROM latest ORDER BY x"); strings.Join(got, ";") != "10;30" {
		t.Fatalf("plain join: %v", got)
	}
	srv.Stop()
	srv = startServerIn(t, dir, nil)
	c = srv.connect(t)
	if got := textRows(t, c, "SELECT name, label, event_time, point_in_time FROM hopsql.feature_views ORDER BY name"); strings.Join(got, ";") != "latest|plain_labels|∅|f;pit|labels_fg|ts|t" {
		t.Fatalf("after a restart: %v", got)
	}
	if got := textRows(t, c, "SELECT k, y, x FROM pit"); strings.Join(got, ";") != "1|t|10" {
		t.Fatalf("pit after a restart: %v", got)
	}
	mustExec(t, c, "DROP FEATURE VIEW pit")
	mustExec(t, c, "DROP VIEW latest") // plain DROP VIEW forgets it too
	if got := textRows(t, c, "SELECT count(*) FROM hopsql.feature_views"); got[0] != "0" {
		t.Fatalf("after DROP: %v", got)
	}
	// Under a TTL every feature column must be named: * would let stale values through.
	if _, err := c.Exec(context.Background(), "CREATE FEATURE VIEW star_ttl TTL INTERVAL '1 day' AS SELECT * FROM labels_fg l LEFT JOIN g USING (k)"); sqlstate(err) != "0A000" {
		t.Errorf("TTL with *: got %v, want 0A000", err)
	}
}
