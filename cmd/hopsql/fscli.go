package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"github.com/hopsql/hopsql/fs/webhdfs"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// `hopsql fs` is a client of a running server's WebHDFS API, so it works
// against any node (and any WebHDFS server) without opening the data
// directory, which the server holds.

const defaultHTTP = "http://127.0.0.1:9870"

const webhdfsPrefix = "/webhdfs/v1" // as webhdfs.Prefix; the client does not import the server

func fsUsage(w io.Writer) {
	fmt.Fprint(w, `usage: hopsql fs [--url URL] [--user NAME] <command> [flags] [args]

commands:
  ls [-d] [PATH...]               list directories (-d: the entries themselves), like hdfs dfs -ls
  stat PATH...                    describe files and directories
  mkdir [-p] [-m MODE] PATH...    create directories and their missing parents
  put [-f] [-m MODE] LOCAL... REMOTE
                                  upload files ("-" reads stdin); REMOTE may be a directory
  get [-f] REMOTE... LOCAL        download files ("-" writes stdout); LOCAL may be a directory
  cat REMOTE...                   print files
  mv SRC... DST                   rename, or move into DST when it is a directory
  rm [-r] [-f] PATH...            delete (-r: directories and their contents, -f: missing is fine)
  setxattr -n NAME [-v VALUE] PATH...
  setxattr -x NAME PATH...        set or remove an extended attribute (VALUE: text, "text", 0x…, 0s…)
  getxattr [-n NAME] [-e text|hex|base64] PATH...
  quota [-bytes N|none] [-inodes N|none] /Projects/NAME
                                  show a project's usage and quotas, or set them (superuser)

connection: --url (default $HOPSQL_HTTP or `+defaultHTTP+`), --user (default $HOPSQL_USER or hopsql);
with --auth password on the server, the password comes from $HOPSQL_PASSWORD (HTTP Basic).
`)
}

// runFS runs `hopsql fs` and returns the process exit status.
func runFS(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := fsMain(ctx, args, stdin, stdout, stderr); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		fmt.Fprintln(stderr, "hopsql fs:", err)
		return 1
	}
	return 0
}

// fsConn holds the connection settings, which may be given before the
// command or among its flags.
type fsConn struct {
	url, user string
}

func (c *fsConn) flags(name string, stderr io.Writer) *flag.FlagSet {
	f := flag.NewFlagSet(name, flag.ContinueOnError)
	f.SetOutput(stderr)
	f.StringVar(&c.url, "url", c.url, "WebHDFS base URL of a hopsql server")
	f.StringVar(&c.user, "user", c.user, "user to act as")
	return f
}

