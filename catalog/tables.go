package catalog

import (
	"sort"
	"strings"
)

// Column is a table column as DuckDB declares it.
type Column struct {
	Name string `json:"name"`
	Type string `json:"type"`
	// PG is the declared PostgreSQL type when DuckDB's type loses it
	// (varchar(n) is VARCHAR): format_type's words, e.g.
	// "character varying(40)".
	PG string `json:"pg,omitempty"`
}

// DataFile is one immutable Parquet file of a table, named relative to the
// table's directory.
type DataFile struct {
	Name  string `json:"name"`
	Rows  int64  `json:"rows"`
	Bytes int64  `json:"bytes"`
	// Inline: committed with its bytes in the entry (a small commit's file).
	// It stays true in history after the bytes were spilled to a block.
	Inline bool `json:"inline,omitempty"`
}

// TableSnapshot is one committed version of a table, stored as the change
// from the version before it.
type TableSnapshot struct {
	Version int64      `json:"version"`
	Time    int64      `json:"time"`
	User    string     `json:"user"`
	Op      string     `json:"op"`
	Added   []DataFile `json:"added,omitempty"`
	Removed []DataFile `json:"removed,omitempty"`
	Rows    int64      `json:"rows"` // rows in the table after this version
	// Validation: a feature group's expectations evaluated on the rows this
	// version wrote. Stats: per-feature statistics of the whole version,
	// computed after it was committed (PutStatistics).
	Validation []ValidationResult `json:"validation,omitempty"`
	Stats      []FeatureStats     `json:"stats,omitempty"`
}

// ValidationResult is one expectation checked on the rows one commit wrote.
type ValidationResult struct {
	Expectation string `json:"expectation"`
	Check       string `json:"check"`
	Strict      bool   `json:"strict"`
	Rows        int64  `json:"rows"`   // rows checked
	Failed      int64  `json:"failed"` // rows for which the check was false
}

// FeatureStats describes one column of a table version.
type FeatureStats struct {
	Feature  string   `json:"feature"`
	Type     string   `json:"type"`
	Count    int64    `json:"count"` // non-null values
	Nulls    int64    `json:"nulls"`
	Distinct int64    `json:"distinct"`
	Min      *string  `json:"min,omitempty"`
	Max      *string  `json:"max,omitempty"`
	Mean     *float64 `json:"mean,omitempty"`
	Stddev   *float64 `json:"stddev,omitempty"`
	// Histogram: equal-width bins for numbers, the most frequent values
	// for everything else.
	Histogram []Bin `json:"histogram,omitempty"`
}

// Bin is a histogram bin: [Lo, Hi) (the last bin includes Hi), or one
// value when Value is set.
type Bin struct {
	Lo    *float64 `json:"lo,omitempty"`
	Hi    *float64 `json:"hi,omitempty"`
	Value *string  `json:"value,omitempty"`
	Count int64    `json:"count"`
}

// PutStatistics records the statistics of a table version.
type PutStatistics struct {
	Project string         `json:"project"`
	Schema  string         `json:"schema"`
	Name    string         `json:"name"`
	TableID uint64         `json:"table_id"` // the table measured (not one renamed into its name)
	Version int64          `json:"version"`
	Stats   []FeatureStats `json:"stats"`
}

func (s *state) applyStatistics(p PutStatistics) error {
	t := s.table(p.Project, p.Schema, p.Name)
	if t == nil || t.ID != p.TableID {
		return errorf(CodeNotFound, "table %s.%s does not exist", p.Schema, p.Name)
	}
	for i := range t.Snapshots {
		if t.Snapshots[i].Version == p.Version {
			t.Snapshots[i].Stats = p.Stats
			return nil
		}
	}
	return errorf(CodeNotFound, "table %s.%s has no version %d", p.Schema, p.Name, p.Version)
}

// Table is a table: its definition and its ordered snapshots.
type Table struct {
	ID      uint64 `json:"id"`
	Project string `json:"project"`
	Schema  string `json:"schema"`
	Name    string `json:"name"`
	// SQL is DuckDB's CREATE TABLE statement for the table (constraints,
	// defaults and all): every node recreates the table's definition from it.
	SQL     string     `json:"sql"`
	Columns []Column   `json:"columns"`
	Dir     uint64     `json:"dir"` // inode of /Projects/<p>/Warehouse/<dir>
	Created int64      `json:"created"`
	Version int64      `json:"version"` // current version; 0 = no data committed yet
	Files   []DataFile `json:"files"`   // the current version's files
	Rows    int64      `json:"rows"`
	// Snapshots are the retained versions, oldest first (expiry drops the
	// oldest; the current version is always kept).
	Snapshots []TableSnapshot `json:"snapshots"`
	// Schemas records each definition's columns from the version it took
	// effect, so that time travel reads old files with their own columns.
	Schemas []SchemaVersion `json:"schemas,omitempty"`
	// Feature is set when the table is a feature group.
	Feature *FeatureGroup `json:"feature,omitempty"`
}

