package client

import (
	"context"
	"encoding/json"
	"fmt"
	"iter"
	"net/url"
	"strconv"

	"github.com/hivellm/modelgov/api"
)

// ContentType of a document sent to the server.
const (
	JSON = "application/json"
	YAML = "application/yaml"
)

// CreateModel registers a model from a document (schema 1.1 or 1.0) in
// JSON or YAML, as contentType says.
func (c *Client) CreateModel(ctx context.Context, doc []byte, contentType string, o WriteOptions) (*api.Model, error) {
	var m api.Model
	_, err := c.do(ctx, request{method: "POST", path: "/v1/models", body: doc, contentType: contentType, header: writeHeader(o)}, &m)
	if err != nil {
		return nil, err
	}
	return &m, nil
}

// ApplyModel creates the model a document describes or updates it to
// match, and says which it did.
func (c *Client) ApplyModel(ctx context.Context, doc []byte, contentType string, o WriteOptions) (*api.Model, Outcome, error) {
	var m api.Model
	resp, err := c.do(ctx, request{method: "POST", path: "/v1/models:apply", body: doc, contentType: contentType, header: writeHeader(o)}, &m)
	if err != nil {
		return nil, "", err
	}
	return &m, Outcome(resp.Header.Get("Modelgov-Outcome")), nil
}

// ReplaceModel replaces the owner-written fields of a model.
func (c *Client) ReplaceModel(ctx context.Context, id string, doc []byte, contentType string, o WriteOptions) (*api.Model, error) {
	var m api.Model
	_, err := c.do(ctx, request{method: "PUT", path: modelPath(id), body: doc, contentType: contentType, header: writeHeader(o)}, &m)
	if err != nil {
		return nil, err
	}
	return &m, nil
}

// PatchModel applies a JSON Merge Patch (RFC 7396) to a model.
func (c *Client) PatchModel(ctx context.Context, id string, patch any, o WriteOptions) (*api.Model, error) {
	body, err := json.Marshal(patch)
	if err != nil {
		return nil, fmt.Errorf("client: encode patch: %w", err)
	}
	var m api.Model
	_, err = c.do(ctx, request{method: "PATCH", path: modelPath(id), body: body, contentType: "application/merge-patch+json", header: writeHeader(o)}, &m)
	if err != nil {
		return nil, err
	}
	return &m, nil
}

// DeleteModel erases a model that is still proposed.
func (c *Client) DeleteModel(ctx context.Context, id string, o WriteOptions) error {
	_, err := c.do(ctx, request{method: "DELETE", path: modelPath(id), header: writeHeader(o)}, nil)
	return err
}

// ChangeLifecycle moves a model to another lifecycle status.
func (c *Client) ChangeLifecycle(ctx context.Context, id string, ch api.LifecycleChange, o WriteOptions) (*api.Model, error) {
	body, err := json.Marshal(ch)
	if err != nil {
		return nil, fmt.Errorf("client: encode lifecycle change: %w", err)
	}
	var m api.Model
	_, err = c.do(ctx, request{method: "PUT", path: modelPath(id) + "/lifecycle", body: body, header: writeHeader(o)}, &m)
	if err != nil {
		return nil, err
	}
	return &m, nil
}

// GetModel returns a model.
func (c *Client) GetModel(ctx context.Context, id string) (*api.Model, error) {
	var m api.Model
	if _, err := c.do(ctx, request{method: "GET", path: modelPath(id)}, &m); err != nil {
		return nil, err
	}
	return &m, nil
}

// ListOptions filter a model list. Empty fields do not filter.
type ListOptions struct {
	Provider, Family, Status, Role, SizeClass, Capability string
	// Labels is a label selector, such as "team=core,tier!=test".
	Labels string
	// Text searches model ids and display names.
	Text string
	// Review "pending" lists the models held for a governor's review.
	Review string
	// Compliance is compliant or non_compliant; "" lists both.
	Compliance string
	// Sort is model_id (the default), provider, display_name or
	// updated_at (newest first).
	Sort      string
	PageSize  int
	PageToken string
}

func (o ListOptions) query() url.Values {
	q := url.Values{}
	for k, v := range map[string]string{
		"provider": o.Provider, "family": o.Family, "status": o.Status, "role": o.Role,
		"size_class": o.SizeClass, "capability": o.Capability, "labels": o.Labels, "q": o.Text,
		"review": o.Review, "compliance": o.Compliance, "sort": o.Sort, "page_token": o.PageToken,
	} {
		if v != "" {
			q.Set(k, v)
		}
	}
	if o.PageSize > 0 {
		q.Set("page_size", strconv.Itoa(o.PageSize))
	}
	return q
}

// ListModels returns one page of models.
func (c *Client) ListModels(ctx context.Context, o ListOptions) (*api.ModelList, error) {
	var l api.ModelList
	if _, err := c.do(ctx, request{method: "GET", path: "/v1/models", query: o.query()}, &l); err != nil {
		return nil, err
	}
	return &l, nil
}

// AllModels yields every model o selects, fetching page after page.
func (c *Client) AllModels(ctx context.Context, o ListOptions) iter.Seq2[*api.Model, error] {
	return func(yield func(*api.Model, error) bool) {
		for {
			page, err := c.ListModels(ctx, o)
			if err != nil {
				yield(nil, err)
				return
			}
			for _, m := range page.Items {
				if !yield(m, nil) {
					return
				}
			}
			if page.NextPageToken == "" {
				return
			}
			o.PageToken = page.NextPageToken
		}
	}
}

// ListRevisions returns one page of a model's history, newest first.
func (c *Client) ListRevisions(ctx context.Context, id string, pageSize int, pageToken string) (*api.RevisionList, error) {
	q := url.Values{}
	if pageSize > 0 {
		q.Set("page_size", strconv.Itoa(pageSize))
	}
	if pageToken != "" {
		q.Set("page_token", pageToken)
	}
	var l api.RevisionList
	if _, err := c.do(ctx, request{method: "GET", path: modelPath(id) + "/revisions", query: q}, &l); err != nil {
		return nil, err
	}
	return &l, nil
}

// GetRevision returns one revision of a model.
func (c *Client) GetRevision(ctx context.Context, id string, n int64) (*api.Revision, error) {
	var r api.Revision
	if _, err := c.do(ctx, request{method: "GET", path: modelPath(id) + "/revisions/" + strconv.FormatInt(n, 10)}, &r); err != nil {
		return nil, err
	}
	return &r, nil
}
