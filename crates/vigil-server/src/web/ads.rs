//! Public pages of the political-ad repository (no sign-in): search with
//! filters and downloads, an ad with its transparency notice, findings and
//! every version, and an election's spending per sponsor against the
//! configured limits. Over the same use cases as the JSON API.
use super::chart::horizontal_bars;
use super::*;
use crate::ads::domain::compliance::Finding;
use crate::ads::domain::money::format_minor;
use crate::ads::domain::{AdContent, CalendarEntry};
use crate::ads::service;
use crate::ads::store::{AdQuery, AdVersion, StoredAd};
use axum::Form;
use axum::extract::{Path, Query};
use serde::Deserialize;

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct SearchForm {
    q: String,
    election: String,
    country: String,
    status: String,
    cursor: String,
}

pub struct AdLine {
    id: String,
    title: String,
    sponsor: String,
    /// The sponsor's name for its page's link.
    sponsor_query: String,
    publisher: String,
    period: String,
    spend: String,
    status: &'static str,
}

/// The spend in words: exact, a range, or nothing.
fn spend_text(content: &AdContent) -> String {
    if let Some(spend) = &content.spend {
        return format!("{} {}", spend.amount, spend.currency);
    }
    match &content.spend_range {
        Some(range) => format!(
            "{}–{} {}",
            format_minor(range.lower_minor, &range.currency),
            range
                .upper_minor
                .map_or_else(|| "…".into(), |u| format_minor(u, &range.currency)),
            range.currency
        ),
        None => "not given".into(),
    }
}

fn line(ad: &StoredAd) -> AdLine {
    AdLine {
        id: ad.id.to_string(),
        title: ad.content.title.clone(),
        sponsor: ad.content.sponsor.name.clone(),
        sponsor_query: url_encode(&ad.content.sponsor.name),
        publisher: ad.content.publisher.name.clone(),
        period: format!("{} – {}", ad.content.period_start, ad.content.period_end),
        spend: spend_text(&ad.content),
        status: ad.status.as_str(),
    }
}

#[derive(Template)]
#[template(path = "ads_search.html")]
struct SearchPage {
    chrome: Chrome,
    form: SearchForm,
    calendar: Vec<CalendarEntry>,
    ads: Vec<AdLine>,
    next: Option<String>,
    /// The filters as a query string, for the downloads and the next page.
    filters: String,
}

pub async fn search(
    State(state): State<AppState>,
    csrf: FormToken,
    Query(form): Query<SearchForm>,
) -> PageResult {
    let some = |text: &str| Some(text.trim().to_string()).filter(|t| !t.is_empty());
    let query = AdQuery {
        words: form
            .q
            .split_whitespace()
            .take(10)
            .map(str::to_string)
            .collect(),
        election: some(&form.election),
        country: some(&form.country).map(|c| c.to_uppercase()),
        status: crate::ads::domain::AdStatus::parse(form.status.trim()),
        after: some(&form.cursor).and_then(|c| service::decode_cursor(&c)),
        ..AdQuery::default()
    };
    let (ads, next) = service::search(&state.db, &query, 25).await?;
    let filters = [
        ("q", &form.q),
        ("election", &form.election),
        ("country", &form.country),
        ("status", &form.status),
    ]
    .iter()
    .filter(|(_, v)| !v.trim().is_empty())
    .map(|(k, v)| format!("{k}={}", url_encode(v.trim())))
    .collect::<Vec<_>>()
    .join("&");
    Ok(render(&SearchPage {
        chrome: Chrome::new("Political ads", &csrf, "ads"),
        calendar: service::calendar(&state.db).await?,
        ads: ads.iter().map(line).collect(),
        next,
        filters,
        form,
    }))
}

/// One row of the transparency notice: the item and what the ad says.
pub struct NoticeRow {
    item: &'static str,
    value: String,
}

fn entity_text(entity: &crate::ads::domain::Entity) -> String {
    let mut parts = vec![entity.name.clone()];
    for detail in [
        &entity.registry_id,
        &entity.country,
        &entity.email,
        &entity.address,
    ]
    .into_iter()
    .flatten()
    {
        parts.push(detail.clone());
    }
    parts.join(" · ")
}

