package experiment

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hopsql/hopsql/catalog"
	"github.com/hopsql/hopsql/gpu"
	"github.com/hopsql/hopsql/gpu/jobs"
)

// guard bounds every wait on the driver: reaching it means a deadlock (the
// driver never did what the test waits for), not a slow machine.
const guard = 20 * time.Second

// script is what a fake trial's job does.
type script struct {
	reports []jobs.Report // sent one by one, each once the driver takes the previous
	// hold: after the reports, wait for Stop, Kill or the ctx given to
	// Start (a long trial); gate: wait for the gate to close too.
	hold       bool
	gate       chan struct{}
	ignoreStop bool // Stop does not end it: only Kill or the ctx do
	sleep      time.Duration
	startErr   error
	waitErr    error
	outcome    map[string]float64 // nil: the metrics last reported
	outcomeErr error
	early      bool // the job says it ended early on its own
}

// Ways a fake job ended.
const (
	endDone      = "done"
	endStopped   = "stopped"
	endKilled    = "killed"
	endCancelled = "cancelled" // the ctx given to Start
)

type fakeJob struct {
	reports  chan jobs.Report
	stop     chan struct{}
	kill     chan struct{}
	stopOnce sync.Once
	killOnce sync.Once
	done     chan struct{}
	stops    atomic.Int32
	kills    atomic.Int32
	ended    string        // set before done closes
	err      error         // set before done closes
	ran      time.Duration // set before done closes
}

func (j *fakeJob) Reports() <-chan jobs.Report { return j.reports }

func (j *fakeJob) Stop() error {
	j.stops.Add(1)
	j.stopOnce.Do(func() { close(j.stop) })
	return nil
}

func (j *fakeJob) Kill() {
	j.kills.Add(1)
	j.killOnce.Do(func() { close(j.kill) })
}

func (j *fakeJob) Wait() error {
	<-j.done
	return j.err
}

func (j *fakeJob) Ran() time.Duration {
	<-j.done
	return j.ran
}

// counter counts trials running at once, possibly over several envs.
type counter struct {
	mu        sync.Mutex
	now, peak int
}

func (c *counter) add(d int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now += d
	c.peak = max(c.peak, c.now)
}

func (c *counter) max() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.peak
}

type saveCall struct {
	status, msg string
	trials      []catalog.Trial
}

// fakeEnv runs scripted fake jobs and records what the driver does.
type fakeEnv struct {
	t       *testing.T
	scripts map[int]script // by trial number; missing: one report of auc 0.5
	running *counter

	mu     sync.Mutex
	events []string // "start N" when Start is called, "end N" when its job has ended
	starts map[int][]catalog.Trial
	jobs   map[int][]*fakeJob
	saves  []saveCall
}

func newEnv(t *testing.T, scripts map[int]script) *fakeEnv {
	return &fakeEnv{t: t, scripts: scripts, running: &counter{}, starts: map[int][]catalog.Trial{}, jobs: map[int][]*fakeJob{}}
}

func (e *fakeEnv) script(n int) script {
	if s, ok := e.scripts[n]; ok {
		return s
	}
	return script{reports: []jobs.Report{rep(1, 0.5)}}
}

func rep(step int, auc float64) jobs.Report {
	return jobs.Report{Step: step, Metrics: map[string]float64{"auc": auc}, Time: time.Now()}
}

func (e *fakeEnv) event(format string, args ...any) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.events = append(e.events, fmt.Sprintf(format, args...))
}

func (e *fakeEnv) Start(ctx context.Context, t catalog.Trial, g gpu.Grant) (jobs.Job, error) {
	sc := e.script(t.Number)
	if t.Status != catalog.TrialRunning {
		e.t.Errorf("Start(trial %d) with status %s, want RUNNING", t.Number, t.Status)
	}
	if t.Device != g.Device() {
		e.t.Errorf("Start(trial %d): trial device %q, grant %q", t.Number, t.Device, g.Device())
	}
	e.mu.Lock()
	e.starts[t.Number] = append(e.starts[t.Number], t)
	e.events = append(e.events, fmt.Sprintf("start %d", t.Number))
	e.mu.Unlock()
	if sc.startErr != nil {
		e.event("end %d", t.Number)
		return nil, sc.startErr
	}
	j := &fakeJob{reports: make(chan jobs.Report), stop: make(chan struct{}), kill: make(chan struct{}), done: make(chan struct{})}
	e.mu.Lock()
	e.jobs[t.Number] = append(e.jobs[t.Number], j)
	e.mu.Unlock()
	e.running.add(1)
	began := time.Now()
	go func() {
		ended := endDone
		defer func() {
			j.ran = time.Since(began)
			e.running.add(-1)
			e.event("end %d", t.Number)
			j.ended = ended
			switch ended {
			case endKilled, endCancelled:
				j.err = errors.New("signal: killed")
			default:
				j.err = sc.waitErr
			}
			close(j.reports)
			close(j.done)
		}()
		stop := j.stop
		if sc.ignoreStop {
			stop = nil
		}
		wait := func(c <-chan struct{}) bool {
			select {
			case <-c:
				return true
			case <-stop:
				ended = endStopped
			case <-j.kill:
				ended = endKilled
			case <-ctx.Done():
				ended = endCancelled
			}
			return false
		}
		for _, r := range sc.reports {
			select {
			case j.reports <- r:
				continue
			case <-stop:
				ended = endStopped
			case <-j.kill:
				ended = endKilled
			case <-ctx.Done():
				ended = endCancelled
			}
			return
		}
		if sc.sleep > 0 && !wait(timeAfter(sc.sleep)) {
			return
		}
		if sc.gate != nil && !wait(sc.gate) {
			return
		}
		if sc.hold {
			wait(nil)
		}
	}()
	return j, nil
}

