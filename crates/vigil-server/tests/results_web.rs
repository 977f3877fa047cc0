//! The typing screens and the public results pages in a real headless
//! Chromium: two typists type a form, their entries differ, the coordinator
//! compares them and returns one for correction, the form becomes
//! definitive; the public page shows only commitments during the embargo
//! and the figures after it. Screenshots go to `target/screenshots/`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::browser::*;
use common::forms::*;
use common::{Backend, PASSWORD, TestApp};
use fantoccini::{Client, Locator};
use serde_json::json;
use std::time::Duration;
use vigil_server::core::audit::Actor;
use vigil_server::core::time::Timestamp;
use vigil_server::results::service;

const ELECTION: &str = "town-2031";
const ORGANISATION: &str = "Town Electoral Office";

/// Types one whole form: every field by its HTML id.
async fn type_form(client: &Client, values: &[(&str, u64)]) {
    for (id, value) in values {
        fill(client, id, &value.to_string()).await;
    }
}

/// A form that adds up: Blue (a, b), Green g, 10 blank, 5 invalid.
fn paper_form(a: u64, b: u64, g: u64) -> Vec<(&'static str, u64)> {
    let cast = a + b + g + 15;
    vec![
        ("voters", cast),
        ("votes_cast", cast),
        ("blank", 10),
        ("invalid", 5),
        ("lists-0-total", a + b),
        ("lists-0-candidates-0", a),
        ("lists-0-candidates-1", b),
        ("lists-1-total", g),
    ]
}

async fn send_entry(client: &Client) {
    click(client, "#send-entry").await;
    wait_for(client, Locator::Css("h1")).await;
}

/// Confirms shown warnings ("the paper says so") and sends the entry again.
async fn confirm_and_send(client: &Client) {
    wait_for(client, Locator::Id("confirmed"))
        .await
        .click()
        .await
        .unwrap();
    click(client, "#send-entry").await;
    wait_for(client, Locator::Css(".flash")).await;
}

/// An election of `ORGANISATION` released `release_in` seconds from now.
async fn define(app: &TestApp, release_in: i64) -> Timestamp {
    let organisation =
        vigil_server::accounts::store::organisation_by_name(app.db.pool(), ORGANISATION)
            .await
            .unwrap()
            .unwrap();
    // In whole seconds: the release time is shown to people.
    let release =
        Timestamp::from_unix_seconds(Timestamp::now().unix_seconds() + release_in).unwrap();
    let definition = json!({
        "id": ELECTION, "name": "Town council 2031", "date": "2031-05-04",
        "release_at": release.to_string(),
        "apportionment": {"method": "d_hondt", "seats": 7},
        "lists": [{"number": 1, "name": "Blue", "candidates": ["Ada Brown", "Bo Green"]},
                  {"number": 2, "name": "Green"}],
        "districts": [{"id": "centre", "name": "Centre", "polling_stations": [
            {"id": "c-1", "name": "Town hall", "registered_voters": 1200},
            {"id": "c-2", "name": "Library", "registered_voters": 900}]}]
    });
    service::define_election(
        &app.db,
        &Actor::System,
        &organisation.id,
        definition.to_string().as_bytes(),
    )
    .await
    .unwrap();
    release
}

