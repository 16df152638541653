package evalingest

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/hivellm/modelgov/api"
	"github.com/hivellm/modelgov/internal/errs"
)

// The formats a Batch comes from.
const (
	FormatLMEval     = "lm-eval-harness"
	FormatModelIndex = "hf-model-index"
	FormatHiveLLM    = "hivellm"
)

// The severities of a Problem.
const (
	// SeverityError marks a record that cannot be imported as it stands: it
	// is kept in the Batch so that the caller can report it.
	SeverityError = "error"
	// SeverityWarning marks an oddity that the record survives.
	SeverityWarning = "warning"
)

// Limits on what the parsers accept; larger or deeper input is an error
// of kind errs.TooLarge.
const (
	// MaxInputSize is the largest file accepted, in bytes.
	MaxInputSize = 32 << 20
	// MaxDepth is the deepest nesting of objects and arrays accepted.
	MaxDepth = 64
)

// Batch is what one source holds: the results it records, the benchmarks
// they name as the source describes them, and every inconsistency found.
type Batch struct {
	// Format is FormatLMEval, FormatModelIndex or FormatHiveLLM.
	Format string
	// Benchmarks are the benchmarks the results name, one per name and
	// version, sorted by name then version.
	Benchmarks []*api.Benchmark
	// Results are the records, in the order of the source (lm-eval: by task
	// name). A result that a Problem of SeverityError names is kept but is
	// not importable; see Importable.
	Results []Result
	// Problems are every inconsistency or oddity found, in the order found.
	Problems []Problem
}

// Result is one evaluation record of a model.
type Result struct {
	// Model is the model as the source names it; the caller maps it to a
	// registry model (and may override it). Empty when the source names
	// none.
	Model string
	// Request is the result to record.
	Request api.ResultRequest
	// Where is the record's place in the source ("results.hellaswag",
	// "model-index[0].results[2]", "evaluations[3]").
	Where string
}

// Problem is an inconsistency or oddity of the source.
type Problem struct {
	// Where is the place in the source, in the notation of Result.Where;
	// empty for the source as a whole.
	Where string
	// Message says what is wrong, quoting the numbers involved.
	Message string
	// Severity is SeverityError or SeverityWarning.
	Severity string
}

func (p Problem) String() string {
	if p.Where == "" {
		return p.Severity + ": " + p.Message
	}
	return p.Severity + ": " + p.Where + ": " + p.Message
}

// Importable reports whether no Problem of SeverityError names r or a place
// inside it.
func (b *Batch) Importable(r Result) bool {
	for _, p := range b.Problems {
		if p.Severity == SeverityError && within(p.Where, r.Where) {
			return false
		}
	}
	return true
}

// ProblemsOf returns the problems that name r or a place inside it.
func (b *Batch) ProblemsOf(r Result) []Problem {
	var out []Problem
	for _, p := range b.Problems {
		if within(p.Where, r.Where) {
			out = append(out, p)
		}
	}
	return out
}

// within reports whether the place where is at or inside the place of.
func within(where, of string) bool {
	if !strings.HasPrefix(where, of) {
		return false
	}
	rest := where[len(of):]
	return rest == "" || rest[0] == '.' || rest[0] == '[' || rest[0] == ':'
}

func (b *Batch) warnf(where, format string, args ...any) {
	b.Problems = append(b.Problems, Problem{Where: where, Message: fmt.Sprintf(format, args...), Severity: SeverityWarning})
}

func (b *Batch) errorf(where, format string, args ...any) {
	b.Problems = append(b.Problems, Problem{Where: where, Message: fmt.Sprintf(format, args...), Severity: SeverityError})
}

// addBenchmark adds bm to the catalogue unless one of the same name and
// version is there, in which case it merges the metrics the earlier entry
// lacks.
func (b *Batch) addBenchmark(bm *api.Benchmark) {
	for _, have := range b.Benchmarks {
		if have.Name == bm.Name && have.Version == bm.Version {
			for _, m := range bm.Metrics {
				if !slices.ContainsFunc(have.Metrics, func(h api.BenchmarkMetric) bool { return h.Name == m.Name }) {
					have.Metrics = append(have.Metrics, m)
				}
			}
			return
		}
	}
	b.Benchmarks = append(b.Benchmarks, bm)
}

func (b *Batch) sortBenchmarks() {
	slices.SortStableFunc(b.Benchmarks, func(x, y *api.Benchmark) int {
		if c := strings.Compare(x.Name, y.Name); c != 0 {
			return c
		}
		return strings.Compare(x.Version, y.Version)
	})
}

