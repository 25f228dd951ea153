package webhdfs

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hopsql/hopsql/catalog"
	"github.com/hopsql/hopsql/fs"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// env is a handler over a real fs.FS on a real one-node catalog.
type env struct {
	t        *testing.T
	node     *catalog.Node
	fs       *fs.FS
	data     string
	srv      *httptest.Server
	client   *http.Client
	inflight atomic.Int64 // requests inside the handler
	verifies atomic.Int64 // calls of the password checker
}

// Fake verifiers keep the test independent of wire: "plain:<password>".
const (
	superPW = "super secret"
	alicePW = "alice's password"
)

func newEnv(t *testing.T, auth string) *env {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	node, err := catalog.Open(ctx, catalog.Config{Dir: filepath.Join(dir, "catalog"), Logger: quiet})
	if err != nil {
		t.Fatalf("open catalog: %v", err)
	}
	t.Cleanup(func() { node.Close() })
	for _, c := range []struct {
		ct catalog.CmdType
		p  any
	}{
		{catalog.CmdPutUser, catalog.PutUser{Name: "hopsql", Superuser: true, SCRAM: "plain:" + superPW}},
		{catalog.CmdPutUser, catalog.PutUser{Name: "alice", SCRAM: "plain:" + alicePW}},
		{catalog.CmdPutUser, catalog.PutUser{Name: "nopw"}},
		{catalog.CmdCreateProject, catalog.CreateProject{Name: "p", Owner: "hopsql"}},
	} {
		if _, err := node.Propose(ctx, c.ct, c.p); err != nil {
			t.Fatalf("%s: %v", c.ct, err)
		}
	}
	f, err := fs.Open(node, dir, quiet)
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, node: node, fs: f, data: dir}
	h, err := New(Config{FS: f, Auth: auth, User: node.User, Project: node.Project, Logger: quiet,
		VerifyPassword: func(verifier, user, password string) bool {
			e.verifies.Add(1)
			return verifier == "plain:"+password
		}})
	if err != nil {
		t.Fatal(err)
	}
	e.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e.inflight.Add(1)
		defer e.inflight.Add(-1)
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(e.srv.Close)
	e.client = &http.Client{
		Timeout:       30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	return e
}

type response struct {
	status int
	header http.Header
	body   []byte
}

// do sends a request; target is the raw path and query after the host,
// sent exactly as written (no cleaning, no re-escaping).
func (e *env) do(method, target string, body io.Reader, mod func(*http.Request)) response {
	e.t.Helper()
	req, err := http.NewRequest(method, e.srv.URL+target, body)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, target, err)
	}
	if mod != nil {
		mod(req)
	}
	resp, err := e.client.Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, target, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatalf("%s %s: read body: %v", method, target, err)
	}
	return response{resp.StatusCode, resp.Header, b}
}

func (r response) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("body is not JSON: %v\n%s", err, r.body)
	}
	return m
}

func (r response) exception(t *testing.T) (string, string) {
	t.Helper()
	var m struct {
		RemoteException remoteException
	}
	if err := json.Unmarshal(r.body, &m); err != nil || m.RemoteException.Exception == "" {
		t.Fatalf("not a RemoteException (%v): %s", err, r.body)
	}
	return m.RemoteException.Exception, m.RemoteException.JavaClassName
}

func (e *env) put(p string, data []byte) {
	e.t.Helper()
	if _, err := e.fs.WriteFile(context.Background(), p, data, fs.CreateOptions{Owner: "hopsql"}); err != nil {
		e.t.Fatalf("write %s: %v", p, err)
	}
}

const res = "/webhdfs/v1/Projects/p/Resources"

// step is one request of a table-driven sequence; steps run in order on
// shared state, and each checks status, exception and, optionally, more.
type step struct {
	name   string
	method string
	target string
	body   string
	chunk  bool // send the body chunked (unknown length)
	user   string
	status int
	exc    string // RemoteException.exception, for errors
	check  func(t *testing.T, r response)
}

func (e *env) run(steps []step) {
	e.t.Helper()
	for _, s := range steps {
		var body io.Reader
		if s.body != "" || s.chunk {
			body = strings.NewReader(s.body)
			if s.chunk {
				body = io.MultiReader(body) // hides the length: chunked encoding
			}
		}
		target := s.target
		if s.user != "" {
			target += "&user.name=" + s.user
		}
		r := e.do(s.method, target, body, nil)
		if r.status != s.status {
			e.t.Errorf("%s: %s %s: status %d, want %d\n%s", s.name, s.method, s.target, r.status, s.status, r.body)
			continue
		}
		if s.exc != "" {
			if exc, _ := r.exception(e.t); exc != s.exc {
				e.t.Errorf("%s: exception %q, want %q (%s)", s.name, exc, s.exc, r.body)
			}
		}
		if s.check != nil {
			s.check(e.t, r)
		}
	}
}

