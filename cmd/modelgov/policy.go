package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/hivellm/modelgov/api"
	"github.com/hivellm/modelgov/client"
)

func newClassifyCommand(cl *clientFlags) *cobra.Command {
	var c api.Classification
	var role string
	cmd := &cobra.Command{
		Use:     "classify NAME --role ROLE --reason TEXT",
		Short:   "Ask for a governance role for a model; the active policy decides",
		Example: `  modelgov model classify meta/llama-3-1-405b --role general --reason "passed the test protocol with 91"`,
		Args:    cobra.ExactArgs(1),
		RunE: cl.run(func(cmd *cobra.Command, args []string, cli *client.Client) error {
			c.Role = api.Role(role)
			m, err := cli.Classify(cmd.Context(), args[0], c, client.WriteOptions{})
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s is %s (policy version %d)\n", m.ModelID, m.Role(), m.Governance.PolicyVersion)
			return nil
		}),
	}
	cmd.Flags().StringVar(&role, "role", "", "general, specialist, experimental or none")
	cmd.Flags().StringVar(&c.Reason, "reason", "", "why (recorded in the model's history)")
	_ = cmd.MarkFlagRequired("role")
	_ = cmd.MarkFlagRequired("reason")
	return cmd
}

func newExemptCommand(cl *clientFlags) *cobra.Command {
	var (
		req   api.ExemptionRequest
		until string
	)
	cmd := &cobra.Command{
		Use:     "exempt NAME --rules ID[,ID] --reason TEXT --until TIME|DURATION",
		Short:   "Release a model from named policy rules for a limited time (governors)",
		Example: `  modelgov model exempt openai/gpt-5 --rules general-estimated-size-confirmed --reason "provider disclosure pending" --until 720h`,
		Args:    cobra.ExactArgs(1),
		RunE: cl.run(func(cmd *cobra.Command, args []string, cli *client.Client) error {
			expires, err := parseUntil(until, time.Now())
			if err != nil {
				return err
			}
			req.ExpiresAt = expires
			m, err := cli.GrantExemption(cmd.Context(), args[0], req, client.WriteOptions{})
			if err != nil {
				return err
			}
			ex := m.Governance.Exemptions[len(m.Governance.Exemptions)-1]
			fmt.Fprintf(cmd.OutOrStdout(), "%s exempted from %s until %s (exemption %s)\n", m.ModelID,
				strings.Join(ex.Rules, ", "), ex.ExpiresAt.Format(time.RFC3339), ex.ID)
			return nil
		}),
	}
	cmd.Flags().StringSliceVar(&req.Rules, "rules", nil, "ids of the rules to exempt the model from")
	cmd.Flags().StringVar(&req.Reason, "reason", "", "why (recorded in the model's history)")
	cmd.Flags().StringVar(&until, "until", "", "when the exemption ends: an RFC 3339 time or a duration from now, such as 720h")
	_ = cmd.MarkFlagRequired("rules")
	_ = cmd.MarkFlagRequired("reason")
	_ = cmd.MarkFlagRequired("until")
	return cmd
}

func parseUntil(s string, now time.Time) (time.Time, error) {
	if d, err := time.ParseDuration(s); err == nil {
		return now.Add(d), nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("--until %q is neither a duration (720h) nor an RFC 3339 time", s)
	}
	return t, nil
}

