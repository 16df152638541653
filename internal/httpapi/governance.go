package httpapi

import (
	"net/http"
	"strconv"

	"github.com/hivellm/modelgov/api"
	"github.com/hivellm/modelgov/internal/errs"
	"github.com/hivellm/modelgov/internal/registry"
)

func (s *Server) classifyModel(w http.ResponseWriter, r *http.Request) error {
	return writeJSONBody(s, w, r, func(c api.Classification, opts registry.WriteOptions) (*registry.Result, error) {
		return s.reg.Classify(r.Context(), modelID(r), c, opts)
	})
}

func (s *Server) grantExemption(w http.ResponseWriter, r *http.Request) error {
	return writeJSONBody(s, w, r, func(req api.ExemptionRequest, opts registry.WriteOptions) (*registry.Result, error) {
		return s.reg.GrantExemption(r.Context(), modelID(r), req, opts)
	})
}

func (s *Server) revokeExemption(w http.ResponseWriter, r *http.Request) error {
	return s.writeWithReason(w, r, func(reason string, opts registry.WriteOptions) (*registry.Result, error) {
		return s.reg.RevokeExemption(r.Context(), modelID(r), r.PathValue("id"), reason, opts)
	})
}

// writeWithReason serves a write without a body whose one query parameter
// is reason: it reads the write options, refuses other parameters, makes
// the write with the reason and answers its result with writeResult, as
// writeBody does.
func (s *Server) writeWithReason(w http.ResponseWriter, r *http.Request,
	write func(reason string, opts registry.WriteOptions) (*registry.Result, error)) error {
	opts, err := s.writeOptions(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	if err := onlyParams(q, "reason"); err != nil {
		return err
	}
	res, err := write(q.Get("reason"), opts)
	if err != nil {
		return err
	}
	return s.writeResult(w, res)
}

func (s *Server) uploadPolicy(w http.ResponseWriter, r *http.Request) error {
	opts, err := s.writeOptions(r)
	if err != nil {
		return err
	}
	body, err := s.readBody(w, r, documentTypes...)
	if err != nil {
		return s.bodyError(w, r, err)
	}
	p, err := s.reg.UploadPolicy(r.Context(), body, opts)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/v1/policies/"+strconv.FormatInt(p.Version, 10))
	return writeJSON(w, http.StatusCreated, p)
}

func policyVersion(r *http.Request) (int64, error) {
	v, err := strconv.ParseInt(r.PathValue("version"), 10, 64)
	if err != nil || v <= 0 {
		return 0, errs.E(errs.Malformed, "policy version %q is not a positive whole number", r.PathValue("version"))
	}
	return v, nil
}

func (s *Server) listPolicies(w http.ResponseWriter, r *http.Request) error {
	list, err := s.reg.ListPolicies(r.Context())
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, list)
}

func (s *Server) activePolicy(w http.ResponseWriter, r *http.Request) error {
	p, err := s.reg.ActivePolicy(r.Context())
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, p)
}

func (s *Server) getPolicy(w http.ResponseWriter, r *http.Request) error {
	v, err := policyVersion(r)
	if err != nil {
		return err
	}
	p, err := s.reg.GetPolicy(r.Context(), v)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, p)
}

func (s *Server) activatePolicy(w http.ResponseWriter, r *http.Request) error {
	opts, err := s.writeOptions(r)
	if err != nil {
		return err
	}
	v, err := policyVersion(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	if err := onlyParams(q, "dry_run"); err != nil {
		return err
	}
	dry, err := boolParam(q.Get("dry_run"), "dry_run")
	if err != nil {
		return err
	}
	a, err := s.reg.ActivatePolicy(r.Context(), v, dry, opts)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, a)
}

func boolParam(v, name string) (bool, error) {
	if v == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, errs.E(errs.Malformed, "%s %q is not true or false", name, v)
	}
	return b, nil
}

func (s *Server) evaluatePolicy(w http.ResponseWriter, r *http.Request) error {
	var req api.EvaluationRequest
	if err := s.decodeJSON(w, r, &req); err != nil {
		return s.bodyError(w, r, err)
	}
	d, err := s.reg.Evaluate(r.Context(), req, callerOf(r))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, d)
}

func (s *Server) reportCandidate(w http.ResponseWriter, r *http.Request) error {
	body, err := s.readBody(w, r, documentTypes...)
	if err != nil {
		return s.bodyError(w, r, err)
	}
	report, err := s.reg.ReportCandidate(r.Context(), body)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, report)
}

func (s *Server) compliance(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	size, err := pageParams(q)
	if err != nil {
		return err
	}
	report, err := s.reg.Compliance(r.Context(), size, q.Get("page_token"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, report)
}
