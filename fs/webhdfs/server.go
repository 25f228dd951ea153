package webhdfs

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hopsql/hopsql/catalog"
	"github.com/hopsql/hopsql/fs"
)

// Prefix is the URL path under which the API is served.
const Prefix = "/webhdfs/v1"

// Authentication modes, the same words as the SQL side's --auth.
const (
	AuthTrust    = "trust"
	AuthPassword = "password"
)

// HDFS's defaults, reported in FileStatus so that Hadoop clients, which
// size their reads by them, see familiar values.
const (
	hdfsBlockSize   = 128 << 20
	hdfsReplication = 1
	defaultGroup    = "supergroup"
)

// Config configures a Handler.
type Config struct {
	FS *fs.FS
	// Auth is AuthTrust or AuthPassword.
	Auth string
	// DefaultUser acts in trust mode when a request names no user
	// (the superuser, "hopsql", when empty).
	DefaultUser string
	// User looks up a role by name (the engine's catalog).
	User func(name string) (catalog.User, bool)
	// VerifyPassword checks a password against a user's SCRAM-SHA-256
	// verifier (wire.VerifyPassword). Required in password mode.
	VerifyPassword func(verifier, user, password string) bool
	// Project looks up a project, for quotas; optional.
	Project func(name string) (catalog.Project, bool)
	Logger  *slog.Logger
}

// Handler serves the WebHDFS API.
type Handler struct {
	cfg   Config
	log   *slog.Logger
	creds credCache
}

