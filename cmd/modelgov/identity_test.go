package main

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/hivellm/modelgov/api"
	"github.com/hivellm/modelgov/client"
)

// authedCommandLine runs the modelgov client with credentials: the flags
// that name them go before every command.
type authedCommandLine struct {
	cl    commandLine
	flags []string
}

// adminCommandLine runs the client as the admin, with the token the server
// wrote in its data directory on first start.
func adminCommandLine(srv *serverProcess) authedCommandLine {
	return authedCommandLine{cl: srv.cli()}
}

// withToken runs the client with the API token secret (and no token file).
func withToken(srv *serverProcess, secret string) authedCommandLine {
	return authedCommandLine{cl: commandLine{url: srv.URL}, flags: []string{"--token", secret}}
}

func (c authedCommandLine) run(t *testing.T, stdin string, args ...string) cliResult {
	t.Helper()
	return c.cl.run(t, stdin, append(append([]string(nil), c.flags...), args...)...)
}

func (c authedCommandLine) succeed(t *testing.T, stdin string, args ...string) string {
	t.Helper()
	return c.cl.succeed(t, stdin, append(append([]string(nil), c.flags...), args...)...)
}

func (c authedCommandLine) fail(t *testing.T, stdin string, args ...string) cliResult {
	t.Helper()
	return c.cl.fail(t, stdin, append(append([]string(nil), c.flags...), args...)...)
}

// startIdentityServer starts a server without a rate limit, so that the
// many identity operations of a test are never told to wait.
func startIdentityServer(t *testing.T) (*serverProcess, authedCommandLine) {
	t.Helper()
	srv := startServer(t, t.TempDir(), "--rate-limit", "0")
	return srv, adminCommandLine(srv)
}