func fileStatusOf(t *testing.T, r response) FileStatus {
	t.Helper()
	var m struct{ FileStatus FileStatus }
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("not a FileStatus: %v\n%s", err, r.body)
	}
	return m.FileStatus
}

func listOf(t *testing.T, r response) []FileStatus {
	t.Helper()
	var m struct {
		FileStatuses struct{ FileStatus []FileStatus }
	}
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("not FileStatuses: %v\n%s", err, r.body)
	}
	return m.FileStatuses.FileStatus
}

func wantBody(want string) func(*testing.T, response) {
	return func(t *testing.T, r response) {
		t.Helper()
		if string(r.body) != want {
			t.Errorf("body %q, want %q", r.body, want)
		}
	}
}

func wantBool(want bool) func(*testing.T, response) {
	return func(t *testing.T, r response) {
		t.Helper()
		if got, ok := r.json(t)["boolean"].(bool); !ok || got != want {
			t.Errorf("body %s, want {\"boolean\":%v}", r.body, want)
		}
	}
}

func TestWebHDFSReadOps(t *testing.T) {
	e := newEnv(t, AuthTrust)
	big := make([]byte, 200<<10) // larger than catalog.InlineMax: a block
	rand.NewChaCha8([32]byte{1}).Read(big)
	e.put("/Projects/p/Resources/small.txt", []byte("hello, webhdfs\n"))
	e.put("/Projects/p/Resources/big.bin", big)
	e.put("/Projects/p/Resources/d/b", []byte("b"))
	e.put("/Projects/p/Resources/d/a", []byte("a"))
	before := time.Now().UnixMilli()

	e.run([]step{
		{name: "file status", method: "GET", target: res + "/small.txt?op=GETFILESTATUS", status: 200,
			check: func(t *testing.T, r response) {
				st := fileStatusOf(t, r)
				if st.Type != "FILE" || st.Length != 15 || st.Owner != "hopsql" || st.Group != "p" || st.Permission != "644" ||
					st.PathSuffix != "" || st.Replication != 1 || st.BlockSize != 128<<20 || st.FileID == 0 {
					t.Errorf("FileStatus %+v", st)
				}
				if st.ModificationTime <= 0 || st.ModificationTime > before+1000 {
					t.Errorf("modificationTime %d is not milliseconds near %d", st.ModificationTime, before)
				}
				for _, k := range []string{"accessTime", "blockSize", "childrenNum", "fileId", "group", "length",
					"modificationTime", "owner", "pathSuffix", "permission", "replication", "type"} {
					if _, ok := r.json(t)["FileStatus"].(map[string]any)[k]; !ok {
						t.Errorf("FileStatus lacks %q: %s", k, r.body)
					}
				}
			}},
		{name: "directory status", method: "GET", target: res + "/d?op=GETFILESTATUS", status: 200,
			check: func(t *testing.T, r response) {
				st := fileStatusOf(t, r)
				if st.Type != "DIRECTORY" || st.ChildrenNum != 2 || st.Length != 0 || st.Permission != "755" {
					t.Errorf("FileStatus %+v", st)
				}
			}},
		{name: "root status", method: "GET", target: "/webhdfs/v1/?op=GETFILESTATUS", status: 200,
			check: func(t *testing.T, r response) {
				if st := fileStatusOf(t, r); st.Type != "DIRECTORY" || st.ChildrenNum != 1 {
					t.Errorf("FileStatus %+v", st)
				}
			}},
		{name: "root without slash", method: "GET", target: "/webhdfs/v1?op=LISTSTATUS", status: 200,
			check: func(t *testing.T, r response) {
				if l := listOf(t, r); len(l) != 1 || l[0].PathSuffix != "Projects" {
					t.Errorf("list %+v", l)
				}
			}},
		{name: "op is case-insensitive", method: "GET", target: res + "/small.txt?OP=getfilestatus", status: 200},
		{name: "missing file", method: "GET", target: res + "/nope?op=GETFILESTATUS", status: 404, exc: "FileNotFoundException",
			check: func(t *testing.T, r response) {
				if _, class := r.exception(t); class != "java.io.FileNotFoundException" {
					t.Errorf("javaClassName %q", class)
				}
			}},
		{name: "list directory", method: "GET", target: res + "?op=LISTSTATUS", status: 200,
			check: func(t *testing.T, r response) {
				var names []string
				for _, st := range listOf(t, r) {
					names = append(names, st.PathSuffix+":"+st.Type)
				}
				if got := strings.Join(names, " "); got != "big.bin:FILE d:DIRECTORY small.txt:FILE" {
					t.Errorf("LISTSTATUS = %s", got)
				}
			}},
		{name: "list a file", method: "GET", target: res + "/small.txt?op=LISTSTATUS", status: 200,
			check: func(t *testing.T, r response) {
				if l := listOf(t, r); len(l) != 1 || l[0].PathSuffix != "" || l[0].Length != 15 {
					t.Errorf("list %+v", l)
				}
			}},
		{name: "list missing", method: "GET", target: res + "/nope?op=LISTSTATUS", status: 404, exc: "FileNotFoundException"},
		{name: "open small", method: "GET", target: res + "/small.txt?op=OPEN", status: 200, check: wantBody("hello, webhdfs\n")},
		{name: "open offset+length", method: "GET", target: res + "/small.txt?op=OPEN&offset=7&length=5", status: 200, check: wantBody("webhd")},
		{name: "open offset to end", method: "GET", target: res + "/small.txt?op=OPEN&offset=7", status: 200, check: wantBody("webhdfs\n")},
		{name: "open length past end", method: "GET", target: res + "/small.txt?op=OPEN&offset=14&length=100", status: 200, check: wantBody("\n")},
		{name: "open at end", method: "GET", target: res + "/small.txt?op=OPEN&offset=15", status: 200, check: wantBody("")},
		{name: "open zero length", method: "GET", target: res + "/small.txt?op=OPEN&length=0", status: 200, check: wantBody("")},
		{name: "open beyond end", method: "GET", target: res + "/small.txt?op=OPEN&offset=16", status: 400, exc: "IllegalArgumentException"},
		{name: "open negative offset", method: "GET", target: res + "/small.txt?op=OPEN&offset=-1", status: 400, exc: "IllegalArgumentException"},
		{name: "open bad length", method: "GET", target: res + "/small.txt?op=OPEN&length=x", status: 400, exc: "IllegalArgumentException"},
		{name: "open directory", method: "GET", target: res + "/d?op=OPEN", status: 404, exc: "FileNotFoundException"},
		{name: "open missing", method: "GET", target: res + "/nope?op=OPEN", status: 404, exc: "FileNotFoundException"},
		{name: "open block file", method: "GET", target: res + "/big.bin?op=OPEN", status: 200, check: wantBody(string(big))},
		{name: "open block range", method: "GET", target: res + "/big.bin?op=OPEN&offset=70000&length=100000", status: 200,
			check: wantBody(string(big[70000:170000]))},
		{name: "open noredirect", method: "GET", target: res + "/small.txt?op=OPEN&noredirect=true&offset=1", status: 200,
			check: func(t *testing.T, r response) {
				loc, _ := r.json(t)["Location"].(string)
				if !strings.HasPrefix(loc, e.srv.URL+res+"/small.txt?") || strings.Contains(loc, "noredirect") || !strings.Contains(loc, "offset=1") {
					t.Errorf("Location %q", loc)
				}
			}},
		{name: "home directory", method: "GET", target: "/webhdfs/v1/?op=GETHOMEDIRECTORY&user.name=alice", status: 200,
			check: func(t *testing.T, r response) {
				if p := r.json(t)["Path"]; p != "/user/alice" {
					t.Errorf("Path %v", p)
				}
			}},
		{name: "content summary", method: "GET", target: res + "?op=GETCONTENTSUMMARY", status: 200,
			check: func(t *testing.T, r response) {
				cs := r.json(t)["ContentSummary"].(map[string]any)
				if cs["directoryCount"] != 2.0 || cs["fileCount"] != 4.0 || cs["length"] != float64(15+len(big)+2) || cs["quota"] != -1.0 {
					t.Errorf("ContentSummary %v", cs)
				}
			}},
	})
}

