package engine

import (
	"context"
	"database/sql/driver"
	"fmt"
	"strconv"
	"strings"

	"github.com/duckdb/duckdb-go/v2"

	"github.com/hopsql/hopsql/catalog"
	"github.com/hopsql/hopsql/storage"
)

// Single-row INSERTs inside a transaction (storage/DESIGN.md, "Single-row
// INSERT in a transaction"). Drivers load rows one INSERT at a time:
// psycopg2's executemany, PgJDBC's executeBatch, an ORM's flush. Through
// the carrier each costs a DuckDB statement, many times what
// PostgreSQL spends on it. Here the row is checked as the autocommit path
// checks it (fastinsert.go: its text form made in Go, NOT NULL, declared
// lengths, its keys against the key index and against the rows buffered
// before it) and kept in the session; the rows reach the carrier in one
// statement when anything else runs (another statement, COPY, COMMIT,
// the end of an implicit transaction), so every later statement sees
// them. An INSERT the checks cannot decide runs the usual way, after the
// buffer is written out.
//
// The buffered rows' checks are PostgreSQL's, made at the INSERT that
// fails them; the carrier's own constraint and the unique check against
// the table's files still run when the rows are written out, so a case
// the checks here missed is still refused, only at a later statement.

// insertBufferRows bounds the rows held per table: more are written to
// the carrier, and buffering goes on.
const insertBufferRows = 8192

// insertBuffer is a transaction's buffered rows, per table.
type insertBuffer struct {
	order  []string
	tables map[string]*bufferedTable
}

// bufferedTable is one table's buffered rows.
type bufferedTable struct {
	def  string // the definition the rows were made for (TableHead.SQL)
	cols []catalog.Column
	rows [][]*string
	// version is the table version the keys were checked at: the one the
	// transaction reads. -1 until a keyed row was checked.
	version int64
	// hashes holds, per unique key (fastKey.id), the hashes of the
	// carrier's rows and of the rows buffered since. It is complete while
	// the carrier has taken seen write statements (pendingTable.writes):
	// another write statement on the table changes the carrier behind it.
	hashes map[string]map[uint64]struct{}
	seen   int
	// st is one of the buffered INSERTs: its storage plan prepares the
	// table's pending state when the rows are written out.
	st *Statement
}

// bufferable reports whether a portal is an INSERT the buffer may take,
// so that a buffer need not be written out before it.
func (s *Session) bufferable(p *Portal) bool {
	st := p.stmt
	return st.kind == kindDuck && st.fastIns != nil && !p.noFast && !p.started() && !p.storageStarted &&
		(s.tx == txBlock || s.tx == txImplicit)
}

// bufferInsert tries to buffer a portal's row; false means the INSERT
// must run the usual way (after flushBuffer).
func (s *Session) bufferInsert(ctx context.Context, p *Portal) (bool, error) {
	plan := p.stmt.fastIns
	if s.e.cfg.SmallCommitRows <= 0 || s.featureOf(plan.table) != nil || !s.snapshotCurrent() {
		// A snapshot older than the committed definitions may differ from
		// them (NOT NULL, defaults, columns): the carrier's way decides.
		return false, nil
	}
	t, found := s.e.catalog.TableHead(s.db.name, "main", plan.table)
	if !found || t.Feature != nil {
		return false, nil
	}
	var bt *bufferedTable
	if s.ibuf != nil {
		bt = s.ibuf.tables[plan.table]
	}
	if bt != nil && bt.def != t.SQL {
		return false, nil
	}
	if stx := s.stx; stx != nil {
		if stx.ddl || stx.created[plan.table] || stx.altered[plan.table] || stx.dropped[plan.table] || len(stx.renames) > 0 {
			return false, nil
		}
		if pt, ok := stx.tables[plan.table]; ok && (pt.replace || pt.direct != nil) {
			return false, nil
		}
	}
	row, fks, ok, err := s.checkedRow(ctx, plan, t, p.args)
	if err != nil || !ok {
		return false, err
	}
	// Rows other statements of the transaction wrote into the carrier
	// are not in the key index: their key hashes are read once, and kept
	// until another statement writes the table.
	var pt *pendingTable
	if s.stx != nil {
		pt = s.stx.tables[plan.table]
	}
	writes := 0
	if pt != nil {
		writes = pt.writes
	}
	if bt != nil && bt.seen != writes || bt == nil && pt != nil && pt.dirty {
		if bt != nil && len(bt.rows) > 0 {
			return false, nil // cannot be: the buffer is written out before any other statement
		}
		hashes, ok, err := s.carrierKeys(ctx, plan.table, t)
		if err != nil || !ok {
			return false, err
		}
		if bt == nil {
			bt = s.newBufferedTable(plan.table, t, p.stmt)
		}
		bt.hashes, bt.seen = hashes, writes
	}
	version := int64(-1)
	if bt != nil {
		version = bt.version
	}
	for _, fk := range fks {
		if bt != nil {
			if _, dup := bt.hashes[fk.id()][fk.hash]; dup {
				return false, nil // perhaps a duplicate: DuckDB decides
			}
		}
		x := s.e.keyIndexFor(s.db.name, plan.table, fk.cols)
		free, v, id, err := s.fastKeyClear(ctx, x, plan.table, fk)
		if err != nil || !free || id != t.ID {
			return false, err
		}
		// The index is of the latest version; the transaction reads its
		// own. Only when they are one is the index's answer the right one.
		if version < 0 {
			read, ok, err := s.readVersion(plan.table)
			if err != nil || !ok {
				return false, nil // DuckDB reports what is wrong, if anything
			}
			version = read
		}
		if v != version {
			return false, nil
		}
	}
	if bt == nil {
		bt = s.newBufferedTable(plan.table, t, p.stmt)
		bt.seen = writes
	}
	bt.version = version
	for _, fk := range fks {
		set := bt.hashes[fk.id()]
		if set == nil {
			set = map[uint64]struct{}{}
			bt.hashes[fk.id()] = set
		}
		set[fk.hash] = struct{}{}
	}
	bt.rows = append(bt.rows, row)
	s.e.counters.insertsBuffered.Add(1)
	if len(bt.rows) >= insertBufferRows {
		if err := s.writeBuffered(ctx, plan.table, bt); err != nil {
			return false, err
		}
	}
	return true, nil
}

