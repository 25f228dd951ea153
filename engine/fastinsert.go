package engine

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"sync"
	"time"

	pg_query "github.com/pganalyze/pg_query_go/v6"

	"github.com/hopsql/hopsql/catalog"
	"github.com/hopsql/hopsql/engine/pgerr"
	"github.com/hopsql/hopsql/storage"
)

// The single-row INSERT path (storage/DESIGN.md, "Single-row INSERT").
// An autocommit `INSERT INTO t [(cols)] VALUES ($1, 'x', …)` into a table
// of plain columns is the commonest write of an application, and through
// the carrier it costs five DuckDB statements (BEGIN, the INSERT, the key
// hashes, the row's text, ROLLBACK) before its one Raft entry. Here the
// row's text form is made in Go from the bound values, whose types the
// wire layer already decoded for the column types, the keys are checked
// against the node's key index, and the row commits as an inline file:
// the Raft entry is the statement's only cost that grows with durability.
//
// Whatever this path cannot decide exactly goes the carrier's way, with
// the same portal: a value that needs a cast DuckDB would make (a string
// into an integer column, a numeric literal into an integer column), a
// NULL into a NOT NULL column, an omitted column with a default, a table
// with CHECK or FOREIGN KEY constraints, a key whose hash the index
// already holds (an exact check needs DuckDB), a feature group.
//
// The row is not committed at Execute: until Sync it belongs to the
// implicit transaction, as in PostgreSQL, where a later failure in the
// same pipeline undoes it. Any further statement in that transaction
// first replays the deferred INSERT through the carrier, so it reads the
// row and the transaction goes on the usual way.

// fastInsertPlan is what preparing found in an eligible INSERT.
type fastInsertPlan struct {
	table string
	cols  []string   // target columns as written; nil: the table's order
	items []fastItem // one per VALUES item
}

// fastItem is a VALUES item: parameter $param, or a constant.
type fastItem struct {
	param int // 1-based; 0 for a constant
	val   any // int64, float literal (fastFloat), string, bool or nil
}

// fastFloat is a numeric literal's text (PostgreSQL types it numeric).
type fastFloat string

// planFastInsert returns the plan of an INSERT the single-row path can
// take, or nil. table is the written storage table.
func planFastInsert(ins *pg_query.InsertStmt, table string) *fastInsertPlan {
	if ins.OnConflictClause != nil || len(ins.ReturningList) > 0 || ins.WithClause != nil ||
		ins.Override != pg_query.OverridingKind_OVERRIDING_NOT_SET || ins.SelectStmt == nil {
		return nil
	}
	sel := ins.SelectStmt.GetSelectStmt()
	if sel == nil || len(sel.ValuesLists) != 1 || sel.WithClause != nil || len(sel.SortClause) > 0 ||
		sel.LimitCount != nil || sel.LimitOffset != nil {
		return nil
	}
	plan := &fastInsertPlan{table: table}
	for _, c := range ins.Cols {
		rt := c.GetResTarget()
		if rt == nil || len(rt.Indirection) > 0 {
			return nil
		}
		plan.cols = append(plan.cols, rt.Name)
	}
	for _, it := range sel.ValuesLists[0].GetList().GetItems() {
		if pr := it.GetParamRef(); pr != nil {
			plan.items = append(plan.items, fastItem{param: int(pr.Number)})
			continue
		}
		ac := it.GetAConst()
		if ac == nil {
			return nil
		}
		var v any
		switch {
		case ac.Isnull:
		case ac.GetIval() != nil:
			v = int64(ac.GetIval().Ival)
		case ac.GetFval() != nil:
			v = fastFloat(ac.GetFval().Fval)
		case ac.GetSval() != nil:
			v = ac.GetSval().Sval
		case ac.GetBoolval() != nil:
			v = ac.GetBoolval().Boolval
		default:
			return nil
		}
		plan.items = append(plan.items, fastItem{val: v})
	}
	if len(plan.items) == 0 || (plan.cols != nil && len(plan.cols) != len(plan.items)) {
		return nil
	}
	return plan
}

