package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/hivellm/modelgov/api"
	"github.com/hivellm/modelgov/client"
	"github.com/hivellm/modelgov/internal/evalingest"
	"github.com/hivellm/modelgov/internal/importer"
)

func newImportCommand(cl *clientFlags) *cobra.Command {
	var (
		format, mapping, output string
		dryRun, partial         bool
	)
	cmd := &cobra.Command{
		Use:   "import SOURCE [--format F] [--mapping FILE] [--dry-run] [--partial]",
		Short: "Bring model metadata from files and catalogues into the registry, all or nothing",
		Long: `Turn a source of model metadata into registry models, each through the
write path (schema, policy, audit, events), in one transaction (admins):

  documents   the registry's own documents: a JSON or YAML file, or a folder of them
  csv         a CSV file, with --mapping describing its columns (docs/IMPORT.md)
  mapping     a JSON or YAML source described by --mapping
  litellm     LiteLLM's model_prices_and_context_window.json
  openrouter  an OpenRouter /api/v1/models listing
  hivellm     the HiveLLM ecosystem's directory (cmmv-hive/generals.yml, gov/...):
              one model per real model, names reconciled, roles asked for, and the
              evaluation records linked

The format is detected unless --format names it. --dry-run reports, record
by record, what the import would do (create, update with the fields it
changes, unchanged, or invalid with every reason) and the compliance report
of the result, and changes nothing. Without --partial, one invalid record and
nothing is imported; with it, the valid ones are, and a role the policy
refuses is lowered to the highest it allows and flagged. An applied import is
a batch: "modelgov import rollback BATCH" undoes it.`,
		Example: `  modelgov import ../shared/data/hivellm --dry-run
  modelgov import model_prices_and_context_window.json --partial
  modelgov import models.csv --mapping models.mapping.yaml --dry-run
  modelgov import rollback imp_4f2a9c0d1e3b5a7c`,
		Args: cobra.ExactArgs(1),
		RunE: cl.run(func(cmd *cobra.Command, args []string, c *client.Client) error {
			batch, err := readImport(args[0], format, mapping)
			if err != nil {
				return err
			}
			req := api.ImportRequest{Source: filepath.Base(args[0]), Format: batch.Format, DryRun: dryRun, Partial: partial}
			for _, r := range batch.Records {
				ir := api.ImportRecord{Source: r.Source, Key: r.Key, Role: r.Role, Notes: r.Notes}
				if r.Doc != nil {
					if ir.Document, err = api.Marshal(r.Doc); err != nil {
						return err
					}
				}
				for _, p := range r.Problems {
					ir.Problems = append(ir.Problems, api.FieldError{Pointer: p.Field, Message: p.Message})
				}
				req.Records = append(req.Records, ir)
			}
			stderr := cmd.ErrOrStderr()
			for _, n := range batch.Notes {
				fmt.Fprintln(stderr, "  "+n)
			}
			bar := newProgress(stderr, "importing")
			rep, err := c.Import(cmd.Context(), req, bar.update)
			bar.done()
			if rep != nil {
				if perr := printImport(cmd.OutOrStdout(), output, rep); perr != nil {
					return perr
				}
			}
			if err != nil {
				return err
			}
			if rep.Applied && len(batch.Results) > 0 {
				fi, err := os.Stat(args[0])
				if err != nil {
					return err
				}
				return recordLinked(cmd, c, batch, partial, fi.ModTime())
			}
			return nil
		}),
	}
	f := cmd.Flags()
	f.StringVar(&format, "format", "", "documents, csv, mapping, litellm, openrouter or hivellm (default: detected)")
	f.StringVar(&mapping, "mapping", "", "the mapping file that describes a CSV, JSON or YAML source (docs/IMPORT.md)")
	f.BoolVar(&dryRun, "dry-run", false, "report what the import would do, and change nothing")
	f.BoolVar(&partial, "partial", false, "import the valid records and report the others")
	f.StringVarP(&output, "output", "o", "text", "output format: text, json or yaml")
	cmd.AddCommand(newImportRollbackCommand(cl), newImportListCommand(cl))
	return cmd
}