fn notice(content: &AdContent, election: Option<&CalendarEntry>) -> Vec<NoticeRow> {
    let row = |item: &'static str, value: String| NoticeRow { item, value };
    let optional = |entity: &Option<crate::ads::domain::Entity>| {
        entity
            .as_ref()
            .map_or_else(|| "not given (the same as the sponsor)".into(), entity_text)
    };
    let mut rows = vec![
        row("Sponsor", entity_text(&content.sponsor)),
        row(
            "Entity ultimately controlling the sponsor",
            optional(&content.controller),
        ),
        row("Payer", optional(&content.payer)),
        row("Beneficiary", optional(&content.beneficiary)),
        row("Publisher", entity_text(&content.publisher)),
        row(
            "Sponsor's declaration (Art. 5(2))",
            content.sponsor_declaration.map_or_else(
                || "none".into(),
                |d| {
                    serde_json::to_value(d)
                        .ok()
                        .and_then(|v| v.as_str().map(|s| s.replace('_', " ")))
                        .unwrap_or_default()
                },
            ),
        ),
        row(
            "Publication period",
            format!("{} to {}", content.period_start, content.period_end),
        ),
        row("Amounts", spend_text(content)),
    ];
    if let Some(spend) = &content.spend {
        if let Some(campaign) = &spend.campaign_amount {
            rows.push(row(
                "Amounts for the whole campaign",
                format!("{campaign} {}", spend.currency),
            ));
        }
        if let Some(other) = &spend.other_benefits {
            rows.push(row("Other benefits", format!("{other} {}", spend.currency)));
        }
        rows.push(row(
            "Origin of the amounts",
            format!(
                "{}, {}",
                if spend.origin == crate::ads::domain::ad::FundingOrigin::Public {
                    "public"
                } else {
                    "private"
                },
                if spend.source == crate::ads::domain::ad::FundingSource::Eu {
                    "from within the Union"
                } else {
                    "from outside the Union"
                }
            ),
        ));
        rows.push(row("How the amounts were calculated", spend.method.clone()));
    }
    rows.push(row(
        "Linked election or referendum",
        election.map_or_else(
            || content.election.clone().unwrap_or_else(|| "none".into()),
            |e| format!("{} ({})", e.name, e.date),
        ),
    ));
    if let Some(process) = &content.legislative_process {
        rows.push(row("Linked legislative process", process.clone()));
    }
    let targeting = &content.targeting;
    rows.push(row(
        "Targeting",
        if targeting.used {
            let mut parts = Vec::new();
            if !targeting.criteria_included.is_empty() {
                parts.push(format!(
                    "included: {}",
                    targeting.criteria_included.join(", ")
                ));
            }
            if !targeting.criteria_excluded.is_empty() {
                parts.push(format!(
                    "excluded: {}",
                    targeting.criteria_excluded.join(", ")
                ));
            }
            if !targeting.personal_data_categories.is_empty() {
                parts.push(format!(
                    "personal data: {}",
                    targeting.personal_data_categories.join(", ")
                ));
            }
            if let Some(age) = targeting.minimum_age {
                parts.push(format!("from age {age}"));
            }
            if let Some(basis) = &targeting.consent_basis {
                parts.push(format!("basis: {}", basis.replace('_', " ")));
            }
            parts.push(format!(
                "AI systems: {}",
                if targeting.ai_systems_used {
                    "used"
                } else {
                    "not used"
                }
            ));
            if let Some(reached) = targeting.people_reached {
                parts.push(format!("{reached} people reached"));
            }
            parts.join("; ")
        } else {
            "not used".into()
        },
    ));
    if content.previously_suspended {
        rows.push(row(
            "Earlier publication",
            "suspended or discontinued for infringing the Regulation".into(),
        ));
    }
    rows
}

pub struct VersionLine {
    version: u64,
    change: &'static str,
    reason: String,
    at: String,
    title: String,
    spend: String,
}

#[derive(Template)]
#[template(path = "ads_detail.html")]
struct DetailPage {
    chrome: Chrome,
    ad: AdLine,
    reason: Option<String>,
    text: String,
    language: String,
    notice: Vec<NoticeRow>,
    delivery: Vec<(String, Vec<(String, String)>)>,
    findings: Vec<Finding>,
    versions: Vec<VersionLine>,
    election: Option<String>,
    /// The Art. 15 notice form, as sent when it is shown again.
    report: ReportForm,
    report_errors: FieldErrors,
}

#[derive(Deserialize, Default, Clone)]
#[serde(default)]
pub struct ReportForm {
    explanation: String,
    name: String,
    email: String,
    evidence_url: String,
    csrf: String,
}

pub async fn detail(
    State(state): State<AppState>,
    csrf: FormToken,
    Path(id): Path<String>,
) -> PageResult {
    Ok(render(&detail_page(&state, &csrf, &id).await?))
}

