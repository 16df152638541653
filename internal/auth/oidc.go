package auth

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/coreos/go-oidc/v3/oidc"

	"github.com/hivellm/modelgov/api"
	"github.com/hivellm/modelgov/internal/errs"
)

// Defaults of OIDCConfig.
const (
	// DefaultUsernameClaim is the claim that names the user.
	DefaultUsernameClaim = "sub"
	// DefaultUsernamePrefix starts the name of every OIDC principal, so
	// that no OIDC user can pass for the name of an API token.
	DefaultUsernamePrefix = "oidc:"
	// DefaultRolesClaim is the claim that lists the user's roles.
	DefaultRolesClaim = "roles"
)

const (
	// maxJWTLength bounds the tokens Authenticate parses at all. Real
	// tokens, even with many group claims, are a few kilobytes.
	maxJWTLength = 32 << 10
	// maxUsernameLength bounds the username claim, in bytes.
	maxUsernameLength = 256
	// defaultHTTPTimeout bounds each request to the issuer when the
	// configuration gives no client. go-oidc fetches the keys in the
	// background without cancellation, so a fetch that never ended would
	// stop every later key refresh.
	defaultHTTPTimeout = 15 * time.Second
)

// MethodOIDC is the api.Principal Method of a principal authenticated by an
// OIDC token.
const MethodOIDC = "oidc"

// OIDCConfig configures an OIDC authenticator.
type OIDCConfig struct {
	// Issuer is the issuer URL, exactly as the issuer writes it in its
	// discovery document and in the iss claim of its tokens.
	Issuer string
	// Audience is the value the aud claim of a token must contain: the
	// client id (or API identifier) the issuer gives modelgov. Required.
	Audience string
	// UsernameClaim names the claim, a non-empty string, that names the
	// user. Default DefaultUsernameClaim ("sub").
	UsernameClaim string
	// UsernamePrefix starts the principal's name, which is UsernamePrefix
	// followed by the value of the username claim, so that it cannot
	// collide with the name of an API token. Default DefaultUsernamePrefix
	// ("oidc:"); it cannot be empty.
	UsernamePrefix string
	// RolesClaim names the claim that lists the user's roles: a JSON array
	// of strings, or a string that is either one value or several
	// separated by spaces (it is one value if it maps to a role as a
	// whole). Default DefaultRolesClaim ("roles").
	RolesClaim string
	// RoleMap, when not nil, maps values of the roles claim (such as group
	// names) to modelgov roles (api.RoleAdmin ...); values it does not
	// list are dropped. When nil, values that are modelgov role names are
	// the roles themselves, and other values are dropped. Matching is
	// exact and case-sensitive.
	RoleMap map[string]string
	// HTTPClient, when set, is the client used to reach the issuer (for
	// discovery and for its keys). Default: a client with a 15-second
	// timeout.
	HTTPClient *http.Client
}

// OIDC authenticates bearer JWTs issued by one OpenID Connect issuer. It
// is safe for concurrent use.
type OIDC struct {
	verifier       *oidc.IDTokenVerifier
	usernameClaim  string
	usernamePrefix string
	rolesClaim     string
	roleMap        map[string]string
}

