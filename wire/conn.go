package wire

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"

	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5/pgproto3"

	"github.com/hopsql/hopsql/engine"
	"github.com/hopsql/hopsql/engine/pgerr"
	"github.com/hopsql/hopsql/wire/codec"
)

// conn is one client connection.
type conn struct {
	srv *Server
	raw net.Conn // the TCP connection, for disconnect detection
	// watchDisconnect's timer; watchGen is odd while a statement runs.
	watchTimer *time.Timer
	watchGen   atomic.Uint64
	stopWatch  func()
	nc         net.Conn // raw, or the TLS connection over it
	be         *pgproto3.Backend
	out        []byte
	pid        uint32
	secret     []byte

	sess     *engine.Session
	settings codec.Settings
	// portalFormats are the result format codes given at Bind, per portal.
	portalFormats map[string][]int16
	// skipToSync: an extended-protocol error happened; messages are
	// discarded until Sync, as PostgreSQL does.
	skipToSync bool

	busy      atomic.Bool
	ctx       context.Context
	cancelCtx context.CancelFunc
	mu        sync.Mutex
}

const flushThreshold = 64 << 10

func newConn(s *Server, nc net.Conn) *conn {
	ctx, cancel := context.WithCancel(context.Background())
	return &conn{srv: s, raw: nc, nc: nc, portalFormats: map[string][]int16{}, ctx: ctx, cancelCtx: cancel}
}

// send appends a message to the output buffer.
func (c *conn) send(m pgproto3.BackendMessage) {
	var err error
	c.out, err = m.Encode(c.out)
	if err != nil {
		// Encoding our own messages only fails on oversized fields.
		c.srv.log.Error("encode message", "type", fmt.Sprintf("%T", m), "err", err)
	}
	if len(c.out) >= flushThreshold {
		c.flush()
	}
}

func (c *conn) flush() error {
	if len(c.out) == 0 {
		return nil
	}
	_, err := c.nc.Write(c.out)
	c.out = c.out[:0]
	if err != nil {
		c.cancelCtx() // the client is gone: stop what runs for it
	}
	return err
}

// sendError sends an ErrorResponse (or NoticeResponse for notices).
func (c *conn) sendError(err error) {
	e := pgerr.From(err)
	if e.Code == pgerr.InternalError {
		c.srv.log.Warn("internal error", "pid", c.pid, "err", err)
	}
	c.send(errorMessage(e))
}

func errorMessage(e *pgerr.Error) *pgproto3.ErrorResponse {
	return &pgproto3.ErrorResponse{
		Severity: e.Severity, SeverityUnlocalized: e.Severity, Code: e.Code, Message: e.Message,
		Detail: e.Detail, Hint: e.Hint, Position: int32(e.Position), Where: e.Where,
		SchemaName: e.SchemaName, TableName: e.TableName, ColumnName: e.ColumnName, ConstraintName: e.ConstraintName,
	}
}

// sendNotice sends a NoticeResponse at once, as PostgreSQL does: a long
// statement's progress notices (WAIT EXPERIMENT's) must not wait for its
// end.
func (c *conn) sendNotice(e *pgerr.Error) {
	c.send(&pgproto3.NoticeResponse{
		Severity: e.Severity, SeverityUnlocalized: e.Severity, Code: e.Code, Message: e.Message,
		Detail: e.Detail, Hint: e.Hint, Where: e.Where,
	})
	_ = c.flush()
}

func (c *conn) fatal(e *pgerr.Error) {
	e.Severity = "FATAL"
	c.send(errorMessage(e))
	c.flush()
}

func (c *conn) serve() {
	defer c.nc.Close()
	defer c.cancelCtx()
	c.be = pgproto3.NewBackend(c.nc, c.nc)
	c.nc.SetDeadline(time.Now().Add(time.Minute)) // a client must finish startup in time
	ok, err := c.startup()
	if err != nil || !ok {
		if err != nil && !isDisconnect(err) {
			c.srv.log.Debug("startup failed", "remote", c.raw.RemoteAddr(), "err", err)
		}
		return
	}
	c.nc.SetDeadline(time.Time{})
	defer c.srv.unregister(c)
	defer c.sess.Close()
	defer func() {
		if c.watchTimer != nil {
			c.watchTimer.Stop()
		}
	}()
	c.loop()
}

