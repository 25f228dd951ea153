// Package jobs runs trials as child processes behind a Backend interface:
// local processes now; a Kubernetes Jobs backend can be added without
// touching the SQL side. A job writes its metrics as JSON lines on a
// channel of its own (file descriptor 3 for local processes, named by
// HOPSQL_METRICS_FD), reads "stop" lines on its standard input when the
// scheduler wants it to end early, and sends everything it prints to a log
// file.
package jobs

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"time"
)

// Spec is what to run.
type Spec struct {
	Argv []string
	Env  []string // added to the server's environment
	Dir  string   // working directory
	Log  string   // file that receives standard output and error
}

// Report is one line of a job's metric stream.
type Report struct {
	Step    int
	Metrics map[string]float64 // finite values only
	Time    time.Time
}

// Job is a started job.
type Job interface {
	// Reports delivers the metric stream; it is closed when the stream
	// ends (the job exited or closed it).
	Reports() <-chan Report
	// Stop asks the job to end early; it goes on until it notices.
	Stop() error
	// Kill ends the job (and whatever it started) now.
	Kill()
	// Wait waits for the job to end and returns why it failed, if it did.
	Wait() error
	// Ran is how long the job's process ran (from its start to its exit),
	// known once Wait returned: the rest of a trial's time is the
	// scheduler's.
	Ran() time.Duration
}

// Backend starts jobs.
type Backend interface {
	Start(ctx context.Context, spec Spec) (Job, error)
}

// Local runs jobs as child processes of the server, each in its own process
// group so that killing a job kills its children too.
type Local struct{}

// proc is a started job's process, whichever backend started it: a
// process group led by pid, its stdin for stop requests, its metric stream.
type proc struct {
	pid     int
	stdin   io.WriteCloser
	stopMu  sync.Mutex
	reports chan Report
	done    chan struct{} // closed once err and ran are set
	err     error
	ran     time.Duration
}

func newProc(pid int, stdin io.WriteCloser) *proc {
	return &proc{pid: pid, stdin: stdin, reports: make(chan Report, 64), done: make(chan struct{})}
}

// killOnCancel kills the job when ctx ends before it does.
func (j *proc) killOnCancel(ctx context.Context) {
	go func() {
		select {
		case <-ctx.Done():
			j.Kill()
		case <-j.done:
		}
	}()
}

// Start starts spec. Cancelling ctx kills the job.
func (Local) Start(ctx context.Context, spec Spec) (Job, error) {
	if len(spec.Argv) == 0 {
		return nil, errors.New("jobs: empty command")
	}
	log, err := os.OpenFile(spec.Log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("jobs: open log: %w", err)
	}
	mr, mw, err := os.Pipe()
	if err != nil {
		log.Close()
		return nil, fmt.Errorf("jobs: metrics pipe: %w", err)
	}
	cmd := exec.Command(spec.Argv[0], spec.Argv[1:]...)
	cmd.Dir = spec.Dir
	cmd.Env = append(append(os.Environ(), spec.Env...), "HOPSQL_METRICS_FD=3")
	cmd.Stdout, cmd.Stderr = log, log
	cmd.ExtraFiles = []*os.File{mw}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		log.Close()
		mr.Close()
		mw.Close()
		return nil, fmt.Errorf("jobs: stdin: %w", err)
	}
	started := time.Now()
	if err := cmd.Start(); err != nil {
		log.Close()
		mr.Close()
		mw.Close()
		return nil, fmt.Errorf("jobs: start %s: %w", spec.Argv[0], err)
	}
	mw.Close() // the child holds the only write end now: EOF when it exits
	j := newProc(cmd.Process.Pid, stdin)
	go readReports(mr, j.reports, appendNote(spec.Log))
	go func() {
		j.err = cmd.Wait()
		j.ran = time.Since(started)
		// What it left behind goes too, so that nothing holds its metrics
		// pipe open.
		j.Kill()
		log.Close()
		close(j.done)
	}()
	j.killOnCancel(ctx)
	return j, nil
}

// metricLine is the wire form of a report; values may be null (NaN).
type metricLine struct {
	Step    int                 `json:"step"`
	Metrics map[string]*float64 `json:"metrics"`
}

// maxMetricLine bounds one report: a longer line is dropped (and noted in
// the log), not the stream.
const maxMetricLine = 1 << 20

// readReports parses a job's metric stream into out, closing it at the
// end; note records lines that are not reports.
func readReports(r *os.File, out chan<- Report, note func(string)) {
	defer close(out)
	defer r.Close()
	br := bufio.NewReaderSize(r, 64<<10)
	for {
		line, tooLong, err := readLine(br, maxMetricLine)
		if tooLong {
			note(fmt.Sprintf("hopsql: ignored a metric line over %d bytes\n", maxMetricLine))
		} else if len(line) > 0 {
			var l metricLine
			if jerr := json.Unmarshal(line, &l); jerr != nil {
				note(fmt.Sprintf("hopsql: ignored a metric line that is not JSON: %q\n", line))
			} else {
				m := make(map[string]float64, len(l.Metrics))
				for k, v := range l.Metrics {
					if v != nil && !math.IsNaN(*v) && !math.IsInf(*v, 0) {
						m[k] = *v
					}
				}
				out <- Report{Step: l.Step, Metrics: m, Time: time.Now()}
			}
		}
		if err != nil {
			return
		}
	}
}

// readLine reads one line (without its newline); past limit bytes it keeps
// reading to the newline but returns only tooLong.
func readLine(br *bufio.Reader, limit int) (line []byte, tooLong bool, err error) {
	for {
		part, isPrefix, err := br.ReadLine()
		if !tooLong {
			line = append(line, part...)
			if len(line) > limit {
				line, tooLong = nil, true
			}
		}
		if err != nil || !isPrefix {
			return line, tooLong, err
		}
	}
}

// appendNote returns a note function that appends to a log file.
func appendNote(path string) func(string) {
	return func(s string) {
		if f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0); err == nil {
			_, _ = f.WriteString(s)
			f.Close()
		}
	}
}

func (j *proc) Reports() <-chan Report { return j.reports }

func (j *proc) Ran() time.Duration {
	<-j.done
	return j.ran
}

func (j *proc) Stop() error {
	j.stopMu.Lock()
	defer j.stopMu.Unlock()
	_, err := io.WriteString(j.stdin, "stop\n")
	return err
}

func (j *proc) Kill() { _ = syscall.Kill(-j.pid, syscall.SIGKILL) }

func (j *proc) Wait() error {
	<-j.done
	// Drain what the job reported after the scheduler stopped listening,
	// so that the reader ends.
	for range j.reports {
	}
	j.stopMu.Lock()
	j.stdin.Close()
	j.stopMu.Unlock()
	return j.err
}
