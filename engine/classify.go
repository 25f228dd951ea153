package engine

import (
	"strings"

	pg_query "github.com/pganalyze/pg_query_go/v6"
)

// kind says who executes a statement.
type kind int

const (
	kindDuck        kind = iota // prepared and run on DuckDB
	kindEmpty                   // empty query string
	kindTx                      // BEGIN, COMMIT, SAVEPOINT, …
	kindSet                     // SET / RESET
	kindShow                    // SHOW
	kindCopy                    // COPY … FROM STDIN / TO STDOUT
	kindCreateDB                // CREATE DATABASE
	kindDropDB                  // DROP DATABASE
	kindDiscard                 // DISCARD ALL
	kindDeallocate              // DEALLOCATE
	kindNoop                    // accepted and ignored, e.g. LISTEN
	kindDeclare                 // DECLARE … CURSOR
	kindFetch                   // FETCH / MOVE
	kindClose                   // CLOSE cursor
	kindVacuum                  // VACUUM: compaction and expiry of table files
	kindTraining                // CREATE/DROP TRAINING DATASET (trainingdataset.go)
	kindExpectation             // ALTER FEATURE GROUP … ADD/DROP EXPECTATION (expectation.go)
	kindAnalyze                 // ANALYZE: feature statistics (statistics.go)
	kindExperiment              // CREATE/WAIT/CANCEL/DROP EXPERIMENT (experiments.go)
	kindSQLPrepare              // PREPARE name AS … (sqlprepare.go)
)

// classification is what the engine derives from a statement's parse tree.
type classification struct {
	kind kind
	// tag is the command tag verb (SELECT, INSERT, CREATE TABLE, …).
	tag string
	// write: the statement changes data or schema (refused in READ ONLY transactions).
	write bool
	// rows: the statement yields a result set (SELECT, EXPLAIN, RETURNING …).
	rows bool
}

