package pgcatalog

import (
	"fmt"
	"regexp"
	"strings"

	pg_query "github.com/pganalyze/pg_query_go/v6"
	"google.golang.org/protobuf/proto"

	"github.com/hopsql/hopsql/engine/pgtypes"
)

// Operators whose meaning depends on their operands' types. The rewriter
// sees no types: it rewrites `j @> '{"a":1}'` into JSON containment only
// when an operand visibly is JSON (a cast, a JSON function, a JSON
// literal). A jsonb column is not visible, and DuckDB, given the operator
// as it is, refuses to bind it — naming the operand types in its error.
// Retype reads that error and rewrites the one operator it points at, as
// PostgreSQL resolves it for those types; the engine prepares the result
// and repeats while DuckDB names another operator. A statement DuckDB binds
// is never touched.

var (
	noFuncRe  = regexp.MustCompile(`No function matches the given name and argument types '(\w+)\((.*)\)'`)
	noMatchRe = regexp.MustCompile(`No function matches the given name and argument types '([-!#%&*+/<=>?@^|~]+)\((.*)\)'`)
	concatRe  = regexp.MustCompile(`Cannot concatenate types (.+) and (.+?) - an explicit cast is required`)
)

// Retype rewrites, in the statement tree parsed from sql, the operator
// that DuckDB's binder error msg names, at byte offset off of sql (where
// DuckDB's caret points: the operator, or for || its right operand). It
// returns false when the error is not one it knows how to resolve.
func Retype(sql string, off int, msg string) (*pg_query.Node, bool) {
	if m := noFuncRe.FindStringSubmatch(msg); m != nil {
		return retypeCall(sql, off, m[1], splitTypes(m[2]))
	}
	var op string
	var types []string
	if m := noMatchRe.FindStringSubmatch(msg); m != nil {
		op, types = m[1], splitTypes(m[2])
	} else if m := concatRe.FindStringSubmatch(msg); m != nil {
		op, types = "||", []string{m[1], m[2]}
	} else {
		return nil, false
	}
	if len(types) != 2 {
		return nil, false
	}
	tree, err := pg_query.Parse(sql)
	if err != nil || len(tree.Stmts) != 1 {
		return nil, false
	}
	stmt := tree.Stmts[0].Stmt
	n := findOperator(stmt, op, int32(off))
	if n == nil {
		return nil, false
	}
	e := n.GetAExpr()
	lt, rt := types[0], types[1]
	r := &rewriter{}
	switch {
	case op == "||" && isListType(lt) != isListType(rt) && (isLiteral(e.Lexpr) || isLiteral(e.Rexpr)):
		// An untyped string beside an array is an array literal, of the
		// array's type: int[] || '{5}'.
		list, side := lt, &e.Rexpr
		if isListType(rt) {
			list, side = rt, &e.Lexpr
		}
		lit, ok := constString(*side)
		if !ok || !isLiteral(*side) {
			return nil, false
		}
		arr, _, err := ArrayLiteral(lit)
		if err != nil {
			return nil, false
		}
		cast, err := buildExpr("CAST($1 AS "+list+")", arr)
		if err != nil {
			return nil, false
		}
		*side = cast
		// list_concat skips a NULL array, as PostgreSQL's array_cat does.
		r.replace(n, makeFunc([]string{"list_concat"}, e.Lexpr, e.Rexpr))
	case op == "||" && isListType(lt) && !isListType(rt):
		r.replace(n, makeFunc([]string{"list_append"}, e.Lexpr, e.Rexpr))
	case op == "||" && !isListType(lt) && isListType(rt):
		r.replace(n, makeFunc([]string{"list_prepend"}, e.Lexpr, e.Rexpr))
	case (op == "@>" || op == "<@") && (lt == "JSON" && textual(rt) || rt == "JSON" && textual(lt)),
		op == "-" && lt == "JSON" && (textual(rt) || integral(rt) || rt == "VARCHAR[]"):
		// Now visibly JSON, the operand takes the JSON operator's rewrite.
		if lt == "JSON" {
			e.Lexpr = makeCast(e.Lexpr, typeName("json", false), -1)
		}
		if rt == "JSON" {
			e.Rexpr = makeCast(e.Rexpr, typeName("json", false), -1)
		}
		if !r.jsonOperator(n, e, op) {
			return nil, false
		}
	case op == "-" && lt == "TIME" && rt == "TIME":
		// time - time is an interval; DuckDB subtracts timestamps only.
		r.replaceWith(n, "(DATE '2000-01-01' + $1) - (DATE '2000-01-01' + $2)", e.Lexpr, e.Rexpr)
	default:
		return nil, false
	}
	if r.err != nil || !r.changed {
		return nil, false
	}
	return stmt, true
}

