package main

import (
	"context"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime/pprof"
	"strconv"
	"strings"
	"syscall"
	"time"

	_ "github.com/duckdb/duckdb-go/v2"
	"github.com/jackc/pgx/v5"
)

type config struct {
	hopsql   string
	out      string
	rows     int64
	pkRows   int64
	duration time.Duration
	only     map[string]bool
	// (h): label rows and feature group keys (10 events each).
	pitLabels, pitKeys int64
	// serverProfile: where hopsql writes a CPU profile of the run.
	serverProfile string
}

func main() {
	var cfg config
	var only, profile string
	flag.StringVar(&cfg.hopsql, "hopsql", "./bin/hopsql", "hopsql binary to benchmark")
	flag.StringVar(&cfg.out, "out", "bench/RESULTS.md", "results file to write")
	flag.Int64Var(&cfg.rows, "rows", 10_000_000, "rows for the bulk benchmarks (c), (d), (e)")
	flag.Int64Var(&cfg.pkRows, "pk-rows", 1_000_000, "rows in the point-lookup table of (b) (capped at -rows)")
	flag.DurationVar(&cfg.duration, "duration", 5*time.Second, "how long each (a) and (b) measurement runs")
	flag.Int64Var(&cfg.pitLabels, "pit-labels", 10_000_000, "label rows of the point-in-time benchmark (h)")
	flag.Int64Var(&cfg.pitKeys, "pit-keys", 1_000_000, "keys per feature group in (h), 10 events each")
	flag.StringVar(&only, "only", "a,b,c,d,e,f,g,h,i,j", "comma-separated subset of benchmarks to run (f: filesystem, j: experiments; alone they need no PostgreSQL)")
	flag.StringVar(&profile, "cpu-profile", "", "write a CPU profile of the bench process (its clients, embedded DuckDB, the in-process filesystem of (f)) to this file")
	flag.StringVar(&cfg.serverProfile, "hopsql-cpu-profile", "", "have hopsql write a CPU profile of the run to this file (serve --cpu-profile)")
	flag.Parse()
	if profile != "" {
		f, err := os.Create(profile)
		if err == nil {
			err = pprof.StartCPUProfile(f)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "bench: cpu profile:", err)
			os.Exit(2)
		}
		defer pprof.StopCPUProfile()
	}
	cfg.only = map[string]bool{}
	for _, s := range strings.Split(only, ",") {
		if s = strings.TrimSpace(s); s != "" {
			cfg.only[s] = true
		}
	}
	cfg.pkRows = min(cfg.pkRows, cfg.rows)
	if cfg.rows <= 0 || cfg.duration <= 0 {
		fmt.Fprintln(os.Stderr, "bench: -rows and -duration must be positive")
		os.Exit(2)
	}
	if err := run(cfg); err != nil {
		pprof.StopCPUProfile()
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "%s "+format+"\n", append([]any{time.Now().Format("15:04:05")}, args...)...)
}

