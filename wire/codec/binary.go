package codec

import (
	"encoding/binary"
	"math"
	"math/big"
	"strconv"
	"sync"
	"time"

	"github.com/duckdb/duckdb-go/v2"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/hopsql/hopsql/engine/pgerr"
)

// Binary output. The fixed-width types are written by hand (a few bytes,
// no allocation, no reflection); numeric goes through pgtype's encode plan,
// planned once for pgtype.Numeric and shared, since its base-10000 layout is
// where a home-made encoder would most likely be wrong. The tests decode
// every binary form with pgtype to check the hand-written ones.

// pgEpochMicros is 2000-01-01 in Unix microseconds; pgEpochDays in days.
const (
	pgEpochMicros = int64(946684800) * usecsPerSec
	pgEpochDays   = int64(10957)
)

var (
	numericPlanOnce sync.Once
	numericPlan     pgtype.EncodePlan
)

func binNumericPlan() pgtype.EncodePlan {
	numericPlanOnce.Do(func() {
		numericPlan = pgtype.NewMap().PlanEncode(pgtype.NumericOID, pgtype.BinaryFormatCode, pgtype.Numeric{})
	})
	return numericPlan
}

func appendI16(buf []byte, x int16) []byte { return binary.BigEndian.AppendUint16(buf, uint16(x)) }
func appendI32(buf []byte, x int32) []byte { return binary.BigEndian.AppendUint32(buf, uint32(x)) }
func appendI64(buf []byte, x int64) []byte { return binary.BigEndian.AppendUint64(buf, uint64(x)) }

func rangeError(v any, typ string) error {
	return pgerr.New(pgerr.NumericValueOutOfRange, "value %v is out of range for type %s", v, typ)
}

func binBool(buf []byte, v any) ([]byte, error) {
	b, ok := v.(bool)
	if !ok {
		return nil, typeError(pgtype.BoolOID, v)
	}
	if b {
		return append(buf, 1), nil
	}
	return append(buf, 0), nil
}

func binInt2(buf []byte, v any) ([]byte, error) {
	if x, ok := v.(int16); ok {
		return appendI16(buf, x), nil
	}
	x, ok := toInt64(v)
	if !ok {
		return nil, typeError(pgtype.Int2OID, v)
	}
	if x < math.MinInt16 || x > math.MaxInt16 {
		return nil, rangeError(v, "smallint")
	}
	return appendI16(buf, int16(x)), nil
}

func binInt4(buf []byte, v any) ([]byte, error) {
	if x, ok := v.(int32); ok {
		return appendI32(buf, x), nil
	}
	x, ok := toInt64(v)
	if !ok {
		return nil, typeError(pgtype.Int4OID, v)
	}
	if x < math.MinInt32 || x > math.MaxInt32 {
		return nil, rangeError(v, "integer")
	}
	return appendI32(buf, int32(x)), nil
}

func binInt8(buf []byte, v any) ([]byte, error) {
	if x, ok := v.(int64); ok {
		return appendI64(buf, x), nil
	}
	x, ok := toInt64(v)
	if !ok {
		if _, isU := v.(uint64); isU {
			return nil, rangeError(v, "bigint")
		}
		return nil, typeError(pgtype.Int8OID, v)
	}
	return appendI64(buf, x), nil
}

// binOID writes oid and the reg* types: unsigned 32 bits.
func binOID(buf []byte, v any) ([]byte, error) {
	x, ok := toInt64(v)
	if !ok {
		return nil, typeError(pgtype.OIDOID, v)
	}
	if x < 0 || x > math.MaxUint32 {
		return nil, rangeError(v, "oid")
	}
	return binary.BigEndian.AppendUint32(buf, uint32(x)), nil
}

func binFloat4(buf []byte, v any) ([]byte, error) {
	var f float32
	switch x := v.(type) {
	case float32:
		f = x
	case float64:
		f = float32(x)
	default:
		i, ok := toInt64(v)
		if !ok {
			return nil, typeError(pgtype.Float4OID, v)
		}
		f = float32(i)
	}
	return binary.BigEndian.AppendUint32(buf, math.Float32bits(f)), nil
}

func binFloat8(buf []byte, v any) ([]byte, error) {
	var f float64
	switch x := v.(type) {
	case float64:
		f = x
	case float32:
		f = float64(x)
	default:
		i, ok := toInt64(v)
		if !ok {
			return nil, typeError(pgtype.Float8OID, v)
		}
		f = float64(i)
	}
	return binary.BigEndian.AppendUint64(buf, math.Float64bits(f)), nil
}

