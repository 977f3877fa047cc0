-- Rapid Alert System: trust communities (TAXII API roots) and their member
-- organisations, collections with their access grants, the STIX objects
-- shared in them, and TAXII add-objects statuses. All are logged records
-- (see core/ledger/kinds.rs).

CREATE TABLE communities (
    id TEXT PRIMARY KEY,
    version BIGINT NOT NULL,
    title TEXT NOT NULL,
    description TEXT,
    status TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

-- One row per (community, organisation): id `<community>/<organisation>`.
CREATE TABLE community_members (
    id TEXT PRIMARY KEY,
    version BIGINT NOT NULL,
    community_id TEXT NOT NULL REFERENCES communities(id),
    organisation_id TEXT NOT NULL REFERENCES organisations(id),
    status TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX community_members_organisation ON community_members(organisation_id);

CREATE TABLE collections (
    id TEXT PRIMARY KEY,
    version BIGINT NOT NULL,
    community_id TEXT NOT NULL REFERENCES communities(id),
    title TEXT NOT NULL,
    description TEXT,
    alias TEXT,
    default_tlp TEXT NOT NULL,
    status TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX collections_community ON collections(community_id);

-- Rights on a collection for an organisation (org-…) or a user (usr-…):
-- id `<collection>/<grantee>`.
CREATE TABLE collection_grants (
    id TEXT PRIMARY KEY,
    version BIGINT NOT NULL,
    collection_id TEXT NOT NULL REFERENCES collections(id),
    grantee TEXT NOT NULL,
    can_read BIGINT NOT NULL,
    can_write BIGINT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX collection_grants_grantee ON collection_grants(grantee);

-- One row per stored version of a STIX object in a collection.
CREATE TABLE stix_objects (
    id TEXT PRIMARY KEY,
    version BIGINT NOT NULL,
    collection_id TEXT NOT NULL REFERENCES collections(id),
    stix_id TEXT NOT NULL,
    stix_type TEXT NOT NULL,
    stix_version TEXT,
    version_key TEXT NOT NULL,
    spec_version TEXT NOT NULL,
    date_added TEXT NOT NULL,
    tlp BIGINT NOT NULL,
    originator TEXT NOT NULL,
    poster TEXT NOT NULL,
    audience TEXT NOT NULL,
    deleted BIGINT NOT NULL,
    object TEXT NOT NULL
);
CREATE UNIQUE INDEX stix_objects_version ON stix_objects(collection_id, stix_id, version_key);
CREATE INDEX stix_objects_added ON stix_objects(collection_id, date_added, id);

CREATE TABLE taxii_statuses (
    id TEXT PRIMARY KEY,
    community_id TEXT NOT NULL,
    collection_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    status TEXT NOT NULL,
    request_timestamp TEXT NOT NULL,
    total_count BIGINT NOT NULL,
    success_count BIGINT NOT NULL,
    failure_count BIGINT NOT NULL,
    pending_count BIGINT NOT NULL,
    details TEXT NOT NULL
);
