package pgfunc

import (
	"database/sql/driver"
	"fmt"

	"github.com/hopsql/hopsql/udf/jsonb"

	"github.com/duckdb/duckdb-go/v2"
)

// jsonbInFunc is hop_jsonb_in(text) → text: a value cast to jsonb, stored
// as jsonb_in would store it (udf/jsonb): DuckDB's JSON keeps the text as
// given, duplicate keys and all, and its -> would find the first of them.
type jsonbInFunc struct{}

func (jsonbInFunc) Config() duckdb.ScalarFuncConfig {
	return duckdb.ScalarFuncConfig{InputTypeInfos: []duckdb.TypeInfo{varchar()}, ResultTypeInfo: varchar()}
}

func (jsonbInFunc) Executor() duckdb.ScalarFuncExecutor {
	return duckdb.ScalarFuncExecutor{RowExecutor: func(args []driver.Value) (any, error) {
		s, _ := args[0].(string)
		out, err := jsonb.Append(nil, s, nil)
		if err != nil {
			return nil, fmt.Errorf("invalid input syntax for type json: %q", s)
		}
		return string(out), nil
	}}
}