// adminClient returns an API client with the admin token, for the checks
// that need the HTTP status the command line does not print.
func adminClient(t *testing.T, srv *serverProcess) *client.Client {
	t.Helper()
	c, err := client.New(srv.URL, client.WithToken(srv.adminToken(t)))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// secretPattern matches an API token secret, or more of one than its
// 4-character display prefix (mgv_XXXX).
var secretPattern = regexp.MustCompile(`mgv_[0-9A-Za-z]{5,}`)

// TestTokenLifecycle: an admin creates a token, which works at once, is
// listed without its secret, and is refused at once once revoked.
func TestTokenLifecycle(t *testing.T) {
	srv, admin := startIdentityServer(t)

	if out := admin.succeed(t, "", "whoami"); !strings.Contains(out, "admin") || !strings.Contains(out, "token") {
		t.Errorf("whoami as the admin:\n%s", out)
	}

	res := admin.run(t, "", "token", "create", "--name", "ci-bot", "--role", "maintainer", "--role", "viewer", "--expires-in", "720h")
	if res.exitCode != 0 {
		t.Fatalf("token create: exit %d\n%s", res.exitCode, res.stderr)
	}
	secret := strings.TrimSuffix(res.stdout, "\n")
	if !regexp.MustCompile(`^mgv_[0-9A-Za-z]{49}$`).MatchString(secret) {
		t.Fatalf("token create printed %q, want the secret alone on its line", res.stdout)
	}
	if !strings.Contains(res.stderr, "not shown again") {
		t.Errorf("token create did not warn that the secret is shown once; stderr:\n%s", res.stderr)
	}

	bot := withToken(srv, secret)
	var p api.Principal
	if err := json.Unmarshal([]byte(bot.succeed(t, "", "whoami", "-o", "json")), &p); err != nil {
		t.Fatalf("whoami -o json: %v", err)
	}
	if p.Name != "ci-bot" || strings.Join(p.Roles, ",") != "maintainer,viewer" || p.Method != "token" || p.ExpiresAt == nil {
		t.Errorf("whoami with the new token: %+v", p)
	}
	tokenID := p.TokenID
	if !strings.HasPrefix(tokenID, "tok_") {
		t.Fatalf("whoami: token id %q", tokenID)
	}
	if res := bot.fail(t, "", "token", "list"); !strings.Contains(res.stderr, "forbidden") {
		t.Errorf("token list as a maintainer: %s", res.stderr)
	}

	// -o json prints the whole token, secret included, for scripts.
	var second api.Token
	out := admin.succeed(t, "", "token", "create", "--name", "alice", "--role", "governor", "-o", "json")
	if err := json.Unmarshal([]byte(out), &second); err != nil {
		t.Fatalf("token create -o json: %v\n%s", err, out)
	}
	if !strings.HasPrefix(second.Token, "mgv_") || second.Name != "alice" || second.ExpiresAt != nil {
		t.Errorf("token create -o json: %+v", second)
	}

	for _, format := range []string{"table", "json", "yaml"} {
		out := admin.succeed(t, "", "token", "list", "-o", format)
		for _, want := range []string{tokenID, "ci-bot", second.ID, "alice", "admin"} {
			if !strings.Contains(out, want) {
				t.Errorf("token list -o %s lacks %s:\n%s", format, want, out)
			}
		}
		if leak := secretPattern.FindString(out); leak != "" || strings.Contains(out, secret) || strings.Contains(out, second.Token) {
			t.Errorf("token list -o %s shows a secret (%q):\n%s", format, leak, out)
		}
	}
	if out := admin.succeed(t, "", "token", "list"); !strings.Contains(out, "ID") || !strings.Contains(out, "REVOKED") {
		t.Errorf("token list table has no header:\n%s", out)
	}

	if out := admin.succeed(t, "", "token", "revoke", tokenID); !strings.Contains(out, "revoked") {
		t.Errorf("token revoke: %s", out)
	}
	res = bot.fail(t, "", "whoami")
	if !strings.Contains(res.stderr, "unauthenticated") || !strings.Contains(res.stderr, "revoked") {
		t.Errorf("whoami with the revoked token: %s", res.stderr)
	}
	if strings.Contains(res.stderr, secret) {
		t.Errorf("the refusal repeats the secret: %s", res.stderr)
	}
	// The same refusal, at the HTTP level: 401 with a Bearer challenge.
	req, _ := http.NewRequest("GET", srv.URL+"/v1/whoami", nil)
	req.Header.Set("Authorization", "Bearer "+secret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized || !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Bearer") {
		t.Errorf("GET /v1/whoami with a revoked token: %d, WWW-Authenticate %q", resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
	}
	out = admin.succeed(t, "", "token", "list")
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, tokenID) && strings.HasSuffix(strings.TrimSpace(line), "-") {
			t.Errorf("token list shows the revoked token without its revocation time:\n%s", out)
		}
	}
	if res := admin.fail(t, "", "token", "create", "--name", "x", "--role", "emperor"); !strings.Contains(res.stderr, "/roles/0") {
		t.Errorf("token create with an unknown role: %s", res.stderr)
	}
}

// identityModels registers models for the identity tests: distinct
// providers and families, so that none is held as a near-duplicate.
const identityModels = `
schema_version: "1.1"
model_id: acme/alpha
provider: acme
display_name: Alpha
family: alpha
---
schema_version: "1.1"
model_id: globex/beta
provider: globex
display_name: Beta
family: beta
---
schema_version: "1.1"
model_id: initech/gamma
provider: initech
display_name: Gamma
family: gamma
`

// showIdentity returns a model's identity as "identity show -o json" prints it.
func showIdentity(t *testing.T, cl authedCommandLine, model string) api.Identity {
	t.Helper()
	var id api.Identity
	out := cl.succeed(t, "", "identity", "show", model, "-o", "json")
	if err := json.Unmarshal([]byte(out), &id); err != nil {
		t.Fatalf("identity show %s -o json: %v\n%s", model, err, out)
	}
	return id
}

// keygen makes a key pair in dir and returns the private key file and the
// key's id.
func keygen(t *testing.T, cl authedCommandLine, dir, name, keyType string) (file, keyID string) {
	t.Helper()
	file = filepath.Join(dir, name)
	var info keyInfo
	out := cl.succeed(t, "", "identity", "keygen", "--type", keyType, "--out", file, "-o", "json")
	if err := json.Unmarshal([]byte(out), &info); err != nil {
		t.Fatalf("identity keygen -o json: %v\n%s", err, out)
	}
	if info.KeyType != keyType || len(info.KeyID) != 32 || info.PublicKey == "" {
		t.Fatalf("identity keygen --type %s: %+v", keyType, info)
	}
	return file, info.KeyID
}

