//! Demonstration data for `vigil serve --demo`: organisations of every kind
//! a Rapid Alert System joins, with users whose logins are printed at start.
use crate::accounts::service::{self, NewOrganisation, NewUser};
use crate::accounts::store;
use crate::core::audit::Actor;
use crate::core::db::Db;
use crate::core::error::ApiError;

/// The password of every demo account (printed at start; demo only).
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
        username: "observer",
        organisation: "Civic Election Observers",
        roles: "reader",
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
    Ok(true)
}
