package tests

import (
	"context"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
)

// TestSQLPrepareExecute: PREPARE, EXECUTE and DEALLOCATE in SQL behave as
// in PostgreSQL 15 — declared parameter types, PostgreSQL's column names
// and command tags, writes through the storage layer, the errors and
// their SQLSTATEs — and share their names with the protocol's Parse.
func TestSQLPrepareExecute(t *testing.T) {
	srv := startServer(t)
	ctx := context.Background()
	c := srv.connect(t)
	simple := func(sql string) (pgconnTag string, err error) {
		tag, err := c.Exec(ctx, sql, pgx.QueryExecModeSimpleProtocol)
		return tag.String(), err
	}
	mustExec(t, c, "CREATE TABLE sp (id int PRIMARY KEY, v text)")
	for _, step := range []struct{ sql, tag string }{
		{"PREPARE ins(int, text) AS INSERT INTO sp VALUES ($1, $2)", "PREPARE"},
		{"EXECUTE ins(1, 'one')", "INSERT 0 1"},
		{"EXECUTE ins(2, 'two')", "INSERT 0 1"},
		{"PREPARE upd(text, int) AS UPDATE sp SET v = $1 WHERE id = $2", "PREPARE"},
		{"EXECUTE upd('uno', 1)", "UPDATE 1"},
		{"PREPARE del AS DELETE FROM sp WHERE id > 100", "PREPARE"},
		{"EXECUTE del", "DELETE 0"},
	} {
		tag, err := simple(step.sql)
		if err != nil || tag != step.tag {
			t.Fatalf("%s: tag %q (%v), want %q", step.sql, tag, err, step.tag)
		}
	}
	if got := strings.Join(textRows(t, c, "SELECT id, v FROM sp ORDER BY id"), ";"); got != "1|uno;2|two" {
		t.Fatalf("sp holds %q", got)
	}
	// The rows are the table's: in its history, and kept across a restart.
	if got := strings.Join(textRows(t, c, "SELECT operation FROM hopsql.table_history WHERE table_name = 'sp' AND operation <> 'CREATE' ORDER BY version"), ","); got != "INSERT,INSERT,UPDATE" {
		t.Fatalf("table history of sp: %s, want a version per write", got)
	}

	// Results carry PostgreSQL's column names and the declared types.
	if _, err := simple("PREPARE sel(int) AS SELECT $1 + 1, count(*), max(v) FROM sp WHERE id <= $1"); err != nil {
		t.Fatal(err)
	}
	if names := columnNames(t, c, "EXECUTE sel(5)", pgx.QueryExecModeSimpleProtocol); names != "?column?,count,max" {
		t.Fatalf("EXECUTE's columns are %s, want PostgreSQL's names", names)
	}
	if got := strings.Join(textRows(t, c, "EXECUTE sel(1)"), ";"); got != "2|1|uno" {
		t.Fatalf("EXECUTE sel(1): %q", got)
	}

	for _, tc := range []struct{ sql, state string }{
		{"EXECUTE ins(1, 'dup')", "23505"},
		{"EXECUTE ins(3)", "42601"},
		{"EXECUTE nope", "26000"},
		{"PREPARE ins AS SELECT 1", "42P05"},
		{"EXECUTE ins('x', 'y')", "22P02"},
	} {
		if _, err := simple(tc.sql); sqlstate(err) != tc.state {
			t.Errorf("%s: %v, want %s", tc.sql, err, tc.state)
		}
	}

	// One namespace with the protocol's named statements.
	if _, err := c.Prepare(ctx, "ins", "SELECT 1"); sqlstate(err) != "42P05" {
		t.Errorf("Parse of a name PREPARE took: %v, want 42P05", err)
	}
	if _, err := c.Prepare(ctx, "fromparse", "SELECT $1::int * 2"); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(textRows(t, c, "EXECUTE fromparse(21)"), ";"); got != "42" {
		t.Errorf("EXECUTE of a statement Parse named: %q", got)
	}
	if tag, err := simple("DEALLOCATE ins"); err != nil || tag != "DEALLOCATE" {
		t.Fatalf("DEALLOCATE: %q %v", tag, err)
	}
	if _, err := simple("EXECUTE ins(9, 'gone')"); sqlstate(err) != "26000" {
		t.Errorf("EXECUTE after DEALLOCATE: %v, want 26000", err)
	}
	srv.Stop()
	srv.Restart()
	c = srv.connect(t)
	if got := strings.Join(textRows(t, c, "SELECT id, v FROM sp ORDER BY id"), ";"); got != "1|uno;2|two" {
		t.Fatalf("after a restart sp holds %q", got)
	}
}

// columnNames runs a query and returns its result's column names, joined
// by commas.
func columnNames(t *testing.T, c *pgx.Conn, sql string, args ...any) string {
	t.Helper()
	rows, err := c.Query(context.Background(), sql, args...)
	if err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	defer rows.Close()
	var names []string
	for _, f := range rows.FieldDescriptions() {
		names = append(names, f.Name)
	}
	return strings.Join(names, ",")
}

// TestDatabaseQualifiedNames: database.schema.table names the current
// database's table, through the storage layer like any other name; another
// database is PostgreSQL's 0A000.
func TestDatabaseQualifiedNames(t *testing.T) {
	srv := startServer(t)
	ctx := context.Background()
	c := srv.connect(t)
	mustExec(t, c, "CREATE TABLE hopsql.public.dq (id int PRIMARY KEY, v text)")
	mustExec(t, c, "INSERT INTO hopsql.public.dq VALUES (1, 'a')")
	mustExec(t, c, "INSERT INTO hopsql.main.dq VALUES (2, 'b')")
	mustExec(t, c, "UPDATE hopsql.public.dq SET v = 'B' WHERE id = 2")
	if _, err := c.Exec(ctx, "INSERT INTO hopsql.public.dq VALUES (1, 'dup')"); sqlstate(err) != "23505" {
		t.Fatalf("duplicate through a qualified name: %v, want 23505", err)
	}
	if got := strings.Join(textRows(t, c, "SELECT d.id, d.v FROM hopsql.public.dq AS d JOIN dq USING (id) ORDER BY 1"), ";"); got != "1|a;2|B" {
		t.Fatalf("dq holds %q", got)
	}
	for _, sql := range []string{"SELECT * FROM other.public.dq", "INSERT INTO other.public.dq VALUES (3, 'c')", "DROP TABLE other.public.dq"} {
		if _, err := c.Exec(ctx, sql); sqlstate(err) != "0A000" {
			t.Errorf("%s: %v, want 0A000", sql, err)
		}
	}
	srv.Stop()
	srv.Restart()
	c = srv.connect(t)
	if got := strings.Join(textRows(t, c, "SELECT id, v FROM dq ORDER BY id"), ";"); got != "1|a;2|B" {
		t.Fatalf("after a restart dq holds %q", got)
	}
	mustExec(t, c, "DROP TABLE hopsql.public.dq")
	if got := textRows(t, c, "SELECT count(*) FROM hopsql.tables WHERE table_name = 'dq'"); got[0] != "0" {
		t.Fatalf("DROP TABLE through a qualified name left the table in the catalog")
	}
}
