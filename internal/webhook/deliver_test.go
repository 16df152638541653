package webhook

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
)

func TestDeliver(t *testing.T) {
	secret, _ := NewSecret()
	wh, _ := standardwebhooks.NewWebhook(secret)
	body := []byte(`{"specversion":"1.0","id":"7"}`)
	var (
		gotHeader http.Header
		gotBody   []byte
		gotMethod string
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotHeader, gotMethod = r.Header.Clone(), r.Method
		gotBody, _ = io.ReadAll(r.Body)
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()

	now := time.Now()
	res := Deliver(context.Background(), NewClient(true, 5*time.Second), srv.URL+"/hook", secret, "msg_7", body, now)
	if res.Err != nil || res.Status != http.StatusNoContent || !res.OK() {
		t.Fatalf("Deliver = %+v", res)
	}
	if res.Duration <= 0 {
		t.Errorf("Duration = %v", res.Duration)
	}
	if gotMethod != http.MethodPost || string(gotBody) != string(body) {
		t.Errorf("server got %s %q", gotMethod, gotBody)
	}
	for _, h := range []string{"webhook-id", "webhook-timestamp", "webhook-signature"} {
		if gotHeader.Get(h) == "" {
			t.Errorf("header %s missing", h)
		}
	}
	if ct := gotHeader.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q", ct)
	}
	if err := wh.Verify(gotBody, gotHeader); err != nil {
		t.Errorf("receiver cannot verify: %v", err)
	}
}

func TestDeliverStatusAndSnippet(t *testing.T) {
	secret, _ := NewSecret()
	long := strings.Repeat("x", 2000)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/fail":
			w.WriteHeader(http.StatusServiceUnavailable)
			io.WriteString(w, "down for maintenance")
		case "/long":
			io.WriteString(w, long)
		}
	}))
	defer srv.Close()
	client := NewClient(true, 5*time.Second)

	res := Deliver(context.Background(), client, srv.URL+"/fail", secret, "m1", nil, time.Now())
	var se *StatusError
	if res.OK() || res.Status != 503 || !errors.As(res.Err, &se) || se.Status != 503 {
		t.Errorf("503: %+v", res)
	}
	if res.ResponseSnippet != "down for maintenance" {
		t.Errorf("snippet = %q", res.ResponseSnippet)
	}

	res = Deliver(context.Background(), client, srv.URL+"/long", secret, "m2", nil, time.Now())
	if !res.OK() || res.ResponseSnippet != long[:SnippetBytes] {
		t.Errorf("long: OK=%v, snippet %d bytes", res.OK(), len(res.ResponseSnippet))
	}
}

func TestSnippetUTF8(t *testing.T) {
	b := []byte(strings.Repeat("a", SnippetBytes-1) + "é") // é cut in half
	got := snippet(b[:SnippetBytes])
	if got != strings.Repeat("a", SnippetBytes-1) {
		t.Errorf("snippet kept a partial rune: %q", got[len(got)-4:])
	}
	if got := snippet([]byte("ok\xff")); got != "ok\uFFFD" {
		t.Errorf("snippet = %q", got)
	}
}

func TestDeliverRefusesPrivate(t *testing.T) {
	secret, _ := NewSecret()
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { hits.Add(1) }))
	defer srv.Close()
	u, _ := url.Parse(srv.URL)
	_, port, _ := net.SplitHostPort(u.Host)
	client := NewClient(false, 5*time.Second)

	for _, target := range []string{
		srv.URL + "/hook", // 127.0.0.1 literal
		"http://" + net.JoinHostPort("localhost", port) + "/hook", // name resolving to loopback
	} {
		res := Deliver(context.Background(), client, target, secret, "m", []byte("{}"), time.Now())
		if res.Err == nil || res.Status != 0 {
			t.Fatalf("%s: delivered: %+v", target, res)
		}
		if !errors.Is(res.Err, ErrBlockedAddress) {
			t.Errorf("%s: error %v does not wrap ErrBlockedAddress", target, res.Err)
		}
		var be *BlockedAddressError
		if !errors.As(res.Err, &be) || be.Reason != "loopback" {
			t.Errorf("%s: error %v is not a loopback BlockedAddressError", target, res.Err)
		}
		if !strings.Contains(res.Err.Error(), "refusing to connect to") || !strings.Contains(res.Err.Error(), "loopback") {
			t.Errorf("%s: unclear error %q", target, res.Err)
		}
		t.Logf("%s: %v", target, res.Err)
	}
	if hits.Load() != 0 {
		t.Errorf("server was reached %d times", hits.Load())
	}
}

func TestDeliverDoesNotFollowRedirects(t *testing.T) {
	secret, _ := NewSecret()
	var followed atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/target" {
			followed.Add(1)
			return
		}
		http.Redirect(w, r, "/target", http.StatusTemporaryRedirect)
	}))
	defer srv.Close()

	res := Deliver(context.Background(), NewClient(true, 5*time.Second), srv.URL+"/hook", secret, "m", []byte("{}"), time.Now())
	if res.Status != http.StatusTemporaryRedirect || res.OK() {
		t.Errorf("Deliver = %+v, want an unsuccessful 307", res)
	}
	if followed.Load() != 0 {
		t.Error("redirect was followed")
	}
}

func TestDeliverInvalidInput(t *testing.T) {
	secret, _ := NewSecret()
	client := NewClient(true, time.Second)
	ctx := context.Background()
	if res := Deliver(ctx, client, "ftp://example.com/", secret, "m", nil, time.Now()); !errors.Is(res.Err, ErrInvalidURL) {
		t.Errorf("ftp URL: %v", res.Err)
	}
	if res := Deliver(ctx, client, "https://example.com/", "nope", "m", nil, time.Now()); !errors.Is(res.Err, ErrInvalidSecret) {
		t.Errorf("bad secret: %v", res.Err)
	}
}

func TestDeliverTimeoutAndCancel(t *testing.T) {
	secret, _ := NewSecret()
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { <-release }))
	defer srv.Close()
	defer close(release)

	res := Deliver(context.Background(), NewClient(true, 100*time.Millisecond), srv.URL, secret, "m", nil, time.Now())
	if res.Err == nil || res.Status != 0 {
		t.Errorf("timeout: %+v", res)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	res = Deliver(ctx, NewClient(true, 0), srv.URL, secret, "m", nil, time.Now())
	if !errors.Is(res.Err, context.Canceled) {
		t.Errorf("cancelled: %v", res.Err)
	}
}
