// Package check decides whether a run kept its promises. It reads what
// Postgres holds and what the subscribers received, never the workers' own
// counters, and judges each property per provider message part.
package check

import "slices"

// Property names one promise a run is checked against.
type Property string

// The properties, numbered as in the design.
const (
	// NoDuplicate: at most one stored row per message part.
	NoDuplicate Property = "no-duplicate"
	// NoLoss: at least one stored row per message part once retries are
	// done.
	NoLoss Property = "no-loss"
	// OneWebhook: per subscriber, the deliveries for a part carry exactly
	// one distinct webhook id, and at least one of them succeeded.
	OneWebhook Property = "one-webhook"
	// NoGhostWebhook: no webhook for a row that was never committed.
	NoGhostWebhook Property = "no-ghost-webhook"
	// ExclusiveClaim: a claim or lock is released only by its owner and
	// held by at most one worker at any instant.
	ExclusiveClaim Property = "exclusive-claim"
	// OneConversation: at most one open conversation per contact and
	// inbox.
	OneConversation Property = "one-conversation"
)

// All lists every property in the design's order.
var All = []Property{NoDuplicate, NoLoss, OneWebhook, NoGhostWebhook,
	ExclusiveClaim, OneConversation}

// Known reports whether p names a property.
func Known(p Property) bool { return slices.Contains(All, p) }
