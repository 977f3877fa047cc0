//! The analysts' web interface in a real headless Chromium (Debian's
//! `chromium` and `chromium-driver`, which `scripts/test` installs), driven
//! over WebDriver, against the real server with the demo data. Screenshots
//! of the main pages go to `target/screenshots/` (CI artefacts).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::browser::*;
use common::forms::*;
use common::{Backend, TestApp};
use fantoccini::Locator;
use vigil_server::accounts::service::{self as accounts, NewUser};
use vigil_server::alerts::service as alerts;
use vigil_server::core::audit::Actor;
use vigil_server::demo::{self, DEMO_PASSWORD};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn analysts_raise_acknowledge_and_release_an_alert_in_real_browsers() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    demo::seed(&app.db).await.unwrap();
    // An organisation that reads the FIMI collection but is outside its
    // AMBER sharing: its user holds a personal read grant, the organisation none.
    let regulator = accounts::create_user(
        &app.db,
        &Actor::System,
        NewUser {
            organisation: "Audiovisual Media Regulator".into(),
            username: "regulator".into(),
            password: DEMO_PASSWORD.into(),
            roles: vec!["reader".into()],
            display_name: None,
            email: None,
        },
    )
    .await
    .unwrap();
    alerts::set_membership(
        &app.db,
        &Actor::System,
        "eu-ras",
        regulator.organisation_id.as_str(),
        true,
    )
    .await
    .unwrap();
    let fimi = vigil_server::alerts::store::collections_of(
        app.db.pool(),
        &vigil_server::alerts::domain::CommunityId::parse("eu-ras").unwrap(),
    )
    .await
    .unwrap()
    .into_iter()
    .find(|c| c.alias.as_deref() == Some("ee2029-fimi"))
    .unwrap();
    alerts::set_grant(
        &app.db,
        &Actor::System,
        fimi.id.as_str(),
        regulator.id.as_str(),
        true,
        false,
    )
    .await
    .unwrap();

    let driver = start_driver();
    let base = app.base.clone();
    let estonia = browser(&driver).await;
    let portugal = browser(&driver).await;
    let outsider = browser(&driver).await;

    // The login page, then a wrong password: a clear message, nothing else.
    estonia.goto(&format!("{base}/login")).await.unwrap();
    screenshots(&estonia, "01-login").await;
    fill(&estonia, "username", "ee.analyst").await;
    fill(&estonia, "password", "wrong password").await;
    click(&estonia, "form.stack button[type=submit]").await;
    wait_for(&estonia, Locator::Id("login-error")).await;
    assert!(page(&estonia).await.contains("wrong username or password"));

    login(&estonia, &base, "ee.analyst").await;
    login(&portugal, &base, "pt.analyst").await;
    login(&outsider, &base, "regulator").await;
    // Portugal watches its feed from now on, without reloading.
    wait_for(&portugal, Locator::Css("#live-status.connected")).await;
    screenshots(&portugal, "02-feed").await;

    // Estonia composes: first with a mistake, which is named while
    // everything typed stays.
    estonia.goto(&format!("{base}/alerts/new")).await.unwrap();
    let title = "Deepfake audio of a candidate circulates on Telegram";
    fill(&estonia, "title", title).await;
    fill(
        &estonia,
        "summary",
        "A fabricated recording attributed to a candidate spreads through Telegram channels and mirrored news sites.",
    )
    .await;
    fill(&estonia, "campaign", "Fabricated candidate audio").await;
    fill(&estonia, "countries", "EE, Latvia").await;
    fill(&estonia, "elections", "European Parliament election 2029").await;
    fill(&estonia, "platforms", "Telegram").await;
    fill(&estonia, "urls", "https://mirror-news.example/audio-leak").await;
    fill(
        &estonia,
        "accounts",
        "telegram:@leak_channel_ee\ntwitter:amplifier_01",
    )
    .await;
    fill(&estonia, "domains", "mirror-news.example").await;
    select(&estonia, "level", "urgent").await;
    select(&estonia, "tlp", "amber").await;
    // Two DISARM techniques from the picker, by id and by name.
    for (query, id) in [("T0086", "T0086"), ("inauthentic news", "T0098")] {
        fill(&estonia, "technique-search", query).await;
        let button = format!("#technique-results button[data-technique='{id}']");
        wait_for(&estonia, Locator::Css(&button))
            .await
            .click()
            .await
            .unwrap();
    }
    let chosen = estonia
        .find(Locator::Id("techniques"))
        .await
        .unwrap()
        .prop("value")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(chosen, "T0086, T0098");
    click(&estonia, "button[name=action][value=publish]").await;
    wait_for(&estonia, Locator::Id("error-summary")).await;
    let invalid = page(&estonia).await;
    assert!(invalid.contains("use two-letter country codes (ISO 3166-1), not: LATVIA"));
    for typed in [
        title,
        "leak_channel_ee",
        "mirror-news.example/audio-leak",
        "T0086, T0098",
    ] {
        assert!(invalid.contains(typed), "the form lost {typed:?}");
    }
    screenshots(&estonia, "03-compose-invalid").await;
    fill(&estonia, "countries", "EE, LV").await;
    click(&estonia, "button[name=action][value=publish]").await;
    wait_for(&estonia, Locator::Css("article.report")).await;
    let url = estonia.current_url().await.unwrap();
    let report_id = url
        .path()
        .strip_prefix("/reports/")
        .expect("publishing shows the report")
        .to_string();
    let published = page(&estonia).await;
    assert!(published.contains("TLP:AMBER"));
    assert!(published.contains("T0086") && published.contains("T0098"));

    // Portugal's feed shows it without a reload, with its badge and techniques.
    let card = format!("article[data-report='{report_id}']");
    eventually("the alert in Portugal's live feed", || async {
        portugal.find(Locator::Css(&card)).await.is_ok()
    })
    .await;
    let shown = portugal
        .find(Locator::Css(&card))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        shown.contains(title) && shown.contains("TLP:AMBER"),
        "{shown}"
    );
    assert!(
        shown.contains("T0086") && shown.contains("T0098"),
        "{shown}"
    );
    assert!(shown.contains("awaiting your acknowledgement"), "{shown}");
    screenshots(&portugal, "04-feed-live").await;

    // Portugal opens and acknowledges it.
    click(&portugal, &format!("{card} h3 a")).await;
    wait_for(&portugal, Locator::Id("acknowledge"))
        .await
        .click()
        .await
        .unwrap();
    wait_for(&portugal, Locator::Id("acknowledged")).await;

    // Estonia's report page shows the acknowledgement as it happens.
    eventually("Portugal's acknowledgement on Estonia's page", || async {
        let html = page(&estonia).await;
        html.contains("Portuguese National Contact Point") && html.contains("1 of ")
    })
    .await;
    screenshots(&estonia, "05-report-acknowledged").await;

    // Estonia publishes an update; the page shows what changed.
    click(&estonia, "a[href$='/edit']").await;
    let updated_title = format!("{title} (second wave)");
    fill(&estonia, "title", &updated_title).await;
    fill(
        &estonia,
        "domains",
        "mirror-news.example\nmirror-news-2.example",
    )
    .await;
    click(&estonia, "button[name=action][value=update]").await;
    wait_for(&estonia, Locator::Css("table.diff")).await;
    let diff = estonia
        .find(Locator::Css("table.diff"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        diff.contains(&updated_title) && diff.contains("mirror-news-2.example"),
        "{diff}"
    );
    assert_eq!(
        estonia.current_url().await.unwrap().path(),
        format!("/reports/{report_id}"),
        "an update is a new version of the same report"
    );
    screenshots(&estonia, "05b-report-updated").await;

    // Estonia releases a sanitised version to the fact-checkers.
    click(&estonia, "a[href$='/release']").await;
    wait_for(&estonia, Locator::Id("target")).await;
    let released_collection = vigil_server::alerts::store::collections_of(
        app.db.pool(),
        &vigil_server::alerts::domain::CommunityId::parse("fact-check").unwrap(),
    )
    .await
    .unwrap()
    .into_iter()
    .find(|c| c.alias.as_deref() == Some("released"))
    .unwrap();
    select(
        &estonia,
        "target",
        &format!("fact-check/{}", released_collection.id.as_str()),
    )
    .await;
    select(&estonia, "release-tlp", "green").await;
    click(&estonia, "form.inline-form button[type=submit]").await;
    let removed = wait_for(&estonia, Locator::Id("removed"))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        removed.contains("leak_channel_ee") && removed.contains("amplifier_01"),
        "{removed}"
    );
    assert!(removed.contains("personal data: an account"), "{removed}");
    screenshots(&estonia, "06-release-preview").await;
    click(&estonia, "#confirm-release").await;
    wait_for(&estonia, Locator::Css("p.flash")).await;
    assert!(page(&estonia).await.contains("Released"));

    // The fact-checker sees the released version, without the accounts.
    let checker = browser(&driver).await;
    login(&checker, &base, "factchecker").await;
    let cards = checker
        .find_all(Locator::Css("article.card"))
        .await
        .unwrap();
    let mut released_link = None;
    for card in cards {
        let text = card.text().await.unwrap();
        if text.contains(&updated_title) {
            assert!(text.contains("released version") && text.contains("TLP:GREEN"));
            released_link = Some(
                card.find(Locator::Css("h3 a"))
                    .await
                    .unwrap()
                    .attr("href")
                    .await
                    .unwrap()
                    .unwrap(),
            );
        }
    }
    let released_link = released_link.expect("the released version in the fact-checker's feed");
    assert!(!released_link.contains(&report_id));
    screenshots(&checker, "07-factchecker-feed").await;
    checker
        .goto(&format!("{base}{released_link}"))
        .await
        .unwrap();
    wait_for(&checker, Locator::Id("related")).await;
    let released = page(&checker).await;
    assert!(released.contains("mirror-news.example"));
    assert!(!released.contains("leak_channel_ee") && !released.contains("amplifier_01"));
    assert!(
        checker
            .find_all(Locator::Css("#related tr[data-type='user-account']"))
            .await
            .unwrap()
            .is_empty()
    );
    screenshots(&checker, "08-released-report").await;

    // The organisation outside the AMBER sharing never saw it: not live,
    // not after a reload, not by its address.
    assert!(outsider.find(Locator::Css(&card)).await.is_err());
    outsider.refresh().await.unwrap();
    wait_for(&outsider, Locator::Id("feed")).await;
    assert!(!page(&outsider).await.contains(title));
    outsider
        .goto(&format!("{base}/reports/{report_id}"))
        .await
        .unwrap();
    let refused = page(&outsider).await;
    assert!(refused.contains("no such report, or you may not see it"));
    assert!(!refused.contains(title));

    // The other main pages, for the record.
    estonia.goto(&format!("{base}/dashboard")).await.unwrap();
    wait_for(&estonia, Locator::Css("svg.chart")).await;
    screenshots(&estonia, "09-dashboard").await;
    estonia
        .goto(&format!("{base}/search?q=telegram"))
        .await
        .unwrap();
    assert!(page(&estonia).await.contains(title));
    screenshots(&estonia, "10-search").await;
    estonia.goto(&format!("{base}/tokens")).await.unwrap();
    screenshots(&estonia, "11-tokens").await;

    for client in [estonia, portugal, outsider, checker] {
        client.close().await.unwrap();
    }
    drop(driver);
    app.stop().await;
}

