package schema

import (
	"slices"
	"strings"

	"github.com/hivellm/modelgov/api"
)

// Annotations that keep what a 1.0 document said and 1.1 has no field for.
const (
	AnnotationP035ModelID   = "modelgov.dev/p035-model-id"
	AnnotationP035CreatedAt = "modelgov.dev/p035-created-at"
	AnnotationP035UpdatedAt = "modelgov.dev/p035-updated-at"
)

// ModelV10 is a model document in proposal 035's schema version 1.0.
type ModelV10 struct {
	SchemaVersion string        `json:"schema_version"`
	ModelID       string        `json:"model_id"`
	Provider      string        `json:"provider"`
	DisplayName   string        `json:"display_name"`
	Role          api.Role      `json:"role"`
	SizeClass     api.SizeClass `json:"size_class"`
	Capabilities  []string      `json:"capabilities"`
	Status        api.Status    `json:"status"`
	EvalRefs      []string      `json:"eval_refs,omitempty"`
	SourceFiles   []string      `json:"source_files"`
	Notes         string        `json:"notes,omitempty"`
	CreatedAt     string        `json:"created_at"`
	UpdatedAt     string        `json:"updated_at,omitempty"`
}

// Upgrade10 converts a 1.0 document to schema version 1.1. It does not
// validate either document; Decode validates both.
//
// The provider becomes a slug ("Meta AI" → "meta-ai"). The model ID is
// lowercased and, when it has no "/", becomes "provider/rest", where rest is
// the slugified ID without a leading "provider-" ("openai-gpt-5-general" by
// "openai" → "openai/gpt-5-general"); a changed ID is kept in the annotation
// AnnotationP035ModelID. Capabilities are lowercased with spaces turned to
// "-" and repeats dropped. The timestamps go to annotations, since the
// server owns created_at and updated_at in 1.1. Role and status are returned
// as RequestedRole and RequestedStatus, not put in the server-owned blocks:
// only classification and lifecycle transitions set those.
func Upgrade10(old *ModelV10) *Decoded {
	provider := slugify(old.Provider, false)
	m := &api.Model{
		SchemaVersion: api.SchemaVersion,
		ModelID:       upgradeModelID(old.ModelID, provider),
		Provider:      provider,
		DisplayName:   old.DisplayName,
		SizeClass:     old.SizeClass,
		EvalRefs:      nilIfEmpty(slices.Clone(old.EvalRefs)),
		SourceFiles:   nilIfEmpty(slices.Clone(old.SourceFiles)),
		Notes:         old.Notes,
	}
	for _, c := range old.Capabilities {
		c = strings.Join(strings.Fields(strings.ToLower(c)), "-")
		if !slices.Contains(m.Capabilities, c) {
			m.Capabilities = append(m.Capabilities, c)
		}
	}
	annotate := func(key, value string) {
		if value == "" {
			return
		}
		if m.Annotations == nil {
			m.Annotations = map[string]string{}
		}
		m.Annotations[key] = value
	}
	if m.ModelID != old.ModelID {
		annotate(AnnotationP035ModelID, old.ModelID)
	}
	annotate(AnnotationP035CreatedAt, old.CreatedAt)
	annotate(AnnotationP035UpdatedAt, old.UpdatedAt)
	return &Decoded{
		Model:           m,
		SourceVersion:   api.LegacySchemaVersion,
		RequestedRole:   old.Role,
		RequestedStatus: old.Status,
	}
}

// upgradeModelID turns a 1.0 model ID into a 1.1 one, given the provider slug.
func upgradeModelID(id, provider string) string {
	id = strings.ToLower(id)
	if strings.Contains(id, "/") {
		return id
	}
	return provider + "/" + strings.TrimPrefix(slugify(id, true), provider+"-")
}

// slugify lowercases s, turns spaces, underscores, slashes and (unless
// keepDots) dots into "-", drops other characters than a-z and 0-9, and
// trims the result so that it starts and ends with a letter or digit.
func slugify(s string, keepDots bool) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		switch {
		case r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '.' && keepDots:
			b.WriteRune(r)
		case r == '-' || r == ' ' || r == '_' || r == '.' || r == '/' || r == '\t':
			// Collapse runs of separators, which the upgraded ID would otherwise keep.
			if out := b.String(); out != "" && !strings.HasSuffix(out, "-") {
				b.WriteByte('-')
			}
		}
	}
	return strings.Trim(b.String(), "-.")
}

// modelV10From reads a document that matches schema 1.0. It reads the
// generic form rather than the JSON text, because encoding/json matches keys
// case-insensitively and 1.0 admits unknown keys, such as "Model_ID".
func modelV10From(doc map[string]any) *ModelV10 {
	str := func(key string) string {
		s, _ := doc[key].(string)
		return s
	}
	strs := func(key string) []string {
		list, _ := doc[key].([]any)
		var out []string
		for _, item := range list {
			s, _ := item.(string)
			out = append(out, s)
		}
		return out
	}
	return &ModelV10{
		SchemaVersion: str("schema_version"),
		ModelID:       str("model_id"),
		Provider:      str("provider"),
		DisplayName:   str("display_name"),
		Role:          api.Role(str("role")),
		SizeClass:     api.SizeClass(str("size_class")),
		Capabilities:  strs("capabilities"),
		Status:        api.Status(str("status")),
		EvalRefs:      strs("eval_refs"),
		SourceFiles:   strs("source_files"),
		Notes:         str("notes"),
		CreatedAt:     str("created_at"),
		UpdatedAt:     str("updated_at"),
	}
}
