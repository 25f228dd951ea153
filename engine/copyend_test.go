package engine

import (
	"bytes"
	"io"
	"math/rand/v2"
	"testing"
)

func TestCSVEndMarker(t *testing.T) {
	for _, tc := range []struct {
		name   string
		chunks []string
		want   string
	}{
		{"no marker", []string{"1,a\n2,b\n"}, "1,a\n2,b\n"},
		{"marker", []string{"1,a\n\\.\n2,b\n"}, "1,a\n"},
		{"marker at the end without newline", []string{"1,a\n\\."}, "1,a\n"},
		{"marker with CRLF", []string{"1,a\r\n\\.\r\n"}, "1,a\r\n"},
		{"marker split across writes", []string{"1,a\n\\", ".", "\n9,z\n"}, "1,a\n"},
		{"quoted marker is data", []string{"1,\"x\n\\.\ny\"\n"}, "1,\"x\n\\.\ny\"\n"},
		{"backslash value", []string{"\\.x,1\n\\\n"}, "\\.x,1\n\\\n"},
		{"doubled quotes", []string{"1,\"a\"\"b\"\n\\.\n"}, "1,\"a\"\"b\"\n"},
		{"held then data", []string{"1,a\n\\", "x,2\n"}, "1,a\n\\x,2\n"},
	} {
		var out bytes.Buffer
		e := newCSVEnd(`"`, `"`)
		for _, c := range tc.chunks {
			if err := e.write(&out, []byte(c)); err != nil {
				t.Fatal(err)
			}
		}
		if err := e.flush(&out); err != nil {
			t.Fatal(err)
		}
		if out.String() != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, out.String(), tc.want)
		}
	}
}

// refCSVEnd is the filter's rule written the slow, obvious way — one byte
// at a time over the whole data — to hold the chunked, skipping filter to.
func refCSVEnd(data []byte, quote, escape byte) []byte {
	inQuotes, escaped, lineStart := false, false, true
	for i := 0; i < len(data); i++ {
		b := data[i]
		if lineStart && !inQuotes && b == '\\' && i+1 < len(data) && data[i+1] == '.' {
			rest := data[i+2:]
			if len(rest) == 0 || rest[0] == '\n' || (rest[0] == '\r' && (len(rest) == 1 || rest[1] == '\n')) {
				return data[:i]
			}
		}
		lineStart = false
		switch {
		case inQuotes && escaped:
			escaped = false
		case inQuotes && b == escape && escape != quote:
			escaped = true
		case b == quote:
			inQuotes = !inQuotes
		case b == '\n' && !inQuotes:
			lineStart = true
		}
	}
	return data
}

func TestCSVEndMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	alphabet := []byte("ab,\"'\\.\n\r")
	for _, qe := range [][2]byte{{'"', '"'}, {'"', '\\'}, {'\'', '\''}} {
		for n := 0; n < 3000; n++ {
			data := make([]byte, rng.IntN(40))
			for i := range data {
				data[i] = alphabet[rng.IntN(len(alphabet))]
			}
			var out bytes.Buffer
			e := newCSVEnd(string(qe[0]), string(qe[1]))
			for rest := data; len(rest) > 0; {
				k := 1 + rng.IntN(len(rest))
				if err := e.write(&out, rest[:k]); err != nil {
					t.Fatal(err)
				}
				rest = rest[k:]
			}
			if err := e.flush(&out); err != nil {
				t.Fatal(err)
			}
			if want := refCSVEnd(data, qe[0], qe[1]); !bytes.Equal(out.Bytes(), want) {
				t.Fatalf("quote %q escape %q, data %q: got %q, want %q", qe[0], qe[1], data, out.Bytes(), want)
			}
		}
	}
}

// PostgreSQL numbers a COPY's lines physically (a quoted line break
// counts), DuckDB's reader by record; line maps a record to the line on
// which it ends.
func TestCSVEndLines(t *testing.T) {
	e := newCSVEnd(`"`, `"`)
	data := "h1,h2\n1,\"a\nb\"\n2,x\n3,\"c\r\nd\ne\"\n4,y\n"
	for _, chunk := range []string{data[:9], data[9:20], data[20:]} {
		if err := e.write(io.Discard, []byte(chunk)); err != nil {
			t.Fatal(err)
		}
	}
	for record, want := range map[int64]int64{1: 1, 2: 3, 3: 4, 4: 7, 5: 8} {
		if got := e.line(record); got != want {
			t.Errorf("record %d: line %d, want %d", record, got, want)
		}
	}
}
