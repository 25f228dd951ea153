package tests

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
)

// TestDeclaredTypes: varchar(n), varchar and jsonb columns keep their
// declared type — which DuckDB's VARCHAR does not — in pg_attribute and in
// the RowDescription of a plain column, through ALTER TABLE and a restart,
// exactly as PostgreSQL 15 reports them for the same statements.
func TestDeclaredTypes(t *testing.T) {
	srv := startServer(t)
	ctx := context.Background()
	c := srv.connect(t)
	ref := connectURL(t, referenceURL(t))
	steps := []string{
		"DROP TABLE IF EXISTS decl_vt",
		"CREATE TABLE decl_vt (id int PRIMARY KEY, a varchar(40), b varchar, c text, d varchar(5)[])",
		"ALTER TABLE decl_vt ADD COLUMN e varchar(12)",
		"ALTER TABLE decl_vt RENAME COLUMN a TO a2",
		"ALTER TABLE decl_vt ALTER COLUMN b TYPE varchar(3)",
		"ALTER TABLE decl_vt ALTER COLUMN e TYPE text",
		"ALTER TABLE decl_vt ADD COLUMN f jsonb",
		`INSERT INTO decl_vt VALUES (1, 'x', 'y', 'z', ARRAY['p'], 'q', '{"bb": [1, 2.5], "a": null}')`,
	}
	for _, sql := range steps {
		mustExec(t, c, sql)
		mustExec(t, ref, sql)
	}
	const q = "SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = 'decl_vt'::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum"
	described := func(c *pgx.Conn) string {
		t.Helper()
		rows, err := c.Query(ctx, "SELECT a2, b, c, decl_vt.e, d, f FROM decl_vt")
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var got []string
		for _, f := range rows.FieldDescriptions() {
			got = append(got, f.Name+":"+strconv.Itoa(int(f.DataTypeOID))+"/"+strconv.Itoa(int(f.TypeModifier)))
		}
		return strings.Join(got, " ")
	}
	want, wantDesc := strings.Join(textRows(t, ref, q), ";"), described(ref)
	if !strings.Contains(want, "character varying(40)") || !strings.Contains(want, "f|jsonb") {
		t.Fatalf("reference PostgreSQL: %s", want)
	}
	check := func(when string) {
		t.Helper()
		if got := strings.Join(textRows(t, c, q), ";"); got != want {
			t.Fatalf("%s: pg_attribute says %s\nPostgreSQL: %s", when, got, want)
		}
		if got := described(c); got != wantDesc {
			t.Fatalf("%s: RowDescription %s\nPostgreSQL: %s", when, got, wantDesc)
		}
		if got, want := textRows(t, c, "SELECT f FROM decl_vt"), textRows(t, ref, "SELECT f FROM decl_vt"); strings.Join(got, "") != strings.Join(want, "") {
			t.Fatalf("%s: jsonb value %q, PostgreSQL %q", when, got, want)
		}
	}
	check("after ALTER")
	srv.Stop()
	srv.Restart()
	c = srv.connect(t)
	check("after a restart")
	// A table created again under the name forgets the old declarations.
	mustExec(t, c, "DROP TABLE decl_vt")
	mustExec(t, c, "CREATE TABLE decl_vt (id int, a2 text)")
	if got := strings.Join(textRows(t, c, q), ";"); got != "id|integer;a2|text" {
		t.Fatalf("re-created table: %s", got)
	}
}
