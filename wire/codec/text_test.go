package codec

import (
	"encoding/json"
	"math"
	"math/big"
	"testing"
	"time"

	"github.com/duckdb/duckdb-go/v2"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/hopsql/hopsql/engine/pgtypes"
)

// The expected strings below were printed by a real PostgreSQL 15.18
// (Debian 15.18-0+deb12u1) with psql -At, e.g.
//
//	psql -h 127.0.0.1 -p 55432 -U postgres -At -c \
//	  "SET TimeZone='Asia/Kolkata'; SELECT '2024-01-01 12:00:00+02'::timestamptz"
//
// with the literal shown in each case's comment (or name) as the input.

func typ(oid uint32) pgtypes.Type {
	t := pgtypes.Type{OID: oid, Typmod: -1, Size: -1}
	if info, ok := pgtypes.Lookup(oid); ok {
		t.Size = info.Len
		if info.Category == 'A' && info.ElemOID != 0 {
			e := typ(info.ElemOID)
			t.Elem = &e
		}
	}
	return t
}

func mustLoc(t testing.TB, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Skipf("time zone %s not available: %v", name, err)
	}
	return loc
}

func dec(v int64, scale uint8) duckdb.Decimal {
	return duckdb.Decimal{Width: 18, Scale: scale, Value: big.NewInt(v)}
}