// toNumeric converts the driver's numeric-ish values for pgtype.
func toNumeric(v any) (pgtype.Numeric, bool) {
	switch x := v.(type) {
	case duckdb.Decimal:
		return pgtype.Numeric{Int: x.Value, Exp: -int32(x.Scale), Valid: x.Value != nil}, x.Value != nil
	case *duckdb.Decimal:
		return toNumeric(*x)
	case *big.Int:
		return pgtype.Numeric{Int: x, Valid: true}, true
	case uint64:
		return pgtype.Numeric{Int: new(big.Int).SetUint64(x), Valid: true}, true
	case float64:
		return floatNumeric(x, 64)
	case float32:
		return floatNumeric(float64(x), 32)
	case string:
		var n pgtype.Numeric
		if err := n.Scan(x); err != nil {
			return n, false
		}
		return n, true
	case pgtype.Numeric:
		return x, true
	}
	if i, ok := toInt64(v); ok {
		return pgtype.Numeric{Int: big.NewInt(i), Valid: true}, true
	}
	return pgtype.Numeric{}, false
}

func floatNumeric(f float64, bits int) (pgtype.Numeric, bool) {
	switch {
	case math.IsNaN(f):
		return pgtype.Numeric{NaN: true, Valid: true}, true
	case math.IsInf(f, 1):
		return pgtype.Numeric{InfinityModifier: pgtype.Infinity, Valid: true}, true
	case math.IsInf(f, -1):
		return pgtype.Numeric{InfinityModifier: pgtype.NegativeInfinity, Valid: true}, true
	}
	var n pgtype.Numeric
	err := n.Scan(strconv.FormatFloat(f, 'f', -1, bits))
	return n, err == nil
}

func binNumeric(buf []byte, v any) ([]byte, error) {
	n, ok := toNumeric(v)
	if !ok {
		return nil, typeError(pgtype.NumericOID, v)
	}
	start := len(buf)
	out, err := binNumericPlan().Encode(n, buf)
	if err != nil {
		return nil, pgerr.New(pgerr.NumericValueOutOfRange, "encode numeric: %v", err)
	}
	return trimNumericDigits(out, start), nil
}

// trimNumericDigits drops the trailing zero base-10000 digits of the
// binary numeric at buf[start:], as PostgreSQL's numeric_send does
// (1.5000000000 is the digits 1, 5000 with dscale 10, not 1, 5000, 0, 0):
// pgtype keeps them. The value and its display scale are unchanged; zero
// (and NaN, the infinities) has no digits and weight 0, where pgtype
// writes weight -1.
func trimNumericDigits(buf []byte, start int) []byte {
	if len(buf)-start < 8 {
		return buf
	}
	h := buf[start:]
	nd := int(binary.BigEndian.Uint16(h))
	if len(h) != 8+2*nd {
		return buf // not the layout expected
	}
	for nd > 0 && h[8+2*(nd-1)] == 0 && h[9+2*(nd-1)] == 0 {
		nd--
	}
	binary.BigEndian.PutUint16(h, uint16(nd))
	if nd == 0 {
		binary.BigEndian.PutUint16(h[2:], 0)
	}
	return buf[:start+8+2*nd]
}

func binBytea(buf []byte, v any) ([]byte, error) {
	switch x := v.(type) {
	case []byte:
		return append(buf, x...), nil
	case string:
		return append(buf, x...), nil
	}
	return nil, typeError(pgtype.ByteaOID, v)
}

// binTextual writes text-like types: their binary form is the text itself.
func binTextual(buf []byte, v any) ([]byte, error) {
	switch x := v.(type) {
	case string:
		return append(buf, x...), nil
	case []byte:
		return append(buf, x...), nil
	}
	return textGeneric(buf, v, defaultSettings)
}

func binJSON(buf []byte, v any) ([]byte, error) {
	return appendJSONTop(buf, v, false, defaultSettings)
}

// binJSONB prefixes jsonb's version byte.
func binJSONB(buf []byte, v any) ([]byte, error) {
	return appendJSONTop(append(buf, 1), v, true, defaultSettings)
}

func binDate(buf []byte, v any) ([]byte, error) {
	t, ok := v.(time.Time)
	if !ok {
		return nil, typeError(pgtype.DateOID, v)
	}
	days := dateDays(t)
	switch infiniteDays(days) {
	case 1:
		return appendI32(buf, math.MaxInt32), nil
	case -1:
		return appendI32(buf, math.MinInt32), nil
	}
	d := days - pgEpochDays
	if d < math.MinInt32 || d > math.MaxInt32 {
		return nil, pgerr.New(pgerr.DatetimeFieldOverflow, "date out of range")
	}
	return appendI32(buf, int32(d)), nil
}

func binTime(buf []byte, v any) ([]byte, error) {
	switch x := v.(type) {
	case time.Time:
		return appendI64(buf, clockMicros(x)), nil
	case time.Duration:
		return appendI64(buf, x.Microseconds()), nil
	}
	return nil, typeError(pgtype.TimeOID, v)
}

