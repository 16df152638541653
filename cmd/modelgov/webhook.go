package main

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/hivellm/modelgov/api"
	"github.com/hivellm/modelgov/client"
)

func newWebhookCommand(cl *clientFlags) *cobra.Command {
	cmd := &cobra.Command{
		Use:     "webhook",
		Aliases: []string{"webhooks"},
		Short:   "Subscribe endpoints to the registry's events (admins)",
		Long: `Manage webhook subscriptions. The registry posts each event of the chosen
types to the endpoint, one at a time in sequence order, signed as the
Standard Webhooks specification says (webhook-id, webhook-timestamp,
webhook-signature with the subscription's whsec_ secret), and goes on to the
next only when the endpoint answers 2xx. Failed deliveries are retried with
backoff; too many in a row disable the subscription until it is enabled.
docs/EVENTS.md tells how to verify a delivery.`,
	}
	cmd.AddCommand(newWebhookCreateCommand(cl), newWebhookListCommand(cl), newWebhookShowCommand(cl),
		newWebhookDeleteCommand(cl), newWebhookEnableCommand(cl), newWebhookDisableCommand(cl),
		newWebhookDeliveriesCommand(cl), newWebhookRedeliverCommand(cl))
	return cmd
}

func newWebhookCreateCommand(cl *clientFlags) *cobra.Command {
	var (
		req    api.WebhookRequest
		after  int64
		output string
	)
	cmd := &cobra.Command{
		Use:   "create URL [--type TYPE]... [--description TEXT] [--after SEQ]",
		Short: "Subscribe an endpoint and print its signing secret, once",
		Long: `Subscribe an endpoint to the registry's events (all, or those of --type) and
print the subscription's signing secret (whsec_...) alone on its line, so that
it can be captured. With -o json or -o yaml the whole subscription is printed,
the secret in its "secret" field. The secret is not shown again.

Deliveries start after the newest event, or after --after SEQ (0 replays the
whole outbox).`,
		Example: `  SECRET=$(modelgov webhook create https://voting.example.com/modelgov --type io.modelgov.model.classified)
  modelgov webhook create https://dash.example.com/hook --after 0 -o json`,
		Args: cobra.ExactArgs(1),
		RunE: cl.run(func(cmd *cobra.Command, args []string, c *client.Client) error {
			switch output {
			case "text", "json", "yaml":
			default:
				return fmt.Errorf("unknown output format %q: use text (the secret alone), json or yaml", output)
			}
			req.URL = args[0]
			if cmd.Flags().Changed("after") {
				req.After = &after
			}
			w, err := c.CreateWebhook(cmd.Context(), req)
			if err != nil {
				return err
			}
			if output == "text" {
				fmt.Fprintln(cmd.OutOrStdout(), w.Secret)
			} else if err := printStructured(cmd.OutOrStdout(), output, w); err != nil {
				return err
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "created webhook %s delivering %s after event %d. Store the secret now: it is not shown again.\n",
				w.ID, typesOrAll(w.Types), w.Cursor)
			return nil
		}),
	}
	f := cmd.Flags()
	f.StringSliceVar(&req.Types, "type", nil, "deliver only events of this type, such as io.modelgov.model.classified (repeatable, or comma-separated; default: all)")
	f.StringVar(&req.Description, "description", "", "what the endpoint is, for those who list the subscriptions")
	f.Int64Var(&after, "after", 0, "deliver the events after this sequence number (default: only those to come)")
	f.StringVarP(&output, "output", "o", "text", "output format: text (the secret alone), json or yaml")
	return cmd
}

func typesOrAll(types []string) string {
	if len(types) == 0 {
		return "every event"
	}
	return strings.Join(types, ", ")
}

func newWebhookListCommand(cl *clientFlags) *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the subscriptions and where their deliveries stand",
		Args:  cobra.NoArgs,
		RunE: cl.run(func(cmd *cobra.Command, _ []string, c *client.Client) error {
			l, err := c.ListWebhooks(cmd.Context())
			if err != nil {
				return err
			}
			if output != "table" {
				return printStructured(cmd.OutOrStdout(), output, l)
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tSTATUS\tURL\tTYPES\tCURSOR\tFAILURES\tNEXT ATTEMPT")
			for _, w := range l.Items {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%d\t%s\n", w.ID, w.Status, w.URL, typesOrAll(w.Types), w.Cursor,
					w.ConsecutiveFailures, timeOrDash(w.NextAttemptAt))
			}
			return tw.Flush()
		}),
	}
	cmd.Flags().StringVarP(&output, "output", "o", "table", "output format: table, json or yaml")
	return cmd
}

// webhookAction is a command that acts on one subscription by its id and
// prints it as it then stands.
func webhookAction(cl *clientFlags, use, short string, do func(cmd *cobra.Command, c *client.Client, id string) (*api.Webhook, error)) *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   use,
		Short: short,
		Args:  cobra.ExactArgs(1),
		RunE: cl.run(func(cmd *cobra.Command, args []string, c *client.Client) error {
			w, err := do(cmd, c, args[0])
			if err != nil {
				return err
			}
			return printWebhook(cmd.OutOrStdout(), output, w)
		}),
	}
	cmd.Flags().StringVarP(&output, "output", "o", "text", "output format: text, json or yaml")
	return cmd
}

