//! Demonstration data for `vigil serve --demo`: organisations of every kind
//! a Rapid Alert System joins, with users whose logins are printed at start.
use crate::accounts::service::{self, NewOrganisation, NewUser};
use crate::accounts::store;
use crate::alerts::service::{self as alerts, NewCollection};
use crate::core::audit::Actor;
use crate::core::db::Db;
use crate::core::error::ApiError;
use serde_json::{Value, json};
use vigil_stix::{Tlp, TlpProfile};

/// The password of every demo account (printed at start; demo only).
mod ads;
mod results;

pub use results::Sequence;

pub const DEMO_PASSWORD: &str = "vigil-demo-2026";

pub struct DemoLogin {
    pub username: &'static str,
    pub organisation: &'static str,
    pub roles: &'static str,
}

struct DemoOrganisation {
    name: &'static str,
    kind: &'static str,
    country: &'static str,
}

const ORGANISATIONS: &[DemoOrganisation] = &[
    DemoOrganisation {
        name: "EU Election Cooperation Hub",
        kind: "eu_institution",
        country: "EU",
    },
    DemoOrganisation {
        name: "Estonian National Contact Point",
        kind: "national_contact_point",
        country: "EE",
    },
    DemoOrganisation {
        name: "Portuguese National Contact Point",
        kind: "national_contact_point",
        country: "PT",
    },
    DemoOrganisation {
        name: "Electoral Commission of Portugal",
        kind: "election_management_body",
        country: "PT",
    },
    DemoOrganisation {
        name: "Baltic Fact-Check Network",
        kind: "fact_checker",
        country: "LV",
    },
    DemoOrganisation {
        name: "Civic Election Observers",
        kind: "observer",
        country: "PT",
    },
    DemoOrganisation {
        name: "Audiovisual Media Regulator",
        kind: "regulator",
        country: "PT",
    },
    DemoOrganisation {
        name: "Jornal da Vila",
        kind: "publisher_or_sponsor",
        country: "PT",
    },
];

pub const LOGINS: &[DemoLogin] = &[
    DemoLogin {
        username: "admin",
        organisation: "EU Election Cooperation Hub",
        roles: "administrator",
    },
    DemoLogin {
        username: "eu.analyst",
        organisation: "EU Election Cooperation Hub",
        roles: "analyst",
    },
    DemoLogin {
        username: "ee.analyst",
        organisation: "Estonian National Contact Point",
        roles: "analyst",
    },
    DemoLogin {
        username: "pt.analyst",
        organisation: "Portuguese National Contact Point",
        roles: "analyst",
    },
    DemoLogin {
        username: "factchecker",
        organisation: "Baltic Fact-Check Network",
        roles: "reader",
    },
    DemoLogin {
        username: "pt.typist1",
        organisation: "Electoral Commission of Portugal",
        roles: "typist",
    },
    DemoLogin {
        username: "pt.typist2",
        organisation: "Electoral Commission of Portugal",
        roles: "typist",
    },
    DemoLogin {
        username: "pt.coordinator",
        organisation: "Electoral Commission of Portugal",
        roles: "coordinator",
    },
    DemoLogin {
        username: "observer",
        organisation: "Civic Election Observers",
        roles: "reader",
    },
    DemoLogin {
        username: "pt.regulator",
        organisation: "Audiovisual Media Regulator",
        roles: "regulator",
    },
    DemoLogin {
        username: "jornal.filer",
        organisation: "Jornal da Vila",
        roles: "filer",
    },
];

/// Seeds the demo data unless the store already has users. Returns whether it did.
pub async fn seed(db: &Db) -> Result<bool, ApiError> {
    if store::count_users(db.pool()).await? > 0 {
        return Ok(false);
    }
    let actor = Actor::System;
    for org in ORGANISATIONS {
        service::create_organisation(
            db,
            &actor,
            NewOrganisation {
                name: org.name.into(),
                kind: org.kind.into(),
                country: Some(org.country.into()),
            },
        )
        .await?;
    }
    for login in LOGINS {
        service::create_user(
            db,
            &actor,
            NewUser {
                organisation: login.organisation.into(),
                username: login.username.into(),
                password: DEMO_PASSWORD.into(),
                roles: login.roles.split(' ').map(String::from).collect(),
                display_name: Some(format!("Demo {}", login.username)),
                email: Some(format!("{}@demo.vigil.invalid", login.username)),
            },
        )
        .await?;
    }
    seed_rapid_alert_system(db).await?;
    results::seed(db).await?;
    ads::seed(db).await?;
    Ok(true)
}

