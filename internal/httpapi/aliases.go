package httpapi

import (
	"net/http"

	"github.com/hivellm/modelgov/api"
	"github.com/hivellm/modelgov/internal/registry"
)

func aliasName(r *http.Request) string {
	return r.PathValue("namespace") + "/" + r.PathValue("name")
}

func (s *Server) getAlias(w http.ResponseWriter, r *http.Request) error {
	a, err := s.reg.GetAlias(r.Context(), aliasName(r))
	if err != nil {
		return err
	}
	w.Header().Set("ETag", etag(a.ResourceVersion))
	return writeJSON(w, http.StatusOK, a)
}

func (s *Server) moveAlias(w http.ResponseWriter, r *http.Request) error {
	return writeJSONBody(s, w, r, func(mv api.AliasMove, opts registry.WriteOptions) (*registry.Result, error) {
		return s.reg.MoveAlias(r.Context(), aliasName(r), mv, opts)
	})
}

// writeAliasResult answers the result of an alias write: the alias after
// it, with its ETag and Modelgov-Outcome, and 201 with Location when the
// write created the alias. Alias writes are not replayed, so it never
// sends Idempotent-Replayed.
func writeAliasResult(w http.ResponseWriter, res *registry.Result) error {
	w.Header().Set("Modelgov-Outcome", string(res.Outcome))
	w.Header().Set("ETag", etag(res.Alias.ResourceVersion))
	status := http.StatusOK
	if res.Outcome == registry.Created {
		status = http.StatusCreated
		w.Header().Set("Location", "/v1/aliases/"+res.Alias.Name)
	}
	return writeJSON(w, status, res.Alias)
}

func (s *Server) deleteAlias(w http.ResponseWriter, r *http.Request) error {
	opts, err := s.writeOptions(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	if err := onlyParams(q, "reason"); err != nil {
		return err
	}
	if _, err := s.reg.DeleteAlias(r.Context(), aliasName(r), q.Get("reason"), opts); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) listAliases(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	size, err := pageParams(q, "target")
	if err != nil {
		return err
	}
	list, err := s.reg.ListAliases(r.Context(), q.Get("target"), size, q.Get("page_token"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, list)
}

func (s *Server) aliasHistory(w http.ResponseWriter, r *http.Request) error {
	h, err := s.reg.AliasHistory(r.Context(), aliasName(r))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, h)
}
