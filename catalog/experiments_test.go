package catalog

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"
)

// TestExperiments: an experiment gets its id from the leader; trials are
// upserted by number (others kept, order by number); a final status sets
// Finished; dropping the experiment or its project forgets it; all of it
// survives a restart from snapshot and log.
func TestExperiments(t *testing.T) {
	dir := t.TempDir()
	n := openNode(t, dir, Config{})
	propose(t, n, CmdCreateProject, CreateProject{Name: "p", Owner: "hopsql"})
	propose(t, n, CmdCreateProject, CreateProject{Name: "q", Owner: "hopsql"})
	id := propose(t, n, CmdPutExperiment, PutExperiment{Project: "p", Experiment: &Experiment{Name: "e", Owner: "u", Spec: json.RawMessage(`{"search":"grid"}`)}})
	if id < FirstUserID {
		t.Fatalf("experiment id %d", id)
	}
	other := propose(t, n, CmdPutExperiment, PutExperiment{Project: "q", Experiment: &Experiment{Name: "e", Spec: json.RawMessage(`{}`)}})
	if other == id {
		t.Fatal("two experiments got one id")
	}
	v := 0.5
	propose(t, n, CmdPutExperiment, PutExperiment{Project: "p", ID: id, Trials: []Trial{
		{Number: 2, Params: json.RawMessage(`{"x":2}`), Status: TrialRunning},
		{Number: 1, Params: json.RawMessage(`{"x":1}`), Status: TrialSucceeded, Value: &v, History: []MetricPoint{{Step: 1, Metrics: map[string]float64{"auc": v}}}},
	}})
	propose(t, n, CmdPutExperiment, PutExperiment{Project: "p", ID: id, Trials: []Trial{{Number: 2, Params: json.RawMessage(`{"x":2}`), Status: TrialFailed, Error: "boom"}}})
	x, ok := n.Experiment("p", id)
	if !ok || x.Name != "e" || x.Owner != "u" || x.Status != ExperimentRunning || x.Created == 0 || x.Finished != 0 {
		t.Fatalf("experiment %+v", x)
	}
	if len(x.Trials) != 2 || x.Trials[0].Number != 1 || x.Trials[1].Status != TrialFailed || x.Trials[1].Error != "boom" ||
		*x.Trials[0].Value != 0.5 || x.Trials[0].History[0].Metrics["auc"] != 0.5 {
		t.Fatalf("trials %+v", x.Trials)
	}
	propose(t, n, CmdPutExperiment, PutExperiment{Project: "p", Experiment: &Experiment{ID: id, Status: ExperimentSucceeded}})
	if x, _ = n.Experiment("p", id); x.Status != ExperimentSucceeded || x.Finished == 0 || len(x.Trials) != 2 {
		t.Fatalf("after the final status: %+v", x)
	}
	if _, err := n.Propose(t.Context(), CmdPutExperiment, PutExperiment{Project: "q", ID: id}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("an experiment of another project: %v", err)
	}
	if _, err := n.Propose(t.Context(), CmdPutExperiment, PutExperiment{Project: "nope", Experiment: &Experiment{Name: "e"}}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("a missing project: %v", err)
	}
	if err := n.Snapshot(); err != nil {
		t.Fatal(err)
	}
	propose(t, n, CmdDropProject, DropProject{Name: "q"})
	before, _ := n.fsm.s.marshal()
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}
	n = openNode(t, dir, Config{})
	defer n.Close()
	if after, _ := n.fsm.s.marshal(); !bytes.Equal(before, after) {
		t.Fatal("experiments differ after a restart")
	}
	if got := n.Experiments(""); len(got) != 1 || got[0].ID != id {
		t.Fatalf("after dropping project q: %+v", got)
	}
	propose(t, n, CmdDropExperiment, DropExperiment{Project: "p", ID: id})
	if len(n.Experiments("p")) != 0 {
		t.Fatal("dropped experiment still listed")
	}
	if _, err := n.Propose(t.Context(), CmdDropExperiment, DropExperiment{Project: "p", ID: id}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("dropping it again: %v", err)
	}
}
