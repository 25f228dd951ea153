package pgfunc

import (
	"reflect"
	"testing"
)

// Expectations are PostgreSQL 15's (SELECT regexp_matches(…)).
func TestRegexpMatches(t *testing.T) {
	for _, tc := range []struct {
		s, pattern, flags string
		want              [][]any
		err               bool
	}{
		{"foobarbequebaz", "ba.", "g", [][]any{{"bar"}, {"baz"}}, false},
		{"foobarbequebaz", "ba.", "", [][]any{{"bar"}}, false},
		{"foobarbequebaz", "(b)(x)?(.)", "g", [][]any{{"b", nil, "a"}, {"b", nil, "e"}, {"b", nil, "a"}}, false},
		{"ABC", "b", "i", [][]any{{"B"}}, false},
		{"ABC", "b", "ic", nil, false},
		{"a\nb", "a.b", "", [][]any{{"a\nb"}}, false},
		{"a\nb", "a.b", "n", nil, false},
		{"a", "a", "z", nil, true},
		{"a", "(", "", nil, true},
	} {
		got, err := RegexpMatches(tc.s, tc.pattern, tc.flags)
		if (err != nil) != tc.err || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("regexp_matches(%q, %q, %q) = %v, %v; want %v (error %v)", tc.s, tc.pattern, tc.flags, got, err, tc.want, tc.err)
		}
	}
}