// readImport reads a source in its format, detected when not given.
func readImport(path, format, mapping string) (*importer.Batch, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	var mapData []byte
	if mapping != "" {
		if mapData, err = os.ReadFile(mapping); err != nil {
			return nil, err
		}
	}
	if format == "" {
		if format, err = detectImport(path, fi, mapData != nil); err != nil {
			return nil, err
		}
	}
	if fi.IsDir() && format != importer.FormatHiveLLM && format != importer.FormatDocuments {
		return nil, fmt.Errorf("%s is a directory: only the hivellm and documents formats read one", path)
	}
	read := func() ([]byte, error) {
		if fi.Size() > 256<<20 {
			return nil, fmt.Errorf("%s is %d bytes, over the 256 MiB an import source may have", path, fi.Size())
		}
		return os.ReadFile(path)
	}
	name := filepath.Base(path)
	switch format {
	case importer.FormatHiveLLM:
		return importer.HiveLLM(path)
	case importer.FormatDocuments:
		return importer.Documents(path)
	}
	data, err := read()
	if err != nil {
		return nil, err
	}
	switch format {
	case importer.FormatLiteLLM:
		return importer.LiteLLM(name, data)
	case importer.FormatOpenRouter:
		return importer.OpenRouter(name, data)
	case importer.FormatCSV, importer.FormatMapping:
		if mapData == nil {
			return nil, fmt.Errorf("a %s source needs --mapping FILE to say what its fields are (docs/IMPORT.md)", format)
		}
		if format == importer.FormatCSV {
			return importer.CSV(name, data, mapData)
		}
		return importer.FromMapping(name, data, mapData)
	}
	return nil, fmt.Errorf("--format %q: use documents, csv, mapping, litellm, openrouter or hivellm", format)
}

