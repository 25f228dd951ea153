package engine

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/duckdb/duckdb-go/v2"
	pg_query "github.com/pganalyze/pg_query_go/v6"

	"github.com/hopsql/hopsql/catalog"
	"github.com/hopsql/hopsql/engine/pgcatalog"
	"github.com/hopsql/hopsql/engine/pgerr"
	"github.com/hopsql/hopsql/fs"
	"github.com/hopsql/hopsql/udf/pgfunc"
)

// hopsfsScheme prefixes paths in hopsql's filesystem where SQL expects a
// file name: read_parquet('hopsfs:///Projects/p/Resources/x.parquet').
const hopsfsScheme = "hopsfs://"

// fileFunctions are DuckDB's table functions whose first argument names
// files; a hopsfs:// argument is replaced by the local files holding it.
var fileFunctions = map[string]bool{
	"read_parquet": true, "parquet_scan": true, "parquet_metadata": true, "parquet_schema": true,
	"parquet_file_metadata": true, "parquet_kv_metadata": true,
	"read_csv": true, "read_csv_auto": true, "sniff_csv": true,
	"read_json": true, "read_json_auto": true, "read_ndjson": true, "read_ndjson_auto": true,
	"read_json_objects": true, "read_text": true, "read_blob": true,
}

// hopsfsExport is a COPY … TO 'hopsfs://…': DuckDB writes a local file,
// which is then imported into the filesystem.
type hopsfsExport struct {
	path  string // in hopsql's filesystem
	local string // where DuckDB writes
}

// resolveHopsfs rewrites hopsfs:// names in file-reading functions and COPY
// to local paths. It reports whether the tree changed.
func (s *Session) resolveHopsfs(ctx context.Context, stmt *pg_query.Node, st *Statement) (bool, error) {
	changed := false
	var err error
	pgcatalog.Walk(stmt, func(n *pg_query.Node) bool {
		if err != nil {
			return false
		}
		switch x := n.Node.(type) {
		case *pg_query.Node_FuncCall:
			fc := x.FuncCall
			if len(fc.Funcname) == 0 || len(fc.Args) == 0 {
				return true
			}
			name := strings.ToLower(fc.Funcname[len(fc.Funcname)-1].GetString_().GetSval())
			if name == "fs_ls" && len(fc.Funcname) == 1 {
				fc.Funcname = []*pg_query.Node{pg_query.MakeStrNode("hopsql_catalog"), pg_query.MakeStrNode("main"), pg_query.MakeStrNode("fs_ls")}
				changed = true
			}
			if !fileFunctions[name] {
				return true
			}
			var c bool
			c, err = s.resolveFileArg(ctx, fc.Args[0])
			changed = changed || c
		case *pg_query.Node_CopyStmt:
			c := x.CopyStmt
			if !strings.HasPrefix(c.Filename, hopsfsScheme) {
				return true
			}
			p := strings.TrimPrefix(c.Filename, hopsfsScheme)
			if c.IsFrom {
				var local string
				local, err = s.hopsfsLocal(ctx, p)
				c.Filename = local
			} else {
				var clean string
				if clean, err = catalog.CleanPath(p); err != nil {
					err = fsError(err)
					return false
				}
				local := filepath.Join(s.e.cfg.DataDir, "tmp", "copy-"+catalog.NewRequestID()+path.Ext(clean))
				st.export = &hopsfsExport{path: clean, local: local}
				c.Filename = local
			}
			changed = true
		}
		return true
	})
	return changed, err
}