var objectTypeTag = map[pg_query.ObjectType]string{
	pg_query.ObjectType_OBJECT_TABLE:                 "TABLE",
	pg_query.ObjectType_OBJECT_VIEW:                  "VIEW",
	pg_query.ObjectType_OBJECT_MATVIEW:               "MATERIALIZED VIEW",
	pg_query.ObjectType_OBJECT_INDEX:                 "INDEX",
	pg_query.ObjectType_OBJECT_SCHEMA:                "SCHEMA",
	pg_query.ObjectType_OBJECT_SEQUENCE:              "SEQUENCE",
	pg_query.ObjectType_OBJECT_FUNCTION:              "FUNCTION",
	pg_query.ObjectType_OBJECT_TYPE:                  "TYPE",
	pg_query.ObjectType_OBJECT_DATABASE:              "DATABASE",
	pg_query.ObjectType_OBJECT_ROLE:                  "ROLE",
	pg_query.ObjectType_OBJECT_COLUMN:                "COLUMN",
	pg_query.ObjectType_OBJECT_EXTENSION:             "EXTENSION",
	pg_query.ObjectType_OBJECT_FOREIGN_TABLE:         "FOREIGN TABLE",
	pg_query.ObjectType_OBJECT_PROCEDURE:             "PROCEDURE",
	pg_query.ObjectType_OBJECT_AGGREGATE:             "AGGREGATE",
	pg_query.ObjectType_OBJECT_DOMAIN:                "DOMAIN",
	pg_query.ObjectType_OBJECT_TABCONSTRAINT:         "TABLE",
	pg_query.ObjectType_OBJECT_TRIGGER:               "TRIGGER",
	pg_query.ObjectType_OBJECT_COLLATION:             "COLLATION",
	pg_query.ObjectType_OBJECT_PUBLICATION:           "PUBLICATION",
	pg_query.ObjectType_OBJECT_FOREIGN_SERVER:        "SERVER",
	pg_query.ObjectType_OBJECT_STATISTIC_EXT:         "STATISTICS",
	pg_query.ObjectType_OBJECT_EVENT_TRIGGER:         "EVENT TRIGGER",
	pg_query.ObjectType_OBJECT_TSCONFIGURATION:       "TEXT SEARCH CONFIGURATION",
	pg_query.ObjectType_OBJECT_POLICY:                "POLICY",
	pg_query.ObjectType_OBJECT_RULE:                  "RULE",
	pg_query.ObjectType_OBJECT_OPERATOR:              "OPERATOR",
	pg_query.ObjectType_OBJECT_CAST:                  "CAST",
	pg_query.ObjectType_OBJECT_LANGUAGE:              "LANGUAGE",
	pg_query.ObjectType_OBJECT_SUBSCRIPTION:          "SUBSCRIPTION",
	pg_query.ObjectType_OBJECT_TABLESPACE:            "TABLESPACE",
	pg_query.ObjectType_OBJECT_ACCESS_METHOD:         "ACCESS METHOD",
	pg_query.ObjectType_OBJECT_CONVERSION:            "CONVERSION",
	pg_query.ObjectType_OBJECT_FDW:                   "FOREIGN DATA WRAPPER",
	pg_query.ObjectType_OBJECT_TSDICTIONARY:          "TEXT SEARCH DICTIONARY",
	pg_query.ObjectType_OBJECT_TSPARSER:              "TEXT SEARCH PARSER",
	pg_query.ObjectType_OBJECT_TSTEMPLATE:            "TEXT SEARCH TEMPLATE",
	pg_query.ObjectType_OBJECT_OPCLASS:               "OPERATOR CLASS",
	pg_query.ObjectType_OBJECT_OPFAMILY:              "OPERATOR FAMILY",
	pg_query.ObjectType_OBJECT_ROUTINE:               "ROUTINE",
	pg_query.ObjectType_OBJECT_USER_MAPPING:          "USER MAPPING",
	pg_query.ObjectType_OBJECT_DEFAULT:               "DEFAULT",
	pg_query.ObjectType_OBJECT_LARGEOBJECT:           "LARGE OBJECT",
	pg_query.ObjectType_OBJECT_TRANSFORM:             "TRANSFORM",
	pg_query.ObjectType_OBJECT_AMOP:                  "OPERATOR",
	pg_query.ObjectType_OBJECT_AMPROC:                "FUNCTION",
	pg_query.ObjectType_OBJECT_ATTRIBUTE:             "ATTRIBUTE",
	pg_query.ObjectType_OBJECT_DOMCONSTRAINT:         "DOMAIN",
	pg_query.ObjectType_OBJECT_PARAMETER_ACL:         "PARAMETER",
	pg_query.ObjectType_OBJECT_PUBLICATION_REL:       "PUBLICATION",
	pg_query.ObjectType_OBJECT_PUBLICATION_NAMESPACE: "PUBLICATION",
}

