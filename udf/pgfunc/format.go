package pgfunc

import (
	"database/sql/driver"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/duckdb/duckdb-go/v2"

	"github.com/hopsql/hopsql/engine/pgerr"
)

// Format is PostgreSQL's format(formatstr, args…): %s inserts an argument
// as text (NULL as nothing), %I as a quoted identifier, %L as a quoted
// literal (NULL as NULL), %% a percent sign; %n$ picks argument n, a
// width (or * / *n$ taken from an argument) pads on the left, or on the
// right with the - flag. args are the arguments' text forms, nil for NULL.
func Format(format string, args []*string) (string, error) {
	var b strings.Builder
	next := 0 // the argument a specifier without n$ takes
	for i := 0; i < len(format); i++ {
		c := format[i]
		if c != '%' {
			b.WriteByte(c)
			continue
		}
		i++
		if i >= len(format) {
			return "", pgerr.New(pgerr.InvalidParameterValue, "unterminated format() type specifier")
		}
		if format[i] == '%' {
			b.WriteByte('%')
			continue
		}
		// [n$][-][width | * | *n$]type
		if n, l := digits(format[i:]); l > 0 && i+l < len(format) && format[i+l] == '$' {
			if n == 0 {
				return "", pgerr.New(pgerr.InvalidParameterValue, "format specifies argument 0, but arguments are numbered from 1")
			}
			next = n - 1
			i += l + 1
		}
		left := false
		for i < len(format) && format[i] == '-' {
			left = true
			i++
		}
		width := 0
		switch {
		case i < len(format) && format[i] == '*':
			i++
			arg := next
			if n, l := digits(format[i:]); l > 0 && i+l < len(format) && format[i+l] == '$' {
				arg = n - 1
				i += l + 1
			} else {
				next++
			}
			if arg < 0 || arg >= len(args) {
				return "", pgerr.New(pgerr.InvalidParameterValue, "too few arguments for format()")
			}
			if args[arg] != nil {
				w, err := strconv.ParseInt(strings.TrimSpace(*args[arg]), 10, 32)
				switch {
				case errors.Is(err, strconv.ErrRange):
					return "", pgerr.New(pgerr.NumericValueOutOfRange, "value \"%s\" is out of range for type integer", *args[arg])
				case err != nil:
					return "", pgerr.New(pgerr.InvalidTextRepresentation, "invalid input syntax for type integer: \"%s\"", *args[arg])
				}
				if w < 0 {
					left, w = true, -w
				}
				width = int(w)
			}
		default:
			n, l := digits(format[i:])
			width, i = n, i+l
		}
		if i >= len(format) {
			return "", pgerr.New(pgerr.InvalidParameterValue, "unterminated format() type specifier")
		}
		kind := format[i]
		if kind != 's' && kind != 'I' && kind != 'L' {
			e := pgerr.New(pgerr.InvalidParameterValue, "unrecognized format() type specifier \"%c\"", kind)
			e.Hint = `For a single "%" use "%%".`
			return "", e
		}
		if next >= len(args) {
			return "", pgerr.New(pgerr.InvalidParameterValue, "too few arguments for format()")
		}
		arg := args[next]
		next++
		var s string
		switch {
		case kind == 's' && arg != nil:
			s = *arg
		case kind == 'I' && arg == nil:
			return "", pgerr.New(pgerr.NullValueNotAllowed, "null values cannot be formatted as an SQL identifier")
		case kind == 'I':
			s = QuoteIdent(*arg)
		case kind == 'L' && arg == nil:
			s = "NULL"
		case kind == 'L':
			s = QuoteLiteral(*arg)
		}
		if width > maxFormatWidth {
			return "", pgerr.New(pgerr.ProgramLimitExceeded, "format() width %d is larger than %d", width, maxFormatWidth)
		}
		if pad := width - len([]rune(s)); pad > 0 {
			if left {
				s += strings.Repeat(" ", pad)
			} else {
				s = strings.Repeat(" ", pad) + s
			}
		}
		b.WriteString(s)
	}
	return b.String(), nil
}

// maxFormatWidth bounds a padded field (PostgreSQL's bound is its 1 GB
// string limit; a width is a client's to choose, so one row must not be
// able to take the server's memory).
const maxFormatWidth = 10 << 20

// digits reads a decimal number at the start of s: its value and length.
func digits(s string) (int, int) {
	n, l := 0, 0
	for l < len(s) && s[l] >= '0' && s[l] <= '9' && l < 9 {
		n = n*10 + int(s[l]-'0')
		l++
	}
	return n, l
}

// QuoteIdent quotes an identifier unless it is lower case letters, digits,
// underscores and dollars not starting with a digit (reserved words are
// not recognised: they stay unquoted).
func QuoteIdent(s string) string {
	safe := s != ""
	for i, r := range s {
		if !(r >= 'a' && r <= 'z' || r == '_' || i > 0 && (r >= '0' && r <= '9' || r == '$')) {
			safe = false
			break
		}
	}
	if safe {
		return s
	}
	return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
}

