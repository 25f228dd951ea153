package engine

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/duckdb/duckdb-go/v2"
	pg_query "github.com/pganalyze/pg_query_go/v6"

	"github.com/hopsql/hopsql/catalog"
	"github.com/hopsql/hopsql/engine/pgcatalog"
	"github.com/hopsql/hopsql/engine/pgerr"
)

// Transformation functions (docs/sql.md). Four SQL functions take their
// parameters explicitly (model-independent use):
//
//	min_max_scale(x, min, max)     (x - min) / (max - min), 0 when max = min
//	standard_scale(x, mean, sd)    (x - mean) / sd, 0 when sd = 0
//	label_encode(x, categories)    0-based position of x's text among categories, NULL if absent
//	one_hot(x, categories)         integer[]: 1 where x's text is the category, else 0
//
// CREATE TRAINING DATASET … TRANSFORM (f(col), …) fits them on the
// dataset's train split and stores the parameters with the version; its
// view applies them. Anywhere else, f(expr, 'dataset' [, 'feature']) uses
// the parameters fitted for that feature (the column expr names, unless
// given) on the dataset's latest version ('dataset@n' for version n), so
// that serving transforms exactly as training did. The engine puts the
// fitted parameters into the statement as constants before DuckDB sees it.

// transformFunctions are the functions and their DuckDB macro bodies.
var transformFunctions = map[string]string{
	"min_max_scale": "(x, lo, hi) AS CASE WHEN x IS NULL THEN NULL WHEN CAST(hi AS DOUBLE) = CAST(lo AS DOUBLE) THEN CAST(0 AS DOUBLE) " +
		"ELSE (CAST(x AS DOUBLE) - CAST(lo AS DOUBLE)) / (CAST(hi AS DOUBLE) - CAST(lo AS DOUBLE)) END",
	"standard_scale": "(x, mu, sd) AS CASE WHEN x IS NULL THEN NULL WHEN CAST(sd AS DOUBLE) = 0 THEN CAST(0 AS DOUBLE) " +
		"ELSE (CAST(x AS DOUBLE) - CAST(mu AS DOUBLE)) / CAST(sd AS DOUBLE) END",
	"label_encode": "(x, cats) AS CAST(list_position(CAST(cats AS VARCHAR[]), CAST(x AS VARCHAR)) - 1 AS BIGINT)",
	"one_hot": "(x, cats) AS CASE WHEN x IS NULL THEN NULL ELSE " +
		"list_transform(CAST(cats AS VARCHAR[]), lambda c: CAST(c = CAST(x AS VARCHAR) AS INTEGER)) END",
}

// maxOneHot bounds the categories one_hot may fit: each becomes a vector
// element of every row.
const maxOneHot = 1000

// createTransformMacros installs the functions in the shared catalog.
func createTransformMacros(ctx context.Context, conn *sql.Conn) error {
	for name, body := range transformFunctions {
		if _, err := conn.ExecContext(ctx, "CREATE OR REPLACE MACRO hopsql_catalog.main."+name+body); err != nil {
			return fmt.Errorf("create %s: %w", name, err)
		}
	}
	return nil
}

// transformSpec is one TRANSFORM item of CREATE TRAINING DATASET.
type transformSpec struct {
	Function string `json:"function"`
	Feature  string `json:"feature"`
}

// parseTransforms reads TRANSFORM ( f ( col ) , … ) at toks[i] (the
// opening parenthesis) and returns the index after it.
func parseTransforms(sql string, toks []*pg_query.ScanToken, i int) ([]transformSpec, int, error) {
	text := scanned{sql, toks}.text
	syntax := func(j int) error {
		near := text(j)
		if j >= len(toks) {
			near = "end of input"
		}
		return pgerr.New(pgerr.SyntaxError, "syntax error at or near %q in TRANSFORM (…)", near)
	}
	if i >= len(toks) || toks[i].Token != pg_query.Token_ASCII_40 {
		return nil, i, syntax(i)
	}
	var out []transformSpec
	seen := map[string]bool{}
	for i++; ; {
		// f ( col )
		if i+3 >= len(toks) || toks[i+1].Token != pg_query.Token_ASCII_40 || toks[i+3].Token != pg_query.Token_ASCII_41 {
			return nil, i, syntax(i)
		}
		fn := strings.ToLower(text(i))
		if _, ok := transformFunctions[fn]; !ok {
			return nil, i, pgerr.New(pgerr.UndefinedFunction, "unknown transformation function %q (min_max_scale, standard_scale, label_encode, one_hot)", text(i))
		}
		col := identText(text(i + 2))
		if seen[col] {
			return nil, i, pgerr.New(pgerr.InvalidParameterValue, "feature %q is transformed twice", col)
		}
		seen[col] = true
		out = append(out, transformSpec{Function: fn, Feature: col})
		i += 4
		switch {
		case i < len(toks) && toks[i].Token == pg_query.Token_ASCII_44:
			i++
		case i < len(toks) && toks[i].Token == pg_query.Token_ASCII_41:
			return out, i + 1, nil
		default:
			return nil, i, syntax(i)
		}
	}
}

