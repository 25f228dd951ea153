package engine

import (
	"context"
	"database/sql/driver"
	"encoding/json"
	"fmt"
	"strings"

	pg_query "github.com/pganalyze/pg_query_go/v6"

	"github.com/hopsql/hopsql/catalog"
	"github.com/hopsql/hopsql/engine/pgcatalog"
	"github.com/hopsql/hopsql/engine/pgerr"
)

// Feature views (docs/sql.md) join a label relation with feature groups so
// that each label row sees, of every feature group with an event time, the
// row with the latest event time at or before its own: no value from the
// label's future. The view becomes a DuckDB view whose joins are ASOF
// joins; its definition and lineage (the feature groups and versions it
// read) are kept in the catalog.
//
//	CREATE FEATURE VIEW v [EVENT TIME (label_column)] [TTL expr] [PLAIN JOIN] AS SELECT …
//	  → CREATE VIEW v WITH (hopsql_feature_view = '<options>') AS SELECT …
//	DROP FEATURE VIEW [IF EXISTS] v → DROP VIEW [IF EXISTS] v

const featureViewOption = "hopsql_feature_view"

// fromPlaceholder stands for a feature view's FROM clause while the rest of
// the statement is deparsed; the ASOF joins (not PostgreSQL syntax) are
// written in its place.
const fromPlaceholder = "hopsql_feature_view_from"

// featureViewDef is what CREATE FEATURE VIEW says besides the query.
type featureViewDef struct {
	EventTime string `json:"event_time,omitempty"`
	Plain     bool   `json:"plain,omitempty"`
	// TTL bounds how old a feature value may be, relative to the label's
	// event time: an interval (or a number, for integer event times).
	TTL string `json:"ttl,omitempty"`
}

// createFeatureViewSQL rewrites what follows CREATE FEATURE VIEW.
func (s *Session) createFeatureViewSQL(sql string, toks []*pg_query.ScanToken) (string, error) {
	sc := scanned{sql, toks}
	word := sc.word
	syntax := func(what string) error {
		return pgerr.New(pgerr.SyntaxError, "syntax error in CREATE FEATURE VIEW: %s", what)
	}
	if len(toks) == 0 {
		return "", syntax("a name is expected")
	}
	i := 1
	for i+1 < len(toks) && toks[i].Token == pg_query.Token_ASCII_46 {
		i += 2
	}
	name := sql[toks[0].Start:toks[i-1].End]
	var def featureViewDef
	for i < len(toks) && word(i) != "as" {
		switch {
		case word(i) == "event" && word(i+1) == "time" && i+4 < len(toks) && toks[i+2].Token == pg_query.Token_ASCII_40 && toks[i+4].Token == pg_query.Token_ASCII_41:
			def.EventTime, i = identText(sc.text(i+3)), i+5
		case word(i) == "plain" && word(i+1) == "join":
			def.Plain, i = true, i+2
		case word(i) == "ttl":
			// The expression runs to the next clause keyword at depth 0.
			start, depth := i+1, 0
			j := start
			for ; j < len(toks); j++ {
				switch toks[j].Token {
				case pg_query.Token_ASCII_40:
					depth++
				case pg_query.Token_ASCII_41:
					depth--
				}
				if w := word(j); depth == 0 && (w == "as" || w == "plain" || w == "event") {
					break
				}
			}
			if j == start || j >= len(toks) {
				return "", syntax("TTL needs an interval")
			}
			def.TTL = sql[toks[start].Start:toks[j-1].End]
			if _, err := pg_query.Parse("SELECT " + def.TTL); err != nil {
				return "", syntax("invalid TTL " + def.TTL)
			}
			i = j
		default:
			return "", pgerr.New(pgerr.SyntaxError, "syntax error at or near %q in CREATE FEATURE VIEW", sc.text(i))
		}
	}
	if i+1 >= len(toks) {
		return "", syntax("AS SELECT … is expected")
	}
	js, _ := json.Marshal(def)
	return "CREATE VIEW " + name + " WITH (" + featureViewOption + " = " + quoteLiteral(string(js)) + ") AS " +
		sql[toks[i+1].Start:toks[len(toks)-1].End], nil
}

