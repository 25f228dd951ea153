package engine

import (
	"context"
	"database/sql/driver"
	"fmt"
	"strconv"
	"strings"

	"github.com/duckdb/duckdb-go/v2"
	"github.com/jackc/pgx/v5/pgtype"
	pg_query "github.com/pganalyze/pg_query_go/v6"

	"github.com/hopsql/hopsql/engine/pgcatalog"
	"github.com/hopsql/hopsql/engine/pgerr"
	"github.com/hopsql/hopsql/engine/pgtypes"
)

// Statement is a prepared statement.
type Statement struct {
	Name string
	SQL  string
	// viewFrom replaces fromPlaceholder in a feature view's deparsed text.
	viewFrom string
	// online answers a lookup of online.<g> by key from memory (online.go).
	online *onlinePlan
	// pointLookup answers a lookup of a plain table by primary key from
	// memory when the table is read more than written (pointlookup.go).
	pointLookup *onlinePlan
	// prepErr is a problem the storage layer found while preparing.
	prepErr   error
	ParamOIDs []uint32
	// Fields describes the result rows; nil when the statement returns none.
	Fields []Field

	kind kind
	tag  string
	// names are PostgreSQL's names for the result columns, when known.
	names []string
	write bool
	node  *pg_query.Node

	// DuckDB side: the SQL DuckDB runs and its prepared statement. A second
	// portal on a statement whose DuckDB statement is still reading rows gets
	// a fresh one (DuckDB allows one open result per prepared statement).
	duckSQL string
	// jsonb marks the targets (as names lists them) that are visibly jsonb.
	jsonb []bool
	// castTypes: per target, the declared type of a top-level cast to
	// varchar(n), char(n) or jsonb (casttypes in jsontext.go).
	castTypes []pgtypes.Type
	// retyped: an operator or parameter was retyped after DuckDB refused
	// to bind it (prepareRetyped); raw holds the retyped tree.
	retyped bool
	// arrayParams: per parameter, the element type of an array parameter
	// bound as JSON text (arrayparams.go); 0 for the others; nil for none.
	arrayParams []uint32
	duck        *duckdb.Stmt
	duckBusy    bool
	closed      bool
	returnsRows bool

	// constant: see constant.go. result holds the kept rows; cached marks a
	// statement owned by the session's constant cache, which closes it.
	constant bool
	// alone: a simple query's only statement, so its implicit transaction
	// ends with it (set by PreparePiece).
	alone  bool
	result *constResult
	cached bool

	// export is set for COPY … TO 'hopsfs://…'.
	export *hopsfsExport
	// storage is set for statements that change managed tables (storage.go).
	storage *stmtStorage
	// fastIns is set for INSERTs the single-row path may take (fastinsert.go).
	fastIns *fastInsertPlan
	// lazy: a single-row INSERT of constants in a simple query, not yet
	// prepared on DuckDB (lazyRaw is its parse tree): the single-row and
	// buffered paths need no DuckDB statement, and DuckDB's prepare is
	// most of such an INSERT's cost. prepareLazy prepares it when needed.
	// literal: kept by prepareLiteral; its values come from Session.litArgs.
	literal     bool
	lazy        bool
	lazyRaw     *pg_query.RawStmt
	lazyDeparse bool // duckSQL is still the text as sent; lazyRaw's tree is the rewritten one
	// sqlPrep is a PREPARE statement's request (sqlprepare.go).
	sqlPrep *sqlPrepare
	// epoch is the session's view epoch when DuckDB prepared duck, gen its
	// settings generation (setGen).
	epoch, gen uint64
	// readsRel: the statement names relations other than its DML target
	// (or table functions), so it needs the session's table views.
	readsRel bool

	// Utility statement details.
	dbName    string
	missingOK bool
	copy      *CopyPlan
	cursor    *Statement // DECLARE: the cursor's query
}

// Tag is the statement's command verb (SELECT, INSERT, …).
func (st *Statement) Tag() string { return st.tag }

// Copy returns the COPY plan for COPY … FROM STDIN / TO STDOUT statements.
func (st *Statement) Copy() *CopyPlan { return st.copy }

func (st *Statement) close() {
	st.closed = true
	if st.duck != nil && !st.duckBusy {
		st.duck.Close()
		st.duck = nil
	}
	// A busy DuckDB statement belongs to a suspended portal until it
	// releases it (a client may replace the unnamed statement meanwhile).
}

