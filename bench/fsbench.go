package main

// (f) filesystem metadata benchmark: a read-heavy mix of fs operations,
// in-process on fs.FS over its own one-node catalog, and over the WebHDFS
// REST API of the running hopsql; plus the latency of reading a 4 KiB file.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/hopsql/hopsql/catalog"
	"github.com/hopsql/hopsql/fs"
)

const (
	fsDirs        = 10   // directories of small files
	fsFilesPerDir = 100  // so a list returns 100 entries
	fsFileSize    = 4096 // bytes per small file (inline in the catalog)
	fsWorkers     = 8    // goroutines in-process, HTTP clients over REST
	fsManyWorkers = 64   // a second in-process run: concurrent writes share fsyncs
	fsLatReads    = 5000 // reads per latency measurement
)

// fsTarget is the filesystem as one interface sees it.
type fsTarget interface {
	stat(ctx context.Context, p string) error
	list(ctx context.Context, p string, want int) error
	read(ctx context.Context, p string) ([]byte, error)
	create(ctx context.Context, p string, data []byte) error
	mkdirs(ctx context.Context, p string) error
	rename(ctx context.Context, src, dst string) error
	remove(ctx context.Context, p string) error
}

// --- in-process --------------------------------------------------------------

type localFS struct{ f *fs.FS }

func (l localFS) stat(ctx context.Context, p string) error {
	_, err := l.f.Stat(ctx, p)
	return err
}

func (l localFS) list(ctx context.Context, p string, want int) error {
	list, err := l.f.List(ctx, p)
	if err == nil && len(list) != want {
		err = fmt.Errorf("list %s: %d entries, want %d", p, len(list), want)
	}
	return err
}

func (l localFS) read(ctx context.Context, p string) ([]byte, error) { return l.f.ReadFile(ctx, p) }

func (l localFS) create(ctx context.Context, p string, data []byte) error {
	_, err := l.f.WriteFile(ctx, p, data, fs.CreateOptions{Owner: "bench"})
	return err
}

func (l localFS) mkdirs(ctx context.Context, p string) error {
	_, err := l.f.Mkdirs(ctx, p, "bench", 0)
	return err
}

func (l localFS) rename(ctx context.Context, src, dst string) error { return l.f.Rename(ctx, src, dst) }
func (l localFS) remove(ctx context.Context, p string) error        { return l.f.Delete(ctx, p, false) }

// openLocalFS starts a one-node catalog in dir with a project "bench".
func openLocalFS(ctx context.Context, dir string) (*catalog.Node, *fs.FS, error) {
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	node, err := catalog.Open(ctx, catalog.Config{Dir: filepath.Join(dir, "catalog"), Logger: quiet})
	if err != nil {
		return nil, nil, fmt.Errorf("open catalog: %w", err)
	}
	if _, err := node.Propose(ctx, catalog.CmdCreateProject, catalog.CreateProject{Name: "bench", Owner: "bench"}); err != nil {
		node.Close()
		return nil, nil, fmt.Errorf("create project: %w", err)
	}
	f, err := fs.Open(node, dir, quiet)
	if err != nil {
		node.Close()
		return nil, nil, err
	}
	return node, f, nil
}

// --- REST ----------------------------------------------------------------------

type restFS struct {
	base string // http://host:port
	hc   *http.Client
}

func newRestFS(base string) restFS {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = fsManyWorkers // keep-alive for every client
	return restFS{base: base, hc: &http.Client{Transport: tr, Timeout: time.Minute}}
}

// do sends one request and returns the body of a 2xx answer.
func (r restFS) do(ctx context.Context, method, p, query string, body []byte) ([]byte, error) {
	u := r.base + "/webhdfs/v1" + (&url.URL{Path: p}).EscapedPath() + "?" + query
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return nil, err
	}
	resp, err := r.hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, u, err)
	}
	if resp.StatusCode/100 != 2 {
		return nil, fmt.Errorf("%s %s: %s: %s", method, u, resp.Status, bytes.TrimSpace(b))
	}
	return b, nil
}

func (r restFS) stat(ctx context.Context, p string) error {
	b, err := r.do(ctx, "GET", p, "op=GETFILESTATUS", nil)
	if err != nil {
		return err
	}
	var m struct{ FileStatus struct{ Length int64 } }
	return json.Unmarshal(b, &m)
}

