package engine

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/duckdb/duckdb-go/v2"

	"github.com/hopsql/hopsql/catalog"
	"github.com/hopsql/hopsql/engine/pgerr"
	"github.com/hopsql/hopsql/storage"
)

// reconcileTables makes a database's carriers match the catalog, which is
// the truth about tables: a catalog table whose carrier is missing or
// differs (a crash between the catalog commit and DuckDB's) gets it
// recreated from the stored definition; a carrier the catalog does not know
// is the leftover of a dropped table and goes. On the first start after an
// upgrade (no marker file yet), tables that predate the Parquet storage are
// moved into it instead: their rows become their first snapshot.
func (e *Engine) reconcileTables(ctx context.Context, db *database) error {
	c, err := db.connector.Connect(ctx)
	if err != nil {
		return fmt.Errorf("connect to %q: %w", db.name, err)
	}
	defer c.Close()
	conn := c.(*duckdb.Conn)
	exec := func(sql string) error {
		_, err := conn.ExecContext(ctx, sql, nil)
		return err
	}
	marker := filepath.Join(e.cfg.DataDir, "databases", db.name+".storage")
	_, statErr := os.Stat(marker)
	migrated := statErr == nil

	duck := map[string]string{}
	rows, err := conn.QueryContext(ctx, "SELECT table_name, sql FROM duckdb_tables() WHERE database_name = $1 AND schema_name = 'main' AND NOT temporary AND NOT internal",
		[]driver.NamedValue{{Ordinal: 1, Value: db.name}})
	if err != nil {
		return fmt.Errorf("list tables of %q: %w", db.name, err)
	}
	vals := make([]driver.Value, 2)
	for rows.Next(vals) == nil {
		n, _ := vals[0].(string)
		sql, _ := vals[1].(string)
		duck[n] = sql
	}
	rows.Close()

	known := map[string]bool{}
	for _, t := range e.catalog.Tables(db.name) {
		if t.Schema != "main" {
			continue
		}
		known[t.Name] = true
		if sql, ok := duck[t.Name]; ok && sql == t.SQL {
			continue
		}
		if _, ok := duck[t.Name]; ok {
			if err := exec("DROP TABLE main." + quoteIdent(t.Name) + " CASCADE"); err != nil {
				return fmt.Errorf("replace carrier of %q: %w", t.Name, err)
			}
		}
		if err := exec(t.SQL); err != nil {
			return fmt.Errorf("recreate carrier of %q: %w", t.Name, err)
		}
		e.log.Info("recreated table definition from the catalog", "database", db.name, "table", t.Name)
	}
	for name := range duck {
		if known[name] {
			continue
		}
		if migrated {
			if err := exec("DROP TABLE main." + quoteIdent(name) + " CASCADE"); err != nil {
				return fmt.Errorf("drop leftover carrier %q: %w", name, err)
			}
			e.log.Info("dropped the definition of a dropped table", "database", db.name, "table", name)
			continue
		}
		if err := e.migrateTable(ctx, conn, db, name); err != nil {
			return err
		}
	}
	if !migrated {
		if err := catalog.WriteFileAtomic(marker, []byte("parquet snapshots\n"), 0o600); err != nil {
			return err
		}
	}
	if err := e.reconcileFeatureViews(ctx, conn, conn, db.name); err != nil {
		return err
	}
	return e.reconcileTraining(ctx, conn, db.name)
}

// migrateTable moves a native DuckDB table's rows into its first snapshot.
func (e *Engine) migrateTable(ctx context.Context, conn *duckdb.Conn, db *database, name string) error {
	s := &Session{e: e, db: db, conn: conn, user: e.cfg.Superuser}
	defer s.closeInternal()
	put, err := s.tableDefinition(ctx, name)
	if err != nil {
		return err
	}
	c := catalog.Commit{Project: db.name, User: e.cfg.Superuser, Puts: []catalog.PutTable{put}}
	f, err := s.writeCarrier(ctx, name, true)
	if err != nil {
		return err
	}
	if f != nil {
		c.Data = []catalog.TableData{{Schema: "main", Name: name, Op: "MIGRATE", Expect: -1, Add: []catalog.NewFile{*f}}}
	}
	if _, err := e.catalog.Propose(ctx, catalog.CmdCommit, c); err != nil {
		if f != nil && !f.IsInline() {
			os.Remove(e.fs.BlockPath(f.Block.ID))
		}
		if errors.Is(err, catalog.ErrExists) {
			return nil
		}
		return fmt.Errorf("migrate table %q: %w", name, err)
	}
	if _, err := conn.ExecContext(ctx, "DELETE FROM main."+quoteIdent(name), nil); err != nil {
		return fmt.Errorf("migrate table %q: %w", name, err)
	}
	e.log.Info("moved table into Parquet storage", "database", db.name, "table", name, "at", time.Now().UTC())
	return nil
}