// promoteFast makes a pipeline's deferred single-row INSERT (s.fast) the
// first buffered row of an implicit transaction, which the pipeline's
// next statements join; false when its table changed meanwhile.
func (s *Session) promoteFast(ctx context.Context) (bool, error) {
	d := s.fast
	t, ok := s.e.catalog.TableHead(s.db.name, "main", d.table)
	if !ok || t.SQL != d.def || s.e.cfg.SmallCommitRows <= 0 {
		return false, nil
	}
	s.noteTxStart()
	if err := s.exec(ctx, "BEGIN TRANSACTION"); err != nil {
		return false, err
	}
	s.tx, s.fast = txImplicit, nil
	bt := &bufferedTable{def: d.def, cols: t.Columns, version: -1, hashes: map[string]map[uint64]struct{}{}, st: d.portal.stmt,
		rows: [][]*string{d.row}}
	for _, k := range d.keys {
		bt.hashes[k.id()] = map[uint64]struct{}{k.hash: {}}
	}
	s.ibuf = &insertBuffer{tables: map[string]*bufferedTable{d.table: bt}, order: []string{d.table}}
	s.e.counters.insertsBuffered.Add(1)
	return true, nil
}

// newBufferedTable adds a table to the session's buffer.
func (s *Session) newBufferedTable(name string, t catalog.TableHead, st *Statement) *bufferedTable {
	if s.ibuf == nil {
		s.ibuf = &insertBuffer{tables: map[string]*bufferedTable{}}
	}
	bt := &bufferedTable{def: t.SQL, cols: t.Columns, version: -1, hashes: map[string]map[uint64]struct{}{}, st: st}
	s.ibuf.tables[name] = bt
	s.ibuf.order = append(s.ibuf.order, name)
	return bt
}

// carrierKeys reads the key hashes of the rows in a table's carrier, per
// unique key; false when a key has no exact text form.
func (s *Session) carrierKeys(ctx context.Context, name string, t catalog.TableHead) (map[string]map[uint64]struct{}, bool, error) {
	keys, err := s.uniqueKeys(ctx, name)
	if err != nil {
		return nil, false, err
	}
	out := map[string]map[uint64]struct{}{}
	for _, k := range keys {
		cols, _, ok := keyColumns(t, k)
		if !ok {
			return nil, false, nil
		}
		fk := fastKey{cols: cols}
		hs, err := s.carrierKeyHashes(ctx, s.e.keyIndexFor(s.db.name, name, cols), name, cols)
		if err != nil {
			return nil, false, err
		}
		set := make(map[uint64]struct{}, len(hs))
		for _, h := range hs {
			set[h] = struct{}{}
		}
		out[fk.id()] = set
	}
	return out, true, nil
}

// readVersion is the version of a table the transaction reads; false when
// it has none (created in it).
func (s *Session) readVersion(name string) (int64, bool, error) {
	if s.stx != nil {
		if p, ok := s.stx.tables[name]; ok {
			return p.base, true, nil
		}
		if s.stx.created[name] {
			return 0, false, nil
		}
	}
	var asOf int64
	if s.stx != nil {
		asOf = s.stx.asOf
	}
	v, _, err := s.e.catalog.TableFiles(s.db.name, "main", name, 0, asOf)
	if err != nil {
		return 0, false, err
	}
	return v, true, nil
}