// NewOIDC returns an authenticator for the issuer of cfg. It fetches the
// issuer's discovery document (/.well-known/openid-configuration) with
// ctx, so the issuer must be reachable; the signing keys are fetched when
// the first token arrives, and again whenever a token names a key the
// authenticator does not hold, which is how the issuer's key rotations are
// followed. Tokens must be signed with an algorithm the discovery document
// lists (RS256 when it lists none).
func NewOIDC(ctx context.Context, cfg OIDCConfig) (*OIDC, error) {
	if cfg.Issuer == "" {
		return nil, errors.New("oidc: the issuer URL is required")
	}
	if cfg.Audience == "" {
		return nil, errors.New("oidc: the audience is required")
	}
	o := &OIDC{
		usernameClaim:  cmp.Or(cfg.UsernameClaim, DefaultUsernameClaim),
		usernamePrefix: cmp.Or(cfg.UsernamePrefix, DefaultUsernamePrefix),
		rolesClaim:     cmp.Or(cfg.RolesClaim, DefaultRolesClaim),
	}
	if cfg.RoleMap != nil {
		o.roleMap = make(map[string]string, len(cfg.RoleMap))
		for from, to := range cfg.RoleMap {
			if !isRole(to) {
				return nil, fmt.Errorf("oidc: the role map maps %q to %q, which is not a modelgov role (%s)",
					from, to, strings.Join(api.PrincipalRoles(), ", "))
			}
			o.roleMap[from] = to
		}
	}
	client := cfg.HTTPClient
	if client == nil {
		client = &http.Client{Timeout: defaultHTTPTimeout}
	}
	provider, err := oidc.NewProvider(oidc.ClientContext(ctx, client), cfg.Issuer)
	if err != nil {
		return nil, fmt.Errorf("oidc: discovering issuer %s: %w", cfg.Issuer, err)
	}
	// Provider.Verifier fetches keys with the client above and a context
	// of its own, not with ctx, which may be a short-lived start-up one.
	o.verifier = provider.Verifier(&oidc.Config{ClientID: cfg.Audience})
	return o, nil
}

// Authenticate verifies rawJWT (the signature, by one of the issuer's
// current keys; the issuer; the audience; the expiry, and the not-before
// time with 5 minutes of leeway) and returns the principal it stands for:
//
//   - Name is the username prefix and the value of the username claim,
//     which must be a non-empty string of at most 256 bytes with no
//     control characters;
//   - Roles are the modelgov roles the roles claim maps to, each once, in
//     the order of api.PrincipalRoles();
//   - Method is MethodOIDC and ExpiresAt the token's expiry.
//
// A token whose roles claim is missing, or maps to no modelgov role, is
// authenticated with no roles (an empty, non-nil Roles): the caller
// decides what such a principal may do. A roles claim of another type than
// a string or an array of strings is refused.
//
// A refusal is an error of kind errs.Unauthenticated whose message, which
// starts with "oidc: ", says why and never contains the token; the caller
// adds its own context. errors.As finds an *oidc.TokenExpiredError in the
// chain of the error for an expired token.
func (o *OIDC) Authenticate(ctx context.Context, rawJWT string) (*api.Principal, error) {
	if len(rawJWT) > maxJWTLength {
		return nil, refuse(fmt.Errorf("oidc: the token is longer than %d bytes", maxJWTLength), rawJWT)
	}
	idt, err := o.verifier.Verify(ctx, rawJWT)
	if err != nil {
		return nil, refuse(err, rawJWT)
	}
	var claims map[string]json.RawMessage
	if err := idt.Claims(&claims); err != nil {
		return nil, refuse(fmt.Errorf("oidc: reading the claims: %w", err), rawJWT)
	}
	name, err := o.username(claims)
	if err != nil {
		return nil, refuse(err, rawJWT)
	}
	values, err := o.roleValues(claims[o.rolesClaim])
	if err != nil {
		return nil, refuse(fmt.Errorf("oidc: the %q claim: %w", o.rolesClaim, err), rawJWT)
	}
	exp := idt.Expiry.UTC()
	return &api.Principal{
		Name:      o.usernamePrefix + name,
		Roles:     o.mapRoles(values),
		Method:    MethodOIDC,
		ExpiresAt: &exp,
	}, nil
}

// username returns the value of the username claim.
func (o *OIDC) username(claims map[string]json.RawMessage) (string, error) {
	raw, ok := claims[o.usernameClaim]
	if !ok || isNull(raw) {
		return "", fmt.Errorf("oidc: the token has no %q claim to name the user", o.usernameClaim)
	}
	var name string
	if err := json.Unmarshal(raw, &name); err != nil {
		return "", fmt.Errorf("oidc: the %q claim, which names the user, is not a string", o.usernameClaim)
	}
	switch {
	case name == "":
		return "", fmt.Errorf("oidc: the %q claim, which names the user, is empty", o.usernameClaim)
	case len(name) > maxUsernameLength:
		return "", fmt.Errorf("oidc: the %q claim, which names the user, is longer than %d bytes", o.usernameClaim, maxUsernameLength)
	case !utf8.ValidString(name) || strings.IndexFunc(name, unicode.IsControl) >= 0:
		return "", fmt.Errorf("oidc: the %q claim, which names the user, has control characters or invalid UTF-8", o.usernameClaim)
	}
	return name, nil
}

