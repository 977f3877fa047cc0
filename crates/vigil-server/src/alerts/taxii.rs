//! TAXII 2.1 over HTTP (OASIS Standard, 10 June 2021): discovery, API
//! roots, status, collections, manifest, objects, object, versions. Exact
//! media types, the TAXII error resource on every error (401 included), and
//! `limit`/`next`/`more` paging with stateless cursors.
use super::domain::{ObjectFilter, StoredObject, page_limit};
use super::service::{self, DEFAULT_PAGE, MAX_PAGE};
use crate::accounts::service::Principal;
use crate::core::error::ApiError;
use crate::core::state::AppState;
use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, get};
use serde_json::{Value, json};
use vigil_stix::{Tlp, TlpProfile};

pub const TAXII_MEDIA_TYPE: &str = "application/taxii+json;version=2.1";
pub const STIX_MEDIA_TYPE: &str = "application/stix+json;version=2.1";

/// The TAXII error resource (TAXII 2.1 §3.6.1), `http_status` as a string.
pub struct TaxiiError {
    status: StatusCode,
    title: &'static str,
    description: String,
}

impl TaxiiError {
    fn new(status: StatusCode, title: &'static str, description: impl Into<String>) -> TaxiiError {
        TaxiiError {
            status,
            title,
            description: description.into(),
        }
    }
}

impl From<ApiError> for TaxiiError {
    fn from(error: ApiError) -> TaxiiError {
        let (status, title) = match &error {
            ApiError::Invalid { .. } => (StatusCode::BAD_REQUEST, "Bad request"),
            ApiError::Unauthorized(_) => (StatusCode::UNAUTHORIZED, "Authentication required"),
            ApiError::Forbidden(_) => (StatusCode::FORBIDDEN, "Forbidden"),
            ApiError::NotFound(_) => (StatusCode::NOT_FOUND, "Not found"),
            ApiError::Conflict(_) => (StatusCode::CONFLICT, "Conflict"),
            ApiError::TooLarge => (StatusCode::PAYLOAD_TOO_LARGE, "Request too large"),
            ApiError::UnsupportedMediaType(_) => {
                (StatusCode::UNSUPPORTED_MEDIA_TYPE, "Unsupported media type")
            }
            ApiError::TooManyRequests { .. } => {
                (StatusCode::TOO_MANY_REQUESTS, "Too many requests")
            }
            ApiError::Internal(cause) => {
                tracing::error!(error = ?cause, "TAXII request failed");
                (StatusCode::INTERNAL_SERVER_ERROR, "Internal error")
            }
        };
        let description = match &error {
            ApiError::Invalid { message, fields } if !fields.is_empty() => {
                let details: Vec<String> = fields
                    .iter()
                    .map(|f| format!("{}: {}", f.field, f.message))
                    .collect();
                format!("{message}: {}", details.join("; "))
            }
            ApiError::Internal(_) => "the server could not complete the request".to_string(),
            other => other.to_string(),
        };
        TaxiiError {
            status,
            title,
            description,
        }
    }
}

impl IntoResponse for TaxiiError {
    fn into_response(self) -> Response {
        let body = json!({
            "title": self.title,
            "description": self.description,
            "http_status": self.status.as_u16().to_string(),
        });
        let mut response = (self.status, body.to_string()).into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static(TAXII_MEDIA_TYPE),
        );
        if self.status == StatusCode::UNAUTHORIZED {
            headers.insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"Vigil TAXII\", charset=\"UTF-8\""),
            );
        }
        response
    }
}

type TaxiiResult = Result<Response, TaxiiError>;

fn taxii_json(status: StatusCode, body: &Value) -> Response {
    let mut response = (status, body.to_string()).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(TAXII_MEDIA_TYPE),
    );
    response
}

/// Whether a media type is TAXII 2.1 JSON (`version` absent or 2.1).
fn is_taxii_21(media_type: &str) -> bool {
    let compact: String = media_type
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_ascii_lowercase();
    let mut parts = compact.split(';');
    if parts.next() != Some("application/taxii+json") {
        return false;
    }
    parts.all(|p| p != "version=2.0" && (!p.starts_with("version=") || p == "version=2.1"))
}

/// 406 unless the client accepts TAXII 2.1 JSON.
fn check_accept(headers: &HeaderMap) -> Result<(), TaxiiError> {
    let accepted = headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|range| is_taxii_21(range.split(";q=").next().unwrap_or(range)));
    if accepted {
        Ok(())
    } else {
        Err(TaxiiError::new(
            StatusCode::NOT_ACCEPTABLE,
            "Not acceptable",
            format!("send Accept: {TAXII_MEDIA_TYPE}"),
        ))
    }
}

