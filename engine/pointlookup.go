package engine

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/duckdb/duckdb-go/v2"
	pg_query "github.com/pganalyze/pg_query_go/v6"

	"github.com/hopsql/hopsql/catalog"
	"github.com/hopsql/hopsql/engine/pgerr"
	"github.com/hopsql/hopsql/storage"
)

// Point lookups by primary key on plain tables. A table is a set of
// Parquet files, and DuckDB answers `SELECT … FROM t WHERE id = $1` by
// scanning the row group the key's zone map allows: about 2 ms of CPU a
// lookup, where PostgreSQL's B-tree takes a few microseconds. For a table
// that is read by key, the node keeps its rows by key in memory — the
// online store's machinery (online.go), keyed by the primary key — as of
// one table version, with the keys each of that version's files holds:
//
//   - A lookup in autocommit (by the whole key: `k = v`, `k IN (…)`, an AND
//     of equalities) is answered from memory when the rows are those of
//     the table's current version. The rows are DuckDB's own, each file
//     read as the table's view reads it (storage.ReadSQL), so the answer
//     is DuckDB's.
//   - When the table has moved on, the lookup first applies the versions
//     since (catalog.TableChanges): the rows of removed files go, those of
//     added files are read (a compaction's file takes over its sources'
//     keys unread). Up to 4096 rows are read at once — an INSERT's; more
//     (an UPDATE rewrites whole files) only after DuckDB has answered
//     rows/4096 lookups of the new version, which cost about as much, so
//     a table rewritten between every few lookups is not read for nothing.
//     The first reading of a table waits for pkCacheWarmup lookups alike.
//   - Tables over pkCacheMaxCells values (rows × columns, 9 bytes each in
//     memory plus their strings' bytes, held without Go pointers: see
//     onlineRows) are never kept, and all kept tables together stay
//     within pkCacheBudgetCells. Rows not used for Config.PointLookupIdle
//     are released by the periodic maintenance round, or sooner when
//     another table needs the room.
//
// Inside a transaction the lookup must see the transaction's snapshot and
// its own writes: memory answers only while the transaction has not
// written the table and reads the version memory holds; otherwise DuckDB.

const (
	pkCacheMaxCells    = 4 << 20
	pkCacheBudgetCells = 8 << 20
)

// pkCacheWarmup is how many lookups of one table version DuckDB answers
// before the version's rows are read into memory: a lookup costs DuckDB
// about as much as reading 4096 rows does.
func pkCacheWarmup(rows int64) int64 { return max(8, rows/4096) }

// pkCache is one table's rows by primary key, as of one table version.
type pkCache struct {
	onlineStore
	key []string // the primary key's columns, in table order
	// def is the table's columns the rows were read with; byFile, the
	// slots (in rows) of the rows each of the version's files holds.
	def    []catalog.Column
	byFile map[string][]int32
	// size is the values held (rows × columns), as counted against the budget.
	size int64
	// building: a session is reading the rows; others ask DuckDB meanwhile.
	building bool
	// misses counts lookups DuckDB answered for missTable's missVersion.
	missTable   uint64
	missVersion int64
	misses      int64
	used        time.Time
	// catchUps counts versions applied without reading the table whole.
	catchUps int64
}

// pkCaches is the engine's set of pkCache, with the values they hold.
type pkCaches struct {
	mu     sync.Mutex
	tables map[string]*pkCache
	cells  int64
}

func (e *Engine) pkCacheFor(project, name string) *pkCache {
	k := project + "\x00" + name
	e.pk.mu.Lock()
	defer e.pk.mu.Unlock()
	if e.pk.tables == nil {
		e.pk.tables = map[string]*pkCache{}
	}
	c := e.pk.tables[k]
	if c == nil {
		c = &pkCache{onlineStore: onlineStore{version: -1}}
		e.pk.tables[k] = c
	}
	return c
}

