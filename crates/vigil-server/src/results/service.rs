//! Election-results use cases. Each write is one transaction: load, check
//! who may act, the pure transition, store through the log, append the
//! event, commit. Reads for the public apply the embargo before anything
//! leaves the server.
use super::domain::tally::{self, ElectionTally, UnitSeats};
use super::domain::{
    DifferencesDecision, ElectionDefinition, Entry, EntryState, ErrorsDecision, StationCounts,
    StationId, TransitionError,
};
use super::store::{self, ElectionRecord, StationEvent, StationResultRecord, StoredElection};
use crate::accounts::domain::Role;
use crate::accounts::service::Principal;
use crate::core::audit::{self, Actor, AuditEvent, Outcome};
use crate::core::db::Db;
use crate::core::error::{ApiError, FieldError};
use crate::core::ids::{OrganisationId, ResultsEventId};
use crate::core::time::Timestamp;
use serde::Serialize;
use serde_json::json;
use std::collections::{BTreeMap, HashMap};

fn not_found(what: &str) -> ApiError {
    ApiError::NotFound(format!("no such {what}, or you may not see it"))
}

fn transition_error(e: TransitionError) -> ApiError {
    ApiError::Conflict(e.to_string())
}

/// Defines an election (or replaces the definition of one that has no
/// typed results yet) for `organisation`.
pub async fn define_election(
    db: &Db,
    actor: &Actor,
    organisation: &OrganisationId,
    text: &[u8],
) -> Result<StoredElection, ApiError> {
    let definition = ElectionDefinition::from_json(text).map_err(ApiError::invalid)?;
    let now = Timestamp::now().to_string();
    let mut tx = db.write().await?;
    let election = match store::election(tx.conn(), definition.id.as_str()).await? {
        Some(existing) if &existing.organisation != organisation => {
            return Err(ApiError::Conflict(format!(
                "election {} belongs to another organisation",
                definition.id
            )));
        }
        Some(existing) => {
            let typed = store::station_states(tx.conn(), &existing.id).await?;
            if !typed.is_empty() {
                return Err(ApiError::Conflict(format!(
                    "election {} already has typed results; its definition can no longer change",
                    existing.id
                )));
            }
            StoredElection {
                version: existing.version + 1,
                definition,
                lots: BTreeMap::new(),
                updated_at: now.clone(),
                ..existing
            }
        }
        None => StoredElection {
            id: definition.id.clone(),
            version: 1,
            organisation: organisation.clone(),
            definition,
            lots: BTreeMap::new(),
            created_at: now.clone(),
            updated_at: now,
        },
    };
    store::save_election(&mut tx, &election).await?;
    audit::record(
        &mut tx,
        AuditEvent {
            actor,
            action: "results.election_defined",
            subject: election.id.as_str(),
            outcome: Outcome::Success,
            details: json!({"version": election.version, "stations": election.definition.station_count()}),
            ip: None,
        },
    )
    .await?;
    tx.commit().await?;
    super::cache::note_write();
    Ok(election)
}

/// An election the principal's organisation runs.
async fn own_election(
    db: &Db,
    principal: &Principal,
    id: &str,
) -> Result<StoredElection, ApiError> {
    let election = store::election(db.pool(), id)
        .await?
        .filter(|e| e.organisation == principal.organisation.id)
        .ok_or_else(|| not_found("election"))?;
    results_staff(principal)?;
    Ok(election)
}

/// Typing and coordinating need one of the two roles.
fn results_staff(principal: &Principal) -> Result<(), ApiError> {
    if principal.has_role(&Role::TYPIST) || principal.has_role(&Role::COORDINATOR) {
        Ok(())
    } else {
        Err(ApiError::Forbidden(
            "this needs the typist or coordinator role".into(),
        ))
    }
}

/// What a typist or coordinator does with a station's form.
#[derive(Clone, Debug, serde::Deserialize, utoipa::ToSchema)]
#[serde(tag = "action", rename_all = "snake_case", deny_unknown_fields)]
pub enum EntryAction {
    /// Take the form for the next entry.
    Claim,
    /// Give a claimed form back (the typist, or a coordinator for anyone).
    Release,
    /// Send the whole entry (the typist who claimed the form).
    Finalise {
        #[schema(value_type = Object)]
        counts: StationCounts,
    },
    /// A coordinator's decision on a form with errors.
    ResolveErrors {
        #[schema(value_type = String)]
        decision: ErrorsDecision,
        explanation: Option<String>,
    },
    /// A coordinator's decision on two different entries.
    ResolveDifferences {
        #[schema(value_type = String)]
        decision: DifferencesDecision,
        explanation: Option<String>,
    },
}

