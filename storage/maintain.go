package storage

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/hopsql/hopsql/catalog"
	"github.com/hopsql/hopsql/fs"
)

// Conn is the part of a DuckDB connection maintenance needs.
type Conn interface {
	driver.ExecerContext
	driver.QueryerContext
}

// Maintainer compacts and expires one project's tables.
type Maintainer struct {
	Node    *catalog.Node
	FS      *fs.FS
	Project string
	Conn    Conn
	Log     *slog.Logger
	// Retention is how long a version stays readable by time travel after
	// a newer one replaced it.
	Retention time.Duration
	// SmallFile is the size under which files are merged; MinFiles how many
	// small files a table needs before background compaction merges them.
	SmallFile int64
	MinFiles  int
	// Compression is the Parquet codec of merged files (default zstd).
	Compression string
	// Held, when set, names the files of a table that open transactions
	// rewrite (all: every one); compaction leaves them alone.
	Held func(project, table string) (files map[string]bool, all bool)
	// Compacted, when set, is called after each compaction commits.
	Compacted func()
}

func (m *Maintainer) defaults() {
	if m.SmallFile == 0 {
		m.SmallFile = 64 << 20
	}
	if m.MinFiles == 0 {
		m.MinFiles = 8
	}
	if m.Log == nil {
		m.Log = slog.Default()
	}
	if m.Compression == "" {
		m.Compression = "zstd"
	}
}

// Compact merges a table's small files into one new file and commits it as
// a new version with identical content. minFiles is the least number of
// small Parquet files worth merging. It reports whether it committed; a concurrent
// write makes it give up quietly (the next round tries again).
func (m *Maintainer) Compact(ctx context.Context, schema, name string, minFiles int) (bool, error) {
	m.defaults()
	v, files, err := m.Node.TableFiles(m.Project, schema, name, 0, 0)
	if err != nil {
		return false, err
	}
	cols, ok := m.Node.TableColumnsAt(m.Project, schema, name, v)
	if !ok {
		return false, fmt.Errorf("compact: table %s.%s does not exist", schema, name)
	}
	// Small commits' inline files are merged on their own (into one
	// Parquet file) as soon as there are two; the small Parquet files,
	// whose merging rewrites more, once there are minFiles of them.
	// minFiles ≤ 2 (VACUUM) merges every small file into one.
	var held map[string]bool
	if m.Held != nil && schema == "main" {
		var all bool
		if held, all = m.Held(m.Project, name); all {
			return false, nil
		}
	}
	var small, inline []catalog.FileRef
	for _, f := range files {
		if f.Bytes < m.SmallFile && !held[f.Name] {
			small = append(small, f)
			if f.Inline {
				inline = append(inline, f)
			}
		}
	}
	onlyInline := false
	switch {
	case len(small)-len(inline) >= max(minFiles, 2) || (minFiles <= 2 && len(small) >= 2):
	case len(inline) >= 2:
		small, onlyInline = inline, true
	default:
		return false, nil
	}
	var rows int64
	for _, f := range small {
		rows += f.Rows
	}
	ext := ParquetExt
	if onlyInline {
		// Inline files are merged into one JSON-lines block: their lines
		// concatenated, no DuckDB statement (a table written row by row
		// gets one every few hundred commits). The Parquet merge of small
		// files takes these blocks in turn.
		ext = JSONExt
	}
	file := fmt.Sprintf("%019d-%s%s", time.Now().UnixNano(), catalog.NewRequestID()[:12], ext)
	local := filepath.Join(m.FS.TempDir(), file)
	if onlyInline {
		if err := m.concatInline(small, local); err != nil {
			os.Remove(local)
			return false, fmt.Errorf("compact %s: %w", name, err)
		}
	} else {
		// Files hold the stored form of the columns (see
		// engine/storage.go), so they are copied as they are.
		read, err := ReadSQL(cols, small, m.FS, ReadOptions{Stored: true})
		if err != nil {
			return false, fmt.Errorf("compact %s: %w", name, err)
		}
		q := "COPY (" + read + ") TO " + quoteLiteral(local) + " (" + WriteOptions(m.Compression) + ")"
		if _, err := m.Conn.ExecContext(ctx, q, nil); err != nil {
			os.Remove(local)
			return false, fmt.Errorf("compact %s: %w", name, err)
		}
	}
	b, err := m.FS.AdoptBlock(ctx, local, ext)
	if err != nil {
		os.Remove(local)
		return false, err
	}
	// Only the merged files must still be current: appends committed
	// meanwhile do not conflict.
	d := catalog.TableData{Schema: schema, Name: name, Op: "COMPACT", Expect: -1,
		Add: []catalog.NewFile{{Name: file, Block: *b, Rows: rows}}}
	for _, f := range small {
		d.Remove = append(d.Remove, f.Name)
	}
	_, err = m.Node.Propose(ctx, catalog.CmdCommit, catalog.Commit{Project: m.Project, User: "hopsql", Data: []catalog.TableData{d}})
	if err != nil {
		if catalog.CodeOf(err) != "" {
			os.Remove(m.FS.BlockPath(b.ID))
		}
		if errors.Is(err, catalog.ErrConflict) {
			return false, nil
		}
		return false, fmt.Errorf("compact %s: %w", name, err)
	}
	if m.Compacted != nil {
		m.Compacted()
	}
	m.Log.Debug("compacted", "project", m.Project, "table", name, "files", len(small), "rows", rows, "ext", ext, "all", len(files), "inline", len(inline), "min", minFiles)
	return true, nil
}

