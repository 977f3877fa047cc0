//! The typing screens for polling-station results, over the same use cases
//! as the JSON API (`results::service`): a typist takes a form, copies the
//! paper and sends it; the second typist never sees the first entry; a
//! coordinator compares two entries field by field, or a form that does not
//! add up, and records a decision. Before an entry is sent, its validation
//! findings are shown and the typist confirms that the paper says so:
//! typists copy the paper as it is (errors go to the coordinator).
use super::*;
use crate::accounts::domain::Role;
use crate::accounts::store as accounts_store;
use crate::results::domain::{
    DifferencesDecision, ElectionDefinition, Entry, ErrorsDecision, Finding, ListCount,
    StationCounts, definition::StationDefinition,
};
use crate::results::service::{self, EntryAction, EntryView};
use crate::results::store::StationEvent;
use axum::Form;
use axum::extract::{Path, Query};
use serde::Deserialize;
use std::collections::HashMap;

/// What a state is called on the screens.
fn state_label(state: &str) -> &'static str {
    match state {
        "empty" => "Not entered",
        "first_entry_in_progress" => "First entry being typed",
        "first_entry_has_errors" => "Form does not add up: coordinator",
        "first_entry_finalised" => "Awaiting the second entry",
        "second_entry_in_progress" => "Second entry being typed",
        "entries_different" => "Entries differ: coordinator",
        "entry_correction" => "Returned for correction",
        "definitive" => "Definitive",
        _ => "Unknown",
    }
}

fn state_badge(state: &str) -> &'static str {
    match state {
        "definitive" => "ok",
        "first_entry_has_errors" | "entries_different" => "attention",
        _ => "pending",
    }
}

// ---------- the elections ----------

pub struct ElectionLine {
    id: String,
    name: String,
    date: String,
    counted: usize,
    stations: usize,
}

#[derive(Template)]
#[template(path = "typing_index.html")]
struct IndexPage {
    chrome: Chrome,
    elections: Vec<ElectionLine>,
}

pub async fn index(State(state): State<AppState>, analyst: Analyst) -> PageResult {
    let own = service::own_elections(&state.db, &analyst.principal).await?;
    let counted = crate::results::store::counted_per_election(state.db.pool()).await?;
    let elections = own
        .into_iter()
        .map(|e| ElectionLine {
            counted: counted.get(e.id.as_str()).copied().unwrap_or(0),
            stations: e.definition.station_count(),
            id: e.id.to_string(),
            name: e.definition.name,
            date: e.definition.date,
        })
        .collect();
    Ok(render(&IndexPage {
        chrome: Chrome::for_user("Typing results", &analyst, "typing", None),
        elections,
    }))
}

// ---------- an election's stations ----------

pub struct StationLine {
    id: String,
    name: String,
    district: String,
    state: &'static str,
    badge: &'static str,
    yours: bool,
    claimable: bool,
    needs_decision: bool,
    /// The button's words when the form can be taken.
    claim_label: &'static str,
}