impl EntryAction {
    fn name(&self) -> &'static str {
        match self {
            EntryAction::Claim => "claim",
            EntryAction::Release => "release",
            EntryAction::Finalise { .. } => "finalise",
            EntryAction::ResolveErrors { .. } => "resolve_errors",
            EntryAction::ResolveDifferences { .. } => "resolve_differences",
        }
    }

    fn needs(&self) -> Role {
        match self {
            EntryAction::Claim | EntryAction::Release | EntryAction::Finalise { .. } => {
                Role::TYPIST
            }
            EntryAction::ResolveErrors { .. } | EntryAction::ResolveDifferences { .. } => {
                Role::COORDINATOR
            }
        }
    }
}

/// Applies one action to a station's form, in one transaction.
pub async fn act(
    db: &Db,
    principal: &Principal,
    election: &str,
    station: &str,
    action: EntryAction,
) -> Result<EntryView, ApiError> {
    let election = own_election(db, principal, election).await?;
    let station_id = StationId::parse(station).ok_or_else(|| not_found("polling station"))?;
    let (district, station_definition) = election
        .definition
        .station(&station_id)
        .ok_or_else(|| not_found("polling station"))?;
    let user = principal.user.id.clone();
    let coordinator = principal.has_role(&Role::COORDINATOR);
    // A coordinator may release anyone's claim; everything else needs its role.
    let allowed = principal.has_role(&action.needs())
        || (matches!(action, EntryAction::Release) && coordinator);
    if !allowed {
        return Err(ApiError::Forbidden(format!(
            "{} needs the {} role",
            action.name(),
            action.needs().as_str()
        )));
    }
    let now = Timestamp::now().to_string();
    let mut tx = db.write().await?;
    let (state, version) = store::station_state(tx.conn(), &election.id, &station_id).await?;
    let mut details = json!({});
    let next = match &action {
        EntryAction::Claim => state.claim(&user).map_err(transition_error)?,
        EntryAction::Release => {
            if !coordinator && state.typist_expected() != Some(&user) {
                return Err(ApiError::Forbidden(
                    "only the typist holding the form or a coordinator may release it".into(),
                ));
            }
            state.release().map_err(transition_error)?
        }
        EntryAction::Finalise { counts } => {
            counts
                .check_shape(&election.definition)
                .map_err(ApiError::invalid)?;
            let validation = counts.validate(station_definition);
            details = json!({"counts": counts, "validation": validation});
            state
                .finalise(Entry {
                    typist: user.clone(),
                    counts: counts.clone(),
                    validation,
                    at: now.clone(),
                })
                .map_err(transition_error)?
        }
        EntryAction::ResolveErrors {
            decision,
            explanation,
        } => {
            details = json!({"decision": decision, "explanation": explanation});
            state
                .resolve_errors(*decision, explanation.clone())
                .map_err(transition_error)?
        }
        EntryAction::ResolveDifferences {
            decision,
            explanation,
        } => {
            details = json!({"decision": decision, "explanation": explanation});
            state
                .resolve_differences(*decision)
                .map_err(transition_error)?
        }
    };
    details["state"] = next.name().into();
    store::save_station_state(&mut tx, &election.id, &station_id, version + 1, &next, &now).await?;
    store::append_event(
        &mut tx,
        &election.id,
        &station_id,
        &StationEvent {
            id: ResultsEventId::generate().to_string(),
            action: action.name().into(),
            actor: user.to_string(),
            details,
            at: now.clone(),
        },
    )
    .await?;
    if let EntryState::Definitive {
        result,
        explanation,
        ..
    } = &next
    {
        let key = store::station_key(&election.id, &station_id);
        let previous = store::station_result(tx.conn(), &key).await?;
        let record = StationResultRecord {
            id: key,
            version: previous.map_or(1, |p| p.version + 1),
            election_id: election.id.to_string(),
            station_id: station_id.to_string(),
            district_id: district.id.to_string(),
            counts: serde_json::to_string(&result.counts).unwrap_or_default(),
            warnings: serde_json::to_string(&result.validation.warnings).unwrap_or_default(),
            explanation: explanation.clone(),
            salt: store::new_salt()?,
            accepted_at: now,
        };
        store::save_station_result(&mut tx, &record).await?;
    }
    tx.commit().await?;
    super::cache::note_write();
    Ok(EntryView::of(&next, principal, coordinator))
}

