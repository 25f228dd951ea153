package pgcatalog

import (
	pg_query "github.com/pganalyze/pg_query_go/v6"
	"google.golang.org/protobuf/proto"

	"github.com/hopsql/hopsql/engine/pgerr"
)

// Env is the session state the rewriter consults. The engine's session
// implements it.
type Env interface {
	// Setting returns current_setting(name); names are case-insensitive.
	Setting(name string) (string, bool)
	// SetSetting implements set_config(name, value, is_local).
	SetSetting(name, value string, isLocal bool) error
	User() string
	Database() string
	// BackendPID is the process id the session's BackendKeyData announced.
	BackendPID() int32
}

// rewriter holds the state of one Rewrite call.
type rewriter struct {
	env     Env
	changed bool
	err     error
	// catalog is set once the statement reads a hopsql_catalog relation;
	// only then are '{…}' array literals converted (elsewhere they may be JSON).
	catalog   bool
	arrayLits []*pg_query.A_Const
	path      []string // search path incl. pg_catalog, computed on first use
	// typeNames are the column and cast types seen, fixed up if the
	// statement ends up deparsed (see fidelity.go).
	typeNames []*pg_query.TypeName
}

// Rewrite rewrites one parsed statement in place so that DuckDB answers as
// PostgreSQL would: pg_catalog relations and functions go to hopsql_catalog,
// PostgreSQL-only casts, operators and collations are translated, division
// raises division_by_zero, and schema public is DuckDB's main. It reports
// whether the tree changed; when it did not, the caller can run the original
// SQL text without deparsing.
func Rewrite(stmt *pg_query.RawStmt, env Env) (changed bool, err error) {
	if stmt == nil || stmt.Stmt == nil {
		return false, nil
	}
	r := rewriter{env: env}
	w := walker{node: r.node, rangeVar: r.dmlRangeVar}
	w.walk(stmt.Stmt)
	if r.err != nil {
		return r.changed, r.err
	}
	if r.changed {
		// The statement will be deparsed: json must not come out as pg_catalog.json.
		for _, tn := range r.typeNames {
			if _, name := typeNameParts(tn); name == "json" {
				tn.Names = []*pg_query.Node{pg_query.MakeStrNode("JSON")}
			}
		}
	}
	if sel := stmt.Stmt.GetSelectStmt(); sel != nil {
		r.recordTargets(sel.TargetList)
	}
	if r.catalog {
		for _, c := range r.arrayLits {
			c.Val = &pg_query.A_Const_Sval{Sval: &pg_query.String{Sval: pgArrayToList(c.GetSval().GetSval())}}
			r.changed = true
		}
	}
	return r.changed, nil
}

// node is the pre-order callback of the walk.
func (r *rewriter) node(n *pg_query.Node) bool {
	if r.err != nil {
		return false
	}
	switch x := n.Node.(type) {
	case *pg_query.Node_RangeVar:
		r.readRangeVar(x.RangeVar)
	case *pg_query.Node_FuncCall:
		if !r.funcCall(n, x.FuncCall) {
			return false
		}
	case *pg_query.Node_TypeCast:
		// jsonb is DuckDB's JSON once the name is fixed: tell it first.
		_, name := typeNameParts(x.TypeCast.TypeName)
		toJSONB := name == "jsonb" && len(x.TypeCast.TypeName.GetArrayBounds()) == 0
		if fixTypeName(x.TypeCast.TypeName) || byteaLiteral(x.TypeCast) {
			r.changed = true
		}
		r.typeNames = append(r.typeNames, x.TypeCast.TypeName)
		if toJSONB && r.jsonbCast(n, x.TypeCast) {
			break
		}
		r.typeCast(n, x.TypeCast)
	case *pg_query.Node_ColumnDef:
		if fixTypeName(x.ColumnDef.TypeName) {
			r.changed = true
		}
		r.typeNames = append(r.typeNames, x.ColumnDef.TypeName)
	case *pg_query.Node_AExpr:
		r.aExpr(n, x.AExpr)
	case *pg_query.Node_CollateClause:
		r.collate(n, x.CollateClause)
	case *pg_query.Node_SqlvalueFunction:
		r.sqlValueFunction(n, x.SqlvalueFunction)
	case *pg_query.Node_ResTarget:
		r.resTarget(x.ResTarget)
	case *pg_query.Node_RangeFunction:
		return r.rangeFunction(n, x.RangeFunction)
	case *pg_query.Node_SelectStmt:
		if !r.checkLimits(x.SelectStmt) {
			return false
		}
		if len(x.SelectStmt.LockingClause) > 0 {
			// Accepting it without locks would let two transactions both
			// "hold" a row neither writes (docs/sql-compat.md).
			r.err = pgerr.New(pgerr.FeatureNotSupported, "SELECT … FOR UPDATE/SHARE is not supported: hopsql takes no row locks")
			return false
		}
	case *pg_query.Node_RangeSubselect:
		r.valuesColumnNames(x.RangeSubselect)
	}
	return r.err == nil
}