func timeAfter(d time.Duration) <-chan struct{} {
	c := make(chan struct{})
	time.AfterFunc(d, func() { close(c) })
	return c
}

func (e *fakeEnv) Outcome(t catalog.Trial, waitErr error) (map[string]float64, bool, error) {
	sc := e.script(t.Number)
	e.mu.Lock()
	js := e.jobs[t.Number]
	e.mu.Unlock()
	stopped := len(js) > 0 && js[len(js)-1].ended == endStopped
	if waitErr != nil {
		return nil, false, fmt.Errorf("trainer %v", waitErr)
	}
	if sc.outcomeErr != nil {
		return nil, false, sc.outcomeErr
	}
	if sc.outcome != nil {
		return sc.outcome, sc.early || stopped, nil
	}
	m := map[string]float64{}
	if len(t.History) > 0 {
		for k, v := range t.History[len(t.History)-1].Metrics {
			m[k] = v
		}
	}
	return m, sc.early || stopped, nil
}

func (e *fakeEnv) Save(status, msg string, trials []catalog.Trial) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.saves = append(e.saves, saveCall{status: status, msg: msg, trials: append([]catalog.Trial(nil), trials...)})
}

// saved is what the catalog holds after the saves: each trial as last saved
// (PutExperiment replaces trials by number).
func (e *fakeEnv) saved() map[int]catalog.Trial {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := map[int]catalog.Trial{}
	for _, s := range e.saves {
		for _, t := range s.trials {
			out[t.Number] = t
		}
	}
	return out
}

// final returns the last Save's status and message, and whether any Save
// ended the experiment (status other than RUNNING).
func (e *fakeEnv) final() (string, string, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	ended := false
	for _, s := range e.saves {
		ended = ended || s.status != catalog.ExperimentRunning
	}
	if len(e.saves) == 0 {
		return "", "", false
	}
	last := e.saves[len(e.saves)-1]
	return last.status, last.msg, ended
}

func (e *fakeEnv) startedNumbers() []int {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []int
	for n, ts := range e.starts {
		for range ts {
			out = append(out, n)
		}
	}
	sort.Ints(out)
	return out
}

func (e *fakeEnv) job(n int) *fakeJob {
	e.mu.Lock()
	defer e.mu.Unlock()
	js := e.jobs[n]
	if len(js) == 0 {
		return nil
	}
	return js[len(js)-1]
}

func (e *fakeEnv) hasEvent(ev string) bool {
	return e.index(ev) >= 0
}

func (e *fakeEnv) index(ev string) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	for i, x := range e.events {
		if x == ev {
			return i
		}
	}
	return -1
}

func (e *fakeEnv) eventList() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]string(nil), e.events...)
}

// waitFor polls cond until it holds; the guard only catches deadlocks.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(guard)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

func waitDone(t *testing.T, d *Driver) {
	t.Helper()
	select {
	case <-d.Done():
	case <-time.After(guard):
		t.Fatal("the experiment did not end")
	}
}

// recorder is a searcher that records the calls to Next.
type recorder struct {
	Searcher
	mu    sync.Mutex
	calls map[int][]Past
	order []int
}

func record(s Searcher) *recorder { return &recorder{Searcher: s, calls: map[int][]Past{}} }

func (r *recorder) Next(n int, past []Past) (Config, error) {
	r.mu.Lock()
	r.calls[n] = past
	r.order = append(r.order, n)
	r.mu.Unlock()
	return r.Searcher.Next(n, past)
}

func (r *recorder) numbers() []int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]int(nil), r.order...)
}

func (r *recorder) past(n int) []Past {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.calls[n]
}

