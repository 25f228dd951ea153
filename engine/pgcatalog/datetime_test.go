package pgcatalog

import "testing"

// TestNormalizeDateTime: literal spellings PostgreSQL reads and DuckDB
// does not, rewritten to ones it does (tests/builtins_test.go compares
// the values with PostgreSQL's).
func TestNormalizeDateTime(t *testing.T) {
	for _, tc := range []struct{ typ, in, want string }{
		{"timestamptz", "2024-01-15 10:30+02", "2024-01-15 10:30:00+02"},
		{"timestamptz", "2024-01-15T10:30Z", "2024-01-15 10:30:00+00"},
		{"timestamptz", "2024-01-15 10:30 UTC", "2024-01-15 10:30:00 UTC"},
		{"timestamp", "2024-01-15 10:30", "2024-01-15 10:30:00"},
		{"date", "20240105", "2024-01-05"},
		{"date", "01/02/2024", "2024-01-02"},
		{"date", "Jan 5 2024", "2024-01-05"},
		{"date", "January 15, 2024", "2024-01-15"},
		{"date", "15-Jan-2024", "2024-01-15"},
		{"timestamp", "Jan 15 2024 10:30AM", "2024-01-15 10:30:00"},
		{"timestamp", "15-Jan-2024 22:01:02", "2024-01-15 22:01:02"},
		{"timestamp", "2024-01-15 10:30:00", ""},
		{"date", "2024-01-15", ""},
	} {
		got, ok := normalizeDateTime(tc.typ, tc.in)
		if !ok {
			got = ""
		}
		if got != tc.want {
			t.Errorf("normalizeDateTime(%s, %q) = %q, want %q", tc.typ, tc.in, got, tc.want)
		}
	}
	for in, want := range map[string]string{"10:30 PM": "22:30:00", "10:30": "10:30:00", "9:05:07am": "09:05:07"} {
		if got, _ := normalizeTime(in); got != want {
			t.Errorf("normalizeTime(%q) = %q, want %q", in, got, want)
		}
	}
	for in, want := range map[string]bool{"on": true, "OFF": false, " yes ": true, "n": false, "t": true, "1": true} {
		if got, ok := pgBool(in); !ok || got != want {
			t.Errorf("pgBool(%q) = %v, %v", in, got, ok)
		}
	}
	for _, in := range []string{"o", "maybe", ""} {
		if _, ok := pgBool(in); ok {
			t.Errorf("pgBool(%q) accepted", in)
		}
	}
}
