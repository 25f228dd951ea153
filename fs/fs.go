package fs

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/hopsql/hopsql/catalog"
)

// FileInfo describes a file or directory (the catalog's view of an inode).
type FileInfo = catalog.FileInfo

// FS is the filesystem of one node: metadata through the catalog, block
// bytes under <data>/blocks.
type FS struct {
	node   *catalog.Node
	blocks string // block files, fanned out by the first two hex digits
	cache  string // inline files materialised for readers that need a path
	log    *slog.Logger
	scan   *ScanCache // uncompressed copies of blocks for scans; nil: none
}

// Open returns the filesystem over node, keeping blocks under dataDir.
func Open(node *catalog.Node, dataDir string, log *slog.Logger) (*FS, error) {
	if log == nil {
		log = slog.Default()
	}
	f := &FS{node: node, blocks: filepath.Join(dataDir, "blocks"), cache: filepath.Join(dataDir, "fs-cache"), log: log}
	for _, d := range []string{f.blocks, f.cache, f.TempDir()} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return nil, fmt.Errorf("create %s: %w", d, err)
		}
	}
	return f, nil
}

// Stat describes path.
func (f *FS) Stat(ctx context.Context, p string) (FileInfo, error) { return f.node.Stat(p) }

// List lists a directory in name order (a file lists itself).
func (f *FS) List(ctx context.Context, p string) ([]FileInfo, error) { return f.node.List(p) }

// Walk visits path and everything below it, parents first.
func (f *FS) Walk(ctx context.Context, p string, fn func(FileInfo)) error { return f.node.Walk(p, fn) }

// Mkdirs creates a directory and its missing parents.
func (f *FS) Mkdirs(ctx context.Context, p, owner string, mode uint32) (FileInfo, error) {
	if _, err := f.node.Propose(ctx, catalog.CmdMkdirs, catalog.Mkdirs{Path: p, Owner: owner, Mode: mode}); err != nil {
		return FileInfo{}, err
	}
	return f.node.Stat(p)
}

// CreateOptions are the options of Create.
type CreateOptions struct {
	Owner     string
	Mode      uint32
	Overwrite bool
}

// Create writes a file from r and makes it visible in one catalog entry.
// Content up to catalog.InlineMax bytes is stored inline; larger content
// goes to a new block file that is fsynced before the entry is proposed, so
// a crash can leave an orphan block (collected later) but never a visible
// file whose bytes are missing.
func (f *FS) Create(ctx context.Context, p string, r io.Reader, opt CreateOptions) (FileInfo, error) {
	if _, err := catalog.SplitPath(p); err != nil {
		return FileInfo{}, err
	}
	head := make([]byte, catalog.InlineMax+1)
	n, err := io.ReadFull(r, head)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return FileInfo{}, fmt.Errorf("read %s: %w", p, err)
	}
	cmd := catalog.CreateFile{Path: p, Owner: opt.Owner, Mode: opt.Mode, Overwrite: opt.Overwrite}
	if n <= catalog.InlineMax {
		cmd.Inline = append([]byte{}, head[:n]...)
	} else {
		b, err := f.writeBlock(ctx, io.MultiReader(bytes.NewReader(head[:n]), r), blockExt(p))
		if err != nil {
			return FileInfo{}, err
		}
		cmd.Block = b
	}
	if _, err := f.node.Propose(ctx, catalog.CmdCreateFile, cmd); err != nil {
		if cmd.Block != nil && catalog.CodeOf(err) != "" {
			// Refused for certain: the block is nobody's.
			os.Remove(f.blockPath(cmd.Block.ID))
		}
		return FileInfo{}, err
	}
	return f.node.Stat(p)
}

// WriteFile is Create from a byte slice.
func (f *FS) WriteFile(ctx context.Context, p string, data []byte, opt CreateOptions) (FileInfo, error) {
	return f.Create(ctx, p, bytes.NewReader(data), opt)
}

// Import moves a local file (written by DuckDB, say) into the namespace at
// p without copying it when it is large: the file becomes a block.
func (f *FS) Import(ctx context.Context, p, local string, opt CreateOptions) (FileInfo, error) {
	in, err := os.Open(local)
	if err != nil {
		return FileInfo{}, fmt.Errorf("import %s: %w", local, err)
	}
	defer in.Close()
	return f.Create(ctx, p, in, opt)
}

