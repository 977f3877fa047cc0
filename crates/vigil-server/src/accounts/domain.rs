//! Organisations, users, roles and API tokens: pure types and rules.
use crate::core::error::FieldError;
use crate::core::ids::{OrganisationId, TokenId, UserId};
use crate::core::time::Timestamp;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// What an organisation is; decides what it may later be granted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OrganisationKind {
    NationalContactPoint,
    EuInstitution,
    ElectionManagementBody,
    Regulator,
    FactChecker,
    CivilSociety,
    Observer,
    PublisherOrSponsor,
    Research,
}

impl OrganisationKind {
    pub const ALL: [OrganisationKind; 9] = [
        OrganisationKind::NationalContactPoint,
        OrganisationKind::EuInstitution,
        OrganisationKind::ElectionManagementBody,
        OrganisationKind::Regulator,
        OrganisationKind::FactChecker,
        OrganisationKind::CivilSociety,
        OrganisationKind::Observer,
        OrganisationKind::PublisherOrSponsor,
        OrganisationKind::Research,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            OrganisationKind::NationalContactPoint => "national_contact_point",
            OrganisationKind::EuInstitution => "eu_institution",
            OrganisationKind::ElectionManagementBody => "election_management_body",
            OrganisationKind::Regulator => "regulator",
            OrganisationKind::FactChecker => "fact_checker",
            OrganisationKind::CivilSociety => "civil_society",
            OrganisationKind::Observer => "observer",
            OrganisationKind::PublisherOrSponsor => "publisher_or_sponsor",
            OrganisationKind::Research => "research",
        }
    }

    pub fn parse(text: &str) -> Option<OrganisationKind> {
        OrganisationKind::ALL
            .into_iter()
            .find(|k| k.as_str() == text)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Active,
    Disabled,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Active => "active",
            Status::Disabled => "disabled",
        }
    }

    pub fn parse(text: &str) -> Option<Status> {
        match text {
            "active" => Some(Status::Active),
            "disabled" => Some(Status::Disabled),
            _ => None,
        }
    }
}

/// A role a user may hold. Each pillar lists the roles it needs in
/// [`ROLE_CATALOGUE`]; anything else is refused.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, utoipa::ToSchema)]
#[serde(transparent)]
pub struct Role(&'static str);

pub struct RoleInfo {
    pub name: &'static str,
    pub description: &'static str,
}

/// Foundation roles. Pillars append theirs (alerts, ads, results …).
pub const ROLE_CATALOGUE: &[RoleInfo] = &[
    RoleInfo {
        name: "administrator",
        description: "manages organisations, users, tokens and the log; reads the audit trail",
    },
    RoleInfo {
        name: "analyst",
        description: "shares information and raises alerts for their organisation",
    },
    RoleInfo {
        name: "reader",
        description: "reads what is shared with their organisation",
    },
    RoleInfo {
        name: "typist",
        description: "types in polling-station results of their organisation's elections",
    },
    RoleInfo {
        name: "filer",
        description: "files, corrects and withdraws political ads of their organisation (a publisher or sponsor)",
    },
    RoleInfo {
        name: "regulator",
        description: "keeps the elections calendar of the ad repository and removes non-compliant ads with a reason",
    },
    RoleInfo {
        name: "coordinator",
        description: "defines their organisation's elections, resolves differences and errors in typed results, enters lots drawn",
    },
];

impl Role {
    pub const ADMINISTRATOR: Role = Role("administrator");
    pub const ANALYST: Role = Role("analyst");
    pub const READER: Role = Role("reader");
    pub const TYPIST: Role = Role("typist");
    pub const COORDINATOR: Role = Role("coordinator");
    pub const FILER: Role = Role("filer");
    pub const REGULATOR: Role = Role("regulator");

    pub fn parse(text: &str) -> Option<Role> {
        ROLE_CATALOGUE
            .iter()
            .find(|r| r.name == text)
            .map(|r| Role(r.name))
    }

    pub fn as_str(&self) -> &'static str {
        self.0
    }
}

/// A set of roles, stored as space-separated names in alphabetical order.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(transparent)]
#[schema(value_type = Vec<String>)]
pub struct Roles(BTreeSet<Role>);

impl Roles {
    pub fn parse_list<S: AsRef<str>>(names: &[S]) -> Result<Roles, FieldError> {
        let mut roles = BTreeSet::new();
        for name in names {
            let name = name.as_ref();
            let role = Role::parse(name).ok_or_else(|| {
                let known: Vec<&str> = ROLE_CATALOGUE.iter().map(|r| r.name).collect();
                FieldError::new(
                    "roles",
                    format!("unknown role {name:?}; known roles: {}", known.join(", ")),
                )
            })?;
            roles.insert(role);
        }
        Ok(Roles(roles))
    }

    pub fn from_stored(text: &str) -> Roles {
        Roles(text.split_whitespace().filter_map(Role::parse).collect())
    }

    pub fn to_stored(&self) -> String {
        self.0
            .iter()
            .map(Role::as_str)
            .collect::<Vec<_>>()
            .join(" ")
    }

    pub fn contains(&self, role: &Role) -> bool {
        self.0.contains(role)
    }

    pub fn iter(&self) -> impl Iterator<Item = &Role> {
        self.0.iter()
    }
}

