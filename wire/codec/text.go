package codec

import (
	"fmt"
	"math"
	"math/big"
	"reflect"
	"strconv"
	"time"

	"github.com/duckdb/duckdb-go/v2"

	"github.com/hopsql/hopsql/engine/pgtypes"
)

// This file writes PostgreSQL 15's text output. pgtype's text encoders are
// not used here: they differ from the server's output for floats
// (extra_float_digits), timestamptz (session TimeZone), intervals and BC
// dates, and the remaining types are a few lines each without allocations.

const (
	usecsPerSec  = int64(1_000_000)
	usecsPerMin  = 60 * usecsPerSec
	usecsPerHour = 60 * usecsPerMin
	usecsPerDay  = 24 * usecsPerHour
)

func appendInt(buf []byte, x int64) []byte {
	// Single digits are the most common value in many columns (flags,
	// counts); skip strconv's bookkeeping for them.
	if x >= 0 && x < 10 {
		return append(buf, byte('0'+x))
	}
	return strconv.AppendInt(buf, x, 10)
}

// toInt64 widens any Go integer the driver produces.
func toInt64(v any) (int64, bool) {
	switch x := v.(type) {
	case int64:
		return x, true
	case int32:
		return int64(x), true
	case int16:
		return int64(x), true
	case int8:
		return int64(x), true
	case int:
		return int64(x), true
	case uint8:
		return int64(x), true
	case uint16:
		return int64(x), true
	case uint32:
		return int64(x), true
	case uint64:
		if x <= math.MaxInt64 {
			return int64(x), true
		}
	case uint:
		if uint64(x) <= math.MaxInt64 {
			return int64(x), true
		}
	}
	return 0, false
}

func textBool(buf []byte, v any, s *Settings) ([]byte, error) {
	if b, ok := v.(bool); ok {
		if b {
			return append(buf, 't'), nil
		}
		return append(buf, 'f'), nil
	}
	return textGeneric(buf, v, s)
}

func textInt(buf []byte, v any, s *Settings) ([]byte, error) {
	if x, ok := toInt64(v); ok {
		return appendInt(buf, x), nil
	}
	return textGeneric(buf, v, s)
}

func textString(buf []byte, v any, s *Settings) ([]byte, error) {
	switch x := v.(type) {
	case string:
		return append(buf, x...), nil
	case []byte:
		return append(buf, x...), nil
	}
	return textGeneric(buf, v, s)
}

func textFloat8(buf []byte, v any, s *Settings) ([]byte, error) {
	switch x := v.(type) {
	case float64:
		return appendFloat8(buf, x, s.ExtraFloatDigits), nil
	case float32:
		// A REAL widened into a float8 column prints as PostgreSQL's
		// float4-to-float8 cast would: the exact binary value.
		return appendFloat8(buf, float64(x), s.ExtraFloatDigits), nil
	}
	if i, ok := toInt64(v); ok {
		return appendFloat8(buf, float64(i), s.ExtraFloatDigits), nil
	}
	return textGeneric(buf, v, s)
}

func textFloat4(buf []byte, v any, s *Settings) ([]byte, error) {
	switch x := v.(type) {
	case float32:
		return appendFloat4(buf, x, s.ExtraFloatDigits), nil
	case float64:
		return appendFloat4(buf, float32(x), s.ExtraFloatDigits), nil
	}
	if i, ok := toInt64(v); ok {
		return appendFloat4(buf, float32(i), s.ExtraFloatDigits), nil
	}
	return textGeneric(buf, v, s)
}

func appendFloatSpecial(buf []byte, f float64) ([]byte, bool) {
	switch {
	case f != f:
		return append(buf, "NaN"...), true
	case f > math.MaxFloat64:
		return append(buf, "Infinity"...), true
	case f < -math.MaxFloat64:
		return append(buf, "-Infinity"...), true
	}
	return buf, false
}