func (st *Statement) acquire(ctx context.Context, s *Session) (*duckdb.Stmt, error) {
	if st.duck != nil && !st.duckBusy && !st.closed && (st.epoch != s.viewEpoch && st.needsViews() || st.gen != s.setGen) {
		// A table view changed since DuckDB bound this statement; DuckDB
		// would keep reading the old definition (and plans pruned by the
		// old statistics), so it is prepared again. So after a SET: DuckDB
		// folds constant expressions when it plans, under the settings of
		// that moment ('…'::timestamptz::text under the old TimeZone).
		ds, err := s.conn.PrepareContext(ctx, st.duckSQL)
		if err != nil {
			return nil, err
		}
		st.duck.Close()
		st.duck, st.epoch, st.gen = ds.(*duckdb.Stmt), s.viewEpoch, s.setGen
	}
	if st.duck != nil && !st.duckBusy && !st.closed {
		st.duckBusy = true
		return st.duck, nil
	}
	ds, err := s.conn.PrepareContext(ctx, st.duckSQL)
	if err != nil {
		return nil, err
	}
	return ds.(*duckdb.Stmt), nil
}

func (st *Statement) release(ds *duckdb.Stmt) {
	if ds != st.duck {
		ds.Close()
		return
	}
	st.duckBusy = false
	if st.closed {
		ds.Close()
		st.duck = nil
	}
}

func (st *Statement) completeTag(n int64) string {
	// strconv, not fmt: this runs once per statement, on the hot path of
	// short queries.
	switch st.tag {
	case "INSERT":
		return "INSERT 0 " + strconv.FormatInt(n, 10)
	case "SELECT", "UPDATE", "DELETE", "MERGE", "COPY", "FETCH", "MOVE":
		return st.tag + " " + strconv.FormatInt(n, 10)
	}
	return st.tag
}

func (st *Statement) txAllowedWhenFailed() bool {
	t := st.node.GetTransactionStmt()
	if t == nil {
		return false
	}
	switch t.Kind {
	case pg_query.TransactionStmtKind_TRANS_STMT_COMMIT, pg_query.TransactionStmtKind_TRANS_STMT_ROLLBACK,
		pg_query.TransactionStmtKind_TRANS_STMT_ROLLBACK_TO:
		return true
	}
	return false
}

// Portal is a bound statement, possibly partly read.
type Portal struct {
	Name string
	stmt *Statement
	args []driver.NamedValue
	// pipelined: bound by the extended protocol (see BindPipelined).
	pipelined bool
	// hold: a WITH HOLD cursor, which outlives its transaction.
	hold bool
	// storageStarted/Finished bracket a managed-table write (storage.go).
	storageStarted, storageFinished bool
	// noFast: the single-row INSERT path was taken and is being replayed
	// through the carrier (fastinsert.go).
	noFast bool

	duck *duckdb.Stmt
	rows driver.Rows
	// cols replaces rows when the result is read as columnar batches.
	cols *columnCursor
	row  []driver.Value
	done bool
	tag  string
	// showRows are the rows of a SHOW statement, or a constant statement's kept rows.
	showRows [][]driver.Value
	// keep collects a constant statement's rows on its first run.
	keep [][]driver.Value
}

// Statement is the portal's prepared statement.
func (p *Portal) Statement() *Statement { return p.stmt }

func (p *Portal) finish(n int64) {
	p.tag = p.stmt.completeTag(n)
	p.done = true
	p.close()
}

// started: the portal's statement has run and its rows are being read.
func (p *Portal) started() bool { return p.rows != nil || p.cols != nil }

func (p *Portal) close() {
	if p.rows != nil {
		p.rows.Close()
		p.rows = nil
	}
	if p.cols != nil {
		p.cols.close() // closes the rows it wraps
		p.cols = nil
	}
	if p.duck != nil {
		p.stmt.release(p.duck)
		p.duck = nil
	}
}

// prepare classifies a statement and, for DuckDB statements, rewrites and
// prepares it. raw is nil for text pg_query could not parse.
func (s *Session) prepare(ctx context.Context, sql string, raw *pg_query.RawStmt, paramOIDs []uint32) (*Statement, error) {
	return s.prepareStmt(ctx, sql, raw, paramOIDs, false)
}

