package codec

import (
	"errors"
	"math"
	"reflect"
	"testing"
	"time"

	"github.com/duckdb/duckdb-go/v2"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/hopsql/hopsql/engine/pgerr"
	"github.com/hopsql/hopsql/engine/pgtypes"
)

var testUUID = &duckdb.UUID{0xa0, 0xee, 0xbc, 0x99, 0x9c, 0x0b, 0x4e, 0xf8, 0xbb, 0x6d, 0x6b, 0xb9, 0xbd, 0x38, 0x0a, 0x11}

func TestDecodeText(t *testing.T) {
	cases := []struct {
		oid  uint32
		in   string
		want any
	}{
		{0, "anything", "anything"},
		{pgtypes.UnknownOID, "x", "x"},
		{pgtype.TextOID, "héllo", "héllo"},
		{pgtype.VarcharOID, "", ""},
		{pgtype.NameOID, "pg_class", "pg_class"},
		{pgtype.JSONOID, `{"a":1}`, `{"a":1}`},
		{pgtype.JSONBOID, `[1]`, `[1]`},
		{pgtype.DateOID, "2024-01-01", "2024-01-01"},
		{pgtype.TimestamptzOID, "2024-01-01 12:00:00+02", "2024-01-01 12:00:00+02"},
		// Booleans as boolin reads them (checked with SELECT 'tr'::bool, 'of'::bool, ' yes '::bool).
		{pgtype.BoolOID, "t", true},
		{pgtype.BoolOID, "TRUE", true},
		{pgtype.BoolOID, "tr", true},
		{pgtype.BoolOID, " yes ", true},
		{pgtype.BoolOID, "on", true},
		{pgtype.BoolOID, "1", true},
		{pgtype.BoolOID, "f", false},
		{pgtype.BoolOID, "of", false},
		{pgtype.BoolOID, "no", false},
		{pgtype.BoolOID, "0", false},
		// SELECT ' 12 '::int4, '+5'::int2, '-32768'::int2
		{pgtype.Int4OID, " 12 ", int32(12)},
		{pgtype.Int2OID, "+5", int16(5)},
		{pgtype.Int2OID, "-32768", int16(-32768)},
		{pgtype.Int8OID, "9223372036854775807", int64(math.MaxInt64)},
		{pgtype.OIDOID, "4294967295", int64(4294967295)},
		{pgtype.OIDOID, "-1", int64(4294967295)},
		{pgtype.Float8OID, " 1.5 ", 1.5},
		{pgtype.Float8OID, "inf", math.Inf(1)},
		{pgtype.Float8OID, "-Infinity", math.Inf(-1)},
		{pgtype.Float4OID, "-INFINITY", float32(math.Inf(-1))},
		{pgtype.Float4OID, "0.1", float32(0.1)},
		{pgtype.NumericOID, " 12.30 ", "12.30"},
		{pgtype.NumericOID, "-1.5e3", "-1.5e3"},
		{pgtype.NumericOID, "nan", "NaN"},
		{pgtype.NumericOID, ".5", ".5"},
		// SELECT '\x0102'::bytea; SELECT 'ab\001c\\'::bytea → \x61625c303031635c5c is with
		// standard_conforming_strings on the literal ab\001c\\ read by byteain: a b \001 c \.
		{pgtype.ByteaOID, `\x0102`, []byte{1, 2}},
		{pgtype.ByteaOID, `\x01 02`, []byte{1, 2}},
		{pgtype.ByteaOID, `\x`, []byte{}},
		{pgtype.ByteaOID, `ab\001c\\`, []byte{'a', 'b', 1, 'c', '\\'}},
		{pgtype.ByteaOID, `plain`, []byte("plain")},
		{pgtype.UUIDOID, "A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11", testUUID},
		{pgtype.UUIDOID, "{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11}", testUUID},
		{pgtype.UUIDOID, "a0eebc999c0b4ef8bb6d6bb9bd380a11", testUUID},
		{pgtype.UUIDOID, "a0ee-bc99-9c0b-4ef8-bb6d-6bb9-bd38-0a11", testUUID},
		{pgtype.IntervalOID, "1 year 2 mons 3 days 04:05:06.5", iv(14, 3, 4*usecsPerHour+5*usecsPerMin+6500000)},
		// Arrays: elements decoded by element type.
		{pgtype.Int4ArrayOID, "{1,2,NULL}", []any{int32(1), int32(2), nil}},
		{pgtype.Int4ArrayOID, "{ 1 , 2 }", []any{int32(1), int32(2)}},
		{pgtype.Int4ArrayOID, "{}", []any{}},
		{pgtype.Int4ArrayOID, "[0:1]={1,2}", []any{int32(1), int32(2)}},
		{pgtype.Int4ArrayOID, "{{1,2},{3,4}}", []any{[]any{int32(1), int32(2)}, []any{int32(3), int32(4)}}},
		{pgtype.TextArrayOID, `{"a b",NULL,"\"x\"","",null2, c d ,"NULL"}`, []any{"a b", nil, `"x"`, "", "null2", "c d", "NULL"}},
		{pgtype.TextArrayOID, `{a\,b}`, []any{"a,b"}},
		{pgtype.BoolArrayOID, "{t,f,yes}", []any{true, false, true}},
		{pgtype.Float8ArrayOID, "{1.5,NaN}", []any{1.5, math.NaN()}},
		{pgtype.ByteaArrayOID, `{"\\x0102"}`, []any{[]byte{1, 2}}},
		{pgtype.UUIDArrayOID, `{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11}`, []any{testUUID}},
		{pgtype.DateArrayOID, `{2024-01-01,"0044-03-15 BC"}`, []any{date(2024, 1, 1), date(-43, 3, 15)}},
		{pgtype.TimestampArrayOID, `{"2024-01-01 12:00:00.5"}`, []any{time.Date(2024, 1, 1, 12, 0, 0, 500000000, time.UTC)}},
		{pgtype.TimestamptzArrayOID, `{"2024-01-01 12:00:00+05:30","2024-01-01 12:00:00"}`, []any{time.Date(2024, 1, 1, 6, 30, 0, 0, time.UTC), "2024-01-01 12:00:00"}},
		{pgtype.IntervalArrayOID, `{"-1 days +02:00:00"}`, []any{iv(0, -1, 2*usecsPerHour)}},
		{pgtypes.Int2VectorOID, "1 2", []any{int16(1), int16(2)}},
	}
	for _, c := range cases {
		got, err := DecodeParam(c.oid, 0, []byte(c.in))
		if err != nil {
			t.Errorf("DecodeParam(%d, %q): %v", c.oid, c.in, err)
			continue
		}
		if !equalNaN(got, c.want) {
			t.Errorf("DecodeParam(%d, %q) = %#v, want %#v", c.oid, c.in, got, c.want)
		}
	}
	if v, err := DecodeParam(pgtype.Int4OID, 0, nil); v != nil || err != nil {
		t.Errorf("NULL: %v %v", v, err)
	}
}

