package catalog

import (
	"fmt"
	"math/rand"
	"slices"
	"strings"
	"testing"
)

// TestListingsFollowChanges: the cached name-ordered listings of
// directories (kidsCache) stay equal to a fresh sort of the namespace
// through random creates, overwrites, renames within and across
// directories, directory moves and (recursive) deletes, and across a
// snapshot restore.
func TestListingsFollowChanges(t *testing.T) {
	n := openNode(t, t.TempDir(), Config{})
	defer n.Close()
	propose(t, n, CmdCreateProject, CreateProject{Name: "p", Owner: "hopsql"})
	const root = "/Projects/p/Resources"
	dirs := []string{root, root + "/a", root + "/b", root + "/a/c"}
	for _, d := range dirs[1:] {
		propose(t, n, CmdMkdirs, Mkdirs{Path: d})
	}
	rng := rand.New(rand.NewSource(7))
	name := func() string { return fmt.Sprintf("f%02d", rng.Intn(30)) }
	check := func(step int, op string) {
		t.Helper()
		for _, d := range dirs {
			got, err := n.List(d)
			if err != nil {
				continue // the directory was moved or deleted
			}
			var names []string
			for _, fi := range got {
				names = append(names, fi.Name)
			}
			// What a fresh sort of the state's children gives.
			n.fsm.mu.RLock()
			in, _ := n.fsm.s.lookup(must(SplitPath(d)))
			var want []string
			for nm := range n.fsm.s.children[in.ID] {
				want = append(want, nm)
			}
			n.fsm.mu.RUnlock()
			slices.Sort(want)
			if strings.Join(names, ",") != strings.Join(want, ",") {
				t.Fatalf("step %d (%s): %s lists %v, want %v", step, op, d, names, want)
			}
		}
	}
	for step := 0; step < 400; step++ {
		d := dirs[rng.Intn(len(dirs))]
		var op string
		var err error
		switch k := rng.Intn(10); {
		case k < 4:
			op = "create " + d
			_, err = n.Propose(t.Context(), CmdCreateFile, CreateFile{Path: d + "/" + name(), Inline: []byte("x"), Overwrite: rng.Intn(2) == 0})
		case k < 7:
			dst := dirs[rng.Intn(len(dirs))] + "/" + name()
			op = "rename " + d + " → " + dst
			_, err = n.Propose(t.Context(), CmdRename, Rename{Src: d + "/" + name(), Dst: dst})
		case k < 9:
			op = "delete in " + d
			_, err = n.Propose(t.Context(), CmdDelete, Delete{Path: d + "/" + name()})
		default:
			// Move a whole directory away and back, or delete and remake it.
			if d == root {
				continue
			}
			op = "move " + d
			if _, err = n.Propose(t.Context(), CmdRename, Rename{Src: d, Dst: root + "/moved"}); err == nil {
				check(step, op)
				_, err = n.Propose(t.Context(), CmdRename, Rename{Src: root + "/moved", Dst: d})
			}
		}
		_ = err // refusals (missing source, existing target) are part of the mix
		check(step, op)
	}
	// A restored state starts with an empty cache and agrees too.
	if err := n.Snapshot(); err != nil {
		t.Fatal(err)
	}
	check(-1, "snapshot")
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
