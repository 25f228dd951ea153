package engine

import (
	"database/sql/driver"
	"errors"
	"testing"

	pg_query "github.com/pganalyze/pg_query_go/v6"

	"github.com/hopsql/hopsql/engine/pgerr"
)

func TestPGIntIn(t *testing.T) {
	for _, tc := range []struct {
		in   string
		oid  uint32
		want int64
		code string
	}{
		{"42", 23, 42, ""},
		{" -7\t", 23, -7, ""},
		{"+5", 21, 5, ""},
		{"007", 20, 7, ""},
		{"5.0", 23, 0, pgerr.InvalidTextRepresentation},
		{"", 23, 0, pgerr.InvalidTextRepresentation},
		{"-", 23, 0, pgerr.InvalidTextRepresentation},
		{"+-5", 23, 0, pgerr.InvalidTextRepresentation},
		{"1 2", 23, 0, pgerr.InvalidTextRepresentation},
		{"2147483648", 23, 0, pgerr.NumericValueOutOfRange},
		{"-2147483648", 23, -2147483648, ""},
		{"32768", 21, 0, pgerr.NumericValueOutOfRange},
		{"9223372036854775808", 20, 0, pgerr.NumericValueOutOfRange},
		{"-9223372036854775808", 20, -9223372036854775808, ""},
	} {
		got, err := pgIntIn(tc.in, tc.oid)
		var pe *pgerr.Error
		code := ""
		if errors.As(err, &pe) {
			code = pe.Code
		}
		if code != tc.code || err == nil && got != tc.want {
			t.Errorf("pgIntIn(%q, %d) = %d, %v; want %d, code %q", tc.in, tc.oid, got, err, tc.want, tc.code)
		}
	}
}

func TestLiteralLookupShapes(t *testing.T) {
	for _, tc := range []struct {
		sql  string
		want string // the parameterized text; "" when not a lookup
		vals int
	}{
		{"SELECT a FROM t WHERE id = 5", "SELECT a FROM t WHERE id = $1", 1},
		{"SELECT * FROM t WHERE k = 'x' AND b = 2", "SELECT * FROM t WHERE k = $1 AND b = $2", 2},
		{"SELECT a FROM t WHERE id IN (5, 6, 7)", "SELECT a FROM t WHERE id IN ($1, $2, $3)", 3},
		{"SELECT a FROM t WHERE k = 'x''y' AND id =  -12 ", "SELECT a FROM t WHERE k = $1 AND id =  $2", 2},
		{"SELECT a FROM t WHERE k = E'x'", "", 0},
		{"SELECT a FROM t WHERE id = 5e3", "", 0},
		{"SELECT a FROM t WHERE id = 5::int", "", 0},
		{"SELECT a FROM t WHERE id IN (5, 6.5)", "", 0},
		{"SELECT a FROM t WHERE id NOT IN (5)", "", 0},
		{"SELECT a FROM t WHERE id = 5 OR id = 6", "", 0},
		{"SELECT a FROM t", "", 0},
		{"UPDATE t SET n = n + 1 WHERE id = 5", "UPDATE t SET n = n + 1 WHERE id = $1", 1},
		{"UPDATE t SET s = 'a', n = 3, m = NULL WHERE id = 5", "UPDATE t SET s = $1, n = $2, m = NULL WHERE id = $3", 3},
		{"UPDATE t SET n = 1 WHERE id = 5 RETURNING n", "", 0},
		{"UPDATE t SET n = 1", "", 0},
		{"DELETE FROM t WHERE id = 7", "DELETE FROM t WHERE id = $1", 1},
		{"DELETE FROM t WHERE id > 7", "", 0},
		{"SELECT a FROM t WHERE id > 5", "", 0},
		{"SELECT a FROM t WHERE id = 5.5", "", 0},
		{"SELECT a FROM t WHERE id = NULL", "", 0},
		{"SELECT a FROM t, u WHERE id = 5", "", 0},
		{"SELECT a FROM t WHERE id = 5 UNION SELECT 1", "", 0},
		{"WITH c AS (SELECT 1) SELECT a FROM t WHERE id = 5", "", 0},
	} {
		tree, err := pg_query.Parse(tc.sql)
		if err != nil {
			t.Fatal(err)
		}
		vals, text, ok := literalLookup(tree.Stmts[0], tc.sql)
		if !ok {
			text = ""
		}
		if text != tc.want || len(vals) != tc.vals {
			t.Errorf("%s: %q with %d values, want %q with %d", tc.sql, text, len(vals), tc.want, tc.vals)
		}
	}
}

func TestWhereParams(t *testing.T) {
	tree, err := pg_query.Parse("UPDATE t SET s = $1, n = $3 WHERE id = $4 AND k = $2")
	if err != nil {
		t.Fatal(err)
	}
	where := tree.Stmts[0].Stmt.GetUpdateStmt().WhereClause
	args := []driver.NamedValue{{Ordinal: 1, Value: "s"}, {Ordinal: 2, Value: "k"}, {Ordinal: 3, Value: int64(3)}, {Ordinal: 4, Value: int64(4)}}
	got, out := whereParams(where, args)
	text, err := deparseExpr(got)
	if err != nil {
		t.Fatal(err)
	}
	if text != "id = $2 AND k = $1" || len(out) != 2 || out[0].Value != "k" || out[1].Value != int64(4) || out[1].Ordinal != 2 {
		t.Errorf("whereParams: %s with %v", text, out)
	}
	if orig, _ := deparseExpr(where); orig != "id = $4 AND k = $2" {
		t.Errorf("the statement's own WHERE changed: %s", orig)
	}
}