// prepareStmt is prepare; lazyInsert lets a single-row INSERT of
// constants skip DuckDB's prepare until it is needed (Statement.lazy):
// for a simple query, whose errors are reported at execution anyway.
func (s *Session) prepareStmt(ctx context.Context, sql string, raw *pg_query.RawStmt, paramOIDs []uint32, lazyInsert bool) (*Statement, error) {
	st := &Statement{SQL: sql, kind: kindDuck, duckSQL: sql, write: true}
	if raw == nil && strings.TrimSpace(strings.Trim(sql, "; \t\r\n")) == "" {
		st.kind, st.write = kindEmpty, false
		return st, nil
	}
	if raw != nil {
		if ex := raw.Stmt.GetExecuteStmt(); ex != nil {
			// Runs as the named statement's query (sqlprepare.go); never a
			// cached constant, since the name may be prepared anew.
			est, err := s.prepareSQLExecute(ctx, ex, paramOIDs)
			if err == nil {
				est.constant = false
			}
			return est, err
		}
		st.node = raw.Stmt
		c := classify(raw.Stmt)
		st.kind, st.tag, st.write = c.kind, c.tag, c.write
		if st.kind == kindSQLPrepare {
			// The query as written: it is prepared (and rewritten) when
			// the PREPARE runs.
			req, err := planSQLPrepare(raw.Stmt.GetPrepareStmt())
			if err != nil {
				return nil, err
			}
			st.sqlPrep, st.ParamOIDs = req, paramOIDs
			return st, nil
		}
		storageChanged := s.prepareStorage(raw.Stmt, st)
		if st.prepErr != nil {
			return nil, st.prepErr
		}
		if err := s.prepareUtility(ctx, st, raw); err != nil {
			return nil, err
		}
		if st.kind != kindDuck {
			st.ParamOIDs = paramOIDs
			return st, nil
		}
		// Names first: the rewrite replaces nodes the names derive from.
		st.names = targetNames(raw.Stmt)
		st.jsonb = jsonbTargets(raw.Stmt)
		st.castTypes = castTypes(raw.Stmt, sql)
		st.constant = len(paramOIDs) == 0 && isConstantSelect(raw.Stmt)
		fsChanged, err := s.resolveHopsfs(ctx, raw.Stmt, st)
		if err != nil {
			return nil, err
		}
		trChanged, err := s.resolveTransforms(raw.Stmt)
		if err != nil {
			return nil, err
		}
		fsChanged = fsChanged || trChanged
		changed, err := pgcatalog.Rewrite(raw, s)
		if err != nil {
			return nil, err
		}
		changed = changed || fsChanged || storageChanged
		st.lazy = lazyInsert && st.fastIns != nil && st.fastIns.constants() && len(paramOIDs) == 0
		if changed && st.lazy {
			// Deparsed when DuckDB needs it (prepareLazy): as costly as
			// the rest of such an INSERT's preparation.
			st.lazyDeparse = true
		} else if changed {
			out, err := deparse(raw.Stmt)
			if err != nil {
				return nil, fmt.Errorf("deparse rewritten statement: %w", err)
			}
			if ss := st.storage; ss != nil && ss.direct {
				q, err := deparse(raw.Stmt.GetCreateTableAsStmt().Query)
				if err != nil {
					return nil, fmt.Errorf("deparse CREATE TABLE … AS query: %w", err)
				}
				ss.directSQL = q
			}
			if st.viewFrom != "" {
				// A feature view's joins, in DuckDB's syntax (featureview.go).
				out = strings.Replace(out, fromPlaceholder, st.viewFrom, 1)
			}
			st.duckSQL = out
		}
		st.returnsRows = c.rows
	}
	// The session's table views must be current before DuckDB binds names.
	if st.needsViews() {
		if err := s.syncViews(ctx); err != nil {
			return nil, err
		}
	}
	st.epoch, st.gen = s.viewEpoch, s.setGen
	if st.lazy {
		st.lazyRaw = raw
		return st, nil
	}
	if err := s.prepareDuck(ctx, st, raw, paramOIDs); err != nil {
		return nil, err
	}
	if ss := st.storage; ss != nil && ss.direct && st.retyped {
		// The query a CREATE TABLE … AS runs on its own needs the
		// operators DuckDB refused retyped too.
		if q, err := deparse(raw.Stmt.GetCreateTableAsStmt().GetQuery()); err == nil {
			ss.directSQL = q
		}
	}
	if ss := st.storage; ss != nil && ss.directSQL != "" {
		// The query a CREATE TABLE … AS runs on its own needs the same
		// keyword quoting DuckDB needed for the whole statement.
		ds, sql, err := s.prepareQuoted(ctx, ss.directSQL, true)
		if err != nil {
			st.close()
			return nil, pgerr.From(err)
		}
		ds.Close()
		ss.directSQL = sql
	}
	if raw == nil && st.duck != nil {
		// A statement only DuckDB's grammar accepts bypasses the storage
		// layer, so it may not change tables: its rows would land in a
		// carrier and its definitions escape the catalog.
		if t, err := st.duck.StatementType(); err == nil {
			switch t {
			case duckdb.STATEMENT_TYPE_INSERT, duckdb.STATEMENT_TYPE_UPDATE, duckdb.STATEMENT_TYPE_DELETE,
				duckdb.STATEMENT_TYPE_CREATE, duckdb.STATEMENT_TYPE_ALTER, duckdb.STATEMENT_TYPE_DROP:
				st.close()
				return nil, pgerr.New(pgerr.FeatureNotSupported, "statements that change tables must be written in PostgreSQL syntax").
					WithHint("DuckDB-only syntax is accepted for queries; write INSERT, UPDATE, DELETE, CREATE, ALTER and DROP as PostgreSQL does.")
			}
		}
	}
	return st, nil
}