// constants reports whether every VALUES item is a constant.
func (p *fastInsertPlan) constants() bool {
	for _, it := range p.items {
		if it.param > 0 {
			return false
		}
	}
	return true
}

// fastTable is what the path needs to know of a table beyond the catalog:
// per column (in table order) whether it is NOT NULL and has a default.
type fastTable struct {
	ok      bool // no CHECK or FOREIGN KEY constraint, every type handled
	checked bool // CHECK or FOREIGN KEY constraints
	notNull []bool
	deflt   []bool
	limit   []int // declared length (varchar(n), char(n)); 0 for none
}

// fastTableOf reads a table's constraints and defaults once per definition.
func (s *Session) fastTableOf(ctx context.Context, name string, t catalog.TableHead) (*fastTable, error) {
	// The cache is keyed by the committed definition: a transaction whose
	// snapshot is older reads (and must not store) its own view.
	shared := s.snapshotCurrent()
	cacheKey := s.definitionKey(t)
	s.e.keysMu.Lock()
	ft, hit := s.e.fastTables[cacheKey]
	s.e.keysMu.Unlock()
	if hit && shared {
		return ft, nil
	}
	ft = &fastTable{ok: true}
	args := []driver.NamedValue{{Ordinal: 1, Value: s.db.name}, {Ordinal: 2, Value: name}}
	rows, err := s.conn.QueryContext(ctx, "SELECT column_name, column_default IS NOT NULL, NOT is_nullable FROM duckdb_columns() "+
		"WHERE database_name = $1 AND schema_name = 'main' AND table_name = $2 ORDER BY column_index", args)
	if err != nil {
		return nil, fmt.Errorf("read columns of %q: %w", name, err)
	}
	vals := make([]driver.Value, 3)
	var names []string
	for rows.Next(vals) == nil {
		n, _ := vals[0].(string)
		d, _ := vals[1].(bool)
		nn, _ := vals[2].(bool)
		names = append(names, n)
		ft.deflt = append(ft.deflt, d)
		ft.notNull = append(ft.notNull, nn)
	}
	rows.Close()
	if len(names) != len(t.Columns) {
		ft.ok = false
	}
	for i, c := range t.Columns {
		if !fastType(c.Type) || (i < len(names) && names[i] != c.Name) {
			ft.ok = false
		}
	}
	ft.limit = make([]int, len(t.Columns))
	for _, l := range lengthLimits(t.Columns) {
		ft.limit[l.col] = l.n
	}
	var n int64
	nv := []driver.Value{nil}
	if err := s.queryRow(ctx, "SELECT count(*) FROM duckdb_constraints() WHERE database_name = $1 AND schema_name = 'main' AND table_name = $2 "+
		"AND constraint_type NOT IN ('PRIMARY KEY', 'UNIQUE', 'NOT NULL')", args, nv); err != nil {
		return nil, fmt.Errorf("read constraints of %q: %w", name, err)
	}
	n, _ = nv[0].(int64)
	if n > 0 {
		ft.ok, ft.checked = false, true
	}
	if !shared {
		return ft, nil
	}
	s.e.keysMu.Lock()
	if len(s.e.fastTables) > 4096 {
		clear(s.e.fastTables)
	}
	s.e.fastTables[cacheKey] = ft
	s.e.keysMu.Unlock()
	return ft, nil
}

// fastType reports whether the path makes the text form of a column type.
func fastType(t string) bool {
	switch t {
	case "BIGINT", "INTEGER", "SMALLINT", "DOUBLE", "FLOAT", "BOOLEAN", "VARCHAR":
		return true
	}
	return false
}

