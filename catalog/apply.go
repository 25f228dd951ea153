package catalog

import (
	"encoding/json"
	"strings"
)

// idSource hands out the ids the leader put into an entry, in order.
type idSource struct{ ids []uint64 }

func (s *idSource) next() (uint64, error) {
	if len(s.ids) == 0 {
		return 0, errorf(CodeInvalid, "catalog entry carries too few ids")
	}
	id := s.ids[0]
	s.ids = s.ids[1:]
	return id, nil
}

// apply changes the state by one decoded entry. It is deterministic: the
// outcome depends only on the state and the entry. On error the state is
// unchanged.
func (s *state) apply(e *envelope) (uint64, error) {
	for _, id := range e.IDs {
		if id >= s.NextID {
			s.NextID = id + 1
		}
	}
	// Commit times strictly increase in log order. The leader picks them,
	// but concurrent proposals may enter the log in another order than they
	// were stamped; the correction depends only on the state and the entry.
	e.Time = max(e.Time, s.LastTime+1)
	s.LastTime = e.Time
	ids := &idSource{ids: e.IDs}
	switch e.Type {
	case CmdPutUser:
		var p PutUser
		if err := decode(e, &p); err != nil {
			return 0, err
		}
		return s.putUser(p, ids)
	case CmdDropUser:
		var p DropUser
		if err := decode(e, &p); err != nil {
			return 0, err
		}
		if _, ok := s.Users[p.Name]; !ok {
			return 0, errorf(CodeNotFound, "role %q does not exist", p.Name)
		}
		delete(s.Users, p.Name)
		return 0, nil
	case CmdCreateProject:
		var p CreateProject
		if err := decode(e, &p); err != nil {
			return 0, err
		}
		return s.createProject(p, e.Time, ids)
	case CmdDropProject:
		var p DropProject
		if err := decode(e, &p); err != nil {
			return 0, err
		}
		return s.dropProject(p)
	case CmdMkdirs:
		var p Mkdirs
		if err := decode(e, &p); err != nil {
			return 0, err
		}
		parts, err := SplitPath(p.Path)
		if err != nil {
			return 0, err
		}
		in, err := s.mkdirs(parts, p.Owner, p.Mode, e.Time, ids)
		if err != nil {
			return 0, err
		}
		return in.ID, nil
	case CmdCreateFile:
		var p CreateFile
		if err := decode(e, &p); err != nil {
			return 0, err
		}
		return s.createFile(p, e.Time, ids)
	case CmdRename:
		var p Rename
		if err := decode(e, &p); err != nil {
			return 0, err
		}
		return 0, s.rename(p, e.Time)
	case CmdDelete:
		var p Delete
		if err := decode(e, &p); err != nil {
			return 0, err
		}
		return 0, s.delete(p, e.Time)
	case CmdSetXattr:
		var p SetXattr
		if err := decode(e, &p); err != nil {
			return 0, err
		}
		return 0, s.setXattr(p)
	case CmdRemoveXattr:
		var p RemoveXattr
		if err := decode(e, &p); err != nil {
			return 0, err
		}
		return 0, s.removeXattr(p)
	case CmdSetQuota:
		var p SetQuota
		if err := decode(e, &p); err != nil {
			return 0, err
		}
		pr := s.Projects[p.Project]
		if pr == nil {
			return 0, errorf(CodeNotFound, "project %q does not exist", p.Project)
		}
		if p.Bytes < 0 || p.Inodes < 0 {
			return 0, errorf(CodeInvalid, "quotas must not be negative")
		}
		pr.QuotaBytes, pr.QuotaInodes = p.Bytes, p.Inodes
		return 0, nil
	case CmdCommit:
		var p Commit
		if err := decode(e, &p); err != nil {
			return 0, err
		}
		return 0, s.applyCommit(p, e.Time, ids)
	case CmdExpireSnapshots:
		var p ExpireSnapshots
		if err := decode(e, &p); err != nil {
			return 0, err
		}
		return 0, s.applyExpire(p)
	case CmdSpill:
		var p Spill
		if err := decode(e, &p); err != nil {
			return 0, err
		}
		return 0, s.applySpill(p)
	case CmdPutStatistics:
		var p PutStatistics
		if err := decode(e, &p); err != nil {
			return 0, err
		}
		return 0, s.applyStatistics(p)
	case CmdPutExperiment:
		var p PutExperiment
		if err := decode(e, &p); err != nil {
			return 0, err
		}
		return s.applyPutExperiment(p, e.Time, ids)
	case CmdDropExperiment:
		var p DropExperiment
		if err := decode(e, &p); err != nil {
			return 0, err
		}
		return 0, s.applyDropExperiment(p)
	}
	// The FSM checks types before apply; reaching here is a programming error.
	return 0, errorf(CodeInvalid, "unknown catalog command %s", e.Type)
}

