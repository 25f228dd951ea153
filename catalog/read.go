package catalog

import (
	"maps"
	"sort"
)

// Reads see the local replica's applied state. They are as fresh as the last
// applied entry; call Linearize first where a read must reflect every write
// acknowledged anywhere in the cluster.

// FileInfo describes a file or directory.
type FileInfo struct {
	ID      uint64
	Path    string
	Name    string
	Dir     bool
	Owner   string
	Mode    uint32
	Size    int64
	Mtime   int64 // Unix nanoseconds
	Xattrs  map[string][]byte
	Block   *Block // nil for directories and inline files
	Project string // the project whose directory holds it, or ""
	// Children is a directory's entry count.
	Children int
}

func (s *state) info(in *Inode, path string) FileInfo {
	return s.infoIn(in, path, s.projectOf(in))
}

// infoIn is info for an inode of project p (nil: none), which a listing
// knows from the directory.
func (s *state) infoIn(in *Inode, path string, p *Project) FileInfo {
	fi := FileInfo{ID: in.ID, Path: path, Name: in.Name, Dir: in.Dir, Owner: in.Owner, Mode: in.Mode,
		Size: in.Size, Mtime: in.Mtime, Xattrs: maps.Clone(in.Xattrs), Children: len(s.children[in.ID])}
	if in.Block != nil {
		b := *in.Block
		fi.Block = &b
	}
	if p != nil {
		fi.Project = p.Name
	}
	return fi
}

// Stat describes the file or directory at path.
func (n *Node) Stat(path string) (FileInfo, error) {
	parts, err := SplitPath(path)
	if err != nil {
		return FileInfo{}, err
	}
	n.fsm.mu.RLock()
	defer n.fsm.mu.RUnlock()
	s := n.fsm.s
	in, err := s.lookup(parts)
	if err != nil {
		return FileInfo{}, err
	}
	return s.info(in, joinPath(parts)), nil
}

// List returns a directory's entries in name order, or the file itself.
func (n *Node) List(path string) ([]FileInfo, error) {
	parts, err := SplitPath(path)
	if err != nil {
		return nil, err
	}
	n.fsm.mu.RLock()
	defer n.fsm.mu.RUnlock()
	s := n.fsm.s
	in, err := s.lookup(parts)
	if err != nil {
		return nil, err
	}
	base := joinPath(parts)
	if !in.Dir {
		return []FileInfo{s.info(in, base)}, nil
	}
	if base == "/" {
		base = ""
	}
	kids := s.sortedChildren(in)
	out := make([]FileInfo, len(kids))
	// Entries below a project's directory are in its project; the
	// entries of /Projects are projects themselves.
	proj, perEntry := s.projectOf(in), in.ID == s.children[RootID][ProjectsDir]
	for i, k := range kids {
		if perEntry {
			proj = s.projectOf(k)
		}
		out[i] = s.infoIn(k, base+"/"+k.Name, proj)
	}
	return out, nil
}

// Walk calls fn for path and, for a directory, every descendant, parents
// before children and siblings in name order. fn must not call the Node.
func (n *Node) Walk(path string, fn func(FileInfo)) error {
	parts, err := SplitPath(path)
	if err != nil {
		return err
	}
	n.fsm.mu.RLock()
	defer n.fsm.mu.RUnlock()
	s := n.fsm.s
	in, err := s.lookup(parts)
	if err != nil {
		return err
	}
	var rec func(in *Inode, p string)
	rec = func(in *Inode, p string) {
		fn(s.info(in, p))
		if p == "/" {
			p = ""
		}
		for _, k := range s.sortedChildren(in) {
			rec(k, p+"/"+k.Name)
		}
	}
	rec(in, joinPath(parts))
	return nil
}

// ReadInline returns a file's info and, for an inline file, its content.
func (n *Node) ReadInline(path string) (FileInfo, []byte, error) {
	parts, err := SplitPath(path)
	if err != nil {
		return FileInfo{}, nil, err
	}
	n.fsm.mu.RLock()
	defer n.fsm.mu.RUnlock()
	s := n.fsm.s
	in, err := s.lookup(parts)
	if err != nil {
		return FileInfo{}, nil, err
	}
	if in.Dir {
		return FileInfo{}, nil, errorf(CodeIsDir, "%s is a directory", joinPath(parts))
	}
	return s.info(in, joinPath(parts)), append([]byte(nil), in.Inline...), nil
}

// BlockIDs returns the ids of every block a file references.
func (n *Node) BlockIDs() map[string]bool {
	n.fsm.mu.RLock()
	defer n.fsm.mu.RUnlock()
	out := map[string]bool{}
	for _, in := range n.fsm.s.Inodes {
		if in.Block != nil {
			out[in.Block.ID] = true
		}
	}
	return out
}

// User returns a user by name.
func (n *Node) User(name string) (User, bool) {
	n.fsm.mu.RLock()
	defer n.fsm.mu.RUnlock()
	u, ok := n.fsm.s.Users[name]
	if !ok {
		return User{}, false
	}
	return *u, true
}

// Users returns all users in name order.
func (n *Node) Users() []User {
	n.fsm.mu.RLock()
	defer n.fsm.mu.RUnlock()
	out := make([]User, 0, len(n.fsm.s.Users))
	for _, u := range n.fsm.s.Users {
		out = append(out, *u)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Project returns a project by name.
func (n *Node) Project(name string) (Project, bool) {
	n.fsm.mu.RLock()
	defer n.fsm.mu.RUnlock()
	p, ok := n.fsm.s.Projects[name]
	if !ok {
		return Project{}, false
	}
	return *p, true
}

// Projects returns all projects in name order.
func (n *Node) Projects() []Project {
	n.fsm.mu.RLock()
	defer n.fsm.mu.RUnlock()
	out := make([]Project, 0, len(n.fsm.s.Projects))
	for _, p := range n.fsm.s.Projects {
		out = append(out, *p)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Generation changes whenever the local state changes; cheap to poll.
func (n *Node) Generation() uint64 { return n.fsm.gen.Load() }

// LastTime is the commit time of the newest applied entry: reading table
// versions as of it gives a consistent snapshot of the whole catalog.
func (n *Node) LastTime() int64 {
	n.fsm.mu.RLock()
	defer n.fsm.mu.RUnlock()
	return n.fsm.s.LastTime
}
