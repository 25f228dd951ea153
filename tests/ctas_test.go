package tests

import (
	"context"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
)

// TestCreateTableAsSelect: CREATE TABLE … AS SELECT in its own transaction
// writes its rows straight to one Parquet file; in a transaction block, a
// multi-statement query or a pipeline, later statements read the rows
// before the commit; the tag counts the rows; a failing query creates
// nothing; the table survives SIGKILL once acknowledged.
func TestCreateTableAsSelect(t *testing.T) {
	dir := t.TempDir()
	srv := startServerIn(t, dir, nil)
	ctx := context.Background()
	c := srv.connect(t)

	tag, err := c.Exec(ctx, "CREATE TABLE big AS SELECT i, i * 0.5 AS x, 'r' || i AS s FROM generate_series(1, 50000) AS g(i)")
	if err != nil || tag.String() != "SELECT 50000" {
		t.Fatalf("CREATE TABLE AS: %v %v", tag, err)
	}
	if got := textRows(t, c, "SELECT count(*), sum(i), min(s), max(x) FROM big"); got[0] != "50000|1250025000|r1|25000.0" {
		t.Fatalf("big: %v", got)
	}
	if got := textRows(t, c, "SELECT count(*), min(stored) FROM fs_ls('/Projects/hopsql/Warehouse/big')"); got[0] != "1|block" {
		t.Fatalf("files of big: %v", got)
	}

	// Later statements of the same transaction read the rows.
	mustExec(t, c, "BEGIN")
	tag, err = c.Exec(ctx, "CREATE TABLE part AS SELECT * FROM big WHERE i <= 10")
	if err != nil || tag.String() != "SELECT 10" {
		t.Fatalf("in a block: %v %v", tag, err)
	}
	if got := textRows(t, c, "SELECT count(*) FROM part"); got[0] != "10" {
		t.Fatalf("part inside its transaction: %v", got)
	}
	mustExec(t, c, "COMMIT")
	if got := textRows(t, c, "SELECT count(*) FROM part"); got[0] != "10" {
		t.Fatalf("part after COMMIT: %v", got)
	}
	res, err := c.PgConn().Exec(ctx, "CREATE TABLE multi AS SELECT * FROM big WHERE i <= 7; SELECT count(*) FROM multi").ReadAll()
	if err != nil || len(res) != 2 || len(res[1].Rows) != 1 || string(res[1].Rows[0][0]) != "7" {
		t.Fatalf("multi-statement query: %v %v", res, err)
	}
	// A pipeline: Parse, Bind, Execute of each statement, one Sync.
	cfg := c.Config().Copy()
	cfg.DefaultQueryExecMode = pgx.QueryExecModeExec
	pc, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close(ctx)
	b := &pgx.Batch{}
	b.Queue("CREATE TABLE piped AS SELECT * FROM big WHERE i <= 3")
	b.Queue("SELECT count(*) FROM piped")
	br := pc.SendBatch(ctx, b)
	if _, err := br.Exec(); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := br.QueryRow().Scan(&n); err != nil || n != 3 {
		t.Fatalf("pipelined: %d %v", n, err)
	}
	br.Close()

	// With parameters (extended protocol), and across a savepoint.
	if tag, err := c.Exec(ctx, "CREATE TABLE withparam AS SELECT * FROM big WHERE i <= $1", 5); err != nil || tag.String() != "SELECT 5" {
		t.Fatalf("with a parameter: %v %v", tag, err)
	}
	mustExec(t, c, "BEGIN")
	mustExec(t, c, "CREATE TABLE sp AS SELECT * FROM big WHERE i <= 10")
	mustExec(t, c, "SAVEPOINT s")
	mustExec(t, c, "INSERT INTO sp SELECT * FROM big WHERE i = 11")
	mustExec(t, c, "ROLLBACK TO SAVEPOINT s")
	if got := textRows(t, c, "SELECT count(*) FROM sp"); got[0] != "10" {
		t.Fatalf("after ROLLBACK TO SAVEPOINT: %v", got)
	}
	mustExec(t, c, "COMMIT")
	if got := textRows(t, c, "SELECT (SELECT count(*) FROM sp), (SELECT count(*) FROM withparam)"); got[0] != "10|5" {
		t.Fatalf("committed: %v", got)
	}

	// Nothing is left of a failing query, or a rolled-back one.
	if _, err := c.Exec(ctx, "CREATE TABLE bad AS SELECT 1 / (i - 25000) FROM big"); sqlstate(err) != "22012" {
		t.Fatalf("division by zero: %v", err)
	}
	mustExec(t, c, "BEGIN")
	mustExec(t, c, "CREATE TABLE gone AS SELECT * FROM big")
	mustExec(t, c, "ROLLBACK")
	if got := textRows(t, c, "SELECT count(*) FROM hopsql.tables WHERE table_name IN ('bad', 'gone')"); got[0] != "0" {
		t.Fatalf("tables left behind: %v", got)
	}
	if got := textRows(t, c, "SELECT string_agg(name, ',' ORDER BY name) FROM fs_ls('/Projects/hopsql/Warehouse')"); strings.Contains(got[0], "bad") || strings.Contains(got[0], "gone") {
		t.Fatalf("directories left behind: %v", got)
	}

	srv.Kill()
	srv = startServerIn(t, dir, nil)
	c = srv.connect(t)
	if got := textRows(t, c, "SELECT (SELECT count(*) FROM big), (SELECT count(*) FROM part), (SELECT count(*) FROM piped)"); got[0] != "50000|10|3" {
		t.Fatalf("after SIGKILL: %v", got)
	}
}
