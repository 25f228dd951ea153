package codec

import (
	"encoding/binary"
	"math"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/hopsql/hopsql/engine/columnar"
	"github.com/hopsql/hopsql/engine/pgtypes"
)

// CellEncoder appends the wire form of non-NULL cell i of the column it
// was bound to.
type CellEncoder func(buf []byte, i int) ([]byte, error)

// BindColumn returns the encoder for the cells of one column of a columnar
// batch, for a result column of type t sent in format (0 text, 1 binary).
// enc is that column's row Encoder (NewEncoder with the same arguments):
// cells without a direct path are converted to the value the row interface
// would have produced and go through it, so both paths send the same bytes.
// The direct paths are the common scalar columns whose Arrow type matches
// t's width, and they allocate nothing.
func BindColumn(t pgtypes.Type, format int16, s *Settings, enc Encoder, arr arrow.Array) CellEncoder {
	if s == nil {
		s = defaultSettings
	}
	text := format == 0
	switch a := arr.(type) {
	case *array.Int64:
		if t.OID == pgtype.Int8OID {
			v := a.Int64Values()
			if text {
				return func(buf []byte, i int) ([]byte, error) { return appendInt(buf, v[i]), nil }
			}
			return func(buf []byte, i int) ([]byte, error) { return binary.BigEndian.AppendUint64(buf, uint64(v[i])), nil }
		}
	case *array.Int32:
		if t.OID == pgtype.Int4OID {
			v := a.Int32Values()
			if text {
				return func(buf []byte, i int) ([]byte, error) { return appendInt(buf, int64(v[i])), nil }
			}
			return func(buf []byte, i int) ([]byte, error) { return binary.BigEndian.AppendUint32(buf, uint32(v[i])), nil }
		}
	case *array.Int16:
		if t.OID == pgtype.Int2OID {
			v := a.Int16Values()
			if text {
				return func(buf []byte, i int) ([]byte, error) { return appendInt(buf, int64(v[i])), nil }
			}
			return func(buf []byte, i int) ([]byte, error) { return binary.BigEndian.AppendUint16(buf, uint16(v[i])), nil }
		}
	case *array.Float64:
		if t.OID == pgtype.Float8OID {
			v := a.Float64Values()
			if text {
				return func(buf []byte, i int) ([]byte, error) { return appendFloat8(buf, v[i], s.ExtraFloatDigits), nil }
			}
			return func(buf []byte, i int) ([]byte, error) {
				return binary.BigEndian.AppendUint64(buf, math.Float64bits(v[i])), nil
			}
		}
	case *array.Float32:
		if t.OID == pgtype.Float4OID {
			v := a.Float32Values()
			if text {
				return func(buf []byte, i int) ([]byte, error) { return appendFloat4(buf, v[i], s.ExtraFloatDigits), nil }
			}
			return func(buf []byte, i int) ([]byte, error) {
				return binary.BigEndian.AppendUint32(buf, math.Float32bits(v[i])), nil
			}
		}
	case *array.String:
		// text and varchar are the same bytes in both formats.
		if t.OID == pgtype.TextOID || t.OID == pgtype.VarcharOID {
			return func(buf []byte, i int) ([]byte, error) { return append(buf, a.Value(i)...), nil }
		}
	case *array.Boolean:
		if t.OID == pgtype.BoolOID {
			t, f := byte('t'), byte('f')
			if !text {
				t, f = 1, 0
			}
			return func(buf []byte, i int) ([]byte, error) {
				if a.Value(i) {
					return append(buf, t), nil
				}
				return append(buf, f), nil
			}
		}
	}
	return func(buf []byte, i int) ([]byte, error) {
		v, err := columnar.Value(arr, i)
		if err != nil {
			return nil, err
		}
		return enc(buf, v)
	}
}