// fastText returns the text form DuckDB's CAST(v AS VARCHAR) gives a value
// stored in a column of type t (nil for NULL); ok is false when the value
// needs a cast or a check this path does not make.
func fastText(t string, v any) (text *string, ok bool) {
	if v == nil {
		return nil, true
	}
	var s string
	switch t {
	case "BIGINT", "INTEGER", "SMALLINT":
		i, isInt := toInt64(v)
		if !isInt {
			return nil, false
		}
		if (t == "INTEGER" && (i < math.MinInt32 || i > math.MaxInt32)) || (t == "SMALLINT" && (i < math.MinInt16 || i > math.MaxInt16)) {
			return nil, false // DuckDB reports the overflow
		}
		s = strconv.FormatInt(i, 10)
	case "DOUBLE", "FLOAT":
		var f float64
		switch x := v.(type) {
		case float64:
			f = x
		case float32:
			f = float64(x)
		case fastFloat:
			var err error
			if f, err = strconv.ParseFloat(string(x), 64); err != nil {
				return nil, false
			}
		default:
			i, isInt := toInt64(x)
			if !isInt || i > 1<<53 || i < -(1<<53) {
				return nil, false
			}
			f = float64(i)
		}
		if t == "FLOAT" && float64(float32(f)) != f && !math.IsNaN(f) {
			return nil, false // rounding (or overflow) is DuckDB's to do
		}
		s = formatDuckFloat(f, 64) // read back by a cast: any exact text will do
	case "BOOLEAN":
		b, isBool := v.(bool)
		if !isBool {
			return nil, false
		}
		s = strconv.FormatBool(b)
	case "VARCHAR":
		str, isStr := v.(string)
		if !isStr || strings.IndexByte(str, 0) >= 0 {
			return nil, false
		}
		s = str
	default:
		return nil, false
	}
	return &s, true
}

// toInt64 reads the integer types the wire layer decodes parameters to.
func toInt64(v any) (int64, bool) {
	switch x := v.(type) {
	case int64:
		return x, true
	case int32:
		return int64(x), true
	case int16:
		return int64(x), true
	}
	return 0, false
}

// deferredInsert is an INSERT whose row waits for Sync.
type deferredInsert struct {
	portal *Portal
	table  string
	// def is the table definition the row was made for: a definition
	// committed since (ALTER TABLE) sends the row the carrier's way.
	def  string
	file catalog.NewFile
	row  []*string // the row's text form, in the table's column order
	// hashes: per unique key (keyindex.go) the row's key hash; a key with a
	// NULL has none (it conflicts with nothing).
	keys []fastKey
}

type fastKey struct {
	cols []catalog.Column
	hash uint64
}

// errFastFallback: the row must go the carrier's way.
var errFastFallback = errors.New("single-row insert path does not apply")

// deferInsert tries the single-row path for a portal; false means the
// statement must run the usual way.
func (s *Session) deferInsert(ctx context.Context, p *Portal) (bool, error) {
	plan := p.stmt.fastIns
	limit := s.e.cfg.SmallCommitRows
	if limit <= 0 || s.stx != nil || s.featureOf(plan.table) != nil {
		return false, nil
	}
	t, found := s.e.catalog.TableHead(s.db.name, "main", plan.table)
	if !found || t.Feature != nil {
		return false, nil
	}
	row, fks, ok, err := s.checkedRow(ctx, plan, t, p.args)
	if err != nil || !ok {
		return false, err
	}
	d := &deferredInsert{portal: p, table: plan.table, def: t.SQL, row: row}
	for _, fk := range fks {
		// Checked now as well as at commit, so a duplicate of a committed
		// key fails this Execute (through DuckDB's exact check), as in
		// PostgreSQL.
		x := s.e.keyIndexFor(s.db.name, plan.table, fk.cols)
		free, _, _, err := s.fastKeyClear(ctx, x, plan.table, fk)
		if err != nil || !free {
			return false, err
		}
		d.keys = append(d.keys, fk)
	}
	buf := storage.EncodeJSONRow(nil, t.Columns, row)
	if len(buf) > catalog.InlineMax {
		return false, nil
	}
	d.file = catalog.NewFile{Name: fmt.Sprintf("%019d-%s%s", time.Now().UnixNano(), catalog.NewRequestID()[:12], storage.JSONExt), Rows: 1, Inline: buf}
	s.fast = d
	return true, nil
}