async fn detail_page(state: &AppState, csrf: &FormToken, id: &str) -> Result<DetailPage, WebError> {
    let (ad, versions): (StoredAd, Vec<AdVersion>) =
        service::ad_with_history(&state.db, id).await?;
    let (election, findings) = service::findings_of(&state.db, &ad).await?;
    let delivery = [
        ("By age", &ad.content.delivery.by_age),
        ("By gender", &ad.content.delivery.by_gender),
        ("By region", &ad.content.delivery.by_region),
    ]
    .into_iter()
    .filter(|(_, shares)| !shares.is_empty())
    .map(|(title, shares)| {
        (
            title.to_string(),
            shares
                .iter()
                .map(|s| (s.key.clone(), s.share.clone()))
                .collect(),
        )
    })
    .collect();
    Ok(DetailPage {
        chrome: Chrome::new(ad.content.title.clone(), csrf, "ads"),
        reason: ad.status_reason.clone(),
        text: ad.content.creative.text.clone(),
        language: ad.content.creative.language.clone(),
        notice: notice(&ad.content, election.as_ref()),
        delivery,
        findings: service::visible(findings, None),
        versions: versions
            .iter()
            .rev()
            .map(|v| VersionLine {
                version: v.version,
                change: v.change.as_str(),
                reason: v.reason.clone().unwrap_or_default(),
                at: v.at.clone(),
                title: v.content.title.clone(),
                spend: spend_text(&v.content),
            })
            .collect(),
        election: ad.content.election.clone(),
        report: ReportForm::default(),
        report_errors: FieldErrors(Vec::new()),
        ad: line(&ad),
    })
}

/// The notice form of an ad's page (Art. 15): acknowledged at once with a
/// tracking number; a faulty form comes back with each field's message.
pub async fn submit_notice(
    State(state): State<AppState>,
    csrf: FormToken,
    crate::accounts::api::ClientIp(ip): crate::accounts::api::ClientIp,
    Path(id): Path<String>,
    Form(form): Form<ReportForm>,
) -> PageResult {
    check_csrf(&csrf, &form.csrf)?;
    let input = crate::ads::domain::notice::NoticeInput {
        explanation: form.explanation.clone(),
        name: form.name.clone(),
        email: form.email.clone(),
        evidence_url: Some(form.evidence_url.clone()),
    };
    let key = state.ledger.derive_secret("notice source");
    match crate::ads::notices::submit(&state.db, &key, &id, input, ip).await {
        Ok(notice) => Ok(Redirect::to(&format!("/notices/{}", notice.tracking)).into_response()),
        Err(ApiError::Invalid { fields, .. }) => {
            let mut page = detail_page(&state, &csrf, &id).await?;
            page.report = form;
            page.report_errors = FieldErrors(fields);
            Ok(render_again(&page))
        }
        Err(e) => Err(WebError(e)),
    }
}

#[derive(Template)]
#[template(path = "notice_status.html")]
struct NoticePage {
    chrome: Chrome,
    notice: crate::ads::notices::NoticeStatusView,
    status: &'static str,
    title: String,
}

/// A notice's status for its notifier, by tracking number (no identity).
pub async fn notice_status(
    State(state): State<AppState>,
    csrf: FormToken,
    Path(tracking): Path<String>,
) -> PageResult {
    let notice = crate::ads::notices::status(&state.db, &tracking).await?;
    let title = crate::ads::store::ad(state.db.pool(), &notice.ad)
        .await?
        .map_or_else(String::new, |ad| ad.content.title);
    Ok(render(&NoticePage {
        chrome: Chrome::new(format!("Notice {}", notice.tracking), &csrf, "ads"),
        status: match notice.status {
            crate::ads::domain::notice::NoticeStatus::Acknowledged => "received and acknowledged",
            crate::ads::domain::notice::NoticeStatus::UnderReview => "under review",
            crate::ads::domain::notice::NoticeStatus::Upheld => {
                "upheld: the ad was found not to comply"
            }
            crate::ads::domain::notice::NoticeStatus::Rejected => {
                "rejected: the ad was found to comply"
            }
        },
        notice,
        title,
    }))
}

pub struct SpendingRow {
    sponsor: String,
    ads: u64,
    spend: String,
    limit: String,
    status: &'static str,
    status_class: &'static str,
}

#[derive(Template)]
#[template(path = "ads_election.html")]
struct ElectionPage {
    chrome: Chrome,
    election: CalendarEntry,
    rows: Vec<SpendingRow>,
    chart: String,
    findings: Vec<crate::ads::domain::compliance::RuleCount>,
}

