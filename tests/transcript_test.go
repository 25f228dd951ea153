package tests

// Wire transcripts: protocol corner cases written down as the exact message
// exchange, replayed against hopsql (TestTranscriptsHopsql) and against the
// reference PostgreSQL 15 (TestTranscriptsPostgres). The reference run is
// what proves an expectation right; the hopsql run is what it is for.
//
// File format (tests/testdata/transcripts/*.txt), one item per line:
//
//	# comment                     blank lines and lines starting with # are ignored
//	cleanup <sql>                 run on a separate connection before and after the
//	                              transcript, errors ignored (DROP TABLE IF EXISTS …)
//	F <Message> <args…>           a frontend message to send
//	B <Message> <args…>           the next backend message expected
//
// Frontend messages are buffered and written when the next B line is reached,
// so several F lines form one pipelined batch (which is how Flush and the
// skip-until-Sync rule are exercised). After the last line the runner sends
// Sync and expects ReadyForQuery, so a transcript that leaves unexpected
// messages behind fails.
//
// Values: bare words; 'quoted strings' with \n \t \r \\ \' and \xNN escapes;
// x'hex' for raw bytes; NULL for a null value; * for anything and + for any
// non-zero number (only in B lines: server-specific values such as table OIDs). Lists are comma-separated, sub-fields colon-separated, both
// quote-aware.
//
// Frontend messages:
//
//	Query <sql>
//	Parse [name=N] query=<sql> [oids=23,25]
//	Bind [portal=P] [stmt=S] [formats=0,1] [params=v,v] [results=0,1]
//	Describe S|P [name]          Close S|P [name]
//	Execute [portal] [max=N]
//	Sync  Flush  Terminate  CopyDone
//	CopyData <bytes>             CopyFail <message>
//	Raw <bytes>                  bytes written as they are
//
// Backend messages (all listed fields compared; * matches anything):
//
//	RowDescription name:tableoid:attnum:typeoid:typlen:typmod:format …
//	DataRow <value> …            ParameterDescription <oid> …
//	CommandComplete <tag>        ReadyForQuery I|T|E
//	ErrorResponse/NoticeResponse [severity=S] [code=C] [message=M] [detail=D] [hint=H] [position=N]
//	                             (only the keys given are compared)
//	CopyInResponse/CopyOutResponse format=F columns=0,0
//	CopyData <bytes>
//	ParseComplete BindComplete CloseComplete NoData EmptyQueryResponse PortalSuspended CopyDone
//
// NoticeResponse and ParameterStatus messages are skipped unless the next
// expected message is of that type: their presence is not what most
// transcripts are about (DROP … IF EXISTS, SET).

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgproto3"
)

// wireTarget is where a transcript is replayed and as whom.
type wireTarget struct {
	addr, user, database string
}

func hopsqlTarget(s *server) wireTarget {
	return wireTarget{addr: s.Addr, user: "hopsql", database: "hopsql"}
}

func referenceTarget(t *testing.T) wireTarget {
	u, err := url.Parse(referenceURL(t))
	if err != nil {
		t.Fatal(err)
	}
	return wireTarget{addr: u.Host, user: u.User.Username(), database: strings.TrimPrefix(u.Path, "/")}
}

func TestTranscriptsHopsql(t *testing.T) {
	srv := startServer(t)
	runTranscripts(t, hopsqlTarget(srv), "transcripts")
}

// TestTranscriptsPostgres proves every expectation right on PostgreSQL 15,
// including the pending ones: behaviour hopsql does not have yet (listed in
// the issue note), kept here so the expectation is ready when it lands.
func TestTranscriptsPostgres(t *testing.T) {
	runTranscripts(t, referenceTarget(t), "transcripts")
	if pending, _ := filepath.Glob(filepath.Join("testdata", "transcripts", "pending", "*.txt")); len(pending) > 0 {
		runTranscripts(t, referenceTarget(t), filepath.Join("transcripts", "pending"))
	}
}

