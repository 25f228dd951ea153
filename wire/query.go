package wire

import (
	"database/sql/driver"
	"encoding/binary"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/jackc/pgx/v5/pgproto3"

	"github.com/hopsql/hopsql/engine"
	"github.com/hopsql/hopsql/engine/pgerr"
	"github.com/hopsql/hopsql/engine/pgtypes"
	"github.com/hopsql/hopsql/wire/codec"
)

func invalidUTF8() *pgerr.Error {
	return pgerr.New(pgerr.CharacterNotInRepertoire, "invalid byte sequence for encoding \"UTF8\"")
}

// simpleQuery runs a Query message: every statement in the string, in an
// implicit transaction when there are several, text results.
func (c *conn) simpleQuery(sql string) {
	// Not deferred: after a panic, handle's recover sends the error and the
	// one ReadyForQuery.
	c.simpleQueryBody(sql)
	c.readyForQuery()
}

func (c *conn) simpleQueryBody(sql string) {
	if c.srv.cfg.DebugPanicQuery != "" && sql == c.srv.cfg.DebugPanicQuery {
		panic("debug panic requested by test")
	}
	if !utf8.ValidString(sql) {
		c.sendError(invalidUTF8())
		c.sess.Fail(c.ctx)
		return
	}
	pieces, err := c.sess.Split(c.ctx, sql)
	if err != nil {
		c.sendError(err)
		c.sess.Fail(c.ctx)
		return
	}
	if len(pieces) == 0 {
		c.send(&pgproto3.EmptyQueryResponse{})
		return
	}
	for _, p := range pieces {
		st, err := c.sess.PreparePiece(c.ctx, p)
		if err == nil {
			err = c.runSimple(st)
		}
		if err != nil {
			pe := pgerr.From(err)
			if pe.Position > 0 && p.Offset > 0 {
				pe.Position += len([]rune(sql[:p.Offset]))
			}
			c.sendError(pe)
			c.sess.Fail(c.ctx)
			return
		}
	}
	if err := c.sess.Sync(c.ctx); err != nil {
		c.sendError(err)
	}
}

func (c *conn) runSimple(st *engine.Statement) error {
	if st.Copy() != nil {
		return c.copy(st)
	}
	p, err := c.sess.Bind("", "", nil)
	if err != nil {
		return err
	}
	encs, err := c.encoders(st.Fields, nil)
	if err != nil {
		return err
	}
	// RowDescription goes out with the first row or at completion, so an
	// error before any row (1/0 folded at plan time in PostgreSQL) is sent
	// alone, as PostgreSQL sends it.
	described := st.Fields == nil
	describe := func() {
		if !described {
			c.send(rowDescription(st.Fields, nil))
			described = true
		}
	}
	sink, batch := c.rowSink(encs), c.batchSink(st.Fields, nil, encs)
	stop := c.watchDisconnect()
	res, err := c.sess.ExecuteColumnar(c.ctx, p, 0, func(row []driver.Value) error {
		describe()
		return sink(row)
	}, func(rec arrow.RecordBatch, lo, hi int) error {
		describe()
		return batch(rec, lo, hi)
	})
	stop()
	if err != nil {
		return err
	}
	describe()
	c.complete(res)
	return nil
}

func (c *conn) complete(res engine.Result) {
	switch {
	case res.Empty:
		c.send(&pgproto3.EmptyQueryResponse{})
	case res.Suspended:
		c.send(&pgproto3.PortalSuspended{})
	default:
		c.send(&pgproto3.CommandComplete{CommandTag: []byte(res.Tag)})
	}
}

// formatFor returns the format code for column i given Bind's codes: none
// means text, one applies to all, otherwise one per column.
func formatFor(codes []int16, i int) int16 {
	switch len(codes) {
	case 0:
		return 0
	case 1:
		return codes[0]
	}
	if i < len(codes) {
		return codes[i]
	}
	return 0
}

