package engine

import (
	"context"
	"database/sql/driver"
	"encoding/json"
	"fmt"
	"strings"

	pg_query "github.com/pganalyze/pg_query_go/v6"

	"github.com/hopsql/hopsql/catalog"
	"github.com/hopsql/hopsql/engine/pgerr"
	"github.com/hopsql/hopsql/storage"
)

// Feature groups (docs/sql.md) are stored tables whose rows are identified
// by a primary key and an event time: writing a row whose key and event
// time are already there replaces the old row. The grammar extends
// PostgreSQL's, so the statements are recognised among pg_query's tokens
// (as time travel is) and turned into PostgreSQL statements before
// parsing:
//
//	CREATE FEATURE GROUP g (cols…) PRIMARY KEY (k…) [EVENT TIME (ts)] [ONLINE] [DESCRIPTION '…'] [AS SELECT …]
//	  → CREATE TABLE g (cols…) WITH (hopsql_feature_group = '<definition as JSON>') [AS SELECT …]
//	DROP FEATURE GROUP [IF EXISTS] g
//	  → DROP TABLE [IF EXISTS] g   (after checking g is a feature group)
//
// The definition travels in the parse tree as a storage option, which
// prepareStorage takes out again; the carrier gets NOT NULL on the key and
// event time columns and no key constraint (replacing is not a violation).

// featureOption is the storage option carrying a feature group's definition.
const featureOption = "hopsql_feature_group"

// rewriteFeatureDDL turns the feature group statements of a query string
// into PostgreSQL ones.
func (s *Session) rewriteFeatureDDL(sql string) (string, error) {
	if low := strings.ToLower(sql); !strings.Contains(low, "feature") && !strings.Contains(low, "training") && !strings.Contains(low, "experiment") {
		return sql, nil
	}
	res, err := pg_query.Scan(sql)
	if err != nil {
		return sql, nil // the parser reports it
	}
	toks := res.Tokens
	word := scanned{sql, toks}.word
	var b strings.Builder
	last := 0
	for i := 0; i+2 < len(toks); i++ {
		isExperiment := word(i+1) == "experiment" && (word(i) == "create" || word(i) == "wait" || word(i) == "cancel" || word(i) == "drop")
		isFeature := (word(i) == "create" || word(i) == "drop" || word(i) == "alter") && (word(i+1) == "feature" && (word(i+2) == "group" || word(i+2) == "view") ||
			word(i+1) == "training" && word(i+2) == "dataset") && !(word(i) == "alter" && word(i+2) != "group")
		if !isExperiment && !isFeature {
			continue
		}
		if i > 0 && toks[i-1].Token != pg_query.Token_ASCII_59 { // not at a statement's start
			continue
		}
		end := i
		for end < len(toks) && toks[end].Token != pg_query.Token_ASCII_59 {
			end++
		}
		var out string
		switch {
		case isExperiment:
			out, err = experimentSQL(sql, word(i), s.e.doKey, toks[i+2:end])
		default:
			out, err = s.featureSQL(sql, word(i)+" "+word(i+2), toks[i+3:end])
		}
		if err != nil {
			return "", err
		}
		b.WriteString(sql[last:toks[i].Start])
		b.WriteString(out)
		if end > i {
			last = int(toks[end-1].End)
		}
		i = end
	}
	if last == 0 {
		return sql, nil
	}
	b.WriteString(sql[last:])
	return b.String(), nil
}

// featureSQL rewrites one feature group, feature view or training dataset
// statement; what names it ("create group", "drop view", …).
func (s *Session) featureSQL(sql, what string, toks []*pg_query.ScanToken) (string, error) {
	switch what {
	case "create group":
		return s.createFeatureGroupSQL(sql, toks)
	case "drop group":
		return s.dropFeatureGroupSQL(sql, toks)
	case "create view":
		return s.createFeatureViewSQL(sql, toks)
	case "drop view":
		return s.dropFeatureViewSQL(sql, toks)
	case "alter group":
		return s.alterFeatureGroupSQL(sql, toks)
	default:
		return trainingSQL(sql, strings.Fields(what)[0], s.e.doKey, toks)
	}
}

