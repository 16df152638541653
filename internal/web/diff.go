package web

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/hivellm/modelgov/api"
	"github.com/hivellm/modelgov/internal/errs"
)

// Kinds of change between two documents.
const (
	changeAdded   = "added"
	changeRemoved = "removed"
	changeChanged = "changed"
)

// docChange is one difference between two JSON documents, at a JSON pointer
// (RFC 6901): a value added, removed, or changed.
type docChange struct {
	Pointer string
	Kind    string
	// Old and New are the values as compact JSON, "" where there is none.
	Old, New string
}

// maxShownValue bounds the characters of a value a diff shows.
const maxShownValue = 400

// diffDocs returns the differences from document a to document b, both
// decoded JSON (maps, slices, strings, float64s, bools, nil), in the order
// of their pointers: object members by name, array elements by index. An
// array is compared element by element; a value whose type changes is one
// change.
func diffDocs(a, b any) []docChange {
	var out []docChange
	diffAt("", a, b, &out)
	return out
}

// diffAt appends to out the differences from a to b, found at pointer ptr.
func diffAt(ptr string, a, b any, out *[]docChange) {
	switch a := a.(type) {
	case map[string]any:
		if b, ok := b.(map[string]any); ok {
			keys := make([]string, 0, len(a)+len(b))
			for k := range a {
				keys = append(keys, k)
			}
			for k := range b {
				if _, ok := a[k]; !ok {
					keys = append(keys, k)
				}
			}
			slices.Sort(keys)
			for _, k := range keys {
				va, inA := a[k]
				vb, inB := b[k]
				p := ptr + "/" + pointerToken(k)
				switch {
				case !inA:
					*out = append(*out, docChange{Pointer: p, Kind: changeAdded, New: shownJSON(vb)})
				case !inB:
					*out = append(*out, docChange{Pointer: p, Kind: changeRemoved, Old: shownJSON(va)})
				default:
					diffAt(p, va, vb, out)
				}
			}
			return
		}
	case []any:
		if b, ok := b.([]any); ok {
			for i := range max(len(a), len(b)) {
				p := ptr + "/" + strconv.Itoa(i)
				switch {
				case i >= len(a):
					*out = append(*out, docChange{Pointer: p, Kind: changeAdded, New: shownJSON(b[i])})
				case i >= len(b):
					*out = append(*out, docChange{Pointer: p, Kind: changeRemoved, Old: shownJSON(a[i])})
				default:
					diffAt(p, a[i], b[i], out)
				}
			}
			return
		}
	}
	if fullJSON(a) != fullJSON(b) {
		*out = append(*out, docChange{Pointer: ptr, Kind: changeChanged, Old: shownJSON(a), New: shownJSON(b)})
	}
}

// pointerToken escapes a member name for a JSON pointer.
func pointerToken(name string) string {
	return strings.ReplaceAll(strings.ReplaceAll(name, "~", "~0"), "/", "~1")
}

// fullJSON is v as compact JSON.
func fullJSON(v any) string {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // the template escapes
	if err := enc.Encode(v); err != nil {
		return fmt.Sprintf("%v", v)
	}
	return strings.TrimSuffix(buf.String(), "\n")
}

// shownJSON is v as compact JSON, cut to maxShownValue characters.
func shownJSON(v any) string {
	return truncated(fullJSON(v), maxShownValue)
}

// revisionDoc decodes a revision's document, nil for a deletion.
func revisionDoc(r *api.Revision) (any, error) {
	if r.Model == nil {
		return nil, nil
	}
	raw, err := json.Marshal(r.Model)
	if err != nil {
		return nil, fmt.Errorf("web: encode revision %d of %s: %w", r.Revision, r.ModelID, err)
	}
	var doc any
	if err := json.Unmarshal(raw, &doc); err != nil {
		return nil, fmt.Errorf("web: decode revision %d of %s: %w", r.Revision, r.ModelID, err)
	}
	return doc, nil
}

// revisionDiffData is the revision diff page's.
type revisionDiffData struct {
	ModelID  string
	From, To *api.Revision
	Changes  []docChange
	// Choices are the revisions the form offers, newest first.
	Choices []int64
}

// shownRevisions bounds the revisions the diff form offers.
const shownRevisions = 100

// parseRevision reads a revision number from a query parameter.
func parseRevision(name, value string) (int64, error) {
	n, err := strconv.ParseInt(strings.TrimSpace(value), 10, 64)
	if err != nil || n <= 0 {
		return 0, errs.E(errs.Malformed, "%s must be a revision number (a whole number from 1), not %q", name, truncated(value, 32))
	}
	return n, nil
}

// revisionDiff shows what changed from one revision of a model to another:
// GET /models/{provider}/{model}/diff?from=N&to=M. Without from and to it
// compares the latest revision with the one before.
func (s *server) revisionDiff(w http.ResponseWriter, r *http.Request, v *viewer) error {
	ctx, id := r.Context(), r.PathValue("provider")+"/"+r.PathValue("model")
	qs := r.URL.Query()
	for k := range qs {
		if k != "from" && k != "to" {
			return errs.E(errs.Malformed, "the diff takes the parameters from and to, not %q", truncated(k, 32))
		}
	}
	revs, err := s.reg.ListRevisions(ctx, id, shownRevisions, "")
	if err != nil {
		return err
	}
	d := revisionDiffData{ModelID: id}
	for _, rev := range revs.Items {
		d.Choices = append(d.Choices, rev.Revision)
	}
	var from, to int64
	if qs.Get("from") == "" && qs.Get("to") == "" {
		to = d.Choices[0]
		from = max(to-1, 1)
	} else {
		if from, err = parseRevision("from", qs.Get("from")); err != nil {
			return err
		}
		if to, err = parseRevision("to", qs.Get("to")); err != nil {
			return err
		}
	}
	if d.From, err = s.reg.GetRevision(ctx, id, from); err != nil {
		return err
	}
	if d.To, err = s.reg.GetRevision(ctx, id, to); err != nil {
		return err
	}
	a, err := revisionDoc(d.From)
	if err != nil {
		return err
	}
	b, err := revisionDoc(d.To)
	if err != nil {
		return err
	}
	d.Changes = diffDocs(a, b)
	for _, n := range []int64{from, to} {
		if !slices.Contains(d.Choices, n) {
			d.Choices = append(d.Choices, n)
		}
	}
	slices.SortFunc(d.Choices, func(x, y int64) int { return cmp.Compare(y, x) })
	title := fmt.Sprintf("Changes of %s from revision %d to %d", id, from, to)
	s.render(w, r, http.StatusOK, "diff.html", page{Title: title, Viewer: v, Data: d})
	return nil
}

// truncated shortens what a user (or a document) sent to at most n bytes,
// cut at a rune's start, before a page or an error message repeats it.
func truncated(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

// Pair is the two revisions, from then to.
func (d revisionDiffData) Pair() []*api.Revision { return []*api.Revision{d.From, d.To} }