// New returns a Handler for cfg.
func New(cfg Config) (*Handler, error) {
	if cfg.FS == nil || cfg.User == nil {
		return nil, errors.New("webhdfs: FS and User are required")
	}
	switch cfg.Auth {
	case "":
		cfg.Auth = AuthTrust
	case AuthTrust:
	case AuthPassword:
		if cfg.VerifyPassword == nil {
			return nil, errors.New("webhdfs: password authentication needs VerifyPassword")
		}
	default:
		return nil, fmt.Errorf("webhdfs: unknown authentication mode %q", cfg.Auth)
	}
	if cfg.DefaultUser == "" {
		cfg.DefaultUser = "hopsql"
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	h := &Handler{cfg: cfg, log: cfg.Logger}
	h.creds.init()
	return h, nil
}

// NewServer wraps h in an http.Server with timeouts that bound slow or idle
// clients but not the transfer of a large file: there is no whole-request
// read or write deadline, since a multi-gigabyte PUT or OPEN may
// legitimately take minutes.
func NewServer(h http.Handler, log *slog.Logger) *http.Server {
	if log == nil {
		log = slog.Default()
	}
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
}

// apiError is an error with the RemoteException it is reported as.
type apiError struct {
	status    int
	exception string // simple class name
	javaClass string
	msg       string
}

func (e *apiError) Error() string { return e.msg }

func newError(status int, class, format string, args ...any) *apiError {
	simple := class[strings.LastIndexByte(class, '.')+1:]
	return &apiError{status: status, exception: simple, javaClass: class, msg: fmt.Sprintf(format, args...)}
}

func badRequest(format string, args ...any) *apiError {
	return newError(http.StatusBadRequest, "java.lang.IllegalArgumentException", format, args...)
}

// errorFor maps an error to the exception and status code HDFS would send.
// HDFS reports every IOException that is not a FileNotFoundException as
// 403, and so does this.
func errorFor(err error) *apiError {
	var ae *apiError
	if errors.As(err, &ae) {
		return ae
	}
	var ce *catalog.Error
	if !errors.As(err, &ce) {
		return newError(http.StatusInternalServerError, "java.lang.RuntimeException", "%v", err)
	}
	msg := err.Error()
	switch ce.Code {
	case catalog.CodeNotFound:
		return newError(http.StatusNotFound, "java.io.FileNotFoundException", "%s", msg)
	case catalog.CodeExists, catalog.CodeIsDir:
		return newError(http.StatusForbidden, "org.apache.hadoop.fs.FileAlreadyExistsException", "%s", msg)
	case catalog.CodeNotDir:
		return newError(http.StatusForbidden, "org.apache.hadoop.fs.ParentNotDirectoryException", "%s", msg)
	case catalog.CodeNotEmpty:
		return newError(http.StatusForbidden, "org.apache.hadoop.fs.PathIsNotEmptyDirectoryException", "%s", msg)
	case catalog.CodeInvalid:
		return badRequest("%s", msg)
	case catalog.CodeQuota:
		if strings.Contains(msg, "space quota") {
			return newError(http.StatusForbidden, "org.apache.hadoop.hdfs.protocol.DSQuotaExceededException", "%s", msg)
		}
		return newError(http.StatusForbidden, "org.apache.hadoop.hdfs.protocol.NSQuotaExceededException", "%s", msg)
	case catalog.CodePermission:
		return newError(http.StatusForbidden, "org.apache.hadoop.security.AccessControlException", "%s", msg)
	case catalog.CodeNotLeader:
		return newError(http.StatusForbidden, "org.apache.hadoop.ipc.StandbyException", "%s", msg)
	case catalog.CodeXattrMissing, catalog.CodeXattrExists:
		return newError(http.StatusForbidden, "java.io.IOException", "%s", msg)
	}
	return newError(http.StatusInternalServerError, "java.lang.RuntimeException", "%s", msg)
}

type remoteException struct {
	Exception     string `json:"exception"`
	JavaClassName string `json:"javaClassName"`
	Message       string `json:"message"`
}

func (h *Handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	ae := errorFor(err)
	if ae.status >= 500 {
		h.log.Warn("webhdfs", "method", r.Method, "url", r.URL.String(), "err", err)
	} else {
		h.log.Debug("webhdfs", "method", r.Method, "url", r.URL.String(), "status", ae.status, "err", err)
	}
	writeJSON(w, ae.status, map[string]remoteException{"RemoteException": {ae.exception, ae.javaClass, ae.msg}})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil { // only our own types are marshalled
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	b = append(b, '\n')
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	w.Write(b)
}

// params are a request's query parameters. HDFS matches parameter names
// case-insensitively, so keys are lower-cased; values are kept as sent.
type params map[string][]string

func parseParams(raw string) (params, error) {
	q, err := url.ParseQuery(raw)
	if err != nil {
		return nil, badRequest("malformed query string: %v", err)
	}
	p := params{}
	for k, v := range q {
		lk := strings.ToLower(k)
		p[lk] = append(p[lk], v...)
	}
	return p, nil
}

func (p params) get(k string) string {
	if v := p[k]; len(v) > 0 {
		return v[0]
	}
	return ""
}

func (p params) has(k string) bool { return len(p[k]) > 0 }

func (p params) bool(k string, def bool) (bool, error) {
	v := p.get(k)
	switch strings.ToLower(v) {
	case "":
		return def, nil
	case "true":
		return true, nil
	case "false":
		return false, nil
	}
	return false, badRequest("invalid value for webhdfs parameter %q: %q is not true or false", k, v)
}

func (p params) int64(k string, def int64) (int64, error) {
	v := p.get(k)
	if v == "" {
		return def, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return 0, badRequest("invalid value for webhdfs parameter %q: %q is not an integer", k, v)
	}
	return n, nil
}

// permission parses an octal permission (0 when absent: the catalog's
// default, 644 for files and 755 for directories).
func (p params) permission() (uint32, error) {
	v := p.get("permission")
	if v == "" {
		return 0, nil
	}
	n, err := strconv.ParseUint(v, 8, 32)
	if err != nil || n > 0o1777 {
		return 0, badRequest("invalid value for webhdfs parameter \"permission\": %q is not an octal permission between 0 and 1777", v)
	}
	return uint32(n), nil
}

// request is one decoded, authenticated request.
type request struct {
	w    http.ResponseWriter
	r    *http.Request
	user catalog.User
	path string // validated, canonical
	q    params
}

type opFunc func(h *Handler, rq *request) error

type opSpec struct {
	method string
	run    opFunc
}

var ops = map[string]opSpec{
	"LISTSTATUS":        {http.MethodGet, (*Handler).listStatus},
	"GETFILESTATUS":     {http.MethodGet, (*Handler).getFileStatus},
	"OPEN":              {http.MethodGet, (*Handler).open},
	"GETXATTRS":         {http.MethodGet, (*Handler).getXattrs},
	"LISTXATTRS":        {http.MethodGet, (*Handler).listXattrs},
	"GETCONTENTSUMMARY": {http.MethodGet, (*Handler).getContentSummary},
	"GETQUOTAUSAGE":     {http.MethodGet, (*Handler).getQuotaUsage},
	"GETHOMEDIRECTORY":  {http.MethodGet, (*Handler).getHomeDirectory},
	"CREATE":            {http.MethodPut, (*Handler).create},
	"MKDIRS":            {http.MethodPut, (*Handler).mkdirs},
	"RENAME":            {http.MethodPut, (*Handler).rename},
	"SETXATTR":          {http.MethodPut, (*Handler).setXattr},
	"REMOVEXATTR":       {http.MethodPut, (*Handler).removeXattr},
	"SETQUOTA":          {http.MethodPut, (*Handler).setQuota},
	"DELETE":            {http.MethodDelete, (*Handler).delete},
}

// ServeHTTP serves one request. Its context (r.Context()) ends when the
// client disconnects, which stops a streaming upload and abandons a wait
// on the catalog.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// r.URL.Path is the path decoded exactly once; validation below sees
	// %2e%2e as ".." and %00 as NUL and refuses them.
	rest, ok := strings.CutPrefix(r.URL.Path, Prefix)
	if !ok || (rest != "" && rest[0] != '/') {
		h.fail(w, r, newError(http.StatusNotFound, "java.io.FileNotFoundException", "no such endpoint %q: the API is under %s/", r.URL.Path, Prefix))
		return
	}
	if rest == "" {
		rest = "/"
	}
	q, err := parseParams(r.URL.RawQuery)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	opName := strings.ToUpper(q.get("op"))
	if opName == "" {
		h.fail(w, r, badRequest("webhdfs parameter \"op\" is missing"))
		return
	}
	spec, ok := ops[opName]
	if !ok {
		h.fail(w, r, badRequest("invalid value for webhdfs parameter \"op\": unsupported operation %q", q.get("op")))
		return
	}
	if r.Method != spec.method {
		w.Header().Set("Allow", spec.method)
		h.fail(w, r, newError(http.StatusMethodNotAllowed, "java.lang.UnsupportedOperationException",
			"op=%s requires HTTP %s, not %s", opName, spec.method, r.Method))
		return
	}
	user, err := h.authenticate(w, r, q)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	p, err := catalog.CleanPath(rest)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if err := spec.run(h, &request{w: w, r: r, user: user, path: p, q: q}); err != nil {
		h.fail(w, r, err)
	}
}

// authenticate returns the user a request acts as.
func (h *Handler) authenticate(w http.ResponseWriter, r *http.Request, q params) (catalog.User, error) {
	named := q.get("user.name")
	if h.cfg.Auth == AuthTrust {
		name := named
		if name == "" {
			name, _, _ = r.BasicAuth()
		}
		if name == "" {
			name = h.cfg.DefaultUser
		}
		u, ok := h.cfg.User(name)
		if !ok {
			return catalog.User{}, newError(http.StatusForbidden, "org.apache.hadoop.security.AccessControlException", "user %q does not exist", name)
		}
		return u, nil
	}
	unauthorized := func(format string, args ...any) error {
		w.Header().Set("WWW-Authenticate", `Basic realm="hopsql", charset="UTF-8"`)
		return newError(http.StatusUnauthorized, "java.lang.SecurityException", format, args...)
	}
	name, password, ok := r.BasicAuth()
	if !ok {
		return catalog.User{}, unauthorized("authentication required: send HTTP Basic credentials")
	}
	u, exists := h.cfg.User(name)
	if !h.checkPassword(u, exists, name, password) {
		return catalog.User{}, unauthorized("password authentication failed for user %q", name)
	}
	if named != "" && named != name {
		return catalog.User{}, newError(http.StatusForbidden, "org.apache.hadoop.security.AccessControlException",
			"user %q cannot act as user.name=%q", name, named)
	}
	return u, nil
}

// checkPassword verifies a password, remembering recent successes: the
// SCRAM key derivation costs about a millisecond by design, too much to pay
// on every request of a client that sends Basic credentials each time.
func (h *Handler) checkPassword(u catalog.User, exists bool, name, password string) bool {
	if exists && u.SCRAM != "" {
		key := h.creds.key(name, password, u.SCRAM)
		if h.creds.ok(key) {
			return true
		}
		if h.cfg.VerifyPassword(u.SCRAM, name, password) {
			h.creds.add(key)
			return true
		}
		return false
	}
	// An unknown user, or one without a password, costs as much as a wrong
	// password, so the time taken does not reveal which users exist.
	if su, ok := h.cfg.User(h.cfg.DefaultUser); ok && su.SCRAM != "" {
		h.cfg.VerifyPassword(su.SCRAM, name, password)
	}
	return false
}

// credCache remembers verified credentials for a while, keyed by an HMAC
// (with a per-process random key) of user, password and verifier, so that
// a changed password or verifier misses the cache.
type credCache struct {
	mu     sync.Mutex
	secret []byte
	until  map[[32]byte]time.Time
}

const (
	credTTL = 5 * time.Minute
	credMax = 4096
)

func (c *credCache) init() {
	c.secret = make([]byte, 32)
	rand.Read(c.secret)
	c.until = map[[32]byte]time.Time{}
}

func (c *credCache) key(user, password, verifier string) [32]byte {
	m := hmac.New(sha256.New, c.secret)
	for _, s := range []string{user, password, verifier} {
		m.Write([]byte(s))
		m.Write([]byte{0})
	}
	var k [32]byte
	copy(k[:], m.Sum(nil))
	return k
}

func (c *credCache) ok(k [32]byte) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	t, found := c.until[k]
	return found && time.Now().Before(t)
}

