package claim

import (
	"context"
	"fmt"
	"hash/fnv"

	"github.com/jackc/pgx/v5"

	"github.com/dedupsim/dedupsim/core/checkpoint"
	"github.com/dedupsim/dedupsim/core/store"
)

// DBUnique lets the database decide: a unique index over (inbox, source
// id, part) and an insert that does nothing on conflict. Only the worker
// whose insert added a row dispatches. A second copy's insert waits for the
// first copy's transaction and then finds the row.
type DBUnique struct{ passive }

// Name implements Strategy.
func (DBUnique) Name() string { return "db-unique" }

// Checkpoints implements Strategy.
func (DBUnique) Checkpoints() []checkpoint.Name { return nil }

// Setup implements Strategy: it adds the unique index.
func (DBUnique) Setup(ctx context.Context, db store.Querier) error {
	return store.AddUniqueSourceIndex(ctx, db)
}

// InsertMode implements Strategy.
func (DBUnique) InsertMode() store.InsertMode { return store.InsertIfAbsent }

// Advisory serializes the copies of one message with a transaction-level
// advisory lock on a hash of its source id, then looks the message up
// inside the same READ COMMITTED transaction: the lookup runs after the lock
// is granted, so it sees whatever the previous holder committed.
type Advisory struct{ passive }

// Name implements Strategy.
func (Advisory) Name() string { return "advisory" }

// Checkpoints implements Strategy.
func (Advisory) Checkpoints() []checkpoint.Name {
	return []checkpoint.Name{checkpoint.ClaimLock}
}

// InTx implements Strategy.
func (Advisory) InTx(ctx context.Context, c *Call, tx pgx.Tx) (bool, error) {
	detail := fmt.Sprintf("pg_advisory_xact_lock(%d, hash(%s))", c.Namespace, c.SourceID)
	if err := c.Tracer.Enter(ctx, checkpoint.ClaimLock, detail); err != nil {
		return false, err
	}
	_, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1, $2)`,
		c.Namespace, lockKey(c.SourceID))
	if err != nil {
		c.Tracer.Done(ctx, checkpoint.ClaimLock, detail, "", err)
		return false, fmt.Errorf("lock %s: %w", c.SourceID, err)
	}
	found, err := store.MessageExists(ctx, tx, c.Inbox.ID, c.SourceID)
	c.Tracer.Done(ctx, checkpoint.ClaimLock, detail, "locked, "+foundWord(found), err)
	return !found && err == nil, err
}

// lockKey hashes a source id to the second key of the advisory lock.
func lockKey(sourceID string) int32 {
	h := fnv.New32a()
	h.Write([]byte(sourceID))
	return int32(h.Sum32())
}