pub async fn election(
    State(state): State<AppState>,
    csrf: FormToken,
    Path(id): Path<String>,
) -> PageResult {
    let report = service::election_report(&state.db, &id).await?;
    let lines = &report.spending;
    let rows: Vec<SpendingRow> = lines
        .iter()
        .map(|l| {
            let (status, status_class) = match l.finding.as_ref().map(|f| f.severity) {
                Some(crate::ads::domain::compliance::Severity::Definite) => {
                    ("above the limit", "tlp-red")
                }
                Some(crate::ads::domain::compliance::Severity::Possible) => {
                    ("may be above the limit", "tlp-amber")
                }
                None if l.limit.is_some() => ("within the limit", "tlp-green"),
                None => ("no limit configured", "tlp-clear"),
            };
            SpendingRow {
                sponsor: l.spend.sponsor.clone(),
                ads: l.spend.ads,
                spend: spend_sum_text(&l.spend),
                limit: l
                    .limit
                    .as_ref()
                    .map_or_else(|| "–".into(), |x| format!("{} {}", x.amount, x.currency)),
                status,
                status_class,
            }
        })
        .collect();
    // Whole units of the currency for the chart.
    let chart = horizontal_bars(
        "Spending per sponsor (lower bound)",
        "spending-chart",
        &lines
            .iter()
            .map(|l| {
                (
                    format!("{} ({})", l.spend.sponsor, l.spend.currency),
                    u64::try_from(l.spend.lower_minor / 10i64.pow(l.spend.currency.exponent()))
                        .unwrap_or(0),
                )
            })
            .collect::<Vec<_>>(),
    );
    let findings = crate::ads::domain::compliance::rule_counts(
        report
            .ads
            .iter()
            .flat_map(|a| &a.findings)
            .chain(report.spending_findings()),
    );
    Ok(render(&ElectionPage {
        chrome: Chrome::new(report.election.name.clone(), &csrf, "ads"),
        election: report.election,
        rows,
        chart,
        findings,
    }))
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct SponsorForm {
    name: String,
    cursor: String,
}

/// A line of a spending table: what it groups, the ads, the amount.
pub struct SpendLine {
    group: String,
    ads: u64,
    spend: String,
}

#[derive(Template)]
#[template(path = "ads_sponsor.html")]
struct SponsorPage {
    chrome: Chrome,
    name: String,
    /// One chart per currency.
    charts: Vec<String>,
    months: Vec<SpendLine>,
    elections: Vec<SpendLine>,
    ads: Vec<AdLine>,
    next: Option<String>,
    name_query: String,
}

/// Spend as a sum of bounds: exact, a range, or open-ended.
fn spend_sum_text(spend: &crate::ads::domain::compliance::SponsorSpend) -> String {
    match &spend.upper {
        Some(upper) if *upper == spend.lower => format!("{} {}", spend.lower, spend.currency),
        Some(upper) => format!("{}–{} {}", spend.lower, upper, spend.currency),
        None => format!("at least {} {}", spend.lower, spend.currency),
    }
}

/// A sponsor's page: spending per month (SVG) and per election, its ads.
pub async fn sponsor(
    State(state): State<AppState>,
    csrf: FormToken,
    Query(form): Query<SponsorForm>,
) -> PageResult {
    let after = Some(form.cursor.as_str())
        .filter(|c| !c.is_empty())
        .and_then(service::decode_cursor);
    let report = service::sponsor_report(&state.db, &form.name, after).await?;
    // One chart per currency, in the order they first appear (months are
    // ordered by month, then currency, so a currency recurs).
    let mut currencies: Vec<&crate::ads::domain::Currency> = Vec::new();
    for month in &report.months {
        if !currencies.contains(&&month.currency) {
            currencies.push(&month.currency);
        }
    }
    let charts = currencies
        .iter()
        .map(|currency| {
            let unit = 10i64.pow(currency.exponent());
            let whole = |minor: i64| u64::try_from(minor / unit).unwrap_or(0);
            let columns: Vec<(String, [u64; 2])> = report
                .months
                .iter()
                .filter(|m| &&m.currency == currency)
                .map(|m| {
                    let lower = whole(m.lower_minor);
                    let upper = m.upper_minor.map_or(lower, whole);
                    (m.sponsor.clone(), [lower, upper.saturating_sub(lower)])
                })
                .collect();
            super::chart::stacked_columns(
                &format!("Spending per month the ads started, {currency}"),
                &format!("spend-{currency}"),
                [
                    ("bar-spend", &format!("{currency} at least")),
                    ("bar-spend-range", &format!("{currency} more at most")),
                ],
                &columns,
            )
        })
        .collect();
    let lines = |spends: &[crate::ads::domain::compliance::SponsorSpend]| {
        spends
            .iter()
            .map(|s| SpendLine {
                group: s.sponsor.clone(),
                ads: s.ads,
                spend: spend_sum_text(s),
            })
            .collect::<Vec<_>>()
    };
    Ok(render(&SponsorPage {
        chrome: Chrome::new(form.name.clone(), &csrf, "ads"),
        charts,
        months: lines(&report.months),
        elections: lines(&report.elections),
        ads: report.ads.iter().map(line).collect(),
        next: report.next,
        name_query: url_encode(&form.name),
        name: form.name,
    }))
}
