//! A STIX 2.1 object as received: its JSON is kept exactly (unknown and
//! extension properties included, key order aside) and checked against the
//! MUST rules of STIX 2.1 that can be checked on the object alone.
use crate::timestamp::StixTimestamp;
use serde_json::{Map, Value};
use thiserror::Error;

/// STIX Domain Objects (STIX 2.1 §4).
const DOMAIN_TYPES: &[&str] = &[
    "attack-pattern",
    "campaign",
    "course-of-action",
    "grouping",
    "identity",
    "incident",
    "indicator",
    "infrastructure",
    "intrusion-set",
    "location",
    "malware",
    "malware-analysis",
    "note",
    "observed-data",
    "opinion",
    "report",
    "threat-actor",
    "tool",
    "vulnerability",
];
/// STIX Cyber-observable Objects (§6).
const OBSERVABLE_TYPES: &[&str] = &[
    "artifact",
    "autonomous-system",
    "directory",
    "domain-name",
    "email-addr",
    "email-message",
    "file",
    "ipv4-addr",
    "ipv6-addr",
    "mac-addr",
    "mutex",
    "network-traffic",
    "process",
    "software",
    "url",
    "user-account",
    "windows-registry-key",
    "x509-certificate",
];
const RELATIONSHIP_TYPES: &[&str] = &["relationship", "sighting"];
const META_TYPES: &[&str] = &[
    "marking-definition",
    "language-content",
    "extension-definition",
];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Category {
    Domain,
    Relationship,
    Meta,
    Observable,
}