func (c *credCache) add(k [32]byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.until) >= credMax {
		clear(c.until) // rare; the next requests pay one key derivation each
	}
	c.until[k] = time.Now().Add(credTTL)
}

// FileStatus is HDFS's FileStatus JSON object (fields in its order).
type FileStatus struct {
	AccessTime       int64  `json:"accessTime"`
	BlockSize        int64  `json:"blockSize"`
	ChildrenNum      int    `json:"childrenNum"`
	FileID           uint64 `json:"fileId"`
	Group            string `json:"group"`
	Length           int64  `json:"length"`
	ModificationTime int64  `json:"modificationTime"`
	Owner            string `json:"owner"`
	PathSuffix       string `json:"pathSuffix"`
	Permission       string `json:"permission"`
	Replication      int    `json:"replication"`
	StoragePolicy    int    `json:"storagePolicy"`
	Type             string `json:"type"`
}

func fileStatus(fi fs.FileInfo, suffix string) FileStatus {
	st := FileStatus{
		ChildrenNum:      fi.Children,
		FileID:           fi.ID,
		Group:            fi.Project,
		ModificationTime: fi.Mtime / int64(time.Millisecond),
		Owner:            fi.Owner,
		PathSuffix:       suffix,
		Permission:       strconv.FormatUint(uint64(fi.Mode&0o1777), 8),
		Type:             "DIRECTORY",
	}
	if st.Group == "" {
		st.Group = defaultGroup
	}
	if !fi.Dir {
		// hopsql does not track access times; HDFS's default precision
		// (one hour) makes them approximate there too.
		st.AccessTime = st.ModificationTime
		st.BlockSize = hdfsBlockSize
		st.Length = fi.Size
		st.Replication = hdfsReplication
		st.Type = "FILE"
	}
	return st
}

