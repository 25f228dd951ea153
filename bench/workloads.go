package main

import (
	"context"
	"database/sql"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
)

// The data set every bulk benchmark uses: row i (0-based) of table bigT is
// (i, x(i), 'row-<i>', 2020-01-01 + i seconds). It is generated on the fly
// in the client so that nothing but the wire and the server is measured.
const (
	bigT    = "bench_t"
	csvT    = "bench_csv"
	pkT     = "bench_pk"
	bigCols = "id bigint, x double precision, s text, ts timestamp"
)

var tsBase = time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)

// xOf spreads values over [0, 1000) with two decimals, exactly representable
// in CSV so both COPY formats load identical data.
func xOf(i int64) float64 { return float64((i*7919)%100000) / 100 }

// rowSource feeds pgx CopyFrom (binary COPY) with n generated rows.
type rowSource struct {
	i, n int64
	vals []any
}

func (r *rowSource) Next() bool { r.i++; return r.i <= r.n }
func (r *rowSource) Values() ([]any, error) {
	i := r.i - 1
	r.vals[0], r.vals[1], r.vals[2], r.vals[3] = i, xOf(i), "row-"+strconv.FormatInt(i, 10), tsBase.Add(time.Duration(i)*time.Second)
	return r.vals, nil
}
func (r *rowSource) Err() error { return nil }

func newRowSource(n int64) *rowSource { return &rowSource{n: n, vals: make([]any, 4)} }

// csvReader produces the same n rows as CSV text for COPY … (FORMAT csv).
type csvReader struct {
	i, n int64
	buf  []byte
	off  int
}

func (c *csvReader) Read(p []byte) (int, error) {
	if c.off == len(c.buf) {
		if c.i >= c.n {
			return 0, io.EOF
		}
		c.buf, c.off = c.buf[:0], 0
		// Refill in chunks of about 64 KiB: pgconn sends what Read returns
		// as CopyData messages.
		for c.i < c.n && len(c.buf) < 64<<10 {
			i := c.i
			c.buf = strconv.AppendInt(c.buf, i, 10)
			c.buf = append(c.buf, ',')
			c.buf = strconv.AppendFloat(c.buf, xOf(i), 'f', -1, 64)
			c.buf = append(c.buf, ",row-"...)
			c.buf = strconv.AppendInt(c.buf, i, 10)
			c.buf = append(c.buf, ',')
			c.buf = tsBase.Add(time.Duration(i)*time.Second).AppendFormat(c.buf, "2006-01-02 15:04:05")
			c.buf = append(c.buf, '\n')
			c.i++
		}
	}
	n := copy(p, c.buf[c.off:])
	c.off += n
	return n, nil
}

// binReader produces the same n rows in PostgreSQL's binary COPY format,
// as a bulk loader that writes the format itself would: the client's cost
// per row is a few stores, where pgx CopyFrom encodes each value through
// an interface (about 3 s of client CPU for 10M rows on the 2-core
// machine, more than the server's share).
type binReader struct {
	i, n int64
	buf  []byte
	off  int
	done bool
}

// pgEpochMicros: 2020-01-01 (tsBase) in microseconds since 2000-01-01,
// the binary timestamp's epoch.
var pgEpochMicros = tsBase.Sub(time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)).Microseconds()

func (c *binReader) Read(p []byte) (int, error) {
	if c.off == len(c.buf) {
		if c.done {
			return 0, io.EOF
		}
		c.buf, c.off = c.buf[:0], 0
		if c.i == 0 {
			c.buf = append(c.buf, "PGCOPY\n\xff\r\n\x00"...)
			c.buf = binary.BigEndian.AppendUint32(c.buf, 0) // flags
			c.buf = binary.BigEndian.AppendUint32(c.buf, 0) // header extension
		}
		for c.i < c.n && len(c.buf) < 64<<10 {
			i := c.i
			c.buf = binary.BigEndian.AppendUint16(c.buf, 4)
			c.buf = binary.BigEndian.AppendUint32(c.buf, 8)
			c.buf = binary.BigEndian.AppendUint64(c.buf, uint64(i))
			c.buf = binary.BigEndian.AppendUint32(c.buf, 8)
			c.buf = binary.BigEndian.AppendUint64(c.buf, math.Float64bits(xOf(i)))
			at := len(c.buf)
			c.buf = append(c.buf, 0, 0, 0, 0, 'r', 'o', 'w', '-')
			c.buf = strconv.AppendInt(c.buf, i, 10)
			binary.BigEndian.PutUint32(c.buf[at:], uint32(len(c.buf)-at-4))
			c.buf = binary.BigEndian.AppendUint32(c.buf, 8)
			c.buf = binary.BigEndian.AppendUint64(c.buf, uint64(pgEpochMicros+i*1_000_000))
			c.i++
		}
		if c.i == c.n {
			c.buf = binary.BigEndian.AppendUint16(c.buf, 0xffff) // trailer
			c.done = true
		}
	}
	n := copy(p, c.buf[c.off:])
	c.off += n
	return n, nil
}

