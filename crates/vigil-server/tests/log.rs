//! The transparency log on every backend: proofs and tiles a client can
//! check, concurrent writers (two servers on one database), an interrupted
//! write, and tampering behind the server's back.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test
mod common;

use common::{Backend, PASSWORD, TestApp, backends};
use serde_json::json;
use vigil_server::core::ledger::record::Record;
use vigil_server::core::ledger::verify::{Report, verify_store};
use vigil_server::core::ledger::{RecordWrite, insert_records, kinds};
use vigil_tlog::{
    CompactRange, Hash, LogVerifier, leaf_hash, verify_consistency, verify_inclusion,
};

async fn verify(app: &TestApp) -> Report {
    let verifier = LogVerifier::parse(&app.ledger.verifier_key()).unwrap();
    verify_store(&app.db, &verifier, None).await.unwrap()
}

fn hashes(value: &serde_json::Value) -> Vec<Hash> {
    value
        .as_array()
        .unwrap()
        .iter()
        .map(|h| Hash::from_hex(h.as_str().unwrap()).unwrap())
        .collect()
}

async fn proofs_and_tiles(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.user("EU Hub", "admin", &["administrator"]).await;
    for i in 0..40 {
        let created = app
            .request("POST", "/api/admin/organisations")
            .basic(&admin, PASSWORD)
            .json(&json!({"name": format!("Organisation {i}"), "kind": "observer"}))
            .send()
            .await;
        assert_eq!(created.status, 201);
    }
    let old = app
        .request("POST", "/api/admin/log/checkpoint")
        .basic(&admin, PASSWORD)
        .send()
        .await;
    assert_eq!(old.status, 201);
    let verifier =
        LogVerifier::parse(app.request("GET", "/log/key").send().await.text().trim()).unwrap();
    let old = verifier.verify(&old.text()).unwrap().checkpoint;

    // More records, then a proof by record id against the (new) latest checkpoint.
    let org = app
        .request("POST", "/api/admin/organisations")
        .basic(&admin, PASSWORD)
        .json(&json!({"name": "Proven Organisation", "kind": "regulator"}))
        .send()
        .await
        .json();
    let proof = app
        .request(
            "GET",
            &format!(
                "/api/log/proof/inclusion?kind=organisation&id={}",
                org["id"].as_str().unwrap()
            ),
        )
        .send()
        .await;
    assert_eq!(proof.status, 200, "{}", proof.text());
    let proof = proof.json();
    let signed = verifier
        .verify(proof["checkpoint"].as_str().unwrap())
        .unwrap()
        .checkpoint;
    let entry = proof["leaf_entry"].as_str().unwrap();
    assert!(entry.contains(org["id"].as_str().unwrap()));
    let index = proof["leaf_index"].as_u64().unwrap();
    assert!(verify_inclusion(
        &leaf_hash(entry.as_bytes()),
        index,
        signed.size,
        &hashes(&proof["proof"]),
        &signed.root
    ));
    // A forged entry does not verify with that proof.
    let forged = entry.replace("version 1", "version 2");
    assert!(!verify_inclusion(
        &leaf_hash(forged.as_bytes()),
        index,
        signed.size,
        &hashes(&proof["proof"]),
        &signed.root
    ));

    // Consistency between the two signed checkpoints.
    let consistency = app
        .request(
            "GET",
            &format!(
                "/api/log/proof/consistency?old_size={}&new_size={}",
                old.size, signed.size
            ),
        )
        .send()
        .await
        .json();
    assert!(verify_consistency(
        old.size,
        signed.size,
        &old.root,
        &signed.root,
        &hashes(&consistency["proof"])
    ));

    // Tiles: the level-0 tile is the leaf hashes of the entry bundle.
    let width = signed.size.min(256);
    let bundle = app
        .request("GET", &format!("/log/tile/entries/000.p/{width}"))
        .send()
        .await;
    assert_eq!(bundle.status, 200);
    let tile = app
        .request("GET", &format!("/log/tile/0/000.p/{width}"))
        .send()
        .await;
    assert_eq!(tile.status, 200);
    assert!(tile.header("cache-control").unwrap().contains("immutable"));
    let mut rest = bundle.body.as_slice();
    let mut position = 0;
    while !rest.is_empty() {
        let length = usize::from(u16::from_be_bytes([rest[0], rest[1]]));
        let entry = &rest[2..2 + length];
        assert_eq!(
            &tile.body[position * 32..position * 32 + 32],
            leaf_hash(entry).0.as_slice()
        );
        rest = &rest[2 + length..];
        position += 1;
    }
    assert_eq!(position as u64, width);
    assert_eq!(
        app.request("GET", "/log/tile/0/999").send().await.status,
        404
    );
    assert_eq!(
        app.request("GET", "/log/tile/0/x000/000")
            .send()
            .await
            .status,
        404
    );

    // Online verification, as anyone could run it.
    let base = app.base.clone();
    let key = verifier.clone();
    let (report, _) = tokio::task::spawn_blocking(move || {
        vigil_server::core::ledger::remote::verify_remote(&base, Some(&key), None)
    })
    .await
    .unwrap()
    .unwrap();
    assert!(report.ok(), "{:?}", report.problems);
    assert_eq!(report.tree_size, signed.size);

    let metrics = app.request("GET", "/metrics").send().await.text();
    assert!(metrics.contains("vigil_log_size "), "{metrics}");
    assert!(metrics.contains("route=\"/api/admin/organisations\""));
    assert_eq!(app.request("GET", "/readyz").send().await.status, 200);
    app.stop().await;
}