func (h *Handler) getFileStatus(rq *request) error {
	fi, err := h.cfg.FS.Stat(rq.r.Context(), rq.path)
	if err != nil {
		return err
	}
	writeJSON(rq.w, http.StatusOK, map[string]FileStatus{"FileStatus": fileStatus(fi, "")})
	return nil
}

func (h *Handler) listStatus(rq *request) error {
	list, err := h.cfg.FS.List(rq.r.Context(), rq.path)
	if err != nil {
		return err
	}
	out := make([]FileStatus, len(list))
	for i, fi := range list {
		suffix := fi.Name
		if fi.Path == rq.path { // a file lists itself, with an empty suffix as in HDFS
			suffix = ""
		}
		out[i] = fileStatus(fi, suffix)
	}
	writeJSON(rq.w, http.StatusOK, map[string]map[string][]FileStatus{"FileStatuses": {"FileStatus": out}})
	return nil
}

// selfURL is the absolute URL of this server's request URI for path p with
// query q (escaped).
func selfURL(r *http.Request, escapedPath, rawQuery string) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	u := url.URL{Scheme: scheme, Host: r.Host, RawQuery: rawQuery}
	u.Path, _ = url.PathUnescape(escapedPath)
	u.RawPath = escapedPath
	return u.String()
}