// equalNaN is DeepEqual that lets NaN equal NaN.
func equalNaN(a, b any) bool {
	if la, ok := a.([]any); ok {
		lb, ok := b.([]any)
		if !ok || len(la) != len(lb) {
			return false
		}
		for i := range la {
			if !equalNaN(la[i], lb[i]) {
				return false
			}
		}
		return true
	}
	if fa, ok := a.(float64); ok {
		if fb, ok := b.(float64); ok && math.IsNaN(fa) && math.IsNaN(fb) {
			return true
		}
	}
	return reflect.DeepEqual(a, b)
}

// TestParseInterval compares with PostgreSQL: each input was cast with
// SELECT x, x::interval FROM unnest(ARRAY[...]) x, and the output is what
// our encoder prints for the parsed value.
func TestParseInterval(t *testing.T) {
	for _, c := range []struct{ in, pg string }{
		{"1 year 2 mons 3 days 04:05:06.5", "1 year 2 mons 3 days 04:05:06.5"},
		{"-1 days +02:00:00", "-1 days +02:00:00"},
		{"-1 years -2 mons", "-1 years -2 mons"},
		{"1 day -01:00:00", "1 day -01:00:00"},
		{"-04:05:06", "-04:05:06"},
		{"100:00:00", "100:00:00"},
		{"-00:00:00.5", "-00:00:00.5"},
		{"-1 mons +1 day", "-1 mons +1 day"},
		{"00:00:00", "00:00:00"},
		{"0", "00:00:00"},
		{"1 day ago", "-1 days"},
		{"@ 1 hour 30 min", "01:30:00"},
		{"P1Y2M3DT4H5M6.5S", "1 year 2 mons 3 days 04:05:06.5"},
		{"1-2", "1 year 2 mons"},
		{"-1-2", "-1 years -2 mons"},
		{"3 4:05:06", "3 days 04:05:06"},
		{"1.5 years", "1 year 6 mons"},
		{"1 week", "7 days"},
		{"10:00", "10:00:00"},
		{"1.5", "00:00:01.5"},
		{"2 millennium 1 century 1 decade", "2110 years"},
		{"5 ms 7 us", "00:00:00.005007"},
		{"P0001-02-03T04:05:06", "1 year 2 mons 3 days 04:05:06"},
		{"1.5 months", "1 mon 15 days"},
		{"-1.5 days", "-1 days -12:00:00"},
		{"1 week 2 days", "9 days"},
		{"0.5 weeks", "3 days 12:00:00"},
		{"-1 year +1 mon", "-11 mons"},
		{"2 hours 30 minutes ago", "-02:30:00"},
		{"1:30.5", "00:01:30.5"},
		{"P1W", "7 days"},
		{"PT1.5H", "01:30:00"},
		{"+3 days -2 hours", "3 days -02:00:00"},
		{"1 mon 2 days 3 hours 4 mins 5 secs", "1 mon 2 days 03:04:05"},
		{"0.001 sec", "00:00:00.001"},
		{"1 decade 2 years", "12 years"},
		{"7 d 3 h", "7 days 03:00:00"},
		{"2 yrs 1 mon", "2 years 1 mon"},
	} {
		v, err := ParseInterval(c.in)
		if err != nil {
			t.Errorf("ParseInterval(%q): %v", c.in, err)
			continue
		}
		if got := string(appendInterval(nil, v.Months, v.Days, v.Micros)); got != c.pg {
			t.Errorf("ParseInterval(%q) prints %q, PostgreSQL %q", c.in, got, c.pg)
		}
	}
}

