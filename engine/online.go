package engine

import (
	"context"
	"database/sql/driver"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	pg_query "github.com/pganalyze/pg_query_go/v6"

	"github.com/hopsql/hopsql/catalog"
	"github.com/hopsql/hopsql/engine/pgerr"
)

// The online store (docs/sql.md): for each ONLINE feature group g,
// `online.g` is the latest row per primary key. In SQL it is a session view
// (`SELECT * FROM g QUALIFY row_number() OVER (PARTITION BY key ORDER BY
// event_time DESC) = 1`), so any query works; a lookup by the whole key
// (`WHERE k = $1`, `k IN (…)`, an AND of equalities for composite keys) in
// autocommit is answered from memory instead: each node keeps the latest
// rows of online feature groups by key, built from that same view on first
// use (so after a restart too), updated at every commit that only adds or
// replaces rows, and rebuilt after one that updates or deletes.

// onlineView is the session view's name for online.<g>.
func onlineView(name string) string { return "online." + name }

// onlineStore is one feature group's latest rows by key.
type onlineStore struct {
	mu      sync.Mutex
	tableID uint64 // a table dropped and created again is another table
	version int64  // the table version the rows are current for; -1: rebuild
	cols    []string
	keyIdx  []int
	rows    *onlineRows
	// checkedGen is the catalog generation at which version was last found
	// to be the table's current one.
	checkedGen uint64
	// Counters for hopsql.online_store: keys answered from memory, and
	// times the rows were read from the table.
	lookups, builds int64
}

func (e *Engine) onlineStoreFor(project, name string) *onlineStore {
	k := project + "\x00" + name
	e.onlineMu.Lock()
	defer e.onlineMu.Unlock()
	st := e.online[k]
	if st == nil {
		st = &onlineStore{version: -1}
		e.online[k] = st
	}
	return st
}

// onlineKey encodes key values so that the same key compares equal
// whichever Go type a client's parameter or DuckDB's row carries.
func onlineKey(vals []driver.Value) string {
	return string(appendOnlineKey(nil, vals))
}

// appendOnlineKey appends onlineKey's encoding of vals to buf: a lookup
// indexes the store with string(buf), which allocates nothing.
func appendOnlineKey(buf []byte, vals []driver.Value) []byte {
	for i, v := range vals {
		if i > 0 {
			buf = append(buf, 0)
		}
		switch x := v.(type) {
		case nil:
			buf = append(buf, "\x01null"...)
		case int64:
			buf = strconv.AppendInt(buf, x, 10)
		case int32:
			buf = strconv.AppendInt(buf, int64(x), 10)
		case int16:
			buf = strconv.AppendInt(buf, int64(x), 10)
		case int8:
			buf = strconv.AppendInt(buf, int64(x), 10)
		case int:
			buf = strconv.AppendInt(buf, int64(x), 10)
		case uint64:
			buf = strconv.AppendUint(buf, x, 10)
		case uint32:
			buf = strconv.AppendUint(buf, uint64(x), 10)
		case float64:
			buf = strconv.AppendFloat(buf, x, 'g', -1, 64)
		case float32:
			buf = strconv.AppendFloat(buf, float64(x), 'g', -1, 32)
		case string:
			buf = append(buf, x...)
		case []byte:
			buf = append(buf, x...)
		case time.Time:
			buf = x.UTC().AppendFormat(buf, time.RFC3339Nano)
		default:
			buf = fmt.Append(buf, x)
		}
	}
	return buf
}

// ensureOnline brings the store to the table's current version, reading
// the session's online view when it is behind.
func (s *Session) ensureOnline(ctx context.Context, st *onlineStore, name string, def *catalog.FeatureGroup) error {
	gen := s.e.catalog.Generation()
	if st.rows != nil && st.version >= 0 && st.checkedGen == gen {
		return nil // nothing applied since the store was found current
	}
	h, ok := s.e.catalog.TableHead(s.db.name, "main", name)
	if !ok {
		return pgerr.New(pgerr.UndefinedTable, "relation \"online.%s\" does not exist", name)
	}
	if st.version == h.Version && st.tableID == h.ID && st.rows != nil {
		st.checkedGen = gen
		return nil
	}
	// The session's views must show the current version.
	if err := s.syncViews(ctx); err != nil {
		return err
	}
	rows, err := s.conn.QueryContext(ctx, "SELECT * FROM "+quoteIdent(onlineView(name)), nil)
	if err != nil {
		return pgerr.From(err)
	}
	defer rows.Close()
	st.cols = rows.Columns()
	st.keyIdx = st.keyIdx[:0]
	for _, k := range def.Keys {
		for i, c := range st.cols {
			if c == k {
				st.keyIdx = append(st.keyIdx, i)
			}
		}
	}
	st.rows = newOnlineRows(len(st.cols))
	var kb []byte
	vals := make([]driver.Value, len(st.cols)) // put copies the values
	for rows.Next(vals) == nil {
		kb = appendOnlineKey(kb[:0], pick(vals, st.keyIdx))
		st.rows.put(kb, vals)
	}
	st.version, st.tableID = h.Version, h.ID
	st.builds++
	return nil
}

