package engine

import (
	"bufio"
	"bytes"
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"math"
	"math/big"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/duckdb/duckdb-go/v2"
	pg_query "github.com/pganalyze/pg_query_go/v6"

	"github.com/hopsql/hopsql/catalog"
	"github.com/hopsql/hopsql/engine/pgerr"
)

// CopyFormat is a COPY data format.
type CopyFormat int

// COPY formats.
const (
	CopyText CopyFormat = iota
	CopyCSV
	CopyBinary
)

// CopyPlan is a parsed COPY … FROM STDIN or COPY … TO STDOUT.
type CopyPlan struct {
	From      bool
	Format    CopyFormat
	Delimiter string
	Null      string
	Header    bool
	Quote     string
	Escape    string
	// ForceQuote lists columns always quoted in CSV output; ForceQuoteAll quotes every column.
	ForceQuote    []string
	ForceQuoteAll bool
	ForceNotNull  []string
	// Fields are the columns being copied, in data order.
	Fields []Field

	target string // quoted relation name (COPY FROM)
	cols   []string
	// schema and table name the target.
	schema, table string
	query         *Statement // COPY TO: the query whose rows are sent
}

func quoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

// relationName renders a RangeVar for DuckDB, mapping PostgreSQL's public schema to main.
func relationName(rv *pg_query.RangeVar) string {
	var parts []string
	if rv.Catalogname != "" {
		parts = append(parts, quoteIdent(rv.Catalogname))
	}
	if rv.Schemaname != "" {
		schema := rv.Schemaname
		if schema == "public" {
			schema = "main"
		}
		parts = append(parts, quoteIdent(schema))
	}
	return strings.Join(append(parts, quoteIdent(rv.Relname)), ".")
}

func (s *Session) planCopy(ctx context.Context, c *pg_query.CopyStmt) (*CopyPlan, error) {
	p := &CopyPlan{From: c.IsFrom, Delimiter: "\t", Null: `\N`, Quote: `"`}
	for _, o := range c.Options {
		d := o.GetDefElem()
		if d == nil {
			continue
		}
		val := ""
		if d.Arg != nil {
			if v, err := constString(d.Arg); err == nil {
				val = v
			} else if sv := d.Arg.GetString_(); sv != nil {
				val = sv.Sval
			}
		}
		switch d.Defname {
		case "format":
			switch strings.ToLower(val) {
			case "text":
				p.Format = CopyText
			case "csv":
				p.Format, p.Delimiter, p.Null = CopyCSV, ",", ""
			case "binary":
				p.Format = CopyBinary
			default:
				return nil, pgerr.New(pgerr.InvalidParameterValue, "COPY format %q not recognized", val)
			}
		case "delimiter":
			if len(val) != 1 {
				return nil, pgerr.New(pgerr.FeatureNotSupported, "COPY delimiter must be a single one-byte character")
			}
			p.Delimiter = val
		case "null":
			p.Null = val
		case "header":
			p.Header = d.Arg == nil || boolWord(val) == "on" || strings.EqualFold(val, "match")
		case "quote":
			if len(val) != 1 {
				return nil, pgerr.New(pgerr.FeatureNotSupported, "COPY quote must be a single one-byte character")
			}
			p.Quote = val
		case "escape":
			if len(val) != 1 {
				return nil, pgerr.New(pgerr.FeatureNotSupported, "COPY escape must be a single one-byte character")
			}
			p.Escape = val
		case "force_quote":
			if d.Arg != nil && d.Arg.GetAStar() != nil {
				p.ForceQuoteAll = true
			}
			for _, n := range d.Arg.GetList().GetItems() {
				p.ForceQuote = append(p.ForceQuote, n.GetString_().GetSval())
			}
		case "force_not_null":
			for _, n := range d.Arg.GetList().GetItems() {
				p.ForceNotNull = append(p.ForceNotNull, n.GetString_().GetSval())
			}
		case "encoding":
			if _, err := checkEncoding(val); err != nil {
				return nil, pgerr.New(pgerr.FeatureNotSupported, "COPY encoding %q is not supported: hopsql speaks UTF8 only", val)
			}
		case "freeze", "force_null":
			// FREEZE is a storage hint; FORCE_NULL is accepted for compatibility.
		default:
			return nil, pgerr.New(pgerr.SyntaxError, "option %q not recognized", d.Defname)
		}
	}
	if p.Escape == "" {
		p.Escape = p.Quote
	}
	if p.Format != CopyCSV && p.Header && p.Format == CopyBinary {
		return nil, pgerr.New(pgerr.FeatureNotSupported, "cannot specify HEADER in BINARY mode")
	}
	for _, a := range c.Attlist {
		p.cols = append(p.cols, a.GetString_().GetSval())
	}
	var probe string
	switch {
	case c.Query != nil && c.IsFrom:
		return nil, pgerr.New(pgerr.SyntaxError, "COPY FROM does not accept a query")
	case c.Query != nil:
		raw := &pg_query.RawStmt{Stmt: c.Query}
		text, err := deparse(raw.Stmt)
		if err != nil {
			return nil, fmt.Errorf("deparse COPY query: %w", err)
		}
		q, err := s.prepare(ctx, text, raw, nil)
		if err != nil {
			return nil, err
		}
		p.query, p.Fields = q, q.Fields
		return p, nil
	case c.Relation != nil:
		p.target = relationName(c.Relation)
		p.schema, p.table = c.Relation.Schemaname, c.Relation.Relname
		if p.schema == "public" {
			p.schema = "main"
		}
		cols := "*"
		if len(p.cols) > 0 {
			q := make([]string, len(p.cols))
			for i, c := range p.cols {
				q[i] = quoteIdent(c)
			}
			cols = strings.Join(q, ", ")
			p.target += " (" + cols + ")"
		}
		probe = "SELECT " + cols + " FROM " + relationName(c.Relation)
	}
	q, err := s.prepare(ctx, probe, mustParseOne(probe), nil)
	if err != nil {
		return nil, err
	}
	p.Fields = q.Fields
	if !c.IsFrom {
		p.query = q
	} else {
		q.close()
	}
	return p, nil
}

