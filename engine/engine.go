package engine

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/duckdb/duckdb-go/v2"

	"github.com/hopsql/hopsql/catalog"
	"github.com/hopsql/hopsql/engine/pgcatalog"
	"github.com/hopsql/hopsql/engine/pgerr"
	"github.com/hopsql/hopsql/fs"
	"github.com/hopsql/hopsql/gpu"
	"github.com/hopsql/hopsql/gpu/jobs"
	"github.com/hopsql/hopsql/gpu/trainer"
)

// Config configures an Engine.
type Config struct {
	DataDir         string
	RaftAddr        string // the catalog's Raft transport; "" picks a free loopback port
	DefaultDatabase string // created on first start; "hopsql" if empty
	Superuser       string // created on first start; "hopsql" if empty
	Version         string // hopsql's own version, shown in version()
	Logger          *slog.Logger
	// Halt is called when the catalog's log holds an entry this binary
	// cannot apply; it must stop the process (see catalog.Config).
	Halt func(error)
	// Retention is how long replaced table versions stay readable (time
	// travel); MaintenanceInterval how often small files are compacted and
	// old versions expired; GCGrace how old an unreferenced block must be
	// before it is deleted. Zero takes the defaults (7 days, 1 minute, 1 hour).
	// ParquetCompression is the codec of new table files: zstd (default),
	// snappy, lz4_raw or uncompressed (bench/RESULTS.md shows the trade).
	ParquetCompression string
	// SmallCommitRows: a commit adding at most this many rows to a table
	// (of types with an exact text form) writes them as a JSON-lines file
	// inline in its catalog entry instead of a Parquet block
	// (storage/DESIGN.md). 0 takes the default (256); negative disables.
	SmallCommitRows int
	// ScanCacheBytes bounds the node-local uncompressed copies of table
	// blocks that scans read (fs/scancache.go); 0 takes the default
	// (4 GiB), negative disables the cache.
	ScanCacheBytes int64
	// StatsSyncRows: feature group versions of at most this many rows get
	// their statistics before the commit is acknowledged, bigger ones in
	// the background (statistics.go). 0 takes the default (1,000,000).
	StatsSyncRows int64
	// CPUSlots is how many CPU-only trials run at once (0: the number of
	// cores; negative: none). Python is the trainers' interpreter
	// (default /usr/bin/python3).
	CPUSlots int
	Python   string
	// FakeGPUs replaces GPU discovery by that many fake devices: tests of
	// GPU scheduling on machines without one.
	FakeGPUs            int
	Retention           time.Duration
	MaintenanceInterval time.Duration
	GCGrace             time.Duration
	// PointLookupIdle: a plain table's rows kept for primary-key lookups
	// (pointlookup.go) are released after this long without one. 0 takes
	// the default (1 minute).
	PointLookupIdle time.Duration
}

// Engine is one hopsql node's SQL engine.
type Engine struct {
	cfg      Config
	log      *slog.Logger
	counters counters
	catalog  *catalog.Node
	fs       *fs.FS
	// ddlGen counts DDL statements: unique indexes are not part of a table's
	// definition text, so the key cache is also keyed by it.
	ddlGen atomic.Uint64
	// keys caches each table definition's unique keys, by definition text.
	keysMu sync.Mutex
	keys   map[string][]uniqueKey
	// fastTables: constraints and defaults for the single-row INSERT path,
	// by definition (fastinsert.go); under keysMu.
	fastTables map[string]*fastTable
	// keyIdx holds the key hashes of keyed tables (keyindex.go).
	keyIdxMu sync.Mutex
	keyIdx   map[string]*keyIndex
	// online holds online feature groups' latest rows (online.go).
	onlineMu sync.Mutex
	// onlineFVs caches feature views' online forms by definition (onlinefv.go).
	onlineFVs map[string]*onlineFV
	online    map[string]*onlineStore
	// pk holds plain tables' rows by primary key (pointlookup.go).
	pk pkCaches
	// commitLocks serialise this node's commits per keyed table.
	commitMu    sync.Mutex
	commitLocks map[string]*sync.Mutex
	// pipes: per keyed table, the single-row commits in flight
	// (fastinsert.go); under commitMu.
	pipes map[string]*appendPipe
	// compactNow asks the maintenance loop to look at tables with many files.
	compactNow chan string
	// held: the table files (project, table, file; file "*" for all of
	// them) that open transactions on this node rewrite, which background
	// compaction leaves alone until they end (holdFiles).
	heldMu sync.Mutex
	held   map[string]map[*Session]bool
	// gpus discovers the node's GPUs (gpu.None without a driver).
	gpus gpu.Discoverer
	// doKey marks the DO statements hopsql's own rewrites produce
	// (expectations, training datasets): a client writing one is refused.
	doKey string
	// cacheNow asks the maintenance loop to copy a project's new blocks
	// into the scan cache; cacheGen counts copies made (views then read
	// them).
	cacheNow chan string
	// statsNow asks it for the statistics of big feature group versions.
	statsNow  chan statsRequest
	cacheGen  atomic.Uint64
	stopGC    context.CancelFunc
	gcDone    chan struct{}
	maintDone chan struct{}

	// Experiments (experiments.go): the slots trials run on, how jobs
	// start, the trainer runtime script, and the experiments running here.
	alloc   *gpu.Allocator
	backend jobs.Backend
	forks   *jobs.Forkserver
	runtime string
	expMu   sync.Mutex
	exps    map[uint64]*experimentState
	expCtx  context.Context
	expStop context.CancelFunc

	mu  sync.Mutex
	dbs map[string]*database
}