func pick(vals []driver.Value, idx []int) []driver.Value {
	out := make([]driver.Value, len(idx))
	for i, j := range idx {
		out[i] = vals[j]
	}
	return out
}

// onlinePlan is a lookup of online.<table> (or online.<feature view>,
// when fv is set) by its whole key.
type onlinePlan struct {
	fv    *onlineFV
	table string
	// trans: per selected column, the fitted transform applied to it (nil: none).
	trans []*servedTransform
	cols  []string     // the selected columns; nil: all
	keys  [][]keyValue // one tuple of key values per looked-up key
	// pkCols, for a point lookup of a plain table (pointlookup.go), are
	// the columns the lookup fixes, in table order.
	pkCols []string
}

// keyValue is a constant or a parameter ($n).
type keyValue struct {
	param int // 1-based; 0 for a constant
	val   driver.Value
}

// planOnline recognises `SELECT cols FROM online.g WHERE <whole key>` on an
// ONLINE feature group. rv is already renamed to the session view.
func (s *Session) planOnline(sel *pg_query.SelectStmt, name string, def *catalog.FeatureGroup) *onlinePlan {
	h, ok := s.e.catalog.TableHead(s.db.name, "main", name)
	if !ok {
		return nil
	}
	types := map[string]string{}
	for _, c := range h.Columns {
		types[c.Name] = c.Type
	}
	return s.planLookup(sel, name, def.Keys, types)
}

// planLookup recognises `SELECT cols FROM online.x WHERE <whole key>`;
// types gives the key columns' types.
func (s *Session) planLookup(sel *pg_query.SelectStmt, name string, keys []string, types map[string]string) *onlinePlan {
	if sel == nil || len(sel.FromClause) != 1 || sel.GroupClause != nil || sel.HavingClause != nil || sel.SortClause != nil ||
		sel.LimitCount != nil || sel.LimitOffset != nil || sel.DistinctClause != nil || sel.WindowClause != nil || sel.WithClause != nil ||
		sel.WhereClause == nil || sel.IntoClause != nil || len(sel.LockingClause) > 0 {
		return nil
	}
	p := &onlinePlan{table: name}
	for _, t := range sel.TargetList {
		rt := t.GetResTarget()
		if rt == nil {
			return nil
		}
		val := rt.Val
		// A fitted transform of a column (transform.go) is applied here too.
		var tr *servedTransform
		if fc := val.GetFuncCall(); fc != nil {
			if tr, val = servedTransformOf(fc); tr == nil {
				return nil
			}
		}
		cr := val.GetColumnRef()
		if cr == nil {
			return nil
		}
		f := cr.Fields[len(cr.Fields)-1]
		if f.GetAStar() != nil {
			if len(sel.TargetList) != 1 || len(cr.Fields) != 1 {
				return nil
			}
			break
		}
		p.cols = append(p.cols, f.GetString_().GetSval())
		p.trans = append(p.trans, tr)
	}
	// WHERE: k = v, k IN (…), or for a composite key an AND of k_i = v_i.
	eqs := map[string]keyValue{}
	var in []keyValue
	var conds []*pg_query.Node
	if be := sel.WhereClause.GetBoolExpr(); be != nil {
		if be.Boolop != pg_query.BoolExprType_AND_EXPR {
			return nil
		}
		conds = be.Args
	} else {
		conds = []*pg_query.Node{sel.WhereClause}
	}
	for _, c := range conds {
		ae := c.GetAExpr()
		if ae == nil || len(ae.Name) != 1 || ae.Name[0].GetString_().GetSval() != "=" {
			return nil
		}
		cr := ae.Lexpr.GetColumnRef()
		if cr == nil {
			return nil
		}
		col := cr.Fields[len(cr.Fields)-1].GetString_().GetSval()
		if _, twice := eqs[col]; twice {
			return nil // k = 1 AND k = 2: DuckDB answers
		}
		switch ae.Kind {
		case pg_query.A_Expr_Kind_AEXPR_OP:
			v, ok := keyValueOf(ae.Rexpr)
			if !ok {
				return nil
			}
			eqs[col] = v
		case pg_query.A_Expr_Kind_AEXPR_IN:
			if len(keys) != 1 || len(conds) != 1 {
				return nil
			}
			for _, item := range ae.Rexpr.GetList().GetItems() {
				v, ok := keyValueOf(item)
				if !ok {
					return nil
				}
				in = append(in, v)
			}
			eqs[col] = keyValue{}
		default:
			return nil
		}
	}
	if len(eqs) != len(keys) {
		return nil
	}
	// Keys are matched by value text: only integer and text keys, whose
	// text a client's parameter and DuckDB's value share.
	for _, k := range keys {
		switch types[k] {
		case "TINYINT", "SMALLINT", "INTEGER", "BIGINT", "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT", "VARCHAR":
		default:
			return nil
		}
	}
	for _, k := range keys {
		if _, ok := eqs[k]; !ok {
			return nil
		}
	}
	if in != nil {
		for _, v := range in {
			v, ok := keyConstant(v, types[keys[0]])
			if !ok {
				return nil
			}
			p.keys = append(p.keys, []keyValue{v})
		}
		return p
	}
	tuple := make([]keyValue, len(keys))
	for i, k := range keys {
		v, ok := keyConstant(eqs[k], types[k])
		if !ok {
			return nil
		}
		tuple[i] = v
	}
	p.keys = [][]keyValue{tuple}
	return p
}

