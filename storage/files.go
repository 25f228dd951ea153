package storage

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/hopsql/hopsql/catalog"
	"github.com/hopsql/hopsql/fs"
)

// A table's data files come in two formats, told apart by extension:
//
//   - ".parquet": ZSTD Parquet holding the stored form of the columns
//     (StoredList), written by DuckDB;
//   - ".json": newline-delimited JSON objects whose values are the text
//     form of each column (TextExpr), or null. Small commits write these
//     (a few rows, inline in the catalog entry, no block to fsync and no
//     Parquet writer to set up); compaction merges them into Parquet.
const (
	ParquetExt = ".parquet"
	JSONExt    = ".json"
)

// WriteOptions is the option list of DuckDB's COPY … TO for a new table
// file in the given codec. Files use Parquet's version-2 encodings
// (DELTA_BINARY_PACKED integers and timestamps, BYTE_STREAM_SPLIT floats,
// DELTA_LENGTH_BYTE_ARRAY strings): measured on this machine they are
// written faster, read faster and are smaller than version 1's PLAIN
// pages under the same codec (storage/DESIGN.md, "File format"). Every
// maintained Parquet reader (DuckDB, Arrow, Spark, Polars) reads them.
func WriteOptions(compression string) string {
	return "FORMAT parquet, COMPRESSION " + compression + ", PARQUET_VERSION V2"
}

// IsJSON reports whether a data file is in the JSON-lines format.
func IsJSON(name string) bool { return strings.HasSuffix(name, JSONExt) }

// ParquetExact reports whether DuckDB reads a type back from Parquet as
// exactly that type.
func ParquetExact(t string) bool {
	switch t {
	case "BOOLEAN", "TINYINT", "SMALLINT", "INTEGER", "BIGINT", "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT",
		"FLOAT", "DOUBLE", "VARCHAR", "BLOB", "DATE", "TIME", "TIMESTAMP", "TIMESTAMP WITH TIME ZONE", "UUID":
		return true
	}
	return strings.HasPrefix(t, "DECIMAL(") && !strings.ContainsAny(t, "[]")
}

// TextExact reports whether a type's values survive a round trip through
// their text form (TextExpr, then FromText) exactly, which the JSON format
// relies on. Nested types are left out: their text form quotes strings
// inside them in ways that have changed between DuckDB versions.
func TextExact(t string) bool {
	return ParquetExact(t) || t == "INTERVAL" || t == "HUGEINT"
}

// CastList projects a file's columns to the table's declared types: the
// Parquet round trip may widen some (ENUM comes back as VARCHAR).
func CastList(cols []catalog.Column) string {
	parts := make([]string, len(cols))
	for i, c := range cols {
		if ParquetExact(c.Type) {
			// A bare column keeps filters pushed down into the Parquet scan
			// (row groups skipped by their statistics).
			parts[i] = quoteIdent(c.Name)
		} else {
			parts[i] = "CAST(" + quoteIdent(c.Name) + " AS " + c.Type + ") AS " + quoteIdent(c.Name)
		}
	}
	return strings.Join(parts, ", ")
}

// StoredList projects a table's columns as they are stored in Parquet: as
// they are, except that intervals (which Parquet cannot hold when negative)
// are kept as their text, which CastList turns back losslessly.
func StoredList(cols []catalog.Column) string {
	parts := make([]string, len(cols))
	for i, c := range cols {
		if strings.Contains(c.Type, "INTERVAL") {
			parts[i] = "CAST(" + quoteIdent(c.Name) + " AS VARCHAR) AS " + quoteIdent(c.Name)
		} else {
			parts[i] = quoteIdent(c.Name)
		}
	}
	return strings.Join(parts, ", ")
}

// TextExpr is the text form of a column's value, as JSON files and key
// indexes hold it. Timestamps with time zone are written in UTC, so that
// the text does not depend on the session's TimeZone.
func TextExpr(c catalog.Column, expr string) string {
	if c.Type == "TIMESTAMP WITH TIME ZONE" {
		return "CAST(timezone('UTC', " + expr + ") AS VARCHAR)"
	}
	return "CAST(" + expr + " AS VARCHAR)"
}

// FromText turns a column's text form back into its value.
func FromText(c catalog.Column, expr string) string {
	switch c.Type {
	case "VARCHAR":
		return expr
	case "TIMESTAMP WITH TIME ZONE":
		return "timezone('UTC', CAST(" + expr + " AS TIMESTAMP))"
	}
	return "CAST(" + expr + " AS " + c.Type + ")"
}

// EncodeJSONRow appends one row of text values (nil for NULL) as a JSON
// object line. Keys are the column names, in column order.
func EncodeJSONRow(buf []byte, cols []catalog.Column, vals []*string) []byte {
	buf = append(buf, '{')
	for i, c := range cols {
		if i > 0 {
			buf = append(buf, ',')
		}
		k, _ := json.Marshal(c.Name)
		buf = append(buf, k...)
		buf = append(buf, ':')
		if vals[i] == nil {
			buf = append(buf, "null"...)
			continue
		}
		v, _ := json.Marshal(*vals[i])
		buf = append(buf, v...)
	}
	return append(buf, '}', '\n')
}

// DecodeJSONRows reads a JSON-lines file back into text values in the order
// of cols (nil for NULL or absent).
func DecodeJSONRows(data []byte, cols []catalog.Column) ([][]*string, error) {
	var out [][]*string
	for len(data) > 0 {
		line := data
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			line, data = data[:i], data[i+1:]
		} else {
			data = nil
		}
		if len(line) == 0 {
			continue
		}
		var m map[string]*string
		if err := json.Unmarshal(line, &m); err != nil {
			return nil, fmt.Errorf("decode data file row: %w", err)
		}
		row := make([]*string, len(cols))
		for i, c := range cols {
			row[i] = m[c.Name]
		}
		out = append(out, row)
	}
	return out, nil
}