// createFeatureGroupSQL rewrites what follows CREATE FEATURE GROUP.
func (s *Session) createFeatureGroupSQL(sql string, toks []*pg_query.ScanToken) (string, error) {
	sc := scanned{sql, toks}
	word, closing := sc.word, sc.closing
	syntax := func(what string) error {
		return pgerr.New(pgerr.SyntaxError, "syntax error in CREATE FEATURE GROUP: %s", what)
	}
	names := func(open int) ([]string, int, error) {
		shut := closing(open)
		if shut < 0 {
			return nil, 0, syntax("unbalanced parentheses")
		}
		var out []string
		for j := open + 1; j < shut; j++ {
			if toks[j].Token == pg_query.Token_ASCII_44 {
				continue
			}
			out = append(out, identText(sc.text(j)))
		}
		if len(out) == 0 {
			return nil, 0, syntax("empty column list")
		}
		return out, shut, nil
	}
	i := 0
	ifNotExists := ""
	if word(0) == "if" && word(1) == "not" && word(2) == "exists" {
		ifNotExists, i = "IF NOT EXISTS ", 3
	}
	if i >= len(toks) {
		return "", syntax("a name is expected")
	}
	nameStart := i
	i++
	for i+1 < len(toks) && toks[i].Token == pg_query.Token_ASCII_46 {
		i += 2
	}
	name := sql[toks[nameStart].Start:toks[i-1].End]
	cols := ""
	if i < len(toks) && toks[i].Token == pg_query.Token_ASCII_40 {
		shut := closing(i)
		if shut < 0 {
			return "", syntax("unbalanced parentheses")
		}
		cols = " " + sql[toks[i].Start:toks[shut].End]
		i = shut + 1
	}
	def := catalog.FeatureGroup{Version: 1}
	as := ""
	for i < len(toks) {
		switch {
		case word(i) == "primary" && word(i+1) == "key" && i+2 < len(toks) && toks[i+2].Token == pg_query.Token_ASCII_40:
			keys, shut, err := names(i + 2)
			if err != nil {
				return "", err
			}
			def.Keys, i = keys, shut+1
		case word(i) == "event" && word(i+1) == "time" && i+2 < len(toks) && toks[i+2].Token == pg_query.Token_ASCII_40:
			cs, shut, err := names(i + 2)
			if err != nil {
				return "", err
			}
			if len(cs) != 1 {
				return "", syntax("EVENT TIME names one column")
			}
			def.EventTime, i = cs[0], shut+1
		case word(i) == "online":
			def.Online, i = true, i+1
		case word(i) == "description" && i+1 < len(toks) && toks[i+1].Token == pg_query.Token_SCONST:
			lit := sc.text(i + 1)
			def.Description, i = strings.ReplaceAll(lit[1:len(lit)-1], "''", "'"), i+2
		case word(i) == "as":
			if i+1 >= len(toks) {
				return "", syntax("a query is expected after AS")
			}
			as = " AS " + sql[toks[i+1].Start:toks[len(toks)-1].End]
			i = len(toks)
		default:
			return "", pgerr.New(pgerr.SyntaxError, "syntax error at or near %q in CREATE FEATURE GROUP", sc.text(i))
		}
		if i > len(toks) {
			return "", syntax("incomplete statement")
		}
	}
	if len(def.Keys) == 0 {
		return "", pgerr.New(pgerr.InvalidTableDefinition, "a feature group needs PRIMARY KEY (…)")
	}
	if cols == "" && as == "" {
		return "", syntax("a column list or AS SELECT … is expected")
	}
	js, _ := json.Marshal(def)
	return "CREATE TABLE " + ifNotExists + name + cols + " WITH (" + featureOption + " = " + quoteLiteral(string(js)) + ")" + as, nil
}