// prepareLazy prepares a lazy statement on DuckDB.
func (s *Session) prepareLazy(ctx context.Context, st *Statement) error {
	if !st.lazy {
		return nil
	}
	st.epoch, st.gen = s.viewEpoch, s.setGen
	if st.lazyDeparse {
		out, err := deparse(st.lazyRaw.Stmt)
		if err != nil {
			return fmt.Errorf("deparse rewritten statement: %w", err)
		}
		st.duckSQL, st.lazyDeparse = out, false
	}
	if err := s.prepareDuck(ctx, st, st.lazyRaw, nil); err != nil {
		return err
	}
	st.lazy, st.lazyRaw = false, nil
	return nil
}

// prepareDuck prepares st.duckSQL on DuckDB and derives parameter and result
// types. Parameters whose type the client declared, or whose type DuckDB
// cannot infer, are cast explicitly and the statement prepared again, so
// that DuckDB sees the same types PostgreSQL would.
func (s *Session) prepareDuck(ctx context.Context, st *Statement, raw *pg_query.RawStmt, paramOIDs []uint32) error {
	ds, err := s.prepareQuotingKeywords(ctx, st, raw != nil)
	if err != nil && raw != nil {
		ds, err = s.prepareRetyped(ctx, st, raw, err)
	}
	if err != nil {
		pe := pgerr.From(err)
		if st.duckSQL == st.SQL {
			pe.ResolvePosition(st.SQL)
		}
		return pe
	}
	stmt := ds.(*duckdb.Stmt)
	n := stmt.NumInput()
	if len(paramOIDs) > n {
		n = len(paramOIDs)
	}
	oids := make([]uint32, n)
	casts := map[int32]string{}
	// The INSERT target's column types are read only if a list parameter
	// needs them (an extra prepare otherwise spent on every INSERT).
	var insertTypes map[int32]pgtypes.Type
	insertType := func(n int32) pgtypes.Type {
		if insertTypes == nil {
			insertTypes = s.insertParamTypes(ctx, raw)
			if insertTypes == nil {
				insertTypes = map[int32]pgtypes.Type{}
			}
		}
		return insertTypes[n]
	}
	var explicit map[int32]uint32
	for i := 0; i < n; i++ {
		var want uint32
		if i < len(paramOIDs) {
			want = paramOIDs[i]
		}
		got := uint32(0)
		nested := false
		if i < stmt.NumInput() {
			if t, err := stmt.ParamType(i + 1); err == nil {
				got = oidOfDuckType(t)
				nested = t == duckdb.TYPE_LIST || t == duckdb.TYPE_ARRAY
			}
		}
		if want == 0 && (got == 0 || nested) && raw != nil {
			// $n::type: the parameter has the cast's type, as in
			// PostgreSQL. DuckDB stops inferring parameter types after one
			// it cannot resolve, and names lists without their element.
			if explicit == nil {
				explicit = paramCastTypes(raw.Stmt)
			}
			want = explicit[int32(i+1)]
		}
		switch {
		case want == 0 && nested && insertType(int32(i+1)).OID != 0:
			t := insertType(int32(i + 1))
			oids[i] = t.OID
			if info, ok := pgtypes.Lookup(t.OID); ok {
				casts[int32(i+1)] = info.DuckDB
			}
		case want == 0 && nested:
			// DuckDB's API names only LIST, not the element type: describe the
			// parameter as text[] and let DuckDB cast the strings to the target.
			oids[i] = pgtypes.ArrayOf(25)
			casts[int32(i+1)] = "VARCHAR[]"
		case want != 0 && want != got:
			oids[i] = want
			if info, ok := pgtypes.Lookup(want); ok {
				casts[int32(i+1)] = info.DuckDB
			}
		case got == 0:
			// PostgreSQL resolves a parameter of unknown type as text.
			oids[i] = 25
			casts[int32(i+1)] = "VARCHAR"
		default:
			oids[i] = got
		}
	}
	if len(casts) > 0 && raw != nil {
		stmt.Close()
		castParams(raw.Stmt, casts)
		out, err := deparse(raw.Stmt)
		if err != nil {
			return fmt.Errorf("deparse with parameter casts: %w", err)
		}
		st.duckSQL = out
		ds, err = s.conn.PrepareContext(ctx, st.duckSQL)
		if err != nil {
			ds, err = s.prepareParamRetyped(ctx, st, raw, oids, paramOIDs, err)
		}
		if err != nil {
			return pgerr.From(err)
		}
		stmt = ds.(*duckdb.Stmt)
	}
	st.ParamOIDs = oids
	st.arrayParams = nil
	if raw != nil {
		for n, typ := range casts {
			if strings.HasSuffix(typ, "[]") && int(n) <= len(oids) {
				if st.arrayParams == nil {
					st.arrayParams = make([]uint32, len(oids))
				}
				elem := uint32(pgtype.TextOID)
				if info, ok := pgtypes.Lookup(oids[n-1]); ok && info.ElemOID != 0 {
					elem = info.ElemOID
				}
				st.arrayParams[n-1] = elem
			}
		}
	}
	st.duck = stmt
	if raw == nil {
		// Text DuckDB alone parsed: decide from DuckDB's own classification.
		t, _ := stmt.StatementType()
		st.tag, st.write = duckStatementTag(t)
		st.returnsRows = t == duckdb.STATEMENT_TYPE_SELECT || t == duckdb.STATEMENT_TYPE_EXPLAIN ||
			t == duckdb.STATEMENT_TYPE_PRAGMA || t == duckdb.STATEMENT_TYPE_CALL || t == duckdb.STATEMENT_TYPE_RELATION
	}
	if !st.returnsRows {
		return nil
	}
	if raw != nil && st.viewFrom == "" { // a feature view's text is not the tree's
		if changed, err := s.pgAggregateTypes(ctx, raw, stmt); err != nil {
			return err
		} else if changed {
			out, err := deparse(raw.Stmt)
			if err != nil {
				return fmt.Errorf("deparse with PostgreSQL aggregate types: %w", err)
			}
			stmt.Close()
			st.duck, st.duckSQL = nil, out
			// The parameters are cast in the tree by now: DuckDB would
			// report the casts' types (JSON for an array parameter), not
			// what the client is to send.
			oids, arrays := st.ParamOIDs, st.arrayParams
			if err := s.prepareDuck(ctx, st, raw, paramOIDs); err != nil {
				return err
			}
			st.ParamOIDs, st.arrayParams = oids, arrays
			return nil
		}
	}
	cols, err := stmt.ColumnCount()
	if err != nil {
		return pgerr.From(err)
	}
	duckNames := make([]string, cols)
	for i := range duckNames {
		duckNames[i], _ = stmt.ColumnName(i)
	}
	names := matchNames(st.names, duckNames)
	st.Fields = make([]Field, cols)
	types := make([]duckdb.TypeInfo, cols)
	for i := 0; i < cols; i++ {
		f := Field{Name: names[i], Type: pgtypes.Type{OID: 25, Typmod: -1, Size: -1}}
		if ti, err := stmt.ColumnTypeInfo(i); err == nil && ti != nil {
			f.Type = pgtypes.FromDuckDB(ti)
			types[i] = ti
		}
		st.Fields[i] = f
	}
	markJSONB(st)
	var textCols []int
	st.duck, textCols = s.readJSONAsText(ctx, st, stmt, types)
	if st.node != nil {
		s.resolveSources(ctx, st)
	}
	markJSONText(st, textCols)
	return nil
}

