//! Alerts: drafts, publication, updates, revocation, acknowledgements, opinions and receipts.
use super::*;

/// Vigil's property extension carrying an alert's level on its STIX report.
pub const ALERT_EXTENSION: &str = "extension-definition--c6f7a3d2-8e41-4b5a-9f0c-2d7e6b1a4c85";

/// What an originator writes: the level, the report's own properties (name,
/// description, object_refs, markings…) and the objects shared with it.
pub struct AlertInput {
    pub level: String,
    pub report: Value,
    pub related: Vec<Value>,
}

pub(crate) fn transition_error(e: crate::alerts::domain::AlertTransitionError) -> ApiError {
    ApiError::Conflict(e.to_string())
}

/// Reads and checks an alert input: a known level, a report object without
/// the properties the server sets, related objects that are valid STIX.
pub(crate) fn read_alert_input(
    input: AlertInput,
) -> Result<(AlertLevel, Value, Vec<Value>), ApiError> {
    let mut errors = Vec::new();
    let level = AlertLevel::parse(&input.level);
    if level.is_none() {
        errors.push(FieldError::new("level", "use information, alert or urgent"));
    }
    let mut report = match input.report {
        Value::Object(map) => map,
        _ => {
            errors.push(FieldError::new(
                "report",
                "must be a JSON object with the report's properties",
            ));
            serde_json::Map::new()
        }
    };
    for reserved in [
        "type",
        "id",
        "spec_version",
        "created",
        "modified",
        "created_by_ref",
        "revoked",
        "published",
    ] {
        report.remove(reserved);
    }
    if report
        .get("name")
        .and_then(Value::as_str)
        .is_none_or(|n| n.trim().is_empty())
    {
        errors.push(FieldError::new("report.name", "an alert needs a title"));
    }
    for (n, object) in input.related.iter().enumerate() {
        if let Err(e) = StixObject::parse(object.clone()) {
            errors.push(FieldError::new(&format!("related[{n}]"), e.to_string()));
        }
    }
    match (level, errors.is_empty()) {
        (Some(level), true) => Ok((level, Value::Object(report), input.related)),
        _ => Err(ApiError::invalid(errors)),
    }
}

/// The STIX objects of an alert version: the report (with the level, the
/// originator's identity and references to every related object) and the
/// related objects, unmarked ones taking the report's markings.
pub(crate) fn alert_objects(alert: &Alert, identity: &str, now: Timestamp) -> Vec<Value> {
    let mut report = match &alert.report {
        Value::Object(map) => map.clone(),
        _ => serde_json::Map::new(),
    };
    let published = alert.published_at.unwrap_or(now).to_string();
    let mut refs: Vec<Value> = report
        .get("object_refs")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    for object in &alert.related {
        if let Some(id) = object.get("id")
            && !refs.contains(id)
        {
            refs.push(id.clone());
        }
    }
    if refs.is_empty() {
        // STIX requires a report to reference something: its originator at least.
        refs.push(identity.into());
    }
    let markings = report.get("object_marking_refs").cloned();
    let mut extensions = report
        .get("extensions")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    extensions.insert(
        ALERT_EXTENSION.into(),
        crate::alerts::domain::alert_extension(&alert.report, ALERT_EXTENSION, alert.level),
    );
    report.insert("type".into(), "report".into());
    report.insert("spec_version".into(), "2.1".into());
    report.insert("id".into(), alert.report_id.clone().into());
    report.insert("created".into(), published.clone().into());
    report.insert("modified".into(), now.to_string().into());
    report.insert("published".into(), published.into());
    report.insert("created_by_ref".into(), identity.into());
    report.insert("object_refs".into(), Value::Array(refs));
    report.insert("extensions".into(), Value::Object(extensions));
    if alert.state == AlertState::Revoked {
        report.insert("revoked".into(), true.into());
    }
    report
        .entry("report_types")
        .or_insert_with(|| json!(["campaign"]));
    let mut objects: Vec<Value> = alert
        .related
        .iter()
        .map(|object| {
            let mut object = object.clone();
            // Marking-definitions are not marked (a marking cannot mark itself).
            let is_marking =
                object.get("type").and_then(Value::as_str) == Some("marking-definition");
            if let (Some(markings), Some(map), false) =
                (&markings, object.as_object_mut(), is_marking)
            {
                map.entry("object_marking_refs")
                    .or_insert_with(|| markings.clone());
            }
            object
        })
        .collect();
    objects.push(Value::Object(report));
    objects
}