// resolveFileArg replaces a string (or a list of strings) naming hopsfs
// files. A name with wildcards expands to the matching files.
func (s *Session) resolveFileArg(ctx context.Context, arg *pg_query.Node) (bool, error) {
	if ac := arg.GetAConst(); ac != nil {
		v := ac.GetSval().GetSval()
		if !strings.HasPrefix(v, hopsfsScheme) {
			return false, nil
		}
		locals, err := s.hopsfsExpand(ctx, strings.TrimPrefix(v, hopsfsScheme))
		if err != nil {
			return false, err
		}
		if len(locals) == 1 {
			arg.Node = pg_query.MakeAConstStrNode(locals[0], -1).Node
			return true, nil
		}
		elems := make([]*pg_query.Node, len(locals))
		for i, l := range locals {
			elems[i] = pg_query.MakeAConstStrNode(l, -1)
		}
		arg.Node = &pg_query.Node_AArrayExpr{AArrayExpr: &pg_query.A_ArrayExpr{Elements: elems, Location: -1}}
		return true, nil
	}
	if ae := arg.GetAArrayExpr(); ae != nil {
		changed := false
		var out []*pg_query.Node
		for _, el := range ae.Elements {
			v := el.GetAConst().GetSval().GetSval()
			if !strings.HasPrefix(v, hopsfsScheme) {
				out = append(out, el)
				continue
			}
			locals, err := s.hopsfsExpand(ctx, strings.TrimPrefix(v, hopsfsScheme))
			if err != nil {
				return false, err
			}
			for _, l := range locals {
				out = append(out, pg_query.MakeAConstStrNode(l, -1))
			}
			changed = true
		}
		ae.Elements = out
		return changed, nil
	}
	return false, nil
}

// hopsfsExpand resolves one path or pattern to local file names.
func (s *Session) hopsfsExpand(ctx context.Context, p string) ([]string, error) {
	if !strings.ContainsAny(p, "*?[") {
		l, err := s.hopsfsLocal(ctx, p)
		if err != nil {
			return nil, err
		}
		return []string{l}, nil
	}
	matches, err := s.e.fs.Glob(ctx, p)
	if err != nil {
		return nil, fsError(err)
	}
	if len(matches) == 0 {
		return nil, pgerr.New(pgerr.UndefinedFile, "no files match %q", hopsfsScheme+p)
	}
	out := make([]string, len(matches))
	for i, m := range matches {
		if out[i], err = s.e.fs.LocalPath(ctx, m.Path); err != nil {
			return nil, fsError(err)
		}
	}
	return out, nil
}

func (s *Session) hopsfsLocal(ctx context.Context, p string) (string, error) {
	l, err := s.e.fs.LocalPath(ctx, p)
	if err != nil {
		return "", fsError(fmt.Errorf("%s%s: %w", hopsfsScheme, p, err))
	}
	return l, nil
}

// finishExport imports what a COPY … TO 'hopsfs://…' wrote.
func (s *Session) finishExport(ctx context.Context, ex *hopsfsExport) error {
	defer os.Remove(ex.local)
	if _, err := s.e.fs.Import(ctx, ex.path, ex.local, fs.CreateOptions{Owner: s.user, Overwrite: true}); err != nil {
		return fsError(err)
	}
	return nil
}

// fsError gives a filesystem error its SQLSTATE.
func fsError(err error) error {
	code := pgerr.InternalError
	switch catalog.CodeOf(err) {
	case catalog.CodeNotFound:
		code = pgerr.UndefinedFile
	case catalog.CodeExists:
		code = pgerr.DuplicateFile
	case catalog.CodeInvalid, catalog.CodeNotDir, catalog.CodeIsDir, catalog.CodeXattrExists, catalog.CodeXattrMissing:
		code = pgerr.InvalidParameterValue
	case catalog.CodeNotEmpty:
		code = pgerr.ObjectNotInPrerequisiteState
	case catalog.CodeQuota:
		code = pgerr.DiskFull
	case catalog.CodePermission:
		code = pgerr.InsufficientPrivilege
	case catalog.CodeNotLeader:
		code = pgerr.ReadOnlySQLTransaction
	}
	return pgerr.New(code, "%s", err.Error())
}

// noCloseConnector hides the connector's Close from database/sql, whose
// DB.Close would otherwise close the DuckDB database.
type noCloseConnector struct{ driver.Connector }

