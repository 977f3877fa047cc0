//! Reading ads from other archives into the repository's record: the Meta
//! Ad Library API's JSON (current and older field names, numbers as
//! strings, an open top bucket, `beneficiary_payers`; the access token in
//! `ad_snapshot_url` is never kept), the Google political-ads transparency
//! bundle's `creative-stats` CSV (by header name, one currency's columns,
//! bucket strings), a generic JSON Lines format (`{"source_id", "ad"}`
//! with the filing format as `ad`), and a generic CSV whose columns are the
//! fields of the flat form (`title`, `sponsor.name`, `spend.amount`…, see
//! `domain::flat`) with `source_id` and optional `spend_range.*` columns. Pure: bytes in, rows out; each bad row
//! is named by its line (or record) number and the others are kept.
use super::domain::ad::{CountRange, DeliveryShare, Entity};
use super::domain::money::parse_minor;
use super::domain::{AdContent, Currency, MoneyRange};
use serde_json::Value;
use std::collections::BTreeMap;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Meta,
    Google,
    Jsonl,
    Csv,
}

impl Format {
    pub fn parse(text: &str) -> Option<Format> {
        match text {
            "meta" => Some(Format::Meta),
            "google" => Some(Format::Google),
            "jsonl" => Some(Format::Jsonl),
            "csv" => Some(Format::Csv),
            _ => None,
        }
    }
}

/// What the source files do not say.
#[derive(Clone, Debug, Default)]
pub struct ImportOptions {
    /// Countries of dissemination when a row has none (Meta's library is
    /// queried per country; Google's EU rows say only `EU`).
    pub country: Option<String>,
    /// Language of the ads when a row has none (Google gives none).
    pub language: Option<String>,
    /// The currency whose `Spend_Range_*` columns are read (Google).
    pub currency: Option<String>,
    /// Links every imported ad to this election of the calendar.
    pub election: Option<String>,
    /// `YYYY-MM-DD`: the end of the period of ads still running.
    pub today: String,
}

/// A row read: its line, its key (`source:id`, so that importing the same
/// file again changes nothing) and the ad; or why not, with its line.
pub type ImportRow = Result<ImportedAd, RowError>;

#[derive(Clone, Debug)]
pub struct ImportedAd {
    pub line: u64,
    pub key: String,
    pub content: AdContent,
}