func randomSearcher(t *testing.T, trials int) Searcher {
	t.Helper()
	s, err := NewSearcher(Random, []Dim{{Name: "x", Range: true, Low: 0, High: 1}, {Name: "k", Range: true, Low: 1, High: 1000, Int: true}}, trials, nil, nil, true, 99)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func plan(t *testing.T, trials, parallelism int) Plan {
	return Plan{Searcher: randomSearcher(t, trials), Metric: "auc", Maximize: true, Parallelism: parallelism,
		EarlyStopping: StopNone, MaxFailures: -1}
}

func start(t *testing.T, p Plan, env Env, alloc *gpu.Allocator, past []catalog.Trial) *Driver {
	t.Helper()
	d, err := New(p, env, alloc, past)
	if err != nil {
		t.Fatal(err)
	}
	d.Start(context.Background())
	return d
}

func statuses(trials map[int]catalog.Trial) map[int]string {
	out := map[int]string{}
	for n, t := range trials {
		out[n] = t.Status
	}
	return out
}

func checkFinal(t *testing.T, d *Driver, env *fakeEnv, want string) {
	t.Helper()
	if s, msg := d.Status(); s != want {
		t.Errorf("Status() = %s (%q), want %s", s, msg, want)
	}
	status, msg, _ := env.final()
	if status != want {
		t.Errorf("the last Save carries status %s (%q), want %s", status, msg, want)
	}
}

func TestNewRejectsUnknownEarlyStopping(t *testing.T) {
	p := plan(t, 2, 1)
	p.EarlyStopping = "hyperband"
	if _, err := New(p, newEnv(t, nil), gpu.NewAllocator(nil, 1), nil); err == nil {
		t.Fatal("New accepted an unknown early-stopping rule")
	}
}

func TestDriverRunsWholeBudget(t *testing.T) {
	env := newEnv(t, nil)
	alloc := gpu.NewAllocator(nil, 3)
	p := plan(t, 7, 3)
	rec := record(p.Searcher)
	p.Searcher = rec
	d := start(t, p, env, alloc, nil)
	waitDone(t, d)
	checkFinal(t, d, env, catalog.ExperimentSucceeded)
	if got, want := env.startedNumbers(), []int{1, 2, 3, 4, 5, 6, 7}; !reflect.DeepEqual(got, want) {
		t.Errorf("started %v, want %v", got, want)
	}
	if got := rec.numbers(); !reflect.DeepEqual(got, []int{1, 2, 3, 4, 5, 6, 7}) {
		t.Errorf("Next called for %v, want 1..7 in order", got)
	}
	trials := d.Trials()
	if len(trials) != 7 {
		t.Fatalf("Trials() has %d trials, want 7", len(trials))
	}
	for i, tr := range trials {
		cfg, _ := p.Searcher.Next(i+1, nil)
		if tr.Number != i+1 || tr.Status != catalog.TrialSucceeded || tr.Value == nil || *tr.Value != 0.5 ||
			tr.Device != "cpu" || tr.Attempts != 1 || tr.Started == 0 || tr.Finished < tr.Started {
			t.Errorf("trial %d = %+v", i+1, tr)
		}
		if !reflect.DeepEqual(DecodeParams(tr.Params), cfg.Params) {
			t.Errorf("trial %d params %s, searcher chose %v", tr.Number, tr.Params, cfg.Params)
		}
	}
	if _, used := alloc.CPUSlots(); used != 0 {
		t.Errorf("%d CPU slots still granted after the experiment", used)
	}
	// Each trial is saved as PENDING, RUNNING, then finished (and once more
	// with the experiment's final status, which carries every trial).
	env.mu.Lock()
	var seq []string
	for _, s := range env.saves {
		for _, tr := range s.trials {
			if tr.Number == 3 {
				seq = append(seq, tr.Status)
			}
		}
	}
	env.mu.Unlock()
	if want := []string{catalog.TrialPending, catalog.TrialRunning, catalog.TrialSucceeded, catalog.TrialSucceeded}; !reflect.DeepEqual(seq, want) {
		t.Errorf("trial 3 saved as %v, want %v", seq, want)
	}
}

// TestDriverAsynchronous: a slot freed by a short trial starts the next one
// while a long trial still runs: no barrier.
func TestDriverAsynchronous(t *testing.T) {
	long := make(chan struct{})
	env := newEnv(t, map[int]script{1: {reports: []jobs.Report{rep(1, 0.8)}, gate: long}})
	d := start(t, plan(t, 5, 2), env, gpu.NewAllocator(nil, 4), nil)
	// Trials 2-5 run one after another beside trial 1, which waits for its
	// gate: the experiment would deadlock here if a slot waited for it.
	waitFor(t, "trials 2-5 to end", func() bool { return env.hasEvent("end 5") })
	if env.hasEvent("end 1") {
		t.Fatal("trial 1 ended before its gate opened")
	}
	if got := statuses(env.saved())[1]; got != catalog.TrialRunning {
		t.Errorf("trial 1 is %s while it runs", got)
	}
	close(long)
	waitDone(t, d)
	checkFinal(t, d, env, catalog.ExperimentSucceeded)
	ev := env.eventList()
	for _, n := range []int{3, 4, 5} {
		if env.index(fmt.Sprintf("start %d", n)) > env.index("end 1") {
			t.Errorf("trial %d started after the long trial 1 ended: %v", n, ev)
		}
	}
	if m := env.running.max(); m > 2 {
		t.Errorf("%d trials ran at once, parallelism 2", m)
	}
	for n, s := range statuses(env.saved()) {
		if s != catalog.TrialSucceeded {
			t.Errorf("trial %d is %s", n, s)
		}
	}
}

// TestDriverSynchronous: a generation of Parallelism trials ends before the
// next starts (and early stopping is off).
func TestDriverSynchronous(t *testing.T) {
	long := make(chan struct{})
	env := newEnv(t, map[int]script{
		1: {reports: []jobs.Report{rep(1, 0.9), rep(2, 0.9)}, gate: long},
		2: {reports: []jobs.Report{rep(1, 0.1), rep(2, 0.1)}}, // poor: early stopping would be a candidate
		3: {reports: []jobs.Report{rep(1, 0.9)}},
		4: {reports: []jobs.Report{rep(1, 0.1)}},
		5: {reports: []jobs.Report{rep(1, 0.5)}},
	})
	p := plan(t, 5, 2)
	p.Synchronous = true
	p.EarlyStopping = StopASHA
	rec := record(p.Searcher)
	p.Searcher = rec
	d := start(t, p, env, gpu.NewAllocator(nil, 4), nil)
	waitFor(t, "trial 2 to be saved as finished", func() bool { return statuses(env.saved())[2] == catalog.TrialSucceeded })
	// A driver without a barrier would start trial 3 now; give it time to
	// (this pause is no assertion: the check below holds however long it is).
	time.Sleep(20 * time.Millisecond)
	if env.hasEvent("start 3") {
		t.Errorf("trial 3 started while trial 1 of the first generation still ran: %v", env.eventList())
	}
	close(long)
	waitDone(t, d)
	checkFinal(t, d, env, catalog.ExperimentSucceeded)
	ev := env.eventList()
	for _, pair := range [][2]string{{"end 1", "start 3"}, {"end 2", "start 3"}, {"end 1", "start 4"}, {"end 2", "start 4"},
		{"end 3", "start 5"}, {"end 4", "start 5"}} {
		if env.index(pair[0]) > env.index(pair[1]) {
			t.Errorf("%s came after %s: %v", pair[0], pair[1], ev)
		}
	}
	for _, p := range rec.past(3) {
		if (p.Number == 1 || p.Number == 2) && !p.Finished {
			t.Errorf("Next(3) saw trial %d unfinished: the generation had not ended", p.Number)
		}
	}
	for n, tr := range env.saved() {
		if tr.Status != catalog.TrialSucceeded {
			t.Errorf("trial %d is %s: synchronous runs stop nothing early", n, tr.Status)
		}
		if j := env.job(n); j != nil && j.stops.Load() != 0 {
			t.Errorf("trial %d was asked to stop", n)
		}
	}
}

func reports(values ...float64) []jobs.Report {
	var out []jobs.Report
	for i, v := range values {
		out = append(out, rep(i+1, v))
	}
	return out
}

func TestDriverEarlyStopping(t *testing.T) {
	good := script{reports: reports(0.9, 0.91, 0.92)}
	for _, tc := range []struct {
		name      string
		rule      string
		minTrials int
		warmup    int
		maximize  bool
		scripts   map[int]script
		stopped   int // the trial that must be stopped, 0: none
		stoppedAt int // its steps when stopped
	}{
		{"median stops a worse trial", StopMedian, 2, 0, true,
			map[int]script{1: good, 2: good, 3: {reports: reports(0.1), hold: true}}, 3, 1},
		{"median minimizing", StopMedian, 2, 0, false,
			map[int]script{1: {reports: reports(0.2, 0.1)}, 2: {reports: reports(0.2, 0.1)}, 3: {reports: reports(5), hold: true}}, 3, 1},
		{"median waits for MinTrials", StopMedian, 2, 0, true,
			map[int]script{1: good, 2: {reports: reports(0.1, 0.1, 0.1)}, 3: good}, 0, 0},
		{"median waits for the warm-up", StopMedian, 2, 3, true,
			map[int]script{1: good, 2: good, 3: {reports: reports(0.1, 0.1, 0.1), hold: true}}, 3, 3},
		{"median spares a better trial", StopMedian, 2, 0, true,
			map[int]script{1: good, 2: good, 3: {reports: reports(0.95, 0.96, 0.97)}}, 0, 0},
		// The finished trials' running averages (0.5, 0.7, 0.77), not their
		// values at each step (0.5, 0.9, 0.92): a slower start that ends
		// as well is not stopped.
		{"median compares running averages", StopMedian, 2, 0, true,
			map[int]script{1: {reports: reports(0.5, 0.9, 0.92)}, 2: {reports: reports(0.5, 0.9, 0.92)}, 3: {reports: reports(0.6, 0.75, 0.8)}}, 0, 0},
		{"none stops nothing", StopNone, 2, 0, true,
			map[int]script{1: good, 2: good, 3: {reports: reports(0.1, 0.1, 0.1)}}, 0, 0},
		{"asha stops a bad trial at rung 0", StopASHA, 0, 0, true,
			map[int]script{1: {reports: reports(0.9, 0.9)}, 2: {reports: reports(0.9, 0.9)}, 3: {reports: reports(0.1), hold: true}}, 3, 1},
		// Below three trials at a rung, the top third is no one.
		{"asha waits for three trials at a rung", StopASHA, 0, 0, true,
			map[int]script{1: {reports: reports(0.9, 0.9)}, 2: {reports: reports(0.1)}, 3: {reports: reports(0.95, 0.96)}}, 0, 0},
		{"asha minimizing", StopASHA, 0, 0, false,
			map[int]script{1: {reports: reports(0.2, 0.1)}, 2: {reports: reports(0.3, 0.1)}, 3: {reports: reports(5), hold: true}}, 3, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := newEnv(t, tc.scripts)
			p := plan(t, 3, 1)
			p.EarlyStopping, p.MinTrials, p.Warmup, p.Maximize = tc.rule, tc.minTrials, tc.warmup, tc.maximize
			d := start(t, p, env, gpu.NewAllocator(nil, 1), nil)
			waitDone(t, d)
			checkFinal(t, d, env, catalog.ExperimentSucceeded)
			saved := env.saved()
			for n := 1; n <= 3; n++ {
				j, tr := env.job(n), saved[n]
				if j == nil {
					t.Fatalf("trial %d never started", n)
				}
				if n == tc.stopped {
					if j.stops.Load() != 1 || j.ended != endStopped || tr.Status != catalog.TrialEarlyStopped {
						t.Errorf("trial %d: %d stops, ended %s, status %s; want stopped once, EARLY_STOPPED", n, j.stops.Load(), j.ended, tr.Status)
					}
					last := tc.scripts[n].reports[len(tc.scripts[n].reports)-1].Metrics["auc"]
					if len(tr.History) != tc.stoppedAt || tr.Value == nil || *tr.Value != last {
						t.Errorf("trial %d: history %v, value %v; want %d steps, value %v", n, tr.History, tr.Value, tc.stoppedAt, last)
					}
					continue
				}
				if j.stops.Load() != 0 || tr.Status != catalog.TrialSucceeded {
					t.Errorf("trial %d: %d stops, status %s; want no stop, SUCCEEDED", n, j.stops.Load(), tr.Status)
				}
				if want := len(tc.scripts[n].reports); len(tr.History) != want {
					t.Errorf("trial %d: %d steps in history, want %d", n, len(tr.History), want)
				}
			}
		})
	}
}

