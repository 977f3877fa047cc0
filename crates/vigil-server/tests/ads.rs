//! The political-ad repository over real HTTP on every backend: the
//! elections calendar, filing with per-field errors, corrections that keep
//! the same id, withdrawal and removal that keep the ad visible with its
//! whole history, public search with filters and stable cursors, bulk
//! downloads, and the log verifying afterwards.
#![allow(clippy::unwrap_used, clippy::expect_used)]
mod common;

use common::{Backend, PASSWORD, TestApp, backends};
use serde_json::{Value, json};

fn filing(title: &str, amount: &str) -> Value {
    json!({
        "title": title,
        "sponsor": {"name": "Green Future Party", "registry_id": "EE-80012345", "country": "EE"},
        "payer": {"name": "Green Future Foundation", "country": "EE"},
        "publisher": {"name": "Tallinn Daily Online", "country": "EE"},
        "sponsor_declaration": "eu_legal_person_not_foreign_controlled",
        "election": "ee-ep-2029",
        "creative": {"text": format!("{title}: clean rivers, clean future. Vote on 7 June."), "language": "et"},
        "countries": ["EE"],
        "period_start": "2029-05-01", "period_end": "2029-06-06",
        "spend": {"currency": "EUR", "amount": amount, "origin": "private", "source": "eu", "method": "invoiced amount, VAT included"},
        "targeting": {"used": true, "criteria_included": ["Tallinn"], "personal_data_categories": ["location"], "minimum_age": 18, "consent_basis": "explicit_consent"}
    })
}

/// The fields a 422 answer names, in order.
fn fields_of(response: &common::Response) -> Vec<String> {
    response.json()["error"]["fields"]
        .as_array()
        .unwrap_or_else(|| panic!("no fields in {}", response.text()))
        .iter()
        .map(|f| f["field"].as_str().unwrap().to_string())
        .collect()
}

/// One field (a JSON pointer) of each ad a public search finds, in order.
async fn found(app: &TestApp, query: &str, pointer: &str) -> Vec<String> {
    let response = app
        .request("GET", &format!("/api/ads?{query}"))
        .send()
        .await;
    assert_eq!(response.status, 200, "{query}: {}", response.text());
    response.json()["ads"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.pointer(pointer).unwrap().as_str().unwrap().to_string())
        .collect()
}

/// The titles of the ads a public search finds, in order.
async fn titles(app: &TestApp, query: &str) -> Vec<String> {
    found(app, query, "/content/title").await
}

/// The ids of the ads a public search finds, in order.
async fn ids(app: &TestApp, query: &str) -> Vec<String> {
    found(app, query, "/id").await
}