/// The alert, for the originating organisation (any state) or for a reader
/// who may see its report (published or revoked).
pub(crate) async fn readable_alert(
    db: &Db,
    principal: &Principal,
    id: &str,
) -> Result<(Alert, Collection, Access), ApiError> {
    let alert = store::alert(db.pool(), id)
        .await?
        .ok_or_else(|| not_found("alert"))?;
    let collection = store::collection(db.pool(), alert.collection_id.as_str())
        .await?
        .ok_or_else(|| not_found("alert"))?;
    let rights = rights(db, principal).await?;
    let access = rights.access(&collection, principal);
    if alert.originator == principal.organisation.id {
        return Ok((alert, collection, access));
    }
    if alert.state == AlertState::Draft {
        return Err(not_found("alert"));
    }
    let Some(open) = access.open_tlp() else {
        return Err(not_found("alert"));
    };
    let viewer = Viewer {
        user: principal.user.id.as_str().to_string(),
        organisation: principal.organisation.id.as_str().to_string(),
        open,
    };
    let filter = ObjectFilter {
        ids: vec![alert.report_id.clone()],
        ..ObjectFilter::default()
    };
    if store::visible_objects(db.pool(), &collection.id, &viewer, &filter, None, 1)
        .await?
        .is_empty()
    {
        return Err(not_found("alert"));
    }
    Ok((alert, collection, access))
}

/// The alert, for a change by its originating organisation (write rights).
pub(crate) async fn own_alert(
    db: &Db,
    principal: &Principal,
    id: &str,
) -> Result<(Alert, Collection), ApiError> {
    let (alert, collection, access) = readable_alert(db, principal, id).await?;
    if alert.originator != principal.organisation.id {
        return Err(ApiError::Forbidden(
            "only the originating organisation may change an alert".into(),
        ));
    }
    if !access.can_write {
        return Err(ApiError::Forbidden(
            "you may not write in this alert's collection".into(),
        ));
    }
    Ok((alert, collection))
}

/// Creates a draft alert in a collection the caller may write in.
pub async fn create_alert(
    db: &Db,
    principal: &Principal,
    (community, collection): (&str, &str),
    input: AlertInput,
) -> Result<Alert, ApiError> {
    let (collection, access) = visible_collection(db, principal, community, collection).await?;
    if !access.can_write {
        return Err(ApiError::Forbidden(
            "you may not write in this collection".into(),
        ));
    }
    let (level, report, related) = read_alert_input(input)?;
    let now = Timestamp::now();
    let alert = Alert {
        id: crate::core::ids::AlertId::generate(),
        version: 1,
        collection_id: collection.id,
        report_id: format!("report--{}", uuid::Uuid::new_v4()),
        originator: principal.organisation.id.clone(),
        author: principal.user.id.clone(),
        level,
        state: AlertState::Draft,
        report,
        related,
        created_at: now,
        updated_at: now,
        published_at: None,
    };
    let mut tx = db.write().await?;
    store::save_alert(&mut tx, &alert).await?;
    tx.commit().await?;
    Ok(alert)
}

/// Writes an alert's new state and, unless it is a draft, its STIX
/// objects, in one transaction: if any object is refused, nothing changes.
pub(crate) async fn commit_alert(
    db: &Db,
    principal: &Principal,
    collection: &Collection,
    alert: &Alert,
) -> Result<(), ApiError> {
    let mut tx = db.write().await?;
    if alert.state != AlertState::Draft {
        let objects = alert_objects(
            alert,
            &principal.organisation.stix_identity,
            alert.updated_at,
        );
        let status = store_envelope(&mut tx, principal, collection, objects).await?;
        if status.failure_count > 0 {
            let fields = status
                .failures
                .iter()
                .map(|f| FieldError::new(&f.id, f.message.clone().unwrap_or_default()))
                .collect();
            return Err(ApiError::invalid(fields));
        }
    }
    store::save_alert(&mut tx, alert).await?;
    tx.commit().await?;
    Ok(())
}

/// Edits a draft, or publishes a new version of a published alert.
pub async fn change_alert(
    db: &Db,
    principal: &Principal,
    id: &str,
    input: AlertInput,
) -> Result<Alert, ApiError> {
    let (alert, collection) = own_alert(db, principal, id).await?;
    let (level, report, related) = read_alert_input(input)?;
    let now = Timestamp::now();
    let next = match alert.state {
        AlertState::Draft => alert.edit(level, report, related, now),
        _ => alert.update(level, report, related, now),
    }
    .map_err(transition_error)?;
    commit_alert(db, principal, &collection, &next).await?;
    Ok(next)
}

pub async fn publish_alert(db: &Db, principal: &Principal, id: &str) -> Result<Alert, ApiError> {
    let (alert, collection) = own_alert(db, principal, id).await?;
    let next = alert.publish(Timestamp::now()).map_err(transition_error)?;
    commit_alert(db, principal, &collection, &next).await?;
    Ok(next)
}