func isDisconnect(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, net.ErrClosed) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}

// startup runs the startup phase. It returns false when the connection
// should just be closed (cancel requests, failed authentication).
func (c *conn) startup() (bool, error) {
	for {
		msg, err := c.be.ReceiveStartupMessage()
		if err != nil {
			if isDisconnect(err) {
				return false, err
			}
			if v, ok := unknownProtocol(err); ok {
				c.refuseProtocol(v)
				return false, nil
			}
			c.fatal(pgerr.New(pgerr.ProtocolViolation, "invalid startup packet: %v", err))
			return false, err
		}
		switch m := msg.(type) {
		case *pgproto3.SSLRequest:
			if c.srv.cfg.TLS == nil {
				if _, err := c.nc.Write([]byte{'N'}); err != nil {
					return false, err
				}
				continue
			}
			if _, err := c.nc.Write([]byte{'S'}); err != nil {
				return false, err
			}
			tc := tls.Server(c.nc, c.srv.cfg.TLS)
			if err := tc.Handshake(); err != nil {
				return false, fmt.Errorf("tls handshake: %w", err)
			}
			c.nc = tc
			c.be = pgproto3.NewBackend(tc, tc)
		case *pgproto3.GSSEncRequest:
			if _, err := c.nc.Write([]byte{'N'}); err != nil {
				return false, err
			}
		case *pgproto3.CancelRequest:
			c.srv.cancel(m.ProcessID, m.SecretKey)
			return false, nil
		case *pgproto3.StartupMessage:
			return c.begin(m)
		default:
			c.fatal(pgerr.New(pgerr.ProtocolViolation, "unexpected startup message %T", msg))
			return false, nil
		}
	}
}

func (c *conn) begin(m *pgproto3.StartupMessage) (bool, error) {
	if m.ProtocolVersion != pgproto3.ProtocolVersion30 {
		// A newer 3.x minor version is negotiated down to 3.0, as PostgreSQL 15 does.
		c.send(&pgproto3.NegotiateProtocolVersion{NewestMinorProtocol: 0})
	}
	params := m.Parameters
	user := params["user"]
	if user == "" {
		c.fatal(pgerr.New(pgerr.InvalidAuthorizationSpec, "no PostgreSQL user name specified in startup packet"))
		return false, nil
	}
	for k, v := range params {
		if !utf8.ValidString(k) || !utf8.ValidString(user) || !utf8.ValidString(params["database"]) {
			c.fatal(pgerr.New(pgerr.CharacterNotInRepertoire, "invalid byte sequence for encoding \"UTF8\" in startup packet"))
			return false, nil
		}
		if !utf8.ValidString(v) {
			// PostgreSQL replaces what it cannot store in a setting (e.g. a
			// non-UTF-8 application_name) rather than refusing the session.
			params[k] = strings.ToValidUTF8(v, "?")
		}
	}
	db := params["database"]
	if db == "" {
		db = user
	}
	if c.srv.closing.Load() {
		c.fatal(pgerr.New(pgerr.AdminShutdown, "the database system is shutting down"))
		return false, nil
	}
	if ok, err := c.authenticate(user); !ok {
		return false, err
	}
	sess, err := c.srv.eng.Connect(c.ctx, engine.StartupInfo{User: user, Database: db, Params: params})
	if err != nil {
		e := pgerr.From(err)
		c.fatal(e)
		return false, nil
	}
	c.sess = sess
	sess.Notice = c.sendNotice
	sess.ParameterChanged = func(name, value string) {
		c.send(&pgproto3.ParameterStatus{Name: name, Value: value})
		c.refreshSettings()
	}
	c.refreshSettings()
	c.secret = make([]byte, 4)
	rand.Read(c.secret)
	c.srv.register(c)
	sess.SetBackendPID(c.pid)
	c.send(&pgproto3.AuthenticationOk{})
	for _, p := range sess.ReportedParameters() {
		c.send(&pgproto3.ParameterStatus{Name: p[0], Value: p[1]})
	}
	c.send(&pgproto3.BackendKeyData{ProcessID: c.pid, SecretKey: c.secret})
	c.send(&pgproto3.ReadyForQuery{TxStatus: 'I'})
	if err := c.flush(); err != nil {
		return false, err
	}
	c.be.SetMaxBodyLen(c.srv.cfg.MaxMessageSize)
	return true, nil
}

