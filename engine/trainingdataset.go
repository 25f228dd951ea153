package engine

import (
	"context"
	"database/sql/driver"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	pg_query "github.com/pganalyze/pg_query_go/v6"

	"github.com/hopsql/hopsql/catalog"
	"github.com/hopsql/hopsql/engine/pgerr"
	"github.com/hopsql/hopsql/fs"
	"github.com/hopsql/hopsql/storage"
)

// Training datasets (docs/sql.md) are immutable files made from a feature
// view: one Parquet file per split under
// /Projects/<p>/TrainingDatasets/<name>_<version>/<split>/, read back as a
// view of the same name with a `split` column. Making one again makes the
// next version. The feature groups are read as of one catalog time (now,
// or `as_of`), recorded with their snapshots, so the same inputs give the
// same rows in the same files.
//
//	CREATE TRAINING DATASET name FROM feature_view [WITH (split = '…', seed = n, as_of = '…')]
//	DROP TRAINING DATASET [IF EXISTS] name
//
// PostgreSQL's grammar has no such statements; they are rewritten into a DO
// statement in a language of hopsql's (the parse tree carries the request)
// and run by the engine.

// trainingLanguage marks the DO statements that are training dataset
// requests.
const trainingLanguage = "hopsql_training_dataset"

type trainingRequest struct {
	Op       string `json:"op"` // create or drop
	Name     string `json:"name"`
	View     string `json:"view,omitempty"`
	Split    string `json:"split,omitempty"`
	Seed     int64  `json:"seed,omitempty"`
	AsOf     string `json:"as_of,omitempty"`
	IfExists bool   `json:"if_exists,omitempty"`
	Key      string `json:"key"` // Engine.doKey
	// Transforms to fit (TRANSFORM (f(col), …)), in order.
	Transforms []transformSpec `json:"transforms,omitempty"`
}

// trainingSQL rewrites what follows CREATE/DROP TRAINING DATASET.
func trainingSQL(sql, op, key string, toks []*pg_query.ScanToken) (string, error) {
	sc := scanned{sql, toks}
	text, word := sc.text, sc.word
	syntax := func(near string) error {
		return pgerr.New(pgerr.SyntaxError, "syntax error at or near %q in %s TRAINING DATASET", near, strings.ToUpper(op))
	}
	req := trainingRequest{Op: op, Key: key}
	i := 0
	if op == "drop" && word(0) == "if" && word(1) == "exists" {
		req.IfExists, i = true, 2
	}
	if i >= len(toks) {
		return "", syntax("end of input")
	}
	req.Name, i = identText(text(i)), i+1
	if req.Name == "" || strings.ContainsAny(req.Name, "/\\\x00") {
		return "", pgerr.New(pgerr.InvalidName, "invalid training dataset name %q", req.Name)
	}
	if op == "create" {
		if word(i) != "from" || i+1 >= len(toks) {
			return "", syntax(text(i))
		}
		req.View, i = identText(text(i+1)), i+2
		if word(i) == "transform" {
			specs, next, err := parseTransforms(sql, toks, i+1)
			if err != nil {
				return "", err
			}
			req.Transforms, i = specs, next
		}
		if word(i) == "with" {
			opts := map[string]any{}
			next, err := sc.assignments(i+1, sc.syntaxError(strings.ToUpper(op)+" TRAINING DATASET"), "option", opts)
			if err != nil {
				return "", err
			}
			i = next
			for key, v := range opts {
				ok := true
				switch key {
				case "split":
					req.Split, ok = v.(string)
				case "seed":
					req.Seed, ok = v.(int64)
				case "as_of":
					req.AsOf, ok = v.(string)
				default:
					return "", pgerr.New(pgerr.InvalidParameterValue, "unknown training dataset option %q (split, seed, as_of)", key)
				}
				if !ok {
					return "", pgerr.New(pgerr.InvalidParameterValue, "training dataset option %s must be %s, not %v",
						key, map[string]string{"split": "a string", "seed": "an integer", "as_of": "a timestamp string"}[key], v)
				}
			}
		}
	}
	if i < len(toks) {
		return "", syntax(text(i))
	}
	js, _ := json.Marshal(req)
	return "DO LANGUAGE " + trainingLanguage + " " + quoteLiteral(string(js)), nil
}