// detectImport guesses a source's format from its name and first bytes.
func detectImport(path string, fi os.FileInfo, mapped bool) (string, error) {
	if fi.IsDir() {
		for _, marker := range []string{"cmmv-hive", "gov"} {
			if st, err := os.Stat(filepath.Join(path, marker)); err == nil && st.IsDir() {
				return importer.FormatHiveLLM, nil
			}
		}
		return importer.FormatDocuments, nil
	}
	switch ext := strings.ToLower(filepath.Ext(path)); {
	case ext == ".csv":
		return importer.FormatCSV, nil
	case mapped:
		return importer.FormatMapping, nil
	case ext == ".yaml" || ext == ".yml":
		return importer.FormatDocuments, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	head := make([]byte, 64<<10)
	n, _ := io.ReadFull(f, head)
	head = head[:n]
	switch {
	case bytes.Contains(head, []byte(`"litellm_provider"`)):
		return importer.FormatLiteLLM, nil
	case bytes.Contains(head, []byte(`"context_length"`)) && bytes.Contains(head, []byte(`"data"`)):
		return importer.FormatOpenRouter, nil
	}
	return importer.FormatDocuments, nil
}

// recordLinked records the evaluation results an imported source holds
// (HiveLLM's), now that their models exist.
func recordLinked(cmd *cobra.Command, c *client.Client, batch *importer.Batch, partial bool, modified time.Time) error {
	var results []client.BatchResult
	versions := map[string]bool{}
	undated := 0
	for _, lr := range batch.Results {
		req := lr.Result.Request
		if req.EvaluatedAt.IsZero() {
			// Undated records are dated by the source, and say so.
			req.EvaluatedAt = modified.UTC()
			undated++
		}
		if len(req.Values) == 0 && req.Notes == "" {
			req.Notes = "no scores: the source gives none"
		}
		results = append(results, client.BatchResult{ModelID: lr.ModelID, ResultRequest: req})
		versions[req.BenchmarkVersion] = true
	}
	var benchmarks []*api.Benchmark
	for v := range versions {
		for _, b := range evalingest.HiveLLMCatalogue(v) {
			if b.Version == v {
				benchmarks = append(benchmarks, b)
			}
		}
	}
	list, err := c.RecordEvaluations(cmd.Context(), benchmarks, results)
	if err != nil {
		if partial {
			fmt.Fprintf(cmd.ErrOrStderr(), "the models were imported; their %d evaluation records were not: %v\n", len(results), err)
			return nil
		}
		return fmt.Errorf("the models were imported; their evaluation records were not (record them with modelgov eval ingest): %w", err)
	}
	fmt.Fprintf(cmd.OutOrStdout(), "linked %d evaluation records to the imported models", len(list.Items))
	if undated > 0 {
		fmt.Fprintf(cmd.OutOrStdout(), " (%d undated: dated %s, when the source was last modified)", undated, modified.UTC().Format(time.RFC3339))
	}
	fmt.Fprintln(cmd.OutOrStdout())
	return nil
}

func printImport(w io.Writer, format string, rep *api.ImportReport) error {
	if format != "text" {
		return printStructured(w, format, rep)
	}
	for _, it := range rep.Items {
		name := it.ModelID
		if name == "" {
			name = it.Key
		}
		switch it.Outcome {
		case api.ImportInvalid:
			fmt.Fprintf(w, "invalid    %s (%s)\n", name, it.Source)
			for _, r := range it.Reasons {
				fmt.Fprintf(w, "             %s\n", r)
			}
		case api.ImportUpdate:
			var paths []string
			for _, ch := range it.Changes {
				paths = append(paths, ch.Path)
			}
			fmt.Fprintf(w, "update     %s: %s\n", name, strings.Join(paths, ", "))
		default:
			fmt.Fprintf(w, "%-10s %s\n", it.Outcome, name)
		}
		if it.Flagged != "" {
			fmt.Fprintf(w, "  flagged  %s\n", it.Flagged)
		}
		for _, n := range it.Notes {
			fmt.Fprintf(w, "  note     %s\n", n)
		}
	}
	t := rep.Totals
	fmt.Fprintf(w, "%d to create, %d to update, %d unchanged, %d invalid, %d flagged\n", t.Create, t.Update, t.Unchanged, t.Invalid, t.Flagged)
	// Which rules refused which records: the founding rule's violations
	// stand out from the procedural ones (an identity not yet verified).
	byRule := map[string][]string{}
	for _, it := range rep.Items {
		text := strings.Join(it.Reasons, "\n") + "\n" + it.Flagged
		for _, id := range ruleIDsIn(text) {
			byRule[id] = append(byRule[id], it.ModelID)
		}
	}
	rules := make([]string, 0, len(byRule))
	for id := range byRule {
		rules = append(rules, id)
	}
	sort.Strings(rules)
	for _, id := range rules {
		fmt.Fprintf(w, "  rule %s refused %d: %s\n", id, len(byRule[id]), strings.Join(byRule[id], ", "))
	}
	if c := rep.Compliance; c != nil {
		fmt.Fprintf(w, "compliance of the result (policy version %d): %d models checked, %d out of compliance\n", c.PolicyVersion, c.Checked, len(c.NonCompliant))
		nc := c.NonCompliant
		sort.Slice(nc, func(i, j int) bool { return nc[i].ModelID < nc[j].ModelID })
		for _, m := range nc {
			var rules []string
			for _, r := range m.Failing {
				rules = append(rules, r.ID)
			}
			fmt.Fprintf(w, "  %s (%s): %s\n", m.ModelID, m.Role, strings.Join(rules, ", "))
		}
	}
	switch {
	case rep.DryRun:
		fmt.Fprintln(w, "dry run: nothing was changed")
	case rep.Applied:
		fmt.Fprintf(w, "imported as batch %s (undo: modelgov import rollback %s)\n", rep.Batch, rep.Batch)
	case rep.Totals.Invalid == 0:
		fmt.Fprintln(w, "nothing to change")
	}
	return nil
}

func newImportRollbackCommand(cl *clientFlags) *cobra.Command {
	var force bool
	cmd := &cobra.Command{
		Use:   "rollback BATCH [--force]",
		Short: "Undo an import: every model it touched goes back to its revision before it",
		Long: `Restore every model an import touched to its revision before the import, as
new, audited revisions; models the import created are deleted (or archived,
when their lifecycle no longer allows deletion). It refuses when a model
changed since the import, naming it, unless --force.`,
		Args: cobra.ExactArgs(1),
		RunE: cl.run(func(cmd *cobra.Command, args []string, c *client.Client) error {
			b, err := c.RollbackImport(cmd.Context(), args[0], force)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "rolled back import %s: %d models restored\n", b.ID, len(b.Models))
			return nil
		}),
	}
	cmd.Flags().BoolVar(&force, "force", false, "roll back over later changes to the models")
	return cmd
}

