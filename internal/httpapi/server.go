// Package httpapi is modelgov's REST/JSON API under /v1: thin handlers that
// decode a request, call the registry and encode the answer, errors as RFC
// 9457 problems, request limits, metrics and the OpenAPI document.
package httpapi

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"sigs.k8s.io/yaml"

	"github.com/hivellm/modelgov/api"
	"github.com/hivellm/modelgov/internal/errs"
	"github.com/hivellm/modelgov/internal/policy"
	"github.com/hivellm/modelgov/internal/registry"
	"github.com/hivellm/modelgov/internal/webhook"
)

// DefaultMaxBody is the largest request body accepted: 1 MiB.
const DefaultMaxBody = 1 << 20

// Config holds what a Server needs.
type Config struct {
	Registry *registry.Service
	// Ready reports whether the server can answer (the database is up).
	Ready func(context.Context) error
	// Schemas are the JSON Schemas served under /schemas/.
	Schemas fs.FS
	// Metrics is where the server registers its metrics and what /metrics
	// serves; nil means a new registry of its own.
	Metrics *prometheus.Registry
	Logger  *slog.Logger
	// MaxBody caps request bodies; 0 means DefaultMaxBody.
	MaxBody int64
	// OIDC, when set, authenticates bearer JWTs besides the registry's API
	// tokens.
	OIDC Authenticator
	// AnonymousRead opens the read routes to requests without credentials,
	// as the viewer role.
	AnonymousRead bool
	// RateLimit bounds each principal's registrations and identity
	// operations; the zero value means DefaultRateLimit, a negative
	// PerSecond no limit.
	RateLimit RateLimit
	// Heartbeat is how often an idle watch stream sends a comment; 0
	// means DefaultHeartbeat.
	Heartbeat time.Duration
	// MaxLag is how many events a watch stream may fall behind the newest
	// before it is told to resync; 0 means DefaultMaxLag.
	MaxLag int64
	// Webhooks, when set, sends manual redeliveries.
	Webhooks *webhook.Dispatcher
}

// Route is one registered operation.
type Route struct {
	Method  string
	Pattern string // a net/http.ServeMux path pattern
	Access  Access
}

// Server serves the API. It is an http.Handler.
type Server struct {
	reg     *registry.Service
	ready   func(context.Context) error
	schemas fs.FS
	log     *slog.Logger
	maxBody int64
	mux     *http.ServeMux
	routes  []Route
	metrics *metrics
	openapi []byte

	oidc          Authenticator
	anonymousRead bool
	limits        *limiters
	heartbeat     time.Duration
	maxLag        int64
	webhooks      *webhook.Dispatcher
	// stopping is closed by StopStreams, to end the watch streams.
	stopping chan struct{}
	stopOnce sync.Once
}

// StopStreams ends every watch stream (their clients reconnect with
// Last-Event-ID), so that a graceful shutdown need not wait for them.
func (s *Server) StopStreams() { s.stopOnce.Do(func() { close(s.stopping) }) }

