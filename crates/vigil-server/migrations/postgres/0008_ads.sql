-- Political advertising. Every row is a logged record: the calendar and the
-- ads keep their latest version here (earlier versions are log leaves), and
-- every version of every ad is also a row of ads_ad_versions that is never
-- updated, so its whole history stays readable. The columns beside
-- `content` repeat what searches filter on.
CREATE TABLE ads_elections (
    id TEXT PRIMARY KEY,
    version BIGINT NOT NULL,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    date TEXT NOT NULL,
    country TEXT NOT NULL,
    region TEXT,
    voting_age BIGINT NOT NULL,
    updated_at TEXT NOT NULL
);

-- Spending limits per sponsor (or party) and election, set by regulators.
CREATE TABLE ads_limits (
    id TEXT PRIMARY KEY,
    version BIGINT NOT NULL,
    election_id TEXT NOT NULL REFERENCES ads_elections(id),
    sponsor_name TEXT NOT NULL,
    currency TEXT NOT NULL,
    amount_minor BIGINT NOT NULL,
    legal_basis TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

CREATE TABLE ads_ads (
    id TEXT PRIMARY KEY,
    version BIGINT NOT NULL,
    organisation_id TEXT NOT NULL REFERENCES organisations(id),
    status TEXT NOT NULL,
    status_reason TEXT,
    content TEXT NOT NULL,
    sponsor_name TEXT NOT NULL,
    publisher_name TEXT NOT NULL,
    payer_name TEXT,
    election_id TEXT,
    import_key TEXT,
    countries TEXT NOT NULL,
    language TEXT NOT NULL,
    period_start TEXT NOT NULL,
    period_end TEXT NOT NULL,
    spend_currency TEXT,
    spend_lower BIGINT,
    spend_upper BIGINT,
    targeting_categories TEXT NOT NULL,
    search_text TEXT NOT NULL,
    filed_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX ads_ads_filed ON ads_ads(filed_at, id);
CREATE INDEX ads_ads_election ON ads_ads(election_id, filed_at);
CREATE INDEX ads_ads_sponsor ON ads_ads(sponsor_name);
CREATE INDEX ads_ads_organisation ON ads_ads(organisation_id);
CREATE UNIQUE INDEX ads_ads_import_key ON ads_ads(import_key);

CREATE TABLE ads_ad_versions (
    id TEXT PRIMARY KEY,
    ad_id TEXT NOT NULL,
    ad_version BIGINT NOT NULL,
    change TEXT NOT NULL,
    reason TEXT,
    status TEXT NOT NULL,
    content TEXT NOT NULL,
    actor TEXT NOT NULL,
    at TEXT NOT NULL
);
CREATE INDEX ads_ad_versions_ad ON ads_ad_versions(ad_id, ad_version);

-- Citizens' notices (Art. 15). The notifier's name, email and the keyed
-- digest of their address are personal: outside the logged canonical form
-- (covered by personal_digest), redactable, never published.
CREATE TABLE ads_notices (
    id TEXT PRIMARY KEY,
    version BIGINT NOT NULL,
    ad_id TEXT NOT NULL REFERENCES ads_ads(id),
    status TEXT NOT NULL,
    explanation TEXT NOT NULL,
    evidence_url TEXT,
    reasons TEXT,
    received_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    notifier_name TEXT,
    notifier_email TEXT,
    source_digest TEXT,
    personal_salt TEXT,
    personal_digest TEXT NOT NULL
);
CREATE INDEX ads_notices_ad ON ads_notices(ad_id);
CREATE INDEX ads_notices_source ON ads_notices(source_digest, received_at);
