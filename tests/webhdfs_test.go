package tests

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// curlResult is what one curl invocation returned.
type curlResult struct {
	status  int
	body    []byte
	headers string
}

// curl runs the real curl: -sS, the status code and headers captured, the
// body in a file so that binary content survives. Extra args come first.
func curl(t *testing.T, args ...string) curlResult {
	t.Helper()
	dir := t.TempDir()
	bodyFile, headFile := filepath.Join(dir, "body"), filepath.Join(dir, "headers")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	full := append([]string{"-sS", "-o", bodyFile, "-D", headFile, "-w", "%{http_code}"}, args...)
	out, err := exec.CommandContext(ctx, "curl", full...).Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			t.Fatalf("curl %s: %v\n%s", strings.Join(args, " "), err, ee.Stderr)
		}
		t.Fatalf("curl %s: %v", strings.Join(args, " "), err)
	}
	var r curlResult
	if r.status, err = strconv.Atoi(strings.TrimSpace(string(out))); err != nil {
		t.Fatalf("curl %s: status %q", strings.Join(args, " "), out)
	}
	r.body, _ = os.ReadFile(bodyFile)
	h, _ := os.ReadFile(headFile)
	r.headers = string(h)
	return r
}

// header returns the last value of a header (after redirects, the final
// response's).
func (r curlResult) header(name string) string {
	var v string
	for _, line := range strings.Split(r.headers, "\n") {
		if k, val, ok := strings.Cut(line, ":"); ok && strings.EqualFold(strings.TrimSpace(k), name) {
			v = strings.TrimSpace(val)
		}
	}
	return v
}

func (r curlResult) exception(t *testing.T) string {
	t.Helper()
	var m struct {
		RemoteException struct{ Exception, Message string }
	}
	if err := json.Unmarshal(r.body, &m); err != nil || m.RemoteException.Exception == "" {
		t.Fatalf("not a RemoteException (%v): %s", err, r.body)
	}
	return m.RemoteException.Exception
}

// listNames returns LISTSTATUS's pathSuffix values via curl.
func listNames(t *testing.T, base, p string) []string {
	t.Helper()
	r := curl(t, base+p+"?op=LISTSTATUS")
	if r.status != 200 {
		t.Fatalf("LISTSTATUS %s: %d %s", p, r.status, r.body)
	}
	var m struct {
		FileStatuses struct {
			FileStatus []struct{ PathSuffix string }
		}
	}
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("LISTSTATUS %s: %v\n%s", p, err, r.body)
	}
	var out []string
	for _, st := range m.FileStatuses.FileStatus {
		out = append(out, st.PathSuffix)
	}
	return out
}

// fsCLI runs `hopsql fs …` and returns stdout, stderr and the exit status.
func fsCLI(t *testing.T, env []string, stdin []byte, args ...string) (string, string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, hopsqlBin, append([]string{"fs"}, args...)...)
	// Only what the test says: no HOPSQL_* from the environment running the tests.
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "HOPSQL_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, env...)
	cmd.Stdin = bytes.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("hopsql fs %s: %v", strings.Join(args, " "), err)
	}
	return stdout.String(), stderr.String(), code
}

// mustFS runs `hopsql fs --url … args` and fails the test unless it succeeds.
func mustFS(t *testing.T, srv *server, stdin []byte, args ...string) string {
	t.Helper()
	out, errOut, code := fsCLI(t, nil, stdin, append([]string{"--url", srv.HTTP}, args...)...)
	if code != 0 {
		t.Fatalf("hopsql fs %s: exit %d\n%s%s", strings.Join(args, " "), code, out, errOut)
	}
	return out
}

