package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"time"
)

// Forkserver runs jobs of one program as children forked by a long-lived
// server process of that program, which has paid its start-up (for the
// Python trainer runtime: importing NumPy, scikit-learn and XGBoost, about
// a second) once. A job is handed over on a SOCK_SEQPACKET socket as a JSON
// request with three descriptors — its stdin, its metrics pipe and its log
// — so it behaves exactly like a Local job: same metric stream, stop
// requests, log, process group. Specs for other programs, and every spec
// while the server cannot be started, run as Local jobs.
type Forkserver struct {
	// Argv starts the server; the socket is appended as its descriptor
	// number (3). Prefix is the argv prefix of the specs it serves: a
	// spec's remaining arguments must be exactly one, the job's directory.
	Argv   []string
	Prefix []string
	Log    string // the server's own output

	mu      sync.Mutex
	conn    *net.UnixConn
	cmd     *exec.Cmd
	nextID  int
	waiting map[int]chan forkReply // request id → its reply
	jobs    map[int]*forkJob       // pid → job
	early   map[int]int            // pid → exit code that came before the pid reply
	// abandoned: requests given up on (the caller ran the job elsewhere);
	// a child forked for one late is killed.
	abandoned map[int]bool
	failed    time.Time     // when starting the server last failed
	forked    int           // jobs forked so far
	ready     chan struct{} // closed when the current server is up
	dead      chan struct{} // closed when the current server is gone
}

type forkReply struct {
	ID    *int   `json:"id"`
	PID   int    `json:"pid"`
	Error string `json:"error"`
	Exit  *int   `json:"exit"`
	Code  int    `json:"code"`
	Ready bool   `json:"ready"`
}

// Start runs spec in a forked child, or as a Local job when the spec is not
// the server's program or the server is unavailable.
func (f *Forkserver) Start(ctx context.Context, spec Spec) (Job, error) {
	if !f.serves(spec) {
		return Local{}.Start(ctx, spec)
	}
	conn, err := f.server(ctx)
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	if err != nil {
		return Local{}.Start(ctx, spec)
	}
	j, err := f.fork(ctx, conn, spec)
	if ctx.Err() != nil {
		if j != nil {
			// Forked as the caller gave up: it ends before Start returns,
			// so that a cancelled caller leaves no process behind — but
			// not longer than a live server takes to report an exit (one
			// that hangs must not hang the canceller: its child was
			// killed, and the exit is reaped whenever it comes).
			j.Kill()
			exited := make(chan struct{})
			go func() {
				_ = j.Wait()
				close(exited)
			}()
			timer := time.NewTimer(10 * time.Second)
			select {
			case <-exited:
			case <-timer.C:
			}
			timer.Stop()
		}
		return nil, ctx.Err()
	}
	if err != nil {
		return Local{}.Start(ctx, spec)
	}
	return j, nil
}

func (f *Forkserver) serves(spec Spec) bool {
	if len(spec.Argv) != len(f.Prefix)+1 {
		return false
	}
	for i, a := range f.Prefix {
		if spec.Argv[i] != a {
			return false
		}
	}
	return true
}

// startLimit is how long a server may take to import its libraries.
const startLimit = 2 * time.Minute

// server returns the connection to a running server, starting one if
// needed (not more often than every 10 s after a failure).
func (f *Forkserver) server(ctx context.Context) (*net.UnixConn, error) {
	f.mu.Lock()
	conn := f.conn
	if conn == nil {
		if time.Since(f.failed) < 10*time.Second {
			f.mu.Unlock()
			return nil, errors.New("fork server unavailable")
		}
		var err error
		if conn, err = f.spawnLocked(); err != nil {
			f.failed = time.Now()
			f.mu.Unlock()
			return nil, err
		}
	}
	ready, dead, cmd := f.ready, f.dead, f.cmd
	f.mu.Unlock()
	limit := time.NewTimer(startLimit)
	defer limit.Stop()
	select {
	case <-ready:
		return conn, nil
	case <-dead:
		return nil, errors.New("fork server exited")
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-limit.C:
		// Hung importing: kill it (its reader cleans up) and run jobs on
		// their own meanwhile.
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		return nil, errors.New("the fork server did not start in time")
	}
}

