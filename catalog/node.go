package catalog

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/raft"
)

// Config configures a catalog node.
type Config struct {
	// Dir holds the Raft log (raft-wal/), snapshots and the node id.
	Dir string
	// RaftAddr is the address the Raft transport listens on; other nodes
	// reach this one there. Empty means 127.0.0.1 on a free port, which is
	// enough for a one-node cluster.
	RaftAddr string
	Logger   *slog.Logger
	// Halt is called when the log holds an entry this binary cannot apply.
	// It must stop the node; the default panics.
	Halt func(error)
	// SnapshotThreshold and TrailingLogs tune log compaction: after that
	// many new entries the FSM is snapshotted and the log truncated, keeping
	// TrailingLogs entries for slow followers. Zero takes the defaults.
	SnapshotThreshold uint64
	TrailingLogs      uint64
	// OnApply, if set, is called after each applied entry.
	OnApply func(CmdType)
}

// Node is one member of the catalog's Raft group.
type Node struct {
	cfg   Config
	log   *slog.Logger
	id    string
	raft  *raft.Raft
	fsm   *fsm
	store logStore
	trans *raft.NetworkTransport

	propMu sync.Mutex // guards id/time allocation
	nextID uint64
	lastTS int64
}

// Open starts a catalog node on cfg.Dir. A node without Raft state
// bootstraps itself as a one-node cluster and waits until it leads.
func Open(ctx context.Context, cfg Config) (*Node, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Halt == nil {
		cfg.Halt = func(err error) { panic(err) }
	}
	if cfg.RaftAddr == "" {
		cfg.RaftAddr = "127.0.0.1:0"
	}
	if err := os.MkdirAll(cfg.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("create catalog directory: %w", err)
	}
	id, err := nodeID(cfg.Dir)
	if err != nil {
		return nil, err
	}
	n := &Node{cfg: cfg, log: cfg.Logger, id: id}
	n.fsm = &fsm{s: newState(), halt: cfg.Halt, onApply: cfg.OnApply}

	rc := raft.DefaultConfig()
	rc.LocalID = raft.ServerID(id)
	// Tuned for a LAN: a one-node cluster leads within ~0.5 s of start.
	rc.HeartbeatTimeout = 500 * time.Millisecond
	rc.ElectionTimeout = 500 * time.Millisecond
	rc.LeaderLeaseTimeout = 250 * time.Millisecond
	rc.CommitTimeout = 5 * time.Millisecond
	// Apply returns as soon as the entry is queued (up to MaxAppendEntries
	// of them), so a caller can submit several under its own lock and
	// the leader writes what queued during its last fsync in one batch.
	rc.BatchApplyCh = true
	if cfg.SnapshotThreshold > 0 {
		rc.SnapshotThreshold = cfg.SnapshotThreshold
	}
	if cfg.TrailingLogs > 0 {
		rc.TrailingLogs = cfg.TrailingLogs
	}
	hl := hclog.New(&hclog.LoggerOptions{Name: "raft", Level: hclog.Error, Output: os.Stderr})
	rc.Logger = hl

	store, err := openLogStore(ctx, cfg.Dir, hl)
	if err != nil {
		return nil, err
	}
	n.store = store
	snaps, err := raft.NewFileSnapshotStoreWithLogger(cfg.Dir, 2, hl)
	if err != nil {
		store.Close()
		return nil, fmt.Errorf("open raft snapshots: %w", err)
	}
	ln, err := net.Listen("tcp", cfg.RaftAddr)
	if err != nil {
		store.Close()
		return nil, fmt.Errorf("raft listen %s: %w", cfg.RaftAddr, err)
	}
	n.trans = raft.NewNetworkTransportWithLogger(&tcpLayer{ln: ln}, 3, 10*time.Second, hl)

	existing, err := raft.HasExistingState(store, store, snaps)
	if err != nil {
		n.closeTransport()
		return nil, fmt.Errorf("inspect raft state: %w", err)
	}
	if !existing {
		conf := raft.Configuration{Servers: []raft.Server{{ID: rc.LocalID, Address: n.trans.LocalAddr()}}}
		if err := raft.BootstrapCluster(rc, store, store, snaps, n.trans, conf); err != nil {
			n.closeTransport()
			return nil, fmt.Errorf("bootstrap catalog: %w", err)
		}
	}
	r, err := raft.NewRaft(rc, n.fsm, store, store, snaps, n.trans)
	if err != nil {
		n.closeTransport()
		return nil, fmt.Errorf("start raft: %w", err)
	}
	n.raft = r
	if err := n.waitLeader(ctx, 30*time.Second); err != nil {
		n.Close()
		return nil, err
	}
	return n, nil
}