// checkedRow is the row an INSERT's plan makes (fastRow) and the hashes of
// its keys (rowKeys); false when the row needs DuckDB.
func (s *Session) checkedRow(ctx context.Context, plan *fastInsertPlan, t catalog.TableHead, args []driver.NamedValue) ([]*string, []fastKey, bool, error) {
	ft, err := s.fastTableOf(ctx, plan.table, t)
	if err != nil || !ft.ok {
		return nil, nil, false, err
	}
	row, ok := fastRow(t, ft, plan, args)
	if !ok {
		return nil, nil, false, nil
	}
	fks, ok, err := s.rowKeys(ctx, plan.table, t, row)
	return row, fks, ok, err
}

// fastRow makes the text form of the row plan inserts (in the table's
// column order, nil for NULL); false when the row needs what only DuckDB
// does: a cast, a default, a NULL into a NOT NULL column, a value longer
// than its column's declared length.
func fastRow(t catalog.TableHead, ft *fastTable, plan *fastInsertPlan, args []driver.NamedValue) ([]*string, bool) {
	row := make([]*string, len(t.Columns))
	given := make([]bool, len(t.Columns))
	for i, it := range plan.items {
		col := i
		if plan.cols != nil {
			col = -1
			for j, c := range t.Columns {
				if c.Name == plan.cols[i] {
					col = j
				}
			}
		}
		if col < 0 || col >= len(t.Columns) || given[col] {
			return nil, false // DuckDB names the problem
		}
		v := it.val
		if it.param > 0 {
			if it.param > len(args) {
				return nil, false
			}
			v = args[it.param-1].Value
		}
		text, ok := fastText(t.Columns[col].Type, v)
		if !ok || text != nil && ft.limit[col] > 0 && exceeds(*text, ft.limit[col]) {
			return nil, false // the carrier's way reports it
		}
		row[col], given[col] = text, true
	}
	for i := range t.Columns {
		if (!given[i] && ft.deflt[i]) || (row[i] == nil && ft.notNull[i]) {
			return nil, false
		}
	}
	return row, true
}

// rowKeys hashes a row's value of each of the table's unique keys (a key
// with a NULL conflicts with nothing and is left out); false when a key
// cannot be compared by its text (a float column: -0.0 = 0.0).
func (s *Session) rowKeys(ctx context.Context, table string, t catalog.TableHead, row []*string) ([]fastKey, bool, error) {
	keys, err := s.uniqueKeys(ctx, table)
	if err != nil {
		return nil, false, err
	}
	var out []fastKey
	for _, k := range keys {
		cols, idx, ok := keyColumns(t, k)
		if !ok {
			return nil, false, nil
		}
		fk := fastKey{cols: cols}
		texts := make([]*string, len(idx))
		for i, j := range idx {
			texts[i] = row[j]
		}
		h, hasKey := s.e.keyIndexFor(s.db.name, table, fk.cols).hashKey(texts)
		if !hasKey {
			continue
		}
		fk.hash = h
		out = append(out, fk)
	}
	return out, true, nil
}

// keyColumns are a unique key's columns and their positions in the table;
// false when a column is missing or has no exact text form (a float:
// -0.0 = 0.0 with different texts).
func keyColumns(t catalog.TableHead, k uniqueKey) ([]catalog.Column, []int, bool) {
	var cols []catalog.Column
	var idx []int
	for _, kc := range k.cols {
		for j, c := range t.Columns {
			if strings.EqualFold(c.Name, kc) {
				if c.Type == "FLOAT" || c.Type == "DOUBLE" {
					return nil, nil, false
				}
				cols, idx = append(cols, c), append(idx, j)
			}
		}
	}
	return cols, idx, len(cols) == len(k.cols)
}

