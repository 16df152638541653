package client

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/hivellm/modelgov/api"
	"github.com/hivellm/modelgov/internal/audit"
)

// AuditQuery filters the audit log. Empty fields do not filter.
type AuditQuery struct {
	Model, Actor, Action, Outcome string
	Since, Until                  time.Time
	// From is the first sequence number to return.
	From      int64
	PageSize  int
	PageToken string
}

// AuditEntries returns one page of audit entries, in sequence order.
func (c *Client) AuditEntries(ctx context.Context, q AuditQuery) (*api.AuditEntryList, error) {
	v := url.Values{}
	for k, s := range map[string]string{"model": q.Model, "actor": q.Actor, "action": q.Action, "outcome": q.Outcome, "page_token": q.PageToken} {
		if s != "" {
			v.Set(k, s)
		}
	}
	if !q.Since.IsZero() {
		v.Set("since", q.Since.Format(time.RFC3339Nano))
	}
	if !q.Until.IsZero() {
		v.Set("until", q.Until.Format(time.RFC3339Nano))
	}
	if q.PageSize > 0 {
		v.Set("page_size", strconv.Itoa(q.PageSize))
	}
	if q.From > 0 {
		v.Set("from", strconv.FormatInt(q.From, 10))
	}
	var l api.AuditEntryList
	if _, err := c.do(ctx, request{method: "GET", path: "/v1/audit/entries", query: v}, &l); err != nil {
		return nil, err
	}
	return &l, nil
}

// AuditEntry returns one audit entry.
func (c *Client) AuditEntry(ctx context.Context, seq int64) (*api.AuditEntry, error) {
	var e api.AuditEntry
	if _, err := c.do(ctx, request{method: "GET", path: "/v1/audit/entries/" + strconv.FormatInt(seq, 10)}, &e); err != nil {
		return nil, err
	}
	return &e, nil
}

// text fetches a plain-text resource.
func (c *Client) text(ctx context.Context, path string) ([]byte, error) {
	u := *c.base
	u.Path = c.base.Path + path
	req, err := http.NewRequestWithContext(ctx, "GET", u.String(), nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("User-Agent", c.UserAgent)
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("client: GET %s: %w", path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, fmt.Errorf("client: GET %s: %w", path, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, problemOf(resp, b)
	}
	return b, nil
}

// AuditCheckpoint returns the log's latest signed checkpoint (a signed note).
func (c *Client) AuditCheckpoint(ctx context.Context) ([]byte, error) {
	return c.text(ctx, "/v1/audit/checkpoint")
}

// AuditKey returns the verifier key of the log's checkpoints.
func (c *Client) AuditKey(ctx context.Context) (string, error) {
	b, err := c.text(ctx, "/v1/audit/key")
	return strings.TrimSpace(string(b)), err
}

// InclusionProof returns the proof that entry index is in the tree of size entries.
func (c *Client) InclusionProof(ctx context.Context, index, size int64) (tlog.RecordProof, error) {
	var p api.InclusionProof
	q := url.Values{"index": {strconv.FormatInt(index, 10)}, "size": {strconv.FormatInt(size, 10)}}
	if _, err := c.do(ctx, request{method: "GET", path: "/v1/audit/proof/inclusion", query: q}, &p); err != nil {
		return nil, err
	}
	return audit.DecodeHashes(p.Hashes...)
}

// ConsistencyProof returns the proof that the tree of old entries is a
// prefix of the tree of size entries.
func (c *Client) ConsistencyProof(ctx context.Context, old, size int64) (tlog.TreeProof, error) {
	var p api.ConsistencyProof
	q := url.Values{"old": {strconv.FormatInt(old, 10)}, "new": {strconv.FormatInt(size, 10)}}
	if _, err := c.do(ctx, request{method: "GET", path: "/v1/audit/proof/consistency", query: q}, &p); err != nil {
		return nil, err
	}
	return audit.DecodeHashes(p.Hashes...)
}

// AuditSource is the server's audit log as audit.Verify reads it.
type AuditSource struct{ *Client }

// Entries implements audit.Source.
func (s AuditSource) Entries(ctx context.Context, start int64, limit int) ([]audit.ServedEntry, error) {
	l, err := s.AuditEntries(ctx, AuditQuery{From: start, PageSize: limit})
	if err != nil {
		return nil, err
	}
	out := make([]audit.ServedEntry, 0, len(l.Items))
	for _, e := range l.Items {
		h, err := audit.DecodeHashes(e.Hash)
		if err != nil {
			return nil, err
		}
		out = append(out, audit.ServedEntry{Seq: e.Seq, Leaf: e.Leaf, Hash: h[0]})
	}
	return out, nil
}

// VerifyAudit verifies the server's audit log against its latest signed
// checkpoint and, when saved is not empty, a checkpoint saved earlier.
func (c *Client) VerifyAudit(ctx context.Context, saved []byte) (*audit.Verification, []byte, error) {
	key, err := c.AuditKey(ctx)
	if err != nil {
		return nil, nil, err
	}
	cp, err := c.AuditCheckpoint(ctx)
	if err != nil {
		return nil, nil, err
	}
	v, err := audit.Verify(ctx, AuditSource{c}, cp, key, saved)
	return v, cp, err
}
