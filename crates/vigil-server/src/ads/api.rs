//! The political-ad JSON API: public search, ad pages with their history
//! and bulk downloads (no sign-in); filing, correcting and withdrawing for
//! publishers' and sponsors' filers; the elections calendar and removals
//! for regulators.
use super::domain::compliance::Finding;
use super::domain::{AdContent, AdStatus, CalendarEntry, Currency, money::parse_minor};
use super::service;
use super::service::{AdFindings, SpendingLine};
use super::store::{AdQuery, AdVersion, SpendingLimit, StoredAd};
use crate::accounts::service::Principal;
use crate::core::auth::Visitor;
use crate::core::error::{ApiError, ApiJson, ErrorBody, FieldError};
use crate::core::state::AppState;
use axum::Json;
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(search_ads, file_ad))
        .routes(routes!(export_jsonl))
        .routes(routes!(export_csv))
        .routes(routes!(calendar, save_calendar_entry))
        .routes(routes!(get_ad, correct_ad))
        .routes(routes!(withdraw_ad))
        .routes(routes!(remove_ad))
        .routes(routes!(ad_findings))
        .routes(routes!(election_spending))
        .routes(routes!(election_findings))
        .routes(routes!(limits, save_limit))
        .routes(routes!(import_ads))
        .routes(routes!(submit_notice))
        .routes(routes!(notice_queue))
        .routes(routes!(notice_counts))
        .routes(routes!(notice_status))
        .routes(routes!(decide_notice))
}

/// Notifies the publisher and regulators that an ad may not comply (Art.
/// 15; public). Answers at once with the tracking number.
#[utoipa::path(post, path = "/api/ads/{id}/notices", tag = "ads", params(("id" = String, Path)),
    request_body = super::domain::notice::NoticeInput,
    responses((status = 201, body = super::notices::NoticeStatusView), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody), (status = 429, body = ErrorBody)))]
async fn submit_notice(
    State(state): State<AppState>,
    crate::accounts::api::ClientIp(ip): crate::accounts::api::ClientIp,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<super::domain::notice::NoticeInput>,
) -> Result<(StatusCode, Json<super::notices::NoticeStatusView>), ApiError> {
    let key = state.ledger.derive_secret("notice source");
    let notice = super::notices::submit(&state.db, &key, &id, input, ip).await?;
    Ok((StatusCode::CREATED, Json(notice.public())))
}

/// A notice's status by its tracking number (public; no identity).
#[utoipa::path(get, path = "/api/ads/notices/{tracking}", tag = "ads", params(("tracking" = String, Path)),
    responses((status = 200, body = super::notices::NoticeStatusView), (status = 404, body = ErrorBody)))]
async fn notice_status(
    State(state): State<AppState>,
    Path(tracking): Path<String>,
) -> Result<Json<super::notices::NoticeStatusView>, ApiError> {
    Ok(Json(super::notices::status(&state.db, &tracking).await?))
}

