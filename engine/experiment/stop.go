package experiment

import (
	"fmt"
	"sort"
	"sync"

	"github.com/c-bata/goptuna"
)

// Early-stopping rules.
const (
	StopNone   = "none"
	StopMedian = "median"
	StopASHA   = "asha"
)

// stopper decides from a running trial's reports whether to stop it. It
// keeps one goptuna study for the experiment's life: each trial is a
// goptuna trial whose intermediate values are the objective per step, and
// a goptuna pruner judges them (the median stopping rule, medianRule); or
// asynchronous successive halving (asha).
type stopper struct {
	mu     sync.Mutex
	rule   string
	study  *goptuna.Study
	pruner goptuna.Pruner
	ids    map[int]int // trial number → goptuna trial id
	asha   *asha
}

func newStopper(rule string, maximize bool, minTrials, warmup int) (*stopper, error) {
	var pruner goptuna.Pruner
	switch rule {
	case StopNone, "":
		return &stopper{rule: StopNone}, nil
	case StopMedian:
		pruner = medianRule{minTrials: minTrials, warmup: warmup}
	case StopASHA:
		return &stopper{rule: rule, asha: newASHA(1, 3, maximize)}, nil
	default:
		return nil, fmt.Errorf("unknown early stopping rule %q", rule)
	}
	dir := goptuna.StudyDirectionMinimize
	if maximize {
		dir = goptuna.StudyDirectionMaximize
	}
	study, err := goptuna.CreateStudy("experiment", goptuna.StudyOptionStorage(goptuna.NewInMemoryStorage()),
		goptuna.StudyOptionDirection(dir), goptuna.StudyOptionPruner(pruner), goptuna.StudyOptionLogger(quiet{}))
	if err != nil {
		return nil, fmt.Errorf("early stopping study: %w", err)
	}
	return &stopper{rule: rule, study: study, pruner: pruner, ids: map[int]int{}}, nil
}

func (s *stopper) trial(n int) (int, error) {
	if id, ok := s.ids[n]; ok {
		return id, nil
	}
	id, err := s.study.Storage.CreateNewTrial(s.study.ID)
	if err != nil {
		return 0, err
	}
	s.ids[n] = id
	return id, nil
}