// TestIdentityKeygenRegisterProve: for each key type, a key made by keygen
// registers, proves, and the identity reads back verified.
func TestIdentityKeygenRegisterProve(t *testing.T) {
	_, admin := startIdentityServer(t)
	admin.succeed(t, identityModels, "model", "apply", "-f", "-")
	dir := t.TempDir()
	for model, keyType := range map[string]string{"acme/alpha": api.KeyEd25519, "globex/beta": api.KeySecp256k1} {
		t.Run(keyType, func(t *testing.T) {
			key := filepath.Join(dir, keyType+".pem")
			out := admin.succeed(t, "", "identity", "keygen", "--type", keyType, "--out", key)
			m := regexp.MustCompile(`key id:\s+([0-9a-f]{32})`).FindStringSubmatch(out)
			if m == nil || !strings.Contains(out, "public key:") || !strings.Contains(out, keyType) {
				t.Fatalf("identity keygen:\n%s", out)
			}
			keyID := m[1]
			info, err := os.Stat(key)
			if err != nil {
				t.Fatal(err)
			}
			if mode := info.Mode().Perm(); mode != 0o600 {
				t.Errorf("the private key file has mode %o, want 600", mode)
			}
			pem, _ := os.ReadFile(key)
			if !strings.Contains(string(pem), "PRIVATE KEY-----") || strings.Contains(out, string(pem)) {
				t.Errorf("the key file is not PEM, or keygen printed the private key")
			}
			if res := admin.fail(t, "", "identity", "keygen", "--type", keyType, "--out", key); !strings.Contains(res.stderr, "--force") {
				t.Errorf("keygen over an existing file: %s", res.stderr)
			}
			if again, _ := os.ReadFile(key); string(again) != string(pem) {
				t.Fatalf("keygen without --force changed the existing key file")
			}

			out = admin.succeed(t, "", "identity", "register", model, "--key", key, "--artifact-digest", "sha256:"+strings.Repeat(keyID, 2))
			if !strings.Contains(out, keyID) || !strings.Contains(out, "unverified") {
				t.Errorf("identity register: %s", out)
			}
			if id := showIdentity(t, admin, model); id.Status != api.IdentityUnverified || id.KeyType != keyType || id.KeyID != keyID {
				t.Errorf("after register: %+v", id)
			}
			if out := admin.succeed(t, "", "identity", "register", model, "--key", key); !strings.Contains(out, "already holds") {
				t.Errorf("registering the same key again: %s", out)
			}

			out = admin.succeed(t, "", "identity", "prove", model, "--key", key)
			if !strings.Contains(out, "verified") || !strings.Contains(out, keyID) {
				t.Errorf("identity prove: %s", out)
			}
			id := showIdentity(t, admin, model)
			if id.Status != api.IdentityVerified || id.VerifiedAt == nil || id.Owner != "admin" {
				t.Errorf("after prove: %+v", id)
			}
			// Proving again renews the proof.
			admin.succeed(t, "", "identity", "prove", model, "--key", key)

			if out := admin.succeed(t, "", "identity", "keygen", "--type", keyType, "--out", key, "--force"); strings.Contains(out, keyID) {
				t.Errorf("keygen --force printed the old key id:\n%s", out)
			}
		})
	}
	// A public key given in base64 registers as well.
	_, gammaID := keygen(t, admin, dir, "gamma.pem", api.KeySecp256k1)
	var info keyInfo
	json.Unmarshal([]byte(admin.succeed(t, "", "identity", "keygen", "--type", "secp256k1", "--out", filepath.Join(dir, "g2.pem"), "-o", "json")), &info)
	out := admin.succeed(t, "", "identity", "register", "initech/gamma", "--public-key", info.PublicKey, "--type", "secp256k1")
	if !strings.Contains(out, info.KeyID) || strings.Contains(out, gammaID) {
		t.Errorf("register --public-key: %s", out)
	}
}

