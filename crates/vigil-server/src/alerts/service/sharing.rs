//! Sharing STIX objects: reading pages under TLP, adding envelopes, deleting, and where each version sits in the log.
use super::*;

pub struct Page {
    pub objects: Vec<StoredObject>,
    pub more: bool,
    pub next: Option<String>,
}

/// A page of what the caller may see in a collection under the filters.
pub async fn objects_page(
    db: &Db,
    cursor_key: &[u8],
    principal: &Principal,
    (community, collection): (&str, &str),
    filter: &ObjectFilter,
    next: Option<&str>,
    limit: u64,
) -> Result<Page, ApiError> {
    let (collection, access) = visible_collection(db, principal, community, collection).await?;
    let viewer = viewer(principal, &access)?;
    let fingerprint = filter.fingerprint();
    let after = next
        .map(|text| Cursor::open(text, cursor_key, &fingerprint))
        .transpose()
        .map_err(|e| ApiError::invalid(vec![FieldError::new("next", e.0)]))?;
    let mut objects = store::visible_objects(
        db.pool(),
        &collection.id,
        &viewer,
        filter,
        after.as_ref(),
        limit,
    )
    .await?;
    let more = objects.len() as u64 > limit;
    objects.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    let next = match objects.last() {
        Some(last) if more => Some(
            Cursor {
                date_added: last.date_added.clone(),
                row: last.row.as_str().to_string(),
                filters: fingerprint,
            }
            .seal(cursor_key),
        ),
        _ => None,
    };
    Ok(Page {
        objects,
        more,
        next,
    })
}

pub(crate) fn failure(
    id: &str,
    version: Option<String>,
    message: impl Into<String>,
) -> StatusDetail {
    StatusDetail {
        id: id.to_string(),
        version,
        message: Some(message.into()),
    }
}

/// Stores the valid objects of an envelope and reports each one; invalid
/// objects are listed as failures with the reason. One transaction: either
/// the whole outcome is stored (objects and status) or nothing is.
pub async fn add_objects(
    db: &Db,
    principal: &Principal,
    (community, collection): (&str, &str),
    objects: Vec<Value>,
) -> Result<TaxiiStatus, ApiError> {
    let (collection, access) = visible_collection(db, principal, community, collection).await?;
    if !access.can_write {
        return Err(ApiError::Forbidden(
            "you may not add objects to this collection".into(),
        ));
    }
    let mut tx = db.write().await?;
    let status = store_envelope(&mut tx, principal, &collection, objects).await?;
    tx.commit().await?;
    Ok(status)
}

