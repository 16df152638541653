package main

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/hivellm/modelgov/api"
	"github.com/hivellm/modelgov/client"
)

func newTokenCommand(cl *clientFlags) *cobra.Command {
	cmd := &cobra.Command{
		Use:     "token",
		Aliases: []string{"tokens"},
		Short:   "Create, list and revoke API tokens (admins)",
		Long: `Manage the API tokens (mgv_...) that clients send as "Authorization: Bearer".
A token authenticates a principal (its name) with one or more roles: admin,
governor, maintainer, evaluator or viewer. Only admins manage tokens. The
server keeps only a hash of each secret, so a secret is shown once, when the
token is created.`,
	}
	cmd.AddCommand(newTokenCreateCommand(cl), newTokenListCommand(cl), newTokenRevokeCommand(cl))
	return cmd
}

func newTokenCreateCommand(cl *clientFlags) *cobra.Command {
	var (
		req       api.TokenRequest
		expiresIn time.Duration
		expiresAt string
		output    string
	)
	cmd := &cobra.Command{
		Use:   "create --name NAME --role ROLE [--role ROLE] [--expires-in 720h | --expires-at TIME]",
		Short: "Create an API token and print its secret, once",
		Long: `Create an API token and print its secret on standard output, alone on its
line, so that it can be captured: TOKEN=$(modelgov token create ...). With
-o json or -o yaml the whole token is printed instead, the secret in its
"token" field. The secret is never shown again: store it now.`,
		Example: `  (umask 077; modelgov token create --name ci-bot --role maintainer --expires-in 720h > ci.token)
  modelgov token create --name alice --role governor --role viewer -o json`,
		Args: cobra.NoArgs,
		RunE: cl.run(func(cmd *cobra.Command, _ []string, c *client.Client) error {
			switch output {
			case "text", "json", "yaml":
			default:
				return fmt.Errorf("unknown output format %q: use text (the secret alone), json or yaml", output)
			}
			switch {
			case expiresIn != 0 && expiresAt != "":
				return errors.New("give --expires-in or --expires-at, not both")
			case expiresIn < 0:
				return fmt.Errorf("--expires-in %v must be positive", expiresIn)
			case expiresIn > 0:
				at := time.Now().Add(expiresIn).UTC().Truncate(time.Second)
				req.ExpiresAt = &at
			case expiresAt != "":
				at, err := time.Parse(time.RFC3339, expiresAt)
				if err != nil {
					return fmt.Errorf("--expires-at %q is not an RFC 3339 time, such as 2027-01-31T00:00:00Z", expiresAt)
				}
				req.ExpiresAt = &at
			}
			t, err := c.CreateToken(cmd.Context(), req)
			if err != nil {
				return err
			}
			if t.Token == "" {
				return fmt.Errorf("the server created token %s but sent no secret; revoke it with modelgov token revoke %s", t.ID, t.ID)
			}
			if output == "text" {
				fmt.Fprintln(cmd.OutOrStdout(), t.Token)
			} else if err := printStructured(cmd.OutOrStdout(), output, t); err != nil {
				return err
			}
			expiry := "does not expire"
			if t.ExpiresAt != nil {
				expiry = "expires " + t.ExpiresAt.Format(time.RFC3339)
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "created token %s for %s (roles %s; %s). Store the secret now: it is not shown again.\n",
				t.ID, t.Name, strings.Join(t.Roles, ", "), expiry)
			return nil
		}),
	}
	f := cmd.Flags()
	f.StringVar(&req.Name, "name", "", "the principal the token authenticates, as recorded in history and the audit log")
	f.StringSliceVar(&req.Roles, "role", nil, "a role of the token: "+strings.Join(api.PrincipalRoles(), ", ")+" (repeatable, or comma-separated)")
	f.DurationVar(&expiresIn, "expires-in", 0, "the token stops working after this long, such as 720h (default: never)")
	f.StringVar(&expiresAt, "expires-at", "", "the token stops working at this RFC 3339 time")
	f.StringVarP(&output, "output", "o", "text", "output format: text (the secret alone), json or yaml")
	_ = cmd.MarkFlagRequired("name")
	_ = cmd.MarkFlagRequired("role")
	return cmd
}

func newTokenListCommand(cl *clientFlags) *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the API tokens, newest first (never their secrets)",
		Args:  cobra.NoArgs,
		RunE: cl.run(func(cmd *cobra.Command, _ []string, c *client.Client) error {
			l, err := c.ListTokens(cmd.Context())
			if err != nil {
				return err
			}
			for _, t := range l.Items {
				t.Token = "" // the server never sends it; never print one either
			}
			return printTokens(cmd.OutOrStdout(), output, l)
		}),
	}
	cmd.Flags().StringVarP(&output, "output", "o", "table", "output format: table, json or yaml")
	return cmd
}

func printTokens(w io.Writer, format string, l *api.TokenList) error {
	if format != "table" {
		return printStructured(w, format, l)
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tNAME\tROLES\tPREFIX\tCREATED\tEXPIRES\tREVOKED")
	for _, t := range l.Items {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", t.ID, t.Name, strings.Join(t.Roles, ","), t.Prefix,
			t.CreatedAt.Format(time.RFC3339), timeOrDash(t.ExpiresAt), timeOrDash(t.RevokedAt))
	}
	return tw.Flush()
}

func timeOrDash(t *time.Time) string {
	if t == nil {
		return "-"
	}
	return t.Format(time.RFC3339)
}

func newTokenRevokeCommand(cl *clientFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "revoke ID",
		Short: "Revoke an API token at once, by its id (tok_...)",
		Args:  cobra.ExactArgs(1),
		RunE: cl.run(func(cmd *cobra.Command, args []string, c *client.Client) error {
			t, err := c.RevokeToken(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "token %s (%s) of %s revoked at %s\n", t.ID, t.Prefix, t.Name, timeOrDash(t.RevokedAt))
			return nil
		}),
	}
}

func newWhoAmICommand(cl *clientFlags) *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "whoami",
		Short: "Show whom the server authenticates this client as, and its roles",
		Args:  cobra.NoArgs,
		RunE: cl.run(func(cmd *cobra.Command, _ []string, c *client.Client) error {
			p, err := c.WhoAmI(cmd.Context())
			if err != nil {
				return err
			}
			if output != "table" {
				return printStructured(cmd.OutOrStdout(), output, p)
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "NAME\tROLES\tMETHOD\tTOKEN\tEXPIRES")
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", p.Name, dash(strings.Join(p.Roles, ",")), p.Method, dash(p.TokenID), timeOrDash(p.ExpiresAt))
			return tw.Flush()
		}),
	}
	cmd.Flags().StringVarP(&output, "output", "o", "table", "output format: table, json or yaml")
	return cmd
}
