//! The committed OpenAPI document is what the code generates.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test
#[test]
fn committed_openapi_matches_the_code() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/openapi.json");
    let committed = std::fs::read_to_string(path).unwrap_or_default();
    let generated = vigil_server::core::server::openapi_text();
    assert!(
        committed == generated,
        "docs/openapi.json is out of date: run `cargo run -- openapi > docs/openapi.json`"
    );
    let document: serde_json::Value = serde_json::from_str(&generated).unwrap();
    assert!(document["openapi"].as_str().unwrap().starts_with("3.1"));
    assert!(document["paths"]["/log/tile/{path}"].is_object());
    assert!(document["paths"]["/api/admin/users"]["post"].is_object());
}