// TestDriverEarlyStoppedByItself: a job that says it ended early is
// EARLY_STOPPED without being asked.
func TestDriverEarlyStoppedByItself(t *testing.T) {
	env := newEnv(t, map[int]script{1: {reports: reports(0.7), early: true}})
	d := start(t, plan(t, 1, 1), env, gpu.NewAllocator(nil, 1), nil)
	waitDone(t, d)
	checkFinal(t, d, env, catalog.ExperimentSucceeded)
	if tr := env.saved()[1]; tr.Status != catalog.TrialEarlyStopped || tr.Value == nil || *tr.Value != 0.7 {
		t.Errorf("trial 1 = %+v, want EARLY_STOPPED with value 0.7", tr)
	}
}

// TestDriverKillsAfterStopGrace: a trial that ignores Stop is killed once
// StopGrace has passed; it is early-stopped with its last report, and the
// experiment goes on.
func TestDriverKillsAfterStopGrace(t *testing.T) {
	env := newEnv(t, map[int]script{
		1: {reports: reports(0.9, 0.9)},
		2: {reports: reports(0.1), hold: true, ignoreStop: true},
	})
	p := plan(t, 3, 1)
	p.EarlyStopping, p.MinTrials, p.StopGrace = StopMedian, 1, time.Millisecond
	d := start(t, p, env, gpu.NewAllocator(nil, 1), nil)
	waitDone(t, d)
	j := env.job(2)
	if j.stops.Load() != 1 || j.kills.Load() == 0 || j.ended != endKilled {
		t.Errorf("trial 2: %d stops, %d kills, ended %s; want stopped then killed", j.stops.Load(), j.kills.Load(), j.ended)
	}
	saved := env.saved()
	if tr := saved[2]; tr.Status != catalog.TrialEarlyStopped || tr.Value == nil || *tr.Value != 0.1 || tr.Error != "" {
		t.Errorf("trial 2 = %+v after its kill, want EARLY_STOPPED with value 0.1", tr)
	}
	if s := saved[3].Status; s != catalog.TrialSucceeded {
		t.Errorf("trial 3 is %s: the experiment should go on", s)
	}
	if j := env.job(1); j.kills.Load() != 0 {
		t.Error("trial 1 was killed")
	}
}