// database is one project's DuckDB instance.
type database struct {
	name      string
	path      string
	connector *duckdb.Connector
	sessions  atomic.Int64
	// declMu orders rewrites of pg_attribute's declared types (declared.go).
	declMu sync.Mutex
}

// Open starts the engine on cfg.DataDir, creating the default database and
// superuser on first start.
func Open(ctx context.Context, cfg Config) (*Engine, error) {
	if cfg.DefaultDatabase == "" {
		cfg.DefaultDatabase = "hopsql"
	}
	if cfg.Superuser == "" {
		cfg.Superuser = "hopsql"
	}
	// Trainers run in their own directories: every path handed to them
	// must be absolute.
	abs, err := filepath.Abs(cfg.DataDir)
	if err != nil {
		return nil, fmt.Errorf("data directory: %w", err)
	}
	cfg.DataDir = abs
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	switch cfg.ParquetCompression {
	case "":
		cfg.ParquetCompression = "zstd"
	case "zstd", "snappy", "lz4_raw", "uncompressed":
	default:
		return nil, fmt.Errorf("parquet compression %q: use zstd, snappy, lz4_raw or uncompressed", cfg.ParquetCompression)
	}
	if cfg.StatsSyncRows == 0 {
		cfg.StatsSyncRows = 1_000_000
	}
	if cfg.ScanCacheBytes == 0 {
		cfg.ScanCacheBytes = 4 << 30
	}
	if cfg.SmallCommitRows == 0 {
		cfg.SmallCommitRows = 256
	}
	if cfg.Retention == 0 {
		cfg.Retention = 7 * 24 * time.Hour
	}
	if cfg.PointLookupIdle == 0 {
		cfg.PointLookupIdle = time.Minute
	}
	if cfg.MaintenanceInterval == 0 {
		cfg.MaintenanceInterval = time.Minute
	}
	if cfg.GCGrace == 0 {
		cfg.GCGrace = time.Hour
	}
	if err := os.MkdirAll(filepath.Join(cfg.DataDir, "tmp"), 0o700); err != nil {
		return nil, fmt.Errorf("create data directory: %w", err)
	}
	if err := os.MkdirAll(filepath.Join(cfg.DataDir, "databases"), 0o700); err != nil {
		return nil, fmt.Errorf("create data directory: %w", err)
	}
	node, err := catalog.Open(ctx, catalog.Config{Dir: filepath.Join(cfg.DataDir, "catalog"), RaftAddr: cfg.RaftAddr,
		Logger: cfg.Logger, Halt: cfg.Halt})
	if err != nil {
		return nil, err
	}
	e := &Engine{cfg: cfg, log: cfg.Logger, catalog: node, dbs: map[string]*database{}, doKey: catalog.NewRequestID(),
		keys: map[string][]uniqueKey{}, fastTables: map[string]*fastTable{}, keyIdx: map[string]*keyIndex{}, online: map[string]*onlineStore{}, onlineFVs: map[string]*onlineFV{}, compactNow: make(chan string, 16), cacheNow: make(chan string, 16), statsNow: make(chan statsRequest, 64), held: map[string]map[*Session]bool{}, commitLocks: map[string]*sync.Mutex{}, pipes: map[string]*appendPipe{}}
	if err := e.bootstrapCatalog(ctx); err != nil {
		node.Close()
		return nil, err
	}
	if e.fs, err = fs.Open(node, cfg.DataDir, cfg.Logger); err != nil {
		node.Close()
		return nil, err
	}
	if err := e.fs.EnableScanCache(max(cfg.ScanCacheBytes, 0)); err != nil {
		node.Close()
		return nil, err
	}
	if cfg.FakeGPUs > 0 {
		var devs []gpu.Device
		for i := 0; i < cfg.FakeGPUs; i++ {
			devs = append(devs, gpu.Device{Index: i, UUID: fmt.Sprintf("GPU-fake-%d", i), Name: "fake GPU", MemoryTotal: 16 << 30})
		}
		e.gpus = gpu.NewFake(devs...)
	} else if e.gpus, err = gpu.Open(); err != nil {
		// A driver that fails to initialise: run without GPUs, say why.
		e.log.Warn("GPU discovery", "err", err)
		e.gpus = gpu.None{}
	}
	if err := e.openJobs(ctx); err != nil {
		node.Close()
		return nil, err
	}
	gcCtx, stop := context.WithCancel(context.Background())
	e.stopGC, e.gcDone = stop, make(chan struct{})
	go func() {
		defer close(e.gcDone)
		// An unreferenced block younger than the grace period may belong to
		// a write whose catalog entry is still in flight.
		e.fs.RunGarbageCollector(gcCtx, max(cfg.GCGrace/6, time.Second), cfg.GCGrace)
	}()
	e.maintDone = make(chan struct{})
	go func() {
		defer close(e.maintDone)
		e.runMaintenance(gcCtx)
	}()
	for _, p := range node.Projects() {
		if _, err := e.openDatabase(ctx, p.Name); err != nil {
			e.Close()
			return nil, err
		}
	}
	e.resumeExperiments()
	return e, nil
}

