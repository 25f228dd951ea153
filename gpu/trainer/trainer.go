// Package trainer is hopsql's Python trainer runtime seen from Go: the
// runtime script (hopsql_trainer.py, run by a configurable interpreter),
// the built-in algorithms with their hyperparameters, the metrics each task
// reports, and the .npy files that hand data to trainers (Debian has no
// pyarrow; NumPy reads .npy natively).
package trainer

import (
	_ "embed"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

//go:embed hopsql_trainer.py
var runtimeScript []byte

// DefaultPython is the interpreter with Debian's scikit-learn, XGBoost and
// PyTorch (the python3 on PATH may be another one).
const DefaultPython = "/usr/bin/python3"

// WriteRuntime writes the runtime script into dir and returns its path.
func WriteRuntime(dir string) (string, error) {
	p := filepath.Join(dir, "hopsql_trainer.py")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("trainer runtime: %w", err)
	}
	if err := os.WriteFile(p, runtimeScript, 0o644); err != nil {
		return "", fmt.Errorf("trainer runtime: %w", err)
	}
	return p, nil
}

// Task is what a model predicts.
type Task string

const (
	Classification Task = "classification"
	Regression     Task = "regression"
)

// Metrics returns the metrics built-in trainers report for a task, each
// with whether larger is better.
func Metrics(t Task) map[string]bool {
	if t == Regression {
		return map[string]bool{"rmse": false, "mae": false, "r2": true}
	}
	return map[string]bool{"auc": true, "accuracy": true, "log_loss": false, "f1": true}
}

// Kind is a hyperparameter's type.
type Kind int

const (
	Float Kind = iota
	Int
	Bool
	String
)

func (k Kind) String() string {
	return [...]string{"float", "integer", "boolean", "text"}[k]
}

// Param is a hyperparameter of a built-in algorithm.
type Param struct {
	Kind    Kind
	Default any
	Choices []string // for String: the values allowed (empty: any)
}

// Algorithm is a built-in trainer.
type Algorithm struct {
	Name   string
	Tasks  []Task
	Params map[string]Param
	// Layers says whether the model has named hidden layers that an
	// ablation may remove (hidden1 … hidden<layers>).
	Layers bool
}

var algorithms = map[string]Algorithm{
	"logistic_regression": {Name: "logistic_regression", Tasks: []Task{Classification}, Params: map[string]Param{
		"C": {Kind: Float, Default: 1.0}, "max_iter": {Kind: Int, Default: 100},
		"penalty":      {Kind: String, Default: "l2", Choices: []string{"l2", "none"}},
		"class_weight": {Kind: String, Default: "none", Choices: []string{"none", "balanced"}},
	}},
	"linear_regression": {Name: "linear_regression", Tasks: []Task{Regression}, Params: map[string]Param{
		"alpha": {Kind: Float, Default: 0.0}, "fit_intercept": {Kind: Bool, Default: true},
	}},
	"random_forest": {Name: "random_forest", Tasks: []Task{Classification, Regression}, Params: map[string]Param{
		"n_estimators": {Kind: Int, Default: 100}, "max_depth": {Kind: Int, Default: 0},
		"min_samples_leaf": {Kind: Int, Default: 1}, "max_features": {Kind: String, Default: "sqrt"},
	}},
	"xgboost": {Name: "xgboost", Tasks: []Task{Classification, Regression}, Params: map[string]Param{
		"n_estimators": {Kind: Int, Default: 100}, "max_depth": {Kind: Int, Default: 6},
		"learning_rate": {Kind: Float, Default: 0.3}, "subsample": {Kind: Float, Default: 1.0},
		"colsample_bytree": {Kind: Float, Default: 1.0}, "min_child_weight": {Kind: Float, Default: 1.0},
		"reg_lambda": {Kind: Float, Default: 1.0}, "reg_alpha": {Kind: Float, Default: 0.0},
	}},
	"mlp": {Name: "mlp", Tasks: []Task{Classification, Regression}, Layers: true, Params: map[string]Param{
		"hidden_units": {Kind: Int, Default: 64}, "layers": {Kind: Int, Default: 2},
		"learning_rate": {Kind: Float, Default: 0.001}, "epochs": {Kind: Int, Default: 20},
		"batch_size": {Kind: Int, Default: 64}, "dropout": {Kind: Float, Default: 0.0},
		"weight_decay": {Kind: Float, Default: 0.0},
		"activation":   {Kind: String, Default: "relu", Choices: []string{"relu", "tanh"}},
	}},
}

// Lookup returns a built-in algorithm.
func Lookup(name string) (Algorithm, bool) {
	a, ok := algorithms[strings.ToLower(name)]
	return a, ok
}

// Names lists the built-in algorithms.
func Names() []string {
	var out []string
	for n := range algorithms {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// ParamNames lists an algorithm's hyperparameters.
func (a Algorithm) ParamNames() []string {
	var out []string
	for n := range a.Params {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// Supports reports whether the algorithm handles a task.
func (a Algorithm) Supports(t Task) bool {
	for _, x := range a.Tasks {
		if x == t {
			return true
		}
	}
	return false
}

// WriteNPY writes a float64 array in NumPy's .npy format (version 1.0,
// little-endian, C order): rows×cols, or a vector when cols < 0.
func WriteNPY(w io.Writer, data []float64, rows, cols int) error {
	shape := fmt.Sprintf("(%d,)", rows)
	if cols >= 0 {
		shape = fmt.Sprintf("(%d, %d)", rows, cols)
		if len(data) != rows*cols {
			return fmt.Errorf("npy: %d values for a %d×%d array", len(data), rows, cols)
		}
	} else if len(data) != rows {
		return fmt.Errorf("npy: %d values for a vector of %d", len(data), rows)
	}
	header := fmt.Sprintf("{'descr': '<f8', 'fortran_order': False, 'shape': %s, }", shape)
	// Magic, version and length take 10 bytes; the header ends in a newline
	// and pads the data's start to a multiple of 64, as NumPy writes it.
	total := 10 + len(header) + 1
	header += strings.Repeat(" ", (64-total%64)%64) + "\n"
	buf := make([]byte, 0, 10+len(header)+8*len(data))
	buf = append(buf, "\x93NUMPY\x01\x00"...)
	buf = binary.LittleEndian.AppendUint16(buf, uint16(len(header)))
	buf = append(buf, header...)
	for _, v := range data {
		buf = binary.LittleEndian.AppendUint64(buf, math.Float64bits(v))
	}
	_, err := w.Write(buf)
	return err
}