func (r restFS) list(ctx context.Context, p string, want int) error {
	b, err := r.do(ctx, "GET", p, "op=LISTSTATUS", nil)
	if err != nil {
		return err
	}
	var m struct {
		FileStatuses struct {
			FileStatus []struct {
				PathSuffix string
				Length     int64
			}
		}
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return fmt.Errorf("LISTSTATUS %s: %w", p, err)
	}
	if n := len(m.FileStatuses.FileStatus); n != want {
		return fmt.Errorf("LISTSTATUS %s: %d entries, want %d", p, n, want)
	}
	return nil
}

func (r restFS) read(ctx context.Context, p string) ([]byte, error) {
	return r.do(ctx, "GET", p, "op=OPEN", nil)
}

func (r restFS) create(ctx context.Context, p string, data []byte) error {
	_, err := r.do(ctx, "PUT", p, "op=CREATE&data=true", data)
	return err
}

func (r restFS) mkdirs(ctx context.Context, p string) error {
	_, err := r.do(ctx, "PUT", p, "op=MKDIRS", nil)
	return err
}

func (r restFS) expectTrue(b []byte, err error, what string) error {
	if err == nil && !bytes.Contains(b, []byte(`"boolean":true`)) {
		err = fmt.Errorf("%s: %s", what, bytes.TrimSpace(b))
	}
	return err
}

func (r restFS) rename(ctx context.Context, src, dst string) error {
	b, err := r.do(ctx, "PUT", src, "op=RENAME&destination="+url.QueryEscape(dst), nil)
	return r.expectTrue(b, err, "RENAME "+src)
}

func (r restFS) remove(ctx context.Context, p string) error {
	b, err := r.do(ctx, "DELETE", p, "op=DELETE", nil)
	return r.expectTrue(b, err, "DELETE "+p)
}

// --- workloads ---------------------------------------------------------------------

func fsFile(root string, d, f int) string { return fmt.Sprintf("%s/d%02d/f%03d", root, d, f) }

// populate writes the small files with fsWorkers writers.
func populate(ctx context.Context, t fsTarget, root string) error {
	data := bytes.Repeat([]byte("x"), fsFileSize)
	jobs := make(chan string)
	errs := make(chan error, fsWorkers)
	var wg sync.WaitGroup
	for range fsWorkers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for p := range jobs {
				if err := t.create(ctx, p, data); err != nil {
					errs <- fmt.Errorf("populate %s: %w", p, err)
					for range jobs { // drain
					}
					return
				}
			}
		}()
	}
	for d := range fsDirs {
		for f := range fsFilesPerDir {
			jobs <- fsFile(root, d, f)
		}
	}
	close(jobs)
	wg.Wait()
	select {
	case err := <-errs:
		return err
	default:
		return nil
	}
}

// opKind indexes the per-kind counters.
const (
	kStat = iota
	kList
	kRead
	kWrite
	nKinds
)

var kindNames = [nKinds]string{"stat", "list (100 entries)", "read 4 KiB", "create/rename/delete"}

type mixResult struct {
	perSec float64
	count  [nKinds]int64
	total  [nKinds]time.Duration
}

