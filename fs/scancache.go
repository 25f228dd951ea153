package fs

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/hopsql/hopsql/catalog"
)

// ScanCache keeps node-local, uncompressed copies of table data blocks for
// scans (fs/DESIGN.md): blocks are immutable, so a copy is valid as long as
// its block exists, and reading plain pages spares the ZSTD decoding that
// dominates a scan. The engine fills it in the background within a byte
// budget; an entry goes when garbage collection removes its block, never
// before, so a path handed to a reader stays valid as long as the block's.
type ScanCache struct {
	dir    string
	budget int64

	mu       sync.Mutex
	entries  map[string]int64 // block id → bytes of its copy
	inflight map[string]bool  // copies being made
	used     int64
}

// openScanCache registers the copies a previous run left whose blocks still
// exist, and removes the rest (and unfinished copies).
func openScanCache(dir string, budget int64, blockExists func(id string) bool) (*ScanCache, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create %s: %w", dir, err)
	}
	c := &ScanCache{dir: dir, budget: budget, entries: map[string]int64{}, inflight: map[string]bool{}}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", dir, err)
	}
	for _, e := range ents {
		p := filepath.Join(dir, e.Name())
		info, err := e.Info()
		if err != nil || strings.HasSuffix(e.Name(), ".tmp") || !blockExists(e.Name()) || budget <= 0 {
			os.Remove(p)
			continue
		}
		c.entries[e.Name()] = info.Size()
		c.used += info.Size()
	}
	return c, nil
}

// Path returns the copy of a block, if there is one.
func (c *ScanCache) Path(id string) (string, bool) {
	c.mu.Lock()
	_, ok := c.entries[id]
	c.mu.Unlock()
	if !ok {
		return "", false
	}
	return filepath.Join(c.dir, id), true
}

// Has reports whether a block has a copy.
func (c *ScanCache) Has(id string) bool {
	_, ok := c.Path(id)
	return ok
}

// Room reports whether a copy of about size bytes fits the budget.
func (c *ScanCache) Room(size int64) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.budget > 0 && c.used+size <= c.budget
}

// Add makes a copy of a block: write fills the given path, which is then
// fsynced (a torn copy must never be read) and put in place.
func (c *ScanCache) Add(id string, write func(path string) error) error {
	c.mu.Lock()
	_, have := c.entries[id]
	if have || c.inflight[id] {
		c.mu.Unlock()
		return nil // made, or being made by another caller
	}
	c.inflight[id] = true
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		delete(c.inflight, id)
		c.mu.Unlock()
	}()
	tmp := filepath.Join(c.dir, id+".tmp")
	os.Remove(tmp)
	if err := write(tmp); err != nil {
		os.Remove(tmp)
		return err
	}
	f, err := os.Open(tmp)
	if err != nil {
		return fmt.Errorf("scan cache: %w", err)
	}
	info, err := f.Stat()
	if err == nil {
		err = f.Sync()
	}
	f.Close()
	if err == nil {
		err = os.Rename(tmp, filepath.Join(c.dir, id))
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("scan cache: %w", err)
	}
	c.mu.Lock()
	c.entries[id] = info.Size()
	c.used += info.Size()
	c.mu.Unlock()
	return nil
}

// drop removes the copies of blocks that are gone.
func (c *ScanCache) drop(exists func(id string) bool) int {
	c.mu.Lock()
	var gone []string
	for id, n := range c.entries {
		if !exists(id) {
			gone = append(gone, id)
			delete(c.entries, id)
			c.used -= n
		}
	}
	c.mu.Unlock()
	for _, id := range gone {
		os.Remove(filepath.Join(c.dir, id))
	}
	return len(gone)
}

// Stats returns the number of copies and their bytes.
func (c *ScanCache) Stats() (entries int, bytes, budget int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.entries), c.used, c.budget
}

// ScanPath is where a scan reads a data file: its uncompressed copy when
// there is one, else its block.
func (f *FS) ScanPath(ref catalog.FileRef) (string, error) {
	if !ref.IsInline() && f.scan != nil {
		if p, ok := f.scan.Path(ref.Block.ID); ok {
			return p, nil
		}
	}
	return f.DataFilePath(ref)
}

// EnableScanCache starts the scan cache under the data directory with a
// byte budget (0 disables it and removes what is there).
func (f *FS) EnableScanCache(budget int64) error {
	c, err := openScanCache(filepath.Join(filepath.Dir(f.blocks), "scan-cache"), budget, f.blockExists)
	if err != nil {
		return err
	}
	f.scan = c
	return nil
}

func (f *FS) blockExists(id string) bool {
	_, err := os.Stat(f.blockPath(id))
	return err == nil
}

// ScanCache returns the scan cache (nil when disabled).
func (f *FS) ScanCache() *ScanCache { return f.scan }
