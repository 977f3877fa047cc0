//! Every kind of record that goes through the log, with its table. A pillar
//! that stores records adds its kinds to [`ALL`]; the verifier then checks
//! them with no further code.
use super::record::{RecordKind, Retention, text};

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

pub static ALL: &[&RecordKind] = &[
    &ORGANISATION,
    &USER,
    &API_TOKEN,
    &AUDIT_EVENT,
    &BENCH_RECORD,
];

pub fn by_name(kind: &str) -> Option<&'static RecordKind> {
    ALL.iter().copied().find(|k| k.kind == kind)
}
