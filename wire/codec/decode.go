package codec

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/duckdb/duckdb-go/v2"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/hopsql/hopsql/engine/pgerr"
	"github.com/hopsql/hopsql/engine/pgtypes"
)

// Bind parameters. Text values are parsed here wherever DuckDB's VARCHAR
// cast would accept different input than PostgreSQL or report a different
// error; the rest stay strings for DuckDB to cast to the parameter's type.
//
// Values returned, by parameter type:
//
//	unspecified (0), unknown, text, varchar, bpchar, name, "char", json, jsonb,
//	date, time, timetz, timestamp, timestamptz, reg*, others  string
//	bool                                                     bool
//	int2, int4, int8                                         int16, int32, int64
//	oid                                                      int64
//	float4, float8                                           float32, float64
//	numeric                                                  string (exact decimal, "NaN", "Infinity")
//	bytea                                                    []byte (a copy)
//	interval                                                 duckdb.Interval
//	uuid                                                     *duckdb.UUID
//	arrays                                                   []any of the element values
//
// Binary date/timestamp/timestamptz become time.Time (UTC), or the strings
// "infinity"/"-infinity", which time.Time cannot hold; binary time and timetz
// become strings. uuid is a *duckdb.UUID rather than a duckdb.UUID because the
// driver binds a UUID parameter through fmt.Stringer/driver.Valuer, which only
// the pointer implements. Array elements of date/timestamp type are time.Time
// in text format too (when written in ISO form), because the driver binds list
// elements without casting strings.

// DecodeParam turns one Bind parameter into a Go value for the DuckDB driver.
// oid is the parameter type (0 = unspecified: the string is returned). data
// nil is SQL NULL and gives nil. Errors are *pgerr.Error (22P02 and friends
// for text, 22P03 for binary); pass them through BindError to name the
// parameter the way PostgreSQL does.
func DecodeParam(oid uint32, format int16, data []byte) (any, error) {
	if data == nil {
		return nil, nil
	}
	switch format {
	case 0:
		return decodeText(oid, data, false)
	case 1:
		return decodeBinary(oid, data)
	}
	return nil, pgerr.New(pgerr.ProtocolViolation, "unsupported format code: %d", format)
}

// BindError returns err as PostgreSQL reports a failed Bind parameter n
// (1-based): binary format errors name the parameter ("incorrect binary data
// format in bind parameter 1"), with the specifics in the detail; text errors
// are PostgreSQL's input function errors and pass through unchanged.
func BindError(err error, n int) *pgerr.Error {
	pe := pgerr.From(err)
	if pe.Code != pgerr.InvalidBinaryRepresentation {
		return pe
	}
	out := pgerr.New(pe.Code, "incorrect binary data format in bind parameter %d", n)
	if pe.Message != binaryFormatMsg {
		out.Detail = pe.Message
	}
	return out
}

const binaryFormatMsg = "incorrect binary data format"

func binaryError(format string, args ...any) *pgerr.Error {
	if format == "" {
		return pgerr.New(pgerr.InvalidBinaryRepresentation, binaryFormatMsg)
	}
	return pgerr.New(pgerr.InvalidBinaryRepresentation, format, args...)
}

func syntaxError(typ, s string) *pgerr.Error {
	return pgerr.New(pgerr.InvalidTextRepresentation, "invalid input syntax for type %s: \"%s\"", typ, s)
}

func validString(data []byte) (string, error) {
	if !utf8.Valid(data) {
		return "", invalidUTF8(data)
	}
	return string(data), nil
}

// invalidUTF8 reports the first bad sequence as PostgreSQL does.
func invalidUTF8(data []byte) error {
	i := 0
	for i < len(data) {
		r, size := utf8.DecodeRune(data[i:])
		if r == utf8.RuneError && size == 1 {
			break
		}
		i += size
	}
	end := min(i+2, len(data))
	var b strings.Builder
	for j := i; j < end; j++ {
		if j > i {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "0x%02x", data[j])
	}
	return pgerr.New(pgerr.CharacterNotInRepertoire, "invalid byte sequence for encoding \"UTF8\": %s", b.String())
}