fn imported(line: u64, (key, content): (String, AdContent)) -> ImportedAd {
    ImportedAd { line, key, content }
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct RowError {
    /// The line (CSV, JSON Lines) or the record's position (JSON), from 1.
    pub line: u64,
    pub message: String,
}

fn error(line: u64, message: impl Into<String>) -> RowError {
    RowError {
        line,
        message: message.into(),
    }
}

pub fn read(
    format: Format,
    bytes: &[u8],
    options: &ImportOptions,
) -> Result<Vec<ImportRow>, String> {
    match format {
        Format::Meta => read_meta(bytes, options),
        Format::Google => read_google(bytes, options),
        Format::Jsonl => Ok(read_jsonl(bytes)),
        Format::Csv => read_csv(bytes, options),
    }
}

// ---------- Meta Ad Library ----------

/// A string, or a number written as one (Meta sends numbers as strings).
fn text_of(value: &Value) -> Option<String> {
    match value {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn strings(value: &Value) -> Vec<String> {
    match value {
        Value::Array(items) => items.iter().filter_map(text_of).collect(),
        other => text_of(other).into_iter().collect(),
    }
}

/// The first of the current field or its older name that is present.
fn field<'a>(ad: &'a Value, names: &[&str]) -> &'a Value {
    names
        .iter()
        .map(|n| &ad[*n])
        .find(|v| !v.is_null())
        .unwrap_or(&Value::Null)
}

/// A `YYYY-MM-DD` date from Meta's date or time forms.
fn date_of(text: &str) -> Option<String> {
    let date: String = text.chars().take(10).collect();
    (date.len() == 10 && date.as_bytes()[4] == b'-' && date.as_bytes()[7] == b'-').then_some(date)
}

/// Meta's `2019-05-01T07:00:00+0000` as RFC 3339.
fn rfc3339_of(text: &str) -> Option<String> {
    let date = date_of(text)?;
    let time = text
        .get(11..19)
        .filter(|t| t.len() == 8)
        .unwrap_or("00:00:00");
    Some(format!("{date}T{time}Z"))
}

/// A share `"0.159091"` as millionths, so that shares add up without floats.
fn millionths(text: &str) -> Option<u64> {
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    let whole: u64 = whole.parse().ok()?;
    let mut digits: String = fraction.chars().take(6).collect();
    while digits.len() < 6 {
        digits.push('0');
    }
    Some(whole * 1_000_000 + digits.parse::<u64>().ok()?)
}

fn share_text(millionths: u64) -> String {
    let text = format!("{}.{:06}", millionths / 1_000_000, millionths % 1_000_000);
    let trimmed = text.trim_end_matches('0');
    if trimmed.ends_with('.') {
        format!("{trimmed}0")
    } else {
        trimmed.to_string()
    }
}

/// Shares summed per key, in first-seen order.
fn summed(entries: impl Iterator<Item = (String, u64)>) -> Vec<DeliveryShare> {
    let mut sums: Vec<(String, u64)> = Vec::new();
    for (key, value) in entries {
        match sums.iter_mut().find(|(k, _)| *k == key) {
            Some((_, sum)) => *sum += value,
            None => sums.push((key, value)),
        }
    }
    sums.into_iter()
        .map(|(key, sum)| DeliveryShare {
            key,
            share: share_text(sum.min(1_000_000)),
        })
        .collect()
}

/// The snapshot link without its `access_token` (or any other parameter
/// but the ad's id): tokens are never stored.
pub fn without_token(url: &str) -> String {
    let Some((base, query)) = url.split_once('?') else {
        return url.to_string();
    };
    let kept: Vec<&str> = query.split('&').filter(|p| p.starts_with("id=")).collect();
    if kept.is_empty() {
        base.to_string()
    } else {
        format!("{base}?{}", kept.join("&"))
    }
}

fn meta_ad(ad: &Value, options: &ImportOptions) -> Result<(String, AdContent), String> {
    let id = text_of(&ad["id"]).ok_or("no id")?;
    let page = text_of(&ad["page_name"]);
    let byline = text_of(field(ad, &["bylines", "funding_entity"]));
    let sponsor_name = byline
        .clone()
        .or(page.clone())
        .ok_or("neither bylines (funding_entity) nor page_name")?;
    let current_payer = ad["beneficiary_payers"]
        .as_array()
        .and_then(|pairs| {
            pairs
                .iter()
                .find(|p| p["current"].as_bool().unwrap_or(true))
                .or_else(|| pairs.first())
        })
        .cloned();
    let entity = |name: String| Entity {
        name,
        ..Entity::default()
    };
    let mut bodies = strings(field(ad, &["ad_creative_bodies", "ad_creative_body"]));
    bodies.dedup();
    let titles = strings(field(
        ad,
        &["ad_creative_link_titles", "ad_creative_link_title"],
    ));
    let language = strings(&ad["languages"])
        .into_iter()
        .next()
        .or_else(|| options.language.clone())
        .ok_or("no language: give one for the import")?;
    let start = text_of(&ad["ad_delivery_start_time"]).ok_or("no ad_delivery_start_time")?;
    let period_start = date_of(&start).ok_or("ad_delivery_start_time is not a date")?;
    let period_end = match text_of(&ad["ad_delivery_stop_time"]) {
        Some(stop) => date_of(&stop).ok_or("ad_delivery_stop_time is not a date")?,
        // Still running: its period so far.
        None => options.today.clone().max(period_start.clone()),
    };
    let spend_range = match (&ad["spend"], text_of(&ad["currency"])) {
        (Value::Null, _) => None,
        (spend, Some(currency)) => {
            let currency = Currency::parse(&currency)
                .ok_or_else(|| format!("currency {currency:?} is not ISO 4217"))?;
            let bound = |name: &str| -> Result<Option<i64>, String> {
                text_of(&spend[name])
                    .map(|t| parse_minor(&t, &currency).map_err(|e| format!("spend {name}: {e}")))
                    .transpose()
            };
            Some(MoneyRange {
                lower_minor: bound("lower_bound")?.unwrap_or(0),
                upper_minor: bound("upper_bound")?,
                currency,
            })
        }
        (_, None) => return Err("spend without currency".into()),
    };
    let count = |value: &Value| -> Option<CountRange> {
        let lower = text_of(&value["lower_bound"])?.parse().ok()?;
        let upper = text_of(&value["upper_bound"]).and_then(|u| u.parse().ok());
        Some(CountRange { lower, upper })
    };
    let demographics: Vec<(String, String, u64)> = ad["demographic_distribution"]
        .as_array()
        .map(|rows| {
            rows.iter()
                .filter_map(|r| {
                    Some((
                        text_of(&r["age"])?,
                        text_of(&r["gender"])?,
                        millionths(&text_of(&r["percentage"])?)?,
                    ))
                })
                .collect()
        })
        .unwrap_or_default();
    let regions = field(ad, &["delivery_by_region", "region_distribution"])
        .as_array()
        .map(|rows| {
            rows.iter()
                .filter_map(|r| {
                    Some((
                        text_of(&r["region"])?,
                        millionths(&text_of(&r["percentage"])?)?,
                    ))
                })
                .collect::<Vec<_>>()
        })
        .unwrap_or_default();
    let ages = strings(&ad["target_ages"]);
    let mut targeting = super::domain::ad::Targeting {
        minimum_age: ages.first().and_then(|a| a.parse().ok()),
        ..Default::default()
    };
    if let Some(gender) = text_of(&ad["target_gender"]) {
        targeting
            .criteria_included
            .push(format!("gender: {gender}"));
    }
    if let Some(locations) = ad["target_locations"].as_array() {
        for location in locations {
            if let Some(name) = text_of(&location["name"]) {
                let excluded = location["excluded"].as_bool().unwrap_or(false);
                let list = if excluded {
                    &mut targeting.criteria_excluded
                } else {
                    &mut targeting.criteria_included
                };
                list.push(format!("location: {name}"));
            }
        }
    }
    if !ages.is_empty() {
        targeting
            .criteria_included
            .push(format!("age: {}", ages.join("–")));
    }
    targeting.used =
        !targeting.criteria_included.is_empty() || !targeting.criteria_excluded.is_empty();
    if targeting.used {
        targeting.personal_data_categories = ["age", "gender", "location"]
            .into_iter()
            .filter(|c| {
                targeting
                    .criteria_included
                    .iter()
                    .chain(&targeting.criteria_excluded)
                    .any(|t| t.starts_with(c))
            })
            .map(str::to_string)
            .collect();
    }
    targeting.people_reached = ad["eu_total_reach"]
        .as_u64()
        .or_else(|| text_of(&ad["eu_total_reach"]).and_then(|t| t.parse().ok()));
    let mut external_ids = BTreeMap::from([("meta".to_string(), id.clone())]);
    if let Some(snapshot) = text_of(&ad["ad_snapshot_url"]) {
        external_ids.insert("meta_snapshot".into(), without_token(&snapshot));
    }
    let platforms = strings(&ad["publisher_platforms"]);
    let content = AdContent {
        title: titles
            .first()
            .cloned()
            .unwrap_or_else(|| format!("Meta ad {id}")),
        sponsor: entity(sponsor_name),
        payer: current_payer
            .as_ref()
            .and_then(|p| text_of(&p["payer"]))
            .map(entity),
        beneficiary: current_payer
            .as_ref()
            .and_then(|p| text_of(&p["beneficiary"]))
            .map(entity),
        publisher: entity(match page {
            Some(page) if byline.is_some() => format!(
                "Meta ({}), page {page}",
                platforms.join(", ").to_lowercase()
            ),
            _ => format!("Meta ({})", platforms.join(", ").to_lowercase()),
        }),
        election: options.election.clone(),
        creative: super::domain::ad::Creative {
            text: bodies.join("\n\n"),
            language,
            media: Vec::new(),
        },
        countries: options.country.clone().into_iter().collect(),
        period_start,
        period_end,
        first_published_at: rfc3339_of(&start),
        spend_range,
        impressions: count(&ad["impressions"]),
        reach: ad["eu_total_reach"].as_u64(),
        targeting,
        delivery: super::domain::ad::Delivery {
            by_age: summed(demographics.iter().map(|(age, _, p)| (age.clone(), *p))),
            by_gender: summed(
                demographics
                    .iter()
                    .map(|(_, gender, p)| (gender.clone(), *p)),
            ),
            by_region: summed(regions.into_iter()),
        },
        external_ids,
        ..AdContent::default()
    };
    Ok((format!("meta:{id}"), content))
}

fn read_meta(bytes: &[u8], options: &ImportOptions) -> Result<Vec<ImportRow>, String> {
    let text = std::str::from_utf8(bytes).map_err(|_| "the file is not UTF-8".to_string())?;
    // A whole API response, an array of ads or one ad; else JSON Lines.
    let records: Vec<(u64, Result<Value, String>)> = match serde_json::from_str::<Value>(text) {
        Ok(Value::Array(items)) => items
            .into_iter()
            .enumerate()
            .map(|(i, v)| (i as u64 + 1, Ok(v)))
            .collect(),
        Ok(Value::Object(mut object)) => match object.remove("data") {
            Some(Value::Array(items)) => items
                .into_iter()
                .enumerate()
                .map(|(i, v)| (i as u64 + 1, Ok(v)))
                .collect(),
            _ => vec![(1, Ok(Value::Object(object)))],
        },
        Ok(_) => {
            return Err("expected the API's {\"data\": […]}, an array of ads or JSON Lines".into());
        }
        Err(e) if text.lines().filter(|l| !l.trim().is_empty()).count() <= 1 => {
            return Err(format!(
                "not valid JSON (line {}, column {}): {e}",
                e.line(),
                e.column()
            ));
        }
        Err(_) => text
            .lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty())
            .map(|(i, l)| {
                (
                    i as u64 + 1,
                    serde_json::from_str(l).map_err(|e| format!("not valid JSON: {e}")),
                )
            })
            .collect(),
    };
    Ok(records
        .into_iter()
        .map(|(line, record)| {
            let record = record.map_err(|m| error(line, m))?;
            meta_ad(&record, options)
                .map(|ad| imported(line, ad))
                .map_err(|m| error(line, m))
        })
        .collect())
}

