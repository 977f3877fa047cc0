//! `vigil bench ads`: a repository of synthetic political ads (a million by
//! default) imported through the same use case as `vigil ads import`, then
//! public searches (text and filters) timed one by one, and a bulk export
//! read a page at a time as the streamed download does (docs/benchmarks.md).
use anyhow::bail;
use serde_json::json;
use std::path::PathBuf;
use std::time::{Duration, Instant};
use vigil_server::accounts::service::{self as accounts, NewOrganisation, NewUser};
use vigil_server::ads::domain::{AdContent, AdStatus};
use vigil_server::ads::import::{ImportRow, ImportedAd};
use vigil_server::ads::service;
use vigil_server::ads::store::{self, AdQuery};
use vigil_server::core::audit::Actor;
use vigil_server::core::config::ConfigLayer;
use vigil_server::core::server::open_store;
use vigil_server::demo::Sequence;

const ELECTIONS: usize = 10;
const SPONSORS: usize = 400;
const WORDS: &[&str] = &[
    "rivers",
    "schools",
    "housing",
    "transport",
    "taxes",
    "pensions",
    "energy",
    "farmers",
    "health",
    "security",
    "jobs",
    "climate",
    "europe",
    "culture",
    "water",
    "roads",
    "nurses",
    "children",
    "students",
    "business",
    "forests",
    "ports",
    "rail",
    "digital",
    "wages",
    "rent",
    "fishing",
    "tourism",
    "justice",
    "borders",
];
const COUNTRIES: &[&str] = &["EE", "LV", "LT", "PT", "ES", "DE", "FR", "PL", "SE", "NL"];

fn synthetic(n: usize, sequence: &mut Sequence) -> ImportedAd {
    let word = |s: &mut Sequence| WORDS[s.next(WORDS.len() as u64) as usize];
    let sponsor = sequence.next(SPONSORS as u64);
    let election = sequence.next(ELECTIONS as u64);
    let country = COUNTRIES[election as usize % COUNTRIES.len()];
    let day = 1 + sequence.next(28);
    let text = format!(
        "Vote for better {} and {}: our plan for {} and {}.",
        word(sequence),
        word(sequence),
        word(sequence),
        word(sequence)
    );
    let amount = 50 + sequence.next(20_000);
    let content: AdContent = serde_json::from_value(json!({
        "title": format!("Ad {n}: {}", text.split(':').next().unwrap_or("")),
        "sponsor": {"name": format!("Party {sponsor:03}"), "country": country, "email": format!("p{sponsor}@party.example")},
        "publisher": {"name": format!("Publisher {:02}", sequence.next(60)), "country": country},
        "sponsor_declaration": "eu_legal_person_not_foreign_controlled",
        "election": format!("bench-{election}"),
        "creative": {"text": text, "language": "en"},
        "countries": [country],
        "period_start": format!("2029-04-{day:02}"), "period_end": format!("2029-05-{day:02}"),
        "spend": {"currency": "EUR", "amount": format!("{amount}.{:02}", sequence.next(100)), "origin": "private", "source": "eu", "method": "invoice"},
        "targeting": {"used": true, "criteria_included": ["region"], "personal_data_categories": [if n.is_multiple_of(3) { "interests" } else { "location" }], "minimum_age": 18, "consent_basis": "explicit_consent"}
    }))
    .unwrap_or_default();
    ImportedAd {
        line: n as u64 + 1,
        key: format!("jsonl:bench-{n}"),
        content,
    }
}

/// Draws one query of a shape.
type QueryShape = Box<dyn Fn(&mut Sequence) -> AdQuery>;

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted.get(index).copied().unwrap_or_default()
}

pub async fn run(
    data_dir: Option<PathBuf>,
    database_url: Option<String>,
    ads: usize,
    queries: usize,
    reuse: bool,
) -> anyhow::Result<()> {
    let postgres = database_url.is_some();
    let settings = ConfigLayer {
        data_dir,
        database_url,
        ..ConfigLayer::default()
    }
    .resolve()?;
    let (db, _ledger) = open_store(&settings).await?;
    let imported_before = store::calendar_entry(db.pool(), "bench-0").await?.is_some();
    if imported_before && !reuse {
        bail!("the store already holds the benchmark's ads: give an empty one, or --reuse");
    }
    if !imported_before && reuse {
        bail!("--reuse needs a store an earlier run imported into");
    }
    if reuse {
        println!(
            "store: {} (reused)",
            if postgres { "PostgreSQL" } else { "SQLite" }
        );
        let mut sequence = Sequence(2029);
        search_and_export(&db, &mut sequence, queries).await?;
        db.close().await;
        return Ok(());
    }
    let organisation = accounts::create_organisation(
        &db,
        &Actor::System,
        NewOrganisation {
            name: "Benchmark Ads Regulator".into(),
            kind: "regulator".into(),
            country: Some("EE".into()),
        },
    )
    .await?;
    accounts::create_user(
        &db,
        &Actor::System,
        NewUser {
            organisation: organisation.id.to_string(),
            username: "bench.regulator".into(),
            password: "benchmark password 2031".into(),
            roles: vec!["regulator".into()],
            display_name: None,
            email: None,
        },
    )
    .await?;
    let regulator = accounts::principal_of(&db, "bench.regulator").await?;
    for e in 0..ELECTIONS {
        let entry = serde_json::from_value(
            json!({"id": format!("bench-{e}"), "name": format!("Benchmark election {e}"),
            "kind": "election", "date": "2029-06-10", "country": COUNTRIES[e % COUNTRIES.len()]}),
        )?;
        service::save_calendar_entry(&db, &regulator, entry).await?;
    }
    println!("store: {}", if postgres { "PostgreSQL" } else { "SQLite" });

    // Import, in chunks of 50,000 rows (each stored 500 per transaction).
    let mut sequence = Sequence(2029);
    let started = Instant::now();
    let mut imported = 0;
    while imported < ads {
        let chunk = (ads - imported).min(50_000);
        let rows: Vec<ImportRow> = (imported..imported + chunk)
            .map(|n| Ok(synthetic(n, &mut sequence)))
            .collect();
        let report = service::import(&db, &regulator, rows, &|_| {}).await?;
        if !report.rejected.is_empty() {
            bail!("synthetic rows refused: {:?}", &report.rejected[..1]);
        }
        imported += chunk;
        eprintln!(
            "{imported} of {ads} ads imported ({:.0} ads/s)",
            imported as f64 / started.elapsed().as_secs_f64()
        );
    }
    let import_time = started.elapsed();
    println!(
        "import: {ads} ads in {:.1} s = {:.0} ads/s (each ad 2 log leaves: the ad and its version)",
        import_time.as_secs_f64(),
        ads as f64 / import_time.as_secs_f64()
    );

    search_and_export(&db, &mut sequence, queries).await?;
    db.close().await;
    Ok(())
}

