package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
	"sigs.k8s.io/yaml"

	"github.com/hivellm/modelgov/api"
	"github.com/hivellm/modelgov/client"
	"github.com/hivellm/modelgov/internal/audit"
	"github.com/hivellm/modelgov/internal/migrate"
	"github.com/hivellm/modelgov/internal/server"
	"github.com/hivellm/modelgov/internal/store"
)

func newBackupCommand(cl *clientFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "backup FILE",
		Short: "Write a consistent snapshot of the whole registry, while the server runs (admins)",
		Long: `Write a snapshot of everything the registry holds, read in one consistent
snapshot while the server keeps serving: models and their revisions, aliases,
policy bundles and activations, identities and claims, API tokens (hashed, as
stored), webhook subscriptions (with their secrets: keep the file safe),
evaluation results and benchmarks, the audit log with its tree, and the
events. "modelgov restore" rebuilds a registry from it.`,
		Args: cobra.ExactArgs(1),
		RunE: cl.run(func(cmd *cobra.Command, args []string, c *client.Client) error {
			path := args[0]
			tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
			if err != nil {
				return err
			}
			defer os.Remove(tmp.Name())
			if err := tmp.Chmod(0o600); err != nil {
				tmp.Close()
				return err
			}
			n, err := c.Backup(cmd.Context(), tmp)
			if cerr := tmp.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				return err
			}
			// Only a complete snapshot takes the file's name.
			if err := checkSnapshot(tmp.Name()); err != nil {
				return fmt.Errorf("the backup is not a complete snapshot: %w", err)
			}
			if err := os.Rename(tmp.Name(), path); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "wrote %s (%d bytes)\n", path, n)
			return nil
		}),
	}
}

// checkSnapshot reads a snapshot file through, record by record.
func checkSnapshot(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	r := store.NewSnapshotReader(bufio.NewReaderSize(f, 1<<20))
	audits := 0
	for {
		rec, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		if rec.Kind == store.KindAudit {
			audits++
		}
	}
	if audits == 0 {
		return errors.New("it holds no audit log")
	}
	return nil
}

