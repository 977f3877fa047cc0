//! TLP 2.0 (FIRST, 2022) as STIX markings. Three id families are in use and
//! all are accepted: the OASIS TLP 2.0 marking-definitions
//! (extension-definition--60a3c5c5-…), the TLP 1.0 ids predefined in STIX 2.1
//! (WHITE read as CLEAR), and OpenCTI's statement marking for AMBER+STRICT.
//! Vigil emits the OASIS ids unless a consumer's account asks for the
//! compatibility profile (TLP 1.0 ids plus OpenCTI's AMBER+STRICT) that
//! OpenCTI and MISP import.
use serde_json::{Value, json};

/// A TLP level, ordered from least to most restrictive.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Tlp {
    Clear,
    Green,
    Amber,
    AmberStrict,
    Red,
}

/// Which marking ids a consumer receives.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum TlpProfile {
    /// The OASIS TLP 2.0 marking-definitions.
    #[default]
    Oasis,
    /// TLP 1.0 ids and OpenCTI's AMBER+STRICT, for OpenCTI and MISP.
    Compat,
}

const OASIS: [(&str, Tlp); 5] = [
    (
        "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
        Tlp::Clear,
    ),
    (
        "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
        Tlp::Green,
    ),
    (
        "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
        Tlp::Amber,
    ),
    (
        "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
        Tlp::AmberStrict,
    ),
    (
        "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
        Tlp::Red,
    ),
];

const COMPAT: [(&str, Tlp); 5] = [
    (
        "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9",
        Tlp::Clear,
    ),
    (
        "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da",
        Tlp::Green,
    ),
    (
        "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82",
        Tlp::Amber,
    ),
    (
        "marking-definition--826578e1-40ad-459f-bc73-ede076f81f37",
        Tlp::AmberStrict,
    ),
    (
        "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed",
        Tlp::Red,
    ),
];

/// The OASIS TLP 2.0 extension the OASIS marking-definitions use.
pub const TLP_2_EXTENSION: &str = "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d";

impl Tlp {
    pub const ALL: [Tlp; 5] = [
        Tlp::Clear,
        Tlp::Green,
        Tlp::Amber,
        Tlp::AmberStrict,
        Tlp::Red,
    ];

    /// The level a marking-definition id stands for, in any family.
    pub fn from_marking_id(id: &str) -> Option<Tlp> {
        OASIS
            .iter()
            .chain(COMPAT.iter())
            .find(|(known, _)| *known == id)
            .map(|(_, tlp)| *tlp)
    }

    /// The level a marking-definition object defines, whatever its id: the
    /// OASIS extension's `tlp_2_0`, a TLP 1.0 `definition_type: tlp`, or a
    /// statement or OpenCTI property reading `TLP:…`.
    pub fn from_marking_definition(object: &Value) -> Option<Tlp> {
        if let Some(id) = object.get("id").and_then(Value::as_str)
            && let Some(tlp) = Tlp::from_marking_id(id)
        {
            return Some(tlp);
        }
        let name = object
            .pointer(&format!("/extensions/{TLP_2_EXTENSION}/tlp_2_0"))
            .or_else(|| object.pointer("/definition/tlp"))
            .or_else(|| object.get("x_opencti_definition"))
            .or_else(|| object.pointer("/definition/statement"))
            .or_else(|| object.get("name"))
            .and_then(Value::as_str)?;
        Tlp::from_name(name)
    }

    /// `clear`, `TLP:AMBER+STRICT`, `white`, `amber_strict`…
    pub fn from_name(name: &str) -> Option<Tlp> {
        let name = name.trim().to_ascii_lowercase();
        let name = name.strip_prefix("tlp:").unwrap_or(&name);
        match name.replace('_', "+").as_str() {
            "clear" | "white" => Some(Tlp::Clear),
            "green" => Some(Tlp::Green),
            "amber" => Some(Tlp::Amber),
            "amber+strict" => Some(Tlp::AmberStrict),
            "red" => Some(Tlp::Red),
            _ => None,
        }
    }

