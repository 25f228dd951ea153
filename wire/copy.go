package wire

import (
	"bytes"
	"database/sql/driver"
	"encoding/binary"
	"fmt"
	"strconv"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/jackc/pgx/v5/pgproto3"

	"github.com/hopsql/hopsql/engine"
	"github.com/hopsql/hopsql/engine/pgerr"
	"github.com/hopsql/hopsql/wire/codec"
)

var pgcopySignature = []byte("PGCOPY\n\xff\r\n\x00")

// copy runs the COPY sub-protocol for a COPY … FROM STDIN or TO STDOUT.
func (c *conn) copy(st *engine.Statement) error {
	plan := st.Copy()
	format := int16(0)
	if plan.Format == engine.CopyBinary {
		format = 1
	}
	cols := make([]uint16, len(plan.Fields))
	for i := range cols {
		cols[i] = uint16(format)
	}
	if plan.From {
		return c.copyIn(st, format, cols)
	}
	return c.copyOut(st, format, cols)
}

func (c *conn) copyIn(st *engine.Statement, format int16, cols []uint16) error {
	plan := st.Copy()
	ci, err := c.sess.StartCopyIn(c.ctx, st)
	if err != nil {
		return err
	}
	c.send(&pgproto3.CopyInResponse{OverallFormat: byte(format), ColumnFormatCodes: cols})
	if err := c.flush(); err != nil {
		ci.Abort(c.ctx, "connection lost")
		return err
	}
	var bin *binaryCopyReader
	if plan.Format == engine.CopyBinary {
		bin = &binaryCopyReader{fields: plan.Fields, ci: ci}
	}
	for {
		msg, err := c.be.Receive()
		if err != nil {
			ci.Abort(c.ctx, "connection lost")
			return err
		}
		switch m := msg.(type) {
		case *pgproto3.CopyData:
			if bin != nil {
				err = bin.feed(m.Data)
			} else {
				_, err = ci.Write(m.Data)
			}
			if err != nil {
				// Keep reading until the client ends the copy, then report.
				return c.drainCopy(ci, err)
			}
		case *pgproto3.CopyDone:
			if bin != nil && !bin.finished && len(bin.buf) > 0 {
				ci.Abort(c.ctx, "incomplete data")
				return pgerr.New(pgerr.BadCopyFileFormat, "unexpected EOF in COPY data")
			}
			n, err := ci.Finish(c.ctx)
			if err != nil {
				return err
			}
			c.send(&pgproto3.CommandComplete{CommandTag: []byte("COPY " + strconv.FormatInt(n, 10))})
			return nil
		case *pgproto3.CopyFail:
			return ci.Abort(c.ctx, m.Message)
		case *pgproto3.Flush, *pgproto3.Sync:
			// PostgreSQL ignores these during COPY IN.
		default:
			ci.Abort(c.ctx, "protocol violation")
			return pgerr.New(pgerr.ProtocolViolation, "unexpected message type 0x%02x during COPY from stdin", msgType(msg))
		}
	}
}

func msgType(m pgproto3.FrontendMessage) byte {
	b, _ := m.Encode(nil)
	if len(b) > 0 {
		return b[0]
	}
	return 0
}

func (c *conn) drainCopy(ci *engine.CopyIn, cause error) error {
	for {
		msg, err := c.be.Receive()
		if err != nil {
			ci.Abort(c.ctx, "connection lost")
			return err
		}
		switch msg.(type) {
		case *pgproto3.CopyDone, *pgproto3.CopyFail:
			ci.Abort(c.ctx, "bad data")
			return cause
		}
	}
}

// binaryCopyReader decodes PostgreSQL's binary COPY format across
// CopyData message boundaries.
type binaryCopyReader struct {
	fields   []engine.Field
	ci       *engine.CopyIn
	buf      []byte
	header   bool
	finished bool
	row      []any
}

