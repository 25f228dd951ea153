package codec

import (
	"testing"

	"github.com/jackc/pgx/v5/pgtype"

	"github.com/hopsql/hopsql/engine/pgtypes"
)

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

// DuckDB prints unconstrained numeric (DECIMAL(38,10)) in JSON with ten
// decimals; hopsql trims them as it does elsewhere.
func TestJSONNumericTrim(t *testing.T) {
	for _, tc := range []struct{ in, json, jsonb string }{
		{`1.5000000000`, `1.5`, `1.5`},
		{`{"x": 100.0000000000, "s": "1.5000000000", "y": [-0.2500000000, 1.50]}`,
			`{"x": 100, "s": "1.5000000000", "y": [-0.25, 1.50]}`, `{"s": "1.5000000000", "x": 100, "y": [-0.25, 1.50]}`},
		{`{"e": 1.5000000000e3, "z": 0.0000000000, "q": "a\"1.0000000000"}`,
			`{"e": 1.5000000000e3, "z": 0, "q": "a\"1.0000000000"}`, `{"e": 1500.0000000, "q": "a\"1.0000000000", "z": 0}`},
	} {
		for _, jsonb := range []bool{false, true} {
			want := tc.json
			if jsonb {
				want = tc.jsonb
			}
			got, err := textJSONText(nil, tc.in, jsonb, nil)
			if err != nil || string(got) != want {
				t.Errorf("jsonb=%v %s = %s, %v; want %s", jsonb, tc.in, got, err, want)
			}
		}
	}
}
