package engine

import (
	"sync/atomic"

	"github.com/duckdb/duckdb-go/v2"
)

// counters say which of the engine's alternative paths statements took,
// since the server started: the fast paths are otherwise invisible, being
// meant to give the same answers as the general ones. They are the rows
// of hopsql.server_counters.
type counters struct {
	resultsColumnar atomic.Int64 // DuckDB results sent from Arrow batches
	resultsRows     atomic.Int64 // DuckDB results sent row by row
	resultsConstant atomic.Int64 // results replayed from the constant-statement cache (constant.go)
	insertsDirect   atomic.Int64 // single-row INSERTs committed without DuckDB (fastinsert.go)
	insertsReplayed atomic.Int64 // deferred single-row INSERTs that went through the carrier after all
	insertsBuffered atomic.Int64 // single-row INSERTs in transactions buffered in the session (insertbuffer.go)
	copiesArrow     atomic.Int64 // binary COPYs that reached DuckDB as Arrow batches (copyarrow.go)
	copiesDirect    atomic.Int64 // of those, the ones written straight to a Parquet file
	compactions     atomic.Int64 // table compactions committed (background and VACUUM)
	// pointLookupsMemory: primary-key lookups of plain tables answered
	// from memory (pointlookup.go).
	pointLookupsMemory atomic.Int64
}

var serverCounterColumns = []column{
	{name: "name", t: duckdb.TYPE_VARCHAR}, {name: "value", t: duckdb.TYPE_BIGINT}, {name: "description", t: duckdb.TYPE_VARCHAR},
}

func (e *Engine) serverCounterRows(string) []map[string]any {
	c := &e.counters
	row := func(name string, v *atomic.Int64, desc string) map[string]any {
		return map[string]any{"name": name, "value": v.Load(), "description": desc}
	}
	return []map[string]any{
		row("results_columnar", &c.resultsColumnar, "results sent from DuckDB's columnar (Arrow) batches"),
		row("results_row_by_row", &c.resultsRows, "results sent from DuckDB row by row"),
		row("results_constant", &c.resultsConstant, "results of constant statements replayed without DuckDB"),
		row("inserts_direct", &c.insertsDirect, "single-row INSERTs committed without a DuckDB statement"),
		row("inserts_replayed", &c.insertsReplayed, "deferred single-row INSERTs replayed through DuckDB (a statement followed, or the direct path did not apply)"),
		row("inserts_buffered", &c.insertsBuffered, "single-row INSERTs inside transactions whose rows were checked and buffered in the session, then written to the carrier together"),
		row("copies_arrow", &c.copiesArrow, "binary COPYs whose rows reached DuckDB as Arrow batches"),
		row("copies_direct", &c.copiesDirect, "COPYs written straight to a Parquet file, without the carrier (binary as Arrow batches, text and CSV through read_csv)"),
		row("point_lookups_memory", &c.pointLookupsMemory, "primary-key lookups of plain tables answered from the node's memory, without DuckDB"),
		row("compactions", &c.compactions, "table compactions committed (small files merged into one), in the background or by VACUUM"),
	}
}