func runTranscripts(t *testing.T, tg wireTarget, dir string) {
	files, err := filepath.Glob(filepath.Join("testdata", dir, "*.txt"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no transcripts in %s: %v", dir, err)
	}
	sort.Strings(files)
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".txt")
		t.Run(name, func(t *testing.T) {
			tr, err := parseTranscript(f)
			if err != nil {
				t.Fatal(err)
			}
			tr.run(t, tg)
		})
	}
}

// --- wire client ---

// wireConn is a raw protocol connection with startup done.
type wireConn struct {
	nc net.Conn
	fe *pgproto3.Frontend
}

func dialWire(t testing.TB, tg wireTarget) *wireConn {
	t.Helper()
	nc, err := net.DialTimeout("tcp", tg.addr, 10*time.Second)
	if err != nil {
		t.Fatalf("dial %s: %v", tg.addr, err)
	}
	t.Cleanup(func() { nc.Close() })
	c := &wireConn{nc: nc, fe: pgproto3.NewFrontend(nc, nc)}
	c.fe.Send(&pgproto3.StartupMessage{ProtocolVersion: pgproto3.ProtocolVersion30,
		Parameters: map[string]string{"user": tg.user, "database": tg.database}})
	if err := c.fe.Flush(); err != nil {
		t.Fatalf("startup: %v", err)
	}
	// The startup answer differs between servers (parameters, keys); only
	// its end matters.
	for {
		m, err := c.receive(20 * time.Second)
		if err != nil {
			t.Fatalf("startup: %v", err)
		}
		switch m := m.(type) {
		case *pgproto3.ReadyForQuery:
			return c
		case *pgproto3.ErrorResponse:
			t.Fatalf("startup: %s %s", m.Code, m.Message)
		}
	}
}

func (c *wireConn) receive(timeout time.Duration) (pgproto3.BackendMessage, error) {
	c.nc.SetReadDeadline(time.Now().Add(timeout))
	return c.fe.Receive()
}

// exec runs a simple query and returns the first error's SQLSTATE ("" if none).
func (c *wireConn) exec(sql string) (string, error) {
	c.fe.Send(&pgproto3.Query{String: sql})
	if err := c.fe.Flush(); err != nil {
		return "", err
	}
	code := ""
	for {
		m, err := c.receive(30 * time.Second)
		if err != nil {
			return code, err
		}
		switch m := m.(type) {
		case *pgproto3.ErrorResponse:
			if code == "" {
				code = m.Code
			}
		case *pgproto3.CopyInResponse:
			c.fe.Send(&pgproto3.CopyFail{Message: "not expected"})
			c.fe.Flush()
		case *pgproto3.ReadyForQuery:
			return code, nil
		}
	}
}

// --- transcript parsing ---

type tline struct {
	no   int
	dir  byte // 'F' or 'B'
	typ  string
	args []string // raw tokens, quotes kept
	text string
}

type transcript struct {
	path    string
	cleanup []string
	lines   []tline
}

func parseTranscript(path string) (*transcript, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	tr := &transcript{path: path}
	for i, l := range strings.Split(string(data), "\n") {
		l = strings.TrimSpace(l)
		if l == "" || l[0] == '#' {
			continue
		}
		if rest, ok := strings.CutPrefix(l, "cleanup "); ok {
			tr.cleanup = append(tr.cleanup, rest)
			continue
		}
		toks, err := tokenize(l)
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %v", path, i+1, err)
		}
		if len(toks) < 2 || (toks[0] != "F" && toks[0] != "B") {
			return nil, fmt.Errorf("%s:%d: want F|B <Message> …", path, i+1)
		}
		tr.lines = append(tr.lines, tline{no: i + 1, dir: toks[0][0], typ: toks[1], args: toks[2:], text: l})
	}
	return tr, nil
}

