//! Test harness: the real server on a random port over a fresh database,
//! SQLite always and PostgreSQL when `VIGIL_TEST_POSTGRES_URL` is set
//! (`.ci/run` sets it to the local server).
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

pub mod browser;
pub mod forms;

use base64::Engine;
use serde_json::Value;
use sqlx::Connection;
use std::path::PathBuf;
use vigil_server::accounts::service::{self, NewOrganisation, NewUser};
use vigil_server::core::audit::Actor;
use vigil_server::core::config::{ConfigLayer, Settings};
use vigil_server::core::db::Db;
use vigil_server::core::ledger::Ledger;
use vigil_server::core::server::Server;

pub const PASSWORD: &str = "a long test password";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The backends to run story tests on.
pub fn backends() -> Vec<Backend> {
    let mut backends = vec![Backend::Sqlite];
    if std::env::var("VIGIL_TEST_POSTGRES_URL").is_ok() {
        backends.push(Backend::Postgres);
    } else {
        eprintln!("VIGIL_TEST_POSTGRES_URL is not set: PostgreSQL runs skipped");
    }
    backends
}

/// A fresh, empty store: a new temporary directory (SQLite) or a new database (PostgreSQL).
pub struct Store {
    pub settings: Settings,
    pub dir: PathBuf,
}

pub async fn fresh_store(backend: Backend) -> Store {
    let dir = std::env::temp_dir().join(format!("vigil-test-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let database_url = match backend {
        Backend::Sqlite => None,
        Backend::Postgres => {
            let admin_url = std::env::var("VIGIL_TEST_POSTGRES_URL").unwrap();
            let name = format!("vigil_test_{}", uuid::Uuid::new_v4().simple());
            let mut conn = sqlx::PgConnection::connect(&admin_url).await.unwrap();
            sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                .execute(&mut conn)
                .await
                .unwrap();
            conn.close().await.unwrap();
            let base = admin_url
                .rsplit_once('/')
                .map(|(b, _)| b.to_string())
                .unwrap();
            Some(format!("{base}/{name}"))
        }
    };
    let settings = ConfigLayer {
        listen: Some("127.0.0.1:0".into()),
        data_dir: Some(dir.clone()),
        database_url,
        checkpoint_interval_seconds: Some(3600),
        max_body_bytes: Some(64 * 1024),
        ..ConfigLayer::default()
    }
    .resolve()
    .unwrap();
    Store { settings, dir }
}

pub struct TestApp {
    pub base: String,
    pub db: Db,
    pub ledger: Ledger,
    pub settings: Settings,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    handle: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
}

impl TestApp {
    pub async fn spawn(backend: Backend) -> TestApp {
        let store = fresh_store(backend).await;
        TestApp::on(store.settings).await
    }

    /// A server on an existing store (a second process behind a load balancer).
    pub async fn on(settings: Settings) -> TestApp {
        let server = Server::bind(settings.clone()).await.unwrap();
        let base = format!("http://{}", server.local_addr().unwrap());
        let db = server.state.db.clone();
        let ledger = server.state.ledger.clone();
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let handle = tokio::spawn(server.run_until(async {
            let _ = rx.await;
        }));
        TestApp {
            base,
            db,
            ledger,
            settings,
            shutdown: Some(tx),
            handle: Some(handle),
        }
    }

    pub async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(handle) = self.handle.take() {
            handle.await.unwrap().unwrap();
        }
    }

    /// An organisation and a user in it with the given roles; returns the user's username.
    pub async fn user(&self, org: &str, username: &str, roles: &[&str]) -> String {
        let organisation =
            match vigil_server::accounts::store::organisation_by_name(self.db.pool(), org)
                .await
                .unwrap()
            {
                Some(o) => o,
                None => service::create_organisation(
                    &self.db,
                    &Actor::System,
                    NewOrganisation {
                        name: org.into(),
                        kind: "national_contact_point".into(),
                        country: Some("EE".into()),
                    },
                )
                .await
                .unwrap(),
            };
        service::create_user(
            &self.db,
            &Actor::System,
            NewUser {
                organisation: organisation.id.to_string(),
                username: username.into(),
                password: PASSWORD.into(),
                roles: roles.iter().map(|r| r.to_string()).collect(),
                display_name: Some(format!("Name of {username}")),
                email: Some(format!("{username}@example.org")),
            },
        )
        .await
        .unwrap();
        username.to_string()
    }

    pub fn request(&self, method: &str, path: &str) -> Request {
        Request {
            method: method.into(),
            url: format!("{}{}", self.base, path),
            headers: Vec::new(),
            body: None,
        }
    }
}

pub struct Request {
    method: String,
    url: String,
    headers: Vec<(String, String)>,
    body: Option<Vec<u8>>,
}

#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|_| panic!("not JSON: {}", String::from_utf8_lossy(&self.body)))
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

impl Request {
    pub fn to(base: &str, method: &str, path: &str) -> Request {
        Request {
            method: method.into(),
            url: format!("{base}{path}"),
            headers: Vec::new(),
            body: None,
        }
    }

    pub fn header(mut self, name: &str, value: &str) -> Request {
        self.headers.push((name.into(), value.into()));
        self
    }

    pub fn basic(self, username: &str, password: &str) -> Request {
        let encoded =
            base64::engine::general_purpose::STANDARD.encode(format!("{username}:{password}"));
        self.header("authorization", &format!("Basic {encoded}"))
    }

    pub fn bearer(self, token: &str) -> Request {
        self.header("authorization", &format!("Bearer {token}"))
    }

    pub fn json(mut self, body: &Value) -> Request {
        self.body = Some(serde_json::to_vec(body).unwrap());
        self.header("content-type", "application/json")
    }

    pub fn raw(mut self, content_type: &str, body: Vec<u8>) -> Request {
        self.body = Some(body);
        self.header("content-type", content_type)
    }

    /// Sends over real HTTP (from a blocking thread, as any client would).
    pub async fn send(self) -> Response {
        tokio::task::spawn_blocking(move || {
            // Redirects are the response under test (web pages), never followed.
            let agent: ureq::Agent = ureq::Agent::config_builder()
                .http_status_as_error(false)
                .max_redirects(0)
                .build()
                .into();
            let mut builder = ureq::http::Request::builder()
                .method(self.method.as_str())
                .uri(&self.url);
            for (name, value) in &self.headers {
                builder = builder.header(name, value);
            }
            let request = builder.body(self.body.unwrap_or_default()).unwrap();
            let mut response = agent.run(request).unwrap();
            let status = response.status().as_u16();
            let headers = response
                .headers()
                .iter()
                .map(|(n, v)| (n.to_string(), v.to_str().unwrap_or("").to_string()))
                .collect();
            let body = response
                .body_mut()
                .with_config()
                .limit(100 * 1024 * 1024)
                .read_to_vec()
                .unwrap();
            Response {
                status,
                headers,
                body,
            }
        })
        .await
        .unwrap()
    }
}
