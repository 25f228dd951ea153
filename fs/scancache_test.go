package fs

import (
	"os"
	"path/filepath"
	"testing"
)

func TestScanCache(t *testing.T) {
	dir := t.TempDir()
	blocks := map[string]bool{"a.parquet": true, "b.parquet": true}
	exists := func(id string) bool { return blocks[id] }
	c, err := openScanCache(dir, 100, exists)
	if err != nil {
		t.Fatal(err)
	}
	write := func(n int) func(string) error {
		return func(p string) error { return os.WriteFile(p, make([]byte, n), 0o600) }
	}
	if _, ok := c.Path("a.parquet"); ok {
		t.Fatal("an empty cache has a copy")
	}
	if err := c.Add("a.parquet", write(60)); err != nil {
		t.Fatal(err)
	}
	if p, ok := c.Path("a.parquet"); !ok || filepath.Dir(p) != dir {
		t.Fatalf("copy of a: %q %v", p, ok)
	}
	if !c.Room(40) || c.Room(41) {
		t.Fatal("budget: 60 of 100 bytes used")
	}
	// A failed copy leaves nothing.
	if err := c.Add("b.parquet", func(p string) error { os.WriteFile(p, []byte("torn"), 0o600); return os.ErrClosed }); err == nil || c.Has("b.parquet") {
		t.Fatal("a failed copy was registered")
	}
	// Reopening keeps copies of existing blocks and drops the rest.
	os.WriteFile(filepath.Join(dir, "gone.parquet"), []byte("x"), 0o600)
	os.WriteFile(filepath.Join(dir, "b.parquet.tmp"), []byte("x"), 0o600)
	c, err = openScanCache(dir, 100, exists)
	if err != nil {
		t.Fatal(err)
	}
	if n, bytes, _ := c.Stats(); n != 1 || bytes != 60 || !c.Has("a.parquet") {
		t.Fatalf("after reopening: %d copies, %d bytes", n, bytes)
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 1 {
		t.Fatalf("files left: %v", ents)
	}
	// A copy goes once its block is gone.
	delete(blocks, "a.parquet")
	if n := c.drop(exists); n != 1 || c.Has("a.parquet") {
		t.Fatalf("drop: %d", n)
	}
	if _, err := os.Stat(filepath.Join(dir, "a.parquet")); !os.IsNotExist(err) {
		t.Fatal("the copy's file is still there")
	}
	// Budget 0: disabled, and what was there is removed.
	c.Add("b.parquet", write(10))
	c, _ = openScanCache(dir, 0, exists)
	if c.Room(0) || c.Has("b.parquet") {
		t.Fatal("a cache with no budget keeps copies")
	}
}