// AdoptFile makes a finished local file the content of a new file at p,
// always as a block (even when small): readers may then name its block
// path for as long as the file exists.
func (f *FS) AdoptFile(ctx context.Context, p, local string, opt CreateOptions) (FileInfo, error) {
	if _, err := catalog.SplitPath(p); err != nil {
		return FileInfo{}, err
	}
	b, err := f.AdoptBlock(ctx, local, blockExt(p))
	if err != nil {
		return FileInfo{}, err
	}
	cmd := catalog.CreateFile{Path: p, Owner: opt.Owner, Mode: opt.Mode, Overwrite: opt.Overwrite, Block: b}
	if _, err := f.node.Propose(ctx, catalog.CmdCreateFile, cmd); err != nil {
		if catalog.CodeOf(err) != "" {
			os.Remove(f.blockPath(b.ID))
		}
		return FileInfo{}, err
	}
	return f.node.Stat(p)
}

// BlockPath is where a block's bytes are on this node.
func (f *FS) BlockPath(id string) string { return f.blockPath(id) }

// AdoptBlock turns a finished local file (DuckDB's output, say) into a new
// block without copying it: it is fsynced, moved under the blocks directory
// (same filesystem) and the directory fsynced. The caller then references
// the block in a catalog entry; until then it is an orphan that garbage
// collection removes after its grace period.
func (f *FS) AdoptBlock(ctx context.Context, local, ext string) (*catalog.Block, error) {
	id := catalog.NewRequestID() + ext
	final := f.blockPath(id)
	file, err := os.OpenFile(local, os.O_RDWR, 0)
	if err != nil {
		return nil, fmt.Errorf("adopt %s: %w", local, err)
	}
	st, err := file.Stat()
	if err == nil {
		err = file.Sync()
	}
	if cerr := file.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.MkdirAll(filepath.Dir(final), 0o700)
	}
	if err == nil {
		err = os.Rename(local, final)
	}
	if err == nil {
		err = syncDir(filepath.Dir(final))
	}
	if err != nil {
		return nil, fmt.Errorf("adopt %s: %w", local, err)
	}
	return &catalog.Block{ID: id, Size: st.Size()}, nil
}

// TempDir is a directory on the blocks' filesystem for files about to be
// adopted.
func (f *FS) TempDir() string { return filepath.Join(filepath.Dir(f.blocks), "tmp") }

func (f *FS) blockPath(id string) string {
	return filepath.Join(f.blocks, id[:2], id)
}

// blockExt keeps a file's extension on its block ("….parquet", "….csv.gz"):
// DuckDB and other readers pick formats and compression by it.
func blockExt(p string) string {
	base := path.Base(p)
	ext := path.Ext(base)
	if inner := path.Ext(strings.TrimSuffix(base, ext)); inner != "" && (ext == ".gz" || ext == ".zst") {
		ext = inner + ext
	}
	if len(ext) > 16 {
		return ""
	}
	for _, c := range ext[min(1, len(ext)):] {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.') {
			return ""
		}
	}
	return ext
}

// writeBlock streams r into a new block file, fsyncs it and its directory.
func (f *FS) writeBlock(ctx context.Context, r io.Reader, ext string) (*catalog.Block, error) {
	id := catalog.NewRequestID() + ext // 128 random bits, hex
	final := f.blockPath(id)
	if err := os.MkdirAll(filepath.Dir(final), 0o700); err != nil {
		return nil, fmt.Errorf("create block directory: %w", err)
	}
	tmp := final + ".tmp"
	out, err := os.OpenFile(tmp, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return nil, fmt.Errorf("create block: %w", err)
	}
	h := sha256.New()
	size, err := io.Copy(io.MultiWriter(out, h), ctxReader{ctx, r})
	if err == nil {
		err = out.Sync()
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, final)
	}
	if err == nil {
		err = syncDir(filepath.Dir(final))
	}
	if err != nil {
		os.Remove(tmp)
		os.Remove(final)
		return nil, fmt.Errorf("write block: %w", err)
	}
	return &catalog.Block{ID: id, Size: size, SHA256: hex.EncodeToString(h.Sum(nil))}, nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// ctxReader stops a long copy when ctx ends.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// Open opens a file for reading.
