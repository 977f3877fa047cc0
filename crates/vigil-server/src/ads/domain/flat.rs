//! The flat form of a political ad: one table of fields, named by the same
//! paths as the JSON record and its error messages (`sponsor.name`,
//! `spend.amount`). The web's filing form shows these fields and the generic
//! CSV import takes them as column names; a flat form is read into the
//! record, a record is written back into it for a correction, and every
//! fault the record's check names lands beside its field. Nothing here
//! does I/O.
use crate::ads::domain::AdContent;
use crate::core::error::FieldError;
use serde_json::{Map, Value};
use std::collections::HashMap;

/// How a field is typed in, and how it becomes JSON.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    Text,
    LongText,
    Date,
    /// A whole number.
    Count,
    /// Comma-separated values: a list of strings.
    List,
    /// Lines of `key share` (a delivery breakdown).
    Shares,
    /// Lines of `sha256 media-type [url]`.
    Media,
    /// Lines of `name; country; registry id`.
    Entities,
    Check,
    /// One of fixed values (value, label).
    Choice(&'static [(&'static str, &'static str)]),
    /// An election of the calendar.
    Election,
}

pub struct FieldSpec {
    pub name: &'static str,
    pub label: &'static str,
    pub hint: &'static str,
    pub shape: Shape,
}

const fn field(
    name: &'static str,
    label: &'static str,
    hint: &'static str,
    shape: Shape,
) -> FieldSpec {
    FieldSpec {
        name,
        label,
        hint,
        shape,
    }
}

const DECLARATIONS: &[(&str, &str)] = &[
    ("", "none given"),
    ("eu_citizen", "a citizen of the Union (Art. 5(2)(a))"),
    (
        "resident_third_country_voter",
        "a resident third-country national with the right to vote (Art. 5(2)(b))",
    ),
    (
        "eu_legal_person_not_foreign_controlled",
        "a legal person established in the Union, not controlled from outside it (Art. 5(2)(c))",
    ),
];
const ORIGINS: &[(&str, &str)] = &[("private", "private"), ("public", "public")];
const SOURCES: &[(&str, &str)] = &[
    ("eu", "from within the Union"),
    ("non_eu", "from outside the Union"),
];

