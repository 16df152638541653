package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/hivellm/modelgov/api"
	"github.com/hivellm/modelgov/client"
	"github.com/hivellm/modelgov/internal/identity"
)

func newIdentityCommand(cl *clientFlags) *cobra.Command {
	cmd := &cobra.Command{
		Use:     "identity",
		Aliases: []string{"identities"},
		Short:   "Give models cryptographic identities: keys, proofs, rotations and endorsements",
		Long: `A model's identity is a public key whose holder speaks for the model. Make a
key pair with "identity keygen" (the private key stays in a local file),
register the public key with "identity register", then prove possession with
"identity prove": the server sends a one-time nonce, signed here with the
private key. A key speaks for one model only, for good. Verified models may
endorse other models' identities ("identity endorse").

Keys are ed25519 (the default) or secp256k1, stored as PEM; keys made with
OpenSSL work as well.`,
	}
	cmd.AddCommand(newKeygenCommand(), newIdentityRegisterCommand(cl), newIdentityProveCommand(cl),
		newIdentityRotateCommand(cl), newIdentityEndorseCommand(cl), newIdentityWithdrawCommand(cl),
		newIdentityRevokeCommand(cl), newIdentityShowCommand(cl))
	return cmd
}

// keyInfo describes a key pair, as keygen prints it.
type keyInfo struct {
	KeyType    string `json:"key_type"`
	PublicKey  string `json:"public_key"`
	KeyID      string `json:"key_id"`
	PrivateKey string `json:"private_key_file"`
}

