package codec

import (
	"encoding/hex"
	"math/big"
	"testing"

	"github.com/duckdb/duckdb-go/v2"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/hopsql/hopsql/engine/pgtypes"
)

// Unconstrained numeric is DECIMAL(38,10) inside: described without a
// modifier, it prints each value with the scale the value needs; a column
// declared numeric(38,10) (typmod set) keeps its ten decimals. Binary
// values carry no trailing zero digit groups, in either case. The
// expected bytes are PostgreSQL 15's numeric_send output for the same
// values (tests/testdata/transcripts/numeric_scale.txt checks them against
// a live server).
func TestUnconstrainedNumeric(t *testing.T) {
	d := func(s string) duckdb.Decimal {
		v, ok := new(big.Int).SetString(s, 10)
		if !ok {
			t.Fatalf("bad %q", s)
		}
		return duckdb.Decimal{Width: pgtypes.UnconstrainedNumericWidth, Scale: pgtypes.UnconstrainedNumericScale, Value: v}
	}
	unconstrained := pgtypes.Type{OID: pgtype.NumericOID, Typmod: -1, Size: -1}
	declared := pgtypes.Type{OID: pgtype.NumericOID, Typmod: pgtypes.NumericTypmod(38, 10), Size: -1}
	for _, c := range []struct {
		name      string
		typ       pgtypes.Type
		v         any
		text, bin string
	}{
		{"fraction", unconstrained, d("15000000000"), "1.5", "000200000000000100011388"},
		{"integer", unconstrained, d("20000000000"), "2", "00010000000000000002"},
		{"small negative", unconstrained, d("-1230000"), "-0.000123", "0002ffff40000006000108fc"},
		{"zero", unconstrained, d("0"), "0", "0000000000000000"},
		{"declared zero", declared, d("0"), "0.0000000000", "000000000000000a"},
		{"all ten decimals", unconstrained, d("12345678901"), "1.2345678901", "000400000000000a000109291a850064"},
		{"beyond int64", unconstrained, d("1000000000000000000000000000000000000"), "100000000000000000000000000", "00010006000000000064"},
		{"declared keeps scale", declared, d("15000000000"), "1.5000000000", "000200000000000a00011388"},
		{"declared negative", declared, d("-1230000"), "-0.0001230000", "0002ffff4000000a000108fc"},
		{"other decimals untouched", unconstrained, duckdb.Decimal{Width: 10, Scale: 2, Value: big.NewInt(150)}, "1.50", "000200000000000200011388"},
		{"other zero", unconstrained, duckdb.Decimal{Width: 10, Scale: 2, Value: big.NewInt(0)}, "0.00", "0000000000000002"},
	} {
		tenc, err := NewEncoder(c.typ, 0, nil)
		if err != nil {
			t.Fatal(err)
		}
		got, err := tenc(nil, c.v)
		if err != nil || string(got) != c.text {
			t.Errorf("%s: text %q, %v; want %q", c.name, got, err, c.text)
		}
		if got, err := AppendText(nil, c.typ, c.v, nil); err != nil || string(got) != c.text {
			t.Errorf("%s: AppendText %q, %v; want %q", c.name, got, err, c.text)
		}
		benc, err := NewEncoder(c.typ, 1, nil)
		if err != nil {
			t.Fatal(err)
		}
		got, err = benc([]byte{0xAA}, c.v)
		if err != nil || hex.EncodeToString(got[1:]) != c.bin || got[0] != 0xAA {
			t.Errorf("%s: binary %x, %v; want %s", c.name, got, err, c.bin)
		}
	}
}
