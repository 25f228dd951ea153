package pgfunc

import (
	"errors"
	"testing"

	"github.com/hopsql/hopsql/engine/pgerr"
)

func str(s string) *string { return &s }

// TestFormat: outputs and errors checked against PostgreSQL 15's format().
func TestFormat(t *testing.T) {
	for _, tc := range []struct {
		format string
		args   []*string
		want   string
		code   string
	}{
		{"Hello %s", []*string{str("World")}, "Hello World", ""},
		{"Testing %s, %s, %s, %%", []*string{str("one"), str("two"), str("three")}, "Testing one, two, three, %", ""},
		{"INSERT INTO %I VALUES(%L)", []*string{str("Foo bar"), str("O'Reilly")}, `INSERT INTO "Foo bar" VALUES('O''Reilly')`, ""},
		{"INSERT INTO %I VALUES(%L)", []*string{str("locations"), str(`C:\Program Files`)}, `INSERT INTO locations VALUES(E'C:\\Program Files')`, ""},
		{"|%10s|", []*string{str("foo")}, "|       foo|", ""},
		{"|%-10s|", []*string{str("foo")}, "|foo       |", ""},
		{"|%*s|", []*string{str("10"), str("foo")}, "|       foo|", ""},
		{"|%*s|", []*string{str("-10"), str("foo")}, "|foo       |", ""},
		{"|%-*s|", []*string{str("-10"), str("foo")}, "|foo       |", ""},
		{"Testing %3$s, %2$s, %1$s", []*string{str("one"), str("two"), str("three")}, "Testing three, two, one", ""},
		{"Testing %3$s, %2$s, %s", []*string{str("one"), str("two"), str("three")}, "Testing three, two, three", ""},
		{"%1$s %1$s", []*string{str("x")}, "x x", ""},
		{"%L", []*string{nil}, "NULL", ""},
		{"[%s]", []*string{nil}, "[]", ""},
		{"%I", []*string{str("abc")}, "abc", ""},
		{"%I", []*string{str("Abc")}, `"Abc"`, ""},
		{"%I", []*string{str(`a"b`)}, `"a""b"`, ""},
		{"%I", []*string{nil}, "", pgerr.NullValueNotAllowed},
		{"%s %s", []*string{str("a")}, "", pgerr.InvalidParameterValue},
		{"%d", []*string{str("1")}, "", pgerr.InvalidParameterValue},
		{"%", nil, "", pgerr.InvalidParameterValue},
		{"%0$s", []*string{str("a")}, "", pgerr.InvalidParameterValue},
		{"no specifiers", []*string{str("unused")}, "no specifiers", ""},
		// A client's width must not take the server's memory.
		{"%*s", []*string{str("9000000000000000000"), str("x")}, "", pgerr.NumericValueOutOfRange},
		{"%999999999s", []*string{str("x")}, "", pgerr.ProgramLimitExceeded},
	} {
		got, err := Format(tc.format, tc.args)
		var pe *pgerr.Error
		switch {
		case tc.code != "" && (!errors.As(err, &pe) || pe.Code != tc.code):
			t.Errorf("Format(%q): error %v, want SQLSTATE %s", tc.format, err, tc.code)
		case tc.code == "" && (err != nil || got != tc.want):
			t.Errorf("Format(%q) = %q, %v; want %q", tc.format, got, err, tc.want)
		}
	}
}

func TestInitcap(t *testing.T) {
	for in, want := range map[string]string{
		"hi THOMAS": "Hi Thomas", "hello-world foo_bar o'neil 1ab": "Hello-World Foo_Bar O'Neil 1ab", "": "",
	} {
		if got := Initcap(in); got != want {
			t.Errorf("Initcap(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestRecordOut: record_out's quoting, checked against PostgreSQL 15.
func TestRecordOut(t *testing.T) {
	for _, tc := range []struct {
		fields []*string
		want   string
	}{
		{[]*string{str("1"), str("a")}, "(1,a)"},
		{[]*string{str("1"), nil, str("b c")}, `(1,,"b c")`},
		{[]*string{str(""), str(`x"y`), str(`a\b`), str("(1,2)")}, `("","x""y","a\\b","(1,2)")`},
		{[]*string{nil}, "()"},
	} {
		if got := RecordOut(tc.fields); got != tc.want {
			t.Errorf("RecordOut = %s, want %s", got, tc.want)
		}
	}
}
