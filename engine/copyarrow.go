package engine

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/hopsql/hopsql/catalog"
	"github.com/hopsql/hopsql/engine/columnar"
	"github.com/hopsql/hopsql/engine/pgerr"
	"github.com/hopsql/hopsql/storage"
)

// Binary COPY into columns of flat types travels to DuckDB as Arrow
// batches: the wire layer decodes each field straight into a column
// builder (no Go value per cell), and one INSERT … SELECT reads the
// batches as they fill, through a record reader registered as a
// temporary view. Other binary COPYs are re-encoded as CSV for DuckDB's
// reader (copy.go).

// copyBatchRows is how many rows a batch holds before it is handed over.
const copyBatchRows = 1 << 16

// arrowCopy is the Arrow side of a binary COPY.
type arrowCopy struct {
	bld  *array.RecordBuilder
	cols []array.Builder
	rows int // rows in bld
	// batches carries full batches to DuckDB's reader; closed at the end
	// of the data or when the COPY is abandoned.
	batches chan arrow.RecordBatch
	closed  bool
	view    string
	release func()
	// done closes when the INSERT has returned; err and count are its result.
	done  chan struct{}
	err   error
	count int64
	// direct: the batches go straight to a Parquet file (file), not into
	// the carrier (copyDirect); table is the table it is for.
	direct *catalog.NewFile
	table  string
}

var copyViewSeq atomic.Int64

// arrowCopyable: every column has an Arrow form DuckDB reads as its type.
func arrowCopyable(fields []Field) bool {
	for _, f := range fields {
		if _, ok := columnar.CopyType(f.Type.OID); !ok {
			return false
		}
	}
	return columnarBuilt && len(fields) > 0
}

// startArrowCopy begins a binary COPY through Arrow batches, in a
// transaction of its own when the session has none.
// direct, when not nil, are the columns of the table a direct COPY writes
// (copyDirect).
func (s *Session) startArrowCopy(ctx context.Context, plan *CopyPlan, table string, direct []catalog.Column) (*CopyIn, error) {
	fields := make([]arrow.Field, len(plan.Fields))
	for i, f := range plan.Fields {
		t, _ := columnar.CopyType(f.Type.OID)
		fields[i] = arrow.Field{Name: fmt.Sprintf("c%d", i), Type: t, Nullable: true}
	}
	schema := arrow.NewSchema(fields, nil)
	a := &arrowCopy{
		bld:     array.NewRecordBuilder(memory.DefaultAllocator, schema),
		batches: make(chan arrow.RecordBatch, 2),
		view:    fmt.Sprintf("hopsql_copy_%d", copyViewSeq.Add(1)),
		done:    make(chan struct{}),
	}
	a.cols = a.bld.Fields()
	c := &CopyIn{s: s, plan: plan, arrow: a}
	if s.tx == txIdle {
		if err := s.exec(ctx, "BEGIN TRANSACTION"); err != nil {
			a.bld.Release()
			return nil, pgerr.From(err)
		}
		c.ownTx = true
	}
	release, err := registerArrowView(s.conn, &batchReader{schema: schema, batches: a.batches}, a.view)
	if err != nil {
		a.bld.Release()
		c.end(ctx, false)
		return nil, fmt.Errorf("copy: %w", err)
	}
	a.release = release
	// target names the COPY's columns when it lists them.
	sql := "INSERT INTO " + plan.target + " SELECT * FROM " + quoteIdent(a.view)
	s.e.counters.copiesArrow.Add(1)
	if direct != nil {
		a.table = table
		sql = directCopySQL(plan, direct, quoteIdent(a.view))
		s.e.counters.copiesDirect.Add(1)
	}
	rctx, finish := s.runContext(ctx)
	go func() {
		defer finish()
		defer close(a.done)
		if direct != nil {
			f, n, err := s.writeParquet(rctx, sql)
			a.direct, a.count, a.err = f, n, err
			return
		}
		r, err := s.conn.ExecContext(rctx, sql, nil)
		if err == nil {
			a.count, _ = r.RowsAffected()
		}
		a.err = err
	}()
	return c, nil
}

// copyDirect returns the table's columns when a COPY may write its
// Parquet file straight from the data (binary COPY's Arrow batches, or
// DuckDB's CSV reader on the FIFO), as CREATE TABLE … AS does: the
// COPY is its transaction's only statement (alone, autocommit), and the
// rows need nothing the carrier would check or fill — no unique key, NOT
// NULL, CHECK or FOREIGN KEY constraint (varchar(n) and char(n) lengths
// are checked on the new file: afterStorageWrite), no default for a column the COPY
// leaves out, not a feature group. The carrier would only have held the
// rows until the commit copied them out again.
func (s *Session) copyDirect(ctx context.Context, st *Statement, plan *CopyPlan, autocommit bool) []catalog.Column {
	if !autocommit || !st.alone || st.storage == nil || st.storage.table == "" {
		return nil
	}
	name := st.storage.table
	t, ok := s.e.catalog.TableHead(s.db.name, "main", name)
	if !ok || t.Feature != nil || s.featureOf(name) != nil {
		return nil
	}
	ft, err := s.fastTableOf(ctx, name, t)
	if err != nil || ft.checked || len(ft.notNull) != len(t.Columns) {
		return nil
	}
	if keys, err := s.uniqueKeys(ctx, name); err != nil || len(keys) > 0 {
		return nil
	}
	for i, c := range t.Columns {
		copied := false
		for _, f := range plan.Fields {
			copied = copied || f.Name == c.Name
		}
		if ft.notNull[i] || ft.deflt[i] && !copied {
			return nil
		}
	}
	return t.Columns
}