// trainingRequestOf returns the request a DO statement carries, if any.
func trainingRequestOf(d *pg_query.DoStmt) (*trainingRequest, bool) {
	var req trainingRequest
	if !doRequestOf(d, trainingLanguage, &req) {
		return nil, false
	}
	return &req, true
}

// splitSpec is a parsed split option: fractions or time ranges.
type splitSpec struct {
	names  []string
	fracs  []float64
	ranges [][2]string // [from, to) as timestamps
	incl   [][2]bool   // bounds inclusive
}

func parseSplit(spec string) (*splitSpec, error) {
	bad := func() error {
		return pgerr.New(pgerr.InvalidParameterValue, "invalid split %q", spec).
			WithHint("Write split = 'train:0.8,test:0.2' or split = 'train:[2024-01-01,2024-07-01),test:[2024-07-01,2024-08-01)'.")
	}
	sp := &splitSpec{}
	if strings.TrimSpace(spec) == "" {
		sp.names, sp.fracs = []string{"all"}, []float64{1}
		return sp, nil
	}
	rest := spec
	var sum float64
	for rest != "" {
		name, after, ok := strings.Cut(rest, ":")
		if !ok {
			return nil, bad()
		}
		name = strings.TrimSpace(name)
		if name == "" || strings.ContainsAny(name, "/\\'\"") {
			return nil, bad()
		}
		after = strings.TrimSpace(after)
		var part string
		if strings.HasPrefix(after, "[") || strings.HasPrefix(after, "(") {
			end := strings.IndexAny(after, ")]")
			if end < 0 {
				return nil, bad()
			}
			part, rest = after[:end+1], strings.TrimPrefix(strings.TrimSpace(after[end+1:]), ",")
			lo, hi, ok := strings.Cut(part[1:len(part)-1], ",")
			if !ok || len(sp.fracs) > 0 {
				return nil, bad()
			}
			sp.ranges = append(sp.ranges, [2]string{strings.TrimSpace(lo), strings.TrimSpace(hi)})
			sp.incl = append(sp.incl, [2]bool{part[0] == '[', part[len(part)-1] == ']'})
		} else {
			part, rest, _ = strings.Cut(after, ",")
			f, err := strconv.ParseFloat(strings.TrimSpace(part), 64)
			if err != nil || f <= 0 || f > 1 || len(sp.ranges) > 0 {
				return nil, bad()
			}
			sp.fracs = append(sp.fracs, f)
			sum += f
		}
		for _, n := range sp.names {
			if n == name {
				return nil, bad()
			}
		}
		sp.names = append(sp.names, name)
		rest = strings.TrimSpace(rest)
	}
	if len(sp.fracs) > 0 && (sum < 0.999999 || sum > 1.000001) {
		return nil, pgerr.New(pgerr.InvalidParameterValue, "the split fractions of %q add up to %g, not 1", spec, sum)
	}
	return sp, nil
}

// expr is the SQL deciding each row's split (NULL: in no split).
func (sp *splitSpec) expr(cols []string, eventTime string, seed int64) string {
	if len(sp.fracs) == 1 {
		return quoteLiteral(sp.names[0]) // one split (no split option): every row
	}
	var b strings.Builder
	b.WriteString("CASE")
	if len(sp.fracs) > 0 {
		// A hash of the row's values and the seed: the same row lands in
		// the same split whatever order rows come in.
		q := make([]string, len(cols))
		for i, c := range cols {
			q[i] = quoteIdent(c)
		}
		u := fmt.Sprintf("(hash(%s, %d) %% 1000000007) / 1000000007.0", strings.Join(q, ", "), seed)
		var cum float64
		for i, n := range sp.names {
			cum += sp.fracs[i]
			if i == len(sp.names)-1 {
				fmt.Fprintf(&b, " ELSE %s", quoteLiteral(n))
			} else {
				fmt.Fprintf(&b, " WHEN %s < %v THEN %s", u, cum, quoteLiteral(n))
			}
		}
	} else {
		et := quoteIdent(eventTime)
		for i, n := range sp.names {
			lo, hi := ">", "<"
			if sp.incl[i][0] {
				lo = ">="
			}
			if sp.incl[i][1] {
				hi = "<="
			}
			fmt.Fprintf(&b, " WHEN %s %s CAST(%s AS TIMESTAMP) AND %s %s CAST(%s AS TIMESTAMP) THEN %s", et, lo, quoteLiteral(sp.ranges[i][0]), et, hi, quoteLiteral(sp.ranges[i][1]), quoteLiteral(n))
		}
	}
	b.WriteString(" END")
	return b.String()
}

