package wire

import (
	"bytes"
	"database/sql/driver"
	"encoding/binary"
	"fmt"
	"strconv"

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
			line = c.appendCopyField(line, plan, i, f.Name, false)
		}
		line = append(line, '\n')
		if err := emit(); err != nil {
			return err
		}
	}
	stop := c.watchDisconnect()
	n, err := c.sess.CopyOut(c.ctx, st, func(row []driver.Value) error {
		line = line[:0]
		if plan.Format == engine.CopyBinary {
			line = binary.BigEndian.AppendUint16(line, uint16(len(row)))
			for i, v := range row {
				if v == nil {
					line = append(line, 0xff, 0xff, 0xff, 0xff)
					continue
				}
				at := len(line)
				line = append(line, 0, 0, 0, 0)
				var err error
				if line, err = encs[i](line, v); err != nil {
					return err
				}
				binary.BigEndian.PutUint32(line[at:], uint32(len(line)-at-4))
			}
			return emit()
		}
		for i, v := range row {
			if i > 0 {
				line = append(line, plan.Delimiter...)
			}
			if v == nil {
				line = append(line, plan.Null...)
				continue
			}
			text, err := codec.AppendText(nil, plan.Fields[i].Type, v, &c.settings)
			if err != nil {
				return err
			}
			line = c.appendCopyField(line, plan, i, string(text), true)
		}
		line = append(line, '\n')
		return emit()
	})
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
func (c *conn) appendCopyField(dst []byte, plan *engine.CopyPlan, col int, v string, isValue bool) []byte {
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
	needs := plan.ForceQuoteAll || (v == plan.Null && isValue) || (v == "" && !isValue)
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
		needs = needs || v == `\.`
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
