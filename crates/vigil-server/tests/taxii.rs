//! The TAXII 2.1 server of the Rapid Alert System over real HTTP, on every
//! backend: the protocol's resources, media types and errors; paging with
//! stateless cursors; filters; and TLP enforced object by object, for
//! several organisations, before anything is counted or paged.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test
mod common;

use common::{Backend, PASSWORD, TestApp, backends};
use serde_json::{Value, json};
use std::collections::BTreeSet;
use vigil_server::accounts::store::{organisation_by_name, user_by_username};
use vigil_server::alerts::domain::{Access, Viewer};
use vigil_server::alerts::service::{self, AUDIENCE_EXTENSION, NewCollection};
use vigil_server::core::audit::Actor;
use vigil_server::core::ledger::verify::verify_store;
use vigil_stix::{Tlp, TlpProfile};
use vigil_tlog::LogVerifier;

const TAXII: &str = "application/taxii+json;version=2.1";

struct World {
    app: TestApp,
    root: String,
    collection: String,
    identity_a: String,
    identity_b: String,
    org_b: String,
    user_b1: String,
}

/// Three organisations: A and B are members of the community `eu-ras`; the
/// collection is shared with A (read and write) and B (read); C's user
/// `c1` alone may read it (a user grant, C is no member).
async fn world(backend: Backend) -> World {
    let app = TestApp::spawn(backend).await;
    for (org, user) in [
        ("NCP A", "anna"),
        ("NCP A", "arvo"),
        ("NCP B", "berit"),
        ("Fact-checkers C", "carl"),
    ] {
        app.user(org, user, &["analyst"]).await;
    }
    let org = |name: &'static str| {
        let db = app.db.clone();
        async move {
            organisation_by_name(db.pool(), name)
                .await
                .unwrap()
                .unwrap()
        }
    };
    let (a, b) = (org("NCP A").await, org("NCP B").await);
    let c1 = user_by_username(app.db.pool(), "carl")
        .await
        .unwrap()
        .unwrap()
        .user;
    let b1 = user_by_username(app.db.pool(), "berit")
        .await
        .unwrap()
        .unwrap()
        .user;
    service::create_community(
        &app.db,
        &Actor::System,
        "eu-ras",
        "EU Rapid Alert System",
        Some("Member states and EU institutions".into()),
    )
    .await
    .unwrap();
    for member in [&a, &b] {
        service::set_membership(&app.db, &Actor::System, "eu-ras", member.id.as_str(), true)
            .await
            .unwrap();
    }
    let collection = service::create_collection(
        &app.db,
        &Actor::System,
        "eu-ras",
        NewCollection {
            title: "European elections 2026".into(),
            description: None,
            alias: Some("ee2026".into()),
            default_tlp: Some("amber".into()),
        },
    )
    .await
    .unwrap();
    let id = collection.id.as_str();
    grant(&app.db, id, a.id.as_str(), true, true).await;
    grant(&app.db, id, b.id.as_str(), true, false).await;
    grant(&app.db, id, c1.id.as_str(), true, false).await;
    World {
        root: "/taxii2/eu-ras/".into(),
        collection: format!("/taxii2/eu-ras/collections/{id}/"),
        identity_a: a.stix_identity,
        identity_b: b.stix_identity,
        org_b: b.id.to_string(),
        user_b1: b1.id.to_string(),
        app,
    }
}

impl World {
    async fn get(&self, user: &str, path: &str) -> common::Response {
        self.app
            .request("GET", path)
            .basic(user, PASSWORD)
            .header("accept", TAXII)
            .send()
            .await
    }

    /// A POST to the collection's objects with any content type and body.
    async fn post_raw(&self, user: &str, content_type: &str, body: Vec<u8>) -> common::Response {
        self.app
            .request("POST", &format!("{}objects/", self.collection))
            .basic(user, PASSWORD)
            .header("accept", TAXII)
            .raw(content_type, body)
            .send()
            .await
    }

    async fn post(&self, user: &str, objects: Value) -> common::Response {
        self.app
            .request("POST", &format!("{}objects/", self.collection))
            .basic(user, PASSWORD)
            .header("accept", TAXII)
            .raw(TAXII, serde_json::to_vec(&objects).unwrap())
            .send()
            .await
    }

    /// How many objects one page holds (none: the envelope has no `objects`).
    async fn count(&self, user: &str, path: &str) -> usize {
        self.get(user, path).await.json()["objects"]
            .as_array()
            .map_or(0, Vec::len)
    }

    /// Every object id the user receives, paging through with `limit`.
    async fn all_ids(&self, user: &str, query: &str, limit: u64) -> Vec<String> {
        self.all_versions(user, query, limit)
            .await
            .into_iter()
            .map(|(id, _)| id)
            .collect()
    }

    /// Every (object id, modified) the user receives, paging with `limit`.
    async fn all_versions(&self, user: &str, query: &str, limit: u64) -> Vec<(String, String)> {
        let mut ids = Vec::new();
        let mut next: Option<String> = None;
        loop {
            let mut path = format!("{}objects/?limit={limit}{query}", self.collection);
            if let Some(next) = &next {
                path.push_str(&format!("&next={next}"));
            }
            let page = self.get(user, &path).await;
            assert_eq!(page.status, 200, "{}", page.text());
            let body = page.json();
            let objects = body["objects"].as_array().cloned().unwrap_or_default();
            assert!(objects.len() as u64 <= limit);
            if objects.is_empty() {
                assert!(page.header("x-taxii-date-added-first").is_none());
            } else {
                assert!(page.header("x-taxii-date-added-first").is_some());
                assert!(page.header("x-taxii-date-added-last").is_some());
            }
            ids.extend(objects.iter().map(|o| {
                let id = o["id"].as_str().unwrap().to_string();
                (id, o["modified"].as_str().unwrap_or("").to_string())
            }));
            if body["more"] == json!(true) {
                next = Some(body["next"].as_str().unwrap().to_string());
            } else {
                assert!(body.get("next").is_none());
                return ids;
            }
        }
    }
}

/// Sets a grant as the system would (administration is tested elsewhere).
async fn grant(
    db: &vigil_server::core::db::Db,
    collection: &str,
    grantee: &str,
    read: bool,
    write: bool,
) {
    service::set_grant(db, &Actor::System, collection, grantee, read, write)
        .await
        .unwrap();
}

fn uuid() -> String {
    uuid::Uuid::new_v4().to_string()
}

fn campaign(name: &str, created_by: Option<&str>, markings: &[&str], modified: &str) -> Value {
    let mut object = json!({
        "type": "campaign", "spec_version": "2.1", "id": format!("campaign--{}", uuid()),
        "created": "2026-09-01T10:00:00.000Z", "modified": modified, "name": name,
    });
    if let Some(identity) = created_by {
        object["created_by_ref"] = identity.into();
    }
    if !markings.is_empty() {
        object["object_marking_refs"] = json!(markings);
    }
    object
}

fn marking(tlp: Tlp) -> &'static str {
    tlp.marking_id(TlpProfile::Oasis)
}