// runMaintenance compacts small files and expires old versions of every
// table in the background until ctx ends.
func (e *Engine) runMaintenance(ctx context.Context) {
	t := time.NewTicker(e.cfg.MaintenanceInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case req := <-e.compactNow:
			// A commit left a table with many files: merge them now, so
			// that reads do not open ever more files.
			project, name, _ := strings.Cut(req, "\x00")
			e.mu.Lock()
			db := e.dbs[project]
			e.mu.Unlock()
			if db != nil {
				if err := e.compactOne(ctx, db, name); err != nil && ctx.Err() == nil {
					e.log.Warn("compaction", "database", project, "table", name, "err", err)
				}
				// A table written row by row is compacted every few
				// hundred commits into small files that the next
				// compaction replaces: copying each into the cache would
				// cost more disk writes (and fsyncs competing with the
				// commits') than reading it compressed. The periodic round
				// copies what is left of them.
				e.fillScanCache(ctx, db, name, scanCacheEagerBytes)
			}
			continue
		case r := <-e.statsNow:
			e.mu.Lock()
			db := e.dbs[r.project]
			e.mu.Unlock()
			if db != nil {
				e.backgroundStatistics(ctx, db, r.table, r.version)
			}
			continue
		case req := <-e.cacheNow:
			project, name, _ := strings.Cut(req, "\x00")
			e.mu.Lock()
			db := e.dbs[project]
			e.mu.Unlock()
			if db != nil {
				e.fillScanCache(ctx, db, name, 0)
			}
			continue
		case <-t.C:
		}
		e.mu.Lock()
		dbs := make([]*database, 0, len(e.dbs))
		for _, db := range e.dbs {
			dbs = append(dbs, db)
		}
		e.mu.Unlock()
		for _, db := range dbs {
			if err := e.maintain(ctx, db, 8); err != nil && ctx.Err() == nil {
				e.log.Warn("table maintenance", "database", db.name, "err", err)
			}
			e.fillScanCache(ctx, db, "", 0)
			e.backgroundStatistics(ctx, db, "", -1)
		}
		if _, err := e.fs.SpillInline(ctx, spillBatch); err != nil && ctx.Err() == nil {
			e.log.Warn("moving inline history into blocks", "err", err)
		}
		e.releaseIdlePKCaches()
	}
}

// withMaintainer runs f with a maintainer on a connection of its own,
// opened only if f runs a statement: most rounds, and the merging of inline
// files, need none, and a new connection costs its set-up.
func (e *Engine) withMaintainer(ctx context.Context, db *database, f func(*storage.Maintainer) error) error {
	lc := &lazyConn{connect: func() (driver.Conn, error) { return db.connector.Connect(ctx) }}
	defer lc.close()
	return f(e.maintainer(db.name, lc))
}

// lazyConn is a DuckDB connection opened at its first statement.
type lazyConn struct {
	connect func() (driver.Conn, error)
	c       *duckdb.Conn
}

func (l *lazyConn) conn() (*duckdb.Conn, error) {
	if l.c == nil {
		c, err := l.connect()
		if err != nil {
			return nil, err
		}
		l.c = c.(*duckdb.Conn)
	}
	return l.c, nil
}

func (l *lazyConn) ExecContext(ctx context.Context, q string, args []driver.NamedValue) (driver.Result, error) {
	c, err := l.conn()
	if err != nil {
		return nil, err
	}
	return c.ExecContext(ctx, q, args)
}

func (l *lazyConn) QueryContext(ctx context.Context, q string, args []driver.NamedValue) (driver.Rows, error) {
	c, err := l.conn()
	if err != nil {
		return nil, err
	}
	return c.QueryContext(ctx, q, args)
}

func (l *lazyConn) close() {
	if l.c != nil {
		l.c.Close()
	}
}