/// The form's sections and fields, in the order of the notice template.
pub const SECTIONS: &[(&str, &[FieldSpec])] = &[
    (
        "The ad",
        &[
            field(
                "title",
                "Title",
                "How the ad is known, e.g. \"Clean rivers, May print run\".",
                Shape::Text,
            ),
            field("creative.text", "Text of the ad", "", Shape::LongText),
            field(
                "creative.language",
                "Language",
                "ISO 639-1, e.g. et, lv, pt.",
                Shape::Text,
            ),
            field(
                "creative.media",
                "Media files",
                "One per line: SHA-256, media type, optional link.",
                Shape::Media,
            ),
            field(
                "countries",
                "Countries where it runs",
                "ISO codes separated by commas, e.g. EE, LV.",
                Shape::List,
            ),
            field(
                "regions",
                "Regions",
                "Separated by commas (optional).",
                Shape::List,
            ),
            field("period_start", "First day", "", Shape::Date),
            field("period_end", "Last day", "", Shape::Date),
            field(
                "first_published_at",
                "First published at",
                "Date and time (RFC 3339, optional), e.g. 2029-05-03T08:00:00Z.",
                Shape::Text,
            ),
            field("election", "Election or referendum", "", Shape::Election),
            field(
                "legislative_process",
                "Legislative process",
                "If the ad concerns one instead (optional).",
                Shape::Text,
            ),
            field(
                "previously_suspended",
                "An earlier publication of this ad was suspended or discontinued for infringing the Regulation",
                "",
                Shape::Check,
            ),
        ],
    ),
    (
        "Sponsor (Art. 12(1)(a))",
        &[
            field("sponsor.name", "Name", "", Shape::Text),
            field(
                "sponsor.registry_id",
                "Registration number",
                "",
                Shape::Text,
            ),
            field(
                "sponsor.country",
                "Country of establishment or residence",
                "ISO code, e.g. EE.",
                Shape::Text,
            ),
            field("sponsor.email", "Contact email", "", Shape::Text),
            field("sponsor.address", "Postal address", "", Shape::Text),
            field(
                "sponsor_declaration",
                "Declaration under Art. 5(2)",
                "Required in the three months before the linked election.",
                Shape::Choice(DECLARATIONS),
            ),
        ],
    ),
    (
        "Entity ultimately controlling the sponsor (optional)",
        &[
            field("controller.name", "Name", "", Shape::Text),
            field(
                "controller.registry_id",
                "Registration number",
                "",
                Shape::Text,
            ),
            field("controller.country", "Country", "", Shape::Text),
        ],
    ),
    (
        "Payer, if not the sponsor (optional)",
        &[
            field("payer.name", "Name", "", Shape::Text),
            field("payer.registry_id", "Registration number", "", Shape::Text),
            field("payer.country", "Country", "", Shape::Text),
        ],
    ),
    (
        "Beneficiary, if not the sponsor (optional)",
        &[
            field("beneficiary.name", "Name", "", Shape::Text),
            field("beneficiary.country", "Country", "", Shape::Text),
        ],
    ),
    (
        "Publisher and service providers",
        &[
            field("publisher.name", "Publisher", "", Shape::Text),
            field(
                "publisher.registry_id",
                "Registration number",
                "",
                Shape::Text,
            ),
            field("publisher.country", "Country", "", Shape::Text),
            field("publisher.email", "Contact email", "", Shape::Text),
            field(
                "service_providers",
                "Service providers",
                "One per line: name; country; registration number.",
                Shape::Entities,
            ),
        ],
    ),
    (
        "Amounts (Art. 12(1)(d)–(f))",
        &[
            field(
                "spend.currency",
                "Currency",
                "ISO 4217, e.g. EUR.",
                Shape::Text,
            ),
            field(
                "spend.amount",
                "Amount for this ad",
                "A decimal, e.g. 1200.00.",
                Shape::Text,
            ),
            field(
                "spend.campaign_amount",
                "Amount for the whole campaign",
                "Optional.",
                Shape::Text,
            ),
            field(
                "spend.other_benefits",
                "Value of other benefits",
                "Optional.",
                Shape::Text,
            ),
            field("spend.origin", "Origin", "", Shape::Choice(ORIGINS)),
            field("spend.source", "Source", "", Shape::Choice(SOURCES)),
            field(
                "spend.method",
                "How the amounts were calculated",
                "",
                Shape::Text,
            ),
            field(
                "impressions.lower",
                "Impressions (at least)",
                "Optional.",
                Shape::Count,
            ),
            field(
                "impressions.upper",
                "Impressions (at most)",
                "Optional.",
                Shape::Count,
            ),
            field("reach", "People reached", "Optional.", Shape::Count),
        ],
    ),
    (
        "Targeting and delivery (Art. 18–19)",
        &[
            field(
                "targeting.used",
                "Targeting or ad-delivery techniques were used",
                "",
                Shape::Check,
            ),
            field(
                "targeting.criteria_included",
                "Criteria included",
                "Separated by commas.",
                Shape::List,
            ),
            field(
                "targeting.criteria_excluded",
                "Criteria excluded",
                "Separated by commas.",
                Shape::List,
            ),
            field(
                "targeting.personal_data_categories",
                "Categories of personal data used",
                "e.g. location, age, interests.",
                Shape::List,
            ),
            field(
                "targeting.special_categories",
                "Special categories of personal data used",
                "GDPR Art. 9(1), e.g. political_opinions: forbidden for profiling.",
                Shape::List,
            ),
            field(
                "targeting.minimum_age",
                "Youngest age targeted",
                "",
                Shape::Count,
            ),
            field(
                "targeting.consent_basis",
                "Basis of the personal data",
                "explicit_consent, or what else was relied on.",
                Shape::Text,
            ),
            field(
                "targeting.ai_systems_used",
                "AI systems were used for targeting or delivery",
                "",
                Shape::Check,
            ),
            field(
                "targeting.people_reached",
                "People reached by the targeting",
                "Optional.",
                Shape::Count,
            ),
            field(
                "delivery.by_age",
                "Delivery by age",
                "One per line: group and share between 0 and 1, e.g. 18-24 0.25.",
                Shape::Shares,
            ),
            field(
                "delivery.by_gender",
                "Delivery by gender",
                "One per line, e.g. female 0.52.",
                Shape::Shares,
            ),
            field(
                "delivery.by_region",
                "Delivery by region",
                "One per line, e.g. Harju 0.6.",
                Shape::Shares,
            ),
        ],
    ),
];

