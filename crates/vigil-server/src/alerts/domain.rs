//! Pure types and rules of the Rapid Alert System: identifiers, who may see
//! what under TLP, TAXII filters and the stateless paging cursor.
use crate::core::ids::{AlertId, OrganisationId, StixRowId, UserId};
use crate::core::time::Timestamp;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use vigil_stix::{StixTimestamp, Tlp};

/// A trust community, served as the TAXII API root `/taxii2/<id>/`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, utoipa::ToSchema)]
#[serde(transparent)]
pub struct CommunityId(String);

impl CommunityId {
    /// 2 to 64 of a-z, 0-9 and `-`, starting with a letter: safe in URLs.
    pub fn parse(text: &str) -> Option<CommunityId> {
        let ok = (2..=64).contains(&text.len())
            && text.starts_with(|c: char| c.is_ascii_lowercase())
            && text
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        ok.then(|| CommunityId(text.to_string()))
    }

    pub fn from_stored(text: String) -> CommunityId {
        CommunityId(text)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A collection id: a UUID, as TAXII clients expect.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, utoipa::ToSchema)]
#[serde(transparent)]
pub struct CollectionId(String);

impl CollectionId {
    pub fn new() -> CollectionId {
        CollectionId(uuid::Uuid::new_v4().to_string())
    }

    pub fn parse(text: &str) -> Option<CollectionId> {
        uuid::Uuid::try_parse(text)
            .ok()
            .filter(|_| text.len() == 36)
            .map(|uuid| CollectionId(uuid.to_string()))
    }

    pub fn from_stored(text: String) -> CollectionId {
        CollectionId(text)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Default for CollectionId {
    fn default() -> Self {
        CollectionId::new()
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ActiveStatus {
    Active,
    Removed,
}

impl ActiveStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ActiveStatus::Active => "active",
            ActiveStatus::Removed => "removed",
        }
    }

    pub fn parse(text: &str) -> Option<ActiveStatus> {
        match text {
            "active" => Some(ActiveStatus::Active),
            "removed" => Some(ActiveStatus::Removed),
            _ => None,
        }
    }
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Community {
    pub id: CommunityId,
    pub version: u64,
    pub title: String,
    pub description: Option<String>,
    pub status: ActiveStatus,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// An organisation's membership of a community.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Membership {
    pub community_id: CommunityId,
    pub organisation_id: OrganisationId,
    pub version: u64,
    pub status: ActiveStatus,
    pub updated_at: Timestamp,
}

impl Membership {
    pub fn record_id(community: &CommunityId, organisation: &OrganisationId) -> String {
        format!("{}/{}", community.as_str(), organisation.as_str())
    }
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Collection {
    pub id: CollectionId,
    pub version: u64,
    pub community_id: CommunityId,
    pub title: String,
    pub description: Option<String>,
    pub alias: Option<String>,
    /// The marking of objects posted without one.
    #[schema(value_type = String, example = "amber")]
    #[serde(serialize_with = "serialize_tlp")]
    pub default_tlp: Tlp,
    pub status: ActiveStatus,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

fn serialize_tlp<S: serde::Serializer>(tlp: &Tlp, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(tlp.key())
}

/// Rights on a collection for an organisation or a single user.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Grant {
    pub collection_id: CollectionId,
    /// `org-…` or `usr-…`.
    pub grantee: String,
    pub version: u64,
    pub can_read: bool,
    pub can_write: bool,
    pub updated_at: Timestamp,
}

impl Grant {
    pub fn record_id(collection: &CollectionId, grantee: &str) -> String {
        format!("{}/{}", collection.as_str(), grantee)
    }
}

/// One stored version of a STIX object.
#[derive(Clone, Debug)]
pub struct StoredObject {
    pub row: StixRowId,
    pub version: u64,
    pub collection_id: CollectionId,
    pub stix_id: String,
    pub stix_type: String,
    /// `modified` (or `created`) as written; `None` for observables.
    pub stix_version: Option<String>,
    pub version_key: String,
    pub spec_version: String,
    pub date_added: String,
    pub tlp: Tlp,
    pub originator: OrganisationId,
    pub poster: UserId,
    pub audience: String,
    pub deleted: bool,
    pub object: String,
}

impl StoredObject {
    /// The version TAXII reports: `modified`/`created`, or `date_added` for
    /// observables (as medallion does).
    pub fn taxii_version(&self) -> &str {
        self.stix_version.as_deref().unwrap_or(&self.date_added)
    }
}

/// The outcome of one add-objects request (TAXII 2.1 §4.3.1).
#[derive(Clone, Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TaxiiStatus {
    pub id: String,
    pub status: String,
    pub request_timestamp: String,
    pub total_count: u64,
    pub success_count: u64,
    pub successes: Vec<StatusDetail>,
    pub failure_count: u64,
    pub failures: Vec<StatusDetail>,
    pub pending_count: u64,
    pub pendings: Vec<StatusDetail>,
}

#[derive(Clone, Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct StatusDetail {
    pub id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// What one principal may do in one collection.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Access {
    /// A grant to the user or their organisation allows reading.
    pub can_read: bool,
    pub can_write: bool,
    /// The user's organisation is a member of the collection's community.
    pub member: bool,
    /// The user's organisation itself (not only the user) may read it.
    pub organisation_reads: bool,
}

impl Access {
    /// The most restrictive TLP the principal receives regardless of who is
    /// named in the object: CLEAR for every reader of the collection, GREEN
    /// for the community's members, AMBER for the organisations the
    /// collection is shared with. AMBER+STRICT and RED depend on the object.
    pub fn open_tlp(&self) -> Option<Tlp> {
        if !self.can_read {
            None
        } else if self.member && self.organisation_reads {
            Some(Tlp::Amber)
        } else if self.member {
            Some(Tlp::Green)
        } else {
            Some(Tlp::Clear)
        }
    }
}

/// Whom an object is for, beyond its TLP level (Vigil's audience extension).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Audience {
    /// Organisations (org-…) named for AMBER+STRICT.
    pub organisations: Vec<String>,
    /// Users (usr-…) named for RED.
    pub individuals: Vec<String>,
}

