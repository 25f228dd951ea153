package codec

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
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
		return append(buf, text...), nil
	}
	return appendJSONBText(buf, text)
}

// appendJSONBText appends a JSON document in jsonb's output form. Text
// that does not parse (DuckDB validated it already) is appended as it is.
func appendJSONBText(buf []byte, text string) ([]byte, error) {
	d := json.NewDecoder(strings.NewReader(text))
	d.UseNumber()
	start := len(buf)
	out, err := appendJSONBValue(buf, d)
	if err == nil {
		if _, end := d.Token(); end != io.EOF {
			err = errors.New("text after the JSON value")
		}
	}
	if err != nil {
		return append(buf[:start], text...), nil
	}
	return out, nil
}

func appendJSONBValue(buf []byte, d *json.Decoder) ([]byte, error) {
	tok, err := d.Token()
	if err != nil {
		return nil, err
	}
	switch x := tok.(type) {
	case json.Delim:
		switch x {
		case '[':
			buf = append(buf, '[')
			for i := 0; d.More(); i++ {
				buf = appendJSONSep(buf, i, true)
				if buf, err = appendJSONBValue(buf, d); err != nil {
					return nil, err
				}
			}
			if _, err := d.Token(); err != nil {
				return nil, err
			}
			return append(buf, ']'), nil
		case '{':
			return appendJSONBObject(buf, d)
		}
		return nil, fmt.Errorf("unexpected %v", x)
	case string:
		return appendJSONString(buf, x), nil
	case json.Number:
		return appendJSONBNumber(buf, string(x)), nil
	case bool:
		if x {
			return append(buf, "true"...), nil
		}
		return append(buf, "false"...), nil
	case nil:
		return append(buf, "null"...), nil
	}
	return nil, fmt.Errorf("unexpected token %T", tok)
}

// appendJSONBObject writes an object whose '{' has been read: its members
// are normalized one by one, then deduplicated and ordered.
func appendJSONBObject(buf []byte, d *json.Decoder) ([]byte, error) {
	type member struct {
		key   string
		value []byte
	}
	var members []member
	for d.More() {
		tok, err := d.Token()
		if err != nil {
			return nil, err
		}
		key, ok := tok.(string)
		if !ok {
			return nil, fmt.Errorf("object key %v", tok)
		}
		value, err := appendJSONBValue(nil, d)
		if err != nil {
			return nil, err
		}
		members = append(members, member{key, value})
	}
	if _, err := d.Token(); err != nil {
		return nil, err
	}
	// Stable, so that of equal keys the last one read ends the run.
	sort.SliceStable(members, func(i, j int) bool { return jsonbKeyLess(members[i].key, members[j].key) })
	buf = append(buf, '{')
	n := 0
	for i, m := range members {
		if i+1 < len(members) && members[i+1].key == m.key {
			continue
		}
		buf = appendJSONSep(buf, n, true)
		n++
		buf = appendJSONString(buf, m.key)
		buf = appendJSONColon(buf, true)
		buf = append(buf, m.value...)
	}
	return append(buf, '}'), nil
}

// appendJSONBNumber writes a JSON number as numeric_out prints the numeric
// that numeric_in reads from it: no exponent, the display scale being the
// fraction's digits less the exponent (at least 0), no negative zero.
func appendJSONBNumber(buf []byte, num string) []byte {
	s := num
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	mant, exp := s, 0
	if i := strings.IndexAny(s, "eE"); i >= 0 {
		mant = s[:i]
		e := 0
		sign := 1
		for j, c := range s[i+1:] {
			switch {
			case j == 0 && (c == '+' || c == '-'):
				if c == '-' {
					sign = -1
				}
			case c >= '0' && c <= '9':
				if e > 20000 { // beyond numeric's range (PostgreSQL refuses it): keep the text
					return append(buf, num...)
				}
				e = e*10 + int(c-'0')
			default:
				return append(buf, num...)
			}
		}
		exp = sign * e
	}
	intPart, frac, _ := strings.Cut(mant, ".")
	digits := strings.TrimLeft(intPart+frac, "0")
	scale := len(frac) - exp // digits right of the point
	if digits == "" {
		buf = append(buf, '0')
		if scale > 0 {
			buf = append(buf, '.')
			buf = append(buf, bytes.Repeat([]byte{'0'}, scale)...)
		}
		return buf
	}
	if neg {
		buf = append(buf, '-')
	}
	if scale <= 0 {
		buf = append(buf, digits...)
		return append(buf, bytes.Repeat([]byte{'0'}, -scale)...)
	}
	if len(digits) <= scale {
		buf = append(buf, "0."...)
		buf = append(buf, bytes.Repeat([]byte{'0'}, scale-len(digits))...)
		return append(buf, digits...)
	}
	buf = append(buf, digits[:len(digits)-scale]...)
	buf = append(buf, '.')
	return append(buf, digits[len(digits)-scale:]...)
}