async fn concurrent_writers(backend: Backend) {
    let first = TestApp::spawn(backend).await;
    let admin = first.user("EU Hub", "admin", &["administrator"]).await;
    // A second server process on the same database, as behind a load balancer.
    let second = TestApp::on(first.settings.clone()).await;
    let mut tasks = Vec::new();
    for i in 0..24 {
        let target = if i % 2 == 0 {
            first.base.clone()
        } else {
            second.base.clone()
        };
        let admin = admin.clone();
        tasks.push(tokio::spawn(async move {
            common::Request::to(&target, "POST", "/api/admin/organisations")
                .basic(&admin, PASSWORD)
                .json(&json!({"name": format!("Concurrent {i}"), "kind": "research"}))
                .send()
                .await
                .status
        }));
    }
    for task in tasks {
        assert_eq!(task.await.unwrap(), 201);
    }
    first.ledger.checkpoint().await.unwrap();
    let report = verify(&first).await;
    assert!(report.ok(), "{backend:?}: {:?}", report.problems);
    second.stop().await;
    first.stop().await;
}

async fn interrupted_write_leaves_nothing(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.user("EU Hub", "admin", &["administrator"]).await;
    let size = app.ledger.size().await.unwrap();
    {
        // A write that dies before commit (a crash, a panic, a dropped connection).
        let mut tx = app.db.write().await.unwrap();
        let event = vigil_server::core::audit::AuditEvent {
            actor: &vigil_server::core::audit::Actor::System,
            action: "test.interrupted",
            subject: "nothing",
            outcome: vigil_server::core::audit::Outcome::Success,
            details: json!({}),
            ip: None,
        };
        vigil_server::core::audit::record(&mut tx, event)
            .await
            .unwrap();
        drop(tx);
    }
    assert_eq!(app.ledger.size().await.unwrap(), size);
    app.ledger.checkpoint().await.unwrap();
    assert!(verify(&app).await.ok());
    app.stop().await;
}

/// Raw SQL behind the server's back, of the dialect at hand.
async fn tamper(app: &TestApp, sql: &str) {
    sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_string()))
        .execute(app.db.pool())
        .await
        .unwrap();
}

