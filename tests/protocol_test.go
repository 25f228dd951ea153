package tests

// Bad input on the wire, each against a real hopsql process: every failure
// must end in an ErrorResponse with the right SQLSTATE or a clean close of
// that one session, and every other session must not notice.

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgproto3"
)

// received is what a raw connection got until the server closed it (or the
// deadline passed).
type received struct {
	types  []string
	errors []pgproto3.ErrorResponse
	closed bool // clean EOF (or reset) from the server
	err    error
}

func (r received) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "messages %v", r.types)
	for _, e := range r.errors {
		fmt.Fprintf(&b, "; %s %s %q", e.Severity, e.Code, e.Message)
	}
	fmt.Fprintf(&b, "; closed=%v err=%v", r.closed, r.err)
	return b.String()
}

// collect reads backend messages until the connection ends, the deadline
// passes, or stop says enough.
func collect(nc net.Conn, fe *pgproto3.Frontend, timeout time.Duration, stop func(pgproto3.BackendMessage) bool) received {
	var r received
	nc.SetReadDeadline(time.Now().Add(timeout))
	defer nc.SetReadDeadline(time.Time{})
	for {
		m, err := fe.Receive()
		if err != nil {
			r.closed = errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNRESET)
			if !r.closed {
				r.err = err
			}
			return r
		}
		r.types = append(r.types, msgName(m))
		if e, ok := m.(*pgproto3.ErrorResponse); ok {
			r.errors = append(r.errors, *e)
		}
		if stop != nil && stop(m) {
			return r
		}
	}
}

func untilReady(m pgproto3.BackendMessage) bool {
	_, ok := m.(*pgproto3.ReadyForQuery)
	return ok
}

// expectFatal asserts the session ended with exactly one FATAL of code.
func expectFatal(t *testing.T, r received, code string) {
	t.Helper()
	if len(r.errors) != 1 || r.errors[0].Severity != "FATAL" || r.errors[0].Code != code || !r.closed {
		t.Errorf("want FATAL %s then close, got %s", code, r)
	}
}

// queryOK sends a simple query on a raw connection and checks it succeeds.
func queryOK(t *testing.T, c *wireConn, sql string) {
	t.Helper()
	c.fe.Send(&pgproto3.Query{String: sql})
	if err := c.fe.Flush(); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	r := collect(c.nc, c.fe, 20*time.Second, untilReady)
	if len(r.errors) > 0 || len(r.types) == 0 || r.types[len(r.types)-1] != "ReadyForQuery" {
		t.Fatalf("%s: %s", sql, r)
	}
}

// witness is a session that must not notice other sessions' trouble: it
// keeps session state (a setting) that would be lost if it were disturbed.
type witness struct {
	c *pgx.Conn
}

func newWitness(t *testing.T, srv *server) *witness {
	c := srv.connect(t)
	mustExec(t, c, "SET application_name = 'witness'")
	return &witness{c: c}
}

func (w *witness) check(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var n int
	var app string
	if err := w.c.QueryRow(ctx, "SELECT $1::int + 1, current_setting('application_name')", 41).Scan(&n, &app); err != nil || n != 42 || app != "witness" {
		t.Fatalf("witness session disturbed: %d %q %v", n, app, err)
	}
}

// freshOK checks the server still accepts new sessions that work.
func freshOK(t *testing.T, srv *server) {
	t.Helper()
	c := dialWire(t, hopsqlTarget(srv))
	queryOK(t, c, "SELECT 1")
	c.nc.Close()
}

func rawMessage(typ byte, body []byte) []byte {
	b := []byte{typ, 0, 0, 0, 0}
	binary.BigEndian.PutUint32(b[1:], uint32(len(body)+4))
	return append(b, body...)
}

func queryBody(sql string) []byte { return append([]byte(sql), 0) }

func writeRaw(t *testing.T, nc net.Conn, b []byte) {
	t.Helper()
	if _, err := nc.Write(b); err != nil {
		t.Fatalf("write: %v", err)
	}
}