// dropFeatureViewSQL rewrites what follows DROP FEATURE VIEW.
func (s *Session) dropFeatureViewSQL(sql string, toks []*pg_query.ScanToken) (string, error) {
	if len(toks) == 0 {
		return "", pgerr.New(pgerr.SyntaxError, "syntax error in DROP FEATURE VIEW: a name is expected")
	}
	rest := sql[toks[0].Start:toks[len(toks)-1].End]
	i, ifExists := 0, false
	if len(toks) >= 2 && strings.EqualFold(sql[toks[0].Start:toks[0].End], "if") && strings.EqualFold(sql[toks[1].Start:toks[1].End], "exists") {
		i, ifExists = 2, true
	}
	for ; i < len(toks); i++ {
		t := toks[i]
		if t.Token == pg_query.Token_ASCII_44 || t.Token == pg_query.Token_ASCII_46 || (i+1 < len(toks) && toks[i+1].Token == pg_query.Token_ASCII_46) {
			continue
		}
		name := identText(sql[t.Start:t.End])
		if _, ok := s.e.catalog.FeatureView(s.db.name, "main", name); !ok && !ifExists {
			if s.e.catalog.HasTable(s.db.name, "main", name) {
				return "", pgerr.New(pgerr.WrongObjectType, "%q is not a feature view", name)
			}
			return "", pgerr.New(pgerr.UndefinedObject, "feature view %q does not exist", name)
		}
	}
	return "DROP VIEW " + rest, nil
}

