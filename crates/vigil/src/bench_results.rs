//! `vigil bench results-election`: a synthetic national election whose every
//! polling-station form is typed twice through the same use cases as the
//! typing screens, so that the published-results API and `vigil results
//! verify` can be measured at election-night size (`bench/results` serves
//! it beside nginx serving the same JSON as a file; docs/benchmarks.md).
use anyhow::bail;
use serde_json::json;
use std::path::PathBuf;
use std::time::Instant;
use vigil_server::accounts::service::{self as accounts, NewOrganisation, NewUser};
use vigil_server::core::audit::Actor;
use vigil_server::core::config::ConfigLayer;
use vigil_server::core::server::open_store;
use vigil_server::core::time::Timestamp;
use vigil_server::demo::Sequence;
use vigil_server::results::domain::{ListCount, StationCounts};
use vigil_server::results::service::{self, EntryAction};

pub const ELECTION: &str = "national-bench";
const DISTRICTS: usize = 20;
const LISTS: usize = 12;
const CANDIDATES: usize = 5;
const PASSWORD: &str = "benchmark password 2031";

fn definition(stations: usize, release_at: &str) -> serde_json::Value {
    let mut sequence = Sequence(31);
    let per_district = stations.div_ceil(DISTRICTS);
    let districts: Vec<serde_json::Value> = (0..DISTRICTS)
        .map(|d| {
            let first = d * per_district;
            let stations: Vec<serde_json::Value> = (first..(first + per_district).min(stations))
                .map(|s| {
                    json!({"id": format!("ps-{s:05}"), "name": format!("Polling station {s:05}"),
                           "registered_voters": 600 + sequence.next(1_900)})
                })
                .collect();
            json!({"id": format!("d-{:02}", d + 1), "name": format!("District {:02}", d + 1),
                   "polling_stations": stations})
        })
        .collect();
    let lists: Vec<serde_json::Value> = (0..LISTS)
        .map(|l| {
            let candidates: Vec<String> = if l < 4 {
                (1..=CANDIDATES)
                    .map(|c| format!("Candidate {}.{c}", l + 1))
                    .collect()
            } else {
                Vec::new()
            };
            json!({"number": l + 1, "name": format!("Party {}", l + 1), "candidates": candidates})
        })
        .collect();
    json!({
        "id": ELECTION, "name": "National parliament 2031 (synthetic benchmark)",
        "date": release_at.chars().take(10).collect::<String>(), "release_at": release_at,
        "apportionment": {"method": "d_hondt", "seats": 150, "threshold": "5%"},
        "lists": lists, "districts": districts
    })
}

/// A form that adds up, for a station with `registered` voters.
fn counts(sequence: &mut Sequence, registered: u64, lists: &[usize]) -> StationCounts {
    let cast = registered * (55 + sequence.next(25)) / 100;
    let blank = cast / 100;
    let invalid = cast / 150;
    let mut left = cast - blank - invalid;
    let lists = lists
        .iter()
        .enumerate()
        .map(|(i, &candidates)| {
            let total = if i + 1 == lists.len() {
                left
            } else {
                (left * (10 + sequence.next(30)) / 100).min(left)
            };
            left -= total;
            let mut rest = total;
            let votes = (0..candidates)
                .map(|c| {
                    let v = if c + 1 == candidates { rest } else { rest / 2 };
                    rest -= v;
                    v
                })
                .collect();
            ListCount {
                total,
                candidates: votes,
            }
        })
        .collect();
    StationCounts {
        voters: cast,
        votes_cast: cast,
        blank,
        invalid,
        lists,
    }
}

pub async fn run(
    data_dir: Option<PathBuf>,
    database_url: Option<String>,
    stations: usize,
    release_in: u64,
) -> anyhow::Result<()> {
    let settings = ConfigLayer {
        data_dir,
        database_url,
        ..ConfigLayer::default()
    }
    .resolve()?;
    let (db, _ledger) = open_store(&settings).await?;
    if vigil_server::results::store::election(db.pool(), ELECTION)
        .await?
        .is_some()
    {
        bail!("the store already holds the benchmark election");
    }
    let organisation = accounts::create_organisation(
        &db,
        &Actor::System,
        NewOrganisation {
            name: "Benchmark Electoral Commission".into(),
            kind: "election_management_body".into(),
            country: Some("PT".into()),
        },
    )
    .await?;
    for (username, role) in [("bench.typist1", "typist"), ("bench.typist2", "typist")] {
        accounts::create_user(
            &db,
            &Actor::System,
            NewUser {
                organisation: organisation.id.to_string(),
                username: username.into(),
                password: PASSWORD.into(),
                roles: vec![role.into()],
                display_name: None,
                email: None,
            },
        )
        .await?;
    }
    let release = Timestamp::from_unix_seconds(
        Timestamp::now().unix_seconds() + i64::try_from(release_in).unwrap_or(0),
    )
    .unwrap_or_else(Timestamp::now);
    let election = service::define_election(
        &db,
        &Actor::System,
        &organisation.id,
        definition(stations, &release.to_string())
            .to_string()
            .as_bytes(),
    )
    .await?;
    let first = accounts::principal_of(&db, "bench.typist1").await?;
    let second = accounts::principal_of(&db, "bench.typist2").await?;
    let shape: Vec<usize> = election
        .definition
        .lists
        .iter()
        .map(|l| l.candidates.len())
        .collect();
    let forms: Vec<(String, u64)> = election
        .definition
        .stations()
        .map(|(_, s)| (s.id.to_string(), s.registered_voters))
        .collect();
    let started = Instant::now();
    let mut sequence = Sequence(2031);
    for (n, (station, registered)) in forms.iter().enumerate() {
        let form = counts(&mut sequence, *registered, &shape);
        for typist in [&first, &second] {
            service::act(&db, typist, ELECTION, station, EntryAction::Claim).await?;
            service::act(
                &db,
                typist,
                ELECTION,
                station,
                EntryAction::Finalise {
                    counts: form.clone(),
                },
            )
            .await?;
        }
        if (n + 1) % 1_000 == 0 {
            eprintln!("{} of {} stations typed twice", n + 1, forms.len());
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    println!(
        "election {ELECTION}: {} stations typed twice ({} actions) in {elapsed:.1} s ({:.0} actions/s); release at {release}",
        forms.len(),
        forms.len() * 4,
        (forms.len() * 4) as f64 / elapsed.max(1e-9)
    );
    Ok(())
}