// planPointLookup recognises a lookup of plain table name by equality on
// columns that may be its primary key (checked when it runs: the key is
// DuckDB's to say). The key columns are taken in table order, the order
// the cache encodes keys in.
func (s *Session) planPointLookup(sel *pg_query.SelectStmt, name string) *onlinePlan {
	if s.featureOf(name) != nil || sel.WhereClause == nil {
		return nil
	}
	h, ok := s.e.catalog.TableHead(s.db.name, "main", name)
	if !ok {
		return nil
	}
	eq := map[string]bool{}
	conds := []*pg_query.Node{sel.WhereClause}
	if be := sel.WhereClause.GetBoolExpr(); be != nil {
		conds = be.Args
	}
	for _, c := range conds {
		if ae := c.GetAExpr(); ae != nil {
			if cr := ae.Lexpr.GetColumnRef(); cr != nil {
				eq[cr.Fields[len(cr.Fields)-1].GetString_().GetSval()] = true
			}
		}
	}
	types := map[string]string{}
	var cols []string
	for _, c := range h.Columns {
		types[c.Name] = c.Type
		if eq[c.Name] {
			cols = append(cols, c.Name)
		}
	}
	p := s.planLookup(sel, name, cols, types)
	if p == nil {
		return nil
	}
	for _, t := range p.trans {
		if t != nil {
			return nil // fitted transforms are for online feature groups
		}
	}
	p.pkCols = cols
	return p
}

// execPointLookup answers a primary-key lookup from memory; handled is
// false when DuckDB must answer it.
func (s *Session) execPointLookup(ctx context.Context, p *Portal, sink RowSink) (res Result, handled bool, err error) {
	plan := p.stmt.pointLookup
	want := int64(-1)
	if s.tx != txIdle {
		v, ok, err := s.untouchedVersion(plan.table)
		if err != nil || !ok {
			return Result{}, false, nil // DuckDB answers (and reports what is wrong)
		}
		// Memory holds the latest version only: an older snapshot is
		// DuckDB's to read.
		if h, found := s.e.catalog.TableHead(s.db.name, "main", plan.table); !found || h.Version != v {
			return Result{}, false, nil
		}
		want = v
	}
	rows, handled, err := s.pkLookup(ctx, s.e.pkCacheFor(s.db.name, plan.table), p, plan, want)
	if !handled || err != nil {
		return Result{}, handled, err
	}
	return sendLookup(rows, sink)
}

// isPrimaryKey: cols are exactly the table's primary key, which is
// DuckDB's to say (uniqueKeys, cached by definition).
func (s *Session) isPrimaryKey(ctx context.Context, table string, cols []string) bool {
	keys, err := s.uniqueKeys(ctx, table)
	if err != nil {
		return false
	}
	for _, k := range keys {
		if k.primary {
			return len(k.cols) == len(cols) && !slices.ContainsFunc(k.cols, func(c string) bool { return !slices.Contains(cols, c) })
		}
	}
	return false
}

// txWrote reports whether the session's transaction holds writes or DDL.
func (s *Session) txWrote() bool {
	if s.stx == nil {
		return s.txDDL
	}
	if s.stx.ddl || s.txDDL {
		return true
	}
	for _, p := range s.stx.tables {
		if p.dirty {
			return true
		}
	}
	return false
}

// untouchedVersion is the version of a table a transaction reads, when
// the transaction has not written it (nor DDL that could change it): the
// rows of that version are then the lookup's answer. false: DuckDB
// answers, over the transaction's own rows.
func (s *Session) untouchedVersion(name string) (int64, bool, error) {
	if stx := s.stx; stx != nil {
		if stx.ddl || stx.created[name] || stx.altered[name] || stx.dropped[name] || len(stx.renames) > 0 {
			return 0, false, nil
		}
		if p, ok := stx.tables[name]; ok && (p.dirty || p.replace || len(p.pulled) > 0 || p.direct != nil) {
			return 0, false, nil
		}
	}
	if s.ibuf != nil {
		if bt := s.ibuf.tables[name]; bt != nil && len(bt.rows) > 0 {
			return 0, false, nil
		}
	}
	return s.readVersion(name)
}

