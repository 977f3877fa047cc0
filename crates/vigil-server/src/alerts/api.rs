//! The administrators' JSON API for the Rapid Alert System: trust
//! communities and their members, collections and their grants. (The
//! sharing itself speaks TAXII: see `taxii.rs`.)
use super::domain::{
    Alert, Collection, CollectionId, Community, CommunityId, Derivative, Grant, Membership,
};
use super::service::{self, NewCollection};
use super::store;
use crate::accounts::service::Principal;
use crate::core::auth::Administrator;
use crate::core::error::{ApiError, ApiJson, ErrorBody};
use crate::core::state::AppState;
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_communities, create_community))
        .routes(routes!(get_community))
        .routes(routes!(set_member))
        .routes(routes!(create_collection))
        .routes(routes!(get_collection))
        .routes(routes!(set_grant))
        .routes(routes!(set_tlp_profile))
        .routes(routes!(search_techniques))
        .routes(routes!(get_technique))
        .routes(routes!(list_alerts, create_alert))
        .routes(routes!(get_alert, change_alert))
        .routes(routes!(publish_alert))
        .routes(routes!(revoke_alert))
        .routes(routes!(acknowledge_alert))
        .routes(routes!(give_opinion))
        .routes(routes!(alert_receipts))
        .routes(routes!(release_preview))
        .routes(routes!(release_alert))
        .routes(routes!(live_stream))
        .routes(routes!(object_log))
        .routes(routes!(list_webhooks, add_webhook))
        .routes(routes!(remove_webhook))
}

#[derive(Deserialize, ToSchema)]
pub struct WebhookRequest {
    /// Where events are POSTed (http:// or https://).
    pub url: String,
}

#[derive(Serialize, ToSchema)]
pub struct NewWebhook {
    pub webhook: crate::alerts::webhooks::Webhook,
    /// The HMAC-SHA-256 key of `X-Vigil-Signature`, shown once.
    pub secret: String,
}

/// An organisation's webhooks.
#[utoipa::path(get, path = "/api/admin/organisations/{id}/webhooks", tag = "admin", params(("id" = String, Path)),
    responses((status = 200, body = Vec<crate::alerts::webhooks::Webhook>), (status = 403, body = ErrorBody)))]
async fn list_webhooks(
    State(state): State<AppState>,
    _: Administrator,
    Path(id): Path<String>,
) -> Result<Json<Vec<crate::alerts::webhooks::Webhook>>, ApiError> {
    let organisation = crate::core::ids::OrganisationId::from_stored(id);
    Ok(Json(
        crate::alerts::webhooks::webhooks(&state.db, Some(&organisation)).await?,
    ))
}

/// Registers a webhook that receives the events the organisation may see
/// (signed with `X-Vigil-Signature: sha256=<HMAC of the body>`).
#[utoipa::path(post, path = "/api/admin/organisations/{id}/webhooks", tag = "admin", params(("id" = String, Path)),
    request_body = WebhookRequest, responses((status = 201, body = NewWebhook), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn add_webhook(
    State(state): State<AppState>,
    Administrator(admin): Administrator,
    Path(id): Path<String>,
    ApiJson(request): ApiJson<WebhookRequest>,
) -> Result<(StatusCode, Json<NewWebhook>), ApiError> {
    let (webhook, secret) = crate::alerts::webhooks::add_webhook(
        &state.db,
        &state.ledger,
        &admin.actor(),
        &id,
        &request.url,
    )
    .await?;
    Ok((StatusCode::CREATED, Json(NewWebhook { webhook, secret })))
}

/// Stops a webhook.
#[utoipa::path(delete, path = "/api/admin/webhooks/{id}", tag = "admin", params(("id" = String, Path)),
    responses((status = 200, body = crate::alerts::webhooks::Webhook), (status = 404, body = ErrorBody)))]
async fn remove_webhook(
    State(state): State<AppState>,
    Administrator(admin): Administrator,
    Path(id): Path<String>,
) -> Result<Json<crate::alerts::webhooks::Webhook>, ApiError> {
    Ok(Json(
        crate::alerts::webhooks::remove_webhook(&state.db, &admin.actor(), &id).await?,
    ))
}

