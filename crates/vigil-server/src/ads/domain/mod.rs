//! The political-advertising pillar's pure part: the ad record with its
//! transparency notice, exact money, the states of an ad and the elections
//! calendar. No I/O.
pub mod ad;
pub mod compliance;
pub mod flat;
pub mod money;
pub mod notice;

pub use ad::{AdContent, Entity, SponsorDeclaration};
pub use money::{Currency, Money, MoneyRange};

use serde::{Deserialize, Serialize};

/// Where an ad stands. Nothing is deleted: a withdrawn or removed ad stays
/// visible with its reason and its whole history.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AdStatus {
    /// Filed and current.
    Active,
    /// Taken down by its filer (publisher or sponsor), with a reason.
    Withdrawn,
    /// Taken down by a regulator's decision, with a reason.
    Removed,
}

impl AdStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            AdStatus::Active => "active",
            AdStatus::Withdrawn => "withdrawn",
            AdStatus::Removed => "removed",
        }
    }

    pub fn parse(text: &str) -> Option<AdStatus> {
        [AdStatus::Active, AdStatus::Withdrawn, AdStatus::Removed]
            .into_iter()
            .find(|s| s.as_str() == text)
    }
}

/// What a version of an ad changed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Change {
    Filed,
    Imported,
    Corrected,
    Withdrawn,
    Removed,
}

impl Change {
    pub fn as_str(self) -> &'static str {
        match self {
            Change::Filed => "filed",
            Change::Imported => "imported",
            Change::Corrected => "corrected",
            Change::Withdrawn => "withdrawn",
            Change::Removed => "removed",
        }
    }
}

/// Why a change to an ad is refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum AdTransitionError {
    #[error("the ad is {0}; it can no longer change")]
    NoLongerActive(&'static str),
    #[error("a reason is required")]
    ReasonRequired,
}

/// The next status for a change, or why not: only an active ad changes,
/// and taking one down needs a reason.
pub fn transition(
    status: AdStatus,
    change: Change,
    reason: Option<&str>,
) -> Result<AdStatus, AdTransitionError> {
    if status != AdStatus::Active {
        return Err(AdTransitionError::NoLongerActive(status.as_str()));
    }
    let needs_reason = matches!(change, Change::Withdrawn | Change::Removed);
    if needs_reason && reason.is_none_or(|r| r.trim().is_empty()) {
        return Err(AdTransitionError::ReasonRequired);
    }
    Ok(match change {
        Change::Withdrawn => AdStatus::Withdrawn,
        Change::Removed => AdStatus::Removed,
        Change::Filed | Change::Imported | Change::Corrected => AdStatus::Active,
    })
}

/// An election or referendum of the calendar that ads are linked to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CalendarEntry {
    /// Lowercase letters, digits and dashes, e.g. `ee-ep-2029`.
    pub id: String,
    pub name: String,
    /// `election` or `referendum`.
    pub kind: String,
    /// Polling day, `YYYY-MM-DD`.
    pub date: String,
    /// ISO 3166-1 alpha-2, or `EU` for the European Parliament as a whole.
    pub country: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// The voting age (Art. 18(2) forbids targeting people a year or more
    /// below it); 18 unless given.
    #[serde(default = "default_voting_age")]
    pub voting_age: u32,
}

fn default_voting_age() -> u32 {
    18
}

impl CalendarEntry {
    pub fn check(&self) -> Vec<crate::core::error::FieldError> {
        use crate::core::error::FieldError;
        let mut errors = Vec::new();
        let slug = !self.id.is_empty()
            && self.id.len() <= 64
            && self
                .id
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if !slug {
            errors.push(FieldError::new(
                "id",
                "lowercase letters, digits and dashes",
            ));
        }
        if self.name.trim().is_empty() {
            errors.push(FieldError::new("name", "the name is required"));
        }
        if self.kind != "election" && self.kind != "referendum" {
            errors.push(FieldError::new("kind", "election or referendum"));
        }
        if !ad::is_date(&self.date) {
            errors.push(FieldError::new("date", "a date YYYY-MM-DD"));
        }
        if !(14..=21).contains(&self.voting_age) {
            errors.push(FieldError::new(
                "voting_age",
                "a voting age between 14 and 21",
            ));
        }
        if !ad::is_country(&self.country) {
            errors.push(FieldError::new(
                "country",
                "an ISO 3166-1 alpha-2 code, or EU",
            ));
        }
        errors
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_active_ads_change_and_take_downs_need_a_reason() {
        assert_eq!(
            transition(AdStatus::Active, Change::Corrected, None),
            Ok(AdStatus::Active)
        );
        assert_eq!(
            transition(
                AdStatus::Active,
                Change::Withdrawn,
                Some("campaign ended early")
            ),
            Ok(AdStatus::Withdrawn)
        );
        assert_eq!(
            transition(AdStatus::Active, Change::Removed, Some(" ")),
            Err(AdTransitionError::ReasonRequired)
        );
        assert_eq!(
            transition(AdStatus::Withdrawn, Change::Corrected, None),
            Err(AdTransitionError::NoLongerActive("withdrawn"))
        );
        assert_eq!(
            transition(AdStatus::Removed, Change::Withdrawn, Some("x")),
            Err(AdTransitionError::NoLongerActive("removed"))
        );
    }
}
