package catalog

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
)

// Fixed inode and object ids. User objects get ids from FirstUserID on, so an
// id doubles as a PostgreSQL OID (FirstNormalObjectId is 16384).
const (
	RootID      uint64 = 1
	FirstUserID uint64 = 16384
	// InlineMax is the largest file kept inline in the metadata (HopsFS
	// stores small files in the database the same way).
	InlineMax = 64 << 10
	// ProjectsDir holds one directory per project.
	ProjectsDir = "Projects"
	// dedupWindow is how many recent request ids are remembered; a retry
	// arrives within seconds, so a few thousand is ample.
	dedupWindow = 4096
)

// ProjectDirs are created under every /Projects/<name>, after Hopsworks.
var ProjectDirs = []string{"Resources", "Experiments", "Models", "TrainingDatasets", "Logs", "Warehouse"}

// User is a role that may log in.
type User struct {
	Name      string `json:"name"`
	OID       uint32 `json:"oid"`
	Superuser bool   `json:"superuser"`
	// SCRAM is the SCRAM-SHA-256 verifier in PostgreSQL's pg_authid format:
	// SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>. Empty when
	// the user has no password.
	SCRAM string `json:"scram,omitempty"`
}

// Project is a database: a namespace for tables and a directory tree.
type Project struct {
	Name        string `json:"name"`
	OID         uint32 `json:"oid"`
	Owner       string `json:"owner"`
	Created     int64  `json:"created"`
	Dir         uint64 `json:"dir"` // inode of /Projects/<name>
	QuotaBytes  int64  `json:"quota_bytes,omitempty"`
	QuotaInodes int64  `json:"quota_inodes,omitempty"`
	UsedBytes   int64  `json:"used_bytes"`
	UsedInodes  int64  `json:"used_inodes"`
}

// Block is a file's content stored outside the metadata: one immutable file
// under the data directory, written and fsynced before the entry that
// references it is proposed.
type Block struct {
	ID     string `json:"id"` // file name under <data>/blocks/, chosen by the writer
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}

// Inode is a file or directory.
type Inode struct {
	ID     uint64            `json:"id"`
	Parent uint64            `json:"parent"`
	Name   string            `json:"name"`
	Dir    bool              `json:"dir,omitempty"`
	Owner  string            `json:"owner"`
	Mode   uint32            `json:"mode"`
	Size   int64             `json:"size"`
	Mtime  int64             `json:"mtime"`
	Xattrs map[string][]byte `json:"xattrs,omitempty"`
	Inline []byte            `json:"inline,omitempty"`
	Block  *Block            `json:"block,omitempty"`
}

// dedupEntry is the remembered outcome of an applied request.
type dedupEntry struct {
	Request string `json:"r"`
	ID      uint64 `json:"id,omitempty"`
	Err     *Error `json:"err,omitempty"`
}

// state is the catalog's replicated state. Only apply methods change it, and
// only from log entries; everything they need is in the entry.
type state struct {
	NextID   uint64              `json:"next_id"`
	LastTime int64               `json:"last_time"` // newest commit time applied
	Inodes   map[uint64]*Inode   `json:"inodes"`
	Users    map[string]*User    `json:"users"`
	Projects map[string]*Project `json:"projects"`
	Tables   map[uint64]*Table   `json:"tables"`
	// Views are feature views, by tableKey.
	Views map[string]*FeatureView `json:"views,omitempty"`
	// Training holds training dataset versions in the order they were made.
	Training []*TrainingDataset `json:"training,omitempty"`
	// Experiments in the order they were created (ids increase).
	Experiments []*Experiment `json:"experiments,omitempty"`
	Dedup       []dedupEntry  `json:"dedup"` // oldest first, at most 2×dedupWindow

	children  map[uint64]map[string]uint64 // derived from Inodes
	dedup     map[string]int               // request id → index in Dedup
	tableIdx  map[string]uint64            // tableKey → table id
	tableDirs map[uint64]bool              // inodes that are tables' directories
	kids      *kidsCache                   // directories' children in name order
}