// appendTuple decodes the n fields of the tuple at the start of b.buf
// straight into the COPY's column builders. ok is false, with nothing
// appended, when the tuple is not all there yet; pos is where it ends.
func (b *binaryCopyReader) appendTuple(cols []array.Builder, n int) (pos int, ok bool, err error) {
	pos = 2
	for i := 0; i < n; i++ {
		if len(b.buf) < pos+4 {
			return 0, false, nil
		}
		l := int(int32(binary.BigEndian.Uint32(b.buf[pos:])))
		pos += 4
		if l < -1 {
			return 0, false, pgerr.New(pgerr.BadCopyFileFormat, "invalid field size")
		}
		if l > 0 {
			pos += l
		}
	}
	if len(b.buf) < pos {
		return 0, false, nil
	}
	pos = 2
	for i := 0; i < n; i++ {
		l := int(int32(binary.BigEndian.Uint32(b.buf[pos:])))
		pos += 4
		if l == -1 {
			cols[i].AppendNull()
			continue
		}
		if err := codec.AppendBinaryCell(cols[i], b.fields[i].Type.OID, b.buf[pos:pos+l]); err != nil {
			return 0, false, pgerr.New(pgerr.InvalidBinaryRepresentation, "incorrect binary data format in column %q: %v", b.fields[i].Name, pgerr.From(err).Message)
		}
		pos += l
	}
	return pos, true, nil
}

func (b *binaryCopyReader) feed(data []byte) error {
	b.buf = append(b.buf, data...)
	for {
		if !b.header {
			if len(b.buf) < len(pgcopySignature)+8 {
				return nil
			}
			if !bytes.Equal(b.buf[:len(pgcopySignature)], pgcopySignature) {
				return pgerr.New(pgerr.BadCopyFileFormat, "COPY file signature not recognized")
			}
			ext := int(binary.BigEndian.Uint32(b.buf[len(pgcopySignature)+4:]))
			if len(b.buf) < len(pgcopySignature)+8+ext {
				return nil
			}
			b.buf = b.buf[len(pgcopySignature)+8+ext:]
			b.header = true
		}
		if b.finished || len(b.buf) < 2 {
			return nil
		}
		n := int(int16(binary.BigEndian.Uint16(b.buf)))
		if n == -1 {
			b.finished, b.buf = true, b.buf[2:]
			return nil
		}
		if n != len(b.fields) {
			return pgerr.New(pgerr.BadCopyFileFormat, "row field count is %d, expected %d", n, len(b.fields))
		}
		if cols := b.ci.Builders(); cols != nil {
			pos, ok, err := b.appendTuple(cols, n)
			if err != nil || !ok {
				return err
			}
			if err := b.ci.EndRow(); err != nil {
				return err
			}
			b.buf = b.buf[pos:]
			continue
		}
		// Parse the whole tuple before consuming it; wait for more data if short.
		pos := 2
		b.row = b.row[:0]
		for i := 0; i < n; i++ {
			if len(b.buf) < pos+4 {
				return nil
			}
			l := int(int32(binary.BigEndian.Uint32(b.buf[pos:])))
			pos += 4
			if l == -1 {
				b.row = append(b.row, nil)
				continue
			}
			if l < 0 {
				return pgerr.New(pgerr.BadCopyFileFormat, "invalid field size")
			}
			if len(b.buf) < pos+l {
				return nil
			}
			v, err := codec.DecodeParam(b.fields[i].Type.OID, 1, b.buf[pos:pos+l])
			if err != nil {
				return pgerr.New(pgerr.InvalidBinaryRepresentation, "incorrect binary data format in column %q: %v", b.fields[i].Name, pgerr.From(err).Message)
			}
			b.row = append(b.row, v)
			pos += l
		}
		if err := b.ci.WriteRow(b.row); err != nil {
			return err
		}
		b.buf = b.buf[pos:]
	}
}

