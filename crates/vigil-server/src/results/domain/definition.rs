//! The election definition: what is being counted (lists and candidates),
//! where (districts and polling stations with their registered voters) and
//! how seats are apportioned. Imported from the documented JSON format
//! (docs/results.md) and checked as a whole: every problem is named with
//! its field path, so a malformed file is refused with all its faults at once.
use crate::core::error::FieldError;
use crate::core::time::Timestamp;
use serde::{Deserialize, Serialize};
use std::collections::HashSet;
use vigil_apportion::{Fraction, Method, Quota};

/// An election's public id: lowercase letters, digits and dashes (it is part of URLs).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ElectionId(String);

/// A polling station's id within its election (same alphabet).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct StationId(String);

fn is_slug(text: &str) -> bool {
    (1..=64).contains(&text.len())
        && text
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
}

macro_rules! slug_id {
    ($name:ident) => {
        impl $name {
            pub fn parse(text: &str) -> Option<$name> {
                is_slug(text).then(|| $name(text.to_string()))
            }

            /// For ids read back from the database, which wrote them checked.
            pub fn from_stored(text: String) -> $name {
                $name(text)
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}
slug_id!(ElectionId);
slug_id!(StationId);

/// How seats are apportioned, as written in a definition.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MethodName {
    DHondt,
    SainteLague,
    /// Sainte-Laguë with a first divisor other than 1 (`first_divisor`).
    ModifiedSainteLague,
    LargestRemainderHare,
    LargestRemainderDroop,
    /// Kieswet art. P 5–P 9 (Dutch municipal councils).
    DutchCouncil,
}

/// Where seats are apportioned: once over the whole election, or in each
/// district with its own number of seats (as in Spain or Portugal).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum ApportionBy {
    #[default]
    Election,
    District,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Apportionment {
    pub method: MethodName,
    /// Seats of the whole election (`by: election`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seats: Option<u32>,
    #[serde(default)]
    pub by: ApportionBy,
    /// A share of the valid list votes, as `"5/100"` or `"5%"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub threshold: Option<String>,
    /// For `modified_sainte_lague`, e.g. `"7/5"` (1.4, Norway).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_divisor: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListDefinition {
    /// The list's number on the ballot.
    pub number: u32,
    pub name: String,
    /// Candidates in list order; empty when votes are cast for lists only.
    #[serde(default)]
    pub candidates: Vec<String>,
    /// A threshold of its own (e.g. a higher one for a coalition).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub threshold: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StationDefinition {
    pub id: StationId,
    pub name: String,
    pub registered_voters: u64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DistrictDefinition {
    pub id: StationId,
    pub name: String,
    /// The district's seats (`apportionment.by: district`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seats: Option<u32>,
    pub polling_stations: Vec<StationDefinition>,
}

/// A whole election, as imported.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ElectionDefinition {
    pub id: ElectionId,
    pub name: String,
    /// Polling day, `YYYY-MM-DD`.
    pub date: String,
    /// The legal release time (RFC 3339): results accepted before it are
    /// committed to the log as salted hashes only and revealed at it.
    pub release_at: String,
    pub apportionment: Apportionment,
    pub lists: Vec<ListDefinition>,
    pub districts: Vec<DistrictDefinition>,
    /// The EML `ElectionCategory` (for example `GR`, `TK`, `EP`), kept from
    /// an EML import and written in EML exports.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
}

/// One unit of apportionment (the whole election, or one district).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ApportionmentUnit {
    /// `None` for the whole election.
    pub district: Option<StationId>,
    pub seats: u32,
}

fn parse_share(text: &str) -> Option<Fraction> {
    let text = text.trim();
    let fraction = if let Some(percent) = text.strip_suffix('%') {
        let (whole, decimals) = percent
            .trim()
            .split_once('.')
            .unwrap_or((percent.trim(), ""));
        let scale = 10u128.checked_pow(u32::try_from(decimals.len()).ok()?)?;
        let value: u128 = format!("{whole}{decimals}").parse().ok()?;
        Fraction::new(value, 100 * scale)?
    } else {
        let (n, d) = text.split_once('/')?;
        Fraction::new(n.trim().parse().ok()?, d.trim().parse().ok()?)?
    };
    (fraction <= Fraction::whole(1)).then_some(fraction)
}

/// A positive fraction such as `7/5`, as numerator and denominator.
fn parse_divisor(text: &str) -> Option<(u32, u32)> {
    let (n, d) = text.split_once('/')?;
    let divisor = (n.trim().parse::<u32>().ok()?, d.trim().parse::<u32>().ok()?);
    (divisor.0 > 0 && divisor.1 > 0).then_some(divisor)
}

impl ElectionDefinition {
    /// Reads a definition from its JSON text, naming every fault.
    pub fn from_json(text: &[u8]) -> Result<ElectionDefinition, Vec<FieldError>> {
        let definition: ElectionDefinition = serde_json::from_slice(text).map_err(|e| {
            vec![FieldError::new(
                "definition",
                format!(
                    "not a valid election definition (line {}, column {}): {e}",
                    e.line(),
                    e.column()
                ),
            )]
        })?;
        definition.check()?;
        Ok(definition)
    }

    /// The rules a definition must follow beyond its shape.
    pub fn check(&self) -> Result<(), Vec<FieldError>> {
        let mut errors = Vec::new();
        let mut fault =
            |field: String, message: &str| errors.push(FieldError::new(&field, message));
        if !is_slug(self.id.as_str()) {
            fault("id".into(), "use 1–64 lowercase letters, digits, - or _");
        }
        if self.name.trim().is_empty() {
            fault("name".into(), "an election needs a name");
        }
        if time::Date::parse(
            &self.date,
            time::macros::format_description!("[year]-[month]-[day]"),
        )
        .is_err()
        {
            fault("date".into(), "use YYYY-MM-DD");
        }
        if Timestamp::parse(&self.release_at).is_none() {
            fault(
                "release_at".into(),
                "use an RFC 3339 time such as 2027-03-07T21:00:00Z",
            );
        }
        if self.lists.is_empty() {
            fault("lists".into(), "an election needs at least one list");
        }
        let mut numbers = HashSet::new();
        for (i, list) in self.lists.iter().enumerate() {
            if !numbers.insert(list.number) {
                fault(format!("lists[{i}].number"), "two lists have this number");
            }
            if list.name.trim().is_empty() {
                fault(format!("lists[{i}].name"), "a list needs a name");
            }
            if list.candidates.iter().any(|c| c.trim().is_empty()) {
                fault(format!("lists[{i}].candidates"), "a candidate needs a name");
            }
            if let Some(threshold) = &list.threshold
                && parse_share(threshold).is_none()
            {
                fault(
                    format!("lists[{i}].threshold"),
                    "use a share such as 8/100 or 8%",
                );
            }
        }
        if self.districts.is_empty() {
            fault(
                "districts".into(),
                "an election needs at least one district",
            );
        }
        let mut districts = HashSet::new();
        let mut stations = HashSet::new();
        for (d, district) in self.districts.iter().enumerate() {
            if !districts.insert(&district.id) {
                fault(format!("districts[{d}].id"), "two districts have this id");
            }
            if !is_slug(district.id.as_str()) {
                fault(
                    format!("districts[{d}].id"),
                    "use 1–64 lowercase letters, digits, - or _",
                );
            }
            if district.polling_stations.is_empty() {
                fault(
                    format!("districts[{d}].polling_stations"),
                    "a district needs at least one polling station",
                );
            }
            for (s, station) in district.polling_stations.iter().enumerate() {
                let field = format!("districts[{d}].polling_stations[{s}]");
                if !is_slug(station.id.as_str()) {
                    fault(
                        format!("{field}.id"),
                        "use 1–64 lowercase letters, digits, - or _",
                    );
                }
                if !stations.insert(&station.id) {
                    fault(format!("{field}.id"), "two polling stations have this id");
                }
                if station.name.trim().is_empty() {
                    fault(format!("{field}.name"), "a polling station needs a name");
                }
            }
            match (self.apportionment.by, district.seats) {
                (ApportionBy::District, None | Some(0)) => fault(
                    format!("districts[{d}].seats"),
                    "seats are apportioned by district: give each district its seats",
                ),
                (ApportionBy::Election, Some(_)) => fault(
                    format!("districts[{d}].seats"),
                    "seats are apportioned over the whole election: set apportionment.seats instead",
                ),
                _ => {}
            }
        }
        let apportionment = &self.apportionment;
        match (apportionment.by, apportionment.seats) {
            (ApportionBy::Election, None | Some(0)) => fault(
                "apportionment.seats".into(),
                "the number of seats must be at least 1",
            ),
            (ApportionBy::District, Some(_)) => fault(
                "apportionment.seats".into(),
                "seats are apportioned by district: give them per district",
            ),
            _ => {}
        }
        if let Some(threshold) = &apportionment.threshold
            && parse_share(threshold).is_none()
        {
            fault(
                "apportionment.threshold".into(),
                "use a share such as 5/100 or 5%",
            );
        }
        let first_divisor = apportionment.first_divisor.as_deref().map(parse_divisor);
        match (apportionment.method, first_divisor) {
            (_, Some(None)) => fault(
                "apportionment.first_divisor".into(),
                "use a fraction such as 7/5",
            ),
            (MethodName::ModifiedSainteLague, None) => fault(
                "apportionment.first_divisor".into(),
                "the modified Sainte-Laguë method needs a first divisor such as 7/5",
            ),
            (MethodName::ModifiedSainteLague, Some(Some(_))) | (_, None) => {}
            (_, Some(Some(_))) => fault(
                "apportionment.first_divisor".into(),
                "only the modified Sainte-Laguë method has a first divisor",
            ),
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }

    /// The apportionment method (the definition was checked).
    pub fn method(&self) -> Method {
        match self.apportionment.method {
            MethodName::DHondt => Method::DHondt,
            MethodName::SainteLague => Method::SainteLague,
            MethodName::ModifiedSainteLague => {
                let divisor = self
                    .apportionment
                    .first_divisor
                    .as_deref()
                    .and_then(parse_divisor)
                    .unwrap_or((7, 5));
                Method::ModifiedSainteLague {
                    first_divisor: divisor,
                }
            }
            MethodName::LargestRemainderHare => Method::LargestRemainder(Quota::Hare),
            MethodName::LargestRemainderDroop => Method::LargestRemainder(Quota::Droop),
            MethodName::DutchCouncil => Method::DutchCouncil,
        }
    }

    pub fn threshold(&self) -> Option<Fraction> {
        self.apportionment
            .threshold
            .as_deref()
            .and_then(parse_share)
    }

    pub fn list_threshold(&self, list: usize) -> Option<Fraction> {
        self.lists
            .get(list)
            .and_then(|l| l.threshold.as_deref())
            .and_then(parse_share)
    }

    pub fn release_at(&self) -> Timestamp {
        Timestamp::parse(&self.release_at).unwrap_or_else(Timestamp::now)
    }

    /// The units seats are apportioned in.
    pub fn units(&self) -> Vec<ApportionmentUnit> {
        match self.apportionment.by {
            ApportionBy::Election => vec![ApportionmentUnit {
                district: None,
                seats: self.apportionment.seats.unwrap_or(0),
            }],
            ApportionBy::District => self
                .districts
                .iter()
                .map(|d| ApportionmentUnit {
                    district: Some(d.id.clone()),
                    seats: d.seats.unwrap_or(0),
                })
                .collect(),
        }
    }

    /// A polling station with its district.
    pub fn station(&self, id: &StationId) -> Option<(&DistrictDefinition, &StationDefinition)> {
        self.districts.iter().find_map(|d| {
            d.polling_stations
                .iter()
                .find(|s| &s.id == id)
                .map(|s| (d, s))
        })
    }

    /// Every station's district by station id, for lookups over many
    /// stations (`station` searches).
    pub fn district_of_stations(&self) -> std::collections::HashMap<&str, &DistrictDefinition> {
        self.stations()
            .map(|(district, station)| (station.id.as_str(), district))
            .collect()
    }

    pub fn stations(&self) -> impl Iterator<Item = (&DistrictDefinition, &StationDefinition)> {
        self.districts
            .iter()
            .flat_map(|d| d.polling_stations.iter().map(move |s| (d, s)))
    }

    pub fn station_count(&self) -> usize {
        self.districts
            .iter()
            .map(|d| d.polling_stations.len())
            .sum()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    pub fn sample() -> serde_json::Value {
        serde_json::json!({
            "id": "test-2027",
            "name": "Test election",
            "date": "2027-03-07",
            "release_at": "2027-03-07T21:00:00Z",
            "apportionment": {"method": "d_hondt", "seats": 5, "threshold": "5%"},
            "lists": [
                {"number": 1, "name": "Blue", "candidates": ["A", "B"]},
                {"number": 2, "name": "Green", "candidates": ["C"]}
            ],
            "districts": [{"id": "north", "name": "North", "polling_stations": [
                {"id": "n-1", "name": "School", "registered_voters": 1000}
            ]}]
        })
    }

    #[test]
    fn a_valid_definition_reads() {
        let definition = ElectionDefinition::from_json(sample().to_string().as_bytes()).unwrap();
        assert_eq!(definition.threshold(), Fraction::new(5, 100));
        assert_eq!(definition.units()[0].seats, 5);
        assert!(
            definition
                .station(&StationId::parse("n-1").unwrap())
                .is_some()
        );
    }

    #[test]
    fn every_fault_is_named() {
        let mut bad = sample();
        bad["date"] = "7 March".into();
        bad["apportionment"]["threshold"] = "150%".into();
        bad["lists"][1]["number"] = 1.into();
        bad["districts"][0]["polling_stations"][0]["id"] = "Not A Slug".into();
        let errors = ElectionDefinition::from_json(bad.to_string().as_bytes()).unwrap_err();
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "date",
                "lists[1].number",
                "districts[0].polling_stations[0].id",
                "apportionment.threshold"
            ]
        );
        let errors = ElectionDefinition::from_json(b"{\"id\": 3").unwrap_err();
        assert!(errors[0].message.contains("line 1"), "{errors:?}");
        let mut negative = sample();
        negative["districts"][0]["polling_stations"][0]["registered_voters"] = (-5).into();
        let errors = ElectionDefinition::from_json(negative.to_string().as_bytes()).unwrap_err();
        assert!(errors[0].message.contains("invalid value"), "{errors:?}");
    }

    #[test]
    fn shares_are_exact() {
        assert_eq!(parse_share("2.5%"), Fraction::new(25, 1000));
        assert_eq!(parse_share("1/3"), Fraction::new(1, 3));
        assert_eq!(parse_share("3/2"), None);
        assert_eq!(parse_share("x%"), None);
    }
}