// fitTransforms fits each transform on the rows of the build table in
// the train split (all rows when there is none).
func (s *Session) fitTransforms(ctx context.Context, specs []transformSpec, cols []string, splits []string) ([]catalog.Transform, error) {
	where := ""
	if containsString(splits, "train") {
		where = " WHERE split = 'train'"
	}
	table := " FROM temp.main.hopsql_td_build"
	from := table + where
	var out []catalog.Transform
	for _, sp := range specs {
		if _, ok := transformFunctions[sp.Function]; !ok {
			return nil, pgerr.New(pgerr.UndefinedFunction, "unknown transformation function %q", sp.Function)
		}
		if !containsString(cols, sp.Feature) || sp.Feature == "split" {
			return nil, pgerr.New(pgerr.UndefinedColumn, "column %q of TRANSFORM is not a column of the feature view", sp.Feature)
		}
		tr := catalog.Transform{Feature: sp.Feature, Function: sp.Function}
		q := quoteIdent(sp.Feature)
		d := "CAST(" + q + " AS DOUBLE)"
		fin := " FILTER (WHERE isfinite(" + d + "))"
		switch sp.Function {
		case "min_max_scale", "standard_scale":
			sel := "min(" + d + ")" + fin + ", max(" + d + ")" + fin
			if sp.Function == "standard_scale" {
				sel = "avg(" + d + ")" + fin + ", stddev_pop(" + d + ")" + fin
			}
			vals := make([]driver.Value, 2)
			if err := s.queryRow(ctx, "SELECT "+sel+from, nil, vals); err != nil {
				return nil, pgerr.From(fmt.Errorf("fit %s(%s): %w", sp.Function, sp.Feature, err))
			}
			a, b := finite(vals[0]), finite(vals[1])
			if a == nil || b == nil {
				return nil, pgerr.New(pgerr.InvalidParameterValue, "cannot fit %s(%s): the train split has no finite values", sp.Function, sp.Feature)
			}
			if sp.Function == "min_max_scale" {
				tr.Min, tr.Max = a, b
			} else {
				tr.Mean, tr.Stddev = a, b
			}
		default:
			limit := ""
			if sp.Function == "one_hot" {
				limit = " LIMIT " + strconv.Itoa(maxOneHot+1)
			}
			err := s.eachRow(ctx, "SELECT DISTINCT CAST("+q+" AS VARCHAR) AS v"+table+andWhere(where, q+" IS NOT NULL")+" ORDER BY v"+limit, 1, func(v []driver.Value) {
				if t := textOf(v[0]); t != nil {
					tr.Categories = append(tr.Categories, *t)
				}
			})
			if err != nil {
				return nil, pgerr.From(fmt.Errorf("fit %s(%s): %w", sp.Function, sp.Feature, err))
			}
			if sp.Function == "one_hot" && len(tr.Categories) > maxOneHot {
				return nil, pgerr.New(pgerr.ProgramLimitExceeded, "cannot fit one_hot(%s): more than %d categories; label_encode has no limit", sp.Feature, maxOneHot)
			}
			if len(tr.Categories) == 0 {
				return nil, pgerr.New(pgerr.InvalidParameterValue, "cannot fit %s(%s): the train split has no values", sp.Function, sp.Feature)
			}
		}
		out = append(out, tr)
	}
	return out, nil
}

