package pgerr

import (
	"strings"
	"testing"
)

// TestCaretOffset places DuckDB's caret in the statement text, also when
// DuckDB shows only a window of a long line.
func TestCaretOffset(t *testing.T) {
	long := "SELECT id, list_append(a, 3) AS x, list_prepend(0, a) AS y, t || 'z'::text AS z, a || ARRAY[9] AS w FROM rt ORDER BY id"
	for _, tc := range []struct {
		sql, msg string
		want     int // -1: not placed
	}{
		{"SELECT 1,  t - t FROM tj", "Binder Error: x\n\nLINE 1: SELECT 1,  t - t FROM tj\n                     ^", 13},
		{"SELECT 1\nFROM t WHERE x", "Binder Error: x\n\nLINE 2: FROM t WHERE x\n                     ^", 22},
		// Columns count characters: 'éé' takes four bytes.
		{"SELECT 'éé' AS a, t - t", "Binder Error: x\n\nLINE 1: SELECT 'éé' AS a, t - t\n" + strings.Repeat(" ", 8+20) + "^", 22},
		// Cut at the end only.
		{long, "Binder Error: x\n\nLINE 1: SELECT id, list_append(a, 3) AS x, list_prepend(0, a) AS y, t || ...\n                                                                    ^", 60},
		// Cut at the start (and the end): placed by where the window's text occurs.
		{long, "Binder Error: x\n\nLINE 1: ...AS x, list_prepend(0, a) AS y, t || 'z'::text AS z, a || ARRAY[9] AS w...\n" + strings.Repeat(" ", 50) + "^", 68},
		// A window whose text occurs twice cannot be placed.
		{"SELECT aaaa, aaaa", "Binder Error: x\n\nLINE 1: ...aaaa\n           ^", -1},
		{"SELECT 1", "Binder Error: no caret", -1},
	} {
		e := &Error{}
		e.caretLine, e.caretCol, e.caretText = parseCaret(tc.msg)
		off, ok := e.CaretOffset(tc.sql)
		if !ok {
			off = -1
		}
		if off != tc.want {
			t.Errorf("%q: offset %d, want %d", tc.msg, off, tc.want)
		}
	}
}