async fn protocol_and_tlp(backend: Backend) {
    let world = world(backend).await;
    let app = &world.app;

    // Discovery and API root; errors are TAXII error resources, 401 included.
    let discovery = world.get("anna", "/taxii2/").await;
    assert_eq!(discovery.status, 200);
    assert_eq!(discovery.header("content-type"), Some(TAXII));
    assert_eq!(discovery.json()["api_roots"], json!(["/taxii2/eu-ras/"]));
    let root = world.get("anna", &world.root).await.json();
    assert_eq!(root["versions"], json!([TAXII]));
    assert!(root["max_content_length"].as_u64().unwrap() > 0);
    let anonymous = app
        .request("GET", "/taxii2/")
        .header("accept", TAXII)
        .send()
        .await;
    assert_eq!(anonymous.status, 401);
    assert_eq!(anonymous.header("content-type"), Some(TAXII));
    assert_eq!(anonymous.json()["http_status"], "401");
    assert!(
        anonymous
            .header("www-authenticate")
            .unwrap()
            .starts_with("Basic")
    );
    let wrong_password = app
        .request("GET", "/taxii2/")
        .basic("anna", "wrong")
        .header("accept", TAXII)
        .send()
        .await;
    assert_eq!(wrong_password.status, 401);
    let not_acceptable = app
        .request("GET", "/taxii2/")
        .basic("anna", PASSWORD)
        .header("accept", "application/json")
        .send()
        .await;
    assert_eq!(not_acceptable.status, 406);
    assert_eq!(not_acceptable.json()["http_status"], "406");
    assert_eq!(world.get("anna", "/taxii2/other/").await.status, 404);
    let unknown = world.get("anna", "/taxii2/eu-ras/no-such-resource/").await;
    assert_eq!(
        (unknown.status, unknown.header("content-type")),
        (404, Some(TAXII))
    );

    // Collections: each user sees only those they have rights on, with those rights.
    let collections = world
        .get("berit", &format!("{}collections/", world.root))
        .await
        .json();
    assert_eq!(collections["collections"][0]["can_read"], true);
    assert_eq!(collections["collections"][0]["can_write"], false);
    assert_eq!(
        world.get("carl", &world.collection).await.json()["can_read"],
        true
    );
    assert_eq!(
        world
            .get("anna", &format!("{}collections/{}/", world.root, uuid()))
            .await
            .status,
        404
    );

    // Add objects: the valid ones are stored, each invalid one is reported.
    let strict = {
        let mut object = campaign(
            "strict for B",
            None,
            &[marking(Tlp::AmberStrict)],
            "2026-09-01T10:00:00.000Z",
        );
        object["extensions"] = json!({AUDIENCE_EXTENSION: {"extension_type": "property-extension", "organisations": [world.identity_b]}});
        object
    };
    let red = {
        let mut object = campaign(
            "red for b1",
            None,
            &[marking(Tlp::Red)],
            "2026-09-01T10:00:00.000Z",
        );
        object["extensions"] = json!({AUDIENCE_EXTENSION: {"extension_type": "property-extension", "individuals": [world.user_b1]}});
        object
    };
    let clear = campaign(
        "clear",
        Some(&world.identity_a),
        &[marking(Tlp::Clear)],
        "2026-09-01T10:00:00.000Z",
    );
    let green = campaign(
        "green, TLP 1.0 id",
        None,
        &[Tlp::Green.marking_id(TlpProfile::Compat)],
        "2026-09-01T10:00:00.000Z",
    );
    let amber = campaign(
        "amber",
        None,
        &[marking(Tlp::Amber)],
        "2026-09-01T10:00:00.000Z",
    );
    let unmarked = campaign(
        "unmarked: the collection's AMBER",
        None,
        &[],
        "2026-09-01T10:00:00.000Z",
    );
    let strict_private = campaign(
        "strict, nobody named",
        None,
        &[marking(Tlp::AmberStrict)],
        "2026-09-01T10:00:00.000Z",
    );
    let in_b_name = campaign(
        "posted in B's name",
        Some(&world.identity_b),
        &[],
        "2026-09-01T10:00:00.000Z",
    );
    let unknown_marking = campaign(
        "unknown marking",
        None,
        &["marking-definition--8d9b5f4c-2d3e-4f5a-9b6c-7d8e9f0a1b2c"],
        "2026-09-01T10:00:00.000Z",
    );
    let bad_id = json!({"type": "campaign", "spec_version": "2.1", "id": "campaign--nope", "created": "2026-09-01T10:00:00Z", "modified": "2026-09-01T10:00:00Z", "name": "x"});
    let envelope = json!({"objects": [clear, green, amber, unmarked, strict, strict_private, red, in_b_name, unknown_marking, bad_id]});
    let added = world.post("anna", envelope).await;
    assert_eq!(added.status, 202, "{}", added.text());
    assert_eq!(added.header("content-type"), Some(TAXII));
    let status = added.json();
    assert_eq!(status["status"], "complete");
    assert_eq!(
        (
            status["total_count"].as_u64(),
            status["success_count"].as_u64(),
            status["failure_count"].as_u64()
        ),
        (Some(10), Some(7), Some(3))
    );
    let failures: Vec<String> = status["failures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["message"].as_str().unwrap().to_string())
        .collect();
    assert!(
        failures.iter().any(|m| m.contains("created_by_ref")),
        "{failures:?}"
    );
    assert!(
        failures.iter().any(|m| m.contains("unknown")),
        "{failures:?}"
    );
    assert!(failures.iter().any(|m| m.contains("id")), "{failures:?}");
    // The status stays readable (to the poster's organisation, not to others).
    let status_path = format!("{}status/{}/", world.root, status["id"].as_str().unwrap());
    assert_eq!(
        world.get("arvo", &status_path).await.json()["success_count"],
        7
    );
    assert_eq!(world.get("berit", &status_path).await.status, 404);

    // TLP, object by object, for each reader.
    let names = |ids: &[String], objects: &[Value]| -> BTreeSet<String> {
        objects
            .iter()
            .filter(|o| ids.contains(&o["id"].as_str().unwrap().to_string()))
            .map(|o| o["name"].as_str().unwrap().to_string())
            .collect()
    };
    let all = world
        .get(
            "anna",
            &format!("{}objects/?match[version]=all", world.collection),
        )
        .await
        .json()["objects"]
        .as_array()
        .unwrap()
        .clone();
    let expect = |list: &[&str]| {
        list.iter()
            .map(|s| s.to_string())
            .collect::<BTreeSet<String>>()
    };
    let a1 = world.all_ids("anna", "", 2).await;
    assert_eq!(
        names(&a1, &all),
        expect(&[
            "clear",
            "green, TLP 1.0 id",
            "amber",
            "unmarked: the collection's AMBER",
            "strict for B",
            "strict, nobody named",
            "red for b1"
        ])
    );
    let a2 = world.all_ids("arvo", "", 3).await;
    assert_eq!(
        names(&a2, &all),
        expect(&[
            "clear",
            "green, TLP 1.0 id",
            "amber",
            "unmarked: the collection's AMBER",
            "strict for B",
            "strict, nobody named"
        ])
    );
    let b1 = world.all_ids("berit", "", 1).await;
    let all_b1 = world
        .get(
            "berit",
            &format!("{}objects/?match[version]=all", world.collection),
        )
        .await
        .json()["objects"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(
        names(&b1, &all_b1),
        expect(&[
            "clear",
            "green, TLP 1.0 id",
            "amber",
            "unmarked: the collection's AMBER",
            "strict for B",
            "red for b1"
        ])
    );
    let c1 = world.all_ids("carl", "", 5).await;
    assert_eq!(c1.len(), 1, "c1 is no member: CLEAR only");
    // The manifest counts only what the reader may see.
    let manifest = world
        .get("carl", &format!("{}manifest/", world.collection))
        .await
        .json();
    assert_eq!(manifest["objects"].as_array().unwrap().len(), 1);
    assert_eq!(
        manifest["objects"][0]["media_type"],
        "application/stix+json;version=2.1"
    );
    // A RED object is not found by those it is not for, even by id.
    let red_id = all.iter().find(|o| o["name"] == "red for b1").unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        world
            .get("arvo", &format!("{}objects/{red_id}/", world.collection))
            .await
            .status,
        404
    );
    assert_eq!(
        world
            .get("berit", &format!("{}objects/{red_id}/", world.collection))
            .await
            .status,
        200
    );

    // Versions and filters.
    let first = campaign(
        "versioned",
        None,
        &[marking(Tlp::Green)],
        "2026-09-01T10:00:00.000Z",
    );
    let mut second = first.clone();
    second["modified"] = "2026-09-05T10:00:00.000Z".into();
    second["name"] = "versioned, second".into();
    let id = first["id"].as_str().unwrap().to_string();
    assert_eq!(
        world.post("anna", json!({"objects": [first]})).await.json()["success_count"],
        1
    );
    assert_eq!(
        world
            .post("anna", json!({"objects": [second.clone(), second]}))
            .await
            .json()["success_count"],
        2
    );
    let object_path = format!("{}objects/{id}/", world.collection);
    assert_eq!(
        world.get("berit", &object_path).await.json()["objects"][0]["name"],
        "versioned, second"
    );
    assert_eq!(
        world
            .get("berit", &format!("{object_path}?match[version]=first"))
            .await
            .json()["objects"][0]["name"],
        "versioned"
    );
    assert_eq!(
        world
            .count("berit", &format!("{object_path}?match[version]=all"))
            .await,
        2
    );
    assert_eq!(
        world
            .get(
                "berit",
                &format!("{object_path}?match[version]=2026-09-01T10:00:00Z")
            )
            .await
            .json()["objects"][0]["name"],
        "versioned"
    );
    assert_eq!(
        world
            .get("berit", &format!("{object_path}versions/"))
            .await
            .json()["versions"],
        json!(["2026-09-01T10:00:00.000Z", "2026-09-05T10:00:00.000Z"])
    );
    assert_eq!(
        world
            .count(
                "berit",
                &format!("{}objects/?match[id]={id}", world.collection)
            )
            .await,
        1
    );
    assert_eq!(
        world
            .get(
                "berit",
                &format!("{}objects/?match[type]=indicator", world.collection)
            )
            .await
            .json()
            .get("objects"),
        None
    );
    let later = world
        .get(
            "berit",
            &format!("{}objects/?match[id]={id}", world.collection),
        )
        .await;
    let last_added = later.header("x-taxii-date-added-last").unwrap().to_string();
    assert_eq!(
        world
            .get(
                "berit",
                &format!("{}objects/?added_after={last_added}", world.collection)
            )
            .await
            .json()
            .get("objects"),
        None
    );

    // Each version's place in the log, with an inclusion proof that verifies.
    let collection_id = world
        .collection
        .trim_end_matches('/')
        .rsplit('/')
        .next()
        .unwrap()
        .to_string();
    let log_path = format!("/api/communities/eu-ras/collections/{collection_id}/objects/{id}/log");
    let logged = app
        .request("GET", &log_path)
        .basic("berit", PASSWORD)
        .send()
        .await
        .json();
    assert_eq!(logged.as_array().unwrap().len(), 2, "{logged}");
    for version in logged.as_array().unwrap() {
        let proof = app
            .request("GET", version["inclusion_proof"].as_str().unwrap())
            .send()
            .await
            .json();
        assert_eq!(proof["leaf_index"], version["leaf_index"]);
        let path: Vec<vigil_tlog::Hash> = proof["proof"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| vigil_tlog::Hash::from_hex(h.as_str().unwrap()).unwrap())
            .collect();
        assert!(vigil_tlog::verify_inclusion(
            &vigil_tlog::Hash::from_hex(proof["leaf_hash"].as_str().unwrap()).unwrap(),
            proof["leaf_index"].as_u64().unwrap(),
            proof["tree_size"].as_u64().unwrap(),
            &path,
            &vigil_tlog::Hash::from_hex(proof["root_hash"].as_str().unwrap()).unwrap(),
        ));
        assert!(
            proof["leaf_entry"]
                .as_str()
                .unwrap()
                .contains(version["record_id"].as_str().unwrap())
        );
    }
    assert_eq!(
        app.request("GET", &log_path)
            .basic("carl", PASSWORD)
            .send()
            .await
            .status,
        404,
        "GREEN: not for carl"
    );

    // Bad requests: each a TAXII error, nothing stored.
    for (query, expected) in [
        ("?limit=0", 400),
        ("?limit=x", 400),
        ("?match[colour]=red", 400),
        ("?added_after=yesterday", 400),
        ("?next=forged.cursor", 400),
    ] {
        let response = world
            .get("anna", &format!("{}objects/{query}", world.collection))
            .await;
        assert_eq!(response.status, expected, "{query}: {}", response.text());
        assert_eq!(response.json()["http_status"], expected.to_string());
    }
    // A cursor from one query is refused under other filters.
    let page = world
        .get("anna", &format!("{}objects/?limit=1", world.collection))
        .await
        .json();
    let next = page["next"].as_str().unwrap();
    assert_eq!(
        world
            .get(
                "anna",
                &format!(
                    "{}objects/?limit=1&match[type]=campaign&next={next}",
                    world.collection
                )
            )
            .await
            .status,
        400
    );
    let bare = world
        .post_raw("anna", TAXII, b"{\"type\":\"campaign\"}".to_vec())
        .await;
    assert_eq!(bare.status, 422);
    let not_json = world.post_raw("anna", TAXII, b"{".to_vec()).await;
    assert_eq!(not_json.status, 422);
    let wrong_type = world
        .post_raw("anna", "application/json", b"{\"objects\":[]}".to_vec())
        .await;
    assert_eq!(wrong_type.status, 415);
    assert_eq!(
        world.post("berit", json!({"objects": []})).await.status,
        403,
        "b1 may only read"
    );
    let huge = app
        .request("POST", &format!("{}objects/", world.collection))
        .basic("anna", PASSWORD)
        .header("accept", TAXII)
        .raw(TAXII, vec![b' '; app.settings.max_body_bytes + 1])
        .send()
        .await;
    assert_eq!(huge.status, 413);
    assert_eq!(huge.json()["http_status"], "413");

    // TLP ids in the reader's profile: OASIS TLP 2.0 by default, TLP 1.0 and
    // OpenCTI's AMBER+STRICT for a client account set to `compat`.
    let markings_of = |objects: &Value, name: &str| -> Value {
        objects["objects"]
            .as_array()
            .unwrap()
            .iter()
            .find(|o| o["name"] == name)
            .unwrap()["object_marking_refs"]
            .clone()
    };
    let as_anna = world
        .get("anna", &format!("{}objects/?limit=100", world.collection))
        .await
        .json();
    assert_eq!(
        markings_of(&as_anna, "green, TLP 1.0 id"),
        json!([marking(Tlp::Green)])
    );
    let berit = user_by_username(app.db.pool(), "berit")
        .await
        .unwrap()
        .unwrap()
        .user;
    service::set_tlp_profile(&app.db, &Actor::System, berit.id.as_str(), "compat")
        .await
        .unwrap();
    let as_berit = world
        .get("berit", &format!("{}objects/?limit=100", world.collection))
        .await
        .json();
    assert_eq!(
        markings_of(&as_berit, "amber"),
        json!([Tlp::Amber.marking_id(TlpProfile::Compat)])
    );
    assert_eq!(
        markings_of(&as_berit, "strict for B"),
        json!(["marking-definition--826578e1-40ad-459f-bc73-ede076f81f37"])
    );

    // Deletion: only the originating organisation, with write rights.
    let amber_id = all.iter().find(|o| o["name"] == "amber").unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let amber_path = format!("{}objects/{amber_id}/", world.collection);
    let refused = app
        .request("DELETE", &amber_path)
        .basic("berit", PASSWORD)
        .header("accept", TAXII)
        .send()
        .await;
    assert_eq!(refused.status, 403);
    let deleted = app
        .request("DELETE", &amber_path)
        .basic("arvo", PASSWORD)
        .header("accept", TAXII)
        .send()
        .await;
    assert_eq!(deleted.status, 200, "{}", deleted.text());
    assert_eq!(world.get("berit", &amber_path).await.status, 404);

    // Everything went through the log, and the log verifies.
    world.app.ledger.checkpoint().await.unwrap();
    let verifier = LogVerifier::parse(&world.app.ledger.verifier_key()).unwrap();
    let report = verify_store(&world.app.db, &verifier, None).await.unwrap();
    assert!(report.ok(), "{:?}", report.problems);
    let logged: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM tlog_leaves WHERE kind = 'stix_object'")
            .fetch_one(world.app.db.pool())
            .await
            .unwrap();
    assert_eq!(
        logged,
        7 + 2 + 1,
        "each accepted version and the deletion is a leaf"
    );
    world.app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn taxii_protocol_and_tlp_on_every_backend() {
    for backend in backends() {
        protocol_and_tlp(backend).await;
    }
}

/// A small deterministic generator, so that a failure can be replayed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[(self.next() % items.len() as u64) as usize]
    }
}

