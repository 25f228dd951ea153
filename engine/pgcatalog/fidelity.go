package pgcatalog

import (
	"encoding/hex"
	"fmt"
	"strings"

	pg_query "github.com/pganalyze/pg_query_go/v6"

	"github.com/hopsql/hopsql/engine/pgtypes"
)

// Type fidelity: PostgreSQL type spellings DuckDB reads differently.
//
//   - jsonb is DuckDB's JSON (DuckDB has one JSON type), as is json when
//     the statement is deparsed (Deparse would print pg_catalog.json).
//   - numeric/decimal without precision is arbitrary precision in
//     PostgreSQL; DuckDB reads it as DECIMAL(18,3) and silently rounds to
//     three decimals. DECIMAL(38,10) is the widest DuckDB has that keeps
//     fractions; values are reported as numeric and print without trailing
//     zeros (pgtypes.UnconstrainedNumericWidth, docs/sql-compat.md).
//   - '\x00ff'::bytea is PostgreSQL's hex input; DuckDB would read the
//     characters "ff" after one escaped byte.

// unconstrainedNumeric is what numeric without (p, s) becomes.
var unconstrainedNumeric = [2]int64{pgtypes.UnconstrainedNumericWidth, pgtypes.UnconstrainedNumericScale}

// fixTypeName rewrites one type name in place and reports whether it changed.
func fixTypeName(tn *pg_query.TypeName) bool {
	schema, name := typeNameParts(tn)
	if tn == nil || schema != "" && schema != "pg_catalog" {
		return false
	}
	switch name {
	case "json", "jsonb":
		// Spelled in capitals so Deparse quotes it instead of printing
		// pg_catalog.json, which DuckDB does not know; DuckDB's type names
		// are case-insensitive even when quoted.
		if name == "json" && len(tn.Names) == 1 {
			return false // unchanged statements reach DuckDB as written
		}
		tn.Names = []*pg_query.Node{pg_query.MakeStrNode("JSON")}
		return true
	case "numeric", "decimal":
		if len(tn.Typmods) == 0 {
			tn.Names = []*pg_query.Node{pg_query.MakeStrNode("decimal")}
			tn.Typmods = []*pg_query.Node{intConst(unconstrainedNumeric[0]), intConst(unconstrainedNumeric[1])}
			return true
		}
	}
	return false
}

// byteaLiteral converts '\x…'::bytea to DuckDB's per-byte escapes.
func byteaLiteral(tc *pg_query.TypeCast) bool {
	if _, name := typeNameParts(tc.TypeName); name != "bytea" {
		return false
	}
	c := tc.Arg.GetAConst()
	if c == nil || c.GetSval() == nil {
		return false
	}
	s := c.GetSval().Sval
	if !strings.HasPrefix(s, `\x`) {
		return false
	}
	b, err := hex.DecodeString(s[2:])
	if err != nil {
		return false // let DuckDB report the malformed literal
	}
	var out strings.Builder
	for _, x := range b {
		fmt.Fprintf(&out, `\x%02X`, x)
	}
	c.Val = &pg_query.A_Const_Sval{Sval: &pg_query.String{Sval: out.String()}}
	return true
}
