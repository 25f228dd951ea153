package engine

import (
	"context"
	"fmt"
	"strings"

	"github.com/duckdb/duckdb-go/v2"
	"github.com/jackc/pgx/v5/pgtype"
	pg_query "github.com/pganalyze/pg_query_go/v6"

	"github.com/hopsql/hopsql/engine/pgtypes"
)

// JSON results as text. duckdb-go hands JSON values over decoded
// (json.Unmarshal): a JSON null became SQL NULL, every number a float64
// (9007199254740993 lost its last digit, 1.0 became 1), and objects Go maps
// without their key order. DuckDB keeps JSON as the text it was given, as
// PostgreSQL's json does; so a statement with JSON result columns is read
// through a projection that casts them to VARCHAR, and the wire prints the
// text (json) or normalizes it as jsonb_out would (jsonb).

// jsonTextColumns lists the result columns of DuckDB's JSON type (not
// nested: a LIST or STRUCT holding JSON keeps the decoded path).
func jsonTextColumns(types []duckdb.TypeInfo) []int {
	var cols []int
	for i, ti := range types {
		if ti != nil && ti.InternalType() == duckdb.TYPE_VARCHAR && strings.EqualFold(ti.Alias(), "JSON") {
			cols = append(cols, i)
		}
	}
	return cols
}

// readJSONAsText re-prepares a SELECT with JSON result columns so that
// they arrive as text, and returns the statement to run and those columns.
// A statement the projection cannot wrap keeps the decoded path.
func (s *Session) readJSONAsText(ctx context.Context, st *Statement, stmt *duckdb.Stmt, types []duckdb.TypeInfo) (*duckdb.Stmt, []int) {
	cols := jsonTextColumns(types)
	if len(cols) == 0 {
		return stmt, nil
	}
	if t, err := stmt.StatementType(); err != nil || t != duckdb.STATEMENT_TYPE_SELECT {
		return stmt, nil
	}
	text := make([]bool, len(types))
	for _, i := range cols {
		text[i] = true
	}
	inner := strings.TrimRight(strings.TrimSpace(st.duckSQL), "; \t\r\n")
	var b strings.Builder
	b.WriteString("SELECT ")
	for i := range types {
		if i > 0 {
			b.WriteString(", ")
		}
		if text[i] {
			fmt.Fprintf(&b, "CAST(hopsql_c%d AS VARCHAR)", i+1)
		} else {
			fmt.Fprintf(&b, "hopsql_c%d", i+1)
		}
	}
	// Newlines: the statement may end in a -- comment.
	b.WriteString(" FROM (\n")
	b.WriteString(inner)
	b.WriteString("\n) AS hopsql_json_text(")
	for i := range types {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "hopsql_c%d", i+1)
	}
	b.WriteString(")")
	ds, err := s.conn.PrepareContext(ctx, b.String())
	if err != nil {
		return stmt, nil
	}
	wrapped := ds.(*duckdb.Stmt)
	if n, err := wrapped.ColumnCount(); err != nil || n != len(types) || wrapped.NumInput() != stmt.NumInput() {
		wrapped.Close()
		return stmt, nil
	}
	stmt.Close()
	st.duckSQL = b.String()
	return wrapped, cols
}

// jsonbTargets marks the targets (as targetNames lists them) that are
// visibly jsonb in PostgreSQL: DuckDB has one JSON type, reported as json.
// A column declared jsonb is known from the catalog (resolveSources); an
// expression only by its form.
func jsonbTargets(n *pg_query.Node) []bool {
	targets, _ := resultTargets(n)
	var out []bool
	for i, t := range targets {
		if rt := t.GetResTarget(); rt != nil && isJSONBExpr(rt.Val) {
			if out == nil {
				out = make([]bool, len(targets))
			}
			out[i] = true
		}
	}
	return out
}

// isJSONBExpr: a cast to jsonb, a jsonb_… or to_jsonb function, an
// operator only jsonb has (-, #-, ||), -> or #> on a jsonb expression, CASE
// or COALESCE over one. Applied only to
// columns DuckDB types JSON, so jsonb_typeof and the like (text in DuckDB
// too) are not affected.
func isJSONBExpr(n *pg_query.Node) bool {
	switch x := n.GetNode().(type) {
	case *pg_query.Node_TypeCast:
		tn := x.TypeCast.GetTypeName()
		names := tn.GetNames()
		return len(names) > 0 && len(tn.GetArrayBounds()) == 0 && names[len(names)-1].GetString_().GetSval() == "jsonb"
	case *pg_query.Node_FuncCall:
		names := x.FuncCall.GetFuncname()
		if len(names) == 0 {
			return false
		}
		name := names[len(names)-1].GetString_().GetSval()
		return strings.HasPrefix(name, "jsonb_") || name == "to_jsonb"
	case *pg_query.Node_AExpr:
		e := x.AExpr
		if e.Kind != pg_query.A_Expr_Kind_AEXPR_OP || len(e.Name) != 1 {
			return false
		}
		switch e.Name[0].GetString_().GetSval() {
		case "->", "#>":
			return e.Lexpr != nil && isJSONBExpr(e.Lexpr)
		case "-", "#-", "||":
			// json has none of these: a JSON result is jsonb.
			return true
		}
	case *pg_query.Node_CoalesceExpr:
		for _, a := range x.CoalesceExpr.Args {
			if isJSONBExpr(a) {
				return true
			}
		}
	case *pg_query.Node_CaseExpr:
		for _, w := range x.CaseExpr.Args {
			if isJSONBExpr(w.GetCaseWhen().GetResult()) {
				return true
			}
		}
		return x.CaseExpr.Defresult != nil && isJSONBExpr(x.CaseExpr.Defresult)
	}
	return false
}

// markJSONB gives the visibly jsonb JSON columns the jsonb type, and
// columns cast to a type DuckDB does not keep (varchar(n), char(n)) that
// type.
func markJSONB(st *Statement) {
	if st.jsonb != nil {
		flags := overTargets(st.names, st.jsonb, make([]bool, len(st.Fields)))
		for i, on := range flags {
			if on && i < len(st.Fields) && st.Fields[i].Type.OID == pgtype.JSONOID {
				st.Fields[i].Type.OID = pgtype.JSONBOID
			}
		}
	}
	if st.castTypes != nil {
		types := overTargets(st.names, st.castTypes, make([]pgtypes.Type, len(st.Fields)))
		for i, t := range types {
			if t.OID != 0 && i < len(st.Fields) {
				declaredOver(&st.Fields[i].Type, t)
			}
		}
	}
}

// castTypes lists, per target (as targetNames lists them), the declared
// type of a top-level cast to a type DuckDB keeps only in part
// ('x'::varchar(3) is character varying(3)); nil when there is none.
func castTypes(n *pg_query.Node, sql string) []pgtypes.Type {
	targets, _ := resultTargets(n)
	var out []pgtypes.Type
	for i, t := range targets {
		tc := t.GetResTarget().GetVal().GetTypeCast()
		if tc == nil {
			continue
		}
		if d, ok := declaredType(declaredPG(tc.TypeName, sql)); ok {
			if out == nil {
				out = make([]pgtypes.Type, len(targets))
			}
			out[i] = d
		}
	}
	return out
}

// markJSONText marks the columns read as text (after resolveSources,
// which may give a column its declared jsonb type).
func markJSONText(st *Statement, cols []int) {
	for _, i := range cols {
		if t := &st.Fields[i].Type; t.OID == pgtype.JSONOID || t.OID == pgtype.JSONBOID {
			t.JSONText = true
		}
	}
}
