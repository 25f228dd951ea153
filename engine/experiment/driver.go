package experiment

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/hopsql/hopsql/catalog"
	"github.com/hopsql/hopsql/gpu"
	"github.com/hopsql/hopsql/gpu/jobs"
)

// Plan is how an experiment runs.
type Plan struct {
	Searcher      Searcher
	Metric        string // the objective
	Maximize      bool
	Parallelism   int     // trials at once
	GPUs          float64 // per trial; 0 = a CPU slot
	EarlyStopping string  // none, median, asha
	MinTrials     int     // finished trials before the median rule may stop one
	Warmup        int     // steps a trial reports before the median rule may stop it
	MaxFailures   int     // failed trials tolerated; < 0: any number
	// Synchronous runs generations of Parallelism trials with a barrier
	// between them and no early stopping: how Spark-era searches ran,
	// kept for comparison (bench).
	Synchronous bool
	// StopGrace is how long a trial asked to stop may take before it is
	// killed.
	StopGrace time.Duration
}

// Env is what the engine provides: starting a trial's job, reading what a
// finished job left, and recording changes durably.
type Env interface {
	Start(ctx context.Context, t catalog.Trial, g gpu.Grant) (jobs.Job, error)
	// Outcome returns a finished job's final metrics and whether it ended
	// early on its own, or why it failed (waitErr is the job's exit).
	Outcome(t catalog.Trial, waitErr error) (map[string]float64, bool, error)
	// Save records trials and, when final, the experiment's status.
	Save(status, errMsg string, trials []catalog.Trial)
}

// Driver runs one experiment.
type Driver struct {
	plan    Plan
	env     Env
	alloc   *gpu.Allocator
	stopper *stopper

	mu       sync.Mutex
	trials   map[int]*catalog.Trial
	status   string
	errMsg   string
	failures int

	cancel     context.CancelFunc
	userCancel bool
	done       chan struct{}
}

// New returns a driver for plan over the trials an earlier run of the same
// experiment left (none for a new one).
func New(plan Plan, env Env, alloc *gpu.Allocator, past []catalog.Trial) (*Driver, error) {
	if plan.Synchronous {
		plan.EarlyStopping = StopNone
	}
	st, err := newStopper(plan.EarlyStopping, plan.Maximize, max(plan.MinTrials, 1), plan.Warmup)
	if err != nil {
		return nil, err
	}
	if plan.StopGrace <= 0 {
		plan.StopGrace = 30 * time.Second
	}
	d := &Driver{plan: plan, env: env, alloc: alloc, stopper: st, trials: map[int]*catalog.Trial{},
		status: catalog.ExperimentRunning, done: make(chan struct{})}
	for _, t := range past {
		t := t
		d.trials[t.Number] = &t
		if finished(t.Status) {
			d.stopper.finish(t.Number, t.Status, t.Value, objective(t.History, plan.Metric))
			if t.Status == catalog.TrialFailed {
				d.failures++
			}
		}
	}
	return d, nil
}

func finished(status string) bool {
	switch status {
	case catalog.TrialSucceeded, catalog.TrialFailed, catalog.TrialEarlyStopped, catalog.TrialCancelled:
		return true
	}
	return false
}

func objective(h []catalog.MetricPoint, metric string) map[int]float64 {
	out := map[int]float64{}
	for _, p := range h {
		if v, ok := p.Metrics[metric]; ok {
			out[p.Step] = v
		}
	}
	return out
}

// Done is closed when the experiment has ended (or the driver was shut down).
func (d *Driver) Done() <-chan struct{} { return d.done }

// Status returns the experiment's status and error.
func (d *Driver) Status() (string, string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.status, d.errMsg
}

// Trials returns the trials as they are now, running ones with the steps
// reported so far.
func (d *Driver) Trials() []catalog.Trial {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := make([]catalog.Trial, 0, len(d.trials))
	for _, t := range d.trials {
		c := *t
		c.History = append([]catalog.MetricPoint(nil), t.History...)
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Number < out[j].Number })
	return out
}