// Detect says which format a single file is: FormatLMEval for a harness
// results file, FormatModelIndex for a model card with YAML front-matter,
// FormatHiveLLM for model_evaluations.json or a metrics/models/*.json test
// result (read those with HiveLLM, which takes their directory).
func Detect(name string, data []byte) (string, error) {
	if len(data) > MaxInputSize {
		return "", errs.E(errs.TooLarge, "detect %s: %d bytes, over the limit of %d", name, len(data), MaxInputSize)
	}
	trimmed := bytes.TrimLeft(data, " \t\r\n\ufeff")
	trimmed = bytes.TrimPrefix(trimmed, []byte("\ufeff"))
	if bytes.HasPrefix(trimmed, []byte("---")) {
		return FormatModelIndex, nil
	}
	if !bytes.HasPrefix(trimmed, []byte("{")) {
		if strings.HasSuffix(strings.ToLower(name), ".md") {
			return "", errs.E(errs.Malformed, "detect %s: a model card without YAML front-matter", name)
		}
		return "", errs.E(errs.Malformed, "detect %s: neither a JSON object nor a document with YAML front-matter", name)
	}
	doc, err := decodeJSON(data)
	if err != nil {
		return "", fmt.Errorf("detect %s: %w", name, err)
	}
	obj, _ := doc.(map[string]any)
	switch {
	case obj["results"] != nil:
		return FormatLMEval, nil
	case obj["evaluations"] != nil, obj["checks"] != nil && (obj["selfClassification"] != nil || obj["fullModel"] != nil || obj["model"] != nil):
		return FormatHiveLLM, nil
	}
	return "", errs.E(errs.Malformed, "detect %s: a JSON object with neither \"results\" (lm-eval-harness) nor \"evaluations\"/\"checks\" (hivellm)", name)
}

// decodeJSON decodes data, numbers as json.Number, after checking its size
// and nesting.
func decodeJSON(data []byte) (any, error) {
	if len(data) > MaxInputSize {
		return nil, errs.E(errs.TooLarge, "%d bytes, over the limit of %d", len(data), MaxInputSize)
	}
	if err := checkDepth(data); err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var doc any
	if err := dec.Decode(&doc); err != nil {
		return nil, errs.Wrap(errs.Malformed, err, "malformed JSON")
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errs.E(errs.Malformed, "malformed JSON: data after the top-level value")
	}
	return doc, nil
}

// checkDepth refuses JSON nested deeper than MaxDepth, before it is decoded.
func checkDepth(data []byte) error {
	depth, inString, escaped := 0, false, false
	for _, c := range data {
		switch {
		case inString:
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
		case c == '"':
			inString = true
		case c == '{' || c == '[':
			depth++
			if depth > MaxDepth {
				return errs.E(errs.TooLarge, "nested deeper than %d levels", MaxDepth)
			}
		case c == '}' || c == ']':
			depth--
		}
	}
	return nil
}

// digest is the artifact digest of a file's bytes.
func digest(data []byte) string {
	sum := sha256.Sum256(data)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// pointer returns the JSON pointer (RFC 6901) of the tokens.
func pointer(tokens ...string) string {
	var b strings.Builder
	for _, t := range tokens {
		b.WriteByte('/')
		b.WriteString(strings.ReplaceAll(strings.ReplaceAll(t, "~", "~0"), "/", "~1"))
	}
	return b.String()
}

var notNameChar = regexp.MustCompile(`[^a-z0-9._/-]+`)

// benchmarkName lowercases s and replaces each run of characters outside
// [a-z0-9._/-] by "-", as api.Benchmark names require.
func benchmarkName(s string) string {
	s = notNameChar.ReplaceAllString(strings.ToLower(strings.TrimSpace(s)), "-")
	return strings.Trim(s, "-")
}

var notSlugChar = regexp.MustCompile(`[^a-z0-9]+`)

// slug lowercases s and joins its runs of letters and digits with "-":
// "Command & Tool Use" is "command-tool-use".
func slug(s string) string {
	return strings.Trim(notSlugChar.ReplaceAllString(strings.ToLower(s), "-"), "-")
}

// Object access over decoded JSON.

func asObject(v any) (map[string]any, bool) {
	m, ok := v.(map[string]any)
	return m, ok
}

func asArray(v any) ([]any, bool) {
	a, ok := v.([]any)
	return a, ok
}

func asString(v any) (string, bool) {
	s, ok := v.(string)
	return s, ok
}

// asNumber returns v as a float64 when it is a JSON number.
func asNumber(v any) (float64, bool) {
	switch n := v.(type) {
	case json.Number:
		f, err := strconv.ParseFloat(string(n), 64)
		return f, err == nil
	case float64:
		return n, true
	}
	return 0, false
}

// scalarText writes a JSON scalar as text: "1.0" stays "1.0" (the number
// as written), true is "true"; ok is false for objects, arrays and null.
func scalarText(v any) (string, bool) {
	switch x := v.(type) {
	case string:
		return x, true
	case json.Number:
		return string(x), true
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64), true
	case bool:
		return strconv.FormatBool(x), true
	}
	return "", false
}

// plain turns json.Number into int64 or float64 throughout v, so that
// Settings hold ordinary Go values.
func plain(v any) any {
	switch x := v.(type) {
	case json.Number:
		if i, err := x.Int64(); err == nil {
			return i
		}
		f, _ := strconv.ParseFloat(string(x), 64)
		return f
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = plain(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = plain(e)
		}
		return out
	}
	return v
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func baseName(name string) string {
	return path.Base(strings.ReplaceAll(name, "\\", "/"))
}

func ptr[T any](v T) *T { return &v }
