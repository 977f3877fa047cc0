//! Double entry of one polling station's form: typed twice by two different
//! people, the second without seeing the first; identical entries become
//! definitive, otherwise a coordinator decides. Transitions consume the
//! state and return the next one or a typed error. The diagram (also in
//! docs/results.md):
//!
//! ```text
//!  Empty ──claim_first──▶ FirstEntryInProgress ──finalise_first──▶ FirstEntryFinalised
//!    ▲  ◀──────release─────────┘         └──(errors)──▶ FirstEntryHasErrors
//!    │                                                   │ resolve_errors: accept (explained) ─▶ FirstEntryFinalised
//!    ├───────────────────────────────────────────────────┘ resolve_errors: discard ─▶ Empty
//!    │
//!  FirstEntryFinalised ──claim_second (another typist)──▶ SecondEntryInProgress
//!        ▲ ◀───────────────release────────────────────────────┘ │ finalise_second
//!        │                                     equal ◀──────────┴──────▶ different
//!        │                                       ▼                          ▼
//!        │                                   Definitive              EntriesDifferent
//!        │ resolve_differences: keep_first / keep_second (the kept   │ │ return_first / return_second
//!        └──────────── entry becomes the first; a new second entry) ─┘ ▼
//!  Empty ◀── resolve_differences: discard_both            EntryCorrection ──correct──▶ Definitive | EntriesDifferent
//! ```
//!
//! Differences from Abacus: drafts are not stored (an entry is sent whole),
//! and everything each transition sees is appended to the log.
use super::counts::{StationCounts, Validation};
use crate::core::ids::UserId;
use serde::{Deserialize, Serialize};
use thiserror::Error;

/// One typed entry of the form.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    pub typist: UserId,
    pub counts: StationCounts,
    pub validation: Validation,
    pub at: String,
}

impl Entry {
    fn matches(&self, other: &Entry) -> bool {
        self.counts == other.counts
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Which {
    First,
    Second,
}

/// The state of a polling station's double entry.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum EntryState {
    Empty,
    FirstEntryInProgress {
        typist: UserId,
    },
    /// The form does not add up: a coordinator accepts it (with an
    /// explanation: the paper says so) or discards it.
    FirstEntryHasErrors {
        first: Entry,
    },
    FirstEntryFinalised {
        first: Entry,
        /// Why the errors of this form were accepted, if it has any.
        explanation: Option<String>,
    },
    SecondEntryInProgress {
        first: Entry,
        typist: UserId,
        explanation: Option<String>,
    },
    EntriesDifferent {
        first: Entry,
        second: Entry,
        /// The fields that differ.
        differences: Vec<String>,
        explanation: Option<String>,
    },
    /// One entry went back to its typist to be checked against the paper.
    EntryCorrection {
        first: Entry,
        second: Entry,
        returned: Which,
        explanation: Option<String>,
    },
    Definitive {
        result: Entry,
        second_typist: UserId,
        explanation: Option<String>,
    },
}

#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum TransitionError {
    #[error("{action} is not possible while the station is {state}")]
    NotNow {
        action: &'static str,
        state: &'static str,
    },
    #[error("the second entry must be typed by someone other than the first typist")]
    SecondEntryNeedsDifferentUser,
    #[error("another typist is entering this form")]
    ClaimedByAnother,
    #[error("only the typist of the returned entry may correct it")]
    NotReturnedToYou,
    #[error("accepting a form with errors needs an explanation")]
    ExplanationRequired,
}

/// What a coordinator decides about a form with errors.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorsDecision {
    /// The paper says so: count it as it is (after a matching second entry).
    Accept,
    /// Discard the entry (the form goes back to the committee).
    Discard,
}

/// What a coordinator decides about two different entries.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DifferencesDecision {
    KeepFirst,
    KeepSecond,
    DiscardBoth,
    ReturnFirst,
    ReturnSecond,
}