func (f *Forkserver) spawnLocked() (*net.UnixConn, error) {
	fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_SEQPACKET|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("fork server socket: %w", err)
	}
	mine, theirs := os.NewFile(uintptr(fds[0]), "forkserver"), os.NewFile(uintptr(fds[1]), "forkserver-child")
	defer theirs.Close()
	log, err := os.OpenFile(f.Log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		mine.Close()
		return nil, fmt.Errorf("fork server log: %w", err)
	}
	defer log.Close()
	cmd := exec.Command(f.Argv[0], append(append([]string(nil), f.Argv[1:]...), "3")...)
	cmd.Stdout, cmd.Stderr = log, log
	cmd.ExtraFiles = []*os.File{theirs}
	// It must not outlive the server; its children are in their own
	// process groups and are killed by their jobs.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		mine.Close()
		return nil, fmt.Errorf("start fork server: %w", err)
	}
	fc, err := net.FileConn(mine)
	mine.Close()
	if err != nil {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		return nil, fmt.Errorf("fork server socket: %w", err)
	}
	conn := fc.(*net.UnixConn)
	f.conn, f.cmd = conn, cmd
	f.waiting, f.jobs, f.early, f.abandoned = map[int]chan forkReply{}, map[int]*forkJob{}, map[int]int{}, map[int]bool{}
	f.ready, f.dead = make(chan struct{}), make(chan struct{})
	go f.read(conn, cmd, f.ready, f.dead)
	return conn, nil
}

// read dispatches the server's messages until it exits.
func (f *Forkserver) read(conn *net.UnixConn, cmd *exec.Cmd, ready, dead chan struct{}) {
	buf := make([]byte, 1<<16)
	readyOnce := sync.Once{}
	for {
		n, err := conn.Read(buf)
		if err != nil || n == 0 {
			break
		}
		var m forkReply
		if json.Unmarshal(buf[:n], &m) != nil {
			continue
		}
		switch {
		case m.Ready:
			readyOnce.Do(func() { close(ready) })
		case m.Exit != nil:
			f.mu.Lock()
			j := f.jobs[*m.Exit]
			if j != nil {
				delete(f.jobs, *m.Exit)
			} else {
				f.early[*m.Exit] = m.Code
			}
			f.mu.Unlock()
			if j != nil {
				j.exited(m.Code)
			}
		case m.ID != nil:
			f.mu.Lock()
			ch := f.waiting[*m.ID]
			delete(f.waiting, *m.ID)
			late := f.abandoned[*m.ID]
			delete(f.abandoned, *m.ID)
			f.mu.Unlock()
			switch {
			case late && m.PID > 0:
				_ = syscall.Kill(-m.PID, syscall.SIGKILL)
			case ch != nil:
				ch <- m
			}
		}
	}
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
	f.mu.Lock()
	if f.conn == conn {
		f.conn = nil
		f.failed = time.Now()
	}
	jobs, waiting := f.jobs, f.waiting
	f.jobs, f.waiting = map[int]*forkJob{}, map[int]chan forkReply{}
	f.mu.Unlock()
	conn.Close()
	close(dead)
	for _, ch := range waiting {
		ch <- forkReply{Error: "fork server exited"}
	}
	for _, j := range jobs {
		// Its parent is gone: the child was reparented and cannot report.
		j.Kill()
		j.exited(-int(syscall.SIGKILL))
	}
}

// Forked returns how many jobs the server has forked (the others ran as
// Local jobs).
func (f *Forkserver) Forked() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.forked
}

// Close stops the server (running jobs go on until they end or are
// killed).
func (f *Forkserver) Close() {
	f.mu.Lock()
	conn := f.conn
	f.mu.Unlock()
	if conn != nil {
		conn.Close()
	}
}