// registerFSFunctions installs the filesystem's SQL functions in a
// database. fs_ls(path) lists a directory (or describes a file). It is a
// table macro over a scalar function with a fixed result type, so that
// DuckDB knows its columns when a statement is prepared with the path as a
// parameter (a table function's columns are only known once bound).
func (e *Engine) registerFSFunctions(ctx context.Context, db *database) error {
	sdb := sql.OpenDB(noCloseConnector{db.connector})
	defer sdb.Close()
	conn, err := sdb.Conn(ctx)
	if err != nil {
		return fmt.Errorf("connect to %q: %w", db.name, err)
	}
	defer conn.Close()
	if err := duckdb.RegisterScalarUDF(conn, "hopsql_fs_list", fsListFunc{fs: e.fs}); err != nil {
		return fmt.Errorf("register hopsql_fs_list: %w", err)
	}
	_, err = conn.ExecContext(ctx, "CREATE OR REPLACE MACRO hopsql_catalog.main.fs_ls(p) AS TABLE "+
		"SELECT unnest(hopsql_fs_list(p), recursive := true)")
	if err != nil {
		return fmt.Errorf("create fs_ls: %w", err)
	}
	if err := createTransformMacros(ctx, conn); err != nil {
		return err
	}
	if err := pgfunc.Register(conn); err != nil {
		return err
	}
	// System tables, in schema hopsql: each a view unnesting a function
	// that lists the rows from the catalog.
	project := db.name
	// Qualified with the database: the default project is itself named hopsql.
	sys := quoteIdent(db.name) + ".hopsql"
	if _, err := conn.ExecContext(ctx, "CREATE SCHEMA IF NOT EXISTS "+sys); err != nil {
		return fmt.Errorf("create schema hopsql: %w", err)
	}
	for _, st := range e.systemTables() {
		fn := "hopsql_" + st.name
		rows := st.rows
		if err := duckdb.RegisterScalarUDF(conn, fn, listFunc{cols: st.cols, rows: func() []map[string]any { return rows(project) }}); err != nil {
			return fmt.Errorf("register %s: %w", fn, err)
		}
		q := "CREATE OR REPLACE VIEW " + sys + "." + st.name + " AS SELECT unnest(" + fn + "(), recursive := true)"
		if _, err := conn.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("%s: %w", q, err)
		}
	}
	return nil
}

// systemTable is one of schema hopsql's tables.
type systemTable struct {
	name string
	cols []column
	rows func(project string) []map[string]any
}

func (e *Engine) systemTables() []systemTable {
	return []systemTable{
		{"table_history", tableHistoryColumns, e.tableHistoryRows},
		{"tables", tablesColumns, e.tablesRows},
		{"feature_groups", featureGroupsColumns, e.featureGroupsRows},
		{"feature_views", featureViewsColumns, e.featureViewsRows},
		{"training_datasets", trainingColumns, e.trainingRows},
		{"feature_group_versions", featureGroupVersionsColumns, e.featureGroupVersionsRows},
		{"online_store", onlineColumns, e.onlineRows},
		{"point_lookups", pointLookupColumns, e.pointLookupRows},
		{"validation_results", validationColumns, e.validationRows},
		{"feature_statistics", statisticsColumns, e.statisticsRows},
		{"transformations", transformationColumns, e.transformationRows},
		{"scan_cache", scanCacheColumns, e.scanCacheRows},
		{"gpus", gpuColumns, e.gpuRows},
		{"experiments", experimentColumns, e.experimentRows},
		{"trials", trialColumns, e.trialRows},
		{"trial_metrics", trialMetricColumns, e.trialMetricRows},
		{"server_counters", serverCounterColumns, e.serverCounterRows},
	}
}

type column struct {
	name string
	t    duckdb.Type
	list bool // a list of t
}

// listFunc is a scalar function without arguments returning a list of
// structs: the rows of a system table that a view unnests. (A table
// function would do, but its columns would only be known once bound.)
type listFunc struct {
	cols []column
	rows func() []map[string]any
}

func structListType(cols []column) duckdb.TypeInfo {
	var entries []duckdb.StructEntry
	for _, c := range cols {
		ti, _ := duckdb.NewTypeInfo(c.t)
		if c.list {
			ti, _ = duckdb.NewListInfo(ti)
		}
		se, _ := duckdb.NewStructEntry(ti, c.name)
		entries = append(entries, se)
	}
	st, _ := duckdb.NewStructInfo(entries[0], entries[1:]...)
	list, _ := duckdb.NewListInfo(st)
	return list
}

