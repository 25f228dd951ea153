package engine

import (
	"strings"

	pg_query "github.com/pganalyze/pg_query_go/v6"

	"github.com/hopsql/hopsql/engine/pgerr"
)

// parseVersion is the parse-tree version Deparse requires on its input.
var parseVersion = func() int32 {
	t, err := pg_query.Parse("SELECT 1")
	if err != nil {
		panic("pg_query cannot parse SELECT 1: " + err.Error())
	}
	return t.Version
}()

// deparse renders one statement back to SQL text.
func deparse(stmt *pg_query.Node) (string, error) {
	return pg_query.Deparse(&pg_query.ParseResult{Version: parseVersion, Stmts: []*pg_query.RawStmt{{Stmt: stmt}}})
}

// span is one statement's byte range in a query string.
type span struct{ start, end int }

// splitStatements cuts a query string at top-level semicolons, using
// PostgreSQL's own scanner so quotes, comments and dollar quoting are
// respected. It is used when the grammar rejects the string, to find the
// statements DuckDB should see one at a time (DuckDB's driver would run all
// but the last statement of a multi-statement string while preparing it).
func splitStatements(sql string) ([]span, error) {
	res, err := pg_query.Scan(sql)
	if err != nil {
		return nil, pgerr.From(err)
	}
	var out []span
	start := 0
	// Parenthesised semicolons cannot end a statement (e.g. in CREATE RULE bodies).
	depth := 0
	for _, t := range res.Tokens {
		switch t.Token {
		case pg_query.Token_ASCII_40:
			depth++
		case pg_query.Token_ASCII_41:
			depth--
		case pg_query.Token_ASCII_59:
			if depth <= 0 {
				out = appendSpan(out, sql, start, int(t.Start))
				start = int(t.End)
			}
		}
	}
	return appendSpan(out, sql, start, len(sql)), nil
}

func appendSpan(out []span, sql string, start, end int) []span {
	if strings.TrimSpace(sql[start:end]) == "" {
		return out
	}
	return append(out, span{start, end})
}