func mustParseOne(sql string) *pg_query.RawStmt {
	t, err := pg_query.Parse(sql)
	if err != nil || len(t.Stmts) != 1 {
		return nil
	}
	return t.Stmts[0]
}

// CopyOut runs a COPY … TO STDOUT query, passing every row to sink.
func (s *Session) CopyOut(ctx context.Context, st *Statement, sink RowSink) (int64, error) {
	return s.CopyOutColumnar(ctx, st, sink, nil)
}

// CopyOutColumnar is CopyOut for a caller that also takes columnar batches
// (see ExecuteColumnar).
func (s *Session) CopyOutColumnar(ctx context.Context, st *Statement, sink RowSink, batch BatchSink) (int64, error) {
	if err := s.flushBuffer(ctx); err != nil {
		s.fail(ctx)
		return 0, pgerr.From(err)
	}
	p := &Portal{stmt: st.copy.query}
	var n int64
	var counted BatchSink
	if batch != nil {
		counted = func(rec arrow.RecordBatch, lo, hi int) error {
			n += int64(hi - lo)
			return batch(rec, lo, hi)
		}
	}
	_, err := s.ExecuteColumnar(ctx, p, 0, func(row []driver.Value) error {
		n++
		return sink(row)
	}, counted)
	p.close()
	if err != nil {
		if s.tx == txImplicit || s.tx == txBlock {
			s.fail(ctx)
		}
		return 0, pgerr.From(err)
	}
	return n, nil
}

// CopyIn is a running COPY … FROM STDIN. Feed it the client's data with
// Write (text and CSV) or WriteRow (binary, decoded by the wire layer), then
// call Finish, or Abort if the client gave up.
type CopyIn struct {
	s      *Session
	st     *Statement
	plan   *CopyPlan
	fifo   string
	conv   *textToCSV
	csvEnd *csvEnd // CSV data: stops at the end-of-data marker
	ownTx  bool
	count  int64
	row    []byte

	// The FIFO's write end opens only once DuckDB has opened the read end
	// (a blocking open), so no data can be written into a pipe nobody will
	// read, and closing it always means EOF to a reader that exists.
	opened chan struct{}
	w      *os.File
	bw     *bufio.Writer
	// done closes when DuckDB's COPY statement has returned; err is its error.
	done chan struct{}
	err  error
	// arrow, when set, takes binary rows decoded into its builders
	// (copyarrow.go); other binary COPYs are written to the FIFO as CSV.
	arrow *arrowCopy
	// failed: DuckDB stopped reading; further data is discarded until the
	// client finishes, and Finish reports DuckDB's error.
	failed bool
	// directTable, when set, is the table whose new Parquet file DuckDB
	// writes straight from the FIFO (copyDirect); direct is that file.
	directTable string
	direct      *catalog.NewFile
}