func TestDriverFailedTrials(t *testing.T) {
	for _, tc := range []struct {
		name        string
		bad         script
		maxFailures int
		errPart     string
	}{
		{"wait error", script{reports: reports(0.7), waitErr: errors.New("exit status 1")}, -1, "exit status 1"},
		{"outcome error", script{reports: reports(0.7), outcomeErr: errors.New("no outputs.json")}, -1, "no outputs.json"},
		{"start error", script{startErr: errors.New("no interpreter")}, -1, "no interpreter"},
		{"objective missing", script{reports: reports(0.7), outcome: map[string]float64{"accuracy": 0.6}}, -1, `objective metric "auc"`},
		{"within max failures", script{waitErr: errors.New("exit status 1")}, 1, "exit status 1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := newEnv(t, map[int]script{2: tc.bad})
			p := plan(t, 4, 1)
			p.MaxFailures = tc.maxFailures
			d := start(t, p, env, gpu.NewAllocator(nil, 1), nil)
			waitDone(t, d)
			checkFinal(t, d, env, catalog.ExperimentSucceeded)
			saved := env.saved()
			for n := 1; n <= 4; n++ {
				tr := saved[n]
				if n == 2 {
					if tr.Status != catalog.TrialFailed || !strings.Contains(tr.Error, tc.errPart) || tr.Value != nil || tr.Finished == 0 {
						t.Errorf("trial 2 = %+v, want FAILED with an error containing %q", tr, tc.errPart)
					}
					continue
				}
				if tr.Status != catalog.TrialSucceeded {
					t.Errorf("trial %d is %s (%s): the others go on", n, tr.Status, tr.Error)
				}
			}
		})
	}
}

func TestDriverEveryTrialFailed(t *testing.T) {
	fail := script{waitErr: errors.New("exit status 1")}
	env := newEnv(t, map[int]script{1: fail, 2: fail, 3: fail})
	d := start(t, plan(t, 3, 2), env, gpu.NewAllocator(nil, 2), nil)
	waitDone(t, d)
	checkFinal(t, d, env, catalog.ExperimentFailed)
	if _, msg := d.Status(); msg == "" {
		t.Error("a failed experiment without a message")
	}
	if got := env.startedNumbers(); !reflect.DeepEqual(got, []int{1, 2, 3}) {
		t.Errorf("started %v, want all three (max_failures < 0)", got)
	}
}

// TestDriverMaxFailuresZero: the first failure fails the experiment,
// cancels the trial still running and starts no other; the final Save
// carries FAILED.
func TestDriverMaxFailuresZero(t *testing.T) {
	for _, synchronous := range []bool{false, true} {
		t.Run(fmt.Sprintf("synchronous=%v", synchronous), func(t *testing.T) {
			gate := make(chan struct{})
			env := newEnv(t, map[int]script{
				1: {reports: reports(0.5), gate: gate, waitErr: errors.New("exit status 1")},
				2: {reports: reports(0.6), hold: true},
			})
			p := plan(t, 6, 2)
			p.MaxFailures, p.Synchronous = 0, synchronous
			d := start(t, p, env, gpu.NewAllocator(nil, 2), nil)
			waitFor(t, "trials 1 and 2 to start", func() bool { return env.hasEvent("start 1") && env.hasEvent("start 2") })
			close(gate)
			waitDone(t, d)
			if got := env.startedNumbers(); !reflect.DeepEqual(got, []int{1, 2}) {
				t.Errorf("started %v after the failure, want only [1 2]", got)
			}
			if j := env.job(2); j.ended != endCancelled {
				t.Errorf("trial 2 ended %s, want cancelled with the experiment", j.ended)
			}
			saved := env.saved()
			if s := saved[1].Status; s != catalog.TrialFailed {
				t.Errorf("trial 1 is %s, want FAILED", s)
			}
			if s := saved[2].Status; s != catalog.TrialCancelled {
				t.Errorf("trial 2 is %s, want CANCELLED", s)
			}
			for n, tr := range saved {
				if n > 2 && tr.Status != catalog.TrialCancelled {
					t.Errorf("trial %d saved as %s, want none or CANCELLED", n, tr.Status)
				}
			}
			checkFinal(t, d, env, catalog.ExperimentFailed)
			if _, _, ended := env.final(); !ended {
				t.Error("no Save ended the experiment: it would be resumed as RUNNING after a restart")
			}
		})
	}
}

