package engine

import (
	"context"
	"database/sql/driver"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	duckdb "github.com/duckdb/duckdb-go/v2"

	"github.com/hopsql/hopsql/catalog"
	"github.com/hopsql/hopsql/engine/experiment"
	"github.com/hopsql/hopsql/engine/pgerr"
	"github.com/hopsql/hopsql/engine/pgtypes"
	"github.com/hopsql/hopsql/fs"
	"github.com/hopsql/hopsql/gpu"
	"github.com/hopsql/hopsql/gpu/jobs"
	"github.com/hopsql/hopsql/gpu/trainer"
)

// Experiments run as trials in the background (engine/experiment drives
// them). Creating one checks everything a user can get wrong before
// anything starts, exports the data once as .npy files under the node's
// data directory (<data>/experiments/<id>/data), and records the request in
// the catalog; each trial gets /Projects/<p>/Experiments/<name>_<id>/trial_<n>/
// with hparams.json, outputs.json and output.log (the Hopsworks layout).
// The node leading the catalog runs them; after a restart it resumes the
// RUNNING ones.

// experimentOptions are the WITH options and their meaning (docs/sql.md).
var experimentOptions = map[string]string{
	"parallelism":               "trials at once (default: the CPU slots, or the GPUs' worth of trials)",
	"gpus_per_trial":            "GPUs per trial: 0 (a CPU slot), a fraction up to 1, or a whole number",
	"early_stopping":            "'median', 'asha' or 'none'",
	"early_stopping_min_trials": "finished trials before the median rule may stop one (default 3)",
	"early_stopping_warmup":     "steps a trial reports before the median rule may stop it (default 10)",
	"max_failures":              "failed trials tolerated before the experiment fails (default: any number)",
	"seed":                      "seed of the search, the test split and the trainers (default 0)",
	"task":                      "'classification' or 'regression' (default: from the target's type)",
	"synchronous":               "run generations of `parallelism` trials with a barrier and no early stopping",
}

// experimentState is the engine's part of a running experiment.
type experimentState struct {
	id      uint64
	project string
	spec    *experimentSpec
	driver  *experiment.Driver
}

func (e *Engine) experimentDir(project string) string {
	return filepath.Join(e.cfg.DataDir, "experiments", project)
}

// execExperiment runs an experiment statement.
func (s *Session) execExperiment(ctx context.Context, st *Statement, sink RowSink) (Result, error) {
	req, _ := experimentRequestOf(st.node.GetDoStmt())
	if req.Key != s.e.doKey {
		return Result{}, pgerr.New(pgerr.FeatureNotSupported, "language %q is hopsql's own; use CREATE EXPERIMENT", experimentLanguage)
	}
	if s.tx != txIdle {
		return Result{}, pgerr.New(pgerr.ActiveSQLTransaction, "%s cannot run inside a transaction block", st.tag)
	}
	switch req.Op {
	case "create":
		id, err := s.createExperiment(ctx, req)
		if err != nil {
			return Result{}, err
		}
		if err := sink([]driver.Value{int64(id), req.Name}); err != nil {
			return Result{}, err
		}
	case "wait":
		row, err := s.waitExperiment(ctx, req.Name)
		if err != nil {
			return Result{}, err
		}
		if err := sink(row); err != nil {
			return Result{}, err
		}
	case "cancel":
		x, err := s.findExperiment(req.Name)
		if err != nil {
			return Result{}, err
		}
		if err := s.e.cancelExperiment(ctx, x); err != nil {
			return Result{}, err
		}
	case "drop":
		x, err := s.findExperiment(req.Name)
		if err != nil {
			if req.IfExists {
				s.notice("NOTICE", pgerr.SuccessfulCompletion, "experiment %q does not exist, skipping", req.Name)
				return Result{Tag: st.tag}, nil
			}
			return Result{}, err
		}
		if err := s.e.dropExperiment(ctx, x); err != nil {
			return Result{}, err
		}
	}
	return Result{Tag: st.tag}, nil
}

// experimentFields are the columns CREATE and WAIT EXPERIMENT return.
func experimentFields(op string) []Field {
	bigint := pgtypes.Type{OID: 20, Typmod: -1, Size: 8}
	float8 := pgtypes.Type{OID: 701, Typmod: -1, Size: 8}
	switch op {
	case "create":
		return []Field{{Name: "experiment_id", Type: bigint}, textField("name")}
	case "wait":
		return []Field{{Name: "experiment_id", Type: bigint}, textField("name"), textField("status"),
			{Name: "trials", Type: bigint}, {Name: "best_trial", Type: bigint}, {Name: "best_value", Type: float8}, textField("best_params")}
	}
	return nil
}

// findExperiment resolves a name to the newest experiment of that name (a
// number names an experiment by id).
func (s *Session) findExperiment(name string) (catalog.Experiment, error) {
	all := s.e.catalog.Experiments(s.db.name)
	id, numeric := strconv.ParseUint(name, 10, 64)
	for i := len(all) - 1; i >= 0; i-- {
		if all[i].Name == name || numeric == nil && all[i].ID == id {
			return all[i], nil
		}
	}
	return catalog.Experiment{}, pgerr.New(pgerr.UndefinedObject, "experiment %q does not exist", name)
}

func optInt(v any, name string) (int, error) {
	switch x := v.(type) {
	case int64:
		return int(x), nil
	case float64:
		if x == math.Trunc(x) {
			return int(x), nil
		}
	}
	return 0, pgerr.New(pgerr.InvalidParameterValue, "option %q must be an integer, not %v", name, v)
}

