package engine

import (
	"encoding/json"
	"math"
	"strconv"
	"strings"

	pg_query "github.com/pganalyze/pg_query_go/v6"

	"github.com/hopsql/hopsql/engine/experiment"
	"github.com/hopsql/hopsql/engine/pgerr"
)

// Experiments (docs/sql.md, experiments.go) are read from scanner tokens and
// rewritten into a DO statement in a language of hopsql's, like training
// datasets:
//
//	CREATE EXPERIMENT name TRAIN { algorithm | SCRIPT 'path' } [(param = value, …)]
//	  ON relation TARGET column
//	  { GRID SEARCH (dim, …) | RANDOM SEARCH (dim, …) TRIALS n | BAYESIAN SEARCH (dim, …) TRIALS n
//	  | ABLATE [FEATURES (f, …)] [LAYERS (l, …)] }
//	  OPTIMIZE { MAXIMIZE | MINIMIZE } metric [WITH (option = value, …)]
//	dim: param IN (value, …) | param RANGE (low, high) [LOG]
//	WAIT EXPERIMENT name | CANCEL EXPERIMENT name | DROP EXPERIMENT [IF EXISTS] name

const experimentLanguage = "hopsql_experiment"

type experimentRequest struct {
	Op       string          `json:"op"` // create, wait, cancel, drop
	Name     string          `json:"name"`
	IfExists bool            `json:"if_exists,omitempty"`
	Spec     *experimentSpec `json:"spec,omitempty"`
	Key      string          `json:"key"` // Engine.doKey
}

// experimentSpec is a CREATE EXPERIMENT request; the catalog keeps it (with
// what creation resolved) so that a restart can resume the experiment.
type experimentSpec struct {
	Algorithm      string           `json:"algorithm"` // a built-in, or "script"
	Script         string           `json:"script,omitempty"`
	Fixed          map[string]any   `json:"fixed,omitempty"`
	Source         string           `json:"source"`
	Target         string           `json:"target"`
	Search         string           `json:"search"`
	Space          []experiment.Dim `json:"space,omitempty"`
	Trials         int              `json:"trials,omitempty"`
	AblateFeatures []string         `json:"ablate_features,omitempty"`
	AblateLayers   []string         `json:"ablate_layers,omitempty"`
	Metric         string           `json:"metric"`
	Maximize       bool             `json:"maximize"`
	Options        map[string]any   `json:"options,omitempty"`

	// Resolved when the experiment is created.
	Task        string   `json:"task,omitempty"`
	Features    []string `json:"features,omitempty"`
	Classes     []string `json:"classes,omitempty"`
	TrainRows   int      `json:"train_rows,omitempty"`
	TestRows    int      `json:"test_rows,omitempty"`
	Parallelism int      `json:"parallelism,omitempty"`
	GPUs        float64  `json:"gpus_per_trial,omitempty"`
	Stopping    string   `json:"early_stopping,omitempty"`
	MinTrials   int      `json:"min_trials,omitempty"`
	Warmup      int      `json:"warmup_steps,omitempty"`
	MaxFailures int      `json:"max_failures"`
	Seed        int64    `json:"seed"`
	Synchronous bool     `json:"synchronous,omitempty"`
	Dir         string   `json:"dir,omitempty"` // /Projects/<p>/Experiments/<name>_<id>
}

func experimentRequestOf(d *pg_query.DoStmt) (*experimentRequest, bool) {
	var req experimentRequest
	if !doRequestOf(d, experimentLanguage, &req) {
		return nil, false
	}
	return &req, true
}