async fn tampering_is_caught(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.user("EU Hub", "admin", &["administrator"]).await;
    app.user("Observers", "watcher", &["reader"]).await;
    app.request("POST", "/api/me/tokens")
        .basic(&admin, PASSWORD)
        .json(&json!({"name": "ci"}))
        .send()
        .await;
    app.ledger.checkpoint().await.unwrap();
    let clean = verify(&app).await;
    assert!(clean.ok(), "{:?}", clean.problems);
    assert!(clean.records_checked > 5);

    // Edit: make a reader an administrator.
    tamper(
        &app,
        "UPDATE users SET roles = 'administrator' WHERE username = 'watcher'",
    )
    .await;
    // Delete: an audit event disappears.
    let victim: (String,) =
        sqlx::query_as("SELECT id FROM audit_events WHERE action = 'token.created'")
            .fetch_one(app.db.pool())
            .await
            .unwrap();
    tamper(
        &app,
        &format!("DELETE FROM audit_events WHERE id = '{}'", victim.0),
    )
    .await;
    // Insert: an organisation nobody created.
    tamper(
        &app,
        "INSERT INTO organisations (id, version, name, kind, country, stix_identity, status, created_at, updated_at) \
         VALUES ('org-00000000-0000-4000-8000-000000000000', 1, 'Shadow Org', 'observer', NULL, 'identity--shadow', 'active', '2026-01-01T00:00:00.000000Z', '2026-01-01T00:00:00.000000Z')",
    )
    .await;
    let report = verify(&app).await;
    let text: Vec<String> = report
        .problems
        .iter()
        .map(|p| format!("{}: {}", p.subject, p.problem))
        .collect();
    assert_eq!(report.problems.len(), 3, "{backend:?}: {text:#?}");
    assert!(
        text.iter()
            .any(|t| t.starts_with("user usr-") && t.contains("edited")),
        "{text:#?}"
    );
    assert!(
        text.iter()
            .any(|t| t.starts_with(&format!("audit_event {}", victim.0)) && t.contains("deleted")),
        "{text:#?}"
    );
    assert!(
        text.iter()
            .any(|t| t.starts_with("organisation org-00000000") && t.contains("inserted")),
        "{text:#?}"
    );

    // Rewriting the log itself: a changed leaf breaks the signed checkpoint.
    tamper(
        &app,
        "UPDATE tlog_leaves SET entry = REPLACE(entry, 'version 1', 'version 9') WHERE idx = 0",
    )
    .await;
    let report = verify(&app).await;
    assert!(
        report
            .problems
            .iter()
            .any(|p| p.subject.starts_with("checkpoint") && p.problem.contains("root differs")),
        "{:?}",
        report.problems
    );
    assert!(
        report
            .problems
            .iter()
            .any(|p| p.subject == "log head" && p.problem.contains("frontier")),
        "{:?}",
        report.problems
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn proofs_tiles_and_remote_verification() {
    for backend in backends() {
        proofs_and_tiles(backend).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_servers_write_concurrently_into_one_log() {
    for backend in backends() {
        concurrent_writers(backend).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_interrupted_write_leaves_no_trace() {
    for backend in backends() {
        interrupted_write_leaves_nothing(backend).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn edits_deletions_and_insertions_behind_the_servers_back_are_named() {
    for backend in backends() {
        tampering_is_caught(backend).await;
    }
}

/// Enough leaves for stored tile-level nodes (level 8) and for nodes computed
/// from them (levels 9 and 10), appended in uneven batches: every inclusion
/// and consistency proof checks against the tree rebuilt from the entries.
async fn proofs_across_tile_levels(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let total: u64 = 1_100;
    let mut written = 0;
    for batch in [1_u64, 255, 1, 300, 7, 536] {
        let records: Vec<Record> = (written..written + batch)
            .map(|n| {
                Record::new(
                    &kinds::BENCH_RECORD,
                    format!("b-{n:05}"),
                    1,
                    vec![format!("{{\"n\":{n}}}").into()],
                )
            })
            .collect();
        let writes = RecordWrite::all(&records);
        let mut tx = app.db.write().await.unwrap();
        insert_records(&mut tx, &writes).await.unwrap();
        tx.commit().await.unwrap();
        written += batch;
    }
    assert_eq!(written, total);
    let size = app.ledger.size().await.unwrap();
    let entries: Vec<String> = sqlx::query_scalar("SELECT entry FROM tlog_leaves ORDER BY idx")
        .fetch_all(app.db.pool())
        .await
        .unwrap();
    assert_eq!(entries.len() as u64, size);
    let leaves: Vec<Hash> = entries.iter().map(|e| leaf_hash(e.as_bytes())).collect();
    let root_of = |n: u64| {
        let mut range = CompactRange::new();
        for leaf in &leaves[..n as usize] {
            range.push(*leaf);
        }
        range.root()
    };
    let stored: Vec<(i64, i64)> =
        sqlx::query_as("SELECT level, idx FROM tlog_nodes ORDER BY level, idx")
            .fetch_all(app.db.pool())
            .await
            .unwrap();
    let level8: Vec<(i64, i64)> = (0..(size / 256) as i64).map(|i| (8, i)).collect();
    assert_eq!(
        stored, level8,
        "{backend:?}: only tile-level nodes are stored"
    );

    for tree_size in [1, 2, 255, 256, 257, 512, 700, 1024, size] {
        let root = root_of(tree_size);
        assert_eq!(
            app.ledger.root(tree_size).await.unwrap(),
            root,
            "root of {tree_size}"
        );
        for index in [0, tree_size / 3, tree_size / 2, tree_size - 1] {
            let proof = app
                .ledger
                .inclusion_proof(index, Some(tree_size))
                .await
                .unwrap();
            let path: Vec<Hash> = proof
                .proof
                .iter()
                .map(|h| Hash::from_hex(h).unwrap())
                .collect();
            assert!(
                verify_inclusion(&leaves[index as usize], index, tree_size, &path, &root),
                "{backend:?}: leaf {index} in {tree_size}"
            );
        }
        for old in [1, tree_size / 2, tree_size]
            .into_iter()
            .filter(|&old| old >= 1)
        {
            let proof = app.ledger.consistency_proof(old, tree_size).await.unwrap();
            let path: Vec<Hash> = proof
                .proof
                .iter()
                .map(|h| Hash::from_hex(h).unwrap())
                .collect();
            assert!(
                verify_consistency(old, tree_size, &root_of(old), &root, &path),
                "{backend:?}: {old} to {tree_size}"
            );
        }
    }
    app.ledger.checkpoint().await.unwrap();
    let report = verify(&app).await;
    assert!(report.ok(), "{backend:?}: {:?}", report.problems);
    assert_eq!(report.tree_size, size);

    // A stored node rewritten: the verifier names it and proofs through it fail.
    tamper(&app, "UPDATE tlog_nodes SET hash = (SELECT hash FROM tlog_nodes WHERE level = 8 AND idx = 1) WHERE level = 8 AND idx = 0").await;
    let report = verify(&app).await;
    assert_eq!(
        report
            .problems
            .iter()
            .map(|p| p.subject.as_str())
            .collect::<Vec<_>>(),
        vec!["tree node 8/0"],
        "{backend:?}: {:?}",
        report.problems
    );
    let proof = app.ledger.inclusion_proof(700, Some(size)).await.unwrap();
    let path: Vec<Hash> = proof
        .proof
        .iter()
        .map(|h| Hash::from_hex(h).unwrap())
        .collect();
    assert!(!verify_inclusion(
        &leaves[700],
        700,
        size,
        &path,
        &root_of(size)
    ));
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn proofs_cross_tile_levels() {
    for backend in backends() {
        proofs_across_tile_levels(backend).await;
    }
}