func oidOfDuckType(t duckdb.Type) uint32 {
	switch t {
	case duckdb.TYPE_INVALID, duckdb.TYPE_ANY, duckdb.TYPE_SQLNULL:
		return 0
	case duckdb.TYPE_DECIMAL:
		// Of any width and scale: NewTypeInfo would want them.
		return pgtype.NumericOID
	}
	ti, err := duckdb.NewTypeInfo(t)
	if err != nil {
		// Nested types need details NewTypeInfo cannot invent; text is what
		// a client can always send and DuckDB can always cast.
		return 25
	}
	return pgtypes.FromDuckDB(ti).OID
}

// paramCastTypes maps the parameters a statement casts ($1::int) to the
// cast's type; a parameter cast to two types, or to one hopsql does not
// know by name, is left out.
func paramCastTypes(stmt *pg_query.Node) map[int32]uint32 {
	out := map[int32]uint32{}
	conflict := map[int32]bool{}
	pgcatalog.Walk(stmt, func(n *pg_query.Node) bool {
		tc := n.GetTypeCast()
		if tc == nil || tc.Arg.GetParamRef() == nil {
			return true
		}
		num, oid := tc.Arg.GetParamRef().Number, typeNameOID(tc.TypeName)
		if prev, seen := out[num]; seen && prev != oid {
			conflict[num] = true
		}
		out[num] = oid
		return true
	})
	for num := range conflict {
		delete(out, num)
	}
	return out
}