// ---------- Google political-ads transparency bundle ----------

/// Google's impression buckets (`≤ 10k`, `10k-100k`, `> 10M`…).
pub fn impressions_bucket(text: &str) -> Option<CountRange> {
    let number = |t: &str| -> Option<u64> {
        let t = t.trim();
        let (digits, scale) = if let Some(d) = t.strip_suffix(['k', 'K']) {
            (d, 1_000)
        } else if let Some(d) = t.strip_suffix('M') {
            (d, 1_000_000)
        } else {
            (t, 1)
        };
        digits.trim().parse::<u64>().ok().map(|n| n * scale)
    };
    let text = text.trim();
    if let Some(upper) = text.strip_prefix('≤').or_else(|| text.strip_prefix("<=")) {
        return Some(CountRange {
            lower: 0,
            upper: Some(number(upper)?),
        });
    }
    if let Some(lower) = text.strip_prefix('>') {
        return Some(CountRange {
            lower: number(lower)?,
            upper: None,
        });
    }
    let (lower, upper) = text.split_once(['-', '–'])?;
    Some(CountRange {
        lower: number(lower)?,
        upper: Some(number(upper)?),
    })
}

/// The line a CSV record starts on, from the reader's byte offsets (its own
/// line count skips the line breaks inside quoted cells). Offsets are asked
/// in increasing order, so counting is linear.
struct LineCounter<'a> {
    bytes: &'a [u8],
    counted_to: usize,
    breaks: u64,
}