// exec runs statements on a fresh connection.
func execAll(ctx context.Context, s *server, stmts ...string) error {
	conn, err := s.connect(ctx)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	for _, q := range stmts {
		if _, err := conn.Exec(ctx, q); err != nil {
			return fmt.Errorf("%s: %w", q, err)
		}
	}
	return nil
}

// --- (a) SELECT 1 round trips -------------------------------------------

// roundTrips runs `SELECT 1` in a loop on each of `clients` connections for
// d and returns the total round trips per second.
func roundTrips(ctx context.Context, s *server, clients int, mode pgx.QueryExecMode, d time.Duration) (float64, error) {
	conns := make([]*pgx.Conn, clients)
	defer func() {
		for _, c := range conns {
			if c != nil {
				c.Close(context.Background())
			}
		}
	}()
	for i := range conns {
		c, err := s.connect(ctx)
		if err != nil {
			return 0, err
		}
		conns[i] = c
		// Warm up: the first extended-protocol query prepares and caches.
		var v int
		if err := c.QueryRow(ctx, "SELECT 1", mode).Scan(&v); err != nil {
			return 0, fmt.Errorf("SELECT 1: %w", err)
		}
	}
	counts := make([]int64, clients)
	errs := make([]error, clients)
	var wg sync.WaitGroup
	start := time.Now()
	deadline := start.Add(d)
	for i, c := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var v int
			for time.Now().Before(deadline) {
				if err := c.QueryRow(ctx, "SELECT 1", mode).Scan(&v); err != nil {
					errs[i] = fmt.Errorf("SELECT 1: %w", err)
					return
				}
				counts[i]++
			}
		}()
	}
	wg.Wait()
	el := time.Since(start)
	for _, err := range errs {
		if err != nil {
			return 0, err
		}
	}
	var total int64
	for _, n := range counts {
		total += n
	}
	return float64(total) / el.Seconds(), nil
}

// duckRoundTrips runs a prepared `SELECT 1` on embedded DuckDB from
// `clients` goroutines for d: how fast DuckDB itself answers the statement,
// a bound for any server that sends every query through DuckDB.
func duckRoundTrips(ctx context.Context, db *sql.DB, clients int, d time.Duration) (float64, error) {
	db.SetMaxOpenConns(clients)
	db.SetMaxIdleConns(clients)
	counts := make([]int64, clients)
	errs := make([]error, clients)
	var wg sync.WaitGroup
	start := time.Now()
	deadline := start.Add(d)
	for i := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			conn, err := db.Conn(ctx)
			if err != nil {
				errs[i] = err
				return
			}
			defer conn.Close()
			st, err := conn.PrepareContext(ctx, "SELECT 1")
			if err != nil {
				errs[i] = err
				return
			}
			defer st.Close()
			var v int
			for time.Now().Before(deadline) {
				if err := st.QueryRowContext(ctx).Scan(&v); err != nil {
					errs[i] = fmt.Errorf("SELECT 1: %w", err)
					return
				}
				counts[i]++
			}
		}()
	}
	wg.Wait()
	el := time.Since(start)
	var total int64
	for i, n := range counts {
		if errs[i] != nil {
			return 0, errs[i]
		}
		total += n
	}
	return float64(total) / el.Seconds(), nil
}

// --- (b) primary-key point lookups ----------------------------------------

func loadPK(ctx context.Context, s *server, n int64) error {
	if err := execAll(ctx, s, "DROP TABLE IF EXISTS "+pkT,
		"CREATE TABLE "+pkT+" (id bigint PRIMARY KEY, x double precision, s text, ts timestamp)"); err != nil {
		return err
	}
	conn, err := s.connect(ctx)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	got, err := conn.CopyFrom(ctx, pgx.Identifier{pkT}, []string{"id", "x", "s", "ts"}, newRowSource(n))
	if err != nil {
		return fmt.Errorf("COPY %s FROM STDIN (binary, %d rows): %w", pkT, n, err)
	}
	if got != n {
		return fmt.Errorf("COPY %s loaded %d rows, want %d", pkT, got, n)
	}
	return nil
}

