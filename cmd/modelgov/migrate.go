package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/hivellm/modelgov/internal/migrate"
	"github.com/hivellm/modelgov/internal/server"
	"github.com/hivellm/modelgov/internal/store"
)

func newMigrateCommand() *cobra.Command {
	var from, to string
	cmd := &cobra.Command{
		Use:   "migrate --from DB --to DB",
		Short: "Move a whole registry to another database (SQLite to PostgreSQL, say)",
		Long: `Copy everything a registry holds from one database to another, which must be
empty: models and their revisions, aliases and their history, policy bundles
and their activations, the audit log and its tree, the event outbox, identity
claims, API tokens (as hashes), webhook subscriptions and their delivery logs.
The copy is read from one consistent snapshot and written all or nothing; then
the target's audit log is checked entry by entry and must end in the same
tree as the source's. Identity challenges in flight, idempotency keys and
leases are not copied.

A database is sqlite:PATH or a postgres:// URL. Stop the server on the source
first, or anything written after the snapshot stays behind. Afterwards, start
the servers on the target with the source's data directory (its audit signing
key and admin token), or copy audit-signing.key into theirs (docs/SCALING.md).`,
		Example: `  modelgov migrate --from sqlite:modelgov-data/modelgov.db --to 'postgres://modelgov@db.internal/modelgov'`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			if path, ok := strings.CutPrefix(from, "sqlite:"); ok {
				// Opening a SQLite file creates it: a typo would migrate
				// an empty registry.
				if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
					return fmt.Errorf("--from %s: no such file", from)
				}
			}
			if from == to {
				return errors.New("--from and --to name the same database")
			}
			src, _, err := server.OpenStore(ctx, from, "", "")
			if err != nil {
				return fmt.Errorf("--from: %w", err)
			}
			defer src.Close()
			dst, _, err := server.OpenStore(ctx, to, "", "")
			if err != nil {
				return fmt.Errorf("--to: %w", err)
			}
			defer dst.Close()

			stderr := cmd.ErrOrStderr()
			start := time.Now()
			rep, err := migrate.Copy(ctx, src, dst, func(moved int64) {
				fmt.Fprintf(stderr, "  %d records moved (%.0f/s)\n", moved, float64(moved)/time.Since(start).Seconds())
			})
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', tabwriter.AlignRight)
			fmt.Fprintln(tw, "kind\trecords\t")
			var total int64
			for _, k := range store.Kinds() {
				fmt.Fprintf(tw, "%s\t%d\t\n", k, rep.Counts[k])
				total += rep.Counts[k]
			}
			if err := tw.Flush(); err != nil {
				return err
			}
			fmt.Fprintf(out, "moved %d records in %v; the target's audit log verified: %d entries, tree hash %s\n",
				total, rep.Duration.Round(time.Millisecond), rep.AuditSize, rep.AuditRoot)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&from, "from", "", "the registry's database now: sqlite:PATH or a postgres:// URL")
	f.StringVar(&to, "to", "", "the empty database to move it to: sqlite:PATH or a postgres:// URL")
	_ = cmd.MarkFlagRequired("from")
	_ = cmd.MarkFlagRequired("to")
	return cmd
}
