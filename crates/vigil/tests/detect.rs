#![allow(clippy::unwrap_used, clippy::expect_used)]
//! `vigil detect` end to end: bad input is reported and the good rows kept;
//! every output is written and the STIX findings are valid STIX.

use std::io::Write;
use std::process::{Command, Output};

fn vigil(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_vigil"))
        .args(args)
        .output()
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Writes seeded synthetic posts (`vigil detect synth`) to `output`, and the
/// planted groups to `planted` when given.
fn synth(
    output: &std::path::Path,
    profile: &str,
    posts: u32,
    seed: u32,
    planted: Option<&std::path::Path>,
) {
    let (posts, seed) = (posts.to_string(), seed.to_string());
    let mut args = vec![
        "detect",
        "synth",
        "--profile",
        profile,
        "--posts",
        &posts,
        "--seed",
        &seed,
        "--output",
        output.to_str().unwrap(),
    ];
    if let Some(planted) = planted {
        args.extend(["--planted", planted.to_str().unwrap()]);
    }
    let made = vigil(&args);
    assert!(made.status.success(), "{}", text(&made.stderr));
}

#[test]
fn bad_rows_truncated_gzip_and_wrong_mappings_are_reported_and_good_rows_kept() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("posts.csv");
    std::fs::write(
        &csv,
        b"message_id,user_id,username,repost_id,reply_id,message,timestamp,urls\n\
         1,a,A,r,,,100,\n\
         2,b,B,r,,,not-a-time,\n\
         3,b,B,r,,,101,\n\
         4,c,C,r,,,\n\
         5,a,A,s,,,200,\n\
         6,b,B,s,,,201,\n\
         7,b,B,s,,caf\xe9,202,\n",
    )
    .unwrap();
    let out = vigil(&[
        "detect",
        csv.to_str().unwrap(),
        "--network",
        "co_retweet",
        "--quiet",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("posts.csv:3: the timestamp \"not-a-time\" is not a number"),
        "{stderr}"
    );
    assert!(
        stderr.contains("posts.csv:5: 7 fields where the toolkit format has 8"),
        "{stderr}"
    );
    // Latin-1 where UTF-8 is expected: the row is left out (kept, b would
    // have three messages next to a's).
    assert!(
        stderr.contains("posts.csv:8: the row is not valid UTF-8"),
        "{stderr}"
    );
    assert_eq!(
        text(&out.stdout),
        "\"source\",\"target\",\"weight\",\"edge_type\"\n\"a\",\"b\",\"2\",\"co_retweet\"\n\"b\",\"a\",\"2\",\"co_retweet\"\n"
    );

    // A gzip file cut in the middle: the rows before the damage are analysed, exit code 1.
    let synthetic = dir.path().join("synth.csv.gz");
    synth(&synthetic, "light", 20_000, 1, None);
    let bytes = std::fs::read(&synthetic).unwrap();
    let cut = dir.path().join("cut.csv.gz");
    std::fs::File::create(&cut)
        .unwrap()
        .write_all(&bytes[..bytes.len() / 2])
        .unwrap();
    let out = vigil(&[
        "detect",
        cut.to_str().unwrap(),
        "--network",
        "co_retweet",
        "--min-edge-weight",
        "1",
        "--quiet",
        "--output",
        dir.path().join("e.csv").to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("the rows read before it are kept"),
        "{}",
        text(&out.stderr)
    );
    let edges = std::fs::read_to_string(dir.path().join("e.csv")).unwrap();
    assert!(edges.lines().count() > 1, "edges from the intact part");

    // A mapping naming a column the file does not have: a clear error, nothing computed.
    let named = dir.path().join("named.csv");
    std::fs::write(
        &named,
        "object_id,account_id,content_id,timestamp_share\nx,a,1,10\nx,b,2,11\n",
    )
    .unwrap();
    let out = vigil(&[
        "detect",
        named.to_str().unwrap(),
        "--columns",
        "account=author",
        "--quiet",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("the column \"author\" mapped to account is not in the file; its columns are: object_id, account_id, content_id, timestamp_share"), "{}", text(&out.stderr));
    // The same file loads directly with CooRTweet's column names.
    let out = vigil(&[
        "detect",
        named.to_str().unwrap(),
        "--network",
        "co_share",
        "--min-edge-weight",
        "1",
        "--quiet",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("\"a\",\"b\",\"1\",\"co_retweet\""));
    // JSONL: a line that is not JSON and a bad timestamp are reported with their line numbers.
    let jsonl = dir.path().join("posts.jsonl");
    std::fs::write(
        &jsonl,
        "{\"id\":\"1\",\"account_id\":\"a\",\"object_id\":\"x\",\"timestamp\":10}\n\
         {\"id\":\"2\",\"account_id\":\"b\",\"object_id\":\"x\",\"timestamp\":\"11\"}\n\
         not json\n\
         {\"id\":\"3\",\"account_id\":\"b\",\"object_id\":\"x\",\"timestamp\":\"soon\"}\n",
    )
    .unwrap();
    let out = vigil(&[
        "detect",
        jsonl.to_str().unwrap(),
        "--network",
        "co_share",
        "--min-edge-weight",
        "1",
        "--quiet",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("posts.jsonl:3: not a JSON object"),
        "{stderr}"
    );
    assert!(stderr.contains("posts.jsonl:4: the timestamp"), "{stderr}");
    assert_eq!(
        text(&out.stdout),
        "\"source\",\"target\",\"weight\",\"edge_type\"\n\"a\",\"b\",\"1\",\"co_retweet\"\n\"b\",\"a\",\"1\",\"co_retweet\"\n"
    );
}

#[test]
fn every_output_is_written_and_the_findings_are_valid_stix() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("synth.csv");
    synth(&input, "light", 60_000, 3, None);
    let out_dir = dir.path().join("out");
    let out = vigil(&[
        "detect",
        input.to_str().unwrap(),
        "--network",
        "co_retweet,co_link",
        "--min-edge-weight",
        "3",
        "--out-dir",
        out_dir.to_str().unwrap(),
        "--quiet",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    for file in [
        "edges.csv",
        "network.graphml",
        "nodes.csv",
        "groups.json",
        "evidence.csv",
        "summary.json",
        "findings.stix.json",
    ] {
        assert!(out_dir.join(file).exists(), "{file}");
    }
    let groups: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out_dir.join("groups.json")).unwrap())
            .unwrap();
    let first = &groups[0]["groups"][0];
    assert_eq!(
        first["size"], 15,
        "a planted group of 15 accounts comes first"
    );
    assert!(first["edges"][0]["evidence"].as_array().unwrap().len() >= 3);
    let bundle: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out_dir.join("findings.stix.json")).unwrap())
            .unwrap();
    let objects = bundle["objects"].as_array().unwrap();
    let amber = vigil_stix::Tlp::Amber.marking_id(vigil_stix::TlpProfile::Oasis);
    for object in objects {
        let parsed = vigil_stix::StixObject::parse(object.clone());
        assert!(parsed.is_ok(), "{object}: {parsed:?}");
        if object["type"] != "marking-definition" {
            assert_eq!(object["object_marking_refs"][0], amber, "{object}");
        }
        if object["type"] == "user-account" {
            assert_eq!(object["x_vigil_personal_data"], true);
        }
    }
    assert_eq!(objects.iter().filter(|o| o["type"] == "report").count(), 1);
    assert!(objects.iter().filter(|o| o["type"] == "grouping").count() >= 20);
    // Redaction: no account id of the input survives.
    let redacted = dir.path().join("redacted");
    assert!(
        vigil(&[
            "detect",
            input.to_str().unwrap(),
            "--network",
            "co_retweet",
            "--min-edge-weight",
            "3",
            "--redact",
            "--out-dir",
            redacted.to_str().unwrap(),
            "--quiet"
        ])
        .status
        .success()
    );
    let all = std::fs::read_to_string(redacted.join("groups.json")).unwrap()
        + &std::fs::read_to_string(redacted.join("findings.stix.json")).unwrap();
    assert!(!all.contains("\"p0_1\"") && all.contains("acct-"));
}

/// The edge list of one `vigil detect` run (stdout).
fn edges(args: &[&str]) -> String {
    let out = vigil(args);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{args:?}: {}",
        text(&out.stderr)
    );
    text(&out.stdout)
}

#[test]
fn external_sorting_gives_the_in_memory_edges() {
    let dir = tempfile::tempdir().unwrap();
    let medium = dir.path().join("medium.csv");
    synth(&medium, "medium", 20_000, 9, None);
    // Repeated ids (with new URLs), NaN and empty fields, reposts with URLs.
    let quirks = dir.path().join("quirks.csv");
    std::fs::write(
        &quirks,
        "message_id,user_id,username,repost_id,reply_id,message,timestamp,urls\n\
         q1,a,A,,,same words here,100,https://x.example/a  https://x.example/b\n\
         q2,b,B,,,same words here,101,https://x.example/a\n\
         q1,c,C,,,other words,102,https://x.example/b https://x.example/c\n\
         q3,c,C,,,Same Words Here!,nan,https://x.example/c\n\
         q4,d,D,r1,,RT,103,https://x.example/a\n\
         q5,a,A,r1,,RT,104,\n\
         q6,d,D,,t1,@x @y,105,https://x.example/c\n\
         q7,b,B,,t1,@z,106,\n",
    )
    .unwrap();
    let spill = dir.path().join("spill");
    std::fs::create_dir(&spill).unwrap();
    for (file, window) in [(&medium, "600"), (&quirks, "10")] {
        for compat in ["toolkit", "none"] {
            for kind in [
                "co_retweet",
                "co_reply",
                "co_tweet",
                "co_link",
                "co_post",
                "co_similar_tweet",
            ] {
                let args = [
                    "detect",
                    file.to_str().unwrap(),
                    "--compat",
                    compat,
                    "--network",
                    kind,
                    "--time-window",
                    window,
                    "--min-edge-weight",
                    "1",
                    "--include-self-loops",
                    "--quiet",
                ];
                let in_memory = edges(&args);
                // A 1 MiB budget spills many runs and streams co-post's
                // single object instead of batching it.
                let mut external = args.to_vec();
                external.extend([
                    "--external",
                    "--memory",
                    "1",
                    "--temp-dir",
                    spill.to_str().unwrap(),
                ]);
                let streamed = edges(&external);
                assert!(
                    in_memory.lines().count() > 1,
                    "{kind} {compat}: no edges to compare"
                );
                assert!(in_memory == streamed, "{kind} {compat} on {file:?} differ");
            }
        }
    }
    // The summary counts the same posts, accounts and repeated ids.
    for file in [&medium, &quirks] {
        let summary = |external: bool| -> serde_json::Value {
            let out_dir = dir.path().join(format!("summary-{external}"));
            let mut args = vec![
                "detect",
                file.to_str().unwrap(),
                "--compat",
                "toolkit",
                "--network",
                "co_link",
                "--out-dir",
                out_dir.to_str().unwrap(),
                "--quiet",
            ];
            if external {
                args.push("--external");
            }
            let out = vigil(&args);
            assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
            serde_json::from_slice(&std::fs::read(out_dir.join("summary.json")).unwrap()).unwrap()
        };
        let (in_memory, streamed) = (summary(false), summary(true));
        for key in ["posts", "accounts"] {
            assert!(in_memory[key].as_u64().unwrap() > 0);
            assert_eq!(in_memory[key], streamed[key], "{key} of {file:?}");
        }
        assert_eq!(
            in_memory["input"]["duplicate_rows"],
            streamed["input"]["duplicate_rows"]
        );
    }
    assert_eq!(
        std::fs::read_dir(&spill).unwrap().count(),
        0,
        "spill files are removed"
    );
}

#[test]
fn external_sorting_refuses_what_it_cannot_do_with_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("posts.csv");
    std::fs::write(
        &csv,
        "message_id,user_id,username,repost_id,reply_id,message,timestamp,urls\n1,a,A,r,,,100,\n",
    )
    .unwrap();
    let file = csv.to_str().unwrap();
    let out = vigil(&["detect", file, "--external", "--compat", "coortweet"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("--external computes the toolkit's networks"),
        "{}",
        text(&out.stderr)
    );
    // A temporary directory that cannot be created: refused before reading.
    let blocked = dir.path().join("a-file");
    std::fs::write(&blocked, "").unwrap();
    let inside = blocked.join("spill");
    let out = vigil(&[
        "detect",
        file,
        "--external",
        "--temp-dir",
        inside.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("cannot create the spill directory"),
        "{}",
        text(&out.stderr)
    );
}

/// A `vigil serve --demo` on a fresh store and a free port, stopped when dropped.
struct DemoServer {
    child: std::process::Child,
    base: String,
    data: tempfile::TempDir,
}

impl Drop for DemoServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl DemoServer {
    fn start() -> Self {
        let data = tempfile::tempdir().unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new(env!("CARGO_BIN_EXE_vigil"))
            .args(["serve", "--demo", "--data-dir"])
            .arg(data.path())
            .args(["--listen", &format!("127.0.0.1:{port}")])
            .env_remove("VIGIL_DATABASE_URL")
            .env_remove("VIGIL_CONFIG")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let server = Self {
            child,
            base: format!("http://127.0.0.1:{port}"),
            data,
        };
        for _ in 0..600 {
            if ureq::get(&format!("{}/readyz", server.base)).call().is_ok() {
                return server;
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        panic!("the demo server did not start");
    }

    fn token(&self, user: &str) -> String {
        let out = vigil(&[
            "admin",
            "--data-dir",
            self.data.path().to_str().unwrap(),
            "token",
            "create",
            "--user",
            user,
            "--name",
            "detect test",
        ]);
        assert!(out.status.success(), "{}", text(&out.stderr));
        text(&out.stderr)
            .rsplit(": ")
            .next()
            .unwrap()
            .trim()
            .to_owned()
    }

    /// GET with the demo password, as JSON.
    fn get(&self, user: &str, path: &str) -> serde_json::Value {
        use base64::Engine;
        let basic =
            base64::engine::general_purpose::STANDARD.encode(format!("{user}:vigil-demo-2026"));
        ureq::get(&format!("{}{path}", self.base))
            .header("Authorization", &format!("Basic {basic}"))
            .header("Accept", "application/taxii+json;version=2.1")
            .call()
            .unwrap()
            .into_body()
            .read_json()
            .unwrap()
    }
}

#[test]
fn findings_are_pushed_to_a_live_vigil_server_under_its_access_rules() {
    let server = DemoServer::start();
    let collections = server.get("pt.analyst", "/taxii2/eu-ras/collections/");
    let fimi = collections["collections"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["alias"] == "ee2029-fimi")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let objects_path =
        format!("/taxii2/eu-ras/collections/{fimi}/objects/?match[type]=report&limit=1000");
    let reports = |server: &DemoServer| -> Vec<serde_json::Value> {
        server.get("pt.analyst", &objects_path)["objects"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .into_iter()
            .filter(|r| {
                r["name"]
                    .as_str()
                    .is_some_and(|n| n.starts_with("Coordinated behaviour"))
            })
            .collect()
    };
    // The demo already holds one detection finding.
    assert_eq!(reports(&server).len(), 1, "the demo's detection finding");

    let dir = tempfile::tempdir().unwrap();
    let posts = dir.path().join("posts.csv");
    let planted = dir.path().join("planted.txt");
    synth(&posts, "light", 100_000, 4, Some(&planted));
    let url = format!("{}/taxii2/eu-ras/collections/{fimi}/", server.base);
    let push = |token: &str| {
        vigil(&[
            "detect",
            posts.to_str().unwrap(),
            "--network",
            "co_retweet",
            "--out-dir",
            dir.path().join("out").to_str().unwrap(),
            "--push",
            &url,
            "--token",
            token,
            "--quiet",
        ])
    };
    // Wrong token, and a user who may not see the collection: refused, nothing added.
    let out = push("not-a-token");
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("the server refused the findings (401"),
        "{}",
        text(&out.stderr)
    );
    let out = push(&server.token("observer"));
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("the server refused the findings (404"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(reports(&server).len(), 1);

    let out = push(&server.token("pt.analyst"));
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("objects accepted, 0 refused"),
        "{}",
        text(&out.stderr)
    );
    let pushed = reports(&server);
    assert_eq!(pushed.len(), 2);
    // Every account of the first planted group is in the collection, flagged personal data.
    let first_group = std::fs::read_to_string(&planted).unwrap();
    let first_group: Vec<&str> = first_group.lines().next().unwrap().split(' ').collect();
    let accounts = server.get(
        "pt.analyst",
        &format!("/taxii2/eu-ras/collections/{fimi}/objects/?match[type]=user-account&limit=1000"),
    );
    assert_ne!(accounts["more"], true, "one page holds them all");
    let stored: std::collections::HashMap<&str, &serde_json::Value> = accounts["objects"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|a| Some((a["user_id"].as_str()?, a)))
        .collect();
    for account in first_group {
        let object = stored
            .get(account)
            .unwrap_or_else(|| panic!("{account} was not pushed"));
        assert_eq!(object["x_vigil_personal_data"], true);
    }
}

/// A group of more than a thousand edges is summarised in groups.json by
/// its heaviest thousand, heaviest first; every edge stays in edges.csv.
#[test]
fn a_large_group_lists_its_heaviest_edges_and_evidence_keeps_to_its_budget() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("posts.csv");
    // 60 accounts posting in turn, one post a second: within 60 s every
    // account co-posts with every other, with weights that vary by account.
    let mut rows =
        String::from("message_id,user_id,username,repost_id,reply_id,message,timestamp,urls\n");
    for i in 0..1200u32 {
        let account = if i % 7 == 0 { i % 5 } else { i % 60 };
        rows.push_str(&format!("m{i},a{account},A{account},,,text {i},{i},\n"));
    }
    std::fs::write(&csv, rows).unwrap();
    let co_post_into = |out_dir: &std::path::Path, options: &[&str]| {
        let mut args = vec![
            "detect",
            csv.to_str().unwrap(),
            "--network",
            "co_post",
            "--time-window",
            "60",
            "--min-edge-weight",
            "1",
            "--quiet",
            "--out-dir",
            out_dir.to_str().unwrap(),
        ];
        args.extend_from_slice(options);
        let out = vigil(&args);
        assert!(out.status.success(), "{}", text(&out.stderr));
        text(&out.stderr)
    };
    let out_dir = dir.path().join("out");
    co_post_into(&out_dir, &[]);
    let edges_csv = std::fs::read_to_string(out_dir.join("edges.csv")).unwrap();
    let all_edges = edges_csv.lines().count() - 1;
    let groups: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out_dir.join("groups.json")).unwrap())
            .unwrap();
    let group = &groups[0]["groups"][0];
    assert_eq!(group["edge_count"].as_u64().unwrap() as usize, all_edges);
    assert!(all_edges > 1000, "{all_edges} edges");
    assert_eq!(group["edges_listed"], 1000);
    let listed: Vec<u64> = group["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["weight"].as_u64().unwrap())
        .collect();
    assert_eq!(listed.len(), 1000);
    assert!(listed.windows(2).all(|w| w[0] >= w[1]), "heaviest first");
    let heaviest = edges_csv
        .lines()
        .skip(1)
        .map(|l| {
            l.split(',')
                .nth(2)
                .unwrap()
                .trim_matches('"')
                .parse::<u64>()
                .unwrap()
        })
        .max()
        .unwrap();
    assert_eq!(listed[0], heaviest);
    assert!(listed.iter().any(|&w| w != heaviest), "weights vary");

    // Evidence: ten co-actions per edge by default; past the budget, one
    // per edge, with a warning and the figure in summary.json.
    let evidence_rows = |dir: &std::path::Path| {
        std::fs::read_to_string(dir.join("evidence.csv"))
            .unwrap()
            .lines()
            .count()
            - 1
    };
    let per_edge = |dir: &std::path::Path| {
        let summary: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(dir.join("summary.json")).unwrap())
                .unwrap();
        summary["networks"][0]["method"]["evidence_per_edge"].clone()
    };
    assert_eq!(per_edge(&out_dir), 10);
    assert!(evidence_rows(&out_dir) > 5 * all_edges);
    let budgeted = dir.path().join("budgeted");
    let stderr = co_post_into(&budgeted, &["--evidence-budget", "500"]);
    assert!(
        stderr.contains(&format!(
            "warning: co_post: {all_edges} edges; evidence kept for 1 co-action(s) per edge instead of 10"
        )),
        "{stderr}"
    );
    assert_eq!(per_edge(&budgeted), 1);
    assert_eq!(
        evidence_rows(&budgeted),
        all_edges,
        "one co-action per edge"
    );
}
