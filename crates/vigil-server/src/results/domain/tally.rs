//! Aggregation of definitive polling-station results per district and in
//! total, with progress, and the seats apportioned from the totals.
use super::counts::{ListCount, StationCounts};
use super::definition::{ElectionDefinition, StationId};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use vigil_apportion::{Input, List, Outcome, apportion};

/// Stations counted out of all.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Progress {
    pub counted: usize,
    pub stations: usize,
}

impl Progress {
    pub fn complete(&self) -> bool {
        self.counted == self.stations
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DistrictTally {
    pub district: StationId,
    pub name: String,
    pub progress: Progress,
    pub totals: StationCounts,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ElectionTally {
    pub progress: Progress,
    pub totals: StationCounts,
    pub districts: Vec<DistrictTally>,
}

/// Counts of zero in the election's shape.
pub fn zero_counts(definition: &ElectionDefinition) -> StationCounts {
    StationCounts {
        voters: 0,
        votes_cast: 0,
        blank: 0,
        invalid: 0,
        lists: definition
            .lists
            .iter()
            .map(|l| ListCount {
                total: 0,
                candidates: vec![0; l.candidates.len()],
            })
            .collect(),
    }
}

impl StationCounts {
    /// Adds `other` (of the same shape) to these counts.
    pub fn add(&mut self, other: &StationCounts) {
        self.voters += other.voters;
        self.votes_cast += other.votes_cast;
        self.blank += other.blank;
        self.invalid += other.invalid;
        for (sum, list) in self.lists.iter_mut().zip(&other.lists) {
            sum.total += list.total;
            for (s, c) in sum.candidates.iter_mut().zip(&list.candidates) {
                *s += c;
            }
        }
    }
}

/// Sums the definitive results (by station id) per district and overall.
pub fn tally(
    definition: &ElectionDefinition,
    results: &HashMap<StationId, StationCounts>,
) -> ElectionTally {
    let mut totals = zero_counts(definition);
    let mut progress = Progress::default();
    let districts = definition
        .districts
        .iter()
        .map(|district| {
            let mut sums = zero_counts(definition);
            let mut district_progress = Progress {
                counted: 0,
                stations: district.polling_stations.len(),
            };
            for station in &district.polling_stations {
                if let Some(counts) = results.get(&station.id) {
                    sums.add(counts);
                    district_progress.counted += 1;
                }
            }
            totals.add(&sums);
            progress.counted += district_progress.counted;
            progress.stations += district_progress.stations;
            DistrictTally {
                district: district.id.clone(),
                name: district.name.clone(),
                progress: district_progress,
                totals: sums,
            }
        })
        .collect();
    ElectionTally {
        progress,
        totals,
        districts,
    }
}

/// The seats of one apportionment unit.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct UnitSeats {
    /// `None`: the whole election.
    pub district: Option<StationId>,
    pub seats: u32,
    /// Whether every station of the unit is counted (else provisional).
    pub complete: bool,
    #[serde(flatten)]
    pub outcome: SeatsOutcome,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(untagged)]
pub enum SeatsOutcome {
    Computed(Outcome),
    /// No votes yet, or an input the method refuses (named).
    NotComputed {
        not_computed: String,
    },
}

/// The key under which the lots of a unit are kept.
pub fn unit_key(district: Option<&StationId>) -> String {
    district.map_or_else(|| "election".to_string(), |d| d.to_string())
}

/// Apportions the seats of every unit from the tally, using the lots drawn so far.
pub fn seats(
    definition: &ElectionDefinition,
    tally: &ElectionTally,
    lots: &BTreeMap<String, Vec<usize>>,
) -> Vec<UnitSeats> {
    definition
        .units()
        .into_iter()
        .map(|unit| {
            let (totals, complete) = match &unit.district {
                None => (&tally.totals, tally.progress.complete()),
                Some(id) => match tally.districts.iter().find(|d| &d.district == id) {
                    Some(d) => (&d.totals, d.progress.complete()),
                    None => (&tally.totals, false),
                },
            };
            let input = Input {
                seats: unit.seats,
                lists: definition
                    .lists
                    .iter()
                    .enumerate()
                    .map(|(i, l)| List {
                        name: l.name.clone(),
                        votes: totals.lists.get(i).map_or(0, |c| c.total),
                        threshold: definition.list_threshold(i),
                    })
                    .collect(),
                method: definition.method(),
                threshold: definition.threshold(),
                drawn: lots
                    .get(&unit_key(unit.district.as_ref()))
                    .cloned()
                    .unwrap_or_default(),
            };
            let outcome = match apportion(&input) {
                Ok(outcome) => SeatsOutcome::Computed(outcome),
                Err(e) => SeatsOutcome::NotComputed {
                    not_computed: e.to_string(),
                },
            };
            UnitSeats {
                district: unit.district,
                seats: unit.seats,
                complete,
                outcome,
            }
        })
        .collect()
}

/// Seats per list over all units, when every unit is computed.
pub fn seats_per_list(units: &[UnitSeats], lists: usize) -> Option<Vec<u32>> {
    let mut total = vec![0u32; lists];
    for unit in units {
        let SeatsOutcome::Computed(Outcome::Complete { seats, .. }) = &unit.outcome else {
            return None;
        };
        for (t, s) in total.iter_mut().zip(seats) {
            *t += s;
        }
    }
    Some(total)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn definition(by_district: bool) -> ElectionDefinition {
        let mut value = serde_json::json!({
            "id": "t", "name": "T", "date": "2027-03-07", "release_at": "2027-03-07T21:00:00Z",
            "apportionment": {"method": "d_hondt", "seats": 3},
            "lists": [{"number": 1, "name": "A", "candidates": ["a1", "a2"]}, {"number": 2, "name": "B"}],
            "districts": [
                {"id": "d1", "name": "D1", "polling_stations": [
                    {"id": "s1", "name": "S1", "registered_voters": 100},
                    {"id": "s2", "name": "S2", "registered_voters": 100}]},
                {"id": "d2", "name": "D2", "polling_stations": [
                    {"id": "s3", "name": "S3", "registered_voters": 100}]}
            ]
        });
        if by_district {
            value["apportionment"] = serde_json::json!({"method": "d_hondt", "by": "district"});
            value["districts"][0]["seats"] = 2.into();
            value["districts"][1]["seats"] = 1.into();
        }
        ElectionDefinition::from_json(value.to_string().as_bytes()).unwrap()
    }

    fn counts(a: (u64, u64), b: u64) -> StationCounts {
        StationCounts {
            voters: a.0 + a.1 + b,
            votes_cast: a.0 + a.1 + b,
            blank: 0,
            invalid: 0,
            lists: vec![
                ListCount {
                    total: a.0 + a.1,
                    candidates: vec![a.0, a.1],
                },
                ListCount {
                    total: b,
                    candidates: vec![],
                },
            ],
        }
    }

    fn id(s: &str) -> StationId {
        StationId::parse(s).unwrap()
    }

    #[test]
    fn sums_per_district_and_in_total_with_progress() {
        let d = definition(false);
        let mut results = HashMap::new();
        results.insert(id("s1"), counts((10, 5), 20));
        results.insert(id("s3"), counts((1, 2), 3));
        let t = tally(&d, &results);
        assert_eq!(
            t.progress,
            Progress {
                counted: 2,
                stations: 3
            }
        );
        assert_eq!(t.districts[0].totals.lists[0].candidates, [10, 5]);
        assert_eq!(t.totals.lists[0].candidates, [11, 7]);
        assert_eq!(t.totals.lists[1].total, 23);
        assert_eq!(t.totals.votes_cast, 41);
        let units = seats(&d, &t, &BTreeMap::new());
        assert!(!units[0].complete, "provisional while a station is missing");
        assert_eq!(seats_per_list(&units, 2), Some(vec![1, 2]));
    }

    #[test]
    fn seats_by_district_and_lots() {
        let d = definition(true);
        let mut results = HashMap::new();
        for s in ["s1", "s2"] {
            results.insert(id(s), counts((30, 0), 10));
        }
        results.insert(id("s3"), counts((5, 5), 10)); // a tie for d2's seat
        let t = tally(&d, &results);
        let units = seats(&d, &t, &BTreeMap::new());
        assert_eq!(units.len(), 2);
        assert!(matches!(
            &units[1].outcome,
            SeatsOutcome::Computed(Outcome::DrawingOfLotsRequired { tied, .. }) if tied == &[0, 1]
        ));
        assert_eq!(seats_per_list(&units, 2), None);
        let lots = BTreeMap::from([("d2".to_string(), vec![1])]);
        let units = seats(&d, &t, &lots);
        assert_eq!(seats_per_list(&units, 2), Some(vec![2, 1]));
    }
}
