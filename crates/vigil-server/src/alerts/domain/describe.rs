//! STIX objects for people: a one-line description of any object, and the
//! differences between two versions of a report, property by property.
use serde::Serialize;
use serde_json::Value;
use std::collections::HashMap;
use vigil_stix::DisarmCatalogue;

fn str_of<'a>(object: &'a Value, property: &str) -> Option<&'a str> {
    object
        .get(property)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
}

/// A short description: the name, the value, the account or the gist.
pub fn describe_object(object: &Value, disarm: &DisarmCatalogue) -> String {
    let kind = str_of(object, "type").unwrap_or("object");
    let id = str_of(object, "id").unwrap_or_default();
    if kind == "attack-pattern"
        && let Some(technique) = disarm.technique_by_stix_id(id)
    {
        return format!("{} {}", technique.id, technique.name);
    }
    let label = match kind {
        "user-account" => {
            let login = str_of(object, "account_login")
                .or_else(|| str_of(object, "display_name"))
                .unwrap_or("?");
            match str_of(object, "account_type") {
                Some(platform) => format!("{platform} account {login}"),
                None => format!("account {login}"),
            }
        }
        "location" => [
            str_of(object, "name"),
            str_of(object, "country"),
            str_of(object, "region"),
        ]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(", "),
        "relationship" => format!(
            "{} {} {}",
            str_of(object, "source_ref").unwrap_or("?"),
            str_of(object, "relationship_type").unwrap_or("related-to"),
            str_of(object, "target_ref").unwrap_or("?")
        ),
        "sighting" => format!(
            "sighting of {}",
            str_of(object, "sighting_of_ref").unwrap_or("?")
        ),
        "note" => str_of(object, "content").unwrap_or_default().to_string(),
        "opinion" => str_of(object, "opinion").unwrap_or_default().to_string(),
        "observed-data" => format!(
            "{} observations",
            object
                .get("number_observed")
                .and_then(Value::as_u64)
                .unwrap_or(0)
        ),
        _ => str_of(object, "name")
            .or_else(|| str_of(object, "value"))
            .or_else(|| str_of(object, "pattern"))
            .or_else(|| str_of(object, "definition_type"))
            .unwrap_or(id)
            .to_string(),
    };
    let mut label: String = label.chars().take(200).collect();
    if label.is_empty() {
        label = id.to_string();
    }
    label
}

/// A relationship between objects named by `labels` where known:
/// `Noon closure hoax uses T0086 Develop Image-Based Content`.
pub fn describe_relationship(object: &Value, labels: &HashMap<String, String>) -> String {
    let name = |property: &str| {
        let id = str_of(object, property).unwrap_or("?");
        labels.get(id).cloned().unwrap_or_else(|| id.to_string())
    };
    format!(
        "{} {} {}",
        name("source_ref"),
        str_of(object, "relationship_type").unwrap_or("related-to"),
        name("target_ref")
    )
}

/// One property that differs between two versions.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FieldChange {
    pub field: String,
    pub before: String,
    pub after: String,
}

/// Properties that change with every version and say nothing to a reader.
const BOOKKEEPING: &[&str] = &["modified", "id", "type", "spec_version", "created"];

fn shown(value: Option<&Value>) -> String {
    match value {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    }
}

