// Package experiment drives hyperparameter searches and ablation studies:
// it picks configurations (grid, random, Bayesian via goptuna's TPE,
// leave-one-component-out ablation), runs them as trials on the slots a
// gpu.Allocator grants, as soon as a slot frees (no barrier between
// trials), and stops hopeless trials early from their metric streams
// (goptuna's median rule or ASHA). It knows nothing of SQL or the catalog:
// the engine hands it a Spec and an Env and persists what it reports.
package experiment

import (
	"fmt"
	"hash/fnv"
	"math"
	"math/rand"
	"sort"
	"strconv"

	"github.com/c-bata/goptuna"
	"github.com/c-bata/goptuna/tpe"
)

// Search kinds.
const (
	Grid     = "grid"
	Random   = "random"
	Bayesian = "bayesian"
	Ablation = "ablation"
)

// Dim is one searched hyperparameter: a list of values (IN (…)) or a range
// (RANGE (lo, hi) [LOG]; Int when the hyperparameter is an integer).
type Dim struct {
	Name   string  `json:"name"`
	Values []any   `json:"values,omitempty"` // float64, int64, bool or string
	Low    float64 `json:"low,omitempty"`
	High   float64 `json:"high,omitempty"`
	Log    bool    `json:"log,omitempty"`
	Int    bool    `json:"int,omitempty"`
	Range  bool    `json:"range,omitempty"`
}

// Config is one configuration to run.
type Config struct {
	Number  int
	Params  map[string]any
	Ablated string // "feature:x", "layer:y", or "" (baseline / search)
}

// Past is what a searcher may know of a trial already made: finished,
// running (with the values reported so far) or waiting.
type Past struct {
	Number       int
	Params       map[string]any
	Finished     bool
	Failed       bool
	EarlyStopped bool
	Value        *float64
	Intermediate map[int]float64
}

// Searcher picks configurations. Config n depends only on the spec and the
// trials before it, so a resumed experiment continues where it stopped.
type Searcher interface {
	// Total is the trial budget.
	Total() int
	// Next returns configuration number n (1-based) given the trials made.
	Next(n int, past []Past) (Config, error)
}

// NewSearcher returns the searcher of a kind.
func NewSearcher(kind string, space []Dim, trials int, features, layers []string, maximize bool, seed int64) (Searcher, error) {
	switch kind {
	case Grid:
		return newGrid(space)
	case Random:
		return &random{space: space, trials: trials, seed: seed}, nil
	case Bayesian:
		return &bayesian{space: space, trials: trials, seed: seed, maximize: maximize}, nil
	case Ablation:
		a := &ablation{}
		for _, f := range features {
			a.items = append(a.items, "feature:"+f)
		}
		for _, l := range layers {
			a.items = append(a.items, "layer:"+l)
		}
		return a, nil
	}
	return nil, fmt.Errorf("unknown search %q", kind)
}

// MaxGrid bounds a grid: configurations are made one at a time, but a grid
// this large is a mistake, not an experiment.
const MaxGrid = 100_000

// grid enumerates the cartesian product in reading order, the last
// dimension varying fastest: GRID SEARCH (a IN (1, 2), b IN (3, 4)) runs
// (1,3), (1,4), (2,3), (2,4).
type grid struct {
	space []Dim
	total int
}

func newGrid(space []Dim) (*grid, error) {
	total := 1
	for _, d := range space {
		if d.Range || len(d.Values) == 0 {
			return nil, fmt.Errorf("grid search needs a list of values for %q", d.Name)
		}
		if total > MaxGrid/len(d.Values) {
			return nil, fmt.Errorf("the grid has more than %d configurations", MaxGrid)
		}
		total *= len(d.Values)
	}
	return &grid{space: space, total: total}, nil
}

func (g *grid) Total() int { return g.total }

func (g *grid) Next(n int, _ []Past) (Config, error) {
	if n < 1 || n > g.total {
		return Config{}, fmt.Errorf("grid has no configuration %d", n)
	}
	params := make(map[string]any, len(g.space))
	k := n - 1
	for i := len(g.space) - 1; i >= 0; i-- {
		d := g.space[i]
		params[d.Name] = d.Values[k%len(d.Values)]
		k /= len(d.Values)
	}
	return Config{Number: n, Params: params}, nil
}

