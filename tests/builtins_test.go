package tests

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
)

// described is outcome with the result's column names and type OIDs in
// front, so that a function answering with the right value under another
// name or type is caught too. jsonb results are compared as json: hopsql
// builds JSON values with DuckDB's json type (docs/sql-compat.md). An error
// is compared alone: PostgreSQL may describe the columns before failing
// at execution where hopsql fails while planning.
func described(ctx context.Context, c *pgx.Conn, mode pgx.QueryExecMode, q string) string {
	out := outcome(ctx, c, mode, q)
	if strings.HasPrefix(out, "ERROR") {
		return out
	}
	rows, err := c.Query(ctx, q, mode)
	if err != nil {
		return "ERROR " + sqlstate(err)
	}
	var cols []string
	for _, f := range rows.FieldDescriptions() {
		oid := f.DataTypeOID
		if oid == 3802 {
			oid = 114
		}
		cols = append(cols, fmt.Sprintf("%s:%d", f.Name, oid))
	}
	rows.Close()
	return strings.Join(cols, ",") + " " + out
}

// TestBuiltinFunctions holds PostgreSQL built-in functions that DuckDB lacks
// or spells differently (engine/pgcatalog/builtins.go) to PostgreSQL 15:
// same column names, types, values and errors, in both protocols.
func TestBuiltinFunctions(t *testing.T) {
	srv := startServer(t)
	ctx := context.Background()
	hop := srv.connect(t)
	ref := connectURL(t, referenceURL(t))
	bothSetUp(t, []*pgx.Conn{hop, ref}, "SET TimeZone = 'UTC'", "DROP TABLE IF EXISTS bf",
		"CREATE TABLE bf (i int, n numeric(10,2), f float8, s text, ts timestamp, tz timestamptz, d date)",
		`INSERT INTO bf VALUES (1, 1234.5, -0.5, 'hello wORLD', '2024-03-05 14:07:09.123456', '2024-03-05 14:07:09+00', '2024-03-01'),
			(2, -7.25, 1e6, 'o''neil-x 3rd', '1999-12-31 23:59:59', '2000-01-01 00:00:00+00', '2024-12-29'),
			(3, NULL, NULL, NULL, NULL, NULL, NULL)`)
	queries := []string{
		// to_char of dates and times: every pattern, FM, TH, case, literals.
		"SELECT to_char(ts, 'YYYY-MM-DD HH24:MI:SS.MS.US') FROM bf ORDER BY i",
		"SELECT to_char(ts, 'Day, DD Month YYYY HH12:MI AM'), to_char(ts, 'FMDay FMMonth FMDD Dy Mon DDD D IW WW Q J CC') FROM bf ORDER BY i",
		`SELECT to_char(d, 'DDth "of" MONTH, day dy mon rm RM FMRM Y,YYY YYY YY Y IYYY IYY IY I'), to_char(d, 'FMDDth FMDDTH ID IDDD W') FROM bf ORDER BY i`,
		`SELECT to_char(tz, 'YYYY-MM-DD"T"HH24:MI:SSOF TZ'), to_char(tz, 'hh hh12 am a.m. PM P.M. SSSS SSSSS FF1 FF3 FF6 AD bc') FROM bf ORDER BY i`,
		`SELECT to_char(TIMESTAMP '2024-03-05 00:07:09', 'HH12:MI "quoted \"HH\"" \Y'), to_char(interval '27 hours 5 minutes', 'HH24:MI:SS')`,
		"SELECT to_char(DATE '2024-03-21', 'DDth DDTH'), to_char(DATE '2024-03-22', 'DDth'), to_char(DATE '2024-03-23', 'DDth'), to_char(DATE '2024-03-11', 'DDth')",
		"SELECT to_date('2024-03-05', 'YYYY-MM-DD'), to_date('05 Mar 2024', 'DD Mon YYYY'), to_timestamp('2024-03-05 10:11:12', 'YYYY-MM-DD HH24:MI:SS')",
		"SELECT extract(epoch FROM ts), extract(second FROM ts), extract(milliseconds FROM ts), extract(microseconds FROM ts), extract(dow FROM ts), EXTRACT(YEAR FROM ts) FROM bf ORDER BY i",
		"SELECT extract(epoch FROM tz), extract(hour FROM tz), extract(isodow FROM d), extract(doy FROM d), extract(quarter FROM d), extract(week FROM d) FROM bf ORDER BY i",
		"SELECT extract(epoch FROM interval '1 day 2 hours'), extract(minute FROM interval '90 minutes')",
		// to_char of numbers (udf/pgfunc has the golden tests of the formatter).
		"SELECT to_char(n, '99999.99'), to_char(f, 'FM9,999,999.00'), to_char(i, '0000'), to_char(f, '999'), to_char(n, 'L9G999D99'), to_char(i, 'RN'), to_char(i, '999th') FROM bf ORDER BY i",
		"SELECT to_char(1234.5::real, '9999.9'), to_char(12345678901234567890.125, '99999999999999999999.99'), to_char(-0.0::float8, '9.9')",
		"SELECT to_char(1, '9.9EEEE9')",
		// JSON construction and aggregation.
		"SELECT json_build_object('a', 1, 'b', 'x'), jsonb_build_object('a', i), json_build_array(1, 'a', NULL), jsonb_build_array(i) FROM bf ORDER BY i",
		"SELECT json_agg(i), jsonb_agg(i ORDER BY i DESC), json_agg(i) FILTER (WHERE i > 1), json_object_agg('k' || i, i) FROM bf",
		"SELECT i, json_agg(i) OVER (ORDER BY i) FROM bf ORDER BY i",
		"SELECT json_agg(i) FROM bf WHERE false",
		"SELECT to_jsonb(i), to_jsonb(s), row_to_json(r) FROM (SELECT i, s FROM bf) r ORDER BY i",
		"SELECT json_typeof('{}'), jsonb_typeof('[1]'), jsonb_typeof('\"x\"'), json_typeof('1.5'), json_typeof('true'), json_typeof('null'), json_typeof(NULL)",
		"SELECT jsonb_array_length('[1, 2, 3]')",
		// Strings.
		"SELECT initcap(s), initcap('hello wORLD-foo bar_baz 3rd') FROM bf ORDER BY i",
		`SELECT quote_literal(s), quote_nullable(s), quote_literal(42), quote_literal(E'a\\b') FROM bf ORDER BY i`,
		"SELECT octet_length(s), octet_length('héllo'), octet_length('ab'::bytea), bit_length(s), bit_length('é') FROM bf ORDER BY i",
		// Numbers and the rest.
		"SELECT div(7, 2), div(-7, 2), div(7.5, 2), div(i, 2) FROM bf ORDER BY i",
		"SELECT div(1, 0)",
		"SELECT num_nulls(i, n, s), num_nonnulls(i, n, s), num_nulls(NULL) FROM bf ORDER BY i",
		"SELECT every(i > 0), every(i > 1) FROM bf",
		// Column names of casts and CASE (FigureColname's strengths).
		"SELECT '1.5'::float8::int, 1::int::text, CASE WHEN true THEN 1 ELSE 2::int END, CASE WHEN true THEN i END, i::text::int FROM bf ORDER BY i",
	}
	for _, q := range queries {
		for _, mode := range []pgx.QueryExecMode{pgx.QueryExecModeSimpleProtocol, pgx.QueryExecModeCacheStatement} {
			if got, want := described(ctx, hop, mode, q), described(ctx, ref, mode, q); got != want {
				t.Errorf("%s (%v):\n hopsql     %s\n PostgreSQL %s", q, mode, got, want)
			}
		}
	}
}