func date(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

func efd(n int) *Settings {
	s := DefaultSettings()
	s.ExtraFloatDigits = n
	return s
}

func tz(loc *time.Location) *Settings {
	s := DefaultSettings()
	s.TimeZone = loc
	return s
}

type textCase struct {
	name string
	oid  uint32
	s    *Settings
	v    any
	want string
}

func runText(t *testing.T, cases []textCase) {
	t.Helper()
	for _, c := range cases {
		enc, err := NewEncoder(typ(c.oid), 0, c.s)
		if err != nil {
			t.Fatalf("%s: NewEncoder: %v", c.name, err)
		}
		got, err := enc([]byte("prefix:"), c.v)
		if err != nil {
			t.Errorf("%s: encode %#v: %v", c.name, c.v, err)
			continue
		}
		if string(got) != "prefix:"+c.want {
			t.Errorf("%s: encode %#v = %q, want %q", c.name, c.v, string(got[7:]), c.want)
		}
		// AppendText must agree with the column encoder.
		got2, err := AppendText(nil, typ(c.oid), c.v, c.s)
		if err != nil || string(got2) != c.want {
			t.Errorf("%s: AppendText = %q, %v; want %q", c.name, got2, err, c.want)
		}
	}
}

func TestTextScalars(t *testing.T) {
	bigNeg, _ := new(big.Int).SetString("-170141183460469231731687303715884105728", 10)
	runText(t, []textCase{
		{"bool t", pgtype.BoolOID, nil, true, "t"},
		{"bool f", pgtype.BoolOID, nil, false, "f"},
		{"int2 from int8", pgtype.Int2OID, nil, int8(-128), "-128"},
		{"int2 from uint8", pgtype.Int2OID, nil, uint8(255), "255"},
		{"int4", pgtype.Int4OID, nil, int32(-2147483648), "-2147483648"},
		{"int4 from uint16", pgtype.Int4OID, nil, uint16(65535), "65535"},
		{"int8", pgtype.Int8OID, nil, int64(math.MaxInt64), "9223372036854775807"},
		{"int8 zero", pgtype.Int8OID, nil, int64(0), "0"},
		{"int8 from uint32", pgtype.Int8OID, nil, uint32(4294967295), "4294967295"},
		{"oid", pgtype.OIDOID, nil, int64(1259), "1259"},
		{"text", pgtype.TextOID, nil, "héllo, world", "héllo, world"},
		{"text empty", pgtype.TextOID, nil, "", ""},
		{"varchar enum", pgtype.VarcharOID, nil, "a", "a"},
		{"text bit string", pgtype.TextOID, nil, "10101", "10101"},
		{"text bit struct", pgtype.TextOID, nil, duckdb.Bit{Data: []byte{3, 0xf5}}, "10101"},
		{"name", pgtype.NameOID, nil, "pg_class", "pg_class"},
		// SELECT '\x0102'::bytea, ''::bytea
		{"bytea", pgtype.ByteaOID, nil, []byte{1, 2}, `\x0102`},
		{"bytea empty", pgtype.ByteaOID, nil, []byte{}, `\x`},
		// SELECT 'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11'::uuid
		{"uuid bytes", pgtype.UUIDOID, nil, []byte{0xa0, 0xee, 0xbc, 0x99, 0x9c, 0x0b, 0x4e, 0xf8, 0xbb, 0x6d, 0x6b, 0xb9, 0xbd, 0x38, 0x0a, 0x11}, "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"},
		{"uuid type", pgtype.UUIDOID, nil, duckdb.UUID{0xa0, 0xee, 0xbc, 0x99, 0x9c, 0x0b, 0x4e, 0xf8, 0xbb, 0x6d, 0x6b, 0xb9, 0xbd, 0x38, 0x0a, 0x11}, "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"},
		// SELECT 12.30::numeric, -0.001::numeric, 'NaN'::numeric, 1e20::numeric, 0::numeric(10,2)
		{"numeric scale kept", pgtype.NumericOID, nil, dec(1230, 2), "12.30"},
		{"numeric small neg", pgtype.NumericOID, nil, dec(-1, 3), "-0.001"},
		{"numeric zero scale 2", pgtype.NumericOID, nil, dec(0, 2), "0.00"},
		{"numeric NaN", pgtype.NumericOID, nil, math.NaN(), "NaN"},
		{"numeric 1e20 hugeint", pgtype.NumericOID, nil, new(big.Int).Exp(big.NewInt(10), big.NewInt(20), nil), "100000000000000000000"},
		{"numeric hugeint min", pgtype.NumericOID, nil, bigNeg, "-170141183460469231731687303715884105728"},
		{"numeric ubigint", pgtype.NumericOID, nil, uint64(math.MaxUint64), "18446744073709551615"},
		{"numeric big decimal", pgtype.NumericOID, nil, duckdb.Decimal{Width: 38, Scale: 10, Value: bigNeg}, "-17014118346046923173168730371.5884105728"},
	})
}

func TestTextFloat(t *testing.T) {
	nan, inf := math.NaN(), math.Inf(1)
	runText(t, []textCase{
		// SELECT 1e15::float8, 1e14::float8, 123456789012345.6::float8, 1e-4::float8, 1e-5::float8,
		//        0.1::float8, -0.0::float8, 'Infinity'::float8, '-Infinity'::float8,
		//        1.7976931348623157e308::float8, 5e-324::float8, (1/3.0)::float8
		{"f8 1e15", pgtype.Float8OID, nil, 1e15, "1e+15"},
		{"f8 1e14", pgtype.Float8OID, nil, 1e14, "100000000000000"},
		{"f8 frac", pgtype.Float8OID, nil, 123456789012345.6, "123456789012345.6"},
		{"f8 1e-4", pgtype.Float8OID, nil, 1e-4, "0.0001"},
		{"f8 1e-5", pgtype.Float8OID, nil, 1e-5, "1e-05"},
		{"f8 0.1", pgtype.Float8OID, nil, 0.1, "0.1"},
		{"f8 -0", pgtype.Float8OID, nil, math.Copysign(0, -1), "-0"},
		{"f8 0", pgtype.Float8OID, nil, 0.0, "0"},
		{"f8 inf", pgtype.Float8OID, nil, inf, "Infinity"},
		{"f8 -inf", pgtype.Float8OID, nil, -inf, "-Infinity"},
		{"f8 nan", pgtype.Float8OID, nil, nan, "NaN"},
		{"f8 max", pgtype.Float8OID, nil, math.MaxFloat64, "1.7976931348623157e+308"},
		{"f8 min denorm", pgtype.Float8OID, nil, 5e-324, "5e-324"},
		{"f8 third", pgtype.Float8OID, nil, 1 / 3.0, "0.3333333333333333"},
		{"f8 neg", pgtype.Float8OID, nil, -2.5, "-2.5"},
		{"f8 1234.5", pgtype.Float8OID, nil, 1234.5, "1234.5"},
		// SELECT 1e6::float4, 123456::float4, 1234567::float4, 0.1::float4, 1e-5::float4,
		//        3.4028235e38::float4, (1/3.0)::float4, 1.5e-45::float4
		{"f4 1e6", pgtype.Float4OID, nil, float32(1e6), "1e+06"},
		{"f4 123456", pgtype.Float4OID, nil, float32(123456), "123456"},
		{"f4 1234567", pgtype.Float4OID, nil, float32(1234567), "1.234567e+06"},
		{"f4 0.1", pgtype.Float4OID, nil, float32(0.1), "0.1"},
		{"f4 1e-5", pgtype.Float4OID, nil, float32(1e-5), "1e-05"},
		{"f4 max", pgtype.Float4OID, nil, float32(math.MaxFloat32), "3.4028235e+38"},
		{"f4 third", pgtype.Float4OID, nil, float32(1 / 3.0), "0.33333334"},
		{"f4 denorm", pgtype.Float4OID, nil, float32(1.5e-45), "1e-45"},
		{"f4 nan", pgtype.Float4OID, nil, float32(nan), "NaN"},
		// SET extra_float_digits=0; SELECT 1e15::float8, 1e14::float8, 123456789012345.6::float8,
		//   0.1::float8, (1/3.0)::float8, 1e-5::float8, 100000::float8, 1.5::float8
		{"f8 efd0 1e15", pgtype.Float8OID, efd(0), 1e15, "1e+15"},
		{"f8 efd0 1e14", pgtype.Float8OID, efd(0), 1e14, "100000000000000"},
		{"f8 efd0 round", pgtype.Float8OID, efd(0), 123456789012345.6, "123456789012346"},
		{"f8 efd0 0.1", pgtype.Float8OID, efd(0), 0.1, "0.1"},
		{"f8 efd0 third", pgtype.Float8OID, efd(0), 1 / 3.0, "0.333333333333333"},
		{"f8 efd0 1e-5", pgtype.Float8OID, efd(0), 1e-5, "1e-05"},
		{"f8 efd0 100000", pgtype.Float8OID, efd(0), 100000.0, "100000"},
		{"f8 efd0 1.5", pgtype.Float8OID, efd(0), 1.5, "1.5"},
		{"f8 efd0 nan", pgtype.Float8OID, efd(0), nan, "NaN"},
		// SET extra_float_digits=0; SELECT 1e6::float4, 123456::float4, 1234567::float4, 0.1::float4, (1/3.0)::float4, 1e-5::float4
		{"f4 efd0 1e6", pgtype.Float4OID, efd(0), float32(1e6), "1e+06"},
		{"f4 efd0 123456", pgtype.Float4OID, efd(0), float32(123456), "123456"},
		{"f4 efd0 1234567", pgtype.Float4OID, efd(0), float32(1234567), "1.23457e+06"},
		{"f4 efd0 0.1", pgtype.Float4OID, efd(0), float32(0.1), "0.1"},
		{"f4 efd0 third", pgtype.Float4OID, efd(0), float32(1 / 3.0), "0.333333"},
		{"f4 efd0 1e-5", pgtype.Float4OID, efd(0), float32(1e-5), "1e-05"},
		// SET extra_float_digits=-3; SELECT 1e15::float8, (1/3.0)::float8, 123456789::float8, (1/3.0)::float4, 1234::float4
		{"f8 efd-3 1e15", pgtype.Float8OID, efd(-3), 1e15, "1e+15"},
		{"f8 efd-3 third", pgtype.Float8OID, efd(-3), 1 / 3.0, "0.333333333333"},
		{"f8 efd-3 int", pgtype.Float8OID, efd(-3), 123456789.0, "123456789"},
		{"f4 efd-3 third", pgtype.Float4OID, efd(-3), float32(1 / 3.0), "0.333"},
		{"f4 efd-3 1234", pgtype.Float4OID, efd(-3), float32(1234), "1.23e+03"},
		// SET extra_float_digits=3; SELECT 0.1::float8, (1/3.0)::float4
		{"f8 efd3", pgtype.Float8OID, efd(3), 0.1, "0.1"},
		{"f4 efd3", pgtype.Float4OID, efd(3), float32(1 / 3.0), "0.33333334"},
	})
}

func TestTextDateTime(t *testing.T) {
	kolkata := mustLoc(t, "Asia/Kolkata")
	stJohns := mustLoc(t, "America/St_Johns")
	amsterdam := mustLoc(t, "Europe/Amsterdam")
	newYork := mustLoc(t, "America/New_York")
	// The driver's values for DuckDB's infinities (see vector_getters.go).
	dateInf := time.Date(5881580, time.July, 11, 0, 0, 0, 0, time.UTC)
	dateNegInf := time.Date(-5877641, time.June, 24, 0, 0, 0, 0, time.UTC)
	tsInf := time.UnixMicro(math.MaxInt64).UTC()
	tsNegInf := time.UnixMicro(-math.MaxInt64).UTC()
	noon := func(loc *time.Location) time.Time { return time.Date(2024, 1, 1, 10, 0, 0, 0, time.UTC).In(loc) }
	runText(t, []textCase{
		// SELECT '2024-01-01'::date, '0001-01-01'::date, '0044-03-15 BC'::date, '12345-06-07'::date,
		//        'infinity'::date, '-infinity'::date
		{"date", pgtype.DateOID, nil, date(2024, 1, 1), "2024-01-01"},
		{"date year 1", pgtype.DateOID, nil, date(1, 1, 1), "0001-01-01"},
		{"date BC", pgtype.DateOID, nil, date(-43, 3, 15), "0044-03-15 BC"},
		{"date 5 digit year", pgtype.DateOID, nil, date(12345, 6, 7), "12345-06-07"},
		{"date infinity", pgtype.DateOID, nil, dateInf, "infinity"},
		{"date -infinity", pgtype.DateOID, nil, dateNegInf, "-infinity"},
		// SELECT '12:34:56.5'::time, '00:00:00'::time, '23:59:59.999999'::time, '01:02:03.120'::time
		{"time", pgtype.TimeOID, nil, time.Date(1, 1, 1, 12, 34, 56, 500000000, time.UTC), "12:34:56.5"},
		{"time midnight", pgtype.TimeOID, nil, time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC), "00:00:00"},
		{"time max", pgtype.TimeOID, nil, time.Date(1, 1, 1, 23, 59, 59, 999999000, time.UTC), "23:59:59.999999"},
		{"time trim", pgtype.TimeOID, nil, time.Date(1, 1, 1, 1, 2, 3, 120000000, time.UTC), "01:02:03.12"},
		// SELECT '12:34:56.5+02'::timetz, '12:00:00-03:30'::timetz, '12:00:00+00'::timetz, '12:00:00+05:30:15'::timetz
		{"timetz", timetzOID, nil, time.Date(1, 1, 1, 12, 34, 56, 500000000, time.FixedZone("", 7200)), "12:34:56.5+02"},
		{"timetz neg half", timetzOID, nil, time.Date(1, 1, 1, 12, 0, 0, 0, time.FixedZone("", -12600)), "12:00:00-03:30"},
		{"timetz utc", timetzOID, nil, time.Date(1, 1, 1, 12, 0, 0, 0, time.UTC), "12:00:00+00"},
		{"timetz seconds", timetzOID, nil, time.Date(1, 1, 1, 12, 0, 0, 0, time.FixedZone("", 19815)), "12:00:00+05:30:15"},
		// SELECT '2024-01-01 12:00:00'::timestamp, '2024-01-01 12:00:00.123'::timestamp,
		//   '0044-03-15 12:00:00 BC'::timestamp, 'infinity'::timestamp, '-infinity'::timestamp,
		//   '2024-01-01 00:00:00.000001'::timestamp
		{"ts", pgtype.TimestampOID, nil, time.Date(2024, 1, 1, 12, 0, 0, 0, time.UTC), "2024-01-01 12:00:00"},
		{"ts frac", pgtype.TimestampOID, nil, time.Date(2024, 1, 1, 12, 0, 0, 123000000, time.UTC), "2024-01-01 12:00:00.123"},
		{"ts BC", pgtype.TimestampOID, nil, time.Date(-43, 3, 15, 12, 0, 0, 0, time.UTC), "0044-03-15 12:00:00 BC"},
		{"ts infinity", pgtype.TimestampOID, nil, tsInf, "infinity"},
		{"ts -infinity", pgtype.TimestampOID, nil, tsNegInf, "-infinity"},
		{"ts micro", pgtype.TimestampOID, nil, time.Date(2024, 1, 1, 0, 0, 0, 1000, time.UTC), "2024-01-01 00:00:00.000001"},
		{"ts ns truncated", pgtype.TimestampOID, nil, time.Date(2024, 1, 1, 12, 0, 0, 123456789, time.UTC), "2024-01-01 12:00:00.123456"},
		// SET TimeZone='UTC'; SELECT '2024-01-01 12:00:00+02'::timestamptz, '2024-01-01 12:00:00.5+02'::timestamptz,
		//   'infinity'::timestamptz, '0044-03-15 12:00:00+00 BC'::timestamptz
		{"tstz utc", pgtype.TimestamptzOID, nil, noon(time.UTC), "2024-01-01 10:00:00+00"},
		{"tstz frac", pgtype.TimestamptzOID, tz(time.UTC), time.Date(2024, 1, 1, 10, 0, 0, 500000000, time.UTC), "2024-01-01 10:00:00.5+00"},
		{"tstz infinity", pgtype.TimestamptzOID, nil, tsInf, "infinity"},
		{"tstz BC", pgtype.TimestamptzOID, nil, time.Date(-43, 3, 15, 12, 0, 0, 0, time.UTC), "0044-03-15 12:00:00+00 BC"},
		// SET TimeZone='Asia/Kolkata'; SELECT '2024-01-01 12:00:00+02'::timestamptz
		{"tstz kolkata", pgtype.TimestamptzOID, tz(kolkata), noon(time.UTC), "2024-01-01 15:30:00+05:30"},
		// SET TimeZone='America/St_Johns'; SELECT '2024-01-01 12:00:00+02'::timestamptz, '2024-07-01 12:00:00+02'::timestamptz
		{"tstz st johns", pgtype.TimestamptzOID, tz(stJohns), noon(time.UTC), "2024-01-01 06:30:00-03:30"},
		{"tstz st johns dst", pgtype.TimestamptzOID, tz(stJohns), time.Date(2024, 7, 1, 10, 0, 0, 0, time.UTC), "2024-07-01 07:30:00-02:30"},
		// SET TimeZone='Europe/Amsterdam'; SELECT '1850-01-01 12:00:00+00'::timestamptz, '2024-07-01 12:00:00.25+00'::timestamptz
		{"tstz LMT", pgtype.TimestamptzOID, tz(amsterdam), time.Date(1850, 1, 1, 12, 0, 0, 0, time.UTC), "1850-01-01 12:19:32+00:19:32"},
		{"tstz cest", pgtype.TimestamptzOID, tz(amsterdam), time.Date(2024, 7, 1, 12, 0, 0, 250000000, time.UTC), "2024-07-01 14:00:00.25+02"},
		// SET TimeZone='America/New_York'; SELECT '2024-01-01 12:00:00+00'::timestamptz, '0044-03-15 12:00:00+00 BC'::timestamptz
		{"tstz new york", pgtype.TimestamptzOID, tz(newYork), time.Date(2024, 1, 1, 12, 0, 0, 0, time.UTC), "2024-01-01 07:00:00-05"},
		{"tstz new york BC", pgtype.TimestamptzOID, tz(newYork), time.Date(-43, 3, 15, 12, 0, 0, 0, time.UTC), "0044-03-15 07:03:58-04:56:02 BC"},
	})
}

