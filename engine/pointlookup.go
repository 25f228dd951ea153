package engine

import (
	"context"
	"database/sql/driver"
	"fmt"
	"slices"
	"sync"
	"time"

	pg_query "github.com/pganalyze/pg_query_go/v6"

	"github.com/hopsql/hopsql/engine/pgerr"
)

// Point lookups by primary key on plain tables. A table is a set of
// Parquet files, and DuckDB answers `SELECT … FROM t WHERE id = $1` by
// scanning the row group the key's zone map allows: about 2 ms of CPU a
// lookup, where PostgreSQL's B-tree takes a few microseconds. For a table
// that is read by key more than it is written, the node keeps its rows by
// key in memory — the online store's machinery (online.go), keyed by the
// primary key and valid for exactly one table version:
//
//   - A lookup in autocommit (by the whole key: `k = v`, `k IN (…)`, an AND
//     of equalities) is answered from memory when the rows are those of
//     the table's current version; the answer is what DuckDB would give,
//     as the rows are DuckDB's own, read through the session's view.
//   - Any commit to the table makes the rows stale; they are dropped at the
//     next lookup, which DuckDB answers. The rows are read again only once
//     DuckDB has answered enough lookups of the new version to have paid
//     for reading them (pkCacheWarmup), so a table written between every
//     few lookups is never read whole for nothing.
//   - Tables over pkCacheMaxCells values (rows × columns, about 40 bytes
//     each in memory) are never kept, and all kept tables together stay
//     within pkCacheBudgetCells; rows not used for pkCacheIdle are
//     released when another table needs the room.
//
// Inside a transaction block the lookup must see the block's snapshot and
// its own writes: DuckDB answers.

const (
	pkCacheMaxCells    = 4 << 20
	pkCacheBudgetCells = 8 << 20
	pkCacheIdle        = time.Minute
)

// pkCacheWarmup is how many lookups of one table version DuckDB answers
// before the version's rows are read into memory: a lookup costs DuckDB
// about as much as reading 4096 rows does.
func pkCacheWarmup(rows int64) int64 { return max(8, rows/4096) }

// pkCache is one table's rows by primary key, for one table version.
type pkCache struct {
	onlineStore
	key []string // the primary key's columns, in table order
	// size is the values held (rows × columns), as counted against the budget.
	size int64
	// building: a session is reading the rows; others ask DuckDB meanwhile.
	building bool
	// misses counts lookups DuckDB answered for missTable's missVersion.
	missTable   uint64
	missVersion int64
	misses      int64
	used        time.Time
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
	if s.tx != txIdle {
		return Result{}, false, nil
	}
	keys, err := s.uniqueKeys(ctx, plan.table)
	if err != nil {
		return Result{}, false, nil
	}
	var pk []string
	for _, k := range keys {
		if k.primary {
			pk = k.cols
		}
	}
	if len(pk) != len(plan.pkCols) {
		return Result{}, false, nil
	}
	for _, c := range pk {
		if !slices.Contains(plan.pkCols, c) {
			return Result{}, false, nil
		}
	}
	c := s.e.pkCacheFor(s.db.name, plan.table)
	rows, handled, err := s.pkLookup(ctx, c, p, plan)
	if !handled || err != nil {
		return Result{}, handled, err
	}
	for _, r := range rows {
		if err := sink(r); err != nil {
			return Result{}, true, err
		}
	}
	return Result{Tag: fmt.Sprintf("SELECT %d", len(rows))}, true, nil
}

// pkLookup finds a lookup's rows in c, reading the table's rows first when
// the warm-up is over; false when DuckDB must answer.
func (s *Session) pkLookup(ctx context.Context, c *pkCache, p *Portal, plan *onlinePlan) ([][]driver.Value, bool, error) {
	c.mu.Lock()
	ready, build := s.pkCacheState(c, plan)
	if !ready && !build {
		c.mu.Unlock()
		return nil, false, nil
	}
	if build {
		c.building = true
		c.mu.Unlock()
		err := s.buildPKCache(ctx, c, plan.table, plan.pkCols)
		c.mu.Lock()
		c.building = false
		if err != nil || c.rows == nil {
			c.mu.Unlock()
			return nil, false, nil // DuckDB answers, and reports what is wrong
		}
	}
	defer c.mu.Unlock()
	c.used = time.Now()
	idx, ok := selectedColumns(plan, c.cols, len(p.stmt.Fields))
	if !ok {
		return nil, false, nil
	}
	_, keys, ok := lookupKeys(plan, p.args)
	if !ok {
		return nil, false, nil
	}
	var out [][]driver.Value
	for _, k := range keys {
		row, ok := c.rows.get([]byte(k))
		if !ok {
			continue
		}
		c.lookups++
		r := make([]driver.Value, len(idx))
		for i, j := range idx {
			r[i] = row[j]
		}
		out = append(out, r)
	}
	s.e.counters.pointLookupsMemory.Add(1)
	return out, true, nil
}