// withoutParams drops the named parameters (any case) from a raw query.
func withoutParams(raw string, names ...string) string {
	var keep []string
	for _, kv := range strings.Split(raw, "&") {
		if kv == "" {
			continue
		}
		k, _, _ := strings.Cut(kv, "=")
		k, _ = url.QueryUnescape(k)
		drop := false
		for _, n := range names {
			if strings.EqualFold(k, n) {
				drop = true
			}
		}
		if !drop {
			keep = append(keep, kv)
		}
	}
	return strings.Join(keep, "&")
}

func (h *Handler) open(rq *request) error {
	noRedirect, err := rq.q.bool("noredirect", false)
	if err != nil {
		return err
	}
	offset, err := rq.q.int64("offset", 0)
	if err != nil {
		return err
	}
	length, err := rq.q.int64("length", -1)
	if err != nil {
		return err
	}
	if offset < 0 {
		return badRequest("invalid value for webhdfs parameter \"offset\": %d is negative", offset)
	}
	if rq.q.has("length") && length < 0 {
		return badRequest("invalid value for webhdfs parameter \"length\": %d is negative", length)
	}
	ctx := rq.r.Context()
	if noRedirect {
		// HDFS answers with the datanode URL to read from; here that is
		// this server.
		if _, err := h.cfg.FS.Stat(ctx, rq.path); err != nil {
			return err
		}
		loc := selfURL(rq.r, rq.r.URL.EscapedPath(), withoutParams(rq.r.URL.RawQuery, "noredirect"))
		writeJSON(rq.w, http.StatusOK, map[string]string{"Location": loc})
		return nil
	}
	rc, fi, err := h.cfg.FS.Open(ctx, rq.path)
	if err != nil {
		if catalog.CodeOf(err) == catalog.CodeIsDir {
			return newError(http.StatusNotFound, "java.io.FileNotFoundException", "Path is not a file: %s", rq.path)
		}
		return err
	}
	defer rc.Close()
	if offset > fi.Size {
		return badRequest("offset %d is beyond the end of %s (%d bytes)", offset, rq.path, fi.Size)
	}
	n := fi.Size - offset
	if length >= 0 && length < n {
		n = length
	}
	if offset > 0 {
		if _, err := rc.Seek(offset, io.SeekStart); err != nil {
			return fmt.Errorf("seek %s to %d: %w", rq.path, offset, err)
		}
	}
	hd := rq.w.Header()
	hd.Set("Content-Type", "application/octet-stream")
	hd.Set("Content-Length", strconv.FormatInt(n, 10))
	rq.w.WriteHeader(http.StatusOK)
	if _, err := io.CopyN(rq.w, rc, n); err != nil {
		// The status is sent; a short body is how the client learns.
		h.log.Debug("webhdfs: OPEN cut short", "path", rq.path, "err", err)
	}
	return nil
}

// encodeXattr renders a value as HDFS's XAttrCodec does.
func encodeXattr(v []byte, enc string) string {
	switch enc {
	case "text":
		return `"` + string(v) + `"`
	case "base64":
		return "0s" + base64.StdEncoding.EncodeToString(v)
	}
	return "0x" + hex.EncodeToString(v)
}

// decodeXattr parses a value as HDFS's XAttrCodec does: 0x… is hex, 0s… is
// base64, "…" is text without the quotes, anything else is text.
func decodeXattr(s string) ([]byte, error) {
	switch {
	case len(s) >= 2 && (s[:2] == "0x" || s[:2] == "0X"):
		b, err := hex.DecodeString(s[2:])
		if err != nil {
			return nil, badRequest("invalid hex xattr value: %v", err)
		}
		return b, nil
	case len(s) >= 2 && (s[:2] == "0s" || s[:2] == "0S"):
		b, err := base64.StdEncoding.DecodeString(s[2:])
		if err != nil {
			return nil, badRequest("invalid base64 xattr value: %v", err)
		}
		return b, nil
	case len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"':
		return []byte(s[1 : len(s)-1]), nil
	}
	return []byte(s), nil
}

