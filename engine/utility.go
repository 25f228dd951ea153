package engine

import (
	"context"
	"database/sql/driver"
	"fmt"
	"strconv"
	"strings"

	pg_query "github.com/pganalyze/pg_query_go/v6"

	"github.com/hopsql/hopsql/engine/pgerr"
	"github.com/hopsql/hopsql/engine/pgtypes"
)

var textField = func(name string) Field {
	return Field{Name: name, Type: pgtypes.Type{OID: 25, Typmod: -1, Size: -1}}
}

// prepareUtility fills in what a utility statement needs at execution.
func (s *Session) prepareUtility(ctx context.Context, st *Statement, raw *pg_query.RawStmt) error {
	switch x := raw.Stmt.Node.(type) {
	case *pg_query.Node_VariableShowStmt:
		name := showName(x.VariableShowStmt.Name)
		if name == "all" {
			st.Fields = []Field{textField("name"), textField("setting"), textField("description")}
			return nil
		}
		if _, ok := s.set.get(name); !ok {
			return pgerr.New(pgerr.UndefinedObject, "unrecognized configuration parameter %q", x.VariableShowStmt.Name)
		}
		st.Fields = []Field{textField(canonicalName(name))}
	case *pg_query.Node_DoStmt:
		if req, ok := experimentRequestOf(x.DoStmt); ok {
			st.Fields = experimentFields(req.Op)
		}
	case *pg_query.Node_CreatedbStmt:
		st.dbName = x.CreatedbStmt.Dbname
	case *pg_query.Node_DropdbStmt:
		st.dbName, st.missingOK = x.DropdbStmt.Dbname, x.DropdbStmt.MissingOk
	case *pg_query.Node_DeallocateStmt:
		st.dbName = x.DeallocateStmt.Name
	case *pg_query.Node_DeclareCursorStmt:
		return s.prepareDeclare(ctx, st, x.DeclareCursorStmt)
	case *pg_query.Node_FetchStmt:
		return s.prepareFetch(st, x.FetchStmt)
	case *pg_query.Node_CopyStmt:
		if st.kind != kindCopy {
			return nil // COPY to or from a file: DuckDB runs it
		}
		plan, err := s.planCopy(ctx, x.CopyStmt)
		if err != nil {
			return err
		}
		st.copy = plan
	}
	return nil
}

func showName(n string) string {
	switch strings.ToLower(n) {
	case "transaction isolation level":
		return "transaction_isolation"
	case "session authorization":
		return "session_authorization"
	case "time zone", "timezone":
		return "timezone"
	}
	return strings.ToLower(n)
}

func (s *Session) execShow(p *Portal, maxRows int, sink RowSink) (Result, error) {
	st := p.stmt
	if p.showRows == nil {
		name := showName(st.node.GetVariableShowStmt().Name)
		if name == "all" {
			for _, r := range s.set.all() {
				p.showRows = append(p.showRows, []driver.Value{r[0], r[1], r[2]})
			}
		} else {
			v, ok := s.set.get(name)
			if !ok {
				return Result{}, pgerr.New(pgerr.UndefinedObject, "unrecognized configuration parameter %q", name)
			}
			p.showRows = [][]driver.Value{{v}}
		}
	}
	sent := 0
	for len(p.showRows) > 0 && (maxRows <= 0 || sent < maxRows) {
		if err := sink(p.showRows[0]); err != nil {
			return Result{}, err
		}
		p.showRows = p.showRows[1:]
		sent++
	}
	if len(p.showRows) > 0 {
		return Result{Suspended: true}, nil
	}
	p.done, p.tag = true, "SHOW"
	return Result{Tag: "SHOW"}, nil
}

// constString renders a SET argument the way PostgreSQL stores it.
func constString(n *pg_query.Node) (string, error) {
	if c := n.GetAConst(); c != nil {
		switch v := c.Val.(type) {
		case *pg_query.A_Const_Sval:
			return v.Sval.Sval, nil
		case *pg_query.A_Const_Ival:
			return strconv.Itoa(int(v.Ival.Ival)), nil
		case *pg_query.A_Const_Fval:
			return v.Fval.Fval, nil
		case *pg_query.A_Const_Boolval:
			if v.Boolval.Boolval {
				return "on", nil
			}
			return "off", nil
		}
		if c.Isnull {
			return "", pgerr.New(pgerr.InvalidParameterValue, "SET does not accept NULL")
		}
	}
	if tc := n.GetTypeCast(); tc != nil {
		return constString(tc.Arg)
	}
	return "", pgerr.New(pgerr.FeatureNotSupported, "unsupported SET value")
}

