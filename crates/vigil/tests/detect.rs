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

#[test]
fn bad_rows_truncated_gzip_and_wrong_mappings_are_reported_and_good_rows_kept() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("posts.csv");
    std::fs::write(
        &csv,
        "message_id,user_id,username,repost_id,reply_id,message,timestamp,urls\n\
         1,a,A,r,,,100,\n\
         2,b,B,r,,,not-a-time,\n\
         3,b,B,r,,,101,\n\
         4,c,C,r,,,\n\
         5,a,A,s,,,200,\n\
         6,b,B,s,,,201,\n",
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
    assert_eq!(
        text(&out.stdout),
        "\"source\",\"target\",\"weight\",\"edge_type\"\n\"a\",\"b\",\"2\",\"co_retweet\"\n\"b\",\"a\",\"2\",\"co_retweet\"\n"
    );

    // A gzip file cut in the middle: the rows before the damage are analysed, exit code 1.
    let synth = dir.path().join("synth.csv.gz");
    let made = vigil(&[
        "detect",
        "synth",
        "--posts",
        "20000",
        "--output",
        synth.to_str().unwrap(),
    ]);
    assert!(made.status.success());
    let bytes = std::fs::read(&synth).unwrap();
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
    assert!(
        vigil(&[
            "detect",
            "synth",
            "--posts",
            "60000",
            "--seed",
            "3",
            "--output",
            input.to_str().unwrap()
        ])
        .status
        .success()
    );
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
