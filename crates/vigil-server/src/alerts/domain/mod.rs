//! Pure types and rules of the Rapid Alert System: identifiers, who may see
//! what under TLP, TAXII filters and the stateless paging cursor; alerts and
//! their lifecycle (`alert`); onward release (`release`).
use crate::core::ids::{AlertId, OrganisationId, StixRowId, UserId};
use crate::core::time::Timestamp;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use vigil_stix::{StixTimestamp, Tlp};

mod alert;
mod describe;
mod release;
pub use alert::*;
pub use describe::*;
pub use release::*;

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
pub fn hmac(key: &[u8], message: &[u8]) -> [u8; 32] {
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
