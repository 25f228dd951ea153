package engine

import (
	"database/sql/driver"

	pg_query "github.com/pganalyze/pg_query_go/v6"
)

// Constant statements: a SELECT without FROM whose target list holds only
// literals, casts and operators on them — the pool health check `SELECT 1`,
// `SELECT 'a' || 'b'`. Its result depends on nothing but the text and the
// session's settings, so after the first run its rows are kept on the
// statement and replayed without DuckDB (whose per-statement execution cost
// would otherwise dominate such round trips). Any SET invalidates them.
// Function calls are excluded: they may be volatile (now(), random()).

// maxConstantCache bounds the per-session cache of constant statements
// prepared through the simple protocol, keyed by query text.
const maxConstantCache = 64

func isConstantSelect(n *pg_query.Node) bool {
	sel := n.GetSelectStmt()
	if sel == nil || len(sel.FromClause) > 0 || sel.WhereClause != nil || len(sel.GroupClause) > 0 ||
		sel.HavingClause != nil || sel.Op != pg_query.SetOperation_SETOP_NONE || sel.IntoClause != nil ||
		len(sel.ValuesLists) > 0 || sel.WithClause != nil || len(sel.WindowClause) > 0 || len(sel.LockingClause) > 0 ||
		sel.LimitCount != nil || sel.LimitOffset != nil || len(sel.SortClause) > 0 || len(sel.DistinctClause) > 0 {
		return false
	}
	if len(sel.TargetList) == 0 {
		return false
	}
	for _, t := range sel.TargetList {
		rt := t.GetResTarget()
		if rt == nil || !constantExpr(rt.Val) {
			return false
		}
	}
	return true
}

func constantExpr(n *pg_query.Node) bool {
	if n == nil {
		return true
	}
	switch x := n.Node.(type) {
	case *pg_query.Node_AConst:
		return true
	case *pg_query.Node_TypeCast:
		return constantExpr(x.TypeCast.Arg)
	case *pg_query.Node_AExpr:
		return constantExpr(x.AExpr.Lexpr) && constantExpr(x.AExpr.Rexpr)
	case *pg_query.Node_BoolExpr:
		for _, a := range x.BoolExpr.Args {
			if !constantExpr(a) {
				return false
			}
		}
		return true
	case *pg_query.Node_NullTest:
		return constantExpr(x.NullTest.Arg)
	}
	return false
}

// constResult is a constant statement's kept result.
type constResult struct {
	gen  uint64 // the session's settings generation it was computed under
	rows [][]driver.Value
}

// keepRow copies a streamed row for replay; the driver's slice is reused.
func keepRow(row []driver.Value) []driver.Value {
	out := make([]driver.Value, len(row))
	for i, v := range row {
		if b, ok := v.([]byte); ok {
			v = append([]byte(nil), b...)
		}
		out[i] = v
	}
	return out
}