func (n *Node) closeTransport() {
	n.trans.Close()
	n.store.Close()
}

// nodeID reads the node's id, creating one on first start.
func nodeID(dir string) (string, error) {
	p := filepath.Join(dir, "node-id")
	b, err := os.ReadFile(p)
	if err == nil {
		return strings.TrimSpace(string(b)), nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("read node id: %w", err)
	}
	id := "node-" + randomHex(6)
	if err := WriteFileAtomic(p, []byte(id+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("write node id: %w", err)
	}
	return id, nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand never fails on Linux
	}
	return hex.EncodeToString(b)
}

// NewRequestID returns a fresh request id for ProposeRequest.
func NewRequestID() string { return randomHex(16) }

// waitLeader waits until the local node leads, or the cluster has a leader
// and the local FSM has caught up with the commit index.
func (n *Node) waitLeader(ctx context.Context, limit time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	t := time.NewTicker(10 * time.Millisecond)
	defer t.Stop()
	for {
		if n.raft.State() == raft.Leader {
			// A new leader's own no-op entry proves earlier entries are applied.
			return n.raft.Barrier(limit).Error()
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("catalog: no Raft leader after %s", limit)
		case <-t.C:
		}
	}
}

// ID is this node's Raft server id.
func (n *Node) ID() string { return n.id }

// IsLeader reports whether this node leads the Raft group.
func (n *Node) IsLeader() bool { return n.raft.State() == raft.Leader }

// Propose logs a command and waits until it is applied, returning the id the
// command created (if any) or its error. Each call is a new request.
func (n *Node) Propose(ctx context.Context, t CmdType, payload any) (uint64, error) {
	return n.ProposeRequest(ctx, NewRequestID(), t, payload)
}

// ProposeRequest is Propose with a caller-chosen request id: proposing the
// same id again (a retry after a timeout or a lost reply) returns the first
// outcome instead of applying the command twice.
func (n *Node) ProposeRequest(ctx context.Context, req string, t CmdType, payload any) (uint64, error) {
	p, err := n.Submit(req, t, payload)
	if err != nil {
		return 0, err
	}
	return p.Wait(ctx)
}

// Pending is a proposal handed to Raft whose outcome is not known yet.
type Pending struct {
	t CmdType
	f raft.ApplyFuture
}

// Submit hands a command to Raft without waiting for it to commit.
// Proposals submitted one after another from one goroutine enter the log
// in that order, and those waiting together are written in one batch (one
// fsync): a caller that must order its proposals (a table's appends, each
// expecting the version the previous one makes) submits under its own
// lock and waits outside it.
func (n *Node) Submit(req string, t CmdType, payload any) (*Pending, error) {
	v, ok := cmdVersions[t]
	if !ok {
		return nil, fmt.Errorf("catalog: unknown command %s", t)
	}
	p, err := json.Marshal(payload)
	if err != nil {
		return nil, fmt.Errorf("catalog: encode %s: %w", t, err)
	}
	env := envelope{Type: t, Version: v, Request: req, Payload: p}
	if n.raft.State() != raft.Leader {
		addr, _ := n.raft.LeaderWithID()
		return nil, errorf(CodeNotLeader, "this catalog node is not the leader (leader: %q)", addr)
	}
	n.propMu.Lock()
	env.Time, env.IDs = n.allocLocked(idsNeeded(t, payload))
	n.propMu.Unlock()
	data, err := json.Marshal(env)
	if err != nil {
		return nil, fmt.Errorf("catalog: encode entry: %w", err)
	}
	// Not under propMu: raft hands entries to its leader loop one at a
	// time, and proposals queued behind each other are what lets it write
	// them to the log in one batch (one fsync).
	return &Pending{t: t, f: n.raft.Apply(data, 0)}, nil
}

