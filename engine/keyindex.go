package engine

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"strings"
	"sync"

	"github.com/hopsql/hopsql/catalog"
	"github.com/hopsql/hopsql/storage"
)

// Unique keys are checked across a table's files (storage.go). Asking
// DuckDB to look every new key up in every file costs milliseconds per
// statement; instead each node keeps, per keyed table, the hashes of the
// keys in the table's current files and which file holds each. A new row's
// key whose hash is absent cannot be a duplicate; a present one is checked
// exactly in the one file the hash names. The index follows the catalog:
// files a version removed take their keys along, files it added are read
// once (JSON-lines files from the catalog's memory, Parquet ones through
// DuckDB), and a compaction's merged file inherits its sources' keys
// without being read.

// maxKeyIndexRows bounds an index (about 40 bytes a row); larger tables
// are checked by DuckDB lookups alone.
const maxKeyIndexRows = 2 << 20

// keyIndex is the key hashes of one unique key of one table version.
type keyIndex struct {
	mu      sync.Mutex
	tableID uint64
	version int64
	seed    maphash.Seed
	slots   []string          // file names by slot
	free    []uint32          // unused slots
	bySlot  map[string]uint32 // file name → slot
	hashes  map[uint32][]uint64
	owner   map[uint64]uint32 // key hash → slot of the file holding it
	multi   map[uint64]int    // hash → how many more files hold it (collisions)
	rows    int
	tooBig  bool
}

func newKeyIndex() *keyIndex {
	x := &keyIndex{seed: maphash.MakeSeed()}
	x.reset()
	return x
}

// hashKey hashes a key's text values; ok is false when one is NULL (NULLs
// are never equal, so such a row conflicts with nothing).
func (x *keyIndex) hashKey(vals []*string) (uint64, bool) {
	var h maphash.Hash
	h.SetSeed(x.seed)
	var n [8]byte
	for _, v := range vals {
		if v == nil {
			return 0, false
		}
		l := len(*v)
		for i := range n {
			n[i] = byte(l >> (8 * i))
		}
		h.Write(n[:])
		h.WriteString(*v)
	}
	return h.Sum64(), true
}

func (x *keyIndex) add(name string, hs []uint64) {
	var slot uint32
	if k := len(x.free); k > 0 {
		slot, x.free = x.free[k-1], x.free[:k-1]
		x.slots[slot] = name
	} else {
		slot = uint32(len(x.slots))
		x.slots = append(x.slots, name)
	}
	x.bySlot[name] = slot
	x.hashes[slot] = hs
	for _, h := range hs {
		if _, taken := x.owner[h]; taken {
			// Two files hold this hash (a collision): which one is not
			// kept; checks of it look at every file.
			x.owner[h] = ambiguous
			x.multi[h]++
			continue
		}
		x.owner[h] = slot
	}
	x.rows += len(hs)
}

// ambiguous marks a hash more than one file holds.
const ambiguous = ^uint32(0)

func (x *keyIndex) remove(name string) {
	slot, ok := x.bySlot[name]
	if !ok {
		return
	}
	hs := x.hashes[slot]
	for _, h := range hs {
		if x.multi[h] > 0 {
			// Another file still holds this hash; it stays ambiguous.
			if x.multi[h]--; x.multi[h] == 0 {
				delete(x.multi, h)
			}
			continue
		}
		if x.owner[h] == slot || x.owner[h] == ambiguous {
			delete(x.owner, h)
		}
	}
	delete(x.bySlot, name)
	delete(x.hashes, slot)
	x.slots[slot] = ""
	x.free = append(x.free, slot)
	x.rows -= len(hs)
}

// candidates returns the files among check that may hold one of keys;
// all of check when a hash is ambiguous.
func (x *keyIndex) candidates(keys []uint64, check map[string]bool) (map[string]bool, bool) {
	out := map[string]bool{}
	for _, h := range keys {
		if slot, ok := x.owner[h]; ok {
			if slot == ambiguous {
				return nil, false
			}
			if name := x.slots[slot]; check[name] {
				out[name] = true
			}
		}
	}
	return out, true
}

// keyIndexFor returns the engine's index of a table's unique key.
func (e *Engine) keyIndexFor(project, name string, key []catalog.Column) *keyIndex {
	var b strings.Builder
	b.WriteString(project + "\x00" + name)
	for _, c := range key {
		b.WriteString("\x00" + c.Name + "\x00" + c.Type)
	}
	k := b.String()
	e.keyIdxMu.Lock()
	defer e.keyIdxMu.Unlock()
	x := e.keyIdx[k]
	if x == nil {
		x = newKeyIndex()
		e.keyIdx[k] = x
	}
	return x
}