impl<'a> LineCounter<'a> {
    fn new(bytes: &'a [u8]) -> LineCounter<'a> {
        LineCounter {
            bytes,
            counted_to: 0,
            breaks: 0,
        }
    }

    fn line(&mut self, offset: u64) -> u64 {
        let mut offset = usize::try_from(offset)
            .unwrap_or(usize::MAX)
            .min(self.bytes.len());
        // The reader's offset may stop on the line break before a record.
        if self.bytes.get(offset) == Some(&b'\n') {
            offset += 1;
        }
        if offset > self.counted_to {
            self.breaks += self.bytes[self.counted_to..offset]
                .iter()
                .filter(|b| **b == b'\n')
                .count() as u64;
            self.counted_to = offset;
        }
        self.breaks + 1
    }
}

fn read_google(bytes: &[u8], options: &ImportOptions) -> Result<Vec<ImportRow>, String> {
    let currency = options.currency.clone().unwrap_or_else(|| "EUR".into());
    let currency = Currency::parse(&currency)
        .ok_or_else(|| format!("currency {currency:?} is not ISO 4217"))?;
    let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(bytes);
    let headers = reader
        .headers()
        .map_err(|e| format!("the CSV header does not read: {e}"))?
        .clone();
    let column = |name: &str| headers.iter().position(|h| h.trim() == name);
    let required = [
        "Ad_ID",
        "Advertiser_Name",
        "Date_Range_Start",
        "Date_Range_End",
    ];
    let missing: Vec<&str> = required
        .iter()
        .copied()
        .filter(|n| column(n).is_none())
        .collect();
    if !missing.is_empty() {
        return Err(format!(
            "not a creative-stats file: it has no {} column (it has {})",
            missing.join(", "),
            headers.iter().collect::<Vec<_>>().join(", ")
        ));
    }
    let (min_column, max_column) = (
        column(&format!("Spend_Range_Min_{currency}")),
        column(&format!("Spend_Range_Max_{currency}")),
    );
    if min_column.is_none() {
        return Err(format!(
            "the file has no Spend_Range_Min_{currency} column: choose another currency"
        ));
    }
    let mut rows = Vec::new();
    let mut lines = LineCounter::new(bytes);
    for record in reader.records() {
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map_or(0, |p| lines.line(p.byte()));
                rows.push(Err(error(line, format!("the row does not read: {e}"))));
                continue;
            }
        };
        let line = record.position().map_or(0, |p| lines.line(p.byte()));
        let get = |name: &str| {
            column(name)
                .and_then(|c| record.get(c))
                .map(str::trim)
                .filter(|v| !v.is_empty())
        };
        let row = (|| -> Result<(String, AdContent), String> {
            let id = get("Ad_ID").ok_or("no Ad_ID")?;
            let bound = |c: Option<usize>| -> Result<Option<i64>, String> {
                c.and_then(|c| record.get(c))
                    .map(str::trim)
                    .filter(|v| !v.is_empty())
                    .map(|v| parse_minor(v, &currency).map_err(|e| format!("spend range: {e}")))
                    .transpose()
            };
            let spend_range = Some(MoneyRange {
                lower_minor: bound(min_column)?.unwrap_or(0),
                upper_minor: bound(max_column)?,
                currency: currency.clone(),
            });
            let start = get("Date_Range_Start")
                .and_then(date_of)
                .ok_or("Date_Range_Start is not a date")?;
            let end = get("Date_Range_End")
                .and_then(date_of)
                .ok_or("Date_Range_End is not a date")?;
            let regions: Vec<String> = get("Regions")
                .map(|r| {
                    r.split(',')
                        .map(|c| c.trim().to_string())
                        .filter(|c| c.len() == 2 && c != "EU")
                        .collect()
                })
                .unwrap_or_default();
            let countries = if regions.is_empty() {
                options.country.clone().into_iter().collect()
            } else {
                regions
            };
            let mut targeting = super::domain::ad::Targeting::default();
            for (name, label) in [
                ("Age_Targeting", "age"),
                ("Gender_Targeting", "gender"),
                ("Geo_Targeting_Included", "location"),
            ] {
                if let Some(value) = get(name).filter(|v| !v.eq_ignore_ascii_case("Not targeted")) {
                    targeting
                        .criteria_included
                        .push(format!("{label}: {value}"));
                    targeting.personal_data_categories.push(label.into());
                }
            }
            if let Some(value) =
                get("Geo_Targeting_Excluded").filter(|v| !v.eq_ignore_ascii_case("Not targeted"))
            {
                targeting
                    .criteria_excluded
                    .push(format!("location: {value}"));
                if !targeting
                    .personal_data_categories
                    .iter()
                    .any(|c| c == "location")
                {
                    targeting.personal_data_categories.push("location".into());
                }
            }
            targeting.used =
                !targeting.criteria_included.is_empty() || !targeting.criteria_excluded.is_empty();
            let advertiser = get("Advertiser_Name").ok_or("no Advertiser_Name")?;
            let mut external_ids = BTreeMap::from([("google".to_string(), id.to_string())]);
            if let Some(advertiser_id) = get("Advertiser_ID") {
                external_ids.insert("google_advertiser".into(), advertiser_id.to_string());
            }
            if let Some(url) = get("Ad_URL") {
                external_ids.insert("google_url".into(), url.to_string());
            }
            let content = AdContent {
                title: format!(
                    "{} ad {id}",
                    get("Ad_Type").unwrap_or("Google").to_lowercase()
                ),
                sponsor: Entity {
                    name: advertiser.to_string(),
                    ..Entity::default()
                },
                publisher: Entity {
                    name: "Google".into(),
                    ..Entity::default()
                },
                election: options.election.clone(),
                creative: super::domain::ad::Creative {
                    text: format!(
                        "{} ad {id} (the creative is at Google's transparency report)",
                        get("Ad_Type").unwrap_or("An")
                    ),
                    language: options
                        .language
                        .clone()
                        .ok_or("the bundle gives no language: give one for the import")?,
                    media: Vec::new(),
                },
                countries,
                period_start: start,
                period_end: end,
                first_published_at: get("First_Served_Timestamp").and_then(rfc3339_of),
                spend_range,
                impressions: get("Impressions").and_then(impressions_bucket),
                targeting,
                external_ids,
                ..AdContent::default()
            };
            Ok((format!("google:{id}"), content))
        })();
        rows.push(row.map(|ad| imported(line, ad)).map_err(|m| error(line, m)));
    }
    Ok(rows)
}