impl EntryState {
    pub fn name(&self) -> &'static str {
        match self {
            EntryState::Empty => "empty",
            EntryState::FirstEntryInProgress { .. } => "first_entry_in_progress",
            EntryState::FirstEntryHasErrors { .. } => "first_entry_has_errors",
            EntryState::FirstEntryFinalised { .. } => "first_entry_finalised",
            EntryState::SecondEntryInProgress { .. } => "second_entry_in_progress",
            EntryState::EntriesDifferent { .. } => "entries_different",
            EntryState::EntryCorrection { .. } => "entry_correction",
            EntryState::Definitive { .. } => "definitive",
        }
    }

    /// Whether the form waits for a coordinator's decision.
    pub fn needs_coordinator(&self) -> bool {
        matches!(
            self,
            EntryState::FirstEntryHasErrors { .. } | EntryState::EntriesDifferent { .. }
        )
    }

    fn not_now(self, action: &'static str) -> TransitionError {
        TransitionError::NotNow {
            action,
            state: self.name(),
        }
    }

    /// The typist who holds the form now, if any.
    pub fn typist_expected(&self) -> Option<&UserId> {
        match self {
            EntryState::FirstEntryInProgress { typist }
            | EntryState::SecondEntryInProgress { typist, .. } => Some(typist),
            EntryState::EntryCorrection {
                first,
                second,
                returned,
                ..
            } => Some(match returned {
                Which::First => &first.typist,
                Which::Second => &second.typist,
            }),
            _ => None,
        }
    }

    /// Takes the form for the first or the second entry, whichever is next.
    pub fn claim(self, user: &UserId) -> Result<EntryState, TransitionError> {
        match self {
            EntryState::Empty => Ok(EntryState::FirstEntryInProgress {
                typist: user.clone(),
            }),
            EntryState::FirstEntryFinalised { first, .. } if &first.typist == user => {
                Err(TransitionError::SecondEntryNeedsDifferentUser)
            }
            EntryState::FirstEntryFinalised { first, explanation } => {
                Ok(EntryState::SecondEntryInProgress {
                    first,
                    typist: user.clone(),
                    explanation,
                })
            }
            // Claiming again what one holds is harmless (a reloaded page).
            ref state @ (EntryState::FirstEntryInProgress { ref typist }
            | EntryState::SecondEntryInProgress { ref typist, .. })
                if typist == user =>
            {
                Ok(state.clone())
            }
            EntryState::FirstEntryInProgress { .. } | EntryState::SecondEntryInProgress { .. } => {
                Err(TransitionError::ClaimedByAnother)
            }
            state => Err(state.not_now("claiming the form")),
        }
    }

    /// Gives a claimed form back without an entry (the typist's own choice,
    /// or a coordinator's when a typist has left).
    pub fn release(self) -> Result<EntryState, TransitionError> {
        match self {
            EntryState::FirstEntryInProgress { .. } => Ok(EntryState::Empty),
            EntryState::SecondEntryInProgress {
                first, explanation, ..
            } => Ok(EntryState::FirstEntryFinalised { first, explanation }),
            state => Err(state.not_now("releasing the form")),
        }
    }

    /// Finalises the entry the user holds: the first, the second, or a
    /// returned one.
    pub fn finalise(self, entry: Entry) -> Result<EntryState, TransitionError> {
        match self {
            EntryState::FirstEntryInProgress { typist } if typist == entry.typist => {
                Ok(if entry.validation.has_errors() {
                    EntryState::FirstEntryHasErrors { first: entry }
                } else {
                    EntryState::FirstEntryFinalised {
                        first: entry,
                        explanation: None,
                    }
                })
            }
            EntryState::SecondEntryInProgress {
                first,
                typist,
                explanation,
            } if typist == entry.typist => Ok(compare(first, entry, explanation)),
            EntryState::EntryCorrection {
                first,
                second,
                returned,
                explanation,
            } => {
                let returned_to = match returned {
                    Which::First => &first.typist,
                    Which::Second => &second.typist,
                };
                if returned_to != &entry.typist {
                    return Err(TransitionError::NotReturnedToYou);
                }
                Ok(match returned {
                    Which::First => compare(entry, second, explanation),
                    Which::Second => compare(first, entry, explanation),
                })
            }
            EntryState::FirstEntryInProgress { .. } | EntryState::SecondEntryInProgress { .. } => {
                Err(TransitionError::ClaimedByAnother)
            }
            state => Err(state.not_now("finalising an entry")),
        }
    }

    /// A coordinator's decision on a first entry whose form has errors.
    pub fn resolve_errors(
        self,
        decision: ErrorsDecision,
        explanation: Option<String>,
    ) -> Result<EntryState, TransitionError> {
        match (self, decision) {
            (EntryState::FirstEntryHasErrors { first }, ErrorsDecision::Accept) => {
                let explanation = explanation
                    .filter(|e| !e.trim().is_empty())
                    .ok_or(TransitionError::ExplanationRequired)?;
                Ok(EntryState::FirstEntryFinalised {
                    first,
                    explanation: Some(explanation),
                })
            }
            (EntryState::FirstEntryHasErrors { .. }, ErrorsDecision::Discard) => {
                Ok(EntryState::Empty)
            }
            (state, _) => Err(state.not_now("resolving errors")),
        }
    }

    /// A coordinator's decision on two entries that differ.
    pub fn resolve_differences(
        self,
        decision: DifferencesDecision,
    ) -> Result<EntryState, TransitionError> {
        let EntryState::EntriesDifferent {
            first,
            second,
            explanation,
            ..
        } = self
        else {
            return Err(self.not_now("resolving differences"));
        };
        let keep = |kept: Entry| {
            // A kept entry with unexplained errors goes back to the errors step.
            if kept.validation.has_errors() && explanation.is_none() {
                EntryState::FirstEntryHasErrors { first: kept }
            } else {
                EntryState::FirstEntryFinalised {
                    first: kept,
                    explanation: explanation.clone(),
                }
            }
        };
        Ok(match decision {
            DifferencesDecision::KeepFirst => keep(first),
            DifferencesDecision::KeepSecond => keep(second),
            DifferencesDecision::DiscardBoth => EntryState::Empty,
            DifferencesDecision::ReturnFirst | DifferencesDecision::ReturnSecond => {
                EntryState::EntryCorrection {
                    first,
                    second,
                    returned: if decision == DifferencesDecision::ReturnFirst {
                        Which::First
                    } else {
                        Which::Second
                    },
                    explanation,
                }
            }
        })
    }
}