#[derive(Template)]
#[template(path = "typing_election.html")]
struct ElectionPage {
    chrome: Chrome,
    id: String,
    name: String,
    coordinator: bool,
    stations: Vec<StationLine>,
    /// (label, number) per state, in the order of the workflow.
    summary: Vec<(&'static str, usize)>,
    attention: usize,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct DoneQuery {
    done: String,
}

pub async fn election(
    State(state): State<AppState>,
    analyst: Analyst,
    Path(id): Path<String>,
    Query(query): Query<DoneQuery>,
) -> PageResult {
    let (election, rows) = service::overview(&state.db, &analyst.principal, &id).await?;
    let mut summary: Vec<(&'static str, usize)> = Vec::new();
    for row in &rows {
        let label = state_label(row.state);
        match summary.iter_mut().find(|(l, _)| *l == label) {
            Some((_, n)) => *n += 1,
            None => summary.push((label, 1)),
        }
    }
    let stations: Vec<StationLine> = rows
        .into_iter()
        .map(|row| StationLine {
            claim_label: if row.state == "empty" {
                "Type the first entry"
            } else {
                "Type the second entry"
            },
            badge: state_badge(row.state),
            state: state_label(row.state),
            id: row.station,
            name: row.name,
            district: row.district,
            yours: row.yours,
            claimable: row.claimable,
            needs_decision: row.needs_decision,
        })
        .collect();
    Ok(render(&ElectionPage {
        chrome: Chrome::for_user(
            election.definition.name.clone(),
            &analyst,
            "typing",
            Some(query.done.as_str()),
        ),
        id: election.id.to_string(),
        name: election.definition.name.clone(),
        coordinator: analyst.principal.has_role(&Role::COORDINATOR),
        attention: stations.iter().filter(|s| s.needs_decision).count(),
        stations,
        summary,
    }))
}

// ---------- one station's form ----------

/// One number of the form: its path (the name the API and the validation
/// findings use), an HTML id, its label and what is shown in it.
pub struct CountField {
    path: String,
    id: String,
    label: String,
    value: String,
    error: Option<String>,
    /// Validation codes that name this field.
    codes: Vec<&'static str>,
}

/// A group of fields: the totals, then one per list.
pub struct FieldGroup {
    title: String,
    fields: Vec<CountField>,
}

/// The form's fields in paper order, labelled from the definition.
fn form_fields(definition: &ElectionDefinition) -> Vec<FieldGroup> {
    let field = |path: String, label: String| CountField {
        id: path
            .split(|c: char| !c.is_ascii_alphanumeric() && c != '_')
            .filter(|part| !part.is_empty())
            .collect::<Vec<_>>()
            .join("-"),
        path,
        label,
        value: String::new(),
        error: None,
        codes: Vec::new(),
    };
    let mut groups = vec![FieldGroup {
        title: "Voters and ballots".into(),
        fields: vec![
            field("voters".into(), "Voters admitted (poll book)".into()),
            field(
                "votes_cast".into(),
                "Ballots in the box (votes cast)".into(),
            ),
            field("blank".into(), "Blank votes".into()),
            field("invalid".into(), "Invalid votes".into()),
        ],
    }];
    for (i, list) in definition.lists.iter().enumerate() {
        let mut fields = vec![field(
            format!("lists[{i}].total"),
            format!("Total of list {}", list.number),
        )];
        fields.extend(list.candidates.iter().enumerate().map(|(c, name)| {
            field(
                format!("lists[{i}].candidates[{c}]"),
                format!("{}. {name}", c + 1),
            )
        }));
        groups.push(FieldGroup {
            title: format!("List {}: {}", list.number, list.name),
            fields,
        });
    }
    groups
}

/// Every field's value in an entry, by path.
fn values_of(counts: &StationCounts) -> HashMap<String, u64> {
    let mut values = HashMap::from([
        ("voters".to_string(), counts.voters),
        ("votes_cast".into(), counts.votes_cast),
        ("blank".into(), counts.blank),
        ("invalid".into(), counts.invalid),
    ]);
    for (i, list) in counts.lists.iter().enumerate() {
        values.insert(format!("lists[{i}].total"), list.total);
        for (c, votes) in list.candidates.iter().enumerate() {
            values.insert(format!("lists[{i}].candidates[{c}]"), *votes);
        }
    }
    values
}

/// Reads the typed numbers: every field must hold a whole number (typists
/// type 0 for an empty box, as the paper shows it).
fn read_counts(
    groups: &mut [FieldGroup],
    sent: &HashMap<String, String>,
) -> Result<StationCounts, Vec<FieldError>> {
    let mut errors = Vec::new();
    let mut values: HashMap<String, u64> = HashMap::new();
    for field in groups.iter_mut().flat_map(|g| g.fields.iter_mut()) {
        let text: String = sent
            .get(&field.path)
            .map(|v| v.chars().filter(|c| !c.is_whitespace()).collect())
            .unwrap_or_default();
        field.value = text.clone();
        let problem = if text.is_empty() {
            Some("type the number on the form (0 if the box is empty)")
        } else if !text.chars().all(|c| c.is_ascii_digit()) {
            Some("a whole number, digits only")
        } else {
            match text.parse::<u64>() {
                Ok(n) => {
                    values.insert(field.path.clone(), n);
                    None
                }
                Err(_) => Some("this number is too large"),
            }
        };
        if let Some(message) = problem {
            field.error = Some(message.into());
            errors.push(FieldError::new(&field.path, message));
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let get = |path: &str| values.get(path).copied().unwrap_or(0);
    let lists = groups
        .iter()
        .skip(1)
        .enumerate()
        .map(|(i, group)| ListCount {
            total: get(&format!("lists[{i}].total")),
            candidates: (0..group.fields.len() - 1)
                .map(|c| get(&format!("lists[{i}].candidates[{c}]")))
                .collect(),
        })
        .collect();
    Ok(StationCounts {
        voters: get("voters"),
        votes_cast: get("votes_cast"),
        blank: get("blank"),
        invalid: get("invalid"),
        lists,
    })
}

fn fill(groups: &mut [FieldGroup], counts: &StationCounts) {
    let values = values_of(counts);
    for field in groups.iter_mut().flat_map(|g| g.fields.iter_mut()) {
        field.value = values
            .get(&field.path)
            .map_or_else(String::new, u64::to_string);
    }
}

/// Marks the fields each finding names (a finding may name a whole list's
/// candidates as `lists[i].candidates`).
fn mark_findings(groups: &mut [FieldGroup], findings: &[Finding]) {
    for field in groups.iter_mut().flat_map(|g| g.fields.iter_mut()) {
        for finding in findings {
            let named = finding.fields.iter().any(|f| {
                f == &field.path
                    || field
                        .path
                        .strip_prefix(f.as_str())
                        .is_some_and(|rest| rest.starts_with('['))
            });
            if named && !field.codes.contains(&finding.code.as_str()) {
                field.codes.push(finding.code.as_str());
            }
        }
    }
}

/// A validation finding in words, with the labels of its fields.
pub struct FindingLine {
    code: &'static str,
    error: bool,
    text: &'static str,
    fields: String,
}

fn finding_lines(groups: &[FieldGroup], findings: &[Finding]) -> Vec<FindingLine> {
    let labels: HashMap<&str, &str> = groups
        .iter()
        .flat_map(|g| &g.fields)
        .map(|f| (f.path.as_str(), f.label.as_str()))
        .collect();
    findings
        .iter()
        .map(|f| FindingLine {
            code: f.code.as_str(),
            error: f.code.is_error(),
            text: f.code.description(),
            fields: f
                .fields
                .iter()
                .map(|p| labels.get(p.as_str()).copied().unwrap_or(p.as_str()))
                .collect::<Vec<_>>()
                .join(", "),
        })
        .collect()
}

/// One line of the coordinator's comparison.
pub struct CompareRow {
    label: String,
    first: String,
    second: String,
    differs: bool,
}

pub struct EventLine {
    at: String,
    action: String,
    actor: String,
    state: String,
}

#[derive(Template)]
#[template(path = "typing_station.html")]
struct StationPage {
    chrome: Chrome,
    election_id: String,
    election_name: String,
    station_id: String,
    station_name: String,
    district: String,
    registered: u64,
    /// The station as defined (its registered voters for validation).
    station: StationDefinition,
    state: &'static str,
    badge: &'static str,
    view: EntryView,
    coordinator: bool,
    /// The typing form, when the user holds the form.
    groups: Vec<FieldGroup>,
    /// Findings of the entry being sent, shown before it is confirmed.
    findings: Vec<FindingLine>,
    errors: FieldErrors,
    /// The coordinator's view: findings of the first entry, the comparison.
    first_findings: Vec<FindingLine>,
    second_findings: Vec<FindingLine>,
    compare: Vec<CompareRow>,
    /// Who typed the first and second entries (coordinators).
    typists: (String, String),
    events: Vec<EventLine>,
    decision_error: Option<String>,
}

impl StationPage {
    async fn load(
        state: &AppState,
        analyst: &Analyst,
        election: &str,
        station: &str,
    ) -> Result<StationPage, WebError> {
        let (election, station_id, view, events) =
            service::entry_view(&state.db, &analyst.principal, election, station).await?;
        let Some((district, station)) = election.definition.station(&station_id) else {
            return Err(WebError(ApiError::NotFound(
                "no such polling station".into(),
            )));
        };
        let coordinator = analyst.principal.has_role(&Role::COORDINATOR);
        let usernames: HashMap<String, String> = if events.is_empty() {
            HashMap::new()
        } else {
            accounts_store::users(state.db.pool(), Some(&analyst.principal.organisation.id))
                .await?
                .into_iter()
                .map(|u| (u.id.to_string(), u.username.as_str().to_string()))
                .collect()
        };
        let typist_name = |id: &str| usernames.get(id).cloned().unwrap_or_else(|| id.into());
        let mut groups = form_fields(&election.definition);
        if let Some(own) = &view.your_entry {
            fill(&mut groups, &own.counts);
        }
        let findings_of = |entry: &Option<Entry>| {
            entry.as_ref().map_or_else(Vec::new, |e| {
                let all: Vec<Finding> = e
                    .validation
                    .errors
                    .iter()
                    .chain(&e.validation.warnings)
                    .cloned()
                    .collect();
                finding_lines(&groups, &all)
            })
        };
        let first_findings = findings_of(&view.first);
        let second_findings = findings_of(&view.second);
        let compare = match (&view.first, &view.second) {
            (Some(first), Some(second)) => {
                let (a, b) = (values_of(&first.counts), values_of(&second.counts));
                groups
                    .iter()
                    .flat_map(|g| &g.fields)
                    .map(|f| {
                        let (x, y) = (a.get(&f.path), b.get(&f.path));
                        CompareRow {
                            label: f.label.clone(),
                            first: x.map_or_else(String::new, u64::to_string),
                            second: y.map_or_else(String::new, u64::to_string),
                            differs: x != y,
                        }
                    })
                    .collect()
            }
            (Some(only), None) => {
                let a = values_of(&only.counts);
                groups
                    .iter()
                    .flat_map(|g| &g.fields)
                    .map(|f| CompareRow {
                        label: f.label.clone(),
                        first: a.get(&f.path).map_or_else(String::new, u64::to_string),
                        second: String::new(),
                        differs: false,
                    })
                    .collect()
            }
            _ => Vec::new(),
        };
        let typists = (
            view.first
                .as_ref()
                .map_or_else(String::new, |e| typist_name(e.typist.as_str())),
            view.second
                .as_ref()
                .map_or_else(String::new, |e| typist_name(e.typist.as_str())),
        );
        let events = events
            .iter()
            .map(|e: &StationEvent| EventLine {
                at: e.at.clone(),
                action: e.action.replace('_', " "),
                actor: typist_name(&e.actor),
                state: e
                    .details
                    .get("state")
                    .and_then(|s| s.as_str())
                    .map_or("", state_label)
                    .to_string(),
            })
            .collect();
        Ok(StationPage {
            chrome: Chrome::for_user(station.name.clone(), analyst, "typing", None),
            election_id: election.id.to_string(),
            election_name: election.definition.name.clone(),
            station_id: station.id.to_string(),
            station_name: station.name.clone(),
            district: district.name.clone(),
            registered: station.registered_voters,
            station: station.clone(),
            state: state_label(view.state),
            badge: state_badge(view.state),
            coordinator,
            groups,
            findings: Vec::new(),
            errors: FieldErrors(Vec::new()),
            first_findings,
            second_findings,
            compare,
            typists,
            events,
            decision_error: None,
            view,
        })
    }
}

pub async fn station(
    State(state): State<AppState>,
    analyst: Analyst,
    Path((election, station)): Path<(String, String)>,
) -> PageResult {
    Ok(render(
        &StationPage::load(&state, &analyst, &election, &station).await?,
    ))
}

/// Every form of the station page posts here; `action` says which.
pub async fn act(
    State(state): State<AppState>,
    analyst: Analyst,
    Path((election, station)): Path<(String, String)>,
    Form(sent): Form<Vec<(String, String)>>,
) -> PageResult {
    let sent: HashMap<String, String> = sent.into_iter().collect();
    let field = |name: &str| sent.get(name).map_or("", |v| v.as_str());
    check_csrf(&analyst.csrf, field("csrf"))?;
    let explanation = Some(field("explanation").trim().to_string()).filter(|e| !e.is_empty());
    let action = match field("action") {
        "claim" => EntryAction::Claim,
        "release" => EntryAction::Release,
        "finalise" => {
            let mut page = StationPage::load(&state, &analyst, &election, &station).await?;
            let counts = match read_counts(&mut page.groups, &sent) {
                Ok(counts) => counts,
                Err(errors) => {
                    page.errors = FieldErrors(errors);
                    return Ok(render_again(&page));
                }
            };
            // The findings are shown once; the typist confirms the paper says so.
            let validation = counts.validate(&page.station);
            let findings: Vec<Finding> = validation
                .errors
                .iter()
                .chain(&validation.warnings)
                .cloned()
                .collect();
            if !findings.is_empty() && field("confirmed") != "yes" {
                mark_findings(&mut page.groups, &findings);
                page.findings = finding_lines(&page.groups, &findings);
                return Ok(render_again(&page));
            }
            EntryAction::Finalise { counts }
        }
        "resolve_errors" => EntryAction::ResolveErrors {
            decision: match field("decision") {
                "accept" => ErrorsDecision::Accept,
                "discard" => ErrorsDecision::Discard,
                _ => return decision_missing(&state, &analyst, &election, &station).await,
            },
            explanation,
        },
        "resolve_differences" => EntryAction::ResolveDifferences {
            decision: match field("decision") {
                "keep_first" => DifferencesDecision::KeepFirst,
                "keep_second" => DifferencesDecision::KeepSecond,
                "discard_both" => DifferencesDecision::DiscardBoth,
                "return_first" => DifferencesDecision::ReturnFirst,
                "return_second" => DifferencesDecision::ReturnSecond,
                _ => return decision_missing(&state, &analyst, &election, &station).await,
            },
            explanation,
        },
        _ => {
            return Err(WebError(ApiError::invalid(vec![FieldError::new(
                "action",
                "unknown action on this form",
            )])));
        }
    };
    let resolving = matches!(
        action,
        EntryAction::ResolveErrors { .. } | EntryAction::ResolveDifferences { .. }
    );
    match service::act(&state.db, &analyst.principal, &election, &station, action).await {
        Ok(view) => {
            let back = |done: &str| {
                Redirect::to(&format!("/typing/{}?done={done}", url_encode(&election)))
                    .into_response()
            };
            Ok(match field("action") {
                "claim" => Redirect::to(&format!(
                    "/typing/{}/{}",
                    url_encode(&election),
                    url_encode(&station)
                ))
                .into_response(),
                "release" => back("form-released"),
                "finalise" => back(match view.state {
                    "definitive" => "entry-definitive",
                    "entries_different" => "entry-different",
                    "first_entry_has_errors" => "entry-errors",
                    _ => "entry-first",
                }),
                _ => back("decided"),
            })
        }
        // A refused decision (no explanation, say) is shown on the page.
        Err(ApiError::Conflict(message)) if resolving => {
            let mut page = StationPage::load(&state, &analyst, &election, &station).await?;
            page.decision_error = Some(message);
            Ok((StatusCode::CONFLICT, render(&page)).into_response())
        }
        Err(e) => Err(WebError(e)),
    }
}

async fn decision_missing(
    state: &AppState,
    analyst: &Analyst,
    election: &str,
    station: &str,
) -> PageResult {
    let mut page = StationPage::load(state, analyst, election, station).await?;
    page.decision_error = Some("choose a decision".into());
    Ok(render_again(&page))
}