// classify derives kind, tag and write-ness from a parsed statement.
func classify(n *pg_query.Node) classification {
	c := classification{kind: kindDuck, write: true}
	switch x := n.Node.(type) {
	case *pg_query.Node_SelectStmt:
		// SELECT INTO creates a table and, like CREATE TABLE AS, reports SELECT n.
		c.tag, c.write = "SELECT", x.SelectStmt.IntoClause != nil
		c.rows = !c.write
	case *pg_query.Node_InsertStmt:
		c.tag, c.rows = "INSERT", len(x.InsertStmt.ReturningList) > 0
	case *pg_query.Node_UpdateStmt:
		c.tag, c.rows = "UPDATE", len(x.UpdateStmt.ReturningList) > 0
	case *pg_query.Node_DeleteStmt:
		c.tag, c.rows = "DELETE", len(x.DeleteStmt.ReturningList) > 0
	case *pg_query.Node_MergeStmt:
		c.tag = "MERGE"
	case *pg_query.Node_CreateStmt:
		c.tag = "CREATE TABLE"
	case *pg_query.Node_CreateTableAsStmt:
		c.tag = "SELECT"
		if x.CreateTableAsStmt.Objtype == pg_query.ObjectType_OBJECT_MATVIEW {
			c.tag = "CREATE MATERIALIZED VIEW"
		}
	case *pg_query.Node_ViewStmt:
		c.tag = "CREATE VIEW"
	case *pg_query.Node_IndexStmt:
		c.tag = "CREATE INDEX"
	case *pg_query.Node_CreateSchemaStmt:
		c.tag = "CREATE SCHEMA"
	case *pg_query.Node_CreateSeqStmt:
		c.tag = "CREATE SEQUENCE"
	case *pg_query.Node_AlterSeqStmt:
		c.tag = "ALTER SEQUENCE"
	case *pg_query.Node_CreateFunctionStmt:
		c.tag = "CREATE FUNCTION"
		if x.CreateFunctionStmt.IsProcedure {
			c.tag = "CREATE PROCEDURE"
		}
	case *pg_query.Node_CreateEnumStmt, *pg_query.Node_CompositeTypeStmt, *pg_query.Node_CreateRangeStmt:
		c.tag = "CREATE TYPE"
	case *pg_query.Node_CreateDomainStmt:
		c.tag = "CREATE DOMAIN"
	case *pg_query.Node_CreateExtensionStmt:
		c.tag = "CREATE EXTENSION"
	case *pg_query.Node_DropStmt:
		c.tag = "DROP " + objectTypeTag[x.DropStmt.RemoveType]
	case *pg_query.Node_AlterTableStmt:
		c.tag = "ALTER " + objectTypeTag[x.AlterTableStmt.Objtype]
	case *pg_query.Node_RenameStmt:
		t := x.RenameStmt.RenameType
		if t == pg_query.ObjectType_OBJECT_COLUMN || t == pg_query.ObjectType_OBJECT_TABCONSTRAINT {
			t = x.RenameStmt.RelationType
		}
		c.tag = "ALTER " + objectTypeTag[t]
	case *pg_query.Node_AlterObjectSchemaStmt:
		c.tag = "ALTER " + objectTypeTag[x.AlterObjectSchemaStmt.ObjectType]
	case *pg_query.Node_TruncateStmt:
		c.tag = "TRUNCATE TABLE"
	case *pg_query.Node_CommentStmt:
		c.tag = "COMMENT"
	case *pg_query.Node_GrantStmt:
		c.tag = "GRANT"
		if !x.GrantStmt.IsGrant {
			c.tag = "REVOKE"
		}
	case *pg_query.Node_ExplainStmt:
		c.tag, c.write, c.rows = "EXPLAIN", false, true
	case *pg_query.Node_DoStmt:
		if req, ok := trainingRequestOf(x.DoStmt); ok {
			c.kind, c.tag, c.write = kindTraining, strings.ToUpper(req.Op)+" TRAINING DATASET", true
		} else if req, ok := experimentRequestOf(x.DoStmt); ok {
			c.kind, c.tag, c.write = kindExperiment, strings.ToUpper(req.Op)+" EXPERIMENT", false
			c.rows = req.Op == "create" || req.Op == "wait"
		} else if _, ok := expectationRequestOf(x.DoStmt); ok {
			c.kind, c.tag, c.write = kindExpectation, "ALTER FEATURE GROUP", true
		}
	case *pg_query.Node_VacuumStmt:
		c.tag, c.write = "VACUUM", false
		if !x.VacuumStmt.IsVacuumcmd {
			c.tag, c.kind = "ANALYZE", kindAnalyze
		} else {
			c.kind = kindVacuum
		}
	case *pg_query.Node_CheckPointStmt:
		c.tag, c.write = "CHECKPOINT", false
	case *pg_query.Node_CallStmt:
		c.tag, c.rows = "CALL", true
	case *pg_query.Node_PrepareStmt:
		c.kind, c.tag, c.write = kindSQLPrepare, "PREPARE", false
	case *pg_query.Node_ExecuteStmt:
		c.tag, c.rows = "EXECUTE", true
	case *pg_query.Node_TransactionStmt:
		c.kind, c.write = kindTx, false
		c.tag = txTag(x.TransactionStmt)
	case *pg_query.Node_VariableSetStmt:
		c.kind, c.write, c.tag = kindSet, false, "SET"
		if k := x.VariableSetStmt.Kind; k == pg_query.VariableSetKind_VAR_RESET || k == pg_query.VariableSetKind_VAR_RESET_ALL {
			c.tag = "RESET"
		}
	case *pg_query.Node_VariableShowStmt:
		c.kind, c.write, c.tag = kindShow, false, "SHOW"
	case *pg_query.Node_CopyStmt:
		c.tag = "COPY"
		c.write = x.CopyStmt.IsFrom
		if x.CopyStmt.Filename == "" && !x.CopyStmt.IsProgram {
			c.kind = kindCopy
		}
	case *pg_query.Node_CreatedbStmt:
		c.kind, c.tag = kindCreateDB, "CREATE DATABASE"
	case *pg_query.Node_DropdbStmt:
		c.kind, c.tag = kindDropDB, "DROP DATABASE"
	case *pg_query.Node_DiscardStmt:
		c.kind, c.write, c.tag = kindDiscard, false, "DISCARD ALL"
	case *pg_query.Node_DeallocateStmt:
		c.kind, c.write, c.tag = kindDeallocate, false, "DEALLOCATE"
		if x.DeallocateStmt.Name == "" {
			c.tag = "DEALLOCATE ALL"
		}
	case *pg_query.Node_DeclareCursorStmt:
		c.kind, c.write, c.tag = kindDeclare, false, "DECLARE CURSOR"
	case *pg_query.Node_FetchStmt:
		c.kind, c.write, c.tag, c.rows = kindFetch, false, "FETCH", !x.FetchStmt.Ismove
		if x.FetchStmt.Ismove {
			c.tag = "MOVE"
		}
	case *pg_query.Node_ClosePortalStmt:
		c.kind, c.write, c.tag = kindClose, false, "CLOSE CURSOR"
	case *pg_query.Node_ListenStmt:
		c.kind, c.write, c.tag = kindNoop, false, "LISTEN"
	case *pg_query.Node_UnlistenStmt:
		c.kind, c.write, c.tag = kindNoop, false, "UNLISTEN"
	case *pg_query.Node_LockStmt:
		// DuckDB's MVCC has no table locks; LOCK only has to succeed inside a block.
		c.kind, c.write, c.tag = kindNoop, false, "LOCK TABLE"
	default:
		c.tag = strings.ToUpper(strings.TrimSuffix(strings.TrimPrefix(nodeName(n), "Node_"), "Stmt"))
	}
	return c
}