// pkLookup finds a lookup's rows in c, bringing c up to the table's
// current version first when that is worth it; false when DuckDB must
// answer. want, unless -1, is the version the lookup must read (a
// transaction's snapshot): c answers only when it holds that one.
func (s *Session) pkLookup(ctx context.Context, c *pkCache, p *Portal, plan *onlinePlan, want int64) ([][]driver.Value, bool, error) {
	c.mu.Lock()
	ready, work := s.pkCacheState(ctx, c, plan)
	if !ready && work != nil && want >= 0 && s.txWrote() {
		// Reading the rows runs DuckDB statements in the session's
		// transaction, where an error would abort the client's writes.
		work = nil
	}
	if !ready && work == nil {
		c.mu.Unlock()
		return nil, false, nil
	}
	if work != nil {
		// Others ask DuckDB while this session reads; c stays as it is
		// (only the builder changes it) until the rows are applied.
		c.building, c.used = true, time.Now()
		c.mu.Unlock()
		err := work(ctx)
		c.mu.Lock()
		c.building = false
		if err != nil || c.rows == nil {
			c.mu.Unlock()
			return nil, false, nil // DuckDB answers, and reports what is wrong
		}
	}
	defer c.mu.Unlock()
	if want >= 0 && c.version != want {
		return nil, false, nil
	}
	c.used = time.Now()
	idx, ok := selectedColumns(plan, c.cols, len(p.stmt.Fields))
	if !ok {
		return nil, false, nil
	}
	_, keys, ok := lookupKeys(plan, p.args)
	if !ok {
		return nil, false, nil
	}
	out := c.rows.pick(keys, idx)
	c.lookups += int64(len(out))
	s.e.counters.pointLookupsMemory.Add(1)
	return out, true, nil
}

// pkCacheState says, under c.mu, whether c holds the rows of the table's
// current version (ready); if not, work is what this lookup should do to
// bring it there (read the rows of the files added since c's version, or
// all of them), or nil when DuckDB answers. Reading costs about as much
// per 4096 rows as one lookup by DuckDB: a few thousand rows are read at
// once, more only after DuckDB has answered that many lookups of the
// version, so a table rewritten between every few lookups is not read for
// nothing.
//
// The lookup's columns are checked to be the primary key only here, off
// the path of a lookup that finds c current: c's rows were read after such
// a check, and while the table's version stays the same its rows are
// still unique on those columns, whatever DDL said since.
func (s *Session) pkCacheState(ctx context.Context, c *pkCache, plan *onlinePlan) (ready bool, work func(context.Context) error) {
	gen := s.e.catalog.Generation()
	if c.rows != nil && c.checkedGen == gen && slices.Equal(c.key, plan.pkCols) {
		return true, nil
	}
	h, ok := s.e.catalog.TableHead(s.db.name, "main", plan.table)
	if !ok || c.building {
		return false, nil
	}
	same := c.rows != nil && c.tableID == h.ID && slices.Equal(c.key, plan.pkCols) && slices.Equal(c.def, h.Columns)
	if same && c.version == h.Version {
		c.checkedGen = gen
		return true, nil
	}
	if !s.isPrimaryKey(ctx, plan.table, plan.pkCols) {
		return false, nil
	}
	if h.Rows*int64(len(h.Columns)) > pkCacheMaxCells {
		s.e.dropPKRows(c)
		return false, nil
	}
	if c.missTable != h.ID || c.missVersion != h.Version {
		c.missTable, c.missVersion, c.misses = h.ID, h.Version, 0
	}
	c.misses++
	if same {
		if ch, cost, ok := s.pkChanges(c, plan.table); ok {
			if cost > 4096 && c.misses <= cost/4096 {
				return false, nil
			}
			return false, func(ctx context.Context) error { return s.catchUpPKCache(ctx, c, plan.table, ch) }
		}
	}
	s.e.dropPKRows(c)
	if c.misses <= pkCacheWarmup(h.Rows) {
		return false, nil
	}
	return false, func(ctx context.Context) error { return s.buildPKCache(ctx, c, plan.table, plan.pkCols) }
}

