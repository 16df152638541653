package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/hivellm/modelgov/api"
	"github.com/hivellm/modelgov/client"
	"github.com/hivellm/modelgov/internal/importer"
	"github.com/hivellm/modelgov/internal/server"
)

// clientFlags makes the API client from the global flags.
type clientFlags struct {
	server    *string
	token     *string
	tokenFile *string
}

func (f *clientFlags) client() (*client.Client, error) {
	token, err := f.credential()
	if err != nil {
		return nil, err
	}
	return client.New(*f.server, client.WithToken(token))
}

// credential returns the token to send: --token (or MODELGOV_TOKEN), else
// the content of --token-file (or MODELGOV_TOKEN_FILE), else the admin
// token a local server wrote in its default data directory, when it is
// there; "" when there is none.
func (f *clientFlags) credential() (string, error) {
	if t := strings.TrimSpace(deref(f.token)); t != "" {
		return t, nil
	}
	if path := deref(f.tokenFile); path != "" {
		b, err := os.ReadFile(path)
		if err != nil {
			return "", fmt.Errorf("--token-file: %w", err)
		}
		return strings.TrimSpace(string(b)), nil
	}
	if !loopback(deref(f.server)) {
		return "", nil // the local admin token is for the local server only
	}
	local := filepath.Join(env("MODELGOV_DATA_DIR", "modelgov-data"), server.AdminTokenFile)
	if b, err := os.ReadFile(local); err == nil {
		return strings.TrimSpace(string(b)), nil
	}
	return "", nil
}

// loopback reports whether a server address names this machine.
func loopback(server string) bool {
	u, err := url.Parse(server)
	if err != nil {
		return false
	}
	host := u.Hostname()
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// run makes the body of a command that talks to the server: it gets the
// API client from the global flags first.
func (f *clientFlags) run(body func(cmd *cobra.Command, args []string, c *client.Client) error) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		c, err := f.client()
		if err != nil {
			return err
		}
		return body(cmd, args, c)
	}
}

func newModelCommand(cl *clientFlags) *cobra.Command {
	cmd := &cobra.Command{
		Use:     "model",
		Aliases: []string{"models"},
		Short:   "Register, read and change models",
	}
	cmd.AddCommand(newApplyCommand(cl), newGetCommand(cl), newListCommand(cl), newHistoryCommand(cl),
		newLifecycleCommand(cl), newDeleteCommand(cl), newClassifyCommand(cl), newExemptCommand(cl))
	return cmd
}

