//! What a typist copies from a polling station's signed form, and the
//! validation rules it is checked against. Codes are stable and documented
//! in docs/results.md; each result names the fields it concerns. Errors
//! (the form does not add up) keep the result from counting until a
//! coordinator resolves them; warnings (unusual but possible) are shown and
//! kept with the result. Typists copy the paper as it is.
use super::definition::{ElectionDefinition, StationDefinition};
use crate::core::error::FieldError;
use serde::{Deserialize, Serialize};

/// The figures of one polling-station form.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StationCounts {
    /// Voters admitted to vote (ballots handed out, per the poll book).
    pub voters: u64,
    /// Ballots found in the ballot box.
    pub votes_cast: u64,
    pub blank: u64,
    pub invalid: u64,
    /// Per list, in the definition's list order.
    pub lists: Vec<ListCount>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListCount {
    pub total: u64,
    /// Per candidate, in list order (empty when the list has no candidates).
    #[serde(default)]
    pub candidates: Vec<u64>,
}

/// A validation code; its text is what docs/results.md documents.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Code {
    /// Votes cast ≠ list votes + blank + invalid.
    #[serde(rename = "F.201")]
    F201,
    /// A list's total ≠ the sum of its candidates' votes.
    #[serde(rename = "F.202")]
    F202,
    /// Blank votes are 3 % of votes cast or more.
    #[serde(rename = "W.201")]
    W201,
    /// Invalid votes are 3 % of votes cast or more.
    #[serde(rename = "W.202")]
    W202,
    /// Admitted voters and votes cast differ by 2 % and by 15 or more.
    #[serde(rename = "W.203")]
    W203,
    /// No votes were cast.
    #[serde(rename = "W.204")]
    W204,
    /// More votes cast than registered voters.
    #[serde(rename = "W.205")]
    W205,
}

