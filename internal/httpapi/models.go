package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/hivellm/modelgov/api"
	"github.com/hivellm/modelgov/internal/errs"
	"github.com/hivellm/modelgov/internal/registry"
)

// Media types a request body may be sent as: a model document (or policy
// bundle), a JSON merge patch, and the small JSON values of other writes.
var (
	documentTypes = []string{"application/json", "application/yaml", "application/x-yaml", "text/yaml"}
	patchTypes    = []string{"application/merge-patch+json", "application/json"}
	jsonTypes     = []string{"application/json"}
)

// readBody reads a request body of one of the accepted media types (an
// absent Content-Type is taken as the first), at most s.maxBody bytes.
func (s *Server) readBody(w http.ResponseWriter, r *http.Request, accepted ...string) ([]byte, error) {
	return s.readBodyUpTo(w, r, s.maxBody, accepted...)
}

// readBodyUpTo is readBody with a limit of its own, for the routes that
// take more than a document (imports).
func (s *Server) readBodyUpTo(w http.ResponseWriter, r *http.Request, limit int64, accepted ...string) ([]byte, error) {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		ok := err == nil
		if ok {
			ok = false
			for _, a := range accepted {
				ok = ok || mt == a
			}
		}
		if !ok {
			return nil, &mediaTypeError{got: ct, accepted: accepted}
		}
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return nil, errs.E(errs.TooLarge, "the request body is over the limit of %d bytes", limit)
	}
	if err != nil {
		return nil, errs.Wrap(errs.Malformed, err, "cannot read the request body")
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, errs.E(errs.Malformed, "the request body is empty")
	}
	return body, nil
}

type mediaTypeError struct {
	got      string
	accepted []string
}

func (e *mediaTypeError) Error() string {
	return fmt.Sprintf("Content-Type %q is not accepted here; send one of %s", e.got, strings.Join(e.accepted, ", "))
}

// decodeJSON decodes a small JSON request body strictly, as unmarshalBody
// does.
func (s *Server) decodeJSON(w http.ResponseWriter, r *http.Request, v any) error {
	body, err := s.readBody(w, r, jsonTypes...)
	if err != nil {
		return err
	}
	return unmarshalBody(body, v)
}

// unmarshalBody decodes a small JSON request body strictly: unknown fields
// and trailing data are refused.
func unmarshalBody(body []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return errs.Wrap(errs.Malformed, err, "the request body is not valid JSON for this operation")
	}
	if dec.More() {
		return errs.E(errs.Malformed, "the request body has data after its JSON value")
	}
	return nil
}

func (s *Server) writeOptions(r *http.Request) (registry.WriteOptions, error) {
	ifMatch, err := parseIfMatch(r.Header.Get("If-Match"))
	if err != nil {
		return registry.WriteOptions{}, err
	}
	key := r.Header.Get("Idempotency-Key")
	if len(key) > 255 {
		return registry.WriteOptions{}, errs.E(errs.Malformed, "Idempotency-Key is longer than 255 characters")
	}
	return registry.WriteOptions{
		Caller:         callerOf(r),
		RequestID:      requestID(r.Context()),
		IfMatch:        ifMatch,
		IdempotencyKey: key,
	}, nil
}

// parseIfMatch reads an If-Match header: "*" or one strong entity tag.
func parseIfMatch(h string) (string, error) {
	h = strings.TrimSpace(h)
	switch {
	case h == "" || h == "*":
		return h, nil
	case strings.HasPrefix(h, "W/"):
		return "", errs.E(errs.Malformed, "If-Match needs a strong entity tag, such as \"3\", not %s", h)
	case len(h) >= 2 && h[0] == '"' && h[len(h)-1] == '"' && !strings.Contains(h[1:len(h)-1], `"`):
		return h[1 : len(h)-1], nil
	case !strings.ContainsAny(h, `", `):
		return h, nil // a bare resource_version, for convenience
	}
	return "", errs.E(errs.Malformed, "If-Match must be one entity tag, such as \"3\", or *")
}

func etag(rv string) string { return `"` + rv + `"` }

func modelID(r *http.Request) string {
	return r.PathValue("provider") + "/" + r.PathValue("model")
}

