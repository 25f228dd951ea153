package engine

import (
	"context"
	"database/sql/driver"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgtype"
	pg_query "github.com/pganalyze/pg_query_go/v6"

	"github.com/hopsql/hopsql/engine/pgtypes"
)

// Source columns: PostgreSQL's RowDescription names, for a result column
// that is a plain column of a table or view, that relation's OID and the
// column's number. JDBC's getBaseColumnName/getTableName/isNullable and
// psycopg2's column.table_oid read them. The OIDs are pg_class's (DuckDB's
// catalog oid + 16384, see engine/pgcatalog).

// relInfoTTL bounds how long a session trusts what it read about a
// relation's columns: other sessions' DDL is not announced to it.
const relInfoTTL = 2 * time.Second

type relInfo struct {
	oid  uint32
	cols []string // in column order; attnum = index + 1
	// declared: per column, the declared type DuckDB does not keep
	// (declared.go); OID 0 for none.
	declared []pgtypes.Type
	read     time.Time
}

// source marks a result field as column i (0-based) of a relation.
func (ri *relInfo) source(f *Field, i int) {
	f.TableOID, f.Column = ri.oid, int16(i+1)
	if i >= len(ri.declared) || ri.declared[i].OID == 0 {
		return
	}
	// DuckDB's VARCHAR is reported as text (varchar(n), char(n)), its JSON as json and
	// DECIMAL(38,10) as unconstrained numeric: a plain column reports its
	// declared type instead.
	declaredOver(&f.Type, ri.declared[i])
}

// declaredOver gives a result column the declared type d when DuckDB's
// type is the one d is stored as: text for varchar(n) and char(n), json
// for jsonb, numeric for numeric(38,10).
func declaredOver(t *pgtypes.Type, d pgtypes.Type) {
	want := map[uint32]uint32{1043: 25, 1042: 25, 3802: 114, 1700: 1700}
	if d.Elem == nil && t.OID == want[d.OID] || d.Elem != nil && t.OID == pgtypes.ArrayOf(want[d.Elem.OID]) {
		*t = d
	}
}

type relRef struct {
	schema, name string
}

func (s *Session) relation(ctx context.Context, r relRef) *relInfo {
	key := r.schema + "." + r.name
	// This transaction's own CREATE and ALTER TABLE count too (their
	// declarations reach the catalog at COMMIT): not cached.
	var ops []declOp
	created := false
	if s.stx != nil && r.schema == "main" {
		ops, created = s.stx.decl[r.name], s.stx.created[r.name]
	}
	pending := len(ops) > 0 || created
	if ri, ok := s.rels[key]; ok && !pending && time.Since(ri.read) < relInfoTTL {
		return ri
	}
	rows, err := s.conn.QueryContext(ctx, "SELECT table_oid, column_name FROM duckdb_columns() "+
		"WHERE database_name = current_database() AND schema_name = $1 AND table_name = $2 ORDER BY column_index",
		[]driver.NamedValue{{Ordinal: 1, Value: r.schema}, {Ordinal: 2, Value: r.name}})
	if err != nil {
		return nil
	}
	defer rows.Close()
	ri := &relInfo{read: time.Now()}
	vals := make([]driver.Value, 2)
	for rows.Next(vals) == nil {
		oid, _ := vals[0].(int64)
		name, _ := vals[1].(string)
		ri.oid = uint32(oid + 16384)
		ri.cols = append(ri.cols, name)
	}
	if len(ri.cols) == 0 {
		return nil
	}
	if r.schema == "main" {
		ri.declared = make([]pgtypes.Type, len(ri.cols))
		for name, pg := range s.declaredColumns(r.name, created, ops) {
			if typ, ok := declaredType(pg); ok {
				if i := indexOf(ri.cols, name); i >= 0 {
					ri.declared[i] = typ
				}
			}
		}
	}
	if !pending {
		s.rels[key] = ri
	}
	return ri
}

// fromRelations lists the base relations of a FROM clause in order, by the
// name queries refer to them with. ok is false when FROM holds anything
// else (subqueries, functions), which a * would also expand.
func fromRelations(from []*pg_query.Node, ctes map[string]bool) (out []namedRel, ok bool) {
	ok = true
	var add func(n *pg_query.Node)
	add = func(n *pg_query.Node) {
		switch x := n.Node.(type) {
		case *pg_query.Node_RangeVar:
			rv := x.RangeVar
			if rv.Schemaname == "" && ctes[rv.Relname] || rv.Catalogname != "" {
				ok = false
				return
			}
			ref := relRef{schema: rv.Schemaname, name: rv.Relname}
			if ref.schema == "" || ref.schema == "public" {
				ref.schema = "main"
			}
			as := rv.Relname
			if rv.Alias != nil && rv.Alias.Aliasname != "" {
				as = rv.Alias.Aliasname
			}
			out = append(out, namedRel{as: as, ref: ref})
		case *pg_query.Node_JoinExpr:
			if len(x.JoinExpr.UsingClause) > 0 || x.JoinExpr.IsNatural {
				ok = false // * merges the join columns
			}
			add(x.JoinExpr.Larg)
			add(x.JoinExpr.Rarg)
		default:
			ok = false
		}
	}
	for _, n := range from {
		add(n)
	}
	return out, ok
}