func (f *Forkserver) fork(ctx context.Context, conn *net.UnixConn, spec Spec) (Job, error) {
	log, err := os.OpenFile(spec.Log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("jobs: open log: %w", err)
	}
	defer log.Close()
	inR, inW, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("jobs: stdin pipe: %w", err)
	}
	defer inR.Close()
	mr, mw, err := os.Pipe()
	if err != nil {
		inW.Close()
		return nil, fmt.Errorf("jobs: metrics pipe: %w", err)
	}
	defer mw.Close()
	env := map[string]string{}
	for _, kv := range spec.Env {
		for i := 0; i < len(kv); i++ {
			if kv[i] == '=' {
				env[kv[:i]] = kv[i+1:]
				break
			}
		}
	}
	f.mu.Lock()
	f.nextID++
	id := f.nextID
	reply := make(chan forkReply, 1)
	f.waiting[id] = reply
	f.mu.Unlock()
	req, _ := json.Marshal(map[string]any{"id": id, "dir": spec.Argv[len(spec.Argv)-1], "env": env})
	started := time.Now()
	rights := syscall.UnixRights(int(inR.Fd()), int(mw.Fd()), int(log.Fd()))
	if _, _, err := conn.WriteMsgUnix(req, rights, nil); err != nil {
		f.mu.Lock()
		delete(f.waiting, id)
		f.mu.Unlock()
		inW.Close()
		mr.Close()
		return nil, fmt.Errorf("jobs: hand over to the fork server: %w", err)
	}
	var m forkReply
	answer := time.NewTimer(30 * time.Second)
	defer answer.Stop()
	select {
	case m = <-reply:
	case <-ctx.Done():
		// The child may be forked already: wait a little for its pid, so
		// that the caller can kill it and see it gone, rather than leave
		// it to the late-reply kill, which nobody waits for.
		grace := time.NewTimer(5 * time.Second)
		select {
		case m = <-reply:
		case <-grace.C:
			m.Error = ctx.Err().Error()
		}
		grace.Stop()
	case <-answer.C:
		m.Error = "the fork server did not answer"
	}
	if m.Error != "" && m.PID == 0 {
		f.mu.Lock()
		if _, pending := f.waiting[id]; pending {
			delete(f.waiting, id)
			f.abandoned[id] = true
		}
		f.mu.Unlock()
	}
	if m.Error != "" || m.PID == 0 {
		inW.Close()
		mr.Close()
		return nil, fmt.Errorf("jobs: fork server: %s", m.Error)
	}
	j := &forkJob{proc: newProc(m.PID, inW), started: started}
	f.mu.Lock()
	f.forked++
	alive := f.conn == conn
	code, gone := f.early[m.PID]
	switch {
	case gone:
		delete(f.early, m.PID)
	case !alive:
		// The server died after forking it: no exit will be reported.
		gone, code = true, -int(syscall.SIGKILL)
	default:
		f.jobs[m.PID] = j
	}
	f.mu.Unlock()
	if !alive {
		j.Kill()
	}
	go readReports(mr, j.reports, appendNote(spec.Log))
	if gone {
		j.exited(code)
	}
	j.killOnCancel(ctx)
	return j, nil
}

// forkJob is a job forked by the server: its exit comes as a message.
type forkJob struct {
	*proc
	once    sync.Once
	started time.Time
}

// ExitError is how a forked job ended unsuccessfully, worded as
// os/exec words it for a child of the server's own.
type ExitError struct {
	Code int // the exit status, or minus the signal's number
}

func (e *ExitError) Error() string {
	if e.Code < 0 {
		return "signal: " + syscall.Signal(-e.Code).String()
	}
	return fmt.Sprintf("exit status %d", e.Code)
}

// ExitCode is the exit status (-1 for a signal), as exec.ExitError's.
func (e *ExitError) ExitCode() int {
	if e.Code < 0 {
		return -1
	}
	return e.Code
}

func (j *forkJob) exited(code int) {
	j.once.Do(func() {
		j.ran = time.Since(j.started)
		// What it left behind goes too, so that nothing holds its
		// metrics pipe open.
		j.Kill()
		if code != 0 {
			j.err = &ExitError{Code: code}
		}
		close(j.done)
	})
}
