package pgcatalog

import (
	"fmt"
	"strconv"
	"strings"

	pg_query "github.com/pganalyze/pg_query_go/v6"

	"github.com/hopsql/hopsql/udf/jsonb"

	"github.com/hopsql/hopsql/engine/pgerr"
	"github.com/hopsql/hopsql/engine/pgtypes"
)

// ourFunctions are the PostgreSQL functions implemented as macros in
// sql/40_functions.sql; calls to them, qualified with pg_catalog or not, are
// sent to hopsql_catalog.main. (Helpers such as pg_div or regclass_in are
// reached only through other rewrites.)
var ourFunctions = map[string]bool{
	"pg_get_userbyid": true, "pg_encoding_to_char": true, "format_type": true, "pg_get_expr": true,
	"pg_type_is_visible": true, "pg_function_is_visible": true, "pg_get_indexdef": true,
	"pg_get_constraintdef": true, "pg_get_viewdef": true, "obj_description": true, "col_description": true,
	"shobj_description": true, "pg_get_function_result": true, "pg_get_function_arguments": true,
	"pg_get_function_identity_arguments": true, "pg_relation_is_publishable": true,
	"pg_get_statisticsobjdef_columns": true, "pg_get_partkeydef": true, "pg_get_triggerdef": true,
	"pg_get_ruledef": true, "pg_get_serial_sequence": true, "pg_is_in_recovery": true,
	"pg_relation_size": true, "pg_total_relation_size": true, "pg_table_size": true, "pg_indexes_size": true,
	"pg_database_size": true, "pg_size_pretty": true, "array_upper": true, "array_lower": true,
	"quote_ident": true,
}

// renamedFunctions are PostgreSQL functions DuckDB has under another name.
var renamedFunctions = map[string]string{
	"btrim": "trim", // trim(both 'x' from s) parses as btrim(s, 'x')
}

// infoSchemaViews maps information_schema views to hopsql_catalog's
// PostgreSQL-typed versions (DuckDB's own report DuckDB type names).
var infoSchemaViews = map[string]string{
	"tables":   "information_schema_tables",
	"columns":  "information_schema_columns",
	"schemata": "information_schema_schemata",
	"views":    "information_schema_views",
}

// funcCall rewrites one function call outside FROM. It returns whether the
// walk should descend into n.
func (r *rewriter) funcCall(n *pg_query.Node, fc *pg_query.FuncCall) bool {
	schema, name, ok := funcName(fc)
	if !ok {
		return true
	}
	if schema != "" && schema != "pg_catalog" && !(schema == "information_schema" && name == "_pg_expandarray") {
		return true
	}
	if handled, descend := r.builtin(n, fc, name); handled {
		return descend
	}
	switch {
	case name == "current_setting":
		r.currentSetting(n, fc)
	case name == "set_config":
		r.setConfig(n, fc)
	case name == "version" && len(fc.Args) == 0:
		r.replace(n, strConst(r.version()))
	case (name == "current_database" || name == "current_catalog") && len(fc.Args) == 0:
		r.replace(n, strConst(r.env.Database()))
	case (name == "current_user" || name == "session_user") && len(fc.Args) == 0:
		r.replace(n, strConst(r.env.User()))
	case name == "current_schema" && len(fc.Args) == 0:
		r.replace(n, strConst(r.currentSchema()))
	case name == "current_schemas" && len(fc.Args) == 1:
		implicit := true
		if b := fc.Args[0].GetAConst().GetBoolval(); b != nil {
			implicit = b.Boolval
		}
		r.replace(n, strArray(r.schemas(implicit)))
	case strings.HasPrefix(name, "has_") && strings.HasSuffix(name, "_privilege"):
		// hopsql has no per-object privileges: whoever is connected may do everything.
		r.replace(n, boolConst(true))
	case name == "pg_table_is_visible" && len(fc.Args) == 1:
		fc.Funcname = ourName(name)
		fc.Args = append(fc.Args, strArray(r.schemas(true)))
		r.changed = true
	case name == "_pg_expandarray" && len(fc.Args) == 1:
		fc.Funcname = ourName("pg_expandarray")
		r.replace(n, makeFunc([]string{"unnest"}, &pg_query.Node{Node: &pg_query.Node_FuncCall{FuncCall: fc}}))
		return r.walkArgs(fc)
	case name == "pg_typeof" && typeofAsRegtype(n):
		// Not printed here (see resTarget): the oid, as a regtype compares.
		r.typeCast(n, n.GetTypeCast())
		r.changed = true
		return r.walkArgs(fc)
	case name == "generate_series":
		// In a select list PostgreSQL returns rows; DuckDB's scalar
		// generate_series returns one list.
		if schema != "" {
			fc.Funcname = fc.Funcname[1:]
		}
		set := makeFunc([]string{"unnest"}, &pg_query.Node{Node: &pg_query.Node_FuncCall{FuncCall: fc}})
		if int4Args(fc.Args) {
			set = makeCast(set, typeName("integer", false), -1)
		}
		r.replace(n, set)
		// The wrapped call must not be visited again (it would be wrapped again).
		return r.walkArgs(fc)
	case ourFunctions[name]:
		fc.Funcname = ourName(name)
		r.changed = true
	case renamedFunctions[name] != "":
		fc.Funcname = []*pg_query.Node{pg_query.MakeStrNode(renamedFunctions[name])}
		r.changed = true
	case schema == "pg_catalog":
		fc.Funcname = fc.Funcname[1:]
		r.changed = true
	}
	return true
}