func newKeygenCommand() *cobra.Command {
	var (
		keyType, out, output string
		force                bool
	)
	cmd := &cobra.Command{
		Use:   "keygen --out FILE [--type ed25519|secp256k1]",
		Short: "Make a key pair: write the private key to a file (mode 0600), print the public key",
		Long: `Make a new key pair. The private key is written, as PEM, to --out, which only
its owner may read (0600); an existing file is kept unless --force. The
public key (base64) and its key id are printed, for "identity register".
Nothing is sent to the server.`,
		Example: `  modelgov identity keygen --out gpt-5.pem
  modelgov identity keygen --type secp256k1 --out judge.pem -o json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			switch output {
			case "text", "json", "yaml":
			default:
				return fmt.Errorf("unknown output format %q: use text, json or yaml", output)
			}
			k, err := identity.GenerateKey(keyType)
			if err != nil {
				return fmt.Errorf("--type: %w", err)
			}
			pem, err := identity.MarshalPrivateKey(k)
			if err != nil {
				return err
			}
			if err := writePrivateKey(out, pem, force); err != nil {
				return err
			}
			pub := k.Public()
			info := keyInfo{KeyType: k.Type(), PublicKey: pub.Base64(), KeyID: pub.KeyID(), PrivateKey: out}
			if output != "text" {
				return printStructured(cmd.OutOrStdout(), output, info)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "key type:    %s\npublic key:  %s\nkey id:      %s\nprivate key: %s (mode 0600; keep it secret)\n",
				info.KeyType, info.PublicKey, info.KeyID, info.PrivateKey)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&keyType, "type", api.KeyEd25519, "key type: ed25519 or secp256k1")
	f.StringVar(&out, "out", "", "file to write the private key to (PEM, mode 0600)")
	f.BoolVar(&force, "force", false, "overwrite --out if it exists (the key it held is lost)")
	f.StringVarP(&output, "output", "o", "text", "output format: text, json or yaml")
	_ = cmd.MarkFlagRequired("out")
	return cmd
}

// writePrivateKey writes a PEM private key to path, readable by its owner
// only. It refuses an existing file unless force, and then replaces it
// whole (through a new file renamed over it), so that a failed write never
// leaves half a key.
func writePrivateKey(path string, pem []byte, force bool) error {
	if !force {
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("%s already exists; give --force to overwrite it (the key it holds is lost), or choose another --out", path)
		}
		if err != nil {
			return err
		}
		_, werr := f.Write(pem)
		if err := errors.Join(werr, f.Sync(), f.Close()); err != nil {
			os.Remove(path)
			return fmt.Errorf("write %s: %w", path, err)
		}
		return nil
	}
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	_, werr := f.Write(pem)
	err = errors.Join(werr, f.Chmod(0o600), f.Sync(), f.Close())
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// readPrivateKey reads a PEM private key file.
func readPrivateKey(path string) (*identity.PrivateKey, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	k, err := identity.ParsePrivateKey(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return k, nil
}

// signer signs a nonce with k, in the form the API takes.
func signer(k *identity.PrivateKey) func(string) (string, error) {
	return func(nonce string) (string, error) { return k.Sign([]byte(nonce)) }
}

// checkHolds refuses, before anything is sent, a private key file that does
// not hold model's registered key: the server would refuse its signature.
func checkHolds(path string, k *identity.PrivateKey, model string, ident *api.Identity) error {
	if id := k.Public().KeyID(); id != ident.KeyID {
		return fmt.Errorf("%s holds %s key %s, not %s's registered key %s (%s, %s): sign with the private key of the registered key",
			path, k.Type(), id, model, ident.KeyID, ident.KeyType, ident.Status)
	}
	return nil
}

func newIdentityRegisterCommand(cl *clientFlags) *cobra.Command {
	var (
		reg                api.IdentityRegistration
		keyFile, expiresAt string
	)
	cmd := &cobra.Command{
		Use:   "register MODEL --key FILE | --public-key BASE64 [--type ed25519|secp256k1]",
		Short: "Register a model's public key (unverified until proved)",
		Long: `Register the public key that speaks for a model: from a private key file
(--key; only its public half is sent) or given in base64 (--public-key, of
--type). The key is unverified until its holder proves possession with
"identity prove". A key or artifact digest that another model holds is
refused: one key speaks for one model only. A model that holds a key changes
it only by "identity rotate".`,
		Example: `  modelgov identity register openai/gpt-5 --key gpt-5.pem --artifact-digest sha256:9f86d0...
  modelgov identity register openai/gpt-5 --public-key 11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=   # raw 32-byte key, base64`,
		Args: cobra.ExactArgs(1),
		RunE: cl.run(func(cmd *cobra.Command, args []string, c *client.Client) error {
			switch {
			case (keyFile == "") == (reg.PublicKey == ""):
				return errors.New("give the key with --key FILE (a private key file) or --public-key BASE64, not both")
			case keyFile != "":
				k, err := readPrivateKey(keyFile)
				if err != nil {
					return err
				}
				if cmd.Flags().Changed("type") && reg.KeyType != k.Type() {
					return fmt.Errorf("%s holds a %s key, not %s", keyFile, k.Type(), reg.KeyType)
				}
				reg.KeyType, reg.PublicKey = k.Type(), k.Public().Base64()
			}
			if expiresAt != "" {
				at, err := time.Parse(time.RFC3339, expiresAt)
				if err != nil {
					return fmt.Errorf("--expires-at %q is not an RFC 3339 time, such as 2027-01-31T00:00:00Z", expiresAt)
				}
				reg.ExpiresAt = &at
			}
			m, outcome, err := c.RegisterIdentity(cmd.Context(), args[0], reg, client.WriteOptions{})
			if err != nil {
				return err
			}
			id := m.Identity
			if id == nil {
				return fmt.Errorf("the server answered without %s's identity", m.ModelID)
			}
			out := cmd.OutOrStdout()
			if outcome == "unchanged" {
				fmt.Fprintf(out, "%s already holds %s key %s (%s)\n", m.ModelID, id.KeyType, id.KeyID, id.Status)
				return nil
			}
			fmt.Fprintf(out, "%s: registered %s key %s for owner %s (%s)\n", m.ModelID, id.KeyType, id.KeyID, id.Owner, id.Status)
			if id.Status == api.IdentityUnverified {
				how := "--key PRIVATE-KEY-FILE"
				if keyFile != "" {
					how = "--key " + keyFile
				}
				fmt.Fprintf(cmd.ErrOrStderr(), "prove possession of the key with: modelgov identity prove %s %s\n", m.ModelID, how)
			}
			return nil
		}),
	}
	f := cmd.Flags()
	f.StringVar(&keyFile, "key", "", "private key file (PEM) whose public key to register; it is not sent")
	f.StringVar(&reg.PublicKey, "public-key", "", "the public key in base64 (raw 32 bytes for ed25519, 33-byte compressed point for secp256k1)")
	f.StringVar(&reg.KeyType, "type", "", "type of --public-key: ed25519 (the default) or secp256k1")
	f.StringVar(&reg.ArtifactDigest, "artifact-digest", "", "digest of the model's weights, sha256:<64 hex digits>; no two models may share one")
	f.StringVar(&reg.Owner, "owner", "", "register on behalf of this principal (admins only)")
	f.StringVar(&expiresAt, "expires-at", "", "the key stops counting at this RFC 3339 time (default and latest: in 365 days)")
	return cmd
}

