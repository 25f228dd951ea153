package engine

import (
	"strings"

	pg_query "github.com/pganalyze/pg_query_go/v6"
)

// scanned is statement text with pg_query's scanner tokens. hopsql's SQL
// extensions (feature groups and views, expectations, training datasets,
// their transforms) are read from these, since PostgreSQL's grammar has no
// parse tree for them.
type scanned struct {
	sql  string
	toks []*pg_query.ScanToken
}

// text is token i's text ("" past the end).
func (s scanned) text(i int) string {
	if i < 0 || i >= len(s.toks) {
		return ""
	}
	return s.sql[s.toks[i].Start:s.toks[i].End]
}

// word is token i's text in lower case.
func (s scanned) word(i int) string { return strings.ToLower(s.text(i)) }

// closing returns the index of the parenthesis closing the one at open,
// or -1.
func (s scanned) closing(open int) int {
	depth := 0
	for j := open; j < len(s.toks); j++ {
		switch s.toks[j].Token {
		case pg_query.Token_ASCII_40:
			depth++
		case pg_query.Token_ASCII_41:
			if depth--; depth == 0 {
				return j
			}
		}
	}
	return -1
}