// directCopySQL selects a direct COPY's rows as the table stores them:
// every column of the table, from the column the COPY fills it with (c0,
// c1, … of from, in the COPY's order) or NULL.
func directCopySQL(plan *CopyPlan, cols []catalog.Column, from string) string {
	exprs := make([]string, len(cols))
	for j, c := range cols {
		src := "NULL"
		for i, f := range plan.Fields {
			if f.Name == c.Name {
				src = fmt.Sprintf("c%d", i)
			}
		}
		exprs[j] = "CAST(" + src + " AS " + c.Type + ") AS " + quoteIdent(c.Name)
	}
	return "SELECT " + storage.StoredList(cols) + " FROM (SELECT " + strings.Join(exprs, ", ") + " FROM " + from + ") AS q"
}

// Builders are the column builders a binary COPY row is decoded into, one
// per COPY column; nil when this COPY takes rows through WriteRow.
func (c *CopyIn) Builders() []array.Builder {
	if c.arrow == nil {
		return nil
	}
	return c.arrow.cols
}

// EndRow counts a row decoded into Builders, handing a full batch over.
func (c *CopyIn) EndRow() error {
	a := c.arrow
	a.rows++
	if a.rows >= copyBatchRows {
		a.send()
	}
	return nil
}

// send hands the builders' rows to DuckDB's reader, unless the INSERT has
// already ended (it failed; Finish reports why).
func (a *arrowCopy) send() {
	if a.rows == 0 {
		return
	}
	rec := a.bld.NewRecordBatch()
	a.rows = 0
	select {
	case a.batches <- rec:
	case <-a.done:
		rec.Release()
	}
}

func (a *arrowCopy) closeBatches() {
	if !a.closed {
		a.closed = true
		close(a.batches)
	}
}

// finishArrow ends the data and waits for DuckDB's INSERT.
func (c *CopyIn) finishArrow(ctx context.Context) (int64, error) {
	a := c.arrow
	a.send()
	a.closeBatches()
	<-a.done
	c.dropArrowView(ctx)
	if a.err != nil {
		c.end(ctx, false)
		return 0, c.copyError(a.err)
	}
	if err := c.adoptDirect(ctx, a.table, a.direct); err != nil {
		return 0, err
	}
	if err := c.end(ctx, true); err != nil {
		return 0, err
	}
	if err := c.storageDone(ctx); err != nil {
		return 0, err
	}
	return a.count, nil
}

// adoptDirect makes a direct COPY's file (nil: no rows) part of the
// storage transaction, as CREATE TABLE … AS's is: the carrier holds
// nothing to write. table is "" when the COPY was not direct.
func (c *CopyIn) adoptDirect(ctx context.Context, table string, f *catalog.NewFile) error {
	if table == "" {
		return nil
	}
	p, err := c.s.pending(table)
	if err != nil {
		c.end(ctx, false)
		return err
	}
	p.direct, p.dirty = f, false
	return nil
}

// abortArrow stops the INSERT (whatever it wrote is rolled back by end).
func (c *CopyIn) abortArrow(ctx context.Context) {
	a := c.arrow
	c.s.Cancel()
	a.closeBatches()
	<-a.done
	c.dropArrowView(ctx)
	c.end(ctx, false)
}

func (c *CopyIn) dropArrowView(ctx context.Context) {
	a := c.arrow
	for rec := range a.batches { // batches DuckDB never took
		rec.Release()
	}
	c.s.exec(context.WithoutCancel(ctx), "DROP VIEW IF EXISTS "+quoteIdent(a.view))
	a.release()
	a.bld.Release()
}

// batchReader is the record reader DuckDB pulls a COPY's batches from.
type batchReader struct {
	schema  *arrow.Schema
	batches chan arrow.RecordBatch
	cur     arrow.RecordBatch
	refs    atomic.Int64
}

func (r *batchReader) Retain() { r.refs.Add(1) }

// Release drops the batch DuckDB read last once the stream is released.
func (r *batchReader) Release() {
	if r.refs.Add(-1) == 0 && r.cur != nil {
		r.cur.Release()
		r.cur = nil
	}
}

func (r *batchReader) Schema() *arrow.Schema          { return r.schema }
func (r *batchReader) Err() error                     { return nil }
func (r *batchReader) RecordBatch() arrow.RecordBatch { return r.cur }
func (r *batchReader) Record() arrow.RecordBatch      { return r.cur }

func (r *batchReader) Next() bool {
	if r.cur != nil {
		r.cur.Release()
		r.cur = nil
	}
	rec, ok := <-r.batches
	if !ok {
		return false
	}
	r.cur = rec
	return true
}
