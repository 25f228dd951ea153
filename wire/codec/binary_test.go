package codec

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"math/big"
	"reflect"
	"testing"
	"time"

	"github.com/duckdb/duckdb-go/v2"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/hopsql/hopsql/engine/pgerr"
)

func encBinary(t *testing.T, oid uint32, v any) []byte {
	t.Helper()
	enc, err := NewEncoder(typ(oid), 1, nil)
	if err != nil {
		t.Fatalf("NewEncoder(%d, binary): %v", oid, err)
	}
	b, err := enc(make([]byte, 0, 16), v) // non-nil: pgtype reads nil as NULL
	if err != nil {
		t.Fatalf("encode %d %#v: %v", oid, v, err)
	}
	return b
}

// TestBinaryRoundTrip encodes driver values and decodes them with pgtype,
// the codec pgx clients use, so the hand-written encoders are checked
// against an independent implementation of the wire format.
func TestBinaryRoundTrip(t *testing.T) {
	m := pgtype.NewMap()
	uuid := [16]byte{0xa0, 0xee, 0xbc, 0x99, 0x9c, 0x0b, 0x4e, 0xf8, 0xbb, 0x6d, 0x6b, 0xb9, 0xbd, 0x38, 0x0a, 0x11}
	i32 := func(x int32) *int32 { return &x }
	huge, _ := new(big.Int).SetString("-170141183460469231731687303715884105728", 10)
	cases := []struct {
		name string
		oid  uint32
		v    any
		dst  any // pointer to a zero value of the scan target
		want any // what *dst must equal
	}{
		{"bool", pgtype.BoolOID, true, new(bool), true},
		{"int2 from int8", pgtype.Int2OID, int8(-5), new(int16), int16(-5)},
		{"int2 from uint8", pgtype.Int2OID, uint8(200), new(int16), int16(200)},
		{"int4", pgtype.Int4OID, int32(math.MinInt32), new(int32), int32(math.MinInt32)},
		{"int4 from uint16", pgtype.Int4OID, uint16(65535), new(int32), int32(65535)},
		{"int8", pgtype.Int8OID, int64(-1), new(int64), int64(-1)},
		{"int8 from uint32", pgtype.Int8OID, uint32(math.MaxUint32), new(int64), int64(math.MaxUint32)},
		{"float4", pgtype.Float4OID, float32(-1.5), new(float32), float32(-1.5)},
		{"float8", pgtype.Float8OID, math.Inf(-1), new(float64), math.Inf(-1)},
		{"float8 from float32", pgtype.Float8OID, float32(0.5), new(float64), 0.5},
		{"text", pgtype.TextOID, "héllo", new(string), "héllo"},
		{"varchar empty", pgtype.VarcharOID, "", new(string), ""},
		{"bytea", pgtype.ByteaOID, []byte{0, 1, 255}, new([]byte), []byte{0, 1, 255}},
		{"uuid", pgtype.UUIDOID, uuid[:], new(pgtype.UUID), pgtype.UUID{Bytes: uuid, Valid: true}},
		{"date", pgtype.DateOID, date(2024, 2, 29), new(pgtype.Date), pgtype.Date{Time: date(2024, 2, 29), Valid: true}},
		{"date BC", pgtype.DateOID, date(-43, 3, 15), new(pgtype.Date), pgtype.Date{Time: date(-43, 3, 15), Valid: true}},
		{"date infinity", pgtype.DateOID, time.Date(5881580, time.July, 11, 0, 0, 0, 0, time.UTC), new(pgtype.Date), pgtype.Date{InfinityModifier: pgtype.Infinity, Valid: true}},
		{"date -infinity", pgtype.DateOID, time.Date(-5877641, time.June, 24, 0, 0, 0, 0, time.UTC), new(pgtype.Date), pgtype.Date{InfinityModifier: pgtype.NegativeInfinity, Valid: true}},
		{"time", pgtype.TimeOID, time.Date(1, 1, 1, 12, 34, 56, 500000000, time.UTC), new(pgtype.Time), pgtype.Time{Microseconds: (12*3600+34*60+56)*1e6 + 500000, Valid: true}},
		{"timestamp", pgtype.TimestampOID, time.Date(2024, 1, 1, 12, 0, 0, 123456000, time.UTC), new(pgtype.Timestamp), pgtype.Timestamp{Time: time.Date(2024, 1, 1, 12, 0, 0, 123456000, time.UTC), Valid: true}},
		{"timestamp 1970", pgtype.TimestampOID, time.Unix(0, 0).UTC(), new(pgtype.Timestamp), pgtype.Timestamp{Time: time.Unix(0, 0).UTC(), Valid: true}},
		{"timestamp infinity", pgtype.TimestampOID, time.UnixMicro(math.MaxInt64).UTC(), new(pgtype.Timestamp), pgtype.Timestamp{InfinityModifier: pgtype.Infinity, Valid: true}},
		{"timestamp -infinity", pgtype.TimestampOID, time.UnixMicro(-math.MaxInt64).UTC(), new(pgtype.Timestamp), pgtype.Timestamp{InfinityModifier: pgtype.NegativeInfinity, Valid: true}},
		{"interval", pgtype.IntervalOID, iv(-14, 3, -500000), new(pgtype.Interval), pgtype.Interval{Months: -14, Days: 3, Microseconds: -500000, Valid: true}},
		{"numeric decimal", pgtype.NumericOID, dec(1230, 2), new(pgtype.Numeric), pgtype.Numeric{Int: big.NewInt(1230), Exp: -2, Valid: true}},
		{"numeric tiny", pgtype.NumericOID, dec(-1, 3), new(pgtype.Numeric), pgtype.Numeric{Int: big.NewInt(-1), Exp: -3, Valid: true}},
		{"numeric ubigint", pgtype.NumericOID, uint64(math.MaxUint64), new(pgtype.Numeric), pgtype.Numeric{Int: new(big.Int).SetUint64(math.MaxUint64), Valid: true}},
		{"numeric nan", pgtype.NumericOID, math.NaN(), new(pgtype.Numeric), pgtype.Numeric{NaN: true, Valid: true}},
		{"int4[] with NULL", pgtype.Int4ArrayOID, []any{int32(1), nil, int32(3)}, new([]*int32), []*int32{i32(1), nil, i32(3)}},
		{"int4[] empty", pgtype.Int4ArrayOID, []any{}, new([]int32), []int32{}},
		{"text[]", pgtype.TextArrayOID, []any{"a b", `"`, ""}, new([]string), []string{"a b", `"`, ""}},
		{"float8[]", pgtype.Float8ArrayOID, []any{1.5, -2.0}, new([]float64), []float64{1.5, -2}},
		{"int4[][]", pgtype.Int4ArrayOID, []any{[]any{int32(1), int32(2)}, []any{int32(3), int32(4)}}, new([][]int32), [][]int32{{1, 2}, {3, 4}}},
		{"json", pgtype.JSONOID, map[string]any{"a": 1.0}, new(string), `{"a":1}`},
		{"jsonb", pgtype.JSONBOID, map[string]any{"a": 1.0}, new(string), `{"a": 1}`},
	}
	for _, c := range cases {
		b := encBinary(t, c.oid, c.v)
		if err := m.Scan(c.oid, pgtype.BinaryFormatCode, b, c.dst); err != nil {
			t.Errorf("%s: pgtype scan of %x: %v", c.name, b, err)
			continue
		}
		got := reflect.ValueOf(c.dst).Elem().Interface()
		if n, ok := got.(pgtype.Numeric); ok {
			w := c.want.(pgtype.Numeric)
			if n.NaN != w.NaN || n.Valid != w.Valid || (!n.NaN && (n.Int.Cmp(w.Int) != 0 || n.Exp != w.Exp)) {
				t.Errorf("%s: got %+v, want %+v", c.name, n, w)
			}
			continue
		}
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s: got %#v, want %#v", c.name, got, c.want)
		}
	}
	// A HUGEINT fits numeric exactly.
	b := encBinary(t, pgtype.NumericOID, huge)
	var n pgtype.Numeric
	if err := m.Scan(pgtype.NumericOID, 1, b, &n); err != nil || n.Int.Cmp(huge) != 0 || n.Exp != 0 {
		t.Errorf("hugeint numeric: %+v %v", n, err)
	}
}

