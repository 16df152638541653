package importer

// HiveLLM: the HiveLLM ecosystem's roster (cmmv-hive/generals.yml), its
// checklist (gov/guidelines/MODELS_CHECKLIST.md) and its evaluation records
// (gov/metrics/model_evaluations.json, gov/metrics/models/*.json), turned
// into one record per real model.
//
// # Reconciliation
//
// The files spell one model many ways ("GPT-5", "OpenAI GPT-5 General",
// "Claude-4-Sonnet", "Anthropic Claude-4 Sonnet"). Every spelling is reduced
// to a key, provider/name, which is also the record's model_id:
//
//   - The provider is the file's provider through an alias table ("Meta AI",
//     "Meta via Groq" → meta; "Qwen", "Alibaba via Groq" → alibaba;
//     "Mistral AI" → mistral; "Moonshot AI" → moonshotai). A provider that
//     names no vendor ("community", "Code", "O4") is taken from the model's
//     name instead (StarCoder → bigcode, CodeLlama → meta, o1/o4 → openai).
//     "via Groq" is kept in the annotation hivellm.io/served-via.
//   - The name is lowercased and cut into words at every character that is
//     not a letter or digit, "+" being the word "plus"; a run of three or
//     more letters followed by digits is cut there ("Qwen2.5" → qwen 2 5,
//     "StarCoder2" → starcoder 2; "o1", "k2", "r1", "a22b" stay whole).
//     A leading provider name is dropped ("OpenAI GPT-5" → gpt 5; "xai-grok-3-mini"
//     → grok 3 mini), except where the vendor's models carry its name
//     (DeepSeek, Mistral, Qwen).
//   - The words "instruct", "latest", "versatile" and "instant" are dropped:
//     they name the instruction-tuned checkpoint every file means (no file
//     names a base checkpoint), a provider's alias for its newest snapshot,
//     or Groq's serving names of the same weights. A trailing "general" is
//     dropped: in model_evaluations.json's "OpenAI GPT-5 General" it names
//     the role the session tested for, not a variant. Every other word is
//     kept, so variants stay apart: GPT-5 Fast is not GPT-5, Grok-3 Beta is
//     not Grok-3, Claude 4 Opus is not Claude 4.1 Opus, Mistral 7B Instruct
//     v0.2 is not the unversioned Mistral 7B Instruct. Where such a pair
//     exists, a Note says it was kept apart and why, so that a governor can
//     merge them by hand.
//   - Two explicit aliases: "Grok Core Fast-1" is the checklist's typo of
//     "Grok Code Fast 1", and "Claude-3.7" names Anthropic's only Claude 3.7
//     model, Claude 3.7 Sonnet.
//
// Spellings with the same key become one record, and Batch.Notes has one
// line per merge naming every spelling and its place ("openai/gpt-5 ←
// cmmv-hive/generals.yml:agents.generals[0] (GPT-5), ..."). A roster or
// checklist entry that names two models ("Claude 3.5 Sonnet / Opus",
// "Llama 3.1 405B / 70B") is split by an explicit table into the two names
// it means, with a Note; an entry with a "/" that the table does not know
// is split at the "/" as written, also with a Note.
//
// # Roles
//
// The role requested for a record: generals.yml's generals and the
// checklist's Generals sections → general; generals.yml's collaborators,
// the checklist's Collaborators sections and an evaluation status
// "contributor" → specialist; the checklist's Rejected Models and an
// evaluation status "rejected" → experimental; evaluation status "general"
// → general. Where the sources disagree, generals.yml (the roster) wins,
// then MODELS_CHECKLIST.md, then model_evaluations.json, and a Note names
// what the others say. A self-classification of metrics/models/*.json is a
// model's opinion of itself: it is kept as an annotation and requests
// nothing. The role is a request: the registry's policy decides.
//
// # Sizes
//
// No file declares a parameter count as a field; every count comes from a
// name, so it is recorded with parameters.source "estimated" and
// Record.Estimated set, for a governor to confirm: "405B" → 405e9; "235B
// A22B" → 235e9 total and 22e9 active; "8x22B" (a mixture of eight experts
// of 22B, which share layers) → no count, size class from the upper bound
// 176e9. The size class follows the count by the default policy bundle's
// size_ranges. A name with a small-variant marker (mini, lite, low, tiny,
// micro → mini; nano → nano) and no count gets that size class, estimated.
// A name with neither ("GPT-5", "Claude 4 Sonnet") leaves size_class empty
// and a Note asks a governor to set it.
//
// # Founding rule
//
// The policy judges, but the data that shows a violation is carried as
// found: a small variant listed as a general keeps its general request,
// its marker in model_id and display_name and its estimated size class, and
// a Note names it ("openai/gpt-5-mini is listed as a general ... the founding
// rule refuses it"); so does a general whose name gives fewer than 70B
// parameters.

