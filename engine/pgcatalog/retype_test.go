package pgcatalog

import (
	"strings"
	"testing"

	pg_query "github.com/pganalyze/pg_query_go/v6"
)

func TestRetype(t *testing.T) {
	const concat = "Cannot concatenate types %s and %s - an explicit cast is required"
	noMatch := func(call string) string {
		return "No function matches the given name and argument types '" + call + "'. You might need to add explicit type casts."
	}
	for _, tc := range []struct {
		sql, at, msg string
		want         string // "" when Retype should decline
	}{
		// DuckDB's caret: at || 's right operand, at the other operators.
		{"SELECT a || 3, b FROM t", "3", strings.NewReplacer("%s and %s", "INTEGER[] and INTEGER").Replace(concat),
			"SELECT list_append(a, 3), b FROM t"},
		{"SELECT 0 || a FROM t", "0", strings.NewReplacer("%s and %s", "INTEGER and INTEGER[]").Replace(concat),
			"SELECT list_prepend(0, a) FROM t"},
		{"SELECT a || '{5,6}' FROM t", "'{5", strings.NewReplacer("%s and %s", "INTEGER[] and VARCHAR").Replace(concat),
			"SELECT list_concat(a, ARRAY['5', '6']::int[]) FROM t"},
		{"SELECT a || '{5,' FROM t", "'{5", strings.NewReplacer("%s and %s", "INTEGER[] and VARCHAR").Replace(concat), ""},
		{"SELECT x || y, t || 'z'::text FROM t", "::", strings.NewReplacer("%s and %s", "VARCHAR[] and VARCHAR").Replace(concat),
			"SELECT x || y, list_append(t, 'z'::text) FROM t"},
		{"SELECT j @> '{\"a\":1}' FROM t", "@>", noMatch("@>(JSON, STRING_LITERAL)"),
			`SELECT json_contains(j::"json"::"json", '{"a":1}'::"json") FROM t`},
		{"SELECT j @> 1 FROM t", "@>", noMatch("@>(JSON, INTEGER_LITERAL)"), ""},
		{"SELECT j - 'k' FROM t", "-", noMatch("-(JSON, STRING_LITERAL)"),
			`SELECT hopsql_catalog.main.pg_jsonb_minus(j::"json", 'k') FROM t`},
		{"SELECT j - 1.5 FROM t", "-", noMatch("-(JSON, DECIMAL(2,1))"), ""},
		{"SELECT tm - tm FROM t", "-", noMatch("-(TIME, TIME)"),
			"SELECT ('2000-01-01'::date + tm) - ('2000-01-01'::date + tm) FROM t"},
		{"SELECT tm - 1 FROM t", "-", noMatch("-(TIME, INTEGER_LITERAL)"), ""},
		{"SELECT 1 FROM t", "1", "Catalog Error: Table with name t does not exist!", ""},
	} {
		off := strings.Index(tc.sql, tc.at)
		parsed, err := pg_query.Parse(tc.sql)
		if err != nil {
			t.Fatal(err)
		}
		tree, ok := Retype(tc.sql, off, tc.msg)
		got := ""
		if ok {
			got, err = pg_query.Deparse(&pg_query.ParseResult{Version: parsed.Version, Stmts: []*pg_query.RawStmt{{Stmt: tree}}})
			if err != nil {
				t.Fatalf("%s: deparse: %v", tc.sql, err)
			}
		}
		if got != tc.want {
			t.Errorf("Retype(%s) at %q:\n got  %s\n want %s", tc.sql, tc.at, got, tc.want)
		}
	}
}