// unnestMany is unnest(a, b, …) in FROM: the arrays side by side, the
// shorter ones padded with NULLs (bulk inserts send columns so: INSERT …
// SELECT * FROM unnest($1::int[], $2::text[])). DuckDB's unnest takes one
// list, but unnests in one select list run side by side and pad the same
// way: (SELECT unnest(a) AS c1, unnest(b) AS c2) AS alias.
func (r *rewriter) unnestMany(n *pg_query.Node, rf *pg_query.RangeFunction, fc *pg_query.FuncCall) {
	w := walker{node: r.node, rangeVar: r.dmlRangeVar}
	w.walkFuncCall(fc)
	alias := rf.Alias
	if alias == nil {
		alias = &pg_query.Alias{Aliasname: "unnest"}
	}
	sel := &pg_query.SelectStmt{}
	for i, a := range fc.Args {
		name := "unnest"
		if i < len(alias.Colnames) {
			name = alias.Colnames[i].GetString_().GetSval()
		} else if len(fc.Args) > 1 {
			// PostgreSQL names them all unnest; a subquery needs them apart.
			name = fmt.Sprintf("unnest_%d", i+1)
		}
		sel.TargetList = append(sel.TargetList, &pg_query.Node{Node: &pg_query.Node_ResTarget{ResTarget: &pg_query.ResTarget{
			Name: name, Val: makeFunc([]string{"unnest"}, a), Location: -1}}})
	}
	out := &pg_query.Alias{Aliasname: alias.Aliasname}
	n.Node = &pg_query.Node_RangeSubselect{RangeSubselect: &pg_query.RangeSubselect{Lateral: rf.Lateral,
		Subquery: &pg_query.Node{Node: &pg_query.Node_SelectStmt{SelectStmt: sel}}, Alias: out}}
	r.changed = true
}

// jsonbCast stores a value cast to jsonb as jsonb_in would (sorted,
// deduplicated keys, numbers as numeric; udf/jsonb): a string constant
// here, anything else through hop_jsonb_in. DuckDB's JSON keeps text as
// given. A constant that is not JSON is left to DuckDB's cast to refuse.
func (r *rewriter) jsonbCast(n *pg_query.Node, tc *pg_query.TypeCast) bool {
	if c := tc.Arg.GetAConst(); c != nil {
		if c.Isnull || c.GetSval() == nil {
			return false
		}
		out, err := jsonb.Append(nil, c.GetSval().GetSval(), nil)
		if err != nil {
			return false
		}
		c.Val = &pg_query.A_Const_Sval{Sval: &pg_query.String{Sval: string(out)}}
		r.changed = true
		return false // the type name is still to be fixed
	}
	if tc.Arg.GetParamRef() != nil {
		return false // a parameter's type is the cast's: keep it visible
	}
	in := makeFunc([]string{"hop_jsonb_in"}, makeCast(tc.Arg, typeName("varchar", false), -1))
	r.replace(n, makeCast(in, typeName("json", false), -1))
	return true
}

// int4Args reports whether generate_series's arguments are visibly int4
// (integer literals, casts to int4 or int2), so that PostgreSQL's result
// is a set of integer.
func int4Args(args []*pg_query.Node) bool {
	if len(args) != 2 && len(args) != 3 {
		return false
	}
	for _, a := range args {
		if c := a.GetAConst(); c != nil && c.GetIval() != nil {
			continue
		}
		if tc := a.GetTypeCast(); tc != nil {
			if _, name := typeNameParts(tc.TypeName); (name == "int4" || name == "int2") && len(tc.TypeName.ArrayBounds) == 0 {
				continue
			}
		}
		return false
	}
	return true
}

