package engine

import (
	"context"
	"database/sql/driver"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	pg_query "github.com/pganalyze/pg_query_go/v6"

	"github.com/duckdb/duckdb-go/v2"

	"github.com/hopsql/hopsql/catalog"
	"github.com/hopsql/hopsql/engine/pgcatalog"
	"github.com/hopsql/hopsql/engine/pgerr"
	"github.com/hopsql/hopsql/storage"
)

// Expectations (docs/sql.md) are conditions a feature group's new rows must
// meet, checked on every write:
//
//	ALTER FEATURE GROUP g ADD EXPECTATION name CHECK (expr) [STRICT | WARN]
//	ALTER FEATURE GROUP g DROP EXPECTATION [IF EXISTS] name
//
// A STRICT expectation (the default, as a CHECK constraint is) fails the
// statement with 23514 and nothing is written; a WARN one lets the rows in
// with a NOTICE. Either way each commit records, per expectation, how many
// of the rows it wrote failed (hopsql.validation_results). As in a CHECK
// constraint, a NULL outcome passes. The checked rows are those the
// transaction wrote: the carrier's rows except the committed ones that a
// rewrite (UPDATE, replace-on-key) carried along unchanged.

// expectationLanguage marks the DO statements that are expectation changes.
const expectationLanguage = "hopsql_expectation"

type expectationRequest struct {
	Op       string `json:"op"` // add or drop
	Group    string `json:"group"`
	Name     string `json:"name"`
	Check    string `json:"check,omitempty"`
	Strict   bool   `json:"strict,omitempty"`
	IfExists bool   `json:"if_exists,omitempty"`
	Key      string `json:"key"` // Engine.doKey
}

// expectationSQL rewrites ALTER FEATURE GROUP g ADD|DROP EXPECTATION …;
// toks start at the group's name. ok is false for other ALTERs.
func expectationSQL(sql, key string, toks []*pg_query.ScanToken) (out string, ok bool, err error) {
	sc := scanned{sql, toks}
	text, word := sc.text, sc.word
	if !(word(1) == "add" || word(1) == "drop") || word(2) != "expectation" {
		return "", false, nil
	}
	syntax := func(i int) error {
		near := text(i)
		if i >= len(toks) {
			near = "end of input"
		}
		return pgerr.New(pgerr.SyntaxError, "syntax error at or near %q in ALTER FEATURE GROUP", near)
	}
	req := expectationRequest{Op: word(1), Group: identText(text(0)), Key: key}
	i := 3
	if req.Op == "drop" && word(i) == "if" && word(i+1) == "exists" {
		req.IfExists, i = true, i+2
	}
	if i >= len(toks) || toks[i].Token == pg_query.Token_ASCII_40 {
		return "", true, syntax(i)
	}
	req.Name, i = identText(text(i)), i+1
	if req.Op == "add" {
		if word(i) != "check" || i+1 >= len(toks) || toks[i+1].Token != pg_query.Token_ASCII_40 {
			return "", true, syntax(i)
		}
		open := i + 1
		shut := sc.closing(open)
		if shut < 0 || shut == open+1 {
			return "", true, syntax(open)
		}
		req.Check = sql[toks[open+1].Start:toks[shut-1].End]
		req.Strict, i = true, shut+1
		switch word(i) {
		case "strict":
			i++
		case "warn":
			req.Strict, i = false, i+1
		}
		// The expression must be one expression: it is pasted into queries.
		if _, err := pg_query.Parse("SELECT 1 WHERE (" + req.Check + ")"); err != nil {
			return "", true, pgerr.New(pgerr.SyntaxError, "invalid CHECK expression of expectation %q: %v", req.Name, err)
		}
	}
	if i < len(toks) {
		return "", true, syntax(i)
	}
	js, _ := json.Marshal(req)
	return "DO LANGUAGE " + expectationLanguage + " " + quoteLiteral(string(js)), true, nil
}

// errOwnLanguage refuses a DO statement in one of the languages hopsql's
// rewrites use internally, written by a client: its text goes into SQL
// unchecked by the grammar it would otherwise have passed.
func errOwnLanguage(lang string) error {
	return pgerr.New(pgerr.UndefinedObject, "language %q does not exist", lang)
}

