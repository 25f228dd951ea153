package tests

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
	"testing"
	"time"

	_ "github.com/duckdb/duckdb-go/v2"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
)

// conformanceSetup creates the tables every conformance query reads. It is
// plain SQL that PostgreSQL, DuckDB and hopsql all accept.
var conformanceSetup = []string{
	`CREATE TABLE emp (id int PRIMARY KEY, name text NOT NULL, dept int, salary numeric(10,2), bonus double precision, hired date, mgr int)`,
	`CREATE TABLE dept (id int PRIMARY KEY, name text, budget bigint)`,
	`CREATE TABLE nums (a int, b int, f double precision)`,
	`INSERT INTO dept VALUES (1, 'eng', 1000000), (2, 'ops', 250000), (3, 'sales', NULL), (4, 'empty', 5)`,
	`INSERT INTO emp VALUES
		(1, 'ada', 1, 9000.50, 100.25, '2020-01-15', NULL),
		(2, 'bob', 1, 7000.00, NULL, '2021-03-01', 1),
		(3, 'cy', 2, 6500.75, 50, '2019-11-30', 1),
		(4, 'di', 2, NULL, 10.5, '2022-07-04', 3),
		(5, 'ed', 3, 5000.00, 0, '2018-02-28', 1),
		(6, 'flo', NULL, 4000.00, NULL, NULL, 5),
		(7, 'gus', 1, 7000.00, 7.75, '2023-12-31', 2)`,
	`INSERT INTO nums VALUES (7, 2, 1.5), (-7, 2, -2.25), (7, -2, 0), (0, 3, NULL), (NULL, 1, 3.75), (2147483647, 1, 1e300), (-3, -3, -0.5)`,
}

