package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
)

const pgBin = "/usr/lib/postgresql/15/bin"

// server is one PostgreSQL-protocol endpoint under test.
type server struct {
	name string // "PostgreSQL" or "hopsql"
	url  string
	http string // hopsql's WebHDFS base URL (http://host:port)
	// exited reports why the server process is gone, or nil while it runs;
	// it lets a failed measurement say "the server crashed" instead of only
	// "connection refused".
	exited func() error
	stop   func()
}

func (s *server) connect(ctx context.Context) (*pgx.Conn, error) {
	cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	return pgx.Connect(cctx, s.url)
}

// asPostgres runs a PostgreSQL program as the postgres OS user when we are
// root, because PostgreSQL refuses to run as root.
func asPostgres(name string, args ...string) *exec.Cmd {
	if os.Geteuid() != 0 {
		return exec.Command(name, args...)
	}
	return exec.Command("runuser", append([]string{"-u", "postgres", "--", name}, args...)...)
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// startPostgres runs initdb into a fresh directory under tmp and starts a
// PostgreSQL 15 with durable defaults (fsync, synchronous_commit on).
func startPostgres(tmp string) (*server, error) {
	if _, err := os.Stat(filepath.Join(pgBin, "postgres")); err != nil {
		return nil, fmt.Errorf("PostgreSQL 15 is not installed (make test-deps installs it): %w", err)
	}
	dir := filepath.Join(tmp, "pg")
	if err := os.Mkdir(dir, 0o777); err != nil {
		return nil, err
	}
	// The postgres user must be able to write here even though we made it.
	os.Chmod(tmp, 0o777)
	os.Chmod(dir, 0o777)
	data := filepath.Join(dir, "data")
	if out, err := asPostgres(filepath.Join(pgBin, "initdb"), "-D", data, "-A", "trust", "-U", "postgres",
		"-E", "UTF8", "--locale=C").CombinedOutput(); err != nil {
		return nil, fmt.Errorf("initdb: %v: %s", err, out)
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	// shared_buffers=1GB so PostgreSQL is not starved of cache relative to
	// DuckDB, which uses a share of RAM by default; max_wal_size avoids
	// checkpoint storms during the 10M-row COPYs (a usual bulk-load setting).
	opts := fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c shared_buffers=1GB -c max_wal_size=8GB -c TimeZone=UTC", port, dir)
	logFile := filepath.Join(dir, "log")
	stop := func() {
		asPostgres(filepath.Join(pgBin, "pg_ctl"), "-D", data, "-m", "immediate", "-w", "stop").Run()
	}
	if out, err := asPostgres(filepath.Join(pgBin, "pg_ctl"), "-D", data, "-o", opts, "-l", logFile, "-w", "start").CombinedOutput(); err != nil {
		stop()
		log, _ := os.ReadFile(logFile)
		return nil, fmt.Errorf("pg_ctl start: %v: %s\n%s", err, out, log)
	}
	s := &server{
		name: "PostgreSQL",
		url:  fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", port),
		stop: stop,
		exited: func() error {
			if _, err := os.Stat(filepath.Join(data, "postmaster.pid")); err != nil {
				return fmt.Errorf("PostgreSQL is no longer running (see its log)")
			}
			return nil
		},
	}
	return s, nil
}

var (
	listenRE  = regexp.MustCompile(`listening on (\S+)`)
	webhdfsRE = regexp.MustCompile(`webhdfs on (\S+)`)
)

// startHopsql starts `hopsql serve` on a random port with a fresh data
// directory under tmp; its stderr goes to a log file whose tail is quoted
// when the process dies.
func startHopsql(bin, tmp, profile string) (*server, error) {
	data := filepath.Join(tmp, "hopsql-data")
	logPath := filepath.Join(tmp, "hopsql.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	args := []string{"serve", "--listen", "127.0.0.1:0", "--http-listen", "127.0.0.1:0", "--data", data, "--log-level", "warn"}
	if profile != "" {
		args = append(args, "--cpu-profile", profile)
	}
	cmd := exec.Command(bin, args...)
	// The server must not outlive the bench if the bench itself is killed.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	addr := make(chan string, 1)
	httpURL := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			fmt.Fprintln(logFile, line)
			// Printed before the listening line, so it is here by then.
			if m := webhdfsRE.FindStringSubmatch(line); m != nil {
				select {
				case httpURL <- m[1]:
				default:
				}
			}
			if m := listenRE.FindStringSubmatch(line); m != nil {
				select {
				case addr <- m[1]:
				default:
				}
			}
		}
	}()
	var mu sync.Mutex
	var waitErr error
	done := make(chan struct{})
	go func() {
		err := cmd.Wait()
		mu.Lock()
		waitErr = err
		mu.Unlock()
		close(done)
	}()
	tail := func() string {
		b, _ := os.ReadFile(logPath)
		lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
		if len(lines) > 20 {
			lines = lines[len(lines)-20:]
		}
		return strings.Join(lines, "\n")
	}
	stop := func() {
		select {
		case <-done:
		default:
			cmd.Process.Signal(syscall.SIGTERM)
			select {
			case <-done:
			case <-time.After(30 * time.Second):
				cmd.Process.Kill()
				<-done
			}
		}
		logFile.Close()
	}
	var a string
	select {
	case a = <-addr:
	case <-done:
		stop()
		return nil, fmt.Errorf("hopsql exited during start: %v\n%s", waitErr, tail())
	case <-time.After(90 * time.Second):
		stop()
		return nil, errors.New("hopsql did not print its listen address within 90s")
	}
	var h string
	select {
	case h = <-httpURL:
	default:
	}
	return &server{
		name: "hopsql",
		url:  fmt.Sprintf("postgres://hopsql@%s/hopsql?sslmode=disable", a),
		http: h,
		stop: stop,
		exited: func() error {
			select {
			case <-done:
				mu.Lock()
				defer mu.Unlock()
				return fmt.Errorf("hopsql process exited (%v); last log lines:\n%s", waitErr, tail())
			default:
				return nil
			}
		},
	}, nil
}