// castParams wraps $n in the given DuckDB type casts.
func castParams(stmt *pg_query.Node, casts map[int32]string) {
	pgcatalog.Walk(stmt, func(n *pg_query.Node) bool {
		// The replacement holds the same ParamRef: do not descend into it.
		return !castParam(n, casts)
	})
}

// castParam replaces a ParamRef node in place by a cast of it and reports
// whether it did. Replacing the node's payload keeps the parent's pointer
// valid, so no parent links are needed.
func castParam(n *pg_query.Node, casts map[int32]string) bool {
	pr := n.GetParamRef()
	if pr == nil {
		return false
	}
	typ, ok := casts[pr.Number]
	if !ok {
		return false
	}
	inner := &pg_query.Node{Node: &pg_query.Node_ParamRef{ParamRef: &pg_query.ParamRef{Number: pr.Number, Location: pr.Location}}}
	if strings.HasSuffix(typ, "[]") {
		// Bound as JSON text (arrayparams.go).
		json := &pg_query.TypeName{Names: []*pg_query.Node{pg_query.MakeStrNode("json")}, Typemod: -1, Location: -1}
		inner = &pg_query.Node{Node: &pg_query.Node_TypeCast{TypeCast: &pg_query.TypeCast{Arg: inner, TypeName: json, Location: -1}}}
		if strings.HasPrefix(typ, "BLOB") {
			// Blobs through text, which reads their \xHH escapes.
			text := &pg_query.TypeName{Names: []*pg_query.Node{pg_query.MakeStrNode("varchar")}, ArrayBounds: []*pg_query.Node{pg_query.MakeIntNode(-1)}, Typemod: -1, Location: -1}
			inner = &pg_query.Node{Node: &pg_query.Node_TypeCast{TypeCast: &pg_query.TypeCast{Arg: inner, TypeName: text, Location: -1}}}
		}
	}
	tn := &pg_query.TypeName{Typemod: -1, Location: -1}
	base, isArray := strings.CutSuffix(typ, "[]")
	tn.Names = []*pg_query.Node{pg_query.MakeStrNode(strings.ToLower(base))}
	if isArray {
		tn.ArrayBounds = []*pg_query.Node{pg_query.MakeIntNode(-1)}
	}
	n.Node = &pg_query.Node_TypeCast{TypeCast: &pg_query.TypeCast{Arg: inner, TypeName: tn, Location: -1}}
	return true
}

