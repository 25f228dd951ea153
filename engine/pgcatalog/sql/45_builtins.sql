-- PostgreSQL built-in functions DuckDB lacks or gives other semantics
-- (builtins.go sends calls here). Macros are untyped; where PostgreSQL
-- overloads on the argument's type, typeof() picks the branch (it is folded
-- when the statement is bound, so the other branch never runs).

-- quote_literal(anyelement): the value as text, quoted; backslashes make it an E'' string.
CREATE MACRO hopsql_catalog.main.quote_literal(s) AS
  CASE WHEN s IS NULL THEN NULL
       WHEN contains(CAST(s AS VARCHAR), chr(92)) THEN 'E''' || replace(replace(CAST(s AS VARCHAR), chr(92), chr(92) || chr(92)), '''', '''''') || ''''
       ELSE '''' || replace(CAST(s AS VARCHAR), '''', '''''') || '''' END;
CREATE MACRO hopsql_catalog.main.quote_nullable(s) AS coalesce(hopsql_catalog.main.quote_literal(s), 'NULL');

-- div(y, x): the integer quotient, truncated towards zero, as numeric.
CREATE MACRO hopsql_catalog.main.pg_numeric_div(a, b) AS
  CASE WHEN b = 0 THEN error('division by zero') ELSE CAST(trunc(a / b) AS DECIMAL(38, 0)) END;

-- octet_length and bit_length of text count UTF-8 bytes (DuckDB's take bytea only).
CREATE MACRO hopsql_catalog.main.pg_octet_length(x) AS
  CAST(CASE WHEN typeof(x) = 'BLOB' THEN octet_length(try_cast(x AS BLOB)) ELSE strlen(CAST(x AS VARCHAR)) END AS INTEGER);
CREATE MACRO hopsql_catalog.main.pg_bit_length(x) AS 8 * hopsql_catalog.main.pg_octet_length(x);

-- json_typeof: PostgreSQL's lower-case names of JSON value kinds.
CREATE MACRO hopsql_catalog.main.json_typeof(j) AS
  CASE WHEN j IS NULL THEN NULL ELSE CASE json_type(CAST(j AS JSON)) WHEN 'OBJECT' THEN 'object' WHEN 'ARRAY' THEN 'array' WHEN 'VARCHAR' THEN 'string'
    WHEN 'BOOLEAN' THEN 'boolean' WHEN 'NULL' THEN 'null' ELSE 'number' END END;
CREATE MACRO hopsql_catalog.main.jsonb_typeof(j) AS hopsql_catalog.main.json_typeof(j);
-- json_array_length is an integer (DuckDB's is unsigned 64-bit).
CREATE MACRO hopsql_catalog.main.pg_json_array_length(j) AS CAST(json_array_length(CAST(j AS JSON)) AS INTEGER);
-- array_length(a, 1) of an empty array is NULL, of any other dimension NULL.
CREATE MACRO hopsql_catalog.main.pg_array_length(a, d) AS CAST(CASE WHEN len(a) = 0 OR d <> 1 THEN NULL ELSE len(a) END AS INTEGER);

-- to_hex: lower case; a negative integer in its 32 bits.
CREATE MACRO hopsql_catalog.main.pg_to_hex(x) AS
  lower(to_hex(CASE WHEN typeof(x) = 'INTEGER' AND x < 0 THEN CAST(x AS BIGINT) + 4294967296 ELSE x END));

-- sha256 is a bytea (DuckDB's is hex text).
CREATE MACRO hopsql_catalog.main.pg_sha256(x) AS unhex(sha256(x));

-- encode/decode's hex and escape formats.
CREATE MACRO hopsql_catalog.main.pg_encode_hex(b) AS lower(hex(b));
-- PostgreSQL ends every full 76-character line of base64 with a line
-- break (even the last); decoding ignores line breaks and spaces.
CREATE MACRO hopsql_catalog.main.pg_encode_base64(b) AS regexp_replace(to_base64(b), '(.{76})', '\1' || chr(10), 'g');
CREATE MACRO hopsql_catalog.main.pg_decode_base64(s) AS from_base64(regexp_replace(s, '[ \t\r\n]', '', 'g'));
CREATE MACRO hopsql_catalog.main.pg_encode_escape(b) AS CAST(b AS VARCHAR);
CREATE MACRO hopsql_catalog.main.pg_decode_escape(s) AS CAST(s AS BLOB);

-- round(float8) rounds half to even, round(numeric) half away from zero
-- (DuckDB's round does the latter for both). The result keeps x's type.
-- (sign(x) * … keeps the sign of a zero result, as rint does: -0.5 → -0.)
CREATE MACRO hopsql_catalog.main.pg_round(x) AS
  CASE WHEN typeof(x) IN ('DOUBLE', 'FLOAT') AND abs(x - trunc(x)) = 0.5 AND CAST(round(x) AS DOUBLE) % 2 <> 0
       THEN sign(x) * (abs(round(x)) - 1) ELSE round(x) END;

-- substr(s, start [, count]): the characters at positions start … start +
-- count - 1 that exist (DuckDB counts a negative start from the end).
CREATE MACRO hopsql_catalog.main.pg_substr(s, b) AS substring(s, greatest(b, 1)), (s, b, c) AS
  CASE WHEN c < 0 THEN error('[22011] negative substring length not allowed')
       ELSE substring(s, greatest(b, 1), greatest(b + c - greatest(b, 1), 0)) END;

-- to_regclass's lookup: the oid, or NULL where regclass_in raises.
CREATE MACRO hopsql_catalog.main.regclass_lookup(nsp, rel, path) AS
  (SELECT hop_oid FROM hopsql_catalog.main.hop_l_class
    WHERE hop_relname = rel AND (hop_nspname = nsp OR (nsp IS NULL AND list_contains(path, hop_nspname)))
    ORDER BY list_position(path, hop_nspname) LIMIT 1);

-- The strings jsonb's ? operators look for: an object's keys, an array's
-- string elements, a scalar string itself.
CREATE MACRO hopsql_catalog.main.pg_jsonb_strings(j) AS
  CASE WHEN j IS NULL THEN NULL ELSE CASE json_type(CAST(j AS JSON))
    WHEN 'OBJECT' THEN json_keys(CAST(j AS JSON))
    WHEN 'ARRAY' THEN list_transform(list_filter(json_extract(CAST(j AS JSON), '$[*]'), lambda e: json_type(e) = 'VARCHAR'),
                                     lambda e: json_extract_string(e, '$'))
    WHEN 'VARCHAR' THEN [json_extract_string(CAST(j AS JSON), '$')]
    ELSE CAST([] AS VARCHAR[]) END END;

-- A #> path (text[]) as a JSON pointer.
CREATE MACRO hopsql_catalog.main.pg_json_pointer(p) AS
  '/' || array_to_string(list_transform(p, lambda e: replace(replace(e, '~', '~0'), '/', '~1')), '/');

-- jsonb || jsonb: objects merge (the right one's keys win, one level),
-- arrays concatenate, a scalar joins an array as an element.
CREATE MACRO hopsql_catalog.main.pg_jsonb_concat(a, b) AS
  CASE WHEN a IS NULL OR b IS NULL THEN NULL
       WHEN json_type(CAST(a AS JSON)) = 'OBJECT' AND json_type(CAST(b AS JSON)) = 'OBJECT'
         THEN to_json(map_concat(CAST(CAST(a AS JSON) AS MAP(VARCHAR, JSON)), CAST(CAST(b AS JSON) AS MAP(VARCHAR, JSON))))
       ELSE to_json(list_concat(
         CASE WHEN json_type(CAST(a AS JSON)) = 'ARRAY' THEN CAST(CAST(a AS JSON) AS JSON[]) ELSE [CAST(a AS JSON)] END,
         CASE WHEN json_type(CAST(b AS JSON)) = 'ARRAY' THEN CAST(CAST(b AS JSON) AS JSON[]) ELSE [CAST(b AS JSON)] END)) END;

-- Arrays (one-dimensional: DuckDB lists).
CREATE MACRO hopsql_catalog.main.pg_cardinality(a) AS CAST(len(a) AS INTEGER);
CREATE MACRO hopsql_catalog.main.pg_array_remove(a, x) AS list_filter(a, lambda e: e IS DISTINCT FROM x);
CREATE MACRO hopsql_catalog.main.pg_array_replace(a, x, y) AS
  list_transform(a, lambda e: CASE WHEN e IS NOT DISTINCT FROM x THEN y ELSE e END);
CREATE MACRO hopsql_catalog.main.pg_array_positions(a, x) AS
  CASE WHEN a IS NULL THEN NULL ELSE
    CAST(list_filter(range(1, len(a) + 1), lambda i: a[i] IS NOT DISTINCT FROM x) AS INTEGER[]) END;
CREATE MACRO hopsql_catalog.main.pg_array_ndims(a) AS CASE WHEN len(a) = 0 THEN NULL ELSE 1 END;
CREATE MACRO hopsql_catalog.main.pg_array_dims(a) AS CASE WHEN len(a) = 0 THEN NULL ELSE '[1:' || len(a) || ']' END;

-- width_bucket(x, low, high, count): 0 below low, count + 1 from high on.
CREATE MACRO hopsql_catalog.main.pg_width_bucket(x, lo, hi, n) AS CAST(
  CASE WHEN n <= 0 THEN error('[2201G] count must be greater than zero')
       WHEN lo = hi THEN error('[2201G] lower bound cannot equal upper bound')
       WHEN lo < hi THEN CASE WHEN x < lo THEN 0 WHEN x >= hi THEN n + 1 ELSE floor((x - lo) * n / (hi - lo)) + 1 END
       ELSE CASE WHEN x > lo THEN 0 WHEN x <= hi THEN n + 1 ELSE floor((lo - x) * n / (lo - hi)) + 1 END END AS INTEGER);

-- (s1, e1) OVERLAPS (s2, e2): periods whose ends may come in either order.
CREATE MACRO hopsql_catalog.main.pg_overlaps(s1, e1, s2, e2) AS
  (least(s1, e1) < greatest(s2, e2) AND least(s2, e2) < greatest(s1, e1)) OR least(s1, e1) = least(s2, e2);

-- PostgreSQL 15's regexp_like / regexp_substr / regexp_count (two-argument forms).
CREATE MACRO hopsql_catalog.main.pg_regexp_like(s, p) AS regexp_matches(s, p);
CREATE MACRO hopsql_catalog.main.pg_regexp_substr(s, p) AS CASE WHEN regexp_matches(s, p) THEN regexp_extract(s, p, 0) END;
CREATE MACRO hopsql_catalog.main.pg_regexp_count(s, p) AS CAST(len(regexp_extract_all(s, p)) AS INTEGER);

-- A double as numeric, rounded to the 15 significant digits a double
-- holds (engine/aggtypes.go: avg and friends of integers and numerics).
CREATE MACRO hopsql_catalog.main.pg_float_numeric(v) AS
  CAST(CASE WHEN v = 0 OR NOT isfinite(v) THEN v ELSE round(v, 14 - CAST(floor(log10(abs(v))) AS INTEGER)) END AS DECIMAL(38, 10));

-- x [NOT] [I]LIKE ANY|ALL (patterns), with LIKE's backslash escape, and
-- PostgreSQL's three-valued answers: ANY is true if a pattern matches,
-- else NULL if x or a pattern is NULL, else false (false for no patterns);
-- ALL is false if one does not match, else NULL …, else true.
CREATE MACRO hopsql_catalog.main.pg_quantified(x, ps, hits, any_) AS
  CASE WHEN len(ps) = 0 THEN NOT any_
       WHEN list_bool_or(hits) THEN any_
       WHEN x IS NULL OR list_count(ps) < len(ps) THEN NULL
       ELSE NOT any_ END;
CREATE MACRO hopsql_catalog.main.pg_like_any(x, ps) AS
  hopsql_catalog.main.pg_quantified(x, ps, list_transform(ps, lambda p: like_escape(x, p, '\')), true);
CREATE MACRO hopsql_catalog.main.pg_like_all(x, ps) AS
  hopsql_catalog.main.pg_quantified(x, ps, list_transform(ps, lambda p: NOT like_escape(x, p, '\')), false);
CREATE MACRO hopsql_catalog.main.pg_not_like_any(x, ps) AS
  hopsql_catalog.main.pg_quantified(x, ps, list_transform(ps, lambda p: NOT like_escape(x, p, '\')), true);
CREATE MACRO hopsql_catalog.main.pg_not_like_all(x, ps) AS
  hopsql_catalog.main.pg_quantified(x, ps, list_transform(ps, lambda p: like_escape(x, p, '\')), false);
CREATE MACRO hopsql_catalog.main.pg_ilike_any(x, ps) AS
  hopsql_catalog.main.pg_quantified(x, ps, list_transform(ps, lambda p: ilike_escape(x, p, '\')), true);
CREATE MACRO hopsql_catalog.main.pg_ilike_all(x, ps) AS
  hopsql_catalog.main.pg_quantified(x, ps, list_transform(ps, lambda p: NOT ilike_escape(x, p, '\')), false);
CREATE MACRO hopsql_catalog.main.pg_not_ilike_any(x, ps) AS
  hopsql_catalog.main.pg_quantified(x, ps, list_transform(ps, lambda p: NOT ilike_escape(x, p, '\')), true);
CREATE MACRO hopsql_catalog.main.pg_not_ilike_all(x, ps) AS
  hopsql_catalog.main.pg_quantified(x, ps, list_transform(ps, lambda p: ilike_escape(x, p, '\')), false);

-- length, char_length and strpos are integers (DuckDB's are bigint);
-- length of a bytea counts bytes.
CREATE MACRO hopsql_catalog.main.pg_length(s) AS
  CAST(CASE WHEN typeof(s) = 'BLOB' THEN octet_length(try_cast(s AS BLOB)) ELSE length(CAST(s AS VARCHAR)) END AS INTEGER);
CREATE MACRO hopsql_catalog.main.pg_strpos(s, sub) AS CAST(strpos(s, sub) AS INTEGER);

-- string_to_array: '' is an empty array, a NULL delimiter splits into
-- characters, an empty one keeps the string whole; the third argument's
-- value becomes NULL.
CREATE MACRO hopsql_catalog.main.pg_string_to_array(s, d) AS
  CASE WHEN s IS NULL THEN NULL WHEN s = '' THEN CAST([] AS VARCHAR[]) WHEN d IS NULL THEN string_split(s, '')
       WHEN d = '' THEN [s] ELSE string_split(s, d) END,
  (s, d, n) AS list_transform(
    CASE WHEN s IS NULL THEN NULL WHEN s = '' THEN CAST([] AS VARCHAR[]) WHEN d IS NULL THEN string_split(s, '')
         WHEN d = '' THEN [s] ELSE string_split(s, d) END,
    lambda e: CASE WHEN e = n THEN NULL ELSE e END);
-- array_to_string(a, d, null_string): NULL elements print as null_string.
CREATE MACRO hopsql_catalog.main.pg_array_to_string(a, d, n) AS
  array_to_string(list_transform(a, lambda e: coalesce(CAST(e AS VARCHAR), n)), d);
-- array_fill(value, ARRAY[n]): one dimension.
CREATE MACRO hopsql_catalog.main.pg_array_fill(v, dims) AS
  CASE WHEN len(dims) <> 1 THEN error('[0A000] array_fill with more than one dimension is not supported')
       ELSE list_transform(range(dims[1]), lambda i: v) END;
-- trim_array(a, n): without its last n elements.
CREATE MACRO hopsql_catalog.main.pg_trim_array(a, n) AS
  CASE WHEN n < 0 OR n > len(a) THEN error('[2202E] number of elements to trim must be between 0 and ' || len(a))
       ELSE a[1:len(a) - n] END;

-- overlay(s PLACING r FROM start [FOR count]).
CREATE MACRO hopsql_catalog.main.pg_overlay(s, r, a) AS substring(s, 1, a - 1) || r || substring(s, a + length(r)),
  (s, r, a, b) AS substring(s, 1, a - 1) || r || substring(s, a + b);

-- jsonb_set at one level (builtins.go chains them for longer paths): an
-- object's key (added if create), or an array's element by 0-based
-- index, negative from the end (added at an end if out of range and create).
CREATE MACRO hopsql_catalog.main.pg_jsonb_set1(j, k, v, c) AS
  CASE WHEN j IS NULL OR v IS NULL THEN NULL
       WHEN json_type(CAST(j AS JSON)) = 'OBJECT' THEN
         CASE WHEN NOT c AND NOT map_contains(CAST(CAST(j AS JSON) AS MAP(VARCHAR, JSON)), k) THEN CAST(j AS JSON)
              ELSE to_json(map_concat(CAST(CAST(j AS JSON) AS MAP(VARCHAR, JSON)), MAP([k], [CAST(v AS JSON)]))) END
       WHEN json_type(CAST(j AS JSON)) = 'ARRAY' THEN
         CASE WHEN TRY_CAST(k AS INTEGER) IS NULL THEN error('[22P02] path element is not an integer: ' || k)
              WHEN (CASE WHEN CAST(k AS INTEGER) < 0 THEN json_array_length(CAST(j AS JSON)) + CAST(k AS INTEGER) ELSE CAST(k AS INTEGER) END)
                   BETWEEN 0 AND json_array_length(CAST(j AS JSON)) - 1
                THEN to_json(list_transform(CAST(CAST(j AS JSON) AS JSON[]), lambda e, i:
                  CASE WHEN i - 1 = (CASE WHEN CAST(k AS INTEGER) < 0 THEN json_array_length(CAST(j AS JSON)) + CAST(k AS INTEGER)
                                          ELSE CAST(k AS INTEGER) END) THEN CAST(v AS JSON) ELSE e END))
              WHEN NOT c THEN CAST(j AS JSON)
              WHEN CAST(k AS INTEGER) < 0 THEN to_json(list_concat([CAST(v AS JSON)], CAST(CAST(j AS JSON) AS JSON[])))
              ELSE to_json(list_concat(CAST(CAST(j AS JSON) AS JSON[]), [CAST(v AS JSON)])) END
       ELSE CAST(j AS JSON) END;
-- An inner level: a missing container leaves the outer value unchanged.
CREATE MACRO hopsql_catalog.main.pg_jsonb_set_in(j, k, v, c) AS
  CASE WHEN v IS NULL THEN CAST(j AS JSON) ELSE hopsql_catalog.main.pg_jsonb_set1(j, k, v, c) END;

-- jsonb - key: an object without the key, an array without its string
-- elements equal to it; jsonb - n: an array without element n (0-based,
-- negative from the end).
CREATE MACRO hopsql_catalog.main.pg_jsonb_minus(j, k) AS
  CASE WHEN j IS NULL OR k IS NULL THEN NULL
       WHEN typeof(k) IN ('INTEGER', 'BIGINT', 'SMALLINT', 'TINYINT') THEN
         CASE WHEN json_type(CAST(j AS JSON)) <> 'ARRAY' THEN error('[22023] cannot delete from object using integer index')
              ELSE to_json(list_filter(CAST(CAST(j AS JSON) AS JSON[]), lambda e, i: i - 1 <>
                (CASE WHEN TRY_CAST(k AS BIGINT) < 0 THEN json_array_length(CAST(j AS JSON)) + TRY_CAST(k AS BIGINT) ELSE TRY_CAST(k AS BIGINT) END))) END
       WHEN json_type(CAST(j AS JSON)) = 'OBJECT' THEN
         to_json(map_from_entries(list_filter(map_entries(CAST(CAST(j AS JSON) AS MAP(VARCHAR, JSON))), lambda e: e.key <> CAST(k AS VARCHAR))))
       WHEN json_type(CAST(j AS JSON)) = 'ARRAY' THEN
         to_json(list_filter(CAST(CAST(j AS JSON) AS JSON[]), lambda e: e <> to_json(CAST(k AS VARCHAR))))
       ELSE error('[22023] cannot delete from scalar') END;

-- interval / number, as interval_div: months, days and time each divided,
-- the fraction of a month carried as 30 days and of a day as 24 hours
-- (in double precision: integer_division is on).
CREATE MACRO hopsql_catalog.main.pg_interval_div_parts(m, d, t) AS
  to_months(CAST(trunc(m) AS INTEGER))
  + to_days(CAST(trunc((m - trunc(m)) * 30 + d) AS INTEGER))
  + to_microseconds(CAST(round(((m - trunc(m)) * 30 + d - trunc((m - trunc(m)) * 30 + d)) * 86400000000 + t) AS BIGINT));
CREATE MACRO hopsql_catalog.main.pg_interval_div(i, f) AS
  CASE WHEN f = 0 THEN error('[22012] division by zero') ELSE hopsql_catalog.main.pg_interval_div_parts(
    CAST(datepart('year', i) * 12 + datepart('month', i) AS DOUBLE) / f,
    CAST(datepart('day', i) AS DOUBLE) / f,
    CAST((datepart('hour', i) * 3600 + datepart('minute', i) * 60) * 1000000 + datepart('microseconds', i) AS DOUBLE) / f) END;

-- generate_series over integers (int4 arguments) is a set of integer in
-- PostgreSQL; DuckDB's is bigint. Used for calls whose arguments are
-- visibly int4 (functions.go: int4Args).
CREATE MACRO hopsql_catalog.main.pg_generate_series_int4(a, b) AS TABLE
  SELECT CAST(generate_series AS INTEGER) AS generate_series FROM generate_series(a, b);
CREATE MACRO hopsql_catalog.main.pg_generate_series_int4_step(a, b, s) AS TABLE
  SELECT CAST(generate_series AS INTEGER) AS generate_series FROM generate_series(a, b, s);
