package codec

import (
	jsonbtext "github.com/hopsql/hopsql/udf/jsonb"
	"strings"
)

// JSON columns whose values arrive as their text (pgtypes.Type.JSONText):
// json keeps the text as stored, as PostgreSQL's json does; jsonb prints it
// the way jsonb_out would after jsonb_in: keys ordered by length then
// bytes, the last of duplicate keys kept, ", " and ": " separators, strings
// re-escaped, numbers as numeric prints them (1e2 is 100, 1.50 stays 1.50).

func textJSONText(buf []byte, v any, jsonb bool, s *Settings) ([]byte, error) {
	text, ok := v.(string)
	if !ok {
		return appendJSONTop(buf, v, jsonb, s)
	}
	if !jsonb {
		return appendTrimmedNumerics(buf, text), nil
	}
	out, err := jsonbtext.Append(buf, text, trimNumeric)
	if err != nil {
		// DuckDB validated it: not reached; sent as it is.
		return append(buf, text...), nil
	}
	return out, nil
}

// unconstrainedScale is the scale of DuckDB's type for unconstrained
// numeric (pgtypes.UnconstrainedNumericScale): DuckDB's JSON functions
// print such a value with all ten decimals (1.5000000000).
const unconstrainedScale = 10

// appendTrimmedNumerics appends JSON text with the trailing zeros of
// numbers that have exactly ten decimals and no exponent removed, as
// hopsql prints unconstrained numeric elsewhere (1.5, 100). A number
// written so in the JSON itself loses them too.
func appendTrimmedNumerics(buf []byte, text string) []byte {
	start := 0
	for i := 0; i < len(text); i++ {
		switch c := text[i]; {
		case c == '"':
			for i++; i < len(text) && text[i] != '"'; i++ {
				if text[i] == '\\' {
					i++
				}
			}
		case c == '-' || c >= '0' && c <= '9':
			j := i + 1
			for j < len(text) && (text[j] >= '0' && text[j] <= '9' || text[j] == '.' || text[j] == 'e' || text[j] == 'E' || text[j] == '+' || text[j] == '-') {
				j++
			}
			if t := trimNumeric(text[i:j]); len(t) != j-i {
				buf = append(buf, text[start:i]...)
				buf = append(buf, t...)
				start = j
			}
			i = j - 1
		}
	}
	return append(buf, text[start:]...)
}

// trimNumeric trims a number printed with unconstrainedScale decimals.
func trimNumeric(num string) string {
	dot := strings.IndexByte(num, '.')
	if dot < 0 || len(num)-dot-1 != unconstrainedScale || strings.ContainsAny(num, "eE") {
		return num
	}
	t := strings.TrimRight(num, "0")
	return strings.TrimSuffix(t, ".")
}