/// What changed from `before` to `after`: each top-level property that
/// differs, references compared as sets (added and removed, named with
/// `labels` where known), extensions property by property.
pub fn report_changes(
    before: &Value,
    after: &Value,
    labels: &HashMap<String, String>,
) -> Vec<FieldChange> {
    let empty = serde_json::Map::new();
    let old = before.as_object().unwrap_or(&empty);
    let new = after.as_object().unwrap_or(&empty);
    let mut fields: Vec<&String> = old.keys().chain(new.keys()).collect();
    fields.sort();
    fields.dedup();
    let name = |id: &str| labels.get(id).cloned().unwrap_or_else(|| id.to_string());
    let mut changes = Vec::new();
    for field in fields {
        if BOOKKEEPING.contains(&field.as_str()) || old.get(field) == new.get(field) {
            continue;
        }
        if field.ends_with("_refs") {
            let list = |v: Option<&Value>| -> Vec<String> {
                v.and_then(Value::as_array)
                    .map(|a| {
                        a.iter()
                            .filter_map(Value::as_str)
                            .map(str::to_string)
                            .collect()
                    })
                    .unwrap_or_default()
            };
            let (was, is) = (list(old.get(field)), list(new.get(field)));
            let removed: Vec<String> = was
                .iter()
                .filter(|r| !is.contains(r))
                .map(|r| name(r))
                .collect();
            let added: Vec<String> = is
                .iter()
                .filter(|r| !was.contains(r))
                .map(|r| name(r))
                .collect();
            if !removed.is_empty() || !added.is_empty() {
                changes.push(FieldChange {
                    field: field.clone(),
                    before: removed.join("; "),
                    after: added.join("; "),
                });
            }
        } else if field == "extensions" {
            let inner = |v: Option<&Value>| -> serde_json::Map<String, Value> {
                let mut flat = serde_json::Map::new();
                for (_, extension) in v.and_then(Value::as_object).into_iter().flatten() {
                    for (k, value) in extension.as_object().into_iter().flatten() {
                        if k != "extension_type" {
                            flat.insert(k.clone(), value.clone());
                        }
                    }
                }
                flat
            };
            let (was, is) = (inner(old.get(field)), inner(new.get(field)));
            let mut keys: Vec<&String> = was.keys().chain(is.keys()).collect();
            keys.sort();
            keys.dedup();
            for key in keys {
                if was.get(key) != is.get(key) {
                    changes.push(FieldChange {
                        field: key.clone(),
                        before: shown(was.get(key)),
                        after: shown(is.get(key)),
                    });
                }
            }
        } else {
            changes.push(FieldChange {
                field: field.clone(),
                before: shown(old.get(field)),
                after: shown(new.get(field)),
            });
        }
    }
    changes
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use serde_json::json;

    #[test]
    fn changes_name_each_property_and_each_reference() {
        let before = json!({"type": "report", "modified": "a", "name": "Old title", "description": "same",
            "object_refs": ["url--1", "location--2"],
            "extensions": {"x": {"extension_type": "property-extension", "alert_level": "alert"}}});
        let after = json!({"type": "report", "modified": "b", "name": "New title", "description": "same",
            "object_refs": ["url--1", "domain-name--3"], "revoked": true,
            "extensions": {"x": {"extension_type": "property-extension", "alert_level": "urgent"}}});
        let labels = HashMap::from([
            ("location--2".to_string(), "Estonia, EE".to_string()),
            ("domain-name--3".to_string(), "bad.example".to_string()),
        ]);
        let changes = report_changes(&before, &after, &labels);
        let change = |field: &str, before: &str, after: &str| FieldChange {
            field: field.into(),
            before: before.into(),
            after: after.into(),
        };
        assert_eq!(
            changes,
            vec![
                change("alert_level", "alert", "urgent"),
                change("name", "Old title", "New title"),
                change("object_refs", "Estonia, EE", "bad.example"),
                change("revoked", "", "true"),
            ]
        );
        assert!(report_changes(&before, &before, &labels).is_empty());
    }

    #[test]
    fn describes_objects_for_people() {
        let catalogue = DisarmCatalogue::default();
        let account = json!({"type": "user-account", "id": "user-account--1", "account_login": "bot_1", "account_type": "twitter"});
        assert_eq!(
            describe_object(&account, &catalogue),
            "twitter account bot_1"
        );
        let url = json!({"type": "url", "id": "url--1", "value": "https://x.example/a"});
        assert_eq!(describe_object(&url, &catalogue), "https://x.example/a");
        let place = json!({"type": "location", "id": "location--1", "country": "EE"});
        assert_eq!(describe_object(&place, &catalogue), "EE");
        let bare = json!({"type": "grouping", "id": "grouping--1"});
        assert_eq!(describe_object(&bare, &catalogue), "grouping--1");
    }
}