type lookupResult struct {
	perSec   float64
	p50, p99 time.Duration
}

// preparedConns opens n connections with sql prepared as name on each.
// The caller closes them (closeAll), also after an error.
func preparedConns(ctx context.Context, s *server, n int, name, sql string) ([]*pgx.Conn, error) {
	var conns []*pgx.Conn
	for i := 0; i < n; i++ {
		c, err := s.connect(ctx)
		if err != nil {
			return conns, err
		}
		conns = append(conns, c)
		if _, err := c.Prepare(ctx, name, sql); err != nil {
			return conns, fmt.Errorf("PREPARE %s: %w", sql, err)
		}
	}
	return conns, nil
}

func closeAll(conns []*pgx.Conn) {
	for _, c := range conns {
		c.Close(context.Background())
	}
}

const lookupSQL = "SELECT id, x, s, ts FROM " + pkT + " WHERE id = $1"

// lookupStyle is how a client sends its lookups.
type lookupStyle int

const (
	lookupPrepared lookupStyle = iota // prepared, autocommit (pgx)
	lookupLiteral                     // simple query with the key in the text, autocommit (psycopg2 with autocommit on)
	lookupInTx                        // prepared, 100 per transaction (drivers with autocommit off)
)

func (l lookupStyle) String() string {
	switch l {
	case lookupLiteral:
		return "simple query, key in the text (psycopg2)"
	case lookupInTx:
		return "prepared, 100 per transaction"
	}
	return "prepared, autocommit"
}

// pointLookups runs primary-key lookups of random ids on `clients`
// connections for d, sent as style says.
func pointLookups(ctx context.Context, s *server, n int64, clients int, d time.Duration, style lookupStyle) (lookupResult, error) {
	conns, err := preparedConns(ctx, s, clients, "lookup", lookupSQL)
	defer closeAll(conns)
	if err != nil {
		return lookupResult{}, err
	}
	lats := make([][]time.Duration, clients)
	errs := make([]error, clients)
	var wg sync.WaitGroup
	start := time.Now()
	deadline := start.Add(d)
	for i, c := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(i), 42))
			var (
				id, gotID int64
				x         float64
				str       string
				ts        time.Time
			)
			inTx := 0
			defer func() {
				if inTx > 0 {
					c.Exec(context.Background(), "COMMIT")
				}
			}()
			for {
				t0 := time.Now()
				if !t0.Before(deadline) {
					return
				}
				id = rng.Int64N(n)
				if style == lookupInTx && inTx == 0 {
					if _, err := c.Exec(ctx, "BEGIN"); err != nil {
						errs[i] = err
						return
					}
				}
				var row pgx.Row
				if style == lookupLiteral {
					row = c.QueryRow(ctx, lookupSQL, pgx.QueryExecModeSimpleProtocol, id)
				} else {
					row = c.QueryRow(ctx, "lookup", id)
				}
				if err := row.Scan(&gotID, &x, &str, &ts); err != nil {
					errs[i] = fmt.Errorf("%s with $1=%d: %w", lookupSQL, id, err)
					return
				}
				if style == lookupInTx {
					if inTx++; inTx == 100 {
						if _, err := c.Exec(ctx, "COMMIT"); err != nil {
							errs[i] = err
							return
						}
						inTx = 0
					}
				}
				lats[i] = append(lats[i], time.Since(t0))
				if gotID != id {
					errs[i] = fmt.Errorf("%s with $1=%d returned id %d", lookupSQL, id, gotID)
					return
				}
			}
		}()
	}
	wg.Wait()
	el := time.Since(start)
	for _, err := range errs {
		if err != nil {
			return lookupResult{}, err
		}
	}
	var all []time.Duration
	for _, l := range lats {
		all = append(all, l...)
	}
	if len(all) == 0 {
		return lookupResult{}, fmt.Errorf("no lookups completed")
	}
	slices.Sort(all)
	pct := func(p float64) time.Duration { return all[min(len(all)-1, int(p*float64(len(all))))] }
	return lookupResult{perSec: float64(len(all)) / el.Seconds(), p50: pct(0.50), p99: pct(0.99)}, nil
}

// --- (c) COPY FROM STDIN ---------------------------------------------------

