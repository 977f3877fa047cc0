//! Public results pages (no sign-in): the elections, an election's votes,
//! seats with every apportionment step, and its districts' stations. During
//! the embargo they show progress and commitments only.
use super::chart::horizontal_bars;
use super::*;
use crate::results::domain::tally::SeatsOutcome;
use crate::results::domain::{ElectionDefinition, StationCounts};
use crate::results::service::{self, PublicResults};
use axum::extract::Path;
use std::collections::HashMap;
use vigil_apportion::{Outcome, Step};

pub struct ElectionRow {
    id: String,
    name: String,
    date: String,
    release_at: String,
    counted: usize,
    stations: usize,
}

#[derive(Template)]
#[template(path = "results_index.html")]
struct IndexPage {
    chrome: Chrome,
    elections: Vec<ElectionRow>,
}

pub async fn index(State(state): State<AppState>, csrf: FormToken) -> PageResult {
    let elections = service::public_elections(&state.db)
        .await?
        .into_iter()
        .map(|(e, p)| ElectionRow {
            id: e.id.to_string(),
            name: e.definition.name,
            date: e.definition.date,
            release_at: e.definition.release_at,
            counted: p.counted,
            stations: p.stations,
        })
        .collect();
    Ok(render(&IndexPage {
        chrome: Chrome::new("Election results", &csrf, "results"),
        elections,
    }))
}

pub struct ListRow {
    number: u32,
    name: String,
    votes: u64,
    share: String,
    seats: String,
}

pub struct DistrictRow {
    id: String,
    name: String,
    counted: usize,
    stations: usize,
    votes_cast: u64,
}

#[derive(Template)]
#[template(path = "results_election.html")]
struct ElectionPage {
    chrome: Chrome,
    id: String,
    name: String,
    date: String,
    release_at: String,
    embargoed: bool,
    committed: usize,
    progress: crate::results::domain::Progress,
    complete: bool,
    lists: Vec<ListRow>,
    votes_cast: u64,
    blank: u64,
    invalid: u64,
    registered: u64,
    turnout: String,
    votes_chart: String,
    seats_chart: String,
    seat_notes: Vec<String>,
    method: String,
    steps: Vec<(String, Vec<String>)>,
    districts: Vec<DistrictRow>,
    verifier_key: String,
}

fn method_label(method: crate::results::domain::definition::MethodName) -> &'static str {
    use crate::results::domain::definition::MethodName;
    match method {
        MethodName::DHondt => "D'Hondt",
        MethodName::SainteLague => "Sainte-Laguë",
        MethodName::ModifiedSainteLague => "modified Sainte-Laguë",
        MethodName::LargestRemainderHare => "largest remainders, Hare quota",
        MethodName::LargestRemainderDroop => "largest remainders, Droop quota",
        MethodName::DutchCouncil => "Kieswet P 5–P 9",
    }
}

/// `part / whole` as a percentage with one decimal, in integers.
fn percent(part: u64, whole: u64) -> String {
    if whole == 0 {
        return "–".into();
    }
    let tenths = (u128::from(part) * 1000 + u128::from(whole) / 2) / u128::from(whole);
    format!("{}.{} %", tenths / 10, tenths % 10)
}

fn list_name(definition: &ElectionDefinition, index: usize) -> String {
    definition.lists.get(index).map_or_else(
        || format!("list {index}"),
        |l| format!("{}. {}", l.number, l.name),
    )
}