impl Audience {
    /// Stored as ` org-a org-b usr-c `, so that membership is a `LIKE '% x %'`.
    pub fn to_column(&self) -> String {
        let mut text = String::from(" ");
        for id in self.organisations.iter().chain(&self.individuals) {
            text.push_str(id);
            text.push(' ');
        }
        text
    }
}

/// Who asks, for the visibility rule (see [`Access::open_tlp`]): an object is
/// visible when its TLP is at most `open`, or it is AMBER+STRICT and the
/// organisation posted it or is named, or it is RED and the user posted it or
/// is named.
#[derive(Clone, Debug)]
pub struct Viewer {
    pub user: String,
    pub organisation: String,
    pub open: Tlp,
}

impl Viewer {
    /// The same rule in Rust (the store applies it in SQL), for one object.
    pub fn sees(&self, tlp: Tlp, originator: &str, poster: &str, audience: &str) -> bool {
        let named = |id: &str| audience.contains(&format!(" {id} "));
        match tlp {
            level if level <= self.open => true,
            Tlp::AmberStrict => originator == self.organisation || named(&self.organisation),
            Tlp::Red => poster == self.user || named(&self.user),
            _ => false,
        }
    }
}

/// `match[version]`.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub enum VersionFilter {
    #[default]
    Last,
    First,
    All,
    /// Specific versions, as sortable instants.
    At(Vec<String>),
    /// A mix: any of these.
    Any(Vec<VersionFilter>),
}

/// The TAXII filters of a request, parsed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ObjectFilter {
    /// `added_after`, sortable (objects added strictly later).
    pub added_after: Option<String>,
    pub ids: Vec<String>,
    pub types: Vec<String>,
    pub versions: VersionFilter,
    /// `match[spec_version]`; empty means the latest of each object (all
    /// stored objects are 2.1).
    pub spec_versions: Vec<String>,
}

#[derive(Debug, PartialEq, Eq)]
pub struct FilterError(pub String);

fn list(value: &str) -> Vec<String> {
    value
        .split(',')
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_string)
        .collect()
}

/// Our own `date_added` timestamps (six fractional digits) as sortable text.
pub fn sortable_added(date_added: &str) -> String {
    StixTimestamp::parse(date_added).map_or_else(|| date_added.to_string(), |t| t.sortable())
}