func (f *FS) Open(ctx context.Context, p string) (io.ReadSeekCloser, FileInfo, error) {
	fi, data, err := f.node.ReadInline(p)
	if err != nil {
		return nil, FileInfo{}, err
	}
	if fi.Block == nil {
		return nopCloser{bytes.NewReader(data)}, fi, nil
	}
	file, err := os.Open(f.blockPath(fi.Block.ID))
	if err != nil {
		return nil, FileInfo{}, fmt.Errorf("open block of %s: %w", p, err)
	}
	return file, fi, nil
}

type nopCloser struct{ *bytes.Reader }

func (nopCloser) Close() error { return nil }

// ReadFile returns a whole file.
func (f *FS) ReadFile(ctx context.Context, p string) ([]byte, error) {
	fi, data, err := f.node.ReadInline(p)
	if err != nil {
		return nil, err
	}
	if fi.Block == nil {
		return data, nil // already the caller's copy
	}
	b, err := os.ReadFile(f.blockPath(fi.Block.ID))
	if err != nil {
		return nil, fmt.Errorf("read block of %s: %w", p, err)
	}
	return b, nil
}

// LocalPath returns a path on this machine holding p's current bytes, for
// readers such as DuckDB that open files by name. Block files are returned
// as they are (they are immutable); inline files are materialised once per
// version into the cache.
func (f *FS) LocalPath(ctx context.Context, p string) (string, error) {
	fi, data, err := f.node.ReadInline(p)
	if err != nil {
		return "", err
	}
	if fi.Block != nil {
		return f.blockPath(fi.Block.ID), nil
	}
	// The extension is kept: readers sniff formats and compression by it.
	name := fmt.Sprintf("%d-%d%s", fi.ID, fi.Mtime, path.Ext(fi.Name))
	local := filepath.Join(f.cache, name)
	if _, err := os.Stat(local); err == nil {
		return local, nil
	}
	if err := catalog.WriteFileAtomic(local, data, 0o600); err != nil {
		return "", fmt.Errorf("materialise %s: %w", p, err)
	}
	return local, nil
}

// SpillInline moves up to limit inline table files that only retained
// history still uses into blocks, keeping the catalog's memory for the
// current versions' small files (storage/DESIGN.md). It returns how many
// it moved; their blocks are written and synced before the one entry that
// repoints them.
func (f *FS) SpillInline(ctx context.Context, limit int) (int, error) {
	stale := f.node.StaleInline(limit)
	if len(stale) == 0 {
		return 0, nil
	}
	var sp catalog.Spill
	for _, in := range stale {
		b, err := f.writeBlock(ctx, bytes.NewReader(in.Data), path.Ext(in.Path))
		if err != nil {
			return 0, fmt.Errorf("spill %s: %w", in.Path, err)
		}
		sp.Files = append(sp.Files, catalog.SpillFile{Inode: in.Inode, Block: *b})
	}
	if _, err := f.node.Propose(ctx, catalog.CmdSpill, sp); err != nil {
		return 0, fmt.Errorf("spill: %w", err) // the blocks are orphans: collected later
	}
	return len(sp.Files), nil
}

// DataFilePath returns the local path of a table data file's block.
// Inline files (small commits') are read through InlineData instead.
func (f *FS) DataFilePath(ref catalog.FileRef) (string, error) {
	if ref.IsInline() {
		return "", fmt.Errorf("%s is inline: it has no block", ref.Path)
	}
	return f.blockPath(ref.Block.ID), nil
}

// InlineData returns the bytes of an inline table data file.
func (f *FS) InlineData(ref catalog.FileRef) ([]byte, error) {
	fi, data, err := f.node.ReadInline(ref.Path)
	if err == nil && fi.Block != nil {
		// Spilled since the reference was taken: the same bytes, in a block.
		return os.ReadFile(f.blockPath(fi.Block.ID))
	}
	return data, err
}

// Glob returns the files matching a pattern whose components may hold
// path.Match wildcards ("/Projects/p/Warehouse/t/*.parquet"), in path order.
func (f *FS) Glob(ctx context.Context, pattern string) ([]FileInfo, error) {
	parts, err := catalog.SplitPath(pattern)
	if err != nil {
		return nil, err
	}
	cur := []string{"/"}
	for i, part := range parts {
		var next []string
		for _, dir := range cur {
			child := strings.TrimSuffix(dir, "/") + "/" + part
			if !strings.ContainsAny(part, "*?[") {
				if _, err := f.node.Stat(child); err == nil {
					next = append(next, child)
				}
				continue
			}
			list, err := f.node.List(dir)
			if err != nil {
				continue
			}
			for _, fi := range list {
				if ok, err := path.Match(part, fi.Name); err != nil {
					return nil, fmt.Errorf("bad pattern %q: %w", pattern, err)
				} else if ok && (fi.Dir || i == len(parts)-1) {
					next = append(next, fi.Path)
				}
			}
		}
		cur = next
	}
	var out []FileInfo
	for _, p := range cur {
		fi, err := f.node.Stat(p)
		if err == nil && !fi.Dir {
			out = append(out, fi)
		}
	}
	return out, nil
}