// prepareFeatureView turns a feature view's CREATE VIEW into DuckDB's: the
// FROM clause is replaced by the placeholder, and the joins written for
// DuckDB are returned with the view's catalog record.
func (s *Session) prepareFeatureView(v *pg_query.ViewStmt, def featureViewDef) (string, *catalog.FeatureView, error) {
	sel := v.Query.GetSelectStmt()
	if sel == nil || sel.Op != pg_query.SetOperation_SETOP_NONE || len(sel.FromClause) != 1 {
		return "", nil, pgerr.New(pgerr.FeatureNotSupported, "a feature view is one SELECT whose FROM is the label relation joined with feature groups")
	}
	if v.View.Schemaname != "" && !storageManaged(v.View.Schemaname) {
		return "", nil, pgerr.New(pgerr.FeatureNotSupported, "feature views live in schema public")
	}
	fv := &catalog.FeatureView{Schema: "main", Name: v.View.Relname, PointInTime: !def.Plain}
	if q, err := deparseSelect(sel); err == nil {
		fv.Query = q
	}
	// The label: the leftmost relation.
	left := sel.FromClause[0]
	for left.GetJoinExpr() != nil {
		left = left.GetJoinExpr().Larg
	}
	label := left.GetRangeVar()
	if label == nil {
		return "", nil, pgerr.New(pgerr.FeatureNotSupported, "a feature view's first relation must be a table or feature group")
	}
	labelAlias := aliasOf(label)
	fv.Label = label.Relname
	fv.EventTime = def.EventTime
	fv.TTL = def.TTL
	if def.TTL != "" && def.Plain {
		return "", nil, pgerr.New(pgerr.InvalidTableDefinition, "TTL bounds feature values as of the label's time: it does not go with PLAIN JOIN")
	}
	// Feature groups joined as of the label's time under a TTL: their
	// columns read NULL when the row found is older than the TTL allows
	// (LEFT JOIN), or the label row goes (JOIN).
	type ttlGroup struct {
		alias, eventTime string
		cols             []catalog.Column
		inner            bool
	}
	var ttlGroups []ttlGroup
	if f := s.featureOf(label.Relname); f != nil {
		fv.Reads = append(fv.Reads, s.featureRead(label.Relname, f, false))
		if fv.EventTime == "" {
			fv.EventTime = f.EventTime
		}
	}
	if def.EventTime != "" {
		if h, ok := s.e.catalog.TableHead(s.db.name, "main", label.Relname); ok && !catalog.HasColumn(h.Columns, def.EventTime) {
			return "", nil, pgerr.New(pgerr.UndefinedColumn, "column %q of %s does not exist", def.EventTime, label.Relname)
		}
	}
	var render func(n *pg_query.Node) (string, error)
	render = func(n *pg_query.Node) (string, error) {
		if rv := n.GetRangeVar(); rv != nil {
			out := quoteIdent(rv.Relname)
			if rv.Schemaname != "" && rv.Schemaname != "public" && rv.Schemaname != "main" {
				out = quoteIdent(rv.Schemaname) + "." + out
			}
			return out + " AS " + quoteIdent(aliasOf(rv)), nil
		}
		j := n.GetJoinExpr()
		if j == nil {
			return "", pgerr.New(pgerr.FeatureNotSupported, "a feature view joins tables and feature groups only (no subqueries or functions in FROM)")
		}
		if j.IsNatural {
			return "", pgerr.New(pgerr.FeatureNotSupported, "NATURAL joins are not supported in feature views: name the key columns")
		}
		l, err := render(j.Larg)
		if err != nil {
			return "", err
		}
		rv := j.Rarg.GetRangeVar()
		if rv == nil {
			return "", pgerr.New(pgerr.FeatureNotSupported, "a feature view joins tables and feature groups only (no subqueries or functions in FROM)")
		}
		r, err := render(j.Rarg)
		if err != nil {
			return "", err
		}
		alias := aliasOf(rv)
		f := s.featureOf(rv.Relname)
		asOf := !def.Plain && f != nil && f.EventTime != ""
		if f != nil {
			fv.Reads = append(fv.Reads, s.featureRead(rv.Relname, f, asOf))
		}
		var conds []string
		for _, u := range j.UsingClause {
			c := quoteIdent(u.GetString_().GetSval())
			conds = append(conds, quoteIdent(labelAlias)+"."+c+" = "+quoteIdent(alias)+"."+c)
		}
		if j.Quals != nil {
			q, err := deparseExpr(j.Quals)
			if err != nil {
				return "", err
			}
			conds = append(conds, "("+q+")")
		}
		kind := map[pg_query.JoinType]string{pg_query.JoinType_JOIN_INNER: "JOIN", pg_query.JoinType_JOIN_LEFT: "LEFT JOIN",
			pg_query.JoinType_JOIN_RIGHT: "RIGHT JOIN", pg_query.JoinType_JOIN_FULL: "FULL JOIN"}[j.Jointype]
		if kind == "" {
			return "", pgerr.New(pgerr.FeatureNotSupported, "this kind of join is not supported in feature views")
		}
		if asOf {
			if fv.EventTime == "" {
				return "", pgerr.New(pgerr.InvalidTableDefinition, "feature group %s has an event time, but the label relation %s has none", rv.Relname, label.Relname).
					WithHint("Name the label's time column with EVENT TIME (column), or join without point-in-time correctness with PLAIN JOIN.")
			}
			if kind != "JOIN" && kind != "LEFT JOIN" {
				return "", pgerr.New(pgerr.FeatureNotSupported, "a feature group joined as of the label's time must be on the right of JOIN or LEFT JOIN")
			}
			if len(conds) == 0 {
				return "", pgerr.New(pgerr.FeatureNotSupported, "join feature group %s on its key (USING or ON)", rv.Relname)
			}
			if def.TTL != "" {
				h, _ := s.e.catalog.TableHead(s.db.name, "main", rv.Relname)
				ttlGroups = append(ttlGroups, ttlGroup{alias: alias, eventTime: f.EventTime, cols: h.Columns, inner: kind == "JOIN"})
			}
			kind = "ASOF " + kind
			conds = append(conds, quoteIdent(labelAlias)+"."+quoteIdent(fv.EventTime)+" >= "+quoteIdent(alias)+"."+quoteIdent(f.EventTime))
		}
		if len(conds) == 0 {
			return l + " CROSS JOIN " + r, nil
		}
		return l + " " + kind + " " + r + " ON " + strings.Join(conds, " AND "), nil
	}
	from, err := render(sel.FromClause[0])
	if err != nil {
		return "", nil, err
	}
	if def.TTL != "" && len(ttlGroups) == 0 {
		return "", nil, pgerr.New(pgerr.InvalidTableDefinition, "TTL needs a feature group with an event time joined as of the label's time")
	}
	fresh := func(g ttlGroup) string {
		return quoteIdent(g.alias) + "." + quoteIdent(g.eventTime) + " >= " + quoteIdent(labelAlias) + "." + quoteIdent(fv.EventTime) + " - (" + def.TTL + ")"
	}
	var keep []string
	for _, g := range ttlGroups {
		if g.inner {
			keep = append(keep, fresh(g))
		}
	}
	if len(keep) > 0 {
		w, err := parseExprList(strings.Join(keep, " AND "))
		if err != nil {
			return "", nil, err
		}
		if sel.WhereClause != nil {
			w[0] = &pg_query.Node{Node: &pg_query.Node_BoolExpr{BoolExpr: &pg_query.BoolExpr{Boolop: pg_query.BoolExprType_AND_EXPR, Args: []*pg_query.Node{sel.WhereClause, w[0]}}}}
		}
		sel.WhereClause = w[0]
	}
	// A LEFT-joined group's columns in the select list: NULL when stale.
	var werr error
	for _, t := range sel.TargetList {
		rt := t.GetResTarget()
		if rt == nil {
			continue
		}
		if parts := columnRefParts(rt.Val); len(parts) > 0 && rt.Name == "" && parts[len(parts)-1] != "*" {
			rt.Name = parts[len(parts)-1] // the column keeps its name inside the CASE
		} else if len(parts) == 1 && parts[0] == "*" {
			for _, g := range ttlGroups {
				if !g.inner {
					return "", nil, pgerr.New(pgerr.FeatureNotSupported, "with a TTL, name the columns instead of *")
				}
			}
		}
		pgcatalog.Walk(rt.Val, func(n *pg_query.Node) bool {
			parts := columnRefParts(n)
			if parts == nil || werr != nil {
				return werr == nil
			}
			for _, g := range ttlGroups {
				if g.inner {
					continue
				}
				col := parts[len(parts)-1]
				mine := len(parts) == 2 && parts[0] == g.alias && col != "*" ||
					len(parts) == 1 && catalog.HasColumn(g.cols, col) && !s.labelHas(label.Relname, col)
				if len(parts) == 2 && parts[0] == g.alias && col == "*" {
					werr = pgerr.New(pgerr.FeatureNotSupported, "with a TTL, name the columns of %s instead of %s.*", g.alias, g.alias)
					return false
				}
				if !mine {
					continue
				}
				ref := quoteIdent(g.alias) + "." + quoteIdent(col)
				e, err := parseExprList("CASE WHEN " + fresh(g) + " THEN " + ref + " END")
				if err != nil {
					werr = err
					return false
				}
				n.Node = e[0].Node
				return false
			}
			return true
		})
	}
	if werr != nil {
		return "", nil, werr
	}
	sel.FromClause = []*pg_query.Node{{Node: &pg_query.Node_RangeVar{RangeVar: &pg_query.RangeVar{Relname: fromPlaceholder, Inh: true, Relpersistence: "p"}}}}
	return from, fv, nil
}