func iv(months, days int32, us int64) duckdb.Interval {
	return duckdb.Interval{Months: months, Days: days, Micros: us}
}

func TestTextInterval(t *testing.T) {
	h := usecsPerHour
	runText(t, []textCase{
		// SELECT '1 year 2 mons 3 days 04:05:06.5'::interval, '0'::interval, '-1 days +02:00:00'::interval,
		//   '-1 year -2 mons'::interval, '1 day -1 hour'::interval, '-04:05:06'::interval, '100 hours'::interval,
		//   '1 mon'::interval, '-0.5 sec'::interval, '1 year -1 mon'::interval, '-1 year +1 mon'::interval,
		//   '1 day 00:00:00.000001'::interval, '-1 mons -3 days'::interval, '3 days -00:00:01'::interval
		{"full", pgtype.IntervalOID, nil, iv(14, 3, 4*h+5*usecsPerMin+6500000), "1 year 2 mons 3 days 04:05:06.5"},
		{"zero", pgtype.IntervalOID, nil, iv(0, 0, 0), "00:00:00"},
		{"neg day pos time", pgtype.IntervalOID, nil, iv(0, -1, 2*h), "-1 days +02:00:00"},
		{"neg year mon", pgtype.IntervalOID, nil, iv(-14, 0, 0), "-1 years -2 mons"},
		{"day minus hour", pgtype.IntervalOID, nil, iv(0, 1, -h), "1 day -01:00:00"},
		{"neg time", pgtype.IntervalOID, nil, iv(0, 0, -(4*h + 5*usecsPerMin + 6*usecsPerSec)), "-04:05:06"},
		{"100 hours", pgtype.IntervalOID, nil, iv(0, 0, 100*h), "100:00:00"},
		{"1 mon", pgtype.IntervalOID, nil, iv(1, 0, 0), "1 mon"},
		{"neg half sec", pgtype.IntervalOID, nil, iv(0, 0, -500000), "-00:00:00.5"},
		{"11 mons", pgtype.IntervalOID, nil, iv(11, 0, 0), "11 mons"},
		{"-11 mons", pgtype.IntervalOID, nil, iv(-11, 0, 0), "-11 mons"},
		{"micro", pgtype.IntervalOID, nil, iv(0, 1, 1), "1 day 00:00:00.000001"},
		{"neg mon days", pgtype.IntervalOID, nil, iv(-1, -3, 0), "-1 mons -3 days"},
		{"days minus sec", pgtype.IntervalOID, nil, iv(0, 3, -usecsPerSec), "3 days -00:00:01"},
		// SELECT '2 years 1 day'::interval, '-1 day'::interval, '1 day'::interval, '-1 mon 1 day'::interval
		{"years day", pgtype.IntervalOID, nil, iv(24, 1, 0), "2 years 1 day"},
		{"-1 day", pgtype.IntervalOID, nil, iv(0, -1, 0), "-1 days"},
		{"1 day", pgtype.IntervalOID, nil, iv(0, 1, 0), "1 day"},
		{"neg mon pos day", pgtype.IntervalOID, nil, iv(-1, 1, 0), "-1 mons +1 day"},
	})
}

