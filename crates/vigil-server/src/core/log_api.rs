//! Read-only HTTP for the transparency log: the signed checkpoint and tiles
//! (c2sp.org/tlog-tiles, under `/log/`), the verifier key, and JSON proofs.
use crate::core::error::{ApiError, ErrorBody, FieldError};
use crate::core::ledger::{ConsistencyProof, InclusionProof};
use crate::core::state::AppState;
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use vigil_tlog::TilePath;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(checkpoint))
        .routes(routes!(key))
        // Tile paths contain slashes, which needs a wildcard route; its
        // documentation is merged in through `TileDoc`.
        .route("/log/tile/{*path}", axum::routing::get(tile))
        .routes(routes!(log_state))
        .routes(routes!(inclusion))
        .routes(routes!(consistency))
        .routes(routes!(sign_checkpoint))
}

fn text(body: String, cache: &'static str) -> Response {
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    response
}

/// The latest signed checkpoint (c2sp.org/tlog-checkpoint in a signed note).
#[utoipa::path(get, path = "/log/checkpoint", tag = "log", responses((status = 200, content_type = "text/plain", body = String)))]
async fn checkpoint(State(state): State<AppState>) -> Result<Response, ApiError> {
    let signed = match state.ledger.latest_checkpoint().await? {
        Some(signed) => signed,
        None => state.ledger.checkpoint().await?,
    };
    Ok(text(signed.note, "no-cache"))
}

/// The log's verifier key (Go `note` format: `name+keyid+base64(0x01‖key)`).
#[utoipa::path(get, path = "/log/key", tag = "log", responses((status = 200, content_type = "text/plain", body = String)))]
async fn key(State(state): State<AppState>) -> Response {
    text(
        format!("{}\n", state.ledger.verifier_key()),
        "public, max-age=3600",
    )
}

#[derive(utoipa::OpenApi)]
#[openapi(paths(tile))]
pub struct TileDoc;

/// A hash tile or entry bundle (c2sp.org/tlog-tiles), e.g. `0/x001/234` or `entries/000.p/17`.
#[utoipa::path(get, path = "/log/tile/{path}", tag = "log", params(("path" = String, Path, description = "tile path after tile/")),
    responses((status = 200, content_type = "application/octet-stream", body = Vec<u8>), (status = 404, body = ErrorBody)))]
async fn tile(
    State(state): State<AppState>,
    Path(path): Path<String>,
) -> Result<Response, ApiError> {
    let parsed = TilePath::parse(&path).map_err(|e| ApiError::NotFound(e.to_string()))?;
    let bytes = state
        .ledger
        .tile(parsed)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("tile {path} does not exist yet")))?;
    let mut response = bytes.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/octet-stream"),
    );
    // Tiles never change once they exist (partial ones are superseded, not altered).
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=31536000, immutable"),
    );
    Ok(response)
}

#[derive(Serialize, ToSchema)]
pub struct LogState {
    pub origin: String,
    pub verifier_key: String,
    pub tree_size: u64,
    pub checkpoint_size: u64,
    pub checkpoint: String,
}

/// Origin, key, current size and latest checkpoint.
#[utoipa::path(get, path = "/api/log", tag = "log", responses((status = 200, body = LogState)))]
async fn log_state(State(state): State<AppState>) -> Result<Json<LogState>, ApiError> {
    let signed = match state.ledger.latest_checkpoint().await? {
        Some(signed) => signed,
        None => state.ledger.checkpoint().await?,
    };
    Ok(Json(LogState {
        origin: state.ledger.origin().to_string(),
        verifier_key: state.ledger.verifier_key(),
        tree_size: state.ledger.size().await?,
        checkpoint_size: signed.checkpoint.size,
        checkpoint: signed.note,
    }))
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct InclusionQuery {
    /// Leaf index; or give `kind` and `id` (and optionally `version`).
    pub index: Option<u64>,
    /// Record kind, e.g. `organisation`, `user`, `audit_event`.
    pub kind: Option<String>,
    pub id: Option<String>,
    pub version: Option<u64>,
    /// Tree size to prove against; default: the latest checkpoint (signed now if needed).
    pub tree_size: Option<u64>,
}

/// An inclusion proof for a leaf, by index or by record.
#[utoipa::path(get, path = "/api/log/proof/inclusion", tag = "log", params(InclusionQuery),
    responses((status = 200, body = InclusionProof), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn inclusion(
    State(state): State<AppState>,
    Query(query): Query<InclusionQuery>,
) -> Result<Json<InclusionProof>, ApiError> {
    let index = match (query.index, &query.kind, &query.id) {
        (Some(index), None, None) => index,
        (None, Some(kind), Some(id)) => state
            .ledger
            .find_leaf(kind, id, query.version)
            .await?
            .ok_or_else(|| ApiError::NotFound(format!("no log leaf for {kind} {id}")))?,
        _ => {
            return Err(ApiError::invalid(vec![FieldError::new(
                "index",
                "give either index, or kind and id",
            )]));
        }
    };
    let size = state.ledger.size().await?;
    if index >= size {
        return Err(ApiError::NotFound(format!(
            "leaf {index} does not exist; the log has {size} leaves"
        )));
    }
    Ok(Json(
        state.ledger.inclusion_proof(index, query.tree_size).await?,
    ))
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct ConsistencyQuery {
    pub old_size: u64,
    pub new_size: u64,
}

/// A consistency proof between two tree sizes.
#[utoipa::path(get, path = "/api/log/proof/consistency", tag = "log", params(ConsistencyQuery),
    responses((status = 200, body = ConsistencyProof), (status = 422, body = ErrorBody)))]
async fn consistency(
    State(state): State<AppState>,
    Query(query): Query<ConsistencyQuery>,
) -> Result<Json<ConsistencyProof>, ApiError> {
    Ok(Json(
        state
            .ledger
            .consistency_proof(query.old_size, query.new_size)
            .await?,
    ))
}

/// Signs a checkpoint of the current tree now (administrators).
#[utoipa::path(post, path = "/api/admin/log/checkpoint", tag = "admin",
    responses((status = 201, content_type = "text/plain", body = String), (status = 403, body = ErrorBody)))]
async fn sign_checkpoint(
    State(state): State<AppState>,
    _: crate::core::auth::Administrator,
) -> Result<Response, ApiError> {
    let signed = state.ledger.checkpoint().await?;
    Ok((StatusCode::CREATED, text(signed.note, "no-cache")).into_response())
}
