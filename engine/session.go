package engine

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/duckdb/duckdb-go/v2"
	pg_query "github.com/pganalyze/pg_query_go/v6"

	"github.com/hopsql/hopsql/engine/pgerr"
	"github.com/hopsql/hopsql/engine/pgtypes"
)

// StartupInfo is what a client sends when it connects.
type StartupInfo struct {
	User     string
	Database string
	Params   map[string]string // every startup parameter, including user and database
}

// Field is one result column.
type Field struct {
	Name     string
	Type     pgtypes.Type
	TableOID uint32
	Column   int16
}

// txState is a session's transaction state.
type txState int

const (
	txIdle     txState = iota // autocommit
	txImplicit                // a multi-statement query string runs as one transaction
	txBlock                   // inside BEGIN … COMMIT
	txFailed                  // inside a block after an error: only ROLLBACK is accepted
)

// Session is one client connection's state. Its methods are called from one
// goroutine (the connection's), except Cancel, which may come from anywhere.
type Session struct {
	e    *Engine
	db   *database
	conn *duckdb.Conn
	user string
	pid  int32 // BackendKeyData's process id

	set *settings
	loc *time.Location

	tx         txState
	txReadOnly bool
	// txUndo restores settings changed inside the transaction: all of them
	// on ROLLBACK, the SET LOCAL ones on COMMIT.
	txUndo []settingUndo
	// txLog holds the statements with side effects run in the current
	// transaction; ROLLBACK TO SAVEPOINT replays a prefix of it, since
	// DuckDB has no savepoints of its own.
	txLog      []loggedStmt
	savepoints []savepoint

	named   map[string]*Statement
	portals map[string]*Portal
	// consts caches constant statements of simple queries by text; setGen
	// counts setting changes, which invalidate kept constant results.
	consts map[string]*Statement
	// literals are lookups sent with constants, kept prepared with
	// parameters by their parameterized text; litArgs the constants of
	// the simple query being run, bound to the unnamed statement (literals.go).
	literals map[string]literalStatement
	litArgs  []any
	setGen   uint64
	// rels caches relation columns for RowDescription sources (source.go).
	rels map[string]*relInfo

	// Notice is called for every NOTICE or WARNING the session raises.
	Notice func(*pgerr.Error)
	// ParameterChanged is called when a reported parameter changes.
	ParameterChanged func(name, value string)

	// Storage (storage.go): the transaction's table changes, and the
	// table views this session's DuckDB connection holds.
	stx *storageTx
	// fast is an INSERT the single-row path deferred to Sync (fastinsert.go).
	fast *deferredInsert
	// ibuf holds a transaction's buffered single-row INSERTs (insertbuffer.go).
	ibuf *insertBuffer
	// txGen is Engine.ddlGen when the DuckDB transaction began; txDDL says
	// this transaction ran DDL (snapshotCurrent). unlogged: a write ran
	// before BEGIN in the same implicit transaction, outside the
	// savepoint log.
	txGen      uint64
	txDDL      bool
	unlogged   bool
	views      map[string]string // table → key of the files its view shows
	viewGen    uint64
	viewsStale bool
	viewEpoch  uint64 // counts changes to the views and carriers' contents
	viewsInTx  map[string]bool
	// internal holds the engine's own prepared queries (smallwrite.go).
	internal map[string]*internalStmt
	// onlineViews: feature group → the body of its online.<g> view.
	onlineViews map[string]string
	// ctasDirect: the CREATE TABLE … AS running writes its rows straight to
	// Parquet; ctasRows is how many it wrote (-1: not known yet).
	ctasDirect bool
	ctasRows   int64
	// holdsFiles: the transaction holds table files against compaction
	// (Engine.holdFiles).
	holdsFiles bool

	runMu     sync.Mutex
	cancelRun context.CancelFunc
	closed    bool
}

type settingUndo struct {
	name, old string
	local     bool
}

type loggedStmt struct {
	sql  string
	args []driver.NamedValue
}

type savepoint struct {
	name string
	pos  int        // len(txLog) when the savepoint was set
	stx  *storageTx // the storage changes then
}

// Connect opens a session on the named database.
func (e *Engine) Connect(ctx context.Context, info StartupInfo) (*Session, error) {
	e.mu.Lock()
	db, ok := e.dbs[info.Database]
	e.mu.Unlock()
	if !ok {
		return nil, pgerr.Fatal(pgerr.InvalidCatalogName, "database %q does not exist", info.Database)
	}
	set, err := newSettings(info.Params, info.User)
	if err != nil {
		var pe *pgerr.Error
		if errors.As(err, &pe) {
			pe.Severity = "FATAL"
		}
		return nil, err
	}
	if u, ok := e.catalog.User(info.User); ok && !u.Superuser {
		set.vals["is_superuser"] = "off"
	}
	c, err := db.connector.Connect(ctx)
	if err != nil {
		return nil, fmt.Errorf("connect to database %q: %w", db.name, err)
	}
	s := &Session{
		e: e, db: db, conn: c.(*duckdb.Conn), user: info.User, set: set,
		named: map[string]*Statement{}, portals: map[string]*Portal{}, consts: map[string]*Statement{}, rels: map[string]*relInfo{},
		literals: map[string]literalStatement{},
		Notice:   func(*pgerr.Error) {}, ParameterChanged: func(string, string) {},
	}
	for _, name := range []string{"TimeZone", "search_path"} {
		v, _ := set.get(name)
		if err := s.applyToDuckDB(ctx, name, v); err != nil {
			s.conn.Close()
			return nil, err
		}
	}
	db.sessions.Add(1)
	return s, nil
}