func (f listFunc) Config() duckdb.ScalarFuncConfig {
	return duckdb.ScalarFuncConfig{ResultTypeInfo: structListType(f.cols), Volatile: true}
}

func (f listFunc) Executor() duckdb.ScalarFuncExecutor {
	return duckdb.ScalarFuncExecutor{RowExecutor: func([]driver.Value) (any, error) {
		rows := f.rows()
		out := make([]any, len(rows))
		for i, r := range rows {
			// A column a row leaves out is NULL.
			for _, c := range f.cols {
				if _, ok := r[c.name]; !ok {
					r[c.name] = nil
				}
			}
			out[i] = r
		}
		return out, nil
	}}
}

var tableHistoryColumns = []column{
	{name: "table_name", t: duckdb.TYPE_VARCHAR}, {name: "version", t: duckdb.TYPE_BIGINT}, {name: "committed_at", t: duckdb.TYPE_TIMESTAMP_TZ},
	{name: "committed_by", t: duckdb.TYPE_VARCHAR}, {name: "operation", t: duckdb.TYPE_VARCHAR}, {name: "files_added", t: duckdb.TYPE_BIGINT},
	{name: "files_removed", t: duckdb.TYPE_BIGINT}, {name: "rows_added", t: duckdb.TYPE_BIGINT}, {name: "rows_removed", t: duckdb.TYPE_BIGINT},
	{name: "total_rows", t: duckdb.TYPE_BIGINT},
}

func (e *Engine) tableHistoryRows(project string) []map[string]any {
	var out []map[string]any
	for _, t := range e.catalog.Tables(project) {
		for _, sn := range t.Snapshots {
			var added, removed int64
			for _, f := range sn.Added {
				added += f.Rows
			}
			for _, f := range sn.Removed {
				removed += f.Rows
			}
			out = append(out, map[string]any{"table_name": t.Name, "version": sn.Version,
				"committed_at": time.Unix(0, sn.Time).UTC(), "committed_by": sn.User, "operation": sn.Op,
				"files_added": int64(len(sn.Added)), "files_removed": int64(len(sn.Removed)),
				"rows_added": added, "rows_removed": removed, "total_rows": sn.Rows})
		}
	}
	return out
}

var tablesColumns = []column{
	{name: "table_name", t: duckdb.TYPE_VARCHAR}, {name: "table_oid", t: duckdb.TYPE_BIGINT}, {name: "version", t: duckdb.TYPE_BIGINT},
	{name: "rows", t: duckdb.TYPE_BIGINT}, {name: "files", t: duckdb.TYPE_BIGINT}, {name: "bytes", t: duckdb.TYPE_BIGINT},
	{name: "created_at", t: duckdb.TYPE_TIMESTAMP_TZ}, {name: "path", t: duckdb.TYPE_VARCHAR},
}

func (e *Engine) tablesRows(project string) []map[string]any {
	var out []map[string]any
	for _, t := range e.catalog.Tables(project) {
		var bytes int64
		for _, f := range t.Files {
			bytes += f.Bytes
		}
		out = append(out, map[string]any{"table_name": t.Name, "table_oid": int64(t.ID), "version": t.Version,
			"rows": t.Rows, "files": int64(len(t.Files)), "bytes": bytes,
			"created_at": time.Unix(0, t.Created).UTC(), "path": t.DirPath})
	}
	return out
}

// fsListFunc is hopsql_fs_list(path): a directory's entries as a list of structs.
type fsListFunc struct{ fs *fs.FS }

var fsListColumns = []column{
	{name: "path", t: duckdb.TYPE_VARCHAR}, {name: "name", t: duckdb.TYPE_VARCHAR}, {name: "type", t: duckdb.TYPE_VARCHAR},
	{name: "size", t: duckdb.TYPE_BIGINT}, {name: "owner", t: duckdb.TYPE_VARCHAR}, {name: "permission", t: duckdb.TYPE_VARCHAR},
	{name: "modified", t: duckdb.TYPE_TIMESTAMP_TZ}, {name: "project", t: duckdb.TYPE_VARCHAR},
	{name: "stored", t: duckdb.TYPE_VARCHAR}, // where a file's bytes are: inline (in the catalog) or block
}

