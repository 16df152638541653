package natspub_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/hivellm/modelgov/api"
	"github.com/hivellm/modelgov/internal/natspub"
	"github.com/hivellm/modelgov/internal/registry"
	"github.com/hivellm/modelgov/internal/schema"
	"github.com/hivellm/modelgov/internal/server"
	"github.com/hivellm/modelgov/internal/store/sqlite"
)

// natsURL returns the URL of a NATS server with JetStream:
// MODELGOV_TEST_NATS_URL, or a nats-server started for the test. Without
// either, the test is skipped, except in CI (CI=true), where it fails.
func natsURL(t *testing.T) string {
	t.Helper()
	if u := os.Getenv("MODELGOV_TEST_NATS_URL"); u != "" {
		return u
	}
	bin, err := exec.LookPath("nats-server")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("nats-server is not installed; CI needs it (.ci/run installs it)")
		}
		t.Skip("no nats-server on PATH and MODELGOV_TEST_NATS_URL is not set")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	cmd := exec.Command(bin, "-js", "-a", "127.0.0.1", "-p", strconv.Itoa(port), "-sd", t.TempDir())
	if err := cmd.Start(); err != nil {
		t.Fatalf("start nats-server: %v", err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	url := fmt.Sprintf("nats://127.0.0.1:%d", port)
	deadline := time.Now().Add(10 * time.Second)
	for {
		nc, err := nats.Connect(url)
		if err == nil {
			nc.Close()
			return url
		}
		if time.Now().After(deadline) {
			t.Fatalf("nats-server at %s does not answer: %v", url, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func newRegistry(t *testing.T) *registry.Service {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "modelgov.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	v, err := schema.New()
	if err != nil {
		t.Fatal(err)
	}
	reg, err := registry.New(registry.Config{Store: st, Schema: v, Logger: slog.New(slog.DiscardHandler), EventSource: "modelgov/test"})
	if err != nil {
		t.Fatal(err)
	}
	if err := reg.Bootstrap(ctx); err != nil {
		t.Fatal(err)
	}
	return reg
}

var admin = registry.WriteOptions{Caller: registry.Caller{Principal: "t", Roles: []string{"admin"}}}

func createModel(t *testing.T, reg *registry.Service, i int) {
	t.Helper()
	id := fmt.Sprintf("acme/model-%d", i)
	doc, _ := json.Marshal(map[string]any{"schema_version": "1.1", "model_id": id, "provider": "acme",
		"display_name": id, "size_class": "small", "parameters": map[string]any{"count": 8e9, "source": "declared"}})
	if _, err := reg.CreateModel(context.Background(), doc, admin); err != nil {
		t.Fatalf("create %s: %v", id, err)
	}
}

// running is a publisher running in a goroutine.
type running struct {
	pub    *natspub.Publisher
	cancel context.CancelFunc
	done   chan error
}

func start(t *testing.T, url, stream string, reg *registry.Service) *running {
	t.Helper()
	pub, err := natspub.New(context.Background(), natspub.Config{URL: url, Stream: stream, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{pub: pub, cancel: cancel, done: make(chan error, 1)}
	go func() { r.done <- pub.Run(ctx, reg) }()
	return r
}

func (r *running) stop(t *testing.T) {
	t.Helper()
	r.cancel()
	select {
	case err := <-r.done:
		if err != nil {
			t.Errorf("Run: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after its context ended")
	}
	r.pub.Close()
}

// streamMsgs waits until the stream holds n messages, then returns them in
// order; it fails when it holds more.
func streamMsgs(t *testing.T, s jetstream.Stream, n int) []*jetstream.RawStreamMsg {
	t.Helper()
	ctx := context.Background()
	deadline := time.Now().Add(15 * time.Second)
	for {
		info, err := s.Info(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if got := int(info.State.Msgs); got > n {
			t.Fatalf("the stream holds %d messages, want %d", got, n)
		} else if got == n {
			out := make([]*jetstream.RawStreamMsg, 0, n)
			for seq := info.State.FirstSeq; seq <= info.State.LastSeq && n > 0; seq++ {
				m, err := s.GetMsg(ctx, seq)
				if err != nil {
					t.Fatalf("get message %d: %v", seq, err)
				}
				out = append(out, m)
			}
			return out
		}
		if time.Now().After(deadline) {
			t.Fatalf("the stream holds %d messages after 15s, want %d", info.State.Msgs, n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func checkMsgs(t *testing.T, msgs []*jetstream.RawStreamMsg, events []*api.Event) {
	t.Helper()
	if len(msgs) != len(events) {
		t.Fatalf("%d messages, %d events", len(msgs), len(events))
	}
	for i, m := range msgs {
		e := events[i]
		if want := natspub.Subject(e.Type); m.Subject != want {
			t.Errorf("message %d: subject %s, want %s", i, m.Subject, want)
		}
		if got, want := m.Header.Get(jetstream.MsgIDHeader), e.Source+":"+e.ID; got != want {
			t.Errorf("message %d: Nats-Msg-Id %q, want %q", i, got, want)
		}
		if got, want := m.Header.Get(natspub.SeqHeader), strconv.FormatInt(e.Seq, 10); got != want {
			t.Errorf("message %d: Modelgov-Seq %q, want %q", i, got, want)
		}
		if got := m.Header.Get("Content-Type"); got != natspub.ContentType {
			t.Errorf("message %d: Content-Type %q", i, got)
		}
		want, _ := api.Marshal(e)
		if string(m.Data) != string(want) {
			t.Errorf("message %d: data\n%s\nwant\n%s", i, m.Data, want)
		}
	}
}

func allEvents(t *testing.T, reg *registry.Service) []*api.Event {
	t.Helper()
	var out []*api.Event
	var after int64
	for {
		page, err := reg.ListEvents(context.Background(), registry.EventQuery{After: after, PageSize: registry.MaxPageSize})
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, page.Items...)
		if page.NextAfter == 0 {
			return out
		}
		after = page.NextAfter
	}
}

func TestPublisher(t *testing.T) {
	url := natsURL(t)
	reg := newRegistry(t)
	stream := fmt.Sprintf("MODELGOV_TEST_%d", time.Now().UnixNano())
	ctx := context.Background()

	nc, err := nats.Connect(url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}

	// Events before the publisher starts, and while it runs.
	for i := range 3 {
		createModel(t, reg, i)
	}
	r := start(t, url, stream, reg)
	t.Cleanup(func() { js.DeleteStream(context.Background(), stream) })
	s, err := js.Stream(ctx, stream)
	if err != nil {
		t.Fatal(err)
	}
	info := s.CachedInfo()
	if info.Config.Storage != jetstream.FileStorage || info.Config.Duplicates != natspub.DuplicateWindow ||
		len(info.Config.Subjects) != 1 || info.Config.Subjects[0] != "modelgov.events.>" {
		t.Errorf("stream config: %+v", info.Config)
	}
	for i := 3; i < 6; i++ {
		createModel(t, reg, i)
	}
	events := allEvents(t, reg)
	if len(events) < 6 {
		t.Fatalf("%d events, want at least 6", len(events))
	}
	checkMsgs(t, streamMsgs(t, s, len(events)), events)
	if got := natspub.Subject("io.modelgov.model.created"); got != "modelgov.events.model.created" {
		t.Errorf("Subject: %s", got)
	}
	r.stop(t)

	// A new publisher resumes after the last published event: nothing twice.
	for i := 6; i < 8; i++ {
		createModel(t, reg, i)
	}
	r = start(t, url, stream, reg)
	if got, err := r.pub.LastPublished(ctx); err != nil {
		t.Fatal(err)
	} else if got < events[len(events)-1].Seq {
		t.Errorf("LastPublished %d, want at least %d", got, events[len(events)-1].Seq)
	}
	createModel(t, reg, 8)
	events = allEvents(t, reg)
	checkMsgs(t, streamMsgs(t, s, len(events)), events)
	r.stop(t)

	// The same event published again is dropped by JetStream.
	r = start(t, url, stream, reg)
	defer r.stop(t)
	if err := r.pub.Publish(ctx, events[0]); err != nil {
		t.Fatalf("publish again: %v", err)
	}
	msg := nats.NewMsg(natspub.Subject(events[1].Type))
	msg.Data = []byte("{}")
	ack, err := js.PublishMsg(ctx, msg, jetstream.WithMsgID(natspub.MsgID(events[1])))
	if err != nil {
		t.Fatal(err)
	}
	if !ack.Duplicate {
		t.Error("a message with the id of a published event is not reported as a duplicate")
	}
	time.Sleep(200 * time.Millisecond)
	checkMsgs(t, streamMsgs(t, s, len(events)), events)
}

func TestNewFailsWithoutServer(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	_, err = natspub.New(context.Background(), natspub.Config{URL: "nats://" + addr})
	if err == nil {
		t.Fatal("New connected to a closed port")
	}
	if errors.Is(err, context.Canceled) {
		t.Fatal(err)
	}
}

// TestServer runs a server with NATSURL: its events reach the stream
// MODELGOV_EVENTS, and a server that cannot connect does not start.
func TestServer(t *testing.T) {
	if os.Getenv("MODELGOV_TEST_NATS_URL") != "" {
		t.Skip("uses the stream MODELGOV_EVENTS: only on a nats-server of its own")
	}
	url := natsURL(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	quiet := slog.New(slog.DiscardHandler)
	srv, err := server.New(ctx, server.Config{Listen: "127.0.0.1:0", DataDir: t.TempDir(), Logger: quiet, NATSURL: url})
	if err != nil {
		t.Fatalf("server.New: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx, nil) }()
	createModel(t, srv.Registry, 1)
	nc, err := nats.Connect(url)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	s, err := js.Stream(ctx, natspub.DefaultStream)
	if err != nil {
		t.Fatal(err)
	}
	events := allEvents(t, srv.Registry)
	checkMsgs(t, streamMsgs(t, s, len(events)), events)
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the server did not stop")
	}

	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "nats://" + l.Addr().String()
	l.Close()
	if _, err := server.New(context.Background(), server.Config{Listen: "127.0.0.1:0", DataDir: t.TempDir(), Logger: quiet, NATSURL: closed}); err == nil {
		t.Error("server.New started without its NATS server")
	} else {
		t.Logf("server.New: %v", err)
	}
}
