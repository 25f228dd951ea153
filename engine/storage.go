package engine

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	pg_query "github.com/pganalyze/pg_query_go/v6"
	"google.golang.org/protobuf/proto"

	"github.com/hopsql/hopsql/catalog"
	"github.com/hopsql/hopsql/engine/pgcatalog"
	"github.com/hopsql/hopsql/engine/pgerr"
	"github.com/hopsql/hopsql/storage"
)

// Tables live as Parquet snapshots in the catalog (docs/storage.md). In
// DuckDB each table has a "carrier": a real table with the exact
// definition (constraints, defaults) that holds no committed rows. Each
// session reads a table through a temporary view of the same name, which
// DuckDB resolves before the carrier, also inside views:
//
//	carrier rows (this session's uncommitted writes) ∪ the snapshot's files
//
// Writes go to the carrier inside a DuckDB transaction, so DuckDB applies
// every SQL rule; UPDATE and DELETE first move the rows of the files they
// touch into the carrier ("pull"). At commit the carrier's rows become a new
// Parquet file, and one catalog entry replaces the pulled files with it.

// storageTx is what the current transaction changed in the storage layer.
type storageTx struct {
	asOf    int64 // reads see table versions current at this catalog time; 0: latest
	tables  map[string]*pendingTable
	created map[string]bool // CREATE TABLE in this transaction (not yet in the catalog)
	altered map[string]bool // definition changed
	dropped map[string]bool
	renames []catalog.RenameTable
	ddl     bool // DuckDB's transaction holds DDL and must be committed
	// features are the feature groups this transaction creates.
	features map[string]*catalog.FeatureGroup
	// Feature views it creates and drops.
	putViews  []catalog.FeatureView
	dropViews []string
	// madeVersions: the versions the commit made of feature groups (for
	// their statistics).
	madeVersions map[string]int64
	// decl: per table, what its statements declared of column types, in
	// order (declared.go); defined: the commit stored new definitions.
	decl    map[string][]declOp
	defined bool
}

// pendingTable is one table's uncommitted change.
type pendingTable struct {
	base    int64             // the version read
	files   []catalog.FileRef // the files of base, as read
	pulled  map[string]bool   // files whose rows moved into the carrier
	replace bool              // every file of base goes (TRUNCATE, ALTER)
	dirty   bool              // the carrier may hold rows
	writes  int               // write statements on the carrier so far (insertbuffer.go)
	op      string
	// keyHashes caches the carrier's key hashes per unique key (keyindex.go)
	// until the next write statement on the table.
	keyHashes map[string][]uint64
	// direct is a file a CREATE TABLE … AS wrote straight from its query.
	direct *catalog.NewFile
	// validated caches the expectations' results on the carrier's rows
	// (expectation.go) until the next write statement on the table.
	validated   []catalog.ValidationResult
	validatedBy []catalog.Expectation
}

func newStorageTx(asOf int64) *storageTx {
	return &storageTx{asOf: asOf, tables: map[string]*pendingTable{}, created: map[string]bool{}, decl: map[string][]declOp{},
		altered: map[string]bool{}, dropped: map[string]bool{}, features: map[string]*catalog.FeatureGroup{}}
}

func (t *storageTx) clone() *storageTx {
	if t == nil {
		return nil
	}
	c := newStorageTx(t.asOf)
	for k, v := range t.tables {
		p := *v
		p.keyHashes = nil // the carrier may differ when this copy is restored
		p.pulled = map[string]bool{}
		for f := range v.pulled {
			p.pulled[f] = true
		}
		c.tables[k] = &p
	}
	for k := range t.created {
		c.created[k] = true
	}
	for k := range t.altered {
		c.altered[k] = true
	}
	for k := range t.dropped {
		c.dropped[k] = true
	}
	c.renames = append(c.renames, t.renames...)
	c.ddl = t.ddl
	for k, v := range t.decl {
		c.decl[k] = append([]declOp(nil), v...)
	}
	for k, v := range t.features {
		c.features[k] = v
	}
	c.putViews = append(c.putViews, t.putViews...)
	c.dropViews = append(c.dropViews, t.dropViews...)
	return c
}

// stmtStorage is what a statement does to managed tables.
type stmtStorage struct {
	table string // the written table (schema main)
	op    string // INSERT, UPDATE, DELETE, COPY, MERGE, TRUNCATE, ALTER, CREATE, DROP, RENAME
	pull  bool   // UPDATE/DELETE/MERGE: move touched files into the carrier
	// where and alias select the files to pull for a single-table UPDATE or
	// DELETE; nil where means every file.
	where  *pg_query.Node
	alias  string
	unique bool // check unique keys against the files after running
	names  []string
	// feature is the definition of the feature group a CREATE makes; view
	// the record of the feature view one makes.
	feature *catalog.FeatureGroup
	view    *catalog.FeatureView
	err     error // a problem found while preparing, reported when run
	// direct: CREATE TABLE … AS SELECT defined WITH NO DATA; directSQL is
	// its query as DuckDB runs it.
	direct    bool
	directSQL string
	// decl is what the statement declares of its table's column types
	// (declared.go).
	decl []declOp
}

// compactFiles is how many small files the maintenance round merges.
const compactFiles = 16

// storageManaged reports whether tables of this schema are kept as Parquet
// snapshots. Tables in other schemas stay native DuckDB tables for now
// (docs/storage.md).
func storageManaged(schema string) bool {
	return schema == "" || schema == "main" || schema == "public"
}

// isManaged reports whether name (schema main) is a storage table for this
// session: in the catalog and not dropped, or created in this transaction.
func (s *Session) isManaged(name string) bool {
	if s.stx != nil {
		if s.stx.dropped[name] {
			return s.stx.created[name]
		}
		if s.stx.created[name] {
			return true
		}
		for _, r := range s.stx.renames {
			if r.NewName == name {
				return true
			}
			if r.Name == name {
				return false
			}
		}
	}
	return s.e.catalog.HasTable(s.db.name, "main", name)
}

