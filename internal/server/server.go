// Package server assembles a running modelgov server from its parts: the
// store, the schema validator, the registry service and the HTTP API, and
// runs it until its context ends, shutting down gracefully.
package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/hivellm/modelgov/api"
	"github.com/hivellm/modelgov/internal/audit"
	"github.com/hivellm/modelgov/internal/auth"
	"github.com/hivellm/modelgov/internal/httpapi"
	"github.com/hivellm/modelgov/internal/natspub"
	"github.com/hivellm/modelgov/internal/registry"
	"github.com/hivellm/modelgov/internal/schema"
	"github.com/hivellm/modelgov/internal/store"
	"github.com/hivellm/modelgov/internal/store/postgres"
	"github.com/hivellm/modelgov/internal/store/sqlite"
	"github.com/hivellm/modelgov/internal/web"
	"github.com/hivellm/modelgov/internal/webhook"
)

// Config is the configuration of a server.
type Config struct {
	// Listen is the address to serve on, such as 127.0.0.1:8080.
	Listen string
	// DataDir holds the embedded database (unless Database names another),
	// the audit signing key, the first admin token and the instance id.
	DataDir string
	// Database is where the registry is stored: "" for the SQLite file in
	// DataDir, "sqlite:PATH" for another SQLite file, or a PostgreSQL URL
	// (postgres://user@host/db) for a database that several servers may
	// share (docs/SCALING.md).
	Database string
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

	// AnonymousRead opens the read routes to requests without
	// credentials, as viewers.
	AnonymousRead bool
	// OIDC, when its Issuer is set, also accepts bearer JWTs from that
	// issuer.
	OIDC auth.OIDCConfig
	// RateLimit bounds each principal's registrations and identity
	// operations; the zero value means httpapi.DefaultRateLimit.
	RateLimit httpapi.RateLimit
	// NATSURL, when set, also publishes every event to NATS JetStream
	// (docs/EVENTS.md); the server does not start when it cannot connect.
	NATSURL string
	// WebhookAllowPrivate lets webhook subscriptions deliver to loopback
	// and private addresses, which are refused by default (SSRF).
	WebhookAllowPrivate bool
	// WebhookMaxFailures is how many consecutive failed deliveries disable
	// a webhook subscription; 0 means registry.DefaultWebhookMaxFailures.
	WebhookMaxFailures int
	// SecureCookies marks the web interface's cookies Secure: set it when
	// the server is reached over TLS.
	SecureCookies bool
	// WebOIDC, when its ClientID is set, offers sign-in to the web
	// interface with the issuer of OIDC (which must be set), whose ID
	// tokens map to principals as the API's bearer tokens do.
	WebOIDC WebOIDC
}

// WebOIDC is the web interface's client at the OIDC issuer.
type WebOIDC struct {
	// ClientID and ClientSecret are the client's credentials; the secret
	// may be empty for a public client.
	ClientID     string
	ClientSecret string
	// RedirectURL is the absolute URL of web.OIDCCallbackPath as browsers
	// reach this server.
	RedirectURL string
	// Name is the issuer's name on the sign-in page; "" means its host.
	Name string
}

// AdminTokenFile is the file in the data directory where the first start
// writes the admin token's secret (mode 0600).
const AdminTokenFile = "admin.token"

// Server is an assembled modelgov server.
type Server struct {
	cfg      Config
	store    store.Store
	Registry *registry.Service
	Handler  *httpapi.Server
	// Web is the web interface, served beside the API (see routes).
	Web      http.Handler
	log      *slog.Logger
	nats     *natspub.Publisher
	webhooks *webhook.Dispatcher
	// listen, when not nil, hears of the events other processes commit to
	// a shared store.
	listen func(ctx context.Context, wake func(), onError func(error)) error
}

// OpenStore opens the store that database names: "" for the SQLite file
// DatabaseFile in dataDir, "sqlite:PATH" for another SQLite file, a
// postgres:// or postgresql:// URL for PostgreSQL. sync is SQLite's
// synchronous setting. For a store that other processes may write, it also
// returns how to hear of their commits.
func OpenStore(ctx context.Context, database, dataDir, sync string) (store.Store, func(context.Context, func(), func(error)) error, error) {
	switch {
	case database == "":
		st, err := sqlite.Open(ctx, filepath.Join(dataDir, DatabaseFile), sqlite.Options{Synchronous: sync})
		return st, nil, err
	case strings.HasPrefix(database, "sqlite:"):
		path := strings.TrimPrefix(database, "sqlite:")
		if path == "" {
			return nil, nil, errors.New("server: sqlite: names no file; write sqlite:PATH")
		}
		st, err := sqlite.Open(ctx, path, sqlite.Options{Synchronous: sync})
		return st, nil, err
	case strings.HasPrefix(database, "postgres://"), strings.HasPrefix(database, "postgresql://"):
		st, err := postgres.Open(ctx, database, postgres.Options{})
		if err != nil {
			return nil, nil, fmt.Errorf("server: %w", err)
		}
		return st, st.Listen, nil
	}
	return nil, nil, fmt.Errorf("server: database %q is neither sqlite:PATH nor a postgres:// URL", redactDSN(database))
}

