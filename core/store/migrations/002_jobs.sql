-- The durable job queue (package core/queue). A job is pending until a
-- worker completes it (done) or its attempts run out (dead). A worker leases
-- a job by holding its row lock in an open transaction; nothing in the row
-- says "leased", so a worker whose connection dies leaves no trace and the
-- job is pending again as soon as Postgres ends the transaction.
--
-- attempts counts the failed attempts recorded so far; the attempt being
-- made is attempts + 1. Times come from the queue's clock, never now().

CREATE TABLE jobs (
    id           bigserial PRIMARY KEY,
    queue        text NOT NULL,
    kind         text NOT NULL,
    payload      bytea NOT NULL,
    state        text NOT NULL DEFAULT 'pending'
                 CHECK (state IN ('pending', 'done', 'dead')),
    attempts     integer NOT NULL DEFAULT 0,
    run_at       timestamptz NOT NULL,
    last_error   text NOT NULL DEFAULT '',
    created_at   timestamptz NOT NULL,
    finished_at  timestamptz
);

CREATE INDEX jobs_ready_idx ON jobs (queue, run_at, id)
    WHERE state = 'pending';