// prepareStorage qualifies the targets of writes on managed tables with the
// carrier's full name, strips public/main from reads of them (so the
// session's view answers), and records what the statement will do.
func (s *Session) prepareStorage(stmt *pg_query.Node, st *Statement) (changed bool) {
	carrier := func(rv *pg_query.RangeVar) (string, bool) {
		if rv == nil || rv.Catalogname != "" || !storageManaged(rv.Schemaname) || !s.isManaged(rv.Relname) {
			return "", false
		}
		rv.Catalogname, rv.Schemaname = s.db.name, "main"
		changed = true
		return rv.Relname, true
	}
	if modifyingCTE(stmt) {
		// DuckDB has no DML in WITH ("A CTE needs a SELECT"): say so as
		// PostgreSQL would of a feature it lacks.
		st.prepErr = pgerr.New(pgerr.FeatureNotSupported, "data-modifying statements in WITH are not supported")
		return false
	}
	if ch, err := s.unqualifyDatabase(stmt); err != nil {
		st.prepErr = err
		return false
	} else if ch {
		changed = true
	}
	ss := &stmtStorage{}
	switch x := stmt.Node.(type) {
	case *pg_query.Node_InsertStmt:
		if name, ok := carrier(x.InsertStmt.Relation); ok {
			if err := s.arrayLiterals(stmt, name); err != nil {
				st.prepErr = err
				return false
			}
			ss.table, ss.op, ss.unique = name, "INSERT", true
			st.fastIns = planFastInsert(x.InsertStmt, name)
			if x.InsertStmt.OnConflictClause != nil {
				ss.pull = true // ON CONFLICT must see every existing row
			}
		}
	case *pg_query.Node_UpdateStmt:
		u := x.UpdateStmt
		if name, ok := carrier(u.Relation); ok {
			if err := s.arrayLiterals(stmt, name); err != nil {
				st.prepErr = err
				return false
			}
			ss.table, ss.op, ss.pull, ss.unique = name, "UPDATE", true, true
			if len(u.FromClause) == 0 && simpleWhere(u.WhereClause) {
				ss.where, ss.alias = u.WhereClause, aliasOf(u.Relation)
			}
		}
	case *pg_query.Node_DeleteStmt:
		d := x.DeleteStmt
		if name, ok := carrier(d.Relation); ok {
			ss.table, ss.op, ss.pull = name, "DELETE", true
			if len(d.UsingClause) == 0 && simpleWhere(d.WhereClause) {
				ss.where, ss.alias = d.WhereClause, aliasOf(d.Relation)
			}
		}
	case *pg_query.Node_MergeStmt:
		if name, ok := carrier(x.MergeStmt.Relation); ok {
			ss.table, ss.op, ss.pull, ss.unique = name, "MERGE", true, true
		}
	case *pg_query.Node_CopyStmt:
		if x.CopyStmt.IsFrom {
			if name, ok := carrier(x.CopyStmt.Relation); ok {
				ss.table, ss.op, ss.unique = name, "COPY", true
			}
		}
	case *pg_query.Node_TruncateStmt:
		for _, r := range x.TruncateStmt.Relations {
			if name, ok := carrier(r.GetRangeVar()); ok {
				ss.op = "TRUNCATE"
				ss.names = append(ss.names, name)
			}
		}
	case *pg_query.Node_AlterTableStmt:
		if x.AlterTableStmt.Objtype == pg_query.ObjectType_OBJECT_TABLE {
			if name, ok := carrier(x.AlterTableStmt.Relation); ok {
				ss.table, ss.op = name, "ALTER"
			}
		}
	case *pg_query.Node_RenameStmt:
		r := x.RenameStmt
		if r.RenameType == pg_query.ObjectType_OBJECT_TABLE || r.RenameType == pg_query.ObjectType_OBJECT_COLUMN {
			if name, ok := carrier(r.Relation); ok {
				ss.table = name
				if r.RenameType == pg_query.ObjectType_OBJECT_TABLE {
					ss.op, ss.names = "RENAME", []string{r.Newname}
				} else {
					ss.op = "ALTER"
				}
			}
		}
	case *pg_query.Node_ViewStmt:
		def, err := takeFeatureViewOption(&x.ViewStmt.Options)
		if def != nil || err != nil {
			changed = true
			ss.op, ss.err = "FEATURE VIEW", err
			if err == nil {
				from, fv, err := s.prepareFeatureView(x.ViewStmt, *def)
				ss.view, ss.err, st.viewFrom = fv, err, from
			}
			st.tag = "CREATE FEATURE VIEW"
		}
	case *pg_query.Node_DropStmt:
		if x.DropStmt.RemoveType == pg_query.ObjectType_OBJECT_VIEW {
			for _, o := range x.DropStmt.Objects {
				items := o.GetList().GetItems()
				if len(items) == 0 || len(items) > 2 {
					continue
				}
				if _, ok := s.e.catalog.FeatureView(s.db.name, "main", items[len(items)-1].GetString_().GetSval()); ok {
					ss.op = "DROP VIEW"
					ss.names = append(ss.names, items[len(items)-1].GetString_().GetSval())
				}
			}
		}
		if x.DropStmt.RemoveType == pg_query.ObjectType_OBJECT_TABLE {
			for _, o := range x.DropStmt.Objects {
				items := o.GetList().GetItems()
				if len(items) == 0 || len(items) > 2 {
					continue
				}
				schema := ""
				if len(items) == 2 {
					schema = items[0].GetString_().GetSval()
				}
				name := items[len(items)-1].GetString_().GetSval()
				if storageManaged(schema) && s.isManaged(name) {
					o.GetList().Items = []*pg_query.Node{pg_query.MakeStrNode(s.db.name), pg_query.MakeStrNode("main"), pg_query.MakeStrNode(name)}
					changed = true
					ss.op = "DROP"
					ss.names = append(ss.names, name)
				}
			}
		}
	case *pg_query.Node_CreateStmt:
		rv := x.CreateStmt.Relation
		def, err := takeFeatureOption(&x.CreateStmt.Options)
		if def != nil || err != nil {
			changed = true
		}
		if err == nil && def != nil {
			err = prepareFeatureCreate(x.CreateStmt, def)
		}
		if rv != nil && rv.Relpersistence != "t" && storageManaged(rv.Schemaname) && rv.Catalogname == "" {
			ss.table, ss.op, ss.feature, ss.err = rv.Relname, "CREATE", def, err
		} else if def != nil || err != nil {
			ss.op, ss.err = "CREATE", pgerr.New(pgerr.FeatureNotSupported, "feature groups live in schema public")
		}
	case *pg_query.Node_CreateTableAsStmt:
		c := x.CreateTableAsStmt
		if c.Objtype == pg_query.ObjectType_OBJECT_TABLE && c.Into != nil && c.Into.Rel != nil {
			rv := c.Into.Rel
			def, err := takeFeatureOption(&c.Into.Options)
			if def != nil || err != nil {
				changed = true
			}
			if rv.Relpersistence != "t" && storageManaged(rv.Schemaname) && rv.Catalogname == "" {
				ss.table, ss.op, ss.feature, ss.err = rv.Relname, "CREATE AS", def, err
				// A plain table made from a query: DuckDB only defines it
				// (WITH NO DATA) and the query's rows go to a Parquet file
				// straight away (ctasDirect) instead of through the carrier.
				if def == nil && err == nil && !c.IfNotExists && !c.Into.SkipData && len(c.Into.ColNames) == 0 && c.Query.GetSelectStmt() != nil && !hasParams(c.Query) {
					c.Into.SkipData, ss.direct, changed = true, true, true
				}
			} else if def != nil || err != nil {
				ss.op, ss.err = "CREATE AS", pgerr.New(pgerr.FeatureNotSupported, "feature groups live in schema public")
			}
		}
	}
	// Every other statement naming a managed table as its target (CREATE
	// INDEX, ALTER TABLE … ADD CONSTRAINT, …) addresses the carrier, not the
	// session's view of the same name.
	if c := stmt.GetCopyStmt(); c == nil || c.IsFrom { // COPY t TO reads t: its view
		pgcatalog.WalkTargets(stmt, func(rv *pg_query.RangeVar) { carrier(rv) })
	}
	if ix := stmt.GetIndexStmt(); ix != nil && changed {
		if ix.AccessMethod == "btree" {
			ix.AccessMethod = "" // deparsed as USING btree otherwise, which DuckDB does not know
		}
		if ix.Unique && ix.Relation != nil {
			// DuckDB checks the carrier's (no) rows; the files are checked
			// after it ran.
			ss.table, ss.op = ix.Relation.Relname, "INDEX"
			for _, p := range ix.IndexParams {
				if el := p.GetIndexElem(); el != nil && el.Name != "" {
					ss.names = append(ss.names, el.Name)
				} else {
					ss.names = nil // an expression: not checked across files
					break
				}
			}
			ss.alias = ix.Idxname
		}
	}
	if c := stmt.GetCommentStmt(); c != nil && (c.Objtype == pg_query.ObjectType_OBJECT_TABLE || c.Objtype == pg_query.ObjectType_OBJECT_COLUMN) {
		// The object is [schema.]table, or [schema.]table.column.
		items := c.Object.GetList().GetItems()
		rest := 1
		if c.Objtype == pg_query.ObjectType_OBJECT_COLUMN {
			rest = 2
		}
		first := -1
		switch {
		case len(items) == rest:
			first = 0
		case len(items) == rest+1:
			if schema := items[0].GetString_().GetSval(); schema == "public" || schema == "main" {
				first = 1
			}
		}
		if first >= 0 && s.isManaged(items[first].GetString_().GetSval()) {
			c.Object.GetList().Items = append([]*pg_query.Node{pg_query.MakeStrNode(s.db.name), pg_query.MakeStrNode("main")}, items[first:]...)
			changed = true
		}
	}
	// online.<g>: a lookup by key is answered from memory; anything else
	// reads the session's online view. A plain table's lookup by primary
	// key may be too (pointlookup.go).
	if sel := stmt.GetSelectStmt(); sel != nil && len(sel.FromClause) == 1 {
		if rv := sel.FromClause[0].GetRangeVar(); rv != nil && rv.Catalogname == "" && rv.Inh &&
			(rv.Schemaname == "" || rv.Schemaname == "public" || rv.Schemaname == "main") && s.isManaged(rv.Relname) {
			st.pointLookup = s.planPointLookup(sel, rv.Relname)
		}
		if rv := sel.FromClause[0].GetRangeVar(); rv != nil && rv.Schemaname == "online" && rv.Catalogname == "" {
			if def := s.featureOf(rv.Relname); def != nil && def.Online {
				st.online = s.planOnline(sel, rv.Relname, def)
			} else if fv, ok := s.e.catalog.FeatureView(s.db.name, "main", rv.Relname); ok && def == nil {
				o := s.e.onlineFeatureView(s.db.name, fv)
				if o.err != nil {
					st.prepErr = o.err
					return false
				}
				types := map[string]string{}
				for i, k := range o.keys {
					types[k] = o.types[i]
				}
				if st.online = s.planLookup(sel, rv.Relname, o.keys, types); st.online != nil {
					st.online.fv = o
				}
			}
		}
	}
	// Reads of managed tables written as public.t or main.t go to the view.
	pgcatalog.Walk(stmt, func(n *pg_query.Node) bool {
		switch n.Node.(type) {
		case *pg_query.Node_RangeVar, *pg_query.Node_RangeFunction:
			st.readsRel = true // DML targets are not Node-wrapped: they do not count
		}
		if rv := n.GetRangeVar(); rv != nil && rv.Catalogname == "" && (rv.Schemaname == "public" || rv.Schemaname == "main") && s.isManaged(rv.Relname) {
			rv.Schemaname = ""
			changed = true
		} else if rv != nil && rv.Catalogname == "" && rv.Schemaname == "online" && (s.featureOf(rv.Relname) != nil || s.hasOnlineView(rv.Relname)) {
			// A feature group that is not ONLINE has no such view: the
			// relation does not exist, as PostgreSQL would say.
			rv.Schemaname, rv.Relname = "", onlineView(rv.Relname)
			changed = true
		} else if rv != nil && rv.Catalogname == "" && rv.Schemaname == "hopsql" {
			// hopsql's system tables; qualified because a project may be
			// named hopsql too (the default one is).
			rv.Catalogname = s.db.name
			changed = true
		}
		return true
	})
	if ss.feature != nil {
		st.tag = "CREATE FEATURE GROUP"
	}
	if ss.op == "CREATE" || ss.op == "ALTER" {
		ss.decl = declOpsOf(stmt, st.SQL)
	}
	if ss.op != "" {
		st.storage = ss
	}
	return changed
}

