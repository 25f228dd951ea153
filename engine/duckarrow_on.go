//go:build duckdb_arrow

package engine

import (
	"context"
	"database/sql/driver"
	_ "unsafe" // go:linkname

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/duckdb/duckdb-go/v2"
)

// columnarBuilt: this binary can read DuckDB results as Arrow batches.
const columnarBuilt = true

// duckRecordReader turns the rows of a prepared DuckDB statement, before
// any is read, into a stream of Arrow record batches, one per DuckDB data
// chunk. duckdb-go's exported Arrow API only runs SQL text, which would
// plan every execution of a prepared statement again; its Stmt-based
// reader is this unexported function, linked by name. duckdb-go's version
// is pinned in go.mod, and a change to the function's name breaks the
// build rather than the server.
//
//go:linkname duckRecordReader github.com/duckdb/duckdb-go/v2.recordReaderFromRows
func duckRecordReader(ctx context.Context, from driver.Rows) (array.RecordReader, error)

// registerArrowView makes reader readable as the temporary view name on
// the session's DuckDB connection; release frees the stream afterwards.
func registerArrowView(conn *duckdb.Conn, reader array.RecordReader, name string) (release func(), err error) {
	a, err := duckdb.NewArrowFromConn(conn)
	if err != nil {
		return nil, err
	}
	return a.RegisterView(reader, name)
}
