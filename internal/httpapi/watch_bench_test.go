package httpapi_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hivellm/modelgov/api"
)

// BenchmarkWatchDelivery measures the delay from a change to its arrival on
// the watch stream, with 100 watchers: each write is a model created through
// the API, one at a time, and each watcher notes, for every event, the time
// it read it minus the event's time (taken as the change's transaction
// begins, so the delay includes the commit). It reports the p50, p99 and
// largest delay over every delivery.
//
//	go test -run '^$' -bench BenchmarkWatchDelivery -benchtime 500x ./internal/httpapi/
func BenchmarkWatchDelivery(b *testing.B) {
	const watchers = 100
	url, hc := startServer(b, filepath.Join(b.TempDir(), "modelgov.db"))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	var (
		mu     sync.Mutex
		delays []time.Duration
		wg     sync.WaitGroup
	)
	total := b.N
	ready := make(chan struct{}, watchers)
	for range watchers {
		req, err := http.NewRequestWithContext(ctx, "GET", url+"/v1/watch?type=io.modelgov.model.created", nil)
		if err != nil {
			b.Fatal(err)
		}
		resp, err := hc.Do(req)
		if err != nil || resp.StatusCode != 200 {
			b.Fatalf("watch: %v %v", err, resp)
		}
		wg.Go(func() {
			defer resp.Body.Close()
			sc := bufio.NewScanner(resp.Body)
			sc.Buffer(make([]byte, 1<<20), 1<<20)
			ready <- struct{}{}
			var mine []time.Duration
			for seen := 0; seen < total && sc.Scan(); {
				line := sc.Text()
				if !strings.HasPrefix(line, "data: ") {
					continue
				}
				at := time.Now()
				var ev api.Event
				if err := json.Unmarshal([]byte(line[6:]), &ev); err != nil {
					b.Errorf("event: %v", err)
					return
				}
				mine = append(mine, at.Sub(ev.Time))
				seen++
			}
			mu.Lock()
			delays = append(delays, mine...)
			mu.Unlock()
		})
	}
	for range watchers {
		<-ready
	}
	b.ResetTimer()
	for i := range b.N {
		doc := fmt.Sprintf(`{"schema_version":"1.1","model_id":"w/m-%06d","provider":"w","display_name":"M %d"}`, i, i)
		if err := send(hc, "POST", url+"/v1/models", "application/json", []byte(doc), 201); err != nil {
			b.Fatal(err)
		}
	}
	wg.Wait()
	b.StopTimer()
	if len(delays) != watchers*b.N {
		b.Fatalf("%d deliveries, want %d", len(delays), watchers*b.N)
	}
	slices.Sort(delays)
	q := func(p float64) float64 { return float64(delays[int(p*float64(len(delays)-1))].Microseconds()) / 1000 }
	b.ReportMetric(q(0.50), "p50-ms")
	b.ReportMetric(q(0.99), "p99-ms")
	b.ReportMetric(float64(delays[len(delays)-1].Microseconds())/1000, "max-ms")
	b.ReportMetric(float64(watchers), "watchers")
}
