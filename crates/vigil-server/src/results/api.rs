//! The results JSON API: public reading (no sign-in) and, for the election's
//! own typists and coordinators, the double entry and the lots drawn.
use super::service::{self, EntryAction, EntryView, PublicResults, StationStatus};
use super::store::StationEvent;
use crate::accounts::domain::Role;
use crate::accounts::service::Principal;
use crate::core::error::{ApiError, ApiJson, ErrorBody};
use crate::core::state::AppState;
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_elections, define_election))
        .routes(routes!(get_results))
        .routes(routes!(get_summary))
        .routes(routes!(results_csv))
        .routes(routes!(results_eml_510))
        .routes(routes!(results_eml_520))
        .routes(routes!(stations))
        .routes(routes!(get_entry, act_on_entry))
        .routes(routes!(draw_lot))
}

#[derive(Serialize, ToSchema)]
pub struct ElectionSummary {
    pub id: String,
    pub name: String,
    pub date: String,
    pub release_at: String,
    pub counted: usize,
    pub stations: usize,
}

/// Every election with its counting progress (public).
#[utoipa::path(get, path = "/api/results/elections", tag = "results",
    responses((status = 200, body = Vec<ElectionSummary>)))]
async fn list_elections(
    State(state): State<AppState>,
) -> Result<Json<Vec<ElectionSummary>>, ApiError> {
    Ok(Json(
        service::public_elections(&state.db)
            .await?
            .into_iter()
            .map(|(e, progress)| ElectionSummary {
                id: e.id.to_string(),
                name: e.definition.name,
                date: e.definition.date,
                release_at: e.definition.release_at,
                counted: progress.counted,
                stations: progress.stations,
            })
            .collect(),
    ))
}

#[derive(Serialize, ToSchema)]
pub struct DefinedElection {
    pub id: String,
    pub version: u64,
    pub stations: usize,
}

/// Defines an election from its JSON definition (docs/results.md), for the
/// coordinator's organisation; replaces it while nothing is typed.
#[utoipa::path(post, path = "/api/results/elections", tag = "results",
    request_body(content = Object, content_type = "application/json"),
    responses((status = 201, body = DefinedElection), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn define_election(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    body: Bytes,
) -> Result<(StatusCode, Json<DefinedElection>), ApiError> {
    if !principal.has_role(&Role::COORDINATOR) {
        return Err(ApiError::Forbidden(
            "this needs the coordinator role".into(),
        ));
    }
    let json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !json {
        return Err(ApiError::UnsupportedMediaType(
            "send the definition as application/json".into(),
        ));
    }
    let election = service::define_election(
        &state.db,
        &principal.actor(),
        &principal.organisation.id,
        &body,
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(DefinedElection {
            id: election.id.to_string(),
            version: election.version,
            stations: election.definition.station_count(),
        }),
    ))
}

/// An election's results (public). Before the release time only progress
/// and the log positions of the accepted results' salted commitments;
/// afterwards totals per district and overall, seats with every step, and
/// each station's logged record with its salt and leaf index.
#[utoipa::path(get, path = "/api/results/elections/{id}", tag = "results", params(("id" = String, Path)),
    responses((status = 200, body = PublicResults), (status = 404, body = ErrorBody)))]
async fn get_results(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    published_json(&state, &id, |p| p.json.clone()).await
}

/// An election's totals and seats, without every station's record: what a
/// results page polls (public; during the embargo, progress only).
#[utoipa::path(get, path = "/api/results/elections/{id}/summary", tag = "results", params(("id" = String, Path)),
    responses((status = 200, body = super::service::PublicSummary), (status = 404, body = ErrorBody)))]
async fn get_summary(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    published_json(&state, &id, |p| p.summary_json.clone()).await
}

/// One of the JSON bodies of an election's published results, as built.
async fn published_json(
    state: &AppState,
    id: &str,
    body: fn(&super::cache::Published) -> Bytes,
) -> Result<Response, ApiError> {
    let published = state.published.get(&state.db, &state.ledger, id).await?;
    Ok((
        [(header::CONTENT_TYPE, "application/json")],
        body(&published),
    )
        .into_response())
}

/// Station results as CSV (public, after the release time).
#[utoipa::path(get, path = "/api/results/elections/{id}/results.csv", tag = "results", params(("id" = String, Path)),
    responses((status = 200, content_type = "text/csv", body = String), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn results_csv(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let published = state.published.get(&state.db, &state.ledger, &id).await?;
    let public = &published.results;
    if public.embargoed {
        return Err(ApiError::Conflict(format!(
            "results are embargoed until {}",
            public.release_at
        )));
    }
    let disposition = format!("attachment; filename=\"{}-results.csv\"", public.id);
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        service::results_csv(public),
    )
        .into_response())
}