func newImportListCommand(cl *clientFlags) *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the applied imports, newest first",
		Args:  cobra.NoArgs,
		RunE: cl.run(func(cmd *cobra.Command, _ []string, c *client.Client) error {
			l, err := c.ListImports(cmd.Context())
			if err != nil {
				return err
			}
			if output != "table" {
				return printStructured(cmd.OutOrStdout(), output, l)
			}
			for _, b := range l.Items {
				state := "applied"
				if b.RolledBackAt != nil {
					state = "rolled back " + b.RolledBackAt.Format(time.RFC3339)
				}
				fmt.Fprintf(cmd.OutOrStdout(), "%s  %s  %s %s  %d models  %s\n", b.ID, b.CreatedAt.Format(time.RFC3339), b.Format,
					b.Source, len(b.Models), state)
			}
			return nil
		}),
	}
	cmd.Flags().StringVarP(&output, "output", "o", "table", "output format: table, json or yaml")
	return cmd
}

// progress draws a progress bar on a terminal, and plain lines every tenth
// of the way otherwise.
type progress struct {
	w     io.Writer
	what  string
	tty   bool
	last  int
	drawn bool
}

func newProgress(w io.Writer, what string) *progress {
	p := &progress{w: w, what: what, last: -1}
	if f, ok := w.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			p.tty = true
		}
	}
	return p
}

func (p *progress) update(done, total int) {
	if total <= 0 {
		return
	}
	if p.tty {
		const width = 30
		n := done * width / total
		fmt.Fprintf(p.w, "\r%s [%s%s] %d/%d", p.what, strings.Repeat("#", n), strings.Repeat(" ", width-n), done, total)
		p.drawn = true
		return
	}
	if tenth := done * 10 / total; tenth != p.last {
		p.last = tenth
		fmt.Fprintf(p.w, "%s: %d of %d records (%d%%)\n", p.what, done, total, done*100/total)
	}
}

func (p *progress) done() {
	if p.drawn {
		fmt.Fprintln(p.w)
	}
}

// ruleIDsIn finds the policy rule ids ("general-size-class: ...") that
// start a reason or follow "; " in text.
func ruleIDsIn(text string) []string {
	var out []string
	for _, part := range strings.FieldsFunc(text, func(r rune) bool { return r == '\n' || r == ';' }) {
		part = strings.TrimSpace(part)
		if i := strings.Index(part, ": "); i > 0 {
			part = part[:i]
		}
		if j := strings.LastIndex(part, " "); j >= 0 {
			part = part[j+1:]
		}
		if ruleID.MatchString(part) && !slices.Contains(out, part) {
			out = append(out, part)
		}
	}
	return out
}

// ruleID is the shape of a policy rule id.
var ruleID = regexp.MustCompile(`^[a-z][a-z0-9]*(-[a-z0-9]+)+$`)
