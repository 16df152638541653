package client

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/hivellm/modelgov/api"
)

// WhoAmI returns the principal the server authenticates the client as: its
// name, roles, how it authenticated (token, oidc or anonymous) and, for a
// token, the token's id and expiry.
func (c *Client) WhoAmI(ctx context.Context) (*api.Principal, error) {
	var p api.Principal
	if _, err := c.do(ctx, request{method: "GET", path: "/v1/whoami"}, &p); err != nil {
		return nil, err
	}
	return &p, nil
}

// CreateToken creates an API token (admins only). The answer is the only
// one that carries the token's secret, in Token.Token: the server keeps only
// its hash, so a secret that is not stored now cannot be recovered.
func (c *Client) CreateToken(ctx context.Context, req api.TokenRequest) (*api.Token, error) {
	b, err := json.Marshal(req)
	if err != nil {
		return nil, fmt.Errorf("client: encode token request: %w", err)
	}
	var t api.Token
	if _, err := c.do(ctx, request{method: "POST", path: "/v1/tokens", body: b}, &t); err != nil {
		return nil, err
	}
	return &t, nil
}

// ListTokens lists every API token, newest first, without secrets (admins
// only).
func (c *Client) ListTokens(ctx context.Context) (*api.TokenList, error) {
	var l api.TokenList
	if _, err := c.do(ctx, request{method: "GET", path: "/v1/tokens"}, &l); err != nil {
		return nil, err
	}
	return &l, nil
}

// RevokeToken revokes an API token by its id (tok_...), and returns it as
// revoked (admins only). From the moment the answer arrives, the token
// authenticates nothing. Revoking a revoked token changes nothing.
func (c *Client) RevokeToken(ctx context.Context, id string) (*api.Token, error) {
	var t api.Token
	if _, err := c.do(ctx, request{method: "DELETE", path: "/v1/tokens/" + id}, &t); err != nil {
		return nil, err
	}
	return &t, nil
}
