package tests

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgconn/ctxwatch"
)

// Experiments (docs/sql.md "Experiments"): hyperparameter searches and
// ablations run as trials of the Python trainer runtime (/usr/bin/python3
// with NumPy, scikit-learn, XGBoost and PyTorch) in the background. Every
// test starts its own server with two CPU slots and keeps data and trials
// small (1000 rows, a few trials of a few steps).

// expData is a seeded classification table: label depends on a and c.
const expData = `CREATE TABLE d AS SELECT i, (i * 37 % 101) / 10.0 AS a, (i * 53 % 97) / 10.0 AS b, i * 7 % 13 AS c,
	CASE WHEN (i * 37 % 101) + 3 * (i * 7 % 13) > 70 THEN 1 ELSE 0 END AS label FROM range(1000) t(i)`

// expServer starts a server with two CPU slots and the table d.
func expServer(t *testing.T, extra ...string) (*server, *pgx.Conn) {
	t.Helper()
	srv := startServer(t, append([]string{"--cpu-slots", "2"}, extra...)...)
	c := srv.connect(t)
	mustExec(t, c, expData)
	return srv, c
}

// expConn connects with a NOTICE collector; cancelRequest makes a
// cancelled context send a PostgreSQL cancel request (pgx's default closes
// the connection instead).
func expConn(t *testing.T, srv *server, cancelRequest bool) (*pgx.Conn, func() []string) {
	t.Helper()
	if !cancelRequest {
		return noticeConn(t, srv)
	}
	return noticeConn(t, srv, func(cfg *pgx.ConnConfig) {
		cfg.BuildContextWatcherHandler = func(pc *pgconn.PgConn) ctxwatch.Handler {
			return &pgconn.CancelRequestContextWatcherHandler{Conn: pc, DeadlineDelay: 20 * time.Second}
		}
	})
}

// expCreate runs CREATE EXPERIMENT (extended protocol) and returns its row.
func expCreate(t *testing.T, c *pgx.Conn, sql string) (int64, string) {
	t.Helper()
	var id int64
	var name string
	if err := c.QueryRow(context.Background(), sql).Scan(&id, &name); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	if id <= 0 || name == "" {
		t.Fatalf("%s: returned (%d, %q)", sql, id, name)
	}
	return id, name
}

type waitRow struct {
	ID         int64
	Name       string
	Status     string
	Trials     int64
	BestTrial  *int64
	BestValue  *float64
	BestParams *string
}

// expWait runs WAIT EXPERIMENT (extended protocol).
func expWait(t *testing.T, c *pgx.Conn, name string) (waitRow, error) {
	t.Helper()
	// A guard against a WAIT that never ends (every experiment here takes
	// seconds), not a timing expectation.
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	var w waitRow
	err := c.QueryRow(ctx, "WAIT EXPERIMENT "+name).Scan(&w.ID, &w.Name, &w.Status, &w.Trials, &w.BestTrial, &w.BestValue, &w.BestParams)
	return w, err
}

func mustWait(t *testing.T, c *pgx.Conn, name, status string, trials int64) waitRow {
	t.Helper()
	w, err := expWait(t, c, name)
	if err != nil {
		t.Fatalf("WAIT EXPERIMENT %s: %v", name, err)
	}
	if w.Status != status || w.Trials != trials {
		t.Fatalf("WAIT EXPERIMENT %s: status %s with %d trials, want %s with %d", name, w.Status, w.Trials, status, trials)
	}
	return w
}

type trialRow struct {
	N        int64
	Params   string
	Ablated  *string
	Status   string
	Value    *float64
	Steps    int64
	Device   *string
	Finished *string
	Attempts int64
	Error    *string
	LogPath  string
}

func (r trialRow) String() string {
	v := "∅"
	if r.Value != nil {
		v = fmt.Sprint(*r.Value)
	}
	e := ""
	if r.Error != nil {
		e = " error=" + *r.Error
	}
	return fmt.Sprintf("trial %d %s %s value=%s steps=%d attempts=%d%s", r.N, r.Params, r.Status, v, r.Steps, r.Attempts, e)
}

// param reads one hyperparameter of a trial as a number.
func (r trialRow) param(t *testing.T, name string) float64 {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(r.Params), &m); err != nil {
		t.Fatalf("trial %d params %q: %v", r.N, r.Params, err)
	}
	f, ok := m[name].(float64)
	if !ok {
		t.Fatalf("trial %d params %q: no number %q", r.N, r.Params, name)
	}
	return f
}