// writeModel answers a model with its ETag.
func writeModel(w http.ResponseWriter, status int, m *api.Model) error {
	w.Header().Set("ETag", etag(m.ResourceVersion))
	return writeJSON(w, status, m)
}

func modelLocation(id string) string { return "/v1/models/" + id }

// writeResult answers the result of a write: the alias after an alias
// write (see writeAliasResult), the model after any other, with its ETag,
// Modelgov-Outcome, Idempotent-Replayed when the answer is a replay, and
// 201 with Location when the write created the model.
func (s *Server) writeResult(w http.ResponseWriter, res *registry.Result) error {
	if res.Alias != nil {
		return writeAliasResult(w, res)
	}
	w.Header().Set("Modelgov-Outcome", string(res.Outcome))
	if res.Replayed {
		w.Header().Set("Idempotent-Replayed", "true")
	}
	status := http.StatusOK
	if res.Outcome == registry.Created {
		status = http.StatusCreated
		w.Header().Set("Location", modelLocation(res.Model.ModelID))
	}
	return writeModel(w, status, res.Model)
}

// writeBody serves a write whose request body is sent in one of the
// accepted media types: it reads the write options (If-Match,
// Idempotency-Key), then the body, makes the write with both and answers
// its result with writeResult. An unsupported media type is answered here
// (see bodyError); other errors are returned for writeError to answer.
func (s *Server) writeBody(w http.ResponseWriter, r *http.Request, accepted []string,
	write func(body []byte, opts registry.WriteOptions) (*registry.Result, error)) error {
	opts, err := s.writeOptions(r)
	if err != nil {
		return err
	}
	body, err := s.readBody(w, r, accepted...)
	if err != nil {
		return s.bodyError(w, r, err)
	}
	res, err := write(body, opts)
	if err != nil {
		return err
	}
	return s.writeResult(w, res)
}

// writeJSONBody serves a write whose request body is a small JSON value
// of type T, sent as application/json and decoded strictly (see
// unmarshalBody), as writeBody does.
func writeJSONBody[T any](s *Server, w http.ResponseWriter, r *http.Request,
	write func(v T, opts registry.WriteOptions) (*registry.Result, error)) error {
	return s.writeBody(w, r, jsonTypes, func(body []byte, opts registry.WriteOptions) (*registry.Result, error) {
		var v T
		if err := unmarshalBody(body, &v); err != nil {
			return nil, err
		}
		return write(v, opts)
	})
}

func (s *Server) createModel(w http.ResponseWriter, r *http.Request) error {
	return s.writeBody(w, r, documentTypes, func(body []byte, opts registry.WriteOptions) (*registry.Result, error) {
		return s.reg.CreateModel(r.Context(), body, opts)
	})
}

func (s *Server) applyModel(w http.ResponseWriter, r *http.Request) error {
	return s.writeBody(w, r, documentTypes, func(body []byte, opts registry.WriteOptions) (*registry.Result, error) {
		return s.reg.ApplyModel(r.Context(), body, opts)
	})
}

func (s *Server) replaceModel(w http.ResponseWriter, r *http.Request) error {
	return s.writeBody(w, r, documentTypes, func(body []byte, opts registry.WriteOptions) (*registry.Result, error) {
		return s.reg.ReplaceModel(r.Context(), modelID(r), body, opts)
	})
}

func (s *Server) patchModel(w http.ResponseWriter, r *http.Request) error {
	return s.writeBody(w, r, patchTypes, func(patch []byte, opts registry.WriteOptions) (*registry.Result, error) {
		return s.reg.PatchModel(r.Context(), modelID(r), patch, opts)
	})
}

func (s *Server) deleteModel(w http.ResponseWriter, r *http.Request) error {
	opts, err := s.writeOptions(r)
	if err != nil {
		return err
	}
	if _, err := s.reg.DeleteModel(r.Context(), modelID(r), opts); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) changeLifecycle(w http.ResponseWriter, r *http.Request) error {
	return writeJSONBody(s, w, r, func(ch api.LifecycleChange, opts registry.WriteOptions) (*registry.Result, error) {
		return s.reg.ChangeLifecycle(r.Context(), modelID(r), ch, opts)
	})
}