fn compare(first: Entry, second: Entry, explanation: Option<String>) -> EntryState {
    if first.matches(&second) {
        EntryState::Definitive {
            second_typist: second.typist,
            result: first,
            explanation,
        }
    } else {
        EntryState::EntriesDifferent {
            differences: first.counts.differences(&second.counts),
            first,
            second,
            explanation,
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::results::domain::counts::{Finding, ListCount};

    fn user(n: u8) -> UserId {
        UserId::from_stored(format!("usr-{n}"))
    }

    fn entry(typist: u8, votes: u64, errors: bool) -> Entry {
        let validation = if errors {
            Validation {
                errors: vec![Finding {
                    code: crate::results::domain::counts::Code::F201,
                    fields: vec!["votes_cast".into()],
                }],
                warnings: vec![],
            }
        } else {
            Validation::default()
        };
        Entry {
            typist: user(typist),
            counts: StationCounts {
                voters: votes,
                votes_cast: votes,
                blank: 0,
                invalid: 0,
                lists: vec![ListCount {
                    total: votes,
                    candidates: vec![],
                }],
            },
            validation,
            at: "2027-03-07T20:00:00Z".into(),
        }
    }

    fn first_finalised(votes: u64) -> EntryState {
        EntryState::Empty
            .claim(&user(1))
            .unwrap()
            .finalise(entry(1, votes, false))
            .unwrap()
    }

    #[test]
    fn two_equal_entries_by_two_typists_become_definitive() {
        let state = first_finalised(10).claim(&user(2)).unwrap();
        assert_eq!(state.typist_expected(), Some(&user(2)));
        let state = state.finalise(entry(2, 10, false)).unwrap();
        let EntryState::Definitive {
            result,
            second_typist,
            explanation,
        } = state
        else {
            panic!("{state:?}")
        };
        assert_eq!(
            (result.typist, second_typist, explanation),
            (user(1), user(2), None)
        );
    }

    #[test]
    fn the_first_typist_cannot_type_the_second_entry() {
        assert_eq!(
            first_finalised(10).claim(&user(1)),
            Err(TransitionError::SecondEntryNeedsDifferentUser)
        );
    }

    #[test]
    fn a_claimed_form_is_only_for_its_typist() {
        let claimed = EntryState::Empty.claim(&user(1)).unwrap();
        assert_eq!(claimed.clone().claim(&user(1)), Ok(claimed.clone()));
        assert_eq!(
            claimed.clone().claim(&user(2)),
            Err(TransitionError::ClaimedByAnother)
        );
        assert_eq!(
            claimed.clone().finalise(entry(2, 10, false)),
            Err(TransitionError::ClaimedByAnother)
        );
        assert_eq!(claimed.release(), Ok(EntryState::Empty));
        let second = first_finalised(10).claim(&user(2)).unwrap();
        assert_eq!(
            second.clone().claim(&user(3)),
            Err(TransitionError::ClaimedByAnother)
        );
        assert!(matches!(
            second.release(),
            Ok(EntryState::FirstEntryFinalised { .. })
        ));
        assert!(EntryState::Empty.release().is_err());
        assert!(EntryState::Empty.finalise(entry(1, 1, false)).is_err());
    }

    #[test]
    fn differences_go_to_the_coordinator() {
        let different = first_finalised(10)
            .claim(&user(2))
            .unwrap()
            .finalise(entry(2, 11, false))
            .unwrap();
        let EntryState::EntriesDifferent { differences, .. } = &different else {
            panic!()
        };
        assert_eq!(differences, &["voters", "votes_cast", "lists[0].total"]);
        // Keep the second: it becomes the first entry; a third typist types again.
        let kept = different
            .clone()
            .resolve_differences(DifferencesDecision::KeepSecond)
            .unwrap();
        let EntryState::FirstEntryFinalised { first, .. } = &kept else {
            panic!()
        };
        assert_eq!(first.typist, user(2));
        assert_eq!(
            kept.clone().claim(&user(2)),
            Err(TransitionError::SecondEntryNeedsDifferentUser)
        );
        assert!(matches!(
            kept.claim(&user(1)).unwrap().finalise(entry(1, 11, false)),
            Ok(EntryState::Definitive { .. })
        ));
        assert!(matches!(
            different
                .clone()
                .resolve_differences(DifferencesDecision::KeepFirst),
            Ok(EntryState::FirstEntryFinalised { first, .. }) if first.typist == user(1)
        ));
        assert_eq!(
            different
                .clone()
                .resolve_differences(DifferencesDecision::DiscardBoth),
            Ok(EntryState::Empty)
        );
        // Returned to the first typist, who corrects it to match.
        let returned = different
            .resolve_differences(DifferencesDecision::ReturnFirst)
            .unwrap();
        assert_eq!(returned.typist_expected(), Some(&user(1)));
        assert_eq!(
            returned.clone().finalise(entry(2, 11, false)),
            Err(TransitionError::NotReturnedToYou)
        );
        assert!(matches!(
            returned.clone().finalise(entry(1, 12, false)),
            Ok(EntryState::EntriesDifferent { .. })
        ));
        assert!(matches!(
            returned.finalise(entry(1, 11, false)),
            Ok(EntryState::Definitive { .. })
        ));
        assert!(
            EntryState::Empty
                .resolve_differences(DifferencesDecision::KeepFirst)
                .is_err()
        );
    }

    #[test]
    fn errors_block_until_explained_or_discarded() {
        let errors = EntryState::Empty
            .claim(&user(1))
            .unwrap()
            .finalise(entry(1, 10, true))
            .unwrap();
        assert_eq!(errors.name(), "first_entry_has_errors");
        assert!(
            errors.clone().claim(&user(2)).is_err(),
            "no second entry yet"
        );
        assert_eq!(
            errors
                .clone()
                .resolve_errors(ErrorsDecision::Accept, Some(" ".into())),
            Err(TransitionError::ExplanationRequired)
        );
        assert_eq!(
            errors.clone().resolve_errors(ErrorsDecision::Discard, None),
            Ok(EntryState::Empty)
        );
        let accepted = errors
            .resolve_errors(ErrorsDecision::Accept, Some("the form says so".into()))
            .unwrap();
        let definitive = accepted
            .claim(&user(2))
            .unwrap()
            .finalise(entry(2, 10, true))
            .unwrap();
        assert!(matches!(
            definitive,
            EntryState::Definitive {
                explanation: Some(_),
                ..
            }
        ));
        assert!(
            definitive
                .resolve_errors(ErrorsDecision::Discard, None)
                .is_err()
        );
        // A kept entry with unexplained errors returns to the errors step.
        let different = EntryState::EntriesDifferent {
            first: entry(1, 10, true),
            second: entry(2, 11, false),
            differences: vec![],
            explanation: None,
        };
        assert_eq!(
            different
                .resolve_differences(DifferencesDecision::KeepFirst)
                .unwrap()
                .name(),
            "first_entry_has_errors"
        );
    }
}
