package main

import (
	"bufio"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"
)

type kv struct{ k, v string }

// section is one benchmark's table in the results file.
type section struct {
	key    string
	title  string
	head   []string
	rows   [][]string
	ratios [][]string // metric, value, target, status
	notes  []string
}

type targetRow struct {
	name, value, status string
}

type report struct {
	cfg         config
	started     time.Time
	finished    time.Time
	interrupted bool
	machine     []kv
	sections    []*section
	targets     []targetRow
	failures    []string
}

func (r *report) target(name string, ok, met bool, value string) {
	r.targets = append(r.targets, targetRow{name, value, verdict(ok, met)})
}

// verdict is MET / NOT MET, or NOT MEASURED when a side failed: a failure
// never counts as meeting a target.
func verdict(ok, met bool) string {
	switch {
	case !ok:
		return "NOT MEASURED (error)"
	case met:
		return "MET"
	default:
		return "NOT MET"
	}
}

// ratioOf is a/b, valid only when both were measured.
func ratioOf(a, b float64, errA, errB error) (float64, bool) {
	if errA != nil || errB != nil || b == 0 || a == 0 {
		return 0, false
	}
	return a / b, true
}

func ratioStr(r float64, ok bool) string {
	if !ok {
		return "n/a"
	}
	return fmt.Sprintf("%.2f×", r)
}

// num formats a rate with thousands separators.
func num(v float64, err error) string {
	if err != nil {
		return "error"
	}
	s := strconv.FormatInt(int64(math.Round(v)), 10)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

func secStr(s float64, err error) string {
	if err != nil {
		return "error"
	}
	// Small-row runs finish in milliseconds; keep enough digits to compare.
	if s < 1 {
		return fmt.Sprintf("%.4f", s)
	}
	return fmt.Sprintf("%.3f", s)
}

func fmtDur(d time.Duration) string {
	return fmt.Sprintf("%.3f ms", float64(d.Microseconds())/1000)
}

func describeMachine() []kv {
	var out []kv
	cpu := "unknown"
	if f, err := os.Open("/proc/cpuinfo"); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
				cpu = strings.TrimSpace(v)
				break
			}
		}
		f.Close()
	}
	out = append(out, kv{"CPU", cpu}, kv{"cores (runtime.NumCPU)", strconv.Itoa(runtime.NumCPU())})
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if f := strings.Fields(l); len(f) >= 2 && f[0] == "MemTotal:" {
				kb, _ := strconv.ParseFloat(f[1], 64)
				out = append(out, kv{"RAM", fmt.Sprintf("%.1f GiB", kb/(1<<20))})
			}
		}
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		out = append(out, kv{"kernel", "Linux " + strings.TrimSpace(string(b))})
	}
	out = append(out, kv{"Go", runtime.Version()})
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		out = append(out, kv{"load average at start", strings.Join(strings.Fields(string(b))[:3], " ")})
	}
	return out
}

func (r *report) write() error {
	if standaloneOnly(r.cfg.only) {
		if old, err := os.ReadFile(r.cfg.out); err == nil {
			return r.splice(string(old))
		}
	}
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	w("# hopsql benchmark results\n\n")
	w("Written by `go run ./bench` (see bench/README.md); every figure below was measured in this run, nothing is hard-coded.\n\n")
	w("**Caveat:** these figures come from a shared 2-core machine on which other builds and tests may have been running; " +
		"client, servers and embedded DuckDB all share the same cores, so absolute numbers are noisy and ratios are indicative only.\n\n")
	status := "complete"
	switch {
	case r.interrupted:
		status = "INTERRUPTED — partial results"
	case r.finished.IsZero():
		status = "in progress (partial results)"
	}
	w("Run: %s, started %s", status, r.started.Format(time.RFC3339))
	if !r.finished.IsZero() {
		w(", took %s", r.finished.Sub(r.started).Round(time.Second))
	}
	w(". Flags: `-rows %d -duration %s -only %s` (point-lookup table: %d rows).\n\n", r.cfg.rows, r.cfg.duration, onlyList(r.cfg.only), r.cfg.pkRows)

	w("## Machine\n\n| | |\n|---|---|\n")
	for _, m := range r.machine {
		w("| %s | %s |\n", m.k, strings.ReplaceAll(m.v, "|", "\\|"))
	}
	if lb, err := os.ReadFile("/proc/loadavg"); err == nil {
		w("| load average at write | %s |\n", strings.Join(strings.Fields(string(lb))[:3], " "))
	}
	w("| date | %s |\n\n", time.Now().Format("2006-01-02 15:04 MST"))
	w("PostgreSQL runs with its durable defaults (fsync=on, synchronous_commit=on) plus shared_buffers=1GB and max_wal_size=8GB; " +
		"hopsql runs `serve` on a fresh data directory with its defaults.\n\n")

	if len(r.targets) > 0 {
		w("## Targets\n\n| target | measured | status |\n|---|---|---|\n")
		for _, t := range r.targets {
			w("| %s | %s | %s |\n", t.name, t.value, t.status)
		}
		w("\n")
	}
	for _, s := range r.sections {
		writeSection(&b, s)
	}
	if len(r.failures) > 0 {
		w("## Failures\n\nThese operations failed; their figures above read `error` and their targets NOT MEASURED.\n\n")
		for _, f := range r.failures {
			w("```\n%s\n```\n\n", strings.TrimSpace(f))
		}
	}
	if dir := filepath.Dir(r.cfg.out); dir != "" {
		os.MkdirAll(dir, 0o755)
	}
	return os.WriteFile(r.cfg.out, []byte(b.String()), 0o644)
}