async fn search_and_export(
    db: &vigil_server::core::db::Db,
    sequence: &mut Sequence,
    queries: usize,
) -> anyhow::Result<()> {
    // Searches: six shapes of public query, each `queries / 6` times.
    let shapes: Vec<(&str, QueryShape)> = vec![
        (
            "one word",
            Box::new(|s: &mut Sequence| AdQuery {
                words: vec![WORDS[s.next(30) as usize].into()],
                ..AdQuery::default()
            }),
        ),
        (
            "a rare word (an ad's number)",
            Box::new(|s: &mut Sequence| AdQuery {
                words: vec![s.next(1_000_000).to_string()],
                ..AdQuery::default()
            }),
        ),
        (
            "two words + election",
            Box::new(|s: &mut Sequence| AdQuery {
                words: vec![
                    WORDS[s.next(30) as usize].into(),
                    WORDS[s.next(30) as usize].into(),
                ],
                election: Some(format!("bench-{}", s.next(ELECTIONS as u64))),
                ..AdQuery::default()
            }),
        ),
        (
            "word + country + spend range",
            Box::new(|s: &mut Sequence| AdQuery {
                words: vec![WORDS[s.next(30) as usize].into()],
                country: Some(COUNTRIES[s.next(10) as usize].into()),
                currency: Some("EUR".into()),
                spend_min: Some(500_000),
                spend_max: Some(1_000_000),
                ..AdQuery::default()
            }),
        ),
        (
            "sponsor + election",
            Box::new(|s: &mut Sequence| AdQuery {
                sponsor: Some(format!("Party {:03}", s.next(SPONSORS as u64))),
                election: Some(format!("bench-{}", s.next(ELECTIONS as u64))),
                ..AdQuery::default()
            }),
        ),
        (
            "targeting + status + period",
            Box::new(|_: &mut Sequence| AdQuery {
                targeting_category: Some("interests".into()),
                status: Some(AdStatus::Active),
                from: Some("2029-05-10".into()),
                to: Some("2029-05-20".into()),
                ..AdQuery::default()
            }),
        ),
    ];
    let mut all = Vec::new();
    for (name, shape) in &shapes {
        let mut times = Vec::new();
        for _ in 0..(queries / shapes.len()).max(1) {
            let query = shape(sequence);
            let begun = Instant::now();
            let (page, _) = service::search(db, &query, 50).await?;
            times.push(begun.elapsed());
            std::hint::black_box(page);
        }
        times.sort();
        println!(
            "search {name:<30} p50 {:>8.1} ms  p95 {:>8.1} ms",
            percentile(&times, 0.5).as_secs_f64() * 1e3,
            percentile(&times, 0.95).as_secs_f64() * 1e3
        );
        all.extend(times);
    }
    all.sort();
    println!(
        "search, all shapes ({} queries, pages of 50): p50 {:.1} ms, p95 {:.1} ms",
        all.len(),
        percentile(&all, 0.5).as_secs_f64() * 1e3,
        percentile(&all, 0.95).as_secs_f64() * 1e3
    );

    // Bulk export: every ad as JSON Lines, 1,000 per page, as the download streams it.
    let begun = Instant::now();
    let mut query = AdQuery::default();
    let (mut rows, mut bytes) = (0usize, 0usize);
    loop {
        let page = store::search(db, &query, 1_000).await?;
        for ad in &page {
            bytes += serde_json::to_string(ad)?.len() + 1;
        }
        rows += page.len();
        match page.last() {
            Some(last) if page.len() == 1_000 => {
                query.after = Some((last.filed_at.clone(), last.id.to_string()))
            }
            _ => break,
        }
    }
    let export = begun.elapsed().as_secs_f64();
    println!(
        "export: {rows} ads ({:.0} MB of JSON Lines) in {export:.1} s = {:.0} ads/s, {:.1} MB/s",
        bytes as f64 / 1e6,
        rows as f64 / export,
        bytes as f64 / 1e6 / export
    );
    Ok(())
}