func txTag(t *pg_query.TransactionStmt) string {
	switch t.Kind {
	case pg_query.TransactionStmtKind_TRANS_STMT_BEGIN, pg_query.TransactionStmtKind_TRANS_STMT_START:
		if t.Kind == pg_query.TransactionStmtKind_TRANS_STMT_START {
			return "START TRANSACTION"
		}
		return "BEGIN"
	case pg_query.TransactionStmtKind_TRANS_STMT_COMMIT:
		return "COMMIT"
	case pg_query.TransactionStmtKind_TRANS_STMT_ROLLBACK:
		return "ROLLBACK"
	case pg_query.TransactionStmtKind_TRANS_STMT_SAVEPOINT:
		return "SAVEPOINT"
	case pg_query.TransactionStmtKind_TRANS_STMT_RELEASE:
		return "RELEASE"
	case pg_query.TransactionStmtKind_TRANS_STMT_ROLLBACK_TO:
		return "ROLLBACK"
	case pg_query.TransactionStmtKind_TRANS_STMT_PREPARE:
		return "PREPARE TRANSACTION"
	case pg_query.TransactionStmtKind_TRANS_STMT_COMMIT_PREPARED:
		return "COMMIT PREPARED"
	case pg_query.TransactionStmtKind_TRANS_STMT_ROLLBACK_PREPARED:
		return "ROLLBACK PREPARED"
	}
	return "BEGIN"
}

// nodeName is the Go type name of a node's payload, e.g. "Node_SelectStmt".
func nodeName(n *pg_query.Node) string {
	s := strings.TrimPrefix(strings.TrimPrefix(typeName(n.Node), "*"), "pg_query.")
	return s
}
