package engine

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"

	pg_query "github.com/pganalyze/pg_query_go/v6"

	"github.com/hopsql/hopsql/catalog"
	"github.com/hopsql/hopsql/engine/pgcatalog"
	"github.com/hopsql/hopsql/engine/pgerr"
	"github.com/hopsql/hopsql/engine/pgtypes"
)

// Declared types. DuckDB's VARCHAR has no length and no separate varchar
// type, so `varchar(40)` would read back as text. The storage layer keeps
// the declared type of such columns in the catalog's table definition
// (catalog.Column.PG, in format_type's words) and pg_attribute, psql's \d,
// JDBC's getColumns and the RowDescription of a plain column report it, as
// PostgreSQL does. The statements that change a table's columns record
// what they declared (declOps); the commit folds them into the definition.

// declOp is one change a statement made to a table's declared types.
type declOp struct {
	kind    byte // 'r' reset (CREATE), 's' set, 'd' delete, 'm' move (rename)
	col, to string
	pg      string
}

// declaredPG returns the declared type a column keeps, or "" when DuckDB's
// type says all there is. sql is the statement's text, where tn starts at
// tn.Location.
func declaredPG(tn *pg_query.TypeName, sql string) string {
	if tn == nil || len(tn.Names) == 0 || tn.Setof {
		return ""
	}
	array := ""
	if len(tn.ArrayBounds) > 0 {
		array = "[]" // PostgreSQL keeps no dimensions or bounds either
	}
	switch tn.Names[len(tn.Names)-1].GetString_().GetSval() {
	case "bpchar":
		// char(n) and character(n). A bare char is char(1) in PostgreSQL
		// and a bare bpchar has no length; the parse tree says
		// pg_catalog.bpchar for both, the text tells them apart.
		if len(tn.Typmods) == 1 {
			if n := tn.Typmods[0].GetAConst().GetIval(); n != nil && n.Ival > 0 {
				return "character(" + strconv.Itoa(int(n.Ival)) + ")" + array
			}
		}
		if loc := int(tn.Location); len(tn.Typmods) == 0 && loc >= 0 && loc < len(sql) &&
			len(sql)-loc >= 4 && strings.EqualFold(sql[loc:loc+4], "char") {
			return "character(1)" + array
		}
	case "varchar":
		if len(tn.Typmods) == 1 {
			if n := tn.Typmods[0].GetAConst().GetIval(); n != nil && n.Ival > 0 {
				return "character varying(" + strconv.Itoa(int(n.Ival)) + ")" + array
			}
			return ""
		}
		if len(tn.Typmods) == 0 {
			return "character varying" + array
		}
	case "jsonb":
		return "jsonb" + array // DuckDB's JSON, reported as json
	case "numeric", "decimal":
		// numeric(38,10) is DuckDB's type for unconstrained numeric too;
		// declared, it keeps its modifier and its ten decimals.
		if len(tn.Typmods) == 2 {
			p, s := tn.Typmods[0].GetAConst().GetIval(), tn.Typmods[1].GetAConst().GetIval()
			if p != nil && s != nil && p.Ival == pgtypes.UnconstrainedNumericWidth && s.Ival == pgtypes.UnconstrainedNumericScale {
				return declaredNumeric + array
			}
		}
	}
	return ""
}

// declaredNumeric is the one numeric a column keeps as declared: the
// DuckDB type of unconstrained numeric (pgtypes.UnconstrainedNumericWidth
// and Scale; TestDeclaredNumericMatches holds them together).
const declaredNumeric = "numeric(38,10)"

// declaredDuck is the DuckDB type a column declared pg has.
func declaredDuck(pg string) string {
	base, array := strings.CutSuffix(pg, "[]")
	t := "VARCHAR"
	switch base {
	case "jsonb":
		t = "JSON"
	case declaredNumeric:
		t = "DECIMAL(38,10)"
	}
	if array {
		t += "[]"
	}
	return t
}

