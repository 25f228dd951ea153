package codec

import (
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgtype"
)

// BenchmarkEncode measures one column's encoder over driver-shaped values,
// the per-row cost of a large result set. Values are boxed once up front,
// as the driver hands them over.
func BenchmarkEncode(b *testing.B) {
	const n = 1024
	ints, floats, strs, tss := make([]any, n), make([]any, n), make([]any, n), make([]any, n)
	base := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range n {
		ints[i] = int64(i * 7919)
		floats[i] = float64(i) * 1.37
		strs[i] = "category_" + string(rune('a'+i%26))
		tss[i] = base.Add(time.Duration(i) * 1234567 * time.Microsecond)
	}
	cols := []struct {
		name string
		oid  uint32
		vals []any
	}{
		{"int8", pgtype.Int8OID, ints},
		{"float8", pgtype.Float8OID, floats},
		{"text", pgtype.TextOID, strs},
		{"timestamp", pgtype.TimestampOID, tss},
		{"timestamptz", pgtype.TimestamptzOID, tss},
	}
	for _, format := range []int16{0, 1} {
		for _, c := range cols {
			name := c.name + "/text"
			if format == 1 {
				name = c.name + "/binary"
			}
			b.Run(name, func(b *testing.B) {
				enc, err := NewEncoder(typ(c.oid), format, nil)
				if err != nil {
					b.Fatal(err)
				}
				buf := make([]byte, 0, 64)
				b.ReportAllocs()
				for i := 0; b.Loop(); i++ {
					buf, err = enc(buf[:0], c.vals[i%n])
					if err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
