package engine

import (
	"fmt"
	"strconv"
	"strings"

	pg_query "github.com/pganalyze/pg_query_go/v6"
)

func typeName(v any) string { return fmt.Sprintf("%T", v) }

// targetNames returns the column names PostgreSQL would give a SELECT's
// target list (its FigureColname rules), or nil when the list contains a *
// and so cannot be matched to result columns one to one. DuckDB names
// unaliased expressions differently (e.g. "count_star()" for count(*)), and
// clients display and key on these names.
func targetNames(n *pg_query.Node) []string {
	targets, values := resultTargets(n)
	if values > 0 {
		// PostgreSQL names VALUES columns column1, column2, …
		names := make([]string, values)
		for i := range names {
			names[i] = "column" + strconv.Itoa(i+1)
		}
		return names
	}
	if targets == nil {
		return nil
	}
	names := make([]string, len(targets))
	for i, t := range targets {
		rt := t.GetResTarget()
		if rt == nil {
			return nil
		}
		if cr := rt.Val.GetColumnRef(); cr != nil {
			if f := cr.Fields; len(f) > 0 && f[len(f)-1].GetAStar() != nil {
				names[i] = starName // expanded by DuckDB; see matchNames
				continue
			}
		}
		if rt.Name != "" {
			names[i] = rt.Name
			continue
		}
		names[i] = figureColname(rt.Val)
	}
	return names
}

// resultTargets returns the target list a statement's result columns come
// from (a set operation's leftmost branch, RETURNING), or the width of its
// VALUES rows.
func resultTargets(n *pg_query.Node) (targets []*pg_query.Node, values int) {
	switch x := n.Node.(type) {
	case *pg_query.Node_SelectStmt:
		s := x.SelectStmt
		for s.Op != pg_query.SetOperation_SETOP_NONE && s.Larg != nil {
			s = s.Larg // a set operation takes its names from the leftmost branch
		}
		if len(s.ValuesLists) > 0 {
			return nil, len(s.ValuesLists[0].GetList().GetItems())
		}
		return s.TargetList, 0
	case *pg_query.Node_InsertStmt:
		return x.InsertStmt.ReturningList, 0
	case *pg_query.Node_UpdateStmt:
		return x.UpdateStmt.ReturningList, 0
	case *pg_query.Node_DeleteStmt:
		return x.DeleteStmt.ReturningList, 0
	}
	return nil, 0
}

// starName marks a * in targetNames' result.
const starName = "\x00*"

// matchNames lays PostgreSQL's target names over DuckDB's result columns.
// A single * expands to however many columns DuckDB reports; its columns
// keep DuckDB's names (they are the tables' column names). With no * or
// more than one, names are used only if the counts agree exactly.
func matchNames(names, duck []string) []string {
	return overTargets(names, names, duck)
}

// overTargets lays values per target (names as targetNames gives them)
// over per-column values from DuckDB, as matchNames does with names.
func overTargets[T any](names []string, vals, duck []T) []T {
	stars := 0
	for _, n := range names {
		if n == starName {
			stars++
		}
	}
	switch {
	case len(vals) != len(names):
		return duck
	case stars == 0 && len(names) == len(duck):
		return vals
	case stars != 1 || len(duck) < len(names)-1:
		return duck
	}
	out := append([]T(nil), duck...)
	width := len(duck) - (len(names) - 1)
	j := 0
	for i, n := range names {
		if n == starName {
			j += width
			continue
		}
		out[j] = vals[i]
		j++
	}
	return out
}

// figureColname follows PostgreSQL's FigureColnameInternal.
func figureColname(n *pg_query.Node) string {
	if name, strength := figure(n); strength > 0 {
		return name
	}
	return "?column?"
}

// figure returns a name and its strength, as FigureColnameInternal: 2 for
// a name from a column, function or keyword, 1 for a cast's type name or
// "case" (an outer cast's type name wins over those), 0 for none.
func figure(n *pg_query.Node) (string, int) {
	if n == nil {
		return "", 0
	}
	switch x := n.Node.(type) {
	case *pg_query.Node_ColumnRef:
		f := x.ColumnRef.Fields
		if len(f) > 0 {
			if s := f[len(f)-1].GetString_(); s != nil {
				return s.Sval, 2
			}
		}
	case *pg_query.Node_AIndirection:
		ind := x.AIndirection.Indirection
		for i := len(ind) - 1; i >= 0; i-- {
			if s := ind[i].GetString_(); s != nil {
				return s.Sval, 2
			}
		}
		return figure(x.AIndirection.Arg)
	case *pg_query.Node_FuncCall:
		f := x.FuncCall.Funcname
		if len(f) > 0 {
			if s := f[len(f)-1].GetString_(); s != nil {
				return s.Sval, 2
			}
		}
	case *pg_query.Node_AExpr:
		switch x.AExpr.Kind {
		case pg_query.A_Expr_Kind_AEXPR_NULLIF:
			return "nullif", 2
		case pg_query.A_Expr_Kind_AEXPR_IN:
			return "", 0
		}
	case *pg_query.Node_TypeCast:
		name, strength := figure(x.TypeCast.Arg)
		if strength > 1 {
			return name, strength
		}
		if tn := x.TypeCast.TypeName; tn != nil && len(tn.Names) > 0 {
			if s := tn.Names[len(tn.Names)-1].GetString_(); s != nil {
				return s.Sval, 1
			}
		}
		return name, strength
	case *pg_query.Node_CollateClause:
		return figure(x.CollateClause.Arg)
	case *pg_query.Node_SubLink:
		switch x.SubLink.SubLinkType {
		case pg_query.SubLinkType_EXISTS_SUBLINK:
			return "exists", 2
		case pg_query.SubLinkType_ARRAY_SUBLINK:
			return "array", 2
		case pg_query.SubLinkType_EXPR_SUBLINK:
			if sel := x.SubLink.Subselect.GetSelectStmt(); sel != nil && len(sel.TargetList) == 1 {
				rt := sel.TargetList[0].GetResTarget()
				if rt != nil && rt.Name != "" {
					return rt.Name, 2
				}
				if rt != nil {
					return figure(rt.Val)
				}
			}
		}
	case *pg_query.Node_CaseExpr:
		if name, strength := figure(x.CaseExpr.Defresult); strength > 1 {
			return name, strength
		}
		return "case", 1
	case *pg_query.Node_AArrayExpr:
		return "array", 2
	case *pg_query.Node_RowExpr:
		return "row", 2
	case *pg_query.Node_CoalesceExpr:
		return "coalesce", 2
	case *pg_query.Node_MinMaxExpr:
		if x.MinMaxExpr.Op == pg_query.MinMaxOp_IS_GREATEST {
			return "greatest", 2
		}
		return "least", 2
	case *pg_query.Node_SqlvalueFunction:
		return sqlValueFunctionName(x.SqlvalueFunction.Op), 2
	case *pg_query.Node_XmlExpr:
		return "xmlexpr", 2
	case *pg_query.Node_GroupingFunc:
		return "grouping", 2
	}
	return "", 0
}

func sqlValueFunctionName(op pg_query.SQLValueFunctionOp) string {
	name := strings.TrimPrefix(op.String(), "SVFOP_")
	name = strings.TrimSuffix(strings.TrimSuffix(name, "_N"), "_N")
	return strings.ToLower(name)
}