// arrayLiterals rewrites the PostgreSQL array literals ('{1,2}') an
// INSERT's VALUES or an UPDATE's SET put into array columns as ARRAY[…]
// of their elements (pgcatalog.ArrayLiteral): PostgreSQL types such a
// string by its column, DuckDB reads only its own '[1, 2]' from text.
func (s *Session) arrayLiterals(stmt *pg_query.Node, table string) error {
	t, ok := s.e.catalog.TableHead(s.db.name, "main", table)
	if !ok {
		return nil
	}
	typeOf := func(name string) string {
		for _, c := range t.Columns {
			if c.Name == name {
				return c.Type
			}
		}
		return ""
	}
	// literal replaces *n when it is a string going into a column of type typ.
	literal := func(n **pg_query.Node, typ string) error {
		c := (*n).GetAConst()
		if !strings.HasSuffix(typ, "[]") || c == nil || c.GetSval() == nil {
			return nil
		}
		lit, _, err := pgcatalog.ArrayLiteral(c.GetSval().GetSval())
		if err == nil {
			*n = lit
		}
		return err
	}
	if u := stmt.GetUpdateStmt(); u != nil {
		for _, n := range u.TargetList {
			if rt := n.GetResTarget(); rt != nil && len(rt.Indirection) == 0 {
				if err := literal(&rt.Val, typeOf(rt.Name)); err != nil {
					return err
				}
			}
		}
		return nil
	}
	ins := stmt.GetInsertStmt()
	sel := ins.GetSelectStmt().GetSelectStmt()
	if sel == nil {
		return nil
	}
	types := make([]string, 0, len(t.Columns))
	for _, c := range t.Columns {
		types = append(types, c.Type)
	}
	if len(ins.Cols) > 0 {
		types = types[:0]
		for _, n := range ins.Cols {
			types = append(types, typeOf(n.GetResTarget().GetName()))
		}
	}
	for _, row := range sel.ValuesLists {
		items := row.GetList().GetItems()
		for i := range items {
			if i < len(types) {
				if err := literal(&items[i], types[i]); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// modifyingCTE reports whether a statement's WITH holds an INSERT, UPDATE,
// DELETE or MERGE (PostgreSQL allows them only at the top level).
func modifyingCTE(stmt *pg_query.Node) bool {
	var with *pg_query.WithClause
	switch x := stmt.Node.(type) {
	case *pg_query.Node_SelectStmt:
		with = x.SelectStmt.WithClause
	case *pg_query.Node_InsertStmt:
		with = x.InsertStmt.WithClause
	case *pg_query.Node_UpdateStmt:
		with = x.UpdateStmt.WithClause
	case *pg_query.Node_DeleteStmt:
		with = x.DeleteStmt.WithClause
	case *pg_query.Node_MergeStmt:
		with = x.MergeStmt.WithClause
	}
	if with == nil {
		return false
	}
	for _, c := range with.Ctes {
		switch c.GetCommonTableExpr().GetCtequery().GetNode().(type) {
		case *pg_query.Node_InsertStmt, *pg_query.Node_UpdateStmt, *pg_query.Node_DeleteStmt, *pg_query.Node_MergeStmt:
			return true
		}
	}
	return false
}

// unqualifyDatabase drops the current database from relation names
// written database.schema.table, as PostgreSQL accepts them, so that the
// storage layer sees the table; any other database is an error, as in
// PostgreSQL (and the only way a statement could name a table's carrier
// or another project's tables directly).
func (s *Session) unqualifyDatabase(stmt *pg_query.Node) (changed bool, err error) {
	fix := func(rv *pg_query.RangeVar) {
		if rv == nil || rv.Catalogname == "" || err != nil {
			return
		}
		if rv.Catalogname != s.db.name {
			err = pgerr.New(pgerr.FeatureNotSupported, "cross-database references are not implemented: \"%s.%s.%s\"", rv.Catalogname, rv.Schemaname, rv.Relname)
			return
		}
		rv.Catalogname, changed = "", true
	}
	names := func(items []*pg_query.Node) []*pg_query.Node {
		if len(items) == 3 && err == nil {
			if db := items[0].GetString_().GetSval(); db != s.db.name {
				err = pgerr.New(pgerr.FeatureNotSupported, "cross-database references are not implemented: \"%s.%s.%s\"",
					db, items[1].GetString_().GetSval(), items[2].GetString_().GetSval())
			} else {
				changed = true
				return items[1:]
			}
		}
		return items
	}
	switch x := stmt.Node.(type) {
	case *pg_query.Node_InsertStmt:
		fix(x.InsertStmt.Relation)
	case *pg_query.Node_UpdateStmt:
		fix(x.UpdateStmt.Relation)
	case *pg_query.Node_DeleteStmt:
		fix(x.DeleteStmt.Relation)
	case *pg_query.Node_MergeStmt:
		fix(x.MergeStmt.Relation)
	case *pg_query.Node_CopyStmt:
		fix(x.CopyStmt.Relation)
	case *pg_query.Node_AlterTableStmt:
		fix(x.AlterTableStmt.Relation)
	case *pg_query.Node_RenameStmt:
		fix(x.RenameStmt.Relation)
	case *pg_query.Node_CreateStmt:
		fix(x.CreateStmt.Relation)
	case *pg_query.Node_IndexStmt:
		fix(x.IndexStmt.Relation)
	case *pg_query.Node_ViewStmt:
		fix(x.ViewStmt.View)
	case *pg_query.Node_CreateTableAsStmt:
		if x.CreateTableAsStmt.Into != nil {
			fix(x.CreateTableAsStmt.Into.Rel)
		}
	case *pg_query.Node_DropStmt:
		for _, o := range x.DropStmt.Objects {
			if l := o.GetList(); l != nil {
				l.Items = names(l.Items)
			}
		}
	case *pg_query.Node_CommentStmt:
		if l := x.CommentStmt.Object.GetList(); l != nil && (x.CommentStmt.Objtype == pg_query.ObjectType_OBJECT_TABLE ||
			x.CommentStmt.Objtype == pg_query.ObjectType_OBJECT_VIEW) {
			l.Items = names(l.Items)
		}
	}
	pgcatalog.Walk(stmt, func(n *pg_query.Node) bool {
		fix(n.GetRangeVar())
		return err == nil
	})
	return changed, err
}

func aliasOf(rv *pg_query.RangeVar) string {
	if rv.Alias != nil && rv.Alias.Aliasname != "" {
		return rv.Alias.Aliasname
	}
	return rv.Relname
}

// simpleWhere reports whether a WHERE clause reads only the target's own
// row (no subqueries), so the files it touches can be found by running it
// over the files alone.
func simpleWhere(w *pg_query.Node) bool {
	if w == nil {
		return false
	}
	ok := true
	pgcatalog.Walk(w, func(n *pg_query.Node) bool {
		switch n.Node.(type) {
		case *pg_query.Node_SubLink, *pg_query.Node_RangeVar, *pg_query.Node_CurrentOfExpr:
			ok = false
		}
		return ok
	})
	return ok
}

// ensureStorageTx makes sure a DuckDB transaction and a storage transaction
// are open before a statement that changes managed tables.
func (s *Session) ensureStorageTx(ctx context.Context) error {
	if s.tx == txIdle {
		s.noteTxStart()
		if err := s.execInternal(ctx, "BEGIN TRANSACTION"); err != nil {
			return err
		}
		s.tx = txImplicit
	}
	if s.stx == nil {
		s.stx = newStorageTx(0)
	}
	return nil
}

// beginStorage pins the snapshot a transaction block reads.
func (s *Session) beginStorage(ctx context.Context) {
	// The snapshot must include every commit acknowledged anywhere in the
	// cluster before BEGIN: a linearizable read of the catalog's time.
	if err := s.e.catalog.Linearize(ctx); err != nil {
		s.e.log.Warn("linearizable read", "err", err)
	}
	s.stx = newStorageTx(s.e.catalog.LastTime())
	s.viewsStale = true
}

// pending returns the table's pending state, reading its version first.
func (s *Session) pending(name string) (*pendingTable, error) {
	if p, ok := s.stx.tables[name]; ok {
		return p, nil
	}
	p := &pendingTable{pulled: map[string]bool{}}
	if !s.stx.created[name] {
		v, files, err := s.e.catalog.TableFiles(s.db.name, "main", name, 0, s.stx.asOf)
		if err != nil && catalog.CodeOf(err) != catalog.CodeNotFound {
			return nil, err
		}
		p.base, p.files = v, files
	}
	s.stx.tables[name] = p
	return p, nil
}

// visibleFiles are the files of a table this session reads besides the
// carrier: the pinned or latest version, minus what was pulled.
func (s *Session) visibleFiles(name string) ([]catalog.FileRef, string, error) {
	if s.stx != nil {
		if p, ok := s.stx.tables[name]; ok {
			if p.replace {
				return nil, fmt.Sprintf("v%d/replaced", p.base), nil
			}
			var out []catalog.FileRef
			for _, f := range p.files {
				if !p.pulled[f.Name] {
					out = append(out, f)
				}
			}
			return out, fmt.Sprintf("v%d/%d", p.base, len(out)), nil
		}
		if s.stx.created[name] {
			return nil, "created", nil
		}
	}
	var asOf int64
	if s.stx != nil {
		asOf = s.stx.asOf
	}
	v, files, err := s.e.catalog.TableFiles(s.db.name, "main", name, 0, asOf)
	if err != nil {
		return nil, "", err
	}
	return files, fmt.Sprintf("v%d/%d", v, len(files)), nil
}

// syncViews brings the session's table views up to date. It costs one
// atomic load when nothing changed.
func (s *Session) syncViews(ctx context.Context) error {
	gen := s.e.catalog.Generation()
	gen += s.e.cacheGen.Load() // both only grow: a copy made also counts
	if s.views != nil && gen == s.viewGen && !s.viewsStale {
		return nil
	}
	if s.views == nil {
		s.views = map[string]string{}
	}
	seen := map[string]bool{}
	heads := s.e.catalog.TableHeads(s.db.name)
	if err := s.syncOnlineViews(ctx, heads); err != nil {
		return err
	}
	for _, t := range heads {
		if t.Schema != "main" {
			continue
		}
		if s.stx != nil && (s.stx.dropped[t.Name] || s.stx.created[t.Name]) {
			continue
		}
		seen[t.Name] = true
		if err := s.syncView(ctx, t.Name, t.Columns); err != nil {
			return err
		}
	}
	for name := range s.views {
		if !seen[name] && (s.stx == nil || s.stx.tables[name] == nil) {
			s.touchView(name)
			if err := s.exec(ctx, "DROP VIEW IF EXISTS temp.main."+quoteIdent(name)); err != nil {
				return err
			}
			delete(s.views, name)
			s.viewEpoch++
		}
	}
	s.viewGen, s.viewsStale = gen, false
	return nil
}

// touchView notes a view changed inside a DuckDB transaction: if that
// transaction is rolled back, so is the change, and the view must be
// synced again.
func (s *Session) touchView(name string) {
	if s.tx != txIdle {
		if s.viewsInTx == nil {
			s.viewsInTx = map[string]bool{}
		}
		s.viewsInTx[name] = true
	}
}

// viewsRolledBack forgets what a rolled-back transaction did to views.
func (s *Session) viewsRolledBack() {
	for name := range s.viewsInTx {
		delete(s.views, name)
		delete(s.onlineViews, strings.TrimPrefix(name, "online."))
	}
	s.viewsInTx, s.viewsStale = nil, true
	s.viewEpoch++
}

// syncView (re)creates one table's view when its files changed.
func (s *Session) syncView(ctx context.Context, name string, cols []catalog.Column) error {
	files, key, err := s.visibleFiles(name)
	if err != nil {
		if catalog.CodeOf(err) == catalog.CodeNotFound {
			return nil
		}
		return err
	}
	if sc := s.e.fs.ScanCache(); sc != nil {
		// The view reads the scan cache's copies: made anew when more exist.
		cached := 0
		for _, f := range files {
			if !f.IsInline() && sc.Has(f.Block.ID) {
				cached++
			}
		}
		key += fmt.Sprintf("/c%d", cached)
	}
	if old, ok := s.views[name]; ok && old == key {
		return nil
	}
	if s.views == nil {
		s.views = map[string]string{}
	}
	s.touchView(name)
	if len(files) == 0 {
		// The carrier alone is the table.
		if err := s.exec(ctx, "DROP VIEW IF EXISTS temp.main."+quoteIdent(name)); err != nil {
			return err
		}
		s.viewEpoch++
		s.views[name] = key
		return nil
	}
	read, err := s.readSQL(cols, files, storage.ReadOptions{})
	if err != nil {
		return fmt.Errorf("view of table %q: %w", name, err)
	}
	sql := "CREATE OR REPLACE TEMP VIEW " + quoteIdent(name) + " AS SELECT * FROM " + s.carrierName(name) + " UNION ALL " + read
	if err := s.exec(ctx, sql); err != nil {
		return fmt.Errorf("view of table %q: %w", name, err)
	}
	s.views[name] = key
	s.viewEpoch++
	return nil
}

func (s *Session) carrierName(name string) string {
	return quoteIdent(s.db.name) + ".main." + quoteIdent(name)
}

// readSQL is a SELECT over a table's files (storage.ReadSQL).
func (s *Session) readSQL(cols []catalog.Column, files []catalog.FileRef, opt storage.ReadOptions) (string, error) {
	return storage.ReadSQL(cols, files, s.e.fs, opt)
}

// beforeStorageWrite runs before a statement that changes managed tables:
// it opens the transactions and pulls the files an UPDATE or DELETE will
// touch into the carrier.
func (s *Session) beforeStorageWrite(ctx context.Context, st *Statement, args []driver.NamedValue) error {
	ss := st.storage
	if ss.err != nil {
		return ss.err
	}
	if err := s.ensureStorageTx(ctx); err != nil {
		return err
	}
	switch ss.op {
	case "CREATE", "CREATE AS", "INDEX", "FEATURE VIEW", "DROP VIEW":
		s.stx.ddl = true
		return nil
	case "DROP", "RENAME":
		s.stx.ddl = true
		return nil
	case "TRUNCATE":
		for _, name := range ss.names {
			p, err := s.pending(name)
			if err != nil {
				return err
			}
			p.replace, p.dirty, p.op = true, true, "TRUNCATE"
			s.e.holdFiles(s, name, "*")
		}
		s.viewsStale = true
		return s.syncViews(ctx)
	}
	p, err := s.pending(ss.table)
	if err != nil {
		return err
	}
	if p.op == "" || p.op == "INSERT" || p.op == "COPY" {
		p.op = ss.op
	}
	p.dirty, p.keyHashes, p.validated = true, nil, nil
	p.writes++
	if ss.op == "ALTER" {
		s.stx.ddl = true
		s.stx.altered[ss.table] = true
		return s.pull(ctx, ss.table, p, nil, "", nil, true)
	}
	if ss.pull {
		return s.pull(ctx, ss.table, p, ss.where, ss.alias, args, false)
	}
	return nil
}

// pull moves the rows of the files a statement will touch into the carrier.
func (s *Session) pull(ctx context.Context, name string, p *pendingTable, where *pg_query.Node, alias string, args []driver.NamedValue, all bool) error {
	files, _, err := s.visibleFiles(name)
	if err != nil || len(files) == 0 {
		return err
	}
	t, ok := s.e.catalog.TableHead(s.db.name, "main", name)
	if !ok {
		return nil
	}
	touched := files
	if where != nil && !all {
		if sel, err := s.touchedFiles(ctx, files, t.Columns, where, alias, args); err == nil {
			touched = sel
		} else { // on any doubt, every file
			s.e.log.Debug("files an UPDATE or DELETE touches: reading all", "table", name, "err", err)
		}
	}
	if len(touched) == 0 {
		return nil
	}
	read, err := s.readSQL(t.Columns, touched, storage.ReadOptions{})
	if err != nil {
		return fmt.Errorf("read files of %q: %w", name, err)
	}
	sql := "INSERT INTO " + s.carrierName(name) + " " + read
	if err := s.exec(ctx, sql); err != nil {
		return fmt.Errorf("read files of %q: %w", name, err)
	}
	if s.tx == txBlock {
		s.txLog = append(s.txLog, loggedStmt{sql: sql})
	}
	for _, f := range touched {
		p.pulled[f.Name] = true
		s.e.holdFiles(s, name, f.Name)
	}
	if all {
		p.replace = true
		s.e.holdFiles(s, name, "*")
	}
	s.viewEpoch++ // plans made before the pull saw an empty carrier
	return s.syncView(ctx, name, t.Columns)
}

// touchedFiles runs a WHERE clause over the files to find those with rows
// it matches.
func (s *Session) touchedFiles(ctx context.Context, files []catalog.FileRef, cols []catalog.Column, where *pg_query.Node, alias string, args []driver.NamedValue) ([]catalog.FileRef, error) {
	where, args = whereParams(where, args)
	cond, err := deparseExpr(where)
	if err != nil {
		return nil, err
	}
	read, err := s.readSQL(cols, files, storage.ReadOptions{Filename: true})
	if err != nil {
		return nil, err
	}
	return s.filesOfRows(ctx, "SELECT DISTINCT filename FROM ("+read+") AS "+quoteIdent(alias)+" WHERE "+cond, args, files)
}

// filesOfRows runs a query listing the filename column of ReadSQL's rows
// and returns the files among files it names.
func (s *Session) filesOfRows(ctx context.Context, sql string, args []driver.NamedValue, files []catalog.FileRef) ([]catalog.FileRef, error) {
	rows, err := s.conn.QueryContext(ctx, sql, args)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	hit := map[string]bool{}
	vals := make([]driver.Value, 1)
	for rows.Next(vals) == nil {
		if f, ok := vals[0].(string); ok {
			hit[f] = true
		}
	}
	var out []catalog.FileRef
	for _, f := range files {
		local := ""
		if !f.IsInline() {
			local = s.e.fs.BlockPath(f.Block.ID)
		}
		if hit[storage.ReadFilename(f, local)] {
			out = append(out, f)
		}
	}
	return out, nil
}

// whereParams renumbers the parameters a WHERE names from $1 and keeps
// only their values: an UPDATE's SET may use others (`SET s = $1 WHERE id
// = $2`), and DuckDB takes exactly the parameters a query names.
func whereParams(where *pg_query.Node, args []driver.NamedValue) (*pg_query.Node, []driver.NamedValue) {
	var used []int32
	pgcatalog.Walk(where, func(n *pg_query.Node) bool {
		if pr := n.GetParamRef(); pr != nil && !slices.Contains(used, pr.Number) {
			used = append(used, pr.Number)
		}
		return true
	})
	if len(used) == len(args) {
		return where, args // names all of them: nothing to renumber
	}
	slices.Sort(used)
	renumbered := proto.Clone(where).(*pg_query.Node)
	pgcatalog.Walk(renumbered, func(n *pg_query.Node) bool {
		if pr := n.GetParamRef(); pr != nil {
			pr.Number = int32(slices.Index(used, pr.Number) + 1)
		}
		return true
	})
	out := make([]driver.NamedValue, 0, len(used))
	for i, u := range used {
		if int(u) > len(args) || u < 1 {
			return where, args // DuckDB reports the missing value
		}
		out = append(out, driver.NamedValue{Ordinal: i + 1, Value: args[u-1].Value})
	}
	return renumbered, out
}

// deparseExpr renders one expression by deparsing a SELECT around it.
func deparseExpr(n *pg_query.Node) (string, error) {
	sel := &pg_query.SelectStmt{TargetList: []*pg_query.Node{{Node: &pg_query.Node_ResTarget{ResTarget: &pg_query.ResTarget{Val: n}}}}}
	tree := &pg_query.ParseResult{Version: parseVersion, Stmts: []*pg_query.RawStmt{{Stmt: &pg_query.Node{Node: &pg_query.Node_SelectStmt{SelectStmt: sel}}}}}
	out, err := pg_query.Deparse(tree)
	if err != nil {
		return "", err
	}
	return strings.TrimPrefix(out, "SELECT "), nil
}

// afterStorageWrite records DDL effects and checks unique keys against the
// files the carrier's rows were not pulled from.
func (s *Session) afterStorageWrite(ctx context.Context, st *Statement) error {
	ss := st.storage
	if len(ss.decl) > 0 && ss.table != "" && s.stx != nil {
		s.stx.decl[ss.table] = append(s.stx.decl[ss.table], ss.decl...)
	}
	// The carrier's rows changed: statements prepared before (a pipeline's
	// next one, a cached one) were planned over the old rows, and DuckDB
	// prunes a scan by the statistics it saw then.
	s.viewEpoch++
	if ss.op == "ALTER" && !s.stx.created[ss.table] {
		// ALTER COLUMN … TYPE varchar(n) on longer values: ALTER pulled
		// every row into the carrier.
		if err := s.checkAlteredLengths(ctx, ss); err != nil {
			return err
		}
	}
	switch ss.op {
	case "CREATE", "CREATE AS":
		if s.e.catalog.HasTable(s.db.name, "main", ss.table) && !s.stx.dropped[ss.table] {
			return nil // CREATE TABLE IF NOT EXISTS on an existing table
		}
		s.stx.created[ss.table] = true
		s.stx.altered[ss.table] = true
		p, err := s.pending(ss.table)
		if err != nil {
			return err
		}
		p.op, p.dirty = "CREATE", ss.op == "CREATE AS"
		if ss.directSQL != "" {
			return s.fillCreatedTable(ctx, ss, p)
		}
		if def := ss.feature; def != nil {
			s.stx.features[ss.table] = def
			if ss.op == "CREATE AS" {
				if err := s.finishFeatureCreate(ctx, ss.table, def); err != nil {
					return err
				}
				return s.upsertFeatureRows(ctx, ss.table, def)
			}
		}
		return nil
	case "DROP":
		for _, name := range ss.names {
			if s.stx.created[name] {
				delete(s.stx.created, name)
			} else {
				s.stx.dropped[name] = true
			}
			delete(s.stx.features, name)
			delete(s.stx.tables, name)
			delete(s.stx.altered, name)
			s.touchView(name)
			if err := s.exec(ctx, "DROP VIEW IF EXISTS temp.main."+quoteIdent(name)); err != nil {
				return err
			}
			delete(s.views, name)
			s.viewEpoch++
		}
		return nil
	case "RENAME":
		newName := ss.names[0]
		if s.stx.created[ss.table] {
			delete(s.stx.created, ss.table)
			s.stx.created[newName] = true
			if def := s.stx.features[ss.table]; def != nil {
				delete(s.stx.features, ss.table)
				s.stx.features[newName] = def
			}
		} else {
			s.stx.renames = append(s.stx.renames, catalog.RenameTable{Schema: "main", Name: ss.table, NewName: newName})
		}
		if p, ok := s.stx.tables[ss.table]; ok {
			delete(s.stx.tables, ss.table)
			s.stx.tables[newName] = p
		}
		if s.stx.altered[ss.table] {
			delete(s.stx.altered, ss.table)
			s.stx.altered[newName] = true
		}
		s.touchView(ss.table)
		if err := s.exec(ctx, "DROP VIEW IF EXISTS temp.main."+quoteIdent(ss.table)); err != nil {
			return err
		}
		delete(s.views, ss.table)
		s.viewsStale = true
		return nil
	case "INDEX":
		return s.checkNewUniqueIndex(ctx, ss)
	case "FEATURE VIEW":
		v := *ss.view
		v.SQL = st.duckSQL
		s.stx.putViews = append(s.stx.putViews, v)
		return nil
	case "DROP VIEW":
		s.stx.dropViews = append(s.stx.dropViews, ss.names...)
		return nil
	case "INSERT", "COPY", "UPDATE", "MERGE":
		if t, ok := s.e.catalog.TableHead(s.db.name, "main", ss.table); ok && !s.stx.created[ss.table] && len(lengthLimits(t.Columns)) > 0 {
			p, err := s.pending(ss.table)
			if err != nil {
				return err
			}
			rows, err := s.writtenRowsSQL(ss.table, p)
			if err != nil {
				return err
			}
			if p.direct != nil {
				// A direct COPY's rows are in its new file, not the carrier.
				f := catalog.FileRef{DataFile: catalog.DataFile{Name: p.direct.Name, Rows: p.direct.Rows}, Block: p.direct.Block}
				read, err := s.readSQL(t.Columns, []catalog.FileRef{f}, storage.ReadOptions{})
				if err != nil {
					return err
				}
				rows += " UNION ALL SELECT * FROM (" + read + ") AS direct"
			}
			if err := s.checkLengths(ctx, t.Columns, rows); err != nil {
				return err
			}
		}
		if def := s.featureOf(ss.table); def != nil {
			if ss.op == "UPDATE" {
				if err := s.checkUpdatedKeys(ctx, ss.table, def); err != nil {
					return err
				}
			}
			if err := s.upsertFeatureRows(ctx, ss.table, def); err != nil {
				return err
			}
			p, err := s.pending(ss.table)
			if err != nil {
				return err
			}
			res, err := s.validateRows(ctx, ss.table, def, p)
			if err != nil {
				return err
			}
			s.warnFailures(ss.table, res)
			return nil
		}
	}
	if ss.unique {
		return s.checkUnique(ctx, ss.table, nil)
	}
	return nil
}

// checkNewUniqueIndex fails CREATE UNIQUE INDEX when the table's files
// already hold a key twice (PostgreSQL: 23505, "could not create unique
// index").
func (s *Session) checkNewUniqueIndex(ctx context.Context, ss *stmtStorage) error {
	if len(ss.names) == 0 {
		return nil
	}
	files, _, err := s.visibleFiles(ss.table)
	if err != nil || len(files) == 0 {
		return err
	}
	t, ok := s.e.catalog.TableHead(s.db.name, "main", ss.table)
	if !ok {
		return nil
	}
	read, err := s.readSQL(t.Columns, files, storage.ReadOptions{})
	if err != nil {
		return err
	}
	cols := make([]string, len(ss.names))
	text := make([]string, len(ss.names))
	for i, n := range ss.names {
		cols[i] = quoteIdent(n)
		text[i] = "CAST(" + quoteIdent(n) + " AS VARCHAR)"
	}
	q := "SELECT " + strings.Join(text, ", ") + " FROM (SELECT * FROM " + s.carrierName(ss.table) + " UNION ALL " + read + ") AS f WHERE " +
		strings.Join(cols, " IS NOT NULL AND ") + " IS NOT NULL GROUP BY " + strings.Join(cols, ", ") + " HAVING count(*) > 1 LIMIT 1"
	rows, err := s.conn.QueryContext(ctx, q, nil)
	if err != nil {
		return fmt.Errorf("check unique index on %q: %w", ss.table, err)
	}
	defer rows.Close()
	vals := make([]driver.Value, len(cols))
	if rows.Next(vals) != nil {
		return nil
	}
	shown := make([]string, len(vals))
	for i, v := range vals {
		shown[i] = fmt.Sprint(v)
	}
	e := pgerr.New(pgerr.UniqueViolation, "could not create unique index %q", ss.alias).
		WithDetail(fmt.Sprintf("Key (%s)=(%s) is duplicated.", strings.Join(ss.names, ", "), strings.Join(shown, ", ")))
	e.SchemaName, e.TableName, e.ConstraintName = "public", ss.table, ss.alias
	return e
}

// uniqueKeys lists a carrier's PRIMARY KEY and UNIQUE column sets.
func (s *Session) uniqueKeys(ctx context.Context, name string) ([]uniqueKey, error) {
	var cacheKey string
	// Keyed by the committed definition: only a snapshot that sees it
	// reads and fills the cache (snapshotCurrent).
	if (s.stx == nil || !s.stx.altered[name]) && s.snapshotCurrent() {
		if t, ok := s.e.catalog.TableHead(s.db.name, "main", name); ok {
			cacheKey = s.definitionKey(t)
			s.e.keysMu.Lock()
			keys, hit := s.e.keys[cacheKey]
			s.e.keysMu.Unlock()
			if hit {
				return keys, nil
			}
		}
	}
	keys, err := s.queryUniqueKeys(ctx, name)
	if err == nil && cacheKey != "" {
		s.e.keysMu.Lock()
		if len(s.e.keys) > 4096 {
			clear(s.e.keys)
		}
		s.e.keys[cacheKey] = keys
		s.e.keysMu.Unlock()
	}
	return keys, err
}

// definitionKey names a table definition for the engine's caches of what
// DuckDB says about it (unique keys, constraints and defaults): DDL
// anywhere moves ddlGen, a definition committed elsewhere changes the SQL.
func (s *Session) definitionKey(t catalog.TableHead) string {
	return fmt.Sprintf("%s\x00%d\x00%s", s.db.name, s.e.ddlGen.Load(), t.SQL)
}

func (s *Session) queryUniqueKeys(ctx context.Context, name string) ([]uniqueKey, error) {
	rows, err := s.conn.QueryContext(ctx, "SELECT constraint_type, constraint_column_names FROM duckdb_constraints() "+
		"WHERE database_name = $1 AND schema_name = 'main' AND table_name = $2 AND constraint_type IN ('PRIMARY KEY', 'UNIQUE') ORDER BY constraint_index",
		[]driver.NamedValue{{Ordinal: 1, Value: s.db.name}, {Ordinal: 2, Value: name}})
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []uniqueKey
	vals := make([]driver.Value, 2)
	for rows.Next(vals) == nil {
		k := uniqueKey{primary: vals[0] == "PRIMARY KEY"}
		if list, ok := vals[1].([]any); ok {
			for _, c := range list {
				if cs, ok := c.(string); ok {
					k.cols = append(k.cols, cs)
				}
			}
		}
		if len(k.cols) > 0 {
			out = append(out, k)
		}
	}
	rows.Close()
	// Unique indexes on plain columns are unique keys too.
	rows, err = s.conn.QueryContext(ctx, "SELECT index_name, CAST(expressions AS VARCHAR[]) FROM duckdb_indexes() "+
		"WHERE database_name = $1 AND schema_name = 'main' AND table_name = $2 AND is_unique ORDER BY index_name",
		[]driver.NamedValue{{Ordinal: 1, Value: s.db.name}, {Ordinal: 2, Value: name}})
	if err != nil {
		return nil, err
	}
	for rows.Next(vals) == nil {
		k := uniqueKey{index: fmt.Sprint(vals[0])}
		list, _ := vals[1].([]any)
		for _, c := range list {
			cs, _ := c.(string)
			cs = strings.Trim(cs, `"`)
			if cs == "" || strings.ContainsAny(cs, "()+-*/ ") {
				k.cols = nil // an expression index: not checked across files
				break
			}
			k.cols = append(k.cols, cs)
		}
		if len(k.cols) > 0 {
			out = append(out, k)
		}
	}
	return out, nil
}

// findDuplicate looks for a carrier row whose key k is in files. A few new
// rows are looked up by value, which lets DuckDB skip files and row groups
// by their Parquet statistics; many are joined.
func (s *Session) findDuplicate(ctx context.Context, name string, k uniqueKey, files []catalog.FileRef) ([]driver.Value, bool, error) {
	var quoted []string
	for _, c := range k.cols {
		quoted = append(quoted, quoteIdent(c))
	}
	const lookupMax = 64
	rows, err := s.conn.QueryContext(ctx, "SELECT "+strings.Join(quoted, ", ")+" FROM "+s.carrierName(name)+
		" WHERE "+strings.Join(quoted, " IS NOT NULL AND ")+" IS NOT NULL LIMIT "+fmt.Sprint(lookupMax+1), nil)
	if err != nil {
		return nil, false, err
	}
	var keys [][]driver.Value
	for {
		v := make([]driver.Value, len(k.cols))
		if rows.Next(v) != nil {
			break
		}
		keys = append(keys, v)
	}
	rows.Close()
	if len(keys) == 0 {
		return nil, false, nil
	}
	t, ok := s.e.catalog.TableHead(s.db.name, "main", name)
	if !ok {
		return nil, false, nil
	}
	read, err := s.readSQL(t.Columns, files, storage.ReadOptions{})
	if err != nil {
		return nil, false, err
	}
	var sel []string
	for _, c := range k.cols {
		sel = append(sel, "CAST(f."+quoteIdent(c)+" AS VARCHAR)")
	}
	var q string
	var args []driver.NamedValue
	if len(keys) <= lookupMax {
		var ors []string
		for _, key := range keys {
			var ands []string
			for i, c := range k.cols {
				args = append(args, driver.NamedValue{Ordinal: len(args) + 1, Value: key[i]})
				ands = append(ands, fmt.Sprintf("f.%s = $%d", quoteIdent(c), len(args)))
			}
			ors = append(ors, "("+strings.Join(ands, " AND ")+")")
		}
		q = "SELECT " + strings.Join(sel, ", ") + " FROM (" + read + ") AS f WHERE " + strings.Join(ors, " OR ") + " LIMIT 1"
	} else {
		var cond []string
		for _, c := range k.cols {
			cond = append(cond, "f."+quoteIdent(c)+" = c."+quoteIdent(c))
		}
		q = "SELECT " + strings.Join(sel, ", ") + " FROM (" + read + ") AS f WHERE EXISTS (SELECT 1 FROM " +
			s.carrierName(name) + " AS c WHERE " + strings.Join(cond, " AND ") + ") LIMIT 1"
	}
	rows, err = s.conn.QueryContext(ctx, q, args)
	if err != nil {
		return nil, false, err
	}
	defer rows.Close()
	vals := make([]driver.Value, len(k.cols))
	return vals, rows.Next(vals) == nil, nil
}

type uniqueKey struct {
	index   string // a unique index's name; "" for a constraint
	primary bool
	cols    []string
}

// checkUnique fails with 23505 if a row in the carrier has the key of a row
// in the table's files (only), or in onlyFiles when given.
func (s *Session) checkUnique(ctx context.Context, name string, onlyFiles []catalog.FileRef) error {
	files := onlyFiles
	if files == nil {
		var err error
		if files, _, err = s.visibleFiles(name); err != nil {
			return err
		}
	}
	if len(files) == 0 {
		return nil
	}
	keys, err := s.uniqueKeys(ctx, name)
	if err != nil || len(keys) == 0 {
		return err
	}
	for _, k := range keys {
		in := files
		cand, indexed, err := s.indexedCandidates(ctx, name, k, files)
		if err != nil {
			return fmt.Errorf("check unique key of %q: %w", name, err)
		}
		if indexed {
			if len(cand) == 0 {
				continue
			}
			in = cand
		}
		vals, found, err := s.findDuplicate(ctx, name, k, in)
		if err != nil {
			return fmt.Errorf("check unique key of %q: %w", name, err)
		}
		if !found {
			continue
		}
		cname := name + "_pkey"
		switch {
		case k.index != "":
			cname = k.index
		case !k.primary:
			cname = name + "_" + strings.Join(k.cols, "_") + "_key"
		}
		var shown []string
		for _, v := range vals {
			shown = append(shown, fmt.Sprint(v))
		}
		e := pgerr.New(pgerr.UniqueViolation, "duplicate key value violates unique constraint %q", cname).
			WithDetail(fmt.Sprintf("Key (%s)=(%s) already exists.", strings.Join(k.cols, ", "), strings.Join(shown, ", ")))
		e.SchemaName, e.TableName, e.ConstraintName = "public", name, cname
		return e
	}
	return nil
}

// commitTx ends the current transaction successfully: the storage changes
// become one catalog entry, then DuckDB's transaction ends (committed when
// it holds DDL, rolled back otherwise: the carriers' rows were only ever
// staging). Callers then reset the session's transaction state.
func (s *Session) commitTx(ctx context.Context) error {
	ctx = context.WithoutCancel(ctx)
	stx := s.stx
	if stx == nil {
		err := s.exec(ctx, "COMMIT")
		s.viewsInTx, s.viewsStale = nil, true
		return err
	}
	err := s.commitStorage(ctx, stx) // reads s.stx (keys of altered tables)
	s.stx = nil
	if err != nil {
		s.exec(ctx, "ROLLBACK")
		s.viewsRolledBack()
		return err
	}
	if !stx.ddl {
		s.viewsRolledBack()
		if err := s.execInternal(ctx, "ROLLBACK"); err != nil {
			return err
		}
		if stx.defined {
			s.refreshDeclared(ctx)
		}
		s.afterFeatureCommit(ctx, stx)
		return nil
	}
	s.viewsInTx, s.viewsStale = nil, true
	for name, p := range stx.tables {
		if p.dirty && !stx.dropped[name] {
			if err := s.exec(ctx, "DELETE FROM "+s.carrierName(name)); err != nil {
				s.exec(ctx, "ROLLBACK")
				return fmt.Errorf("clear carrier of %q: %w", name, err)
			}
		}
	}
	if err := s.exec(ctx, "COMMIT"); err != nil {
		return err
	}
	if stx.defined {
		s.refreshDeclared(ctx)
	}
	s.afterFeatureCommit(ctx, stx)
	return nil
}

// abortTx rolls the transaction back.
func (s *Session) abortTx(ctx context.Context) error {
	s.stx = nil
	s.viewsRolledBack()
	return s.exec(context.WithoutCancel(ctx), "ROLLBACK")
}

// commitStorage writes each changed carrier to a Parquet file and proposes
// the transaction's catalog entry, retrying appends that raced other
// commits after checking unique keys against what those added.
func (s *Session) commitStorage(ctx context.Context, stx *storageTx) error {
	c := catalog.Commit{Project: s.db.name, User: s.user}
	for name := range stx.dropped {
		c.Drops = append(c.Drops, catalog.TableRef{Schema: "main", Name: name})
	}
	sort.Slice(c.Drops, func(i, j int) bool { return c.Drops[i].Name < c.Drops[j].Name })
	c.Renames = stx.renames
	var names []string
	for name := range stx.altered {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		put, err := s.tableDefinition(ctx, name)
		if err != nil {
			return err
		}
		s.applyDeclared(&put, stx.created[name], stx.decl[name])
		if def := s.featureOf(name); def != nil {
			for _, k := range def.RowKey() {
				if !catalog.HasColumn(put.Columns, k) {
					return pgerr.New(pgerr.DependentObjectsStillExist, "column %q is part of feature group %s's key", k, name)
				}
			}
			put.Feature = s.featureVersion(name, def, put.Columns, stx.created[name])
		}
		c.Puts = append(c.Puts, put)
	}
	var adopted []string
	defer func() {
		for _, id := range adopted {
			os.Remove(s.e.fs.BlockPath(id))
		}
	}()
	type written struct {
		data   catalog.TableData
		unique bool
		p      *pendingTable
	}
	var writes []written
	names = names[:0]
	for name := range stx.tables {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		p := stx.tables[name]
		if stx.dropped[name] {
			continue
		}
		d := catalog.TableData{Schema: "main", Name: name, Op: p.op, Expect: -1, Replace: p.replace}
		for f := range p.pulled {
			d.Remove = append(d.Remove, f)
		}
		sort.Strings(d.Remove)
		if def := s.featureOf(name); def != nil && p.dirty {
			// Expectations added since the statements ran apply too.
			res, err := s.validateRows(ctx, name, def, p)
			if err != nil {
				return err
			}
			d.Validation = res
		}
		if p.direct != nil {
			adopted = append(adopted, p.direct.Block.ID)
			d.Add = append(d.Add, *p.direct)
		}
		if p.dirty {
			f, err := s.writeCarrier(ctx, name, stx.altered[name])
			if err != nil {
				return err
			}
			if f != nil {
				if !f.IsInline() {
					adopted = append(adopted, f.Block.ID)
				}
				d.Add = append(d.Add, *f)
			}
		}
		if len(d.Add) == 0 && len(d.Remove) == 0 && !d.Replace {
			continue
		}
		// Conflicts are found per file: the files this transaction
		// rewrote must still be current (a TRUNCATE or ALTER replaced the
		// version it read, so nothing may have changed). New rows of keyed
		// tables are checked against what others committed meanwhile.
		w := written{data: d, p: p}
		if !stx.created[name] {
			if d.Replace {
				w.data.Expect = p.base
			} else if len(d.Add) > 0 {
				keys, err := s.uniqueKeys(ctx, name)
				if err != nil {
					return err
				}
				w.unique = len(keys) > 0 || s.featureOf(name) != nil
			}
		}
		writes = append(writes, w)
	}
	for _, name := range stx.dropViews {
		c.DropViews = append(c.DropViews, catalog.TableRef{Schema: "main", Name: name})
	}
	c.PutViews = stx.putViews
	if len(c.Drops)+len(c.Renames)+len(c.Puts)+len(writes)+len(c.DropViews)+len(c.PutViews) == 0 {
		return nil
	}
	// Commits to the same keyed tables from this node take turns for the
	// key re-check and the proposal (in name order: no deadlock), so they
	// do not keep invalidating each other's checks.
	var locked []string
	for _, w := range writes {
		if w.unique {
			locked = append(locked, w.data.Name)
		}
	}
	unlock := s.e.lockTables(s.db.name, locked)
	defer unlock()
	for _, name := range locked {
		// Single-row commits still in flight (fastinsert.go) are not in
		// the files read below yet.
		s.e.pipeFor(s.db.name, name).drain()
	}
	for attempt := 0; ; attempt++ {
		c.Data = c.Data[:0]
		for i := range writes {
			w := &writes[i]
			if w.unique {
				// Check the keys against files committed since they were read.
				v, files, err := s.e.catalog.TableFiles(s.db.name, "main", w.data.Name, 0, 0)
				if err != nil {
					return err
				}
				// A file this transaction rewrote was rewritten by another:
				// a write-write conflict, whatever the keys say.
				live := map[string]bool{}
				for _, f := range files {
					live[f.Name] = true
				}
				for _, r := range w.data.Remove {
					if !live[r] {
						return pgerr.New(pgerr.SerializationFailure, "could not serialize access due to concurrent update of %s", w.data.Name)
					}
				}
				if v != w.p.base {
					seen := map[string]bool{}
					for _, f := range w.p.files {
						seen[f.Name] = true
					}
					var fresh []catalog.FileRef
					for _, f := range files {
						if !seen[f.Name] {
							fresh = append(fresh, f)
						}
					}
					if err := s.checkUnique(ctx, w.data.Name, fresh); err != nil {
						return err
					}
					if def := s.featureOf(w.data.Name); def != nil && len(fresh) > 0 {
						// Rows with the same key and event time committed
						// meanwhile: replacing them would need a rewrite
						// this commit did not plan.
						hits, err := s.filesHoldingKeys(ctx, w.data.Name, def.RowKey(), fresh)
						if err != nil {
							return err
						}
						if len(hits) > 0 {
							return pgerr.New(pgerr.SerializationFailure, "could not serialize access due to concurrent update of %s", w.data.Name)
						}
					}
					w.p.base, w.p.files = v, files
				}
				w.data.Expect = v
			}
			c.Data = append(c.Data, w.data)
		}
		_, err := s.e.catalog.Propose(ctx, catalog.CmdCommit, c)
		if err == nil {
			adopted = nil // referenced now
			stx.defined = len(c.Puts) > 0
			for _, w := range writes {
				s.afterOnlineCommit(ctx, w.data.Name, w.data.Op)
				if s.featureOf(w.data.Name) == nil {
					continue
				}
				// Still under the table's commit lock: the head is this commit's.
				if h, ok := s.e.catalog.TableHead(s.db.name, "main", w.data.Name); ok {
					if stx.madeVersions == nil {
						stx.madeVersions = map[string]int64{}
					}
					stx.madeVersions[w.data.Name] = h.Version
				}
			}
			for _, w := range writes {
				if len(w.data.Add) > 0 && !w.data.Add[0].IsInline() {
					select {
					case s.e.cacheNow <- s.db.name + "\x00" + w.data.Name:
					default: // the next round copies it
					}
				}
			}
			for _, w := range writes {
				if t, ok := s.e.catalog.TableHead(s.db.name, "main", w.data.Name); ok && storage.CompactionDue(t) {
					select {
					case s.e.compactNow <- s.db.name + "\x00" + w.data.Name:
					default:
					}
				}
			}
			return nil
		}
		if errors.Is(err, catalog.ErrConflict) {
			// A version race (keys checked against a version that moved on)
			// is retried; a file this transaction rewrote having been
			// rewritten by another is a real write-write conflict.
			retry := attempt < 20
			for _, w := range writes {
				if w.data.Expect >= 0 && !w.unique {
					retry = false
				}
				if len(w.data.Remove) > 0 {
					_, cur, ferr := s.e.catalog.TableFiles(s.db.name, "main", w.data.Name, 0, 0)
					live := map[string]bool{}
					for _, f := range cur {
						live[f.Name] = true
					}
					for _, r := range w.data.Remove {
						if ferr != nil || !live[r] {
							retry = false
						}
					}
				}
			}
			if retry {
				continue
			}
			return pgerr.New(pgerr.SerializationFailure, "%s", err.Error())
		}
		if errors.Is(err, catalog.ErrQuota) {
			return pgerr.New(pgerr.DiskFull, "%s", err.Error())
		}
		return fmt.Errorf("commit: %w", err)
	}
}

// tableDefinition reads a carrier's definition from DuckDB.
func (s *Session) tableDefinition(ctx context.Context, name string) (catalog.PutTable, error) {
	put := catalog.PutTable{Schema: "main", Name: name}
	args := []driver.NamedValue{{Ordinal: 1, Value: s.db.name}, {Ordinal: 2, Value: name}}
	rows, err := s.conn.QueryContext(ctx, "SELECT sql FROM duckdb_tables() WHERE database_name = $1 AND schema_name = 'main' AND table_name = $2", args)
	if err != nil {
		return put, fmt.Errorf("read definition of %q: %w", name, err)
	}
	vals := make([]driver.Value, 2)
	if rows.Next(vals[:1]) == nil {
		put.SQL, _ = vals[0].(string)
	}
	rows.Close()
	if put.SQL == "" {
		return put, fmt.Errorf("table %q has no definition in DuckDB", name)
	}
	rows, err = s.conn.QueryContext(ctx, "SELECT column_name, data_type FROM duckdb_columns() WHERE database_name = $1 AND schema_name = 'main' AND table_name = $2 ORDER BY column_index", args)
	if err != nil {
		return put, fmt.Errorf("read columns of %q: %w", name, err)
	}
	defer rows.Close()
	for rows.Next(vals) == nil {
		n, _ := vals[0].(string)
		t, _ := vals[1].(string)
		put.Columns = append(put.Columns, catalog.Column{Name: n, Type: t})
	}
	return put, nil
}

// writeCarrier writes a carrier's rows to a new data file: inline JSON
// lines when they are few (smallwrite.go), a Parquet block otherwise; nil
// when it has none.
func (s *Session) writeCarrier(ctx context.Context, name string, defined bool) (*catalog.NewFile, error) {
	var cols []catalog.Column
	// The catalog's columns are current unless this transaction defined or
	// altered the table (it is committing them now).
	if t, ok := s.e.catalog.TableHead(s.db.name, "main", name); ok && !defined {
		cols = t.Columns
	} else {
		def, err := s.tableDefinition(ctx, name)
		if err != nil {
			return nil, err
		}
		cols = def.Columns
	}
	if f, done, err := s.writeSmall(ctx, name, cols); err != nil || done {
		return f, err
	}
	f, _, err := s.writeParquet(ctx, "SELECT "+storage.StoredList(cols)+" FROM "+s.carrierName(name))
	if err != nil {
		return nil, fmt.Errorf("write %q: %w", name, err)
	}
	return f, nil
}

// fillCreatedTable gives a table that CREATE TABLE … AS defined without
// data its rows: as a Parquet file written straight from the query when
// the statement is its own transaction, else into the carrier (later
// statements of the transaction read the carrier).
func (s *Session) fillCreatedTable(ctx context.Context, ss *stmtStorage, p *pendingTable) error {
	direct := s.ctasDirect
	s.ctasDirect = false
	if !direct {
		sql := "INSERT INTO " + s.carrierName(ss.table) + " " + ss.directSQL
		res, err := s.conn.ExecContext(ctx, sql, nil)
		if err != nil {
			return err
		}
		if s.tx == txBlock {
			s.txLog = append(s.txLog, loggedStmt{sql: sql}) // replayed by ROLLBACK TO SAVEPOINT
		}
		s.ctasRows, err = res.RowsAffected()
		return err
	}
	def, err := s.tableDefinition(ctx, ss.table)
	if err != nil {
		return err
	}
	f, n, err := s.writeParquet(ctx, "SELECT "+storage.StoredList(def.Columns)+" FROM ("+ss.directSQL+") AS q")
	if err != nil {
		return pgerr.From(err)
	}
	p.direct, p.dirty, s.ctasRows = f, false, n
	return nil
}

// writeParquet writes a query's rows to a new Parquet block; nil when
// there are none.
func (s *Session) writeParquet(ctx context.Context, query string) (*catalog.NewFile, int64, error) {
	file := fmt.Sprintf("%019d-%s%s", time.Now().UnixNano(), catalog.NewRequestID()[:12], storage.ParquetExt)
	local := filepath.Join(s.e.fs.TempDir(), file)
	var n int64
	rows, err := s.conn.QueryContext(ctx, "COPY ("+query+") TO "+quoteLiteral(local)+
		" ("+storage.WriteOptions(s.e.cfg.ParquetCompression)+")", nil)
	if err == nil {
		vals := make([]driver.Value, 1)
		if rows.Next(vals) == nil {
			n, _ = vals[0].(int64)
		}
		rows.Close()
	}
	if err != nil {
		os.Remove(local)
		return nil, 0, err
	}
	if n == 0 {
		os.Remove(local)
		return nil, 0, nil
	}
	b, err := s.e.fs.AdoptBlock(ctx, local, storage.ParquetExt)
	if err != nil {
		os.Remove(local)
		return nil, 0, err
	}
	return &catalog.NewFile{Name: file, Block: *b, Rows: n}, n, nil
}

// needsViews reports whether a statement reads tables through the
// session's views (or its plan depends on rows pulled into a carrier).
// Statements that are not parsed (DuckDB-only syntax) always do.
func (st *Statement) needsViews() bool {
	return st.node == nil || st.readsRel || (st.storage != nil && (st.storage.pull || st.storage.op == "ALTER" || st.storage.op == "CREATE AS"))
}

// lockTables takes the commit locks of a project's tables, in name order so
// that two commits cannot deadlock, and returns the unlock.
func (e *Engine) lockTables(project string, names []string) func() {
	sort.Strings(names)
	var held []*sync.Mutex
	for _, n := range names {
		k := project + "\x00" + n
		e.commitMu.Lock()
		m := e.commitLocks[k]
		if m == nil {
			m = &sync.Mutex{}
			e.commitLocks[k] = m
		}
		e.commitMu.Unlock()
		m.Lock()
		held = append(held, m)
	}
	return func() {
		for i := len(held) - 1; i >= 0; i-- {
			held[i].Unlock()
		}
	}
}

// hasParams reports whether a statement has parameters ($n).
func hasParams(n *pg_query.Node) bool {
	found := false
	pgcatalog.Walk(n, func(n *pg_query.Node) bool {
		found = found || n.GetParamRef() != nil
		return !found
	})
	return found
}