func (e *Engine) maintainer(project string, conn storage.Conn) *storage.Maintainer {
	return &storage.Maintainer{Node: e.catalog, FS: e.fs, Project: project, Conn: conn, Log: e.log, Held: e.heldFiles,
		Retention: e.cfg.Retention, Compression: e.cfg.ParquetCompression,
		Compacted: func() { e.counters.compactions.Add(1) }}
}

func (e *Engine) compactOne(ctx context.Context, db *database, name string) error {
	// Requests queue while the table stays due; once one compaction has
	// run, the rest are stale, and merging the few inline files committed
	// since each would cost a block, an fsync and a log entry apiece.
	if h, ok := e.catalog.TableHead(db.name, "main", name); !ok || !storage.CompactionDue(h) {
		return nil
	}
	return e.withMaintainer(ctx, db, func(m *storage.Maintainer) error {
		_, err := m.Compact(ctx, "main", name, compactFiles)
		return err
	})
}

func (e *Engine) maintain(ctx context.Context, db *database, minFiles int) error {
	return e.withMaintainer(ctx, db, func(m *storage.Maintainer) error { return m.Round(ctx, minFiles, time.Now()) })
}

// execVacuum compacts the named tables (all when none are named) down to
// one small file each, expires versions older than the retention period and
// collects unreferenced blocks: PostgreSQL's VACUUM, for Parquet snapshots.
func (s *Session) execVacuum(ctx context.Context, st *Statement) error {
	if s.tx != txIdle {
		return pgerr.New(pgerr.ActiveSQLTransaction, "VACUUM cannot run inside a transaction block")
	}
	m := s.e.maintainer(s.db.name, s.conn)
	var names []string
	for _, r := range st.node.GetVacuumStmt().GetRels() {
		rv := r.GetVacuumRelation().GetRelation()
		if rv == nil {
			continue
		}
		if !storageManaged(rv.Schemaname) || !s.isManaged(rv.Relname) {
			if _, ok := s.e.catalog.Table(s.db.name, "main", rv.Relname); !ok {
				return pgerr.New(pgerr.UndefinedTable, "relation %q does not exist", rv.Relname)
			}
		}
		names = append(names, rv.Relname)
	}
	if len(names) == 0 {
		for _, t := range s.e.catalog.Tables(s.db.name) {
			names = append(names, t.Name)
		}
	}
	now := time.Now()
	for _, n := range names {
		if _, err := m.Compact(ctx, "main", n, 2); err != nil {
			return err
		}
		if err := m.Expire(ctx, "main", n, now); err != nil {
			return err
		}
	}
	if _, err := s.e.fs.SpillInline(ctx, spillBatch); err != nil {
		return err
	}
	s.e.fillScanCache(ctx, s.db, "", 0)
	_, err := s.e.fs.CollectGarbage(ctx, s.e.cfg.GCGrace)
	return err
}

// spillBatch is how many inline files of history one maintenance round
// moves into blocks.
const spillBatch = 256

// scanCacheEagerBytes: files a compaction right after a commit makes are
// copied into the scan cache at once only from this size on.
const scanCacheEagerBytes = 1 << 20

// fillScanCache copies the current Parquet blocks of a project's tables
// (of one table, when named) of at least minBytes into the scan cache,
// uncompressed, while the budget allows. Scans then read the copies
// (storage.ReadSQL): plain pages instead of ZSTD ones.
func (e *Engine) fillScanCache(ctx context.Context, db *database, table string, minBytes int64) {
	sc := e.fs.ScanCache()
	if sc == nil || !sc.Room(0) {
		return
	}
	var todo []catalog.FileRef
	for _, t := range e.catalog.TableHeads(db.name) {
		if table != "" && t.Name != table {
			continue
		}
		_, files, err := e.catalog.TableFiles(db.name, t.Schema, t.Name, 0, 0)
		if err != nil {
			continue
		}
		for _, f := range files {
			if !f.IsInline() && !storage.IsJSON(f.Name) && f.Bytes >= minBytes && !sc.Has(f.Block.ID) {
				todo = append(todo, f)
			}
		}
	}
	if len(todo) == 0 {
		return
	}
	c, err := db.connector.Connect(ctx)
	if err != nil {
		return
	}
	defer c.Close()
	conn := c.(*duckdb.Conn)
	for _, f := range todo {
		if ctx.Err() != nil || !sc.Room(f.Bytes) {
			return
		}
		src := e.fs.BlockPath(f.Block.ID)
		err := sc.Add(f.Block.ID, func(dst string) error {
			_, err := conn.ExecContext(ctx, "COPY (SELECT * FROM read_parquet("+quoteLiteral(src)+")) TO "+quoteLiteral(dst)+
				" (FORMAT parquet, COMPRESSION uncompressed)", nil)
			return err
		})
		if err != nil {
			e.log.Debug("scan cache", "block", f.Block.ID, "err", err) // its block collected meanwhile, say
			continue
		}
		e.cacheGen.Add(1)
	}
}

