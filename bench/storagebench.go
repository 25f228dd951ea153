package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/hopsql/hopsql/storage"
)

const insT = "bench_inserts"

// singleInserts runs autocommit single-row INSERTs (prepared) from clients
// connections for d and returns commits/s and latency percentiles. Every
// INSERT is its own transaction, durable before it is acknowledged: fsync
// is on for both servers.
func singleInserts(ctx context.Context, s *server, clients int, d time.Duration) (lookupResult, error) {
	if err := execAll(ctx, s, "DROP TABLE IF EXISTS "+insT, "CREATE TABLE "+insT+" (id bigint PRIMARY KEY, writer int, payload text)"); err != nil {
		return lookupResult{}, err
	}
	var next atomic.Int64
	var mu sync.Mutex
	var lat []time.Duration
	var firstErr error
	var wg sync.WaitGroup
	deadline := time.Now().Add(d)
	for w := 0; w < clients; w++ {
		c, err := s.connect(ctx)
		if err != nil {
			return lookupResult{}, err
		}
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			defer c.Close(context.Background())
			var mine []time.Duration
			for time.Now().Before(deadline) && ctx.Err() == nil {
				id := next.Add(1)
				t0 := time.Now()
				if _, err := c.Exec(ctx, "INSERT INTO "+insT+" VALUES ($1, $2, 'payload')", id, w); err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
					return
				}
				mine = append(mine, time.Since(t0))
			}
			mu.Lock()
			lat = append(lat, mine...)
			mu.Unlock()
		}(w)
	}
	wg.Wait()
	if firstErr != nil {
		return lookupResult{}, firstErr
	}
	if len(lat) == 0 {
		return lookupResult{}, fmt.Errorf("no INSERT completed")
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	r := lookupResult{perSec: float64(len(lat)) / d.Seconds(), p50: lat[len(lat)/2], p99: lat[len(lat)*99/100]}
	return r, execAll(ctx, s, "DROP TABLE "+insT)
}

// benchG measures single-row INSERT commits/s (issue 3: ≥ 0.5× PostgreSQL).
func (b *bench) benchG(ctx context.Context) {
	sec := &section{
		key:   "g",
		title: fmt.Sprintf("(g) single-row INSERT, autocommit, prepared, into a keyed table; fsync on both; %s per run", b.cfg.duration),
		head:  []string{"clients", "system", "commits/s", "p50 latency", "p99 latency"},
	}
	for _, clients := range []int{1, 8} {
		var rates [2]float64
		var errs [2]error
		for i, s := range b.servers() {
			logf("(g) %s: %d clients", s.name, clients)
			r, err := timed(ctx, b.cfg.duration+time.Minute, func(ctx context.Context) (lookupResult, error) {
				return singleInserts(ctx, s, clients, b.cfg.duration)
			})
			if err != nil {
				errs[i] = b.failure(s, fmt.Sprintf("(g) %s: inserts", s.name), err)
				sec.rows = append(sec.rows, []string{fmt.Sprint(clients), s.name, "error", "", ""})
				continue
			}
			rates[i] = r.perSec
			sec.rows = append(sec.rows, []string{fmt.Sprint(clients), s.name, num(r.perSec, nil), fmtDur(r.p50), fmtDur(r.p99)})
		}
		ratio, ok := ratioOf(rates[1], rates[0], errs[1], errs[0])
		name := fmt.Sprintf("(g) single-row INSERT commits/s, %d client(s), hopsql / PG ≥ 0.5×", clients)
		sec.ratios = append(sec.ratios, []string{fmt.Sprintf("hopsql / PG, %d client(s)", clients), ratioStr(ratio, ok), "≥ 0.5×", verdict(ok, ratio >= 0.5)})
		b.rep.target(name, ok, ratio >= 0.5, ratioStr(ratio, ok))
	}
	b.rep.sections = append(b.rep.sections, sec)
	b.txInsertSection(ctx)
}

// txInsertRows is how many rows one transaction of single-row INSERTs loads.
const txInsertRows = 20000

