package pgcatalog

import (
	"context"
	"database/sql/driver"
	"embed"
	"fmt"
	"hash/fnv"
	"strings"
	"sync"

	pg_query "github.com/pganalyze/pg_query_go/v6"
)

// catalogDB is the name of the in-memory DuckDB database holding the catalog.
const catalogDB = "hopsql_catalog"

//go:embed sql/*.sql
var sqlFiles embed.FS

// Info is the part of the catalog that comes from outside DuckDB.
type Info struct {
	// Databases are pg_database's rows: one per hopsql database (project).
	Databases []string
	// Roles are pg_authid / pg_roles / pg_user rows.
	Roles []Role
	// ServerVersion is PostgreSQL's server_version, e.g. "15.18 (hopsql 0.1.0)".
	ServerVersion string
	// Declared are column types DuckDB does not keep (varchar(n)), which
	// pg_attribute reports instead of the one DuckDB's type maps to.
	Declared []DeclaredColumn
}

// DeclaredColumn is a column's declared PostgreSQL type.
type DeclaredColumn struct {
	Database, Schema, Table, Column string
	TypeOID                         uint32
	Typmod                          int32
}

// SetDeclared replaces one database's declared column types.
func SetDeclared(ctx context.Context, conn driver.ExecerContext, database string, cols []DeclaredColumn) error {
	var b strings.Builder
	fmt.Fprintf(&b, "BEGIN; DELETE FROM %s.main.hop_declared WHERE database_name = %s;\n", catalogDB, quoteLiteral(database))
	writeDeclared(&b, cols)
	b.WriteString("COMMIT;")
	if _, err := conn.ExecContext(ctx, b.String(), nil); err != nil {
		conn.ExecContext(ctx, "ROLLBACK", nil)
		return fmt.Errorf("pgcatalog: declared types: %w", err)
	}
	return nil
}

func writeDeclared(b *strings.Builder, cols []DeclaredColumn) {
	for _, c := range cols {
		fmt.Fprintf(b, "INSERT INTO %s.main.hop_declared VALUES (%s, %s, %s, %s, %d, %d);\n", catalogDB,
			quoteLiteral(c.Database), quoteLiteral(c.Schema), quoteLiteral(c.Table), quoteLiteral(c.Column), c.TypeOID, c.Typmod)
	}
}

// Role is one role of pg_roles.
type Role struct {
	Name      string
	Superuser bool
	CanLogin  bool
}

// Install creates the catalog in one DuckDB database instance: it attaches an
// in-memory database named hopsql_catalog and creates the pg_catalog
// relations and functions in its main schema. The attachment is shared by
// all connections of the instance, so Install runs once per instance, on
// any connection. Calling it again rebuilds the catalog from scratch.
func Install(ctx context.Context, conn driver.ExecerContext, info Info) error {
	static, err := staticScript()
	if err != nil {
		return err
	}
	script := "DETACH DATABASE IF EXISTS " + catalogDB + ";\nATTACH ':memory:' AS " + catalogDB + ";\n" + static + refreshScript(info)
	if _, err := conn.ExecContext(ctx, script, nil); err != nil {
		return fmt.Errorf("pgcatalog: install: %w", err)
	}
	return nil
}

// Refresh replaces the rows that come from outside DuckDB: databases, roles
// and the server version. Call it after CREATE DATABASE or a role change.
// DuckDB lets one transaction write to one database only, so call it outside
// a transaction that has written to user tables.
func Refresh(ctx context.Context, conn driver.ExecerContext, info Info) error {
	if _, err := conn.ExecContext(ctx, refreshScript(info), nil); err != nil {
		return fmt.Errorf("pgcatalog: refresh: %w", err)
	}
	return nil
}

// stableOID gives a name an oid that stays the same across restarts and
// does not depend on the order of Info's lists.
func stableOID(kind, name string) uint32 {
	h := fnv.New32a()
	h.Write([]byte(kind))
	h.Write([]byte{0})
	h.Write([]byte(name))
	return 16384 + h.Sum32()%(1<<30)
}