/// Authentication, answered with a TAXII error when it fails.
fn authenticate(
    principal: Result<Principal, ApiError>,
    headers: &HeaderMap,
) -> Result<Principal, TaxiiError> {
    check_accept(headers)?;
    Ok(principal?)
}

/// 404 for an object that does not exist or that the caller may not see
/// (the two are not told apart).
fn object_not_found() -> TaxiiError {
    TaxiiError::new(
        StatusCode::NOT_FOUND,
        "Not found",
        "no such object, or you may not see it",
    )
}

pub fn router() -> Router<AppState> {
    // Other methods get a TAXII error resource too, not an empty 405.
    let taxii = |route: MethodRouter<AppState>| route.fallback(method_not_allowed);
    Router::new()
        .route("/taxii2/", taxii(get(discovery)))
        .route("/taxii2/{root}/", taxii(get(api_root)))
        .route("/taxii2/{root}/status/{id}/", taxii(get(status)))
        .route("/taxii2/{root}/collections/", taxii(get(collections)))
        .route(
            "/taxii2/{root}/collections/{collection}/",
            taxii(get(collection)),
        )
        .route(
            "/taxii2/{root}/collections/{collection}/manifest/",
            taxii(get(manifest)),
        )
        .route(
            "/taxii2/{root}/collections/{collection}/objects/",
            taxii(get(get_objects).post(add_objects)),
        )
        .route(
            "/taxii2/{root}/collections/{collection}/objects/{object}/",
            taxii(get(get_object).delete(delete_object)),
        )
        .route(
            "/taxii2/{root}/collections/{collection}/objects/{object}/versions/",
            taxii(get(versions)),
        )
}

/// The answer to any other path under `/taxii2/` (the application's
/// fallback sends them here), a TAXII error rather than the JSON API's.
pub async fn unknown_resource() -> TaxiiError {
    TaxiiError::new(
        StatusCode::NOT_FOUND,
        "Not found",
        "no such TAXII resource (TAXII URLs end with a slash)",
    )
}

async fn method_not_allowed() -> TaxiiError {
    TaxiiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "Method not allowed",
        "this TAXII resource does not support that method",
    )
}

async fn discovery(
    State(state): State<AppState>,
    principal: Result<Principal, ApiError>,
    headers: HeaderMap,
) -> TaxiiResult {
    let principal = authenticate(principal, &headers)?;
    let roots: Vec<String> = service::visible_communities(&state.db, &principal)
        .await?
        .iter()
        .map(|c| format!("/taxii2/{}/", c.id.as_str()))
        .collect();
    let mut body = json!({
        "title": "Vigil Rapid Alert System",
        "description": "TAXII 2.1 for the trust communities of this Vigil server. Each API root is one community.",
        "api_roots": roots,
    });
    if let Some(first) = roots.first() {
        body["default"] = first.clone().into();
    }
    Ok(taxii_json(StatusCode::OK, &body))
}

async fn api_root(
    State(state): State<AppState>,
    principal: Result<Principal, ApiError>,
    headers: HeaderMap,
    Path(root): Path<String>,
) -> TaxiiResult {
    let principal = authenticate(principal, &headers)?;
    let community = service::visible_community(&state.db, &principal, &root).await?;
    let mut body = json!({
        "title": community.title,
        "versions": [TAXII_MEDIA_TYPE],
        "max_content_length": state.max_body_bytes,
    });
    if let Some(description) = community.description {
        body["description"] = description.into();
    }
    Ok(taxii_json(StatusCode::OK, &body))
}

async fn status(
    State(state): State<AppState>,
    principal: Result<Principal, ApiError>,
    headers: HeaderMap,
    Path((root, id)): Path<(String, String)>,
) -> TaxiiResult {
    let principal = authenticate(principal, &headers)?;
    let status = service::status(&state.db, &principal, &root, &id).await?;
    Ok(taxii_json(StatusCode::OK, &json!(status)))
}

fn collection_resource(
    collection: &super::domain::Collection,
    access: &super::domain::Access,
) -> Value {
    let mut body = json!({
        "id": collection.id.as_str(),
        "title": collection.title,
        "can_read": access.can_read,
        "can_write": access.can_write,
        "media_types": [STIX_MEDIA_TYPE],
    });
    if let Some(description) = &collection.description {
        body["description"] = description.clone().into();
    }
    if let Some(alias) = &collection.alias {
        body["alias"] = alias.clone().into();
    }
    body
}

async fn collections(
    State(state): State<AppState>,
    principal: Result<Principal, ApiError>,
    headers: HeaderMap,
    Path(root): Path<String>,
) -> TaxiiResult {
    let principal = authenticate(principal, &headers)?;
    let list: Vec<Value> = service::visible_collections(&state.db, &principal, &root)
        .await?
        .iter()
        .map(|(c, a)| collection_resource(c, a))
        .collect();
    let body = if list.is_empty() {
        json!({})
    } else {
        json!({"collections": list})
    };
    Ok(taxii_json(StatusCode::OK, &body))
}

