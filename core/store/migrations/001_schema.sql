-- The tables of the reference flow. messages.source_id carries a plain,
-- non-unique index, as in the system the flow mirrors: one provider message
-- may legitimately be stored as several rows (one per contact card).

CREATE TABLE accounts (
    id         bigserial PRIMARY KEY,
    name       text NOT NULL
);

CREATE TABLE inboxes (
    id               bigserial PRIMARY KEY,
    account_id       bigint NOT NULL REFERENCES accounts (id),
    name             text NOT NULL,
    phone_number_id  text NOT NULL UNIQUE
);

CREATE TABLE contacts (
    id          bigserial PRIMARY KEY,
    account_id  bigint NOT NULL REFERENCES accounts (id),
    inbox_id    bigint NOT NULL REFERENCES inboxes (id),
    wa_id       text NOT NULL,
    name        text NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (inbox_id, wa_id)
);

-- No unique constraint on open conversations: find-or-create reads, then
-- inserts, as the original does, so concurrent workers can open two.
CREATE TABLE conversations (
    id          bigserial PRIMARY KEY,
    account_id  bigint NOT NULL REFERENCES accounts (id),
    inbox_id    bigint NOT NULL REFERENCES inboxes (id),
    contact_id  bigint NOT NULL REFERENCES contacts (id),
    status      text NOT NULL DEFAULT 'open',
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX conversations_contact_idx ON conversations (inbox_id, contact_id, status);

CREATE TABLE messages (
    id               bigserial PRIMARY KEY,
    account_id       bigint NOT NULL REFERENCES accounts (id),
    inbox_id         bigint NOT NULL REFERENCES inboxes (id),
    conversation_id  bigint NOT NULL REFERENCES conversations (id),
    sender_id        bigint NOT NULL REFERENCES contacts (id),
    source_id        text NOT NULL,
    part             integer NOT NULL DEFAULT 0,
    content          text NOT NULL DEFAULT '',
    content_type     text NOT NULL DEFAULT 'text',
    message_type     text NOT NULL DEFAULT 'incoming',
    created_at       timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX messages_source_id_idx ON messages (source_id);

-- Outbound messages the business sent; provider statuses update them.
CREATE TABLE outbound_messages (
    id          bigserial PRIMARY KEY,
    inbox_id    bigint NOT NULL REFERENCES inboxes (id),
    source_id   text NOT NULL UNIQUE,
    status      text NOT NULL DEFAULT 'sent',
    updated_at  timestamptz NOT NULL DEFAULT now()
);
