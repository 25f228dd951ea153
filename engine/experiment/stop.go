package experiment

import (
	"fmt"
	"sort"
	"sync"

	"github.com/c-bata/goptuna"
	"github.com/c-bata/goptuna/medianstopping"
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
// goptuna's pruners judge them — the median rule (stop a trial whose best
// value so far is worse than the median of finished trials' values at the
// same step, once minTrials trials finished) or successive halving, the
// asynchronous kind (ASHA: at steps 1, 3, 9, … keep the top third of the
// trials that reached that step).
type stopper struct {
	mu     sync.Mutex
	rule   string
	study  *goptuna.Study
	pruner goptuna.Pruner
	ids    map[int]int // trial number → goptuna trial id
}

func newStopper(rule string, maximize bool, minTrials int) (*stopper, error) {
	var pruner goptuna.Pruner
	switch rule {
	case StopNone, "":
		return &stopper{rule: StopNone}, nil
	case StopMedian:
		m := medianstopping.NewMedianPruner()
		m.NStartUpTrials = minTrials
		pruner = m
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