func andWhere(where, cond string) string {
	if where == "" {
		return " WHERE " + cond
	}
	return where + " AND " + cond
}

// transformArgs renders a fitted transform's parameters as SQL constants
// (in PostgreSQL syntax, which DuckDB also reads).
func transformArgs(tr catalog.Transform) string {
	switch tr.Function {
	case "min_max_scale":
		return floatConst(*tr.Min) + ", " + floatConst(*tr.Max)
	case "standard_scale":
		return floatConst(*tr.Mean) + ", " + floatConst(*tr.Stddev)
	}
	q := make([]string, len(tr.Categories))
	for i, c := range tr.Categories {
		q[i] = quoteLiteral(c)
	}
	return "ARRAY[" + strings.Join(q, ", ") + "]"
}

// latestTransformArgs reads a transform's parameters from the latest
// version of a training dataset that has it, when the statement runs.
func latestTransformArgs(db, ds string, tr catalog.Transform) string {
	sub := func(col string) string {
		return "(SELECT " + col + " FROM " + quoteIdent(db) + ".hopsql.transformations WHERE training_dataset = " + quoteLiteral(ds) +
			" AND feature = " + quoteLiteral(tr.Feature) + " AND function = " + quoteLiteral(tr.Function) + " ORDER BY version DESC LIMIT 1)"
	}
	switch tr.Function {
	case "min_max_scale":
		return sub("min") + ", " + sub("max")
	case "standard_scale":
		return sub("mean") + ", " + sub("stddev")
	}
	return sub("categories")
}

func floatConst(f float64) string {
	return "CAST(" + quoteLiteral(strconv.FormatFloat(f, 'g', -1, 64)) + " AS DOUBLE PRECISION)"
}

// transformedSelect is the select list of a training dataset's view:
// every column, the transformed ones replaced by their transform.
func transformedSelect(trs []catalog.Transform) string {
	if len(trs) == 0 {
		return "*"
	}
	parts := make([]string, len(trs))
	for i, tr := range trs {
		parts[i] = "hopsql_catalog.main." + tr.Function + "(" + quoteIdent(tr.Feature) + ", " + transformArgs(tr) + ") AS " + quoteIdent(tr.Feature)
	}
	return "* REPLACE (" + strings.Join(parts, ", ") + ")"
}

// resolveTransforms points the transformation functions of a statement at
// hopsql's macros and puts fitted parameters in place of a training
// dataset's name.
func (s *Session) resolveTransforms(stmt *pg_query.Node) (bool, error) {
	changed := false
	var err error
	pgcatalog.Walk(stmt, func(n *pg_query.Node) bool {
		fc := n.GetFuncCall()
		if err != nil || fc == nil || len(fc.Funcname) != 1 {
			return err == nil
		}
		name := strings.ToLower(fc.Funcname[0].GetString_().GetSval())
		if _, ok := transformFunctions[name]; !ok {
			return true
		}
		fc.Funcname = []*pg_query.Node{pg_query.MakeStrNode("hopsql_catalog"), pg_query.MakeStrNode("main"), pg_query.MakeStrNode(name)}
		changed = true
		if len(fc.Args) < 2 || len(fc.Args) > 3 {
			return true
		}
		ds, ok := stringConst(fc.Args[1])
		if !ok || strings.HasPrefix(ds, "{") {
			return true // parameters given explicitly (a text array literal, say)
		}
		feature := ""
		if len(fc.Args) == 3 {
			if feature, ok = stringConst(fc.Args[2]); !ok {
				err = pgerr.New(pgerr.InvalidParameterValue, "%s(x, 'training dataset', 'feature'): the feature must be a string constant", name)
				return false
			}
		} else if cr := fc.Args[0].GetColumnRef(); cr != nil && len(cr.Fields) > 0 {
			feature = cr.Fields[len(cr.Fields)-1].GetString_().GetSval()
		}
		if feature == "" {
			err = pgerr.New(pgerr.InvalidParameterValue, "%s(expression, '%s'): name the feature as a third argument", name, ds)
			return false
		}
		var tr catalog.Transform
		var pinned bool
		if tr, pinned, err = s.fittedTransform(ds, name, feature); err != nil {
			return false
		}
		params := transformArgs(tr)
		if !pinned {
			// The latest version when the statement runs, not when it
			// was prepared: a prepared serving query follows new versions.
			params = latestTransformArgs(s.db.name, ds, tr)
		}
		var args []*pg_query.Node
		if args, err = parseExprList(params); err != nil {
			return false
		}
		fc.Args = append(fc.Args[:1:1], args...)
		return true
	})
	return changed, err
}