// declOpsOf lists what a CREATE TABLE, ALTER TABLE or column rename
// declares; sql is the text stmt was parsed from.
func declOpsOf(stmt *pg_query.Node, sql string) []declOp {
	// stmt's locations are offsets into the whole query string it came
	// from (several statements, perhaps); its own text parsed alone gives
	// offsets into sql. Without them no type is read from the text.
	if tree, err := pg_query.Parse(sql); err == nil && len(tree.Stmts) == 1 {
		stmt = tree.Stmts[0].Stmt
	} else {
		sql = ""
	}
	var ops []declOp
	switch x := stmt.Node.(type) {
	case *pg_query.Node_CreateStmt:
		ops = append(ops, declOp{kind: 'r'})
		for _, e := range x.CreateStmt.TableElts {
			if cd := e.GetColumnDef(); cd != nil {
				if pg := declaredPG(cd.TypeName, sql); pg != "" {
					ops = append(ops, declOp{kind: 's', col: cd.Colname, pg: pg})
				}
			}
		}
	case *pg_query.Node_AlterTableStmt:
		for _, c := range x.AlterTableStmt.Cmds {
			cmd := c.GetAlterTableCmd()
			if cmd == nil {
				continue
			}
			switch cmd.Subtype {
			case pg_query.AlterTableType_AT_AddColumn:
				if cd := cmd.Def.GetColumnDef(); cd != nil {
					ops = append(ops, declOp{kind: 'd', col: cd.Colname})
					if pg := declaredPG(cd.TypeName, sql); pg != "" {
						ops = append(ops, declOp{kind: 's', col: cd.Colname, pg: pg})
					}
				}
			case pg_query.AlterTableType_AT_AlterColumnType:
				ops = append(ops, declOp{kind: 'd', col: cmd.Name})
				if cd := cmd.Def.GetColumnDef(); cd != nil {
					if pg := declaredPG(cd.TypeName, sql); pg != "" {
						ops = append(ops, declOp{kind: 's', col: cmd.Name, pg: pg})
					}
				}
			case pg_query.AlterTableType_AT_DropColumn:
				ops = append(ops, declOp{kind: 'd', col: cmd.Name})
			}
		}
	case *pg_query.Node_RenameStmt:
		if x.RenameStmt.RenameType == pg_query.ObjectType_OBJECT_COLUMN {
			ops = append(ops, declOp{kind: 'm', col: x.RenameStmt.Subname, to: x.RenameStmt.Newname})
		}
	}
	return ops
}

// applyDeclared sets the declared types of a new definition's columns:
// those the table had (unless the transaction created it), changed by the
// transaction's statements, for columns DuckDB still keeps as VARCHAR.
func (s *Session) applyDeclared(put *catalog.PutTable, created bool, ops []declOp) {
	m := s.declaredColumns(put.Name, created, ops)
	for i, c := range put.Columns {
		if pg := m[c.Name]; pg != "" && c.Type == declaredDuck(pg) {
			put.Columns[i].PG = pg
		}
	}
}

// declaredColumns maps a table's columns to their declared types: the
// committed definition (unless the table is created in this transaction)
// with ops, this transaction's declarations, applied in order.
func (s *Session) declaredColumns(table string, created bool, ops []declOp) map[string]string {
	m := map[string]string{}
	if !created {
		if t, ok := s.e.catalog.TableHead(s.db.name, "main", table); ok {
			for _, c := range t.Columns {
				if c.PG != "" {
					m[c.Name] = c.PG
				}
			}
		}
	}
	for _, op := range ops {
		switch op.kind {
		case 'r':
			clear(m)
		case 's':
			m[op.col] = op.pg
		case 'd':
			delete(m, op.col)
		case 'm':
			if pg, ok := m[op.col]; ok {
				delete(m, op.col)
				m[op.to] = pg
			}
		}
	}
	return m
}

// declaredType is the PostgreSQL type of a declared type name.
func declaredType(pg string) (pgtypes.Type, bool) {
	if base, ok := strings.CutSuffix(pg, "[]"); ok {
		elem, ok := declaredType(base)
		if !ok {
			return pgtypes.Type{}, false
		}
		// PostgreSQL reports an array column with its element's modifier.
		return pgtypes.Type{OID: pgtypes.ArrayOf(elem.OID), Typmod: elem.Typmod, Size: -1, Elem: &elem}, true
	}
	switch pg {
	case "character varying":
		return pgtypes.Type{OID: 1043, Typmod: -1, Size: -1}, true
	case "jsonb":
		return pgtypes.Type{OID: 3802, Typmod: -1, Size: -1}, true
	case declaredNumeric:
		return pgtypes.Type{OID: 1700, Typmod: pgtypes.NumericTypmod(pgtypes.UnconstrainedNumericWidth, pgtypes.UnconstrainedNumericScale), Size: -1}, true
	}
	if rest, ok := strings.CutPrefix(pg, "character varying("); ok {
		if n, err := strconv.Atoi(strings.TrimSuffix(rest, ")")); err == nil && n > 0 {
			return pgtypes.Type{OID: 1043, Typmod: int32(n + 4), Size: -1}, true
		}
	}
	if rest, ok := strings.CutPrefix(pg, "character("); ok {
		if n, err := strconv.Atoi(strings.TrimSuffix(rest, ")")); err == nil && n > 0 {
			return pgtypes.Type{OID: 1042, Typmod: int32(n + 4), Size: -1}, true
		}
	}
	return pgtypes.Type{}, false
}