// keyConstant gives a constant key value the form the column's values
// take, so that it matches as PostgreSQL compares: '42' or ' 42 ' is the
// integer 42; a constant that would need rounding or a cast DuckDB might
// do differently (5.0, text against an integer, a number against text)
// leaves the lookup to DuckDB.
func keyConstant(v keyValue, typ string) (keyValue, bool) {
	if v.param > 0 {
		return v, true
	}
	if typ == "VARCHAR" {
		_, ok := v.val.(string)
		return v, ok
	}
	switch x := v.val.(type) {
	case int64:
		return v, true
	case string:
		n, err := strconv.ParseInt(strings.TrimSpace(x), 10, 64)
		return keyValue{val: n}, err == nil
	}
	return v, false
}

// numericConst is a numeric constant's text (5.0, 1e3, 2^70): never a key
// of the integer or text columns a lookup may be by (keyConstant).
type numericConst string

func keyValueOf(n *pg_query.Node) (keyValue, bool) {
	if tc := n.GetTypeCast(); tc != nil {
		n = tc.Arg // $1::bigint and '42'::text: the value is what counts
	}
	if pr := n.GetParamRef(); pr != nil {
		return keyValue{param: int(pr.Number)}, true
	}
	if c := n.GetAConst(); c != nil && !c.Isnull {
		switch {
		case c.GetIval() != nil:
			return keyValue{val: int64(c.GetIval().Ival)}, true
		case c.GetSval() != nil:
			return keyValue{val: c.GetSval().Sval}, true
		case c.GetFval() != nil:
			return keyValue{val: numericConst(c.GetFval().Fval)}, true
		}
	}
	return keyValue{}, false
}

// execOnline answers an online lookup from memory.
func (s *Session) execOnline(ctx context.Context, p *Portal, sink RowSink) (Result, bool, error) {
	plan := p.stmt.online
	if s.tx != txIdle {
		return Result{}, false, nil
	}
	var rows [][]driver.Value
	var handled bool
	var err error
	if plan.fv != nil {
		rows, handled, err = s.onlineFVLookup(ctx, p, plan)
	} else {
		def := s.featureOf(plan.table)
		if def == nil || !def.Online {
			return Result{}, false, nil
		}
		rows, handled, err = s.onlineLookup(ctx, p, plan, def)
	}
	if !handled || err != nil {
		return Result{}, handled, err
	}
	return sendLookup(rows, sink)
}

// sendLookup sends the rows a lookup found in memory, after the store's
// lock is released: a slow client must not hold up commits, which update
// the store.
func sendLookup(rows [][]driver.Value, sink RowSink) (Result, bool, error) {
	for _, r := range rows {
		if err := sink(r); err != nil {
			return Result{}, true, err
		}
	}
	return Result{Tag: fmt.Sprintf("SELECT %d", len(rows))}, true, nil
}

