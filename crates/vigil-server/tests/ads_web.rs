//! The public pages of the political-ad repository in a real headless
//! Chromium, over the demo data: search, an ad's notice, findings and
//! history, a removed ad, an election's spending against the limits.
//! Screenshots go to `target/screenshots/`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::browser::*;
use common::{Backend, TestApp};
use fantoccini::Locator;
use vigil_server::demo;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_ad_repository_is_public_searchable_and_explained_in_real_browsers() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    demo::seed(&app.db).await.unwrap();
    // A title with markup is shown as text, never run.
    let filer = vigil_server::accounts::service::principal_of(&app.db, "jornal.filer")
        .await
        .unwrap();
    let mut content: vigil_server::ads::domain::AdContent = serde_json::from_value(serde_json::json!({
        "title": "<script>alert('x')</script> Festa", "sponsor": {"name": "Partido do Mar", "country": "PT", "email": "mar@partido.example"},
        "publisher": {"name": "Jornal da Vila"}, "creative": {"text": "<b>bold</b>", "language": "pt"},
        "countries": ["PT"], "period_start": "2029-10-01", "period_end": "2029-10-02"
    })).unwrap();
    content.check().unwrap();
    vigil_server::ads::service::file(&app.db, &filer, content)
        .await
        .unwrap();
    let html = app.request("GET", "/ads?q=festa").send().await.text();
    assert!(!html.contains("<script>alert"), "{html}");
    assert!(html.contains("&#60;script&#62;alert") || html.contains("&lt;script&gt;alert"));

    // The notice form carries the page's CSRF token like every form.
    let forged = app
        .request(
            "POST",
            "/ads/ad-00000000-0000-0000-0000-000000000000/notices",
        )
        .raw(
            "application/x-www-form-urlencoded",
            b"explanation=x&name=y&email=z%40x".to_vec(),
        )
        .send()
        .await;
    assert_eq!(forged.status, 403);

    let driver = start_driver();
    let base = app.base.clone();
    let client = browser(&driver).await;

    client.goto(&format!("{base}/ads")).await.unwrap();
    wait_for(&client, Locator::Id("ads")).await;
    let rows = client
        .find_all(Locator::Css("#ads tbody tr"))
        .await
        .unwrap();
    assert_eq!(rows.len(), 9, "eight demo ads and the one above");
    screenshots(&client, "ads-01-search").await;

    // Words and a filter: the one ad about the Ribeira.
    fill(&client, "q", "Ribeira").await;
    select(&client, "election", "vila-demo-2029").await;
    click(&client, "form[role=search] button[type=submit]").await;
    wait_for(&client, Locator::Css("#ads a")).await;
    let rows = client
        .find_all(Locator::Css("#ads tbody tr"))
        .await
        .unwrap();
    assert_eq!(rows.len(), 1);
    click(&client, "#ads a").await;
    wait_for(&client, Locator::Id("notice")).await;
    let html = page(&client).await;
    for item in [
        "Sponsor",
        "Aliança Verde",
        "Jornal da Vila",
        "1600.00 EUR",
        "private, from within the Union",
        "invoiced by the publisher",
        "eu legal person not foreign controlled",
        "Municipal Assembly of Vila Demo 2029",
    ] {
        assert!(html.contains(item), "the notice lacks {item}");
    }
    assert!(
        html.contains("No rule finds anything"),
        "a complete ad has no findings"
    );
    screenshots(&client, "ads-02-notice").await;

    // A citizen reports the ad (Art. 15): an empty form names what is
    // missing; a complete one is acknowledged at once with a tracking number.
    let ad_page = client.current_url().await.unwrap();
    click(&client, "#send-notice").await;
    wait_for(&client, Locator::Id("notice-errors")).await;
    let errors = client
        .find(Locator::Id("notice-errors"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        errors.contains("3 fields") && errors.contains("your name is required"),
        "{errors}"
    );
    fill(
        &client,
        "notice-explanation",
        "The ad targets people from age 16, below the voting age of 18.",
    )
    .await;
    fill(&client, "notice-name", "Maria Silva").await;
    fill(&client, "notice-email", "maria.silva@example.org").await;
    click(&client, "#send-notice").await;
    let tracking = wait_for(&client, Locator::Id("tracking"))
        .await
        .text()
        .await
        .unwrap();
    assert!(tracking.starts_with("VN-"), "{tracking}");
    let html = page(&client).await;
    assert!(
        html.contains("received and acknowledged")
            && !html.contains("Maria")
            && !html.contains("maria.silva")
    );
    screenshots(&client, "ads-02b-notice-acknowledged").await;
    client.goto(ad_page.as_str()).await.unwrap();

    // The corrected ad shows both versions, newest first.
    client
        .goto(&format!("{base}/ads?q=transportes"))
        .await
        .unwrap();
    click(&client, "#ads a").await;
    wait_for(&client, Locator::Id("versions")).await;
    let versions = client
        .find(Locator::Id("versions"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        versions.contains("version 2: corrected") && versions.contains("version 1: filed"),
        "{versions}"
    );
    assert!(
        versions.contains("1100.00 EUR") && versions.contains("950.50 EUR"),
        "{versions}"
    );
    screenshots(&client, "ads-03-history").await;

    // The removed ad stays visible, with the regulator's reason and its finding.
    client
        .goto(&format!("{base}/ads?status=removed"))
        .await
        .unwrap();
    click(&client, "#ads a").await;
    wait_for(&client, Locator::Id("findings")).await;
    let html = page(&client).await;
    assert!(
        html.contains(">removed<") && html.contains("No declaration under Art. 5(2)"),
        "{html}"
    );
    assert!(html.contains("S.201"));

    // The election: spending against the limits, with an SVG chart.
    client
        .goto(&format!("{base}/ads/elections/vila-demo-2029"))
        .await
        .unwrap();
    wait_for(&client, Locator::Id("spending")).await;
    let table = client
        .find(Locator::Id("spending"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        table.contains("Aliança Verde")
            && table.contains("2850.00 EUR")
            && table.contains("above the limit"),
        "{table}"
    );
    assert!(table.contains("within the limit"), "{table}");
    assert!(
        client
            .find(Locator::Css("svg#spending-chart, svg.chart"))
            .await
            .is_ok()
    );
    let findings = client
        .find(Locator::Css("table#findings"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for code in ["M.601", "N.101", "S.201", "T.302"] {
        assert!(findings.contains(code), "{code} missing in {findings}");
    }
    screenshots(&client, "ads-04-election").await;

    client.close().await.unwrap();
    app.stop().await;
}