var copySeq atomic.Int64

// StartCopyIn begins a COPY FROM STDIN: DuckDB starts reading a FIFO that
// Write and WriteRow feed, so rows stream into DuckDB's CSV reader (parallel
// and typed by the target table) rather than one INSERT at a time.
func (s *Session) StartCopyIn(ctx context.Context, st *Statement) (*CopyIn, error) {
	if s.tx == txFailed {
		return nil, errAborted()
	}
	if s.txReadOnly {
		return nil, pgerr.New(pgerr.ReadOnlySQLTransaction, "cannot execute COPY FROM in a read-only transaction")
	}
	if err := s.flushFast(ctx); err != nil {
		return nil, err
	}
	if err := s.flushBuffer(ctx); err != nil {
		s.fail(ctx)
		return nil, pgerr.From(err)
	}
	plan := st.copy
	autocommit := s.tx == txIdle
	if st.storage != nil {
		// A table kept as Parquet: the rows land in its carrier inside the
		// storage transaction, which Sync commits.
		if err := s.syncViews(ctx); err != nil {
			return nil, err
		}
		if err := s.beforeStorageWrite(ctx, st, nil); err != nil {
			return nil, pgerr.From(err)
		}
	}
	if plan.Format == CopyBinary && arrowCopyable(plan.Fields) {
		table := ""
		if st.storage != nil {
			table = st.storage.table
		}
		c, err := s.startArrowCopy(ctx, plan, table, s.copyDirect(ctx, st, plan, autocommit))
		if c != nil {
			c.st = st
		}
		return c, err
	}
	var direct []catalog.Column
	if st.storage != nil {
		direct = s.copyDirect(ctx, st, plan, autocommit)
	}
	dir := filepath.Join(s.e.cfg.DataDir, "tmp")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("copy: %w", err)
	}
	fifo := filepath.Join(dir, fmt.Sprintf("copy-%d-%d.fifo", os.Getpid(), copySeq.Add(1)))
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		return nil, fmt.Errorf("copy: make fifo: %w", err)
	}
	c := &CopyIn{s: s, st: st, plan: plan, fifo: fifo, opened: make(chan struct{}), done: make(chan struct{})}
	if plan.Format == CopyText {
		c.conv = &textToCSV{delim: plan.Delimiter[0], null: plan.Null, skipHeader: plan.Header, fields: plan.Fields, table: plan.table}
	}
	if plan.Format == CopyCSV {
		c.csvEnd = newCSVEnd(plan.Quote, plan.Escape)
	}
	if s.tx == txIdle {
		// COPY must be all or nothing even if the client aborts midway.
		if err := s.exec(ctx, "BEGIN TRANSACTION"); err != nil {
			os.Remove(fifo)
			return nil, pgerr.From(err)
		}
		c.ownTx = true
	}
	go func() {
		w, err := os.OpenFile(fifo, os.O_WRONLY, 0)
		if err == nil {
			c.w, c.bw = w, bufio.NewWriterSize(w, 256<<10)
		}
		close(c.opened)
	}()
	sql := "COPY " + plan.target + " FROM " + quoteLiteral(fifo) + " (" + c.duckOptions() + ")"
	if direct != nil {
		c.directTable = st.storage.table
		sql = directCopySQL(plan, direct, c.readCSV(direct))
		s.e.counters.copiesDirect.Add(1)
	}
	rctx, finish := s.runContext(ctx)
	go func() {
		defer finish()
		if direct != nil {
			c.direct, c.count, c.err = s.writeParquet(rctx, sql)
		} else {
			r, err := s.conn.ExecContext(rctx, sql, nil)
			if err == nil {
				c.count, _ = r.RowsAffected()
			}
			c.err = err
		}
		close(c.done)
		// DuckDB may have failed before opening the FIFO: open the read end
		// ourselves so the writer's blocking open returns.
		select {
		case <-c.opened:
		default:
			if r, err := os.OpenFile(fifo, os.O_RDONLY|syscall.O_NONBLOCK, 0); err == nil {
				<-c.opened
				r.Close()
			}
		}
	}()
	return c, nil
}