func TestWebHDFSWriteOps(t *testing.T) {
	e := newEnv(t, AuthTrust)
	e.put("/Projects/p/Resources/x.txt", []byte("x"))
	e.put("/Projects/p/Resources/full/f", []byte("f"))
	var redirect string

	e.run([]step{
		// HDFS's two steps: no data, no body → 307 to the same URL plus data=true.
		{name: "create step 1", method: "PUT", target: res + "/new.txt?op=CREATE&permission=640", status: 307,
			check: func(t *testing.T, r response) {
				redirect = r.header.Get("Location")
				if redirect != e.srv.URL+res+"/new.txt?op=CREATE&permission=640&data=true" {
					t.Errorf("Location %q", redirect)
				}
			}},
		{name: "no file after step 1", method: "GET", target: res + "/new.txt?op=GETFILESTATUS", status: 404},
	})
	r := e.do("PUT", strings.TrimPrefix(redirect, e.srv.URL), strings.NewReader("new content"), nil)
	if r.status != 201 || r.header.Get("Location") != e.srv.URL+res+"/new.txt" {
		t.Fatalf("create step 2: %d %q %s", r.status, r.header.Get("Location"), r.body)
	}
	e.run([]step{
		{name: "created", method: "GET", target: res + "/new.txt?op=OPEN", status: 200, check: wantBody("new content")},
		{name: "created status", method: "GET", target: res + "/new.txt?op=GETFILESTATUS", status: 200,
			check: func(t *testing.T, r response) {
				if st := fileStatusOf(t, r); st.Permission != "640" || st.Owner != "hopsql" || st.Length != 11 {
					t.Errorf("FileStatus %+v", st)
				}
			}},
		{name: "create with body in one step", method: "PUT", target: res + "/one.txt?op=CREATE", body: "one", user: "alice", status: 201},
		{name: "owner is the user", method: "GET", target: res + "/one.txt?op=GETFILESTATUS", status: 200,
			check: func(t *testing.T, r response) {
				if st := fileStatusOf(t, r); st.Owner != "alice" {
					t.Errorf("owner %q", st.Owner)
				}
			}},
		{name: "create chunked", method: "PUT", target: res + "/chunked.txt?op=CREATE", body: "chunks", chunk: true, status: 201},
		{name: "chunked content", method: "GET", target: res + "/chunked.txt?op=OPEN", status: 200, check: wantBody("chunks")},
		{name: "create empty file", method: "PUT", target: res + "/empty?op=CREATE&data=true", status: 201},
		{name: "empty content", method: "GET", target: res + "/empty?op=GETFILESTATUS", status: 200,
			check: func(t *testing.T, r response) {
				if st := fileStatusOf(t, r); st.Length != 0 || st.Type != "FILE" {
					t.Errorf("FileStatus %+v", st)
				}
			}},
		{name: "create exists", method: "PUT", target: res + "/x.txt?op=CREATE", body: "y", status: 403, exc: "FileAlreadyExistsException"},
		{name: "create exists step 1", method: "PUT", target: res + "/x.txt?op=CREATE", status: 403, exc: "FileAlreadyExistsException"},
		{name: "unchanged", method: "GET", target: res + "/x.txt?op=OPEN", status: 200, check: wantBody("x")},
		{name: "create overwrite", method: "PUT", target: res + "/x.txt?op=CREATE&overwrite=true", body: "y", status: 201},
		{name: "overwritten", method: "GET", target: res + "/x.txt?op=OPEN", status: 200, check: wantBody("y")},
		{name: "create on directory", method: "PUT", target: res + "/full?op=CREATE&overwrite=true", body: "y", status: 403, exc: "FileAlreadyExistsException"},
		{name: "create under file", method: "PUT", target: res + "/x.txt/sub?op=CREATE", body: "y", status: 403, exc: "ParentNotDirectoryException"},
		{name: "create bad permission", method: "PUT", target: res + "/p.txt?op=CREATE&permission=999", body: "y", status: 400, exc: "IllegalArgumentException"},
		{name: "create bad overwrite", method: "PUT", target: res + "/p.txt?op=CREATE&overwrite=yes", body: "y", status: 400, exc: "IllegalArgumentException"},
		{name: "create makes parents", method: "PUT", target: res + "/a/b/c.txt?op=CREATE", body: "c", status: 201},
		{name: "create noredirect", method: "PUT", target: res + "/nr.txt?op=CREATE&noredirect=true", status: 200,
			check: func(t *testing.T, r response) {
				if loc, _ := r.json(t)["Location"].(string); loc != e.srv.URL+res+"/nr.txt?op=CREATE&data=true" {
					t.Errorf("Location %q", loc)
				}
			}},
		{name: "create in /Projects", method: "PUT", target: "/webhdfs/v1/Projects/q?op=CREATE", body: "q", status: 403, exc: "AccessControlException"},

		{name: "mkdirs", method: "PUT", target: res + "/m/n?op=MKDIRS&permission=700", status: 200, check: wantBool(true)},
		{name: "mkdirs made", method: "GET", target: res + "/m/n?op=GETFILESTATUS", status: 200,
			check: func(t *testing.T, r response) {
				if st := fileStatusOf(t, r); st.Type != "DIRECTORY" || st.Permission != "700" {
					t.Errorf("FileStatus %+v", st)
				}
			}},
		{name: "mkdirs existing", method: "PUT", target: res + "/m?op=MKDIRS", status: 200, check: wantBool(true)},
		{name: "mkdirs over file", method: "PUT", target: res + "/x.txt?op=MKDIRS", status: 403, exc: "ParentNotDirectoryException"},
		{name: "mkdirs project", method: "PUT", target: "/webhdfs/v1/Projects/q?op=MKDIRS", status: 403, exc: "AccessControlException"},

		{name: "rename", method: "PUT", target: res + "/one.txt?op=RENAME&destination=/Projects/p/Resources/two.txt", status: 200, check: wantBool(true)},
		{name: "renamed away", method: "GET", target: res + "/one.txt?op=GETFILESTATUS", status: 404},
		{name: "renamed to", method: "GET", target: res + "/two.txt?op=OPEN", status: 200, check: wantBody("one")},
		{name: "rename into directory", method: "PUT", target: res + "/two.txt?op=RENAME&destination=/Projects/p/Resources/m", status: 200, check: wantBool(true)},
		{name: "moved into", method: "GET", target: res + "/m/two.txt?op=OPEN", status: 200, check: wantBody("one")},
		{name: "rename missing source", method: "PUT", target: res + "/nope?op=RENAME&destination=/Projects/p/Resources/z", status: 200, check: wantBool(false)},
		{name: "rename onto file", method: "PUT", target: res + "/x.txt?op=RENAME&destination=/Projects/p/Resources/new.txt", status: 200, check: wantBool(false)},
		{name: "rename missing parent", method: "PUT", target: res + "/x.txt?op=RENAME&destination=/Projects/p/nope/x", status: 200, check: wantBool(false)},
		{name: "rename into itself", method: "PUT", target: res + "/m?op=RENAME&destination=/Projects/p/Resources/m/n/m2", status: 200, check: wantBool(false)},
		{name: "rename no destination", method: "PUT", target: res + "/x.txt?op=RENAME", status: 400, exc: "IllegalArgumentException"},
		{name: "rename bad destination", method: "PUT", target: res + "/x.txt?op=RENAME&destination=/Projects/p/../../etc", status: 400, exc: "IllegalArgumentException"},
		{name: "rename relative destination", method: "PUT", target: res + "/x.txt?op=RENAME&destination=x2", status: 400, exc: "IllegalArgumentException"},
		{name: "rename project", method: "PUT", target: "/webhdfs/v1/Projects/p?op=RENAME&destination=/Projects/q", status: 403, exc: "AccessControlException"},

		{name: "setxattr", method: "PUT", target: res + "/x.txt?op=SETXATTR&xattr.name=user.a&xattr.value=%22v1%22&flag=CREATE", status: 200},
		{name: "setxattr hex", method: "PUT", target: res + "/x.txt?op=SETXATTR&xattr.name=user.h&xattr.value=0x00ff&flag=CREATE", status: 200},
		{name: "setxattr base64", method: "PUT", target: res + "/x.txt?op=SETXATTR&xattr.name=user.b&xattr.value=0sAAE%3D", status: 200},
		{name: "setxattr create exists", method: "PUT", target: res + "/x.txt?op=SETXATTR&xattr.name=user.a&xattr.value=v2&flag=CREATE", status: 403, exc: "IOException"},
		{name: "setxattr replace missing", method: "PUT", target: res + "/x.txt?op=SETXATTR&xattr.name=user.z&xattr.value=v&flag=REPLACE", status: 403, exc: "IOException"},
		{name: "setxattr bad flag", method: "PUT", target: res + "/x.txt?op=SETXATTR&xattr.name=user.z&flag=MAYBE", status: 400, exc: "IllegalArgumentException"},
		{name: "setxattr bad hex", method: "PUT", target: res + "/x.txt?op=SETXATTR&xattr.name=user.z&xattr.value=0xzz", status: 400, exc: "IllegalArgumentException"},
		{name: "setxattr no namespace", method: "PUT", target: res + "/x.txt?op=SETXATTR&xattr.name=a&xattr.value=v", status: 400, exc: "IllegalArgumentException"},
		{name: "setxattr no name", method: "PUT", target: res + "/x.txt?op=SETXATTR&xattr.value=v", status: 400, exc: "IllegalArgumentException"},
		{name: "setxattr missing file", method: "PUT", target: res + "/nope?op=SETXATTR&xattr.name=user.a&xattr.value=v", status: 404, exc: "FileNotFoundException"},
		{name: "getxattrs hex default", method: "GET", target: res + "/x.txt?op=GETXATTRS&xattr.name=user.a&xattr.name=user.h", status: 200,
			check: wantBody(`{"XAttrs":[{"name":"user.a","value":"0x7631"},{"name":"user.h","value":"0x00ff"}]}` + "\n")},
		{name: "getxattrs text", method: "GET", target: res + "/x.txt?op=GETXATTRS&xattr.name=user.a&encoding=TEXT", status: 200,
			check: wantBody(`{"XAttrs":[{"name":"user.a","value":"\"v1\""}]}` + "\n")},
		{name: "getxattrs all base64", method: "GET", target: res + "/x.txt?op=GETXATTRS&encoding=base64", status: 200,
			check: wantBody(`{"XAttrs":[{"name":"user.a","value":"0sdjE="},{"name":"user.b","value":"0sAAE="},{"name":"user.h","value":"0sAP8="}]}` + "\n")},
		{name: "getxattrs missing name", method: "GET", target: res + "/x.txt?op=GETXATTRS&xattr.name=user.nope", status: 403, exc: "IOException"},
		{name: "getxattrs bad encoding", method: "GET", target: res + "/x.txt?op=GETXATTRS&encoding=rot13", status: 400, exc: "IllegalArgumentException"},
		{name: "listxattrs", method: "GET", target: res + "/x.txt?op=LISTXATTRS", status: 200,
			check: wantBody(`{"XAttrNames":"[\"user.a\",\"user.b\",\"user.h\"]"}` + "\n")},
		{name: "setxattr replace", method: "PUT", target: res + "/x.txt?op=SETXATTR&xattr.name=user.a&xattr.value=v2&flag=REPLACE", status: 200},
		{name: "replaced", method: "GET", target: res + "/x.txt?op=GETXATTRS&xattr.name=user.a&encoding=text", status: 200,
			check: wantBody(`{"XAttrs":[{"name":"user.a","value":"\"v2\""}]}` + "\n")},
		{name: "removexattr", method: "PUT", target: res + "/x.txt?op=REMOVEXATTR&xattr.name=user.a", status: 200},
		{name: "removexattr again", method: "PUT", target: res + "/x.txt?op=REMOVEXATTR&xattr.name=user.a", status: 403, exc: "IOException"},
		{name: "removed", method: "GET", target: res + "/x.txt?op=GETXATTRS&xattr.name=user.a", status: 403, exc: "IOException"},

		{name: "delete missing", method: "DELETE", target: res + "/nope?op=DELETE", status: 200, check: wantBool(false)},
		{name: "delete non-empty", method: "DELETE", target: res + "/full?op=DELETE", status: 403, exc: "PathIsNotEmptyDirectoryException"},
		{name: "still there", method: "GET", target: res + "/full/f?op=OPEN", status: 200, check: wantBody("f")},
		{name: "delete recursive", method: "DELETE", target: res + "/full?op=DELETE&recursive=true", status: 200, check: wantBool(true)},
		{name: "deleted", method: "GET", target: res + "/full?op=GETFILESTATUS", status: 404},
		{name: "delete file", method: "DELETE", target: res + "/x.txt?op=DELETE", status: 200, check: wantBool(true)},
		{name: "delete project", method: "DELETE", target: "/webhdfs/v1/Projects/p?op=DELETE&recursive=true", status: 403, exc: "AccessControlException"},
		{name: "delete root", method: "DELETE", target: "/webhdfs/v1/?op=DELETE&recursive=true", status: 403, exc: "AccessControlException"},
	})
}