type xattrJSON struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

func (h *Handler) getXattrs(rq *request) error {
	enc := strings.ToLower(rq.q.get("encoding"))
	switch enc {
	case "":
		enc = "hex"
	case "text", "hex", "base64":
	default:
		return badRequest("invalid value for webhdfs parameter \"encoding\": %q is not text, hex or base64", rq.q.get("encoding"))
	}
	fi, err := h.cfg.FS.Stat(rq.r.Context(), rq.path)
	if err != nil {
		return err
	}
	names := rq.q["xattr.name"]
	if len(names) == 0 {
		for n := range fi.Xattrs {
			names = append(names, n)
		}
		sort.Strings(names)
	}
	out := []xattrJSON{}
	for _, n := range names {
		v, ok := fi.Xattrs[n]
		if !ok {
			return newError(http.StatusForbidden, "java.io.IOException",
				"At least one of the attributes provided was not found: %s has no xattr %q", rq.path, n)
		}
		out = append(out, xattrJSON{n, encodeXattr(v, enc)})
	}
	writeJSON(rq.w, http.StatusOK, map[string][]xattrJSON{"XAttrs": out})
	return nil
}

func (h *Handler) listXattrs(rq *request) error {
	fi, err := h.cfg.FS.Stat(rq.r.Context(), rq.path)
	if err != nil {
		return err
	}
	names := []string{}
	for n := range fi.Xattrs {
		names = append(names, n)
	}
	sort.Strings(names)
	// HDFS sends the list as a string holding a JSON array.
	b, _ := json.Marshal(names)
	writeJSON(rq.w, http.StatusOK, map[string]string{"XAttrNames": string(b)})
	return nil
}

// usage sums a tree: directories (itself included), files and bytes.
func (h *Handler) usage(rq *request) (dirs, files, bytes int64, err error) {
	err = h.cfg.FS.Walk(rq.r.Context(), rq.path, func(fi fs.FileInfo) {
		if fi.Dir {
			dirs++
		} else {
			files++
			bytes += fi.Size
		}
	})
	return dirs, files, bytes, err
}

// projectAt is the project whose directory is exactly path, if any.
func (h *Handler) projectAt(rq *request, fi fs.FileInfo) (catalog.Project, bool) {
	if h.cfg.Project == nil || fi.Project == "" || fi.Path != "/"+catalog.ProjectsDir+"/"+fi.Project {
		return catalog.Project{}, false
	}
	return h.cfg.Project(fi.Project)
}

func quotaOrUnset(q int64) int64 {
	if q <= 0 {
		return -1
	}
	return q
}

func (h *Handler) getContentSummary(rq *request) error {
	fi, err := h.cfg.FS.Stat(rq.r.Context(), rq.path)
	if err != nil {
		return err
	}
	dirs, files, bytes, err := h.usage(rq)
	if err != nil {
		return err
	}
	quota, spaceQuota := int64(-1), int64(-1)
	if p, ok := h.projectAt(rq, fi); ok {
		quota, spaceQuota = quotaOrUnset(p.QuotaInodes), quotaOrUnset(p.QuotaBytes)
	}
	writeJSON(rq.w, http.StatusOK, map[string]any{"ContentSummary": map[string]any{
		"directoryCount": dirs, "fileCount": files, "length": bytes, "quota": quota,
		"spaceConsumed": bytes, "spaceQuota": spaceQuota, "typeQuota": map[string]any{},
	}})
	return nil
}

func (h *Handler) getQuotaUsage(rq *request) error {
	fi, err := h.cfg.FS.Stat(rq.r.Context(), rq.path)
	if err != nil {
		return err
	}
	var count, bytes int64
	quota, spaceQuota := int64(-1), int64(-1)
	if p, ok := h.projectAt(rq, fi); ok {
		// The catalog's own counters: what its quotas are checked against.
		count, bytes = p.UsedInodes, p.UsedBytes
		quota, spaceQuota = quotaOrUnset(p.QuotaInodes), quotaOrUnset(p.QuotaBytes)
	} else {
		dirs, files, b, err := h.usage(rq)
		if err != nil {
			return err
		}
		count, bytes = dirs+files, b
	}
	writeJSON(rq.w, http.StatusOK, map[string]any{"QuotaUsage": map[string]any{
		"fileAndDirectoryCount": count, "quota": quota, "spaceConsumed": bytes, "spaceQuota": spaceQuota,
		"typeQuota": map[string]any{},
	}})
	return nil
}