func newApplyCommand(cl *clientFlags) *cobra.Command {
	var files []string
	cmd := &cobra.Command{
		Use:   "apply -f FILE|DIR|-",
		Short: "Create or update models from JSON or YAML documents",
		Long: `Create or update models from documents, as kubectl apply does: each document
becomes a model, or updates the model of the same model_id to match it; a
document that matches the stored model changes nothing. -f takes a file, a
folder (every .json, .yaml and .yml file below it, in name order) or - for
standard input; a YAML file may hold several documents separated by ---.
Every document is tried; the command fails if any was refused.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if len(files) == 0 {
				return errors.New("name the documents with -f FILE, -f DIR or -f -")
			}
			c, err := cl.client()
			if err != nil {
				return err
			}
			docs, err := readDocuments(files, cmd.InOrStdin())
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			failed := 0
			for _, d := range docs {
				m, outcome, err := c.ApplyModel(cmd.Context(), d.body, d.contentType, client.WriteOptions{})
				if err != nil {
					failed++
					fmt.Fprintf(cmd.ErrOrStderr(), "%s: %v\n", d.source, err)
					continue
				}
				fmt.Fprintf(out, "%s %s\n", m.ModelID, outcome)
			}
			if failed > 0 {
				return fmt.Errorf("%d of %d documents were refused", failed, len(docs))
			}
			return nil
		},
	}
	cmd.Flags().StringSliceVarP(&files, "filename", "f", nil, "file, folder or - for standard input (repeatable)")
	return cmd
}

// document is one model document read from a file.
type document struct {
	source      string // file name, and position for multi-document files
	body        []byte
	contentType string
}

func readDocuments(names []string, stdin io.Reader) ([]document, error) {
	var docs []document
	for _, name := range names {
		if name == "-" {
			b, err := io.ReadAll(stdin)
			if err != nil {
				return nil, fmt.Errorf("read standard input: %w", err)
			}
			docs = append(docs, splitDocuments("stdin", b, client.YAML)...)
			continue
		}
		info, err := os.Stat(name)
		if err != nil {
			return nil, err
		}
		var paths []string
		if info.IsDir() {
			err := filepath.WalkDir(name, func(p string, d fs.DirEntry, err error) error {
				if err != nil {
					return err
				}
				if !d.IsDir() && documentType(p) != "" {
					paths = append(paths, p)
				}
				return nil
			})
			if err != nil {
				return nil, err
			}
			slices.Sort(paths)
			if len(paths) == 0 {
				return nil, fmt.Errorf("%s holds no .json, .yaml or .yml file", name)
			}
		} else {
			paths = []string{name}
		}
		for _, p := range paths {
			b, err := os.ReadFile(p)
			if err != nil {
				return nil, err
			}
			ct := documentType(p)
			if ct == "" {
				ct = client.YAML // YAML reads JSON too
			}
			docs = append(docs, splitDocuments(p, b, ct)...)
		}
	}
	return docs, nil
}

func documentType(path string) string {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".json":
		return client.JSON
	case ".yaml", ".yml":
		return client.YAML
	}
	return ""
}

// blankYAML reports whether a YAML stream holds nothing but blank lines,
// comments and --- separators.
func blankYAML(b []byte) bool {
	for line := range bytes.Lines(stripComments(b)) {
		if t := bytes.TrimSpace(line); len(t) > 0 && !bytes.Equal(t, []byte("---")) {
			return false
		}
	}
	return true
}

// splitDocuments splits a YAML stream on --- lines; JSON is one document.
func splitDocuments(source string, b []byte, contentType string) []document {
	if contentType == client.JSON {
		return []document{{source: source, body: b, contentType: contentType}}
	}
	parts := importer.SplitYAML(b)
	if len(parts) == 1 && blankYAML(parts[0]) {
		return nil // only comments, separators or space
	}
	docs := make([]document, len(parts))
	for i, p := range parts {
		docs[i] = document{source: source, body: p, contentType: contentType}
		if len(parts) > 1 {
			docs[i].source = fmt.Sprintf("%s (document %d)", source, i+1)
		}
	}
	return docs
}

func stripComments(b []byte) []byte {
	var out []byte
	for line := range bytes.Lines(b) {
		if t := bytes.TrimSpace(line); len(t) > 0 && t[0] != '#' {
			out = append(out, line...)
		}
	}
	return out
}

func newGetCommand(cl *clientFlags) *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "get NAME",
		Short: "Show a model",
		Args:  cobra.ExactArgs(1),
		RunE: cl.run(func(cmd *cobra.Command, args []string, c *client.Client) error {
			m, err := c.GetModel(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			return printModels(cmd.OutOrStdout(), output, []*api.Model{m}, m)
		}),
	}
	cmd.Flags().StringVarP(&output, "output", "o", "yaml", "output format: yaml, json or table")
	return cmd
}

func newListCommand(cl *clientFlags) *cobra.Command {
	var (
		o      client.ListOptions
		output string
		all    bool
	)
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List models",
		Example: `  modelgov model list --role general
  modelgov model list --provider openai --status active -l team=core,tier!=test -o json`,
		Args: cobra.NoArgs,
		RunE: cl.run(func(cmd *cobra.Command, _ []string, c *client.Client) error {
			var models []*api.Model
			next := ""
			if all {
				for m, err := range c.AllModels(cmd.Context(), o) {
					if err != nil {
						return err
					}
					models = append(models, m)
				}
			} else {
				page, err := c.ListModels(cmd.Context(), o)
				if err != nil {
					return err
				}
				models, next = page.Items, page.NextPageToken
			}
			if err := printModels(cmd.OutOrStdout(), output, models, &api.ModelList{Items: models, NextPageToken: next}); err != nil {
				return err
			}
			if next != "" && output == "table" {
				fmt.Fprintf(cmd.ErrOrStderr(), "more models: --page-token %s, or --all\n", next)
			}
			return nil
		}),
	}
	f := cmd.Flags()
	f.StringVar(&o.Provider, "provider", "", "only models of this provider")
	f.StringVar(&o.Family, "family", "", "only models of this family")
	f.StringVar(&o.Status, "status", "", "only models in this lifecycle status")
	f.StringVar(&o.Role, "role", "", "only models with this governance role")
	f.StringVar(&o.SizeClass, "size-class", "", "only models of this size class")
	f.StringVar(&o.Capability, "capability", "", "only models with this capability")
	f.StringVarP(&o.Labels, "selector", "l", "", "label selector, such as team=core,tier!=test")
	f.StringVarP(&o.Text, "search", "q", "", "text to find in model ids and display names")
	f.StringVar(&o.Review, "review", "", "pending: only models held for a governor's review (near-duplicates)")
	f.StringVar(&o.Compliance, "compliance", "", "compliant or non_compliant: only models in (or out of) compliance with the active policy")
	f.StringVar(&o.Sort, "sort", "", "order: model_id (default), provider, display_name, or updated_at (newest first)")
	f.IntVar(&o.PageSize, "page-size", 0, "models per page (1 to 1000; default 100)")
	f.StringVar(&o.PageToken, "page-token", "", "continue a listing where the last page ended")
	f.BoolVar(&all, "all", false, "fetch every page")
	f.StringVarP(&output, "output", "o", "table", "output format: table, json or yaml")
	return cmd
}

func newHistoryCommand(cl *clientFlags) *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "history NAME",
		Short: "Show every revision of a model, newest first",
		Args:  cobra.ExactArgs(1),
		RunE: cl.run(func(cmd *cobra.Command, args []string, c *client.Client) error {
			var revs []*api.Revision
			token := ""
			for {
				page, err := c.ListRevisions(cmd.Context(), args[0], 1000, token)
				if err != nil {
					return err
				}
				revs = append(revs, page.Items...)
				if token = page.NextPageToken; token == "" {
					break
				}
			}
			return printRevisions(cmd.OutOrStdout(), output, revs)
		}),
	}
	cmd.Flags().StringVarP(&output, "output", "o", "table", "output format: table, json or yaml")
	return cmd
}

func newLifecycleCommand(cl *clientFlags) *cobra.Command {
	var (
		ch      api.LifecycleChange
		to      string
		ifMatch string
	)
	cmd := &cobra.Command{
		Use:   "lifecycle NAME --to STATUS --reason TEXT",
		Short: "Move a model to another lifecycle status",
		Long: `Move a model to another lifecycle status. A model starts as proposed;
proposed → active or archived; active → deprecated or suspended; deprecated →
archived, suspended or back to active; suspended → back to where it was, or
archived; archived is final. Deprecation needs --sunset and may name a
--successor, an active model.`,
		Example: `  modelgov model lifecycle openai/gpt-4o --to deprecated --reason "replaced" --sunset 2027-01-31 --successor openai/gpt-5`,
		Args:    cobra.ExactArgs(1),
		RunE: cl.run(func(cmd *cobra.Command, args []string, c *client.Client) error {
			ch.Status = api.Status(to)
			m, err := c.ChangeLifecycle(cmd.Context(), args[0], ch, client.WriteOptions{IfMatch: ifMatch})
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s is %s (resource_version %s)\n", m.ModelID, m.Status(), m.ResourceVersion)
			return nil
		}),
	}
	f := cmd.Flags()
	f.StringVar(&to, "to", "", "the new status: active, deprecated, suspended or archived")
	f.StringVar(&ch.Reason, "reason", "", "why (recorded in the model's history)")
	f.StringVar(&ch.Successor, "successor", "", "the active model that replaces a deprecated one")
	f.StringVar(&ch.Sunset, "sunset", "", "the date a deprecated model is archived, YYYY-MM-DD")
	f.StringVar(&ifMatch, "if-match", "", "only if the model is still at this resource_version")
	_ = cmd.MarkFlagRequired("to")
	_ = cmd.MarkFlagRequired("reason")
	return cmd
}

func newDeleteCommand(cl *clientFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "delete NAME",
		Short: "Erase a model that is still proposed (others are archived instead)",
		Args:  cobra.ExactArgs(1),
		RunE: cl.run(func(cmd *cobra.Command, args []string, c *client.Client) error {
			if err := c.DeleteModel(cmd.Context(), args[0], client.WriteOptions{}); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s deleted\n", args[0])
			return nil
		}),
	}
}
