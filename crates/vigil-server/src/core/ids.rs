//! Newtype ids, so that an organisation id cannot be passed where a user id
//! is expected. Ids are a kind prefix and a random UUID.
macro_rules! newtype_id {
    ($name:ident, $prefix:literal) => {
        #[derive(
            Clone,
            Debug,
            PartialEq,
            Eq,
            Hash,
            PartialOrd,
            Ord,
            serde::Serialize,
            serde::Deserialize,
            utoipa::ToSchema,
        )]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            pub const PREFIX: &'static str = $prefix;

            pub fn generate() -> $name {
                $name(format!("{}{}", $prefix, uuid::Uuid::new_v4()))
            }

            /// Accepts only ids of this kind.
            pub fn parse(text: &str) -> Option<$name> {
                let rest = text.strip_prefix($prefix)?;
                uuid::Uuid::parse_str(rest).ok()?;
                Some($name(text.to_string()))
            }

            /// For ids read back from the database, which wrote them checked.
            pub fn from_stored(text: String) -> $name {
                $name(text)
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

newtype_id!(OrganisationId, "org-");
newtype_id!(UserId, "usr-");
newtype_id!(TokenId, "tok-");
newtype_id!(AuditEventId, "evt-");
newtype_id!(StixRowId, "sto-");
newtype_id!(AlertId, "alr-");
newtype_id!(WebhookId, "whk-");
newtype_id!(ResultsEventId, "rev-");
newtype_id!(AdId, "ad-");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_do_not_cross_kinds() {
        let org = OrganisationId::generate();
        assert!(OrganisationId::parse(org.as_str()).is_some());
        assert!(UserId::parse(org.as_str()).is_none());
        assert!(UserId::parse("usr-not-a-uuid").is_none());
    }
}