impl ObjectFilter {
    /// Reads the TAXII query parameters; unknown `match[…]` fields are errors.
    pub fn parse(
        params: &[(String, String)],
        allowed: &[&str],
    ) -> Result<ObjectFilter, FilterError> {
        let mut filter = ObjectFilter::default();
        for (name, value) in params {
            let field = name
                .strip_prefix("match[")
                .and_then(|n| n.strip_suffix(']'));
            if let Some(field) = field
                && !allowed.contains(&field)
            {
                return Err(FilterError(format!(
                    "the filter {name} is not supported here"
                )));
            }
            match (name.as_str(), field) {
                ("added_after", _) => {
                    let time = StixTimestamp::parse(value).ok_or_else(|| {
                        FilterError(format!("added_after {value:?} is not a timestamp"))
                    })?;
                    filter.added_after = Some(time.sortable());
                }
                (_, Some("id")) => filter.ids.extend(list(value)),
                (_, Some("type")) => filter.types.extend(list(value)),
                (_, Some("spec_version")) => filter.spec_versions.extend(list(value)),
                (_, Some("version")) => {
                    let mut parts = Vec::new();
                    let mut at = Vec::new();
                    for item in list(value) {
                        match item.as_str() {
                            "last" => parts.push(VersionFilter::Last),
                            "first" => parts.push(VersionFilter::First),
                            "all" => parts.push(VersionFilter::All),
                            other => at.push(
                                StixTimestamp::parse(other)
                                    .ok_or_else(|| FilterError(format!("match[version] {other:?} is not last, first, all or a timestamp")))?
                                    .sortable(),
                            ),
                        }
                    }
                    if !at.is_empty() {
                        parts.push(VersionFilter::At(at));
                    }
                    filter.versions = match parts.len() {
                        0 => VersionFilter::Last,
                        1 => parts.remove(0),
                        _ => VersionFilter::Any(parts),
                    };
                }
                _ => {}
            }
        }
        Ok(filter)
    }

    /// A digest of the filters, bound into cursors so that a cursor cannot
    /// be replayed under other filters.
    pub fn fingerprint(&self) -> String {
        let text = format!("{self:?}");
        hex::encode(&Sha256::digest(text.as_bytes())[..8])
    }
}

/// `limit`: at most `maximum`, a positive integer.
pub fn page_limit(value: Option<&str>, default: u64, maximum: u64) -> Result<u64, FilterError> {
    match value {
        None => Ok(default.min(maximum)),
        Some(text) => match text.parse::<u64>() {
            Ok(limit) if limit > 0 => Ok(limit.min(maximum)),
            _ => Err(FilterError(format!(
                "limit {text:?} is not a positive integer"
            ))),
        },
    }
}

/// Where a page ends: the last row's `(date_added, row id)` in the order
/// pages are read, and the filters it was read under. Stateless: any
/// server process sharing the store accepts it, across restarts.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cursor {
    #[serde(rename = "a")]
    pub date_added: String,
    #[serde(rename = "r")]
    pub row: String,
    #[serde(rename = "f")]
    pub filters: String,
}

