package trainer

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/hopsql/hopsql/gpu/jobs"
)

// guard bounds every wait on a trainer: reaching it means it hung.
const guard = 60 * time.Second

// python runs the interpreter the runtime uses (make test installs it with
// NumPy, scikit-learn and XGBoost) and returns its standard output.
func python(t *testing.T, code string, args ...string) []byte {
	t.Helper()
	cmd := exec.Command(DefaultPython, append([]string{"-c", code}, args...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s: %v\n%s", DefaultPython, err, stderr.String())
	}
	return out
}

// npyReader reads .npy files back with NumPy: header fields, where the data
// starts and the data's bytes in C order.
const npyReader = `
import json, sys
import numpy as np
out = []
for path in sys.argv[1:]:
    with open(path, "rb") as f:
        version = np.lib.format.read_magic(f)
        shape, fortran, dtype = np.lib.format.read_array_header_1_0(f)
        offset = f.tell()
        size = len(f.read())
    a = np.load(path, allow_pickle=False)
    out.append({"version": list(version), "shape": list(a.shape), "header_shape": list(shape),
                "fortran": fortran, "dtype": a.dtype.str, "offset": offset, "data_bytes": size,
                "hex": np.ascontiguousarray(a).tobytes(order="C").hex(),
                "last": repr(a.reshape(-1)[-1].item()) if a.size else None})
print(json.dumps(out))
`

type npyRead struct {
	Version     []int  `json:"version"`
	Shape       []int  `json:"shape"`
	HeaderShape []int  `json:"header_shape"`
	Fortran     bool   `json:"fortran"`
	Dtype       string `json:"dtype"`
	Offset      int    `json:"offset"`
	DataBytes   int    `json:"data_bytes"`
	Hex         string `json:"hex"`
	Last        *string
}

func TestWriteNPYReadByNumPy(t *testing.T) {
	special := []float64{math.NaN(), math.Inf(1), math.Inf(-1), math.Copysign(0, -1), 5e-324, math.MaxFloat64, -1.5, 1e-300, 0.1}
	values := func(n int) []float64 {
		out := make([]float64, n)
		for i := range out {
			if i < len(special) && n > 2 {
				out[i] = special[i]
			} else {
				out[i] = float64(i)*1.25 - 3
			}
		}
		return out
	}
	type shape struct{ rows, cols int }
	shapes := []shape{
		{3, 2}, {1, 1}, {2, 3}, {0, 3}, {3, 0}, {12, 34}, {1000, 1}, {100, 10}, {9, 11},
		{7, -1}, {1, -1}, {0, -1}, {1000, -1}, {123, -1}, {99999, -1},
	}
	dir := t.TempDir()
	var paths []string
	var data [][]float64
	for i, s := range shapes {
		n := s.rows
		if s.cols >= 0 {
			n = s.rows * s.cols
		}
		d := values(n)
		var buf bytes.Buffer
		if err := WriteNPY(&buf, d, s.rows, s.cols); err != nil {
			t.Fatalf("WriteNPY %v: %v", s, err)
		}
		// The layout NumPy writes: magic, version 1.0, header length, a
		// header padded with spaces to a multiple of 64 and ending in \n.
		b := buf.Bytes()
		if !bytes.HasPrefix(b, []byte("\x93NUMPY\x01\x00")) {
			t.Fatalf("%v: magic %q", s, b[:8])
		}
		hlen := int(binary.LittleEndian.Uint16(b[8:10]))
		if (10+hlen)%64 != 0 || b[10+hlen-1] != '\n' || len(b) != 10+hlen+8*n {
			t.Errorf("%v: header length %d (data at %d), %d bytes in all", s, hlen, 10+hlen, len(b))
		}
		p := filepath.Join(dir, fmt.Sprintf("a%d.npy", i))
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
		data = append(data, d)
	}
	var got []npyRead
	if err := json.Unmarshal(python(t, npyReader, paths...), &got); err != nil {
		t.Fatal(err)
	}
	if len(got) != len(shapes) {
		t.Fatalf("NumPy read %d files, want %d", len(got), len(shapes))
	}
	for i, s := range shapes {
		g := got[i]
		want := []int{s.rows, s.cols}
		if s.cols < 0 {
			want = []int{s.rows}
		}
		if !reflect.DeepEqual(g.Shape, want) || !reflect.DeepEqual(g.HeaderShape, want) {
			t.Errorf("%v: NumPy shape %v (header %v), want %v", s, g.Shape, g.HeaderShape, want)
		}
		if !reflect.DeepEqual(g.Version, []int{1, 0}) || g.Fortran || g.Dtype != "<f8" {
			t.Errorf("%v: version %v, fortran %v, dtype %s", s, g.Version, g.Fortran, g.Dtype)
		}
		if g.Offset%64 != 0 || g.DataBytes != 8*len(data[i]) {
			t.Errorf("%v: data at %d with %d bytes, want a multiple of 64 and %d", s, g.Offset, g.DataBytes, 8*len(data[i]))
		}
		var wantBytes []byte
		for _, v := range data[i] {
			wantBytes = binary.LittleEndian.AppendUint64(wantBytes, math.Float64bits(v))
		}
		if g.Hex != hex.EncodeToString(wantBytes) {
			t.Errorf("%v: NumPy read other values (in C order) than were written", s)
		}
	}
	// The values as NumPy sees them: NaN, infinities and the last value.
	if g := got[0]; g.Last == nil || *g.Last != "1.7976931348623157e+308" {
		t.Errorf("last value of the 3×2 array: %v", g.Last)
	}
	check := python(t, `
import sys, math
import numpy as np
a = np.load(sys.argv[1])
assert math.isnan(a[0, 0]) and a[0, 1] == math.inf and a[1, 0] == -math.inf, a
assert a[1, 1] == 0 and math.copysign(1, a[1, 1]) == -1, a
assert a[2, 0] == 5e-324 and a[2, 1] == sys.float_info.max, a
v = np.load(sys.argv[2])
assert v.shape == (7,) and v[6] == -1.5 and v[4] == 5e-324 and math.isnan(v[0]), v
w = np.load(sys.argv[3])
assert w.shape == (12, 34) and w[11, 33] == (12 * 34 - 1) * 1.25 - 3 and w[1, 0] == 34 * 1.25 - 3, w
print("ok")
`, paths[0], paths[9], paths[5])
	if strings.TrimSpace(string(check)) != "ok" {
		t.Errorf("NumPy's values: %s", check)
	}
}

func TestWriteNPYRejectsWrongLengths(t *testing.T) {
	for _, tc := range []struct {
		name       string
		n          int
		rows, cols int
	}{
		{"matrix short", 5, 2, 3},
		{"matrix long", 7, 2, 3},
		{"matrix empty rows", 1, 0, 3},
		{"vector short", 2, 3, -1},
		{"vector long", 4, 3, -1},
		{"vector empty", 1, 0, -1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := WriteNPY(&buf, make([]float64, tc.n), tc.rows, tc.cols); err == nil {
				t.Fatalf("WriteNPY accepted %d values for shape (%d, %d)", tc.n, tc.rows, tc.cols)
			}
			if buf.Len() != 0 {
				t.Errorf("WriteNPY wrote %d bytes before failing", buf.Len())
			}
		})
	}
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestWriteNPYReturnsWriteErrors(t *testing.T) {
	if err := WriteNPY(failingWriter{}, []float64{1, 2}, 2, -1); err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Fatalf("WriteNPY = %v, want the writer's error", err)
	}
}