// fittedTransform finds the parameters fitted for a feature on a training
// dataset version ("name" for the latest, "name@n" for version n).
func (s *Session) fittedTransform(ds, function, feature string) (tr catalog.Transform, pinned bool, err error) {
	name, version := ds, 0
	all := s.e.catalog.TrainingDatasets(s.db.name)
	if at := strings.LastIndexByte(ds, '@'); at > 0 {
		exact := false
		for _, td := range all {
			exact = exact || td.Name == ds
		}
		if n, err := strconv.Atoi(ds[at+1:]); err == nil && !exact {
			name, version, pinned = ds[:at], n, true
		}
	}
	var found *catalog.TrainingDataset
	for i, td := range all {
		if td.Name == name && (version == 0 || td.Version == version) {
			found = &all[i] // versions come in order: the last is the latest
		}
	}
	if found == nil {
		return tr, false, pgerr.New(pgerr.UndefinedObject, "training dataset %q does not exist", ds)
	}
	for _, tr := range found.Transforms {
		if tr.Feature == feature && tr.Function == function {
			return tr, pinned, nil
		}
	}
	return tr, false, pgerr.New(pgerr.UndefinedObject, "training dataset %s version %d has no %s fitted for feature %q", found.Name, found.Version, function, feature)
}

func stringConst(n *pg_query.Node) (string, bool) {
	c := n.GetAConst()
	if c == nil || c.GetSval() == nil {
		return "", false
	}
	return c.GetSval().GetSval(), true
}

// parseExprList parses "a, b" into expression nodes.
func parseExprList(list string) ([]*pg_query.Node, error) {
	tree, err := pg_query.Parse("SELECT " + list)
	if err != nil {
		return nil, fmt.Errorf("parse %q: %w", list, err)
	}
	var out []*pg_query.Node
	for _, t := range tree.Stmts[0].Stmt.GetSelectStmt().GetTargetList() {
		out = append(out, t.GetResTarget().GetVal())
	}
	return out, nil
}

var transformationColumns = []column{
	{name: "training_dataset", t: duckdb.TYPE_VARCHAR}, {name: "version", t: duckdb.TYPE_BIGINT},
	{name: "feature", t: duckdb.TYPE_VARCHAR}, {name: "function", t: duckdb.TYPE_VARCHAR},
	{name: "parameters", t: duckdb.TYPE_VARCHAR}, // JSON
	{name: "min", t: duckdb.TYPE_DOUBLE}, {name: "max", t: duckdb.TYPE_DOUBLE},
	{name: "mean", t: duckdb.TYPE_DOUBLE}, {name: "stddev", t: duckdb.TYPE_DOUBLE},
	{name: "categories", t: duckdb.TYPE_VARCHAR, list: true},
}

// transformationRows lists the fitted transforms of every training
// dataset version.
func (e *Engine) transformationRows(project string) []map[string]any {
	var out []map[string]any
	for _, td := range e.catalog.TrainingDatasets(project) {
		for _, tr := range td.Transforms {
			var params any
			switch {
			case tr.Min != nil:
				params = map[string]float64{"min": *tr.Min, "max": *tr.Max}
			case tr.Mean != nil:
				params = map[string]float64{"mean": *tr.Mean, "stddev": *tr.Stddev}
			default:
				params = map[string][]string{"categories": tr.Categories}
			}
			b, _ := json.Marshal(params)
			var cats any
			if tr.Categories != nil {
				l := make([]any, len(tr.Categories))
				for i, c := range tr.Categories {
					l[i] = c
				}
				cats = l
			}
			out = append(out, map[string]any{"training_dataset": td.Name, "version": int64(td.Version), "feature": tr.Feature,
				"function": tr.Function, "parameters": string(b), "min": nilFloat(tr.Min), "max": nilFloat(tr.Max),
				"mean": nilFloat(tr.Mean), "stddev": nilFloat(tr.Stddev), "categories": cats})
		}
	}
	return out
}