// dropFeatureGroupSQL rewrites what follows DROP FEATURE GROUP.
func (s *Session) dropFeatureGroupSQL(sql string, toks []*pg_query.ScanToken) (string, error) {
	rest := ""
	if len(toks) > 0 {
		rest = sql[toks[0].Start:toks[len(toks)-1].End]
	}
	i := 0
	ifExists := false
	if len(toks) >= 2 && strings.EqualFold(sql[toks[0].Start:toks[0].End], "if") && strings.EqualFold(sql[toks[1].Start:toks[1].End], "exists") {
		ifExists, i = true, 2
	}
	for ; i < len(toks); i++ {
		t := toks[i]
		if t.Token == pg_query.Token_ASCII_44 || t.Token == pg_query.Token_ASCII_46 {
			continue
		}
		if i+1 < len(toks) && toks[i+1].Token == pg_query.Token_ASCII_46 {
			continue // a schema name
		}
		name := identText(sql[t.Start:t.End])
		if kw := strings.ToLower(sql[t.Start:t.End]); kw == "cascade" || kw == "restrict" {
			continue
		}
		h, ok := s.e.catalog.TableHead(s.db.name, "main", name)
		switch {
		case !ok && ifExists:
		case !ok:
			return "", pgerr.New(pgerr.UndefinedObject, "feature group %q does not exist", name)
		case h.Feature == nil:
			return "", pgerr.New(pgerr.WrongObjectType, "%q is not a feature group", name)
		}
	}
	return "DROP TABLE " + rest, nil
}

// takeFeatureOption removes the feature group definition from a CREATE
// TABLE's options.
func takeFeatureOption(opts *[]*pg_query.Node) (*catalog.FeatureGroup, error) {
	for i, o := range *opts {
		d := o.GetDefElem()
		if d == nil || d.Defname != featureOption {
			continue
		}
		*opts = append((*opts)[:i:i], (*opts)[i+1:]...)
		var def catalog.FeatureGroup
		if err := json.Unmarshal([]byte(d.Arg.GetString_().GetSval()), &def); err != nil {
			return nil, pgerr.New(pgerr.InvalidParameterValue, "invalid feature group definition")
		}
		return &def, nil
	}
	return nil, nil
}

// prepareFeatureCreate checks a feature group's CREATE TABLE and makes its
// key and event time columns NOT NULL.
func prepareFeatureCreate(c *pg_query.CreateStmt, def *catalog.FeatureGroup) error {
	cols := map[string]*pg_query.ColumnDef{}
	for _, el := range c.TableElts {
		if cd := el.GetColumnDef(); cd != nil {
			cols[cd.Colname] = cd
			for _, con := range cd.Constraints {
				if k := con.GetConstraint().GetContype(); k == pg_query.ConstrType_CONSTR_PRIMARY || k == pg_query.ConstrType_CONSTR_UNIQUE {
					return pgerr.New(pgerr.InvalidTableDefinition, "a feature group's rows are keyed by PRIMARY KEY (…) after the column list; column %q cannot have its own key", cd.Colname)
				}
			}
		} else if con := el.GetConstraint(); con != nil {
			if k := con.Contype; k == pg_query.ConstrType_CONSTR_PRIMARY || k == pg_query.ConstrType_CONSTR_UNIQUE {
				return pgerr.New(pgerr.InvalidTableDefinition, "a feature group's rows are keyed by PRIMARY KEY (…) after the column list")
			}
		}
	}
	for _, k := range def.RowKey() {
		cd := cols[k]
		if cd == nil {
			return pgerr.New(pgerr.UndefinedColumn, "column %q named in the feature group's key does not exist", k)
		}
		cd.Constraints = append(cd.Constraints, &pg_query.Node{Node: &pg_query.Node_Constraint{Constraint: &pg_query.Constraint{Contype: pg_query.ConstrType_CONSTR_NOTNULL}}})
	}
	if def.EventTime != "" {
		names := cols[def.EventTime].TypeName.GetNames()
		t := ""
		if len(names) > 0 {
			t = names[len(names)-1].GetString_().GetSval()
		}
		switch t {
		case "timestamp", "timestamptz", "date", "int8", "int4", "int2":
		default:
			return pgerr.New(pgerr.DatatypeMismatch, "event time column %q must be a timestamp, timestamptz, date or integer", def.EventTime)
		}
	}
	return nil
}

