package pgcatalog

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"flag"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/duckdb/duckdb-go/v2"
	pg_query "github.com/pganalyze/pg_query_go/v6"
)

var update = flag.Bool("update", false, "rewrite the .golden files from the current output")

// fakeEnv is a session with PostgreSQL's default settings.
type fakeEnv struct{ settings map[string]string }

func newEnv() *fakeEnv {
	return &fakeEnv{settings: map[string]string{
		"search_path":    `"$user", public`,
		"server_version": "15.18 (hopsql 0.1.0)",
		"datestyle":      "ISO, MDY",
		"timezone":       "UTC",
	}}
}

func (e *fakeEnv) Setting(name string) (string, bool) {
	v, ok := e.settings[strings.ToLower(name)]
	return v, ok
}

func (e *fakeEnv) BackendPID() int32 { return 4242 }

func (e *fakeEnv) SetSetting(name, value string, isLocal bool) error {
	e.settings[strings.ToLower(name)] = value
	return nil
}

func (e *fakeEnv) User() string     { return "postgres" }
func (e *fakeEnv) Database() string { return "postgres" }

var testInfo = Info{
	Databases:     []string{"postgres"},
	Roles:         []Role{{Name: "postgres", Superuser: true, CanLogin: true}},
	ServerVersion: "15.18 (hopsql 0.1.0)",
}

// openDB opens an in-process DuckDB with the catalog installed and the
// reference objects created (the same as on the reference PostgreSQL).
func openDB(t testing.TB) *sql.DB {
	t.Helper()
	connector, err := duckdb.NewConnector("", nil)
	if err != nil {
		t.Fatal(err)
	}
	db := sql.OpenDB(connector)
	db.SetMaxOpenConns(1)
	t.Cleanup(func() { db.Close() })
	ctx := context.Background()
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	err = conn.Raw(func(dc any) error { return Install(ctx, dc.(driver.ExecerContext), testInfo) })
	conn.Close() // the pool has one connection
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("Install took %v", time.Since(start))
	for _, q := range []string{
		"SET integer_division = true",
		"create table t(id int primary key, name varchar(20) not null default 'x', amount numeric(10,2), ts timestamptz)",
		"create view v as select * from t",
		"create index ti on t(name)",
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	return db
}

// rewriteSQL runs one statement through Parse, Rewrite and Deparse.
func rewriteSQL(t testing.TB, env Env, q string) (string, bool, error) {
	t.Helper()
	res, err := pg_query.Parse(q)
	if err != nil {
		t.Fatalf("parse %q: %v", q, err)
	}
	if len(res.Stmts) != 1 {
		t.Fatalf("want one statement in %q", q)
	}
	changed, err := Rewrite(res.Stmts[0], env)
	if err != nil {
		return "", changed, err
	}
	out, err := pg_query.Deparse(res)
	if err != nil {
		t.Fatalf("deparse: %v", err)
	}
	return out, changed, nil
}

// query rewrites and runs q, returning the rows formatted like psql -AtF'|'.
func query(t testing.TB, db *sql.DB, env Env, q string) ([]string, error) {
	t.Helper()
	out, _, err := rewriteSQL(t, env, q)
	if err != nil {
		return nil, err
	}
	rows, err := db.Query(out)
	if err != nil {
		return nil, fmt.Errorf("%w\nrewritten: %s", err, out)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var lines []string
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		parts := make([]string, len(vals))
		for i, v := range vals {
			parts[i] = format(v)
		}
		lines = append(lines, strings.Join(parts, "|"))
	}
	return lines, rows.Err()
}

// format prints a value the way psql's text output does.
func format(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case bool:
		if x {
			return "t"
		}
		return "f"
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = format(e)
		}
		return "{" + strings.Join(parts, ",") + "}"
	case float32:
		return strconv.FormatFloat(float64(x), 'g', -1, 32)
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	case *big.Int:
		return x.String()
	case duckdb.Decimal:
		return x.String()
	case map[string]any:
		return fmt.Sprint(x)
	case []byte:
		return string(x)
	default:
		return fmt.Sprint(x)
	}
}

// TestClientQueries runs every query psql 15 and PgJDBC 42.5 sent to the
// reference PostgreSQL (testdata/queries/*.sql, captured with
// log_statement=all) and compares the rows with the reviewed .golden file.
// The .pg files next to them hold PostgreSQL's own answers for comparison;
// TestMatchesPostgres checks the ones that must agree exactly.
func TestClientQueries(t *testing.T) {
	db := openDB(t)
	tOID := tableOID(t, db)
	files, _ := filepath.Glob("testdata/queries/*.sql")
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".sql")
		t.Run(name, func(t *testing.T) {
			src, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			// The captured text holds t's oid on the reference server.
			q := strings.ReplaceAll(string(src), "16384", tOID)
			lines, err := query(t, db, newEnv(), q)
			if err != nil {
				t.Fatal(err)
			}
			got := ""
			if len(lines) > 0 {
				got = normalize(strings.Join(lines, "\n")+"\n", tOID)
			}
			golden := strings.TrimSuffix(f, ".sql") + ".golden"
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if got != string(want) {
				t.Errorf("rows differ from %s:\ngot:\n%s\nwant:\n%s", golden, got, want)
			}
		})
	}
}

// exactMatches are queries whose answers equal PostgreSQL's byte for byte
// (after OIDs are normalized).
var exactMatches = []string{
	"psql_02_dt", "psql_03_d_lookup", "psql_04_d_class", "psql_06_d_indexes", "psql_07_d_policies", "psql_08_d_statistics",
	"psql_09_d_publications", "psql_10_d_inherits", "psql_11_d_partitions", "psql_13_df", "psql_15_du",
	"psql_14_dv", "psql_16_d_all", "psql_17_di", "jdbc_01_tables", "jdbc_03_pk", "jdbc_04_schemas",
	"jdbc_05_indexinfo",
}

func TestMatchesPostgres(t *testing.T) {
	for _, name := range exactMatches {
		got, err := os.ReadFile("testdata/queries/" + name + ".golden")
		if err != nil {
			t.Fatal(err)
		}
		want, err := os.ReadFile("testdata/queries/" + name + ".pg")
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != normalize(string(want), "16384") {
			t.Errorf("%s differs from PostgreSQL:\nhopsql:\n%s\npostgres:\n%s", name, got, want)
		}
	}
}

// normalize replaces t's oid, which differs between servers, by a marker.
func normalize(s, tOID string) string {
	return strings.ReplaceAll(s, tOID, "<t.oid>")
}

func tableOID(t testing.TB, db *sql.DB) string {
	lines, err := query(t, db, newEnv(), "SELECT c.oid FROM pg_catalog.pg_class c WHERE c.relname = 't'")
	if err != nil || len(lines) != 1 {
		t.Fatalf("oid of t: %v %v", lines, err)
	}
	return lines[0]
}
