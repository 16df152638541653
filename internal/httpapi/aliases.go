package httpapi

import (
	"net/http"

	"github.com/hivellm/modelgov/api"
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
	opts, err := s.writeOptions(r)
	if err != nil {
		return err
	}
	var mv api.AliasMove
	if err := s.decodeJSON(w, r, &mv); err != nil {
		return s.bodyError(w, r, err)
	}
	res, err := s.reg.MoveAlias(r.Context(), aliasName(r), mv, opts)
	if err != nil {
		return err
	}
	w.Header().Set("Modelgov-Outcome", string(res.Outcome))
	w.Header().Set("ETag", etag(res.Alias.ResourceVersion))
	status := http.StatusOK
	if res.Outcome == "created" {
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
	if err := onlyParams(q, "target", "page_size", "page_token"); err != nil {
		return err
	}
	size, err := intParam(q, "page_size")
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