/// A station's form as the asking typist or coordinator may see it: a
/// typist never sees another typist's entry (the second entry is blind).
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct EntryView {
    pub state: &'static str,
    /// Whether the asking user holds the form (may finalise it).
    pub yours: bool,
    /// Whether the asking user could take the form now.
    pub claimable: bool,
    /// The asking typist's own entry, when it was returned for correction.
    #[schema(value_type = Option<Object>)]
    pub your_entry: Option<Entry>,
    /// For coordinators: the entries, the differing fields, the explanation.
    #[schema(value_type = Option<Object>)]
    pub first: Option<Entry>,
    #[schema(value_type = Option<Object>)]
    pub second: Option<Entry>,
    pub differences: Vec<String>,
    pub explanation: Option<String>,
}

impl EntryView {
    pub fn of(state: &EntryState, principal: &Principal, coordinator: bool) -> EntryView {
        let user = &principal.user.id;
        let yours = state.typist_expected() == Some(user);
        let mut view = EntryView {
            state: state.name(),
            yours,
            claimable: principal.has_role(&Role::TYPIST) && state.clone().claim(user).is_ok(),
            your_entry: None,
            first: None,
            second: None,
            differences: Vec::new(),
            explanation: None,
        };
        if let EntryState::EntryCorrection {
            first,
            second,
            returned,
            ..
        } = state
            && yours
        {
            view.your_entry = Some(match returned {
                super::domain::Which::First => first.clone(),
                super::domain::Which::Second => second.clone(),
            });
        }
        if coordinator {
            match state {
                EntryState::FirstEntryHasErrors { first } => view.first = Some(first.clone()),
                EntryState::FirstEntryFinalised { first, explanation }
                | EntryState::SecondEntryInProgress {
                    first, explanation, ..
                } => {
                    view.first = Some(first.clone());
                    view.explanation = explanation.clone();
                }
                EntryState::EntriesDifferent {
                    first,
                    second,
                    differences,
                    explanation,
                } => {
                    view.first = Some(first.clone());
                    view.second = Some(second.clone());
                    view.differences = differences.clone();
                    view.explanation = explanation.clone();
                }
                EntryState::EntryCorrection {
                    first,
                    second,
                    explanation,
                    ..
                } => {
                    view.first = Some(first.clone());
                    view.second = Some(second.clone());
                    view.differences = first.counts.differences(&second.counts);
                    view.explanation = explanation.clone();
                }
                EntryState::Definitive {
                    result,
                    explanation,
                    ..
                } => {
                    view.first = Some(result.clone());
                    view.explanation = explanation.clone();
                }
                EntryState::Empty | EntryState::FirstEntryInProgress { .. } => {}
            }
        }
        view
    }
}

/// A station's form for the asking user, with its events for coordinators.
pub async fn entry_view(
    db: &Db,
    principal: &Principal,
    election: &str,
    station: &str,
) -> Result<(StoredElection, StationId, EntryView, Vec<StationEvent>), ApiError> {
    let election = own_election(db, principal, election).await?;
    let station_id = StationId::parse(station)
        .filter(|s| election.definition.station(s).is_some())
        .ok_or_else(|| not_found("polling station"))?;
    let (state, _) = store::station_state(db.pool(), &election.id, &station_id).await?;
    let coordinator = principal.has_role(&Role::COORDINATOR);
    let events = if coordinator {
        store::events(db.pool(), &election.id, &station_id).await?
    } else {
        Vec::new()
    };
    let view = EntryView::of(&state, principal, coordinator);
    Ok((election, station_id, view, events))
}

/// One line of the typing overview.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct StationStatus {
    pub station: String,
    pub name: String,
    pub district: String,
    pub state: &'static str,
    /// Whether the asking user holds it.
    pub yours: bool,
    /// Whether the asking user could take it now.
    pub claimable: bool,
    /// Whether it waits for the asking coordinator's decision.
    pub needs_decision: bool,
}