func decode(e *envelope, v any) error {
	if err := json.Unmarshal(e.Payload, v); err != nil {
		return errorf(CodeInvalid, "decode %s payload: %v", e.Type, err)
	}
	return nil
}

func (s *state) resolve(p string) (*Inode, error) {
	parts, err := SplitPath(p)
	if err != nil {
		return nil, err
	}
	return s.lookup(parts)
}

func (s *state) putUser(p PutUser, ids *idSource) (uint64, error) {
	if p.Name == "" || len(p.Name) > 63 {
		return 0, errorf(CodeInvalid, "invalid role name %q", p.Name)
	}
	if old, ok := s.Users[p.Name]; ok {
		if p.IfAbsent {
			return uint64(old.OID), nil
		}
		s.Users[p.Name] = &User{Name: p.Name, OID: old.OID, Superuser: p.Superuser, SCRAM: p.SCRAM}
		return uint64(old.OID), nil
	}
	id, err := ids.next()
	if err != nil {
		return 0, err
	}
	s.Users[p.Name] = &User{Name: p.Name, OID: uint32(id), Superuser: p.Superuser, SCRAM: p.SCRAM}
	return id, nil
}

func (s *state) createProject(p CreateProject, now int64, ids *idSource) (uint64, error) {
	if old, ok := s.Projects[p.Name]; ok {
		if p.IfAbsent {
			return uint64(old.OID), nil
		}
		return 0, errorf(CodeExists, "database %q already exists", p.Name)
	}
	if p.Name == "" || strings.ContainsAny(p.Name, "/\x00") || p.Name == "." || p.Name == ".." || len(p.Name) > 63 {
		return 0, errorf(CodeInvalid, "invalid database name %q", p.Name)
	}
	root := s.Inodes[RootID]
	projectsID, ok := s.children[RootID][ProjectsDir]
	var projects *Inode
	if ok {
		projects = s.Inodes[projectsID]
		if !projects.Dir {
			return 0, errorf(CodeNotDir, "/%s is not a directory", ProjectsDir)
		}
	}
	if projects != nil {
		if _, taken := s.children[projects.ID][p.Name]; taken {
			return 0, errorf(CodeExists, "/%s/%s already exists", ProjectsDir, p.Name)
		}
	}
	// All ids are taken before anything changes, so a short entry fails cleanly.
	need := 1 + len(ProjectDirs)
	if projects == nil {
		need++
	}
	got := make([]uint64, need)
	for i := range got {
		id, err := ids.next()
		if err != nil {
			return 0, err
		}
		got[i] = id
	}
	if projects == nil {
		projects = &Inode{ID: got[0], Parent: RootID, Name: ProjectsDir, Dir: true, Owner: p.Owner, Mode: 0o755, Mtime: now}
		s.addInode(projects)
		got = got[1:]
	}
	dir := &Inode{ID: got[0], Parent: projects.ID, Name: p.Name, Dir: true, Owner: p.Owner, Mode: 0o770, Mtime: now}
	s.addInode(dir)
	for i, name := range ProjectDirs {
		s.addInode(&Inode{ID: got[1+i], Parent: dir.ID, Name: name, Dir: true, Owner: p.Owner, Mode: 0o770, Mtime: now})
	}
	projects.Mtime, root.Mtime = now, max(root.Mtime, now)
	s.Projects[p.Name] = &Project{Name: p.Name, OID: uint32(dir.ID), Owner: p.Owner, Created: now, Dir: dir.ID,
		UsedInodes: int64(1 + len(ProjectDirs))}
	return dir.ID, nil
}

