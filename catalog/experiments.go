package catalog

import (
	"encoding/json"
	"sort"
)

// Experiment statuses. A RUNNING experiment found at start-up is resumed by
// the node that leads the catalog.
const (
	ExperimentRunning   = "RUNNING"
	ExperimentSucceeded = "SUCCEEDED"
	ExperimentFailed    = "FAILED"
	ExperimentCancelled = "CANCELLED"
)

// Trial statuses.
const (
	TrialPending      = "PENDING"
	TrialRunning      = "RUNNING"
	TrialSucceeded    = "SUCCEEDED"
	TrialFailed       = "FAILED"
	TrialEarlyStopped = "EARLY_STOPPED"
	TrialCancelled    = "CANCELLED"
)

// Experiment is one run of a hyperparameter search or ablation study. The
// catalog keeps what a restart needs to resume it: the request (Spec, opaque
// here: the engine owns its shape) and every trial with its outcome.
type Experiment struct {
	ID       uint64          `json:"id"`
	Project  string          `json:"project"`
	Name     string          `json:"name"`
	Owner    string          `json:"owner"`
	Spec     json.RawMessage `json:"spec"`
	Status   string          `json:"status"`
	Error    string          `json:"error,omitempty"`
	Created  int64           `json:"created"`
	Finished int64           `json:"finished,omitempty"`
	Trials   []Trial         `json:"trials,omitempty"`
}

// Trial is one configuration an experiment ran (or will run).
type Trial struct {
	Number   int                `json:"number"`
	Params   json.RawMessage    `json:"params"`            // hyperparameters, a JSON object
	Ablated  string             `json:"ablated,omitempty"` // "feature:x" or "layer:y" for ablation trials
	Status   string             `json:"status"`
	Value    *float64           `json:"value,omitempty"` // the objective
	Metrics  map[string]float64 `json:"metrics,omitempty"`
	History  []MetricPoint      `json:"history,omitempty"`
	Device   string             `json:"device,omitempty"`
	Started  int64              `json:"started,omitempty"`
	Finished int64              `json:"finished,omitempty"`
	// Ran is how long the trainer's process ran (ns): Finished − Started
	// minus this is the scheduler's overhead.
	Ran      int64  `json:"ran,omitempty"`
	Error    string `json:"error,omitempty"`
	Attempts int    `json:"attempts,omitempty"`
}

// MetricPoint is one step a trial reported.
type MetricPoint struct {
	Step    int                `json:"step"`
	Time    int64              `json:"time"`
	Metrics map[string]float64 `json:"metrics"`
}

// PutExperiment creates an experiment (Experiment.ID 0: the leader picks
// the id, returned by Propose) or updates one: its status and the trials
// given, matched by number (others are kept).
type PutExperiment struct {
	Project    string      `json:"project"`
	Experiment *Experiment `json:"experiment,omitempty"`
	ID         uint64      `json:"id,omitempty"` // for updates without a header
	Trials     []Trial     `json:"trials,omitempty"`
}

// DropExperiment forgets an experiment (its files are the engine's to remove).
type DropExperiment struct {
	Project string `json:"project"`
	ID      uint64 `json:"id"`
}

func (s *state) experiment(project string, id uint64) *Experiment {
	for _, x := range s.Experiments {
		if x.ID == id && x.Project == project {
			return x
		}
	}
	return nil
}

func (s *state) applyPutExperiment(p PutExperiment, now int64, ids *idSource) (uint64, error) {
	if _, ok := s.Projects[p.Project]; !ok {
		return 0, errorf(CodeNotFound, "database %q does not exist", p.Project)
	}
	var x *Experiment
	switch {
	case p.Experiment != nil && p.Experiment.ID == 0:
		id, err := ids.next()
		if err != nil {
			return 0, err
		}
		c := *p.Experiment
		c.ID, c.Project, c.Created = id, p.Project, now
		if c.Status == "" {
			c.Status = ExperimentRunning
		}
		x = &c
		s.Experiments = append(s.Experiments, x)
	default:
		id := p.ID
		if p.Experiment != nil {
			id = p.Experiment.ID
		}
		if x = s.experiment(p.Project, id); x == nil {
			return 0, errorf(CodeNotFound, "experiment %d does not exist", id)
		}
		if h := p.Experiment; h != nil {
			if x.Status != h.Status && h.Status != ExperimentRunning {
				x.Finished = now
			}
			x.Status, x.Error = h.Status, h.Error
			if h.Status == ExperimentRunning {
				x.Finished = 0
			}
		}
	}
	for _, t := range p.Trials {
		i := sort.Search(len(x.Trials), func(i int) bool { return x.Trials[i].Number >= t.Number })
		if i < len(x.Trials) && x.Trials[i].Number == t.Number {
			x.Trials[i] = t
			continue
		}
		x.Trials = append(x.Trials, Trial{})
		copy(x.Trials[i+1:], x.Trials[i:])
		x.Trials[i] = t
	}
	return x.ID, nil
}

func (s *state) applyDropExperiment(p DropExperiment) error {
	for i, x := range s.Experiments {
		if x.ID == p.ID && x.Project == p.Project {
			s.Experiments = append(s.Experiments[:i], s.Experiments[i+1:]...)
			return nil
		}
	}
	return errorf(CodeNotFound, "experiment %d does not exist", p.ID)
}

// Experiments returns a project's experiments (all projects for ""), oldest
// first, as deep copies.
func (n *Node) Experiments(project string) []Experiment {
	n.fsm.mu.RLock()
	defer n.fsm.mu.RUnlock()
	var out []Experiment
	for _, x := range n.fsm.s.Experiments {
		if project == "" || x.Project == project {
			out = append(out, copyExperiment(x))
		}
	}
	return out
}

// Experiment returns one experiment.
func (n *Node) Experiment(project string, id uint64) (Experiment, bool) {
	n.fsm.mu.RLock()
	defer n.fsm.mu.RUnlock()
	x := n.fsm.s.experiment(project, id)
	if x == nil {
		return Experiment{}, false
	}
	return copyExperiment(x), true
}

func copyExperiment(x *Experiment) Experiment {
	c := *x
	c.Trials = make([]Trial, len(x.Trials))
	for i, t := range x.Trials {
		c.Trials[i] = t
		// Metrics and History are replaced, never changed in place, by
		// apply; sharing them is safe.
	}
	return c
}
