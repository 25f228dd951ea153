package engine

import (
	"context"
	"math"

	pg_query "github.com/pganalyze/pg_query_go/v6"
	"google.golang.org/protobuf/proto"
)

// Point lookups sent as simple queries with their key in the text —
// `SELECT … FROM t WHERE id = 42`, which is how psycopg2 sends every
// query, interpolating its parameters — differ in text each time, so each
// would be parsed, rewritten and prepared on DuckDB anew: about 0.4 ms,
// where the lookup itself is answered from memory (pointlookup.go) in a
// few microseconds. Such a statement is prepared once with its constants
// as parameters ($1, $2, …) and kept under that text; the next query of
// the same shape binds its own constants to it.
//
// Only a lookup's shape is parameterized: one plain table, an AND of
// `column = constant`, integer and string constants whose parameter DuckDB
// types as the constant would be (an integer column for an integer that
// fits it, a text column for a string), so the statement means what the
// text means. Anything else is prepared as written.

// maxLiteralStatements bounds the statements a session keeps this way.
const maxLiteralStatements = 256

// literalStatement is a kept parameterized lookup.
type literalStatement struct {
	st  *Statement
	ddl uint64 // Engine.ddlGen when prepared: DDL may change what it means
	gen uint64 // the session's setGen when prepared
}

// literalLookup returns a lookup with its constants turned into
// parameters (a copy of raw), the constants, and the parameterized text;
// false when raw is not such a lookup.
func literalLookup(raw *pg_query.RawStmt) (*pg_query.RawStmt, []any, string, bool) {
	sel := raw.Stmt.GetSelectStmt()
	if sel == nil || sel.WithClause != nil || len(sel.FromClause) != 1 || sel.FromClause[0].GetRangeVar() == nil ||
		sel.WhereClause == nil || len(sel.ValuesLists) > 0 || sel.Op != pg_query.SetOperation_SETOP_NONE {
		return nil, nil, "", false
	}
	c := proto.Clone(raw).(*pg_query.RawStmt)
	where := c.Stmt.GetSelectStmt().WhereClause
	conds := []*pg_query.Node{where}
	if be := where.GetBoolExpr(); be != nil {
		if be.Boolop != pg_query.BoolExprType_AND_EXPR {
			return nil, nil, "", false
		}
		conds = be.Args
	}
	var vals []any
	for _, cond := range conds {
		ae := cond.GetAExpr()
		if ae == nil || ae.Kind != pg_query.A_Expr_Kind_AEXPR_OP || len(ae.Name) != 1 || ae.Name[0].GetString_().GetSval() != "=" ||
			ae.Lexpr.GetColumnRef() == nil {
			return nil, nil, "", false
		}
		ac := ae.Rexpr.GetAConst()
		if ac == nil || ac.Isnull {
			return nil, nil, "", false
		}
		switch {
		case ac.GetIval() != nil:
			vals = append(vals, int64(ac.GetIval().Ival))
		case ac.GetSval() != nil:
			vals = append(vals, ac.GetSval().Sval)
		default:
			return nil, nil, "", false
		}
		ae.Rexpr = &pg_query.Node{Node: &pg_query.Node_ParamRef{ParamRef: &pg_query.ParamRef{Number: int32(len(vals)), Location: -1}}}
	}
	text, err := deparse(c.Stmt)
	if err != nil {
		return nil, nil, "", false
	}
	return c, vals, text, true
}

// prepareLiteral returns the kept statement for a lookup with constants,
// preparing it if need be, and the constants to bind; nil when the
// statement must be prepared as written.
func (s *Session) prepareLiteral(ctx context.Context, raw *pg_query.RawStmt) (*Statement, []any, error) {
	c, vals, text, ok := literalLookup(raw)
	if !ok {
		return nil, nil, nil
	}
	ddl := s.e.ddlGen.Load()
	if k, ok := s.literals[text]; ok {
		if k.ddl == ddl && k.gen == s.setGen && !k.st.closed && literalTypesFit(k.st.ParamOIDs, vals) {
			return k.st, vals, nil
		}
		s.dropLiteral(text)
	}
	st, err := s.prepare(ctx, text, c, nil)
	if err != nil {
		// Reported as written: prepared again from the text as sent.
		return nil, nil, nil
	}
	if st.pointLookup == nil || st.kind != kindDuck || !literalTypesFit(st.ParamOIDs, vals) {
		st.close()
		return nil, nil, nil
	}
	if len(s.literals) >= maxLiteralStatements {
		for t := range s.literals {
			s.dropLiteral(t)
			break
		}
	}
	st.cached = true // not closed as the unnamed statement is replaced
	s.literals[text] = literalStatement{st: st, ddl: ddl, gen: s.setGen}
	return st, vals, nil
}

func (s *Session) dropLiteral(text string) {
	k := s.literals[text]
	delete(s.literals, text)
	k.st.cached = false
	if cur, ok := s.named[""]; !ok || cur != k.st {
		k.st.close() // else when the unnamed statement is replaced
	}
}

// dropLiterals forgets every kept lookup (DISCARD ALL, Close).
func (s *Session) dropLiterals() {
	for text := range s.literals {
		s.dropLiteral(text)
	}
}

// literalArgs converts a lookup's constants to the Go types the wire
// layer decodes its parameters' types to.
func literalArgs(oids []uint32, vals []any) []any {
	out := make([]any, len(vals))
	for i, v := range vals {
		out[i] = v
		if x, ok := v.(int64); ok {
			switch oids[i] {
			case 23:
				out[i] = int32(x)
			case 21:
				out[i] = int16(x)
			}
		}
	}
	return out
}

// literalTypesFit: each constant is of the kind its parameter was typed,
// and an integer fits its parameter's type.
func literalTypesFit(oids []uint32, vals []any) bool {
	if len(oids) != len(vals) {
		return false
	}
	for i, v := range vals {
		switch x := v.(type) {
		case int64:
			switch oids[i] {
			case 20:
			case 23:
				if x < math.MinInt32 || x > math.MaxInt32 {
					return false
				}
			case 21:
				if x < math.MinInt16 || x > math.MaxInt16 {
					return false
				}
			default:
				return false
			}
		case string:
			if oids[i] != 25 && oids[i] != 1043 {
				return false
			}
		default:
			return false
		}
	}
	return true
}