// decodeText parses one text-format value. inArray asks for values the
// driver can bind as list elements (time.Time for dates and timestamps).
func decodeText(oid uint32, data []byte, inArray bool) (any, error) {
	s, err := validString(data)
	if err != nil {
		return nil, err
	}
	switch oid {
	case pgtype.BoolOID:
		b, ok := parseBool(s)
		if !ok {
			return nil, syntaxError("boolean", s)
		}
		return b, nil
	case pgtype.Int2OID:
		i, err := parseInt(s, 16, "smallint")
		return int16(i), err
	case pgtype.Int4OID:
		i, err := parseInt(s, 32, "integer")
		return int32(i), err
	case pgtype.Int8OID:
		return parseInt(s, 64, "bigint")
	case pgtype.OIDOID:
		return parseOID(s)
	case pgtype.Float4OID:
		f, err := parseFloat(s, 32, "real")
		return float32(f), err
	case pgtype.Float8OID:
		return parseFloat(s, 64, "double precision")
	case pgtype.NumericOID:
		return parseNumeric(s)
	case pgtype.ByteaOID:
		return parseBytea(s)
	case pgtype.UUIDOID:
		u, ok := parseUUID(s)
		if !ok {
			return nil, syntaxError("uuid", s)
		}
		return u, nil
	case pgtype.IntervalOID:
		iv, err := ParseInterval(s)
		if err != nil {
			return nil, err
		}
		return iv, nil
	case pgtype.DateOID, pgtype.TimestampOID, pgtype.TimestamptzOID:
		if inArray {
			if t, hasTZ, ok := parseISODateTime(s); ok && (hasTZ || oid != pgtype.TimestamptzOID) {
				return t, nil
			}
		}
		return s, nil
	}
	if info, ok := pgtypes.Lookup(oid); ok && info.Category == 'A' && info.ElemOID != 0 {
		if oid == pgtypes.Int2VectorOID || oid == pgtypes.OIDVectorOID {
			return parseVector(s, info.ElemOID)
		}
		return parseArray(s, info.ElemOID)
	}
	return s, nil
}

// parseBool is parse_bool_with_len: any prefix of true/false/yes/no, on/off
// (at least two letters), 1 and 0, case-insensitive, surrounding blanks ok.
func parseBool(s string) (bool, bool) {
	v := strings.ToLower(strings.TrimSpace(s))
	if v == "" {
		return false, false
	}
	switch v[0] {
	case 't':
		return true, strings.HasPrefix("true", v)
	case 'f':
		return false, strings.HasPrefix("false", v)
	case 'y':
		return true, strings.HasPrefix("yes", v)
	case 'n':
		return false, strings.HasPrefix("no", v)
	case 'o':
		if len(v) >= 2 && strings.HasPrefix("on", v) {
			return true, true
		}
		if len(v) >= 2 && strings.HasPrefix("off", v) {
			return false, true
		}
	case '1':
		return true, len(v) == 1
	case '0':
		return false, len(v) == 1
	}
	return false, false
}

// isPGSpace is PostgreSQL's isspace in the C locale.
func isPGSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'
}

func trimPGSpace(s string) string {
	i, j := 0, len(s)
	for i < j && isPGSpace(s[i]) {
		i++
	}
	for j > i && isPGSpace(s[j-1]) {
		j--
	}
	return s[i:j]
}

// parseInt is pg_strtoint16/32/64: blanks, optional sign, decimal digits.
func parseInt(s string, bits int, typ string) (int64, error) {
	v := trimPGSpace(s)
	digits := v
	if digits != "" && (digits[0] == '+' || digits[0] == '-') {
		digits = digits[1:]
	}
	if digits == "" {
		return 0, syntaxError(typ, s)
	}
	for i := 0; i < len(digits); i++ {
		if digits[i] < '0' || digits[i] > '9' {
			return 0, syntaxError(typ, s)
		}
	}
	if v[0] == '+' {
		v = v[1:]
	}
	i, err := strconv.ParseInt(v, 10, bits)
	if err != nil {
		return 0, pgerr.New(pgerr.NumericValueOutOfRange, "value \"%s\" is out of range for type %s", s, typ)
	}
	return i, nil
}

