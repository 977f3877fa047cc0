//! The Rapid Alert System pages: the live feed, a report with its history
//! and receipts, composing and editing alerts, reactions and onward release.
use super::compose::AlertForm;
use super::session::{CsrfOnly, DoneQuery};
use super::*;
use crate::alerts::domain::{Alert, AlertLevel, AlertState, Removal, describe_object};
use crate::alerts::service::{
    self, FeedFilter, Receipt, RelatedObject, ReportSummary, ReportVersion, TechniqueRef,
};
use crate::core::time::Timestamp;
use axum::Form;
use axum::extract::{Path, Query};
use serde::Deserialize;
use serde_json::Value;
use vigil_stix::Tlp;

/// A report as one card of the feed.
pub struct Card {
    pub report_id: String,
    pub name: String,
    pub excerpt: String,
    pub level: &'static str,
    pub tlp_class: &'static str,
    pub tlp_name: &'static str,
    pub originator: String,
    pub published: String,
    pub place: String,
    pub techniques: Vec<TechniqueRef>,
    pub countries: Vec<String>,
    pub acknowledgements: usize,
    pub revoked: bool,
    pub released: bool,
    /// An alert of another organisation that the user's has not acknowledged.
    pub awaiting_me: bool,
}

impl Card {
    pub fn of(report: &ReportSummary, my_identity: &str) -> Card {
        let mut excerpt: String = report.description.chars().take(280).collect();
        if report.description.chars().count() > 280 {
            excerpt.push('…');
        }
        Card {
            report_id: report.report_id.clone(),
            name: if report.name.is_empty() {
                "(untitled)".into()
            } else {
                report.name.clone()
            },
            excerpt,
            level: report.level.as_str(),
            tlp_class: tlp_class(&report.tlp),
            tlp_name: report.tlp.name(),
            originator: report.originator.clone(),
            published: report.published_short(),
            place: format!("{} · {}", report.community_title, report.collection_title),
            techniques: report.techniques.clone(),
            countries: report.countries.clone(),
            acknowledgements: report.acknowledged_by.len(),
            revoked: report.revoked,
            released: report.derived_from.is_some(),
            awaiting_me: awaiting(report, my_identity),
        }
    }
}

/// An open alert of another organisation not yet acknowledged by the user's.
pub fn awaiting(report: &ReportSummary, my_identity: &str) -> bool {
    report.level != AlertLevel::Information
        && !report.revoked
        && report.derived_from.is_none()
        && report.originator_identity != my_identity
        && !report.acknowledged_by.iter().any(|a| a == my_identity)
}

#[derive(Template)]
#[template(path = "feed.html")]
struct FeedPage {
    chrome: Chrome,
    filter: FeedFilter,
    cards: Vec<Card>,
    total: usize,
    drafts: Vec<(String, String, String)>,
    communities: Vec<(String, String)>,
    collections: Vec<(String, String)>,
    countries: Vec<String>,
    techniques: Vec<TechniqueRef>,
    fragment: String,
}

#[derive(Template)]
#[template(path = "feed_items.html")]
struct FeedItems {
    cards: Vec<Card>,
    total: usize,
}

/// The query string of the current filters, for the live fragment.
fn filter_query(filter: &FeedFilter) -> String {
    [
        ("community", &filter.community),
        ("collection", &filter.collection),
        ("level", &filter.level),
        ("tlp", &filter.tlp),
        ("country", &filter.country),
        ("technique", &filter.technique),
        ("since", &filter.since),
        ("until", &filter.until),
        ("q", &filter.q),
    ]
    .iter()
    .filter(|(_, v)| !v.is_empty())
    .map(|(k, v)| format!("{k}={}", url_encode(v)))
    .collect::<Vec<_>>()
    .join("&")
}

const FEED_LIMIT: usize = 200;