// ReadOptions shape ReadSQL's result.
type ReadOptions struct {
	// Stored yields the stored form of the columns (StoredList: what a
	// Parquet file holds) instead of the declared types.
	Stored bool
	// Filename adds a "filename" column: ReadFilename of the file each row
	// came from.
	Filename bool
}

// ReadFilename is what ReadSQL's filename column holds for a file read
// from local: the local path, or the namespace path of an inline file.
func ReadFilename(f catalog.FileRef, local string) string {
	if f.IsInline() {
		return f.Path
	}
	return local
}

// ReadSQL returns a SELECT that reads files as rows of cols (the columns of
// the version they belong to). Parquet files are read with read_parquet,
// JSON-lines files in blocks with read_json; the rows of inline JSON-lines
// files (a few each) are written into the statement as VALUES, so reading
// them touches no file at all.
func ReadSQL(cols []catalog.Column, files []catalog.FileRef, fsys *fs.FS, opt ReadOptions) (string, error) {
	var pq, js []string
	var inline []catalog.FileRef
	for _, f := range files {
		if IsJSON(f.Name) && f.IsInline() {
			inline = append(inline, f)
			continue
		}
		// A scan reads a block's uncompressed copy when there is one; a
		// read that reports file names reads the block itself, whose path
		// names the file.
		p, err := fsys.ScanPath(f)
		if opt.Filename {
			p, err = fsys.DataFilePath(f)
		}
		if err != nil {
			return "", err
		}
		if IsJSON(f.Name) {
			js = append(js, quoteLiteral(p))
		} else {
			pq = append(pq, quoteLiteral(p))
		}
	}
	var parts []string
	if len(pq) > 0 {
		sel := CastList(cols)
		if opt.Stored {
			sel = quotedNames(cols)
		}
		fn := ""
		if opt.Filename {
			sel += ", filename"
			fn = ", filename = true"
		}
		parts = append(parts, "SELECT "+sel+" FROM read_parquet(["+strings.Join(pq, ", ")+"]"+fn+")")
	}
	if len(js) > 0 || len(inline) > 0 {
		sel := fromTextList(cols, opt)
		if opt.Filename {
			sel = append(sel, "filename")
		}
		if len(js) > 0 {
			spec := make([]string, len(cols))
			for i, c := range cols {
				spec[i] = quoteLiteral(c.Name) + ": 'VARCHAR'"
			}
			fn := ""
			if opt.Filename {
				fn = ", filename = true"
			}
			parts = append(parts, "SELECT "+strings.Join(sel, ", ")+" FROM read_json(["+strings.Join(js, ", ")+
				"], format = 'newline_delimited', columns = {"+strings.Join(spec, ", ")+"}"+fn+")")
		}
		if len(inline) > 0 {
			values, err := inlineValues(cols, inline, fsys, opt.Filename)
			if err != nil {
				return "", err
			}
			names := make([]string, len(cols), len(cols)+1)
			for i, c := range cols {
				names[i] = quoteIdent(c.Name)
			}
			if opt.Filename {
				names = append(names, "filename")
			}
			parts = append(parts, "SELECT "+strings.Join(sel, ", ")+" FROM (VALUES "+values+") AS v("+strings.Join(names, ", ")+")")
		}
	}
	if len(parts) == 0 {
		return "", fmt.Errorf("read: no files")
	}
	return strings.Join(parts, " UNION ALL "), nil
}

func fromTextList(cols []catalog.Column, opt ReadOptions) []string {
	sel := make([]string, len(cols))
	for i, c := range cols {
		if opt.Stored && strings.Contains(c.Type, "INTERVAL") {
			sel[i] = quoteIdent(c.Name)
		} else {
			sel[i] = FromText(c, quoteIdent(c.Name)) + " AS " + quoteIdent(c.Name)
		}
	}
	return sel
}

// inlineValues renders the rows of inline JSON-lines files as the rows of
// a VALUES list of text (every value typed VARCHAR, so that a column of
// NULLs keeps its type).
func inlineValues(cols []catalog.Column, files []catalog.FileRef, fsys *fs.FS, filename bool) (string, error) {
	var b strings.Builder
	for _, f := range files {
		data, err := fsys.InlineData(f)
		if err != nil {
			return "", err
		}
		rows, err := DecodeJSONRows(data, cols)
		if err != nil {
			return "", fmt.Errorf("%s: %w", f.Path, err)
		}
		for _, r := range rows {
			if b.Len() > 0 {
				b.WriteString(", ")
			}
			b.WriteByte('(')
			for i, v := range r {
				if i > 0 {
					b.WriteString(", ")
				}
				if v == nil {
					b.WriteString("CAST(NULL AS VARCHAR)")
				} else {
					b.WriteString("CAST(" + quoteLiteral(*v) + " AS VARCHAR)")
				}
			}
			if filename {
				b.WriteString(", " + quoteLiteral(f.Path))
			}
			b.WriteByte(')')
		}
	}
	if b.Len() == 0 {
		// Inline files always hold rows; an empty list would not parse.
		return "", fmt.Errorf("read: inline files without rows")
	}
	return b.String(), nil
}
func quotedNames(cols []catalog.Column) string {
	names := make([]string, len(cols))
	for i, c := range cols {
		names[i] = quoteIdent(c.Name)
	}
	return strings.Join(names, ", ")
}
