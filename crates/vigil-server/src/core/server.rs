//! The web service: opening the store, assembling the router with its
//! middleware, and serving until SIGTERM/SIGINT with a graceful drain.
use crate::core::config::Settings;
use crate::core::db::{Backend, Db};
use crate::core::error::ApiError;
use crate::core::ledger::Ledger;
use crate::core::metrics::Metrics;
use crate::core::secrets::random_bytes;
use crate::core::state::AppState;
use anyhow::{Context, bail};
use axum::Router;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use vigil_tlog::LogSigner;

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Reads the log's signing key, creating it (mode 0600) on first start.
pub fn load_or_create_signer(path: &Path, origin: Option<&str>) -> anyhow::Result<LogSigner> {
    if path.exists() {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading the log key {}", path.display()))?;
        let signer = LogSigner::from_private_key(&text)
            .with_context(|| format!("the log key {} is not valid", path.display()))?;
        if let Some(origin) = origin
            && origin != signer.name()
        {
            bail!(
                "the log key {} belongs to origin {:?}, not {origin:?}; a log keeps its origin for life",
                path.display(),
                signer.name()
            );
        }
        return Ok(signer);
    }
    let origin = match origin {
        Some(origin) => origin.to_string(),
        None => format!("vigil.invalid/log/{}", hex::encode(random_bytes::<4>()?)),
    };
    let signer =
        LogSigner::from_seed(&origin, random_bytes::<32>()?).context("creating the log key")?;
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("creating {}", parent.display()))?;
    }
    write_private(path, &format!("{}\n", signer.private_key()))
        .with_context(|| format!("writing the log key {}", path.display()))?;
    Ok(signer)
}

fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(contents.as_bytes())?;
    file.sync_all()
}

/// Opens (and on first start creates) the database and the log.
pub async fn open_store(settings: &Settings) -> anyhow::Result<(Db, Ledger)> {
    if settings.database_url.starts_with("sqlite:") {
        std::fs::create_dir_all(&settings.data_dir).with_context(|| {
            format!(
                "creating the data directory {}",
                settings.data_dir.display()
            )
        })?;
    }
    // The database first: if it is unreachable, nothing has been written.
    let db = Db::open(&settings.database_url).await?;
    let signer = load_or_create_signer(&settings.log_key, settings.log_origin.as_deref())?;
    let ledger = Ledger::new(db.clone(), Arc::new(signer));
    ledger
        .checkpoint()
        .await
        .context("signing the first checkpoint")?;
    Ok((db, ledger))
}

/// The OpenAPI document of every JSON endpoint.
pub fn openapi() -> utoipa::openapi::OpenApi {
    api_router().split_for_parts().1
}

#[derive(OpenApi)]
#[openapi(
    info(title = "Vigil", description = "Open election-integrity platform: accounts, transparency log and the pillars' APIs."),
    tags(
        (name = "accounts", description = "Login, the caller's own account and API tokens"),
        (name = "admin", description = "Administration (administrator role)"),
        (name = "alerts", description = "Rapid Alert System reference data (DISARM); sharing itself is TAXII 2.1 under /taxii2/"),
        (name = "results", description = "Election results: public results with their log proofs; double entry by typists and coordinators"),
        (name = "log", description = "The transparency log: checkpoints, tiles and proofs"),
        (name = "service", description = "Health and monitoring")
    )
)]
struct ApiDoc;

fn api_router() -> OpenApiRouter<AppState> {
    let mut doc = ApiDoc::openapi();
    doc.merge(crate::core::log_api::TileDoc::openapi());
    OpenApiRouter::with_openapi(doc)
        .merge(crate::accounts::api::router())
        .merge(crate::alerts::api::router())
        .merge(crate::results::api::router())
        .merge(crate::ads::api::router())
        .merge(crate::core::log_api::router())
        .merge(service_router())
}

fn service_router() -> OpenApiRouter<AppState> {
    use utoipa_axum::routes;
    OpenApiRouter::new()
        .routes(routes!(healthz))
        .routes(routes!(readyz))
        .routes(routes!(metrics))
}

/// The process is up.
#[utoipa::path(get, path = "/healthz", tag = "service", responses((status = 200, body = String)))]
async fn healthz() -> &'static str {
    "ok\n"
}

/// The database answers.
#[utoipa::path(get, path = "/readyz", tag = "service", responses((status = 200, body = String), (status = 503, body = String)))]
async fn readyz(State(state): State<AppState>) -> Response {
    match state.db.ping().await {
        Ok(()) => "ready\n".into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "readiness check failed");
            (StatusCode::SERVICE_UNAVAILABLE, "database unreachable\n").into_response()
        }
    }
}

/// Prometheus metrics.
#[utoipa::path(get, path = "/metrics", tag = "service", responses((status = 200, content_type = "text/plain", body = String)))]
async fn metrics(State(state): State<AppState>) -> Result<Response, ApiError> {
    let size = state.ledger.size().await?;
    let checkpoint = state
        .ledger
        .latest_checkpoint()
        .await?
        .map_or(0, |c| c.checkpoint.size);
    let mut response = state.metrics.render(size, checkpoint).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
    );
    Ok(response)
}

async fn openapi_json() -> Response {
    let mut response = openapi_text().into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

/// The committed `docs/openapi.json` is this text.
pub fn openapi_text() -> String {
    let mut text = openapi().to_pretty_json().unwrap_or_default();
    text.push('\n');
    text
}

async fn record_metrics(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().to_string();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_string(), |p| p.as_str().to_string());
    let response = next.run(request).await;
    state.metrics.observe(
        &method,
        &route,
        response.status().as_u16(),
        started.elapsed(),
    );
    response
}