/// The count as OASIS EML 510: totals per district and every counted
/// station's figures (public, after the release time).
#[utoipa::path(get, path = "/api/results/elections/{id}/eml510.xml", tag = "results", params(("id" = String, Path)),
    responses((status = 200, content_type = "application/xml", body = String), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn results_eml_510(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    eml_response(&state, &id, service::EmlDocument::Count).await
}

/// The result as OASIS EML 520: votes per list and apportionment unit and
/// the lists elected (public, after the release time).
#[utoipa::path(get, path = "/api/results/elections/{id}/eml520.xml", tag = "results", params(("id" = String, Path)),
    responses((status = 200, content_type = "application/xml", body = String), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn results_eml_520(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    eml_response(&state, &id, service::EmlDocument::Result).await
}

async fn eml_response(
    state: &AppState,
    id: &str,
    document: service::EmlDocument,
) -> Result<Response, ApiError> {
    let published = state.published.get(&state.db, &state.ledger, id).await?;
    let public = &published.results;
    let embargoed =
        || ApiError::Conflict(format!("results are embargoed until {}", public.release_at));
    if public.embargoed {
        return Err(embargoed());
    }
    let xml = service::results_eml(public, document).ok_or_else(embargoed)?;
    let number = match document {
        service::EmlDocument::Count => "510",
        service::EmlDocument::Result => "520",
    };
    let disposition = format!("attachment; filename=\"{}-eml{number}.xml\"", public.id);
    Ok((
        [
            (
                header::CONTENT_TYPE,
                "application/xml; charset=utf-8".to_string(),
            ),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        xml,
    )
        .into_response())
}

/// The election's stations with their double-entry state (its typists and coordinators).
#[utoipa::path(get, path = "/api/results/elections/{id}/stations", tag = "results", params(("id" = String, Path)),
    responses((status = 200, body = Vec<StationStatus>), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn stations(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<Json<Vec<StationStatus>>, ApiError> {
    Ok(Json(service::overview(&state.db, &principal, &id).await?.1))
}

#[derive(Serialize, ToSchema)]
pub struct EntryPage {
    pub entry: EntryView,
    /// Every appended event of this form (coordinators only).
    #[schema(value_type = Vec<Object>)]
    pub events: Vec<StationEvent>,
}

/// A station's form as the asking user may see it (a typist never sees
/// another typist's entry).
#[utoipa::path(get, path = "/api/results/elections/{id}/stations/{station}/entry", tag = "results",
    params(("id" = String, Path), ("station" = String, Path)),
    responses((status = 200, body = EntryPage), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn get_entry(
    State(state): State<AppState>,
    principal: Principal,
    Path((id, station)): Path<(String, String)>,
) -> Result<Json<EntryPage>, ApiError> {
    let (_, _, entry, events) = service::entry_view(&state.db, &principal, &id, &station).await?;
    Ok(Json(EntryPage { entry, events }))
}

/// Claims, releases or finalises an entry, or records a coordinator's decision.
#[utoipa::path(post, path = "/api/results/elections/{id}/stations/{station}/entry", tag = "results",
    params(("id" = String, Path), ("station" = String, Path)), request_body = EntryAction,
    responses((status = 200, body = EntryView), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn act_on_entry(
    State(state): State<AppState>,
    principal: Principal,
    Path((id, station)): Path<(String, String)>,
    ApiJson(action): ApiJson<EntryAction>,
) -> Result<Json<EntryView>, ApiError> {
    Ok(Json(
        service::act(&state.db, &principal, &id, &station, action).await?,
    ))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LotDrawn {
    /// `election`, or the district id when seats are apportioned by district.
    pub unit: String,
    /// The number of the list drawn.
    pub list: u32,
}

/// Records the list drawn by lot for the tie the apportionment stopped at (coordinators).
#[utoipa::path(post, path = "/api/results/elections/{id}/lots", tag = "results", params(("id" = String, Path)),
    request_body = LotDrawn,
    responses((status = 204), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn draw_lot(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    ApiJson(lot): ApiJson<LotDrawn>,
) -> Result<StatusCode, ApiError> {
    service::draw_lot(&state.db, &principal, &id, &lot.unit, lot.list).await?;
    Ok(StatusCode::NO_CONTENT)
}
