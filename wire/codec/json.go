package codec

import (
	"encoding/json"
	"fmt"
	jsonbtext "github.com/hopsql/hopsql/udf/jsonb"
	"math"
	"math/big"
	"sort"
	"strconv"
	"time"

	"github.com/duckdb/duckdb-go/v2"
)

// JSON output. The engine reads JSON columns as text where it can (see
// jsontext.go, pgtypes.Type.JSONText); otherwise the driver hands
// JSON-aliased VARCHAR columns over already decoded (json.Unmarshal), and
// STRUCT/MAP/UNION/nested LIST columns as Go maps and slices; both are
// written back as JSON text here. encoding/json is
// not used because it escapes <, > and & (PostgreSQL does not), sorts nothing
// for jsonb's order, and does not know the driver's value types.
//
// Conventions for the top-level value of a json/jsonb column:
//   - a string is a JSON string value (what the driver makes of "abc");
//   - json.RawMessage, and []byte holding valid JSON, are JSON text already
//     (for hopsql's own code that has the text in hand).
//
// jsonb text follows jsonb_out: ", " and ": " separators, object keys
// ordered by length, then bytes.

func appendJSONTop(buf []byte, v any, jsonb bool, s *Settings) ([]byte, error) {
	switch x := v.(type) {
	case json.RawMessage:
		return append(buf, x...), nil
	case []byte:
		if json.Valid(x) {
			return append(buf, x...), nil
		}
	}
	return appendJSON(buf, v, jsonb, s)
}

func appendJSON(buf []byte, v any, jsonb bool, s *Settings) ([]byte, error) {
	switch x := v.(type) {
	case nil:
		return append(buf, "null"...), nil
	case bool:
		if x {
			return append(buf, "true"...), nil
		}
		return append(buf, "false"...), nil
	case string:
		return jsonbtext.AppendString(buf, x), nil
	case json.RawMessage:
		return append(buf, x...), nil
	case json.Number:
		return append(buf, x...), nil
	case float64:
		return appendJSONFloat(buf, x, 64), nil
	case float32:
		return appendJSONFloat(buf, float64(x), 32), nil
	case uint64:
		return strconv.AppendUint(buf, x, 10), nil
	case *big.Int:
		return appendDecimal(buf, x, 0), nil
	case duckdb.Decimal:
		return appendDecimal(buf, x.Value, int(x.Scale)), nil
	case []any:
		return appendJSONArray(buf, x, jsonb, s)
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sortKeys(keys, jsonb)
		buf = append(buf, '{')
		for i, k := range keys {
			buf = appendJSONSep(buf, i, jsonb)
			buf = jsonbtext.AppendString(buf, k)
			buf = appendJSONColon(buf, jsonb)
			var err error
			if buf, err = appendJSON(buf, x[k], jsonb, s); err != nil {
				return nil, err
			}
		}
		return append(buf, '}'), nil
	case duckdb.OrderedMap:
		return appendJSONPairs(buf, x.Keys(), x.Values(), jsonb, s)
	case duckdb.Map:
		keys := make([]any, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		// Go maps have no order; sort by the key's text for stable output.
		sort.Slice(keys, func(i, j int) bool { return fmt.Sprint(keys[i]) < fmt.Sprint(keys[j]) })
		vals := make([]any, len(keys))
		for i, k := range keys {
			vals[i] = x[k]
		}
		return appendJSONPairs(buf, keys, vals, jsonb, s)
	case duckdb.Union:
		return appendJSON(buf, x.Value, jsonb, s)
	case time.Time:
		// The driver's value alone does not say date, time or timestamp;
		// print the PostgreSQL text of the most likely one, as to_json does.
		var tb [64]byte
		t := tb[:0]
		switch {
		case x.Year() == 1 && x.YearDay() == 1:
			t = appendTOD(t, clockMicros(x))
		case x.Location() == time.UTC && clockMicros(x) == 0:
			t, _ = textDate(t, x, s)
		default:
			t = appendTimestamp(t, x)
			if len(t) > 10 && t[10] == ' ' {
				t[10] = 'T'
			}
		}
		return jsonbtext.AppendString(buf, string(t)), nil
	}
	if i, ok := toInt64(v); ok {
		return appendInt(buf, i), nil
	}
	// Everything else (bytea, interval, uuid, bit) as a string holding its
	// PostgreSQL text form, like to_json.
	var tb [64]byte
	t, err := textGeneric(tb[:0], v, s)
	if err != nil {
		return nil, err
	}
	return jsonbtext.AppendString(buf, string(t)), nil
}

func appendJSONArray(buf []byte, l []any, jsonb bool, s *Settings) ([]byte, error) {
	buf = append(buf, '[')
	for i, e := range l {
		buf = appendJSONSep(buf, i, jsonb)
		var err error
		if buf, err = appendJSON(buf, e, jsonb, s); err != nil {
			return nil, err
		}
	}
	return append(buf, ']'), nil
}

func appendJSONPairs(buf []byte, keys, vals []any, jsonb bool, s *Settings) ([]byte, error) {
	type pair struct {
		k string
		v any
	}
	pairs := make([]pair, len(keys))
	for i, k := range keys {
		ks, ok := k.(string)
		if !ok {
			t, err := textGeneric(nil, k, s)
			if err != nil {
				return nil, err
			}
			ks = string(t)
		}
		pairs[i] = pair{ks, vals[i]}
	}
	if jsonb {
		sort.SliceStable(pairs, func(i, j int) bool { return jsonbtext.KeyLess(pairs[i].k, pairs[j].k) })
	}
	buf = append(buf, '{')
	for i, p := range pairs {
		buf = appendJSONSep(buf, i, jsonb)
		buf = jsonbtext.AppendString(buf, p.k)
		buf = appendJSONColon(buf, jsonb)
		var err error
		if buf, err = appendJSON(buf, p.v, jsonb, s); err != nil {
			return nil, err
		}
	}
	return append(buf, '}'), nil
}

func sortKeys(keys []string, jsonb bool) {
	if jsonb {
		sort.Slice(keys, func(i, j int) bool { return jsonbtext.KeyLess(keys[i], keys[j]) })
		return
	}
	sort.Strings(keys)
}

func appendJSONSep(buf []byte, i int, jsonb bool) []byte {
	if i == 0 {
		return buf
	}
	if jsonb {
		return append(buf, ',', ' ')
	}
	return append(buf, ',')
}

func appendJSONColon(buf []byte, jsonb bool) []byte {
	if jsonb {
		return append(buf, ':', ' ')
	}
	return append(buf, ':')
}

// appendJSONFloat writes numbers as encoding/json does (ES6 style); NaN and
// infinities, which JSON lacks, as strings the way PostgreSQL's to_json does.
func appendJSONFloat(buf []byte, f float64, bits int) []byte {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		buf = append(buf, '"')
		buf, _ = appendFloatSpecial(buf, f)
		return append(buf, '"')
	}
	abs := math.Abs(f)
	format := byte('f')
	if abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	start := len(buf)
	buf = strconv.AppendFloat(buf, f, format, -1, bits)
	if format == 'e' {
		// e-09 → e-9, as encoding/json prints it.
		n := len(buf)
		if n-start >= 4 && buf[n-4] == 'e' && buf[n-3] == '-' && buf[n-2] == '0' {
			buf[n-2] = buf[n-1]
			buf = buf[:n-1]
		}
	}
	return buf
}
