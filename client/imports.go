package client

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"

	"github.com/hivellm/modelgov/api"
)

// Import sends records to import (admins). progress, when not nil, hears
// the server's progress while it imports. A refused import answers its
// report with the error (an *api.Problem whose Import is the report).
func (c *Client) Import(ctx context.Context, req api.ImportRequest, progress func(done, total int)) (*api.ImportReport, error) {
	body, err := json.Marshal(req)
	if err != nil {
		return nil, fmt.Errorf("client: encode import: %w", err)
	}
	if progress == nil {
		var rep api.ImportReport
		if _, err := c.do(ctx, request{method: "POST", path: "/v1/imports", body: body}, &rep); err != nil {
			if p, ok := err.(*api.Problem); ok && p.Import != nil {
				return p.Import, err
			}
			return nil, err
		}
		return &rep, nil
	}
	resp, err := c.stream(ctx, request{method: "POST", path: "/v1/imports", query: url.Values{"progress": {"ndjson"}}, body: body})
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 0, 64<<10), 256<<20)
	for sc.Scan() {
		var line struct {
			Done    int               `json:"done"`
			Total   int               `json:"total"`
			Report  *api.ImportReport `json:"report"`
			Problem *api.Problem      `json:"problem"`
		}
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			return nil, fmt.Errorf("client: import progress: %w", err)
		}
		switch {
		case line.Problem != nil:
			return line.Problem.Import, line.Problem
		case line.Report != nil:
			return line.Report, nil
		default:
			progress(line.Done, line.Total)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("client: import progress: %w", err)
	}
	return nil, fmt.Errorf("client: the import's answer ended before its report")
}

// ListImports lists the applied imports, newest first.
func (c *Client) ListImports(ctx context.Context) (*api.ImportBatchList, error) {
	var l api.ImportBatchList
	if _, err := c.do(ctx, request{method: "GET", path: "/v1/imports"}, &l); err != nil {
		return nil, err
	}
	return &l, nil
}

// RollbackImport undoes an applied import; force overwrites later changes.
func (c *Client) RollbackImport(ctx context.Context, id string, force bool) (*api.ImportBatch, error) {
	q := url.Values{}
	if force {
		q.Set("force", "true")
	}
	var b api.ImportBatch
	if _, err := c.do(ctx, request{method: "POST", path: "/v1/imports/" + url.PathEscape(id) + "/rollback", query: q}, &b); err != nil {
		return nil, err
	}
	return &b, nil
}

// Backup copies a consistent snapshot of the whole registry to w (admins).
func (c *Client) Backup(ctx context.Context, w io.Writer) (int64, error) {
	resp, err := c.stream(ctx, request{method: "GET", path: "/v1/backup"})
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	n, err := io.Copy(w, resp.Body)
	if err != nil {
		return n, fmt.Errorf("client: backup: %w (the snapshot is incomplete)", err)
	}
	return n, nil
}

// stream sends req and returns the 2xx answer unread, for the caller to
// stream (no client timeout applies).
func (c *Client) stream(ctx context.Context, req request) (*http.Response, error) {
	hc := *c.http
	hc.Timeout = 0
	return c.send(ctx, &hc, req)
}