async fn not_found(uri: axum::http::Uri) -> Response {
    if uri.path().starts_with("/taxii2/") {
        return crate::alerts::taxii::unknown_resource()
            .await
            .into_response();
    }
    ApiError::NotFound("no such resource".into()).into_response()
}

/// The whole application with its middleware.
pub fn app(state: AppState, settings: &Settings) -> Router {
    let (api, _) = api_router().split_for_parts();
    let security_headers = [
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::REFERRER_POLICY, "same-origin"),
        (
            header::CONTENT_SECURITY_POLICY,
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
        ),
    ];
    let mut router = api
        .merge(crate::alerts::taxii::router())
        .merge(crate::web::router(state.clone()))
        .route("/", axum::routing::get(crate::web::home))
        .route("/api/openapi.json", axum::routing::get(openapi_json))
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(
            state.clone(),
            record_metrics,
        ))
        .layer(axum::extract::DefaultBodyLimit::max(
            settings.max_body_bytes,
        ))
        .layer(tower_http::csrf::CsrfLayer::new())
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            settings.request_timeout,
        ));
    for (name, value) in security_headers {
        router = router.layer(SetResponseHeaderLayer::if_not_present(
            name,
            HeaderValue::from_static(value),
        ));
    }
    router
        .layer(
            TraceLayer::new_for_http().make_span_with(|request: &Request| {
                let id = request.headers().get(REQUEST_ID).and_then(|v| v.to_str().ok()).unwrap_or("-");
                tracing::info_span!("request", method = %request.method(), uri = %request.uri(), request_id = %id)
            }),
        )
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
        .with_state(state)
}

/// Signs checkpoints at the configured interval until `stop` fires.
async fn checkpoint_loop(
    ledger: Ledger,
    interval: Duration,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    let mut ticker = tokio::time::interval(interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = ticker.tick() => {
                if let Err(e) = ledger.checkpoint().await {
                    tracing::error!(error = format!("{e:#}"), "signing a checkpoint failed");
                }
            }
            _ = stop.changed() => return,
        }
    }
}

/// Hourly housekeeping until `stop` fires: the identities of citizens'
/// notices decided longer ago than the retention are erased.
async fn housekeeping_loop(
    db: crate::core::db::Db,
    notice_retention: Duration,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    let mut ticker = tokio::time::interval(Duration::from_secs(3600));
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = ticker.tick() => {
                match crate::ads::notices::expire_identities(&db, notice_retention).await {
                    Ok(0) => {}
                    Ok(erased) => tracing::info!(erased, "notifiers' identities erased after the retention period"),
                    Err(e) => tracing::error!(error = %e, "erasing expired notifiers' identities failed"),
                }
            }
            _ = stop.changed() => return,
        }
    }
}

async fn shutdown_signal() {
    let interrupt = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = interrupt => {},
        _ = terminate => {},
    }
    tracing::info!("shutting down: finishing requests in flight");
}

/// A server bound to its address, ready to run.
pub struct Server {
    pub listener: tokio::net::TcpListener,
    pub state: AppState,
    pub settings: Settings,
    /// Turns true when the server stops: background work and live streams end.
    stop: tokio::sync::watch::Sender<bool>,
}

impl Server {
    pub async fn bind(settings: Settings) -> anyhow::Result<Server> {
        let (db, ledger) = open_store(&settings).await?;
        let listener = tokio::net::TcpListener::bind(settings.listen)
            .await
            .with_context(|| format!("cannot listen on {}", settings.listen))?;
        let cursor_key = Arc::new(ledger.derive_secret("taxii cursor key"));
        let (stop, closing) = tokio::sync::watch::channel(false);
        let live = crate::alerts::stream::LiveStream::start(db.clone(), closing.clone());
        crate::alerts::webhooks::start(db.clone(), ledger.clone(), closing);
        let state = AppState {
            db,
            ledger,
            metrics: Arc::new(Metrics::default()),
            secure_cookies: settings.secure_cookies,
            max_body_bytes: settings.max_body_bytes,
            cursor_key,
            live,
            published: Default::default(),
        };
        Ok(Server {
            listener,
            state,
            settings,
            stop,
        })
    }

    pub fn local_addr(&self) -> std::io::Result<std::net::SocketAddr> {
        self.listener.local_addr()
    }

    /// Serves until `shutdown` completes (default: SIGTERM or SIGINT), then
    /// drains requests, signs a last checkpoint and closes the database.
    pub async fn run_until(
        self,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let Server {
            listener,
            state,
            settings,
            stop,
        } = self;
        let checkpoints = tokio::spawn(checkpoint_loop(
            state.ledger.clone(),
            settings.checkpoint_interval,
            stop.subscribe(),
        ));
        let housekeeping = tokio::spawn(housekeeping_loop(
            state.db.clone(),
            settings.notice_retention,
            stop.subscribe(),
        ));
        let app = app(state.clone(), &settings);
        let stop = Arc::new(stop);
        let stopping = stop.clone();
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
        )
        .with_graceful_shutdown(async move {
            shutdown.await;
            // Live streams end now, so that draining does not wait for them.
            stopping.send_replace(true);
        })
        .await
        .context("serving HTTP")?;
        stop.send_replace(true);
        let _ = checkpoints.await;
        let _ = housekeeping.await;
        if let Err(e) = state.ledger.checkpoint().await {
            tracing::error!(
                error = format!("{e:#}"),
                "signing the final checkpoint failed"
            );
        }
        state.db.close().await;
        Ok(())
    }

    pub async fn run(self) -> anyhow::Result<()> {
        self.run_until(shutdown_signal()).await
    }
}

/// Which engine a URL names, for messages.
pub fn backend_name(db: &Db) -> &'static str {
    match db.backend() {
        Backend::Sqlite => "SQLite",
        Backend::Postgres => "PostgreSQL",
    }
}