/// Every station of an election the principal's organisation runs, with its state.
pub async fn overview(
    db: &Db,
    principal: &Principal,
    election: &str,
) -> Result<(StoredElection, Vec<StationStatus>), ApiError> {
    let election = own_election(db, principal, election).await?;
    let states = store::station_states(db.pool(), &election.id).await?;
    let coordinator = principal.has_role(&Role::COORDINATOR);
    let rows = election
        .definition
        .stations()
        .map(|(district, station)| {
            let state = states.get(&station.id).unwrap_or(&EntryState::Empty);
            let view = EntryView::of(state, principal, false);
            StationStatus {
                station: station.id.to_string(),
                name: station.name.clone(),
                district: district.name.clone(),
                state: state.name(),
                yours: view.yours,
                claimable: view.claimable,
                needs_decision: coordinator && state.needs_coordinator(),
            }
        })
        .collect();
    Ok((election, rows))
}

/// The elections the principal's organisation runs (its typists and coordinators).
pub async fn own_elections(
    db: &Db,
    principal: &Principal,
) -> Result<Vec<StoredElection>, ApiError> {
    results_staff(principal)?;
    Ok(store::elections(db.pool())
        .await?
        .into_iter()
        .filter(|e| e.organisation == principal.organisation.id)
        .collect())
}

/// Records the list drawn by lot for the next tie of a unit's apportionment.
pub async fn draw_lot(
    db: &Db,
    principal: &Principal,
    election: &str,
    unit: &str,
    list_number: u32,
) -> Result<StoredElection, ApiError> {
    let election = own_election(db, principal, election).await?;
    if !principal.has_role(&Role::COORDINATOR) {
        return Err(ApiError::Forbidden(
            "this needs the coordinator role".into(),
        ));
    }
    let list = election
        .definition
        .lists
        .iter()
        .position(|l| l.number == list_number)
        .ok_or_else(|| {
            ApiError::invalid(vec![FieldError::new("list", "no list has this number")])
        })?;
    let mut tx = db.write().await?;
    let current = store::election(tx.conn(), election.id.as_str())
        .await?
        .ok_or_else(|| not_found("election"))?;
    let results = definitive_counts(&store::station_results(tx.conn(), &current.id).await?);
    let tally = tally::tally(&current.definition, &results);
    let units = tally::seats(&current.definition, &tally, &current.lots);
    let unit_seats = units
        .iter()
        .find(|u| tally::unit_key(u.district.as_ref()) == unit)
        .ok_or_else(|| not_found("apportionment unit"))?;
    let tied = match &unit_seats.outcome {
        tally::SeatsOutcome::Computed(vigil_apportion::Outcome::DrawingOfLotsRequired {
            tied,
            ..
        }) => tied.clone(),
        _ => {
            return Err(ApiError::Conflict(
                "no drawing of lots is required for this unit".into(),
            ));
        }
    };
    if !tied.contains(&list) {
        return Err(ApiError::invalid(vec![FieldError::new(
            "list",
            "this list is not among the tied lists",
        )]));
    }
    let mut next = current.clone();
    next.version += 1;
    next.updated_at = Timestamp::now().to_string();
    next.lots.entry(unit.to_string()).or_default().push(list);
    store::save_election(&mut tx, &next).await?;
    audit::record(
        &mut tx,
        AuditEvent {
            actor: &principal.actor(),
            action: "results.lot_drawn",
            subject: next.id.as_str(),
            outcome: Outcome::Success,
            details: json!({"unit": unit, "list": list_number, "tied": tied}),
            ip: None,
        },
    )
    .await?;
    tx.commit().await?;
    super::cache::note_write();
    Ok(next)
}

// ---------- publication ----------

/// The counts of stored results by station (a row that does not parse is
/// left out; `vigil log verify` names it).
pub fn definitive_counts<'a>(
    records: impl IntoIterator<Item = &'a StationResultRecord>,
) -> HashMap<StationId, StationCounts> {
    records
        .into_iter()
        .filter_map(|r| {
            let counts = serde_json::from_str(&r.counts).ok()?;
            Some((StationId::from_stored(r.station_id.clone()), counts))
        })
        .collect()
}

/// A station's published result with what proves it.
#[derive(Clone, Debug, Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct PublishedStation {
    /// The logged record (with its salt), to recompute its leaf.
    pub record: StationResultRecord,
    pub leaf_index: u64,
}

/// A station's commitment during the embargo: only where its salted hash is.
#[derive(Clone, Debug, Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct CommittedStation {
    pub station_id: String,
    pub leaf_index: u64,
    /// The leaf entry, whose record hash commits to the result.
    pub leaf_entry: String,
}