// Rename moves src to dst atomically (one catalog entry, whatever the size
// of the tree). When dst is an existing directory, src moves into it, as
// with mv(1) and HDFS.
func (f *FS) Rename(ctx context.Context, src, dst string) error {
	if fi, err := f.node.Stat(dst); err == nil && fi.Dir {
		srcParts, err := catalog.SplitPath(src)
		if err != nil {
			return err
		}
		if len(srcParts) > 0 {
			dst = strings.TrimSuffix(fi.Path, "/") + "/" + srcParts[len(srcParts)-1]
		}
	}
	_, err := f.node.Propose(ctx, catalog.CmdRename, catalog.Rename{Src: src, Dst: dst})
	return err
}

// Delete removes a file or empty directory, or a whole tree with recursive.
// Block files are removed by CollectGarbage.
func (f *FS) Delete(ctx context.Context, p string, recursive bool) error {
	_, err := f.node.Propose(ctx, catalog.CmdDelete, catalog.Delete{Path: p, Recursive: recursive})
	return err
}

// SetXattr sets an extended attribute (flag: catalog.XattrCreate, …).
func (f *FS) SetXattr(ctx context.Context, p, name string, value []byte, flag int) error {
	_, err := f.node.Propose(ctx, catalog.CmdSetXattr, catalog.SetXattr{Path: p, Name: name, Value: value, Flag: flag})
	return err
}

// RemoveXattr removes an extended attribute.
func (f *FS) RemoveXattr(ctx context.Context, p, name string) error {
	_, err := f.node.Propose(ctx, catalog.CmdRemoveXattr, catalog.RemoveXattr{Path: p, Name: name})
	return err
}

// SetQuota sets a project's byte and inode quotas (0: unlimited).
func (f *FS) SetQuota(ctx context.Context, project string, bytes, inodes int64) error {
	_, err := f.node.Propose(ctx, catalog.CmdSetQuota, catalog.SetQuota{Project: project, Bytes: bytes, Inodes: inodes})
	return err
}

// CollectGarbage removes block files no inode references and unfinished
// block writes, once they are older than minAge (younger ones may belong to
// a write whose catalog entry is still on its way), and cached copies of
// inline files. It returns how many files it removed.
func (f *FS) CollectGarbage(ctx context.Context, minAge time.Duration) (int, error) {
	live := f.node.BlockIDs()
	cutoff := time.Now().Add(-minAge)
	removed := 0
	err := filepath.WalkDir(f.blocks, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		id := strings.TrimSuffix(d.Name(), ".tmp")
		if live[id] && !strings.HasSuffix(d.Name(), ".tmp") {
			return nil
		}
		info, err := d.Info()
		if err != nil || info.ModTime().After(cutoff) {
			return nil
		}
		if err := os.Remove(p); err == nil {
			removed++
		}
		return nil
	})
	if err != nil {
		return removed, fmt.Errorf("collect blocks: %w", err)
	}
	if f.scan != nil {
		// After the blocks: a copy goes only once its block is gone.
		removed += f.scan.drop(f.blockExists)
	}
	ents, _ := os.ReadDir(f.cache)
	for _, e := range ents {
		if info, err := e.Info(); err == nil && info.ModTime().Before(cutoff) {
			if os.Remove(filepath.Join(f.cache, e.Name())) == nil {
				removed++
			}
		}
	}
	return removed, nil
}

// RunGarbageCollector collects every interval until ctx ends.
func (f *FS) RunGarbageCollector(ctx context.Context, interval, minAge time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if n, err := f.CollectGarbage(ctx, minAge); err != nil {
			f.log.Warn("fs garbage collection", "err", err)
		} else if n > 0 {
			f.log.Debug("fs garbage collection", "removed", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
