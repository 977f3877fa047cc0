-- Election results. Every row is a logged record: elections and the
-- per-station state and result keep their latest version here (earlier
-- versions are log leaves); every typed entry and decision is an event row
-- that is never updated. `salt` columns are random and part of the logged
-- record, so the public log's hashes reveal nothing of counts before the
-- salt of a result is published at the release time.
CREATE TABLE results_elections (
    id TEXT PRIMARY KEY,
    version BIGINT NOT NULL,
    organisation_id TEXT NOT NULL REFERENCES organisations(id),
    definition TEXT NOT NULL,
    lots TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

CREATE TABLE results_events (
    id TEXT PRIMARY KEY,
    election_id TEXT NOT NULL REFERENCES results_elections(id),
    station_id TEXT NOT NULL,
    action TEXT NOT NULL,
    actor TEXT NOT NULL,
    details TEXT NOT NULL,
    salt TEXT NOT NULL,
    at TEXT NOT NULL
);
CREATE INDEX results_events_station ON results_events(election_id, station_id, at);

CREATE TABLE results_station_states (
    id TEXT PRIMARY KEY,
    version BIGINT NOT NULL,
    election_id TEXT NOT NULL REFERENCES results_elections(id),
    station_id TEXT NOT NULL,
    state TEXT NOT NULL,
    salt TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX results_station_states_election ON results_station_states(election_id);

CREATE TABLE results_station_results (
    id TEXT PRIMARY KEY,
    version BIGINT NOT NULL,
    election_id TEXT NOT NULL REFERENCES results_elections(id),
    station_id TEXT NOT NULL,
    district_id TEXT NOT NULL,
    counts TEXT NOT NULL,
    warnings TEXT NOT NULL,
    explanation TEXT,
    salt TEXT NOT NULL,
    accepted_at TEXT NOT NULL
);
CREATE INDEX results_station_results_election ON results_station_results(election_id);