func expTrials(t *testing.T, c *pgx.Conn, id int64) []trialRow {
	t.Helper()
	rows, err := c.Query(context.Background(), `SELECT trial, params, ablated, status, value, steps, device,
		CAST(finished_at AS VARCHAR), attempts, error, log_path FROM hopsql.trials WHERE experiment_id = $1 ORDER BY trial`, id)
	if err != nil {
		t.Fatalf("hopsql.trials: %v", err)
	}
	defer rows.Close()
	var out []trialRow
	for rows.Next() {
		var r trialRow
		if err := rows.Scan(&r.N, &r.Params, &r.Ablated, &r.Status, &r.Value, &r.Steps, &r.Device, &r.Finished, &r.Attempts, &r.Error, &r.LogPath); err != nil {
			t.Fatalf("hopsql.trials: %v", err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("hopsql.trials: %v", err)
	}
	return out
}

func expStatus(t *testing.T, c *pgx.Conn, id int64) string {
	t.Helper()
	var s string
	if err := c.QueryRow(context.Background(), "SELECT status FROM hopsql.experiments WHERE experiment_id = $1", id).Scan(&s); err != nil {
		t.Fatalf("hopsql.experiments: %v", err)
	}
	return s
}

// expEventually polls cond until it holds; it fails the test after limit (a
// guard against hanging, not a timing expectation).
func expEventually(t *testing.T, limit time.Duration, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		ok, state := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not after %v; last seen: %s", what, limit, state)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// putFile writes a file into hopsfs through WebHDFS.
func putFile(t *testing.T, srv *server, p, body string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPut, srv.HTTP+"/webhdfs/v1"+p+"?op=CREATE&overwrite=true&data=true&user.name=hopsql", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("PUT %s: %v", p, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("PUT %s: %d %s", p, resp.StatusCode, b)
	}
}

// expGetFile reads a hopsfs file through WebHDFS.
func expGetFile(t *testing.T, srv *server, p string) []byte {
	t.Helper()
	resp, err := http.Get(srv.HTTP + "/webhdfs/v1" + p + "?op=OPEN&user.name=hopsql")
	if err != nil {
		t.Fatalf("OPEN %s: %v", p, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("OPEN %s: %d %v %s", p, resp.StatusCode, err, b)
	}
	return b
}

// expLs lists a hopsfs directory's names with fs_ls.
func expLs(t *testing.T, c *pgx.Conn, dir string) []string {
	t.Helper()
	return textRows(t, c, "SELECT name FROM fs_ls('"+dir+"') ORDER BY name")
}

// expTrainers lists the live trainer processes of the data directory
// dataDir: each runs in its trial's directory, <data>/experiments/<p>/<id>/trial_<n>
// (whether forked by the runtime's fork server or started on its own).
func expTrainers(dataDir string) []string {
	entries, _ := os.ReadDir("/proc")
	prefix := filepath.Join(dataDir, "experiments") + "/"
	var out []string
	for _, e := range entries {
		if _, err := strconv.Atoi(e.Name()); err != nil {
			continue
		}
		cwd, err := os.Readlink("/proc/" + e.Name() + "/cwd")
		if err != nil || !strings.HasPrefix(cwd, prefix) {
			continue
		}
		b, _ := os.ReadFile("/proc/" + e.Name() + "/cmdline")
		out = append(out, e.Name()+" in "+cwd+": "+string(bytes.ReplaceAll(b, []byte{0}, []byte{' '})))
	}
	return out
}

// reporting counts the running trials that have reported a step.
func reporting(trials []trialRow) int {
	n := 0
	for _, r := range trials {
		if r.Status == "RUNNING" && r.Steps >= 1 {
			n++
		}
	}
	return n
}

func expCount(trials []trialRow) map[string]int {
	out := map[string]int{}
	for _, r := range trials {
		out[r.Status]++
	}
	return out
}

// TestExperimentGrid: a grid search over xgboost runs every combination,
// WAIT reports progress and the best trial, the system tables and the
// Hopsworks-style trial directories hold what happened; the same on a
// training dataset's train/test split.
func TestExperimentGrid(t *testing.T) {
	srv, _ := expServer(t)
	ctx := context.Background()
	c, notices := expConn(t, srv, false)

	id, name := expCreate(t, c, `CREATE EXPERIMENT grid TRAIN xgboost (n_estimators = 20) ON d TARGET label
		GRID SEARCH (max_depth IN (2, 3), learning_rate IN (0.1, 0.3))
		OPTIMIZE MAXIMIZE auc WITH (parallelism = 2, early_stopping = 'none')`)
	if name != "grid" {
		t.Fatalf("CREATE EXPERIMENT returned name %q", name)
	}
	// WAIT reports progress as NOTICEs while it waits: the first ones
	// arrive before it returns.
	type waitResult struct {
		w   waitRow
		err error
	}
	res := make(chan waitResult, 1)
	go func() {
		w, err := expWait(t, c, "grid")
		res <- waitResult{w, err}
	}()
	var got []string
	var r waitResult
	whileWaiting := 0
	for done := false; !done; {
		select {
		case r = <-res:
			done = true
		case <-time.After(50 * time.Millisecond):
			n := notices()
			got = append(got, n...)
			whileWaiting += len(n)
		}
	}
	got = append(got, notices()...)
	if r.err != nil {
		t.Fatalf("WAIT EXPERIMENT grid: %v", r.err)
	}
	w := r.w
	if w.ID != id || w.Name != "grid" || w.Status != "SUCCEEDED" || w.Trials != 4 {
		t.Fatalf("WAIT: %+v, want (%d, grid, SUCCEEDED, 4, …)", w, id)
	}
	if len(got) == 0 || !strings.Contains(got[len(got)-1], "4 of 4 trials done") {
		t.Fatalf("WAIT's notices %q: the last does not say 4 of 4 trials done", got)
	}
	if whileWaiting == 0 {
		t.Errorf("none of WAIT's %d NOTICEs arrived before it returned: they are held back until the statement ends (%q)", len(got), got)
	}

	trials := expTrials(t, c, id)
	if len(trials) != 4 {
		t.Fatalf("hopsql.trials: %v", trials)
	}
	grid := map[string]bool{}
	maxValue := math.Inf(-1)
	var best trialRow
	for i, r := range trials {
		if r.N != int64(i+1) || r.Status != "SUCCEEDED" || r.Value == nil || !(*r.Value > 0.5 && *r.Value <= 1) ||
			r.Steps != 20 || r.Device == nil || *r.Device != "cpu" || r.Attempts != 1 || r.Error != nil || r.Ablated != nil || r.Finished == nil {
			t.Errorf("%v (device %v)", r, r.Device)
			continue
		}
		grid[fmt.Sprintf("%g/%g", r.param(t, "max_depth"), r.param(t, "learning_rate"))] = true
		if *r.Value > maxValue {
			maxValue, best = *r.Value, r
		}
		if want := fmt.Sprintf("/Projects/hopsql/Experiments/grid_%d/trial_%d/output.log", id, r.N); r.LogPath != want {
			t.Errorf("trial %d log_path %q, want %q", r.N, r.LogPath, want)
		}
	}
	if len(grid) != 4 || !grid["2/0.1"] || !grid["2/0.3"] || !grid["3/0.1"] || !grid["3/0.3"] {
		t.Fatalf("the trials' params are not the grid: %v", grid)
	}
	if w.BestValue == nil || *w.BestValue != maxValue || w.BestTrial == nil || *w.BestTrial != best.N || w.BestParams == nil || *w.BestParams != best.Params {
		t.Fatalf("WAIT's best: trial %v value %v params %v; the trials' best is %v", w.BestTrial, w.BestValue, w.BestParams, best)
	}

	// Every step's metrics, the objective's last step being the value.
	for _, r := range textRows(t, c, fmt.Sprintf(`SELECT trial, count(DISTINCT step), min(step), max(step), count(*), count(DISTINCT metric)
		FROM hopsql.trial_metrics WHERE experiment_id = %d GROUP BY trial ORDER BY trial`, id)) {
		var n, steps, lo, hi, rows, metrics int
		fmt.Sscanf(strings.ReplaceAll(r, "|", " "), "%d %d %d %d %d %d", &n, &steps, &lo, &hi, &rows, &metrics)
		if steps != 20 || lo != 1 || hi != 20 || metrics != 4 || rows != steps*metrics {
			t.Errorf("trial_metrics of trial %d: %d steps (%d…%d), %d metrics, %d rows", n, steps, lo, hi, metrics, rows)
		}
	}
	if got := textRows(t, c, fmt.Sprintf("SELECT DISTINCT metric FROM hopsql.trial_metrics WHERE experiment_id = %d ORDER BY metric", id)); strings.Join(got, ",") != "accuracy,auc,f1,log_loss" {
		t.Errorf("trial_metrics metrics: %v", got)
	}
	if got := textRows(t, c, fmt.Sprintf(`SELECT count(*) FROM hopsql.trials t JOIN hopsql.trial_metrics m USING (experiment_id, trial)
		WHERE t.experiment_id = %d AND m.metric = 'auc' AND m.step = 20 AND m.value = t.value`, id)); got[0] != "4" {
		t.Errorf("trials whose value is the auc of their last step: %v, want 4", got)
	}

	// The experiment's row.
	want := fmt.Sprintf("grid|xgboost|d|label|classification|grid|auc|MAXIMIZE|SUCCEEDED|4|4|%d|2|0|none|hopsql|t|∅|/Projects/hopsql/Experiments/grid_%d",
		best.N, id)
	if got := textRows(t, c, fmt.Sprintf(`SELECT name, algorithm, source, target, task, search, metric, direction, status, trials,
		trials_done, best_trial, parallelism, gpus_per_trial, early_stopping, owner, finished_at >= created_at, error, directory
		FROM hopsql.experiments WHERE experiment_id = %d`, id)); len(got) != 1 || got[0] != want {
		t.Fatalf("hopsql.experiments: %v\nwant %s", got, want)
	}
	var bestValue float64
	var opts string
	if err := c.QueryRow(ctx, "SELECT best_value, options FROM hopsql.experiments WHERE experiment_id = $1", id).Scan(&bestValue, &opts); err != nil || bestValue != maxValue {
		t.Fatalf("hopsql.experiments best_value %v (%v), want %v", bestValue, err, maxValue)
	}
	var optMap map[string]any
	if err := json.Unmarshal([]byte(opts), &optMap); err != nil || optMap["parallelism"] != 2.0 || optMap["early_stopping"] != "none" {
		t.Errorf("hopsql.experiments options %q", opts)
	}

	// The files: hparams.json holds the trial's configuration (and the
	// fixed hyperparameters), outputs.json its final metrics.
	dir := fmt.Sprintf("/Projects/hopsql/Experiments/grid_%d", id)
	if got := expLs(t, c, dir); strings.Join(got, ",") != "trial_1,trial_2,trial_3,trial_4" {
		t.Fatalf("%s holds %v", dir, got)
	}
	for _, r := range trials {
		td := fmt.Sprintf("%s/trial_%d", dir, r.N)
		if got := expLs(t, c, td); strings.Join(got, ",") != "hparams.json,output.log,outputs.json" {
			t.Errorf("%s holds %v", td, got)
			continue
		}
		var hp map[string]any
		if err := json.Unmarshal(expGetFile(t, srv, td+"/hparams.json"), &hp); err != nil {
			t.Fatalf("%s/hparams.json: %v", td, err)
		}
		if hp["max_depth"] != r.param(t, "max_depth") || hp["learning_rate"] != r.param(t, "learning_rate") || hp["n_estimators"] != 20.0 || len(hp) != 3 {
			t.Errorf("%s/hparams.json %v, trial params %s", td, hp, r.Params)
		}
		var out struct {
			Metrics      map[string]float64 `json:"metrics"`
			EarlyStopped bool               `json:"early_stopped"`
			Steps        int                `json:"steps"`
		}
		if err := json.Unmarshal(expGetFile(t, srv, td+"/outputs.json"), &out); err != nil {
			t.Fatalf("%s/outputs.json: %v", td, err)
		}
		if out.Metrics["auc"] != *r.Value || out.EarlyStopped || out.Steps != 20 {
			t.Errorf("%s/outputs.json %+v, trial value %v", td, out, *r.Value)
		}
		if log := string(expGetFile(t, srv, td+"/output.log")); !strings.Contains(log, "step 20:") {
			t.Errorf("%s/output.log lacks step 20:\n%s", td, log)
		}
	}
	// An experiment is named by its id too.
	if w2 := mustWait(t, c, strconv.FormatInt(id, 10), "SUCCEEDED", 4); w2.Name != "grid" {
		t.Errorf("WAIT EXPERIMENT %d: %+v", id, w2)
	}

	// On a training dataset: its train split trains, its test split evaluates.
	mustExec(t, c, "CREATE FEATURE GROUP tx (cc_num bigint, amount double precision, ts timestamp) PRIMARY KEY (cc_num) EVENT TIME (ts)")
	mustExec(t, c, "CREATE TABLE labels (cc_num bigint, label_ts timestamp, is_fraud boolean)")
	mustExec(t, c, "INSERT INTO tx SELECT i % 100, i % 37, TIMESTAMP '2024-01-01' + i * INTERVAL '1 hour' FROM generate_series(0, 999) r(i)")
	mustExec(t, c, "INSERT INTO labels SELECT i % 120, TIMESTAMP '2024-01-01' + (i * 7 % 1000) * INTERVAL '1 hour', i % 3 = 0 FROM generate_series(0, 599) r(i)")
	mustExec(t, c, `CREATE FEATURE VIEW fv EVENT TIME (label_ts) AS
		SELECT l.cc_num, l.label_ts, l.is_fraud, t.amount FROM labels l LEFT JOIN tx t USING (cc_num)`)
	mustExec(t, c, "CREATE TRAINING DATASET td FROM fv WITH (split = 'train:0.8,test:0.2', seed = 7)")
	tdID, _ := expCreate(t, c, `CREATE EXPERIMENT on_td TRAIN xgboost (n_estimators = 10) ON td TARGET is_fraud
		GRID SEARCH (max_depth IN (2, 3)) OPTIMIZE MAXIMIZE accuracy WITH (early_stopping = 'none')`)
	mustWait(t, c, "on_td", "SUCCEEDED", 2)
	if st := expCount(expTrials(t, c, tdID)); st["SUCCEEDED"] != 2 {
		t.Fatalf("on_td trials: %v", st)
	}
	if got := textRows(t, c, fmt.Sprintf("SELECT source, target, task, parallelism FROM hopsql.experiments WHERE experiment_id = %d", tdID)); strings.Join(got, ";") != "td|is_fraud|classification|2" {
		t.Fatalf("on_td: %v", got)
	}
}

// TestExperimentBadInput: CREATE EXPERIMENT checks everything before
// anything starts; nothing is recorded or left behind when it refuses.
func TestExperimentBadInput(t *testing.T) {
	srv, c := expServer(t)
	ctx := context.Background()
	mustExec(t, c, "CREATE TABLE onlylabel AS SELECT i % 2 AS label FROM range(20) t(i)")
	mustExec(t, c, "CREATE TABLE oneclass AS SELECT i AS a, 1 AS label FROM range(20) t(i)")
	mustExec(t, c, "CREATE TABLE tiny AS SELECT 1 AS a, 0 AS label UNION ALL SELECT 2, 1")
	mustExec(t, c, "CREATE TABLE txt AS SELECT i AS a, CASE WHEN i % 2 = 0 THEN 'x' ELSE 'y' END AS label FROM range(20) t(i)")
	mustExec(t, c, "CREATE TABLE other (x int)")
	putFile(t, srv, "/Projects/hopsql/Resources/ok.py", "def train(data, hparams, reporter):\n    return {'score': 1}\n")
	var gpus int
	if err := c.QueryRow(ctx, "SELECT count(*) FROM hopsql.gpus").Scan(&gpus); err != nil {
		t.Fatal(err)
	}

	const on = " ON d TARGET label "
	const grid = " GRID SEARCH (max_depth IN (2, 3)) "
	const opt = " OPTIMIZE MAXIMIZE auc"
	const ok = "CREATE EXPERIMENT x TRAIN xgboost" + on + grid + opt
	script := func(p string) string {
		return "CREATE EXPERIMENT x TRAIN SCRIPT '" + p + "'" + on + "GRID SEARCH (x IN (1)) OPTIMIZE MAXIMIZE score"
	}
	cases := []struct{ sql, code string }{
		{"CREATE EXPERIMENT x TRAIN nope" + on + grid + opt, "42704"},
		{"CREATE EXPERIMENT x TRAIN xgboost (depth = 2)" + on + grid + opt, "22023"},
		{"CREATE EXPERIMENT x TRAIN xgboost" + on + "GRID SEARCH (depth IN (2, 3))" + opt, "22023"},
		{"CREATE EXPERIMENT x TRAIN xgboost (max_depth = 'deep')" + on + "GRID SEARCH (learning_rate IN (0.1))" + opt, "22023"},
		{"CREATE EXPERIMENT x TRAIN xgboost (max_depth = 2.5)" + on + "GRID SEARCH (learning_rate IN (0.1))" + opt, "22023"},
		{"CREATE EXPERIMENT x TRAIN xgboost (max_depth = 3)" + on + grid + opt, "22023"},
		{"CREATE EXPERIMENT x TRAIN xgboost (max_depth = 3, max_depth = 4)" + on + "GRID SEARCH (learning_rate IN (0.1))" + opt, "22023"},
		{"CREATE EXPERIMENT x TRAIN xgboost" + on + "GRID SEARCH (max_depth IN ())" + opt, "22023"},
		{"CREATE EXPERIMENT x TRAIN xgboost" + on + "GRID SEARCH (max_depth IN (2), max_depth IN (3))" + opt, "22023"},
		{"CREATE EXPERIMENT x TRAIN xgboost" + on + "GRID SEARCH (max_depth RANGE (2, 4))" + opt, "22023"},
		{"CREATE EXPERIMENT x TRAIN xgboost ON d TARGET nope" + grid + opt, "42703"},
		{"CREATE EXPERIMENT x TRAIN xgboost ON nope TARGET label" + grid + opt, "42P01"},
		{"CREATE EXPERIMENT x TRAIN xgboost ON onlylabel TARGET label" + grid + opt, "22023"},
		{"CREATE EXPERIMENT x TRAIN xgboost ON oneclass TARGET label" + grid + opt, "22023"},
		{"CREATE EXPERIMENT x TRAIN xgboost ON tiny TARGET label" + grid + opt, "22023"},
		{"CREATE EXPERIMENT x TRAIN xgboost ON txt TARGET label" + grid + " OPTIMIZE MINIMIZE rmse WITH (task = 'regression')", "42804"},
		{script("/Projects/other/Resources/t.py"), "42501"},
		{script("/etc/passwd"), "42501"},
		{script("/Projects/hopsql/Resources/../../other/t.py"), "22023"},
		{script("/Projects/hopsql/Resources/missing.py"), "58P01"},
		{script("/Projects/hopsql/Resources"), "58P01"},
		{"CREATE EXPERIMENT x TRAIN xgboost" + on + grid + " OPTIMIZE MINIMIZE rmse", "22023"},
		{"CREATE EXPERIMENT x TRAIN xgboost" + on + grid + " OPTIMIZE MAXIMIZE score", "22023"},
		{"CREATE EXPERIMENT x TRAIN xgboost" + on + "RANDOM SEARCH (max_depth IN (2, 3))" + opt, "42601"},
		{"CREATE EXPERIMENT x TRAIN xgboost" + on + "RANDOM SEARCH (max_depth IN (2, 3)) TRIALS 0" + opt, "22023"},
		{"CREATE EXPERIMENT x TRAIN xgboost" + on + "RANDOM SEARCH (learning_rate RANGE (0.3, 0.1)) TRIALS 2" + opt, "22023"},
		{"CREATE EXPERIMENT x TRAIN xgboost" + on + "RANDOM SEARCH (learning_rate RANGE (0.3, 0.3)) TRIALS 2" + opt, "22023"},
		{"CREATE EXPERIMENT x TRAIN xgboost" + on + "RANDOM SEARCH (learning_rate RANGE (0, 0.3) LOG) TRIALS 2" + opt, "22023"},
		{"CREATE EXPERIMENT x TRAIN xgboost" + on + "RANDOM SEARCH (max_depth RANGE (2.2, 2.8)) TRIALS 2" + opt, "22023"},
		{"CREATE EXPERIMENT x TRAIN xgboost" + on + "RANDOM SEARCH (learning_rate RANGE (0.1)) TRIALS 2" + opt, "22023"},
		{"CREATE EXPERIMENT x TRAIN xgboost" + on + "RANDOM SEARCH (max_depth RANGE (1, 1e300)) TRIALS 2" + opt, "22003"},
		{"CREATE EXPERIMENT x TRAIN xgboost" + on + "RANDOM SEARCH (max_depth RANGE (2, 4)) TRIALS two" + opt, "42601"},
		{"CREATE EXPERIMENT x TRAIN mlp" + on + "BAYESIAN SEARCH (activation RANGE (0, 1)) TRIALS 2" + opt, "22023"},
		{ok + " WITH (gpus_per_trial = 64)", "53000"},
		{ok + " WITH (gpus_per_trial = -1)", "22023"},
		{ok + " WITH (colour = 'red')", "22023"},
		{ok + " WITH (parallelism = 0)", "22023"},
		{ok + " WITH (parallelism = 2, parallelism = 3)", "22023"},
		{ok + " WITH (early_stopping = 'sometimes')", "22023"},
		{ok + " WITH (max_failures = -1)", "22023"},
		{ok + " WITH (task = 'clustering')", "22023"},
		{ok + " WITH (synchronous = 'yes')", "22023"},
		{"CREATE EXPERIMENT x TRAIN xgboost" + on + "ABLATE FEATURES (a, nope)" + opt, "42703"},
		{"CREATE EXPERIMENT x TRAIN xgboost" + on + "ABLATE LAYERS (hidden1)" + opt, "22023"},
		{"CREATE EXPERIMENT x TRAIN mlp (layers = 2)" + on + "ABLATE LAYERS (hidden3)" + opt, "22023"},
		{"CREATE EXPERIMENT x TRAIN mlp" + on + "ABLATE LAYERS (output)" + opt, "22023"},
		{"CREATE EXPERIMENT x TRAIN xgboost" + on + "ABLATE" + opt, "22023"},
		{"CREATE EXPERIMENT x TRAIN linear_regression" + on + "GRID SEARCH (alpha IN (0.1))" + " OPTIMIZE MINIMIZE rmse", "22023"},
		{`CREATE EXPERIMENT "a/b" TRAIN xgboost` + on + grid + opt, "42602"},
		// Syntax.
		{"CREATE EXPERIMENT x TRAIN xgboost ON d", "42601"},
		{"CREATE EXPERIMENT x TRAIN xgboost" + on + opt, "42601"},
		{"CREATE EXPERIMENT x TRAIN xgboost" + on + grid + " OPTIMIZE auc", "42601"},
		{"CREATE EXPERIMENT x TRAIN xgboost" + on + grid + opt + " WITH (parallelism 2)", "42601"},
		{"CREATE EXPERIMENT x TRAIN xgboost" + on + grid + opt + " now", "42601"},
		{"CREATE EXPERIMENT x TRAIN xgboost" + on + "GRID SEARCH (max_depth BETWEEN (2, 3))" + opt, "42601"},
		{"CREATE EXPERIMENT x TRAIN xgboost" + on + "GRID SEARCH (max_depth IN (2 3))" + opt, "42601"},
		{"CREATE EXPERIMENT x TRAIN xgboost (max_depth)" + on + grid + opt, "42601"},
		{"CREATE EXPERIMENT x TRAIN SCRIPT ok" + on + grid + opt, "42601"},
		{"CREATE EXPERIMENT x TRAIN xgboost" + on + "GRID SEARCH max_depth IN (2)" + opt, "42601"},
		{"CREATE EXPERIMENT", "42601"},
		{"WAIT EXPERIMENT", "42601"},
		{"WAIT EXPERIMENT a b", "42601"},
		{"CANCEL EXPERIMENT a b", "42601"},
		{"DROP EXPERIMENT IF EXISTS", "42601"},
		// Unknown experiments.
		{"WAIT EXPERIMENT nope", "42704"},
		{"CANCEL EXPERIMENT nope", "42704"},
		{"DROP EXPERIMENT nope", "42704"},
	}
	if gpus == 0 {
		cases = append(cases, struct{ sql, code string }{ok + " WITH (gpus_per_trial = 1)", "53000"},
			struct{ sql, code string }{ok + " WITH (gpus_per_trial = 0.5)", "53000"})
	}
	for _, tc := range cases {
		// Both protocols: the simple one (Exec without arguments) and the
		// extended one (Query).
		if _, err := c.Exec(ctx, tc.sql); sqlstate(err) != tc.code {
			t.Errorf("%s: %v, want %s", tc.sql, err, tc.code)
		}
		rows, err := c.Query(ctx, tc.sql)
		if err == nil {
			rows.Close()
			err = rows.Err()
		}
		if sqlstate(err) != tc.code {
			t.Errorf("%s (extended protocol): %v, want %s", tc.sql, err, tc.code)
		}
	}
	// Inside a transaction block.
	for _, sql := range []string{ok, "WAIT EXPERIMENT nope", "CANCEL EXPERIMENT nope", "DROP EXPERIMENT IF EXISTS nope"} {
		mustExec(t, c, "BEGIN")
		if _, err := c.Exec(ctx, sql); sqlstate(err) != "25001" {
			t.Errorf("%s inside BEGIN: %v, want 25001", sql, err)
		}
		mustExec(t, c, "ROLLBACK")
	}

	// Nothing started, nothing left.
	if got := textRows(t, c, "SELECT (SELECT count(*) FROM hopsql.experiments), (SELECT count(*) FROM hopsql.trials)"); got[0] != "0|0" {
		t.Fatalf("experiments, trials after refused statements: %v", got)
	}
	if got := expLs(t, c, "/Projects/hopsql/Experiments"); len(got) != 0 {
		t.Fatalf("/Projects/hopsql/Experiments after refused statements: %v", got)
	}
	if left, _ := filepath.Glob(filepath.Join(srv.DataDir, "tmp", "experiment-*")); len(left) != 0 {
		t.Fatalf("exported data left behind: %v", left)
	}
	if left, _ := filepath.Glob(filepath.Join(srv.DataDir, "experiments", "*", "*")); len(left) != 0 {
		t.Fatalf("experiment directories left behind: %v", left)
	}
	if procs := expTrainers(srv.DataDir); len(procs) != 0 {
		t.Fatalf("trainers running: %v", procs)
	}

	// A server without CPU slots refuses CPU trials.
	none := startServer(t, "--cpu-slots", "0")
	nc := none.connect(t)
	mustExec(t, nc, expData)
	if _, err := nc.Exec(ctx, ok); sqlstate(err) != "53000" {
		t.Errorf("--cpu-slots 0: %v, want 53000", err)
	}
	if got := textRows(t, nc, "SELECT count(*) FROM hopsql.experiments"); got[0] != "0" {
		t.Errorf("--cpu-slots 0: %v experiments recorded", got)
	}
}

// scoreScript reports score·step/5 for five steps and returns the score,
// 1 - |x - 0.3|, as the final metric (it overrides the last report).
const scoreScript = `
def train(data, hparams, reporter):
    x = float(hparams["x"])
    score = 1 - abs(x - 0.3)
    for step in range(1, 6):
        if reporter.report(step, score=score * step / 5, rows=len(data.X_train)):
            break
    return {"score": score}
`

// failScript fails when x > 0.5, after one report.
const failScript = `
def train(data, hparams, reporter):
    x = float(hparams["x"])
    reporter.report(1, score=x)
    if x > 0.5:
        raise ValueError("x is too large: %g" % x)
    return {"score": 1 - x}
`

// TestExperimentScript: TRAIN SCRIPT runs a project's train.py under
// random and Bayesian searches; failing trials are FAILED with the
// exception in error and their log kept; max_failures fails the experiment.
func TestExperimentScript(t *testing.T) {
	srv, c := expServer(t)
	res := "/Projects/hopsql/Resources"
	putFile(t, srv, res+"/train.py", scoreScript)
	putFile(t, srv, res+"/flaky.py", failScript)
	putFile(t, srv, res+"/broken.py", "def train(data, hparams, reporter):\n    raise RuntimeError('always broken')\n")
	putFile(t, srv, res+"/quiet.py", "def train(data, hparams, reporter):\n    reporter.report(1, loss=0.5)\n")

	for _, tc := range []struct {
		name, search string
		trials       int
		lo, hi       float64
	}{
		{"rnd", "RANDOM SEARCH (x RANGE (0, 1)) TRIALS 4", 4, 0, 1},
		{"bayes", "BAYESIAN SEARCH (x RANGE (0.0, 1.0)) TRIALS 6", 6, 0, 1},
		{"logrnd", "RANDOM SEARCH (x RANGE (0.01, 1.0) LOG) TRIALS 2", 2, 0.01, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			id, _ := expCreate(t, c, "CREATE EXPERIMENT "+tc.name+" TRAIN SCRIPT '"+res+"/train.py' ON d TARGET label "+
				tc.search+" OPTIMIZE MAXIMIZE score WITH (parallelism = 2, early_stopping = 'none', seed = 3)")
			w := mustWait(t, c, tc.name, "SUCCEEDED", int64(tc.trials))
			trials := expTrials(t, c, id)
			if len(trials) != tc.trials {
				t.Fatalf("trials: %v", trials)
			}
			best := math.Inf(-1)
			var xs []float64
			for _, r := range trials {
				x := r.param(t, "x")
				xs = append(xs, x)
				if r.Status != "SUCCEEDED" || x < tc.lo || x > tc.hi || r.Value == nil || math.Abs(*r.Value-(1-math.Abs(x-0.3))) > 1e-9 || r.Steps != 5 {
					t.Errorf("%v", r)
					continue
				}
				best = math.Max(best, *r.Value)
			}
			t.Logf("%s: x = %v", tc.name, xs)
			if w.BestValue == nil || *w.BestValue != best {
				t.Errorf("WAIT's best value %v, want %v", w.BestValue, best)
			}
			// Five steps per trial, each with both metrics; rows is the
			// training split's size (80% of 1000).
			if got := textRows(t, c, fmt.Sprintf(`SELECT count(*), count(DISTINCT trial), count(DISTINCT step), min(value) FILTER (WHERE metric = 'rows'),
				max(value) FILTER (WHERE metric = 'rows') FROM hopsql.trial_metrics WHERE experiment_id = %d`, id)); got[0] != fmt.Sprintf("%d|%d|5|800|800", tc.trials*10, tc.trials) {
				t.Errorf("trial_metrics: %v", got)
			}
		})
	}

	t.Run("failures", func(t *testing.T) {
		id, _ := expCreate(t, c, "CREATE EXPERIMENT flaky TRAIN SCRIPT '"+res+"/flaky.py' ON d TARGET label "+
			"GRID SEARCH (x IN (0.1, 0.7, 0.2, 0.9)) OPTIMIZE MAXIMIZE score WITH (parallelism = 2, early_stopping = 'none')")
		w := mustWait(t, c, "flaky", "SUCCEEDED", 4)
		if w.BestTrial == nil || *w.BestTrial != 1 {
			t.Errorf("best trial %v, want 1 (x = 0.1)", w.BestTrial)
		}
		for _, r := range expTrials(t, c, id) {
			x := r.param(t, "x")
			if x <= 0.5 {
				if r.Status != "SUCCEEDED" || r.Error != nil {
					t.Errorf("%v", r)
				}
				continue
			}
			if r.Status != "FAILED" || r.Error == nil || !strings.Contains(*r.Error, "ValueError: x is too large") || r.Value != nil {
				t.Errorf("%v: want FAILED with the exception", r)
			}
			if r.Error != nil && !strings.Contains(*r.Error, r.LogPath) {
				t.Errorf("trial %d error %q does not name its log %s", r.N, *r.Error, r.LogPath)
			}
			if log := string(expGetFile(t, srv, r.LogPath)); !strings.Contains(log, "Traceback") || !strings.Contains(log, "ValueError: x is too large") {
				t.Errorf("%s:\n%s", r.LogPath, log)
			}
		}
		if got := textRows(t, c, fmt.Sprintf("SELECT status, trials_done, error FROM hopsql.experiments WHERE experiment_id = %d", id)); got[0] != "SUCCEEDED|4|∅" {
			t.Errorf("hopsql.experiments: %v", got)
		}

		// max_failures = 0: the first failure fails the experiment.
		id, _ = expCreate(t, c, "CREATE EXPERIMENT strict TRAIN SCRIPT '"+res+"/flaky.py' ON d TARGET label "+
			"GRID SEARCH (x IN (0.1, 0.7, 0.2, 0.9)) OPTIMIZE MAXIMIZE score WITH (parallelism = 2, early_stopping = 'none', max_failures = 0)")
		if _, err := expWait(t, c, "strict"); sqlstate(err) != "38000" || !strings.Contains(err.Error(), "max_failures = 0") {
			t.Fatalf("WAIT on an experiment past max_failures: %v, want 38000", err)
		}
		trials := expTrials(t, c, id)
		st := expCount(trials)
		if expStatus(t, c, id) != "FAILED" || st["FAILED"] != 1 || st["RUNNING"]+st["PENDING"] != 0 {
			t.Errorf("strict: %s, trials %v", expStatus(t, c, id), trials)
		}

		// A script that always fails; one that never reports the objective.
		for _, sc := range []struct{ name, file, errText string }{
			{"broken", "broken.py", "RuntimeError: always broken"},
			{"quiet", "quiet.py", "objective metric 'score' was never reported"},
		} {
			id, _ := expCreate(t, c, "CREATE EXPERIMENT "+sc.name+" TRAIN SCRIPT '"+res+"/"+sc.file+"' ON d TARGET label "+
				"GRID SEARCH (x IN (1, 2)) OPTIMIZE MAXIMIZE score WITH (parallelism = 2)")
			if _, err := expWait(t, c, sc.name); sqlstate(err) != "38000" {
				t.Errorf("WAIT %s: %v, want 38000", sc.name, err)
			}
			for _, r := range expTrials(t, c, id) {
				if r.Status != "FAILED" || r.Error == nil || !strings.Contains(*r.Error, sc.errText) {
					t.Errorf("%s: %v, want FAILED with %q", sc.name, r, sc.errText)
				}
			}
			if got := textRows(t, c, fmt.Sprintf("SELECT status, error IS NOT NULL FROM hopsql.experiments WHERE experiment_id = %d", id)); got[0] != "FAILED|t" {
				t.Errorf("%s: %v", sc.name, got)
			}
		}
	})
	if procs := expTrainers(srv.DataDir); len(procs) != 0 {
		t.Fatalf("trainers left running: %v", procs)
	}
}

// slowScript reports `steps` steps, sleeping `pause` before each.
func slowScript(steps int, pause float64) string {
	return fmt.Sprintf(`import time

def train(data, hparams, reporter):
    x = float(hparams["x"])
    for step in range(1, %d):
        time.sleep(%g)
        if reporter.report(step, score=x * step):
            break
    return {"score": x}
`, steps+1, pause)
}

// TestExperimentCancel: CANCEL EXPERIMENT kills the running trials; a
// cancel request ends a WAIT but not the experiment.
func TestExperimentCancel(t *testing.T) {
	srv, c := expServer(t)
	ctx := context.Background()
	putFile(t, srv, "/Projects/hopsql/Resources/long.py", slowScript(300, 0.2))
	create := func(name string) int64 {
		id, _ := expCreate(t, c, "CREATE EXPERIMENT "+name+" TRAIN SCRIPT '/Projects/hopsql/Resources/long.py' ON d TARGET label "+
			"GRID SEARCH (x IN (1, 2, 3, 4)) OPTIMIZE MAXIMIZE score WITH (parallelism = 2, early_stopping = 'none')")
		return id
	}
	running := func(id int64) {
		expEventually(t, 60*time.Second, "two trials reporting", func() (bool, string) {
			trials := expTrials(t, c, id)
			return reporting(trials) == 2, fmt.Sprint(trials)
		})
	}

	id := create("long")
	running(id)
	// Running trials' steps are in trial_metrics while they run.
	if got := textRows(t, c, fmt.Sprintf("SELECT count(DISTINCT trial) FROM hopsql.trial_metrics WHERE experiment_id = %d", id)); got[0] != "2" {
		t.Errorf("live trial_metrics: %v trials", got)
	}
	if got := textRows(t, c, fmt.Sprintf("SELECT status, trials, trials_done FROM hopsql.experiments WHERE experiment_id = %d", id)); got[0] != "RUNNING|4|0" {
		t.Errorf("hopsql.experiments while running: %v", got)
	}
	if procs := expTrainers(srv.DataDir); len(procs) != 2 {
		t.Errorf("trainer processes while running: %v", procs)
	}
	mustExec(t, c, "CANCEL EXPERIMENT long")
	if s := expStatus(t, c, id); s != "CANCELLED" {
		t.Fatalf("after CANCEL EXPERIMENT: %s", s)
	}
	trials := expTrials(t, c, id)
	st := expCount(trials)
	if len(trials) == 0 || st["CANCELLED"] != len(trials) {
		t.Fatalf("trials after CANCEL: %v", trials)
	}
	for _, r := range trials {
		if r.Finished == nil {
			t.Errorf("cancelled %v has no finished_at", r)
		}
	}
	if procs := expTrainers(srv.DataDir); len(procs) != 0 {
		t.Fatalf("trainers left after CANCEL EXPERIMENT: %v", procs)
	}
	if w := mustWait(t, c, "long", "CANCELLED", int64(len(trials))); w.BestTrial != nil {
		t.Errorf("WAIT on a cancelled experiment: %+v", w)
	}
	if _, err := c.Exec(ctx, "CANCEL EXPERIMENT long"); sqlstate(err) != "55000" {
		t.Errorf("CANCEL of a cancelled experiment: %v, want 55000", err)
	}

	// A cancel request ends WAIT with 57014 (whichever protocol); the
	// experiment goes on.
	id2 := create("long2")
	running(id2)
	for _, proto := range []string{"simple", "extended"} {
		cc, _ := expConn(t, srv, true)
		wctx, cancel := context.WithCancel(ctx)
		time.AfterFunc(300*time.Millisecond, cancel)
		var err error
		if proto == "simple" {
			_, err = cc.Exec(wctx, "WAIT EXPERIMENT long2")
		} else {
			_, err = expWaitCtx(wctx, cc, "long2")
		}
		cancel()
		if sqlstate(err) != "57014" {
			t.Errorf("WAIT (%s protocol) interrupted by a cancel request: %v, want 57014", proto, err)
			continue
		}
		var one int
		if err := cc.QueryRow(ctx, "SELECT 1").Scan(&one); err != nil || one != 1 {
			t.Errorf("the session after a cancelled WAIT: %v", err)
		}
	}
	if s := expStatus(t, c, id2); s != "RUNNING" {
		t.Fatalf("after a cancelled WAIT the experiment is %s, want RUNNING", s)
	}
	if st := expCount(expTrials(t, c, id2)); st["RUNNING"] != 2 {
		t.Fatalf("after a cancelled WAIT: trials %v", st)
	}
	mustExec(t, c, "CANCEL EXPERIMENT long2")
	if s := expStatus(t, c, id2); s != "CANCELLED" {
		t.Fatalf("long2 after CANCEL: %s", s)
	}
	if st := expCount(expTrials(t, c, id2)); st["RUNNING"]+st["PENDING"] != 0 {
		t.Fatalf("long2 trials after CANCEL: %v", st)
	}
	if procs := expTrainers(srv.DataDir); len(procs) != 0 {
		t.Fatalf("trainers left after CANCEL EXPERIMENT long2: %v", procs)
	}

	// A graceful stop while a client waits on a running experiment: the
	// wait ends with the shutdown (cancelled, or the connection terminated
	// by the administrator), not a dropped connection; after the restart
	// the experiment runs again, its trials on their second attempt.
	id3 := create("long3")
	running(id3)
	wc := srv.connect(t)
	waited := make(chan error, 1)
	go func() {
		_, err := expWaitCtx(context.Background(), wc, "long3")
		waited <- err
	}()
	time.Sleep(500 * time.Millisecond) // let the WAIT begin (it ends the same way if it has not)
	srv.Stop()
	if err := <-waited; sqlstate(err) != "57014" && sqlstate(err) != "57P01" {
		t.Errorf("WAIT during a graceful stop: %v, want 57014 or 57P01", err)
	}
	srv.Restart()
	c = srv.connect(t)
	expEventually(t, 60*time.Second, "long3's trials running again", func() (bool, string) {
		trials := expTrials(t, c, id3)
		n := 0
		for _, r := range trials {
			if r.Status == "RUNNING" && r.Attempts == 2 && r.Steps >= 1 {
				n++
			}
		}
		return n == 2, fmt.Sprint(trials)
	})
	mustExec(t, c, "CANCEL EXPERIMENT long3")
	if s := expStatus(t, c, id3); s != "CANCELLED" {
		t.Fatalf("long3 after CANCEL: %s", s)
	}

	// CANCEL as the trials start (RUNNING, their trainers just forked):
	// the trainers are killed too, far from their last step (50 steps of
	// 0.1 s).
	putFile(t, srv, "/Projects/hopsql/Resources/brief.py", slowScript(50, 0.1))
	for i := 0; i < 3; i++ {
		name := fmt.Sprintf("early%d", i)
		id, _ := expCreate(t, c, "CREATE EXPERIMENT "+name+" TRAIN SCRIPT '/Projects/hopsql/Resources/brief.py' ON d TARGET label "+
			"GRID SEARCH (x IN (1, 2)) OPTIMIZE MAXIMIZE score WITH (parallelism = 2, early_stopping = 'none')")
		expEventually(t, 60*time.Second, "two trials RUNNING", func() (bool, string) {
			st := expCount(expTrials(t, c, id))
			return st["RUNNING"] == 2, fmt.Sprint(st)
		})
		cctx, cancel := context.WithTimeout(ctx, 60*time.Second)
		_, err := c.Exec(cctx, "CANCEL EXPERIMENT "+name)
		cancel()
		if err != nil {
			t.Fatalf("CANCEL EXPERIMENT %s: %v", name, err)
		}
		for _, r := range expTrials(t, c, id) {
			if r.Status != "CANCELLED" || r.Steps >= 50 {
				t.Errorf("%s: %v: want CANCELLED before its last step (a trial that reached step 50 was not killed by CANCEL)", name, r)
			}
		}
		if procs := expTrainers(srv.DataDir); len(procs) != 0 {
			t.Fatalf("trainers left after CANCEL EXPERIMENT %s: %v", name, procs)
		}
	}
}

func expWaitCtx(ctx context.Context, c *pgx.Conn, name string) (waitRow, error) {
	var w waitRow
	err := c.QueryRow(ctx, "WAIT EXPERIMENT "+name).Scan(&w.ID, &w.Name, &w.Status, &w.Trials, &w.BestTrial, &w.BestValue, &w.BestParams)
	return w, err
}

// esScript's score grows to 1 - |x - 0.2| over 50 steps: trials far from
// 0.2 are clearly worse at every step.
const esScript = `import time

def train(data, hparams, reporter):
    x = float(hparams["x"])
    score = 0.0
    for step in range(1, 51):
        time.sleep(0.02)
        score = (1 - abs(x - 0.2)) * step / 50
        if reporter.report(step, score=score):
            break
    return {"score": score}
`

// TestExperimentEarlyStopping: the median rule and ASHA stop clearly
// worse trials before their last step; the best ones run to the end.
func TestExperimentEarlyStopping(t *testing.T) {
	srv, c := expServer(t)
	putFile(t, srv, "/Projects/hopsql/Resources/es.py", esScript)
	for _, tc := range []struct {
		rule, grid  string
		parallelism int
	}{
		// Two at once: x = 0.2 and 0.25 run first, before any trial has
		// finished; the median rule judges the others against them.
		{"median", "0.2, 0.25, 0.9, 0.95, 0.3, 0.85", 2},
		// One at a time, so that every trial meets the same competition
		// at each rung: x = 0.25 first (alone at every rung), then the best
		// configuration, x = 0.2, better than 0.25 at every step.
		{"asha", "0.25, 0.2, 0.9, 0.95", 1},
	} {
		t.Run(tc.rule, func(t *testing.T) {
			name := "es_" + tc.rule
			id, _ := expCreate(t, c, "CREATE EXPERIMENT "+name+" TRAIN SCRIPT '/Projects/hopsql/Resources/es.py' ON d TARGET label "+
				"GRID SEARCH (x IN ("+tc.grid+")) OPTIMIZE MAXIMIZE score "+
				fmt.Sprintf("WITH (parallelism = %d, early_stopping = '%s', early_stopping_min_trials = 2)", tc.parallelism, tc.rule))
			n := int64(len(strings.Split(tc.grid, ",")))
			w := mustWait(t, c, name, "SUCCEEDED", n)
			trials := expTrials(t, c, id)
			t.Logf("%s: %v", tc.rule, trials)
			stoppedBad := 0
			for _, r := range trials {
				x := r.param(t, "x")
				switch {
				case r.Status == "FAILED" || r.Status == "CANCELLED":
					t.Errorf("%v", r)
				case x == 0.2 || x == 0.25:
					if r.Status != "SUCCEEDED" || r.Steps != 50 {
						t.Errorf("%v: want SUCCEEDED after 50 steps", r)
					}
				case r.Status == "EARLY_STOPPED":
					if r.Steps >= 50 || r.Value == nil {
						t.Errorf("early stopped %v", r)
					}
					if x >= 0.85 {
						stoppedBad++
					}
				}
			}
			if stoppedBad == 0 {
				t.Errorf("no bad configuration was stopped early")
			}
			if w.BestValue == nil || math.Abs(*w.BestValue-1) > 1e-9 {
				t.Errorf("best: trial %v value %v, want x = 0.2's 1", expPtr(w.BestTrial), expPtr(w.BestValue))
			}
			if got := textRows(t, c, fmt.Sprintf("SELECT early_stopping, trials_done FROM hopsql.experiments WHERE experiment_id = %d", id)); got[0] != fmt.Sprintf("%s|%d", tc.rule, n) {
				t.Errorf("hopsql.experiments: %v", got)
			}
		})
	}
}

func expPtr[T any](p *T) string {
	if p == nil {
		return "∅"
	}
	return fmt.Sprint(*p)
}

// TestExperimentResume: an experiment survives a SIGKILL and a graceful
// restart of its server: finished trials are kept, unfinished ones run
// again.
func TestExperimentResume(t *testing.T) {
	srv, c := expServer(t)
	putFile(t, srv, "/Projects/hopsql/Resources/slow.py", slowScript(15, 0.2))
	id, _ := expCreate(t, c, "CREATE EXPERIMENT slow TRAIN SCRIPT '/Projects/hopsql/Resources/slow.py' ON d TARGET label "+
		"GRID SEARCH (x IN (1, 2, 3, 4, 5, 6)) OPTIMIZE MAXIMIZE score WITH (parallelism = 2, early_stopping = 'none')")

	// A moment when `done` trials have succeeded and the running ones are
	// mid-way (so that none finishes between the snapshot and the stop).
	snapshot := func(done int) map[int64]trialRow {
		var snap []trialRow
		expEventually(t, 120*time.Second, fmt.Sprintf("%d trials done, others mid-way", done), func() (bool, string) {
			snap = expTrials(t, c, id)
			st := expCount(snap)
			if st["SUCCEEDED"] < done || st["RUNNING"] == 0 {
				return false, fmt.Sprint(snap)
			}
			for _, r := range snap {
				if r.Status == "RUNNING" && (r.Steps < 2 || r.Steps > 10) || r.Status == "PENDING" {
					return false, fmt.Sprint(snap)
				}
			}
			return true, ""
		})
		out := map[int64]trialRow{}
		for _, r := range snap {
			out[r.N] = r
		}
		return out
	}
	before1 := snapshot(2)
	srv.Kill()
	srv.Restart()
	c = srv.connect(t)
	if s := expStatus(t, c, id); s != "RUNNING" {
		t.Fatalf("after a SIGKILL and a restart: %s", s)
	}
	before2 := snapshot(4)
	srv.Stop()
	srv.Restart()
	c = srv.connect(t)
	w := mustWait(t, c, "slow", "SUCCEEDED", 6)
	if w.BestTrial == nil || *w.BestTrial != 6 || w.BestValue == nil || *w.BestValue != 6 {
		t.Errorf("best: trial %v value %v, want trial 6 with 6", w.BestTrial, w.BestValue)
	}
	trials := expTrials(t, c, id)
	if len(trials) != 6 {
		t.Fatalf("trials after two restarts: %v", trials)
	}
	for i, r := range trials {
		if r.N != int64(i+1) || r.Status != "SUCCEEDED" || r.Steps != 15 || r.param(t, "x") != float64(i+1) {
			t.Errorf("%v", r)
		}
		want := int64(1)
		for _, snap := range []map[int64]trialRow{before1, before2} {
			b, ok := snap[r.N]
			switch {
			case !ok:
			case b.Status == "SUCCEEDED":
				if b.Finished == nil || r.Finished == nil || *b.Finished != *r.Finished {
					t.Errorf("trial %d finished at %v before the restart, %v after", r.N, b.Finished, r.Finished)
				}
			case b.Status == "RUNNING":
				want++
			}
		}
		if r.Attempts != want {
			t.Errorf("trial %d: %d attempts, want %d (running at %d of the stops)", r.N, r.Attempts, want, want-1)
		}
	}
	// A re-run trial's history is its last run's: 15 distinct steps.
	for _, got := range textRows(t, c, fmt.Sprintf("SELECT trial, count(*), count(DISTINCT step) FROM hopsql.trial_metrics WHERE experiment_id = %d GROUP BY trial ORDER BY trial", id)) {
		if !strings.HasSuffix(got, "|15|15") {
			t.Errorf("trial_metrics (trial|rows|steps): %s", got)
		}
	}
	if got := expLs(t, c, fmt.Sprintf("/Projects/hopsql/Experiments/slow_%d", id)); len(got) != 6 {
		t.Errorf("trial directories: %v", got)
	}
	// Trainers orphaned by the SIGKILL end at their next report.
	expEventually(t, 30*time.Second, "no trainer left", func() (bool, string) {
		procs := expTrainers(srv.DataDir)
		return len(procs) == 0, fmt.Sprint(procs)
	})
}

// TestExperimentAblation: leave-one-feature-out on xgboost and
// leave-one-layer-out on the mlp.
func TestExperimentAblation(t *testing.T) {
	srv, c := expServer(t)
	id, _ := expCreate(t, c, "CREATE EXPERIMENT abl TRAIN xgboost (n_estimators = 10) ON d TARGET label ABLATE FEATURES (a, b) OPTIMIZE MAXIMIZE auc WITH (parallelism = 2)")
	mustWait(t, c, "abl", "SUCCEEDED", 3)
	var got []string
	for _, r := range expTrials(t, c, id) {
		a := "∅"
		if r.Ablated != nil {
			a = *r.Ablated
		}
		got = append(got, fmt.Sprintf("%d|%s|%s|%d|%s", r.N, a, r.Status, r.Steps, r.Params))
	}
	if want := "1|∅|SUCCEEDED|10|{};2|feature:a|SUCCEEDED|10|{};3|feature:b|SUCCEEDED|10|{}"; strings.Join(got, ";") != want {
		t.Fatalf("ablation trials: %s\nwant %s", strings.Join(got, ";"), want)
	}
	if got := textRows(t, c, fmt.Sprintf("SELECT search, early_stopping, trials_done FROM hopsql.experiments WHERE experiment_id = %d", id)); got[0] != "ablation|none|3" {
		t.Errorf("hopsql.experiments: %v", got)
	}
	// a decides the label: leaving it out costs AUC.
	var base, noA float64
	if err := c.QueryRow(context.Background(), "SELECT (SELECT value FROM hopsql.trials WHERE experiment_id = $1 AND trial = 1), (SELECT value FROM hopsql.trials WHERE experiment_id = $1 AND trial = 2)", id).Scan(&base, &noA); err != nil || !(noA < base) {
		t.Errorf("auc with all features %v, without a %v (%v)", base, noA, err)
	}

	id, _ = expCreate(t, c, "CREATE EXPERIMENT abl_mlp TRAIN mlp (epochs = 2, layers = 2) ON d TARGET label ABLATE LAYERS (hidden2) OPTIMIZE MAXIMIZE accuracy WITH (parallelism = 2)")
	mustWait(t, c, "abl_mlp", "SUCCEEDED", 2)
	trials := expTrials(t, c, id)
	if len(trials) != 2 || trials[0].Ablated != nil || trials[1].Ablated == nil || *trials[1].Ablated != "layer:hidden2" ||
		trials[0].Status != "SUCCEEDED" || trials[1].Status != "SUCCEEDED" || trials[0].Steps != 2 || trials[1].Steps != 2 {
		t.Fatalf("mlp ablation trials: %v", trials)
	}
	// The trainer logs its model: the ablated one has no hidden2.
	log1 := string(expGetFile(t, srv, trials[0].LogPath))
	log2 := string(expGetFile(t, srv, trials[1].LogPath))
	if !strings.Contains(log1, "(hidden2)") || strings.Contains(log2, "(hidden2)") || !strings.Contains(log2, "(hidden1)") {
		t.Errorf("mlp models:\n%s\n---\n%s", log1, log2)
	}
}

// TestExperimentDrop: DROP EXPERIMENT removes the records and files (and
// stops a running experiment); names resolve to the newest experiment.
func TestExperimentDrop(t *testing.T) {
	srv, _ := expServer(t)
	ctx := context.Background()
	c, notices := expConn(t, srv, false)
	quick := "CREATE EXPERIMENT %s TRAIN xgboost (n_estimators = 5) ON d TARGET label GRID SEARCH (max_depth IN (2)) OPTIMIZE MAXIMIZE auc"
	id1, _ := expCreate(t, c, fmt.Sprintf(quick, "q"))
	mustWait(t, c, "q", "SUCCEEDED", 1)
	id2, _ := expCreate(t, c, fmt.Sprintf(quick, "q"))
	if w := mustWait(t, c, "q", "SUCCEEDED", 1); w.ID != id2 {
		t.Fatalf("WAIT q: experiment %d, want the newest, %d", w.ID, id2)
	}
	exp := "/Projects/hopsql/Experiments"
	if got := expLs(t, c, exp); strings.Join(got, ",") != fmt.Sprintf("q_%d,q_%d", id1, id2) {
		t.Fatalf("%s: %v", exp, got)
	}
	local := func(id int64) string {
		return filepath.Join(srv.DataDir, "experiments", "hopsql", strconv.FormatInt(id, 10))
	}
	if _, err := os.Stat(local(id2)); err != nil {
		t.Fatalf("the experiment's local data: %v", err)
	}

	mustExec(t, c, "DROP EXPERIMENT q")
	if got := textRows(t, c, "SELECT experiment_id FROM hopsql.experiments"); strings.Join(got, ",") != fmt.Sprint(id1) {
		t.Fatalf("after DROP EXPERIMENT q (the newest): %v, want %d", got, id1)
	}
	if got := textRows(t, c, fmt.Sprintf("SELECT (SELECT count(*) FROM hopsql.trials WHERE experiment_id = %d), (SELECT count(*) FROM hopsql.trial_metrics WHERE experiment_id = %d)", id2, id2)); got[0] != "0|0" {
		t.Errorf("trials of a dropped experiment: %v", got)
	}
	if got := expLs(t, c, exp); strings.Join(got, ",") != fmt.Sprintf("q_%d", id1) {
		t.Fatalf("%s after DROP: %v", exp, got)
	}
	if _, err := os.Stat(local(id2)); !os.IsNotExist(err) {
		t.Errorf("the dropped experiment's local data: %v", err)
	}
	mustExec(t, c, fmt.Sprintf("DROP EXPERIMENT %d", id1))
	if got := textRows(t, c, "SELECT count(*) FROM hopsql.experiments"); got[0] != "0" {
		t.Fatalf("after dropping both: %v", got)
	}
	if got := expLs(t, c, exp); len(got) != 0 {
		t.Fatalf("%s after dropping both: %v", exp, got)
	}

	notices()
	mustExec(t, c, "DROP EXPERIMENT IF EXISTS q")
	if got := notices(); len(got) != 1 || !strings.Contains(got[0], `experiment "q" does not exist, skipping`) {
		t.Errorf("DROP EXPERIMENT IF EXISTS on a missing one: notices %q", got)
	}
	if _, err := c.Exec(ctx, "DROP EXPERIMENT q"); sqlstate(err) != "42704" {
		t.Errorf("DROP EXPERIMENT on a missing one: %v, want 42704", err)
	}

	// Dropping a running experiment stops it.
	putFile(t, srv, "/Projects/hopsql/Resources/long.py", slowScript(300, 0.2))
	id3, _ := expCreate(t, c, "CREATE EXPERIMENT run TRAIN SCRIPT '/Projects/hopsql/Resources/long.py' ON d TARGET label "+
		"GRID SEARCH (x IN (1, 2)) OPTIMIZE MAXIMIZE score WITH (parallelism = 2)")
	expEventually(t, 60*time.Second, "running trials", func() (bool, string) {
		trials := expTrials(t, c, id3)
		return reporting(trials) == 2, fmt.Sprint(trials)
	})
	// A WAIT on it ends when it is dropped.
	wc := srv.connect(t)
	waited := make(chan error, 1)
	go func() {
		_, err := expWaitCtx(context.Background(), wc, "run")
		waited <- err
	}()
	time.Sleep(300 * time.Millisecond) // let the WAIT begin (it fails the same way if it has not)
	mustExec(t, c, "DROP EXPERIMENT run")
	if err := <-waited; sqlstate(err) != "42704" {
		t.Errorf("WAIT on an experiment dropped meanwhile: %v, want 42704", err)
	}
	if got := textRows(t, c, "SELECT (SELECT count(*) FROM hopsql.experiments), (SELECT count(*) FROM hopsql.trials)"); got[0] != "0|0" {
		t.Fatalf("after dropping a running experiment: %v", got)
	}
	if procs := expTrainers(srv.DataDir); len(procs) != 0 {
		t.Fatalf("trainers left after DROP: %v", procs)
	}
	if got := expLs(t, c, exp); len(got) != 0 {
		t.Fatalf("%s after dropping a running experiment: %v", exp, got)
	}
	if _, err := os.Stat(local(id3)); !os.IsNotExist(err) {
		t.Errorf("the dropped running experiment's local data: %v", err)
	}
	// The name is free again.
	expCreate(t, c, fmt.Sprintf(quick, "run"))
	mustWait(t, c, "run", "SUCCEEDED", 1)
}
