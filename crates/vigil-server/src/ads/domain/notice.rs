//! Notices of possibly non-compliant ads (Regulation (EU) 2024/900, Art.
//! 15): anyone may notify, with a reasoned explanation, what identifies the
//! ad, their name and email (Art. 15(3)); the notice is acknowledged at once
//! (Art. 15(4)) with a tracking number; the publisher or a regulator decides,
//! with reasons. The notifier's identity never leaves the queue.
use crate::core::error::FieldError;
use serde::{Deserialize, Serialize};

/// What a notifier sends.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, default)]
pub struct NoticeInput {
    /// Why the ad is thought not to comply (Art. 15(3)(a)).
    pub explanation: String,
    /// Personal data: shown to the publisher and regulators only.
    pub name: String,
    /// Personal data: shown to the publisher and regulators only.
    pub email: String,
    /// A link to evidence (a screenshot, an archive), optional.
    pub evidence_url: Option<String>,
}

pub const EXPLANATION_MIN: usize = 20;
pub const EXPLANATION_MAX: usize = 5_000;

impl NoticeInput {
    /// Every faulty field, named; text trimmed.
    pub fn check(&mut self) -> Result<(), Vec<FieldError>> {
        self.explanation = self.explanation.trim().to_string();
        self.name = self.name.trim().to_string();
        self.email = self.email.trim().to_string();
        self.evidence_url = self
            .evidence_url
            .take()
            .map(|u| u.trim().to_string())
            .filter(|u| !u.is_empty());
        let mut errors = Vec::new();
        let length = self.explanation.chars().count();
        if length < EXPLANATION_MIN {
            errors.push(FieldError::new(
                "explanation",
                format!(
                    "explain why the ad may not comply, in {EXPLANATION_MIN} characters or more"
                ),
            ));
        } else if length > EXPLANATION_MAX {
            errors.push(FieldError::new(
                "explanation",
                format!("at most {EXPLANATION_MAX} characters"),
            ));
        }
        if self.name.is_empty() || self.name.chars().count() > 200 {
            errors.push(FieldError::new(
                "name",
                "your name is required (Art. 15(3)(c))",
            ));
        }
        let at = self.email.find('@');
        if !at.is_some_and(|i| i > 0 && i + 1 < self.email.len())
            || self.email.contains(char::is_whitespace)
            || self.email.len() > 254
        {
            errors.push(FieldError::new("email", "an email address, to hear back"));
        }
        if let Some(url) = &self.evidence_url
            && (!(url.starts_with("https://") || url.starts_with("http://")) || url.len() > 2_000)
        {
            errors.push(FieldError::new(
                "evidence_url",
                "a web address starting with https://",
            ));
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }
}

/// Where a notice stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum NoticeStatus {
    /// Received and acknowledged at once (Art. 15(4)).
    Acknowledged,
    /// The publisher or a regulator is looking at it.
    UnderReview,
    /// The ad was found not to comply.
    Upheld,
    /// The ad was found to comply.
    Rejected,
}

impl NoticeStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            NoticeStatus::Acknowledged => "acknowledged",
            NoticeStatus::UnderReview => "under_review",
            NoticeStatus::Upheld => "upheld",
            NoticeStatus::Rejected => "rejected",
        }
    }

    pub fn parse(text: &str) -> Option<NoticeStatus> {
        [
            NoticeStatus::Acknowledged,
            NoticeStatus::UnderReview,
            NoticeStatus::Upheld,
            NoticeStatus::Rejected,
        ]
        .into_iter()
        .find(|s| s.as_str() == text)
    }
}