// Close releases the session's statements, portals and DuckDB connection;
// an open transaction is rolled back.
func (s *Session) Close() error {
	s.runMu.Lock()
	if s.closed {
		s.runMu.Unlock()
		return nil
	}
	s.closed = true
	s.runMu.Unlock()
	for name := range s.portals {
		s.ClosePortal(name)
	}
	for name := range s.named {
		s.CloseStatement(name)
	}
	for _, st := range s.consts {
		st.cached = false
		st.close()
	}
	s.dropLiterals()
	s.closeInternal()
	s.db.sessions.Add(-1)
	return s.conn.Close() // DuckDB rolls back an open transaction
}

// Cancel interrupts the statement running now, if any. Safe from any goroutine.
func (s *Session) Cancel() {
	s.runMu.Lock()
	defer s.runMu.Unlock()
	if s.cancelRun != nil {
		s.cancelRun()
	}
}

// User is the session's user name.
func (s *Session) User() string { return s.user }

// BackendPID is the process id the session's client was given
// (pg_backend_pid()).
func (s *Session) BackendPID() int32 { return s.pid }

// SetBackendPID records the process id announced to the client.
func (s *Session) SetBackendPID(pid uint32) { s.pid = int32(pid) }

// Database is the session's database name.
func (s *Session) Database() string { return s.db.name }

// Setting returns a configuration parameter (for pgcatalog's current_setting).
func (s *Session) Setting(name string) (string, bool) { return s.set.get(name) }

// SetSetting is set_config(): it changes a parameter for the session or the transaction.
func (s *Session) SetSetting(name, value string, isLocal bool) error {
	return s.setParam(context.Background(), name, value, isLocal)
}

// ReportedParameters lists the ParameterStatus values sent at startup.
func (s *Session) ReportedParameters() [][2]string { return s.set.reported() }

// Location is the session's TimeZone.
func (s *Session) Location() *time.Location {
	if s.loc == nil {
		v, _ := s.set.get("TimeZone")
		s.loc, _ = loadLocation(v)
		if s.loc == nil {
			s.loc = time.UTC
		}
	}
	return s.loc
}

// ExtraFloatDigits is the extra_float_digits setting.
func (s *Session) ExtraFloatDigits() int {
	v, _ := s.set.get("extra_float_digits")
	n := 1
	fmt.Sscan(v, &n)
	return n
}

// TxStatus is the ReadyForQuery status byte: 'I', 'T' or 'E'.
func (s *Session) TxStatus() byte {
	switch s.tx {
	case txBlock:
		return 'T'
	case txFailed:
		return 'E'
	}
	return 'I'
}

// runContext derives the context one statement runs under: cancellable by
// Cancel and bounded by statement_timeout.
func (s *Session) runContext(ctx context.Context) (context.Context, func()) {
	var cancel context.CancelFunc
	v, _ := s.set.get("statement_timeout")
	if d, err := parseDurationMillis(v); err == nil && d > 0 {
		ctx, cancel = context.WithTimeout(ctx, d)
	} else {
		ctx, cancel = context.WithCancel(ctx)
	}
	s.runMu.Lock()
	s.cancelRun = cancel
	s.runMu.Unlock()
	return ctx, func() {
		s.runMu.Lock()
		s.cancelRun = nil
		s.runMu.Unlock()
		cancel()
	}
}

func (s *Session) exec(ctx context.Context, sql string) error {
	_, err := s.conn.ExecContext(ctx, sql, nil)
	return err
}

// queryRow runs a query of the engine's own and reads the first columns of
// its first row into dest; no row is an error.
func (s *Session) queryRow(ctx context.Context, sql string, args []driver.NamedValue, dest []driver.Value) error {
	rows, err := s.conn.QueryContext(ctx, sql, args)
	if err != nil {
		return err
	}
	defer rows.Close()
	vals := make([]driver.Value, len(rows.Columns()))
	if err := rows.Next(vals); err != nil {
		return fmt.Errorf("read result: %w", err)
	}
	copy(dest, vals)
	return nil
}

// fail records an error: a transaction block becomes failed, an implicit
// transaction is rolled back.
func (s *Session) fail(ctx context.Context) {
	s.fast = nil // a deferred INSERT dies with its implicit transaction
	s.ibuf = nil // and buffered rows with any failed transaction
	switch s.tx {
	case txBlock:
		s.tx = txFailed
	case txImplicit:
		s.rollback(ctx)
	}
}

func (s *Session) rollback(ctx context.Context) error {
	err := s.abortTx(ctx)
	s.endTx(false)
	return err
}