/// One apportionment step in words.
fn describe(step: &Step, definition: &ElectionDefinition) -> String {
    let name = |i: &usize| list_name(definition, *i);
    match step {
        Step::BelowThreshold {
            list,
            share,
            threshold,
        } => format!(
            "{} is below the threshold ({share} < {threshold}) and takes no part",
            name(list)
        ),
        Step::Quota { quota } => format!("quota: {quota} votes per seat"),
        Step::FullSeats {
            list,
            seats,
            remainder,
        } => format!("{}: {seats} full seats, remainder {remainder}", name(list)),
        Step::HighestAverage {
            seat,
            list,
            average,
        } => format!(
            "seat {seat}: {} with the highest average {average}",
            name(list)
        ),
        Step::LargestRemainder {
            seat,
            list,
            remainder,
        } => format!(
            "seat {seat}: {} with the largest remainder {remainder}",
            name(list)
        ),
        Step::AbsoluteMajority { from, to } => format!(
            "absolute majority: the last residual seat moves from {} to {}",
            name(from),
            name(to)
        ),
        Step::LotDrawn { seat, list, among } => format!(
            "seat {seat}: lot drawn among {} — {}",
            among.iter().map(name).collect::<Vec<_>>().join(", "),
            name(list)
        ),
    }
}

pub async fn election(
    State(state): State<AppState>,
    csrf: FormToken,
    Path(id): Path<String>,
) -> PageResult {
    let published = state.published.get(&state.db, &state.ledger, &id).await?;
    let public = &published.results;
    let definition = &public.definition;
    let registered: u64 = definition
        .stations()
        .map(|(_, s)| s.registered_voters)
        .sum();
    let mut page = ElectionPage {
        chrome: Chrome::new(public.name.clone(), &csrf, "results"),
        id: public.id.clone(),
        name: public.name.clone(),
        date: public.date.clone(),
        release_at: public.release_at.clone(),
        embargoed: public.embargoed,
        committed: public.committed.len(),
        progress: public.progress,
        complete: public.progress.complete(),
        lists: Vec::new(),
        votes_cast: 0,
        blank: 0,
        invalid: 0,
        registered,
        turnout: String::new(),
        votes_chart: String::new(),
        seats_chart: String::new(),
        seat_notes: Vec::new(),
        method: method_label(definition.apportionment.method).into(),
        steps: Vec::new(),
        districts: Vec::new(),
        verifier_key: state.ledger.verifier_key(),
    };
    let votes_cast: HashMap<&str, u64> = public
        .tally
        .iter()
        .flat_map(|t| &t.districts)
        .map(|d| (d.district.as_str(), d.totals.votes_cast))
        .collect();
    let counted_by_district = counted_per_district(public);
    page.districts = definition
        .districts
        .iter()
        .map(|d| DistrictRow {
            id: d.id.to_string(),
            name: d.name.clone(),
            counted: counted_by_district.get(d.id.as_str()).copied().unwrap_or(0),
            stations: d.polling_stations.len(),
            votes_cast: votes_cast.get(d.id.as_str()).copied().unwrap_or(0),
        })
        .collect();
    if let Some(tally) = &public.tally {
        let totals = &tally.totals;
        let valid = totals.list_votes();
        page.votes_cast = totals.votes_cast;
        page.blank = totals.blank;
        page.invalid = totals.invalid;
        page.turnout = percent(totals.votes_cast, registered);
        page.lists = definition
            .lists
            .iter()
            .enumerate()
            .map(|(i, l)| {
                let votes = totals.lists.get(i).map_or(0, |c| c.total);
                ListRow {
                    number: l.number,
                    name: l.name.clone(),
                    votes,
                    share: percent(votes, valid),
                    seats: public
                        .seats_per_list
                        .as_ref()
                        .and_then(|s| s.get(i))
                        .map_or_else(|| "–".into(), u32::to_string),
                }
            })
            .collect();
        page.votes_chart = horizontal_bars(
            "Votes per list",
            "votes-chart",
            &page
                .lists
                .iter()
                .map(|r| (format!("{}. {}", r.number, r.name), r.votes))
                .collect::<Vec<_>>(),
        );
        if let Some(seats) = &public.seats_per_list {
            page.seats_chart = horizontal_bars(
                "Seats per list",
                "seats-chart",
                &page
                    .lists
                    .iter()
                    .zip(seats)
                    .map(|(r, s)| (format!("{}. {}", r.number, r.name), u64::from(*s)))
                    .collect::<Vec<_>>(),
            );
        }
        for unit in public.seats.iter().flatten() {
            let title = match &unit.district {
                None => format!("{} seats", unit.seats),
                Some(d) => format!("{d}: {} seats", unit.seats),
            };
            match &unit.outcome {
                SeatsOutcome::Computed(Outcome::Complete { steps, .. }) => {
                    page.steps.push((
                        title,
                        steps.iter().map(|s| describe(s, definition)).collect(),
                    ));
                }
                SeatsOutcome::Computed(Outcome::DrawingOfLotsRequired { seat, tied, steps }) => {
                    page.seat_notes.push(format!(
                        "{title}: seat {seat} ties between {}: drawing of lots required (a coordinator enters the list drawn)",
                        tied.iter().map(|i| list_name(definition, *i)).collect::<Vec<_>>().join(", ")
                    ));
                    page.steps.push((
                        title,
                        steps.iter().map(|s| describe(s, definition)).collect(),
                    ));
                }
                SeatsOutcome::NotComputed { not_computed } => {
                    page.seat_notes
                        .push(format!("{title}: not computed yet ({not_computed})"));
                }
            }
        }
    }
    Ok(render(&page))
}