// execTraining runs a training dataset request.
func (s *Session) execTraining(ctx context.Context, req *trainingRequest) (string, error) {
	if req.Key != s.e.doKey {
		return "", errOwnLanguage(trainingLanguage)
	}
	if s.tx != txIdle {
		return "", pgerr.New(pgerr.ActiveSQLTransaction, "%s TRAINING DATASET cannot run inside a transaction block", strings.ToUpper(req.Op))
	}
	if req.Op == "drop" {
		return "DROP TRAINING DATASET", s.dropTraining(ctx, req)
	}
	return "CREATE TRAINING DATASET", s.createTraining(ctx, req)
}

func (s *Session) trainingVersions(name string) []catalog.TrainingDataset {
	var out []catalog.TrainingDataset
	for _, td := range s.e.catalog.TrainingDatasets(s.db.name) {
		if td.Name == name {
			out = append(out, td)
		}
	}
	return out
}

func (s *Session) dropTraining(ctx context.Context, req *trainingRequest) error {
	versions := s.trainingVersions(req.Name)
	if len(versions) == 0 {
		if req.IfExists {
			s.notice("NOTICE", "00000", "training dataset %q does not exist, skipping", req.Name)
			return nil
		}
		return pgerr.New(pgerr.UndefinedObject, "training dataset %q does not exist", req.Name)
	}
	if _, err := s.e.catalog.Propose(ctx, catalog.CmdCommit, catalog.Commit{Project: s.db.name, User: s.user, DropTraining: []string{req.Name}}); err != nil {
		return fmt.Errorf("drop training dataset: %w", err)
	}
	for _, td := range versions {
		dir := fmt.Sprintf("/Projects/%s/TrainingDatasets/%s_%d", s.db.name, td.Name, td.Version)
		if err := s.e.fs.Delete(ctx, dir, true); err != nil && catalog.CodeOf(err) != catalog.CodeNotFound {
			s.e.log.Warn("delete training dataset files", "dir", dir, "err", err)
		}
	}
	s.e.ddlGen.Add(1)
	return s.exec(ctx, "DROP VIEW IF EXISTS "+quoteIdent(s.db.name)+".main."+quoteIdent(req.Name))
}