#[tokio::test]
async fn typing_screens_enforce_sign_in_roles_csrf_and_escaping() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    app.user(ORGANISATION, "typist.one", &["typist"]).await;
    app.user(ORGANISATION, "coordinator", &["coordinator"])
        .await;
    app.user(ORGANISATION, "analyst", &["analyst"]).await;
    define(&app, 3600).await;
    let station = format!("/typing/{ELECTION}/c-1");
    let post = |session: &Session, fields: &[(&str, &str)]| {
        app.request("POST", &station)
            .header("cookie", &session.cookie)
            .raw(FORM, form(fields))
    };
    let state = async || {
        vigil_server::results::store::station_states(
            app.db.pool(),
            &vigil_server::results::domain::ElectionId::parse(ELECTION).unwrap(),
        )
        .await
        .unwrap()
        .len()
    };

    // Without a session: to the sign-in page, and back afterwards.
    let anonymous = app.request("GET", "/typing").send().await;
    assert_eq!(anonymous.status, 303);
    assert_eq!(anonymous.header("location"), Some("/login?next=/typing"));

    // Someone without the typist or coordinator role is refused.
    let analyst = app.sign_in("analyst", PASSWORD).await;
    for path in ["/typing", &format!("/typing/{ELECTION}"), &station] {
        let refused = app
            .request("GET", path)
            .header("cookie", &analyst.cookie)
            .send()
            .await;
        assert_eq!(refused.status, 403, "{path}");
    }
    let claim = post(&analyst, &[("csrf", &analyst.csrf), ("action", "claim")])
        .send()
        .await;
    assert_eq!(claim.status, 403);

    // A typist's form without the right CSRF token changes nothing.
    let typist = app.sign_in("typist.one", PASSWORD).await;
    for bad in ["", &"a".repeat(64)] {
        let refused = post(&typist, &[("csrf", bad), ("action", "claim")])
            .send()
            .await;
        assert_eq!(refused.status, 403);
    }
    assert_eq!(state().await, 0, "a refused form stored nothing");
    let claimed = post(&typist, &[("csrf", &typist.csrf), ("action", "claim")])
        .send()
        .await;
    assert_eq!(claimed.status, 303);
    assert_eq!(claimed.header("location"), Some(station.as_str()));

    // What was typed is shown back escaped, with the field's message.
    let echoed = post(
        &typist,
        &[
            ("csrf", &typist.csrf),
            ("action", "finalise"),
            ("voters", "<script>alert(1)</script>"),
        ],
    )
    .send()
    .await;
    assert_eq!(echoed.status, 422);
    let html = echoed.text();
    assert!(!html.contains("<script>alert(1)"));
    assert!(
        html.contains("&lt;script&gt;alert(1)&lt;/script&gt;") || html.contains("&#60;script&#62;"),
        "{html}"
    );
    assert!(html.contains("a whole number, digits only"));

    // A coordinator may not type an entry; an unknown action is refused.
    let coordinator = app.sign_in("coordinator", PASSWORD).await;
    let mut fields: Vec<(&str, String)> = paper_form(330, 230, 400)
        .into_iter()
        .map(|(id, v)| (id, v.to_string()))
        .collect();
    fields.push(("action", "finalise".into()));
    fields.push(("csrf", coordinator.csrf.clone()));
    let named: Vec<(String, String)> = fields
        .iter()
        .map(|(id, v)| (field_name(id), v.clone()))
        .collect();
    let borrowed: Vec<(&str, &str)> = named
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let typed = post(&coordinator, &borrowed).send().await;
    assert_eq!(typed.status, 403, "{}", typed.text());
    let unknown = post(
        &coordinator,
        &[("csrf", &coordinator.csrf), ("action", "publish")],
    )
    .send()
    .await;
    assert_eq!(unknown.status, 422);
    app.stop().await;
}