func TestAlgorithms(t *testing.T) {
	names := Names()
	if want := []string{"linear_regression", "logistic_regression", "mlp", "random_forest", "xgboost"}; !reflect.DeepEqual(names, want) {
		t.Fatalf("Names() = %v, want %v", names, want)
	}
	for _, n := range []string{"XGBoost", "Logistic_Regression", "MLP"} {
		a, ok := Lookup(n)
		if !ok || a.Name != strings.ToLower(n) {
			t.Errorf("Lookup(%q) = %v, %v", n, a.Name, ok)
		}
	}
	for _, n := range []string{"", "svm", "xgboost "} {
		if _, ok := Lookup(n); ok {
			t.Errorf("Lookup(%q) found an algorithm", n)
		}
	}
	supports := map[string][]Task{
		"logistic_regression": {Classification},
		"linear_regression":   {Regression},
		"random_forest":       {Classification, Regression},
		"xgboost":             {Classification, Regression},
		"mlp":                 {Classification, Regression},
	}
	for _, n := range names {
		a, ok := Lookup(n)
		if !ok || a.Name != n {
			t.Fatalf("Lookup(%q) = %+v, %v", n, a, ok)
		}
		pn := a.ParamNames()
		if !sort.StringsAreSorted(pn) || len(pn) != len(a.Params) || len(pn) == 0 {
			t.Errorf("%s: ParamNames() = %v", n, pn)
		}
		for _, p := range pn {
			param, ok := a.Params[p]
			if !ok {
				t.Errorf("%s: ParamNames lists %q, not a parameter", n, p)
				continue
			}
			var kindOK bool
			switch param.Kind {
			case Float:
				_, kindOK = param.Default.(float64)
			case Int:
				_, kindOK = param.Default.(int)
			case Bool:
				_, kindOK = param.Default.(bool)
			case String:
				var s string
				s, kindOK = param.Default.(string)
				if len(param.Choices) > 0 && !contains(param.Choices, s) {
					t.Errorf("%s.%s: default %q is not among its choices %v", n, p, s, param.Choices)
				}
			}
			if !kindOK {
				t.Errorf("%s.%s: default %#v is not a %s", n, p, param.Default, param.Kind)
			}
			if len(param.Choices) > 0 && param.Kind != String {
				t.Errorf("%s.%s: choices on a %s", n, p, param.Kind)
			}
		}
		for _, task := range []Task{Classification, Regression} {
			if got, want := a.Supports(task), containsTask(supports[n], task); got != want {
				t.Errorf("%s.Supports(%s) = %v, want %v", n, task, got, want)
			}
		}
		if a.Supports("clustering") {
			t.Errorf("%s supports clustering", n)
		}
		if a.Layers != (n == "mlp") {
			t.Errorf("%s: Layers = %v", n, a.Layers)
		}
	}
	if got := Metrics(Classification); !reflect.DeepEqual(got, map[string]bool{"auc": true, "accuracy": true, "log_loss": false, "f1": true}) {
		t.Errorf("Metrics(classification) = %v", got)
	}
	if got := Metrics(Regression); !reflect.DeepEqual(got, map[string]bool{"rmse": false, "mae": false, "r2": true}) {
		t.Errorf("Metrics(regression) = %v", got)
	}
	for k, want := range map[Kind]string{Float: "float", Int: "integer", Bool: "boolean", String: "text"} {
		if k.String() != want {
			t.Errorf("Kind(%d).String() = %q, want %q", k, k.String(), want)
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func containsTask(list []Task, t Task) bool {
	for _, x := range list {
		if x == t {
			return true
		}
	}
	return false
}

// TestAlgorithmsMatchRuntime: the Go table and the runtime's PARAMS and
// TASKS agree on names, kinds, defaults, choices and tasks.
func TestAlgorithmsMatchRuntime(t *testing.T) {
	rt, err := WriteRuntime(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	out := python(t, `
import importlib.util, json, sys
spec = importlib.util.spec_from_file_location("hopsql_trainer", sys.argv[1])
m = importlib.util.module_from_spec(spec)
spec.loader.exec_module(m)
params = {}
for alg, table in m.PARAMS.items():
    params[alg] = {}
    for name, (conv, default) in table.items():
        choices = list(conv.__closure__[0].cell_contents) if conv.__name__ == "convert" else None
        params[alg][name] = {"conv": conv.__name__, "default": default, "choices": choices}
print(json.dumps({"params": params, "tasks": {k: list(v) for k, v in m.TASKS.items()}}))
`, rt)
	var py struct {
		Params map[string]map[string]struct {
			Conv    string   `json:"conv"`
			Default any      `json:"default"`
			Choices []string `json:"choices"`
		} `json:"params"`
		Tasks map[string][]string `json:"tasks"`
	}
	if err := json.Unmarshal(out, &py); err != nil {
		t.Fatal(err)
	}
	var pyNames []string
	for n := range py.Params {
		pyNames = append(pyNames, n)
	}
	sort.Strings(pyNames)
	if !reflect.DeepEqual(pyNames, Names()) {
		t.Fatalf("runtime algorithms %v, Go %v", pyNames, Names())
	}
	kinds := map[string]Kind{"_float": Float, "_int": Int, "_bool": Bool, "convert": String, "_max_features": String}
	for _, n := range Names() {
		a, _ := Lookup(n)
		var pyParams []string
		for p := range py.Params[n] {
			pyParams = append(pyParams, p)
		}
		sort.Strings(pyParams)
		if !reflect.DeepEqual(pyParams, a.ParamNames()) {
			t.Errorf("%s: runtime parameters %v, Go %v", n, pyParams, a.ParamNames())
			continue
		}
		for _, p := range pyParams {
			r, g := py.Params[n][p], a.Params[p]
			if k, ok := kinds[r.Conv]; !ok || k != g.Kind {
				t.Errorf("%s.%s: runtime converter %s, Go kind %s", n, p, r.Conv, g.Kind)
			}
			if fmt.Sprint(normalize(r.Default)) != fmt.Sprint(normalize(g.Default)) {
				t.Errorf("%s.%s: runtime default %#v, Go %#v", n, p, r.Default, g.Default)
			}
			if !reflect.DeepEqual(r.Choices, g.Choices) && (len(r.Choices) > 0 || len(g.Choices) > 0) {
				t.Errorf("%s.%s: runtime choices %v, Go %v", n, p, r.Choices, g.Choices)
			}
		}
		pyTasks := []Task{Classification, Regression}
		if ts, ok := py.Tasks[n]; ok {
			pyTasks = nil
			for _, x := range ts {
				pyTasks = append(pyTasks, Task(x))
			}
		}
		for _, task := range []Task{Classification, Regression} {
			if a.Supports(task) != containsTask(pyTasks, task) {
				t.Errorf("%s: Go Supports(%s) = %v, runtime tasks %v", n, task, a.Supports(task), pyTasks)
			}
		}
	}
}

func normalize(v any) any {
	switch x := v.(type) {
	case int:
		return float64(x)
	case float64:
		return x
	}
	return v
}

func TestWriteRuntime(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a", "b")
	p, err := WriteRuntime(dir)
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(p)
	if err != nil || !bytes.Equal(b, runtimeScript) || filepath.Dir(p) != dir || filepath.Base(p) != "hopsql_trainer.py" {
		t.Fatalf("WriteRuntime wrote %s (%d bytes, %v)", p, len(b), err)
	}
	// Again over the existing file.
	if _, err := WriteRuntime(dir); err != nil {
		t.Fatal(err)
	}
}

// ---- the runtime, end to end ------------------------------------------------

// writeData writes a small classification data set: a and b decide the
// class, c is noise with NaN (SQL NULL) in some rows.
func writeData(t *testing.T, dir string) {
	t.Helper()
	rng := rand.New(rand.NewSource(1))
	gen := func(rows int) ([]float64, []float64) {
		X := make([]float64, 0, rows*3)
		y := make([]float64, 0, rows)
		for i := 0; i < rows; i++ {
			a, b := rng.NormFloat64(), rng.NormFloat64()
			c := rng.NormFloat64()
			if i%7 == 0 {
				c = math.NaN()
			}
			X = append(X, a, b, c)
			label := 0.0
			if 2*a-b+0.3*rng.NormFloat64() > 0 {
				label = 1
			}
			y = append(y, label)
		}
		return X, y
	}
	write := func(name string, data []float64, rows, cols int) {
		f, err := os.Create(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if err := WriteNPY(f, data, rows, cols); err != nil {
			t.Fatal(err)
		}
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
	}
	Xtr, ytr := gen(240)
	Xte, yte := gen(80)
	write("X_train.npy", Xtr, 240, 3)
	write("y_train.npy", ytr, 240, -1)
	write("X_test.npy", Xte, 80, 3)
	write("y_test.npy", yte, 80, -1)
	for name, v := range map[string]any{"features.json": []string{"a", "b", "c"}, "classes.json": []string{"no", "yes"}} {
		b, _ := json.Marshal(v)
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

type trial struct {
	dir string
	job jobs.Job
}

// startTrial writes the runtime, the data and hparams.json as the engine
// does and starts the runtime through jobs.Local.
func startTrial(t *testing.T, algorithm, metric string, params map[string]any, dropFeatures []string) *trial {
	t.Helper()
	root := t.TempDir()
	rt, err := WriteRuntime(filepath.Join(root, "runtime"))
	if err != nil {
		t.Fatal(err)
	}
	return startTrialOn(t, jobs.Local{}, root, rt, algorithm, metric, params, dropFeatures)
}

// startTrialOn starts a trial in root through a backend, with the runtime
// at rt.
func startTrialOn(t *testing.T, backend jobs.Backend, root, rt, algorithm, metric string, params map[string]any, dropFeatures []string) *trial {
	t.Helper()
	data := filepath.Join(root, "data")
	dir := filepath.Join(root, "trial_1")
	for _, d := range []string{data, dir} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	writeData(t, data)
	if dropFeatures == nil {
		dropFeatures = []string{}
	}
	hp := map[string]any{"trial": 1, "algorithm": algorithm, "params": params, "task": "classification",
		"metric": metric, "direction": "maximize", "data": data, "drop_features": dropFeatures,
		"drop_layers": []string{}, "seed": 7}
	b, _ := json.MarshalIndent(hp, "", "  ")
	if err := os.WriteFile(filepath.Join(dir, "hparams.json"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	// What the engine passes (a CPU slot: no device visible).
	env := []string{"CUDA_VISIBLE_DEVICES=", "HOPSQL_THREADS=1", "OMP_NUM_THREADS=1", "OPENBLAS_NUM_THREADS=1",
		"MKL_NUM_THREADS=1", "PYTHONUNBUFFERED=1"}
	j, err := backend.Start(context.Background(), jobs.Spec{Argv: []string{DefaultPython, rt, dir}, Env: env, Dir: dir,
		Log: filepath.Join(dir, "output.log")})
	if err != nil {
		t.Fatal(err)
	}
	tr := &trial{dir: dir, job: j}
	t.Cleanup(func() {
		j.Kill()
		_ = j.Wait()
	})
	return tr
}

func (tr *trial) next(t *testing.T) (jobs.Report, bool) {
	t.Helper()
	select {
	case r, ok := <-tr.job.Reports():
		return r, ok
	case <-time.After(guard):
		t.Fatalf("the trainer hung; log:\n%s", tr.log(t))
		return jobs.Report{}, false
	}
}

func (tr *trial) rest(t *testing.T) []jobs.Report {
	t.Helper()
	var out []jobs.Report
	for {
		r, ok := tr.next(t)
		if !ok {
			return out
		}
		out = append(out, r)
	}
}

func (tr *trial) wait(t *testing.T) error {
	t.Helper()
	errc := make(chan error, 1)
	go func() { errc <- tr.job.Wait() }()
	select {
	case err := <-errc:
		return err
	case <-time.After(guard):
		t.Fatalf("the trainer did not exit; log:\n%s", tr.log(t))
		return nil
	}
}

func (tr *trial) log(t *testing.T) string {
	b, _ := os.ReadFile(filepath.Join(tr.dir, "output.log"))
	return string(b)
}

type outputs struct {
	Metrics      map[string]*float64 `json:"metrics"`
	EarlyStopped bool                `json:"early_stopped"`
	Steps        int                 `json:"steps"`
}

func (tr *trial) outputs(t *testing.T) outputs {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(tr.dir, "outputs.json"))
	if err != nil {
		t.Fatalf("outputs.json: %v; log:\n%s", err, tr.log(t))
	}
	var o outputs
	if err := json.Unmarshal(b, &o); err != nil {
		t.Fatalf("outputs.json %s: %v", b, err)
	}
	return o
}

// checkClassification checks a report has every classification metric,
// each in its range.
func checkClassification(t *testing.T, step int, m map[string]float64) {
	t.Helper()
	for name := range Metrics(Classification) {
		v, ok := m[name]
		if !ok || math.IsNaN(v) {
			t.Errorf("step %d lacks %s: %v", step, name, m)
			continue
		}
		if name != "log_loss" && (v < 0 || v > 1) || name == "log_loss" && v < 0 {
			t.Errorf("step %d: %s = %v", step, name, v)
		}
	}
}

func TestRuntimeEndToEnd(t *testing.T) {
	for _, tc := range []struct {
		name      string
		algorithm string
		params    map[string]any
		drop      []string
		steps     int
		features  int
	}{
		{"xgboost", "xgboost", map[string]any{"n_estimators": 5, "max_depth": 3}, nil, 5, 3},
		{"logistic_regression", "logistic_regression", map[string]any{"C": 0.5, "max_iter": 200}, []string{"c"}, 1, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tr := startTrial(t, tc.algorithm, "auc", tc.params, tc.drop)
			reports := tr.rest(t)
			if err := tr.wait(t); err != nil {
				t.Fatalf("the trainer failed: %v; log:\n%s", err, tr.log(t))
			}
			if len(reports) != tc.steps {
				t.Fatalf("%d reports, want %d: %+v", len(reports), tc.steps, reports)
			}
			for i, r := range reports {
				if r.Step != i+1 {
					t.Errorf("report %d has step %d", i, r.Step)
				}
				checkClassification(t, r.Step, r.Metrics)
			}
			last := reports[len(reports)-1].Metrics
			if last["auc"] < 0.8 {
				t.Errorf("auc %v on an easy data set", last["auc"])
			}
			o := tr.outputs(t)
			if o.EarlyStopped || o.Steps != tc.steps {
				t.Errorf("outputs.json: early_stopped %v, steps %d; want false, %d", o.EarlyStopped, o.Steps, tc.steps)
			}
			if len(o.Metrics) != len(last) {
				t.Errorf("outputs.json metrics %v, last report %v", o.Metrics, last)
			}
			for k, v := range last {
				if p := o.Metrics[k]; p == nil || *p != v {
					t.Errorf("outputs.json %s = %v, last report %v", k, p, v)
				}
			}
			log := tr.log(t)
			for _, s := range []string{fmt.Sprintf("%d features", tc.features), "done: "} {
				if !strings.Contains(log, s) {
					t.Errorf("the log lacks %q:\n%s", s, log)
				}
			}
			if j, ok := tr.job.(interface{ Ran() time.Duration }); ok && j.Ran() <= 0 {
				t.Errorf("Ran() = %v", j.Ran())
			}
		})
	}
}

// TestRuntimeStop: "stop" on stdin ends a long XGBoost run early: it exits
// 0 with outputs.json saying early_stopped.
func TestRuntimeStop(t *testing.T) {
	t.Parallel()
	tr := startTrial(t, "xgboost", "auc", map[string]any{"n_estimators": 100000, "max_depth": 2}, nil)
	first, ok := tr.next(t)
	if !ok {
		t.Fatalf("no report; log:\n%s", tr.log(t))
	}
	if err := tr.job.Stop(); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	reports := append([]jobs.Report{first}, tr.rest(t)...)
	if err := tr.wait(t); err != nil {
		t.Fatalf("the trainer failed: %v; log:\n%s", err, tr.log(t))
	}
	o := tr.outputs(t)
	if !o.EarlyStopped {
		t.Errorf("outputs.json: early_stopped false after a stop")
	}
	if o.Steps != len(reports) || o.Steps >= 100000 {
		t.Errorf("outputs.json: %d steps, %d reports received", o.Steps, len(reports))
	}
	if !strings.Contains(tr.log(t), "stop requested") {
		t.Errorf("the log does not mention the stop:\n%s", tr.log(t))
	}
}

func TestRuntimeFailures(t *testing.T) {
	for _, tc := range []struct {
		name      string
		algorithm string
		metric    string
		params    map[string]any
		drop      []string
		code      int
		logPart   string
	}{
		{"objective never reported", "logistic_regression", "rmse", nil, nil, 3, "never reported"},
		{"unknown hyperparameter", "xgboost", "auc", map[string]any{"n_trees": 5}, nil, 1, "unknown hyperparameter(s) n_trees"},
		{"bad hyperparameter", "xgboost", "auc", map[string]any{"n_estimators": 2.5}, nil, 1, "expected an integer"},
		{"unknown algorithm", "svm", "auc", nil, nil, 1, "unknown algorithm"},
		{"unknown feature", "logistic_regression", "auc", nil, []string{"zzz"}, 1, "unknown feature(s) zzz"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tr := startTrial(t, tc.algorithm, tc.metric, tc.params, tc.drop)
			tr.rest(t)
			err := tr.wait(t)
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.ExitCode() != tc.code {
				t.Fatalf("Wait = %v, want exit status %d; log:\n%s", err, tc.code, tr.log(t))
			}
			if !strings.Contains(tr.log(t), tc.logPart) {
				t.Errorf("the log lacks %q:\n%s", tc.logPart, tr.log(t))
			}
			if _, err := os.Stat(filepath.Join(tr.dir, "outputs.json")); err == nil {
				t.Error("a failed trainer wrote outputs.json")
			}
		})
	}
}

// TestRuntimeForkserver runs trials as children of a fork server that has
// imported the runtime's libraries once: the same reports, outputs, stop
// requests and exit codes as a process of its own, several at once, and
// the server's own exit is no trial's failure.
func TestRuntimeForkserver(t *testing.T) {
	root := t.TempDir()
	rt, err := WriteRuntime(filepath.Join(root, "runtime"))
	if err != nil {
		t.Fatal(err)
	}
	fs := &jobs.Forkserver{Argv: []string{DefaultPython, rt, "--serve"}, Prefix: []string{DefaultPython, rt}, Log: filepath.Join(root, "forkserver.log")}
	t.Cleanup(fs.Close)
	sub := func(name string) string {
		d := filepath.Join(root, name)
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		return d
	}
	// Three at once: each gets its own descriptors.
	var trials []*trial
	for i, n := range []int{3, 5, 7} {
		trials = append(trials, startTrialOn(t, fs, sub(fmt.Sprintf("ok%d", i)), rt, "xgboost", "auc", map[string]any{"n_estimators": n, "max_depth": 2}, nil))
	}
	for i, tr := range trials {
		reports := tr.rest(t)
		if err := tr.wait(t); err != nil {
			t.Fatalf("trial %d failed: %v; log:\n%s", i, err, tr.log(t))
		}
		if want := []int{3, 5, 7}[i]; len(reports) != want || tr.outputs(t).Steps != want {
			t.Fatalf("trial %d: %d reports, outputs %+v; want %d", i, len(reports), tr.outputs(t), want)
		}
		if !strings.Contains(tr.log(t), "done: ") {
			t.Fatalf("trial %d log:\n%s", i, tr.log(t))
		}
	}
	// Stop.
	tr := startTrialOn(t, fs, sub("stop"), rt, "xgboost", "auc", map[string]any{"n_estimators": 100000, "max_depth": 2}, nil)
	if _, ok := tr.next(t); !ok {
		t.Fatalf("no report; log:\n%s", tr.log(t))
	}
	if err := tr.job.Stop(); err != nil {
		t.Fatal(err)
	}
	tr.rest(t)
	if err := tr.wait(t); err != nil || !tr.outputs(t).EarlyStopped {
		t.Fatalf("stopped trial: %v, outputs %+v; log:\n%s", err, tr.outputs(t), tr.log(t))
	}
	// An exit status, and a trial that dies at once (its exit may reach
	// the server's reader before its pid does).
	tr = startTrialOn(t, fs, sub("bad"), rt, "xgboost", "auc", map[string]any{"n_trees": 5}, nil)
	tr.rest(t)
	var coded interface{ ExitCode() int }
	if err := tr.wait(t); !errors.As(err, &coded) || coded.ExitCode() != 1 {
		t.Fatalf("Wait = %v, want exit status 1; log:\n%s", err, tr.log(t))
	}
	// Kill.
	tr = startTrialOn(t, fs, sub("kill"), rt, "xgboost", "auc", map[string]any{"n_estimators": 100000, "max_depth": 2}, nil)
	if _, ok := tr.next(t); !ok {
		t.Fatalf("no report; log:\n%s", tr.log(t))
	}
	tr.job.Kill()
	tr.rest(t)
	if err := tr.wait(t); err == nil || !strings.Contains(err.Error(), "killed") {
		t.Fatalf("killed trial: Wait = %v", err)
	}
	if tr.job.Ran() <= 0 {
		t.Fatalf("Ran() = %v", tr.job.Ran())
	}
	// None fell back to a process of its own.
	if n := fs.Forked(); n != 6 {
		b, _ := os.ReadFile(filepath.Join(root, "forkserver.log"))
		t.Fatalf("the fork server forked %d of 6 trials; its log:\n%s", n, b)
	}
}