// appendFloat8 is float8out: shortest exact digits when extra_float_digits
// > 0 (PostgreSQL's Ryu output), else printf("%.*g", 15+efd).
func appendFloat8(buf []byte, f float64, efd int) []byte {
	if b, ok := appendFloatSpecial(buf, f); ok {
		return b
	}
	if efd > 0 {
		return appendShortest(buf, f, 64, 15)
	}
	return strconv.AppendFloat(buf, f, 'g', max(15+efd, 1), 64)
}

// appendFloat4 is float4out; fixed notation up to 6 digits before the point.
func appendFloat4(buf []byte, f float32, efd int) []byte {
	if b, ok := appendFloatSpecial(buf, float64(f)); ok {
		return b
	}
	if efd > 0 {
		return appendShortest(buf, float64(f), 32, 6)
	}
	return strconv.AppendFloat(buf, float64(f), 'g', max(6+efd, 1), 32)
}

// appendShortest writes the shortest round-trip digits the way PostgreSQL's
// d2s/f2s do: fixed notation for decimal exponents in [-4, maxExp), else
// d.ddde±XX. strconv's 'e' form yields digits and exponent in one Ryu pass;
// the fixed form is rebuilt from them rather than formatting twice.
func appendShortest(buf []byte, f float64, bits int, maxExp int) []byte {
	var scratch [40]byte
	e := strconv.AppendFloat(scratch[:0], f, 'e', -1, bits)
	if e[0] == '-' {
		buf = append(buf, '-')
		e = e[1:]
	}
	ei := len(e) - 4 // exponents have at least two digits: e±XX
	for e[ei] != 'e' {
		ei--
	}
	exp := 0
	for _, c := range e[ei+2:] {
		exp = exp*10 + int(c-'0')
	}
	if e[ei+1] == '-' {
		exp = -exp
	}
	if exp < -4 || exp >= maxExp {
		return append(buf, e...)
	}
	// Digits without the point: e[0] and e[2:ei] when there is a fraction.
	var digits [24]byte
	nd := copy(digits[:], e[:1])
	if ei > 1 {
		nd += copy(digits[nd:], e[2:ei])
	}
	d := digits[:nd]
	if exp < 0 {
		buf = append(buf, '0', '.')
		for i := -1; i > exp; i-- {
			buf = append(buf, '0')
		}
		return append(buf, d...)
	}
	if nd <= exp+1 {
		buf = append(buf, d...)
		for i := nd; i <= exp; i++ {
			buf = append(buf, '0')
		}
		return buf
	}
	buf = append(buf, d[:exp+1]...)
	buf = append(buf, '.')
	return append(buf, d[exp+1:]...)
}

func textNumeric(buf []byte, v any, s *Settings) ([]byte, error) {
	switch x := v.(type) {
	case duckdb.Decimal:
		return appendDecimal(buf, x.Value, int(x.Scale)), nil
	case *duckdb.Decimal:
		return appendDecimal(buf, x.Value, int(x.Scale)), nil
	case *big.Int:
		return appendDecimal(buf, x, 0), nil
	case uint64:
		return strconv.AppendUint(buf, x, 10), nil
	case float64:
		return appendNumericFloat(buf, x, 64), nil
	case float32:
		return appendNumericFloat(buf, float64(x), 32), nil
	case string:
		return append(buf, x...), nil
	}
	if i, ok := toInt64(v); ok {
		return appendInt(buf, i), nil
	}
	return textGeneric(buf, v, s)
}