func (s *Session) execSet(ctx context.Context, st *Statement) error {
	v := st.node.GetVariableSetStmt()
	if v.IsLocal && s.tx == txIdle {
		s.notice("WARNING", pgerr.NoActiveSQLTransaction, "SET LOCAL can only be used in transaction blocks")
		return nil
	}
	switch v.Kind {
	case pg_query.VariableSetKind_VAR_SET_VALUE:
		vals := make([]string, 0, len(v.Args))
		for _, a := range v.Args {
			sv, err := constString(a)
			if err != nil {
				return err
			}
			vals = append(vals, sv)
		}
		return s.setParam(ctx, v.Name, strings.Join(vals, ", "), v.IsLocal)
	case pg_query.VariableSetKind_VAR_SET_DEFAULT, pg_query.VariableSetKind_VAR_RESET:
		def := ""
		if d, ok := settingDefs[strings.ToLower(v.Name)]; ok {
			def = d.def
		}
		if _, ok := settingDefs[strings.ToLower(v.Name)]; !ok {
			if _, err := s.set.reset(v.Name); err != nil {
				return err
			}
			return nil
		}
		return s.setParam(ctx, v.Name, def, v.IsLocal)
	case pg_query.VariableSetKind_VAR_RESET_ALL:
		for k, d := range settingDefs {
			if !d.readOnly && k != "session_authorization" {
				if cur, _ := s.set.get(k); cur != d.def {
					if err := s.setParam(ctx, d.name, d.def, false); err != nil {
						return err
					}
				}
			}
		}
		return nil
	case pg_query.VariableSetKind_VAR_SET_MULTI:
		// SET TRANSACTION … and SET SESSION CHARACTERISTICS AS TRANSACTION …
		prefix := ""
		if strings.EqualFold(v.Name, "SESSION CHARACTERISTICS") {
			prefix = "default_"
		} else if s.tx == txIdle {
			s.notice("WARNING", pgerr.NoActiveSQLTransaction, "SET TRANSACTION can only be used in transaction blocks")
			return nil
		}
		for _, a := range v.Args {
			d := a.GetDefElem()
			if d == nil {
				continue
			}
			val, err := constString(d.Arg)
			if err != nil {
				return err
			}
			if d.Defname == "transaction_read_only" {
				val = boolWord(val)
				if prefix == "" {
					s.txReadOnly = val == "on"
				}
			}
			if d.Defname == "transaction_deferrable" {
				continue
			}
			if err := s.setParam(ctx, prefix+d.Defname, val, prefix == ""); err != nil {
				return err
			}
		}
		return nil
	}
	return pgerr.New(pgerr.FeatureNotSupported, "unsupported SET statement")
}

func boolWord(v string) string {
	if v == "1" || strings.EqualFold(v, "on") || strings.EqualFold(v, "true") {
		return "on"
	}
	return "off"
}

// setParam changes a parameter, remembering the old value for transaction
// rollback and telling DuckDB and the client where needed.
func (s *Session) setParam(ctx context.Context, name, value string, local bool) error {
	old, _ := s.set.get(name)
	nv, err := s.set.set(name, value)
	if err != nil {
		return err
	}
	if err := s.applyToDuckDB(ctx, name, nv); err != nil {
		s.set.set(name, old)
		return err
	}
	if s.tx != txIdle {
		s.txUndo = append(s.txUndo, settingUndo{name: name, old: old, local: local})
	}
	s.reportChange(name, nv)
	return nil
}

// restoreParam puts back a value saved in txUndo.
func (s *Session) restoreParam(name, old string) {
	if _, err := s.set.set(name, old); err != nil {
		return
	}
	s.applyToDuckDB(context.Background(), name, old)
	s.reportChange(name, old)
}

func (s *Session) reportChange(name, v string) {
	s.setGen++ // kept constant results may depend on any setting
	if strings.EqualFold(name, "timezone") {
		s.loc = nil
	}
	if d, ok := settingDefs[strings.ToLower(name)]; ok && d.report {
		s.ParameterChanged(d.name, v)
	}
}