// start forgets what an earlier attempt of trial n reported: a re-run
// reports its steps again.
func (s *stopper) start(n int) {
	if s.rule == StopNone {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.asha != nil {
		s.asha.forget(n)
		return
	}
	if id, ok := s.ids[n]; ok {
		_ = s.study.Storage.SetTrialState(id, goptuna.TrialStateFail)
		delete(s.ids, n)
	}
}

// report records trial n's objective at a step and says whether to stop it.
func (s *stopper) report(n, step int, value float64) bool {
	if s.rule == StopNone {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.asha != nil {
		return s.asha.report(n, step, value, true)
	}
	id, err := s.trial(n)
	if err != nil {
		return false
	}
	if err := s.study.Storage.SetTrialIntermediateValue(id, step, value); err != nil {
		return false
	}
	ft, err := s.study.Storage.GetTrial(id)
	if err != nil {
		return false
	}
	stop, err := s.pruner.Prune(s.study, ft)
	return err == nil && stop
}

// finish records how trial n ended (its history too, for trials restored
// after a restart).
func (s *stopper) finish(n int, status string, value *float64, history map[int]float64) {
	if s.rule == StopNone {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.asha != nil {
		// A trial restored after a restart: its values at the rungs count.
		if !s.asha.seen(n) {
			steps := make([]int, 0, len(history))
			for st := range history {
				steps = append(steps, st)
			}
			sort.Ints(steps)
			for _, st := range steps {
				s.asha.report(n, st, history[st], false)
			}
		}
		return
	}
	id, err := s.trial(n)
	if err != nil {
		return
	}
	steps := make([]int, 0, len(history))
	for st := range history {
		steps = append(steps, st)
	}
	sort.Ints(steps)
	for _, st := range steps {
		_ = s.study.Storage.SetTrialIntermediateValue(id, st, history[st])
	}
	state := goptuna.TrialStateFail
	switch status {
	case "SUCCEEDED":
		state = goptuna.TrialStateComplete
	case "EARLY_STOPPED":
		state = goptuna.TrialStatePruned
	}
	if value != nil && state != goptuna.TrialStateFail {
		_ = s.study.Storage.SetTrialValue(id, *value)
	}
	_ = s.study.Storage.SetTrialState(id, state)
}

// quiet is goptuna's logger: hopsql reports trials itself.
type quiet struct{}

func (quiet) Debug(string, ...interface{}) {}
func (quiet) Info(string, ...interface{})  {}
func (quiet) Warn(string, ...interface{})  {}
func (quiet) Error(string, ...interface{}) {}

// medianRule is the median stopping rule of Google Vizier, as Maggy applies
// it: at step s, stop a trial whose best value so far is worse than the
// median, over the trials that finished, of their running averages up to
// step s — once minTrials trials finished and the trial reported warmup
// steps. (goptuna's MedianPruner compares with finished trials' values at
// step s itself, not their running averages, and from the first step: on
// boosting rounds that stops fast learners with slow starts, the best
// configurations among them.)
type medianRule struct{ minTrials, warmup int }

func (m medianRule) Prune(study *goptuna.Study, trial goptuna.FrozenTrial) (bool, error) {
	step, ok := trial.GetLatestStep()
	if !ok || step < m.warmup {
		return false, nil
	}
	all, err := study.Storage.GetAllTrials(study.ID)
	if err != nil {
		return false, err
	}
	maximize := study.Direction() == goptuna.StudyDirectionMaximize
	better := func(a, b float64) bool { return maximize && a > b || !maximize && a < b }
	var averages []float64
	finished := 0
	for _, t := range all {
		if t.State != goptuna.TrialStateComplete {
			continue
		}
		finished++
		sum, n := 0.0, 0
		for st, v := range t.IntermediateValues {
			if st <= step {
				sum += v
				n++
			}
		}
		if n > 0 {
			averages = append(averages, sum/float64(n))
		}
	}
	if finished < m.minTrials || len(averages) == 0 {
		return false, nil
	}
	best, first := 0.0, true
	for _, v := range trial.IntermediateValues {
		if first || better(v, best) {
			best, first = v, false
		}
	}
	sort.Float64s(averages)
	n := len(averages)
	median := averages[n/2]
	if n%2 == 0 {
		median = (averages[n/2-1] + averages[n/2]) / 2
	}
	return better(median, best), nil
}

// asha is asynchronous successive halving (Li et al., "A System for
// Massively Parallel Hyperparameter Tuning", as Optuna's
// SuccessiveHalvingPruner applies it): rung k is step minStep·factor^k; a
// trial reaching a rung records its value there and goes on only if that
// value is among the top 1/factor of the values recorded at the rung so far
// (always, until factor trials have reached it). Written here because
// goptuna v0.9.0's pruner compares a trial's first step with other trials'
// later ones (it re-records the last completed rung at every step), which
// stops the best configurations.
type asha struct {
	minStep, factor int
	maximize        bool
	rungs           []map[int]float64 // rung → trial → value
	next            map[int]int       // trial → its next rung
}

func newASHA(minStep, factor int, maximize bool) *asha {
	return &asha{minStep: minStep, factor: factor, maximize: maximize, next: map[int]int{}}
}

func (a *asha) rungStep(k int) int {
	s := a.minStep
	for i := 0; i < k; i++ {
		s *= a.factor
	}
	return s
}

func (a *asha) seen(n int) bool { _, ok := a.next[n]; return ok }

func (a *asha) record(k, n int, value float64) {
	for len(a.rungs) <= k {
		a.rungs = append(a.rungs, map[int]float64{})
	}
	a.rungs[k][n] = value
}

// forget removes an earlier attempt of trial n.
func (a *asha) forget(n int) {
	for _, r := range a.rungs {
		delete(r, n)
	}
	delete(a.next, n)
}

// report records trial n's value at a step; with decide, it says whether
// to stop the trial.
func (a *asha) report(n, step int, value float64, decide bool) bool {
	k := a.next[n]
	if step < a.rungStep(k) {
		return false
	}
	// A report may pass several rungs at once: it is the value at each.
	for a.rungStep(k+1) <= step {
		a.record(k, n, value)
		k++
	}
	a.record(k, n, value)
	a.next[n] = k + 1
	if !decide || len(a.rungs[k]) < a.factor {
		return false
	}
	values := make([]float64, 0, len(a.rungs[k]))
	for _, v := range a.rungs[k] {
		values = append(values, v)
	}
	sort.Float64s(values)
	if a.maximize {
		for i, j := 0, len(values)-1; i < j; i, j = i+1, j-1 {
			values[i], values[j] = values[j], values[i]
		}
	}
	keep := max(len(values)/a.factor, 1)
	cut := values[keep-1]
	if a.maximize {
		return value < cut
	}
	return value > cut
}