// Cancel stops the experiment: running trials are killed and recorded as
// CANCELLED, no new one starts.
func (d *Driver) Cancel() {
	d.mu.Lock()
	d.userCancel = true
	cancel := d.cancel
	d.mu.Unlock()
	if cancel != nil {
		cancel()
	}
}

// Start runs the experiment in the background. Cancelling ctx (server
// shutdown) kills running trials without recording anything, so that the
// next start resumes them.
func (d *Driver) Start(ctx context.Context) {
	ctx, cancel := context.WithCancel(ctx)
	d.mu.Lock()
	d.cancel = cancel
	user := d.userCancel
	d.mu.Unlock()
	if user {
		cancel() // cancelled before it started
	}
	go func() {
		defer close(d.done)
		defer cancel()
		defer func() {
			// A bug here must fail the experiment, not kill the server.
			if r := recover(); r != nil {
				d.finish(catalog.ExperimentFailed, fmt.Sprintf("internal error: %v", r))
			}
		}()
		d.run(ctx)
	}()
}

type result struct{ number int }

func (d *Driver) run(ctx context.Context) {
	// Unfinished trials of an earlier run go first, with their own
	// configuration; new numbers continue after the highest one made.
	var queue []int
	next := 1
	for n, t := range d.trials {
		if !finished(t.Status) {
			queue = append(queue, n)
		}
		next = max(next, n+1)
	}
	sort.Ints(queue)
	d.mu.Lock()
	over := d.failedOutLocked()
	d.mu.Unlock()
	if over {
		// Resumed after the failure that ends it was recorded.
		d.finish(catalog.ExperimentFailed, fmt.Sprintf("%d trials failed (max_failures = %d)", d.failures, d.plan.MaxFailures))
		return
	}
	results := make(chan result, max(d.plan.Parallelism, 1))
	running := 0
	failedOut := false
	for {
		for !failedOut && ctx.Err() == nil && running < max(d.plan.Parallelism, 1) {
			var n int
			switch {
			case len(queue) > 0:
				n, queue = queue[0], queue[1:]
			case next <= d.plan.Searcher.Total():
				cfg, err := d.plan.Searcher.Next(next, d.past())
				if err != nil {
					d.finish(catalog.ExperimentFailed, fmt.Sprintf("choosing trial %d: %v", next, err))
					d.drain(results, running)
					return
				}
				t := &catalog.Trial{Number: next, Params: encodeParams(cfg.Params), Ablated: cfg.Ablated, Status: catalog.TrialPending}
				d.mu.Lock()
				d.trials[next] = t
				d.mu.Unlock()
				n = next
				next++
				d.save(n)
			}
			if n == 0 {
				break
			}
			g, err := d.alloc.AcquireWait(ctx, d.plan.GPUs)
			if err != nil {
				if ctx.Err() == nil {
					d.finish(catalog.ExperimentFailed, err.Error())
					d.drain(results, running)
					return
				}
				break
			}
			running++
			go func(n int, g gpu.Grant) {
				d.runTrial(ctx, n, g)
				d.alloc.Release(g)
				results <- result{number: n}
			}(n, g)
		}
		if d.plan.Synchronous && running > 0 {
			// The barrier: a generation ends when all its trials have.
			for ; running > 0; running-- {
				d.afterTrial(<-results, &failedOut)
			}
			continue
		}
		if running == 0 {
			break
		}
		d.afterTrial(<-results, &failedOut)
		running--
	}
	if failedOut {
		// Checked first: failing out cancelled the context too.
		d.finish(catalog.ExperimentFailed, fmt.Sprintf("%d trials failed (max_failures = %d)", d.failures, d.plan.MaxFailures))
		return
	}
	if ctx.Err() != nil {
		d.mu.Lock()
		user := d.userCancel
		d.mu.Unlock()
		if user {
			d.finish(catalog.ExperimentCancelled, "")
		}
		return
	}
	d.mu.Lock()
	ok := false
	for _, t := range d.trials {
		ok = ok || t.Status == catalog.TrialSucceeded || t.Status == catalog.TrialEarlyStopped
	}
	d.mu.Unlock()
	if !ok {
		d.finish(catalog.ExperimentFailed, "every trial failed (see hopsql.trials.error and each trial's output.log)")
		return
	}
	d.finish(catalog.ExperimentSucceeded, "")
}