var scanCacheColumns = []column{
	{name: "entries", t: duckdb.TYPE_BIGINT}, {name: "bytes", t: duckdb.TYPE_BIGINT}, {name: "budget", t: duckdb.TYPE_BIGINT},
}

// scanCacheRows describes the node's scan cache (shared by all projects).
func (e *Engine) scanCacheRows(string) []map[string]any {
	sc := e.fs.ScanCache()
	if sc == nil {
		return nil
	}
	n, bytes, budget := sc.Stats()
	return []map[string]any{{"entries": int64(n), "bytes": bytes, "budget": budget}}
}

// holdFiles notes that a session's transaction rewrites files of a table:
// compacting them meanwhile would make its commit a write-write conflict
// (40001) caused by no client.
func (e *Engine) holdFiles(s *Session, table, file string) {
	k := s.db.name + "\x00" + table + "\x00" + file
	s.holdsFiles = true
	e.heldMu.Lock()
	defer e.heldMu.Unlock()
	if e.held[k] == nil {
		e.held[k] = map[*Session]bool{}
	}
	e.held[k][s] = true
}

// releaseFiles ends what a session's transaction held.
func (e *Engine) releaseFiles(s *Session) {
	if !s.holdsFiles {
		return // most transactions rewrite nothing: no shared lock for them
	}
	s.holdsFiles = false
	e.heldMu.Lock()
	defer e.heldMu.Unlock()
	for k, m := range e.held {
		if m[s] {
			delete(m, s)
			if len(m) == 0 {
				delete(e.held, k)
			}
		}
	}
}

// heldFiles returns the files of a table that open transactions rewrite
// (all: every file).
func (e *Engine) heldFiles(project, table string) (files map[string]bool, all bool) {
	prefix := project + "\x00" + table + "\x00"
	e.heldMu.Lock()
	defer e.heldMu.Unlock()
	for k := range e.held {
		if f, ok := strings.CutPrefix(k, prefix); ok {
			if f == "*" {
				all = true
			}
			if files == nil {
				files = map[string]bool{}
			}
			files[f] = true
		}
	}
	return files, all
}

var gpuColumns = []column{
	{name: "index", t: duckdb.TYPE_BIGINT}, {name: "uuid", t: duckdb.TYPE_VARCHAR}, {name: "name", t: duckdb.TYPE_VARCHAR},
	{name: "memory_total", t: duckdb.TYPE_BIGINT}, {name: "memory_used", t: duckdb.TYPE_BIGINT},
	{name: "gpu_percent", t: duckdb.TYPE_BIGINT}, {name: "memory_percent", t: duckdb.TYPE_BIGINT},
	{name: "allocated", t: duckdb.TYPE_DOUBLE},
}

// gpuRows lists the node's GPUs, sampled now (none without a driver).
func (e *Engine) gpuRows(string) []map[string]any {
	if e.gpus == nil {
		return nil
	}
	ctx := context.Background()
	devs, err := e.gpus.Devices(ctx)
	if err != nil {
		e.log.Warn("GPU discovery", "err", err)
		return nil
	}
	used := e.alloc.Used() // the fraction of each device trials hold now
	var out []map[string]any
	for _, d := range devs {
		row := map[string]any{"index": int64(d.Index), "uuid": d.UUID, "name": d.Name, "memory_total": int64(d.MemoryTotal),
			"allocated": used[d.UUID]}
		if u, err := e.gpus.Sample(ctx, d.UUID); err == nil {
			row["memory_used"], row["gpu_percent"], row["memory_percent"] = int64(u.MemoryUsed), int64(u.GPUPercent), int64(u.MemoryPercent)
		}
		out = append(out, row)
	}
	return out
}
