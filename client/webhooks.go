package client

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"

	"github.com/hivellm/modelgov/api"
)

// CreateWebhook subscribes an endpoint to the registry's events (admins
// only). The answer carries the signing secret, this once.
func (c *Client) CreateWebhook(ctx context.Context, req api.WebhookRequest) (*api.Webhook, error) {
	b, err := json.Marshal(req)
	if err != nil {
		return nil, fmt.Errorf("client: encode webhook request: %w", err)
	}
	var w api.Webhook
	if _, err := c.do(ctx, request{method: "POST", path: "/v1/webhooks", body: b}, &w); err != nil {
		return nil, err
	}
	return &w, nil
}

// ListWebhooks lists the subscriptions, oldest first, without secrets.
func (c *Client) ListWebhooks(ctx context.Context) (*api.WebhookList, error) {
	var l api.WebhookList
	if _, err := c.do(ctx, request{method: "GET", path: "/v1/webhooks"}, &l); err != nil {
		return nil, err
	}
	return &l, nil
}

// GetWebhook returns a subscription, with where its deliveries stand.
func (c *Client) GetWebhook(ctx context.Context, id string) (*api.Webhook, error) {
	return c.webhook(ctx, "GET", "/v1/webhooks/"+url.PathEscape(id), nil)
}

// DeleteWebhook ends a subscription and returns it.
func (c *Client) DeleteWebhook(ctx context.Context, id string) (*api.Webhook, error) {
	return c.webhook(ctx, "DELETE", "/v1/webhooks/"+url.PathEscape(id), nil)
}

// EnableWebhook makes a disabled subscription active again: it resumes
// after the last event it delivered.
func (c *Client) EnableWebhook(ctx context.Context, id string) (*api.Webhook, error) {
	return c.webhook(ctx, "POST", "/v1/webhooks/"+url.PathEscape(id)+"/enable", nil)
}

// DisableWebhook pauses a subscription, saying why.
func (c *Client) DisableWebhook(ctx context.Context, id, reason string) (*api.Webhook, error) {
	var q url.Values
	if reason != "" {
		q = url.Values{"reason": {reason}}
	}
	return c.webhook(ctx, "POST", "/v1/webhooks/"+url.PathEscape(id)+"/disable", q)
}

func (c *Client) webhook(ctx context.Context, method, path string, q url.Values) (*api.Webhook, error) {
	var w api.Webhook
	if _, err := c.do(ctx, request{method: method, path: path, query: q}, &w); err != nil {
		return nil, err
	}
	return &w, nil
}

// ListDeliveries returns one page of a subscription's delivery log, newest
// first: the attempts with ids below before (all when 0).
func (c *Client) ListDeliveries(ctx context.Context, id string, before int64, pageSize int) (*api.DeliveryList, error) {
	q := url.Values{}
	if before > 0 {
		q.Set("before", strconv.FormatInt(before, 10))
	}
	if pageSize > 0 {
		q.Set("page_size", strconv.Itoa(pageSize))
	}
	var l api.DeliveryList
	if _, err := c.do(ctx, request{method: "GET", path: "/v1/webhooks/" + url.PathEscape(id) + "/deliveries", query: q}, &l); err != nil {
		return nil, err
	}
	return &l, nil
}

// Redeliver sends the event of a logged delivery again, now, and returns
// the new attempt (whose OK says whether the endpoint took it).
func (c *Client) Redeliver(ctx context.Context, id string, delivery int64) (*api.Delivery, error) {
	var d api.Delivery
	path := "/v1/webhooks/" + url.PathEscape(id) + "/deliveries/" + strconv.FormatInt(delivery, 10) + "/redeliver"
	if _, err := c.do(ctx, request{method: "POST", path: path}, &d); err != nil {
		return nil, err
	}
	return &d, nil
}
