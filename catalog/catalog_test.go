package catalog

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/hashicorp/raft"
)

func openNode(t *testing.T, dir string, cfg Config) *Node {
	t.Helper()
	cfg.Dir = dir
	cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	n, err := Open(context.Background(), cfg)
	if err != nil {
		t.Fatalf("open catalog: %v", err)
	}
	return n
}

func propose(t *testing.T, n *Node, ct CmdType, p any) uint64 {
	t.Helper()
	id, err := n.Propose(context.Background(), ct, p)
	if err != nil {
		t.Fatalf("%s %+v: %v", ct, p, err)
	}
	return id
}

func TestSplitPath(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want string // joined components, or "!code"
	}{
		{"/", ""},
		{"/a/b", "a|b"},
		{"/a/b/", "a|b"},
		{"", "!invalid"},
		{"a/b", "!invalid"},
		{"/a//b", "!invalid"},
		{"/a/../b", "!invalid"},
		{"/a/./b", "!invalid"},
		{"/a\x00b", "!invalid"},
		{"/\xff", "!invalid"},
		{"/" + strings.Repeat("x", 256), "!invalid"},
		{"/" + strings.Repeat("x", 255), strings.Repeat("x", 255)},
		{strings.Repeat("/abcdefg", 600), "!invalid"},
	} {
		parts, err := SplitPath(tc.in)
		got := strings.Join(parts, "|")
		if err != nil {
			got = "!" + string(CodeOf(err))
		}
		if got != tc.want {
			t.Errorf("SplitPath(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// TestStateApply drives the state machine directly with a sequence of
// entries and checks each outcome.
func TestStateApply(t *testing.T) {
	s := newState()
	next := FirstUserID
	ids := func(k int) []uint64 {
		var out []uint64
		for i := 0; i < k; i++ {
			out = append(out, next)
			next++
		}
		return out
	}
	ts := int64(1000)
	do := func(ct CmdType, p any) (uint64, error) {
		b, _ := json.Marshal(p)
		ts++
		return s.apply(&envelope{Type: ct, Version: 1, Time: ts, IDs: ids(idsNeeded(ct, p)), Payload: b})
	}
	steps := []struct {
		name string
		ct   CmdType
		p    any
		code Code // "" = success
	}{
		{"create project", CmdCreateProject, CreateProject{Name: "fraud", Owner: "hopsql"}, ""},
		{"project twice", CmdCreateProject, CreateProject{Name: "fraud"}, CodeExists},
		{"project if absent", CmdCreateProject, CreateProject{Name: "fraud", IfAbsent: true}, ""},
		{"mkdir under Projects refused", CmdMkdirs, Mkdirs{Path: "/Projects/other/x"}, CodePermission},
		{"mkdirs", CmdMkdirs, Mkdirs{Path: "/Projects/fraud/Resources/a/b"}, ""},
		{"mkdirs existing", CmdMkdirs, Mkdirs{Path: "/Projects/fraud/Resources/a"}, ""},
		{"inline file", CmdCreateFile, CreateFile{Path: "/Projects/fraud/Resources/a/f.txt", Inline: []byte("hello")}, ""},
		{"file exists", CmdCreateFile, CreateFile{Path: "/Projects/fraud/Resources/a/f.txt", Inline: []byte("x")}, CodeExists},
		{"overwrite", CmdCreateFile, CreateFile{Path: "/Projects/fraud/Resources/a/f.txt", Inline: []byte("hello!"), Overwrite: true}, ""},
		{"file over dir", CmdCreateFile, CreateFile{Path: "/Projects/fraud/Resources/a", Inline: []byte("x"), Overwrite: true}, CodeIsDir},
		{"mkdir through file", CmdMkdirs, Mkdirs{Path: "/Projects/fraud/Resources/a/f.txt/x"}, CodeNotDir},
		{"too big inline", CmdCreateFile, CreateFile{Path: "/Projects/fraud/Logs/big", Inline: make([]byte, InlineMax+1)}, CodeInvalid},
		{"block file with parents", CmdCreateFile, CreateFile{Path: "/Projects/fraud/Logs/x/y/big.bin", Block: &Block{ID: "b1", Size: 1 << 20}}, ""},
		{"rename dir", CmdRename, Rename{Src: "/Projects/fraud/Resources/a", Dst: "/Projects/fraud/Models/a2"}, ""},
		{"rename missing", CmdRename, Rename{Src: "/Projects/fraud/Resources/a", Dst: "/Projects/fraud/Models/a3"}, CodeNotFound},
		{"rename into itself", CmdRename, Rename{Src: "/Projects/fraud/Models", Dst: "/Projects/fraud/Models/a2/m"}, CodeInvalid},
		{"rename onto existing", CmdRename, Rename{Src: "/Projects/fraud/Models/a2", Dst: "/Projects/fraud/Logs"}, CodeExists},
		{"rename project dir", CmdRename, Rename{Src: "/Projects/fraud", Dst: "/fraud2"}, CodePermission},
		{"delete non-empty", CmdDelete, Delete{Path: "/Projects/fraud/Models/a2"}, CodeNotEmpty},
		{"delete recursive", CmdDelete, Delete{Path: "/Projects/fraud/Models/a2", Recursive: true}, ""},
		{"delete project dir", CmdDelete, Delete{Path: "/Projects/fraud", Recursive: true}, CodePermission},
		{"delete root", CmdDelete, Delete{Path: "/", Recursive: true}, CodePermission},
		{"xattr bad name", CmdSetXattr, SetXattr{Path: "/Projects/fraud", Name: "color", Value: []byte("x")}, CodeInvalid},
		{"xattr", CmdSetXattr, SetXattr{Path: "/Projects/fraud", Name: "user.color", Value: []byte("blue")}, ""},
		{"xattr create exists", CmdSetXattr, SetXattr{Path: "/Projects/fraud", Name: "user.color", Value: []byte("red"), Flag: XattrCreate}, CodeXattrExists},
		{"xattr replace missing", CmdSetXattr, SetXattr{Path: "/Projects/fraud", Name: "user.size", Value: []byte("1"), Flag: XattrReplace}, CodeXattrMissing},
		{"xattr remove", CmdRemoveXattr, RemoveXattr{Path: "/Projects/fraud", Name: "user.color"}, ""},
		{"xattr remove missing", CmdRemoveXattr, RemoveXattr{Path: "/Projects/fraud", Name: "user.color"}, CodeXattrMissing},
		{"quota", CmdSetQuota, SetQuota{Project: "fraud", Bytes: 2 << 20, Inodes: 15}, ""},
		{"over byte quota", CmdCreateFile, CreateFile{Path: "/Projects/fraud/Logs/big2", Block: &Block{ID: "b2", Size: 2 << 20}}, CodeQuota},
		{"over inode quota", CmdMkdirs, Mkdirs{Path: "/Projects/fraud/Logs/1/2/3/4/5/6/7/8/9/10"}, CodeQuota},
		{"within quota", CmdMkdirs, Mkdirs{Path: "/Projects/fraud/Logs/1/2"}, ""},
		{"rename out of project", CmdRename, Rename{Src: "/Projects/fraud/Logs/x", Dst: "/tmpx"}, ""},
		{"user", CmdPutUser, PutUser{Name: "alice", SCRAM: "v1"}, ""},
		{"user if absent keeps password", CmdPutUser, PutUser{Name: "alice", SCRAM: "v2", IfAbsent: true}, ""},
		{"drop project", CmdDropProject, DropProject{Name: "fraud"}, ""},
	}
	for _, st := range steps {
		_, err := do(st.ct, st.p)
		if got := CodeOf(err); got != st.code || (err != nil && st.code == "" && got == "") {
			t.Fatalf("%s: err = %v (code %q), want code %q", st.name, err, got, st.code)
		}
		if st.name == "over inode quota" {
			// A refused entry changed nothing.
			if _, err := s.resolve("/Projects/fraud/Logs/1"); CodeOf(err) != CodeNotFound {
				t.Fatalf("refused mkdirs left /Projects/fraud/Logs/1 behind: %v", err)
			}
		}
		if st.name == "rename out of project" {
			p := s.Projects["fraud"]
			// fraud/, 6 dirs, f.txt gone with a2, 1/2 → 1 + 6 + 2 inodes; no bytes.
			if p.UsedInodes != 9 || p.UsedBytes != 0 {
				t.Fatalf("usage after moving Logs/x out: %d inodes, %d bytes, want 9, 0", p.UsedInodes, p.UsedBytes)
			}
		}
	}
	if u := s.Users["alice"]; u.SCRAM != "v1" {
		t.Fatalf("PutUser IfAbsent replaced the verifier: %q", u.SCRAM)
	}
	if _, ok := s.Projects["fraud"]; ok {
		t.Fatal("dropped project still listed")
	}
	if _, err := s.resolve("/Projects/fraud"); CodeOf(err) != CodeNotFound {
		t.Fatalf("dropped project's directory still there: %v", err)
	}
	if in, err := s.resolve("/tmpx/y/big.bin"); err != nil || in.Block == nil || in.Block.ID != "b1" {
		t.Fatalf("moved block file: %+v, %v", in, err)
	}
	// Snapshot round trip preserves everything, including the derived index.
	b, err := s.marshal()
	if err != nil {
		t.Fatal(err)
	}
	s2, err := unmarshalState(b)
	if err != nil {
		t.Fatal(err)
	}
	b2, _ := s2.marshal()
	if !bytes.Equal(b, b2) {
		t.Fatal("snapshot round trip changed the state")
	}
	if _, err := s2.resolve("/tmpx/y/big.bin"); err != nil {
		t.Fatalf("restored state lost the children index: %v", err)
	}
}

func TestUnknownCommandHaltsNode(t *testing.T) {
	for _, e := range []envelope{
		{Type: CmdType(999), Version: 1, Payload: json.RawMessage(`{}`)},
		{Type: CmdMkdirs, Version: 99, Payload: json.RawMessage(`{"path":"/x"}`)},
	} {
		var halted error
		f := &fsm{s: newState(), halt: func(err error) { halted = err }}
		data, _ := json.Marshal(e)
		res := f.Apply(&raft.Log{Index: 7, Type: raft.LogCommand, Data: data}).(applyResult)
		if halted == nil || res.Err == nil {
			t.Fatalf("entry %s v%d: node not halted", e.Type, e.Version)
		}
		if _, err := f.s.resolve("/x"); CodeOf(err) != CodeNotFound {
			t.Fatalf("an entry the node cannot understand was applied")
		}
	}
	var halted error
	f := &fsm{s: newState(), halt: func(err error) { halted = err }}
	f.Apply(&raft.Log{Index: 1, Type: raft.LogCommand, Data: []byte("not json")})
	if halted == nil {
		t.Fatal("garbage entry did not halt the node")
	}
}

func TestNodeProposeRestartSnapshot(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	n := openNode(t, dir, Config{SnapshotThreshold: 50, TrailingLogs: 10})
	if !n.IsLeader() {
		t.Fatal("one-node cluster does not lead")
	}
	oid := propose(t, n, CmdCreateProject, CreateProject{Name: "p", Owner: "hopsql"})
	if oid < FirstUserID {
		t.Fatalf("project OID %d below %d", oid, FirstUserID)
	}
	// A retried request is applied once: the second Mkdirs would otherwise
	// succeed too, but a retried CreateFile without Overwrite would fail.
	req := NewRequestID()
	cf := CreateFile{Path: "/Projects/p/Resources/once.txt", Inline: []byte("1")}
	id1, err1 := n.ProposeRequest(ctx, req, CmdCreateFile, cf)
	id2, err2 := n.ProposeRequest(ctx, req, CmdCreateFile, cf)
	if err1 != nil || err2 != nil || id1 != id2 {
		t.Fatalf("retried request: (%d, %v) then (%d, %v)", id1, err1, id2, err2)
	}
	if _, err := n.Propose(ctx, CmdCreateFile, cf); !errors.Is(err, ErrExists) {
		t.Fatalf("a new request for the same file: %v, want exists", err)
	}
	// Ids are unique and increasing in log order.
	last := uint64(0)
	for i := 0; i < 120; i++ {
		id := propose(t, n, CmdMkdirs, Mkdirs{Path: "/Projects/p/Logs/d" + strings.Repeat("x", i%7) + string(rune('a'+i%26)) + "/" + strconvItoa(i)})
		if id <= last {
			t.Fatalf("id %d after %d", id, last)
		}
		last = id
	}
	if err := n.Linearize(ctx); err != nil {
		t.Fatal(err)
	}
	if err := n.Snapshot(); err != nil {
		t.Fatal(err)
	}
	before, _ := n.fsm.s.marshal()
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}

	n2 := openNode(t, dir, Config{})
	defer n2.Close()
	after, _ := n2.fsm.s.marshal()
	if !bytes.Equal(before, after) {
		t.Fatal("state after restart (snapshot + log replay) differs")
	}
	fi, data, err := n2.ReadInline("/Projects/p/Resources/once.txt")
	if err != nil || string(data) != "1" || fi.Project != "p" {
		t.Fatalf("after restart: %+v %q %v", fi, data, err)
	}
	// New ids continue above the old ones.
	id := propose(t, n2, CmdMkdirs, Mkdirs{Path: "/Projects/p/Logs/new"})
	if id <= last {
		t.Fatalf("id %d after restart is not above %d", id, last)
	}
	list, err := n2.List("/Projects/p")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, fi := range list {
		names = append(names, fi.Name)
	}
	if got := strings.Join(names, ","); got != "Experiments,Logs,Models,Resources,TrainingDatasets,Warehouse" {
		t.Fatalf("project dirs: %s", got)
	}
}

func strconvItoa(i int) string {
	b, _ := json.Marshal(i)
	return string(b)
}

// TestTableCommits: versions, per-file conflicts, all-or-nothing commits,
// reconstruction of old versions, schemas per version, expiry.
func TestTableCommits(t *testing.T) {
	s := newState()
	next := FirstUserID
	ts := int64(0)
	apply := func(ct CmdType, p any) error {
		b, _ := json.Marshal(p)
		var ids []uint64
		for i := 0; i < idsNeeded(ct, p); i++ {
			ids = append(ids, next)
			next++
		}
		ts += 10
		_, err := s.apply(&envelope{Type: ct, Version: 1, Time: ts, IDs: ids, Payload: b})
		return err
	}
	must := func(ct CmdType, p any) {
		t.Helper()
		if err := apply(ct, p); err != nil {
			t.Fatalf("%s: %v", ct, err)
		}
	}
	file := func(name string, rows int64) NewFile {
		return NewFile{Name: name, Block: Block{ID: "b-" + name, Size: 100}, Rows: rows}
	}
	cols1 := []Column{{Name: "id", Type: "INTEGER"}}
	cols2 := []Column{{Name: "id", Type: "INTEGER"}, {Name: "x", Type: "VARCHAR"}}
	must(CmdCreateProject, CreateProject{Name: "p", Owner: "u"})
	must(CmdCommit, Commit{Project: "p", User: "u", Puts: []PutTable{{Schema: "main", Name: "t", SQL: "CREATE TABLE t(id INTEGER);", Columns: cols1}}})
	must(CmdCommit, Commit{Project: "p", User: "u", Data: []TableData{{Schema: "main", Name: "t", Op: "INSERT", Expect: -1, Add: []NewFile{file("a", 2)}}}}) // v1 at ts 30
	must(CmdCommit, Commit{Project: "p", User: "u", Data: []TableData{{Schema: "main", Name: "t", Op: "INSERT", Expect: -1, Add: []NewFile{file("b", 3)}}}}) // v2 at 40
	// An UPDATE that rewrote "a" (v3), then one that read "a" too: conflict.
	must(CmdCommit, Commit{Project: "p", User: "u", Data: []TableData{{Schema: "main", Name: "t", Op: "UPDATE", Expect: -1, Remove: []string{"a"}, Add: []NewFile{file("c", 2)}}}})
	if err := apply(CmdCommit, Commit{Project: "p", Data: []TableData{{Schema: "main", Name: "t", Op: "DELETE", Expect: -1, Remove: []string{"a"}}}}); CodeOf(err) != CodeConflict {
		t.Fatalf("removing a file that is gone: %v, want conflict", err)
	}
	if err := apply(CmdCommit, Commit{Project: "p", Data: []TableData{{Schema: "main", Name: "t", Op: "INSERT", Expect: 2, Add: []NewFile{file("z", 1)}}}}); CodeOf(err) != CodeConflict {
		t.Fatalf("expecting an old version: %v, want conflict", err)
	}
	// All or nothing: a commit with a bad second part changes nothing.
	if err := apply(CmdCommit, Commit{Project: "p", Puts: []PutTable{{Schema: "main", Name: "u", Columns: cols1}},
		Data: []TableData{{Schema: "main", Name: "missing", Op: "INSERT", Expect: -1, Add: []NewFile{file("q", 1)}}}}); CodeOf(err) != CodeNotFound {
		t.Fatalf("commit to a missing table: %v", err)
	}
	if s.table("p", "main", "u") != nil {
		t.Fatal("a refused commit created a table")
	}
	// ALTER: new definition and every file replaced (v4 at 70).
	must(CmdCommit, Commit{Project: "p", User: "u", Puts: []PutTable{{Schema: "main", Name: "t", SQL: "CREATE TABLE t(id INTEGER, x VARCHAR);", Columns: cols2}},
		Data: []TableData{{Schema: "main", Name: "t", Op: "ALTER", Expect: 3, Replace: true, Add: []NewFile{file("d", 5)}}}})

	tab := s.Tables[s.tableIdx[tableKey("p", "main", "t")]]
	files := func(v, asOf int64) string {
		t.Helper()
		var names []string
		want := v
		// Reuse the Node's reader through a throwaway node-less path.
		n := &Node{fsm: &fsm{s: s}}
		got, refs, err := n.TableFiles("p", "main", "t", v, asOf)
		if err != nil {
			return "!" + err.Error()
		}
		if v > 0 && got != want {
			t.Fatalf("asked for version %d, got %d", v, got)
		}
		for _, r := range refs {
			names = append(names, r.Name)
		}
		return strings.Join(names, ",")
	}
	for _, tc := range []struct {
		v, asOf int64
		want    string
	}{
		{1, 0, "a"}, {2, 0, "a,b"}, {3, 0, "b,c"}, {4, 0, "d"}, {0, 0, "d"},
		{0, 35, "a"}, {0, 45, "a,b"}, {0, 65, "b,c"},
	} {
		if got := files(tc.v, tc.asOf); got != tc.want {
			t.Errorf("files(version %d, asOf %d) = %s, want %s", tc.v, tc.asOf, got, tc.want)
		}
	}
	if got := len(tab.ColumnsAt(3)); got != 1 {
		t.Errorf("version 3 has %d columns, want 1", got)
	}
	if got := len(tab.ColumnsAt(4)); got != 2 {
		t.Errorf("version 4 has %d columns, want 2", got)
	}
	// Expire everything replaced before ts 55: versions 1 and 2 go, 3 (current
	// at 55) stays; "a" (removed by v3) is deleted, "b" (still in v3) is not.
	must(CmdExpireSnapshots, ExpireSnapshots{Project: "p", Schema: "main", Name: "t", Before: 55})
	if got := files(2, 0); !strings.HasPrefix(got, "!") {
		t.Errorf("expired version 2 still readable: %s", got)
	}
	if got := files(3, 0); got != "b,c" {
		t.Errorf("version 3 after expiry: %s", got)
	}
	dir := s.Inodes[tab.Dir]
	if _, ok := s.children[dir.ID]["a"]; ok {
		t.Error("file a survived expiry")
	}
	if _, ok := s.children[dir.ID]["b"]; !ok {
		t.Error("file b, still in version 3, was deleted")
	}
	// A table's directory belongs to the table.
	if err := apply(CmdDelete, Delete{Path: "/Projects/p/Warehouse", Recursive: true}); CodeOf(err) != CodePermission {
		t.Errorf("deleting a directory holding a table: %v", err)
	}
	must(CmdCommit, Commit{Project: "p", User: "u", Renames: []RenameTable{{Schema: "main", Name: "t", NewName: "t2"}}})
	if _, err := s.resolve("/Projects/p/Warehouse/t2/d"); err != nil {
		t.Errorf("rename did not move the directory: %v", err)
	}
	must(CmdCommit, Commit{Project: "p", User: "u", Drops: []TableRef{{Schema: "main", Name: "t2"}}})
	if _, err := s.resolve("/Projects/p/Warehouse/t2"); CodeOf(err) != CodeNotFound {
		t.Errorf("drop left the directory: %v", err)
	}
}