type ablation struct{ items []string }

func (a *ablation) Total() int { return 1 + len(a.items) }

// Next: trial 1 is the baseline, each later one leaves one component out.
func (a *ablation) Next(n int, _ []Past) (Config, error) {
	if n < 1 || n > a.Total() {
		return Config{}, fmt.Errorf("ablation has no trial %d", n)
	}
	c := Config{Number: n, Params: map[string]any{}}
	if n > 1 {
		c.Ablated = a.items[n-2]
	}
	return c, nil
}

type random struct {
	space  []Dim
	trials int
	seed   int64
}

func (r *random) Total() int { return r.trials }

// Next draws configuration n from a generator seeded by (seed, n): the same
// experiment draws the same configurations, in any order of completion.
func (r *random) Next(n int, _ []Past) (Config, error) {
	h := fnv.New64a()
	fmt.Fprintf(h, "%d/%d", r.seed, n)
	rng := rand.New(rand.NewSource(int64(h.Sum64())))
	params := map[string]any{}
	for _, d := range r.space {
		params[d.Name] = d.sample(rng)
	}
	return Config{Number: n, Params: params}, nil
}

func (d Dim) sample(rng *rand.Rand) any {
	if !d.Range {
		return d.Values[rng.Intn(len(d.Values))]
	}
	if d.Int {
		lo, hi := int64(math.Ceil(d.Low)), int64(math.Floor(d.High))
		if hi < lo || hi-lo+1 <= 0 {
			return lo // refused when the experiment was created
		}
		if d.Log {
			v := math.Exp(math.Log(float64(lo)) + rng.Float64()*(math.Log(float64(hi)+1)-math.Log(float64(lo))))
			return min(hi, max(lo, int64(v)))
		}
		return lo + rng.Int63n(hi-lo+1)
	}
	if d.Log {
		return math.Exp(math.Log(d.Low) + rng.Float64()*(math.Log(d.High)-math.Log(d.Low)))
	}
	return d.Low + rng.Float64()*(d.High-d.Low)
}

// bayesian asks goptuna's TPE sampler for each configuration, over a study
// rebuilt from every trial made so far: finished ones with their values,
// early-stopped and running ones as goptuna's pruned trials (their latest
// value at their latest step, ranked below finished ones), and running ones
// without a value yet as the worst — so that TPE steers away from
// configurations already being tried rather than proposing them again.
type bayesian struct {
	space    []Dim
	trials   int
	seed     int64
	maximize bool
}

func (b *bayesian) Total() int { return b.trials }

func (d Dim) distribution() any {
	switch {
	case !d.Range:
		choices := make([]string, len(d.Values))
		for i, v := range d.Values {
			choices[i] = valueKey(v)
		}
		return goptuna.CategoricalDistribution{Choices: choices}
	case d.Int:
		return goptuna.IntUniformDistribution{Low: int(math.Ceil(d.Low)), High: int(math.Floor(d.High))}
	case d.Log:
		return goptuna.LogUniformDistribution{Low: d.Low, High: d.High}
	}
	return goptuna.UniformDistribution{Low: d.Low, High: d.High}
}

// internal is a value's representation in goptuna: the choice's index for
// lists, the number itself for ranges.
func (d Dim) internal(v any) (float64, bool) {
	if !d.Range {
		k := valueKey(v)
		for i, x := range d.Values {
			if valueKey(x) == k {
				return float64(i), true
			}
		}
		return 0, false
	}
	f, ok := ToFloat(v)
	return f, ok
}