/// Why an object was refused, naming the property concerned.
#[derive(Clone, Debug, Error, PartialEq, Eq)]
pub enum StixError {
    #[error("a STIX object must be a JSON object")]
    NotAnObject,
    #[error("property {0} is required")]
    Missing(&'static str),
    #[error("property {property}: {reason}")]
    Invalid { property: String, reason: String },
}

fn invalid(property: impl Into<String>, reason: impl Into<String>) -> StixError {
    StixError::Invalid {
        property: property.into(),
        reason: reason.into(),
    }
}

#[derive(Clone, Debug)]
pub struct StixObject {
    json: Map<String, Value>,
    category: Category,
    /// `modified`, or `created` for objects that are never modified; `None`
    /// for observables, whose version is the time they were added.
    version: Option<StixTimestamp>,
}

/// Whether `text` is `<type>--<RFC 4122 UUID>`, returning the UUID's version.
fn identifier_version(text: &str) -> Option<(&str, usize)> {
    let (kind, uuid) = text.split_once("--")?;
    if !valid_type_name(kind) {
        return None;
    }
    let parsed = uuid::Uuid::try_parse(uuid).ok()?;
    // The hyphenated lowercase or uppercase form only; RFC 4122 variant.
    if uuid.len() != 36 || parsed.get_variant() != uuid::Variant::RFC4122 {
        return None;
    }
    Some((kind, parsed.get_version_num()))
}

fn valid_type_name(name: &str) -> bool {
    (3..=250).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !name.starts_with('-')
        && !name.ends_with('-')
}

fn valid_property_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 250
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

impl StixObject {
    /// Checks `value` and keeps it.
    pub fn parse(value: Value) -> Result<StixObject, StixError> {
        let Value::Object(json) = value else {
            return Err(StixError::NotAnObject);
        };
        let text = |name: &'static str| -> Result<Option<&str>, StixError> {
            match json.get(name) {
                None => Ok(None),
                Some(Value::String(s)) => Ok(Some(s.as_str())),
                Some(_) => Err(invalid(name, "must be a string")),
            }
        };
        let kind = text("type")?.ok_or(StixError::Missing("type"))?;
        if !valid_type_name(kind) {
            return Err(invalid(
                "type",
                format!("{kind:?} is not a valid type name (3 to 250 of a-z, 0-9 and -)"),
            ));
        }
        if kind == "bundle" {
            return Err(invalid(
                "type",
                "a bundle cannot be stored as an object; send its objects",
            ));
        }
        let id = text("id")?.ok_or(StixError::Missing("id"))?;
        let Some((id_kind, uuid_version)) = identifier_version(id) else {
            return Err(invalid("id", format!("{id:?} is not <type>--<UUID>")));
        };
        if id_kind != kind {
            return Err(invalid(
                "id",
                format!("{id:?} does not start with the object's type {kind:?}"),
            ));
        }
        let category = if DOMAIN_TYPES.contains(&kind) {
            Category::Domain
        } else if RELATIONSHIP_TYPES.contains(&kind) {
            Category::Relationship
        } else if META_TYPES.contains(&kind) {
            Category::Meta
        } else if OBSERVABLE_TYPES.contains(&kind) || !json.contains_key("created") {
            // A custom type without `created` behaves as an observable.
            Category::Observable
        } else {
            Category::Domain
        };
        if matches!(
            category,
            Category::Domain | Category::Relationship | Category::Meta
        ) && uuid_version != 4
        {
            return Err(invalid(
                "id",
                "the UUID of a domain, relationship or meta object must be version 4",
            ));
        }
        match text("spec_version")? {
            Some("2.1") => {}
            Some(other) => {
                return Err(invalid(
                    "spec_version",
                    format!("{other:?}: only STIX 2.1 is accepted"),
                ));
            }
            None if category != Category::Observable => {
                return Err(invalid(
                    "spec_version",
                    "is required (\"2.1\"); objects without it are STIX 2.0",
                ));
            }
            None => {}
        }
        for name in json.keys() {
            if !valid_property_name(name) {
                return Err(invalid(
                    name.clone(),
                    "property names use only a-z, A-Z, 0-9 and _",
                ));
            }
        }
        let timestamp = |name: &'static str| -> Result<Option<StixTimestamp>, StixError> {
            match text(name)? {
                None => Ok(None),
                Some(value) => StixTimestamp::parse(value).map(Some).ok_or_else(|| {
                    invalid(
                        name,
                        format!("{value:?} is not a STIX timestamp (RFC 3339, UTC, ending in Z)"),
                    )
                }),
            }
        };
        let created = timestamp("created")?;
        let modified = timestamp("modified")?;
        if matches!(
            category,
            Category::Domain | Category::Relationship | Category::Meta
        ) && created.is_none()
        {
            return Err(StixError::Missing("created"));
        }
        if matches!(category, Category::Domain | Category::Relationship) && modified.is_none() {
            return Err(StixError::Missing("modified"));
        }
        if let (Some(created), Some(modified)) = (&created, &modified)
            && modified < created
        {
            return Err(invalid(
                "modified",
                format!("{modified} is earlier than created {created}"),
            ));
        }
        for name in [
            "valid_from",
            "valid_until",
            "first_seen",
            "last_seen",
            "first_observed",
            "last_observed",
            "published",
        ] {
            timestamp(name)?;
        }
        for (first, last) in [
            ("first_seen", "last_seen"),
            ("first_observed", "last_observed"),
            ("valid_from", "valid_until"),
        ] {
            if let (Some(a), Some(b)) = (timestamp(first)?, timestamp(last)?)
                && b < a
            {
                return Err(invalid(last, format!("{b} is earlier than {first} {a}")));
            }
        }
        check_references(&json)?;
        if let Some(refs) = json.get("object_marking_refs").and_then(Value::as_array) {
            for marking in refs {
                if !marking
                    .as_str()
                    .is_some_and(|m| m.starts_with("marking-definition--"))
                {
                    return Err(invalid(
                        "object_marking_refs",
                        format!("{marking} is not a marking-definition id"),
                    ));
                }
            }
            if json
                .get("id")
                .and_then(Value::as_str)
                .is_some_and(|own| refs.iter().any(|r| r.as_str() == Some(own)))
            {
                return Err(invalid(
                    "object_marking_refs",
                    "an object cannot mark itself",
                ));
            }
        }
        if let Some(creator) = text("created_by_ref")?
            && !creator.starts_with("identity--")
        {
            return Err(invalid(
                "created_by_ref",
                format!("{creator:?} is not an identity id"),
            ));
        }
        if json.get("revoked").is_some_and(|r| !r.is_boolean()) {
            return Err(invalid("revoked", "must be true or false"));
        }
        match kind {
            "relationship" => {
                for name in ["relationship_type", "source_ref", "target_ref"] {
                    if !json.contains_key(name) {
                        return Err(StixError::Missing(match name {
                            "relationship_type" => "relationship_type",
                            "source_ref" => "source_ref",
                            _ => "target_ref",
                        }));
                    }
                }
            }
            "sighting" if !json.contains_key("sighting_of_ref") => {
                return Err(StixError::Missing("sighting_of_ref"));
            }
            _ => {}
        }
        if let Some(references) = json.get("external_references") {
            let all_named = references.as_array().is_some_and(|list| {
                list.iter()
                    .all(|r| r.get("source_name").is_some_and(Value::is_string))
            });
            if !all_named {
                return Err(invalid(
                    "external_references",
                    "must be a list of objects, each with a source_name",
                ));
            }
        }
        let version = modified.or(if category == Category::Observable {
            None
        } else {
            created
        });
        Ok(StixObject {
            json,
            category,
            version,
        })
    }

    pub fn kind(&self) -> &str {
        self.str("type").unwrap_or_default()
    }

    pub fn id(&self) -> &str {
        self.str("id").unwrap_or_default()
    }

    pub fn category(&self) -> Category {
        self.category
    }

    pub fn version(&self) -> Option<&StixTimestamp> {
        self.version.as_ref()
    }

    pub fn str(&self, property: &str) -> Option<&str> {
        self.json.get(property).and_then(Value::as_str)
    }

    pub fn get(&self, property: &str) -> Option<&Value> {
        self.json.get(property)
    }

    pub fn created_by_ref(&self) -> Option<&str> {
        self.str("created_by_ref")
    }

    pub fn revoked(&self) -> bool {
        self.json.get("revoked").and_then(Value::as_bool) == Some(true)
    }

    pub fn marking_refs(&self) -> Vec<&str> {
        self.json
            .get("object_marking_refs")
            .and_then(Value::as_array)
            .map(|refs| refs.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default()
    }

    pub fn json(&self) -> &Map<String, Value> {
        &self.json
    }

    pub fn into_json(self) -> Value {
        Value::Object(self.json)
    }
}