impl Code {
    pub fn is_error(self) -> bool {
        matches!(self, Code::F201 | Code::F202)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Code::F201 => "F.201",
            Code::F202 => "F.202",
            Code::W201 => "W.201",
            Code::W202 => "W.202",
            Code::W203 => "W.203",
            Code::W204 => "W.204",
            Code::W205 => "W.205",
        }
    }

    pub fn description(self) -> &'static str {
        match self {
            Code::F201 => "votes cast differ from the list votes plus blank plus invalid votes",
            Code::F202 => "a list's total differs from the sum of its candidates' votes",
            Code::W201 => "blank votes are 3 % of the votes cast or more",
            Code::W202 => "invalid votes are 3 % of the votes cast or more",
            Code::W203 => "admitted voters and votes cast differ by 2 % and by 15 votes or more",
            Code::W204 => "no votes were cast",
            Code::W205 => "more votes were cast than there are registered voters",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    pub code: Code,
    pub fields: Vec<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[must_use]
pub struct Validation {
    pub errors: Vec<Finding>,
    pub warnings: Vec<Finding>,
}

impl Validation {
    fn push(&mut self, code: Code, fields: Vec<String>) {
        let finding = Finding { code, fields };
        if code.is_error() {
            self.errors.push(finding);
        } else {
            self.warnings.push(finding);
        }
    }

    pub fn has_errors(&self) -> bool {
        !self.errors.is_empty()
    }
}

/// `part` is at least `percent` % of `whole`, in integers only.
fn at_least_percent(part: u64, whole: u64, percent: u64) -> bool {
    u128::from(part) * 100 >= u128::from(whole) * u128::from(percent)
}

impl StationCounts {
    /// Checks that the counts fit the election's lists and candidates (a
    /// shape fault is refused, not recorded: it is not what the paper says).
    pub fn check_shape(&self, definition: &ElectionDefinition) -> Result<(), Vec<FieldError>> {
        let mut errors = Vec::new();
        if self.lists.len() != definition.lists.len() {
            errors.push(FieldError::new(
                "lists",
                format!(
                    "the election has {} lists; {} were given",
                    definition.lists.len(),
                    self.lists.len()
                ),
            ));
        }
        for (i, (count, list)) in self.lists.iter().zip(&definition.lists).enumerate() {
            if count.candidates.len() != list.candidates.len() {
                errors.push(FieldError::new(
                    &format!("lists[{i}].candidates"),
                    format!(
                        "list {} has {} candidates; {} counts were given",
                        list.number,
                        list.candidates.len(),
                        count.candidates.len()
                    ),
                ));
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }

    pub fn list_votes(&self) -> u64 {
        self.lists.iter().map(|l| l.total).sum()
    }

    /// Every rule, in code order.
    pub fn validate(&self, station: &StationDefinition) -> Validation {
        let mut validation = Validation::default();
        let list_votes: u128 = self.lists.iter().map(|l| u128::from(l.total)).sum();
        if list_votes + u128::from(self.blank) + u128::from(self.invalid)
            != u128::from(self.votes_cast)
        {
            let mut fields = vec!["votes_cast".to_string(), "blank".into(), "invalid".into()];
            fields.extend((0..self.lists.len()).map(|i| format!("lists[{i}].total")));
            validation.push(Code::F201, fields);
        }
        for (i, list) in self.lists.iter().enumerate() {
            let candidates: u128 = list.candidates.iter().map(|&v| u128::from(v)).sum();
            if !list.candidates.is_empty() && candidates != u128::from(list.total) {
                validation.push(
                    Code::F202,
                    vec![
                        format!("lists[{i}].total"),
                        format!("lists[{i}].candidates"),
                    ],
                );
            }
        }
        if self.votes_cast > 0 && at_least_percent(self.blank, self.votes_cast, 3) {
            validation.push(Code::W201, vec!["blank".into()]);
        }
        if self.votes_cast > 0 && at_least_percent(self.invalid, self.votes_cast, 3) {
            validation.push(Code::W202, vec!["invalid".into()]);
        }
        let difference = self.voters.abs_diff(self.votes_cast);
        if difference >= 15 && at_least_percent(difference, self.voters.max(self.votes_cast), 2) {
            validation.push(Code::W203, vec!["voters".into(), "votes_cast".into()]);
        }
        if self.votes_cast == 0 {
            validation.push(Code::W204, vec!["votes_cast".into()]);
        }
        if self.votes_cast > station.registered_voters {
            validation.push(Code::W205, vec!["votes_cast".into()]);
        }
        validation
    }

    /// The fields whose values differ between two entries (W.001's list).
    pub fn differences(&self, other: &StationCounts) -> Vec<String> {
        let mut fields = Vec::new();
        for (name, a, b) in [
            ("voters", self.voters, other.voters),
            ("votes_cast", self.votes_cast, other.votes_cast),
            ("blank", self.blank, other.blank),
            ("invalid", self.invalid, other.invalid),
        ] {
            if a != b {
                fields.push(name.to_string());
            }
        }
        for (i, (a, b)) in self.lists.iter().zip(&other.lists).enumerate() {
            if a.total != b.total {
                fields.push(format!("lists[{i}].total"));
            }
            for (c, (x, y)) in a.candidates.iter().zip(&b.candidates).enumerate() {
                if x != y {
                    fields.push(format!("lists[{i}].candidates[{c}]"));
                }
            }
        }
        fields
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::results::domain::definition::StationId;

    fn station(registered: u64) -> StationDefinition {
        StationDefinition {
            id: StationId::parse("s").unwrap(),
            name: "s".into(),
            registered_voters: registered,
        }
    }

    /// 1,000 votes: lists 600 (400 + 200) and 370, 20 blank, 10 invalid.
    fn good() -> StationCounts {
        StationCounts {
            voters: 1000,
            votes_cast: 1000,
            blank: 20,
            invalid: 10,
            lists: vec![
                ListCount {
                    total: 600,
                    candidates: vec![400, 200],
                },
                ListCount {
                    total: 370,
                    candidates: vec![],
                },
            ],
        }
    }

    fn codes(counts: &StationCounts, registered: u64) -> Vec<&'static str> {
        let v = counts.validate(&station(registered));
        v.errors
            .iter()
            .chain(&v.warnings)
            .map(|f| f.code.as_str())
            .collect()
    }

    #[test]
    fn a_form_that_adds_up_passes() {
        assert!(codes(&good(), 2000).is_empty());
    }

    #[test]
    fn f201_votes_cast_must_add_up() {
        let mut c = good();
        c.votes_cast = 1001;
        c.voters = 1001;
        assert_eq!(codes(&c, 2000), ["F.201"]);
        let v = c.validate(&station(2000));
        assert!(v.errors[0].fields.contains(&"lists[1].total".to_string()));
        c.blank = 21; // now it adds up again
        assert!(codes(&c, 2000).is_empty());
    }

    #[test]
    fn f202_list_total_must_be_its_candidates_sum() {
        let mut c = good();
        c.lists[0].candidates = vec![400, 199];
        assert_eq!(codes(&c, 2000), ["F.202"]);
        assert_eq!(
            c.validate(&station(2000)).errors[0].fields,
            ["lists[0].total", "lists[0].candidates"]
        );
    }

    #[test]
    fn w201_w202_three_percent_boundary() {
        // 29 blank of 1000 is under 3 %; 30 is 3 %.
        let mut c = good();
        c.blank = 29;
        c.lists[1].total = 361;
        assert!(codes(&c, 2000).is_empty());
        c.blank = 30;
        c.lists[1].total = 360;
        assert_eq!(codes(&c, 2000), ["W.201"]);
        let mut c = good();
        c.invalid = 29;
        c.lists[1].total = 351;
        assert!(codes(&c, 2000).is_empty());
        c.invalid = 30;
        c.lists[1].total = 350;
        assert_eq!(codes(&c, 2000), ["W.202"]);
    }

    #[test]
    fn w203_needs_both_two_percent_and_fifteen() {
        let mut c = good();
        c.voters = 1019; // 19 apart but under 2 % of 1019
        assert!(codes(&c, 2000).is_empty());
        c.voters = 1021; // 21 ≥ 2 % of 1021 (20.42) and ≥ 15
        assert_eq!(codes(&c, 2000), ["W.203"]);
        let mut small = StationCounts {
            voters: 100,
            votes_cast: 100,
            blank: 0,
            invalid: 0,
            lists: vec![ListCount {
                total: 100,
                candidates: vec![],
            }],
        };
        small.voters = 114; // 14 apart: 12 % but under 15
        assert!(codes(&small, 2000).is_empty());
        small.voters = 115;
        assert_eq!(codes(&small, 2000), ["W.203"]);
    }

    #[test]
    fn w204_no_votes_and_w205_more_than_registered() {
        let zero = StationCounts {
            voters: 0,
            votes_cast: 0,
            blank: 0,
            invalid: 0,
            lists: vec![ListCount {
                total: 0,
                candidates: vec![],
            }],
        };
        assert_eq!(codes(&zero, 10), ["W.204"]);
        assert!(codes(&good(), 1000).is_empty());
        assert_eq!(codes(&good(), 999), ["W.205"]);
    }

    #[test]
    fn differences_name_each_field() {
        let mut other = good();
        other.blank = 21;
        other.lists[0].candidates[1] = 201;
        assert_eq!(
            good().differences(&other),
            ["blank", "lists[0].candidates[1]"]
        );
    }
}