/// A step of the queue.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum NoticeStep {
    StartReview,
    Uphold,
    Reject,
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum NoticeError {
    #[error("the notice is already decided ({0})")]
    Decided(&'static str),
    #[error("a decision needs its reasons")]
    ReasonRequired,
}

/// The next status, or why not: a decision needs reasons, and a decided
/// notice stays decided.
pub fn step(
    status: NoticeStatus,
    step: NoticeStep,
    reason: &str,
) -> Result<NoticeStatus, NoticeError> {
    if matches!(status, NoticeStatus::Upheld | NoticeStatus::Rejected) {
        return Err(NoticeError::Decided(status.as_str()));
    }
    match step {
        NoticeStep::StartReview => Ok(NoticeStatus::UnderReview),
        _ if reason.trim().is_empty() => Err(NoticeError::ReasonRequired),
        NoticeStep::Uphold => Ok(NoticeStatus::Upheld),
        NoticeStep::Reject => Ok(NoticeStatus::Rejected),
    }
}

/// A tracking number people can read out: 16 characters of an alphabet
/// without look-alikes (80 bits), in groups of four.
pub fn tracking_number(random: &[u8; 10]) -> String {
    const ALPHABET: &[u8; 32] = b"23456789ABCDEFGHJKLMNPQRSTUVWXYZ";
    let mut bits: u128 = 0;
    for byte in random {
        bits = (bits << 8) | u128::from(*byte);
    }
    let symbols: Vec<u8> = (0..16)
        .map(|i| ALPHABET[((bits >> (75 - 5 * i)) & 31) as usize])
        .collect();
    let groups: Vec<&str> = symbols
        .chunks(4)
        .map(|c| std::str::from_utf8(c).unwrap_or(""))
        .collect();
    format!("VN-{}", groups.join("-"))
}

/// Accepts a tracking number as people type it (any case, with or without
/// dashes).
pub fn normalise_tracking(text: &str) -> Option<String> {
    let mut symbols: String = text
        .chars()
        .filter(|c| !matches!(c, '-' | ' '))
        .map(|c| c.to_ascii_uppercase())
        .collect();
    if symbols.len() == 18 && symbols.starts_with("VN") {
        symbols.drain(..2);
    }
    let valid = symbols.len() == 16
        && symbols
            .bytes()
            .all(|b| b"23456789ABCDEFGHJKLMNPQRSTUVWXYZ".contains(&b));
    valid.then(|| {
        let groups: Vec<&str> = (0..4).map(|i| &symbols[i * 4..i * 4 + 4]).collect();
        format!("VN-{}", groups.join("-"))
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn input() -> NoticeInput {
        NoticeInput {
            explanation: "This ad targets 16-year-olds, below the voting age.".into(),
            name: "Maria Silva".into(),
            email: "maria@example.org".into(),
            evidence_url: None,
        }
    }

    #[test]
    fn a_notice_needs_a_reasoned_explanation_a_name_and_an_email() {
        input().check().unwrap();
        let mut short = input();
        short.explanation = " Bad ad ".into();
        let mut bad = NoticeInput {
            evidence_url: Some("javascript:alert(1)".into()),
            ..NoticeInput::default()
        };
        let fields: Vec<String> = bad
            .check()
            .unwrap_err()
            .into_iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(fields, ["explanation", "name", "email", "evidence_url"]);
        assert_eq!(short.check().unwrap_err()[0].field, "explanation");
        let mut exactly = input();
        exactly.explanation = "x".repeat(EXPLANATION_MIN);
        exactly.check().unwrap();
        exactly.explanation = "x".repeat(EXPLANATION_MIN - 1);
        assert!(exactly.check().is_err());
    }

    #[test]
    fn decisions_need_reasons_and_stay_decided() {
        use NoticeStatus::*;
        assert_eq!(
            step(Acknowledged, NoticeStep::StartReview, ""),
            Ok(UnderReview)
        );
        assert_eq!(
            step(UnderReview, NoticeStep::Uphold, " "),
            Err(NoticeError::ReasonRequired)
        );
        assert_eq!(
            step(Acknowledged, NoticeStep::Reject, "The ad complies."),
            Ok(Rejected)
        );
        assert_eq!(
            step(Upheld, NoticeStep::Reject, "x"),
            Err(NoticeError::Decided("upheld"))
        );
    }

    #[test]
    fn tracking_numbers_read_back_as_typed() {
        let number = tracking_number(&[0, 1, 2, 3, 4, 250, 251, 252, 253, 254]);
        assert_eq!(number.len(), 22);
        assert!(number.starts_with("VN-"));
        assert_eq!(
            normalise_tracking(&number.to_lowercase().replace('-', " ")),
            Some(number.clone())
        );
        assert_eq!(
            normalise_tracking("VN-0000-0000-0000-0000"),
            None,
            "0 is not in the alphabet"
        );
        assert_eq!(normalise_tracking("short"), None);
    }
}