// redactDSN hides a password in a database URL, for messages.
func redactDSN(dsn string) string {
	if u, err := url.Parse(dsn); err == nil && u.User != nil {
		if _, ok := u.User.Password(); ok {
			u.User = url.UserPassword(u.User.Username(), "xxxxx")
			return u.String()
		}
	}
	return dsn
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
	st, listen, err := OpenStore(ctx, cfg.Database, cfg.DataDir, cfg.Synchronous)
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
	reg, err := registry.New(registry.Config{Store: st, Schema: validator, Logger: log, Signer: signer, EventSource: origin,
		WebhookAllowPrivate: cfg.WebhookAllowPrivate, WebhookMaxFailures: cfg.WebhookMaxFailures})
	if err != nil {
		st.Close()
		return nil, err
	}
	if err := reg.Bootstrap(ctx); err != nil {
		st.Close()
		return nil, err
	}
	if err := bootstrapToken(ctx, reg, cfg.DataDir, log); err != nil {
		st.Close()
		return nil, err
	}
	instance, err := instanceID(cfg.DataDir)
	if err != nil {
		st.Close()
		return nil, err
	}
	// The dispatch lease is held under the data directory's instance id, so
	// that a server restarted after a crash takes its own lease back at once
	// instead of waiting for it to expire.
	dispatcher := webhook.NewDispatcher(reg, webhook.DispatcherConfig{AllowPrivate: cfg.WebhookAllowPrivate, Logger: log,
		Holder: instance})
	hc := httpapi.Config{
		Registry: reg, Ready: st.Ping, Schemas: schema.Files(), Metrics: prometheus.NewRegistry(), Logger: log,
		AnonymousRead: cfg.AnonymousRead, RateLimit: cfg.RateLimit, Webhooks: dispatcher,
	}
	if cfg.OIDC.Issuer != "" {
		oidc, err := auth.NewOIDC(ctx, cfg.OIDC)
		if err != nil {
			st.Close()
			return nil, fmt.Errorf("server: OIDC issuer %s: %w", cfg.OIDC.Issuer, err)
		}
		hc.OIDC = oidc
		log.Info("accepting OIDC tokens", slog.String("issuer", cfg.OIDC.Issuer), slog.String("audience", cfg.OIDC.Audience))
	}
	h, err := httpapi.New(hc)
	if err != nil {
		st.Close()
		return nil, err
	}
	wc := web.Config{Registry: reg, Logger: log, Secure: cfg.SecureCookies, AnonymousRead: cfg.AnonymousRead}
	if cfg.WebOIDC.ClientID != "" {
		if cfg.OIDC.Issuer == "" {
			st.Close()
			return nil, errors.New("server: web sign-in with OIDC needs the OIDC issuer")
		}
		wc.OIDC, err = web.NewOIDCSignin(ctx, web.OIDCConfig{Provider: cfg.OIDC, ClientID: cfg.WebOIDC.ClientID,
			ClientSecret: cfg.WebOIDC.ClientSecret, RedirectURL: cfg.WebOIDC.RedirectURL, Name: cfg.WebOIDC.Name})
		if err != nil {
			st.Close()
			return nil, fmt.Errorf("server: web sign-in with OIDC issuer %s: %w", cfg.OIDC.Issuer, err)
		}
		log.Info("offering web sign-in with OIDC", slog.String("issuer", cfg.OIDC.Issuer), slog.String("client_id", cfg.WebOIDC.ClientID))
	}
	ui, err := web.New(wc)
	if err != nil {
		st.Close()
		return nil, err
	}
	var pub *natspub.Publisher
	if cfg.NATSURL != "" {
		pub, err = natspub.New(ctx, natspub.Config{URL: cfg.NATSURL, Logger: log})
		if err != nil {
			st.Close()
			return nil, fmt.Errorf("server: NATS (--nats-url): %w", err)
		}
	}
	return &Server{cfg: cfg, store: st, Registry: reg, Handler: h, Web: ui, log: log, nats: pub, webhooks: dispatcher, listen: listen}, nil
}