func newIdentityProveCommand(cl *clientFlags) *cobra.Command {
	var keyFile, output string
	cmd := &cobra.Command{
		Use:   "prove MODEL --key FILE",
		Short: "Prove possession of a model's registered key: sign a server challenge locally",
		Long: `Ask the server for a one-time nonce, sign it with the private key in --key
(which never leaves this machine) and send the signature back. When it
verifies, the model's identity is verified; proving again renews it.`,
		Example: `  modelgov identity prove openai/gpt-5 --key gpt-5.pem`,
		Args:    cobra.ExactArgs(1),
		RunE: cl.run(func(cmd *cobra.Command, args []string, c *client.Client) error {
			model := args[0]
			k, err := readPrivateKey(keyFile)
			if err != nil {
				return err
			}
			cur, err := c.GetIdentity(cmd.Context(), model)
			if err != nil {
				return err
			}
			if err := checkHolds(keyFile, k, model, cur); err != nil {
				return err
			}
			m, err := c.ProveIdentity(cmd.Context(), model, signer(k))
			if err != nil {
				return fmt.Errorf("%s: the proof was refused: %w", model, err)
			}
			return printIdentity(cmd.OutOrStdout(), output, m.ModelID, m.Identity)
		}),
	}
	cmd.Flags().StringVar(&keyFile, "key", "", "the private key file (PEM) of the model's registered key")
	cmd.Flags().StringVarP(&output, "output", "o", "table", "output format: table, json or yaml")
	_ = cmd.MarkFlagRequired("key")
	return cmd
}

func newIdentityRotateCommand(cl *clientFlags) *cobra.Command {
	var (
		keyFile, newKeyFile, digest, output string
	)
	cmd := &cobra.Command{
		Use:   "rotate MODEL --key CURRENT --new-key NEW",
		Short: "Replace a model's key: the current and the new key both sign the change",
		Long: `Replace a model's key with a new one. The server issues a rotation challenge
for the new key; the current key (--key) signs it, which authorises the new
key, and the new key (--new-key) signs it too, which proves possession, so
the identity stays verified. Endorsements carry over.`,
		Example: `  modelgov identity keygen --out gpt-5-2026.pem
  modelgov identity rotate openai/gpt-5 --key gpt-5.pem --new-key gpt-5-2026.pem`,
		Args: cobra.ExactArgs(1),
		RunE: cl.run(func(cmd *cobra.Command, args []string, c *client.Client) error {
			model := args[0]
			old, err := readPrivateKey(keyFile)
			if err != nil {
				return err
			}
			next, err := readPrivateKey(newKeyFile)
			if err != nil {
				return err
			}
			if old.Public().Equal(next.Public()) {
				return fmt.Errorf("%s and %s hold the same key; make a new one with modelgov identity keygen", keyFile, newKeyFile)
			}
			cur, err := c.GetIdentity(cmd.Context(), model)
			if err != nil {
				return err
			}
			if err := checkHolds(keyFile, old, model, cur); err != nil {
				return err
			}
			pub := next.Public()
			reg := api.IdentityRegistration{KeyType: pub.Type, PublicKey: pub.Base64(), ArtifactDigest: digest}
			m, err := c.RotateIdentity(cmd.Context(), model, reg, signer(old), signer(next))
			if err != nil {
				return fmt.Errorf("%s: the rotation was refused: %w", model, err)
			}
			return printIdentity(cmd.OutOrStdout(), output, m.ModelID, m.Identity)
		}),
	}
	f := cmd.Flags()
	f.StringVar(&keyFile, "key", "", "the private key file (PEM) of the model's current key")
	f.StringVar(&newKeyFile, "new-key", "", "the private key file (PEM) of the new key")
	f.StringVar(&digest, "artifact-digest", "", "a new artifact digest (default: the current one carries over)")
	f.StringVarP(&output, "output", "o", "table", "output format: table, json or yaml")
	_ = cmd.MarkFlagRequired("key")
	_ = cmd.MarkFlagRequired("new-key")
	return cmd
}