// TestIdentityRotateAndEndorse: a rotation signed by both keys keeps the
// identity verified; a verified model endorses another; an unverified one
// cannot.
func TestIdentityRotateAndEndorse(t *testing.T) {
	_, admin := startIdentityServer(t)
	admin.succeed(t, identityModels, "model", "apply", "-f", "-")
	dir := t.TempDir()
	alphaKey, alphaID := keygen(t, admin, dir, "alpha.pem", api.KeyEd25519)
	betaKey, betaID := keygen(t, admin, dir, "beta.pem", api.KeySecp256k1)
	gammaKey, _ := keygen(t, admin, dir, "gamma.pem", api.KeyEd25519)
	for model, key := range map[string]string{"acme/alpha": alphaKey, "globex/beta": betaKey, "initech/gamma": gammaKey} {
		admin.succeed(t, "", "identity", "register", model, "--key", key)
	}
	admin.succeed(t, "", "identity", "prove", "acme/alpha", "--key", alphaKey)
	admin.succeed(t, "", "identity", "prove", "globex/beta", "--key", betaKey)

	// beta, verified, endorses alpha.
	out := admin.succeed(t, "", "identity", "endorse", "acme/alpha", "--as", "globex/beta", "--key", betaKey)
	if !strings.Contains(out, "globex/beta endorses key "+alphaID) {
		t.Errorf("identity endorse: %s", out)
	}
	id := showIdentity(t, admin, "acme/alpha")
	if len(id.Endorsements) != 1 || id.Endorsements[0].By != "globex/beta" || id.Endorsements[0].KeyID != betaID || id.Endorsements[0].EndorsedKeyID != alphaID {
		t.Errorf("alpha's endorsements: %+v", id.Endorsements)
	}
	// gamma is not verified: its endorsement is refused.
	res := admin.fail(t, "", "identity", "endorse", "acme/alpha", "--as", "initech/gamma", "--key", gammaKey)
	if !strings.Contains(res.stderr, "no verified identity") {
		t.Errorf("endorsement by an unverified model: %s", res.stderr)
	}
	// The endorser's key file must hold the endorser's key.
	res = admin.fail(t, "", "identity", "endorse", "initech/gamma", "--as", "globex/beta", "--key", alphaKey)
	if !strings.Contains(res.stderr, "not globex/beta's registered key "+betaID) {
		t.Errorf("endorsement with another model's key: %s", res.stderr)
	}

	// alpha rotates to a new key: both keys sign, it stays verified, and
	// beta's endorsement carries over.
	newKey, newID := keygen(t, admin, dir, "alpha-2.pem", api.KeyEd25519)
	out = admin.succeed(t, "", "identity", "rotate", "acme/alpha", "--key", alphaKey, "--new-key", newKey)
	if !strings.Contains(out, newID) || !strings.Contains(out, "verified") {
		t.Errorf("identity rotate: %s", out)
	}
	id = showIdentity(t, admin, "acme/alpha")
	if id.KeyID != newID || id.Status != api.IdentityVerified || id.RotatedFrom != alphaID || len(id.Endorsements) != 1 {
		t.Errorf("after rotation: %+v", id)
	}
	admin.succeed(t, "", "identity", "prove", "acme/alpha", "--key", newKey)
	if res := admin.fail(t, "", "identity", "prove", "acme/alpha", "--key", alphaKey); !strings.Contains(res.stderr, "not acme/alpha's registered key "+newID) {
		t.Errorf("prove with the key rotated away: %s", res.stderr)
	}
	// Rotating from a key that is no longer the model's is refused.
	otherKey, _ := keygen(t, admin, dir, "alpha-3.pem", api.KeyEd25519)
	if res := admin.fail(t, "", "identity", "rotate", "acme/alpha", "--key", alphaKey, "--new-key", otherKey); !strings.Contains(res.stderr, "registered key") {
		t.Errorf("rotate with a stale key: %s", res.stderr)
	}
	// A new key without rotation is refused.
	if res := admin.fail(t, "", "identity", "register", "acme/alpha", "--key", otherKey); !strings.Contains(res.stderr, "rotation") {
		t.Errorf("register a new key without rotation: %s", res.stderr)
	}

	// beta endorses the new key; then withdraws.
	admin.succeed(t, "", "identity", "endorse", "acme/alpha", "--as", "globex/beta", "--key", betaKey)
	if id := showIdentity(t, admin, "acme/alpha"); len(id.Endorsements) != 1 || id.Endorsements[0].EndorsedKeyID != newID {
		t.Errorf("after endorsing the new key: %+v", id.Endorsements)
	}
	if out := admin.succeed(t, "", "identity", "withdraw", "acme/alpha", "--as", "globex/beta"); !strings.Contains(out, "0 endorsements") {
		t.Errorf("identity withdraw: %s", out)
	}
	if res := admin.fail(t, "", "identity", "withdraw", "acme/alpha", "--as", "globex/beta"); !strings.Contains(res.stderr, "no endorsement") {
		t.Errorf("withdrawing twice: %s", res.stderr)
	}

	// Revocation.
	if res := admin.fail(t, "", "identity", "revoke", "globex/beta"); !strings.Contains(res.stderr, "reason") {
		t.Errorf("revoke without a reason: %s", res.stderr)
	}
	if out := admin.succeed(t, "", "identity", "revoke", "globex/beta", "--reason", "key leaked"); !strings.Contains(out, betaID+" revoked") {
		t.Errorf("identity revoke: %s", out)
	}
	if id := showIdentity(t, admin, "globex/beta"); id.Status != api.IdentityRevoked || id.RevokedReason != "key leaked" {
		t.Errorf("after revoke: %+v", id)
	}
	if out := admin.succeed(t, "", "identity", "show", "acme/alpha", "-o", "table"); !strings.Contains(out, "KEY ID") || !strings.Contains(out, newID) {
		t.Errorf("identity show -o table:\n%s", out)
	}
}