// endTx resets the transaction state, undoing settings as PostgreSQL does.
func (s *Session) endTx(committed bool) {
	for i := len(s.txUndo) - 1; i >= 0; i-- {
		u := s.txUndo[i]
		if !committed || u.local {
			s.restoreParam(u.name, u.old)
		}
	}
	s.tx, s.txReadOnly, s.txUndo, s.txLog, s.savepoints = txIdle, false, nil, nil, nil
	s.stx, s.ibuf, s.unlogged = nil, nil, false
	if s.txDDL {
		// Its DDL is now committed or undone: what other sessions (and
		// this one) prepared or cached under it is stale.
		s.e.ddlGen.Add(1)
		s.txDDL = false
	}
	s.e.releaseFiles(s)
	// Portals do not outlive their transaction, except WITH HOLD cursors
	// after a commit.
	for name, p := range s.portals {
		if name != "" && !(p.hold && committed) {
			s.ClosePortal(name)
		}
	}
}

func errAborted() *pgerr.Error {
	return pgerr.New(pgerr.InFailedSQLTransaction, "current transaction is aborted, commands ignored until end of transaction block")
}

// Sync ends an implicit transaction: committed if nothing failed. The wire
// layer calls it at Sync and at the end of a simple query. Outside a
// transaction block, portals die with the implicit transaction.
func (s *Session) Sync(ctx context.Context) error {
	var err error
	if d := s.fast; d != nil {
		s.fast = nil
		ferr := s.commitFast(ctx, d)
		if errors.Is(ferr, errFastFallback) {
			s.fast = d
			ferr = s.flushFast(ctx)
		}
		if ferr != nil {
			err = pgerr.From(ferr)
		}
	}
	if s.ibuf != nil && s.tx == txImplicit {
		// Buffered rows reach the carrier before the commit writes it.
		if ferr := s.flushBuffer(ctx); ferr != nil && err == nil {
			err = pgerr.From(ferr)
			s.rollback(ctx)
		}
	}
	if s.tx == txImplicit && err == nil {
		if cerr := s.commitTx(ctx); cerr != nil {
			s.endTx(false)
			err = pgerr.From(cerr)
		} else {
			s.endTx(true)
		}
	}
	if s.tx == txIdle {
		for name, p := range s.portals {
			if !p.hold {
				s.ClosePortal(name)
			}
		}
	}
	return err
}

// notice sends a NOTICE or WARNING to the client.
func (s *Session) notice(severity, code, format string, args ...any) {
	e := pgerr.New(code, format, args...)
	e.Severity = severity
	s.Notice(e)
}

// A Piece is one statement of a query string.
type Piece struct {
	SQL    string            // the statement's own text
	Offset int               // where it starts in the query string (for error positions)
	raw    *pg_query.RawStmt // nil when pg_query could not parse it (DuckDB-only syntax)
	multi  bool              // one of several statements in a simple query
	cached *Statement        // a constant statement kept from an earlier query
	src    string            // the text raw's locations index
	// query is the whole query string of a one-statement query: the key a
	// constant statement is kept under, as Split looks it up ("SELECT 1;"
	// with its semicolon, which the piece's own text has lost).
	query string
}

// Split parses a simple-query string into statements. PostgreSQL parses the
// whole string before running any of it, so a syntax error anywhere means
// nothing runs. Statements only DuckDB understands (ASOF JOIN, FROM-first,
// PIVOT, …) are kept as text and passed to DuckDB unchanged.
func (s *Session) Split(ctx context.Context, sql string) ([]*Piece, error) {
	if st, ok := s.consts[sql]; ok {
		return []*Piece{{SQL: st.SQL, cached: st}}, nil
	}
	query := sql
	sql, err := s.rewriteExtensions(ctx, sql)
	if err != nil {
		return nil, err
	}
	tree, perr := pg_query.Parse(sql)
	var pieces []*Piece
	if perr == nil {
		for _, raw := range tree.Stmts {
			start, end := int(raw.StmtLocation), int(raw.StmtLocation+raw.StmtLen)
			if raw.StmtLen == 0 {
				end = len(sql)
			}
			pieces = append(pieces, &Piece{SQL: strings.TrimSpace(sql[start:end]), Offset: start, raw: raw, src: sql})
		}
	} else {
		spans, err := splitStatements(sql)
		if err != nil {
			return nil, pgerr.From(perr)
		}
		for _, sp := range spans {
			part := sql[sp.start:sp.end]
			p := &Piece{SQL: strings.TrimSpace(part), Offset: sp.start}
			t, err := pg_query.Parse(part)
			switch {
			case err == nil && len(t.Stmts) == 1:
				p.raw, p.src = t.Stmts[0], part
			case !s.duckdbParses(ctx, part):
				// Neither grammar accepts it: report PostgreSQL's error,
				// positioned in the whole string.
				pe := pgerr.From(perr)
				if err != nil {
					pe = pgerr.From(err)
					if pe.Position > 0 {
						pe.Position += utf8Offset(sql, sp.start)
					}
				}
				return nil, pe
			}
			pieces = append(pieces, p)
		}
	}
	for _, p := range pieces {
		p.multi = len(pieces) > 1
	}
	if len(pieces) == 1 {
		pieces[0].query = query
	}
	return pieces, nil
}