import (
	"bufio"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"sigs.k8s.io/yaml"

	"github.com/hivellm/modelgov/api"
	"github.com/hivellm/modelgov/internal/errs"
	"github.com/hivellm/modelgov/internal/evalingest"
)

// The files a HiveLLM import reads, relative to the directory holding
// cmmv-hive/ and gov/.
const (
	hiveRosterPath      = "cmmv-hive/generals.yml"
	hiveChecklistPath   = "gov/guidelines/MODELS_CHECKLIST.md"
	hiveEvaluationsPath = "gov/metrics/model_evaluations.json"
	hiveModelTestsDir   = "gov/metrics/models"
)

// hiveLabelPrefix prefixes the labels and annotations a HiveLLM import sets.
const hiveLabelPrefix = "hivellm.io/"

// The precedence of the sources for a role request, highest first.
const (
	rankRoster = iota
	rankChecklist
	rankEvaluation
	rankModelTest
)

// hiveProviders maps the providers the files write (lowercased) to provider
// slugs.
var hiveProviders = map[string]string{
	"openai": "openai", "anthropic": "anthropic", "google": "google",
	"meta": "meta", "meta ai": "meta",
	"alibaba": "alibaba", "qwen": "alibaba",
	"mistral": "mistral", "mistral ai": "mistral",
	"xai": "xai", "deepseek": "deepseek", "cohere": "cohere",
	"microsoft": "microsoft", "bigcode": "bigcode", "ai2": "ai2",
	"moonshot ai": "moonshotai", "moonshotai": "moonshotai",
}

// hiveNameProviders gives the provider of a model whose file names no vendor
// ("community", "Code", "O4"), by the first word of its name.
var hiveNameProviders = []struct {
	pattern  *regexp.Regexp
	provider string
}{
	{regexp.MustCompile(`^starcoder`), "bigcode"},
	{regexp.MustCompile(`^codellama`), "meta"},
	{regexp.MustCompile(`^o[0-9]$`), "openai"},
}

// hiveProviderWords are the leading words dropped from a name of the
// provider's model ("OpenAI GPT-5"); vendors whose model names carry their
// own name (DeepSeek-V3, Mistral Large, Qwen3) are absent.
var hiveProviderWords = map[string][][]string{
	"openai":    {{"openai"}},
	"anthropic": {{"anthropic"}},
	"google":    {{"google"}},
	"xai":       {{"xai"}},
	"meta":      {{"meta", "ai"}, {"meta"}},
	"cohere":    {{"cohere"}},
}

// hiveDroppedWords do not tell models apart (see the package doc).
var hiveDroppedWords = map[string]bool{"instruct": true, "latest": true, "versatile": true, "instant": true}

// hiveAliases map a key to the key of the model it names.
var hiveAliases = map[string]struct{ to, why string }{
	"xai/grok-core-fast-1": {"xai/grok-code-fast-1", `"Grok Core Fast-1" is a typo of "Grok Code Fast 1"`},
	"anthropic/claude-3-7": {"anthropic/claude-3-7-sonnet", "Claude 3.7 Sonnet is Anthropic's only Claude 3.7 model"},
}

// hiveSplits are the roster and checklist entries that name two models, and
// the names they mean.
var hiveSplits = map[string][]string{
	"Claude 3.5 Sonnet / Opus":            {"Claude 3.5 Sonnet", "Claude 3.5 Opus"},
	"Llama 3.1 405B / 70B":                {"Llama 3.1 405B", "Llama 3.1 70B"},
	"Mistral Large 2 / Mixtral 8x22B":     {"Mistral Large 2", "Mixtral 8x22B"},
	"GPT-4o / GPT-4.1":                    {"GPT-4o", "GPT-4.1"},
	"Gemini 2.0 Flash / 1.5 Flash":        {"Gemini 2.0 Flash", "Gemini 1.5 Flash"},
	"Llama 3 8B / 11B Instruct":           {"Llama 3 8B Instruct", "Llama 3 11B Instruct"},
	"Mistral 7B Instruct / Codestral-22B": {"Mistral 7B Instruct", "Codestral-22B"},
	"Qwen2.5 7B / 14B Instruct":           {"Qwen2.5 7B Instruct", "Qwen2.5 14B Instruct"},
	"Phi-3-mini / Phi-3.5":                {"Phi-3-mini", "Phi-3.5"},
	"StarCoder2-15B / CodeLlama-13B":      {"StarCoder2-15B", "CodeLlama-13B"},
	"DeepSeek-Coder 6.7B / 33B":           {"DeepSeek-Coder 6.7B", "DeepSeek-Coder 33B"},
}