// trimScale drops the trailing fractional zeros of a decimal of an
// unconstrained numeric (typmod -1). hopsql stores unconstrained numeric as
// DECIMAL(38,10) (engine/pgcatalog/fidelity.go), so every value carries ten
// decimals, where PostgreSQL prints a value with the scale it was made
// with: 5 and 1.5, not 5.0000000000. The scale a value was written with is
// gone, so the shortest exact form stands in for it (1.50 prints as 1.5;
// docs/sql-compat.md).
func trimScale(v any) any {
	d, ok := v.(duckdb.Decimal)
	if !ok {
		if p, isPtr := v.(*duckdb.Decimal); isPtr && p != nil {
			d, ok = *p, true
		}
	}
	// Only DECIMAL(38,10), the stand-in: a DECIMAL(10,2) in an array
	// reported without its modifier still prints its two decimals.
	if !ok || d.Width != pgtypes.UnconstrainedNumericWidth || d.Scale != pgtypes.UnconstrainedNumericScale || d.Value == nil {
		return v
	}
	if d.Value.IsInt64() {
		n := d.Value.Int64()
		if n == 0 {
			return duckdb.Decimal{Width: d.Width, Value: d.Value}
		}
		sc := d.Scale
		for sc > 0 && n%10 == 0 {
			n /= 10
			sc--
		}
		if sc == d.Scale {
			return v
		}
		return duckdb.Decimal{Width: d.Width, Scale: sc, Value: big.NewInt(n)}
	}
	n, r, ten := new(big.Int).Set(d.Value), new(big.Int), big.NewInt(10)
	sc := d.Scale
	for sc > 0 {
		q, m := new(big.Int).QuoRem(n, ten, r)
		if m.Sign() != 0 {
			break
		}
		n = q
		sc--
	}
	return duckdb.Decimal{Width: d.Width, Scale: sc, Value: n}
}

// appendNumericFloat prints a float in a numeric column as numeric would:
// plain decimal digits, never an exponent; infinities as numeric's.
func appendNumericFloat(buf []byte, f float64, bits int) []byte {
	if b, ok := appendFloatSpecial(buf, f); ok {
		return b
	}
	return strconv.AppendFloat(buf, f, 'f', -1, bits)
}

// appendDecimal prints unscaled/10^scale exactly, keeping trailing zeros of
// the scale (12.30 stays 12.30, as in numeric's output).
func appendDecimal(buf []byte, unscaled *big.Int, scale int) []byte {
	start := len(buf)
	switch {
	case unscaled == nil:
		buf = append(buf, '0')
	case unscaled.IsInt64():
		buf = strconv.AppendInt(buf, unscaled.Int64(), 10)
	default:
		buf = unscaled.Append(buf, 10)
	}
	if scale <= 0 {
		for ; scale < 0 && !(len(buf) == start+1 && buf[start] == '0'); scale++ {
			buf = append(buf, '0')
		}
		return buf
	}
	ds := start
	if buf[ds] == '-' {
		ds++
	}
	n := len(buf) - ds
	if n > scale {
		pos := len(buf) - scale
		buf = insertGap(buf, pos, 1)
		buf[pos] = '.'
		return buf
	}
	// 0.00ddd: open "0." plus scale-n zeros in front of the digits.
	k := 2 + scale - n
	buf = insertGap(buf, ds, k)
	buf[ds] = '0'
	buf[ds+1] = '.'
	for i := ds + 2; i < ds+k; i++ {
		buf[i] = '0'
	}
	return buf
}

// insertGap opens n bytes at pos, shifting the tail right.
func insertGap(buf []byte, pos, n int) []byte {
	l := len(buf)
	for i := 0; i < n; i++ {
		buf = append(buf, 0)
	}
	copy(buf[pos+n:], buf[pos:l])
	return buf
}

const hexDigits = "0123456789abcdef"

func appendHex(buf []byte, b []byte) []byte {
	for _, c := range b {
		buf = append(buf, hexDigits[c>>4], hexDigits[c&0xf])
	}
	return buf
}

