package pgtypes

import (
	"strings"

	"github.com/duckdb/duckdb-go/v2"
	"github.com/jackc/pgx/v5/pgtype"
)

// Type is a PostgreSQL type as a client sees it.
type Type struct {
	OID    uint32
	Typmod int32 // -1 when the type has no modifier
	// Elem is the element type for array types; nil otherwise.
	Elem *Type
	// Size is pg_type.typlen: the fixed width in bytes, or -1 for varlena.
	Size int16
	// JSONText: a json or jsonb column whose values arrive as their JSON
	// text (a string), not decoded by the DuckDB driver.
	JSONText bool
}

// Info describes one PostgreSQL type in the static part of pg_type.
type Info struct {
	OID      uint32
	Name     string // pg_type.typname
	Len      int16
	Category byte   // pg_type.typcategory
	ArrayOID uint32 // pg_type.typarray (0 when none)
	ElemOID  uint32 // pg_type.typelem for array types
	// DuckDB is the DuckDB type name a value of this type is cast to.
	DuckDB string
}

// OIDs this package hands out that pgtype has no constant for.
const (
	RegclassOID     uint32 = 2205
	RegtypeOID      uint32 = 2206
	RegprocOID      uint32 = 24
	RegnamespaceOID uint32 = 4089
	NameArrayOID    uint32 = 1003
	CharArrayOID    uint32 = 1002
	VoidOID         uint32 = 2278
	UnknownOID      uint32 = 705
	RecordOID       uint32 = 2249
	AnyOID          uint32 = 2276
	Int2VectorOID   uint32 = 22
	OIDVectorOID    uint32 = 30
	TimeTZArrayOID  uint32 = 1270
	BitOID          uint32 = 1560
)

// Builtin lists the PostgreSQL types hopsql reports, scalar types first and
// then their array types. pg_type is built from this list.
var Builtin = []Info{
	{pgtype.BoolOID, "bool", 1, 'B', pgtype.BoolArrayOID, 0, "BOOLEAN"},
	{pgtype.ByteaOID, "bytea", -1, 'U', pgtype.ByteaArrayOID, 0, "BLOB"},
	{pgtype.QCharOID, "char", 1, 'Z', CharArrayOID, 0, "VARCHAR"},
	{pgtype.NameOID, "name", 64, 'S', NameArrayOID, 0, "VARCHAR"},
	{pgtype.Int8OID, "int8", 8, 'N', pgtype.Int8ArrayOID, 0, "BIGINT"},
	{pgtype.Int2OID, "int2", 2, 'N', pgtype.Int2ArrayOID, 0, "SMALLINT"},
	{Int2VectorOID, "int2vector", -1, 'A', 1006, pgtype.Int2OID, "SMALLINT[]"},
	{pgtype.Int4OID, "int4", 4, 'N', pgtype.Int4ArrayOID, 0, "INTEGER"},
	{RegprocOID, "regproc", 4, 'N', 1008, 0, "BIGINT"},
	{pgtype.TextOID, "text", -1, 'S', pgtype.TextArrayOID, 0, "VARCHAR"},
	{pgtype.OIDOID, "oid", 4, 'N', 1028, 0, "BIGINT"},
	{OIDVectorOID, "oidvector", -1, 'A', 1013, pgtype.OIDOID, "BIGINT[]"},
	{pgtype.JSONOID, "json", -1, 'U', pgtype.JSONArrayOID, 0, "JSON"},
	{pgtype.Float4OID, "float4", 4, 'N', pgtype.Float4ArrayOID, 0, "FLOAT"},
	{pgtype.Float8OID, "float8", 8, 'N', pgtype.Float8ArrayOID, 0, "DOUBLE"},
	{UnknownOID, "unknown", -2, 'X', 0, 0, "VARCHAR"},
	{pgtype.BPCharOID, "bpchar", -1, 'S', pgtype.BPCharArrayOID, 0, "VARCHAR"},
	{pgtype.VarcharOID, "varchar", -1, 'S', pgtype.VarcharArrayOID, 0, "VARCHAR"},
	{pgtype.DateOID, "date", 4, 'D', pgtype.DateArrayOID, 0, "DATE"},
	{pgtype.TimeOID, "time", 8, 'D', pgtype.TimeArrayOID, 0, "TIME"},
	{pgtype.TimestampOID, "timestamp", 8, 'D', pgtype.TimestampArrayOID, 0, "TIMESTAMP"},
	{pgtype.TimestamptzOID, "timestamptz", 8, 'D', pgtype.TimestamptzArrayOID, 0, "TIMESTAMPTZ"},
	{pgtype.IntervalOID, "interval", 16, 'T', pgtype.IntervalArrayOID, 0, "INTERVAL"},
	{1266, "timetz", 12, 'D', TimeTZArrayOID, 0, "TIMETZ"},
	{BitOID, "bit", -1, 'V', 1561, 0, "BIT"},
	{pgtype.NumericOID, "numeric", -1, 'N', pgtype.NumericArrayOID, 0, "DECIMAL"},
	{RegclassOID, "regclass", 4, 'N', 2210, 0, "BIGINT"},
	{RegtypeOID, "regtype", 4, 'N', 2211, 0, "BIGINT"},
	{RegnamespaceOID, "regnamespace", 4, 'N', 4090, 0, "BIGINT"},
	{pgtype.UUIDOID, "uuid", 16, 'U', pgtype.UUIDArrayOID, 0, "UUID"},
	{pgtype.JSONBOID, "jsonb", -1, 'U', pgtype.JSONBArrayOID, 0, "JSON"},
	{RecordOID, "record", -1, 'P', 2287, 0, "VARCHAR"},
	{VoidOID, "void", 4, 'P', 0, 0, "VARCHAR"},
	{AnyOID, "any", 4, 'P', 0, 0, "VARCHAR"},
}

