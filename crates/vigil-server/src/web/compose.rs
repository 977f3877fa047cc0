//! The compose form and the STIX it stands for. An analyst types plain
//! fields; an alert is a STIX report with related objects. `to_input` turns
//! the form into the alert's content and `from_alert` reads it back, keeping
//! every object the form does not manage (indicators, threat actors, notes…)
//! and the ids of those it does, so versions stay comparable.
use crate::alerts::domain::{Alert, AlertLevel};
use crate::alerts::service::{ALERT_EXTENSION, AlertInput, extension_list};
use crate::core::error::FieldError;
use serde::Deserialize;
use serde_json::{Map, Value, json};
use vigil_stix::{DisarmCatalogue, Tlp, TlpProfile};

/// The STIX namespace for deterministic observable ids (STIX 2.1 §2.9).
/// At most this many entries in one list field.
const MAX_ITEMS: usize = 200;

/// The form as typed: plain text everywhere, so that an invalid form is
/// shown again exactly as it was sent.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct AlertForm {
    /// `community/collection`.
    pub collection: String,
    pub title: String,
    pub summary: String,
    pub campaign: String,
    /// ISO 3166-1 alpha-2 codes, separated by commas or spaces.
    pub countries: String,
    /// One election per line.
    pub elections: String,
    /// Platforms and channels, one per line.
    pub platforms: String,
    pub urls: String,
    /// `platform:handle` or `handle`, one per line.
    pub accounts: String,
    pub domains: String,
    /// DISARM ids, separated by commas or spaces.
    pub techniques: String,
    pub tlp: String,
    pub level: String,
    /// `draft` or `publish`.
    pub action: String,
}

fn lines(text: &str) -> Vec<String> {
    let mut items: Vec<String> = Vec::new();
    for item in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        if !items.iter().any(|known| known == item) {
            items.push(item.to_string());
        }
    }
    items
}

fn words(text: &str) -> Vec<String> {
    let mut items: Vec<String> = Vec::new();
    for item in text
        .split(|c: char| c == ',' || c.is_whitespace())
        .filter(|w| !w.is_empty())
    {
        let item = item.to_ascii_uppercase();
        if !items.contains(&item) {
            items.push(item);
        }
    }
    items
}

/// `platform:handle`, `@handle` or `handle` → (platform, login).
fn account(text: &str) -> (Option<String>, String) {
    let (platform, login) = match text.split_once(':') {
        Some((platform, login)) => (Some(platform.trim().to_ascii_lowercase()), login),
        None => (None, text),
    };
    (
        platform.filter(|p| !p.is_empty()),
        login.trim().trim_start_matches('@').to_string(),
    )
}

fn is_url(text: &str) -> bool {
    let rest = text
        .strip_prefix("https://")
        .or_else(|| text.strip_prefix("http://"));
    rest.is_some_and(|rest| {
        let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
        !host.is_empty() && !text.chars().any(char::is_whitespace)
    })
}

fn is_domain(text: &str) -> bool {
    text.len() <= 253
        && text.contains('.')
        && text.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
                && !label.starts_with('-')
                && !label.ends_with('-')
        })
}

fn str_of<'a>(object: &'a Value, property: &str) -> &'a str {
    object
        .get(property)
        .and_then(Value::as_str)
        .unwrap_or_default()
}

/// Objects the form manages: observables it lists, locations, the first
/// campaign and that campaign's `uses`/`targets` relationships.
fn is_managed(object: &Value, campaign: Option<&str>) -> bool {
    match str_of(object, "type") {
        "url" | "domain-name" | "user-account" | "location" => true,
        "campaign" => Some(str_of(object, "id")) == campaign,
        "relationship" => {
            Some(str_of(object, "source_ref")) == campaign
                && matches!(str_of(object, "relationship_type"), "uses" | "targets")
                && (str_of(object, "target_ref").starts_with("attack-pattern--")
                    || str_of(object, "target_ref").starts_with("location--"))
        }
        _ => false,
    }
}