// copyBinary loads n rows into a fresh table with pgx CopyFrom (binary COPY)
// and returns the elapsed time of the COPY alone.
func copyBinary(ctx context.Context, s *server, table string, n int64) (time.Duration, error) {
	if err := execAll(ctx, s, "DROP TABLE IF EXISTS "+table, "CREATE TABLE "+table+" ("+bigCols+")"); err != nil {
		return 0, err
	}
	conn, err := s.connect(ctx)
	if err != nil {
		return 0, err
	}
	defer conn.Close(context.Background())
	start := time.Now()
	got, err := conn.CopyFrom(ctx, pgx.Identifier{table}, []string{"id", "x", "s", "ts"}, newRowSource(n))
	el := time.Since(start)
	if err != nil {
		return 0, fmt.Errorf("COPY %s (id, x, s, ts) FROM STDIN (FORMAT binary), %d rows: %w", table, n, err)
	}
	if got != n {
		return 0, fmt.Errorf("binary COPY into %s reported %d rows, want %d", table, got, n)
	}
	return el, nil
}

// copyBinaryStream loads n rows with COPY … (FORMAT binary) fed by a
// binReader, and returns the elapsed time of the COPY alone.
func copyBinaryStream(ctx context.Context, s *server, table string, n int64) (time.Duration, error) {
	return copyStream(ctx, s, table, n, "binary", &binReader{n: n})
}

// copyCSV loads n rows into a fresh table with COPY … (FORMAT csv) fed by an
// io.Reader, and returns the elapsed time of the COPY alone.
func copyCSV(ctx context.Context, s *server, table string, n int64) (time.Duration, error) {
	return copyStream(ctx, s, table, n, "csv", &csvReader{n: n})
}

// copyStream loads n rows from data, in the COPY format named, into a
// fresh table and returns the elapsed time of the COPY alone.
func copyStream(ctx context.Context, s *server, table string, n int64, format string, data io.Reader) (time.Duration, error) {
	if err := execAll(ctx, s, "DROP TABLE IF EXISTS "+table, "CREATE TABLE "+table+" ("+bigCols+")"); err != nil {
		return 0, err
	}
	conn, err := s.connect(ctx)
	if err != nil {
		return 0, err
	}
	defer conn.Close(context.Background())
	q := "COPY " + table + " (id, x, s, ts) FROM STDIN (FORMAT " + format + ")"
	start := time.Now()
	tag, err := conn.PgConn().CopyFrom(ctx, data, q)
	el := time.Since(start)
	if err != nil {
		return 0, fmt.Errorf("%s, %d rows: %w", q, n, err)
	}
	if tag.RowsAffected() != n {
		return 0, fmt.Errorf("%s: command tag %q, want %d rows", q, tag.String(), n)
	}
	return el, nil
}

// checkCount confirms a loaded table holds n rows, so a silently short load
// cannot make later figures look good.
func checkCount(ctx context.Context, s *server, table string, n int64) error {
	conn, err := s.connect(ctx)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	var got int64
	q := "SELECT count(*) FROM " + table
	if err := conn.QueryRow(ctx, q).Scan(&got); err != nil {
		return fmt.Errorf("%s: %w", q, err)
	}
	if got != n {
		return fmt.Errorf("%s = %d, want %d", q, got, n)
	}
	return nil
}

// --- (d) fetching a large result ------------------------------------------

const fetchSQL = "SELECT id, x, s FROM " + bigT

// fetchPG reads every row of fetchSQL through pgx (extended protocol, binary
// results where pgx asks for them) and scans each into Go values; with raw it
// only touches each row's undecoded bytes (RawValues), which takes most of
// the client's decoding cost out of the figure.
func fetchPG(ctx context.Context, s *server, n int64, raw bool) (time.Duration, error) {
	conn, err := s.connect(ctx)
	if err != nil {
		return 0, err
	}
	defer conn.Close(context.Background())
	start := time.Now()
	rows, err := conn.Query(ctx, fetchSQL)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", fetchSQL, err)
	}
	var (
		id, got int64
		x       float64
		str     string
	)
	for rows.Next() {
		if raw {
			if len(rows.RawValues()) != 3 {
				rows.Close()
				return 0, fmt.Errorf("%s: row %d has %d columns, want 3", fetchSQL, got, len(rows.RawValues()))
			}
			got++
			continue
		}
		if err := rows.Scan(&id, &x, &str); err != nil {
			rows.Close()
			return 0, fmt.Errorf("%s: scan row %d: %w", fetchSQL, got, err)
		}
		got++
	}
	rows.Close()
	el := time.Since(start)
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("%s: %w", fetchSQL, err)
	}
	if got != n {
		return 0, fmt.Errorf("%s returned %d rows, want %d", fetchSQL, got, n)
	}
	return el, nil
}

