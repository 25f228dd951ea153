package pgcatalog

import (
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"regexp"
	"strconv"
	"strings"

	pg_query "github.com/pganalyze/pg_query_go/v6"
	"google.golang.org/protobuf/proto"

	"github.com/hopsql/hopsql/engine/pgerr"
)

// PostgreSQL built-in functions that DuckDB lacks, spells differently, or
// gives other semantics. Each call is rewritten into DuckDB SQL (a rename,
// a macro of sql/45_builtins.sql, or an expression built here); the
// result column keeps PostgreSQL's name, since names come from the tree
// before it is rewritten.

// builtinRenames are functions DuckDB has under another name with the
// same arguments.
var builtinRenames = map[string]string{
	"json_object_agg": "json_group_object", "jsonb_object_agg": "json_group_object",
	"json_build_object": "json_object", "jsonb_build_object": "json_object",
	"json_build_array": "json_array", "jsonb_build_array": "json_array",
	"to_jsonb": "to_json",
	"every":    "bool_and",
}

// builtinMacros are implemented in sql/45_builtins.sql, under these names
// (prefixed where DuckDB has a function of the same name).
var builtinMacros = map[string]string{
	"quote_literal": "quote_literal", "quote_nullable": "quote_nullable", "div": "pg_numeric_div",
	"array_length": "pg_array_length", "to_hex": "pg_to_hex", "sha256": "pg_sha256",
	"cardinality": "pg_cardinality", "array_remove": "pg_array_remove", "array_replace": "pg_array_replace",
	"array_positions": "pg_array_positions", "array_ndims": "pg_array_ndims", "array_dims": "pg_array_dims",
	"width_bucket": "pg_width_bucket", "length": "pg_length", "char_length": "pg_length",
	"character_length": "pg_length", "strpos": "pg_strpos", "string_to_array": "pg_string_to_array",
	"array_fill": "pg_array_fill", "trim_array": "pg_trim_array",
	// position(sub IN s) parses as position(s, sub): haystack first, as strpos.
	"position":     "pg_strpos",
	"octet_length": "pg_octet_length", "bit_length": "pg_bit_length",
	"json_typeof": "json_typeof", "jsonb_typeof": "jsonb_typeof",
	"json_array_length": "pg_json_array_length", "jsonb_array_length": "pg_json_array_length",
}

// builtinUDFs are Go functions registered with DuckDB (package udf/pgfunc).
var builtinUDFs = map[string]string{"initcap": "hop_initcap", "clock_timestamp": "hop_clock_timestamp",
	"timeofday": "hop_timeofday", "justify_hours": "hop_justify_hours", "justify_days": "hop_justify_days",
	"justify_interval": "hop_justify_interval"}