// splitTypes splits DuckDB's list of argument types at the top-level
// commas (DECIMAL(18,3) and STRUCT(a INTEGER, b VARCHAR) hold their own).
func splitTypes(s string) []string {
	var out []string
	depth, start := 0, 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '(':
			depth++
		case ')':
			depth--
		case ',':
			if depth == 0 {
				out = append(out, strings.TrimSpace(s[start:i]))
				start = i + 1
			}
		}
	}
	return append(out, strings.TrimSpace(s[start:]))
}

func isListType(t string) bool { return strings.HasSuffix(t, "[]") }

// textual: a type jsonb's operators take as jsonb (PostgreSQL reads an
// unknown literal as jsonb).
func textual(t string) bool { return t == "JSON" || t == "VARCHAR" || t == "STRING_LITERAL" }

func integral(t string) bool {
	switch t {
	case "INTEGER_LITERAL", "TINYINT", "SMALLINT", "INTEGER", "BIGINT":
		return true
	}
	return false
}

// findOperator finds the binary operator op that DuckDB's caret at off
// points to: at the operator itself, or at one of its operands; failing
// that, the statement's only such operator.
func findOperator(stmt *pg_query.Node, op string, off int32) *pg_query.Node {
	var exact, near, all []*pg_query.Node
	Walk(stmt, func(n *pg_query.Node) bool {
		e := n.GetAExpr()
		if e == nil || e.Kind != pg_query.A_Expr_Kind_AEXPR_OP || len(e.Name) != 1 || e.Lexpr == nil || e.Rexpr == nil ||
			e.Name[0].GetString_().GetSval() != op {
			return true
		}
		all = append(all, n)
		switch {
		case e.Location == off:
			exact = append(exact, n)
		case startsAt(e.Lexpr, off) || startsAt(e.Rexpr, off):
			near = append(near, n)
		}
		return true
	})
	for _, c := range [][]*pg_query.Node{exact, near, all} {
		if len(c) == 1 {
			return c[0]
		}
	}
	return nil
}

// startsAt reports whether an expression's text begins at off, as far as
// the parser recorded it: a cast at its operand or its :: or CAST, an
// operator at its left operand or the operator itself.
func startsAt(n *pg_query.Node, off int32) bool {
	switch x := n.GetNode().(type) {
	case *pg_query.Node_ColumnRef:
		return x.ColumnRef.Location == off
	case *pg_query.Node_AConst:
		return x.AConst.Location == off
	case *pg_query.Node_TypeCast:
		return x.TypeCast.Location == off || startsAt(x.TypeCast.Arg, off)
	case *pg_query.Node_FuncCall:
		return x.FuncCall.Location == off
	case *pg_query.Node_ParamRef:
		return x.ParamRef.Location == off
	case *pg_query.Node_AExpr:
		return x.AExpr.Location == off || x.AExpr.Lexpr != nil && startsAt(x.AExpr.Lexpr, off)
	case *pg_query.Node_AArrayExpr:
		return x.AArrayExpr.Location == off
	case *pg_query.Node_CaseExpr:
		return x.CaseExpr.Location == off
	case *pg_query.Node_CoalesceExpr:
		return x.CoalesceExpr.Location == off
	}
	return false
}