/// Every field of the form.
pub fn fields() -> impl Iterator<Item = &'static FieldSpec> {
    SECTIONS.iter().flat_map(|(_, fields)| fields.iter())
}

/// Objects that are left out when none of their fields is filled in.
const OPTIONAL_OBJECTS: &[&str] = &["controller", "payer", "beneficiary", "spend", "impressions"];

fn split_list(text: &str) -> Vec<Value> {
    text.split(',')
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(|t| Value::String(t.to_string()))
        .collect()
}

fn lines(text: &str) -> impl Iterator<Item = &str> {
    text.lines().map(str::trim).filter(|l| !l.is_empty())
}

/// Sets `value` at a dotted path, creating objects on the way.
fn set(root: &mut Map<String, Value>, path: &str, value: Value) {
    let mut parts = path.split('.').peekable();
    let mut object = root;
    while let Some(part) = parts.next() {
        if parts.peek().is_none() {
            object.insert(part.to_string(), value);
            return;
        }
        let next = object
            .entry(part.to_string())
            .or_insert_with(|| Value::Object(Map::new()));
        if !next.is_object() {
            *next = Value::Object(Map::new());
        }
        let Value::Object(inner) = next else { return };
        object = inner;
    }
}

fn get<'a>(root: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('.')
        .try_fold(root, |value, part| value.get(part))
}

