package catalog

import (
	"encoding/json"
	"fmt"
	"io"
	"sync"
	"sync/atomic"

	"github.com/hashicorp/raft"
)

// fsm is the Raft state machine: a thin layer that decodes log entries and
// hands them to state.apply, as rqlite's FSM hands commands to its store.
type fsm struct {
	mu sync.RWMutex
	s  *state
	// halt is called, and the entry is not applied, when an entry cannot be
	// understood by this binary. Stopping is the only safe answer: skipping
	// or guessing would make this replica's state differ from the others'.
	halt func(error)
	// onApply observes every applied entry (tests, cache invalidation).
	onApply func(CmdType)
	// gen counts applied entries and restores: readers cache derived
	// state until it moves.
	gen atomic.Uint64
}

// applyResult is what Apply returns to the proposer through ApplyFuture.
type applyResult struct {
	ID  uint64
	Err error
}

func (f *fsm) Apply(l *raft.Log) any {
	if l.Type != raft.LogCommand {
		return nil
	}
	var e envelope
	if err := json.Unmarshal(l.Data, &e); err != nil {
		err = fmt.Errorf("catalog: log entry %d is not a catalog command: %w", l.Index, err)
		f.halt(err)
		return applyResult{Err: err}
	}
	if v, ok := cmdVersions[e.Type]; !ok || e.Version == 0 || e.Version > v {
		err := fmt.Errorf("catalog: log entry %d has command %s version %d, which this binary cannot apply; stopping so replicas cannot diverge", l.Index, e.Type, e.Version)
		f.halt(err)
		return applyResult{Err: err}
	}
	f.mu.Lock()
	if d, ok := f.s.seen(e.Request); ok {
		f.mu.Unlock()
		var err error
		if d.Err != nil {
			err = d.Err
		}
		return applyResult{ID: d.ID, Err: err}
	}
	id, err := f.s.apply(&e)
	d := dedupEntry{Request: e.Request, ID: id}
	if err != nil {
		ce, ok := err.(*Error)
		if !ok {
			ce = &Error{Code: CodeInvalid, Msg: err.Error()}
		}
		d.Err = ce
	}
	f.s.remember(d)
	f.gen.Add(1)
	f.mu.Unlock()
	if f.onApply != nil {
		f.onApply(e.Type)
	}
	return applyResult{ID: id, Err: err}
}

func (f *fsm) Snapshot() (raft.FSMSnapshot, error) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	b, err := f.s.marshal()
	if err != nil {
		return nil, fmt.Errorf("catalog snapshot: %w", err)
	}
	return &fsmSnapshot{data: b}, nil
}

func (f *fsm) Restore(rc io.ReadCloser) error {
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		return fmt.Errorf("read catalog snapshot: %w", err)
	}
	s, err := unmarshalState(b)
	if err != nil {
		return err
	}
	f.mu.Lock()
	f.s = s
	f.gen.Add(1)
	f.mu.Unlock()
	if f.onApply != nil {
		f.onApply(cmdInvalid)
	}
	return nil
}

type fsmSnapshot struct{ data []byte }

func (s *fsmSnapshot) Persist(sink raft.SnapshotSink) error {
	if _, err := sink.Write(s.data); err != nil {
		sink.Cancel()
		return fmt.Errorf("write catalog snapshot: %w", err)
	}
	return sink.Close()
}

func (s *fsmSnapshot) Release() {}
