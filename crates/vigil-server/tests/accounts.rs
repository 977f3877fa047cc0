//! Accounts over real HTTP, on every backend: logins, sessions, tokens,
//! roles, rate limiting, bad input, and that each is audited.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test
mod common;

use common::{Backend, PASSWORD, TestApp, backends};
use serde_json::json;

async fn audit_actions(app: &TestApp, action: &str) -> usize {
    vigil_server::core::audit::recent(&app.db, 1000, Some(action))
        .await
        .unwrap()
        .len()
}

async fn accounts_story(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.user("EU Hub", "admin", &["administrator"]).await;

    // Wrong password: a clear 401 JSON error, audited, and no session.
    let wrong = app
        .request("POST", "/api/auth/login")
        .json(&json!({"username": admin, "password": "nope"}))
        .send()
        .await;
    assert_eq!(wrong.status, 401, "{backend:?}");
    assert_eq!(wrong.json()["error"]["code"], "unauthorized");
    assert!(wrong.header("set-cookie").is_none());
    assert_eq!(audit_actions(&app, "auth.login_failed").await, 1);

    // Right password: a session cookie with the safe flags.
    let login = app
        .request("POST", "/api/auth/login")
        .json(&json!({"username": admin, "password": PASSWORD}))
        .send()
        .await;
    assert_eq!(login.status, 200);
    let cookie = login.header("set-cookie").unwrap().to_string();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
    assert!(!cookie.contains("Secure"), "no TLS here, so no Secure flag");
    let session = cookie.split(';').next().unwrap().to_string();
    let me = app
        .request("GET", "/api/me")
        .header("cookie", &session)
        .send()
        .await;
    assert_eq!(me.status, 200);
    assert_eq!(me.json()["user"]["username"], "admin");
    assert_eq!(audit_actions(&app, "auth.login_succeeded").await, 1);

    // A cross-site form post riding on the cookie is refused.
    let forged = app
        .request("POST", "/api/me/tokens")
        .header("cookie", &session)
        .header("sec-fetch-site", "cross-site")
        .json(&json!({"name": "stolen"}))
        .send()
        .await;
    assert_eq!(forged.status, 403);

    // The admin API: an organisation and an analyst, with Basic authentication.
    let org = app
        .request("POST", "/api/admin/organisations")
        .basic(&admin, PASSWORD)
        .json(&json!({"name": "Portuguese NCP", "kind": "national_contact_point", "country": "PT"}))
        .send()
        .await;
    assert_eq!(org.status, 201, "{}", org.text());
    let org = org.json();
    assert!(
        org["stix_identity"]
            .as_str()
            .unwrap()
            .starts_with("identity--")
    );
    let invalid = app
        .request("POST", "/api/admin/users")
        .basic(&admin, PASSWORD)
        .json(&json!({"organisation": org["id"], "username": "X", "password": "short", "roles": ["root"]}))
        .send()
        .await;
    assert_eq!(invalid.status, 422);
    let fields: Vec<String> = invalid.json()["error"]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["field"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(fields, ["username", "password", "roles"]);
    let analyst = app
        .request("POST", "/api/admin/users")
        .basic(&admin, PASSWORD)
        .json(&json!({"organisation": "Portuguese NCP", "username": "ana", "password": PASSWORD, "roles": ["analyst"], "email": "ana@example.pt"}))
        .send()
        .await;
    assert_eq!(analyst.status, 201, "{}", analyst.text());
    let analyst_id = analyst.json()["id"].as_str().unwrap().to_string();

    // An analyst is not an administrator: the server says no.
    let forbidden = app
        .request("GET", "/api/admin/users")
        .basic("ana", PASSWORD)
        .send()
        .await;
    assert_eq!(forbidden.status, 403);
    assert_eq!(forbidden.json()["error"]["code"], "forbidden");

    // Tokens: shown once, work as Bearer and as the Basic password, stop when revoked.
    let created = app
        .request("POST", "/api/me/tokens")
        .basic("ana", PASSWORD)
        .json(&json!({"name": "feed reader"}))
        .send()
        .await;
    assert_eq!(created.status, 201, "{}", created.text());
    let created = created.json();
    let secret = created["secret"].as_str().unwrap().to_string();
    let token_id = created["token"]["id"].as_str().unwrap().to_string();
    let listed = app
        .request("GET", "/api/me/tokens")
        .bearer(&secret)
        .send()
        .await;
    assert_eq!(listed.status, 200);
    assert!(
        !listed.text().contains(&secret),
        "the secret is never shown again"
    );
    assert_eq!(
        app.request("GET", "/api/me")
            .basic("ana", &secret)
            .send()
            .await
            .status,
        200
    );
    assert_eq!(
        app.request("GET", "/api/me")
            .basic("admin", &secret)
            .send()
            .await
            .status,
        401,
        "a token is its owner's only"
    );
    let revoked = app
        .request("DELETE", &format!("/api/me/tokens/{token_id}"))
        .basic("ana", PASSWORD)
        .send()
        .await;
    assert_eq!(revoked.status, 200);
    assert_eq!(revoked.json()["state"], "revoked");
    let after = app.request("GET", "/api/me").bearer(&secret).send().await;
    assert_eq!(after.status, 401);
    assert!(
        after.json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("expired or revoked")
    );
    assert_eq!(audit_actions(&app, "token.created").await, 1);
    assert_eq!(audit_actions(&app, "token.revoked").await, 1);

    // An expired token is refused.
    let short = app
        .request("POST", &format!("/api/admin/users/{analyst_id}/tokens"))
        .basic(&admin, PASSWORD)
        .json(&json!({"name": "short-lived", "expires_in": "1s"}))
        .send()
        .await
        .json();
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    assert_eq!(
        app.request("GET", "/api/me")
            .bearer(short["secret"].as_str().unwrap())
            .send()
            .await
            .status,
        401
    );

    // A role change is a new version of the user, and an audit event.
    let changed = app
        .request("PATCH", &format!("/api/admin/users/{analyst_id}"))
        .basic(&admin, PASSWORD)
        .json(&json!({"roles": ["analyst", "reader"]}))
        .send()
        .await;
    assert_eq!(changed.status, 200);
    assert_eq!(changed.json()["version"], 2);
    assert_eq!(audit_actions(&app, "user.roles_changed").await, 1);

    // Redaction erases personal data and the log still verifies.
    let redacted = app
        .request("POST", &format!("/api/admin/users/{analyst_id}/redact"))
        .basic(&admin, PASSWORD)
        .send()
        .await;
    assert_eq!(redacted.json()["email"], serde_json::Value::Null);
    let verifier = vigil_tlog::LogVerifier::parse(&app.ledger.verifier_key()).unwrap();
    app.ledger.checkpoint().await.unwrap();
    let report = vigil_server::core::ledger::verify::verify_store(&app.db, &verifier, None)
        .await
        .unwrap();
    assert!(report.ok(), "{:?}", report.problems);
    assert_eq!(report.redacted_records, 1);

    // Brute force: after 5 failures the account is throttled, even for the right password.
    for _ in 0..5 {
        assert_eq!(
            app.request("GET", "/api/me")
                .basic("ana", "guess")
                .send()
                .await
                .status,
            401
        );
    }
    let throttled = app
        .request("GET", "/api/me")
        .basic("ana", PASSWORD)
        .send()
        .await;
    assert_eq!(throttled.status, 429);
    assert!(throttled.header("retry-after").is_some());
    // Other accounts are unaffected.
    assert_eq!(
        app.request("GET", "/api/me")
            .basic(&admin, PASSWORD)
            .send()
            .await
            .status,
        200
    );

    // Logout ends the session.
    assert_eq!(
        app.request("POST", "/api/auth/logout")
            .header("cookie", &session)
            .send()
            .await
            .status,
        204
    );
    assert_eq!(
        app.request("GET", "/api/me")
            .header("cookie", &session)
            .send()
            .await
            .status,
        401
    );
    app.stop().await;
}

async fn bad_bodies(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.user("EU Hub", "admin", &["administrator"]).await;
    let size_before = app.ledger.size().await.unwrap();
    let huge = vec![b'x'; 200 * 1024];
    let too_large = app
        .request("POST", "/api/admin/organisations")
        .basic(&admin, PASSWORD)
        .raw("application/json", huge)
        .send()
        .await;
    assert_eq!(too_large.status, 413);
    assert_eq!(too_large.json()["error"]["code"], "too_large");
    let malformed = app
        .request("POST", "/api/admin/organisations")
        .basic(&admin, PASSWORD)
        .raw("application/json", b"{\"name\": ".to_vec())
        .send()
        .await;
    assert_eq!(malformed.status, 422);
    assert_eq!(malformed.json()["error"]["code"], "invalid_input");
    let wrong_type = app
        .request("POST", "/api/admin/organisations")
        .basic(&admin, PASSWORD)
        .raw("text/plain", b"name=x".to_vec())
        .send()
        .await;
    assert_eq!(wrong_type.status, 415);
    let missing = app.request("GET", "/no/such/thing").send().await;
    assert_eq!(missing.status, 404);
    assert_eq!(missing.json()["error"]["code"], "not_found");
    // None of it wrote anything.
    assert_eq!(app.ledger.size().await.unwrap(), size_before);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn accounts_work_on_every_backend() {
    for backend in backends() {
        accounts_story(backend).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_request_bodies_get_clear_errors_and_write_nothing() {
    for backend in backends() {
        bad_bodies(backend).await;
    }
}
