package codec

import (
	"encoding/binary"
	"fmt"
	"math"
	"unicode/utf8"

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

// DuckDB's infinite dates and timestamps: the largest value and its
// negation (PostgreSQL's -infinity is the smallest value instead).
const (
	duckDateInfinity = math.MaxInt32
	duckTSInfinity   = math.MaxInt64
)

// AppendBinaryCell decodes one non-NULL binary-format value of type oid (a
// field of a binary COPY row) straight into b, a builder of the Arrow type
// columnar.CopyType gives for oid. Malformed values get DecodeParam's
// errors, so both COPY paths reject the same input the same way.
func AppendBinaryCell(b array.Builder, oid uint32, data []byte) error {
	be := binary.BigEndian
	fixed := func(n int) bool { return len(data) == n }
	switch bb := b.(type) {
	case *array.BooleanBuilder:
		if oid == pgtype.BoolOID && fixed(1) {
			bb.Append(data[0] != 0)
			return nil
		}
	case *array.Int16Builder:
		if oid == pgtype.Int2OID && fixed(2) {
			bb.Append(int16(be.Uint16(data)))
			return nil
		}
	case *array.Int32Builder:
		if oid == pgtype.Int4OID && fixed(4) {
			bb.Append(int32(be.Uint32(data)))
			return nil
		}
	case *array.Int64Builder:
		if oid == pgtype.Int8OID && fixed(8) {
			bb.Append(int64(be.Uint64(data)))
			return nil
		}
	case *array.Float32Builder:
		if oid == pgtype.Float4OID && fixed(4) {
			bb.Append(math.Float32frombits(be.Uint32(data)))
			return nil
		}
	case *array.Float64Builder:
		if oid == pgtype.Float8OID && fixed(8) {
			bb.Append(math.Float64frombits(be.Uint64(data)))
			return nil
		}
	case *array.StringBuilder:
		if (oid == pgtype.TextOID || oid == pgtype.VarcharOID) && utf8.Valid(data) {
			bb.BinaryBuilder.Append(data)
			return nil
		}
	case *array.Date32Builder:
		if oid == pgtype.DateOID && fixed(4) {
			d := int32(be.Uint32(data))
			switch d {
			case math.MaxInt32:
				bb.Append(duckDateInfinity)
			case math.MinInt32:
				bb.Append(-duckDateInfinity)
			default:
				bb.Append(arrow.Date32(int64(d) + pgEpochDays))
			}
			return nil
		}
	case *array.TimestampBuilder:
		if (oid == pgtype.TimestampOID || oid == pgtype.TimestamptzOID) && fixed(8) {
			us := int64(be.Uint64(data))
			switch us {
			case math.MaxInt64:
				bb.Append(duckTSInfinity)
			case math.MinInt64:
				bb.Append(-duckTSInfinity)
			default:
				bb.Append(arrow.Timestamp(us + pgEpochMicros))
			}
			return nil
		}
	}
	if _, err := DecodeParam(oid, 1, data); err != nil {
		return err
	}
	return fmt.Errorf("codec: no Arrow builder %T for type %d", b, oid)
}