func run(cfg config) error {
	// Ctrl-C / SIGTERM cancel the context; the deferred cleanups below then
	// stop both servers and remove the temporary directory.
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()

	bin, err := filepath.Abs(cfg.hopsql)
	if err != nil {
		return err
	}
	rep := &report{cfg: cfg, started: time.Now()}
	rep.machine = describeMachine()
	if out, err := exec.Command(bin, "version").Output(); err != nil {
		return fmt.Errorf("%s version: %w", bin, err)
	} else {
		rep.machine = append(rep.machine, kv{"hopsql", strings.TrimSpace(string(out))})
	}

	tmp, err := os.MkdirTemp("", "hopsql-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)

	// (f) compares against targets, not PostgreSQL: run alone, it starts
	// only hopsql.
	needPG := cfg.only["a"] || cfg.only["b"] || cfg.only["c"] || cfg.only["d"] || cfg.only["e"] || cfg.only["g"] || cfg.only["h"] || cfg.only["i"]
	var pg *server
	if needPG {
		logf("starting PostgreSQL 15 and hopsql in %s", tmp)
		if pg, err = startPostgres(tmp); err != nil {
			return err
		}
		defer pg.stop()
	} else {
		logf("starting hopsql in %s", tmp)
	}
	hop, err := startHopsql(bin, tmp, cfg.serverProfile)
	if err != nil {
		return err
	}
	defer hop.stop()
	if pg != nil {
		rep.machine = append(rep.machine, kv{"PostgreSQL", serverVersion(ctx, pg)})
	}
	rep.machine = append(rep.machine, kv{"hopsql SELECT version()", serverVersion(ctx, hop)})

	// Embedded DuckDB, the ceiling for (d) and (e), lives in a file like
	// hopsql's tables do, not in memory.
	var duck *sql.DB
	if cfg.only["a"] || cfg.only["d"] || cfg.only["e"] || cfg.only["h"] {
		duck, err = sql.Open("duckdb", filepath.Join(tmp, "embedded.duckdb"))
		if err != nil {
			return err
		}
		defer duck.Close()
		var v string
		if err := duck.QueryRowContext(ctx, "SELECT version()").Scan(&v); err != nil {
			return fmt.Errorf("embedded DuckDB: %w", err)
		}
		rep.machine = append(rep.machine, kv{"DuckDB (embedded, duckdb-go v2.10506.0)", v})
	}

	b := &bench{ctx: ctx, cfg: cfg, rep: rep, pg: pg, hop: hop, duck: duck, loaded: map[*server]bool{}}
	steps := []struct {
		key string
		f   func(context.Context)
	}{{"a", b.benchA}, {"b", b.benchB}, {"c", b.benchC}, {"d", b.benchD}, {"e", b.benchE}, {"f", b.benchF}, {"g", b.benchG}, {"h", b.benchH}, {"i", b.benchI}, {"j", b.benchJ}}
	for _, st := range steps {
		if !cfg.only[st.key] || ctx.Err() != nil {
			continue
		}
		st.f(ctx)
		// Write after every benchmark so a long run that dies later still
		// leaves its figures behind.
		if err := rep.write(); err != nil {
			return err
		}
	}
	if ctx.Err() != nil {
		rep.interrupted = true
	}
	rep.finished = time.Now()
	if err := rep.write(); err != nil {
		return err
	}
	logf("wrote %s", cfg.out)
	if rep.interrupted {
		return errors.New("interrupted")
	}
	return nil
}

// bulkLimit bounds one bulk operation, so a hung server costs a recorded
// failure, not the whole run.
const bulkLimit = 10 * time.Minute

// timed runs f under its own deadline and says so when that deadline, not
// Ctrl-C, ended it.
func timed[T any](ctx context.Context, limit time.Duration, f func(context.Context) (T, error)) (T, error) {
	c, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	v, err := f(c)
	if err != nil && ctx.Err() == nil && c.Err() != nil {
		err = fmt.Errorf("gave up after %s: %w", limit, err)
	}
	return v, err
}

func serverVersion(ctx context.Context, s *server) string {
	c, err := s.connect(ctx)
	if err != nil {
		return "error: " + err.Error()
	}
	defer c.Close(context.Background())
	var v string
	if err := c.QueryRow(ctx, "SELECT version()").Scan(&v); err != nil {
		return "error: " + err.Error()
	}
	return v
}

// bench holds what the benchmarks share.
type bench struct {
	ctx        context.Context // cancelled by Ctrl-C
	cfg        config
	rep        *report
	pg         *server
	hop        *server
	duck       *sql.DB
	loaded     map[*server]bool // bigT holds cfg.rows rows on this server
	duckOK     bool
	pgVacuumed bool
}

func (b *bench) servers() []*server { return []*server{b.pg, b.hop} }

// failure turns err into a recorded failure, adding the server's exit
// status when the process has died, so the run goes on.
func (b *bench) failure(s *server, what string, err error) error {
	if b.ctx.Err() != nil {
		// Ctrl-C, not the server: the report says "interrupted" instead.
		return err
	}
	if s != nil {
		if s.exited() == nil {
			// A crash shows up as a reset connection a moment before the
			// process is reaped; give that a moment so the cause is recorded.
			time.Sleep(300 * time.Millisecond)
		}
		if ex := s.exited(); ex != nil {
			err = fmt.Errorf("%w\n%v", err, ex)
		}
	}
	b.rep.failures = append(b.rep.failures, fmt.Sprintf("%s: %v", what, err))
	logf("FAILED %s: %v", what, err)
	return err
}

func (b *bench) benchA(ctx context.Context) {
	modes := []struct {
		name string
		mode pgx.QueryExecMode
	}{{"extended (pgx default, cached prepared statement)", pgx.QueryExecModeCacheStatement}, {"simple", pgx.QueryExecModeSimpleProtocol}}
	sec := &section{
		key:   "a",
		title: fmt.Sprintf("(a) `SELECT 1` round trips per second (%s per measurement)", b.cfg.duration),
		head:  []string{"protocol", "clients", "PostgreSQL (q/s)", "hopsql (q/s)", "hopsql / PG", "target", "status"},
	}
	for _, m := range modes {
		for _, clients := range []int{1, 8} {
			var vals [2]float64
			var errs [2]error
			for i, s := range b.servers() {
				logf("(a) %s, %s, %d client(s)", s.name, m.name, clients)
				vals[i], errs[i] = timed(ctx, b.cfg.duration+time.Minute, func(ctx context.Context) (float64, error) {
					return roundTrips(ctx, s, clients, m.mode, b.cfg.duration)
				})
				if errs[i] != nil {
					b.failure(s, fmt.Sprintf("(a) %s %s protocol, %d clients", s.name, m.name, clients), errs[i])
				}
			}
			ratio, ok := ratioOf(vals[1], vals[0], errs[1], errs[0])
			sec.rows = append(sec.rows, []string{m.name, fmt.Sprint(clients), num(vals[0], errs[0]), num(vals[1], errs[1]),
				ratioStr(ratio, ok), "≥ 1.0×", verdict(ok, ratio >= 1.0)})
			b.rep.target(fmt.Sprintf("(a) SELECT 1, %s, %d client(s): hopsql/PG ≥ 1.0×", strings.Fields(m.name)[0], clients), ok, ratio >= 1.0, ratioStr(ratio, ok))
		}
	}
	if b.duck != nil {
		var parts []string
		for _, clients := range []int{1, 8} {
			logf("(a) embedded DuckDB, prepared SELECT 1, %d goroutine(s)", clients)
			v, err := duckRoundTrips(ctx, b.duck, clients, b.cfg.duration)
			if err != nil {
				b.failure(nil, fmt.Sprintf("(a) embedded DuckDB SELECT 1, %d goroutines", clients), err)
			}
			parts = append(parts, fmt.Sprintf("%s q/s with %d goroutine(s)", num(v, err), clients))
		}
		sec.notes = append(sec.notes, "Recorded only — embedded DuckDB answering a prepared `SELECT 1` in-process (no network, no protocol): "+
			strings.Join(parts, ", ")+". This bounds a server that runs every statement through DuckDB.")
	}
	// Say what the hopsql figures measure: SELECT 1 is a constant statement.
	sec.notes = append(sec.notes, "hopsql answers `SELECT 1` from its constant-result cache after the first execution "+
		"(statements without FROM, functions or parameters keep their rows until a setting changes; engine/constant.go), "+
		"so these figures measure the protocol path, parsing and the cache, not a DuckDB execution per round trip.")
	b.rep.sections = append(b.rep.sections, sec)
}

func (b *bench) benchB(ctx context.Context) {
	sec := &section{
		key: "b",
		title: fmt.Sprintf("(b) primary-key point lookups: %d-row table, `%s`, 8 clients, random ids, %s per run (recorded only)",
			b.cfg.pkRows, lookupSQL, b.cfg.duration),
		head: []string{"sent as", "system", "lookups/s", "p50 latency", "p99 latency"},
	}
	styles := []lookupStyle{lookupPrepared, lookupLiteral, lookupInTx}
	rates := make([][2]float64, len(styles))
	errs := make([][2]error, len(styles))
	for i, s := range b.servers() {
		logf("(b) %s: loading %d rows", s.name, b.cfg.pkRows)
		_, err := timed(ctx, bulkLimit, func(ctx context.Context) (int, error) { return 0, loadPK(ctx, s, b.cfg.pkRows) })
		if err == nil && s == b.pg {
			err = execAll(ctx, s, "VACUUM ANALYZE "+pkT)
		}
		if err != nil {
			errs[0][i] = b.failure(s, fmt.Sprintf("(b) %s: loading %s", s.name, pkT), err)
			sec.rows = append(sec.rows, []string{"", s.name, "error", "", ""})
			continue
		}
		for j, style := range styles {
			b.settle(ctx, s)
			logf("(b) %s: lookups, %s", s.name, style)
			r, err := timed(ctx, b.cfg.duration+time.Minute, func(ctx context.Context) (lookupResult, error) {
				return pointLookups(ctx, s, b.cfg.pkRows, 8, b.cfg.duration, style)
			})
			if err != nil {
				errs[j][i] = b.failure(s, fmt.Sprintf("(b) %s: point lookups, %s", s.name, style), err)
				sec.rows = append(sec.rows, []string{style.String(), s.name, "error", "", ""})
				continue
			}
			rates[j][i] = r.perSec
			sec.rows = append(sec.rows, []string{style.String(), s.name, num(r.perSec, nil), fmtDur(r.p50), fmtDur(r.p99)})
		}
		execAll(ctx, s, "DROP TABLE "+pkT)
	}
	for j, style := range styles {
		ratio, ok := ratioOf(rates[j][1], rates[j][0], errs[j][1], errs[j][0])
		sec.notes = append(sec.notes, fmt.Sprintf("hopsql / PG lookups/s, %s: %s", style, ratioStr(ratio, ok)))
	}
	b.rep.sections = append(b.rep.sections, sec)
}

func (b *bench) benchC(ctx context.Context) {
	n := b.cfg.rows
	sec := &section{
		key:   "c",
		title: fmt.Sprintf("(c) COPY FROM STDIN of %d rows (%s) into an empty table", n, bigCols),
		head:  []string{"format", "PostgreSQL rows/s", "PG seconds", "hopsql rows/s", "hopsql seconds", "hopsql / PG", "target", "status"},
	}
	type variant struct {
		name, table string
		f           func(context.Context, *server, string, int64) (time.Duration, error)
	}
	// The binary load goes into bigT, which (d) and (e) then reuse.
	for _, v := range []variant{{"binary (pgx CopyFrom)", bigT, copyBinary}, {"binary (generated stream, pgconn.CopyFrom)", csvT, copyBinaryStream},
		{"CSV text (pgconn.CopyFrom)", csvT, copyCSV}} {
		var rates, secs [2]float64
		var errs [2]error
		for i, s := range b.servers() {
			logf("(c) %s: %s, %d rows", s.name, v.name, n)
			b.settle(ctx, s)
			d, err := timed(ctx, bulkLimit, func(ctx context.Context) (time.Duration, error) { return v.f(ctx, s, v.table, n) })
			if err == nil {
				err = checkCount(ctx, s, v.table, n)
			}
			if err != nil {
				errs[i] = b.failure(s, fmt.Sprintf("(c) %s: %s", s.name, v.name), err)
				continue
			}
			secs[i], rates[i] = d.Seconds(), float64(n)/d.Seconds()
			if v.table == bigT {
				b.loaded[s] = true
			} else {
				execAll(ctx, s, "DROP TABLE "+v.table)
			}
		}
		ratio, ok := ratioOf(rates[1], rates[0], errs[1], errs[0])
		sec.rows = append(sec.rows, []string{v.name, num(rates[0], errs[0]), secStr(secs[0], errs[0]),
			num(rates[1], errs[1]), secStr(secs[1], errs[1]), ratioStr(ratio, ok), "≥ 3×", verdict(ok, ratio >= 3)})
		b.rep.target(fmt.Sprintf("(c) COPY %s: hopsql/PG ≥ 3×", v.name), ok, ratio >= 3, ratioStr(ratio, ok))
	}
	b.rep.sections = append(b.rep.sections, sec)
}

// settle lets the machine finish the background work earlier loads left
// (untimed) so that a measurement starts on a quiet machine and no system
// pays for another's work: PostgreSQL checkpoints (else a COPY also writes
// the last one's dirty buffers), then the bench waits until the machine's
// CPUs are idle (hopsql's compaction and scan cache, PostgreSQL's writer
// and autovacuum, embedded DuckDB's last statement). s is nil for embedded
// DuckDB.
func (b *bench) settle(ctx context.Context, s *server) {
	if s != nil && s == b.pg {
		if err := execAll(ctx, s, "CHECKPOINT"); err != nil {
			logf("%s: CHECKPOINT: %v", s.name, err)
		}
	}
	// Dirty pages any system left in the page cache (PostgreSQL's tables
	// and WAL after a bulk load: half a GiB and more) are written back
	// now, not during the next measurement, where they would stall its
	// fsyncs behind another system's writes.
	syscall.Sync()
	waitQuiet(ctx, 30*time.Second)
}

// waitQuiet returns once the machine's CPUs were less than 15% busy over
// two consecutive half seconds (/proc/stat), or after limit.
func waitQuiet(ctx context.Context, limit time.Duration) {
	deadline := time.Now().Add(limit)
	busy, total, ok := cpuTimes()
	quiet := 0
	for ok && quiet < 2 && time.Now().Before(deadline) {
		select {
		case <-ctx.Done():
			return
		case <-time.After(500 * time.Millisecond):
		}
		b2, t2, ok2 := cpuTimes()
		if !ok2 || t2 == total {
			return
		}
		if float64(b2-busy)/float64(t2-total) < 0.15 {
			quiet++
		} else {
			quiet = 0
		}
		busy, total, ok = b2, t2, ok2
	}
	if ok && quiet < 2 {
		logf("the machine stayed busy for %s; measuring anyway", limit)
	}
}

// cpuTimes reads the machine's busy and total CPU time from /proc/stat.
func cpuTimes() (busy, total uint64, ok bool) {
	data, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, 0, false
	}
	line, _, _ := strings.Cut(string(data), "\n")
	f := strings.Fields(line)
	if len(f) < 5 || f[0] != "cpu" {
		return 0, 0, false
	}
	for i, v := range f[1:] {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			return 0, 0, false
		}
		total += n
		if i != 3 && i != 4 { // idle, iowait
			busy += n
		}
	}
	return busy, total, true
}

