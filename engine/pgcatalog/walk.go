package pgcatalog

import pg_query "github.com/pganalyze/pg_query_go/v6"

//go:generate go run ./internal/genwalk walk_gen.go

// walker drives the generated traversal in walk_gen.go.
type walker struct {
	// node is called for every *pg_query.Node before its children; returning
	// false skips the children. It may replace n.Node in place, in which case
	// the children of the replacement are walked.
	node func(n *pg_query.Node) bool
	// rangeVar, when set, is called for RangeVars held directly in a field
	// (INSERT/UPDATE/DELETE targets, CREATE … relations) rather than wrapped
	// in a Node; wrapped ones reach node like any other node.
	rangeVar func(rv *pg_query.RangeVar)
}

func (w *walker) walk(n *pg_query.Node) {
	if n == nil || n.Node == nil {
		return
	}
	if !w.node(n) {
		return
	}
	w.walkChildren(n)
}

// Walk calls fn for every *pg_query.Node in the tree rooted at n, parents
// before children. When fn returns false the children of that node are
// skipped. fn may replace n.Node in place; the walk then descends into the
// replacement. Every node kind of pg_query is reached (the traversal is
// generated from the protobuf definitions), including nodes held in
// non-Node message fields such as SelectStmt.IntoClause or InsertStmt.Relation.
func Walk(n *pg_query.Node, fn func(*pg_query.Node) bool) {
	w := walker{node: fn}
	w.walk(n)
}

// WalkStmt is Walk over the statement of a RawStmt.
func WalkStmt(stmt *pg_query.RawStmt, fn func(*pg_query.Node) bool) {
	if stmt == nil {
		return
	}
	Walk(stmt.Stmt, fn)
}

// WalkTargets calls fn for every RangeVar held directly in a statement's
// fields rather than wrapped in a Node: the relations a statement writes or
// defines (INSERT/UPDATE/DELETE/COPY targets, CREATE INDEX, ALTER TABLE …).
func WalkTargets(n *pg_query.Node, fn func(*pg_query.RangeVar)) {
	// A Node-wrapped RangeVar (a relation read in FROM) is not descended
	// into, so fn sees only the ones held directly in fields.
	w := walker{node: func(n *pg_query.Node) bool { return n.GetRangeVar() == nil }, rangeVar: fn}
	w.walk(n)
}
