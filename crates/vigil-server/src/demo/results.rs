//! The demo's election: a fictional municipal assembly (21 seats, D'Hondt,
//! as in Portugal) of 3 parishes and 24 polling stations, typed twice by
//! the demo typists through the same use cases as the API. Its release time
//! is 45 seconds after seeding, so a newcomer sees the embargo (progress and
//! commitments only) and then the results.
use super::organisation_id;
use crate::core::audit::Actor;
use crate::core::db::Db;
use crate::core::error::ApiError;
use crate::core::time::Timestamp;
use crate::results::domain::{DifferencesDecision, ListCount, StationCounts};
use crate::results::service::{self, EntryAction};
use serde_json::json;

pub const ELECTION: &str = "vila-demo-2029";

const PARISHES: &[(&str, &str, usize)] = &[
    ("santa-clara", "Santa Clara", 10),
    ("sao-bento", "São Bento", 8),
    ("ribeira", "Ribeira", 6),
];

/// Lists with their expected shares (per mille) and candidates.
const LISTS: &[(&str, u64, &[&str])] = &[
    (
        "Partido Azul",
        310,
        &["Ana Costa", "Rui Matos", "Inês Lopes"],
    ),
    ("Aliança Verde", 240, &["João Reis", "Marta Sousa"]),
    ("Movimento Cidadão", 180, &[]),
    ("Partido Laranja", 120, &[]),
    ("Lista Independente", 60, &[]),
    ("Partido do Mar", 35, &[]),
];

/// A small deterministic generator, so the demo (and the benchmark's
/// election) is the same every time.
pub struct Sequence(pub u64);

impl Sequence {
    /// The next number below `below`.
    pub fn next(&mut self, below: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % below.max(1)
    }
}

fn definition(release_at: &str, date: &str) -> serde_json::Value {
    let mut sequence = Sequence(2029);
    let districts: Vec<serde_json::Value> = PARISHES
        .iter()
        .map(|(id, name, stations)| {
            let stations: Vec<serde_json::Value> = (1..=*stations)
                .map(|n| {
                    json!({
                        "id": format!("{id}-{n:02}"),
                        "name": format!("{name}, section {n}"),
                        "registered_voters": 900 + sequence.next(700),
                    })
                })
                .collect();
            json!({"id": id, "name": name, "polling_stations": stations})
        })
        .collect();
    let lists: Vec<serde_json::Value> = LISTS
        .iter()
        .enumerate()
        .map(|(i, (name, _, candidates))| {
            json!({"number": i + 1, "name": name, "candidates": candidates})
        })
        .collect();
    json!({
        "id": ELECTION,
        "name": "Municipal Assembly of Vila Demo 2029 (fictional)",
        "date": date,
        "release_at": release_at,
        "apportionment": {"method": "d_hondt", "seats": 21},
        "lists": lists,
        "districts": districts,
    })
}

/// Plausible counts for a station with `registered` voters.
fn counts(sequence: &mut Sequence, registered: u64) -> StationCounts {
    let cast = registered * (48 + sequence.next(20)) / 100;
    let blank = cast * (5 + sequence.next(15)) / 1000;
    let invalid = cast * (3 + sequence.next(10)) / 1000;
    let valid = cast - blank - invalid;
    let mut lists = Vec::new();
    let mut left = valid;
    for (i, (_, share, candidates)) in LISTS.iter().enumerate() {
        let total = if i + 1 == LISTS.len() {
            left
        } else {
            (valid * (share * (85 + sequence.next(30)) / 100) / 1000).min(left)
        };
        left -= total;
        let mut votes = Vec::new();
        let mut rest = total;
        for (c, _) in candidates.iter().enumerate() {
            let v = if c + 1 == candidates.len() {
                rest
            } else {
                rest * (50 + sequence.next(20)) / 100
            };
            rest -= v;
            votes.push(v);
        }
        lists.push(ListCount {
            total,
            candidates: votes,
        });
    }
    // The last list takes what the others leave, so the form adds up.
    StationCounts {
        voters: cast,
        votes_cast: cast,
        blank,
        invalid,
        lists,
    }
}

pub async fn seed(db: &Db) -> Result<(), ApiError> {
    let now = Timestamp::now();
    // Whole seconds: the release time is shown to people.
    let release = Timestamp::from_unix_seconds(now.unix_seconds() + 45)
        .unwrap_or(now)
        .to_string();
    let date = now.to_string().chars().take(10).collect::<String>();
    let organisation = organisation_id(db, "Electoral Commission of Portugal").await?;
    let election = service::define_election(
        db,
        &Actor::System,
        &organisation,
        definition(&release, &date).to_string().as_bytes(),
    )
    .await?;
    let first = crate::accounts::service::principal_of(db, "pt.typist1").await?;
    let second = crate::accounts::service::principal_of(db, "pt.typist2").await?;
    let coordinator = crate::accounts::service::principal_of(db, "pt.coordinator").await?;
    let mut sequence = Sequence(7);
    let stations: Vec<(String, u64)> = election
        .definition
        .stations()
        .map(|(_, s)| (s.id.to_string(), s.registered_voters))
        .collect();
    let total = stations.len();
    for (n, (station, registered)) in stations.into_iter().enumerate() {
        let form = counts(&mut sequence, registered);
        let act = |who, action| service::act(db, who, ELECTION, &station, action);
        // The last two stations are still being counted.
        if n + 2 >= total {
            if n + 2 == total {
                act(&first, EntryAction::Claim).await?;
                act(&first, EntryAction::Finalise { counts: form }).await?;
            }
            continue;
        }
        act(&first, EntryAction::Claim).await?;
        act(
            &first,
            EntryAction::Finalise {
                counts: form.clone(),
            },
        )
        .await?;
        act(&second, EntryAction::Claim).await?;
        if n == 3 {
            // A slip of the second typist: the coordinator keeps the first
            // entry and a new second entry is typed.
            let mut slip = form.clone();
            slip.lists[2].total += 10;
            slip.votes_cast += 10;
            slip.voters += 10;
            act(&second, EntryAction::Finalise { counts: slip }).await?;
            act(
                &coordinator,
                EntryAction::ResolveDifferences {
                    decision: DifferencesDecision::KeepFirst,
                    explanation: Some(
                        "Checked against the paper form: the first entry is right.".into(),
                    ),
                },
            )
            .await?;
            act(&second, EntryAction::Claim).await?;
        }
        act(&second, EntryAction::Finalise { counts: form }).await?;
    }
    Ok(())
}