func randomBytes(t *testing.T, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

// TestWebHDFS drives the REST API with curl and the `hopsql fs` CLI against
// one server and checks that the two, and SQL, see the same files.
func TestWebHDFS(t *testing.T) {
	if _, err := exec.LookPath("curl"); err != nil {
		t.Fatal("curl is not installed (tests/install-deps.sh installs it)")
	}
	srv := startServer(t)
	if !strings.HasPrefix(srv.HTTP, "http://127.0.0.1:") {
		t.Fatalf("no WebHDFS address in the server's log:\n%s", srv.Log())
	}
	base := srv.HTTP + "/webhdfs/v1"
	res := "/Projects/hopsql/Resources"
	dir := t.TempDir()

	t.Run("project directories", func(t *testing.T) {
		got := strings.Join(listNames(t, base, "/Projects/hopsql"), " ")
		if got != "Experiments Logs Models Resources TrainingDatasets Warehouse" {
			t.Errorf("/Projects/hopsql holds %q", got)
		}
		out := mustFS(t, srv, nil, "ls", "/Projects/hopsql")
		for _, d := range []string{"Resources", "Experiments", "Models", "TrainingDatasets", "Logs", "Warehouse"} {
			if !regexp.MustCompile(`(?m)^drwxrwx--- +- hopsql hopsql +0 \d{4}-\d\d-\d\d \d\d:\d\d /Projects/hopsql/` + d + `$`).MatchString(out) {
				t.Errorf("hopsql fs ls lacks %s:\n%s", d, out)
			}
		}
	})

	small := []byte("id,name\n1,ada\n2,grace\n")
	big := randomBytes(t, 300<<10+7) // over the 64 KiB inline limit: a block
	smallFile, bigFile := filepath.Join(dir, "small.csv"), filepath.Join(dir, "big.bin")
	os.WriteFile(smallFile, small, 0o644)
	os.WriteFile(bigFile, big, 0o644)

	t.Run("two-step create with curl", func(t *testing.T) {
		// Step 1 by hand: no data → 307 to the same URL plus data=true.
		r := curl(t, "-X", "PUT", base+res+"/small.csv?op=CREATE&permission=640")
		loc := r.header("Location")
		if r.status != 307 || loc != base+res+"/small.csv?op=CREATE&permission=640&data=true" {
			t.Fatalf("step 1: %d, Location %q", r.status, loc)
		}
		if r := curl(t, base+res+"/small.csv?op=GETFILESTATUS"); r.status != 404 || r.exception(t) != "FileNotFoundException" {
			t.Errorf("file exists after step 1: %d %s", r.status, r.body)
		}
		r = curl(t, "-T", smallFile, "-X", "PUT", loc)
		if r.status != 201 || r.header("Location") != base+res+"/small.csv" {
			t.Fatalf("step 2: %d, Location %q: %s", r.status, r.header("Location"), r.body)
		}
		// The way the Hadoop docs show it: curl follows the redirect itself.
		if r := curl(t, "-L", "-T", bigFile, "-X", "PUT", base+res+"/big.bin?op=CREATE"); r.status != 201 {
			t.Fatalf("curl -L -T big.bin: %d %s", r.status, r.body)
		}
		for _, f := range []struct {
			name string
			want []byte
		}{{"small.csv", small}, {"big.bin", big}} {
			r := curl(t, "-L", base+res+"/"+f.name+"?op=OPEN")
			if r.status != 200 || !bytes.Equal(r.body, f.want) {
				t.Errorf("OPEN %s: status %d, %d bytes, want %d identical bytes", f.name, r.status, len(r.body), len(f.want))
			}
		}
		if r := curl(t, base+res+"/big.bin?op=OPEN&offset=70000&length=1000"); !bytes.Equal(r.body, big[70000:71000]) {
			t.Errorf("OPEN with offset and length: %d bytes differ", len(r.body))
		}
		r = curl(t, base+res+"/small.csv?op=GETFILESTATUS")
		var st struct{ FileStatus map[string]any }
		json.Unmarshal(r.body, &st)
		if fs := st.FileStatus; fs["type"] != "FILE" || fs["length"] != float64(len(small)) || fs["permission"] != "640" || fs["owner"] != "hopsql" {
			t.Errorf("GETFILESTATUS: %s", r.body)
		}
		// Without overwrite, an existing file stays.
		if r := curl(t, "-L", "-T", bigFile, "-X", "PUT", base+res+"/small.csv?op=CREATE"); r.status != 403 || r.exception(t) != "FileAlreadyExistsException" {
			t.Errorf("create over an existing file: %d %s", r.status, r.body)
		}
	})

	t.Run("CLI and REST agree", func(t *testing.T) {
		// put via the CLI (big: a block; into a directory: keeps the name),
		// LISTSTATUS via curl shows it.
		mustFS(t, srv, nil, "mkdir", "-p", res+"/cli/sub")
		mustFS(t, srv, nil, "put", bigFile, res+"/cli")
		mustFS(t, srv, small, "put", "-", res+"/cli/from-stdin.csv")
		if got := strings.Join(listNames(t, base, res+"/cli"), " "); got != "big.bin from-stdin.csv sub" {
			t.Fatalf("LISTSTATUS after CLI put: %q", got)
		}
		// get via the CLI: byte-identical, for both storage kinds.
		for _, f := range []struct {
			name string
			want []byte
		}{{"big.bin", big}, {"from-stdin.csv", small}} {
			local := filepath.Join(dir, "got-"+f.name)
			mustFS(t, srv, nil, "get", res+"/cli/"+f.name, local)
			if got, err := os.ReadFile(local); err != nil || !bytes.Equal(got, f.want) {
				t.Errorf("get %s: %d bytes (%v), want %d identical bytes", f.name, len(got), err, len(f.want))
			}
		}
		if out := mustFS(t, srv, nil, "cat", res+"/small.csv"); out != string(small) {
			t.Errorf("cat: %q", out)
		}
		// Rename via REST; the CLI sees the new name and not the old.
		r := curl(t, "-X", "PUT", base+res+"/cli/big.bin?op=RENAME&destination="+res+"/cli/sub/renamed.bin")
		if r.status != 200 || strings.TrimSpace(string(r.body)) != `{"boolean":true}` {
			t.Fatalf("RENAME: %d %s", r.status, r.body)
		}
		out := mustFS(t, srv, nil, "ls", res+"/cli", res+"/cli/sub")
		if strings.Contains(out, res+"/cli/big.bin") || !regexp.MustCompile(`(?m)^-rw-r--r-- +1 hopsql hopsql +307207 .* `+res+`/cli/sub/renamed.bin$`).MatchString(out) {
			t.Errorf("ls after RENAME:\n%s", out)
		}
		// mv via the CLI; GETFILESTATUS via curl agrees.
		mustFS(t, srv, nil, "mv", res+"/cli/sub/renamed.bin", res+"/cli/moved.bin")
		if r := curl(t, base+res+"/cli/moved.bin?op=GETFILESTATUS"); r.status != 200 || !strings.Contains(string(r.body), `"length":307207`) {
			t.Errorf("GETFILESTATUS after mv: %d %s", r.status, r.body)
		}
		// xattrs set with the CLI are read with curl and back.
		mustFS(t, srv, nil, "setxattr", "-n", "user.source", "-v", "cli", res+"/cli/moved.bin")
		if r := curl(t, base+res+"/cli/moved.bin?op=GETXATTRS&xattr.name=user.source&encoding=text"); !strings.Contains(string(r.body), `{"name":"user.source","value":"\"cli\""}`) {
			t.Errorf("GETXATTRS: %d %s", r.status, r.body)
		}
		curl(t, "-X", "PUT", base+res+"/cli/moved.bin?op=SETXATTR&xattr.name=user.rest&xattr.value=0x6869&flag=CREATE")
		if out := mustFS(t, srv, nil, "getxattr", res+"/cli/moved.bin"); out != "# file: "+res+"/cli/moved.bin\nuser.rest=\"hi\"\nuser.source=\"cli\"\n" {
			t.Errorf("getxattr:\n%s", out)
		}
		// rm -r via the CLI; curl sees it gone.
		mustFS(t, srv, nil, "rm", "-r", res+"/cli")
		if r := curl(t, base+res+"/cli?op=GETFILESTATUS"); r.status != 404 {
			t.Errorf("after rm -r: %d %s", r.status, r.body)
		}
		if r := curl(t, "-X", "DELETE", base+res+"/cli?op=DELETE"); strings.TrimSpace(string(r.body)) != `{"boolean":false}` {
			t.Errorf("DELETE of a missing path: %d %s", r.status, r.body)
		}
	})

	t.Run("SQL sees the same files", func(t *testing.T) {
		c := srv.connect(t)
		var n int
		var name string
		if err := c.QueryRow(context.Background(), "SELECT count(*), max(name) FROM read_csv('hopsfs://"+res+"/small.csv')").Scan(&n, &name); err != nil || n != 2 || name != "grace" {
			t.Errorf("read_csv of a file put over WebHDFS: %d rows, max %q (%v)", n, name, err)
		}
		mustExec(t, c, "COPY (SELECT 42 AS answer) TO 'hopsfs://"+res+"/from-sql.csv' (HEADER)")
		if out := mustFS(t, srv, nil, "cat", res+"/from-sql.csv"); out != "answer\n42\n" {
			t.Errorf("cat of a file written by SQL COPY: %q", out)
		}
	})

	t.Run("errors", func(t *testing.T) {
		for _, tc := range []struct {
			name   string
			args   []string
			status int
			exc    string
		}{
			{"missing", []string{base + res + "/nope?op=GETFILESTATUS"}, 404, "FileNotFoundException"},
			{"dot-dot", []string{"--path-as-is", base + "/Projects/hopsql/../../etc/passwd?op=OPEN"}, 400, "IllegalArgumentException"},
			{"escaped dot-dot", []string{base + "/Projects/hopsql/%2e%2e/%2e%2e/etc/passwd?op=OPEN"}, 400, "IllegalArgumentException"},
			{"NUL", []string{base + res + "/a%00b?op=GETFILESTATUS"}, 400, "IllegalArgumentException"},
			{"double slash", []string{base + "/Projects//hopsql?op=LISTSTATUS"}, 400, "IllegalArgumentException"},
			{"long name", []string{base + res + "/" + strings.Repeat("x", 256) + "?op=GETFILESTATUS"}, 400, "IllegalArgumentException"},
			{"wrong method", []string{"-X", "DELETE", base + res + "?op=LISTSTATUS"}, 405, "UnsupportedOperationException"},
			{"unknown op", []string{base + res + "?op=NOPE"}, 400, "IllegalArgumentException"},
			{"unknown user", []string{base + res + "?op=LISTSTATUS&user.name=nobody"}, 403, "AccessControlException"},
			{"delete a project", []string{"-X", "DELETE", base + "/Projects/hopsql?op=DELETE&recursive=true"}, 403, "AccessControlException"},
			{"non-empty", []string{"-X", "DELETE", base + "/Projects/hopsql/Resources?op=DELETE"}, 403, "PathIsNotEmptyDirectoryException"},
		} {
			r := curl(t, tc.args...)
			if r.status != tc.status {
				t.Errorf("%s: status %d, want %d: %s", tc.name, r.status, tc.status, r.body)
				continue
			}
			if exc := r.exception(t); exc != tc.exc {
				t.Errorf("%s: exception %s, want %s", tc.name, exc, tc.exc)
			}
		}
		if got := strings.Join(listNames(t, base, "/Projects/hopsql"), " "); got != "Experiments Logs Models Resources TrainingDatasets Warehouse" {
			t.Errorf("the project changed: %q", got)
		}
		// CLI errors: "hopsql fs: <message>", exit status 1.
		for _, tc := range []struct {
			args []string
			msg  string
		}{
			{[]string{"cat", res + "/nope"}, "no such file or directory"},
			{[]string{"get", res + "/small.csv", smallFile}, "file exists"},
			{[]string{"rm", res + "/nope"}, "no such file or directory"},
			{[]string{"rm", "/Projects/hopsql/Resources"}, "non-empty directory"},
			{[]string{"mv", res + "/nope", res + "/x"}, "no such file or directory"},
			{[]string{"mkdir", "/Projects/hopsql/../x"}, `contains ".."`},
			{[]string{"ls", "relative/path"}, "absolute"},
			{[]string{"put", filepath.Join(dir, "missing"), res + "/x"}, "no such file or directory"},
			{[]string{"frobnicate"}, `unknown command "frobnicate"`},
		} {
			out, errOut, code := fsCLI(t, nil, nil, append([]string{"--url", srv.HTTP}, tc.args...)...)
			if code != 1 || !strings.HasPrefix(errOut, "hopsql fs: ") || !strings.Contains(errOut, tc.msg) {
				t.Errorf("hopsql fs %s: exit %d, stderr %q, stdout %q; want exit 1 and %q", strings.Join(tc.args, " "), code, errOut, out, tc.msg)
			}
		}
	})

	t.Run("HOPSQL_HTTP", func(t *testing.T) {
		out, errOut, code := fsCLI(t, []string{"HOPSQL_HTTP=" + srv.HTTP}, nil, "stat", res+"/small.csv")
		if code != 0 || !strings.Contains(out, "size: 22") || !strings.Contains(out, "permission: -rw-r----- (640)") {
			t.Errorf("stat with HOPSQL_HTTP: exit %d\n%s%s", code, out, errOut)
		}
		// Nothing listens on the default address in tests: the flag wins over
		// the environment only when given.
		_, errOut, code = fsCLI(t, []string{"HOPSQL_HTTP=http://127.0.0.1:1"}, nil, "stat", res+"/small.csv")
		if code != 1 || !strings.HasPrefix(errOut, "hopsql fs: ") {
			t.Errorf("stat against a closed port: exit %d, %q", code, errOut)
		}
	})
}

// TestWebHDFSPassword: with --auth password, the REST API wants HTTP Basic
// credentials checked against the SCRAM verifier; the CLI sends them from
// HOPSQL_PASSWORD.
func TestWebHDFSPassword(t *testing.T) {
	const pw = "s3cret pässword"
	srv := startServerIn(t, t.TempDir(), []string{"HOPSQL_PASSWORD=" + pw}, "--auth", "password")
	target := srv.HTTP + "/webhdfs/v1/Projects/hopsql?op=LISTSTATUS"
	for _, tc := range []struct {
		name   string
		args   []string
		status int
	}{
		{"no credentials", []string{target}, 401},
		{"user.name only", []string{target + "&user.name=hopsql"}, 401},
		{"wrong password", []string{"-u", "hopsql:wrong", target}, 401},
		{"unknown user", []string{"-u", "nobody:" + pw, target}, 401},
		{"right password", []string{"-u", "hopsql:" + pw, target}, 200},
	} {
		r := curl(t, tc.args...)
		if r.status != tc.status {
			t.Errorf("%s: status %d, want %d: %s", tc.name, r.status, tc.status, r.body)
			continue
		}
		if tc.status == 401 && (!strings.HasPrefix(r.header("WWW-Authenticate"), "Basic") || r.exception(t) != "SecurityException") {
			t.Errorf("%s: WWW-Authenticate %q, body %s", tc.name, r.header("WWW-Authenticate"), r.body)
		}
		if tc.status == 200 && !strings.Contains(string(r.body), `"pathSuffix":"Resources"`) {
			t.Errorf("%s: %s", tc.name, r.body)
		}
	}
	remote := "/Projects/hopsql/Resources/secret.txt"
	_, errOut, code := fsCLI(t, nil, []byte("x"), "--url", srv.HTTP, "put", "-", remote)
	if code != 1 || !strings.Contains(errOut, "HOPSQL_PASSWORD") {
		t.Errorf("CLI without a password: exit %d, %q", code, errOut)
	}
	_, errOut, code = fsCLI(t, []string{"HOPSQL_PASSWORD=wrong"}, []byte("x"), "--url", srv.HTTP, "put", "-", remote)
	if code != 1 || !strings.Contains(errOut, "password authentication failed") {
		t.Errorf("CLI with a wrong password: exit %d, %q", code, errOut)
	}
	env := []string{"HOPSQL_PASSWORD=" + pw, "HOPSQL_HTTP=" + srv.HTTP}
	if out, errOut, code := fsCLI(t, env, []byte("classified"), "put", "-", remote); code != 0 {
		t.Fatalf("CLI put with the password: exit %d\n%s%s", code, out, errOut)
	}
	if out, errOut, code := fsCLI(t, env, nil, "cat", remote); code != 0 || out != "classified" {
		t.Errorf("CLI cat with the password: exit %d, %q %s", code, out, errOut)
	}
	if r := curl(t, "-u", "hopsql:"+pw, srv.HTTP+"/webhdfs/v1"+remote+"?op=OPEN"); r.status != 200 || string(r.body) != "classified" {
		t.Errorf("curl OPEN with the password: %d %q", r.status, r.body)
	}
}

// TestWebHDFSDisabled: --http-listen "" starts no HTTP server.
func TestWebHDFSDisabled(t *testing.T) {
	srv := startServer(t, "--http-listen", "")
	if srv.HTTP != "" || strings.Contains(srv.Log(), "webhdfs on") {
		t.Errorf("WebHDFS started although disabled (HTTP %q):\n%s", srv.HTTP, srv.Log())
	}
	// The PostgreSQL side is up as usual.
	var one int
	if err := srv.connect(t).QueryRow(context.Background(), "SELECT 1").Scan(&one); err != nil || one != 1 {
		t.Errorf("SELECT 1: %d, %v", one, err)
	}
}