// doRequestOf decodes a DO statement in one of hopsql's languages into v.
func doRequestOf(d *pg_query.DoStmt, language string, v any) bool {
	var lang, code string
	for _, a := range d.Args {
		de := a.GetDefElem()
		if de == nil {
			continue
		}
		switch de.Defname {
		case "language":
			lang = de.Arg.GetString_().GetSval()
		case "as":
			code = de.Arg.GetString_().GetSval()
		}
	}
	return lang == language && json.Unmarshal([]byte(code), v) == nil
}

func expectationRequestOf(d *pg_query.DoStmt) (*expectationRequest, bool) {
	var req expectationRequest
	if !doRequestOf(d, expectationLanguage, &req) {
		return nil, false
	}
	return &req, true
}

// execExpectation adds or drops an expectation: a definition change of the
// feature group committed on its own (like other extension DDL, outside
// transaction blocks). Rows already written are not re-checked.
func (s *Session) execExpectation(ctx context.Context, req *expectationRequest) error {
	if req.Key != s.e.doKey {
		return errOwnLanguage(expectationLanguage)
	}
	if s.tx != txIdle {
		return pgerr.New(pgerr.ActiveSQLTransaction, "ALTER FEATURE GROUP … %s EXPECTATION cannot run inside a transaction block", strings.ToUpper(req.Op))
	}
	// The table's commit lock: two expectation changes on this node take
	// turns, so that neither is lost (the definition is read and written
	// whole). Other nodes' changes are not covered (multi-node).
	unlock := s.e.lockTables(s.db.name, []string{req.Group})
	defer unlock()
	h, ok := s.e.catalog.TableHead(s.db.name, "main", req.Group)
	switch {
	case !ok:
		return pgerr.New(pgerr.UndefinedObject, "feature group %q does not exist", req.Group)
	case h.Feature == nil:
		return pgerr.New(pgerr.WrongObjectType, "%q is not a feature group", req.Group)
	}
	def := *h.Feature
	at := slices.IndexFunc(def.Expectations, func(x catalog.Expectation) bool { return x.Name == req.Name })
	switch req.Op {
	case "add":
		if at >= 0 {
			return pgerr.New(pgerr.DuplicateObject, "expectation %q for feature group %q already exists", req.Name, req.Group)
		}
		expr, err := s.checkExpr(ctx, req.Group, req.Check)
		if err != nil {
			return err
		}
		def.Expectations = append(slices.Clone(def.Expectations), catalog.Expectation{Name: req.Name, Check: req.Check, Strict: req.Strict, Expr: expr})
	case "drop":
		if at < 0 {
			if req.IfExists {
				s.notice("NOTICE", pgerr.SuccessfulCompletion, "expectation %q for feature group %q does not exist, skipping", req.Name, req.Group)
				return nil
			}
			return pgerr.New(pgerr.UndefinedObject, "expectation %q for feature group %q does not exist", req.Name, req.Group)
		}
		def.Expectations = slices.Delete(slices.Clone(def.Expectations), at, at+1)
	}
	put := catalog.PutTable{Schema: "main", Name: req.Group, SQL: h.SQL, Columns: h.Columns, Feature: &def}
	if _, err := s.e.catalog.Propose(ctx, catalog.CmdCommit, catalog.Commit{Project: s.db.name, User: s.user, Puts: []catalog.PutTable{put}}); err != nil {
		return fmt.Errorf("alter feature group %q: %w", req.Group, err)
	}
	return nil
}

