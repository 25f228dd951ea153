package pgcatalog

import (
	"fmt"
	"strings"

	"github.com/duckdb/duckdb-go/v2"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/hopsql/hopsql/engine/pgtypes"
)

// duckTypeNames pairs the type names duckdb_columns().data_type prints with
// the DuckDB type they name. The PostgreSQL OID of each comes from
// pgtypes.FromDuckDB so that pg_attribute and the wire layer agree.
var duckTypeNames = []struct {
	name string
	typ  duckdb.Type
}{
	{"BOOLEAN", duckdb.TYPE_BOOLEAN},
	{"TINYINT", duckdb.TYPE_TINYINT},
	{"SMALLINT", duckdb.TYPE_SMALLINT},
	{"INTEGER", duckdb.TYPE_INTEGER},
	{"BIGINT", duckdb.TYPE_BIGINT},
	{"UTINYINT", duckdb.TYPE_UTINYINT},
	{"USMALLINT", duckdb.TYPE_USMALLINT},
	{"UINTEGER", duckdb.TYPE_UINTEGER},
	{"UBIGINT", duckdb.TYPE_UBIGINT},
	{"HUGEINT", duckdb.TYPE_HUGEINT},
	{"UHUGEINT", duckdb.TYPE_UHUGEINT},
	{"FLOAT", duckdb.TYPE_FLOAT},
	{"DOUBLE", duckdb.TYPE_DOUBLE},
	{"VARCHAR", duckdb.TYPE_VARCHAR},
	{"BLOB", duckdb.TYPE_BLOB},
	{"DATE", duckdb.TYPE_DATE},
	{"TIME", duckdb.TYPE_TIME},
	{"TIME WITH TIME ZONE", duckdb.TYPE_TIME_TZ},
	{"TIMESTAMP", duckdb.TYPE_TIMESTAMP},
	{"TIMESTAMP_S", duckdb.TYPE_TIMESTAMP_S},
	{"TIMESTAMP_MS", duckdb.TYPE_TIMESTAMP_MS},
	{"TIMESTAMP_NS", duckdb.TYPE_TIMESTAMP_NS},
	{"TIMESTAMP WITH TIME ZONE", duckdb.TYPE_TIMESTAMP_TZ},
	{"INTERVAL", duckdb.TYPE_INTERVAL},
	{"UUID", duckdb.TYPE_UUID},
	{"BIT", duckdb.TYPE_BIT},
	{"BIGNUM", duckdb.TYPE_BIGNUM},
}

// duckTypeRows renders hop_duck_types(name, oid) as a VALUES list.
func duckTypeRows() (string, error) {
	var rows []string
	for _, d := range duckTypeNames {
		ti, err := duckdb.NewTypeInfo(d.typ)
		if err != nil {
			return "", fmt.Errorf("type info for %s: %w", d.name, err)
		}
		rows = append(rows, fmt.Sprintf("(%s, %d)", quoteLiteral(d.name), pgtypes.FromDuckDB(ti).OID))
	}
	// JSON is a VARCHAR alias; FromDuckDB maps it by alias.
	rows = append(rows, fmt.Sprintf("('JSON', %d)", pgtype.JSONOID))
	return strings.Join(rows, ", "), nil
}

// sqlNames are format_type()'s names where they differ from pg_type.typname.
var sqlNames = map[string]string{
	"bool":        "boolean",
	"int2":        "smallint",
	"int4":        "integer",
	"int8":        "bigint",
	"float4":      "real",
	"float8":      "double precision",
	"varchar":     "character varying",
	"bpchar":      "bpchar", // "character" only with a length, see hop_format_base
	"timestamp":   "timestamp without time zone",
	"timestamptz": "timestamp with time zone",
	"time":        "time without time zone",
	"timetz":      "time with time zone",
	"char":        `"char"`,
}

// underscoreIO are the types whose I/O functions are spelled name_in, name_out.
var underscoreIO = map[string]bool{
	"json": true, "jsonb": true, "date": true, "time": true, "timestamp": true, "timestamptz": true,
	"interval": true, "timetz": true, "bit": true, "numeric": true, "uuid": true, "record": true,
	"void": true, "any": true,
}

// pgTypeRows renders hop_types as a VALUES list from pgtypes.Builtin:
// (oid, typname, typlen, typbyval, typtype, typcategory, typelem, typarray,
// typinput, typoutput, typreceive, typsend, typalign, typstorage,
// typcollation, typsubscript, sqlname).
func pgTypeRows() string {
	var rows []string
	for _, t := range pgtypes.Builtin {
		io := func(suffix string) string {
			switch {
			case t.Category == 'A' && t.OID != pgtypes.Int2VectorOID && t.OID != pgtypes.OIDVectorOID:
				return "array_" + suffix
			case underscoreIO[t.Name]:
				return t.Name + "_" + suffix
			default:
				return t.Name + suffix
			}
		}
		typtype := "b"
		if t.Category == 'P' {
			typtype = "p"
		}
		byval := t.Len > 0 && t.Len <= 8
		align, storage := "i", "p"
		switch {
		case t.Len == 8:
			align = "d"
		case t.Len == 2:
			align = "s"
		case t.Len == 1:
			align = "c"
		case t.Len < 0:
			storage = "x"
		}
		collation := 0
		switch t.Name {
		case "text", "varchar", "bpchar":
			collation = 100
		case "name":
			collation = 950
		}
		subscript := "-"
		if t.Category == 'A' {
			subscript = "array_subscript_handler"
		}
		sqlname := t.Name
		if n, ok := sqlNames[t.Name]; ok {
			sqlname = n
		}
		rows = append(rows, fmt.Sprintf("(%d, %s, %d, %t, '%s', '%c', %d, %d, %s, %s, %s, %s, '%s', '%s', %d, %s, %s)",
			t.OID, quoteLiteral(t.Name), t.Len, byval, typtype, t.Category, t.ElemOID, t.ArrayOID,
			quoteLiteral(io("in")), quoteLiteral(io("out")), quoteLiteral(io("recv")), quoteLiteral(io("send")),
			align, storage, collation, quoteLiteral(subscript), quoteLiteral(sqlname)))
	}
	return strings.Join(rows, ",\n")
}
