package dispatch

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/dedupsim/dedupsim/core/checkpoint"
	"github.com/dedupsim/dedupsim/core/store"
)

// DefaultTimeout bounds one POST when Config.Client is nil.
const DefaultTimeout = 5 * time.Second

// maxAnswer bounds how much of a subscriber's answer is read and dropped.
const maxAnswer = 64 << 10

var (
	// ErrDeliveryFailed is wrapped by the error of every POST that did not
	// get a 2xx answer: a transport error, a refusal by the tracer's hook,
	// or another status.
	ErrDeliveryFailed = errors.New("webhook delivery failed")
	// ErrInvalidConfig is wrapped by errors about a dispatcher Config.
	ErrInvalidConfig = errors.New("invalid dispatch config")
)

// Subscription is one subscriber of message_created webhooks.
type Subscription struct {
	// URL is where webhooks are POSTed; it must be absolute http or https.
	URL string
	// Secret signs the webhooks, written "whsec_" + base64 (or bare base64).
	Secret string
}

// Config configures a dispatcher.
type Config struct {
	// Subscriptions receive every event, in this order. None is allowed:
	// events then go nowhere.
	Subscriptions []Subscription
	// Client sends the POSTs. Default: a client with DefaultTimeout.
	Client *http.Client
	// Now stamps each webhook's timestamp. Default: time.Now.
	Now func() time.Time
	// Logger receives debug records of each POST. Default: discards.
	Logger *slog.Logger
	// Ledger, when set, records each event as it is dispatched, so that
	// dispatching the same stored row again sends nothing.
	Ledger store.Querier
}

func (c Config) withDefaults() Config {
	c.Subscriptions = append([]Subscription(nil), c.Subscriptions...)
	if c.Client == nil {
		c.Client = &http.Client{Timeout: DefaultTimeout}
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}

func (c Config) validate() error {
	for i, s := range c.Subscriptions {
		u, err := url.Parse(s.URL)
		if err != nil {
			return fmt.Errorf("subscription %d: %w: %w", i, ErrInvalidConfig, err)
		}
		if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("subscription %d: url %q is not absolute http(s): %w",
				i, s.URL, ErrInvalidConfig)
		}
		if _, err := decodeSecret(s.Secret); err != nil {
			return fmt.Errorf("subscription %d (%s): %w: %w",
				i, s.URL, ErrInvalidConfig, err)
		}
	}
	return nil
}

// Direct is the after-commit dispatcher of the original system: the
// worker calls Dispatch once its transaction has committed, and each
// subscriber gets one POST, with no retry and nothing stored. It is safe
// for concurrent use by several workers.
type Direct struct {
	subs   []Subscription
	client *http.Client
	now    func() time.Time
	log    *slog.Logger
	ledger store.Querier
}

// NewDirect returns a dispatcher for cfg, with defaults filled in.
func NewDirect(cfg Config) (*Direct, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, fmt.Errorf("new direct dispatcher: %w", err)
	}
	d := &Direct{
		ledger: cfg.Ledger,
		subs:   cfg.Subscriptions,
		client: cfg.Client,
		now:    cfg.Now,
		log:    cfg.Logger,
	}
	return d, nil
}

