package codec

import (
	"testing"

	"github.com/jackc/pgx/v5/pgtype"

	"github.com/hopsql/hopsql/engine/pgtypes"
)

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
		{`not json`, `not json`}, // DuckDB validated it: kept as it is
	} {
		got, err := appendJSONBText(nil, tc.in)
		if err != nil || string(got) != tc.want {
			t.Errorf("jsonb text of %s = %s, %v; want %s", tc.in, got, err, tc.want)
		}
	}
}

func TestJSONTextEncoders(t *testing.T) {
	in := `{"b": 1,  "a": 2}`
	for _, tc := range []struct {
		jsonb  bool
		format int16
		want   string
	}{
		{false, 0, in},
		{false, 1, in},
		{true, 0, `{"a": 2, "b": 1}`},
		{true, 1, "\x01" + `{"a": 2, "b": 1}`},
	} {
		typ := jsonType(tc.jsonb)
		typ.JSONText = true
		enc, err := NewEncoder(typ, tc.format, nil)
		if err != nil {
			t.Fatal(err)
		}
		got, err := enc(nil, in)
		if err != nil || string(got) != tc.want {
			t.Errorf("jsonb=%v format %d: %q, %v; want %q", tc.jsonb, tc.format, got, err, tc.want)
		}
	}
}

func jsonType(jsonb bool) pgtypes.Type {
	if jsonb {
		return pgtypes.Type{OID: pgtype.JSONBOID, Typmod: -1, Size: -1}
	}
	return pgtypes.Type{OID: pgtype.JSONOID, Typmod: -1, Size: -1}
}
