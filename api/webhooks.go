package api

import "time"

// Webhook statuses.
const (
	// WebhookActive subscriptions receive deliveries.
	WebhookActive = "active"
	// WebhookDisabled subscriptions receive none until they are enabled
	// again; their cursor is kept, so enabling resumes where they stopped.
	WebhookDisabled = "disabled"
)

// Webhook is a webhook subscription: the events of Types (all when empty)
// are posted to URL, one at a time in sequence order, signed as the
// Standard Webhooks specification says.
type Webhook struct {
	// ID is "wh_" and 16 hex digits.
	ID          string   `json:"id"`
	URL         string   `json:"url"`
	Types       []string `json:"types"`
	Description string   `json:"description,omitempty"`
	// Secret is the signing secret ("whsec_..."). It is in the answer to
	// the subscription's creation, and never again.
	Secret string `json:"secret,omitempty"`
	// Status is active or disabled.
	Status string `json:"status"`
	// DisabledReason says why a disabled subscription is.
	DisabledReason string    `json:"disabled_reason,omitempty"`
	CreatedAt      time.Time `json:"created_at"`
	CreatedBy      string    `json:"created_by"`
	// Cursor is the sequence number of the last event delivered: the next
	// delivery is of the first matching event after it.
	Cursor int64 `json:"cursor"`
	// ConsecutiveFailures counts the failed attempts since the last
	// success; at the registry's limit the subscription is disabled.
	ConsecutiveFailures int `json:"consecutive_failures"`
	// NextAttemptAt, when set, is when the failed delivery is retried.
	NextAttemptAt *time.Time `json:"next_attempt_at,omitempty"`
	// LastSuccessAt and LastFailureAt are the times of the last delivery
	// attempt that succeeded and that failed.
	LastSuccessAt *time.Time `json:"last_success_at,omitempty"`
	LastFailureAt *time.Time `json:"last_failure_at,omitempty"`
}

// WebhookRequest asks for a new subscription.
type WebhookRequest struct {
	URL         string   `json:"url"`
	Types       []string `json:"types,omitempty"`
	Description string   `json:"description,omitempty"`
	// After, when set, is the sequence number the deliveries start after
	// (0 replays every event); by default they start after the newest
	// event at creation.
	After *int64 `json:"after,omitempty"`
}

// WebhookList is every webhook subscription, oldest first.
type WebhookList struct {
	Items []*Webhook `json:"items"`
}

// Delivery is one attempt to deliver an event to a webhook, as the
// delivery log keeps it.
type Delivery struct {
	// ID numbers the attempts of every subscription, in order.
	ID        int64  `json:"id"`
	WebhookID string `json:"webhook_id"`
	EventSeq  int64  `json:"event_seq"`
	EventType string `json:"event_type"`
	// MessageID is the webhook-id header: the same for every attempt of
	// one event to one subscription, so that receivers can drop repeats.
	MessageID string `json:"message_id"`
	// Attempt is 1 for an event's first attempt, 2 for its first retry...
	Attempt int       `json:"attempt"`
	Time    time.Time `json:"time"`
	OK      bool      `json:"ok"`
	// Status is the HTTP status of the answer, 0 when none came.
	Status int `json:"status,omitempty"`
	// Error says why a failed attempt failed.
	Error      string  `json:"error,omitempty"`
	DurationMS float64 `json:"duration_ms"`
	// Response is the start of the answer's body (at most 512 bytes).
	Response string `json:"response,omitempty"`
	// RedeliveryOf, for a manual redelivery, is the delivery it repeats,
	// and By who asked for it.
	RedeliveryOf int64  `json:"redelivery_of,omitempty"`
	By           string `json:"by,omitempty"`
}

// DeliveryList is one page of a webhook's delivery log, newest first.
type DeliveryList struct {
	Items []*Delivery `json:"items"`
	// NextBefore, when not zero, is the before= of the next page.
	NextBefore int64 `json:"next_before,omitempty"`
}
