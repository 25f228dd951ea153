package storage

import (
	"context"
	"database/sql/driver"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/duckdb/duckdb-go/v2"

	"github.com/hopsql/hopsql/catalog"
	"github.com/hopsql/hopsql/fs"
)

// TestCompactAndExpire: three small files become one with the same rows,
// as a new version; expiry then deletes the replaced files' inodes while the
// current version stays readable.
func TestCompactAndExpire(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	node, err := catalog.Open(ctx, catalog.Config{Dir: filepath.Join(dir, "catalog"), Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	defer node.Close()
	fsys, err := fs.Open(node, dir, log)
	if err != nil {
		t.Fatal(err)
	}
	connector, err := duckdb.NewConnector("", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer connector.Close()
	dc, err := connector.Connect(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer dc.Close()
	conn := dc.(*duckdb.Conn)

	if _, err := node.Propose(ctx, catalog.CmdCreateProject, catalog.CreateProject{Name: "p", Owner: "u"}); err != nil {
		t.Fatal(err)
	}
	cols := []catalog.Column{{Name: "id", Type: "BIGINT"}}
	if _, err := node.Propose(ctx, catalog.CmdCommit, catalog.Commit{Project: "p", User: "u",
		Puts: []catalog.PutTable{{Schema: "main", Name: "t", SQL: "CREATE TABLE t(id BIGINT);", Columns: cols}}}); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		local := filepath.Join(fsys.TempDir(), fmt.Sprintf("f%d.parquet", i))
		q := fmt.Sprintf("COPY (SELECT i AS id FROM range(%d, %d) r(i)) TO '%s' (FORMAT parquet)", i*10, i*10+10, local)
		if _, err := conn.ExecContext(ctx, q, nil); err != nil {
			t.Fatal(err)
		}
		b, err := fsys.AdoptBlock(ctx, local, ".parquet")
		if err != nil {
			t.Fatal(err)
		}
		c := catalog.Commit{Project: "p", User: "u", Data: []catalog.TableData{{Schema: "main", Name: "t", Op: "INSERT", Expect: -1,
			Add: []catalog.NewFile{{Name: fmt.Sprintf("%d.parquet", i), Block: *b, Rows: 10}}}}}
		if _, err := node.Propose(ctx, catalog.CmdCommit, c); err != nil {
			t.Fatal(err)
		}
	}
	sum := func(version int64) (int64, int) {
		t.Helper()
		_, files, err := node.TableFiles("p", "main", "t", version, 0)
		if err != nil {
			t.Fatal(err)
		}
		var paths []string
		for _, f := range files {
			paths = append(paths, "'"+fsys.BlockPath(f.Block.ID)+"'")
		}
		rows, err := conn.QueryContext(ctx, fmt.Sprintf("SELECT sum(id)::BIGINT FROM read_parquet(%v)", listLiteral(paths)), nil)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		v := make([]driver.Value, 1)
		if err := rows.Next(v); err != nil {
			t.Fatal(err)
		}
		n, _ := v[0].(int64)
		return n, len(files)
	}
	before, nfiles := sum(3)
	if nfiles != 3 {
		t.Fatalf("%d files before compaction", nfiles)
	}
	m := &Maintainer{Node: node, FS: fsys, Project: "p", Conn: conn, Log: log}
	done, err := m.Compact(ctx, "main", "t", 2)
	if err != nil || !done {
		t.Fatalf("compact: %v, %v", done, err)
	}
	after, nfiles := sum(4)
	if nfiles != 1 || after != before {
		t.Fatalf("after compaction: %d files, sum %d (was %d)", nfiles, after, before)
	}
	ti, _ := node.Table("p", "main", "t")
	if ti.Snapshots[len(ti.Snapshots)-1].Op != "COMPACT" || ti.Rows != 30 {
		t.Fatalf("last version %+v, rows %d", ti.Snapshots[len(ti.Snapshots)-1], ti.Rows)
	}
	// Nothing to merge now.
	if done, err := m.Compact(ctx, "main", "t", 2); err != nil || done {
		t.Fatalf("second compaction: %v, %v", done, err)
	}
	m.Retention = 0
	if err := m.Expire(ctx, "main", "t", time.Now().Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	list, err := node.List(ti.DirPath)
	if err != nil || len(list) != 1 {
		t.Fatalf("after expiry the table directory holds %d files (%v), want 1", len(list), err)
	}
	if got, _ := sum(0); got != before {
		t.Fatalf("current version after expiry: sum %d, want %d", got, before)
	}
}

func listLiteral(items []string) string {
	out := "["
	for i, s := range items {
		if i > 0 {
			out += ", "
		}
		out += s
	}
	return out + "]"
}