// utf8Offset converts a byte offset to the character count PostgreSQL positions use.
func utf8Offset(s string, byteOff int) int {
	return len([]rune(s[:byteOff]))
}

// duckdbParses reports whether DuckDB accepts a statement pg_query rejected.
func (s *Session) duckdbParses(ctx context.Context, sql string) bool {
	st, err := s.conn.PrepareContext(ctx, sql)
	if err != nil {
		var de *duckdb.Error
		if errors.As(err, &de) && (de.Type == duckdb.ErrorTypeParser || de.Type == duckdb.ErrorTypeSyntax) {
			return false
		}
		// It parsed; binding failed. Let the real execution report that error.
		return true
	}
	st.Close()
	return true
}

// PreparePiece prepares one statement of a simple query as the unnamed statement.
func (s *Session) PreparePiece(ctx context.Context, p *Piece) (*Statement, error) {
	if p.multi && s.tx == txIdle {
		s.noteTxStart()
		if err := s.exec(ctx, "BEGIN"); err != nil {
			return nil, pgerr.From(err)
		}
		s.tx = txImplicit
	}
	if s.tx == txFailed && !endsFailedTx(p.raw) {
		return nil, errAborted()
	}
	if p.cached != nil {
		s.replaceStatement("", p.cached)
		return p.cached, nil
	}
	s.litArgs = nil
	if p.raw != nil {
		st, vals, err := s.prepareLiteral(ctx, p.raw, p.src)
		if err != nil {
			return nil, err
		}
		if st != nil {
			st.alone = !p.multi
			s.replaceStatement("", st)
			s.litArgs = vals
			return st, nil
		}
	}
	st, err := s.prepareStmt(ctx, p.SQL, p.raw, nil, true)
	if err != nil {
		return nil, err
	}
	st.alone = !p.multi
	if st.constant && p.query != "" && len(s.consts) < maxConstantCache {
		st.cached = true
		s.consts[p.query] = st
	}
	s.replaceStatement("", st)
	return st, nil
}

// Prepare is the extended protocol's Parse.
func (s *Session) Prepare(ctx context.Context, name, sql string, paramOIDs []uint32) (*Statement, error) {
	if name != "" {
		if _, ok := s.named[name]; ok {
			return nil, pgerr.New(pgerr.DuplicatePreparedStatement, "prepared statement %q already exists", name)
		}
	}
	query := sql
	if st, ok := s.consts[query]; ok && len(paramOIDs) == 0 {
		// A constant statement parsed again (drivers that re-send the
		// unnamed statement with every query): the kept statement answers.
		if s.tx == txFailed {
			return nil, errAborted()
		}
		s.replaceStatement(name, st)
		return st, nil
	}
	sql, err := s.rewriteExtensions(ctx, sql)
	if err != nil {
		return nil, err
	}
	tree, perr := pg_query.Parse(sql)
	var raw *pg_query.RawStmt
	switch {
	case perr == nil && len(tree.Stmts) > 1:
		return nil, pgerr.New(pgerr.SyntaxError, "cannot insert multiple commands into a prepared statement")
	case perr == nil && len(tree.Stmts) == 1:
		raw = tree.Stmts[0]
	case perr != nil:
		spans, err := splitStatements(sql)
		if err != nil || len(spans) > 1 {
			return nil, pgerr.From(perr)
		}
		if !s.duckdbParses(ctx, sql) {
			return nil, pgerr.From(perr)
		}
	}
	if s.tx == txFailed && !endsFailedTx(raw) {
		return nil, errAborted()
	}
	st, err := s.prepare(ctx, sql, raw, paramOIDs)
	if err != nil {
		return nil, err
	}
	st.Name = name
	if st.constant && len(paramOIDs) == 0 && len(s.consts) < maxConstantCache {
		st.cached = true
		s.consts[query] = st
	}
	s.replaceStatement(name, st)
	return st, nil
}

func (s *Session) replaceStatement(name string, st *Statement) {
	if old, ok := s.named[name]; ok && old != st && !old.cached {
		old.close()
	}
	s.named[name] = st
}

// Statement returns a prepared statement by name ("" is the unnamed one).
func (s *Session) Statement(name string) (*Statement, bool) {
	st, ok := s.named[name]
	return st, ok
}

// CloseStatement drops a prepared statement; closing a missing one is not an error.
func (s *Session) CloseStatement(name string) {
	if st, ok := s.named[name]; ok {
		if !st.cached {
			st.close()
		}
		delete(s.named, name)
	}
}

// Portal returns a portal by name.
func (s *Session) Portal(name string) (*Portal, bool) {
	p, ok := s.portals[name]
	return p, ok
}

// ClosePortal closes a portal and its open result.
func (s *Session) ClosePortal(name string) {
	if p, ok := s.portals[name]; ok {
		p.close()
		delete(s.portals, name)
	}
}

// Bind creates a portal from a prepared statement and its parameter values,
// for the simple protocol.
func (s *Session) Bind(portal, stmtName string, args []any) (*Portal, error) {
	return s.bind(portal, stmtName, args, false)
}