// kidsCache keeps directories' children sorted by name for listings: a
// read-heavy namespace lists far more often than it changes, and sorting
// on every List was a third of a listing's cost. Readers fill it under the
// state's read lock (hence its own mutex); apply, under the write lock,
// forgets a directory whenever its entries or their names change.
type kidsCache struct {
	mu sync.Mutex
	m  map[uint64][]*Inode
}

// forget drops a directory's cached listing; callers hold the write lock.
func (s *state) forget(dir uint64) { delete(s.kids.m, dir) }

func newState() *state {
	s := &state{
		NextID:   FirstUserID,
		Inodes:   map[uint64]*Inode{RootID: {ID: RootID, Name: "", Dir: true, Owner: "hopsql", Mode: 0o755}},
		Users:    map[string]*User{},
		Projects: map[string]*Project{},
		Tables:   map[uint64]*Table{},
		Views:    map[string]*FeatureView{},
	}
	s.rebuild()
	return s
}

// rebuild derives the indexes after a restore.
func (s *state) rebuild() {
	s.children = map[uint64]map[string]uint64{}
	s.kids = &kidsCache{m: map[uint64][]*Inode{}}
	for id, in := range s.Inodes {
		if id == RootID {
			continue
		}
		m := s.children[in.Parent]
		if m == nil {
			m = map[string]uint64{}
			s.children[in.Parent] = m
		}
		m[in.Name] = id
	}
	s.dedup = make(map[string]int, len(s.Dedup))
	for i, d := range s.Dedup {
		s.dedup[d.Request] = i
	}
	s.tableIdx = make(map[string]uint64, len(s.Tables))
	s.tableDirs = make(map[uint64]bool, len(s.Tables))
	for id, t := range s.Tables {
		s.tableIdx[tableKey(t.Project, t.Schema, t.Name)] = id
		s.tableDirs[t.Dir] = true
	}
}

func (s *state) marshal() ([]byte, error) { return json.Marshal(s) }

func unmarshalState(b []byte) (*state, error) {
	s := &state{}
	if err := json.Unmarshal(b, s); err != nil {
		return nil, fmt.Errorf("decode catalog snapshot: %w", err)
	}
	if s.Inodes == nil || s.Inodes[RootID] == nil {
		return nil, fmt.Errorf("decode catalog snapshot: no root inode")
	}
	if s.Users == nil {
		s.Users = map[string]*User{}
	}
	if s.Projects == nil {
		s.Projects = map[string]*Project{}
	}
	if s.Tables == nil {
		s.Tables = map[uint64]*Table{}
	}
	if s.Views == nil {
		s.Views = map[string]*FeatureView{}
	}
	s.rebuild()
	return s, nil
}

// remember records a request's outcome, forgetting the oldest beyond the window.
func (s *state) remember(d dedupEntry) {
	if d.Request == "" {
		return
	}
	s.Dedup = append(s.Dedup, d)
	// Trimmed in steps of a whole window, not one entry at a time: the
	// map is rebuilt once per dedupWindow entries instead of on every one.
	// At least the last dedupWindow outcomes are always kept.
	if len(s.Dedup) > 2*dedupWindow {
		drop := len(s.Dedup) - dedupWindow
		s.Dedup = append([]dedupEntry(nil), s.Dedup[drop:]...)
		s.dedup = make(map[string]int, len(s.Dedup))
		for i, x := range s.Dedup {
			s.dedup[x.Request] = i
		}
		return
	}
	s.dedup[d.Request] = len(s.Dedup) - 1
}

func (s *state) seen(req string) (dedupEntry, bool) {
	if req == "" {
		return dedupEntry{}, false
	}
	i, ok := s.dedup[req]
	if !ok {
		return dedupEntry{}, false
	}
	return s.Dedup[i], true
}

// lookup resolves path components to an inode.
func (s *state) lookup(parts []string) (*Inode, error) {
	cur := s.Inodes[RootID]
	for i, name := range parts {
		if !cur.Dir {
			return nil, errorf(CodeNotDir, "%s is not a directory", joinPath(parts[:i]))
		}
		id, ok := s.children[cur.ID][name]
		if !ok {
			return nil, errorf(CodeNotFound, "%s: no such file or directory", joinPath(parts[:i+1]))
		}
		cur = s.Inodes[id]
	}
	return cur, nil
}