// dropPKRows releases c's rows (c.mu held).
func (e *Engine) dropPKRows(c *pkCache) {
	if c.rows == nil {
		return
	}
	e.pk.mu.Lock()
	e.pk.cells -= c.size
	e.pk.mu.Unlock()
	c.rows, c.byFile, c.size, c.version = nil, nil, 0, -1
}

// pkChange is what a catch-up applies: the files gone since c's version,
// the files added (each read, or, for a compaction's file, made of the
// keys of the files it merged), and the version they make.
type pkChange struct {
	version int64
	removed []string
	added   []catalog.FileRef
	merged  map[string][]string // a compaction's file → the files it holds exactly the rows of
}

// pkChanges lists the changes since c's version and the rows they would
// have to read; false when the history does not reach back that far.
func (s *Session) pkChanges(c *pkCache, name string) (pkChange, int64, bool) {
	id, version, changes, ok := s.e.catalog.TableChanges(s.db.name, "main", name, c.version)
	if !ok || id != c.tableID {
		return pkChange{}, 0, false
	}
	added, removed, merged := netFileChanges(changes)
	ch := pkChange{version: version, merged: merged}
	var cost int64
	for fname := range removed {
		ch.removed = append(ch.removed, fname)
	}
	for fname := range added {
		f, ok := s.e.catalog.TableFile(s.db.name, "main", name, fname)
		if !ok {
			return pkChange{}, 0, false // already replaced again: start over
		}
		ch.added = append(ch.added, f)
		if !c.holdsAll(ch.merged[fname]) {
			cost += f.Rows
		}
	}
	return ch, cost, true
}

// holdsAll: c holds the rows of every one of files (and there is one).
func (c *pkCache) holdsAll(files []string) bool {
	for _, f := range files {
		if _, ok := c.byFile[f]; !ok {
			return false
		}
	}
	return len(files) > 0
}