// walkArgs walks a call's arguments (and the rest of its clauses) itself,
// for calls that were wrapped and must not be visited a second time.
func (r *rewriter) walkArgs(fc *pg_query.FuncCall) bool {
	w := walker{node: r.node, rangeVar: r.dmlRangeVar}
	w.walkFuncCall(fc)
	return false
}

// rangeFunction handles functions in FROM. PostgreSQL names the single
// column of generate_series(…) AS s after the alias; DuckDB keeps
// "generate_series", so the alias gets an explicit column list.
func (r *rewriter) rangeFunction(n *pg_query.Node, rf *pg_query.RangeFunction) bool {
	for _, item := range rf.Functions {
		l := item.GetList()
		if l == nil || len(l.Items) == 0 {
			continue
		}
		fc := l.Items[0].GetFuncCall()
		if fc == nil {
			continue
		}
		schema, name, ok := funcName(fc)
		if ok && schema == "pg_catalog" {
			fc.Funcname = fc.Funcname[1:]
			r.changed = true
		}
		if ok && (schema == "" || schema == "pg_catalog") && len(rf.Functions) == 1 && r.jsonSetFunction(n, rf, fc, name) {
			return false
		}
		if ok && (schema == "" || schema == "pg_catalog") && len(rf.Functions) == 1 && name == "unnest" &&
			len(fc.Args) > 1 && !rf.Ordinality && fc.AggOrder == nil {
			r.unnestMany(n, rf, fc)
			return false
		}
		if ok && (schema == "" || schema == "pg_catalog") && len(rf.Functions) == 1 && name == "regexp_matches" &&
			(len(fc.Args) == 2 || len(fc.Args) == 3) {
			// Its rows come from unnesting the list of matches; the column
			// keeps PostgreSQL's name.
			fc.Args = []*pg_query.Node{regexpMatchesCall(fc.Args)}
			fc.Funcname = []*pg_query.Node{pg_query.MakeStrNode("unnest")}
			if rf.Alias == nil {
				rf.Alias = &pg_query.Alias{Aliasname: "regexp_matches"}
			}
			name = "unnest"
			r.changed = true
		}
		if ok && (schema == "" || schema == "pg_catalog") && len(rf.Functions) == 1 &&
			(name == "generate_series" || name == "unnest") && rf.Alias != nil && len(rf.Alias.Colnames) == 0 {
			rf.Alias.Colnames = []*pg_query.Node{pg_query.MakeStrNode(rf.Alias.Aliasname)}
			r.changed = true
		}
		if ok && (schema == "" || schema == "pg_catalog") && name == "generate_series" && int4Args(fc.Args) && !rf.Ordinality {
			macro := "pg_generate_series_int4"
			if len(fc.Args) == 3 {
				macro += "_step"
			}
			fc.Funcname = []*pg_query.Node{pg_query.MakeStrNode(catalogDB), pg_query.MakeStrNode("main"), pg_query.MakeStrNode(macro)}
			r.changed = true
		}
		w := walker{node: r.node, rangeVar: r.dmlRangeVar}
		w.walkFuncCall(fc)
	}
	return false
}

// currentSetting folds current_setting('name'[, missing_ok]) to a constant.
func (r *rewriter) currentSetting(n *pg_query.Node, fc *pg_query.FuncCall) {
	if len(fc.Args) < 1 || len(fc.Args) > 2 {
		return
	}
	name, ok := constString(fc.Args[0])
	if !ok {
		return
	}
	missingOK := false
	if len(fc.Args) == 2 {
		b := fc.Args[1].GetAConst().GetBoolval()
		if b == nil {
			return
		}
		missingOK = b.Boolval
	}
	v, found := r.env.Setting(name)
	switch {
	case found:
		r.replace(n, strConst(v))
	case missingOK:
		r.replace(n, nullConst())
	default:
		r.err = pgerr.New(pgerr.UndefinedObject, "unrecognized configuration parameter %q", name)
	}
}

// setConfig performs set_config(name, value, is_local) while rewriting and
// leaves the new value, which is what set_config returns.
func (r *rewriter) setConfig(n *pg_query.Node, fc *pg_query.FuncCall) {
	if len(fc.Args) != 3 {
		return
	}
	name, ok1 := constString(fc.Args[0])
	value, ok2 := constString(fc.Args[1])
	local := fc.Args[2].GetAConst().GetBoolval()
	if !ok1 || !ok2 || local == nil {
		return
	}
	if err := r.env.SetSetting(name, value, local.Boolval); err != nil {
		r.err = err
		return
	}
	if v, ok := r.env.Setting(name); ok {
		value = v
	}
	r.replace(n, strConst(value))
}

func (r *rewriter) version() string {
	v, _ := r.env.Setting("server_version")
	if v == "" {
		v = "15.18"
	}
	return "PostgreSQL " + v + " on x86_64-pc-linux-gnu, compiled by Go, 64-bit"
}

