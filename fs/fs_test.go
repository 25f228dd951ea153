package fs

import (
	"bytes"
	"context"
	"crypto/rand"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hopsql/hopsql/catalog"
)

func openFS(t *testing.T) (*FS, string) {
	t.Helper()
	dir := t.TempDir()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	node, err := catalog.Open(context.Background(), catalog.Config{Dir: filepath.Join(dir, "catalog"), Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { node.Close() })
	if _, err := node.Propose(context.Background(), catalog.CmdCreateProject, catalog.CreateProject{Name: "p", Owner: "alice"}); err != nil {
		t.Fatal(err)
	}
	f, err := Open(node, dir, log)
	if err != nil {
		t.Fatal(err)
	}
	return f, dir
}

func blockFiles(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	filepath.WalkDir(filepath.Join(dir, "blocks"), func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			out = append(out, filepath.Base(p))
		}
		return nil
	})
	return out
}

func TestCreateInlineAndBlock(t *testing.T) {
	f, dir := openFS(t)
	ctx := context.Background()
	big := make([]byte, catalog.InlineMax+1)
	rand.Read(big)
	for _, tc := range []struct {
		name  string
		data  []byte
		block bool
	}{
		{"empty", nil, false},
		{"small.txt", []byte("hello"), false},
		{"exactly-inline.bin", big[:catalog.InlineMax], false},
		{"big.parquet", big, true},
	} {
		p := "/Projects/p/Resources/" + tc.name
		fi, err := f.WriteFile(ctx, p, tc.data, CreateOptions{Owner: "alice"})
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if fi.Size != int64(len(tc.data)) || (fi.Block != nil) != tc.block || fi.Owner != "alice" || fi.Project != "p" {
			t.Fatalf("%s: %+v", tc.name, fi)
		}
		got, err := f.ReadFile(ctx, p)
		if err != nil || !bytes.Equal(got, tc.data) {
			t.Fatalf("%s: read back %d bytes, %v", tc.name, len(got), err)
		}
		local, err := f.LocalPath(ctx, p)
		if err != nil {
			t.Fatal(err)
		}
		onDisk, err := os.ReadFile(local)
		if err != nil || !bytes.Equal(onDisk, tc.data) {
			t.Fatalf("%s: local copy %s differs: %v", tc.name, local, err)
		}
		if filepath.Ext(local) != filepath.Ext(tc.name) {
			t.Fatalf("%s: local path %s lost the extension", tc.name, local)
		}
	}
	if got := blockFiles(t, dir); len(got) != 1 || !strings.HasSuffix(got[0], ".parquet") {
		t.Fatalf("block files: %v, want one .parquet", got)
	}
	// A refused create removes the block it wrote.
	if _, err := f.WriteFile(ctx, "/Projects/p/Resources/big.parquet", big, CreateOptions{}); catalog.CodeOf(err) != catalog.CodeExists {
		t.Fatalf("create over an existing file: %v", err)
	}
	if got := blockFiles(t, dir); len(got) != 1 {
		t.Fatalf("a refused create left a block behind: %v", got)
	}
}

func TestGarbageCollection(t *testing.T) {
	f, dir := openFS(t)
	ctx := context.Background()
	big := bytes.Repeat([]byte("x"), catalog.InlineMax*2)
	for _, name := range []string{"a.bin", "b.bin"} {
		if _, err := f.WriteFile(ctx, "/Projects/p/Logs/"+name, big, CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	// An orphan: a block written by a write that crashed before its commit.
	orphan, err := f.writeBlock(ctx, bytes.NewReader(big), ".bin")
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Delete(ctx, "/Projects/p/Logs/a.bin", false); err != nil {
		t.Fatal(err)
	}
	if n := len(blockFiles(t, dir)); n != 3 {
		t.Fatalf("%d block files before collection, want 3", n)
	}
	// Young garbage is left alone: it may belong to a write in flight.
	if n, err := f.CollectGarbage(ctx, time.Hour); err != nil || n != 0 {
		t.Fatalf("collected %d young files: %v", n, err)
	}
	n, err := f.CollectGarbage(ctx, 0)
	if err != nil || n != 2 {
		t.Fatalf("collected %d files, want 2 (deleted file's block and the orphan): %v", n, err)
	}
	if _, err := os.Stat(f.blockPath(orphan.ID)); !os.IsNotExist(err) {
		t.Fatalf("orphan block survived: %v", err)
	}
	got, err := f.ReadFile(ctx, "/Projects/p/Logs/b.bin")
	if err != nil || !bytes.Equal(got, big) {
		t.Fatalf("live file damaged by collection: %v", err)
	}
}

func TestRenameGlobAndQuota(t *testing.T) {
	f, _ := openFS(t)
	ctx := context.Background()
	for _, p := range []string{"/Projects/p/Warehouse/t/1.parquet", "/Projects/p/Warehouse/t/2.parquet", "/Projects/p/Warehouse/t/x.csv", "/Projects/p/Warehouse/u/3.parquet"} {
		if _, err := f.WriteFile(ctx, p, []byte(p), CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct{ pattern, want string }{
		{"/Projects/p/Warehouse/t/*.parquet", "1.parquet,2.parquet"},
		{"/Projects/p/Warehouse/*/*.parquet", "1.parquet,2.parquet,3.parquet"},
		{"/Projects/p/Warehouse/t/?.csv", "x.csv"},
		{"/Projects/p/Warehouse/none/*", ""},
	} {
		got, err := f.Glob(ctx, tc.pattern)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, fi := range got {
			names = append(names, fi.Name)
		}
		if strings.Join(names, ",") != tc.want {
			t.Errorf("Glob(%s) = %v, want %s", tc.pattern, names, tc.want)
		}
	}
	// Rename into an existing directory moves the source inside it (mv).
	if err := f.Rename(ctx, "/Projects/p/Warehouse/u", "/Projects/p/Warehouse/t"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Stat(ctx, "/Projects/p/Warehouse/t/u/3.parquet"); err != nil {
		t.Fatalf("rename into a directory: %v", err)
	}
	if err := f.SetQuota(ctx, "p", 0, 13); err != nil {
		t.Fatal(err)
	}
	// p, 6 dirs, t, 3 files, u, 1 file = 13 inodes: the next one is refused.
	if _, err := f.WriteFile(ctx, "/Projects/p/Logs/one-more", nil, CreateOptions{}); catalog.CodeOf(err) != catalog.CodeQuota {
		t.Fatalf("inode quota: %v", err)
	}
	if err := f.Delete(ctx, "/Projects/p/Warehouse/t/x.csv", false); err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteFile(ctx, "/Projects/p/Logs/one-more", nil, CreateOptions{}); err != nil {
		t.Fatalf("after freeing an inode: %v", err)
	}
}