// conformanceQueries must have a deterministic order.
var conformanceQueries = []string{
	`SELECT id, name FROM emp ORDER BY id`,
	`SELECT * FROM emp ORDER BY id`,
	`SELECT count(*), count(dept), count(DISTINCT dept), count(salary) FROM emp`,
	`SELECT dept, count(*), sum(salary), min(salary), max(salary) FROM emp GROUP BY dept ORDER BY dept NULLS LAST`,
	`SELECT dept, avg(salary) FROM emp WHERE salary IS NOT NULL GROUP BY dept HAVING count(*) > 1 ORDER BY dept`,
	`SELECT e.name, d.name FROM emp e JOIN dept d ON e.dept = d.id ORDER BY e.id`,
	`SELECT e.name, d.name FROM emp e LEFT JOIN dept d ON e.dept = d.id ORDER BY e.id`,
	`SELECT e.name, d.name FROM emp e RIGHT JOIN dept d ON e.dept = d.id ORDER BY d.id, e.id`,
	`SELECT e.name, d.name FROM emp e FULL JOIN dept d ON e.dept = d.id ORDER BY d.id NULLS FIRST, e.id NULLS FIRST`,
	`SELECT e.name, m.name AS manager FROM emp e LEFT JOIN emp m ON e.mgr = m.id ORDER BY e.id`,
	`SELECT d.name, (SELECT count(*) FROM emp e WHERE e.dept = d.id) FROM dept d ORDER BY d.id`,
	`SELECT name FROM emp WHERE dept IN (SELECT id FROM dept WHERE budget > 100000) ORDER BY name`,
	`SELECT name FROM emp e WHERE EXISTS (SELECT 1 FROM emp r WHERE r.mgr = e.id) ORDER BY name`,
	`SELECT name FROM emp WHERE dept NOT IN (SELECT id FROM dept WHERE id > 2) ORDER BY name`,
	`SELECT name FROM emp WHERE salary > (SELECT avg(salary) FROM emp) ORDER BY name`,
	`SELECT a, b, a + b, a - b, a * b, a / b, a % b FROM nums WHERE b <> 0 AND a IS NOT NULL AND a < 1000 ORDER BY a, b`,
	`SELECT a / 2, -a / 2, 7 / 2, -7 / 2, 7 % 3, -7 % 3, 7.0 / 2 FROM nums WHERE a IS NOT NULL ORDER BY a`,
	`SELECT f, f * 2, f + 0.5, -f FROM nums WHERE f IS NOT NULL AND f < 1e10 ORDER BY f`,
	`SELECT a, b FROM nums ORDER BY a NULLS FIRST, b`,
	`SELECT a, b FROM nums ORDER BY a DESC NULLS LAST, b DESC`,
	`SELECT coalesce(bonus, -1), nullif(dept, 1), CASE WHEN salary > 6000 THEN 'high' WHEN salary IS NULL THEN 'none' ELSE 'low' END FROM emp ORDER BY id`,
	`SELECT name, salary FROM emp ORDER BY salary DESC NULLS LAST, name LIMIT 3`,
	`SELECT name FROM emp ORDER BY id LIMIT 2 OFFSET 3`,
	`SELECT DISTINCT dept FROM emp ORDER BY dept NULLS FIRST`,
	`SELECT dept FROM emp WHERE dept IS NOT NULL UNION SELECT id FROM dept ORDER BY 1`,
	`SELECT dept FROM emp WHERE dept IS NOT NULL UNION ALL SELECT id FROM dept ORDER BY 1`,
	`SELECT id FROM dept INTERSECT SELECT dept FROM emp ORDER BY 1`,
	`SELECT id FROM dept EXCEPT SELECT dept FROM emp ORDER BY 1`,
	`SELECT NULL = NULL, NULL IS NULL, 1 = NULL, NULL AND false, NULL OR true, NOT (NULL::bool) IS NULL`,
	`SELECT sum(a), min(a), max(a), count(a), count(*) FROM nums`,
	`SELECT count(*) FROM emp WHERE bonus IS NULL OR salary IS NULL`,
	`SELECT upper(name), length(name), substr(name, 1, 2), name || '!' , lower('ABC'), trim('  x  ') FROM emp ORDER BY id`,
	`SELECT name FROM emp WHERE name LIKE '%d%' OR name LIKE 'b_b' ORDER BY name`,
	`SELECT hired, hired + 1, extract(year FROM hired), hired < '2021-01-01' FROM emp WHERE hired IS NOT NULL ORDER BY hired`,
	`WITH t AS (SELECT dept, sum(salary) AS s FROM emp GROUP BY dept) SELECT d.name, t.s FROM t JOIN dept d ON d.id = t.dept ORDER BY d.id`,
	`SELECT id, name, rank() OVER (PARTITION BY dept ORDER BY salary DESC NULLS LAST), sum(salary) OVER (ORDER BY id) FROM emp ORDER BY id`,
	`SELECT id, row_number() OVER (ORDER BY hired NULLS LAST, id), lag(name) OVER (ORDER BY id) FROM emp ORDER BY id`,
	`SELECT CAST(salary AS int), CAST(id AS text), CAST('42' AS bigint), CAST(1.5 AS double precision), round(salary) FROM emp ORDER BY id`,
	`SELECT position('b' IN name), substring(name FROM 2 FOR 1), trim(leading 'a' FROM name) FROM emp ORDER BY id`,
	`SELECT hired AT TIME ZONE 'UTC' IS NOT NULL FROM emp ORDER BY id`,
	`SELECT abs(a), greatest(a, b), least(a, b) FROM nums WHERE a IS NOT NULL ORDER BY a, b`,
	`SELECT 2147483647::bigint + 1, -2147483648::bigint - 1, 9223372036854775807, 1.5e10::bigint`,
	`SELECT id FROM emp WHERE salary BETWEEN 5000 AND 7000 ORDER BY id`,
	`SELECT id FROM emp WHERE NOT (dept = 1) ORDER BY id`,
	`SELECT dept, string_agg(name, ',' ORDER BY name) FROM emp GROUP BY dept ORDER BY dept NULLS LAST`,
	`SELECT count(*) FILTER (WHERE salary > 6000), bool_and(salary > 1000), bool_or(bonus > 50) FROM emp`,
	`SELECT v FROM (VALUES (3), (1), (2)) AS x(v) ORDER BY v`,
	`SELECT * FROM emp WHERE id = -1`,
}

// canon renders a value so that equal SQL values from pgx (binary or text),
// database/sql on DuckDB, and PostgreSQL compare equal: numbers by value.
func canon(v any) string {
	switch x := v.(type) {
	case nil:
		return "NULL"
	case int8, int16, int32, int64, int, uint8, uint16, uint32, uint64:
		return canonFloat(toFloat(x))
	case float32:
		return canonFloat(float64(x))
	case float64:
		return canonFloat(x)
	case *big.Int:
		f, _ := new(big.Float).SetInt(x).Float64()
		return canonFloat(f)
	case pgtype.Numeric:
		f, _ := x.Float64Value()
		return canonFloat(f.Float64)
	case time.Time:
		return x.UTC().Format("2006-01-02 15:04:05.999999")
	case []byte:
		return fmt.Sprintf("%x", x)
	case string:
		return x
	case bool:
		return strconv.FormatBool(x)
	case fmt.Stringer:
		s := x.String()
		if f, err := strconv.ParseFloat(s, 64); err == nil {
			return canonFloat(f)
		}
		return s
	}
	return fmt.Sprint(v)
}