func TestDriverChoosingFails(t *testing.T) {
	env := newEnv(t, nil)
	p := plan(t, 3, 1)
	p.Searcher = failingSearcher{Searcher: p.Searcher, at: 2}
	d := start(t, p, env, gpu.NewAllocator(nil, 1), nil)
	waitDone(t, d)
	checkFinal(t, d, env, catalog.ExperimentFailed)
	if _, msg := d.Status(); !strings.Contains(msg, "choosing trial 2") {
		t.Errorf("message %q", msg)
	}
	if got := env.startedNumbers(); !reflect.DeepEqual(got, []int{1}) {
		t.Errorf("started %v, want [1]", got)
	}
}

type failingSearcher struct {
	Searcher
	at int
}

func (f failingSearcher) Next(n int, past []Past) (Config, error) {
	if n == f.at {
		return Config{}, errors.New("no more ideas")
	}
	return f.Searcher.Next(n, past)
}

// TestDriverNoSlots: an allocator that can never grant the request fails
// the experiment (it would otherwise wait forever).
func TestDriverNoSlots(t *testing.T) {
	for _, tc := range []struct {
		name  string
		alloc *gpu.Allocator
		gpus  float64
	}{
		{"no cpu slots", gpu.NewAllocator(nil, 0), 0},
		{"no gpu", gpu.NewAllocator(nil, 4), 1},
		{"too many gpus", gpu.NewAllocator([]gpu.Device{{Index: 0, UUID: "GPU-a"}}, 4), 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := newEnv(t, nil)
			p := plan(t, 2, 1)
			p.GPUs = tc.gpus
			d := start(t, p, env, tc.alloc, nil)
			waitDone(t, d)
			checkFinal(t, d, env, catalog.ExperimentFailed)
			if got := env.startedNumbers(); len(got) != 0 {
				t.Errorf("started %v", got)
			}
			if s := env.saved()[1].Status; s != catalog.TrialCancelled {
				t.Errorf("trial 1 is %s, want CANCELLED (never started)", s)
			}
		})
	}
}

// TestDriverCancel: Cancel ends running trials as CANCELLED, the waiting
// ones too, starts nothing new and ends the experiment CANCELLED.
func TestDriverCancel(t *testing.T) {
	env := newEnv(t, map[int]script{
		1: {reports: reports(0.5), hold: true},
		2: {reports: reports(0.5), hold: true},
		3: {reports: reports(0.5), hold: true},
	})
	// Parallelism 3 on 2 slots: trial 3 waits for a slot (PENDING).
	d := start(t, plan(t, 6, 3), env, gpu.NewAllocator(nil, 2), nil)
	waitFor(t, "trials 1 and 2 to report, trial 3 to wait", func() bool {
		s := env.saved()
		return s[3].Status == catalog.TrialPending && historyLen(d, 1) == 1 && historyLen(d, 2) == 1
	})
	d.Cancel()
	waitDone(t, d)
	checkFinal(t, d, env, catalog.ExperimentCancelled)
	if got := env.startedNumbers(); !reflect.DeepEqual(got, []int{1, 2}) {
		t.Errorf("started %v, want [1 2]", got)
	}
	saved := env.saved()
	if len(saved) != 3 {
		t.Errorf("saved trials %v, want 1-3", statuses(saved))
	}
	for n, tr := range saved {
		if tr.Status != catalog.TrialCancelled || tr.Finished == 0 {
			t.Errorf("trial %d is %s (finished %d), want CANCELLED", n, tr.Status, tr.Finished)
		}
	}
	for _, n := range []int{1, 2} {
		if j := env.job(n); j.ended != endCancelled {
			t.Errorf("trial %d's job ended %s", n, j.ended)
		}
	}
	d.Cancel() // again, after the end: harmless
}

