// Package scenarios reads scenario files and holds the ones shipped with
// dedupsim. A scenario names its inboxes, subscribers, workers, deliveries,
// strategies, schedule, faults and what it expects of each strategy; the
// format is documented in README.md beside this file.
package scenarios

import (
	"time"

	"github.com/dedupsim/dedupsim/core/checkpoint"
	"github.com/dedupsim/dedupsim/core/meta"
)

// Scenario is one scenario file, decoded and checked.
type Scenario struct {
	// Name is a short name; it defaults to the file name without extension.
	Name        string `yaml:"name"`
	Description string `yaml:"description"`
	// AppSecret signs every delivery to the endpoint.
	AppSecret   string       `yaml:"app_secret"`
	Inboxes     []Inbox      `yaml:"inboxes"`
	Subscribers []Subscriber `yaml:"subscribers"`
	// Workers is how many workers process jobs; default 1.
	Workers    int        `yaml:"workers" check:"positive"`
	Deliveries []Delivery `yaml:"deliveries"`
	Strategies []string   `yaml:"strategies"`
	// Mutex layers the per-(inbox, sender) job mutex on every strategy.
	Mutex *Mutex `yaml:"mutex"`
	// Dispatch lists how webhooks leave: "direct" after COMMIT (the
	// default) and/or "outbox".
	Dispatch []string `yaml:"dispatch"`
	// Media sets the provider's media server that media messages are
	// downloaded from.
	Media    MediaServer `yaml:"media"`
	Schedule Schedule    `yaml:"schedule"`
	Faults   []Fault     `yaml:"faults"`
	// Runs is how many times each strategy runs; default 1.
	Runs int `yaml:"runs" check:"positive"`
	// TimeoutMS bounds one run; past it the verdict is unknown. Default
	// 30000.
	TimeoutMS int `yaml:"timeout_ms" check:"positive,ms"`
	// Isolation is the level of the worker's transaction: "read committed"
	// (the default), "repeatable read" or "serializable". The last two
	// retry a transaction that fails to serialize.
	Isolation string `yaml:"isolation"`
	// Ingest says how deliveries reach the queue: handed over directly
	// (the default) or POSTed to the ingest endpoint. See ingest.go.
	Ingest Ingest `yaml:"ingest"`
	// Expect says, per strategy, what every run must show.
	Expect map[string]Expectation `yaml:"expect"`

	// Path is where the scenario was read from.
	Path string `yaml:"-"`
	// Arrivals are the deliveries' copies in arrival order, read, signed
	// and parsed.
	Arrivals []Arrival `yaml:"-"`
}

// Mutex configures the per-(inbox, sender) job mutex.
type Mutex struct {
	// TTLMS is the mutex's lifetime; default 30000.
	TTLMS int `yaml:"ttl_ms" check:"positive"`
	// RetryIntervalMS is the wait between tries; default 2000.
	RetryIntervalMS int `yaml:"retry_interval_ms" check:"positive"`
	// Retries is how many times a refused worker tries again.
	Retries int `yaml:"retries"`
	// Release lists the release styles to run, each as its own
	// configuration: "plain" (DEL, as the original), "owner-checked", and
	// "none" for no mutex at all. Default [plain].
	Release []string `yaml:"release"`
	// OnExhausted is what a worker does when its tries run out: "fail"
	// the job so the queue retries it (default), "drop" it, or "proceed"
	// without the mutex.
	OnExhausted string `yaml:"on_exhausted"`
}

// MediaServer sets how the simulated media server answers downloads.
type MediaServer struct {
	// DelayMS is how long each download takes.
	DelayMS int `yaml:"delay_ms" check:"ms"`
	// FailFirst is how many downloads of each media id fail first.
	FailFirst int `yaml:"fail_first"`
}

// Config is one configuration a scenario runs: a strategy, optionally
// under a job mutex released one way, with webhooks dispatched one way.
type Config struct {
	Strategy string `json:"strategy"`
	// Mutex is "", "plain" or "owner-checked".
	Mutex string `json:"mutex,omitempty"`
	// Dispatch is "direct" or "outbox".
	Dispatch string `json:"dispatch"`
}

