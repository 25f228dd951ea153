package wire

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hopsql/hopsql/engine"
)

// Auth methods.
const (
	AuthTrust    = "trust"
	AuthPassword = "password" // SCRAM-SHA-256
)

// Config configures a Server.
type Config struct {
	// TLS, when set, is offered to clients that send SSLRequest.
	TLS *tls.Config
	// Auth is AuthTrust or AuthPassword.
	Auth string
	// MaxMessageSize bounds one frontend message's body; larger ones end the
	// connection with 08P01 (default 64 MiB).
	MaxMessageSize int
	// ShutdownGrace is how long Shutdown lets running statements finish
	// before cancelling them (default 10s).
	ShutdownGrace time.Duration
	// DebugPanicQuery, when non-empty, makes a query with exactly this text
	// panic inside the session. Tests use it to prove panics are contained.
	DebugPanicQuery string
	Logger          *slog.Logger
}

// Server accepts PostgreSQL connections for an engine.
type Server struct {
	cfg Config
	eng *engine.Engine
	log *slog.Logger

	mu       sync.Mutex
	ln       net.Listener
	conns    map[uint32]*conn // by backend process id
	closing  atomic.Bool
	wg       sync.WaitGroup
	nextPID  atomic.Uint32
	shutdown chan struct{}
}

// NewServer returns a server for eng.
func NewServer(cfg Config, eng *engine.Engine) *Server {
	if cfg.MaxMessageSize <= 0 {
		cfg.MaxMessageSize = 64 << 20
	}
	if cfg.ShutdownGrace <= 0 {
		cfg.ShutdownGrace = 10 * time.Second
	}
	if cfg.Auth == "" {
		cfg.Auth = AuthTrust
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	s := &Server{cfg: cfg, eng: eng, log: cfg.Logger, conns: map[uint32]*conn{}, shutdown: make(chan struct{})}
	var b [4]byte
	rand.Read(b[:])
	s.nextPID.Store(binary.BigEndian.Uint32(b[:])&0x3fffffff | 0x1000)
	return s
}

// Serve accepts connections on ln until Shutdown.
func (s *Server) Serve(ln net.Listener) error {
	s.mu.Lock()
	s.ln = ln
	s.mu.Unlock()
	for {
		nc, err := ln.Accept()
		if err != nil {
			if s.closing.Load() {
				return nil
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				time.Sleep(10 * time.Millisecond)
				continue
			}
			return fmt.Errorf("accept: %w", err)
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			c := newConn(s, nc)
			c.serve()
		}()
	}
}

func (s *Server) register(c *conn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for {
		pid := s.nextPID.Add(1) & 0x7fffffff
		if _, taken := s.conns[pid]; !taken && pid != 0 {
			c.pid = pid
			s.conns[pid] = c
			return
		}
	}
}

func (s *Server) unregister(c *conn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.conns[c.pid] == c {
		delete(s.conns, c.pid)
	}
}

// cancel handles a CancelRequest: it interrupts the statement running on
// the connection with that process id, if the secret matches.
func (s *Server) cancel(pid uint32, secret []byte) {
	s.mu.Lock()
	c := s.conns[pid]
	s.mu.Unlock()
	if c == nil || subtle.ConstantTimeCompare(c.secret, secret) != 1 {
		return // PostgreSQL says nothing either way
	}
	c.cancelRunning()
}

// Shutdown stops accepting connections, lets running statements finish for
// the grace period, cancels the rest, and closes every connection with
// 57P01. It returns when all connections are gone.
func (s *Server) Shutdown(ctx context.Context) error {
	if !s.closing.CompareAndSwap(false, true) {
		return nil
	}
	close(s.shutdown)
	s.mu.Lock()
	if s.ln != nil {
		s.ln.Close()
	}
	for _, c := range s.conns {
		c.wakeForShutdown()
	}
	s.mu.Unlock()
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	grace := time.NewTimer(s.cfg.ShutdownGrace)
	defer grace.Stop()
	select {
	case <-done:
		return nil
	case <-grace.C:
	case <-ctx.Done():
	}
	s.mu.Lock()
	for _, c := range s.conns {
		c.cancelRunning()
	}
	s.mu.Unlock()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
