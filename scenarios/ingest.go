package scenarios

import "time"

// The ingest modes.
const (
	// IngestDirect: the simulator verifies each delivery and enqueues its
	// jobs itself.
	IngestDirect = "direct"
	// IngestHTTP: each delivery is POSTed, signed, to the ingest endpoint
	// on a loopback port, which enqueues the jobs before it answers.
	IngestHTTP = "http"
)

// maxRedeliver bounds Ingest.Redeliver.
const maxRedeliver = 10

// Ingest says how deliveries reach the queue, and how the simulated
// provider treats a slow answer. Written `ingest: http` for a mode alone.
type Ingest struct {
	// Mode is IngestDirect (the default) or IngestHTTP.
	Mode string `yaml:"mode"`
	// AckDelayMS holds the endpoint's answer this long after its jobs are
	// committed.
	AckDelayMS int `yaml:"ack_delay_ms" check:"ms"`
	// ProviderTimeoutMS is how long the provider waits for an answer; 0
	// waits as long as the run lasts.
	ProviderTimeoutMS int `yaml:"provider_timeout_ms" check:"ms"`
	// Redeliver is how many times the provider sends a delivery again
	// when it got no 200 in time: at T, 2T, … after the first try, T
	// being the timeout.
	Redeliver int `yaml:"redeliver"`
}

// UnmarshalYAML reads a mode alone (`ingest: http`) or the whole mapping.
func (in *Ingest) UnmarshalYAML(unmarshal func(any) error) error {
	var mode string
	if err := unmarshal(&mode); err == nil {
		*in = Ingest{Mode: mode}
		return nil
	}
	type plain Ingest
	return unmarshal((*plain)(in))
}

// HTTP reports whether deliveries go through the ingest endpoint.
func (in Ingest) HTTP() bool { return in.Mode == IngestHTTP }

// AckDelay is how long the endpoint holds its answer.
func (in Ingest) AckDelay() time.Duration {
	return time.Duration(in.AckDelayMS) * time.Millisecond
}

// ProviderTimeout is how long the provider waits for an answer; 0 means
// no limit.
func (in Ingest) ProviderTimeout() time.Duration {
	return time.Duration(in.ProviderTimeoutMS) * time.Millisecond
}

// ingest checks the ingest field and fills in its default mode.
func (c *checker) ingest() error {
	in := &c.s.Ingest
	switch in.Mode {
	case "":
		in.Mode = IngestDirect
	case IngestDirect, IngestHTTP:
	default:
		return c.fail("ingest.mode", "unknown mode %q (known: %s, %s)", in.Mode,
			IngestDirect, IngestHTTP)
	}
	switch {
	case in.AckDelayMS < 0, in.ProviderTimeoutMS < 0:
		return c.fail("ingest", "ack_delay_ms and provider_timeout_ms must not "+
			"be negative")
	case in.Redeliver < 0 || in.Redeliver > maxRedeliver:
		return c.fail("ingest.redeliver", "must be from 0 to %d, not %d",
			maxRedeliver, in.Redeliver)
	case in.Mode == IngestDirect &&
		(in.AckDelayMS != 0 || in.ProviderTimeoutMS != 0 || in.Redeliver != 0):
		return c.fail("ingest", "ack_delay_ms, provider_timeout_ms and redeliver "+
			"need mode: http")
	case in.Redeliver > 0 && in.ProviderTimeoutMS == 0:
		return c.fail("ingest.redeliver", "needs provider_timeout_ms: the "+
			"provider redelivers when its wait for an answer times out")
	}
	return nil
}