fn counted_per_district(public: &PublicResults) -> HashMap<&str, usize> {
    let mut counted: HashMap<&str, usize> = HashMap::new();
    let stations: Vec<&str> = if public.embargoed {
        public
            .committed
            .iter()
            .map(|c| c.station_id.as_str())
            .collect()
    } else {
        public
            .stations
            .iter()
            .map(|s| s.record.station_id.as_str())
            .collect()
    };
    let districts = public.definition.district_of_stations();
    for station in stations {
        if let Some(district) = districts.get(station) {
            *counted.entry(district.id.as_str()).or_default() += 1;
        }
    }
    counted
}

pub struct StationRow {
    name: String,
    registered: u64,
    counts: Option<StationCounts>,
    leaf: Option<u64>,
}

#[derive(Template)]
#[template(path = "results_district.html")]
struct DistrictPage {
    chrome: Chrome,
    id: String,
    election: String,
    name: String,
    release_at: String,
    embargoed: bool,
    counted: usize,
    list_names: Vec<String>,
    stations: Vec<StationRow>,
}

pub async fn district(
    State(state): State<AppState>,
    csrf: FormToken,
    Path((id, district)): Path<(String, String)>,
) -> PageResult {
    let published = state.published.get(&state.db, &state.ledger, &id).await?;
    let public = &published.results;
    let definition = &public.definition;
    let Some(district) = definition
        .districts
        .iter()
        .find(|d| d.id.as_str() == district)
    else {
        return Err(WebError(ApiError::NotFound("no such district".into())));
    };
    let published: HashMap<&str, (Option<StationCounts>, u64)> = public
        .stations
        .iter()
        .map(|s| {
            (
                s.record.station_id.as_str(),
                (serde_json::from_str(&s.record.counts).ok(), s.leaf_index),
            )
        })
        .chain(
            public
                .committed
                .iter()
                .map(|c| (c.station_id.as_str(), (None, c.leaf_index))),
        )
        .collect();
    let stations: Vec<StationRow> = district
        .polling_stations
        .iter()
        .map(|s| {
            let found = published.get(s.id.as_str());
            StationRow {
                name: s.name.clone(),
                registered: s.registered_voters,
                counts: found.and_then(|f| f.0.clone()),
                leaf: found.map(|f| f.1),
            }
        })
        .collect();
    Ok(render(&DistrictPage {
        chrome: Chrome::new(district.name.clone(), &csrf, "results"),
        id: public.id.clone(),
        election: public.name.clone(),
        name: district.name.clone(),
        release_at: public.release_at.clone(),
        embargoed: public.embargoed,
        counted: stations.iter().filter(|s| s.leaf.is_some()).count(),
        list_names: definition
            .lists
            .iter()
            .map(|l| format!("{}. {}", l.number, l.name))
            .collect(),
        stations,
    }))
}
