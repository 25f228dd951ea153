package tests

import (
	"testing"

	"github.com/jackc/pgx/v5"
)

// TestArrayLiterals: PostgreSQL's array literal text ('{1,2}') in a cast
// and in the VALUES of an INSERT into array columns, which DuckDB does not
// read from text, gives PostgreSQL's values and errors.
func TestArrayLiterals(t *testing.T) {
	srv := startServer(t)
	hop := srv.connect(t)
	ref := connectURL(t, referenceURL(t))
	bothSetUp(t, []*pgx.Conn{hop, ref}, "DROP TABLE IF EXISTS arl", "CREATE TABLE arl (id int, a int[], t text[], d date[])")
	sameInBothModes(t, hop, ref,
		`SELECT '{1,2}'::int[] AS a, '{}'::int[] AS e, '{"a b", c, NULL, "NULL", "q\"t"}'::text[] AS t`,
		`SELECT CAST('{1.5, 2}' AS numeric[]) AS d, '{t,f}'::bool[] AS b, '{2024-01-02}'::date[] AS dt, ' { 1 , 2 } '::bigint[] AS sp`,
		`SELECT '{1,2'::int[]`,
		`SELECT 'x'::int[]`,
		`INSERT INTO arl VALUES (1, '{1,2}', '{x,"y z"}', '{2024-01-02}'), (2, '{}', '{}', NULL)`,
		`INSERT INTO arl (t, id) VALUES ('{q, r}', 3)`,
		`INSERT INTO arl (id, a) VALUES (4, '{1,')`,
		`SELECT id, a, t, d FROM arl ORDER BY id`,
		`SELECT id FROM arl WHERE a = '{1,2}'::int[]`,
		`UPDATE arl SET a = '{7, 8}', t = '{"u v"}' WHERE id = 3`,
		`UPDATE arl SET a = '{7' WHERE id = 3`,
		`SELECT id, a, t FROM arl WHERE id = 3`,
	)
}