// hiveKeptApart are pairs of models whose names are close but which are
// different models; when both are in the batch a Note says why they were
// not merged.
var hiveKeptApart = []struct{ a, b, why string }{
	{"openai/gpt-5", "openai/gpt-5-fast", `"General" names the role the session tested for, "Fast" a variant run with other settings and rejected on its own`},
	{"xai/grok-3", "xai/grok-3-beta", "the checklist does not say which Grok-3 release it means"},
	{"xai/grok-3-beta", "xai/grok-beta", "Grok Beta is xAI's earlier model, not Grok 3"},
	{"anthropic/claude-4-opus", "anthropic/claude-4-1-opus", "Claude 4 Opus and Claude 4.1 Opus are different releases"},
	{"anthropic/claude-3-opus", "anthropic/claude-3-5-opus", "Claude 3 Opus and Claude 3.5 Opus are different releases"},
	{"google/gemini-2-0", "google/gemini-2-0-flash", `"Gemini 2.0" names a family that has several models`},
	{"deepseek/deepseek-coder", "deepseek/deepseek-coder-33b", `"DeepSeek-Coder" names no size: it may be any of the family's models`},
	{"mistral/mistral-7b", "mistral/mistral-7b-v0-2", "v0.2 pins a release the unversioned name does not"},
	{"deepseek/deepseek-r1-0528", "deepseek/deepseek-r1-0528-qwen-3-8b", "the Qwen3 8B distillation is a different model"},
	{"meta/llama-3-1-8b", "meta/llama-3-8b", "Llama 3.1 8B and Llama 3 8B are different releases"},
}

// hiveSizeRanges are the default policy bundle's size_ranges
// (internal/policy/default.yaml): the lower bound of each class.
var hiveSizeRanges = []struct {
	class api.SizeClass
	from  float64
}{
	{api.SizeXXL, 1e12}, {api.SizeXL, 300e9}, {api.SizeLarge, 70e9},
	{api.SizeMedium, 15e9}, {api.SizeSmall, 4e9}, {api.SizeMini, 1e9}, {api.SizeNano, 0},
}

var (
	// hiveSmallVariant is the default bundle's small_variant_pattern.
	hiveSmallVariant = regexp.MustCompile(`(?i)(?:^|[^a-z0-9])(mini|nano|low|lite|tiny|micro)(?:[^a-z0-9]|$)`)
	hiveCount        = regexp.MustCompile(`(?i)(?:^|[^a-z0-9.])(\d+(?:\.\d+)?)b(?:[^a-z0-9]|$)`)
	hiveActive       = regexp.MustCompile(`(?i)(?:^|[^a-z0-9])a(\d+(?:\.\d+)?)b(?:[^a-z0-9]|$)`)
	hiveExperts      = regexp.MustCompile(`(?i)(?:^|[^a-z0-9])(\d+)x(\d+(?:\.\d+)?)b(?:[^a-z0-9]|$)`)
	hiveLettersDigit = regexp.MustCompile(`^([a-z]{3,})([0-9].*)$`)
	hiveChecklistRow = regexp.MustCompile(`^\s*[-*]\s+\[([ xX])\]\s+(.+?)\s+\(([^()]+)\)\s*(?:[—–-]+\s*(.*))?$`)
	hiveLabelValue   = regexp.MustCompile(`^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$`)
)

// hiveSighting is one place where a file names a model.
type hiveSighting struct {
	file, place string // "cmmv-hive/generals.yml", "agents.generals[2]"
	spelling    string // the model's name as written (a split part for a split entry)
	provider    string // the provider as written
	rank        int
	role        api.Role // requested; "" for none
	roleFrom    string   // what the file says: "generals", "contributor", ...
	group       string   // hivellm.io/group label value
	family      string
	aliased     bool // read through hiveAliases: its spelling is not the model's name
	annotations map[string]string
	labels      map[string]string
}

func (s hiveSighting) where() string { return s.file + ":" + s.place }

// hiveModel is a model and every place that names it.
type hiveModel struct {
	id, provider string
	sightings    []hiveSighting
	notes        []string
}

type hiveImport struct {
	root   string
	batch  *Batch
	models map[string]*hiveModel
	order  []string
}