async fn collection(
    State(state): State<AppState>,
    principal: Result<Principal, ApiError>,
    headers: HeaderMap,
    Path((root, id)): Path<(String, String)>,
) -> TaxiiResult {
    let principal = authenticate(principal, &headers)?;
    let (collection, access) =
        service::visible_collection(&state.db, &principal, &root, &id).await?;
    Ok(taxii_json(
        StatusCode::OK,
        &collection_resource(&collection, &access),
    ))
}

/// The filters a TAXII endpoint allows, with `limit` and `next` taken out.
struct Request {
    filter: ObjectFilter,
    limit: u64,
    next: Option<String>,
}

fn read_request(params: &[(String, String)], allowed: &[&str]) -> Result<Request, TaxiiError> {
    let bad = |message: String| TaxiiError::new(StatusCode::BAD_REQUEST, "Bad request", message);
    let filter = ObjectFilter::parse(params, allowed).map_err(|e| bad(e.0))?;
    let value = |name: &str| {
        params
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    };
    let limit = page_limit(value("limit"), DEFAULT_PAGE, MAX_PAGE).map_err(|e| bad(e.0))?;
    Ok(Request {
        filter,
        limit,
        next: value("next").map(str::to_string),
    })
}

/// One page of the objects a request selects, as the caller may see them.
async fn read_page(
    state: &AppState,
    principal: &Principal,
    collection: (&str, &str),
    request: &Request,
) -> Result<service::Page, TaxiiError> {
    Ok(service::objects_page(
        &state.db,
        &state.cursor_key[..],
        principal,
        collection,
        &request.filter,
        request.next.as_deref(),
        request.limit,
    )
    .await?)
}

/// A page of objects as an envelope, in the reader's TLP profile, with its headers.
async fn objects_envelope(
    state: &AppState,
    principal: &Principal,
    page: &service::Page,
) -> TaxiiResult {
    let profile = service::tlp_profile_of(&state.db, principal).await?;
    let body = envelope(page, |o| stix_json(o, profile), "objects");
    Ok(with_page_headers(
        taxii_json(StatusCode::OK, &body),
        &page.objects,
    ))
}

/// Adds the date-added headers of a non-empty page.
fn with_page_headers(mut response: Response, objects: &[StoredObject]) -> Response {
    if let (Some(first), Some(last)) = (objects.first(), objects.last()) {
        for (name, value) in [
            ("x-taxii-date-added-first", &first.date_added),
            ("x-taxii-date-added-last", &last.date_added),
        ] {
            if let Ok(value) = HeaderValue::from_str(value) {
                response.headers_mut().insert(name, value);
            }
        }
    }
    response
}

fn envelope(page: &service::Page, item: impl Fn(&StoredObject) -> Value, field: &str) -> Value {
    let mut body = json!({ "more": page.more });
    if let Some(next) = &page.next {
        body["next"] = next.clone().into();
    }
    if !page.objects.is_empty() {
        body[field] = Value::Array(page.objects.iter().map(item).collect());
    }
    body
}

/// The stored object, its TLP markings in the reader's family.
fn stix_json(object: &StoredObject, profile: TlpProfile) -> Value {
    let value = serde_json::from_str(&object.object).unwrap_or(Value::Null);
    Tlp::present(&value, profile)
}

const OBJECT_FILTERS: &[&str] = &["id", "type", "version", "spec_version"];
const ONE_OBJECT_FILTERS: &[&str] = &["version", "spec_version"];

async fn manifest(
    State(state): State<AppState>,
    principal: Result<Principal, ApiError>,
    headers: HeaderMap,
    Path((root, id)): Path<(String, String)>,
    Query(params): Query<Vec<(String, String)>>,
) -> TaxiiResult {
    let principal = authenticate(principal, &headers)?;
    let request = read_request(&params, OBJECT_FILTERS)?;
    let page = read_page(&state, &principal, (&root, &id), &request).await?;
    let body = envelope(
        &page,
        |o| json!({"id": o.stix_id, "date_added": o.date_added, "version": o.taxii_version(), "media_type": STIX_MEDIA_TYPE}),
        "objects",
    );
    Ok(with_page_headers(
        taxii_json(StatusCode::OK, &body),
        &page.objects,
    ))
}

