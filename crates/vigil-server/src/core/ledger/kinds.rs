//! Every kind of record that goes through the log, with its table. A pillar
//! that stores records adds its kinds to [`ALL`]; the verifier then checks
//! them with no further code.
use super::record::{RecordKind, Retention, integer, text};

pub static ORGANISATION: RecordKind = RecordKind {
    kind: "organisation",
    table: "organisations",
    retention: Retention::LatestVersion,
    columns: &[
        text("name"),
        text("kind"),
        text("country"),
        text("stix_identity"),
        text("status"),
        text("created_at"),
        text("updated_at"),
    ],
    personal: &[],
};

pub static USER: RecordKind = RecordKind {
    kind: "user",
    table: "users",
    retention: Retention::LatestVersion,
    columns: &[
        text("organisation_id"),
        text("username"),
        text("roles"),
        text("password_hash"),
        text("status"),
        text("created_at"),
        text("updated_at"),
    ],
    personal: &["display_name", "email"],
};

pub static API_TOKEN: RecordKind = RecordKind {
    kind: "api_token",
    table: "api_tokens",
    retention: Retention::LatestVersion,
    columns: &[
        text("user_id"),
        text("name"),
        text("token_hash"),
        text("created_at"),
        text("expires_at"),
        text("revoked_at"),
        text("updated_at"),
    ],
    personal: &[],
};

pub static AUDIT_EVENT: RecordKind = RecordKind {
    kind: "audit_event",
    table: "audit_events",
    retention: Retention::EveryVersion,
    columns: &[
        text("at"),
        text("actor"),
        text("action"),
        text("subject"),
        text("outcome"),
        text("details"),
    ],
    personal: &["ip_address"],
};

/// Synthetic records written by `vigil bench log`.
pub static BENCH_RECORD: RecordKind = RecordKind {
    kind: "bench_record",
    table: "bench_records",
    retention: Retention::EveryVersion,
    columns: &[text("body")],
    personal: &[],
};

pub static COMMUNITY: RecordKind = RecordKind {
    kind: "community",
    table: "communities",
    retention: Retention::LatestVersion,
    columns: &[
        text("title"),
        text("description"),
        text("status"),
        text("created_at"),
        text("updated_at"),
    ],
    personal: &[],
};

pub static COMMUNITY_MEMBER: RecordKind = RecordKind {
    kind: "community_member",
    table: "community_members",
    retention: Retention::LatestVersion,
    columns: &[
        text("community_id"),
        text("organisation_id"),
        text("status"),
        text("updated_at"),
    ],
    personal: &[],
};

pub static COLLECTION: RecordKind = RecordKind {
    kind: "collection",
    table: "collections",
    retention: Retention::LatestVersion,
    columns: &[
        text("community_id"),
        text("title"),
        text("description"),
        text("alias"),
        text("default_tlp"),
        text("status"),
        text("created_at"),
        text("updated_at"),
    ],
    personal: &[],
};

pub static COLLECTION_GRANT: RecordKind = RecordKind {
    kind: "collection_grant",
    table: "collection_grants",
    retention: Retention::LatestVersion,
    columns: &[
        text("collection_id"),
        text("grantee"),
        integer("can_read"),
        integer("can_write"),
        text("updated_at"),
    ],
    personal: &[],
};

/// One stored version of a STIX object; deleting it through TAXII writes the
/// next record version with `deleted` set (the object stays in the log).
pub static STIX_OBJECT: RecordKind = RecordKind {
    kind: "stix_object",
    table: "stix_objects",
    retention: Retention::LatestVersion,
    columns: &[
        text("collection_id"),
        text("stix_id"),
        text("stix_type"),
        text("stix_version"),
        text("version_key"),
        text("spec_version"),
        text("date_added"),
        integer("tlp"),
        text("originator"),
        text("poster"),
        text("audience"),
        integer("deleted"),
        text("object"),
    ],
    personal: &[],
};

pub static TAXII_STATUS: RecordKind = RecordKind {
    kind: "taxii_status",
    table: "taxii_statuses",
    retention: Retention::EveryVersion,
    columns: &[
        text("community_id"),
        text("collection_id"),
        text("user_id"),
        text("status"),
        text("request_timestamp"),
        integer("total_count"),
        integer("success_count"),
        integer("failure_count"),
        integer("pending_count"),
        text("details"),
    ],
    personal: &[],
};

/// A machine client's TLP profile (id: the user id).
pub static TAXII_CLIENT: RecordKind = RecordKind {
    kind: "taxii_client",
    table: "taxii_clients",
    retention: Retention::LatestVersion,
    columns: &[text("tlp_profile"), text("updated_at")],
    personal: &[],
};

/// An alert's state and draft (its shared versions are STIX objects).
pub static ALERT: RecordKind = RecordKind {
    kind: "alert",
    table: "alerts",
    retention: Retention::LatestVersion,
    columns: &[
        text("collection_id"),
        text("report_id"),
        text("originator"),
        text("author"),
        text("level"),
        text("state"),
        text("report"),
        text("related"),
        text("created_at"),
        text("updated_at"),
        text("published_at"),
    ],
    personal: &[],
};

/// An organisation's webhook registration.
pub static WEBHOOK: RecordKind = RecordKind {
    kind: "webhook",
    table: "webhooks",
    retention: Retention::LatestVersion,
    columns: &[
        text("organisation_id"),
        text("url"),
        text("status"),
        text("created_at"),
        text("updated_at"),
    ],
    personal: &[],
};