func newPolicyCommand(cl *clientFlags) *cobra.Command {
	cmd := &cobra.Command{
		Use:     "policy",
		Aliases: []string{"policies"},
		Short:   "Manage the governance policy bundles",
	}
	list := &cobra.Command{
		Use:   "list",
		Short: "List every policy version, newest first",
		Args:  cobra.NoArgs,
		RunE: cl.run(func(cmd *cobra.Command, _ []string, cli *client.Client) error {
			l, err := cli.ListPolicies(cmd.Context())
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "VERSION\tNAME\tACTIVE\tCREATED\tBY\tHASH")
			for _, p := range l.Items {
				active := ""
				if p.Active {
					active = "yes"
				}
				fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\n", p.Version, p.Name, dash(active), p.CreatedAt.Format(time.RFC3339), p.CreatedBy, p.Hash)
			}
			return tw.Flush()
		}),
	}
	var output string
	get := &cobra.Command{
		Use:   "get [VERSION]",
		Short: "Show a policy version (the active one without VERSION)",
		Args:  cobra.MaximumNArgs(1),
		RunE: cl.run(func(cmd *cobra.Command, args []string, cli *client.Client) error {
			var (
				v   int64
				err error
			)
			if len(args) == 1 {
				if v, err = strconv.ParseInt(args[0], 10, 64); err != nil {
					return fmt.Errorf("version %q is not a number", args[0])
				}
			}
			p, err := cli.GetPolicy(cmd.Context(), v)
			if err != nil {
				return err
			}
			var bundle any
			if err := json.Unmarshal(p.Bundle, &bundle); err != nil {
				return err
			}
			return printStructured(cmd.OutOrStdout(), output, bundle)
		}),
	}
	get.Flags().StringVarP(&output, "output", "o", "yaml", "output format: yaml or json")
	upload := &cobra.Command{
		Use:   "upload FILE",
		Short: "Store a new policy bundle version (it is not active until activated)",
		Args:  cobra.ExactArgs(1),
		RunE: cl.run(func(cmd *cobra.Command, args []string, cli *client.Client) error {
			b, ct, err := readBundle(args[0], cmd.InOrStdin())
			if err != nil {
				return err
			}
			p, err := cli.UploadPolicy(cmd.Context(), b, ct)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "policy version %d stored (%s, %s); activate it with: modelgov policy activate %d\n", p.Version, p.Name, p.Hash, p.Version)
			return nil
		}),
	}
	var dryRun bool
	activate := &cobra.Command{
		Use:   "activate VERSION",
		Short: "Make a policy version the active one (--dry-run: only report what it would find)",
		Args:  cobra.ExactArgs(1),
		RunE: cl.run(func(cmd *cobra.Command, args []string, cli *client.Client) error {
			v, err := strconv.ParseInt(args[0], 10, 64)
			if err != nil {
				return fmt.Errorf("version %q is not a number", args[0])
			}
			a, err := cli.ActivatePolicy(cmd.Context(), v, dryRun)
			if err != nil {
				return err
			}
			verb := "activated"
			if a.DryRun {
				verb = "would be activated (dry run)"
			}
			fmt.Fprintf(cmd.OutOrStdout(), "policy version %d %s\n", v, verb)
			return printReport(cmd.OutOrStdout(), a.Report)
		}),
	}
	activate.Flags().BoolVar(&dryRun, "dry-run", false, "report which models the version would put out of compliance, without activating it")
	var (
		against string
		all     bool
		action  string
	)
	test := &cobra.Command{
		Use:   "test BUNDLE (--against FILE | --all)",
		Short: "Try a candidate bundle against a model document or every model, storing nothing",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if (against == "") == !all {
				return errors.New("give exactly one of --against FILE and --all")
			}
			cli, err := cl.client()
			if err != nil {
				return err
			}
			b, ct, err := readBundle(args[0], cmd.InOrStdin())
			if err != nil {
				return err
			}
			if all {
				r, err := cli.ReportCandidate(cmd.Context(), b, ct)
				if err != nil {
					return err
				}
				return printReport(cmd.OutOrStdout(), r)
			}
			docs, err := readDocuments([]string{against}, cmd.InOrStdin())
			if err != nil {
				return err
			}
			refused := 0
			for _, d := range docs {
				dec, err := cli.Evaluate(cmd.Context(), api.EvaluationRequest{Model: toJSON(d.body), Action: action, Bundle: string(b)})
				if err != nil {
					return fmt.Errorf("%s: %w", d.source, err)
				}
				if !dec.Allowed {
					refused++
				}
				printDecision(cmd.OutOrStdout(), d.source, dec)
			}
			if refused > 0 {
				return fmt.Errorf("the bundle refuses %d of %d documents", refused, len(docs))
			}
			return nil
		},
	}
	test.Flags().StringVar(&against, "against", "", "a model document file (or folder) to judge")
	test.Flags().BoolVar(&all, "all", false, "judge every model in the registry")
	test.Flags().StringVar(&action, "action", "model.update", "the write to judge: model.create, model.update, model.classify, ...")
	cmd.AddCommand(list, get, upload, activate, test)
	return cmd
}

func newComplianceCommand(cl *clientFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "compliance",
		Short: "List the models out of compliance with the active policy, with their deadlines",
		Args:  cobra.NoArgs,
		RunE: cl.run(func(cmd *cobra.Command, _ []string, cli *client.Client) error {
			var all *api.ComplianceReport
			token := ""
			for {
				r, err := cli.Compliance(cmd.Context(), token)
				if err != nil {
					return err
				}
				if all == nil {
					all = r
				} else {
					all.NonCompliant = append(all.NonCompliant, r.NonCompliant...)
				}
				if token = r.NextPageToken; token == "" {
					break
				}
			}
			return printReport(cmd.OutOrStdout(), all)
		}),
	}
}

func readBundle(name string, stdin io.Reader) ([]byte, string, error) {
	var (
		b   []byte
		err error
	)
	if name == "-" {
		b, err = io.ReadAll(stdin)
	} else {
		b, err = os.ReadFile(name)
	}
	if err != nil {
		return nil, "", err
	}
	ct := documentType(name)
	if ct == "" {
		ct = client.YAML
	}
	return b, ct, nil
}

// toJSON turns a YAML or JSON document into JSON for a JSON request body.
func toJSON(doc []byte) json.RawMessage {
	if j, err := yamlToJSON(doc); err == nil {
		return j
	}
	return doc
}

func printReport(w io.Writer, r *api.ComplianceReport) error {
	fmt.Fprintf(w, "policy version %d (%s): %d models checked, %d out of compliance\n", r.PolicyVersion, r.PolicyHash, r.Checked, len(r.NonCompliant))
	if len(r.NonCompliant) == 0 {
		return nil
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "MODEL\tROLE\tDEADLINE\tFAILING RULES")
	for _, m := range r.NonCompliant {
		deadline := "-"
		if m.Deadline != nil {
			deadline = m.Deadline.Format(time.RFC3339)
		}
		var rules []string
		for _, f := range m.Failing {
			rules = append(rules, f.ID)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", m.ModelID, m.Role, deadline, strings.Join(rules, ", "))
	}
	return tw.Flush()
}

func printDecision(w io.Writer, source string, d *api.Decision) {
	verdict := "allowed"
	if !d.Allowed {
		verdict = "REFUSED"
	}
	fmt.Fprintf(w, "%s: %s %s\n", source, d.Action, verdict)
	for _, r := range d.Results {
		fmt.Fprintf(w, "  %-9s %s (%s)", r.Outcome, r.ID, r.Section)
		if r.Outcome != api.RulePassed && r.Message != "" {
			fmt.Fprintf(w, ": %s", r.Message)
		}
		fmt.Fprintln(w)
		if r.Outcome != api.RulePassed {
			for k, v := range r.Values {
				fmt.Fprintf(w, "            %s = %v\n", k, v)
			}
		}
	}
}
