package catalog

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/hashicorp/go-hclog"
	raftboltdb "github.com/hashicorp/raft-boltdb/v2"
	"github.com/hashicorp/raft-wal/migrate"
)

// toBolt rewrites a stopped node's raft-wal log as the raft.db a data
// directory made before raft-wal holds, the way raft-boltdb wrote it.
func toBolt(t *testing.T, dir string) {
	t.Helper()
	w, err := openWAL(filepath.Join(dir, walDir), hclog.NewNullLogger())
	if err != nil {
		t.Fatal(err)
	}
	b, err := raftboltdb.NewBoltStore(filepath.Join(dir, boltLog))
	if err != nil {
		t.Fatal(err)
	}
	if err := migrate.CopyLogs(context.Background(), b, w, 1<<20, nil); err != nil {
		t.Fatal(err)
	}
	for _, k := range stableKeys {
		v, err := w.Get(k)
		if err != nil {
			t.Fatalf("stable key %s: %v", k, err)
		}
		if err := b.Set(k, v); err != nil {
			t.Fatal(err)
		}
	}
	if err := errors.Join(w.Close(), b.Close()); err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(filepath.Join(dir, walDir)); err != nil {
		t.Fatal(err)
	}
}

// A data directory whose log is raft-boltdb's raft.db opens with the same
// state, keeps its term, goes on allocating fresh ids, and leaves no
// raft.db behind; a migration interrupted before its rename is redone.
func TestLogStoreMigratesBolt(t *testing.T) {
	for _, interrupted := range []bool{false, true} {
		dir := t.TempDir()
		n := openNode(t, dir, Config{})
		propose(t, n, CmdCreateProject, CreateProject{Name: "p", Owner: "hopsql"})
		var last uint64
		for i := 0; i < 40; i++ {
			last = propose(t, n, CmdMkdirs, Mkdirs{Path: "/Projects/p/Logs/d" + strconvItoa(i)})
		}
		before, _ := n.fsm.s.marshal()
		term := n.raft.CurrentTerm()
		if err := n.Close(); err != nil {
			t.Fatal(err)
		}
		toBolt(t, dir)
		if interrupted {
			// What a crash mid-copy leaves: a partial log aside.
			if err := os.MkdirAll(filepath.Join(dir, walTmpDir), 0o700); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, walTmpDir, "00000000000000000001-0000000000000001.wal"), []byte("torn"), 0o600); err != nil {
				t.Fatal(err)
			}
		}

		n2 := openNode(t, dir, Config{})
		after, _ := n2.fsm.s.marshal()
		if !bytes.Equal(before, after) {
			t.Fatalf("interrupted=%v: state after migration differs", interrupted)
		}
		if got := n2.raft.CurrentTerm(); got < term {
			t.Fatalf("term %d after migration, was %d", got, term)
		}
		if id := propose(t, n2, CmdMkdirs, Mkdirs{Path: "/Projects/p/Logs/after"}); id <= last {
			t.Fatalf("id %d after migration is not above %d", id, last)
		}
		for _, gone := range []string{boltLog, walTmpDir} {
			if _, err := os.Stat(filepath.Join(dir, gone)); !errors.Is(err, os.ErrNotExist) {
				t.Fatalf("%s still there after migration: %v", gone, err)
			}
		}
		if err := n2.Close(); err != nil {
			t.Fatal(err)
		}
		// And it reopens from raft-wal alone.
		n3 := openNode(t, dir, Config{})
		fi, err := n3.Stat("/Projects/p/Logs/after")
		if err != nil || !fi.Dir {
			t.Fatalf("after reopening: %+v %v", fi, err)
		}
		n3.Close()
	}
}
