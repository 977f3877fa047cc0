-- Foundation: organisations, accounts, audit events and the transparency log.
-- Logged tables (see core/ledger/kinds.rs) hold one row per record id (the
-- latest version) or one row per event; every version is a log leaf.

CREATE TABLE organisations (
    id TEXT PRIMARY KEY,
    version BIGINT NOT NULL,
    name TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    country TEXT,
    stix_identity TEXT NOT NULL UNIQUE,
    status TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

CREATE TABLE users (
    id TEXT PRIMARY KEY,
    version BIGINT NOT NULL,
    organisation_id TEXT NOT NULL REFERENCES organisations(id),
    username TEXT NOT NULL UNIQUE,
    roles TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    status TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    display_name TEXT,
    email TEXT,
    personal_salt TEXT,
    personal_digest TEXT NOT NULL
);
CREATE INDEX users_organisation ON users(organisation_id);

CREATE TABLE api_tokens (
    id TEXT PRIMARY KEY,
    version BIGINT NOT NULL,
    user_id TEXT NOT NULL REFERENCES users(id),
    name TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL,
    expires_at TEXT,
    revoked_at TEXT,
    updated_at TEXT NOT NULL
);
CREATE INDEX api_tokens_user ON api_tokens(user_id);

CREATE TABLE audit_events (
    id TEXT PRIMARY KEY,
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    subject TEXT NOT NULL,
    outcome TEXT NOT NULL,
    details TEXT NOT NULL,
    ip_address TEXT,
    personal_salt TEXT,
    personal_digest TEXT NOT NULL
);
CREATE INDEX audit_events_action_subject ON audit_events(action, subject, at);
CREATE INDEX audit_events_action_ip ON audit_events(action, ip_address, at);
CREATE INDEX audit_events_at ON audit_events(at);

-- Web sessions: operational state, not records (the login itself is audited).
CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users(id),
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
);

-- The transparency log. `tlog_head` has one row; its row lock serialises writers.
CREATE TABLE tlog_head (
    id BIGINT PRIMARY KEY,
    size BIGINT NOT NULL
);
INSERT INTO tlog_head (id, size) VALUES (1, 0);

CREATE TABLE tlog_leaves (
    idx BIGINT PRIMARY KEY,
    kind TEXT NOT NULL,
    record_id TEXT NOT NULL,
    version BIGINT NOT NULL,
    entry TEXT NOT NULL
);
CREATE UNIQUE INDEX tlog_leaves_record ON tlog_leaves(kind, record_id, version);

-- Hashes of complete subtrees: level 0 holds leaf hashes.
CREATE TABLE tlog_nodes (
    level BIGINT NOT NULL,
    idx BIGINT NOT NULL,
    hash BYTEA NOT NULL,
    PRIMARY KEY (level, idx)
);

CREATE TABLE tlog_checkpoints (
    size BIGINT PRIMARY KEY,
    note TEXT NOT NULL,
    created_at TEXT NOT NULL
);

-- Records written by the log benchmark (`vigil bench log`), kept apart from real data.
CREATE TABLE bench_records (
    id TEXT PRIMARY KEY,
    body TEXT NOT NULL
);