func TestWebHDFSRequestErrors(t *testing.T) {
	e := newEnv(t, AuthTrust)
	e.put("/Projects/p/Resources/x", []byte("x"))
	long := strings.Repeat("n", catalog.MaxNameLen+1)
	e.run([]step{
		{name: "no op", method: "GET", target: res + "/x", status: 400, exc: "IllegalArgumentException"},
		{name: "unknown op", method: "GET", target: res + "/x?op=FROBNICATE", status: 400, exc: "IllegalArgumentException"},
		{name: "GET of a PUT op", method: "GET", target: res + "/x?op=MKDIRS", status: 405, exc: "UnsupportedOperationException",
			check: func(t *testing.T, r response) {
				if a := r.header.Get("Allow"); a != "PUT" {
					t.Errorf("Allow %q", a)
				}
			}},
		{name: "POST of a GET op", method: "POST", target: res + "/x?op=OPEN", status: 405, exc: "UnsupportedOperationException"},
		{name: "DELETE with PUT", method: "PUT", target: res + "/x?op=DELETE", status: 405, exc: "UnsupportedOperationException"},
		{name: "wrong method does nothing", method: "GET", target: res + "/x?op=OPEN", status: 200, check: wantBody("x")},
		{name: "bad query", method: "GET", target: res + "/x?op=OPEN&offset=%zz", status: 400, exc: "IllegalArgumentException"},
		{name: "outside the API", method: "GET", target: "/etc/passwd?op=OPEN", status: 404, exc: "FileNotFoundException"},
		{name: "API prefix lookalike", method: "GET", target: "/webhdfs/v1x/Projects?op=LISTSTATUS", status: 404, exc: "FileNotFoundException"},
		{name: "unknown user", method: "GET", target: res + "/x?op=OPEN&user.name=mallory", status: 403, exc: "AccessControlException"},
	})
	// Path confinement: every spelling of an escape is refused as a bad
	// path (400), never resolved.
	for _, tc := range []struct{ name, path string }{
		{"dot-dot", "/Projects/p/Resources/../../../etc/passwd"},
		{"dot-dot at root", "/../etc/passwd"},
		{"escaped dot-dot", "/Projects/p/Resources/%2e%2e/%2E%2E/x"},
		{"escaped slash and dot-dot", "/Projects/p/Resources%2f..%2fx"},
		{"dot", "/Projects/p/./Resources/x"},
		{"double slash", "/Projects//p/Resources/x"},
		{"leading double slash", "//Projects/p/Resources/x"},
		{"NUL", "/Projects/p/Resources/x%00.txt"},
		{"invalid UTF-8", "/Projects/p/Resources/%ff"},
		{"long name", "/Projects/p/Resources/" + long},
	} {
		for _, op := range []struct{ method, q string }{
			{"GET", "op=GETFILESTATUS"}, {"GET", "op=OPEN"}, {"GET", "op=LISTSTATUS"},
			{"PUT", "op=MKDIRS"}, {"PUT", "op=CREATE&data=true"}, {"DELETE", "op=DELETE&recursive=true"},
		} {
			r := e.do(op.method, "/webhdfs/v1"+tc.path+"?"+op.q, nil, nil)
			if r.status != 400 {
				t.Errorf("%s %s %s: status %d, want 400\n%s", tc.name, op.method, op.q, r.status, r.body)
				continue
			}
			if exc, _ := r.exception(t); exc != "IllegalArgumentException" {
				t.Errorf("%s %s: exception %q", tc.name, op.q, exc)
			}
		}
	}
	// The long name's message says what is wrong.
	r := e.do("GET", "/webhdfs/v1/Projects/p/Resources/"+long+"?op=GETFILESTATUS", nil, nil)
	if !strings.Contains(string(r.body), "longer than") {
		t.Errorf("long name: %s", r.body)
	}
	// Nothing outside the project got created by any of the above.
	list, err := e.fs.List(context.Background(), "/")
	if err != nil || len(list) != 1 || list[0].Name != "Projects" {
		t.Errorf("root holds %+v (%v)", list, err)
	}
	if list, _ := e.fs.List(context.Background(), "/Projects/p/Resources"); len(list) != 1 {
		t.Errorf("Resources holds %d entries, want 1", len(list))
	}
}