/// Random objects, markings, audiences and grants: every reader receives,
/// pages over and counts exactly the objects the TLP rule entitles them to.
async fn random_entitlements(backend: Backend, seed: u64) {
    let world = world(backend).await;
    let mut rng = Rng(seed);
    let db = &world.app.db;
    let collection_id = world
        .collection
        .trim_end_matches('/')
        .rsplit('/')
        .next()
        .unwrap()
        .to_string();
    // Random memberships: B may leave the community, C may join it.
    for (organisation, join) in [("NCP B", false), ("Fact-checkers C", true)] {
        if rng.next().is_multiple_of(2) {
            let org = organisation_by_name(db.pool(), organisation)
                .await
                .unwrap()
                .unwrap();
            service::set_membership(db, &Actor::System, "eu-ras", org.id.as_str(), join)
                .await
                .unwrap();
        }
    }
    // Random rights for the readers beyond the fixed ones.
    for user in ["arvo", "carl"] {
        let id = user_by_username(db.pool(), user)
            .await
            .unwrap()
            .unwrap()
            .user
            .id;
        grant(
            db,
            &collection_id,
            id.as_str(),
            rng.next().is_multiple_of(2),
            false,
        )
        .await;
    }
    if rng.next().is_multiple_of(2) {
        grant(db, &collection_id, &world.org_b, false, false).await;
    }
    let levels = [
        None,
        Some(Tlp::Clear),
        Some(Tlp::Green),
        Some(Tlp::Amber),
        Some(Tlp::AmberStrict),
        Some(Tlp::Red),
    ];
    let b1 = world.user_b1.clone();
    let mut objects = Vec::new();
    for n in 0..30 {
        let mut markings: Vec<&str> = Vec::new();
        for _ in 0..(rng.next() % 3) {
            if let Some(level) = rng.pick(&levels) {
                markings.push(level.marking_id(rng.pick(&[TlpProfile::Oasis, TlpProfile::Compat])));
            }
        }
        let mut object = campaign(
            &format!("object {n}"),
            None,
            &markings,
            "2026-09-01T10:00:00.000Z",
        );
        let organisations: Vec<&str> = if rng.next().is_multiple_of(3) {
            vec![world.identity_b.as_str()]
        } else {
            vec![]
        };
        let individuals: Vec<&str> = if rng.next().is_multiple_of(3) {
            vec![b1.as_str()]
        } else {
            vec![]
        };
        object["extensions"] = json!({AUDIENCE_EXTENSION: {"extension_type": "property-extension", "organisations": organisations, "individuals": individuals}});
        objects.push(object);
    }
    // Newer versions of some objects, marked anew: a reader gets the newest
    // version they may see, which need not be the newest one.
    let mut newer = Vec::new();
    for object in &objects {
        if rng.next().is_multiple_of(2) {
            continue;
        }
        let mut next = object.clone();
        next["modified"] = "2026-09-02T10:00:00.000Z".into();
        next["object_marking_refs"] = json!([rng
            .pick(&[Tlp::Green, Tlp::Amber, Tlp::AmberStrict, Tlp::Red])
            .marking_id(TlpProfile::Oasis)]);
        newer.push(next);
    }
    let poster = rng.pick(&["anna", "arvo"]);
    let status = world.post(poster, json!({"objects": objects})).await.json();
    assert_eq!(status["success_count"], 30, "{status}");
    let status = world
        .post(poster, json!({"objects": newer.clone()}))
        .await
        .json();
    assert_eq!(
        status["success_count"].as_u64(),
        Some(newer.len() as u64),
        "{status}"
    );

    // The expected view of each reader, computed from the rule on stored rows.
    let rows: Vec<(String, i64, String, String, String, String)> = sqlx::query_as(
        "SELECT stix_id, tlp, originator, poster, audience, stix_version FROM stix_objects",
    )
    .fetch_all(db.pool())
    .await
    .unwrap();
    for reader in ["anna", "arvo", "berit", "carl"] {
        let user = user_by_username(db.pool(), reader)
            .await
            .unwrap()
            .unwrap()
            .user;
        let grants =
            vigil_server::alerts::store::grants_for(db.pool(), &user.id, &user.organisation_id)
                .await
                .unwrap();
        let member = vigil_server::alerts::store::communities_of(db.pool(), &user.organisation_id)
            .await
            .unwrap()
            .iter()
            .any(|c| c.as_str() == "eu-ras");
        let access = Access {
            can_read: grants.iter().any(|g| g.can_read),
            can_write: grants.iter().any(|g| g.can_write),
            member,
            organisation_reads: grants
                .iter()
                .any(|g| g.grantee == user.organisation_id.as_str() && g.can_read),
        };
        // The newest version of each object among those the reader may see.
        let expected: BTreeSet<(String, String)> = match access.open_tlp() {
            None => BTreeSet::new(),
            Some(open) => {
                let viewer = Viewer {
                    user: user.id.to_string(),
                    organisation: user.organisation_id.to_string(),
                    open,
                };
                let mut newest = std::collections::BTreeMap::<String, String>::new();
                for (id, tlp, originator, poster, audience, version) in &rows {
                    if viewer.sees(Tlp::from_rank(*tlp).unwrap(), originator, poster, audience) {
                        let entry = newest.entry(id.clone()).or_default();
                        if version > entry {
                            *entry = version.clone();
                        }
                    }
                }
                newest.into_iter().collect()
            }
        };
        let response = world
            .get(reader, &format!("{}objects/", world.collection))
            .await;
        if access.can_read {
            let limit = 1 + rng.next() % 7;
            let got: Vec<(String, String)> = world.all_versions(reader, "", limit).await;
            let unique: BTreeSet<(String, String)> = got.iter().cloned().collect();
            assert_eq!(
                unique.len(),
                got.len(),
                "seed {seed}: {reader} received an object twice"
            );
            assert_eq!(unique, expected, "seed {seed}: {reader}");
            let manifest = world
                .get(reader, &format!("{}manifest/?limit=1000", world.collection))
                .await
                .json();
            let counted = manifest["objects"].as_array().map_or(0, Vec::len);
            assert_eq!(counted, expected.len(), "seed {seed}: {reader}'s manifest");
        } else {
            assert!(expected.is_empty());
            assert!(
                matches!(response.status, 403 | 404),
                "seed {seed}: {reader} got {}",
                response.status
            );
        }
    }
    world.app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_reader_receives_counts_or_pages_over_what_tlp_withholds() {
    for backend in backends() {
        for seed in [0x9E37_79B9_7F4A_7C15, 0xD1B5_4A32_D192_ED03, 42, 7_777_777] {
            random_entitlements(backend, seed).await;
        }
    }
}

/// The DISARM framework as a read-only reference collection and a lookup API.
async fn disarm_reference(backend: Backend) {
    let world = world(backend).await;
    let app = &world.app;
    let collection = service::load_disarm(&app.db, &Actor::System, "eu-ras")
        .await
        .unwrap();
    let path = format!("{}collections/{}/", world.root, collection.id.as_str());
    let resource = world.get("berit", &path).await.json();
    assert_eq!(
        (
            resource["can_read"].as_bool(),
            resource["can_write"].as_bool()
        ),
        (Some(true), Some(false))
    );
    let manifest = world
        .get("berit", &format!("{path}manifest/?limit=1000"))
        .await
        .json();
    assert_eq!(
        manifest["objects"].as_array().unwrap().len(),
        698,
        "every object of the bundle"
    );
    let page = world
        .get(
            "berit",
            &format!("{path}objects/?match[type]=attack-pattern&limit=1000"),
        )
        .await
        .json();
    let objects = page["objects"].as_array().unwrap();
    assert_eq!(objects.len(), 391);
    assert!(objects.iter().all(|o| {
        o["kill_chain_phases"]
            .as_array()
            .unwrap()
            .iter()
            .all(|p| p["kill_chain_name"] == "disarm")
    }));
    assert_eq!(
        world.post("anna", json!({"objects": []})).await.status,
        202,
        "the FIMI collection stays writable"
    );
    let refused = app
        .request("POST", &format!("{path}objects/"))
        .basic("anna", PASSWORD)
        .header("accept", TAXII)
        .raw(TAXII, b"{\"objects\":[]}".to_vec())
        .send()
        .await;
    assert_eq!(refused.status, 403, "the reference collection is read-only");

    let found = app
        .request("GET", "/api/disarm/techniques?q=T0086&limit=3")
        .basic("carl", PASSWORD)
        .send()
        .await
        .json();
    assert_eq!(found["techniques"][0]["id"], "T0086");
    assert!(
        found["attribution"]
            .as_str()
            .unwrap()
            .contains("CC BY-SA 4.0")
    );
    let by_name = app
        .request("GET", "/api/disarm/techniques?q=inauthentic%20news%20sites")
        .basic("carl", PASSWORD)
        .send()
        .await
        .json();
    assert!(
        by_name["techniques"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["id"] == "T0098")
    );
    assert_eq!(
        app.request("GET", "/api/disarm/techniques/t0098")
            .basic("carl", PASSWORD)
            .send()
            .await
            .json()["techniques"][0]["name"],
        "Establish Inauthentic News Sites"
    );
    assert_eq!(
        app.request("GET", "/api/disarm/techniques/T9999")
            .basic("carl", PASSWORD)
            .send()
            .await
            .status,
        404
    );
    assert_eq!(
        app.request("GET", "/api/disarm/techniques")
            .send()
            .await
            .status,
        401
    );
    app.ledger.checkpoint().await.unwrap();
    let verifier = LogVerifier::parse(&app.ledger.verifier_key()).unwrap();
    assert!(verify_store(&app.db, &verifier, None).await.unwrap().ok());
    world.app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn disarm_is_a_reference_collection_and_a_lookup() {
    for backend in backends() {
        disarm_reference(backend).await;
    }
}

/// Alerts from draft to revoked, acknowledgements and opinions, and what the
/// originator sees of who received and acknowledged.
async fn alert_lifecycle(backend: Backend) {
    let world = world(backend).await;
    let app = &world.app;
    let collection_id = world
        .collection
        .trim_end_matches('/')
        .rsplit('/')
        .next()
        .unwrap()
        .to_string();
    let call = |user: &'static str, method: &'static str, path: String, body: Option<Value>| {
        let request = app.request(method, &path).basic(user, PASSWORD);
        async move {
            match body {
                Some(body) => request.json(&body).send().await,
                None => request.send().await,
            }
        }
    };
    let url = json!({"type": "url", "spec_version": "2.1", "id": format!("url--{}", uuid()), "value": "https://cloned-news.example/vote-postponed"});
    let draft = json!({
        "community": "eu-ras", "collection": collection_id, "level": "alert",
        "report": {"name": "Cloned news site announces a postponed vote", "description": "first draft",
                   "object_marking_refs": [marking(Tlp::Amber)]},
        "related": [url],
    });
    let created = call("anna", "POST", "/api/alerts".into(), Some(draft.clone())).await;
    assert_eq!(created.status, 201, "{}", created.text());
    let alert = created.json();
    assert_eq!(alert["state"], "draft");
    let id = alert["id"].as_str().unwrap().to_string();
    let report_id = alert["report_id"].as_str().unwrap().to_string();

    // A draft is the originating organisation's only.
    assert_eq!(
        call("arvo", "GET", format!("/api/alerts/{id}"), None)
            .await
            .status,
        200
    );
    assert_eq!(
        call("berit", "GET", format!("/api/alerts/{id}"), None)
            .await
            .status,
        404
    );
    assert_eq!(
        call(
            "berit",
            "POST",
            format!("/api/alerts/{id}/acknowledge"),
            None
        )
        .await
        .status,
        404
    );
    assert!(
        world
            .get(
                "berit",
                &format!("{}objects/?match[id]={report_id}", world.collection)
            )
            .await
            .json()
            .get("objects")
            .is_none()
    );
    let mut edited = draft.clone();
    edited["report"]["description"] = "second draft".into();
    edited["level"] = "urgent".into();
    let edited = call("arvo", "PUT", format!("/api/alerts/{id}"), Some(edited))
        .await
        .json();
    assert_eq!(
        (edited["version"].as_u64(), edited["level"].as_str()),
        (Some(2), Some("urgent"))
    );

    // Bad input and refused transitions.
    let mut bad = draft.clone();
    bad["level"] = "panic".into();
    bad["report"] = json!({"description": "no name"});
    let refused = call("anna", "POST", "/api/alerts".into(), Some(bad)).await;
    assert_eq!(refused.status, 422);
    let fields: Vec<String> = refused.json()["error"]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["field"].as_str().unwrap().to_string())
        .collect();
    assert!(
        fields.contains(&"level".to_string()) && fields.contains(&"report.name".to_string()),
        "{fields:?}"
    );
    assert_eq!(
        call("anna", "POST", format!("/api/alerts/{id}/revoke"), None)
            .await
            .status,
        409
    );
    assert_eq!(
        call("berit", "POST", "/api/alerts".into(), Some(draft.clone()))
            .await
            .status,
        403,
        "berit may not write"
    );

    // Published: shared in the collection as a report with its level.
    let published = call("anna", "POST", format!("/api/alerts/{id}/publish"), None).await;
    assert_eq!(published.status, 200, "{}", published.text());
    assert_eq!(
        call("anna", "POST", format!("/api/alerts/{id}/publish"), None)
            .await
            .status,
        409
    );
    let shared = world
        .get(
            "berit",
            &format!("{}objects/{report_id}/", world.collection),
        )
        .await
        .json();
    let report = &shared["objects"][0];
    assert_eq!(
        report["extensions"][service::ALERT_EXTENSION]["alert_level"],
        "urgent"
    );
    assert_eq!(report["created_by_ref"], world.identity_a);
    assert!(
        report["object_refs"]
            .as_array()
            .unwrap()
            .contains(&url["id"])
    );
    let evidence = world
        .get(
            "berit",
            &format!(
                "{}objects/{}/",
                world.collection,
                url["id"].as_str().unwrap()
            ),
        )
        .await
        .json();
    assert_eq!(
        evidence["objects"][0]["object_marking_refs"],
        json!([marking(Tlp::Amber)]),
        "evidence takes the report's marking"
    );
    assert_eq!(
        call("carl", "GET", format!("/api/alerts/{id}"), None)
            .await
            .status,
        404,
        "AMBER does not reach carl"
    );

    // Acknowledgement (once per organisation) and opinion.
    let ack = call(
        "berit",
        "POST",
        format!("/api/alerts/{id}/acknowledge"),
        None,
    )
    .await
    .json();
    assert_eq!(ack["sighting_of_ref"], report_id.as_str());
    assert_eq!(
        call(
            "berit",
            "POST",
            format!("/api/alerts/{id}/acknowledge"),
            None
        )
        .await
        .json()["id"],
        ack["id"]
    );
    assert_eq!(
        call(
            "berit",
            "POST",
            format!("/api/alerts/{id}/opinion"),
            Some(json!({"opinion": "maybe"}))
        )
        .await
        .status,
        422
    );
    let opinion = call(
        "berit",
        "POST",
        format!("/api/alerts/{id}/opinion"),
        Some(json!({"opinion": "disagree", "explanation": "The site is satire."})),
    )
    .await;
    assert_eq!(opinion.status, 200, "{}", opinion.text());
    assert_eq!(
        call("berit", "GET", format!("/api/alerts/{id}/receipts"), None)
            .await
            .status,
        403
    );
    let receipts = call("anna", "GET", format!("/api/alerts/{id}/receipts"), None)
        .await
        .json();
    assert_eq!(receipts.as_array().unwrap().len(), 1, "{receipts}");
    assert_eq!(receipts[0]["organisation_id"], world.org_b.as_str());
    assert!(receipts[0]["acknowledged_at"].is_string());
    assert_eq!(receipts[0]["opinion"], "disagree");

    // Onward release: a sanitised derivative in another community.
    service::create_community(&app.db, &Actor::System, "fact-check", "Fact-checkers", None)
        .await
        .unwrap();
    let org_a = organisation_by_name(app.db.pool(), "NCP A")
        .await
        .unwrap()
        .unwrap();
    let org_c = organisation_by_name(app.db.pool(), "Fact-checkers C")
        .await
        .unwrap()
        .unwrap();
    for org in [&org_a, &org_c] {
        service::set_membership(&app.db, &Actor::System, "fact-check", org.id.as_str(), true)
            .await
            .unwrap();
    }
    let released = service::create_collection(
        &app.db,
        &Actor::System,
        "fact-check",
        NewCollection {
            title: "Released".into(),
            description: None,
            alias: None,
            default_tlp: Some("green".into()),
        },
    )
    .await
    .unwrap();
    grant(&app.db, released.id.as_str(), org_a.id.as_str(), true, true).await;
    grant(
        &app.db,
        released.id.as_str(),
        org_c.id.as_str(),
        true,
        false,
    )
    .await;
    let account = json!({"type": "user-account", "spec_version": "2.1", "id": format!("user-account--{}", uuid()), "account_login": "cloned_news_bot"});
    let note = json!({"type": "note", "spec_version": "2.1", "id": format!("note--{}", uuid()), "created": "2026-09-01T10:00:00Z", "modified": "2026-09-01T10:00:00Z", "content": "source: platform contact", "object_refs": [url["id"]]});
    let mut with_evidence = draft.clone();
    with_evidence["related"] = json!([url, account, note]);
    assert_eq!(
        call(
            "anna",
            "PUT",
            format!("/api/alerts/{id}"),
            Some(with_evidence)
        )
        .await
        .status,
        200
    );
    let target = |tlp: &str| json!({"community": "fact-check", "collection": released.id.as_str(), "tlp": tlp});
    let preview_path = format!(
        "/api/alerts/{id}/release?community=fact-check&collection={}&tlp=green",
        released.id.as_str()
    );
    let preview = call("anna", "GET", preview_path.clone(), None).await;
    assert_eq!(preview.status, 200, "{}", preview.text());
    let preview = preview.json();
    let removed: Vec<&str> = preview["removed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["type"].as_str().unwrap())
        .collect();
    assert_eq!(removed, vec!["user-account", "note"], "{preview}");
    assert_eq!(
        call("berit", "GET", preview_path, None).await.status,
        403,
        "only the originator"
    );
    assert_eq!(
        call(
            "anna",
            "POST",
            format!("/api/alerts/{id}/release"),
            Some(target("red"))
        )
        .await
        .status,
        422
    );
    let same = json!({"community": "eu-ras", "collection": collection_id, "tlp": "green"});
    assert_eq!(
        call(
            "anna",
            "POST",
            format!("/api/alerts/{id}/release"),
            Some(same)
        )
        .await
        .status,
        422
    );
    let release = call(
        "anna",
        "POST",
        format!("/api/alerts/{id}/release"),
        Some(target("green")),
    )
    .await;
    assert_eq!(release.status, 201, "{}", release.text());
    let derivative_id = release.json()["objects"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let carl_sees = app
        .request(
            "GET",
            &format!(
                "/taxii2/fact-check/collections/{}/objects/",
                released.id.as_str()
            ),
        )
        .basic("carl", PASSWORD)
        .header("accept", TAXII)
        .send()
        .await
        .json();
    let objects = carl_sees["objects"].as_array().unwrap();
    assert!(objects.iter().any(|o| o["id"] == derivative_id.as_str()));
    let text = serde_json::to_string(objects).unwrap();
    assert!(
        !text.contains("cloned_news_bot") && !text.contains("platform contact"),
        "personal data and notes stay behind"
    );
    assert!(
        objects
            .iter()
            .any(|o| o["relationship_type"] == "derived-from"
                && o["target_ref"] == report_id.as_str())
    );
    assert_eq!(
        world
            .get(
                "berit",
                &format!("{}objects/{report_id}/versions/", world.collection)
            )
            .await
            .json()["versions"]
            .as_array()
            .unwrap()
            .len(),
        2,
        "the original only gained its own update"
    );

    // Updated: a new version of the same report; revoked: a last one.
    let mut update = draft.clone();
    update["report"]["description"] = "confirmed by two platforms".into();
    let updated = call(
        "anna",
        "PUT",
        format!("/api/alerts/{id}"),
        Some(update.clone()),
    )
    .await;
    assert_eq!(updated.status, 200, "{}", updated.text());
    let versions = world
        .get(
            "berit",
            &format!("{}objects/{report_id}/versions/", world.collection),
        )
        .await
        .json();
    assert_eq!(versions["versions"].as_array().unwrap().len(), 3);
    assert_eq!(
        call("berit", "POST", format!("/api/alerts/{id}/revoke"), None)
            .await
            .status,
        403
    );
    let revoked = call("anna", "POST", format!("/api/alerts/{id}/revoke"), None)
        .await
        .json();
    assert_eq!(revoked["state"], "revoked");
    let last = world
        .get(
            "berit",
            &format!("{}objects/{report_id}/", world.collection),
        )
        .await
        .json();
    assert_eq!(last["objects"][0]["revoked"], true);
    assert_eq!(
        call("anna", "PUT", format!("/api/alerts/{id}"), Some(update))
            .await
            .status,
        409
    );
    let listed = call("berit", "GET", "/api/alerts".into(), None)
        .await
        .json();
    assert_eq!(listed.as_array().unwrap().len(), 1);

    app.ledger.checkpoint().await.unwrap();
    let verifier = LogVerifier::parse(&app.ledger.verifier_key()).unwrap();
    let report = verify_store(&app.db, &verifier, None).await.unwrap();
    assert!(report.ok(), "{:?}", report.problems);
    let alert_leaves: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM tlog_leaves WHERE kind = 'alert'")
            .fetch_one(app.db.pool())
            .await
            .unwrap();
    assert_eq!(
        alert_leaves, 6,
        "created, edited, published, updated with evidence, updated, revoked"
    );
    let after_revocation = call(
        "anna",
        "POST",
        format!("/api/alerts/{id}/release"),
        Some(target("green")),
    )
    .await;
    assert_eq!(
        after_revocation.status, 409,
        "a revoked alert is not released"
    );
    world.app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alerts_from_draft_to_revoked_with_acknowledgements() {
    for backend in backends() {
        alert_lifecycle(backend).await;
    }
}

/// An SSE subscription read on its own thread: events arrive on the channel.
fn subscribe(
    base: &str,
    user: &str,
    last_event_id: Option<&str>,
) -> std::sync::mpsc::Receiver<(String, String, Value)> {
    use base64::Engine;
    use std::io::BufRead;
    let (sender, receiver) = std::sync::mpsc::channel();
    let url = format!("{base}/api/stream");
    let credentials =
        base64::engine::general_purpose::STANDARD.encode(format!("{user}:{PASSWORD}"));
    let last = last_event_id.map(str::to_string);
    let (ready_tx, ready_rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .build()
            .into();
        let mut request = agent
            .get(&url)
            .header("authorization", &format!("Basic {credentials}"));
        if let Some(last) = &last {
            request = request.header("last-event-id", last);
        }
        let response = request.call().unwrap();
        assert_eq!(response.status().as_u16(), 200);
        assert!(
            response
                .headers()
                .get("content-type")
                .unwrap()
                .to_str()
                .unwrap()
                .starts_with("text/event-stream")
        );
        let _ = ready_tx.send(());
        let reader = std::io::BufReader::new(response.into_body().into_reader());
        let (mut id, mut event, mut data) = (String::new(), String::new(), String::new());
        for line in reader.lines() {
            let Ok(line) = line else { return };
            if line.is_empty() {
                if !data.is_empty()
                    && sender
                        .send((
                            id.clone(),
                            event.clone(),
                            serde_json::from_str(&data).unwrap(),
                        ))
                        .is_err()
                {
                    return;
                }
                data.clear();
            } else if let Some(value) = line.strip_prefix("id:") {
                id = value.trim().to_string();
            } else if let Some(value) = line.strip_prefix("event:") {
                event = value.trim().to_string();
            } else if let Some(value) = line.strip_prefix("data:") {
                data.push_str(value.trim_start());
            }
        }
    });
    // The server subscribes before it answers: once the headers are in, nothing is missed.
    ready_rx
        .recv_timeout(std::time::Duration::from_secs(10))
        .unwrap();
    receiver
}

fn next_event(
    events: &std::sync::mpsc::Receiver<(String, String, Value)>,
) -> (String, String, Value) {
    events
        .recv_timeout(std::time::Duration::from_secs(10))
        .expect("an event within 10 s")
}

/// The live stream: each subscriber receives what TLP lets them see, from any
/// server process on the same database, and resumes with `Last-Event-ID`.
async fn live_stream(backend: Backend) {
    let world = world(backend).await;
    // A second server process on the same store.
    let other = TestApp::on(world.app.settings.clone()).await;
    let berit = subscribe(&other.base, "berit", None);
    let carl = subscribe(&world.app.base, "carl", None);

    let green = campaign(
        "green news",
        None,
        &[marking(Tlp::Green)],
        "2026-09-01T10:00:00.000Z",
    );
    let red = campaign(
        "red, nobody named",
        None,
        &[marking(Tlp::Red)],
        "2026-09-01T10:00:00.000Z",
    );
    let strict = campaign(
        "strict, B not named",
        None,
        &[marking(Tlp::AmberStrict)],
        "2026-09-01T10:00:00.000Z",
    );
    assert_eq!(
        world
            .post("anna", json!({"objects": [red, strict, green.clone()]}))
            .await
            .json()["success_count"],
        3
    );
    let mut newer = green.clone();
    newer["modified"] = "2026-09-02T10:00:00.000Z".into();
    assert_eq!(
        world.post("anna", json!({"objects": [newer]})).await.json()["success_count"],
        1
    );
    let green_id = green["id"].as_str().unwrap();
    let deleted = world
        .app
        .request(
            "DELETE",
            &format!("{}objects/{green_id}/?match[version]=all", world.collection),
        )
        .basic("anna", PASSWORD)
        .header("accept", TAXII)
        .send()
        .await;
    assert_eq!(deleted.status, 200, "{}", deleted.text());
    let clear = campaign(
        "clear for everyone",
        None,
        &[marking(Tlp::Clear)],
        "2026-09-01T10:00:00.000Z",
    );
    world
        .post("anna", json!({"objects": [clear.clone()]}))
        .await;

    let (first_id, first, data) = next_event(&berit);
    assert_eq!(
        (first.as_str(), data["id"].as_str(), data["tlp"].as_str()),
        ("created", Some(green_id), Some("green"))
    );
    assert_eq!(
        data["collection"].as_str(),
        world.collection.trim_end_matches('/').rsplit('/').next()
    );
    let (_, second, data) = next_event(&berit);
    assert_eq!(
        (second.as_str(), data["version"].as_str()),
        ("updated", Some("2026-09-02T10:00:00.000Z"))
    );
    let mut changes = vec![next_event(&berit).1, next_event(&berit).1];
    changes.sort();
    assert_eq!(changes, vec!["deleted", "deleted"], "both versions deleted");
    let (_, fifth, data) = next_event(&berit);
    assert_eq!(
        (fifth.as_str(), data["name"].as_str()),
        ("created", Some("clear for everyone"))
    );
    // carl (CLEAR only) receives the CLEAR object and nothing before it.
    let (_, event, data) = next_event(&carl);
    assert_eq!(
        (event.as_str(), data["name"].as_str()),
        ("created", Some("clear for everyone"))
    );

    // A paging cursor from one process is valid in the other.
    let first_page = world
        .get("anna", &format!("{}objects/?limit=1", world.collection))
        .await
        .json();
    let next = first_page["next"].as_str().unwrap();
    let second_page = other
        .request(
            "GET",
            &format!("{}objects/?limit=1&next={next}", world.collection),
        )
        .basic("anna", PASSWORD)
        .header("accept", TAXII)
        .send()
        .await;
    assert_eq!(second_page.status, 200, "{}", second_page.text());
    assert_ne!(
        second_page.json()["objects"][0]["id"],
        first_page["objects"][0]["id"]
    );

    // Resuming after the first event replays the rest, from the log.
    let resumed = subscribe(&world.app.base, "berit", Some(&first_id));
    let replayed: Vec<String> = (0..4).map(|_| next_event(&resumed).1).collect();
    assert_eq!(replayed[0], "updated");
    assert_eq!(replayed[3], "created");

    // Rights withdrawn while subscribed take effect at once, in every process.
    grant(
        &world.app.db,
        world
            .collection
            .trim_end_matches('/')
            .rsplit('/')
            .next()
            .unwrap(),
        &world.org_b,
        false,
        false,
    )
    .await;
    let after = campaign(
        "green, after B lost its grant",
        None,
        &[marking(Tlp::Green)],
        "2026-09-01T10:00:00.000Z",
    );
    let sentinel = campaign(
        "clear sentinel",
        None,
        &[marking(Tlp::Clear)],
        "2026-09-01T10:00:00.000Z",
    );
    world
        .post("anna", json!({"objects": [after, sentinel]}))
        .await;
    let (_, _, data) = next_event(&carl);
    assert_eq!(data["name"], "clear sentinel");
    assert!(
        berit
            .recv_timeout(std::time::Duration::from_secs(2))
            .is_err(),
        "berit's stream must stop delivering once B may not read"
    );

    other.stop().await;
    world.app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_stream_filters_by_tlp_across_processes_and_resumes() {
    for backend in backends() {
        live_stream(backend).await;
    }
}

/// A one-route HTTP receiver: each POST's signature header and body.
async fn webhook_receiver() -> (
    String,
    tokio::sync::mpsc::UnboundedReceiver<(String, Vec<u8>)>,
) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let (sender, receiver) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        loop {
            let Ok((mut socket, _)) = listener.accept().await else {
                return;
            };
            let sender = sender.clone();
            tokio::spawn(async move {
                let mut buffer = Vec::new();
                let mut chunk = [0u8; 4096];
                let (head_end, length) = loop {
                    let n = socket.read(&mut chunk).await.unwrap_or(0);
                    if n == 0 {
                        return;
                    }
                    buffer.extend_from_slice(&chunk[..n]);
                    if let Some(end) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
                        let head = String::from_utf8_lossy(&buffer[..end]).to_lowercase();
                        let length = head
                            .lines()
                            .find_map(|l| {
                                l.strip_prefix("content-length:")
                                    .map(|v| v.trim().parse::<usize>().unwrap_or(0))
                            })
                            .unwrap_or(0);
                        break (end + 4, length);
                    }
                };
                while buffer.len() < head_end + length {
                    let n = socket.read(&mut chunk).await.unwrap_or(0);
                    if n == 0 {
                        break;
                    }
                    buffer.extend_from_slice(&chunk[..n]);
                }
                let head = String::from_utf8_lossy(&buffer[..head_end]).to_lowercase();
                let signature = head
                    .lines()
                    .find_map(|l| {
                        l.strip_prefix("x-vigil-signature:")
                            .map(|v| v.trim().to_string())
                    })
                    .unwrap_or_default();
                let _ = socket
                    .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
                    .await;
                let _ = sender.send((signature, buffer[head_end..].to_vec()));
            });
        }
    });
    (url, receiver)
}

