//! `vigil results verify`: what an observer checks of an election's
//! published results without trusting the server. It downloads the results
//! and the whole log (checked against its signed checkpoint), then checks
//! that every published station record is the one in the log (recomputing
//! its hash from the published columns and salt), that nothing logged is
//! withheld or stale, re-adds every total and recomputes the seats.
use super::domain::tally;
use super::domain::{ElectionDefinition, StationCounts, StationId};
use super::service::{CommittedStation, PublishedStation};
use super::store::ElectionRecord;
use crate::core::ledger::kinds;
use crate::core::ledger::remote::{DownloadedLog, download_log, get_json};
use crate::core::time::Timestamp;
use serde::Serialize;
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use vigil_tlog::{LeafEntry, LogVerifier};

#[derive(Clone, Debug, Serialize)]
pub struct Discrepancy {
    pub subject: String,
    pub problem: String,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct ResultsReport {
    pub election: String,
    pub tree_size: u64,
    pub embargoed: bool,
    pub stations_checked: usize,
    /// Published results whose leaf was appended before the release time.
    pub committed_before_release: usize,
    pub seats_per_list: Option<Vec<u32>>,
    pub problems: Vec<Discrepancy>,
}

impl ResultsReport {
    pub fn ok(&self) -> bool {
        self.problems.is_empty()
    }

    fn problem(&mut self, subject: impl Into<String>, problem: impl Into<String>) {
        self.problems.push(Discrepancy {
            subject: subject.into(),
            problem: problem.into(),
        });
    }
}

/// Downloads and checks the results of `election` served at `base`.
pub fn verify_results(
    base: &str,
    election: &str,
    key: Option<&LogVerifier>,
) -> anyhow::Result<ResultsReport> {
    // The results first: a result accepted meanwhile is then in the log too.
    let public = get_json(base, &format!("/api/results/elections/{election}"))?;
    let log = download_log(base, key)?;
    Ok(check(&public, &log))
}

/// The newest leaf of every record of `kind` whose id starts with `prefix`.
fn newest_leaves<'a>(
    entries: &'a [Option<LeafEntry>],
    kind: &str,
    prefix: &str,
) -> BTreeMap<&'a str, (u64, &'a LeafEntry)> {
    let mut newest: BTreeMap<&str, (u64, &LeafEntry)> = BTreeMap::new();
    for (index, entry) in entries.iter().enumerate() {
        let Some(entry) = entry else { continue };
        if entry.kind != kind || !entry.id.starts_with(prefix) {
            continue;
        }
        let slot = newest
            .entry(entry.id.as_str())
            .or_insert((index as u64, entry));
        if entry.version >= slot.1.version {
            *slot = (index as u64, entry);
        }
    }
    newest
}

/// Checks that `hash` of record `id` version `version` is the leaf at `index`.
fn check_leaf(
    report: &mut ResultsReport,
    subject: &str,
    log: &DownloadedLog,
    index: u64,
    (kind, id, version): (&str, &str, u64),
    hash: vigil_tlog::Hash,
) -> Option<String> {
    let Some(Some(entry)) = usize::try_from(index).ok().and_then(|i| log.entries.get(i)) else {
        report.problem(subject, format!("leaf {index} is not in the signed log"));
        return None;
    };
    if entry.kind != kind || entry.id != id || entry.version != version {
        report.problem(
            subject,
            format!(
                "leaf {index} holds {} {} version {}, not this record",
                entry.kind, entry.id, entry.version
            ),
        );
        return None;
    }
    if entry.record_hash != hash {
        report.problem(
            subject,
            format!("the published figures differ from what the log holds at leaf {index}: they were changed after they were logged"),
        );
        return None;
    }
    Some(entry.time.clone())
}

/// Compares two JSON values, naming every differing path.
fn differences(path: &str, published: &Value, recomputed: &Value, out: &mut Vec<Discrepancy>) {
    match (published, recomputed) {
        (Value::Object(a), Value::Object(b)) => {
            for (key, value) in b {
                let child = format!("{path}.{key}");
                differences(&child, a.get(key).unwrap_or(&Value::Null), value, out);
            }
            for key in a.keys().filter(|k| !b.contains_key(*k)) {
                out.push(Discrepancy {
                    subject: format!("{path}.{key}"),
                    problem: "published but not recomputed".into(),
                });
            }
        }
        (Value::Array(a), Value::Array(b)) if a.len() == b.len() => {
            for (i, (x, y)) in a.iter().zip(b).enumerate() {
                differences(&format!("{path}[{i}]"), x, y, out);
            }
        }
        (a, b) if a == b => {}
        (a, b) => out.push(Discrepancy {
            subject: path.to_string(),
            problem: format!("published {a}, recomputed {b}"),
        }),
    }
}

/// Names every station whose result is in the log but not among `shown`.
fn withheld<'a>(
    report: &mut ResultsReport,
    logged: &BTreeMap<&str, (u64, &LeafEntry)>,
    shown: impl Iterator<Item = &'a str>,
    prefix: &str,
) {
    let shown: std::collections::HashSet<&str> = shown.collect();
    for id in logged.keys() {
        let station = id.trim_start_matches(prefix);
        if !shown.contains(station) {
            report.problem(
                format!("station {station}"),
                "the log holds a result for it that is not published",
            );
        }
    }
}

