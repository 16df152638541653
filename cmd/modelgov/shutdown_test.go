package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hivellm/modelgov/api"
	"github.com/hivellm/modelgov/client"
)

// TestGracefulShutdown: on SIGTERM the server stops taking new connections,
// finishes the request in flight, closes the database, says "stopped
// cleanly" and exits 0; the data directory then opens with everything the
// server acknowledged.
func TestGracefulShutdown(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("SIGTERM is a Unix signal")
	}
	dataDir := t.TempDir()
	srv := startServer(t, dataDir)

	doc := []byte(`{"schema_version": "1.1", "model_id": "openai/gpt-5", "provider": "openai",
		"display_name": "GPT-5", "size_class": "xl", "labels": {"team": "core"}}`)
	body, bodyWriter := io.Pipe()
	req, err := http.NewRequest(http.MethodPost, srv.URL+"/v1/models", body)
	if err != nil {
		t.Fatal(err)
	}
	req.ContentLength = int64(len(doc))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+srv.adminToken(t))
	// With Expect: 100-continue the client sends the body only once the
	// server answers 100 Continue, which it does when the handler starts to
	// read the body: so the first write below returns only when the request
	// is in the handler's hands.
	req.Header.Set("Expect", "100-continue")
	hc := &http.Client{Transport: &http.Transport{ExpectContinueTimeout: time.Minute}, Timeout: 30 * time.Second}
	type answer struct {
		status  int
		outcome string
		body    []byte
		err     error
	}
	answers := make(chan answer, 1)
	go func() {
		resp, err := hc.Do(req)
		if err != nil {
			answers <- answer{err: err}
			return
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		answers <- answer{status: resp.StatusCode, outcome: resp.Header.Get("Modelgov-Outcome"), body: b, err: err}
	}()
	half := len(doc) / 2
	if _, err := bodyWriter.Write(doc[:half]); err != nil {
		t.Fatalf("send the first half of the body: %v", err)
	}

	if err := srv.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatalf("SIGTERM: %v", err)
	}
	srv.waitForLog(t, "shutting down: finishing in-flight requests", 5*time.Second)
	waitUntilRefused(t, srv.URL)
	select {
	case <-srv.exited:
		t.Fatalf("the server exited (%v) with a request in flight; its log:\n%s", srv.waitErr, srv.log)
	default:
	}

	if _, err := bodyWriter.Write(doc[half:]); err != nil {
		t.Fatalf("send the rest of the body: %v", err)
	}
	bodyWriter.Close()
	var a answer
	select {
	case a = <-answers:
	case <-time.After(10 * time.Second):
		t.Fatal("no answer to the request in flight 10 s after its body was sent")
	}
	if a.err != nil {
		t.Fatalf("the request in flight failed: %v", a.err)
	}
	if a.status != http.StatusCreated || a.outcome != "created" {
		t.Fatalf("the request in flight got %d (outcome %q), want 201 created; body: %s", a.status, a.outcome, a.body)
	}
	var created api.Model
	if err := json.Unmarshal(a.body, &created); err != nil || created.ModelID != "openai/gpt-5" {
		t.Fatalf("the answer to the request in flight is not the model (%v): %s", err, a.body)
	}

	if err := srv.wait(t, 10*time.Second); err != nil {
		t.Fatalf("modelgov serve exited with %v, want exit code 0; its log:\n%s", err, srv.log)
	}
	if log := srv.log.String(); !strings.Contains(log, "stopped cleanly") {
		t.Errorf("the log does not say \"stopped cleanly\":\n%s", log)
	}

	again := startServer(t, dataDir)
	c, err := client.New(again.URL, client.WithToken(again.adminToken(t)))
	if err != nil {
		t.Fatal(err)
	}
	m, err := c.GetModel(context.Background(), "openai/gpt-5")
	if err != nil {
		t.Fatalf("after a restart on the same data directory: %v", err)
	}
	if m.ResourceVersion != created.ResourceVersion || m.Labels["team"] != "core" || m.Status() != api.StatusProposed {
		t.Errorf("after a restart, the model is %+v; want the one created: %+v", m, created)
	}
}

// waitUntilRefused waits until the server at url takes no new connection.
func waitUntilRefused(t *testing.T, url string) {
	t.Helper()
	hc := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: time.Second}
	deadline := time.Now().Add(5 * time.Second)
	for {
		resp, err := hc.Get(url + "/healthz")
		if err != nil {
			return
		}
		resp.Body.Close()
		if time.Now().After(deadline) {
			t.Fatalf("the server still takes new requests 5 s after SIGTERM")
		}
		time.Sleep(10 * time.Millisecond)
	}
}
