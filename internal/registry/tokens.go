package registry

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/hivellm/modelgov/api"
	"github.com/hivellm/modelgov/internal/auth"
	"github.com/hivellm/modelgov/internal/errs"
	"github.com/hivellm/modelgov/internal/store"
)

// MaxTokenLifetime is the longest an API token may be valid for.
const MaxTokenLifetime = 5 * 365 * 24 * time.Hour

// BootstrapTokenName is the principal of the admin token the registry
// creates on its first start.
const BootstrapTokenName = "admin"

// principalName is the syntax of a token's name: no colon, so that it can
// never be taken for the registry's own principal (system:modelgov) or an
// OIDC one (oidc:...), nor for anonymous, which has none either but is
// refused by name.
var principalName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._@+-]{0,127}$`)

// CreateToken creates an API token and returns it with its secret, which
// is shown this once: the registry keeps only its hash. Only admins may
// create tokens.
func (s *Service) CreateToken(ctx context.Context, req api.TokenRequest, opts WriteOptions) (*api.Token, error) {
	name := strings.TrimSpace(req.Name)
	roles, fields := checkTokenRequest(name, req.Roles)
	now := s.now().UTC()
	if req.ExpiresAt != nil {
		switch at := req.ExpiresAt.UTC(); {
		case !at.After(now):
			fields = append(fields, api.FieldError{Pointer: "/expires_at", Message: "must be in the future"})
		case at.After(now.Add(MaxTokenLifetime)):
			fields = append(fields, api.FieldError{Pointer: "/expires_at", Message: "must be within 5 years"})
		}
	}
	if len(fields) > 0 {
		return nil, errs.InvalidFields("invalid token request", fields)
	}
	return s.createToken(ctx, name, roles, req.ExpiresAt, opts, nil)
}

func checkTokenRequest(name string, roles []string) ([]string, []api.FieldError) {
	var fields []api.FieldError
	if !principalName.MatchString(name) || name == Anonymous.Principal {
		fields = append(fields, api.FieldError{Pointer: "/name", Message: `must be 1 to 128 letters, digits, ".", "_", "@", "+" and "-", ` +
			`starting with a letter or digit, and not "anonymous"`})
	}
	var out []string
	for i, r := range roles {
		r = strings.ToLower(strings.TrimSpace(r))
		if !slices.Contains(api.PrincipalRoles(), r) {
			fields = append(fields, api.FieldError{Pointer: fmt.Sprintf("/roles/%d", i),
				Message: "must be one of " + strings.Join(api.PrincipalRoles(), ", ")})
			continue
		}
		if !slices.Contains(out, r) {
			out = append(out, r)
		}
	}
	if len(roles) == 0 {
		fields = append(fields, api.FieldError{Pointer: "/roles", Message: "name at least one role: " + strings.Join(api.PrincipalRoles(), ", ")})
	}
	// In the order of api.PrincipalRoles, so that equal sets read the same.
	slices.SortFunc(out, func(a, b string) int {
		return slices.Index(api.PrincipalRoles(), a) - slices.Index(api.PrincipalRoles(), b)
	})
	return out, fields
}

// createToken stores a new token. A bootstrap token (deliver set) is
// created only when no valid token exists, and deliver hands its secret
// over before the transaction commits, so that a token is never valid
// without its secret having reached its holder.
func (s *Service) createToken(ctx context.Context, name string, roles []string, expires *time.Time, opts WriteOptions, deliver func(*api.Token) error) (*api.Token, error) {
	secret, hash, err := auth.NewToken()
	if err != nil {
		return nil, fmt.Errorf("registry: new token: %w", err)
	}
	id, err := newTokenID()
	if err != nil {
		return nil, err
	}
	var out *api.Token
	_, err = s.commit(ctx, write{opts: opts, do: func(ctx context.Context, tx store.Tx, now time.Time) (*Result, error) {
		target := "token/" + id
		if !isAdmin(opts.Caller) {
			return nil, deny(opts, now, "token.create", target, forbidden("only admins may create API tokens"))
		}
		if deliver != nil {
			list, err := tx.ListTokens(ctx)
			if err != nil {
				return nil, err
			}
			if anyValid(list, now) {
				return &Result{Outcome: Unchanged}, nil // another server was first
			}
		}
		t := &store.Token{Token: api.Token{ID: id, Name: name, Roles: roles, Prefix: auth.TokenPrefix(secret),
			CreatedAt: now, CreatedBy: actor(opts.Caller)}, Hash: hash}
		if expires != nil {
			at := expires.UTC()
			t.ExpiresAt = &at
		}
		if err := tx.PutToken(ctx, t); err != nil {
			return nil, err
		}
		e := entry(opts, now, "token.create", target)
		e.Reason = fmt.Sprintf("token %s for %s with roles %s", t.Prefix, name, strings.Join(roles, ", "))
		if err := s.record(ctx, tx, e); err != nil {
			return nil, err
		}
		tok := t.Token
		tok.Token = secret
		if deliver != nil {
			if err := deliver(&tok); err != nil {
				return nil, fmt.Errorf("registry: hand over the admin token: %w", err)
			}
		}
		out = &tok
		return &Result{Outcome: Created}, nil
	}})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// newTokenID returns a token id: "tok_" and 16 hex digits. The id is
// public (it is listed, and revocation names it); the secret is not
// derived from it.
func newTokenID() (string, error) {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("registry: token id: %w", err)
	}
	return "tok_" + hex.EncodeToString(b[:]), nil
}

// BootstrapToken creates an admin token when the registry has no valid
// token (none yet, or every one revoked or expired: whoever holds the data
// directory can always get back in), and returns it with its secret; it
// returns nil when a valid token exists. deliver, when not nil, hands the
// secret over (writes it to a file) inside the transaction that creates
// the token: if it fails the token is not created, and if the process dies
// before the commit the token never was.
func (s *Service) BootstrapToken(ctx context.Context, deliver func(*api.Token) error) (*api.Token, error) {
	list, err := s.store.ListTokens(ctx)
	if err != nil {
		return nil, err
	}
	if anyValid(list, s.now()) {
		return nil, nil
	}
	if deliver == nil {
		deliver = func(*api.Token) error { return nil }
	}
	return s.createToken(ctx, BootstrapTokenName, []string{api.RoleAdmin}, nil, WriteOptions{Caller: systemCaller}, deliver)
}

func anyValid(list []*store.Token, now time.Time) bool {
	for _, t := range list {
		if t.RevokedAt == nil && (t.ExpiresAt == nil || now.Before(*t.ExpiresAt)) {
			return true
		}
	}
	return false
}

// ListTokens lists every API token, without secrets, newest first. Only
// admins may list tokens.
func (s *Service) ListTokens(ctx context.Context, c Caller) (*api.TokenList, error) {
	if !isAdmin(c) {
		return nil, forbidden("only admins may list API tokens")
	}
	list, err := s.store.ListTokens(ctx)
	if err != nil {
		return nil, err
	}
	out := &api.TokenList{Items: make([]*api.Token, len(list))}
	for i, t := range list {
		tok := t.Token
		out.Items[i] = &tok
	}
	return out, nil
}

// RevokeToken revokes a token: from the moment it returns, the token
// authenticates nothing. Only admins may revoke tokens.
func (s *Service) RevokeToken(ctx context.Context, id string, opts WriteOptions) (*api.Token, error) {
	var out *api.Token
	_, err := s.commit(ctx, write{opts: opts, revokesTokens: true, do: func(ctx context.Context, tx store.Tx, now time.Time) (*Result, error) {
		target := "token/" + id
		if !isAdmin(opts.Caller) {
			return nil, deny(opts, now, "token.revoke", target, forbidden("only admins may revoke API tokens"))
		}
		t, err := tx.GetToken(ctx, id)
		if err != nil {
			return nil, err
		}
		if t.RevokedAt != nil {
			tok := t.Token
			out = &tok
			return &Result{Outcome: Unchanged}, nil
		}
		if err := tx.RevokeToken(ctx, id, now, actor(opts.Caller)); err != nil {
			return nil, err
		}
		e := entry(opts, now, "token.revoke", target)
		e.Reason = fmt.Sprintf("token %s of %s", t.Prefix, t.Name)
		if err := s.record(ctx, tx, e); err != nil {
			return nil, err
		}
		if t, err = tx.GetToken(ctx, id); err != nil {
			return nil, err
		}
		tok := t.Token
		out = &tok
		return &Result{Outcome: Updated}, nil
	}})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Authenticate returns the principal an API token secret stands for. It
// refuses, with an error of kind errs.Unauthenticated, a secret that is
// malformed, unknown, revoked or expired. Its messages never repeat the
// secret.
func (s *Service) Authenticate(ctx context.Context, secret string) (*api.Principal, error) {
	hash, err := auth.HashToken(secret)
	if err != nil {
		return nil, errs.E(errs.Unauthenticated, "the bearer token is not a modelgov API token (mgv_...)")
	}
	now := s.now()
	key := [32]byte(hash)
	t, gen := s.tokens.get(key, now)
	if t == nil {
		if t, err = s.store.TokenByHash(ctx, hash); errs.Is(err, errs.NotFound) {
			return nil, errs.E(errs.Unauthenticated, "the API token is not valid")
		} else if err != nil {
			return nil, err
		}
		s.tokens.put(key, t, now, gen)
	}
	if t.RevokedAt != nil {
		return nil, errs.E(errs.Unauthenticated, "the API token %s was revoked", t.Prefix)
	}
	if t.ExpiresAt != nil && !now.Before(*t.ExpiresAt) {
		return nil, errs.E(errs.Unauthenticated, "the API token %s expired at %s", t.Prefix, t.ExpiresAt.Format(time.RFC3339))
	}
	return &api.Principal{Name: t.Name, Roles: slices.Clone(t.Roles), Method: "token", TokenID: t.ID, ExpiresAt: t.ExpiresAt}, nil
}