// BindPipelined is the extended protocol's Bind: statements that write run
// in an implicit transaction that lasts until Sync, so a pipeline of
// writes is all or nothing, as in PostgreSQL.
func (s *Session) BindPipelined(portal, stmtName string, args []any) (*Portal, error) {
	return s.bind(portal, stmtName, args, true)
}

func (s *Session) bind(portal, stmtName string, args []any, pipelined bool) (*Portal, error) {
	st, ok := s.named[stmtName]
	if !ok {
		return nil, pgerr.New(pgerr.InvalidSQLStatementName, "prepared statement %q does not exist", stmtName)
	}
	if stmtName == "" && args == nil && s.litArgs != nil && st.literal {
		// A simple query's lookup, prepared with its constants as
		// parameters (literals.go): they are bound here.
		args, s.litArgs = s.litArgs, nil
	}
	if portal != "" {
		if _, ok := s.portals[portal]; ok {
			return nil, pgerr.New(pgerr.DuplicateCursor, "portal %q already exists", portal)
		}
	}
	if s.tx == txFailed && !(st.kind == kindTx && st.txAllowedWhenFailed()) {
		return nil, errAborted()
	}
	if len(args) != len(st.ParamOIDs) {
		return nil, pgerr.New(pgerr.ProtocolViolation, "bind message supplies %d parameters, but prepared statement %q requires %d",
			len(args), stmtName, len(st.ParamOIDs))
	}
	p := &Portal{Name: portal, stmt: st, pipelined: pipelined}
	if len(args) > 0 {
		p.args = make([]driver.NamedValue, len(args))
		for i, a := range args {
			if i < len(st.arrayParams) && st.arrayParams[i] != 0 && a != nil {
				text, err := arrayParamJSON(a, st.arrayParams[i])
				if err != nil {
					return nil, pgerr.New(pgerr.InvalidParameterValue, "parameter $%d: %v", i+1, err)
				}
				a = text
			} else if composite(a) {
				// duckdb-go binds a slice by asserting each element's Go
				// type, and panics on a mismatch or a NULL — inside a call
				// whose interrupt watcher then outlives it and can crash
				// the server. Array parameters go as JSON (above) where
				// the statement could be rewritten; elsewhere they are
				// refused.
				return nil, pgerr.New(pgerr.FeatureNotSupported,
					"parameter $%d: array parameters are not supported in statements PostgreSQL's grammar does not parse", i+1)
			}
			p.args[i] = driver.NamedValue{Ordinal: i + 1, Value: a}
		}
	}
	s.ClosePortal(portal)
	s.portals[portal] = p
	return p, nil
}

// Result is how an Execute ended.
type Result struct {
	Tag       string // the command tag; empty when Suspended
	Suspended bool   // the row limit was reached and the portal can go on
	Empty     bool   // the query string was empty
}

// RowSink receives result rows. The slice is reused between calls.
type RowSink func(row []driver.Value) error

// Execute runs a portal, passing at most maxRows rows to sink (0: all).
func (s *Session) Execute(ctx context.Context, p *Portal, maxRows int, sink RowSink) (Result, error) {
	return s.execute(ctx, p, maxRows, sink, nil)
}

// ExecuteColumnar is Execute for a caller that also takes the rows of a
// DuckDB result as columnar batches (batch), without a Go value per cell;
// rows that do not come from such a result still go to sink.
func (s *Session) ExecuteColumnar(ctx context.Context, p *Portal, maxRows int, sink RowSink, batch BatchSink) (Result, error) {
	return s.execute(ctx, p, maxRows, sink, batch)
}

