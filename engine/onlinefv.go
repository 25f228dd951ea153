package engine

import (
	"context"
	"database/sql/driver"
	"fmt"
	"slices"
	"strings"

	pg_query "github.com/pganalyze/pg_query_go/v6"

	"github.com/hopsql/hopsql/catalog"
	"github.com/hopsql/hopsql/engine/pgerr"
)

// Online feature views (docs/sql.md): online.<v> is feature view v served
// from the online store. The label relation gives way to the entities: the
// key tuples of the feature groups' latest rows; each feature group joins as
// its latest row per key (its online.<g>), with the join kind the view was
// written with; label columns other than the keys (the label itself, its
// time) are left out. A lookup by the serving keys in autocommit is answered
// from the groups' in-memory stores, as online.<g> lookups are; any other
// query reads the equivalent session view through DuckDB.
//
// The online form exists when every relation joined to the label is an
// ONLINE feature group joined on its whole primary key by equalities with
// label columns, all of them on the same label columns (the serving keys),
// and the select list names columns only.

// onlineFV is a feature view's online form.
type onlineFV struct {
	body   string   // the session view's query
	keys   []string // serving keys: the label columns the groups join on
	types  []string // their types (of the first group's key columns)
	groups []fvGroup
	items  []fvItem
	err    error // why there is no online form
}

type fvGroup struct {
	id      uint64 // the table, as derived (a group dropped and made again is another)
	name    string
	alias   string
	inner   bool
	keyFrom []int    // for each of the group's key columns, the serving key it equals
	keyCols []string // the group's key columns
}

type fvItem struct {
	name  string // output column
	group int    // index into groups; -1 for a serving key
	col   string // the group's column, or the serving key
}

// onlineFeatureView derives a feature view's online form (cached per
// definition).
func (e *Engine) onlineFeatureView(project string, fv catalog.FeatureView) *onlineFV {
	e.onlineMu.Lock()
	o, ok := e.onlineFVs[fv.SQL]
	e.onlineMu.Unlock()
	if ok && e.onlineFVCurrent(project, o) {
		return o
	}
	o = e.deriveOnlineFV(project, fv)
	if o.err == nil {
		// Derived again when a feature group changes (its columns, ONLINE).
		e.onlineMu.Lock()
		e.onlineFVs[fv.SQL] = o
		e.onlineMu.Unlock()
	}
	return o
}

// onlineFVCurrent reports whether a derived online form still stands: its
// feature groups are the same tables, still ONLINE.
func (e *Engine) onlineFVCurrent(project string, o *onlineFV) bool {
	for _, g := range o.groups {
		h, ok := e.catalog.TableHead(project, "main", g.name)
		if !ok || h.ID != g.id || h.Feature == nil || !h.Feature.Online {
			return false
		}
	}
	return true
}