func TestDecodeTextErrors(t *testing.T) {
	for _, c := range []struct {
		oid          uint32
		in           string
		code, msg    string
		detail       string
		checkMessage bool
	}{
		// Messages as PostgreSQL 15 prints them for the same casts.
		{pgtype.Int4OID, "abc", "22P02", `invalid input syntax for type integer: "abc"`, "", true},
		{pgtype.Int4OID, "", "22P02", `invalid input syntax for type integer: ""`, "", true},
		{pgtype.Int4OID, "99999999999", "22003", `value "99999999999" is out of range for type integer`, "", true},
		{pgtype.Int2OID, "40000", "22003", `value "40000" is out of range for type smallint`, "", true},
		{pgtype.Int8OID, "1.5", "22P02", `invalid input syntax for type bigint: "1.5"`, "", true},
		{pgtype.BoolOID, "x", "22P02", `invalid input syntax for type boolean: "x"`, "", true},
		{pgtype.BoolOID, "o", "22P02", `invalid input syntax for type boolean: "o"`, "", true},
		{pgtype.Float8OID, "abc", "22P02", `invalid input syntax for type double precision: "abc"`, "", true},
		{pgtype.Float8OID, "1e400", "22003", `"1e400" is out of range for type double precision`, "", true},
		{pgtype.Float4OID, "1e40", "22003", `"1e40" is out of range for type real`, "", true},
		{pgtype.NumericOID, "abc", "22P02", `invalid input syntax for type numeric: "abc"`, "", true},
		{pgtype.NumericOID, "1e", "22P02", `invalid input syntax for type numeric: "1e"`, "", true},
		{pgtype.ByteaOID, `\xzz`, "22023", `invalid hexadecimal digit: "z"`, "", true},
		{pgtype.ByteaOID, `\x012`, "22023", `invalid hexadecimal data: odd number of digits`, "", true},
		{pgtype.ByteaOID, `\9`, "22P02", `invalid input syntax for type bytea`, "", false},
		{pgtype.UUIDOID, "xyz", "22P02", `invalid input syntax for type uuid: "xyz"`, "", true},
		{pgtype.IntervalOID, "abc", "22007", `invalid input syntax for type interval: "abc"`, "", true},
		{pgtype.Int4ArrayOID, "{1,2", "22P02", `malformed array literal: "{1,2"`, "Unexpected end of input.", true},
		{pgtype.TextArrayOID, "{a}}", "22P02", `malformed array literal: "{a}}"`, "Junk after closing right brace.", true},
		{pgtype.TextArrayOID, "{a", "22P02", `malformed array literal: "{a"`, "Unexpected end of input.", true},
		{pgtype.Int4ArrayOID, "{1,abc}", "22P02", `invalid input syntax for type integer: "abc"`, "", true},
		{pgtype.Int4ArrayOID, "{{1,2},{3}}", "22P02", `malformed array literal: "{{1,2},{3}}"`, "", false},
		{pgtype.TextOID, "\xff", "22021", `invalid byte sequence for encoding "UTF8": 0xff`, "", true},
	} {
		_, err := DecodeParam(c.oid, 0, []byte(c.in))
		var pe *pgerr.Error
		if !errors.As(err, &pe) {
			t.Errorf("DecodeParam(%d, %q): error %v is not a *pgerr.Error", c.oid, c.in, err)
			continue
		}
		if pe.Code != c.code || (c.checkMessage && pe.Message != c.msg) || (c.detail != "" && pe.Detail != c.detail) {
			t.Errorf("DecodeParam(%d, %q): %s %q (%q), want %s %q (%q)", c.oid, c.in, pe.Code, pe.Message, pe.Detail, c.code, c.msg, c.detail)
		}
	}
}

