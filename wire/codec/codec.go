package codec

import (
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5/pgtype"

	"github.com/hopsql/hopsql/engine/pgerr"
	"github.com/hopsql/hopsql/engine/pgtypes"
)

// Settings are the session settings that change text output. An Encoder
// reads them on every call, so a session that changes a setting between
// rows (SET inside a transaction, say) is honoured without re-planning.
type Settings struct {
	// TimeZone is the zone timestamptz values are printed in; nil means UTC.
	TimeZone *time.Location
	// ExtraFloatDigits is extra_float_digits: PostgreSQL's default 1 (and any
	// value > 0) prints the shortest text that reads back exactly; 0 and below
	// round to 15+n (float8) or 6+n (float4) significant digits. Note that
	// the zero value of Settings therefore means extra_float_digits = 0; use
	// DefaultSettings for PostgreSQL's defaults.
	ExtraFloatDigits int
	// IntervalStyle is the IntervalStyle setting. Only "postgres" (the
	// default; "" means the same) is implemented; other styles print as
	// postgres for now.
	IntervalStyle string
}

// DefaultSettings returns PostgreSQL's defaults: UTC, extra_float_digits 1,
// IntervalStyle postgres.
func DefaultSettings() *Settings {
	return &Settings{TimeZone: time.UTC, ExtraFloatDigits: 1, IntervalStyle: "postgres"}
}

var defaultSettings = DefaultSettings()

// Encoder appends the wire form of a non-NULL value (the caller writes the -1
// length for NULLs and the length prefix).
type Encoder func(buf []byte, v any) ([]byte, error)

// textFunc and binFunc are the per-type workers behind an Encoder. Settings
// are passed explicitly so the same function serves AppendText and arrays.
type (
	textFunc func(buf []byte, v any, s *Settings) ([]byte, error)
	binFunc  func(buf []byte, v any) ([]byte, error)
)

// NewEncoder returns the encoder for one result column. format is 0 (text)
// or 1 (binary). s may be nil (PostgreSQL's defaults); the encoder keeps the
// pointer, so later changes to *s apply to later rows.
func NewEncoder(t pgtypes.Type, format int16, s *Settings) (Encoder, error) {
	if s == nil {
		s = defaultSettings
	}
	switch format {
	case 0:
		f := textFor(t)
		// The common scalar types get closures without the extra indirection
		// and with the type assertion first: these are the 10M-row paths.
		switch t.OID {
		case pgtype.Int8OID:
			return func(buf []byte, v any) ([]byte, error) {
				if x, ok := v.(int64); ok {
					return appendInt(buf, x), nil
				}
				return f(buf, v, s)
			}, nil
		case pgtype.Int4OID:
			return func(buf []byte, v any) ([]byte, error) {
				if x, ok := v.(int32); ok {
					return appendInt(buf, int64(x)), nil
				}
				return f(buf, v, s)
			}, nil
		case pgtype.TextOID, pgtype.VarcharOID:
			return func(buf []byte, v any) ([]byte, error) {
				if x, ok := v.(string); ok {
					return append(buf, x...), nil
				}
				return f(buf, v, s)
			}, nil
		case pgtype.Float8OID:
			return func(buf []byte, v any) ([]byte, error) {
				if x, ok := v.(float64); ok {
					return appendFloat8(buf, x, s.ExtraFloatDigits), nil
				}
				return f(buf, v, s)
			}, nil
		}
		return func(buf []byte, v any) ([]byte, error) { return f(buf, v, s) }, nil
	case 1:
		f, err := binFor(t)
		if err != nil {
			return nil, err
		}
		return Encoder(f), nil
	default:
		return nil, pgerr.New(pgerr.ProtocolViolation, "unsupported format code: %d", format)
	}
}

// AppendText is the text form for COPY TO and for anything that needs
// PostgreSQL's text output of a value of type t. s may be nil (defaults).
func AppendText(buf []byte, t pgtypes.Type, v any, s *Settings) ([]byte, error) {
	if s == nil {
		s = defaultSettings
	}
	return textFor(t)(buf, v, s)
}

// elemType returns the element type of an array type: t.Elem when the
// planner filled it in, else the static catalog's element OID.
func elemType(t pgtypes.Type) (pgtypes.Type, bool) {
	if t.Elem != nil {
		return *t.Elem, true
	}
	info, ok := pgtypes.Lookup(t.OID)
	if !ok || info.Category != 'A' || info.ElemOID == 0 {
		return pgtypes.Type{}, false
	}
	e := pgtypes.Type{OID: info.ElemOID, Typmod: -1, Size: -1}
	if ei, ok := pgtypes.Lookup(info.ElemOID); ok {
		e.Size = ei.Len
	}
	return e, true
}

func typeName(oid uint32) string {
	if info, ok := pgtypes.Lookup(oid); ok {
		return info.Name
	}
	return fmt.Sprintf("oid %d", oid)
}