// FeatureGroup is what makes a table a feature group: rows are identified
// by their primary key and event time (a row written again with the same
// ones replaces the old one).
type FeatureGroup struct {
	Keys        []string `json:"keys"`
	EventTime   string   `json:"event_time,omitempty"`
	Online      bool     `json:"online,omitempty"`
	Description string   `json:"description,omitempty"`
	Version     int      `json:"version"`
	// Versions are the feature group's versions: each breaking change of
	// its columns makes the next one, from a table version on.
	Versions []FeatureGroupVersion `json:"versions,omitempty"`
	// Expectations are checked on every row a write adds.
	Expectations []Expectation `json:"expectations,omitempty"`
}

// Expectation is a condition a feature group's new rows must meet: a
// STRICT one rejects the write, otherwise the write goes on with a
// warning and a validation result.
type Expectation struct {
	Name   string `json:"name"`
	Check  string `json:"check"` // a boolean SQL expression over the row's columns, as written
	Strict bool   `json:"strict"`
	// Expr is Check as DuckDB evaluates it (PostgreSQL's operators and
	// casts translated).
	Expr string `json:"expr,omitempty"`
}

// SQL is the expression to evaluate.
func (x Expectation) SQL() string {
	if x.Expr != "" {
		return x.Expr
	}
	return x.Check
}

// FeatureGroupVersion is one version of a feature group: its columns, from
// table version From on (older versions are read by time travel).
type FeatureGroupVersion struct {
	Version int      `json:"version"`
	From    int64    `json:"from"`
	Columns []Column `json:"columns"`
}

// RowKey is the columns identifying a feature group's row: the primary key,
// then the event time when there is one.
func (f *FeatureGroup) RowKey() []string {
	k := append([]string(nil), f.Keys...)
	if f.EventTime != "" {
		k = append(k, f.EventTime)
	}
	return k
}

// SchemaVersion is the column list of versions From and later.
type SchemaVersion struct {
	From    int64    `json:"from"`
	Columns []Column `json:"columns"`
}

func (t *Table) setSchema(from int64, cols []Column) {
	if n := len(t.Schemas); n > 0 && t.Schemas[n-1].From >= from {
		t.Schemas[n-1] = SchemaVersion{From: from, Columns: cols}
		return
	}
	t.Schemas = append(t.Schemas, SchemaVersion{From: from, Columns: cols})
}

// ColumnsAt returns the columns of a version.
func (t *Table) ColumnsAt(v int64) []Column {
	cols := t.Columns
	for _, sv := range t.Schemas {
		if sv.From <= v {
			cols = sv.Columns
		}
	}
	return cols
}

func tableKey(project, schema, name string) string {
	return project + "\x00" + schema + "\x00" + name
}

// TableRef names a table in a project.
type TableRef struct {
	Schema string `json:"schema"`
	Name   string `json:"name"`
}

// PutTable creates a table or replaces its definition (after ALTER TABLE).
type PutTable struct {
	Schema  string   `json:"schema"`
	Name    string   `json:"name"`
	SQL     string   `json:"sql"`
	Columns []Column `json:"columns"`
	// Feature makes the table a feature group; nil keeps what it was.
	Feature *FeatureGroup `json:"feature,omitempty"`
}

// RenameTable renames a table (and its directory).
type RenameTable struct {
	Schema  string `json:"schema"`
	Name    string `json:"name"`
	NewName string `json:"new_name"`
}

// NewFile is a data file written and fsynced as a block before the commit.
type NewFile struct {
	Name  string `json:"name"`
	Block Block  `json:"block"`
	Rows  int64  `json:"rows"`
	// Inline holds a small file's bytes in the entry itself (no block):
	// the small-write path (storage/DESIGN.md). Block is then empty.
	Inline []byte `json:"inline,omitempty"`
}

// IsInline reports whether the file's bytes travel in the entry.
func (f NewFile) IsInline() bool { return len(f.Inline) > 0 }

func (f NewFile) size() int64 {
	if len(f.Inline) > 0 {
		return int64(len(f.Inline))
	}
	return f.Block.Size
}

// TableData changes a table's files: the new version is the current files
// minus Remove (or all of them, with Replace) plus Add.
type TableData struct {
	Schema string `json:"schema"`
	Name   string `json:"name"`
	Op     string `json:"op"`
	// Expect, when ≥ 0, is the version the writer read; a different current
	// version is a write-write conflict. Appends that need no uniqueness
	// check pass -1 and never conflict.
	Expect  int64     `json:"expect"`
	Replace bool      `json:"replace,omitempty"`
	Remove  []string  `json:"remove,omitempty"`
	Add     []NewFile `json:"add,omitempty"`
	// Validation: the feature group's expectations on the rows added.
	Validation []ValidationResult `json:"validation,omitempty"`
}

// Commit is everything one SQL transaction changed in a project's tables,
// applied as one log entry: all of it becomes visible at once, or none.
// Drops come first, then renames, definitions and data.
type Commit struct {
	Project string        `json:"project"`
	User    string        `json:"user"`
	Drops   []TableRef    `json:"drops,omitempty"`
	Renames []RenameTable `json:"renames,omitempty"`
	Puts    []PutTable    `json:"puts,omitempty"`
	Data    []TableData   `json:"data,omitempty"`
	// Feature views dropped, then created, by the same transaction.
	DropViews []TableRef    `json:"drop_views,omitempty"`
	PutViews  []FeatureView `json:"put_views,omitempty"`
	// Training datasets dropped (every version), then a version added.
	DropTraining []string          `json:"drop_training,omitempty"`
	PutTraining  []TrainingDataset `json:"put_training,omitempty"`
}

