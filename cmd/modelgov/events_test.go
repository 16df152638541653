package main

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hivellm/modelgov/api"
	"github.com/hivellm/modelgov/internal/server"
)

// TestWatchAndListEvents: "modelgov watch" prints each change as it
// commits, and "modelgov events" lists the same events in sequence order.
func TestWatchAndListEvents(t *testing.T) {
	srv := startServer(t, t.TempDir())
	mg := srv.cli()

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	watch := exec.CommandContext(ctx, modelgovBinary(t), "--server", srv.URL,
		"--token-file", filepath.Join(srv.DataDir, server.AdminTokenFile), "watch", "-o", "json")
	watch.Env = append(os.Environ(), "MODELGOV_SERVER=", "MODELGOV_TOKEN=")
	stderr := &syncBuffer{}
	watch.Stderr = stderr
	stdout, err := watch.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := watch.Start(); err != nil {
		t.Fatalf("start modelgov watch: %v", err)
	}
	defer func() {
		_ = watch.Process.Kill()
		_ = watch.Wait()
	}()
	lines := make(chan string)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 0, 64<<10), 16<<20)
		for sc.Scan() {
			select {
			case lines <- sc.Text():
			case <-ctx.Done():
				return
			}
		}
	}()
	// created waits for the model.created event of id on the watch's
	// output, checking every line it reads on the way.
	var watched []*api.Event
	created := func(id string) *api.Event {
		t.Helper()
		deadline := time.After(15 * time.Second)
		for {
			select {
			case line, ok := <-lines:
				if !ok {
					t.Fatalf("modelgov watch ended before the event of %s; stderr:\n%s", id, stderr)
				}
				var e api.Event
				if err := json.Unmarshal([]byte(line), &e); err != nil {
					t.Fatalf("modelgov watch -o json printed %q, not an event: %v", line, err)
				}
				if n := len(watched); n > 0 && e.Seq <= watched[n-1].Seq {
					t.Errorf("watch printed event %d after %d", e.Seq, watched[n-1].Seq)
				}
				watched = append(watched, &e)
				if e.Type == "io.modelgov.model.created" && e.Subject == id {
					return &e
				}
			case <-deadline:
				t.Fatalf("modelgov watch printed no model.created event of %s within 15s; stderr:\n%s", id, stderr)
			}
		}
	}

	mg.succeed(t, `
schema_version: "1.1"
model_id: meta/llama-3-1-8b
provider: meta
display_name: Llama 3.1 8B
size_class: small
`, "model", "apply", "-f", "-")
	first := created("meta/llama-3-1-8b")
	// The watch is connected now: the second arrives as it commits.
	mg.succeed(t, `
schema_version: "1.1"
model_id: openai/gpt-5-mini
provider: openai
display_name: GPT-5 Mini
size_class: large
`, "model", "apply", "-f", "-")
	second := created("openai/gpt-5-mini")

	for _, e := range []*api.Event{first, second} {
		var d api.EventData
		if err := json.Unmarshal(e.Data, &d); err != nil {
			t.Fatalf("data of event %d: %v", e.Seq, err)
		}
		if e.SpecVersion != "1.0" || e.ID == "" || e.Source == "" || e.Time.IsZero() ||
			d.Action != "model.create" || d.Principal != "admin" || d.Model == nil || d.Model.ModelID != e.Subject {
			t.Errorf("event %d: %+v, data %+v", e.Seq, e, d)
		}
	}
	if second.Seq <= first.Seq {
		t.Errorf("sequence numbers: %d then %d", first.Seq, second.Seq)
	}
	_ = watch.Process.Kill()

	// events lists what watch printed, in sequence order.
	var listed []*api.Event
	if err := json.Unmarshal([]byte(mg.succeed(t, "", "events", "-o", "json")), &listed); err != nil {
		t.Fatalf("modelgov events -o json: %v", err)
	}
	var createdSeqs []int64
	for i, e := range listed {
		if i > 0 && e.Seq <= listed[i-1].Seq {
			t.Errorf("events lists %d after %d", e.Seq, listed[i-1].Seq)
		}
		if e.Type == "io.modelgov.model.created" {
			createdSeqs = append(createdSeqs, e.Seq)
		}
	}
	if len(createdSeqs) != 2 || createdSeqs[0] != first.Seq || createdSeqs[1] != second.Seq {
		t.Errorf("events lists model.created events %v, want [%d %d]", createdSeqs, first.Seq, second.Seq)
	}
	if len(listed) < len(watched) {
		t.Errorf("events lists %d events, watch printed %d", len(listed), len(watched))
	}

	// Filters, and every page.
	out := mg.succeed(t, "", "events", "--type", "io.modelgov.model.created", "--subject", "openai/gpt-5-mini", "--page-size", "1")
	if rows := strings.Split(strings.TrimSpace(out), "\n"); len(rows) != 2 || !strings.Contains(rows[1], "openai/gpt-5-mini") ||
		!strings.Contains(rows[1], "admin") {
		t.Errorf("events filtered by type and subject:\n%s", out)
	}
	out = mg.succeed(t, "", "events", "--after", "0", "--page-size", "1", "-o", "json")
	var paged []*api.Event
	if err := json.Unmarshal([]byte(out), &paged); err != nil || len(paged) != len(listed) {
		t.Errorf("events one per page: %d events (%v), want %d", len(paged), err, len(listed))
	}
}
