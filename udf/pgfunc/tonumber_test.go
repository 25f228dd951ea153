package pgfunc

import (
	"bufio"
	"errors"
	"math/big"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/hopsql/hopsql/engine/pgerr"
)

// plainDecimal is the only shape ToNumber may return: DuckDB casts it to
// DECIMAL without surprises (no exponent, no spaces, no leading '+').
var plainDecimal = regexp.MustCompile(`^-?[0-9]+(\.[0-9]+)?$`)

// TestToNumberGolden replays testdata/to_number.tsv, produced by running
// to_number(text, template)::text on a real PostgreSQL 15 (lc_numeric and
// lc_monetary 'C'). Columns: text, template, result or "ERROR <sqlstate>"
// or "NULL". Results are compared as exact decimal values, so PostgreSQL's
// trailing zeros (V yields 12.3400000000000000) need not be reproduced.
func TestToNumberGolden(t *testing.T) {
	f, err := os.Open("testdata/to_number.tsv")
	if err != nil {
		t.Fatalf("open golden file: %v", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	rows, failed := 0, 0
	for line := 1; sc.Scan(); line++ {
		fields := strings.Split(sc.Text(), "\t")
		if len(fields) != 3 {
			t.Fatalf("golden line %d: want 3 tab-separated fields, got %d", line, len(fields))
		}
		text, template, want := fields[0], fields[1], fields[2]
		rows++
		if msg := checkToNumber(text, template, want); msg != "" {
			t.Errorf("line %d: to_number(%q, %q): %s", line, text, template, msg)
			failed++
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("read golden file: %v", err)
	}
	if rows == 0 {
		t.Fatal("golden file is empty")
	}
	t.Logf("%d golden rows, %d mismatches", rows, failed)
}

// checkToNumber returns "" when ToNumber agrees with PostgreSQL's want,
// else a description of the difference.
func checkToNumber(text, template, want string) string {
	got, err := ToNumber(text, template)
	if err != nil {
		var pe *pgerr.Error
		if !errors.As(err, &pe) {
			return "error " + err.Error() + " is not a *pgerr.Error"
		}
		if want != "ERROR "+pe.Code {
			return "got ERROR " + pe.Code + " (" + pe.Message + "), PostgreSQL gives " + want
		}
		return ""
	}
	switch {
	case strings.HasPrefix(want, "ERROR "):
		return "got " + got + ", PostgreSQL gives " + want
	case want == "NULL":
		if got != "" {
			return "got " + got + ", PostgreSQL gives NULL (want \"\")"
		}
		return ""
	case !plainDecimal.MatchString(got):
		return "got " + got + ", which is not a plain decimal"
	}
	g, ok1 := new(big.Rat).SetString(got)
	w, ok2 := new(big.Rat).SetString(want)
	if !ok1 || !ok2 || g.Cmp(w) != 0 {
		return "got " + got + ", PostgreSQL gives " + want
	}
	return ""
}

func TestToNumberErrors(t *testing.T) {
	tests := []struct {
		text, template string
		code, message  string
		detail         string
	}{
		{"1.5e3", "9.9EEEE", pgerr.FeatureNotSupported, `"EEEE" not supported for input`, ""},
		{"XII", "RN", pgerr.FeatureNotSupported, `"RN" not supported for input`, ""},
		{"12", "rn", pgerr.FeatureNotSupported, `"RN" not supported for input`, ""},
		{"1", "9.9.9", pgerr.SyntaxError, "multiple decimal points", ""},
		{"1", "9V9.9", pgerr.SyntaxError, `cannot use "V" and decimal point together`, ""},
		{"1", "S9S", pgerr.SyntaxError, `cannot use "S" twice`, ""},
		{"1", "PR9", pgerr.SyntaxError, `"9" must be ahead of "PR"`, ""},
		{"", "999", pgerr.InvalidTextRepresentation, `invalid input syntax for type numeric: " "`, ""},
		{"-", "S999", pgerr.InvalidTextRepresentation, `invalid input syntax for type numeric: "-"`, ""},
		{"abc", "999", pgerr.InvalidTextRepresentation, `invalid input syntax for type numeric: " "`, ""},
		{"12345", "99.99", pgerr.NumericValueOutOfRange, "numeric field overflow",
			"A field with precision 2, scale 0 must round to an absolute value less than 10^2."},
		{"12.34", ".99", pgerr.NumericValueOutOfRange, "numeric field overflow",
			"A field with precision 0, scale 0 must round to an absolute value less than 1."},
		{"123.45", "9.999", pgerr.NumericValueOutOfRange, "numeric field overflow",
			"A field with precision 2, scale 1 must round to an absolute value less than 10^1."},
	}
	for _, tt := range tests {
		got, err := ToNumber(tt.text, tt.template)
		var pe *pgerr.Error
		if !errors.As(err, &pe) {
			t.Errorf("ToNumber(%q, %q) = %q, %v; want *pgerr.Error %s", tt.text, tt.template, got, err, tt.code)
			continue
		}
		if pe.Code != tt.code || pe.Message != tt.message || pe.Detail != tt.detail {
			t.Errorf("ToNumber(%q, %q): got %s %q (detail %q), want %s %q (detail %q)",
				tt.text, tt.template, pe.Code, pe.Message, pe.Detail, tt.code, tt.message, tt.detail)
		}
	}
}

func TestToNumberOutputForm(t *testing.T) {
	tests := []struct{ text, template, want string }{
		{"12,454.8-", "99G999D9S", "-12454.8"},
		{"12345", "99V99", "12.34"},
		{"-0", "S9", "0"},
		{".5", "9.9", "0.5"},
		{"0012.50", "0000.00", "12.50"},
		{"123", "", ""}, // NULL in PostgreSQL
	}
	for _, tt := range tests {
		got, err := ToNumber(tt.text, tt.template)
		if err != nil || got != tt.want {
			t.Errorf("ToNumber(%q, %q) = %q, %v; want %q", tt.text, tt.template, got, err, tt.want)
		}
	}
}
