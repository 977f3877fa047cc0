//! The DISARM framework (red: the techniques of influence operations) read
//! from its STIX bundle. Techniques are keyed by their DISARM id
//! (`T0086.002`), not their STIX id: two STIX id spaces circulate for the
//! same techniques. The bundle files techniques under the `mitre-attack`
//! kill chain only so that the ATT&CK Navigator can draw them; served
//! objects have it renamed `disarm`, as OpenCTI's importer does.
use serde_json::Value;
use std::collections::BTreeMap;
use thiserror::Error;

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Technique {
    /// `T0086` or `T0086.002`.
    pub id: String,
    pub name: String,
    pub description: String,
    /// Tactic short names (`plan-objectives`), from the kill-chain phases.
    pub tactics: Vec<String>,
    pub subtechnique: bool,
    pub stix_id: String,
    pub url: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Tactic {
    /// `TA01`.
    pub id: String,
    pub name: String,
    pub short_name: String,
}

#[derive(Debug, Error)]
pub enum DisarmError {
    #[error("the DISARM bundle is not valid JSON: {0}")]
    Json(#[from] serde_json::Error),
    #[error("the DISARM bundle has no objects list")]
    NoObjects,
}

#[derive(Clone, Debug, Default)]
pub struct DisarmCatalogue {
    techniques: BTreeMap<String, Technique>,
    tactics: Vec<Tactic>,
    /// The bundle's objects with kill chains renamed `disarm`.
    objects: Vec<Value>,
}

/// The DISARM id of an object: an external reference whose id looks like
/// `T0123`, `T0123.001` or `TA01` under the DISARM or mitre-attack source.
fn disarm_id(object: &Value) -> Option<String> {
    object
        .get("external_references")?
        .as_array()?
        .iter()
        .filter(|r| {
            matches!(
                r.get("source_name").and_then(Value::as_str),
                Some("DISARM" | "mitre-attack")
            )
        })
        .filter_map(|r| r.get("external_id").and_then(Value::as_str))
        .find(|id| is_disarm_id(id))
        .map(str::to_string)
}

/// `T` + four digits (+ `.` + three digits), or `TA` + two digits.
pub fn is_disarm_id(id: &str) -> bool {
    let digits = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_digit());
    if let Some(rest) = id.strip_prefix("TA") {
        return digits(rest, 2);
    }
    match id.strip_prefix('T').map(|rest| rest.split_once('.')) {
        Some(Some((main, sub))) => digits(main, 4) && digits(sub, 3),
        Some(None) => digits(&id[1..], 4),
        None => false,
    }
}

impl DisarmCatalogue {
    pub fn from_bundle(bytes: &[u8]) -> Result<DisarmCatalogue, DisarmError> {
        let bundle: Value = serde_json::from_slice(bytes)?;
        let objects = bundle
            .get("objects")
            .and_then(Value::as_array)
            .ok_or(DisarmError::NoObjects)?;
        let mut catalogue = DisarmCatalogue::default();
        for object in objects {
            let mut object = object.clone();
            let kind = object
                .get("type")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string();
            if let Some(phases) = object
                .get_mut("kill_chain_phases")
                .and_then(Value::as_array_mut)
            {
                for phase in phases {
                    if phase.get("kill_chain_name").and_then(Value::as_str) == Some("mitre-attack")
                    {
                        phase["kill_chain_name"] = "disarm".into();
                    }
                }
            }
            let text = |name: &str| {
                object
                    .get(name)
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string()
            };
            match (kind.as_str(), disarm_id(&object)) {
                ("attack-pattern", Some(id)) if id.starts_with('T') && !id.starts_with("TA") => {
                    let tactics = object
                        .get("kill_chain_phases")
                        .and_then(Value::as_array)
                        .map(|phases| {
                            phases
                                .iter()
                                .filter_map(|p| p.get("phase_name").and_then(Value::as_str))
                                .map(str::to_string)
                                .collect()
                        })
                        .unwrap_or_default();
                    let url = object
                        .get("external_references")
                        .and_then(Value::as_array)
                        .and_then(|refs| {
                            refs.iter()
                                .find_map(|r| r.get("url").and_then(Value::as_str))
                        })
                        .map(str::to_string);
                    catalogue.techniques.insert(
                        id.clone(),
                        Technique {
                            subtechnique: id.contains('.'),
                            id,
                            name: text("name"),
                            description: text("description"),
                            tactics,
                            stix_id: text("id"),
                            url,
                        },
                    );
                }
                ("x-mitre-tactic", Some(id)) => catalogue.tactics.push(Tactic {
                    id,
                    name: text("name"),
                    short_name: text("x_mitre_shortname"),
                }),
                _ => {}
            }
            catalogue.objects.push(object);
        }
        catalogue.tactics.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(catalogue)
    }

    pub fn technique(&self, id: &str) -> Option<&Technique> {
        self.techniques.get(&id.trim().to_ascii_uppercase())
    }

    /// The technique whose STIX `attack-pattern` id this is.
    pub fn technique_by_stix_id(&self, stix_id: &str) -> Option<&Technique> {
        self.techniques.values().find(|t| t.stix_id == stix_id)
    }

    pub fn techniques(&self) -> impl Iterator<Item = &Technique> {
        self.techniques.values()
    }

    pub fn tactics(&self) -> &[Tactic] {
        &self.tactics
    }

    /// The bundle's objects, kill chains renamed `disarm`.
    pub fn objects(&self) -> &[Value] {
        &self.objects
    }

    /// Techniques whose id starts with the query or whose name contains all
    /// its words (case-insensitive), ids first, then by id.
    pub fn search(&self, query: &str, limit: usize) -> Vec<&Technique> {
        let query = query.trim().to_lowercase();
        if query.is_empty() {
            return self.techniques.values().take(limit).collect();
        }
        let words: Vec<&str> = query.split_whitespace().collect();
        let by_id = self
            .techniques
            .values()
            .filter(|t| t.id.to_lowercase().starts_with(&query));
        let by_name = self.techniques.values().filter(|t| {
            let name = t.name.to_lowercase();
            !t.id.to_lowercase().starts_with(&query) && words.iter().all(|w| name.contains(w))
        });
        by_id.chain(by_name).take(limit).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn bundle() -> Vec<u8> {
        serde_json::to_vec(&json!({"type": "bundle", "id": "bundle--1", "objects": [
            {"type": "attack-pattern", "id": "attack-pattern--70717452-f7e3-4ce8-956f-39a4d34c5cfb", "name": "Facilitate State Propaganda",
             "kill_chain_phases": [{"kill_chain_name": "mitre-attack", "phase_name": "plan-objectives"}],
             "external_references": [{"source_name": "mitre-attack", "external_id": "T0002", "url": "https://example.org/T0002"}]},
            {"type": "attack-pattern", "id": "attack-pattern--00000000-f7e3-4ce8-956f-39a4d34c5cfb", "name": "Create Inauthentic Social Media Pages and Groups",
             "kill_chain_phases": [{"kill_chain_name": "mitre-attack", "phase_name": "establish-assets"}],
             "external_references": [{"source_name": "mitre-attack", "external_id": "T0007.001"}]},
            {"type": "x-mitre-tactic", "id": "x-mitre-tactic--b03163eb-7e81-4fed-9819-641bf7c99507", "name": "Plan Strategy", "x_mitre_shortname": "plan-strategy",
             "external_references": [{"source_name": "DISARM", "external_id": "TA01"}]}
        ]})).unwrap()
    }

    #[test]
    fn keys_by_disarm_id_and_renames_the_kill_chain() {
        let catalogue = DisarmCatalogue::from_bundle(&bundle()).unwrap();
        let technique = catalogue.technique("t0002").unwrap();
        assert_eq!(technique.name, "Facilitate State Propaganda");
        assert_eq!(technique.tactics, vec!["plan-objectives"]);
        assert!(catalogue.technique("T0007.001").unwrap().subtechnique);
        assert_eq!(catalogue.tactics()[0].id, "TA01");
        assert!(catalogue.objects().iter().all(|o| {
            !o.to_string()
                .contains("\"kill_chain_name\":\"mitre-attack\"")
        }));
        assert_eq!(catalogue.search("T0007", 10)[0].id, "T0007.001");
        assert_eq!(
            catalogue.search("social media pages", 10)[0].id,
            "T0007.001"
        );
        assert!(catalogue.search("nothing like this", 10).is_empty());
        assert!(is_disarm_id("T0155.007") && is_disarm_id("TA18"));
        assert!(!is_disarm_id("T15") && !is_disarm_id("T0155.07") && !is_disarm_id("C00001"));
    }

    #[test]
    fn rejects_what_is_not_a_bundle() {
        assert!(DisarmCatalogue::from_bundle(b"{").is_err());
        assert!(DisarmCatalogue::from_bundle(b"{\"type\":\"bundle\"}").is_err());
    }
}