// createExperiment checks the request, exports the data and starts the
// experiment.
func (s *Session) createExperiment(ctx context.Context, req *experimentRequest) (uint64, error) {
	spec := req.Spec
	// The algorithm and its hyperparameters.
	var alg trainer.Algorithm
	if spec.Algorithm == "script" {
		p, err := catalog.CleanPath(spec.Script)
		if err != nil {
			return 0, pgerr.New(pgerr.InvalidParameterValue, "script path %q: %v", spec.Script, err)
		}
		prefix := "/" + catalog.ProjectsDir + "/" + s.db.name + "/"
		if !strings.HasPrefix(p, prefix) {
			return 0, pgerr.New(pgerr.InsufficientPrivilege, "script %q is outside project %q (%s…)", spec.Script, s.db.name, prefix)
		}
		if fi, err := s.e.fs.Stat(ctx, p); err != nil || fi.Dir {
			return 0, pgerr.New(pgerr.UndefinedFile, "script %q does not exist", p)
		}
		spec.Script = p
	} else {
		var ok bool
		if alg, ok = trainer.Lookup(spec.Algorithm); !ok {
			return 0, pgerr.New(pgerr.UndefinedObject, "unknown algorithm %q (built-in: %s; or TRAIN SCRIPT 'path')",
				spec.Algorithm, strings.Join(trainer.Names(), ", "))
		}
		spec.Algorithm = alg.Name
		for name, v := range spec.Fixed {
			if err := checkParam(alg, name, v); err != nil {
				return 0, err
			}
		}
		for i, d := range spec.Space {
			p, ok := alg.Params[d.Name]
			if !ok {
				return 0, unknownParam(alg, d.Name)
			}
			for _, v := range d.Values {
				if err := checkParam(alg, d.Name, v); err != nil {
					return 0, err
				}
			}
			if d.Range {
				if p.Kind != trainer.Float && p.Kind != trainer.Int {
					return 0, pgerr.New(pgerr.InvalidParameterValue, "hyperparameter %q is %s: search it with IN (…), not RANGE", d.Name, p.Kind)
				}
				spec.Space[i].Int = p.Kind == trainer.Int
				if spec.Space[i].Int && math.Floor(d.High) < math.Ceil(d.Low) {
					return 0, pgerr.New(pgerr.InvalidParameterValue, "RANGE for integer %q holds no integer", d.Name)
				}
			}
		}
	}
	for _, d := range spec.Space {
		if _, fixed := spec.Fixed[d.Name]; fixed {
			return 0, pgerr.New(pgerr.InvalidParameterValue, "hyperparameter %q is both fixed (TRAIN … (%s = …)) and searched", d.Name, d.Name)
		}
	}
	// Options.
	for name := range spec.Options {
		if _, ok := experimentOptions[name]; !ok {
			var names, hints []string
			for n := range experimentOptions {
				names = append(names, n)
			}
			sort.Strings(names)
			for _, n := range names {
				hints = append(hints, n+": "+experimentOptions[n])
			}
			return 0, pgerr.New(pgerr.InvalidParameterValue, "unknown experiment option %q (%s)", name, strings.Join(names, ", ")).
				WithHint(strings.Join(hints, "; "))
		}
	}
	spec.MaxFailures, spec.MinTrials, spec.Warmup, spec.Stopping = -1, 3, 10, experiment.StopMedian
	if spec.Search == experiment.Ablation {
		// Ablation compares complete trials.
		spec.Stopping = experiment.StopNone
	}
	for name, v := range spec.Options {
		var err error
		switch name {
		case "parallelism":
			spec.Parallelism, err = optInt(v, name)
			if err == nil && spec.Parallelism <= 0 {
				err = pgerr.New(pgerr.InvalidParameterValue, "parallelism must be at least 1")
			}
		case "gpus_per_trial":
			f, ok := experiment.ToFloat(v)
			if !ok || f < 0 {
				err = pgerr.New(pgerr.InvalidParameterValue, "gpus_per_trial must be a number ≥ 0, not %v", v)
			}
			spec.GPUs = f
		case "early_stopping":
			str, _ := v.(string)
			switch str {
			case experiment.StopMedian, experiment.StopASHA, experiment.StopNone:
				spec.Stopping = str
			default:
				err = pgerr.New(pgerr.InvalidParameterValue, "early_stopping must be 'median', 'asha' or 'none', not %v", v)
			}
		case "early_stopping_min_trials":
			spec.MinTrials, err = optInt(v, name)
			if err == nil && spec.MinTrials < 1 {
				err = pgerr.New(pgerr.InvalidParameterValue, "early_stopping_min_trials must be at least 1")
			}
		case "early_stopping_warmup":
			spec.Warmup, err = optInt(v, name)
			if err == nil && spec.Warmup < 0 {
				err = pgerr.New(pgerr.InvalidParameterValue, "early_stopping_warmup must be ≥ 0")
			}
		case "max_failures":
			spec.MaxFailures, err = optInt(v, name)
			if err == nil && spec.MaxFailures < 0 {
				err = pgerr.New(pgerr.InvalidParameterValue, "max_failures must be ≥ 0")
			}
		case "seed":
			var n int
			n, err = optInt(v, name)
			spec.Seed = int64(n)
		case "task":
			str, _ := v.(string)
			if str != string(trainer.Classification) && str != string(trainer.Regression) {
				err = pgerr.New(pgerr.InvalidParameterValue, "task must be 'classification' or 'regression', not %v", v)
			}
			spec.Task = str
		case "synchronous":
			b, ok := v.(bool)
			if !ok {
				err = pgerr.New(pgerr.InvalidParameterValue, "synchronous must be true or false")
			}
			spec.Synchronous = b
		}
		if err != nil {
			return 0, err
		}
	}
	if spec.GPUs > 0 {
		devs, _ := s.e.gpus.Devices(ctx)
		if len(devs) == 0 {
			return 0, pgerr.New(pgerr.InsufficientResources, "gpus_per_trial = %v, but this server has no GPU", spec.GPUs)
		}
		if spec.GPUs > 1 && (spec.GPUs != math.Trunc(spec.GPUs) || int(spec.GPUs) > len(devs)) {
			return 0, pgerr.New(pgerr.InsufficientResources, "gpus_per_trial = %v: above 1 it must be a whole number of at most %d", spec.GPUs, len(devs))
		}
	} else if total, _ := s.e.alloc.CPUSlots(); total == 0 {
		return 0, pgerr.New(pgerr.InsufficientResources, "this server has no CPU slots for trials (--cpu-slots 0)")
	}
	// The data: this also checks the source, the target and the features.
	tmp, err := os.MkdirTemp(filepath.Join(s.e.cfg.DataDir, "tmp"), "experiment-")
	if err != nil {
		return 0, fmt.Errorf("experiment data: %w", err)
	}
	defer os.RemoveAll(tmp)
	if err := s.exportExperimentData(ctx, spec, tmp); err != nil {
		return 0, err
	}
	if alg.Name != "" {
		if !alg.Supports(trainer.Task(spec.Task)) {
			return 0, pgerr.New(pgerr.InvalidParameterValue, "%s does not do %s (target %q)", alg.Name, spec.Task, spec.Target)
		}
		metrics := trainer.Metrics(trainer.Task(spec.Task))
		if _, ok := metrics[spec.Metric]; !ok {
			var names []string
			for m := range metrics {
				names = append(names, m)
			}
			sort.Strings(names)
			return 0, pgerr.New(pgerr.InvalidParameterValue, "%s trainers report %s, not %q", spec.Task, strings.Join(names, ", "), spec.Metric)
		}
	}
	for _, f := range spec.AblateFeatures {
		if !containsString(spec.Features, f) {
			return 0, pgerr.New(pgerr.UndefinedColumn, "ABLATE FEATURES: %q is not a feature of %q (features: %s)", f, spec.Source, strings.Join(spec.Features, ", "))
		}
	}
	if len(spec.AblateLayers) > 0 {
		if !alg.Layers {
			return 0, pgerr.New(pgerr.InvalidParameterValue, "ABLATE LAYERS needs a model with named layers (mlp), not %s", spec.Algorithm)
		}
		n := 2
		if v, ok := spec.Fixed["layers"]; ok {
			n, _ = optInt(v, "layers")
		}
		for _, l := range spec.AblateLayers {
			k, err := strconv.Atoi(strings.TrimPrefix(l, "hidden"))
			if !strings.HasPrefix(l, "hidden") || err != nil || k < 1 || k > n {
				return 0, pgerr.New(pgerr.InvalidParameterValue, "ABLATE LAYERS: %q is not a layer of this mlp (hidden1 … hidden%d)", l, n)
			}
		}
	}
	if spec.Search == experiment.Ablation && len(spec.Space) > 0 {
		return 0, pgerr.New(pgerr.InvalidParameterValue, "ABLATE runs one configuration: fix hyperparameters with TRAIN … (p = v)")
	}
	searcher, err := experiment.NewSearcher(spec.Search, spec.Space, spec.Trials, spec.AblateFeatures, spec.AblateLayers, spec.Maximize, spec.Seed)
	if err != nil {
		return 0, pgerr.New(pgerr.InvalidParameterValue, "%v", err)
	}
	if searcher.Total() == 0 {
		return 0, pgerr.New(pgerr.InvalidParameterValue, "the search has no configuration to run")
	}
	if spec.Parallelism == 0 {
		spec.Parallelism = s.e.defaultParallelism(spec.GPUs)
	}
	spec.Parallelism = min(spec.Parallelism, searcher.Total())

	// Record it, then move the data into place and start it.
	js, err := json.Marshal(spec)
	if err != nil {
		return 0, fmt.Errorf("experiment spec: %w", err)
	}
	id, err := s.e.catalog.Propose(ctx, catalog.CmdPutExperiment, catalog.PutExperiment{Project: s.db.name,
		Experiment: &catalog.Experiment{Name: req.Name, Owner: s.user, Spec: js, Status: catalog.ExperimentRunning}})
	if err != nil {
		return 0, pgerr.From(err)
	}
	x, _ := s.e.catalog.Experiment(s.db.name, id)
	local := filepath.Join(s.e.experimentDir(s.db.name), strconv.FormatUint(id, 10))
	if err := os.MkdirAll(local, 0o755); err == nil {
		err = os.Rename(tmp, filepath.Join(local, "data"))
	}
	if err != nil {
		s.e.failExperiment(x, fmt.Sprintf("placing its data: %v", err))
		return 0, fmt.Errorf("experiment data: %w", err)
	}
	if err := s.e.startExperiment(x); err != nil {
		s.e.failExperiment(x, err.Error())
		return 0, err
	}
	return id, nil
}