func textBytea(buf []byte, v any, s *Settings) ([]byte, error) {
	switch x := v.(type) {
	case []byte:
		return appendHex(append(buf, '\\', 'x'), x), nil
	case string:
		// A string in a bytea column is the raw bytes (DuckDB BLOB literals
		// arrive as []byte; strings come from hopsql's own rewrites).
		buf = append(buf, '\\', 'x')
		for i := 0; i < len(x); i++ {
			buf = append(buf, hexDigits[x[i]>>4], hexDigits[x[i]&0xf])
		}
		return buf, nil
	}
	return textGeneric(buf, v, s)
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

// civilFromDays converts days since 1970-01-01 to a proleptic Gregorian
// date (year 0 = 1 BC), Howard Hinnant's algorithm: valid for DuckDB's whole
// date range, unlike going through time.Time.
func civilFromDays(z int64) (y int64, m, d int) {
	z += 719468
	era := floorDiv(z, 146097)
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	y = yoe + era*400
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	d = int(doy - (153*mp+2)/5 + 1)
	if mp < 10 {
		m = int(mp + 3)
	} else {
		m = int(mp - 9)
	}
	if m <= 2 {
		y++
	}
	return y, m, d
}

// daysFromCivil is the inverse of civilFromDays.
func daysFromCivil(y int64, m, d int) int64 {
	if m <= 2 {
		y--
	}
	era := floorDiv(y, 400)
	yoe := y - era*400
	mm := int64(m)
	if mm > 2 {
		mm -= 3
	} else {
		mm += 9
	}
	doy := (153*mm+2)/5 + int64(d) - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return era*146097 + doe - 719468
}

func append2(buf []byte, x int) []byte {
	return append(buf, byte('0'+x/10), byte('0'+x%10))
}

// appendPad2 prints a non-negative number with at least two digits.
func appendPad2(buf []byte, x int64) []byte {
	if x < 10 {
		buf = append(buf, '0')
	}
	return strconv.AppendInt(buf, x, 10)
}

// appendYMD prints a date as ISO DateStyle does; bc reports that " BC"
// must follow (after any time zone).
func appendYMD(buf []byte, days int64) ([]byte, bool) {
	y, m, d := civilFromDays(days)
	bc := y <= 0
	if bc {
		y = 1 - y
	}
	if y < 10000 {
		buf = append2(buf, int(y/100))
		buf = append2(buf, int(y%100))
	} else {
		buf = strconv.AppendInt(buf, y, 10)
	}
	buf = append(buf, '-')
	buf = append2(buf, m)
	buf = append(buf, '-')
	return append2(buf, d), bc
}

// appendFrac prints .ffffff with trailing zeros trimmed, nothing for 0.
func appendFrac(buf []byte, us int64) []byte {
	if us == 0 {
		return buf
	}
	var d [7]byte
	d[0] = '.'
	for i := 6; i >= 1; i-- {
		d[i] = byte('0' + us%10)
		us /= 10
	}
	n := 7
	for d[n-1] == '0' {
		n--
	}
	return append(buf, d[:n]...)
}

// appendTOD prints micros since midnight as HH:MM:SS[.ffffff].
func appendTOD(buf []byte, us int64) []byte {
	h := us / usecsPerHour
	us -= h * usecsPerHour
	m := us / usecsPerMin
	us -= m * usecsPerMin
	sec := us / usecsPerSec
	us -= sec * usecsPerSec
	buf = appendPad2(buf, h)
	buf = append(buf, ':')
	buf = append2(buf, int(m))
	buf = append(buf, ':')
	buf = append2(buf, int(sec))
	return appendFrac(buf, us)
}

func appendDateTime(buf []byte, wall int64) ([]byte, bool) {
	days := floorDiv(wall, usecsPerDay)
	buf, bc := appendYMD(buf, days)
	buf = append(buf, ' ')
	return appendTOD(buf, wall-days*usecsPerDay), bc
}

// appendTZOffset prints a UTC offset (seconds east) as PostgreSQL does:
// +HH, +HH:MM or +HH:MM:SS.
func appendTZOffset(buf []byte, off int) []byte {
	if off < 0 {
		buf = append(buf, '-')
		off = -off
	} else {
		buf = append(buf, '+')
	}
	h, m, sec := off/3600, (off/60)%60, off%60
	buf = appendPad2(buf, int64(h))
	if m != 0 || sec != 0 {
		buf = append(buf, ':')
		buf = append2(buf, m)
	}
	if sec != 0 {
		buf = append(buf, ':')
		buf = append2(buf, sec)
	}
	return buf
}

// unixMicros is t as microseconds since 1970 (floor: nanoseconds of
// TIMESTAMP_NS values are truncated, as DuckDB's cast to TIMESTAMP does).
// Overflow wraps consistently, so DuckDB's ±infinity come back exact.
func unixMicros(t time.Time) int64 {
	return t.Unix()*usecsPerSec + int64(t.Nanosecond()/1000)
}

// DuckDB's infinite timestamps are ±(2^63-1) micros, dates ±(2^31-1) days.
func infiniteMicros(us int64) int {
	switch {
	case us == math.MaxInt64:
		return 1
	case us == -math.MaxInt64 || us == math.MinInt64:
		return -1
	}
	return 0
}

func appendInfinity(buf []byte, sign int) []byte {
	if sign < 0 {
		return append(buf, "-infinity"...)
	}
	return append(buf, "infinity"...)
}

func dateDays(t time.Time) int64 {
	_, off := t.Zone()
	return floorDiv(t.Unix()+int64(off), 86400)
}

func infiniteDays(days int64) int {
	switch {
	case days >= math.MaxInt32:
		return 1
	case days <= -math.MaxInt32:
		return -1
	}
	return 0
}

func textDate(buf []byte, v any, s *Settings) ([]byte, error) {
	t, ok := v.(time.Time)
	if !ok {
		return textGeneric(buf, v, s)
	}
	days := dateDays(t)
	if inf := infiniteDays(days); inf != 0 {
		return appendInfinity(buf, inf), nil
	}
	buf, bc := appendYMD(buf, days)
	if bc {
		buf = append(buf, " BC"...)
	}
	return buf, nil
}

func clockMicros(t time.Time) int64 {
	h, m, sec := t.Clock()
	return (int64(h)*3600+int64(m)*60+int64(sec))*usecsPerSec + int64(t.Nanosecond()/1000)
}

func textTime(buf []byte, v any, s *Settings) ([]byte, error) {
	switch x := v.(type) {
	case time.Time:
		return appendTOD(buf, clockMicros(x)), nil
	case time.Duration:
		return appendTOD(buf, x.Microseconds()), nil
	}
	return textGeneric(buf, v, s)
}

func textTimeTZ(buf []byte, v any, s *Settings) ([]byte, error) {
	t, ok := v.(time.Time)
	if !ok {
		return textGeneric(buf, v, s)
	}
	_, off := t.Zone()
	return appendTZOffset(appendTOD(buf, clockMicros(t)), off), nil
}

func textTimestamp(buf []byte, v any, s *Settings) ([]byte, error) {
	t, ok := v.(time.Time)
	if !ok {
		return textGeneric(buf, v, s)
	}
	return appendTimestamp(buf, t), nil
}

// appendTimestamp prints t's wall clock (TIMESTAMP values are UTC).
func appendTimestamp(buf []byte, t time.Time) []byte {
	us := unixMicros(t)
	if inf := infiniteMicros(us); inf != 0 {
		return appendInfinity(buf, inf)
	}
	if t.Location() != time.UTC {
		_, off := t.Zone()
		us += int64(off) * usecsPerSec
	}
	buf, bc := appendDateTime(buf, us)
	if bc {
		buf = append(buf, " BC"...)
	}
	return buf
}

func textTimestamptz(buf []byte, v any, s *Settings) ([]byte, error) {
	t, ok := v.(time.Time)
	if !ok {
		return textGeneric(buf, v, s)
	}
	return appendTimestamptz(buf, t, s.TimeZone), nil
}

func appendTimestamptz(buf []byte, t time.Time, loc *time.Location) []byte {
	us := unixMicros(t)
	if inf := infiniteMicros(us); inf != 0 {
		return appendInfinity(buf, inf)
	}
	off := 0
	if loc != nil && loc != time.UTC {
		_, off = t.In(loc).Zone()
	}
	buf, bc := appendDateTime(buf, us+int64(off)*usecsPerSec)
	buf = appendTZOffset(buf, off)
	if bc {
		buf = append(buf, " BC"...)
	}
	return buf
}

func textInterval(buf []byte, v any, s *Settings) ([]byte, error) {
	switch x := v.(type) {
	case duckdb.Interval:
		return appendInterval(buf, x.Months, x.Days, x.Micros), nil
	case *duckdb.Interval:
		return appendInterval(buf, x.Months, x.Days, x.Micros), nil
	case time.Duration:
		return appendInterval(buf, 0, 0, x.Microseconds()), nil
	}
	return textGeneric(buf, v, s)
}

// appendInterval is EncodeInterval for IntervalStyle postgres. Fields are
// split with C's truncating division, so signs follow the stored fields.
func appendInterval(buf []byte, months, days int32, us int64) []byte {
	isZero, isBefore := true, false
	part := func(buf []byte, val int64, unit string) []byte {
		if val == 0 {
			return buf
		}
		if !isZero {
			buf = append(buf, ' ')
		}
		if isBefore && val > 0 {
			buf = append(buf, '+')
		}
		buf = strconv.AppendInt(buf, val, 10)
		buf = append(buf, ' ')
		buf = append(buf, unit...)
		if val != 1 {
			buf = append(buf, 's')
		}
		// Each nonzero field sets is_before for the next one only.
		isBefore = val < 0
		isZero = false
		return buf
	}
	buf = part(buf, int64(months/12), "year")
	buf = part(buf, int64(months%12), "mon")
	buf = part(buf, int64(days), "day")
	if isZero || us != 0 {
		if !isZero {
			buf = append(buf, ' ')
		}
		switch {
		case us < 0:
			buf = append(buf, '-')
		case isBefore:
			buf = append(buf, '+')
		}
		abs := us
		if abs < 0 {
			abs = -abs // MinInt64 is outside PostgreSQL's range anyway.
		}
		buf = appendTOD(buf, abs)
	}
	return buf
}

func uuidBytes(v any) ([]byte, bool) {
	switch x := v.(type) {
	case []byte:
		if len(x) == 16 {
			return x, true
		}
	case duckdb.UUID:
		return x[:], true
	case *duckdb.UUID:
		return x[:], true
	case [16]byte:
		return x[:], true
	}
	return nil, false
}

func appendUUID(buf []byte, u []byte) []byte {
	for i, c := range u {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			buf = append(buf, '-')
		}
		buf = append(buf, hexDigits[c>>4], hexDigits[c&0xf])
	}
	return buf
}