/// HMAC-SHA-256 (RFC 2104).
fn hmac(key: &[u8], message: &[u8]) -> [u8; 32] {
    let mut block = [0u8; 64];
    if key.len() > 64 {
        block[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        block[..key.len()].copy_from_slice(key);
    }
    let pad = |byte: u8| -> Vec<u8> { block.iter().map(|b| b ^ byte).collect() };
    let inner = Sha256::new()
        .chain_update(pad(0x36))
        .chain_update(message)
        .finalize();
    Sha256::new()
        .chain_update(pad(0x5c))
        .chain_update(inner)
        .finalize()
        .into()
}

impl Cursor {
    /// `<payload>.<mac>`, both base64url.
    pub fn seal(&self, key: &[u8]) -> String {
        let payload = serde_json::to_vec(self).unwrap_or_default();
        format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(&payload),
            URL_SAFE_NO_PAD.encode(&hmac(key, &payload)[..16])
        )
    }

    /// The cursor in `text`, if it was sealed with `key` for these filters.
    pub fn open(text: &str, key: &[u8], filters: &str) -> Result<Cursor, FilterError> {
        let invalid = || FilterError("the next cursor is not valid".into());
        let (payload, mac) = text.split_once('.').ok_or_else(invalid)?;
        let payload = URL_SAFE_NO_PAD.decode(payload).map_err(|_| invalid())?;
        let mac = URL_SAFE_NO_PAD.decode(mac).map_err(|_| invalid())?;
        // Compared in full every time: no early exit on the first byte.
        let expected = hmac(key, &payload);
        let differs = mac.len() != 16
            || mac
                .iter()
                .zip(&expected[..16])
                .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                != 0;
        if differs {
            return Err(invalid());
        }
        let cursor: Cursor = serde_json::from_slice(&payload).map_err(|_| invalid())?;
        if cursor.filters != filters {
            return Err(FilterError(
                "the next cursor belongs to a request with other filters".into(),
            ));
        }
        Ok(cursor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }

    const ALL: &[&str] = &["id", "type", "version", "spec_version"];

    #[test]
    fn filters_parse_and_refuse_what_is_not_taxii() {
        let filter = ObjectFilter::parse(
            &params(&[
                ("match[type]", "campaign,indicator"),
                ("match[version]", "first,2016-01-01T00:00:00Z"),
                ("added_after", "2016-01-01T00:00:00.5Z"),
            ]),
            ALL,
        )
        .unwrap();
        assert_eq!(filter.types, vec!["campaign", "indicator"]);
        assert_eq!(
            filter.added_after.as_deref(),
            Some("2016-01-01T00:00:00.500000000Z")
        );
        assert_eq!(
            filter.versions,
            VersionFilter::Any(vec![
                VersionFilter::First,
                VersionFilter::At(vec!["2016-01-01T00:00:00.000000000Z".into()])
            ])
        );
        assert!(ObjectFilter::parse(&params(&[("match[colour]", "red")]), ALL).is_err());
        assert!(ObjectFilter::parse(&params(&[("match[type]", "x")]), &["id"]).is_err());
        assert!(ObjectFilter::parse(&params(&[("added_after", "yesterday")]), ALL).is_err());
        assert!(ObjectFilter::parse(&params(&[("match[version]", "newest")]), ALL).is_err());
        assert_eq!(page_limit(None, 100, 1000), Ok(100));
        assert_eq!(page_limit(Some("5000"), 100, 1000), Ok(1000));
        assert!(page_limit(Some("0"), 100, 1000).is_err());
        assert!(page_limit(Some("-1"), 100, 1000).is_err());
    }

    #[test]
    fn cursors_are_bound_to_their_key_and_filters() {
        let cursor = Cursor {
            date_added: "2026-11-22T10:00:00.000000Z".into(),
            row: "sto-1".into(),
            filters: "abc".into(),
        };
        let sealed = cursor.seal(b"key");
        assert_eq!(Cursor::open(&sealed, b"key", "abc"), Ok(cursor));
        assert!(Cursor::open(&sealed, b"other key", "abc").is_err());
        assert!(Cursor::open(&sealed, b"key", "other filters").is_err());
        let (payload, mac) = sealed.split_once('.').unwrap();
        let forged = format!(
            "{}.{mac}",
            URL_SAFE_NO_PAD.encode(br#"{"a":"0","r":"x","f":"abc"}"#)
        );
        assert!(Cursor::open(&forged, b"key", "abc").is_err());
        assert!(Cursor::open(payload, b"key", "abc").is_err());
        assert!(Cursor::open("", b"key", "abc").is_err());
    }

    #[test]
    fn hmac_matches_rfc_4231_case_2() {
        assert_eq!(
            hex::encode(hmac(b"Jefe", b"what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn viewer_rule_by_level() {
        let access = Access {
            can_read: true,
            can_write: false,
            member: true,
            organisation_reads: false,
        };
        let viewer = Viewer {
            user: "usr-1".into(),
            organisation: "org-1".into(),
            open: access.open_tlp().unwrap(),
        };
        assert!(viewer.sees(Tlp::Green, "org-2", "usr-2", " "));
        assert!(!viewer.sees(Tlp::Amber, "org-2", "usr-2", " "));
        assert!(viewer.sees(Tlp::AmberStrict, "org-1", "usr-2", " "));
        assert!(viewer.sees(Tlp::AmberStrict, "org-2", "usr-2", " org-1 "));
        assert!(!viewer.sees(Tlp::AmberStrict, "org-2", "usr-2", " org-10 "));
        assert!(!viewer.sees(Tlp::Red, "org-1", "usr-2", " org-1 "));
        assert!(viewer.sees(Tlp::Red, "org-2", "usr-2", " usr-1 "));
        assert_eq!(Access::default().open_tlp(), None);
    }
}

// ---------- alerts ----------

/// How urgent the originator judges an alert. An alert is a STIX report
/// carrying this level in Vigil's alert extension; reports without it (and
/// every other object) are everyday information sharing.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum AlertLevel {
    Information,
    Alert,
    Urgent,
}

impl AlertLevel {
    pub fn as_str(self) -> &'static str {
        match self {
            AlertLevel::Information => "information",
            AlertLevel::Alert => "alert",
            AlertLevel::Urgent => "urgent",
        }
    }

    pub fn parse(text: &str) -> Option<AlertLevel> {
        match text {
            "information" => Some(AlertLevel::Information),
            "alert" => Some(AlertLevel::Alert),
            "urgent" => Some(AlertLevel::Urgent),
            _ => None,
        }
    }
}

/// The life of an alert:
///
/// ```text
///   create ──▶ Draft ──publish──▶ Published ──revoke──▶ Revoked
///              │  ▲                 │  ▲
///              └──┘ edit            └──┘ update (a new STIX version)
/// ```
///
/// A draft is seen by its originator only and is not a STIX object yet;
/// publishing shares the report in its collection; each update is a new
/// version of the same report; revoking publishes a last version with
/// `revoked: true`. Every state is a logged record version.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AlertState {
    Draft,
    Published,
    Revoked,
}

impl AlertState {
    pub fn as_str(self) -> &'static str {
        match self {
            AlertState::Draft => "draft",
            AlertState::Published => "published",
            AlertState::Revoked => "revoked",
        }
    }

    pub fn parse(text: &str) -> Option<AlertState> {
        match text {
            "draft" => Some(AlertState::Draft),
            "published" => Some(AlertState::Published),
            "revoked" => Some(AlertState::Revoked),
            _ => None,
        }
    }
}

/// Why a transition is refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum AlertTransitionError {
    #[error("the alert is already published; update it instead")]
    AlreadyPublished,
    #[error("the alert is a draft; publish it first")]
    NotPublished,
    #[error("the alert was revoked and cannot change any more")]
    Revoked,
}

