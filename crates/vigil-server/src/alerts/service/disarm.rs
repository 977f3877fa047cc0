//! The DISARM catalogue and its reference collection.
use super::*;

/// Attribution the DISARM data requires wherever it is served.
pub const DISARM_ATTRIBUTION: &str =
    "DISARM Framework v1.6, © DISARM Foundation, licensed CC BY-SA 4.0 (data/disarm/README.md)";

/// The DISARM catalogue shipped in `data/disarm/DISARM.json`.
pub fn disarm() -> &'static DisarmCatalogue {
    static CATALOGUE: OnceLock<DisarmCatalogue> = OnceLock::new();
    CATALOGUE.get_or_init(|| {
        DisarmCatalogue::from_bundle(include_bytes!("../../../../../data/disarm/DISARM.json"))
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