// HiveLLM reads the HiveLLM ecosystem's model metadata under root, the
// directory holding cmmv-hive/ and gov/ (root may also be gov/ itself, with
// cmmv-hive/ beside it): the roster cmmv-hive/generals.yml, the checklist
// gov/guidelines/MODELS_CHECKLIST.md and the evaluation records
// gov/metrics/model_evaluations.json and gov/metrics/models/*.json. It
// returns one Record per model, the spellings of a model in different files
// reconciled as the package doc says, with Batch.Notes saying what was
// found, every merge and split, and what a governor must check; and the
// evaluation results linked to the records' model ids. A missing file is a
// Note; an error (of kind errs.NotFound) is returned only when none is
// found, and one of kind errs.Malformed when a file is not its format.
func HiveLLM(root string) (*Batch, error) {
	h := &hiveImport{batch: &Batch{Format: FormatHiveLLM}, models: map[string]*hiveModel{}}
	h.root = hiveRoot(root)
	found, missing := []string{}, []string{}
	present := func(rel string) bool {
		_, err := os.Stat(filepath.Join(h.root, filepath.FromSlash(rel)))
		if err == nil {
			found = append(found, rel)
			return true
		}
		missing = append(missing, rel)
		return false
	}
	hasRoster, hasChecklist, hasEvals := present(hiveRosterPath), present(hiveChecklistPath), present(hiveEvaluationsPath)
	if !hasRoster && !hasChecklist && !hasEvals {
		return nil, errs.E(errs.NotFound, "import hivellm %s: none of %s, %s, %s found", root, hiveRosterPath, hiveChecklistPath, hiveEvaluationsPath)
	}
	if tests, err := filepath.Glob(filepath.Join(h.root, filepath.FromSlash(hiveModelTestsDir), "*.json")); err == nil && len(tests) > 0 {
		found = append(found, fmt.Sprintf("%s/*.json (%d files)", hiveModelTestsDir, len(tests)))
	} else {
		missing = append(missing, hiveModelTestsDir+"/*.json")
	}
	h.notef("read %s: found %s; missing %s", h.root, strings.Join(found, ", "), hiveFirstNonEmpty(strings.Join(missing, ", "), "none"))

	if hasRoster {
		if err := h.roster(); err != nil {
			return nil, err
		}
	}
	if hasChecklist {
		if err := h.checklist(); err != nil {
			return nil, err
		}
	}
	var evals *evalingest.Batch
	if hasEvals {
		var err error
		if evals, err = evalingest.HiveLLM(filepath.Join(h.root, "gov")); err != nil {
			return nil, fmt.Errorf("import hivellm: %w", err)
		}
		h.evaluations(evals)
	}
	h.finish(evals)
	return h.batch, nil
}

// hiveRoot returns the directory holding cmmv-hive/ and gov/: root itself,
// or root's parent when root is gov/.
func hiveRoot(root string) string {
	if _, err := os.Stat(filepath.Join(root, "gov")); err == nil {
		return root
	}
	if _, err := os.Stat(filepath.Join(root, "metrics", "model_evaluations.json")); err == nil && filepath.Base(filepath.Clean(root)) == "gov" {
		return filepath.Dir(filepath.Clean(root))
	}
	return root
}

func (h *hiveImport) notef(format string, args ...any) {
	h.batch.Notes = append(h.batch.Notes, fmt.Sprintf(format, args...))
}

// hiveRosterFile is cmmv-hive/generals.yml.
type hiveRosterFile struct {
	Defaults hiveAgent `json:"defaults"`
	Agents   struct {
		Generals      []hiveAgent `json:"generals"`
		Collaborators []hiveAgent `json:"collaborators"`
	} `json:"agents"`
}

type hiveAgent struct {
	ID          string   `json:"id"`
	Name        string   `json:"name"`
	Provider    string   `json:"provider"`
	Group       string   `json:"group"`
	Role        string   `json:"role"`
	Weight      *float64 `json:"weight"`
	Locale      string   `json:"locale"`
	Enabled     *bool    `json:"enabled"`
	Contributed *bool    `json:"contributed"`
}

func (h *hiveImport) roster() error {
	data, err := os.ReadFile(filepath.Join(h.root, filepath.FromSlash(hiveRosterPath)))
	if err != nil {
		return fmt.Errorf("import hivellm: read %s: %w", hiveRosterPath, err)
	}
	var r hiveRosterFile
	if err := yaml.Unmarshal(data, &r); err != nil {
		return errs.Wrap(errs.Malformed, err, "import hivellm: read "+hiveRosterPath)
	}
	for _, g := range []struct {
		name   string
		agents []hiveAgent
		role   api.Role
	}{{"generals", r.Agents.Generals, api.RoleGeneral}, {"collaborators", r.Agents.Collaborators, api.RoleSpecialist}} {
		for i, a := range g.agents {
			place := fmt.Sprintf("agents.%s[%d]", g.name, i)
			if a.Group != "" && a.Group != g.name {
				h.notef("%s:%s (%s) says group %q but is listed under %s; the list wins", hiveRosterPath, place, a.Name, a.Group, g.name)
			}
			ann := map[string]string{"roster-id": a.ID, "roster-name": a.Name}
			if b := hiveFirstBool(a.Enabled, r.Defaults.Enabled); b != nil {
				ann["enabled"] = strconv.FormatBool(*b)
			}
			if a.Contributed != nil {
				ann["contributed"] = strconv.FormatBool(*a.Contributed)
			}
			if w := hiveFirstFloat(a.Weight, r.Defaults.Weight); w != nil {
				ann["weight"] = strconv.FormatFloat(*w, 'f', -1, 64)
			}
			if l := hiveFirstNonEmpty(a.Locale, r.Defaults.Locale); l != "" {
				ann["locale"] = l
			}
			labels := map[string]string{}
			if a.Role != "" {
				labels["specialization"] = a.Role
			}
			base := hiveSighting{
				file: hiveRosterPath, place: place, provider: a.Provider, rank: rankRoster,
				role: g.role, roleFrom: g.name, group: g.name, annotations: ann, labels: labels,
			}
			h.addEntry(base, a.Name)
		}
	}
	return nil
}

