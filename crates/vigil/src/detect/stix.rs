//! The findings as a STIX 2.1 bundle the Rapid Alert System accepts: a
//! report over one grouping per group of coordinated accounts; accounts and
//! URLs as observables (user-account objects flagged as personal data);
//! each post behind an edge as an observed-data of its account; everything
//! marked with the chosen TLP (AMBER by default).

use anyhow::{Context, bail};
use serde_json::{Value, json};
use vigil_detect::groups::Group;
use vigil_detect::{AccountIx, PostIx};
use vigil_stix::{Tlp, TlpProfile, observable_id};

use super::Finding;
use super::output::{Names, unix_time};

/// Groups per network described in the bundle, largest first.
const GROUPS_PER_NETWORK: usize = 25;
/// Posts per group described as observed-data.
const POSTS_PER_GROUP: usize = 100;

fn now() -> String {
    let seconds = time::OffsetDateTime::now_utc().unix_timestamp_nanos() as f64 / 1e9;
    unix_time(seconds).unwrap_or_else(|| "2026-01-01T00:00:00.000Z".to_owned())
}

fn new_id(kind: &str) -> String {
    format!("{kind}--{}", uuid::Uuid::new_v4())
}

/// The bundle, or None when no network has a group to describe.
pub fn bundle(findings: &[Finding], names: &Names, tlp: Tlp) -> Option<Value> {
    let marking = tlp.marking_definition(TlpProfile::Oasis);
    let marking_id = tlp.marking_id(TlpProfile::Oasis).to_owned();
    let created = now();
    let mut objects: Vec<Value> = vec![marking];
    let mut seen = std::collections::HashSet::new();
    let mut add = |objects: &mut Vec<Value>, object: Value| {
        if let Some(id) = object["id"].as_str()
            && seen.insert(id.to_owned())
        {
            objects.push(object);
        }
    };
    let mut groupings = Vec::new();
    let mut summary_lines = Vec::new();
    for f in findings {
        let d = f.dataset;
        let list = &f.groups;
        summary_lines.push(format!(
            "{}: {} edges, {} groups",
            f.edge_type,
            f.edges.len(),
            list.len()
        ));
        let top = &list[..list.len().min(GROUPS_PER_NETWORK)];
        let group_posts: Vec<Vec<PostIx>> = top.iter().map(|g| evidence_posts(f, g)).collect();
        let all_posts: Vec<PostIx> = group_posts.iter().flatten().copied().collect();
        let urls = d.urls_of(&all_posts);
        for (g, posts) in top.iter().zip(&group_posts) {
            let account_ref =
                |a: AccountIx| observable_id("user-account", &json!({"user_id": names.account(a)}));
            let mut refs: Vec<String> = Vec::new();
            for &a in &g.accounts {
                let mut account = json!({
                    "type": "user-account", "spec_version": "2.1", "id": account_ref(a),
                    "user_id": names.account(a),
                    "object_marking_refs": [marking_id],
                    "x_vigil_personal_data": true,
                });
                let username = names.username(a);
                if !username.is_empty() {
                    account["display_name"] = json!(username);
                }
                refs.push(account_ref(a));
                add(&mut objects, account);
            }
            for &p in posts {
                let Some(when) = unix_time(d.post_time(p)) else {
                    continue;
                };
                let mut observed = vec![account_ref(d.post_account(p))];
                let post_urls = urls.get(&p).into_iter().flatten();
                for url in post_urls.filter(|u| u.contains("://")) {
                    let id = observable_id("url", &json!({"value": url}));
                    add(
                        &mut objects,
                        json!({"type": "url", "spec_version": "2.1", "id": id, "value": url, "object_marking_refs": [marking_id]}),
                    );
                    observed.push(id.clone());
                    if !refs.contains(&id) {
                        refs.push(id);
                    }
                }
                let id = new_id("observed-data");
                let mut post = json!({
                    "type": "observed-data", "spec_version": "2.1", "id": id,
                    "created": created, "modified": created,
                    "first_observed": when, "last_observed": when, "number_observed": 1,
                    "object_refs": observed,
                    "object_marking_refs": [marking_id],
                    "x_vigil_message_id": d.message_id(p),
                });
                if let Some(object) = d.shared_object(p).or(d.reply_to(p)) {
                    post["x_vigil_shared_object"] = json!(object);
                }
                refs.push(id);
                add(&mut objects, post);
            }
            let grouping_id = new_id("grouping");
            add(
                &mut objects,
                json!({
                    "type": "grouping", "spec_version": "2.1", "id": grouping_id,
                    "created": created, "modified": created,
                    "name": format!("{} group {}: {} accounts acting in concert", f.edge_type, g.number, g.accounts.len()),
                    "description": format!(
                        "{} {} edges (total weight {}, density {:.2}) found by `vigil detect` ({}).",
                        g.edges.len(), if f.directed { "directed" } else { "undirected" }, g.total_weight, g.density, f.method["definition"].as_str().unwrap_or("vigil")
                    ),
                    "context": "suspicious-activity",
                    "object_refs": refs,
                    "object_marking_refs": [marking_id],
                }),
            );
            groupings.push(grouping_id);
        }
    }
    if groupings.is_empty() {
        return None;
    }
    let report = json!({
        "type": "report", "spec_version": "2.1", "id": new_id("report"),
        "created": created, "modified": created, "published": created,
        "name": format!("Coordinated behaviour: {} groups of accounts", groupings.len()),
        "description": format!("Found by `vigil detect`. {}.", summary_lines.join("; ")),
        "report_types": ["threat-activity"],
        "object_refs": groupings,
        "object_marking_refs": [marking_id],
    });
    objects.insert(1, report);
    Some(json!({"type": "bundle", "id": new_id("bundle"), "objects": objects}))
}

