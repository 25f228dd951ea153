package jsonb

import "testing"

// Expectations are PostgreSQL 15's: SELECT '<in>'::jsonb.
func TestJSONBText(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`1e2`, `100`},
		{`1E-2`, `0.01`},
		{`-1.5E+3`, `-1500`},
		{`1.50e1`, `15.0`},
		{`0.0001e-2`, `0.000001`},
		{`-0`, `0`},
		{`-0.0`, `0.0`},
		{`0e5`, `0`},
		{`0.00e1`, `0.0`},
		{`12345678901234567890`, `12345678901234567890`},
		{`1.0`, `1.0`},
		{`-12.340`, `-12.340`},
		{`  {"b": 1, "a": 2, "b": 3, "aa": null}  `, `{"a": 2, "b": 3, "aa": null}`},
		{`[1,[2,{}],[]]`, `[1, [2, {}], []]`},
		{`"\u00e9\/\t\u0001"`, `"é/\t\u0001"`},
		{`{"bb":{"y":true,"x":false},"c":""}`, `{"c": "", "bb": {"x": false, "y": true}}`},
		{`not json`, ``},
		{`{"a": 1} x`, ``},
	} {
		got, err := Append(nil, tc.in, nil)
		if (err != nil) != (tc.want == "") || string(got) != tc.want {
			t.Errorf("jsonb text of %s = %s, %v; want %s", tc.in, got, err, tc.want)
		}
	}
}
