//! Rapid Alert System use cases. Writes are one transaction each (load,
//! check, store through the log, commit); reads apply the caller's rights
//! and TLP before anything is counted or paged.
use super::domain::{
    Access, ActiveStatus, Alert, AlertLevel, AlertState, Audience, Collection, CollectionId,
    Community, CommunityId, Cursor, Grant, Membership, OPINIONS, ObjectFilter, StatusDetail,
    StoredObject, TaxiiStatus, Viewer, sortable_added,
};
use super::domain::{Derivative, Release, sanitise};
use super::store;
use crate::accounts::domain::required_text;
use crate::accounts::service::Principal;
use crate::accounts::store as accounts_store;
use crate::core::audit::{self, Actor, AuditEvent, Outcome};
use crate::core::db::{Db, WriteTx};
use crate::core::error::{ApiError, FieldError};
use crate::core::ids::{OrganisationId, StixRowId, UserId};
use crate::core::time::Timestamp;
use serde_json::{Value, json};
use std::collections::HashSet;
use std::sync::OnceLock;
use vigil_stix::{Category, DisarmCatalogue, StixObject, Tlp, TlpProfile};

/// Vigil's STIX property extension naming who may read an AMBER+STRICT
/// (`organisations`: identity ids) or RED (`individuals`: user ids) object.
pub const AUDIENCE_EXTENSION: &str = "extension-definition--5f4d6c1e-3b0a-4c8e-9d2f-7a1b6e0c4d93";

/// Objects per page when the client does not say, and at most.
pub const DEFAULT_PAGE: u64 = 100;
pub const MAX_PAGE: u64 = 1_000;

fn not_found(what: &str) -> ApiError {
    ApiError::NotFound(format!("no such {what}, or you may not see it"))
}