// pkCacheState says, under c.mu, whether c holds the rows of the table's
// current version (ready), or whether this lookup should read them
// (build); neither: DuckDB answers.
func (s *Session) pkCacheState(c *pkCache, plan *onlinePlan) (ready, build bool) {
	gen := s.e.catalog.Generation()
	if c.rows != nil && c.checkedGen == gen && slices.Equal(c.key, plan.pkCols) {
		return true, false
	}
	h, ok := s.e.catalog.TableHead(s.db.name, "main", plan.table)
	if !ok {
		return false, false
	}
	if c.rows != nil && c.version == h.Version && c.tableID == h.ID && slices.Equal(c.key, plan.pkCols) {
		c.checkedGen = gen
		return true, false
	}
	s.e.dropPKRows(c)
	if c.building || h.Rows*int64(len(h.Columns)) > pkCacheMaxCells {
		return false, false
	}
	if c.missTable != h.ID || c.missVersion != h.Version {
		c.missTable, c.missVersion, c.misses = h.ID, h.Version, 0
	}
	c.misses++
	return false, c.misses > pkCacheWarmup(h.Rows)
}

// dropPKRows releases c's rows (c.mu held).
func (e *Engine) dropPKRows(c *pkCache) {
	if c.rows == nil {
		return
	}
	e.pk.mu.Lock()
	e.pk.cells -= c.size
	e.pk.mu.Unlock()
	c.rows, c.size, c.version = nil, 0, -1
}

// buildPKCache reads the table's current rows into c (c.building set, c.mu
// not held). The version is read before the session's views are brought
// up to date, so the rows are at least that version's; they are kept as
// that version's, and a lookup uses them only while it is the table's
// current one — when they can be no other.
func (s *Session) buildPKCache(ctx context.Context, c *pkCache, name string, key []string) error {
	h, ok := s.e.catalog.TableHead(s.db.name, "main", name)
	want := h.Rows * int64(len(h.Columns))
	if !ok || want > pkCacheMaxCells || !s.e.reservePKCells(want) {
		return nil
	}
	rows, cols, keyIdx, err := s.readKeyedRows(ctx, name, key)
	got := int64(rows.len()) * int64(len(cols))
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
	c.rows, c.size, c.cols, c.keyIdx, c.key = rows, got, cols, keyIdx, key
	c.version, c.tableID, c.checkedGen = h.Version, h.ID, 0
	c.builds++
	c.used = time.Now()
	return nil
}

// readKeyedRows reads a table's rows through the session's view, by key.
func (s *Session) readKeyedRows(ctx context.Context, name string, key []string) (*onlineRows, []string, []int, error) {
	out := newOnlineRows()
	if err := s.syncViews(ctx); err != nil {
		return out, nil, nil, err
	}
	rows, err := s.conn.QueryContext(ctx, "SELECT * FROM "+quoteIdent(name), nil)
	if err != nil {
		return out, nil, nil, pgerr.From(err)
	}
	defer rows.Close()
	cols := rows.Columns()
	var keyIdx []int
	for _, k := range key {
		if i := slices.Index(cols, k); i >= 0 {
			keyIdx = append(keyIdx, i)
		}
	}
	if len(keyIdx) != len(key) {
		return out, nil, nil, fmt.Errorf("point lookup: key columns %v not among %v", key, cols)
	}
	var kb []byte
	for {
		vals := make([]driver.Value, len(cols))
		if err := rows.Next(vals); err != nil {
			break
		}
		kb = appendOnlineKey(kb[:0], pick(vals, keyIdx))
		out.put(kb, vals)
	}
	return out, cols, keyIdx, nil
}

// reservePKCells counts n values against the budget, first releasing the
// rows of tables not used for pkCacheIdle when they do not fit; false when
// they still do not.
func (e *Engine) reservePKCells(n int64) bool {
	e.pk.mu.Lock()
	if e.pk.cells+n <= pkCacheBudgetCells {
		e.pk.cells += n
		e.pk.mu.Unlock()
		return true
	}
	idle := make([]*pkCache, 0, len(e.pk.tables))
	for _, c := range e.pk.tables {
		idle = append(idle, c)
	}
	e.pk.mu.Unlock()
	for _, c := range idle {
		// A cache in use now is not idle; TryLock keeps this from waiting
		// on (or deadlocking with) a lookup.
		if c.mu.TryLock() {
			if c.rows != nil && time.Since(c.used) > pkCacheIdle {
				e.dropPKRows(c)
			}
			c.mu.Unlock()
		}
	}
	e.pk.mu.Lock()
	defer e.pk.mu.Unlock()
	if e.pk.cells+n > pkCacheBudgetCells {
		return false
	}
	e.pk.cells += n
	return true
}