func (s *Session) createTraining(ctx context.Context, req *trainingRequest) (err error) {
	fv, ok := s.e.catalog.FeatureView(s.db.name, "main", req.View)
	if !ok {
		return pgerr.New(pgerr.UndefinedObject, "feature view %q does not exist", req.View)
	}
	versions := s.trainingVersions(req.Name)
	if len(versions) == 0 {
		if _, taken := s.e.catalog.FeatureView(s.db.name, "main", req.Name); taken || s.e.catalog.HasTable(s.db.name, "main", req.Name) {
			return pgerr.New(pgerr.DuplicateTable, "relation %q already exists", req.Name)
		}
	}
	sp, err := parseSplit(req.Split)
	if err != nil {
		return err
	}
	// The catalog time the feature groups are read at.
	if err := s.e.catalog.Linearize(ctx); err != nil {
		s.e.log.Warn("linearizable read", "err", err)
	}
	asOf := s.e.catalog.LastTime()
	if req.AsOf != "" {
		rows, err := s.conn.QueryContext(ctx, "SELECT epoch_ns(CAST("+quoteLiteral(req.AsOf)+" AS TIMESTAMPTZ))", nil)
		if err != nil {
			return pgerr.New(pgerr.InvalidDatetimeFormat, "as_of: %v", err)
		}
		vals := make([]driver.Value, 1)
		err = rows.Next(vals)
		rows.Close()
		if err != nil {
			return pgerr.New(pgerr.InvalidDatetimeFormat, "as_of %q is not a time", req.AsOf)
		}
		asOf, _ = vals[0].(int64)
	}
	td := catalog.TrainingDataset{Name: req.Name, Version: len(versions) + 1, FeatureView: fv.Name, Split: req.Split, Seed: req.Seed, AsOf: asOf}
	if len(versions) > 0 {
		td.Version = versions[len(versions)-1].Version + 1
	}
	for _, r := range fv.Reads {
		v, _, err := s.e.catalog.TableFiles(s.db.name, "main", r.Name, 0, asOf)
		if err != nil {
			return pgerr.New(pgerr.InvalidParameterValue, "feature group %s as of the training dataset's time: %v", r.Name, err)
		}
		r.Snapshot = v
		td.Reads = append(td.Reads, r)
	}

	// Read every table as of asOf: the session's views, pinned for the
	// statements below, then back to the current versions.
	s.stx, s.viewsStale = newStorageTx(asOf), true
	defer func() {
		s.stx, s.viewsStale = nil, true
		s.exec(context.WithoutCancel(ctx), "DROP TABLE IF EXISTS temp.main.hopsql_td_build")
	}()
	if err := s.syncViews(ctx); err != nil {
		return err
	}
	cols, err := s.relationColumns(ctx, fv.Name)
	if err != nil {
		return err
	}
	for _, c := range cols {
		if c == "split" {
			return pgerr.New(pgerr.DuplicateColumn, "feature view %s has a column named split, which a training dataset adds", fv.Name)
		}
	}
	if len(sp.ranges) > 0 {
		if fv.EventTime == "" || !containsString(cols, fv.EventTime) {
			return pgerr.New(pgerr.InvalidParameterValue, "a time-range split needs the label's event time among feature view %s's columns", fv.Name)
		}
	}
	if err := s.exec(ctx, "CREATE TEMP TABLE hopsql_td_build AS SELECT * FROM (SELECT *, "+sp.expr(cols, fv.EventTime, req.Seed)+
		" AS split FROM "+quoteIdent(fv.Name)+") WHERE split IS NOT NULL"); err != nil {
		return pgerr.From(err)
	}
	if td.Transforms, err = s.fitTransforms(ctx, req.Transforms, cols, sp.names); err != nil {
		return err
	}
	dir := fmt.Sprintf("/Projects/%s/TrainingDatasets/%s_%d", s.db.name, td.Name, td.Version)
	// The version's directory belongs to whoever creates its marker first
	// (a file create is exclusive); a failure removes only a directory this
	// call owns and has not committed. A marker left by a crash is stale
	// after the block grace period.
	marker := dir + "/.building"
	if _, err := s.e.fs.WriteFile(ctx, marker, nil, fs.CreateOptions{Owner: s.user, Mode: 0o600}); err != nil {
		if catalog.CodeOf(err) != catalog.CodeExists {
			return fsError(err)
		}
		fi, serr := s.e.fs.Stat(ctx, marker)
		if serr != nil || time.Since(time.Unix(0, fi.Mtime)) < s.e.cfg.GCGrace {
			return pgerr.New(pgerr.SerializationFailure, "training dataset %s version %d is being made by another session", td.Name, td.Version)
		}
		if err := s.e.fs.Delete(ctx, dir, true); err != nil {
			return fsError(err)
		}
		if _, err := s.e.fs.WriteFile(ctx, marker, nil, fs.CreateOptions{Owner: s.user, Mode: 0o600}); err != nil {
			return fsError(err)
		}
	}
	committed := false
	defer func() {
		if err != nil && !committed {
			s.e.fs.Delete(context.WithoutCancel(ctx), dir, true)
		}
	}()
	var locals []string
	for _, split := range sp.names {
		tmp := filepath.Join(s.e.fs.TempDir(), fmt.Sprintf("td-%d-%s.parquet", time.Now().UnixNano(), catalog.NewRequestID()[:8]))
		// Sorted: the same rows give the same file.
		q := "COPY (SELECT * FROM temp.main.hopsql_td_build WHERE split = " + quoteLiteral(split) + " ORDER BY ALL) TO " + quoteLiteral(tmp) +
			" (" + storage.WriteOptions(s.e.cfg.ParquetCompression) + ")"
		n, err := execCountSQL(ctx, s, q)
		if err != nil {
			os.Remove(tmp)
			return pgerr.From(err)
		}
		p := dir + "/" + split + "/part-0" + storage.ParquetExt
		if _, err := s.e.fs.Mkdirs(ctx, dir+"/"+split, s.user, 0o750); err != nil {
			os.Remove(tmp)
			return fsError(err)
		}
		fi, err := s.e.fs.AdoptFile(ctx, p, tmp, fs.CreateOptions{Owner: s.user, Mode: 0o440})
		if err != nil {
			os.Remove(tmp)
			return fsError(err)
		}
		td.Files = append(td.Files, catalog.TrainingSplit{Split: split, Path: p, Rows: n, Bytes: fi.Size})
		locals = append(locals, s.e.fs.BlockPath(fi.Block.ID))
	}
	if _, err = s.e.catalog.Propose(ctx, catalog.CmdCommit, catalog.Commit{Project: s.db.name, User: s.user, PutTraining: []catalog.TrainingDataset{td}}); err != nil {
		if catalog.CodeOf(err) == catalog.CodeConflict {
			return pgerr.New(pgerr.SerializationFailure, "%s", err.Error())
		}
		return fmt.Errorf("record training dataset: %w", err)
	}
	committed = true
	if err := s.e.fs.Delete(ctx, marker, false); err != nil {
		s.e.log.Warn("training dataset marker", "path", marker, "err", err)
	}
	s.e.ddlGen.Add(1)
	return s.exec(ctx, trainingViewSQL(s.db.name, td, locals))
}