/// Every `…_ref` property holds an identifier and every `…_refs` a
/// non-empty list of them (STIX 2.1 §3.1), at the top level and in the
/// granular markings.
fn check_references(json: &Map<String, Value>) -> Result<(), StixError> {
    let is_identifier = |value: &Value| {
        value
            .as_str()
            .is_some_and(|s| identifier_version(s).is_some())
    };
    for (name, value) in json {
        if name.ends_with("_ref") && !is_identifier(value) {
            return Err(invalid(
                name.clone(),
                format!("{value} is not an identifier"),
            ));
        }
        if name.ends_with("_refs") {
            let ok = value
                .as_array()
                .is_some_and(|list| !list.is_empty() && list.iter().all(is_identifier));
            if !ok {
                return Err(invalid(
                    name.clone(),
                    "must be a non-empty list of identifiers",
                ));
            }
        }
    }
    if let Some(granular) = json.get("granular_markings") {
        let ok = granular.as_array().is_some_and(|list| {
            list.iter().all(|marking| {
                marking
                    .get("selectors")
                    .and_then(Value::as_array)
                    .is_some_and(|s| !s.is_empty())
                    && (marking.get("marking_ref").is_some_and(is_identifier)
                        || marking.get("lang").is_some_and(Value::is_string))
            })
        });
        if !ok {
            return Err(invalid(
                "granular_markings",
                "each needs selectors and a marking_ref or lang",
            ));
        }
    }
    Ok(())
}