// New returns a Server.
func New(cfg Config) (*Server, error) {
	if cfg.Registry == nil {
		return nil, errors.New("httpapi: a registry is required")
	}
	s := &Server{reg: cfg.Registry, ready: cfg.Ready, schemas: cfg.Schemas, log: cfg.Logger,
		maxBody: cfg.MaxBody, mux: http.NewServeMux(), oidc: cfg.OIDC, anonymousRead: cfg.AnonymousRead,
		heartbeat: cfg.Heartbeat, maxLag: cfg.MaxLag, webhooks: cfg.Webhooks, stopping: make(chan struct{})}
	if s.heartbeat <= 0 {
		s.heartbeat = DefaultHeartbeat
	}
	if s.maxLag <= 0 {
		s.maxLag = DefaultMaxLag
	}
	switch rl := cfg.RateLimit; {
	case rl == RateLimit{}:
		s.limits = newLimiters(DefaultRateLimit)
	case rl.PerSecond > 0:
		s.limits = newLimiters(rl)
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.maxBody <= 0 {
		s.maxBody = DefaultMaxBody
	}
	if s.ready == nil {
		s.ready = func(context.Context) error { return nil }
	}
	reg := cfg.Metrics
	if reg == nil {
		reg = prometheus.NewRegistry()
	}
	m, err := newMetrics(reg)
	if err != nil {
		return nil, err
	}
	s.metrics = m
	if s.openapi, err = yaml.YAMLToJSON(api.OpenAPI()); err != nil {
		return nil, fmt.Errorf("httpapi: openapi document: %w", err)
	}

	s.handle("GET /healthz", public, s.healthz)
	s.handle("GET /readyz", public, s.readyz)
	s.handle("GET /openapi.json", public, s.openAPI)
	s.handle("GET /schemas/{path...}", public, s.schema)
	metricsHandler := promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg})
	s.handle("GET /metrics", readers, func(w http.ResponseWriter, r *http.Request) error {
		metricsHandler.ServeHTTP(w, r)
		return nil
	})

	s.handle("POST /v1/models", limited(authors), s.createModel)
	s.handle("GET /v1/models", readers, s.listModels)
	s.handle("POST /v1/models:apply", limited(authors), s.applyModel)
	s.handle("GET /v1/models/{provider}/{model}", readers, s.getModel)
	s.handle("PUT /v1/models/{provider}/{model}", authors, s.replaceModel)
	s.handle("PATCH /v1/models/{provider}/{model}", authors, s.patchModel)
	s.handle("DELETE /v1/models/{provider}/{model}", authors, s.deleteModel)
	s.handle("PUT /v1/models/{provider}/{model}/lifecycle", stewards, s.changeLifecycle)
	s.handle("GET /v1/models/{provider}/{model}/revisions", readers, s.listRevisions)
	s.handle("GET /v1/models/{provider}/{model}/revisions/{revision}", readers, s.getRevision)
	s.handle("PUT /v1/models/{provider}/{model}/classification", governors, s.classifyModel)
	s.handle("POST /v1/models/{provider}/{model}/exemptions", governors, s.grantExemption)
	s.handle("DELETE /v1/models/{provider}/{model}/exemptions/{id}", governors, s.revokeExemption)
	s.handle("PUT /v1/models/{provider}/{model}/review", governors, s.clearReview)

	s.handle("GET /v1/models/{provider}/{model}/identity", readers, s.getIdentity)
	s.handle("PUT /v1/models/{provider}/{model}/identity", limited(stewards), s.registerIdentity)
	s.handle("DELETE /v1/models/{provider}/{model}/identity", stewards, s.revokeIdentity)
	s.handle("POST /v1/models/{provider}/{model}/identity/challenge", limited(stewards), s.challengeIdentity)
	s.handle("POST /v1/models/{provider}/{model}/identity/verify", limited(stewards), s.verifyIdentity)
	s.handle("POST /v1/models/{provider}/{model}/identity/endorsements", limited(stewards), s.endorseIdentity)
	s.handle("DELETE /v1/models/{provider}/{model}/identity/endorsements/{endorser_provider}/{endorser_model}", stewards, s.withdrawEndorsement)

	s.handle("POST /v1/policies", governors, s.uploadPolicy)
	s.handle("GET /v1/policies", readers, s.listPolicies)
	s.handle("GET /v1/policies/active", readers, s.activePolicy)
	s.handle("GET /v1/policies/{version}", readers, s.getPolicy)
	s.handle("POST /v1/policies/{version}/activate", governors, s.activatePolicy)
	s.handle("POST /v1/policy/evaluate", readers, s.evaluatePolicy)
	s.handle("POST /v1/policy/report", readers, s.reportCandidate)
	s.handle("GET /v1/compliance", readers, s.compliance)

	s.handle("GET /v1/audit/entries", readers, s.auditEntries)
	s.handle("GET /v1/audit/entries/{seq}", readers, s.auditEntry)
	s.handle("GET /v1/audit/checkpoint", readers, s.auditCheckpoint)
	s.handle("GET /v1/audit/key", readers, s.auditKey)
	s.handle("GET /v1/audit/proof/inclusion", readers, s.inclusionProof)
	s.handle("GET /v1/audit/proof/consistency", readers, s.consistencyProof)

	s.handle("GET /v1/aliases", readers, s.listAliases)
	s.handle("GET /v1/aliases/{namespace}/{name}", readers, s.getAlias)
	s.handle("PUT /v1/aliases/{namespace}/{name}", governors, s.moveAlias)
	s.handle("DELETE /v1/aliases/{namespace}/{name}", governors, s.deleteAlias)
	s.handle("GET /v1/aliases/{namespace}/{name}/history", readers, s.aliasHistory)

	s.handle("POST /v1/benchmarks", cataloguers, s.createBenchmark)
	s.handle("GET /v1/benchmarks", readers, s.listBenchmarks)
	s.handle("GET /v1/benchmarks/{name...}", readers, s.getBenchmark)
	s.handle("POST /v1/models/{provider}/{model}/evaluations", evaluators, s.recordEvaluation)
	s.handle("GET /v1/models/{provider}/{model}/evaluations", readers, s.listEvaluations)
	s.handle("POST /v1/evaluations:batch", evaluators, s.recordEvaluations)
	s.handle("GET /v1/evaluations/{id}", readers, s.getEvaluation)
	s.handle("GET /v1/leaderboards/{name...}", readers, s.leaderboard)
	s.handle("GET /v1/compare", readers, s.compare)

	s.handle("POST /v1/imports", admins, s.importModels)
	s.handle("GET /v1/imports", admins, s.listImports)
	s.handle("GET /v1/imports/{id}", admins, s.getImport)
	s.handle("POST /v1/imports/{id}/rollback", admins, s.rollbackImport)
	s.handle("GET /v1/backup", admins, s.backup)

	s.handle("GET /v1/events", readers, s.listEvents)
	s.handle("GET /v1/watch", readers, s.watch)

	s.handle("POST /v1/webhooks", limited(admins), s.createWebhook)
	s.handle("GET /v1/webhooks", admins, s.listWebhooks)
	s.handle("GET /v1/webhooks/{id}", admins, s.getWebhook)
	s.handle("DELETE /v1/webhooks/{id}", admins, s.deleteWebhook)
	s.handle("POST /v1/webhooks/{id}/enable", admins, s.enableWebhook)
	s.handle("POST /v1/webhooks/{id}/disable", admins, s.disableWebhook)
	s.handle("GET /v1/webhooks/{id}/deliveries", admins, s.listDeliveries)
	s.handle("POST /v1/webhooks/{id}/deliveries/{delivery}/redeliver", limited(admins), s.redeliver)

	s.handle("GET /v1/whoami", readers, s.whoami)
	s.handle("POST /v1/tokens", limited(admins), s.createToken)
	s.handle("GET /v1/tokens", admins, s.listTokens)
	s.handle("DELETE /v1/tokens/{id}", admins, s.revokeToken)
	return s, nil
}