/// Reads a submitted form into an ad. `base` keeps what the form does not
/// show (ids of the ad elsewhere, an imported spend range when no exact
/// amount is given). Faults of the form itself (a number that is not one, a
/// line without its parts, a value not offered) are named by field; the
/// record's own check comes after.
pub fn read(
    form: &HashMap<String, String>,
    base: &AdContent,
) -> Result<AdContent, Vec<FieldError>> {
    let mut root = Map::new();
    let mut errors = Vec::new();
    for spec in fields() {
        let raw = form.get(spec.name).map(|v| v.trim()).unwrap_or("");
        let value = match spec.shape {
            Shape::Check => Value::Bool(!raw.is_empty()),
            _ if raw.is_empty() => continue,
            Shape::Text | Shape::LongText | Shape::Date | Shape::Election => {
                Value::String(raw.replace("\r\n", "\n"))
            }
            Shape::Choice(options) => {
                if !options.iter().any(|(value, _)| *value == raw) {
                    errors.push(FieldError::new(
                        spec.name,
                        "choose one of the values offered",
                    ));
                    continue;
                }
                Value::String(raw.to_string())
            }
            Shape::Count => match raw.parse::<u64>() {
                Ok(n) => Value::from(n),
                Err(_) => {
                    errors.push(FieldError::new(spec.name, "a whole number, e.g. 18"));
                    continue;
                }
            },
            Shape::List => Value::Array(split_list(raw)),
            Shape::Shares => {
                let mut shares = Vec::new();
                for (i, line) in lines(raw).enumerate() {
                    match line.rsplit_once(char::is_whitespace) {
                        Some((key, share)) if !key.trim().is_empty() => shares
                            .push(serde_json::json!({"key": key.trim(), "share": share.trim()})),
                        _ => errors.push(FieldError::new(
                            spec.name,
                            format!("line {}: a group and its share, e.g. 18-24 0.25", i + 1),
                        )),
                    }
                }
                Value::Array(shares)
            }
            Shape::Media => {
                let mut files = Vec::new();
                for (i, line) in lines(raw).enumerate() {
                    let parts: Vec<&str> = line.split_whitespace().collect();
                    match parts.as_slice() {
                        [sha256, media_type] => files.push(
                            serde_json::json!({"sha256": sha256, "media_type": media_type}),
                        ),
                        [sha256, media_type, url] => files.push(
                            serde_json::json!({"sha256": sha256, "media_type": media_type, "url": url}),
                        ),
                        _ => errors.push(FieldError::new(
                            spec.name,
                            format!("line {}: the SHA-256, the media type and optionally a link", i + 1),
                        )),
                    }
                }
                Value::Array(files)
            }
            Shape::Entities => Value::Array(
                lines(raw)
                    .map(|line| {
                        let mut parts = line.split(';').map(str::trim);
                        let mut entity = Map::new();
                        for key in ["name", "country", "registry_id"] {
                            if let Some(part) = parts.next().filter(|p| !p.is_empty()) {
                                entity.insert(key.into(), Value::String(part.to_string()));
                            }
                        }
                        entity
                            .entry("name")
                            .or_insert_with(|| Value::String(String::new()));
                        Value::Object(entity)
                    })
                    .collect(),
            ),
        };
        set(&mut root, spec.name, value);
    }
    // Amounts are given when one of the typed-in parts is (the choices
    // always send a value).
    let spend_given = [
        "currency",
        "amount",
        "campaign_amount",
        "other_benefits",
        "method",
    ]
    .iter()
    .any(|key| {
        form.get(&format!("spend.{key}"))
            .is_some_and(|v| !v.trim().is_empty())
    });
    if !spend_given {
        root.remove("spend");
    }
    // An optional party or figure that is not filled in is absent, not empty.
    for key in OPTIONAL_OBJECTS {
        if root
            .get(*key)
            .is_some_and(|v| v.as_object().is_some_and(Map::is_empty))
        {
            root.remove(*key);
        }
    }
    // What the form does not show is kept from the ad being corrected.
    if let Ok(Value::Object(base)) = serde_json::to_value(base) {
        keep_hidden(&mut root, &base, "");
    }
    if root.contains_key("spend") {
        root.remove("spend_range");
    }
    // Required parts of the record are present (empty) so that its check,
    // not the reader, names them.
    for key in ["sponsor", "publisher"] {
        root.entry(key).or_insert_with(|| Value::Object(Map::new()));
        if let Some(Value::Object(entity)) = root.get_mut(key) {
            entity
                .entry("name")
                .or_insert_with(|| Value::String(String::new()));
        }
    }
    for (key, empty) in [
        ("title", Value::String(String::new())),
        ("countries", Value::Array(Vec::new())),
        ("period_start", Value::String(String::new())),
        ("period_end", Value::String(String::new())),
    ] {
        root.entry(key).or_insert(empty);
    }
    let creative = root
        .entry("creative")
        .or_insert_with(|| Value::Object(Map::new()));
    if let Value::Object(creative) = creative {
        for key in ["text", "language"] {
            creative
                .entry(key)
                .or_insert_with(|| Value::String(String::new()));
        }
    }
    if let Some(Value::Object(spend)) = root.get_mut("spend") {
        // The record's check names a missing amount or currency; the
        // choices have defaults in the form, so only text fields may be absent.
        for key in ["currency", "amount", "method"] {
            spend
                .entry(key)
                .or_insert_with(|| Value::String(String::new()));
        }
    }
    if let Some(Value::Object(impressions)) = root.get_mut("impressions") {
        impressions.entry("lower").or_insert(Value::from(0u64));
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let content: AdContent = serde_json::from_value(Value::Object(root)).map_err(|e| {
        vec![FieldError::new(
            "form",
            format!("the form could not be read: {e}"),
        )]
    })?;
    Ok(content)
}

/// Copies from `base` what no field of the form shows (an entity's email
/// when the form has none, the ad's ids elsewhere, an imported spend range),
/// inside objects the form still has: a party cleared in the form goes whole.
fn keep_hidden(root: &mut Map<String, Value>, base: &Map<String, Value>, prefix: &str) {
    for (key, value) in base {
        let path = if prefix.is_empty() {
            key.clone()
        } else {
            format!("{prefix}.{key}")
        };
        let inner = format!("{path}.");
        if fields().any(|f| f.name == path) {
            continue;
        }
        if fields().any(|f| f.name.starts_with(&inner)) {
            if let (Some(Value::Object(shown)), Value::Object(kept)) = (root.get_mut(key), value) {
                keep_hidden(shown, kept, &path);
            }
        } else if !root.contains_key(key) {
            root.insert(key.clone(), value.clone());
        }
    }
}

/// The form's values for an ad (to correct it).
pub fn values(content: &AdContent) -> HashMap<String, String> {
    let json = serde_json::to_value(content).unwrap_or(Value::Null);
    let text = |v: &Value| match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    };
    let field_of = |v: &Value, key: &str| v.get(key).map(text).unwrap_or_default();
    fields()
        .filter_map(|spec| {
            let value = get(&json, spec.name)?;
            let shown = match spec.shape {
                Shape::Check => {
                    if value.as_bool() == Some(true) {
                        "on".to_string()
                    } else {
                        String::new()
                    }
                }
                Shape::List => value
                    .as_array()
                    .map(|items| items.iter().map(text).collect::<Vec<_>>().join(", "))
                    .unwrap_or_default(),
                Shape::Shares => value
                    .as_array()
                    .map(|items| {
                        items
                            .iter()
                            .map(|s| format!("{} {}", field_of(s, "key"), field_of(s, "share")))
                            .collect::<Vec<_>>()
                            .join("\n")
                    })
                    .unwrap_or_default(),
                Shape::Media => value
                    .as_array()
                    .map(|items| {
                        items
                            .iter()
                            .map(|m| {
                                [
                                    field_of(m, "sha256"),
                                    field_of(m, "media_type"),
                                    field_of(m, "url"),
                                ]
                                .join(" ")
                                .trim_end()
                                .to_string()
                            })
                            .collect::<Vec<_>>()
                            .join("\n")
                    })
                    .unwrap_or_default(),
                Shape::Entities => value
                    .as_array()
                    .map(|items| {
                        items
                            .iter()
                            .map(|e| {
                                [
                                    field_of(e, "name"),
                                    field_of(e, "country"),
                                    field_of(e, "registry_id"),
                                ]
                                .join("; ")
                                .trim_end_matches([';', ' '])
                                .to_string()
                            })
                            .collect::<Vec<_>>()
                            .join("\n")
                    })
                    .unwrap_or_default(),
                _ => text(value),
            };
            Some((spec.name.to_string(), shown))
        })
        .collect()
}

