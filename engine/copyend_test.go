package engine

import (
	"bytes"
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