// QuoteLiteral is quote_literal: single quotes doubled, and a string with
// backslashes written as E'…' with them doubled.
func QuoteLiteral(s string) string {
	q := "'" + strings.ReplaceAll(s, "'", "''") + "'"
	if strings.Contains(s, `\`) {
		return "E" + strings.ReplaceAll(q, `\`, `\\`)
	}
	return q
}

// formatFunc is hop_format(format, args… as text).
type formatFunc struct{}

func (formatFunc) Config() duckdb.ScalarFuncConfig {
	return duckdb.ScalarFuncConfig{InputTypeInfos: []duckdb.TypeInfo{varchar()}, VariadicTypeInfo: varchar(),
		ResultTypeInfo: varchar(), SpecialNullHandling: true}
}

func (formatFunc) Executor() duckdb.ScalarFuncExecutor {
	return duckdb.ScalarFuncExecutor{RowExecutor: func(args []driver.Value) (any, error) {
		format, ok := args[0].(string)
		if !ok {
			return nil, nil // format(NULL, …) is NULL
		}
		texts := make([]*string, len(args)-1)
		for i, a := range args[1:] {
			if s, ok := a.(string); ok {
				texts[i] = &s
			}
		}
		out, err := Format(format, texts)
		if err != nil {
			return nil, tagged(err)
		}
		return out, nil
	}}
}

// tagged carries a *pgerr.Error's SQLSTATE through DuckDB to the client.
func tagged(err error) error {
	var pe *pgerr.Error
	if errors.As(err, &pe) {
		return pgerr.Tagged(pe.Code, errors.New(pe.Message))
	}
	return err
}

// clockFunc is clock_timestamp(): the time now, which changes during a
// statement (DuckDB's now() is the transaction's start).
type clockFunc struct{}

func (clockFunc) Config() duckdb.ScalarFuncConfig {
	t, _ := duckdb.NewTypeInfo(duckdb.TYPE_TIMESTAMP_TZ)
	return duckdb.ScalarFuncConfig{ResultTypeInfo: t, Volatile: true}
}

func (clockFunc) Executor() duckdb.ScalarFuncExecutor {
	return duckdb.ScalarFuncExecutor{RowExecutor: func([]driver.Value) (any, error) { return time.Now(), nil }}
}

// timeofdayFunc is timeofday(): the time now as text, in PostgreSQL's
// format ("Thu Dec 03 17:20:01.123456 2026 UTC"), in the server's zone.
type timeofdayFunc struct{}

func (timeofdayFunc) Config() duckdb.ScalarFuncConfig {
	return duckdb.ScalarFuncConfig{ResultTypeInfo: varchar(), Volatile: true}
}

func (timeofdayFunc) Executor() duckdb.ScalarFuncExecutor {
	return duckdb.ScalarFuncExecutor{RowExecutor: func([]driver.Value) (any, error) {
		return time.Now().Format("Mon Jan 02 15:04:05.000000 2006 MST"), nil
	}}
}

// RecordOut is PostgreSQL's text form of a row: (a,b,…), each field as its
// text, NULL as nothing, and a field quoted when it is empty or holds a
// quote, backslash, parenthesis, comma or white space (quotes and
// backslashes inside doubled).
func RecordOut(fields []*string) string {
	var b strings.Builder
	b.WriteByte('(')
	for i, f := range fields {
		if i > 0 {
			b.WriteByte(',')
		}
		if f == nil {
			continue
		}
		if *f != "" && !strings.ContainsAny(*f, "\"\\(),\t\n\v\f\r ") {
			b.WriteString(*f)
			continue
		}
		b.WriteByte('"')
		for _, c := range []byte(*f) {
			if c == '"' || c == '\\' {
				b.WriteByte(c)
			}
			b.WriteByte(c)
		}
		b.WriteByte('"')
	}
	b.WriteByte(')')
	return b.String()
}

// recordFunc is hop_record_out(value text, duckdb type text, …): a row's
// fields in pairs. Booleans print as t and f, as in PostgreSQL; other
// values as DuckDB's text.
type recordFunc struct{}

func (recordFunc) Config() duckdb.ScalarFuncConfig {
	return duckdb.ScalarFuncConfig{VariadicTypeInfo: varchar(), ResultTypeInfo: varchar(), SpecialNullHandling: true}
}

func (recordFunc) Executor() duckdb.ScalarFuncExecutor {
	return duckdb.ScalarFuncExecutor{RowExecutor: func(args []driver.Value) (any, error) {
		fields := make([]*string, len(args)/2)
		for i := range fields {
			s, ok := args[2*i].(string)
			if !ok {
				continue
			}
			if typ, _ := args[2*i+1].(string); typ == "BOOLEAN" {
				s = s[:1] // true → t, false → f
			}
			fields[i] = &s
		}
		return RecordOut(fields), nil
	}}
}