// resultFormats says which wire format (text or binary) each column of
// fetchSQL arrives in, so the results show the fetch really was binary.
func resultFormats(ctx context.Context, s *server) string {
	conn, err := s.connect(ctx)
	if err != nil {
		return "error: " + err.Error()
	}
	defer conn.Close(context.Background())
	rows, err := conn.Query(ctx, fetchSQL+" LIMIT 1")
	if err != nil {
		return "error: " + err.Error()
	}
	defer rows.Close()
	var parts []string
	for _, fd := range rows.FieldDescriptions() {
		f := "text"
		if fd.Format == pgx.BinaryFormatCode {
			f = "binary"
		}
		parts = append(parts, fmt.Sprintf("%s (oid %d) %s", fd.Name, fd.DataTypeOID, f))
	}
	return strings.Join(parts, ", ")
}

func fetchDuck(ctx context.Context, db *sql.DB, n int64) (time.Duration, error) {
	start := time.Now()
	rows, err := db.QueryContext(ctx, fetchSQL)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", fetchSQL, err)
	}
	defer rows.Close()
	var (
		id, got int64
		x       float64
		str     string
	)
	for rows.Next() {
		if err := rows.Scan(&id, &x, &str); err != nil {
			return 0, fmt.Errorf("%s: scan: %w", fetchSQL, err)
		}
		got++
	}
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("%s: %w", fetchSQL, err)
	}
	el := time.Since(start)
	if got != n {
		return 0, fmt.Errorf("%s returned %d rows, want %d", fetchSQL, got, n)
	}
	return el, nil
}

// --- (e) group-by aggregate -------------------------------------------------

const aggSQL = "SELECT id % 1000 AS k, count(*), sum(x), avg(id) FROM " + bigT + " GROUP BY 1"

// aggGroups is how many groups aggSQL must return for n rows.
func aggGroups(n int64) int64 { return min(n, 1000) }

func aggPG(ctx context.Context, s *server, n int64) (time.Duration, error) {
	conn, err := s.connect(ctx)
	if err != nil {
		return 0, err
	}
	defer conn.Close(context.Background())
	start := time.Now()
	rows, err := conn.Query(ctx, aggSQL)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", aggSQL, err)
	}
	var got int64
	for rows.Next() {
		// Values decodes whatever types the server chose (avg is numeric in
		// PostgreSQL, double in DuckDB) without the bench caring.
		if _, err := rows.Values(); err != nil {
			rows.Close()
			return 0, fmt.Errorf("%s: %w", aggSQL, err)
		}
		got++
	}
	rows.Close()
	el := time.Since(start)
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("%s: %w", aggSQL, err)
	}
	if got != aggGroups(n) {
		return 0, fmt.Errorf("%s returned %d groups, want %d", aggSQL, got, aggGroups(n))
	}
	return el, nil
}

func aggDuck(ctx context.Context, db *sql.DB, n int64) (time.Duration, error) {
	start := time.Now()
	rows, err := db.QueryContext(ctx, aggSQL)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", aggSQL, err)
	}
	defer rows.Close()
	var (
		k, cnt int64
		sum    float64
		avg    float64
		got    int64
	)
	for rows.Next() {
		if err := rows.Scan(&k, &cnt, &sum, &avg); err != nil {
			return 0, fmt.Errorf("%s: %w", aggSQL, err)
		}
		got++
	}
	if err := rows.Err(); err != nil {
		return 0, err
	}
	el := time.Since(start)
	if got != aggGroups(n) {
		return 0, fmt.Errorf("%s returned %d groups, want %d", aggSQL, got, aggGroups(n))
	}
	return el, nil
}

// medianOf runs f once to warm caches, then runs times more and returns the
// median elapsed time.
func medianOf(times int, f func() (time.Duration, error)) (time.Duration, []time.Duration, error) {
	if _, err := f(); err != nil {
		return 0, nil, err
	}
	var ds []time.Duration
	for range times {
		d, err := f()
		if err != nil {
			return 0, ds, err
		}
		ds = append(ds, d)
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2], ds, nil
}