// featureOf returns the definition of a feature group: the catalog's, or
// the one this transaction is creating.
func (s *Session) featureOf(name string) *catalog.FeatureGroup {
	if s.stx != nil {
		if def := s.stx.features[name]; def != nil {
			return def
		}
		if s.stx.created[name] {
			return nil
		}
	}
	if h, ok := s.e.catalog.TableHead(s.db.name, "main", name); ok {
		return h.Feature
	}
	return nil
}

// finishFeatureCreate completes CREATE FEATURE GROUP … AS SELECT: the
// columns are known only now.
func (s *Session) finishFeatureCreate(ctx context.Context, name string, def *catalog.FeatureGroup) error {
	put, err := s.tableDefinition(ctx, name)
	if err != nil {
		return err
	}
	for _, k := range def.RowKey() {
		found := false
		for _, c := range put.Columns {
			if c.Name == k {
				found = true
			}
		}
		if !found {
			return pgerr.New(pgerr.UndefinedColumn, "column %q named in the feature group's key does not exist", k)
		}
		sql := "ALTER TABLE " + s.carrierName(name) + " ALTER COLUMN " + quoteIdent(k) + " SET NOT NULL"
		if err := s.exec(ctx, sql); err != nil {
			return pgerr.From(err)
		}
		if s.tx == txBlock {
			s.txLog = append(s.txLog, loggedStmt{sql: sql})
		}
	}
	return nil
}

// upsertFeatureRows gives a write to a feature group its replace semantics:
// among the carrier's rows the last one written per (key, event time)
// stays, and committed rows with the same key and event time leave the
// table — the files holding them are pulled without those rows.
func (s *Session) upsertFeatureRows(ctx context.Context, name string, def *catalog.FeatureGroup) error {
	key := def.RowKey()
	q := make([]string, len(key))
	for i, k := range key {
		q[i] = quoteIdent(k)
	}
	carrier := s.carrierName(name)
	dedup := "DELETE FROM " + carrier + " WHERE rowid IN (SELECT rowid FROM (SELECT rowid, row_number() OVER (PARTITION BY " +
		strings.Join(q, ", ") + " ORDER BY rowid DESC) AS n FROM " + carrier + ") WHERE n > 1)"
	if err := s.exec(ctx, dedup); err != nil {
		return fmt.Errorf("replace rows of %q: %w", name, err)
	}
	if s.tx == txBlock {
		s.txLog = append(s.txLog, loggedStmt{sql: dedup}) // replayed by ROLLBACK TO SAVEPOINT
	}
	hits, read, match, err := s.carrierKeyFiles(ctx, name, key)
	if err != nil || len(hits) == 0 {
		return err
	}
	sql := "INSERT INTO " + carrier + " SELECT * FROM (" + read + ") AS f WHERE NOT EXISTS (SELECT 1 FROM " + carrier + " AS c WHERE " + match + ")"
	if err := s.exec(ctx, sql); err != nil {
		return fmt.Errorf("replace rows of %q: %w", name, err)
	}
	if s.tx == txBlock {
		s.txLog = append(s.txLog, loggedStmt{sql: sql})
	}
	p, err := s.pending(name)
	if err != nil {
		return err
	}
	for _, f := range hits {
		p.pulled[f.Name] = true
		s.e.holdFiles(s, name, f.Name)
	}
	p.keyHashes = nil
	s.viewEpoch++
	t, ok := s.e.catalog.TableHead(s.db.name, "main", name)
	if !ok {
		return nil
	}
	return s.syncView(ctx, name, t.Columns)
}