// parseOID is oidin: an unsigned 32-bit number; negative inputs wrap, as
// PostgreSQL's strtoul does.
func parseOID(s string) (int64, error) {
	i, err := parseInt(s, 64, "oid")
	if err != nil {
		var pe *pgerr.Error
		if errors.As(err, &pe) && pe.Code == pgerr.NumericValueOutOfRange {
			pe.Message = fmt.Sprintf("value \"%s\" is out of range for type oid", s)
		}
		return 0, err
	}
	if i < math.MinInt32 || i > math.MaxUint32 {
		return 0, pgerr.New(pgerr.NumericValueOutOfRange, "value \"%s\" is out of range for type oid", s)
	}
	if i < 0 {
		i += 1 << 32
	}
	return i, nil
}

// parseFloat is float8in/float4in: strtod syntax plus NaN, Infinity, inf.
func parseFloat(s string, bits int, typ string) (float64, error) {
	v := trimPGSpace(s)
	if v == "" {
		return 0, syntaxError(typ, s)
	}
	switch strings.ToLower(v) {
	case "nan", "+nan", "-nan":
		return math.NaN(), nil
	case "infinity", "+infinity", "inf", "+inf":
		return math.Inf(1), nil
	case "-infinity", "-inf":
		return math.Inf(-1), nil
	}
	if strings.ContainsRune(v, '_') {
		return 0, syntaxError(typ, s)
	}
	f, err := strconv.ParseFloat(v, bits)
	if err != nil {
		if errors.Is(err, strconv.ErrRange) {
			return 0, pgerr.New(pgerr.NumericValueOutOfRange, "\"%s\" is out of range for type %s", s, typ)
		}
		return 0, syntaxError(typ, s)
	}
	if f == 0 && hasNonzeroMantissa(v) {
		// strtod underflow: PostgreSQL rejects it instead of rounding to 0.
		return 0, pgerr.New(pgerr.NumericValueOutOfRange, "\"%s\" is out of range for type %s", s, typ)
	}
	return f, nil
}

func hasNonzeroMantissa(v string) bool {
	if strings.HasPrefix(v, "0x") || strings.HasPrefix(v, "0X") {
		return false
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c == 'e' || c == 'E' {
			return false
		}
		if c >= '1' && c <= '9' {
			return true
		}
	}
	return false
}

// parseNumeric checks numeric_in's syntax and returns the value as a string
// for DuckDB to cast; special values come back in PostgreSQL's spelling.
func parseNumeric(s string) (string, error) {
	v := trimPGSpace(s)
	switch strings.ToLower(v) {
	case "nan", "+nan", "-nan":
		return "NaN", nil
	case "infinity", "+infinity", "inf", "+inf":
		return "Infinity", nil
	case "-infinity", "-inf":
		return "-Infinity", nil
	}
	i := 0
	if i < len(v) && (v[i] == '+' || v[i] == '-') {
		i++
	}
	digits := 0
	for ; i < len(v) && v[i] >= '0' && v[i] <= '9'; i++ {
		digits++
	}
	if i < len(v) && v[i] == '.' {
		i++
		for ; i < len(v) && v[i] >= '0' && v[i] <= '9'; i++ {
			digits++
		}
	}
	if digits == 0 {
		return "", syntaxError("numeric", s)
	}
	if i < len(v) && (v[i] == 'e' || v[i] == 'E') {
		i++
		if i < len(v) && (v[i] == '+' || v[i] == '-') {
			i++
		}
		ed := 0
		for ; i < len(v) && v[i] >= '0' && v[i] <= '9'; i++ {
			ed++
		}
		if ed == 0 {
			return "", syntaxError("numeric", s)
		}
	}
	if i != len(v) {
		return "", syntaxError("numeric", s)
	}
	return v, nil
}