// ensureBig makes sure bigT holds cfg.rows rows on s (loaded by (c), or
// here, untimed, when (c) was skipped) and on embedded DuckDB.
func (b *bench) ensureBig(ctx context.Context, s *server) error {
	if !b.loaded[s] {
		logf("%s: loading %d rows into %s (untimed)", s.name, b.cfg.rows, bigT)
		if _, err := timed(ctx, bulkLimit, func(ctx context.Context) (time.Duration, error) { return copyBinary(ctx, s, bigT, b.cfg.rows) }); err != nil {
			return err
		}
		if err := checkCount(ctx, s, bigT, b.cfg.rows); err != nil {
			return err
		}
		b.loaded[s] = true
	}
	if s == b.pg && !b.pgVacuumed {
		// A freshly COPYed PostgreSQL table sets hint bits on its first
		// scan; VACUUM ANALYZE is what a DBA runs after a bulk load, and
		// keeps that one-time write out of the timed reads.
		logf("PostgreSQL: VACUUM ANALYZE %s (untimed)", bigT)
		if err := execAll(ctx, s, "VACUUM ANALYZE "+bigT); err != nil {
			return err
		}
		b.pgVacuumed = true
	}
	return nil
}

func (b *bench) ensureDuck(ctx context.Context) error {
	if b.duckOK {
		return nil
	}
	logf("embedded DuckDB: creating %s with %d rows (untimed)", bigT, b.cfg.rows)
	// The same rows as the COPY generator, made by DuckDB's range().
	q := fmt.Sprintf(`CREATE OR REPLACE TABLE %s AS SELECT range AS id, (((range * 7919) %% 100000) / 100.0)::DOUBLE AS x,
		'row-' || range AS s, TIMESTAMP '2020-01-01 00:00:00' + to_seconds(range) AS ts FROM range(%d)`, bigT, b.cfg.rows)
	if _, err := b.duck.ExecContext(ctx, q); err != nil {
		return fmt.Errorf("%s: %w", q, err)
	}
	var cols string
	if err := b.duck.QueryRowContext(ctx, "SELECT string_agg(column_name || ' ' || data_type, ', ') FROM information_schema.columns WHERE table_name = '"+bigT+"'").Scan(&cols); err == nil {
		logf("embedded DuckDB: %s (%s)", bigT, cols)
	}
	b.duckOK = true
	return nil
}