func toFloat(v any) float64 {
	f, _ := strconv.ParseFloat(fmt.Sprint(v), 64)
	return f
}

func canonFloat(f float64) string {
	if f == math.Trunc(f) && math.Abs(f) < 1e15 {
		return strconv.FormatFloat(f, 'f', -1, 64)
	}
	return strconv.FormatFloat(f, 'g', 10, 64)
}

func pgxRows(t *testing.T, c *pgx.Conn, q string, mode pgx.QueryExecMode) ([]string, error) {
	rows, err := c.Query(context.Background(), q, mode)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		vals, err := rows.Values()
		if err != nil {
			return nil, err
		}
		parts := make([]string, len(vals))
		for i, v := range vals {
			parts[i] = canon(v)
		}
		out = append(out, strings.Join(parts, " | "))
	}
	return out, rows.Err()
}

func duckRows(db *sql.DB, q string) ([]string, error) {
	rows, err := db.Query(q)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var out []string
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
			parts[i] = canon(v)
		}
		out = append(out, strings.Join(parts, " | "))
	}
	return out, rows.Err()
}

// TestConformance runs the same queries through hopsql (extended protocol
// with binary results, and simple protocol with text results), on embedded
// DuckDB, and on PostgreSQL 15; all four must agree.
func TestConformance(t *testing.T) {
	srv := startServer(t)
	hop := srv.connect(t)
	ref := connectURL(t, referenceURL(t))
	ctx := context.Background()
	for _, tbl := range []string{"emp", "dept", "nums"} {
		ref.Exec(ctx, "DROP TABLE IF EXISTS "+tbl)
	}
	duck, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	defer duck.Close()
	duck.SetMaxOpenConns(1) // the setting below is per connection
	if _, err := duck.Exec("SET integer_division = true"); err != nil {
		t.Fatal(err)
	}
	for _, s := range conformanceSetup {
		mustExec(t, hop, s)
		mustExec(t, ref, s)
		if _, err := duck.Exec(s); err != nil {
			t.Fatalf("duckdb: %s: %v", s, err)
		}
	}
	t.Cleanup(func() {
		for _, tbl := range []string{"emp", "dept", "nums"} {
			ref.Exec(context.Background(), "DROP TABLE IF EXISTS "+tbl)
		}
	})
	for i, q := range conformanceQueries {
		t.Run(fmt.Sprintf("q%02d", i), func(t *testing.T) {
			want, err := pgxRows(t, ref, q, pgx.QueryExecModeCacheStatement)
			if err != nil {
				t.Fatalf("PostgreSQL: %s: %v", q, err)
			}
			bin, err := pgxRows(t, hop, q, pgx.QueryExecModeCacheStatement)
			if err != nil {
				t.Fatalf("hopsql: %s: %v", q, err)
			}
			text, err := pgxRows(t, hop, q, pgx.QueryExecModeSimpleProtocol)
			if err != nil {
				t.Fatalf("hopsql (simple): %s: %v", q, err)
			}
			emb, err := duckRows(duck, q)
			if err != nil {
				t.Fatalf("embedded DuckDB: %s: %v", q, err)
			}
			same := func(a, b []string) bool { return strings.Join(a, "\n") == strings.Join(b, "\n") }
			if !same(bin, emb) {
				t.Errorf("%s\nhopsql (binary):\n%s\nembedded DuckDB:\n%s", q, strings.Join(bin, "\n"), strings.Join(emb, "\n"))
			}
			if !same(bin, text) {
				t.Errorf("%s\nhopsql binary:\n%s\nhopsql text:\n%s", q, strings.Join(bin, "\n"), strings.Join(text, "\n"))
			}
			if !same(bin, want) {
				t.Errorf("%s\nhopsql:\n%s\nPostgreSQL 15:\n%s", q, strings.Join(bin, "\n"), strings.Join(want, "\n"))
			}
		})
	}
}