// TestIdentityDuplicateKeyRefused: a key speaks for one model only; a
// second model registering it is refused (409), on the record.
func TestIdentityDuplicateKeyRefused(t *testing.T) {
	srv, admin := startIdentityServer(t)
	admin.succeed(t, identityModels, "model", "apply", "-f", "-")
	key, keyID := keygen(t, admin, t.TempDir(), "shared.pem", api.KeyEd25519)
	admin.succeed(t, "", "identity", "register", "acme/alpha", "--key", key)

	res := admin.fail(t, "", "identity", "register", "globex/beta", "--key", key)
	if !strings.Contains(res.stderr, "conflict") || !strings.Contains(res.stderr, "key "+keyID+" is already the identity of model acme/alpha") {
		t.Errorf("registering another model's key: %s", res.stderr)
	}
	// The same refusal through the API client: 409.
	c := adminClient(t, srv)
	pub := showIdentity(t, admin, "acme/alpha").PublicKey
	_, _, err := c.RegisterIdentity(context.Background(), "globex/beta", api.IdentityRegistration{PublicKey: pub}, client.WriteOptions{})
	if client.StatusOf(err) != http.StatusConflict {
		t.Errorf("RegisterIdentity of another model's key: %v (status %d), want 409", err, client.StatusOf(err))
	}
	if _, err := c.GetIdentity(context.Background(), "globex/beta"); !client.IsNotFound(err) {
		t.Errorf("globex/beta has an identity after the refusals: %v", err)
	}

	out := admin.succeed(t, "", "audit", "log", "--model", "globex/beta", "--outcome", "denied")
	if !strings.Contains(out, "model.identity") || !strings.Contains(out, "identity-unique") || !strings.Contains(out, "denied") {
		t.Errorf("audit log of the refusal:\n%s", out)
	}
	out = admin.succeed(t, "", "audit", "log", "--model", "globex/beta", "--outcome", "denied", "-o", "json")
	if !strings.Contains(out, "already the identity of model acme/alpha") {
		t.Errorf("audit log -o json of the refusal:\n%s", out)
	}
	// Even after alpha's identity is revoked, the key stays alpha's.
	admin.succeed(t, "", "identity", "revoke", "acme/alpha", "--reason", "retired")
	if res := admin.fail(t, "", "identity", "register", "globex/beta", "--key", key); !strings.Contains(res.stderr, "already the identity of model acme/alpha") {
		t.Errorf("registering a revoked key of another model: %s", res.stderr)
	}
}