/// The reports in these collections, and the cards of those the filter selects.
async fn cards(
    state: &AppState,
    analyst: &Analyst,
    readable: &[service::Readable],
    filter: &FeedFilter,
) -> Result<(Vec<ReportSummary>, Vec<Card>, usize), WebError> {
    let reports = service::reports(&state.db, readable).await?;
    let mine = &analyst.principal.organisation.stix_identity;
    let selected: Vec<&ReportSummary> = reports.iter().filter(|r| filter.matches(r)).collect();
    let total = selected.len();
    let cards = selected
        .into_iter()
        .take(FEED_LIMIT)
        .map(|r| Card::of(r, mine))
        .collect();
    Ok((reports, cards, total))
}

pub async fn feed(
    State(state): State<AppState>,
    analyst: Analyst,
    Query(filter): Query<FeedFilter>,
) -> PageResult {
    let readable = service::readable_collections(&state.db, &analyst.principal).await?;
    let (reports, cards, total) = cards(&state, &analyst, &readable, &filter).await?;
    let mut communities: Vec<(String, String)> = Vec::new();
    let mut collections: Vec<(String, String)> = Vec::new();
    for readable in &readable {
        let community = (
            readable.community.id.as_str().to_string(),
            readable.community.title.clone(),
        );
        if !communities.contains(&community) {
            communities.push(community);
        }
        collections.push((
            readable.collection.id.as_str().to_string(),
            format!(
                "{} · {}",
                readable.community.title, readable.collection.title
            ),
        ));
    }
    let mut countries: Vec<String> = reports.iter().flat_map(|r| r.countries.clone()).collect();
    countries.sort();
    countries.dedup();
    let mut techniques: Vec<TechniqueRef> =
        reports.iter().flat_map(|r| r.techniques.clone()).collect();
    techniques.sort_by(|a, b| a.id.cmp(&b.id));
    techniques.dedup();
    let drafts = service::my_drafts(&state.db, &analyst.principal)
        .await?
        .into_iter()
        .map(|a| {
            (
                a.id.as_str().to_string(),
                a.report
                    .get("name")
                    .and_then(Value::as_str)
                    .unwrap_or("(untitled)")
                    .to_string(),
                service::short_time(&a.updated_at.to_string()),
            )
        })
        .collect();
    Ok(render(&FeedPage {
        chrome: Chrome::for_user("Live feed", &analyst, "feed", None),
        fragment: format!("/feed/items?{}", filter_query(&filter)),
        filter,
        cards,
        total,
        drafts,
        communities,
        collections,
        countries,
        techniques,
    }))
}