func joinPath(parts []string) string { return "/" + strings.Join(parts, "/") }

// pathOf is an inode's absolute path.
func (s *state) pathOf(in *Inode) string {
	var rev []string
	for in.ID != RootID {
		rev = append(rev, in.Name)
		in = s.Inodes[in.Parent]
	}
	for i, j := 0, len(rev)-1; i < j; i, j = i+1, j-1 {
		rev[i], rev[j] = rev[j], rev[i]
	}
	return joinPath(rev)
}

// projectOf is the project whose directory contains in (or is in), or nil.
func (s *state) projectOf(in *Inode) *Project {
	projects, ok := s.children[RootID][ProjectsDir]
	if !ok {
		return nil
	}
	for in.ID != RootID {
		if in.Parent == projects {
			if p := s.Projects[in.Name]; p != nil && p.Dir == in.ID {
				return p
			}
			return nil
		}
		in = s.Inodes[in.Parent]
	}
	return nil
}

// protected inodes cannot be renamed or deleted through the filesystem: the
// root, /Projects and each project's directory belong to the catalog.
func (s *state) protected(in *Inode) bool {
	if in.ID == RootID {
		return true
	}
	if in.Parent == RootID && in.Name == ProjectsDir {
		return true
	}
	p := s.projectOf(in)
	return p != nil && p.Dir == in.ID || s.tableDir(in.ID) || s.tableDir(in.Parent)
}

// tableDir reports whether id is a table's directory: its files belong to
// the table's snapshots and change only through table commits.
func (s *state) tableDir(id uint64) bool { return s.tableDirs[id] }

// subtree returns in and all its descendants: inode count and bytes.
func (s *state) subtree(in *Inode, visit func(*Inode)) (inodes, bytes int64) {
	stack := []*Inode{in}
	for len(stack) > 0 {
		x := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		inodes++
		bytes += x.Size
		if visit != nil {
			visit(x)
		}
		for _, id := range s.children[x.ID] {
			stack = append(stack, s.Inodes[id])
		}
	}
	return inodes, bytes
}

// charge adds usage to in's project, checking its quotas first.
func (s *state) charge(p *Project, inodes, bytes int64) error {
	if p == nil {
		return nil
	}
	if inodes > 0 && p.QuotaInodes > 0 && p.UsedInodes+inodes > p.QuotaInodes {
		return errorf(CodeQuota, "project %q: inode quota of %d exceeded", p.Name, p.QuotaInodes)
	}
	if bytes > 0 && p.QuotaBytes > 0 && p.UsedBytes+bytes > p.QuotaBytes {
		return errorf(CodeQuota, "project %q: space quota of %d bytes exceeded", p.Name, p.QuotaBytes)
	}
	p.UsedInodes += inodes
	p.UsedBytes += bytes
	return nil
}

func (s *state) addInode(in *Inode) {
	s.forget(in.Parent)
	s.Inodes[in.ID] = in
	m := s.children[in.Parent]
	if m == nil {
		m = map[string]uint64{}
		s.children[in.Parent] = m
	}
	m[in.Name] = in.ID
}

func (s *state) removeInode(in *Inode) {
	s.forget(in.Parent)
	s.forget(in.ID)
	delete(s.Inodes, in.ID)
	delete(s.children[in.Parent], in.Name)
	if len(s.children[in.Parent]) == 0 {
		delete(s.children, in.Parent)
	}
	delete(s.children, in.ID)
}

// sortedChildren lists a directory in name order. The slice is shared
// with the cache: callers must not change it.
func (s *state) sortedChildren(dir *Inode) []*Inode {
	s.kids.mu.Lock()
	out, ok := s.kids.m[dir.ID]
	s.kids.mu.Unlock()
	if ok {
		return out
	}
	m := s.children[dir.ID]
	out = make([]*Inode, 0, len(m))
	for _, id := range m {
		out = append(out, s.Inodes[id])
	}
	slices.SortFunc(out, func(a, b *Inode) int { return strings.Compare(a.Name, b.Name) })
	s.kids.mu.Lock()
	s.kids.m[dir.ID] = out
	s.kids.mu.Unlock()
	return out
}
