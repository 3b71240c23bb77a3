// Package claim holds the dedup strategies a worker can use to decide
// whether it is the one that stores a provider message.
//
// Each strategy is a small type named for what it does. A strategy is told
// about every stage of the worker's job (before the transaction, inside
// it, around COMMIT, and when the job fails) and touches Redis and Postgres
// only through the Call it is given, passing the checkpoints of its steps.
package claim

import (
	"context"
	"errors"
	"fmt"
	"sort"

	"github.com/jackc/pgx/v5"
	"github.com/redis/go-redis/v9"

	"github.com/dedupsim/dedupsim/core/checkpoint"
	"github.com/dedupsim/dedupsim/core/store"
)

// KeyTTL is how long a claim key lives: one day, as in the original guard.
const KeyTTL = 86400 // seconds

// ErrUnknownStrategy is wrapped by errors about a strategy name that does
// not exist.
var ErrUnknownStrategy = errors.New("unknown strategy")

// Call is one job as a strategy sees it.
type Call struct {
	// Tracer passes the strategy's checkpoints.
	Tracer checkpoint.Tracer
	// DB reads outside the job's transaction.
	DB store.Querier
	// Redis holds claim keys.
	Redis *redis.Client
	// KeyPrefix starts every Redis key the strategy writes.
	KeyPrefix string
	// Inbox is where the message arrived.
	Inbox store.Inbox
	// SourceID is the provider message id.
	SourceID string
	// Owner identifies this attempt for owner-checked releases.
	Owner string
	// Namespace keeps one run's advisory locks apart from another's on
	// the same server: advisory locks are database-wide.
	Namespace int32

	// claimed is set once the strategy holds a claim it may need to undo.
	claimed bool
}

// Key is the Redis key that claims the call's message. Keys are global to
// the run, not per inbox, as in the original guard.
func (c *Call) Key() string {
	return c.KeyPrefix + "MESSAGE_SOURCE_KEY::" + c.SourceID
}

// Strategy decides whether a worker stores a message.
type Strategy interface {
	// Name is the strategy's name in scenario files.
	Name() string
	// Setup prepares a fresh database for the strategy, once per run,
	// before any worker starts.
	Setup(ctx context.Context, db store.Querier) error
	// Checkpoints lists the claim checkpoints the strategy passes.
	Checkpoints() []checkpoint.Name
	// Claim runs before the transaction. False means another copy has the
	// message: the worker stops without storing anything.
	Claim(ctx context.Context, c *Call) (bool, error)
	// InTx runs right after BEGIN, with the same meaning as Claim.
	InTx(ctx context.Context, c *Call, tx pgx.Tx) (bool, error)
	// InsertMode says how the message row is inserted.
	InsertMode() store.InsertMode
	// BeforeCommit runs after the insert, inside the transaction.
	BeforeCommit(ctx context.Context, c *Call) error
	// AfterCommit runs once the transaction has committed.
	AfterCommit(ctx context.Context, c *Call) error
	// Abandon runs when the job fails after Claim said yes.
	Abandon(ctx context.Context, c *Call) error
}

var registry = map[string]func() Strategy{
	"none":          func() Strategy { return None{} },
	"lookup-only":   func() Strategy { return LookupOnly{} },
	"legacy":        func() Strategy { return Legacy{} },
	"setnx":         func() Strategy { return SetNX{} },
	"setnx-release": func() Strategy { return SetNXRelease{} },
	"db-unique":     func() Strategy { return DBUnique{} },
	"advisory":      func() Strategy { return Advisory{} },
}

// Names lists every strategy name, sorted.
func Names() []string {
	names := make([]string, 0, len(registry))
	for n := range registry {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// New returns the strategy called name.
func New(name string) (Strategy, error) {
	f, ok := registry[name]
	if !ok {
		return nil, fmt.Errorf("%w %q (known: %v)", ErrUnknownStrategy, name, Names())
	}
	return f(), nil
}

// passive is embedded by strategies to do nothing at the stages they skip.
type passive struct{}

func (passive) Setup(context.Context, store.Querier) error        { return nil }
func (passive) Claim(context.Context, *Call) (bool, error)        { return true, nil }
func (passive) InTx(context.Context, *Call, pgx.Tx) (bool, error) { return true, nil }
func (passive) InsertMode() store.InsertMode                      { return store.InsertPlain }
func (passive) BeforeCommit(context.Context, *Call) error         { return nil }
func (passive) AfterCommit(context.Context, *Call) error          { return nil }
func (passive) Abandon(context.Context, *Call) error              { return nil }