func TestProtocolBadMessages(t *testing.T) {
	srv := startServer(t, "--max-message-size", "1048576")
	w := newWitness(t, srv)
	tg := hopsqlTarget(srv)
	cases := []struct {
		name string
		run  func(t *testing.T, c *wireConn)
	}{
		{"length below 4", func(t *testing.T, c *wireConn) {
			writeRaw(t, c.nc, []byte{'Q', 0, 0, 0, 3})
			expectFatal(t, collect(c.nc, c.fe, 10*time.Second, nil), "08P01")
		}},
		{"negative length", func(t *testing.T, c *wireConn) {
			writeRaw(t, c.nc, []byte{'Q', 0xff, 0xff, 0xff, 0xf0})
			expectFatal(t, collect(c.nc, c.fe, 10*time.Second, nil), "08P01")
		}},
		{"unknown message type", func(t *testing.T, c *wireConn) {
			writeRaw(t, c.nc, rawMessage('z', []byte("junk")))
			expectFatal(t, collect(c.nc, c.fe, 10*time.Second, nil), "08P01")
		}},
		{"backend message type from client", func(t *testing.T, c *wireConn) {
			// 'T' (RowDescription) is not a frontend message.
			writeRaw(t, c.nc, rawMessage('T', []byte{0, 0}))
			expectFatal(t, collect(c.nc, c.fe, 10*time.Second, nil), "08P01")
		}},
		{"truncated message then close", func(t *testing.T, c *wireConn) {
			// Half a Query, then the client hangs up (half-close so that
			// we can still see what the server does): a quiet end.
			msg := rawMessage('Q', queryBody("SELECT 'this will never arrive in full'"))
			writeRaw(t, c.nc, msg[:len(msg)/2])
			c.nc.(*net.TCPConn).CloseWrite()
			r := collect(c.nc, c.fe, 10*time.Second, nil)
			if !r.closed || len(r.types) > 0 {
				t.Errorf("want a silent close, got %s", r)
			}
		}},
		{"truncated header then close", func(t *testing.T, c *wireConn) {
			writeRaw(t, c.nc, []byte{'Q', 0, 0})
			c.nc.(*net.TCPConn).CloseWrite()
			r := collect(c.nc, c.fe, 10*time.Second, nil)
			if !r.closed || len(r.types) > 0 {
				t.Errorf("want a silent close, got %s", r)
			}
		}},
		{"oversized message", func(t *testing.T, c *wireConn) {
			big := rawMessage('Q', queryBody("SELECT '"+strings.Repeat("x", 2<<20)+"'"))
			// The server stops reading after the header, so write in the
			// background and read its answer meanwhile.
			go c.nc.Write(big)
			expectFatal(t, collect(c.nc, c.fe, 10*time.Second, nil), "08P01")
		}},
		{"message just under the limit", func(t *testing.T, c *wireConn) {
			queryOK(t, c, "SELECT '"+strings.Repeat("x", 1000000)+"' AS big")
		}},
		{"invalid UTF-8 in Query", func(t *testing.T, c *wireConn) {
			writeRaw(t, c.nc, rawMessage('Q', queryBody("SELECT '\xff\xfe'")))
			r := collect(c.nc, c.fe, 10*time.Second, untilReady)
			if len(r.errors) != 1 || r.errors[0].Code != "22021" || r.errors[0].Severity != "ERROR" {
				t.Errorf("want ERROR 22021, got %s", r)
			}
			queryOK(t, c, "SELECT 1")
		}},
		{"invalid UTF-8 in Parse and Bind", func(t *testing.T, c *wireConn) {
			c.fe.Send(&pgproto3.Parse{Query: "SELECT '\xc3\x28'"})
			c.fe.Send(&pgproto3.Sync{})
			c.fe.Send(&pgproto3.Parse{Query: "SELECT $1::text", ParameterOIDs: []uint32{25}})
			c.fe.Send(&pgproto3.Bind{Parameters: [][]byte{{0xe2, 0x82}}})
			c.fe.Send(&pgproto3.Sync{})
			c.fe.Flush()
			for i := 0; i < 2; i++ {
				r := collect(c.nc, c.fe, 10*time.Second, untilReady)
				if len(r.errors) != 1 || r.errors[0].Code != "22021" {
					t.Errorf("batch %d: want ERROR 22021, got %s", i+1, r)
				}
			}
			queryOK(t, c, "SELECT 1")
		}},
		{"CopyData outside COPY", func(t *testing.T, c *wireConn) {
			// PostgreSQL ignores stray COPY messages.
			c.fe.Send(&pgproto3.CopyData{Data: []byte("1\n")})
			c.fe.Send(&pgproto3.CopyDone{})
			c.fe.Flush()
			queryOK(t, c, "SELECT 1")
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := dialWire(t, tg)
			tc.run(t, c)
			c.nc.Close()
			w.check(t)
			freshOK(t, srv)
		})
	}
	if strings.Contains(srv.Log(), "panic") {
		t.Errorf("server log mentions a panic:\n%s", srv.Log())
	}
}

