// Package pgfunc implements, in Go, the PostgreSQL built-in functions that
// DuckDB lacks and that SQL macros cannot express: initcap, to_char for
// numbers, to_number, format, clock_timestamp, timeofday, justify_* and
// regexp_matches. engine/pgcatalog's rewriter sends calls to them under hop_*
// names; Register installs them in a DuckDB database.
package pgfunc

import (
	"database/sql"
	"database/sql/driver"
	"fmt"
	"strings"
	"unicode"

	"github.com/duckdb/duckdb-go/v2"
)

// Register installs the functions in the DuckDB database conn belongs to.
// Each runs under recovered: a panic in a scalar function would otherwise
// end the process (DuckDB calls it on its own threads).
func Register(conn *sql.Conn) error {
	for name, f := range map[string]duckdb.ScalarFunc{
		"hop_initcap":          initcapFunc{},
		"hop_to_char_num":      toCharNumFunc{},
		"hop_to_number":        toNumberFunc{},
		"hop_record_out":       recordFunc{},
		"hop_format":           formatFunc{},
		"hop_clock_timestamp":  clockFunc{},
		"hop_timeofday":        timeofdayFunc{},
		"hop_justify_hours":    justifyFunc{JustifyHours},
		"hop_justify_days":     justifyFunc{JustifyDays},
		"hop_justify_interval": justifyFunc{JustifyInterval},
		"hop_regexp_matches":   regexpMatchesFunc{cache: &patternCache{}},
		"hop_jsonb_in":         jsonbInFunc{},
	} {
		if err := duckdb.RegisterScalarUDF(conn, name, recovered{f}); err != nil {
			return fmt.Errorf("pgfunc: register %s: %w", name, err)
		}
	}
	return nil
}

func varchar() duckdb.TypeInfo {
	t, err := duckdb.NewTypeInfo(duckdb.TYPE_VARCHAR)
	if err != nil {
		panic(err) // a primitive type always has a TypeInfo
	}
	return t
}

// Initcap is PostgreSQL's initcap: the first letter of each word upper
// case, the others lower case, where words are runs of letters and digits.
func Initcap(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	inWord := false
	for _, r := range s {
		if inWord {
			b.WriteRune(unicode.ToLower(r))
		} else {
			b.WriteRune(unicode.ToUpper(r))
		}
		inWord = unicode.IsLetter(r) || unicode.IsDigit(r)
	}
	return b.String()
}

// initcapFunc is hop_initcap(text).
type initcapFunc struct{}

func (initcapFunc) Config() duckdb.ScalarFuncConfig {
	return duckdb.ScalarFuncConfig{InputTypeInfos: []duckdb.TypeInfo{varchar()}, ResultTypeInfo: varchar()}
}

func (initcapFunc) Executor() duckdb.ScalarFuncExecutor {
	return duckdb.ScalarFuncExecutor{RowExecutor: func(args []driver.Value) (any, error) {
		s, _ := args[0].(string)
		return Initcap(s), nil
	}}
}

// toCharNumFunc is hop_to_char_num(value text, template text, duckdb type
// text): to_char of a number, given as DuckDB prints it. The type says
// whether it was a float (rounded as PostgreSQL rounds float8).
type toCharNumFunc struct{}

func (toCharNumFunc) Config() duckdb.ScalarFuncConfig {
	return duckdb.ScalarFuncConfig{InputTypeInfos: []duckdb.TypeInfo{varchar(), varchar(), varchar()}, ResultTypeInfo: varchar()}
}

func (toCharNumFunc) Executor() duckdb.ScalarFuncExecutor {
	return duckdb.ScalarFuncExecutor{RowExecutor: func(args []driver.Value) (any, error) {
		value, _ := args[0].(string)
		template, _ := args[1].(string)
		typ, _ := args[2].(string)
		kind := KindNumeric
		switch typ {
		case "DOUBLE":
			kind = KindFloat8
		case "FLOAT":
			kind = KindFloat4
		}
		out, err := ToCharKind(value, template, kind)
		if err != nil {
			return nil, tagged(err)
		}
		return out, nil
	}}
}

// toNumberFunc is hop_to_number(text, template): to_number's value as
// decimal text, which the rewrite casts to numeric (NULL for an empty
// template, as PostgreSQL returns).
type toNumberFunc struct{}

func (toNumberFunc) Config() duckdb.ScalarFuncConfig {
	return duckdb.ScalarFuncConfig{InputTypeInfos: []duckdb.TypeInfo{varchar(), varchar()}, ResultTypeInfo: varchar()}
}

func (toNumberFunc) Executor() duckdb.ScalarFuncExecutor {
	return duckdb.ScalarFuncExecutor{RowExecutor: func(args []driver.Value) (any, error) {
		text, _ := args[0].(string)
		template, _ := args[1].(string)
		out, err := ToNumber(text, template)
		if err != nil {
			return nil, tagged(err)
		}
		if out == "" {
			return nil, nil
		}
		return out, nil
	}}
}

// recovered wraps a row-at-a-time scalar function so that a panic becomes
// an error of the statement (XX000) instead of a crash.
type recovered struct{ duckdb.ScalarFunc }

func (r recovered) Executor() duckdb.ScalarFuncExecutor {
	inner := r.ScalarFunc.Executor().RowExecutor
	return duckdb.ScalarFuncExecutor{RowExecutor: func(args []driver.Value) (out any, err error) {
		defer func() {
			if p := recover(); p != nil {
				out, err = nil, fmt.Errorf("[XX000] internal error in a built-in function: %v", p)
			}
		}()
		return inner(args)
	}}
}