func duckStatementTag(t duckdb.StmtType) (string, bool) {
	switch t {
	case duckdb.STATEMENT_TYPE_SELECT, duckdb.STATEMENT_TYPE_RELATION:
		return "SELECT", false
	case duckdb.STATEMENT_TYPE_INSERT:
		return "INSERT", true
	case duckdb.STATEMENT_TYPE_UPDATE:
		return "UPDATE", true
	case duckdb.STATEMENT_TYPE_DELETE:
		return "DELETE", true
	case duckdb.STATEMENT_TYPE_EXPLAIN:
		return "EXPLAIN", false
	case duckdb.STATEMENT_TYPE_CREATE:
		return "CREATE", true
	case duckdb.STATEMENT_TYPE_DROP:
		return "DROP", true
	case duckdb.STATEMENT_TYPE_ALTER:
		return "ALTER", true
	case duckdb.STATEMENT_TYPE_COPY:
		return "COPY", true
	case duckdb.STATEMENT_TYPE_PRAGMA:
		return "PRAGMA", false
	case duckdb.STATEMENT_TYPE_ATTACH:
		return "ATTACH", true
	case duckdb.STATEMENT_TYPE_DETACH:
		return "DETACH", true
	case duckdb.STATEMENT_TYPE_LOAD:
		return "LOAD", false
	case duckdb.STATEMENT_TYPE_CALL:
		return "CALL", false
	}
	return "OK", true
}

// insertParamTypes maps the $n that stand alone in an INSERT … VALUES list to
// their target column's type. DuckDB's API names only the outer type of a
// LIST parameter; the column knows the element type too.
func (s *Session) insertParamTypes(ctx context.Context, raw *pg_query.RawStmt) map[int32]pgtypes.Type {
	if raw == nil {
		return nil
	}
	ins := raw.Stmt.GetInsertStmt()
	if ins == nil || ins.SelectStmt.GetSelectStmt() == nil || len(ins.SelectStmt.GetSelectStmt().ValuesLists) == 0 {
		return nil
	}
	cols := "*"
	if len(ins.Cols) > 0 {
		names := make([]string, len(ins.Cols))
		for i, c := range ins.Cols {
			names[i] = quoteIdent(c.GetResTarget().GetName())
		}
		cols = strings.Join(names, ", ")
	}
	ds, err := s.conn.PrepareContext(ctx, "SELECT "+cols+" FROM "+relationName(ins.Relation)+" LIMIT 0")
	if err != nil {
		return nil
	}
	probe := ds.(*duckdb.Stmt)
	defer probe.Close()
	out := map[int32]pgtypes.Type{}
	for _, row := range ins.SelectStmt.GetSelectStmt().ValuesLists {
		for i, v := range row.GetList().GetItems() {
			if pr := v.GetParamRef(); pr != nil {
				if ti, err := probe.ColumnTypeInfo(i); err == nil {
					out[pr.Number] = pgtypes.FromDuckDB(ti)
				}
			}
		}
	}
	return out
}

// targetTable names the table an INSERT, UPDATE or MERGE writes, as the
// client spelled it (for error fields).
func (st *Statement) targetTable() (schema, table string, ok bool) {
	if st.node == nil {
		return "", "", false
	}
	var rv *pg_query.RangeVar
	switch {
	case st.node.GetInsertStmt() != nil:
		rv = st.node.GetInsertStmt().Relation
	case st.node.GetUpdateStmt() != nil:
		rv = st.node.GetUpdateStmt().Relation
	case st.node.GetMergeStmt() != nil:
		rv = st.node.GetMergeStmt().Relation
	}
	if rv == nil {
		return "", "", false
	}
	schema = rv.Schemaname
	if schema == "" || schema == "main" {
		schema = "public"
	}
	return schema, rv.Relname, true
}

// maxRetypes bounds how many operators one statement may have retyped.
const maxRetypes = 8