// schemas is current_schemas(implicit): the search path's schemas, with
// pg_catalog first when implicit is set and the path does not name it.
// "$user" is dropped: hopsql creates no per-user schemas.
func (r *rewriter) schemas(implicit bool) []string {
	if r.path == nil {
		sp, ok := r.env.Setting("search_path")
		if !ok {
			sp = `"$user", public`
		}
		hasCatalog := false
		var list []string
		for _, s := range strings.Split(sp, ",") {
			s = strings.TrimSpace(s)
			if unq, ok := strings.CutPrefix(s, `"`); ok {
				s = strings.ReplaceAll(strings.TrimSuffix(unq, `"`), `""`, `"`)
			} else {
				s = strings.ToLower(s)
			}
			if s == "" || s == "$user" {
				continue
			}
			if s == "pg_catalog" {
				hasCatalog = true
			}
			list = append(list, s)
		}
		if !hasCatalog {
			list = append([]string{"pg_catalog"}, list...)
		}
		r.path = list
	}
	if !implicit && len(r.path) > 0 && r.path[0] == "pg_catalog" {
		return r.path[1:]
	}
	return r.path
}

func (r *rewriter) currentSchema() string {
	if s := r.schemas(false); len(s) > 0 {
		return s[0]
	}
	return ""
}

// funcName splits a function name into schema and name; ok is false for
// names with a catalog part (already rewritten, or another database's).
func funcName(fc *pg_query.FuncCall) (schema, name string, ok bool) {
	switch len(fc.Funcname) {
	case 1:
		return "", fc.Funcname[0].GetString_().GetSval(), true
	case 2:
		return fc.Funcname[0].GetString_().GetSval(), fc.Funcname[1].GetString_().GetSval(), true
	}
	return "", "", false
}

func ourName(name string) []*pg_query.Node {
	return []*pg_query.Node{pg_query.MakeStrNode(catalogDB), pg_query.MakeStrNode("main"), pg_query.MakeStrNode(name)}
}

func makeFunc(names []string, args ...*pg_query.Node) *pg_query.Node {
	fn := make([]*pg_query.Node, len(names))
	for i, s := range names {
		fn[i] = pg_query.MakeStrNode(s)
	}
	return pg_query.MakeFuncCallNode(fn, args, -1)
}

func strConst(s string) *pg_query.Node { return pg_query.MakeAConstStrNode(s, -1) }

func intConst(i int64) *pg_query.Node { return pg_query.MakeAConstIntNode(i, -1) }

func boolConst(b bool) *pg_query.Node {
	return &pg_query.Node{Node: &pg_query.Node_AConst{AConst: &pg_query.A_Const{
		Val: &pg_query.A_Const_Boolval{Boolval: &pg_query.Boolean{Boolval: b}}, Location: -1}}}
}

func nullConst() *pg_query.Node {
	return &pg_query.Node{Node: &pg_query.Node_AConst{AConst: &pg_query.A_Const{Isnull: true, Location: -1}}}
}

func strArray(items []string) *pg_query.Node {
	elems := make([]*pg_query.Node, len(items))
	for i, s := range items {
		elems[i] = strConst(s)
	}
	// An empty ARRAY[] needs a type in DuckDB as in PostgreSQL.
	arr := &pg_query.Node{Node: &pg_query.Node_AArrayExpr{AArrayExpr: &pg_query.A_ArrayExpr{Elements: elems, Location: -1}}}
	return makeCast(arr, typeName("varchar", true), -1)
}

// sqlTypeNames are the pg_catalog names the deparser prints as SQL keywords
// (pg_catalog.int8 → bigint), which DuckDB reads back.
var sqlTypeNames = map[string]string{"bigint": "int8", "varchar": "varchar", "smallint": "int2"}

// typeName is a type name DuckDB understands once deparsed.
func typeName(name string, array bool) *pg_query.TypeName {
	tn := &pg_query.TypeName{Names: []*pg_query.Node{pg_query.MakeStrNode(name)}, Typemod: -1, Location: -1}
	if internal, ok := sqlTypeNames[name]; ok {
		tn.Names = []*pg_query.Node{pg_query.MakeStrNode("pg_catalog"), pg_query.MakeStrNode(internal)}
	}
	if array {
		tn.ArrayBounds = []*pg_query.Node{intConst(-1)}
	}
	return tn
}

// constString returns the value of a string constant, also under a cast to
// text (psql sends 'x'::pg_catalog.text at times).
func constString(n *pg_query.Node) (string, bool) {
	if tc := n.GetTypeCast(); tc != nil {
		n = tc.Arg
	}
	c := n.GetAConst()
	if c == nil || c.GetSval() == nil {
		return "", false
	}
	return c.GetSval().GetSval(), true
}