func TestTextArrays(t *testing.T) {
	runText(t, []textCase{
		// SELECT ARRAY['a b', NULL, '"x"', '', 'NULL', 'null', 'a,b', '{x}', 'back\slash', E'tab\tx', 'ok']
		{"quoting", pgtype.TextArrayOID, nil,
			[]any{"a b", nil, `"x"`, "", "NULL", "null", "a,b", "{x}", `back\slash`, "tab\tx", "ok"},
			`{"a b",NULL,"\"x\"","","NULL","null","a,b","{x}","back\\slash","tab	x",ok}`},
		// SELECT ARRAY[' lead', 'x y'::text], ARRAY['\n'::text], ARRAY[E'nl\nx']
		{"lead space", pgtype.TextArrayOID, nil, []any{" lead", "x y"}, `{" lead","x y"}`},
		{"backslash n", pgtype.TextArrayOID, nil, []any{`\n`}, `{"\\n"}`},
		{"newline", pgtype.TextArrayOID, nil, []any{"nl\nx"}, "{\"nl\nx\"}"},
		{"string slice", pgtype.TextArrayOID, nil, []string{"a", "b c"}, `{a,"b c"}`},
		// SELECT ARRAY[1,2,NULL]::int[], '{}'::int[], ARRAY[1.5, 'NaN', 'Infinity']::float8[], ARRAY['\x0102'::bytea],
		//   ARRAY['2024-01-01 12:00:00'::timestamp], ARRAY[true,false], ARRAY['2024-01-01'::date],
		//   ARRAY['1 day'::interval], ARRAY['{"a":1}'::json], ARRAY[1.50::numeric]
		{"int4", pgtype.Int4ArrayOID, nil, []any{int32(1), int32(2), nil}, "{1,2,NULL}"},
		{"empty", pgtype.Int4ArrayOID, nil, []any{}, "{}"},
		{"empty text", pgtype.TextArrayOID, nil, []any{}, "{}"},
		{"float8", pgtype.Float8ArrayOID, nil, []any{1.5, math.NaN(), math.Inf(1)}, "{1.5,NaN,Infinity}"},
		{"bytea", pgtype.ByteaArrayOID, nil, []any{[]byte{1, 2}}, `{"\\x0102"}`},
		{"timestamp", pgtype.TimestampArrayOID, nil, []any{time.Date(2024, 1, 1, 12, 0, 0, 0, time.UTC)}, `{"2024-01-01 12:00:00"}`},
		{"bool", pgtype.BoolArrayOID, nil, []any{true, false}, "{t,f}"},
		{"date", pgtype.DateArrayOID, nil, []any{date(2024, 1, 1)}, "{2024-01-01}"},
		{"interval", pgtype.IntervalArrayOID, nil, []any{iv(0, 1, 0)}, `{"1 day"}`},
		{"json", pgtype.JSONArrayOID, nil, []any{map[string]any{"a": 1.0}}, `{"{\"a\":1}"}`},
		{"numeric", pgtype.NumericArrayOID, nil, []any{dec(150, 2)}, "{1.50}"},
		// SELECT ARRAY['1 day'::interval,'-1 days +02:00:00'], ARRAY['2024-01-01 12:00:00+00'::timestamptz],
		//   ARRAY[1.5::float4, 'NaN'], ARRAY['a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::uuid], ARRAY[[1,2],[3,NULL]]
		{"intervals", pgtype.IntervalArrayOID, nil, []any{iv(0, 1, 0), iv(0, -1, 2*usecsPerHour)}, `{"1 day","-1 days +02:00:00"}`},
		{"timestamptz", pgtype.TimestamptzArrayOID, nil, []any{time.Date(2024, 1, 1, 12, 0, 0, 0, time.UTC)}, `{"2024-01-01 12:00:00+00"}`},
		{"float4", pgtype.Float4ArrayOID, nil, []any{float32(1.5), float32(math.NaN())}, "{1.5,NaN}"},
		{"uuid", pgtype.UUIDArrayOID, nil, []any{[]byte{0xa0, 0xee, 0xbc, 0x99, 0x9c, 0x0b, 0x4e, 0xf8, 0xbb, 0x6d, 0x6b, 0xb9, 0xbd, 0x38, 0x0a, 0x11}}, "{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11}"},
		{"2-D", pgtype.Int4ArrayOID, nil, []any{[]any{int32(1), int32(2)}, []any{int32(3), nil}}, "{{1,2},{3,NULL}}"},
		// SELECT '1 2'::int2vector
		{"int2vector", pgtypes.Int2VectorOID, nil, []any{int16(1), int16(2)}, "1 2"},
	})
}

