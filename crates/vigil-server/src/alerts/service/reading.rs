//! Reading for people: the reports a user may see (alerts, information
//! items, released derivatives, reports shared over TAXII), one report with
//! its related objects and versions, full-text search, and the figures of
//! the dashboard. Everything starts from the caller's rights and the TLP rule.
use super::*;
use crate::alerts::domain::{FieldChange, describe_object, describe_relationship, report_changes};
use crate::core::ids::AlertId;
use std::collections::HashMap;

/// A collection the caller may read, with what they see in it.
pub struct Readable {
    pub community: Community,
    pub collection: Collection,
    pub access: Access,
    pub viewer: Viewer,
}

/// Every collection the caller may read, community by community (the
/// caller's rights and each community's collections read once).
pub async fn readable_collections(
    db: &Db,
    principal: &Principal,
) -> Result<Vec<Readable>, ApiError> {
    let rights = rights(db, principal).await?;
    let mut readable = Vec::new();
    for community in store::communities(db.pool()).await? {
        if community.status != ActiveStatus::Active {
            continue;
        }
        let collections = store::collections_of(db.pool(), &community.id).await?;
        if !rights.sees_community(&community.id, &collections) {
            continue;
        }
        for collection in collections {
            let access = rights.access(&collection, principal);
            let Ok(viewer) = viewer(principal, &access) else {
                continue;
            };
            readable.push(Readable {
                community: community.clone(),
                collection,
                access,
                viewer,
            });
        }
    }
    Ok(readable)
}

/// Every object of a collection the viewer may see under the filter, all pages.
async fn all_visible(
    db: &Db,
    readable: &Readable,
    filter: &ObjectFilter,
) -> Result<Vec<StoredObject>, ApiError> {
    let mut objects = Vec::new();
    let mut after: Option<Cursor> = None;
    loop {
        let page = store::visible_objects(
            db.pool(),
            &readable.collection.id,
            &readable.viewer,
            filter,
            after.as_ref(),
            MAX_PAGE,
        )
        .await?;
        let more = page.len() as u64 > MAX_PAGE;
        objects.extend(page.into_iter().take(MAX_PAGE as usize));
        match objects.last() {
            Some(last) if more => {
                after = Some(Cursor {
                    date_added: last.date_added.clone(),
                    row: last.row.as_str().to_string(),
                    filters: String::new(),
                });
            }
            _ => return Ok(objects),
        }
    }
}

/// A DISARM technique named by an alert.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct TechniqueRef {
    pub id: String,
    pub name: String,
}

/// A report as the feed, the search and the dashboard show it.
#[derive(Clone, Debug)]
pub struct ReportSummary {
    pub report_id: String,
    pub name: String,
    pub description: String,
    /// Alerts carry a level; a report without one counts as information.
    pub level: AlertLevel,
    pub tlp: Tlp,
    pub originator: String,
    pub originator_identity: String,
    pub community: CommunityId,
    pub community_title: String,
    pub collection: CollectionId,
    pub collection_title: String,
    pub published: String,
    pub modified: String,
    pub revoked: bool,
    pub techniques: Vec<TechniqueRef>,
    pub countries: Vec<String>,
    /// STIX identities of the organisations that acknowledged it.
    pub acknowledged_by: Vec<String>,
    /// The report this one was released from (a sanitised derivative).
    pub derived_from: Option<String>,
    /// Targeted elections and the platforms or channels concerned.
    pub elections: Vec<String>,
    pub platforms: Vec<String>,
}

impl ReportSummary {
    /// `YYYY-MM-DD HH:MM` of publication, for people.
    pub fn published_short(&self) -> String {
        short_time(&self.published)
    }
}

/// `2029-04-03T08:00:00.000Z` → `2029-04-03 08:00 UTC`.
pub fn short_time(stix: &str) -> String {
    match (stix.get(..10), stix.get(11..16)) {
        (Some(date), Some(time)) => format!("{date} {time} UTC"),
        _ => stix.to_string(),
    }
}

fn json_of(object: &StoredObject) -> Value {
    serde_json::from_str(&object.object).unwrap_or_default()
}

