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
    assert_eq!(rows.len(), 10, "nine demo ads and the one above");
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
    let errors = text_of(&client, "#notice-errors").await;
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
    let versions = text_of(&client, "#versions").await;
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
    let table = text_of(&client, "#spending").await;
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
    let findings = text_of(&client, "table#findings").await;
    for code in ["M.601", "N.101", "S.201", "T.302"] {
        assert!(findings.contains(code), "{code} missing in {findings}");
    }
    screenshots(&client, "ads-04-election").await;

    client.close().await.unwrap();
    app.stop().await;
}

/// Sets a form control's value as the page's own script would (date inputs
/// take typed keys in the browser's locale order).
async fn set_value(client: &fantoccini::Client, id: &str, value: &str) {
    client
        .execute(
            "document.getElementById(arguments[0]).value = arguments[1];",
            vec![serde_json::json!(id), serde_json::json!(value)],
        )
        .await
        .unwrap();
}

async fn text_of(client: &fantoccini::Client, css: &str) -> String {
    client
        .find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("no {css}: {e}"))
        .text()
        .await
        .unwrap()
}

/// A publisher files, corrects and withdraws an ad through the web form,
/// answers a citizen's notice in its queue; a regulator removes an ad; the
/// sponsor's page shows the spending over time. Who may do what is checked
/// over plain HTTP first.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn publishers_file_and_regulators_oversee_ads_in_real_browsers() {
    use common::forms::{FORM, form};
    let app = TestApp::spawn(Backend::Sqlite).await;
    demo::seed(&app.db).await.unwrap();
    let analyst = app
        .user("Rede Nacional", "rede.analyst", &["analyst"])
        .await;

    // Signed out: sent to sign in. Without the filer role: refused.
    let anonymous = app.request("GET", "/ads/new").send().await;
    assert_eq!(anonymous.status, 303);
    let outsider = app.sign_in(&analyst, common::PASSWORD).await;
    let refused = app
        .request("GET", "/ads/new")
        .header("cookie", &outsider.cookie)
        .send()
        .await;
    assert_eq!(refused.status, 403, "{}", refused.text());
    // Another organisation's ad cannot be managed, corrected or withdrawn.
    let some_ad = app.request("GET", "/api/ads?limit=1").send().await.json()["ads"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let manage = app
        .request("GET", &format!("/ads/{some_ad}/manage"))
        .header("cookie", &outsider.cookie)
        .send()
        .await;
    assert_eq!(manage.status, 404);
    let withdraw = app
        .request("POST", &format!("/ads/{some_ad}/withdraw"))
        .header("cookie", &outsider.cookie)
        .raw(
            FORM,
            form(&[("csrf", &outsider.csrf), ("reason", "not mine")]),
        )
        .send()
        .await;
    assert_eq!(withdraw.status, 403, "an analyst is no filer");
    // The filer's forms carry the CSRF token: without it nothing is stored.
    let filer = app.sign_in("jornal.filer", demo::DEMO_PASSWORD).await;
    let before = app.request("GET", "/api/ads?limit=100").send().await.json()["ads"]
        .as_array()
        .unwrap()
        .len();
    let forged = app
        .request("POST", "/ads/new")
        .header("cookie", &filer.cookie)
        .raw(
            FORM,
            form(&[("title", "Forged"), ("csrf", "0".repeat(64).as_str())]),
        )
        .send()
        .await;
    assert_eq!(forged.status, 403);
    let after = app.request("GET", "/api/ads?limit=100").send().await.json()["ads"]
        .as_array()
        .unwrap()
        .len();
    assert_eq!(before, after);

    let driver = start_driver();
    let base = app.base.clone();
    let client = browser(&driver).await;

    // The publisher lands on its ads and opens the filing form.
    sign_in(
        &client,
        &base,
        "jornal.filer",
        demo::DEMO_PASSWORD,
        "/ads/filing",
    )
    .await;
    let own = text_of(&client, "#own-ads").await;
    assert!(own.contains("withdrawn") && own.contains("active"), "{own}");
    click(&client, "#file-new").await;
    wait_for(&client, Locator::Id("ad-form")).await;
    // Sent empty: every missing item is named, beside its field.
    click(&client, "#submit-ad").await;
    wait_for(&client, Locator::Id("form-errors")).await;
    let summary = text_of(&client, "#form-errors").await;
    for field in [
        "title",
        "sponsor.name",
        "publisher.name",
        "countries",
        "period_start",
    ] {
        assert!(summary.contains(field), "{field} in {summary}");
    }
    assert!(client.find(Locator::Id("f-title-error")).await.is_ok());
    screenshots(&client, "ads-05-filing-errors").await;

    // Filled in, with one amount that is no amount: only that is refused,
    // and what was typed is kept.
    fill(&client, "f-title", "Market day concert").await;
    fill(
        &client,
        "f-creative-text",
        "Come to the market day concert of Aliança Verde on 4 October!",
    )
    .await;
    fill(&client, "f-creative-language", "pt").await;
    fill(&client, "f-countries", "PT").await;
    set_value(&client, "f-period_start", "2029-09-20").await;
    set_value(&client, "f-period_end", "2029-10-04").await;
    select(&client, "f-election", "vila-demo-2029").await;
    fill(&client, "f-sponsor-name", "Aliança Verde").await;
    fill(&client, "f-sponsor-country", "PT").await;
    fill(&client, "f-sponsor-email", "geral@alianca-verde.example").await;
    select(
        &client,
        "f-sponsor_declaration",
        "eu_legal_person_not_foreign_controlled",
    )
    .await;
    fill(&client, "f-publisher-name", "Jornal da Vila").await;
    fill(&client, "f-publisher-country", "PT").await;
    fill(&client, "f-spend-amount", "twelve").await;
    fill(&client, "f-spend-method", "invoice, VAT included").await;
    fill(&client, "f-delivery-by_age", "18-34 0.4\n35+ 0.6").await;
    click(&client, "#submit-ad").await;
    wait_for(&client, Locator::Id("f-spend-amount-error")).await;
    let summary = text_of(&client, "#form-errors").await;
    assert!(
        summary.contains("spend.amount") && !summary.contains("title"),
        "only the amount is refused: {summary}"
    );
    let kept = client
        .find(Locator::Id("f-title"))
        .await
        .unwrap()
        .prop("value")
        .await
        .unwrap();
    assert_eq!(kept.as_deref(), Some("Market day concert"));
    fill(&client, "f-spend-amount", "240").await;
    click(&client, "#submit-ad").await;
    wait_for(&client, Locator::Css("p.flash")).await;
    assert!(text_of(&client, "p.flash").await.starts_with("Filed"));
    let manage_url = client.current_url().await.unwrap();
    let id = manage_url.path().split('/').nth(2).unwrap().to_string();
    screenshots(&client, "ads-06-filed").await;

    // A correction: the same id, a new version, prefilled with the ad.
    let amount = client
        .find(Locator::Id("f-spend-amount"))
        .await
        .unwrap()
        .prop("value")
        .await
        .unwrap();
    assert_eq!(amount.as_deref(), Some("240.00"), "the amount as stored");
    fill(&client, "f-spend-amount", "265.50").await;
    click(&client, "#submit-ad").await;
    wait_for(&client, Locator::Css("p.flash")).await;
    assert!(
        text_of(&client, "p.flash")
            .await
            .starts_with("Correction saved")
    );
    let api = app
        .request("GET", &format!("/api/ads/{id}"))
        .send()
        .await
        .json();
    assert_eq!(api["ad"]["version"], 2, "{api}");
    assert_eq!(api["ad"]["content"]["spend"]["amount"], "265.50");
    assert_eq!(api["ad"]["content"]["delivery"]["by_age"][1]["key"], "35+");

    // A citizen reports it on its public page; the publisher answers in its
    // queue (a decision without reasons is refused).
    client.goto(&format!("{base}/ads/{id}")).await.unwrap();
    fill(
        &client,
        "notice-explanation",
        "The concert ad does not say who paid for the stage.",
    )
    .await;
    fill(&client, "notice-name", "Maria Silva").await;
    fill(&client, "notice-email", "maria@example.org").await;
    click(&client, "#send-notice").await;
    eventually("the acknowledgement", || async {
        client
            .current_url()
            .await
            .is_ok_and(|url| url.path().starts_with("/notices/"))
    })
    .await;
    let tracking = client
        .current_url()
        .await
        .unwrap()
        .path()
        .trim_start_matches("/notices/")
        .to_string();
    client.goto(&format!("{base}/ads/notices")).await.unwrap();
    let card = format!("#notice-{tracking}");
    wait_for(&client, Locator::Css(&card)).await;
    let text = text_of(&client, &card).await;
    assert!(
        text.contains("Maria Silva") && text.contains("who paid for the stage"),
        "{text}"
    );
    click(&client, &format!("{card} input[value=uphold]")).await;
    click(&client, &format!("{card} button[type=submit]")).await;
    wait_for(&client, Locator::Id("decide-error")).await;
    assert!(text_of(&client, "#decide-error").await.contains("reasons"));
    click(&client, &format!("{card} input[value=uphold]")).await;
    fill(
        &client,
        &format!("reasons-{tracking}"),
        "The payer is now named in the notice.",
    )
    .await;
    click(&client, &format!("{card} button[type=submit]")).await;
    wait_for(&client, Locator::Css("p.flash")).await;
    screenshots(&client, "ads-07-notices-queue").await;
    let status = app
        .request("GET", &format!("/notices/{tracking}"))
        .send()
        .await
        .text();
    assert!(
        status.contains("upheld") && !status.contains("Maria Silva"),
        "{status}"
    );

    // Withdrawal needs a reason; the ad stays public, marked withdrawn.
    client
        .goto(&format!("{base}/ads/{id}/manage"))
        .await
        .unwrap();
    wait_for(&client, Locator::Id("takedown-form")).await;
    click(&client, "#take-down").await;
    wait_for(&client, Locator::Id("reason-error")).await;
    fill(&client, "reason", "The concert was cancelled.").await;
    click(&client, "#take-down").await;
    wait_for(&client, Locator::Css("p.flash")).await;
    assert_eq!(text_of(&client, "#ad-status").await, "withdrawn");
    assert!(
        client.find(Locator::Id("ad-form")).await.is_err(),
        "no correction of a withdrawn ad"
    );

    // The sponsor's page: spending per month as a chart and a table.
    client.goto(&format!("{base}/ads")).await.unwrap();
    wait_for(&client, Locator::Id("ads")).await;
    client
        .find(Locator::LinkText("Aliança Verde"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for(&client, Locator::Id("months")).await;
    let months = text_of(&client, "#months").await;
    assert!(months.contains("2029-09"), "{months}");
    assert!(
        client
            .find(Locator::Css("svg.chart rect.bar-spend"))
            .await
            .is_ok()
    );
    let elections = text_of(&client, "#elections").await;
    assert!(elections.contains("vila-demo-2029"), "{elections}");
    screenshots(&client, "ads-08-sponsor").await;

    // The regulator lands on the notices and removes an ad with a reason,
    // seeing the findings' evidence.
    client.delete_all_cookies().await.unwrap();
    sign_in(
        &client,
        &base,
        "pt.regulator",
        demo::DEMO_PASSWORD,
        "/ads/notices",
    )
    .await;
    let active = app
        .request("GET", "/api/ads?status=active&election=vila-demo-2029")
        .send()
        .await
        .json();
    let target = active["ads"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["id"] != id.as_str())
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    client
        .goto(&format!("{base}/ads/{target}/manage"))
        .await
        .unwrap();
    wait_for(&client, Locator::Id("takedown-form")).await;
    assert!(
        client.find(Locator::Id("ad-form")).await.is_err(),
        "a regulator does not correct"
    );
    fill(&client, "reason", "Undeclared payer after notice VN-TEST.").await;
    click(&client, "#take-down").await;
    wait_for(&client, Locator::Css("p.flash")).await;
    assert_eq!(text_of(&client, "#ad-status").await, "removed");
    screenshots(&client, "ads-09-removed").await;

    client.close().await.unwrap();
    app.stop().await;
}
