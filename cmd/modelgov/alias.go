package main

import (
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/hivellm/modelgov/api"
	"github.com/hivellm/modelgov/client"
)

func newAliasCommand(cl *clientFlags) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "alias",
		Short: "Point stable names at models (hivellm/chair → a model)",
	}
	var reason string
	set := &cobra.Command{
		Use:   "set ALIAS MODEL",
		Short: "Point an alias at a model, creating it if needed",
		Args:  cobra.ExactArgs(2),
		RunE: cl.run(func(cmd *cobra.Command, args []string, c *client.Client) error {
			a, err := c.MoveAlias(cmd.Context(), args[0], api.AliasMove{Target: args[1], Reason: reason}, client.WriteOptions{})
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s → %s\n", a.Name, a.Target)
			return nil
		}),
	}
	set.Flags().StringVar(&reason, "reason", "", "why (recorded in the alias's history)")
	var output string
	get := &cobra.Command{
		Use:   "get ALIAS",
		Short: "Show where an alias points",
		Args:  cobra.ExactArgs(1),
		RunE: cl.run(func(cmd *cobra.Command, args []string, c *client.Client) error {
			a, err := c.GetAlias(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			if output == "table" {
				return printAliases(cmd, []*api.Alias{a})
			}
			return printStructured(cmd.OutOrStdout(), output, a)
		}),
	}
	get.Flags().StringVarP(&output, "output", "o", "table", "output format: table, json or yaml")
	list := &cobra.Command{
		Use:   "list",
		Short: "List aliases",
		Args:  cobra.NoArgs,
		RunE: cl.run(func(cmd *cobra.Command, _ []string, c *client.Client) error {
			var all []*api.Alias
			token := ""
			for {
				page, err := c.ListAliases(cmd.Context(), "", token)
				if err != nil {
					return err
				}
				all = append(all, page.Items...)
				if token = page.NextPageToken; token == "" {
					break
				}
			}
			return printAliases(cmd, all)
		}),
	}
	history := &cobra.Command{
		Use:   "history ALIAS",
		Short: "Show every move of an alias, newest first",
		Args:  cobra.ExactArgs(1),
		RunE: cl.run(func(cmd *cobra.Command, args []string, c *client.Client) error {
			h, err := c.AliasHistory(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			return printAliases(cmd, h.Items)
		}),
	}
	var deleteReason string
	del := &cobra.Command{
		Use:   "delete ALIAS",
		Short: "Remove an alias (its history stays)",
		Args:  cobra.ExactArgs(1),
		RunE: cl.run(func(cmd *cobra.Command, args []string, c *client.Client) error {
			if err := c.DeleteAlias(cmd.Context(), args[0], deleteReason, client.WriteOptions{}); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s deleted\n", args[0])
			return nil
		}),
	}
	del.Flags().StringVar(&deleteReason, "reason", "", "why (recorded in the alias's history)")
	cmd.AddCommand(set, get, list, history, del)
	return cmd
}

func printAliases(cmd *cobra.Command, aliases []*api.Alias) error {
	tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ALIAS\tTARGET\tVERSION\tUPDATED\tBY\tREASON")
	for _, a := range aliases {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", a.Name, dash(a.Target), a.ResourceVersion,
			a.UpdatedAt.Format(time.RFC3339), a.UpdatedBy, dash(oneLine(a.Reason)))
	}
	return tw.Flush()
}