// writer waits until the FIFO is open for writing; false means DuckDB
// ended before reading anything.
func (c *CopyIn) writer() bool {
	if c.failed {
		return false
	}
	select {
	case <-c.opened:
	case <-c.done:
		<-c.opened
	}
	if c.w == nil || isClosed(c.done) && c.err != nil {
		c.failed = true
	}
	return !c.failed
}

func isClosed(ch chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// readCSV is the read_csv call a direct COPY selects from: the same
// reader and options as DuckDB's COPY FROM, its columns c0, c1, … typed
// as the table's columns they fill, so values convert (and fail to) as
// they would going into the table.
func (c *CopyIn) readCSV(cols []catalog.Column) string {
	p := c.plan
	types := make([]string, len(p.Fields))
	for i, f := range p.Fields {
		for _, col := range cols {
			if col.Name == f.Name {
				types[i] = fmt.Sprintf("'c%d': %s", i, quoteLiteral(col.Type))
			}
		}
	}
	opts := []string{"columns = {" + strings.Join(types, ", ") + "}", "auto_detect = false", "allow_quoted_nulls = false"}
	if p.Format != CopyCSV {
		opts = append(opts, `delim = ',', quote = '"', escape = '"', header = false, nullstr = ''`)
	} else {
		opts = append(opts, "delim = "+quoteLiteral(p.Delimiter), "quote = "+quoteLiteral(p.Quote),
			"escape = "+quoteLiteral(p.Escape), "nullstr = "+quoteLiteral(p.Null), "header = "+strconv.FormatBool(p.Header))
		var force []string
		for _, n := range p.ForceNotNull {
			for i, f := range p.Fields {
				if f.Name == n {
					force = append(force, fmt.Sprintf("'c%d'", i))
				}
			}
		}
		if len(force) > 0 {
			opts = append(opts, "force_not_null = ["+strings.Join(force, ", ")+"]")
		}
	}
	return "read_csv(" + quoteLiteral(c.fifo) + ", " + strings.Join(opts, ", ") + ")"
}

func (c *CopyIn) duckOptions() string {
	p := c.plan
	if p.Format != CopyCSV {
		// Text and binary data arrive converted to this canonical CSV.
		return "FORMAT csv, DELIMITER ',', QUOTE '\"', ESCAPE '\"', HEADER false, NULL '', allow_quoted_nulls false, auto_detect false"
	}
	opts := []string{"FORMAT csv", "DELIMITER " + quoteLiteral(p.Delimiter), "QUOTE " + quoteLiteral(p.Quote),
		"ESCAPE " + quoteLiteral(p.Escape), "NULL " + quoteLiteral(p.Null), "allow_quoted_nulls false", "auto_detect false",
		"HEADER " + strconv.FormatBool(p.Header)}
	if len(p.ForceNotNull) > 0 {
		q := make([]string, len(p.ForceNotNull))
		for i, n := range p.ForceNotNull {
			q[i] = quoteIdent(n)
		}
		opts = append(opts, "FORCE_NOT_NULL ("+strings.Join(q, ", ")+")")
	}
	return strings.Join(opts, ", ")
}

// Write passes raw COPY data (text or CSV format) to DuckDB.
func (c *CopyIn) Write(p []byte) (int, error) {
	if !c.writer() {
		return len(p), nil
	}
	var err error
	switch {
	case c.conv != nil:
		err = c.conv.convert(c.bw, p)
	case c.csvEnd != nil:
		err = c.csvEnd.write(c.bw, p)
	default:
		_, err = c.bw.Write(p)
	}
	if err != nil {
		if c.conv != nil && c.conv.err != nil {
			return 0, c.conv.err
		}
		// A write error means DuckDB closed the pipe: it failed, and Finish
		// will say why.
		c.failed = true
	}
	return len(p), nil
}

// WriteRow passes one decoded row (binary COPY) to DuckDB.
func (c *CopyIn) WriteRow(vals []any) error {
	if c.arrow != nil {
		return pgerr.New(pgerr.InternalError, "binary COPY row written past its column builders")
	}
	if !c.writer() {
		return nil
	}
	c.row = c.row[:0]
	for i, v := range vals {
		if i > 0 {
			c.row = append(c.row, ',')
		}
		if v == nil {
			continue
		}
		c.row = append(c.row, '"')
		c.row = appendCSVQuoted(c.row, duckText(v))
		c.row = append(c.row, '"')
	}
	c.row = append(c.row, '\n')
	if _, err := c.bw.Write(c.row); err != nil {
		c.failed = true
	}
	return nil
}

// Finish ends the data and waits for DuckDB; it returns the row count.
func (c *CopyIn) Finish(ctx context.Context) (int64, error) {
	if c.arrow != nil {
		return c.finishArrow(ctx)
	}
	var werr error
	if c.writer() {
		if c.conv != nil {
			werr = c.conv.flush(c.bw)
		}
		if c.csvEnd != nil {
			werr = c.csvEnd.flush(c.bw)
		}
		if err := c.bw.Flush(); err != nil && werr == nil {
			werr = nil // DuckDB closed the pipe; its own error explains why
		}
	}
	c.closeWriter() // EOF for DuckDB
	<-c.done
	os.Remove(c.fifo)
	err := c.err
	if err == nil && werr != nil {
		err = werr
	}
	if err == nil && c.conv != nil && c.conv.err != nil {
		err = c.conv.err
	}
	if err != nil {
		if c.ownTx {
			c.s.exec(context.WithoutCancel(ctx), "ROLLBACK")
		} else {
			c.s.fail(ctx)
		}
		return 0, c.copyError(err)
	}
	if err := c.adoptDirect(ctx, c.directTable, c.direct); err != nil {
		return 0, err
	}
	if c.ownTx {
		if err := c.s.exec(context.WithoutCancel(ctx), "COMMIT"); err != nil {
			return 0, pgerr.From(err)
		}
	}
	if err := c.storageDone(ctx); err != nil {
		return 0, err
	}
	return c.count, nil
}

func (c *CopyIn) closeWriter() {
	<-c.opened
	if c.w != nil {
		c.w.Close()
	}
}

// Abort cancels the COPY after a CopyFail or a broken connection.
func (c *CopyIn) Abort(ctx context.Context, reason string) error {
	if c.arrow != nil {
		c.abortArrow(ctx)
		return pgerr.New(pgerr.QueryCanceled, "COPY from stdin failed: %s", reason)
	}
	c.s.Cancel()
	c.closeWriter()
	<-c.done
	os.Remove(c.fifo)
	if c.ownTx {
		c.s.exec(context.WithoutCancel(ctx), "ROLLBACK")
	} else {
		c.s.fail(ctx)
	}
	return pgerr.New(pgerr.QueryCanceled, "COPY from stdin failed: %s", reason)
}

// copyError turns the error of DuckDB's CSV reader into PostgreSQL's for
// the same bad line: its SQLSTATE and wording, and the CONTEXT line that
// names where the data went wrong (`COPY t, line 2, column a: "zz"`).
// DuckDB numbers records, the header included; PostgreSQL numbers
// physical lines, so a quoted line break counts (csvEnd.line maps them).
func (c *CopyIn) copyError(err error) error {
	pe := pgerr.From(err)
	full := pe.Message
	var de *duckdb.Error
	if errors.As(err, &de) {
		full = de.Msg
	}
	line, orig, located := csvErrorLine(full)
	switch {
	case located && c.conv != nil && c.plan.Header:
		line++ // the text-to-CSV conversion dropped the header line
	case located && c.csvEnd != nil:
		line = int(c.csvEnd.line(int64(line)))
	}
	// where is the CONTEXT for a whole line; the text format's lines reach
	// DuckDB converted, so only CSV data can be quoted as the client sent it.
	where := func() string {
		switch {
		case !located || c.plan.Format == CopyBinary:
			return ""
		case c.plan.Format == CopyCSV:
			return fmt.Sprintf("COPY %s, line %d: \"%s\"", c.plan.table, line, printout(orig))
		}
		return fmt.Sprintf("COPY %s, line %d", c.plan.table, line)
	}
	if _, after, ok := strings.Cut(full, "Expected Number of Columns"); ok {
		var want, found int
		_, serr := fmt.Sscanf(after, ": %d Found: %d", &want, &found)
		switch {
		case serr == nil && found > want:
			return pgerr.New(pgerr.BadCopyFileFormat, "extra data after last expected column").WithWhere(where())
		case serr == nil && found >= 0 && found < len(c.plan.Fields):
			return pgerr.New(pgerr.BadCopyFileFormat, "missing data for column %q", c.plan.Fields[found].Name).WithWhere(where())
		}
		return pgerr.New(pgerr.BadCopyFileFormat, "missing data for column").WithWhere(where())
	}
	// DuckDB: `CSV Error on Line: 2 … Error when converting column "a".
	// Could not convert string "x" to 'INTEGER'`; PostgreSQL: 22P02
	// invalid input syntax for type integer: "x" (22003 when the value is
	// a well-formed integer too large for the type).
	if _, rest, ok := strings.Cut(full, "Could not convert string "); ok {
		if val, typ, ok := strings.Cut(rest, " to '"); ok {
			typ, _, _ = strings.Cut(typ, "'")
			e := pgerr.New(pgerr.InvalidTextRepresentation, "invalid input syntax for type %s: %s", pgTypeWord(typ), val)
			if isIntegerType(typ) && integerLiteral(strings.Trim(val, `"`)) {
				e = pgerr.New(pgerr.NumericValueOutOfRange, "value %s is out of range for type %s", val, pgTypeWord(typ))
			}
			if located && c.plan.Format != CopyBinary {
				e.Where = fmt.Sprintf("COPY %s, line %d, column %s: \"%s\"", c.plan.table, line,
					c.columnName(convertingColumn(full)), printout(strings.Trim(val, `"`)))
			}
			return e
		}
	}
	if pe.Code == pgerr.InvalidParameterValue || pe.Code == pgerr.InternalError {
		pe.Code = pgerr.BadCopyFileFormat
	}
	return pe
}

// csvErrorLine finds the line number and the record's text in a DuckDB
// CSV reader error (`CSV Error on Line: 2\nOriginal Line: …\n…`).
func csvErrorLine(msg string) (line int, orig string, ok bool) {
	_, rest, found := strings.Cut(msg, "CSV Error on Line: ")
	if !found {
		return 0, "", false
	}
	if _, err := fmt.Sscanf(rest, "%d", &line); err != nil {
		return 0, "", false
	}
	if _, o, found := strings.Cut(rest, "\nOriginal Line: "); found {
		// A quoted value can hold line breaks: the record ends where
		// DuckDB's explanation begins.
		end := len(o)
		for _, next := range []string{"\nError when converting column", "\nExpected Number of Columns"} {
			if k := strings.Index(o, next); k >= 0 && k < end {
				end = k
			}
		}
		orig = o[:end]
	}
	return line, orig, true
}

// convertingColumn is the column a DuckDB conversion error names.
func convertingColumn(msg string) string {
	_, rest, ok := strings.Cut(msg, `Error when converting column "`)
	if !ok {
		return ""
	}
	name, _, _ := strings.Cut(rest, `"`)
	return name
}

// columnName maps the reader's column name back to the COPY's: a direct
// COPY reads its columns as c0, c1, ….
func (c *CopyIn) columnName(name string) string {
	if c.directTable != "" && strings.HasPrefix(name, "c") {
		if i, err := strconv.Atoi(name[1:]); err == nil && i >= 0 && i < len(c.plan.Fields) {
			return c.plan.Fields[i].Name
		}
	}
	return name
}

// printout shortens data quoted in a CONTEXT line as PostgreSQL does
// (limit_printout_length): at most 100 bytes, cut on a character
// boundary, then "...".
func printout(s string) string {
	const max = 100
	if len(s) <= max {
		return s
	}
	cut := max
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "..."
}

func isIntegerType(duck string) bool {
	switch strings.ToUpper(duck) {
	case "TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT":
		return true
	}
	return false
}

// integerLiteral: an optionally signed run of decimal digits (with the
// blanks PostgreSQL's integer input allows around it).
func integerLiteral(s string) bool {
	s = strings.TrimSpace(s)
	if s != "" && (s[0] == '+' || s[0] == '-') {
		s = s[1:]
	}
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// textToCSV converts PostgreSQL's COPY text format (backslash escapes, \N
// nulls) into CSV with every non-null value quoted, streaming across
// arbitrary chunk boundaries.
type textToCSV struct {
	// fields are the target columns: PostgreSQL checks a line's field
	// count before converting any value.
	fields     []Field
	delim      byte
	null       string
	skipHeader bool
	partial    []byte
	field      []byte
	out        []byte
	err        *pgerr.Error
	line       int
	table      string // the COPY's table, for CONTEXT lines
}

// countFields counts a text-format line's fields (escaped delimiters do not split).
func countFields(line []byte, delim byte) int {
	n := 1
	for i := 0; i < len(line); i++ {
		switch line[i] {
		case '\\':
			i++
		case delim:
			n++
		}
	}
	return n
}

func (t *textToCSV) convert(w *bufio.Writer, p []byte) error {
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			t.partial = append(t.partial, p...)
			return nil
		}
		var line []byte
		if len(t.partial) > 0 {
			t.partial = append(t.partial, p[:i]...)
			line = t.partial
		} else {
			line = p[:i]
		}
		p = p[i+1:]
		if err := t.emit(w, line); err != nil {
			return err
		}
		t.partial = t.partial[:0]
	}
	return nil
}