// addEntry adds the sightings of an entry that may name two models.
func (h *hiveImport) addEntry(base hiveSighting, name string) {
	parts, split := hiveSplits[name]
	if !split && strings.Contains(name, "/") {
		for _, p := range strings.Split(name, "/") {
			if p = strings.TrimSpace(p); p != "" {
				parts = append(parts, p)
			}
		}
		split = len(parts) > 1
	}
	if !split {
		base.spelling = name
		h.add(base)
		return
	}
	var ids []string
	for _, p := range parts {
		s := base
		s.spelling = p
		s.annotations = hiveCopy(base.annotations)
		s.annotations["split-from"] = name
		s.labels = hiveCopy(base.labels)
		ids = append(ids, fmt.Sprintf("%s (%s)", h.add(s), p))
	}
	how := "by the table of known two-model entries"
	if _, known := hiveSplits[name]; !known {
		how = "at the \"/\" as written (not in the table of known two-model entries: check the names)"
	}
	h.notef("%s (%q) names %d models: split %s into %s", base.where(), name, len(parts), how, strings.Join(ids, " and "))
}

// add files a sighting under its model's key and returns the model id.
func (h *hiveImport) add(s hiveSighting) string {
	provider, name, via := hiveKey(s.provider, s.spelling)
	if via != "" {
		s.annotations = hiveCopy(s.annotations)
		s.annotations["served-via"] = via
	}
	id := provider + "/" + name
	if a, ok := hiveAliases[id]; ok {
		h.notef("%s (%q) is read as %s: %s", s.where(), s.spelling, a.to, a.why)
		id = a.to
		provider = strings.SplitN(id, "/", 2)[0]
		s.aliased = true
	}
	m := h.models[id]
	if m == nil {
		m = &hiveModel{id: id, provider: provider}
		h.models[id] = m
		h.order = append(h.order, id)
	}
	m.sightings = append(m.sightings, s)
	return id
}

// hiveKey reduces a provider and a name as written to a provider slug and a
// name slug, and says through whom the model is served ("groq"), if the
// provider says so.
func hiveKey(provider, name string) (string, string, string) {
	p := strings.ToLower(strings.TrimSpace(provider))
	via := ""
	if i := strings.Index(p, " via "); i >= 0 {
		via = hiveSlug(strings.Fields(p[i+len(" via "):]))
		p = strings.TrimSpace(p[:i])
	}
	words := hiveWords(name)
	slug, known := hiveProviders[p]
	if !known {
		slug = hiveSlug(hiveWords(p))
		for _, np := range hiveNameProviders {
			if len(words) > 0 && np.pattern.MatchString(words[0]) {
				slug = np.provider
				break
			}
		}
	}
	if slug == "" {
		slug = "unknown"
	}
	for _, prefix := range hiveProviderWords[slug] {
		if len(words) > len(prefix) && slices.Equal(words[:len(prefix)], prefix) {
			words = words[len(prefix):]
			break
		}
	}
	kept := words[:0:0]
	for i, w := range words {
		if hiveDroppedWords[w] || (w == "general" && i == len(words)-1 && i > 0) {
			continue
		}
		kept = append(kept, w)
	}
	return slug, hiveSlug(kept), via
}

// hiveWords cuts a name into lowercase words (see the package doc).
func hiveWords(name string) []string {
	name = strings.ReplaceAll(strings.ToLower(name), "+", " plus ")
	var words []string
	for _, w := range strings.FieldsFunc(name, func(r rune) bool {
		return (r < 'a' || r > 'z') && (r < '0' || r > '9')
	}) {
		if m := hiveLettersDigit.FindStringSubmatch(w); m != nil {
			words = append(words, m[1], m[2])
			continue
		}
		words = append(words, w)
	}
	return words
}

func hiveSlug(words []string) string { return strings.Join(words, "-") }