func (h *Handler) getHomeDirectory(rq *request) error {
	writeJSON(rq.w, http.StatusOK, map[string]string{"Path": "/user/" + rq.user.Name})
	return nil
}

func (h *Handler) create(rq *request) error {
	overwrite, err := rq.q.bool("overwrite", false)
	if err != nil {
		return err
	}
	mode, err := rq.q.permission()
	if err != nil {
		return err
	}
	data, err := rq.q.bool("data", false)
	if err != nil {
		return err
	}
	noRedirect, err := rq.q.bool("noredirect", false)
	if err != nil {
		return err
	}
	ctx := rq.r.Context()
	// Refuse early what the catalog would refuse after the upload.
	if fi, err := h.cfg.FS.Stat(ctx, rq.path); err == nil {
		if fi.Dir {
			return newError(http.StatusForbidden, "org.apache.hadoop.fs.FileAlreadyExistsException", "%s already exists as a directory", rq.path)
		}
		if !overwrite {
			return newError(http.StatusForbidden, "org.apache.hadoop.fs.FileAlreadyExistsException", "%s already exists", rq.path)
		}
	}
	hasBody := rq.r.ContentLength != 0 // -1: chunked, of unknown length
	if !data && !hasBody {
		// HDFS's first step: the namenode sends the client on to a
		// datanode. Here the data goes to this same URL with data=true.
		loc := selfURL(rq.r, rq.r.URL.EscapedPath(), withoutParams(rq.r.URL.RawQuery, "data", "noredirect")+"&data=true")
		if noRedirect {
			writeJSON(rq.w, http.StatusOK, map[string]string{"Location": loc})
			return nil
		}
		rq.w.Header().Set("Location", loc)
		rq.w.Header().Set("Content-Length", "0")
		rq.w.WriteHeader(http.StatusTemporaryRedirect)
		return nil
	}
	// fs.Create streams the body into a block file; only the first 64 KiB
	// (the inline limit) are held in memory.
	fi, err := h.cfg.FS.Create(ctx, rq.path, rq.r.Body, fs.CreateOptions{Owner: rq.user.Name, Mode: mode, Overwrite: overwrite})
	if err != nil {
		return err
	}
	loc := selfURL(rq.r, (&url.URL{Path: Prefix + fi.Path}).EscapedPath(), "")
	rq.w.Header().Set("Location", loc)
	rq.w.Header().Set("Content-Length", "0")
	rq.w.WriteHeader(http.StatusCreated)
	return nil
}

func writeBool(w http.ResponseWriter, b bool) {
	writeJSON(w, http.StatusOK, map[string]bool{"boolean": b})
}

func (h *Handler) mkdirs(rq *request) error {
	mode, err := rq.q.permission()
	if err != nil {
		return err
	}
	if _, err := h.cfg.FS.Mkdirs(rq.r.Context(), rq.path, rq.user.Name, mode); err != nil {
		return err
	}
	writeBool(rq.w, true)
	return nil
}

func (h *Handler) rename(rq *request) error {
	if !rq.q.has("destination") {
		return badRequest("webhdfs parameter \"destination\" is missing")
	}
	dst, err := catalog.CleanPath(rq.q.get("destination"))
	if err != nil {
		return err
	}
	err = h.cfg.FS.Rename(rq.r.Context(), rq.path, dst)
	switch catalog.CodeOf(err) {
	case "":
		if err != nil {
			return err
		}
		writeBool(rq.w, true)
		return nil
	case catalog.CodeNotFound, catalog.CodeExists, catalog.CodeNotDir, catalog.CodeInvalid:
		// HDFS's rename answers false, not an exception, when the source is
		// missing, the destination exists or its parent does not, or a
		// directory would move into itself. Both paths are valid here, so
		// CodeInvalid can only be the last.
		writeBool(rq.w, false)
		return nil
	}
	return err
}

