package engine

import (
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/duckdb/duckdb-go/v2"
	"github.com/jackc/pgx/v5/pgtype"
)

// Array parameters reach DuckDB as JSON text, cast in the statement to
// the list type: CAST(CAST($n AS JSON) AS INTEGER[]). duckdb-go binds a Go
// slice only when every element has exactly the Go type of the list's
// element type, and panics on a NULL element (a nil) — a client's
// '{a,NULL}' would end the statement in XX000, and the panic, unwound out
// of a cgo call in progress, could crash the server. JSON carries NULLs
// and nesting, and DuckDB casts a JSON array to any list type.

// arrayCastPrefix marks, in the cast castParams gives a parameter, that the
// parameter is bound as JSON text and cast to the list type after it.
const arrayCastPrefix = "json:"

// arrayParamJSON writes a decoded array parameter (nested []any) as a
// JSON array; elemOID is the array's element type.
func arrayParamJSON(v any, elemOID uint32) (string, error) {
	b, err := appendArrayJSON(nil, v, elemOID)
	return string(b), err
}

func appendArrayJSON(buf []byte, v any, elemOID uint32) ([]byte, error) {
	switch x := v.(type) {
	case nil:
		return append(buf, "null"...), nil
	case []any:
		buf = append(buf, '[')
		for i, e := range x {
			if i > 0 {
				buf = append(buf, ',')
			}
			var err error
			if buf, err = appendArrayJSON(buf, e, elemOID); err != nil {
				return nil, err
			}
		}
		return append(buf, ']'), nil
	case string:
		return appendJSONText(buf, x), nil
	case bool:
		return strconv.AppendBool(buf, x), nil
	case int16:
		return strconv.AppendInt(buf, int64(x), 10), nil
	case int32:
		return strconv.AppendInt(buf, int64(x), 10), nil
	case int64:
		return strconv.AppendInt(buf, x, 10), nil
	case float32:
		return appendJSONFloat(buf, float64(x), 32), nil
	case float64:
		return appendJSONFloat(buf, x, 64), nil
	case *big.Int:
		return appendJSONText(buf, x.String()), nil
	case []byte:
		// DuckDB reads a blob from text with \xHH escapes.
		var b strings.Builder
		for _, c := range x {
			fmt.Fprintf(&b, `\x%02X`, c)
		}
		return appendJSONText(buf, b.String()), nil
	case time.Time:
		switch elemOID {
		case pgtype.DateOID:
			return appendJSONText(buf, x.Format("2006-01-02")), nil
		case pgtype.TimestampOID:
			return appendJSONText(buf, x.Format("2006-01-02 15:04:05.999999")), nil
		}
		return appendJSONText(buf, x.Format("2006-01-02 15:04:05.999999-07:00")), nil
	case *duckdb.UUID:
		return appendJSONText(buf, x.String()), nil
	case duckdb.UUID:
		return appendJSONText(buf, x.String()), nil
	case duckdb.Interval:
		return appendJSONText(buf, fmt.Sprintf("%d months %d days %d microseconds", x.Months, x.Days, x.Micros)), nil
	}
	if rv := reflect.ValueOf(v); rv.Kind() == reflect.Slice {
		l := make([]any, rv.Len())
		for i := range l {
			l[i] = rv.Index(i).Interface()
		}
		return appendArrayJSON(buf, l, elemOID)
	}
	return nil, fmt.Errorf("array parameter element of type %T", v)
}

// composite reports whether a parameter value is a slice (other than
// bytea's []byte) or a map: values duckdb-go binds element by element.
func composite(v any) bool {
	switch v.(type) {
	case nil, []byte, string:
		return false
	}
	k := reflect.ValueOf(v).Kind()
	return k == reflect.Slice || k == reflect.Array || k == reflect.Map
}

func appendJSONText(buf []byte, s string) []byte {
	b, _ := json.Marshal(s)
	return append(buf, b...)
}

// appendJSONFloat writes a float; NaN and the infinities, which JSON
// lacks, as the strings DuckDB casts back to them.
func appendJSONFloat(buf []byte, f float64, bits int) []byte {
	switch {
	case math.IsNaN(f):
		return append(buf, `"NaN"`...)
	case math.IsInf(f, 1):
		return append(buf, `"Infinity"`...)
	case math.IsInf(f, -1):
		return append(buf, `"-Infinity"`...)
	}
	return strconv.AppendFloat(buf, f, 'g', -1, bits)
}