// routes dispatches between the API and the web interface: the web
// interface takes its own paths (web.Paths: /, /models/, /leaderboards,
// /audit, /signin, /signout, /static/ ...), the API everything else (/v1/, /healthz, /readyz,
// /metrics, /openapi.json, /schemas/), so that unknown paths still get the
// API's 404 problem.
func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/", s.Handler)
	web.Mount(mux, s.Web)
	return mux
}

// InstanceFile is the file in the data directory that names the server
// among the processes sharing a database (the webhook dispatch lease).
const InstanceFile = "instance.id"

// instanceID returns the data directory's instance id, creating it on the
// first start.
func instanceID(dir string) (string, error) {
	path := filepath.Join(dir, InstanceFile)
	if b, err := os.ReadFile(path); err == nil {
		if id := strings.TrimSpace(string(b)); id != "" {
			return id, nil
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("server: read %s: %w", path, err)
	}
	var b [12]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("server: instance id: %w", err)
	}
	host, _ := os.Hostname()
	id := host + "-" + hex.EncodeToString(b[:])
	if err := os.WriteFile(path, []byte(id+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("server: write %s: %w", path, err)
	}
	return id, nil
}

// bootstrapToken creates the first admin token when the registry has none,
// and writes its secret to AdminTokenFile (0600) in the data directory. It
// logs where the file is, never the secret.
func bootstrapToken(ctx context.Context, reg *registry.Service, dir string, log *slog.Logger) error {
	path := filepath.Join(dir, AdminTokenFile)
	tok, err := reg.BootstrapToken(ctx, func(t *api.Token) error { return writeSecret(path, t.Token) })
	if err != nil {
		return fmt.Errorf("server: create the admin token: %w", err)
	}
	if tok == nil {
		return nil
	}
	log.Warn("created the first admin API token; its secret is in the file, and is not shown again",
		slog.String("file", path), slog.String("token_id", tok.ID), slog.String("prefix", tok.Prefix))
	return nil
}

// writeSecret writes a secret to a file only its owner may read.
func writeSecret(path, secret string) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if err := f.Chmod(0o600); err != nil { // an older file may have been wider
		f.Close()
		return err
	}
	_, werr := f.WriteString(secret + "\n")
	return errors.Join(werr, f.Sync(), f.Close())
}

// Close releases the store and the connection to NATS.
func (s *Server) Close() error {
	if s.nats != nil {
		s.nats.Close()
	}
	return s.store.Close()
}

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
		Handler:           s.routes(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	hs.RegisterOnShutdown(s.Handler.StopStreams)
	s.log.Info("modelgov is serving", slog.String("address", ln.Addr().String()),
		slog.String("data_dir", s.cfg.DataDir))
	if ready != nil {
		ready(ln.Addr())
	}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	sweepCtx, stopSweeps := context.WithCancel(ctx)
	sweeps := s.startSweeps(sweepCtx)
	publisher := s.startPublisher(sweepCtx)
	dispatch := s.startDispatcher(sweepCtx)
	listener := s.startListener(sweepCtx)

	select {
	case err := <-errc:
		stopSweeps()
		<-sweeps
		<-publisher
		<-dispatch
		<-listener
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
	<-publisher
	<-dispatch
	<-listener
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

// startPublisher publishes the registry's events to NATS until ctx ends,
// when configured. The channel closes when it stops.
func (s *Server) startPublisher(ctx context.Context) <-chan struct{} {
	done := make(chan struct{})
	if s.nats == nil {
		close(done)
		return done
	}
	go func() {
		defer close(done)
		if err := s.nats.Run(ctx, s.Registry); err != nil {
			s.log.Error("publishing events to NATS stopped", slog.Any("error", err))
		}
	}()
	return done
}

// startListener wakes the watch streams and the webhook dispatcher when
// another server commits events to a shared store, until ctx ends. The
// channel closes when it stops.
func (s *Server) startListener(ctx context.Context) <-chan struct{} {
	done := make(chan struct{})
	if s.listen == nil {
		close(done)
		return done
	}
	go func() {
		defer close(done)
		onError := func(err error) {
			s.log.Warn("listening for other servers' events; connecting again", slog.Any("error", err))
		}
		if err := s.listen(ctx, s.Registry.EventsCommitted, onError); err != nil {
			s.log.Error("listening for other servers' events stopped", slog.Any("error", err))
		}
	}()
	return done
}

// startDispatcher delivers the registry's events to its webhook
// subscriptions until ctx ends. The channel closes when it stops.
func (s *Server) startDispatcher(ctx context.Context) <-chan struct{} {
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := s.webhooks.Run(ctx); err != nil {
			s.log.Error("webhook delivery stopped", slog.Any("error", err))
		}
	}()
	return done
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