// ExpireSnapshots forgets the versions of a table that stopped being current
// before Before (Unix nanoseconds), keeping the one current at Before, and
// deletes the files no retained version references.
type ExpireSnapshots struct {
	Project string `json:"project"`
	Schema  string `json:"schema"`
	Name    string `json:"name"`
	Before  int64  `json:"before"`
}

func commitIDs(c Commit) int {
	n := 2 * len(c.Puts) // a new table's id and its directory
	for _, d := range c.Data {
		n += len(d.Add)
	}
	return n
}

// tableDirName is the directory a table's files live in.
func tableDirName(schema, name string) string {
	if schema == "main" || schema == "" {
		return name
	}
	return schema + "." + name
}

func (s *state) table(project, schema, name string) *Table {
	return s.Tables[s.tableIdx[tableKey(project, schema, name)]]
}

func (s *state) warehouse(project string) (*Project, *Inode, error) {
	pr := s.Projects[project]
	if pr == nil {
		return nil, nil, errorf(CodeNotFound, "database %q does not exist", project)
	}
	dir := s.Inodes[pr.Dir]
	id, ok := s.children[dir.ID]["Warehouse"]
	if !ok {
		return nil, nil, errorf(CodeNotFound, "/%s/%s/Warehouse does not exist", ProjectsDir, project)
	}
	return pr, s.Inodes[id], nil
}