/// Where each version of a STIX object the caller may see sits in the
/// transparency log, with a link to its inclusion proof.
#[utoipa::path(get, path = "/api/communities/{community}/collections/{collection}/objects/{id}/log", tag = "alerts",
    params(("community" = String, Path), ("collection" = String, Path), ("id" = String, Path)),
    responses((status = 200, body = Vec<service::LoggedVersion>), (status = 404, body = ErrorBody)))]
async fn object_log(
    State(state): State<AppState>,
    principal: Principal,
    Path((community, collection, id)): Path<(String, String, String)>,
) -> Result<Json<Vec<service::LoggedVersion>>, ApiError> {
    Ok(Json(
        service::logged_versions(
            &state.db,
            &state.ledger,
            &principal,
            (&community, &collection),
            &id,
        )
        .await?,
    ))
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct StreamQuery {
    /// Only events of this collection.
    pub collection: Option<String>,
}

/// Server-Sent Events of objects shared, updated, revoked or deleted in the
/// collections the caller may read, filtered by TLP. Each event's id is the
/// log index of the object version; send `Last-Event-ID` to resume.
#[utoipa::path(get, path = "/api/stream", tag = "alerts", params(StreamQuery),
    responses((status = 200, content_type = "text/event-stream", description = "events named created, updated, revoked or deleted; data: a JSON summary of the object"),
        (status = 401, body = ErrorBody)))]
async fn live_stream(
    State(state): State<AppState>,
    principal: Principal,
    headers: axum::http::HeaderMap,
    Query(query): Query<StreamQuery>,
) -> Result<
    axum::response::sse::Sse<
        impl futures_util::Stream<Item = Result<axum::response::sse::Event, std::convert::Infallible>>,
    >,
    ApiError,
> {
    use crate::alerts::stream::{LiveEvent, Subscriber, replay};
    use axum::response::sse::{Event, KeepAlive, Sse};
    use std::collections::VecDeque;
    use tokio::sync::broadcast::error::RecvError;

    let subscriber = Subscriber::new(&state.db, &principal, query.collection).await?;
    // Subscribe before replaying, so that nothing falls between the two.
    let (receiver, closing, rights) = state.live.subscribe();
    let last_event_id = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    let backlog: VecDeque<LiveEvent> = match last_event_id {
        Some(after) => replay(&state.db, &subscriber, after).await?.into(),
        None => VecDeque::new(),
    };
    let last_sent = last_event_id.unwrap_or(0);
    struct Streaming {
        db: crate::core::db::Db,
        subscriber: Subscriber,
        receiver: tokio::sync::broadcast::Receiver<std::sync::Arc<LiveEvent>>,
        closing: tokio::sync::watch::Receiver<bool>,
        rights: tokio::sync::watch::Receiver<u64>,
        backlog: VecDeque<LiveEvent>,
        last_sent: u64,
    }
    let start = Streaming {
        db: state.db.clone(),
        subscriber,
        receiver,
        closing,
        rights,
        backlog,
        last_sent,
    };
    let message = |event: &LiveEvent| {
        let change = serde_json::to_value(event.change)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default();
        Event::default()
            .id(event.log_index.to_string())
            .event(change)
            .json_data(event)
            .unwrap_or_default()
    };
    let stream = futures_util::stream::unfold(start, move |mut s| async move {
        loop {
            if *s.closing.borrow() {
                return None;
            }
            if let Some(event) = s.backlog.pop_front() {
                s.last_sent = s.last_sent.max(event.log_index);
                return Some((Ok(message(&event)), s));
            }
            tokio::select! {
                received = s.receiver.recv() => match received {
                    Ok(event) if event.log_index > s.last_sent && s.subscriber.sees(&event) && !s.rights.has_changed().unwrap_or(true) => {
                        s.last_sent = event.log_index;
                        return Some((Ok(message(&event)), s));
                    }
                    // Rights changed (the poller says so before it sends the
                    // events that follow): re-read ours, then judge the event.
                    Ok(event) if s.rights.has_changed().unwrap_or(true) => {
                        s.rights.mark_unchanged();
                        if !s.subscriber.refresh(&s.db).await.unwrap_or(false) {
                            return None;
                        }
                        if event.log_index > s.last_sent && s.subscriber.sees(&event) {
                            s.last_sent = event.log_index;
                            return Some((Ok(message(&event)), s));
                        }
                    }
                    Ok(_) => {}
                    // Too slow for the broadcast: catch up from the log.
                    Err(RecvError::Lagged(_)) => {
                        if let Ok(events) = replay(&s.db, &s.subscriber, s.last_sent).await {
                            s.backlog.extend(events);
                        }
                    }
                    Err(RecvError::Closed) => return None,
                },
                _ = s.closing.changed() => return None,
            }
        }
    });
    Ok(Sse::new(stream).keep_alive(KeepAlive::default()))
}

