package bench

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/redis/go-redis/v9"

	"github.com/dedupsim/dedupsim/core/claim"
	"github.com/dedupsim/dedupsim/core/dispatch"
	"github.com/dedupsim/dedupsim/core/flow"
	"github.com/dedupsim/dedupsim/core/store"
)

// plan is what a strategy sends to Redis and Postgres for one job, beyond
// what every strategy sends. The floor issues it directly; a test holds
// each plan to the commands and statements its strategy really issues.
type plan struct {
	// lookup reads the message by source id before the transaction.
	lookup bool
	// check GETs the claim key.
	check bool
	// mark sets the claim key.
	mark markKind
	// lockInTx takes the advisory lock right after BEGIN, then looks the
	// message up in the transaction.
	lockInTx bool
	// ifAbsent inserts with ON CONFLICT DO NOTHING.
	ifAbsent bool
	// clear DELs the claim key before COMMIT.
	clear bool
	// release deletes the claim key after COMMIT if it still holds the
	// owner's token.
	release bool
}

// markKind is how a plan sets the claim key.
type markKind int

const (
	markNone  markKind = iota
	markSet            // SET key owner EX 86400
	markSetNX          // SET key owner EX 86400 NX
)

// plans holds the plan of every strategy.
var plans = map[string]plan{
	"none":          {},
	"lookup-only":   {lookup: true},
	"legacy":        {lookup: true, check: true, mark: markSet, clear: true},
	"setnx":         {lookup: true, mark: markSetNX},
	"setnx-release": {lookup: true, mark: markSetNX, release: true},
	"db-unique":     {ifAbsent: true},
	"advisory":      {lockInTx: true},
}

// ErrNoFloor means a strategy has no plan, so its floor cannot be run.
var ErrNoFloor = errors.New("no floor plan for strategy")

// releaseScript deletes a key only while it holds the caller's token.
var releaseScript = redis.NewScript(`
if redis.call("GET", KEYS[1]) == ARGV[1] then
	return redis.call("DEL", KEYS[1])
end
return 0`)

// floorWorker issues a strategy's plan for one job at a time, straight
// through pgx, go-redis and net/http: no checkpoints, no claim.Call, no
// event encoding or signing.
type floorWorker struct {
	name      string
	db        *pgxpool.Pool
	rdb       *redis.Client
	keyPrefix string
	namespace int32
	plan      plan
	client    *http.Client
	url       string
	// body is a webhook body of the size the flow sends, encoded once.
	body []byte
	seq  int
}

// floorJob is one job in the floor's hands.
type floorJob struct {
	flow.Job
	key   string
	owner string
	t     *jobTiming
}

// process runs the plan for one job and reports whether it stored it.
func (f *floorWorker) process(ctx context.Context, job flow.Job, t *jobTiming) (bool, error) {
	f.seq++
	j := &floorJob{Job: job, t: t,
		key:   (&claim.Call{KeyPrefix: f.keyPrefix, SourceID: job.Message.ID}).Key(),
		owner: f.name + "/" + job.Message.ID + "/" + strconv.Itoa(f.seq)}
	if ok, err := f.claim(ctx, j); err != nil || !ok {
		return false, err
	}
	stored, err := f.store(ctx, j)
	if err != nil || !stored {
		return false, err
	}
	if f.plan.release {
		start := time.Now()
		err := releaseScript.Run(ctx, f.rdb, []string{j.key}, j.owner).Err()
		t.add(Claim, time.Since(start))
		if err != nil {
			return true, fmt.Errorf("release %s: %w", j.key, err)
		}
	}
	start := time.Now()
	err = f.post(ctx)
	t.add(Dispatch, time.Since(start))
	return true, err
}

// claim runs the plan's steps before the transaction.
func (f *floorWorker) claim(ctx context.Context, j *floorJob) (bool, error) {
	if !f.plan.lookup && !f.plan.check && f.plan.mark == markNone {
		return true, nil // no claim step, so no claim time
	}
	start := time.Now()
	defer func() { j.t.add(Claim, time.Since(start)) }()
	if f.plan.lookup {
		found, err := store.MessageExists(ctx, f.db, j.Inbox.ID, j.Message.ID)
		if found || err != nil {
			return false, err
		}
	}
	if f.plan.check {
		err := f.rdb.Get(ctx, j.key).Err()
		if !errors.Is(err, redis.Nil) {
			return false, err // set, or failed
		}
	}
	switch f.plan.mark {
	case markSet:
		return true, f.rdb.Set(ctx, j.key, j.owner, claim.KeyTTL*time.Second).Err()
	case markSetNX:
		return f.rdb.SetNX(ctx, j.key, j.owner, claim.KeyTTL*time.Second).Result()
	}
	return true, nil
}

