package catalog

import (
	"bytes"
	"context"
	"testing"
)

// Small table files travel inline in the commit entry, later move to
// blocks (spill) once only history uses them, and readers can follow a
// table's versions incrementally.
func TestInlineTableFilesSpillAndChanges(t *testing.T) {
	n := openNode(t, t.TempDir(), Config{})
	defer n.Close()
	ctx := context.Background()
	propose(t, n, CmdCreateProject, CreateProject{Name: "p", Owner: "u"})
	cols := []Column{{Name: "id", Type: "BIGINT"}}
	propose(t, n, CmdCommit, Commit{Project: "p", User: "u", Puts: []PutTable{{Schema: "main", Name: "t", SQL: "CREATE TABLE t(id BIGINT);", Columns: cols}}})
	add := func(name string, data []byte) {
		propose(t, n, CmdCommit, Commit{Project: "p", User: "u", Data: []TableData{{Schema: "main", Name: "t", Op: "INSERT", Expect: -1,
			Add: []NewFile{{Name: name, Rows: 1, Inline: data}}}}})
	}
	add("a.json", []byte(`{"id":"1"}`+"\n"))
	add("b.json", []byte(`{"id":"2"}`+"\n"))

	// Too large, or both inline and in a block: refused, nothing changes.
	for _, f := range []NewFile{
		{Name: "big.json", Rows: 1, Inline: make([]byte, InlineMax+1)},
		{Name: "both.json", Rows: 1, Inline: []byte("x"), Block: Block{ID: "b1", Size: 1}},
	} {
		_, err := n.Propose(ctx, CmdCommit, Commit{Project: "p", User: "u", Data: []TableData{{Schema: "main", Name: "t", Op: "INSERT", Expect: -1, Add: []NewFile{f}}}})
		if CodeOf(err) != CodeInvalid {
			t.Fatalf("%s: %v, want %s", f.Name, err, CodeInvalid)
		}
	}
	v, files, err := n.TableFiles("p", "main", "t", 0, 0)
	if err != nil || v != 2 || len(files) != 2 {
		t.Fatalf("files: v%d %v %v", v, files, err)
	}
	for _, f := range files {
		if !f.IsInline() || f.Path == "" || f.Bytes != 11 {
			t.Fatalf("file %+v: want inline, 11 bytes, with a path", f)
		}
	}
	if _, data, err := n.ReadInline(files[0].Path); err != nil || !bytes.Equal(data, []byte(`{"id":"1"}`+"\n")) {
		t.Fatalf("read %s: %q %v", files[0].Path, data, err)
	}
	if got := n.StaleInline(10); len(got) != 0 {
		t.Fatalf("current files are not stale: %+v", got)
	}
	// A compaction replaces both: they become history, worth spilling.
	propose(t, n, CmdCommit, Commit{Project: "p", User: "u", Data: []TableData{{Schema: "main", Name: "t", Op: "COMPACT", Expect: -1,
		Remove: []string{"a.json", "b.json"}, Add: []NewFile{{Name: "c.parquet", Rows: 2, Block: Block{ID: "blk-c", Size: 500}}}}}})
	stale := n.StaleInline(10)
	if len(stale) != 2 || stale[0].Path != files[0].Path || string(stale[1].Data) != `{"id":"2"}`+"\n" {
		t.Fatalf("stale: %+v", stale)
	}
	if _, err := n.Propose(ctx, CmdSpill, Spill{Files: []SpillFile{{Inode: stale[0].Inode, Block: Block{ID: "blk-a", Size: 3}}}}); CodeOf(err) != CodeInvalid {
		t.Fatalf("spill with the wrong size: %v", err)
	}
	propose(t, n, CmdSpill, Spill{Files: []SpillFile{
		{Inode: stale[0].Inode, Block: Block{ID: "blk-a", Size: 11}},
		{Inode: stale[1].Inode, Block: Block{ID: "blk-b", Size: 11}},
		{Inode: 999999, Block: Block{ID: "blk-gone", Size: 11}}, // expired meanwhile: skipped
	}})
	if got := n.StaleInline(10); len(got) != 0 {
		t.Fatalf("after spill: %+v", got)
	}
	_, old, err := n.TableFiles("p", "main", "t", 2, 0)
	if err != nil || len(old) != 2 || old[0].Block.ID != "blk-a" || old[1].Block.ID != "blk-b" {
		t.Fatalf("version 2 after spill: %+v %v", old, err)
	}
	if ids := n.BlockIDs(); !ids["blk-a"] || !ids["blk-b"] || ids["blk-gone"] {
		t.Fatalf("block ids: %v", ids)
	}

	// Changes since a version: deltas in order; an unknown version is not ok.
	id, head, ch, ok := n.TableChanges("p", "main", "t", 1)
	if !ok || head != 3 || id == 0 || len(ch) != 2 || ch[0].Added[0].Name != "b.json" || ch[1].Op != "COMPACT" || len(ch[1].Removed) != 2 {
		t.Fatalf("changes since 1: ok=%v head=%d %+v", ok, head, ch)
	}
	if _, _, ch, ok := n.TableChanges("p", "main", "t", 0); !ok || len(ch) != 3 {
		t.Fatalf("changes since 0: ok=%v %+v", ok, ch)
	}
	if _, _, ch, ok := n.TableChanges("p", "main", "t", 3); !ok || len(ch) != 0 {
		t.Fatalf("changes since head: ok=%v %+v", ok, ch)
	}
	if _, _, _, ok := n.TableChanges("p", "main", "t", 7); ok {
		t.Fatal("changes since a future version")
	}
	if _, _, _, ok := n.TableChanges("p", "main", "nope", 0); ok {
		t.Fatal("changes of a missing table")
	}
}