/// Webhooks: an organisation receives, signed, what it may see, once.
async fn webhooks(backend: Backend) {
    use vigil_server::alerts::webhooks;
    let world = world(backend).await;
    let app = &world.app;
    let (url, mut received) = webhook_receiver().await;
    let (hook, secret) =
        webhooks::add_webhook(&app.db, &app.ledger, &Actor::System, &world.org_b, &url)
            .await
            .unwrap();
    assert_eq!(secret.len(), 64);
    let refused = webhooks::add_webhook(
        &app.db,
        &app.ledger,
        &Actor::System,
        &world.org_b,
        "ftp://example.org/",
    )
    .await;
    assert!(refused.is_err());
    // A webhook that cannot be reached is retried, and does not stop the others.
    let (dead, _) = webhooks::add_webhook(
        &app.db,
        &app.ledger,
        &Actor::System,
        &world.org_b,
        "http://127.0.0.1:9/unreachable",
    )
    .await
    .unwrap();

    let green = campaign(
        "green for the webhook",
        None,
        &[marking(Tlp::Green)],
        "2026-09-01T10:00:00.000Z",
    );
    let mut red = campaign(
        "red for berit only",
        None,
        &[marking(Tlp::Red)],
        "2026-09-01T10:00:00.000Z",
    );
    red["extensions"] = json!({AUDIENCE_EXTENSION: {"extension_type": "property-extension", "individuals": [world.user_b1]}});
    let strict = campaign(
        "strict, B not named",
        None,
        &[marking(Tlp::AmberStrict)],
        "2026-09-01T10:00:00.000Z",
    );
    assert_eq!(
        world
            .post("anna", json!({"objects": [red, strict, green.clone()]}))
            .await
            .json()["success_count"],
        3
    );

    let (signed, body) = tokio::time::timeout(std::time::Duration::from_secs(15), received.recv())
        .await
        .unwrap()
        .unwrap();
    let key = hex_decode(&secret);
    assert_eq!(
        signed,
        webhooks::signature(&key, &body),
        "the signature checks with the secret shown once"
    );
    let payload: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(payload["webhook"], hook.id.as_str());
    let names: Vec<&str> = payload["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        vec!["green for the webhook"],
        "RED (individuals only) and AMBER+STRICT not naming B stay out"
    );
    // Nothing is delivered twice.
    assert!(
        tokio::time::timeout(std::time::Duration::from_secs(2), received.recv())
            .await
            .is_err()
    );
    let failures: i64 = sqlx::query_scalar("SELECT failures FROM webhook_deliveries WHERE id = $1")
        .bind(dead.id.as_str().to_string())
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    assert!(failures >= 1, "the unreachable webhook records its failure");
    let removed = webhooks::remove_webhook(&app.db, &Actor::System, hook.id.as_str())
        .await
        .unwrap();
    assert_eq!(
        removed.status,
        vigil_server::alerts::domain::ActiveStatus::Removed
    );
    world.app.stop().await;
}

fn hex_decode(text: &str) -> Vec<u8> {
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhooks_deliver_what_the_organisation_may_see() {
    for backend in backends() {
        webhooks(backend).await;
    }
}