func (h *hiveImport) checklist() error {
	f, err := os.Open(filepath.Join(h.root, filepath.FromSlash(hiveChecklistPath)))
	if err != nil {
		return fmt.Errorf("import hivellm: read %s: %w", hiveChecklistPath, err)
	}
	defer f.Close()
	section, group, role := "", "", api.Role("")
	sc := bufio.NewScanner(f)
	for line := 1; sc.Scan(); line++ {
		text := sc.Text()
		if strings.HasPrefix(text, "#") {
			section = hiveHeading(text)
			group, role = hiveChecklistGroup(section)
			continue
		}
		trimmed := strings.TrimSpace(text)
		if group == "" || !(strings.HasPrefix(trimmed, "- [") || strings.HasPrefix(trimmed, "* [")) {
			continue
		}
		m := hiveChecklistRow.FindStringSubmatch(text)
		if m == nil {
			h.notef("%s:%d: a checklist item without a \"(Provider)\" is not read: %q", hiveChecklistPath, line, trimmed)
			continue
		}
		status := "pending"
		if m[1] != " " {
			status = "contributed"
		}
		ann := map[string]string{"checklist-section": section, "checklist-status": status}
		if d := strings.TrimSpace(m[4]); d != "" {
			ann["checklist-note"] = d
		}
		h.addEntry(hiveSighting{
			file: hiveChecklistPath, place: strconv.Itoa(line), provider: m[3], rank: rankChecklist,
			role: role, roleFrom: section, group: group, annotations: ann, labels: map[string]string{},
		}, strings.TrimSpace(m[2]))
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("import hivellm: read %s: %w", hiveChecklistPath, err)
	}
	return nil
}

// hiveHeading is a markdown heading without its marks and emoji.
func hiveHeading(line string) string {
	line = strings.TrimLeft(line, "# ")
	return strings.TrimSpace(strings.TrimLeftFunc(line, func(r rune) bool {
		return r > 0x7f || r == ' '
	}))
}

// hiveChecklistGroup maps a checklist section to a roster group and a role.
func hiveChecklistGroup(section string) (string, api.Role) {
	s := strings.ToLower(section)
	switch {
	case strings.Contains(s, "rejected"):
		return "rejected", api.RoleExperimental
	case strings.Contains(s, "collaborator"):
		return "collaborators", api.RoleSpecialist
	case strings.Contains(s, "general"):
		return "generals", api.RoleGeneral
	}
	return "", ""
}

// evaluations adds a sighting per evaluation record and per test result.
func (h *hiveImport) evaluations(b *evalingest.Batch) {
	for _, r := range b.Results {
		if r.Model == "" {
			continue
		}
		set := r.Request.Settings
		str := func(k string) string { s, _ := set[k].(string); return s }
		s := hiveSighting{spelling: r.Model, provider: str("provider"), family: str("modelFamily"),
			annotations: map[string]string{}, labels: map[string]string{}}
		if strings.HasPrefix(r.Where, "models/") {
			s.file, s.place, s.rank = "gov/metrics/"+r.Where, "", rankModelTest
			base := strings.TrimSuffix(strings.TrimPrefix(r.Where, "models/"), ".json")
			if p, n, _ := hiveKey(s.provider, base); p != "" {
				if q, m, _ := hiveKey(s.provider, r.Model); n != m {
					h.notef("%s is named %q inside: it is filed under %s/%s, not under its file name %q", s.file, r.Model, q, m, base)
				}
			}
			if c := str("selfClassification"); c != "" {
				s.annotations["self-classification"] = c
			}
		} else {
			s.file, s.place, s.rank = hiveEvaluationsPath, r.Where, rankEvaluation
			status := str("status")
			s.roleFrom = status
			s.role = map[string]api.Role{"general": api.RoleGeneral, "contributor": api.RoleSpecialist, "rejected": api.RoleExperimental}[status]
			if status != "" {
				s.labels["evaluation-status"] = status
				s.annotations["evaluation-status"] = status
			}
			if v := str("modelVariant"); v != "" {
				s.annotations["evaluation-variant"] = v
			}
		}
		h.add(s)
	}
}

func (s hiveSighting) label() string {
	if s.place == "" {
		return fmt.Sprintf("%s (%s)", s.file, s.spelling)
	}
	return fmt.Sprintf("%s (%s)", s.where(), s.spelling)
}

// finish builds the records, the notes and the linked results.
func (h *hiveImport) finish(evals *evalingest.Batch) {
	ids := slices.Clone(h.order)
	slices.Sort(ids)
	for _, id := range ids {
		m := h.models[id]
		if len(m.sightings) > 1 {
			var from []string
			for _, s := range m.sightings {
				from = append(from, s.label())
			}
			h.notef("%s ← %s", id, strings.Join(from, ", "))
		}
	}
	for _, k := range hiveKeptApart {
		if h.models[k.a] != nil && h.models[k.b] != nil {
			h.notef("%s and %s are kept apart: %s; a governor may merge them", k.a, k.b, k.why)
		}
	}
	for _, id := range ids {
		h.batch.Records = append(h.batch.Records, h.record(h.models[id]))
	}
	if evals == nil {
		return
	}
	for _, p := range evals.Problems {
		if p.Where == "" || p.Where == "models" {
			h.notef("%s: %s", hiveEvaluationsPath, p.String())
		}
	}
	for _, r := range evals.Results {
		id := hiveResultID(r)
		if !evals.Importable(r) {
			var why []string
			for _, p := range evals.ProblemsOf(r) {
				if p.Severity == evalingest.SeverityError {
					why = append(why, p.Message)
				}
			}
			h.notef("the result %s (%s) is not linked: %s", r.Where, hiveFirstNonEmpty(id, "no model"), strings.Join(why, "; "))
			continue
		}
		h.batch.Results = append(h.batch.Results, LinkedResult{ModelID: id, Result: r})
	}
	// The problems of an evaluation record go with the model it names.
	byID := map[string]*Record{}
	for i := range h.batch.Records {
		byID[h.batch.Records[i].Doc.ModelID] = &h.batch.Records[i]
	}
	for _, r := range evals.Results {
		if rec := byID[hiveResultID(r)]; rec != nil {
			for _, p := range evals.ProblemsOf(r) {
				rec.Notes = append(rec.Notes, "gov/metrics: "+p.String())
			}
		}
	}
}