// applyCommit validates a whole Commit before changing anything.
func (s *state) applyCommit(c Commit, now int64, ids *idSource) error {
	pr, wh, err := s.warehouse(c.Project)
	if err != nil {
		return err
	}
	// Validation pass, on names as they will be after drops and renames.
	exists := map[string]bool{}
	for k, id := range s.tableIdx {
		if s.Tables[id].Project == c.Project {
			exists[k] = true
		}
	}
	for _, d := range c.Drops {
		k := tableKey(c.Project, d.Schema, d.Name)
		if !exists[k] {
			return errorf(CodeNotFound, "table %s.%s does not exist", d.Schema, d.Name)
		}
		delete(exists, k)
	}
	for _, r := range c.Renames {
		k := tableKey(c.Project, r.Schema, r.Name)
		nk := tableKey(c.Project, r.Schema, r.NewName)
		if !exists[k] {
			return errorf(CodeNotFound, "table %s.%s does not exist", r.Schema, r.Name)
		}
		if exists[nk] {
			return errorf(CodeExists, "table %s.%s already exists", r.Schema, r.NewName)
		}
		delete(exists, k)
		exists[nk] = true
	}
	newTables := 0
	for _, p := range c.Puts {
		if p.Name == "" || strings.ContainsAny(p.Name, "/\x00") || len(p.Name) > MaxNameLen-40 {
			return errorf(CodeInvalid, "invalid table name %q", p.Name)
		}
		k := tableKey(c.Project, p.Schema, p.Name)
		if !exists[k] {
			newTables++
			exists[k] = true
		}
		if f := p.Feature; f != nil {
			if len(f.Keys) == 0 {
				return errorf(CodeInvalid, "feature group %s needs a primary key", p.Name)
			}
			for _, col := range f.RowKey() {
				if !HasColumn(p.Columns, col) {
					return errorf(CodeInvalid, "feature group %s has no column %q", p.Name, col)
				}
			}
		}
	}
	var addBytes, addFiles int64
	for _, d := range c.Data {
		if !exists[tableKey(c.Project, d.Schema, d.Name)] {
			return errorf(CodeNotFound, "table %s.%s does not exist", d.Schema, d.Name)
		}
		for _, f := range d.Add {
			if f.Name == "" || strings.ContainsAny(f.Name, "/\x00") {
				return errorf(CodeInvalid, "invalid data file name %q", f.Name)
			}
			if len(f.Inline) > InlineMax || (len(f.Inline) > 0 && f.Block.ID != "") {
				return errorf(CodeInvalid, "data file %q: inline content must be at most %d bytes and without a block", f.Name, InlineMax)
			}
			addBytes += f.size()
			addFiles++
		}
	}
	views := map[string]bool{}
	for k, v := range s.Views {
		if v.Project == c.Project {
			views[k] = true
		}
	}
	for _, d := range c.DropViews {
		k := tableKey(c.Project, d.Schema, d.Name)
		if !views[k] {
			return errorf(CodeNotFound, "feature view %s.%s does not exist", d.Schema, d.Name)
		}
		delete(views, k)
	}
	tds := map[string]int{}
	for _, td := range s.Training {
		if td.Project == c.Project && td.Version > tds[td.Name] {
			tds[td.Name] = td.Version
		}
	}
	for _, n := range c.DropTraining {
		if tds[n] == 0 {
			return errorf(CodeNotFound, "training dataset %q does not exist", n)
		}
		delete(tds, n)
	}
	for _, td := range c.PutTraining {
		if td.Name == "" || td.Version != tds[td.Name]+1 {
			return errorf(CodeConflict, "training dataset %q: version %d is not the next one", td.Name, td.Version)
		}
		tds[td.Name] = td.Version
	}
	for _, v := range c.PutViews {
		k := tableKey(c.Project, v.Schema, v.Name)
		if v.Name == "" || v.SQL == "" {
			return errorf(CodeInvalid, "feature view %q needs a name and a definition", v.Name)
		}
		if views[k] || exists[k] {
			return errorf(CodeExists, "relation %s.%s already exists", v.Schema, v.Name)
		}
		views[k] = true
	}
	if pr.QuotaInodes > 0 && pr.UsedInodes+int64(newTables)+addFiles > pr.QuotaInodes {
		return errorf(CodeQuota, "project %q: inode quota of %d exceeded", pr.Name, pr.QuotaInodes)
	}
	if pr.QuotaBytes > 0 && pr.UsedBytes+addBytes > pr.QuotaBytes {
		return errorf(CodeQuota, "project %q: space quota of %d bytes exceeded", pr.Name, pr.QuotaBytes)
	}
	if len(ids.ids) < commitIDs(c) {
		return errorf(CodeInvalid, "catalog entry carries too few ids")
	}
	// Conflicts are checked against tables as they are now; a table
	// created or renamed by this same commit has nothing to conflict with.
	for _, d := range c.Data {
		t := s.table(c.Project, d.Schema, d.Name)
		if t == nil {
			continue
		}
		if d.Expect >= 0 && t.Version != d.Expect {
			return errorf(CodeConflict, "could not serialize access due to concurrent update of %s.%s", d.Schema, d.Name)
		}
		if len(d.Remove) == 0 {
			continue
		}
		live := make(map[string]bool, len(t.Files))
		for _, f := range t.Files {
			live[f.Name] = true
		}
		for _, r := range d.Remove {
			if !live[r] {
				return errorf(CodeConflict, "could not serialize access due to concurrent update of %s.%s", d.Schema, d.Name)
			}
		}
	}

	// Mutation pass: nothing below fails.
	for _, d := range c.DropViews {
		delete(s.Views, tableKey(c.Project, d.Schema, d.Name))
	}
	for _, v := range c.PutViews {
		v := v
		v.Project, v.Created = c.Project, now
		s.Views[tableKey(c.Project, v.Schema, v.Name)] = &v
	}
	if len(c.DropTraining) > 0 {
		keep := s.Training[:0]
		for _, td := range s.Training {
			drop := false
			for _, n := range c.DropTraining {
				drop = drop || (td.Project == c.Project && td.Name == n)
			}
			if !drop {
				keep = append(keep, td)
			}
		}
		s.Training = keep
	}
	for _, td := range c.PutTraining {
		td := td
		td.Project, td.Created = c.Project, now
		s.Training = append(s.Training, &td)
	}
	for _, d := range c.Drops {
		t := s.table(c.Project, d.Schema, d.Name)
		if dir := s.Inodes[t.Dir]; dir != nil {
			inodes, bytes := s.subtree(dir, nil)
			var all []*Inode
			s.subtree(dir, func(in *Inode) { all = append(all, in) })
			for _, in := range all {
				s.removeInode(in)
			}
			pr.UsedInodes -= inodes
			pr.UsedBytes -= bytes
		}
		delete(s.tableIdx, tableKey(c.Project, d.Schema, d.Name))
		delete(s.tableDirs, t.Dir)
		delete(s.Tables, t.ID)
	}
	for _, r := range c.Renames {
		t := s.table(c.Project, r.Schema, r.Name)
		delete(s.tableIdx, tableKey(c.Project, r.Schema, r.Name))
		t.Name = r.NewName
		s.tableIdx[tableKey(c.Project, r.Schema, r.NewName)] = t.ID
		if dir := s.Inodes[t.Dir]; dir != nil {
			want := tableDirName(r.Schema, r.NewName)
			if _, taken := s.children[wh.ID][want]; !taken {
				s.forget(wh.ID)
				delete(s.children[wh.ID], dir.Name)
				dir.Name = want
				s.children[wh.ID][want] = dir.ID
			}
		}
	}
	hasData := func(schema, name string) bool {
		for _, d := range c.Data {
			if d.Schema == schema && d.Name == name {
				return true
			}
		}
		return false
	}
	for _, p := range c.Puts {
		if t := s.table(c.Project, p.Schema, p.Name); t != nil {
			t.SQL, t.Columns = p.SQL, p.Columns
			if p.Feature != nil {
				t.Feature = p.Feature
			}
			from := t.Version
			if hasData(p.Schema, p.Name) {
				from++
			}
			t.setSchema(from, p.Columns)
			continue
		}
		id, _ := ids.next()
		dirID, _ := ids.next()
		name := tableDirName(p.Schema, p.Name)
		if _, taken := s.children[wh.ID][name]; taken {
			name = name + "_" + itoa(id)
		}
		s.addInode(&Inode{ID: dirID, Parent: wh.ID, Name: name, Dir: true, Owner: c.User, Mode: 0o750, Mtime: now})
		pr.UsedInodes++
		t := &Table{ID: id, Project: c.Project, Schema: p.Schema, Name: p.Name, SQL: p.SQL, Columns: p.Columns,
			Dir: dirID, Created: now, Schemas: []SchemaVersion{{From: 0, Columns: p.Columns}}, Feature: p.Feature}
		s.Tables[id] = t
		s.tableIdx[tableKey(c.Project, p.Schema, p.Name)] = id
		s.tableDirs[dirID] = true
	}
	for _, d := range c.Data {
		t := s.table(c.Project, d.Schema, d.Name)
		dir := s.Inodes[t.Dir]
		remove := map[string]bool{}
		for _, r := range d.Remove {
			remove[r] = true
		}
		snap := TableSnapshot{Version: t.Version + 1, Time: now, User: c.User, Op: d.Op, Validation: d.Validation}
		var keep []DataFile
		for _, f := range t.Files {
			if d.Replace || remove[f.Name] {
				snap.Removed = append(snap.Removed, f)
			} else {
				keep = append(keep, f)
			}
		}
		for _, f := range d.Add {
			id, _ := ids.next()
			in := &Inode{ID: id, Parent: dir.ID, Name: f.Name, Owner: c.User, Mode: 0o640, Size: f.size(), Mtime: now}
			if len(f.Inline) > 0 {
				in.Inline = f.Inline
			} else {
				b := f.Block
				in.Block = &b
			}
			s.addInode(in)
			pr.UsedInodes++
			pr.UsedBytes += in.Size
			df := DataFile{Name: f.Name, Rows: f.Rows, Bytes: in.Size, Inline: f.IsInline()}
			keep = append(keep, df)
			snap.Added = append(snap.Added, df)
		}
		t.Files = keep
		t.Rows = 0
		for _, f := range keep {
			t.Rows += f.Rows
		}
		snap.Rows = t.Rows
		t.Version = snap.Version
		t.Snapshots = append(t.Snapshots, snap)
		dir.Mtime = max(dir.Mtime, now)
	}
	return nil
}