/// Checks published results against a downloaded log.
pub fn check(public: &Value, log: &DownloadedLog) -> ResultsReport {
    let mut report = ResultsReport {
        election: public["id"].as_str().unwrap_or_default().to_string(),
        tree_size: log.checkpoint.checkpoint.size,
        embargoed: public["embargoed"].as_bool().unwrap_or(false),
        ..ResultsReport::default()
    };
    let election = report.election.clone();
    // The definition and lots: from the logged election record only.
    let Ok(record) = serde_json::from_value::<ElectionRecord>(public["election_record"].clone())
    else {
        report.problem("election", "the results carry no readable election record");
        return report;
    };
    let index = public["election_leaf_index"].as_u64().unwrap_or(u64::MAX);
    check_leaf(
        &mut report,
        "election definition",
        log,
        index,
        (kinds::RESULTS_ELECTION.kind, &record.id, record.version),
        record.record().hash(None),
    );
    if record.id != election {
        report.problem(
            "election definition",
            format!("it is the record of {}", record.id),
        );
    }
    let newest = newest_leaves(&log.entries, kinds::RESULTS_ELECTION.kind, &record.id);
    if let Some((_, entry)) = newest.get(record.id.as_str())
        && entry.version > record.version
    {
        report.problem(
            "election definition",
            format!(
                "version {} is published but the log holds version {}",
                record.version, entry.version
            ),
        );
    }
    let definition = match ElectionDefinition::from_json(record.definition.as_bytes()) {
        Ok(d) => d,
        Err(e) => {
            report.problem(
                "election definition",
                format!("the logged definition does not read: {e:?}"),
            );
            return report;
        }
    };
    let lots: BTreeMap<String, Vec<usize>> = match serde_json::from_str(&record.lots) {
        Ok(lots) => lots,
        Err(e) => {
            report.problem("lots", format!("the logged lots do not read: {e}"));
            return report;
        }
    };
    let mut problems = Vec::new();
    if let Ok(logged) = serde_json::to_value(&definition) {
        differences("definition", &public["definition"], &logged, &mut problems);
    }
    let prefix = format!("{election}/");
    let logged_results = newest_leaves(&log.entries, kinds::RESULTS_STATION_RESULT.kind, &prefix);
    if report.embargoed {
        let committed: Vec<CommittedStation> =
            serde_json::from_value(public["committed"].clone()).unwrap_or_default();
        for commitment in &committed {
            let id = format!("{prefix}{}", commitment.station_id);
            match logged_results.get(id.as_str()) {
                Some((index, _)) if *index == commitment.leaf_index => report.stations_checked += 1,
                _ => report.problem(
                    format!("station {}", commitment.station_id),
                    format!("no commitment of it at leaf {}", commitment.leaf_index),
                ),
            }
        }
        withheld(
            &mut report,
            &logged_results,
            committed.iter().map(|c| c.station_id.as_str()),
            &prefix,
        );
        report.problems.extend(problems);
        return report;
    }
    let release = definition.release_at();
    let stations: Vec<PublishedStation> = match serde_json::from_value(public["stations"].clone()) {
        Ok(s) => s,
        Err(e) => {
            report.problem(
                "stations",
                format!("the published stations do not read: {e}"),
            );
            return report;
        }
    };
    let districts = definition.district_of_stations();
    let mut counts: HashMap<StationId, StationCounts> = HashMap::new();
    for station in &stations {
        let record = &station.record;
        let subject = format!("station {}", record.station_id);
        report.stations_checked += 1;
        let Some(time) = check_leaf(
            &mut report,
            &subject,
            log,
            station.leaf_index,
            (
                kinds::RESULTS_STATION_RESULT.kind,
                &record.id,
                record.version,
            ),
            record.record().hash(None),
        ) else {
            continue;
        };
        if Timestamp::parse(&time).is_some_and(|t| t < release) {
            report.committed_before_release += 1;
        }
        match districts.get(record.station_id.as_str()) {
            Some(district) if district.id.as_str() == record.district_id => {}
            _ => report.problem(
                &subject,
                "it is not a polling station of this district in the definition",
            ),
        }
        if record.id != format!("{prefix}{}", record.station_id) || record.election_id != election {
            report.problem(&subject, "its record belongs to another election");
        }
        if let Some((_, newest)) = logged_results.get(record.id.as_str())
            && newest.version > record.version
        {
            report.problem(
                &subject,
                format!(
                    "version {} is published but the log holds version {}",
                    record.version, newest.version
                ),
            );
        }
        match serde_json::from_str::<StationCounts>(&record.counts) {
            Ok(c) if c.check_shape(&definition).is_ok() => {
                counts.insert(StationId::from_stored(record.station_id.clone()), c);
            }
            _ => report.problem(&subject, "its counts do not fit the election's lists"),
        }
    }
    withheld(
        &mut report,
        &logged_results,
        stations.iter().map(|s| s.record.station_id.as_str()),
        &prefix,
    );
    let recount = tally::tally(&definition, &counts);
    let seats = tally::seats(&definition, &recount, &lots);
    let per_list = tally::seats_per_list(&seats, definition.lists.len());
    for (name, recomputed) in [
        ("tally", serde_json::to_value(&recount)),
        ("seats", serde_json::to_value(&seats)),
        ("seats_per_list", serde_json::to_value(&per_list)),
        ("progress", serde_json::to_value(recount.progress)),
    ] {
        if let Ok(recomputed) = recomputed {
            differences(name, &public[name], &recomputed, &mut problems);
        }
    }
    report.seats_per_list = per_list;
    report.problems.extend(problems);
    report
}