pub async fn revoke_alert(db: &Db, principal: &Principal, id: &str) -> Result<Alert, ApiError> {
    let (alert, collection) = own_alert(db, principal, id).await?;
    let next = alert.revoke(Timestamp::now()).map_err(transition_error)?;
    commit_alert(db, principal, &collection, &next).await?;
    Ok(next)
}

pub async fn alert(db: &Db, principal: &Principal, id: &str) -> Result<Alert, ApiError> {
    Ok(readable_alert(db, principal, id).await?.0)
}

/// The alerts the caller may see in the collections they may read (their
/// organisation's drafts included), newest change first.
pub async fn alerts(db: &Db, principal: &Principal) -> Result<Vec<Alert>, ApiError> {
    let rights = rights(db, principal).await?;
    let collections: Vec<CollectionId> = rights
        .grants
        .iter()
        .filter(|g| g.can_read || g.can_write)
        .map(|g| g.collection_id.clone())
        .collect();
    let mut visible = Vec::new();
    for alert in store::alerts_in(db.pool(), &collections).await? {
        if readable_alert(db, principal, alert.id.as_str())
            .await
            .is_ok()
        {
            visible.push(alert);
        }
    }
    Ok(visible)
}

/// Records the caller's organisation's acknowledgement of an alert as a
/// STIX sighting (once per organisation). Every organisation that receives
/// the alert may acknowledge it, write rights or not.
pub async fn acknowledge_alert(
    db: &Db,
    principal: &Principal,
    id: &str,
) -> Result<Value, ApiError> {
    let (alert, collection, _) = readable_alert(db, principal, id).await?;
    if alert.state == AlertState::Draft {
        return Err(transition_error(
            crate::alerts::domain::AlertTransitionError::NotPublished,
        ));
    }
    if let Some(existing) = reactions(db, &collection, &alert, "sighting")
        .await?
        .into_iter()
        .find(|o| o.originator == principal.organisation.id)
    {
        return Ok(serde_json::from_str(&existing.object).unwrap_or_default());
    }
    let now = Timestamp::now().to_string();
    let sighting = json!({
        "type": "sighting", "spec_version": "2.1", "id": format!("sighting--{}", uuid::Uuid::new_v4()),
        "created": now, "modified": now, "first_seen": now, "last_seen": now, "count": 1,
        "created_by_ref": principal.organisation.stix_identity,
        "sighting_of_ref": alert.report_id,
        "where_sighted_refs": [principal.organisation.stix_identity],
        "description": "Acknowledged",
        "object_marking_refs": report_markings(&alert),
    });
    react(db, principal, &collection, sighting).await
}

/// Records the caller's organisation's opinion of an alert's assessment as
/// a STIX opinion; the newest opinion of an organisation counts.
pub async fn give_opinion(
    db: &Db,
    principal: &Principal,
    id: &str,
    opinion: &str,
    explanation: Option<String>,
) -> Result<Value, ApiError> {
    if !OPINIONS.contains(&opinion) {
        return Err(ApiError::invalid(vec![FieldError::new(
            "opinion",
            format!("use one of: {}", OPINIONS.join(", ")),
        )]));
    }
    let (alert, collection, _) = readable_alert(db, principal, id).await?;
    if alert.state == AlertState::Draft {
        return Err(transition_error(
            crate::alerts::domain::AlertTransitionError::NotPublished,
        ));
    }
    let now = Timestamp::now().to_string();
    let mut object = json!({
        "type": "opinion", "spec_version": "2.1", "id": format!("opinion--{}", uuid::Uuid::new_v4()),
        "created": now, "modified": now, "opinion": opinion,
        "created_by_ref": principal.organisation.stix_identity,
        "object_refs": [alert.report_id],
        "object_marking_refs": report_markings(&alert),
    });
    if let Some(explanation) = explanation {
        object["explanation"] = explanation.into();
    }
    react(db, principal, &collection, object).await
}

pub(crate) fn report_markings(alert: &Alert) -> Value {
    alert
        .report
        .get("object_marking_refs")
        .cloned()
        .unwrap_or_else(|| json!([]))
}

