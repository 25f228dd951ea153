package engine

import (
	"context"

	"github.com/duckdb/duckdb-go/v2"
	pg_query "github.com/pganalyze/pg_query_go/v6"
	"google.golang.org/protobuf/proto"
)

// PostgreSQL's sum of smallint or integer values is a bigint; DuckDB sums
// every integer type into a 128-bit HUGEINT, which hopsql reports as
// numeric, so clients would get a decimal (psycopg2's Decimal, PgJDBC's
// BigDecimal) where they expect an integer. The argument's type is not
// known when the statement is rewritten, so it is learnt from DuckDB:
// for each sum in the outermost select list whose result is HUGEINT, a
// probe statement with min(x) in its place (same argument, same window)
// is prepared, and when x is a 16- or 32-bit integer the sum is cast to
// BIGINT. Only statements holding such a sum pay for the probe.

// bigintSums casts the sums of smallint and integer arguments in raw's
// outermost select list to BIGINT; true when it changed raw (the caller
// prepares it again). stmt is raw prepared as it was.
func (s *Session) bigintSums(ctx context.Context, raw *pg_query.RawStmt, stmt *duckdb.Stmt) (bool, error) {
	sel := raw.Stmt.GetSelectStmt()
	if sel == nil || sel.Op != pg_query.SetOperation_SETOP_NONE {
		return false, nil
	}
	cols, err := stmt.ColumnCount()
	if err != nil || cols != len(sel.TargetList) {
		return false, nil // a * expanded: positions do not match
	}
	var sums []int
	for i, t := range sel.TargetList {
		fc := t.GetResTarget().GetVal().GetFuncCall()
		if fc == nil || len(fc.Args) != 1 || fc.AggStar || !isSum(fc) {
			continue
		}
		if ti, err := stmt.ColumnTypeInfo(i); err == nil && ti != nil && ti.InternalType() == duckdb.TYPE_HUGEINT {
			sums = append(sums, i)
		}
	}
	if len(sums) == 0 {
		return false, nil
	}
	probe := proto.Clone(raw).(*pg_query.RawStmt)
	for _, i := range sums {
		probe.Stmt.GetSelectStmt().TargetList[i].GetResTarget().Val.GetFuncCall().Funcname = []*pg_query.Node{pg_query.MakeStrNode("min")}
	}
	sql, err := deparse(probe.Stmt)
	if err != nil {
		return false, nil
	}
	ds, _, err := s.prepareQuoted(ctx, sql, true)
	if err != nil {
		return false, nil // the statement as it was stands
	}
	defer ds.Close()
	ps := ds.(*duckdb.Stmt)
	changed := false
	for _, i := range sums {
		ti, err := ps.ColumnTypeInfo(i)
		if err != nil || ti == nil {
			continue
		}
		switch ti.InternalType() {
		case duckdb.TYPE_INTEGER, duckdb.TYPE_SMALLINT, duckdb.TYPE_TINYINT, duckdb.TYPE_UTINYINT, duckdb.TYPE_USMALLINT:
			rt := sel.TargetList[i].GetResTarget()
			if rt.Name == "" {
				rt.Name = "sum" // PostgreSQL's name for the column, kept under the cast
			}
			rt.Val = &pg_query.Node{Node: &pg_query.Node_TypeCast{TypeCast: &pg_query.TypeCast{Arg: rt.Val,
				TypeName: &pg_query.TypeName{Names: []*pg_query.Node{pg_query.MakeStrNode("bigint")}, Typemod: -1, Location: -1}, Location: -1}}}
			changed = true
		}
	}
	return changed, nil
}

// isSum: fc calls sum, unqualified or as pg_catalog.sum.
func isSum(fc *pg_query.FuncCall) bool {
	n := fc.Funcname
	if len(n) == 2 && n[0].GetString_().GetSval() == "pg_catalog" {
		n = n[1:]
	}
	return len(n) == 1 && n[0].GetString_().GetSval() == "sum"
}