// servedTransform is a fitted transform in an online lookup's select list,
// applied to the looked-up value without DuckDB.
type servedTransform struct {
	function, dataset, feature string
}

// servedTransformOf recognises f(column, 'dataset' [, 'feature']) and
// returns the column; nil for anything else.
func servedTransformOf(fc *pg_query.FuncCall) (*servedTransform, *pg_query.Node) {
	if len(fc.Funcname) != 1 || len(fc.Args) < 2 || len(fc.Args) > 3 || fc.AggStar || fc.Over != nil || fc.AggFilter != nil {
		return nil, nil
	}
	name := strings.ToLower(fc.Funcname[0].GetString_().GetSval())
	if _, ok := transformFunctions[name]; !ok {
		return nil, nil
	}
	parts := columnRefParts(fc.Args[0])
	ds, ok := stringConst(fc.Args[1])
	if len(parts) == 0 || parts[len(parts)-1] == "*" || !ok {
		return nil, nil
	}
	tr := &servedTransform{function: name, dataset: ds, feature: parts[len(parts)-1]}
	if len(fc.Args) == 3 {
		if tr.feature, ok = stringConst(fc.Args[2]); !ok {
			return nil, nil
		}
	}
	return tr, fc.Args[0]
}

// applyServed applies a lookup's fitted transforms to a result row in
// place, exactly as the SQL functions compute them; false when one cannot
// be (DuckDB answers then).
func (s *Session) applyServed(plan *onlinePlan, fitted []catalog.Transform, r []driver.Value) bool {
	for i, st := range plan.trans {
		if st == nil {
			continue
		}
		v, ok := applyTransform(fitted[i], r[i])
		if !ok {
			return false
		}
		r[i] = v
	}
	return true
}

// fittedFor finds the parameters of a lookup's transforms, once per
// execution; false when one is not there (DuckDB answers then).
func (s *Session) fittedFor(plan *onlinePlan) ([]catalog.Transform, bool) {
	var out []catalog.Transform
	for i, st := range plan.trans {
		if st == nil {
			continue
		}
		if out == nil {
			out = make([]catalog.Transform, len(plan.trans))
		}
		tr, _, err := s.fittedTransform(st.dataset, st.function, st.feature)
		if err != nil {
			return nil, false
		}
		out[i] = tr
	}
	return out, true
}

// applyTransform computes a fitted transform of one value as the SQL
// macros do, for the value types whose conversion both agree on.
func applyTransform(tr catalog.Transform, v driver.Value) (driver.Value, bool) {
	if v == nil {
		return nil, true
	}
	switch tr.Function {
	case "min_max_scale", "standard_scale":
		var x float64
		switch n := v.(type) {
		case float64:
			x = n
		case float32:
			x = float64(n)
		case int64:
			x = float64(n)
		case int32:
			x = float64(n)
		case int16:
			x = float64(n)
		case int8:
			x = float64(n)
		default:
			return nil, false
		}
		if tr.Function == "min_max_scale" {
			if *tr.Max == *tr.Min {
				return float64(0), true
			}
			return (x - *tr.Min) / (*tr.Max - *tr.Min), true
		}
		if *tr.Stddev == 0 {
			return float64(0), true
		}
		return (x - *tr.Mean) / *tr.Stddev, true
	}
	var text string
	switch x := v.(type) {
	case string:
		text = x
	case int64:
		text = strconv.FormatInt(x, 10)
	case int32:
		text = strconv.FormatInt(int64(x), 10)
	case int16:
		text = strconv.FormatInt(int64(x), 10)
	case int8:
		text = strconv.FormatInt(int64(x), 10)
	case bool:
		text = strconv.FormatBool(x)
	default:
		return nil, false
	}
	if tr.Function == "label_encode" {
		for i, c := range tr.Categories {
			if c == text {
				return int64(i), true
			}
		}
		return nil, true
	}
	hot := make([]any, len(tr.Categories))
	for i, c := range tr.Categories {
		hot[i] = int32(0)
		if c == text {
			hot[i] = int32(1)
		}
	}
	return hot, true
}
