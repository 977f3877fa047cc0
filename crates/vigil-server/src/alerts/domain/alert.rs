//! Alerts: an originator's report with a level, and its typed lifecycle.
use super::*;

/// How urgent the originator judges an alert. An alert is a STIX report
/// carrying this level in Vigil's alert extension; reports without it (and
/// every other object) are everyday information sharing.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum AlertLevel {
    Information,
    Alert,
    Urgent,
}

impl AlertLevel {
    pub fn as_str(self) -> &'static str {
        match self {
            AlertLevel::Information => "information",
            AlertLevel::Alert => "alert",
            AlertLevel::Urgent => "urgent",
        }
    }

    pub fn parse(text: &str) -> Option<AlertLevel> {
        match text {
            "information" => Some(AlertLevel::Information),
            "alert" => Some(AlertLevel::Alert),
            "urgent" => Some(AlertLevel::Urgent),
            _ => None,
        }
    }
}

/// The life of an alert:
///
/// ```text
///   create ──▶ Draft ──publish──▶ Published ──revoke──▶ Revoked
///              │  ▲                 │  ▲
///              └──┘ edit            └──┘ update (a new STIX version)
/// ```
///
/// A draft is seen by its originator only and is not a STIX object yet;
/// publishing shares the report in its collection; each update is a new
/// version of the same report; revoking publishes a last version with
/// `revoked: true`. Every state is a logged record version.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AlertState {
    Draft,
    Published,
    Revoked,
}

impl AlertState {
    pub fn as_str(self) -> &'static str {
        match self {
            AlertState::Draft => "draft",
            AlertState::Published => "published",
            AlertState::Revoked => "revoked",
        }
    }

    pub fn parse(text: &str) -> Option<AlertState> {
        match text {
            "draft" => Some(AlertState::Draft),
            "published" => Some(AlertState::Published),
            "revoked" => Some(AlertState::Revoked),
            _ => None,
        }
    }
}

/// Why a transition is refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum AlertTransitionError {
    #[error("the alert is already published; update it instead")]
    AlreadyPublished,
    #[error("the alert is a draft; publish it first")]
    NotPublished,
    #[error("the alert was revoked and cannot change any more")]
    Revoked,
}

/// An alert in its current state. Transitions consume it and return the
/// next one, or say why not.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Alert {
    pub id: AlertId,
    pub version: u64,
    pub collection_id: CollectionId,
    /// The STIX id of the report (fixed at creation, shared on publication).
    pub report_id: String,
    pub originator: OrganisationId,
    pub author: UserId,
    pub level: AlertLevel,
    pub state: AlertState,
    /// The report as last written (without id, versions or the level extension).
    #[schema(value_type = Object)]
    pub report: serde_json::Value,
    /// Objects shared with the report (observables, locations…), as written.
    #[schema(value_type = Vec<Object>)]
    pub related: Vec<serde_json::Value>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    /// When it was first published.
    pub published_at: Option<Timestamp>,
}

impl Alert {
    /// The next version with new content, in the same state (edit and update).
    fn rewritten(
        self,
        level: AlertLevel,
        report: serde_json::Value,
        related: Vec<serde_json::Value>,
        now: Timestamp,
    ) -> Alert {
        Alert {
            version: self.version + 1,
            level,
            report,
            related,
            updated_at: now,
            ..self
        }
    }

    /// Changes a draft (stays a draft).
    pub fn edit(
        self,
        level: AlertLevel,
        report: serde_json::Value,
        related: Vec<serde_json::Value>,
        now: Timestamp,
    ) -> Result<Alert, AlertTransitionError> {
        match self.state {
            AlertState::Draft => Ok(self.rewritten(level, report, related, now)),
            AlertState::Published => Err(AlertTransitionError::AlreadyPublished),
            AlertState::Revoked => Err(AlertTransitionError::Revoked),
        }
    }

    pub fn publish(self, now: Timestamp) -> Result<Alert, AlertTransitionError> {
        match self.state {
            AlertState::Draft => Ok(Alert {
                version: self.version + 1,
                state: AlertState::Published,
                updated_at: now,
                published_at: Some(now),
                ..self
            }),
            AlertState::Published => Err(AlertTransitionError::AlreadyPublished),
            AlertState::Revoked => Err(AlertTransitionError::Revoked),
        }
    }