func TestWebHDFSQuotas(t *testing.T) {
	e := newEnv(t, AuthTrust)
	const proj = "/webhdfs/v1/Projects/p"
	e.run([]step{
		{name: "not a superuser", method: "PUT", target: proj + "?op=SETQUOTA&storagespacequota=100", user: "alice", status: 403, exc: "AccessControlException"},
		{name: "not a project", method: "PUT", target: res + "?op=SETQUOTA&storagespacequota=100", status: 400, exc: "IllegalArgumentException"},
		{name: "zero quota", method: "PUT", target: proj + "?op=SETQUOTA&storagespacequota=0", status: 400, exc: "IllegalArgumentException"},
		{name: "space quota", method: "PUT", target: proj + "?op=SETQUOTA&storagespacequota=100", status: 200},
		{name: "within space quota", method: "PUT", target: res + "/a?op=CREATE", body: strings.Repeat("a", 60), status: 201},
		{name: "over space quota", method: "PUT", target: res + "/b?op=CREATE", body: strings.Repeat("b", 60), status: 403, exc: "DSQuotaExceededException"},
		{name: "quota usage", method: "GET", target: proj + "?op=GETQUOTAUSAGE", status: 200,
			check: func(t *testing.T, r response) {
				q := r.json(t)["QuotaUsage"].(map[string]any)
				// The project dir, its 6 standard directories and file a.
				if q["spaceConsumed"] != 60.0 || q["spaceQuota"] != 100.0 || q["quota"] != -1.0 || q["fileAndDirectoryCount"] != 8.0 {
					t.Errorf("QuotaUsage %v", q)
				}
			}},
		{name: "inode quota keeps space quota", method: "PUT", target: proj + "?op=SETQUOTA&namespacequota=9", status: 200},
		{name: "within inode quota", method: "PUT", target: res + "/m?op=MKDIRS", status: 200},
		{name: "over inode quota", method: "PUT", target: res + "/n?op=MKDIRS", status: 403, exc: "NSQuotaExceededException"},
		{name: "both quotas", method: "GET", target: proj + "?op=GETCONTENTSUMMARY", status: 200,
			check: func(t *testing.T, r response) {
				cs := r.json(t)["ContentSummary"].(map[string]any)
				if cs["quota"] != 9.0 || cs["spaceQuota"] != 100.0 || cs["directoryCount"] != 8.0 || cs["fileCount"] != 1.0 {
					t.Errorf("ContentSummary %v", cs)
				}
			}},
		{name: "remove quotas", method: "PUT", target: proj + "?op=SETQUOTA&namespacequota=-1&storagespacequota=-1", status: 200},
		{name: "no quota", method: "PUT", target: res + "/b?op=CREATE", body: strings.Repeat("b", 60), status: 201},
	})
}

