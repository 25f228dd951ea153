package columnar

import (
	"database/sql/driver"
	"fmt"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
)

// Supported reports whether a result column of this DuckDB type (as
// duckdb-go's ColumnTypeDatabaseTypeName names it) travels in batches. The
// set is the flat types whose Arrow form carries exactly the value the row
// interface returns; everything else (JSON, which the row interface
// decodes; DECIMAL, HUGEINT, UBIGINT, INTERVAL, UUID, TIME, nested types)
// keeps the row path.
func Supported(duckType string) bool {
	switch duckType {
	case "BOOLEAN", "TINYINT", "SMALLINT", "INTEGER", "BIGINT", "UTINYINT", "USMALLINT", "UINTEGER",
		"FLOAT", "DOUBLE", "VARCHAR", "DATE", "TIMESTAMP", "TIMESTAMPTZ":
		return true
	}
	return false
}

// Value returns cell i of arr as duckdb-go's row interface returns it:
// nil for NULL, int8…int64 and uint8…uint32 by width, float32/float64, a
// string that owns its bytes, bool, and time.Time in UTC for dates and
// timestamps.
func Value(arr arrow.Array, i int) (driver.Value, error) {
	if arr.IsNull(i) {
		return nil, nil
	}
	switch a := arr.(type) {
	case *array.Boolean:
		return a.Value(i), nil
	case *array.Int8:
		return a.Value(i), nil
	case *array.Int16:
		return a.Value(i), nil
	case *array.Int32:
		return a.Value(i), nil
	case *array.Int64:
		return a.Value(i), nil
	case *array.Uint8:
		return a.Value(i), nil
	case *array.Uint16:
		return a.Value(i), nil
	case *array.Uint32:
		return a.Value(i), nil
	case *array.Float32:
		return a.Value(i), nil
	case *array.Float64:
		return a.Value(i), nil
	case *array.String:
		return strings.Clone(a.Value(i)), nil // the batch's memory goes with the batch
	case *array.LargeString:
		return strings.Clone(a.Value(i)), nil
	case *array.StringView:
		return strings.Clone(a.Value(i)), nil
	case *array.Date32:
		return Date(int32(a.Value(i))), nil
	case *array.Timestamp:
		return Timestamp(int64(a.Value(i)), a.DataType().(*arrow.TimestampType).Unit), nil
	}
	return nil, fmt.Errorf("columnar: no row value for Arrow type %s", arr.DataType())
}

// Date is a DATE cell (days since 1970-01-01) as the row interface gives
// it: midnight UTC of that proleptic Gregorian day.
func Date(days int32) time.Time {
	return time.Date(1970, time.January, 1+int(days), 0, 0, 0, 0, time.UTC)
}

// Timestamp is a TIMESTAMP or TIMESTAMPTZ cell as the row interface gives
// it, in UTC.
func Timestamp(v int64, unit arrow.TimeUnit) time.Time {
	switch unit {
	case arrow.Second:
		return time.Unix(v, 0).UTC()
	case arrow.Millisecond:
		return time.UnixMilli(v).UTC()
	case arrow.Nanosecond:
		return time.Unix(0, v).UTC()
	}
	return time.UnixMicro(v).UTC()
}

// Row fills row with cells i of rec's columns.
func Row(rec arrow.RecordBatch, i int, row []driver.Value) error {
	for c := range row {
		v, err := Value(rec.Column(c), i)
		if err != nil {
			return err
		}
		row[c] = v
	}
	return nil
}

// Arrow types of the columns a binary COPY builds (CopyType).
var (
	timestampUS   = &arrow.TimestampType{Unit: arrow.Microsecond}
	timestamptzUS = &arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "UTC"}
)

// CopyType is the Arrow type a binary COPY column of PostgreSQL type oid is
// built as, on its way into DuckDB; false for the types that keep the
// row path. DuckDB reads each as its own type of the same width: DATE as
// days since 1970, TIMESTAMP[TZ] as microseconds since 1970 (UTC).
func CopyType(oid uint32) (arrow.DataType, bool) {
	switch oid {
	case 16:
		return arrow.FixedWidthTypes.Boolean, true
	case 21:
		return arrow.PrimitiveTypes.Int16, true
	case 23:
		return arrow.PrimitiveTypes.Int32, true
	case 20:
		return arrow.PrimitiveTypes.Int64, true
	case 700:
		return arrow.PrimitiveTypes.Float32, true
	case 701:
		return arrow.PrimitiveTypes.Float64, true
	case 25, 1043:
		return arrow.BinaryTypes.String, true
	case 1082:
		return arrow.FixedWidthTypes.Date32, true
	case 1114:
		return timestampUS, true
	case 1184:
		return timestamptzUS, true
	}
	return nil, false
}