func unknownParam(alg trainer.Algorithm, name string) error {
	return pgerr.New(pgerr.InvalidParameterValue, "unknown hyperparameter %q for %s (%s)", name, alg.Name, strings.Join(alg.ParamNames(), ", "))
}

// checkParam checks a hyperparameter value against a built-in algorithm.
func checkParam(alg trainer.Algorithm, name string, v any) error {
	p, ok := alg.Params[name]
	if !ok {
		return unknownParam(alg, name)
	}
	bad := func() error {
		return pgerr.New(pgerr.InvalidParameterValue, "hyperparameter %q of %s is %s, not %v", name, alg.Name, p.Kind, v)
	}
	switch p.Kind {
	case trainer.Float:
		if _, ok := experiment.ToFloat(v); !ok {
			return bad()
		}
	case trainer.Int:
		if f, ok := experiment.ToFloat(v); !ok || f != math.Trunc(f) {
			return bad()
		}
	case trainer.Bool:
		if _, ok := v.(bool); !ok {
			return bad()
		}
	case trainer.String:
		str, isStr := v.(string)
		if name == "max_features" {
			// A fraction of the features, or sqrt/log2.
			if f, ok := experiment.ToFloat(v); ok && f > 0 && f <= 1 || str == "sqrt" || str == "log2" {
				return nil
			}
			return pgerr.New(pgerr.InvalidParameterValue, "max_features is 'sqrt', 'log2' or a fraction in (0, 1], not %v", v)
		}
		if !isStr {
			return bad()
		}
		if len(p.Choices) > 0 && !containsString(p.Choices, str) {
			return pgerr.New(pgerr.InvalidParameterValue, "hyperparameter %q of %s is one of %s, not %q", name, alg.Name, strings.Join(p.Choices, ", "), str)
		}
	}
	return nil
}

func (e *Engine) defaultParallelism(gpus float64) int {
	if gpus > 0 {
		devs, _ := e.gpus.Devices(context.Background())
		per := 1.0
		if gpus < 1 {
			per = math.Floor(1 / gpus)
		} else {
			per = 1 / gpus
		}
		return max(1, int(float64(len(devs))*per))
	}
	total, _ := e.alloc.CPUSlots()
	return max(total, 1)
}

