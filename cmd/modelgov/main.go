// Command modelgov is the governance registry for AI models: the server
// (modelgov serve) and its command-line client (modelgov model ...) in one
// binary.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run runs the command line args and returns the exit code.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	root := newRootCommand(stdin, stdout, stderr)
	root.SetArgs(args)
	if err := root.ExecuteContext(ctx); err != nil {
		fmt.Fprintln(stderr, "modelgov:", err)
		return 1
	}
	return 0
}

// env returns the environment variable name, or def when it is unset.
func env(name, def string) string {
	if v, ok := os.LookupEnv(name); ok && v != "" {
		return v
	}
	return def
}

func newRootCommand(stdin io.Reader, stdout, stderr io.Writer) *cobra.Command {
	root := &cobra.Command{
		Use:   "modelgov",
		Short: "The governance registry for AI models",
		Long: `modelgov is the single source of truth for an ecosystem's AI models: their
metadata, governance role, lifecycle and history. "modelgov serve" runs the
registry; the other commands are its client.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	server := root.PersistentFlags().String("server", env("MODELGOV_SERVER", "http://127.0.0.1:8080"),
		"address of the modelgov server (env MODELGOV_SERVER)")
	token := root.PersistentFlags().String("token", "", "API token to send (env MODELGOV_TOKEN; prefer the variable or --token-file, which stay out of process lists)")
	tokenFile := root.PersistentFlags().String("token-file", env("MODELGOV_TOKEN_FILE", ""),
		"file holding the API token (env MODELGOV_TOKEN_FILE); without a token, modelgov-data/admin.token is used when present")
	if *token == "" {
		// Not the flag's default: --help would print the secret.
		*token = os.Getenv("MODELGOV_TOKEN")
	}
	cl := &clientFlags{server: server, token: token, tokenFile: tokenFile}
	model := newModelCommand(cl)
	model.AddCommand(newReviewCommand(cl))
	root.AddCommand(newServeCommand(), model, newAliasCommand(cl), newPolicyCommand(cl), newComplianceCommand(cl), newAuditCommand(cl),
		newTokenCommand(cl), newWhoAmICommand(cl), newIdentityCommand(cl), newWatchCommand(cl), newEventsCommand(cl),
		newWebhookCommand(cl), newMigrateCommand(), newEvalCommand(cl), newBenchmarkCommand(cl), newLeaderboardCommand(cl),
		newImportCommand(cl), newBackupCommand(cl), newRestoreCommand(), newExportCommand(cl))
	return root
}