/// The posts behind a group's edges, at most `POSTS_PER_GROUP`.
fn evidence_posts(f: &Finding, g: &Group) -> Vec<PostIx> {
    let mut posts: Vec<PostIx> = g
        .edges
        .iter()
        .flat_map(|&i| {
            f.evidence
                .get(i as usize)
                .into_iter()
                .flatten()
                .flat_map(|c| [c.source_post, c.target_post])
        })
        .collect();
    posts.sort_unstable();
    posts.dedup();
    posts.truncate(POSTS_PER_GROUP);
    posts
}

/// Adds the bundle's objects to a TAXII 2.1 collection.
pub fn push(collection_url: &str, token: &str, bundle: &Value) -> anyhow::Result<()> {
    let url = format!(
        "{}/objects/",
        collection_url
            .trim_end_matches('/')
            .trim_end_matches("/objects")
    );
    let envelope = json!({"objects": bundle["objects"]});
    let response = ureq::post(&url)
        .header("Authorization", &format!("Bearer {token}"))
        .header("Accept", "application/taxii+json;version=2.1")
        .header("Content-Type", "application/taxii+json;version=2.1")
        .config()
        .http_status_as_error(false)
        .build()
        .send_json(&envelope)
        .with_context(|| format!("cannot reach {url}"))?;
    let status = response.status();
    let body: Value = response.into_body().read_json().unwrap_or(Value::Null);
    if !status.is_success() {
        bail!(
            "the server refused the findings ({status}): {}",
            body["description"]
                .as_str()
                .or(body["title"].as_str())
                .unwrap_or("no detail")
        );
    }
    let failures = body["failure_count"].as_u64().unwrap_or(0);
    eprintln!(
        "pushed to {url}: {} objects accepted, {failures} refused",
        body["success_count"].as_u64().unwrap_or(0)
    );
    if failures > 0 {
        bail!("{failures} objects were refused: {}", body["failures"]);
    }
    Ok(())
}