// readRangeVar maps a relation read by a query. PostgreSQL searches
// pg_catalog before the search path, so an unqualified pg_class is the
// catalog's.
func (r *rewriter) readRangeVar(rv *pg_query.RangeVar) {
	if rv.Catalogname != "" {
		return
	}
	switch rv.Schemaname {
	case "", "pg_catalog":
		if _, ok := catalogByName[rv.Relname]; ok {
			rv.Catalogname, rv.Schemaname = catalogDB, "main"
			r.catalog, r.changed = true, true
		}
	case "information_schema":
		if v, ok := infoSchemaViews[rv.Relname]; ok {
			rv.Catalogname, rv.Schemaname, rv.Relname = catalogDB, "main", v
			r.catalog, r.changed = true, true
		}
	case "public":
		rv.Schemaname = "main"
		r.changed = true
	}
}

// dmlRangeVar maps the RangeVars of DML and DDL targets: only public → main.
func (r *rewriter) dmlRangeVar(rv *pg_query.RangeVar) {
	if rv.Catalogname == "" && rv.Schemaname == "public" {
		rv.Schemaname = "main"
		r.changed = true
	}
}

// collate drops COLLATE clauses naming PostgreSQL collations DuckDB lacks;
// hopsql compares strings bytewise, which is what "C" and default mean here.
func (r *rewriter) collate(n *pg_query.Node, cc *pg_query.CollateClause) {
	if cc.Arg == nil || len(cc.Collname) == 0 {
		return
	}
	name := cc.Collname[len(cc.Collname)-1].GetString_().GetSval()
	if len(cc.Collname) == 1 {
		switch name {
		case "default", "C", "POSIX", "ucs_basic":
		default:
			return // a DuckDB collation such as nocase
		}
	}
	n.Node = cc.Arg.Node
	r.changed = true
}

// sqlValueFunction replaces current_user and friends with the session's values.
func (r *rewriter) sqlValueFunction(n *pg_query.Node, f *pg_query.SQLValueFunction) {
	switch f.Op {
	case pg_query.SQLValueFunctionOp_SVFOP_CURRENT_USER, pg_query.SQLValueFunctionOp_SVFOP_CURRENT_ROLE,
		pg_query.SQLValueFunctionOp_SVFOP_SESSION_USER, pg_query.SQLValueFunctionOp_SVFOP_USER:
		r.replace(n, strConst(r.env.User()))
	case pg_query.SQLValueFunctionOp_SVFOP_CURRENT_CATALOG:
		r.replace(n, strConst(r.env.Database()))
	case pg_query.SQLValueFunctionOp_SVFOP_CURRENT_SCHEMA:
		r.replace(n, strConst(r.currentSchema()))
	default:
		// DuckDB has no precision argument (current_timestamp(0)); the
		// value keeps its microseconds.
		if op, ok := withoutPrecision[f.Op]; ok {
			f.Op, f.Typmod = op, -1
			r.changed = true
		}
	}
}

// withoutPrecision maps the SQL value functions taking a precision to
// their forms without one.
var withoutPrecision = map[pg_query.SQLValueFunctionOp]pg_query.SQLValueFunctionOp{
	pg_query.SQLValueFunctionOp_SVFOP_CURRENT_TIMESTAMP_N: pg_query.SQLValueFunctionOp_SVFOP_CURRENT_TIMESTAMP,
	pg_query.SQLValueFunctionOp_SVFOP_CURRENT_TIME_N:      pg_query.SQLValueFunctionOp_SVFOP_CURRENT_TIME,
	pg_query.SQLValueFunctionOp_SVFOP_LOCALTIMESTAMP_N:    pg_query.SQLValueFunctionOp_SVFOP_LOCALTIMESTAMP,
	pg_query.SQLValueFunctionOp_SVFOP_LOCALTIME_N:         pg_query.SQLValueFunctionOp_SVFOP_LOCALTIME,
}

// recordTargets makes ROW(…) in the outermost select list print as
// PostgreSQL's record text: DuckDB's ROW is a struct with empty field
// names, which its Go driver cannot return. Rows elsewhere keep DuckDB's
// meaning (comparisons, IN, UPDATE … SET (a, b) = (…)).
func (r *rewriter) recordTargets(targets []*pg_query.Node) {
	for _, t := range targets {
		rt := t.GetResTarget()
		re := rt.GetVal().GetRowExpr()
		if re == nil || len(re.Args) == 0 {
			continue
		}
		fields := re.Args
		args := make([]*pg_query.Node, 0, 2*len(fields))
		for _, a := range fields {
			args = append(args, makeCast(a, typeName("varchar", false), -1), makeFunc([]string{"typeof"}, proto.Clone(a).(*pg_query.Node)))
		}
		if rt.Name == "" {
			rt.Name = "row"
		}
		rt.Val = makeFunc([]string{"hop_record_out"}, args...)
		r.changed = true
	}
}

// resTarget makes a reg* cast in a select list print the object's name, as
// PostgreSQL's output function does.
func (r *rewriter) resTarget(rt *pg_query.ResTarget) {
	if typeofAsRegtype(rt.Val) {
		if rt.Name == "" {
			rt.Name = "pg_typeof"
		}
		r.changed = true
	}
	tc := rt.Val.GetTypeCast()
	if tc == nil {
		return
	}
	if kind := regKind(tc.TypeName); kind != "" {
		if rt.Name == "" {
			// PostgreSQL names the column after the cast's type or the
			// column; keep the name clients expect, e.g. "stxrelid".
			rt.Name = defaultColumnName(tc)
		}
		r.regCast(rt.Val, tc, kind, true)
	}
}

// replace swaps n's content for repl's.
func (r *rewriter) replace(n, repl *pg_query.Node) {
	n.Node = repl.Node
	r.changed = true
}
