package client

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"

	"github.com/hivellm/modelgov/api"
)

// Classify asks for a governance role for a model; the active policy decides.
func (c *Client) Classify(ctx context.Context, id string, cl api.Classification, o WriteOptions) (*api.Model, error) {
	return c.modelWrite(ctx, "PUT", modelPath(id)+"/classification", cl, o)
}

// GrantExemption releases a model from named rules until a time.
func (c *Client) GrantExemption(ctx context.Context, id string, req api.ExemptionRequest, o WriteOptions) (*api.Model, error) {
	return c.modelWrite(ctx, "POST", modelPath(id)+"/exemptions", req, o)
}

// RevokeExemption ends an exemption before it expires.
func (c *Client) RevokeExemption(ctx context.Context, id, exemptionID, reason string, o WriteOptions) (*api.Model, error) {
	q := url.Values{}
	if reason != "" {
		q.Set("reason", reason)
	}
	var m api.Model
	if _, err := c.do(ctx, request{method: "DELETE", path: modelPath(id) + "/exemptions/" + url.PathEscape(exemptionID), query: q, header: writeHeader(o)}, &m); err != nil {
		return nil, err
	}
	return &m, nil
}

func (c *Client) modelWrite(ctx context.Context, method, path string, body any, o WriteOptions) (*api.Model, error) {
	b, err := json.Marshal(body)
	if err != nil {
		return nil, fmt.Errorf("client: encode request: %w", err)
	}
	var m api.Model
	if _, err := c.do(ctx, request{method: method, path: path, body: b, header: writeHeader(o)}, &m); err != nil {
		return nil, err
	}
	return &m, nil
}

// UploadPolicy stores a new policy bundle version (YAML or JSON).
func (c *Client) UploadPolicy(ctx context.Context, bundle []byte, contentType string) (*api.Policy, error) {
	var p api.Policy
	if _, err := c.do(ctx, request{method: "POST", path: "/v1/policies", body: bundle, contentType: contentType}, &p); err != nil {
		return nil, err
	}
	return &p, nil
}

// ListPolicies lists every policy version, newest first.
func (c *Client) ListPolicies(ctx context.Context) (*api.PolicyList, error) {
	var l api.PolicyList
	if _, err := c.do(ctx, request{method: "GET", path: "/v1/policies"}, &l); err != nil {
		return nil, err
	}
	return &l, nil
}

// GetPolicy returns one policy version; version 0 means the active one.
func (c *Client) GetPolicy(ctx context.Context, version int64) (*api.Policy, error) {
	path := "/v1/policies/active"
	if version > 0 {
		path = "/v1/policies/" + strconv.FormatInt(version, 10)
	}
	var p api.Policy
	if _, err := c.do(ctx, request{method: "GET", path: path}, &p); err != nil {
		return nil, err
	}
	return &p, nil
}

// ActivatePolicy activates a policy version, or with dryRun only reports
// which models it would put out of compliance.
func (c *Client) ActivatePolicy(ctx context.Context, version int64, dryRun bool) (*api.Activation, error) {
	q := url.Values{}
	if dryRun {
		q.Set("dry_run", "true")
	}
	var a api.Activation
	if _, err := c.do(ctx, request{method: "POST", path: "/v1/policies/" + strconv.FormatInt(version, 10) + "/activate", query: q}, &a); err != nil {
		return nil, err
	}
	return &a, nil
}

// Evaluate asks for the policy's decision on a write without making it.
func (c *Client) Evaluate(ctx context.Context, req api.EvaluationRequest) (*api.Decision, error) {
	b, err := json.Marshal(req)
	if err != nil {
		return nil, fmt.Errorf("client: encode request: %w", err)
	}
	var d api.Decision
	if _, err := c.do(ctx, request{method: "POST", path: "/v1/policy/evaluate", body: b}, &d); err != nil {
		return nil, err
	}
	return &d, nil
}

// ReportCandidate checks every model against a bundle that is not stored.
func (c *Client) ReportCandidate(ctx context.Context, bundle []byte, contentType string) (*api.ComplianceReport, error) {
	var r api.ComplianceReport
	if _, err := c.do(ctx, request{method: "POST", path: "/v1/policy/report", body: bundle, contentType: contentType}, &r); err != nil {
		return nil, err
	}
	return &r, nil
}

// Compliance lists the models out of compliance with the active policy.
func (c *Client) Compliance(ctx context.Context, pageToken string) (*api.ComplianceReport, error) {
	q := url.Values{}
	if pageToken != "" {
		q.Set("page_token", pageToken)
	}
	var r api.ComplianceReport
	if _, err := c.do(ctx, request{method: "GET", path: "/v1/compliance", query: q}, &r); err != nil {
		return nil, err
	}
	return &r, nil
}