/// What the public sees of an election.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct PublicResults {
    pub id: String,
    pub name: String,
    pub date: String,
    pub release_at: String,
    /// True until the release time: figures are withheld, commitments shown.
    pub embargoed: bool,
    #[schema(value_type = Object)]
    pub progress: tally::Progress,
    #[schema(value_type = Object)]
    pub definition: ElectionDefinition,
    #[schema(value_type = Option<Object>)]
    pub tally: Option<ElectionTally>,
    #[schema(value_type = Option<Object>)]
    pub seats: Option<Vec<UnitSeats>>,
    /// Seats per list over all units, when complete.
    pub seats_per_list: Option<Vec<u32>>,
    /// During the embargo: where each accepted result is committed.
    pub committed: Vec<CommittedStation>,
    /// After the release: every station's logged record.
    pub stations: Vec<PublishedStation>,
    /// The lots drawn per apportionment unit (list indexes).
    pub lots: BTreeMap<String, Vec<usize>>,
    /// The election's logged record (its definition and lots as text) and
    /// its leaf, so that verifiers recompute from what the log holds.
    pub election_record: ElectionRecord,
    pub election_leaf_index: u64,
}

impl PublicResults {
    /// What a results page or a newsroom polls on election night: the
    /// totals and seats without every station's record.
    pub fn summary(&self) -> PublicSummary {
        PublicSummary {
            id: self.id.clone(),
            name: self.name.clone(),
            date: self.date.clone(),
            release_at: self.release_at.clone(),
            embargoed: self.embargoed,
            progress: self.progress,
            lists: self.definition.lists.clone(),
            tally: self.tally.clone(),
            seats: self.seats.clone(),
            seats_per_list: self.seats_per_list.clone(),
            lots: self.lots.clone(),
        }
    }
}

/// An election's totals and seats (the full results without the stations'
/// records, the definition and the commitments).
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct PublicSummary {
    pub id: String,
    pub name: String,
    pub date: String,
    pub release_at: String,
    pub embargoed: bool,
    #[schema(value_type = Object)]
    pub progress: tally::Progress,
    #[schema(value_type = Vec<Object>)]
    pub lists: Vec<super::domain::definition::ListDefinition>,
    #[schema(value_type = Option<Object>)]
    pub tally: Option<ElectionTally>,
    #[schema(value_type = Option<Object>)]
    pub seats: Option<Vec<UnitSeats>>,
    pub seats_per_list: Option<Vec<u32>>,
    pub lots: BTreeMap<String, Vec<usize>>,
}

/// An election as the public may see it at `now`.
pub async fn public_results(
    db: &Db,
    ledger: &crate::core::ledger::Ledger,
    id: &str,
    now: Timestamp,
) -> Result<PublicResults, ApiError> {
    let election_record = store::election_record(db.pool(), id)
        .await?
        .ok_or_else(|| not_found("election"))?;
    let election = election_record.parse()?;
    let election_leaf_index = ledger
        .find_leaf(
            crate::core::ledger::kinds::RESULTS_ELECTION.kind,
            id,
            Some(election_record.version),
        )
        .await?
        .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("election {id} has no log leaf")))?;
    let logged = store::logged_station_results(db.pool(), &election.id).await?;
    let embargoed = now < election.definition.release_at();
    let counts = definitive_counts(logged.iter().map(|l| &l.record));
    let tally = tally::tally(&election.definition, &counts);
    let progress = tally.progress;
    let mut public = PublicResults {
        id: election.id.to_string(),
        name: election.definition.name.clone(),
        date: election.definition.date.clone(),
        release_at: election.definition.release_at.clone(),
        embargoed,
        progress,
        definition: election.definition.clone(),
        tally: None,
        seats: None,
        seats_per_list: None,
        committed: Vec::new(),
        stations: Vec::new(),
        lots: election.lots.clone(),
        election_record,
        election_leaf_index,
    };
    if embargoed {
        public.committed = logged
            .into_iter()
            .map(|l| CommittedStation {
                station_id: l.record.station_id,
                leaf_index: l.leaf_index,
                leaf_entry: l.leaf_entry,
            })
            .collect();
        return Ok(public);
    }
    let units = tally::seats(&election.definition, &tally, &election.lots);
    public.seats_per_list = tally::seats_per_list(&units, election.definition.lists.len());
    public.seats = Some(units);
    public.tally = Some(tally);
    public.stations = logged
        .into_iter()
        .map(|l| PublishedStation {
            record: l.record,
            leaf_index: l.leaf_index,
        })
        .collect();
    Ok(public)
}