async fn organisation_id(
    db: &Db,
    name: &str,
) -> Result<crate::core::ids::OrganisationId, ApiError> {
    store::organisation_by_name(db.pool(), name)
        .await?
        .map(|o| o.id)
        .ok_or_else(|| ApiError::NotFound(format!("demo organisation {name}")))
}

/// The two trust communities of the demo, their collections and grants, and
/// an alert about a cloned-news-site campaign with a sighting and an opinion.
async fn seed_rapid_alert_system(db: &Db) -> Result<(), ApiError> {
    let actor = Actor::System;
    alerts::create_community(
        db,
        &actor,
        "eu-ras",
        "EU Rapid Alert System",
        Some("National contact points of the member states and EU institutions".into()),
    )
    .await?;
    alerts::create_community(
        db,
        &actor,
        "fact-check",
        "Fact-checkers and civil society",
        Some("Sanitised releases for fact-checkers, observers and NGOs".into()),
    )
    .await?;
    let hub = "EU Election Cooperation Hub";
    for (community, members) in [
        (
            "eu-ras",
            &[
                hub,
                "Estonian National Contact Point",
                "Portuguese National Contact Point",
                "Electoral Commission of Portugal",
            ][..],
        ),
        (
            "fact-check",
            &[hub, "Baltic Fact-Check Network", "Civic Election Observers"][..],
        ),
    ] {
        for member in members {
            let id = organisation_id(db, member).await?;
            alerts::set_membership(db, &actor, community, id.as_str(), true).await?;
        }
    }
    let fimi = alerts::create_collection(
        db,
        &actor,
        "eu-ras",
        NewCollection {
            title: "European elections 2029: FIMI".into(),
            description: Some(
                "Information sharing and alerts on disinformation and foreign interference".into(),
            ),
            alias: Some("ee2029-fimi".into()),
            default_tlp: Some("amber".into()),
        },
    )
    .await?;
    let released = alerts::create_collection(
        db,
        &actor,
        "fact-check",
        NewCollection {
            title: "Released alerts".into(),
            description: Some("Alerts released onward by their originators".into()),
            alias: Some("released".into()),
            default_tlp: Some("green".into()),
        },
    )
    .await?;
    for (member, write) in [
        (hub, true),
        ("Estonian National Contact Point", true),
        ("Portuguese National Contact Point", true),
        ("Electoral Commission of Portugal", false),
    ] {
        let id = organisation_id(db, member).await?;
        alerts::set_grant(db, &actor, fimi.id.as_str(), id.as_str(), true, write).await?;
    }
    for (member, write) in [
        (hub, true),
        ("Baltic Fact-Check Network", false),
        // The Estonian contact point releases its alert there.
        ("Estonian National Contact Point", true),
        ("Civic Election Observers", false),
    ] {
        let id = organisation_id(db, member).await?;
        alerts::set_grant(db, &actor, released.id.as_str(), id.as_str(), true, write).await?;
    }

    alerts::load_disarm(db, &actor, "eu-ras").await?;
    let estonia = service::principal_of(db, "ee.analyst").await?;
    let portugal = service::principal_of(db, "pt.analyst").await?;
    // The Estonian contact point raises an alert: its report and evidence
    // become STIX objects when published.
    let bundle = alert_bundle(
        &estonia.organisation.stix_identity,
        &estonia.organisation.name,
    );
    let (report, related): (Vec<Value>, Vec<Value>) =
        bundle.into_iter().partition(|o| o["type"] == "report");
    let mut report = report.into_iter().next().unwrap_or_default();
    if let Some(map) = report.as_object_mut() {
        // Only the report's own properties: the object_refs follow from `related`.
        for generated in [
            "type",
            "spec_version",
            "id",
            "created",
            "modified",
            "created_by_ref",
            "published",
            "object_refs",
        ] {
            map.remove(generated);
        }
    }
    let alert = alerts::create_alert(
        db,
        &estonia,
        ("eu-ras", fimi.id.as_str()),
        alerts::AlertInput {
            level: "urgent".into(),
            report,
            related,
        },
    )
    .await?;
    alerts::publish_alert(db, &estonia, alert.id.as_str()).await?;
    // Portugal acknowledges and agrees; the electoral commission has not yet.
    alerts::acknowledge_alert(db, &portugal, alert.id.as_str()).await?;
    alerts::give_opinion(
        db,
        &portugal,
        alert.id.as_str(),
        "agree",
        Some("The same domains target Portuguese audiences with translated articles.".into()),
    )
    .await?;
    // …and releases a sanitised version to the fact-checkers (accounts and
    // the RED note stay behind).
    alerts::release_alert(
        db,
        &estonia,
        alert.id.as_str(),
        &alerts::ReleaseTarget {
            community: "fact-check".into(),
            collection: released.id.as_str().into(),
            tlp: "green".into(),
        },
    )
    .await?;
    seed_history(db, fimi.id.as_str()).await?;
    Ok(())
}