func (s *state) dropProject(p DropProject) (uint64, error) {
	pr, ok := s.Projects[p.Name]
	if !ok {
		return 0, errorf(CodeNotFound, "database %q does not exist", p.Name)
	}
	if dir := s.Inodes[pr.Dir]; dir != nil {
		var all []*Inode
		s.subtree(dir, func(in *Inode) { all = append(all, in) })
		for _, in := range all {
			s.removeInode(in)
		}
	}
	for id, t := range s.Tables {
		if t.Project == p.Name {
			delete(s.tableIdx, tableKey(t.Project, t.Schema, t.Name))
			delete(s.tableDirs, t.Dir)
			delete(s.Tables, id)
		}
	}
	for k, v := range s.Views {
		if v.Project == p.Name {
			delete(s.Views, k)
		}
	}
	keep := s.Training[:0]
	for _, td := range s.Training {
		if td.Project != p.Name {
			keep = append(keep, td)
		}
	}
	s.Training = keep
	exps := s.Experiments[:0]
	for _, x := range s.Experiments {
		if x.Project != p.Name {
			exps = append(exps, x)
		}
	}
	s.Experiments = exps
	delete(s.Projects, p.Name)
	return uint64(pr.OID), nil
}

// checkCreate refuses to make new direct children of /Projects outside
// CREATE DATABASE.
func (s *state) checkCreate(parent *Inode) error {
	if parent.Parent == RootID && parent.Name == ProjectsDir {
		return errorf(CodePermission, "/%s/<name> is a project's directory: create it with CREATE DATABASE", ProjectsDir)
	}
	if s.tableDir(parent.ID) {
		return errorf(CodePermission, "%s holds a table's files: change them with SQL", s.pathOf(parent))
	}
	return nil
}

// mkdirs creates parts and any missing parents; existing directories are fine.
func (s *state) mkdirs(parts []string, owner string, mode uint32, now int64, ids *idSource) (*Inode, error) {
	cur := s.Inodes[RootID]
	i := 0
	for ; i < len(parts); i++ {
		id, ok := s.children[cur.ID][parts[i]]
		if !ok {
			break
		}
		next := s.Inodes[id]
		if !next.Dir {
			return nil, errorf(CodeNotDir, "%s is not a directory", joinPath(parts[:i+1]))
		}
		cur = next
	}
	missing := len(parts) - i
	if missing == 0 {
		return cur, nil
	}
	if err := s.checkCreate(cur); err != nil {
		return nil, err
	}
	if len(ids.ids) < missing {
		return nil, errorf(CodeInvalid, "catalog entry carries too few ids")
	}
	if err := s.charge(s.projectOf(cur), int64(missing), 0); err != nil {
		return nil, err
	}
	if mode == 0 {
		mode = 0o755
	}
	cur.Mtime = max(cur.Mtime, now)
	for ; i < len(parts); i++ {
		id, _ := ids.next()
		in := &Inode{ID: id, Parent: cur.ID, Name: parts[i], Dir: true, Owner: owner, Mode: mode, Mtime: now}
		s.addInode(in)
		cur = in
	}
	return cur, nil
}

