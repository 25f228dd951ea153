package engine

import (
	"context"
	"database/sql/driver"
	"fmt"
	"strings"
	"time"

	"github.com/duckdb/duckdb-go/v2"

	"github.com/hopsql/hopsql/catalog"
	"github.com/hopsql/hopsql/storage"
)

// The small-write path (storage/DESIGN.md): a commit that adds a few rows
// to a table does not run DuckDB's Parquet writer and fsync a block for
// them. It reads the carrier's rows as text with one prepared statement
// and puts them, as a JSON-lines file, inline in the catalog entry that
// commits them; the Raft log's fsync is then the commit's only one.
// Compaction later merges such files into Parquet, and maintenance moves
// the bytes of those only history still uses out of the catalog.

// internalStmt is a statement the engine runs for itself, prepared once.
type internalStmt struct {
	stmt *duckdb.Stmt
	gen  uint64 // ddlGen when prepared: DDL anywhere may change what it binds
}

// queryInternal runs one of the engine's own queries through a prepared
// statement kept on the session (DuckDB spends most of a small query's
// time binding it).
func (s *Session) queryInternal(ctx context.Context, sql string) (driver.Rows, error) {
	is, err := s.internalStmt(ctx, sql)
	if err != nil {
		return nil, err
	}
	return is.stmt.QueryContext(ctx, nil)
}

// execInternal is queryInternal for statements without results.
func (s *Session) execInternal(ctx context.Context, sql string) error {
	is, err := s.internalStmt(ctx, sql)
	if err != nil {
		return err
	}
	_, err = is.stmt.ExecContext(ctx, nil)
	return err
}

func (s *Session) internalStmt(ctx context.Context, sql string) (*internalStmt, error) {
	gen := s.e.ddlGen.Load()
	is := s.internal[sql]
	if is == nil || is.gen != gen {
		if is != nil {
			is.stmt.Close()
			delete(s.internal, sql)
		}
		if len(s.internal) >= 64 {
			s.closeInternal()
		}
		ds, err := s.conn.PrepareContext(ctx, sql)
		if err != nil {
			return nil, err
		}
		is = &internalStmt{stmt: ds.(*duckdb.Stmt), gen: gen}
		if s.internal == nil {
			s.internal = map[string]*internalStmt{}
		}
		s.internal[sql] = is
	}
	return is, nil
}

func (s *Session) closeInternal() {
	for k, is := range s.internal {
		is.stmt.Close()
		delete(s.internal, k)
	}
}

// carrierText reads up to limit rows of a carrier as the text form of
// cols (nil for NULL). more reports that there were more rows than limit.
func (s *Session) carrierText(ctx context.Context, name string, cols []catalog.Column, limit int) (rows [][]*string, more bool, err error) {
	// Counted first: DuckDB materialises a prepared statement's whole
	// result, and a LIMIT costs it a millisecond here.
	r, err := s.queryInternal(ctx, "SELECT count(*) FROM "+s.carrierName(name))
	if err != nil {
		return nil, false, fmt.Errorf("count new rows of %q: %w", name, err)
	}
	n := make([]driver.Value, 1)
	err = r.Next(n)
	r.Close()
	if err != nil {
		return nil, false, fmt.Errorf("count new rows of %q: %w", name, err)
	}
	if c, _ := n[0].(int64); c > int64(limit) {
		return nil, true, nil
	}
	sel := make([]string, len(cols))
	for i, c := range cols {
		sel[i] = storage.TextExpr(c, quoteIdent(c.Name))
	}
	r, err = s.queryInternal(ctx, "SELECT "+strings.Join(sel, ", ")+" FROM "+s.carrierName(name))
	if err != nil {
		return nil, false, fmt.Errorf("read new rows of %q: %w", name, err)
	}
	defer r.Close()
	vals := make([]driver.Value, len(cols))
	for r.Next(vals) == nil {
		row := make([]*string, len(cols))
		for i, v := range vals {
			if v != nil {
				t := fmt.Sprint(v)
				if str, ok := v.(string); ok {
					t = str
				}
				row[i] = &t
			}
		}
		rows = append(rows, row)
	}
	return rows, false, nil
}

// smallCommitOK reports whether a table's rows may be written in the JSON
// format: every column type has an exact text form.
func smallCommitOK(cols []catalog.Column) bool {
	for _, c := range cols {
		if !storage.TextExact(c.Type) {
			return false
		}
	}
	return len(cols) > 0
}

// writeSmall writes a carrier's rows as an inline JSON-lines file when they
// are few and small enough. done is false when the Parquet path must run;
// f is nil (done) when the carrier is empty.
func (s *Session) writeSmall(ctx context.Context, name string, cols []catalog.Column) (f *catalog.NewFile, done bool, err error) {
	limit := s.e.cfg.SmallCommitRows
	if limit <= 0 || !smallCommitOK(cols) {
		return nil, false, nil
	}
	rows, more, err := s.carrierText(ctx, name, cols, limit)
	if err != nil || more {
		return nil, false, err
	}
	if len(rows) == 0 {
		return nil, true, nil
	}
	var buf []byte
	for _, r := range rows {
		buf = storage.EncodeJSONRow(buf, cols, r)
		if len(buf) > catalog.InlineMax {
			return nil, false, nil
		}
	}
	file := fmt.Sprintf("%019d-%s%s", time.Now().UnixNano(), catalog.NewRequestID()[:12], storage.JSONExt)
	return &catalog.NewFile{Name: file, Rows: int64(len(rows)), Inline: buf}, true, nil
}