// runMix runs the 90/10 mix on `workers` workers for d: 30% stat, 30% list
// of a 100-entry directory, 30% read of a 4 KiB file, 10% writes; each
// worker's writes cycle create → rename → delete in its own directory.
func runMix(ctx context.Context, t fsTarget, root string, workers int, d time.Duration) (mixResult, error) {
	wdir := func(w int) string { return fmt.Sprintf("%s/w%d-%d", root, workers, w) }
	for w := range workers {
		if err := t.mkdirs(ctx, wdir(w)); err != nil {
			return mixResult{}, fmt.Errorf("mkdirs: %w", err)
		}
	}
	data := bytes.Repeat([]byte("y"), fsFileSize)
	res := make([]mixResult, workers)
	errs := make([]error, workers)
	var wg sync.WaitGroup
	start := time.Now()
	deadline := start.Add(d)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(w), 7))
			r := &res[w]
			seq, phase := 0, 0
			for {
				t0 := time.Now()
				if !t0.Before(deadline) || ctx.Err() != nil {
					return
				}
				var err error
				kind := kWrite
				switch n := rng.IntN(100); {
				case n < 30:
					kind, err = kStat, t.stat(ctx, fsFile(root, rng.IntN(fsDirs), rng.IntN(fsFilesPerDir)))
				case n < 60:
					kind, err = kList, t.list(ctx, fmt.Sprintf("%s/d%02d", root, rng.IntN(fsDirs)), fsFilesPerDir)
				case n < 90:
					kind = kRead
					var b []byte
					b, err = t.read(ctx, fsFile(root, rng.IntN(fsDirs), rng.IntN(fsFilesPerDir)))
					if err == nil && len(b) != fsFileSize {
						err = fmt.Errorf("read %d bytes, want %d", len(b), fsFileSize)
					}
				default:
					a, b := fmt.Sprintf("%s/a%d", wdir(w), seq), fmt.Sprintf("%s/b%d", wdir(w), seq)
					switch phase {
					case 0:
						err = t.create(ctx, a, data)
					case 1:
						err = t.rename(ctx, a, b)
					case 2:
						err = t.remove(ctx, b)
						seq++
					}
					phase = (phase + 1) % 3
				}
				if err != nil {
					errs[w] = fmt.Errorf("%s: %w", kindNames[kind], err)
					return
				}
				r.count[kind]++
				r.total[kind] += time.Since(t0)
			}
		}()
	}
	wg.Wait()
	el := time.Since(start)
	var out mixResult
	for w := range res {
		if errs[w] != nil {
			return mixResult{}, errs[w]
		}
		for k := range nKinds {
			out.count[k] += res[w].count[k]
			out.total[k] += res[w].total[k]
		}
	}
	var n int64
	for _, c := range out.count {
		n += c
	}
	out.perSec = float64(n) / el.Seconds()
	return out, nil
}

// readLatency reads random 4 KiB files one at a time (after a warm-up)
// and returns the p50 and p99 of the per-read latency.
func readLatency(ctx context.Context, t fsTarget, root string) (time.Duration, time.Duration, error) {
	rng := rand.New(rand.NewPCG(99, 1))
	lats := make([]time.Duration, 0, fsLatReads)
	for i := range fsLatReads + 200 {
		p := fsFile(root, rng.IntN(fsDirs), rng.IntN(fsFilesPerDir))
		t0 := time.Now()
		b, err := t.read(ctx, p)
		if err != nil {
			return 0, 0, err
		}
		if len(b) != fsFileSize {
			return 0, 0, fmt.Errorf("read %s: %d bytes, want %d", p, len(b), fsFileSize)
		}
		if i >= 200 {
			lats = append(lats, time.Since(t0))
		}
	}
	slices.Sort(lats)
	pct := func(p float64) time.Duration { return lats[min(len(lats)-1, int(p*float64(len(lats))))] }
	return pct(0.50), pct(0.99), nil
}

type fsRun struct {
	mixes    []mixResult // one per worker count
	p50, p99 time.Duration
	err      error
}

// measureFS populates root, runs the mix once per worker count, then
// measures read latency.
func measureFS(ctx context.Context, t fsTarget, root string, d time.Duration, workers []int) fsRun {
	if err := populate(ctx, t, root); err != nil {
		return fsRun{err: err}
	}
	var r fsRun
	for _, w := range workers {
		logf("(f)   mix with %d workers", w)
		mix, err := runMix(ctx, t, root, w, d)
		if err != nil {
			return fsRun{err: fmt.Errorf("mix with %d workers: %w", w, err)}
		}
		r.mixes = append(r.mixes, mix)
	}
	var err error
	if r.p50, r.p99, err = readLatency(ctx, t, root); err != nil {
		return fsRun{err: fmt.Errorf("read latency: %w", err)}
	}
	return r
}