// builtin rewrites a call of one of the functions above. handled reports
// whether it did; descend whether the walk should go into n (false when the
// arguments were walked here already).
func (r *rewriter) builtin(n *pg_query.Node, fc *pg_query.FuncCall, name string) (handled, descend bool) {
	switch {
	case name == "json_agg" || name == "jsonb_agg":
		// DuckDB's json_group_array is a macro, which takes no ORDER BY,
		// FILTER or DISTINCT; the aggregate under it, list, does.
		inner := proto.Clone(fc).(*pg_query.FuncCall)
		inner.Funcname = []*pg_query.Node{pg_query.MakeStrNode("list")}
		r.replace(n, makeFunc([]string{"to_json"}, &pg_query.Node{Node: &pg_query.Node_FuncCall{FuncCall: inner}}))
		return true, true
	case builtinRenames[name] != "":
		fc.Funcname = []*pg_query.Node{pg_query.MakeStrNode(builtinRenames[name])}
		if name == "to_jsonb" && len(fc.Args) == 1 {
			rowStruct(fc.Args[0])
		}
	case builtinMacros[name] != "":
		fc.Funcname = ourName(builtinMacros[name])
	case builtinUDFs[name] != "":
		fc.Funcname = []*pg_query.Node{pg_query.MakeStrNode(builtinUDFs[name])}
	case name == "to_json" && len(fc.Args) == 1 && fc.Args[0].GetRowExpr() != nil:
		rowStruct(fc.Args[0])
	case (name == "row_to_json" || name == "array_to_json") && len(fc.Args) == 1:
		fc.Funcname = []*pg_query.Node{pg_query.MakeStrNode("to_json")}
		rowStruct(fc.Args[0])
	case (name == "num_nulls" || name == "num_nonnulls") && len(fc.Args) > 0 && fc.AggOrder == nil:
		r.walkArgs(fc)
		r.numNulls(n, fc, name == "num_nulls")
		return true, false
	case name == "array_to_string" && len(fc.Args) == 3:
		fc.Funcname = ourName("pg_array_to_string")
	case name == "string_to_table" && (len(fc.Args) == 2 || len(fc.Args) == 3):
		fc.Args = []*pg_query.Node{makeFunc([]string{catalogDB, "main", "pg_string_to_array"}, fc.Args...)}
		fc.Funcname = []*pg_query.Node{pg_query.MakeStrNode("unnest")}
	case name == "regexp_replace" && len(fc.Args) >= 3:
		// PostgreSQL's \& is the whole match; RE2's is \0.
		if c := fc.Args[2].GetAConst(); c != nil && c.GetSval() != nil && strings.Contains(c.GetSval().GetSval(), `\&`) {
			fc.Funcname = []*pg_query.Node{pg_query.MakeStrNode(name)}
			c.Val = &pg_query.A_Const_Sval{Sval: &pg_query.String{Sval: strings.ReplaceAll(c.GetSval().GetSval(), `\&`, `\0`)}}
		} else {
			return false, true
		}
	case name == "date_trunc" && len(fc.Args) == 3:
		// date_trunc(unit, timestamptz, zone): truncated in that zone.
		r.walkArgs(fc)
		r.replaceWith(n, "timezone($3, date_trunc($1, timezone($3, CAST($2 AS timestamptz))))", fc.Args...)
		return true, false
	case name == "overlay" && (len(fc.Args) == 3 || len(fc.Args) == 4):
		fc.Funcname = ourName("pg_overlay")
	case name == "jsonb_set" && (len(fc.Args) == 3 || len(fc.Args) == 4):
		s, ok := constString(fc.Args[1])
		if !ok {
			r.err = pgerr.New(pgerr.FeatureNotSupported, "%s's path must be a constant", name)
			return true, false
		}
		arr, err := parseArray(s)
		if err != nil {
			r.err = err
			return true, false
		}
		r.walkArgs(fc)
		r.jsonbSet(n, fc, arr.Elements)
		return true, false
	case name == "to_number" && len(fc.Args) == 2:
		// udf/pgfunc reads the text; numeric is hopsql's DECIMAL(38,10).
		r.walkArgs(fc)
		r.replaceWith(n, "CAST(hop_to_number(CAST($1 AS VARCHAR), $2) AS DECIMAL(38, 10))", fc.Args...)
		return true, false
	case (name == "lpad" || name == "rpad") && len(fc.Args) == 2:
		fc.Funcname = []*pg_query.Node{pg_query.MakeStrNode(name)}
		fc.Args = append(fc.Args, strConst(" "))
	case name == "date_bin" && len(fc.Args) == 3:
		fc.Funcname = []*pg_query.Node{pg_query.MakeStrNode("time_bucket")}
	case name == "overlaps" && len(fc.Args) == 4:
		fc.Funcname = ourName("pg_overlaps")
	case (name == "regexp_like" || name == "regexp_substr" || name == "regexp_count") && len(fc.Args) == 2:
		fc.Funcname = ourName("pg_" + name)
	case name == "regexp_match" && len(fc.Args) == 2:
		p, ok := constString(fc.Args[1])
		if !ok {
			return false, true
		}
		r.walkArgs(fc)
		r.regexpMatch(n, fc, p)
		return true, false
	case name == "regexp_matches" && (len(fc.Args) == 2 || len(fc.Args) == 3) && fc.AggOrder == nil && fc.Location >= 0:
		// A set of text[] in PostgreSQL (DuckDB's is a boolean test, which
		// the rewrite of ~ calls: those calls have no location).
		r.walkArgs(fc)
		r.replace(n, makeFunc([]string{"unnest"}, regexpMatchesCall(fc.Args)))
		return true, false
	case (name == "json_extract_path" || name == "jsonb_extract_path" || name == "json_extract_path_text" ||
		name == "jsonb_extract_path_text") && len(fc.Args) >= 1 && !fc.FuncVariadic && fc.AggOrder == nil:
		r.walkArgs(fc)
		fn := "json_extract"
		if strings.HasSuffix(name, "_text") {
			fn = "json_extract_string"
		}
		r.replace(n, makeFunc([]string{fn}, makeCast(fc.Args[0], typeName("json", false), -1), r.pathPointer(fc.Args[1:])))
		return true, false
	case name == "make_interval" && fc.AggOrder == nil:
		r.walkArgs(fc)
		r.makeInterval(n, fc)
		return true, false
	case (name == "jsonb_array_elements" || name == "json_array_elements" || name == "jsonb_array_elements_text" ||
		name == "json_array_elements_text" || name == "jsonb_object_keys" || name == "json_object_keys") && len(fc.Args) == 1:
		// In a select list: a set-returning function, as unnest is.
		fc.Funcname = []*pg_query.Node{pg_query.MakeStrNode("unnest")}
		fc.Args = []*pg_query.Node{jsonElements(name, fc.Args[0])}
	case name == "pg_backend_pid" && len(fc.Args) == 0:
		r.replace(n, intConst(int64(r.env.BackendPID())))
		return true, false
	case (name == "statement_timestamp" || name == "transaction_timestamp") && len(fc.Args) == 0:
		// DuckDB's now() is the transaction's start, as PostgreSQL's;
		// statement_timestamp answers the same (it differs in a block).
		fc.Funcname = []*pg_query.Node{pg_query.MakeStrNode("now")}
	case name == "to_regclass" && len(fc.Args) == 1:
		s, ok := constString(fc.Args[0])
		if !ok {
			return false, true
		}
		nsp, rel, err := splitQualified(s)
		if err != nil {
			r.replace(n, nullConst())
			return true, false
		}
		nspNode := nullConst()
		if nsp != "" {
			nspNode = strConst(nsp)
		}
		path := strArray(r.schemas(true))
		r.replace(n, makeFunc([]string{catalogDB, "main", "regclass_out"},
			makeFunc([]string{catalogDB, "main", "regclass_lookup"}, nspNode, strConst(rel), path), proto.Clone(path).(*pg_query.Node)))
		return true, false
	case name == "round" && len(fc.Args) == 1:
		fc.Funcname = ourName("pg_round")
	case (name == "substr" || name == "substring") && (len(fc.Args) == 2 || len(fc.Args) == 3):
		if s, ok := constString(fc.Args[1]); ok && name == "substring" && len(fc.Args) == 2 && fc.Args[1].GetTypeCast() == nil {
			// substring(s FROM 'pattern') (an untyped literal picks
			// substring(text, text)): the first parenthesised
			// subexpression's match, else the whole match; NULL when
			// nothing matches.
			group := 0
			if re, err := regexp.Compile(s); err == nil && re.NumSubexp() > 0 {
				group = 1
			}
			r.walkArgs(fc)
			r.replaceWith(n, fmt.Sprintf("CASE WHEN regexp_matches($1, $2) THEN regexp_extract($1, $2, %d) END", group), fc.Args...)
			return true, false
		}
		fc.Funcname = ourName("pg_substr")
	case (name == "encode" || name == "decode") && len(fc.Args) == 2:
		format, ok := constString(fc.Args[1])
		if !ok {
			return false, true
		}
		fn := map[string]string{"encode hex": "pg_encode_hex", "encode base64": "pg_encode_base64", "encode escape": "pg_encode_escape",
			"decode hex": "unhex", "decode base64": "pg_decode_base64", "decode escape": "pg_decode_escape"}[name+" "+strings.ToLower(format)]
		if fn == "" {
			r.err = pgerr.New(pgerr.InvalidParameterValue, "unrecognized encoding: \"%s\"", format)
			return true, false
		}
		r.walkArgs(fc)
		if strings.HasPrefix(fn, "pg_") {
			r.replace(n, makeFunc([]string{catalogDB, "main", fn}, fc.Args[0]))
		} else {
			r.replace(n, makeFunc([]string{fn}, fc.Args[0]))
		}
		return true, false
	case name == "format" && len(fc.Args) >= 1 && fc.AggOrder == nil && !fc.FuncVariadic:
		// PostgreSQL's format(%s %I %L); DuckDB's format is fmt's {}.
		// Each argument is passed as its text form, with its NULLness.
		r.walkArgs(fc)
		args := []*pg_query.Node{fc.Args[0]}
		for _, a := range fc.Args[1:] {
			args = append(args, makeCast(a, typeName("varchar", false), -1))
		}
		r.replace(n, makeFunc([]string{"hop_format"}, args...))
		return true, false
	case name == "extract" && len(fc.Args) == 2:
		field, ok := constString(fc.Args[0])
		if !ok {
			return false, true
		}
		r.walkArgs(fc)
		r.replaceWith(n, extractExpr(strings.ToLower(field)), fc.Args...)
		return true, false
	case name == "to_char" && len(fc.Args) == 2:
		r.walkArgs(fc)
		r.toChar(n, fc)
		return true, false
	case (name == "to_date" || name == "to_timestamp") && len(fc.Args) == 2:
		r.walkArgs(fc)
		r.toDate(n, fc, name)
		return true, false
	default:
		return false, true
	}
	r.changed = true
	return true, true
}

