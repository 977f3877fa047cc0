//! Writing findings: the toolkit's edge CSV, GraphML, a node table, groups
//! with their evidence, an evidence table and a summary.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

use anyhow::Context;
use rayon::prelude::*;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use vigil_detect::{AccountIx, Dataset, Edge, Post, PostIx};

use super::Finding;
use super::input::InputReport;

/// Account names as written out: the ids and names read, or pseudonyms
/// (`acct-` and 12 hex digits of SHA-256) when personal data is redacted.
pub struct Names<'d> {
    dataset: &'d Dataset,
    redact: bool,
}

impl<'d> Names<'d> {
    pub fn new(dataset: &'d Dataset, redact: bool) -> Self {
        Self { dataset, redact }
    }
    pub fn account(&self, a: AccountIx) -> String {
        let id = self.dataset.account_id(a);
        if self.redact {
            pseudonym(id)
        } else {
            id.to_owned()
        }
    }
    pub fn username(&self, a: AccountIx) -> String {
        if self.redact {
            String::new()
        } else {
            self.dataset.username(a).to_owned()
        }
    }
    pub fn redacted(&self) -> bool {
        self.redact
    }
}

fn pseudonym(id: &str) -> String {
    let digest = Sha256::digest(id.as_bytes());
    format!("acct-{}", hex::encode(&digest[..6]))
}

/// Unix seconds as a STIX/RFC 3339 timestamp (UTC, milliseconds), when
/// they fall between 1990 and 2200: anything else is not Unix time.
pub fn unix_time(seconds: f64) -> Option<String> {
    let t = time::OffsetDateTime::from_unix_timestamp_nanos((seconds * 1e9) as i128).ok()?;
    (1990..=2200).contains(&t.year()).then(|| {
        format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
            t.year(),
            u8::from(t.month()),
            t.day(),
            t.hour(),
            t.minute(),
            t.second(),
            t.millisecond()
        )
    })
}

/// Seconds as RFC 3339 when they look like Unix time, else as a number.
pub fn time_text(seconds: f64) -> String {
    unix_time(seconds).unwrap_or_else(|| format!("{seconds}"))
}

fn csv_writer(sink: Box<dyn Write>) -> csv::Writer<Box<dyn Write>> {
    csv::WriterBuilder::new()
        .quote_style(csv::QuoteStyle::Always)
        .from_writer(sink)
}

fn create(path: &Path) -> anyhow::Result<Box<dyn Write + Send>> {
    if path.as_os_str() == "-" {
        return Ok(Box::new(BufWriter::new(std::io::stdout())));
    }
    let file = File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
    Ok(Box::new(BufWriter::with_capacity(1 << 20, file)))
}

/// `"source","target","weight","edge_type"`, every value quoted, as the
/// toolkit's CSV export. Each account's quoted id is made once: networks
/// can have tens of millions of edges over a few thousand accounts.
pub fn write_edges_to(path: &Path, findings: &[Finding], names: &Names) -> anyhow::Result<()> {
    let mut out = create(path)?;
    let quote = |field: &str| format!("\"{}\"", field.replace('"', "\"\""));
    let accounts = findings.first().map_or(0, |f| f.dataset.accounts());
    let quoted: Vec<String> = (0..accounts as AccountIx)
        .map(|a| quote(&names.account(a)))
        .collect();
    let unknown = quote("");
    let id = |a: AccountIx| quoted.get(a as usize).unwrap_or(&unknown).as_bytes();
    out.write_all(b"\"source\",\"target\",\"weight\",\"edge_type\"\n")?;
    for f in findings {
        let edge_type = quote(&f.edge_type);
        let format = |edges: &[Edge]| {
            let mut buffer = Vec::with_capacity(edges.len() * 48);
            let mut number = itoa::Buffer::new();
            for e in edges {
                buffer.extend_from_slice(id(e.source));
                buffer.push(b',');
                buffer.extend_from_slice(id(e.target));
                buffer.extend_from_slice(b",\"");
                buffer.extend_from_slice(number.format(e.weight).as_bytes());
                buffer.extend_from_slice(b"\",");
                buffer.extend_from_slice(edge_type.as_bytes());
                buffer.push(b'\n');
            }
            buffer
        };
        // Tens of millions of edges: a window of buffers is formatted on
        // all cores while the window before is written, in order.
        let mut formatted: Vec<Vec<u8>> = Vec::new();
        for window in f.edges.chunks(EDGES_PER_BUFFER * 8) {
            let (next, written) = rayon::join(
                || window.par_chunks(EDGES_PER_BUFFER).map(format).collect(),
                || formatted.iter().try_for_each(|b| out.write_all(b)),
            );
            written?;
            formatted = next;
        }
        formatted.iter().try_for_each(|b| out.write_all(b))?;
    }
    out.flush()?;
    Ok(())
}