// trainingViewSQL is the view that reads a training dataset version, its
// fitted transforms applied.
func trainingViewSQL(db string, td catalog.TrainingDataset, locals []string) string {
	q := make([]string, len(locals))
	for i, l := range locals {
		q[i] = quoteLiteral(l)
	}
	return "CREATE OR REPLACE VIEW " + quoteIdent(db) + ".main." + quoteIdent(td.Name) + " AS SELECT " + transformedSelect(td.Transforms) +
		" FROM read_parquet([" + strings.Join(q, ", ") + "])"
}

// trainingFiles returns the local paths of a training dataset version's
// files.
func (e *Engine) trainingFiles(td catalog.TrainingDataset) ([]string, error) {
	var out []string
	for _, f := range td.Files {
		fi, err := e.fs.Stat(context.Background(), f.Path)
		if err != nil {
			return nil, err
		}
		if fi.Block == nil {
			return nil, fmt.Errorf("training dataset file %s has no block", f.Path)
		}
		out = append(out, e.fs.BlockPath(fi.Block.ID))
	}
	return out, nil
}

// reconcileTraining makes each training dataset's view read its latest
// version (block paths are this node's).
func (e *Engine) reconcileTraining(ctx context.Context, conn driver.ExecerContext, db string) error {
	latest := map[string]catalog.TrainingDataset{}
	for _, td := range e.catalog.TrainingDatasets(db) {
		latest[td.Name] = td
	}
	for name, td := range latest {
		locals, err := e.trainingFiles(td)
		if err != nil {
			e.log.Warn("training dataset files", "database", db, "name", name, "err", err)
			continue
		}
		if _, err := conn.ExecContext(ctx, trainingViewSQL(db, td, locals), nil); err != nil {
			return fmt.Errorf("view of training dataset %q: %w", name, err)
		}
	}
	return nil
}

// relationColumns lists a relation's column names as this session sees it.
func (s *Session) relationColumns(ctx context.Context, name string) ([]string, error) {
	rows, err := s.conn.QueryContext(ctx, "SELECT * FROM "+quoteIdent(name)+" LIMIT 0", nil)
	if err != nil {
		return nil, pgerr.From(err)
	}
	defer rows.Close()
	return rows.Columns(), nil
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// execCountSQL runs a statement that reports a row count (COPY … TO).
func execCountSQL(ctx context.Context, s *Session, sql string) (int64, error) {
	rows, err := s.conn.QueryContext(ctx, sql, nil)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	vals := make([]driver.Value, 1)
	if rows.Next(vals) != nil {
		return 0, nil
	}
	n, _ := vals[0].(int64)
	return n, nil
}