/// Checks and stores the objects of an envelope in the caller's transaction,
/// with their status; returns the status (failures included).
pub(crate) async fn store_envelope(
    tx: &mut WriteTx,
    principal: &Principal,
    collection: &Collection,
    objects: Vec<Value>,
) -> Result<TaxiiStatus, ApiError> {
    let request_timestamp = Timestamp::now();
    // Dated after everything already in the collection, whatever the clocks.
    let mut date_added = request_timestamp;
    if let Some(latest) = store::latest_date_added(tx.conn(), &collection.id)
        .await?
        .and_then(|t| Timestamp::parse(&t))
        && latest >= date_added
    {
        date_added = latest.plus(std::time::Duration::from_micros(1));
    }
    let date_added = date_added.to_string();
    // Markings defined in this envelope may be referenced by its other objects.
    let defined_here: HashSet<String> = objects
        .iter()
        .filter(|o| o.get("type").and_then(Value::as_str) == Some("marking-definition"))
        .filter_map(|o| o.get("id").and_then(Value::as_str).map(str::to_string))
        .collect();
    let mut successes = Vec::new();
    let mut failures = Vec::new();
    let mut accepted: Vec<StoredObject> = Vec::new();
    let mut seen: HashSet<(String, String)> = HashSet::new();
    // The versions of these objects already stored, in one query.
    let ids: Vec<String> = objects
        .iter()
        .filter_map(|o| o.get("id").and_then(Value::as_str).map(str::to_string))
        .collect();
    let stored = store::stored_versions(tx.conn(), &collection.id, &ids).await?;
    for value in objects {
        let id = value
            .get("id")
            .and_then(Value::as_str)
            .unwrap_or("(no id)")
            .to_string();
        let object = match StixObject::parse(value) {
            Ok(object) => object,
            Err(e) => {
                failures.push(failure(&id, None, e.to_string()));
                continue;
            }
        };
        let version = object.version().map(|v| v.as_str().to_string());
        match check_object(tx, principal, collection, &object, &defined_here).await? {
            Err(message) => failures.push(failure(&id, version, message)),
            Ok((tlp, audience)) => {
                let version_key = object
                    .version()
                    .map_or_else(|| sortable_added(&date_added), |v| v.sortable());
                let new_here = seen.insert((id.clone(), version_key.clone()));
                if !new_here || stored.contains(&(id.clone(), version_key.clone())) {
                    successes.push(StatusDetail {
                        id,
                        version,
                        message: Some("this version is already stored".into()),
                    });
                    continue;
                }
                accepted.push(StoredObject {
                    row: StixRowId::generate(),
                    version: 1,
                    collection_id: collection.id.clone(),
                    stix_id: id.clone(),
                    stix_type: object.kind().to_string(),
                    stix_version: version.clone(),
                    version_key,
                    spec_version: object.str("spec_version").unwrap_or("2.1").to_string(),
                    date_added: date_added.clone(),
                    tlp,
                    originator: principal.organisation.id.clone(),
                    poster: principal.user.id.clone(),
                    audience: audience.to_column(),
                    deleted: false,
                    object: object.into_json().to_string(),
                });
                successes.push(StatusDetail {
                    id,
                    version,
                    message: None,
                });
            }
        }
    }
    store::insert_objects(tx, &accepted).await?;
    let total = (successes.len() + failures.len()) as u64;
    let status = TaxiiStatus {
        id: uuid::Uuid::new_v4().to_string(),
        status: "complete".into(),
        request_timestamp: request_timestamp.to_string(),
        total_count: total,
        success_count: successes.len() as u64,
        successes,
        failure_count: failures.len() as u64,
        failures,
        pending_count: 0,
        pendings: Vec::new(),
    };
    store::insert_status(
        tx,
        &collection.community_id,
        &collection.id,
        &principal.user.id,
        &status,
    )
    .await?;
    Ok(status)
}

/// The rules an object must meet beyond STIX itself: it is posted in the
/// poster's own name, its markings are known, and its audience exists.
/// Returns its TLP and audience, or why it is refused.
pub(crate) async fn check_object(
    tx: &mut WriteTx,
    principal: &Principal,
    collection: &Collection,
    object: &StixObject,
    defined_here: &HashSet<String>,
) -> Result<Result<(Tlp, Audience), String>, ApiError> {
    if let Some(creator) = object.created_by_ref()
        && creator != principal.organisation.stix_identity
    {
        return Ok(Err(format!(
            "created_by_ref {creator} is not your organisation's identity ({}): nobody posts in another organisation's name",
            principal.organisation.stix_identity
        )));
    }
    let mut tlp: Option<Tlp> = None;
    for marking in object.marking_refs() {
        if let Some(level) = Tlp::from_marking_id(marking) {
            tlp = Some(tlp.map_or(level, |t| t.max(level)));
        } else if !defined_here.contains(marking)
            && !store::object_version_exists_any(tx.conn(), &collection.id, marking).await?
        {
            return Ok(Err(format!(
                "marking {marking} is unknown: send its marking-definition first or use a TLP marking"
            )));
        }
    }
    // A TLP marking-definition is itself public reference data.
    // (Only marking-definitions are looked at: no copy of other objects.)
    let is_tlp_definition = object.kind() == "marking-definition"
        && Tlp::from_marking_definition(&Value::Object(object.json().clone())).is_some();
    let tlp = if is_tlp_definition {
        Tlp::Clear
    } else {
        tlp.unwrap_or(collection.default_tlp)
    };
    let mut audience = Audience::default();
    if let Some(extension) = object
        .get("extensions")
        .and_then(|e| e.get(AUDIENCE_EXTENSION))
    {
        let ids = |name: &str| -> Vec<String> {
            extension
                .get(name)
                .and_then(Value::as_array)
                .map(|list| {
                    list.iter()
                        .filter_map(Value::as_str)
                        .map(str::to_string)
                        .collect()
                })
                .unwrap_or_default()
        };
        for identity in ids("organisations") {
            match store::organisation_by_identity(tx.conn(), &identity).await? {
                Some(org) => audience.organisations.push(org.as_str().to_string()),
                None => {
                    return Ok(Err(format!(
                        "audience organisation {identity} is not an organisation on this server"
                    )));
                }
            }
        }
        for user in ids("individuals") {
            let known = match UserId::parse(&user) {
                Some(id) => accounts_store::user(tx.conn(), id.as_str())
                    .await?
                    .is_some(),
                None => false,
            };
            if !known {
                return Ok(Err(format!(
                    "audience individual {user} is not a user on this server"
                )));
            }
            audience.individuals.push(user);
        }
    }
    Ok(Ok((tlp, audience)))
}