/// The form field a fault of the record belongs to: `countries[1]` and
/// `delivery.by_age[0].share` are faults of `countries` and
/// `delivery.by_age`.
pub fn field_of_fault(path: &str) -> &str {
    path.split_once('[').map_or(path, |(head, _)| head)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn form(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn a_correction_form_reads_back_into_the_same_ad() {
        let mut ad: AdContent =
            serde_json::from_value(crate::ads::domain::ad::tests::sample()).unwrap();
        ad.check().unwrap();
        let values = values(&ad);
        assert_eq!(values["sponsor.name"], "Green Future Party");
        let read = read(&values, &ad).unwrap();
        assert_eq!(read, ad);
    }

    #[test]
    fn form_faults_are_named_by_field() {
        let errors = read(
            &form(&[
                ("targeting.minimum_age", "sixteen"),
                ("delivery.by_age", "18-24 0.5\n0.5"),
                ("spend.origin", "crypto"),
                ("creative.media", "abc"),
            ]),
            &AdContent::default(),
        )
        .unwrap_err();
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "creative.media",
                "spend.origin",
                "targeting.minimum_age",
                "delivery.by_age"
            ]
        );
        assert!(
            errors[3].message.contains("line 2"),
            "{}",
            errors[3].message
        );
    }

    #[test]
    fn an_empty_form_is_left_to_the_record_check() {
        let mut content = read(&HashMap::new(), &AdContent::default()).unwrap();
        let faults: Vec<String> = content
            .check()
            .unwrap_err()
            .into_iter()
            .map(|e| field_of_fault(&e.field).to_string())
            .collect();
        for expected in [
            "title",
            "sponsor.name",
            "publisher.name",
            "countries",
            "period_start",
        ] {
            assert!(
                faults.iter().any(|f| f == expected),
                "{expected} in {faults:?}"
            );
        }
        assert!(content.payer.is_none() && content.spend.is_none());
    }

    #[test]
    fn every_fault_path_of_the_record_has_a_field() {
        let names: Vec<&str> = fields().map(|f| f.name).collect();
        assert_eq!(field_of_fault("countries[2]"), "countries");
        assert_eq!(
            field_of_fault("delivery.by_age[0].share"),
            "delivery.by_age"
        );
        for path in [
            "spend.amount",
            "targeting.minimum_age",
            "sponsor.country",
            "election",
        ] {
            assert!(names.contains(&path), "{path}");
        }
    }
}
