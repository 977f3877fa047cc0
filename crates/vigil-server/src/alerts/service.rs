//! Rapid Alert System use cases. Writes are one transaction each (load,
//! check, store through the log, commit); reads apply the caller's rights
//! and TLP before anything is counted or paged.
use super::domain::{
    Access, ActiveStatus, Audience, Collection, CollectionId, Community, CommunityId, Cursor,
    Grant, Membership, ObjectFilter, StatusDetail, StoredObject, TaxiiStatus, Viewer,
    sortable_added,
};
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
    let request_timestamp = Timestamp::now();
    let mut tx = db.write().await?;
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
        match check_object(&mut tx, principal, &collection, &object, &defined_here).await? {
            Err(message) => failures.push(failure(&id, version, message)),
            Ok((tlp, audience)) => {
                let version_key = object
                    .version()
                    .map_or_else(|| sortable_added(&date_added), |v| v.sortable());
                let new_here = seen.insert((id.clone(), version_key.clone()));
                if !new_here
                    || store::object_version_exists(tx.conn(), &collection.id, &id, &version_key)
                        .await?
                {
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
    store::insert_objects(&mut tx, &accepted).await?;
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
        &mut tx,
        &collection.community_id,
        &collection.id,
        &principal.user.id,
        &status,
    )
    .await?;
    tx.commit().await?;
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
