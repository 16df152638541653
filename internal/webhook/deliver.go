package webhook

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	neturl "net/url"
	"strings"
	"time"
	"unicode/utf8"
)

// SnippetBytes is the most of a response body a Result keeps.
const SnippetBytes = 512

// drainBytes is the most of a response body read (and discarded) after the
// snippet so the connection can be reused.
const drainBytes = 64 << 10

// UserAgent is sent with every delivery.
const UserAgent = "modelgov-webhook/1"

// Result is the outcome of one delivery attempt.
type Result struct {
	// Status is the HTTP status of the response, 0 if none was received.
	Status int
	// Err is nil exactly when the attempt succeeded (a 2xx response). A
	// non-2xx response gives an *StatusError; otherwise it is the error of
	// the request (invalid URL or secret, refused address, timeout, ...).
	Err error
	// Duration is the time from sending the request to reading the response.
	Duration time.Duration
	// ResponseSnippet is at most the first 512 bytes of the response body,
	// with invalid UTF-8 replaced.
	ResponseSnippet string
}

// OK reports whether the attempt succeeded.
func (r Result) OK() bool { return r.Err == nil && r.Status >= 200 && r.Status < 300 }

// StatusError is the error of a delivery answered with a non-2xx status.
type StatusError struct{ Status int }

func (e *StatusError) Error() string {
	return fmt.Sprintf("webhook: endpoint answered %d %s", e.Status, http.StatusText(e.Status))
}

// Deliver posts body to url once, signed with secret under msgID at time
// now (see Headers), through client (normally one of NewClient). It does
// not follow redirects unless client does. Cancelling ctx aborts it.
func Deliver(ctx context.Context, client *http.Client, url, secret, msgID string, body []byte, now time.Time) Result {
	if _, err := parseURL(url); err != nil {
		return Result{Err: err}
	}
	h, err := Headers(secret, msgID, now, body)
	if err != nil {
		return Result{Err: err}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return Result{Err: fmt.Errorf("webhook: building request: %w", err)}
	}
	for k, v := range h {
		req.Header[k] = v
	}
	req.Header.Set("User-Agent", UserAgent)

	start := time.Now()
	resp, err := client.Do(req)
	if err != nil {
		// *url.Error repeats the whole URL, query included; name it without.
		var ue *neturl.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return Result{Err: fmt.Errorf("webhook: delivering to %s: %w", redact(url), err), Duration: time.Since(start)}
	}
	defer resp.Body.Close()
	// A body broken after the status arrived does not change the outcome:
	// the status is the endpoint's answer.
	buf, _ := io.ReadAll(io.LimitReader(resp.Body, SnippetBytes))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, drainBytes))
	res := Result{
		Status:          resp.StatusCode,
		Duration:        time.Since(start),
		ResponseSnippet: snippet(buf),
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		res.Err = &StatusError{Status: resp.StatusCode}
	}
	return res
}

// snippet returns b as a string with invalid UTF-8 replaced, dropping an
// incomplete rune cut off at the end.
func snippet(b []byte) string {
	if len(b) == SnippetBytes {
		for i := 1; i < utf8.UTFMax && i <= len(b); i++ {
			if utf8.RuneStart(b[len(b)-i]) {
				if !utf8.FullRune(b[len(b)-i:]) {
					b = b[:len(b)-i]
				}
				break
			}
		}
	}
	return strings.ToValidUTF8(string(b), "\uFFFD")
}

// redact drops the query of a URL for error messages; it may carry tokens.
func redact(u string) string {
	if i := strings.IndexAny(u, "?#"); i >= 0 {
		return u[:i]
	}
	return u
}
