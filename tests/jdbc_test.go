package tests

import (
	"context"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

const jdbcJar = "/usr/share/java/postgresql.jar"

// testdataDir is tests/testdata, wherever the test binary runs from.
func testdataDir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "testdata")
}

// referenceHostPort is the host and port of the reference PostgreSQL 15.
func referenceHostPort(t *testing.T) (string, string) {
	t.Helper()
	u, err := url.Parse(referenceURL(t))
	if err != nil {
		t.Fatal(err)
	}
	return u.Hostname(), u.Port()
}

// runClient runs a client program with a deadline and returns its output.
func runClient(t *testing.T, timeout time.Duration, name string, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.WaitDelay = 5 * time.Second
	out, err := cmd.CombinedOutput()
	if ctx.Err() != nil {
		err = ctx.Err()
	}
	return string(out), err
}

// metaLines picks the catalog metadata lines ("META|...") JdbcTest prints.
func metaLines(out string) []string {
	var m []string
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, "META|") {
			m = append(m, l)
		}
	}
	return m
}

// TestJDBC runs tests/testdata/jdbc/JdbcTest.java with PgJDBC 42.5 against
// PostgreSQL 15 (which must pass every check: it proves the expectations) and
// against hopsql, and compares the catalog metadata both report.
func TestJDBC(t *testing.T) {
	for _, bin := range []string{"javac", "java"} {
		if _, err := exec.LookPath(bin); err != nil {
			t.Fatalf("%s is not installed; run make test-deps", bin)
		}
	}
	if _, err := os.Stat(jdbcJar); err != nil {
		t.Fatalf("PgJDBC is not installed (%v); run make test-deps", err)
	}
	classes := t.TempDir()
	if out, err := runClient(t, 3*time.Minute, "javac", "-cp", jdbcJar, "-d", classes,
		filepath.Join(testdataDir(), "jdbc", "JdbcTest.java")); err != nil {
		t.Fatalf("javac: %v\n%s", err, out)
	}
	run := func(jdbcURL string) (string, error) {
		// UTC makes setTimestamp/getTimestamp deterministic; socketTimeout
		// turns a hung server into a failed check instead of a stuck test.
		return runClient(t, 5*time.Minute, "java", "-Duser.timezone=UTC", "-cp", classes+string(os.PathListSeparator)+jdbcJar,
			"JdbcTest", jdbcURL+"&socketTimeout=60&connectTimeout=20")
	}

	refHost, refPort := referenceHostPort(t)
	refOut, err := run("jdbc:postgresql://" + refHost + ":" + refPort + "/postgres?user=postgres&sslmode=disable")
	if err != nil {
		t.Fatalf("JdbcTest fails on PostgreSQL 15, so its expectations are wrong: %v\n%s", err, refOut)
	}

	srv := startServer(t)
	out, _ := run("jdbc:postgresql://" + srv.Host + ":" + srv.Port + "/hopsql?user=hopsql&sslmode=disable")
	assertChecks(t, "JdbcTest", out, nil)

	// DatabaseMetaData must read the same from hopsql's catalog as from
	// PostgreSQL's, declared types (varchar(40)) included.
	want, got := metaLines(refOut), metaLines(out)
	for i := 0; i < len(want) || i < len(got); i++ {
		var w, g string
		if i < len(want) {
			w = want[i]
		}
		if i < len(got) {
			g = got[i]
		}
		if w == g {
			continue
		}
		t.Errorf("metadata differs:\n  PostgreSQL: %s\n  hopsql:     %s", w, g)
	}
}