func unhex(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// parseBytea is byteain: \x hex (blanks allowed between pairs) or the
// escape format (\\, \ooo, anything else verbatim).
func parseBytea(s string) ([]byte, error) {
	if len(s) >= 2 && s[0] == '\\' && s[1] == 'x' {
		out := make([]byte, 0, (len(s)-2)/2)
		for i := 2; i < len(s); {
			if isPGSpace(s[i]) {
				i++
				continue
			}
			hi, ok := unhex(s[i])
			if !ok {
				return nil, pgerr.New(pgerr.InvalidParameterValue, "invalid hexadecimal digit: \"%s\"", string(s[i]))
			}
			if i+1 >= len(s) {
				return nil, pgerr.New(pgerr.InvalidParameterValue, "invalid hexadecimal data: odd number of digits")
			}
			lo, ok := unhex(s[i+1])
			if !ok {
				return nil, pgerr.New(pgerr.InvalidParameterValue, "invalid hexadecimal digit: \"%s\"", string(s[i+1]))
			}
			out = append(out, hi<<4|lo)
			i += 2
		}
		return out, nil
	}
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); {
		if s[i] != '\\' {
			out = append(out, s[i])
			i++
			continue
		}
		switch {
		case i+1 < len(s) && s[i+1] == '\\':
			out = append(out, '\\')
			i += 2
		case i+3 < len(s) && isOctal(s[i+1], '3') && isOctal(s[i+2], '7') && isOctal(s[i+3], '7'):
			out = append(out, (s[i+1]-'0')<<6|(s[i+2]-'0')<<3|(s[i+3]-'0'))
			i += 4
		default:
			return nil, syntaxError("bytea", s)
		}
	}
	return out, nil
}

func isOctal(c, maxDigit byte) bool { return c >= '0' && c <= maxDigit }

// parseUUID is string_to_uuid: optional braces, 32 hex digits, a hyphen
// allowed after any group of four.
func parseUUID(s string) (*duckdb.UUID, bool) {
	var u duckdb.UUID
	i := 0
	braces := len(s) > 0 && s[0] == '{'
	if braces {
		i++
	}
	for n := 0; n < 16; n++ {
		if i+1 >= len(s) {
			return nil, false
		}
		hi, ok1 := unhex(s[i])
		lo, ok2 := unhex(s[i+1])
		if !ok1 || !ok2 {
			return nil, false
		}
		u[n] = hi<<4 | lo
		i += 2
		if i < len(s) && s[i] == '-' && n%2 == 1 && n < 15 {
			i++
		}
	}
	if braces {
		if i >= len(s) || s[i] != '}' {
			return nil, false
		}
		i++
	}
	if i != len(s) {
		return nil, false
	}
	return &u, true
}