// ---------- the same pages over plain HTTP: security properties ----------

#[tokio::test]
async fn pages_enforce_sign_in_csrf_escaping_and_security_headers() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    demo::seed(&app.db).await.unwrap();

    // Pages need a session: to the sign-in page, coming back afterwards.
    let anonymous = app.request("GET", "/feed?level=urgent").send().await;
    assert_eq!(anonymous.status, 303);
    assert_eq!(
        anonymous.header("location"),
        Some("/login?next=/feed%3Flevel%3Durgent")
    );
    // API credentials do not open pages.
    let basic = app
        .request("GET", "/feed")
        .basic("ee.analyst", DEMO_PASSWORD)
        .send()
        .await;
    assert_eq!(basic.status, 303);

    let login_page = app.request("GET", "/login").send().await;
    assert_eq!(login_page.status, 200);
    let csrf_cookie = set_cookie(&login_page, "vigil_csrf").unwrap();
    assert!(csrf_cookie.contains("HttpOnly") && csrf_cookie.contains("SameSite=Strict"));
    let csp = login_page.header("content-security-policy").unwrap();
    assert!(csp.contains("default-src 'self'") && csp.contains("frame-ancestors 'none'"));
    assert_eq!(login_page.header("x-frame-options"), Some("DENY"));
    assert!(login_page.text().contains("<html lang=\"en\">"));
    let token = csrf_field(&login_page.text());
    let cookie = cookie_pair(csrf_cookie).to_string();

    // A form without the right token is refused and signs no one in.
    for bad in ["", "0000", &"a".repeat(64)] {
        let refused = app
            .request("POST", "/login")
            .header("cookie", &cookie)
            .raw(
                FORM,
                form(&[
                    ("username", "ee.analyst"),
                    ("password", DEMO_PASSWORD),
                    ("csrf", bad),
                ]),
            )
            .send()
            .await;
        assert_eq!(refused.status, 403, "token {bad:?}");
        assert!(set_cookie(&refused, "vigil_session").is_none());
    }
    // A token is bound to its cookie: another browser's cookie fails.
    let other = app.request("GET", "/login").send().await;
    let other_cookie = cookie_pair(set_cookie(&other, "vigil_csrf").unwrap()).to_string();
    let crossed = app
        .request("POST", "/login")
        .header("cookie", &other_cookie)
        .raw(
            FORM,
            form(&[
                ("username", "ee.analyst"),
                ("password", DEMO_PASSWORD),
                ("csrf", &token),
            ]),
        )
        .send()
        .await;
    assert_eq!(crossed.status, 403);
    // A wrong password: the form again with a message, status 401.
    let wrong = app
        .request("POST", "/login")
        .header("cookie", &cookie)
        .raw(
            FORM,
            form(&[
                ("username", "ee.analyst"),
                ("password", "nope"),
                ("csrf", &token),
            ]),
        )
        .send()
        .await;
    assert_eq!(wrong.status, 401);
    assert!(wrong.text().contains("wrong username or password"));
    // Signing in: a session cookie, HttpOnly and SameSite.
    let signed_in = app
        .request("POST", "/login")
        .header("cookie", &cookie)
        .raw(
            FORM,
            form(&[
                ("username", "ee.analyst"),
                ("password", DEMO_PASSWORD),
                ("csrf", &token),
                ("next", "//evil.example/"),
            ]),
        )
        .send()
        .await;
    assert_eq!(signed_in.status, 303);
    // The home page, which sends each user on to their own section.
    assert_eq!(
        signed_in.header("location"),
        Some("/"),
        "never redirected to another site"
    );
    let session = set_cookie(&signed_in, "vigil_session").unwrap();
    assert!(session.contains("HttpOnly") && session.contains("SameSite=Lax"));
    let cookies = format!("{cookie}; {}", cookie_pair(session));

    let compose = app
        .request("GET", "/alerts/new")
        .header("cookie", &cookies)
        .send()
        .await;
    assert_eq!(compose.status, 200);
    let token = csrf_field(&compose.text());
    let collection = {
        let html = compose.text();
        let start = html.find("<option value=\"eu-ras/").unwrap() + 15;
        let end = start + html[start..].find('"').unwrap();
        html[start..end].to_string()
    };
    let hostile = "<script>alert('x')</script> & \"quotes\"";
    let fields = |csrf: &str| {
        form(&[
            ("collection", &collection),
            ("title", hostile),
            ("summary", "<img src=x onerror=alert(1)>"),
            ("level", "alert"),
            ("tlp", "amber"),
            ("action", "publish"),
            ("csrf", csrf),
        ])
    };
    // Without the token: refused, nothing stored.
    let count = || async {
        sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM alerts")
            .fetch_one(app.db.pool())
            .await
            .unwrap()
    };
    let alerts_before = count().await;
    let refused = app
        .request("POST", "/alerts/new")
        .header("cookie", &cookies)
        .raw(FORM, fields(""))
        .send()
        .await;
    assert_eq!(refused.status, 403);
    assert_eq!(count().await, alerts_before);
    // A cross-site form post is refused before it reaches the page.
    let cross_site = app
        .request("POST", "/alerts/new")
        .header("cookie", &cookies)
        .header("sec-fetch-site", "cross-site")
        .header("origin", "https://evil.example")
        .raw(FORM, fields(&token))
        .send()
        .await;
    assert_eq!(cross_site.status, 403);
    assert_eq!(count().await, alerts_before);
    // With it: published, and shown escaped.
    let published = app
        .request("POST", "/alerts/new")
        .header("cookie", &cookies)
        .raw(FORM, fields(&token))
        .send()
        .await;
    assert_eq!(published.status, 303, "{}", published.text());
    assert_eq!(count().await, alerts_before + 1);
    let location = published.header("location").unwrap().to_string();
    assert!(location.starts_with("/reports/report--"));
    let shown = app
        .request("GET", location.split('?').next().unwrap())
        .header("cookie", &cookies)
        .send()
        .await
        .text();
    let start = shown.find("<h1>").unwrap();
    assert!(
        shown
            .contains("&#60;script&#62;alert(&#39;x&#39;)&#60;/script&#62; &#38; &#34;quotes&#34;"),
        "{}",
        &shown[start..start + 200]
    );
    assert!(!shown.contains("<script>alert"));
    assert!(!shown.contains("<img src=x"));
    for page in ["/feed", "/feed/items", "/search?q=quotes", "/dashboard"] {
        let html = app
            .request("GET", page)
            .header("cookie", &cookies)
            .send()
            .await;
        assert_eq!(html.status, 200, "{page}");
        assert!(!html.text().contains("<script>alert"), "{page}");
    }

    // Signing out ends the session.
    let out = app
        .request("POST", "/logout")
        .header("cookie", &cookies)
        .raw(FORM, form(&[("csrf", &token)]))
        .send()
        .await;
    assert_eq!(out.status, 303);
    let after = app
        .request("GET", "/feed")
        .header("cookie", &cookies)
        .send()
        .await;
    assert_eq!(after.status, 303);
    app.stop().await;
}