fn of_kind<'a>(related: &'a [Value], kind: &'a str) -> impl Iterator<Item = &'a Value> {
    related.iter().filter(move |o| str_of(o, "type") == kind)
}

fn first_campaign(related: &[Value]) -> Option<&Value> {
    related.iter().find(|o| str_of(o, "type") == "campaign")
}

fn marking_tlp(report: &Value) -> Option<Tlp> {
    report
        .get("object_marking_refs")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|m| m.as_str().and_then(Tlp::from_marking_id))
        .max()
}

impl AlertForm {
    /// An empty form for a collection, with its default marking.
    pub fn blank(collection: &str, tlp: Tlp) -> AlertForm {
        AlertForm {
            collection: collection.to_string(),
            tlp: tlp.key().into(),
            level: AlertLevel::Alert.as_str().into(),
            ..AlertForm::default()
        }
    }

    /// The form showing an alert's current content.
    pub fn from_alert(alert: &Alert, collection: &str, disarm: &DisarmCatalogue) -> AlertForm {
        let report = &alert.report;
        let related = &alert.related;
        let campaign = first_campaign(related);
        let of_type = |kind: &'static str| of_kind(related, kind);
        let list = |name: &str| extension_list(report, name).join("\n");
        let mut techniques: Vec<String> = Vec::new();
        let referenced = report
            .get("object_refs")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .map(str::to_string);
        let used = of_type("relationship").map(|r| str_of(r, "target_ref").to_string());
        for stix_id in referenced.chain(used) {
            if let Some(t) = disarm.technique_by_stix_id(&stix_id)
                && !techniques.contains(&t.id)
            {
                techniques.push(t.id.clone());
            }
        }
        let accounts = of_type("user-account")
            .map(|a| match str_of(a, "account_type") {
                "" => str_of(a, "account_login").to_string(),
                platform => format!("{platform}:{}", str_of(a, "account_login")),
            })
            .collect::<Vec<_>>()
            .join("\n");
        let values = |kind: &'static str| {
            of_type(kind)
                .map(|o| str_of(o, "value"))
                .collect::<Vec<_>>()
                .join("\n")
        };
        AlertForm {
            collection: collection.to_string(),
            title: str_of(report, "name").into(),
            summary: str_of(report, "description").into(),
            campaign: campaign
                .map(|c| str_of(c, "name").to_string())
                .unwrap_or_default(),
            countries: of_type("location")
                .map(|l| str_of(l, "country"))
                .filter(|c| !c.is_empty())
                .collect::<Vec<_>>()
                .join(", "),
            elections: list("elections"),
            platforms: list("platforms"),
            urls: values("url"),
            accounts,
            domains: values("domain-name"),
            techniques: techniques.join(", "),
            tlp: marking_tlp(report).unwrap_or(Tlp::Amber).key().into(),
            level: alert.level.as_str().into(),
            action: String::new(),
        }
    }

    /// Every problem, named by the form field it concerns.
    pub fn validate(&self, disarm: &DisarmCatalogue) -> Vec<FieldError> {
        let mut errors = Vec::new();
        let mut check = |field: &str, ok: bool, message: String| {
            if !ok {
                errors.push(FieldError::new(field, message));
            }
        };
        check(
            "collection",
            !self.collection.is_empty(),
            "choose where to share it".into(),
        );
        check(
            "title",
            !self.title.trim().is_empty(),
            "an alert needs a title".into(),
        );
        check(
            "title",
            self.title.chars().count() <= 300,
            "at most 300 characters".into(),
        );
        check(
            "summary",
            self.summary.chars().count() <= 20_000,
            "at most 20,000 characters".into(),
        );
        check(
            "campaign",
            self.campaign.chars().count() <= 300,
            "at most 300 characters".into(),
        );
        check(
            "level",
            AlertLevel::parse(&self.level).is_some(),
            "choose information, alert or urgent".into(),
        );
        check(
            "tlp",
            Tlp::from_name(&self.tlp).is_some(),
            "choose a TLP marking".into(),
        );
        for (field, count) in [
            ("countries", words(&self.countries).len()),
            ("elections", lines(&self.elections).len()),
            ("platforms", lines(&self.platforms).len()),
            ("urls", lines(&self.urls).len()),
            ("accounts", lines(&self.accounts).len()),
            ("domains", lines(&self.domains).len()),
            ("techniques", words(&self.techniques).len()),
        ] {
            check(
                field,
                count <= MAX_ITEMS,
                format!("at most {MAX_ITEMS} entries"),
            );
        }
        let bad: Vec<String> = words(&self.countries)
            .into_iter()
            .filter(|c| c.len() != 2 || !c.chars().all(|ch| ch.is_ascii_alphabetic()))
            .collect();
        check(
            "countries",
            bad.is_empty(),
            format!(
                "use two-letter country codes (ISO 3166-1), not: {}",
                bad.join(", ")
            ),
        );
        let bad: Vec<String> = lines(&self.urls)
            .into_iter()
            .filter(|u| !is_url(u))
            .collect();
        check(
            "urls",
            bad.is_empty(),
            format!(
                "not a web address (http:// or https://): {}",
                bad.join(", ")
            ),
        );
        let bad: Vec<String> = lines(&self.domains)
            .into_iter()
            .filter(|d| !is_domain(&d.to_ascii_lowercase()))
            .collect();
        check(
            "domains",
            bad.is_empty(),
            format!("not a domain name: {}", bad.join(", ")),
        );
        let bad: Vec<String> = lines(&self.accounts)
            .into_iter()
            .filter(|a| {
                let (_, login) = account(a);
                login.is_empty()
                    || login.chars().count() > 100
                    || login.contains(char::is_whitespace)
            })
            .collect();
        check(
            "accounts",
            bad.is_empty(),
            format!(
                "write platform:handle or handle, without spaces: {}",
                bad.join(", ")
            ),
        );
        let bad: Vec<String> = words(&self.techniques)
            .into_iter()
            .filter(|t| disarm.technique(t).is_none())
            .collect();
        check(
            "techniques",
            bad.is_empty(),
            format!("not a DISARM technique: {}", bad.join(", ")),
        );
        for (field, text) in [
            ("elections", &self.elections),
            ("platforms", &self.platforms),
        ] {
            check(
                field,
                lines(text).iter().all(|l| l.chars().count() <= 200),
                "at most 200 characters per line".into(),
            );
        }
        errors
    }

    /// The alert content this (valid) form stands for. `previous` is the
    /// alert being edited: its other properties and objects are kept.
    pub fn to_input(
        &self,
        identity: &str,
        previous: Option<&Alert>,
        disarm: &DisarmCatalogue,
        now: &str,
    ) -> AlertInput {
        let tlp = Tlp::from_name(&self.tlp).unwrap_or(Tlp::Amber);
        let empty = Vec::new();
        let old_related = previous.map_or(&empty, |a| &a.related);
        let old_report = previous.map(|a| a.report.clone()).unwrap_or_default();
        let old_tlp = marking_tlp(&old_report);
        let old_campaign = first_campaign(old_related);
        let old_campaign_id = old_campaign.map(|c| str_of(c, "id").to_string());
        let sdo = |kind: &str, properties: Value| -> Value {
            let mut object = json!({
                "type": kind, "spec_version": "2.1",
                "id": format!("{kind}--{}", uuid::Uuid::new_v4()),
                "created": now, "modified": now, "created_by_ref": identity,
            });
            if let (Some(map), Value::Object(extra)) = (object.as_object_mut(), properties) {
                map.extend(extra);
            }
            object
        };
        // An object the form would write again: the earlier one if it says
        // the same, under the same id (a new `modified` if it changed).
        let keep_or = |fresh: Value, same: &dyn Fn(&Value) -> bool| -> Value {
            match old_related.iter().find(|o| same(o)) {
                Some(old) => old.clone(),
                None => fresh,
            }
        };
        let mut managed: Vec<Value> = Vec::new();
        for url in lines(&self.urls) {
            let id = vigil_stix::observable_id("url", &json!({"value": url}));
            managed.push(json!({"type": "url", "spec_version": "2.1", "id": id, "value": url}));
        }
        for domain in lines(&self.domains) {
            let domain = domain.to_ascii_lowercase();
            let id = vigil_stix::observable_id("domain-name", &json!({"value": domain}));
            managed.push(
                json!({"type": "domain-name", "spec_version": "2.1", "id": id, "value": domain}),
            );
        }
        for line in lines(&self.accounts) {
            let (platform, login) = account(&line);
            let mut contributing = json!({"account_login": login});
            if let Some(platform) = &platform {
                contributing["account_type"] = platform.clone().into();
            }
            let id = vigil_stix::observable_id("user-account", &contributing);
            let mut object = json!({"type": "user-account", "spec_version": "2.1", "id": id});
            if let (Some(map), Value::Object(extra)) = (object.as_object_mut(), contributing) {
                map.extend(extra);
            }
            managed.push(object);
        }
        let mut locations = Vec::new();
        for country in words(&self.countries) {
            let location = keep_or(
                sdo("location", json!({"country": country})),
                &|o: &Value| {
                    str_of(o, "type") == "location"
                        && str_of(o, "country").eq_ignore_ascii_case(&country)
                },
            );
            locations.push(str_of(&location, "id").to_string());
            managed.push(location);
        }
        let techniques: Vec<String> = words(&self.techniques)
            .iter()
            .filter_map(|t| disarm.technique(t))
            .map(|t| t.stix_id.clone())
            .collect();
        if !self.campaign.trim().is_empty() {
            let name = self.campaign.trim();
            let campaign = match old_campaign {
                Some(old) if str_of(old, "name") == name => old.clone(),
                Some(old) => {
                    let mut changed = old.clone();
                    changed["name"] = name.into();
                    changed["modified"] = now.into();
                    changed
                }
                None => sdo("campaign", json!({"name": name})),
            };
            let campaign_id = str_of(&campaign, "id").to_string();
            managed.push(campaign);
            for (kind, target) in techniques
                .iter()
                .map(|t| ("uses", t))
                .chain(locations.iter().map(|l| ("targets", l)))
            {
                let relationship = keep_or(
                    sdo(
                        "relationship",
                        json!({"relationship_type": kind, "source_ref": campaign_id, "target_ref": target}),
                    ),
                    &|o: &Value| {
                        str_of(o, "type") == "relationship"
                            && str_of(o, "relationship_type") == kind
                            && str_of(o, "source_ref") == campaign_id
                            && str_of(o, "target_ref") == target
                    },
                );
                managed.push(relationship);
            }
        }
        let kept: Vec<Value> = old_related
            .iter()
            .filter(|o| !is_managed(o, old_campaign_id.as_deref()))
            .cloned()
            .collect();
        let mut related: Vec<Value> = kept.into_iter().chain(managed).collect();
        if old_tlp.is_some() && old_tlp != Some(tlp) {
            // Unmarked objects take the report's marking: a new marking is a
            // new version of each of them.
            for object in &mut related {
                if object.get("object_marking_refs").is_none() && object.get("modified").is_some() {
                    object["modified"] = now.into();
                }
            }
        }
        let related_ids: Vec<&str> = related.iter().map(|o| str_of(o, "id")).collect();
        let old_ids: Vec<&str> = old_related.iter().map(|o| str_of(o, "id")).collect();
        // References the report had to objects outside the alert stay; the
        // techniques are the form's; references to dropped objects go.
        let mut refs: Vec<Value> = old_report
            .get("object_refs")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .filter(|r| !r.starts_with("attack-pattern--"))
            .filter(|r| !old_ids.contains(r) || related_ids.contains(r))
            .map(Value::from)
            .collect();
        refs.extend(techniques.iter().cloned().map(Value::from));
        let mut report = match old_report {
            Value::Object(map) => map,
            _ => Map::new(),
        };
        report.insert("name".into(), self.title.trim().into());
        if self.summary.trim().is_empty() {
            report.remove("description");
        } else {
            report.insert("description".into(), self.summary.trim().into());
        }
        report.insert(
            "object_marking_refs".into(),
            json!([tlp.marking_id(TlpProfile::Oasis)]),
        );
        report.insert("object_refs".into(), Value::Array(refs));
        if !self.campaign.trim().is_empty() {
            report.insert("report_types".into(), json!(["campaign"]));
        }
        let mut extensions = report
            .get("extensions")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        let mut own = extensions
            .get(ALERT_EXTENSION)
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        own.insert("extension_type".into(), "property-extension".into());
        for (name, items) in [
            ("elections", lines(&self.elections)),
            ("platforms", lines(&self.platforms)),
        ] {
            if items.is_empty() {
                own.remove(name);
            } else {
                own.insert(name.into(), json!(items));
            }
        }
        extensions.insert(ALERT_EXTENSION.into(), Value::Object(own));
        report.insert("extensions".into(), Value::Object(extensions));
        AlertInput {
            level: self.level.clone(),
            report: Value::Object(report),
            related,
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::alerts::domain::{AlertState, CollectionId};
    use crate::core::ids::{AlertId, OrganisationId, UserId};
    use crate::core::time::Timestamp;

    fn catalogue() -> &'static DisarmCatalogue {
        crate::alerts::service::disarm()
    }

    fn form() -> AlertForm {
        AlertForm {
            collection: "eu-ras/col-1".into(),
            title: "Fake polling-station closures".into(),
            summary: "Posts claim stations close at noon.".into(),
            campaign: "Noon closure hoax".into(),
            countries: "ee, LV".into(),
            elections: "European Parliament 2029".into(),
            platforms: "Telegram\nX".into(),
            urls: "https://fake.example/closed".into(),
            accounts: "twitter:@closure_bot\nplainhandle".into(),
            domains: "Fake.example".into(),
            techniques: "T0086, t0098".into(),
            tlp: "amber".into(),
            level: "urgent".into(),
            action: "publish".into(),
        }
    }

    fn alert_of(input: AlertInput) -> Alert {
        let now = Timestamp::now();
        Alert {
            id: AlertId::generate(),
            version: 1,
            collection_id: CollectionId::new(),
            report_id: "report--0d5b3a36-8f3e-4a3c-9a5e-0c9c4e2c1b7a".into(),
            originator: OrganisationId::generate(),
            author: UserId::generate(),
            level: AlertLevel::parse(&input.level).unwrap(),
            state: AlertState::Draft,
            report: input.report,
            related: input.related,
            created_at: now,
            updated_at: now,
            published_at: None,
        }
    }

    #[test]
    fn a_valid_form_becomes_valid_stix_and_reads_back_the_same() {
        let form = form();
        assert_eq!(form.validate(catalogue()), vec![]);
        let input = form.to_input(
            "identity--7d1c4b9e-3f2a-4c5d-8e6f-0a1b2c3d4e5f",
            None,
            catalogue(),
            "2029-04-03T08:00:00.000Z",
        );
        for object in &input.related {
            vigil_stix::StixObject::parse(object.clone()).unwrap();
        }
        let kinds: Vec<&str> = input.related.iter().map(|o| str_of(o, "type")).collect();
        for kind in ["url", "domain-name", "user-account", "location", "campaign"] {
            assert!(kinds.contains(&kind), "{kind} missing from {kinds:?}");
        }
        // Two techniques and two countries: four relationships from the campaign.
        assert_eq!(kinds.iter().filter(|k| **k == "relationship").count(), 4);
        let refs = input.report["object_refs"].as_array().unwrap();
        assert_eq!(
            refs.iter()
                .filter(|r| r.as_str().unwrap().starts_with("attack-pattern--"))
                .count(),
            2
        );
        let alert = alert_of(input);
        let back = AlertForm::from_alert(&alert, "eu-ras/col-1", catalogue());
        assert_eq!(back.title, form.title);
        assert_eq!(back.countries, "EE, LV");
        assert_eq!(back.techniques, "T0086, T0098");
        assert_eq!(back.accounts, "twitter:closure_bot\nplainhandle");
        assert_eq!(back.domains, "fake.example");
        assert_eq!(back.platforms, "Telegram\nX");
        assert_eq!(
            (back.tlp.as_str(), back.level.as_str()),
            ("amber", "urgent")
        );
    }

    #[test]
    fn an_edit_keeps_unmanaged_objects_and_the_ids_of_unchanged_ones() {
        let first = form().to_input(
            "identity--7d1c4b9e-3f2a-4c5d-8e6f-0a1b2c3d4e5f",
            None,
            catalogue(),
            "2029-04-03T08:00:00.000Z",
        );
        let mut alert = alert_of(first);
        let indicator = json!({"type": "indicator", "spec_version": "2.1", "id": "indicator--5b9e4c1a-1f4e-4b8e-9d6c-0a1b2c3d4e5f",
            "created": "2029-04-01T00:00:00.000Z", "modified": "2029-04-01T00:00:00.000Z",
            "pattern": "[domain-name:value = 'fake.example']", "pattern_type": "stix", "valid_from": "2029-04-01T00:00:00Z"});
        alert.related.push(indicator.clone());
        alert.report["object_refs"]
            .as_array_mut()
            .unwrap()
            .push("indicator--5b9e4c1a-1f4e-4b8e-9d6c-0a1b2c3d4e5f".into());
        let campaign_before = first_campaign(&alert.related).unwrap().clone();
        let mut edited = form();
        edited.countries = "EE".into();
        edited.accounts = "twitter:closure_bot".into();
        let input = edited.to_input(
            "identity--7d1c4b9e-3f2a-4c5d-8e6f-0a1b2c3d4e5f",
            Some(&alert),
            catalogue(),
            "2029-04-05T08:00:00.000Z",
        );
        assert!(input.related.contains(&indicator));
        assert!(
            input.report["object_refs"]
                .as_array()
                .unwrap()
                .contains(&"indicator--5b9e4c1a-1f4e-4b8e-9d6c-0a1b2c3d4e5f".into())
        );
        assert_eq!(first_campaign(&input.related).unwrap(), &campaign_before);
        let accounts: Vec<&Value> = input
            .related
            .iter()
            .filter(|o| str_of(o, "type") == "user-account")
            .collect();
        assert_eq!(accounts.len(), 1);
        let locations = input
            .related
            .iter()
            .filter(|o| str_of(o, "type") == "location")
            .count();
        assert_eq!(locations, 1);
        // A new marking is a new version of the unmarked objects.
        let mut remarked = form();
        remarked.tlp = "green".into();
        let input = remarked.to_input(
            "identity--7d1c4b9e-3f2a-4c5d-8e6f-0a1b2c3d4e5f",
            Some(&alert),
            catalogue(),
            "2029-04-06T08:00:00.000Z",
        );
        assert_eq!(
            str_of(first_campaign(&input.related).unwrap(), "modified"),
            "2029-04-06T08:00:00.000Z"
        );
    }

    #[test]
    fn invalid_fields_are_named() {
        let bad = AlertForm {
            title: " ".into(),
            countries: "Estonia".into(),
            urls: "fake.example/closed".into(),
            domains: "not a domain".into(),
            accounts: "twitter:".into(),
            techniques: "T0086, T9999".into(),
            tlp: "purple".into(),
            level: "panic".into(),
            ..AlertForm::default()
        };
        let fields: Vec<String> = bad
            .validate(catalogue())
            .into_iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(
            fields,
            [
                "collection",
                "title",
                "level",
                "tlp",
                "countries",
                "urls",
                "domains",
                "accounts",
                "techniques"
            ]
        );
        let message = bad
            .validate(catalogue())
            .into_iter()
            .find(|e| e.field == "techniques")
            .unwrap()
            .message;
        assert_eq!(message, "not a DISARM technique: T9999");
    }
}