// applyExpire drops old versions and deletes the files only they referenced.
func (s *state) applyExpire(e ExpireSnapshots) error {
	t := s.table(e.Project, e.Schema, e.Name)
	if t == nil {
		return errorf(CodeNotFound, "table %s.%s does not exist", e.Schema, e.Name)
	}
	pr := s.Projects[e.Project]
	// base is the newest version current at Before; it and later ones stay.
	base := -1
	for i, sn := range t.Snapshots {
		if sn.Time <= e.Before {
			base = i
		}
	}
	if base <= 0 {
		return nil
	}
	live := map[string]bool{}
	for _, f := range t.Files {
		live[f.Name] = true
	}
	// Files removed after base are still visible in a retained version.
	for _, sn := range t.Snapshots[base+1:] {
		for _, f := range sn.Removed {
			live[f.Name] = true
		}
	}
	dir := s.Inodes[t.Dir]
	for _, sn := range t.Snapshots[:base+1] {
		for _, f := range sn.Removed {
			if live[f.Name] || dir == nil {
				continue
			}
			if id, ok := s.children[dir.ID][f.Name]; ok {
				in := s.Inodes[id]
				s.removeInode(in)
				if pr != nil {
					pr.UsedInodes--
					pr.UsedBytes -= in.Size
				}
			}
		}
	}
	t.Snapshots = append([]TableSnapshot(nil), t.Snapshots[base:]...)
	// The base's own delta described files now gone; what it added is
	// still listed by reconstruction from later deltas and the current files.
	t.Snapshots[0].Removed = nil
	return nil
}

func itoa(n uint64) string {
	var b [20]byte
	i := len(b)
	for {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
		if n == 0 {
			break
		}
	}
	return string(b[i:])
}

// TableInfo is a table as readers see it (a copy).
type TableInfo struct {
	Table
	DirPath string
}

func (s *state) tableInfo(t *Table) TableInfo {
	ti := TableInfo{Table: *t}
	ti.Columns = append([]Column(nil), t.Columns...)
	ti.Files = append([]DataFile(nil), t.Files...)
	ti.Snapshots = append([]TableSnapshot(nil), t.Snapshots...)
	ti.Schemas = append([]SchemaVersion(nil), t.Schemas...)
	if dir := s.Inodes[t.Dir]; dir != nil {
		ti.DirPath = s.pathOf(dir)
	}
	return ti
}

// TableColumnsAt returns a table's columns as of version v, without
// copying its history (Table does).
func (n *Node) TableColumnsAt(project, schema, name string, v int64) ([]Column, bool) {
	n.fsm.mu.RLock()
	defer n.fsm.mu.RUnlock()
	t := n.fsm.s.table(project, schema, name)
	if t == nil {
		return nil, false
	}
	return append([]Column(nil), t.ColumnsAt(v)...), true
}