/// Edges formatted into one buffer at a time.
const EDGES_PER_BUFFER: usize = 1 << 15;

/// Posts in the toolkit's positional CSV.
pub fn write_toolkit_csv(sink: Box<dyn Write>, posts: &[Post]) -> anyhow::Result<()> {
    let mut w = csv::WriterBuilder::new().from_writer(sink);
    w.write_record([
        "message_id",
        "user_id",
        "username",
        "repost_id",
        "reply_id",
        "message",
        "timestamp",
        "urls",
    ])?;
    for p in posts {
        w.write_record([
            p.message_id.as_str(),
            p.account.as_str(),
            p.username.as_str(),
            p.shared_object.as_deref().unwrap_or(""),
            p.reply_to.as_deref().unwrap_or(""),
            p.text.as_str(),
            &p.time.to_string(),
            &p.urls.join(" "),
        ])?;
    }
    w.flush()?;
    Ok(())
}

/// The run's figures, for summary.json and the terminal.
pub fn summary(
    report: &InputReport,
    read_seconds: f64,
    findings: &[Finding],
    total_seconds: f64,
) -> Value {
    let networks: Vec<Value> = findings
        .iter()
        .map(|f| {
            let groups = &f.groups;
            let loops = f.edges.iter().filter(|e| e.is_loop()).count();
            json!({
                "edge_type": f.edge_type,
                "directed": f.directed,
                "actions": f.actions,
                "candidate_pairs": f.candidate_pairs,
                "edges": f.edges.len(),
                "self_loops": loops,
                "accounts_linked": groups.iter().map(|g| g.accounts.len()).sum::<usize>(),
                "groups": groups.len(),
                "largest_group": groups.first().map_or(0, |g| g.accounts.len()),
                "seconds": f.seconds,
                "method": strip_edge_attributes(&f.method),
            })
        })
        .collect();
    let dataset = findings.first().map(|f| f.dataset);
    json!({
        "input": report,
        "posts": dataset.map_or(0, Dataset::posts_counted),
        "accounts": dataset.map_or(0, Dataset::accounts),
        "read_seconds": read_seconds,
        "total_seconds": total_seconds,
        "networks": networks,
    })
}

fn strip_edge_attributes(method: &Value) -> Value {
    let mut m = method.clone();
    if let Some(map) = m.as_object_mut() {
        map.remove("edges");
    }
    m
}

pub fn summary_text(s: &Value) -> String {
    let mut out = format!(
        "read {} rows ({} rejected, {} duplicate ids): {} posts by {} accounts in {:.2} s",
        s["input"]["rows_read"],
        s["input"]["rows_rejected"],
        s["input"]["duplicate_rows"],
        s["posts"],
        s["accounts"],
        s["read_seconds"].as_f64().unwrap_or(0.0)
    );
    for n in s["networks"].as_array().into_iter().flatten() {
        out.push_str(&format!(
            "\n{}: {} edges, {} groups (largest {}), {} candidate pairs, {:.2} s",
            n["edge_type"].as_str().unwrap_or(""),
            n["edges"],
            n["groups"],
            n["largest_group"],
            n["candidate_pairs"],
            n["seconds"].as_f64().unwrap_or(0.0)
        ));
    }
    out
}

fn evidence_json(f: &Finding, names: &Names, edge: usize) -> Vec<Value> {
    let d = f.dataset;
    f.evidence
        .get(edge)
        .into_iter()
        .flatten()
        .map(|c| {
            json!({
                "shared": d.shared_label(c.shared),
                "source_message": d.message_id(c.source_post),
                "target_message": d.message_id(c.target_post),
                "source_time": time_text(d.post_time(c.source_post)),
                "target_time": time_text(d.post_time(c.target_post)),
                "delta_seconds": c.delta,
                "source_text": text_unless_redacted(d, names, c.source_post),
            })
        })
        .collect()
}