#[derive(Deserialize, ToSchema, utoipa::IntoParams)]
pub struct ReleaseRequest {
    /// The community (API root) and collection to release into.
    pub community: String,
    pub collection: String,
    /// The derivative's marking: clear, green or amber.
    pub tlp: String,
}

fn release_target(request: ReleaseRequest) -> service::ReleaseTarget {
    service::ReleaseTarget {
        community: request.community,
        collection: request.collection,
        tlp: request.tlp,
    }
}

/// What a release would share and what it leaves out (nothing is written).
#[utoipa::path(get, path = "/api/alerts/{id}/release", tag = "alerts", params(("id" = String, Path), ReleaseRequest),
    responses((status = 200, body = Derivative), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn release_preview(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    Query(request): Query<ReleaseRequest>,
) -> Result<Json<Derivative>, ApiError> {
    Ok(Json(
        service::release_preview(&state.db, &principal, &id, &release_target(request))
            .await?
            .0,
    ))
}

/// Releases the alert's sanitised derivative to another community (originator only).
#[utoipa::path(post, path = "/api/alerts/{id}/release", tag = "alerts", params(("id" = String, Path)), request_body = ReleaseRequest,
    responses((status = 201, body = Derivative), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn release_alert(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    ApiJson(request): ApiJson<ReleaseRequest>,
) -> Result<(StatusCode, Json<Derivative>), ApiError> {
    Ok((
        StatusCode::CREATED,
        Json(service::release_alert(&state.db, &principal, &id, &release_target(request)).await?),
    ))
}

#[derive(Deserialize, ToSchema)]
pub struct AlertRequest {
    /// The TAXII API root (community) and collection the alert is shared in
    /// (creation only).
    pub community: Option<String>,
    pub collection: Option<String>,
    /// information, alert or urgent
    pub level: String,
    /// The STIX report's own properties: name (required), description,
    /// object_refs, object_marking_refs (TLP), labels, external references…
    #[schema(value_type = Object)]
    pub report: serde_json::Value,
    /// STIX objects shared with the report: observables, locations, campaigns…
    #[serde(default)]
    #[schema(value_type = Vec<Object>)]
    pub related: Vec<serde_json::Value>,
}

fn alert_input(request: AlertRequest) -> service::AlertInput {
    service::AlertInput {
        level: request.level,
        report: request.report,
        related: request.related,
    }
}

/// The alerts the caller may see (their organisation's drafts included).
#[utoipa::path(get, path = "/api/alerts", tag = "alerts", responses((status = 200, body = Vec<Alert>), (status = 401, body = ErrorBody)))]
async fn list_alerts(
    State(state): State<AppState>,
    principal: Principal,
) -> Result<Json<Vec<Alert>>, ApiError> {
    Ok(Json(service::alerts(&state.db, &principal).await?))
}

/// Creates a draft alert (seen by the caller's organisation only until published).
#[utoipa::path(post, path = "/api/alerts", tag = "alerts", request_body = AlertRequest,
    responses((status = 201, body = Alert), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn create_alert(
    State(state): State<AppState>,
    principal: Principal,
    ApiJson(request): ApiJson<AlertRequest>,
) -> Result<(StatusCode, Json<Alert>), ApiError> {
    let (Some(community), Some(collection)) =
        (request.community.clone(), request.collection.clone())
    else {
        return Err(ApiError::invalid(vec![
            crate::core::error::FieldError::new(
                "collection",
                "name the community and collection to share the alert in",
            ),
        ]));
    };
    let alert = service::create_alert(
        &state.db,
        &principal,
        (&community, &collection),
        alert_input(request),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(alert)))
}

/// One alert.
#[utoipa::path(get, path = "/api/alerts/{id}", tag = "alerts", params(("id" = String, Path)),
    responses((status = 200, body = Alert), (status = 404, body = ErrorBody)))]
