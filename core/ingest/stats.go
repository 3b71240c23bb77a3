package ingest

import "sync"

// Reason says why a request was refused.
type Reason string

// The reasons a request is refused.
const (
	// ReasonTooLarge: the body is larger than MaxBody (413).
	ReasonTooLarge Reason = "too_large"
	// ReasonUnreadable: the body could not be read to its end (400).
	ReasonUnreadable Reason = "unreadable"
	// ReasonSignature: the signature is missing or does not match (401).
	ReasonSignature Reason = "bad_signature"
	// ReasonMalformed: the body is not well-formed JSON (400).
	ReasonMalformed Reason = "malformed"
	// ReasonUnexpectedObject: JSON, but not a WhatsApp Business Account
	// notification (400).
	ReasonUnexpectedObject Reason = "unexpected_object"
	// ReasonInvalid: the envelope is right but its content breaks the
	// format, such as a message without id (400).
	ReasonInvalid Reason = "invalid"
	// ReasonHandshake: a handshake with the wrong mode or token (403).
	ReasonHandshake Reason = "handshake"
	// ReasonMethod: neither GET nor POST (405).
	ReasonMethod Reason = "method"
	// ReasonUnavailable: the jobs could not be committed, or the hook
	// stopped the delivery after its commit (503); the provider retries.
	ReasonUnavailable Reason = "unavailable"
)

// Stats are a handler's counters since it was made.
type Stats struct {
	// Accepted counts POSTs answered 200.
	Accepted int64 `json:"accepted"`
	// Jobs counts the jobs enqueued: one per routed message.
	Jobs int64 `json:"jobs"`
	// Unroutable counts messages for phone number ids no inbox has; they
	// are answered 200 and stored nowhere.
	Unroutable int64 `json:"unroutable"`
	// StatusesApplied counts statuses that updated an outbound message.
	StatusesApplied int64 `json:"statuses_applied"`
	// StatusesIgnored counts statuses for messages no inbox sent.
	StatusesIgnored int64 `json:"statuses_ignored"`
	// Handshakes counts subscription handshakes answered with the
	// challenge.
	Handshakes int64 `json:"handshakes"`
	// Rejected counts refused requests by reason.
	Rejected map[Reason]int64 `json:"rejected"`
}

// counters are the live Stats.
type counters struct {
	mu sync.Mutex
	s  Stats
}

// outcome is what one accepted POST added to the counters.
type outcome struct {
	jobs, unroutable, applied, ignored int
}

func (c *counters) accept(o outcome) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.s.Accepted++
	c.s.Jobs += int64(o.jobs)
	c.s.Unroutable += int64(o.unroutable)
	c.s.StatusesApplied += int64(o.applied)
	c.s.StatusesIgnored += int64(o.ignored)
}

func (c *counters) handshake() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.s.Handshakes++
}

func (c *counters) reject(r Reason) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.s.Rejected == nil {
		c.s.Rejected = map[Reason]int64{}
	}
	c.s.Rejected[r]++
}

func (c *counters) snapshot() Stats {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.s
	s.Rejected = make(map[Reason]int64, len(c.s.Rejected))
	for r, n := range c.s.Rejected {
		s.Rejected[r] = n
	}
	return s
}

// RejectedTotal counts every refused request.
func (s Stats) RejectedTotal() int64 {
	var n int64
	for _, v := range s.Rejected {
		n += v
	}
	return n
}