    /// `CLEAR`, `GREEN`, `AMBER`, `AMBER+STRICT`, `RED`.
    pub fn name(self) -> &'static str {
        match self {
            Tlp::Clear => "CLEAR",
            Tlp::Green => "GREEN",
            Tlp::Amber => "AMBER",
            Tlp::AmberStrict => "AMBER+STRICT",
            Tlp::Red => "RED",
        }
    }

    /// Lowercase, as stored and used in URLs: `amber+strict`.
    pub fn key(self) -> &'static str {
        match self {
            Tlp::Clear => "clear",
            Tlp::Green => "green",
            Tlp::Amber => "amber",
            Tlp::AmberStrict => "amber+strict",
            Tlp::Red => "red",
        }
    }

    pub fn rank(self) -> i64 {
        self as i64
    }

    pub fn from_rank(rank: i64) -> Option<Tlp> {
        Tlp::ALL.into_iter().find(|tlp| tlp.rank() == rank)
    }

    pub fn marking_id(self, profile: TlpProfile) -> &'static str {
        let table = match profile {
            TlpProfile::Oasis => &OASIS,
            TlpProfile::Compat => &COMPAT,
        };
        table
            .iter()
            .find(|(_, tlp)| *tlp == self)
            .map_or(OASIS[0].0, |(id, _)| id)
    }

    /// The marking-definition object of this level in a profile.
    pub fn marking_definition(self, profile: TlpProfile) -> Value {
        let id = self.marking_id(profile);
        match (profile, self) {
            (TlpProfile::Oasis, _) => json!({
                "type": "marking-definition",
                "spec_version": "2.1",
                "id": id,
                "created": "2022-10-01T00:00:00.000Z",
                "name": format!("TLP:{}", self.name()),
                "extensions": {
                    TLP_2_EXTENSION: {
                        "extension_type": "property-extension",
                        "tlp_2_0": self.key(),
                    }
                }
            }),
            (TlpProfile::Compat, Tlp::AmberStrict) => json!({
                "type": "marking-definition",
                "spec_version": "2.1",
                "id": id,
                "created": "2022-10-01T00:00:00.000Z",
                "definition_type": "statement",
                "definition": {"statement": "TLP:AMBER+STRICT"},
                "name": "TLP:AMBER+STRICT",
                "x_opencti_definition_type": "TLP",
                "x_opencti_definition": "TLP:AMBER+STRICT",
            }),
            (TlpProfile::Compat, _) => json!({
                "type": "marking-definition",
                "spec_version": "2.1",
                "id": id,
                "created": "2017-01-20T00:00:00.000Z",
                "definition_type": "tlp",
                "name": format!("TLP:{}", if self == Tlp::Clear { "WHITE" } else { self.name() }),
                "definition": {"tlp": if self == Tlp::Clear { "white" } else { self.key() }},
            }),
        }
    }

    /// An object as a consumer of `profile` receives it: TLP marking ids
    /// (in `object_marking_refs` and granular markings) in the profile's
    /// family, and a TLP marking-definition replaced by the profile's own.
    /// Other markings and properties are left untouched.
    pub fn present(object: &Value, profile: TlpProfile) -> Value {
        if object.get("type").and_then(Value::as_str) == Some("marking-definition")
            && let Some(tlp) = Tlp::from_marking_definition(object)
            && object
                .get("id")
                .and_then(Value::as_str)
                .is_some_and(Tlp::is_tlp_marking)
        {
            return tlp.marking_definition(profile);
        }
        let mut object = object.clone();
        let convert = |id: &mut Value| {
            if let Some(tlp) = id.as_str().and_then(Tlp::from_marking_id) {
                *id = tlp.marking_id(profile).into();
            }
        };
        if let Some(refs) = object
            .get_mut("object_marking_refs")
            .and_then(Value::as_array_mut)
        {
            refs.iter_mut().for_each(convert);
        }
        if let Some(granular) = object
            .get_mut("granular_markings")
            .and_then(Value::as_array_mut)
        {
            for marking in granular {
                if let Some(id) = marking.get_mut("marking_ref") {
                    convert(id);
                }
            }
        }
        object
    }

    /// Whether a marking id belongs to any TLP family.
    pub fn is_tlp_marking(id: &str) -> bool {
        Tlp::from_marking_id(id).is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_family_normalises_and_round_trips() {
        for tlp in Tlp::ALL {
            for profile in [TlpProfile::Oasis, TlpProfile::Compat] {
                let id = tlp.marking_id(profile);
                assert_eq!(Tlp::from_marking_id(id), Some(tlp));
                let definition = tlp.marking_definition(profile);
                assert_eq!(definition["id"], id);
                // The definition alone, under an unknown id, still names its level.
                let mut renamed = definition.clone();
                renamed["id"] = "marking-definition--00000000-0000-4000-8000-000000000000".into();
                assert_eq!(
                    Tlp::from_marking_definition(&renamed),
                    Some(tlp),
                    "{renamed}"
                );
            }
        }
        assert!(Tlp::Clear < Tlp::Green && Tlp::AmberStrict < Tlp::Red);
        assert_eq!(Tlp::from_name("TLP:WHITE"), Some(Tlp::Clear));
        assert_eq!(Tlp::from_name("amber_strict"), Some(Tlp::AmberStrict));
        assert_eq!(Tlp::from_name("pink"), None);
    }

    #[test]
    fn objects_are_presented_in_the_consumers_family() {
        let object = json!({
            "type": "campaign", "id": "campaign--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
            "object_marking_refs": [Tlp::AmberStrict.marking_id(TlpProfile::Oasis), "marking-definition--f79f25d2-8b96-4580-b169-eb7b613a7c31"],
            "granular_markings": [{"marking_ref": Tlp::Clear.marking_id(TlpProfile::Compat), "selectors": ["name"]}],
        });
        let compat = Tlp::present(&object, TlpProfile::Compat);
        assert_eq!(
            compat["object_marking_refs"][0],
            "marking-definition--826578e1-40ad-459f-bc73-ede076f81f37"
        );
        assert_eq!(
            compat["object_marking_refs"][1],
            "marking-definition--f79f25d2-8b96-4580-b169-eb7b613a7c31"
        );
        let oasis = Tlp::present(&compat, TlpProfile::Oasis);
        assert_eq!(oasis["object_marking_refs"], object["object_marking_refs"]);
        assert_eq!(
            oasis["granular_markings"][0]["marking_ref"],
            Tlp::Clear.marking_id(TlpProfile::Oasis)
        );
        let definition = Tlp::present(
            &Tlp::Red.marking_definition(TlpProfile::Oasis),
            TlpProfile::Compat,
        );
        assert_eq!(definition, Tlp::Red.marking_definition(TlpProfile::Compat));
    }
}