func textUUID(buf []byte, v any, s *Settings) ([]byte, error) {
	if u, ok := uuidBytes(v); ok {
		return appendUUID(buf, u), nil
	}
	return textGeneric(buf, v, s)
}

func textJSON(buf []byte, v any, s *Settings) ([]byte, error) {
	return appendJSONTop(buf, v, false, s)
}

func textJSONB(buf []byte, v any, s *Settings) ([]byte, error) {
	return appendJSONTop(buf, v, true, s)
}

// asList returns the elements of an array value: the driver's []any, or any
// other slice hopsql's own code may produce.
func asList(v any) ([]any, bool) {
	switch x := v.(type) {
	case []any:
		return x, true
	case []string:
		l := make([]any, len(x))
		for i := range x {
			l[i] = x[i]
		}
		return l, true
	}
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Slice && rv.Kind() != reflect.Array {
		return nil, false
	}
	if rv.Type().Elem().Kind() == reflect.Uint8 {
		return nil, false // []byte is bytea, not an array
	}
	l := make([]any, rv.Len())
	for i := range l {
		e := rv.Index(i)
		if (e.Kind() == reflect.Pointer || e.Kind() == reflect.Interface) && e.IsNil() {
			continue
		}
		l[i] = e.Interface()
	}
	return l, true
}