// TestDriverShutdownAndResume: cancelling the ctx given to Start (a server
// shutdown) saves nothing as finished; a new driver over the saved trials
// re-runs exactly the unfinished ones with their parameters, keeps the
// finished ones and numbers new trials after the highest: the budget runs
// once.
func TestDriverShutdownAndResume(t *testing.T) {
	env := newEnv(t, map[int]script{
		2: {reports: reports(0.5), hold: true},
		3: {reports: reports(0.5, 0.6), hold: true},
		4: {reports: reports(0.5), hold: true},
		5: {reports: reports(0.5), hold: true},
	})
	p := plan(t, 5, 3)
	d, err := New(p, env, gpu.NewAllocator(nil, 2), nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, shutdown := context.WithCancel(context.Background())
	d.Start(ctx)
	// Trial 1 ends, 2 and 3 run (2 slots), 4 waits for a slot.
	waitFor(t, "trials 2 and 3 running, 4 waiting", func() bool {
		s := env.saved()
		return s[1].Status == catalog.TrialSucceeded && s[4].Status == catalog.TrialPending &&
			historyLen(d, 2) == 1 && historyLen(d, 3) == 2
	})
	shutdown()
	waitDone(t, d)
	if s, _ := d.Status(); s != catalog.ExperimentRunning {
		t.Errorf("Status() = %s after a shutdown, want RUNNING", s)
	}
	if _, _, ended := env.final(); ended {
		t.Error("a Save ended the experiment on shutdown")
	}
	saved := env.saved()
	want := map[int]string{1: catalog.TrialSucceeded, 2: catalog.TrialRunning, 3: catalog.TrialRunning, 4: catalog.TrialPending}
	if got := statuses(saved); !reflect.DeepEqual(got, want) {
		t.Fatalf("saved after the shutdown: %v, want %v", got, want)
	}
	for _, n := range []int{2, 3} {
		if j := env.job(n); j.ended != endCancelled {
			t.Errorf("trial %d's job ended %s", n, j.ended)
		}
	}

	// The restart: the catalog's trials, a new env and allocator.
	var past []catalog.Trial
	for n := 1; n <= 4; n++ {
		past = append(past, saved[n])
	}
	env2 := newEnv(t, nil)
	p2 := plan(t, 5, 3)
	rec := record(p2.Searcher)
	p2.Searcher = rec
	d2, err := New(p2, env2, gpu.NewAllocator(nil, 2), past)
	if err != nil {
		t.Fatal(err)
	}
	if got := len(d2.Trials()); got != 4 {
		t.Errorf("Trials() before Start has %d trials, want the 4 given", got)
	}
	d2.Start(context.Background())
	waitDone(t, d2)
	checkFinal(t, d2, env2, catalog.ExperimentSucceeded)
	if got := env2.startedNumbers(); !reflect.DeepEqual(got, []int{2, 3, 4, 5}) {
		t.Errorf("the resumed run started %v, want [2 3 4 5]", got)
	}
	if got := rec.numbers(); !reflect.DeepEqual(got, []int{5}) {
		t.Errorf("the resumed run asked the searcher for %v, want only [5]", got)
	}
	env2.mu.Lock()
	for _, n := range []int{2, 3, 4} {
		if ts := env2.starts[n]; len(ts) != 1 || !jsonEqual(ts[0].Params, saved[n].Params) {
			t.Errorf("trial %d re-run with %v, first run had %s", n, ts, saved[n].Params)
		}
	}
	env2.mu.Unlock()
	final := saved
	for n, tr := range env2.saved() {
		final[n] = tr
	}
	for n := 1; n <= 5; n++ {
		tr := final[n]
		if tr.Status != catalog.TrialSucceeded {
			t.Errorf("trial %d is %s at the end", n, tr.Status)
		}
		wantAttempts := 1
		if n == 2 || n == 3 {
			wantAttempts = 2
		}
		if tr.Attempts != wantAttempts {
			t.Errorf("trial %d: %d attempts, want %d", n, tr.Attempts, wantAttempts)
		}
	}
	if len(final) != 5 {
		t.Errorf("%d trials at the end, want the budget of 5", len(final))
	}
	// The re-run trial 3 starts a fresh history.
	if h := final[3].History; len(h) != 1 {
		t.Errorf("trial 3's history after its re-run: %v", h)
	}
}

// historyLen is how many steps trial n has reported, per Trials().
func historyLen(d *Driver, n int) int {
	for _, tr := range d.Trials() {
		if tr.Number == n {
			return len(tr.History)
		}
	}
	return -1
}

func jsonEqual(a, b json.RawMessage) bool {
	var x, y any
	return json.Unmarshal(a, &x) == nil && json.Unmarshal(b, &y) == nil && reflect.DeepEqual(x, y)
}

// TestDriverResumeKeepsFinished: trials an earlier run finished (in any
// way) are not run again, and the searcher sees them with their outcomes.
func TestDriverResumeKeepsFinished(t *testing.T) {
	v := 0.75
	past := []catalog.Trial{
		{Number: 1, Params: json.RawMessage(`{"x":0.1,"k":3}`), Status: catalog.TrialSucceeded, Value: &v, Attempts: 1,
			History: []catalog.MetricPoint{{Step: 1, Metrics: map[string]float64{"auc": 0.75}}}},
		{Number: 2, Params: json.RawMessage(`{"x":0.2,"k":4}`), Status: catalog.TrialFailed, Attempts: 1},
		{Number: 4, Params: json.RawMessage(`{"x":0.4,"k":6}`), Status: catalog.TrialEarlyStopped, Value: &v, Attempts: 1},
		{Number: 3, Params: json.RawMessage(`{"x":0.3,"k":5}`), Status: catalog.TrialCancelled, Attempts: 1},
	}
	env := newEnv(t, nil)
	p := plan(t, 6, 2)
	rec := record(p.Searcher)
	p.Searcher = rec
	d := start(t, p, env, gpu.NewAllocator(nil, 2), past)
	waitDone(t, d)
	checkFinal(t, d, env, catalog.ExperimentSucceeded)
	if got := env.startedNumbers(); !reflect.DeepEqual(got, []int{5, 6}) {
		t.Errorf("started %v, want [5 6]", got)
	}
	if got := rec.numbers(); !reflect.DeepEqual(got, []int{5, 6}) {
		t.Errorf("Next called for %v, want [5 6]", got)
	}
	// The searcher saw the past with its outcomes.
	byNumber := map[int]Past{}
	for _, p := range rec.past(5) {
		byNumber[p.Number] = p
	}
	if p := byNumber[1]; !p.Finished || p.Failed || p.Value == nil || *p.Value != 0.75 || p.Intermediate[1] != 0.75 ||
		!reflect.DeepEqual(p.Params, map[string]any{"x": 0.1, "k": int64(3)}) {
		t.Errorf("Next(5) saw trial 1 as %+v", p)
	}
	if p := byNumber[2]; !p.Failed {
		t.Errorf("Next(5) saw trial 2 as %+v, want failed", p)
	}
	if p := byNumber[3]; !p.Failed || !p.Finished {
		t.Errorf("Next(5) saw the cancelled trial 3 as %+v, want finished and failed", p)
	}
	if p := byNumber[4]; !p.EarlyStopped || !p.Finished {
		t.Errorf("Next(5) saw trial 4 as %+v, want early-stopped", p)
	}
}

func TestDriverTrialsLiveHistory(t *testing.T) {
	gate := make(chan struct{})
	env := newEnv(t, map[int]script{1: {reports: []jobs.Report{
		{Step: 1, Metrics: map[string]float64{"auc": 0.6, "loss": 0.9}, Time: time.Unix(100, 0)},
		{Step: 2, Metrics: map[string]float64{"auc": 0.7, "loss": 0.8}, Time: time.Unix(200, 0)},
	}, gate: gate}})
	d := start(t, plan(t, 1, 1), env, gpu.NewAllocator(nil, 1), nil)
	var live catalog.Trial
	waitFor(t, "two steps in Trials()", func() bool {
		ts := d.Trials()
		if len(ts) == 1 && len(ts[0].History) == 2 {
			live = ts[0]
			return true
		}
		return false
	})
	if live.Status != catalog.TrialRunning || live.Device != "cpu" || live.Started == 0 || live.Value != nil {
		t.Errorf("running trial = %+v", live)
	}
	wantHist := []catalog.MetricPoint{
		{Step: 1, Time: time.Unix(100, 0).UnixNano(), Metrics: map[string]float64{"auc": 0.6, "loss": 0.9}},
		{Step: 2, Time: time.Unix(200, 0).UnixNano(), Metrics: map[string]float64{"auc": 0.7, "loss": 0.8}},
	}
	if !reflect.DeepEqual(live.History, wantHist) {
		t.Errorf("history %+v, want %+v", live.History, wantHist)
	}
	// The copy is the caller's.
	live.History[0].Step = 99
	live.History = append(live.History, catalog.MetricPoint{Step: 3})
	if h := d.Trials()[0].History; len(h) != 2 || h[0].Step != 1 {
		t.Errorf("changing the returned history changed the driver's: %+v", h)
	}
	if s, _ := d.Status(); s != catalog.ExperimentRunning {
		t.Errorf("Status() = %s while a trial runs", s)
	}
	close(gate)
	waitDone(t, d)
	tr := d.Trials()[0]
	if tr.Status != catalog.TrialSucceeded || tr.Value == nil || *tr.Value != 0.7 || tr.Metrics["loss"] != 0.8 {
		t.Errorf("finished trial = %+v", tr)
	}
}

// TestDriverSharedAllocator: two experiments on one allocator never hold
// more than it has, whatever their parallelism.
func TestDriverSharedAllocator(t *testing.T) {
	for _, tc := range []struct {
		name     string
		devices  []gpu.Device
		cpuSlots int
		gpus     float64
		capacity int
	}{
		{"cpu slots", nil, 2, 0, 2},
		{"gpu halves", []gpu.Device{{Index: 0, UUID: "GPU-a"}}, 8, 0.5, 2},
		{"whole gpus", []gpu.Device{{Index: 0, UUID: "GPU-a"}, {Index: 1, UUID: "GPU-b"}, {Index: 2, UUID: "GPU-c"}}, 8, 1, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			alloc := gpu.NewAllocator(tc.devices, tc.cpuSlots)
			shared := &counter{}
			scripts := map[int]script{}
			for n := 1; n <= 8; n++ {
				scripts[n] = script{reports: reports(0.5), sleep: 2 * time.Millisecond}
			}
			var envs []*fakeEnv
			var drivers []*Driver
			for i := 0; i < 2; i++ {
				env := newEnv(t, scripts)
				env.running = shared
				p := plan(t, 8, 4)
				p.GPUs = tc.gpus
				envs = append(envs, env)
				drivers = append(drivers, start(t, p, env, alloc, nil))
			}
			for i, d := range drivers {
				waitDone(t, d)
				checkFinal(t, d, envs[i], catalog.ExperimentSucceeded)
				for n, tr := range envs[i].saved() {
					if tr.Status != catalog.TrialSucceeded {
						t.Errorf("experiment %d trial %d is %s", i, n, tr.Status)
					}
					if tc.gpus > 0 && !strings.HasPrefix(tr.Device, "GPU-") {
						t.Errorf("experiment %d trial %d ran on %q", i, n, tr.Device)
					}
				}
			}
			if m := shared.max(); m > tc.capacity {
				t.Errorf("%d trials ran at once on an allocator with room for %d", m, tc.capacity)
			}
			if _, used := alloc.CPUSlots(); used != 0 {
				t.Errorf("%d CPU slots still granted", used)
			}
			for u, f := range alloc.Used() {
				if f != 0 {
					t.Errorf("%s still %.3f granted", u, f)
				}
			}
		})
	}
}