// ---------- generic JSON Lines ----------

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct GenericLine {
    /// The ad's id in the source, unique within it.
    source_id: String,
    ad: AdContent,
}

fn read_jsonl(bytes: &[u8]) -> Vec<ImportRow> {
    String::from_utf8_lossy(bytes)
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| {
            let line = i as u64 + 1;
            let parsed: GenericLine =
                serde_json::from_str(l).map_err(|e| error(line, format!("not an ad line: {e}")))?;
            if parsed.source_id.trim().is_empty() || parsed.source_id.len() > 200 {
                return Err(error(line, "source_id: 1 to 200 characters"));
            }
            Ok(imported(
                line,
                (format!("jsonl:{}", parsed.source_id), parsed.ad),
            ))
        })
        .collect()
}

// ---------- generic CSV ----------

/// Columns of the generic CSV beside the flat form's fields: the row's id
/// in the source, and a range of spend (as platforms publish) when there is
/// no exact amount.
const CSV_EXTRA_COLUMNS: [&str; 4] = [
    "source_id",
    "spend_range.currency",
    "spend_range.lower",
    "spend_range.upper",
];

fn read_csv(bytes: &[u8], options: &ImportOptions) -> Result<Vec<ImportRow>, String> {
    use super::domain::flat;
    let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(bytes);
    let headers: Vec<String> = reader
        .headers()
        .map_err(|e| format!("the CSV header does not read: {e}"))?
        .iter()
        .map(|h| h.trim().to_string())
        .collect();
    // A column the format does not know is a wrong mapping, not a bad row.
    let unknown: Vec<&str> = headers
        .iter()
        .map(String::as_str)
        .filter(|h| !CSV_EXTRA_COLUMNS.contains(h) && !flat::fields().any(|f| f.name == *h))
        .collect();
    if !unknown.is_empty() {
        return Err(format!(
            "unknown column{} {} (the columns are source_id, spend_range.currency, spend_range.lower, spend_range.upper and the fields of the filing form: {})",
            if unknown.len() == 1 { "" } else { "s" },
            unknown.join(", "),
            flat::fields()
                .map(|f| f.name)
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    if !headers.iter().any(|h| h == "source_id") {
        return Err("the CSV has no source_id column (each row's id in its source)".into());
    }
    let mut rows = Vec::new();
    let mut record = csv::StringRecord::new();
    let mut lines = LineCounter::new(bytes);
    loop {
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                let line = e.position().map_or(0, |p| lines.line(p.byte()));
                rows.push(Err(error(line, format!("the row does not read: {e}"))));
                // A broken quote may swallow the rest: stop rather than guess.
                if !matches!(e.kind(), csv::ErrorKind::UnequalLengths { .. }) {
                    break;
                }
                continue;
            }
        }
        // The line the record starts on (a quoted cell may hold line breaks).
        let line = record.position().map_or(0, |p| lines.line(p.byte()));
        let mut values: std::collections::HashMap<String, String> = headers
            .iter()
            .cloned()
            .zip(record.iter().map(|v| v.trim().to_string()))
            .filter(|(_, v)| !v.is_empty())
            .collect();
        let row = (|| -> Result<(String, AdContent), String> {
            let id = values.remove("source_id").ok_or("no source_id")?;
            if id.len() > 200 {
                return Err("source_id: at most 200 characters".into());
            }
            let range = (
                values.remove("spend_range.currency"),
                values.remove("spend_range.lower"),
                values.remove("spend_range.upper"),
            );
            if let Some(country) = &options.country {
                values
                    .entry("countries".into())
                    .or_insert_with(|| country.clone());
            }
            if let Some(language) = &options.language {
                values
                    .entry("creative.language".into())
                    .or_insert_with(|| language.clone());
            }
            if let Some(election) = &options.election {
                values.insert("election".into(), election.clone());
            }
            let mut content = flat::read(&values, &AdContent::default()).map_err(|errors| {
                errors
                    .iter()
                    .map(|e| format!("{}: {}", e.field, e.message))
                    .collect::<Vec<_>>()
                    .join("; ")
            })?;
            if let (currency, Some(lower), upper) = range {
                let currency = currency
                    .or_else(|| options.currency.clone())
                    .ok_or("spend_range.currency: which currency the range is in")?;
                let currency = Currency::parse(&currency)
                    .ok_or_else(|| format!("spend_range.currency: {currency:?} is not ISO 4217"))?;
                let bound =
                    |v: &str| parse_minor(v, &currency).map_err(|e| format!("spend_range: {e}"));
                content.spend_range = Some(MoneyRange {
                    lower_minor: bound(&lower)?,
                    upper_minor: upper.as_deref().map(bound).transpose()?,
                    currency,
                });
            }
            content.external_ids.insert("csv".into(), id.clone());
            Ok((format!("csv:{id}"), content))
        })();
        rows.push(row.map(|r| imported(line, r)).map_err(|m| error(line, m)));
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn options() -> ImportOptions {
        ImportOptions {
            country: Some("EE".into()),
            language: None,
            currency: Some("EUR".into()),
            election: None,
            today: "2029-05-25".into(),
        }
    }

    fn ok(rows: &[ImportRow]) -> Vec<&ImportedAd> {
        rows.iter().filter_map(|r| r.as_ref().ok()).collect()
    }

    #[test]
    fn meta_current_and_older_field_names_read_and_the_token_is_dropped() {
        let bytes = include_bytes!("../../tests/fixtures/ads/meta-ads-archive.json");
        let rows = read(Format::Meta, bytes, &options()).unwrap();
        assert_eq!(rows.len(), 3);
        let ads = ok(&rows);
        let (first, second) = (&ads[0].content, &ads[1].content);
        assert_eq!(ads[0].key, "meta:900000000000001");
        assert_eq!(first.sponsor.name, "Roheline Tulevik MTÜ");
        assert_eq!(
            first.payer.as_ref().unwrap().name,
            "Roheline Tulevik MTÜ",
            "the current payer"
        );
        assert_eq!(
            first.creative.text, "Puhtad jõed, puhas tulevik. Hääleta 7. juunil.",
            "repeated bodies once"
        );
        assert_eq!(
            (first.period_start.as_str(), first.period_end.as_str()),
            ("2029-05-02", "2029-05-20")
        );
        assert_eq!(
            first.first_published_at.as_deref(),
            Some("2029-05-02T07:00:00Z")
        );
        let range = first.spend_range.as_ref().unwrap();
        assert_eq!(
            (range.lower_minor, range.upper_minor),
            (10_000, Some(19_900))
        );
        assert_eq!(
            first.impressions,
            Some(CountRange {
                lower: 5000,
                upper: Some(5999)
            })
        );
        let ages: Vec<(&str, &str)> = first
            .delivery
            .by_age
            .iter()
            .map(|s| (s.key.as_str(), s.share.as_str()))
            .collect();
        assert_eq!(
            ages,
            [("18-24", "0.3"), ("25-34", "0.7")],
            "shares summed exactly"
        );
        let genders: Vec<(&str, &str)> = first
            .delivery
            .by_gender
            .iter()
            .map(|s| (s.key.as_str(), s.share.as_str()))
            .collect();
        assert_eq!(
            genders,
            [
                ("female", "0.509091"),
                ("male", "0.440909"),
                ("unknown", "0.05")
            ]
        );
        assert_eq!(first.targeting.minimum_age, Some(18));
        assert!(
            first
                .targeting
                .criteria_excluded
                .contains(&"location: Narva".to_string())
        );
        assert_eq!(
            first.external_ids["meta_snapshot"],
            "https://www.facebook.com/ads/archive/render_ad/?id=900000000000001"
        );
        let stored: Vec<&AdContent> = ads.iter().map(|a| &a.content).collect();
        assert!(
            !serde_json::to_string(&stored)
                .unwrap()
                .contains("access_token")
        );
        assert!(
            !format!("{:?}", rows).contains("EAAsecret"),
            "the token is nowhere"
        );
        // Older names: funding_entity, ad_creative_body, region_distribution;
        // an open top bucket; still running (period up to today).
        assert_eq!(second.sponsor.name, "Eesti Edasi Erakond");
        assert_eq!(second.creative.text, "Edasi koos! Ainult sinu hääl loeb.");
        assert_eq!(second.delivery.by_region[0].key, "Ida-Viru");
        assert_eq!(second.delivery.by_region[0].share, "1.0");
        assert_eq!(second.spend_range.as_ref().unwrap().upper_minor, None);
        assert_eq!(
            second.impressions,
            Some(CountRange {
                lower: 1_000_000,
                upper: None
            })
        );
        assert_eq!(second.period_end, "2029-05-25");
        // The third has no delivery start: named by its record number.
        assert_eq!(
            rows[2].as_ref().unwrap_err(),
            &RowError {
                line: 3,
                message: "no ad_delivery_start_time".into()
            }
        );
    }

    #[test]
    fn meta_json_lines_and_broken_json() {
        let lines = "{\"id\": \"1\", \"page_name\": \"P\", \"languages\": [\"et\"], \"ad_delivery_start_time\": \"2029-05-01\"}\n\nnot json\n";
        let rows = read(Format::Meta, lines.as_bytes(), &options()).unwrap();
        assert_eq!(rows.len(), 2);
        assert!(rows[0].is_ok());
        assert_eq!(rows[1].as_ref().unwrap_err().line, 3);
        let broken = read(Format::Meta, b"{\"data\": [", &options()).unwrap_err();
        assert!(broken.starts_with("not valid JSON (line 1"), "{broken}");
    }

    #[test]
    fn google_bundle_reads_by_header_name() {
        let bytes = include_bytes!("../../tests/fixtures/ads/google-creative-stats.csv");
        let mut with_language = options();
        with_language.language = Some("pt".into());
        with_language.country = Some("PT".into());
        let rows = read(Format::Google, bytes, &with_language).unwrap();
        let ads = ok(&rows);
        assert_eq!(ads.len(), 2);
        assert_eq!(ads[0].key, "google:CR100000000000000001");
        assert_eq!(
            ads[0].content.countries,
            ["PT"],
            "EU rows take the given country"
        );
        let range = ads[0].content.spend_range.as_ref().unwrap();
        assert_eq!(
            (
                range.currency.as_str(),
                range.lower_minor,
                range.upper_minor
            ),
            ("EUR", 0, Some(9_000))
        );
        assert_eq!(
            ads[0].content.impressions,
            Some(CountRange {
                lower: 0,
                upper: Some(10_000)
            })
        );
        assert_eq!(
            ads[0].content.first_published_at.as_deref(),
            Some("2029-05-01T08:00:00Z")
        );
        assert_eq!(
            ads[1].content.impressions,
            Some(CountRange {
                lower: 10_000_000,
                upper: None
            })
        );
        assert_eq!(
            ads[1].content.spend_range.as_ref().unwrap().upper_minor,
            None,
            "empty maximum: the top bucket"
        );
        assert_eq!(
            ads[1].content.targeting.criteria_excluded,
            ["location: Madeira,Portugal"]
        );
        assert_eq!(
            rows[2].as_ref().unwrap_err(),
            &RowError {
                line: 4,
                message: "Date_Range_Start is not a date".into()
            }
        );
        // Another currency's columns, and a currency the file lacks.
        with_language.currency = Some("HRK".into());
        let rows = read(Format::Google, bytes, &with_language).unwrap();
        assert_eq!(
            ok(&rows)[0]
                .content
                .spend_range
                .as_ref()
                .unwrap()
                .upper_minor,
            Some(70_000)
        );
        with_language.currency = Some("SEK".into());
        assert!(
            read(Format::Google, bytes, &with_language)
                .unwrap_err()
                .contains("no Spend_Range_Min_SEK column")
        );
        // Without a language the rows are refused, each with its line.
        let rows = read(Format::Google, bytes, &options()).unwrap();
        assert!(rows.iter().all(|r| r.is_err()));
        assert!(
            read(Format::Google, b"a,b\n1,2\n", &options())
                .unwrap_err()
                .starts_with("not a creative-stats file")
        );
    }

    #[test]
    fn impression_buckets() {
        assert_eq!(
            impressions_bucket("≤ 10k"),
            Some(CountRange {
                lower: 0,
                upper: Some(10_000)
            })
        );
        assert_eq!(
            impressions_bucket("10k–100k"),
            Some(CountRange {
                lower: 10_000,
                upper: Some(100_000)
            })
        );
        assert_eq!(
            impressions_bucket("100k-1M"),
            Some(CountRange {
                lower: 100_000,
                upper: Some(1_000_000)
            })
        );
        assert_eq!(
            impressions_bucket("> 10M"),
            Some(CountRange {
                lower: 10_000_000,
                upper: None
            })
        );
        assert_eq!(impressions_bucket("lots"), None);
    }

    #[test]
    fn generic_lines_name_their_faults() {
        let rows = read(
            Format::Jsonl,
            include_bytes!("../../tests/fixtures/ads/generic.jsonl"),
            &options(),
        )
        .unwrap();
        assert_eq!(rows.len(), 4);
        assert_eq!(
            ok(&rows).len(),
            3,
            "the fourth reads; its content is checked when stored"
        );
        assert_eq!(rows[2].as_ref().unwrap_err().line, 3);
        assert_eq!(ok(&rows)[0].key, "jsonl:print-2029-001");
    }

    #[test]
    fn generic_csv_reads_the_flat_form_by_column_name() {
        let mut options = options();
        options.currency = None;
        let rows = read(
            Format::Csv,
            include_bytes!("../../tests/fixtures/ads/generic.csv"),
            &options,
        )
        .unwrap();
        assert_eq!(rows.len(), 4);
        let good = ok(&rows);
        assert_eq!(good.len(), 2);
        assert_eq!(good[0].key, "csv:radio-2029-101");
        let radio = &good[0].content;
        assert_eq!(radio.spend.as_ref().unwrap().amount, "1800.50");
        assert_eq!(
            radio.targeting.personal_data_categories,
            ["location", "age"]
        );
        assert_eq!(
            radio.delivery.by_region[1].key, "Tartu",
            "a cell over two lines"
        );
        let billboard = &good[1].content;
        assert_eq!(billboard.countries, ["EE", "LV"]);
        let range = billboard.spend_range.as_ref().unwrap();
        assert_eq!(
            (range.lower_minor, range.upper_minor),
            (100_000, Some(499_999))
        );
        // Bad rows are named by the line they start on; the others are kept.
        let bad: Vec<(u64, &str)> = rows
            .iter()
            .filter_map(|r| r.as_ref().err())
            .map(|e| (e.line, e.message.as_str()))
            .collect();
        assert_eq!(bad[0].0, 5, "{bad:?}");
        assert!(bad[0].1.contains("spend.origin"), "{bad:?}");
        assert_eq!(bad[1].0, 6);
        assert!(bad[1].1.contains("spend_range.currency"), "{bad:?}");
    }

    #[test]
    fn a_generic_csv_with_a_wrong_column_is_refused_whole() {
        let error = read(
            Format::Csv,
            b"source_id,title,sponsor\r\nx,Title,Someone\r\n",
            &options(),
        )
        .unwrap_err();
        assert!(error.contains("unknown column sponsor"), "{error}");
        let error = read(Format::Csv, b"title\r\nT\r\n", &options()).unwrap_err();
        assert!(error.contains("no source_id"), "{error}");
    }
}
