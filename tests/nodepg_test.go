package tests

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// TestNodePostgres runs tests/testdata/nodepg/check.js — node-postgres
// 8.23 with pg-cursor and pg-copy-streams, as a Node.js application uses
// them: untyped text parameters, named prepared statements, rowMode
// 'array', multi-statement queries, a pool, a cursor reading a portal a
// few rows at a time, COPY both ways — against PostgreSQL 15 (which must
// pass every check: it proves the expectations) and against hopsql.
func TestNodePostgres(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatal("node is not installed; run make test-deps")
	}
	dir := filepath.Join(testdataDir(), "nodepg")
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "pg")); err != nil {
		t.Fatalf("node-postgres is not installed in %s; run make test-deps", dir)
	}
	script := filepath.Join(dir, "check.js")
	refHost, refPort := referenceHostPort(t)
	if out, err := runClient(t, 5*time.Minute, node, script, refHost, refPort, "postgres", "postgres"); err != nil {
		t.Fatalf("check.js fails on PostgreSQL 15, so its expectations are wrong: %v\n%s", err, out)
	}
	srv := startServer(t)
	out, _ := runClient(t, 5*time.Minute, node, script, srv.Host, srv.Port, "hopsql", "hopsql")
	assertChecks(t, "check.js", out, map[string]string{
		"numeric_scale": "unconstrained numeric keeps no per-value scale: 1.25 * 2 is 2.5, not 2.50 (docs/sql-compat.md)",
	})
}