fn text(value: &Value, property: &str) -> String {
    value
        .get(property)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

/// A list property of Vigil's alert extension.
pub fn extension_list(report: &Value, name: &str) -> Vec<String> {
    report
        .pointer(&format!("/extensions/{ALERT_EXTENSION}/{name}"))
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(str::to_string)
        .collect()
}

fn refs_of(report: &Value) -> Vec<String> {
    report
        .get("object_refs")
        .and_then(Value::as_array)
        .map(|refs| {
            refs.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

/// Names of organisations by STIX identity, read once each.
#[derive(Default)]
struct Names(HashMap<String, String>);

impl Names {
    async fn of(&mut self, db: &Db, identity: &str) -> Result<String, ApiError> {
        if let Some(name) = self.0.get(identity) {
            return Ok(name.clone());
        }
        let name = match store::organisation_by_identity(db.pool(), identity).await? {
            Some(id) => accounts_store::organisation(db.pool(), id.as_str())
                .await?
                .map(|o| o.name),
            None => None,
        }
        .unwrap_or_else(|| {
            if identity.is_empty() {
                "unknown".into()
            } else {
                identity.to_string()
            }
        });
        self.0.insert(identity.to_string(), name.clone());
        Ok(name)
    }
}

/// The report with what its referenced objects tell: techniques, countries,
/// acknowledgements and where it was released from.
async fn summarise(
    db: &Db,
    readable: &Readable,
    stored: &StoredObject,
    names: &mut Names,
) -> Result<(ReportSummary, Vec<StoredObject>), ApiError> {
    let report = json_of(stored);
    let refs = refs_of(&report);
    let related = if refs.is_empty() {
        Vec::new()
    } else {
        all_visible(
            db,
            readable,
            &ObjectFilter {
                ids: refs.clone(),
                ..ObjectFilter::default()
            },
        )
        .await?
    };
    let catalogue = disarm();
    let mut techniques: Vec<TechniqueRef> = Vec::new();
    let mut countries: Vec<String> = Vec::new();
    let mut derived_from = None;
    let mut add_technique = |stix_id: &str| {
        if let Some(t) = catalogue.technique_by_stix_id(stix_id)
            && !techniques.iter().any(|known| known.id == t.id)
        {
            techniques.push(TechniqueRef {
                id: t.id.clone(),
                name: t.name.clone(),
            });
        }
    };
    for id in refs.iter().filter(|r| r.starts_with("attack-pattern--")) {
        add_technique(id);
    }
    for object in &related {
        let value = json_of(object);
        match object.stix_type.as_str() {
            "relationship" => {
                let target = text(&value, "target_ref");
                if target.starts_with("attack-pattern--") {
                    add_technique(&target);
                }
                if text(&value, "relationship_type") == "derived-from"
                    && text(&value, "source_ref") == stored.stix_id
                {
                    derived_from = Some(target);
                }
            }
            "location" => {
                let country = text(&value, "country").to_ascii_uppercase();
                if !country.is_empty() && !countries.contains(&country) {
                    countries.push(country);
                }
            }
            _ => {}
        }
    }
    techniques.sort_by(|a, b| a.id.cmp(&b.id));
    countries.sort();
    let mut acknowledged_by: Vec<String> = Vec::new();
    for sighting in store::objects_mentioning(
        db.pool(),
        &readable.collection.id,
        "sighting",
        &stored.stix_id,
    )
    .await?
    {
        let value = json_of(&sighting);
        let by = text(&value, "created_by_ref");
        if text(&value, "sighting_of_ref") == stored.stix_id && !acknowledged_by.contains(&by) {
            acknowledged_by.push(by);
        }
    }
    let identity = text(&report, "created_by_ref");
    let level = report
        .pointer(&format!("/extensions/{ALERT_EXTENSION}/alert_level"))
        .and_then(Value::as_str)
        .and_then(AlertLevel::parse)
        .unwrap_or(AlertLevel::Information);
    let published = Some(text(&report, "published"))
        .filter(|p| !p.is_empty())
        .unwrap_or_else(|| text(&report, "created"));
    let summary = ReportSummary {
        report_id: stored.stix_id.clone(),
        name: text(&report, "name"),
        description: text(&report, "description"),
        level,
        tlp: stored.tlp,
        originator: names.of(db, &identity).await?,
        originator_identity: identity,
        community: readable.community.id.clone(),
        community_title: readable.community.title.clone(),
        collection: readable.collection.id.clone(),
        collection_title: readable.collection.title.clone(),
        published,
        modified: stored.taxii_version().to_string(),
        revoked: report.get("revoked").and_then(Value::as_bool) == Some(true),
        techniques,
        countries,
        acknowledged_by,
        derived_from,
        elections: extension_list(&report, "elections"),
        platforms: extension_list(&report, "platforms"),
    };
    Ok((summary, related))
}

/// Every report in these collections (its latest version), newest first.
pub async fn reports(db: &Db, readable: &[Readable]) -> Result<Vec<ReportSummary>, ApiError> {
    let mut names = Names::default();
    let mut summaries = Vec::new();
    for readable in readable {
        let filter = ObjectFilter {
            types: vec!["report".into()],
            ..ObjectFilter::default()
        };
        for stored in all_visible(db, readable, &filter).await? {
            if stored.deleted {
                continue;
            }
            summaries.push(summarise(db, readable, &stored, &mut names).await?.0);
        }
    }
    summaries.sort_by(|a, b| b.modified.cmp(&a.modified));
    Ok(summaries)
}

/// The feed's filters; empty ones select everything.
#[derive(Clone, Debug, Default, serde::Deserialize)]
pub struct FeedFilter {
    #[serde(default)]
    pub community: String,
    #[serde(default)]
    pub collection: String,
    #[serde(default)]
    pub level: String,
    #[serde(default)]
    pub tlp: String,
    #[serde(default)]
    pub country: String,
    #[serde(default)]
    pub technique: String,
    /// `YYYY-MM-DD`: published on or after.
    #[serde(default)]
    pub since: String,
    /// `YYYY-MM-DD`: published on or before.
    #[serde(default)]
    pub until: String,
    /// Words that must all appear in the title or the summary.
    #[serde(default)]
    pub q: String,
}

impl FeedFilter {
    pub fn matches(&self, report: &ReportSummary) -> bool {
        let is = |wanted: &str, actual: &str| wanted.is_empty() || wanted == actual;
        let day = report.published.get(..10).unwrap_or_default();
        let words = self.q.to_lowercase();
        let haystack = format!("{} {}", report.name, report.description).to_lowercase();
        is(&self.community, report.community.as_str())
            && is(&self.collection, report.collection.as_str())
            && is(&self.level, report.level.as_str())
            && is(&self.tlp, report.tlp.key())
            && (self.country.is_empty()
                || report
                    .countries
                    .iter()
                    .any(|c| c.eq_ignore_ascii_case(self.country.trim())))
            && (self.technique.is_empty()
                || report
                    .techniques
                    .iter()
                    .any(|t| t.id.eq_ignore_ascii_case(self.technique.trim())))
            && (self.since.is_empty() || day >= self.since.as_str())
            && (self.until.is_empty() || day <= self.until.as_str())
            && words.split_whitespace().all(|w| haystack.contains(w))
    }

    pub fn is_empty(&self) -> bool {
        [
            &self.community,
            &self.collection,
            &self.level,
            &self.tlp,
            &self.country,
            &self.technique,
            &self.since,
            &self.until,
            &self.q,
        ]
        .iter()
        .all(|v| v.is_empty())
    }
}

/// One object referenced by a report, for people.
#[derive(Clone, Debug)]
pub struct RelatedObject {
    pub id: String,
    pub kind: String,
    pub label: String,
    pub tlp: Tlp,
}

/// One version of a report with what changed since the one before.
#[derive(Clone, Debug, serde::Serialize)]
pub struct ReportVersion {
    pub version: String,
    pub date_added: String,
    pub leaf_index: Option<u64>,
    pub inclusion_proof: String,
    pub changes: Vec<FieldChange>,
}

/// A report with everything its detail page shows.
pub struct ReportView {
    pub summary: ReportSummary,
    pub related: Vec<RelatedObject>,
    /// Oldest first.
    pub versions: Vec<ReportVersion>,
    /// The alert behind the report, when the caller's organisation raised it.
    pub own_alert: Option<Alert>,
    /// Who received it and how they reacted (originator only).
    pub receipts: Vec<Receipt>,
    /// The alert id the caller may acknowledge or give an opinion on.
    pub alert_id: Option<AlertId>,
    /// When the caller's organisation acknowledged it.
    pub acknowledged_at: Option<String>,
    pub my_opinion: Option<String>,
    /// Opinions of organisations, newest first: (organisation, opinion, explanation).
    pub opinions: Vec<(String, String, String)>,
}

/// The report `report_id` as the caller may see it.
pub async fn report_view(
    db: &Db,
    ledger: &crate::core::ledger::Ledger,
    principal: &Principal,
    report_id: &str,
) -> Result<ReportView, ApiError> {
    let filter = ObjectFilter {
        ids: vec![report_id.to_string()],
        types: vec!["report".into()],
        versions: crate::alerts::domain::VersionFilter::All,
        ..ObjectFilter::default()
    };
    for readable in readable_collections(db, principal).await? {
        let versions = all_visible(db, &readable, &filter).await?;
        let Some(latest) = versions.last() else {
            continue;
        };
        let mut names = Names::default();
        let (summary, related_stored) = summarise(db, &readable, latest, &mut names).await?;
        // Labels first (techniques and objects), then relationships named by them.
        let mut labels: HashMap<String, String> = HashMap::new();
        for technique in &summary.techniques {
            if let Some(t) = disarm().technique(&technique.id) {
                labels.insert(t.stix_id.clone(), format!("{} {}", t.id, t.name));
            }
        }
        let values: Vec<Value> = related_stored.iter().map(json_of).collect();
        for (object, value) in related_stored.iter().zip(&values) {
            if object.stix_type != "relationship" {
                labels.insert(object.stix_id.clone(), describe_object(value, disarm()));
            }
        }
        let related: Vec<RelatedObject> = related_stored
            .iter()
            .zip(&values)
            .map(|(object, value)| RelatedObject {
                id: object.stix_id.clone(),
                kind: object.stix_type.clone(),
                label: if object.stix_type == "relationship" {
                    describe_relationship(value, &labels)
                } else {
                    labels.get(&object.stix_id).cloned().unwrap_or_default()
                },
                tlp: object.tlp,
            })
            .collect();
        let mut history = Vec::with_capacity(versions.len());
        let mut previous: Option<Value> = None;
        for version in &versions {
            let value = json_of(version);
            let changes = match &previous {
                Some(before) => report_changes(before, &value, &labels),
                None => Vec::new(),
            };
            let leaf_index = ledger
                .find_leaf("stix_object", version.row.as_str(), Some(1))
                .await
                .map_err(|e| ApiError::Internal(e.into()))?;
            history.push(ReportVersion {
                version: version.taxii_version().to_string(),
                date_added: version.date_added.clone(),
                leaf_index,
                inclusion_proof: format!(
                    "/api/log/proof/inclusion?kind=stix_object&id={}&version=1",
                    version.row.as_str()
                ),
                changes,
            });
            previous = Some(value);
        }
        let alert = store::alert_by_report(db.pool(), report_id).await?;
        let own_alert = alert
            .clone()
            .filter(|a| a.originator == principal.organisation.id);
        let receipts = match &own_alert {
            Some(a) => receipts(db, principal, a.id.as_str()).await?,
            None => Vec::new(),
        };
        let mine = &principal.organisation.stix_identity;
        let acknowledged_at =
            store::objects_mentioning(db.pool(), &readable.collection.id, "sighting", report_id)
                .await?
                .into_iter()
                .find(|s| {
                    let value = json_of(s);
                    text(&value, "created_by_ref") == *mine
                        && text(&value, "sighting_of_ref") == report_id
                })
                .map(|s| s.date_added);
        let mut opinions = Vec::new();
        let mut my_opinion = None;
        for stored in
            store::objects_mentioning(db.pool(), &readable.collection.id, "opinion", report_id)
                .await?
                .into_iter()
                .rev()
        {
            let value = json_of(&stored);
            if !refs_of(&value).iter().any(|r| r == report_id) {
                continue;
            }
            let by = text(&value, "created_by_ref");
            if by == *mine && my_opinion.is_none() {
                my_opinion = Some(text(&value, "opinion"));
            }
            opinions.push((
                names.of(db, &by).await?,
                text(&value, "opinion"),
                text(&value, "explanation"),
            ));
        }
        return Ok(ReportView {
            summary,
            related,
            versions: history,
            receipts,
            alert_id: alert.map(|a| a.id),
            own_alert,
            acknowledged_at,
            my_opinion,
            opinions,
        });
    }
    Err(not_found("report"))
}

/// Who received the alert behind a report (originator only), without the
/// rest of the report's page.
pub async fn report_receipts(
    db: &Db,
    principal: &Principal,
    report_id: &str,
) -> Result<Vec<Receipt>, ApiError> {
    let alert = store::alert_by_report(db.pool(), report_id)
        .await?
        .ok_or_else(|| not_found("report"))?;
    receipts(db, principal, alert.id.as_str()).await
}

/// One object found by a search.
#[derive(Clone, Debug)]
pub struct SearchHit {
    pub id: String,
    pub kind: String,
    pub label: String,
    pub tlp: Tlp,
    pub collection_title: String,
    /// The report that shares it (or the report itself), to open.
    pub report: Option<(String, String)>,
}

/// Objects the caller may see whose text holds every word of `query`
/// (case-insensitive), at most `limit`, reports first.
pub async fn search(
    db: &Db,
    principal: &Principal,
    query: &str,
    limit: usize,
) -> Result<Vec<SearchHit>, ApiError> {
    let words: Vec<String> = query.split_whitespace().map(str::to_lowercase).collect();
    if words.is_empty() {
        return Ok(Vec::new());
    }
    let mut hits = Vec::new();
    for readable in readable_collections(db, principal).await? {
        let objects = all_visible(db, &readable, &ObjectFilter::default()).await?;
        // Which report shares each object, to link a hit to something readable.
        let mut shared_by: HashMap<String, (String, String)> = HashMap::new();
        for report in objects.iter().filter(|o| o.stix_type == "report") {
            let value = json_of(report);
            let entry = (report.stix_id.clone(), text(&value, "name"));
            shared_by.insert(report.stix_id.clone(), entry.clone());
            for id in refs_of(&value) {
                shared_by.entry(id).or_insert_with(|| entry.clone());
            }
        }
        for object in objects.iter().filter(|o| !o.deleted) {
            let value = json_of(object);
            let mut haystack = String::new();
            collect_text(&value, &mut haystack);
            let haystack = haystack.to_lowercase();
            if words.iter().all(|w| haystack.contains(w)) {
                hits.push(SearchHit {
                    id: object.stix_id.clone(),
                    kind: object.stix_type.clone(),
                    label: describe_object(&value, disarm()),
                    tlp: object.tlp,
                    collection_title: readable.collection.title.clone(),
                    report: shared_by.get(&object.stix_id).cloned(),
                });
            }
        }
    }
    hits.sort_by_key(|h| h.kind != "report");
    hits.truncate(limit);
    Ok(hits)
}

/// The string values of a JSON value (not its ids or timestamps), joined.
fn collect_text(value: &Value, out: &mut String) {
    match value {
        Value::String(s) => {
            out.push_str(s);
            out.push(' ');
        }
        Value::Array(items) => items.iter().for_each(|v| collect_text(v, out)),
        Value::Object(map) => {
            for (key, v) in map {
                if key == "id" || key.ends_with("_ref") || key.ends_with("_refs") {
                    continue;
                }
                collect_text(v, out);
            }
        }
        _ => {}
    }
}

/// The caller's organisation's drafts.
pub async fn my_drafts(db: &Db, principal: &Principal) -> Result<Vec<Alert>, ApiError> {
    Ok(alerts(db, principal)
        .await?
        .into_iter()
        .filter(|a| a.state == AlertState::Draft && a.originator == principal.organisation.id)
        .collect())
}

/// The collections the caller may write in, for composing and releasing.
pub async fn writable_collections(
    db: &Db,
    principal: &Principal,
) -> Result<Vec<Readable>, ApiError> {
    Ok(readable_collections(db, principal)
        .await?
        .into_iter()
        .filter(|r| r.access.can_write)
        .collect())
}