// pgArrayToList turns a PostgreSQL array literal '{1,2}' into DuckDB's '[1,2]'.
func pgArrayToList(s string) string {
	return "[" + strings.TrimSuffix(strings.TrimPrefix(s, "{"), "}") + "]"
}

func isArrayLiteral(n *pg_query.Node) *pg_query.A_Const {
	c := n.GetAConst()
	if c == nil {
		return nil
	}
	s := c.GetSval().GetSval()
	if len(s) >= 2 && s[0] == '{' && s[len(s)-1] == '}' {
		return c
	}
	return nil
}

// nonZeroConst reports whether n is a numeric literal other than zero, the
// divisors for which no division_by_zero check is needed.
func nonZeroConst(n *pg_query.Node) bool {
	c := n.GetAConst()
	if c == nil {
		return false
	}
	switch v := c.Val.(type) {
	case *pg_query.A_Const_Ival:
		return v.Ival.GetIval() != 0
	case *pg_query.A_Const_Fval:
		f, err := strconv.ParseFloat(v.Fval.GetFval(), 64)
		return err == nil && f != 0
	}
	return false
}

// aExpr rewrites operators whose meaning differs between the systems.
func (r *rewriter) aExpr(n *pg_query.Node, e *pg_query.A_Expr) {
	if e.Kind == pg_query.A_Expr_Kind_AEXPR_LIKE || e.Kind == pg_query.A_Expr_Kind_AEXPR_ILIKE {
		r.like(n, e)
		return
	}
	if (e.Kind == pg_query.A_Expr_Kind_AEXPR_OP_ANY || e.Kind == pg_query.A_Expr_Kind_AEXPR_OP_ALL) && r.likeAny(n, e) {
		return
	}
	if e.Kind == pg_query.A_Expr_Kind_AEXPR_BETWEEN_SYM || e.Kind == pg_query.A_Expr_Kind_AEXPR_NOT_BETWEEN_SYM {
		r.betweenSymmetric(e)
		return
	}
	if e.Kind != pg_query.A_Expr_Kind_AEXPR_OP || len(e.Name) == 0 || len(e.Name) > 2 {
		return
	}
	op := e.Name[len(e.Name)-1].GetString_().GetSval()
	qualified := len(e.Name) == 2
	if qualified && e.Name[0].GetString_().GetSval() != "pg_catalog" {
		return
	}
	binary := e.Lexpr != nil && e.Rexpr != nil
	if binary && r.jsonOperator(n, e, op) {
		return
	}
	if binary && (op == "+" || op == "-" || op == "*" || op == "/" || op == "%") && !r.unknownOperand(e) {
		return
	}
	// Operators DuckDB lacks: # (xor), and the prefix |/ and ||/ (roots).
	switch {
	case binary && op == "#":
		r.replace(n, makeFunc([]string{"xor"}, e.Lexpr, e.Rexpr))
		return
	case e.Lexpr == nil && e.Rexpr != nil && (op == "|/" || op == "||/"):
		fn := "sqrt"
		if op == "||/" {
			fn = "cbrt"
		}
		r.replace(n, makeFunc([]string{fn}, e.Rexpr))
		return
	}
	switch {
	case binary && (op == "~" || op == "~*" || op == "!~" || op == "!~*"):
		// PostgreSQL's ~ finds a match anywhere; DuckDB's ~ must match the whole string.
		if !r.checkRegex(e.Rexpr) {
			return
		}
		args := []*pg_query.Node{e.Lexpr, e.Rexpr}
		if strings.HasSuffix(op, "*") {
			args = append(args, strConst("i"))
		}
		call := makeFunc([]string{"regexp_matches"}, args...)
		if op[0] == '!' {
			call = pg_query.MakeBoolExprNode(pg_query.BoolExprType_NOT_EXPR, []*pg_query.Node{call}, -1)
		}
		r.replace(n, call)
	case binary && (op == "~~" || op == "!~~"):
		e.Kind, e.Name = pg_query.A_Expr_Kind_AEXPR_LIKE, []*pg_query.Node{pg_query.MakeStrNode(op)}
		r.changed = true
		r.like(n, e)
	case binary && (op == "~~*" || op == "!~~*"):
		e.Kind, e.Name = pg_query.A_Expr_Kind_AEXPR_ILIKE, []*pg_query.Node{pg_query.MakeStrNode(op)}
		r.changed = true
		r.like(n, e)
	case binary && op == "/" && isIntervalCast(e.Lexpr):
		// DuckDB cannot divide an interval.
		r.replace(n, makeFunc([]string{catalogDB, "main", "pg_interval_div"}, e.Lexpr, e.Rexpr))
	case binary && (op == "/" || op == "%"):
		if nonZeroConst(e.Rexpr) {
			if qualified {
				e.Name = e.Name[1:]
				r.changed = true
			}
			return
		}
		fn := "pg_div"
		if op == "%" {
			fn = "pg_mod"
		}
		r.replace(n, makeFunc([]string{catalogDB, "main", fn}, e.Lexpr, e.Rexpr))
	default:
		if binary && (op == "=" || op == "<>") {
			if c := isArrayLiteral(e.Rexpr); c != nil {
				r.arrayLits = append(r.arrayLits, c)
			} else if c := isArrayLiteral(e.Lexpr); c != nil {
				r.arrayLits = append(r.arrayLits, c)
			}
		}
		if qualified {
			e.Name = e.Name[1:]
			r.changed = true
		}
	}
}