func TestWebHDFSPasswordAuth(t *testing.T) {
	e := newEnv(t, AuthPassword)
	e.put("/Projects/p/Resources/x", []byte("x"))
	target := res + "/x?op=OPEN"
	basic := func(u, p string) func(*http.Request) { return func(r *http.Request) { r.SetBasicAuth(u, p) } }
	for _, tc := range []struct {
		name   string
		target string
		mod    func(*http.Request)
		status int
	}{
		{"no credentials", target, nil, 401},
		{"user.name is not enough", target + "&user.name=hopsql", nil, 401},
		{"wrong password", target, basic("hopsql", "wrong"), 401},
		{"unknown user", target, basic("mallory", superPW), 401},
		{"user without password", target, basic("nopw", ""), 401},
		{"superuser", target, basic("hopsql", superPW), 200},
		{"other user", target, basic("alice", alicePW), 200},
		{"matching user.name", target + "&user.name=alice", basic("alice", alicePW), 200},
		{"impersonation", target + "&user.name=hopsql", basic("alice", alicePW), 403},
	} {
		r := e.do("GET", tc.target, nil, tc.mod)
		if r.status != tc.status {
			t.Errorf("%s: status %d, want %d\n%s", tc.name, r.status, tc.status, r.body)
			continue
		}
		if tc.status == 401 {
			if exc, _ := r.exception(t); exc != "SecurityException" {
				t.Errorf("%s: exception %q", tc.name, exc)
			}
			if !strings.HasPrefix(r.header.Get("WWW-Authenticate"), "Basic ") {
				t.Errorf("%s: WWW-Authenticate %q", tc.name, r.header.Get("WWW-Authenticate"))
			}
		}
		if tc.status == 200 && string(r.body) != "x" {
			t.Errorf("%s: body %q", tc.name, r.body)
		}
	}
	// Files belong to the authenticated user.
	if r := e.do("PUT", res+"/mine?op=CREATE", strings.NewReader("m"), basic("alice", alicePW)); r.status != 201 {
		t.Fatalf("create as alice: %d %s", r.status, r.body)
	}
	if fi, err := e.fs.Stat(context.Background(), "/Projects/p/Resources/mine"); err != nil || fi.Owner != "alice" {
		t.Errorf("owner %q (%v), want alice", fi.Owner, err)
	}
	// A verified password is remembered: repeating it costs no key derivation,
	// while a wrong one is checked every time.
	n := e.verifies.Load()
	for range 3 {
		e.do("GET", target, nil, basic("hopsql", superPW))
	}
	if d := e.verifies.Load() - n; d != 0 {
		t.Errorf("%d verifications for a remembered password, want 0", d)
	}
	for range 2 {
		e.do("GET", target, nil, basic("hopsql", "wrong"))
	}
	if d := e.verifies.Load() - n; d != 2 {
		t.Errorf("%d verifications for two wrong passwords, want 2", d)
	}
}

