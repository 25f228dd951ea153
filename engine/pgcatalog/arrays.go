package pgcatalog

import (
	"bytes"

	"github.com/jackc/pgx/v5/pgtype"
	pg_query "github.com/pganalyze/pg_query_go/v6"

	"github.com/hopsql/hopsql/engine/pgerr"
)

// ArrayLiteral turns the text of a PostgreSQL array literal ('{1,2}',
// '{{1,2},{3,4}}', '{"a b",NULL}') into an ARRAY[…] of its elements as
// string constants (NULL for NULL): DuckDB reads only its own list syntax
// ('[1, 2]') from text, but casts a list of strings to any list type, in
// a CAST and when a value goes into a column. pgtype parses the literal,
// as PostgreSQL's array_in does (quotes, backslash escapes, dimensions).
//
// dims is the literal's number of dimensions: DuckDB's list types nest
// (INTEGER[][]) where PostgreSQL's int[] holds any.
func ArrayLiteral(s string) (n *pg_query.Node, dims int, err error) {
	arr, err := parseArray(s)
	if err != nil {
		return nil, 0, err
	}
	lens := make([]int, len(arr.Dims))
	for i, d := range arr.Dims {
		lens[i] = int(d.Length)
	}
	next := 0
	var build func(dim int) *pg_query.Node
	build = func(dim int) *pg_query.Node {
		var elems []*pg_query.Node
		if dim < len(lens) {
			for i := 0; i < lens[dim]; i++ {
				if dim+1 < len(lens) {
					elems = append(elems, build(dim+1))
					continue
				}
				v := arr.Elements[next]
				next++
				if v == nil {
					elems = append(elems, nullConst())
				} else {
					elems = append(elems, strConst(*v))
				}
			}
		}
		return &pg_query.Node{Node: &pg_query.Node_AArrayExpr{AArrayExpr: &pg_query.A_ArrayExpr{Elements: elems, Location: -1}}}
	}
	return build(0), len(lens), nil
}

// parseArray reads an array literal's elements (flattened) and dimensions.
func parseArray(s string) (pgtype.Array[*string], error) {
	var arr pgtype.Array[*string]
	if err := pgtype.NewMap().Scan(pgtype.TextArrayOID, pgtype.TextFormatCode, quoteEscapedElements(trimArraySpace(s)), &arr); err != nil {
		return arr, pgerr.New(pgerr.InvalidTextRepresentation, "malformed array literal: \"%s\"", s)
	}
	return arr, nil
}

// trimArraySpace drops the white space around an array literal's unquoted
// elements and structure ('{1, 2}'), which array_in ignores and pgtype's
// parser keeps in the elements; space inside an element ('{a b}') and
// inside quotes stays.
func trimArraySpace(s string) []byte {
	structural := func(c byte) bool { return c == '{' || c == '}' || c == ',' }
	space := func(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f' }
	out := make([]byte, 0, len(s))
	inQuotes, escaped := false, false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case escaped:
			escaped = false
		case c == '\\':
			escaped = true
		case c == '"':
			inQuotes = !inQuotes
		case !inQuotes && space(c):
			j := i
			for j < len(s) && space(s[j]) {
				j++
			}
			before := len(out) == 0 || structural(out[len(out)-1])
			after := j == len(s) || structural(s[j])
			if !before && !after {
				out = append(out, s[i:j]...)
			}
			i = j - 1
			continue
		}
		out = append(out, c)
	}
	return out
}

// quoteEscapedElements puts unquoted elements that hold a backslash in
// double quotes: array_in reads a backslash as an escape in either form,
// pgtype's parser only inside quotes ('{a\\_}' is the element a\_).
func quoteEscapedElements(s []byte) []byte {
	if !bytes.ContainsRune(s, '\\') {
		return s
	}
	out := make([]byte, 0, len(s)+8)
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == '{' || c == '}' || c == ',':
			out = append(out, c)
			i++
		case c == '"':
			// A quoted element, copied as it is.
			j := i + 1
			for j < len(s) && s[j] != '"' {
				if s[j] == '\\' {
					j++
				}
				j++
			}
			end := min(j+1, len(s))
			out = append(out, s[i:end]...)
			i = end
		default:
			j := i
			for j < len(s) && s[j] != '{' && s[j] != '}' && s[j] != ',' {
				if s[j] == '\\' {
					j++
				}
				j++
			}
			j = min(j, len(s))
			if bytes.ContainsRune(s[i:j], '\\') {
				out = append(out, '"')
				out = append(out, s[i:j]...)
				out = append(out, '"')
			} else {
				out = append(out, s[i:j]...)
			}
			i = j
		}
	}
	return out
}