func (c *conn) refreshSettings() {
	c.settings = codec.Settings{TimeZone: c.sess.Location(), ExtraFloatDigits: c.sess.ExtraFloatDigits()}
}

// wakeForShutdown makes an idle connection's Receive return at once.
func (c *conn) wakeForShutdown() {
	c.nc.SetReadDeadline(time.Now())
}

func (c *conn) cancelRunning() {
	if s := c.sess; s != nil {
		s.Cancel()
	}
}

func (c *conn) shuttingDown() bool {
	select {
	case <-c.srv.shutdown:
		return true
	default:
		return false
	}
}

// loop reads and handles messages until the client leaves.
func (c *conn) loop() {
	for {
		if c.shuttingDown() && !c.inTransactionWork() {
			c.fatal(pgerr.New(pgerr.AdminShutdown, "terminating connection due to administrator command"))
			return
		}
		msg, err := c.be.Receive()
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() && c.shuttingDown() {
				c.fatal(pgerr.New(pgerr.AdminShutdown, "terminating connection due to administrator command"))
				return
			}
			if isDisconnect(err) {
				return
			}
			if strings.Contains(err.Error(), " body is invalid") {
				// The whole message was read, so the stream is still in step:
				// an ERROR and a skip to Sync, as PostgreSQL does.
				c.sendError(pgerr.New(pgerr.ProtocolViolation, "insufficient data left in message").WithDetail(err.Error()))
				c.sess.Fail(c.ctx)
				c.skipToSync = true
				if c.flush() != nil {
					return
				}
				continue
			}
			// Oversized, truncated or unknown messages: the stream cannot be
			// resynchronised, so the session ends, as in PostgreSQL.
			c.fatal(pgerr.New(pgerr.ProtocolViolation, "invalid frontend message: %v", err))
			return
		}
		if _, ok := msg.(*pgproto3.Terminate); ok {
			return
		}
		if !c.handle(msg) {
			return
		}
	}
}

// inTransactionWork: a shutdown waits for nothing but running statements;
// an idle client inside a transaction is disconnected (its work rolls back).
func (c *conn) inTransactionWork() bool { return c.busy.Load() }

// handle processes one message; false ends the connection.
func (c *conn) handle(msg pgproto3.FrontendMessage) (keep bool) {
	c.busy.Store(true)
	defer c.busy.Store(false)
	defer func() {
		if r := recover(); r != nil {
			c.srv.log.Error("panic in session", "pid", c.pid, "panic", r, "stack", string(debug.Stack()))
			c.sendError(pgerr.New(pgerr.InternalError, "internal error: %v", r))
			if _, simple := msg.(*pgproto3.Query); simple {
				c.readyForQuery()
			} else {
				c.skipToSync = true
			}
			keep = c.flush() == nil
		}
	}()
	if c.skipToSync {
		if _, ok := msg.(*pgproto3.Sync); !ok {
			return true
		}
	}
	switch m := msg.(type) {
	case *pgproto3.Query:
		c.simpleQuery(m.String)
	case *pgproto3.Parse:
		c.parse(m)
	case *pgproto3.Bind:
		c.bind(m)
	case *pgproto3.Describe:
		c.describe(m)
	case *pgproto3.Execute:
		c.execute(m)
	case *pgproto3.Close:
		if m.ObjectType == 'S' {
			c.sess.CloseStatement(m.Name)
		} else {
			c.sess.ClosePortal(m.Name)
			delete(c.portalFormats, m.Name)
		}
		c.send(&pgproto3.CloseComplete{})
	case *pgproto3.Sync:
		c.skipToSync = false
		if err := c.sess.Sync(c.ctx); err != nil {
			c.sendError(err)
		}
		c.readyForQuery()
	case *pgproto3.Flush:
	case *pgproto3.CopyData, *pgproto3.CopyDone, *pgproto3.CopyFail:
		// Left over from a COPY that already failed: PostgreSQL ignores them.
		return true
	case *pgproto3.FunctionCall:
		c.extendedError(pgerr.New(pgerr.FeatureNotSupported, "the fast-path function call interface is not supported"))
	default:
		c.fatal(pgerr.New(pgerr.ProtocolViolation, "unexpected message %T", msg))
		return false
	}
	// Like PostgreSQL, answers to Parse/Bind/Describe/Execute/Close wait in
	// the buffer until Sync or Flush (or 64 KiB): a pipelined
	// Bind-Execute-Sync costs one write, not three.
	switch msg.(type) {
	case *pgproto3.Query, *pgproto3.Sync, *pgproto3.Flush, *pgproto3.FunctionCall:
		return c.flush() == nil
	}
	return true
}