// extractExpr is extract(field FROM $2): numeric in PostgreSQL, with six
// decimals for seconds and epochs and three for milliseconds (DuckDB's
// date_part is an integer, and for seconds drops the fraction).
func extractExpr(field string) string {
	switch field {
	case "second", "seconds":
		return "CAST(date_part('microseconds', $2) / 1000000.0 AS DECIMAL(38, 6))"
	case "millisecond", "milliseconds":
		return "CAST(date_part('microseconds', $2) / 1000.0 AS DECIMAL(38, 3))"
	case "epoch":
		return "CAST(date_part('epoch', $2) AS DECIMAL(38, 6))"
	}
	return "CAST(date_part($1, $2) AS DECIMAL(38, 0))"
}

// numNulls counts the NULL (or non-NULL) arguments; PostgreSQL's result is
// an integer.
func (r *rewriter) numNulls(n *pg_query.Node, fc *pg_query.FuncCall, nulls bool) {
	test := "IS NULL"
	if !nulls {
		test = "IS NOT NULL"
	}
	terms := make([]string, len(fc.Args))
	for i := range fc.Args {
		terms[i] = fmt.Sprintf("(CASE WHEN $%d %s THEN 1 ELSE 0 END)", i+1, test)
	}
	r.replaceWith(n, "CAST("+strings.Join(terms, " + ")+" AS integer)", fc.Args...)
}

// toChar rewrites to_char(value, template). The template must be a
// constant: it is translated here, numbers to the Go formatter of
// udf/pgfunc, dates and times to DuckDB expressions. Which of the two
// PostgreSQL would use depends on the value's type, unknown before DuckDB
// binds the statement; a template with a 9 or 0 digit position (or RN)
// outside quotes formats a number, any other a date or time.
func (r *rewriter) toChar(n *pg_query.Node, fc *pg_query.FuncCall) {
	tmpl, ok := constString(fc.Args[1])
	if !ok {
		r.err = pgerr.New(pgerr.FeatureNotSupported, "to_char's format must be a constant")
		return
	}
	if numberTemplate(tmpl) {
		r.replaceWith(n, "hop_to_char_num(CAST($1 AS VARCHAR), $2, typeof($1))", fc.Args...)
		return
	}
	expr, err := dateTemplate(tmpl)
	if err != nil {
		r.err = err
		return
	}
	r.replaceWith(n, expr, fc.Args[0])
}

// toDate rewrites to_date(text, template) and to_timestamp(text, template)
// to DuckDB's strptime with the template translated.
func (r *rewriter) toDate(n *pg_query.Node, fc *pg_query.FuncCall, name string) {
	tmpl, ok := constString(fc.Args[1])
	if !ok {
		r.err = pgerr.New(pgerr.FeatureNotSupported, "%s's format must be a constant", name)
		return
	}
	f, err := strptimeFormat(tmpl)
	if err != nil {
		r.err = err
		return
	}
	target := "timestamptz"
	if name == "to_date" {
		target = "date"
	}
	r.replaceWith(n, "CAST(strptime(CAST($1 AS VARCHAR), $2) AS "+target+")", fc.Args[0], strConst(f))
}

// replaceWith replaces n by the expression expr, in which $1…$n stand for
// copies of args. expr is DuckDB SQL that PostgreSQL's grammar also parses;
// it is not rewritten further (the arguments were, by the caller).
func (r *rewriter) replaceWith(n *pg_query.Node, expr string, args ...*pg_query.Node) {
	e, err := buildExpr(expr, args...)
	if err != nil {
		r.err = err
		return
	}
	r.replace(n, e)
}

// buildExpr parses expr, in which $1…$n stand for copies of args.
func buildExpr(expr string, args ...*pg_query.Node) (*pg_query.Node, error) {
	tree, err := pg_query.Parse("SELECT " + expr)
	if err != nil {
		return nil, fmt.Errorf("pgcatalog: built expression %q: %w", expr, err)
	}
	e := tree.Stmts[0].Stmt.GetSelectStmt().TargetList[0].GetResTarget().Val
	Walk(e, func(x *pg_query.Node) bool {
		if p := x.GetParamRef(); p != nil && int(p.Number) >= 1 && int(p.Number) <= len(args) {
			x.Node = proto.Clone(args[p.Number-1]).(*pg_query.Node).Node
			return false
		}
		return true
	})
	return e, nil
}

// numberTemplate reports whether a to_char template formats a number: it
// has a digit position (9 or 0) or RN outside quotes, and none of the
// date patterns a number template never holds ('YYYY-MM-DD 00:00' is a
// date with literal zeros).
func numberTemplate(t string) bool {
	var plain strings.Builder // the template without quoted text
	quoted := false
	for i := 0; i < len(t); i++ {
		switch c := t[i]; {
		case c == '\\' && i+1 < len(t):
			i++
		case c == '"':
			quoted = !quoted
		case !quoted:
			plain.WriteByte(c)
		}
	}
	up := strings.ToUpper(plain.String())
	for _, p := range []string{"Y", "HH", "DD", "MM", "SS", "MON", "DAY", "DY", "AM", "PM", "IW", "WW", "TZ", "US", "MS"} {
		if strings.Contains(up, p) {
			return false
		}
	}
	return strings.ContainsAny(up, "90") || strings.Contains(up, "RN")
}

// dateField is one numeric template pattern: a DuckDB expression over $1
// and the width PostgreSQL pads it to with zeros (0: not padded).
type dateField struct {
	expr  string
	width int
}

var dateFields = map[string]dateField{
	"HH24": {"hour($1)", 2}, "HH12": {"((hour($1) + 11) % 12 + 1)", 2}, "HH": {"((hour($1) + 11) % 12 + 1)", 2},
	"MI": {"minute($1)", 2}, "SS": {"second($1)", 2}, "MS": {"(millisecond($1) % 1000)", 3},
	"US": {"(microsecond($1) % 1000000)", 6}, "SSSS": {"(hour($1) * 3600 + minute($1) * 60 + second($1))", 0},
	"SSSSS": {"(hour($1) * 3600 + minute($1) * 60 + second($1))", 0},
	"YYYY":  {"year($1)", 4}, "YYY": {"(year($1) % 1000)", 3}, "YY": {"(year($1) % 100)", 2}, "Y": {"(year($1) % 10)", 1},
	"IYYY": {"isoyear($1)", 4}, "IYY": {"(isoyear($1) % 1000)", 3}, "IY": {"(isoyear($1) % 100)", 2}, "I": {"(isoyear($1) % 10)", 1},
	"MM": {"month($1)", 2}, "DD": {"day($1)", 2}, "DDD": {"dayofyear($1)", 3},
	"IDDD": {"((week($1) - 1) * 7 + isodow($1))", 3}, "D": {"(dayofweek($1) + 1)", 1}, "ID": {"isodow($1)", 1},
	"W": {"CAST(floor((day($1) - 1) / 7.0) + 1 AS bigint)", 1}, "WW": {"CAST(floor((dayofyear($1) - 1) / 7.0) + 1 AS bigint)", 2},
	"IW": {"week($1)", 2}, "CC": {"century($1)", 2}, "Q": {"quarter($1)", 1},
	"J":   {"CAST(floor(julian(CAST($1 AS date))) AS bigint)", 0},
	"FF1": {"CAST(floor((microsecond($1) % 1000000) / 100000) AS bigint)", 1},
	"FF2": {"CAST(floor((microsecond($1) % 1000000) / 10000) AS bigint)", 2},
	"FF3": {"CAST(floor((microsecond($1) % 1000000) / 1000) AS bigint)", 3},
	"FF4": {"CAST(floor((microsecond($1) % 1000000) / 100) AS bigint)", 4},
	"FF5": {"CAST(floor((microsecond($1) % 1000000) / 10) AS bigint)", 5},
	"FF6": {"(microsecond($1) % 1000000)", 6},
}

