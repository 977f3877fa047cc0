//! Pages for the people who file political ads and those who oversee them:
//! a filer's list of its organisation's ads, the filing form (new ads and
//! corrections, one form, every fault beside its field), withdrawal, a
//! regulator's removal with the findings' evidence, and the queue of
//! citizens' notices where decisions are recorded. Over the same use cases
//! as the JSON API; who may do what is decided there.
use super::*;
use crate::ads::domain::compliance::Finding;
use crate::ads::domain::flat::{self as ad_form, Shape};
use crate::ads::domain::notice::NoticeStep;
use crate::ads::domain::{AdContent, CalendarEntry};
use crate::ads::service::{self, Powers};
use crate::ads::store::StoredAd;
use axum::Form;
use axum::extract::{Path, Query};
use serde::Deserialize;
use std::collections::HashMap;

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct Done {
    done: String,
    cursor: String,
}

pub struct OwnAd {
    id: String,
    title: String,
    status: &'static str,
    period: String,
    version: u64,
    updated_at: String,
}

#[derive(Template)]
#[template(path = "ads_filing.html")]
struct FilingPage {
    chrome: Chrome,
    ads: Vec<OwnAd>,
    next: Option<String>,
}

/// The organisation's ads, newest first.
pub async fn filing(
    State(state): State<AppState>,
    analyst: Analyst,
    Query(done): Query<Done>,
) -> PageResult {
    let after = Some(done.cursor.as_str())
        .filter(|c| !c.is_empty())
        .and_then(service::decode_cursor);
    let (ads, next) = service::own_ads(&state.db, &analyst.principal, after, 50).await?;
    Ok(render(&FilingPage {
        chrome: Chrome::for_user(
            "Your organisation's ads",
            &analyst,
            "filing",
            Some(&done.done),
        ),
        ads: ads
            .iter()
            .map(|ad| OwnAd {
                id: ad.id.to_string(),
                title: ad.content.title.clone(),
                status: ad.status.as_str(),
                period: format!("{} – {}", ad.content.period_start, ad.content.period_end),
                version: ad.version,
                updated_at: ad.updated_at.clone(),
            })
            .collect(),
        next,
    }))
}

/// A field as the template shows it.
pub struct FieldView {
    name: &'static str,
    /// The element id: the name with dots as dashes.
    id: String,
    label: &'static str,
    hint: &'static str,
    value: String,
    error: Option<String>,
    kind: &'static str,
    /// (value, label, selected) for a choice.
    options: Vec<(String, String, bool)>,
}

fn field_views(
    values: &HashMap<String, String>,
    errors: &[FieldError],
    calendar: &[CalendarEntry],
) -> Vec<(&'static str, Vec<FieldView>)> {
    ad_form::SECTIONS
        .iter()
        .map(|(title, fields)| {
            let views = fields
                .iter()
                .map(|spec| {
                    let value = values.get(spec.name).cloned().unwrap_or_default();
                    let choices: Vec<(String, String)> = match spec.shape {
                        Shape::Choice(options) => options
                            .iter()
                            .map(|(v, l)| (v.to_string(), l.to_string()))
                            .collect(),
                        Shape::Election => std::iter::once((String::new(), "none".to_string()))
                            .chain(calendar.iter().map(|e| {
                                (
                                    e.id.clone(),
                                    format!("{} ({}, {})", e.name, e.country, e.date),
                                )
                            }))
                            .collect(),
                        _ => Vec::new(),
                    };
                    FieldView {
                        name: spec.name,
                        id: format!("f-{}", spec.name.replace('.', "-")),
                        label: spec.label,
                        hint: spec.hint,
                        error: errors
                            .iter()
                            .find(|e| ad_form::field_of_fault(&e.field) == spec.name)
                            .map(|e| e.message.clone()),
                        kind: match spec.shape {
                            Shape::LongText | Shape::Shares | Shape::Media | Shape::Entities => {
                                "textarea"
                            }
                            Shape::Date => "date",
                            Shape::Check => "check",
                            Shape::Choice(_) | Shape::Election => "select",
                            Shape::Text | Shape::Count | Shape::List => "text",
                        },
                        options: choices
                            .into_iter()
                            .map(|(v, l)| {
                                let selected = v == value;
                                (v, l, selected)
                            })
                            .collect(),
                        value,
                    }
                })
                .collect();
            (*title, views)
        })
        .collect()
}

