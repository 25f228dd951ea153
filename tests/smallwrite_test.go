package tests

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// textRows reads every row of a query as text (simple protocol), one
// string per row, values joined by "|", NULL as "∅".
func textRows(t *testing.T, c *pgx.Conn, sql string) []string {
	t.Helper()
	rows, err := c.Query(context.Background(), sql, pgx.QueryExecModeSimpleProtocol)
	if err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var vals []string
		for _, v := range rows.RawValues() {
			if v == nil {
				vals = append(vals, "∅")
			} else {
				vals = append(vals, string(v))
			}
		}
		out = append(out, strings.Join(vals, "|"))
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return out
}

// TestSmallCommitsKeepEveryValue: single-row commits are stored as inline
// JSON lines of each value's text; every value of every type with an exact
// text form must come back exactly as a query over the same literals gives
// it — when read from the inline files, after compaction merged them into
// Parquet, and from history after maintenance moved the old inline files'
// bytes into blocks. The session's time zone differs between writing and
// reading, which timestamptz must survive.
func TestSmallCommitsKeepEveryValue(t *testing.T) {
	srv := startServer(t)
	c := srv.connect(t)
	cols := "id bigint, b boolean, i2 smallint, i4 integer, f4 real, f8 double precision, n numeric(18,4), s text, " +
		"bt bytea, d date, tm time, ts timestamp, tz timestamptz, iv interval, u uuid"
	mustExec(t, c, "CREATE TABLE vals ("+cols+")")
	rows := []string{
		`(1, true, -32768, 2147483647, 3.4e38, 1.7976931348623157e308, 12345678901234.5678, 'plain', '\x00ff10'::bytea, '2024-02-29', '23:59:59.999999', '2024-01-01 10:00:00.123456', '2024-01-01 10:00:00.5+05:30', '1 year 2 mons -3 days 04:05:06.789', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11')`,
		`(2, false, 0, -1, -0.0, 'NaN', -0.0001, E'quote '' dq " bs \\ nl \n tab \t uni é 世界 🎉', ''::bytea, '0001-01-01', '00:00:00', '1900-01-01 00:00:00', '1850-06-01 12:00:00+00', '-178000000 years', '00000000-0000-0000-0000-000000000000')`,
		`(3, NULL, NULL, NULL, 'Infinity', '-Infinity', NULL, '', NULL, 'infinity', NULL, '-infinity', 'infinity', '0', NULL)`,
		`(4, true, 1, 1, 1.17549435e-38, 4.9e-324, 0, 'null', '\x'::bytea, '9999-12-31', '12:00', '2262-04-11 23:47:16.854775', '1970-01-01 00:00:00+00', '-1 days -00:00:00.000001', 'ffffffff-ffff-ffff-ffff-ffffffffffff')`,
	}
	// The reference: the same rows in a table of another schema, which
	// stays a native DuckDB table (docs/sql-compat.md).
	mustExec(t, c, "CREATE SCHEMA ref")
	mustExec(t, c, "CREATE TABLE ref.vals ("+cols+")")
	mustExec(t, c, "SET TimeZone = 'Asia/Kolkata'")
	for _, r := range rows {
		mustExec(t, c, "INSERT INTO vals VALUES "+r)
		mustExec(t, c, "INSERT INTO ref.vals VALUES "+r)
	}
	mustExec(t, c, "SET TimeZone = 'America/Los_Angeles'")
	want := textRows(t, c, "SELECT * FROM ref.vals ORDER BY id")
	if len(want) != len(rows) {
		t.Fatalf("reference: %v", want)
	}
	check := func(what, sql string) {
		t.Helper()
		got := textRows(t, c, sql)
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Fatalf("%s:\n got %q\nwant %q", what, got, want)
		}
	}
	stored := func() map[string]int {
		out := map[string]int{}
		for _, r := range textRows(t, c, "SELECT name, stored FROM fs_ls('/Projects/hopsql/Warehouse/vals')") {
			name, where, _ := strings.Cut(r, "|")
			out[name[strings.LastIndex(name, "."):]+" "+where]++
		}
		return out
	}
	if got := stored(); got[".json inline"] != len(rows) || len(got) != 1 {
		t.Fatalf("files after %d single-row commits: %v, want %d inline .json files", len(rows), got, len(rows))
	}
	check("inline JSON files", "SELECT * FROM vals ORDER BY id")

	mustExec(t, c, "VACUUM vals") // merges the inline files, then moves history's into blocks
	if got := stored(); got[".parquet block"] != 1 || got[".json block"] != len(rows) || got[".json inline"] != 0 {
		t.Fatalf("files after VACUUM: %v, want one Parquet block and the %d JSON files moved to blocks", got, len(rows))
	}
	check("compacted into Parquet", "SELECT * FROM vals ORDER BY id")
	check("version 4 (JSON files in blocks)", fmt.Sprintf("SELECT * FROM vals AT (VERSION => %d) ORDER BY id", len(rows)))
	// A statement that reads the rows into the carrier (UPDATE) and
	// writes them back through the small path keeps them too.
	mustExec(t, c, "UPDATE vals SET id = id WHERE id > 0")
	check("rewritten by UPDATE", "SELECT * FROM vals ORDER BY id")
}

