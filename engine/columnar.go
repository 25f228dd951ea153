package engine

import (
	"context"
	"database/sql/driver"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/hopsql/hopsql/engine/columnar"
)

// BatchSink receives rows [lo, hi) of one columnar batch of a result. The
// batch is valid only during the call.
type BatchSink func(rec arrow.RecordBatch, lo, hi int) error

// columnCursor is a portal's DuckDB result read as Arrow record batches,
// one per DuckDB data chunk: the cells reach the wire encoders straight
// from DuckDB's vectors, where the row interface would box each one in an
// interface value (most of the server's CPU on a large result).
type columnCursor struct {
	rr  array.RecordReader
	rec arrow.RecordBatch
	off int // next row of rec to send
	// cancel ends the reader's context: the Execute that is reading it was
	// cancelled (see sendColumnar).
	cancel context.CancelFunc
}

func newColumnCursor(rows driver.Rows) (*columnCursor, error) {
	// The reader outlives this Execute (a suspended portal resumes in a
	// later one), so its context is its own, cancelled from each Execute's.
	ctx, cancel := context.WithCancel(context.Background())
	rr, err := duckRecordReader(ctx, rows)
	if err != nil {
		cancel()
		return nil, err
	}
	return &columnCursor{rr: rr, cancel: cancel}, nil
}

func (c *columnCursor) close() {
	c.rr.Release()
	c.cancel()
}

// wantColumnar: whether this result is read as batches. Every column must
// be of a type whose batch form gives the same values as the row
// interface (columnar.Supported); constant statements keep rows for their
// cache; hopsql.columnar_results = off turns it off for the session.
func (s *Session) wantColumnar(st *Statement, rows driver.Rows) bool {
	if !columnarBuilt || st.constant {
		return false
	}
	if v, _ := s.set.get("hopsql.columnar_results"); v != "on" {
		return false
	}
	tn, ok := rows.(driver.RowsColumnTypeDatabaseTypeName)
	n := len(rows.Columns())
	if !ok || n == 0 || n != len(st.Fields) {
		return false
	}
	for i := 0; i < n; i++ {
		if !columnar.Supported(tn.ColumnTypeDatabaseTypeName(i)) {
			return false
		}
	}
	return true
}

// sendColumnar passes at most maxRows rows (0: all) of a columnar result
// to batch, or row by row to sink when the caller takes no batches.
func (s *Session) sendColumnar(ctx context.Context, p *Portal, maxRows int, sink RowSink, batch BatchSink) (Result, error) {
	rctx, done := s.runContext(ctx)
	defer done()
	c := p.cols
	stop := context.AfterFunc(rctx, c.cancel)
	defer stop()
	sent := 0
	for maxRows <= 0 || sent < maxRows {
		if c.rec == nil || c.off >= int(c.rec.NumRows()) {
			if !c.rr.Next() {
				err := c.rr.Err()
				if err == nil {
					p.finish(int64(sent))
					return Result{Tag: p.tag}, nil
				}
				p.close()
				if rctx.Err() != nil {
					err = rctx.Err() // a cancel or statement_timeout, not the reader's own
				}
				return Result{}, err
			}
			c.rec, c.off = c.rr.RecordBatch(), 0
			continue
		}
		hi := int(c.rec.NumRows())
		if maxRows > 0 {
			hi = min(hi, c.off+maxRows-sent)
		}
		if batch != nil {
			if err := batch(c.rec, c.off, hi); err != nil {
				return Result{}, err
			}
		} else {
			for i := c.off; i < hi; i++ {
				if err := columnar.Row(c.rec, i, p.row); err != nil {
					return Result{}, err
				}
				if err := sink(p.row); err != nil {
					return Result{}, err
				}
			}
		}
		sent += hi - c.off
		c.off = hi
	}
	return Result{Suspended: true}, nil
}