// appendArrayText prints an array with PostgreSQL's quoting; nested lists
// become a multidimensional array.
func appendArrayText(buf []byte, v any, ef textFunc, s *Settings) ([]byte, error) {
	list, ok := asList(v)
	if !ok {
		if str, isStr := v.(string); isStr {
			return append(buf, str...), nil
		}
		return nil, fmt.Errorf("codec: array value: %w", typeError(0, v))
	}
	buf = append(buf, '{')
	for i, e := range list {
		if i > 0 {
			buf = append(buf, ',')
		}
		if e == nil {
			buf = append(buf, "NULL"...)
			continue
		}
		if sub, isList := e.([]any); isList {
			var err error
			if buf, err = appendArrayText(buf, sub, ef, s); err != nil {
				return nil, err
			}
			continue
		}
		start := len(buf)
		var err error
		if buf, err = ef(buf, e, s); err != nil {
			return nil, err
		}
		buf = quoteArrayElem(buf, start)
	}
	return append(buf, '}'), nil
}

func arrayNeedsQuote(c byte) bool {
	switch c {
	case '{', '}', ',', '"', '\\', ' ', '\t', '\n', '\r', '\v', '\f':
		return true
	}
	return false
}

// quoteArrayElem quotes buf[start:] in place when array_out would: empty,
// NULL (any case), or containing braces, delimiter, quote, backslash or
// white space.
func quoteArrayElem(buf []byte, start int) []byte {
	el := buf[start:]
	need := len(el) == 0 || (len(el) == 4 &&
		(el[0]|0x20) == 'n' && (el[1]|0x20) == 'u' && (el[2]|0x20) == 'l' && (el[3]|0x20) == 'l')
	esc := 0
	for _, c := range el {
		if arrayNeedsQuote(c) {
			need = true
			if c == '"' || c == '\\' {
				esc++
			}
		}
	}
	if !need {
		return buf
	}
	n := len(el)
	buf = insertGap(buf, start, 1+esc)
	buf = append(buf, '"')
	// The element now sits 1+esc bytes right of its start; moving it left
	// with escapes inserted, the writer never overtakes the reader.
	buf[start] = '"'
	w := start + 1
	for r := start + 1 + esc; r < start+1+esc+n; r++ {
		c := buf[r]
		if c == '"' || c == '\\' {
			buf[w] = '\\'
			w++
		}
		buf[w] = c
		w++
	}
	return buf
}