func (b *bench) benchD(ctx context.Context) {
	n := b.cfg.rows
	sec := &section{
		key:   "d",
		title: fmt.Sprintf("(d) fetching a %d-row result `%s`, every row scanned into Go values (median of 3 after a warm-up)", n, fetchSQL),
		head:  []string{"system", "rows/s", "seconds"},
	}
	// Index 0 PostgreSQL, 1 hopsql, 2 embedded DuckDB: all with Scan, the
	// figures the targets use. 3 and 4 are PostgreSQL and hopsql with
	// RawValues, recorded to show how much of the time is the client's.
	var rates [5]float64
	var errs [5]error
	names := []string{"PostgreSQL (pgx, binary, Scan)", "hopsql (pgx, binary, Scan)", "embedded DuckDB (database/sql, Scan)",
		"PostgreSQL (pgx, binary, RawValues, no decoding)", "hopsql (pgx, binary, RawValues, no decoding)"}
	for i, s := range b.servers() {
		if err := b.ensureBig(ctx, s); err != nil {
			errs[i] = b.failure(s, fmt.Sprintf("(d) %s: loading %s", s.name, bigT), err)
			errs[i+3] = errs[i]
			continue
		}
		sec.notes = append(sec.notes, fmt.Sprintf("%s result columns: %s", s.name, resultFormats(ctx, s)))
		b.settle(ctx, s)
		for j, raw := range []bool{false, true} {
			k := i + 3*j
			logf("(d) %s: fetch (raw %v)", s.name, raw)
			d, _, err := medianOf(3, func() (time.Duration, error) {
				return timed(ctx, bulkLimit, func(ctx context.Context) (time.Duration, error) { return fetchPG(ctx, s, n, raw) })
			})
			if err != nil {
				errs[k] = b.failure(s, fmt.Sprintf("(d) %s: fetch (RawValues %v)", s.name, raw), err)
				continue
			}
			rates[k] = float64(n) / d.Seconds()
		}
	}
	if err := b.ensureDuck(ctx); err != nil {
		errs[2] = b.failure(nil, "(d) embedded DuckDB: create table", err)
	} else {
		b.settle(ctx, nil)
		logf("(d) embedded DuckDB: fetch")
		d, _, err := medianOf(3, func() (time.Duration, error) { return fetchDuck(ctx, b.duck, n) })
		if err != nil {
			errs[2] = b.failure(nil, "(d) embedded DuckDB: fetch", err)
		} else {
			rates[2] = float64(n) / d.Seconds()
		}
	}
	for i := range names {
		sec.rows = append(sec.rows, []string{names[i], num(rates[i], errs[i]), secStr(float64(n)/rates[i], errs[i])})
	}
	r1, ok1 := ratioOf(rates[1], rates[0], errs[1], errs[0])
	r2, ok2 := ratioOf(rates[2], rates[1], errs[2], errs[1])
	r3, ok3 := ratioOf(rates[4], rates[3], errs[4], errs[3])
	sec.ratios = [][]string{
		{"hopsql / PG rows/s (Scan)", ratioStr(r1, ok1), "≥ 2×", verdict(ok1, r1 >= 2)},
		{"embedded DuckDB / hopsql rows/s (Scan)", ratioStr(r2, ok2), "≤ 1.2×", verdict(ok2, r2 <= 1.2)},
		{"hopsql / PG rows/s (RawValues)", ratioStr(r3, ok3), "recorded only", ""},
	}
	b.rep.target("(d) fetch: hopsql/PG ≥ 2×", ok1, r1 >= 2, ratioStr(r1, ok1))
	b.rep.target("(d) fetch: hopsql within 1.2× of embedded DuckDB", ok2, r2 <= 1.2, ratioStr(r2, ok2))
	b.rep.sections = append(b.rep.sections, sec)
}