// applyToDuckDB mirrors the parameters DuckDB itself must know.
func (s *Session) applyToDuckDB(ctx context.Context, name, v string) error {
	switch strings.ToLower(name) {
	case "timezone":
		if err := s.exec(ctx, "SET TimeZone = "+quoteLiteral(duckTimeZone(v))); err != nil {
			return pgerr.New(pgerr.InvalidParameterValue, "invalid value for parameter \"TimeZone\": %q", v)
		}
	case "search_path":
		var schemas []string
		for _, part := range strings.Split(v, ",") {
			p := strings.Trim(strings.TrimSpace(part), `"`)
			switch p {
			case "", "$user", "pg_catalog":
				continue
			case "public":
				p = "main"
			}
			schemas = append(schemas, p)
		}
		if len(schemas) == 0 {
			schemas = []string{"main"}
		}
		// PostgreSQL accepts schemas that do not exist yet; DuckDB does not,
		// so fall back to main rather than refuse the setting.
		if err := s.exec(ctx, "SET search_path = "+quoteLiteral(strings.Join(schemas, ","))); err != nil {
			return s.exec(ctx, "SET search_path = 'main'")
		}
	}
	return nil
}

func quoteLiteral(s string) string {
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}

func (s *Session) discardAll(ctx context.Context, st *Statement) error {
	for name := range s.portals {
		s.ClosePortal(name)
	}
	for name := range s.named {
		if name != "" {
			s.CloseStatement(name)
		}
	}
	s.dropLiterals()
	return s.execSet(ctx, &Statement{node: &pg_query.Node{Node: &pg_query.Node_VariableSetStmt{
		VariableSetStmt: &pg_query.VariableSetStmt{Kind: pg_query.VariableSetKind_VAR_RESET_ALL}}}})
}

// execTx runs BEGIN, COMMIT, ROLLBACK and savepoint commands.
func (s *Session) execTx(ctx context.Context, st *Statement) (string, error) {
	t := st.node.GetTransactionStmt()
	ctx = context.WithoutCancel(ctx) // ending a transaction must not be half-done
	switch t.Kind {
	case pg_query.TransactionStmtKind_TRANS_STMT_BEGIN, pg_query.TransactionStmtKind_TRANS_STMT_START:
		switch s.tx {
		case txBlock:
			s.notice("WARNING", pgerr.ActiveSQLTransaction, "there is already a transaction in progress")
			return st.tag, nil
		case txIdle:
			s.noteTxStart()
			if err := s.exec(ctx, "BEGIN TRANSACTION"); err != nil {
				return "", err
			}
		}
		if s.stx == nil {
			s.beginStorage(ctx)
		}
		s.tx = txBlock
		ro, _ := s.set.get("default_transaction_read_only")
		s.txReadOnly = ro == "on"
		for _, o := range t.Options {
			d := o.GetDefElem()
			if d == nil {
				continue
			}
			v, _ := constString(d.Arg)
			switch d.Defname {
			case "transaction_read_only":
				s.txReadOnly = boolWord(v) == "on"
			case "transaction_isolation":
				// DuckDB gives every transaction snapshot isolation; all
				// levels are accepted and recorded (docs/sql-compat.md).
				if _, err := s.set.set("transaction_isolation", v); err == nil {
					s.txUndo = append(s.txUndo, settingUndo{name: "transaction_isolation", old: "read committed", local: true})
				}
			}
		}
		return st.tag, nil
	case pg_query.TransactionStmtKind_TRANS_STMT_COMMIT:
		switch s.tx {
		case txIdle:
			s.notice("WARNING", pgerr.NoActiveSQLTransaction, "there is no transaction in progress")
			return "COMMIT", nil
		case txFailed:
			s.rollback(ctx)
			return "ROLLBACK", nil
		}
		if err := s.commitTx(ctx); err != nil {
			s.endTx(false)
			pe := pgerr.From(err)
			if pe.Code == pgerr.InternalError || pe.Code == pgerr.InvalidTransactionState {
				pe.Code = pgerr.SerializationFailure
			}
			return "", pe
		}
		s.endTx(true)
		return "COMMIT", nil
	case pg_query.TransactionStmtKind_TRANS_STMT_ROLLBACK:
		if s.tx == txIdle {
			s.notice("WARNING", pgerr.NoActiveSQLTransaction, "there is no transaction in progress")
			return "ROLLBACK", nil
		}
		return "ROLLBACK", s.rollback(ctx)
	case pg_query.TransactionStmtKind_TRANS_STMT_SAVEPOINT:
		if s.tx != txBlock {
			if s.tx == txFailed {
				return "", pgerr.New(pgerr.InFailedSQLTransaction, "current transaction is aborted, commands ignored until end of transaction block")
			}
			return "", pgerr.New(pgerr.NoActiveSQLTransaction, "SAVEPOINT can only be used in transaction blocks")
		}
		s.savepoints = append(s.savepoints, savepoint{name: t.SavepointName, pos: len(s.txLog), stx: s.stx.clone()})
		return "SAVEPOINT", nil
	case pg_query.TransactionStmtKind_TRANS_STMT_RELEASE:
		if s.tx == txIdle || s.tx == txImplicit {
			return "", pgerr.New(pgerr.NoActiveSQLTransaction, "RELEASE SAVEPOINT can only be used in transaction blocks")
		}
		i := s.findSavepoint(t.SavepointName)
		if i < 0 {
			s.fail(ctx)
			return "", pgerr.New("3B001", "savepoint %q does not exist", t.SavepointName)
		}
		s.savepoints = s.savepoints[:i]
		return "RELEASE", nil
	case pg_query.TransactionStmtKind_TRANS_STMT_ROLLBACK_TO:
		if s.tx == txIdle || s.tx == txImplicit {
			return "", pgerr.New(pgerr.NoActiveSQLTransaction, "ROLLBACK TO SAVEPOINT can only be used in transaction blocks")
		}
		i := s.findSavepoint(t.SavepointName)
		if i < 0 {
			s.fail(ctx)
			return "", pgerr.New("3B001", "savepoint %q does not exist", t.SavepointName)
		}
		return "ROLLBACK", s.rollbackTo(ctx, i)
	}
	return "", pgerr.New(pgerr.FeatureNotSupported, "%s is not supported", st.tag)
}