// openJobs sets up what experiments run on: the node's GPUs and CPU slots,
// local processes, and the trainer runtime written under the data
// directory.
func (e *Engine) openJobs(ctx context.Context) error {
	devs, err := e.gpus.Devices(ctx)
	if err != nil {
		e.log.Warn("GPU discovery", "err", err)
	}
	slots := e.cfg.CPUSlots
	if slots == 0 {
		slots = runtime.NumCPU()
	}
	e.alloc = gpu.NewAllocator(devs, max(slots, 0))
	if e.cfg.Python == "" {
		e.cfg.Python = trainer.DefaultPython
	}
	dir := filepath.Join(e.cfg.DataDir, "runtime")
	if e.runtime, err = trainer.WriteRuntime(dir); err != nil {
		return err
	}
	// Trials fork from a runtime that has imported its libraries once,
	// started with the first trial.
	e.forks = &jobs.Forkserver{Argv: []string{e.cfg.Python, e.runtime, "--serve"}, Prefix: []string{e.cfg.Python, e.runtime},
		Log: filepath.Join(dir, "forkserver.log")}
	e.backend = e.forks
	e.exps = map[uint64]*experimentState{}
	e.expCtx, e.expStop = context.WithCancel(context.Background())
	return nil
}

// bootstrapCatalog makes sure the superuser and the default project exist,
// and carries over what a data directory from before the Raft catalog held
// (users.json and one DuckDB file per database). Every step is idempotent.
func (e *Engine) bootstrapCatalog(ctx context.Context) error {
	legacy, err := catalog.LegacyUsers(filepath.Join(e.cfg.DataDir, "users.json"))
	if err != nil {
		return err
	}
	for _, u := range legacy {
		if _, err := e.catalog.Propose(ctx, catalog.CmdPutUser, catalog.PutUser{Name: u.Name, Superuser: u.Superuser, SCRAM: u.SCRAM, IfAbsent: true}); err != nil {
			return fmt.Errorf("import user %q: %w", u.Name, err)
		}
	}
	if _, ok := e.catalog.User(e.cfg.Superuser); !ok {
		if _, err := e.catalog.Propose(ctx, catalog.CmdPutUser, catalog.PutUser{Name: e.cfg.Superuser, Superuser: true, IfAbsent: true}); err != nil {
			return fmt.Errorf("create superuser: %w", err)
		}
	}
	names, err := e.scanDatabases()
	if err != nil {
		return err
	}
	names = append(names, e.cfg.DefaultDatabase)
	for _, n := range names {
		if _, ok := e.catalog.Project(n); ok {
			continue
		}
		if _, err := e.catalog.Propose(ctx, catalog.CmdCreateProject, catalog.CreateProject{Name: n, Owner: e.cfg.Superuser, IfAbsent: true}); err != nil {
			return fmt.Errorf("create project %q: %w", n, err)
		}
	}
	return nil
}

