package engine

import (
	"context"
	"fmt"

	pg_query "github.com/pganalyze/pg_query_go/v6"

	"github.com/hopsql/hopsql/engine/pgcatalog"
	"github.com/hopsql/hopsql/engine/pgerr"
	"github.com/hopsql/hopsql/engine/pgtypes"
)

// SQL-level PREPARE, EXECUTE and DEALLOCATE share the session's prepared
// statements with the protocol's Parse, as in PostgreSQL: a statement
// PREPAREd in SQL is one the extended protocol can Bind, and one Parse
// named can be EXECUTEd.
//
// PREPARE prepares its query as Parse would, with the declared parameter
// types. EXECUTE puts its arguments, cast to the statement's parameter
// types, where the parameters stood and runs the result as a statement of
// its own (so every rewrite, the storage layer and the command tag are
// the query's own). Two differences from PostgreSQL follow, documented in
// docs/sql-compat.md: the plan is made again at each EXECUTE, and an
// argument that a query uses twice is evaluated twice (a volatile one such
// as random() may differ).

// sqlPrepare is a PREPARE statement's request.
type sqlPrepare struct {
	name  string
	query string
	oids  []uint32
}

// planSQLPrepare reads a PREPARE statement.
func planSQLPrepare(p *pg_query.PrepareStmt) (*sqlPrepare, error) {
	q, err := deparse(p.Query)
	if err != nil {
		return nil, fmt.Errorf("deparse PREPARE query: %w", err)
	}
	req := &sqlPrepare{name: p.Name, query: q}
	for _, a := range p.Argtypes {
		req.oids = append(req.oids, typeNameOID(a.GetTypeName()))
	}
	return req, nil
}

// typeNameOID finds a built-in type by its name; 0 (unspecified: DuckDB
// infers it) for others.
func typeNameOID(tn *pg_query.TypeName) uint32 {
	if tn == nil || len(tn.Names) == 0 {
		return 0
	}
	name := tn.Names[len(tn.Names)-1].GetString_().GetSval()
	switch name {
	case "int", "integer":
		name = "int4"
	case "smallint":
		name = "int2"
	case "bigint":
		name = "int8"
	case "real":
		name = "float4"
	case "double precision", "float":
		name = "float8"
	case "boolean":
		name = "bool"
	case "decimal":
		name = "numeric"
	}
	info, ok := pgtypes.LookupName(name)
	if !ok {
		return 0
	}
	if len(tn.ArrayBounds) > 0 {
		if info.ArrayOID == 0 {
			return 0
		}
		return info.ArrayOID
	}
	return info.OID
}

// execSQLPrepare runs a PREPARE.
func (s *Session) execSQLPrepare(ctx context.Context, req *sqlPrepare) error {
	if _, ok := s.named[req.name]; ok {
		return pgerr.New(pgerr.DuplicatePreparedStatement, "prepared statement %q already exists", req.name)
	}
	_, err := s.Prepare(ctx, req.name, req.query, req.oids)
	return err
}

// prepareSQLExecute prepares an EXECUTE: the named statement's query with
// the arguments in place of its parameters.
func (s *Session) prepareSQLExecute(ctx context.Context, ex *pg_query.ExecuteStmt, paramOIDs []uint32) (*Statement, error) {
	inner, ok := s.named[ex.Name]
	if !ok || ex.Name == "" {
		return nil, pgerr.New(pgerr.InvalidSQLStatementName, "prepared statement %q does not exist", ex.Name)
	}
	if len(ex.Params) != len(inner.ParamOIDs) {
		return nil, pgerr.New(pgerr.SyntaxError, "wrong number of parameters for prepared statement %q", ex.Name).
			WithDetail(fmt.Sprintf("Expected %d parameters but got %d.", len(inner.ParamOIDs), len(ex.Params)))
	}
	tree, err := pg_query.Parse(inner.SQL)
	if err != nil || len(tree.Stmts) != 1 {
		return nil, pgerr.New(pgerr.FeatureNotSupported, "EXECUTE of a statement in DuckDB's own syntax is not supported")
	}
	stmt := tree.Stmts[0].Stmt
	if stmt.GetExecuteStmt() != nil || stmt.GetPrepareStmt() != nil {
		return nil, pgerr.New(pgerr.FeatureNotSupported, "a prepared statement cannot run PREPARE or EXECUTE")
	}
	args := make([]*pg_query.Node, len(ex.Params))
	for i, p := range ex.Params {
		args[i] = castTo(p, inner.ParamOIDs[i])
	}
	pgcatalog.Walk(stmt, func(n *pg_query.Node) bool {
		if pr := n.GetParamRef(); pr != nil && pr.Number >= 1 && int(pr.Number) <= len(args) {
			n.Node = args[pr.Number-1].Node
		}
		return true
	})
	sql, err := deparse(stmt)
	if err != nil {
		return nil, fmt.Errorf("deparse EXECUTE: %w", err)
	}
	tree, err = pg_query.Parse(sql)
	if err != nil || len(tree.Stmts) != 1 {
		return nil, pgerr.New(pgerr.InternalError, "EXECUTE: the statement with its arguments does not parse: %v", err)
	}
	return s.prepare(ctx, sql, tree.Stmts[0], paramOIDs)
}

// castTo wraps an argument in a cast to a parameter's type (none when the
// type is unspecified).
func castTo(arg *pg_query.Node, oid uint32) *pg_query.Node {
	info, ok := pgtypes.Lookup(oid)
	if !ok || oid == 0 {
		return arg
	}
	tn := &pg_query.TypeName{Typemod: -1}
	if info.ElemOID != 0 {
		elem, ok := pgtypes.Lookup(info.ElemOID)
		if !ok {
			return arg
		}
		tn.Names = []*pg_query.Node{pg_query.MakeStrNode("pg_catalog"), pg_query.MakeStrNode(elem.Name)}
		tn.ArrayBounds = []*pg_query.Node{pg_query.MakeIntNode(-1)}
	} else {
		tn.Names = []*pg_query.Node{pg_query.MakeStrNode("pg_catalog"), pg_query.MakeStrNode(info.Name)}
	}
	return &pg_query.Node{Node: &pg_query.Node_TypeCast{TypeCast: &pg_query.TypeCast{Arg: arg, TypeName: tn, Location: -1}}}
}