func (s *Session) execute(ctx context.Context, p *Portal, maxRows int, sink RowSink, batch BatchSink) (res Result, err error) {
	st := p.stmt
	if s.tx == txFailed && !(st.kind == kindTx && st.txAllowedWhenFailed()) {
		return Result{}, errAborted()
	}
	if s.txReadOnly && st.write {
		return Result{}, pgerr.New(pgerr.ReadOnlySQLTransaction, "cannot execute %s in a read-only transaction", st.tag)
	}
	defer func() {
		if err != nil {
			pe := pgerr.From(err)
			if schema, table, ok := st.targetTable(); ok {
				pe = pe.WithUniqueTarget(schema, table)
			}
			err = pe
			if st.kind != kindTx {
				s.fail(ctx)
			}
		}
	}()
	if s.fast != nil && !(s.fast.portal == p && p.done) {
		// Another statement in the transaction of a deferred INSERT: when
		// it is an INSERT too (a batch), both rows are buffered in the
		// pipeline's implicit transaction; otherwise the INSERT goes
		// through the carrier first, so this one sees its row.
		promoted := false
		if p.pipelined && st.kind == kindDuck && st.fastIns != nil && !p.noFast && !p.started() && s.tx == txIdle {
			var err error
			if promoted, err = s.promoteFast(ctx); err != nil {
				return Result{}, err
			}
		}
		if !promoted {
			if err := s.flushFast(ctx); err != nil {
				return Result{}, err
			}
		}
	}
	if s.ibuf != nil && !s.bufferable(p) && !p.done {
		// Whatever runs next sees the buffered rows. ROLLBACK drops them;
		// so does ROLLBACK TO: every savepoint command wrote the buffer
		// out, so the rows still in it came after the savepoint.
		t := st.node.GetTransactionStmt()
		switch {
		case t != nil && (t.Kind == pg_query.TransactionStmtKind_TRANS_STMT_ROLLBACK || t.Kind == pg_query.TransactionStmtKind_TRANS_STMT_ROLLBACK_TO):
			s.ibuf = nil
		default:
			if err := s.flushBuffer(ctx); err != nil {
				if t != nil && t.Kind == pg_query.TransactionStmtKind_TRANS_STMT_COMMIT {
					s.rollback(ctx) // a failed COMMIT ends the transaction, as in PostgreSQL
				} else if st.kind == kindTx {
					s.fail(ctx)
				}
				return Result{}, err
			}
		}
	}
	if p.done {
		return Result{Tag: p.tag}, nil
	}
	switch st.kind {
	case kindEmpty:
		return Result{Empty: true}, nil
	case kindDuck:
		if s.bufferable(p) {
			ok, err := s.bufferInsert(ctx, p)
			if err != nil {
				return Result{}, err
			}
			if ok {
				p.done, p.tag = true, st.completeTag(1)
				return Result{Tag: p.tag}, nil
			}
			if err := s.flushBuffer(ctx); err != nil {
				return Result{}, err
			}
		}
		if st.fastIns != nil && !p.noFast && s.tx == txIdle && !p.started() && !p.storageStarted {
			ok, err := s.deferInsert(ctx, p)
			if err != nil {
				return Result{}, err
			}
			if ok {
				p.done, p.tag = true, st.completeTag(1)
				return Result{Tag: p.tag}, nil
			}
		}
		if err := s.prepareLazy(ctx, st); err != nil {
			return Result{}, err
		}
		if !p.started() && !p.done {
			s.noticeMissingDrops(ctx, st)
			if strings.HasPrefix(st.tag, "CREATE") || strings.HasPrefix(st.tag, "DROP") || strings.HasPrefix(st.tag, "ALTER") {
				clear(s.rels) // column numbers may have changed
			}
			if !p.storageStarted && st.needsViews() {
				if err := s.syncViews(ctx); err != nil {
					return Result{}, err
				}
			}
			if !p.storageStarted {
				if st.storage != nil {
					// Its own transaction, nothing after it in the pipeline
					// to read the table before it commits.
					s.ctasDirect = st.storage.directSQL != "" && s.tx == txIdle && !p.pipelined
					s.ctasRows = -1
					p.storageStarted = true
					if err := s.beforeStorageWrite(ctx, st, p.args); err != nil {
						return Result{}, err
					}
				}
			}
		}
		if st.online != nil && (maxRows <= 0 || len(st.online.keys) <= maxRows) {
			if res, ok, err := s.execOnline(ctx, p, sink); ok || err != nil {
				return res, err
			}
		}
		if st.pointLookup != nil && !p.started() && (maxRows <= 0 || len(st.pointLookup.keys) <= maxRows) {
			if res, ok, err := s.execPointLookup(ctx, p, sink); ok || err != nil {
				return res, err
			}
		}
		res, err := s.executeDuck(ctx, p, maxRows, sink, batch)
		if err == nil && (strings.HasPrefix(st.tag, "CREATE") || strings.HasPrefix(st.tag, "DROP") || strings.HasPrefix(st.tag, "ALTER")) {
			s.e.ddlGen.Add(1)
			if s.tx != txIdle {
				s.txDDL = true // bumped again when the transaction ends
			}
		}
		if err == nil && !res.Suspended && p.storageStarted && !p.storageFinished {
			p.storageFinished = true
			err = s.afterStorageWrite(ctx, st)
			if err == nil && st.storage.directSQL != "" && s.ctasRows >= 0 {
				res.Tag = fmt.Sprintf("SELECT %d", s.ctasRows)
			}
		}
		return res, err
	case kindTx:
		tag, err := s.execTx(ctx, st)
		return Result{Tag: tag}, err
	case kindSet:
		return Result{Tag: st.tag}, s.execSet(ctx, st)
	case kindShow:
		return s.execShow(p, maxRows, sink)
	case kindCreateDB, kindDropDB:
		if s.tx != txIdle {
			return Result{}, pgerr.New(pgerr.ActiveSQLTransaction, "%s cannot run inside a transaction block", st.tag)
		}
		if st.kind == kindCreateDB {
			err = s.e.CreateDatabase(ctx, st.dbName, s.user)
		} else {
			err = s.e.DropDatabase(ctx, st.dbName, st.missingOK)
		}
		return Result{Tag: st.tag}, err
	case kindDiscard:
		if s.tx != txIdle {
			return Result{}, pgerr.New(pgerr.ActiveSQLTransaction, "DISCARD ALL cannot run inside a transaction block")
		}
		return Result{Tag: st.tag}, s.discardAll(ctx, st)
	case kindSQLPrepare:
		return Result{Tag: st.tag}, s.execSQLPrepare(ctx, st.sqlPrep)
	case kindDeallocate:
		if st.dbName == "" {
			for name := range s.named {
				if name != "" {
					s.CloseStatement(name)
				}
			}
		} else if _, ok := s.named[st.dbName]; !ok {
			return Result{}, pgerr.New(pgerr.InvalidSQLStatementName, "prepared statement %q does not exist", st.dbName)
		} else {
			s.CloseStatement(st.dbName)
		}
		return Result{Tag: st.tag}, nil
	case kindNoop:
		if st.tag == "LOCK TABLE" && s.tx == txIdle {
			return Result{}, pgerr.New(pgerr.NoActiveSQLTransaction, "LOCK TABLE can only be used in transaction blocks")
		}
		return Result{Tag: st.tag}, nil
	case kindCopy:
		return Result{}, pgerr.New(pgerr.ProtocolViolation, "COPY must be run through the COPY sub-protocol")
	case kindVacuum:
		return Result{Tag: st.tag}, s.execVacuum(ctx, st)
	case kindTraining:
		req, _ := trainingRequestOf(st.node.GetDoStmt())
		tag, err := s.execTraining(ctx, req)
		return Result{Tag: tag}, err
	case kindExpectation:
		req, _ := expectationRequestOf(st.node.GetDoStmt())
		return Result{Tag: st.tag}, s.execExpectation(ctx, req)
	case kindAnalyze:
		return Result{Tag: st.tag}, s.execAnalyze(ctx, st)
	case kindExperiment:
		// WAIT blocks: a cancel request, statement_timeout and shutdown
		// must reach it.
		rctx, done := s.runContext(ctx)
		defer done()
		return s.execExperiment(rctx, st, sink)
	case kindDeclare:
		return s.execDeclare(st)
	case kindFetch:
		return s.execFetch(ctx, st, sink)
	case kindClose:
		return s.execClose(st)
	}
	return Result{}, pgerr.New(pgerr.InternalError, "unknown statement kind %d", st.kind)
}