// dateWords are the patterns printed as words. A pattern's case picks the
// output's: MONTH upper, Month capitalised, month lower.
var dateWords = map[string]struct {
	expr  string
	width int // padded with spaces to this many characters unless FM
}{
	"MONTH": {"monthname($1)", 9}, "MON": {"left(monthname($1), 3)", 0},
	"DAY": {"dayname($1)", 9}, "DY": {"left(dayname($1), 3)", 0},
	"AM": {"CASE WHEN hour($1) < 12 THEN 'AM' ELSE 'PM' END", 0}, "PM": {"CASE WHEN hour($1) < 12 THEN 'AM' ELSE 'PM' END", 0},
	"A.M.": {"CASE WHEN hour($1) < 12 THEN 'A.M.' ELSE 'P.M.' END", 0}, "P.M.": {"CASE WHEN hour($1) < 12 THEN 'A.M.' ELSE 'P.M.' END", 0},
	"AD": {"CASE WHEN year($1) > 0 THEN 'AD' ELSE 'BC' END", 0}, "BC": {"CASE WHEN year($1) > 0 THEN 'AD' ELSE 'BC' END", 0},
	"A.D.": {"CASE WHEN year($1) > 0 THEN 'A.D.' ELSE 'B.C.' END", 0}, "B.C.": {"CASE WHEN year($1) > 0 THEN 'A.D.' ELSE 'B.C.' END", 0},
	"RM": {"(ARRAY['I', 'II', 'III', 'IV', 'V', 'VI', 'VII', 'VIII', 'IX', 'X', 'XI', 'XII'])[month($1)]", 4},
	"TZ": {"strftime($1, '%Z')", 0}, "OF": {"strftime($1, '%z')", 0},
}

// datePatterns lists every pattern, longer ones first so that the longest
// match wins (HH24 before HH, YYYY before YY).
var datePatterns = []string{
	"Y,YYY", "SSSSS", "MONTH", "A.M.", "P.M.", "A.D.", "B.C.", "HH24", "HH12", "YYYY", "IYYY", "IDDD", "SSSS",
	"FF1", "FF2", "FF3", "FF4", "FF5", "FF6", "YYY", "IYY", "DDD", "MON", "DAY",
	"HH", "MI", "SS", "MS", "US", "YY", "IY", "MM", "DD", "DY", "ID", "WW", "IW", "CC", "AM", "PM", "AD", "BC",
	"RM", "TZ", "OF", "Y", "I", "D", "W", "J", "Q",
}

// datePatternAt is the longest date pattern at t[i:], matched without
// regard to case, or "".
func datePatternAt(t string, i int) string {
	for _, p := range datePatterns {
		if len(t)-i >= len(p) && strings.EqualFold(t[i:i+len(p)], p) {
			return p
		}
	}
	return ""
}

// dateTemplate translates a to_char template for dates, times and
// intervals into a DuckDB expression over $1, following PostgreSQL's
// formatting.c: patterns are matched case-insensitively (their case sets the
// case of words), FM drops padding, TH/th adds an ordinal suffix, "…" is
// literal text (\" a quote in it, or outside it).
func dateTemplate(t string) (string, error) {
	var parts []string
	var lit strings.Builder
	flush := func() {
		if lit.Len() > 0 {
			parts = append(parts, quoteLiteral(lit.String()))
			lit.Reset()
		}
	}
	for i := 0; i < len(t); {
		fm := false
		for {
			switch up := strings.ToUpper(t[i:min(i+2, len(t))]); up {
			case "FM":
				fm, i = true, i+2
				continue
			case "TM", "FX":
				i += 2
				continue
			}
			break
		}
		if i >= len(t) {
			break
		}
		switch t[i] {
		case '"':
			for i++; i < len(t) && t[i] != '"'; i++ {
				if t[i] == '\\' && i+1 < len(t) {
					i++
				}
				lit.WriteByte(t[i])
			}
			i++
			continue
		case '\\':
			// Outside quotes only \" is an escape; other backslashes are text.
			if i+1 < len(t) && t[i+1] == '"' {
				lit.WriteByte('"')
				i += 2
				continue
			}
			lit.WriteByte('\\')
			i++
			continue
		}
		pat := datePatternAt(t, i)
		if pat == "" {
			lit.WriteByte(t[i])
			i++
			continue
		}
		src := t[i : i+len(pat)]
		i += len(pat)
		flush()
		var piece, num string
		switch {
		case pat == "Y,YYY":
			piece = "printf('%d,%03d', CAST(floor(year($1) / 1000) AS bigint), year($1) % 1000)"
		case dateFields[pat].expr != "":
			f := dateFields[pat]
			num = f.expr
			piece = "CAST(" + f.expr + " AS varchar)"
			if !fm && f.width > 0 {
				piece = fmt.Sprintf("lpad(%s, %d, '0')", piece, f.width)
			}
		default:
			w := dateWords[pat]
			piece = w.expr
			if !fm && w.width > 0 {
				piece = fmt.Sprintf("rpad(%s, %d, ' ')", piece, w.width)
			}
			switch {
			case src == strings.ToLower(src):
				piece = "lower(" + piece + ")"
			case src == strings.ToUpper(src) && (pat == "MONTH" || pat == "MON" || pat == "DAY" || pat == "DY"):
				piece = "upper(" + piece + ")"
			}
		}
		parts = append(parts, piece)
		if suffix := t[i:min(i+2, len(t))]; (suffix == "TH" || suffix == "th") && num != "" {
			i += 2
			ord := fmt.Sprintf("CASE WHEN %[1]s %% 100 IN (11, 12, 13) THEN 'th' WHEN %[1]s %% 10 = 1 THEN 'st' "+
				"WHEN %[1]s %% 10 = 2 THEN 'nd' WHEN %[1]s %% 10 = 3 THEN 'rd' ELSE 'th' END", num)
			if suffix == "TH" {
				ord = "upper(" + ord + ")"
			}
			parts = append(parts, ord)
		}
	}
	flush()
	if len(parts) == 0 {
		return "CASE WHEN $1 IS NULL THEN NULL ELSE '' END", nil
	}
	return "CASE WHEN $1 IS NULL THEN NULL ELSE " + strings.Join(parts, " || ") + " END", nil
}