// ownerOID is the role that owns every object: the first superuser, else the
// first role, else PostgreSQL's bootstrap superuser oid 10.
func ownerOID(info Info) uint32 {
	for _, r := range info.Roles {
		if r.Superuser {
			return stableOID("role", r.Name)
		}
	}
	if len(info.Roles) > 0 {
		return stableOID("role", info.Roles[0].Name)
	}
	return 10
}

func refreshScript(info Info) string {
	var b strings.Builder
	fmt.Fprintf(&b, "DELETE FROM %[1]s.main.hop_role; DELETE FROM %[1]s.main.hop_database; DELETE FROM %[1]s.main.hop_server;\n", catalogDB)
	for _, r := range info.Roles {
		fmt.Fprintf(&b, "INSERT INTO %s.main.hop_role VALUES (%d, %s, %t, %t);\n",
			catalogDB, stableOID("role", r.Name), quoteLiteral(r.Name), r.Superuser, r.CanLogin)
	}
	for _, d := range info.Databases {
		fmt.Fprintf(&b, "INSERT INTO %s.main.hop_database VALUES (%d, %s);\n", catalogDB, stableOID("database", d), quoteLiteral(d))
	}
	fmt.Fprintf(&b, "INSERT INTO %s.main.hop_server VALUES (%s, %d);\n", catalogDB, quoteLiteral(info.ServerVersion), ownerOID(info))
	fmt.Fprintf(&b, "DELETE FROM %s.main.hop_declared;\n", catalogDB)
	writeDeclared(&b, info.Declared)
	return b.String()
}

// staticScript is the DDL that does not depend on Info. It is built once.
var staticScript = sync.OnceValues(buildStaticScript)

func buildStaticScript() (string, error) {
	var b strings.Builder
	duckTypes, err := duckTypeRows()
	if err != nil {
		return "", err
	}
	fmt.Fprintf(&b, "CREATE TABLE %[1]s.main.hop_duck_types (name VARCHAR, oid BIGINT);\nINSERT INTO %[1]s.main.hop_duck_types VALUES %[2]s;\n", catalogDB, duckTypes)
	fmt.Fprintf(&b, `CREATE TABLE %[1]s.main.hop_types (oid BIGINT, typname VARCHAR, typlen SMALLINT, typbyval BOOLEAN,
  typtype VARCHAR, typcategory VARCHAR, typelem BIGINT, typarray BIGINT, typinput VARCHAR, typoutput VARCHAR,
  typreceive VARCHAR, typsend VARCHAR, typalign VARCHAR, typstorage VARCHAR, typcollation BIGINT,
  typsubscript VARCHAR, sqlname VARCHAR);
INSERT INTO %[1]s.main.hop_types VALUES %[2]s;
`, catalogDB, pgTypeRows())
	fmt.Fprintf(&b, "CREATE TABLE %s.main.hop_catalog_rels (oid BIGINT, relname VARCHAR, relkind VARCHAR, ncols SMALLINT);\n", catalogDB)
	var rows []string
	for _, r := range catalogRelations {
		rows = append(rows, fmt.Sprintf("(%d, %s, %s, %d)", r.oid, quoteLiteral(r.name), quoteLiteral(r.relkind), len(r.columns)))
	}
	fmt.Fprintf(&b, "INSERT INTO %s.main.hop_catalog_rels VALUES %s;\n", catalogDB, strings.Join(rows, ", "))
	fmt.Fprintf(&b, "CREATE TABLE %s.main.hop_server (server_version VARCHAR, owner_oid BIGINT);\n", catalogDB)
	fmt.Fprintf(&b, "CREATE TABLE %s.main.hop_role (oid BIGINT, rolname VARCHAR, rolsuper BOOLEAN, rolcanlogin BOOLEAN);\n", catalogDB)
	fmt.Fprintf(&b, "CREATE TABLE %s.main.hop_database (oid BIGINT, datname VARCHAR);\n", catalogDB)
	fmt.Fprintf(&b, "CREATE TABLE %s.main.hop_declared (database_name VARCHAR, schema_name VARCHAR, table_name VARCHAR, column_name VARCHAR, type_oid BIGINT, typmod INTEGER);\n", catalogDB)

	// DuckDB binds macros and views when they are created, so the order is
	// tables, helper macros, views, empty tables, then the functions that
	// read the views.
	if err := appendFile(&b, "sql/20_macros.sql"); err != nil {
		return "", err
	}
	views, err := sqlFiles.ReadFile("sql/30_views.sql")
	if err != nil {
		return "", fmt.Errorf("pgcatalog: %w", err)
	}
	hasView := map[string]bool{}
	for _, sec := range splitSections(string(views)) {
		if rel, ok := catalogByName[sec.name]; ok {
			cols, err := selectColumns(sec.body)
			if err != nil {
				return "", fmt.Errorf("pgcatalog: view %s: %w", sec.name, err)
			}
			for c := range cols {
				if !rel.hasColumn(c) {
					return "", fmt.Errorf("pgcatalog: view %s: PostgreSQL has no column %q", sec.name, c)
				}
			}
			b.WriteString(rel.createViewSQL(sec.body, cols))
			hasView[sec.name] = true
			continue
		}
		if !strings.HasPrefix(sec.name, "hop_") && !strings.HasPrefix(sec.name, "information_schema_") {
			return "", fmt.Errorf("pgcatalog: view %s is neither a helper nor a PostgreSQL relation", sec.name)
		}
		fmt.Fprintf(&b, "CREATE VIEW %s.main.%s AS %s;\n", catalogDB, sec.name, sec.body)
	}
	// Everything hopsql has no rows for is an empty table of the right shape.
	for _, r := range catalogRelations {
		if !hasView[r.name] {
			b.WriteString(r.createTableSQL())
		}
	}
	if err := appendFile(&b, "sql/40_functions.sql"); err != nil {
		return "", err
	}
	if err := appendFile(&b, "sql/45_builtins.sql"); err != nil {
		return "", err
	}
	return b.String(), nil
}

