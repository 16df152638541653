package main

import (
	"fmt"
	"log/slog"
	"os"
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
		roleMap   []string
		// webSecretFile holds the web interface's OIDC client secret.
		webSecretFile string
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
			if len(roleMap) > 0 {
				cfg.OIDC.RoleMap = map[string]string{}
				for _, kv := range roleMap {
					claim, role, ok := strings.Cut(kv, "=")
					if !ok || claim == "" || role == "" {
						return fmt.Errorf("--oidc-role-map takes claim-value=role, not %q", kv)
					}
					cfg.OIDC.RoleMap[claim] = role
				}
			}
			if cfg.RateLimit.PerSecond <= 0 {
				cfg.RateLimit.PerSecond = -1 // no limit
			}
			if (cfg.OIDC.Issuer == "") != (cfg.OIDC.Audience == "") {
				return fmt.Errorf("--oidc-issuer and --oidc-audience go together")
			}
			if cfg.WebOIDC.ClientID == "" && (webSecretFile != "" || cfg.WebOIDC.RedirectURL != "") {
				return fmt.Errorf("--web-oidc-client-secret-file and --web-oidc-redirect-url need --web-oidc-client-id")
			}
			if cfg.WebOIDC.ClientID != "" {
				if cfg.OIDC.Issuer == "" || cfg.WebOIDC.RedirectURL == "" {
					return fmt.Errorf("--web-oidc-client-id needs --oidc-issuer and --web-oidc-redirect-url")
				}
				if webSecretFile != "" {
					secret, err := os.ReadFile(webSecretFile)
					if err != nil {
						return fmt.Errorf("--web-oidc-client-secret-file: %w", err)
					}
					cfg.WebOIDC.ClientSecret = strings.TrimSpace(string(secret))
				}
			}
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
	f.StringVar(&cfg.Database, "db", env("MODELGOV_DB", ""), "the database: a postgres:// URL that several servers may share, or sqlite:PATH (default: modelgov.db in the data directory; env MODELGOV_DB)")
	f.StringVar(&cfg.Synchronous, "sync", "normal", "durability: normal keeps every acknowledged write across a crash of the process, full also across a crash of the machine")
	f.DurationVar(&cfg.ShutdownTimeout, "shutdown-timeout", 30*time.Second, "how long in-flight requests may take to finish on shutdown")
	f.DurationVar(&cfg.EnforceInterval, "enforce-interval", time.Minute, "how often the roles of models whose grace period ended are lowered")
	f.DurationVar(&cfg.RecheckInterval, "recheck-interval", time.Hour, "how often every model is checked again against the active policy")
	f.BoolVar(&cfg.AnonymousRead, "anonymous-read", false, "let requests without credentials read (as viewers); writes always need a token")
	f.StringVar(&cfg.OIDC.Issuer, "oidc-issuer", "", "also accept bearer JWTs from this OpenID Connect issuer (URL)")
	f.StringVar(&cfg.OIDC.Audience, "oidc-audience", "", "the audience (client id) the OIDC tokens must be issued for")
	f.StringVar(&cfg.OIDC.UsernameClaim, "oidc-username-claim", "sub", "the OIDC claim that names the principal (prefixed with oidc:)")
	f.StringVar(&cfg.OIDC.RolesClaim, "oidc-roles-claim", "roles", "the OIDC claim that holds the principal's roles")
	f.StringSliceVar(&roleMap, "oidc-role-map", nil, "map an OIDC role claim value to a modelgov role: value=role (repeatable); without it, values that are modelgov roles pass")
	f.StringVar(&cfg.WebOIDC.ClientID, "web-oidc-client-id", "", "offer sign-in to the web interface with the --oidc-issuer, as this client (its ID tokens map to principals as the API's bearer tokens do)")
	f.StringVar(&webSecretFile, "web-oidc-client-secret-file", "", "file holding the web interface's OIDC client secret (none: a public client, PKCE alone)")
	f.StringVar(&cfg.WebOIDC.RedirectURL, "web-oidc-redirect-url", "", "the web interface's OIDC redirect URL as browsers reach it, registered with the issuer: https://HOST/signin/oidc/callback")
	f.StringVar(&cfg.WebOIDC.Name, "web-oidc-name", "", "the issuer's name on the sign-in page, \"Sign in with NAME\" (default: the issuer's host)")
	f.Float64Var(&cfg.RateLimit.PerSecond, "rate-limit", 1, "registrations and identity operations each principal may make per second, on average (0 or less: no limit)")
	f.IntVar(&cfg.RateLimit.Burst, "rate-burst", 30, "how many registrations and identity operations a principal may make at once")
	f.BoolVar(&cfg.SecureCookies, "secure-cookies", false, "mark the web interface's session cookies Secure (set it when a TLS proxy serves the registry)")
	f.BoolVar(&cfg.WebhookAllowPrivate, "webhook-allow-private", false, "let webhook subscriptions deliver to loopback and private addresses (refused by default, against SSRF)")
	f.IntVar(&cfg.WebhookMaxFailures, "webhook-max-failures", 0, "consecutive failed deliveries that disable a webhook subscription (default 20)")
	f.StringVar(&cfg.NATSURL, "nats-url", env("MODELGOV_NATS_URL", ""), "also publish every event to NATS JetStream at this URL, subject modelgov.events.<type> (env MODELGOV_NATS_URL)")
	f.StringVar(&logLevel, "log-level", "info", "log level: debug, info, warn or error")
	f.StringVar(&logFormat, "log-format", "text", "log format: text or json")
	return cmd
}