func newIdentityEndorseCommand(cl *clientFlags) *cobra.Command {
	var endorser, keyFile string
	cmd := &cobra.Command{
		Use:   "endorse MODEL --as ENDORSER --key FILE",
		Short: "Endorse a model's identity with another, verified, model's key",
		Long: `Vouch, as model ENDORSER, that MODEL's identity is genuine: sign, with
ENDORSER's verified key (--key), MODEL's id and current key id, and submit the
signature. You must own ENDORSER (or be an admin). A newer endorsement by
the same endorser replaces the older one; rotating MODEL's key keeps it.`,
		Example: `  modelgov identity endorse openai/gpt-5 --as meta/llama-3-1-405b --key llama.pem`,
		Args:    cobra.ExactArgs(1),
		RunE: cl.run(func(cmd *cobra.Command, args []string, c *client.Client) error {
			model := args[0]
			k, err := readPrivateKey(keyFile)
			if err != nil {
				return err
			}
			mine, err := c.GetIdentity(cmd.Context(), endorser)
			if err != nil {
				return fmt.Errorf("the endorser %s: %w", endorser, err)
			}
			if err := checkHolds(keyFile, k, endorser, mine); err != nil {
				return err
			}
			theirs, err := c.GetIdentity(cmd.Context(), model)
			if err != nil {
				return err
			}
			sig, err := k.Sign(api.EndorsementMessage(model, theirs.KeyID))
			if err != nil {
				return err
			}
			m, err := c.Endorse(cmd.Context(), model, api.EndorsementRequest{Endorser: endorser, Signature: sig}, client.WriteOptions{})
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s endorses key %s of %s (%d endorsements)\n", endorser, theirs.KeyID, m.ModelID, endorsements(m))
			return nil
		}),
	}
	cmd.Flags().StringVar(&endorser, "as", "", "the endorsing model, whose verified key --key holds")
	cmd.Flags().StringVar(&keyFile, "key", "", "the private key file (PEM) of the endorser's key")
	_ = cmd.MarkFlagRequired("as")
	_ = cmd.MarkFlagRequired("key")
	return cmd
}

func endorsements(m *api.Model) int {
	if m.Identity == nil {
		return 0
	}
	return len(m.Identity.Endorsements)
}

func newIdentityWithdrawCommand(cl *clientFlags) *cobra.Command {
	var endorser string
	cmd := &cobra.Command{
		Use:   "withdraw MODEL --as ENDORSER",
		Short: "Withdraw a model's endorsement of another's identity",
		Args:  cobra.ExactArgs(1),
		RunE: cl.run(func(cmd *cobra.Command, args []string, c *client.Client) error {
			m, err := c.WithdrawEndorsement(cmd.Context(), args[0], endorser, client.WriteOptions{})
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s no longer endorses %s (%d endorsements; role %s)\n", endorser, m.ModelID, endorsements(m), m.Role())
			return nil
		}),
	}
	cmd.Flags().StringVar(&endorser, "as", "", "the endorsing model whose endorsement to withdraw")
	_ = cmd.MarkFlagRequired("as")
	return cmd
}