/// An alert in its current state. Transitions consume it and return the
/// next one, or say why not.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Alert {
    pub id: AlertId,
    pub version: u64,
    pub collection_id: CollectionId,
    /// The STIX id of the report (fixed at creation, shared on publication).
    pub report_id: String,
    pub originator: OrganisationId,
    pub author: UserId,
    pub level: AlertLevel,
    pub state: AlertState,
    /// The report as last written (without id, versions or the level extension).
    #[schema(value_type = Object)]
    pub report: serde_json::Value,
    /// Objects shared with the report (observables, locations…), as written.
    #[schema(value_type = Vec<Object>)]
    pub related: Vec<serde_json::Value>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    /// When it was first published.
    pub published_at: Option<Timestamp>,
}

impl Alert {
    /// Changes a draft (stays a draft).
    pub fn edit(
        self,
        level: AlertLevel,
        report: serde_json::Value,
        related: Vec<serde_json::Value>,
        now: Timestamp,
    ) -> Result<Alert, AlertTransitionError> {
        match self.state {
            AlertState::Draft => Ok(Alert {
                version: self.version + 1,
                level,
                report,
                related,
                updated_at: now,
                ..self
            }),
            AlertState::Published => Err(AlertTransitionError::AlreadyPublished),
            AlertState::Revoked => Err(AlertTransitionError::Revoked),
        }
    }

    pub fn publish(self, now: Timestamp) -> Result<Alert, AlertTransitionError> {
        match self.state {
            AlertState::Draft => Ok(Alert {
                version: self.version + 1,
                state: AlertState::Published,
                updated_at: now,
                published_at: Some(now),
                ..self
            }),
            AlertState::Published => Err(AlertTransitionError::AlreadyPublished),
            AlertState::Revoked => Err(AlertTransitionError::Revoked),
        }
    }

    /// A new version of a published alert.
    pub fn update(
        self,
        level: AlertLevel,
        report: serde_json::Value,
        related: Vec<serde_json::Value>,
        now: Timestamp,
    ) -> Result<Alert, AlertTransitionError> {
        match self.state {
            AlertState::Published => Ok(Alert {
                version: self.version + 1,
                level,
                report,
                related,
                updated_at: now,
                ..self
            }),
            AlertState::Draft => Err(AlertTransitionError::NotPublished),
            AlertState::Revoked => Err(AlertTransitionError::Revoked),
        }
    }

    pub fn revoke(self, now: Timestamp) -> Result<Alert, AlertTransitionError> {
        match self.state {
            AlertState::Published => Ok(Alert {
                version: self.version + 1,
                state: AlertState::Revoked,
                updated_at: now,
                ..self
            }),
            AlertState::Draft => Err(AlertTransitionError::NotPublished),
            AlertState::Revoked => Err(AlertTransitionError::Revoked),
        }
    }
}

/// A STIX `opinion` value (STIX 2.1 §4.13 opinion-enum).
pub const OPINIONS: [&str; 5] = [
    "strongly-disagree",
    "disagree",
    "neutral",
    "agree",
    "strongly-agree",
];

#[cfg(test)]
mod alert_tests {
    use super::*;

    fn draft() -> Alert {
        let now = Timestamp::now();
        Alert {
            id: AlertId::generate(),
            version: 1,
            collection_id: CollectionId::new(),
            report_id: "report--0d5b3a36-8f3e-4a3c-9a5e-0c9c4e2c1b7a".into(),
            originator: OrganisationId::generate(),
            author: UserId::generate(),
            level: AlertLevel::Alert,
            state: AlertState::Draft,
            report: serde_json::json!({"name": "x"}),
            related: vec![],
            created_at: now,
            updated_at: now,
            published_at: None,
        }
    }