// RetypeParam handles DuckDB's refusal of an operator one of whose
// operands is a parameter hopsql cast to text because DuckDB could not
// infer its type (`$1::int + $2`: DuckDB leaves $2 unresolved, and text
// is PostgreSQL's last resort). PostgreSQL gives an unknown operand the
// other operand's type, so the cast becomes that type, which is returned
// (as DuckDB names it) with the parameter's number.
func RetypeParam(sql string, off int, msg string) (tree *pg_query.Node, param int32, duckType string, ok bool) {
	m := noMatchRe.FindStringSubmatch(msg)
	if m == nil {
		return nil, 0, "", false
	}
	types := splitTypes(m[2])
	if len(types) != 2 {
		return nil, 0, "", false
	}
	parsed, err := pg_query.Parse(sql)
	if err != nil || len(parsed.Stmts) != 1 {
		return nil, 0, "", false
	}
	stmt := parsed.Stmts[0].Stmt
	n := findOperator(stmt, m[1], int32(off))
	if n == nil {
		return nil, 0, "", false
	}
	e := n.GetAExpr()
	for i, side := range []*pg_query.Node{e.Lexpr, e.Rexpr} {
		tc := side.GetTypeCast()
		if tc == nil || tc.Arg.GetParamRef() == nil || types[i] != "VARCHAR" {
			continue
		}
		if _, name := typeNameParts(tc.TypeName); name != "varchar" {
			continue
		}
		other := types[1-i]
		switch other {
		case "INTEGER_LITERAL":
			other = "INTEGER"
		case "VARCHAR", "STRING_LITERAL":
			return nil, 0, "", false
		}
		if strings.HasSuffix(other, "_LITERAL") || strings.ContainsAny(other, "'\";") {
			return nil, 0, "", false
		}
		if strings.HasPrefix(other, "DECIMAL") {
			// numeric and an unknown: unconstrained numeric, not the other
			// operand's precision and scale.
			other = fmt.Sprintf("DECIMAL(%d,%d)", pgtypes.UnconstrainedNumericWidth, pgtypes.UnconstrainedNumericScale)
		}
		cast, err := buildExpr("CAST($1 AS "+other+")", tc.Arg)
		if err != nil || cast.GetTypeCast() == nil {
			return nil, 0, "", false
		}
		tc.TypeName = cast.GetTypeCast().TypeName
		return stmt, tc.Arg.GetParamRef().Number, other, true
	}
	return nil, 0, "", false
}

// retypeCall rewrites the call of fn DuckDB could not bind for the
// argument types it names. sum(interval): PostgreSQL adds the months, days
// and microseconds of intervals separately (1 day + 25 hours is 1 day
// 25:00:00); DuckDB has no sum of intervals, so the three parts are
// summed — with the call's DISTINCT, FILTER and OVER — and put together.
func retypeCall(sql string, off int, fn string, types []string) (*pg_query.Node, bool) {
	if fn != "sum" || len(types) != 1 || types[0] != "INTERVAL" {
		return nil, false
	}
	tree, err := pg_query.Parse(sql)
	if err != nil || len(tree.Stmts) != 1 {
		return nil, false
	}
	stmt := tree.Stmts[0].Stmt
	var call *pg_query.Node
	Walk(stmt, func(n *pg_query.Node) bool {
		if fc := n.GetFuncCall(); fc != nil && fc.Location == int32(off) && len(fc.Args) == 1 {
			if _, name, _ := funcName(fc); name == fn {
				call = n
			}
		}
		return true
	})
	if call == nil || call.GetFuncCall().AggDistinct {
		// DISTINCT applies to whole intervals, not to their parts.
		return nil, false
	}
	parts := []string{
		"datepart('year', $1) * 12 + datepart('month', $1)",
		"datepart('day', $1)",
		"datepart('hour', $1) * 3600000000 + datepart('minute', $1) * 60000000 + datepart('microseconds', $1)",
	}
	var sums []*pg_query.Node
	for _, p := range parts {
		arg, err := buildExpr(p, call.GetFuncCall().Args[0])
		if err != nil {
			return nil, false
		}
		sum := proto.Clone(call).(*pg_query.Node)
		sum.GetFuncCall().Args = []*pg_query.Node{arg}
		sums = append(sums, sum)
	}
	r := &rewriter{}
	r.replaceWith(call, "to_months(CAST($1 AS INTEGER)) + to_days(CAST($2 AS INTEGER)) + to_microseconds(CAST($3 AS BIGINT))", sums...)
	if r.err != nil {
		return nil, false
	}
	return stmt, true
}
