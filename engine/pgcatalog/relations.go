package pgcatalog

import (
	_ "embed"
	"fmt"
	"strconv"
	"strings"
)

// The shapes of PostgreSQL 15's catalog relations, dumped from a real
// PostgreSQL 15.18 (see sql/README.md). Every relation hopsql presents has
// exactly these columns, in this order, so client queries written against
// PostgreSQL bind unchanged.
var (
	//go:embed sql/pg15_columns.txt
	pg15Columns string
	//go:embed sql/pg15_relations.txt
	pg15Relations string
)

// column is one column of a catalog relation.
type column struct {
	name   string
	pgType string // format_type() of the PostgreSQL column
}

// relation is one PostgreSQL catalog relation.
type relation struct {
	name    string
	oid     uint32 // PostgreSQL's own pg_class oid, so 'pg_class'::regclass = 1259
	relkind string
	columns []column
}

// catalogRelations lists the relations in pg15_relations.txt order; catalogByName
// indexes them. Both are built once at init and read-only afterwards.
var (
	catalogRelations []*relation
	catalogByName    = map[string]*relation{}
)

func init() {
	for _, line := range strings.Split(strings.TrimSpace(pg15Relations), "\n") {
		f := strings.Split(line, "|")
		oid, err := strconv.ParseUint(f[1], 10, 32)
		if len(f) != 3 || err != nil {
			panic(fmt.Sprintf("pgcatalog: bad line in pg15_relations.txt: %q", line))
		}
		r := &relation{name: f[0], oid: uint32(oid), relkind: f[2]}
		catalogRelations = append(catalogRelations, r)
		catalogByName[r.name] = r
	}
	for _, line := range strings.Split(strings.TrimSpace(pg15Columns), "\n") {
		f := strings.Split(line, "|")
		r := catalogByName[f[0]]
		if len(f) != 4 || r == nil {
			panic(fmt.Sprintf("pgcatalog: bad line in pg15_columns.txt: %q", line))
		}
		r.columns = append(r.columns, column{name: f[2], pgType: f[3]})
	}
}

// duckType is the DuckDB column type a PostgreSQL catalog column is stored as.
// oid-like types become BIGINT (oids are unsigned 32-bit), names and internal
// text-ish types become VARCHAR; regproc holds the function name because
// clients compare it with 'array_in'::regproc.
func duckType(pgType string) string {
	if strings.HasSuffix(pgType, "[]") {
		switch base := strings.TrimSuffix(pgType, "[]"); base {
		case "pg_statistic":
			return "VARCHAR"
		default:
			return duckType(base) + "[]"
		}
	}
	switch pgType {
	case "boolean":
		return "BOOLEAN"
	case "smallint":
		return "SMALLINT"
	case "integer":
		return "INTEGER"
	case "bigint", "oid", "xid", "regtype", "regclass", "regnamespace", "regrole":
		return "BIGINT"
	case "real":
		return "FLOAT"
	case "double precision":
		return "DOUBLE"
	case "timestamp with time zone":
		return "TIMESTAMPTZ"
	case "interval":
		return "INTERVAL"
	case "bytea":
		return "BLOB"
	case "int2vector":
		return "SMALLINT[]"
	case "oidvector":
		return "BIGINT[]"
	case "anyarray":
		return "VARCHAR[]"
	default: // text, name, "char", regproc, pg_node_tree, aclitem, inet, pg_lsn, …
		return "VARCHAR"
	}
}

// defaultValue is what a view column the body does not provide holds: the
// value PostgreSQL has for an object that does not use the feature.
func defaultValue(pgType string) string {
	switch pgType {
	case "boolean":
		return "false"
	case "smallint", "integer", "bigint", "oid", "xid", "real", "double precision", "regtype", "regclass":
		return "0"
	case `"char"`, "name":
		return "''"
	case "regproc":
		return "'-'"
	default:
		return "NULL"
	}
}

// createTableSQL is the DDL of an empty relation with the PostgreSQL shape.
func (r *relation) createTableSQL() string {
	var b strings.Builder
	fmt.Fprintf(&b, "CREATE TABLE %s.main.%s (", catalogDB, quoteIdent(r.name))
	for i, c := range r.columns {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%s %s", quoteIdent(c.name), duckType(c.pgType))
	}
	b.WriteString(");\n")
	return b.String()
}

// createViewSQL wraps body, which yields the columns in provided (by name,
// any order, any type), into a view with exactly r's columns and types.
func (r *relation) createViewSQL(body string, provided map[string]bool) string {
	var b strings.Builder
	fmt.Fprintf(&b, "CREATE VIEW %s.main.%s AS SELECT ", catalogDB, quoteIdent(r.name))
	for i, c := range r.columns {
		if i > 0 {
			b.WriteString(", ")
		}
		src := defaultValue(c.pgType)
		if provided[c.name] {
			src = "hop_src." + quoteIdent(c.name)
		}
		fmt.Fprintf(&b, "CAST(%s AS %s) AS %s", src, duckType(c.pgType), quoteIdent(c.name))
	}
	fmt.Fprintf(&b, " FROM (%s) AS hop_src;\n", body)
	return b.String()
}

// quoteIdent double-quotes an identifier for generated DDL.
func quoteIdent(s string) string {
	return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
}

// quoteLiteral single-quotes a string for generated SQL.
func quoteLiteral(s string) string {
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}