// hiveResultID is the model id of the model an evaluation result names, or
// "" when it names none.
func hiveResultID(r evalingest.Result) string {
	if r.Model == "" {
		return ""
	}
	provider, _ := r.Request.Settings["provider"].(string)
	p, n, _ := hiveKey(provider, r.Model)
	id := p + "/" + n
	if a, ok := hiveAliases[id]; ok {
		id = a.to
	}
	return id
}

// record builds the record of a model from its sightings.
func (h *hiveImport) record(m *hiveModel) Record {
	first := m.sightings[0]
	// The display name is the spelling of the most authoritative source
	// that names the model as it is (not through an alias).
	best := first
	for _, s := range m.sightings {
		if (best.aliased && !s.aliased) || (s.aliased == best.aliased && s.rank < best.rank) {
			best = s
		}
	}
	doc := &api.Model{
		SchemaVersion: api.SchemaVersion, ModelID: m.id, Provider: m.provider,
		DisplayName: best.spelling, Labels: map[string]string{}, Annotations: map[string]string{},
	}
	rec := Record{Source: first.where(), Key: first.spelling, Doc: doc}
	if first.place == "" {
		rec.Source = first.file
	}
	for _, s := range m.sightings {
		src := s.file
		if s.place != "" {
			src = s.where()
		}
		if !slices.Contains(doc.SourceFiles, src) {
			doc.SourceFiles = append(doc.SourceFiles, src)
		}
		if doc.Family == "" && s.family != "" {
			doc.Family = s.family
		}
		for k, v := range s.annotations {
			hiveAnnotate(doc.Annotations, hiveLabelPrefix+k, v)
		}
		for k, v := range s.labels {
			if _, set := doc.Labels[hiveLabelPrefix+k]; !set && hiveLabelValue.MatchString(v) && len(v) <= 63 {
				doc.Labels[hiveLabelPrefix+k] = v
			}
		}
	}
	if group := h.role(m, &rec); group != "" {
		doc.Labels[hiveLabelPrefix+"group"] = group
	}
	h.size(m, &rec)
	h.foundingRule(m, &rec)
	rec.Notes = append(rec.Notes, m.notes...)
	if len(doc.Labels) == 0 {
		doc.Labels = nil
	}
	if len(doc.Annotations) == 0 {
		doc.Annotations = nil
	}
	return rec
}

// hiveAnnotate sets an annotation, joining the different values that
// several files give.
func hiveAnnotate(ann map[string]string, key, value string) {
	old, ok := ann[key]
	switch {
	case !ok:
		ann[key] = value
	case !slices.Contains(strings.Split(old, "; "), value):
		ann[key] = old + "; " + value
	}
}

// role sets the role requested: that of the highest-ranked source that
// gives one, with a Note when others disagree. It returns the roster group
// of that source.
func (h *hiveImport) role(m *hiveModel, rec *Record) string {
	var winner *hiveSighting
	for i, s := range m.sightings {
		if s.role != "" && (winner == nil || s.rank < winner.rank) {
			winner = &m.sightings[i]
		}
	}
	if winner == nil {
		return ""
	}
	rec.Role = winner.role
	var others []string
	for _, s := range m.sightings {
		if s.role != "" && s.role != winner.role {
			others = append(others, fmt.Sprintf("%s says %s (%s)", s.where(), s.roleFrom, s.role))
		}
	}
	if len(others) > 0 {
		n := fmt.Sprintf("%s: role %s requested, from %s (%s); but %s; %s wins", m.id, winner.role, winner.where(), winner.roleFrom,
			strings.Join(others, ", "), hiveSourceName(winner.rank))
		m.notes = append(m.notes, n)
		h.notef("%s", n)
	}
	return winner.group
}

func hiveSourceName(rank int) string {
	switch rank {
	case rankRoster:
		return "the roster (generals.yml)"
	case rankChecklist:
		return "the checklist (MODELS_CHECKLIST.md) over the evaluation"
	}
	return "the evaluation"
}