func newRestoreCommand() *cobra.Command {
	var dataDir, db string
	cmd := &cobra.Command{
		Use:   "restore FILE --data-dir DIR [--db URL]",
		Short: "Rebuild a registry from a backup, into an empty database, and verify its audit tree",
		Long: `Rebuild a registry from a snapshot "modelgov backup" wrote: into the SQLite
database of an empty data directory, or into the empty database --db names.
Then the audit log is checked entry by entry against its stored tree. The
restored registry's checkpoints verify with the original audit signing key:
copy audit-signing.key from the original data directory into DIR before
starting "modelgov serve" on it.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			if dataDir == "" {
				return errors.New("--data-dir names the directory to restore into")
			}
			if err := os.MkdirAll(dataDir, 0o700); err != nil {
				return err
			}
			f, err := os.Open(args[0])
			if err != nil {
				return err
			}
			defer f.Close()
			st, _, err := server.OpenStore(ctx, db, dataDir, "")
			if err != nil {
				return err
			}
			defer st.Close()
			r := store.NewSnapshotReader(bufio.NewReaderSize(f, 1<<20))
			counts := map[string]int{}
			if err := st.Import(ctx, func() (*store.Record, error) {
				rec, err := r.Next()
				if err == nil {
					counts[rec.Kind]++
				}
				return rec, err
			}); err != nil {
				return fmt.Errorf("restore %s: %w", args[0], err)
			}
			size, root, err := migrate.Verify(ctx, st)
			if err != nil {
				return fmt.Errorf("the restored audit log does not verify: %w", err)
			}
			var parts []string
			for _, k := range store.Kinds() {
				if counts[k] > 0 {
					parts = append(parts, fmt.Sprintf("%d %s", counts[k], k))
				}
			}
			fmt.Fprintf(cmd.OutOrStdout(), "restored %s\naudit log verified: %d entries, tree hash %s\n", strings.Join(parts, ", "), size, root)
			if _, err := os.Stat(filepath.Join(dataDir, audit.KeyFile)); err != nil {
				fmt.Fprintf(cmd.ErrOrStderr(), "copy the original %s into %s before serving, so that its checkpoints verify as before\n", audit.KeyFile, dataDir)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&dataDir, "data-dir", "", "the data directory to restore into (its database must be empty or absent)")
	cmd.Flags().StringVar(&db, "db", "", "restore into this empty PostgreSQL database (postgres://...) instead of the data directory's SQLite file")
	return cmd
}

func newExportCommand(cl *clientFlags) *cobra.Command {
	var format, out, legacy string
	cmd := &cobra.Command{
		Use:   "export [--format yaml|json|dir] [--out PATH] [--legacy generals.yml]",
		Short: "Write the current models as documents that model apply reads back unchanged",
		Long: `Write every model as its document: yaml (one multi-document file), json (one
JSON document per line) or dir (one file per model under PATH). "modelgov
model apply" reads them back without changing anything. --legacy writes, as
well, the HiveLLM roster (generals.yml's shape: generals and collaborators)
generated from the registry, so that the ecosystem's tools read the same
truth.`,
		Args: cobra.NoArgs,
		RunE: cl.run(func(cmd *cobra.Command, _ []string, c *client.Client) error {
			var models []*api.Model
			for m, err := range c.AllModels(cmd.Context(), client.ListOptions{PageSize: 1000}) {
				if err != nil {
					return err
				}
				models = append(models, m)
			}
			if err := writeExport(cmd, models, format, out); err != nil {
				return err
			}
			if legacy != "" {
				return writeRoster(legacy, models)
			}
			return nil
		}),
	}
	f := cmd.Flags()
	f.StringVar(&format, "format", "yaml", "yaml, json or dir")
	f.StringVar(&out, "out", "-", "the file (or directory, for dir) to write; - for standard output")
	f.StringVar(&legacy, "legacy", "", "also write the HiveLLM roster (generals.yml) to this file")
	return cmd
}

func writeExport(cmd *cobra.Command, models []*api.Model, format, out string) error {
	if format == "dir" {
		if out == "-" {
			return errors.New("--format dir needs --out DIR")
		}
		if err := os.MkdirAll(out, 0o755); err != nil {
			return err
		}
		for _, m := range models {
			b, err := api.Marshal(m)
			if err != nil {
				return err
			}
			name := strings.ReplaceAll(m.ModelID, "/", "__") + ".json"
			if err := os.WriteFile(filepath.Join(out, name), append(b, '\n'), 0o644); err != nil {
				return err
			}
		}
		fmt.Fprintf(cmd.ErrOrStderr(), "wrote %d models to %s\n", len(models), out)
		return nil
	}
	var w io.Writer = cmd.OutOrStdout()
	if out != "-" {
		f, err := os.Create(out)
		if err != nil {
			return err
		}
		defer f.Close()
		w = f
	}
	bw := bufio.NewWriter(w)
	for i, m := range models {
		b, err := api.Marshal(m)
		if err != nil {
			return err
		}
		switch format {
		case "json":
			bw.Write(b)
			bw.WriteByte('\n')
		case "yaml":
			y, err := yaml.JSONToYAML(b)
			if err != nil {
				return err
			}
			if i > 0 {
				bw.WriteString("---\n")
			}
			bw.Write(y)
		default:
			return fmt.Errorf("--format %q: use yaml, json or dir", format)
		}
	}
	return bw.Flush()
}

// writeRoster writes generals.yml's shape from the registry: the generals
// and the specialists (collaborators), each with the fields the ecosystem's
// tools read.
func writeRoster(path string, models []*api.Model) error {
	type agent struct {
		ID       string `json:"id"`
		Name     string `json:"name"`
		Provider string `json:"provider"`
		Group    string `json:"group"`
		Role     string `json:"role,omitempty"`
		Enabled  bool   `json:"enabled"`
		Model    string `json:"model_id"`
	}
	roster := map[string][]agent{"generals": {}, "collaborators": {}}
	for _, m := range models {
		group := ""
		switch m.Role() {
		case api.RoleGeneral:
			group = "generals"
		case api.RoleSpecialist:
			group = "collaborators"
		default:
			continue
		}
		_, name, _ := strings.Cut(m.ModelID, "/")
		roster[group] = append(roster[group], agent{ID: name, Name: m.DisplayName, Provider: m.Provider, Group: group,
			Role: m.Labels["hivellm.io/specialization"], Enabled: m.Status() == api.StatusActive, Model: m.ModelID})
	}
	doc := map[string]any{
		"version":   1,
		"generated": "by modelgov export --legacy: the registry is the source of truth; do not edit by hand",
		"agents":    roster,
	}
	b, err := yaml.Marshal(doc)
	if err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o644)
}
