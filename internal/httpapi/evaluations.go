package httpapi

import (
	"net/http"
	"strconv"

	"github.com/hivellm/modelgov/api"
	"github.com/hivellm/modelgov/internal/errs"
	"github.com/hivellm/modelgov/internal/registry"
)

func (s *Server) createBenchmark(w http.ResponseWriter, r *http.Request) error {
	opts, err := s.writeOptions(r)
	if err != nil {
		return err
	}
	if err := onlyParams(r.URL.Query()); err != nil {
		return err
	}
	var b api.Benchmark
	if err := s.decodeJSON(w, r, &b); err != nil {
		return s.bodyError(w, r, err)
	}
	out, outcome, err := s.reg.CreateBenchmark(r.Context(), b, opts)
	if err != nil {
		return err
	}
	status := http.StatusCreated
	if outcome == registry.Unchanged {
		status = http.StatusOK
	}
	w.Header().Set("Location", "/v1/benchmarks/"+out.Name+"?version="+out.Version)
	return writeJSON(w, status, out)
}

func (s *Server) listBenchmarks(w http.ResponseWriter, r *http.Request) error {
	if err := onlyParams(r.URL.Query()); err != nil {
		return err
	}
	list, err := s.reg.ListBenchmarks(r.Context())
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, list)
}

// getBenchmark answers a benchmark by name (which may hold slashes), the
// version ?version= or the newest.
func (s *Server) getBenchmark(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	if err := onlyParams(q, "version"); err != nil {
		return err
	}
	list, err := s.reg.ListBenchmarks(r.Context())
	if err != nil {
		return err
	}
	name, version := r.PathValue("name"), q.Get("version")
	var found *api.Benchmark
	for _, b := range list.Items {
		if b.Name == name && (version == b.Version || version == "" && (found == nil || b.CreatedAt.After(found.CreatedAt))) {
			found = b
		}
	}
	if found == nil {
		if version != "" {
			return errs.E(errs.NotFound, "benchmark %s version %s is not in the catalogue", name, version)
		}
		return errs.E(errs.NotFound, "benchmark %s is not in the catalogue", name)
	}
	return writeJSON(w, http.StatusOK, found)
}

func (s *Server) recordEvaluation(w http.ResponseWriter, r *http.Request) error {
	opts, err := s.writeOptions(r)
	if err != nil {
		return err
	}
	if err := onlyParams(r.URL.Query()); err != nil {
		return err
	}
	var req api.ResultRequest
	if err := s.decodeJSON(w, r, &req); err != nil {
		return s.bodyError(w, r, err)
	}
	ev, err := s.reg.RecordEvaluation(r.Context(), modelID(r), req, opts)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/v1/evaluations/"+ev.ID)
	return writeJSON(w, http.StatusCreated, ev)
}

// EvaluationBatch records results of several models at once, all or
// nothing (POST /v1/evaluations:batch).
type EvaluationBatch struct {
	// Benchmarks are added to the catalogue where missing.
	Benchmarks []*api.Benchmark `json:"benchmarks,omitempty"`
	Results    []BatchResult    `json:"results"`
}

// BatchResult is one result of a batch: its model and the result.
type BatchResult struct {
	ModelID string `json:"model_id"`
	api.ResultRequest
}

func (s *Server) recordEvaluations(w http.ResponseWriter, r *http.Request) error {
	opts, err := s.writeOptions(r)
	if err != nil {
		return err
	}
	if err := onlyParams(r.URL.Query()); err != nil {
		return err
	}
	var b EvaluationBatch
	if err := s.decodeJSON(w, r, &b); err != nil {
		return s.bodyError(w, r, err)
	}
	items := make([]registry.EvaluationItem, len(b.Results))
	for i, res := range b.Results {
		items[i] = registry.EvaluationItem{ModelID: res.ModelID, Request: res.ResultRequest}
	}
	out, err := s.reg.RecordEvaluations(r.Context(), items, b.Benchmarks, opts)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, &api.EvaluationList{Items: out})
}

func (s *Server) listEvaluations(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	size, err := pageParams(q, "benchmark", "version", "since", "until", "valid")
	if err != nil {
		return err
	}
	since, err := timeParam(q.Get("since"), "since")
	if err != nil {
		return err
	}
	until, err := timeParam(q.Get("until"), "until")
	if err != nil {
		return err
	}
	valid := false
	if v := q.Get("valid"); v != "" {
		if valid, err = strconv.ParseBool(v); err != nil {
			return errs.E(errs.Malformed, "valid %q is not true or false", v)
		}
	}
	list, err := s.reg.ListEvaluations(r.Context(), registry.EvaluationQuery{ModelID: modelID(r), Benchmark: q.Get("benchmark"),
		BenchmarkVersion: q.Get("version"), Since: since, Until: until, Valid: valid, PageSize: size, PageToken: q.Get("page_token")})
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, list)
}

func (s *Server) getEvaluation(w http.ResponseWriter, r *http.Request) error {
	if err := onlyParams(r.URL.Query()); err != nil {
		return err
	}
	ev, err := s.reg.GetEvaluation(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, ev)
}

func (s *Server) leaderboard(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	size, err := pageParams(q, "version", "metric", "role", "status", "offset")
	if err != nil {
		return err
	}
	offset := 0
	if v := q.Get("offset"); v != "" {
		if offset, err = strconv.Atoi(v); err != nil || offset < 0 {
			return errs.E(errs.Malformed, "offset %q is not a whole number, 0 or more", v)
		}
	}
	board, err := s.reg.Leaderboard(r.Context(), registry.LeaderboardQuery{Benchmark: r.PathValue("name"), Version: q.Get("version"),
		Metric: q.Get("metric"), Role: api.Role(q.Get("role")), Status: api.Status(q.Get("status")), Offset: offset, PageSize: size})
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, board)
}

func (s *Server) compare(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	if err := onlyParams(q, "a", "b"); err != nil {
		return err
	}
	if q.Get("a") == "" || q.Get("b") == "" {
		return errs.E(errs.Malformed, "name the two models: ?a=provider/model&b=provider/model")
	}
	c, err := s.reg.Compare(r.Context(), q.Get("a"), q.Get("b"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, c)
}
