package jobs

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// guard bounds every wait: reaching it means the job or the backend hung.
const guard = 20 * time.Second

// startSh runs script with /bin/sh -c in a fresh directory; the log is
// output.log there.
func startSh(t *testing.T, ctx context.Context, script string, env ...string) (Job, string) {
	t.Helper()
	dir := t.TempDir()
	j, err := Local{}.Start(ctx, Spec{Argv: []string{"/bin/sh", "-c", script}, Env: env, Dir: dir, Log: filepath.Join(dir, "output.log")})
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() {
		// Whatever a failed test left running goes.
		j.Kill()
		_ = wait(t, j)
	})
	return j, dir
}

// wait is Wait with a guard.
func wait(t *testing.T, j Job) error {
	t.Helper()
	errc := make(chan error, 1)
	go func() { errc <- j.Wait() }()
	select {
	case err := <-errc:
		return err
	case <-time.After(guard):
		t.Fatal("Wait did not return")
		return nil
	}
}

// next returns the next report, or false once the stream has ended.
func next(t *testing.T, j Job) (Report, bool) {
	t.Helper()
	select {
	case r, ok := <-j.Reports():
		return r, ok
	case <-time.After(guard):
		t.Fatal("no report and no end of the stream")
		return Report{}, false
	}
}

// collect reads the rest of the stream.
func collect(t *testing.T, j Job) []Report {
	t.Helper()
	var out []Report
	for {
		r, ok := next(t, j)
		if !ok {
			return out
		}
		out = append(out, r)
	}
}

func readLog(t *testing.T, dir string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "output.log"))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// alive reports whether pid is a live process (a zombie is not).
func alive(pid int) bool {
	if syscall.Kill(pid, 0) != nil {
		return false
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	// pid (comm) state ...: the state follows the last ')'.
	s := string(b)
	if i := strings.LastIndexByte(s, ')'); i >= 0 && i+2 < len(s) {
		return s[i+2] != 'Z' && s[i+2] != 'X'
	}
	return true
}

func readPid(t *testing.T, dir string) int {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "child.pid"))
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	return pid
}

