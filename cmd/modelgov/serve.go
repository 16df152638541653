package main

import (
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/hivellm/modelgov/internal/server"
)

func newServeCommand() *cobra.Command {
	var (
		cfg       server.Config
		logLevel  string
		logFormat string
	)
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the registry server",
		Long: `Run the registry server on an embedded SQLite database in the data directory,
created on first start. SIGTERM or Ctrl-C stops it gracefully: requests in
flight finish, then the database closes.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var level slog.Level
			if err := level.UnmarshalText([]byte(logLevel)); err != nil {
				return fmt.Errorf("--log-level: %w", err)
			}
			opts := &slog.HandlerOptions{Level: level}
			var h slog.Handler
			switch logFormat {
			case "text":
				h = slog.NewTextHandler(cmd.ErrOrStderr(), opts)
			case "json":
				h = slog.NewJSONHandler(cmd.ErrOrStderr(), opts)
			default:
				return fmt.Errorf("--log-format must be text or json, not %q", logFormat)
			}
			cfg.Logger = slog.New(h)
			cfg.Synchronous = strings.ToUpper(cfg.Synchronous)
			srv, err := server.New(cmd.Context(), cfg)
			if err != nil {
				return err
			}
			return srv.Run(cmd.Context(), nil)
		},
	}
	f := cmd.Flags()
	f.StringVar(&cfg.Listen, "listen", env("MODELGOV_LISTEN", "127.0.0.1:8080"), "address to listen on (env MODELGOV_LISTEN)")
	f.StringVar(&cfg.DataDir, "data-dir", env("MODELGOV_DATA_DIR", "modelgov-data"), "directory of the database (env MODELGOV_DATA_DIR)")
	f.StringVar(&cfg.Synchronous, "sync", "normal", "durability: normal keeps every acknowledged write across a crash of the process, full also across a crash of the machine")
	f.DurationVar(&cfg.ShutdownTimeout, "shutdown-timeout", 30*time.Second, "how long in-flight requests may take to finish on shutdown")
	f.DurationVar(&cfg.EnforceInterval, "enforce-interval", time.Minute, "how often the roles of models whose grace period ended are lowered")
	f.DurationVar(&cfg.RecheckInterval, "recheck-interval", time.Hour, "how often every model is checked again against the active policy")
	f.StringVar(&logLevel, "log-level", "info", "log level: debug, info, warn or error")
	f.StringVar(&logFormat, "log-format", "text", "log format: text or json")
	return cmd
}
