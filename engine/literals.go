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
// would be parsed, rewritten and prepared on DuckDB anew, most of the
// lookup's cost when memory answers it (pointlookup.go; bench (b) has the
// rates with the key in the text). Such a statement is prepared once with its constants
// as parameters ($1, $2, …) and kept under that text; the next query of
// the same shape binds its own constants to it.
//
// UPDATE and DELETE by key (`UPDATE t SET n = 3 WHERE id = 42`, psycopg2's
// executemany) are kept the same way; there DuckDB's execution on the
// carrier costs more than the prepare saved, so the gain is smaller.
//
// Only these shapes are parameterized (literalSlots): one table, an AND
// of `column = constant` or `column IN (constants)`, integer and string
// constants whose parameter DuckDB types as the constant would be (an
// integer column for an integer that fits it, a text column for a
// string; a string compared with or assigned to an integer column is
// read as PostgreSQL reads it), so the statement means what the text
// means. Anything else is prepared as written.

// maxLiteralStatements bounds the statements a session keeps this way.
const maxLiteralStatements = 256

// literalStatement is a kept parameterized lookup.
type literalStatement struct {
	st  *Statement // nil: the shape was tried and is not kept (keptShape)
	ddl uint64     // Engine.ddlGen when prepared: DDL may change what it means
	gen uint64     // the session's setGen when prepared
}

// literalLookup returns a statement's constants and its text with each
// constant replaced by its parameter ($1, $2, …), the key it is kept
// under; false when raw is not of a kept shape (literalSlots). src is
// the text raw's locations index. The text is made from the constants'
// spans in src, not deparsed (that would cost more than the rest of a
// lookup), so it is only made when every span is plain: an integer, or a
// string in single quotes.
func literalLookup(raw *pg_query.RawStmt, src string) ([]any, string, bool) {
	slots, ok := literalSlots(raw)
	if !ok {
		return nil, "", false
	}
	start, stop := int(raw.StmtLocation), int(raw.StmtLocation+raw.StmtLen)
	if raw.StmtLen == 0 {
		stop = len(src)
	}
	if start < 0 || stop > len(src) {
		return nil, "", false
	}
	vals := make([]any, len(slots))
	var b strings.Builder
	at := start
	for i, slot := range slots {
		ac := (*slot).GetAConst()
		v, ok := constValue(*slot)
		if !ok {
			return nil, "", false
		}
		loc := int(ac.Location)
		end, ok := constSpan(src, loc)
		if !ok || loc < at || end > stop {
			return nil, "", false
		}
		vals[i] = v
		b.WriteString(src[at:loc])
		b.WriteString("$" + strconv.Itoa(i+1))
		at = end
	}
	b.WriteString(src[at:stop])
	return vals, strings.TrimSpace(b.String()), true
}

// parameterized is a copy of a statement (literalLookup) with its
// constants replaced by parameters, in the same order.
func parameterized(raw *pg_query.RawStmt) *pg_query.RawStmt {
	c := proto.Clone(raw).(*pg_query.RawStmt)
	slots, _ := literalSlots(c)
	for i, slot := range slots {
		*slot = &pg_query.Node{Node: &pg_query.Node_ParamRef{ParamRef: &pg_query.ParamRef{Number: int32(i + 1), Location: -1}}}
	}
	return c
}

// literalSlots finds the constants a kept statement takes as parameters,
// in text order, and says whether raw has a kept shape:
//
//   - SELECT … FROM one_table WHERE conds: a lookup;
//   - UPDATE one_table SET … WHERE conds (each SET to an integer or string
//     constant is a parameter too; other SET expressions stay as written);
//   - DELETE FROM one_table WHERE conds;
//
// where conds is an AND of `column = constant` and `column IN
// (constants)`, with integer and string constants only.
func literalSlots(raw *pg_query.RawStmt) ([]**pg_query.Node, bool) {
	var slots []**pg_query.Node
	var where *pg_query.Node
	switch n := raw.Stmt.Node.(type) {
	case *pg_query.Node_SelectStmt:
		sel := n.SelectStmt
		if sel.WithClause != nil || len(sel.FromClause) != 1 || sel.FromClause[0].GetRangeVar() == nil ||
			len(sel.ValuesLists) > 0 || sel.Op != pg_query.SetOperation_SETOP_NONE {
			return nil, false
		}
		where = sel.WhereClause
	case *pg_query.Node_UpdateStmt:
		u := n.UpdateStmt
		if u.WithClause != nil || len(u.FromClause) > 0 || len(u.ReturningList) > 0 {
			return nil, false
		}
		for _, t := range u.TargetList {
			rt := t.GetResTarget()
			if rt == nil || len(rt.Indirection) > 0 {
				return nil, false
			}
			if _, ok := constValue(rt.Val); ok {
				slots = append(slots, &rt.Val)
			}
		}
		where = u.WhereClause
	case *pg_query.Node_DeleteStmt:
		d := n.DeleteStmt
		if d.WithClause != nil || len(d.UsingClause) > 0 || len(d.ReturningList) > 0 {
			return nil, false
		}
		where = d.WhereClause
	default:
		return nil, false
	}
	if where == nil {
		return nil, false
	}
	conds := []*pg_query.Node{where}
	if be := where.GetBoolExpr(); be != nil {
		if be.Boolop != pg_query.BoolExprType_AND_EXPR {
			return nil, false
		}
		conds = be.Args
	}
	for _, cond := range conds {
		ae := cond.GetAExpr()
		if ae == nil || len(ae.Name) != 1 || ae.Name[0].GetString_().GetSval() != "=" || ae.Lexpr.GetColumnRef() == nil {
			return nil, false
		}
		switch ae.Kind {
		case pg_query.A_Expr_Kind_AEXPR_OP:
			if _, ok := constValue(ae.Rexpr); !ok {
				return nil, false
			}
			slots = append(slots, &ae.Rexpr)
		case pg_query.A_Expr_Kind_AEXPR_IN: // k IN (1, 2, 3)
			list := ae.Rexpr.GetList()
			if list == nil || len(list.Items) == 0 {
				return nil, false
			}
			for i := range list.Items {
				if _, ok := constValue(list.Items[i]); !ok {
					return nil, false
				}
				slots = append(slots, &list.Items[i])
			}
		default:
			return nil, false
		}
	}
	return slots, true
}