/// Information items the contact points shared in the past weeks (over
/// TAXII, as their tools do), so that the feed and the dashboard have history.
async fn seed_history(db: &Db, fimi: &str) -> Result<(), ApiError> {
    use crate::core::time::Timestamp;
    /// Author, weeks ago, title, DISARM technique, targeted countries, TLP.
    type Item = (
        &'static str,
        u64,
        &'static str,
        &'static str,
        &'static [&'static str],
        &'static str,
    );
    const ITEMS: &[Item] = &[
        (
            "ee.analyst",
            9,
            "New Telegram channels repost foreign state media about Estonian voting machines",
            "T0085",
            &["EE"],
            "amber",
        ),
        (
            "pt.analyst",
            9,
            "Recycled 2019 video presented as ballot destruction in Lisbon",
            "T0087",
            &["PT"],
            "green",
        ),
        (
            "eu.analyst",
            8,
            "Weekly overview: conspiracy narratives about postal voting across member states",
            "T0022",
            &["DE", "FI", "PT"],
            "green",
        ),
        (
            "ee.analyst",
            7,
            "Look-alike news domains registered in bulk",
            "T0098",
            &["EE", "LV"],
            "amber",
        ),
        (
            "pt.analyst",
            6,
            "Coordinated reply flooding under the electoral commission's posts",
            "T0049",
            &["PT"],
            "amber",
        ),
        (
            "eu.analyst",
            5,
            "Weekly overview: AI-generated images of candidates",
            "T0086",
            &["EE", "LT", "PT"],
            "green",
        ),
        (
            "ee.analyst",
            4,
            "Fake persona of a 'former election official' gains followers",
            "T0097",
            &["EE"],
            "amber",
        ),
        (
            "pt.analyst",
            3,
            "Distorted turnout figures circulate before the official count",
            "T0023",
            &["PT"],
            "green",
        ),
        (
            "eu.analyst",
            2,
            "Weekly overview: paid influencers recruited for a boycott narrative",
            "T0091",
            &["LV", "LT"],
            "amber",
        ),
        (
            "ee.analyst",
            1,
            "Image macros claim polling stations move at short notice",
            "T0086",
            &["EE"],
            "green",
        ),
        (
            "pt.analyst",
            1,
            "Cloned broadcaster site reappears under a new domain",
            "T0098",
            &["PT"],
            "amber",
        ),
    ];
    for (username, weeks_ago, title, technique, countries, tlp) in ITEMS {
        let author = service::principal_of(db, username).await?;
        let when = Timestamp::now()
            .minus(std::time::Duration::from_secs(weeks_ago * 7 * 86_400))
            .to_string();
        let marking = Tlp::from_name(tlp)
            .unwrap_or(Tlp::Amber)
            .marking_id(TlpProfile::Oasis);
        let identity = &author.organisation.stix_identity;
        let mut objects = Vec::new();
        let mut refs = Vec::new();
        if let Some(t) = alerts::disarm().technique(technique) {
            refs.push(Value::from(t.stix_id.clone()));
        }
        for country in *countries {
            let location = json!({"type": "location", "spec_version": "2.1",
                "id": format!("location--{}", uuid::Uuid::new_v4()), "created": when, "modified": when,
                "created_by_ref": identity, "country": country, "object_marking_refs": [marking]});
            refs.push(location["id"].clone());
            objects.push(location);
        }
        objects.push(json!({"type": "report", "spec_version": "2.1",
            "id": format!("report--{}", uuid::Uuid::new_v4()), "created": when, "modified": when, "published": when,
            "created_by_ref": identity, "name": title, "report_types": ["threat-report"],
            "description": "Shared in the weekly information exchange of the Rapid Alert System.",
            "object_refs": refs, "object_marking_refs": [marking],
            "extensions": {alerts::ALERT_EXTENSION: {"extension_type": "property-extension", "alert_level": "information"}}}));
        let status = alerts::add_objects(db, &author, ("eu-ras", fimi), objects).await?;
        if let Some(failure) = status.failures.first() {
            return Err(ApiError::Internal(anyhow::anyhow!(
                "demo history item {title:?} refused: {:?}",
                failure.message
            )));
        }
    }
    Ok(())
}