func fsMain(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	conn := &fsConn{url: envOr("HOPSQL_HTTP", defaultHTTP), user: envOr("HOPSQL_USER", "hopsql")}
	top := conn.flags("fs", stderr)
	top.Usage = func() { fsUsage(stderr) }
	if err := top.Parse(args); err != nil {
		return err
	}
	if top.NArg() == 0 {
		fsUsage(stderr)
		return errors.New("no command given")
	}
	cmd, rest := top.Arg(0), top.Args()[1:]
	f := conn.flags("fs "+cmd, stderr)
	var (
		recursive, force, dirOnly, parents bool
		mode, xname, xvalue, xremove, enc  string
		qBytes, qInodes                    string
	)
	switch cmd {
	case "ls":
		f.BoolVar(&dirOnly, "d", false, "list directories as plain entries, not their contents")
	case "mkdir":
		f.BoolVar(&parents, "p", false, "no error if the directory exists (always the case: parents are made)")
		f.StringVar(&mode, "m", "", "octal permission")
	case "put":
		f.BoolVar(&force, "f", false, "overwrite an existing file")
		f.StringVar(&mode, "m", "", "octal permission")
	case "get":
		f.BoolVar(&force, "f", false, "overwrite an existing local file")
	case "rm":
		f.BoolVar(&recursive, "r", false, "delete directories and their contents")
		f.BoolVar(&recursive, "R", false, "same as -r")
		f.BoolVar(&force, "f", false, "no error for missing paths")
	case "setxattr":
		f.StringVar(&xname, "n", "", "attribute name (user.…)")
		f.StringVar(&xvalue, "v", "", "attribute value")
		f.StringVar(&xremove, "x", "", "remove this attribute")
	case "getxattr":
		f.StringVar(&xname, "n", "", "attribute name (default: all)")
		f.StringVar(&enc, "e", "text", "value encoding: text, hex or base64")
	case "quota":
		f.StringVar(&qBytes, "bytes", "", "set the space quota in bytes (none: remove)")
		f.StringVar(&qInodes, "inodes", "", "set the quota on files and directories (none: remove)")
	case "stat", "cat", "mv":
	case "help":
		fsUsage(stdout)
		return nil
	default:
		return fmt.Errorf("unknown command %q (hopsql fs help lists them)", cmd)
	}
	if err := f.Parse(rest); err != nil {
		return err
	}
	c, err := newFSClient(conn.url, conn.user, os.Getenv("HOPSQL_PASSWORD"))
	if err != nil {
		return err
	}
	a := f.Args()
	need := func(n int, what string) error {
		if len(a) < n {
			return fmt.Errorf("%s: usage: hopsql fs %s %s", cmd, cmd, what)
		}
		return nil
	}
	switch cmd {
	case "ls":
		if len(a) == 0 {
			a = []string{"/"}
		}
		return c.ls(ctx, stdout, a, dirOnly)
	case "stat":
		if err := need(1, "PATH..."); err != nil {
			return err
		}
		return c.stat(ctx, stdout, a)
	case "mkdir":
		if err := need(1, "[-p] PATH..."); err != nil {
			return err
		}
		for _, p := range a {
			if err := c.mkdir(ctx, p, mode); err != nil {
				return err
			}
		}
		return nil
	case "put":
		if err := need(2, "[-f] LOCAL... REMOTE"); err != nil {
			return err
		}
		return c.put(ctx, stdin, a[:len(a)-1], a[len(a)-1], force, mode)
	case "get":
		if err := need(2, "[-f] REMOTE... LOCAL"); err != nil {
			return err
		}
		return c.get(ctx, stdout, a[:len(a)-1], a[len(a)-1], force)
	case "cat":
		if err := need(1, "REMOTE..."); err != nil {
			return err
		}
		for _, p := range a {
			if err := c.open(ctx, p, stdout); err != nil {
				return err
			}
		}
		return nil
	case "mv":
		if err := need(2, "SRC... DST"); err != nil {
			return err
		}
		return c.mv(ctx, a[:len(a)-1], a[len(a)-1])
	case "rm":
		if err := need(1, "[-r] [-f] PATH..."); err != nil {
			return err
		}
		for _, p := range a {
			if err := c.rm(ctx, p, recursive, force); err != nil {
				return err
			}
		}
		return nil
	case "setxattr":
		if err := need(1, "-n NAME [-v VALUE] PATH... | -x NAME PATH..."); err != nil {
			return err
		}
		if (xname == "") == (xremove == "") {
			return errors.New("setxattr: give either -n NAME (to set) or -x NAME (to remove)")
		}
		for _, p := range a {
			var err error
			if xremove != "" {
				_, err = c.call(ctx, http.MethodPut, p, "REMOVEXATTR", url.Values{"xattr.name": {xremove}}, nil, 0)
			} else {
				_, err = c.call(ctx, http.MethodPut, p, "SETXATTR", url.Values{"xattr.name": {xname}, "xattr.value": {xvalue}}, nil, 0)
			}
			if err != nil {
				return err
			}
		}
		return nil
	case "getxattr":
		if err := need(1, "[-n NAME] [-e text|hex|base64] PATH..."); err != nil {
			return err
		}
		return c.getxattr(ctx, stdout, a, xname, enc)
	case "quota":
		if err := need(1, "[-bytes N|none] [-inodes N|none] /Projects/NAME"); err != nil {
			return err
		}
		if qBytes != "" || qInodes != "" {
			if err := c.setQuota(ctx, a[0], qBytes, qInodes); err != nil {
				return err
			}
		}
		return c.quota(ctx, stdout, a[0])
	}
	return nil
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

type fsClient struct {
	base     *url.URL
	user     string
	password string
	hc       *http.Client
}

func newFSClient(base, user, password string) (*fsClient, error) {
	if !strings.Contains(base, "://") {
		base = "http://" + base
	}
	u, err := url.Parse(base)
	if err != nil {
		return nil, fmt.Errorf("--url %q: %w", base, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return nil, fmt.Errorf("--url %q: want http://HOST:PORT", base)
	}
	u.Path = strings.TrimSuffix(strings.TrimSuffix(u.Path, "/"), webhdfsPrefix)
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.DialContext = (&net.Dialer{Timeout: 10 * time.Second}).DialContext
	// No overall timeout: a large get or put may take long. The server
	// answers once the upload is stored; that wait is bounded.
	tr.ResponseHeaderTimeout = 5 * time.Minute
	return &fsClient{base: u, user: user, password: password, hc: &http.Client{
		Transport: tr,
		// The API answers reads directly; a redirect would mean another
		// server, which would not get the body again anyway.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}, nil
}

// remoteError is an error response from the server.
type remoteError struct {
	status    int
	exception string
	msg       string
}

func (e *remoteError) Error() string { return e.msg }

func isStatus(err error, status int) bool {
	var re *remoteError
	return errors.As(err, &re) && re.status == status
}

// call sends one request and returns the response (2xx only; the caller
// closes its body) or the server's error message.
func (c *fsClient) call(ctx context.Context, method, p, op string, q url.Values, body io.Reader, size int64) (*http.Response, error) {
	if !strings.HasPrefix(p, "/") {
		return nil, fmt.Errorf("%s: paths are absolute (/Projects/<project>/…)", p)
	}
	if q == nil {
		q = url.Values{}
	}
	q.Set("op", op)
	q.Set("user.name", c.user)
	u := *c.base
	u.Path = c.base.Path + webhdfsPrefix + p
	u.RawQuery = q.Encode()
	req, err := http.NewRequestWithContext(ctx, method, u.String(), body)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", op, p, err)
	}
	if body != nil {
		req.ContentLength = size // -1: unknown, sent chunked
	}
	if c.password != "" {
		req.SetBasicAuth(c.user, c.password)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", op, p, err)
	}
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return resp, nil
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	var m struct {
		RemoteException struct{ Exception, Message string }
	}
	re := &remoteError{status: resp.StatusCode, msg: fmt.Sprintf("%s %s: %s", op, p, resp.Status)}
	if json.Unmarshal(b, &m) == nil && m.RemoteException.Message != "" {
		re.exception, re.msg = m.RemoteException.Exception, m.RemoteException.Message
	}
	if resp.StatusCode == http.StatusUnauthorized && c.password == "" {
		re.msg += " (set HOPSQL_PASSWORD)"
	}
	return nil, re
}

// callJSON is call for operations that answer JSON.
func (c *fsClient) callJSON(ctx context.Context, method, p, op string, q url.Values, v any) error {
	resp, err := c.call(ctx, method, p, op, q, nil, 0)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		return fmt.Errorf("%s %s: bad response: %w", op, p, err)
	}
	return nil
}

// fileStatus is the server's FileStatus JSON object.
type fileStatus = webhdfs.FileStatus

func (c *fsClient) statOf(ctx context.Context, p string) (fileStatus, error) {
	var m struct{ FileStatus fileStatus }
	err := c.callJSON(ctx, http.MethodGet, p, "GETFILESTATUS", nil, &m)
	return m.FileStatus, err
}

func (c *fsClient) list(ctx context.Context, p string) ([]fileStatus, error) {
	var m struct {
		FileStatuses struct{ FileStatus []fileStatus }
	}
	err := c.callJSON(ctx, http.MethodGet, p, "LISTSTATUS", nil, &m)
	return m.FileStatuses.FileStatus, err
}

// permString renders "755" as "rwxr-xr-x" (sticky bit as t/T).
func permString(octal string) string {
	n, err := strconv.ParseUint(octal, 8, 32)
	if err != nil {
		return "?????????"
	}
	b := []byte("rwxrwxrwx")
	for i := range b {
		if n&(1<<(8-i)) == 0 {
			b[i] = '-'
		}
	}
	if n&0o1000 != 0 {
		if b[8] == 'x' {
			b[8] = 't'
		} else {
			b[8] = 'T'
		}
	}
	return string(b)
}

func joinRemote(dir, name string) string {
	if name == "" {
		return dir
	}
	return strings.TrimSuffix(dir, "/") + "/" + name
}

// ls prints one line per entry in hdfs dfs -ls's layout: permissions,
// replication (- for directories), owner, group, size, date, path, with
// owner and group padded and sizes right-aligned across the listing.
func (c *fsClient) ls(ctx context.Context, w io.Writer, paths []string, dirOnly bool) error {
	type row struct{ perm, repl, owner, group, size, mtime, path string }
	var rows []row
	var wRepl, wOwner, wGroup, wSize int
	for _, p := range paths {
		var entries []fileStatus
		var err error
		if dirOnly {
			var st fileStatus
			st, err = c.statOf(ctx, p)
			entries = []fileStatus{st}
		} else {
			entries, err = c.list(ctx, p)
		}
		if err != nil {
			return err
		}
		for _, st := range entries {
			r := row{perm: "-" + permString(st.Permission), repl: strconv.Itoa(st.Replication), owner: st.Owner, group: st.Group,
				size: strconv.FormatInt(st.Length, 10), mtime: time.UnixMilli(st.ModificationTime).Format("2006-01-02 15:04"),
				path: joinRemote(p, st.PathSuffix)}
			if st.Type == "DIRECTORY" {
				r.perm, r.repl = "d"+r.perm[1:], "-"
			}
			wRepl, wOwner, wGroup, wSize = max(wRepl, len(r.repl)), max(wOwner, len(r.owner)), max(wGroup, len(r.group)), max(wSize, len(r.size))
			rows = append(rows, r)
		}
	}
	for _, r := range rows {
		fmt.Fprintf(w, "%s %*s %-*s %-*s %*s %s %s\n", r.perm, wRepl+2, r.repl, wOwner, r.owner, wGroup, r.group, wSize, r.size, r.mtime, r.path)
	}
	return nil
}

func (c *fsClient) stat(ctx context.Context, w io.Writer, paths []string) error {
	for i, p := range paths {
		st, err := c.statOf(ctx, p)
		if err != nil {
			return err
		}
		if i > 0 {
			fmt.Fprintln(w)
		}
		kind := "-"
		if st.Type == "DIRECTORY" {
			kind = "d"
		}
		fmt.Fprintf(w, "path: %s\ntype: %s\nsize: %d\npermission: %s%s (%s)\nowner: %s\ngroup: %s\nmodified: %s\nid: %d\n",
			p, st.Type, st.Length, kind, permString(st.Permission), st.Permission, st.Owner, st.Group,
			time.UnixMilli(st.ModificationTime).UTC().Format(time.RFC3339Nano), st.FileID)
		if st.Type == "DIRECTORY" {
			fmt.Fprintf(w, "children: %d\n", st.ChildrenNum)
		}
	}
	return nil
}

func (c *fsClient) mkdir(ctx context.Context, p, mode string) error {
	q := url.Values{}
	if mode != "" {
		q.Set("permission", mode)
	}
	var m struct{ Boolean bool }
	if err := c.callJSON(ctx, http.MethodPut, p, "MKDIRS", q, &m); err != nil {
		return err
	}
	if !m.Boolean {
		return fmt.Errorf("mkdir %s: refused", p)
	}
	return nil
}

// remoteTarget resolves an upload's destination: into dst when it is a
// directory.
func (c *fsClient) remoteTarget(ctx context.Context, dst, base string, many bool) (string, error) {
	st, err := c.statOf(ctx, dst)
	switch {
	case err == nil && st.Type == "DIRECTORY":
		if base == "" {
			return "", fmt.Errorf("put: give a file name for stdin, not the directory %s", dst)
		}
		return joinRemote(dst, base), nil
	case many:
		if err != nil {
			return "", err
		}
		return "", fmt.Errorf("%s: not a directory (copying more than one file)", dst)
	case err != nil && !isStatus(err, http.StatusNotFound):
		return "", err
	}
	return dst, nil
}

func (c *fsClient) put(ctx context.Context, stdin io.Reader, locals []string, dst string, force bool, mode string) error {
	for _, local := range locals {
		base := filepath.Base(local)
		if local == "-" {
			base = ""
		}
		target, err := c.remoteTarget(ctx, dst, base, len(locals) > 1)
		if err != nil {
			return err
		}
		if err := c.putOne(ctx, stdin, local, target, force, mode); err != nil {
			return err
		}
	}
	return nil
}

func (c *fsClient) putOne(ctx context.Context, stdin io.Reader, local, remote string, force bool, mode string) error {
	var body io.Reader = stdin
	size := int64(-1)
	if local != "-" {
		f, err := os.Open(local)
		if err != nil {
			return fmt.Errorf("put: %w", err)
		}
		defer f.Close()
		fi, err := f.Stat()
		if err != nil {
			return fmt.Errorf("put: %w", err)
		}
		if fi.IsDir() {
			return fmt.Errorf("put: %s is a directory", local)
		}
		body, size = f, fi.Size()
	}
	// The data goes in one request (data=true), streamed; WebHDFS's
	// redirect step is for clients that do not know where to send it.
	q := url.Values{"overwrite": {strconv.FormatBool(force)}, "data": {"true"}}
	if mode != "" {
		q.Set("permission", mode)
	}
	if size == 0 {
		body = http.NoBody
	}
	resp, err := c.call(ctx, http.MethodPut, remote, "CREATE", q, body, size)
	if err != nil {
		return err
	}
	resp.Body.Close()
	return nil
}

func (c *fsClient) open(ctx context.Context, p string, w io.Writer) error {
	resp, err := c.call(ctx, http.MethodGet, p, "OPEN", nil, nil, 0)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	// A body shorter than its Content-Length fails here (unexpected EOF).
	if _, err := io.Copy(w, resp.Body); err != nil {
		return fmt.Errorf("read %s: %w", p, err)
	}
	return nil
}

func (c *fsClient) get(ctx context.Context, stdout io.Writer, remotes []string, dst string, force bool) error {
	for _, r := range remotes {
		if dst == "-" {
			if err := c.open(ctx, r, stdout); err != nil {
				return err
			}
			continue
		}
		target := dst
		if fi, err := os.Stat(dst); err == nil && fi.IsDir() {
			target = filepath.Join(dst, path.Base(r))
		} else if len(remotes) > 1 {
			return fmt.Errorf("get: %s is not a directory (copying more than one file)", dst)
		}
		if err := c.getOne(ctx, r, target, force); err != nil {
			return err
		}
	}
	return nil
}

// getOne downloads into a temporary file next to local and renames it into
// place, so an interrupted download never leaves a truncated file.
func (c *fsClient) getOne(ctx context.Context, remote, local string, force bool) error {
	if _, err := os.Lstat(local); err == nil && !force {
		return fmt.Errorf("get: %s: file exists (use -f to overwrite)", local)
	}
	tmp, err := os.CreateTemp(filepath.Dir(local), "."+filepath.Base(local)+".hopsql-*")
	if err != nil {
		return fmt.Errorf("get: %w", err)
	}
	defer os.Remove(tmp.Name()) // no-op after the rename
	err = c.open(ctx, remote, tmp)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return fmt.Errorf("get: %w", err)
	}
	if err := os.Rename(tmp.Name(), local); err != nil {
		return fmt.Errorf("get: %w", err)
	}
	return nil
}

func (c *fsClient) mv(ctx context.Context, srcs []string, dst string) error {
	if len(srcs) > 1 {
		if st, err := c.statOf(ctx, dst); err != nil || st.Type != "DIRECTORY" {
			return fmt.Errorf("mv: %s is not a directory (moving more than one path)", dst)
		}
	}
	for _, src := range srcs {
		var m struct{ Boolean bool }
		if err := c.callJSON(ctx, http.MethodPut, src, "RENAME", url.Values{"destination": {dst}}, &m); err != nil {
			return err
		}
		if m.Boolean {
			continue
		}
		// WebHDFS only says false; find out why for the message.
		if _, err := c.statOf(ctx, src); err != nil {
			return fmt.Errorf("mv: %s: no such file or directory", src)
		}
		target := dst
		if st, err := c.statOf(ctx, dst); err == nil && st.Type == "DIRECTORY" {
			target = joinRemote(dst, path.Base(src))
		}
		if _, err := c.statOf(ctx, target); err == nil {
			return fmt.Errorf("mv: %s already exists", target)
		}
		if _, err := c.statOf(ctx, path.Dir(target)); err != nil {
			return fmt.Errorf("mv: %s: no such directory", path.Dir(target))
		}
		return fmt.Errorf("mv: cannot move %s to %s", src, dst)
	}
	return nil
}

func (c *fsClient) rm(ctx context.Context, p string, recursive, force bool) error {
	var m struct{ Boolean bool }
	q := url.Values{"recursive": {strconv.FormatBool(recursive)}}
	if err := c.callJSON(ctx, http.MethodDelete, p, "DELETE", q, &m); err != nil {
		var re *remoteError
		if errors.As(err, &re) && re.exception == "PathIsNotEmptyDirectoryException" {
			return fmt.Errorf("rm: %s is a non-empty directory (use -r)", p)
		}
		return err
	}
	if !m.Boolean && !force {
		return fmt.Errorf("rm: %s: no such file or directory", p)
	}
	return nil
}

func (c *fsClient) getxattr(ctx context.Context, w io.Writer, paths []string, name, enc string) error {
	for _, p := range paths {
		q := url.Values{"encoding": {enc}}
		if name != "" {
			q.Set("xattr.name", name)
		}
		var m struct {
			XAttrs []struct{ Name, Value string }
		}
		if err := c.callJSON(ctx, http.MethodGet, p, "GETXATTRS", q, &m); err != nil {
			return err
		}
		// getfattr's layout, as hdfs dfs -getfattr prints it.
		fmt.Fprintf(w, "# file: %s\n", p)
		for _, x := range m.XAttrs {
			fmt.Fprintf(w, "%s=%s\n", x.Name, x.Value)
		}
	}
	return nil
}

func quotaArg(flagName, v string) (string, error) {
	if v == "none" || v == "0" || v == "-1" {
		return "-1", nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 {
		return "", fmt.Errorf("quota: -%s %q: want a positive number or none", flagName, v)
	}
	return v, nil
}

func (c *fsClient) setQuota(ctx context.Context, p, bytes, inodes string) error {
	q := url.Values{}
	for _, x := range []struct{ flag, v, param string }{{"bytes", bytes, "storagespacequota"}, {"inodes", inodes, "namespacequota"}} {
		if x.v == "" {
			continue
		}
		v, err := quotaArg(x.flag, x.v)
		if err != nil {
			return err
		}
		q.Set(x.param, v)
	}
	resp, err := c.call(ctx, http.MethodPut, p, "SETQUOTA", q, nil, 0)
	if err != nil {
		return err
	}
	resp.Body.Close()
	return nil
}

func (c *fsClient) quota(ctx context.Context, w io.Writer, p string) error {
	var m struct {
		QuotaUsage struct {
			FileAndDirectoryCount, Quota, SpaceConsumed, SpaceQuota int64
		}
	}
	if err := c.callJSON(ctx, http.MethodGet, p, "GETQUOTAUSAGE", nil, &m); err != nil {
		return err
	}
	lim := func(n int64) string {
		if n < 0 {
			return "none"
		}
		return strconv.FormatInt(n, 10)
	}
	u := m.QuotaUsage
	fmt.Fprintf(w, "path: %s\nfiles and directories: %d (quota: %s)\nbytes: %d (quota: %s)\n",
		p, u.FileAndDirectoryCount, lim(u.Quota), u.SpaceConsumed, lim(u.SpaceQuota))
	return nil
}