// Table returns a table by project, schema and name.
func (n *Node) Table(project, schema, name string) (TableInfo, bool) {
	n.fsm.mu.RLock()
	defer n.fsm.mu.RUnlock()
	t := n.fsm.s.table(project, schema, name)
	if t == nil {
		return TableInfo{}, false
	}
	return n.fsm.s.tableInfo(t), true
}

// Tables returns a project's tables ordered by schema and name.
func (n *Node) Tables(project string) []TableInfo {
	n.fsm.mu.RLock()
	defer n.fsm.mu.RUnlock()
	var out []TableInfo
	for _, t := range n.fsm.s.Tables {
		if t.Project == project {
			out = append(out, n.fsm.s.tableInfo(t))
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Schema != out[j].Schema {
			return out[i].Schema < out[j].Schema
		}
		return out[i].Name < out[j].Name
	})
	return out
}

// FileRef is a data file of a table version and where its bytes are.
type FileRef struct {
	DataFile
	Path  string // in the namespace
	Block Block  // empty for a file whose bytes are inline in the catalog
}

// IsInline reports whether the file's bytes live in the catalog.
func (f FileRef) IsInline() bool { return f.Block.ID == "" }

// TableFiles returns the files of a table's version: the current one when
// version is 0 and asOf is 0, the given version, or the version current at
// asOf (Unix nanoseconds).
func (n *Node) TableFiles(project, schema, name string, version, asOf int64) (int64, []FileRef, error) {
	n.fsm.mu.RLock()
	defer n.fsm.mu.RUnlock()
	s := n.fsm.s
	t := s.table(project, schema, name)
	if t == nil {
		return 0, nil, errorf(CodeNotFound, "table %s.%s does not exist", schema, name)
	}
	// Retained versions run from the oldest kept snapshot to the current
	// one; version 0 (created, empty) while nothing has expired.
	minV := t.Version
	if len(t.Snapshots) > 0 {
		minV = t.Snapshots[0].Version
		if minV == 1 {
			minV = 0
		}
	}
	want := t.Version
	switch {
	case version > 0:
		want = version
	case asOf > 0:
		// Commit times increase with versions: the last one at or before asOf.
		want = -1
		if i := sort.Search(len(t.Snapshots), func(i int) bool { return t.Snapshots[i].Time > asOf }); i > 0 {
			want = t.Snapshots[i-1].Version
		}
		if want < 0 {
			if minV != 0 || t.Created > asOf {
				return 0, nil, errorf(CodeNotFound, "table %s.%s has no version at that time", schema, name)
			}
			want = 0
		}
	}
	if want > t.Version {
		return 0, nil, errorf(CodeNotFound, "table %s.%s has no version %d (current: %d)", schema, name, want, t.Version)
	}
	if want < minV {
		return 0, nil, errorf(CodeNotFound, "version %d of table %s.%s has expired (oldest kept: %d)", want, schema, name, minV)
	}
	// Walk back from the current files, undoing each later version.
	files := map[string]DataFile{}
	for _, f := range t.Files {
		files[f.Name] = f
	}
	for i := len(t.Snapshots) - 1; i >= 0 && t.Snapshots[i].Version > want; i-- {
		sn := t.Snapshots[i]
		for _, f := range sn.Added {
			delete(files, f.Name)
		}
		for _, f := range sn.Removed {
			files[f.Name] = f
		}
	}
	dir := s.Inodes[t.Dir]
	out := make([]FileRef, 0, len(files))
	for _, f := range files {
		ref, _ := s.fileRef(dir, f)
		out = append(out, ref)
	}
	// Files are named so that name order is commit order.
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return want, out, nil
}

// HasTable reports whether a table exists, without copying it.
func (n *Node) HasTable(project, schema, name string) bool {
	n.fsm.mu.RLock()
	defer n.fsm.mu.RUnlock()
	return n.fsm.s.table(project, schema, name) != nil
}

// TableHead is what sessions need of a table on every statement: cheap to
// copy, whatever the table's history.
type TableHead struct {
	ID           uint64 // a table dropped and created again gets a new id
	Schema, Name string
	SQL          string
	Columns      []Column
	Version      int64
	Files        int
	Rows         int64
	// InlineFiles are the current files committed inline (small commits),
	// holding InlineRows rows.
	InlineFiles int
	InlineRows  int64
	Feature     *FeatureGroup // shared with the catalog: read only
}

func head(t *Table) TableHead {
	h := TableHead{ID: t.ID, Schema: t.Schema, Name: t.Name, SQL: t.SQL, Columns: t.Columns, Version: t.Version, Files: len(t.Files), Rows: t.Rows, Feature: t.Feature}
	for _, f := range t.Files {
		if f.Inline {
			h.InlineFiles++
			h.InlineRows += f.Rows
		}
	}
	return h
}

// TableHead returns a table's head.
func (n *Node) TableHead(project, schema, name string) (TableHead, bool) {
	n.fsm.mu.RLock()
	defer n.fsm.mu.RUnlock()
	t := n.fsm.s.table(project, schema, name)
	if t == nil {
		return TableHead{}, false
	}
	return head(t), true
}