// roleValues returns the values of a roles claim: the strings of an array;
// for a string, the string itself if it maps to a role as a whole (a group
// name with spaces in it), else its space-separated words. A missing or
// null claim has none.
func (o *OIDC) roleValues(raw json.RawMessage) ([]string, error) {
	if isNull(raw) {
		return nil, nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		if isRole(o.mapRole(s)) {
			return []string{s}, nil
		}
		return strings.Fields(s), nil
	}
	var list []*string
	if err := json.Unmarshal(raw, &list); err != nil {
		return nil, errors.New("it is neither a string nor an array of strings")
	}
	values := make([]string, 0, len(list))
	for _, v := range list {
		if v == nil {
			return nil, errors.New("it is an array with a null in it")
		}
		values = append(values, *v)
	}
	return values, nil
}

// mapRoles maps claim values to modelgov roles, dropping the unknown ones,
// and returns them once each in the order of api.PrincipalRoles().
func (o *OIDC) mapRoles(values []string) []string {
	held := make(map[string]bool, len(values))
	for _, v := range values {
		if role := o.mapRole(v); isRole(role) {
			held[role] = true
		}
	}
	roles := []string{}
	for _, r := range api.PrincipalRoles() {
		if held[r] {
			roles = append(roles, r)
		}
	}
	return roles
}

// mapRole returns the role a claim value stands for, which may not be a
// modelgov role.
func (o *OIDC) mapRole(v string) string {
	if o.roleMap != nil {
		return o.roleMap[v]
	}
	return v
}

func isRole(s string) bool {
	return slices.Contains(api.PrincipalRoles(), s)
}

func isNull(raw json.RawMessage) bool {
	raw = bytes.TrimSpace(raw)
	return len(raw) == 0 || string(raw) == "null"
}

// refuse returns the Unauthenticated error for a refused token. Its
// message is err's alone (the caller adds its own context), with the token
// and any long piece of it taken out in case a library quoted part of it;
// err stays in the chain for errors.As.
func refuse(err error, rawJWT string) error {
	msg := redact(err.Error(), rawJWT)
	if !strings.HasPrefix(msg, "oidc: ") {
		msg = "oidc: " + msg
	}
	return &redactedError{
		msg: msg,
		err: &errs.Error{Kind: errs.Unauthenticated, Err: err},
	}
}

// redactedError is an error whose message has been cleaned of secrets.
type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }

// redact removes from msg the token and each of its dot-separated pieces
// of 8 bytes or more (shorter ones are too common to remove and say
// nothing about the token).
func redact(msg, rawJWT string) string {
	if rawJWT == "" {
		return msg
	}
	msg = strings.ReplaceAll(msg, rawJWT, "[token]")
	for part := range strings.SplitSeq(rawJWT, ".") {
		if len(part) >= 8 {
			msg = strings.ReplaceAll(msg, part, "[redacted]")
		}
	}
	return msg
}

// LooksLikeJWT reports whether s has the shape of a JWT in compact
// serialization: three base64url segments (without padding) separated by
// dots, the first two non-empty. It is a cheap test for telling a JWT from
// an API token (which has no dots), not a check of validity. The third
// segment, the signature, may be empty so that an unsigned ("alg": "none")
// token is recognised as a JWT, and refused as one.
func LooksLikeJWT(s string) bool {
	if len(s) > maxJWTLength {
		return false
	}
	header, rest, ok := strings.Cut(s, ".")
	if !ok {
		return false
	}
	payload, signature, ok := strings.Cut(rest, ".")
	if !ok {
		return false
	}
	return header != "" && payload != "" &&
		isBase64URL(header) && isBase64URL(payload) && isBase64URL(signature)
}

// isBase64URL reports whether s is unpadded base64url: only characters of
// that alphabet, and a length that some byte string encodes to.
func isBase64URL(s string) bool {
	if len(s)%4 == 1 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !isBase62(c) && c != '-' && c != '_' {
			return false
		}
	}
	return true
}