func (b *bayesian) Next(n int, past []Past) (Config, error) {
	dir := goptuna.StudyDirectionMinimize
	if b.maximize {
		dir = goptuna.StudyDirectionMaximize
	}
	// The first configurations are random: the random searcher's (seeded by
	// (seed, n), so reproducible, and integer ranges include their upper
	// bound, which goptuna's random sampler never draws).
	startup := min(10, max(2, b.trials/4))
	known := 0
	for _, p := range past {
		if !p.Failed && p.Number != n {
			known++
		}
	}
	if known < startup {
		return (&random{space: b.space, trials: b.trials, seed: b.seed}).Next(n, past)
	}
	sampler := tpe.NewSampler(tpe.SamplerOptionSeed(b.seed*7919+int64(n)), tpe.SamplerOptionNumberOfStartupTrials(0))
	study, err := goptuna.CreateStudy(fmt.Sprintf("t%d", n), goptuna.StudyOptionStorage(goptuna.NewInMemoryStorage()),
		goptuna.StudyOptionSampler(sampler), goptuna.StudyOptionDirection(dir), goptuna.StudyOptionLogger(quiet{}))
	if err != nil {
		return Config{}, fmt.Errorf("tpe study: %w", err)
	}
	st := study.Storage
	// The liar's value for a running trial with nothing reported: worse
	// than everything seen.
	worst := math.Inf(1)
	if b.maximize {
		worst = math.Inf(-1)
	}
	for _, p := range past {
		if p.Failed || p.Number == n {
			continue
		}
		id, err := st.CreateNewTrial(study.ID)
		if err != nil {
			return Config{}, err
		}
		for _, d := range b.space {
			if iv, ok := d.internal(p.Params[d.Name]); ok {
				if err := st.SetTrialParam(id, d.Name, iv, d.distribution()); err != nil {
					return Config{}, fmt.Errorf("tpe: %s: %w", d.Name, err)
				}
			}
		}
		steps := make([]int, 0, len(p.Intermediate))
		for s := range p.Intermediate {
			steps = append(steps, s)
		}
		sort.Ints(steps)
		for _, s := range steps {
			_ = st.SetTrialIntermediateValue(id, s, p.Intermediate[s])
		}
		switch {
		case p.Finished && !p.EarlyStopped && p.Value != nil:
			_ = st.SetTrialValue(id, *p.Value)
			_ = st.SetTrialState(id, goptuna.TrialStateComplete)
		default:
			if len(steps) == 0 {
				_ = st.SetTrialIntermediateValue(id, 0, worst)
			}
			_ = st.SetTrialState(id, goptuna.TrialStatePruned)
		}
	}
	id, err := st.CreateNewTrial(study.ID)
	if err != nil {
		return Config{}, err
	}
	trial := goptuna.Trial{Study: study, ID: id}
	params := map[string]any{}
	for _, d := range b.space {
		switch dist := d.distribution().(type) {
		case goptuna.CategoricalDistribution:
			v, err := trial.SuggestCategorical(d.Name, dist.Choices)
			if err != nil {
				return Config{}, fmt.Errorf("tpe: %s: %w", d.Name, err)
			}
			for _, x := range d.Values {
				if valueKey(x) == v {
					params[d.Name] = x
				}
			}
		case goptuna.IntUniformDistribution:
			v, err := trial.SuggestInt(d.Name, dist.Low, dist.High)
			if err != nil {
				return Config{}, fmt.Errorf("tpe: %s: %w", d.Name, err)
			}
			params[d.Name] = int64(v)
		case goptuna.LogUniformDistribution:
			v, err := trial.SuggestLogFloat(d.Name, dist.Low, dist.High)
			if err != nil {
				return Config{}, fmt.Errorf("tpe: %s: %w", d.Name, err)
			}
			params[d.Name] = v
		case goptuna.UniformDistribution:
			v, err := trial.SuggestFloat(d.Name, dist.Low, dist.High)
			if err != nil {
				return Config{}, fmt.Errorf("tpe: %s: %w", d.Name, err)
			}
			params[d.Name] = v
		}
	}
	return Config{Number: n, Params: params}, nil
}

// valueKey is a value's canonical text (categorical choices in goptuna).
func valueKey(v any) string {
	switch x := v.(type) {
	case string:
		return "s:" + x
	case float64:
		return "n:" + strconv.FormatFloat(x, 'g', -1, 64)
	case int64:
		return "n:" + strconv.FormatInt(x, 10)
	case bool:
		return "b:" + strconv.FormatBool(x)
	}
	return fmt.Sprint(v)
}

// ToFloat reads a number of a configuration (int64 or float64).
func ToFloat(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case int64:
		return float64(x), true
	}
	return 0, false
}