// TestWebHDFSUploadCancelled: a client that disconnects mid-upload leaves no file
// and no block behind.
func TestWebHDFSUploadCancelled(t *testing.T) {
	e := newEnv(t, AuthTrust)
	pr, pw := io.Pipe()
	ctx, cancel := context.WithCancel(context.Background())
	req, err := http.NewRequestWithContext(ctx, "PUT", e.srv.URL+res+"/partial?op=CREATE&data=true", pr)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		resp, err := e.client.Do(req)
		if err == nil {
			resp.Body.Close()
			err = errors.New("request completed: " + resp.Status)
		}
		done <- err
	}()
	// More than the inline limit, so the server writes a block; wait until
	// its temporary file exists, so the disconnect comes mid-write.
	go pw.Write(make([]byte, 512<<10))
	blocks := filepath.Join(e.data, "blocks")
	waitFor(t, "a block being written", func() bool { return len(walkFiles(blocks)) > 0 })
	cancel()
	// The transport's writer is blocked reading the pipe; unblock it too.
	pw.CloseWithError(context.Canceled)
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("client: %v, want context.Canceled", err)
	}
	waitFor(t, "the handler to return", func() bool { return e.inflight.Load() == 0 })
	if r := e.do("GET", res+"/partial?op=GETFILESTATUS", nil, nil); r.status != 404 {
		t.Errorf("partial upload is visible: %d %s", r.status, r.body)
	}
	if left := walkFiles(blocks); len(left) > 0 {
		t.Errorf("block files left behind: %v", left)
	}
}