fn text_unless_redacted(d: &Dataset, names: &Names, post: PostIx) -> String {
    if names.redacted() {
        String::new()
    } else {
        d.post_text(post).chars().take(280).collect()
    }
}

/// Edges listed per group in groups.json (the heaviest).
const GROUP_EDGES_LISTED: usize = 1000;

/// The groups of a finding with their edges (the heaviest
/// [`GROUP_EDGES_LISTED`]), evidence and statistics.
pub fn groups_json(f: &Finding, names: &Names) -> Value {
    let d = f.dataset;
    let list: Vec<Value> = f
        .groups
        .iter()
        .map(|g| {
            let (mut first, mut last): (Option<f64>, Option<f64>) = (None, None);
            let mut objects: std::collections::BTreeMap<String, usize> = std::collections::BTreeMap::new();
            for &i in &g.edges {
                for c in f.evidence.get(i as usize).into_iter().flatten() {
                    let time = d.post_time(c.source_post);
                    first = Some(first.map_or(time, |t| t.min(time)));
                    last = Some(last.map_or(time, |t| t.max(time)));
                    let label = d.shared_label(c.shared);
                    if !label.is_empty() {
                        *objects.entry(label.to_owned()).or_default() += 1;
                    }
                }
            }
            // A group of millions of edges is summarised by its heaviest:
            // every edge and its evidence are in edges.csv and evidence.csv.
            let by_weight = |a: &u32, b: &u32| {
                f.edges[*b as usize]
                    .weight
                    .cmp(&f.edges[*a as usize].weight)
                    .then(a.cmp(b))
            };
            let listed: std::borrow::Cow<[u32]> = if g.edges.len() > GROUP_EDGES_LISTED {
                let mut heaviest = g.edges.clone();
                heaviest.select_nth_unstable_by(GROUP_EDGES_LISTED, by_weight);
                heaviest.truncate(GROUP_EDGES_LISTED);
                heaviest.sort_unstable_by(by_weight);
                heaviest.into()
            } else {
                g.edges.as_slice().into()
            };
            let edges: Vec<Value> = listed
                .iter()
                .map(|&i| {
                    let i = i as usize;
                    let e = f.edges[i];
                    json!({
                        "source": names.account(e.source),
                        "target": names.account(e.target),
                        "weight": e.weight,
                        "evidence": evidence_json(f, names, i),
                    })
                })
                .collect();
            let mut top: Vec<(String, usize)> = objects.into_iter().collect();
            top.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
            top.truncate(10);
            json!({
                "group": g.number,
                "accounts": g.accounts.iter().map(|&a| json!({"id": names.account(a), "username": names.username(a)})).collect::<Vec<_>>(),
                "size": g.accounts.len(),
                "edges": edges,
                "edge_count": g.edges.len(),
                "edges_listed": edges.len(),
                "total_weight": g.total_weight,
                "density": g.density,
                "first_evidence": first.map(time_text),
                "last_evidence": last.map(time_text),
                "top_objects": top.iter().map(|(o, n)| json!({"object": o, "co_actions": n})).collect::<Vec<_>>(),
            })
        })
        .collect();
    json!({"edge_type": f.edge_type, "directed": f.directed, "method": f.method, "groups": list})
}