func (t *textToCSV) flush(w *bufio.Writer) error {
	if len(t.partial) > 0 {
		err := t.emit(w, t.partial)
		t.partial = t.partial[:0]
		return err
	}
	return nil
}

func (t *textToCSV) emit(w *bufio.Writer, line []byte) error {
	t.line++
	if len(line) > 0 && line[len(line)-1] == '\r' {
		line = line[:len(line)-1]
	}
	if t.skipHeader {
		t.skipHeader = false
		return nil
	}
	if string(line) == `\.` {
		return nil // end-of-data marker from old clients
	}
	if n := countFields(line, t.delim); n != len(t.fields) {
		if n > len(t.fields) {
			t.err = pgerr.New(pgerr.BadCopyFileFormat, "extra data after last expected column")
		} else {
			t.err = pgerr.New(pgerr.BadCopyFileFormat, "missing data for column %q", t.fields[n].Name)
		}
		t.err.Where = fmt.Sprintf("COPY %s, line %d: \"%s\"", t.table, t.line, printout(string(line)))
		return t.err
	}
	t.out = t.out[:0]
	start := 0
	first := true
	for i := 0; i <= len(line); i++ {
		if i < len(line) && line[i] == '\\' {
			i++ // the escaped byte can be the delimiter
			continue
		}
		if i < len(line) && line[i] != t.delim {
			continue
		}
		if !first {
			t.out = append(t.out, ',')
		}
		first = false
		raw := line[start:i]
		start = i + 1
		if string(raw) == t.null {
			continue // unquoted empty: NULL
		}
		val, err := unescapeText(t.field[:0], raw)
		if err != nil {
			t.err = pgerr.New(pgerr.BadCopyFileFormat, "%v", err).WithWhere(fmt.Sprintf("COPY %s, line %d: \"%s\"", t.table, t.line, printout(string(line))))
			return t.err
		}
		t.field = val
		t.out = append(t.out, '"')
		t.out = appendCSVQuoted(t.out, string(val))
		t.out = append(t.out, '"')
	}
	t.out = append(t.out, '\n')
	_, err := w.Write(t.out)
	return err
}

