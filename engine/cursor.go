package engine

import (
	"context"
	"database/sql/driver"
	"math"

	pg_query "github.com/pganalyze/pg_query_go/v6"

	"github.com/hopsql/hopsql/engine/pgerr"
)

// SQL cursors (DECLARE, FETCH, MOVE, CLOSE) are portals with names, as in
// PostgreSQL: they share the namespace of protocol-level portals, end with
// their transaction unless declared WITH HOLD, and FETCH reads them with a
// row limit. DuckDB results are materialised, so a held cursor survives
// COMMIT unchanged. Only forward fetching is supported.

// cursorOptHold is PostgreSQL's CURSOR_OPT_HOLD bit in DeclareCursorStmt.Options.
const cursorOptHold = 0x0020

func (s *Session) prepareDeclare(ctx context.Context, st *Statement, d *pg_query.DeclareCursorStmt) error {
	raw := &pg_query.RawStmt{Stmt: d.Query}
	text, err := deparse(d.Query)
	if err != nil {
		return err
	}
	q, err := s.prepare(ctx, text, raw, nil)
	if err != nil {
		return err
	}
	if q.Fields == nil {
		return pgerr.New(pgerr.InvalidCursorState, "cursor %q does not return rows", d.Portalname)
	}
	st.cursor = q
	return nil
}

func (s *Session) prepareFetch(st *Statement, f *pg_query.FetchStmt) error {
	p, ok := s.portals[f.Portalname]
	if !ok {
		return pgerr.New(pgerr.InvalidCursorName, "cursor %q does not exist", f.Portalname)
	}
	if f.Direction != pg_query.FetchDirection_FETCH_FORWARD || f.HowMany < 0 {
		return pgerr.New(pgerr.FeatureNotSupported, "cursors fetch forward only")
	}
	if !f.Ismove {
		st.Fields = p.stmt.Fields
	}
	return nil
}

func (s *Session) execDeclare(st *Statement) (Result, error) {
	d := st.node.GetDeclareCursorStmt()
	hold := d.Options&cursorOptHold != 0
	if s.tx == txIdle && !hold {
		return Result{}, pgerr.New(pgerr.NoActiveSQLTransaction, "DECLARE CURSOR can only be used in transaction blocks")
	}
	if _, ok := s.portals[d.Portalname]; ok {
		return Result{}, pgerr.New(pgerr.DuplicateCursor, "cursor %q already exists", d.Portalname)
	}
	s.portals[d.Portalname] = &Portal{Name: d.Portalname, stmt: st.cursor, hold: hold}
	return Result{Tag: "DECLARE CURSOR"}, nil
}

func (s *Session) execFetch(ctx context.Context, st *Statement, sink RowSink) (Result, error) {
	f := st.node.GetFetchStmt()
	p, ok := s.portals[f.Portalname]
	if !ok {
		return Result{}, pgerr.New(pgerr.InvalidCursorName, "cursor %q does not exist", f.Portalname)
	}
	limit := int(f.HowMany)
	if f.HowMany >= math.MaxInt32 {
		limit = 0 // ALL
	}
	var n int64
	count := func(row []driver.Value) error {
		n++
		if f.Ismove {
			return nil
		}
		return sink(row)
	}
	if !p.done {
		if _, err := s.executeDuck(ctx, p, limit, count, nil); err != nil {
			return Result{}, err
		}
	}
	tag := "FETCH"
	if f.Ismove {
		tag = "MOVE"
	}
	st.tag = tag
	return Result{Tag: st.completeTag(n)}, nil
}

func (s *Session) execClose(st *Statement) (Result, error) {
	name := st.node.GetClosePortalStmt().Portalname
	if name == "" {
		for n := range s.portals {
			if n != "" {
				s.ClosePortal(n)
			}
		}
		return Result{Tag: "CLOSE CURSOR ALL"}, nil
	}
	if _, ok := s.portals[name]; !ok {
		return Result{}, pgerr.New(pgerr.InvalidCursorName, "cursor %q does not exist", name)
	}
	s.ClosePortal(name)
	return Result{Tag: "CLOSE CURSOR"}, nil
}