// afterTrial counts a trial's failure; one too many fails the experiment
// and cancels the trials still running.
func (d *Driver) afterTrial(r result, failedOut *bool) {
	d.mu.Lock()
	failed := d.trials[r.number].Status == catalog.TrialFailed
	if failed {
		d.failures++
	}
	over := d.plan.MaxFailures >= 0 && d.failures > d.plan.MaxFailures
	d.mu.Unlock()
	if over && !*failedOut {
		*failedOut = true
		// The running trials are cancelled: the experiment has failed.
		d.mu.Lock()
		cancel := d.cancel
		d.mu.Unlock()
		cancel()
	}
}

// drain waits for running trials after the experiment ended.
func (d *Driver) drain(results chan result, running int) {
	d.Cancel()
	for ; running > 0; running-- {
		<-results
	}
}

func (d *Driver) past() []Past {
	d.mu.Lock()
	defer d.mu.Unlock()
	var out []Past
	for _, t := range d.trials {
		out = append(out, Past{Number: t.Number, Params: DecodeParams(t.Params), Finished: finished(t.Status),
			Failed:       t.Status == catalog.TrialFailed || t.Status == catalog.TrialCancelled,
			EarlyStopped: t.Status == catalog.TrialEarlyStopped, Value: t.Value,
			Intermediate: objective(t.History, d.plan.Metric)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Number < out[j].Number })
	return out
}

func (d *Driver) save(numbers ...int) {
	d.mu.Lock()
	var ts []catalog.Trial
	for _, n := range numbers {
		ts = append(ts, *d.trials[n])
	}
	status, msg := d.status, d.errMsg
	d.mu.Unlock()
	d.env.Save(status, msg, ts)
}

func (d *Driver) finish(status, msg string) {
	d.mu.Lock()
	d.status, d.errMsg = status, msg
	// Every trial goes with the final status: one that an earlier save
	// failed to record is recorded now.
	var ts []catalog.Trial
	for _, t := range d.trials {
		if !finished(t.Status) && status != catalog.ExperimentRunning {
			// Never started (or killed with the experiment).
			t.Status = catalog.TrialCancelled
			t.Finished = time.Now().UnixNano()
		}
		ts = append(ts, *t)
	}
	d.mu.Unlock()
	d.env.Save(status, msg, ts)
}

// runTrial runs trial n on grant g and records how it ended.
func (d *Driver) runTrial(ctx context.Context, n int, g gpu.Grant) {
	d.mu.Lock()
	t := d.trials[n]
	t.Status, t.Device, t.Started, t.Finished = catalog.TrialRunning, g.Device(), time.Now().UnixNano(), 0
	t.Value, t.Metrics, t.History, t.Error, t.Ran = nil, nil, nil, "", 0
	t.Attempts++
	d.mu.Unlock()
	d.stopper.start(n)
	d.save(n)

	job, err := d.env.Start(ctx, *d.snapshot(n), g)
	if err != nil {
		if ctx.Err() != nil {
			// Cancelled or shut down while starting: not the trial's fault.
			d.end(ctx, n, catalog.TrialCancelled, nil, "")
			return
		}
		d.end(ctx, n, catalog.TrialFailed, nil, err.Error())
		return
	}
	stopAsked := false
	var grace *time.Timer
	for r := range job.Reports() {
		d.mu.Lock()
		t.History = append(t.History, catalog.MetricPoint{Step: r.Step, Time: r.Time.UnixNano(), Metrics: r.Metrics})
		d.mu.Unlock()
		if v, ok := r.Metrics[d.plan.Metric]; ok && !stopAsked && d.stopper.report(n, r.Step, v) {
			stopAsked = true
			_ = job.Stop()
			grace = time.AfterFunc(d.plan.StopGrace, job.Kill)
		}
	}
	waitErr := job.Wait()
	if grace != nil {
		grace.Stop()
	}
	d.mu.Lock()
	t.Ran = job.Ran().Nanoseconds()
	d.mu.Unlock()
	if ctx.Err() != nil {
		d.end(ctx, n, catalog.TrialCancelled, nil, "")
		return
	}
	metrics, early, err := d.env.Outcome(*d.snapshot(n), waitErr)
	if err != nil && stopAsked {
		// Asked to stop, it did not end in time and was killed: it is
		// still an early-stopped trial, worth its last report.
		if last := d.lastReport(n); last != nil {
			d.end(ctx, n, catalog.TrialEarlyStopped, last, "")
			return
		}
	}
	if err != nil {
		d.end(ctx, n, catalog.TrialFailed, nil, err.Error())
		return
	}
	if _, ok := metrics[d.plan.Metric]; !ok {
		d.end(ctx, n, catalog.TrialFailed, metrics, fmt.Sprintf("the trial did not report the objective metric %q", d.plan.Metric))
		return
	}
	status := catalog.TrialSucceeded
	if early {
		status = catalog.TrialEarlyStopped
	}
	d.end(ctx, n, status, metrics, "")
}

// lastReport returns the metrics of trial n's last report with the
// objective, or nil.
func (d *Driver) lastReport(n int) map[string]float64 {
	d.mu.Lock()
	defer d.mu.Unlock()
	h := d.trials[n].History
	for i := len(h) - 1; i >= 0; i-- {
		if _, ok := h[i].Metrics[d.plan.Metric]; ok {
			return h[i].Metrics
		}
	}
	return nil
}

func (d *Driver) snapshot(n int) *catalog.Trial {
	d.mu.Lock()
	defer d.mu.Unlock()
	c := *d.trials[n]
	return &c
}

// end records a trial's outcome. A trial cut short by a shutdown is not
// recorded: it stays RUNNING in the catalog and is run again on resume.
func (d *Driver) end(ctx context.Context, n int, status string, metrics map[string]float64, msg string) {
	d.mu.Lock()
	t := d.trials[n]
	if status == catalog.TrialCancelled && !d.userCancel && ctx.Err() != nil && d.status == catalog.ExperimentRunning && !d.failedOutLocked() {
		d.mu.Unlock()
		return
	}
	t.Status, t.Metrics, t.Error, t.Finished = status, metrics, msg, time.Now().UnixNano()
	if v, ok := metrics[d.plan.Metric]; ok {
		t.Value = &v
	}
	value := t.Value
	hist := objective(t.History, d.plan.Metric)
	d.mu.Unlock()
	d.stopper.finish(n, status, value, hist)
	d.save(n)
}

func (d *Driver) failedOutLocked() bool {
	return d.plan.MaxFailures >= 0 && d.failures > d.plan.MaxFailures
}

// ErrShutdown is what waiting on a driver that was shut down returns.
var ErrShutdown = errors.New("the server is shutting down; the experiment resumes when it starts again")

// encodeParams is a configuration's JSON form (integers stay integers).
func encodeParams(p map[string]any) json.RawMessage {
	b, err := json.Marshal(p)
	if err != nil {
		return json.RawMessage("{}")
	}
	return b
}

// DecodeParams reads a configuration back: whole numbers written without
// a fraction become int64, others float64.
func DecodeParams(raw json.RawMessage) map[string]any {
	out := map[string]any{}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var m map[string]any
	if dec.Decode(&m) != nil {
		return out
	}
	for k, v := range m {
		if n, ok := v.(json.Number); ok {
			if i, err := n.Int64(); err == nil && !strings.ContainsAny(n.String(), ".eE") {
				out[k] = i
			} else if f, err := n.Float64(); err == nil {
				out[k] = f
			}
			continue
		}
		out[k] = v
	}
	return out
}
