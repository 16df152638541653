// Package server assembles a running modelgov server from its parts: the
// store, the schema validator, the registry service and the HTTP API, and
// runs it until its context ends, shutting down gracefully.
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/hivellm/modelgov/internal/audit"
	"github.com/hivellm/modelgov/internal/httpapi"
	"github.com/hivellm/modelgov/internal/registry"
	"github.com/hivellm/modelgov/internal/schema"
	"github.com/hivellm/modelgov/internal/store"
	"github.com/hivellm/modelgov/internal/store/sqlite"
)

// Config is the configuration of a server.
type Config struct {
	// Listen is the address to serve on, such as 127.0.0.1:8080.
	Listen string
	// DataDir holds the embedded database and, later, the server's keys.
	DataDir string
	// Origin names the audit log in its checkpoints; "" means
	// "modelgov/<host name>". It is fixed when the signing key is created.
	Origin string
	// Synchronous is SQLite's synchronous setting, NORMAL or FULL.
	Synchronous string
	// ShutdownTimeout bounds how long in-flight requests may take to finish.
	ShutdownTimeout time.Duration
	// EnforceInterval is how often the roles of models whose grace period
	// ended are lowered; 0 means every minute.
	EnforceInterval time.Duration
	// RecheckInterval is how often every model is checked again against the
	// active policy (exemptions expire, time passes); 0 means every hour.
	RecheckInterval time.Duration
	Logger          *slog.Logger
}

// Server is an assembled modelgov server.
type Server struct {
	cfg      Config
	store    store.Store
	Registry *registry.Service
	Handler  *httpapi.Server
	log      *slog.Logger
}

// DatabaseFile is the name of the SQLite database in the data directory.
const DatabaseFile = "modelgov.db"

// New opens the store in cfg.DataDir (creating the directory when needed)
// and assembles the server. Close releases it.
func New(ctx context.Context, cfg Config) (*Server, error) {
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	if cfg.DataDir == "" {
		return nil, errors.New("server: a data directory is required")
	}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("server: create data directory: %w", err)
	}
	st, err := sqlite.Open(ctx, filepath.Join(cfg.DataDir, DatabaseFile), sqlite.Options{Synchronous: cfg.Synchronous})
	if err != nil {
		return nil, err
	}
	validator, err := schema.New()
	if err != nil {
		st.Close()
		return nil, fmt.Errorf("server: %w", err)
	}
	origin := cfg.Origin
	if origin == "" {
		host, _ := os.Hostname()
		if host == "" {
			host = "localhost"
		}
		origin = "modelgov/" + host
	}
	signer, err := audit.LoadOrCreateSigner(cfg.DataDir, origin)
	if err != nil {
		st.Close()
		return nil, err
	}
	reg, err := registry.New(registry.Config{Store: st, Schema: validator, Logger: log, Signer: signer})
	if err != nil {
		st.Close()
		return nil, err
	}
	if err := reg.Bootstrap(ctx); err != nil {
		st.Close()
		return nil, err
	}
	h, err := httpapi.New(httpapi.Config{
		Registry: reg, Ready: st.Ping, Schemas: schema.Files(), Metrics: prometheus.NewRegistry(), Logger: log,
	})
	if err != nil {
		st.Close()
		return nil, err
	}
	return &Server{cfg: cfg, store: st, Registry: reg, Handler: h, log: log}, nil
}

// Close releases the store.
func (s *Server) Close() error { return s.store.Close() }

// Run serves on cfg.Listen until ctx ends, then stops accepting requests,
// lets those in flight finish (up to cfg.ShutdownTimeout) and closes the
// store. ready, when not nil, receives the bound address once listening.
func (s *Server) Run(ctx context.Context, ready func(addr net.Addr)) error {
	ln, err := net.Listen("tcp", s.cfg.Listen)
	if err != nil {
		s.Close()
		return fmt.Errorf("server: listen on %s: %w", s.cfg.Listen, err)
	}
	hs := &http.Server{
		Handler:           s.Handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	s.log.Info("modelgov is serving", slog.String("address", ln.Addr().String()),
		slog.String("data_dir", s.cfg.DataDir))
	if ready != nil {
		ready(ln.Addr())
	}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	sweepCtx, stopSweeps := context.WithCancel(ctx)
	sweeps := s.startSweeps(sweepCtx)

	select {
	case err := <-errc:
		stopSweeps()
		<-sweeps
		s.Close()
		return fmt.Errorf("server: %w", err)
	case <-ctx.Done():
	}
	timeout := s.cfg.ShutdownTimeout
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	s.log.Info("shutting down: finishing in-flight requests", slog.Duration("timeout", timeout))
	sctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	stopSweeps()
	<-sweeps
	shutErr := hs.Shutdown(sctx)
	if shutErr != nil {
		shutErr = fmt.Errorf("server: shutdown: %w", shutErr)
	}
	closeErr := s.Close()
	if closeErr == nil && shutErr == nil {
		s.log.Info("stopped cleanly")
	}
	return errors.Join(shutErr, closeErr)
}

// startSweeps runs the registry's periodic governance work until ctx ends:
// lowering the roles of models whose grace period ended, and re-checking
// every model against the active policy. The channel closes when it stops.
func (s *Server) startSweeps(ctx context.Context) <-chan struct{} {
	done := make(chan struct{})
	enforce, recheck := s.cfg.EnforceInterval, s.cfg.RecheckInterval
	if enforce <= 0 {
		enforce = time.Minute
	}
	if recheck <= 0 {
		recheck = time.Hour
	}
	go func() {
		defer close(done)
		et, rt := time.NewTicker(enforce), time.NewTicker(recheck)
		defer et.Stop()
		defer rt.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-et.C:
				if _, err := s.Registry.EnforceDeadlines(ctx); err != nil && ctx.Err() == nil {
					s.log.Error("enforcing compliance deadlines failed", slog.Any("error", err))
				}
			case <-rt.C:
				if _, err := s.Registry.Recheck(ctx); err != nil && ctx.Err() == nil {
					s.log.Error("re-checking compliance failed", slog.Any("error", err))
				}
			}
		}
	}()
	return done
}
