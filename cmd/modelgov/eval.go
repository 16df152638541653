package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"sigs.k8s.io/yaml"

	"github.com/hivellm/modelgov/api"
	"github.com/hivellm/modelgov/client"
	"github.com/hivellm/modelgov/internal/evalingest"
)

func newEvalCommand(cl *clientFlags) *cobra.Command {
	cmd := &cobra.Command{
		Use:     "eval",
		Aliases: []string{"evaluation", "evaluations"},
		Short:   "Record, ingest and read models' evaluation results",
	}
	cmd.AddCommand(newEvalIngestCommand(cl), newEvalHistoryCommand(cl), newEvalCompareCommand(cl))
	return cmd
}

func newEvalIngestCommand(cl *clientFlags) *cobra.Command {
	var (
		format, model, date string
		createBenchmarks    bool
		dryRun, partial     bool
	)
	cmd := &cobra.Command{
		Use:   "ingest FILE|DIR [--model NAME] [--create-benchmarks] [--dry-run] [--partial]",
		Short: "Record the results of an evaluation output (lm-evaluation-harness, a model card, HiveLLM's records)",
		Long: `Read evaluation results from the files people already produce and record them
(evaluators and admins), all in one transaction:

  lm-eval-harness  an EleutherAI lm-evaluation-harness results_*.json
  hf-model-index   a Hugging Face model card (README.md) with a model-index
  hivellm          the HiveLLM ecosystem's gov/ directory (metrics/model_evaluations.json
                   and metrics/models/*.json)

The format is detected unless --format names it. Every record is read and
every inconsistency reported (a total that differs from its checks, a
value written as a percentage, a standard error of N/A...); a number is
never changed. The results name their model as the file does: --model maps
them all to one registry model; otherwise each name is looked up as a model
id, then as a display name. Results already recorded (the same source id on
the same model) are skipped, so ingesting a file again records nothing new.

A result that cannot be recorded as it stands (no values, an unknown model,
a benchmark missing from the catalogue without --create-benchmarks) stops
the ingest; with --partial the others are recorded and those reported.
--dry-run reports and records nothing.`,
		Example: `  modelgov eval ingest results_2025-01-21T00-40-03.json --model meta/llama-3-3-70b --create-benchmarks
  modelgov eval ingest README.md --model mistral/mistral-7b-instruct --dry-run
  modelgov eval ingest ../hivellm/gov --format hivellm --create-benchmarks --partial`,
		Args: cobra.ExactArgs(1),
		RunE: cl.run(func(cmd *cobra.Command, args []string, c *client.Client) error {
			batch, err := readEvaluations(args[0], format)
			if err != nil {
				return err
			}
			var at time.Time
			if date != "" {
				if at, err = time.Parse(time.RFC3339, date); err != nil {
					return fmt.Errorf("--evaluated-at %q is not an RFC 3339 time", date)
				}
			}
			plan, err := planIngest(cmd.Context(), c, batch, model, at, createBenchmarks)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			plan.report(out, batch)
			if len(plan.refused) > 0 && !partial && !dryRun {
				return fmt.Errorf("%d results cannot be recorded (above); nothing was recorded: fix them, or record the others with --partial", len(plan.refused))
			}
			if dryRun || len(plan.results) == 0 {
				fmt.Fprintf(out, "%d results would be recorded%s\n", len(plan.results), map[bool]string{true: " (dry run: nothing recorded)", false: ""}[dryRun])
				return nil
			}
			list, err := c.RecordEvaluations(cmd.Context(), plan.benchmarks, plan.results)
			if err != nil {
				return err
			}
			regressed := 0
			for _, e := range list.Items {
				if e.Regression != nil {
					regressed++
				}
			}
			fmt.Fprintf(out, "recorded %d results (%d benchmarks added to the catalogue); %d regressions flagged\n",
				len(list.Items), len(plan.benchmarks), regressed)
			return nil
		}),
	}
	f := cmd.Flags()
	f.StringVar(&format, "format", "", "lm-eval-harness, hf-model-index or hivellm (default: detected)")
	f.StringVar(&model, "model", "", "record every result for this registry model")
	f.StringVar(&date, "evaluated-at", "", "when the evaluation ran, for files that do not say (RFC 3339; default: the file's modification time)")
	f.BoolVar(&createBenchmarks, "create-benchmarks", false, "add the benchmarks the file describes to the catalogue where missing")
	f.BoolVar(&dryRun, "dry-run", false, "report what would be recorded, and record nothing")
	f.BoolVar(&partial, "partial", false, "record the results that can be, and report the others")
	return cmd
}