// tokenize splits on spaces outside quotes, keeping quotes in the tokens.
func tokenize(s string) ([]string, error) {
	var toks []string
	var cur strings.Builder
	inq := false
	for i := 0; i < len(s); i++ {
		ch := s[i]
		switch {
		case inq && ch == '\\' && i+1 < len(s):
			cur.WriteByte(ch)
			i++
			cur.WriteByte(s[i])
		case ch == '\'':
			inq = !inq
			cur.WriteByte(ch)
		case !inq && (ch == ' ' || ch == '\t'):
			if cur.Len() > 0 {
				toks = append(toks, cur.String())
				cur.Reset()
			}
		default:
			cur.WriteByte(ch)
		}
	}
	if inq {
		return nil, fmt.Errorf("unterminated quote")
	}
	if cur.Len() > 0 {
		toks = append(toks, cur.String())
	}
	return toks, nil
}

// splitRaw splits a raw token on sep outside quotes.
func splitRaw(s string, sep byte) []string {
	var parts []string
	start, inq := 0, false
	for i := 0; i < len(s); i++ {
		switch {
		case inq && s[i] == '\\':
			i++
		case s[i] == '\'':
			inq = !inq
		case !inq && s[i] == sep:
			parts = append(parts, s[start:i])
			start = i + 1
		}
	}
	return append(parts, s[start:])
}

// value is a decoded token.
type value struct {
	b    []byte
	null bool
	wild bool
}

func decodeValue(raw string) (value, error) {
	switch {
	case raw == "*":
		return value{wild: true}, nil
	case raw == "NULL":
		return value{null: true}, nil
	case strings.HasPrefix(raw, "x'") && strings.HasSuffix(raw, "'") && len(raw) >= 3:
		b, err := hex.DecodeString(raw[2 : len(raw)-1])
		return value{b: b}, err
	case strings.HasPrefix(raw, "'"):
		if len(raw) < 2 || !strings.HasSuffix(raw, "'") {
			return value{}, fmt.Errorf("bad quoted value %s", raw)
		}
		return unescape(raw[1 : len(raw)-1])
	}
	return value{b: []byte(raw)}, nil
}

func unescape(s string) (value, error) {
	var b []byte
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' {
			b = append(b, s[i])
			continue
		}
		i++
		if i >= len(s) {
			return value{}, fmt.Errorf("trailing backslash in %q", s)
		}
		switch s[i] {
		case 'n':
			b = append(b, '\n')
		case 't':
			b = append(b, '\t')
		case 'r':
			b = append(b, '\r')
		case 'x':
			if i+2 >= len(s) {
				return value{}, fmt.Errorf("short \\x escape in %q", s)
			}
			h, err := hex.DecodeString(s[i+1 : i+3])
			if err != nil {
				return value{}, err
			}
			b = append(b, h...)
			i += 2
		default:
			b = append(b, s[i])
		}
	}
	return value{b: b}, nil
}

func mustValue(raw string) []byte {
	v, err := decodeValue(raw)
	if err != nil {
		panic(err)
	}
	return v.b
}

// keyed splits args into key=value pairs and positional tokens.
func keyed(args []string) (map[string]string, []string) {
	kv := map[string]string{}
	var pos []string
	for _, a := range args {
		if k, v, ok := strings.Cut(a, "="); ok && !strings.ContainsAny(k, "'") {
			kv[k] = v
			continue
		}
		pos = append(pos, a)
	}
	return kv, pos
}