type namedRel struct {
	as  string
	ref relRef
}

// resolveSources sets TableOID and Column on the fields of a SELECT.
func (s *Session) resolveSources(ctx context.Context, st *Statement) {
	sel := st.node.GetSelectStmt()
	if sel == nil || sel.Op != pg_query.SetOperation_SETOP_NONE || len(sel.FromClause) == 0 {
		return
	}
	ctes := map[string]bool{}
	if sel.WithClause != nil {
		for _, c := range sel.WithClause.Ctes {
			ctes[c.GetCommonTableExpr().GetCtename()] = true
		}
	}
	rels, simple := fromRelations(sel.FromClause, ctes)
	if len(rels) == 0 {
		return
	}
	info := func(r namedRel) *relInfo { return s.relation(ctx, r.ref) }
	// column finds the relation and index of a column reference: the one
	// relation that has an unqualified column, or the one named.
	column := func(parts []string) (*relInfo, int) {
		switch len(parts) {
		case 1:
			var found *relInfo
			at := -1
			for _, r := range rels {
				if ri := info(r); ri != nil {
					if i := indexOf(ri.cols, parts[0]); i >= 0 {
						if found != nil {
							return nil, -1
						}
						found, at = ri, i
					}
				}
			}
			return found, at
		case 2:
			for _, r := range rels {
				if r.as != parts[0] {
					continue
				}
				if ri := info(r); ri != nil {
					if i := indexOf(ri.cols, parts[1]); i >= 0 {
						return ri, i
					}
				}
			}
		}
		return nil, -1
	}
	pos := 0
	for _, t := range sel.TargetList {
		rt := t.GetResTarget()
		cr := rt.GetVal().GetColumnRef()
		if cr == nil {
			// j -> 'k' on a column declared jsonb is jsonb (DuckDB: JSON).
			if base := jsonPathBase(rt.GetVal()); base != nil && pos < len(st.Fields) && st.Fields[pos].Type.OID == pgtype.JSONOID {
				if ri, i := column(columnParts(base)); ri != nil && i < len(ri.declared) && ri.declared[i].OID == pgtype.JSONBOID {
					st.Fields[pos].Type.OID = pgtype.JSONBOID
				}
			}
			pos++
			continue
		}
		var parts []string
		star := false
		for _, f := range cr.Fields {
			if f.GetAStar() != nil {
				star = true
			} else {
				parts = append(parts, f.GetString_().GetSval())
			}
		}
		switch {
		case star:
			var expand []namedRel
			if len(parts) == 0 && simple {
				expand = rels
			} else if len(parts) == 1 {
				for _, r := range rels {
					if r.as == parts[0] {
						expand = append(expand, r)
					}
				}
			}
			if len(expand) == 0 {
				return // unknown width: later positions cannot be matched
			}
			for _, r := range expand {
				ri := info(r)
				if ri == nil {
					return
				}
				for i := range ri.cols {
					if pos < len(st.Fields) {
						ri.source(&st.Fields[pos], i)
					}
					pos++
				}
			}
			continue
		default:
			if ri, i := column(parts); ri != nil && pos < len(st.Fields) {
				ri.source(&st.Fields[pos], i)
			}
		}
		pos++
	}
}

// jsonPathBase returns the column under a chain of -> and #> operators
// (j -> 'a' #> '{b}'), or nil. The statement is seen rewritten: the
// operators are json_extract calls by then.
func jsonPathBase(n *pg_query.Node) *pg_query.ColumnRef {
	for {
		if fc := n.GetFuncCall(); fc != nil {
			names := fc.GetFuncname()
			if len(names) != 1 || names[0].GetString_().GetSval() != "json_extract" || len(fc.Args) != 2 {
				return nil
			}
			n = fc.Args[0]
			continue
		}
		e := n.GetAExpr()
		if e == nil || e.Kind != pg_query.A_Expr_Kind_AEXPR_OP || len(e.Name) != 1 || e.Lexpr == nil {
			return n.GetColumnRef()
		}
		if op := e.Name[0].GetString_().GetSval(); op != "->" && op != "#>" {
			return nil
		}
		n = e.Lexpr
	}
}

// columnParts is a column reference's names (nil for a * or a field
// that is not a name).
func columnParts(cr *pg_query.ColumnRef) []string {
	var parts []string
	for _, f := range cr.Fields {
		if f.GetString_() == nil {
			return nil
		}
		parts = append(parts, f.GetString_().GetSval())
	}
	return parts
}

func indexOf(list []string, s string) int {
	for i, x := range list {
		if strings.EqualFold(x, s) {
			return i
		}
	}
	return -1
}