// syncKeyIndex brings an index to the table's current version. It returns
// false when the table is too large to index.
func (s *Session) syncKeyIndex(ctx context.Context, x *keyIndex, name string, key []catalog.Column) (bool, error) {
	id, version, changes, ok := s.e.catalog.TableChanges(s.db.name, "main", name, x.version)
	if x.tableID != id || !ok {
		x.reset()
		x.tableID, x.version = id, -1
	}
	if x.version == version {
		return !x.tooBig, nil
	}
	if x.version < 0 || x.tooBig {
		return s.rebuildKeyIndex(ctx, x, name, key)
	}
	// Follow the versions since the index's: net files added and removed.
	added, removed, merged := netFileChanges(changes)
	rows := int64(x.rows)
	for _, a := range added {
		rows += a.Rows
	}
	if rows > maxKeyIndexRows {
		return s.rebuildKeyIndex(ctx, x, name, key)
	}
	hashes := map[string][]uint64{}
	for fname := range added {
		if srcs, ok := merged[fname]; ok && x.holdsAll(srcs) {
			var hs []uint64
			for _, src := range srcs {
				hs = append(hs, x.hashes[x.bySlot[src]]...)
			}
			hashes[fname] = hs
			continue
		}
		f, ok := s.e.catalog.TableFile(s.db.name, "main", name, fname)
		if !ok {
			return s.rebuildKeyIndex(ctx, x, name, key)
		}
		hs, err := s.fileKeyHashes(ctx, x, f, name, key)
		if err != nil {
			return false, err
		}
		hashes[fname] = hs
	}
	for fname := range removed {
		x.remove(fname)
	}
	for fname, hs := range hashes {
		x.add(fname, hs)
	}
	x.version = version
	return true, nil
}

// netFileChanges sums up a run of table versions (catalog.TableChanges):
// the files added that are still there, the files removed that were there
// before, and, for each compaction's file, the files it holds exactly the
// rows of.
func netFileChanges(changes []catalog.TableSnapshot) (added map[string]catalog.DataFile, removed map[string]bool, merged map[string][]string) {
	added, removed, merged = map[string]catalog.DataFile{}, map[string]bool{}, map[string][]string{}
	for _, ch := range changes {
		for _, r := range ch.Removed {
			if _, fresh := added[r.Name]; fresh {
				delete(added, r.Name)
			} else {
				removed[r.Name] = true
			}
		}
		for _, a := range ch.Added {
			added[a.Name] = a
		}
		if ch.Op == "COMPACT" && len(ch.Added) == 1 {
			for _, r := range ch.Removed {
				merged[ch.Added[0].Name] = append(merged[ch.Added[0].Name], r.Name)
			}
		}
	}
	return added, removed, merged
}

// rebuildKeyIndex reads the keys of every current file.
func (s *Session) rebuildKeyIndex(ctx context.Context, x *keyIndex, name string, key []catalog.Column) (bool, error) {
	id := x.tableID
	x.reset()
	x.tableID, x.version = id, -1
	v, files, err := s.e.catalog.TableFiles(s.db.name, "main", name, 0, 0)
	if err != nil {
		return false, err
	}
	var total int64
	for _, f := range files {
		total += f.Rows
	}
	if total > maxKeyIndexRows {
		x.version, x.tooBig = v, true
		return false, nil
	}
	for _, f := range files {
		hs, err := s.fileKeyHashes(ctx, x, f, name, key)
		if err != nil {
			return false, err
		}
		x.add(f.Name, hs)
	}
	x.version = v
	return true, nil
}

// reset empties the index (its lock and seed stay).
func (x *keyIndex) reset() {
	x.slots, x.free, x.rows, x.tooBig = nil, nil, 0, false
	x.bySlot, x.hashes = map[string]uint32{}, map[uint32][]uint64{}
	x.owner, x.multi = map[uint64]uint32{}, map[uint64]int{}
}

func (x *keyIndex) holdsAll(names []string) bool {
	for _, n := range names {
		if _, ok := x.bySlot[n]; !ok {
			return false
		}
	}
	return len(names) > 0
}