func (b *bench) benchF(ctx context.Context) {
	d := b.cfg.duration
	sec := &section{
		key: "f",
		title: fmt.Sprintf("(f) filesystem metadata operations: 90%% reads (stat, list a %d-entry directory, read a 4 KiB file), "+
			"10%% writes (create / rename / delete), %s per measurement", fsFilesPerDir, d),
		head: []string{"interface", "workers", "mix ops/s", "mean latency per kind", "4 KiB read p50", "4 KiB read p99"},
	}
	type target struct {
		name    string
		t       func() (fsTarget, func(), error)
		root    string
		workers []int
	}
	targets := []target{
		{"in-process (fs.FS over a one-node catalog)", func() (fsTarget, func(), error) {
			tmp, err := os.MkdirTemp("", "hopsql-fsbench-")
			if err != nil {
				return nil, nil, err
			}
			node, f, err := openLocalFS(ctx, tmp)
			if err != nil {
				os.RemoveAll(tmp)
				return nil, nil, err
			}
			return localFS{f}, func() { node.Close(); os.RemoveAll(tmp) }, nil
		}, "/Projects/bench/Resources/fsbench", []int{fsWorkers, fsManyWorkers}},
		{"REST (WebHDFS, HTTP/1.1 keep-alive, against `hopsql serve`)", func() (fsTarget, func(), error) {
			if b.hop.http == "" {
				return nil, nil, fmt.Errorf("hopsql printed no WebHDFS address")
			}
			return newRestFS(b.hop.http), func() {}, nil
		}, "/Projects/hopsql/Resources/fsbench", []int{fsWorkers}},
	}
	var runs [2]fsRun
	for i, tg := range targets {
		logf("(f) %s: %d files of %d bytes, then the mix for %s", tg.name, fsDirs*fsFilesPerDir, fsFileSize, d)
		t, done, err := tg.t()
		if err == nil {
			runs[i] = measureFS(ctx, t, tg.root, d, tg.workers)
			done()
		} else {
			runs[i].err = err
		}
		if runs[i].err != nil {
			var s *server
			if i == 1 {
				s = b.hop
			}
			b.failure(s, "(f) "+tg.name, runs[i].err)
			sec.rows = append(sec.rows, []string{tg.name, "", "error", "", "", ""})
			continue
		}
		for j, mix := range runs[i].mixes {
			var kinds []string
			for k := range nKinds {
				if n := mix.count[k]; n > 0 {
					kinds = append(kinds, fmt.Sprintf("%s %s (%s ops)", kindNames[k], fmtDur(mix.total[k]/time.Duration(n)), num(float64(n), nil)))
				}
			}
			p50, p99 := "", ""
			if j == 0 {
				p50, p99 = fmtDur(runs[i].p50), fmtDur(runs[i].p99)
			}
			sec.rows = append(sec.rows, []string{tg.name, fmt.Sprint(tg.workers[j]), num(mix.perSec, nil), strings.Join(kinds, "; "), p50, p99})
		}
	}
	// The targets stay in the section's own table (not the summary at the
	// top), so that a run of -only f can replace the section alone.
	in, rest := runs[0], runs[1]
	for j, w := range targets[0].workers {
		v, ok := 0.0, in.err == nil
		if ok {
			v = in.mixes[j].perSec
		}
		sec.ratios = append(sec.ratios, []string{fmt.Sprintf("in-process mix ops/s, %d workers", w), num(v, in.err), "≥ 50,000", verdict(ok, v >= 50000)})
	}
	sec.ratios = append(sec.ratios,
		[]string{"in-process 4 KiB read p99", fmtDur(in.p99), "< 1 ms", verdict(in.err == nil, in.p99 < time.Millisecond)},
		[]string{"REST 4 KiB read p99", fmtDur(rest.p99), "< 1 ms", verdict(rest.err == nil, rest.p99 < time.Millisecond)})
	sec.notes = append(sec.notes,
		fmt.Sprintf("Setup: %d directories × %d files of %d bytes (inline in the catalog), written before the clock starts. "+
			"Each worker picks stat / list / read uniformly at random (30%% each) and otherwise does its next write, cycling "+
			"create → rename → delete in a directory of its own; every write is a Raft entry committed to the fsynced log "+
			"(raft-wal) before it returns, so in a closed loop the writes' latency bounds the mix. The REST clients decode "+
			"the JSON answers; client and server share the machine's cores. Read latency: one reader, %d random 4 KiB files "+
			"one after another after a warm-up, no other load.", fsDirs, fsFilesPerDir, fsFileSize, fsLatReads),
		fmt.Sprintf("Measured %s on %s.", time.Now().UTC().Format("2006-01-02 15:04 MST"), machineLine()),
		"Run alone: `go run ./bench -hopsql ./bin/hopsql -only f -duration 3s` (starts only hopsql, no PostgreSQL; replaces this section in place).")
	b.rep.sections = append(b.rep.sections, sec)
}

// machineLine summarises the machine for a section that may be spliced
// into a results file written by another run.
func machineLine() string {
	var cpu, cores string
	for _, m := range describeMachine() {
		switch m.k {
		case "CPU":
			cpu = m.v
		case "cores (runtime.NumCPU)":
			cores = m.v
		}
	}
	return fmt.Sprintf("%s, %s cores", cpu, cores)
}