// startupCase is a broken or unusual startup; it runs against hopsql and the
// reference so that the expectation is PostgreSQL's.
type startupCase struct {
	name   string
	packet []byte
	check  func(t *testing.T, r startupReply)
}

// startupReply is what the server answered to a startup packet. PostgreSQL
// answers a protocol 2 client in protocol 2 ('E' and a string), so the bytes
// are kept as they are and decoded as protocol 3 where they can be.
type startupReply struct {
	raw    []byte
	types  []string
	errors []pgproto3.ErrorResponse
	closed bool
}

func (r startupReply) String() string {
	return fmt.Sprintf("%s (raw %q)", received{types: r.types, errors: r.errors, closed: r.closed}, r.raw)
}

// decode splits raw into protocol 3 messages; false if it is not that.
func (r *startupReply) decode() bool {
	r.types, r.errors = nil, nil
	fe := pgproto3.NewFrontend(bytes.NewReader(r.raw), nil)
	for {
		m, err := fe.Receive()
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return true // the end, or a message not all here yet
		}
		if err != nil {
			return false
		}
		r.types = append(r.types, msgName(m))
		if e, ok := m.(*pgproto3.ErrorResponse); ok {
			r.errors = append(r.errors, *e)
		}
	}
}

func readStartupReply(nc net.Conn) startupReply {
	var r startupReply
	nc.SetReadDeadline(time.Now().Add(10 * time.Second))
	buf := make([]byte, 4096)
	for {
		n, err := nc.Read(buf)
		r.raw = append(r.raw, buf[:n]...)
		if err != nil {
			r.closed = !errors.Is(err, os.ErrDeadlineExceeded)
			r.decode()
			return r
		}
		if r.decode() && len(r.types) > 0 && r.types[len(r.types)-1] == "ReadyForQuery" {
			return r // a working session: it will not close by itself
		}
	}
}

func startupPacket(version uint32, params ...string) []byte {
	b := []byte{0, 0, 0, 0}
	b = binary.BigEndian.AppendUint32(b, version)
	for _, p := range params {
		b = append(append(b, p...), 0)
	}
	b = append(b, 0)
	binary.BigEndian.PutUint32(b, uint32(len(b)))
	return b
}