/// An error of the summary, linked to its field when it has one.
pub struct SummaryError {
    anchor: Option<String>,
    message: String,
}

fn summary(errors: &[FieldError]) -> Vec<SummaryError> {
    errors
        .iter()
        .map(|e| {
            let field = ad_form::field_of_fault(&e.field);
            SummaryError {
                anchor: ad_form::fields()
                    .any(|f| f.name == field)
                    .then(|| format!("f-{}", field.replace('.', "-"))),
                message: format!("{}: {}", e.field, e.message),
            }
        })
        .collect()
}

#[derive(Template)]
#[template(path = "ads_form.html")]
struct FormPage {
    chrome: Chrome,
    /// None for a new ad.
    ad: Option<ManagedAd>,
    /// Where the form is sent.
    action: String,
    sections: Vec<(&'static str, Vec<FieldView>)>,
    errors: Vec<SummaryError>,
    /// The form is shown (a filer may amend, or files a new ad).
    show_form: bool,
    powers: Powers,
    findings: Vec<Finding>,
    reason: String,
    reason_error: Option<String>,
}

pub struct ManagedAd {
    id: String,
    title: String,
    status: &'static str,
    version: u64,
}

async fn form_page(
    state: &AppState,
    analyst: &Analyst,
    managed: Option<(&StoredAd, Vec<Finding>, Powers)>,
    values: &HashMap<String, String>,
    errors: &[FieldError],
    done: Option<&str>,
) -> Result<FormPage, WebError> {
    let calendar = service::calendar(&state.db).await?;
    let (ad, findings, powers) = match managed {
        Some((ad, findings, powers)) => (
            Some(ManagedAd {
                id: ad.id.to_string(),
                title: ad.content.title.clone(),
                status: ad.status.as_str(),
                version: ad.version,
            }),
            findings,
            powers,
        ),
        None => (
            None,
            Vec::new(),
            Powers {
                amend: true,
                remove: false,
            },
        ),
    };
    let title = ad.as_ref().map_or_else(
        || "File a political ad".to_string(),
        |a| format!("Manage: {}", a.title),
    );
    let action = ad.as_ref().map_or_else(
        || "/ads/new".to_string(),
        |a| format!("/ads/{}/correct", a.id),
    );
    let (form_errors, reason_error): (Vec<FieldError>, Vec<FieldError>) =
        errors.iter().cloned().partition(|e| e.field != "reason");
    Ok(FormPage {
        chrome: Chrome::for_user(title, analyst, "filing", done),
        show_form: powers.amend && ad.as_ref().is_none_or(|a| a.status == "active"),
        sections: field_views(values, &form_errors, &calendar),
        errors: summary(&form_errors),
        action,
        ad,
        powers,
        findings,
        reason: String::new(),
        reason_error: reason_error.first().map(|e| e.message.clone()),
    })
}

/// Where a change to an ad leads: to its page with a confirmation, or, when
/// the use case names faults, the form again (`again` builds that page).
async fn after_change(
    result: Result<StoredAd, ApiError>,
    flash: &str,
    again: impl AsyncFnOnce(Vec<FieldError>) -> Result<FormPage, WebError>,
) -> PageResult {
    match result {
        Ok(ad) => Ok(Redirect::to(&format!("/ads/{}/manage?done={flash}", ad.id)).into_response()),
        Err(ApiError::Invalid { fields, .. }) => Ok(render_again(&again(fields).await?)),
        Err(e) => Err(WebError(e)),
    }
}

/// The form sent: the CSRF token, and the fields by name.
fn split_form(mut form: HashMap<String, String>) -> (String, HashMap<String, String>) {
    let csrf = form.remove("csrf").unwrap_or_default();
    (csrf, form)
}

/// A blank filing form (filers).
pub async fn new_form(State(state): State<AppState>, analyst: Analyst) -> PageResult {
    // Refuse the page to those who may not file, as the use case would.
    service::may_file(&analyst.principal)?;
    let values = HashMap::from([
        ("spend.currency".to_string(), "EUR".to_string()),
        ("creative.language".to_string(), String::new()),
    ]);
    Ok(render(
        &form_page(&state, &analyst, None, &values, &[], None).await?,
    ))
}

/// Files the ad of the form, or shows the form again with its faults.
pub async fn create(
    State(state): State<AppState>,
    analyst: Analyst,
    Form(form): Form<HashMap<String, String>>,
) -> PageResult {
    let (csrf, values) = split_form(form);
    check_csrf(&analyst.csrf, &csrf)?;
    let filed = match ad_form::read(&values, &AdContent::default()) {
        Ok(content) => service::file(&state.db, &analyst.principal, content).await,
        Err(errors) => Err(ApiError::invalid(errors)),
    };
    after_change(filed, "ad-filed", async |fields| {
        form_page(&state, &analyst, None, &values, &fields, None).await
    })
    .await
}

/// An ad for its filer (correction form, withdrawal) or a regulator
/// (findings with evidence, removal).
pub async fn manage(
    State(state): State<AppState>,
    analyst: Analyst,
    Path(id): Path<String>,
    Query(done): Query<Done>,
) -> PageResult {
    let (ad, findings, powers) =
        service::ad_for_manager(&state.db, &analyst.principal, &id).await?;
    let values = ad_form::values(&ad.content);
    let page = form_page(
        &state,
        &analyst,
        Some((&ad, findings, powers)),
        &values,
        &[],
        Some(&done.done),
    )
    .await?;
    Ok(render(&page))
}

/// A correction: the same ad, a new version.
pub async fn correct(
    State(state): State<AppState>,
    analyst: Analyst,
    Path(id): Path<String>,
    Form(form): Form<HashMap<String, String>>,
) -> PageResult {
    let (csrf, values) = split_form(form);
    check_csrf(&analyst.csrf, &csrf)?;
    let (ad, findings, powers) =
        service::ad_for_manager(&state.db, &analyst.principal, &id).await?;
    let corrected = match ad_form::read(&values, &ad.content) {
        Ok(content) => service::correct(&state.db, &analyst.principal, &id, content).await,
        Err(errors) => Err(ApiError::invalid(errors)),
    };
    after_change(corrected, "ad-corrected", async |fields| {
        form_page(
            &state,
            &analyst,
            Some((&ad, findings, powers)),
            &values,
            &fields,
            None,
        )
        .await
    })
    .await
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct ReasonForm {
    csrf: String,
    reason: String,
}

/// Withdrawal by the filer, or removal by a regulator, with a reason.
async fn take_down(
    state: AppState,
    analyst: Analyst,
    id: String,
    form: ReasonForm,
    removal: bool,
) -> PageResult {
    check_csrf(&analyst.csrf, &form.csrf)?;
    let (done, flash) = if removal {
        let done = service::remove(&state.db, &analyst.principal, &id, form.reason.clone()).await;
        (done, "ad-removed")
    } else {
        let done = service::withdraw(&state.db, &analyst.principal, &id, form.reason.clone()).await;
        (done, "ad-withdrawn")
    };
    after_change(done, flash, async |fields| {
        let (ad, findings, powers) =
            service::ad_for_manager(&state.db, &analyst.principal, &id).await?;
        let values = ad_form::values(&ad.content);
        let mut page = form_page(
            &state,
            &analyst,
            Some((&ad, findings, powers)),
            &values,
            &fields,
            None,
        )
        .await?;
        page.reason = form.reason;
        Ok(page)
    })
    .await
}

pub async fn withdraw(
    State(state): State<AppState>,
    analyst: Analyst,
    Path(id): Path<String>,
    Form(form): Form<ReasonForm>,
) -> PageResult {
    take_down(state, analyst, id, form, false).await
}

pub async fn remove(
    State(state): State<AppState>,
    analyst: Analyst,
    Path(id): Path<String>,
    Form(form): Form<ReasonForm>,
) -> PageResult {
    take_down(state, analyst, id, form, true).await
}

// ---------- the notices queue ----------

pub struct QueuedNotice {
    tracking: String,
    ad: String,
    ad_title: String,
    status: &'static str,
    open: bool,
    explanation: String,
    evidence_url: String,
    notifier: String,
    reasons: String,
    received_at: String,
}

#[derive(Template)]
#[template(path = "ads_notices.html")]
struct NoticesPage {
    chrome: Chrome,
    notices: Vec<QueuedNotice>,
    open: usize,
    /// The notice whose decision was refused, and why.
    error: Option<(String, String)>,
}

async fn notices_page(
    state: &AppState,
    analyst: &Analyst,
    done: Option<&str>,
    error: Option<(String, String)>,
) -> Result<NoticesPage, WebError> {
    let queue = crate::ads::notices::queue(&state.db, &analyst.principal).await?;
    // The titles of the ads in the queue, in one read.
    let mut ids: Vec<&str> = queue.iter().map(|n| n.ad.as_str()).collect();
    ids.sort_unstable();
    ids.dedup();
    let mut titles: HashMap<String, String> = HashMap::new();
    for chunk in ids.chunks(500) {
        for ad in crate::ads::store::ads_by_ids(state.db.pool(), chunk).await? {
            titles.insert(ad.id.to_string(), ad.content.title);
        }
    }
    use crate::ads::domain::notice::NoticeStatus;
    let notices: Vec<QueuedNotice> = queue
        .into_iter()
        .map(|n| QueuedNotice {
            ad_title: titles.get(&n.ad).cloned().unwrap_or_default(),
            status: n.status.as_str(),
            open: matches!(
                n.status,
                NoticeStatus::Acknowledged | NoticeStatus::UnderReview
            ),
            notifier: match (&n.notifier_name, &n.notifier_email) {
                (Some(name), Some(email)) => format!("{name} <{email}>"),
                _ => "redacted".into(),
            },
            tracking: n.tracking,
            ad: n.ad,
            explanation: n.explanation,
            evidence_url: n.evidence_url.unwrap_or_default(),
            reasons: n.reasons.unwrap_or_default(),
            received_at: n.received_at,
        })
        .collect();
    Ok(NoticesPage {
        chrome: Chrome::for_user("Notices about ads", analyst, "notices", done),
        open: notices.iter().filter(|n| n.open).count(),
        notices,
        error,
    })
}

/// The notices a regulator, or an ad's publisher, handles.
pub async fn notices(
    State(state): State<AppState>,
    analyst: Analyst,
    Query(done): Query<Done>,
) -> PageResult {
    Ok(render(
        &notices_page(&state, &analyst, Some(&done.done), None).await?,
    ))
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct DecideForm {
    csrf: String,
    step: String,
    reasons: String,
}

/// Records a step of a notice: review started, upheld or rejected.
pub async fn decide(
    State(state): State<AppState>,
    analyst: Analyst,
    Path(tracking): Path<String>,
    Form(form): Form<DecideForm>,
) -> PageResult {
    check_csrf(&analyst.csrf, &form.csrf)?;
    let step = match form.step.as_str() {
        "start_review" => Some(NoticeStep::StartReview),
        "uphold" => Some(NoticeStep::Uphold),
        "reject" => Some(NoticeStep::Reject),
        _ => None,
    };
    let result = match step {
        Some(step) => {
            crate::ads::notices::decide(
                &state.db,
                &analyst.principal,
                &tracking,
                step,
                &form.reasons,
            )
            .await
        }
        None => Err(ApiError::invalid(vec![FieldError::new(
            "step",
            "choose a decision",
        )])),
    };
    match result {
        Ok(_) => Ok(Redirect::to("/ads/notices?done=notice-decided").into_response()),
        Err(ApiError::Invalid { fields, .. }) => {
            let message = fields
                .first()
                .map_or_else(|| "the decision was refused".into(), |f| f.message.clone());
            let page = notices_page(&state, &analyst, None, Some((tracking, message))).await?;
            Ok(render_again(&page))
        }
        Err(e) => Err(WebError(e)),
    }
}