var (
	byOID  = map[uint32]*Info{}
	byName = map[string]*Info{}
)

func init() {
	// Array types are derived from the scalar list so the two can never disagree.
	n := len(Builtin)
	for i := 0; i < n; i++ {
		s := Builtin[i]
		if s.ArrayOID == 0 || s.Category == 'A' {
			continue
		}
		Builtin = append(Builtin, Info{s.ArrayOID, "_" + s.Name, -1, 'A', 0, s.OID, s.DuckDB + "[]"})
	}
	for i := range Builtin {
		byOID[Builtin[i].OID] = &Builtin[i]
		byName[Builtin[i].Name] = &Builtin[i]
	}
}

// Lookup returns the static description of a type OID.
func Lookup(oid uint32) (*Info, bool) {
	i, ok := byOID[oid]
	return i, ok
}

// LookupName returns a type by its pg_type name (int4, _text, …).
func LookupName(name string) (*Info, bool) {
	i, ok := byName[name]
	return i, ok
}

// ArrayOf returns the array type OID of an element type, or 0.
func ArrayOf(elem uint32) uint32 {
	if i, ok := byOID[elem]; ok {
		return i.ArrayOID
	}
	return 0
}

// Unconstrained numeric (numeric without precision and scale, arbitrary
// in PostgreSQL) is DECIMAL(UnconstrainedNumericWidth,
// UnconstrainedNumericScale) in DuckDB (engine/pgcatalog/fidelity.go).
// Values of that type are reported as numeric without a modifier and
// printed without trailing fractional zeros (wire/codec), as PostgreSQL
// prints them; a column declared numeric(38,10) keeps its modifier through
// its declared type (engine/declared.go).
const (
	UnconstrainedNumericWidth = 38
	UnconstrainedNumericScale = 10
)

// NumericTypmod encodes precision and scale the way PostgreSQL stores them.
func NumericTypmod(precision, scale int) int32 {
	return int32(precision<<16|scale) + 4
}

