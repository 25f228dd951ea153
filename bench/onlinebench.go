package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"
	"sync"
	"time"
)

// (i) Online feature vectors: the latest features of a key from two
// feature groups, over the wire. hopsql reads online.<feature view> over
// two ONLINE feature groups (one with two events per key: the latest one
// answers); PostgreSQL joins two tables holding the latest row per key
// under a primary key — the shape an online store keeps in PostgreSQL.

const onlineKeys = 100_000

// onlineSource is what a system's lookup reads: the FROM clause, the key
// column and the selected columns.
type onlineSource struct{ from, key, cols string }

func onlineQuery(src onlineSource, batch int) string {
	if batch == 1 {
		return "SELECT " + src.cols + " FROM " + src.from + " WHERE " + src.key + " = $1"
	}
	ps := make([]string, batch)
	for i := range ps {
		ps[i] = fmt.Sprintf("$%d", i+1)
	}
	return "SELECT " + src.cols + " FROM " + src.from + " WHERE " + src.key + " IN (" + strings.Join(ps, ", ") + ")"
}

// onlineLookups runs lookups of batch random keys from clients connections
// for d; perSec counts queries.
func onlineLookups(ctx context.Context, s *server, src onlineSource, batch, clients int, d time.Duration) (lookupResult, error) {
	q := onlineQuery(src, batch)
	conns, err := preparedConns(ctx, s, clients, "online", q)
	defer closeAll(conns)
	if err != nil {
		return lookupResult{}, err
	}
	lats := make([][]time.Duration, clients)
	errs := make([]error, clients)
	var wg sync.WaitGroup
	deadline := time.Now().Add(d)
	for i, c := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(i), 7))
			args := make([]any, batch)
			for time.Now().Before(deadline) && ctx.Err() == nil {
				seen := map[int64]bool{}
				for j := range args {
					k := rng.Int64N(onlineKeys)
					for seen[k] {
						k = rng.Int64N(onlineKeys)
					}
					seen[k] = true
					args[j] = k
				}
				t0 := time.Now()
				rows, err := c.Query(ctx, "online", args...)
				if err != nil {
					errs[i] = err
					return
				}
				n := 0
				for rows.Next() {
					n++
				}
				rows.Close()
				if err := rows.Err(); err != nil {
					errs[i] = err
					return
				}
				if n != batch {
					errs[i] = fmt.Errorf("%s: %d rows for %d keys", q, n, batch)
					return
				}
				lats[i] = append(lats[i], time.Since(t0))
			}
		}()
	}
	wg.Wait()
	var all []time.Duration
	for i := range conns {
		if errs[i] != nil {
			return lookupResult{}, errs[i]
		}
		all = append(all, lats[i]...)
	}
	if len(all) == 0 {
		return lookupResult{}, fmt.Errorf("no lookup completed")
	}
	sort.Slice(all, func(i, j int) bool { return all[i] < all[j] })
	return lookupResult{perSec: float64(len(all)) / d.Seconds(), p50: all[len(all)/2], p99: all[len(all)*99/100]}, nil
}