// flushBuffer writes every buffered row to its carrier: a statement
// other than a buffered INSERT is about to run. The key sets stay, for
// the INSERTs after it.
func (s *Session) flushBuffer(ctx context.Context) error {
	b := s.ibuf
	if b == nil {
		return nil
	}
	for _, name := range b.order {
		if err := s.writeBuffered(ctx, name, b.tables[name]); err != nil {
			s.ibuf = nil
			return err
		}
	}
	return nil
}

// writeBuffered inserts a table's buffered rows into its carrier, as one
// INSERT of the same rows would: through DuckDB's appender, inside the
// session's transaction (a VALUES list of thousands of rows costs DuckDB
// more to parse than the INSERTs cost to check). In a transaction block
// the same rows are also logged as an INSERT … VALUES for savepoint
// replay.
func (s *Session) writeBuffered(ctx context.Context, name string, bt *bufferedTable) error {
	if len(bt.rows) == 0 {
		return nil
	}
	if err := s.syncViews(ctx); err != nil {
		return err
	}
	if err := s.beforeStorageWrite(ctx, bt.st, nil); err != nil {
		return err
	}
	app, err := duckdb.NewAppender(s.conn, s.db.name, "main", name)
	if err != nil {
		return fmt.Errorf("append to %q: %w", name, err)
	}
	vals := make([]driver.Value, len(bt.cols))
	for _, row := range bt.rows {
		for j, v := range row {
			if vals[j], err = appendValue(bt.cols[j].Type, v); err != nil {
				app.Close()
				return err
			}
		}
		if err := app.AppendRow(vals...); err != nil {
			app.Close()
			return err
		}
	}
	if err := app.Close(); err != nil {
		return err
	}
	if s.tx == txBlock {
		s.txLog = append(s.txLog, loggedStmt{sql: s.bufferedSQL(name, bt)}) // replayed by ROLLBACK TO SAVEPOINT
	} else {
		s.unlogged = true
	}
	bt.rows = bt.rows[:0]
	if p, ok := s.stx.tables[name]; ok {
		bt.seen = p.writes // this write leaves the key sets complete
	}
	// The carrier's rows changed under statements prepared before.
	s.viewEpoch++
	if bt.st.storage.unique {
		return s.checkUnique(ctx, name, nil)
	}
	return nil
}

// appendValue is a buffered value (its text form, fastText's) as the Go
// value DuckDB's appender takes for the column type.
func appendValue(typ string, v *string) (driver.Value, error) {
	if v == nil {
		return nil, nil
	}
	var (
		out any
		err error
	)
	switch typ {
	case "VARCHAR":
		return *v, nil
	case "BIGINT":
		out, err = strconv.ParseInt(*v, 10, 64)
	case "INTEGER":
		var n int64
		n, err = strconv.ParseInt(*v, 10, 32)
		out = int32(n)
	case "SMALLINT":
		var n int64
		n, err = strconv.ParseInt(*v, 10, 16)
		out = int16(n)
	case "DOUBLE":
		out, err = strconv.ParseFloat(*v, 64)
	case "FLOAT":
		var f float64
		f, err = strconv.ParseFloat(*v, 32)
		out = float32(f)
	case "BOOLEAN":
		out, err = strconv.ParseBool(*v)
	default:
		err = fmt.Errorf("type %s", typ)
	}
	if err != nil {
		return nil, fmt.Errorf("buffered value %q: %w", *v, err)
	}
	return out, nil
}

// bufferedSQL is the INSERT … VALUES of a table's buffered rows.
func (s *Session) bufferedSQL(name string, bt *bufferedTable) string {
	cols := make([]string, len(bt.cols))
	for i, c := range bt.cols {
		cols[i] = quoteIdent(c.Name)
	}
	var b strings.Builder
	b.WriteString("INSERT INTO " + s.carrierName(name) + " (" + strings.Join(cols, ", ") + ") VALUES ")
	for i, row := range bt.rows {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteByte('(')
		for j, v := range row {
			if j > 0 {
				b.WriteString(", ")
			}
			switch {
			case v == nil:
				b.WriteString("NULL")
			case bt.cols[j].Type == "VARCHAR":
				b.WriteString(quoteLiteral(*v))
			default:
				b.WriteString(storage.FromText(bt.cols[j], quoteLiteral(*v)))
			}
		}
		b.WriteByte(')')
	}
	return b.String()
}