/// The notices queue with the notifiers (regulators: all; filers: about
/// their organisation's ads).
#[utoipa::path(get, path = "/api/ads/notices", tag = "ads",
    responses((status = 200, body = Vec<super::notices::Notice>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn notice_queue(
    State(state): State<AppState>,
    principal: Principal,
) -> Result<Json<Vec<super::notices::Notice>>, ApiError> {
    Ok(Json(super::notices::queue(&state.db, &principal).await?))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NoticeDecision {
    pub step: super::domain::notice::NoticeStep,
    #[serde(default)]
    pub reasons: String,
}

/// Starts the review of a notice or decides it with reasons (regulators;
/// filers for their organisation's ads).
#[utoipa::path(post, path = "/api/ads/notices/{tracking}/decision", tag = "ads", params(("tracking" = String, Path)),
    request_body = NoticeDecision,
    responses((status = 200, body = super::notices::Notice), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn decide_notice(
    State(state): State<AppState>,
    principal: Principal,
    Path(tracking): Path<String>,
    ApiJson(body): ApiJson<NoticeDecision>,
) -> Result<Json<super::notices::Notice>, ApiError> {
    Ok(Json(
        super::notices::decide(&state.db, &principal, &tracking, body.step, &body.reasons).await?,
    ))
}

/// Notices per status, over all ads or an election's (public).
#[utoipa::path(get, path = "/api/ads/notices/counts", tag = "ads", params(LimitFilter),
    responses((status = 200, body = super::notices::NoticeCounts)))]
async fn notice_counts(
    State(state): State<AppState>,
    Query(filter): Query<LimitFilter>,
) -> Result<Json<super::notices::NoticeCounts>, ApiError> {
    Ok(Json(
        super::notices::counts(&state.db, filter.election.as_deref()).await?,
    ))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ImportParams {
    /// `meta` (Ad Library API JSON), `google` (creative-stats CSV), `jsonl`
    /// or `csv` (generic: columns named as the filing form's fields).
    format: String,
    /// Country of dissemination for rows that give none.
    country: Option<String>,
    /// Language for rows that give none (Google gives none).
    language: Option<String>,
    /// Which `Spend_Range_*` columns to read (Google; default EUR).
    currency: Option<String>,
    /// Links every ad to this election of the calendar.
    election: Option<String>,
}

/// Imports ads from another archive (filers and regulators). Bad rows are
/// reported with their line and the good ones kept; importing the same
/// file again changes nothing.
#[utoipa::path(post, path = "/api/ads/import", tag = "ads", params(ImportParams),
    request_body(content = String, content_type = "application/octet-stream"),
    responses((status = 200, body = super::service::ImportReport), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn import_ads(
    State(state): State<AppState>,
    principal: Principal,
    Query(params): Query<ImportParams>,
    body: axum::body::Bytes,
) -> Result<Json<super::service::ImportReport>, ApiError> {
    let format = super::import::Format::parse(&params.format).ok_or_else(|| {
        ApiError::invalid(vec![FieldError::new(
            "format",
            "meta, google, jsonl or csv",
        )])
    })?;
    let options = super::import::ImportOptions {
        country: params.country,
        language: params.language,
        currency: params.currency,
        election: params.election,
        today: crate::core::time::Timestamp::now()
            .to_string()
            .chars()
            .take(10)
            .collect(),
    };
    let rows = super::import::read(format, &body, &options)
        .map_err(|message| ApiError::invalid(vec![FieldError::new("file", message)]))?;
    Ok(Json(
        service::import(&state.db, &principal, rows, &|_| {}).await?,
    ))
}

/// The filters of a search or a bulk download.
#[derive(Deserialize, IntoParams, Default)]
#[serde(default)]
#[into_params(parameter_in = Query)]
pub struct AdFilters {
    /// Words that must all occur in the ad's text or an entity's name.
    q: Option<String>,
    election: Option<String>,
    /// ISO 3166-1 alpha-2.
    country: Option<String>,
    /// A region the ad was disseminated in, exactly as filed.
    region: Option<String>,
    /// The sponsor's exact name.
    sponsor: Option<String>,
    payer: Option<String>,
    publisher: Option<String>,
    /// ISO 639-1.
    language: Option<String>,
    /// `active`, `withdrawn` or `removed`.
    status: Option<String>,
    /// Ads running on or after this date (YYYY-MM-DD).
    from: Option<String>,
    /// Ads running on or before this date.
    to: Option<String>,
    /// The currency of `spend_min` and `spend_max`.
    currency: Option<String>,
    /// Decimal amounts; an ad matches when its spend (or spend range) overlaps.
    spend_min: Option<String>,
    spend_max: Option<String>,
    /// A category of personal data used for targeting, e.g. `location`.
    targeting: Option<String>,
    /// Page size (1–1000, default 50).
    limit: Option<usize>,
    /// The `next_cursor` of the previous page.
    cursor: Option<String>,
}

impl AdFilters {
    fn query(&self) -> Result<AdQuery, ApiError> {
        let mut errors = Vec::new();
        let status = match self.status.as_deref() {
            None => None,
            Some(text) => {
                let parsed = AdStatus::parse(text);
                if parsed.is_none() {
                    errors.push(FieldError::new("status", "active, withdrawn or removed"));
                }
                parsed
            }
        };
        let currency = self.currency.as_deref().map(Currency::parse);
        let mut amount = |field: &str, text: &Option<String>| -> Option<i64> {
            let text = text.as_deref()?;
            let Some(Some(currency)) = &currency else {
                errors.push(FieldError::new(
                    field,
                    "give the currency too (currency=EUR)",
                ));
                return None;
            };
            parse_minor(text, currency)
                .map_err(|e| errors.push(FieldError::new(field, e.to_string())))
                .ok()
        };
        let spend_min = amount("spend_min", &self.spend_min);
        let spend_max = amount("spend_max", &self.spend_max);
        if matches!(currency, Some(None)) {
            errors.push(FieldError::new("currency", "an ISO 4217 code such as EUR"));
        }
        let after = match self.cursor.as_deref() {
            None => None,
            Some(cursor) => {
                let decoded = service::decode_cursor(cursor);
                if decoded.is_none() {
                    errors.push(FieldError::new("cursor", "not a cursor of this API"));
                }
                decoded
            }
        };
        for (field, value) in [("from", &self.from), ("to", &self.to)] {
            if value
                .as_deref()
                .is_some_and(|d| !super::domain::ad::is_date(d))
            {
                errors.push(FieldError::new(field, "a date YYYY-MM-DD"));
            }
        }
        if !errors.is_empty() {
            return Err(ApiError::invalid(errors));
        }
        Ok(AdQuery {
            words: self
                .q
                .as_deref()
                .unwrap_or("")
                .split_whitespace()
                .take(10)
                .map(str::to_string)
                .collect(),
            election: self.election.clone(),
            country: self.country.clone(),
            region: self.region.clone(),
            sponsor: self.sponsor.clone(),
            payer: self.payer.clone(),
            publisher: self.publisher.clone(),
            language: self.language.clone(),
            status,
            from: self.from.clone(),
            to: self.to.clone(),
            currency: currency.flatten().map(|c| c.to_string()),
            spend_min,
            spend_max,
            targeting_category: self.targeting.clone(),
            after,
            organisation: None,
        })
    }
}

#[derive(Serialize, ToSchema)]
pub struct AdPage {
    pub ads: Vec<StoredAd>,
    /// Give it as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

/// Searches the repository (public): newest filings first, stable cursors.
#[utoipa::path(get, path = "/api/ads", tag = "ads", params(AdFilters),
    responses((status = 200, body = AdPage), (status = 422, body = ErrorBody)))]
async fn search_ads(
    State(state): State<AppState>,
    Query(filters): Query<AdFilters>,
) -> Result<Json<AdPage>, ApiError> {
    let query = filters.query()?;
    let (ads, next_cursor) =
        service::search(&state.db, &query, filters.limit.unwrap_or(50)).await?;
    Ok(Json(AdPage { ads, next_cursor }))
}

/// Files an ad with its transparency notice (filers of a publisher or sponsor).
#[utoipa::path(post, path = "/api/ads", tag = "ads", request_body(content = Object),
    responses((status = 201, body = StoredAd), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn file_ad(
    State(state): State<AppState>,
    principal: Principal,
    ApiJson(content): ApiJson<AdContent>,
) -> Result<(StatusCode, Json<StoredAd>), ApiError> {
    Ok((
        StatusCode::CREATED,
        Json(service::file(&state.db, &principal, content).await?),
    ))
}

#[derive(Serialize, ToSchema)]
pub struct AdWithHistory {
    pub ad: StoredAd,
    /// Every version, oldest first: nothing is ever deleted.
    pub versions: Vec<AdVersion>,
}

/// An ad with its notice and every version (public).
#[utoipa::path(get, path = "/api/ads/{id}", tag = "ads", params(("id" = String, Path)),
    responses((status = 200, body = AdWithHistory), (status = 404, body = ErrorBody)))]
async fn get_ad(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<AdWithHistory>, ApiError> {
    let (ad, versions) = service::ad_with_history(&state.db, &id).await?;
    Ok(Json(AdWithHistory { ad, versions }))
}

/// Corrects an ad: a new version of the same id (its filer's organisation).
#[utoipa::path(put, path = "/api/ads/{id}", tag = "ads", params(("id" = String, Path)), request_body(content = Object),
    responses((status = 200, body = StoredAd), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn correct_ad(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    ApiJson(content): ApiJson<AdContent>,
) -> Result<Json<StoredAd>, ApiError> {
    Ok(Json(
        service::correct(&state.db, &principal, &id, content).await?,
    ))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Reason {
    pub reason: String,
}

/// Withdraws an ad (its filer's organisation); it stays visible as withdrawn.
#[utoipa::path(post, path = "/api/ads/{id}/withdraw", tag = "ads", params(("id" = String, Path)), request_body = Reason,
    responses((status = 200, body = StoredAd), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn withdraw_ad(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<Reason>,
) -> Result<Json<StoredAd>, ApiError> {
    Ok(Json(
        service::withdraw(&state.db, &principal, &id, body.reason).await?,
    ))
}

/// Removes an ad by a regulator's decision; it stays visible as removed.
#[utoipa::path(post, path = "/api/ads/{id}/remove", tag = "ads", params(("id" = String, Path)), request_body = Reason,
    responses((status = 200, body = StoredAd), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn remove_ad(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<Reason>,
) -> Result<Json<StoredAd>, ApiError> {
    Ok(Json(
        service::remove(&state.db, &principal, &id, body.reason).await?,
    ))
}

/// The elections and referendums ads are linked to (public).
#[utoipa::path(get, path = "/api/ads/elections", tag = "ads",
    responses((status = 200, body = Vec<CalendarEntry>)))]
async fn calendar(State(state): State<AppState>) -> Result<Json<Vec<CalendarEntry>>, ApiError> {
    Ok(Json(service::calendar(&state.db).await?))
}

/// Adds an election or referendum to the calendar, or updates it (regulators).
#[utoipa::path(post, path = "/api/ads/elections", tag = "ads", request_body = CalendarEntry,
    responses((status = 200, body = CalendarEntry), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn save_calendar_entry(
    State(state): State<AppState>,
    principal: Principal,
    ApiJson(entry): ApiJson<CalendarEntry>,
) -> Result<Json<CalendarEntry>, ApiError> {
    Ok(Json(
        service::save_calendar_entry(&state.db, &principal, entry).await?,
    ))
}

// ---------- compliance ----------

#[derive(Serialize, ToSchema)]
pub struct AdFindingsBody {
    #[schema(value_type = String)]
    pub ad: crate::core::ids::AdId,
    /// Evaluated now; the evidence for regulators only.
    pub findings: Vec<Finding>,
}

/// An ad's compliance findings, each with its rule and legal reference
/// (public; regulators also read the evidence).
#[utoipa::path(get, path = "/api/ads/{id}/findings", tag = "ads", params(("id" = String, Path)),
    responses((status = 200, body = AdFindingsBody), (status = 404, body = ErrorBody)))]
async fn ad_findings(
    State(state): State<AppState>,
    Visitor(visitor): Visitor,
    Path(id): Path<String>,
) -> Result<Json<AdFindingsBody>, ApiError> {
    let (ad, findings) = service::ad_findings(&state.db, &id).await?;
    Ok(Json(AdFindingsBody {
        ad: ad.id,
        findings: service::visible(findings, visitor.as_ref()),
    }))
}

/// Every sponsor's spending in an election (sums of lower and upper bounds
/// per currency) against its configured limit (public).
#[utoipa::path(get, path = "/api/ads/elections/{id}/spending", tag = "ads", params(("id" = String, Path)),
    responses((status = 200, body = Vec<SpendingLine>), (status = 404, body = ErrorBody)))]
async fn election_spending(
    State(state): State<AppState>,
    Visitor(visitor): Visitor,
    Path(id): Path<String>,
) -> Result<Json<Vec<SpendingLine>>, ApiError> {
    let mut lines = service::election_spending(&state.db, &id).await?;
    for line in &mut lines {
        line.finding = line
            .finding
            .take()
            .and_then(|f| service::visible(vec![f], visitor.as_ref()).pop());
    }
    Ok(Json(lines))
}

#[derive(Serialize, ToSchema)]
pub struct ElectionFindingsBody {
    /// Findings per rule over the election's ads and sponsors.
    pub summary: Vec<super::domain::compliance::RuleCount>,
    pub ads: Vec<AdFindings>,
    pub spending: Vec<Finding>,
}

/// The findings of an election's ads and sponsors: counts per rule, and
/// each finding (public without the evidence; regulators in full).
#[utoipa::path(get, path = "/api/ads/elections/{id}/findings", tag = "ads", params(("id" = String, Path)),
    responses((status = 200, body = ElectionFindingsBody), (status = 404, body = ErrorBody)))]
