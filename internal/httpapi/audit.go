package httpapi

import (
	"net/http"
	"strconv"
	"time"

	"github.com/hivellm/modelgov/internal/errs"
	"github.com/hivellm/modelgov/internal/registry"
)

func (s *Server) auditEntries(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	size, err := pageParams(q, "model", "actor", "action", "outcome", "since", "until", "from")
	if err != nil {
		return err
	}
	var from int64
	if v := q.Get("from"); v != "" {
		if from, err = int64Param(r, v, "from"); err != nil {
			return err
		}
	}
	since, err := timeParam(q.Get("since"), "since")
	if err != nil {
		return err
	}
	until, err := timeParam(q.Get("until"), "until")
	if err != nil {
		return err
	}
	list, err := s.reg.AuditEntries(r.Context(), registry.AuditQuery{Model: q.Get("model"), Actor: q.Get("actor"),
		Action: q.Get("action"), Outcome: q.Get("outcome"), Since: since, Until: until, From: from, PageSize: size, PageToken: q.Get("page_token")})
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, list)
}

func timeParam(v, name string) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return time.Time{}, errs.E(errs.Malformed, "%s %q is not an RFC 3339 time", name, v)
	}
	return t, nil
}

func int64Param(r *http.Request, v, name string) (int64, error) {
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return 0, errs.E(errs.Malformed, "%s %q is not a whole number", name, v)
	}
	return n, nil
}

func (s *Server) auditEntry(w http.ResponseWriter, r *http.Request) error {
	seq, err := int64Param(r, r.PathValue("seq"), "seq")
	if err != nil {
		return err
	}
	e, err := s.reg.AuditEntry(r.Context(), seq)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, e)
}

func (s *Server) auditCheckpoint(w http.ResponseWriter, r *http.Request) error {
	msg, err := s.reg.AuditCheckpoint(r.Context())
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, err = w.Write(msg)
	return err
}

func (s *Server) auditKey(w http.ResponseWriter, r *http.Request) error {
	key, err := s.reg.AuditKey()
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, err = w.Write([]byte(key + "\n"))
	return err
}

func (s *Server) inclusionProof(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	if err := onlyParams(q, "index", "size"); err != nil {
		return err
	}
	index, err := int64Param(r, q.Get("index"), "index")
	if err != nil {
		return err
	}
	size, err := int64Param(r, q.Get("size"), "size")
	if err != nil {
		return err
	}
	p, err := s.reg.InclusionProof(r.Context(), index, size)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, p)
}

func (s *Server) consistencyProof(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	if err := onlyParams(q, "old", "new"); err != nil {
		return err
	}
	old, err := int64Param(r, q.Get("old"), "old")
	if err != nil {
		return err
	}
	size, err := int64Param(r, q.Get("new"), "new")
	if err != nil {
		return err
	}
	p, err := s.reg.ConsistencyProof(r.Context(), old, size)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, p)
}
