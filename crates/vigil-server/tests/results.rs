//! Election results over real HTTP on every backend: an election defined by
//! its coordinator, forms typed twice (equal, different, with errors), the
//! embargo, publication, `results verify`, and a figure changed in the
//! database behind the server's back being caught.
#![allow(clippy::unwrap_used, clippy::expect_used)]
mod common;

use common::{Backend, PASSWORD, TestApp, backends};
use serde_json::{Value, json};
use vigil_server::core::time::Timestamp;
use vigil_server::results::verify::verify_results;

/// `results verify` against the app, as an observer runs it.
async fn verify(app: &TestApp) -> vigil_server::results::verify::ResultsReport {
    let base = app.base.clone();
    tokio::task::spawn_blocking(move || verify_results(&base, "test-2027", None))
        .await
        .unwrap()
        .unwrap()
}

/// `results verify` once the server has rebuilt its published results
/// after a change behind its back: figures older than `MAX_AGE` are served
/// while they are rebuilt in the background, so the change shows within
/// seconds. Returns the first report for which `shows` holds, or the last
/// one after 10 seconds.
async fn verify_once_refreshed(
    app: &TestApp,
    shows: impl Fn(&vigil_server::results::verify::ResultsReport) -> bool,
) -> vigil_server::results::verify::ResultsReport {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        tokio::time::sleep(vigil_server::results::cache::MAX_AGE).await;
        let report = verify(app).await;
        if shows(&report) || std::time::Instant::now() > deadline {
            return report;
        }
    }
}

async fn token(app: &TestApp, username: &str) -> String {
    let response = app
        .request("POST", "/api/me/tokens")
        .basic(username, PASSWORD)
        .json(&json!({"name": "test"}))
        .send()
        .await;
    assert_eq!(response.status, 201, "{}", response.text());
    response.json()["secret"].as_str().unwrap().to_string()
}

fn definition(release_at: &str) -> Value {
    json!({
        "id": "test-2027",
        "name": "Test council election 2027",
        "date": "2027-03-07",
        "release_at": release_at,
        "apportionment": {"method": "d_hondt", "seats": 5},
        "lists": [
            {"number": 1, "name": "Blue", "candidates": ["Ada", "Bo"]},
            {"number": 2, "name": "Green"}
        ],
        "districts": [
            {"id": "north", "name": "North", "polling_stations": [
                {"id": "n-1", "name": "North school", "registered_voters": 1000},
                {"id": "n-2", "name": "North hall", "registered_voters": 800}]},
            {"id": "south", "name": "South", "polling_stations": [
                {"id": "s-1", "name": "South library", "registered_voters": 900}]}
        ]
    })
}

/// A form: Blue (a, b), Green g, plus blank and invalid; votes cast adds up.
fn counts(a: u64, b: u64, g: u64, blank: u64, invalid: u64) -> Value {
    let cast = a + b + g + blank + invalid;
    json!({"voters": cast, "votes_cast": cast, "blank": blank, "invalid": invalid,
        "lists": [{"total": a + b, "candidates": [a, b]}, {"total": g}]})
}

struct Clerk<'a> {
    app: &'a TestApp,
    token: String,
}

impl Clerk<'_> {
    async fn act(&self, station: &str, action: Value) -> common::Response {
        self.app
            .request(
                "POST",
                &format!("/api/results/elections/test-2027/stations/{station}/entry"),
            )
            .bearer(&self.token)
            .json(&action)
            .send()
            .await
    }

    async fn type_form(&self, station: &str, counts: Value) -> Value {
        let claim = self.act(station, json!({"action": "claim"})).await;
        assert_eq!(claim.status, 200, "{}", claim.text());
        let done = self
            .act(station, json!({"action": "finalise", "counts": counts}))
            .await;
        assert_eq!(done.status, 200, "{}", done.text());
        done.json()
    }

    async fn view(&self, station: &str) -> Value {
        let response = self
            .app
            .request(
                "GET",
                &format!("/api/results/elections/test-2027/stations/{station}/entry"),
            )
            .bearer(&self.token)
            .send()
            .await;
        assert_eq!(response.status, 200, "{}", response.text());
        response.json()
    }
}