// onlineLookup finds the rows of a lookup in the store.
func (s *Session) onlineLookup(ctx context.Context, p *Portal, plan *onlinePlan, def *catalog.FeatureGroup) ([][]driver.Value, bool, error) {
	st := s.e.onlineStoreFor(s.db.name, plan.table)
	st.mu.Lock()
	defer st.mu.Unlock()
	if err := s.ensureOnline(ctx, st, plan.table, def); err != nil {
		return nil, true, err
	}
	idx, ok := selectedColumns(plan, st.cols, len(p.stmt.Fields))
	if !ok {
		return nil, false, nil // let DuckDB answer (or report a missing column)
	}
	fitted, ok := s.fittedFor(plan)
	if !ok {
		return nil, false, nil
	}
	_, keys, ok := lookupKeys(plan, p.args)
	if !ok {
		return nil, false, nil
	}
	out := st.rows.pick(keys, idx)
	for _, r := range out {
		if !s.applyServed(plan, fitted, r) {
			return nil, false, nil
		}
	}
	st.lookups += int64(len(out))
	return out, true, nil
}

// selectedColumns maps a lookup's selected columns to positions among
// names (all of them for *); false when one is missing or the count is not
// the statement's.
func selectedColumns(plan *onlinePlan, names []string, fields int) ([]int, bool) {
	var idx []int
	if plan.cols == nil {
		for i := range names {
			idx = append(idx, i)
		}
	}
	for _, c := range plan.cols {
		i := slices.Index(names, c)
		if i < 0 {
			return nil, false
		}
		idx = append(idx, i)
	}
	return idx, len(idx) == fields
}

// lookupKeys binds a lookup's key tuples to the portal's parameters and
// encodes them, each key once (IN lists the same key once), in order.
func lookupKeys(plan *onlinePlan, args []driver.NamedValue) (tuples [][]driver.Value, keys []string, ok bool) {
	seen := make(map[string]bool, len(plan.keys))
	tuples = make([][]driver.Value, 0, len(plan.keys))
	keys = make([]string, 0, len(plan.keys))
	// One backing array for every tuple's values: a 100-key lookup made
	// 100 small slices per query, and the garbage collector's cycles they
	// caused showed in the latency tail under load.
	var width int
	if len(plan.keys) > 0 {
		width = len(plan.keys[0])
	}
	backing := make([]driver.Value, 0, len(plan.keys)*width)
	for _, tuple := range plan.keys {
		if len(backing)+len(tuple) > cap(backing) {
			backing = make([]driver.Value, 0, len(tuple)*len(plan.keys))
		}
		kv := backing[len(backing) : len(backing)+len(tuple) : len(backing)+len(tuple)]
		backing = backing[:len(backing)+len(tuple)]
		for i, v := range tuple {
			if v.param > 0 {
				if v.param > len(args) {
					return nil, nil, false
				}
				kv[i] = args[v.param-1].Value
			} else {
				kv[i] = v.val
			}
		}
		k := onlineKey(kv)
		if !seen[k] {
			seen[k] = true
			tuples, keys = append(tuples, kv), append(keys, k)
		}
	}
	return tuples, keys, true
}

// afterOnlineCommit updates the online stores of the feature groups a
// commit changed; the table's commit lock is still held, so commits reach
// the store in their order.
func (s *Session) afterOnlineCommit(ctx context.Context, name string, op string) {
	def := s.featureOf(name)
	if def == nil || !def.Online {
		return
	}
	st := s.e.onlineStoreFor(s.db.name, name)
	st.mu.Lock()
	defer st.mu.Unlock()
	h, ok := s.e.catalog.TableHead(s.db.name, "main", name)
	if !ok || st.rows == nil || (op != "INSERT" && op != "COPY") || h.Version != st.version+1 || h.ID != st.tableID {
		st.version = -1 // rebuilt on the next lookup
		return
	}
	// The carrier still holds this commit's rows: the latest per key among
	// them replaces what the store has unless that is later.
	q := "SELECT * FROM " + s.carrierName(name)
	if def.EventTime != "" {
		keys := make([]string, len(def.Keys))
		for i, k := range def.Keys {
			keys[i] = quoteIdent(k)
		}
		q += " QUALIFY row_number() OVER (PARTITION BY " + strings.Join(keys, ", ") + " ORDER BY " + quoteIdent(def.EventTime) + " DESC) = 1"
	}
	rows, err := s.conn.QueryContext(ctx, q, nil)
	if err != nil {
		st.version = -1
		return
	}
	defer rows.Close()
	if cols := rows.Columns(); strings.Join(cols, "\x00") != strings.Join(st.cols, "\x00") {
		st.version = -1
		return
	}
	et := -1
	for i, c := range st.cols {
		if c == def.EventTime {
			et = i
		}
	}
	var kb []byte
	vals := make([]driver.Value, len(st.cols)) // put copies the values
	for rows.Next(vals) == nil {
		kb = appendOnlineKey(kb[:0], pick(vals, st.keyIdx))
		if old, ok := st.rows.get(kb); ok && et >= 0 && later(st.rows.value(old, et), vals[et]) {
			continue
		}
		st.rows.put(kb, vals)
	}
	st.version = h.Version
}

