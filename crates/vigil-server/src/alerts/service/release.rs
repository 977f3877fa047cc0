//! Onward release of an alert's sanitised derivative to a wider audience.
use super::*;

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
