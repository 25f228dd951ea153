package catalog

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/raft"
	raftboltdb "github.com/hashicorp/raft-boltdb/v2"
	wal "github.com/hashicorp/raft-wal"
	"github.com/hashicorp/raft-wal/metadb"
	"github.com/hashicorp/raft-wal/migrate"
	"go.etcd.io/bbolt"
)

// logStore is what Raft keeps on disk besides snapshots: the log and the
// few stable values (current term, last vote).
type logStore interface {
	raft.LogStore
	raft.StableStore
	io.Closer
}

const (
	walDir    = "raft-wal"   // the log, in raft-wal's segment files
	boltLog   = "raft.db"    // the log of data directories made before raft-wal
	walSegMiB = 16           // segment size; a segment is preallocated, so this is disk a node holds at least
	walTmpDir = "raft-wal.n" // a migration in progress
)

// stableKeys are the keys hashicorp/raft keeps in its StableStore (raft
// v1.7.3, api.go and raft.go): all a migration must carry besides the log.
var stableKeys = [][]byte{[]byte("CurrentTerm"), []byte("LastVoteTerm"), []byte("LastVoteCand")}

// openLogStore opens the node's Raft log in dir. The log is raft-wal:
// one fsync per appended batch, where raft-boltdb's B-tree commit makes two
// (pages, then meta page), and the log's fsync is what every durable commit
// waits for. A data directory whose log is still raft-boltdb's raft.db is
// migrated first, crash-safely: the copy is built aside and renamed into
// place, and raft.db is removed only after that.
func openLogStore(ctx context.Context, dir string, hl hclog.Logger) (logStore, error) {
	final := filepath.Join(dir, walDir)
	old := filepath.Join(dir, boltLog)
	if _, err := os.Stat(final); errors.Is(err, os.ErrNotExist) {
		if _, err := os.Stat(old); err == nil {
			if err := migrateBolt(ctx, dir, hl); err != nil {
				return nil, fmt.Errorf("migrate raft log %s to raft-wal: %w", old, err)
			}
		} else if err := os.Mkdir(final, 0o700); err != nil {
			return nil, fmt.Errorf("create raft log directory: %w", err)
		}
	} else if err != nil {
		return nil, fmt.Errorf("raft log directory: %w", err)
	}
	// A migration that crashed after its rename leaves raft.db behind.
	if err := os.Remove(old); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("remove migrated raft log: %w", err)
	}
	w, err := openWAL(final, hl)
	if err != nil {
		return nil, fmt.Errorf("open raft log: %w", err)
	}
	return w, nil
}

// walStore is raft-wal with its metadata database, which WAL.Close leaves
// open (raft-wal v0.4.0): its file lock would block the next open in the
// same process, so the store closes it itself.
type walStore struct {
	*wal.WAL
	meta *metadb.BoltMetaDB
}

func (w *walStore) Close() error {
	return errors.Join(w.WAL.Close(), w.meta.Close())
}

func openWAL(dir string, hl hclog.Logger) (*walStore, error) {
	meta := &metadb.BoltMetaDB{}
	w, err := wal.Open(dir, wal.WithMetaStore(meta), wal.WithSegmentSize(walSegMiB<<20), wal.WithLogger(hl.Named("wal")))
	if err != nil {
		return nil, errors.Join(err, meta.Close())
	}
	return &walStore{WAL: w, meta: meta}, nil
}

// migrateBolt copies raft.db's log and stable values into a new raft-wal
// log, built in walTmpDir and renamed to walDir once complete and synced.
func migrateBolt(ctx context.Context, dir string, hl hclog.Logger) error {
	tmp := filepath.Join(dir, walTmpDir)
	if err := os.RemoveAll(tmp); err != nil { // an earlier attempt's leftovers
		return err
	}
	if err := os.Mkdir(tmp, 0o700); err != nil {
		return err
	}
	src, err := raftboltdb.New(raftboltdb.Options{Path: filepath.Join(dir, boltLog),
		BoltOptions: &bbolt.Options{NoFreelistSync: true, FreelistType: bbolt.FreelistMapType}})
	if err != nil {
		return fmt.Errorf("open %s: %w", boltLog, err)
	}
	defer src.Close()
	dst, err := openWAL(tmp, hl)
	if err != nil {
		return err
	}
	copyErr := copyBolt(ctx, dst, src)
	if err := errors.Join(copyErr, dst.Close()); err != nil {
		return err
	}
	if err := os.Rename(tmp, filepath.Join(dir, walDir)); err != nil {
		return err
	}
	return syncDir(dir)
}

func copyBolt(ctx context.Context, dst *walStore, src *raftboltdb.BoltStore) error {
	last, err := src.LastIndex()
	if err != nil {
		return err
	}
	if last > 0 {
		if err := migrate.CopyLogs(ctx, dst, src, 4<<20, nil); err != nil {
			return err
		}
	}
	for _, k := range stableKeys {
		v, err := src.Get(k)
		if err != nil {
			if errors.Is(err, raftboltdb.ErrKeyNotFound) {
				continue
			}
			return fmt.Errorf("read %s: %w", k, err)
		}
		if err := dst.Set(k, v); err != nil {
			return fmt.Errorf("write %s: %w", k, err)
		}
	}
	return nil
}

// syncDir makes a rename or creation in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	return errors.Join(err, d.Close())
}
