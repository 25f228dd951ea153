package tests

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Text and CSV COPY stream through DuckDB's CSV reader. When the COPY is
// its transaction's only statement and the table checks nothing, the
// reader's rows go straight into the Parquet file the commit adds
// (read_csv over the FIFO); otherwise into the table's carrier. Each case
// runs the same COPY on hopsql and on PostgreSQL 15 and compares the
// rows, or the error (SQLSTATE, message and CONTEXT line), and checks the
// path hopsql took.

func TestCopyTextPaths(t *testing.T) {
	srv := startServer(t)
	c := srv.connect(t)
	ref := connectURL(t, referenceURL(t))
	ctx := context.Background()
	var many strings.Builder
	for i := 0; i < 100000; i++ {
		fmt.Fprintf(&many, "%d,r%d,%d.5\n", i, i, i%97)
	}
	const plain = "CREATE TABLE ct (a integer, b text, x double precision)"
	cases := []struct {
		name   string
		ddl    []string
		copy   string
		data   string
		tx     bool
		code   string // expected SQLSTATE, "" for success
		direct bool
		verify string
	}{
		{name: "csv, direct", ddl: []string{plain}, copy: "COPY ct FROM STDIN (FORMAT csv)",
			data: "1,x,1.5\n2,,\n3,\"quoted, \"\"comma\"\"\",-0\n4,\"line\nbreak\",1e300\n5,\"\",NaN\n", direct: true},
		{name: "csv with header, delimiter, null string, direct", ddl: []string{plain},
			copy: "COPY ct FROM STDIN (FORMAT csv, HEADER true, DELIMITER '|', NULL 'NA')",
			data: "a|b|x\n1|NA|NA\n2|\"NA\"|3\n", direct: true},
		{name: "csv, force_not_null with the empty null string, direct", ddl: []string{plain},
			copy: "COPY ct FROM STDIN (FORMAT csv, FORCE_NOT_NULL (b))", data: "1,,\n2,\"\",2\n", direct: true},
		{name: "csv end-of-data marker, direct", ddl: []string{plain}, copy: "COPY ct FROM STDIN (FORMAT csv)",
			data: "1,a,1\n\\.\n2,b,2\n", direct: true},
		{name: "text format, direct", ddl: []string{plain}, copy: "COPY ct FROM STDIN",
			data: "1\ttab\\there\t2.5\n2\t\\N\t\\N\n3\tback\\\\slash\t0\n", direct: true},
		{name: "column subset without default, direct", ddl: []string{plain}, copy: "COPY ct (b, a) FROM STDIN (FORMAT csv)",
			data: "x,1\ny,2\n", direct: true},
		{name: "many rows, direct", ddl: []string{plain}, copy: "COPY ct FROM STDIN (FORMAT csv)", data: many.String(), direct: true,
			verify: "SELECT count(*), sum(a), min(b), max(b), sum(x) FROM ct"},
		{name: "bad integer, direct", ddl: []string{plain}, copy: "COPY ct FROM STDIN (FORMAT csv)",
			data: "1,a,1\nzz,b,2\n", code: "22P02", direct: true},
		{name: "missing column, direct", ddl: []string{plain}, copy: "COPY ct FROM STDIN (FORMAT csv)",
			data: "1,a\n", code: "22P04", direct: true},
		{name: "extra column, direct", ddl: []string{plain}, copy: "COPY ct FROM STDIN (FORMAT csv)",
			data: "1,a,1,9\n", code: "22P04", direct: true},
		{name: "integer out of range, direct", ddl: []string{plain}, copy: "COPY ct FROM STDIN (FORMAT csv)",
			data: "1,a,1\n99999999999,b,2\n", code: "22003", direct: true},
		{name: "bad value after a header and a quoted line break, direct", ddl: []string{plain},
			copy: "COPY ct FROM STDIN (FORMAT csv, HEADER true)", data: "a,b,x\n1,\"two\nlines\",1\n2,b,2\n3,c,notanumber\n", code: "22P02", direct: true},
		{name: "a long bad line is shortened in CONTEXT, direct", ddl: []string{plain}, copy: "COPY ct FROM STDIN (FORMAT csv)",
			data: "1," + strings.Repeat("é", 80) + "\n", code: "22P04", direct: true},
		{name: "text format: bad value after a header, direct", ddl: []string{plain}, copy: "COPY ct FROM STDIN (HEADER true)",
			data: "a\tb\tx\n1\ta\t1\nzz\tb\t2\n", code: "22P02", direct: true},
		{name: "text format: missing column", ddl: []string{plain}, copy: "COPY ct FROM STDIN",
			data: "1\ta\t1\n2\tb\n", code: "22P04", direct: true},
		{name: "bad value into the carrier", ddl: []string{"CREATE TABLE ct (a integer NOT NULL, b text, x double precision)"},
			copy: "COPY ct FROM STDIN (FORMAT csv)", data: "1,a,1\n2,b,x\n", code: "22P02"},
		{name: "in a transaction block", ddl: []string{plain}, copy: "COPY ct FROM STDIN (FORMAT csv)",
			data: "1,a,1\n2,b,2\n", tx: true},
		{name: "column with default left out", ddl: []string{"CREATE TABLE ct (a integer, b text DEFAULT 'dflt', x double precision)"},
			copy: "COPY ct (a, x) FROM STDIN (FORMAT csv)", data: "1,1\n2,2\n"},
		{name: "NOT NULL violated", ddl: []string{"CREATE TABLE ct (a integer NOT NULL, b text, x double precision)"},
			copy: "COPY ct FROM STDIN (FORMAT csv)", data: "1,a,1\n,b,2\n", code: "23502"},
		{name: "duplicate of a committed key", ddl: []string{"CREATE TABLE ct (a integer PRIMARY KEY, b text, x double precision)", "INSERT INTO ct VALUES (7, 'x', 0)"},
			copy: "COPY ct FROM STDIN (FORMAT csv)", data: "6,a,1\n7,b,2\n", code: "23505"},
		{name: "direct after committed rows", ddl: []string{plain, "INSERT INTO ct VALUES (0, 'first', 0)"},
			copy: "COPY ct FROM STDIN (FORMAT csv)", data: "1,a,1\n", direct: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var got [2]string
			for k, conn := range []*pgx.Conn{c, ref} {
				conn.Exec(ctx, "ROLLBACK") // a failed case may have left its transaction open
				mustExec(t, conn, "DROP TABLE IF EXISTS ct")
				for _, q := range tc.ddl {
					mustExec(t, conn, q)
				}
				var direct0 int64
				if k == 0 {
					_, direct0 = counterPair(t, conn, "copies_arrow", "copies_direct")
				}
				if tc.tx {
					mustExec(t, conn, "BEGIN")
				}
				tag, err := conn.PgConn().CopyFrom(ctx, strings.NewReader(tc.data), tc.copy)
				if code := sqlstate(err); code != tc.code {
					t.Fatalf("server %d: %s: %v (SQLSTATE %q), want SQLSTATE %q", k, tc.copy, err, code, tc.code)
				}
				var msg string
				if pe := (*pgconn.PgError)(nil); errors.As(err, &pe) {
					// The message and its CONTEXT line say where the data went
					// wrong. Constraint violations (class 23) are found after
					// the data is read, where hopsql no longer knows the line:
					// their CONTEXT is a known difference (docs/sql-compat.md).
					msg = "ERROR: " + pe.Message
					if !strings.HasPrefix(pe.Code, "23") {
						msg += "\nCONTEXT: " + pe.Where
					}
				}
				if tc.tx {
					mustExec(t, conn, "COMMIT")
				}
				if k == 0 {
					if _, direct1 := counterPair(t, conn, "copies_arrow", "copies_direct"); (direct1-direct0 == 1) != tc.direct {
						t.Errorf("direct COPYs +%d, want direct %v", direct1-direct0, tc.direct)
					}
				}
				q := tc.verify
				if q == "" {
					q = "SELECT a, b, b IS NULL, x FROM ct ORDER BY a, b"
				}
				got[k] = msg + "\n" + tag.String() + "\n" + strings.Join(textRows(t, conn, q), "\n")
			}
			if got[0] != got[1] {
				t.Errorf("hopsql and PostgreSQL differ after the COPY\nhopsql:\n%s\npostgresql:\n%s", got[0], got[1])
			}
		})
	}
	ref.Exec(ctx, "DROP TABLE IF EXISTS ct")
}