// parseISODateTime reads the ISO forms clients send for dates and
// timestamps: YYYY-MM-DD[( |T)HH:MM[:SS[.f]]][Z|±HH[:MM[:SS]]][ BC].
func parseISODateTime(s string) (t time.Time, hasTZ bool, ok bool) {
	v := trimPGSpace(s)
	bc := false
	if len(v) > 3 && strings.EqualFold(v[len(v)-3:], " bc") {
		bc = true
		v = strings.TrimRight(v[:len(v)-3], " ")
	}
	num := func(n int) (int64, bool) {
		if n <= 0 || len(v) < n {
			return 0, false
		}
		var x int64
		for i := 0; i < n; i++ {
			if v[i] < '0' || v[i] > '9' {
				return 0, false
			}
			x = x*10 + int64(v[i]-'0')
		}
		v = v[n:]
		return x, true
	}
	yl := strings.IndexByte(v, '-')
	if yl < 4 {
		return t, false, false
	}
	y, ok1 := num(yl)
	if !ok1 || v == "" || v[0] != '-' {
		return t, false, false
	}
	v = v[1:]
	mo, ok2 := num(2)
	if !ok2 || v == "" || v[0] != '-' {
		return t, false, false
	}
	v = v[1:]
	d, ok3 := num(2)
	if !ok3 || mo < 1 || mo > 12 || d < 1 || d > 31 {
		return t, false, false
	}
	if bc {
		y = 1 - y
	}
	days := daysFromCivil(y, int(mo), int(d))
	if cy, cm, cd := civilFromDays(days); cy != y || cm != int(mo) || cd != int(d) {
		return t, false, false // 2023-02-30
	}
	var us int64
	if v != "" && (v[0] == ' ' || v[0] == 'T' || v[0] == 't') {
		v = v[1:]
		h, okh := num(2)
		if !okh || v == "" || v[0] != ':' {
			return t, false, false
		}
		v = v[1:]
		mi, okm := num(2)
		if !okm {
			return t, false, false
		}
		var sec int64
		if v != "" && v[0] == ':' {
			v = v[1:]
			var oks bool
			if sec, oks = num(2); !oks {
				return t, false, false
			}
			if v != "" && v[0] == '.' {
				v = v[1:]
				n := 0
				for n < len(v) && v[n] >= '0' && v[n] <= '9' {
					n++
				}
				frac := v[:n]
				v = v[n:]
				// Round to microseconds, as PostgreSQL does.
				var f int64
				for i := 0; i < 6; i++ {
					f *= 10
					if i < len(frac) {
						f += int64(frac[i] - '0')
					}
				}
				if len(frac) > 6 && frac[6] >= '5' {
					f++
				}
				us += f
			}
		}
		if h > 24 || mi > 59 || sec > 60 {
			return t, false, false
		}
		us += (h*3600 + mi*60 + sec) * usecsPerSec
	}
	off := int64(0)
	if v != "" {
		v = strings.TrimLeft(v, " ")
		switch {
		case v == "Z" || v == "z":
			hasTZ = true
			v = ""
		case v != "" && (v[0] == '+' || v[0] == '-'):
			sign := int64(1)
			if v[0] == '-' {
				sign = -1
			}
			v = v[1:]
			oh, okh := num(2)
			if !okh {
				return t, false, false
			}
			off = oh * 3600
			for _, mult := range []int64{60, 1} {
				if v != "" && v[0] == ':' {
					v = v[1:]
				}
				if len(v) >= 2 {
					x, okx := num(2)
					if !okx {
						return t, false, false
					}
					off += x * mult
				}
			}
			off *= sign
			hasTZ = true
		}
		if v != "" {
			return t, false, false
		}
	}
	us += days*usecsPerDay - off*usecsPerSec
	return time.UnixMicro(us).UTC(), hasTZ, true
}

// parseArray is array_in for a one- or multi-dimensional array literal;
// elements are decoded as text of type elemOID.
func parseArray(s string, elemOID uint32) (any, error) {
	p := arrayParser{src: s, elemOID: elemOID}
	return p.parse()
}

type arrayParser struct {
	src     string
	pos     int
	elemOID uint32
}

func (p *arrayParser) fail(detail string) error {
	return pgerr.New(pgerr.InvalidTextRepresentation, "malformed array literal: \"%s\"", p.src).WithDetail(detail)
}

func (p *arrayParser) skipSpace() {
	for p.pos < len(p.src) && isPGSpace(p.src[p.pos]) {
		p.pos++
	}
}

func (p *arrayParser) parse() (any, error) {
	p.skipSpace()
	// Optional dimension decoration "[1:3]={...}": bounds are not kept,
	// DuckDB lists always start at 1.
	if p.pos < len(p.src) && p.src[p.pos] == '[' {
		eq := strings.IndexByte(p.src[p.pos:], '=')
		if eq < 0 {
			return nil, p.fail("Missing \"=\" after array dimensions.")
		}
		p.pos += eq + 1
		p.skipSpace()
	}
	if p.pos >= len(p.src) || p.src[p.pos] != '{' {
		return nil, p.fail("Array value must start with \"{\" or dimension information.")
	}
	v, err := p.parseLevel()
	if err != nil {
		return nil, err
	}
	p.skipSpace()
	if p.pos != len(p.src) {
		return nil, p.fail("Junk after closing right brace.")
	}
	return v, nil
}