func TestBinaryExactBytes(t *testing.T) {
	kolkata := time.FixedZone("", 19800)
	cases := []struct {
		name string
		oid  uint32
		v    any
		want []byte
	}{
		// timetz: micros since midnight, then the zone in seconds west of UTC.
		{"timetz", timetzOID, time.Date(1, 1, 1, 1, 0, 0, 0, kolkata), append(be64(3600e6), be32(-19800)...)},
		{"timestamptz instant", pgtype.TimestamptzOID, time.Date(2000, 1, 1, 5, 30, 0, 0, kolkata), be64(0)},
		{"jsonb version", pgtype.JSONBOID, "x", []byte("\x01\"x\"")},
		{"bool false", pgtype.BoolOID, false, []byte{0}},
		{"oid", pgtype.OIDOID, int64(4294967295), []byte{255, 255, 255, 255}},
		// array_send of '{}'::int4[]: no dimensions, no nulls, element type 23.
		{"empty array", pgtype.Int4ArrayOID, []any{}, append(append(be32(0), be32(0)...), be32(23)...)},
	}
	for _, c := range cases {
		if got := encBinary(t, c.oid, c.v); !bytes.Equal(got, c.want) {
			t.Errorf("%s: got %x, want %x", c.name, got, c.want)
		}
	}
}

