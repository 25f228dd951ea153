package engine

import (
	"strconv"
	"strings"

	pg_query "github.com/pganalyze/pg_query_go/v6"

	"github.com/hopsql/hopsql/engine/pgerr"
)

// scanned is statement text with pg_query's scanner tokens. hopsql's SQL
// extensions (feature groups and views, expectations, training datasets,
// their transforms, experiments) are read from these, since PostgreSQL's grammar has no
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

// syntaxError returns the syntax error at token i of a statement ("CREATE
// EXPERIMENT", …).
func (s scanned) syntaxError(statement string) func(i int) error {
	return func(i int) error {
		near := s.text(i)
		if i >= len(s.toks) {
			near = "end of input"
		}
		return pgerr.New(pgerr.SyntaxError, "syntax error at or near %q in %s", near, statement)
	}
}

// value reads a constant at i: a number (with an optional sign), a string,
// or true/false. It returns the value and the index after it.
func (sc scanned) value(i int, syntax func(int) error) (any, int, error) {
	sign := ""
	if i < len(sc.toks) && (sc.toks[i].Token == pg_query.Token_ASCII_45 || sc.toks[i].Token == pg_query.Token_ASCII_43) {
		if sc.toks[i].Token == pg_query.Token_ASCII_45 {
			sign = "-"
		}
		i++
	}
	if i >= len(sc.toks) {
		return nil, 0, syntax(i)
	}
	t := sc.toks[i]
	switch t.Token {
	case pg_query.Token_ICONST:
		n, err := strconv.ParseInt(sign+sc.text(i), 10, 64)
		if err != nil {
			return nil, 0, pgerr.New(pgerr.NumericValueOutOfRange, "value %s%s is out of range", sign, sc.text(i))
		}
		return n, i + 1, nil
	case pg_query.Token_FCONST:
		f, err := strconv.ParseFloat(sign+sc.text(i), 64)
		if err != nil {
			return nil, 0, pgerr.New(pgerr.InvalidTextRepresentation, "invalid number %q", sc.text(i))
		}
		return f, i + 1, nil
	case pg_query.Token_SCONST:
		if sign == "" {
			return tokenString(sc.text(i)), i + 1, nil
		}
	case pg_query.Token_TRUE_P:
		if sign == "" {
			return true, i + 1, nil
		}
	case pg_query.Token_FALSE_P:
		if sign == "" {
			return false, i + 1, nil
		}
	}
	return nil, 0, syntax(i)
}

// assignments reads "(name = value, …)" from the parenthesis at open into
// into; a name given twice is an error about that noun ("option", …).
func (sc scanned) assignments(open int, syntax func(int) error, noun string, into map[string]any) (int, error) {
	shut := sc.closing(open)
	if open >= len(sc.toks) || sc.toks[open].Token != pg_query.Token_ASCII_40 || shut < 0 {
		return 0, syntax(open)
	}
	for i := open + 1; i < shut; {
		if i+1 >= shut || sc.toks[i+1].Token != pg_query.Token_ASCII_61 {
			return 0, syntax(i)
		}
		name := identText(sc.text(i))
		v, next, err := sc.value(i+2, syntax)
		if err != nil {
			return 0, err
		}
		if _, dup := into[name]; dup {
			return 0, pgerr.New(pgerr.InvalidParameterValue, "%s %q is given twice", noun, name)
		}
		into[name] = v
		i = next
		if i < shut {
			if sc.toks[i].Token != pg_query.Token_ASCII_44 {
				return 0, syntax(i)
			}
			i++
		}
	}
	return shut + 1, nil
}

// nameList reads "(a, b, …)" from the parenthesis at open.
func (sc scanned) nameList(open int, syntax func(int) error) ([]string, int, error) {
	shut := sc.closing(open)
	if open >= len(sc.toks) || sc.toks[open].Token != pg_query.Token_ASCII_40 || shut < 0 {
		return nil, 0, syntax(open)
	}
	var out []string
	for i := open + 1; i < shut; i++ {
		if sc.toks[i].Token == pg_query.Token_ASCII_44 {
			continue
		}
		out = append(out, identText(sc.text(i)))
	}
	return out, shut + 1, nil
}

// tokenString is a string token's value.
func tokenString(t string) string {
	if len(t) >= 2 && t[0] == '\'' {
		return strings.ReplaceAll(t[1:len(t)-1], "''", "'")
	}
	return t
}
