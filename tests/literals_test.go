package tests

import (
	"context"
	"fmt"
	"testing"

	"github.com/jackc/pgx/v5"
)

// TestLiteralLookups sends primary-key lookups with their keys in the
// query text, as psycopg2 sends every query (pgx's simple protocol
// interpolates its arguments the same way). hopsql prepares such a lookup
// once with its constants as parameters (engine/literals.go) and answers
// it from memory, in autocommit and inside transactions that have not
// written the table (engine/pointlookup.go). Every answer must be
// PostgreSQL's: each statement runs on both, repeatedly, so later rounds
// take the kept statement and the memory path.
func TestLiteralLookups(t *testing.T) {
	srv := startServer(t)
	ctx := context.Background()
	hop := srv.connect(t)
	ref := connectURL(t, referenceURL(t))
	for _, c := range []*pgx.Conn{hop, ref} {
		for _, q := range []string{
			"DROP TABLE IF EXISTS lk", "DROP TABLE IF EXISTS lk2", "DROP TABLE IF EXISTS lks",
			"CREATE TABLE lk (id int PRIMARY KEY, s text, n int)",
			"CREATE TABLE lk2 (a text, b int, v text, PRIMARY KEY (a, b))",
			"CREATE TABLE lks (id smallint PRIMARY KEY, v text)",
			"INSERT INTO lk SELECT i, 'x' || i, 0 FROM generate_series(1, 300) i",
			"INSERT INTO lk2 SELECT 'k' || (i % 10), i, 'v' || i FROM generate_series(1, 300) i",
			"INSERT INTO lk2 VALUES ('x''y', 3, 'quoted')",
			"INSERT INTO lks SELECT i, 'w' || i FROM generate_series(1, 300) i",
		} {
			mustExec(t, c, q)
		}
	}
	lookups := []string{
		"SELECT s, n FROM lk WHERE id = %d",
		"SELECT * FROM lk WHERE id = %d",
		"SELECT s FROM lk WHERE id = '%d'",
		"SELECT v FROM lk2 WHERE a = 'k%d' AND b = 11",
		"SELECT v FROM lk2 WHERE b = %d AND a = 'k1'",
		"SELECT v FROM lks WHERE id = %d",
		"SELECT id FROM lk WHERE s = 'x%d'",
		"SELECT id, s FROM lk WHERE id IN (%d, 3, 1000) ORDER BY id",
		"SELECT s FROM lk WHERE id IN ('%d', '4') ORDER BY s",
	}
	fixed := []string{
		"SELECT s FROM lk WHERE id = 100000",
		"SELECT s FROM lk WHERE id = 99999999999",
		"SELECT v FROM lks WHERE id = 40000",
		"SELECT v FROM lk2 WHERE a = 'x''y' AND b = 3",
		"SELECT s FROM lk WHERE id = 'seven'",
		"SELECT s FROM lk WHERE id = '-5'",
		"SELECT s FROM lk WHERE id = ' 5'",
		"SELECT s FROM lk WHERE id = '5.0'",
		"SELECT s FROM lk WHERE id = '99999999999'",
		"SELECT v FROM lks WHERE id = '40000'",
	}
	mode := pgx.QueryExecModeSimpleProtocol
	same := func(q string) {
		t.Helper()
		if got, want := outcome(ctx, hop, mode, q), outcome(ctx, ref, mode, q); got != want {
			t.Errorf("%s:\n hopsql     %s\n PostgreSQL %s", q, got, want)
		}
	}
	_, memBefore := counterPair(t, hop, "inserts_buffered", "point_lookups_memory")
	for round := 0; round < 40; round++ {
		for i, q := range lookups {
			same(fmt.Sprintf(q, 1+(round*7+i)%300))
		}
		for _, q := range fixed {
			same(q)
		}
	}
	_, memAfter := counterPair(t, hop, "inserts_buffered", "point_lookups_memory")
	if memAfter-memBefore < 100 {
		t.Errorf("point_lookups_memory grew by %d over 440 lookups, want most of them answered from memory", memAfter-memBefore)
	}

	// Inside a transaction: its own writes, then its snapshot.
	for _, q := range []string{
		"BEGIN",
		"SELECT n FROM lk WHERE id = 5",
		"UPDATE lk SET n = 99 WHERE id = 5",
		"SELECT n FROM lk WHERE id = 5",
		"INSERT INTO lk VALUES (301, 'new', 1)",
		"SELECT s FROM lk WHERE id = 301",
		"ROLLBACK",
		"SELECT n FROM lk WHERE id = 5",
		"SELECT s FROM lk WHERE id = 301",
	} {
		same(q)
	}
	other := srv.connect(t)
	otherRef := connectURL(t, referenceURL(t))
	_, memBefore = counterPair(t, hop, "inserts_buffered", "point_lookups_memory")
	for _, step := range []struct {
		other bool
		q     string
	}{
		{false, "BEGIN ISOLATION LEVEL REPEATABLE READ"},
		{false, "SELECT n FROM lk WHERE id = 6"},
		{false, "SELECT n FROM lk WHERE id = 7"},
		{true, "UPDATE lk SET n = 1 WHERE id = 6"},
		{false, "SELECT n FROM lk WHERE id = 6"},
		{false, "SELECT n FROM lk WHERE id = 8"},
		{false, "COMMIT"},
		{false, "SELECT n FROM lk WHERE id = 6"},
	} {
		if step.other {
			mustExec(t, other, step.q)
			mustExec(t, otherRef, step.q)
			continue
		}
		same(step.q)
	}
	_, memAfter = counterPair(t, hop, "inserts_buffered", "point_lookups_memory")
	if memAfter-memBefore < 2 {
		t.Errorf("point_lookups_memory grew by %d in a transaction that read before any commit, want its first lookups from memory", memAfter-memBefore)
	}

	// UPDATE and DELETE by key with constants are kept the same way.
	for round := 0; round < 5; round++ {
		for _, q := range []string{
			fmt.Sprintf("UPDATE lk SET n = n + 1 WHERE id = %d", 10+round),
			fmt.Sprintf("UPDATE lk SET s = 'u%d', n = %d WHERE id = %d", round, round, 20+round),
			fmt.Sprintf("UPDATE lk SET s = NULL WHERE id IN (%d, 31)", 30+round),
			fmt.Sprintf("UPDATE lk SET n = '%d' WHERE id = '%d'", round, 40+round),
			"UPDATE lk SET n = 'abc' WHERE id = 41",
			"UPDATE lk SET n = 1 WHERE id = 'abc'",
			fmt.Sprintf("DELETE FROM lk WHERE id = %d", 50+round),
			fmt.Sprintf("DELETE FROM lk2 WHERE a = 'k%d' AND b = %d", round, 10+round),
			"BEGIN",
			fmt.Sprintf("UPDATE lk SET n = 7 WHERE id = %d", 60+round),
			fmt.Sprintf("SELECT n FROM lk WHERE id = %d", 60+round),
			fmt.Sprintf("DELETE FROM lk WHERE id = %d", 70+round),
			fmt.Sprintf("SELECT count(*) FROM lk WHERE id = %d", 70+round),
			"SAVEPOINT a",
			fmt.Sprintf("DELETE FROM lk WHERE id = %d", 80+round),
			"ROLLBACK TO SAVEPOINT a",
			fmt.Sprintf("UPDATE lk SET s = 'in tx' WHERE id = %d", 80+round),
			"COMMIT",
		} {
			same(q)
		}
	}
	same("SELECT id, s, n FROM lk WHERE id < 100 ORDER BY id")
	same("SELECT a, b, v FROM lk2 ORDER BY a, b")

	// DDL changes what a kept statement means.
	for _, c := range []*pgx.Conn{hop, ref} {
		mustExec(t, c, "ALTER TABLE lk ADD COLUMN z int DEFAULT 4")
	}
	same("SELECT * FROM lk WHERE id = 9")
	for _, c := range []*pgx.Conn{hop, ref} {
		mustExec(t, c, "DROP TABLE lk")
		mustExec(t, c, "CREATE TABLE lk (id int PRIMARY KEY, s varchar(3))")
		mustExec(t, c, "INSERT INTO lk VALUES (9, 'abc')")
	}
	same("SELECT * FROM lk WHERE id = 9")
}