func (fsListFunc) Config() duckdb.ScalarFuncConfig {
	varchar, _ := duckdb.NewTypeInfo(duckdb.TYPE_VARCHAR)
	return duckdb.ScalarFuncConfig{InputTypeInfos: []duckdb.TypeInfo{varchar}, ResultTypeInfo: structListType(fsListColumns), Volatile: true}
}

func (f fsListFunc) Executor() duckdb.ScalarFuncExecutor {
	// Listing reads the local replica's memory and never blocks, so it needs
	// no context (duckdb-go hands a prepared statement's context to later
	// executions, by which time it may be cancelled).
	return duckdb.ScalarFuncExecutor{RowExecutor: func(args []driver.Value) (any, error) {
		p, _ := args[0].(string)
		list, err := f.fs.List(context.Background(), strings.TrimPrefix(p, hopsfsScheme))
		if err != nil {
			return nil, pgerr.Tagged(fsError(err).(*pgerr.Error).Code, err)
		}
		out := make([]any, len(list))
		for i, fi := range list {
			typ, stored := "FILE", any("inline")
			switch {
			case fi.Dir:
				typ, stored = "DIRECTORY", nil
			case fi.Block != nil:
				stored = "block"
			}
			out[i] = map[string]any{"path": fi.Path, "name": fi.Name, "type": typ, "size": fi.Size,
				"owner": fi.Owner, "permission": fmt.Sprintf("%04o", fi.Mode),
				"modified": time.Unix(0, fi.Mtime).UTC(), "project": fi.Project, "stored": stored}
		}
		return out, nil
	}}
}

var featureGroupsColumns = []column{
	{name: "name", t: duckdb.TYPE_VARCHAR}, {name: "version", t: duckdb.TYPE_BIGINT},
	{name: "primary_key", t: duckdb.TYPE_VARCHAR, list: true}, {name: "event_time", t: duckdb.TYPE_VARCHAR},
	{name: "online", t: duckdb.TYPE_BOOLEAN}, {name: "description", t: duckdb.TYPE_VARCHAR},
	{name: "features", t: duckdb.TYPE_VARCHAR, list: true}, {name: "rows", t: duckdb.TYPE_BIGINT},
	{name: "snapshot", t: duckdb.TYPE_BIGINT}, {name: "created_at", t: duckdb.TYPE_TIMESTAMP_TZ},
	{name: "expectations", t: duckdb.TYPE_VARCHAR, list: true},
}

func (e *Engine) featureGroupsRows(project string) []map[string]any {
	var out []map[string]any
	for _, t := range e.catalog.Tables(project) {
		f := t.Feature
		if f == nil {
			continue
		}
		keys := make([]any, len(f.Keys))
		for i, k := range f.Keys {
			keys[i] = k
		}
		var feats []any
		for _, c := range t.Columns {
			feats = append(feats, c.Name)
		}
		var et, desc any
		if f.EventTime != "" {
			et = f.EventTime
		}
		if f.Description != "" {
			desc = f.Description
		}
		out = append(out, map[string]any{"name": t.Name, "version": int64(f.Version), "primary_key": keys,
			"event_time": et, "online": f.Online, "description": desc, "features": feats, "rows": t.Rows,
			"snapshot": t.Version, "created_at": time.Unix(0, t.Created).UTC(), "expectations": expectationTexts(f.Expectations)})
	}
	return out
}

var featureViewsColumns = []column{
	{name: "name", t: duckdb.TYPE_VARCHAR}, {name: "label", t: duckdb.TYPE_VARCHAR}, {name: "event_time", t: duckdb.TYPE_VARCHAR},
	{name: "point_in_time", t: duckdb.TYPE_BOOLEAN}, {name: "feature_groups", t: duckdb.TYPE_VARCHAR, list: true},
	{name: "query", t: duckdb.TYPE_VARCHAR}, {name: "created_at", t: duckdb.TYPE_TIMESTAMP_TZ},
	{name: "ttl", t: duckdb.TYPE_VARCHAR},
}