// textFor picks the text writer for a type.
func textFor(t pgtypes.Type) textFunc {
	if t.OID == pgtype.BPCharOID && t.Typmod > 4 {
		n := int(t.Typmod - 4)
		return func(buf []byte, v any, s *Settings) ([]byte, error) {
			start := len(buf)
			buf, err := textString(buf, v, s)
			return padChars(buf, start, n), err
		}
	}
	switch t.OID {
	case pgtype.BoolOID:
		return textBool
	case pgtype.TextOID, pgtype.VarcharOID, pgtype.BPCharOID, pgtype.NameOID, pgtype.QCharOID, pgtypes.UnknownOID:
		return textString
	case pgtype.Int2OID, pgtype.Int4OID, pgtype.Int8OID, pgtype.OIDOID,
		pgtypes.RegclassOID, pgtypes.RegtypeOID, pgtypes.RegprocOID, pgtypes.RegnamespaceOID:
		return textInt
	case pgtype.Float4OID:
		return textFloat4
	case pgtype.Float8OID:
		return textFloat8
	case pgtype.NumericOID:
		if t.Typmod < 0 {
			return func(buf []byte, v any, s *Settings) ([]byte, error) { return textNumeric(buf, trimScale(v), s) }
		}
		return textNumeric
	case pgtype.ByteaOID:
		return textBytea
	case pgtype.DateOID:
		return textDate
	case pgtype.TimeOID:
		return textTime
	case timetzOID:
		return textTimeTZ
	case pgtype.TimestampOID:
		return textTimestamp
	case pgtype.TimestamptzOID:
		return textTimestamptz
	case pgtype.IntervalOID:
		return textInterval
	case pgtype.UUIDOID:
		return textUUID
	case pgtype.JSONOID, pgtype.JSONBOID:
		jsonb := t.OID == pgtype.JSONBOID
		if t.JSONText {
			return func(buf []byte, v any, s *Settings) ([]byte, error) { return textJSONText(buf, v, jsonb, s) }
		}
		if jsonb {
			return textJSONB
		}
		return textJSON
	case pgtypes.Int2VectorOID, pgtypes.OIDVectorOID:
		// int2vector and oidvector print space-separated, without braces.
		return func(buf []byte, v any, s *Settings) ([]byte, error) {
			return appendVectorText(buf, v, s)
		}
	}
	if e, ok := elemType(t); ok {
		ef := textFor(e)
		return func(buf []byte, v any, s *Settings) ([]byte, error) {
			return appendArrayText(buf, v, ef, s)
		}
	}
	return textGeneric
}

// binFor picks the binary writer for a type.
func binFor(t pgtypes.Type) (binFunc, error) {
	switch t.OID {
	case pgtype.BoolOID:
		return binBool, nil
	case pgtype.Int2OID:
		return binInt2, nil
	case pgtype.Int4OID:
		return binInt4, nil
	case pgtype.Int8OID:
		return binInt8, nil
	case pgtype.OIDOID, pgtypes.RegclassOID, pgtypes.RegtypeOID, pgtypes.RegprocOID, pgtypes.RegnamespaceOID:
		return binOID, nil
	case pgtype.Float4OID:
		return binFloat4, nil
	case pgtype.Float8OID:
		return binFloat8, nil
	case pgtype.NumericOID:
		if t.Typmod < 0 {
			return func(buf []byte, v any) ([]byte, error) { return binNumeric(buf, trimScale(v)) }, nil
		}
		return binNumeric, nil
	case pgtype.ByteaOID:
		return binBytea, nil
	case pgtype.BPCharOID:
		if t.Typmod > 4 {
			n := int(t.Typmod - 4)
			return func(buf []byte, v any) ([]byte, error) {
				start := len(buf)
				buf, err := binTextual(buf, v)
				return padChars(buf, start, n), err
			}, nil
		}
		return binTextual, nil
	case pgtype.TextOID, pgtype.VarcharOID, pgtype.NameOID, pgtype.QCharOID,
		pgtypes.UnknownOID:
		// Binary text is the text itself.
		return binTextual, nil
	case pgtype.JSONOID:
		if t.JSONText {
			return func(buf []byte, v any) ([]byte, error) { return textJSONText(buf, v, false, defaultSettings) }, nil
		}
		return binJSON, nil
	case pgtype.JSONBOID:
		if t.JSONText {
			// jsonb's binary form is a version byte and the text.
			return func(buf []byte, v any) ([]byte, error) { return textJSONText(append(buf, 1), v, true, defaultSettings) }, nil
		}
		return binJSONB, nil
	case pgtype.DateOID:
		return binDate, nil
	case pgtype.TimeOID:
		return binTime, nil
	case timetzOID:
		return binTimeTZ, nil
	case pgtype.TimestampOID:
		return binTimestamp, nil
	case pgtype.TimestamptzOID:
		return binTimestamptz, nil
	case pgtype.IntervalOID:
		return binInterval, nil
	case pgtype.UUIDOID:
		return binUUID, nil
	}
	if e, ok := elemType(t); ok {
		ef, err := binFor(e)
		if err != nil {
			return nil, err
		}
		elemOID := e.OID
		return func(buf []byte, v any) ([]byte, error) {
			return appendArrayBinary(buf, v, elemOID, ef)
		}, nil
	}
	return nil, pgerr.New(pgerr.UndefinedFunction, "no binary output function available for type %s", typeName(t.OID))
}

const timetzOID uint32 = 1266

// typeError reports a value the planner did not expect for a column type:
// a bug in hopsql, not in the client's data, hence XX000.
func typeError(oid uint32, v any) error {
	return pgerr.New(pgerr.InternalError, "codec: cannot encode %T as %s", v, typeName(oid))
}

// padChars pads the text at buf[start:] with spaces to n characters:
// character(n) values print at their full length, as PostgreSQL stores
// them (hopsql keeps them unpadded, as DuckDB VARCHAR).
func padChars(buf []byte, start, n int) []byte {
	for c := utf8.RuneCount(buf[start:]); c < n; c++ {
		buf = append(buf, ' ')
	}
	return buf
}