func (b *bench) benchI(ctx context.Context) {
	sec := &section{
		key: "i",
		title: fmt.Sprintf("(i) online feature vectors from 2 feature groups: %d keys, prepared lookups of 1 or 100 random keys per query, %s per run",
			onlineKeys, b.cfg.duration),
		head: []string{"keys per query", "clients", "system", "queries/s", "p50 latency", "p99 latency"},
	}
	gen := fmt.Sprintf("FROM generate_series(CAST(0 AS BIGINT), %d) AS r(i)", onlineKeys-1)
	setup := map[*server][]string{
		b.pg: {"DROP TABLE IF EXISTS online_g", "DROP TABLE IF EXISTS online_h",
			"CREATE TABLE online_g (k bigint PRIMARY KEY, ts timestamp, f1 double precision, f2 bigint)",
			"CREATE TABLE online_h (k bigint PRIMARY KEY, f3 text)",
			"INSERT INTO online_g SELECT i, TIMESTAMP '2024-01-02', i * 0.25, i * 3 " + gen,
			"INSERT INTO online_h SELECT i, 'latest-' || i " + gen, "VACUUM ANALYZE online_g", "VACUUM ANALYZE online_h"},
		b.hop: {"CREATE FEATURE GROUP online_g (k bigint, ts timestamp, f1 double precision, f2 bigint) PRIMARY KEY (k) EVENT TIME (ts) ONLINE",
			"CREATE FEATURE GROUP online_h (k bigint, f3 text) PRIMARY KEY (k) ONLINE",
			"CREATE TABLE online_labels (k bigint, ts timestamp, label boolean)",
			"CREATE FEATURE VIEW online_fv EVENT TIME (ts) AS SELECT l.k, g.f1, g.f2, h.f3 FROM online_labels l LEFT JOIN online_g g USING (k) LEFT JOIN online_h h USING (k)",
			"INSERT INTO online_g SELECT i, TIMESTAMP '2024-01-01', -1, -1 " + gen,
			"INSERT INTO online_g SELECT i, TIMESTAMP '2024-01-02', i * 0.25, i * 3 " + gen,
			"INSERT INTO online_h SELECT i, 'latest-' || i " + gen},
	}
	tables := map[*server]onlineSource{
		b.pg:  {from: "online_g g JOIN online_h h ON h.k = g.k", key: "g.k", cols: "g.k, f1, f2, f3"},
		b.hop: {from: "online.online_fv", key: "k", cols: "k, f1, f2, f3"},
	}
	var errs [2]error
	for i, s := range b.servers() {
		logf("(i) %s: loading (untimed)", s.name)
		if err := execAll(ctx, s, setup[s]...); err != nil {
			errs[i] = b.failure(s, fmt.Sprintf("(i) %s: loading", s.name), err)
		}
	}
	for _, batch := range []int{1, 100} {
		for _, clients := range []int{1, 16} {
			var res [2]lookupResult
			var rerr [2]error
			for i, s := range b.servers() {
				if errs[i] != nil {
					rerr[i] = errs[i]
					sec.rows = append(sec.rows, []string{fmt.Sprint(batch), fmt.Sprint(clients), s.name, "error", "", ""})
					continue
				}
				if batch == 1 && clients == 1 {
					b.settle(ctx, s) // the load's background work, before the first run
				}
				logf("(i) %s: %d keys per query, %d clients", s.name, batch, clients)
				r, err := timed(ctx, b.cfg.duration+time.Minute, func(ctx context.Context) (lookupResult, error) {
					return onlineLookups(ctx, s, tables[s], batch, clients, b.cfg.duration)
				})
				if err != nil {
					rerr[i] = b.failure(s, fmt.Sprintf("(i) %s: lookups of %d keys, %d clients", s.name, batch, clients), err)
					sec.rows = append(sec.rows, []string{fmt.Sprint(batch), fmt.Sprint(clients), s.name, "error", "", ""})
					continue
				}
				res[i] = r
				sec.rows = append(sec.rows, []string{fmt.Sprint(batch), fmt.Sprint(clients), s.name, num(r.perSec, nil), fmtDur(r.p50), fmtDur(r.p99)})
			}
			ratio, ok := ratioOf(res[1].perSec, res[0].perSec, rerr[1], rerr[0])
			limit := time.Millisecond
			if batch > 1 {
				limit = 10 * time.Millisecond
			}
			p99ok := rerr[1] == nil
			sec.ratios = append(sec.ratios,
				[]string{fmt.Sprintf("hopsql / PG queries/s, %d keys, %d clients", batch, clients), ratioStr(ratio, ok), "≥ 1×", verdict(ok, ratio >= 1)},
				[]string{fmt.Sprintf("hopsql p99, %d keys, %d clients", batch, clients), fmtDur(res[1].p99), "< " + fmtDur(limit), verdict(p99ok, res[1].p99 < limit)})
			b.rep.target(fmt.Sprintf("(i) online lookups of %d keys, %d clients: hopsql/PG ≥ 1×", batch, clients), ok, ratio >= 1, ratioStr(ratio, ok))
			b.rep.target(fmt.Sprintf("(i) online lookups of %d keys, %d clients: hopsql p99 < %s", batch, clients, fmtDur(limit)), p99ok, res[1].p99 < limit, fmtDur(res[1].p99))
		}
	}
	sec.notes = append(sec.notes, "Each lookup returns k, f1, f2 (first group) and f3 (second group). Client and servers share the machine's cores.")
	execAll(ctx, b.pg, "DROP TABLE IF EXISTS online_g", "DROP TABLE IF EXISTS online_h")
	execAll(ctx, b.hop, "DROP FEATURE VIEW IF EXISTS online_fv", "DROP TABLE IF EXISTS online_labels", "DROP FEATURE GROUP IF EXISTS online_g", "DROP FEATURE GROUP IF EXISTS online_h")
	b.rep.sections = append(b.rep.sections, sec)
}