func (e *Engine) deriveOnlineFV(project string, fv catalog.FeatureView) *onlineFV {
	o := &onlineFV{}
	fail := func(format string, args ...any) *onlineFV {
		o.err = pgerr.New(pgerr.FeatureNotSupported, "feature view %s has no online form: %s", fv.Name, fmt.Sprintf(format, args...))
		return o
	}
	tree, err := pg_query.Parse(fv.Query)
	if err != nil || len(tree.Stmts) != 1 {
		return fail("its query does not parse")
	}
	sel := tree.Stmts[0].Stmt.GetSelectStmt()
	if sel == nil || len(sel.FromClause) != 1 {
		return fail("not one SELECT over one FROM item")
	}
	if sel.WhereClause != nil || sel.GroupClause != nil || sel.HavingClause != nil || sel.DistinctClause != nil ||
		sel.LimitCount != nil || sel.LimitOffset != nil || sel.SortClause != nil || sel.WindowClause != nil {
		return fail("it filters, groups, sorts or limits its rows")
	}
	if fv.TTL != "" {
		return fail("it has a TTL, which is relative to each label's time")
	}
	// Walk the left-deep joins from the label outwards.
	var joins []*pg_query.JoinExpr
	n := sel.FromClause[0]
	for n.GetJoinExpr() != nil {
		joins = append([]*pg_query.JoinExpr{n.GetJoinExpr()}, joins...)
		n = n.GetJoinExpr().Larg
	}
	label := n.GetRangeVar()
	if label == nil || len(joins) == 0 {
		return fail("it joins no feature group")
	}
	la := aliasOf(label)
	labelCols := map[string]bool{}
	if h, ok := e.catalog.TableHead(project, "main", label.Relname); ok {
		for _, c := range h.Columns {
			labelCols[c.Name] = true
		}
	}
	groupCols := map[string][]catalog.Column{}
	for _, j := range joins {
		rv := j.Rarg.GetRangeVar()
		if rv == nil {
			return fail("it joins something other than a feature group")
		}
		h, ok := e.catalog.TableHead(project, "main", rv.Relname)
		if !ok || h.Feature == nil || !h.Feature.Online {
			return fail("%s is not an ONLINE feature group", rv.Relname)
		}
		g := fvGroup{id: h.ID, name: rv.Relname, alias: aliasOf(rv), inner: j.Jointype == pg_query.JoinType_JOIN_INNER, keyCols: h.Feature.Keys}
		if !g.inner && j.Jointype != pg_query.JoinType_JOIN_LEFT {
			return fail("%s is not joined by JOIN or LEFT JOIN", rv.Relname)
		}
		groupCols[g.alias] = h.Columns
		// Equalities label column = group column.
		eq := map[string]string{} // group column → label column
		for _, u := range j.UsingClause {
			c := u.GetString_().GetSval()
			eq[c] = c
		}
		conds := []*pg_query.Node{}
		if j.Quals != nil {
			if be := j.Quals.GetBoolExpr(); be != nil && be.Boolop == pg_query.BoolExprType_AND_EXPR {
				conds = be.Args
			} else {
				conds = []*pg_query.Node{j.Quals}
			}
		}
		for _, c := range conds {
			ae := c.GetAExpr()
			if ae == nil || ae.Kind != pg_query.A_Expr_Kind_AEXPR_OP || len(ae.Name) != 1 || ae.Name[0].GetString_().GetSval() != "=" {
				return fail("%s is joined on something other than equalities of columns", rv.Relname)
			}
			a, b := columnRefParts(ae.Lexpr), columnRefParts(ae.Rexpr)
			if len(a) != 2 || len(b) != 2 {
				return fail("%s's join condition names columns without their relation", rv.Relname)
			}
			if a[0] == g.alias {
				a, b = b, a
			}
			if a[0] != la || b[0] != g.alias {
				return fail("%s is joined on columns of other relations than the label", rv.Relname)
			}
			eq[b[1]] = a[1]
		}
		if len(eq) != len(h.Feature.Keys) {
			return fail("%s is not joined on exactly its primary key", rv.Relname)
		}
		var from []string
		for _, k := range h.Feature.Keys {
			lc, ok := eq[k]
			if !ok {
				return fail("%s is not joined on exactly its primary key", rv.Relname)
			}
			from = append(from, lc)
		}
		if o.keys == nil {
			o.keys = from
			for _, k := range h.Feature.Keys {
				for _, c := range h.Columns {
					if c.Name == k {
						o.types = append(o.types, c.Type)
					}
				}
			}
		}
		for _, lc := range from {
			i := slices.Index(o.keys, lc)
			if i < 0 {
				return fail("its feature groups are not all joined on the same label columns")
			}
			g.keyFrom = append(g.keyFrom, i)
		}
		if len(from) != len(o.keys) {
			return fail("its feature groups are not all joined on the same label columns")
		}
		o.groups = append(o.groups, g)
	}
	groupOf := map[string]int{}
	for i, g := range o.groups {
		groupOf[g.alias] = i
	}
	for _, t := range sel.TargetList {
		rt := t.GetResTarget()
		parts := columnRefParts(rt.GetVal())
		if rt == nil || parts == nil || parts[len(parts)-1] == "*" {
			return fail("its select list has more than column names")
		}
		col := parts[len(parts)-1]
		name := rt.Name
		if name == "" {
			name = col
		}
		switch len(parts) {
		case 2:
			if parts[0] == la {
				if slices.Contains(o.keys, col) {
					o.items = append(o.items, fvItem{name: name, group: -1, col: col})
				}
				continue // the label and its time are not features
			}
			gi, ok := groupOf[parts[0]]
			if !ok {
				return fail("column %s.%s is of no joined relation", parts[0], col)
			}
			o.items = append(o.items, fvItem{name: name, group: gi, col: col})
		case 1:
			if slices.Contains(o.keys, col) {
				o.items = append(o.items, fvItem{name: name, group: -1, col: col})
				continue
			}
			found := -1
			for i, g := range o.groups {
				if catalog.HasColumn(groupCols[g.alias], col) {
					if found >= 0 {
						return fail("column %q is ambiguous", col)
					}
					found = i
				}
			}
			if found < 0 {
				if labelCols[col] {
					continue
				}
				return fail("column %q is of no joined relation", col)
			}
			o.items = append(o.items, fvItem{name: name, group: found, col: col})
		default:
			return fail("its select list has more than column names")
		}
	}
	// The entities: every key tuple some group has.
	var ents []string
	for _, g := range o.groups {
		sel := make([]string, len(o.keys))
		for i, from := range g.keyFrom {
			sel[from] = quoteIdent(g.keyCols[i]) + " AS " + quoteIdent(o.keys[from])
		}
		ents = append(ents, "SELECT "+strings.Join(sel, ", ")+" FROM "+quoteIdent(onlineView(g.name)))
	}
	var b strings.Builder
	b.WriteString("SELECT ")
	for i, it := range o.items {
		if i > 0 {
			b.WriteString(", ")
		}
		src := quoteIdent(la) + "." + quoteIdent(it.col)
		if it.group >= 0 {
			src = quoteIdent(o.groups[it.group].alias) + "." + quoteIdent(it.col)
		}
		b.WriteString(src + " AS " + quoteIdent(it.name))
	}
	b.WriteString(" FROM (" + strings.Join(ents, " UNION ") + ") AS " + quoteIdent(la))
	for _, g := range o.groups {
		kind := " LEFT JOIN "
		if g.inner {
			kind = " JOIN "
		}
		var on []string
		for i, from := range g.keyFrom {
			on = append(on, quoteIdent(la)+"."+quoteIdent(o.keys[from])+" = "+quoteIdent(g.alias)+"."+quoteIdent(g.keyCols[i]))
		}
		b.WriteString(kind + quoteIdent(onlineView(g.name)) + " AS " + quoteIdent(g.alias) + " ON " + strings.Join(on, " AND "))
	}
	o.body = b.String()
	return o
}