/// A login name: 3–64 of `a-z 0-9 . _ -`, starting with a letter or digit.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(transparent)]
pub struct Username(String);

impl Username {
    pub fn parse(text: &str) -> Result<Username, FieldError> {
        let ok_chars = text.bytes().all(|b| {
            b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'_' | b'-')
        });
        let ok_start = text
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_alphanumeric());
        if !(3..=64).contains(&text.len()) || !ok_chars || !ok_start {
            return Err(FieldError::new(
                "username",
                "use 3 to 64 characters: lowercase letters, digits, '.', '_' or '-', starting with a letter or digit",
            ));
        }
        Ok(Username(text.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// A stored name that predates today's rules (or was redacted).
    pub(crate) fn unchecked(text: String) -> Username {
        Username(text)
    }
}

pub const MIN_PASSWORD_LENGTH: usize = 12;
const MAX_PASSWORD_LENGTH: usize = 1024;

/// A new password, checked for length only (NIST SP 800-63B §5.1.1.2).
pub struct NewPassword(String);

impl NewPassword {
    pub fn parse(text: &str) -> Result<NewPassword, FieldError> {
        let length = text.chars().count();
        if length < MIN_PASSWORD_LENGTH {
            return Err(FieldError::new(
                "password",
                format!("use at least {MIN_PASSWORD_LENGTH} characters"),
            ));
        }
        if length > MAX_PASSWORD_LENGTH {
            return Err(FieldError::new(
                "password",
                format!("use at most {MAX_PASSWORD_LENGTH} characters"),
            ));
        }
        Ok(NewPassword(text.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Trims a required free-text field and bounds its length.
pub fn required_text(field: &str, text: &str, max: usize) -> Result<String, FieldError> {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err(FieldError::new(field, "must not be empty"));
    }
    if trimmed.chars().count() > max || trimmed.chars().any(char::is_control) {
        return Err(FieldError::new(
            field,
            format!("use at most {max} characters and no control characters"),
        ));
    }
    Ok(trimmed.to_string())
}

/// ISO 3166-1 alpha-2 (upper case), or `EU` for EU-level bodies.
pub fn country_code(text: &str) -> Result<String, FieldError> {
    if text.len() == 2 && text.bytes().all(|b| b.is_ascii_uppercase()) {
        Ok(text.to_string())
    } else {
        Err(FieldError::new(
            "country",
            "use a two-letter upper-case country code such as EE or PT",
        ))
    }
}

pub fn email(text: &str) -> Result<String, FieldError> {
    let text = text.trim();
    let valid = text.len() <= 254
        && text.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty() && domain.contains('.') && !domain.starts_with('.')
        })
        && !text.chars().any(|c| c.is_whitespace() || c.is_control());
    if valid {
        Ok(text.to_string())
    } else {
        Err(FieldError::new("email", "is not an e-mail address"))
    }
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Organisation {
    pub id: OrganisationId,
    pub version: u64,
    pub name: String,
    pub kind: OrganisationKind,
    pub country: Option<String>,
    /// The STIX 2.1 identity this organisation publishes under (`created_by_ref`).
    pub stix_identity: String,
    pub status: Status,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct User {
    pub id: UserId,
    pub version: u64,
    pub organisation_id: OrganisationId,
    pub username: Username,
    pub roles: Roles,
    pub status: Status,
    /// Personal data: erased by redaction.
    pub display_name: Option<String>,
    /// Personal data: erased by redaction.
    pub email: Option<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct ApiToken {
    pub id: TokenId,
    pub version: u64,
    pub user_id: UserId,
    pub name: String,
    pub created_at: Timestamp,
    pub expires_at: Option<Timestamp>,
    pub revoked_at: Option<Timestamp>,
    pub state: TokenState,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TokenState {
    Active,
    Expired,
    Revoked,
}

impl TokenState {
    pub fn at(
        now: Timestamp,
        expires_at: Option<Timestamp>,
        revoked_at: Option<Timestamp>,
    ) -> TokenState {
        if revoked_at.is_some() {
            TokenState::Revoked
        } else if expires_at.is_some_and(|e| e <= now) {
            TokenState::Expired
        } else {
            TokenState::Active
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_round_trip_and_refuse_unknown() {
        let roles = Roles::parse_list(&["reader", "administrator"]).unwrap();
        assert_eq!(roles.to_stored(), "administrator reader");
        assert_eq!(Roles::from_stored(&roles.to_stored()), roles);
        let error = Roles::parse_list(&["root"]).unwrap_err();
        assert!(error.message.contains("unknown role"));
    }

    #[test]
    fn usernames_and_passwords() {
        assert!(Username::parse("ana.silva").is_ok());
        assert!(Username::parse("Ana").is_err());
        assert!(Username::parse("-x-").is_err());
        assert!(NewPassword::parse("short").is_err());
        assert!(NewPassword::parse("long enough password").is_ok());
    }

    #[test]
    fn token_states() {
        let now = Timestamp::now();
        let past = now.minus(std::time::Duration::from_secs(1));
        assert_eq!(TokenState::at(now, None, None), TokenState::Active);
        assert_eq!(TokenState::at(now, Some(past), None), TokenState::Expired);
        assert_eq!(TokenState::at(now, None, Some(past)), TokenState::Revoked);
    }
}
