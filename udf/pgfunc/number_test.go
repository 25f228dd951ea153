package pgfunc

import (
	"bufio"
	"errors"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/hopsql/hopsql/engine/pgerr"
)

// goldenRow is one line of testdata/to_char_number.tsv, produced by running
// to_char on a real PostgreSQL 15.
type goldenRow struct {
	line     int
	typ      string // numeric, float8 or int
	value    string
	template string
	want     string // the output, or "ERROR <sqlstate>"
}

func readGolden(t *testing.T) []goldenRow {
	t.Helper()
	f, err := os.Open("testdata/to_char_number.tsv")
	if err != nil {
		t.Fatalf("open golden file: %v", err)
	}
	defer f.Close()
	var rows []goldenRow
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		fields := strings.SplitN(sc.Text(), "\t", 4)
		if len(fields) != 4 {
			t.Fatalf("golden line %d: want 4 tab-separated fields, got %d", n, len(fields))
		}
		rows = append(rows, goldenRow{n, fields[0], fields[1], fields[2], fields[3]})
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("read golden file: %v", err)
	}
	return rows
}

// inputFor returns the arguments hopsql would pass for a golden row: floats
// arrive as the shortest round-trip text DuckDB prints for the double.
func inputFor(t *testing.T, r goldenRow) (string, bool) {
	t.Helper()
	switch r.typ {
	case "float8":
		f, err := strconv.ParseFloat(r.value, 64)
		if err != nil {
			t.Fatalf("golden line %d: bad float8 %q: %v", r.line, r.value, err)
		}
		return strconv.FormatFloat(f, 'g', -1, 64), true
	case "numeric", "int":
		return r.value, false
	}
	t.Fatalf("golden line %d: unknown type %q", r.line, r.typ)
	return "", false
}

func TestToCharNumberGolden(t *testing.T) {
	rows := readGolden(t)
	if len(rows) == 0 {
		t.Fatal("golden file is empty")
	}
	failed := 0
	for _, r := range rows {
		value, float := inputFor(t, r)
		got, err := ToCharNumber(value, r.template, float)
		if err != nil {
			var pe *pgerr.Error
			if !errors.As(err, &pe) {
				t.Errorf("line %d: to_char(%s %s, %q): error %v is not a *pgerr.Error", r.line, r.typ, r.value, r.template, err)
				failed++
				continue
			}
			got = "ERROR " + pe.Code
		}
		if got != r.want {
			t.Errorf("line %d: to_char(%s %s, %q) = %q, PostgreSQL gives %q (err %v)", r.line, r.typ, r.value, r.template, got, r.want, err)
			failed++
		}
	}
	t.Logf("%d golden rows, %d mismatches", len(rows), failed)
}

func TestToCharNumberErrors(t *testing.T) {
	tests := []struct {
		value, template string
		float           bool
		code, message   string
	}{
		{"1", "9V9.9", false, pgerr.SyntaxError, `cannot use "V" and decimal point together`},
		{"1", "9.9V9", false, pgerr.SyntaxError, `cannot use "V" and decimal point together`},
		{"1", "9.99EEEEPR", false, pgerr.SyntaxError, `"EEEE" must be the last pattern used`},
		{"1", "FM9.99EEEE", false, pgerr.SyntaxError, `"EEEE" is incompatible with other formats`},
		{"1", "9EEEEEEEE", false, pgerr.SyntaxError, `cannot use "EEEE" twice`},
		{"1", "PR9", false, pgerr.SyntaxError, `"9" must be ahead of "PR"`},
		{"1", "PR0", false, pgerr.SyntaxError, `"0" must be ahead of "PR"`},
		{"1", "9.9.9", true, pgerr.SyntaxError, "multiple decimal points"},
		{"1", "S9S", false, pgerr.SyntaxError, `cannot use "S" twice`},
		{"1", "MIS9", false, pgerr.SyntaxError, `cannot use "S" and "PL"/"MI"/"SG"/"PR" together`},
		{"1", "S9MI", false, pgerr.SyntaxError, `cannot use "S" and "MI" together`},
		{"1", "S9PL", false, pgerr.SyntaxError, `cannot use "S" and "PL" together`},
		{"1", "S9SG", false, pgerr.SyntaxError, `cannot use "S" and "SG" together`},
		{"1", "9MIPR", false, pgerr.SyntaxError, `cannot use "PR" and "S"/"PL"/"MI"/"SG" together`},
		{"nan", "RN", false, pgerr.FeatureNotSupported, "cannot convert NaN to integer"},
		{"inf", "RN", false, pgerr.FeatureNotSupported, "cannot convert infinity to integer"},
		{"1e12", "RN", false, pgerr.NumericValueOutOfRange, "integer out of range"},
		{"nan", "9999th", false, pgerr.InvalidTextRepresentation, `"NaN" is not a number`},
		{"nan", "9999th", true, pgerr.InvalidTextRepresentation, `"NaN" is not a number`},
		{"abc", "999", false, pgerr.InvalidTextRepresentation, `invalid input syntax for type numeric: "abc"`},
		{"abc", "999", true, pgerr.InvalidTextRepresentation, `invalid input syntax for type double precision: "abc"`},
	}
	for _, tt := range tests {
		got, err := ToCharNumber(tt.value, tt.template, tt.float)
		var pe *pgerr.Error
		if !errors.As(err, &pe) {
			t.Errorf("ToCharNumber(%q, %q, %v) = %q, %v; want *pgerr.Error %s", tt.value, tt.template, tt.float, got, err, tt.code)
			continue
		}
		if pe.Code != tt.code || pe.Message != tt.message {
			t.Errorf("ToCharNumber(%q, %q, %v): got %s %q, want %s %q", tt.value, tt.template, tt.float, pe.Code, pe.Message, tt.code, tt.message)
		}
	}
}

func TestToCharNumberInputForms(t *testing.T) {
	tests := []struct {
		value, template string
		float           bool
		want            string
	}{
		{"", "", false, ""},
		{"1e+20", "999999999999999999999", false, " 100000000000000000000"},
		{"1.5e-07", "9.99999999", false, "  .00000015"},
		{"1.5E-7", "9.99999999", true, "  .00000015"},
		{"+Inf", "99999999.99", true, " Infinity"},
		{"-inf", "99999999.99", true, "-Infinity"},
		{"Infinity", "9999999999", false, "   Infinity"},
		{"-0", "9.9", true, " -.0"},
		{"-0", "9.9", false, "  .0"},
		{"1234.50", "FM9,999.99", false, "1,234.5"},
		// PostgreSQL fixes the exponent before rounding the significand.
		{"99999999999999999999999999999999999999", "9EEEE", false, " 10e+37"},
	}
	for _, tt := range tests {
		got, err := ToCharNumber(tt.value, tt.template, tt.float)
		if err != nil || got != tt.want {
			t.Errorf("ToCharNumber(%q, %q, %v) = %q, %v; want %q", tt.value, tt.template, tt.float, got, err, tt.want)
		}
	}
}