async fn get_alert(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<Json<Alert>, ApiError> {
    Ok(Json(service::alert(&state.db, &principal, &id).await?))
}

/// Edits a draft, or shares a new version of a published alert (originator only).
#[utoipa::path(put, path = "/api/alerts/{id}", tag = "alerts", params(("id" = String, Path)), request_body = AlertRequest,
    responses((status = 200, body = Alert), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn change_alert(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    ApiJson(request): ApiJson<AlertRequest>,
) -> Result<Json<Alert>, ApiError> {
    Ok(Json(
        service::change_alert(&state.db, &principal, &id, alert_input(request)).await?,
    ))
}

/// Publishes a draft: its report and related objects are shared in its collection.
#[utoipa::path(post, path = "/api/alerts/{id}/publish", tag = "alerts", params(("id" = String, Path)),
    responses((status = 200, body = Alert), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn publish_alert(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<Json<Alert>, ApiError> {
    Ok(Json(
        service::publish_alert(&state.db, &principal, &id).await?,
    ))
}

/// Revokes a published alert (a last version of its report, `revoked: true`).
#[utoipa::path(post, path = "/api/alerts/{id}/revoke", tag = "alerts", params(("id" = String, Path)),
    responses((status = 200, body = Alert), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn revoke_alert(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<Json<Alert>, ApiError> {
    Ok(Json(
        service::revoke_alert(&state.db, &principal, &id).await?,
    ))
}

/// Acknowledges an alert for the caller's organisation (a STIX sighting).
#[utoipa::path(post, path = "/api/alerts/{id}/acknowledge", tag = "alerts", params(("id" = String, Path)),
    responses((status = 200, body = Object), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn acknowledge_alert(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    Ok(Json(
        service::acknowledge_alert(&state.db, &principal, &id).await?,
    ))
}

#[derive(Deserialize, ToSchema)]
pub struct OpinionRequest {
    /// strongly-disagree, disagree, neutral, agree or strongly-agree
    pub opinion: String,
    pub explanation: Option<String>,
}

/// Agrees or disagrees with an alert's assessment (a STIX opinion).
#[utoipa::path(post, path = "/api/alerts/{id}/opinion", tag = "alerts", params(("id" = String, Path)), request_body = OpinionRequest,
    responses((status = 200, body = Object), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn give_opinion(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    ApiJson(request): ApiJson<OpinionRequest>,
) -> Result<Json<serde_json::Value>, ApiError> {
    Ok(Json(
        service::give_opinion(
            &state.db,
            &principal,
            &id,
            &request.opinion,
            request.explanation,
        )
        .await?,
    ))
}

/// For the originator: which organisations the alert reaches, and which acknowledged it.
#[utoipa::path(get, path = "/api/alerts/{id}/receipts", tag = "alerts", params(("id" = String, Path)),
    responses((status = 200, body = Vec<service::Receipt>), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn alert_receipts(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<Json<Vec<service::Receipt>>, ApiError> {
    Ok(Json(service::receipts(&state.db, &principal, &id).await?))
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct TechniqueQuery {
    /// A DISARM id prefix (`T0086`) or words of the name; empty lists all.
    pub q: Option<String>,
    /// At most this many (default 20, at most 500).
    pub limit: Option<usize>,
}

#[derive(Serialize, ToSchema)]
pub struct Techniques {
    #[schema(value_type = Vec<Object>)]
    pub techniques: Vec<vigil_stix::Technique>,
    pub attribution: &'static str,
}

/// Looks DISARM techniques up by id or name (any signed-in user).
#[utoipa::path(get, path = "/api/disarm/techniques", tag = "alerts", params(TechniqueQuery),
    responses((status = 200, body = Techniques), (status = 401, body = ErrorBody)))]
async fn search_techniques(_: Principal, Query(query): Query<TechniqueQuery>) -> Json<Techniques> {
    let limit = query.limit.unwrap_or(20).clamp(1, 500);
    Json(Techniques {
        techniques: service::disarm()
            .search(query.q.as_deref().unwrap_or(""), limit)
            .into_iter()
            .cloned()
            .collect(),
        attribution: service::DISARM_ATTRIBUTION,
    })
}

/// One DISARM technique by its id, e.g. `T0086.002`.
#[utoipa::path(get, path = "/api/disarm/techniques/{id}", tag = "alerts", params(("id" = String, Path)),
    responses((status = 200, body = Techniques), (status = 404, body = ErrorBody)))]
async fn get_technique(_: Principal, Path(id): Path<String>) -> Result<Json<Techniques>, ApiError> {
    let technique = service::disarm()
        .technique(&id)
        .ok_or_else(|| ApiError::NotFound(format!("no DISARM technique {id}")))?;
    Ok(Json(Techniques {
        techniques: vec![technique.clone()],
        attribution: service::DISARM_ATTRIBUTION,
    }))
}

#[derive(Deserialize, Serialize, ToSchema)]
pub struct TlpProfileRequest {
    /// `oasis` (TLP 2.0 marking-definitions, the default) or `compat` (TLP
    /// 1.0 ids and OpenCTI's AMBER+STRICT, for OpenCTI and MISP consumers).
    pub tlp_profile: String,
}

/// Chooses the TLP marking family a user's TAXII client receives.
#[utoipa::path(put, path = "/api/admin/users/{id}/tlp-profile", tag = "admin", params(("id" = String, Path)),
    request_body = TlpProfileRequest, responses((status = 200, body = TlpProfileRequest), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn set_tlp_profile(
    State(state): State<AppState>,
    Administrator(admin): Administrator,
    Path(id): Path<String>,
    ApiJson(request): ApiJson<TlpProfileRequest>,
) -> Result<Json<TlpProfileRequest>, ApiError> {
    service::set_tlp_profile(&state.db, &admin.actor(), &id, &request.tlp_profile).await?;
    Ok(Json(request))
}

#[derive(Deserialize, ToSchema)]
pub struct NewCommunityRequest {
    /// The API root's path segment: `/taxii2/<id>/`.
    pub id: String,
    pub title: String,
    pub description: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct CommunityDetail {
    pub community: Community,
    pub members: Vec<Membership>,
    pub collections: Vec<Collection>,
}

/// Every trust community.
#[utoipa::path(get, path = "/api/admin/communities", tag = "admin",
    responses((status = 200, body = Vec<Community>), (status = 403, body = ErrorBody)))]
async fn list_communities(
    State(state): State<AppState>,
    _: Administrator,
) -> Result<Json<Vec<Community>>, ApiError> {
    Ok(Json(store::communities(state.db.pool()).await?))
}

/// Creates a trust community (a TAXII API root).
#[utoipa::path(post, path = "/api/admin/communities", tag = "admin", request_body = NewCommunityRequest,
    responses((status = 201, body = Community), (status = 422, body = ErrorBody)))]
async fn create_community(
    State(state): State<AppState>,
    Administrator(admin): Administrator,
    ApiJson(request): ApiJson<NewCommunityRequest>,
) -> Result<(StatusCode, Json<Community>), ApiError> {
    let community = service::create_community(
        &state.db,
        &admin.actor(),
        &request.id,
        &request.title,
        request.description,
    )
    .await?;
    Ok((StatusCode::CREATED, Json(community)))
}

/// A community with its members and collections.
#[utoipa::path(get, path = "/api/admin/communities/{id}", tag = "admin", params(("id" = String, Path)),
    responses((status = 200, body = CommunityDetail), (status = 404, body = ErrorBody)))]
async fn get_community(
    State(state): State<AppState>,
    _: Administrator,
    Path(id): Path<String>,
) -> Result<Json<CommunityDetail>, ApiError> {
    let community = store::community(state.db.pool(), &id)
        .await?
        .ok_or_else(|| ApiError::NotFound("no such community".into()))?;
    let id = CommunityId::from_stored(id);
    Ok(Json(CommunityDetail {
        members: store::members(state.db.pool(), &id).await?,
        collections: store::collections_of(state.db.pool(), &id).await?,
        community,
    }))
}

#[derive(Deserialize, ToSchema)]
pub struct MembershipRequest {
    /// `true` adds the organisation, `false` removes it.
    pub active: bool,
}

/// Adds an organisation to a community or removes it.
#[utoipa::path(put, path = "/api/admin/communities/{id}/members/{organisation}", tag = "admin",
    params(("id" = String, Path), ("organisation" = String, Path)), request_body = MembershipRequest,
    responses((status = 200, body = Membership), (status = 404, body = ErrorBody)))]
async fn set_member(
    State(state): State<AppState>,
    Administrator(admin): Administrator,
    Path((id, organisation)): Path<(String, String)>,
    ApiJson(request): ApiJson<MembershipRequest>,
) -> Result<Json<Membership>, ApiError> {
    Ok(Json(
        service::set_membership(
            &state.db,
            &admin.actor(),
            &id,
            &organisation,
            request.active,
        )
        .await?,
    ))
}

#[derive(Deserialize, ToSchema)]
pub struct NewCollectionRequest {
    pub title: String,
    pub description: Option<String>,
    pub alias: Option<String>,
    /// TLP of objects posted unmarked: clear, green, amber (default), amber+strict, red.
    pub default_tlp: Option<String>,
}

/// Creates a collection in a community.
#[utoipa::path(post, path = "/api/admin/communities/{id}/collections", tag = "admin", params(("id" = String, Path)),
    request_body = NewCollectionRequest, responses((status = 201, body = Collection), (status = 422, body = ErrorBody)))]
