package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime"
	"runtime/pprof"
	"syscall"
	"time"

	"github.com/hopsql/hopsql/engine"
	"github.com/hopsql/hopsql/fs/webhdfs"
	"github.com/hopsql/hopsql/wire"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "0.1.0-dev"

func main() {
	if len(os.Args) < 2 {
		usage()
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "serve":
		err = serve(os.Args[2:])
	case "fs":
		os.Exit(runFS(os.Args[2:], os.Stdin, os.Stdout, os.Stderr))
	case "version", "--version":
		fmt.Println("hopsql", version, "(PostgreSQL "+engine.ServerVersion+" compatible)")
	case "help", "-h", "--help":
		usage()
	default:
		fmt.Fprintf(os.Stderr, "hopsql: unknown command %q\n", os.Args[1])
		usage()
		os.Exit(2)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "hopsql:", err)
		os.Exit(1)
	}
}

func usage() {
	fmt.Fprint(os.Stderr, `usage: hopsql <command> [flags]

commands:
  serve     run a hopsql node (hopsql serve -h for flags)
  fs        use the filesystem of a running node over WebHDFS (hopsql fs help)
  version   print the version
`)
}

func serve(args []string) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	listen := fs.String("listen", "127.0.0.1:5433", "address for PostgreSQL clients")
	httpListen := fs.String("http-listen", "127.0.0.1:9870", "address of the WebHDFS REST API (\"\": off)")
	data := fs.String("data", "./hopsql-data", "data directory")
	raftAddr := fs.String("raft-listen", "127.0.0.1:0", "address of the catalog's Raft transport (port 0: any free port)")
	auth := fs.String("auth", "trust", "client authentication: trust or password (SCRAM-SHA-256)")
	certFile := fs.String("tls-cert", "", "TLS certificate (PEM); enables SSL with --tls-key")
	keyFile := fs.String("tls-key", "", "TLS private key (PEM)")
	logLevel := fs.String("log-level", "info", "debug, info, warn or error")
	grace := fs.Duration("shutdown-grace", 10*time.Second, "on SIGTERM, how long running statements may finish before they are cancelled")
	maxMsg := fs.Int("max-message-size", 64<<20, "largest frontend message accepted, in bytes")
	debugPanic := fs.String("debug-panic-query", "", "testing only: a query text that panics inside the session")
	cpuProfile := fs.String("cpu-profile", "", "write a CPU profile to this file until shutdown")
	retention := fs.Duration("retention", 7*24*time.Hour, "how long replaced table versions stay readable (time travel)")
	maintEvery := fs.Duration("maintenance-interval", time.Minute, "how often small table files are compacted and old versions expired")
	gcGrace := fs.Duration("gc-grace", time.Hour, "how old an unreferenced block must be before it is deleted")
	lookupIdle := fs.Duration("point-lookup-idle", time.Minute, "how long a table's rows kept for primary-key lookups stay in memory without a lookup")
	compression := fs.String("parquet-compression", "zstd", "codec of new table files: zstd, snappy, lz4_raw or uncompressed")
	scanCache := fs.Int64("scan-cache-bytes", 4<<30, "bytes of uncompressed copies of table blocks kept for fast scans; 0 disables")
	cpuSlots := fs.Int("cpu-slots", runtime.NumCPU(), "experiment trials that run at once on CPUs (0: none; GPU trials are bounded by the GPUs)")
	fakeGPUs := fs.Int("fake-gpus", 0, "for tests: schedule trials on this many fake GPUs instead of the real ones")
	python := fs.String("python", "/usr/bin/python3", "the interpreter that runs trainers (with scikit-learn, XGBoost and PyTorch)")
	statsSync := fs.Int64("stats-sync-rows", 1_000_000, "feature group versions up to this many rows get their statistics before the commit is acknowledged, bigger ones in the background")
	smallRows := fs.Int("small-commit-rows", 256, "commits adding at most this many rows to a table write them inline in the catalog entry (JSON lines) instead of a Parquet block; negative: never")
	if err := fs.Parse(args); err != nil {
		return err
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		return fmt.Errorf("--log-level: %w", err)
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	if *auth != wire.AuthTrust && *auth != wire.AuthPassword {
		return fmt.Errorf("--auth must be trust or password, not %q", *auth)
	}
	var tlsConf *tls.Config
	if *certFile != "" || *keyFile != "" {
		cert, err := tls.LoadX509KeyPair(*certFile, *keyFile)
		if err != nil {
			return fmt.Errorf("load TLS key pair: %w", err)
		}
		tlsConf = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	}

	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return fmt.Errorf("--cpu-profile: %w", err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			return fmt.Errorf("--cpu-profile: %w", err)
		}
		defer func() { pprof.StopCPUProfile(); f.Close() }()
	}
	ctx := context.Background()
	eng, err := engine.Open(ctx, engine.Config{DataDir: *data, RaftAddr: *raftAddr, Version: version, Logger: log,
		Retention: *retention, MaintenanceInterval: *maintEvery, GCGrace: *gcGrace, PointLookupIdle: *lookupIdle, ParquetCompression: *compression, SmallCommitRows: *smallRows, ScanCacheBytes: scanCacheConfig(*scanCache), StatsSyncRows: *statsSync,
		CPUSlots: cpuSlotsConfig(*cpuSlots), Python: *python, FakeGPUs: *fakeGPUs,
		Halt: func(err error) {
			// A log entry this binary cannot apply: stop before this replica diverges.
			log.Error("catalog halted", "err", err)
			os.Exit(70)
		}})
	if err != nil {
		return err
	}
	defer eng.Close()
	if *auth == wire.AuthPassword {
		if err := ensurePassword(eng); err != nil {
			return err
		}
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	srv := wire.NewServer(wire.Config{TLS: tlsConf, Auth: *auth, MaxMessageSize: *maxMsg,
		ShutdownGrace: *grace, DebugPanicQuery: *debugPanic, Logger: log}, eng)
	errc := make(chan error, 2)
	var httpSrv *http.Server
	if *httpListen != "" {
		h, err := webhdfs.New(webhdfs.Config{FS: eng.FS(), Auth: *auth, DefaultUser: eng.Superuser(), User: eng.User,
			VerifyPassword: wire.VerifyPassword, Project: eng.Catalog().Project, Logger: log})
		if err != nil {
			ln.Close()
			return err
		}
		hln, err := net.Listen("tcp", *httpListen)
		if err != nil {
			ln.Close()
			return fmt.Errorf("--http-listen: %w", err)
		}
		httpSrv = webhdfs.NewServer(h, log)
		// Printed before "listening on", which tells waiting scripts that
		// everything is up.
		fmt.Fprintf(os.Stderr, "hopsql: webhdfs on http://%s\n", hln.Addr())
		go func() {
			if err := httpSrv.Serve(hln); !errors.Is(err, http.ErrServerClosed) {
				errc <- fmt.Errorf("webhdfs: %w", err)
			}
		}()
	}
	// Tests and scripts wait for this line to learn the (possibly random) port.
	fmt.Fprintf(os.Stderr, "hopsql: listening on %s (data %s, auth %s)\n", ln.Addr(), *data, *auth)

	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case sig := <-sigs:
		log.Info("shutting down", "signal", sig.String())
	}
	sctx, cancel := context.WithTimeout(ctx, *grace+20*time.Second)
	defer cancel()
	httpDone := make(chan struct{})
	go func() {
		defer close(httpDone)
		if httpSrv == nil {
			return
		}
		// HTTP requests in flight get the same grace as statements; then
		// their connections close, which cancels their contexts.
		hctx, hcancel := context.WithTimeout(ctx, *grace)
		defer hcancel()
		if err := httpSrv.Shutdown(hctx); err != nil {
			httpSrv.Close()
		}
	}()
	if err := srv.Shutdown(sctx); err != nil {
		log.Warn("shutdown", "err", err)
	}
	<-httpDone
	return eng.Close()
}

// ensurePassword stores the superuser's SCRAM verifier from HOPSQL_PASSWORD
// on first start with --auth password.
func ensurePassword(eng *engine.Engine) error {
	u, ok := eng.User(eng.Superuser())
	if ok && u.SCRAM != "" {
		return nil
	}
	pw := os.Getenv("HOPSQL_PASSWORD")
	if pw == "" {
		return errors.New("--auth password: the superuser has no password yet; set HOPSQL_PASSWORD on first start")
	}
	v, err := wire.MakeSCRAMVerifier(eng.Superuser(), pw)
	if err != nil {
		return err
	}
	return eng.SetPassword(context.Background(), eng.Superuser(), v)
}

// scanCacheConfig maps the flag (0 disables) to the engine's setting (0
// takes the default, negative disables).
func scanCacheConfig(n int64) int64 {
	if n <= 0 {
		return -1
	}
	return n
}

// cpuSlotsConfig maps the flag (0 = none) to engine.Config (0 = default).
func cpuSlotsConfig(n int) int {
	if n <= 0 {
		return -1
	}
	return n
}