// labelHas reports whether the label relation has a column.
func (s *Session) labelHas(label, col string) bool {
	h, ok := s.e.catalog.TableHead(s.db.name, "main", label)
	return ok && catalog.HasColumn(h.Columns, col)
}

func (s *Session) featureRead(name string, f *catalog.FeatureGroup, asOf bool) catalog.FeatureRead {
	r := catalog.FeatureRead{Name: name, Version: f.Version, AsOf: asOf}
	if h, ok := s.e.catalog.TableHead(s.db.name, "main", name); ok {
		r.Snapshot = h.Version
	}
	return r
}

// takeFeatureViewOption removes a feature view's options from CREATE VIEW.
func takeFeatureViewOption(opts *[]*pg_query.Node) (*featureViewDef, error) {
	for i, o := range *opts {
		d := o.GetDefElem()
		if d == nil || d.Defname != featureViewOption {
			continue
		}
		*opts = append((*opts)[:i:i], (*opts)[i+1:]...)
		var def featureViewDef
		if err := json.Unmarshal([]byte(d.Arg.GetString_().GetSval()), &def); err != nil {
			return nil, pgerr.New(pgerr.InvalidParameterValue, "invalid feature view definition")
		}
		return &def, nil
	}
	return nil, nil
}

func deparseSelect(sel *pg_query.SelectStmt) (string, error) {
	tree := &pg_query.ParseResult{Version: parseVersion, Stmts: []*pg_query.RawStmt{{Stmt: &pg_query.Node{Node: &pg_query.Node_SelectStmt{SelectStmt: sel}}}}}
	return pg_query.Deparse(tree)
}

// reconcileFeatureViews recreates the DuckDB views of feature views the
// catalog has and DuckDB lost (a crash between the catalog's commit and
// DuckDB's).
func (e *Engine) reconcileFeatureViews(ctx context.Context, conn driver.ExecerContext, queryer driver.QueryerContext, db string) error {
	rows, err := queryer.QueryContext(ctx, "SELECT view_name FROM duckdb_views() WHERE database_name = $1 AND schema_name = 'main' AND NOT temporary AND NOT internal",
		[]driver.NamedValue{{Ordinal: 1, Value: db}})
	if err != nil {
		return fmt.Errorf("list views of %q: %w", db, err)
	}
	have := map[string]bool{}
	vals := make([]driver.Value, 1)
	for rows.Next(vals) == nil {
		n, _ := vals[0].(string)
		have[n] = true
	}
	rows.Close()
	for _, v := range e.catalog.FeatureViews(db) {
		if have[v.Name] {
			continue
		}
		if _, err := conn.ExecContext(ctx, v.SQL, nil); err != nil {
			return fmt.Errorf("recreate feature view %q: %w", v.Name, err)
		}
		e.log.Info("recreated feature view from the catalog", "database", db, "view", v.Name)
	}
	return nil
}