// unescapeText decodes COPY text escapes: \b \f \n \r \t \v \\, octal \NNN and hex \xHH.
func unescapeText(dst, src []byte) ([]byte, error) {
	for i := 0; i < len(src); i++ {
		c := src[i]
		if c != '\\' {
			dst = append(dst, c)
			continue
		}
		i++
		if i >= len(src) {
			return nil, errors.New("unterminated backslash escape at end of line")
		}
		switch c = src[i]; c {
		case 'b':
			dst = append(dst, '\b')
		case 'f':
			dst = append(dst, '\f')
		case 'n':
			dst = append(dst, '\n')
		case 'r':
			dst = append(dst, '\r')
		case 't':
			dst = append(dst, '\t')
		case 'v':
			dst = append(dst, '\v')
		case 'x':
			j := i + 1
			for j < len(src) && j < i+3 && isHex(src[j]) {
				j++
			}
			if j == i+1 {
				dst = append(dst, 'x')
				continue
			}
			v, _ := strconv.ParseUint(string(src[i+1:j]), 16, 8)
			dst = append(dst, byte(v))
			i = j - 1
		case '0', '1', '2', '3', '4', '5', '6', '7':
			j := i
			for j < len(src) && j < i+3 && src[j] >= '0' && src[j] <= '7' {
				j++
			}
			v, _ := strconv.ParseUint(string(src[i:j]), 8, 16)
			dst = append(dst, byte(v))
			i = j - 1
		default:
			dst = append(dst, c)
		}
	}
	return dst, nil
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func appendCSVQuoted(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if s[i] == '"' {
			dst = append(dst, '"')
		}
		dst = append(dst, s[i])
	}
	return dst
}