// checkUpdatedKeys fails an UPDATE that gave a row the key and event time
// of another row (23505, as a primary key would): INSERT and COPY replace
// such rows, but which of two existing rows an UPDATE meant to keep is
// not for hopsql to guess. Before the UPDATE the carrier's keys were
// distinct and absent from the files still in the view, so a repeat among
// the carrier's rows, or one in those files, is the UPDATE's doing.
func (s *Session) checkUpdatedKeys(ctx context.Context, name string, def *catalog.FeatureGroup) error {
	key := def.RowKey()
	q := make([]string, len(key))
	for i, k := range key {
		q[i] = "CAST(" + quoteIdent(k) + " AS VARCHAR)"
	}
	carrier := s.carrierName(name)
	dup := func() (vals string, found bool, err error) {
		cols := make([]string, len(key))
		for i, k := range key {
			cols[i] = quoteIdent(k)
		}
		err = s.eachRow(ctx, "SELECT concat_ws(', ', "+strings.Join(q, ", ")+") FROM "+carrier+
			" GROUP BY "+strings.Join(cols, ", ")+" HAVING count(*) > 1 LIMIT 1", 1, func(v []driver.Value) {
			if t := textOf(v[0]); t != nil {
				vals, found = *t, true
			}
		})
		return vals, found, err
	}
	violation := func(vals string) error {
		e := pgerr.New(pgerr.UniqueViolation, "duplicate key value violates unique constraint \"%s_pkey\"", name)
		e.Detail = fmt.Sprintf("Key (%s)=(%s) already exists.", strings.Join(key, ", "), vals)
		e.Hint = "UPDATE does not replace rows of a feature group; INSERT the new row to replace the old one."
		e.SchemaName, e.TableName, e.ConstraintName = "public", name, name+"_pkey"
		return e
	}
	if vals, ok, err := dup(); err != nil {
		return fmt.Errorf("check keys of %q: %w", name, err)
	} else if ok {
		return violation(vals)
	}
	hits, read, match, err := s.carrierKeyFiles(ctx, name, key)
	if err != nil || len(hits) == 0 {
		return err
	}
	var vals string
	found := false
	err = s.eachRow(ctx, "SELECT concat_ws(', ', "+strings.Join(q, ", ")+") FROM ("+read+") AS f WHERE EXISTS (SELECT 1 FROM "+carrier+
		" AS c WHERE "+match+") LIMIT 1", 1, func(v []driver.Value) {
		if t := textOf(v[0]); t != nil {
			vals, found = *t, true
		}
	})
	if err != nil {
		return fmt.Errorf("check keys of %q: %w", name, err)
	}
	if found {
		return violation(vals)
	}
	return nil
}

// carrierKeyFiles finds the files of the session's view holding a row
// with the key of a carrier row: the files, a query reading them (to be
// aliased f) and the condition matching f's rows to carrier rows c.
func (s *Session) carrierKeyFiles(ctx context.Context, name string, key []string) (hits []catalog.FileRef, read, match string, err error) {
	files, _, err := s.visibleFiles(name)
	if err != nil || len(files) == 0 {
		return nil, "", "", err
	}
	if hits, err = s.filesHoldingKeys(ctx, name, key, files); err != nil || len(hits) == 0 {
		return nil, "", "", err
	}
	t, ok := s.e.catalog.TableHead(s.db.name, "main", name)
	if !ok {
		return nil, "", "", nil
	}
	if read, err = s.readSQL(t.Columns, hits, storage.ReadOptions{}); err != nil {
		return nil, "", "", err
	}
	cond := make([]string, len(key))
	for i, k := range key {
		cond[i] = "c." + quoteIdent(k) + " = f." + quoteIdent(k)
	}
	return hits, read, strings.Join(cond, " AND "), nil
}

