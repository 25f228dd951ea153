//go:build !duckdb_arrow

package engine

import (
	"context"
	"database/sql/driver"
	"errors"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/duckdb/duckdb-go/v2"
)

// columnarBuilt is false without the duckdb_arrow build tag (make builds
// with it): every result then goes row by row.
const columnarBuilt = false

func duckRecordReader(context.Context, driver.Rows) (array.RecordReader, error) {
	return nil, errors.New("built without the duckdb_arrow tag")
}

func registerArrowView(*duckdb.Conn, array.RecordReader, string) (func(), error) {
	return nil, errors.New("built without the duckdb_arrow tag")
}