// FromDuckDB returns the PostgreSQL type a DuckDB column is reported as.
// Types PostgreSQL has no equivalent for (STRUCT, MAP, UNION, …) are sent as
// json so that clients still get a value they can parse.
func FromDuckDB(ti duckdb.TypeInfo) Type {
	t := Type{Typmod: -1}
	switch ti.InternalType() {
	case duckdb.TYPE_BOOLEAN:
		t.OID = pgtype.BoolOID
	case duckdb.TYPE_TINYINT, duckdb.TYPE_SMALLINT, duckdb.TYPE_UTINYINT:
		t.OID = pgtype.Int2OID
	case duckdb.TYPE_INTEGER, duckdb.TYPE_USMALLINT:
		t.OID = pgtype.Int4OID
	case duckdb.TYPE_BIGINT, duckdb.TYPE_UINTEGER:
		t.OID = pgtype.Int8OID
	case duckdb.TYPE_UBIGINT, duckdb.TYPE_HUGEINT, duckdb.TYPE_UHUGEINT, duckdb.TYPE_BIGNUM:
		t.OID = pgtype.NumericOID
	case duckdb.TYPE_DECIMAL:
		t.OID = pgtype.NumericOID
		if d, ok := ti.Details().(*duckdb.DecimalDetails); ok &&
			!(d.Width == UnconstrainedNumericWidth && d.Scale == UnconstrainedNumericScale) {
			t.Typmod = NumericTypmod(int(d.Width), int(d.Scale))
		}
	case duckdb.TYPE_FLOAT:
		t.OID = pgtype.Float4OID
	case duckdb.TYPE_DOUBLE:
		t.OID = pgtype.Float8OID
	case duckdb.TYPE_VARCHAR:
		t.OID = pgtype.TextOID
		if strings.EqualFold(ti.Alias(), "JSON") {
			t.OID = pgtype.JSONOID
		}
	case duckdb.TYPE_ENUM:
		t.OID = pgtype.TextOID
	case duckdb.TYPE_BLOB:
		t.OID = pgtype.ByteaOID
	case duckdb.TYPE_DATE:
		t.OID = pgtype.DateOID
	case duckdb.TYPE_TIME:
		t.OID = pgtype.TimeOID
	case duckdb.TYPE_TIME_TZ:
		t.OID = 1266
	case duckdb.TYPE_TIMESTAMP, duckdb.TYPE_TIMESTAMP_S, duckdb.TYPE_TIMESTAMP_MS, duckdb.TYPE_TIMESTAMP_NS:
		t.OID = pgtype.TimestampOID
	case duckdb.TYPE_TIMESTAMP_TZ:
		t.OID = pgtype.TimestamptzOID
	case duckdb.TYPE_INTERVAL:
		t.OID = pgtype.IntervalOID
	case duckdb.TYPE_UUID:
		t.OID = pgtype.UUIDOID
	case duckdb.TYPE_BIT:
		t.OID = pgtype.TextOID
	case duckdb.TYPE_LIST, duckdb.TYPE_ARRAY:
		var child duckdb.TypeInfo
		switch d := ti.Details().(type) {
		case *duckdb.ListDetails:
			child = d.Child
		case *duckdb.ArrayDetails:
			child = d.Child
		}
		if child != nil {
			e := FromDuckDB(child)
			if arr := ArrayOf(e.OID); arr != 0 && e.Elem == nil && e.OID != pgtype.JSONOID {
				t.OID = arr
				t.Elem = &e
				break
			}
		}
		t.OID = pgtype.JSONOID
	case duckdb.TYPE_SQLNULL:
		t.OID = pgtype.TextOID
	default:
		// STRUCT, MAP, UNION, VARIANT, GEOMETRY and anything newer.
		t.OID = pgtype.JSONOID
	}
	if i, ok := byOID[t.OID]; ok {
		t.Size = i.Len
	} else {
		t.Size = -1
	}
	return t
}

// OIDOfDuckName returns the PostgreSQL type of a DuckDB type as DuckDB's
// messages spell it (INTEGER, DECIMAL(18,3), TIMESTAMP WITH TIME ZONE,
// VARCHAR[]), or 0 when hopsql has no PostgreSQL type for it.
func OIDOfDuckName(name string) uint32 {
	if elem, ok := strings.CutSuffix(name, "[]"); ok {
		return ArrayOf(OIDOfDuckName(elem))
	}
	if strings.HasPrefix(name, "DECIMAL") {
		return pgtype.NumericOID
	}
	switch name {
	case "BOOLEAN":
		return pgtype.BoolOID
	case "TINYINT", "SMALLINT", "UTINYINT":
		return pgtype.Int2OID
	case "INTEGER", "USMALLINT":
		return pgtype.Int4OID
	case "BIGINT", "UINTEGER":
		return pgtype.Int8OID
	case "HUGEINT", "UBIGINT", "UHUGEINT":
		return pgtype.NumericOID
	case "FLOAT":
		return pgtype.Float4OID
	case "DOUBLE":
		return pgtype.Float8OID
	case "DATE":
		return pgtype.DateOID
	case "TIME":
		return pgtype.TimeOID
	case "TIMESTAMP":
		return pgtype.TimestampOID
	case "TIMESTAMP WITH TIME ZONE":
		return pgtype.TimestamptzOID
	case "INTERVAL":
		return pgtype.IntervalOID
	case "UUID":
		return pgtype.UUIDOID
	case "BLOB":
		return pgtype.ByteaOID
	case "JSON":
		return pgtype.JSONOID
	case "VARCHAR":
		return pgtype.TextOID
	}
	return 0
}