func (s *state) createFile(p CreateFile, now int64, ids *idSource) (uint64, error) {
	parts, err := SplitPath(p.Path)
	if err != nil {
		return 0, err
	}
	if len(parts) == 0 {
		return 0, errorf(CodeIsDir, "/ is a directory")
	}
	if p.Block != nil && p.Inline != nil {
		return 0, errorf(CodeInvalid, "a file is either inline or in a block")
	}
	if len(p.Inline) > InlineMax {
		return 0, errorf(CodeInvalid, "inline content is larger than %d bytes", InlineMax)
	}
	size := int64(len(p.Inline))
	if p.Block != nil {
		size = p.Block.Size
	}
	// Check the target before creating parents, so a failure changes nothing.
	parentParts, name := parts[:len(parts)-1], parts[len(parts)-1]
	var old *Inode
	if parent, err := s.lookup(parentParts); err == nil {
		if !parent.Dir {
			return 0, errorf(CodeNotDir, "%s is not a directory", joinPath(parentParts))
		}
		if id, ok := s.children[parent.ID][name]; ok {
			old = s.Inodes[id]
			if old.Dir {
				return 0, errorf(CodeIsDir, "%s is a directory", p.Path)
			}
			if !p.Overwrite {
				return 0, errorf(CodeExists, "%s already exists", joinPath(parts))
			}
			if s.protected(old) {
				return 0, errorf(CodePermission, "%s belongs to a table: change it with SQL", joinPath(parts))
			}
		} else if err := s.checkCreate(parent); err != nil {
			return 0, err
		}
	} else if CodeOf(err) != CodeNotFound {
		return 0, err
	}
	if old != nil {
		pr := s.projectOf(old)
		if err := s.charge(pr, 0, size-old.Size); err != nil {
			return 0, err
		}
		old.Inline, old.Block, old.Size, old.Mtime = p.Inline, p.Block, size, now
		if p.Owner != "" {
			old.Owner = p.Owner
		}
		return old.ID, nil
	}
	// Quotas cover the missing parents and the file; they are checked
	// before any parent is created, so a refusal changes nothing.
	deepest, depth := s.Inodes[RootID], 0
	for _, c := range parentParts {
		id, ok := s.children[deepest.ID][c]
		if !ok {
			break
		}
		deepest, depth = s.Inodes[id], depth+1
	}
	if pr := s.projectOf(deepest); pr != nil {
		newInodes := int64(len(parentParts)-depth) + 1
		if pr.QuotaInodes > 0 && pr.UsedInodes+newInodes > pr.QuotaInodes {
			return 0, errorf(CodeQuota, "project %q: inode quota of %d exceeded", pr.Name, pr.QuotaInodes)
		}
		if pr.QuotaBytes > 0 && pr.UsedBytes+size > pr.QuotaBytes {
			return 0, errorf(CodeQuota, "project %q: space quota of %d bytes exceeded", pr.Name, pr.QuotaBytes)
		}
	}
	parent, err := s.mkdirs(parentParts, p.Owner, 0o755, now, ids)
	if err != nil {
		return 0, err
	}
	id, err := ids.next()
	if err != nil {
		return 0, err
	}
	if err := s.charge(s.projectOf(parent), 1, size); err != nil {
		return 0, err // unreachable: checked above
	}
	mode := p.Mode
	if mode == 0 {
		mode = 0o644
	}
	s.addInode(&Inode{ID: id, Parent: parent.ID, Name: name, Owner: p.Owner, Mode: mode, Size: size, Mtime: now,
		Inline: p.Inline, Block: p.Block})
	parent.Mtime = max(parent.Mtime, now)
	return id, nil
}

func (s *state) rename(p Rename, now int64) error {
	srcParts, err := SplitPath(p.Src)
	if err != nil {
		return err
	}
	dstParts, err := SplitPath(p.Dst)
	if err != nil {
		return err
	}
	src, err := s.lookup(srcParts)
	if err != nil {
		return err
	}
	if s.protected(src) {
		return errorf(CodePermission, "%s cannot be renamed", p.Src)
	}
	if len(dstParts) == 0 {
		return errorf(CodeExists, "/ already exists")
	}
	if len(dstParts) >= len(srcParts) && strings.Join(dstParts[:len(srcParts)], "/") == strings.Join(srcParts, "/") {
		if len(dstParts) == len(srcParts) {
			return nil // rename onto itself
		}
		return errorf(CodeInvalid, "cannot move %s into itself", p.Src)
	}
	dstParent, err := s.lookup(dstParts[:len(dstParts)-1])
	if err != nil {
		return err
	}
	if !dstParent.Dir {
		return errorf(CodeNotDir, "%s is not a directory", joinPath(dstParts[:len(dstParts)-1]))
	}
	name := dstParts[len(dstParts)-1]
	if _, ok := s.children[dstParent.ID][name]; ok {
		return errorf(CodeExists, "%s already exists", joinPath(dstParts))
	}
	if err := s.checkCreate(dstParent); err != nil {
		return err
	}
	from, to := s.projectOf(src), s.projectOf(dstParent)
	if from != to {
		inodes, bytes := s.subtree(src, nil)
		if err := s.charge(to, inodes, bytes); err != nil {
			return err
		}
		if from != nil {
			from.UsedInodes -= inodes
			from.UsedBytes -= bytes
		}
	}
	oldParent := s.Inodes[src.Parent]
	s.forget(src.Parent)
	s.forget(dstParent.ID)
	delete(s.children[src.Parent], src.Name)
	if len(s.children[src.Parent]) == 0 {
		delete(s.children, src.Parent)
	}
	src.Parent, src.Name = dstParent.ID, name
	m := s.children[dstParent.ID]
	if m == nil {
		m = map[string]uint64{}
		s.children[dstParent.ID] = m
	}
	m[name] = src.ID
	oldParent.Mtime = max(oldParent.Mtime, now)
	dstParent.Mtime = max(dstParent.Mtime, now)
	return nil
}