    /// A new version of a published alert.
    pub fn update(
        self,
        level: AlertLevel,
        report: serde_json::Value,
        related: Vec<serde_json::Value>,
        now: Timestamp,
    ) -> Result<Alert, AlertTransitionError> {
        match self.state {
            AlertState::Published => Ok(self.rewritten(level, report, related, now)),
            AlertState::Draft => Err(AlertTransitionError::NotPublished),
            AlertState::Revoked => Err(AlertTransitionError::Revoked),
        }
    }

    pub fn revoke(self, now: Timestamp) -> Result<Alert, AlertTransitionError> {
        match self.state {
            AlertState::Published => Ok(Alert {
                version: self.version + 1,
                state: AlertState::Revoked,
                updated_at: now,
                ..self
            }),
            AlertState::Draft => Err(AlertTransitionError::NotPublished),
            AlertState::Revoked => Err(AlertTransitionError::Revoked),
        }
    }
}

/// Vigil's alert extension (`extension`) of a report: the originator's
/// properties in it (elections, platforms…) kept, the level set.
pub fn alert_extension(
    report: &serde_json::Value,
    extension: &str,
    level: AlertLevel,
) -> serde_json::Value {
    let mut own = report
        .get("extensions")
        .and_then(|e| e.get(extension))
        .and_then(serde_json::Value::as_object)
        .cloned()
        .unwrap_or_default();
    own.insert("extension_type".into(), "property-extension".into());
    own.insert("alert_level".into(), level.as_str().into());
    serde_json::Value::Object(own)
}

/// A STIX `opinion` value (STIX 2.1 §4.13 opinion-enum).
pub const OPINIONS: [&str; 5] = [
    "strongly-disagree",
    "disagree",
    "neutral",
    "agree",
    "strongly-agree",
];

#[cfg(test)]
mod alert_tests {
    use super::*;

    fn draft() -> Alert {
        let now = Timestamp::now();
        Alert {
            id: AlertId::generate(),
            version: 1,
            collection_id: CollectionId::new(),
            report_id: "report--0d5b3a36-8f3e-4a3c-9a5e-0c9c4e2c1b7a".into(),
            originator: OrganisationId::generate(),
            author: UserId::generate(),
            level: AlertLevel::Alert,
            state: AlertState::Draft,
            report: serde_json::json!({"name": "x"}),
            related: vec![],
            created_at: now,
            updated_at: now,
            published_at: None,
        }
    }

    #[test]
    fn every_transition_and_every_refusal() {
        let now = Timestamp::now();
        let edited = draft()
            .edit(
                AlertLevel::Urgent,
                serde_json::json!({"name": "y"}),
                vec![],
                now,
            )
            .unwrap();
        assert_eq!(
            (edited.state, edited.version, edited.level),
            (AlertState::Draft, 2, AlertLevel::Urgent)
        );
        assert_eq!(
            draft()
                .update(AlertLevel::Alert, serde_json::json!({}), vec![], now)
                .unwrap_err(),
            AlertTransitionError::NotPublished
        );
        assert_eq!(
            draft().revoke(now).unwrap_err(),
            AlertTransitionError::NotPublished
        );
        let published = edited.publish(now).unwrap();
        assert_eq!(
            (published.state, published.published_at),
            (AlertState::Published, Some(now))
        );
        assert_eq!(
            published.clone().publish(now).unwrap_err(),
            AlertTransitionError::AlreadyPublished
        );
        assert_eq!(
            published
                .clone()
                .edit(AlertLevel::Alert, serde_json::json!({}), vec![], now)
                .unwrap_err(),
            AlertTransitionError::AlreadyPublished
        );
        let updated = published
            .update(
                AlertLevel::Information,
                serde_json::json!({"name": "z"}),
                vec![],
                now,
            )
            .unwrap();
        assert_eq!((updated.state, updated.version), (AlertState::Published, 4));
        let revoked = updated.revoke(now).unwrap();
        assert_eq!(revoked.state, AlertState::Revoked);
        assert_eq!(
            revoked.clone().revoke(now).unwrap_err(),
            AlertTransitionError::Revoked
        );
        assert_eq!(
            revoked.clone().publish(now).unwrap_err(),
            AlertTransitionError::Revoked
        );
        assert_eq!(
            revoked
                .clone()
                .update(AlertLevel::Alert, serde_json::json!({}), vec![], now)
                .unwrap_err(),
            AlertTransitionError::Revoked
        );
        assert_eq!(
            revoked
                .edit(AlertLevel::Alert, serde_json::json!({}), vec![], now)
                .unwrap_err(),
            AlertTransitionError::Revoked
        );
    }
}
