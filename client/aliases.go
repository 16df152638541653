package client

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"

	"github.com/hivellm/modelgov/api"
)

func aliasPath(name string) string { return "/v1/aliases/" + name }

// MoveAlias points an alias at a model, creating the alias if needed.
func (c *Client) MoveAlias(ctx context.Context, name string, mv api.AliasMove, o WriteOptions) (*api.Alias, error) {
	body, err := json.Marshal(mv)
	if err != nil {
		return nil, fmt.Errorf("client: encode alias: %w", err)
	}
	var a api.Alias
	if _, err := c.do(ctx, request{method: "PUT", path: aliasPath(name), body: body, header: writeHeader(o)}, &a); err != nil {
		return nil, err
	}
	return &a, nil
}

// GetAlias returns an alias.
func (c *Client) GetAlias(ctx context.Context, name string) (*api.Alias, error) {
	var a api.Alias
	if _, err := c.do(ctx, request{method: "GET", path: aliasPath(name)}, &a); err != nil {
		return nil, err
	}
	return &a, nil
}

// DeleteAlias removes an alias; its history stays.
func (c *Client) DeleteAlias(ctx context.Context, name, reason string, o WriteOptions) error {
	q := url.Values{}
	if reason != "" {
		q.Set("reason", reason)
	}
	_, err := c.do(ctx, request{method: "DELETE", path: aliasPath(name), query: q, header: writeHeader(o)}, nil)
	return err
}

// ListAliases returns the aliases, those pointing at target when it is set.
func (c *Client) ListAliases(ctx context.Context, target, pageToken string) (*api.AliasList, error) {
	q := url.Values{}
	if target != "" {
		q.Set("target", target)
	}
	if pageToken != "" {
		q.Set("page_token", pageToken)
	}
	var l api.AliasList
	if _, err := c.do(ctx, request{method: "GET", path: "/v1/aliases", query: q}, &l); err != nil {
		return nil, err
	}
	return &l, nil
}

// AliasHistory returns every move of an alias, newest first.
func (c *Client) AliasHistory(ctx context.Context, name string) (*api.AliasHistory, error) {
	var h api.AliasHistory
	if _, err := c.do(ctx, request{method: "GET", path: aliasPath(name) + "/history"}, &h); err != nil {
		return nil, err
	}
	return &h, nil
}
