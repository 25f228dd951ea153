package pgcatalog

import (
	"errors"
	"strings"
	"testing"

	pg_query "github.com/pganalyze/pg_query_go/v6"

	"github.com/hopsql/hopsql/engine/pgerr"
)

func TestPlainQueriesUnchanged(t *testing.T) {
	for _, q := range []string{
		"SELECT 1",
		"SELECT 7 / 2, 7 % 3, 1.5 / 2.5",
		"INSERT INTO t (id, name) VALUES (1, 'a'), (2, 'b')",
		"SELECT id, name FROM t WHERE amount > 10 ORDER BY ts DESC LIMIT 5",
		"UPDATE t SET name = 'x' WHERE id = $1",
		"SELECT count(*), sum(amount) FROM t JOIN v USING (id) GROUP BY name",
		"CREATE TABLE u (a int, b text)",
		"SELECT CAST('1' AS integer), '2'::bigint, now()",
	} {
		out, changed, err := rewriteSQL(t, newEnv(), q)
		if err != nil || changed {
			t.Errorf("%q: changed=%v err=%v out=%s", q, changed, err, out)
		}
	}
}

func TestRewriteText(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"SELECT a / b FROM x", "SELECT hopsql_catalog.main.pg_div(a, b) FROM x"},
		{"SELECT a % 0", "SELECT hopsql_catalog.main.pg_mod(a, 0)"},
		{"SELECT 'abc' ~ 'b'", "SELECT regexp_matches('abc', 'b')"},
		{"SELECT 'abc' !~* 'B'", "SELECT NOT regexp_matches('abc', 'B', 'i')"},
		{"SELECT x OPERATOR(pg_catalog.~) '^t$' COLLATE pg_catalog.default", "SELECT regexp_matches(x, '^t$')"},
		{"SELECT x OPERATOR(pg_catalog.~~) 'a%'", "SELECT x LIKE 'a%'"},
		{"SELECT * FROM public.t", "SELECT * FROM main.t"},
		{"INSERT INTO public.t VALUES (1)", "INSERT INTO main.t VALUES (1)"},
		{"SELECT relname FROM pg_class", "SELECT relname FROM hopsql_catalog.main.pg_class"},
		{"SELECT current_user, current_database(), current_schema()", "SELECT 'postgres', 'postgres', 'public'"},
		{"SELECT pg_catalog.current_schemas(true)", "SELECT ARRAY['pg_catalog', 'public']::varchar[]"},
		{"SELECT has_table_privilege('t', 'SELECT')", "SELECT true"},
		{"SELECT x::pg_catalog.oid, y::name, z::pg_catalog.text", "SELECT x::bigint, y::varchar, z::text"},
		{"SELECT typinput = 'pg_catalog.array_in'::regproc", "SELECT typinput = 'array_in'"},
		{"SELECT 1 WHERE x IN ('int4'::regtype, 'integer[]'::regtype)", "SELECT 1 WHERE x IN (23, 1007)"},
		{"SELECT pg_catalog.lower('A')", "SELECT lower('A')"},
		{"SELECT pg_catalog.format_type(23, -1)", "SELECT hopsql_catalog.main.format_type(23, -1)"},
		{"SELECT s FROM pg_catalog.generate_series(1, 3) s", "SELECT s FROM hopsql_catalog.main.pg_generate_series_int4(1, 3) s(s)"},
		{"SELECT s FROM generate_series(1, $1) s", "SELECT s FROM generate_series(1, $1) s(s)"},
	} {
		out, changed, err := rewriteSQL(t, newEnv(), tc.in)
		if err != nil || !changed || out != tc.want {
			t.Errorf("%q:\n got %s (changed=%v, err=%v)\nwant %s", tc.in, out, changed, err, tc.want)
		}
	}
}

func TestCurrentSetting(t *testing.T) {
	out, _, err := rewriteSQL(t, newEnv(), "SELECT current_setting('DateStyle')")
	if err != nil || out != "SELECT 'ISO, MDY'" {
		t.Errorf("got %s, %v", out, err)
	}
	out, _, err = rewriteSQL(t, newEnv(), "SELECT current_setting('no_such', true)")
	if err != nil || out != "SELECT NULL" {
		t.Errorf("missing_ok: got %s, %v", out, err)
	}
	_, _, err = rewriteSQL(t, newEnv(), "SELECT current_setting('no_such')")
	var pe *pgerr.Error
	if !errors.As(err, &pe) || pe.Code != pgerr.UndefinedObject || pe.Message != `unrecognized configuration parameter "no_such"` {
		t.Errorf("unknown setting: got %v", err)
	}
	env := newEnv()
	out, _, err = rewriteSQL(t, env, "SELECT set_config('application_name', 'x', false)")
	if v, _ := env.Setting("application_name"); err != nil || out != "SELECT 'x'" || v != "x" {
		t.Errorf("set_config: got %s, %v, setting %q", out, err, v)
	}
}