// readEvaluations parses a file or, for hivellm, a directory.
func readEvaluations(path, format string) (*evalingest.Batch, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if fi.IsDir() {
		if format != "" && format != evalingest.FormatHiveLLM {
			return nil, fmt.Errorf("%s is a directory: only --format hivellm reads one", path)
		}
		b, err := evalingest.HiveLLM(path)
		if err != nil {
			return nil, err
		}
		dateUndated(b, fi.ModTime())
		return b, nil
	}
	if fi.Size() > evalingest.MaxInputSize {
		return nil, fmt.Errorf("%s is %d bytes, over the %d an evaluation file may have", path, fi.Size(), evalingest.MaxInputSize)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if format == "" {
		if format, err = evalingest.Detect(filepath.Base(path), data); err != nil {
			return nil, fmt.Errorf("%s: %w (name the format with --format)", path, err)
		}
	}
	var b *evalingest.Batch
	switch format {
	case evalingest.FormatLMEval:
		b, err = evalingest.LMEvalHarness(filepath.Base(path), data)
	case evalingest.FormatModelIndex:
		b, err = evalingest.ModelIndex(filepath.Base(path), data)
	default:
		return nil, fmt.Errorf("--format %q: use lm-eval-harness, hf-model-index or hivellm", format)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	dateUndated(b, fi.ModTime())
	return b, nil
}

// dateUndated dates the results a source does not date by the source's
// modification time, and says so.
func dateUndated(b *evalingest.Batch, at time.Time) {
	n := 0
	for i := range b.Results {
		if b.Results[i].Request.EvaluatedAt.IsZero() {
			b.Results[i].Request.EvaluatedAt = at.UTC()
			n++
		}
	}
	if n > 0 {
		b.Problems = append(b.Problems, evalingest.Problem{Severity: evalingest.SeverityWarning, Message: fmt.Sprintf(
			"%d results are not dated: dated %s, when the source was last modified (--evaluated-at to choose)", n, at.UTC().Format(time.RFC3339))})
	}
}

// ingestPlan is what an ingest will record, and what it cannot.
type ingestPlan struct {
	benchmarks []*api.Benchmark
	results    []client.BatchResult
	refused    []string
	skipped    int
	unscored   int
}

func planIngest(ctx context.Context, c *client.Client, b *evalingest.Batch, model string, at time.Time, create bool) (*ingestPlan, error) {
	p := &ingestPlan{}
	catalogue, err := c.ListBenchmarks(ctx)
	if err != nil {
		return nil, err
	}
	have := map[string]bool{}
	for _, bm := range catalogue.Items {
		have[bm.Name+"@"+bm.Version] = true
	}
	for _, bm := range b.Benchmarks {
		if !have[bm.Name+"@"+bm.Version] && create {
			p.benchmarks = append(p.benchmarks, bm)
			have[bm.Name+"@"+bm.Version] = true
		}
	}
	resolved := map[string]string{}
	recorded := map[string]map[string]bool{} // model → source ids it holds
	for _, r := range b.Results {
		name := r.Model
		if model != "" {
			name = model
		}
		refuse := func(why string) { p.refused = append(p.refused, r.Where+": "+why) }
		req := r.Request
		switch {
		case len(req.Values) == 0:
			// Kept as a record without scores (a rejected model, say),
			// its notes saying what the source lacks.
			var why []string
			for _, pr := range b.ProblemsOf(r) {
				why = append(why, pr.Message)
			}
			if len(why) == 0 {
				why = append(why, "the source gives no values")
			}
			req.Notes = strings.TrimSpace("no scores: " + strings.Join(why, "; ") + "\n" + req.Notes)
			if len(req.Notes) > 4096 {
				req.Notes = strings.ToValidUTF8(req.Notes[:4093], "") + "..."
			}
			p.unscored++
		case !b.Importable(r):
			refuse("not recordable as it stands (see the errors above)")
			continue
		}
		id, ok := resolved[name]
		if !ok {
			if id, err = resolveModel(ctx, c, name); err != nil {
				return nil, err
			}
			resolved[name] = id
		}
		if id == "" {
			refuse(fmt.Sprintf("no registry model is %q (give --model)", name))
			continue
		}
		key := r.Request.Benchmark + "@" + r.Request.BenchmarkVersion
		if !have[key] {
			refuse("benchmark " + key + " is not in the catalogue (add it, or use --create-benchmarks)")
			continue
		}
		if recorded[id] == nil {
			if recorded[id], err = sourceIDs(ctx, c, id); err != nil {
				return nil, err
			}
		}
		if sid, _ := r.Request.Settings["source_id"].(string); sid != "" && recorded[id][sid] {
			p.skipped++
			continue
		}
		if !at.IsZero() {
			req.EvaluatedAt = at
		}
		p.results = append(p.results, client.BatchResult{ModelID: id, ResultRequest: req})
	}
	return p, nil
}

// resolveModel finds the registry model a file names: by id, then by
// display name; "" when none or several match.
func resolveModel(ctx context.Context, c *client.Client, name string) (string, error) {
	if name == "" {
		return "", nil
	}
	if m, err := c.GetModel(ctx, name); err == nil {
		return m.ModelID, nil
	} else if !client.IsNotFound(err) && client.StatusOf(err) != 400 {
		return "", err
	}
	page, err := c.ListModels(ctx, client.ListOptions{Text: name, PageSize: 100})
	if err != nil {
		return "", err
	}
	found := ""
	for _, m := range page.Items {
		if strings.EqualFold(m.DisplayName, name) || strings.EqualFold(m.ModelID, name) {
			if found != "" {
				return "", nil // ambiguous
			}
			found = m.ModelID
		}
	}
	return found, nil
}

// sourceIDs returns the source ids of a model's recorded results.
func sourceIDs(ctx context.Context, c *client.Client, model string) (map[string]bool, error) {
	out := map[string]bool{}
	o := client.EvaluationsOptions{PageSize: 1000}
	for {
		page, err := c.ListEvaluations(ctx, model, o)
		if err != nil {
			return nil, err
		}
		for _, e := range page.Items {
			if sid, _ := e.Settings["source_id"].(string); sid != "" {
				out[sid] = true
			}
		}
		if page.NextPageToken == "" {
			return out, nil
		}
		o.PageToken = page.NextPageToken
	}
}

func (p *ingestPlan) report(w io.Writer, b *evalingest.Batch) {
	errors, warnings := 0, 0
	for _, pr := range b.Problems {
		if pr.Severity == evalingest.SeverityError {
			errors++
		} else {
			warnings++
		}
		fmt.Fprintln(w, "  "+pr.String())
	}
	fmt.Fprintf(w, "%s: %d records, %d benchmarks; %d errors, %d warnings\n", b.Format, len(b.Results), len(b.Benchmarks), errors, warnings)
	for _, r := range p.refused {
		fmt.Fprintln(w, "  cannot record "+r)
	}
	if p.skipped > 0 {
		fmt.Fprintf(w, "%d results already recorded: skipped\n", p.skipped)
	}
	if p.unscored > 0 {
		fmt.Fprintf(w, "%d records give no scores: kept as results without values, their notes saying why\n", p.unscored)
	}
}

func newEvalHistoryCommand(cl *clientFlags) *cobra.Command {
	var (
		o      client.EvaluationsOptions
		output string
	)
	cmd := &cobra.Command{
		Use:   "history MODEL [--benchmark NAME] [--valid]",
		Short: "A model's evaluation results over time, oldest first",
		Args:  cobra.ExactArgs(1),
		RunE: cl.run(func(cmd *cobra.Command, args []string, c *client.Client) error {
			var all []*api.Evaluation
			for {
				page, err := c.ListEvaluations(cmd.Context(), args[0], o)
				if err != nil {
					return err
				}
				all = append(all, page.Items...)
				if page.NextPageToken == "" {
					break
				}
				o.PageToken = page.NextPageToken
			}
			if output != "table" {
				return printStructured(cmd.OutOrStdout(), output, all)
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "EVALUATED\tBENCHMARK\tVALUES\tID\tNOTE")
			for _, e := range all {
				var vals []string
				for _, v := range e.Values {
					s := v.Metric + "=" + strconv.FormatFloat(v.Value, 'g', 6, 64)
					if v.Stderr != nil {
						s += "±" + strconv.FormatFloat(*v.Stderr, 'g', 2, 64)
					}
					vals = append(vals, s)
				}
				note := ""
				switch {
				case e.SupersededBy != "":
					note = "corrected by " + e.SupersededBy
				case e.Regression != nil:
					note = fmt.Sprintf("regression: %s %g → %g", e.Regression.Metric, e.Regression.Before, e.Regression.After)
				}
				fmt.Fprintf(tw, "%s\t%s@%s\t%s\t%s\t%s\n", e.EvaluatedAt.Format(time.RFC3339), e.Benchmark, e.BenchmarkVersion,
					strings.Join(vals, " "), e.ID, note)
			}
			return tw.Flush()
		}),
	}
	f := cmd.Flags()
	f.StringVar(&o.Benchmark, "benchmark", "", "only the results of this benchmark")
	f.StringVar(&o.Version, "version", "", "only the results of this benchmark version")
	f.BoolVar(&o.Valid, "valid", false, "leave out the results that corrections superseded")
	f.StringVarP(&output, "output", "o", "table", "output format: table, json or yaml")
	return cmd
}

func newEvalCompareCommand(cl *clientFlags) *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "compare MODEL_A MODEL_B",
		Short: "Set two models' latest scores side by side",
		Args:  cobra.ExactArgs(2),
		RunE: cl.run(func(cmd *cobra.Command, args []string, c *client.Client) error {
			cmp, err := c.Compare(cmd.Context(), args[0], args[1])
			if err != nil {
				return err
			}
			if output != "table" {
				return printStructured(cmd.OutOrStdout(), output, cmp)
			}
			num := func(f *float64) string {
				if f == nil {
					return "-"
				}
				return strconv.FormatFloat(*f, 'g', 6, 64)
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintf(tw, "BENCHMARK\tMETRIC\t%s\t%s\tDIFFERENCE\tBETTER\n", cmp.A, cmp.B)
			for _, it := range cmp.Items {
				better := it.Better
				if better == "" && it.Difference != nil {
					better = "(within the noise)"
				}
				fmt.Fprintf(tw, "%s@%s\t%s\t%s\t%s\t%s\t%s\n", it.Benchmark, it.Version, it.Metric, num(it.A), num(it.B), num(it.Difference), better)
			}
			return tw.Flush()
		}),
	}
	cmd.Flags().StringVarP(&output, "output", "o", "table", "output format: table, json or yaml")
	return cmd
}

func newBenchmarkCommand(cl *clientFlags) *cobra.Command {
	cmd := &cobra.Command{
		Use:     "benchmark",
		Aliases: []string{"benchmarks"},
		Short:   "The benchmarks catalogue: what results measure",
	}
	var file string
	create := &cobra.Command{
		Use:   "create -f FILE",
		Short: "Add a benchmark to the catalogue (JSON or YAML: name, version, task, metrics with direction and range)",
		Args:  cobra.NoArgs,
		RunE: cl.run(func(cmd *cobra.Command, _ []string, c *client.Client) error {
			var (
				data []byte
				err  error
			)
			if file == "-" {
				data, err = io.ReadAll(io.LimitReader(cmd.InOrStdin(), 1<<20))
			} else {
				data, err = os.ReadFile(file)
			}
			if err != nil {
				return err
			}
			var b api.Benchmark
			if err := yaml.UnmarshalStrict(data, &b); err != nil {
				return fmt.Errorf("%s: %w", file, err)
			}
			out, err := c.CreateBenchmark(cmd.Context(), b)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "benchmark %s version %s: %d metrics\n", out.Name, out.Version, len(out.Metrics))
			return nil
		}),
	}
	create.Flags().StringVarP(&file, "file", "f", "", "the benchmark document (- for standard input)")
	_ = create.MarkFlagRequired("file")
	var output string
	list := &cobra.Command{
		Use:   "list",
		Short: "List the catalogue",
		Args:  cobra.NoArgs,
		RunE: cl.run(func(cmd *cobra.Command, _ []string, c *client.Client) error {
			l, err := c.ListBenchmarks(cmd.Context())
			if err != nil {
				return err
			}
			if output != "table" {
				return printStructured(cmd.OutOrStdout(), output, l)
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "NAME\tVERSION\tTASK\tMETRICS")
			for _, b := range l.Items {
				var ms []string
				for _, m := range b.Metrics {
					ms = append(ms, m.Name+" ("+m.Direction+")")
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", b.Name, b.Version, b.Task, strings.Join(ms, ", "))
			}
			return tw.Flush()
		}),
	}
	list.Flags().StringVarP(&output, "output", "o", "table", "output format: table, json or yaml")
	cmd.AddCommand(create, list)
	return cmd
}

func newLeaderboardCommand(cl *clientFlags) *cobra.Command {
	var (
		o      client.LeaderboardOptions
		role   string
		status string
		output string
	)
	cmd := &cobra.Command{
		Use:   "leaderboard BENCHMARK [--metric M] [--role general] [--status active]",
		Short: "Rank the models on a benchmark by their latest valid result",
		Args:  cobra.ExactArgs(1),
		RunE: cl.run(func(cmd *cobra.Command, args []string, c *client.Client) error {
			o.Role, o.Status = api.Role(role), api.Status(status)
			board, err := c.Leaderboard(cmd.Context(), args[0], o)
			if err != nil {
				return err
			}
			if output != "table" {
				return printStructured(cmd.OutOrStdout(), output, board)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s@%s, %s (%s is better)\n", board.Benchmark, board.Version, board.Metric, board.Direction)
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "RANK\tMODEL\tVALUE\tSTDERR\tROLE\tSTATUS\tEVALUATED")
			for _, e := range board.Items {
				se := "-"
				if e.Stderr != nil {
					se = strconv.FormatFloat(*e.Stderr, 'g', 3, 64)
				}
				fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\n", e.Rank, e.ModelID, strconv.FormatFloat(e.Value, 'g', 6, 64), se,
					e.Role, e.Status, e.At.Format(time.RFC3339))
			}
			return tw.Flush()
		}),
	}
	f := cmd.Flags()
	f.StringVar(&o.Version, "version", "", "the benchmark version (default: the newest)")
	f.StringVar(&o.Metric, "metric", "", "the metric to rank by (default: the benchmark's first)")
	f.StringVar(&role, "role", "", "only models with this governance role")
	f.StringVar(&status, "status", "", "only models with this lifecycle status")
	f.IntVar(&o.PageSize, "limit", 0, "how many (default: the server's page size)")
	f.IntVar(&o.Offset, "offset", 0, "skip this many")
	f.StringVarP(&output, "output", "o", "table", "output format: table, json or yaml")
	return cmd
}