async fn story(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    for (name, roles) in [
        ("ana", &["typist"][..]),
        ("ben", &["typist"]),
        ("cleo", &["coordinator"]),
    ] {
        app.user("Electoral Board", name, roles).await;
    }
    app.user("Other Board", "olaf", &["typist", "coordinator"])
        .await;
    let (ana, ben, cleo, olaf) = (
        Clerk {
            app: &app,
            token: token(&app, "ana").await,
        },
        Clerk {
            app: &app,
            token: token(&app, "ben").await,
        },
        Clerk {
            app: &app,
            token: token(&app, "cleo").await,
        },
        Clerk {
            app: &app,
            token: token(&app, "olaf").await,
        },
    );

    // Defining: coordinators only, every fault named, nothing stored when refused.
    let release = Timestamp::now().plus(std::time::Duration::from_secs(8));
    let mut bad = definition(&release.to_string());
    bad["lists"][1]["number"] = 1.into();
    bad["districts"][0]["polling_stations"][0]["registered_voters"] = "many".into();
    let response = app
        .request("POST", "/api/results/elections")
        .bearer(&cleo.token)
        .json(&bad)
        .send()
        .await;
    assert_eq!(response.status, 422, "{}", response.text());
    assert!(response.text().contains("line 1"), "{}", response.text());
    bad["districts"][0]["polling_stations"][0]["registered_voters"] = 1000.into();
    let response = app
        .request("POST", "/api/results/elections")
        .bearer(&cleo.token)
        .json(&bad)
        .send()
        .await;
    assert_eq!(response.status, 422);
    assert_eq!(
        response.json()["error"]["fields"][0]["field"],
        "lists[1].number"
    );
    let response = app
        .request("POST", "/api/results/elections")
        .bearer(&ana.token)
        .json(&definition(&release.to_string()))
        .send()
        .await;
    assert_eq!(response.status, 403, "a typist does not define elections");
    let listed = app.request("GET", "/api/results/elections").send().await;
    assert_eq!(
        listed.json(),
        json!([]),
        "nothing stored by refused requests"
    );
    let response = app
        .request("POST", "/api/results/elections")
        .bearer(&cleo.token)
        .json(&definition(&release.to_string()))
        .send()
        .await;
    assert_eq!(response.status, 201, "{}", response.text());
    assert_eq!(response.json()["stations"], 3);

    // Another organisation's staff cannot see or type this election.
    let response = olaf.act("n-1", json!({"action": "claim"})).await;
    assert_eq!(response.status, 404);

    // n-1: two equal entries by two typists.
    let first = ana.type_form("n-1", counts(300, 100, 500, 20, 10)).await;
    assert_eq!(first["state"], "first_entry_finalised");
    let again = ana.act("n-1", json!({"action": "claim"})).await;
    assert_eq!(again.status, 409);
    assert!(again.text().contains("someone other than the first typist"));
    // The second typist does not see the first entry.
    let blind = ben.view("n-1").await;
    assert_eq!(blind["entry"]["first"], Value::Null);
    assert_eq!(blind["entry"]["your_entry"], Value::Null);
    assert!(!blind.to_string().contains("\"votes_cast\""), "{blind}");
    let second = ben.type_form("n-1", counts(300, 100, 500, 20, 10)).await;
    assert_eq!(second["state"], "definitive");

    // n-2: the entries differ; the coordinator sees where and keeps the first.
    ana.type_form("n-2", counts(200, 50, 300, 5, 5)).await;
    let second = ben.type_form("n-2", counts(200, 50, 310, 5, 5)).await;
    assert_eq!(second["state"], "entries_different");
    let refused = ben
        .act(
            "n-2",
            json!({"action": "resolve_differences", "decision": "keep_first"}),
        )
        .await;
    assert_eq!(refused.status, 403, "typists do not resolve");
    let seen = cleo.view("n-2").await;
    assert_eq!(
        seen["entry"]["differences"],
        json!(["voters", "votes_cast", "lists[1].total"])
    );
    assert_eq!(seen["entry"]["first"]["counts"]["lists"][1]["total"], 300);
    assert_eq!(seen["entry"]["second"]["counts"]["lists"][1]["total"], 310);
    let kept = cleo
        .act(
            "n-2",
            json!({"action": "resolve_differences", "decision": "keep_first"}),
        )
        .await;
    assert_eq!(kept.json()["state"], "first_entry_finalised");
    // Ana's kept entry is the first now: Ben types the second again.
    assert_eq!(ana.act("n-2", json!({"action": "claim"})).await.status, 409);
    assert_eq!(
        ben.type_form("n-2", counts(200, 50, 300, 5, 5)).await["state"],
        "definitive"
    );

    // s-1: bad input is refused and changes nothing; a form with an error
    // waits for the coordinator's explanation.
    assert_eq!(ana.act("s-1", json!({"action": "claim"})).await.status, 200);
    for (bad, why) in [
        (
            json!({"voters": -1, "votes_cast": 0, "blank": 0, "invalid": 0, "lists": []}),
            "invalid value",
        ),
        (
            json!({"voters": "ten", "votes_cast": 0, "blank": 0, "invalid": 0, "lists": []}),
            "invalid type",
        ),
        (
            json!({"voters": 1, "votes_cast": 1, "blank": 0, "invalid": 0, "lists": [{"total": 1}]}),
            "2 lists",
        ),
    ] {
        let response = ana
            .act("s-1", json!({"action": "finalise", "counts": bad}))
            .await;
        assert_eq!(response.status, 422, "{why}: {}", response.text());
        assert!(response.text().contains(why), "{why}: {}", response.text());
    }
    let mut wrong = counts(100, 100, 100, 0, 0);
    wrong["votes_cast"] = 301.into(); // the paper says 301: F.201
    wrong["voters"] = 301.into();
    let errors = ana
        .act("s-1", json!({"action": "finalise", "counts": wrong}))
        .await
        .json();
    assert_eq!(errors["state"], "first_entry_has_errors");
    assert_eq!(ben.act("s-1", json!({"action": "claim"})).await.status, 409);
    let seen = cleo.view("s-1").await;
    assert_eq!(
        seen["entry"]["first"]["validation"]["errors"][0]["code"],
        "F.201"
    );
    let unexplained = cleo
        .act(
            "s-1",
            json!({"action": "resolve_errors", "decision": "accept"}),
        )
        .await;
    assert_eq!(unexplained.status, 409);
    assert!(unexplained.text().contains("explanation"));
    let accepted = cleo
        .act("s-1", json!({"action": "resolve_errors", "decision": "accept",
            "explanation": "One ballot was found outside the box; the committee counted it as cast."}))
        .await;
    assert_eq!(accepted.json()["state"], "first_entry_finalised");
    let done = ben.type_form("s-1", wrong.clone()).await;
    assert_eq!(done["state"], "definitive");
    // Every action is an appended event; the coordinator sees them all.
    let events = cleo.view("s-1").await["events"].as_array().unwrap().len();
    assert_eq!(
        events, 5,
        "claim, finalise, accept, claim, finalise; refusals leave none"
    );

    // During the embargo: progress and commitments, never figures.
    let public = app
        .request("GET", "/api/results/elections/test-2027")
        .send()
        .await;
    let body = public.json();
    assert_eq!(body["embargoed"], true, "{body}");
    assert_eq!(body["progress"], json!({"counted": 3, "stations": 3}));
    assert_eq!(body["tally"], Value::Null);
    assert_eq!(body["committed"].as_array().unwrap().len(), 3);
    assert!(
        !public.text().contains("\"counts\""),
        "no figures before release"
    );
    let summary = app
        .request("GET", "/api/results/elections/test-2027/summary")
        .send()
        .await;
    assert_eq!(summary.status, 200);
    assert_eq!(summary.json()["embargoed"], true);
    assert_eq!(summary.json()["tally"], Value::Null);
    assert!(!summary.text().contains("\"counts\""));
    let csv = app
        .request("GET", "/api/results/elections/test-2027/results.csv")
        .send()
        .await;
    assert_eq!(csv.status, 409);
    for document in ["eml510.xml", "eml520.xml"] {
        let eml = app
            .request(
                "GET",
                &format!("/api/results/elections/test-2027/{document}"),
            )
            .send()
            .await;
        assert_eq!(eml.status, 409, "{document} during the embargo");
    }
    let page = app.request("GET", "/results/test-2027").send().await;
    assert_eq!(page.status, 200);
    assert!(page.text().contains("Embargoed until"), "{}", page.text());
    assert!(!page.text().contains("Votes and seats"));
    let district = app
        .request("GET", "/results/test-2027/districts/north")
        .send()
        .await
        .text();
    assert!(
        district.contains(">committed<") && !district.contains(">930<"),
        "{district}"
    );
    let embargoed = verify(&app).await;
    assert!(
        embargoed.ok() && embargoed.embargoed,
        "{:?}",
        embargoed.problems
    );
    assert_eq!(embargoed.stations_checked, 3);

    // After the release time: everything, and it verifies.
    let wait = release.unix_seconds() - Timestamp::now().unix_seconds() + 1;
    tokio::time::sleep(std::time::Duration::from_secs(wait.max(0) as u64)).await;
    let body = app
        .request("GET", "/api/results/elections/test-2027")
        .send()
        .await
        .json();
    assert_eq!(body["embargoed"], false);
    let totals = &body["tally"]["totals"];
    assert_eq!(totals["lists"][0]["candidates"], json!([600, 250]));
    assert_eq!(totals["lists"][1]["total"], 900);
    assert_eq!(totals["votes_cast"], 301 + 930 + 560);
    assert_eq!(body["tally"]["districts"][1]["totals"]["votes_cast"], 301);
    // D'Hondt, 5 seats: Blue 850, Green 900 → Green 900, Blue 850, Green 450, Blue 425, Green 300.
    assert_eq!(body["seats_per_list"], json!([2, 3]));
    // The summary holds the same totals and seats, without the stations.
    let summary = app
        .request("GET", "/api/results/elections/test-2027/summary")
        .send()
        .await
        .json();
    for field in ["tally", "seats", "seats_per_list", "progress"] {
        assert_eq!(summary[field], body[field], "{field}");
    }
    assert_eq!(summary["lists"], body["definition"]["lists"]);
    assert!(summary.get("stations").is_none());
    let missing = app
        .request("GET", "/api/results/elections/no-such/summary")
        .send()
        .await;
    assert_eq!(missing.status, 404);
    let page = app.request("GET", "/results/test-2027").send().await.text();
    assert!(
        page.contains("Votes and seats") && page.contains("2. Green"),
        "{page}"
    );
    assert!(
        page.contains("seat 5: 2. Green with the highest average 300"),
        "{page}"
    );
    let district = app
        .request("GET", "/results/test-2027/districts/north")
        .send()
        .await
        .text();
    assert!(district.contains(">930<"), "{district}");
    let csv = app
        .request("GET", "/api/results/elections/test-2027/results.csv")
        .send()
        .await
        .text();
    assert!(csv.starts_with("district,station,station_name,registered_voters,voters,votes_cast,blank,invalid,list 1 Blue,list 1 Ada,list 1 Bo,list 2 Green\r\n"), "{csv}");
    assert!(
        csv.contains("north,n-1,North school,1000,930,930,20,10,400,300,100,500\r\n"),
        "{csv}"
    );
    // The same figures as OASIS EML: 510 with every station, 520 with the lists.
    let count = app
        .request("GET", "/api/results/elections/test-2027/eml510.xml")
        .send()
        .await;
    assert_eq!(count.status, 200);
    assert!(
        count
            .header("content-type")
            .unwrap()
            .starts_with("application/xml")
    );
    let count = count.text();
    assert!(count.contains("Id=\"510\""), "{count}");
    assert!(
        count
            .contains("<ReportingUnitIdentifier Id=\"n-1\">North school</ReportingUnitIdentifier>")
    );
    assert!(count.contains("<ValidVotes>500</ValidVotes>"));
    let result = app
        .request("GET", "/api/results/elections/test-2027/eml520.xml")
        .send()
        .await
        .text();
    assert!(result.contains("Id=\"520\""), "{result}");
    assert!(
        result.contains("<Votes>900</Votes>")
            && result.matches("<Elected>yes</Elected>").count() == 2
    );
    let report = verify(&app).await;
    assert!(report.ok(), "{:?}", report.problems);
    assert_eq!(
        (report.stations_checked, report.committed_before_release),
        (3, 3)
    );
    assert_eq!(report.seats_per_list, Some(vec![2, 3]));

    // Tamper: a figure changed in the database is caught and named.
    sqlx::query("UPDATE results_station_results SET counts = REPLACE(counts, '\"total\":500', '\"total\":540') WHERE station_id = 'n-1'")
        .execute(app.db.pool())
        .await
        .unwrap();
    let report = verify_once_refreshed(&app, |r| !r.ok()).await;
    assert!(!report.ok());
    let named: Vec<String> = report
        .problems
        .iter()
        .map(|p| format!("{}: {}", p.subject, p.problem))
        .collect();
    assert!(
        named
            .iter()
            .any(|p| p
                .starts_with("station n-1: the published figures differ from what the log holds")),
        "{named:?}"
    );
    // A result removed behind the server's back is named as withheld.
    sqlx::query("DELETE FROM results_station_results WHERE station_id = 's-1'")
        .execute(app.db.pool())
        .await
        .unwrap();
    let report = verify_once_refreshed(&app, |r| {
        r.problems.iter().any(|p| p.subject == "station s-1")
    })
    .await;
    assert!(
        report.problems.iter().any(|p| p.subject == "station s-1"
            && p.problem == "the log holds a result for it that is not published"),
        "{:?}",
        report.problems
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn results_are_typed_twice_embargoed_published_and_verified() {
    for backend in backends() {
        story(backend).await;
    }
}