// fileKeyHashes reads the keys of one file.
func (s *Session) fileKeyHashes(ctx context.Context, x *keyIndex, f catalog.FileRef, name string, key []catalog.Column) ([]uint64, error) {
	t, ok := s.e.catalog.TableHead(s.db.name, "main", name)
	if !ok {
		return nil, nil
	}
	var hs []uint64
	if storage.IsJSON(f.Name) && f.IsInline() {
		_, data, err := s.e.catalog.ReadInline(f.Path)
		if err != nil {
			return nil, err
		}
		rows, err := storage.DecodeJSONRows(data, key)
		if err != nil {
			return nil, fmt.Errorf("keys of %s: %w", f.Path, err)
		}
		for _, r := range rows {
			if h, ok := x.hashKey(r); ok {
				hs = append(hs, h)
			}
		}
		return hs, nil
	}
	read, err := s.readSQL(t.Columns, []catalog.FileRef{f}, storage.ReadOptions{})
	if err != nil {
		return nil, err
	}
	rows, err := s.conn.QueryContext(ctx, "SELECT "+keyTextList(key, "")+" FROM ("+read+") AS f", nil)
	if err != nil {
		return nil, fmt.Errorf("keys of %s: %w", f.Path, err)
	}
	defer rows.Close()
	err = scanKeyHashes(rows, x, len(key), func(h uint64) { hs = append(hs, h) })
	return hs, err
}

// keyTextList selects a key's columns in their text form.
func keyTextList(key []catalog.Column, prefix string) string {
	sel := make([]string, len(key))
	for i, c := range key {
		sel[i] = storage.TextExpr(c, prefix+quoteIdent(c.Name))
	}
	return strings.Join(sel, ", ")
}

func scanKeyHashes(rows driver.Rows, x *keyIndex, n int, fn func(uint64)) error {
	vals := make([]driver.Value, n)
	texts := make([]*string, n)
	for {
		if err := rows.Next(vals); err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return fmt.Errorf("read keys: %w", err)
		}
		for i, v := range vals {
			texts[i] = nil
			if str, ok := v.(string); ok {
				texts[i] = &str
			}
		}
		if h, ok := x.hashKey(texts); ok {
			fn(h)
		}
	}
}

// carrierKeyHashes hashes the keys of a carrier's rows.
func (s *Session) carrierKeyHashes(ctx context.Context, x *keyIndex, name string, key []catalog.Column) ([]uint64, error) {
	rows, err := s.queryInternal(ctx, "SELECT "+keyTextList(key, "")+" FROM "+s.carrierName(name))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var hs []uint64
	err = scanKeyHashes(rows, x, len(key), func(h uint64) { hs = append(hs, h) })
	return hs, err
}

// indexedCandidates narrows the files a unique key must be checked in to
// those the key index names. ok is false when the index cannot answer
// (the key's types have no exact text form, or the table is too large).
func (s *Session) indexedCandidates(ctx context.Context, name string, k uniqueKey, files []catalog.FileRef) (out []catalog.FileRef, ok bool, err error) {
	if s.stx != nil && (s.stx.created[name] || s.stx.altered[name]) {
		return nil, false, nil
	}
	t, found := s.e.catalog.TableHead(s.db.name, "main", name)
	if !found {
		return nil, false, nil
	}
	key := make([]catalog.Column, 0, len(k.cols))
	for _, kc := range k.cols {
		for _, c := range t.Columns {
			if strings.EqualFold(c.Name, kc) {
				key = append(key, c)
			}
		}
	}
	if len(key) != len(k.cols) || !smallCommitOK(key) {
		return nil, false, nil
	}
	for _, c := range key {
		if c.Type == "FLOAT" || c.Type == "DOUBLE" {
			return nil, false, nil // -0.0 = 0.0, but their texts differ: DuckDB compares
		}
	}
	x := s.e.keyIndexFor(s.db.name, name, key)
	x.mu.Lock()
	defer x.mu.Unlock()
	if indexed, err := s.syncKeyIndex(ctx, x, name, key); err != nil || !indexed {
		return nil, false, err
	}
	// The carrier's keys are read once per write statement.
	var p *pendingTable
	if s.stx != nil {
		p = s.stx.tables[name]
	}
	kid := strings.Join(k.cols, "\x00")
	hs, cached := p.cachedKeyHashes(kid)
	if !cached {
		if hs, err = s.carrierKeyHashes(ctx, x, name, key); err != nil {
			return nil, false, err
		}
		if p != nil {
			if p.keyHashes == nil {
				p.keyHashes = map[string][]uint64{}
			}
			p.keyHashes[kid] = hs
		}
	}
	check := make(map[string]bool, len(files))
	for _, f := range files {
		if _, ok := x.bySlot[f.Name]; !ok {
			// A file of this transaction's snapshot that the current
			// version no longer has (compacted, rewritten): the index
			// cannot speak for it, so every file is checked exactly.
			return files, true, nil
		}
		check[f.Name] = true
	}
	hit, exact := x.candidates(hs, check)
	if !exact {
		return files, true, nil
	}
	for _, f := range files {
		if hit[f.Name] {
			out = append(out, f)
		}
	}
	return out, true, nil
}

func (p *pendingTable) cachedKeyHashes(kid string) ([]uint64, bool) {
	if p == nil {
		return nil, false
	}
	hs, ok := p.keyHashes[kid]
	return hs, ok
}