func (s *Session) executeDuck(ctx context.Context, p *Portal, maxRows int, sink RowSink, batch BatchSink) (Result, error) {
	st := p.stmt
	if st.constant && !p.started() && (p.showRows != nil || st.result != nil && st.result.gen == s.setGen) {
		if p.showRows == nil {
			p.showRows = st.result.rows
			s.e.counters.resultsConstant.Add(1)
		}
		return s.replay(p, maxRows, sink)
	}
	if !p.started() && p.pipelined && st.write && s.tx == txIdle {
		// Reads need no transaction of their own; writes join the pipeline's.
		s.noteTxStart()
		if err := s.exec(ctx, "BEGIN TRANSACTION"); err != nil {
			return Result{}, err
		}
		s.tx = txImplicit
	}
	if p.cols != nil {
		return s.sendColumnar(ctx, p, maxRows, sink, batch)
	}
	// A cancel request or statement_timeout reaches the statement while
	// DuckDB runs it and, through rctx, while its rows are being sent.
	rctx, done := s.runContext(ctx)
	defer done()
	if p.rows == nil {
		ds, err := st.acquire(rctx, s)
		if err != nil {
			return Result{}, err
		}
		p.duck = ds
		if !st.returnsRows {
			n, err := execCount(rctx, ds, st, p.args)
			st.release(ds)
			p.duck = nil
			if err != nil {
				return Result{}, err
			}
			if st.export != nil {
				if err := s.finishExport(rctx, st.export); err != nil {
					return Result{}, err
				}
			}
			s.logWrite(st, p.args)
			p.done, p.tag = true, st.completeTag(n)
			return Result{Tag: p.tag}, nil
		}
		rows, err := ds.QueryContext(rctx, p.args)
		if err != nil {
			st.release(ds)
			p.duck = nil
			return Result{}, err
		}
		if n := len(rows.Columns()); n != len(st.Fields) {
			// DuckDB could not type every column before the parameters
			// were bound (a macro over an untyped parameter): the
			// columns described are not the ones it returns.
			rows.Close()
			st.release(ds)
			p.duck = nil
			return Result{}, pgerr.New(pgerr.IndeterminateDatatype,
				"could not determine the result columns before the parameters were bound (%d described, %d returned); add casts to the parameters", len(st.Fields), n)
		}
		p.rows = rows
		p.row = make([]driver.Value, len(st.Fields))
		s.logWrite(st, p.args)
		if batch != nil && s.wantColumnar(st, rows) {
			if cc, err := newColumnCursor(rows); err == nil {
				p.cols, p.rows = cc, nil
				s.e.counters.resultsColumnar.Add(1)
				return s.sendColumnar(rctx, p, maxRows, sink, batch)
			}
			// Not convertible after all: the rows are untouched, read them.
		}
		s.e.counters.resultsRows.Add(1)
	}
	sent := int64(0)
	for maxRows <= 0 || sent < int64(maxRows) {
		if sent%1024 == 0 && rctx.Err() != nil {
			p.close()
			return Result{}, rctx.Err()
		}
		err := p.rows.Next(p.row)
		if err == io.EOF {
			if st.constant && sent == int64(len(p.keep)) {
				st.result = &constResult{gen: s.setGen, rows: p.keep}
			}
			p.finish(sent)
			return Result{Tag: p.tag}, nil
		}
		if err != nil {
			p.close()
			return Result{}, err
		}
		if st.constant {
			p.keep = append(p.keep, keepRow(p.row))
		}
		if err := sink(p.row); err != nil {
			return Result{}, err
		}
		sent++
	}
	return Result{Suspended: true}, nil
}

