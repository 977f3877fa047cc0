-- Alerts: an originator's STIX report with a level, from draft to revoked.
-- The shared versions are STIX objects (stix_objects); this row holds the
-- state and the draft text. Logged records (kind `alert`).
CREATE TABLE alerts (
    id TEXT PRIMARY KEY,
    version BIGINT NOT NULL,
    collection_id TEXT NOT NULL REFERENCES collections(id),
    report_id TEXT NOT NULL UNIQUE,
    originator TEXT NOT NULL,
    author TEXT NOT NULL,
    level TEXT NOT NULL,
    state TEXT NOT NULL,
    report TEXT NOT NULL,
    related TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    published_at TEXT
);
CREATE INDEX alerts_collection ON alerts(collection_id, updated_at);