async fn election_findings(
    State(state): State<AppState>,
    Visitor(visitor): Visitor,
    Path(id): Path<String>,
) -> Result<Json<ElectionFindingsBody>, ApiError> {
    let report = service::election_report(&state.db, &id).await?;
    let summary = super::domain::compliance::rule_counts(
        report
            .ads
            .iter()
            .flat_map(|a| &a.findings)
            .chain(report.spending_findings()),
    );
    let spending: Vec<Finding> = report.spending_findings().cloned().collect();
    let mut ads = report.ads;
    for ad in &mut ads {
        ad.findings = service::visible(std::mem::take(&mut ad.findings), visitor.as_ref());
    }
    let spending = service::visible(spending, visitor.as_ref());
    Ok(Json(ElectionFindingsBody {
        summary,
        ads,
        spending,
    }))
}

#[derive(Deserialize, IntoParams, Default)]
#[serde(default)]
#[into_params(parameter_in = Query)]
pub struct LimitFilter {
    election: Option<String>,
}

/// The configured spending limits (public).
#[utoipa::path(get, path = "/api/ads/limits", tag = "ads", params(LimitFilter),
    responses((status = 200, body = Vec<SpendingLimit>)))]
async fn limits(
    State(state): State<AppState>,
    Query(filter): Query<LimitFilter>,
) -> Result<Json<Vec<SpendingLimit>>, ApiError> {
    Ok(Json(
        service::limits(&state.db, filter.election.as_deref()).await?,
    ))
}