// Name names the configuration in reports and expectations, such as
// "setnx", "setnx+mutex-plain" or "db-unique+outbox".
func (c Config) Name() string {
	name := c.Strategy
	if c.Mutex != "" {
		name += "+mutex-" + c.Mutex
	}
	if c.Dispatch == "outbox" {
		name += "+outbox"
	}
	return name
}

// Configs lists every configuration of the scenario: each strategy, under
// each mutex release style, with each dispatch.
func (s *Scenario) Configs() []Config {
	releases := []string{""}
	if s.Mutex != nil {
		releases = nil
		for _, r := range s.Mutex.Release {
			if r == "none" {
				r = ""
			}
			releases = append(releases, r)
		}
	}
	var out []Config
	for _, st := range s.Strategies {
		for _, rel := range releases {
			for _, d := range s.Dispatch {
				out = append(out, Config{Strategy: st, Mutex: rel, Dispatch: d})
			}
		}
	}
	return out
}

// ExpectationFor returns the expectation for c: the one named for the
// whole configuration, else the one named for its strategy.
func (s *Scenario) ExpectationFor(c Config) Expectation {
	if e, ok := s.Expect[c.Name()]; ok {
		return e
	}
	return s.Expect[c.Strategy]
}

// Inbox is a business number the endpoint routes to.
type Inbox struct {
	Name          string `yaml:"name"`
	PhoneNumberID string `yaml:"phone_number_id"`
}

// Subscriber is a webhook subscription. Subscribers with the same Path are
// one URL subscribed more than once.
type Subscriber struct {
	Name string `yaml:"name"`
	// Path is the URL path on the simulator's receiver; default
	// "/webhooks/<name>".
	Path   string `yaml:"path"`
	Secret string `yaml:"secret"`
	// LoseResponses is how many of the first webhooks this subscriber
	// records and accepts whose answer is then lost on the way back.
	LoseResponses int `yaml:"lose_responses"`
}

// Delivery is one provider POST, sent Copies times.
type Delivery struct {
	// Payload is a body file, relative to the scenario file.
	Payload string `yaml:"payload"`
	// Inline is a body written in the scenario; its bytes are sent as
	// written.
	Inline string `yaml:"inline"`
	// Text builds a body carrying one text message.
	Text *Text `yaml:"text"`
	// AtMS is when the first copy arrives, in ms from the start.
	AtMS int `yaml:"at_ms" check:"ms"`
	// Copies is how many identical copies arrive; default 1.
	Copies int `yaml:"copies" check:"positive"`
	// GapMS is the time between copies.
	GapMS int `yaml:"gap_ms" check:"ms"`
}

// Text is a text message for a built body.
type Text struct {
	// ID is the provider message id; required.
	ID string `yaml:"id"`
	// From is the sender's WhatsApp id; required.
	From string `yaml:"from"`
	// Name is the sender's profile name.
	Name string `yaml:"name"`
	Body string `yaml:"body"`
	// PhoneNumberID routes the message; default the first inbox.
	PhoneNumberID string `yaml:"phone_number_id"`
}

// Schedule says how workers are let through their checkpoints.
type Schedule struct {
	// Kind is "free" (the default), "barrier", or a serialized kind:
	// "script", "random", "pct" or "exhaustive".
	Kind string `yaml:"kind"`
	// ReleaseTogether makes free workers start together, like a cyclic
	// barrier at job.fetch.
	ReleaseTogether bool      `yaml:"release_together"`
	Barriers        []Barrier `yaml:"barriers"`

	// The fields below are for the serialized kinds (script, random, pct,
	// exhaustive): one worker runs at a time, see serial.go.

	// Steps is a script's order, such as ["W1:claim.lookup", "W2"].
	Steps []string `yaml:"steps"`
	// PerStrategy gives a script's order per strategy instead.
	PerStrategy map[string][]string `yaml:"per_strategy"`
	// Seed seeds random and pct; each run adds its number.
	Seed int64 `yaml:"seed"`
	// Depth is pct's bug depth d; default 2.
	Depth int `yaml:"depth" check:"positive"`
	// MaxSteps is pct's estimate k of a run's steps; default 16 per
	// worker.
	MaxSteps int `yaml:"max_steps" check:"positive"`
	// MaxRuns bounds an exhaustive search; default 1000.
	MaxRuns int `yaml:"max_runs" check:"positive"`
	// Window limits an exhaustive search to the checkpoints from
	// Window[0] to Window[1] in flow order.
	Window []string `yaml:"window"`
	// NoPrune turns off the pruning of equivalent orders.
	NoPrune bool `yaml:"no_prune"`
}