// deparsedTypes are the pg_catalog types the deparser prints in SQL syntax
// (pg_catalog.int4 → int); other pg_catalog-qualified names lose the qualifier.
var deparsedTypes = map[string]bool{
	"bpchar": true, "varchar": true, "numeric": true, "bool": true, "int2": true, "int4": true, "int8": true,
	"float4": true, "float8": true, "time": true, "timetz": true, "timestamp": true, "timestamptz": true,
	"interval": true, "bit": true, "varbit": true,
}

// castTypes are PostgreSQL types DuckDB lacks, with the DuckDB type the
// catalog stores them as (see duckType in relations.go).
var castTypes = map[string]string{
	"oid": "bigint", "xid": "bigint", "cid": "bigint", "xid8": "bigint", "regoper": "bigint",
	"regoperator": "bigint", "regconfig": "bigint", "regdictionary": "bigint", "regcollation": "bigint",
	"name": "varchar", "char": "varchar", "pg_node_tree": "varchar", "aclitem": "varchar", "pg_lsn": "varchar",
	"regprocedure": "varchar", "regproc": "varchar", "int2vector": "smallint[]", "oidvector": "bigint[]",
}

// typeofAsRegtype turns a pg_typeof(x) call into the regtype value it
// returns: the oid of the PostgreSQL type hopsql reports for x's DuckDB
// type, cast to regtype, so that it prints as that type's name where a
// regtype would (a select list, ::text) and compares as an oid elsewhere.
// DuckDB's own pg_typeof names DuckDB's types (hugeint, double). false
// when n is not such a call.
func typeofAsRegtype(n *pg_query.Node) bool {
	fc := n.GetFuncCall()
	if fc == nil || len(fc.Args) != 1 || fc.AggStar || fc.Over != nil {
		return false
	}
	if schema, name, ok := funcName(fc); !ok || name != "pg_typeof" || schema != "" && schema != "pg_catalog" {
		return false
	}
	oid := makeFunc([]string{catalogDB, "main", "hop_type_oid"}, makeFunc([]string{"typeof"}, fc.Args[0]))
	n.Node = makeCast(oid, typeName("regtype", false), fc.Location).Node
	return true
}

// regKind returns the reg* type a cast targets, or "".
func regKind(tn *pg_query.TypeName) string {
	schema, name := typeNameParts(tn)
	if schema != "" && schema != "pg_catalog" || len(tn.GetArrayBounds()) > 0 {
		return ""
	}
	switch name {
	case "regclass", "regtype", "regnamespace", "regproc", "regprocedure", "regrole":
		return name
	}
	return ""
}

func typeNameParts(tn *pg_query.TypeName) (schema, name string) {
	if tn == nil {
		return "", ""
	}
	switch len(tn.Names) {
	case 1:
		return "", tn.Names[0].GetString_().GetSval()
	case 2:
		return tn.Names[0].GetString_().GetSval(), tn.Names[1].GetString_().GetSval()
	}
	return "?", ""
}