func TestTextJSON(t *testing.T) {
	om := duckdb.OrderedMap{}
	om.Set("k", int32(1))
	om.Set(int32(7), "seven")
	runText(t, []textCase{
		// SELECT '{"b":1,"a":[1,2]}'::json keeps its text; the driver decodes it, so keys come back sorted.
		{"object", pgtype.JSONOID, nil, map[string]any{"b": 1.0, "a": []any{1.0, 2.5}}, `{"a":[1,2.5],"b":1}`},
		{"string", pgtype.JSONOID, nil, "abc", `"abc"`},
		{"null", pgtype.JSONOID, nil, nil, "null"},
		{"raw", pgtype.JSONOID, nil, json.RawMessage(`{"z": 1, "a": 2}`), `{"z": 1, "a": 2}`},
		// to_json('tab\tq"'::text) → "tab\\tq\"" (psql shows the backslash of \t doubled: it is E'tab\\tq"')
		{"escapes", pgtype.JSONOID, nil, "tab\tq\"<&>é\x01", `"tab\tq\"<&>é\u0001"`},
		// to_json('NaN'::float8) → "NaN"
		{"nan", pgtype.JSONOID, nil, math.NaN(), `"NaN"`},
		{"struct", pgtype.JSONOID, nil, map[string]any{"x": int32(1), "y": "a", "d": dec(1230, 2), "t": date(2024, 1, 1)}, `{"d":12.30,"t":"2024-01-01","x":1,"y":"a"}`},
		{"map", pgtype.JSONOID, nil, om, `{"k":1,"7":"seven"}`},
		{"union", pgtype.JSONOID, nil, duckdb.Union{Tag: "num", Value: int32(2)}, `2`},
		{"nested list", pgtype.JSONOID, nil, []any{[]any{int32(1)}, []any{int32(2)}}, `[[1],[2]]`},
		// SELECT '{"aa": 1, "b": 2, "ab": {"c": null}}'::jsonb, '[1, "x", null, true, {"k": []}]'::jsonb
		{"jsonb order", pgtype.JSONBOID, nil, map[string]any{"aa": 1.0, "b": 2.0, "ab": map[string]any{"c": nil}}, `{"b": 2, "aa": 1, "ab": {"c": null}}`},
		{"jsonb array", pgtype.JSONBOID, nil, []any{1.0, "x", nil, true, map[string]any{"k": []any{}}}, `[1, "x", null, true, {"k": []}]`},
	})
}

// TestQuoteArrayElemInPlace checks the in-place quoting against a simple
// reference implementation on awkward inputs.
func TestQuoteArrayElemInPlace(t *testing.T) {
	ref := func(s string) string {
		need := s == "" || len(s) == 4 && (s == "NULL" || s == "null" || s == "Null")
		out := []byte{'"'}
		for i := 0; i < len(s); i++ {
			if arrayNeedsQuote(s[i]) {
				need = true
			}
			if s[i] == '"' || s[i] == '\\' {
				out = append(out, '\\')
			}
			out = append(out, s[i])
		}
		if !need {
			return s
		}
		return string(append(out, '"'))
	}
	for _, s := range []string{"", "a", `\`, `"`, `\\""`, `a"b\c d`, "x,y", "plain", "NULL", "Null", "nul", "{", "}"} {
		buf := quoteArrayElem(append([]byte("pre"), s...), 3)
		if got := string(buf[3:]); got != ref(s) {
			t.Errorf("quote %q = %q, want %q", s, got, ref(s))
		}
	}
}