func walkFiles(dir string) []string {
	var out []string
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			out = append(out, p)
		}
		return nil
	})
	return out
}

// waitFor polls cond until it holds, failing the test after 20s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestWebHDFSLargeUploadStreams writes a file of several MiB in one PUT and reads
// it back whole and in ranges.
func TestWebHDFSLargeUploadStreams(t *testing.T) {
	e := newEnv(t, AuthTrust)
	data := make([]byte, 5<<20+123)
	rand.NewChaCha8([32]byte{2}).Read(data)
	if r := e.do("PUT", res+"/large?op=CREATE", bytes.NewReader(data), nil); r.status != 201 {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	if r := e.do("GET", res+"/large?op=OPEN", nil, nil); r.status != 200 || !bytes.Equal(r.body, data) {
		t.Errorf("read back %d bytes (status %d), want %d identical bytes", len(r.body), r.status, len(data))
	}
	if r := e.do("GET", res+"/large?op=OPEN&offset=4194304&length=65536", nil, nil); !bytes.Equal(r.body, data[4<<20:4<<20+65536]) {
		t.Errorf("range read differs (status %d, %d bytes)", r.status, len(r.body))
	}
}

func TestWebHDFSDecodeXattr(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want string
		bad  bool
	}{
		{"", "", false},
		{"plain", "plain", false},
		{`"quoted"`, "quoted", false},
		{`"`, `"`, false},
		{"0x6869", "hi", false},
		{"0X6869", "hi", false},
		{"0saGk=", "hi", false},
		{"0x6", "", true},
		{"0s!!", "", true},
	} {
		got, err := decodeXattr(tc.in)
		if (err != nil) != tc.bad || (!tc.bad && string(got) != tc.want) {
			t.Errorf("decodeXattr(%q) = %q, %v", tc.in, got, err)
		}
	}
}