// typeCast rewrites casts to PostgreSQL-only types.
func (r *rewriter) typeCast(n *pg_query.Node, tc *pg_query.TypeCast) {
	schema, name := typeNameParts(tc.TypeName)
	if schema != "" && schema != "pg_catalog" {
		return
	}
	if kind := regKind(tc.TypeName); kind != "" {
		r.regCast(n, tc, kind, false)
		return
	}
	if len(tc.TypeName.GetArrayBounds()) > 0 {
		// '{1,2}'::int[]: PostgreSQL's array literal, which DuckDB does
		// not read from text.
		if c := tc.Arg.GetAConst(); c != nil && c.GetSval() != nil {
			lit, dims, err := ArrayLiteral(c.GetSval().GetSval())
			if err != nil {
				r.err = err
				return
			}
			tc.Arg = lit
			for len(tc.TypeName.ArrayBounds) < dims {
				tc.TypeName.ArrayBounds = append(tc.TypeName.ArrayBounds, &pg_query.Node{Node: &pg_query.Node_Integer{Integer: &pg_query.Integer{Ival: -1}}})
			}
			r.changed = true
		}
	}
	if r.lengthCast(n, tc, name) || r.castLiteral(n, tc, name) {
		return
	}
	// x::regclass::text prints the name.
	if name == "text" || name == "varchar" || name == "name" {
		if typeofAsRegtype(tc.Arg) {
			r.changed = true
		}
		if inner := tc.Arg.GetTypeCast(); inner != nil {
			if kind := regKind(inner.TypeName); kind != "" {
				r.regCast(tc.Arg, inner, kind, true)
			}
		}
	}
	if duck, ok := castTypes[name]; ok {
		// Only "char" in quotes names the one-byte type; char(n) is bpchar.
		array := len(tc.TypeName.ArrayBounds) > 0
		base := strings.TrimSuffix(duck, "[]")
		tc.TypeName = typeName(base, array || base != duck)
		r.changed = true
		return
	}
	if schema == "pg_catalog" && !deparsedTypes[name] {
		tc.TypeName.Names = tc.TypeName.Names[1:]
		r.changed = true
	}
}

// lengthCast rewrites an explicit cast to varchar(n) or char(n), which
// PostgreSQL truncates to n characters ('abcd'::varchar(2) is 'ab') and
// DuckDB's VARCHAR ignores, to substr(CAST(x AS VARCHAR), 1, n). char(n)
// is not padded: DuckDB compares trailing spaces, PostgreSQL's bpchar
// does not, and unpadded values compare as PostgreSQL's do.
func (r *rewriter) lengthCast(n *pg_query.Node, tc *pg_query.TypeCast, name string) bool {
	if (name != "varchar" && name != "bpchar") || len(tc.TypeName.Typmods) != 1 || len(tc.TypeName.ArrayBounds) > 0 {
		return false
	}
	l := tc.TypeName.Typmods[0].GetAConst().GetIval()
	if l == nil || l.Ival <= 0 {
		return false
	}
	n.Node = &pg_query.Node_FuncCall{FuncCall: &pg_query.FuncCall{
		Funcname: []*pg_query.Node{pg_query.MakeStrNode("substr")},
		Args: []*pg_query.Node{
			{Node: &pg_query.Node_TypeCast{TypeCast: &pg_query.TypeCast{Arg: tc.Arg, TypeName: typeName("varchar", false), Location: -1}}},
			pg_query.MakeAConstIntNode(1, -1),
			pg_query.MakeAConstIntNode(int64(l.Ival), -1),
		},
		Funcformat: pg_query.CoercionForm_COERCE_EXPLICIT_CALL,
		Location:   tc.Location,
	}}
	r.changed = true
	return true
}

// regCast rewrites x::regclass and its kin. Constants are looked up (by
// name → oid); in output positions the oid is printed as a name.
func (r *rewriter) regCast(n *pg_query.Node, tc *pg_query.TypeCast, kind string, output bool) {
	s, isConst := constString(tc.Arg)
	var val *pg_query.Node
	switch kind {
	case "regclass":
		if isConst {
			nsp, rel, err := splitQualified(s)
			if err != nil {
				r.err = err
				return
			}
			nspNode := nullConst()
			if nsp != "" {
				nspNode = strConst(nsp)
			}
			val = makeFunc([]string{catalogDB, "main", "regclass_in"}, nspNode, strConst(rel), strArray(r.schemas(true)))
		} else {
			val = tc.Arg
		}
		if output {
			val = makeFunc([]string{catalogDB, "main", "regclass_out"}, val, strArray(r.schemas(true)))
		} else if !isConst {
			val = makeCast(val, typeName("bigint", false), -1)
		}
	case "regtype":
		if isConst {
			oid, err := lookupType(s)
			if err != nil {
				r.err = err
				return
			}
			val = intConst(int64(oid))
		} else {
			val = tc.Arg
		}
		if output {
			val = makeFunc([]string{catalogDB, "main", "regtype_out"}, val)
		} else if !isConst {
			val = makeCast(val, typeName("bigint", false), -1)
		}
	case "regnamespace":
		if isConst {
			_, nsp, err := splitQualified(s)
			if err != nil {
				r.err = err
				return
			}
			val = makeFunc([]string{catalogDB, "main", "regnamespace_in"}, strConst(nsp))
		} else {
			val = tc.Arg
		}
		if output {
			val = makeFunc([]string{catalogDB, "main", "regnamespace_out"}, val)
		} else if !isConst {
			val = makeCast(val, typeName("bigint", false), -1)
		}
	case "regrole":
		if output && !isConst {
			val = makeFunc([]string{catalogDB, "main", "regrole_out"}, tc.Arg)
		} else if isConst {
			val = strConst(s) // compared with names only in practice
		} else {
			val = makeCast(tc.Arg, typeName("bigint", false), -1)
		}
	default: // regproc, regprocedure: stored as the function's name
		if isConst {
			_, fn, err := splitQualified(strings.SplitN(s, "(", 2)[0])
			if err != nil {
				r.err = err
				return
			}
			val = strConst(fn)
		} else {
			val = makeCast(tc.Arg, typeName("varchar", false), -1)
		}
	}
	r.replace(n, val)
}

