package tests

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestTrainingDatasets: a training dataset is one immutable Parquet file
// per split under /Projects/<p>/TrainingDatasets/<name>_<version>/<split>/,
// read back with a split column; made again from the same feature group
// snapshots it has the same rows in byte-identical files; `as_of` reads the
// feature groups as they were; time-range splits; errors; a restart; DROP.
func TestTrainingDatasets(t *testing.T) {
	dir := t.TempDir()
	srv := startServerIn(t, dir, nil)
	ctx := context.Background()
	c := srv.connect(t)
	mustExec(t, c, "CREATE FEATURE GROUP tx (cc_num bigint, amount double precision, ts timestamp) PRIMARY KEY (cc_num) EVENT TIME (ts)")
	mustExec(t, c, "CREATE TABLE labels (cc_num bigint, label_ts timestamp, is_fraud boolean)")
	mustExec(t, c, "INSERT INTO tx SELECT i % 100, i, TIMESTAMP '2024-01-01' + i * INTERVAL '1 hour' FROM generate_series(0, 999) r(i)")
	mustExec(t, c, "INSERT INTO labels SELECT i % 120, TIMESTAMP '2024-01-01' + (i * 7 % 1000) * INTERVAL '1 hour', i % 3 = 0 FROM generate_series(0, 1999) r(i)")
	mustExec(t, c, `CREATE FEATURE VIEW fv EVENT TIME (label_ts) AS
		SELECT l.cc_num, l.label_ts, l.is_fraud, t.amount FROM labels l LEFT JOIN tx t USING (cc_num)`)
	mustExec(t, c, "CREATE TRAINING DATASET td FROM fv WITH (split = 'train:0.8,test:0.2', seed = 7)")

	all := strings.Join(textRows(t, c, "SELECT cc_num, label_ts, is_fraud, amount FROM fv ORDER BY ALL"), ";")
	if got := strings.Join(textRows(t, c, "SELECT cc_num, label_ts, is_fraud, amount FROM td ORDER BY ALL"), ";"); got != all {
		t.Fatal("the training dataset's rows are not the feature view's")
	}
	counts := textRows(t, c, "SELECT split, count(*) FROM td GROUP BY split ORDER BY split")
	var test, train int
	if len(counts) != 2 {
		t.Fatalf("splits: %v", counts)
	}
	fmt.Sscanf(strings.Replace(counts[0], "|", " ", 1), "test %d", &test)
	fmt.Sscanf(strings.Replace(counts[1], "|", " ", 1), "train %d", &train)
	if test+train != 2000 || train < 1500 || train > 1700 {
		t.Fatalf("an 80/20 split of 2000 rows: train %d, test %d", train, test)
	}
	if got := textRows(t, c, "SELECT name, stored FROM fs_ls('/Projects/hopsql/TrainingDatasets/td_1/train')"); strings.Join(got, ";") != "part-0.parquet|block" {
		t.Fatalf("td_1/train: %v", got)
	}

	// The same snapshots again: version 2, byte-identical files.
	mustExec(t, c, "CREATE TRAINING DATASET td FROM fv WITH (split = 'train:0.8,test:0.2', seed = 7)")
	open := func(p string) []byte {
		t.Helper()
		resp, err := http.Get(srv.HTTP + "/webhdfs/v1" + p + "?op=OPEN&user.name=hopsql")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("OPEN %s: %d %v", p, resp.StatusCode, err)
		}
		return b
	}
	for _, split := range []string{"train", "test"} {
		a := open("/Projects/hopsql/TrainingDatasets/td_1/" + split + "/part-0.parquet")
		b := open("/Projects/hopsql/TrainingDatasets/td_2/" + split + "/part-0.parquet")
		if len(a) == 0 || !bytes.Equal(a, b) {
			t.Fatalf("%s: version 1 (%d bytes) and version 2 (%d bytes) differ", split, len(a), len(b))
		}
	}

	// Features change; a dataset as of version 1's time reproduces it.
	var asOf string
	if err := c.QueryRow(ctx, "SELECT CAST(as_of AS VARCHAR) FROM hopsql.training_datasets WHERE name = 'td' AND version = 1").Scan(&asOf); err != nil {
		t.Fatal(err)
	}
	mustExec(t, c, "UPDATE tx SET amount = -1")
	mustExec(t, c, "CREATE TRAINING DATASET td FROM fv WITH (split = 'train:0.8,test:0.2', seed = 7)")
	if got := textRows(t, c, "SELECT count(*) FROM td WHERE amount = -1"); got[0] == "0" {
		t.Fatal("version 3 does not see the changed features")
	}
	mustExec(t, c, fmt.Sprintf("CREATE TRAINING DATASET td FROM fv WITH (split = 'train:0.8,test:0.2', seed = 7, as_of = '%s')", asOf))
	if got := strings.Join(textRows(t, c, "SELECT cc_num, label_ts, is_fraud, amount FROM td ORDER BY ALL"), ";"); got != all {
		t.Fatal("a dataset as of version 1's time does not have version 1's rows")
	}
	if !bytes.Equal(open("/Projects/hopsql/TrainingDatasets/td_1/train/part-0.parquet"), open("/Projects/hopsql/TrainingDatasets/td_4/train/part-0.parquet")) {
		t.Fatal("version 4 (as of version 1's time) is not byte-identical to version 1")
	}
	want := "1|{tx@1}|{train:" + fmt.Sprint(train) + ",test:" + fmt.Sprint(test) + "};4|{tx@1}|{train:" + fmt.Sprint(train) + ",test:" + fmt.Sprint(test) + "}"
	if got := strings.Join(textRows(t, c, "SELECT version, feature_groups, splits FROM hopsql.training_datasets WHERE version IN (1, 4) ORDER BY version"), ";"); got != want {
		t.Fatalf("lineage: %s, want %s", got, want)
	}

	// Time ranges on the label's event time; rows outside every range go.
	mustExec(t, c, "CREATE TRAINING DATASET by_time FROM fv WITH (split = 'train:[2024-01-01,2024-01-20),test:[2024-01-20,2024-02-01)')")
	if got := strings.Join(textRows(t, c, "SELECT split, min(label_ts), max(label_ts) FROM by_time GROUP BY split ORDER BY split"), ";"); got != "test|2024-01-20 00:00:00|2024-01-31 23:00:00;train|2024-01-01 00:00:00|2024-01-19 23:00:00" {
		t.Fatalf("time-range split: %s", got)
	}
	for _, tc := range []struct{ sql, code string }{
		{"CREATE TRAINING DATASET x FROM nope", "42704"},
		{"CREATE TRAINING DATASET x FROM fv WITH (split = 'train:0.5,test:0.2')", "22023"},
		{"CREATE TRAINING DATASET x FROM fv WITH (split = 'train')", "22023"},
		{"CREATE TRAINING DATASET x FROM fv WITH (colour = 'red')", "22023"},
		{"CREATE TRAINING DATASET labels FROM fv", "42P07"},
		{"CREATE TRAINING DATASET x FROM fv WITH (as_of = '2000-01-01')", "22023"},
		{"CREATE TRAINING DATASET x fv", "42601"},
		{"DROP TRAINING DATASET nope", "42704"},
		{"INSERT INTO td VALUES (1, now(), true, 1, 'train')", ""},
	} {
		_, err := c.Exec(ctx, tc.sql)
		if tc.code == "" {
			if err == nil {
				t.Errorf("%s: accepted; a training dataset is read only", tc.sql)
			}
			continue
		}
		if sqlstate(err) != tc.code {
			t.Errorf("%s: %v, want %s", tc.sql, err, tc.code)
		}
	}
	mustExec(t, c, "BEGIN")
	if _, err := c.Exec(ctx, "CREATE TRAINING DATASET x FROM fv"); sqlstate(err) != "25001" {
		t.Fatalf("inside a transaction block: %v", err)
	}
	mustExec(t, c, "ROLLBACK")

	srv.Stop()
	srv = startServerIn(t, dir, nil)
	c = srv.connect(t)
	if got := strings.Join(textRows(t, c, "SELECT cc_num, label_ts, is_fraud, amount FROM td ORDER BY ALL"), ";"); got != all {
		t.Fatal("after a restart, td does not read its latest version")
	}
	mustExec(t, c, "DROP TRAINING DATASET td")
	if got := textRows(t, c, "SELECT count(*) FROM fs_ls('/Projects/hopsql/TrainingDatasets')"); got[0] != "1" {
		t.Fatalf("files after DROP: %v entries left, want by_time_1 only", got)
	}
	if _, err := c.Exec(ctx, "SELECT * FROM td"); sqlstate(err) != "42P01" {
		t.Fatalf("td after DROP: %v", err)
	}
}