func (c *conn) copyOut(st *engine.Statement, format int16, cols []uint16) error {
	plan := st.Copy()
	c.send(&pgproto3.CopyOutResponse{OverallFormat: byte(format), ColumnFormatCodes: cols})
	var line []byte
	emit := func() error {
		// CopyData framing around the line, appended straight into the send buffer.
		c.out = append(c.out, 'd', 0, 0, 0, 0)
		binary.BigEndian.PutUint32(c.out[len(c.out)-4:], uint32(len(line)+4))
		c.out = append(c.out, line...)
		if len(c.out) >= flushThreshold {
			return c.flush()
		}
		return nil
	}
	var encs []codec.Encoder
	if plan.Format == engine.CopyBinary {
		var err error
		if encs, err = c.encoders(plan.Fields, []int16{1}); err != nil {
			return err
		}
		line = append(append(line[:0], pgcopySignature...), 0, 0, 0, 0, 0, 0, 0, 0)
		if err := emit(); err != nil {
			return err
		}
	} else if plan.Header {
		line = line[:0]
		for i, f := range plan.Fields {
			if i > 0 {
				line = append(line, plan.Delimiter...)
			}
			line = appendCopyField(line, plan, i, f.Name, false)
		}
		line = append(line, '\n')
		if err := emit(); err != nil {
			return err
		}
	}
	// writeRow formats one row of n cells; cell appends cell i's text (or,
	// in binary COPY, binary) form to buf, or says it is NULL.
	binaryFormat := plan.Format == engine.CopyBinary
	var scratch []byte
	writeRow := func(n int, cell cellFunc) error {
		line = line[:0]
		if binaryFormat {
			line = binary.BigEndian.AppendUint16(line, uint16(n))
			for i := 0; i < n; i++ {
				at := len(line)
				line = append(line, 0, 0, 0, 0)
				var ok bool
				var err error
				if line, ok, err = cell(i, line); err != nil {
					return err
				}
				if !ok {
					line = append(line[:at], 0xff, 0xff, 0xff, 0xff)
					continue
				}
				binary.BigEndian.PutUint32(line[at:], uint32(len(line)-at-4))
			}
			return emit()
		}
		for i := 0; i < n; i++ {
			if i > 0 {
				line = append(line, plan.Delimiter...)
			}
			var ok bool
			var err error
			if scratch, ok, err = cell(i, scratch[:0]); err != nil {
				return err
			}
			if !ok {
				line = append(line, plan.Null...)
				continue
			}
			line = appendCopyField(line, plan, i, scratch, true)
		}
		line = append(line, '\n')
		return emit()
	}
	if !binaryFormat {
		var err error
		if encs, err = c.encoders(plan.Fields, nil); err != nil {
			return err
		}
	}
	rowSink := func(row []driver.Value) error {
		return writeRow(len(row), func(i int, buf []byte) ([]byte, bool, error) {
			if row[i] == nil {
				return buf, false, nil
			}
			b, err := encs[i](buf, row[i])
			return b, true, err
		})
	}
	var cells []codec.CellEncoder
	batchSink := func(rec arrow.RecordBatch, lo, hi int) error {
		cols := rec.Columns()
		cells = cells[:0]
		for i, f := range plan.Fields {
			cells = append(cells, codec.BindColumn(f.Type, format, &c.settings, encs[i], cols[i]))
		}
		for r := lo; r < hi; r++ {
			err := writeRow(len(cols), func(i int, buf []byte) ([]byte, bool, error) {
				if cols[i].IsNull(r) {
					return buf, false, nil
				}
				b, err := cells[i](buf, r)
				return b, true, err
			})
			if err != nil {
				return err
			}
		}
		return nil
	}
	stop := c.watchDisconnect()
	n, err := c.sess.CopyOutColumnar(c.ctx, st, rowSink, batchSink)
	stop()
	if err != nil {
		// The client is in COPY OUT mode; an ErrorResponse ends it.
		return err
	}
	if plan.Format == engine.CopyBinary {
		line = append(line[:0], 0xff, 0xff)
		if err := emit(); err != nil {
			return err
		}
	}
	c.send(&pgproto3.CopyDone{})
	c.send(&pgproto3.CommandComplete{CommandTag: []byte(fmt.Sprintf("COPY %d", n))})
	return nil
}

// appendCopyField writes one non-null value in text or CSV format.
func appendCopyField[T string | []byte](dst []byte, plan *engine.CopyPlan, col int, v T, isValue bool) []byte {
	if plan.Format == engine.CopyText {
		for i := 0; i < len(v); i++ {
			switch ch := v[i]; ch {
			case '\\':
				dst = append(dst, '\\', '\\')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\v':
				dst = append(dst, '\\', 'v')
			default:
				if ch == plan.Delimiter[0] {
					dst = append(dst, '\\')
				}
				dst = append(dst, ch)
			}
		}
		return dst
	}
	q, esc := plan.Quote[0], plan.Escape[0]
	needs := plan.ForceQuoteAll || (string(v) == plan.Null && isValue) || (len(v) == 0 && !isValue)
	if !needs && isValue {
		for _, fq := range plan.ForceQuote {
			if fq == plan.Fields[col].Name {
				needs = true
			}
		}
	}
	if !needs {
		for i := 0; i < len(v); i++ {
			if ch := v[i]; ch == plan.Delimiter[0] || ch == q || ch == esc || ch == '\n' || ch == '\r' {
				needs = true
				break
			}
		}
		// PostgreSQL also quotes a lone \. so it cannot be read as end-of-data.
		needs = needs || string(v) == `\.`
	}
	if !needs {
		return append(dst, v...)
	}
	dst = append(dst, q)
	for i := 0; i < len(v); i++ {
		if v[i] == q || v[i] == esc {
			dst = append(dst, esc)
		}
		dst = append(dst, v[i])
	}
	return append(dst, q)
}