// experimentSQL rewrites one experiment statement; op is its first word.
func experimentSQL(sql, op, key string, toks []*pg_query.ScanToken) (string, error) {
	sc := scanned{sql, toks}
	text, word := sc.text, sc.word
	syntax := sc.syntaxError(strings.ToUpper(op) + " EXPERIMENT")
	req := experimentRequest{Op: op, Key: key}
	i := 0
	if op == "drop" && word(0) == "if" && word(1) == "exists" {
		req.IfExists, i = true, 2
	}
	if i >= len(toks) {
		return "", syntax(i)
	}
	req.Name, i = identText(text(i)), i+1
	if req.Name == "" || strings.ContainsAny(req.Name, "/\\\x00") {
		return "", pgerr.New(pgerr.InvalidName, "invalid experiment name %q", req.Name)
	}
	if op == "create" {
		spec, next, err := parseExperiment(sc, i, syntax)
		if err != nil {
			return "", err
		}
		req.Spec, i = spec, next
	}
	if i < len(toks) {
		return "", syntax(i)
	}
	js, _ := json.Marshal(req)
	return "DO LANGUAGE " + experimentLanguage + " " + quoteLiteral(string(js)), nil
}

func parseExperiment(sc scanned, i int, syntax func(int) error) (*experimentSpec, int, error) {
	word, text, toks := sc.word, sc.text, sc.toks
	spec := &experimentSpec{Fixed: map[string]any{}, Options: map[string]any{}}
	expect := func(w string) error {
		if word(i) != w {
			return syntax(i)
		}
		i++
		return nil
	}
	if err := expect("train"); err != nil {
		return nil, 0, err
	}
	if word(i) == "script" {
		if i+1 >= len(toks) || toks[i+1].Token != pg_query.Token_SCONST {
			return nil, 0, syntax(i + 1)
		}
		spec.Algorithm, spec.Script, i = "script", tokenString(text(i+1)), i+2
	} else {
		if i >= len(toks) {
			return nil, 0, syntax(i)
		}
		spec.Algorithm, i = identText(text(i)), i+1
	}
	if i < len(toks) && toks[i].Token == pg_query.Token_ASCII_40 {
		next, err := sc.assignments(i, syntax, "hyperparameter", spec.Fixed)
		if err != nil {
			return nil, 0, err
		}
		i = next
	}
	if err := expect("on"); err != nil {
		return nil, 0, err
	}
	if i >= len(toks) {
		return nil, 0, syntax(i)
	}
	spec.Source, i = identText(text(i)), i+1
	if err := expect("target"); err != nil {
		return nil, 0, err
	}
	if i >= len(toks) {
		return nil, 0, syntax(i)
	}
	spec.Target, i = identText(text(i)), i+1
	switch word(i) {
	case "grid", "random", "bayesian":
		spec.Search = map[string]string{"grid": experiment.Grid, "random": experiment.Random, "bayesian": experiment.Bayesian}[word(i)]
		i++
		if err := expect("search"); err != nil {
			return nil, 0, err
		}
		dims, next, err := sc.dims(i, syntax)
		if err != nil {
			return nil, 0, err
		}
		spec.Space, i = dims, next
		if spec.Search != experiment.Grid {
			if err := expect("trials"); err != nil {
				return nil, 0, err
			}
			if i >= len(toks) || toks[i].Token != pg_query.Token_ICONST {
				return nil, 0, syntax(i)
			}
			n, err := strconv.Atoi(text(i))
			if err != nil || n <= 0 {
				return nil, 0, pgerr.New(pgerr.InvalidParameterValue, "TRIALS must be a positive integer, not %q", text(i))
			}
			spec.Trials, i = n, i+1
		}
	case "ablate":
		spec.Search = experiment.Ablation
		i++
		for word(i) == "features" || word(i) == "layers" {
			kind := word(i)
			names, next, err := sc.nameList(i+1, syntax)
			if err != nil {
				return nil, 0, err
			}
			if kind == "features" {
				spec.AblateFeatures = append(spec.AblateFeatures, names...)
			} else {
				spec.AblateLayers = append(spec.AblateLayers, names...)
			}
			i = next
		}
		if len(spec.AblateFeatures)+len(spec.AblateLayers) == 0 {
			return nil, 0, pgerr.New(pgerr.InvalidParameterValue, "ABLATE needs FEATURES (…) or LAYERS (…) to leave out")
		}
	default:
		return nil, 0, syntax(i)
	}
	if err := expect("optimize"); err != nil {
		return nil, 0, err
	}
	switch word(i) {
	case "maximize":
		spec.Maximize = true
	case "minimize":
	default:
		return nil, 0, syntax(i)
	}
	i++
	if i >= len(toks) {
		return nil, 0, syntax(i)
	}
	spec.Metric, i = identText(text(i)), i+1
	if word(i) == "with" {
		next, err := sc.assignments(i+1, syntax, "option", spec.Options)
		if err != nil {
			return nil, 0, err
		}
		i = next
	}
	return spec, i, nil
}