// txInserts loads n rows into a keyed table with one INSERT per row inside
// one transaction, as drivers' batch loads do (psycopg2's executemany,
// PgJDBC's executeBatch, an ORM's flush), and returns rows/s including the
// COMMIT. literal sends each INSERT as a simple query with the values in
// its text (psycopg2); otherwise they are parameters of one prepared
// statement (pgx).
func txInserts(ctx context.Context, s *server, n int, literal bool) (float64, error) {
	if err := execAll(ctx, s, "DROP TABLE IF EXISTS "+insT, "CREATE TABLE "+insT+" (id bigint PRIMARY KEY, writer int, payload varchar(40))"); err != nil {
		return 0, err
	}
	c, err := s.connect(ctx)
	if err != nil {
		return 0, err
	}
	defer c.Close(context.Background())
	start := time.Now()
	tx, err := c.Begin(ctx)
	if err != nil {
		return 0, err
	}
	for i := 0; i < n; i++ {
		if literal {
			_, err = tx.Exec(ctx, fmt.Sprintf("INSERT INTO %s VALUES (%d, %d, 'payload %d')", insT, i, i%7, i), pgx.QueryExecModeSimpleProtocol)
		} else {
			_, err = tx.Exec(ctx, "INSERT INTO "+insT+" VALUES ($1, $2, $3)", i, i%7, fmt.Sprintf("payload %d", i))
		}
		if err != nil {
			tx.Rollback(context.Background())
			return 0, fmt.Errorf("row %d: %w", i, err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return 0, err
	}
	el := time.Since(start)
	if err := checkCount(ctx, s, insT, int64(n)); err != nil {
		return 0, err
	}
	return float64(n) / el.Seconds(), execAll(ctx, s, "DROP TABLE "+insT)
}

// txInsertSection records txInserts on both servers (no target: issue 3
// names autocommit INSERTs; this is the other way applications write).
func (b *bench) txInsertSection(ctx context.Context) {
	sec := &section{
		key:   "g",
		title: fmt.Sprintf("(g) %d single-row INSERTs inside one transaction (drivers' batch loads), into a keyed table; 1 client (recorded only)", txInsertRows),
		head:  []string{"statements", "system", "rows/s"},
	}
	for _, literal := range []bool{true, false} {
		kind := "simple query, values in the text (psycopg2's executemany)"
		if !literal {
			kind = "prepared, values as parameters (pgx, PgJDBC)"
		}
		var rates [2]float64
		var errs [2]error
		for i, s := range b.servers() {
			logf("(g) %s: %d INSERTs in one transaction, %s", s.name, txInsertRows, kind)
			r, err := timed(ctx, 5*time.Minute, func(ctx context.Context) (float64, error) { return txInserts(ctx, s, txInsertRows, literal) })
			if err != nil {
				errs[i] = b.failure(s, fmt.Sprintf("(g) %s: INSERTs in a transaction", s.name), err)
				sec.rows = append(sec.rows, []string{kind, s.name, "error"})
				continue
			}
			rates[i] = r
			sec.rows = append(sec.rows, []string{kind, s.name, num(r, nil)})
		}
		ratio, ok := ratioOf(rates[1], rates[0], errs[1], errs[0])
		sec.ratios = append(sec.ratios, []string{"hopsql / PG, " + kind, ratioStr(ratio, ok), "recorded only", ""})
	}
	b.rep.sections = append(b.rep.sections, sec)
}

// codecNote times the (e) aggregate in embedded DuckDB over the bench table
// written as one Parquet file with each codec: what separates a scan of
// hopsql's storage (ZSTD Parquet) from a native DuckDB table.
func (b *bench) codecNote(ctx context.Context, n int64) string {
	dir, err := os.MkdirTemp("", "hopsql-bench-codec-")
	if err != nil {
		return "codec comparison: " + err.Error()
	}
	defer os.RemoveAll(dir)
	var parts []string
	// Each codec as hopsql writes it (version-2 encodings), and ZSTD with
	// version-1 pages for the difference those encodings make.
	for i, codec := range []string{"zstd", "lz4_raw", "snappy", "uncompressed", "zstd"} {
		file := filepath.Join(dir, fmt.Sprintf("%d-%s.parquet", i, codec))
		opts, label := storage.WriteOptions(codec), codec
		if i == 4 {
			opts, label = "FORMAT parquet, COMPRESSION zstd, PARQUET_VERSION V1", "zstd with version-1 pages"
		}
		start := time.Now()
		if _, err := b.duck.ExecContext(ctx, fmt.Sprintf("COPY %s TO '%s' (%s)", bigT, file, opts)); err != nil {
			return "codec comparison: " + err.Error()
		}
		wrote := time.Since(start)
		st, err := os.Stat(file)
		if err != nil {
			return "codec comparison: " + err.Error()
		}
		q := strings.Replace(aggSQL, "FROM "+bigT, "FROM read_parquet('"+file+"')", 1)
		d, _, err := medianOf(3, func() (time.Duration, error) {
			start := time.Now()
			rows, err := b.duck.QueryContext(ctx, q)
			if err != nil {
				return 0, err
			}
			for rows.Next() {
			}
			rows.Close()
			return time.Since(start), rows.Err()
		})
		if err != nil {
			return "codec comparison: " + err.Error()
		}
		parts = append(parts, fmt.Sprintf("%s %s s (written in %s s, %.0f MiB)", label, secStr(d.Seconds(), nil), secStr(wrote.Seconds(), nil), float64(st.Size())/(1<<20)))
	}
	return fmt.Sprintf("Recorded only — the same aggregate in embedded DuckDB over the %d rows written as one Parquet file, median of 3: %s. "+
		"hopsql writes ZSTD with Parquet's version-2 encodings by default (`--parquet-compression`); the codec's decoding is most of the gap to the native table (storage/DESIGN.md).",
		n, strings.Join(parts, "; "))
}