/// Makes sure a signed checkpoint covers every leaf the results name, so a
/// verifier can check them at once (as an inclusion proof does).
pub async fn ensure_checkpoint(
    ledger: &crate::core::ledger::Ledger,
    public: &PublicResults,
) -> Result<(), ApiError> {
    let needed = public
        .stations
        .iter()
        .map(|s| s.leaf_index)
        .chain(public.committed.iter().map(|c| c.leaf_index))
        .chain([public.election_leaf_index])
        .max()
        .unwrap_or(0)
        + 1;
    let signed = ledger
        .latest_checkpoint()
        .await?
        .map_or(0, |c| c.checkpoint.size);
    if signed < needed {
        ledger.checkpoint().await?;
    }
    Ok(())
}

/// Every election, newest polling day first, with its progress.
pub async fn public_elections(db: &Db) -> Result<Vec<(StoredElection, tally::Progress)>, ApiError> {
    let counted = store::counted_per_election(db.pool()).await?;
    let mut out: Vec<(StoredElection, tally::Progress)> = store::elections(db.pool())
        .await?
        .into_iter()
        .map(|election| {
            let progress = tally::Progress {
                counted: counted.get(election.id.as_str()).copied().unwrap_or(0),
                stations: election.definition.station_count(),
            };
            (election, progress)
        })
        .collect();
    out.sort_by(|a, b| b.0.definition.date.cmp(&a.0.definition.date));
    Ok(out)
}

/// Results per station as CSV: one row per counted station, a column per
/// list and candidate (after the release only).
pub fn results_csv(public: &PublicResults) -> String {
    let definition = &public.definition;
    let mut header = vec![
        "district".to_string(),
        "station".into(),
        "station_name".into(),
        "registered_voters".into(),
        "voters".into(),
        "votes_cast".into(),
        "blank".into(),
        "invalid".into(),
    ];
    for list in &definition.lists {
        header.push(format!("list {} {}", list.number, list.name));
        for candidate in &list.candidates {
            header.push(format!("list {} {}", list.number, candidate));
        }
    }
    let mut out = crate::core::csv::line(&header);
    let by_station: HashMap<&str, &StationResultRecord> = public
        .stations
        .iter()
        .map(|s| (s.record.station_id.as_str(), &s.record))
        .collect();
    for (district, station) in definition.stations() {
        let Some(record) = by_station.get(station.id.as_str()) else {
            continue;
        };
        let Ok(counts) = serde_json::from_str::<StationCounts>(&record.counts) else {
            continue;
        };
        let mut row = vec![
            district.id.to_string(),
            station.id.to_string(),
            station.name.clone(),
            station.registered_voters.to_string(),
            counts.voters.to_string(),
            counts.votes_cast.to_string(),
            counts.blank.to_string(),
            counts.invalid.to_string(),
        ];
        for list in &counts.lists {
            row.push(list.total.to_string());
            row.extend(list.candidates.iter().map(u64::to_string));
        }
        out.push_str(&crate::core::csv::line(&row));
    }
    out
}

/// Which EML document of the published results.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EmlDocument {
    /// 510, the count: totals per district and every station's figures.
    Count,
    /// 520, the result: votes per list and apportionment unit, elected lists.
    Result,
}

/// The published results as an EML document (after the release only). Its
/// `TransactionId` is the highest log leaf it rests on, so two exports of
/// the same state carry the same id.
pub fn results_eml(public: &PublicResults, document: EmlDocument) -> Option<String> {
    let tally = public.tally.as_ref()?;
    let transaction = public
        .stations
        .iter()
        .map(|s| s.leaf_index)
        .chain([public.election_leaf_index])
        .max()
        .unwrap_or(0)
        .to_string();
    let issued: String = Timestamp::now().to_string().chars().take(10).collect();
    Some(match document {
        EmlDocument::Count => {
            let stations: HashMap<&str, StationCounts> = public
                .stations
                .iter()
                .filter_map(|s| {
                    let counts = serde_json::from_str(&s.record.counts).ok()?;
                    Some((s.record.station_id.as_str(), counts))
                })
                .collect();
            super::domain::eml::count_510(
                &public.definition,
                tally,
                &stations,
                &transaction,
                &issued,
            )
        }
        EmlDocument::Result => super::domain::eml::result_520(
            &public.definition,
            tally,
            public.seats.as_deref().unwrap_or_default(),
            &transaction,
            &issued,
        ),
    })
}
