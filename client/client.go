// Package client is a Go client for modelgov's HTTP API. The modelgov
// command-line tool uses it, and so can any Go program:
//
//	c, err := client.New("http://127.0.0.1:8080", client.WithToken(token))
//	m, err := c.GetModel(ctx, "openai/gpt-5")
//
// Errors the server answers come back as *api.Problem, which carries the
// HTTP status, the message and every invalid field.
package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/hivellm/modelgov/api"
)

// Client talks to one modelgov server. It is safe for concurrent use.
type Client struct {
	base *url.URL
	http *http.Client
	// UserAgent is sent with every request.
	UserAgent string
	token     string
}

// Option configures a Client.
type Option func(*Client)

// WithHTTPClient makes the client send its requests through hc.
func WithHTTPClient(hc *http.Client) Option { return func(c *Client) { c.http = hc } }

// WithToken makes the client authenticate with a bearer token: a modelgov
// API token (mgv_...) or, where the server accepts OIDC, a JWT.
func WithToken(token string) Option { return func(c *Client) { c.token = strings.TrimSpace(token) } }

// New returns a client of the server at baseURL, such as
// "http://127.0.0.1:8080".
func New(baseURL string, opts ...Option) (*Client, error) {
	u, err := url.Parse(strings.TrimSuffix(baseURL, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("client: server address %q must be an http or https URL, such as http://127.0.0.1:8080", baseURL)
	}
	c := &Client{base: u, http: &http.Client{Timeout: 60 * time.Second}, UserAgent: "modelgov-client"}
	for _, o := range opts {
		o(c)
	}
	return c, nil
}

// WriteOptions go with a write.
type WriteOptions struct {
	// IfMatch is the resource_version the write expects ("" for any).
	IfMatch string
	// IdempotencyKey makes a retried create return the first answer.
	IdempotencyKey string
}

// Outcome is what a write did, as the server says in Modelgov-Outcome:
// created, updated, unchanged or deleted.
type Outcome string

// request is one API call.
type request struct {
	method      string
	path        string
	query       url.Values
	body        []byte
	contentType string
	header      http.Header
}

// do sends req and decodes a 2xx JSON answer into out (when not nil).
func (c *Client) do(ctx context.Context, req request, out any) (*http.Response, error) {
	resp, err := c.send(ctx, c.http, req)
	if err != nil {
		return resp, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return resp, fmt.Errorf("client: %s %s: read answer: %w", req.method, req.path, err)
	}
	if out != nil && len(data) > 0 {
		if err := json.Unmarshal(data, out); err != nil {
			return resp, fmt.Errorf("client: %s %s: decode answer: %w", req.method, req.path, err)
		}
	}
	return resp, nil
}

// send sends req through hc and returns a 2xx (or 304) answer with its
// body unread; any other answer is read and returned as an *api.Problem.
func (c *Client) send(ctx context.Context, hc *http.Client, req request) (*http.Response, error) {
	u := *c.base
	u.Path = c.base.Path + req.path
	u.RawPath = ""
	if req.query != nil {
		u.RawQuery = req.query.Encode()
	}
	var body io.Reader
	if req.body != nil {
		body = bytes.NewReader(req.body)
	}
	hr, err := http.NewRequestWithContext(ctx, req.method, u.String(), body)
	if err != nil {
		return nil, fmt.Errorf("client: %s %s: %w", req.method, req.path, err)
	}
	for k, v := range req.header {
		hr.Header[k] = v
	}
	if req.body != nil {
		ct := req.contentType
		if ct == "" {
			ct = "application/json"
		}
		hr.Header.Set("Content-Type", ct)
	}
	hr.Header.Set("Accept", "application/json")
	hr.Header.Set("User-Agent", c.UserAgent)
	if c.token != "" {
		hr.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := hc.Do(hr)
	if err != nil {
		return nil, fmt.Errorf("client: %s %s: %w", req.method, u.Redacted(), err)
	}
	if resp.StatusCode >= 300 && resp.StatusCode != http.StatusNotModified {
		defer resp.Body.Close()
		data, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
		if err != nil {
			return resp, fmt.Errorf("client: %s %s: read answer: %w", req.method, req.path, err)
		}
		return resp, problemOf(resp, data)
	}
	return resp, nil
}

// problemOf turns an error answer into an *api.Problem, also when the
// server (or a proxy before it) did not answer with one.
func problemOf(resp *http.Response, data []byte) *api.Problem {
	mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	if mt == api.ProblemContentType || mt == "application/json" {
		var p api.Problem
		if json.Unmarshal(data, &p) == nil && p.Status != 0 {
			return &p
		}
	}
	detail := strings.TrimSpace(string(data))
	if len(detail) > 512 {
		detail = detail[:512] + "..."
	}
	return &api.Problem{Status: resp.StatusCode, Title: http.StatusText(resp.StatusCode), Detail: detail}
}

// StatusOf returns the HTTP status of an error the client returned, or 0
// when the server did not answer.
func StatusOf(err error) int {
	var p *api.Problem
	if errors.As(err, &p) {
		return p.Status
	}
	return 0
}

// IsNotFound reports whether err is the server's 404.
func IsNotFound(err error) bool { return StatusOf(err) == http.StatusNotFound }

func writeHeader(o WriteOptions) http.Header {
	h := http.Header{}
	if o.IfMatch != "" {
		if o.IfMatch == "*" {
			h.Set("If-Match", "*")
		} else {
			h.Set("If-Match", strconv.Quote(o.IfMatch))
		}
	}
	if o.IdempotencyKey != "" {
		h.Set("Idempotency-Key", o.IdempotencyKey)
	}
	return h
}

func modelPath(id string) string { return "/v1/models/" + id }