/// The STIX 2.1 namespace for deterministic observable ids (§2.9).
const SCO_NAMESPACE: uuid::Uuid = uuid::uuid!("00abedb4-aa42-466c-9c01-fed23315a9b7");

/// The deterministic id of an observable: UUIDv5 over its ID-contributing
/// properties, serialised as JSON (keys in order), as STIX 2.1 §2.9 asks.
pub fn observable_id(kind: &str, contributing: &Value) -> String {
    let name = serde_json::to_string(contributing).unwrap_or_default();
    format!(
        "{kind}--{}",
        uuid::Uuid::new_v5(&SCO_NAMESPACE, name.as_bytes())
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn campaign() -> Value {
        json!({
            "type": "campaign",
            "spec_version": "2.1",
            "id": "campaign--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
            "created": "2026-09-01T10:00:00.000Z",
            "modified": "2026-09-02T10:00:00.000Z",
            "name": "Doppelganger election wave",
            "x_custom_note": {"kept": [1, 2, 3]},
            "extensions": {"extension-definition--d83fce45-ef58-4c6c-a3f4-1fbc32e98c6e": {"extension_type": "property-extension", "rank": 5}}
        })
    }

    #[test]
    fn round_trips_unknown_and_extension_properties() {
        let object = StixObject::parse(campaign()).unwrap();
        assert_eq!(object.into_json(), campaign());
    }

    #[test]
    fn each_must_rule_names_its_property() {
        let cases: Vec<(&str, Value, &str)> = vec![
            ("type", json!(null), "type"),
            ("type", json!("Campaign"), "type"),
            ("id", json!("campaign--not-a-uuid"), "id"),
            (
                "id",
                json!("indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"),
                "id",
            ),
            (
                "id",
                json!("campaign--8e2e2d2b-17d4-1cbf-938f-98ee46b3cd3f"),
                "id",
            ),
            ("spec_version", json!("2.0"), "spec_version"),
            ("created", json!("yesterday"), "created"),
            ("modified", json!("2026-08-01T00:00:00Z"), "modified"),
            (
                "created_by_ref",
                json!("campaign--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"),
                "created_by_ref",
            ),
            (
                "object_marking_refs",
                json!(["identity--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"]),
                "object_marking_refs",
            ),
            ("sample_refs", json!([]), "sample_refs"),
            ("bad-name", json!(1), "bad-name"),
            ("revoked", json!("yes"), "revoked"),
        ];
        for (property, value, named) in cases {
            let mut object = campaign();
            object[property] = value;
            let error = StixObject::parse(object).unwrap_err();
            assert!(error.to_string().contains(named), "{property}: {error}");
        }
        let mut missing = campaign();
        missing.as_object_mut().unwrap().remove("modified");
        assert_eq!(
            StixObject::parse(missing).unwrap_err(),
            StixError::Missing("modified")
        );
    }

    #[test]
    fn versions_by_modified_created_or_none() {
        assert_eq!(
            StixObject::parse(campaign())
                .unwrap()
                .version()
                .unwrap()
                .as_str(),
            "2026-09-02T10:00:00.000Z"
        );
        let marking = crate::Tlp::Amber.marking_definition(crate::TlpProfile::Oasis);
        let marking = StixObject::parse(marking).unwrap();
        assert_eq!(
            marking.version().unwrap().as_str(),
            "2022-10-01T00:00:00.000Z"
        );
        let url = StixObject::parse(json!({"type": "url", "id": "url--4f3f3e3f-9a5c-5b8c-8d2a-5d2f9d7a6b1e", "value": "https://example.org/"})).unwrap();
        assert_eq!(url.category(), Category::Observable);
        assert!(url.version().is_none());
    }
}