// splitQualified splits "schema.name" the way PostgreSQL reads identifiers:
// unquoted parts fold to lower case, "quoted" parts keep their case.
func splitQualified(s string) (schema, name string, err error) {
	var parts []string
	i := 0
	for {
		var part strings.Builder
		if i < len(s) && s[i] == '"' {
			i++
			for {
				if i >= len(s) {
					return "", "", pgerr.New(pgerr.InvalidTextRepresentation, "invalid name syntax")
				}
				if s[i] == '"' {
					if i+1 < len(s) && s[i+1] == '"' {
						part.WriteByte('"')
						i += 2
						continue
					}
					i++
					break
				}
				part.WriteByte(s[i])
				i++
			}
		} else {
			j := strings.IndexByte(s[i:], '.')
			if j < 0 {
				j = len(s) - i
			}
			part.WriteString(strings.ToLower(strings.TrimSpace(s[i : i+j])))
			i += j
		}
		parts = append(parts, part.String())
		if i >= len(s) {
			break
		}
		if s[i] != '.' {
			return "", "", pgerr.New(pgerr.InvalidTextRepresentation, "invalid name syntax")
		}
		i++
	}
	switch len(parts) {
	case 1:
		return "", parts[0], nil
	case 2:
		if parts[0] == "public" {
			return "public", parts[1], nil
		}
		return parts[0], parts[1], nil
	}
	return "", "", pgerr.New(pgerr.FeatureNotSupported, "cross-database references are not implemented: %s", s)
}

// typeAliases are the SQL spellings regtype input accepts besides typname.
var typeAliases = map[string]string{
	"integer": "int4", "int": "int4", "smallint": "int2", "bigint": "int8", "real": "float4",
	"double precision": "float8", "float": "float8", "boolean": "bool", "character varying": "varchar",
	"character": "bpchar", "char": "bpchar", `"char"`: "char", "decimal": "numeric",
	"timestamp without time zone": "timestamp", "timestamp with time zone": "timestamptz",
	"time without time zone": "time", "time with time zone": "timetz",
}

// lookupType resolves a regtype constant such as 'integer[]' or 'pg_catalog.int4'.
func lookupType(s string) (uint32, error) {
	name := strings.ToLower(strings.TrimSpace(s))
	name = strings.TrimPrefix(name, "pg_catalog.")
	array := strings.HasSuffix(name, "[]")
	name = strings.TrimSpace(strings.TrimSuffix(name, "[]"))
	if i := strings.IndexByte(name, '('); i > 0 { // varchar(20), numeric(10,2)
		name = strings.TrimSpace(name[:i])
	}
	if a, ok := typeAliases[name]; ok {
		name = a
	}
	info, ok := pgtypes.LookupName(name)
	if !ok {
		return 0, pgerr.New(pgerr.UndefinedObject, "type %q does not exist", s)
	}
	if array {
		if info.ArrayOID == 0 {
			return 0, pgerr.New(pgerr.UndefinedObject, "type %q does not exist", s)
		}
		return info.ArrayOID, nil
	}
	return info.OID, nil
}

// defaultColumnName is the column name PostgreSQL gives an unnamed cast.
func defaultColumnName(tc *pg_query.TypeCast) string {
	if cr := tc.Arg.GetColumnRef(); cr != nil && len(cr.Fields) > 0 {
		if s := cr.Fields[len(cr.Fields)-1].GetString_(); s != nil {
			return s.Sval
		}
	}
	_, name := typeNameParts(tc.TypeName)
	return name
}

func makeCast(arg *pg_query.Node, tn *pg_query.TypeName, location int32) *pg_query.Node {
	return &pg_query.Node{Node: &pg_query.Node_TypeCast{TypeCast: &pg_query.TypeCast{Arg: arg, TypeName: tn, Location: location}}}
}