// appendVectorText prints int2vector/oidvector: elements separated by spaces.
func appendVectorText(buf []byte, v any, s *Settings) ([]byte, error) {
	list, ok := asList(v)
	if !ok {
		return textGeneric(buf, v, s)
	}
	for i, e := range list {
		if i > 0 {
			buf = append(buf, ' ')
		}
		var err error
		if buf, err = textInt(buf, e, s); err != nil {
			return nil, err
		}
	}
	return buf, nil
}

// textGeneric prints a value by its Go type, for columns whose type does
// not pin one down (text columns fed non-strings, unknown OIDs, array
// elements of unmapped types).
func textGeneric(buf []byte, v any, s *Settings) ([]byte, error) {
	switch x := v.(type) {
	case nil:
		return nil, fmt.Errorf("codec: NULL has no text form")
	case string:
		return append(buf, x...), nil
	case []byte:
		return appendHex(append(buf, '\\', 'x'), x), nil
	case bool:
		return textBool(buf, x, s)
	case float64:
		return appendFloat8(buf, x, s.ExtraFloatDigits), nil
	case float32:
		return appendFloat4(buf, x, s.ExtraFloatDigits), nil
	case uint64:
		return strconv.AppendUint(buf, x, 10), nil
	case *big.Int, duckdb.Decimal, *duckdb.Decimal:
		return textNumeric(buf, x, s)
	case time.Time:
		if x.Year() == 1 && x.YearDay() == 1 {
			return textTime(buf, x, s) // the driver's TIME values
		}
		return appendTimestamp(buf, x), nil
	case duckdb.Interval, *duckdb.Interval, time.Duration:
		return textInterval(buf, x, s)
	case duckdb.UUID, *duckdb.UUID:
		return textUUID(buf, x, s)
	case duckdb.Bit:
		return append(buf, x.String()...), nil
	case map[string]any, duckdb.OrderedMap, duckdb.Map, duckdb.Union, []any:
		if l, ok := x.([]any); ok {
			return appendArrayText(buf, l, textGeneric, s)
		}
		return appendJSON(buf, x, false, s)
	}
	if i, ok := toInt64(v); ok {
		return appendInt(buf, i), nil
	}
	if st, ok := v.(fmt.Stringer); ok {
		return append(buf, st.String()...), nil
	}
	return fmt.Append(buf, v), nil
}