// checkExpr turns a CHECK expression into what DuckDB evaluates, as any
// statement's expressions are (PostgreSQL's operators and casts
// translated), and binds it once against the table: unknown columns,
// subqueries, aggregates and non-boolean results are refused now, not at
// every write.
func (s *Session) checkExpr(ctx context.Context, group, check string) (string, error) {
	tree, err := pg_query.Parse("SELECT 1 FROM " + quoteIdent(group) + " WHERE (" + check + ")")
	if err != nil || len(tree.Stmts) != 1 || tree.Stmts[0].Stmt.GetSelectStmt() == nil {
		return "", pgerr.New(pgerr.SyntaxError, "invalid CHECK expression %q", check)
	}
	where := tree.Stmts[0].Stmt.GetSelectStmt().WhereClause
	var bad error
	pgcatalog.Walk(where, func(n *pg_query.Node) bool {
		switch {
		case n.GetSubLink() != nil:
			bad = pgerr.New(pgerr.FeatureNotSupported, "cannot use subquery in check constraint")
		case n.GetFuncCall() != nil && n.GetFuncCall().Over != nil:
			bad = pgerr.New(pgerr.WindowingError, "window functions are not allowed in check constraints")
		}
		return bad == nil
	})
	if bad != nil {
		return "", bad
	}
	if _, err := pgcatalog.Rewrite(tree.Stmts[0], s); err != nil {
		return "", err
	}
	expr, err := deparseExpr(tree.Stmts[0].Stmt.GetSelectStmt().WhereClause)
	if err != nil {
		return "", fmt.Errorf("check expression: %w", err)
	}
	if err := s.syncViews(ctx); err != nil {
		return "", err
	}
	vals := make([]driver.Value, 2)
	if err := s.queryRow(ctx, "DESCRIBE SELECT ("+expr+") AS c FROM "+quoteIdent(group)+" WHERE ("+expr+") IS NOT NULL", nil, vals); err != nil {
		return "", pgerr.From(fmt.Errorf("CHECK (%s): %w", check, err))
	}
	if t, _ := vals[1].(string); t != "BOOLEAN" {
		return "", pgerr.New(pgerr.DatatypeMismatch, "argument of CHECK must be type boolean, not type %s", pgTypeWord(t))
	}
	return expr, nil
}

// validateRows evaluates a feature group's expectations on the rows the
// transaction wrote to it. A failed STRICT expectation is an error.
func (s *Session) validateRows(ctx context.Context, name string, def *catalog.FeatureGroup, p *pendingTable) ([]catalog.ValidationResult, error) {
	if len(def.Expectations) == 0 || !p.dirty || p.replace || s.stx.altered[name] {
		// An ALTER (or TRUNCATE) took every row into the carrier: which of
		// them the transaction wrote is not known, and rows written before
		// an expectation existed are not checked (a known gap: such a
		// transaction's own new rows go unchecked too).
		return nil, nil
	}
	if p.validated != nil && slices.Equal(p.validatedBy, def.Expectations) {
		return p.validated, nil
	}
	rows, err := s.writtenRowsSQL(name, p)
	if err != nil {
		return nil, err
	}
	var b strings.Builder
	b.WriteString("SELECT count(*)")
	for _, x := range def.Expectations {
		b.WriteString(", count(*) FILTER (WHERE NOT (" + x.SQL() + "))")
	}
	b.WriteString(" FROM (" + rows + ") AS t")
	counts := make([]int64, len(def.Expectations)+1)
	dest := make([]driver.Value, len(counts))
	if err := s.queryRow(ctx, b.String(), nil, dest); err != nil {
		return nil, pgerr.From(fmt.Errorf("check expectations of %q: %w", name, err))
	}
	for i, v := range dest {
		counts[i], _ = v.(int64)
	}
	out := make([]catalog.ValidationResult, len(def.Expectations))
	for i, x := range def.Expectations {
		out[i] = catalog.ValidationResult{Expectation: x.Name, Check: x.Check, Strict: x.Strict, Rows: counts[0], Failed: counts[i+1]}
		if x.Strict && counts[i+1] > 0 {
			e := pgerr.New(pgerr.CheckViolation, "new row for feature group %q violates expectation %q", name, x.Name)
			detail := fmt.Sprintf("%d of %d rows fail CHECK (%s).", counts[i+1], counts[0], x.Check)
			if row, err := s.failingRow(ctx, rows, x.SQL(), name); err == nil && row != "" {
				detail += " Failing row contains " + row + "."
			}
			e.Detail, e.TableName, e.ConstraintName, e.SchemaName = detail, name, x.Name, "public"
			return nil, e
		}
	}
	p.validated, p.validatedBy = out, slices.Clone(def.Expectations)
	return out, nil
}