// replay sends a constant statement's kept rows.
func (s *Session) replay(p *Portal, maxRows int, sink RowSink) (Result, error) {
	sent := int64(0)
	for len(p.showRows) > 0 && (maxRows <= 0 || sent < int64(maxRows)) {
		if err := sink(p.showRows[0]); err != nil {
			return Result{}, err
		}
		p.showRows = p.showRows[1:]
		sent++
	}
	if len(p.showRows) > 0 {
		return Result{Suspended: true}, nil
	}
	p.done, p.tag = true, p.stmt.completeTag(sent)
	p.showRows = nil
	return Result{Tag: p.tag}, nil
}

// logWrite remembers a statement with side effects for savepoint replay.
func (s *Session) logWrite(st *Statement, args []driver.NamedValue) {
	switch {
	case s.tx == txBlock && st.write:
		s.txLog = append(s.txLog, loggedStmt{sql: st.duckSQL, args: args})
	case s.tx == txImplicit && st.write:
		s.unlogged = true
	}
}

// noteTxStart records Engine.ddlGen as a DuckDB transaction begins.
func (s *Session) noteTxStart() { s.txGen = s.e.ddlGen.Load() }

// snapshotCurrent reports whether the session's DuckDB snapshot sees
// every table definition as committed now: no transaction open, or no
// DDL executed or ended anywhere since it began. Caches shared by all
// sessions (keyed by the committed definition) are read and filled only
// then, and the session's own shortcuts that trust them are taken.
func (s *Session) snapshotCurrent() bool {
	return s.tx == txIdle || s.e.ddlGen.Load() == s.txGen
}

// Fail records an error the wire layer raised outside Execute (a bad Bind,
// a failed Parse): it aborts the transaction as any error does.
func (s *Session) Fail(ctx context.Context) { s.fail(ctx) }

// endsFailedTx reports whether a statement may run in a failed transaction
// block: only those that end it (COMMIT, ROLLBACK, ROLLBACK TO SAVEPOINT).
func endsFailedTx(raw *pg_query.RawStmt) bool {
	if raw == nil {
		return false
	}
	st := &Statement{node: raw.Stmt}
	return st.txAllowedWhenFailed()
}

// execCount runs a statement that returns no rows and reports its row
// count. CREATE TABLE AS reports the rows it wrote (tag SELECT n), which
// DuckDB returns as a one-row result rather than as rows affected.
func execCount(ctx context.Context, ds *duckdb.Stmt, st *Statement, args []driver.NamedValue) (int64, error) {
	if st.tag != "SELECT" {
		r, err := ds.ExecContext(ctx, args)
		if err != nil {
			return 0, err
		}
		n, _ := r.RowsAffected()
		return n, nil
	}
	rows, err := ds.QueryContext(ctx, args)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	vals := make([]driver.Value, len(rows.Columns()))
	if len(vals) == 0 || rows.Next(vals) != nil {
		return 0, nil
	}
	switch n := vals[0].(type) {
	case int64:
		return n, nil
	case int32:
		return int64(n), nil
	}
	return 0, nil
}

// noticeMissingDrops sends PostgreSQL's NOTICE for DROP TABLE/VIEW IF EXISTS
// of an object that is not there; DuckDB skips it silently.
func (s *Session) noticeMissingDrops(ctx context.Context, st *Statement) {
	d := st.node.GetDropStmt()
	if d == nil || !d.MissingOk {
		return
	}
	kind := map[pg_query.ObjectType]string{pg_query.ObjectType_OBJECT_TABLE: "table", pg_query.ObjectType_OBJECT_VIEW: "view"}[d.RemoveType]
	if kind == "" {
		return
	}
	for _, o := range d.Objects {
		parts := o.GetList().GetItems()
		if len(parts) == 0 {
			continue
		}
		name := parts[len(parts)-1].GetString_().GetSval()
		schema := "main"
		if len(parts) > 1 {
			if schema = parts[len(parts)-2].GetString_().GetSval(); schema == "public" {
				schema = "main"
			}
		}
		rows, err := s.conn.QueryContext(ctx,
			"SELECT count(*) FROM duckdb_tables() WHERE schema_name = $1 AND table_name = $2 AND database_name = current_database() "+
				"UNION ALL SELECT count(*) FROM duckdb_views() WHERE schema_name = $1 AND view_name = $2 AND database_name = current_database()",
			[]driver.NamedValue{{Ordinal: 1, Value: schema}, {Ordinal: 2, Value: name}})
		if err != nil {
			continue
		}
		found := false
		vals := make([]driver.Value, 1)
		for rows.Next(vals) == nil {
			if n, _ := vals[0].(int64); n > 0 {
				found = true
			}
		}
		rows.Close()
		if !found {
			s.notice("NOTICE", pgerr.SuccessfulCompletion, "%s %q does not exist, skipping", kind, name)
		}
	}
}