func writeSection(b *strings.Builder, s *section) {
	w := func(format string, args ...any) { fmt.Fprintf(b, format, args...) }
	if spliced[s.key] {
		w("%s\n", beginMark(s.key))
	}
	w("## %s\n\n", s.title)
	w("| %s |\n|%s\n", strings.Join(s.head, " | "), strings.Repeat("---|", len(s.head)))
	for _, row := range s.rows {
		w("| %s |\n", strings.Join(row, " | "))
	}
	w("\n")
	if len(s.ratios) > 0 {
		w("| ratio | value | target | status |\n|---|---|---|---|\n")
		for _, row := range s.ratios {
			w("| %s |\n", strings.Join(row, " | "))
		}
		w("\n")
	}
	for _, n := range s.notes {
		w("%s\n\n", n)
	}
	if spliced[s.key] {
		w("%s\n\n", endMark(s.key))
	}
}

// spliced are the sections that need no PostgreSQL: a run of only those
// replaces them in an existing results file (or appends them), keeping
// every other figure.
var spliced = map[string]bool{"f": true, "j": true}

func beginMark(key string) string { return "<!-- bench:" + key + " begin -->" }
func endMark(key string) string   { return "<!-- bench:" + key + " end -->" }

func standaloneOnly(only map[string]bool) bool {
	for k, on := range only {
		if on && !spliced[k] {
			return false
		}
	}
	return len(only) > 0
}

func (r *report) splice(old string) error {
	for _, s := range r.sections {
		if !spliced[s.key] {
			continue
		}
		// The run's failures go inside the section; the file's own
		// Failures list belongs to the run that wrote it.
		sc := *s
		sc.notes = slices.Clone(s.notes)
		for _, f := range r.failures {
			sc.notes = append(sc.notes, "Failed: `"+strings.ReplaceAll(strings.TrimSpace(f), "\n", " ")+"`")
		}
		var b strings.Builder
		writeSection(&b, &sc)
		block := b.String()
		begin, end := beginMark(s.key), endMark(s.key)
		if i := strings.Index(old, begin); i >= 0 {
			if j := strings.Index(old[i:], end); j >= 0 {
				stop := i + j + len(end)
				for stop < len(old) && old[stop] == '\n' {
					stop++
				}
				old = old[:i] + block + old[stop:]
				continue
			}
		}
		old = strings.TrimRight(old, "\n") + "\n\n" + block
	}
	// Their rows of the Targets table too, so that the file agrees with
	// itself.
	lines := strings.Split(old, "\n")
	for _, t := range r.targets {
		for i, l := range lines {
			if strings.HasPrefix(l, "| "+t.name+" |") {
				lines[i] = fmt.Sprintf("| %s | %s | %s |", t.name, t.value, t.status)
			}
		}
	}
	return os.WriteFile(r.cfg.out, []byte(strings.Join(lines, "\n")), 0o644)
}

func onlyList(m map[string]bool) string {
	var ks []string
	for _, k := range []string{"a", "b", "c", "d", "e", "f", "g", "h", "i", "j"} {
		if m[k] {
			ks = append(ks, k)
		}
	}
	return strings.Join(ks, ",")
}