// duckText renders a decoded binary COPY value as text DuckDB casts back
// to the column's type exactly.
func duckText(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case []byte:
		var b strings.Builder
		for _, c := range x {
			fmt.Fprintf(&b, `\x%02X`, c)
		}
		return b.String()
	case bool:
		return strconv.FormatBool(x)
	case int16:
		return strconv.FormatInt(int64(x), 10)
	case int32:
		return strconv.FormatInt(int64(x), 10)
	case int64:
		return strconv.FormatInt(x, 10)
	case float32:
		return formatDuckFloat(float64(x), 32)
	case float64:
		return formatDuckFloat(x, 64)
	case *big.Int:
		return x.String()
	case time.Time:
		if x.Location() == time.UTC {
			return x.Format("2006-01-02 15:04:05.999999")
		}
		return x.Format("2006-01-02 15:04:05.999999-07:00")
	case duckdb.Interval:
		return fmt.Sprintf("%d months %d days %d microseconds", x.Months, x.Days, x.Micros)
	case duckdb.UUID:
		return x.String()
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			if e == nil {
				parts[i] = "NULL"
			} else {
				parts[i] = quoteLiteral(duckText(e))
			}
		}
		return "[" + strings.Join(parts, ", ") + "]"
	}
	return fmt.Sprint(v)
}

