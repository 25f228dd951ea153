package tests

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// reference is the PostgreSQL 15 the tests compare hopsql with; one per
// test binary, started on first use.
var reference struct {
	once sync.Once
	dir  string
	port int
	err  error
}

const pgBin = "/usr/lib/postgresql/15/bin"

// referenceURL starts (once) a PostgreSQL 15 and returns a URL to it.
func referenceURL(t testing.TB) string {
	t.Helper()
	reference.once.Do(startReference)
	if reference.err != nil {
		t.Fatalf("reference PostgreSQL: %v", reference.err)
	}
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", reference.port)
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// asPostgres runs a PostgreSQL program as the postgres OS user when we are
// root (PostgreSQL refuses to run as root).
func asPostgres(name string, args ...string) *exec.Cmd {
	if os.Geteuid() != 0 {
		return exec.Command(name, args...)
	}
	return exec.Command("runuser", append([]string{"-u", "postgres", "--", name}, args...)...)
}

func startReference() {
	if _, err := os.Stat(filepath.Join(pgBin, "postgres")); err != nil {
		reference.err = fmt.Errorf("PostgreSQL 15 is not installed (make test installs it): %w", err)
		return
	}
	dir, err := os.MkdirTemp("", "hopsql-pgref-")
	if err != nil {
		reference.err = err
		return
	}
	os.Chmod(dir, 0o777)
	reference.dir = dir
	data := filepath.Join(dir, "data")
	if out, err := asPostgres(filepath.Join(pgBin, "initdb"), "-D", data, "-A", "trust", "-U", "postgres", "-E", "UTF8", "--locale=C").CombinedOutput(); err != nil {
		reference.err = fmt.Errorf("initdb: %v: %s", err, out)
		return
	}
	port, err := freePort()
	if err != nil {
		reference.err = err
		return
	}
	reference.port = port
	opts := fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c fsync=on -c TimeZone=UTC", port, dir)
	if out, err := asPostgres(filepath.Join(pgBin, "pg_ctl"), "-D", data, "-o", opts, "-l", filepath.Join(dir, "log"), "-w", "start").CombinedOutput(); err != nil {
		reference.err = fmt.Errorf("pg_ctl start: %v: %s", err, out)
		return
	}
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port)); err == nil {
			c.Close()
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	reference.err = fmt.Errorf("PostgreSQL did not start on port %d", port)
}

func stopReference() {
	if reference.dir == "" {
		return
	}
	asPostgres(filepath.Join(pgBin, "pg_ctl"), "-D", filepath.Join(reference.dir, "data"), "-m", "immediate", "stop").Run()
	os.RemoveAll(reference.dir)
}
