//! Administration: communities, memberships, collections, grants, client TLP profiles.
use super::*;

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