func (h *Handler) setXattr(rq *request) error {
	name := rq.q.get("xattr.name")
	if name == "" {
		return badRequest("webhdfs parameter \"xattr.name\" is missing")
	}
	value, err := decodeXattr(rq.q.get("xattr.value"))
	if err != nil {
		return err
	}
	flag := catalog.XattrCreateOrReplace
	if f := strings.ToUpper(strings.ReplaceAll(rq.q.get("flag"), " ", "")); f != "" {
		switch f {
		case "CREATE":
			flag = catalog.XattrCreate
		case "REPLACE":
			flag = catalog.XattrReplace
		case "CREATE,REPLACE", "REPLACE,CREATE":
		default:
			return badRequest("invalid value for webhdfs parameter \"flag\": %q is not CREATE, REPLACE or CREATE,REPLACE", rq.q.get("flag"))
		}
	}
	if err := h.cfg.FS.SetXattr(rq.r.Context(), rq.path, name, value, flag); err != nil {
		return err
	}
	rq.w.Header().Set("Content-Length", "0")
	rq.w.WriteHeader(http.StatusOK)
	return nil
}

func (h *Handler) removeXattr(rq *request) error {
	name := rq.q.get("xattr.name")
	if name == "" {
		return badRequest("webhdfs parameter \"xattr.name\" is missing")
	}
	if err := h.cfg.FS.RemoveXattr(rq.r.Context(), rq.path, name); err != nil {
		return err
	}
	rq.w.Header().Set("Content-Length", "0")
	rq.w.WriteHeader(http.StatusOK)
	return nil
}

// setQuota sets a project's quotas (Hadoop 3.3's SETQUOTA): namespacequota
// counts files and directories, storagespacequota bytes. -1 removes a
// quota; an absent parameter (or HDFS's "don't set", Long.MAX_VALUE)
// keeps it. Only project directories carry quotas, and only a superuser
// may set them, as in HDFS.
func (h *Handler) setQuota(rq *request) error {
	if !rq.user.Superuser {
		return newError(http.StatusForbidden, "org.apache.hadoop.security.AccessControlException", "only a superuser may set quotas; %q is not one", rq.user.Name)
	}
	fi, err := h.cfg.FS.Stat(rq.r.Context(), rq.path)
	if err != nil {
		return err
	}
	p, ok := h.projectAt(rq, fi)
	if !ok {
		return badRequest("quotas are set on project directories (/%s/<project>), and %s is not one", catalog.ProjectsDir, rq.path)
	}
	pick := func(k string, cur int64) (int64, error) {
		v, err := rq.q.int64(k, math.MaxInt64)
		switch {
		case err != nil:
			return 0, err
		case v == math.MaxInt64:
			return cur, nil
		case v == -1:
			return 0, nil
		case v < 0:
			return 0, badRequest("invalid value for webhdfs parameter %q: %d (use -1 to remove the quota)", k, v)
		case v == 0:
			// The catalog reads 0 as "unlimited"; HDFS refuses a zero quota.
			return 0, badRequest("invalid value for webhdfs parameter %q: a quota must be positive (use -1 to remove it)", k)
		}
		return v, nil
	}
	inodes, err := pick("namespacequota", p.QuotaInodes)
	if err != nil {
		return err
	}
	bytes, err := pick("storagespacequota", p.QuotaBytes)
	if err != nil {
		return err
	}
	if err := h.cfg.FS.SetQuota(rq.r.Context(), p.Name, bytes, inodes); err != nil {
		return err
	}
	rq.w.Header().Set("Content-Length", "0")
	rq.w.WriteHeader(http.StatusOK)
	return nil
}

func (h *Handler) delete(rq *request) error {
	recursive, err := rq.q.bool("recursive", false)
	if err != nil {
		return err
	}
	err = h.cfg.FS.Delete(rq.r.Context(), rq.path, recursive)
	if catalog.CodeOf(err) == catalog.CodeNotFound {
		writeBool(rq.w, false) // as HDFS: deleting nothing is not an error
		return nil
	}
	if err != nil {
		return err
	}
	writeBool(rq.w, true)
	return nil
}
