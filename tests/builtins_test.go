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
			(3, NULL, NULL, NULL, NULL, NULL, NULL)`,
		"DROP TABLE IF EXISTS bfm", "CREATE TABLE bfm (a int, b int)", "INSERT INTO bfm VALUES (1, 1)", "UPDATE bfm SET (a, b) = (5, 6)",
		"DROP TABLE IF EXISTS bfj", "CREATE TABLE bfj (i int, j jsonb)",
		`INSERT INTO bfj VALUES (1, '{"a":{"b":[10,20]},"k":"v","arr":["x","y",3]}'), (2, '{"k":null}'), (3, NULL)`)
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
		// NULL sorts as the largest value: first under DESC.
		"SELECT i FROM bf ORDER BY n DESC", "SELECT i FROM bf ORDER BY s ASC", "SELECT i FROM bf ORDER BY f DESC NULLS LAST",
		"SELECT array_agg(i ORDER BY n DESC), array_agg(i ORDER BY n), string_agg(s, ',' ORDER BY s DESC) FROM bf",
		"SELECT i, row_number() OVER (ORDER BY n DESC) FROM bf ORDER BY i",
		// LIKE: backslash escapes, ESCAPE clauses, patterns from parameters and columns.
		`SELECT 'foo_bar' LIKE '%o\_b%', '100%' LIKE '%0\%', 'a\b' LIKE 'a\\b', 'fooxbar' LIKE '%o\_b%', 'FOO_BAR' ILIKE '%o\_b%', 'foo_bar' NOT LIKE '%o\_b%', 'x' NOT ILIKE 'X'`,
		`SELECT 'a_b' LIKE 'a#_b' ESCAPE '#', 'axb' LIKE 'a#_b' ESCAPE '#', 'a\b' LIKE 'a\b' ESCAPE '', 'ab' LIKE 'a%'`,
		`SELECT i FROM bf WHERE s LIKE '%o\'%' OR s ~~ 'hello%' ORDER BY i`,
		`SELECT i FROM bf WHERE s LIKE replace('x_3rd', 'x', '%\') ORDER BY i`,
		`SELECT 'a' LIKE ANY(ARRAY['a%','b%']), 'a' LIKE ALL(ARRAY['a%','b%']), 'A_' ILIKE ANY('{x,a\\_}'), 'a' NOT LIKE ANY(ARRAY['a','b']), 'a' NOT LIKE ALL(ARRAY['a','b'])`,
		"SELECT i FROM bf WHERE s ILIKE ANY(ARRAY['%WORLD%', 'o''%']) ORDER BY i",
		// Time functions that need no clock comparison.
		"SELECT statement_timestamp() <= clock_timestamp(), clock_timestamp() >= now(), current_timestamp(2) IS NOT NULL, localtimestamp(3) IS NOT NULL, length(timeofday()) > 20",
		"SELECT to_regclass('bf') IS NOT NULL, to_regclass('nosuch') IS NULL, to_regclass('public.nosuch') IS NULL, to_regclass('pg_class') IS NOT NULL, to_regclass('bf')::text",
		// Arrays, strings, bytes, rounding.
		"SELECT array_length('{}'::int[], 1), array_length(ARRAY[1,2], 1), array_length(ARRAY[1,2], 2)",
		`SELECT format('Hello %s', 'World'), format('INSERT INTO %I VALUES(%L)', 'Foo bar', E'O\'Reilly'), format('|%10s|%-5s|%*s|', 'foo', 'ab', 4, 'x'), format('%L %L %s', NULL, 12, NULL), format('%3$s %1$s %s', 'a', 'b', 'c'), format('%I', 'abc'), format('%s', i) FROM bf ORDER BY i`,
		"SELECT format('%s %s', 'a')", "SELECT format('%d', 1)", "SELECT format('%I', NULL)", "SELECT format(NULL, 1)",
		"SELECT substr('alphabet', -2, 5), substr('alphabet', 3), substring('alphabet' from 2 for 3), substring('foobar' from 'o.b'), substring('foobar' from 'o(.)b'), substring('foobar' from 'x'), substr(s, 2, 3) FROM bf ORDER BY i",
		"SELECT substr('alphabet', 2, -1)",
		"SELECT substr('alphabet', '3'), substring('alphabet', '3'), substring('alphabet', 3)",
		"SELECT to_hex(255::bigint), to_hex(-1), to_hex(255), sha256('abc'::bytea), encode('abc'::bytea, 'hex'), encode('abc'::bytea, 'base64'), decode('616263', 'hex'), decode('YWJj', 'base64')",
		"SELECT round(2.5::float8), round(3.5::float8), round(-2.5::float8), round(2.5), round(2.4::float8), round(2.345, 2), round(-0.5::float8), round(f), round(n) FROM bf ORDER BY i",
		// json/jsonb operators.
		`SELECT i, j -> 'k' IS NOT NULL, j ->> 'k', j #> '{a,b,1}', j #>> '{a,b,0}', j ? 'k', j ? 'zz', j ?| array['zz','k'], j ?& array['a','k'], j -> 'arr' ? 'x', j -> 'arr' ? '3' FROM bfj ORDER BY i`,
		`SELECT i FROM bfj WHERE j @> '{"k":"v"}' ORDER BY i`, `SELECT i FROM bfj WHERE '{"k":"v"}' <@ j ORDER BY i`,
		`SELECT ('{"a":1}'::jsonb || '{"a":2,"b":3}'::jsonb) -> 'a', '[1,2]'::jsonb || '3'::jsonb, ('{"a":1}'::jsonb -> 'a') IS NULL, '{"a":1}'::jsonb -> 'a' IS NULL`,
		"SELECT ARRAY[1,2] @> ARRAY[1], ARRAY[1] <@ ARRAY[1,2], 'a' || 'b', ARRAY[1] || ARRAY[2]",
		"SELECT lpad('hi', 5), rpad('hi', 5) || '|', lpad('hello', 2), lpad(s, 12) FROM bf ORDER BY i",
		"SELECT date_bin('15 minutes', ts, timestamp '2001-02-16 20:05:00') FROM bf ORDER BY i",
		"SELECT (DATE '2001-02-16', DATE '2001-12-21') OVERLAPS (DATE '2001-10-30', DATE '2002-10-30'), (d, ts) OVERLAPS (DATE '2024-03-02', DATE '2024-03-03') FROM bf ORDER BY i",
		"SELECT regexp_match('foobarbequebaz', '(bar)(beque)'), regexp_match('foobar', 'o+'), regexp_match(s, 'l(l)'), regexp_like(s, 'l'), regexp_substr(s, 'o.'), regexp_count(s, 'o') FROM bf ORDER BY i",
		"SELECT make_interval(days => 3), make_interval(1, 2, 1, 1, 5, 6, 7.5), make_interval(hours => i, mins => 30) FROM bf ORDER BY i",
		"SELECT cardinality(ARRAY[1,NULL]), array_remove(ARRAY[1,2,3,2], 2), array_replace(ARRAY[1,2,3,2], 2, 9), array_positions(ARRAY['a','b','a'], 'a'), array_ndims(ARRAY[1,2]), array_dims(ARRAY[1,2,3]), cardinality('{}'::int[])",
		"SELECT width_bucket(5.35, 0.024, 10.06, 5), width_bucket(-1, 0, 10, 5), width_bucket(10, 0, 10, 5), width_bucket(3, 10, 0, 5), width_bucket(f, 0, 10, 4) FROM bf ORDER BY i",
		"SELECT width_bucket(1, 0, 10, 0)",
		"SELECT 3 BETWEEN SYMMETRIC 5 AND 1, 3 NOT BETWEEN SYMMETRIC 5 AND 1, i BETWEEN SYMMETRIC 3 AND 2, 17 # 5, |/ 25.0, ||/ 27.0 FROM bf ORDER BY i",
		// JSON set-returning functions, in FROM (LATERAL too) and in a select list.
		"SELECT * FROM jsonb_array_elements('[1,true,\"x\"]')", "SELECT e.value FROM jsonb_array_elements_text('[1,true,\"x\"]') AS e",
		"SELECT * FROM json_object_keys('{\"a\":1,\"b\":2}')", "SELECT * FROM jsonb_each('{\"a\":1,\"b\":\"x\"}') ORDER BY key",
		"SELECT key, value FROM jsonb_each_text('{\"a\":1,\"b\":\"x\"}') AS kv ORDER BY 1",
		"SELECT jsonb_array_elements('[1,2]'), jsonb_object_keys('{\"a\":1}')",
		"SELECT i, e.value FROM bfj CROSS JOIN LATERAL jsonb_array_elements(bfj.j -> 'arr') e ORDER BY 1, 2",
		"SELECT i, kv.key, kv.value FROM bfj, jsonb_each_text(bfj.j) kv WHERE kv.key <> 'a' AND kv.key <> 'arr' ORDER BY 1, 2",
		// Literals PostgreSQL's input functions read and DuckDB's casts do not.
		"SELECT '2024-01-15 10:30+02'::timestamptz, '2024-01-15T10:30Z'::timestamptz, '2024-01-15 10:30 UTC'::timestamptz, timestamp '2024-01-15 10:30'",
		"SELECT date '20240105', '01/02/2024'::date, 'Jan 5 2024'::date, 'January 15, 2024'::date, '15-Jan-2024'::date",
		"SELECT timestamp 'Jan 15 2024 10:30AM', time '10:30 PM', 'on'::bool, 'off'::boolean, ' yes '::bool, CAST('n' AS bool)",
		"SELECT 'today'::date = current_date, 'now'::timestamptz <= clock_timestamp(), ('tomorrow'::date - 'yesterday'::date)::int, 'today'::timestamp = date_trunc('day', localtimestamp)",
		"SELECT 'maybe'::bool",
		"SELECT length('abc'), char_length(s), character_length('é'), strpos(s, 'o'), position('o' in s), length('\\x0102'::bytea) FROM bf ORDER BY i",
		"SELECT * FROM (VALUES (1, 'a'), (2, 'b')) AS v ORDER BY 1", "SELECT v.column2 FROM (VALUES (1, 'a')) v",
		"SELECT string_to_array('abc', NULL), string_to_array('abc', ''), string_to_array('', ','), string_to_array('a,b,,c', ','), string_to_array('a,*,c', ',', '*'), string_to_array(s, ' ') FROM bf ORDER BY i",
		"SELECT * FROM string_to_table('a b c', ' ')", "SELECT string_to_table('x,y', ',')", "SELECT t FROM string_to_table('p-q', '-') AS t",
		"SELECT array_to_string(ARRAY[1,NULL,5], ',', '*'), array_to_string(ARRAY[1,NULL,5], ','), array_fill(7, ARRAY[3]), trim_array(ARRAY[1,2,3,4], 2)",
		"SELECT trim_array(ARRAY[1], 3)",
		`SELECT regexp_replace('abc', 'b', '\&\&'), regexp_replace('abcb', 'b', 'X', 'g'), regexp_replace('aBc', 'b', '[\&]', 'i'), regexp_replace(s, 'l+', '<\&>') FROM bf ORDER BY i`,
		"SELECT overlay('abcdef' placing 'XY' from 2 for 3), overlay('abcdef' placing 'XY' from 2), overlay(s placing '#' from 2 for 1) FROM bf ORDER BY i",
		`SELECT jsonb_set('{"a":1}', '{b}', '"x"') -> 'b', jsonb_set('{"a":1,"b":2}', '{b}', '3') -> 'b', jsonb_set('{"a":1}', '{b}', '"x"', false) ? 'b'`,
		`SELECT jsonb_set('{"a":{"b":1}}', '{a,b}', '2') #> '{a,b}', jsonb_set('{"a":{"b":1}}', '{a,c}', '3') #> '{a,c}', jsonb_set('{"a":1}', '{x,y}', '3') ? 'x'`,
		`SELECT jsonb_set('[1,2,3]', '{1}', '9') -> 1, jsonb_set('[1,2,3]', '{-1}', '9') -> 2, jsonb_array_length(jsonb_set('[1,2,3]', '{5}', '9')), jsonb_set('[1,2,3]', '{-9}', '0') -> 0`,
		`SELECT jsonb_set('{"a":1}', '{b}', NULL) IS NULL, jsonb_set('{"a":[1,{"b":2}]}', '{a,1,b}', '7') #> '{a,1,b}', jsonb_set(j, '{k}', '"w"') ->> 'k' FROM bfj ORDER BY i`,
		"SELECT encode(repeat('x', 60)::bytea, 'base64'), encode(repeat('x', 57)::bytea, 'base64'), decode(encode(repeat('x', 60)::bytea, 'base64'), 'base64') = repeat('x', 60)::bytea",
		// to_number (udf/pgfunc has the golden tests of the parser).
		"SELECT to_number('12,454.8-', '99G999D9S'), to_number('$1,234.56', 'L9,999.99'), to_number('<123>', '999PR'), to_number(' 123 ', '999'), to_number(s, '999') FROM bf WHERE i = 3",
		"SELECT to_number('', '999')", "SELECT to_number('1e3', '9EEEE')",
		"SELECT (1,2) = (1,2), ROW(1,2) IN (ROW(1,2), ROW(3,4))",
		// Edge cases a review found.
		"SELECT 10 BETWEEN SYMMETRIC NULL AND 10, 5 NOT BETWEEN SYMMETRIC 10 AND NULL, i BETWEEN SYMMETRIC NULL AND 1 FROM bf ORDER BY i",
		"SELECT 'a' LIKE ANY('{}'), 'a' LIKE ALL('{}'), 'b' LIKE ANY('{a%,NULL}'), 'a' LIKE ANY('{a%,NULL}'), 'a' LIKE ALL('{a%,NULL}'), 'b' LIKE ALL('{a%,NULL}'), NULL LIKE ANY('{a}')",
		"SELECT 'type=' || jsonb_typeof(j), 'ab' || '[1]', 'ab' || '{\"a\":1}' FROM bfj ORDER BY i",
		"SELECT s.x FROM (SELECT ROW(1,2) AS r, 7 AS x) s WHERE r = ROW(1,2)", "SELECT 1 WHERE (1, 2) IN (SELECT 1, 2)",
		"SELECT row_to_json(ROW(1, 'x')), to_jsonb(ROW(i, s)) -> 'f1', (i, 1) < (2, 0), (i, 1) IN ((1, 1), (3, 1)) FROM bf ORDER BY i",
		"SELECT * FROM bfm WHERE (a, b) IN ((5, 6), (1, 2))", "SELECT to_json(ROW(a, 'x')) FROM bfm",
		"SELECT to_char(ts, 'YYYY-MM-DD 00:00'), to_char(ts, 'HH24:MI:00'), to_char(ts, '\"9\" YYYY'), to_char(1234.567::real, '9999.999') FROM bf ORDER BY i",
		"SELECT substring('abc' FROM 'x*'), substring('abc' FROM 'z'), substring('a(b)c' FROM '[(](.)')",
		"SELECT pg_catalog.lpad('x', 3), pg_catalog.regexp_replace('abc', 'b', '<\\&>')",
		"SELECT date_trunc('day', tz, 'Australia/Sydney'), date_trunc('month', tz, 'America/New_York') FROM bf ORDER BY i",
		`SELECT (j::jsonb - 'k') ? 'k', (j::jsonb - 'zz') ? 'k', jsonb_array_length((j -> 'arr') - 'x'), ((j -> 'arr') - 0) ->> 0, ((j -> 'arr') - -1) ->> 1 FROM bfj ORDER BY i`,
		"SELECT '1' + 1, 2 * '3', '10' / 4, '2.5' + 1.5, 7 % '4', 1 - '1'", "SELECT '1.5' + 1", "SELECT '99999999999' + 1", "SELECT 'x' + 1.5",
		"SELECT interval '10 days' / 3, interval '1 month' / 2, interval '1 year 2 months 10 days 27 hours' / 4, interval '1 hour' / 0.5, make_interval(days => 3) / 2, interval '-7 days' / 2, interval '1 day' / i FROM bf ORDER BY i",
		"SELECT interval '1 day' / 0",
		`SELECT json_extract_path('{"f2":{"f3":1},"f4":{"f5":99,"f6":"foo"}}', 'f4', 'f6'), jsonb_extract_path('{"f4":{"f5":99,"f6":"foo"}}', 'f4'), jsonb_extract_path_text('{"a":[1,{"b":"x/y"}]}', 'a', '1', 'b')`,
		`SELECT k, jsonb_extract_path_text('{"a":"1","b":"2"}', k), jsonb_extract_path('{"a/b":{"c~d":2}}', 'a/b', 'c~d'), jsonb_extract_path_text(j, 'k'), jsonb_extract_path(j, 'a', 'b') FROM (VALUES ('a'), ('c')) v(k), bfj ORDER BY k, i`,
		"SELECT * FROM unnest(ARRAY[1,2], ARRAY['foo','bar','baz']) AS x(a,b)", "SELECT x.b FROM unnest(ARRAY[1,2], ARRAY['x']) AS x(a, b) ORDER BY 1",
		"SELECT t.i, u.v FROM bf t, LATERAL unnest(ARRAY[t.i, 10], ARRAY['x']) AS u(v, w) ORDER BY 1, 2",
		"SELECT regexp_matches('foobarbequebaz', 'ba.', 'g')", "SELECT regexp_matches('foobarbequebaz', '(b)(x)?(.)', 'g'), 1 AS one",
		"SELECT regexp_matches(s, '([a-z])([a-z]+)', 'gi') FROM bf ORDER BY i", "SELECT m[2] FROM regexp_matches('a1b22c333', '([a-z])([0-9]+)', 'g') AS m",
		"SELECT * FROM regexp_matches('a1b22', '[0-9]+', 'g')", "SELECT regexp_matches('a', 'a', 'z')", "SELECT regexp_matches('a' || chr(10) || 'b', 'a.b')",
		"SELECT justify_days(interval '35 days'), justify_hours(interval '-27 hours'), justify_interval(interval '1 mon -1 hour'), justify_interval(interval '65 days 49 hours'), justify_days(NULL::interval)",
		// SQLSTATEs of errors DuckDB classifies differently.
		"SELECT (SELECT i FROM bf)", "SELECT '2024-02-30'::date", "SELECT make_date(2023, 2, 30)", "SELECT ln(0)",
		"SELECT ln(-1)", "SELECT sqrt(-1)", "SELECT (SELECT 1, 2)", "SELECT i FROM bf ORDER BY 2", "SELECT interval '2 hours' * 1e10",
		"SELECT 'abc' ~ '('", "SELECT i FROM bf LIMIT -1", "SELECT i FROM bf OFFSET -1", "SELECT i FROM bf ORDER BY i LIMIT 1 OFFSET 1",
		// Column names of casts and CASE (FigureColname's strengths).
		"SELECT '1.5'::float8::int, 1::int::text, CASE WHEN true THEN 1 ELSE 2::int END, CASE WHEN true THEN i END, i::text::int FROM bf ORDER BY i",
	}
	// Row locks are refused clearly (PostgreSQL takes them; docs/sql-compat.md).
	for _, q := range []string{"SELECT i FROM bf FOR UPDATE", "SELECT i FROM bf WHERE i = 1 FOR SHARE"} {
		if got := outcome(ctx, hop, pgx.QueryExecModeSimpleProtocol, q); got != "ERROR 0A000" {
			t.Errorf("%s: %s, want ERROR 0A000", q, got)
		}
	}
	// ROW(…) in a select list prints PostgreSQL's record text, sent as
	// text (PostgreSQL's type is record, whose binary form hopsql does not
	// write): compared as text in the simple protocol.
	for _, q := range []string{
		"SELECT ROW(1, 'a'), ROW(1, NULL, 'b c'), (1, 2.5, 'x', true), ROW(1), ROW(1, 'a b', NULL, '', 'x\"y', 1.5)",
		"SELECT ROW(i, s) FROM bf ORDER BY i",
	} {
		if got, want := outcome(ctx, hop, pgx.QueryExecModeSimpleProtocol, q), outcome(ctx, ref, pgx.QueryExecModeSimpleProtocol, q); got != want {
			t.Errorf("%s:\n hopsql     %s\n PostgreSQL %s", q, got, want)
		}
	}
	var pid int32
	if err := hop.QueryRow(ctx, "SELECT pg_backend_pid()").Scan(&pid); err != nil || uint32(pid) != hop.PgConn().PID() {
		t.Errorf("pg_backend_pid() = %d, %v; BackendKeyData said %d", pid, err, hop.PgConn().PID())
	}
	for _, q := range queries {
		for _, mode := range []pgx.QueryExecMode{pgx.QueryExecModeSimpleProtocol, pgx.QueryExecModeCacheStatement} {
			if got, want := described(ctx, hop, mode, q), described(ctx, ref, mode, q); got != want {
				t.Errorf("%s (%v):\n hopsql     %s\n PostgreSQL %s", q, mode, got, want)
			}
		}
	}
}