func (s *Session) findSavepoint(name string) int {
	for i := len(s.savepoints) - 1; i >= 0; i-- {
		if s.savepoints[i].name == name {
			return i
		}
	}
	return -1
}

// rollbackTo emulates ROLLBACK TO SAVEPOINT: DuckDB has no savepoints, so the
// transaction is rolled back, begun again, and the statements with side
// effects that ran before the savepoint are replayed.
func (s *Session) rollbackTo(ctx context.Context, i int) error {
	sp := s.savepoints[i]
	log := s.txLog[:sp.pos]
	if s.unlogged {
		// Writes of the query string before its BEGIN are not in the log:
		// a replay would lose them. Refused, and the transaction fails,
		// rather than silently undoing more than the savepoint's share.
		s.tx = txFailed
		return pgerr.New(pgerr.FeatureNotSupported, "ROLLBACK TO SAVEPOINT is not supported after writes made before BEGIN in the same query string")
	}
	if s.txDDL {
		s.e.ddlGen.Add(1) // DDL after the savepoint may be undone
	}
	if err := s.exec(ctx, "ROLLBACK"); err != nil {
		return fmt.Errorf("rollback to savepoint: %w", err)
	}
	s.noteTxStart()
	if err := s.exec(ctx, "BEGIN TRANSACTION"); err != nil {
		s.endTx(false)
		return fmt.Errorf("rollback to savepoint: %w", err)
	}
	for _, l := range log {
		if _, err := s.conn.ExecContext(ctx, l.sql, l.args); err != nil {
			s.tx = txFailed
			return pgerr.New(pgerr.SerializationFailure, "could not restore savepoint %q: %v", sp.name, pgerr.From(err).Message)
		}
	}
	s.txLog = log
	s.savepoints = s.savepoints[:i+1]
	s.stx = sp.stx.clone()
	s.ibuf = nil // its key sets described the carrier before the replay
	s.viewsRolledBack()
	s.tx = txBlock
	return nil
}

// duckTimeZone names a PostgreSQL TimeZone value the way DuckDB's ICU knows
// it: zone names pass through; a bare hour offset (hours east of UTC, as
// in SET TIME ZONE 2) becomes the POSIX-inverted Etc/GMT-2.
func duckTimeZone(v string) string {
	if isUTCName(v) {
		return "UTC"
	}
	if h, err := strconv.ParseFloat(v, 64); err == nil && h == float64(int(h)) {
		return fmt.Sprintf("Etc/GMT%+d", -int(h))
	}
	return v
}