// binTimeTZ writes micros since midnight and the zone in seconds west of UTC.
func binTimeTZ(buf []byte, v any) ([]byte, error) {
	t, ok := v.(time.Time)
	if !ok {
		return nil, typeError(timetzOID, v)
	}
	_, off := t.Zone()
	return appendI32(appendI64(buf, clockMicros(t)), int32(-off)), nil
}

// binTimestamp and binTimestamptz write micros since 2000-01-01: of the
// wall clock for timestamp (the driver's values are UTC; a non-UTC value from
// elsewhere keeps its clock reading, as in text), of the instant for
// timestamptz.
func binTimestamp(buf []byte, v any) ([]byte, error) {
	return appendTimestampBinary(buf, v, true)
}

func binTimestamptz(buf []byte, v any) ([]byte, error) {
	return appendTimestampBinary(buf, v, false)
}

func appendTimestampBinary(buf []byte, v any, wall bool) ([]byte, error) {
	t, ok := v.(time.Time)
	if !ok {
		return nil, typeError(pgtype.TimestampOID, v)
	}
	us := unixMicros(t)
	switch infiniteMicros(us) {
	case 1:
		return appendI64(buf, math.MaxInt64), nil
	case -1:
		return appendI64(buf, math.MinInt64), nil
	}
	if wall && t.Location() != time.UTC {
		_, off := t.Zone()
		us += int64(off) * usecsPerSec
	}
	return appendI64(buf, us-pgEpochMicros), nil
}

func binInterval(buf []byte, v any) ([]byte, error) {
	var iv duckdb.Interval
	switch x := v.(type) {
	case duckdb.Interval:
		iv = x
	case *duckdb.Interval:
		iv = *x
	case time.Duration:
		iv.Micros = x.Microseconds()
	default:
		return nil, typeError(pgtype.IntervalOID, v)
	}
	buf = appendI64(buf, iv.Micros)
	buf = appendI32(buf, iv.Days)
	return appendI32(buf, iv.Months), nil
}

func binUUID(buf []byte, v any) ([]byte, error) {
	u, ok := uuidBytes(v)
	if !ok {
		return nil, typeError(pgtype.UUIDOID, v)
	}
	return append(buf, u...), nil
}

// appendArrayBinary writes array_send's format: ndim, has-null flag, element
// OID, (length, lower bound 1) per dimension, then length-prefixed elements.
// Nested lists become dimensions and must be rectangular.
func appendArrayBinary(buf []byte, v any, elemOID uint32, ef binFunc) ([]byte, error) {
	list, ok := asList(v)
	if !ok {
		return nil, typeError(0, v)
	}
	var dims []int32
	for cur := list; ; {
		dims = append(dims, int32(len(cur)))
		if len(cur) == 0 {
			break
		}
		sub, isList := cur[0].([]any)
		if !isList {
			break
		}
		cur = sub
	}
	if len(list) == 0 {
		dims = dims[:0]
	}
	buf = appendI32(buf, int32(len(dims)))
	flagPos := len(buf)
	buf = appendI32(buf, 0)
	buf = binary.BigEndian.AppendUint32(buf, elemOID)
	for _, d := range dims {
		buf = appendI32(buf, d)
		buf = appendI32(buf, 1)
	}
	hasNull := false
	var walk func(buf []byte, l []any, depth int) ([]byte, error)
	walk = func(buf []byte, l []any, depth int) ([]byte, error) {
		if int32(len(l)) != dims[depth] {
			return nil, pgerr.New("2202E", "multidimensional arrays must have array expressions with matching dimensions")
		}
		for _, e := range l {
			if depth+1 < len(dims) {
				sub, isList := e.([]any)
				if !isList {
					return nil, pgerr.New("2202E", "multidimensional arrays must have array expressions with matching dimensions")
				}
				var err error
				if buf, err = walk(buf, sub, depth+1); err != nil {
					return nil, err
				}
				continue
			}
			if e == nil {
				hasNull = true
				buf = appendI32(buf, -1)
				continue
			}
			lenPos := len(buf)
			buf = appendI32(buf, 0)
			var err error
			if buf, err = ef(buf, e); err != nil {
				return nil, err
			}
			binary.BigEndian.PutUint32(buf[lenPos:], uint32(len(buf)-lenPos-4))
		}
		return buf, nil
	}
	if len(dims) > 0 {
		var err error
		if buf, err = walk(buf, list, 0); err != nil {
			return nil, err
		}
	}
	if hasNull {
		binary.BigEndian.PutUint32(buf[flagPos:], 1)
	}
	return buf, nil
}
