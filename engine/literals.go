package engine

import (
	"context"
	"math"
	"strconv"
	"strings"

	pg_query "github.com/pganalyze/pg_query_go/v6"
	"google.golang.org/protobuf/proto"

	"github.com/hopsql/hopsql/engine/pgerr"
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
	// param replaces a constant by the next parameter; false when it is
	// not an integer or a string.
	param := func(n *pg_query.Node) (*pg_query.Node, bool) {
		ac := n.GetAConst()
		switch {
		case ac == nil || ac.Isnull:
			return nil, false
		case ac.GetIval() != nil:
			vals = append(vals, int64(ac.GetIval().Ival))
		case ac.GetSval() != nil:
			vals = append(vals, ac.GetSval().Sval)
		default:
			return nil, false
		}
		return &pg_query.Node{Node: &pg_query.Node_ParamRef{ParamRef: &pg_query.ParamRef{Number: int32(len(vals)), Location: -1}}}, true
	}
	for _, cond := range conds {
		ae := cond.GetAExpr()
		if ae == nil || len(ae.Name) != 1 || ae.Name[0].GetString_().GetSval() != "=" || ae.Lexpr.GetColumnRef() == nil {
			return nil, nil, "", false
		}
		switch ae.Kind {
		case pg_query.A_Expr_Kind_AEXPR_OP:
			p, ok := param(ae.Rexpr)
			if !ok {
				return nil, nil, "", false
			}
			ae.Rexpr = p
		case pg_query.A_Expr_Kind_AEXPR_IN: // k IN (1, 2, 3)
			list := ae.Rexpr.GetList()
			if list == nil || len(list.Items) == 0 {
				return nil, nil, "", false
			}
			for i, it := range list.Items {
				p, ok := param(it)
				if !ok {
					return nil, nil, "", false
				}
				list.Items[i] = p
			}
		default:
			return nil, nil, "", false
		}
	}
	text, err := deparse(c.Stmt)
	if err != nil {
		return nil, nil, "", false
	}
	return c, vals, text, true
}

// prepareLiteral returns the kept statement for a lookup with constants,
// preparing it if need be, and the values to bind; nil when the
// statement must be prepared as written.
func (s *Session) prepareLiteral(ctx context.Context, raw *pg_query.RawStmt) (*Statement, []any, error) {
	c, vals, text, ok := literalLookup(raw)
	if !ok {
		return nil, nil, nil
	}
	ddl := s.e.ddlGen.Load()
	if k, ok := s.literals[text]; ok {
		if k.ddl == ddl && k.gen == s.setGen && !k.st.closed {
			args, ok, err := literalValues(k.st.ParamOIDs, vals)
			if err != nil || !ok {
				return nil, nil, err
			}
			return k.st, args, nil
		}
		s.dropLiteral(text)
	}
	st, err := s.prepare(ctx, text, c, nil)
	if err != nil {
		// Reported as written: prepared again from the text as sent.
		return nil, nil, nil
	}
	if st.pointLookup == nil || st.kind != kindDuck {
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
	args, ok, err := literalValues(st.ParamOIDs, vals)
	if err != nil || !ok {
		return nil, nil, err
	}
	return st, args, nil
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

// digitsInt reads a string of decimal digits, with an optional minus
// sign and nothing else, as an integer.
func digitsInt(s string) (int64, bool) {
	d := strings.TrimPrefix(s, "-")
	if d == "" || len(d) > 18 || strings.TrimLeft(d, "0123456789") != "" {
		return 0, false
	}
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil
}

// literalArgs converts a lookup's constants to the Go types the wire
// layer decodes its parameters' types to (literalTypesFit has checked
// they fit).
func literalArgs(oids []uint32, vals []any) []any {
	out := make([]any, len(vals))
	for i, v := range vals {
		out[i] = v
		if str, ok := v.(string); ok && oids[i] != 25 && oids[i] != 1043 {
			v, _ = digitsInt(str)
			out[i] = v
		}
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

// literalValues makes the parameter values of a lookup's constants, of
// the Go types the wire layer decodes the parameters' types to. ok is
// false when a constant is not of the kind its parameter was typed, or
// is an integer out of its parameter's range (PostgreSQL then compares
// across types; DuckDB decides as written). A string compared with an
// integer column ('42', as pgx's simple protocol sends every argument)
// is an untyped literal that PostgreSQL reads as the column's type: it
// is read so here, with int2in/int4in/int8in's errors (err).
func literalValues(oids []uint32, vals []any) (args []any, ok bool, err error) {
	if len(oids) != len(vals) {
		return nil, false, nil
	}
	args = make([]any, len(vals))
	for i, v := range vals {
		oid := oids[i]
		switch x := v.(type) {
		case string:
			switch oid {
			case 25, 1043:
				args[i] = x
				continue
			case 20, 23, 21:
				n, err := pgIntIn(x, oid)
				if err != nil {
					return nil, false, err
				}
				v = n
			default:
				return nil, false, nil
			}
		}
		n, isInt := v.(int64)
		switch {
		case !isInt:
			return nil, false, nil
		case oid == 20:
			args[i] = n
		case oid == 23 && n >= math.MinInt32 && n <= math.MaxInt32:
			args[i] = int32(n)
		case oid == 21 && n >= math.MinInt16 && n <= math.MaxInt16:
			args[i] = int16(n)
		default:
			return nil, false, nil
		}
	}
	return args, true, nil
}

// pgIntIn reads text as PostgreSQL's integer input functions do:
// surrounding white space, an optional sign, decimal digits.
func pgIntIn(s string, oid uint32) (int64, error) {
	name := map[uint32]string{20: "bigint", 23: "integer", 21: "smallint"}[oid]
	t := strings.Trim(s, " \t\n\r\v\f")
	d := strings.TrimLeft(t, "+-")
	if len(t)-len(d) > 1 || d == "" || strings.TrimLeft(d, "0123456789") != "" {
		return 0, pgerr.New(pgerr.InvalidTextRepresentation, "invalid input syntax for type %s: \"%s\"", name, s)
	}
	n, err := strconv.ParseInt(strings.TrimPrefix(t, "+"), 10, 64)
	if err != nil || oid == 23 && (n < math.MinInt32 || n > math.MaxInt32) || oid == 21 && (n < math.MinInt16 || n > math.MaxInt16) {
		return 0, pgerr.New(pgerr.NumericValueOutOfRange, "value \"%s\" is out of range for type %s", s, name)
	}
	return n, nil
}
