package httpapi

import (
	"net/http"
	"strconv"

	"github.com/hivellm/modelgov/api"
	"github.com/hivellm/modelgov/internal/errs"
)

func (s *Server) createWebhook(w http.ResponseWriter, r *http.Request) error {
	if err := onlyParams(r.URL.Query()); err != nil {
		return err
	}
	opts, err := s.writeOptions(r)
	if err != nil {
		return err
	}
	var req api.WebhookRequest
	if err := s.decodeJSON(w, r, &req); err != nil {
		return s.bodyError(w, r, err)
	}
	hook, err := s.reg.CreateWebhook(r.Context(), req, opts)
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store") // the answer holds the secret
	w.Header().Set("Location", "/v1/webhooks/"+hook.ID)
	return writeJSON(w, http.StatusCreated, hook)
}

func (s *Server) listWebhooks(w http.ResponseWriter, r *http.Request) error {
	if err := onlyParams(r.URL.Query()); err != nil {
		return err
	}
	list, err := s.reg.ListWebhooks(r.Context(), callerOf(r))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, list)
}

func (s *Server) getWebhook(w http.ResponseWriter, r *http.Request) error {
	if err := onlyParams(r.URL.Query()); err != nil {
		return err
	}
	hook, err := s.reg.GetWebhook(r.Context(), callerOf(r), r.PathValue("id"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, hook)
}

func (s *Server) deleteWebhook(w http.ResponseWriter, r *http.Request) error {
	if err := onlyParams(r.URL.Query()); err != nil {
		return err
	}
	opts, err := s.writeOptions(r)
	if err != nil {
		return err
	}
	hook, err := s.reg.DeleteWebhook(r.Context(), r.PathValue("id"), opts)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, hook)
}

func (s *Server) enableWebhook(w http.ResponseWriter, r *http.Request) error {
	if err := onlyParams(r.URL.Query()); err != nil {
		return err
	}
	opts, err := s.writeOptions(r)
	if err != nil {
		return err
	}
	hook, err := s.reg.EnableWebhook(r.Context(), r.PathValue("id"), opts)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, hook)
}

func (s *Server) disableWebhook(w http.ResponseWriter, r *http.Request) error {
	opts, err := s.writeOptions(r)
	if err != nil {
		return err
	}
	if err := onlyParams(r.URL.Query(), "reason"); err != nil {
		return err
	}
	hook, err := s.reg.DisableWebhook(r.Context(), r.PathValue("id"), r.URL.Query().Get("reason"), opts)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, hook)
}

func (s *Server) listDeliveries(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	if err := onlyParams(q, "before", "page_size"); err != nil {
		return err
	}
	var before int64
	if v := q.Get("before"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 1 {
			return errs.E(errs.Malformed, "before %q is not a delivery id (a positive whole number)", v)
		}
		before = n
	}
	size, err := intParam(q, "page_size")
	if err != nil {
		return err
	}
	list, err := s.reg.ListDeliveries(r.Context(), callerOf(r), r.PathValue("id"), before, size)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, list)
}

// redeliver sends a logged delivery's event again, now, and answers the
// new attempt (200 whatever the endpoint answered: the attempt says).
func (s *Server) redeliver(w http.ResponseWriter, r *http.Request) error {
	if err := onlyParams(r.URL.Query()); err != nil {
		return err
	}
	id, err := strconv.ParseInt(r.PathValue("delivery"), 10, 64)
	if err != nil || id < 1 {
		return errs.E(errs.NotFound, "no delivery %q of webhook %s", r.PathValue("delivery"), r.PathValue("id"))
	}
	red, err := s.reg.PrepareRedelivery(r.Context(), callerOf(r), r.PathValue("id"), id)
	if err != nil {
		return err
	}
	if s.webhooks == nil {
		return errs.E(errs.Unavailable, "this server does not deliver webhooks")
	}
	d, err := s.webhooks.Redeliver(r.Context(), red.Webhook, red.Event, red.Original, red.By)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, d)
}