// strptimeFormats translates to_date/to_timestamp template patterns.
var strptimeFormats = map[string]string{
	"YYYY": "%Y", "YY": "%y", "MM": "%m", "DD": "%d", "HH24": "%H", "HH12": "%I", "HH": "%I", "MI": "%M",
	"SS": "%S", "MS": "%g", "US": "%f", "MONTH": "%B", "MON": "%b", "DAY": "%A", "DY": "%a", "AM": "%p", "PM": "%p",
	"DDD": "%j", "TZ": "%Z", "OF": "%z",
}

// strptimeFormat translates a to_date/to_timestamp template into DuckDB's
// strptime format. Patterns strptime has no equivalent for are refused.
func strptimeFormat(t string) (string, error) {
	var b strings.Builder
	for i := 0; i < len(t); {
		if up := strings.ToUpper(t[i:min(i+2, len(t))]); up == "FM" || up == "FX" || up == "TM" {
			i += 2
			continue
		}
		switch t[i] {
		case '"':
			for i++; i < len(t) && t[i] != '"'; i++ {
				if t[i] == '%' {
					b.WriteByte('%')
				}
				b.WriteByte(t[i])
			}
			i++
			continue
		case '%':
			b.WriteString("%%")
			i++
			continue
		}
		pat := datePatternAt(t, i)
		if pat == "" {
			b.WriteByte(t[i])
			i++
			continue
		}
		f, ok := strptimeFormats[pat]
		if !ok {
			return "", pgerr.New(pgerr.FeatureNotSupported, "template pattern %q is not supported in to_date and to_timestamp", t[i:i+len(pat)])
		}
		b.WriteString(f)
		i += len(pat)
	}
	return b.String(), nil
}

