//! Who may see which communities and collections, with which rights.
use super::*;

/// The caller's rights on every collection, and their communities.
pub(crate) struct Rights {
    pub(crate) grants: Vec<Grant>,
    pub(crate) communities: Vec<CommunityId>,
}

pub(crate) async fn rights(db: &Db, principal: &Principal) -> Result<Rights, ApiError> {
    Ok(Rights {
        grants: store::grants_for(db.pool(), &principal.user.id, &principal.organisation.id)
            .await?,
        communities: store::communities_of(db.pool(), &principal.organisation.id).await?,
    })
}

impl Rights {
    pub(crate) fn access(&self, collection: &Collection, principal: &Principal) -> Access {
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
    pub(crate) fn sees_community(
        &self,
        community: &CommunityId,
        collections: &[Collection],
    ) -> bool {
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

/// One community with its collections, if the caller may see it.
async fn community_if_visible(
    db: &Db,
    rights: &Rights,
    id: &str,
) -> Result<(Community, Vec<Collection>), ApiError> {
    let community = store::community(db.pool(), id)
        .await?
        .filter(|c| c.status == ActiveStatus::Active)
        .ok_or_else(|| not_found("API root"))?;
    let collections = store::collections_of(db.pool(), &community.id).await?;
    if !rights.sees_community(&community.id, &collections) {
        return Err(not_found("API root"));
    }
    Ok((community, collections))
}

pub async fn visible_community(
    db: &Db,
    principal: &Principal,
    id: &str,
) -> Result<Community, ApiError> {
    let rights = rights(db, principal).await?;
    Ok(community_if_visible(db, &rights, id).await?.0)
}

/// The collections of a community the caller may read or write, with their rights.
pub async fn visible_collections(
    db: &Db,
    principal: &Principal,
    community: &str,
) -> Result<Vec<(Collection, Access)>, ApiError> {
    let rights = rights(db, principal).await?;
    let (_, collections) = community_if_visible(db, &rights, community).await?;
    Ok(collections
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

pub(crate) fn viewer(principal: &Principal, access: &Access) -> Result<Viewer, ApiError> {
    let open = access
        .open_tlp()
        .ok_or_else(|| ApiError::Forbidden("you may not read this collection".into()))?;
    Ok(Viewer {
        user: principal.user.id.as_str().to_string(),
        organisation: principal.organisation.id.as_str().to_string(),
        open,
    })
}