func intList(raw string) ([]int64, error) {
	if raw == "" {
		return nil, nil
	}
	var out []int64
	for _, p := range splitRaw(raw, ',') {
		n, err := strconv.ParseInt(p, 10, 64)
		if err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	return out, nil
}

// frontend builds the message an F line describes.
func (l tline) frontend() (msg pgproto3.FrontendMessage, raw []byte, err error) {
	kv, pos := keyed(l.args)
	str := func(raw string) string {
		if raw == "" {
			return ""
		}
		v, e := decodeValue(raw)
		if e != nil && err == nil {
			err = e
		}
		return string(v.b)
	}
	first := func() string {
		if len(pos) > 0 {
			return str(pos[0])
		}
		return ""
	}
	switch l.typ {
	case "Query":
		return &pgproto3.Query{String: first()}, nil, err
	case "Parse":
		m := &pgproto3.Parse{Name: str(kv["name"]), Query: str(kv["query"])}
		oids, e := intList(kv["oids"])
		for _, o := range oids {
			m.ParameterOIDs = append(m.ParameterOIDs, uint32(o))
		}
		return m, nil, e
	case "Bind":
		m := &pgproto3.Bind{DestinationPortal: str(kv["portal"]), PreparedStatement: str(kv["stmt"])}
		f, e := intList(kv["formats"])
		for _, x := range f {
			m.ParameterFormatCodes = append(m.ParameterFormatCodes, int16(x))
		}
		r, e2 := intList(kv["results"])
		for _, x := range r {
			m.ResultFormatCodes = append(m.ResultFormatCodes, int16(x))
		}
		if p, ok := kv["params"]; ok && p != "" {
			for _, raw := range splitRaw(p, ',') {
				v, e := decodeValue(raw)
				if e != nil {
					return nil, nil, e
				}
				if v.null {
					m.Parameters = append(m.Parameters, nil)
				} else {
					m.Parameters = append(m.Parameters, append([]byte{}, v.b...))
				}
			}
		}
		if e == nil {
			e = e2
		}
		return m, nil, e
	case "Describe", "Close":
		if len(pos) == 0 || (pos[0] != "S" && pos[0] != "P") {
			return nil, nil, fmt.Errorf("%s needs S or P", l.typ)
		}
		name := ""
		if len(pos) > 1 {
			name = str(pos[1])
		}
		if l.typ == "Describe" {
			return &pgproto3.Describe{ObjectType: pos[0][0], Name: name}, nil, err
		}
		return &pgproto3.Close{ObjectType: pos[0][0], Name: name}, nil, err
	case "Execute":
		m := &pgproto3.Execute{Portal: first()}
		if s, ok := kv["max"]; ok {
			n, e := strconv.ParseUint(s, 10, 32)
			if e != nil {
				return nil, nil, e
			}
			m.MaxRows = uint32(n)
		}
		return m, nil, err
	case "Sync":
		return &pgproto3.Sync{}, nil, nil
	case "Flush":
		return &pgproto3.Flush{}, nil, nil
	case "Terminate":
		return &pgproto3.Terminate{}, nil, nil
	case "CopyDone":
		return &pgproto3.CopyDone{}, nil, nil
	case "CopyData":
		return &pgproto3.CopyData{Data: []byte(first())}, nil, err
	case "CopyFail":
		return &pgproto3.CopyFail{Message: first()}, nil, err
	case "Raw":
		return nil, []byte(first()), err
	}
	return nil, nil, fmt.Errorf("unknown frontend message %s", l.typ)
}

// --- comparison ---

func msgName(m pgproto3.BackendMessage) string {
	return strings.TrimPrefix(reflect.TypeOf(m).String(), "*pgproto3.")
}

func describeMsg(m pgproto3.BackendMessage) string {
	b, err := json.Marshal(m)
	if err != nil {
		return fmt.Sprintf("%#v", m)
	}
	return string(b)
}

func matchInt(raw string, got int64) bool {
	switch raw {
	case "*":
		return true
	case "+": // present but server-specific, like a table's OID
		return got != 0
	}
	n, err := strconv.ParseInt(raw, 10, 64)
	return err == nil && n == got
}

func matchBytes(raw string, got []byte, gotNull bool) error {
	v, err := decodeValue(raw)
	switch {
	case err != nil:
		return err
	case v.wild:
		return nil
	case v.null != gotNull:
		return fmt.Errorf("null mismatch: want %s", raw)
	case !v.null && !bytes.Equal(v.b, got):
		return fmt.Errorf("want %q, got %q", v.b, got)
	}
	return nil
}

// match compares a received message with an expected B line.
func (l tline) match(got pgproto3.BackendMessage) error {
	if name := msgName(got); name != l.typ {
		return fmt.Errorf("want %s, got %s", l.typ, name)
	}
	args := l.args
	count := func(n int) error {
		if len(args) != n {
			return fmt.Errorf("want %d values, got %d", len(args), n)
		}
		return nil
	}
	switch m := got.(type) {
	case *pgproto3.RowDescription:
		if err := count(len(m.Fields)); err != nil {
			return err
		}
		for i, f := range m.Fields {
			p := splitRaw(args[i], ':')
			if len(p) != 7 {
				return fmt.Errorf("field %d: want name:tableoid:attnum:typeoid:typlen:typmod:format", i+1)
			}
			if err := matchBytes(p[0], f.Name, false); err != nil {
				return fmt.Errorf("field %d name: %v", i+1, err)
			}
			nums := []int64{int64(f.TableOID), int64(f.TableAttributeNumber), int64(f.DataTypeOID),
				int64(f.DataTypeSize), int64(f.TypeModifier), int64(f.Format)}
			for j, n := range nums {
				if !matchInt(p[j+1], n) {
					return fmt.Errorf("field %d (%s) part %d: want %s, got %d", i+1, f.Name, j+2, p[j+1], n)
				}
			}
		}
	case *pgproto3.DataRow:
		if err := count(len(m.Values)); err != nil {
			return err
		}
		for i, v := range m.Values {
			if err := matchBytes(args[i], v, v == nil); err != nil {
				return fmt.Errorf("column %d: %v", i+1, err)
			}
		}
	case *pgproto3.ParameterDescription:
		if err := count(len(m.ParameterOIDs)); err != nil {
			return err
		}
		for i, o := range m.ParameterOIDs {
			if !matchInt(args[i], int64(o)) {
				return fmt.Errorf("parameter %d: want %s, got %d", i+1, args[i], o)
			}
		}
	case *pgproto3.CommandComplete:
		if err := count(1); err != nil {
			return err
		}
		return matchBytes(args[0], m.CommandTag, false)
	case *pgproto3.ReadyForQuery:
		if err := count(1); err != nil {
			return err
		}
		if args[0] != "*" && args[0] != string(m.TxStatus) {
			return fmt.Errorf("want status %s, got %c", args[0], m.TxStatus)
		}
	case *pgproto3.CopyData:
		if err := count(1); err != nil {
			return err
		}
		return matchBytes(args[0], m.Data, false)
	case *pgproto3.CopyInResponse:
		return matchCopyResponse(args, m.OverallFormat, m.ColumnFormatCodes)
	case *pgproto3.CopyOutResponse:
		return matchCopyResponse(args, m.OverallFormat, m.ColumnFormatCodes)
	case *pgproto3.ErrorResponse:
		return matchError(args, map[string]string{"severity": m.Severity, "code": m.Code, "message": m.Message,
			"detail": m.Detail, "hint": m.Hint, "position": strconv.Itoa(int(m.Position))})
	case *pgproto3.NoticeResponse:
		return matchError(args, map[string]string{"severity": m.Severity, "code": m.Code, "message": m.Message,
			"detail": m.Detail, "hint": m.Hint, "position": strconv.Itoa(int(m.Position))})
	default:
		return count(0)
	}
	return nil
}

func matchCopyResponse(args []string, format byte, cols []uint16) error {
	kv, pos := keyed(args)
	if len(pos) > 0 {
		return fmt.Errorf("unexpected %v", pos)
	}
	if f, ok := kv["format"]; ok && !matchInt(f, int64(format)) {
		return fmt.Errorf("format: want %s, got %d", f, format)
	}
	if c, ok := kv["columns"]; ok && c != "*" {
		want, err := intList(c)
		if err != nil {
			return err
		}
		if len(want) != len(cols) {
			return fmt.Errorf("columns: want %v, got %v", want, cols)
		}
		for i := range want {
			if want[i] != int64(cols[i]) {
				return fmt.Errorf("columns: want %v, got %v", want, cols)
			}
		}
	}
	return nil
}

func matchError(args []string, got map[string]string) error {
	kv, pos := keyed(args)
	if len(pos) > 0 {
		return fmt.Errorf("unexpected %v", pos)
	}
	for k, raw := range kv {
		g, ok := got[k]
		if !ok {
			return fmt.Errorf("unknown error field %s", k)
		}
		if err := matchBytes(raw, []byte(g), false); err != nil {
			return fmt.Errorf("%s: %v", k, err)
		}
	}
	return nil
}

// --- replay ---

func (tr *transcript) runCleanup(t *testing.T, tg wireTarget) {
	if len(tr.cleanup) == 0 {
		return
	}
	c := dialWire(t, tg)
	for _, sql := range tr.cleanup {
		if _, err := c.exec(sql); err != nil {
			t.Errorf("cleanup %q: %v", sql, err)
		}
	}
	c.fe.Send(&pgproto3.Terminate{})
	c.fe.Flush()
	c.nc.Close()
}

func (tr *transcript) run(t *testing.T, tg wireTarget) {
	tr.runCleanup(t, tg)
	defer tr.runCleanup(t, tg)
	c := dialWire(t, tg)
	var trace []string // what happened, for failure reports
	fail := func(l tline, format string, args ...any) {
		// Show what else the server had to say: usually the real answer.
		for i := 0; i < 20; i++ {
			m, err := c.receive(300 * time.Millisecond)
			if err != nil {
				break
			}
			trace = append(trace, "  then B "+msgName(m)+" "+describeMsg(m))
		}
		t.Fatalf("%s:%d: %s\n  %s\ntrace:\n%s", tr.path, l.no, fmt.Sprintf(format, args...), l.text, strings.Join(trace, "\n"))
	}
	pending := false
	flush := func(l tline) {
		if !pending {
			return
		}
		pending = false
		if err := c.fe.Flush(); err != nil {
			fail(l, "send: %v", err)
		}
	}
	for _, l := range tr.lines {
		if l.dir == 'F' {
			m, raw, err := l.frontend()
			if err != nil {
				t.Fatalf("%s:%d: %v", tr.path, l.no, err)
			}
			if raw != nil {
				flush(l)
				if _, err := c.nc.Write(raw); err != nil {
					fail(l, "write: %v", err)
				}
			} else {
				c.fe.Send(m)
				pending = true
			}
			trace = append(trace, l.text)
			continue
		}
		flush(l)
		for {
			m, err := c.receive(15 * time.Second)
			if err != nil {
				fail(l, "receive: %v", err)
			}
			name := msgName(m)
			if (name == "NoticeResponse" || name == "ParameterStatus") && name != l.typ {
				trace = append(trace, "  (skipped) B "+name+" "+describeMsg(m))
				continue
			}
			trace = append(trace, "  B "+name+" "+describeMsg(m))
			if err := l.match(m); err != nil {
				fail(l, "%v", err)
			}
			break
		}
	}
	// Nothing may be left over: a Sync must be answered by ReadyForQuery alone.
	end := tline{no: len(tr.lines), typ: "ReadyForQuery", args: []string{"*"}, text: "(final Sync)"}
	c.fe.Send(&pgproto3.Sync{})
	c.fe.Send(&pgproto3.Terminate{})
	if err := c.fe.Flush(); err != nil {
		fail(end, "send: %v", err)
	}
	for {
		m, err := c.receive(15 * time.Second)
		if err != nil {
			fail(end, "receive: %v", err)
		}
		if _, ok := m.(*pgproto3.NoticeResponse); ok {
			continue
		}
		if err := end.match(m); err != nil {
			trace = append(trace, "  B "+msgName(m)+" "+describeMsg(m))
			fail(end, "left over: %v", err)
		}
		break
	}
}