    #[test]
    fn every_transition_and_every_refusal() {
        let now = Timestamp::now();
        let edited = draft()
            .edit(
                AlertLevel::Urgent,
                serde_json::json!({"name": "y"}),
                vec![],
                now,
            )
            .unwrap();
        assert_eq!(
            (edited.state, edited.version, edited.level),
            (AlertState::Draft, 2, AlertLevel::Urgent)
        );
        assert_eq!(
            draft()
                .update(AlertLevel::Alert, serde_json::json!({}), vec![], now)
                .unwrap_err(),
            AlertTransitionError::NotPublished
        );
        assert_eq!(
            draft().revoke(now).unwrap_err(),
            AlertTransitionError::NotPublished
        );
        let published = edited.publish(now).unwrap();
        assert_eq!(
            (published.state, published.published_at),
            (AlertState::Published, Some(now))
        );
        assert_eq!(
            published.clone().publish(now).unwrap_err(),
            AlertTransitionError::AlreadyPublished
        );
        assert_eq!(
            published
                .clone()
                .edit(AlertLevel::Alert, serde_json::json!({}), vec![], now)
                .unwrap_err(),
            AlertTransitionError::AlreadyPublished
        );
        let updated = published
            .update(
                AlertLevel::Information,
                serde_json::json!({"name": "z"}),
                vec![],
                now,
            )
            .unwrap();
        assert_eq!((updated.state, updated.version), (AlertState::Published, 4));
        let revoked = updated.revoke(now).unwrap();
        assert_eq!(revoked.state, AlertState::Revoked);
        assert_eq!(
            revoked.clone().revoke(now).unwrap_err(),
            AlertTransitionError::Revoked
        );
        assert_eq!(
            revoked.clone().publish(now).unwrap_err(),
            AlertTransitionError::Revoked
        );
        assert_eq!(
            revoked
                .clone()
                .update(AlertLevel::Alert, serde_json::json!({}), vec![], now)
                .unwrap_err(),
            AlertTransitionError::Revoked
        );
        assert_eq!(
            revoked
                .edit(AlertLevel::Alert, serde_json::json!({}), vec![], now)
                .unwrap_err(),
            AlertTransitionError::Revoked
        );
    }
}

// ---------- onward release ----------

/// What an onward release leaves out, and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Removal {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub reason: String,
}

/// A sanitised derivative of an alert, ready for a wider audience.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Derivative {
    /// The new report (first), the released copies and the `derived-from` relationship.
    #[schema(value_type = Vec<Object>)]
    pub objects: Vec<serde_json::Value>,
    pub removed: Vec<Removal>,
}

/// Object types that carry personal data or internal analysis and are never
/// released onward.
const WITHHELD_TYPES: &[(&str, &str)] = &[
    ("user-account", "personal data: an account"),
    ("email-addr", "personal data: an e-mail address"),
    ("email-message", "personal data: an e-mail"),
    ("note", "an analyst's note stays with the originator"),
    ("opinion", "opinions stay in the originating community"),
    (
        "sighting",
        "acknowledgements stay in the originating community",
    ),
];

fn single_refs(object: &serde_json::Value) -> Vec<(String, String)> {
    object
        .as_object()
        .map(|map| {
            map.iter()
                .filter(|(name, _)| name.ends_with("_ref"))
                .filter_map(|(name, value)| value.as_str().map(|v| (name.clone(), v.to_string())))
                .collect()
        })
        .unwrap_or_default()
}

/// The facts of one release besides the alert's content.
#[derive(Clone, Copy, Debug)]
pub struct Release<'a> {
    pub original_report_id: &'a str,
    /// The originator's STIX identity (the releasing organisation).
    pub identity: &'a str,
    /// The marking-definition id chosen for the derivative.
    pub marking: &'a str,
    pub level: AlertLevel,
    pub alert_extension: &'a str,
    pub now: &'a str,
}