func appendFile(b *strings.Builder, name string) error {
	src, err := sqlFiles.ReadFile(name)
	if err != nil {
		return fmt.Errorf("pgcatalog: %w", err)
	}
	b.Write(src)
	b.WriteString("\n")
	return nil
}

func (r *relation) hasColumn(name string) bool {
	for _, c := range r.columns {
		if c.name == name {
			return true
		}
	}
	return false
}

type section struct{ name, body string }

// splitSections splits 30_views.sql at its "-- view: NAME" markers.
func splitSections(src string) []section {
	var out []section
	var cur *section
	var body strings.Builder
	flush := func() {
		if cur != nil {
			cur.body = strings.TrimSpace(body.String())
			out = append(out, *cur)
		}
		body.Reset()
	}
	for _, line := range strings.Split(src, "\n") {
		if name, ok := strings.CutPrefix(line, "-- view: "); ok {
			flush()
			cur = &section{name: strings.TrimSpace(name)}
			continue
		}
		if cur != nil && !strings.HasPrefix(strings.TrimSpace(line), "--") {
			body.WriteString(line)
			body.WriteString("\n")
		}
	}
	flush()
	return out
}

// selectColumns returns the output column names of a SELECT, read from its
// (leftmost) target list with the PostgreSQL parser.
func selectColumns(body string) (map[string]bool, error) {
	res, err := pg_query.Parse(body)
	if err != nil {
		return nil, err
	}
	if len(res.Stmts) != 1 {
		return nil, fmt.Errorf("want one statement, got %d", len(res.Stmts))
	}
	sel := res.Stmts[0].Stmt.GetSelectStmt()
	for sel != nil && sel.Larg != nil {
		sel = sel.Larg
	}
	if sel == nil {
		return nil, fmt.Errorf("not a SELECT")
	}
	cols := map[string]bool{}
	for _, t := range sel.TargetList {
		rt := t.GetResTarget()
		name := rt.GetName()
		if name == "" {
			if cr := rt.GetVal().GetColumnRef(); cr != nil {
				name = cr.Fields[len(cr.Fields)-1].GetString_().GetSval()
			}
		}
		if name == "" {
			return nil, fmt.Errorf("output column without a name: %v", rt.GetVal())
		}
		cols[name] = true
	}
	return cols, nil
}
