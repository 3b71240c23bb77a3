-- One row per outgoing message_created event. Direct dispatch records an
-- event as it sends it, so a second call for the same row sends nothing;
-- the outbox inserts it in the message's own transaction and the relay
-- marks it sent once every subscriber has answered.
CREATE TABLE webhook_events (
    id          bigserial PRIMARY KEY,
    webhook_id  text NOT NULL UNIQUE,
    message_id  bigint NOT NULL,
    payload     bytea NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    sent_at     timestamptz
);

CREATE INDEX webhook_events_unsent_idx ON webhook_events (id) WHERE sent_at IS NULL;