func formatDuckFloat(f float64, bits int) string {
	switch {
	case math.IsNaN(f):
		return "nan"
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	}
	return strconv.FormatFloat(f, 'g', -1, bits)
}

// pgTypeWord names a DuckDB type the way PostgreSQL's input errors do.
func pgTypeWord(duck string) string {
	switch strings.ToUpper(duck) {
	case "INTEGER", "INT32":
		return "integer"
	case "BIGINT", "INT64":
		return "bigint"
	case "SMALLINT", "INT16":
		return "smallint"
	case "DOUBLE":
		return "double precision"
	case "FLOAT":
		return "real"
	case "BOOLEAN":
		return "boolean"
	case "DATE":
		return "date"
	case "TIMESTAMP":
		return "timestamp"
	case "TIMESTAMP WITH TIME ZONE":
		return "timestamp with time zone"
	case "UUID":
		return "uuid"
	}
	if strings.HasPrefix(strings.ToUpper(duck), "DECIMAL") {
		return "numeric"
	}
	return strings.ToLower(duck)
}

// end finishes the COPY's own transaction, or fails the client's.
func (c *CopyIn) end(ctx context.Context, ok bool) error {
	ctx = context.WithoutCancel(ctx)
	switch {
	case c.ownTx && ok:
		if err := c.s.exec(ctx, "COMMIT"); err != nil {
			return pgerr.From(err)
		}
	case c.ownTx:
		c.s.exec(ctx, "ROLLBACK")
	case !ok:
		c.s.fail(ctx)
	}
	return nil
}

// storageDone checks a managed table's unique keys after its COPY.
func (c *CopyIn) storageDone(ctx context.Context) error {
	if c.st == nil || c.st.storage == nil {
		return nil
	}
	if err := c.s.afterStorageWrite(ctx, c.st); err != nil {
		c.s.fail(ctx)
		return pgerr.From(err)
	}
	return nil
}
