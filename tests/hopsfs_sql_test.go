package tests

import (
	"context"
	"strings"
	"testing"
)

// TestFilesystemFromSQL: projects get their directory tree, fs_ls lists it,
// COPY writes into and reads from hopsfs:// paths, read_parquet/read_csv
// resolve hopsfs names and globs, bad paths fail with SQLSTATEs, and
// everything is still there after SIGKILL.
func TestFilesystemFromSQL(t *testing.T) {
	srv := startServer(t)
	ctx := context.Background()
	c := srv.connect(t)
	mustExec(t, c, "CREATE DATABASE fraud")

	list := func(p string) string {
		t.Helper()
		rows, err := c.Query(ctx, "SELECT name, type, project FROM fs_ls($1) ORDER BY name", p)
		if err != nil {
			t.Fatalf("fs_ls(%s): %v\n%s", p, err, srv.Log())
		}
		defer rows.Close()
		var out []string
		for rows.Next() {
			var name, typ, project string
			if err := rows.Scan(&name, &typ, &project); err != nil {
				t.Fatal(err)
			}
			out = append(out, name+":"+typ+":"+project)
		}
		if err := rows.Err(); err != nil {
			t.Fatalf("fs_ls(%s): %v\n%s", p, err, srv.Log())
		}
		return strings.Join(out, " ")
	}
	if got := list("/Projects"); got != "fraud:DIRECTORY:fraud hopsql:DIRECTORY:hopsql" {
		t.Fatalf("fs_ls(/Projects) = %s", got)
	}
	want := "Experiments:DIRECTORY:fraud Logs:DIRECTORY:fraud Models:DIRECTORY:fraud Resources:DIRECTORY:fraud TrainingDatasets:DIRECTORY:fraud Warehouse:DIRECTORY:fraud"
	if got := list("/Projects/fraud"); got != want {
		t.Fatalf("fs_ls(/Projects/fraud) = %s", got)
	}

	// COPY TO a hopsfs path: a large Parquet file (a block) and a small CSV (inline).
	mustExec(t, c, "COPY (SELECT i AS id, i * 2 AS twice FROM range(200000) t(i)) TO 'hopsfs:///Projects/fraud/Resources/part1.parquet'")
	mustExec(t, c, "COPY (SELECT i AS id, i * 2 AS twice FROM range(200000, 200010) t(i)) TO 'hopsfs:///Projects/fraud/Resources/part2.parquet'")
	mustExec(t, c, "COPY (SELECT 'a' AS k, 1 AS v UNION ALL SELECT 'b', 2) TO 'hopsfs:///Projects/fraud/Resources/small.csv' (HEADER)")
	var n, sum int64
	if err := c.QueryRow(ctx, "SELECT count(*), sum(twice) FROM read_parquet('hopsfs:///Projects/fraud/Resources/*.parquet')").Scan(&n, &sum); err != nil {
		t.Fatal(err)
	}
	if n != 200010 || sum != 200009*200010 {
		t.Fatalf("read_parquet over a glob: %d rows, sum %d", n, sum)
	}
	var k string
	var v int
	if err := c.QueryRow(ctx, "SELECT k, v FROM read_csv('hopsfs:///Projects/fraud/Resources/small.csv') WHERE v = 2").Scan(&k, &v); err != nil || k != "b" {
		t.Fatalf("read_csv of an inline file: %q %d %v", k, v, err)
	}
	var size int64
	if err := c.QueryRow(ctx, "SELECT size FROM fs_ls('/Projects/fraud/Resources/small.csv')").Scan(&size); err != nil || size != int64(len("k,v\na,1\nb,2\n")) {
		t.Fatalf("fs_ls of a file: size %d, %v", size, err)
	}
	// COPY FROM a hopsfs path into a table.
	mustExec(t, c, "CREATE TABLE loaded (id bigint, twice bigint)")
	mustExec(t, c, "COPY loaded FROM 'hopsfs:///Projects/fraud/Resources/part2.parquet'")
	if err := c.QueryRow(ctx, "SELECT count(*) FROM loaded").Scan(&n); err != nil || n != 10 {
		t.Fatalf("COPY FROM hopsfs: %d rows, %v", n, err)
	}

	for _, tc := range []struct{ sql, state string }{
		{"SELECT * FROM fs_ls('/Projects/nope')", "58P01"},
		{"SELECT * FROM read_parquet('hopsfs:///Projects/fraud/Resources/missing.parquet')", "58P01"},
		{"SELECT * FROM read_parquet('hopsfs:///Projects/fraud/Resources/*.none')", "58P01"},
		{"SELECT * FROM read_parquet('hopsfs:///Projects/fraud/../hopsql/x.parquet')", "22023"},
		{"SELECT * FROM read_csv('hopsfs:///Projects//fraud/x.csv')", "22023"},
		{"COPY (SELECT 1) TO 'hopsfs:///Projects/fraud/Resources/a/../b.csv'", "22023"},
		{"COPY (SELECT 1) TO 'hopsfs:///Projects/newproject/x.csv'", "42501"},
	} {
		_, err := c.Exec(ctx, tc.sql)
		if got := sqlstate(err); got != tc.state {
			t.Errorf("%s: SQLSTATE %s (%v), want %s", tc.sql, got, err, tc.state)
		}
	}

	// The catalog and the blocks survive SIGKILL.
	srv.Kill()
	srv.Restart()
	c = srv.connect(t)
	if err := c.QueryRow(ctx, "SELECT count(*) FROM read_parquet('hopsfs:///Projects/fraud/Resources/part*.parquet')").Scan(&n); err != nil || n != 200010 {
		t.Fatalf("after kill -9: %d rows, %v", n, err)
	}
	// DROP DATABASE removes the project's tree.
	mustExec(t, c, "DROP DATABASE fraud")
	if got := list("/Projects"); got != "hopsql:DIRECTORY:hopsql" {
		t.Fatalf("after DROP DATABASE: %s", got)
	}
}