// TestSemantics runs rewritten statements on DuckDB and checks PostgreSQL's answers.
func TestSemantics(t *testing.T) {
	db := openDB(t)
	env := newEnv()
	for _, tc := range []struct{ q, want string }{
		{"SELECT 'abc' ~ 'b', 'abc' ~ '^b', 'ABC' ~* 'b', 'abc' !~ 'z'", "t|f|t|t"},
		{"SELECT 7 / 2, 7 / 2.0, 7 % 3", "3|3.5|1"},
		{"SELECT 't'::regclass::text, 'public.t'::regclass = (SELECT oid FROM pg_class WHERE relname = 't')", "t|t"},
		{"SELECT c.oid::pg_catalog.regclass FROM pg_catalog.pg_class c WHERE c.relname = 'v'", "v"},
		{"SELECT 'pg_class'::regclass::oid, 'pg_catalog.pg_type'::regclass::oid, 'pg_class'::regclass", "1259|1247|pg_class"},
		{"SELECT 23::regtype::text, format_type(1043, 24), format_type(1700, 655366), format_type(1007, -1), format_type(1184, NULL)",
			"integer|character varying(20)|numeric(10,2)|integer[]|timestamp with time zone"},
		{"SELECT nspname FROM pg_namespace WHERE oid = 'public'::regnamespace", "public"},
		{"SELECT version() LIKE 'PostgreSQL 15.18 (hopsql 0.1.0) on x86_64%'", "t"},
		{"SELECT pg_get_constraintdef(oid), contype FROM pg_constraint WHERE conrelid = 't'::regclass", "PRIMARY KEY (id)|p"},
		{"SELECT pg_get_viewdef('v'::regclass)", "SELECT * FROM t"},
		{"SELECT string_agg(attname || ':' || format_type(atttypid, atttypmod), ',' ORDER BY attnum) FROM pg_attribute WHERE attrelid = 't'::regclass",
			"id:integer,name:text,amount:numeric(10,2),ts:timestamp with time zone"},
		{"SELECT oid FROM pg_class WHERE relname = 'pg_type'", "1247"},
		{"SELECT table_name, data_type FROM information_schema.columns WHERE table_name = 't' AND column_name = 'amount'", "t|numeric"},
		{"SELECT generate_series(1, 2)", "1\n2"},
		{"SELECT pg_size_pretty(20000::bigint)", "20 kB"},
	} {
		lines, err := query(t, db, env, tc.q)
		if err != nil {
			t.Errorf("%s: %v", tc.q, err)
			continue
		}
		if got := strings.Join(lines, "\n"); got != tc.want {
			t.Errorf("%s:\n got %s\nwant %s", tc.q, got, tc.want)
		}
	}
	for _, q := range []string{"SELECT 1 / 0", "SELECT 1.5 / 0", "SELECT 5 % 0", "SELECT hopsql_catalog.main.pg_div(1, 0)"} {
		_, err := query(t, db, env, q)
		if err == nil || !strings.Contains(err.Error(), "division by zero") || pgerr.From(err).Code != pgerr.DivisionByZero {
			t.Errorf("%s: want division by zero (22012), got %v", q, err)
		}
	}
	if _, err := query(t, db, env, "SELECT 'nope'::regclass"); err == nil || !strings.Contains(err.Error(), `relation "nope" does not exist`) {
		t.Errorf("unknown regclass: got %v", err)
	}
}

// TestRelationShapes checks every catalog relation binds with PostgreSQL 15's columns.
func TestRelationShapes(t *testing.T) {
	db := openDB(t)
	for _, r := range catalogRelations {
		rows, err := db.Query("SELECT * FROM " + catalogDB + ".main." + quoteIdent(r.name) + " LIMIT 0")
		if err != nil {
			t.Errorf("%s: %v", r.name, err)
			continue
		}
		cols, _ := rows.Columns()
		rows.Close()
		var want []string
		for _, c := range r.columns {
			want = append(want, c.name)
		}
		if strings.Join(cols, ",") != strings.Join(want, ",") {
			t.Errorf("%s columns:\n got %v\nwant %v", r.name, cols, want)
		}
	}
}

// TestWalkReachesEverything checks the generated walker reaches nodes held in
// non-Node fields and nested lists.
func TestWalkReachesEverything(t *testing.T) {
	res, err := pg_query.Parse(`WITH w AS (SELECT 1 AS a) INSERT INTO s.t (a) SELECT a FROM w
		WHERE a IN (SELECT x FROM y WHERE z = ANY(ARRAY[1, 2])) ON CONFLICT (a) DO UPDATE SET a = EXCLUDED.a + 1 RETURNING a`)
	if err != nil {
		t.Fatal(err)
	}
	consts := 0
	WalkStmt(res.Stmts[0], func(n *pg_query.Node) bool {
		if n.GetAConst() != nil {
			consts++
		}
		return true
	})
	if consts != 4 {
		t.Errorf("walk found %d constants, want 4", consts)
	}
}

func BenchmarkRewritePlain(b *testing.B) {
	res, err := pg_query.Parse("SELECT id, name FROM t WHERE amount > 10 AND name LIKE 'a%' ORDER BY ts DESC LIMIT 5")
	if err != nil {
		b.Fatal(err)
	}
	env := newEnv()
	b.ReportAllocs()
	for b.Loop() {
		if changed, _ := Rewrite(res.Stmts[0], env); changed {
			b.Fatal("changed")
		}
	}
}
