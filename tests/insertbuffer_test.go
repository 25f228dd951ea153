package tests

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
)

// TestBufferedInserts runs single-row INSERTs inside transactions, which
// hopsql buffers in the session (engine/insertbuffer.go), on hopsql and on
// PostgreSQL, statement by statement, in the simple protocol (the INSERT
// is never prepared on DuckDB) and the extended one: each statement must
// succeed or fail with the same SQLSTATE on both, every read must see the
// same rows, and the committed tables must end up equal.
func TestBufferedInserts(t *testing.T) {
	srv := startServer(t)
	ctx := context.Background()
	hop := srv.connect(t)
	ref := connectURL(t, referenceURL(t))

	script := []string{
		// Reads between INSERTs see the buffered rows; a savepoint
		// rolled back drops the rows buffered after it, in both tables.
		"BEGIN",
		"INSERT INTO ib_k VALUES (1, 1, 'a')",
		"INSERT INTO ib_o VALUES (1, 'x')",
		"INSERT INTO ib_k (id, n) VALUES (2, 2)",
		"SELECT count(*), max(id) FROM ib_k",
		"INSERT INTO ib_k VALUES (3, 3, 'c')",
		"SAVEPOINT s1",
		"INSERT INTO ib_k VALUES (4, 4, 'd')",
		"INSERT INTO ib_o VALUES (2, 'y')",
		"ROLLBACK TO SAVEPOINT s1",
		"INSERT INTO ib_k VALUES (5, 5, 'e')",
		"SELECT id, n, s FROM ib_k ORDER BY id",
		"COMMIT",
		// A key the transaction buffered twice, at the second INSERT.
		"BEGIN",
		"INSERT INTO ib_k VALUES (10, 1, 'z')",
		"INSERT INTO ib_k VALUES (10, 2, 'z')",
		"SELECT 1",
		"ROLLBACK",
		// A committed key, at the INSERT.
		"BEGIN",
		"INSERT INTO ib_k VALUES (11, 1, 'z')",
		"INSERT INTO ib_k VALUES (100, 1, 'dup')",
		"COMMIT",
		// NOT NULL, a declared length, a bad integer: at the INSERT.
		"BEGIN",
		"INSERT INTO ib_k VALUES (12, NULL, 'a')",
		"ROLLBACK",
		"BEGIN",
		"INSERT INTO ib_k VALUES (13, 1, 'toolong')",
		"ROLLBACK",
		"BEGIN",
		"INSERT INTO ib_k VALUES (14, 1, 'a')",
		"INSERT INTO ib_k VALUES ('x', 1, 'a')",
		"ROLLBACK",
		// A rolled-back transaction leaves nothing; a key freed by a
		// DELETE earlier in the transaction may be inserted again.
		"BEGIN",
		"INSERT INTO ib_k VALUES (15, 1, 'a')",
		"ROLLBACK",
		"BEGIN",
		"INSERT INTO ib_k VALUES (17, 1, 'a')",
		"INSERT INTO ib_o VALUES (17, 'gone')",
		"SELECT count(*) FROM ib_k WHERE id = 17",
		"ROLLBACK",
		"SELECT count(*) FROM ib_k WHERE id = 17",
		"SELECT count(*) FROM ib_o WHERE a = 17",
		"BEGIN",
		"DELETE FROM ib_k WHERE id = 100",
		"INSERT INTO ib_k VALUES (100, 7, 'again')",
		"INSERT INTO ib_k VALUES (16, 1, 'a')",
		"COMMIT",
		// Rows other statements put in the carrier: an INSERT … SELECT,
		// an UPDATE that pulled a committed row; keys they hold are
		// refused at the INSERT, keys a DELETE freed are taken.
		"BEGIN",
		"INSERT INTO ib_k SELECT 20, 1, 'q'",
		"INSERT INTO ib_k VALUES (21, 1, 'q')",
		"INSERT INTO ib_k VALUES (20, 2, 'q')",
		"ROLLBACK",
		"BEGIN",
		"INSERT INTO ib_k VALUES (22, 1, 'q')",
		"SELECT count(*) FROM ib_k",
		"INSERT INTO ib_k SELECT 23, 1, 'q'",
		"INSERT INTO ib_k VALUES (24, 1, 'q')",
		"DELETE FROM ib_k WHERE id = 23",
		"INSERT INTO ib_k VALUES (23, 9, 'again')",
		"UPDATE ib_k SET n = n + 1 WHERE id = 100",
		"INSERT INTO ib_k VALUES (25, 1, 'q')",
		"INSERT INTO ib_k VALUES (22, 1, 'dup')",
		"ROLLBACK",
		"BEGIN",
		"UPDATE ib_k SET n = n + 1 WHERE id = 100",
		"INSERT INTO ib_k VALUES (26, 1, 'q')",
		"INSERT INTO ib_k VALUES (100, 1, 'dup')",
		"ROLLBACK",
		// UPDATE and COPY after buffered rows see them.
		"BEGIN",
		"INSERT INTO ib_o VALUES (3, 'z')",
		"UPDATE ib_o SET b = b || '!' WHERE a >= 1",
		"INSERT INTO ib_o VALUES (4, 'w')",
		"COMMIT",
		"SELECT id, n, s FROM ib_k ORDER BY id",
		"SELECT a, b FROM ib_o ORDER BY a",
	}
	for _, mode := range []pgx.QueryExecMode{pgx.QueryExecModeSimpleProtocol, pgx.QueryExecModeCacheStatement} {
		t.Run(mode.String(), func(t *testing.T) {
			for _, c := range []*pgx.Conn{hop, ref} {
				mustExec(t, c, "DROP TABLE IF EXISTS ib_k")
				mustExec(t, c, "DROP TABLE IF EXISTS ib_o")
				mustExec(t, c, "CREATE TABLE ib_k (id int PRIMARY KEY, n int NOT NULL, s varchar(5))")
				mustExec(t, c, "CREATE TABLE ib_o (a int, b text)")
				mustExec(t, c, "INSERT INTO ib_k VALUES (100, 1, 'c')")
			}
			before, _ := counterPair(t, hop, "inserts_buffered", "inserts_direct")
			for i, q := range script {
				got, want := outcome(ctx, hop, mode, q), outcome(ctx, ref, mode, q)
				if got != want {
					t.Errorf("step %d, %s:\n hopsql     %s\n PostgreSQL %s", i, q, got, want)
				}
			}
			after, _ := counterPair(t, hop, "inserts_buffered", "inserts_direct")
			// The INSERTs that pass the checks are buffered: 20 in the
			// script.
			if after-before < 20 {
				t.Errorf("inserts_buffered grew by %d, want at least 20: the INSERTs did not take the buffered path", after-before)
			}
		})
	}
}

