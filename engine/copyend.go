package engine

import (
	"bytes"
	"io"
	"slices"
)

// csvEnd passes CSV COPY data through until PostgreSQL's end-of-data
// marker: a line holding only `\.`, outside quotes. psql sends it after
// inline data (`\copy t FROM stdin`); PostgreSQL stops reading there, and
// so does this filter (the marker and anything after it are dropped).
// Quotes are followed so that `\.` inside a quoted value is data.
type csvEnd struct {
	quote, escape byte
	inQuotes      bool
	escaped       bool // the escape character came last inside quotes
	lineStart     bool
	held          []byte // a possible marker split across writes
	ended         bool
	// record is the number of the record being read (1-based, the header
	// included); breaks lists, for each line break inside a quoted value,
	// the record holding it. PostgreSQL numbers COPY's lines physically,
	// DuckDB's reader by record: line maps one to the other.
	record int64
	breaks []int64
}

func newCSVEnd(quote, escape string) *csvEnd {
	e := &csvEnd{quote: '"', escape: '"', lineStart: true, record: 1}
	if quote != "" {
		e.quote = quote[0]
	}
	if escape != "" {
		e.escape = escape[0]
	} else {
		e.escape = e.quote
	}
	return e
}

// write passes p's data to w.
func (e *csvEnd) write(w io.Writer, p []byte) error {
	if e.ended {
		return nil
	}
	if len(e.held) > 0 {
		p = append(e.held, p...)
		e.held = nil
	}
	for i := 0; i < len(p); {
		b := p[i]
		if e.lineStart && !e.inQuotes && b == '\\' {
			// A marker is `\.` then a line end (or the end of data).
			rest := p[i:]
			switch {
			case len(rest) < 2 || (rest[1] == '.' && (len(rest) == 2 || (rest[2] == '\r' && len(rest) == 3))):
				e.held = append([]byte(nil), rest...)
				_, err := w.Write(p[:i])
				return err
			case rest[1] == '.' && (rest[2] == '\n' || (rest[2] == '\r' && rest[3] == '\n')):
				e.ended = true
				_, err := w.Write(p[:i])
				return err
			}
		}
		e.lineStart = false
		if !e.inQuotes {
			// Outside quotes only a quote or a line end matters: jump to
			// the first of them (most lines hold no quote at all).
			nl := bytes.IndexByte(p[i:], '\n')
			seg := p[i:]
			if nl >= 0 {
				seg = seg[:nl]
			}
			if q := bytes.IndexByte(seg, e.quote); q >= 0 {
				e.inQuotes = true
				i += q + 1
				continue
			}
			if nl < 0 {
				break
			}
			e.lineStart = true
			e.record++
			i += nl + 1
			continue
		}
		switch {
		case e.escaped:
			e.escaped = false
		case b == e.escape && e.escape != e.quote:
			e.escaped = true
		case b == e.quote:
			e.inQuotes = false // a doubled quote closes and opens again
		case b == '\n':
			e.breaks = append(e.breaks, e.record)
		}
		i++
	}
	_, err := w.Write(p)
	return err
}

// flush ends the data: a held `\.` (with no line end after it) was the
// marker; anything else held was data.
func (e *csvEnd) flush(w io.Writer) error {
	held := e.held
	e.held = nil
	if e.ended || string(held) == `\.` || string(held) == "\\.\r" {
		return nil
	}
	_, err := w.Write(held)
	return err
}

// line is the physical line on which record n ends, as PostgreSQL counts
// COPY's lines: the record's number plus the line breaks quoted in it and
// in the records before it.
func (e *csvEnd) line(n int64) int64 {
	k, _ := slices.BinarySearch(e.breaks, n+1)
	return n + int64(k)
}