func (b *bench) benchE(ctx context.Context) {
	n := b.cfg.rows
	sec := &section{
		key:   "e",
		title: fmt.Sprintf("(e) group-by aggregate over %d rows: `%s` (median of 5 after a warm-up)", n, aggSQL),
		head:  []string{"system", "median seconds", "runs (s)"},
	}
	var secs [3]float64
	var errs [3]error
	var runs [3][]time.Duration
	names := []string{"PostgreSQL", "hopsql", "embedded DuckDB"}
	for i, s := range b.servers() {
		if err := b.ensureBig(ctx, s); err != nil {
			errs[i] = b.failure(s, fmt.Sprintf("(e) %s: loading %s", s.name, bigT), err)
			continue
		}
		b.settle(ctx, s)
		logf("(e) %s: aggregate", s.name)
		d, ds, err := medianOf(5, func() (time.Duration, error) {
			return timed(ctx, bulkLimit, func(ctx context.Context) (time.Duration, error) { return aggPG(ctx, s, n) })
		})
		runs[i] = ds
		if err != nil {
			errs[i] = b.failure(s, fmt.Sprintf("(e) %s: aggregate", s.name), err)
			continue
		}
		secs[i] = d.Seconds()
	}
	if err := b.ensureDuck(ctx); err != nil {
		errs[2] = b.failure(nil, "(e) embedded DuckDB: create table", err)
	} else {
		b.settle(ctx, nil)
		logf("(e) embedded DuckDB: aggregate")
		d, ds, err := medianOf(5, func() (time.Duration, error) { return aggDuck(ctx, b.duck, n) })
		runs[2] = ds
		if err != nil {
			errs[2] = b.failure(nil, "(e) embedded DuckDB: aggregate", err)
		} else {
			secs[2] = d.Seconds()
			logf("(e) embedded DuckDB: the aggregate over Parquet files, by codec")
			sec.notes = append(sec.notes, b.codecNote(ctx, n))
		}
	}
	for i := range names {
		var rs []string
		for _, d := range runs[i] {
			rs = append(rs, secStr(d.Seconds(), nil))
		}
		sec.rows = append(sec.rows, []string{names[i], secStr(secs[i], errs[i]), strings.Join(rs, ", ")})
	}
	r1, ok1 := ratioOf(secs[0], secs[1], errs[0], errs[1])
	r2, ok2 := ratioOf(secs[1], secs[2], errs[1], errs[2])
	sec.ratios = [][]string{
		{"PG time / hopsql time", ratioStr(r1, ok1), "≥ 10×", verdict(ok1, r1 >= 10)},
		{"hopsql time / embedded DuckDB time", ratioStr(r2, ok2), "≤ 1.2×", verdict(ok2, r2 <= 1.2)},
	}
	b.rep.target("(e) group-by: PG time / hopsql time ≥ 10×", ok1, r1 >= 10, ratioStr(r1, ok1))
	b.rep.target("(e) group-by: hopsql within 1.2× of embedded DuckDB", ok2, r2 <= 1.2, ratioStr(r2, ok2))
	b.rep.sections = append(b.rep.sections, sec)
}
