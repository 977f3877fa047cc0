-- How each machine client (a user account) wants TLP markings: `oasis`
-- (TLP 2.0 marking-definitions, the default) or `compat` (TLP 1.0 ids and
-- OpenCTI's AMBER+STRICT, for OpenCTI and MISP). Id: the user id.
CREATE TABLE taxii_clients (
    id TEXT PRIMARY KEY,
    version BIGINT NOT NULL,
    tlp_profile TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