func rowDescription(fields []engine.Field, formats []int16) *pgproto3.RowDescription {
	rd := &pgproto3.RowDescription{Fields: make([]pgproto3.FieldDescription, len(fields))}
	for i, f := range fields {
		rd.Fields[i] = pgproto3.FieldDescription{
			Name: []byte(f.Name), TableOID: f.TableOID, TableAttributeNumber: uint16(f.Column),
			DataTypeOID: f.Type.OID, DataTypeSize: f.Type.Size, TypeModifier: f.Type.Typmod,
			Format: formatFor(formats, i),
		}
	}
	return rd
}

func (c *conn) encoders(fields []engine.Field, formats []int16) ([]codec.Encoder, error) {
	encs := make([]codec.Encoder, len(fields))
	for i, f := range fields {
		e, err := codec.NewEncoder(f.Type, formatFor(formats, i), &c.settings)
		if err != nil {
			return nil, err
		}
		encs[i] = e
	}
	return encs, nil
}

// cellFunc appends the wire form of cell i of a row to buf; ok is false
// (and buf unchanged) for NULL.
type cellFunc func(i int, buf []byte) (out []byte, ok bool, err error)

// dataRow appends a DataRow of n cells straight to the send buffer,
// flushing it when full; on an error the row is taken back.
func (c *conn) dataRow(n int, cell cellFunc) error {
	start := len(c.out)
	c.out = append(c.out, 'D', 0, 0, 0, 0, 0, 0)
	binary.BigEndian.PutUint16(c.out[start+5:], uint16(n))
	for i := 0; i < n; i++ {
		at := len(c.out)
		c.out = append(c.out, 0, 0, 0, 0)
		var ok bool
		var err error
		c.out, ok, err = cell(i, c.out)
		if err != nil {
			c.out = c.out[:start]
			return err
		}
		if !ok {
			c.out = append(c.out[:at], 0xff, 0xff, 0xff, 0xff)
			continue
		}
		binary.BigEndian.PutUint32(c.out[at:], uint32(len(c.out)-at-4))
	}
	binary.BigEndian.PutUint32(c.out[start+1:], uint32(len(c.out)-start-1))
	if len(c.out) >= flushThreshold {
		return c.flush()
	}
	return nil
}

// rowSink encodes rows as DataRow messages.
func (c *conn) rowSink(encs []codec.Encoder) engine.RowSink {
	return func(row []driver.Value) error {
		return c.dataRow(len(row), func(i int, buf []byte) ([]byte, bool, error) {
			if row[i] == nil {
				return buf, false, nil
			}
			b, err := encs[i](buf, row[i])
			return b, true, err
		})
	}
}