async fn create_collection(
    State(state): State<AppState>,
    Administrator(admin): Administrator,
    Path(id): Path<String>,
    ApiJson(request): ApiJson<NewCollectionRequest>,
) -> Result<(StatusCode, Json<Collection>), ApiError> {
    let collection = service::create_collection(
        &state.db,
        &admin.actor(),
        &id,
        NewCollection {
            title: request.title,
            description: request.description,
            alias: request.alias,
            default_tlp: request.default_tlp,
        },
    )
    .await?;
    Ok((StatusCode::CREATED, Json(collection)))
}

#[derive(Serialize, ToSchema)]
pub struct CollectionDetail {
    pub collection: Collection,
    pub grants: Vec<Grant>,
}

/// A collection with its grants.
#[utoipa::path(get, path = "/api/admin/collections/{id}", tag = "admin", params(("id" = String, Path)),
    responses((status = 200, body = CollectionDetail), (status = 404, body = ErrorBody)))]
async fn get_collection(
    State(state): State<AppState>,
    _: Administrator,
    Path(id): Path<String>,
) -> Result<Json<CollectionDetail>, ApiError> {
    let collection = store::collection(state.db.pool(), &id)
        .await?
        .ok_or_else(|| ApiError::NotFound("no such collection".into()))?;
    let grants = store::grants_of(state.db.pool(), &CollectionId::from_stored(id)).await?;
    Ok(Json(CollectionDetail { collection, grants }))
}

#[derive(Deserialize, ToSchema)]
pub struct GrantRequest {
    pub can_read: bool,
    pub can_write: bool,
}

/// Sets what an organisation (`org-…`) or a user (`usr-…`) may do in a collection.
#[utoipa::path(put, path = "/api/admin/collections/{id}/grants/{grantee}", tag = "admin",
    params(("id" = String, Path), ("grantee" = String, Path)), request_body = GrantRequest,
    responses((status = 200, body = Grant), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn set_grant(
    State(state): State<AppState>,
    Administrator(admin): Administrator,
    Path((id, grantee)): Path<(String, String)>,
    ApiJson(request): ApiJson<GrantRequest>,
) -> Result<Json<Grant>, ApiError> {
    Ok(Json(
        service::set_grant(
            &state.db,
            &admin.actor(),
            &id,
            &grantee,
            request.can_read,
            request.can_write,
        )
        .await?,
    ))
}
