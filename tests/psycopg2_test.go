package tests

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Debian's psycopg2 is installed for /usr/bin/python3; the python3 on PATH
// may be another interpreter without it.
const debianPython = "/usr/bin/python3"

// TestPsycopg2 runs tests/testdata/psycopg2/check.py against PostgreSQL 15
// (which must pass every check: it proves the expectations) and against
// hopsql, and compares what COPY ... TO STDOUT exported byte for byte.
func TestPsycopg2(t *testing.T) {
	if out, err := runClient(t, time.Minute, debianPython, "-c", "import psycopg2"); err != nil {
		t.Fatalf("%s cannot import psycopg2 (%v: %s); run make test-deps", debianPython, err, out)
	}
	script := filepath.Join(testdataDir(), "psycopg2", "check.py")
	run := func(host, port, user, db string) (string, string, error) {
		dir := t.TempDir()
		out, err := runClient(t, 5*time.Minute, debianPython, script, host, port, user, db, dir)
		return out, filepath.Join(dir, "copy_out.txt"), err
	}

	refHost, refPort := referenceHostPort(t)
	refOut, refCopy, err := run(refHost, refPort, "postgres", "postgres")
	if err != nil {
		t.Fatalf("check.py fails on PostgreSQL 15, so its expectations are wrong: %v\n%s", err, refOut)
	}

	srv := startServer(t)
	out, gotCopy, _ := run(srv.Host, srv.Port, "hopsql", "hopsql")
	assertChecks(t, "check.py", out, nil)

	want, err := os.ReadFile(refCopy)
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(gotCopy)
	if err != nil {
		t.Fatalf("check.py on hopsql wrote no COPY output (it stopped early): %v", err)
	}
	if string(got) != string(want) {
		t.Errorf("COPY TO STDOUT output differs from PostgreSQL 15 at line %s\nhopsql's whole output:\n%s", firstDiff(string(want), string(got)), got)
	}
}

// firstDiff describes the first line where two texts differ.
func firstDiff(want, got string) string {
	w, g := strings.SplitAfter(want, "\n"), strings.SplitAfter(got, "\n")
	for i := 0; i < len(w) || i < len(g); i++ {
		var a, b string
		if i < len(w) {
			a = w[i]
		}
		if i < len(g) {
			b = g[i]
		}
		if a != b {
			return fmt.Sprintf("%d:\n  PostgreSQL: %q\n  hopsql:     %q", i+1, a, b)
		}
	}
	return "(none)"
}
