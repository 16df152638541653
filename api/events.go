package api

import (
	"encoding/json"
	"time"
)

// CloudEventsVersion is the CloudEvents specification version of events.
const CloudEventsVersion = "1.0"

// EventTypePrefix begins every event type: io.modelgov.model.created, ...
const EventTypePrefix = "io.modelgov."

// Event is a change of the registry as a CloudEvents 1.0 event in its JSON
// format. Every committed change writes exactly one, in the same
// transaction, numbered by Seq: global, gap-free and increasing.
// docs/EVENTS.md lists the types and their data.
type Event struct {
	SpecVersion string `json:"specversion"`
	// ID is unique per source: the sequence number, in decimal.
	ID     string `json:"id"`
	Source string `json:"source"`
	Type   string `json:"type"`
	// Subject is what changed: a model id, an alias, policy/<version>,
	// token/<id>.
	Subject         string    `json:"subject,omitempty"`
	Time            time.Time `json:"time"`
	DataContentType string    `json:"datacontenttype,omitempty"`
	// Seq is the event's sequence number (a CloudEvents extension
	// attribute), the SSE id of the watch stream.
	Seq  int64           `json:"seq"`
	Data json.RawMessage `json:"data,omitempty"`
}

// EventData is the data of every event: who made the change, why, and the
// audit entry that records it; for a change of a model, the model as it
// stands after it (nil for a deletion).
type EventData struct {
	Action    string   `json:"action"`
	Principal string   `json:"principal"`
	Reason    string   `json:"reason,omitempty"`
	Revision  int64    `json:"revision,omitempty"`
	AuditSeq  int64    `json:"audit_seq"`
	RequestID string   `json:"request_id,omitempty"`
	Model     *Model   `json:"model,omitempty"`
	Roles     []string `json:"roles,omitempty"`
	// Webhook is, for a change of a webhook subscription, the subscription
	// after it (without its secret).
	Webhook *Webhook `json:"webhook,omitempty"`
	// Evaluation is, for an evaluation result, the result.
	Evaluation *Evaluation `json:"evaluation,omitempty"`
	// Benchmark is, for a change of the benchmarks catalogue, the benchmark.
	Benchmark *Benchmark `json:"benchmark,omitempty"`
}

// EventList is one page of events, in sequence order.
type EventList struct {
	Items []*Event `json:"items"`
	// NextAfter, when not zero, is the after= of the next page.
	NextAfter int64 `json:"next_after,omitempty"`
}