// TestUniqueKeysAcrossSmallFiles: unique keys are checked through the key
// index whatever holds the existing row: an inline file, a Parquet file
// from a bulk insert, a file compaction merged; keys deleted or updated
// away are free again; NULLs never collide; concurrent writers of the same
// keys leave no duplicate.
func TestUniqueKeysAcrossSmallFiles(t *testing.T) {
	srv := startServer(t)
	ctx := context.Background()
	c := srv.connect(t)
	mustExec(t, c, "CREATE TABLE uk (id bigint PRIMARY KEY, a int, b text, UNIQUE (a, b))")
	mustExec(t, c, "INSERT INTO uk SELECT i, i, 'bulk' FROM range(1000, 2000) AS r(i)") // more rows than a small commit: Parquet
	for i := 1; i <= 5; i++ {
		mustExec(t, c, fmt.Sprintf("INSERT INTO uk VALUES (%d, %d, 'x')", i, i))
	}
	dup := func(what, sql, constraint string) {
		t.Helper()
		_, err := c.Exec(ctx, sql)
		if sqlstate(err) != "23505" || !strings.Contains(err.Error(), `"`+constraint+`"`) {
			t.Fatalf("%s: %v, want 23505 on %s", what, err, constraint)
		}
	}
	dup("key in an inline file", "INSERT INTO uk VALUES (3, 100, 'y')", "uk_pkey")
	dup("key in the Parquet file", "INSERT INTO uk VALUES (1500, 100, 'y')", "uk_pkey")
	dup("composite key", "INSERT INTO uk VALUES (100, 2, 'x')", "uk_a_b_key")
	dup("key updated onto another", "UPDATE uk SET id = 4 WHERE id = 5", "uk_pkey")
	mustExec(t, c, "INSERT INTO uk VALUES (6, NULL, 'x'), (7, NULL, 'x')") // NULLs are distinct
	mustExec(t, c, "INSERT INTO uk VALUES (8, 8, NULL)")
	mustExec(t, c, "INSERT INTO uk VALUES (9, 8, NULL)")

	mustExec(t, c, "VACUUM uk")
	dup("key in a compacted file", "INSERT INTO uk VALUES (2, 100, 'y')", "uk_pkey")
	dup("composite key in a compacted file", "INSERT INTO uk VALUES (101, 1, 'x')", "uk_a_b_key")
	mustExec(t, c, "DELETE FROM uk WHERE id = 2")
	mustExec(t, c, "INSERT INTO uk VALUES (2, 200, 'again')") // deleted keys are free
	mustExec(t, c, "UPDATE uk SET id = 10 WHERE id = 1")
	mustExec(t, c, "INSERT INTO uk VALUES (1, 300, 'again')") // and updated-away ones
	dup("key moved by UPDATE", "INSERT INTO uk VALUES (10, 400, 'z')", "uk_pkey")
	// Inside a transaction block: the first duplicate fails the statement.
	mustExec(t, c, "BEGIN")
	mustExec(t, c, "INSERT INTO uk VALUES (11, 11, 'tx')")
	// (DuckDB itself finds this one among the transaction's own rows; its
	// message does not name the constraint yet.)
	if _, err := c.Exec(ctx, "INSERT INTO uk VALUES (11, 12, 'tx')"); sqlstate(err) != "23505" {
		t.Fatalf("duplicate inside a transaction: %v, want 23505", err)
	}
	mustExec(t, c, "ROLLBACK")

	// Concurrent writers of overlapping keys: every key ends up once.
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			wc := srv.connect(t)
			defer wc.Close(ctx)
			for k := 0; k < 40; k++ {
				_, err := wc.Exec(ctx, "INSERT INTO uk VALUES ($1, $2, $3)", 5000+k, 5000+k, fmt.Sprint("w", w))
				if err != nil && sqlstate(err) != "23505" && sqlstate(err) != "40001" {
					t.Errorf("writer %d key %d: %v", w, k, err)
					return
				}
			}
		}(w)
	}
	wg.Wait()
	var n, distinct int
	if err := c.QueryRow(ctx, "SELECT count(*), count(DISTINCT id) FROM uk WHERE id >= 5000").Scan(&n, &distinct); err != nil {
		t.Fatal(err)
	}
	if n != 40 || distinct != 40 {
		t.Fatalf("concurrent writers of keys 5000..5039: %d rows, %d distinct; want 40 and 40", n, distinct)
	}
	if err := c.QueryRow(ctx, "SELECT count(*), count(DISTINCT id) FROM uk").Scan(&n, &distinct); err != nil || n != distinct {
		t.Fatalf("duplicates in uk: %d rows, %d distinct ids (%v)", n, distinct, err)
	}
}