// TableHeads returns the heads of a project's tables.
func (n *Node) TableHeads(project string) []TableHead {
	n.fsm.mu.RLock()
	defer n.fsm.mu.RUnlock()
	var out []TableHead
	for _, t := range n.fsm.s.Tables {
		if t.Project == project {
			out = append(out, head(t))
		}
	}
	return out
}

// Spill moves inline files' bytes into blocks already written and synced:
// the same content, held on disk instead of in the catalog's memory.
type Spill struct {
	Files []SpillFile `json:"files"`
}

// SpillFile names an inline file and the block now holding its bytes.
type SpillFile struct {
	Inode uint64 `json:"inode"`
	Block Block  `json:"block"`
}

func (s *state) applySpill(p Spill) error {
	for _, f := range p.Files {
		in := s.Inodes[f.Inode]
		if in == nil || in.Block != nil {
			continue // expired or spilled meanwhile: its block is garbage
		}
		if in.Dir || int64(len(in.Inline)) != f.Block.Size || f.Block.ID == "" {
			return errorf(CodeInvalid, "inode %d cannot be spilled to block %q of %d bytes", f.Inode, f.Block.ID, f.Block.Size)
		}
	}
	for _, f := range p.Files {
		if in := s.Inodes[f.Inode]; in != nil && in.Block == nil {
			b := f.Block
			in.Block, in.Inline = &b, nil
		}
	}
	return nil
}

// InlineFile is an inline file's bytes with where it is.
type InlineFile struct {
	Inode uint64
	Path  string
	Data  []byte
}