// prepareRetyped handles DuckDB's refusal to bind an operator whose
// meaning depends on types the rewriter could not see (a jsonb column's
// @>, array || element, time - time): pgcatalog.Retype rewrites the
// operator the error names, and the statement is prepared again. On
// success raw holds the retyped tree, so that later deparses keep it; on
// failure the last error is returned (once an operator was retyped, the
// next error is the statement's own).
func (s *Session) prepareRetyped(ctx context.Context, st *Statement, raw *pg_query.RawStmt, err error) (driver.Stmt, error) {
	return s.retypeLoop(ctx, st, raw, err, pgcatalog.Retype)
}

// prepareParamRetyped handles DuckDB's refusal of an operator between a
// parameter of unknown type, cast to text, and an operand of another type
// (`$1::int + $2`): the parameter takes that type, as in PostgreSQL, and
// the statement is prepared again; oids (the parameter types the client
// is told) follow.
func (s *Session) prepareParamRetyped(ctx context.Context, st *Statement, raw *pg_query.RawStmt, oids, declared []uint32, err error) (driver.Stmt, error) {
	return s.retypeLoop(ctx, st, raw, err, func(sql string, off int, msg string) (*pg_query.Node, bool) {
		tree, param, duckType, ok := pgcatalog.RetypeParam(sql, off, msg)
		oid := pgtypes.OIDOfDuckName(duckType)
		if !ok || oid == 0 || param < 1 || int(param) > len(oids) || int(param) <= len(declared) && declared[param-1] != 0 {
			// A type the client declared stays (PostgreSQL refuses such
			// an operator at prepare, as DuckDB did).
			return nil, false
		}
		oids[param-1] = oid
		return tree, true
	})
}

// retypeLoop places DuckDB's caret in the statement it refused, lets
// retype rewrite the tree parsed from it, and prepares the result, while
// DuckDB refuses (at most maxRetypes times). On success the statement and
// raw hold the retyped text and tree; on failure the last error returns.
func (s *Session) retypeLoop(ctx context.Context, st *Statement, raw *pg_query.RawStmt, err error,
	retype func(sql string, off int, msg string) (*pg_query.Node, bool)) (driver.Stmt, error) {
	sql := st.duckSQL
	for i := 0; i < maxRetypes; i++ {
		pe := pgerr.From(err)
		off, ok := pe.CaretOffset(sql)
		if !ok {
			return nil, err
		}
		tree, ok := retype(sql, off, pe.Message)
		if !ok {
			return nil, err
		}
		retyped, derr := deparse(tree)
		if derr != nil {
			return nil, err
		}
		sql = retyped
		ds, perr := s.conn.PrepareContext(ctx, sql)
		if perr == nil {
			st.duckSQL, raw.Stmt, st.retyped = sql, tree, true
			return ds, nil
		}
		err = perr
	}
	return nil, err
}

// prepareQuotingKeywords prepares st.duckSQL on DuckDB. When PostgreSQL's
// grammar accepted the statement (pgParsed) and DuckDB's stops at a word
// PostgreSQL treats as an identifier, the word is quoted and the statement
// prepared again (see quoteKeywordAt).
func (s *Session) prepareQuotingKeywords(ctx context.Context, st *Statement, pgParsed bool) (driver.Stmt, error) {
	ds, sql, err := s.prepareQuoted(ctx, st.duckSQL, pgParsed)
	st.duckSQL = sql
	return ds, err
}

// prepareQuoted prepares sql, quoting words DuckDB takes for keywords where
// PostgreSQL's grammar (when it accepted the text) saw identifiers; it
// returns the text that was prepared.
func (s *Session) prepareQuoted(ctx context.Context, sql string, pgParsed bool) (driver.Stmt, string, error) {
	for i := 0; ; i++ {
		ds, err := s.conn.PrepareContext(ctx, sql)
		if err == nil || !pgParsed || i == maxKeywordQuotes {
			return ds, sql, err
		}
		pe := pgerr.From(err)
		if pe.Code != pgerr.SyntaxError {
			return nil, sql, err
		}
		off, ok := pe.CaretOffset(sql)
		if !ok && strings.HasSuffix(pe.Message, "at end of input") {
			off, ok = len(sql), true // DuckDB shows no caret for this one
		}
		if !ok {
			return nil, sql, err
		}
		quoted, ok := quoteKeywordAt(sql, off)
		if !ok {
			return nil, sql, err
		}
		sql = quoted
	}
}
