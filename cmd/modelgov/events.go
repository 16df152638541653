package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/hivellm/modelgov/api"
	"github.com/hivellm/modelgov/client"
)

// newWatchCommand is modelgov watch: the change events as they commit.
func newWatchCommand(cl *clientFlags) *cobra.Command {
	var (
		opts   client.WatchOptions
		output string
	)
	cmd := &cobra.Command{
		Use:   "watch [--type T]... [--subject S] [--after SEQ] [-o text|json]",
		Short: "Print the registry's change events as they happen, until interrupted",
		Long: `Stream the registry's change events (GET /v1/watch) and print one line per
event as it arrives: the events after --after (0, the default, for every event
the registry holds), then each new one, until interrupted. A dropped connection
is resumed after the last event received, so none is lost or repeated.

-o text prints SEQ TIME TYPE SUBJECT PRINCIPAL; -o json prints each event's
CloudEvents JSON on one line.`,
		Args: cobra.NoArgs,
		RunE: cl.run(func(cmd *cobra.Command, _ []string, c *client.Client) error {
			if output != "text" && output != "json" {
				return fmt.Errorf("unknown output format %q: use text or json", output)
			}
			w := cmd.OutOrStdout()
			err := c.Watch(cmd.Context(), opts, func(e *api.Event) error {
				if output == "json" {
					return writeEventJSON(w, e)
				}
				_, err := fmt.Fprintf(w, "%d %s %s %s %s\n", e.Seq, e.Time.UTC().Format(time.RFC3339), e.Type,
					dash(e.Subject), dash(eventPrincipal(e)))
				return err
			})
			if errors.Is(err, cmd.Context().Err()) && cmd.Context().Err() != nil {
				return nil // interrupted
			}
			return err
		}),
	}
	f := cmd.Flags()
	f.StringArrayVar(&opts.Types, "type", nil, "only events of this type, such as io.modelgov.model.created (repeatable, or comma-separated)")
	f.StringVar(&opts.Subject, "subject", "", "only events about this subject: a model id, an alias, policy/N, token/ID")
	f.Int64Var(&opts.After, "after", 0, "start after this event sequence number")
	f.StringVarP(&output, "output", "o", "text", "output format: text or json")
	return cmd
}

// newEventsCommand is modelgov events: the change events recorded so far.
func newEventsCommand(cl *clientFlags) *cobra.Command {
	var (
		opts   client.ListEventsOptions
		output string
	)
	cmd := &cobra.Command{
		Use:   "events [--after SEQ] [--type T]... [--subject S] [--page-size N] [-o table|json]",
		Short: "List the registry's change events, in sequence order",
		Long: `List the registry's change events (GET /v1/events) after --after, oldest
first, fetching every page (--page-size events at a time). -o json prints them
as one JSON array of CloudEvents.`,
		Args: cobra.NoArgs,
		RunE: cl.run(func(cmd *cobra.Command, _ []string, c *client.Client) error {
			if output != "table" && output != "json" {
				return fmt.Errorf("unknown output format %q: use table or json", output)
			}
			events := []*api.Event{}
			for {
				page, err := c.ListEvents(cmd.Context(), opts)
				if err != nil {
					return err
				}
				events = append(events, page.Items...)
				if page.NextAfter == 0 || len(page.Items) == 0 {
					break
				}
				opts.After = page.NextAfter
			}
			if output == "json" {
				return printStructured(cmd.OutOrStdout(), "json", events)
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "SEQ\tTIME\tTYPE\tSUBJECT\tPRINCIPAL")
			for _, e := range events {
				fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\n", e.Seq, e.Time.UTC().Format(time.RFC3339), e.Type,
					dash(e.Subject), dash(eventPrincipal(e)))
			}
			return tw.Flush()
		}),
	}
	f := cmd.Flags()
	f.Int64Var(&opts.After, "after", 0, "list the events after this sequence number")
	f.StringArrayVar(&opts.Types, "type", nil, "only events of this type, such as io.modelgov.model.created (repeatable, or comma-separated)")
	f.StringVar(&opts.Subject, "subject", "", "only events about this subject: a model id, an alias, policy/N, token/ID")
	f.IntVar(&opts.PageSize, "page-size", 0, "events to fetch per request (0 for the server's default)")
	f.StringVarP(&output, "output", "o", "table", "output format: table or json")
	return cmd
}

// writeEventJSON writes e as JSON on one line.
func writeEventJSON(w io.Writer, e *api.Event) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return enc.Encode(e)
}

// eventPrincipal is who made the change an event records, "" when its data
// does not say.
func eventPrincipal(e *api.Event) string {
	var d api.EventData
	if len(e.Data) == 0 || json.Unmarshal(e.Data, &d) != nil {
		return ""
	}
	return d.Principal
}