async fn audit_admin(
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

// ---------- administration ----------

pub async fn create_community(
    db: &Db,
    actor: &Actor,
    id: &str,
    title: &str,
    description: Option<String>,
) -> Result<Community, ApiError> {
    let mut errors = Vec::new();
    let community_id = CommunityId::parse(id);
    if community_id.is_none() {
        errors.push(FieldError::new(
            "id",
            "use 2 to 64 of a-z, 0-9 and -, starting with a letter",
        ));
    }
    let title = required_text("title", title, 200)
        .map_err(|e| errors.push(e))
        .ok();
    let (Some(id), Some(title)) = (community_id, title) else {
        return Err(ApiError::invalid(errors));
    };
    let mut tx = db.write().await?;
    if store::community(tx.conn(), id.as_str()).await?.is_some() {
        return Err(ApiError::invalid(vec![FieldError::new(
            "id",
            "a community with this id exists",
        )]));
    }
    let now = Timestamp::now();
    let community = Community {
        id,
        version: 1,
        title,
        description,
        status: ActiveStatus::Active,
        created_at: now,
        updated_at: now,
    };
    store::save_community(&mut tx, &community).await?;
    audit_admin(
        &mut tx,
        actor,
        "community.created",
        community.id.as_str(),
        json!({"title": community.title}),
    )
    .await?;
    tx.commit().await?;
    Ok(community)
}

/// Adds an organisation to a community, or removes it (`active = false`).
pub async fn set_membership(
    db: &Db,
    actor: &Actor,
    community: &str,
    organisation: &str,
    active: bool,
) -> Result<Membership, ApiError> {
    let mut tx = db.write().await?;
    let community = store::community(tx.conn(), community)
        .await?
        .ok_or_else(|| not_found("community"))?;
    let organisation = accounts_store::organisation(tx.conn(), organisation)
        .await?
        .ok_or_else(|| not_found("organisation"))?;
    let status = if active {
        ActiveStatus::Active
    } else {
        ActiveStatus::Removed
    };
    let now = Timestamp::now();
    let membership = match store::membership(tx.conn(), &community.id, &organisation.id).await? {
        Some(existing) if existing.status == status => return Ok(existing),
        Some(existing) => Membership {
            version: existing.version + 1,
            status,
            updated_at: now,
            ..existing
        },
        None => Membership {
            community_id: community.id.clone(),
            organisation_id: organisation.id.clone(),
            version: 1,
            status,
            updated_at: now,
        },
    };
    store::save_membership(&mut tx, &membership).await?;
    let action = if active {
        "community.member_added"
    } else {
        "community.member_removed"
    };
    audit_admin(
        &mut tx,
        actor,
        action,
        community.id.as_str(),
        json!({"organisation": organisation.id}),
    )
    .await?;
    tx.commit().await?;
    Ok(membership)
}

pub struct NewCollection {
    pub title: String,
    pub description: Option<String>,
    pub alias: Option<String>,
    pub default_tlp: Option<String>,
}

pub async fn create_collection(
    db: &Db,
    actor: &Actor,
    community: &str,
    input: NewCollection,
) -> Result<Collection, ApiError> {
    let mut errors = Vec::new();
    let title = required_text("title", &input.title, 200)
        .map_err(|e| errors.push(e))
        .ok();
    let default_tlp = match input.default_tlp.as_deref() {
        None => Some(Tlp::Amber),
        Some(text) => {
            let tlp = Tlp::from_name(text);
            if tlp.is_none() {
                errors.push(FieldError::new(
                    "default_tlp",
                    "use clear, green, amber, amber+strict or red",
                ));
            }
            tlp
        }
    };
    let (Some(title), Some(default_tlp)) = (title, default_tlp) else {
        return Err(ApiError::invalid(errors));
    };
    let mut tx = db.write().await?;
    let community = store::community(tx.conn(), community)
        .await?
        .ok_or_else(|| not_found("community"))?;
    let now = Timestamp::now();
    let collection = Collection {
        id: CollectionId::new(),
        version: 1,
        community_id: community.id,
        title,
        description: input.description,
        alias: input.alias,
        default_tlp,
        status: ActiveStatus::Active,
        created_at: now,
        updated_at: now,
    };
    store::save_collection(&mut tx, &collection).await?;
    audit_admin(
        &mut tx,
        actor,
        "collection.created",
        collection.id.as_str(),
        json!({"community": collection.community_id, "title": collection.title}),
    )
    .await?;
    tx.commit().await?;
    Ok(collection)
}

/// Sets the rights of an organisation (`org-…`) or user (`usr-…`) on a collection.
pub async fn set_grant(
    db: &Db,
    actor: &Actor,
    collection: &str,
    grantee: &str,
    can_read: bool,
    can_write: bool,
) -> Result<Grant, ApiError> {
    let mut tx = db.write().await?;
    let collection = store::collection(tx.conn(), collection)
        .await?
        .ok_or_else(|| not_found("collection"))?;
    let known = if let Some(id) = OrganisationId::parse(grantee) {
        accounts_store::organisation(tx.conn(), id.as_str())
            .await?
            .is_some()
    } else if let Some(id) = UserId::parse(grantee) {
        accounts_store::user(tx.conn(), id.as_str())
            .await?
            .is_some()
    } else {
        false
    };
    if !known {
        return Err(ApiError::invalid(vec![FieldError::new(
            "grantee",
            "name an existing organisation (org-…) or user (usr-…)",
        )]));
    }
    let now = Timestamp::now();
    let grant = match store::grant(tx.conn(), &collection.id, grantee).await? {
        Some(existing) if (existing.can_read, existing.can_write) == (can_read, can_write) => {
            return Ok(existing);
        }
        Some(existing) => Grant {
            version: existing.version + 1,
            can_read,
            can_write,
            updated_at: now,
            ..existing
        },
        None => Grant {
            collection_id: collection.id.clone(),
            grantee: grantee.to_string(),
            version: 1,
            can_read,
            can_write,
            updated_at: now,
        },
    };
    store::save_grant(&mut tx, &grant).await?;
    audit_admin(
        &mut tx,
        actor,
        "collection.grant_set",
        collection.id.as_str(),
        json!({"grantee": grantee, "can_read": can_read, "can_write": can_write}),
    )
    .await?;
    tx.commit().await?;
    Ok(grant)
}

/// Sets the TLP marking family a user's TAXII client receives.
pub async fn set_tlp_profile(
    db: &Db,
    actor: &Actor,
    user: &str,
    profile: &str,
) -> Result<TlpProfile, ApiError> {
    let profile = match profile {
        "oasis" => TlpProfile::Oasis,
        "compat" => TlpProfile::Compat,
        _ => {
            return Err(ApiError::invalid(vec![FieldError::new(
                "tlp_profile",
                "use oasis (TLP 2.0) or compat (TLP 1.0 ids and OpenCTI's AMBER+STRICT)",
            )]));
        }
    };
    let mut tx = db.write().await?;
    let user = accounts_store::user(tx.conn(), user)
        .await?
        .ok_or_else(|| not_found("user"))?
        .user;
    let version = match store::tlp_profile(tx.conn(), &user.id).await? {
        Some((current, _)) if current == profile => return Ok(profile),
        Some((_, version)) => version + 1,
        None => 1,
    };
    store::save_tlp_profile(&mut tx, &user.id, profile, version).await?;
    audit_admin(
        &mut tx,
        actor,
        "taxii.tlp_profile_set",
        user.id.as_str(),
        json!({"tlp_profile": format!("{profile:?}").to_lowercase()}),
    )
    .await?;
    tx.commit().await?;
    Ok(profile)
}

/// The TLP marking family the caller receives (OASIS TLP 2.0 unless set).
pub async fn tlp_profile_of(db: &Db, principal: &Principal) -> Result<TlpProfile, ApiError> {
    Ok(store::tlp_profile(db.pool(), &principal.user.id)
        .await?
        .map_or(TlpProfile::Oasis, |(p, _)| p))
}

// ---------- access ----------

/// The caller's rights on every collection, and their communities.
struct Rights {
    grants: Vec<Grant>,
    communities: Vec<CommunityId>,
}

async fn rights(db: &Db, principal: &Principal) -> Result<Rights, ApiError> {
    Ok(Rights {
        grants: store::grants_for(db.pool(), &principal.user.id, &principal.organisation.id)
            .await?,
        communities: store::communities_of(db.pool(), &principal.organisation.id).await?,
    })
}

impl Rights {
    fn access(&self, collection: &Collection, principal: &Principal) -> Access {
        let mut access = Access {
            member: self.communities.contains(&collection.community_id),
            ..Access::default()
        };
        if collection.status != ActiveStatus::Active {
            return access;
        }
        for grant in self
            .grants
            .iter()
            .filter(|g| g.collection_id == collection.id)
        {
            access.can_read |= grant.can_read;
            access.can_write |= grant.can_write;
            if grant.grantee == principal.organisation.id.as_str() {
                access.organisation_reads |= grant.can_read;
            }
        }
        access
    }

    /// Whether the community is visible: a member, or a grant in it.
    fn sees_community(&self, community: &CommunityId, collections: &[Collection]) -> bool {
        self.communities.contains(community)
            || collections.iter().any(|c| {
                &c.community_id == community
                    && self
                        .grants
                        .iter()
                        .any(|g| g.collection_id == c.id && (g.can_read || g.can_write))
            })
    }
}

/// The communities (API roots) the caller may see.
pub async fn visible_communities(
    db: &Db,
    principal: &Principal,
) -> Result<Vec<Community>, ApiError> {
    let rights = rights(db, principal).await?;
    let mut visible = Vec::new();
    for community in store::communities(db.pool()).await? {
        if community.status != ActiveStatus::Active {
            continue;
        }
        let collections = store::collections_of(db.pool(), &community.id).await?;
        if rights.sees_community(&community.id, &collections) {
            visible.push(community);
        }
    }
    Ok(visible)
}

pub async fn visible_community(
    db: &Db,
    principal: &Principal,
    id: &str,
) -> Result<Community, ApiError> {
    visible_communities(db, principal)
        .await?
        .into_iter()
        .find(|c| c.id.as_str() == id)
        .ok_or_else(|| not_found("API root"))
}

/// The collections of a community the caller may read or write, with their rights.
pub async fn visible_collections(
    db: &Db,
    principal: &Principal,
    community: &str,
) -> Result<Vec<(Collection, Access)>, ApiError> {
    let community = visible_community(db, principal, community).await?;
    let rights = rights(db, principal).await?;
    Ok(store::collections_of(db.pool(), &community.id)
        .await?
        .into_iter()
        .map(|c| {
            let access = rights.access(&c, principal);
            (c, access)
        })
        .filter(|(_, access)| access.can_read || access.can_write)
        .collect())
}

/// One collection with the caller's rights; 404 when they have none.
pub async fn visible_collection(
    db: &Db,
    principal: &Principal,
    community: &str,
    id: &str,
) -> Result<(Collection, Access), ApiError> {
    visible_collections(db, principal, community)
        .await?
        .into_iter()
        .find(|(c, _)| c.id.as_str() == id)
        .ok_or_else(|| not_found("collection"))
}

fn viewer(principal: &Principal, access: &Access) -> Result<Viewer, ApiError> {
    let open = access
        .open_tlp()
        .ok_or_else(|| ApiError::Forbidden("you may not read this collection".into()))?;
    Ok(Viewer {
        user: principal.user.id.as_str().to_string(),
        organisation: principal.organisation.id.as_str().to_string(),
        open,
    })
}

// ---------- reading objects ----------

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

// ---------- adding objects ----------

fn failure(id: &str, version: Option<String>, message: impl Into<String>) -> StatusDetail {
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
async fn store_envelope(
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
async fn check_object(
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
    let tlp = match (
        object.category(),
        Tlp::from_marking_definition(&Value::Object(object.json().clone())),
    ) {
        (Category::Meta, Some(_)) if object.kind() == "marking-definition" => Tlp::Clear,
        _ => tlp.unwrap_or(collection.default_tlp),
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

// ---------- DISARM ----------

/// Attribution the DISARM data requires wherever it is served.
pub const DISARM_ATTRIBUTION: &str =
    "DISARM Framework v1.6, © DISARM Foundation, licensed CC BY-SA 4.0 (data/disarm/README.md)";

/// The DISARM catalogue shipped in `data/disarm/DISARM.json`.
pub fn disarm() -> &'static DisarmCatalogue {
    static CATALOGUE: OnceLock<DisarmCatalogue> = OnceLock::new();
    CATALOGUE.get_or_init(|| {
        DisarmCatalogue::from_bundle(include_bytes!("../../../../data/disarm/DISARM.json"))
            .unwrap_or_else(|e| {
                // A test loads the shipped bundle; this only happens if it was replaced by a broken file.
                tracing::error!(error = %e, "the shipped DISARM bundle does not load");
                DisarmCatalogue::default()
            })
    })
}

/// Creates a read-only reference collection with the DISARM framework in a
/// community, readable by its current members (grant later members with
/// `vigil admin collection grant`). The objects are logged like any other,
/// posted by the server itself.
pub async fn load_disarm(db: &Db, actor: &Actor, community: &str) -> Result<Collection, ApiError> {
    let collection = create_collection(
        db,
        actor,
        community,
        NewCollection {
            title: "DISARM framework".into(),
            description: Some(format!(
                "Techniques of influence operations, for reference. {DISARM_ATTRIBUTION}"
            )),
            alias: Some("disarm".into()),
            default_tlp: Some("clear".into()),
        },
    )
    .await?;
    let members = store::members(db.pool(), &collection.community_id).await?;
    for member in members.iter().filter(|m| m.status == ActiveStatus::Active) {
        set_grant(
            db,
            actor,
            collection.id.as_str(),
            member.organisation_id.as_str(),
            true,
            false,
        )
        .await?;
    }
    let date_added = Timestamp::now().to_string();
    let mut objects = Vec::new();
    for value in disarm().objects() {
        let object = StixObject::parse(value.clone())
            .map_err(|e| ApiError::Internal(anyhow::anyhow!("DISARM object: {e}")))?;
        objects.push(StoredObject {
            row: StixRowId::generate(),
            version: 1,
            collection_id: collection.id.clone(),
            stix_id: object.id().to_string(),
            stix_type: object.kind().to_string(),
            stix_version: object.version().map(|v| v.as_str().to_string()),
            version_key: object
                .version()
                .map_or_else(|| sortable_added(&date_added), |v| v.sortable()),
            spec_version: object.str("spec_version").unwrap_or("2.1").to_string(),
            date_added: date_added.clone(),
            tlp: Tlp::Clear,
            originator: OrganisationId::from_stored(SYSTEM_POSTER.into()),
            poster: UserId::from_stored(SYSTEM_POSTER.into()),
            audience: " ".into(),
            deleted: false,
            object: object.into_json().to_string(),
        });
    }
    let mut tx = db.write().await?;
    store::insert_objects(&mut tx, &objects).await?;
    audit_admin(
        &mut tx,
        actor,
        "collection.disarm_loaded",
        collection.id.as_str(),
        json!({"objects": objects.len()}),
    )
    .await?;
    tx.commit().await?;
    Ok(collection)
}

/// Originator and poster of reference data the server loads itself.
pub const SYSTEM_POSTER: &str = "vigil";

// ---------- deleting ----------

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

// ---------- alerts ----------

/// Vigil's property extension carrying an alert's level on its STIX report.
pub const ALERT_EXTENSION: &str = "extension-definition--c6f7a3d2-8e41-4b5a-9f0c-2d7e6b1a4c85";

/// What an originator writes: the level, the report's own properties (name,
/// description, object_refs, markings…) and the objects shared with it.
pub struct AlertInput {
    pub level: String,
    pub report: Value,
    pub related: Vec<Value>,
}

fn transition_error(e: super::domain::AlertTransitionError) -> ApiError {
    ApiError::Conflict(e.to_string())
}

/// Reads and checks an alert input: a known level, a report object without
/// the properties the server sets, related objects that are valid STIX.
fn read_alert_input(input: AlertInput) -> Result<(AlertLevel, Value, Vec<Value>), ApiError> {
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
fn alert_objects(alert: &Alert, identity: &str, now: Timestamp) -> Vec<Value> {
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
        json!({"extension_type": "property-extension", "alert_level": alert.level.as_str()}),
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
async fn readable_alert(
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
async fn own_alert(
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
async fn commit_alert(
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
            super::domain::AlertTransitionError::NotPublished,
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
            super::domain::AlertTransitionError::NotPublished,
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

fn report_markings(alert: &Alert) -> Value {
    alert
        .report
        .get("object_marking_refs")
        .cloned()
        .unwrap_or_else(|| json!([]))
}

/// Stores a reaction (sighting or opinion) in the alert's collection.
async fn react(
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
async fn reactions(
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

// ---------- log positions ----------

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
        versions: super::domain::VersionFilter::All,
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

// ---------- onward release ----------

/// Where and how an alert is released.
pub struct ReleaseTarget {
    pub community: String,
    pub collection: String,
    /// The marking of the derivative: clear, green or amber.
    pub tlp: String,
}

/// The derivative a release would share, with what it leaves out, for the
/// originator to confirm; nothing is written.
pub async fn release_preview(
    db: &Db,
    principal: &Principal,
    id: &str,
    target: &ReleaseTarget,
) -> Result<(Derivative, Collection), ApiError> {
    let (alert, _) = own_alert(db, principal, id).await?;
    if alert.state != AlertState::Published {
        return Err(ApiError::Conflict(
            "only a published alert (not a draft, not revoked) can be released".into(),
        ));
    }
    let tlp = match Tlp::from_name(&target.tlp) {
        Some(tlp) if tlp <= Tlp::Amber => tlp,
        _ => {
            return Err(ApiError::invalid(vec![FieldError::new(
                "tlp",
                "release as clear, green or amber",
            )]));
        }
    };
    let (collection, access) =
        visible_collection(db, principal, &target.community, &target.collection).await?;
    if !access.can_write {
        return Err(ApiError::Forbidden(
            "you may not write in the target collection".into(),
        ));
    }
    if collection.id == alert.collection_id {
        return Err(ApiError::invalid(vec![FieldError::new(
            "collection",
            "release to another collection than the alert's own",
        )]));
    }
    let now = Timestamp::now().to_string();
    let derivative = sanitise(
        &alert.report,
        &alert.related,
        &Release {
            original_report_id: &alert.report_id,
            identity: &principal.organisation.stix_identity,
            marking: tlp.marking_id(TlpProfile::Oasis),
            level: alert.level,
            alert_extension: ALERT_EXTENSION,
            now: &now,
        },
    );
    Ok((derivative, collection))
}

/// Releases a published alert to a wider audience: its sanitised
/// derivative is stored in the target collection (one transaction, audited);
/// the original stays as it is. Only the originating organisation may.
pub async fn release_alert(
    db: &Db,
    principal: &Principal,
    id: &str,
    target: &ReleaseTarget,
) -> Result<Derivative, ApiError> {
    let (derivative, collection) = release_preview(db, principal, id, target).await?;
    let mut tx = db.write().await?;
    let status =
        store_envelope(&mut tx, principal, &collection, derivative.objects.clone()).await?;
    if status.failure_count > 0 {
        let fields = status
            .failures
            .iter()
            .map(|f| FieldError::new(&f.id, f.message.clone().unwrap_or_default()))
            .collect();
        return Err(ApiError::invalid(fields));
    }
    let report = derivative
        .objects
        .first()
        .and_then(|o| o.get("id"))
        .cloned()
        .unwrap_or_default();
    audit_admin(
        &mut tx,
        &principal.actor(),
        "alert.released",
        id,
        json!({"collection": collection.id, "community": collection.community_id, "report": report, "removed": derivative.removed.len(), "tlp": target.tlp}),
    )
    .await?;
    tx.commit().await?;
    Ok(derivative)
}