// Wait returns the proposal's outcome: the id it allocated, or the error
// applying it gave.
func (p *Pending) Wait(ctx context.Context) (uint64, error) {
	var err error
	if ctx.Done() == nil {
		err = p.f.Error() // nothing can end the wait early
	} else {
		done := make(chan error, 1)
		go func() { done <- p.f.Error() }()
		select {
		case err = <-done:
		case <-ctx.Done():
			// The entry may still commit; a retry with the same request
			// id learns its outcome.
			return 0, fmt.Errorf("catalog: %s: outcome unknown: %w", p.t, ctx.Err())
		}
	}
	if err != nil {
		if errors.Is(err, raft.ErrNotLeader) || errors.Is(err, raft.ErrLeadershipLost) {
			return 0, errorf(CodeNotLeader, "catalog leadership lost: %v", err)
		}
		return 0, fmt.Errorf("catalog: apply %s: %w", p.t, err)
	}
	res, _ := p.f.Response().(applyResult)
	return res.ID, res.Err
}

// allocLocked picks the commit time and fresh ids for one entry.
func (n *Node) allocLocked(k int) (int64, []uint64) {
	n.fsm.mu.RLock()
	next, last := n.fsm.s.NextID, n.fsm.s.LastTime
	n.fsm.mu.RUnlock()
	ts := max(time.Now().UnixNano(), n.lastTS+1, last+1)
	n.lastTS = ts
	n.nextID = max(n.nextID, next)
	var ids []uint64
	for i := 0; i < k; i++ {
		ids = append(ids, n.nextID)
		n.nextID++
	}
	return ts, ids
}

// Linearize makes the following reads current: it confirms this node still
// leads and waits until everything committed before the call is applied
// (the read-index approach recommended for hashicorp/raft).
func (n *Node) Linearize(ctx context.Context) error {
	ci := n.raft.CommitIndex()
	if err := n.raft.VerifyLeader().Error(); err != nil {
		return errorf(CodeNotLeader, "catalog: not the leader: %v", err)
	}
	for n.raft.AppliedIndex() < ci {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Millisecond):
		}
	}
	return nil
}

// Snapshot snapshots the FSM and compacts the log now.
func (n *Node) Snapshot() error {
	if err := n.raft.Snapshot().Error(); err != nil && !errors.Is(err, raft.ErrNothingNewToSnapshot) {
		return fmt.Errorf("catalog snapshot: %w", err)
	}
	return nil
}

// Close stops Raft and closes the log.
func (n *Node) Close() error {
	var errs []error
	if n.raft != nil {
		if err := n.raft.Shutdown().Error(); err != nil {
			errs = append(errs, fmt.Errorf("raft shutdown: %w", err))
		}
	}
	if err := n.trans.Close(); err != nil {
		errs = append(errs, fmt.Errorf("raft transport: %w", err))
	}
	if err := n.store.Close(); err != nil {
		errs = append(errs, fmt.Errorf("raft log: %w", err))
	}
	return errors.Join(errs...)
}

// tcpLayer is raft's StreamLayer over a plain TCP listener.
type tcpLayer struct{ ln net.Listener }

func (t *tcpLayer) Accept() (net.Conn, error) { return t.ln.Accept() }
func (t *tcpLayer) Close() error              { return t.ln.Close() }
func (t *tcpLayer) Addr() net.Addr            { return t.ln.Addr() }
func (t *tcpLayer) Dial(addr raft.ServerAddress, timeout time.Duration) (net.Conn, error) {
	return net.DialTimeout("tcp", string(addr), timeout)
}

var _ io.Closer = (*Node)(nil)
