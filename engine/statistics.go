package engine

import (
	"context"
	"database/sql/driver"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/duckdb/duckdb-go/v2"

	"github.com/hopsql/hopsql/catalog"
	"github.com/hopsql/hopsql/engine/pgerr"
	"github.com/hopsql/hopsql/storage"
)

// Feature statistics (docs/sql.md): every commit to a feature group has
// every column of the version it made described — count, nulls, distinct
// values, min, max, mean, stddev and a histogram — and recorded with the
// version (hopsql.feature_statistics). They describe the whole version,
// not only the rows the commit wrote, as Hopsworks' do. Up to
// Config.StatsSyncRows rows the committing session computes them before the
// commit is acknowledged; a larger version is described by the maintenance
// loop in the background (a scan per commit would make every small write
// to a big feature group pay for the whole table). The loop also catches
// up on current versions left without (a crash after a commit); ANALYZE
// computes them on demand. Versions made by compaction hold the same rows
// and get none.

// histogramBins is how many equal-width bins a numeric feature's histogram
// has, and how many most frequent values another feature's lists.
const histogramBins = 20

// recordStatistics computes and records the statistics of a table version
// (0: the current one), unless it has them already (force recomputes).
func (s *Session) recordStatistics(ctx context.Context, name string, version int64, force bool) error {
	h, ok := s.e.catalog.TableHead(s.db.name, "main", name)
	if !ok || h.Feature == nil {
		return nil
	}
	v, files, err := s.e.catalog.TableFiles(s.db.name, "main", name, version, 0)
	if catalog.CodeOf(err) == catalog.CodeNotFound || catalog.CodeOf(err) == catalog.CodeInvalid {
		return nil // expired meanwhile
	}
	if err != nil || v == 0 || len(files) == 0 {
		return err
	}
	if !force && s.e.catalog.HasStatistics(s.db.name, "main", name, v) {
		return nil
	}
	cols := h.Columns
	if v != h.Version {
		t, ok := s.e.catalog.Table(s.db.name, "main", name)
		if !ok {
			return nil
		}
		cols = t.ColumnsAt(v)
	}
	read, err := s.readSQL(cols, files, storage.ReadOptions{})
	if err != nil {
		return err
	}
	stats, err := s.computeStatistics(ctx, cols, read)
	if err != nil {
		return fmt.Errorf("statistics of %q: %w", name, err)
	}
	_, err = s.e.catalog.Propose(ctx, catalog.CmdPutStatistics, catalog.PutStatistics{
		Project: s.db.name, Schema: "main", Name: name, TableID: h.ID, Version: v, Stats: stats})
	if catalog.CodeOf(err) == catalog.CodeNotFound {
		return nil // dropped, or the version expired, meanwhile
	}
	return err
}

// afterFeatureCommit records the statistics of the feature groups a commit
// wrote. The commit stands whatever happens here.
func (s *Session) afterFeatureCommit(ctx context.Context, stx *storageTx) {
	for name, v := range stx.madeVersions {
		h, ok := s.e.catalog.TableHead(s.db.name, "main", name)
		if !ok || h.Feature == nil {
			continue
		}
		if h.Version != v || h.Rows > s.e.cfg.StatsSyncRows {
			select {
			case s.e.statsNow <- statsRequest{project: s.db.name, table: name, version: v}:
			default: // the loop catches up on current versions
			}
			continue
		}
		if err := s.recordStatistics(ctx, name, v, false); err != nil {
			s.e.log.Warn("feature statistics", "table", name, "err", err)
		}
	}
}

// statsRequest asks the maintenance loop for a version's statistics.
type statsRequest struct {
	project, table string
	version        int64
}