async fn story(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let regulator = app
        .user("Electoral Commission", "regulator", &["regulator"])
        .await;
    let filer = app.user("Tallinn Daily Online", "filer", &["filer"]).await;
    let rival = app.user("Riga Radio", "rival", &["filer"]).await;
    let reader = app
        .user("Tallinn Daily Online", "reader", &["reader"])
        .await;

    // The calendar: regulators only, every fault named.
    let election = json!({"id": "ee-ep-2029", "name": "European Parliament 2029 (Estonia)", "kind": "election", "date": "2029-06-07", "country": "EE"});
    let refused = app
        .request("POST", "/api/ads/elections")
        .basic(&filer, PASSWORD)
        .json(&election)
        .send()
        .await;
    assert_eq!(refused.status, 403);
    let bad = app
        .request("POST", "/api/ads/elections")
        .basic(&regulator, PASSWORD)
        .json(&json!({"id": "EE 2029", "name": "", "kind": "vote", "date": "7 June", "country": "Estonia"}))
        .send()
        .await;
    assert_eq!(bad.status, 422);
    let fields = fields_of(&bad);
    assert_eq!(fields, ["id", "name", "kind", "date", "country"]);
    let saved = app
        .request("POST", "/api/ads/elections")
        .basic(&regulator, PASSWORD)
        .json(&election)
        .send()
        .await;
    assert_eq!(saved.status, 200, "{}", saved.text());
    let calendar = app.request("GET", "/api/ads/elections").send().await.json();
    assert_eq!(calendar[0]["id"], "ee-ep-2029");

    // Filing: sign-in and the filer role; every faulty field named; money
    // never as a float; an election must be in the calendar.
    assert_eq!(
        app.request("POST", "/api/ads")
            .json(&filing("A", "10"))
            .send()
            .await
            .status,
        401
    );
    assert_eq!(
        app.request("POST", "/api/ads")
            .basic(&reader, PASSWORD)
            .json(&filing("A", "10"))
            .send()
            .await
            .status,
        403
    );
    let mut invalid = filing("", "1.234,00");
    invalid["countries"] = json!(["Estonia"]);
    invalid["election"] = "ee-2031".into();
    let refused = app
        .request("POST", "/api/ads")
        .basic(&filer, PASSWORD)
        .json(&invalid)
        .send()
        .await;
    assert_eq!(refused.status, 422, "{}", refused.text());
    let fields = fields_of(&refused);
    assert_eq!(
        fields,
        ["title", "countries[0]", "spend.amount", "election"]
    );
    let mut float = filing("A", "10");
    float["spend"]["amount"] = json!(10.5);
    let refused = app
        .request("POST", "/api/ads")
        .basic(&filer, PASSWORD)
        .json(&float)
        .send()
        .await;
    assert_eq!(refused.status, 422, "{}", refused.text());
    assert_eq!(
        app.request("GET", "/api/ads").send().await.json()["ads"],
        json!([]),
        "nothing stored"
    );

    let filed = app
        .request("POST", "/api/ads")
        .basic(&filer, PASSWORD)
        .json(&filing("Rivers", "1200"))
        .send()
        .await;
    assert_eq!(filed.status, 201, "{}", filed.text());
    let ad = filed.json();
    let id = ad["id"].as_str().unwrap().to_string();
    assert!(id.starts_with("ad-"));
    assert_eq!(
        ad["content"]["spend"]["amount"], "1200.00",
        "canonical amount"
    );
    assert_eq!(ad["status"], "active");

    // A correction is a new version of the same id; only the filer's
    // organisation may make it, and it must change something.
    let corrected_body = filing("Rivers", "1350.50");
    let other = app
        .request("PUT", &format!("/api/ads/{id}"))
        .basic(&rival, PASSWORD)
        .json(&corrected_body)
        .send()
        .await;
    assert_eq!(other.status, 404);
    let corrected = app
        .request("PUT", &format!("/api/ads/{id}"))
        .basic(&filer, PASSWORD)
        .json(&corrected_body)
        .send()
        .await;
    assert_eq!(corrected.status, 200, "{}", corrected.text());
    assert_eq!(corrected.json()["version"], 2);
    let same = app
        .request("PUT", &format!("/api/ads/{id}"))
        .basic(&filer, PASSWORD)
        .json(&corrected_body)
        .send()
        .await;
    assert_eq!(same.status, 409);

    // Withdrawal needs a reason; afterwards the ad no longer changes but
    // stays readable with its whole history.
    let no_reason = app
        .request("POST", &format!("/api/ads/{id}/withdraw"))
        .basic(&filer, PASSWORD)
        .json(&json!({"reason": " "}))
        .send()
        .await;
    assert_eq!(no_reason.status, 422);
    let withdrawn = app
        .request("POST", &format!("/api/ads/{id}/withdraw"))
        .basic(&filer, PASSWORD)
        .json(&json!({"reason": "The campaign ended early."}))
        .send()
        .await;
    assert_eq!(withdrawn.json()["status"], "withdrawn");
    let after = app
        .request("PUT", &format!("/api/ads/{id}"))
        .basic(&filer, PASSWORD)
        .json(&filing("Rivers", "1"))
        .send()
        .await;
    assert_eq!(after.status, 409);
    let history = app
        .request("GET", &format!("/api/ads/{id}"))
        .send()
        .await
        .json();
    assert_eq!(history["ad"]["status_reason"], "The campaign ended early.");
    let changes: Vec<&str> = history["versions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["change"].as_str().unwrap())
        .collect();
    assert_eq!(changes, ["filed", "corrected", "withdrawn"]);
    assert_eq!(
        history["versions"][0]["content"]["spend"]["amount"], "1200.00",
        "the first version is kept"
    );
    assert_eq!(
        history["versions"][1]["content"]["spend"]["amount"],
        "1350.50"
    );

    // More ads, one of them removed by the regulator.
    let mut ids = Vec::new();
    for (n, amount) in ["100", "250", "5000", "75.25", "800"].iter().enumerate() {
        let mut body = filing(&format!("Ad {n}"), amount);
        if n == 2 {
            body["creative"]["language"] = "en".into();
            body["countries"] = json!(["EE", "LV"]);
            body["targeting"]["personal_data_categories"] = json!(["interests"]);
        }
        let response = app
            .request("POST", "/api/ads")
            .basic(&filer, PASSWORD)
            .json(&body)
            .send()
            .await;
        assert_eq!(response.status, 201);
        ids.push(response.json()["id"].as_str().unwrap().to_string());
    }
    let not_regulator = app
        .request("POST", &format!("/api/ads/{}/remove", ids[1]))
        .basic(&rival, PASSWORD)
        .json(&json!({"reason": "x"}))
        .send()
        .await;
    assert_eq!(not_regulator.status, 403);
    let removed = app
        .request("POST", &format!("/api/ads/{}/remove", ids[1]))
        .basic(&regulator, PASSWORD)
        .json(&json!({"reason": "No Art. 5(2) declaration within three months of the election."}))
        .send()
        .await;
    assert_eq!(removed.json()["status"], "removed", "{}", removed.text());

    // Public search: words, filters, spend ranges, targeting categories.
    assert_eq!(titles(&app, "q=ad%203").await, ["Ad 3"]);
    assert_eq!(
        titles(&app, "q=FOUNDATION%20rivers&limit=100").await.len(),
        6,
        "names are searched, case-insensitively"
    );
    assert_eq!(titles(&app, "language=en").await, ["Ad 2"]);
    assert_eq!(titles(&app, "country=LV").await, ["Ad 2"]);
    assert_eq!(titles(&app, "targeting=interests").await, ["Ad 2"]);
    assert_eq!(titles(&app, "status=removed").await, ["Ad 1"]);
    assert_eq!(titles(&app, "status=withdrawn").await, ["Rivers"]);
    assert_eq!(
        titles(&app, "currency=EUR&spend_min=1000").await,
        ["Ad 2", "Rivers"]
    );
    assert_eq!(
        titles(&app, "currency=EUR&spend_min=75.25&spend_max=100").await,
        ["Ad 3", "Ad 0"]
    );
    assert_eq!(
        titles(
            &app,
            "sponsor=Green%20Future%20Party&election=ee-ep-2029&from=2029-06-01&to=2029-06-30"
        )
        .await
        .len(),
        6
    );
    assert!(
        titles(&app, "from=2029-06-07").await.is_empty(),
        "every ad ends on 6 June"
    );
    let bad = app
        .request(
            "GET",
            "/api/ads?spend_min=10&status=gone&cursor=nope&from=June",
        )
        .send()
        .await;
    assert_eq!(bad.status, 422);
    let fields = fields_of(&bad);
    assert_eq!(fields, ["status", "spend_min", "cursor", "from"]);

    // Stable cursors: pages of two walk every ad once, newest first.
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/api/ads?limit=2&cursor={c}"),
            None => "/api/ads?limit=2".into(),
        };
        let page = app.request("GET", &path).send().await.json();
        seen.extend(
            page["ads"]
                .as_array()
                .unwrap()
                .iter()
                .map(|a| a["id"].as_str().unwrap().to_string()),
        );
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_string()),
            None => break,
        }
    }
    let mut expected: Vec<String> = std::iter::once(id.clone())
        .chain(ids.iter().cloned())
        .collect();
    expected.reverse();
    assert_eq!(seen, expected);

    // Bulk downloads, streamed, with the same filters.
    let jsonl = app.request("GET", "/api/ads/export.jsonl").send().await;
    assert_eq!(jsonl.status, 200);
    assert!(
        jsonl
            .header("content-type")
            .unwrap()
            .starts_with("application/x-ndjson")
    );
    let lines: Vec<Value> = jsonl
        .text()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 6);
    let csv = app
        .request("GET", "/api/ads/export.csv?status=active")
        .send()
        .await
        .text();
    let rows: Vec<&str> = csv.lines().collect();
    assert!(
        rows[0].starts_with("id,version,status,status_reason,title,sponsor"),
        "{csv}"
    );
    assert_eq!(rows.len(), 1 + 4, "the header and the four active ads");
    assert!(csv.contains(",EUR,75.25,75.25,75.25,private,eu,"), "{csv}");

    // Compliance: findings with their rule and legal reference, the
    // evidence for regulators only, evaluated on the data as it is now.
    let public = app
        .request("GET", &format!("/api/ads/{}/findings", ids[0]))
        .send()
        .await
        .json();
    assert_eq!(public["findings"][0]["code"], "N.101", "{public}");
    assert_eq!(
        public["findings"][0]["legal_reference"],
        "Regulation (EU) 2024/900, Art. 12(1)(a)"
    );
    assert!(public["findings"][0].get("evidence").is_none());
    let full = app
        .request("GET", &format!("/api/ads/{}/findings", ids[0]))
        .basic(&regulator, PASSWORD)
        .send()
        .await
        .json();
    assert!(
        full["findings"][0]["evidence"]
            .as_str()
            .unwrap()
            .contains("Green Future Party")
    );
    let wrong = app
        .request("GET", &format!("/api/ads/{}/findings", ids[0]))
        .basic(&regulator, "wrong")
        .send()
        .await;
    assert_eq!(
        wrong.status, 401,
        "wrong credentials are not read as anonymous"
    );

    // Spending limits: 1,350.50 + 100 + 250 + 5,000 + 75.25 + 800 = 7,575.75 EUR.
    let limit = json!({"election": "ee-ep-2029", "sponsor": "Green Future Party", "currency": "EUR", "amount": "7000", "legal_basis": "Political Parties Act § 12(3) (fictional)"});
    assert_eq!(
        app.request("POST", "/api/ads/limits")
            .basic(&filer, PASSWORD)
            .json(&limit)
            .send()
            .await
            .status,
        403
    );
    let mut unknown = limit.clone();
    unknown["election"] = "ee-2031".into();
    let refused = app
        .request("POST", "/api/ads/limits")
        .basic(&regulator, PASSWORD)
        .json(&unknown)
        .send()
        .await;
    assert_eq!(fields_of(&refused), ["election"]);
    let saved = app
        .request("POST", "/api/ads/limits")
        .basic(&regulator, PASSWORD)
        .json(&limit)
        .send()
        .await;
    assert_eq!(saved.json()["amount"], "7000.00", "{}", saved.text());
    let spending = app
        .request("GET", "/api/ads/elections/ee-ep-2029/spending")
        .send()
        .await
        .json();
    assert_eq!(spending[0]["spend"]["lower"], "7575.75", "{spending}");
    assert_eq!(spending[0]["spend"]["upper"], "7575.75");
    assert_eq!(spending[0]["spend"]["ads"], 6);
    assert_eq!(spending[0]["finding"]["severity"], "definite");
    let mut higher = limit.clone();
    higher["amount"] = "7575.75".into();
    app.request("POST", "/api/ads/limits")
        .basic(&regulator, PASSWORD)
        .json(&higher)
        .send()
        .await;
    let spending = app
        .request("GET", "/api/ads/elections/ee-ep-2029/spending")
        .send()
        .await
        .json();
    assert_eq!(spending[0]["finding"], Value::Null, "exactly at the limit");
    assert_eq!(spending[0]["limit"]["amount"], "7575.75");
    assert_eq!(
        app.request("GET", "/api/ads/elections/nope/spending")
            .send()
            .await
            .status,
        404
    );
    let findings = app
        .request("GET", "/api/ads/elections/ee-ep-2029/findings")
        .send()
        .await
        .json();
    assert_eq!(findings["summary"][0]["code"], "N.101", "{findings}");
    assert_eq!(findings["summary"][0]["definite"], 6);
    assert_eq!(findings["ads"].as_array().unwrap().len(), 6);

    // Imports: the Meta Ad Library's JSON, bad records named, the same file
    // again changes nothing, a changed record is a new version, and the
    // access token in the snapshot link is never stored.
    let meta = include_bytes!("fixtures/ads/meta-ads-archive.json").to_vec();
    let import = |body: Vec<u8>, who: &str| {
        app.request(
            "POST",
            "/api/ads/import?format=meta&country=EE&election=ee-ep-2029",
        )
        .basic(who, PASSWORD)
        .raw("application/json", body)
    };
    assert_eq!(import(meta.clone(), &reader).send().await.status, 403);
    let report = import(meta.clone(), &filer).send().await.json();
    assert_eq!(
        (report["added"].as_u64(), report["unchanged"].as_u64()),
        (Some(2), Some(0)),
        "{report}"
    );
    assert_eq!(
        report["rejected"],
        json!([{"line": 3, "message": "no ad_delivery_start_time"}])
    );
    let again = import(meta.clone(), &filer).send().await.json();
    assert_eq!(
        (again["added"].as_u64(), again["unchanged"].as_u64()),
        (Some(0), Some(2)),
        "{again}"
    );
    let changed = String::from_utf8(meta)
        .unwrap()
        .replace("\"upper_bound\": \"199\"", "\"upper_bound\": \"299\"");
    let updated = import(changed.into_bytes(), &filer).send().await.json();
    assert_eq!(updated["updated"], 1, "{updated}");
    let imported = app
        .request("GET", "/api/ads/export.jsonl?q=puhtad")
        .send()
        .await
        .text();
    assert!(
        !imported.contains("EAAsecret") && imported.contains("render_ad/?id=900000000000001"),
        "{imported}"
    );
    let line: Value = serde_json::from_str(imported.lines().next().unwrap()).unwrap();
    let history = app
        .request("GET", &format!("/api/ads/{}", line["id"].as_str().unwrap()))
        .send()
        .await
        .json();
    let changes: Vec<&str> = history["versions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["change"].as_str().unwrap())
        .collect();
    assert_eq!(changes, ["imported", "imported"]);
    let broken = import(b"{\"data\": [".to_vec(), &filer).send().await;
    assert_eq!(fields_of(&broken), ["file"]);

    // The generic CSV: columns named as the filing form's fields; rows that
    // do not read are named by the line they start on, the others stored.
    let csv = app
        .request("POST", "/api/ads/import?format=csv&country=EE")
        .basic(&filer, PASSWORD)
        .raw(
            "text/csv",
            include_bytes!("fixtures/ads/generic.csv").to_vec(),
        )
        .send()
        .await
        .json();
    assert_eq!(csv["added"], 2, "{csv}");
    let lines: Vec<u64> = csv["rejected"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["line"].as_u64().unwrap())
        .collect();
    assert_eq!(lines, [5, 6], "{csv}");
    assert_eq!(
        titles(&app, "q=billboard").await,
        ["Billboard Tartu"],
        "stored and searchable"
    );
    // The same row twice in one file: the second is a change to the first.
    let twice = app
        .request("POST", "/api/ads/import?format=csv&country=EE")
        .basic(&filer, PASSWORD)
        .raw(
            "text/csv",
            b"source_id,title,creative.text,creative.language,sponsor.name,publisher.name,period_start,period_end\n\
              twice,Leaflet,Text,et,S,P,2029-05-01,2029-05-02\n\
              twice,Leaflet,Text,et,S,P,2029-05-01,2029-05-02\n\
              twice,Leaflet v2,Text,et,S,P,2029-05-01,2029-05-02\n"
                .to_vec(),
        )
        .send()
        .await
        .json();
    assert_eq!(
        (&twice["added"], &twice["unchanged"], &twice["updated"]),
        (&json!(1), &json!(1), &json!(1)),
        "{twice}"
    );
    assert_eq!(titles(&app, "q=leaflet").await, ["Leaflet v2"]);
    let wrong = app
        .request("POST", "/api/ads/import?format=csv")
        .basic(&filer, PASSWORD)
        .raw("text/csv", b"source_id,sponsor\nx,y\n".to_vec())
        .send()
        .await;
    assert_eq!(fields_of(&wrong), ["file"]);
    assert!(
        wrong.text().contains("unknown column sponsor"),
        "{}",
        wrong.text()
    );

    // Citizens' notices (Art. 15): a reasoned explanation, a name and an
    // email; acknowledged at once with a tracking number; the identity
    // stays in the queue of the ad's publisher and the regulators.
    let notice = |explanation: &str| {
        json!({"explanation": explanation, "name": "Maria Silva", "email": "maria.silva@example.org",
               "evidence_url": "https://archive.example.org/snapshot/1"})
    };
    let path = format!("/api/ads/{}/notices", ids[3]);
    let refused = app
        .request("POST", &path)
        .json(&json!({"explanation": "", "name": "", "email": "x"}))
        .send()
        .await;
    assert_eq!(fields_of(&refused), ["explanation", "name", "email"]);
    let unknown = app
        .request(
            "POST",
            "/api/ads/ad-00000000-0000-0000-0000-000000000000/notices",
        )
        .json(&notice("This ad hides who paid for it."))
        .send()
        .await;
    assert_eq!(unknown.status, 404);
    let received = app
        .request("POST", &path)
        .json(&notice("This ad hides who paid for it, in my view."))
        .send()
        .await;
    assert_eq!(received.status, 201, "{}", received.text());
    assert!(!received.text().contains("Maria") && !received.text().contains("maria.silva"));
    let tracking = received.json()["tracking"].as_str().unwrap().to_string();
    assert!(
        tracking.starts_with("VN-") && tracking.len() == 22,
        "{tracking}"
    );
    assert_eq!(received.json()["status"], "acknowledged");
    let typed = tracking.to_lowercase().replace('-', "");
    let status = app
        .request("GET", &format!("/api/ads/notices/{typed}"))
        .send()
        .await
        .json();
    assert_eq!(
        (status["status"].as_str(), status["ad"].as_str()),
        (Some("acknowledged"), Some(ids[3].as_str()))
    );
    assert_eq!(
        app.request("GET", "/api/ads/notices").send().await.status,
        401
    );
    assert_eq!(
        app.request("GET", "/api/ads/notices")
            .basic(&reader, PASSWORD)
            .send()
            .await
            .status,
        403
    );
    let rival_queue = app
        .request("GET", "/api/ads/notices")
        .basic(&rival, PASSWORD)
        .send()
        .await
        .json();
    assert_eq!(rival_queue, json!([]), "another publisher sees nothing");
    let queue = app
        .request("GET", "/api/ads/notices")
        .basic(&filer, PASSWORD)
        .send()
        .await
        .json();
    assert_eq!(queue[0]["notifier_email"], "maria.silva@example.org");
    let decide = |who: &str, body: Value| {
        app.request("POST", &format!("/api/ads/notices/{tracking}/decision"))
            .basic(who, PASSWORD)
            .json(&body)
    };
    assert_eq!(
        decide(&rival, json!({"step": "start_review"}))
            .send()
            .await
            .status,
        404
    );
    assert_eq!(
        decide(&filer, json!({"step": "start_review"}))
            .send()
            .await
            .json()["status"],
        "under_review"
    );
    assert_eq!(
        fields_of(
            &decide(&filer, json!({"step": "uphold", "reasons": " "}))
                .send()
                .await
        ),
        ["reasons"]
    );
    let decided = decide(
        &regulator,
        json!({"step": "uphold", "reasons": "The payer is missing from the notice."}),
    )
    .send()
    .await
    .json();
    assert_eq!(decided["status"], "upheld", "{decided}");
    assert_eq!(
        decide(&regulator, json!({"step": "reject", "reasons": "x"}))
            .send()
            .await
            .status,
        409
    );
    let status = app
        .request("GET", &format!("/api/ads/notices/{tracking}"))
        .send()
        .await
        .json();
    assert_eq!(status["reasons"], "The payer is missing from the notice.");
    let counts = app
        .request("GET", "/api/ads/notices/counts?election=ee-ep-2029")
        .send()
        .await
        .json();
    assert_eq!(
        counts,
        json!({"acknowledged": 0, "under_review": 0, "upheld": 1, "rejected": 0})
    );
    let everything = app
        .request("GET", "/api/ads/export.jsonl")
        .send()
        .await
        .text();
    assert!(
        !everything.contains("maria.silva"),
        "identities never leave the queue"
    );
    // Five notices an hour from one address; the sixth waits.
    for n in 0..4 {
        let more = app
            .request("POST", &path)
            .json(&notice(&format!(
                "Another reason number {n} for this notice."
            )))
            .send()
            .await;
        assert_eq!(more.status, 201);
    }
    let limited = app
        .request("POST", &path)
        .json(&notice("One more reason for this notice today."))
        .send()
        .await;
    assert_eq!(limited.status, 429);

    // Identities expire after the retention once decided (open notices keep
    // theirs), and a notifier's identity is erased on request; the notices
    // stay and the log still verifies.
    let queue_emails = || async {
        app.request("GET", "/api/ads/notices")
            .basic(&regulator, PASSWORD)
            .send()
            .await
            .json()
            .as_array()
            .unwrap()
            .iter()
            .map(|n| {
                (
                    n["tracking"].as_str().unwrap().to_string(),
                    n["notifier_email"].clone(),
                )
            })
            .collect::<Vec<_>>()
    };
    let kept = vigil_server::ads::notices::expire_identities(
        &app.db,
        std::time::Duration::from_secs(3600),
    )
    .await
    .unwrap();
    assert_eq!(kept, 0, "decided within the retention");
    let erased = vigil_server::ads::notices::expire_identities(&app.db, std::time::Duration::ZERO)
        .await
        .unwrap();
    assert_eq!(erased, 1, "only the decided notice");
    let emails = queue_emails().await;
    assert_eq!(emails.len(), 5);
    for (number, email) in &emails {
        assert_eq!(email.is_null(), *number == tracking, "{number}: {email}");
    }
    let open = emails
        .iter()
        .find(|(n, _)| *n != tracking)
        .unwrap()
        .0
        .clone();
    vigil_server::ads::notices::redact(
        &app.db,
        &vigil_server::core::audit::Actor::CommandLine,
        &open,
    )
    .await
    .unwrap();
    assert_eq!(
        queue_emails()
            .await
            .iter()
            .filter(|(_, e)| e.is_null())
            .count(),
        2
    );

    // Every version went through the log.
    let verifier = vigil_tlog::LogVerifier::parse(&app.ledger.verifier_key()).unwrap();
    app.ledger.checkpoint().await.unwrap();
    let report = vigil_server::core::ledger::verify::verify_store(&app.db, &verifier, None)
        .await
        .unwrap();
    assert!(report.ok(), "{:?}", report.problems);
    assert_eq!(report.redacted_records, 2, "the two erased identities");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ads_are_filed_corrected_withdrawn_searched_and_exported() {
    for backend in backends() {
        story(backend).await;
    }
}

/// Full-text search over thousands of ads: whole words and prefixes, phrases,
/// diacritics, query syntax taken literally, and (on SQLite) both ways of
/// answering: from the few ads that have a rare word, and by walking the
/// newest ads when a word is common.
async fn full_text(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let importer = app
        .user("Electoral Commission", "importer", &["regulator"])
        .await;
    let line = |n: usize| {
        let text = match n {
            7 | 700 | 1_400 => format!("Harbour {n}: lighthouse keepers deserve better pay."),
            42 => "Harbour: Päevaleht says the port will grow.".to_string(),
            _ => format!("Harbour {n}: a greener port for everyone."),
        };
        let country = if n.is_multiple_of(7) { "LV" } else { "EE" };
        let regions = match n {
            7 => json!(["Harju maakond", "Tartu"]),
            700 => json!(["Tartu"]),
            _ => json!([]),
        };
        format!(
            "{}\n",
            json!({"source_id": format!("fts-{n}"), "ad": {
                "title": format!("Port ad {n}"),
                "sponsor": {"name": "Harbour Party", "country": country},
                "publisher": {"name": "Port Radio", "country": country},
                "sponsor_declaration": "eu_legal_person_not_foreign_controlled",
                "creative": {"text": text, "language": "en"},
                "countries": [country], "regions": regions,
                "period_start": "2029-05-01", "period_end": "2029-05-31"}})
        )
    };
    let import = |lines: String| {
        app.request("POST", "/api/ads/import?format=jsonl")
            .basic(&importer, PASSWORD)
            .raw("application/x-ndjson", lines.into_bytes())
    };
    // An upload over the server's limit (64 KiB here) is refused whole, with
    // its reason, and stores nothing.
    let oversized = import((0..2_100).map(line).collect()).send().await;
    assert_eq!(oversized.status, 413, "{}", oversized.text());
    assert!(
        oversized.text().contains("length limit"),
        "{}",
        oversized.text()
    );
    assert!(ids(&app, "").await.is_empty());
    // The same ads in uploads of 100.
    for start in (0..2_100).step_by(100) {
        let report = import((start..start + 100).map(line).collect())
            .send()
            .await;
        assert_eq!(report.status, 200, "{}", report.text());
        assert_eq!(report.json()["added"], 100, "{}", report.text());
    }

    // A word every ad has: the same pages as no words at all.
    assert_eq!(
        ids(&app, "q=harbour&limit=50").await,
        ids(&app, "limit=50").await
    );
    assert_eq!(
        ids(&app, "q=HARBOUR&country=LV&limit=40").await,
        ids(&app, "country=LV&limit=40").await
    );
    // Rare words, in any order, as prefixes, as a phrase.
    let keepers = titles(&app, "q=lighthouse%20keepers").await;
    assert_eq!(keepers, ["Port ad 1400", "Port ad 700", "Port ad 7"]);
    assert_eq!(titles(&app, "q=keepers%20lighthouse").await, keepers);
    assert_eq!(titles(&app, "q=lightho*").await, keepers, "a prefix");
    assert!(titles(&app, "q=lightho").await.is_empty(), "whole words");
    assert_eq!(
        titles(&app, "q=harbour%20lighthouse-keepers").await,
        keepers
    );
    assert!(
        titles(&app, "q=keepers-lighthouse").await.is_empty(),
        "a phrase keeps its order"
    );
    assert!(
        titles(&app, "q=ighthouse").await.is_empty(),
        "words, not substrings"
    );
    assert_eq!(titles(&app, "q=lighthouse&country=LV").await, keepers);
    assert!(titles(&app, "q=lighthouse&country=EE").await.is_empty());
    // Regions exactly as filed, with or without words.
    assert_eq!(
        titles(&app, "region=Tartu").await,
        ["Port ad 700", "Port ad 7"]
    );
    assert_eq!(
        titles(&app, "region=Harju%20maakond&q=keepers").await,
        ["Port ad 7"]
    );
    assert!(titles(&app, "region=harju%20maakond").await.is_empty());
    assert!(
        titles(&app, "region=Harju").await.is_empty(),
        "a whole region"
    );
    // Diacritics are kept; case is not.
    assert_eq!(titles(&app, "q=P%C3%84EVALEHT").await, ["Port ad 42"]);
    assert!(titles(&app, "q=paevaleht").await.is_empty());
    // Query syntax of either engine is taken as plain words.
    for q in [
        "%22",
        "*",
        "AND%20OR%20NOT",
        "NEAR(keepers",
        "%27",
        "a:*%20%26%20!b",
        "%E2%80%94",
    ] {
        let response = app.request("GET", &format!("/api/ads?q={q}")).send().await;
        assert_eq!(response.status, 200, "q={q}: {}", response.text());
    }
    assert_eq!(
        ids(&app, "q=%2A%2A%2A&limit=5").await,
        ids(&app, "limit=5").await,
        "a word without letters or digits is ignored"
    );
    // Cursors walk a word's ads as they walk all ads.
    let first = app
        .request("GET", "/api/ads?q=port&limit=1000")
        .send()
        .await
        .json();
    let cursor = first["next_cursor"].as_str().unwrap().to_string();
    let second = ids(&app, &format!("q=port&limit=1000&cursor={cursor}")).await;
    let third = ids(
        &app,
        &format!("q=port&limit=1000&cursor={}", {
            let page = app
                .request(
                    "GET",
                    &format!("/api/ads?q=port&limit=1000&cursor={cursor}"),
                )
                .send()
                .await
                .json();
            page["next_cursor"].as_str().unwrap().to_string()
        }),
    )
    .await;
    assert_eq!((second.len(), third.len()), (1_000, 100));
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn full_text_search_finds_words_prefixes_and_phrases() {
    for backend in backends() {
        full_text(backend).await;
    }
}

/// A sponsor's page draws one spending chart per currency, however the
/// months interleave them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sponsor_page_has_one_chart_per_currency() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let filer = app.user("Tallinn Daily Online", "filer", &["filer"]).await;
    for (title, currency, start) in [
        ("April", "USD", "2029-04-10"),
        ("May", "EUR", "2029-05-10"),
        ("June", "USD", "2029-06-01"),
    ] {
        let mut ad = filing(title, "100");
        ad["election"] = Value::Null;
        ad["spend"]["currency"] = json!(currency);
        ad["period_start"] = json!(start);
        ad["period_end"] = json!("2029-06-06");
        let filed = app
            .request("POST", "/api/ads")
            .basic(&filer, PASSWORD)
            .json(&ad)
            .send()
            .await;
        assert_eq!(filed.status, 201, "{}", filed.text());
    }
    let page = app
        .request("GET", "/ads/sponsors?name=Green%20Future%20Party")
        .send()
        .await
        .text();
    assert_eq!(page.matches("<svg").count(), 2, "{page}");
    for id in ["spend-USD", "spend-EUR"] {
        assert!(page.contains(&format!("id=\"{id}\"")), "{id}");
    }
    app.stop().await;
}