/// The form field name (the API's path) of an HTML id used in these tests.
fn field_name(id: &str) -> String {
    match id {
        "lists-0-total" => "lists[0].total".into(),
        "lists-0-candidates-0" => "lists[0].candidates[0]".into(),
        "lists-0-candidates-1" => "lists[0].candidates[1]".into(),
        "lists-1-total" => "lists[1].total".into(),
        other => other.into(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn typists_and_coordinator_type_compare_and_publish_in_real_browsers() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    app.user(ORGANISATION, "typist.one", &["typist"]).await;
    app.user(ORGANISATION, "typist.two", &["typist"]).await;
    app.user(ORGANISATION, "coordinator", &["coordinator"])
        .await;
    app.user("Another Office", "outsider", &["typist"]).await;
    let release = define(&app, 40).await;

    let driver = start_driver();
    let base = app.base.clone();
    let one = browser(&driver).await;
    let two = browser(&driver).await;
    let coordinator = browser(&driver).await;
    let public = browser(&driver).await;

    // Before anything is typed the public page is under embargo.
    public
        .goto(&format!("{base}/results/{ELECTION}"))
        .await
        .unwrap();
    wait_for(&public, Locator::Id("embargo-h")).await;
    screenshots(&public, "results-01-embargo").await;

    // The first typist lands on the typing screens (no alert sections).
    sign_in(&one, &base, "typist.one", PASSWORD, "/typing").await;
    let html = page(&one).await;
    assert!(html.contains("Typing results") && !html.contains("Live feed"));
    screenshots(&one, "results-02-typing-elections").await;
    click(&one, &format!("a[href='/typing/{ELECTION}']")).await;
    wait_for(&one, Locator::Id("stations")).await;
    screenshots(&one, "results-03-stations").await;
    click(&one, "#station-c-1 button[type=submit]").await;
    wait_for(&one, Locator::Id("send-entry")).await;

    // A box left empty and a non-number: each field says what is wrong.
    let mut values = paper_form(330, 230, 400);
    values.retain(|(id, _)| *id != "blank");
    type_form(&one, &values).await;
    fill(&one, "lists-1-total", "4OO").await;
    send_entry(&one).await;
    wait_for(&one, Locator::Id("error-summary")).await;
    let html = page(&one).await;
    assert!(html.contains("type the number on the form (0 if the box is empty)"));
    assert!(html.contains("a whole number, digits only"));
    assert!(html.contains("aria-invalid=\"true\""));
    screenshots(&one, "results-04-entry-invalid").await;

    // Figures that add up but look unusual: the warning is shown and the
    // typist confirms that the paper says so.
    let mut unusual = paper_form(330, 230, 400);
    unusual[2].1 = 40; // 40 blank of 1,005 cast: W.201
    unusual[0].1 += 30;
    unusual[1].1 += 30;
    type_form(&one, &unusual).await;
    send_entry(&one).await;
    wait_for(&one, Locator::Id("findings")).await;
    assert!(page(&one).await.contains("W.201"));
    screenshots(&one, "results-05-entry-warning").await;
    confirm_and_send(&one).await;
    assert!(page(&one).await.contains("First entry saved"));

    // The first typist may not type the second entry.
    assert!(
        one.find(Locator::Css("#station-c-1 button[type=submit]"))
            .await
            .is_err(),
        "the first typist was offered the second entry"
    );

    // The second typist sees an empty form (the first entry stays hidden)
    // and slips on one candidate.
    sign_in(&two, &base, "typist.two", PASSWORD, "/typing").await;
    two.goto(&format!("{base}/typing/{ELECTION}"))
        .await
        .unwrap();
    click(&two, "#station-c-1 button[type=submit]").await;
    wait_for(&two, Locator::Id("send-entry")).await;
    let first_value = two
        .find(Locator::Id("lists-0-candidates-0"))
        .await
        .unwrap()
        .prop("value")
        .await
        .unwrap();
    assert_eq!(
        first_value.as_deref(),
        Some(""),
        "the second entry is blind"
    );
    assert!(!page(&two).await.contains("330"));
    let mut slip = unusual.clone();
    slip[5].1 -= 1; // Ada Brown 329 instead of 330
    slip[6].1 += 1; // Bo Green 231 instead of 230
    type_form(&two, &slip).await;
    send_entry(&two).await;
    confirm_and_send(&two).await;
    assert!(page(&two).await.contains("The two entries differ"));

    // Someone of another organisation sees nothing of this election.
    let outsider = browser(&driver).await;
    sign_in(&outsider, &base, "outsider", PASSWORD, "/typing").await;
    outsider
        .goto(&format!("{base}/typing/{ELECTION}/c-1"))
        .await
        .unwrap();
    assert!(page(&outsider).await.contains("no such election"));

    // The coordinator sees the differences field by field and returns the
    // second entry to its typist.
    sign_in(&coordinator, &base, "coordinator", PASSWORD, "/typing").await;
    coordinator
        .goto(&format!("{base}/typing/{ELECTION}"))
        .await
        .unwrap();
    wait_for(&coordinator, Locator::Id("attention")).await;
    click(&coordinator, "#station-c-1 a.button").await;
    wait_for(&coordinator, Locator::Id("resolve-differences")).await;
    let html = page(&coordinator).await;
    assert!(html.contains("2 fields differ"), "{html}");
    assert_eq!(
        coordinator
            .find_all(Locator::Css("tr.differs"))
            .await
            .unwrap()
            .len(),
        2
    );
    assert!(html.contains("330") && html.contains("329"));
    screenshots(&coordinator, "results-06-coordinator-differences").await;
    // Without a decision: a clear message, nothing recorded.
    click(&coordinator, "#resolve-differences button[type=submit]").await;
    wait_for(&coordinator, Locator::Id("decision-error")).await;
    assert!(page(&coordinator).await.contains("choose a decision"));
    click(&coordinator, "input[value=return_second]").await;
    fill(&coordinator, "explanation", "Ada Brown has 330 on the form").await;
    click(&coordinator, "#resolve-differences button[type=submit]").await;
    wait_for(&coordinator, Locator::Css(".flash")).await;
    assert!(page(&coordinator).await.contains("Decision recorded"));

    // The second typist finds the entry returned, prefilled, and corrects it.
    two.goto(&format!("{base}/typing/{ELECTION}/c-1"))
        .await
        .unwrap();
    wait_for(&two, Locator::Id("send-entry")).await;
    assert!(
        page(&two)
            .await
            .contains("A coordinator returned your entry")
    );
    let prefilled = two
        .find(Locator::Id("lists-0-candidates-0"))
        .await
        .unwrap()
        .prop("value")
        .await
        .unwrap();
    assert_eq!(prefilled.as_deref(), Some("329"));
    screenshots(&two, "results-07-correction").await;
    type_form(&two, &unusual).await;
    send_entry(&two).await;
    confirm_and_send(&two).await;
    assert!(page(&two).await.contains("Both entries agree"));

    // The coordinator reads the whole history of the form.
    coordinator
        .goto(&format!("{base}/typing/{ELECTION}/c-1"))
        .await
        .unwrap();
    wait_for(&coordinator, Locator::Id("history")).await;
    let html = page(&coordinator).await;
    for step in ["claim", "finalise", "resolve differences", "typist.two"] {
        assert!(html.contains(step), "history lacks {step}");
    }
    assert!(html.contains("Definitive"));
    screenshots(&coordinator, "results-08-history").await;

    // After the release time the public page shows the figures.
    let wait = release.unix_seconds() - Timestamp::now().unix_seconds() + 1;
    if wait > 0 {
        tokio::time::sleep(Duration::from_secs(wait.unsigned_abs())).await;
    }
    public
        .goto(&format!("{base}/results/{ELECTION}"))
        .await
        .unwrap();
    wait_for(&public, Locator::Id("lists-h")).await;
    let html = page(&public).await;
    assert!(html.contains("1 of 2 polling stations counted"), "{html}");
    // Blue 560 (330 + 230), Green 400: D'Hondt 7 seats gives Blue 4, Green 3.
    assert!(html.contains("<td class=\"numeric\">560</td>"), "{html}");
    assert!(html.contains("<td class=\"numeric\">400</td>"));
    screenshots(&public, "results-09-published").await;
    click(&public, "a[href$='/districts/centre']").await;
    wait_for(&public, Locator::Css("table")).await;
    assert!(page(&public).await.contains("Town hall"));
    screenshots(&public, "results-10-district").await;

    for client in [one, two, coordinator, public, outsider] {
        client.close().await.unwrap();
    }
    app.stop().await;
}