// Routes lists every registered operation, in registration order.
func (s *Server) Routes() []Route { return append([]Route(nil), s.routes...) }

// A handler answers a request or returns an error for writeError to answer.
type handler func(w http.ResponseWriter, r *http.Request) error

func (s *Server) handle(pattern string, acc Access, h handler) {
	method, path, _ := cutPattern(pattern)
	s.routes = append(s.routes, Route{Method: method, Pattern: path, Access: acc})
	h = s.guard(pattern, acc, h)
	s.mux.Handle(pattern, s.metrics.instrument(pattern, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := h(w, r); err != nil {
			s.writeError(w, r, err)
		}
	})))
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	id := r.Header.Get("X-Request-Id")
	if !validRequestID(id) {
		id = newRequestID()
	}
	w.Header().Set("X-Request-Id", id)
	r = r.WithContext(context.WithValue(r.Context(), requestIDKey{}, id))
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v)
			}
			s.writeError(w, r, fmt.Errorf("panic: %v", v))
		}
	}()

	if _, pattern := s.mux.Handler(r); pattern == "" {
		s.unmatched(w, r)
		return
	}
	s.mux.ServeHTTP(w, r)
}

// unmatched answers a request that no route takes, as a problem: 405 with
// Allow when the path exists under another method, 404 otherwise.
func (s *Server) unmatched(w http.ResponseWriter, r *http.Request) {
	h, _ := s.mux.Handler(r)
	rec := &headerRecorder{header: http.Header{}}
	h.ServeHTTP(rec, r)
	s.metrics.requests.WithLabelValues("unmatched", r.Method, fmt.Sprint(rec.status)).Inc()
	if rec.status == http.StatusMethodNotAllowed {
		w.Header().Set("Allow", rec.header.Get("Allow"))
		s.problem(w, r, rec.status, fmt.Sprintf("%s is not allowed on %s; allowed: %s", r.Method, r.URL.Path, rec.header.Get("Allow")))
		return
	}
	if rec.status == http.StatusMovedPermanently || rec.status == http.StatusTemporaryRedirect {
		w.Header().Set("Location", rec.header.Get("Location"))
		w.WriteHeader(rec.status)
		return
	}
	s.problem(w, r, http.StatusNotFound, "no such resource: "+r.URL.Path)
}

// headerRecorder captures what ServeMux's own not-found and
// method-not-allowed handlers would answer.
type headerRecorder struct {
	header http.Header
	status int
}

func (h *headerRecorder) Header() http.Header         { return h.header }
func (h *headerRecorder) Write(b []byte) (int, error) { return len(b), nil }
func (h *headerRecorder) WriteHeader(code int)        { h.status = code }

type requestIDKey struct{}

func requestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

func newRequestID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func validRequestID(id string) bool {
	if id == "" || len(id) > 128 {
		return false
	}
	for _, c := range id {
		if c < 0x21 || c > 0x7e {
			return false
		}
	}
	return true
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) error {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, err := io.WriteString(w, "ok\n")
	return err
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) error {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if err := s.ready(ctx); err != nil {
		return errs.Wrap(errs.Unavailable, err, "not ready")
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, err := io.WriteString(w, "ok\n")
	return err
}

func (s *Server) openAPI(w http.ResponseWriter, r *http.Request) error {
	w.Header().Set("Content-Type", "application/json")
	_, err := w.Write(s.openapi)
	return err
}

// schema serves the JSON Schemas of the documents: the model's (from
// Config.Schemas) and the policy bundle's.
func (s *Server) schema(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("path")
	if !fs.ValidPath(name) {
		return errs.E(errs.NotFound, "no schema %s", name)
	}
	var (
		b   []byte
		err = fs.ErrNotExist
	)
	for _, files := range []fs.FS{s.schemas, policy.SchemaFiles()} {
		if files == nil {
			continue
		}
		if b, err = fs.ReadFile(files, name); err == nil {
			break
		}
	}
	if err != nil {
		return errs.E(errs.NotFound, "no schema %s", name)
	}
	w.Header().Set("Content-Type", "application/schema+json")
	_, err = w.Write(b)
	return err
}

func jsonEncode(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

func writeJSON(w http.ResponseWriter, status int, v any) error {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	return jsonEncode(w, v)
}