// TestIdentityProveWrongKey: proving with a key that is not the model's
// fails with a message that names both keys.
func TestIdentityProveWrongKey(t *testing.T) {
	_, admin := startIdentityServer(t)
	admin.succeed(t, identityModels, "model", "apply", "-f", "-")
	dir := t.TempDir()
	key, keyID := keygen(t, admin, dir, "right.pem", api.KeyEd25519)
	wrong, wrongID := keygen(t, admin, dir, "wrong.pem", api.KeyEd25519)
	admin.succeed(t, "", "identity", "register", "acme/alpha", "--key", key)

	res := admin.fail(t, "", "identity", "prove", "acme/alpha", "--key", wrong)
	want := wrong + " holds ed25519 key " + wrongID + ", not acme/alpha's registered key " + keyID
	if !strings.Contains(res.stderr, want) {
		t.Errorf("prove with the wrong key: stderr %q, want it to contain %q", res.stderr, want)
	}
	if id := showIdentity(t, admin, "acme/alpha"); id.Status != api.IdentityUnverified {
		t.Errorf("after a failed proof: %+v", id)
	}
	if res := admin.fail(t, "", "identity", "prove", "globex/beta", "--key", key); !strings.Contains(res.stderr, "has no identity") {
		t.Errorf("prove a model without an identity: %s", res.stderr)
	}
	junk := filepath.Join(dir, "junk.pem")
	os.WriteFile(junk, []byte("not a key\n"), 0o600)
	if res := admin.fail(t, "", "identity", "prove", "acme/alpha", "--key", junk); !strings.Contains(res.stderr, "no PEM private key") {
		t.Errorf("prove with a file that holds no key: %s", res.stderr)
	}
	if res := admin.fail(t, "", "identity", "register", "acme/alpha"); !strings.Contains(res.stderr, "--key") {
		t.Errorf("register without a key: %s", res.stderr)
	}
	admin.succeed(t, "", "identity", "prove", "acme/alpha", "--key", key)
}

// TestIdentityReviewClear: a near-duplicate is held for review, and
// "model review" clears it.
func TestIdentityReviewClear(t *testing.T) {
	_, admin := startIdentityServer(t)
	admin.succeed(t, `
schema_version: "1.1"
model_id: acme/widget-70b
provider: acme
display_name: Widget 70B
family: widget
parameters: {count: 70e9, source: declared}
context_window: 128000
---
schema_version: "1.1"
model_id: acme/widget-70c
provider: acme
display_name: Widget 70C
family: widget
parameters: {count: 70e9, source: declared}
context_window: 128000
`, "model", "apply", "-f", "-")
	var m api.Model
	json.Unmarshal([]byte(admin.succeed(t, "", "model", "get", "acme/widget-70c", "-o", "json")), &m)
	if m.Governance == nil || m.Governance.Review == nil || m.Governance.Review.Status != api.ReviewPending {
		t.Fatalf("the near-duplicate is not held for review: %+v", m.Governance)
	}
	if out := admin.succeed(t, "", "model", "review", "acme/widget-70c", "--reason", "distinct weights"); !strings.Contains(out, "review cleared by admin") {
		t.Errorf("model review: %s", out)
	}
	json.Unmarshal([]byte(admin.succeed(t, "", "model", "get", "acme/widget-70c", "-o", "json")), &m)
	if r := m.Governance.Review; r == nil || r.Status != api.ReviewCleared || r.Resolution != "distinct weights" {
		t.Errorf("after model review: %+v", r)
	}
	if res := admin.fail(t, "", "model", "review", "acme/widget-70b", "--reason", "r"); !strings.Contains(res.stderr, "not held for review") {
		t.Errorf("clearing a model that is not held: %s", res.stderr)
	}
}