// backgroundStatistics computes statistics on a connection of its own:
// of one version, or (version < 0) of every feature group's current
// version that has none.
func (e *Engine) backgroundStatistics(ctx context.Context, db *database, table string, version int64) {
	var todo []statsRequest
	if version >= 0 {
		todo = append(todo, statsRequest{table: table, version: version})
	} else {
		for _, h := range e.catalog.TableHeads(db.name) {
			if h.Feature != nil && h.Version > 0 && !e.catalog.HasStatistics(db.name, "main", h.Name, h.Version) {
				todo = append(todo, statsRequest{table: h.Name, version: h.Version})
			}
		}
	}
	if len(todo) == 0 {
		return
	}
	c, err := db.connector.Connect(ctx)
	if err != nil {
		return
	}
	defer c.Close()
	s := &Session{e: e, db: db, conn: c.(*duckdb.Conn), user: e.cfg.Superuser}
	defer s.closeInternal()
	for _, r := range todo {
		if err := s.recordStatistics(ctx, r.table, r.version, false); err != nil && ctx.Err() == nil {
			e.log.Warn("feature statistics", "database", db.name, "table", r.table, "err", err)
		}
	}
}

// execAnalyze is ANALYZE [table, …]: statistics of the current version of
// the named feature groups (all of them without names). Other tables have
// nothing to analyse; DuckDB plans without statistics of this kind.
func (s *Session) execAnalyze(ctx context.Context, st *Statement) error {
	var names []string
	for _, r := range st.node.GetVacuumStmt().GetRels() {
		rv := r.GetVacuumRelation().GetRelation()
		if rv == nil {
			continue
		}
		if _, ok := s.e.catalog.TableHead(s.db.name, "main", rv.Relname); !ok && !s.isManaged(rv.Relname) {
			return pgerr.New(pgerr.UndefinedTable, "relation %q does not exist", rv.Relname)
		}
		names = append(names, rv.Relname)
	}
	if len(names) == 0 {
		for _, t := range s.e.catalog.TableHeads(s.db.name) {
			if t.Feature != nil {
				names = append(names, t.Name)
			}
		}
	}
	for _, n := range names {
		if err := s.recordStatistics(ctx, n, 0, true); err != nil {
			return err
		}
	}
	return nil
}

type statKind int

const (
	statNumber  statKind = iota // min/max/mean/stddev, equal-width histogram
	statValue                   // min/max, most frequent values
	statOrdered                 // min/max only (dates, times)
	statNested                  // counts only (lists, structs, maps)
)

func statKindOf(duckType string) statKind {
	t := strings.ToUpper(duckType)
	switch {
	case strings.HasSuffix(t, "]") || strings.HasPrefix(t, "STRUCT") || strings.HasPrefix(t, "MAP") || strings.HasPrefix(t, "UNION"):
		return statNested
	case strings.HasPrefix(t, "DECIMAL"):
		return statNumber
	}
	switch t {
	case "TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT", "UHUGEINT", "FLOAT", "DOUBLE":
		return statNumber
	case "VARCHAR", "BOOLEAN", "UUID":
		return statValue
	}
	if strings.HasPrefix(t, "ENUM") {
		return statValue
	}
	return statOrdered
}