// later reports whether event time a is after b.
func later(a, b driver.Value) bool {
	switch x := a.(type) {
	case time.Time:
		y, ok := b.(time.Time)
		return ok && x.After(y)
	case int64:
		y, ok := b.(int64)
		return ok && x > y
	case int32:
		y, ok := b.(int32)
		return ok && x > y
	case int16:
		y, ok := b.(int16)
		return ok && x > y
	}
	return false
}

// syncOnlineViews keeps a session view online.<g> for every ONLINE feature
// group; the body names the table, so it follows the table's own view.
func (s *Session) syncOnlineViews(ctx context.Context, heads []catalog.TableHead) error {
	want := map[string]string{}
	for _, h := range heads {
		if h.Schema != "main" || h.Feature == nil || !h.Feature.Online {
			continue
		}
		q := "SELECT * FROM " + quoteIdent(h.Name)
		if h.Feature.EventTime != "" {
			keys := make([]string, len(h.Feature.Keys))
			for i, k := range h.Feature.Keys {
				keys[i] = quoteIdent(k)
			}
			q += " QUALIFY row_number() OVER (PARTITION BY " + strings.Join(keys, ", ") + " ORDER BY " + quoteIdent(h.Feature.EventTime) + " DESC) = 1"
		}
		want[h.Name] = q
	}
	// Feature views' online forms read the groups' views: created after them.
	fvs := map[string]string{}
	for _, fv := range s.e.catalog.FeatureViews(s.db.name) {
		if o := s.e.onlineFeatureView(s.db.name, fv); o.err == nil {
			fvs[fv.Name] = o.body
		}
	}
	for _, m := range []map[string]string{want, fvs} {
		if err := s.createOnlineViews(ctx, m); err != nil {
			return err
		}
	}
	for name := range s.onlineViews {
		if _, ok := want[name]; !ok {
			if _, ok := fvs[name]; !ok {
				s.exec(ctx, "DROP VIEW IF EXISTS temp.main."+quoteIdent(onlineView(name)))
				delete(s.onlineViews, name)
			}
		}
	}
	return nil
}

// hasOnlineView reports whether name is a feature view with an online form.
func (s *Session) hasOnlineView(name string) bool {
	fv, ok := s.e.catalog.FeatureView(s.db.name, "main", name)
	return ok && s.e.onlineFeatureView(s.db.name, fv).err == nil
}

func (s *Session) createOnlineViews(ctx context.Context, want map[string]string) error {
	for name, q := range want {
		if s.onlineViews[name] == q {
			continue
		}
		if err := s.exec(ctx, "CREATE OR REPLACE TEMP VIEW "+quoteIdent(onlineView(name))+" AS "+q); err != nil {
			return fmt.Errorf("online view of %q: %w", name, err)
		}
		s.touchView(onlineView(name))
		if s.onlineViews == nil {
			s.onlineViews = map[string]string{}
		}
		s.onlineViews[name] = q
	}
	return nil
}

// onlineRows lists the online stores of a project's feature groups.
func (e *Engine) onlineRows(project string) []map[string]any {
	var out []map[string]any
	for _, t := range e.catalog.TableHeads(project) {
		if t.Feature == nil || !t.Feature.Online {
			continue
		}
		st := e.onlineStoreFor(project, t.Name)
		st.mu.Lock()
		row := map[string]any{"name": t.Name, "keys": int64(st.rows.len()), "snapshot": st.version, "loaded": st.rows != nil,
			"lookups": st.lookups, "builds": st.builds}
		st.mu.Unlock()
		out = append(out, row)
	}
	return out
}