// exportExperimentData writes the source's rows as .npy files: features
// (numbers and booleans as they are, text as the index of its value in
// sorted order; NULL as NaN; other types are not features), the target
// (class indices for classification), split into train and test rows — by
// the source's split column when it has one (test, else validation), else
// 80/20 at random with the experiment's seed.
func (s *Session) exportExperimentData(ctx context.Context, spec *experimentSpec, dir string) error {
	if err := s.syncViews(ctx); err != nil {
		return err
	}
	src := quoteIdent(spec.Source)
	type col struct{ name, typ string }
	var cols []col
	rows, err := s.conn.QueryContext(ctx, "SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM "+src+")", nil)
	if err != nil {
		return pgerr.From(err)
	}
	v := make([]driver.Value, 2)
	for rows.Next(v) == nil {
		cols = append(cols, col{fmt.Sprint(v[0]), strings.ToUpper(fmt.Sprint(v[1]))})
	}
	rows.Close()
	var target *col
	hasSplit := false
	for i := range cols {
		switch cols[i].name {
		case spec.Target:
			target = &cols[i]
		case "split":
			hasSplit = true
		}
	}
	if target == nil {
		return pgerr.New(pgerr.UndefinedColumn, "TARGET %q is not a column of %q", spec.Target, spec.Source)
	}
	numeric := func(t string) bool {
		for _, p := range []string{"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT", "FLOAT", "DOUBLE", "DECIMAL", "BOOLEAN"} {
			if strings.HasPrefix(t, p) {
				return true
			}
		}
		return false
	}
	categorical := func(t string) bool { return t == "VARCHAR" || strings.HasPrefix(t, "ENUM") || t == "UUID" }
	if spec.Task == "" {
		spec.Task = string(trainer.Classification)
		if strings.HasPrefix(target.typ, "FLOAT") || strings.HasPrefix(target.typ, "DOUBLE") || strings.HasPrefix(target.typ, "DECIMAL") {
			spec.Task = string(trainer.Regression)
		}
	}
	var exprs []string
	spec.Features = nil
	for _, c := range cols {
		if c.name == spec.Target || c.name == "split" {
			continue
		}
		q := quoteIdent(c.name)
		switch {
		case numeric(c.typ):
			exprs = append(exprs, q+"::DOUBLE")
		case categorical(c.typ):
			exprs = append(exprs, "CASE WHEN "+q+" IS NULL THEN NULL ELSE dense_rank() OVER (ORDER BY "+q+") - 1 END::DOUBLE")
		default:
			continue
		}
		spec.Features = append(spec.Features, c.name)
	}
	if len(spec.Features) == 0 {
		return pgerr.New(pgerr.InvalidParameterValue, "%q has no feature columns (numbers, booleans or text) besides the target", spec.Source)
	}
	tq := quoteIdent(spec.Target)
	switch spec.Task {
	case string(trainer.Regression):
		if !numeric(target.typ) {
			return pgerr.New(pgerr.DatatypeMismatch, "a regression target must be numeric; %q is %s", spec.Target, strings.ToLower(target.typ))
		}
		exprs = append(exprs, tq+"::DOUBLE")
	default:
		spec.Classes = nil
		err := s.eachRow(ctx, "SELECT DISTINCT "+tq+"::VARCHAR FROM "+src+" WHERE "+tq+" IS NOT NULL ORDER BY 1", 1, func(r []driver.Value) {
			spec.Classes = append(spec.Classes, fmt.Sprint(r[0]))
		})
		if err != nil {
			return pgerr.From(err)
		}
		if len(spec.Classes) < 2 {
			return pgerr.New(pgerr.InvalidParameterValue, "target %q has %d distinct values: classification needs at least 2", spec.Target, len(spec.Classes))
		}
		if len(spec.Classes) > 1000 {
			return pgerr.New(pgerr.InvalidParameterValue, "target %q has %d distinct values: too many classes (use WITH (task = 'regression') for a number)", spec.Target, len(spec.Classes))
		}
		exprs = append(exprs, "(dense_rank() OVER (ORDER BY "+tq+"::VARCHAR) - 1)::DOUBLE")
	}
	splitExpr := "NULL"
	if hasSplit {
		splitExpr = `"split"::VARCHAR`
	}
	// Sorted on every column, so that the same data gives the same files
	// and the same random split.
	q := "SELECT " + strings.Join(exprs, ", ") + ", " + splitExpr + " AS hopsql_split FROM " + src + " WHERE " + tq + " IS NOT NULL ORDER BY ALL"
	width := len(exprs) + 1
	nf := len(spec.Features)
	var train, test [][]float64
	var splits []string
	var all [][]float64
	err = s.eachRow(ctx, q, width, func(r []driver.Value) {
		row := make([]float64, width-1)
		for i := range row {
			if f, ok := r[i].(float64); ok {
				row[i] = f
			} else {
				row[i] = math.NaN()
			}
		}
		all = append(all, row)
		sp, _ := r[width-1].(string)
		splits = append(splits, sp)
	})
	if err != nil {
		return pgerr.From(err)
	}
	if hasSplit {
		testName := "test"
		if !containsString(splits, "test") {
			testName = "validation"
		}
		for i, row := range all {
			switch splits[i] {
			case "train":
				train = append(train, row)
			case testName:
				test = append(test, row)
			}
		}
	} else {
		rng := rand.New(rand.NewSource(spec.Seed))
		perm := rng.Perm(len(all))
		cut := len(all) / 5
		for k, i := range perm {
			if k < cut {
				test = append(test, all[i])
			} else {
				train = append(train, all[i])
			}
		}
		// Keep file order stable (the permutation picked membership only).
		sortRows(train)
		sortRows(test)
	}
	if len(train) == 0 || len(test) == 0 {
		return pgerr.New(pgerr.InvalidParameterValue, "%q gives %d training and %d test rows: both are needed (a split column with 'train' and 'test', or enough rows for 80/20)", spec.Source, len(train), len(test))
	}
	spec.TrainRows, spec.TestRows = len(train), len(test)
	write := func(name string, rows [][]float64, from, to int) error {
		f, err := os.Create(filepath.Join(dir, name))
		if err != nil {
			return err
		}
		data := make([]float64, 0, len(rows)*(to-from))
		for _, r := range rows {
			data = append(data, r[from:to]...)
		}
		cols := to - from
		if to-from == 1 && from == nf {
			cols = -1
		}
		if err := trainer.WriteNPY(f, data, len(rows), cols); err != nil {
			f.Close()
			return err
		}
		return f.Close()
	}
	for _, w := range []struct {
		name     string
		rows     [][]float64
		from, to int
	}{{"X_train.npy", train, 0, nf}, {"y_train.npy", train, nf, nf + 1}, {"X_test.npy", test, 0, nf}, {"y_test.npy", test, nf, nf + 1}} {
		if err := write(w.name, w.rows, w.from, w.to); err != nil {
			return fmt.Errorf("experiment data %s: %w", w.name, err)
		}
	}
	meta := map[string]any{"features.json": spec.Features}
	if spec.Classes != nil {
		meta["classes.json"] = spec.Classes
	}
	for name, v := range meta {
		b, _ := json.Marshal(v)
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			return fmt.Errorf("experiment data %s: %w", name, err)
		}
	}
	return nil
}

