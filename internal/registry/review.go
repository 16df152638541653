package registry

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/hivellm/modelgov/api"
	"github.com/hivellm/modelgov/internal/editdistance"
	"github.com/hivellm/modelgov/internal/errs"
	"github.com/hivellm/modelgov/internal/store"
)

// maxSimilar is the most near-duplicates a review names.
const maxSimilar = 8

// flagNearDuplicate holds a new model for a governor's review when its
// metadata is nearly identical to an existing model's: the same provider
// and family, equal parameter count and context window (known or not), and
// a similar name. Registering many copies of one model under new names is
// the cheapest way to fake several voters; the default policy keeps a
// flagged model from approval and from the general role until a governor
// clears it. It returns the reason recorded with the creation, "" when the
// model resembles none.
func (s *Service) flagNearDuplicate(ctx context.Context, tx store.Reader, m *api.Model, now time.Time) (string, error) {
	if paramCount(m) == 0 || m.ContextWindow == 0 {
		return "", nil // unknown figures match nothing
	}
	var similar []string
	q := store.ModelQuery{Provider: m.Provider, Family: m.Family, ParameterCount: paramCount(m), ContextWindow: m.ContextWindow, Limit: 1000}
	for {
		page, err := tx.ListModelDocs(ctx, q)
		if err != nil {
			return "", err
		}
		for _, d := range page {
			// Only the few fields compared are decoded.
			var o api.Model
			if err := json.Unmarshal(d.JSON, (*sketch)(&o)); err != nil {
				return "", fmt.Errorf("registry: stored model %s: %w", d.ModelID, err)
			}
			if len(similar) < maxSimilar && o.ModelID != m.ModelID && nearDuplicate(m, &o) {
				similar = append(similar, o.ModelID)
			}
		}
		if len(page) < q.Limit || len(similar) == maxSimilar {
			break
		}
		q.After = page[len(page)-1].ModelID
	}
	if len(similar) == 0 {
		return "", nil
	}
	reason := fmt.Sprintf("nearly identical to %s: same provider and family, equal parameter count and context window, and a similar name",
		strings.Join(similar, ", "))
	if m.Governance == nil {
		m.Governance = &api.Governance{Role: api.RoleNone}
	}
	m.Governance.Review = &api.Review{Status: api.ReviewPending, Reason: reason, SimilarTo: similar, FlaggedAt: now}
	s.log.Info("model held for review as a near-duplicate", "model", m.ModelID, "similar_to", similar)
	return "held for a governor's review: " + reason, nil
}

// sketch decodes the fields of a model that nearDuplicate compares.
type sketch api.Model

func (k *sketch) UnmarshalJSON(b []byte) error {
	var v struct {
		ModelID       string    `json:"model_id"`
		Provider      string    `json:"provider"`
		DisplayName   string    `json:"display_name"`
		Family        string    `json:"family"`
		ContextWindow api.Count `json:"context_window"`
		Parameters    *struct {
			Count api.Count `json:"count"`
		} `json:"parameters"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*k = sketch{ModelID: v.ModelID, Provider: v.Provider, DisplayName: v.DisplayName, Family: v.Family, ContextWindow: v.ContextWindow}
	if v.Parameters != nil {
		k.Parameters = &api.Parameters{Count: v.Parameters.Count}
	}
	return nil
}

// nearDuplicate reports whether two models' metadata is nearly identical.
// Only known figures count as equal: two models that both leave out their
// parameter count or context window are not alike for that.
func nearDuplicate(a, b *api.Model) bool {
	if a.Provider != b.Provider || a.Family != b.Family ||
		paramCount(a) == 0 || paramCount(a) != paramCount(b) || a.ContextWindow == 0 || a.ContextWindow != b.ContextWindow {
		return false
	}
	return similarNames(slug(a.ModelID), slug(b.ModelID)) || similarNames(a.DisplayName, b.DisplayName)
}

func paramCount(m *api.Model) api.Count {
	if m.Parameters == nil {
		return 0
	}
	return m.Parameters.Count
}

// slug returns the model part of a model id.
func slug(id string) string {
	_, after, _ := strings.Cut(id, "/")
	return after
}

// similarNames reports whether two names are one edit apart (two for
// names over 12 characters), once case and punctuation are set aside:
// gpt-5 and GPT 5, llama-3-70b and llama3-70b, claude-opus and claude-0pus
// are similar; gpt-5 and gpt-4o are not.
func similarNames(a, b string) bool {
	na, nb := normalizeName(a), normalizeName(b)
	if na == "" || nb == "" {
		return false
	}
	limit := 1
	if max(len(na), len(nb)) > 12 {
		limit = 2
	}
	return editdistance.Levenshtein(na, nb) <= limit
}

func normalizeName(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// ClearReview clears a model's near-duplicate review: a governor found it
// distinct. Only governors and admins may clear reviews.
func (s *Service) ClearReview(ctx context.Context, id string, res api.ReviewResolution, opts WriteOptions) (*Result, error) {
	var fields []api.FieldError
	if res.Status != api.ReviewCleared {
		fields = append(fields, api.FieldError{Pointer: "/status", Message: "must be cleared (to reject a duplicate, delete or archive it)"})
	}
	reason := strings.TrimSpace(res.Reason)
	if f := checkReason(reason); f != nil {
		fields = append(fields, *f)
	}
	if len(fields) > 0 {
		return nil, errs.InvalidFields("invalid review resolution", fields)
	}
	return s.commit(ctx, write{opts: opts, do: func(ctx context.Context, tx store.Tx, now time.Time) (*Result, error) {
		return s.changeModel(ctx, tx, now, opts, id, func(cur *api.Model) (*api.Model, api.Action, string, error) {
			if cur == nil {
				return nil, "", "", errs.E(errs.NotFound, "model %s not found", id)
			}
			if cur.Governance == nil || cur.Governance.Review == nil || cur.Governance.Review.Status != api.ReviewPending {
				return nil, "", "", errs.E(errs.Conflict, "model %s is not held for review", id)
			}
			next := cur.Clone()
			at := now
			r := next.Governance.Review
			r.Status, r.ResolvedAt, r.ResolvedBy, r.Resolution = api.ReviewCleared, &at, actor(opts.Caller), reason
			return next, api.ActionReview, reason, nil
		})
	}})
}