// FS is this node's filesystem.
func (e *Engine) FS() *fs.FS { return e.fs }

// Catalog is this node's catalog.
func (e *Engine) Catalog() *catalog.Node { return e.catalog }

// User returns a role by name (for authentication).
func (e *Engine) User(name string) (catalog.User, bool) { return e.catalog.User(name) }

// SetPassword stores a user's SCRAM-SHA-256 verifier.
func (e *Engine) SetPassword(ctx context.Context, name, verifier string) error {
	u, ok := e.catalog.User(name)
	if !ok {
		return pgerr.New(pgerr.UndefinedObject, "role %q does not exist", name)
	}
	_, err := e.catalog.Propose(ctx, catalog.CmdPutUser, catalog.PutUser{Name: name, Superuser: u.Superuser, SCRAM: verifier})
	return err
}

// Superuser is the name of the built-in superuser.
func (e *Engine) Superuser() string { return e.cfg.Superuser }

func (e *Engine) scanDatabases() ([]string, error) {
	ents, err := os.ReadDir(filepath.Join(e.cfg.DataDir, "databases"))
	if err != nil {
		return nil, fmt.Errorf("list databases: %w", err)
	}
	var names []string
	for _, ent := range ents {
		if n, ok := strings.CutSuffix(ent.Name(), ".duckdb"); ok && !ent.IsDir() {
			names = append(names, n)
		}
	}
	return names, nil
}

func (e *Engine) catalogInfo() pgcatalog.Info {
	info := pgcatalog.Info{ServerVersion: ServerVersion + " (hopsql " + e.cfg.Version + ")"}
	for _, p := range e.catalog.Projects() {
		info.Databases = append(info.Databases, p.Name)
	}
	for _, u := range e.catalog.Users() {
		info.Roles = append(info.Roles, pgcatalog.Role{Name: u.Name, Superuser: u.Superuser, CanLogin: true})
	}
	for _, p := range info.Databases {
		info.Declared = append(info.Declared, e.declaredColumns(p)...)
	}
	return info
}

// openDatabase opens (or creates) a database's DuckDB file. Callers hold no lock.
func (e *Engine) openDatabase(ctx context.Context, name string) (*database, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if db, ok := e.dbs[name]; ok {
		return db, nil
	}
	path := filepath.Join(e.cfg.DataDir, "databases", name+".duckdb")
	connector, err := duckdb.NewConnector(path, initConn)
	if err != nil {
		return nil, fmt.Errorf("open database %q: %w", name, err)
	}
	db := &database{name: name, path: path, connector: connector}
	e.dbs[name] = db
	if err := e.installCatalog(ctx, db); err != nil {
		delete(e.dbs, name)
		connector.Close()
		return nil, err
	}
	if err := e.registerFSFunctions(ctx, db); err != nil {
		delete(e.dbs, name)
		connector.Close()
		return nil, err
	}
	if err := e.reconcileTables(ctx, db); err != nil {
		delete(e.dbs, name)
		connector.Close()
		return nil, err
	}
	// Other databases list this one in pg_database.
	e.refreshCatalogsLocked(ctx, name)
	return db, nil
}

// initConn runs on every new DuckDB connection: PostgreSQL's integer
// division, and its NULL order (NULL sorts as the largest value: last
// ascending, first descending; DuckDB puts NULLs last either way).
func initConn(execer driver.ExecerContext) error {
	if _, err := execer.ExecContext(context.Background(), "SET integer_division = true", nil); err != nil {
		return err
	}
	if _, err := execer.ExecContext(context.Background(), "SET default_null_order = 'nulls_last_on_asc_first_on_desc'", nil); err != nil {
		return err
	}
	// Table files are immutable blocks: their Parquet footers can be cached.
	_, err := execer.ExecContext(context.Background(), "SET parquet_metadata_cache = true", nil)
	return err
}

func (e *Engine) installCatalog(ctx context.Context, db *database) error {
	c, err := db.connector.Connect(ctx)
	if err != nil {
		return fmt.Errorf("connect to %q: %w", db.name, err)
	}
	defer c.Close()
	if err := pgcatalog.Install(ctx, c.(driver.ExecerContext), e.catalogInfo()); err != nil {
		return fmt.Errorf("install pg_catalog in %q: %w", db.name, err)
	}
	return nil
}