func sortRows(rows [][]float64) {
	sort.SliceStable(rows, func(i, j int) bool {
		a, b := rows[i], rows[j]
		for k := range a {
			if a[k] != b[k] {
				return a[k] < b[k] || math.IsNaN(b[k]) && !math.IsNaN(a[k])
			}
		}
		return false
	})
}

// startExperiment runs an experiment recorded in the catalog (new, or
// resumed after a restart) on this node.
func (e *Engine) startExperiment(x catalog.Experiment) error {
	var spec experimentSpec
	if err := json.Unmarshal(x.Spec, &spec); err != nil {
		return fmt.Errorf("experiment %d spec: %w", x.ID, err)
	}
	spec.Dir = path.Join("/", catalog.ProjectsDir, x.Project, "Experiments", fmt.Sprintf("%s_%d", x.Name, x.ID))
	searcher, err := experiment.NewSearcher(spec.Search, spec.Space, spec.Trials, spec.AblateFeatures, spec.AblateLayers, spec.Maximize, spec.Seed)
	if err != nil {
		return err
	}
	st := &experimentState{id: x.ID, project: x.Project, spec: &spec}
	env := &trialEnv{e: e, cat: e.catalog, x: st, owner: x.Owner, local: filepath.Join(e.experimentDir(x.Project), strconv.FormatUint(x.ID, 10))}
	d, err := experiment.New(experiment.Plan{Searcher: searcher, Metric: spec.Metric, Maximize: spec.Maximize,
		Parallelism: spec.Parallelism, GPUs: spec.GPUs, EarlyStopping: spec.Stopping, MinTrials: spec.MinTrials, Warmup: spec.Warmup,
		MaxFailures: spec.MaxFailures, Synchronous: spec.Synchronous}, env, e.alloc, x.Trials)
	if err != nil {
		return err
	}
	if _, err := e.fs.Mkdirs(context.Background(), spec.Dir, x.Owner, 0o755); err != nil {
		return fmt.Errorf("experiment directory: %w", err)
	}
	st.driver = d
	e.expMu.Lock()
	if _, running := e.exps[x.ID]; running {
		// Already started here (a resume racing a create, say).
		e.expMu.Unlock()
		return nil
	}
	e.exps[x.ID] = st
	e.expMu.Unlock()
	d.Start(e.expCtx)
	go func() {
		<-d.Done()
		e.expMu.Lock()
		if e.exps[x.ID] == st {
			delete(e.exps, x.ID)
		}
		e.expMu.Unlock()
	}()
	return nil
}

// resumeExperiments starts the RUNNING experiments the catalog holds (after
// a restart): finished trials are kept, unfinished ones run again.
func (e *Engine) resumeExperiments() {
	if !e.catalog.IsLeader() {
		return
	}
	for _, x := range e.catalog.Experiments("") {
		if x.Status != catalog.ExperimentRunning {
			continue
		}
		e.expMu.Lock()
		_, running := e.exps[x.ID]
		e.expMu.Unlock()
		if running {
			continue
		}
		e.log.Info("resuming experiment", "database", x.Project, "experiment", x.Name, "id", x.ID)
		if err := e.startExperiment(x); err != nil {
			e.failExperiment(x, fmt.Sprintf("resuming: %v", err))
		}
	}
}

func (e *Engine) failExperiment(x catalog.Experiment, msg string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := e.catalog.Propose(ctx, catalog.CmdPutExperiment, catalog.PutExperiment{Project: x.Project,
		Experiment: &catalog.Experiment{ID: x.ID, Status: catalog.ExperimentFailed, Error: msg}}); err != nil {
		e.log.Warn("experiment", "id", x.ID, "err", err)
	}
}

func (e *Engine) runningExperiment(id uint64) *experimentState {
	e.expMu.Lock()
	defer e.expMu.Unlock()
	return e.exps[id]
}

