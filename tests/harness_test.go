package tests

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"math/rand"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

var hopsqlBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "hopsql-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	hopsqlBin = filepath.Join(dir, "hopsql")
	_, file, _, _ := runtime.Caller(0)
	root := filepath.Dir(filepath.Dir(file))
	build := exec.Command("go", "build", "-o", hopsqlBin, "./cmd/hopsql")
	build.Dir = root
	build.Stdout, build.Stderr = os.Stdout, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build hopsql:", err)
		os.Exit(1)
	}
	code := m.Run()
	stopReference()
	os.RemoveAll(dir)
	os.Exit(code)
}

// server is a running hopsql process.
type server struct {
	t       testing.TB
	cmd     *exec.Cmd
	Addr    string
	HTTP    string // the WebHDFS API's base URL, http://127.0.0.1:PORT
	Host    string
	Port    string
	DataDir string
	args    []string
	env     []string
	mu      sync.Mutex
	log     strings.Builder
	exited  chan struct{}
}

var (
	listenRE  = regexp.MustCompile(`listening on (\S+)`)
	webhdfsRE = regexp.MustCompile(`webhdfs on (\S+)`)
)

// seededRand is a randomized test's source of randomness; its seed is
// logged so that a failure can be replayed.
func seededRand(t testing.TB) (*rand.Rand, int64) {
	seed := time.Now().UnixNano()
	t.Logf("seed %d", seed)
	return rand.New(rand.NewSource(seed)), seed
}

// startServer starts hopsql with a fresh data directory and extra flags.
func startServer(t testing.TB, extra ...string) *server {
	t.Helper()
	return startServerIn(t, t.TempDir(), nil, extra...)
}

func startServerIn(t testing.TB, dataDir string, env []string, extra ...string) *server {
	t.Helper()
	s := &server{t: t, DataDir: dataDir, args: extra, env: env}
	s.start()
	t.Cleanup(s.Stop)
	return s
}

func (s *server) start() {
	t := s.t
	t.Helper()
	args := append([]string{"serve", "--listen", "127.0.0.1:0", "--http-listen", "127.0.0.1:0", "--data", s.DataDir,
		"--shutdown-grace", "3s"}, s.args...)
	cmd := exec.Command(hopsqlBin, args...)
	cmd.Env = append(os.Environ(), s.env...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start hopsql: %v", err)
	}
	s.cmd = cmd
	s.exited = make(chan struct{})
	addr := make(chan string, 1)
	httpURL := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			s.mu.Lock()
			s.log.WriteString(line + "\n")
			s.mu.Unlock()
			// The server prints the WebHDFS line first, so it is in the
			// channel by the time the listening line arrives.
			if m := webhdfsRE.FindStringSubmatch(line); m != nil {
				httpURL <- m[1]
			}
			if m := listenRE.FindStringSubmatch(line); m != nil {
				addr <- m[1]
			}
		}
		io.Copy(io.Discard, stderr)
	}()
	go func() { cmd.Wait(); close(s.exited) }()
	select {
	case a := <-addr:
		s.Addr = a
		s.Host, s.Port, _ = net.SplitHostPort(a)
		s.HTTP = ""
		select {
		case s.HTTP = <-httpURL:
		default: // started with --http-listen ""
		}
	case <-s.exited:
		t.Fatalf("hopsql exited during start:\n%s", s.Log())
	case <-time.After(60 * time.Second):
		t.Fatalf("hopsql did not start in time:\n%s", s.Log())
	}
}

// Log is what the server wrote to stderr so far.
func (s *server) Log() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.log.String()
}

// Stop sends SIGTERM and waits for a clean exit.
func (s *server) Stop() {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	select {
	case <-s.exited:
		return
	default:
	}
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.exited:
	case <-time.After(30 * time.Second):
		s.cmd.Process.Kill()
		<-s.exited
		s.t.Errorf("hopsql did not exit within 30s of SIGTERM:\n%s", s.Log())
	}
}

// Kill stops the server with SIGKILL.
func (s *server) Kill() {
	s.cmd.Process.Kill()
	<-s.exited
}

// Restart starts the server again on the same data directory.
func (s *server) Restart() {
	s.start()
}

// URL is a libpq connection string for user hopsql.
func (s *server) URL(db string) string {
	return fmt.Sprintf("postgres://hopsql@%s/%s?sslmode=disable", s.Addr, db)
}

func (s *server) connect(t testing.TB) *pgx.Conn {
	t.Helper()
	return connectURL(t, s.URL("hopsql"))
}

func connectURL(t testing.TB, url string) *pgx.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatalf("connect %s: %v", url, err)
	}
	t.Cleanup(func() { c.Close(context.Background()) })
	return c
}

func mustExec(t testing.TB, c *pgx.Conn, sql string, args ...any) {
	t.Helper()
	if _, err := c.Exec(context.Background(), sql, args...); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}