// refreshCatalogsLocked updates pg_database/pg_roles in every database but skip.
func (e *Engine) refreshCatalogsLocked(ctx context.Context, skip string) {
	info := e.catalogInfo()
	for n, db := range e.dbs {
		if n == skip {
			continue
		}
		c, err := db.connector.Connect(ctx)
		if err != nil {
			e.log.Warn("refresh catalog", "database", n, "err", err)
			continue
		}
		if err := pgcatalog.Refresh(ctx, c.(driver.ExecerContext), info); err != nil {
			e.log.Warn("refresh catalog", "database", n, "err", err)
		}
		c.Close()
	}
}

// CreateDatabase creates a new database (project).
func (e *Engine) CreateDatabase(ctx context.Context, name, owner string) error {
	if err := validDatabaseName(name); err != nil {
		return err
	}
	if _, err := e.catalog.Propose(ctx, catalog.CmdCreateProject, catalog.CreateProject{Name: name, Owner: owner}); err != nil {
		if errors.Is(err, catalog.ErrExists) {
			return pgerr.New(pgerr.DuplicateDatabase, "database %q already exists", name)
		}
		return fmt.Errorf("create database %q: %w", name, err)
	}
	_, err := e.openDatabase(ctx, name)
	return err
}

// DropDatabase removes a database that no session is connected to.
func (e *Engine) DropDatabase(ctx context.Context, name string, missingOK bool) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	db, ok := e.dbs[name]
	if !ok {
		if missingOK {
			return nil
		}
		return pgerr.New(pgerr.InvalidCatalogName, "database %q does not exist", name)
	}
	if name == e.cfg.DefaultDatabase {
		return pgerr.New(pgerr.ObjectNotInPrerequisiteState, "cannot drop the default database %q", name)
	}
	if n := db.sessions.Load(); n > 0 {
		return pgerr.New("55006", "database %q is being accessed by other users", name).
			WithDetail(fmt.Sprintf("There are %d other sessions using the database.", n))
	}
	e.stopExperiments(ctx, name)
	if _, err := e.catalog.Propose(ctx, catalog.CmdDropProject, catalog.DropProject{Name: name}); err != nil {
		return fmt.Errorf("drop database %q: %w", name, err)
	}
	_ = os.RemoveAll(e.experimentDir(name))
	if err := db.connector.Close(); err != nil {
		return fmt.Errorf("close database %q: %w", name, err)
	}
	delete(e.dbs, name)
	for _, p := range []string{db.path, db.path + ".wal", filepath.Join(e.cfg.DataDir, "databases", name+".storage")} {
		if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("remove %s: %w", p, err)
		}
	}
	e.refreshCatalogsLocked(ctx, "")
	return nil
}

func validDatabaseName(name string) error {
	if name == "" || len(name) > 63 {
		return pgerr.New(pgerr.InvalidParameterValue, "invalid database name %q", name)
	}
	for _, r := range name {
		if !(r == '_' || r == '-' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return pgerr.New(pgerr.InvalidParameterValue, "invalid database name %q: use letters, digits, '_' and '-'", name)
		}
	}
	return nil
}

// Close closes every database. Sessions must be closed first.
func (e *Engine) Close() error {
	// Running experiments stop first: their trials are killed and stay
	// RUNNING in the catalog, so that the next start resumes them.
	if e.expStop != nil {
		e.expStop()
		e.expMu.Lock()
		var running []*experimentState
		for _, x := range e.exps {
			running = append(running, x)
		}
		e.expMu.Unlock()
		for _, x := range running {
			select {
			case <-x.driver.Done():
			case <-time.After(10 * time.Second):
			}
		}
		e.forks.Close()
	}
	// Background work stops first, and without e.mu: the maintenance loop
	// takes e.mu to list the databases.
	if e.stopGC != nil {
		e.stopGC()
		<-e.gcDone
		<-e.maintDone
		e.stopGC = nil
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	var errs []error
	if e.gpus != nil {
		if err := e.gpus.Close(); err != nil {
			errs = append(errs, err)
		}
	}
	for n, db := range e.dbs {
		if err := db.connector.Close(); err != nil {
			errs = append(errs, fmt.Errorf("close %q: %w", n, err))
		}
		delete(e.dbs, n)
	}
	if e.catalog != nil {
		if err := e.catalog.Close(); err != nil {
			errs = append(errs, err)
		}
		e.catalog = nil
	}
	return errors.Join(errs...)
}