// featureViewsRows lists feature views; feature_groups names each feature
// group read as name@snapshot (the table version current at creation),
// with " as of" when joined as of the label's event time.
func (e *Engine) featureViewsRows(project string) []map[string]any {
	var out []map[string]any
	for _, v := range e.catalog.FeatureViews(project) {
		var reads []any
		for _, r := range v.Reads {
			x := fmt.Sprintf("%s@%d", r.Name, r.Snapshot)
			if r.AsOf {
				x += " as of"
			}
			reads = append(reads, x)
		}
		var et any
		if v.EventTime != "" {
			et = v.EventTime
		}
		var ttl any
		if v.TTL != "" {
			ttl = v.TTL
		}
		out = append(out, map[string]any{"name": v.Name, "label": v.Label, "event_time": et, "point_in_time": v.PointInTime,
			"feature_groups": reads, "query": v.Query, "created_at": time.Unix(0, v.Created).UTC(), "ttl": ttl})
	}
	return out
}

var trainingColumns = []column{
	{name: "name", t: duckdb.TYPE_VARCHAR}, {name: "version", t: duckdb.TYPE_BIGINT}, {name: "feature_view", t: duckdb.TYPE_VARCHAR},
	{name: "split", t: duckdb.TYPE_VARCHAR}, {name: "seed", t: duckdb.TYPE_BIGINT}, {name: "splits", t: duckdb.TYPE_VARCHAR, list: true},
	{name: "rows", t: duckdb.TYPE_BIGINT}, {name: "feature_groups", t: duckdb.TYPE_VARCHAR, list: true},
	{name: "as_of", t: duckdb.TYPE_TIMESTAMP_TZ}, {name: "path", t: duckdb.TYPE_VARCHAR}, {name: "created_at", t: duckdb.TYPE_TIMESTAMP_TZ},
}

// trainingRows lists training dataset versions: splits as name:rows, the
// feature groups read as name@snapshot.
func (e *Engine) trainingRows(project string) []map[string]any {
	var out []map[string]any
	for _, td := range e.catalog.TrainingDatasets(project) {
		var splits, reads []any
		var rows int64
		for _, f := range td.Files {
			splits = append(splits, fmt.Sprintf("%s:%d", f.Split, f.Rows))
			rows += f.Rows
		}
		for _, r := range td.Reads {
			reads = append(reads, fmt.Sprintf("%s@%d", r.Name, r.Snapshot))
		}
		var split any
		if td.Split != "" {
			split = td.Split
		}
		out = append(out, map[string]any{"name": td.Name, "version": int64(td.Version), "feature_view": td.FeatureView,
			"split": split, "seed": td.Seed, "splits": splits, "rows": rows, "feature_groups": reads,
			"as_of": time.Unix(0, td.AsOf).UTC(), "path": fmt.Sprintf("/Projects/%s/TrainingDatasets/%s_%d", project, td.Name, td.Version),
			"created_at": time.Unix(0, td.Created).UTC()})
	}
	return out
}

var featureGroupVersionsColumns = []column{
	{name: "name", t: duckdb.TYPE_VARCHAR}, {name: "version", t: duckdb.TYPE_BIGINT},
	{name: "first_snapshot", t: duckdb.TYPE_BIGINT}, {name: "features", t: duckdb.TYPE_VARCHAR, list: true},
}

func (e *Engine) featureGroupVersionsRows(project string) []map[string]any {
	var out []map[string]any
	for _, t := range e.catalog.Tables(project) {
		if t.Feature == nil {
			continue
		}
		for _, v := range t.Feature.Versions {
			var feats []any
			for _, c := range v.Columns {
				feats = append(feats, c.Name)
			}
			out = append(out, map[string]any{"name": t.Name, "version": int64(v.Version), "first_snapshot": v.From, "features": feats})
		}
	}
	return out
}

var onlineColumns = []column{
	{name: "name", t: duckdb.TYPE_VARCHAR}, {name: "keys", t: duckdb.TYPE_BIGINT}, {name: "snapshot", t: duckdb.TYPE_BIGINT},
	{name: "loaded", t: duckdb.TYPE_BOOLEAN}, {name: "lookups", t: duckdb.TYPE_BIGINT}, {name: "builds", t: duckdb.TYPE_BIGINT},
}