pub static ALL: &[&RecordKind] = &[
    &ORGANISATION,
    &USER,
    &API_TOKEN,
    &AUDIT_EVENT,
    &BENCH_RECORD,
    &COMMUNITY,
    &COMMUNITY_MEMBER,
    &COLLECTION,
    &COLLECTION_GRANT,
    &STIX_OBJECT,
    &TAXII_STATUS,
    &TAXII_CLIENT,
    &ALERT,
    &WEBHOOK,
    &RESULTS_ELECTION,
    &RESULTS_EVENT,
    &RESULTS_STATION_STATE,
    &RESULTS_STATION_RESULT,
    &ADS_ELECTION,
    &ADS_LIMIT,
    &AD,
    &AD_VERSION,
    &AD_NOTICE,
];

pub fn by_name(kind: &str) -> Option<&'static RecordKind> {
    ALL.iter().copied().find(|k| k.kind == kind)
}

/// An election's definition and the lots drawn for its seats (id: the election id).
pub static RESULTS_ELECTION: RecordKind = RecordKind {
    kind: "results_election",
    table: "results_elections",
    retention: Retention::LatestVersion,
    columns: &[
        text("organisation_id"),
        text("definition"),
        text("lots"),
        text("created_at"),
        text("updated_at"),
    ],
    personal: &[],
};

/// One typed entry, claim or decision on a polling station's form; never updated.
pub static RESULTS_EVENT: RecordKind = RecordKind {
    kind: "results_event",
    table: "results_events",
    retention: Retention::EveryVersion,
    columns: &[
        text("election_id"),
        text("station_id"),
        text("action"),
        text("actor"),
        text("details"),
        text("salt"),
        text("at"),
    ],
    personal: &[],
};

/// The double-entry state of a station (id: `election/station`).
pub static RESULTS_STATION_STATE: RecordKind = RecordKind {
    kind: "results_station_state",
    table: "results_station_states",
    retention: Retention::LatestVersion,
    columns: &[
        text("election_id"),
        text("station_id"),
        text("state"),
        text("salt"),
        text("updated_at"),
    ],
    personal: &[],
};

/// A station's definitive result (id: `election/station`), published with
/// its salt at the release time so that anyone can recompute its leaf.
pub static RESULTS_STATION_RESULT: RecordKind = RecordKind {
    kind: "results_station_result",
    table: "results_station_results",
    retention: Retention::LatestVersion,
    columns: &[
        text("election_id"),
        text("station_id"),
        text("district_id"),
        text("counts"),
        text("warnings"),
        text("explanation"),
        text("salt"),
        text("accepted_at"),
    ],
    personal: &[],
};

/// An election or referendum of the political-advertising calendar.
pub static ADS_ELECTION: RecordKind = RecordKind {
    kind: "ads_election",
    table: "ads_elections",
    retention: Retention::LatestVersion,
    columns: &[
        text("name"),
        text("kind"),
        text("date"),
        text("country"),
        text("region"),
        integer("voting_age"),
        text("updated_at"),
    ],
    personal: &[],
};

/// A spending limit of a sponsor (or party) in an election (id: the election
/// and the first 32 hex digits of the SHA-256 of the sponsor's name).
pub static ADS_LIMIT: RecordKind = RecordKind {
    kind: "ads_limit",
    table: "ads_limits",
    retention: Retention::LatestVersion,
    columns: &[
        text("election_id"),
        text("sponsor_name"),
        text("currency"),
        integer("amount_minor"),
        text("legal_basis"),
        text("updated_at"),
    ],
    personal: &[],
};

/// A political ad as it stands now (its content as JSON, and the columns
/// searches filter on); earlier versions are leaves and `ad_version` rows.
pub static AD: RecordKind = RecordKind {
    kind: "ad",
    table: "ads_ads",
    retention: Retention::LatestVersion,
    columns: &[
        text("organisation_id"),
        text("status"),
        text("status_reason"),
        text("content"),
        text("sponsor_name"),
        text("publisher_name"),
        text("payer_name"),
        text("election_id"),
        text("import_key"),
        text("countries"),
        text("language"),
        text("period_start"),
        text("period_end"),
        text("spend_currency"),
        integer("spend_lower"),
        integer("spend_upper"),
        text("targeting_categories"),
        text("search_text"),
        text("filed_at"),
        text("updated_at"),
    ],
    personal: &[],
};

/// Every version of every ad (id: `{ad}@{version}`); never updated.
pub static AD_VERSION: RecordKind = RecordKind {
    kind: "ad_version",
    table: "ads_ad_versions",
    retention: Retention::EveryVersion,
    columns: &[
        text("ad_id"),
        integer("ad_version"),
        text("change"),
        text("reason"),
        text("status"),
        text("content"),
        text("actor"),
        text("at"),
    ],
    personal: &[],
};

/// A citizen's notice about an ad (id: its tracking number); the notifier's
/// identity and source are personal.
pub static AD_NOTICE: RecordKind = RecordKind {
    kind: "ad_notice",
    table: "ads_notices",
    retention: Retention::LatestVersion,
    columns: &[
        text("ad_id"),
        text("status"),
        text("explanation"),
        text("evidence_url"),
        text("reasons"),
        text("received_at"),
        text("updated_at"),
    ],
    personal: &["notifier_name", "notifier_email", "source_digest"],
};