/// Stores a reaction (sighting or opinion) in the alert's collection.
pub(crate) async fn react(
    db: &Db,
    principal: &Principal,
    collection: &Collection,
    mut object: Value,
) -> Result<Value, ApiError> {
    if object
        .get("object_marking_refs")
        .and_then(Value::as_array)
        .is_some_and(Vec::is_empty)
        && let Some(map) = object.as_object_mut()
    {
        map.remove("object_marking_refs");
    }
    let mut tx = db.write().await?;
    let status = store_envelope(&mut tx, principal, collection, vec![object.clone()]).await?;
    if status.failure_count > 0 {
        let reason = status
            .failures
            .first()
            .and_then(|f| f.message.clone())
            .unwrap_or_default();
        return Err(ApiError::Internal(anyhow::anyhow!(
            "reaction refused: {reason}"
        )));
    }
    tx.commit().await?;
    Ok(object)
}

/// Sightings or opinions about an alert's report stored in its collection.
pub(crate) async fn reactions(
    db: &Db,
    collection: &Collection,
    alert: &Alert,
    stix_type: &str,
) -> Result<Vec<StoredObject>, ApiError> {
    let stored =
        store::objects_mentioning(db.pool(), &collection.id, stix_type, &alert.report_id).await?;
    Ok(stored
        .into_iter()
        .filter(|object| {
            let value: Value = serde_json::from_str(&object.object).unwrap_or_default();
            value.get("sighting_of_ref").and_then(Value::as_str) == Some(alert.report_id.as_str())
                || value
                    .get("object_refs")
                    .and_then(Value::as_array)
                    .is_some_and(|refs| {
                        refs.iter()
                            .any(|r| r.as_str() == Some(alert.report_id.as_str()))
                    })
        })
        .collect())
}

/// Who received an alert and how each organisation reacted.
#[derive(Clone, Debug, serde::Serialize, utoipa::ToSchema)]
pub struct Receipt {
    pub organisation_id: OrganisationId,
    pub organisation: String,
    pub acknowledged_at: Option<String>,
    /// The organisation's newest opinion (agree, disagree…).
    pub opinion: Option<String>,
}

/// For the originating organisation: every organisation the alert reaches
/// (members with a read grant on its collection, as its TLP allows), with
/// its acknowledgement and opinion.
pub async fn receipts(db: &Db, principal: &Principal, id: &str) -> Result<Vec<Receipt>, ApiError> {
    let (alert, collection, _) = readable_alert(db, principal, id).await?;
    if alert.originator != principal.organisation.id {
        return Err(ApiError::Forbidden(
            "only the originating organisation sees who acknowledged".into(),
        ));
    }
    let sightings = reactions(db, &collection, &alert, "sighting").await?;
    let opinions = reactions(db, &collection, &alert, "opinion").await?;
    let report = store::visible_objects(
        db.pool(),
        &collection.id,
        &Viewer {
            user: principal.user.id.as_str().to_string(),
            organisation: principal.organisation.id.as_str().to_string(),
            open: Tlp::Red,
        },
        &ObjectFilter {
            ids: vec![alert.report_id.clone()],
            ..ObjectFilter::default()
        },
        None,
        1,
    )
    .await?;
    let Some(report) = report.first() else {
        return Ok(Vec::new());
    };
    let members = store::members(db.pool(), &collection.community_id).await?;
    let mut receipts = Vec::new();
    for grant in store::grants_of(db.pool(), &collection.id).await? {
        let Some(organisation) = OrganisationId::parse(&grant.grantee) else {
            continue;
        };
        if !grant.can_read || organisation == alert.originator {
            continue;
        }
        let member = members
            .iter()
            .any(|m| m.organisation_id == organisation && m.status == ActiveStatus::Active);
        let access = Access {
            can_read: true,
            can_write: grant.can_write,
            member,
            organisation_reads: true,
        };
        let Some(open) = access.open_tlp() else {
            continue;
        };
        let viewer = Viewer {
            user: String::new(),
            organisation: organisation.as_str().to_string(),
            open,
        };
        if !viewer.sees(
            report.tlp,
            report.originator.as_str(),
            report.poster.as_str(),
            &report.audience,
        ) {
            continue;
        }
        let name = accounts_store::organisation(db.pool(), organisation.as_str())
            .await?
            .map(|o| o.name)
            .unwrap_or_default();
        let opinion = opinions
            .iter()
            .rev()
            .find(|o| o.originator == organisation)
            .and_then(|o| {
                serde_json::from_str::<Value>(&o.object)
                    .ok()?
                    .get("opinion")?
                    .as_str()
                    .map(str::to_string)
            });
        receipts.push(Receipt {
            acknowledged_at: sightings
                .iter()
                .find(|s| s.originator == organisation)
                .map(|s| s.date_added.clone()),
            organisation_id: organisation,
            organisation: name,
            opinion,
        });
    }
    receipts.sort_by(|a, b| a.organisation.cmp(&b.organisation));
    Ok(receipts)
}