// TestUpdateRewritesOnlyTouchedFiles: UPDATE and DELETE replace the files
// holding the rows they change, nothing else (copy-on-write per file).
func TestUpdateRewritesOnlyTouchedFiles(t *testing.T) {
	srv := startServer(t)
	ctx := context.Background()
	c := srv.connect(t)
	mustExec(t, c, "CREATE TABLE cow (id int, v text)")
	for i := 1; i <= 4; i++ {
		mustExec(t, c, fmt.Sprintf("INSERT INTO cow VALUES (%d, 'v%d')", i, i))
	}
	mustExec(t, c, "UPDATE cow SET v = 'changed' WHERE id = 2")
	mustExec(t, c, "DELETE FROM cow WHERE id = 3")
	mustExec(t, c, "UPDATE cow SET v = v || '!' WHERE id > 100") // touches nothing
	got := textRows(t, c, "SELECT version, operation, files_added, files_removed FROM hopsql.table_history WHERE table_name = 'cow' AND version > 4 ORDER BY version")
	want := []string{"5|UPDATE|1|1", "6|DELETE|0|1"}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("history of cow: %v, want %v", got, want)
	}
	if got := tableRows(t, c, "SELECT id, v FROM cow ORDER BY id"); strings.Join(got, ",") != "1:v1,2:changed,4:v4" {
		t.Fatalf("rows: %v", got)
	}
	var n int
	if err := c.QueryRow(ctx, "SELECT count(*) FROM cow AT (VERSION => 4)").Scan(&n); err != nil || n != 4 {
		t.Fatalf("version 4: %d rows, %v", n, err)
	}
}

// TestCreateUniqueIndexChecksFiles: CREATE UNIQUE INDEX fails (23505, as
// PostgreSQL's "could not create unique index") when committed rows already
// repeat a key, and once created it is enforced across files.
func TestCreateUniqueIndexChecksFiles(t *testing.T) {
	srv := startServer(t)
	ctx := context.Background()
	c := srv.connect(t)
	mustExec(t, c, "CREATE TABLE ui (id int, a int, b text)")
	mustExec(t, c, "INSERT INTO ui VALUES (1, 1, 'x')")
	mustExec(t, c, "INSERT INTO ui VALUES (2, 1, 'x')")
	mustExec(t, c, "INSERT INTO ui VALUES (3, 2, NULL), (4, 2, NULL)")
	for _, tc := range []struct{ sql, detail string }{
		{"CREATE UNIQUE INDEX ui_ab ON ui (a, b)", "Key (a, b)=(1, x) is duplicated."},
		{"CREATE UNIQUE INDEX ui_id_a ON ui USING btree (a)", "is duplicated."},
	} {
		_, err := c.Exec(ctx, tc.sql)
		if sqlstate(err) != "23505" || !strings.Contains(err.Error(), "could not create unique index") {
			t.Fatalf("%s: %v", tc.sql, err)
		}
		var pe *pgconn.PgError
		if !errors.As(err, &pe) || !strings.Contains(pe.Detail, tc.detail) {
			t.Fatalf("%s: detail %q, want %q", tc.sql, pe.Detail, tc.detail)
		}
	}
	mustExec(t, c, "DELETE FROM ui WHERE id = 2")
	mustExec(t, c, "CREATE UNIQUE INDEX ui_b ON ui (b)") // NULLs do not repeat
	mustExec(t, c, "CREATE UNIQUE INDEX ui_id ON ui (id)")
	if _, err := c.Exec(ctx, "INSERT INTO ui VALUES (1, 9, 'y')"); sqlstate(err) != "23505" || !strings.Contains(err.Error(), `"ui_id"`) {
		t.Fatalf("a key the new index holds: %v", err)
	}
	var n int
	if err := c.QueryRow(ctx, "SELECT count(*) FROM pg_indexes WHERE tablename = 'ui'").Scan(&n); err != nil || n != 2 {
		t.Fatalf("indexes of ui: %d (%v), want ui_b and ui_id only", n, err)
	}
}

// TestFloatKeyZeroes: -0.0 and 0.0 are the same key, as in PostgreSQL,
// although their text forms differ.
func TestFloatKeyZeroes(t *testing.T) {
	srv := startServer(t)
	c := srv.connect(t)
	mustExec(t, c, "CREATE TABLE fk (x double precision PRIMARY KEY)")
	mustExec(t, c, "INSERT INTO fk VALUES (0.0)")
	if _, err := c.Exec(context.Background(), "INSERT INTO fk VALUES ('-0'::float8)"); sqlstate(err) != "23505" {
		t.Fatalf("-0.0 after 0.0: %v, want 23505", err)
	}
}