// columnRefParts returns a column reference's names ("*" for a star), or
// nil for anything else.
func columnRefParts(n *pg_query.Node) []string {
	cr := n.GetColumnRef()
	if cr == nil {
		return nil
	}
	var out []string
	for _, f := range cr.Fields {
		if f.GetAStar() != nil {
			out = append(out, "*")
		} else {
			out = append(out, f.GetString_().GetSval())
		}
	}
	return out
}

// onlineFVLookup answers a lookup of online.<v> by its serving keys from
// the feature groups' stores.
func (s *Session) onlineFVLookup(ctx context.Context, p *Portal, plan *onlinePlan) ([][]driver.Value, bool, error) {
	o := plan.fv
	names := make([]string, len(o.items))
	for i, it := range o.items {
		names[i] = it.name
	}
	idx, ok := selectedColumns(plan, names, len(p.stmt.Fields))
	if !ok {
		return nil, false, nil
	}
	// Each group's store, current, and where its columns are.
	type groupState struct {
		st    *onlineStore
		cols  map[string]int
		width int
	}
	gs := make([]groupState, len(o.groups))
	for i, g := range o.groups {
		def := s.featureOf(g.name)
		if def == nil || !def.Online {
			return nil, false, nil
		}
		st := s.e.onlineStoreFor(s.db.name, g.name)
		st.mu.Lock()
		err := s.ensureOnline(ctx, st, g.name, def)
		cols := map[string]int{}
		for j, c := range st.cols {
			cols[c] = j
		}
		st.mu.Unlock()
		if err != nil {
			return nil, true, err
		}
		gs[i] = groupState{st: st, cols: cols, width: len(st.cols)}
	}
	fitted, ok := s.fittedFor(plan)
	if !ok {
		return nil, false, nil
	}
	tuples, _, ok := lookupKeys(plan, p.args)
	if !ok {
		return nil, false, nil
	}
	// Where each selected item is in its group's rows, resolved once per
	// query rather than per key (a 100-key batch did 400 map lookups by
	// column name). A key item is read from the first group that has the
	// tuple's row, so it has a position in every group. need lists, per
	// group, the columns a row of it gives to the result.
	type itemPos struct {
		col  int   // in rows[group]
		keys []int // key items: per group, -1 if that group lacks it
	}
	pos := make([]itemPos, len(idx))
	need := make([][]int, len(o.groups))
	for i, j := range idx {
		it := o.items[j]
		if it.group >= 0 {
			c, ok := gs[it.group].cols[it.col]
			if !ok {
				return nil, false, nil
			}
			pos[i].col = c
			need[it.group] = append(need[it.group], c)
			continue
		}
		pos[i].keys = make([]int, len(o.groups))
		for gi, g := range o.groups {
			pos[i].keys[gi] = -1
			for kj, from := range g.keyFrom {
				c, ok := gs[gi].cols[g.keyCols[kj]]
				if !ok {
					return nil, false, nil
				}
				if o.keys[from] == it.col {
					pos[i].keys[gi] = c
					need[gi] = append(need[gi], c)
				}
			}
		}
	}
	// Every tuple's row of a group under one hold of its store's lock
	// (taken per key, 16 clients queued on it), with the values the
	// result needs read out of the store (a row's slot may be reused once
	// the lock is released). Each row is the group's width, only the
	// needed columns set; one backing array for all of a group's rows.
	found := make([][][]driver.Value, len(o.groups))
	var buf []byte
	for i, g := range o.groups {
		gk := make([]driver.Value, len(g.keyFrom))
		res := make([][]driver.Value, len(tuples))
		st := gs[i].st
		width := gs[i].width
		st.mu.Lock()
		if st.rows == nil || st.rows.width != width {
			st.mu.Unlock()
			return nil, false, nil // rebuilt meanwhile: DuckDB answers
		}
		var backing []driver.Value
		for t, kv := range tuples {
			for j, from := range g.keyFrom {
				gk[j] = kv[from]
			}
			buf = appendOnlineKey(buf[:0], gk)
			if slot, ok := st.rows.get(buf); ok {
				if len(backing) < width {
					backing = make([]driver.Value, width*(len(tuples)-t))
				}
				row := backing[:width:width]
				backing = backing[width:]
				for _, c := range need[i] {
					row[c] = st.rows.value(slot, c)
				}
				res[t] = row
				st.lookups++
			}
		}
		st.mu.Unlock()
		found[i] = res
	}
	out := make([][]driver.Value, 0, len(tuples))
	rows := make([][]driver.Value, len(o.groups))
	// The result rows share one backing array (see lookupKeys).
	var backing []driver.Value
	for t := range tuples {
		any, skip := false, false
		for i, g := range o.groups {
			rows[i] = found[i][t]
			if rows[i] != nil {
				any = true
			} else if g.inner {
				skip = true
			}
		}
		if skip || !any {
			continue
		}
		if len(backing)+len(idx) > cap(backing) {
			backing = make([]driver.Value, 0, len(idx)*(len(tuples)-t))
		}
		r := backing[len(backing) : len(backing)+len(idx) : len(backing)+len(idx)]
		backing = backing[:len(backing)+len(idx)]
		for i, j := range idx {
			it := o.items[j]
			switch {
			case it.group < 0:
				// The key as the entity relation holds it: the first group's.
				for gi := range o.groups {
					if rows[gi] != nil {
						if c := pos[i].keys[gi]; c >= 0 {
							r[i] = rows[gi][c]
						}
						break
					}
				}
			case rows[it.group] != nil:
				r[i] = rows[it.group][pos[i].col]
			}
		}
		if !s.applyServed(plan, fitted, r) {
			return nil, false, nil
		}
		out = append(out, r)
	}
	return out, true, nil
}