// bodyError answers an unsupported media type itself (the only HTTP-level
// body error) and hands every other error back.
func (s *Server) bodyError(w http.ResponseWriter, r *http.Request, err error) error {
	var mt *mediaTypeError
	if errors.As(err, &mt) {
		w.Header().Set("Accept", strings.Join(mt.accepted, ", "))
		s.problem(w, r, http.StatusUnsupportedMediaType, mt.Error())
		return nil
	}
	return err
}

// getModel sends the stored document as it is: it is the JSON encoding of
// the model that the write path stored.
func (s *Server) getModel(w http.ResponseWriter, r *http.Request) error {
	d, err := s.reg.GetModelDoc(r.Context(), modelID(r))
	if err != nil {
		return err
	}
	w.Header().Set("ETag", etag(d.ResourceVersion))
	if inm := r.Header.Get("If-None-Match"); inm != "" && (inm == "*" || inm == etag(d.ResourceVersion)) {
		w.WriteHeader(http.StatusNotModified)
		return nil
	}
	w.Header().Set("Content-Type", "application/json")
	_, err = w.Write(append(d.JSON, '\n'))
	return err
}

func (s *Server) listModels(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	size, err := pageParams(q, "provider", "family", "status", "role", "size_class", "capability", "labels", "q", "review",
		"compliance", "sort")
	if err != nil {
		return err
	}
	page, err := s.reg.ListModelDocs(r.Context(), registry.ListQuery{
		Provider: q.Get("provider"), Family: q.Get("family"), Status: q.Get("status"), Role: q.Get("role"),
		SizeClass: q.Get("size_class"), Capability: q.Get("capability"), Labels: q.Get("labels"),
		Text: q.Get("q"), Review: q.Get("review"), Compliance: q.Get("compliance"), Sort: q.Get("sort"),
		PageSize: size, PageToken: q.Get("page_token"),
	})
	if err != nil {
		return err
	}
	// An api.ModelList, written from the stored documents as they are.
	var b bytes.Buffer
	b.WriteString(`{"items":[`)
	for i, d := range page.Items {
		if i > 0 {
			b.WriteByte(',')
		}
		b.Write(d.JSON)
	}
	b.WriteByte(']')
	if page.NextPageToken != "" {
		b.WriteString(`,"next_page_token":`)
		tok, _ := json.Marshal(page.NextPageToken)
		b.Write(tok)
	}
	b.WriteString("}\n")
	w.Header().Set("Content-Type", "application/json")
	_, err = w.Write(b.Bytes())
	return err
}

func (s *Server) listRevisions(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	size, err := pageParams(q)
	if err != nil {
		return err
	}
	list, err := s.reg.ListRevisions(r.Context(), modelID(r), size, q.Get("page_token"))
	if err != nil {
		return err
	}
	if list.Items == nil {
		list.Items = []*api.Revision{}
	}
	return writeJSON(w, http.StatusOK, list)
}

func (s *Server) getRevision(w http.ResponseWriter, r *http.Request) error {
	n, err := registry.ParseRevision(r.PathValue("revision"))
	if err != nil {
		return err
	}
	rev, err := s.reg.GetRevision(r.Context(), modelID(r), n)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, rev)
}

// onlyParams refuses query parameters the operation does not know, so that
// a misspelt filter is an error rather than a silently wider answer.
func onlyParams(q url.Values, known ...string) error {
	for k, v := range q {
		found := false
		for _, name := range known {
			found = found || k == name
		}
		if !found {
			return errs.E(errs.Malformed, "unknown query parameter %q; known: %s", k, strings.Join(known, ", "))
		}
		if len(v) > 1 {
			return errs.E(errs.Malformed, "query parameter %q is given %d times; give it once", k, len(v))
		}
	}
	return nil
}

// pageParams checks the query of a paged list: only the known parameters
// and page_size and page_token, each once; it returns the page size (0 when
// not given).
func pageParams(q url.Values, known ...string) (int, error) {
	if err := onlyParams(q, append(known, "page_size", "page_token")...); err != nil {
		return 0, err
	}
	return intParam(q, "page_size")
}

func intParam(q url.Values, name string) (int, error) {
	v := q.Get(name)
	if v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		return 0, errs.E(errs.Malformed, "%s %q is not a positive whole number", name, v)
	}
	return n, nil
}