func (c *conn) readyForQuery() {
	c.send(&pgproto3.ReadyForQuery{TxStatus: c.sess.TxStatus()})
}

// extendedError reports an error in the extended protocol and skips to Sync.
func (c *conn) extendedError(err error) {
	c.sendError(err)
	c.sess.Fail(c.ctx)
	c.skipToSync = true
}

// watchDisconnect cancels the running statement if the client hangs up while
// it runs: nothing else reads the socket then. Short statements pay for
// no more than re-arming the connection's timer; a statement still running
// after 100 ms has the socket checked every 100 ms until it ends.
func (c *conn) watchDisconnect() (stop func()) {
	c.watchGen.Add(1) // odd: a statement runs
	if c.watchTimer == nil {
		c.watchTimer = time.AfterFunc(100*time.Millisecond, c.watchSocket)
		c.stopWatch = func() {
			c.watchGen.Add(1)
			c.watchTimer.Stop()
		}
	} else {
		c.watchTimer.Reset(100 * time.Millisecond)
	}
	return c.stopWatch
}

// watchSocket polls the socket while the statement that armed the timer
// runs.
func (c *conn) watchSocket() {
	gen := c.watchGen.Load()
	if gen%2 == 0 {
		return // it ended
	}
	tcp, ok := c.raw.(syscall.Conn)
	if !ok {
		return
	}
	rc, err := tcp.SyscallConn()
	if err != nil {
		return
	}
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	buf := make([]byte, 1)
	for c.watchGen.Load() == gen {
		closed := false
		rc.Control(func(fd uintptr) {
			n, _, err := syscall.Recvfrom(int(fd), buf, syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
			closed = n == 0 && err == nil || errors.Is(err, syscall.ECONNRESET)
		})
		if closed {
			c.cancelCtx()
			c.sess.Cancel()
			return
		}
		<-t.C
	}
}

// unknownProtocol extracts the version from pgproto3's refusal of a startup
// packet whose code is no known message or protocol version.
func unknownProtocol(err error) (uint32, bool) {
	_, num, ok := strings.Cut(err.Error(), "unknown startup message code: ")
	if !ok {
		return 0, false
	}
	v, perr := strconv.ParseUint(strings.TrimSpace(num), 10, 32)
	return uint32(v), perr == nil
}

// refuseProtocol answers a startup packet for a protocol major version
// hopsql does not speak, in the framing that version's client understands.
func (c *conn) refuseProtocol(v uint32) {
	msg := fmt.Sprintf("unsupported frontend protocol %d.%d: server supports 3.0 to 3.0", v>>16, v&0xffff)
	if v>>16 < 3 {
		// Protocol 2 errors are 'E' and a NUL-terminated string.
		c.nc.Write(append([]byte("EFATAL:  "+msg+"\n"), 0))
		return
	}
	c.fatal(pgerr.New(pgerr.FeatureNotSupported, "%s", msg))
}