// filesHoldingKeys returns the files among files holding a row whose key
// columns equal those of a carrier row: through the key index when it can
// answer, else by a DuckDB semi-join.
func (s *Session) filesHoldingKeys(ctx context.Context, name string, key []string, files []catalog.FileRef) ([]catalog.FileRef, error) {
	cand, indexed, err := s.indexedCandidates(ctx, name, uniqueKey{cols: key}, files)
	if err != nil {
		return nil, err
	}
	if indexed {
		if len(cand) == 0 {
			return nil, nil
		}
		files = cand // hashes matched: confirm exactly below
	}
	t, ok := s.e.catalog.TableHead(s.db.name, "main", name)
	if !ok {
		return nil, nil
	}
	read, err := s.readSQL(t.Columns, files, storage.ReadOptions{Filename: true})
	if err != nil {
		return nil, err
	}
	cond := make([]string, len(key))
	for i, k := range key {
		cond[i] = "c." + quoteIdent(k) + " = f." + quoteIdent(k)
	}
	out, err := s.filesOfRows(ctx, "SELECT DISTINCT filename FROM ("+read+") AS f WHERE EXISTS (SELECT 1 FROM "+
		s.carrierName(name)+" AS c WHERE "+strings.Join(cond, " AND ")+")", nil, files)
	if err != nil {
		return nil, fmt.Errorf("find rows to replace in %q: %w", name, err)
	}
	return out, nil
}

// rewriteExtensions turns hopsql's SQL extensions into PostgreSQL before a
// query string is parsed: feature group DDL, then time travel.
func (s *Session) rewriteExtensions(ctx context.Context, sql string) (string, error) {
	sql, err := s.rewriteFeatureDDL(sql)
	if err != nil {
		return "", err
	}
	return s.rewriteTimeTravel(ctx, sql)
}

// featureVersion is a feature group's definition after its table was
// defined or altered: additive changes (new columns; nothing dropped,
// renamed or retyped) keep its version, others make the next one, which
// applies from the table version this commit makes.
func (s *Session) featureVersion(name string, def *catalog.FeatureGroup, cols []catalog.Column, created bool) *catalog.FeatureGroup {
	nf := *def
	nf.Versions = append([]catalog.FeatureGroupVersion(nil), def.Versions...)
	if created {
		nf.Version = 1
		nf.Versions = []catalog.FeatureGroupVersion{{Version: 1, From: 0, Columns: cols}}
		return &nf
	}
	h, ok := s.e.catalog.TableHead(s.db.name, "main", name)
	if !ok {
		return &nf
	}
	if additive(h.Columns, cols) {
		if n := len(nf.Versions); n > 0 {
			nf.Versions[n-1].Columns = cols
		}
		return &nf
	}
	nf.Version++
	nf.Versions = append(nf.Versions, catalog.FeatureGroupVersion{Version: nf.Version, From: h.Version + 1, Columns: cols})
	return &nf
}

// additive reports whether new only adds columns to old.
func additive(old, new []catalog.Column) bool {
	types := map[string]string{}
	for _, c := range new {
		types[c.Name] = c.Type
	}
	for _, c := range old {
		if t, ok := types[c.Name]; !ok || t != c.Type {
			return false
		}
	}
	return true
}

// alterFeatureGroupSQL rewrites what follows ALTER FEATURE GROUP: it is
// ALTER TABLE on a feature group (featureVersion decides the version).
func (s *Session) alterFeatureGroupSQL(sql string, toks []*pg_query.ScanToken) (string, error) {
	if len(toks) < 2 {
		return "", pgerr.New(pgerr.SyntaxError, "syntax error in ALTER FEATURE GROUP")
	}
	if out, ok, err := expectationSQL(sql, s.e.doKey, toks); ok {
		return out, err
	}
	name := identText(sql[toks[0].Start:toks[0].End])
	h, ok := s.e.catalog.TableHead(s.db.name, "main", name)
	switch {
	case !ok:
		return "", pgerr.New(pgerr.UndefinedObject, "feature group %q does not exist", name)
	case h.Feature == nil:
		return "", pgerr.New(pgerr.WrongObjectType, "%q is not a feature group", name)
	}
	return "ALTER TABLE " + sql[toks[0].Start:toks[len(toks)-1].End], nil
}