/// The feed's list alone, for the live update.
pub async fn feed_items(
    State(state): State<AppState>,
    analyst: Analyst,
    Query(filter): Query<FeedFilter>,
) -> PageResult {
    let readable = service::readable_collections(&state.db, &analyst.principal).await?;
    let (_, cards, total) = cards(&state, &analyst, &readable, &filter).await?;
    let mut response = render(&FeedItems { cards, total });
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

#[derive(Template)]
#[template(path = "report.html")]
struct ReportPage {
    chrome: Chrome,
    card: Card,
    description: String,
    elections: Vec<String>,
    platforms: Vec<String>,
    related: Vec<RelatedObject>,
    versions: Vec<ReportVersion>,
    /// The caller's organisation raised it: (alert id, state, version).
    own: Option<(String, &'static str)>,
    receipts: Vec<Receipt>,
    acknowledged: usize,
    /// The alert the caller may react to.
    alert_id: Option<String>,
    acknowledged_at: Option<String>,
    my_opinion: Option<String>,
    opinions: Vec<(String, String, String)>,
    derived_from: Option<String>,
}

#[derive(Template)]
#[template(path = "receipts.html")]
struct ReceiptsFragment {
    receipts: Vec<Receipt>,
    acknowledged: usize,
}

/// How many receiving organisations have acknowledged.
fn acknowledged(receipts: &[Receipt]) -> usize {
    receipts
        .iter()
        .filter(|r| r.acknowledged_at.is_some())
        .count()
}

pub async fn report(
    State(state): State<AppState>,
    analyst: Analyst,
    Path(id): Path<String>,
    Query(query): Query<DoneQuery>,
) -> PageResult {
    let view = service::report_view(&state.db, &state.ledger, &analyst.principal, &id).await?;
    let mine = &analyst.principal.organisation.stix_identity;
    let can_react = view.summary.originator_identity != *mine
        && !view.summary.revoked
        && view.alert_id.is_some();
    Ok(render(&ReportPage {
        chrome: Chrome::for_user(
            view.summary.name.clone(),
            &analyst,
            "feed",
            Some(&query.done),
        ),
        card: Card::of(&view.summary, mine),
        description: view.summary.description.clone(),
        elections: view.summary.elections.clone(),
        platforms: view.summary.platforms.clone(),
        related: view.related,
        versions: view.versions,
        own: view
            .own_alert
            .as_ref()
            .map(|a| (a.id.as_str().to_string(), a.state.as_str())),
        acknowledged: acknowledged(&view.receipts),
        receipts: view.receipts,
        alert_id: view
            .alert_id
            .filter(|_| can_react)
            .map(|a| a.as_str().to_string()),
        acknowledged_at: view.acknowledged_at.map(|t| service::short_time(&t)),
        my_opinion: view.my_opinion,
        opinions: view.opinions,
        derived_from: view.summary.derived_from.clone(),
    }))
}

/// Who acknowledged, for the originator's live view.
pub async fn receipts(
    State(state): State<AppState>,
    analyst: Analyst,
    Path(id): Path<String>,
) -> PageResult {
    let receipts = service::report_receipts(&state.db, &analyst.principal, &id).await?;
    let mut response = render(&ReceiptsFragment {
        acknowledged: acknowledged(&receipts),
        receipts,
    });
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

// ---------- composing ----------

#[derive(Template)]
#[template(path = "compose.html")]
struct ComposePage {
    chrome: Chrome,
    form: AlertForm,
    errors: FieldErrors,
    collections: Vec<(String, String)>,
    /// Editing an existing alert: (id, state).
    editing: Option<(String, &'static str)>,
    /// The collection's name when editing (it cannot move).
    collection_title: String,
}

impl ComposePage {
    fn technique_name(&self, id: &str) -> String {
        service::disarm()
            .technique(id)
            .map(|t| t.name.clone())
            .unwrap_or_default()
    }

    fn chosen_techniques(&self) -> Vec<String> {
        self.form
            .techniques
            .split(|c: char| c == ',' || c.is_whitespace())
            .filter(|t| !t.is_empty())
            .map(str::to_ascii_uppercase)
            .collect()
    }
}

async fn writable(state: &AppState, analyst: &Analyst) -> Result<Vec<(String, String)>, WebError> {
    Ok(service::writable_collections(&state.db, &analyst.principal)
        .await?
        .iter()
        .map(option)
        .collect())
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct ComposeQuery {
    collection: String,
}

pub async fn compose(
    State(state): State<AppState>,
    analyst: Analyst,
    Query(query): Query<ComposeQuery>,
) -> PageResult {
    let collections = writable(&state, &analyst).await?;
    let chosen = collections
        .iter()
        .find(|(value, _)| *value == query.collection)
        .or(collections.first())
        .map(|(value, _)| value.clone())
        .unwrap_or_default();
    let default_tlp = match chosen.split_once('/') {
        Some((community, collection)) => {
            service::visible_collection(&state.db, &analyst.principal, community, collection)
                .await
                .map(|(c, _)| c.default_tlp)
                .unwrap_or(Tlp::Amber)
        }
        None => Tlp::Amber,
    };
    Ok(render(&ComposePage {
        chrome: Chrome::for_user("Compose an alert", &analyst, "compose", None),
        form: AlertForm::blank(&chosen, default_tlp),
        errors: FieldErrors(Vec::new()),
        collections,
        editing: None,
        collection_title: String::new(),
    }))
}

/// The form shown again with its problems, exactly as typed.
async fn invalid(
    state: &AppState,
    analyst: &Analyst,
    form: AlertForm,
    errors: Vec<FieldError>,
    editing: Option<&Alert>,
) -> PageResult {
    let collections = writable(state, analyst).await?;
    let collection_title = collections
        .iter()
        .find(|(value, _)| *value == form.collection)
        .map(|(_, label)| label.clone())
        .unwrap_or_default();
    let page = ComposePage {
        chrome: Chrome::for_user(
            if editing.is_some() {
                "Edit alert"
            } else {
                "Compose an alert"
            },
            analyst,
            "compose",
            None,
        ),
        form,
        errors: FieldErrors(errors),
        collections,
        editing: editing.map(|a| (a.id.as_str().to_string(), a.state.as_str())),
        collection_title,
    };
    Ok(render_again(&page))
}

/// Service refusals of a form's content as field errors; other failures pass.
fn refused(e: ApiError) -> Result<Vec<FieldError>, WebError> {
    match e {
        ApiError::Invalid { fields, .. } => Ok(fields),
        ApiError::Forbidden(message) => Ok(vec![FieldError::new("collection", message)]),
        ApiError::Conflict(message) => Ok(vec![FieldError::new("state", message)]),
        other => Err(WebError(other)),
    }
}

#[derive(Deserialize)]
pub struct ComposeForm {
    #[serde(flatten)]
    form: AlertForm,
    #[serde(default)]
    csrf: String,
}

pub async fn create(
    State(state): State<AppState>,
    analyst: Analyst,
    Form(ComposeForm { form, csrf }): Form<ComposeForm>,
) -> PageResult {
    check_csrf(&analyst.csrf, &csrf)?;
    let disarm = service::disarm();
    let errors = form.validate(disarm);
    if !errors.is_empty() {
        return invalid(&state, &analyst, form, errors, None).await;
    }
    let Some((community, collection)) = form.collection.split_once('/') else {
        let errors = vec![FieldError::new("collection", "choose where to share it")];
        return invalid(&state, &analyst, form, errors, None).await;
    };
    let principal = &analyst.principal;
    let input = form.to_input(
        &principal.organisation.stix_identity,
        None,
        disarm,
        &Timestamp::now().to_string(),
    );
    let alert =
        match service::create_alert(&state.db, principal, (community, collection), input).await {
            Ok(alert) => alert,
            Err(e) => {
                let errors = refused(e)?;
                return invalid(&state, &analyst, form, errors, None).await;
            }
        };
    finish(&state, &analyst, alert, &form).await
}

/// The alert's report page with a confirmation.
fn to_report(alert: &Alert, done: &str) -> Response {
    Redirect::to(&format!("/reports/{}?done={done}", alert.report_id)).into_response()
}

/// A collection as a form option: `community/collection` and its name.
fn option(readable: &service::Readable) -> (String, String) {
    (
        format!(
            "{}/{}",
            readable.community.id.as_str(),
            readable.collection.id.as_str()
        ),
        format!(
            "{} · {}",
            readable.community.title, readable.collection.title
        ),
    )
}

/// Publishes when asked to, then shows where the alert now is.
async fn finish(state: &AppState, analyst: &Analyst, alert: Alert, form: &AlertForm) -> PageResult {
    if form.action == "publish" && alert.state == AlertState::Draft {
        match service::publish_alert(&state.db, &analyst.principal, alert.id.as_str()).await {
            Ok(published) => return Ok(to_report(&published, "published")),
            Err(e) => {
                let errors = refused(e)?;
                return invalid(state, analyst, form.clone(), errors, Some(&alert)).await;
            }
        }
    }
    Ok(match alert.state {
        AlertState::Draft => {
            Redirect::to(&format!("/alerts/{}/edit?done=draft", alert.id.as_str()))
        }
        _ => return Ok(to_report(&alert, "updated")),
    }
    .into_response())
}

/// The caller's organisation's alert, with the collection's form value.
async fn own_alert(
    state: &AppState,
    analyst: &Analyst,
    id: &str,
) -> Result<(Alert, String, String), WebError> {
    let alert = service::alert(&state.db, &analyst.principal, id).await?;
    if alert.originator != analyst.principal.organisation.id {
        return Err(WebError(ApiError::Forbidden(
            "only the originating organisation may change an alert".into(),
        )));
    }
    let readable = service::readable_collections(&state.db, &analyst.principal).await?;
    let (value, title) = readable
        .iter()
        .find(|r| r.collection.id == alert.collection_id)
        .map(option)
        .unwrap_or_default();
    Ok((alert, value, title))
}

pub async fn edit(
    State(state): State<AppState>,
    analyst: Analyst,
    Path(id): Path<String>,
    Query(query): Query<DoneQuery>,
) -> PageResult {
    let (alert, collection, collection_title) = own_alert(&state, &analyst, &id).await?;
    if alert.state == AlertState::Revoked {
        return Err(WebError(ApiError::Conflict(
            "the alert was revoked and cannot change any more".into(),
        )));
    }
    Ok(render(&ComposePage {
        chrome: Chrome::for_user("Edit alert", &analyst, "compose", Some(&query.done)),
        form: AlertForm::from_alert(&alert, &collection, service::disarm()),
        errors: FieldErrors(Vec::new()),
        collections: writable(&state, &analyst).await?,
        editing: Some((alert.id.as_str().to_string(), alert.state.as_str())),
        collection_title,
    }))
}

pub async fn save(
    State(state): State<AppState>,
    analyst: Analyst,
    Path(id): Path<String>,
    Form(ComposeForm { mut form, csrf }): Form<ComposeForm>,
) -> PageResult {
    check_csrf(&analyst.csrf, &csrf)?;
    let (alert, collection, _) = own_alert(&state, &analyst, &id).await?;
    // An alert stays in its collection.
    form.collection = collection;
    let disarm = service::disarm();
    let errors = form.validate(disarm);
    if !errors.is_empty() {
        return invalid(&state, &analyst, form, errors, Some(&alert)).await;
    }
    let principal = &analyst.principal;
    let input = form.to_input(
        &principal.organisation.stix_identity,
        Some(&alert),
        disarm,
        &Timestamp::now().to_string(),
    );
    let next = match service::change_alert(&state.db, principal, &id, input).await {
        Ok(next) => next,
        Err(e) => {
            let errors = refused(e)?;
            return invalid(&state, &analyst, form, errors, Some(&alert)).await;
        }
    };
    finish(&state, &analyst, next, &form).await
}

pub async fn revoke(
    State(state): State<AppState>,
    analyst: Analyst,
    Path(id): Path<String>,
    Form(form): Form<CsrfOnly>,
) -> PageResult {
    check_csrf(&analyst.csrf, &form.csrf)?;
    let alert = service::revoke_alert(&state.db, &analyst.principal, &id).await?;
    Ok(to_report(&alert, "revoked"))
}

pub async fn acknowledge(
    State(state): State<AppState>,
    analyst: Analyst,
    Path(id): Path<String>,
    Form(form): Form<CsrfOnly>,
) -> PageResult {
    check_csrf(&analyst.csrf, &form.csrf)?;
    service::acknowledge_alert(&state.db, &analyst.principal, &id).await?;
    let alert = service::alert(&state.db, &analyst.principal, &id).await?;
    Ok(to_report(&alert, "acknowledged"))
}

#[derive(Deserialize)]
pub struct OpinionForm {
    #[serde(default)]
    opinion: String,
    #[serde(default)]
    explanation: String,
    #[serde(default)]
    csrf: String,
}

pub async fn opinion(
    State(state): State<AppState>,
    analyst: Analyst,
    Path(id): Path<String>,
    Form(form): Form<OpinionForm>,
) -> PageResult {
    check_csrf(&analyst.csrf, &form.csrf)?;
    let explanation = Some(form.explanation.trim().to_string()).filter(|e| !e.is_empty());
    service::give_opinion(
        &state.db,
        &analyst.principal,
        &id,
        &form.opinion,
        explanation,
    )
    .await?;
    let alert = service::alert(&state.db, &analyst.principal, &id).await?;
    Ok(to_report(&alert, "opinion"))
}

// ---------- onward release ----------

#[derive(Template)]
#[template(path = "release.html")]
struct ReleasePage {
    chrome: Chrome,
    alert_id: String,
    report_id: String,
    title: String,
    targets: Vec<(String, String)>,
    target: String,
    tlp: String,
    preview: Option<Preview>,
    errors: FieldErrors,
}

struct Preview {
    target_title: String,
    tlp_name: &'static str,
    tlp_class: &'static str,
    kept: Vec<(String, String)>,
    removed: Vec<(Removal, String)>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct ReleaseQuery {
    target: String,
    tlp: String,
    csrf: String,
}

impl ReleaseQuery {
    fn target(&self) -> Option<service::ReleaseTarget> {
        let (community, collection) = self.target.split_once('/')?;
        Some(service::ReleaseTarget {
            community: community.into(),
            collection: collection.into(),
            tlp: self.tlp.clone(),
        })
    }
}

/// Release targets: collections the caller may write in, other than the alert's.
async fn release_targets(
    state: &AppState,
    analyst: &Analyst,
    alert: &Alert,
) -> Result<Vec<(String, String)>, WebError> {
    Ok(service::writable_collections(&state.db, &analyst.principal)
        .await?
        .iter()
        .filter(|r| r.collection.id != alert.collection_id)
        .map(option)
        .collect())
}

pub async fn release_page(
    State(state): State<AppState>,
    analyst: Analyst,
    Path(id): Path<String>,
    Query(query): Query<ReleaseQuery>,
) -> PageResult {
    let (alert, _, _) = own_alert(&state, &analyst, &id).await?;
    let targets = release_targets(&state, &analyst, &alert).await?;
    let mut errors = Vec::new();
    let preview = match query.target() {
        None => None,
        Some(target) => {
            match service::release_preview(&state.db, &analyst.principal, &id, &target).await {
                Ok((derivative, _)) => {
                    let tlp = Tlp::from_name(&query.tlp).unwrap_or(Tlp::Green);
                    let labels: std::collections::HashMap<String, String> = alert
                        .related
                        .iter()
                        .map(|o| {
                            (
                                o.get("id")
                                    .and_then(Value::as_str)
                                    .unwrap_or_default()
                                    .to_string(),
                                describe_object(o, service::disarm()),
                            )
                        })
                        .collect();
                    Some(Preview {
                        target_title: targets
                            .iter()
                            .find(|(v, _)| *v == query.target)
                            .map(|(_, l)| l.clone())
                            .unwrap_or_default(),
                        tlp_name: tlp.name(),
                        tlp_class: tlp_class(&tlp),
                        kept: derivative
                            .objects
                            .iter()
                            .map(|o| {
                                (
                                    o.get("type")
                                        .and_then(Value::as_str)
                                        .unwrap_or_default()
                                        .to_string(),
                                    describe_object(o, service::disarm()),
                                )
                            })
                            .collect(),
                        removed: derivative
                            .removed
                            .into_iter()
                            .map(|r| {
                                let label = labels.get(&r.id).cloned().unwrap_or(r.id.clone());
                                (r, label)
                            })
                            .collect(),
                    })
                }
                Err(e) => {
                    errors = refused(e)?;
                    None
                }
            }
        }
    };
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let page = ReleasePage {
        chrome: Chrome::for_user("Release to a wider audience", &analyst, "feed", None),
        alert_id: id,
        report_id: alert.report_id.clone(),
        title: alert
            .report
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string(),
        targets,
        target: query.target.clone(),
        tlp: if query.tlp.is_empty() {
            "green".into()
        } else {
            query.tlp.clone()
        },
        preview,
        errors: FieldErrors(errors),
    };
    Ok((status, render(&page)).into_response())
}

pub async fn release(
    State(state): State<AppState>,
    analyst: Analyst,
    Path(id): Path<String>,
    Form(form): Form<ReleaseQuery>,
) -> PageResult {
    check_csrf(&analyst.csrf, &form.csrf)?;
    let target = form.target().ok_or_else(|| {
        WebError(ApiError::invalid(vec![FieldError::new(
            "target",
            "choose where to release it",
        )]))
    })?;
    service::release_alert(&state.db, &analyst.principal, &id, &target).await?;
    let alert = service::alert(&state.db, &analyst.principal, &id).await?;
    Ok(to_report(&alert, "released"))
}