// computeStatistics describes the columns of the rows read selects, in
// three scans: aggregates, numeric histograms, most frequent values.
func (s *Session) computeStatistics(ctx context.Context, cols []catalog.Column, read string) ([]catalog.FeatureStats, error) {
	src := "WITH src AS (" + read + ") "
	// Per column: count, distinct, min, max; numbers add mean, stddev and
	// the finite range the histogram spans.
	sel := []string{"count(*)"}
	kinds := make([]statKind, len(cols))
	for i, c := range cols {
		q := quoteIdent(c.Name)
		kinds[i] = statKindOf(c.Type)
		sel = append(sel, "count("+q+")")
		if kinds[i] == statNested {
			continue
		}
		sel = append(sel, "count(DISTINCT "+q+")", "CAST(min("+q+") AS VARCHAR)", "CAST(max("+q+") AS VARCHAR)")
		if kinds[i] == statNumber {
			d, fin := "CAST("+q+" AS DOUBLE)", " FILTER (WHERE isfinite(CAST("+q+" AS DOUBLE)))"
			sel = append(sel, "avg("+d+")"+fin, "stddev_samp("+d+")"+fin, "min("+d+")"+fin, "max("+d+")"+fin, "count(*)"+fin)
		}
	}
	vals := make([]driver.Value, len(sel))
	if err := s.queryRow(ctx, src+"SELECT "+strings.Join(sel, ", ")+" FROM src", nil, vals); err != nil {
		return nil, err
	}
	total, _ := vals[0].(int64)
	out := make([]catalog.FeatureStats, len(cols))
	type span struct {
		lo, hi float64
		n      int64
	}
	spans := map[int]span{}
	at := 1
	next := func() driver.Value { v := vals[at]; at++; return v }
	for i, c := range cols {
		fs := catalog.FeatureStats{Feature: c.Name, Type: c.Type}
		fs.Count, _ = next().(int64)
		fs.Nulls = total - fs.Count
		if kinds[i] != statNested {
			fs.Distinct, _ = next().(int64)
			fs.Min, fs.Max = textOf(next()), textOf(next())
		}
		if kinds[i] == statNumber {
			fs.Mean, fs.Stddev = finite(next()), finite(next())
			lo, hi := finite(next()), finite(next())
			n, _ := next().(int64)
			if lo != nil && hi != nil && n > 0 {
				spans[i] = span{*lo, *hi, n}
			}
		}
		out[i] = fs
	}
	// Histograms of numbers: equal-width bins over the finite values.
	var parts []string
	for i, c := range cols {
		sp, ok := spans[i]
		if !ok {
			continue
		}
		if sp.lo == sp.hi {
			lo, hi := sp.lo, sp.hi
			out[i].Histogram = []catalog.Bin{{Lo: &lo, Hi: &hi, Count: sp.n}}
			continue
		}
		d := "CAST(" + quoteIdent(c.Name) + " AS DOUBLE)"
		lo, width := floatLiteral(sp.lo), floatLiteral((sp.hi-sp.lo)/histogramBins)
		parts = append(parts, fmt.Sprintf("SELECT CAST(%d AS BIGINT) AS col, least(CAST(floor((%s - %s) / %s) AS BIGINT), %d) AS b, count(*) AS n FROM src WHERE isfinite(%s) GROUP BY 2",
			i, d, lo, width, histogramBins-1, d))
	}
	if len(parts) > 0 {
		counts := map[int]map[int64]int64{}
		err := s.eachRow(ctx, src+strings.Join(parts, " UNION ALL "), 3, func(v []driver.Value) {
			col, _ := v[0].(int64)
			b, _ := v[1].(int64)
			n, _ := v[2].(int64)
			if counts[int(col)] == nil {
				counts[int(col)] = map[int64]int64{}
			}
			counts[int(col)][b] = n
		})
		if err != nil {
			return nil, err
		}
		for i, m := range counts {
			sp := spans[i]
			w := (sp.hi - sp.lo) / histogramBins
			for b := int64(0); b < histogramBins; b++ {
				lo, hi := sp.lo+float64(b)*w, sp.lo+float64(b+1)*w
				if b == histogramBins-1 {
					hi = sp.hi
				}
				out[i].Histogram = append(out[i].Histogram, catalog.Bin{Lo: &lo, Hi: &hi, Count: m[b]})
			}
		}
	}
	// Most frequent values of everything else that has values.
	parts = parts[:0]
	for i, c := range cols {
		if kinds[i] != statValue || out[i].Count == 0 {
			continue
		}
		q := quoteIdent(c.Name)
		parts = append(parts, fmt.Sprintf("(SELECT CAST(%d AS BIGINT) AS col, CAST(%s AS VARCHAR) AS v, count(*) AS n FROM src WHERE %s IS NOT NULL GROUP BY 2 ORDER BY 3 DESC, 2 LIMIT %d)",
			i, q, q, histogramBins))
	}
	if len(parts) > 0 {
		err := s.eachRow(ctx, src+"SELECT * FROM ("+strings.Join(parts, " UNION ALL ")+") ORDER BY col, n DESC, v", 3, func(v []driver.Value) {
			col, _ := v[0].(int64)
			n, _ := v[2].(int64)
			out[col].Histogram = append(out[col].Histogram, catalog.Bin{Value: textOf(v[1]), Count: n})
		})
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// eachRow runs a query of the engine's own and hands each row to fn.
func (s *Session) eachRow(ctx context.Context, sql string, width int, fn func([]driver.Value)) error {
	rows, err := s.conn.QueryContext(ctx, sql, nil)
	if err != nil {
		return err
	}
	defer rows.Close()
	v := make([]driver.Value, width)
	for {
		if err := rows.Next(v); err == io.EOF {
			return nil
		} else if err != nil {
			return err
		}
		fn(v)
	}
}

func textOf(v driver.Value) *string {
	switch x := v.(type) {
	case string:
		return &x
	case []byte:
		s := string(x)
		return &s
	}
	return nil
}

// finite returns a double, or nil for NULL, NaN and infinities (which
// JSON cannot carry).
func finite(v driver.Value) *float64 {
	f, ok := v.(float64)
	if !ok || math.IsNaN(f) || math.IsInf(f, 0) {
		return nil
	}
	return &f
}

func floatLiteral(f float64) string {
	return "CAST(" + quoteLiteral(strconv.FormatFloat(f, 'g', -1, 64)) + " AS DOUBLE)"
}

var statisticsColumns = []column{
	{name: "feature_group", t: duckdb.TYPE_VARCHAR}, {name: "snapshot", t: duckdb.TYPE_BIGINT},
	{name: "feature", t: duckdb.TYPE_VARCHAR}, {name: "type", t: duckdb.TYPE_VARCHAR},
	{name: "count", t: duckdb.TYPE_BIGINT}, {name: "nulls", t: duckdb.TYPE_BIGINT}, {name: "distinct_values", t: duckdb.TYPE_BIGINT},
	{name: "min", t: duckdb.TYPE_VARCHAR}, {name: "max", t: duckdb.TYPE_VARCHAR},
	{name: "mean", t: duckdb.TYPE_DOUBLE}, {name: "stddev", t: duckdb.TYPE_DOUBLE},
	{name: "histogram", t: duckdb.TYPE_VARCHAR}, // JSON: [{"lo","hi","count"}] or [{"value","count"}]
	{name: "committed_at", t: duckdb.TYPE_TIMESTAMP_TZ},
}

// statisticsRows lists the statistics of every retained feature group
// version that has them, one row per feature.
func (e *Engine) statisticsRows(project string) []map[string]any {
	var out []map[string]any
	for _, t := range e.catalog.Tables(project) {
		if t.Feature == nil {
			continue
		}
		for _, sn := range t.Snapshots {
			for _, fs := range sn.Stats {
				var hist any
				if len(fs.Histogram) > 0 {
					b, _ := json.Marshal(fs.Histogram)
					hist = string(b)
				}
				out = append(out, map[string]any{"feature_group": t.Name, "snapshot": sn.Version, "feature": fs.Feature,
					"type": fs.Type, "count": fs.Count, "nulls": fs.Nulls, "distinct_values": fs.Distinct,
					"min": nilString(fs.Min), "max": nilString(fs.Max), "mean": nilFloat(fs.Mean), "stddev": nilFloat(fs.Stddev),
					"histogram": hist, "committed_at": time.Unix(0, sn.Time).UTC()})
			}
		}
	}
	return out
}

func nilString(p *string) any {
	if p == nil {
		return nil
	}
	return *p
}

func nilFloat(p *float64) any {
	if p == nil {
		return nil
	}
	return *p
}