// warnFailures sends a NOTICE for each WARN expectation some rows failed.
func (s *Session) warnFailures(name string, res []catalog.ValidationResult) {
	for _, r := range res {
		if !r.Strict && r.Failed > 0 {
			s.notice("NOTICE", pgerr.SuccessfulCompletion, "%d of %d rows written to feature group %q fail expectation %q: CHECK (%s)",
				r.Failed, r.Rows, name, r.Expectation, r.Check)
		}
	}
}

// writtenRowsSQL selects the rows a transaction wrote to a table: the
// carrier's, less the committed rows pulled into it unchanged.
func (s *Session) writtenRowsSQL(name string, p *pendingTable) (string, error) {
	carrier := "SELECT * FROM " + s.carrierName(name)
	if len(p.pulled) == 0 {
		return carrier, nil
	}
	t, ok := s.e.catalog.TableHead(s.db.name, "main", name)
	if !ok {
		return carrier, nil
	}
	var pulled []catalog.FileRef
	for _, f := range p.files {
		if p.pulled[f.Name] {
			pulled = append(pulled, f)
		}
	}
	if len(pulled) == 0 {
		return carrier, nil
	}
	read, err := s.readSQL(t.Columns, pulled, storage.ReadOptions{})
	if err != nil {
		return "", err
	}
	return carrier + " EXCEPT ALL SELECT * FROM (" + read + ") AS f", nil
}

// failingRow renders one row failing check as PostgreSQL does in a check
// violation's detail: (v1, v2, null, …).
func (s *Session) failingRow(ctx context.Context, rows, check, name string) (string, error) {
	t, ok := s.e.catalog.TableHead(s.db.name, "main", name)
	if !ok || s.stx.created[name] {
		return "", nil
	}
	cols := t.Columns
	parts := make([]string, len(cols))
	for i, c := range cols {
		parts[i] = "coalesce(CAST(" + quoteIdent(c.Name) + " AS VARCHAR), 'null')"
	}
	q := "SELECT '(' || concat_ws(', ', " + strings.Join(parts, ", ") + ") || ')' FROM (" + rows + ") AS t WHERE NOT (" + check + ") LIMIT 1"
	dest := make([]driver.Value, 1)
	if err := s.queryRow(ctx, q, nil, dest); err != nil {
		return "", err
	}
	out, _ := dest[0].(string)
	return out, nil
}

// expectationTexts renders expectations as written: name CHECK (…) STRICT.
func expectationTexts(xs []catalog.Expectation) []any {
	out := make([]any, len(xs))
	for i, x := range xs {
		mode := "STRICT"
		if !x.Strict {
			mode = "WARN"
		}
		out[i] = x.Name + " CHECK (" + x.Check + ") " + mode
	}
	return out
}

var validationColumns = []column{
	{name: "feature_group", t: duckdb.TYPE_VARCHAR}, {name: "snapshot", t: duckdb.TYPE_BIGINT},
	{name: "expectation", t: duckdb.TYPE_VARCHAR}, {name: "check", t: duckdb.TYPE_VARCHAR}, {name: "mode", t: duckdb.TYPE_VARCHAR},
	{name: "rows_checked", t: duckdb.TYPE_BIGINT}, {name: "rows_failed", t: duckdb.TYPE_BIGINT}, {name: "success", t: duckdb.TYPE_BOOLEAN},
	{name: "committed_at", t: duckdb.TYPE_TIMESTAMP_TZ}, {name: "committed_by", t: duckdb.TYPE_VARCHAR},
}

// validationRows lists each commit's expectation results, per retained
// version of every feature group.
func (e *Engine) validationRows(project string) []map[string]any {
	var out []map[string]any
	for _, t := range e.catalog.Tables(project) {
		if t.Feature == nil {
			continue
		}
		for _, sn := range t.Snapshots {
			for _, r := range sn.Validation {
				mode := "STRICT"
				if !r.Strict {
					mode = "WARN"
				}
				out = append(out, map[string]any{"feature_group": t.Name, "snapshot": sn.Version, "expectation": r.Expectation,
					"check": r.Check, "mode": mode, "rows_checked": r.Rows, "rows_failed": r.Failed, "success": r.Failed == 0,
					"committed_at": time.Unix(0, sn.Time).UTC(), "committed_by": sn.User})
			}
		}
	}
	return out
}