func newIdentityRevokeCommand(cl *clientFlags) *cobra.Command {
	var reason string
	cmd := &cobra.Command{
		Use:   "revoke MODEL --reason TEXT",
		Short: "Revoke a model's identity (its key stays bound to it, unusable)",
		Long: `Revoke a model's identity: its key no longer speaks for it, its endorsements
are dropped and its endorsements of others stop counting. A general that no
longer meets its role's rules is lowered at once. The key stays claimed by
the model: no other model may register it. Register a new key afterwards.`,
		Args: cobra.ExactArgs(1),
		RunE: cl.run(func(cmd *cobra.Command, args []string, c *client.Client) error {
			m, err := c.RevokeIdentity(cmd.Context(), args[0], reason, client.WriteOptions{})
			if err != nil {
				return err
			}
			key := "-"
			if m.Identity != nil {
				key = m.Identity.KeyID
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s: key %s revoked (role %s)\n", m.ModelID, key, m.Role())
			return nil
		}),
	}
	cmd.Flags().StringVar(&reason, "reason", "", "why (recorded in the model's history)")
	_ = cmd.MarkFlagRequired("reason")
	return cmd
}

func newIdentityShowCommand(cl *clientFlags) *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "show MODEL",
		Short: "Show a model's identity and its endorsements",
		Args:  cobra.ExactArgs(1),
		RunE: cl.run(func(cmd *cobra.Command, args []string, c *client.Client) error {
			ident, err := c.GetIdentity(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			return printIdentity(cmd.OutOrStdout(), output, args[0], ident)
		}),
	}
	cmd.Flags().StringVarP(&output, "output", "o", "yaml", "output format: yaml, json or table")
	return cmd
}

// printIdentity writes a model's identity as a table (with its
// endorsements below), or whole as JSON or YAML.
func printIdentity(w io.Writer, format, model string, id *api.Identity) error {
	if id == nil {
		return fmt.Errorf("%s has no identity", model)
	}
	if format != "table" {
		return printStructured(w, format, id)
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "MODEL\tTYPE\tKEY ID\tSTATUS\tOWNER\tVERIFIED\tEXPIRES\tENDORSEMENTS")
	fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%d\n", model, id.KeyType, id.KeyID, id.StatusAt(time.Now()), id.Owner,
		timeOrDash(id.VerifiedAt), id.ExpiresAt.Format(time.RFC3339), len(id.Endorsements))
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(id.Endorsements) == 0 {
		return nil
	}
	fmt.Fprintln(w)
	tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ENDORSED BY\tKEY ID\tFOR KEY\tAT\tSUBMITTED BY")
	for _, e := range id.Endorsements {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", e.By, e.KeyID, e.EndorsedKeyID, e.At.Format(time.RFC3339), e.SubmittedBy)
	}
	return tw.Flush()
}

// newReviewCommand clears a model's near-duplicate review; it is a
// subcommand of "model".
func newReviewCommand(cl *clientFlags) *cobra.Command {
	var reason string
	cmd := &cobra.Command{
		Use:   "review NAME --reason TEXT",
		Short: "Clear a model held for review as a near-duplicate (governors)",
		Long: `A new model whose metadata nearly matches an existing model's is held for a
governor's review: it cannot be approved or become a general until a
governor finds it distinct and clears the review, giving the reason. To
reject a duplicate, delete or archive it instead.`,
		Example: `  modelgov model review meta/llama-3-70b-v2 --reason "retrained weights, distinct artifact"`,
		Args:    cobra.ExactArgs(1),
		RunE: cl.run(func(cmd *cobra.Command, args []string, c *client.Client) error {
			m, err := c.ClearReview(cmd.Context(), args[0], api.ReviewResolution{Status: api.ReviewCleared, Reason: reason}, client.WriteOptions{})
			if err != nil {
				return err
			}
			by := "-"
			if m.Governance != nil && m.Governance.Review != nil {
				by = m.Governance.Review.ResolvedBy
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s: review cleared by %s\n", m.ModelID, by)
			return nil
		}),
	}
	cmd.Flags().StringVar(&reason, "reason", "", "why the model is distinct (recorded in its history)")
	_ = cmd.MarkFlagRequired("reason")
	return cmd
}