func be32(x int32) []byte { return binary.BigEndian.AppendUint32(nil, uint32(x)) }
func be64(x int64) []byte { return binary.BigEndian.AppendUint64(nil, uint64(x)) }

func TestBinaryErrors(t *testing.T) {
	for _, c := range []struct {
		oid  uint32
		v    any
		code string
	}{
		{pgtype.Int2OID, int32(40000), "22003"},
		{pgtype.Int4OID, int64(1 << 40), "22003"},
		{pgtype.Int8OID, uint64(math.MaxUint64), "22003"},
		{pgtype.Int4OID, "12", "XX000"},
		{pgtype.Int4ArrayOID, []any{[]any{int32(1)}, []any{int32(1), int32(2)}}, "2202E"},
	} {
		enc, err := NewEncoder(typ(c.oid), 1, nil)
		if err != nil {
			t.Fatal(err)
		}
		_, err = enc(nil, c.v)
		if code := sqlstate(err); code != c.code {
			t.Errorf("encode %d %#v: error %v, want SQLSTATE %s", c.oid, c.v, err, c.code)
		}
	}
	if _, err := NewEncoder(typ(1560), 1, nil); sqlstate(err) != "42883" {
		t.Errorf("binary bit: %v", err)
	}
	if _, err := NewEncoder(typ(pgtype.Int4OID), 2, nil); err == nil {
		t.Errorf("format 2 accepted")
	}
}

// TestBinaryParamRoundTrip: what the encoder writes, DecodeParam reads back.
func TestBinaryParamRoundTrip(t *testing.T) {
	ts := time.Date(2024, 1, 1, 12, 0, 0, 123456000, time.UTC)
	cases := []struct {
		oid  uint32
		v    any
		want any
	}{
		{pgtype.BoolOID, true, true},
		{pgtype.Int2OID, int16(-7), int16(-7)},
		{pgtype.Int4OID, int32(7), int32(7)},
		{pgtype.Int8OID, int64(-7), int64(-7)},
		{pgtype.Float4OID, float32(1.25), float32(1.25)},
		{pgtype.Float8OID, 1.25, 1.25},
		{pgtype.TextOID, "x", "x"},
		{pgtype.ByteaOID, []byte{1}, []byte{1}},
		{pgtype.DateOID, date(2024, 1, 1), date(2024, 1, 1)},
		{pgtype.TimestampOID, ts, ts},
		{pgtype.TimestamptzOID, ts, ts},
		{pgtype.TimeOID, time.Date(1, 1, 1, 1, 2, 3, 400000000, time.UTC), "01:02:03.4"},
		{timetzOID, time.Date(1, 1, 1, 1, 2, 3, 0, time.FixedZone("", -12600)), "01:02:03-03:30"},
		{pgtype.IntervalOID, iv(1, 2, 3), iv(1, 2, 3)},
		{pgtype.NumericOID, dec(1230, 2), "12.30"},
		{pgtype.NumericOID, dec(-1, 3), "-0.001"},
		{pgtype.NumericOID, dec(0, 2), "0.00"},
		{pgtype.NumericOID, new(big.Int).Exp(big.NewInt(10), big.NewInt(20), nil), "100000000000000000000"},
		{pgtype.NumericOID, dec(123456789000123, 6), "123456789.000123"},
		{pgtype.NumericOID, math.Inf(-1), "-Infinity"},
		{pgtype.NumericOID, math.NaN(), "NaN"},
		{pgtype.UUIDOID, duckdb.UUID{1, 2, 3}, &duckdb.UUID{1, 2, 3}},
		{pgtype.JSONBOID, map[string]any{"a": 1.0}, `{"a": 1}`},
		{pgtype.Int4ArrayOID, []any{int32(1), nil}, []any{int32(1), nil}},
		{pgtype.TextArrayOID, []any{[]any{"a", "b"}, []any{"c", nil}}, []any{[]any{"a", "b"}, []any{"c", nil}}},
	}
	for _, c := range cases {
		b := encBinary(t, c.oid, c.v)
		got, err := DecodeParam(c.oid, 1, b)
		if err != nil {
			t.Errorf("decode %d %x: %v", c.oid, b, err)
			continue
		}
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("round trip %d %#v: got %#v, want %#v", c.oid, c.v, got, c.want)
		}
	}
}

func sqlstate(err error) string {
	if err == nil {
		return ""
	}
	var pe *pgerr.Error
	if errors.As(err, &pe) {
		return pe.Code
	}
	return "not a pgerr: " + err.Error()
}