func printWebhook(out io.Writer, format string, w *api.Webhook) error {
	if format != "text" {
		return printStructured(out, format, w)
	}
	fmt.Fprintf(out, "webhook %s: %s\n  url: %s\n  types: %s\n", w.ID, w.Status, w.URL, typesOrAll(w.Types))
	if w.Description != "" {
		fmt.Fprintf(out, "  description: %s\n", w.Description)
	}
	if w.DisabledReason != "" {
		fmt.Fprintf(out, "  disabled: %s\n", w.DisabledReason)
	}
	fmt.Fprintf(out, "  delivered up to event %d; %d failures in a row; next attempt %s\n", w.Cursor, w.ConsecutiveFailures, timeOrDash(w.NextAttemptAt))
	fmt.Fprintf(out, "  last success %s, last failure %s\n", timeOrDash(w.LastSuccessAt), timeOrDash(w.LastFailureAt))
	return nil
}

func newWebhookShowCommand(cl *clientFlags) *cobra.Command {
	return webhookAction(cl, "show ID", "Show a subscription", func(cmd *cobra.Command, c *client.Client, id string) (*api.Webhook, error) {
		return c.GetWebhook(cmd.Context(), id)
	})
}

func newWebhookDeleteCommand(cl *clientFlags) *cobra.Command {
	return webhookAction(cl, "delete ID", "End a subscription (its delivery log goes with it)", func(cmd *cobra.Command, c *client.Client, id string) (*api.Webhook, error) {
		return c.DeleteWebhook(cmd.Context(), id)
	})
}

func newWebhookEnableCommand(cl *clientFlags) *cobra.Command {
	return webhookAction(cl, "enable ID", "Enable a disabled subscription: it delivers what it missed, in order", func(cmd *cobra.Command, c *client.Client, id string) (*api.Webhook, error) {
		return c.EnableWebhook(cmd.Context(), id)
	})
}

func newWebhookDisableCommand(cl *clientFlags) *cobra.Command {
	var reason string
	cmd := webhookAction(cl, "disable ID [--reason TEXT]", "Pause a subscription until it is enabled", func(cmd *cobra.Command, c *client.Client, id string) (*api.Webhook, error) {
		return c.DisableWebhook(cmd.Context(), id, reason)
	})
	cmd.Flags().StringVar(&reason, "reason", "", "why, for the audit log")
	return cmd
}

func newWebhookDeliveriesCommand(cl *clientFlags) *cobra.Command {
	var (
		before int64
		limit  int
		output string
	)
	cmd := &cobra.Command{
		Use:   "deliveries ID [--before DELIVERY] [--limit N]",
		Short: "Show a subscription's delivery log, newest first",
		Args:  cobra.ExactArgs(1),
		RunE: cl.run(func(cmd *cobra.Command, args []string, c *client.Client) error {
			l, err := c.ListDeliveries(cmd.Context(), args[0], before, limit)
			if err != nil {
				return err
			}
			if output != "table" {
				return printStructured(cmd.OutOrStdout(), output, l)
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "DELIVERY\tEVENT\tTYPE\tATTEMPT\tTIME\tRESULT\tMS\tERROR")
			for _, d := range l.Items {
				result := "ok"
				if !d.OK {
					result = "failed"
				}
				if d.Status != 0 {
					result += " " + strconv.Itoa(d.Status)
				}
				if d.RedeliveryOf != 0 {
					result += fmt.Sprintf(" (redelivery of %d by %s)", d.RedeliveryOf, d.By)
				}
				fmt.Fprintf(tw, "%d\t%d\t%s\t%d\t%s\t%s\t%.1f\t%s\n", d.ID, d.EventSeq, d.EventType, d.Attempt,
					d.Time.Format(time.RFC3339), result, d.DurationMS, d.Error)
			}
			if err := tw.Flush(); err != nil {
				return err
			}
			if l.NextBefore != 0 {
				fmt.Fprintf(cmd.ErrOrStderr(), "more: modelgov webhook deliveries %s --before %d\n", args[0], l.NextBefore)
			}
			return nil
		}),
	}
	f := cmd.Flags()
	f.Int64Var(&before, "before", 0, "show the deliveries before this one")
	f.IntVar(&limit, "limit", 0, "show at most this many (default: the server's page size)")
	f.StringVarP(&output, "output", "o", "table", "output format: table, json or yaml")
	return cmd
}

func newWebhookRedeliverCommand(cl *clientFlags) *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "redeliver ID DELIVERY",
		Short: "Send a logged delivery's event again, now",
		Long: `Send the event of a logged delivery to the subscription's endpoint again, now
and once, with the same webhook-id (receivers that already took it drop it).
It does not move the subscription's place in the event sequence.`,
		Args: cobra.ExactArgs(2),
		RunE: cl.run(func(cmd *cobra.Command, args []string, c *client.Client) error {
			n, err := strconv.ParseInt(args[1], 10, 64)
			if err != nil || n < 1 {
				return fmt.Errorf("delivery %q is not a delivery number (see modelgov webhook deliveries %s)", args[1], args[0])
			}
			d, err := c.Redeliver(cmd.Context(), args[0], n)
			if err != nil {
				return err
			}
			if output != "text" {
				return printStructured(cmd.OutOrStdout(), output, d)
			}
			if !d.OK {
				return fmt.Errorf("redelivery %d of event %d failed: %s", d.ID, d.EventSeq, d.Error)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "redelivered event %d as delivery %d (%d, %.1f ms)\n", d.EventSeq, d.ID, d.Status, d.DurationMS)
			return nil
		}),
	}
	cmd.Flags().StringVarP(&output, "output", "o", "text", "output format: text, json or yaml")
	return cmd
}