func startupCases(user, db string) []startupCase {
	fatal := func(code string) func(t *testing.T, r startupReply) {
		return func(t *testing.T, r startupReply) {
			t.Helper()
			if len(r.errors) != 1 || r.errors[0].Severity != "FATAL" || r.errors[0].Code != code || !r.closed {
				t.Errorf("want FATAL %s then close, got %s", code, r)
			}
		}
	}
	// PostgreSQL closes without a word on a packet it cannot frame (it only
	// logs); a FATAL with one of codes first is as good.
	quietClose := func(codes ...string) func(t *testing.T, r startupReply) {
		return func(t *testing.T, r startupReply) {
			t.Helper()
			ok := r.closed && (len(r.types) == 0 || len(r.types) == 1 && len(r.errors) == 1 && r.errors[0].Severity == "FATAL")
			if ok && len(r.errors) == 1 {
				ok = false
				for _, c := range codes {
					ok = ok || r.errors[0].Code == c
				}
			}
			if !ok {
				t.Errorf("want a close, at most a FATAL %v first; got %s", codes, r)
			}
		}
	}
	working := func(first string) func(t *testing.T, r startupReply) {
		return func(t *testing.T, r startupReply) {
			t.Helper()
			if len(r.errors) > 0 || len(r.types) == 0 || r.types[len(r.types)-1] != "ReadyForQuery" ||
				first != "" && r.types[0] != first {
				t.Errorf("want a working session (first %q), got %s", first, r)
			}
		}
	}
	return []startupCase{
		{"length too small", []byte{0, 0, 0, 5, 1}, quietClose("08P01")},
		{"length too large", []byte{0, 1, 0, 0, 0, 3, 0, 0}, quietClose("08P01")},
		{"unknown request code", startupPacket(1234<<16 | 5678), quietClose("0A000", "08P01")},
		{"protocol 2.0", startupPacket(2<<16, "user", user, "database", db), func(t *testing.T, r startupReply) {
			// PostgreSQL: FATAL 0A000 "unsupported frontend protocol 2.0:
			// server supports 3.0 to 3.0", in protocol 2 framing.
			v2 := len(r.raw) > 1 && r.raw[0] == 'E' && bytes.Contains(r.raw, []byte("unsupported frontend protocol 2.0"))
			v3 := len(r.errors) == 1 && r.errors[0].Severity == "FATAL" && r.errors[0].Code == "0A000" &&
				strings.Contains(r.errors[0].Message, "unsupported frontend protocol 2.0")
			if !(v2 || v3) || !r.closed {
				t.Errorf("want FATAL 0A000 unsupported frontend protocol 2.0, then close; got %s", r)
			}
		}},
		{"protocol 4.0", startupPacket(4<<16, "user", user, "database", db), fatal("0A000")},
		{"no user", startupPacket(3<<16, "database", db), fatal("28000")},
		{"parameter without value", []byte{0, 0, 0, 13, 0, 3, 0, 0, 'u', 's', 'e', 'r', 0}, fatal("08P01")},
		// PostgreSQL cleans application_name to ASCII ('?' for other
		// bytes) rather than refusing the session.
		{"invalid UTF-8 application_name", startupPacket(3<<16, "user", user, "database", db, "application_name", "\xff"), working("")},
		// PostgreSQL 15 answers a newer minor version with
		// NegotiateProtocolVersion (3.0) and carries on.
		{"protocol 3.2 negotiates down", startupPacket(3<<16|2, "user", user, "database", db), working("NegotiateProtocolVersion")},
	}
}

func runStartupCases(t *testing.T, tg wireTarget, after func(t *testing.T)) {
	for _, tc := range startupCases(tg.user, tg.database) {
		t.Run(tc.name, func(t *testing.T) {
			nc, err := net.DialTimeout("tcp", tg.addr, 10*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			defer nc.Close()
			writeRaw(t, nc, tc.packet)
			tc.check(t, readStartupReply(nc))
			if after != nil {
				after(t)
			}
		})
	}
}

func TestProtocolBadStartupHopsql(t *testing.T) {
	srv := startServer(t)
	w := newWitness(t, srv)
	runStartupCases(t, hopsqlTarget(srv), func(t *testing.T) { w.check(t); freshOK(t, srv) })
}

func TestProtocolBadStartupPostgres(t *testing.T) {
	runStartupCases(t, referenceTarget(t), nil)
}

// longQuery runs far longer than any test waits for.
const longQuery = "SELECT count(*) FROM range(100000000000)"

func TestProtocolClientVanishesMidQuery(t *testing.T) {
	// A long grace: if the abandoned query were still running, SIGTERM
	// would wait for it, so a quick exit proves it was stopped.
	srv := startServer(t, "--shutdown-grace", "60s")
	w := newWitness(t, srv)
	c := dialWire(t, hopsqlTarget(srv))
	c.fe.Send(&pgproto3.Query{String: longQuery})
	c.fe.Flush()
	time.Sleep(700 * time.Millisecond)
	c.nc.Close()

	time.Sleep(700 * time.Millisecond) // the server polls for hang-ups
	start := time.Now()
	w.check(t)
	freshOK(t, srv)
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("other sessions slow after the client vanished: %v", d)
	}
	start = time.Now()
	srv.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-srv.exited:
		if code := srv.cmd.ProcessState.ExitCode(); code != 0 {
			t.Errorf("exit code %d:\n%s", code, srv.Log())
		}
		if d := time.Since(start); d > 10*time.Second {
			t.Errorf("shutdown took %v: the abandoned query kept running", d)
		}
	case <-time.After(20 * time.Second):
		t.Errorf("server still busy 20s after SIGTERM: the abandoned query kept running\n%s", srv.Log())
		srv.Kill()
	}
}

func TestProtocolPanicInSession(t *testing.T) {
	srv := startServer(t, "--debug-panic-query", "SELECT hopsql_panic")
	ctx := context.Background()
	// Another session in the middle of a transaction while the panic happens.
	other := srv.connect(t)
	mustExec(t, other, "CREATE TABLE panic_witness (id int)")
	mustExec(t, other, "BEGIN")
	mustExec(t, other, "INSERT INTO panic_witness VALUES (1)")

	c := dialWire(t, hopsqlTarget(srv))
	c.fe.Send(&pgproto3.Query{String: "SELECT hopsql_panic"})
	c.fe.Flush()
	r := collect(c.nc, c.fe, 10*time.Second, untilReady)
	if len(r.errors) != 1 || r.errors[0].Code != "XX000" || r.errors[0].Severity != "ERROR" || r.types[len(r.types)-1] != "ReadyForQuery" {
		t.Errorf("want ERROR XX000 then ReadyForQuery, got %s", r)
	}
	// Exactly one ReadyForQuery per Query, or the client loses step.
	if extra := collect(c.nc, c.fe, 500*time.Millisecond, nil); len(extra.types) > 0 {
		t.Errorf("messages after the ReadyForQuery: %s", extra)
	}
	// The panicking session goes on.
	queryOK(t, c, "SELECT 1")
	// In the middle of an extended batch too.
	c.fe.Send(&pgproto3.Query{String: "SELECT hopsql_panic"})
	c.fe.Send(&pgproto3.Parse{Query: "SELECT 2"})
	c.fe.Send(&pgproto3.Bind{})
	c.fe.Send(&pgproto3.Execute{})
	c.fe.Send(&pgproto3.Sync{})
	c.fe.Flush()
	r = collect(c.nc, c.fe, 10*time.Second, untilReady)
	if len(r.errors) != 1 || r.errors[0].Code != "XX000" {
		t.Errorf("want ERROR XX000, got %s", r)
	}
	r = collect(c.nc, c.fe, 2*time.Second, nil)
	if len(r.errors) != 0 || strings.Join(r.types, " ") != "ParseComplete BindComplete DataRow CommandComplete ReadyForQuery" {
		t.Errorf("extended batch after the panic: %s", r)
	}

	// The other session saw nothing: its transaction is intact.
	mustExec(t, other, "INSERT INTO panic_witness VALUES (2)")
	mustExec(t, other, "COMMIT")
	var n int
	if err := other.QueryRow(ctx, "SELECT count(*) FROM panic_witness").Scan(&n); err != nil || n != 2 {
		t.Fatalf("other session: %d %v", n, err)
	}
	freshOK(t, srv)
	if !strings.Contains(srv.Log(), "panic in session") {
		t.Errorf("the panic was not logged:\n%s", srv.Log())
	}
}

func waitExit(t *testing.T, srv *server, within time.Duration) {
	t.Helper()
	select {
	case <-srv.exited:
		if code := srv.cmd.ProcessState.ExitCode(); code != 0 {
			t.Errorf("exit code %d:\n%s", code, srv.Log())
		}
	case <-time.After(within):
		t.Errorf("hopsql did not exit within %v of SIGTERM:\n%s", within, srv.Log())
		srv.Kill()
	}
}

func TestProtocolShutdownIdleSession(t *testing.T) {
	srv := startServer(t)
	c := dialWire(t, hopsqlTarget(srv))
	// A second one inside a transaction block, idle too: it is not waited for.
	d := dialWire(t, hopsqlTarget(srv))
	queryOK(t, d, "BEGIN")
	srv.cmd.Process.Signal(syscall.SIGTERM)
	for i, conn := range []*wireConn{c, d} {
		r := collect(conn.nc, conn.fe, 10*time.Second, nil)
		if len(r.errors) != 1 || r.errors[0].Severity != "FATAL" || r.errors[0].Code != "57P01" ||
			r.errors[0].Message != "terminating connection due to administrator command" || !r.closed {
			t.Errorf("session %d: want FATAL 57P01 'terminating connection due to administrator command', got %s", i+1, r)
		}
	}
	waitExit(t, srv, 10*time.Second)
}

func TestProtocolShutdownRunningStatement(t *testing.T) {
	srv := startServer(t) // the harness's --shutdown-grace is 3s
	c := dialWire(t, hopsqlTarget(srv))
	c.fe.Send(&pgproto3.Query{String: longQuery})
	c.fe.Flush()
	time.Sleep(500 * time.Millisecond)
	start := time.Now()
	srv.cmd.Process.Signal(syscall.SIGTERM)
	r := collect(c.nc, c.fe, 20*time.Second, nil)
	// Either the statement finished, or it was cancelled when the grace
	// period ran out (57014, or 57P01 as PostgreSQL's fast shutdown says);
	// the session then ends with FATAL 57P01.
	finished := strings.Contains(strings.Join(r.types, " "), "CommandComplete")
	for _, e := range r.errors {
		if e.Code != "57014" && e.Code != "57P01" {
			t.Errorf("unexpected error %s %s %q", e.Severity, e.Code, e.Message)
		}
	}
	if !finished && len(r.errors) == 0 || !r.closed {
		t.Errorf("want the statement finished or cancelled, then a close: %s", r)
	}
	waitExit(t, srv, 3*time.Second+7*time.Second-time.Since(start))
}

// TestProtocolConcurrentWithMisbehaver runs 50 well-behaved sessions while
// one client keeps sending everything the other tests send; no well-behaved
// session may notice.
func TestProtocolConcurrentWithMisbehaver(t *testing.T) {
	srv := startServer(t, "--debug-panic-query", "SELECT hopsql_panic", "--max-message-size", "1048576")
	tg := hopsqlTarget(srv)
	const workers, minRounds = 50, 20
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	stop := make(chan struct{})
	misbehaved := make(chan int)
	go func() {
		bad := [][]byte{
			{'Q', 0, 0, 0, 3},
			rawMessage('z', []byte("junk")),
			rawMessage('Q', queryBody("SELECT '\xff'")),
			rawMessage('Q', queryBody("SELECT hopsql_panic")),
			rawMessage('Q', queryBody(longQuery)), // then vanishes
			rawMessage('Q', queryBody("SELECT 1"))[:7],
			rawMessage('Q', queryBody("SELECT '"+strings.Repeat("y", 1<<20+10)+"'")),
		}
		n := 0
		defer func() { misbehaved <- n; close(stop) }()
		for cycle := 0; cycle < 3; cycle++ {
			for _, b := range bad {
				nc, err := net.DialTimeout("tcp", tg.addr, 5*time.Second)
				if err != nil {
					continue
				}
				fe := pgproto3.NewFrontend(nc, nc)
				fe.Send(&pgproto3.StartupMessage{ProtocolVersion: pgproto3.ProtocolVersion30,
					Parameters: map[string]string{"user": tg.user, "database": tg.database}})
				fe.Flush()
				collect(nc, fe, 10*time.Second, untilReady)
				go nc.Write(b)
				collect(nc, fe, 300*time.Millisecond, nil)
				nc.Close()
				n++
			}
		}
	}()

	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for i := 0; i < workers; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			c, err := pgx.Connect(ctx, srv.URL("hopsql"))
			if err != nil {
				errs <- fmt.Errorf("worker %d connect: %w", i, err)
				return
			}
			defer c.Close(context.Background())
			// At least minRounds, and on until the misbehaving is over.
			for j := 0; ; j++ {
				if j >= minRounds {
					select {
					case <-stop:
						return
					default:
					}
				}
				var got int
				if err := c.QueryRow(ctx, "SELECT $1::int * 2", i*1000+j).Scan(&got); err != nil || got != 2*(i*1000+j) {
					errs <- fmt.Errorf("worker %d round %d: %d %v", i, j, got, err)
					return
				}
				var n int64
				if err := c.QueryRow(ctx, "SELECT count(*) FROM range(1000)", pgx.QueryExecModeSimpleProtocol).Scan(&n); err != nil || n != 1000 {
					errs <- fmt.Errorf("worker %d round %d (simple): %d %v", i, j, n, err)
					return
				}
			}
		}(i)
	}
	n := <-misbehaved
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	t.Logf("misbehaving connections during the run: %d", n)
	freshOK(t, srv)
}