func (e *Engine) cancelExperiment(ctx context.Context, x catalog.Experiment) error {
	if x.Status != catalog.ExperimentRunning {
		return pgerr.New(pgerr.ObjectNotInPrerequisiteState, "experiment %q is %s, not RUNNING", x.Name, x.Status)
	}
	if st := e.runningExperiment(x.ID); st != nil {
		st.driver.Cancel()
		select {
		case <-st.driver.Done():
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	// Recorded as running, but not running here (its node stopped).
	_, err := e.catalog.Propose(ctx, catalog.CmdPutExperiment, catalog.PutExperiment{Project: x.Project,
		Experiment: &catalog.Experiment{ID: x.ID, Status: catalog.ExperimentCancelled}})
	return pgerr.From(err)
}

// stopExperiments cancels a project's running experiments (the project is
// being dropped).
func (e *Engine) stopExperiments(ctx context.Context, project string) {
	e.expMu.Lock()
	var mine []*experimentState
	for _, x := range e.exps {
		if x.project == project {
			mine = append(mine, x)
		}
	}
	e.expMu.Unlock()
	for _, x := range mine {
		x.driver.Cancel()
		select {
		case <-x.driver.Done():
		case <-ctx.Done():
			return
		}
	}
}

func (e *Engine) dropExperiment(ctx context.Context, x catalog.Experiment) error {
	if st := e.runningExperiment(x.ID); st != nil {
		st.driver.Cancel()
		select {
		case <-st.driver.Done():
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	if _, err := e.catalog.Propose(ctx, catalog.CmdDropExperiment, catalog.DropExperiment{Project: x.Project, ID: x.ID}); err != nil {
		return pgerr.From(err)
	}
	dir := path.Join("/", catalog.ProjectsDir, x.Project, "Experiments", fmt.Sprintf("%s_%d", x.Name, x.ID))
	if err := e.fs.Delete(ctx, dir, true); err != nil && !errors.Is(err, catalog.ErrNotFound) {
		e.log.Warn("drop experiment directory", "dir", dir, "err", err)
	}
	_ = os.RemoveAll(filepath.Join(e.experimentDir(x.Project), strconv.FormatUint(x.ID, 10)))
	return nil
}

// experimentTrials returns an experiment's trials: live from its driver
// while it runs here (with the steps running trials reported so far), from
// the catalog otherwise.
func (e *Engine) experimentTrials(x catalog.Experiment) []catalog.Trial {
	if st := e.runningExperiment(x.ID); st != nil {
		return st.driver.Trials()
	}
	return x.Trials
}

// best returns the best finished trial (succeeded ones before early-stopped
// ones, whose values are partial).
func best(trials []catalog.Trial, maximize bool) *catalog.Trial {
	var out *catalog.Trial
	rank := func(t *catalog.Trial) int {
		if t.Status == catalog.TrialSucceeded {
			return 2
		}
		return 1
	}
	for i := range trials {
		t := &trials[i]
		if t.Value == nil || (t.Status != catalog.TrialSucceeded && t.Status != catalog.TrialEarlyStopped) {
			continue
		}
		if out == nil || rank(t) > rank(out) || rank(t) == rank(out) && (maximize && *t.Value > *out.Value || !maximize && *t.Value < *out.Value) {
			out = t
		}
	}
	return out
}

// waitExperiment blocks until the experiment ends, sending a NOTICE each
// time a trial finishes. A cancel request ends the wait, not the
// experiment (CANCEL EXPERIMENT does that).
func (s *Session) waitExperiment(ctx context.Context, name string) ([]driver.Value, error) {
	x, err := s.findExperiment(name)
	if err != nil {
		return nil, err
	}
	var spec experimentSpec
	_ = json.Unmarshal(x.Spec, &spec)
	reported := -1
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		var ok bool
		if x, ok = s.e.catalog.Experiment(s.db.name, x.ID); !ok {
			return nil, pgerr.New(pgerr.UndefinedObject, "experiment %q was dropped", name)
		}
		st := s.e.runningExperiment(x.ID)
		trials := s.e.experimentTrials(x)
		done, early, failed := 0, 0, 0
		for _, t := range trials {
			switch t.Status {
			case catalog.TrialSucceeded:
				done++
			case catalog.TrialEarlyStopped:
				done++
				early++
			case catalog.TrialFailed:
				done++
				failed++
			}
		}
		if done != reported {
			reported = done
			msg := fmt.Sprintf("experiment %s: %d of %d trials done (%d early stopped, %d failed)", x.Name, done, max(len(trials), spec.totalTrials()), early, failed)
			if b := best(trials, spec.Maximize); b != nil {
				msg += fmt.Sprintf("; best %s %.6g (trial %d)", spec.Metric, *b.Value, b.Number)
			}
			s.notice("NOTICE", pgerr.SuccessfulCompletion, "%s", msg)
		}
		if x.Status != catalog.ExperimentRunning {
			if x.Status == catalog.ExperimentFailed {
				return nil, pgerr.New(pgerr.ExternalRoutineException, "experiment %q failed: %s", x.Name, x.Error)
			}
			row := []driver.Value{int64(x.ID), x.Name, x.Status, int64(len(trials)), nil, nil, nil}
			if b := best(trials, spec.Maximize); b != nil {
				row[4], row[5], row[6] = int64(b.Number), *b.Value, string(b.Params)
			}
			return row, nil
		}
		var doneCh <-chan struct{}
		if st != nil {
			doneCh = st.driver.Done()
		}
		select {
		case <-ctx.Done():
			return nil, pgerr.New(pgerr.QueryCanceled, "canceling statement due to user request (experiment %q goes on; CANCEL EXPERIMENT stops it)", x.Name)
		case <-tick.C:
		case <-doneCh:
			// The driver has recorded the end; read it on the next round.
			time.Sleep(10 * time.Millisecond)
		}
	}
}

func (sp *experimentSpec) totalTrials() int {
	switch sp.Search {
	case experiment.Grid:
		n := 1
		for _, d := range sp.Space {
			n *= len(d.Values)
		}
		return n
	case experiment.Ablation:
		return 1 + len(sp.AblateFeatures) + len(sp.AblateLayers)
	}
	return sp.Trials
}

// trialEnv is how the driver runs trials on this node.
type trialEnv struct {
	e *Engine
	// cat is the catalog, held here: Engine.Close drops its own reference
	// while a driver that outlived the wait for it may still save.
	cat   *catalog.Node
	x     *experimentState
	owner string
	local string // <data>/experiments/<p>/<id>
}

func (t *trialEnv) trialDir(n int) string {
	return filepath.Join(t.local, fmt.Sprintf("trial_%d", n))
}

func (t *trialEnv) fsDir(n int) string {
	return path.Join(t.x.spec.Dir, fmt.Sprintf("trial_%d", n))
}

// Start writes hparams.json (locally for the runtime, and into the
// project's Experiments directory) and starts the trainer.
func (t *trialEnv) Start(ctx context.Context, tr catalog.Trial, g gpu.Grant) (jobs.Job, error) {
	spec := t.x.spec
	dir := t.trialDir(tr.Number)
	if err := os.RemoveAll(dir); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("trial directory: %w", err)
	}
	params := map[string]any{}
	for k, v := range spec.Fixed {
		params[k] = v
	}
	for k, v := range experiment.DecodeParams(tr.Params) {
		params[k] = v
	}
	hp := map[string]any{"trial": tr.Number, "algorithm": spec.Algorithm, "params": params, "task": spec.Task,
		"metric": spec.Metric, "direction": map[bool]string{true: "maximize", false: "minimize"}[spec.Maximize],
		"data": filepath.Join(t.local, "data"), "drop_features": []string{}, "drop_layers": []string{}, "seed": spec.Seed}
	if kind, name, ok := strings.Cut(tr.Ablated, ":"); ok {
		hp["drop_"+map[string]string{"feature": "features", "layer": "layers"}[kind]] = []string{name}
	}
	if spec.Algorithm == "script" {
		body, err := t.e.fs.ReadFile(ctx, spec.Script)
		if err != nil {
			return nil, fmt.Errorf("read script %s: %w", spec.Script, err)
		}
		local := filepath.Join(dir, "train.py")
		if err := os.WriteFile(local, body, 0o644); err != nil {
			return nil, fmt.Errorf("trial script: %w", err)
		}
		hp["script"] = local
	}
	b, _ := json.MarshalIndent(hp, "", "  ")
	if err := os.WriteFile(filepath.Join(dir, "hparams.json"), b, 0o644); err != nil {
		return nil, fmt.Errorf("hparams.json: %w", err)
	}
	public, _ := json.MarshalIndent(params, "", "  ")
	if _, err := t.e.fs.Mkdirs(ctx, t.fsDir(tr.Number), t.owner, 0o755); err != nil {
		return nil, fmt.Errorf("trial directory: %w", err)
	}
	if _, err := t.e.fs.WriteFile(ctx, path.Join(t.fsDir(tr.Number), "hparams.json"), public, fs.CreateOptions{Owner: t.owner, Mode: 0o644, Overwrite: true}); err != nil {
		return nil, fmt.Errorf("hparams.json: %w", err)
	}
	env := append(g.Env(), "HOPSQL_THREADS=1", "OMP_NUM_THREADS=1", "OPENBLAS_NUM_THREADS=1", "MKL_NUM_THREADS=1", "PYTHONUNBUFFERED=1")
	return t.e.backend.Start(ctx, jobs.Spec{Argv: []string{t.e.cfg.Python, t.e.runtime, dir}, Env: env, Dir: dir,
		Log: filepath.Join(dir, "output.log")})
}

// Outcome reads outputs.json and copies the trial's files into the
// project's Experiments directory.
func (t *trialEnv) Outcome(tr catalog.Trial, waitErr error) (map[string]float64, bool, error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	dir := t.trialDir(tr.Number)
	for _, name := range []string{"output.log", "outputs.json"} {
		local := filepath.Join(dir, name)
		if _, err := os.Stat(local); err != nil {
			continue
		}
		if _, err := t.e.fs.Import(ctx, path.Join(t.fsDir(tr.Number), name), local, fs.CreateOptions{Owner: t.owner, Mode: 0o644, Overwrite: true}); err != nil {
			t.e.log.Warn("experiment trial files", "trial", tr.Number, "err", err)
		}
	}
	if waitErr != nil {
		return nil, false, fmt.Errorf("trainer %v: %s (log: %s)", waitErr, lastLine(filepath.Join(dir, "output.log")), path.Join(t.fsDir(tr.Number), "output.log"))
	}
	b, err := os.ReadFile(filepath.Join(dir, "outputs.json"))
	if err != nil {
		return nil, false, fmt.Errorf("the trainer wrote no outputs.json: %s", lastLine(filepath.Join(dir, "output.log")))
	}
	var out struct {
		Metrics      map[string]*float64 `json:"metrics"`
		EarlyStopped bool                `json:"early_stopped"`
	}
	if err := json.Unmarshal(b, &out); err != nil {
		return nil, false, fmt.Errorf("outputs.json: %w", err)
	}
	m := map[string]float64{}
	for k, v := range out.Metrics {
		if v != nil && !math.IsNaN(*v) && !math.IsInf(*v, 0) {
			m[k] = *v
		}
	}
	return m, out.EarlyStopped, nil
}

// lastLine is the last non-empty line of a log: usually the error.
func lastLine(p string) string {
	b, err := os.ReadFile(p)
	if err != nil {
		return "no output"
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	return strings.TrimSpace(lines[len(lines)-1])
}

// Save records trials and the experiment's status in the catalog.
func (t *trialEnv) Save(status, errMsg string, trials []catalog.Trial) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	p := catalog.PutExperiment{Project: t.x.project, ID: t.x.id, Trials: trials}
	if status != catalog.ExperimentRunning {
		p.Experiment = &catalog.Experiment{ID: t.x.id, Status: status, Error: errMsg}
	}
	if _, err := t.cat.Propose(ctx, catalog.CmdPutExperiment, p); err != nil {
		t.e.log.Warn("experiment: recording trials", "id", t.x.id, "err", err)
	}
}

// System tables.

var experimentColumns = []column{
	{name: "experiment_id", t: duckdb.TYPE_BIGINT}, {name: "name", t: duckdb.TYPE_VARCHAR}, {name: "algorithm", t: duckdb.TYPE_VARCHAR},
	{name: "source", t: duckdb.TYPE_VARCHAR}, {name: "target", t: duckdb.TYPE_VARCHAR}, {name: "task", t: duckdb.TYPE_VARCHAR},
	{name: "search", t: duckdb.TYPE_VARCHAR}, {name: "metric", t: duckdb.TYPE_VARCHAR}, {name: "direction", t: duckdb.TYPE_VARCHAR},
	{name: "status", t: duckdb.TYPE_VARCHAR}, {name: "trials", t: duckdb.TYPE_BIGINT}, {name: "trials_done", t: duckdb.TYPE_BIGINT},
	{name: "best_trial", t: duckdb.TYPE_BIGINT}, {name: "best_value", t: duckdb.TYPE_DOUBLE}, {name: "best_params", t: duckdb.TYPE_VARCHAR},
	{name: "parallelism", t: duckdb.TYPE_BIGINT}, {name: "gpus_per_trial", t: duckdb.TYPE_DOUBLE}, {name: "early_stopping", t: duckdb.TYPE_VARCHAR},
	{name: "options", t: duckdb.TYPE_VARCHAR}, {name: "owner", t: duckdb.TYPE_VARCHAR}, {name: "created_at", t: duckdb.TYPE_TIMESTAMP_TZ},
	{name: "finished_at", t: duckdb.TYPE_TIMESTAMP_TZ}, {name: "error", t: duckdb.TYPE_VARCHAR}, {name: "directory", t: duckdb.TYPE_VARCHAR},
}

var trialColumns = []column{
	{name: "experiment", t: duckdb.TYPE_VARCHAR}, {name: "experiment_id", t: duckdb.TYPE_BIGINT}, {name: "trial", t: duckdb.TYPE_BIGINT},
	{name: "params", t: duckdb.TYPE_VARCHAR}, {name: "ablated", t: duckdb.TYPE_VARCHAR}, {name: "status", t: duckdb.TYPE_VARCHAR},
	{name: "metric", t: duckdb.TYPE_VARCHAR}, {name: "value", t: duckdb.TYPE_DOUBLE}, {name: "metrics", t: duckdb.TYPE_VARCHAR},
	{name: "steps", t: duckdb.TYPE_BIGINT}, {name: "device", t: duckdb.TYPE_VARCHAR}, {name: "started_at", t: duckdb.TYPE_TIMESTAMP_TZ},
	{name: "finished_at", t: duckdb.TYPE_TIMESTAMP_TZ}, {name: "duration_ms", t: duckdb.TYPE_DOUBLE}, {name: "run_ms", t: duckdb.TYPE_DOUBLE},
	{name: "attempts", t: duckdb.TYPE_BIGINT},
	{name: "error", t: duckdb.TYPE_VARCHAR}, {name: "log_path", t: duckdb.TYPE_VARCHAR},
}

var trialMetricColumns = []column{
	{name: "experiment", t: duckdb.TYPE_VARCHAR}, {name: "experiment_id", t: duckdb.TYPE_BIGINT}, {name: "trial", t: duckdb.TYPE_BIGINT},
	{name: "step", t: duckdb.TYPE_BIGINT}, {name: "metric", t: duckdb.TYPE_VARCHAR}, {name: "value", t: duckdb.TYPE_DOUBLE},
	{name: "reported_at", t: duckdb.TYPE_TIMESTAMP_TZ},
}

func unixTime(ns int64) any {
	if ns == 0 {
		return nil
	}
	return time.Unix(0, ns).UTC()
}

func (e *Engine) experimentRows(project string) []map[string]any {
	var out []map[string]any
	for _, x := range e.catalog.Experiments(project) {
		var spec experimentSpec
		_ = json.Unmarshal(x.Spec, &spec)
		trials := e.experimentTrials(x)
		done := 0
		for _, t := range trials {
			if t.Status == catalog.TrialSucceeded || t.Status == catalog.TrialEarlyStopped || t.Status == catalog.TrialFailed {
				done++
			}
		}
		opts, _ := json.Marshal(spec.Options)
		dir := map[bool]string{true: "MAXIMIZE", false: "MINIMIZE"}[spec.Maximize]
		alg := spec.Algorithm
		if alg == "script" {
			alg = "script " + spec.Script
		}
		row := map[string]any{"experiment_id": int64(x.ID), "name": x.Name, "algorithm": alg, "source": spec.Source,
			"target": spec.Target, "task": spec.Task, "search": spec.Search, "metric": spec.Metric, "direction": dir,
			"status": x.Status, "trials": int64(max(len(trials), spec.totalTrials())), "trials_done": int64(done),
			"parallelism": int64(spec.Parallelism), "gpus_per_trial": spec.GPUs, "early_stopping": spec.Stopping,
			"options": string(opts), "owner": x.Owner, "created_at": unixTime(x.Created), "finished_at": unixTime(x.Finished),
			"directory": path.Join("/", catalog.ProjectsDir, x.Project, "Experiments", fmt.Sprintf("%s_%d", x.Name, x.ID))}
		if x.Error != "" {
			row["error"] = x.Error
		}
		if b := best(trials, spec.Maximize); b != nil {
			row["best_trial"], row["best_value"], row["best_params"] = int64(b.Number), *b.Value, string(b.Params)
		}
		out = append(out, row)
	}
	return out
}

func (e *Engine) trialRows(project string) []map[string]any {
	var out []map[string]any
	for _, x := range e.catalog.Experiments(project) {
		var spec experimentSpec
		_ = json.Unmarshal(x.Spec, &spec)
		for _, t := range e.experimentTrials(x) {
			m, _ := json.Marshal(t.Metrics)
			if t.Metrics == nil {
				m = nil
			}
			row := map[string]any{"experiment": x.Name, "experiment_id": int64(x.ID), "trial": int64(t.Number),
				"params": string(t.Params), "status": t.Status, "metric": spec.Metric, "steps": int64(len(t.History)),
				"started_at": unixTime(t.Started), "finished_at": unixTime(t.Finished), "attempts": int64(t.Attempts),
				"log_path": path.Join("/", catalog.ProjectsDir, x.Project, "Experiments", fmt.Sprintf("%s_%d", x.Name, x.ID), fmt.Sprintf("trial_%d", t.Number), "output.log")}
			if m != nil {
				row["metrics"] = string(m)
			}
			if t.Ablated != "" {
				row["ablated"] = t.Ablated
			}
			if t.Value != nil {
				row["value"] = *t.Value
			}
			if t.Device != "" {
				row["device"] = t.Device
			}
			if t.Error != "" {
				row["error"] = t.Error
			}
			if t.Started != 0 && t.Finished != 0 {
				row["duration_ms"] = float64(t.Finished-t.Started) / 1e6
			}
			if t.Ran != 0 {
				row["run_ms"] = float64(t.Ran) / 1e6
			}
			out = append(out, row)
		}
	}
	return out
}

func (e *Engine) trialMetricRows(project string) []map[string]any {
	var out []map[string]any
	for _, x := range e.catalog.Experiments(project) {
		for _, t := range e.experimentTrials(x) {
			for _, p := range t.History {
				names := make([]string, 0, len(p.Metrics))
				for k := range p.Metrics {
					names = append(names, k)
				}
				sort.Strings(names)
				for _, k := range names {
					out = append(out, map[string]any{"experiment": x.Name, "experiment_id": int64(x.ID), "trial": int64(t.Number),
						"step": int64(p.Step), "metric": k, "value": p.Metrics[k], "reported_at": unixTime(p.Time)})
				}
			}
		}
	}
	return out
}
