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

// maxKeywordQuotes bounds how many identifiers one statement may need quoted.
const maxKeywordQuotes = 8

// quoteKeywordAt quotes the token at byte offset off if PostgreSQL's scanner
// classes it as a non-reserved keyword. It is called when PostgreSQL's
// grammar accepted a statement and DuckDB's rejected it at that token:
// PostgreSQL read the word as an identifier there (e.g. a column named
// "at"), which DuckDB's grammar reserves. Unquoted identifiers fold to
// lower case, so the quoted form is the lower-cased word.
func quoteKeywordAt(sql string, off int) (string, bool) {
	res, err := pg_query.Scan(sql)
	if err != nil {
		return "", false
	}
	// DuckDB stops at the keyword itself or at the token after it (having
	// taken the keyword as the start of a clause).
	// At "end of input" the caret is past the last token: the token before
	// the caret is then the one in question.
	at := -1
	for i, t := range res.Tokens {
		if int(t.Start) <= off {
			at = i
		}
	}
	if at < 0 {
		return "", false
	}
	if t := res.Tokens[at]; nonReserved(t) {
		return quoteToken(sql, t), true
	}
	if int(res.Tokens[at].Start) == off && at > 0 && nonReserved(res.Tokens[at-1]) {
		return quoteToken(sql, res.Tokens[at-1]), true
	}
	return "", false
}

func nonReserved(t *pg_query.ScanToken) bool {
	switch t.KeywordKind {
	case pg_query.KeywordKind_UNRESERVED_KEYWORD, pg_query.KeywordKind_COL_NAME_KEYWORD,
		pg_query.KeywordKind_TYPE_FUNC_NAME_KEYWORD:
		return true
	}
	return false
}

func quoteToken(sql string, t *pg_query.ScanToken) string {
	return sql[:t.Start] + `"` + strings.ToLower(sql[t.Start:t.End]) + `"` + sql[t.End:]
}