// fastKeyClear brings a key's index to the table's current version and
// reports whether no current file may hold the key, and the version the
// index is at.
func (s *Session) fastKeyClear(ctx context.Context, x *keyIndex, table string, k fastKey) (free bool, version int64, tableID uint64, err error) {
	x.mu.Lock()
	defer x.mu.Unlock()
	indexed, err := s.syncKeyIndex(ctx, x, table, k.cols)
	if err != nil || !indexed {
		return false, 0, 0, err
	}
	_, held := x.owner[k.hash]
	return !held, x.version, x.tableID, nil
}

// flushFast runs a deferred INSERT through the carrier, as if the
// single-row path had not been taken: a statement follows it in the same
// transaction.
func (s *Session) flushFast(ctx context.Context) error {
	d := s.fast
	if d == nil {
		return nil
	}
	s.fast = nil
	s.e.counters.insertsReplayed.Add(1)
	// Statements of the pipeline prepared meanwhile were planned over an
	// empty carrier (DuckDB prunes by its statistics): prepared again.
	s.viewEpoch++
	p := d.portal
	p.done, p.tag, p.storageStarted, p.storageFinished, p.noFast = false, "", false, false, true
	_, err := s.Execute(ctx, p, 0, func([]driver.Value) error { return nil })
	return err
}

// commitFast commits a deferred INSERT at Sync. errFastFallback means its
// key could not be decided without DuckDB; the caller replays it.
func (s *Session) commitFast(ctx context.Context, d *deferredInsert) error {
	ctx = context.WithoutCancel(ctx)
	c := catalog.Commit{Project: s.db.name, User: s.user,
		Data: []catalog.TableData{{Schema: "main", Name: d.table, Op: "INSERT", Expect: -1, Add: []catalog.NewFile{d.file}}}}
	for attempt := 0; ; attempt++ {
		var pend *catalog.Pending
		var err error
		if len(d.keys) == 0 {
			// A pure append: nothing to check, nothing it can conflict with.
			if h, ok := s.e.catalog.TableHead(s.db.name, "main", d.table); !ok || h.SQL != d.def {
				return errFastFallback
			}
			pend, err = s.e.catalog.Submit(catalog.NewRequestID(), catalog.CmdCommit, c)
			if err == nil {
				_, err = pend.Wait(ctx)
			}
		} else {
			pipe, added, pend, perr := s.submitKeyed(ctx, d, &c)
			if perr != nil {
				return perr
			}
			if pipe == nil {
				continue // the table moved during the check
			}
			_, err = pend.Wait(ctx)
			pipe.done(added)
		}
		if err == nil {
			s.e.counters.insertsDirect.Add(1)
			if t, ok := s.e.catalog.TableHead(s.db.name, "main", d.table); ok && storage.CompactionDue(t) {
				select {
				case s.e.compactNow <- s.db.name + "\x00" + d.table:
				default:
				}
			}
			return nil
		}
		switch {
		case errors.Is(err, catalog.ErrConflict) && attempt < 20:
			continue // a commit landed between the check and the proposal
		case errors.Is(err, catalog.ErrConflict):
			return pgerr.New(pgerr.SerializationFailure, "%s", err.Error())
		case errors.Is(err, catalog.ErrQuota):
			return pgerr.New(pgerr.DiskFull, "%s", err.Error())
		case catalog.CodeOf(err) == catalog.CodeNotFound:
			return errFastFallback
		}
		return fmt.Errorf("commit: %w", err)
	}
}