func (s *state) delete(p Delete, now int64) error {
	in, err := s.resolve(p.Path)
	if err != nil {
		return err
	}
	if s.protected(in) {
		return errorf(CodePermission, "%s cannot be deleted", p.Path)
	}
	if in.Dir && len(s.children[in.ID]) > 0 && !p.Recursive {
		return errorf(CodeNotEmpty, "%s is a non-empty directory", p.Path)
	}
	pr := s.projectOf(in)
	var all []*Inode
	holdsTable := false
	inodes, bytes := s.subtree(in, func(x *Inode) {
		all = append(all, x)
		holdsTable = holdsTable || s.tableDir(x.ID)
	})
	if holdsTable {
		return errorf(CodePermission, "%s holds a table's files: drop the table with SQL", p.Path)
	}
	parent := s.Inodes[in.Parent]
	for _, x := range all {
		s.removeInode(x)
	}
	if pr != nil {
		pr.UsedInodes -= inodes
		pr.UsedBytes -= bytes
	}
	parent.Mtime = max(parent.Mtime, now)
	return nil
}

// MaxXattrSize bounds a name plus value, as HDFS's
// dfs.namenode.fs-limits.max-xattr-size does.
const MaxXattrSize = 16 << 10

func validXattrName(name string) error {
	for _, ns := range []string{"user.", "trusted.", "system.", "security.", "raw."} {
		if strings.HasPrefix(name, ns) && len(name) > len(ns) {
			return nil
		}
	}
	return errorf(CodeInvalid, "xattr name %q must start with a namespace: user., trusted., system., security. or raw.", name)
}

func (s *state) setXattr(p SetXattr) error {
	if err := validXattrName(p.Name); err != nil {
		return err
	}
	if len(p.Name)+len(p.Value) > MaxXattrSize {
		return errorf(CodeInvalid, "xattr %q is larger than %d bytes", p.Name, MaxXattrSize)
	}
	in, err := s.resolve(p.Path)
	if err != nil {
		return err
	}
	_, exists := in.Xattrs[p.Name]
	switch {
	case p.Flag == XattrCreate && exists:
		return &Error{Code: CodeXattrExists, Msg: "xattr " + p.Name + " already exists"}
	case p.Flag == XattrReplace && !exists:
		return &Error{Code: CodeXattrMissing, Msg: "xattr " + p.Name + " does not exist"}
	}
	if in.Xattrs == nil {
		in.Xattrs = map[string][]byte{}
	}
	in.Xattrs[p.Name] = append([]byte{}, p.Value...)
	return nil
}

func (s *state) removeXattr(p RemoveXattr) error {
	in, err := s.resolve(p.Path)
	if err != nil {
		return err
	}
	if _, ok := in.Xattrs[p.Name]; !ok {
		return &Error{Code: CodeXattrMissing, Msg: "xattr " + p.Name + " does not exist"}
	}
	delete(in.Xattrs, p.Name)
	if len(in.Xattrs) == 0 {
		in.Xattrs = nil
	}
	return nil
}