// waitGone waits until pid has died (the guard catches a survivor).
func waitGone(t *testing.T, pid int) {
	t.Helper()
	deadline := time.Now().Add(guard)
	for alive(pid) {
		if time.Now().After(deadline) {
			_ = syscall.Kill(pid, syscall.SIGKILL)
			t.Fatalf("process %d survived its job", pid)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func killedBySignal(err error, sig syscall.Signal) bool {
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		return false
	}
	ws, ok := ee.Sys().(syscall.WaitStatus)
	return ok && ws.Signaled() && ws.Signal() == sig
}

func TestLocalReportsAndLog(t *testing.T) {
	j, dir := startSh(t, context.Background(), `
echo '{"step":1,"metrics":{"auc":0.5,"x":null}}' >&3
echo 'not json' >&3
echo '{"step":2,"metrics":{"auc":0.75,"loss":1e-3}}' >&3
echo '{"step":3}' >&3
echo '{"step":4,"metrics":{"auc":"high"}}' >&3
echo to-stdout
echo to-stderr >&2
echo "fd=$HOPSQL_METRICS_FD"
# Wait for a stop so that everything above is read while the job runs.
read line
`)
	var got []Report
	for len(got) < 3 {
		r, ok := next(t, j)
		if !ok {
			t.Fatalf("the stream ended after %v", got)
		}
		got = append(got, r)
	}
	if err := j.Stop(); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	got = append(got, collect(t, j)...)
	if err := wait(t, j); err != nil {
		t.Fatalf("Wait: %v", err)
	}
	want := []Report{
		{Step: 1, Metrics: map[string]float64{"auc": 0.5}},
		{Step: 2, Metrics: map[string]float64{"auc": 0.75, "loss": 1e-3}},
		{Step: 3, Metrics: map[string]float64{}},
	}
	if len(got) != len(want) {
		t.Fatalf("reports %+v, want %+v (null dropped, the non-JSON and mistyped lines ignored)", got, want)
	}
	var last time.Time
	for i := range want {
		if got[i].Step != want[i].Step || !reflect.DeepEqual(got[i].Metrics, want[i].Metrics) {
			t.Errorf("report %d = %+v, want %+v", i, got[i], want[i])
		}
		if got[i].Time.IsZero() || got[i].Time.Before(last) {
			t.Errorf("report %d time %v (previous %v)", i, got[i].Time, last)
		}
		last = got[i].Time
	}
	log := readLog(t, dir)
	for _, s := range []string{"to-stdout\n", "to-stderr\n", "fd=3\n",
		`hopsql: ignored a metric line that is not JSON: "not json"`,
		`hopsql: ignored a metric line that is not JSON: "{\"step\":4,\"metrics\":{\"auc\":\"high\"}}"`} {
		if !strings.Contains(log, s) {
			t.Errorf("the log lacks %q:\n%s", s, log)
		}
	}
	if strings.Contains(log, `"step":1`) {
		t.Errorf("a valid metric line reached the log:\n%s", log)
	}
	if r := j.Ran(); r <= 0 {
		t.Errorf("Ran() = %v", r)
	}
}

// TestLocalManyReports: more reports than the channel holds arrive in
// order, and Wait returns when nobody reads them (it drains the stream).
func TestLocalManyReports(t *testing.T) {
	const script = `i=1; while [ $i -le 300 ]; do echo "{\"step\":$i,\"metrics\":{\"v\":$i}}" >&3; i=$((i+1)); done`
	t.Run("read", func(t *testing.T) {
		j, _ := startSh(t, context.Background(), script)
		got := collect(t, j)
		if len(got) != 300 {
			t.Fatalf("%d reports, want 300", len(got))
		}
		for i, r := range got {
			if r.Step != i+1 || r.Metrics["v"] != float64(i+1) {
				t.Fatalf("report %d = %+v", i, r)
			}
		}
		if err := wait(t, j); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("unread", func(t *testing.T) {
		j, _ := startSh(t, context.Background(), script)
		if err := wait(t, j); err != nil {
			t.Fatal(err)
		}
		if _, ok := <-j.Reports(); ok {
			t.Error("the stream is still open after Wait")
		}
	})
}

// TestLocalLongMetricLine: a metric line over the reader's 1 MiB limit is
// lost, but the stream must go on: later reports still arrive and the job,
// which keeps writing to its metric descriptor, is not killed by SIGPIPE.
func TestLocalLongMetricLine(t *testing.T) {
	j, _ := startSh(t, context.Background(), `
head -c 2000000 /dev/zero | tr '\0' 'a' >&3
echo >&3
echo '{"step":2,"metrics":{"auc":0.9}}' >&3
`)
	got := collect(t, j)
	err := wait(t, j)
	if len(got) != 1 || got[0].Step != 2 || err != nil {
		t.Fatalf("reports %+v, Wait %v; want the step-2 report and a clean exit", got, err)
	}
}

func TestLocalStop(t *testing.T) {
	j, _ := startSh(t, context.Background(), `
echo '{"step":1,"metrics":{"ready":1}}' >&3
while read line; do
  if [ "$line" = stop ]; then
    echo '{"step":2,"metrics":{"stopped":1}}' >&3
    exit 0
  fi
done
exit 7
`)
	if r, ok := next(t, j); !ok || r.Step != 1 {
		t.Fatalf("first report %+v, %v", r, ok)
	}
	if err := j.Stop(); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	got := collect(t, j)
	if len(got) != 1 || got[0].Step != 2 || got[0].Metrics["stopped"] != 1 {
		t.Fatalf("reports after the stop: %+v", got)
	}
	if err := wait(t, j); err != nil {
		t.Fatalf("Wait: %v (the job saw EOF instead of stop?)", err)
	}
	// A stop after the end is harmless.
	_ = j.Stop()
}

// TestLocalStdinStaysOpen: the job's standard input stays open while it
// runs: a job that reads it sees no EOF until it is stopped.
func TestLocalStdinStaysOpen(t *testing.T) {
	j, _ := startSh(t, context.Background(), `
echo '{"step":1,"metrics":{}}' >&3
if read line; then echo "{\"step\":2,\"metrics\":{\"got_line\":1}}" >&3; exit 0; fi
exit 9
`)
	if _, ok := next(t, j); !ok {
		t.Fatal("no first report")
	}
	if err := j.Stop(); err != nil {
		t.Fatal(err)
	}
	if got := collect(t, j); len(got) != 1 || got[0].Metrics["got_line"] != 1 {
		t.Fatalf("reports %+v", got)
	}
	if err := wait(t, j); err != nil {
		t.Fatal(err)
	}
}

func TestLocalKillKillsProcessGroup(t *testing.T) {
	j, dir := startSh(t, context.Background(), `
sleep 1000 &
echo $! > child.pid
echo '{"step":1,"metrics":{}}' >&3
wait
`)
	if _, ok := next(t, j); !ok {
		t.Fatal("no first report")
	}
	child := readPid(t, dir)
	if !alive(child) {
		t.Fatalf("the child %d is not running", child)
	}
	j.Kill()
	err := wait(t, j)
	if !killedBySignal(err, syscall.SIGKILL) {
		t.Errorf("Wait = %v, want the job killed", err)
	}
	if got := collect(t, j); len(got) != 0 {
		t.Errorf("reports after the kill: %+v", got)
	}
	waitGone(t, child)
	j.Kill() // again, after the end: harmless
}

// TestLocalWaitKillsLeftovers: a job that exits leaving a child (which
// holds its metric pipe) is waited for, and the child goes with it.
func TestLocalWaitKillsLeftovers(t *testing.T) {
	j, dir := startSh(t, context.Background(), `
sleep 1000 &
echo $! > child.pid
echo '{"step":1,"metrics":{"a":1}}' >&3
exit 0
`)
	if err := wait(t, j); err != nil {
		t.Fatalf("Wait: %v", err)
	}
	waitGone(t, readPid(t, dir))
}

func TestLocalContextCancelKills(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	j, dir := startSh(t, ctx, `
sleep 1000 &
echo $! > child.pid
echo '{"step":1,"metrics":{}}' >&3
wait
`)
	if _, ok := next(t, j); !ok {
		t.Fatal("no first report")
	}
	cancel()
	if err := wait(t, j); !killedBySignal(err, syscall.SIGKILL) {
		t.Errorf("Wait = %v, want the job killed", err)
	}
	waitGone(t, readPid(t, dir))
	if r := j.Ran(); r <= 0 {
		t.Errorf("Ran() = %v", r)
	}
}

func TestLocalExitStatus(t *testing.T) {
	for _, tc := range []struct {
		name   string
		script string
		code   int // -1: killed by a signal
	}{
		{"success", "exit 0", 0},
		{"failure", "echo oops >&2; exit 3", 3},
		{"signal", "kill -TERM $$", -1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			j, _ := startSh(t, context.Background(), tc.script)
			err := wait(t, j)
			switch {
			case tc.code == 0:
				if err != nil {
					t.Errorf("Wait = %v, want nil", err)
				}
			case tc.code < 0:
				if !killedBySignal(err, syscall.SIGTERM) {
					t.Errorf("Wait = %v, want SIGTERM", err)
				}
			default:
				var ee *exec.ExitError
				if !errors.As(err, &ee) || ee.ExitCode() != tc.code {
					t.Errorf("Wait = %v, want exit status %d", err, tc.code)
				}
			}
			// Wait again: the same answer.
			if err2 := wait(t, j); fmt.Sprint(err2) != fmt.Sprint(err) {
				t.Errorf("second Wait = %v, first %v", err2, err)
			}
		})
	}
}

func TestLocalEnvAndDir(t *testing.T) {
	t.Setenv("HOPSQL_TEST_PARENT", "inherited")
	t.Setenv("HOPSQL_TEST_A", "from the server")
	t.Setenv("HOPSQL_METRICS_FD", "9")
	j, dir := startSh(t, context.Background(), `
echo "A=$HOPSQL_TEST_A"
echo "B=$HOPSQL_TEST_B"
echo "P=$HOPSQL_TEST_PARENT"
echo "CUDA=[$CUDA_VISIBLE_DEVICES]"
echo "FD=$HOPSQL_METRICS_FD"
echo "PWD=$(pwd -P)"
printf '{"step":1,"metrics":{"n":%s}}\n' "$HOPSQL_TEST_N" >&3
`, "HOPSQL_TEST_A=alpha", "HOPSQL_TEST_B=two words", "CUDA_VISIBLE_DEVICES=GPU-1,GPU-2", "HOPSQL_TEST_N=42")
	got := collect(t, j)
	if err := wait(t, j); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Metrics["n"] != 42 {
		t.Errorf("reports %+v, want n = 42", got)
	}
	real, err := filepath.EvalSymlinks(dir)
	if err != nil {
		t.Fatal(err)
	}
	log := readLog(t, dir)
	for _, s := range []string{"A=alpha\n", "B=two words\n", "P=inherited\n", "CUDA=[GPU-1,GPU-2]\n", "FD=3\n", "PWD=" + real + "\n"} {
		if !strings.Contains(log, s) {
			t.Errorf("the log lacks %q:\n%s", s, log)
		}
	}
}

// TestLocalLogAppends: a log that exists is appended to, not replaced.
func TestLocalLogAppends(t *testing.T) {
	dir := t.TempDir()
	log := filepath.Join(dir, "output.log")
	for _, word := range []string{"first", "second"} {
		j, err := Local{}.Start(context.Background(), Spec{Argv: []string{"/bin/sh", "-c", "echo " + word}, Dir: dir, Log: log})
		if err != nil {
			t.Fatal(err)
		}
		if err := wait(t, j); err != nil {
			t.Fatal(err)
		}
	}
	if b, _ := os.ReadFile(log); string(b) != "first\nsecond\n" {
		t.Errorf("log %q", b)
	}
}

func TestLocalStartErrors(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name string
		spec Spec
	}{
		{"empty command", Spec{Dir: dir, Log: filepath.Join(dir, "a.log")}},
		{"log in a missing directory", Spec{Argv: []string{"/bin/true"}, Dir: dir, Log: filepath.Join(dir, "missing", "a.log")}},
		{"no such program", Spec{Argv: []string{filepath.Join(dir, "no-such-program")}, Dir: dir, Log: filepath.Join(dir, "b.log")}},
		{"missing directory", Spec{Argv: []string{"/bin/true"}, Dir: filepath.Join(dir, "missing"), Log: filepath.Join(dir, "c.log")}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			j, err := Local{}.Start(context.Background(), tc.spec)
			if err == nil {
				_ = wait(t, j)
				t.Fatal("Start succeeded")
			}
		})
	}
}

// fakeForkServer is a fork server that forks at once but answers with the
// child's pid only after a second, writing the pid to the job's directory
// first: a caller that gives up meanwhile must still see the child gone.
const fakeForkServer = `import json, os, socket, sys, threading, time
sock = socket.socket(fileno=int(sys.argv[1]))
lock = threading.Lock()
def send(m):
    with lock:
        sock.send(json.dumps(m).encode())
def reap():
    while True:
        try:
            pid, status = os.wait()
        except ChildProcessError:
            time.sleep(0.01)
            continue
        send({"exit": pid, "code": os.waitstatus_to_exitcode(status)})
threading.Thread(target=reap, daemon=True).start()
send({"ready": True})
while True:
    data, fds, _, _ = socket.recv_fds(sock, 1 << 16, 3)
    if not data:
        sys.exit(0)
    req = json.loads(data)
    pid = os.fork()
    if pid == 0:
        os.setpgid(0, 0)
        os.chdir(req["dir"])
        time.sleep(60)
        os._exit(0)
    os.setpgid(pid, pid)
    for f in fds:
        os.close(f)
    with open(os.path.join(req["dir"], "child.pid"), "w") as f:
        f.write(str(pid))
    time.sleep(1)
    send({"id": req["id"], "pid": pid})
`

// TestForkserverCancelDuringFork: a caller cancelled while the server is
// forking its job gets the context's error, and the forked child is dead
// by then (CANCEL EXPERIMENT promises no trainer is left).
func TestForkserverCancelDuringFork(t *testing.T) {
	python, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("no python3 to run a fork server")
	}
	root := t.TempDir()
	srv := filepath.Join(root, "server.py")
	if err := os.WriteFile(srv, []byte(fakeForkServer), 0o644); err != nil {
		t.Fatal(err)
	}
	f := &Forkserver{Argv: []string{python, srv}, Prefix: []string{"trainer"}, Log: filepath.Join(root, "server.log")}
	defer f.Close()
	// A first job starts the server, so that the cancel below comes
	// during a fork, not during the server's start.
	warm := t.TempDir()
	w, err := f.Start(context.Background(), Spec{Argv: []string{"trainer", warm}, Dir: warm, Log: filepath.Join(warm, "output.log")})
	if err != nil || f.Forked() != 1 {
		log, _ := os.ReadFile(f.Log)
		t.Fatalf("first job: %v (forked %d); server log: %s", err, f.Forked(), log)
	}
	w.Kill()
	if err := wait(t, w); !errors.As(err, new(*ExitError)) {
		t.Fatalf("killed first job: %v, want an ExitError", err)
	}
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(300*time.Millisecond, cancel)
	j, err := f.Start(ctx, Spec{Argv: []string{"trainer", dir}, Dir: dir, Log: filepath.Join(dir, "output.log")})
	if j != nil || !errors.Is(err, context.Canceled) {
		t.Fatalf("Start cancelled during the fork: job %v, err %v; want context.Canceled", j, err)
	}
	pid := readPid(t, dir)
	if alive(pid) {
		_ = syscall.Kill(-pid, syscall.SIGKILL)
		t.Fatalf("the child forked for a cancelled Start (pid %d) is still running after Start returned", pid)
	}
	if f.Forked() != 2 {
		t.Fatalf("forked %d jobs, want 2", f.Forked())
	}
}
