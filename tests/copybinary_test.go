package tests

import (
	"context"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
)

// Binary COPY into columns of flat types reaches DuckDB as Arrow batches
// (other rows as CSV), and, when it is its transaction's only statement
// and the table checks nothing, is written straight to a Parquet file
// (engine/copyarrow.go).
// Each case runs the same COPY on hopsql and on PostgreSQL 15 and compares
// the table's rows, or the error's SQLSTATE, and the path taken.

func TestCopyBinaryPaths(t *testing.T) {
	srv := startServer(t)
	c := srv.connect(t)
	ref := connectURL(t, referenceURL(t))
	ctx := context.Background()
	at := time.Date(2024, 2, 29, 12, 34, 56, 789000000, time.UTC)
	allCols := []string{"b", "i2", "i4", "i8", "f4", "f8", "t", "v", "d", "ts", "tz"}
	allRows := [][]any{
		{true, int16(-32768), int32(math.MinInt32), int64(math.MinInt64), float32(math.Inf(1)), math.NaN(), "", "v", at, at, at},
		{false, int16(32767), int32(math.MaxInt32), int64(math.MaxInt64), float32(-0.0), math.Inf(-1), "é€𝄞 \"q\" \\ x", "a longer varchar",
			pgtype.Date{InfinityModifier: pgtype.Infinity, Valid: true},
			pgtype.Timestamp{InfinityModifier: pgtype.NegativeInfinity, Valid: true},
			pgtype.Timestamptz{InfinityModifier: pgtype.Infinity, Valid: true}},
		{nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil},
		{true, int16(1), int32(2), int64(3), float32(1.5), 4.9e-324, "x", "y",
			time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(1899, 12, 31, 23, 59, 59, 999999000, time.UTC),
			time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC)},
	}
	const flat = "CREATE TABLE cb (b boolean, i2 smallint, i4 integer, i8 bigint, f4 real, f8 double precision, t text, v varchar, d date, ts timestamp, tz timestamptz)"
	// A varchar(n) column has its length checked on the direct file.
	const flatLimited = "CREATE TABLE cb (b boolean, i2 smallint, i4 integer, i8 bigint, f4 real, f8 double precision, t text, v varchar(20), d date, ts timestamp, tz timestamptz)"
	many := make([][]any, 70000) // more than one batch
	for i := range many {
		many[i] = []any{int64(i), fmt.Sprintf("r%d", i)}
	}
	cases := []struct {
		name      string
		ddl       []string
		cols      []string
		rows      [][]any
		tx        bool   // inside BEGIN … COMMIT
		code      string // expected SQLSTATE, "" for success
		arrow     bool
		direct    bool
		verifySQL string
	}{
		{name: "every flat type, direct", ddl: []string{flat}, cols: allCols, rows: allRows, arrow: true, direct: true},
		{name: "every flat type, a length to check, direct", ddl: []string{flatLimited}, cols: allCols, rows: allRows, arrow: true, direct: true},
		{name: "in a transaction block", ddl: []string{flat}, cols: allCols, rows: allRows, tx: true, arrow: true},
		{name: "many batches, direct", ddl: []string{"CREATE TABLE cb (i8 bigint, t text)"}, cols: []string{"i8", "t"}, rows: many, arrow: true, direct: true,
			verifySQL: "SELECT count(*), sum(i8), min(t), max(t) FROM cb"},
		{name: "omitted column without default, direct", ddl: []string{"CREATE TABLE cb (i8 bigint, t text, extra integer)"},
			cols: []string{"t", "i8"}, rows: [][]any{{"a", int64(1)}, {"b", nil}}, arrow: true, direct: true},
		{name: "omitted column with default", ddl: []string{"CREATE TABLE cb (i8 bigint, t text, extra integer DEFAULT 42)"},
			cols: []string{"i8", "t"}, rows: [][]any{{int64(1), "a"}, {int64(2), nil}}, arrow: true},
		{name: "NOT NULL violated", ddl: []string{"CREATE TABLE cb (i8 bigint NOT NULL, t text)"},
			cols: []string{"i8", "t"}, rows: [][]any{{int64(1), "a"}, {nil, "b"}}, code: "23502", arrow: true},
		{name: "CHECK violated", ddl: []string{"CREATE TABLE cb (i8 bigint CHECK (i8 > 0), t text)"},
			cols: []string{"i8", "t"}, rows: [][]any{{int64(1), "a"}, {int64(-1), "b"}}, code: "23514", arrow: true},
		{name: "duplicate key in the data", ddl: []string{"CREATE TABLE cb (i8 bigint PRIMARY KEY, t text)"},
			cols: []string{"i8", "t"}, rows: [][]any{{int64(1), "a"}, {int64(1), "b"}}, code: "23505", arrow: true},
		{name: "duplicate of a committed key", ddl: []string{"CREATE TABLE cb (i8 bigint PRIMARY KEY, t text)", "INSERT INTO cb VALUES (7, 'x')"},
			cols: []string{"i8", "t"}, rows: [][]any{{int64(6), "a"}, {int64(7), "b"}}, code: "23505", arrow: true},
		{name: "keyed, no conflict", ddl: []string{"CREATE TABLE cb (i8 bigint PRIMARY KEY, t text)", "INSERT INTO cb VALUES (7, 'x')"},
			cols: []string{"i8", "t"}, rows: [][]any{{int64(6), "a"}, {int64(8), "b"}}, arrow: true},
		{name: "numeric column: rows as CSV, direct", ddl: []string{"CREATE TABLE cb (i8 bigint, n numeric(10,2))"},
			cols: []string{"i8", "n"}, rows: [][]any{{int64(1), "12.50"}, {int64(2), nil}}, direct: true},
		{name: "numeric column after committed rows", ddl: []string{"CREATE TABLE cb (i8 bigint PRIMARY KEY, n numeric(10,2))", "INSERT INTO cb VALUES (0, 1.25)"},
			cols: []string{"i8", "n"}, rows: [][]any{{int64(1), "12.50"}, {int64(0), nil}}, code: "23505"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var got [2]string
			for k, conn := range []*pgx.Conn{c, ref} {
				conn.Exec(ctx, "ROLLBACK") // a failed case may have left its transaction open
				mustExec(t, conn, "DROP TABLE IF EXISTS cb")
				for _, q := range tc.ddl {
					mustExec(t, conn, q)
				}
				arrow0, direct0 := int64(0), int64(0)
				if k == 0 {
					arrow0, direct0 = counterPair(t, conn, "copies_arrow", "copies_direct")
				}
				if tc.tx {
					mustExec(t, conn, "BEGIN")
				}
				n, err := conn.CopyFrom(ctx, pgx.Identifier{"cb"}, tc.cols, pgx.CopyFromRows(tc.rows))
				if code := sqlstate(err); code != tc.code {
					t.Fatalf("server %d: COPY: %v (SQLSTATE %q), want SQLSTATE %q", k, err, code, tc.code)
				}
				if err != nil && tc.tx {
					mustExec(t, conn, "ROLLBACK")
				}
				if tc.tx && err == nil {
					// The rows are visible inside the transaction before it commits.
					var inTx int64
					if err := conn.QueryRow(ctx, "SELECT count(*) FROM cb").Scan(&inTx); err != nil || inTx != int64(len(tc.rows)) {
						t.Fatalf("server %d: count inside the transaction = %d, %v", k, inTx, err)
					}
					mustExec(t, conn, "COMMIT")
				}
				if tc.code == "" && n != int64(len(tc.rows)) {
					t.Fatalf("server %d: COPY reported %d rows, want %d", k, n, len(tc.rows))
				}
				if k == 0 {
					arrow1, direct1 := counterPair(t, conn, "copies_arrow", "copies_direct")
					// A direct COPY is direct in any build: as Arrow batches
					// where the build reads Arrow, else as CSV.
					wantArrow, wantDirect := columnarBuilt && tc.arrow, tc.direct
					if (arrow1-arrow0 == 1) != wantArrow || (direct1-direct0 == 1) != wantDirect {
						t.Errorf("paths: arrow +%d, direct +%d; want arrow %v, direct %v", arrow1-arrow0, direct1-direct0, wantArrow, wantDirect)
					}
				}
				q := tc.verifySQL
				if q == "" {
					q = "SELECT * FROM cb ORDER BY 1, 2"
				}
				got[k] = strings.Join(textRows(t, conn, q), "\n")
			}
			if got[0] != got[1] {
				t.Errorf("hopsql and PostgreSQL differ after the COPY\nhopsql:\n%s\npostgresql:\n%s", got[0], got[1])
			}
		})
	}
	ref.Exec(ctx, "DROP TABLE IF EXISTS cb")
}