// like rewrites LIKE and ILIKE (and their NOT forms) to PostgreSQL's
// escaping: a backslash escapes the next character of the pattern unless
// an ESCAPE clause names another character (ESCAPE ” none). DuckDB's
// LIKE has no escape character, so patterns that may hold one go to its
// like_escape / ilike_escape functions; a constant pattern without a
// backslash stays a plain LIKE, which DuckDB can push into scans.
func (r *rewriter) like(n *pg_query.Node, e *pg_query.A_Expr) {
	if e.Lexpr == nil || e.Rexpr == nil || len(e.Name) != 1 {
		return
	}
	op := e.Name[0].GetString_().GetSval()
	pattern, escape := e.Rexpr, strConst(`\`)
	if fc := e.Rexpr.GetFuncCall(); fc != nil && len(fc.Args) == 2 {
		if _, name, _ := funcName(fc); name == "like_escape" {
			pattern, escape = fc.Args[0], fc.Args[1]
		}
	}
	esc, escConst := constString(escape)
	if p, ok := constString(pattern); ok && escConst && !strings.Contains(p, esc) || escConst && esc == "" {
		if pattern != e.Rexpr {
			e.Rexpr = pattern
			r.changed = true
		}
		return
	}
	fn := "like_escape"
	if strings.HasSuffix(op, "*") {
		fn = "ilike_escape"
	}
	call := makeFunc([]string{fn}, e.Lexpr, pattern, escape)
	if op[0] == '!' {
		call = pg_query.MakeBoolExprNode(pg_query.BoolExprType_NOT_EXPR, []*pg_query.Node{call}, -1)
	}
	r.replace(n, call)
}

// jsonOperator rewrites PostgreSQL's json/jsonb operators into DuckDB
// functions; true when op was one. As functions they also keep their
// operands together: the deparsed `j -> 'k' IS NULL` would be read by
// DuckDB as `j -> ('k' IS NULL)`. DuckDB reads ? as a parameter, and has
// no #>, #>>, ?|, ?&, nor @>, <@ and || for JSON. The last three are also
// array (and text) operators, so they are rewritten only when an operand
// is visibly JSON (see jsonish).
func (r *rewriter) jsonOperator(n *pg_query.Node, e *pg_query.A_Expr, op string) bool {
	l, rt := e.Lexpr, e.Rexpr
	var call *pg_query.Node
	switch op {
	case "->":
		call = makeFunc([]string{"json_extract"}, l, rt)
	case "->>":
		call = makeFunc([]string{"json_extract_string"}, l, rt)
	case "#>", "#>>":
		fn := "json_extract"
		if op == "#>>" {
			fn = "json_extract_string"
		}
		call = makeFunc([]string{fn}, l, r.jsonPointer(rt))
	case "?":
		call = makeFunc([]string{"list_contains"}, makeFunc([]string{catalogDB, "main", "pg_jsonb_strings"}, l), rt)
	case "?|", "?&":
		fn := "list_has_any"
		if op == "?&" {
			fn = "list_has_all"
		}
		call = makeFunc([]string{fn}, makeFunc([]string{catalogDB, "main", "pg_jsonb_strings"}, l), r.textArray(rt))
	case "@>", "<@":
		if !jsonish(l) && !jsonish(rt) {
			return false
		}
		if op == "<@" {
			l, rt = rt, l
		}
		call = makeFunc([]string{"json_contains"}, makeCast(l, typeName("json", false), -1), makeCast(rt, typeName("json", false), -1))
	case "-":
		// jsonb - key (or - index): only with a visibly JSON left operand,
		// since - is also arithmetic.
		if !jsonish(l) || isLiteral(l) {
			return false
		}
		call = makeFunc([]string{catalogDB, "main", "pg_jsonb_minus"}, l, rt)
	case "||":
		// A literal makes || JSON only when it holds an object: 'a' ||
		// '[1]' is text, j || '{"k":1}' a merge.
		strong := func(n *pg_query.Node) bool { return jsonish(n) && !isLiteral(n) }
		object := func(n *pg_query.Node) bool {
			s, _ := constString(n)
			return isLiteral(n) && jsonish(n) && strings.HasPrefix(strings.TrimSpace(s), "{")
		}
		if !strong(l) && !strong(rt) && !(object(l) && !isLiteral(rt)) && !(object(rt) && !isLiteral(l)) {
			return false
		}
		call = makeFunc([]string{catalogDB, "main", "pg_jsonb_concat"}, l, rt)
	default:
		return false
	}
	r.replace(n, call)
	return true
}

// jsonish reports whether an operand is visibly JSON: a cast to json or
// jsonb, a call building JSON, an -> / #> operator, or a string literal
// holding a JSON object or array ('{1,2}', an array literal, is not JSON).
func jsonish(n *pg_query.Node) bool {
	switch {
	case n.GetTypeCast() != nil:
		_, name := typeNameParts(n.GetTypeCast().TypeName)
		return name == "json" || name == "jsonb" || name == "JSON"
	case n.GetFuncCall() != nil:
		_, name, _ := funcName(n.GetFuncCall())
		return jsonFunctions[name]
	case n.GetAExpr() != nil:
		op := n.GetAExpr().Name
		return len(op) == 1 && (op[0].GetString_().GetSval() == "->" || op[0].GetString_().GetSval() == "#>")
	}
	if s, ok := constString(n); ok {
		// '{}' is also an empty array literal.
		t := strings.TrimSpace(s)
		return (strings.HasPrefix(t, "{") || strings.HasPrefix(t, "[")) && t != "{}" && json.Valid([]byte(t))
	}
	return false
}

// jsonFunctions are the functions returning json or jsonb that jsonish
// recognises (by their PostgreSQL names: operands are seen before they
// are rewritten).
var jsonFunctions = map[string]bool{
	"to_json": true, "to_jsonb": true, "row_to_json": true, "array_to_json": true,
	"json_build_object": true, "jsonb_build_object": true, "json_build_array": true, "jsonb_build_array": true,
	"json_agg": true, "jsonb_agg": true, "json_object_agg": true, "jsonb_object_agg": true, "jsonb_set": true,
	"json_extract_path": true, "jsonb_extract_path": true, "json_object": true, "jsonb_strip_nulls": true, "json_strip_nulls": true,
}

// isLiteral reports whether n is a string constant (under a cast or not).
func isLiteral(n *pg_query.Node) bool {
	_, ok := constString(n)
	return ok && n.GetTypeCast() == nil
}

// jsonPointer turns a #> path (a text array) into a JSON pointer, which
// DuckDB's json_extract reads with object keys and array indexes alike.
func (r *rewriter) jsonPointer(path *pg_query.Node) *pg_query.Node {
	if s, ok := constString(path); ok {
		arr, err := parseArray(s)
		if err == nil {
			var b strings.Builder
			for _, e := range arr.Elements {
				if e == nil {
					return nullConst() // PostgreSQL: a NULL path element gives NULL
				}
				b.WriteString("/" + strings.NewReplacer("~", "~0", "/", "~1").Replace(*e))
			}
			return strConst(b.String())
		}
	}
	return makeFunc([]string{catalogDB, "main", "pg_json_pointer"}, r.textArray(path))
}

// pathPointer is the JSON pointer of json_extract_path's path arguments:
// a constant when they all are, built at run time otherwise.
func (r *rewriter) pathPointer(keys []*pg_query.Node) *pg_query.Node {
	var b strings.Builder
	for _, k := range keys {
		if k.GetAConst() != nil && k.GetAConst().Isnull {
			return nullConst() // a NULL path element gives NULL
		}
		s, ok := constString(k)
		if !ok {
			items := make([]*pg_query.Node, len(keys))
			for i, k := range keys {
				items[i] = makeCast(k, typeName("varchar", false), -1)
			}
			arr := &pg_query.Node{Node: &pg_query.Node_AArrayExpr{AArrayExpr: &pg_query.A_ArrayExpr{Elements: items, Location: -1}}}
			return makeFunc([]string{catalogDB, "main", "pg_json_pointer"}, makeCast(arr, typeName("varchar", true), -1))
		}
		b.WriteString("/" + strings.NewReplacer("~", "~0", "/", "~1").Replace(s))
	}
	return strConst(b.String())
}

// textArray reads a constant '{a,b}' operand as a list of strings.
func (r *rewriter) textArray(n *pg_query.Node) *pg_query.Node {
	if s, ok := constString(n); ok {
		if arr, err := parseArray(s); err == nil {
			items := make([]*pg_query.Node, len(arr.Elements))
			for i, e := range arr.Elements {
				if e == nil {
					items[i] = makeCast(nullConst(), typeName("varchar", false), -1)
				} else {
					items[i] = strConst(*e)
				}
			}
			arr := &pg_query.Node{Node: &pg_query.Node_AArrayExpr{AArrayExpr: &pg_query.A_ArrayExpr{Elements: items, Location: -1}}}
			return makeCast(arr, typeName("varchar", true), -1)
		}
	}
	return n
}

// jsonElements is the list a JSON set-returning function unnests.
func jsonElements(name string, j *pg_query.Node) *pg_query.Node {
	switch {
	case strings.HasSuffix(name, "_object_keys"):
		return makeFunc([]string{"json_keys"}, j)
	case strings.HasSuffix(name, "_text"):
		return makeFunc([]string{"json_extract_string"}, j, strConst("$[*]"))
	}
	return makeFunc([]string{"json_extract"}, j, strConst("$[*]"))
}

// jsonSetFunction rewrites the JSON set-returning functions (and
// string_to_table, an unnest too) in FROM:
// json(b)_array_elements[_text] and json(b)_object_keys unnest a list,
// their column named as PostgreSQL names it; json(b)_each[_text] becomes a
// LATERAL subquery over DuckDB's json_each keeping PostgreSQL's two columns
// (DuckDB's has eight). true when fc was one of them.
func (r *rewriter) jsonSetFunction(n *pg_query.Node, rf *pg_query.RangeFunction, fc *pg_query.FuncCall, name string) bool {
	if len(fc.Args) != 1 && name != "string_to_table" {
		return false
	}
	alias := rf.Alias
	if alias == nil {
		alias = &pg_query.Alias{Aliasname: name}
	}
	switch name {
	case "jsonb_array_elements", "json_array_elements", "jsonb_array_elements_text", "json_array_elements_text",
		"jsonb_object_keys", "json_object_keys":
		w := walker{node: r.node, rangeVar: r.dmlRangeVar}
		w.walkFuncCall(fc)
		col := "value"
		if strings.HasSuffix(name, "_object_keys") {
			col = name
		}
		fc.Funcname = []*pg_query.Node{pg_query.MakeStrNode("unnest")}
		fc.Args = []*pg_query.Node{jsonElements(name, fc.Args[0])}
		if len(alias.Colnames) == 0 {
			alias.Colnames = []*pg_query.Node{pg_query.MakeStrNode(col)}
		}
		rf.Alias = alias
	case "string_to_table":
		if len(fc.Args) != 2 && len(fc.Args) != 3 {
			return false
		}
		w := walker{node: r.node, rangeVar: r.dmlRangeVar}
		w.walkFuncCall(fc)
		fc.Args = []*pg_query.Node{makeFunc([]string{catalogDB, "main", "pg_string_to_array"}, fc.Args...)}
		fc.Funcname = []*pg_query.Node{pg_query.MakeStrNode("unnest")}
		if len(alias.Colnames) == 0 {
			alias.Colnames = []*pg_query.Node{pg_query.MakeStrNode(alias.Aliasname)}
		}
		rf.Alias = alias
	case "jsonb_each", "json_each", "jsonb_each_text", "json_each_text":
		w := walker{node: r.node, rangeVar: r.dmlRangeVar}
		w.walkFuncCall(fc)
		value := "value"
		if strings.HasSuffix(name, "_text") {
			value = "json_extract_string(value, '$') AS value"
		}
		tree, err := pg_query.Parse("SELECT key, " + value + " FROM json_each($1)")
		if err != nil {
			r.err = fmt.Errorf("pgcatalog: json_each: %w", err)
			return true
		}
		sel := tree.Stmts[0].Stmt
		Walk(sel, func(x *pg_query.Node) bool {
			if x.GetParamRef() != nil {
				x.Node = fc.Args[0].Node
				return false
			}
			return true
		})
		n.Node = &pg_query.Node_RangeSubselect{RangeSubselect: &pg_query.RangeSubselect{Lateral: true, Subquery: sel, Alias: alias}}
	default:
		return false
	}
	r.changed = true
	return true
}

// regexpMatchesCall is the Go function behind regexp_matches: the
// matches as a list of text arrays, unnested into rows by the caller.
func regexpMatchesCall(args []*pg_query.Node) *pg_query.Node {
	if len(args) == 2 {
		args = append(args, strConst(""))
	}
	return makeFunc([]string{"hop_regexp_matches"}, args...)
}

// regexpMatch is regexp_match(s, pattern): the first match's
// parenthesised subexpressions as a text array (the whole match when the
// pattern has none), NULL when nothing matches.
func (r *rewriter) regexpMatch(n *pg_query.Node, fc *pg_query.FuncCall, pattern string) {
	groups := 0
	if re, err := regexp.Compile(pattern); err == nil {
		groups = re.NumSubexp()
	}
	var elems []string
	if groups <= 0 {
		elems = []string{"regexp_extract($1, $2, 0)"}
	}
	for g := 1; g <= groups; g++ {
		elems = append(elems, fmt.Sprintf("nullif(regexp_extract($1, $2, %d), '')", g))
	}
	r.replaceWith(n, "CASE WHEN regexp_matches($1, $2) THEN CAST(ARRAY["+strings.Join(elems, ", ")+"] AS varchar[]) END", fc.Args...)
}

// makeIntervalArgs are make_interval's parameters, in order.
var makeIntervalArgs = []string{"years", "months", "weeks", "days", "hours", "mins", "secs"}

// makeInterval is make_interval(years, months, weeks, days, hours, mins,
// secs), positional or named (days => 3), each defaulting to 0.
func (r *rewriter) makeInterval(n *pg_query.Node, fc *pg_query.FuncCall) {
	vals := make([]*pg_query.Node, len(makeIntervalArgs))
	for i, a := range fc.Args {
		if na := a.GetNamedArgExpr(); na != nil {
			k := -1
			for j, name := range makeIntervalArgs {
				if name == na.Name {
					k = j
				}
			}
			if k < 0 {
				r.err = pgerr.New(pgerr.UndefinedFunction, "function make_interval(%s => …) does not exist", na.Name)
				return
			}
			vals[k] = na.Arg
			continue
		}
		if i >= len(vals) {
			r.err = pgerr.New(pgerr.UndefinedFunction, "function make_interval with %d arguments does not exist", len(fc.Args))
			return
		}
		vals[i] = a
	}
	for i := range vals {
		if vals[i] == nil {
			vals[i] = intConst(0)
		}
	}
	r.replaceWith(n, "to_years(CAST($1 AS integer)) + to_months(CAST($2 AS integer)) + to_days(CAST($3 * 7 + $4 AS integer)) + "+
		"to_hours(CAST($5 AS bigint)) + to_minutes(CAST($6 AS bigint)) + to_microseconds(CAST(round($7 * 1000000) AS bigint))", vals...)
}

// betweenSymmetric turns x [NOT] BETWEEN SYMMETRIC a AND b into a plain
// BETWEEN of least(a, b) and greatest(a, b) (DuckDB has no SYMMETRIC).
func (r *rewriter) betweenSymmetric(e *pg_query.A_Expr) {
	bounds := e.Rexpr.GetList().GetItems()
	if len(bounds) != 2 {
		return
	}
	// CASE rather than least/greatest, which skip a NULL bound (the
	// result must then be NULL, not a comparison with the other bound).
	lo, err := buildExpr("CASE WHEN $1 <= $2 THEN $1 WHEN $1 IS NOT NULL AND $2 IS NOT NULL THEN $2 END", bounds...)
	if err != nil {
		r.err = err
		return
	}
	hi, err := buildExpr("CASE WHEN $1 >= $2 THEN $1 WHEN $1 IS NOT NULL AND $2 IS NOT NULL THEN $2 END", bounds...)
	if err != nil {
		r.err = err
		return
	}
	e.Rexpr = &pg_query.Node{Node: &pg_query.Node_List{List: &pg_query.List{Items: []*pg_query.Node{lo, hi}}}}
	if e.Kind == pg_query.A_Expr_Kind_AEXPR_BETWEEN_SYM {
		e.Kind, e.Name = pg_query.A_Expr_Kind_AEXPR_BETWEEN, []*pg_query.Node{pg_query.MakeStrNode("BETWEEN")}
	} else {
		e.Kind, e.Name = pg_query.A_Expr_Kind_AEXPR_NOT_BETWEEN, []*pg_query.Node{pg_query.MakeStrNode("NOT BETWEEN")}
	}
	r.changed = true
}

// likeAny rewrites x [NOT] [I]LIKE ANY|ALL (array) (DuckDB's ANY and ALL
// take no LIKE) to a macro testing each pattern with PostgreSQL's
// backslash escape; true when e was one.
func (r *rewriter) likeAny(n *pg_query.Node, e *pg_query.A_Expr) bool {
	if len(e.Name) != 1 || e.Lexpr == nil || e.Rexpr == nil {
		return false
	}
	op := e.Name[0].GetString_().GetSval()
	fn := map[string]string{"~~": "like", "!~~": "not_like", "~~*": "ilike", "!~~*": "not_ilike"}[op]
	if fn == "" {
		return false
	}
	quant := "any"
	if e.Kind == pg_query.A_Expr_Kind_AEXPR_OP_ALL {
		quant = "all"
	}
	r.replace(n, makeFunc([]string{catalogDB, "main", "pg_" + fn + "_" + quant}, e.Lexpr, r.textArray(e.Rexpr)))
	return true
}

// valuesColumnNames names the columns of (VALUES …) AS v column1, column2,
// … as PostgreSQL does, unless the alias names them (DuckDB: col0, col1).
func (r *rewriter) valuesColumnNames(rs *pg_query.RangeSubselect) {
	sel := rs.Subquery.GetSelectStmt()
	if sel == nil || len(sel.ValuesLists) == 0 || rs.Alias == nil || len(rs.Alias.Colnames) > 0 {
		return
	}
	n := len(sel.ValuesLists[0].GetList().GetItems())
	for i := 1; i <= n; i++ {
		rs.Alias.Colnames = append(rs.Alias.Colnames, pg_query.MakeStrNode(fmt.Sprintf("column%d", i)))
	}
	r.changed = true
}

// jsonbSet is jsonb_set(target, path, value[, create_missing]): one
// pg_jsonb_set1 per path element, each applied to the target's value at
// the path so far and given the next level's result as its value. A SQL
// NULL value makes the whole result NULL, as PostgreSQL's strict function.
func (r *rewriter) jsonbSet(n *pg_query.Node, fc *pg_query.FuncCall, path []*string) {
	create := boolConst(true)
	if len(fc.Args) == 4 {
		create = fc.Args[3]
	}
	if len(path) == 0 {
		r.replace(n, makeCast(fc.Args[0], typeName("json", false), -1))
		return
	}
	var build func(i int) *pg_query.Node
	build = func(i int) *pg_query.Node {
		sub := fc.Args[0]
		if i > 0 {
			var b strings.Builder
			for _, e := range path[:i] {
				if e == nil {
					return nullConst()
				}
				b.WriteString("/" + strings.NewReplacer("~", "~0", "/", "~1").Replace(*e))
			}
			sub = makeFunc([]string{"json_extract"}, proto.Clone(fc.Args[0]).(*pg_query.Node), strConst(b.String()))
		}
		if path[i] == nil {
			return nullConst()
		}
		if i == len(path)-1 {
			return makeFunc([]string{catalogDB, "main", "pg_jsonb_set1"}, sub, strConst(*path[i]), fc.Args[2], proto.Clone(create).(*pg_query.Node))
		}
		return makeFunc([]string{catalogDB, "main", "pg_jsonb_set_in"}, sub, strConst(*path[i]), build(i+1), proto.Clone(create).(*pg_query.Node))
	}
	if len(path) == 1 {
		r.replace(n, build(0))
		return
	}
	r.replaceWith(n, "CASE WHEN $1 IS NULL THEN NULL ELSE $2 END", fc.Args[2], build(0))
}

// checkRegex refuses a constant regular expression that does not compile,
// with PostgreSQL's 2201B (DuckDB's RE2 error would be 22023). Go's regexp
// reads RE2's syntax, the one DuckDB uses.
func (r *rewriter) checkRegex(pattern *pg_query.Node) bool {
	p, ok := constString(pattern)
	if !ok {
		return true
	}
	if _, err := regexp.Compile(p); err != nil {
		r.err = pgerr.New(pgerr.InvalidRegularExpression, "invalid regular expression: %s", strings.TrimPrefix(err.Error(), "error parsing regexp: "))
		return false
	}
	return true
}

// checkLimits refuses a negative constant LIMIT or OFFSET with
// PostgreSQL's codes (DuckDB: 42000 for both).
func (r *rewriter) checkLimits(sel *pg_query.SelectStmt) bool {
	negative := func(n *pg_query.Node) bool {
		c := n.GetAConst()
		if c == nil {
			return false
		}
		if i := c.GetIval(); i != nil {
			return i.Ival < 0
		}
		if f := c.GetFval(); f != nil {
			return strings.HasPrefix(f.Fval, "-")
		}
		return false
	}
	switch {
	case sel.LimitCount != nil && negative(sel.LimitCount):
		r.err = pgerr.New(pgerr.InvalidRowCountInLimitClause, "LIMIT must not be negative")
	case sel.LimitOffset != nil && negative(sel.LimitOffset):
		r.err = pgerr.New(pgerr.InvalidRowCountInResultOffsetClause, "OFFSET must not be negative")
	default:
		return true
	}
	return false
}

// rowStruct makes ROW(a, b), the argument of a JSON function, DuckDB's
// struct {f1: a, f2: b}, named as PostgreSQL names an anonymous record's
// fields (row_to_json(ROW(1,'x')) is {"f1":1,"f2":"x"}; DuckDB's ROW has
// empty names).
func rowStruct(n *pg_query.Node) {
	re := n.GetRowExpr()
	if re == nil || len(re.Args) == 0 {
		return
	}
	args := make([]*pg_query.Node, len(re.Args))
	for i, a := range re.Args {
		args[i] = &pg_query.Node{Node: &pg_query.Node_NamedArgExpr{NamedArgExpr: &pg_query.NamedArgExpr{
			Name: fmt.Sprintf("f%d", i+1), Arg: a, Argnumber: -1, Location: -1}}}
	}
	n.Node = makeFunc([]string{"struct_pack"}, args...).Node
}

// unknownOperand gives an untyped string literal in arithmetic with a
// number literal the number's type, as PostgreSQL resolves an unknown
// ('1' + 1 is 2; DuckDB finds no + for a string and an integer). false
// when the literal is not a number of that type (r.err holds 22P02).
func (r *rewriter) unknownOperand(e *pg_query.A_Expr) bool {
	for _, pair := range [][2]*pg_query.Node{{e.Lexpr, e.Rexpr}, {e.Rexpr, e.Lexpr}} {
		lit, other := pair[0].GetAConst(), pair[1].GetAConst()
		if lit == nil || lit.GetSval() == nil || other == nil {
			continue
		}
		s := strings.TrimSpace(lit.GetSval().GetSval())
		switch {
		case other.GetIval() != nil:
			v, err := strconv.ParseInt(s, 10, 32)
			if errors.Is(err, strconv.ErrRange) {
				r.err = pgerr.New(pgerr.NumericValueOutOfRange, "value \"%s\" is out of range for type integer", lit.GetSval().GetSval())
				return false
			}
			if err != nil {
				r.err = pgerr.New(pgerr.InvalidTextRepresentation, "invalid input syntax for type integer: \"%s\"", lit.GetSval().GetSval())
				return false
			}
			lit.Val = &pg_query.A_Const_Ival{Ival: &pg_query.Integer{Ival: int32(v)}}
		case other.GetFval() != nil:
			// big.Rat also reads fractions ("1/2"), which numeric does not.
			if _, ok := new(big.Rat).SetString(s); !ok || strings.Contains(s, "/") {
				r.err = pgerr.New(pgerr.InvalidTextRepresentation, "invalid input syntax for type numeric: \"%s\"", lit.GetSval().GetSval())
				return false
			}
			lit.Val = &pg_query.A_Const_Fval{Fval: &pg_query.Float{Fval: s}}
		default:
			continue
		}
		r.changed = true
	}
	return true
}

// isIntervalCast reports whether n is visibly an interval: a cast to
// interval (INTERVAL '…' is one) or make_interval(…).
func isIntervalCast(n *pg_query.Node) bool {
	if tc := n.GetTypeCast(); tc != nil {
		_, name := typeNameParts(tc.TypeName)
		return name == "interval" && len(tc.TypeName.ArrayBounds) == 0
	}
	if fc := n.GetFuncCall(); fc != nil {
		_, name, _ := funcName(fc)
		return name == "make_interval"
	}
	return false
}