/// Sets a sponsor's spending limit in an election (regulators).
#[utoipa::path(post, path = "/api/ads/limits", tag = "ads", request_body = SpendingLimit,
    responses((status = 200, body = SpendingLimit), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn save_limit(
    State(state): State<AppState>,
    principal: Principal,
    ApiJson(limit): ApiJson<SpendingLimit>,
) -> Result<Json<SpendingLimit>, ApiError> {
    Ok(Json(
        service::save_limit(&state.db, &principal, limit).await?,
    ))
}

// ---------- bulk downloads, streamed a page at a time ----------

const EXPORT_PAGE: usize = 1_000;

/// Every ad matching `query`, a page of the search at a time, each ad
/// rendered by `render`, after an optional header line.
fn export_body(
    state: AppState,
    query: AdQuery,
    header_line: Option<String>,
    render: fn(&StoredAd) -> String,
) -> Body {
    Body::from_stream(futures_util::stream::unfold(
        (Some(query), header_line),
        move |(query, header_line)| {
            let state = state.clone();
            async move {
                if let Some(line) = header_line {
                    return Some((Ok(line), (query, None)));
                }
                let mut query = query?;
                match super::store::search(&state.db, &query, EXPORT_PAGE).await {
                    Ok(ads) => {
                        let next = (ads.len() == EXPORT_PAGE)
                            .then(|| ads.last().map(|a| (a.filed_at.clone(), a.id.to_string())))
                            .flatten();
                        let chunk: String = ads.iter().map(render).collect();
                        let following = next.map(|after| {
                            query.after = Some(after);
                            query
                        });
                        if chunk.is_empty() {
                            None
                        } else {
                            Some((Ok(chunk), (following, None)))
                        }
                    }
                    // The body has started: the error ends the stream, which
                    // the client sees as a truncated download.
                    Err(e) => Some((Err(std::io::Error::other(e.to_string())), (None, None))),
                }
            }
        },
    ))
}

fn jsonl_line(ad: &StoredAd) -> String {
    let mut line = serde_json::to_string(ad).unwrap_or_default();
    line.push('\n');
    line
}

const CSV_HEADER: &str = "id,version,status,status_reason,title,sponsor,sponsor_country,controller,payer,beneficiary,publisher,election,countries,language,period_start,period_end,currency,spend,spend_lower,spend_upper,funding_origin,funding_source,targeting_used,text,filed_at,updated_at\r\n";

/// A unit enum as the word it is written as in JSON.
fn word(value: &impl Serialize) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

fn csv_line(ad: &StoredAd) -> String {
    let c = &ad.content;
    let bounds = c.spend_bounds();
    let name =
        |e: &Option<super::domain::Entity>| e.as_ref().map(|e| e.name.clone()).unwrap_or_default();
    let fields: Vec<String> = vec![
        ad.id.to_string(),
        ad.version.to_string(),
        ad.status.as_str().into(),
        ad.status_reason.clone().unwrap_or_default(),
        c.title.clone(),
        c.sponsor.name.clone(),
        c.sponsor.country.clone().unwrap_or_default(),
        name(&c.controller),
        name(&c.payer),
        name(&c.beneficiary),
        c.publisher.name.clone(),
        c.election.clone().unwrap_or_default(),
        c.countries.join(" "),
        c.creative.language.clone(),
        c.period_start.clone(),
        c.period_end.clone(),
        bounds
            .as_ref()
            .map(|b| b.currency.to_string())
            .unwrap_or_default(),
        c.spend
            .as_ref()
            .map(|s| s.amount.clone())
            .unwrap_or_default(),
        bounds
            .as_ref()
            .map(|b| super::domain::money::format_minor(b.lower_minor, &b.currency))
            .unwrap_or_default(),
        bounds
            .as_ref()
            .and_then(|b| {
                b.upper_minor
                    .map(|u| super::domain::money::format_minor(u, &b.currency))
            })
            .unwrap_or_default(),
        c.spend
            .as_ref()
            .map(|s| word(&s.origin))
            .unwrap_or_default(),
        c.spend
            .as_ref()
            .map(|s| word(&s.source))
            .unwrap_or_default(),
        c.targeting.used.to_string(),
        c.creative.text.clone(),
        ad.filed_at.clone(),
        ad.updated_at.clone(),
    ];
    crate::core::csv::line(&fields)
}

/// A streamed download of every ad matching the filters.
fn download(
    state: AppState,
    filters: &AdFilters,
    (content_type, filename): (&'static str, &'static str),
    header_line: Option<String>,
    render: fn(&StoredAd) -> String,
) -> Result<Response, ApiError> {
    let query = filters.query()?;
    Ok((
        [
            (header::CONTENT_TYPE, content_type.to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{filename}\""),
            ),
        ],
        export_body(state, query, header_line, render),
    )
        .into_response())
}

/// Every ad matching the filters as JSON Lines, streamed (public).
#[utoipa::path(get, path = "/api/ads/export.jsonl", tag = "ads", params(AdFilters),
    responses((status = 200, content_type = "application/x-ndjson", body = String), (status = 422, body = ErrorBody)))]
async fn export_jsonl(
    State(state): State<AppState>,
    Query(filters): Query<AdFilters>,
) -> Result<Response, ApiError> {
    download(
        state,
        &filters,
        ("application/x-ndjson", "ads.jsonl"),
        None,
        jsonl_line,
    )
}

/// Every ad matching the filters as CSV, streamed (public).
#[utoipa::path(get, path = "/api/ads/export.csv", tag = "ads", params(AdFilters),
    responses((status = 200, content_type = "text/csv", body = String), (status = 422, body = ErrorBody)))]
async fn export_csv(
    State(state): State<AppState>,
    Query(filters): Query<AdFilters>,
) -> Result<Response, ApiError> {
    download(
        state,
        &filters,
        ("text/csv; charset=utf-8", "ads.csv"),
        Some(CSV_HEADER.to_string()),
        csv_line,
    )
}
