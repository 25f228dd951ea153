package pgcatalog

import (
	"strings"
	"testing"

	pg_query "github.com/pganalyze/pg_query_go/v6"
)

func TestArrayLiteral(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`{1,2}`, `ARRAY['1', '2']`},
		{`{}`, `ARRAY[]`},
		{`{{1,2},{3,4}}`, `ARRAY[ARRAY['1', '2'], ARRAY['3', '4']]`},
		{`{"a b","c\"d",NULL,"NULL"}`, `ARRAY['a b', 'c"d', NULL, 'NULL']`},
		{` { x , y } `, `ARRAY['x', 'y']`},
		{`{a b, "c d" ,e}`, `ARRAY['a b', 'c d', 'e']`},
		{`{"a\"b", x}`, `ARRAY['a"b', 'x']`},
		{`{x,a\\_,b\,c}`, `ARRAY['x', E'a\\_', 'b,c']`}, // the element a\_
		{`{"q\\",u\"v}`, `ARRAY[E'q\\', 'u"v']`},
		{`{1,2`, ``},
		{`1,2`, ``},
		{`{{1},{2,3}}`, ``},
	} {
		n, _, err := ArrayLiteral(tc.in)
		got := ""
		if err == nil {
			sel := &pg_query.SelectStmt{TargetList: []*pg_query.Node{{Node: &pg_query.Node_ResTarget{ResTarget: &pg_query.ResTarget{Val: n}}}}}
			out, derr := pg_query.Deparse(&pg_query.ParseResult{Version: 170007, Stmts: []*pg_query.RawStmt{{Stmt: &pg_query.Node{Node: &pg_query.Node_SelectStmt{SelectStmt: sel}}}}})
			if derr != nil {
				t.Fatalf("%s: %v", tc.in, derr)
			}
			got = strings.TrimPrefix(out, "SELECT ")
		}
		if got != tc.want {
			t.Errorf("ArrayLiteral(%q) = %q (%v), want %q", tc.in, got, err, tc.want)
		}
	}
}