/// Stops serving the matching versions of an object. Only its originating
/// organisation may, with write rights; the versions stay in the log.
pub async fn delete_object(
    db: &Db,
    principal: &Principal,
    (community, collection): (&str, &str),
    stix_id: &str,
    filter: &ObjectFilter,
) -> Result<u64, ApiError> {
    let (collection, access) = visible_collection(db, principal, community, collection).await?;
    let viewer = viewer(principal, &access)?;
    let mut filter = filter.clone();
    filter.ids = vec![stix_id.to_string()];
    let mut tx = db.write().await?;
    let matching = store::visible_objects(
        tx.conn(),
        &collection.id,
        &viewer,
        &filter,
        None,
        u64::MAX - 1,
    )
    .await?;
    if matching.is_empty() {
        return Err(not_found("object"));
    }
    if !access.can_write
        || matching
            .iter()
            .any(|o| o.originator != principal.organisation.id)
    {
        return Err(ApiError::Forbidden(
            "only the organisation that added an object may delete it, with write rights".into(),
        ));
    }
    for object in &matching {
        let deleted = StoredObject {
            version: object.version + 1,
            deleted: true,
            ..object.clone()
        };
        store::update_object(&mut tx, &deleted).await?;
    }
    audit_admin(
        &mut tx,
        &principal.actor(),
        "taxii.object_deleted",
        stix_id,
        json!({"collection": collection.id, "versions": matching.len()}),
    )
    .await?;
    tx.commit().await?;
    Ok(matching.len() as u64)
}

/// A status, for the user who made the request or their organisation.
pub async fn status(
    db: &Db,
    principal: &Principal,
    community: &str,
    id: &str,
) -> Result<TaxiiStatus, ApiError> {
    let community = visible_community(db, principal, community).await?;
    let (status, requester) = store::status_of(db.pool(), &community.id, id)
        .await?
        .ok_or_else(|| not_found("status"))?;
    if requester != principal.user.id {
        let requester = accounts_store::user(db.pool(), requester.as_str()).await?;
        if requester.is_none_or(|u| u.user.organisation_id != principal.organisation.id) {
            return Err(not_found("status"));
        }
    }
    Ok(status)
}

/// Where one stored version of a STIX object sits in the transparency log.
#[derive(Clone, Debug, serde::Serialize, utoipa::ToSchema)]
pub struct LoggedVersion {
    pub version: String,
    pub date_added: String,
    /// The stored record (`stix_object`) holding this version.
    pub record_id: String,
    /// The log leaf that logged it when it was added.
    pub leaf_index: Option<u64>,
    /// Where to fetch its inclusion proof against the latest checkpoint.
    pub inclusion_proof: String,
}

/// The log positions of the versions of an object the caller may see.
pub async fn logged_versions(
    db: &Db,
    ledger: &crate::core::ledger::Ledger,
    principal: &Principal,
    (community, collection): (&str, &str),
    stix_id: &str,
) -> Result<Vec<LoggedVersion>, ApiError> {
    let (collection, access) = visible_collection(db, principal, community, collection).await?;
    let viewer = viewer(principal, &access)?;
    let filter = ObjectFilter {
        ids: vec![stix_id.to_string()],
        versions: crate::alerts::domain::VersionFilter::All,
        ..ObjectFilter::default()
    };
    let versions =
        store::visible_objects(db.pool(), &collection.id, &viewer, &filter, None, MAX_PAGE).await?;
    if versions.is_empty() {
        return Err(not_found("object"));
    }
    let mut logged = Vec::with_capacity(versions.len());
    for object in versions {
        let leaf_index = ledger
            .find_leaf("stix_object", object.row.as_str(), Some(1))
            .await
            .map_err(|e| ApiError::Internal(e.into()))?;
        logged.push(LoggedVersion {
            version: object.taxii_version().to_string(),
            date_added: object.date_added.clone(),
            inclusion_proof: format!(
                "/api/log/proof/inclusion?kind=stix_object&id={}&version=1",
                object.row.as_str()
            ),
            record_id: object.row.as_str().to_string(),
            leaf_index,
        });
    }
    Ok(logged)
}