// size sets size_class and parameters from what the names say.
func (h *hiveImport) size(m *hiveModel, rec *Record) {
	doc := rec.Doc
	for _, s := range m.sightings {
		name := s.spelling
		if mm := hiveCount.FindStringSubmatch(name); mm != nil {
			count := hiveBillions(mm[1])
			doc.Parameters = &api.Parameters{Count: api.Count(count), Source: api.ParametersEstimated}
			if a := hiveActive.FindStringSubmatch(name); a != nil {
				doc.Parameters.Active = api.Count(hiveBillions(a[1]))
			}
			doc.SizeClass = hiveSizeClass(float64(count))
			rec.Estimated = true
			how := fmt.Sprintf("%s parameters", hiveFormatCount(count))
			if doc.Parameters.Active != 0 {
				how += fmt.Sprintf(", %s active", hiveFormatCount(int64(doc.Parameters.Active)))
			}
			h.sizeNote(m, rec, fmt.Sprintf("%q (%s)", name, how), s)
			return
		}
		if mm := hiveExperts.FindStringSubmatch(name); mm != nil {
			n, _ := strconv.Atoi(mm[1])
			bound := float64(n) * float64(hiveBillions(mm[2]))
			doc.SizeClass = hiveSizeClass(bound)
			rec.Estimated = true
			h.sizeNote(m, rec, fmt.Sprintf("%q (%s experts of %sB share layers: at most %s parameters; no count is recorded)", name, mm[1], mm[2], hiveFormatCount(int64(bound))), s)
			return
		}
	}
	for _, s := range m.sightings {
		if mm := hiveSmallVariant.FindStringSubmatch(s.spelling); mm != nil {
			doc.SizeClass = api.SizeMini
			if strings.EqualFold(mm[1], "nano") {
				doc.SizeClass = api.SizeNano
			}
			rec.Estimated = true
			h.sizeNote(m, rec, fmt.Sprintf("%q (the small-variant marker %q)", s.spelling, mm[1]), s)
			return
		}
	}
	n := fmt.Sprintf("%s: no file gives a parameter count or a size marker; size_class is left empty and a governor must set it", m.id)
	m.notes = append(m.notes, n)
	h.notef("%s", n)
}

func (h *hiveImport) sizeNote(m *hiveModel, rec *Record, from string, s hiveSighting) {
	rec.Doc.Annotations[hiveLabelPrefix+"size-estimated-from"] = s.spelling
	m.notes = append(m.notes, fmt.Sprintf("%s: size_class %s estimated from the name %s at %s; a governor must confirm it",
		m.id, rec.Doc.SizeClass, from, s.label()))
}

// foundingRule notes a general request the founding rule refuses.
func (h *hiveImport) foundingRule(m *hiveModel, rec *Record) {
	if rec.Role != api.RoleGeneral {
		return
	}
	var listed []string
	for _, s := range m.sightings {
		if s.role == api.RoleGeneral {
			listed = append(listed, s.label())
		}
	}
	doc := rec.Doc
	var n string
	switch mm := hiveSmallVariant.FindStringSubmatch(doc.ModelID + " " + doc.DisplayName); {
	case mm != nil:
		n = fmt.Sprintf("%s is listed as a general (%s) but is a %s variant: the founding rule refuses it", m.id, strings.Join(listed, ", "), strings.ToLower(mm[1]))
	case doc.SizeClass != "" && !slices.Contains([]api.SizeClass{api.SizeLarge, api.SizeXL, api.SizeXXL}, doc.SizeClass):
		n = fmt.Sprintf("%s is listed as a general (%s) but its name makes it %s: the founding rule (large, 70B+) refuses it", m.id, strings.Join(listed, ", "), doc.SizeClass)
	default:
		return
	}
	m.notes = append(m.notes, n)
	h.notef("%s", n)
}

func hiveSizeClass(count float64) api.SizeClass {
	for _, r := range hiveSizeRanges {
		if count >= r.from {
			return r.class
		}
	}
	return api.SizeNano
}

func hiveBillions(s string) int64 {
	f, _ := strconv.ParseFloat(s, 64)
	return int64(math.Round(f * 1e9))
}

func hiveFormatCount(n int64) string {
	return strconv.FormatFloat(float64(n)/1e9, 'f', -1, 64) + "B"
}

func hiveCopy(m map[string]string) map[string]string {
	out := make(map[string]string, len(m)+1)
	for k, v := range m {
		out[k] = v
	}
	return out
}

func hiveFirstBool(vs ...*bool) *bool {
	for _, v := range vs {
		if v != nil {
			return v
		}
	}
	return nil
}

func hiveFirstFloat(vs ...*float64) *float64 {
	for _, v := range vs {
		if v != nil {
			return v
		}
	}
	return nil
}

func hiveFirstNonEmpty(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}
