package jsonb

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"unicode/utf8"
)

const hexDigits = "0123456789abcdef"

// KeyLess is jsonb's order of object keys: shorter first, then bytewise.
func KeyLess(a, b string) bool {
	if len(a) != len(b) {
		return len(a) < len(b)
	}
	return a < b
}

func sep(buf []byte, i int) []byte {
	if i == 0 {
		return buf
	}
	return append(buf, ',', ' ')
}

// AppendString quotes s as PostgreSQL's escape_json does: \" \\ \b \f
// \n \r \t, other control characters as \u00XX, everything else verbatim.
func AppendString(buf []byte, s string) []byte {
	buf = append(buf, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			buf = append(buf, c)
			i++
			continue
		}
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && size == 1 {
				buf = append(buf, `\ufffd`...)
			} else {
				buf = append(buf, s[i:i+size]...)
			}
			i += size
			continue
		}
		switch c {
		case '"':
			buf = append(buf, '\\', '"')
		case '\\':
			buf = append(buf, '\\', '\\')
		case '\b':
			buf = append(buf, '\\', 'b')
		case '\f':
			buf = append(buf, '\\', 'f')
		case '\n':
			buf = append(buf, '\\', 'n')
		case '\r':
			buf = append(buf, '\\', 'r')
		case '\t':
			buf = append(buf, '\\', 't')
		default:
			buf = append(buf, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
		}
		i++
	}
	return append(buf, '"')
}

// Append appends the JSON document text as jsonb_out prints what
// jsonb_in reads from it. num, when not nil, rewrites each number's text
// first. It fails, appending nothing, when text is not one JSON value.
func Append(buf []byte, text string, num func(string) string) ([]byte, error) {
	d := json.NewDecoder(strings.NewReader(text))
	d.UseNumber()
	start := len(buf)
	out, err := appendValue(buf, d, num)
	if err == nil {
		if _, end := d.Token(); end != io.EOF {
			err = errors.New("text after the JSON value")
		}
	}
	if err != nil {
		return buf[:start], err
	}
	return out, nil
}

func appendValue(buf []byte, d *json.Decoder, num func(string) string) ([]byte, error) {
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
				buf = sep(buf, i)
				if buf, err = appendValue(buf, d, num); err != nil {
					return nil, err
				}
			}
			if _, err := d.Token(); err != nil {
				return nil, err
			}
			return append(buf, ']'), nil
		case '{':
			return appendObject(buf, d, num)
		}
		return nil, fmt.Errorf("unexpected %v", x)
	case string:
		return AppendString(buf, x), nil
	case json.Number:
		n := string(x)
		if num != nil {
			n = num(n)
		}
		return AppendNumber(buf, n), nil
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
func appendObject(buf []byte, d *json.Decoder, num func(string) string) ([]byte, error) {
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
		value, err := appendValue(nil, d, num)
		if err != nil {
			return nil, err
		}
		members = append(members, member{key, value})
	}
	if _, err := d.Token(); err != nil {
		return nil, err
	}
	// Stable, so that of equal keys the last one read ends the run.
	sort.SliceStable(members, func(i, j int) bool { return KeyLess(members[i].key, members[j].key) })
	buf = append(buf, '{')
	n := 0
	for i, m := range members {
		if i+1 < len(members) && members[i+1].key == m.key {
			continue
		}
		buf = sep(buf, n)
		n++
		buf = AppendString(buf, m.key)
		buf = append(buf, ':', ' ')
		buf = append(buf, m.value...)
	}
	return append(buf, '}'), nil
}

// AppendNumber writes a JSON number as numeric_out prints the numeric
// that numeric_in reads from it: no exponent, the display scale being the
// fraction's digits less the exponent (at least 0), no negative zero.
func AppendNumber(buf []byte, num string) []byte {
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