// TestDriverResumeFeedsEarlyStopping: the finished trials of an earlier run
// count for the median rule after a restart.
func TestDriverResumeFeedsEarlyStopping(t *testing.T) {
	v := 0.92
	hist := []catalog.MetricPoint{
		{Step: 1, Metrics: map[string]float64{"auc": 0.9}},
		{Step: 2, Metrics: map[string]float64{"auc": 0.91}},
		{Step: 3, Metrics: map[string]float64{"auc": 0.92}},
	}
	past := []catalog.Trial{
		{Number: 1, Params: json.RawMessage(`{"x":0.1,"k":3}`), Status: catalog.TrialSucceeded, Value: &v, History: hist, Attempts: 1},
		{Number: 2, Params: json.RawMessage(`{"x":0.2,"k":4}`), Status: catalog.TrialSucceeded, Value: &v, History: hist, Attempts: 1},
	}
	env := newEnv(t, map[int]script{3: {reports: reports(0.1), hold: true}})
	p := plan(t, 3, 1)
	p.EarlyStopping, p.MinTrials = StopMedian, 2
	d := start(t, p, env, gpu.NewAllocator(nil, 1), past)
	waitDone(t, d)
	checkFinal(t, d, env, catalog.ExperimentSucceeded)
	if got := env.startedNumbers(); !reflect.DeepEqual(got, []int{3}) {
		t.Fatalf("started %v, want [3]", got)
	}
	if tr := env.saved()[3]; tr.Status != catalog.TrialEarlyStopped || env.job(3).stops.Load() != 1 {
		t.Errorf("trial 3 is %s after %d stops, want EARLY_STOPPED: the restored trials should count", tr.Status, env.job(3).stops.Load())
	}
}
