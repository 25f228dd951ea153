package tests

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// psqlRun runs psql with -X (no psqlrc) against host:port and returns its output.
func psqlRun(t *testing.T, host, port, user, db string, args ...string) (string, error) {
	t.Helper()
	if _, err := exec.LookPath("psql"); err != nil {
		t.Fatal("psql is not installed; run make test-deps")
	}
	full := append([]string{"-X", "-v", "ON_ERROR_STOP=1", "-h", host, "-p", port, "-U", user, "-d", db}, args...)
	cmd := exec.Command("psql", full...)
	cmd.Env = append(os.Environ(), "PGCONNECT_TIMEOUT=20", "PAGER=", "PGTZ=UTC")
	out, err := cmd.CombinedOutput()
	return string(out), err
}

const psqlSchema = `CREATE TABLE psql_t (id int PRIMARY KEY, name text NOT NULL DEFAULT 'x', amount numeric(10,2), ts timestamptz);
CREATE VIEW psql_v AS SELECT id, name FROM psql_t;
CREATE INDEX psql_ti ON psql_t (name);`

// TestPsqlBackslashCommands runs psql's catalog commands on hopsql and on
// PostgreSQL 15 over the same objects and compares what psql prints.
func TestPsqlBackslashCommands(t *testing.T) {
	srv := startServer(t)
	refURL := referenceURL(t)
	ref := connectURL(t, refURL)
	ctx := context.Background()
	ref.Exec(ctx, "DROP VIEW IF EXISTS psql_v; DROP TABLE IF EXISTS psql_t")
	t.Cleanup(func() { ref.Exec(context.Background(), "DROP VIEW IF EXISTS psql_v; DROP TABLE IF EXISTS psql_t") })
	refPort := strings.TrimPrefix(refURL[strings.LastIndex(refURL, ":")+1:], "")
	refPort = refPort[:strings.Index(refPort, "/")]
	if out, err := psqlRun(t, srv.Host, srv.Port, "hopsql", "hopsql", "-c", psqlSchema); err != nil {
		t.Fatalf("schema on hopsql: %v\n%s", err, out)
	}
	if out, err := psqlRun(t, "127.0.0.1", refPort, "postgres", "postgres", "-c", psqlSchema); err != nil {
		t.Fatalf("schema on PostgreSQL: %v\n%s", err, out)
	}
	// Object-level commands must print exactly what PostgreSQL prints,
	// owner names aside (unaligned, so the owner's width cannot matter).
	same := []string{`\dt psql_*`, `\d psql_t`, `\dv psql_*`, `\di psql_*`, `\d psql_*`, `\d psql_v`}
	for _, c := range same {
		got, err := psqlRun(t, srv.Host, srv.Port, "hopsql", "hopsql", "-A", "-c", c)
		if err != nil {
			t.Errorf("%s on hopsql: %v\n%s", c, err, got)
			continue
		}
		want, err := psqlRun(t, "127.0.0.1", refPort, "postgres", "postgres", "-A", "-c", c)
		if err != nil {
			t.Fatalf("%s on PostgreSQL: %v\n%s", c, err, want)
		}
		want = strings.ReplaceAll(want, "postgres", "hopsql")
		if got != want {
			t.Errorf("%s\n--- hopsql\n%s\n--- PostgreSQL 15\n%s", c, got, want)
		}
	}
	// Server-level commands differ in content (databases, roles); they must
	// work and show hopsql's objects.
	contains := map[string][]string{
		`\l`:        {"List of databases", "hopsql", "UTF8"},
		`\dn`:       {"List of schemas", "public"},
		`\du`:       {"List of roles", "hopsql", "Superuser"},
		`\df`:       {"List of functions"},
		`\dt`:       {"psql_t", "table"},
		`\conninfo`: {`database "hopsql" as user "hopsql"`, srv.Port},
	}
	for c, wants := range contains {
		got, err := psqlRun(t, srv.Host, srv.Port, "hopsql", "hopsql", "-c", c)
		if err != nil {
			t.Errorf("%s: %v\n%s", c, err, got)
			continue
		}
		for _, w := range wants {
			if !strings.Contains(got, w) {
				t.Errorf("%s output lacks %q:\n%s", c, w, got)
			}
		}
	}
}

// TestPsqlCopy runs \copy in both directions and compares the exported
// files byte for byte with PostgreSQL's.
func TestPsqlCopy(t *testing.T) {
	srv := startServer(t)
	refURL := referenceURL(t)
	refPort := refURL[strings.LastIndex(refURL, ":")+1:]
	refPort = refPort[:strings.Index(refPort, "/")]
	dir := t.TempDir()
	os.Chmod(dir, 0o777)
	in := filepath.Join(dir, "in.csv")
	data := "id,name,score,ts\n1,plain,1.5,2024-01-01 10:00:00\n2,\"with, comma\",-2,2024-02-29 23:59:59.5\n3,\"quote \"\"q\"\"\",,\n4,,0.1,2024-03-01 00:00:00\n"
	if err := os.WriteFile(in, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	textIn := filepath.Join(dir, "in.txt")
	if err := os.WriteFile(textIn, []byte("10\ttab\\there\t3.25\t\\N\n11\tnew\\nline\t\\N\t2024-05-05 05:05:05\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	script := `DROP TABLE IF EXISTS cp;
CREATE TABLE cp (id int, name text, score double precision, ts timestamp);
\copy cp FROM '` + in + `' WITH (FORMAT csv, HEADER true)
\copy cp FROM '` + textIn + `'
\copy (SELECT * FROM cp ORDER BY id) TO '%s/out.csv' WITH (FORMAT csv, HEADER true)
\copy (SELECT * FROM cp ORDER BY id) TO '%s/out.txt'
\copy (SELECT * FROM cp ORDER BY id) TO '%s/out.pipe' WITH (FORMAT csv, DELIMITER '|', NULL 'NULL', FORCE_QUOTE *)
DROP TABLE cp;`
	run := func(host, port, user, db, tag string) map[string]string {
		outDir := filepath.Join(dir, tag)
		os.MkdirAll(outDir, 0o777)
		os.Chmod(outDir, 0o777)
		s := strings.ReplaceAll(script, "%s", outDir)
		out, err := psqlRun(t, host, port, user, db, "-c", "SET TimeZone = 'UTC'", "-f", writeTemp(t, dir, tag+".sql", s))
		if err != nil {
			t.Fatalf("%s: %v\n%s", tag, err, out)
		}
		if !strings.Contains(out, "COPY 4") || !strings.Contains(out, "COPY 2") {
			t.Errorf("%s: expected COPY 4 and COPY 2 tags:\n%s", tag, out)
		}
		files := map[string]string{}
		for _, f := range []string{"out.csv", "out.txt", "out.pipe"} {
			b, err := os.ReadFile(filepath.Join(outDir, f))
			if err != nil {
				t.Fatal(err)
			}
			files[f] = string(b)
		}
		return files
	}
	got := run(srv.Host, srv.Port, "hopsql", "hopsql", "hopsql")
	want := run("127.0.0.1", refPort, "postgres", "postgres", "pg")
	for f := range want {
		if got[f] != want[f] {
			t.Errorf("%s differs\n--- hopsql\n%s\n--- PostgreSQL 15\n%s", f, got[f], want[f])
		}
	}
}

func writeTemp(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	os.Chmod(p, 0o644)
	return p
}