// StaleInline returns up to limit inline data files of tables that no
// current version uses any more (only retained history does): they are
// worth moving out of the catalog's memory into blocks.
func (n *Node) StaleInline(limit int) []InlineFile {
	n.fsm.mu.RLock()
	defer n.fsm.mu.RUnlock()
	s := n.fsm.s
	var out []InlineFile
	ids := make([]uint64, 0, len(s.Tables))
	for id := range s.Tables {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	for _, id := range ids {
		t := s.Tables[id]
		dir := s.Inodes[t.Dir]
		if dir == nil {
			continue
		}
		current := make(map[string]bool, len(t.Files))
		for _, f := range t.Files {
			current[f.Name] = true
		}
		names := make([]string, 0, len(s.children[dir.ID]))
		for name := range s.children[dir.ID] {
			names = append(names, name)
		}
		sort.Strings(names)
		for _, name := range names {
			in := s.Inodes[s.children[dir.ID][name]]
			if in == nil || in.Dir || in.Block != nil || current[name] {
				continue
			}
			out = append(out, InlineFile{Inode: in.ID, Path: s.pathOf(in), Data: append([]byte(nil), in.Inline...)})
			if len(out) >= limit {
				return out
			}
		}
	}
	return out
}

// TableChanges returns the versions of a table after since, for readers
// that follow a table incrementally. ok is false when since is no longer
// retained (or the table is gone): the reader starts over from the files.
func (n *Node) TableChanges(project, schema, name string, since int64) (id uint64, version int64, changes []TableSnapshot, ok bool) {
	n.fsm.mu.RLock()
	defer n.fsm.mu.RUnlock()
	t := n.fsm.s.table(project, schema, name)
	if t == nil {
		return 0, 0, nil, false
	}
	switch {
	case since == t.Version:
		return t.ID, t.Version, nil, true
	case since > t.Version || len(t.Snapshots) == 0:
		return t.ID, t.Version, nil, false
	case since < t.Snapshots[0].Version && !(since == 0 && t.Snapshots[0].Version == 1):
		return t.ID, t.Version, nil, false
	}
	i := sort.Search(len(t.Snapshots), func(i int) bool { return t.Snapshots[i].Version > since })
	for _, sn := range t.Snapshots[i:] {
		sn.Added = append([]DataFile(nil), sn.Added...)
		sn.Removed = append([]DataFile(nil), sn.Removed...)
		changes = append(changes, sn)
	}
	return t.ID, t.Version, changes, true
}

// TableFile returns one current file of a table.
func (n *Node) TableFile(project, schema, name, file string) (FileRef, bool) {
	n.fsm.mu.RLock()
	defer n.fsm.mu.RUnlock()
	s := n.fsm.s
	t := s.table(project, schema, name)
	if t == nil {
		return FileRef{}, false
	}
	for _, f := range t.Files {
		if f.Name == file {
			return s.fileRef(s.Inodes[t.Dir], f)
		}
	}
	return FileRef{}, false
}

// fileRef finds a table file's inode in the table's directory: its path
// and block. ok is false when the inode is missing.
func (s *state) fileRef(dir *Inode, f DataFile) (FileRef, bool) {
	ref := FileRef{DataFile: f}
	if dir == nil {
		return ref, false
	}
	id, ok := s.children[dir.ID][f.Name]
	if !ok {
		return ref, false
	}
	in := s.Inodes[id]
	ref.Path = s.pathOf(in)
	if in.Block != nil {
		ref.Block = *in.Block
	}
	return ref, true
}

// HasColumn reports whether cols has a column of that name (DuckDB's
// names are case-insensitive).
func HasColumn(cols []Column, name string) bool {
	for _, c := range cols {
		if strings.EqualFold(c.Name, name) {
			return true
		}
	}
	return false
}

// FeatureView is a view joining feature groups point-in-time correctly: its
// definition for DuckDB and what it was made from (lineage).
type FeatureView struct {
	Project string `json:"project"`
	Schema  string `json:"schema"`
	Name    string `json:"name"`
	// SQL is DuckDB's CREATE VIEW statement; Query the SELECT as written.
	SQL   string `json:"sql"`
	Query string `json:"query"`
	// Label is the relation whose rows the view extends; EventTime its
	// column giving each row's time; PointInTime false for PLAIN JOIN.
	Label       string        `json:"label"`
	EventTime   string        `json:"event_time,omitempty"`
	PointInTime bool          `json:"point_in_time"`
	TTL         string        `json:"ttl,omitempty"` // how old a feature value may be (an SQL expression)
	Reads       []FeatureRead `json:"reads"`
	Created     int64         `json:"created"`
}

// FeatureRead is a feature group a view reads, and the versions current
// when the view was made.
type FeatureRead struct {
	Name     string `json:"name"`
	Version  int    `json:"version"`  // the feature group's version
	Snapshot int64  `json:"snapshot"` // the table's version
	AsOf     bool   `json:"as_of"`    // joined as of the label's event time
}

// FeatureViews returns a project's feature views ordered by name.
func (n *Node) FeatureViews(project string) []FeatureView {
	n.fsm.mu.RLock()
	defer n.fsm.mu.RUnlock()
	var out []FeatureView
	for _, v := range n.fsm.s.Views {
		if v.Project == project {
			c := *v
			c.Reads = append([]FeatureRead(nil), v.Reads...)
			out = append(out, c)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// FeatureView returns one feature view.
func (n *Node) FeatureView(project, schema, name string) (FeatureView, bool) {
	n.fsm.mu.RLock()
	defer n.fsm.mu.RUnlock()
	v := n.fsm.s.Views[tableKey(project, schema, name)]
	if v == nil {
		return FeatureView{}, false
	}
	c := *v
	c.Reads = append([]FeatureRead(nil), v.Reads...)
	return c, true
}

// TrainingDataset is one version of a training dataset: immutable files,
// one per split, made from a feature view as of a catalog time.
type TrainingDataset struct {
	Project     string          `json:"project"`
	Name        string          `json:"name"`
	Version     int             `json:"version"`
	FeatureView string          `json:"feature_view"`
	Split       string          `json:"split,omitempty"` // as written in WITH (split = …)
	Seed        int64           `json:"seed"`
	AsOf        int64           `json:"as_of"` // the catalog time the feature groups were read at
	Reads       []FeatureRead   `json:"reads"`
	Files       []TrainingSplit `json:"files"`
	Created     int64           `json:"created"`
	// Transforms are fitted on the dataset's train split and applied by
	// its view and by serving queries that name it.
	Transforms []Transform `json:"transforms,omitempty"`
}

// Transform is a model-dependent transformation of one feature with the
// parameters fitted on a training dataset.
type Transform struct {
	Feature  string `json:"feature"`
	Function string `json:"function"` // min_max_scale, standard_scale, label_encode, one_hot
	// min_max_scale: Min, Max; standard_scale: Mean, Stddev (population);
	// label_encode, one_hot: the distinct values as text, sorted.
	Min        *float64 `json:"min,omitempty"`
	Max        *float64 `json:"max,omitempty"`
	Mean       *float64 `json:"mean,omitempty"`
	Stddev     *float64 `json:"stddev,omitempty"`
	Categories []string `json:"categories,omitempty"`
}

// TrainingSplit is one split's file.
type TrainingSplit struct {
	Split string `json:"split"`
	Path  string `json:"path"`
	Rows  int64  `json:"rows"`
	Bytes int64  `json:"bytes"`
}

// TrainingDatasets returns a project's training datasets, every version,
// ordered by name and version.
func (n *Node) TrainingDatasets(project string) []TrainingDataset {
	n.fsm.mu.RLock()
	defer n.fsm.mu.RUnlock()
	var out []TrainingDataset
	for _, td := range n.fsm.s.Training {
		if td.Project == project {
			c := *td
			c.Reads = append([]FeatureRead(nil), td.Reads...)
			c.Files = append([]TrainingSplit(nil), td.Files...)
			c.Transforms = append([]Transform(nil), td.Transforms...)
			out = append(out, c)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Name != out[j].Name {
			return out[i].Name < out[j].Name
		}
		return out[i].Version < out[j].Version
	})
	return out
}

// HasStatistics reports whether a table version's statistics are recorded.
func (n *Node) HasStatistics(project, schema, name string, version int64) bool {
	n.fsm.mu.RLock()
	defer n.fsm.mu.RUnlock()
	t := n.fsm.s.table(project, schema, name)
	if t == nil {
		return false
	}
	for i := len(t.Snapshots) - 1; i >= 0; i-- {
		if t.Snapshots[i].Version == version {
			return t.Snapshots[i].Stats != nil
		}
	}
	return false
}