// dims reads a search space "(p IN (…), q RANGE (lo, hi) [LOG], …)".
func (sc scanned) dims(open int, syntax func(int) error) ([]experiment.Dim, int, error) {
	shut := sc.closing(open)
	if open >= len(sc.toks) || sc.toks[open].Token != pg_query.Token_ASCII_40 || shut < 0 {
		return nil, 0, syntax(open)
	}
	var out []experiment.Dim
	seen := map[string]bool{}
	for i := open + 1; i < shut; {
		d := experiment.Dim{Name: identText(sc.text(i))}
		if seen[d.Name] {
			return nil, 0, pgerr.New(pgerr.InvalidParameterValue, "hyperparameter %q is searched twice", d.Name)
		}
		seen[d.Name] = true
		kind := sc.word(i + 1)
		lo := i + 2
		hi := sc.closing(lo)
		if (kind != "in" && kind != "range") || lo >= shut || sc.toks[lo].Token != pg_query.Token_ASCII_40 || hi < 0 || hi > shut {
			return nil, 0, syntax(i + 1)
		}
		var vals []any
		for j := lo + 1; j < hi; {
			v, next, err := sc.value(j, syntax)
			if err != nil {
				return nil, 0, err
			}
			vals = append(vals, v)
			j = next
			if j < hi {
				if sc.toks[j].Token != pg_query.Token_ASCII_44 {
					return nil, 0, syntax(j)
				}
				j++
			}
		}
		i = hi + 1
		if kind == "in" {
			if len(vals) == 0 {
				return nil, 0, pgerr.New(pgerr.InvalidParameterValue, "hyperparameter %q has an empty list of values", d.Name)
			}
			d.Values = vals
		} else {
			if len(vals) != 2 {
				return nil, 0, pgerr.New(pgerr.InvalidParameterValue, "RANGE for %q needs (low, high)", d.Name)
			}
			_, ok1 := vals[0].(int64)
			_, ok2 := vals[1].(int64)
			d.Range, d.Int = true, ok1 && ok2
			var err error
			if d.Low, d.High, err = rangeBounds(d.Name, vals); err != nil {
				return nil, 0, err
			}
			if sc.word(i) == "log" {
				d.Log = true
				i++
				if d.Low <= 0 {
					return nil, 0, pgerr.New(pgerr.InvalidParameterValue, "a LOG range for %q must be above 0", d.Name)
				}
			}
		}
		out = append(out, d)
		if i < shut {
			if sc.toks[i].Token != pg_query.Token_ASCII_44 {
				return nil, 0, syntax(i)
			}
			i++
		}
	}
	if len(out) == 0 {
		return nil, 0, pgerr.New(pgerr.InvalidParameterValue, "the search space is empty: name at least one hyperparameter")
	}
	return out, shut + 1, nil
}

func rangeBounds(name string, vals []any) (float64, float64, error) {
	var b [2]float64
	for k, v := range vals {
		switch x := v.(type) {
		case int64:
			b[k] = float64(x)
		case float64:
			b[k] = x
		default:
			return 0, 0, pgerr.New(pgerr.InvalidParameterValue, "RANGE for %q needs numbers", name)
		}
	}
	if !(b[0] < b[1]) {
		return 0, 0, pgerr.New(pgerr.InvalidParameterValue, "RANGE for %q needs low < high", name)
	}
	// Beyond 2^53 doubles skip integers, and integer draws would overflow.
	if math.Abs(b[0]) > 1<<53 || math.Abs(b[1]) > 1<<53 {
		return 0, 0, pgerr.New(pgerr.NumericValueOutOfRange, "RANGE for %q: bounds must lie within ±2^53", name)
	}
	return b[0], b[1], nil
}
