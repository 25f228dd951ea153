package tests

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// TestTransformationFunctions: transforms fitted by CREATE TRAINING
// DATASET … TRANSFORM take their parameters from the train split's raw
// values (checked against the same figures computed here from the split's
// file), the dataset's view applies them to every split, serving queries
// naming the dataset apply exactly the same ones to online rows, a later
// version's parameters do not change an earlier version's, and all of it
// survives a restart.
func TestTransformationFunctions(t *testing.T) {
	rng, _ := seededRand(t)
	srv := startServer(t)
	ctx := context.Background()
	c := srv.connect(t)
	mustExec(t, c, "CREATE FEATURE GROUP f (k int, ts timestamp, x double precision, n int, cat text, kind text) PRIMARY KEY (k) EVENT TIME (ts) ONLINE")
	mustExec(t, c, "CREATE TABLE lab (k int, ts timestamp, y boolean)")
	insert := func(from, to int) {
		var vals []string
		for k := from; k < to; k++ {
			x := "NULL"
			if rng.Intn(15) > 0 {
				x = strconv.FormatFloat(math.Round(rng.NormFloat64()*4000)/16, 'g', -1, 64)
			}
			vals = append(vals, fmt.Sprintf("(%d, '2024-01-01', %s, %d, 'c%d', '%c')", k, x, rng.Intn(50), rng.Intn(12), 'a'+rng.Intn(5)))
		}
		mustExec(t, c, "INSERT INTO f VALUES "+strings.Join(vals, ", "))
		mustExec(t, c, fmt.Sprintf("INSERT INTO lab SELECT i, '2024-02-01', i %% 3 = 0 FROM generate_series(%d, %d) g(i)", from, to-1))
	}
	insert(0, 400)
	mustExec(t, c, "CREATE FEATURE VIEW fv EVENT TIME (ts) AS SELECT l.k, l.ts, l.y, f.x, f.n, f.cat, f.kind FROM lab l JOIN f USING (k)")
	const create = "CREATE TRAINING DATASET td FROM fv TRANSFORM (min_max_scale(x), standard_scale(n), label_encode(cat), one_hot(kind)) WITH (split = 'train:0.7,test:0.3', seed = 3)"
	mustExec(t, c, create)

	type params struct {
		lo, hi, mean, sd float64
		cats, kinds      []string
	}
	// fit computes the parameters from a version's train file.
	fit := func(version int) params {
		t.Helper()
		rows := textRows(t, c, fmt.Sprintf("SELECT x, n, cat, kind FROM read_parquet('hopsfs:///Projects/hopsql/TrainingDatasets/td_%d/train/part-0.parquet')", version))
		p := params{lo: math.Inf(1), hi: math.Inf(-1)}
		cats, kinds := map[string]bool{}, map[string]bool{}
		var ns []float64
		for _, r := range rows {
			f := strings.Split(r, "|")
			if f[0] != "∅" {
				x, _ := strconv.ParseFloat(f[0], 64)
				p.lo, p.hi = math.Min(p.lo, x), math.Max(p.hi, x)
			}
			n, _ := strconv.ParseFloat(f[1], 64)
			ns = append(ns, n)
			cats[f[2]], kinds[f[3]] = true, true
		}
		for _, n := range ns {
			p.mean += n
		}
		p.mean /= float64(len(ns))
		for _, n := range ns {
			p.sd += (n - p.mean) * (n - p.mean)
		}
		p.sd = math.Sqrt(p.sd / float64(len(ns)))
		for v := range cats {
			p.cats = append(p.cats, v)
		}
		for v := range kinds {
			p.kinds = append(p.kinds, v)
		}
		sort.Strings(p.cats)
		sort.Strings(p.kinds)
		return p
	}
	near := func(what string, got, want float64) {
		t.Helper()
		if math.Abs(got-want) > 1e-9*math.Max(1, math.Abs(want)) {
			t.Fatalf("%s = %v, want %v", what, got, want)
		}
	}
	num := func(s string) float64 {
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			t.Fatalf("not a number: %q", s)
		}
		return f
	}
	// apply checks transformed values (text as the server sends them)
	// against raw ones.
	apply := func(what string, p params, raw, got []string) {
		t.Helper()
		if raw[0] == "∅" {
			if got[0] != "∅" {
				t.Fatalf("%s: min_max_scale(NULL) = %s", what, got[0])
			}
		} else {
			near(what+" min_max_scale", num(got[0]), (num(raw[0])-p.lo)/(p.hi-p.lo))
		}
		near(what+" standard_scale", num(got[1]), (num(raw[1])-p.mean)/p.sd)
		pos := sort.SearchStrings(p.cats, raw[2])
		want := "∅"
		if pos < len(p.cats) && p.cats[pos] == raw[2] {
			want = strconv.Itoa(pos)
		}
		if got[2] != want {
			t.Fatalf("%s: label_encode(%s) = %s, want %s (categories %v)", what, raw[2], got[2], want, p.cats)
		}
		hot := make([]string, len(p.kinds))
		for i, k := range p.kinds {
			hot[i] = "0"
			if k == raw[3] {
				hot[i] = "1"
			}
		}
		if w := "{" + strings.Join(hot, ",") + "}"; got[3] != w {
			t.Fatalf("%s: one_hot(%s) = %s, want %s", what, raw[3], got[3], w)
		}
	}
	stored := func(version int) params {
		t.Helper()
		var p params
		for _, r := range textRows(t, c, fmt.Sprintf("SELECT function, parameters FROM hopsql.transformations WHERE training_dataset = 'td' AND version = %d ORDER BY feature", version)) {
			fn, js, _ := strings.Cut(r, "|")
			var m struct {
				Min, Max, Mean, Stddev float64
				Categories             []string
			}
			if err := json.Unmarshal([]byte(js), &m); err != nil {
				t.Fatal(err)
			}
			switch fn {
			case "min_max_scale":
				p.lo, p.hi = m.Min, m.Max
			case "standard_scale":
				p.mean, p.sd = m.Mean, m.Stddev
			case "label_encode":
				p.cats = m.Categories
			case "one_hot":
				p.kinds = m.Categories
			}
		}
		return p
	}
	check := func(when string, version int) params {
		t.Helper()
		p := fit(version)
		s := stored(version)
		near(when+" min", s.lo, p.lo)
		near(when+" max", s.hi, p.hi)
		near(when+" mean", s.mean, p.mean)
		near(when+" stddev", s.sd, p.sd)
		if fmt.Sprint(s.cats) != fmt.Sprint(p.cats) || fmt.Sprint(s.kinds) != fmt.Sprint(p.kinds) {
			t.Fatalf("%s: categories %v %v, want %v %v", when, s.cats, s.kinds, p.cats, p.kinds)
		}
		// The view transforms every split with the train split's parameters.
		raw := textRows(t, c, fmt.Sprintf("SELECT x, n, cat, kind FROM read_parquet('hopsfs:///Projects/hopsql/TrainingDatasets/td_%d/*/part-0.parquet') ORDER BY k", version))
		view := textRows(t, c, "SELECT x, n, cat, kind FROM td ORDER BY k")
		if len(raw) != len(view) || len(raw) == 0 {
			t.Fatalf("%s: %d raw rows, %d in the view", when, len(raw), len(view))
		}
		for i := range raw {
			apply(fmt.Sprintf("%s view row %d", when, i), p, strings.Split(raw[i], "|"), strings.Split(view[i], "|"))
		}
		return p
	}
	p1 := check("version 1", 1)

	// Serving: the same parameters applied to online rows, by lookup and in bulk.
	serve := func(when, ds string, p params) {
		t.Helper()
		lookups := func() int {
			var n int
			if err := c.QueryRow(ctx, "SELECT lookups FROM hopsql.online_store WHERE name = 'f'").Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}
		before := lookups()
		for i := 0; i < 20; i++ {
			k := rng.Intn(400)
			raw := textRows(t, c, fmt.Sprintf("SELECT x, n, cat, kind FROM online.f WHERE k = %d ORDER BY k", k))
			q := fmt.Sprintf("SELECT min_max_scale(x, '%s'), standard_scale(n, '%s'), label_encode(cat, '%s'), one_hot(kind, '%s') FROM online.f WHERE k = %d", ds, ds, ds, ds, k)
			got := textRows(t, c, q)
			if len(raw) != 1 || len(got) != 1 {
				t.Fatalf("%s: key %d: %v %v", when, k, raw, got)
			}
			apply(fmt.Sprintf("%s serving key %d", when, k), p, strings.Split(raw[0], "|"), strings.Split(got[0], "|"))
			// From memory (above) and through DuckDB (ORDER BY): the same text.
			if slow := textRows(t, c, q+" ORDER BY k"); slow[0] != got[0] {
				t.Fatalf("%s: key %d: memory %s, DuckDB %s", when, k, got[0], slow[0])
			}
		}
		if n := lookups() - before; n != 20 {
			t.Fatalf("%s: %d of 20 transformed lookups answered from memory", when, n)
		}
		// In bulk, through a prepared statement (extended protocol).
		raw := textRows(t, c, "SELECT x, n, cat, kind FROM online.f ORDER BY k")
		rows, err := c.Query(ctx, fmt.Sprintf("SELECT min_max_scale(x, '%s'), standard_scale(n + 0, '%s', 'n'), label_encode(cat, '%s'), one_hot(kind, '%s') FROM online.f WHERE k >= $1 ORDER BY k", ds, ds, ds, ds), 0)
		if err != nil {
			t.Fatal(err)
		}
		var got [][]string
		for rows.Next() {
			var x *float64
			var n float64
			var cat *int64
			var hot []int32
			if err := rows.Scan(&x, &n, &cat, &hot); err != nil {
				t.Fatal(err)
			}
			r := []string{"∅", strconv.FormatFloat(n, 'g', -1, 64), "∅", strings.ReplaceAll(strings.Trim(fmt.Sprint(hot), "[]"), " ", ",")}
			if x != nil {
				r[0] = strconv.FormatFloat(*x, 'g', -1, 64)
			}
			if cat != nil {
				r[2] = strconv.FormatInt(*cat, 10)
			}
			r[3] = "{" + r[3] + "}"
			got = append(got, r)
		}
		if rows.Err() != nil || len(got) != len(raw) {
			t.Fatalf("%s: bulk: %v, %d rows for %d", when, rows.Err(), len(got), len(raw))
		}
		for i := range raw {
			apply(fmt.Sprintf("%s bulk row %d", when, i), p, strings.Split(raw[i], "|"), got[i])
		}
	}
	serve("version 1", "td", p1)

	// More data, version 2: new parameters for 'td', the old ones for 'td@1'.
	insert(400, 800)
	mustExec(t, c, create)
	p2 := check("version 2", 2)
	if p1.lo == p2.lo && p1.hi == p2.hi && p1.mean == p2.mean {
		t.Fatalf("version 2 was fitted like version 1: %v", p2)
	}
	serve("version 2", "td", p2)
	serve("version 1 pinned", "td@1", p1)

	srv.Stop()
	srv.Restart()
	c = srv.connect(t)
	check("after restart", 2)
	serve("after restart", "td@1", p1)

	for _, x := range []struct{ sql, code string }{
		{"CREATE TRAINING DATASET e1 FROM fv TRANSFORM (log_scale(x))", "42883"},
		{"CREATE TRAINING DATASET e1 FROM fv TRANSFORM (min_max_scale(nope))", "42703"},
		{"CREATE TRAINING DATASET e1 FROM fv TRANSFORM (min_max_scale(x), standard_scale(x))", "22023"},
		{"CREATE TRAINING DATASET e1 FROM fv TRANSFORM (min_max_scale(cat))", "22P02"},
		{"CREATE TRAINING DATASET e1 FROM fv TRANSFORM min_max_scale(x)", "42601"},
		{"SELECT min_max_scale(x, 'nosuch') FROM f", "42704"},
		{"SELECT one_hot(x, 'td') FROM f", "42704"},
		{"SELECT standard_scale(n * 2, 'td') FROM f", "22023"},
	} {
		_, err := c.Exec(ctx, x.sql)
		if sqlstate(err) != x.code {
			t.Errorf("%s: got %v, want SQLSTATE %s", x.sql, err, x.code)
		}
	}
	mustExec(t, c, "CREATE TABLE many (i int)")
	mustExec(t, c, "INSERT INTO many SELECT i FROM generate_series(1, 1001) g(i)")
	mustExec(t, c, "CREATE FEATURE VIEW mv AS SELECT i FROM many")
	if _, err := c.Exec(ctx, "CREATE TRAINING DATASET e1 FROM mv TRANSFORM (one_hot(i))"); sqlstate(err) != "54000" {
		t.Errorf("one_hot over 1001 categories: got %v, want 54000", err)
	}
	mustExec(t, c, "CREATE TRAINING DATASET e2 FROM mv TRANSFORM (label_encode(i))")
	if got := textRows(t, c, "SELECT max(i) FROM e2"); got[0] != "1000" {
		t.Errorf("label_encode over 1001 categories: max %v", got)
	}
	if n := textRows(t, c, "SELECT count(*) FROM hopsql.training_datasets WHERE name = 'e1'"); n[0] != "0" {
		t.Fatalf("a failed CREATE left a training dataset: %v", n)
	}
}