/// Builds the derivative of an alert for release: personal-data
/// observables, notes, reactions and anything marked RED or AMBER+STRICT are
/// removed (and objects that only pointed at them); the rest is copied under
/// new ids with references rewritten, marked with `marking`; a new report
/// references the copies and is `derived-from` the original. Granular
/// markings are dropped.
pub fn sanitise(
    report: &serde_json::Value,
    related: &[serde_json::Value],
    release: &Release<'_>,
) -> Derivative {
    use serde_json::{Value, json};
    let Release {
        original_report_id,
        identity,
        marking,
        level,
        alert_extension,
        now,
    } = *release;
    let mut removed: Vec<Removal> = Vec::new();
    let mut kept: Vec<Value> = Vec::new();
    for object in related {
        let id = object
            .get("id")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        let kind = object
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        let restricted = object
            .get("object_marking_refs")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|m| m.as_str().and_then(Tlp::from_marking_id))
            .max()
            .filter(|tlp| *tlp >= Tlp::AmberStrict);
        if let Some((_, reason)) = WITHHELD_TYPES.iter().find(|(t, _)| *t == kind) {
            removed.push(Removal {
                id,
                kind,
                reason: (*reason).into(),
            });
        } else if kind == "identity"
            && object.get("identity_class").and_then(Value::as_str) == Some("individual")
        {
            removed.push(Removal {
                id,
                kind,
                reason: "personal data: an individual".into(),
            });
        } else if kind == "identity" {
            // Organisations are referred to by their own identity, never copied
            // under a new id: references to them stay as they are.
            continue;
        } else if kind == "marking-definition" {
            removed.push(Removal {
                id,
                kind,
                reason: "the derivative carries the marking chosen for the release".into(),
            });
        } else if let Some(tlp) = restricted {
            removed.push(Removal {
                id,
                kind,
                reason: format!("marked TLP:{}: not for a wider audience", tlp.name()),
            });
        } else {
            kept.push(object.clone());
        }
    }
    // Drop what depends on removed objects, until nothing changes.
    loop {
        let gone: std::collections::HashSet<String> =
            removed.iter().map(|r| r.id.clone()).collect();
        let mut changed = false;
        let mut next = Vec::new();
        for mut object in kept {
            let id = object
                .get("id")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string();
            let kind = object
                .get("type")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string();
            if let Some((name, target)) = single_refs(&object)
                .into_iter()
                .find(|(name, target)| name != "created_by_ref" && gone.contains(target))
            {
                removed.push(Removal {
                    id,
                    kind,
                    reason: format!("its {name} pointed at removed {target}"),
                });
                changed = true;
                continue;
            }
            if let Some(map) = object.as_object_mut() {
                for (_, value) in map
                    .iter_mut()
                    .filter(|(name, _)| name.ends_with("_refs") && *name != "object_marking_refs")
                {
                    if let Some(list) = value.as_array_mut() {
                        // A list emptied here takes its object with it (below).
                        list.retain(|r| r.as_str().is_none_or(|r| !gone.contains(r)));
                    }
                }
            }
            let emptied = object.as_object().is_some_and(|map| {
                map.iter().any(|(name, value)| {
                    name.ends_with("_refs")
                        && name != "object_marking_refs"
                        && value.as_array().is_some_and(Vec::is_empty)
                })
            });
            if emptied {
                removed.push(Removal {
                    id,
                    kind,
                    reason: "everything it referred to was removed".into(),
                });
                changed = true;
                continue;
            }
            next.push(object);
        }
        kept = next;
        if !changed {
            break;
        }
    }
    // New ids for the copies; references among them rewritten.
    let renamed: std::collections::HashMap<String, String> = kept
        .iter()
        .filter_map(|o| {
            let id = o.get("id")?.as_str()?;
            let kind = o.get("type")?.as_str()?;
            Some((id.to_string(), format!("{kind}--{}", uuid::Uuid::new_v4())))
        })
        .collect();
    let rename = |value: &mut Value| {
        if let Some(new) = value.as_str().and_then(|v| renamed.get(v)) {
            *value = new.clone().into();
        }
    };
    let mut objects: Vec<Value> = Vec::new();
    for mut object in kept {
        if let Some(map) = object.as_object_mut() {
            map.remove("granular_markings");
            for (name, value) in map.iter_mut() {
                if name == "id" || (name.ends_with("_ref") && name != "created_by_ref") {
                    rename(value);
                } else if name.ends_with("_refs") && name != "object_marking_refs" {
                    value.as_array_mut().into_iter().flatten().for_each(&rename);
                }
            }
            map.insert("object_marking_refs".into(), json!([marking]));
            if map.contains_key("created") {
                map.insert("created".into(), now.into());
                map.insert("modified".into(), now.into());
                map.insert("created_by_ref".into(), identity.into());
            }
        }
        objects.push(object);
    }
    let new_report_id = format!("report--{}", uuid::Uuid::new_v4());
    let mut refs: Vec<Value> = objects
        .iter()
        .filter_map(|o| o.get("id").cloned())
        .collect();
    if refs.is_empty() {
        refs.push(identity.into());
    }
    let mut new_report = json!({
        "type": "report", "spec_version": "2.1", "id": new_report_id,
        "created": now, "modified": now, "published": now,
        "created_by_ref": identity,
        "name": report.get("name").cloned().unwrap_or_else(|| "Released alert".into()),
        "report_types": report.get("report_types").cloned().unwrap_or_else(|| json!(["campaign"])),
        "object_refs": refs,
        "object_marking_refs": [marking],
        "extensions": {alert_extension: {"extension_type": "property-extension", "alert_level": level.as_str()}},
    });
    if let Some(description) = report.get("description") {
        new_report["description"] = description.clone();
    }
    let derived = json!({
        "type": "relationship", "spec_version": "2.1", "id": format!("relationship--{}", uuid::Uuid::new_v4()),
        "created": now, "modified": now, "created_by_ref": identity,
        "relationship_type": "derived-from", "source_ref": new_report_id, "target_ref": original_report_id,
        "object_marking_refs": [marking],
    });
    let mut all = vec![new_report];
    all.extend(objects);
    all.push(derived);
    Derivative {
        objects: all,
        removed,
    }
}