// Dispatch sends ev to every subscription, one after another, and returns
// the failed POSTs joined, each wrapping ErrDeliveryFailed. It passes
// checkpoint.DispatchEnqueue once, then webhook.send and webhook.ack per
// subscription. When the hook fails dispatch.enqueue, nothing is sent and
// the hook's error is returned.
func (d *Direct) Dispatch(ctx context.Context, tr checkpoint.Tracer, ev Event) error {
	id := WebhookID(ev)
	if err := tr.Enter(ctx, checkpoint.DispatchEnqueue, id); err != nil {
		tr.Done(ctx, checkpoint.DispatchEnqueue, id, "", err)
		return fmt.Errorf("dispatch %s: %w", id, err)
	}
	body, err := json.Marshal(ev)
	if err != nil {
		tr.Done(ctx, checkpoint.DispatchEnqueue, id, "", err)
		return fmt.Errorf("dispatch %s: encode event: %w", id, err)
	}
	if d.ledger != nil {
		first, err := store.RecordEvent(ctx, d.ledger, store.Event{WebhookID: id,
			MessageID: ev.ID, Payload: body}, true)
		if err != nil || !first {
			tr.Done(ctx, checkpoint.DispatchEnqueue, id, "already dispatched", err)
			return err
		}
	}
	tr.Done(ctx, checkpoint.DispatchEnqueue, id, subscribers(len(d.subs)), nil)
	return d.Send(ctx, tr, id, body)
}

// Send POSTs an encoded event to every subscription, one after another,
// passing webhook.send and webhook.ack for each, and returns the failed
// POSTs joined, each wrapping ErrDeliveryFailed.
func (d *Direct) Send(ctx context.Context, tr checkpoint.Tracer, id string, body []byte) error {
	var errs []error
	for _, sub := range d.subs {
		if err := d.deliver(ctx, tr, sub, id, body); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// deliver POSTs one webhook and reads the answer, passing webhook.send
// before the request and webhook.ack before reading the answer.
func (d *Direct) deliver(
	ctx context.Context, tr checkpoint.Tracer, sub Subscription, id string, body []byte,
) error {
	if err := tr.Enter(ctx, checkpoint.WebhookSend, sub.URL); err != nil {
		tr.Done(ctx, checkpoint.WebhookSend, sub.URL, "", err)
		return failed(id, sub.URL, err)
	}
	start := time.Now()
	resp, err := d.post(ctx, sub, id, body)
	if err != nil {
		tr.Done(ctx, checkpoint.WebhookSend, sub.URL, "", err)
		return failed(id, sub.URL, err)
	}
	defer resp.Body.Close()
	status := "HTTP " + strconv.Itoa(resp.StatusCode)
	tr.Done(ctx, checkpoint.WebhookSend, sub.URL, status, nil)

	if err := tr.Enter(ctx, checkpoint.WebhookAck, sub.URL); err != nil {
		tr.Done(ctx, checkpoint.WebhookAck, sub.URL, status, err)
		return failed(id, sub.URL, err)
	}
	err = answer(resp)
	tr.Done(ctx, checkpoint.WebhookAck, sub.URL, status, err)
	d.log.DebugContext(ctx, "webhook sent", "webhook_id", id, "url", sub.URL,
		"status", resp.StatusCode, "elapsed", time.Since(start))
	if err != nil {
		return fmt.Errorf("deliver %s to %s: %w", id, sub.URL, err)
	}
	return nil
}

// post signs body for sub and sends it.
func (d *Direct) post(
	ctx context.Context, sub Subscription, id string, body []byte,
) (*http.Response, error) {
	ts := d.now()
	sig, err := Sign(sub.Secret, id, ts, body)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, sub.URL,
		bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("build request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(HeaderID, id)
	req.Header.Set(HeaderTimestamp, strconv.FormatInt(ts.Unix(), 10))
	req.Header.Set(HeaderSignature, sig)
	return d.client.Do(req)
}

// answer drains a subscriber's answer, so the connection can be reused,
// and judges its status: any 2xx is a success, whatever the body.
func answer(resp *http.Response) error {
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxAnswer))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("HTTP %d: %w", resp.StatusCode, ErrDeliveryFailed)
	}
	return nil
}

// failed wraps the error of a POST that got no answer.
func failed(id, target string, err error) error {
	return fmt.Errorf("deliver %s to %s: %w: %w", id, target, ErrDeliveryFailed, err)
}

// subscribers says how many subscriptions an event goes to.
func subscribers(n int) string {
	if n == 1 {
		return "1 subscriber"
	}
	return strconv.Itoa(n) + " subscribers"
}