func TestDecodeBinaryErrors(t *testing.T) {
	for _, c := range []struct {
		oid  uint32
		in   []byte
		code string
	}{
		{pgtype.Int4OID, []byte{0, 0, 1}, "22P03"},
		{pgtype.Int8OID, []byte{0, 0, 0, 0, 0, 0, 0, 0, 0}, "22P03"},
		{pgtype.BoolOID, []byte{}, "22P03"},
		{pgtype.JSONBOID, []byte{2, '1'}, "22P03"},
		{pgtype.UUIDOID, make([]byte, 15), "22P03"},
		{pgtype.NumericOID, []byte{0, 1, 0, 0, 0, 0, 0, 0}, "22P03"}, // one digit promised, none sent
		{pgtype.Int4ArrayOID, append(append(be32(1), be32(0)...), be32(25)...), "42804"},
		{pgtype.Int4ArrayOID, append(append(append(be32(1), be32(0)...), be32(23)...), append(be32(2), be32(1)...)...), "22P03"},
		{1560, []byte{0}, "42883"},
	} {
		_, err := DecodeParam(c.oid, 1, c.in)
		if sqlstate(err) != c.code {
			t.Errorf("DecodeParam(%d, binary %x): %v, want SQLSTATE %s", c.oid, c.in, err, c.code)
		}
	}
	_, err := DecodeParam(pgtype.Int4OID, 1, []byte{1})
	be := BindError(err, 2)
	if be.Code != "22P03" || be.Message != "incorrect binary data format in bind parameter 2" {
		t.Errorf("BindError: %+v", be)
	}
	_, err = DecodeParam(pgtype.Int4OID, 0, []byte("x"))
	if be := BindError(err, 1); be.Code != "22P02" || be.Message != `invalid input syntax for type integer: "x"` {
		t.Errorf("BindError text: %+v", be)
	}
}

func TestDecodeBinaryValues(t *testing.T) {
	cases := []struct {
		oid  uint32
		in   []byte
		want any
	}{
		{pgtype.OIDOID, []byte{255, 255, 255, 255}, int64(4294967295)},
		{pgtype.JSONBOID, []byte("\x01{}"), "{}"},
		{pgtype.DateOID, be32(math.MaxInt32), "infinity"},
		{pgtype.TimestampOID, be64(math.MinInt64), "-infinity"},
		{pgtype.DateOID, be32(0), date(2000, 1, 1)},
		{pgtype.TimestamptzOID, be64(-1), time.Date(1999, 12, 31, 23, 59, 59, 999999000, time.UTC)},
	}
	for _, c := range cases {
		got, err := DecodeParam(c.oid, 1, c.in)
		if err != nil || !reflect.DeepEqual(got, c.want) {
			t.Errorf("DecodeParam(%d, binary %x) = %#v, %v; want %#v", c.oid, c.in, got, err, c.want)
		}
	}
	// The decoded bytea must not alias the caller's (reused) buffer.
	in := []byte{1, 2}
	got, _ := DecodeParam(pgtype.ByteaOID, 1, in)
	in[0] = 9
	if got.([]byte)[0] != 1 {
		t.Errorf("bytea aliases the input buffer")
	}
}