/// A STIX 2.1 object of `kind` with a new id, created and modified in April 2029.
fn stix(kind: &str, properties: Value) -> Value {
    let mut object = json!({
        "type": kind,
        "spec_version": "2.1",
        "id": format!("{kind}--{}", uuid::Uuid::new_v4()),
        "created": "2029-04-03T08:00:00.000Z",
        "modified": "2029-04-03T08:00:00.000Z",
    });
    if let (Some(object), Value::Object(properties)) = (object.as_object_mut(), properties) {
        object.extend(properties);
    }
    object
}

/// An observable (no created/modified) of `kind`.
fn observable(kind: &str, properties: Value) -> Value {
    let mut object = json!({"type": kind, "spec_version": "2.1", "id": format!("{kind}--{}", uuid::Uuid::new_v4())});
    if let (Some(object), Value::Object(properties)) = (object.as_object_mut(), properties) {
        object.extend(properties);
    }
    object
}

/// The Estonian contact point's alert: a campaign of cloned news sites, with
/// its evidence, indicator and DISARM technique (T0098 "Establish
/// Inauthentic News Sites", by its STIX id in the DISARM bundle).
fn alert_bundle(identity: &str, name: &str) -> Vec<Value> {
    let amber = Tlp::Amber.marking_id(TlpProfile::Oasis);
    let red = Tlp::Red.marking_id(TlpProfile::Oasis);
    let me = json!({"created_by_ref": identity, "object_marking_refs": [amber]});
    let with = |extra: Value| {
        let mut merged = me.clone();
        if let (Some(m), Value::Object(extra)) = (merged.as_object_mut(), extra) {
            m.extend(extra);
        }
        merged
    };
    let organisation = json!({"type": "identity", "spec_version": "2.1", "id": identity,
        "created": "2029-01-01T00:00:00.000Z", "modified": "2029-01-01T00:00:00.000Z",
        "name": name, "identity_class": "organization", "sectors": ["government-national"]});
    let estonia = stix(
        "location",
        with(json!({"name": "Estonia", "country": "EE"})),
    );
    let actor = stix(
        "threat-actor",
        with(
            json!({"name": "Mirror Harbour network", "threat_actor_types": ["nation-state"], "sophistication": "advanced", "primary_motivation": "ideology"}),
        ),
    );
    let campaign = stix(
        "campaign",
        with(
            json!({"name": "Cloned news sites ahead of the 2029 European elections", "objective": "Erode trust in the election administration", "first_seen": "2029-03-28T00:00:00Z"}),
        ),
    );
    let domain = observable("domain-name", json!({"value": "err-uudised-24.example"}));
    let url = observable(
        "url",
        json!({"value": "https://err-uudised-24.example/valimised/haaletus-edasi-lykatud"}),
    );
    let account = observable(
        "user-account",
        json!({"account_login": "uudised_24_live", "account_type": "twitter", "display_name": "Uudised 24"}),
    );
    let observed = stix(
        "observed-data",
        with(
            json!({"first_observed": "2029-03-28T00:00:00Z", "last_observed": "2029-04-03T07:00:00Z", "number_observed": 37,
        "object_refs": [domain["id"], url["id"], account["id"]]}),
        ),
    );
    let indicator = stix(
        "indicator",
        with(
            json!({"name": "Cloned news domain", "description": "Look-alike domain of the Estonian public broadcaster",
        "indicator_types": ["malicious-activity"], "pattern": "[domain-name:value = 'err-uudised-24.example']", "pattern_type": "stix", "valid_from": "2029-04-03T08:00:00Z"}),
        ),
    );
    let uses = |target: &str| {
        stix(
            "relationship",
            with(
                json!({"relationship_type": "uses", "source_ref": campaign["id"], "target_ref": target}),
            ),
        )
    };
    let websites = uses("attack-pattern--6db47704-ba87-402d-933a-de90f5aa8965");
    let attributed = stix(
        "relationship",
        with(
            json!({"relationship_type": "attributed-to", "source_ref": campaign["id"], "target_ref": actor["id"]}),
        ),
    );
    let targets = stix(
        "relationship",
        with(
            json!({"relationship_type": "targets", "source_ref": campaign["id"], "target_ref": estonia["id"]}),
        ),
    );
    let indicates = stix(
        "relationship",
        with(
            json!({"relationship_type": "indicates", "source_ref": indicator["id"], "target_ref": campaign["id"]}),
        ),
    );
    let note = stix(
        "note",
        json!({"created_by_ref": identity, "object_marking_refs": [red], "content": "Source: a platform trust-and-safety contact; do not share beyond this team.", "object_refs": [campaign["id"]]}),
    );
    let report = stix(
        "report",
        with(json!({
            "name": "ALERT: cloned news sites announce a postponed election",
            "description": "Since 28 March, look-alike domains of the national broadcaster publish articles claiming that the vote is postponed; amplified by a cluster of new accounts.",
            "published": "2029-04-03T08:00:00Z",
            "report_types": ["campaign", "threat-actor"],
            "object_refs": [campaign["id"], actor["id"], observed["id"], indicator["id"], websites["id"], attributed["id"], targets["id"], indicates["id"]],
        })),
    );
    vec![
        Tlp::Amber.marking_definition(TlpProfile::Oasis),
        Tlp::Red.marking_definition(TlpProfile::Oasis),
        organisation,
        estonia,
        actor,
        campaign,
        domain,
        url,
        account,
        observed,
        indicator,
        websites,
        attributed,
        targets,
        indicates,
        note,
        report,
    ]
}

/// Adds a detection finding (the objects of a `vigil detect` STIX bundle)
/// to the FIMI collection, as the Portuguese contact point's analyst
/// pushes them with `vigil detect --push`.
pub async fn add_detection_findings(db: &Db, objects: Vec<Value>) -> Result<(), ApiError> {
    let portugal = service::principal_of(db, "pt.analyst").await?;
    let fimi = alerts::visible_collections(db, &portugal, "eu-ras")
        .await?
        .into_iter()
        .find(|(c, _)| c.alias.as_deref() == Some("ee2029-fimi"))
        .map(|(c, _)| c.id)
        .ok_or_else(|| {
            ApiError::Internal(anyhow::anyhow!("the demo FIMI collection is missing"))
        })?;
    let status = alerts::add_objects(db, &portugal, ("eu-ras", fimi.as_str()), objects).await?;
    if let Some(failure) = status.failures.first() {
        return Err(ApiError::Internal(anyhow::anyhow!(
            "demo detection finding refused: {:?}",
            failure.message
        )));
    }
    Ok(())
}