// submitKeyed checks a deferred row's keys and submits its commit, under
// the table's commit lock but without waiting for the commit: the rows of
// concurrent sessions then share the Raft log's batches (one fsync for
// many commits). Each proposal expects the version the one before it
// makes; the keys are checked against the committed files (the key
// index) and the proposals still in flight (the table's appendPipe).
// pipe is nil when the table's version moved during the check (retry).
func (s *Session) submitKeyed(ctx context.Context, d *deferredInsert, c *catalog.Commit) (pipe *appendPipe, added []pipeKey, pend *catalog.Pending, err error) {
	unlock := s.e.lockTables(s.db.name, []string{d.table})
	defer unlock()
	p := s.e.pipeFor(s.db.name, d.table)
	// The proposals in flight first, then the index: one that commits in
	// between is in the index when it has left the pipe.
	p.mu.Lock()
	for _, k := range d.keys {
		pk := pipeKey{key: k.id(), hash: k.hash}
		if p.hashes[pk] > 0 {
			p.mu.Unlock()
			return nil, nil, nil, errFastFallback // perhaps a duplicate: DuckDB decides
		}
		added = append(added, pk)
	}
	inflight, last := p.n, p.last
	p.mu.Unlock()
	h, ok := s.e.catalog.TableHead(s.db.name, "main", d.table)
	if !ok || h.SQL != d.def {
		return nil, nil, nil, errFastFallback // dropped or altered meanwhile: DuckDB decides
	}
	for _, k := range d.keys {
		x := s.e.keyIndexFor(s.db.name, d.table, k.cols)
		free, v, id, err := s.fastKeyClear(ctx, x, d.table, k)
		if err != nil {
			return nil, nil, nil, err
		}
		if !free || id != h.ID {
			return nil, nil, nil, errFastFallback
		}
		if v != h.Version {
			return nil, nil, nil, nil
		}
	}
	expect := h.Version
	if inflight > 0 && last > expect {
		expect = last
	}
	c.Data[0].Expect = expect
	// Counted in flight before it is submitted: its keys must be seen
	// by the next check even if it commits at once.
	p.start(expect+1, added)
	pend, err = s.e.catalog.Submit(catalog.NewRequestID(), catalog.CmdCommit, *c)
	if err != nil {
		p.done(added)
		return nil, nil, nil, err
	}
	return p, added, pend, nil
}

// appendPipe is a keyed table's single-row commits that were submitted and
// not answered yet.
type appendPipe struct {
	mu     sync.Mutex
	n      int
	last   int64 // the version the last submitted proposal makes
	hashes map[pipeKey]int
	idle   chan struct{} // closed when n drops to 0
}

type pipeKey struct {
	key  string
	hash uint64
}

func (k fastKey) id() string {
	var b strings.Builder
	for _, c := range k.cols {
		b.WriteString(c.Name + "\x00")
	}
	return b.String()
}

// pipeFor returns a table's pipe.
func (e *Engine) pipeFor(project, table string) *appendPipe {
	k := project + "\x00" + table
	e.commitMu.Lock()
	defer e.commitMu.Unlock()
	p := e.pipes[k]
	if p == nil {
		p = &appendPipe{hashes: map[pipeKey]int{}}
		e.pipes[k] = p
	}
	return p
}

func (p *appendPipe) start(version int64, keys []pipeKey) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.n == 0 {
		p.idle = make(chan struct{})
	}
	p.n++
	p.last = version
	for _, k := range keys {
		p.hashes[k]++
	}
}

// done ends a proposal's time in flight.
func (p *appendPipe) done(keys []pipeKey) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, k := range keys {
		if p.hashes[k]--; p.hashes[k] <= 0 {
			delete(p.hashes, k)
		}
	}
	if p.n--; p.n == 0 {
		close(p.idle)
		p.idle = nil
	}
}

// drain waits until no proposal is in flight. The caller holds the
// table's commit lock, so no new one starts.
func (p *appendPipe) drain() {
	p.mu.Lock()
	idle := p.idle
	p.mu.Unlock()
	if idle != nil {
		<-idle
	}
}