// parseLevel reads one {...} group starting at '{'.
func (p *arrayParser) parseLevel() ([]any, error) {
	p.pos++ // '{'
	out := []any{}
	p.skipSpace()
	if p.pos < len(p.src) && p.src[p.pos] == '}' {
		p.pos++
		return out, nil
	}
	subArrays := -1 // unknown until the first element
	for {
		p.skipSpace()
		if p.pos >= len(p.src) {
			return nil, p.fail("Unexpected end of input.")
		}
		if p.src[p.pos] == '{' {
			if subArrays == 0 {
				return nil, p.fail("Unexpected \"{\" character.")
			}
			subArrays = 1
			sub, err := p.parseLevel()
			if err != nil {
				return nil, err
			}
			if len(out) > 0 && len(out[0].([]any)) != len(sub) {
				return nil, p.fail("Multidimensional arrays must have sub-arrays with matching dimensions.")
			}
			out = append(out, sub)
		} else {
			if subArrays == 1 {
				return nil, p.fail("Unexpected array element.")
			}
			subArrays = 0
			el, err := p.parseElement()
			if err != nil {
				return nil, err
			}
			out = append(out, el)
		}
		p.skipSpace()
		if p.pos >= len(p.src) {
			return nil, p.fail("Unexpected end of input.")
		}
		switch p.src[p.pos] {
		case ',':
			p.pos++
		case '}':
			p.pos++
			return out, nil
		default:
			return nil, p.fail("Unexpected array element.")
		}
	}
}

// parseElement reads a quoted or unquoted element and decodes it.
func (p *arrayParser) parseElement() (any, error) {
	var b []byte
	if p.src[p.pos] == '"' {
		p.pos++
		for {
			if p.pos >= len(p.src) {
				return nil, p.fail("Unexpected end of input.")
			}
			c := p.src[p.pos]
			if c == '"' {
				p.pos++
				break
			}
			if c == '\\' {
				p.pos++
				if p.pos >= len(p.src) {
					return nil, p.fail("Unexpected end of input.")
				}
				c = p.src[p.pos]
			}
			b = append(b, c)
			p.pos++
		}
	} else {
		lastNonSpace := 0
		for p.pos < len(p.src) {
			c := p.src[p.pos]
			if c == ',' || c == '}' {
				break
			}
			if c == '{' || c == '"' {
				return nil, p.fail("Unexpected \"" + string(c) + "\" character.")
			}
			if c == '\\' {
				p.pos++
				if p.pos >= len(p.src) {
					return nil, p.fail("Unexpected end of input.")
				}
				b = append(b, p.src[p.pos])
				p.pos++
				lastNonSpace = len(b)
				continue
			}
			b = append(b, c)
			if !isPGSpace(c) {
				lastNonSpace = len(b)
			}
			p.pos++
		}
		b = b[:lastNonSpace]
		if len(b) == 0 {
			return nil, p.fail("Unexpected \"" + string(p.src[min(p.pos, len(p.src)-1)]) + "\" character.")
		}
		if len(b) == 4 && strings.EqualFold(string(b), "null") {
			return nil, nil
		}
	}
	if b == nil {
		b = []byte{}
	}
	return decodeText(p.elemOID, b, true)
}

