package experiment

import (
	"fmt"
	"sort"
	"sync"

	"github.com/c-bata/goptuna"
	"github.com/c-bata/goptuna/successivehalving"
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
// a goptuna pruner judges them — the median stopping rule (medianRule) or
// goptuna's successive halving, the asynchronous kind (ASHA: at steps 1, 3,
// 9, … keep the top third of the trials that reached that step).
type stopper struct {
	mu     sync.Mutex
	rule   string
	study  *goptuna.Study
	pruner goptuna.Pruner
	ids    map[int]int // trial number → goptuna trial id
}

func newStopper(rule string, maximize bool, minTrials, warmup int) (*stopper, error) {
	var pruner goptuna.Pruner
	switch rule {
	case StopNone, "":
		return &stopper{rule: StopNone}, nil
	case StopMedian:
		pruner = medianRule{minTrials: minTrials, warmup: warmup}
	case StopASHA:
		p, err := successivehalving.NewPruner(successivehalving.OptionMinResource(1),
			successivehalving.OptionReductionFactor(3), successivehalving.OptionMinEarlyStoppingRate(0))
		if err != nil {
			return nil, fmt.Errorf("asha: %w", err)
		}
		pruner = p
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
