package httpapi

import (
	"errors"
	"io"
	"net/http"

	"github.com/hivellm/modelgov/api"
	"github.com/hivellm/modelgov/internal/errs"
	"github.com/hivellm/modelgov/internal/registry"
)

func (s *Server) getIdentity(w http.ResponseWriter, r *http.Request) error {
	m, err := s.reg.GetModel(r.Context(), modelID(r))
	if err != nil {
		return err
	}
	if m.Identity == nil {
		return errs.E(errs.NotFound, "model %s has no identity; register one with PUT %s/identity", m.ModelID, modelLocation(m.ModelID))
	}
	w.Header().Set("ETag", etag(m.ResourceVersion))
	return writeJSON(w, http.StatusOK, m.Identity)
}

func (s *Server) registerIdentity(w http.ResponseWriter, r *http.Request) error {
	return writeJSONBody(s, w, r, func(req api.IdentityRegistration, opts registry.WriteOptions) (*registry.Result, error) {
		return s.reg.RegisterIdentity(r.Context(), modelID(r), req, opts)
	})
}

func (s *Server) revokeIdentity(w http.ResponseWriter, r *http.Request) error {
	return s.writeWithReason(w, r, func(reason string, opts registry.WriteOptions) (*registry.Result, error) {
		return s.reg.RevokeIdentity(r.Context(), modelID(r), reason, opts)
	})
}

// challengeIdentity issues a nonce. Its body may be left out: an empty
// request asks to verify the registered key.
func (s *Server) challengeIdentity(w http.ResponseWriter, r *http.Request) error {
	opts, err := s.writeOptions(r)
	if err != nil {
		return err
	}
	var req api.ChallengeRequest
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.maxBody))
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return errs.E(errs.TooLarge, "the request body is over the limit of %d bytes", s.maxBody)
	} else if err != nil {
		return errs.Wrap(errs.Malformed, err, "cannot read the request body")
	}
	if len(body) > 0 {
		if err := unmarshalBody(body, &req); err != nil {
			return err
		}
	}
	ch, err := s.reg.Challenge(r.Context(), modelID(r), req, opts)
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	return writeJSON(w, http.StatusCreated, ch)
}

func (s *Server) verifyIdentity(w http.ResponseWriter, r *http.Request) error {
	return writeJSONBody(s, w, r, func(ans api.ChallengeAnswer, opts registry.WriteOptions) (*registry.Result, error) {
		return s.reg.VerifyIdentity(r.Context(), modelID(r), ans, opts)
	})
}

func (s *Server) endorseIdentity(w http.ResponseWriter, r *http.Request) error {
	return writeJSONBody(s, w, r, func(req api.EndorsementRequest, opts registry.WriteOptions) (*registry.Result, error) {
		return s.reg.Endorse(r.Context(), modelID(r), req, opts)
	})
}

func (s *Server) withdrawEndorsement(w http.ResponseWriter, r *http.Request) error {
	opts, err := s.writeOptions(r)
	if err != nil {
		return err
	}
	endorser := r.PathValue("endorser_provider") + "/" + r.PathValue("endorser_model")
	res, err := s.reg.WithdrawEndorsement(r.Context(), modelID(r), endorser, opts)
	if err != nil {
		return err
	}
	return s.writeResult(w, res)
}

func (s *Server) clearReview(w http.ResponseWriter, r *http.Request) error {
	return writeJSONBody(s, w, r, func(res api.ReviewResolution, opts registry.WriteOptions) (*registry.Result, error) {
		return s.reg.ClearReview(r.Context(), modelID(r), res, opts)
	})
}

// whoami answers the principal the request was authenticated as.
func (s *Server) whoami(w http.ResponseWriter, r *http.Request) error {
	p := principalOf(r.Context())
	if p == nil {
		p = anonymousViewer()
	}
	return writeJSON(w, http.StatusOK, p)
}

func (s *Server) createToken(w http.ResponseWriter, r *http.Request) error {
	opts, err := s.writeOptions(r)
	if err != nil {
		return err
	}
	var req api.TokenRequest
	if err := s.decodeJSON(w, r, &req); err != nil {
		return s.bodyError(w, r, err)
	}
	t, err := s.reg.CreateToken(r.Context(), req, opts)
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Location", "/v1/tokens/"+t.ID)
	return writeJSON(w, http.StatusCreated, t)
}

func (s *Server) listTokens(w http.ResponseWriter, r *http.Request) error {
	list, err := s.reg.ListTokens(r.Context(), callerOf(r))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, list)
}

func (s *Server) revokeToken(w http.ResponseWriter, r *http.Request) error {
	opts, err := s.writeOptions(r)
	if err != nil {
		return err
	}
	t, err := s.reg.RevokeToken(r.Context(), r.PathValue("id"), opts)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, t)
}
