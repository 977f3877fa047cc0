//! Onward release: the sanitised derivative of an alert for a wider audience.
use super::alert::alert_extension as alert_extension_of;
use super::*;

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
    let derived_id = format!("relationship--{}", uuid::Uuid::new_v4());
    // The copies, the DISARM techniques the report names directly (public
    // reference objects) and the provenance relationship.
    let mut refs: Vec<Value> = objects
        .iter()
        .filter_map(|o| o.get("id").cloned())
        .collect();
    refs.extend(
        report
            .get("object_refs")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter(|r| {
                r.as_str()
                    .is_some_and(|r| r.starts_with("attack-pattern--"))
            })
            .cloned(),
    );
    refs.push(derived_id.clone().into());
    let mut new_report = json!({
        "type": "report", "spec_version": "2.1", "id": new_report_id,
        "created": now, "modified": now, "published": now,
        "created_by_ref": identity,
        "name": report.get("name").cloned().unwrap_or_else(|| "Released alert".into()),
        "report_types": report.get("report_types").cloned().unwrap_or_else(|| json!(["campaign"])),
        "object_refs": refs,
        "object_marking_refs": [marking],
    });
    // Elections and platforms travel with the copy.
    new_report["extensions"] =
        json!({ alert_extension: alert_extension_of(report, alert_extension, level) });
    if let Some(description) = report.get("description") {
        new_report["description"] = description.clone();
    }
    let derived = json!({
        "type": "relationship", "spec_version": "2.1", "id": derived_id,
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
            3,
            "the url, the observed-data that kept it and the derived-from relationship"
        );
        let observed = derivative
            .objects
            .iter()
            .find(|o| o["type"] == "observed-data")
            .unwrap();
        assert_eq!(observed["object_refs"].as_array().unwrap().len(), 1);
        let derived = derivative.objects.last().unwrap();
        assert!(
            report["object_refs"]
                .as_array()
                .unwrap()
                .contains(&derived["id"])
        );
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