// constValue is an integer or string constant's value.
func constValue(n *pg_query.Node) (any, bool) {
	ac := n.GetAConst()
	switch {
	case ac == nil || ac.Isnull:
		return nil, false
	case ac.GetIval() != nil:
		return int64(ac.GetIval().Ival), true
	case ac.GetSval() != nil:
		return ac.GetSval().Sval, true
	}
	return nil, false
}

// constSpan finds where the constant starting at loc ends: an integer
// (a minus sign, digits) or a string in single quotes (” inside).
func constSpan(src string, loc int) (int, bool) {
	if loc < 0 || loc >= len(src) {
		return 0, false
	}
	i := loc
	if src[i] == '\'' {
		for i++; i < len(src); i++ {
			if src[i] != '\'' {
				continue
			}
			if i+1 < len(src) && src[i+1] == '\'' {
				i++
				continue
			}
			return i + 1, true
		}
		return 0, false
	}
	if src[i] == '-' {
		i++
	}
	j := i
	for j < len(src) && src[j] >= '0' && src[j] <= '9' {
		j++
	}
	if j == i || j < len(src) && (src[j] == '.' || src[j] == '_' || src[j] == 'e' || src[j] == 'E' ||
		src[j] >= 'a' && src[j] <= 'z' || src[j] >= 'A' && src[j] <= 'Z') {
		return 0, false
	}
	return j, true
}

// prepareLiteral returns the kept statement for a lookup with constants,
// preparing it if need be, and the values to bind; nil when the
// statement must be prepared as written.
func (s *Session) prepareLiteral(ctx context.Context, raw *pg_query.RawStmt, src string) (*Statement, []any, error) {
	if !s.snapshotCurrent() {
		// DDL ran or ended since this transaction began: what it sees may
		// differ from what the kept statements were prepared against.
		return nil, nil, nil
	}
	vals, text, ok := literalLookup(raw, src)
	if !ok {
		return nil, nil, nil
	}
	ddl := s.e.ddlGen.Load()
	if k, ok := s.literals[text]; ok {
		if k.ddl == ddl && k.gen == s.setGen && k.st == nil {
			return nil, nil, nil // not a kept shape: prepared as written
		}
		if k.ddl == ddl && k.gen == s.setGen && !k.st.closed {
			args, ok, err := literalValues(k.st.ParamOIDs, vals)
			if err != nil || !ok {
				return nil, nil, err
			}
			return k.st, args, nil
		}
		s.dropLiteral(text)
	}
	st, err := s.prepare(ctx, text, parameterized(raw), nil)
	if err != nil {
		// Reported as written: prepared again from the text as sent.
		return nil, nil, nil
	}
	if len(s.literals) >= maxLiteralStatements {
		for t := range s.literals {
			s.dropLiteral(t)
			break
		}
	}
	if st.kind != kindDuck || !keptShape(st) || !keptParamTypes(st.ParamOIDs) {
		// Remembered, so the next statement of this shape is not
		// prepared twice.
		st.close()
		s.literals[text] = literalStatement{ddl: ddl, gen: s.setGen}
		return nil, nil, nil
	}
	st.cached, st.literal = true, true // not closed as the unnamed statement is replaced
	s.literals[text] = literalStatement{st: st, ddl: ddl, gen: s.setGen}
	args, ok, err := literalValues(st.ParamOIDs, vals)
	if err != nil || !ok {
		return nil, nil, err
	}
	return st, args, nil
}

// keptParamTypes: every parameter is of a type literalValues can fill
// (an integer or a text type); others (a string SET into an array or date
// column) never fit, whatever the constants.
func keptParamTypes(oids []uint32) bool {
	for _, o := range oids {
		switch o {
		case 20, 23, 21, 25, 1043:
		default:
			return false
		}
	}
	return true
}

// keptShape: what preparing found makes the statement worth keeping: a
// lookup the point-lookup path may answer, or an UPDATE or DELETE of a
// table kept in storage whose WHERE finds the files it touches.
func keptShape(st *Statement) bool {
	if st.pointLookup != nil {
		return true
	}
	ss := st.storage
	return ss != nil && ss.table != "" && ss.where != nil && (ss.op == "UPDATE" || ss.op == "DELETE")
}

func (s *Session) dropLiteral(text string) {
	k := s.literals[text]
	delete(s.literals, text)
	if k.st == nil {
		return
	}
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