// TestBufferedInsertsMany: more rows than the buffer holds at once (it
// writes them out and goes on), a key repeated from the rows already
// written out, and a pipeline of INSERTs in autocommit (one implicit
// transaction) with and without a failing row.
func TestBufferedInsertsMany(t *testing.T) {
	srv := startServer(t)
	ctx := context.Background()
	c := srv.connect(t)
	mustExec(t, c, "CREATE TABLE ib_m (id bigint PRIMARY KEY, v text)")
	const n = 9000 // more than engine's insertBufferRows
	tx, err := c.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < n; i++ {
		if _, err := tx.Exec(ctx, fmt.Sprintf("INSERT INTO ib_m VALUES (%d, 'v%d')", i, i), pgx.QueryExecModeSimpleProtocol); err != nil {
			t.Fatalf("row %d: %v", i, err)
		}
	}
	// Row 5 went to the carrier with the first rows written out.
	if _, err := tx.Exec(ctx, "INSERT INTO ib_m VALUES (5, 'dup')", pgx.QueryExecModeSimpleProtocol); sqlstate(err) != "23505" {
		t.Fatalf("a key written out earlier in the transaction: %v, want 23505", err)
	}
	tx.Rollback(ctx)
	if got := textRows(t, c, "SELECT count(*) FROM ib_m"); strings.Join(got, ";") != "0" {
		t.Fatalf("after ROLLBACK ib_m holds %v rows", got)
	}

	tx, err = c.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < n; i++ {
		if _, err := tx.Exec(ctx, "INSERT INTO ib_m VALUES ($1, $2)", i, fmt.Sprintf("v%d", i)); err != nil {
			t.Fatalf("row %d: %v", i, err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf("%d|%d|v999", n, n*(n-1)/2)
	if got := strings.Join(textRows(t, c, "SELECT count(*), sum(id), max(v) FROM ib_m"), ";"); got != want {
		t.Fatalf("ib_m holds %s, want %s", got, want)
	}

	// A pipeline in autocommit is one implicit transaction: all of it or
	// nothing.
	before, _ := counterPair(t, c, "inserts_buffered", "inserts_direct")
	b := &pgx.Batch{}
	for i := n; i < n+50; i++ {
		b.Queue("INSERT INTO ib_m VALUES ($1, $2)", i, "batch")
	}
	if err := c.SendBatch(ctx, b).Close(); err != nil {
		t.Fatal(err)
	}
	after, _ := counterPair(t, c, "inserts_buffered", "inserts_direct")
	if after-before != 50 {
		t.Errorf("inserts_buffered grew by %d over a pipeline of 50 INSERTs, want 50", after-before)
	}
	b = &pgx.Batch{}
	for i := n + 50; i < n+100; i++ {
		b.Queue("INSERT INTO ib_m VALUES ($1, $2)", i, "batch")
	}
	b.Queue("INSERT INTO ib_m VALUES ($1, $2)", n+60, "dup")
	if err := c.SendBatch(ctx, b).Close(); sqlstate(err) != "23505" {
		t.Fatalf("pipeline ending in a duplicate: %v, want 23505", err)
	}
	if got := strings.Join(textRows(t, c, "SELECT count(*) FROM ib_m WHERE v = 'batch'"), ";"); got != "50" {
		t.Fatalf("batch rows after the failed pipeline: %s, want 50", got)
	}
}

// outcome runs one statement and describes what it did: its rows (their
// Go types show through: 8 and a numeric 8 differ), or its SQLSTATE.
func outcome(ctx context.Context, c *pgx.Conn, mode pgx.QueryExecMode, q string) string {
	return outcomeArgs(ctx, c, mode, q)
}

// bothSetUp runs setup statements on each connection.
func bothSetUp(t *testing.T, conns []*pgx.Conn, stmts ...string) {
	t.Helper()
	for _, c := range conns {
		for _, q := range stmts {
			mustExec(t, c, q)
		}
	}
}

// sameInBothModes runs each query on hopsql and on PostgreSQL, in the
// simple and the extended protocol, and reports any outcome that differs.
func sameInBothModes(t *testing.T, hop, ref *pgx.Conn, queries ...string) {
	t.Helper()
	ctx := context.Background()
	for _, q := range queries {
		for _, mode := range []pgx.QueryExecMode{pgx.QueryExecModeSimpleProtocol, pgx.QueryExecModeCacheStatement} {
			if got, want := outcome(ctx, hop, mode, q), outcome(ctx, ref, mode, q); got != want {
				t.Errorf("%s (%v):\n hopsql     %s\n PostgreSQL %s", q, mode, got, want)
			}
		}
	}
}

// outcomeArgs is outcome with parameters.
func outcomeArgs(ctx context.Context, c *pgx.Conn, mode pgx.QueryExecMode, q string, args ...any) string {
	rows, err := c.Query(ctx, q, append([]any{mode}, args...)...)
	if err != nil {
		return "ERROR " + sqlstate(err)
	}
	var out []string
	for rows.Next() {
		vals, err := rows.Values()
		if err != nil {
			rows.Close()
			return "ERROR " + err.Error()
		}
		out = append(out, fmt.Sprint(vals...))
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return "ERROR " + sqlstate(err)
	}
	return rows.CommandTag().String() + " " + strings.Join(out, ";")
}

// TestSessionShortcutsAcrossDDL: the insert buffer, the kept literal
// statements and in-transaction lookups trust caches keyed by the
// committed table definitions. A transaction whose snapshot predates a
// DDL statement (committed by another session, or rolled back in its
// own) must not trust them, nor fill them with what its snapshot sees.
// PostgreSQL would make these sessions wait on each other's locks; here
// the answers are checked against what the committed definitions say.
func TestSessionShortcutsAcrossDDL(t *testing.T) {
	srv := startServer(t)
	ctx := context.Background()
	a, b := srv.connect(t), srv.connect(t)
	simple := pgx.QueryExecModeSimpleProtocol

	// A NOT NULL and a DEFAULT added while another transaction is open.
	mustExec(t, b, "CREATE TABLE nn (id int PRIMARY KEY, v text)")
	mustExec(t, b, "CREATE TABLE df (id int PRIMARY KEY, v text)")
	mustExec(t, a, "BEGIN")
	mustExec(t, a, "SELECT count(*) FROM nn")
	mustExec(t, b, "ALTER TABLE nn ALTER COLUMN v SET NOT NULL")
	mustExec(t, b, "ALTER TABLE df ALTER COLUMN v SET DEFAULT 'dflt'")
	// A's INSERT goes the carrier's way, where DuckDB may refuse it as a
	// conflict with the ALTER (40001); either way nothing of it may reach
	// the caches B then relies on.
	if _, err := a.Exec(ctx, "INSERT INTO nn VALUES (5, 'x')"); err != nil && sqlstate(err) != "40001" {
		t.Fatalf("INSERT in the older snapshot: %v", err)
	} else if err != nil {
		mustExec(t, a, "ROLLBACK")
		mustExec(t, a, "BEGIN")
		mustExec(t, a, "SELECT count(*) FROM df")
		mustExec(t, b, "ALTER TABLE df ALTER COLUMN v DROP DEFAULT")
		mustExec(t, b, "ALTER TABLE df ALTER COLUMN v SET DEFAULT 'dflt'")
	}
	if _, err := a.Exec(ctx, "INSERT INTO df (id) VALUES (5)"); err != nil && sqlstate(err) != "40001" {
		t.Fatalf("INSERT in the older snapshot: %v", err)
	}
	mustExec(t, a, "ROLLBACK")
	if _, err := b.Exec(ctx, "INSERT INTO nn VALUES (6, NULL)"); sqlstate(err) != "23502" {
		t.Errorf("NULL into a column made NOT NULL: %v, want 23502", err)
	}
	mustExec(t, b, "INSERT INTO df (id) VALUES (6)")
	if got := strings.Join(textRows(t, b, "SELECT id, v FROM df"), ";"); got != "6|dflt" {
		t.Errorf("df holds %q, want the default filled in: 6|dflt", got)
	}

	// A kept lookup prepared against a definition its transaction then
	// rolled back.
	mustExec(t, a, "CREATE TABLE t1 (id text PRIMARY KEY)")
	mustExec(t, a, "INSERT INTO t1 VALUES ('007'), ('7')")
	for _, q := range []string{"BEGIN", "DROP TABLE t1", "CREATE TABLE t1 (id int PRIMARY KEY, v text)", "SELECT * FROM t1 WHERE id = 5", "ROLLBACK"} {
		if _, err := a.Exec(ctx, q, simple); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	for q, want := range map[string]string{"SELECT * FROM t1 WHERE id = '007'": "007", "SELECT * FROM t1 WHERE id = 'abc'": ""} {
		rows, err := a.Query(ctx, q, simple)
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		var got []string
		for rows.Next() {
			var s string
			rows.Scan(&s)
			got = append(got, s)
		}
		rows.Close()
		if err := rows.Err(); err != nil || strings.Join(got, ";") != want {
			t.Errorf("%s after the rolled-back DDL: %q (%v), want %q", q, got, err, want)
		}
	}

	// A kept lookup prepared while another session's DDL was in flight.
	mustExec(t, a, "CREATE TABLE t2 (id text PRIMARY KEY, v text)")
	mustExec(t, a, "INSERT INTO t2 VALUES ('a', 'old')")
	mustExec(t, b, "BEGIN")
	mustExec(t, b, "DROP TABLE t2")
	mustExec(t, b, "CREATE TABLE t2 (id text PRIMARY KEY, v text, w int)")
	mustExec(t, b, "INSERT INTO t2 VALUES ('a', 'new', 3)")
	if _, err := a.Exec(ctx, "SELECT * FROM t2 WHERE id = 'zz'", simple); err != nil {
		t.Fatalf("lookup during another session's DDL: %v", err)
	}
	mustExec(t, b, "COMMIT")
	var id, v string
	var w int
	if err := a.QueryRow(ctx, "SELECT * FROM t2 WHERE id = 'a'", simple).Scan(&id, &v, &w); err != nil || v != "new" || w != 3 {
		t.Errorf("lookup after the other session's DDL committed: %s %s %d (%v), want a new 3", id, v, w, err)
	}

	// A transaction that read a table before another session replaced it
	// keeps reading its snapshot.
	mustExec(t, b, "CREATE TABLE rd (id int PRIMARY KEY, v text)")
	mustExec(t, b, "INSERT INTO rd VALUES (1, 'old')")
	mustExec(t, a, "BEGIN")
	for i := 0; i < 3; i++ {
		if err := a.QueryRow(ctx, "SELECT v FROM rd WHERE id = 1").Scan(&v); err != nil || v != "old" {
			t.Fatalf("lookup in the transaction: %q, %v", v, err)
		}
	}
	mustExec(t, b, "DROP TABLE rd")
	mustExec(t, b, "CREATE TABLE rd (id int PRIMARY KEY, v text)")
	mustExec(t, b, "INSERT INTO rd VALUES (1, 'new')")
	if err := a.QueryRow(ctx, "SELECT v FROM rd WHERE id = 1").Scan(&v); err != nil || v != "old" {
		t.Errorf("lookup after another session recreated the table: %q, %v, want the snapshot's row old", v, err)
	}
	mustExec(t, a, "COMMIT")
	if err := a.QueryRow(ctx, "SELECT v FROM rd WHERE id = 1").Scan(&v); err != nil || v != "new" {
		t.Errorf("lookup after COMMIT: %q, %v, want new", v, err)
	}
}

// TestSavepointAfterImplicitWrites: writes of a query string made before
// its BEGIN are not in the savepoint log, so ROLLBACK TO SAVEPOINT after
// them is refused (PostgreSQL would keep them), rather than replaying a
// log that would silently lose them.
func TestSavepointAfterImplicitWrites(t *testing.T) {
	srv := startServer(t)
	ctx := context.Background()
	c := srv.connect(t)
	mustExec(t, c, "CREATE TABLE sp (id int PRIMARY KEY)")
	_, err := c.Exec(ctx, "INSERT INTO sp VALUES (1); INSERT INTO sp SELECT 2; BEGIN; SAVEPOINT a; INSERT INTO sp VALUES (3); ROLLBACK TO a; COMMIT", pgx.QueryExecModeSimpleProtocol)
	if sqlstate(err) != "0A000" {
		t.Fatalf("ROLLBACK TO after writes before BEGIN: %v, want 0A000", err)
	}
	mustExec(t, c, "ROLLBACK")
	if got := strings.Join(textRows(t, c, "SELECT count(*) FROM sp"), ";"); got != "0" {
		t.Errorf("sp holds %s rows after the refused transaction, want 0", got)
	}
	// Without writes before BEGIN the savepoint works.
	mustExec(t, c, "BEGIN; INSERT INTO sp VALUES (1); SAVEPOINT a; INSERT INTO sp VALUES (3); ROLLBACK TO a; COMMIT")
	if got := strings.Join(textRows(t, c, "SELECT id FROM sp ORDER BY id"), ";"); got != "1" {
		t.Errorf("sp holds %s, want 1", got)
	}
}