async fn get_objects(
    State(state): State<AppState>,
    principal: Result<Principal, ApiError>,
    headers: HeaderMap,
    Path((root, id)): Path<(String, String)>,
    Query(params): Query<Vec<(String, String)>>,
) -> TaxiiResult {
    let principal = authenticate(principal, &headers)?;
    let request = read_request(&params, OBJECT_FILTERS)?;
    let page = read_page(&state, &principal, (&root, &id), &request).await?;
    objects_envelope(&state, &principal, &page).await
}

async fn get_object(
    State(state): State<AppState>,
    principal: Result<Principal, ApiError>,
    headers: HeaderMap,
    Path((root, id, object)): Path<(String, String, String)>,
    Query(params): Query<Vec<(String, String)>>,
) -> TaxiiResult {
    let principal = authenticate(principal, &headers)?;
    let mut request = read_request(&params, ONE_OBJECT_FILTERS)?;
    request.filter.ids = vec![object];
    let page = read_page(&state, &principal, (&root, &id), &request).await?;
    if page.objects.is_empty() && request.next.is_none() {
        return Err(object_not_found());
    }
    objects_envelope(&state, &principal, &page).await
}

async fn versions(
    State(state): State<AppState>,
    principal: Result<Principal, ApiError>,
    headers: HeaderMap,
    Path((root, id, object)): Path<(String, String, String)>,
    Query(params): Query<Vec<(String, String)>>,
) -> TaxiiResult {
    let principal = authenticate(principal, &headers)?;
    let mut request = read_request(&params, &["spec_version"])?;
    request.filter.ids = vec![object];
    request.filter.versions = super::domain::VersionFilter::All;
    let page = read_page(&state, &principal, (&root, &id), &request).await?;
    if page.objects.is_empty() && request.next.is_none() {
        return Err(object_not_found());
    }
    let body = envelope(
        &page,
        |o| Value::String(o.taxii_version().to_string()),
        "versions",
    );
    Ok(with_page_headers(
        taxii_json(StatusCode::OK, &body),
        &page.objects,
    ))
}

async fn delete_object(
    State(state): State<AppState>,
    principal: Result<Principal, ApiError>,
    headers: HeaderMap,
    Path((root, id, object)): Path<(String, String, String)>,
    Query(params): Query<Vec<(String, String)>>,
) -> TaxiiResult {
    let principal = authenticate(principal, &headers)?;
    let request = read_request(&params, ONE_OBJECT_FILTERS)?;
    service::delete_object(
        &state.db,
        &principal,
        (&root, &id),
        &object,
        &request.filter,
    )
    .await?;
    Ok(taxii_json(StatusCode::OK, &json!({})))
}

async fn add_objects(
    State(state): State<AppState>,
    principal: Result<Principal, ApiError>,
    headers: HeaderMap,
    Path((root, id)): Path<(String, String)>,
    body: Result<Bytes, BytesRejection>,
) -> TaxiiResult {
    let principal = authenticate(principal, &headers)?;
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !is_taxii_21(content_type) {
        return Err(TaxiiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "Unsupported media type",
            format!("send Content-Type: {TAXII_MEDIA_TYPE}"),
        ));
    }
    let body = body.map_err(|rejection| match rejection.status() {
        StatusCode::PAYLOAD_TOO_LARGE => TaxiiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "Request too large",
            format!(
                "the body exceeds max_content_length ({} bytes)",
                state.max_body_bytes
            ),
        ),
        status => TaxiiError::new(status, "Bad request", rejection.body_text()),
    })?;
    let unprocessable = |message: String| {
        TaxiiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Unprocessable envelope",
            message,
        )
    };
    let envelope: Value = serde_json::from_slice(&body)
        .map_err(|e| unprocessable(format!("the body is not JSON: {e}")))?;
    let objects = match envelope.get("objects") {
        Some(Value::Array(objects)) if envelope.is_object() => objects.clone(),
        _ => {
            return Err(unprocessable(
                "the body must be a TAXII envelope: {\"objects\": [ … ]}".into(),
            ));
        }
    };
    // Visible first, so that a 404 or 403 takes precedence over an empty envelope.
    let status = service::add_objects(&state.db, &principal, (&root, &id), objects).await?;
    Ok(taxii_json(StatusCode::ACCEPTED, &json!(status)))
}

#[cfg(test)]
mod tests {
    use super::is_taxii_21;

    #[test]
    fn media_types() {
        assert!(is_taxii_21("application/taxii+json;version=2.1"));
        assert!(is_taxii_21("application/taxii+json; version=2.1"));
        assert!(is_taxii_21("application/taxii+json"));
        assert!(is_taxii_21(
            "application/taxii+json;version=2.1;charset=utf-8"
        ));
        assert!(!is_taxii_21("application/taxii+json;version=2.0"));
        assert!(!is_taxii_21("application/json"));
        assert!(!is_taxii_21("application/stix+json;version=2.1"));
    }
}
