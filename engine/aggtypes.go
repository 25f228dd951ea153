package engine

import (
	"context"
	"strings"

	"github.com/duckdb/duckdb-go/v2"
	pg_query "github.com/pganalyze/pg_query_go/v6"
	"google.golang.org/protobuf/proto"
)

// PostgreSQL's aggregates return other types than DuckDB's for integer and
// numeric arguments, and clients see the difference (psycopg2's Decimal
// against float or int, PgJDBC's BigDecimal):
//   - sum of smallint or integer is bigint; DuckDB sums every integer type
//     into a 128-bit HUGEINT, which hopsql reports as numeric;
//   - avg, stddev and variance of integers or numerics are numeric;
//     DuckDB's are double precision.
//
// The argument's type is not known when the statement is rewritten, so it
// is learnt from DuckDB: for each such aggregate in the outermost select
// list, a probe statement with min(x) in its place (same argument, same
// window) is prepared, and by the argument's type the aggregate is cast
// to bigint, or made numeric. DuckDB computes those in double precision,
// so the numeric is the double rounded to 15 significant digits, kept as
// hopsql's unconstrained numeric (ten decimals at most; PostgreSQL shows
// at least 16 significant digits: 2.6666666667 where it has
// 2.6666666666666667). Only statements holding such an aggregate pay for
// the probe.

// statAggregates are the aggregates PostgreSQL computes in numeric for
// integer and numeric arguments.
var statAggregates = map[string]bool{"avg": true, "stddev": true, "stddev_samp": true, "stddev_pop": true,
	"variance": true, "var_samp": true, "var_pop": true}

// pgAggregateTypes casts sums and statistical aggregates in raw's
// outermost select list to PostgreSQL's result types; true when it changed
// raw (the caller prepares it again). stmt is raw prepared as it was.
func (s *Session) pgAggregateTypes(ctx context.Context, raw *pg_query.RawStmt, stmt *duckdb.Stmt) (bool, error) {
	sel := raw.Stmt.GetSelectStmt()
	if sel == nil || sel.Op != pg_query.SetOperation_SETOP_NONE {
		return false, nil
	}
	cols, err := stmt.ColumnCount()
	if err != nil || cols != len(sel.TargetList) {
		return false, nil // a * expanded: positions do not match
	}
	var cands []int
	for i, t := range sel.TargetList {
		fc := t.GetResTarget().GetVal().GetFuncCall()
		if fc == nil || len(fc.Args) != 1 || fc.AggStar {
			continue
		}
		ti, err := stmt.ColumnTypeInfo(i)
		if err != nil || ti == nil {
			continue
		}
		name := aggName(fc)
		if name == "sum" && ti.InternalType() == duckdb.TYPE_HUGEINT || statAggregates[name] && ti.InternalType() == duckdb.TYPE_DOUBLE {
			cands = append(cands, i)
		}
	}
	if len(cands) == 0 {
		return false, nil
	}
	probe := proto.Clone(raw).(*pg_query.RawStmt)
	for _, i := range cands {
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
	for _, i := range cands {
		ti, err := ps.ColumnTypeInfo(i)
		if err != nil || ti == nil {
			continue
		}
		rt := sel.TargetList[i].GetResTarget()
		name := aggName(rt.Val.GetFuncCall())
		var val *pg_query.Node
		switch ti.InternalType() {
		case duckdb.TYPE_INTEGER, duckdb.TYPE_SMALLINT, duckdb.TYPE_TINYINT, duckdb.TYPE_UTINYINT, duckdb.TYPE_USMALLINT:
			if name == "sum" {
				val = &pg_query.Node{Node: &pg_query.Node_TypeCast{TypeCast: &pg_query.TypeCast{Arg: rt.Val,
					TypeName: &pg_query.TypeName{Names: []*pg_query.Node{pg_query.MakeStrNode("bigint")}, Typemod: -1, Location: -1}, Location: -1}}}
				break
			}
			val = floatNumeric(rt.Val)
		case duckdb.TYPE_BIGINT, duckdb.TYPE_UINTEGER, duckdb.TYPE_UBIGINT, duckdb.TYPE_HUGEINT, duckdb.TYPE_DECIMAL:
			// A variance of such values (a square) may pass numeric(38,10)'s
			// 10^28: it stays double precision.
			if name != "sum" && !strings.HasPrefix(name, "var") {
				val = floatNumeric(rt.Val)
			}
		}
		if val == nil {
			continue
		}
		if rt.Name == "" {
			rt.Name = name // PostgreSQL's name for the column, kept under the cast
		}
		rt.Val = val
		changed = true
	}
	return changed, nil
}

// floatNumeric is a double precision value as numeric (see above).
func floatNumeric(v *pg_query.Node) *pg_query.Node {
	return pg_query.MakeFuncCallNode([]*pg_query.Node{pg_query.MakeStrNode("hopsql_catalog"), pg_query.MakeStrNode("main"),
		pg_query.MakeStrNode("pg_float_numeric")}, []*pg_query.Node{v}, -1)
}

// aggName is fc's name without a pg_catalog qualifier ("" for others).
func aggName(fc *pg_query.FuncCall) string {
	n := fc.Funcname
	if len(n) == 2 && n[0].GetString_().GetSval() == "pg_catalog" {
		n = n[1:]
	}
	if len(n) != 1 {
		return ""
	}
	return n[0].GetString_().GetSval()
}