// Barrier aligns workers at checkpoints. Exactly one of At, PerStrategy
// and PerWorker says where.
type Barrier struct {
	// At is the checkpoint every participant waits at.
	At string `yaml:"at"`
	// PerStrategy names the checkpoint for each strategy.
	PerStrategy map[string]string `yaml:"per_strategy"`
	// PerWorker names the checkpoint for each participating worker.
	PerWorker map[string]string `yaml:"per_worker"`
	// Workers lists the participants; default every worker (or the keys
	// of PerWorker).
	Workers []string `yaml:"workers"`
}

// Fault is something done to a worker at a checkpoint.
type Fault struct {
	// Kind is "pause" (hold the worker for duration_ms), "error" (the
	// step fails and the worker's error handling runs), "crash" (the
	// worker dies there: its connections are killed, no cleanup runs),
	// "disconnect" (the worker's transaction connection is killed and the
	// step runs into it), "redis-restart" (Redis comes back with no keys,
	// just before the step) or "dispatch-twice" (the after-commit hook runs
	// twice; it takes no worker or checkpoint).
	Kind string `yaml:"kind"`
	// Worker picks the worker; Message picks whichever worker processes
	// that provider message id. Give one or both.
	Worker  string `yaml:"worker"`
	Message string `yaml:"message"`
	// At is the checkpoint; PerStrategy names one per strategy instead.
	At          string            `yaml:"at"`
	PerStrategy map[string]string `yaml:"per_strategy"`
	// Occurrence picks which pass of the checkpoint by the worker, from
	// 1; default every pass.
	Occurrence int `yaml:"occurrence" check:"positive"`
	// Attempt picks the job attempt, from 1; default every attempt.
	Attempt int `yaml:"attempt" check:"positive"`
	// DurationMS is how long a pause lasts.
	DurationMS int `yaml:"duration_ms" check:"ms"`
}

// Expectation is what every run of one strategy must show. Counts apply to
// every message part the deliveries carry.
type Expectation struct {
	// Messages is the number of stored rows per message part.
	Messages *int `yaml:"messages"`
	// Webhooks is the number of distinct webhook ids per message part and
	// subscriber.
	Webhooks *int `yaml:"webhooks"`
	// Broken lists the properties that must break; every other property
	// not in Ignore must hold.
	Broken []string `yaml:"broken"`
	// Ignore lists properties whose outcome is shown but not gated.
	Ignore []string `yaml:"ignore"`
	// Outcomes is what became of each job of every message, in order:
	// stored, duplicate (the guard refused it), dropped, failed, crashed.
	Outcomes []string `yaml:"outcomes"`
	// Observe shows the strategy's runs without gating them: for free
	// schedules, where a strategy that may fail fails only sometimes.
	Observe bool `yaml:"observe"`
}

// Arrival is one copy of one delivery, ready to hand to ingest.
type Arrival struct {
	// At is when the copy arrives, from the start of the run.
	At time.Duration
	// Delivery indexes Scenario.Deliveries; Copy numbers copies from 1.
	Delivery int
	Copy     int
	// Body is the exact bytes sent; Signature its X-Hub-Signature-256.
	Body      []byte
	Signature string
	// Parsed is Body, parsed.
	Parsed *meta.Delivery
}

// Timeout is the run deadline.
func (s *Scenario) Timeout() time.Duration {
	return time.Duration(s.TimeoutMS) * time.Millisecond
}

// CheckpointFor resolves where a barrier or fault applies for a strategy:
// its At, or its PerStrategy entry. Empty means it does not apply.
func CheckpointFor(at string, perStrategy map[string]string, strategy string) checkpoint.Name {
	if at != "" {
		return checkpoint.Name(at)
	}
	return checkpoint.Name(perStrategy[strategy])
}