// parseVector reads int2vector/oidvector text: numbers separated by blanks.
func parseVector(s string, elemOID uint32) (any, error) {
	out := []any{}
	for _, f := range strings.Fields(s) {
		v, err := decodeText(elemOID, []byte(f), true)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

func decodeBinary(oid uint32, data []byte) (any, error) {
	need := func(n int) error {
		if len(data) != n {
			return binaryError("")
		}
		return nil
	}
	be := binary.BigEndian
	switch oid {
	case pgtype.BoolOID:
		if err := need(1); err != nil {
			return nil, err
		}
		return data[0] != 0, nil
	case pgtype.Int2OID:
		if err := need(2); err != nil {
			return nil, err
		}
		return int16(be.Uint16(data)), nil
	case pgtype.Int4OID:
		if err := need(4); err != nil {
			return nil, err
		}
		return int32(be.Uint32(data)), nil
	case pgtype.Int8OID:
		if err := need(8); err != nil {
			return nil, err
		}
		return int64(be.Uint64(data)), nil
	case pgtype.OIDOID, pgtypes.RegclassOID, pgtypes.RegtypeOID, pgtypes.RegprocOID, pgtypes.RegnamespaceOID:
		if err := need(4); err != nil {
			return nil, err
		}
		return int64(be.Uint32(data)), nil
	case pgtype.Float4OID:
		if err := need(4); err != nil {
			return nil, err
		}
		return math.Float32frombits(be.Uint32(data)), nil
	case pgtype.Float8OID:
		if err := need(8); err != nil {
			return nil, err
		}
		return math.Float64frombits(be.Uint64(data)), nil
	case 0, pgtypes.UnknownOID, pgtype.TextOID, pgtype.VarcharOID, pgtype.BPCharOID, pgtype.NameOID,
		pgtype.QCharOID, pgtype.JSONOID:
		return validString(data)
	case pgtype.JSONBOID:
		if len(data) == 0 {
			return nil, binaryError("")
		}
		if data[0] != 1 {
			return nil, binaryError("unsupported jsonb version number %d", data[0])
		}
		return validString(data[1:])
	case pgtype.ByteaOID:
		return append([]byte{}, data...), nil
	case pgtype.DateOID:
		if err := need(4); err != nil {
			return nil, err
		}
		d := int32(be.Uint32(data))
		switch d {
		case math.MaxInt32:
			return "infinity", nil
		case math.MinInt32:
			return "-infinity", nil
		}
		return time.Unix((int64(d)+pgEpochDays)*86400, 0).UTC(), nil
	case pgtype.TimestampOID, pgtype.TimestamptzOID:
		if err := need(8); err != nil {
			return nil, err
		}
		us := int64(be.Uint64(data))
		switch us {
		case math.MaxInt64:
			return "infinity", nil
		case math.MinInt64:
			return "-infinity", nil
		}
		return time.UnixMicro(us + pgEpochMicros).UTC(), nil
	case pgtype.TimeOID:
		if err := need(8); err != nil {
			return nil, err
		}
		us := int64(be.Uint64(data))
		if us < 0 || us > usecsPerDay {
			return nil, pgerr.New(pgerr.NumericValueOutOfRange, "time out of range")
		}
		return string(appendTOD(nil, us)), nil
	case timetzOID:
		if err := need(12); err != nil {
			return nil, err
		}
		us := int64(be.Uint64(data))
		zone := int32(be.Uint32(data[8:]))
		if us < 0 || us > usecsPerDay {
			return nil, pgerr.New(pgerr.NumericValueOutOfRange, "time out of range")
		}
		return string(appendTZOffset(appendTOD(nil, us), int(-zone))), nil
	case pgtype.IntervalOID:
		if err := need(16); err != nil {
			return nil, err
		}
		return duckdb.Interval{
			Micros: int64(be.Uint64(data)),
			Days:   int32(be.Uint32(data[8:])),
			Months: int32(be.Uint32(data[12:])),
		}, nil
	case pgtype.UUIDOID:
		if err := need(16); err != nil {
			return nil, err
		}
		var u duckdb.UUID
		copy(u[:], data)
		return &u, nil
	case pgtype.NumericOID:
		return decodeNumericBinary(data)
	}
	if info, ok := pgtypes.Lookup(oid); ok && info.Category == 'A' && info.ElemOID != 0 {
		return decodeArrayBinary(data, info.ElemOID)
	}
	return nil, pgerr.New(pgerr.UndefinedFunction, "no binary input function available for type %s", typeName(oid))
}

// decodeNumericBinary is numeric_recv, printed as numeric_out would:
// base-10000 digits with weight, sign and display scale.
func decodeNumericBinary(data []byte) (string, error) {
	if len(data) < 8 {
		return "", binaryError("")
	}
	be := binary.BigEndian
	ndigits := int(int16(be.Uint16(data)))
	weight := int(int16(be.Uint16(data[2:])))
	sign := be.Uint16(data[4:])
	dscale := int(int16(be.Uint16(data[6:])))
	if ndigits < 0 || len(data) != 8+2*ndigits {
		return "", binaryError("")
	}
	switch sign {
	case 0xC000:
		return "NaN", nil
	case 0xD000:
		return "Infinity", nil
	case 0xF000:
		return "-Infinity", nil
	case 0x0000, 0x4000:
	default:
		return "", binaryError("invalid sign in external \"numeric\" value")
	}
	if dscale < 0 || dscale > 0x3FFF {
		return "", binaryError("invalid scale in external \"numeric\" value")
	}
	digit := func(i int) int {
		if i < 0 || i >= ndigits {
			return 0
		}
		return int(be.Uint16(data[8+2*i:]))
	}
	for i := 0; i < ndigits; i++ {
		if digit(i) >= 10000 {
			return "", binaryError("invalid digit in external \"numeric\" value")
		}
	}
	out := make([]byte, 0, 8+4*(ndigits+1)+dscale)
	if sign == 0x4000 {
		out = append(out, '-')
	}
	if weight < 0 {
		out = append(out, '0')
	} else {
		for i := 0; i <= weight; i++ {
			d := digit(i)
			if i == 0 {
				out = strconv.AppendInt(out, int64(d), 10)
				continue
			}
			out = append(out, byte('0'+d/1000), byte('0'+d/100%10), byte('0'+d/10%10), byte('0'+d%10))
		}
	}
	if dscale > 0 {
		out = append(out, '.')
		for i, n := weight+1, 0; n < dscale; i++ {
			d := digit(i)
			for _, c := range [4]byte{byte('0' + d/1000), byte('0' + d/100%10), byte('0' + d/10%10), byte('0' + d%10)} {
				if n < dscale {
					out = append(out, c)
					n++
				}
			}
		}
	}
	return string(out), nil
}

// decodeArrayBinary is array_recv: header, dimensions, then elements of the
// element type named in the header, which must be the expected one.
func decodeArrayBinary(data []byte, elemOID uint32) (any, error) {
	be := binary.BigEndian
	if len(data) < 12 {
		return nil, binaryError("")
	}
	ndim := int(int32(be.Uint32(data)))
	flags := int32(be.Uint32(data[4:]))
	gotElem := be.Uint32(data[8:])
	if ndim < 0 || ndim > 6 {
		return nil, binaryError("invalid number of dimensions: %d", ndim)
	}
	if flags != 0 && flags != 1 {
		return nil, binaryError("invalid array flags")
	}
	if gotElem != elemOID {
		return nil, pgerr.New(pgerr.DatatypeMismatch,
			"binary data has array element type %d (%s) instead of expected %d (%s)",
			gotElem, typeName(gotElem), elemOID, typeName(elemOID))
	}
	data = data[12:]
	if len(data) < 8*ndim {
		return nil, binaryError("")
	}
	dims := make([]int, ndim)
	total := 1
	for i := range dims {
		n := int(int32(be.Uint32(data[8*i:])))
		if n < 0 || n > 1<<27 {
			return nil, binaryError("")
		}
		dims[i] = n
		total *= n
		if total > 1<<27 {
			return nil, binaryError("")
		}
	}
	data = data[8*ndim:]
	if ndim == 0 {
		if len(data) != 0 {
			return nil, binaryError("")
		}
		return []any{}, nil
	}
	var read func(depth int) ([]any, error)
	read = func(depth int) ([]any, error) {
		out := make([]any, dims[depth])
		for i := range out {
			if depth+1 < ndim {
				sub, err := read(depth + 1)
				if err != nil {
					return nil, err
				}
				out[i] = sub
				continue
			}
			if len(data) < 4 {
				return nil, binaryError("insufficient data left in message")
			}
			n := int(int32(be.Uint32(data)))
			data = data[4:]
			if n == -1 {
				continue
			}
			if n < 0 || n > len(data) {
				return nil, binaryError("insufficient data left in message")
			}
			v, err := decodeBinary(elemOID, data[:n:n])
			if err != nil {
				return nil, err
			}
			out[i] = v
			data = data[n:]
		}
		return out, nil
	}
	out, err := read(0)
	if err != nil {
		return nil, err
	}
	if len(data) != 0 {
		return nil, binaryError("")
	}
	return out, nil
}
