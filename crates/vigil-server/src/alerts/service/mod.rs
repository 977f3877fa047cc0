//! Rapid Alert System use cases, one submodule per topic. Writes are one
//! transaction each (load, check, store through the log, commit); reads
//! apply the caller's rights and TLP before anything is counted or paged.
use super::store;
use crate::accounts::domain::required_text;
use crate::accounts::service::Principal;
use crate::accounts::store as accounts_store;
use crate::alerts::domain::{
    Access, ActiveStatus, Alert, AlertLevel, AlertState, Audience, Collection, CollectionId,
    Community, CommunityId, Cursor, Grant, Membership, OPINIONS, ObjectFilter, StatusDetail,
    StoredObject, TaxiiStatus, Viewer, sortable_added,
};
use crate::alerts::domain::{Derivative, Release, sanitise};
use crate::core::audit::{self, Actor, AuditEvent, Outcome};
use crate::core::db::{Db, WriteTx};
use crate::core::error::{ApiError, FieldError};
use crate::core::ids::{OrganisationId, StixRowId, UserId};
use crate::core::time::Timestamp;
use serde_json::{Value, json};
use std::collections::HashSet;
use std::sync::OnceLock;
use vigil_stix::{DisarmCatalogue, StixObject, Tlp, TlpProfile};

mod access;
mod administration;
mod alerting;
mod disarm;
mod reading;
mod release;
mod sharing;
pub use access::*;
pub use administration::*;
pub use alerting::*;
pub use disarm::*;
pub use reading::*;
pub use release::*;
pub use sharing::*;

/// Vigil's STIX property extension naming who may read an AMBER+STRICT
/// (`organisations`: identity ids) or RED (`individuals`: user ids) object.
pub const AUDIENCE_EXTENSION: &str = "extension-definition--5f4d6c1e-3b0a-4c8e-9d2f-7a1b6e0c4d93";

/// Objects per page when the client does not say, and at most.
pub const DEFAULT_PAGE: u64 = 100;
pub const MAX_PAGE: u64 = 1_000;

pub(crate) fn not_found(what: &str) -> ApiError {
    ApiError::NotFound(format!("no such {what}, or you may not see it"))
}

pub(crate) async fn audit_admin(
    tx: &mut WriteTx,
    actor: &Actor,
    action: &'static str,
    subject: &str,
    details: Value,
) -> Result<(), ApiError> {
    audit::record(
        tx,
        AuditEvent {
            actor,
            action,
            subject,
            outcome: Outcome::Success,
            details,
            ip: None,
        },
    )
    .await?;
    Ok(())
}
