-- Webhooks: an organisation's URL that receives the events it may see.
-- The registration is a logged record; the delivery position is
-- operational state (which process delivers, up to which log index).
CREATE TABLE webhooks (
    id TEXT PRIMARY KEY,
    version BIGINT NOT NULL,
    organisation_id TEXT NOT NULL REFERENCES organisations(id),
    url TEXT NOT NULL,
    status TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX webhooks_organisation ON webhooks(organisation_id);

CREATE TABLE webhook_deliveries (
    id TEXT PRIMARY KEY REFERENCES webhooks(id),
    delivered_up_to BIGINT NOT NULL,
    failures BIGINT NOT NULL,
    last_error TEXT,
    next_attempt_at TEXT NOT NULL,
    lease_until TEXT NOT NULL
);
