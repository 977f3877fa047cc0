//! The `vigil` binary as an operator meets it: clear errors that write
//! nothing, and `vigil log verify` exit codes on a real store.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn vigil(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_vigil"))
        .args(args)
        .env_remove("VIGIL_DATABASE_URL")
        .env_remove("VIGIL_DATA_DIR")
        .env_remove("VIGIL_CONFIG")
        .output()
        .unwrap()
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// A new directory per call (tests run in parallel).
fn temp_dir() -> PathBuf {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let dir = std::env::temp_dir().join(format!("vigil-cli-{}-{nanos}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn is_empty_dir(dir: &Path) -> bool {
    std::fs::read_dir(dir)
        .map(|mut d| d.next().is_none())
        .unwrap_or(true)
}

#[test]
fn malformed_configuration_is_named_and_nothing_is_written() {
    let dir = temp_dir();
    let config = dir.join("vigil.toml");
    std::fs::write(
        &config,
        "listen = \"127.0.0.1:0\"\nchekpoint_interval_seconds = 5\n",
    )
    .unwrap();
    let data = dir.join("data");
    let output = vigil(&[
        "serve",
        "--config",
        config.to_str().unwrap(),
        "--data-dir",
        data.to_str().unwrap(),
    ]);
    assert_eq!(output.status.code(), Some(2));
    let message = text(&output);
    assert!(
        message.contains("vigil.toml is not valid")
            && message.contains("chekpoint_interval_seconds"),
        "{message}"
    );
    assert!(!data.exists(), "nothing may be written");
}

#[test]
fn unreachable_database_is_named_and_nothing_is_written() {
    let dir = temp_dir();
    let data = dir.join("data");
    let output = vigil(&[
        "serve",
        "--data-dir",
        data.to_str().unwrap(),
        "--database-url",
        "postgres://vigil:secret@127.0.0.1:1/vigil",
    ]);
    assert_eq!(output.status.code(), Some(2));
    let message = text(&output);
    assert!(
        message
            .contains("cannot connect to the database at postgres://vigil:***@127.0.0.1:1/vigil"),
        "{message}"
    );
    assert!(
        !message.contains("secret"),
        "the password is not printed: {message}"
    );
    assert!(
        !data.exists() || is_empty_dir(&data),
        "nothing may be written"
    );
}

#[test]
fn admin_commands_and_log_verify_on_a_real_store() {
    let dir = temp_dir();
    let data = dir.join("data");
    let data = data.to_str().unwrap();
    let created = vigil(&[
        "admin",
        "--data-dir",
        data,
        "org",
        "create",
        "--name",
        "Electoral Commission",
        "--kind",
        "election_management_body",
        "--country",
        "PT",
    ]);
    assert!(created.status.success(), "{}", text(&created));
    let bad = vigil(&[
        "admin",
        "--data-dir",
        data,
        "org",
        "create",
        "--name",
        "X",
        "--kind",
        "club",
    ]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(text(&bad).contains("kind: use one of"), "{}", text(&bad));
    let user = vigil(&[
        "admin",
        "--data-dir",
        data,
        "user",
        "create",
        "--org",
        "Electoral Commission",
        "--username",
        "clerk",
        "--role",
        "reader",
    ]);
    assert!(user.status.success(), "{}", text(&user));
    assert!(text(&user).contains("Password (shown once)"));
    let token = vigil(&[
        "admin",
        "--data-dir",
        data,
        "token",
        "create",
        "--user",
        "clerk",
        "--name",
        "feed",
        "--expires-in",
        "30d",
    ]);
    assert!(token.status.success(), "{}", text(&token));
    assert!(text(&token).contains("vigil_"));
    let roles = vigil(&[
        "admin",
        "--data-dir",
        data,
        "user",
        "set-roles",
        "clerk",
        "--role",
        "analyst",
    ]);
    assert!(roles.status.success(), "{}", text(&roles));
    let audit = vigil(&[
        "admin",
        "--data-dir",
        data,
        "audit",
        "--action",
        "user.roles_changed",
    ]);
    assert!(
        text(&audit).contains("\"actor\": \"cli\""),
        "{}",
        text(&audit)
    );

    let checkpoint = dir.join("checkpoint.txt");
    let clean = vigil(&[
        "log",
        "--data-dir",
        data,
        "verify",
        "--save-checkpoint",
        checkpoint.to_str().unwrap(),
    ]);
    assert_eq!(clean.status.code(), Some(0), "{}", text(&clean));
    assert!(text(&clean).starts_with("OK: "), "{}", text(&clean));
    let since = vigil(&[
        "log",
        "--data-dir",
        data,
        "verify",
        "--since",
        checkpoint.to_str().unwrap(),
    ]);
    assert_eq!(since.status.code(), Some(0), "{}", text(&since));

    // An administrator edits a row with the sqlite3 tool (or any other).
    let db = format!("{data}/vigil.db");
    let status = Command::new("sqlite3")
        .args([&db, "UPDATE organisations SET country = 'ES'"])
        .status()
        .expect("the sqlite3 command-line tool is needed for this test (scripts/test installs it)");
    assert!(status.success());
    let tampered = vigil(&["log", "--data-dir", data, "verify"]);
    assert_eq!(tampered.status.code(), Some(1), "{}", text(&tampered));
    let message = text(&tampered);
    assert!(
        message.contains("FAILED")
            && message.contains("organisation org-")
            && message.contains("edited"),
        "{message}"
    );
}

#[test]
fn communities_collections_and_grants_from_the_command_line() {
    let dir = temp_dir();
    let data = dir.join("data");
    let data = data.to_str().unwrap();
    let run = |args: &[&str]| {
        let mut full = vec!["admin", "--data-dir", data];
        full.extend_from_slice(args);
        vigil(&full)
    };
    let json = |output: Output| -> serde_json::Value {
        assert!(output.status.success(), "{}", text(&output));
        serde_json::from_slice(&output.stdout).unwrap()
    };
    json(run(&[
        "org",
        "create",
        "--name",
        "NCP Latvia",
        "--kind",
        "national_contact_point",
        "--country",
        "LV",
    ]));
    let community = json(run(&[
        "community",
        "create",
        "--id",
        "lv-net",
        "--title",
        "Latvian election network",
    ]));
    assert_eq!(community["id"], "lv-net");
    let member = json(run(&[
        "community",
        "add-member",
        "lv-net",
        "--org",
        "NCP Latvia",
    ]));
    assert_eq!(member["status"], "active");
    let collection = json(run(&[
        "collection",
        "create",
        "--community",
        "lv-net",
        "--title",
        "Saeima 2026",
        "--default-tlp",
        "green",
    ]));
    assert_eq!(collection["default_tlp"], "green");
    let id = collection["id"].as_str().unwrap();
    let grant = json(run(&[
        "collection",
        "grant",
        id,
        "--org",
        "NCP Latvia",
        "--read",
    ]));
    assert_eq!(
        (grant["can_read"].as_bool(), grant["can_write"].as_bool()),
        (Some(true), Some(false))
    );
    let shown = json(run(&["collection", "show", id]));
    assert_eq!(shown["grants"].as_array().unwrap().len(), 1);
    let removed = json(run(&[
        "community",
        "remove-member",
        "lv-net",
        "--org",
        "NCP Latvia",
    ]));
    assert_eq!(removed["status"], "removed");

    // Bad input: clear messages, exit code 2, nothing written.
    let bad_id = run(&["community", "create", "--id", "Not A Slug", "--title", "x"]);
    assert_eq!(bad_id.status.code(), Some(2));
    assert!(text(&bad_id).contains("id:"), "{}", text(&bad_id));
    let bad_tlp = run(&[
        "collection",
        "create",
        "--community",
        "lv-net",
        "--title",
        "x",
        "--default-tlp",
        "pink",
    ]);
    assert!(text(&bad_tlp).contains("default_tlp"), "{}", text(&bad_tlp));
    let unknown_org = run(&["collection", "grant", id, "--org", "Nobody", "--read"]);
    assert!(
        text(&unknown_org).contains("no organisation"),
        "{}",
        text(&unknown_org)
    );
    let shown = json(run(&["community", "show", "lv-net"]));
    assert_eq!(shown["collections"].as_array().unwrap().len(), 1);
    let verify = vigil(&["log", "--data-dir", data, "verify"]);
    assert_eq!(verify.status.code(), Some(0), "{}", text(&verify));
}

/// OASIS EML 110 and 230 documents become an election: a dry run prints the
/// definition, a real run defines it on the store; missing facts and broken
/// documents are named and nothing is defined.
#[test]
fn an_election_is_imported_from_eml() {
    let dir = temp_dir();
    let data = dir.join("data");
    let data = data.to_str().unwrap();
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("../vigil-server/tests/fixtures/eml");
    let fixture = |name: &str| fixtures.join(name).to_str().unwrap().to_string();
    let (a, b, c) = (
        fixture("election-110a.eml.xml"),
        fixture("stations-110b.eml.xml"),
        fixture("candidates-230b.eml.xml"),
    );
    let created = vigil(&[
        "admin",
        "--data-dir",
        data,
        "org",
        "create",
        "--name",
        "Vigilstad",
        "--kind",
        "election_management_body",
        "--country",
        "NL",
    ]);
    assert!(created.status.success(), "{}", text(&created));
    let import = |extra: &[&str]| {
        let mut args = vec![
            "results",
            "--data-dir",
            data,
            "import",
            &a,
            &b,
            &c,
            "--org",
            "Vigilstad",
        ];
        args.extend_from_slice(extra);
        vigil(&args)
    };

    // EML does not say when results are released.
    let missing = import(&[]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(
        text(&missing).contains("give --release-at"),
        "{}",
        text(&missing)
    );

    let dry = import(&["--release-at", "2030-03-20T21:00:00Z", "--dry-run"]);
    assert!(dry.status.success(), "{}", text(&dry));
    let definition: serde_json::Value = serde_json::from_slice(&dry.stdout).unwrap();
    assert_eq!(definition["id"], "gr2030_vigilstad");
    assert_eq!(definition["apportionment"]["seats"], 9);
    assert_eq!(
        definition["districts"][0]["polling_stations"][1]["registered_voters"],
        875
    );

    // A broken document: named, nothing defined.
    let broken = dir.join("broken.eml.xml");
    std::fs::write(
        &broken,
        "<EML xmlns=\"urn:oasis:names:tc:evs:schema:eml\" Id=\"230b\"><Candi",
    )
    .unwrap();
    let bad = vigil(&[
        "results",
        "--data-dir",
        data,
        "import",
        &a,
        &b,
        broken.to_str().unwrap(),
        "--org",
        "Vigilstad",
        "--release-at",
        "2030-03-20T21:00:00Z",
    ]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(
        text(&bad).contains("documents[2]: not well-formed XML"),
        "{}",
        text(&bad)
    );

    let defined = import(&[
        "--release-at",
        "2030-03-20T21:00:00Z",
        "--method",
        "dutch_council",
    ]);
    assert!(defined.status.success(), "{}", text(&defined));
    assert!(
        text(&defined).contains("election gr2030_vigilstad (version 1): 2 polling stations"),
        "{}",
        text(&defined)
    );
    let verified = vigil(&["log", "verify", "--data-dir", data]);
    assert!(verified.status.success(), "{}", text(&verified));
    std::fs::remove_dir_all(&dir).unwrap();
}

/// `vigil ads import`: good rows stored, bad ones named with their line
/// (exit 1); the same file again changes nothing.
#[test]
fn ads_are_imported_from_the_google_bundle() {
    let dir = temp_dir();
    let data = dir.join("data");
    let data = data.to_str().unwrap();
    let file = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../vigil-server/tests/fixtures/ads/google-creative-stats.csv");
    let file = file.to_str().unwrap();
    let org = vigil(&[
        "admin",
        "--data-dir",
        data,
        "org",
        "create",
        "--name",
        "Regulator",
        "--kind",
        "regulator",
        "--country",
        "PT",
    ]);
    assert!(org.status.success(), "{}", text(&org));
    let user = vigil(&[
        "admin",
        "--data-dir",
        data,
        "user",
        "create",
        "--org",
        "Regulator",
        "--username",
        "erc",
        "--role",
        "regulator",
    ]);
    assert!(user.status.success(), "{}", text(&user));
    let import = || {
        vigil(&[
            "ads",
            "--data-dir",
            data,
            "import",
            file,
            "--format",
            "google",
            "--user",
            "erc",
            "--country",
            "PT",
            "--language",
            "pt",
        ])
    };
    let first = import();
    assert_eq!(first.status.code(), Some(1), "{}", text(&first));
    assert!(
        text(&first).contains("2 added, 0 updated, 0 unchanged, 1 refused"),
        "{}",
        text(&first)
    );
    assert!(
        text(&first).contains("google-creative-stats.csv:4: Date_Range_Start is not a date"),
        "{}",
        text(&first)
    );
    let again = import();
    assert!(
        text(&again).contains("0 added, 0 updated, 2 unchanged, 1 refused"),
        "{}",
        text(&again)
    );
    let wrong = vigil(&[
        "ads",
        "--data-dir",
        data,
        "import",
        file,
        "--format",
        "tiktok",
        "--user",
        "erc",
    ]);
    assert_eq!(wrong.status.code(), Some(2));
    assert!(text(&wrong).contains("--format: meta, google, jsonl or csv"));
    let verified = vigil(&["log", "verify", "--data-dir", data]);
    assert!(verified.status.success(), "{}", text(&verified));
    std::fs::remove_dir_all(&dir).unwrap();
}