fn write_graphml(path: &Path, findings: &[Finding], names: &Names) -> anyhow::Result<()> {
    let mut w = create(path)?;
    // The HTML escaping of the web pages is valid XML escaping too.
    let esc = vigil_server::pages::escape;
    let directed = findings.iter().all(|f| f.directed);
    writeln!(w, r#"<?xml version="1.0" encoding="UTF-8"?>"#)?;
    writeln!(
        w,
        r#"<graphml xmlns="http://graphml.graphdrawing.org/xmlns">"#
    )?;
    writeln!(
        w,
        r#"  <key id="username" for="node" attr.name="username" attr.type="string"/>"#
    )?;
    writeln!(
        w,
        r#"  <key id="weight" for="edge" attr.name="weight" attr.type="long"/>"#
    )?;
    writeln!(
        w,
        r#"  <key id="edge_type" for="edge" attr.name="edge_type" attr.type="string"/>"#
    )?;
    writeln!(
        w,
        r#"  <graph edgedefault="{}">"#,
        if directed { "directed" } else { "undirected" }
    )?;
    let mut nodes: Vec<AccountIx> = findings
        .iter()
        .flat_map(|f| f.edges.iter().flat_map(|e| [e.source, e.target]))
        .collect();
    nodes.sort_unstable();
    nodes.dedup();
    for a in nodes {
        writeln!(
            w,
            r#"    <node id="{}"><data key="username">{}</data></node>"#,
            esc(&names.account(a)),
            esc(&names.username(a))
        )?;
    }
    for f in findings {
        for e in &f.edges {
            writeln!(
                w,
                r#"    <edge source="{}" target="{}"><data key="weight">{}</data><data key="edge_type">{}</data></edge>"#,
                esc(&names.account(e.source)),
                esc(&names.account(e.target)),
                e.weight,
                esc(&f.edge_type)
            )?;
        }
    }
    writeln!(w, "  </graph>\n</graphml>")?;
    w.flush()?;
    Ok(())
}

fn write_nodes(path: &Path, findings: &[Finding], names: &Names) -> anyhow::Result<()> {
    let Some(d) = findings.first().map(|f| f.dataset) else {
        return Ok(());
    };
    let posts = d.posts_per_account();
    let mut w = csv_writer(create(path)?);
    w.write_record([
        "id",
        "username",
        "posts",
        "edge_type",
        "group",
        "out_degree",
        "in_degree",
        "out_weight",
        "in_weight",
    ])?;
    for f in findings {
        let mut group_of = vec![0usize; d.accounts()];
        for g in &f.groups {
            for &a in &g.accounts {
                group_of[a as usize] = g.number;
            }
        }
        let mut stats = vec![[0u64; 4]; d.accounts()];
        for e in &f.edges {
            stats[e.source as usize][0] += 1;
            stats[e.target as usize][1] += 1;
            stats[e.source as usize][2] += u64::from(e.weight);
            stats[e.target as usize][3] += u64::from(e.weight);
        }
        for a in 0..d.accounts() {
            let s = stats[a];
            if s == [0; 4] {
                continue;
            }
            let a32 = a as AccountIx;
            let group = if group_of[a] == 0 {
                String::new()
            } else {
                group_of[a].to_string()
            };
            w.write_record([
                names.account(a32),
                names.username(a32),
                posts[a].to_string(),
                f.edge_type.clone(),
                group,
                s[0].to_string(),
                s[1].to_string(),
                s[2].to_string(),
                s[3].to_string(),
            ])?;
        }
    }
    w.flush()?;
    Ok(())
}

fn write_evidence(path: &Path, findings: &[Finding], names: &Names) -> anyhow::Result<()> {
    let mut w = csv_writer(create(path)?);
    w.write_record([
        "edge_type",
        "source",
        "target",
        "shared",
        "source_message",
        "target_message",
        "source_time",
        "target_time",
        "delta_seconds",
    ])?;
    for f in findings {
        let d = f.dataset;
        for (e, evidence) in f.edges.iter().zip(&f.evidence) {
            for c in evidence {
                w.write_record([
                    f.edge_type.clone(),
                    names.account(e.source),
                    names.account(e.target),
                    d.shared_label(c.shared).to_owned(),
                    d.message_id(c.source_post).to_owned(),
                    d.message_id(c.target_post).to_owned(),
                    time_text(d.post_time(c.source_post)),
                    time_text(d.post_time(c.target_post)),
                    c.delta.to_string(),
                ])?;
            }
        }
    }
    w.flush()?;
    Ok(())
}

/// Every output, in one directory.
pub fn write_directory(
    dir: &Path,
    findings: &[Finding],
    names: &Names,
    summary: &Value,
    bundle: Option<&Value>,
) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    write_edges_to(&dir.join("edges.csv"), findings, names)?;
    write_graphml(&dir.join("network.graphml"), findings, names)?;
    write_nodes(&dir.join("nodes.csv"), findings, names)?;
    write_evidence(&dir.join("evidence.csv"), findings, names)?;
    let groups: Vec<Value> = findings.iter().map(|f| groups_json(f, names)).collect();
    write_json(&dir.join("groups.json"), &Value::Array(groups))?;
    write_json(&dir.join("summary.json"), summary)?;
    if let Some(bundle) = bundle {
        write_json(&dir.join("findings.stix.json"), bundle)?;
    }
    Ok(())
}

fn write_json(path: &Path, value: &Value) -> anyhow::Result<()> {
    let mut w = create(path)?;
    serde_json::to_writer_pretty(&mut w, value)?;
    w.flush()?;
    Ok(())
}
