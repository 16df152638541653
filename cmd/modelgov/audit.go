package main

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/hivellm/modelgov/client"
)

func newAuditCommand(cl *clientFlags) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "audit",
		Short: "Read and verify the tamper-evident log of governance decisions",
	}
	var (
		saved string
		save  string
	)
	verify := &cobra.Command{
		Use:   "verify [--checkpoint SAVED] [--save FILE]",
		Short: "Recompute every entry and the Merkle root, and check the signed checkpoint",
		Long: `Fetch every entry of the audit log, recompute each leaf hash and the Merkle root,
and check them against the server's signed checkpoint (verified with the server's
public key). Given a checkpoint saved earlier (--checkpoint), also prove that the
log only grew since. --save writes the checkpoint just verified, for next time.
Exits non-zero, naming the first entry that does not match, when the log fails.`,
		Args: cobra.NoArgs,
		RunE: cl.run(func(cmd *cobra.Command, _ []string, c *client.Client) error {
			var (
				old []byte
				err error
			)
			if saved != "" {
				if old, err = os.ReadFile(saved); err != nil {
					return err
				}
			}
			v, cp, err := c.VerifyAudit(cmd.Context(), old)
			if err != nil {
				return err
			}
			if !v.OK() {
				if v.BadEntry >= 0 {
					return fmt.Errorf("audit log does NOT verify: entry %d: %s", v.BadEntry, v.Problem)
				}
				return fmt.Errorf("audit log does NOT verify: %s", v.Problem)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "audit log verified: %d entries, root %s, checkpoint signed by %s\n",
				v.Checkpoint.Size, v.Checkpoint.Root, v.Checkpoint.Origin)
			if saved != "" {
				fmt.Fprintf(cmd.OutOrStdout(), "the log only grew since the saved checkpoint\n")
			}
			if save != "" {
				if err := os.WriteFile(save, cp, 0o644); err != nil {
					return err
				}
			}
			return nil
		}),
	}
	verify.Flags().StringVar(&saved, "checkpoint", "", "a checkpoint saved earlier: prove the log only grew since")
	verify.Flags().StringVar(&save, "save", "", "write the verified checkpoint to this file")

	var (
		q      client.AuditQuery
		output string
		limit  int
	)
	log := &cobra.Command{
		Use:   "log [--model NAME]",
		Short: "List the recorded decisions, oldest first",
		Args:  cobra.NoArgs,
		RunE: cl.run(func(cmd *cobra.Command, _ []string, c *client.Client) error {
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			if output == "table" {
				fmt.Fprintln(tw, "SEQ\tTIME\tACTOR\tACTION\tTARGET\tOUTCOME\tPOLICY\tDETAIL")
			}
			shown := 0
			for {
				page, err := c.AuditEntries(cmd.Context(), q)
				if err != nil {
					return err
				}
				for _, e := range page.Items {
					if limit > 0 && shown >= limit {
						return tw.Flush()
					}
					shown++
					if output != "table" {
						if err := printStructured(cmd.OutOrStdout(), output, e); err != nil {
							return err
						}
						continue
					}
					detail := e.Reason
					if len(e.Failed) > 0 {
						var ids []string
						for _, f := range e.Failed {
							ids = append(ids, f.ID)
						}
						detail = "failed: " + strings.Join(ids, ", ")
					}
					fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\tv%d\t%s\n", e.Seq, e.Time.Format(time.RFC3339), e.Principal,
						e.Action, e.Target, e.Outcome, e.PolicyVersion, dash(oneLine(detail)))
				}
				if q.PageToken = page.NextPageToken; q.PageToken == "" {
					return tw.Flush()
				}
			}
		}),
	}
	f := log.Flags()
	f.StringVar(&q.Model, "model", "", "only entries about this model (or alias, or policy/N)")
	f.StringVar(&q.Actor, "actor", "", "only entries of this principal")
	f.StringVar(&q.Action, "action", "", "only entries of this action, such as model.classify")
	f.StringVar(&q.Outcome, "outcome", "", "allowed or denied")
	f.IntVar(&limit, "limit", 0, "show at most this many entries")
	f.StringVarP(&output, "output", "o", "table", "output format: table, json or yaml")

	checkpoint := &cobra.Command{
		Use:   "checkpoint",
		Short: "Print the latest signed checkpoint (save it to verify later that the log only grew)",
		Args:  cobra.NoArgs,
		RunE: cl.run(func(cmd *cobra.Command, _ []string, c *client.Client) error {
			cp, err := c.AuditCheckpoint(cmd.Context())
			if err != nil {
				return err
			}
			if len(cp) == 0 {
				return errors.New("the server sent an empty checkpoint")
			}
			_, err = cmd.OutOrStdout().Write(cp)
			return err
		}),
	}
	cmd.AddCommand(verify, log, checkpoint)
	return cmd
}