// store upserts the contact, then stores the message in a transaction.
func (f *floorWorker) store(ctx context.Context, j *floorJob) (bool, error) {
	start := time.Now()
	msg := j.Message
	contact, err := store.UpsertContact(ctx, f.db, j.Inbox, msg.From, msg.ContactName)
	if err != nil {
		return false, err
	}
	tx, err := f.db.Begin(ctx)
	j.t.add(Insert, time.Since(start))
	if err != nil {
		return false, fmt.Errorf("begin: %w", err)
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	if f.plan.lockInTx {
		if ok, err := f.lock(ctx, j, tx); err != nil || !ok {
			return false, err
		}
	}
	if ok, err := f.insert(ctx, j, tx, contact); err != nil || !ok {
		return false, err
	}
	return true, f.commit(ctx, j, tx)
}

// lock takes the advisory lock and looks the message up under it.
func (f *floorWorker) lock(ctx context.Context, j *floorJob, tx pgx.Tx) (bool, error) {
	start := time.Now()
	defer func() { j.t.add(Claim, time.Since(start)) }()
	h := fnv.New32a()
	h.Write([]byte(j.Message.ID))
	_, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1, $2)`,
		f.namespace, int32(h.Sum32()))
	if err != nil {
		return false, fmt.Errorf("lock %s: %w", j.Message.ID, err)
	}
	found, err := store.MessageExists(ctx, tx, j.Inbox.ID, j.Message.ID)
	return !found && err == nil, err
}

// insert resolves the conversation and inserts every part.
func (f *floorWorker) insert(ctx context.Context, j *floorJob, tx pgx.Tx,
	contact store.Contact) (bool, error) {
	start := time.Now()
	defer func() { j.t.add(Insert, time.Since(start)) }()
	conv, err := store.ResolveConversation(ctx, tx, j.Inbox, contact.ID)
	if err != nil {
		return false, err
	}
	mode := store.InsertPlain
	if f.plan.ifAbsent {
		mode = store.InsertIfAbsent
	}
	stored := false
	for _, part := range j.Message.Parts {
		m := store.Message{AccountID: j.Inbox.AccountID, InboxID: j.Inbox.ID,
			ConversationID: conv.ID, SenderID: contact.ID, SourceID: j.Message.ID,
			Part: part.Index, Content: part.Content, ContentType: part.ContentType,
			MessageType: "incoming"}
		ok, err := store.InsertMessage(ctx, tx, &m, mode)
		if err != nil {
			return false, err
		}
		stored = stored || ok
	}
	return stored, nil
}

// commit DELs the claim key when the plan says so, and commits.
func (f *floorWorker) commit(ctx context.Context, j *floorJob, tx pgx.Tx) error {
	if f.plan.clear {
		start := time.Now()
		err := f.rdb.Del(ctx, j.key).Err()
		j.t.add(Claim, time.Since(start))
		if err != nil {
			return fmt.Errorf("clear %s: %w", j.key, err)
		}
	}
	start := time.Now()
	err := tx.Commit(ctx)
	j.t.add(Commit, time.Since(start))
	if err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// post sends the webhook body to the subscriber once.
func (f *floorWorker) post(ctx context.Context) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, f.url,
		bytes.NewReader(f.body))
	if err != nil {
		return fmt.Errorf("build request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(dispatch.HeaderID, "msg_floor")
	req.Header.Set(dispatch.HeaderTimestamp, "1700000000")
	req.Header.Set(dispatch.HeaderSignature, "v1,floor")
	resp, err := f.client.Do(req)
	if err != nil {
		return fmt.Errorf("post webhook: %w", err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("post webhook: HTTP %d", resp.StatusCode)
	}
	return nil
}