// catchUpPKCache applies ch to c: the rows of the files removed go, those
// of the files added come, and c is then ch.version's (c.building set,
// c.mu not held while files are read).
func (s *Session) catchUpPKCache(ctx context.Context, c *pkCache, name string, ch pkChange) error {
	read := map[string]fileRows{}
	for _, f := range ch.added {
		if c.holdsAll(ch.merged[f.Name]) {
			continue
		}
		fr, err := s.readFileRows(ctx, c.def, f, c.keyIdx)
		if err != nil {
			return err
		}
		read[f.Name] = fr
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	before := int64(c.rows.len())
	// A compaction's file takes over its sources' rows before they go.
	for _, f := range ch.added {
		if srcs := ch.merged[f.Name]; c.holdsAll(srcs) {
			var slots []int32
			for _, src := range srcs {
				slots = append(slots, c.byFile[src]...)
			}
			c.byFile[f.Name] = slots
			for _, src := range srcs {
				delete(c.byFile, src)
			}
		}
	}
	for _, f := range ch.removed {
		for _, slot := range c.byFile[f] {
			c.rows.delSlot(slot)
		}
		delete(c.byFile, f)
	}
	for fname, fr := range read {
		slots, ok := putFileRows(c.rows, fr)
		if !ok {
			// Two live files with one key: not a key after all. The rows
			// go; DuckDB answers.
			s.e.dropPKRows(c)
			return nil
		}
		c.byFile[fname] = slots
	}
	c.version, c.checkedGen = ch.version, 0
	c.catchUps++
	grew := (int64(c.rows.len()) - before) * int64(len(c.cols))
	c.size += grew
	s.e.pk.mu.Lock()
	s.e.pk.cells += grew
	s.e.pk.mu.Unlock()
	if c.size > pkCacheMaxCells {
		s.e.dropPKRows(c)
	}
	return nil
}

// buildPKCache reads the rows of every file of the table's current
// version into c (c.building set, c.mu not held).
func (s *Session) buildPKCache(ctx context.Context, c *pkCache, name string, key []string) error {
	h, ok := s.e.catalog.TableHead(s.db.name, "main", name)
	want := h.Rows * int64(len(h.Columns))
	if !ok || want > pkCacheMaxCells || !s.e.reservePKCells(want) {
		return nil
	}
	rows, byFile, version, keyIdx, err := s.readKeyedFiles(ctx, h, key)
	got := int64(rows.len()) * int64(len(h.Columns))
	s.e.pk.mu.Lock()
	s.e.pk.cells += got - want // the reservation becomes the count
	if err != nil {
		s.e.pk.cells -= got
	}
	s.e.pk.mu.Unlock()
	if err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	cols := make([]string, len(h.Columns))
	for i, col := range h.Columns {
		cols[i] = col.Name
	}
	c.rows, c.byFile, c.size, c.cols, c.keyIdx, c.key, c.def = rows, byFile, got, cols, keyIdx, key, h.Columns
	c.version, c.tableID, c.checkedGen = version, h.ID, 0
	c.builds++
	c.used = time.Now()
	return nil
}

// readKeyedFiles reads the rows of every file of a table's current
// version, by key, noting which file holds which key.
func (s *Session) readKeyedFiles(ctx context.Context, h catalog.TableHead, key []string) (*onlineRows, map[string][]int32, int64, []int, error) {
	out := newOnlineRows(len(h.Columns))
	var keyIdx []int
	for _, k := range key {
		if i := slices.IndexFunc(h.Columns, func(c catalog.Column) bool { return c.Name == k }); i >= 0 {
			keyIdx = append(keyIdx, i)
		}
	}
	if len(keyIdx) != len(key) {
		return out, nil, 0, nil, fmt.Errorf("point lookup: key columns %v not in table %s", key, h.Name)
	}
	version, files, err := s.e.catalog.TableFiles(s.db.name, "main", h.Name, 0, 0)
	if err != nil {
		return out, nil, 0, nil, err
	}
	byFile := make(map[string][]int32, len(files))
	for _, f := range files {
		fr, err := s.readFileRows(ctx, h.Columns, f, keyIdx)
		if err != nil {
			return out, nil, 0, nil, err
		}
		slots, ok := putFileRows(out, fr)
		if !ok {
			return out, nil, 0, nil, fmt.Errorf("point lookup: table %s holds a key twice", h.Name)
		}
		byFile[f.Name] = slots
	}
	return out, byFile, version, keyIdx, nil
}

// putFileRows puts one file's rows into rows and returns their slots;
// false when a key was there already, which a primary key rules out.
func putFileRows(rows *onlineRows, fr fileRows) ([]int32, bool) {
	slots := make([]int32, len(fr.keys))
	for i, k := range fr.keys {
		slot, existed := rows.put([]byte(k), fr.rows[i])
		if existed {
			return nil, false
		}
		slots[i] = slot
	}
	return slots, true
}

// fileRows are one file's rows and their encoded keys.
type fileRows struct {
	keys []string
	rows [][]driver.Value
}

// readFileRows reads one file's rows as the table's view shows them (the
// same storage.ReadSQL, cast to the table's columns).
func (s *Session) readFileRows(ctx context.Context, cols []catalog.Column, f catalog.FileRef, keyIdx []int) (fileRows, error) {
	var out fileRows
	read, err := s.readSQL(cols, []catalog.FileRef{f}, storage.ReadOptions{})
	if err != nil {
		return out, err
	}
	rows, err := s.conn.QueryContext(ctx, "SELECT * FROM ("+read+") AS f", nil)
	if err != nil {
		return out, pgerr.From(err)
	}
	defer rows.Close()
	if n := len(rows.Columns()); n != len(cols) {
		return out, fmt.Errorf("point lookup: file %s reads as %d columns, want %d", f.Name, n, len(cols))
	}
	out.keys = make([]string, 0, f.Rows)
	out.rows = make([][]driver.Value, 0, f.Rows)
	var kb []byte
	for {
		vals := make([]driver.Value, len(cols))
		if err := rows.Next(vals); err != nil {
			if errors.Is(err, io.EOF) {
				break
			}
			return out, err
		}
		kb = appendOnlineKey(kb[:0], pick(vals, keyIdx))
		out.keys = append(out.keys, string(kb))
		out.rows = append(out.rows, vals)
	}
	return out, nil
}

// reservePKCells counts n values against the budget, first releasing the
// rows of idle tables when they do not fit; false when they still do not.
func (e *Engine) reservePKCells(n int64) bool {
	e.pk.mu.Lock()
	if e.pk.cells+n <= pkCacheBudgetCells {
		e.pk.cells += n
		e.pk.mu.Unlock()
		return true
	}
	e.pk.mu.Unlock()
	e.releaseIdlePKCaches()
	e.pk.mu.Lock()
	defer e.pk.mu.Unlock()
	if e.pk.cells+n > pkCacheBudgetCells {
		return false
	}
	e.pk.cells += n
	return true
}

// releaseIdlePKCaches drops the rows of tables not looked up for
// Config.PointLookupIdle.
func (e *Engine) releaseIdlePKCaches() {
	e.pk.mu.Lock()
	idle := make([]*pkCache, 0, len(e.pk.tables))
	for _, c := range e.pk.tables {
		idle = append(idle, c)
	}
	e.pk.mu.Unlock()
	for _, c := range idle {
		// A cache in use now is not idle; TryLock keeps this from waiting
		// on (or deadlocking with) a lookup.
		if c.mu.TryLock() {
			if c.rows != nil && !c.building && time.Since(c.used) > e.cfg.PointLookupIdle {
				e.dropPKRows(c)
			}
			c.mu.Unlock()
		}
	}
}

var pointLookupColumns = []column{
	{name: "name", t: duckdb.TYPE_VARCHAR}, {name: "keys", t: duckdb.TYPE_BIGINT}, {name: "snapshot", t: duckdb.TYPE_BIGINT},
	{name: "loaded", t: duckdb.TYPE_BOOLEAN}, {name: "lookups", t: duckdb.TYPE_BIGINT}, {name: "builds", t: duckdb.TYPE_BIGINT},
	{name: "catch_ups", t: duckdb.TYPE_BIGINT},
}

// pointLookupRows lists a project's tables that primary-key lookups have
// met: the rows kept (keys), the version they are of, the keys answered
// from memory, and how often the rows were read whole or brought forward.
func (e *Engine) pointLookupRows(project string) []map[string]any {
	e.pk.mu.Lock()
	var names []string
	caches := map[string]*pkCache{}
	for k, c := range e.pk.tables {
		if p, name, _ := strings.Cut(k, "\x00"); p == project {
			names = append(names, name)
			caches[name] = c
		}
	}
	e.pk.mu.Unlock()
	slices.Sort(names)
	out := make([]map[string]any, 0, len(names))
	for _, name := range names {
		c := caches[name]
		c.mu.Lock()
		out = append(out, map[string]any{"name": name, "keys": int64(c.rows.len()), "snapshot": c.version, "loaded": c.rows != nil,
			"lookups": c.lookups, "builds": c.builds, "catch_ups": c.catchUps})
		c.mu.Unlock()
	}
	return out
}