// concatInline writes the lines of inline JSON files into one local file.
func (m *Maintainer) concatInline(files []catalog.FileRef, local string) error {
	var buf []byte
	for _, f := range files {
		_, data, err := m.Node.ReadInline(f.Path)
		if err != nil {
			return err
		}
		buf = append(buf, data...)
		if len(data) > 0 && data[len(data)-1] != '\n' {
			buf = append(buf, '\n')
		}
	}
	return os.WriteFile(local, buf, 0o600)
}

// Expire forgets versions replaced more than Retention ago and deletes the
// files only they used; their blocks go at the next garbage collection.
func (m *Maintainer) Expire(ctx context.Context, schema, name string, now time.Time) error {
	_, err := m.Node.Propose(ctx, catalog.CmdExpireSnapshots, catalog.ExpireSnapshots{
		Project: m.Project, Schema: schema, Name: name, Before: now.Add(-m.Retention).UnixNano()})
	if err != nil && !errors.Is(err, catalog.ErrNotFound) {
		return fmt.Errorf("expire %s: %w", name, err)
	}
	return nil
}

// Round compacts (tables with at least minFiles small files) and expires
// every table of the project once.
func (m *Maintainer) Round(ctx context.Context, minFiles int, now time.Time) error {
	m.defaults()
	var errs []error
	for _, t := range m.Node.Tables(m.Project) {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if _, err := m.Compact(ctx, t.Schema, t.Name, minFiles); err != nil {
			errs = append(errs, err)
		}
		if needsExpiry(t, now.Add(-m.Retention)) {
			if err := m.Expire(ctx, t.Schema, t.Name, now); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}

// CompactionDue reports whether a table's files are worth compacting now,
// rather than at the next maintenance round: many large files slow every
// scan; small commits' files are cheap to read (inline ones cost no file
// at all) but each adds to every reader's statement, so more of them wait.
func CompactionDue(h catalog.TableHead) bool {
	return h.Files-h.InlineFiles >= 16 || h.InlineFiles >= 256 || h.InlineRows >= 1024
}

// needsExpiry: some version other than the current was replaced before cutoff.
func needsExpiry(t catalog.TableInfo, cutoff time.Time) bool {
	return len(t.Snapshots) > 1 && t.Snapshots[1].Time <= cutoff.UnixNano()
}

func quoteIdent(s string) string   { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }
func quoteLiteral(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }
