package wire_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgproto3"

	"github.com/hopsql/hopsql/engine"
	"github.com/hopsql/hopsql/wire"
)

// fuzzServer is one in-process engine and server per fuzz process (each
// fuzz worker is a process of its own): opening DuckDB per input would make
// the fuzzer crawl.
var fuzzServer struct {
	once   sync.Once
	addr   string
	err    error
	panics atomic.Int64 // panics the server recovered from ("panic in session")
	last   atomic.Value // the last such log message, for the report
}

// panicSpy counts the panics the server logs: a recovered panic keeps the
// process alive, but it is still a bug the fuzzer must report.
type panicSpy struct{ slog.Handler }

func (h panicSpy) Enabled(context.Context, slog.Level) bool { return true }

func (h panicSpy) Handle(_ context.Context, r slog.Record) error {
	if r.Message == "panic in session" {
		fuzzServer.panics.Add(1)
		msg := r.Message
		r.Attrs(func(a slog.Attr) bool { msg += " " + a.String(); return true })
		fuzzServer.last.Store(msg)
	}
	return nil
}

func (h panicSpy) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h panicSpy) WithGroup(string) slog.Handler      { return h }

func startFuzzServer(dir string) {
	log := slog.New(panicSpy{})
	eng, err := engine.Open(context.Background(), engine.Config{DataDir: dir, Logger: log})
	if err != nil {
		fuzzServer.err = err
		return
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fuzzServer.err = err
		return
	}
	// A small message limit so that an input announcing a huge message is
	// refused at once instead of waiting for bytes that never come.
	srv := wire.NewServer(wire.Config{MaxMessageSize: 1 << 20, ShutdownGrace: time.Second, Logger: log}, eng)
	go srv.Serve(ln)
	fuzzServer.addr = ln.Addr().String()
}

// fuzzDeadline bounds one fuzz input's exchange. An input that leaves a
// message half-sent keeps the server waiting, so the exchange ends at the
// deadline; keeping it short keeps the fuzzer fast. healthDeadline is for
// the check that the server still answers, which must not flake under load.
const (
	fuzzDeadline   = 300 * time.Millisecond
	healthDeadline = 10 * time.Second
)

func encode(msgs ...pgproto3.FrontendMessage) []byte {
	var b []byte
	for _, m := range msgs {
		var err error
		if b, err = m.Encode(b); err != nil {
			panic(err)
		}
	}
	return b
}

// session dials, starts up, writes payload and then trailer, and reads
// every reply until the server closes or the deadline passes. It fails if a
// reply is not a valid backend message.
func session(t *testing.T, payload, trailer []byte, deadline time.Duration) (got []pgproto3.BackendMessage) {
	t.Helper()
	nc, err := net.DialTimeout("tcp", fuzzServer.addr, healthDeadline)
	if err != nil {
		t.Fatalf("server stopped accepting connections: %v", err)
	}
	defer nc.Close()
	nc.SetDeadline(time.Now().Add(deadline))
	startup := encode(&pgproto3.StartupMessage{ProtocolVersion: pgproto3.ProtocolVersion30,
		Parameters: map[string]string{"user": "hopsql", "database": "hopsql"}})
	// Written in the background: the server may stop reading (an error
	// ended the session, or a COPY waits), and the replies must be read
	// meanwhile. Write errors are the server's right.
	go func() {
		nc.Write(startup)
		nc.Write(payload)
		nc.Write(trailer)
	}()
	fe := pgproto3.NewFrontend(nc, nil)
	for {
		m, err := fe.Receive()
		if err != nil {
			var ne net.Error
			switch {
			case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF),
				errors.Is(err, syscall.ECONNRESET), errors.As(err, &ne) && ne.Timeout():
				return got
			}
			t.Fatalf("invalid reply from the server after %d messages: %v", len(got), err)
		}
		got = append(got, m)
	}
}

var trailer = encode(&pgproto3.Sync{}, &pgproto3.Query{String: "SELECT 1"}, &pgproto3.Terminate{})

// healthy checks that a fresh session answers SELECT 1.
func healthy(t *testing.T) {
	t.Helper()
	got := session(t, encode(&pgproto3.Query{String: "SELECT 1"}, &pgproto3.Terminate{}), nil, healthDeadline)
	for _, m := range got {
		if d, ok := m.(*pgproto3.DataRow); ok && len(d.Values) == 1 && string(d.Values[0]) == "1" {
			return
		}
	}
	t.Fatalf("a fresh session did not answer SELECT 1: %v", got)
}

func raw(typ byte, body ...byte) []byte {
	n := len(body) + 4
	return append([]byte{typ, byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)}, body...)
}

func fuzzSeeds() [][]byte {
	q := func(s string) *pgproto3.Query { return &pgproto3.Query{String: s} }
	return [][]byte{
		encode(q("SELECT 1")),
		encode(q("SELECT 1 AS a; SELECT 'x' AS b, 2.5::float8 AS c")),
		encode(q(""), q(";")),
		encode(&pgproto3.Parse{Name: "s1", Query: "SELECT $1::int + 1", ParameterOIDs: []uint32{23}},
			&pgproto3.Describe{ObjectType: 'S', Name: "s1"},
			&pgproto3.Bind{DestinationPortal: "p1", PreparedStatement: "s1", Parameters: [][]byte{[]byte("41")}},
			&pgproto3.Describe{ObjectType: 'P', Name: "p1"}, &pgproto3.Execute{Portal: "p1"}, &pgproto3.Sync{}),
		encode(&pgproto3.Parse{Query: "SELECT x FROM (VALUES (1), (2), (3)) v(x)"},
			&pgproto3.Bind{ResultFormatCodes: []int16{1}}, &pgproto3.Execute{MaxRows: 1}, &pgproto3.Execute{MaxRows: 1},
			&pgproto3.Flush{}, &pgproto3.Execute{}),
		encode(&pgproto3.Parse{Query: "SELECT $1::int8, $2::text, $3::bool"},
			&pgproto3.Bind{ParameterFormatCodes: []int16{1, 0, 1},
				Parameters: [][]byte{{0, 0, 0, 0, 0, 0, 0, 7}, nil, {1}}}, &pgproto3.Execute{}),
		encode(&pgproto3.Parse{Name: "c", Query: "SELECT 1"}, &pgproto3.Bind{DestinationPortal: "c", PreparedStatement: "c"},
			&pgproto3.Close{ObjectType: 'P', Name: "c"}, &pgproto3.Close{ObjectType: 'S', Name: "c"},
			&pgproto3.Execute{Portal: "c"}),
		encode(q("CREATE TABLE IF NOT EXISTS fz (a int, b text)"), q("COPY fz FROM STDIN"),
			&pgproto3.CopyData{Data: []byte("1\tone\n2\t\\N\n")}, &pgproto3.CopyDone{}),
		encode(q("CREATE TABLE IF NOT EXISTS fz (a int, b text)"), q("COPY fz FROM STDIN (FORMAT csv, HEADER)"),
			&pgproto3.CopyData{Data: []byte("a,b\n3,\"t,hree\"\n")}, &pgproto3.CopyFail{Message: "no"}),
		encode(q("CREATE TABLE IF NOT EXISTS fz (a int, b text)"), q("COPY (SELECT * FROM fz ORDER BY a LIMIT 3) TO STDOUT (FORMAT csv)")),
		encode(q("BEGIN"), q("SELECT * FROM no_such_table"), q("SELECT 1"), q("ROLLBACK")),
		encode(&pgproto3.Parse{Query: "SELECT $1::int"}, &pgproto3.Bind{Parameters: [][]byte{[]byte("1"), []byte("2")}},
			&pgproto3.Execute{}),
		encode(&pgproto3.Parse{Query: "SELECT 1, 2, 3"}, &pgproto3.Bind{ResultFormatCodes: []int16{1, 0}}, &pgproto3.Execute{}),
		encode(&pgproto3.Describe{ObjectType: 'X', Name: "nope"}, &pgproto3.Execute{Portal: "nope"}),
		encode(&pgproto3.FunctionCall{Function: 1, Arguments: [][]byte{[]byte("x")}}),
		encode(&pgproto3.CopyData{Data: []byte("stray")}, &pgproto3.CopyDone{}, &pgproto3.CopyFail{Message: "stray"}),
		encode(q("SET TimeZone = 'Europe/Berlin'"), q("SHOW TimeZone"), q("SELECT now()::date IS NOT NULL")),
		encode(q("SELECT '\xff\xfe'")),
		raw('Q', 0),                   // an empty query string
		{'Q', 0, 0, 0, 3},             // length below 4
		raw('z', 'j', 'u', 'n', 'k'),  // unknown message type
		raw('B', 0, 0, 0, 0, 0, 9),    // Bind promising 9 parameters
		raw('P', 's', 0, 'S', 'E'),    // Parse without its terminators
		encode(&pgproto3.Terminate{}), // the trailer is never read
		encode(q("SELECT 1"))[:7],     // a truncated message swallows the trailer
	}
}

// FuzzFrontendMessages sends arbitrary bytes after a valid startup, then
// Sync, a query and Terminate. Whatever the bytes, the process must not
// crash or panic, every reply must be a valid backend message, and new
// sessions must keep working.
func FuzzFrontendMessages(f *testing.F) {
	for _, s := range fuzzSeeds() {
		f.Add(s)
	}
	dir, err := os.MkdirTemp("", "hopsql-fuzz-")
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { os.RemoveAll(dir) })
	fuzzServer.once.Do(func() { startFuzzServer(dir) })
	if fuzzServer.err != nil {
		f.Fatal(fuzzServer.err)
	}
	var inputs atomic.Int64
	f.Fuzz(func(t *testing.T, payload []byte) {
		before := fuzzServer.panics.Load()
		session(t, payload, trailer, fuzzDeadline)
		if fuzzServer.panics.Load() != before {
			t.Fatalf("the server panicked (and recovered): %v", fuzzServer.last.Load())
		}
		// A fresh session after every few inputs (each costs a DuckDB
		// connection) and always in the first ones, the seeds.
		if n := inputs.Add(1); n <= 64 || n%16 == 0 {
			healthy(t)
		}
	})
}