// lengthLimit is a column's declared maximum length: varchar(n), char(n).
type lengthLimit struct {
	col int // in the table's columns
	n   int
	pg  string // the declared type, for the error
}

// lengthLimits lists the length limits of a table's columns (scalar
// columns only: PostgreSQL checks array elements too, hopsql does not).
func lengthLimits(cols []catalog.Column) []lengthLimit {
	var out []lengthLimit
	for i, c := range cols {
		if t, ok := declaredType(c.PG); ok && t.Elem == nil && (t.OID == 1043 || t.OID == 1042) && t.Typmod > 4 {
			out = append(out, lengthLimit{col: i, n: int(t.Typmod - 4), pg: c.PG})
		}
	}
	return out
}

// tooLong is PostgreSQL's error for a value over its column's length.
func tooLong(pg string) error {
	return pgerr.New(pgerr.StringDataRightTruncation, "value too long for type %s", pg)
}

// exceeds reports whether text is longer than n characters once trailing
// spaces are set aside (PostgreSQL stores such a value cut to n, without
// an error; hopsql keeps the spaces).
func exceeds(text string, n int) bool {
	if len(text) <= n {
		return false
	}
	return utf8.RuneCountInString(strings.TrimRight(text, " ")) > n
}

// checkLengths fails a write whose rows hold a value longer than its
// column's declared length; rows selects (at least) cols.
func (s *Session) checkLengths(ctx context.Context, cols []catalog.Column, rows string) error {
	limits := lengthLimits(cols)
	if len(limits) == 0 {
		return nil
	}
	var sel, conds []string
	for _, l := range limits {
		c := quoteIdent(cols[l.col].Name)
		sel = append(sel, c)
		conds = append(conds, fmt.Sprintf("length(rtrim(%s, ' ')) > %d", c, l.n))
	}
	q := "SELECT " + strings.Join(sel, ", ") + " FROM (" + rows + ") AS w WHERE " + strings.Join(conds, " OR ") + " LIMIT 1"
	dest := make([]driver.Value, len(limits))
	err := s.queryRow(ctx, q, nil, dest)
	if errors.Is(err, io.EOF) {
		return nil
	}
	if err != nil {
		return err
	}
	for i, l := range limits {
		if v, ok := dest[i].(string); ok && exceeds(v, l.n) {
			return tooLong(l.pg)
		}
	}
	return nil
}

// declaredColumns lists every declared type of a project's tables for
// pg_attribute.
func (e *Engine) declaredColumns(project string) []pgcatalog.DeclaredColumn {
	var out []pgcatalog.DeclaredColumn
	for _, t := range e.catalog.TableHeads(project) {
		for _, c := range t.Columns {
			if typ, ok := declaredType(c.PG); ok {
				out = append(out, pgcatalog.DeclaredColumn{Database: project, Schema: t.Schema, Table: t.Name, Column: c.Name,
					TypeOID: typ.OID, Typmod: typ.Typmod})
			}
		}
	}
	return out
}

// refreshDeclared rewrites pg_attribute's declared types of the session's
// project after a commit changed table definitions.
func (s *Session) refreshDeclared(ctx context.Context) {
	s.db.declMu.Lock()
	defer s.db.declMu.Unlock()
	if err := pgcatalog.SetDeclared(ctx, s.conn, s.db.name, s.e.declaredColumns(s.db.name)); err != nil {
		s.e.log.Warn("declared column types", "database", s.db.name, "err", err)
	}
}

// checkAlteredLengths fails an ALTER TABLE that gives a column a length
// its rows exceed (they are all in the carrier: ALTER pulls them).
func (s *Session) checkAlteredLengths(ctx context.Context, ss *stmtStorage) error {
	for _, op := range ss.decl {
		if op.kind != 's' {
			continue
		}
		if err := s.checkLengths(ctx, []catalog.Column{{Name: op.col, PG: op.pg}}, "SELECT * FROM "+s.carrierName(ss.table)); err != nil {
			return err
		}
	}
	return nil
}