#[cfg(test)]
mod release_tests {
    use super::*;
    use serde_json::json;
    use vigil_stix::TlpProfile;

    #[test]
    fn personal_data_and_restricted_objects_are_removed_and_the_rest_renamed() {
        let amber = Tlp::Amber.marking_id(TlpProfile::Oasis);
        let red = Tlp::Red.marking_id(TlpProfile::Oasis);
        let green = Tlp::Green.marking_id(TlpProfile::Oasis);
        let account = json!({"type": "user-account", "id": "user-account--7f3b5a61-7e2b-4f1d-9a4c-1b2c3d4e5f60", "account_login": "x"});
        let url = json!({"type": "url", "id": "url--2b4c6d8e-1a3b-4c5d-8e9f-0a1b2c3d4e5f", "value": "https://x.example/"});
        let only_account = json!({"type": "observed-data", "id": "observed-data--1", "created": "t", "modified": "t", "object_refs": [account["id"]], "object_marking_refs": [amber]});
        let both = json!({"type": "observed-data", "id": "observed-data--2", "created": "t", "modified": "t", "object_refs": [account["id"], url["id"]], "object_marking_refs": [amber]});
        let note = json!({"type": "note", "id": "note--1", "created": "t", "modified": "t", "content": "c", "object_refs": [url["id"]]});
        let secret = json!({"type": "campaign", "id": "campaign--1", "created": "t", "modified": "t", "name": "secret", "object_marking_refs": [red]});
        let uses = json!({"type": "relationship", "id": "relationship--1", "created": "t", "modified": "t", "relationship_type": "uses", "source_ref": secret["id"], "target_ref": url["id"]});
        let derivative = sanitise(
            &json!({"name": "Cloned sites", "description": "d"}),
            &[
                account.clone(),
                url.clone(),
                only_account,
                both,
                note,
                secret,
                uses,
            ],
            &Release {
                original_report_id: "report--0d5b3a36-8f3e-4a3c-9a5e-0c9c4e2c1b7a",
                identity: "identity--a",
                marking: green,
                level: AlertLevel::Alert,
                alert_extension: "extension-definition--x",
                now: "2029-04-05T00:00:00Z",
            },
        );
        let removed: Vec<(&str, &str)> = derivative
            .removed
            .iter()
            .map(|r| (r.id.as_str(), r.kind.as_str()))
            .collect();
        assert_eq!(removed.len(), 5, "{removed:?}");
        for gone in [
            "user-account--7f3b5a61-7e2b-4f1d-9a4c-1b2c3d4e5f60",
            "observed-data--1",
            "note--1",
            "campaign--1",
            "relationship--1",
        ] {
            assert!(
                removed.iter().any(|(id, _)| *id == gone),
                "{gone} not removed: {removed:?}"
            );
        }
        let text = serde_json::to_string(&derivative.objects).unwrap();
        assert!(
            !text.contains("account_login")
                && !text.contains(&account["id"].as_str().unwrap()[..20])
        );
        assert!(
            !text.contains(url["id"].as_str().unwrap()),
            "copies get new ids"
        );
        let report = &derivative.objects[0];
        assert_eq!(report["object_marking_refs"], json!([green]));
        assert_eq!(
            report["object_refs"].as_array().unwrap().len(),
            2,
            "the url and the observed-data that kept it"
        );
        let observed = derivative
            .objects
            .iter()
            .find(|o| o["type"] == "observed-data")
            .unwrap();
        assert_eq!(observed["object_refs"].as_array().unwrap().len(), 1);
        let derived = derivative.objects.last().unwrap();
        assert_eq!(
            (
                derived["relationship_type"].as_str(),
                derived["target_ref"].as_str()
            ),
            (
                Some("derived-from"),
                Some("report--0d5b3a36-8f3e-4a3c-9a5e-0c9c4e2c1b7a")
            )
        );
        assert!(
            derivative
                .objects
                .iter()
                .all(|o| o["object_marking_refs"] == json!([green]))
        );
    }
}