// batchSink encodes rows of columnar batches as DataRow messages, with each
// column's encoder bound to its Arrow array once per batch
// (codec.BindColumn).
func (c *conn) batchSink(fields []engine.Field, formats []int16, encs []codec.Encoder) engine.BatchSink {
	var cells []codec.CellEncoder
	return func(rec arrow.RecordBatch, lo, hi int) error {
		cols := rec.Columns()
		cells = cells[:0]
		for i, f := range fields {
			cells = append(cells, codec.BindColumn(f.Type, formatFor(formats, i), &c.settings, encs[i], cols[i]))
		}
		for r := lo; r < hi; r++ {
			err := c.dataRow(len(cols), func(i int, buf []byte) ([]byte, bool, error) {
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
}

func (c *conn) parse(m *pgproto3.Parse) {
	if !utf8.ValidString(m.Query) || !utf8.ValidString(m.Name) {
		c.extendedError(invalidUTF8())
		return
	}
	if _, err := c.sess.Prepare(c.ctx, m.Name, m.Query, m.ParameterOIDs); err != nil {
		c.extendedError(err)
		return
	}
	c.send(&pgproto3.ParseComplete{})
}

func (c *conn) bind(m *pgproto3.Bind) {
	st, ok := c.sess.Statement(m.PreparedStatement)
	if !ok {
		c.extendedError(pgerr.New(pgerr.InvalidSQLStatementName, "prepared statement %q does not exist", m.PreparedStatement))
		return
	}
	if n := len(m.ParameterFormatCodes); n > 1 && n != len(m.Parameters) {
		c.extendedError(pgerr.New(pgerr.ProtocolViolation, "bind message has %d parameter formats but %d parameters", n, len(m.Parameters)))
		return
	}
	if len(m.Parameters) != len(st.ParamOIDs) {
		c.extendedError(pgerr.New(pgerr.ProtocolViolation, "bind message supplies %d parameters, but prepared statement %q requires %d",
			len(m.Parameters), m.PreparedStatement, len(st.ParamOIDs)))
		return
	}
	args := make([]any, len(m.Parameters))
	for i, raw := range m.Parameters {
		if raw == nil {
			continue
		}
		f := formatFor(m.ParameterFormatCodes, i)
		if f == 1 {
			if info, ok := pgtypes.Lookup(st.ParamOIDs[i]); ok && info.Len > 0 && info.Category != 'S' && len(raw) < int(info.Len) {
				c.extendedError(pgerr.New(pgerr.ProtocolViolation, "insufficient data left in message"))
				return
			}
		}
		if f == 0 && !utf8.Valid(raw) {
			c.extendedError(invalidUTF8())
			return
		}
		v, err := codec.DecodeParam(st.ParamOIDs[i], f, raw)
		if err != nil {
			c.extendedError(codec.BindError(err, i+1))
			return
		}
		args[i] = v
	}
	for _, f := range m.ResultFormatCodes {
		if f != 0 && f != 1 {
			c.extendedError(pgerr.New(pgerr.ProtocolViolation, "unsupported format code: %d", f))
			return
		}
	}
	if n := len(m.ResultFormatCodes); n > 1 && n != len(st.Fields) {
		c.extendedError(pgerr.New(pgerr.ProtocolViolation, "bind message has %d result formats but query has %d columns", n, len(st.Fields)))
		return
	}
	if _, err := c.sess.BindPipelined(m.DestinationPortal, m.PreparedStatement, args); err != nil {
		c.extendedError(err)
		return
	}
	c.portalFormats[m.DestinationPortal] = append([]int16(nil), m.ResultFormatCodes...)
	c.send(&pgproto3.BindComplete{})
}

func (c *conn) describe(m *pgproto3.Describe) {
	switch m.ObjectType {
	case 'S':
		st, ok := c.sess.Statement(m.Name)
		if !ok {
			c.extendedError(pgerr.New(pgerr.InvalidSQLStatementName, "prepared statement %q does not exist", m.Name))
			return
		}
		c.send(&pgproto3.ParameterDescription{ParameterOIDs: st.ParamOIDs})
		if st.Fields == nil || st.Copy() != nil {
			c.send(&pgproto3.NoData{})
		} else {
			c.send(rowDescription(st.Fields, nil))
		}
	case 'P':
		p, ok := c.sess.Portal(m.Name)
		if !ok {
			c.extendedError(pgerr.New(pgerr.InvalidCursorName, "portal %q does not exist", m.Name))
			return
		}
		st := p.Statement()
		if st.Fields == nil || st.Copy() != nil {
			c.send(&pgproto3.NoData{})
		} else {
			c.send(rowDescription(st.Fields, c.portalFormats[m.Name]))
		}
	default:
		c.extendedError(pgerr.New(pgerr.ProtocolViolation, "invalid DESCRIBE message subtype %d", m.ObjectType))
	}
}

func (c *conn) execute(m *pgproto3.Execute) {
	p, ok := c.sess.Portal(m.Portal)
	if !ok {
		c.extendedError(pgerr.New(pgerr.InvalidCursorName, "portal %q does not exist", m.Portal))
		return
	}
	st := p.Statement()
	if st.Copy() != nil {
		if err := c.copy(st); err != nil {
			c.extendedError(err)
		}
		return
	}
	formats := c.portalFormats[m.Portal]
	encs, err := c.encoders(st.Fields, formats)
	if err != nil {
		c.extendedError(err)
		return
	}
	stop := c.watchDisconnect()
	res, err := c.sess.ExecuteColumnar(c.ctx, p, int(m.MaxRows), c.rowSink(encs), c.batchSink(st.Fields, formats, encs))
	stop()
	if err != nil {
		c.extendedError(err)
		return
	}
	c.complete(res)
}
