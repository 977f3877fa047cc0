//! OASIS EML 5 (Election Markup Language) at the edges of the results
//! pillar. In: an election definition assembled from EML 110 (the election
//! event: its name, date and, in the Dutch EML_NL profile, `NumberOfSeats`
//! in 110a and the polling stations with their registered voters in 110b)
//! and EML 230 (the candidate lists); what EML does not say (the
//! apportionment method, the release time) comes from the caller. Out: the
//! published results as EML 510 (the count: totals per contest and per
//! polling station) and EML 520 (the result: votes and seats per list).
//! Pure: text in, text out. docs/results.md lists the mapping.
use super::counts::StationCounts;
use super::definition::ElectionDefinition;
use super::tally::{ElectionTally, SeatsOutcome, UnitSeats};
use crate::core::error::FieldError;
use roxmltree::{Document, Node};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::fmt::Write as _;
use vigil_apportion::Outcome;

pub const EML_NAMESPACE: &str = "urn:oasis:names:tc:evs:schema:eml";
const XNL_NAMESPACE: &str = "urn:oasis:names:tc:ciq:xsdschema:xNL:2.0";

/// What an election definition needs that EML does not carry.
#[derive(Clone, Debug)]
pub struct EmlImport {
    /// `d_hondt`, `sainte_lague`, … as in the JSON definition.
    pub method: String,
    /// RFC 3339.
    pub release_at: String,
    /// When the documents give no `NumberOfSeats`, or to override it.
    pub seats: Option<u32>,
    /// The election's id; by default the EML `ElectionIdentifier`, made a slug.
    pub id: Option<String>,
}

/// Lowercase letters, digits, `-` and `_`, as election and station ids are.
fn slug(text: &str) -> String {
    let mut out = String::new();
    for c in text.trim().chars().flat_map(char::to_lowercase) {
        if c.is_ascii_alphanumeric() || c == '_' {
            out.push(c);
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    out.trim_matches('-').chars().take(64).collect()
}

fn named<'a, 'i>(node: Node<'a, 'i>, name: &str) -> impl Iterator<Item = Node<'a, 'i>> {
    node.descendants()
        .filter(move |n| n.is_element() && n.tag_name().name() == name)
}

fn first_text(node: Node<'_, '_>, name: &str) -> Option<String> {
    named(node, name)
        .next()
        .and_then(|n| n.text())
        .map(|t| t.trim().to_string())
        .filter(|t| !t.is_empty())
}

fn child<'a, 'i>(node: Node<'a, 'i>, name: &str) -> Option<Node<'a, 'i>> {
    node.children()
        .find(|n| n.is_element() && n.tag_name().name() == name)
}

/// A candidate's name from `CandidateFullName/PersonName`: first name (or
/// initials) and last name, or the name lines.
fn person_name(candidate: Node<'_, '_>) -> Option<String> {
    let person = named(candidate, "PersonName").next()?;
    let part = |name: &str| {
        person
            .children()
            .filter(|n| n.is_element() && n.tag_name().name() == name)
            .filter_map(|n| n.text().map(str::trim))
            .filter(|t| !t.is_empty())
            .collect::<Vec<_>>()
            .join(" ")
    };
    let given = Some(part("FirstName"))
        .filter(|f| !f.is_empty())
        .unwrap_or_else(|| part("NameLine"));
    let name = format!("{} {}", given, part("LastName"));
    Some(name.trim().to_string()).filter(|n| !n.is_empty())
}

/// Builds a JSON election definition from EML 110 and 230 documents (any
/// order; each named in errors by its position). The definition is then
/// checked like any other (`ElectionDefinition::from_json`).
pub fn definition_from_eml(
    documents: &[String],
    options: &EmlImport,
) -> Result<Value, Vec<FieldError>> {
    let mut errors = Vec::new();
    let mut parsed = Vec::new();
    for (i, text) in documents.iter().enumerate() {
        match Document::parse(text) {
            Ok(doc) => {
                let root = doc.root_element();
                if root.tag_name().name() != "EML"
                    || root.tag_name().namespace() != Some(EML_NAMESPACE)
                {
                    errors.push(FieldError::new(
                        &format!("documents[{i}]"),
                        format!(
                            "not an EML document (its root is {:?} in {:?})",
                            root.tag_name().name(),
                            root.tag_name().namespace().unwrap_or("no namespace")
                        ),
                    ));
                } else {
                    parsed.push((i, doc));
                }
            }
            Err(e) => errors.push(FieldError::new(
                &format!("documents[{i}]"),
                format!("not well-formed XML: {e}"),
            )),
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let kind = |doc: &Document| doc.root_element().attribute("Id").unwrap_or("").to_string();
    let (mut id, mut name, mut date, mut seats, mut category) = (None, None, None, None, None);
    let mut districts: Vec<Value> = Vec::new();
    let mut lists: Vec<Value> = Vec::new();
    for (i, doc) in &parsed {
        let root = doc.root_element();
        let document = kind(doc);
        if !document.starts_with("110") && !document.starts_with("230") {
            errors.push(FieldError::new(
                &format!("documents[{i}]"),
                format!(
                    "EML {document} is not an election definition (110) or candidate lists (230)"
                ),
            ));
            continue;
        }
        if let Some(identifier) = named(root, "ElectionIdentifier").next() {
            id = id.or_else(|| identifier.attribute("Id").map(slug));
            name = name.or_else(|| first_text(identifier, "ElectionName"));
            date = date.or_else(|| first_text(identifier, "ElectionDate"));
            category = category.or_else(|| first_text(identifier, "ElectionCategory"));
        }
        seats =
            seats.or_else(|| first_text(root, "NumberOfSeats").and_then(|s| s.parse::<u32>().ok()));
        for contest in named(root, "Contest") {
            let places: Vec<Node> = named(contest, "PollingStation").collect();
            if !places.is_empty() {
                let unit = named(contest, "ReportingUnitIdentifier").next();
                let district_id = unit
                    .and_then(|u| u.attribute("Id"))
                    .map(slug)
                    .filter(|s| !s.is_empty())
                    .unwrap_or_else(|| format!("contest-{}", districts.len() + 1));
                let district_name = unit
                    .and_then(|u| u.text())
                    .map(|t| t.trim().to_string())
                    .filter(|t| !t.is_empty())
                    .unwrap_or_else(|| district_id.clone());
                let mut stations = Vec::new();
                for (s, station) in places.iter().enumerate() {
                    let field = format!("documents[{i}].PollingStation[{s}]");
                    let Some(station_id) =
                        station.attribute("Id").map(slug).filter(|s| !s.is_empty())
                    else {
                        errors.push(FieldError::new(&field, "a polling station without an Id"));
                        continue;
                    };
                    let voters = station.text().map(str::trim).unwrap_or("");
                    let Ok(registered) = voters.parse::<u64>() else {
                        errors.push(FieldError::new(
                            &field,
                            format!("polling station {station_id}: its number of registered voters {voters:?} is not a whole number"),
                        ));
                        continue;
                    };
                    let place = station
                        .ancestors()
                        .find(|n| n.tag_name().name() == "PollingPlace");
                    let locality = place.and_then(|p| first_text(p, "LocalityName"));
                    let station_name = match locality {
                        Some(l) => format!("Polling station {station_id}, {l}"),
                        None => format!("Polling station {station_id}"),
                    };
                    stations.push(json!({"id": format!("ps-{station_id}"), "name": station_name, "registered_voters": registered}));
                }
                districts.push(
                    json!({"id": district_id, "name": district_name, "polling_stations": stations}),
                );
            }
            for affiliation in named(contest, "Affiliation") {
                let identifier = child(affiliation, "AffiliationIdentifier");
                let field = format!("documents[{i}].Affiliation[{}]", lists.len());
                let Some(number) = identifier
                    .and_then(|a| a.attribute("Id"))
                    .and_then(|n| n.trim().parse::<u32>().ok())
                else {
                    errors.push(FieldError::new(
                        &field,
                        "a list without a numeric AffiliationIdentifier Id",
                    ));
                    continue;
                };
                let list_name = identifier
                    .and_then(|a| first_text(a, "RegisteredName"))
                    .unwrap_or_else(|| format!("List {number}"));
                let candidates: Vec<String> = affiliation
                    .children()
                    .filter(|n| n.is_element() && n.tag_name().name() == "Candidate")
                    .enumerate()
                    .map(|(c, candidate)| {
                        person_name(candidate).unwrap_or_else(|| format!("Candidate {}", c + 1))
                    })
                    .collect();
                lists.push(json!({"number": number, "name": list_name, "candidates": candidates}));
            }
        }
    }
    let seats = options.seats.or(seats);
    if seats.is_none() {
        errors.push(FieldError::new(
            "seats",
            "no NumberOfSeats in the documents: give the number of seats",
        ));
    }
    if districts.is_empty() {
        errors.push(FieldError::new(
            "documents",
            "no polling stations: add the EML 110 document that lists them (110b in EML_NL)",
        ));
    }
    if lists.is_empty() {
        errors.push(FieldError::new(
            "documents",
            "no candidate lists: add the EML 230 document",
        ));
    }
    let id = options.id.clone().or(id).unwrap_or_default();
    if id.is_empty() {
        errors.push(FieldError::new(
            "id",
            "no ElectionIdentifier Id in the documents: give the election's id",
        ));
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(json!({
        "id": id,
        "name": name.unwrap_or_else(|| id.clone()),
        "date": date.unwrap_or_default(),
        "release_at": options.release_at,
        "apportionment": {"method": options.method, "seats": seats},
        "lists": lists,
        "districts": districts,
        "category": category,
    }))
}

// ---------- writing ----------

/// Text escaped for XML content and attribute values (as for HTML, less
/// the control characters XML 1.0 cannot carry at all).
fn escape(text: &str) -> String {
    let allowed: String = text
        .chars()
        .filter(|c| (*c as u32) >= 0x20 || matches!(c, '\t' | '\n' | '\r'))
        .collect();
    crate::pages::escape(&allowed)
}

fn header(out: &mut String, document: &str, transaction: &str, issued: &str) {
    let _ = write!(
        out,
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<EML xmlns=\"{EML_NAMESPACE}\" xmlns:xnl=\"{XNL_NAMESPACE}\" Id=\"{document}\" SchemaVersion=\"5.0\">\n  <TransactionId>{}</TransactionId>\n  <IssueDate>{}</IssueDate>\n",
        escape(transaction),
        escape(issued)
    );
}

fn election_identifier(out: &mut String, definition: &ElectionDefinition) {
    let _ = write!(
        out,
        "    <ElectionIdentifier Id=\"{}\">\n      <ElectionName>{}</ElectionName>\n      <ElectionCategory>{}</ElectionCategory>\n    </ElectionIdentifier>\n",
        escape(definition.id.as_str()),
        escape(&definition.name),
        escape(definition.category.as_deref().unwrap_or("other"))
    );
}

/// The `Selection`s of one count: each list's votes, then its candidates'.
fn selections(
    out: &mut String,
    indent: &str,
    definition: &ElectionDefinition,
    counts: &StationCounts,
) {
    for (list, count) in definition.lists.iter().zip(&counts.lists) {
        let _ = write!(
            out,
            "{indent}<Selection>\n{indent}  <AffiliationIdentifier Id=\"{}\">\n{indent}    <RegisteredName>{}</RegisteredName>\n{indent}  </AffiliationIdentifier>\n{indent}  <ValidVotes>{}</ValidVotes>\n{indent}</Selection>\n",
            list.number,
            escape(&list.name),
            count.total
        );
        for (c, (candidate, votes)) in list.candidates.iter().zip(&count.candidates).enumerate() {
            let _ = write!(
                out,
                "{indent}<Selection>\n{indent}  <Candidate>\n{indent}    <CandidateIdentifier Id=\"{}.{}\"/>\n{indent}    <CandidateFullName><xnl:PersonName><xnl:NameLine>{}</xnl:NameLine></xnl:PersonName></CandidateFullName>\n{indent}  </Candidate>\n{indent}  <ValidVotes>{votes}</ValidVotes>\n{indent}</Selection>\n",
                list.number,
                c + 1,
                escape(candidate)
            );
        }
    }
    let _ = write!(
        out,
        "{indent}<Cast>{}</Cast>\n{indent}<TotalCounted>{}</TotalCounted>\n{indent}<RejectedVotes ReasonCode=\"blank\">{}</RejectedVotes>\n{indent}<RejectedVotes ReasonCode=\"invalid\">{}</RejectedVotes>\n{indent}<UncountedVotes ReasonCode=\"admitted voters\">{}</UncountedVotes>\n",
        counts.votes_cast,
        counts.list_votes(),
        counts.blank,
        counts.invalid,
        counts.voters
    );
}

/// EML 510, the count: one `Contest` per district with its totals and one
/// `ReportingUnitVotes` per counted polling station. `stations` holds each
/// counted station's counts by id.
pub fn count_510(
    definition: &ElectionDefinition,
    tally: &ElectionTally,
    stations: &HashMap<&str, StationCounts>,
    transaction: &str,
    issued: &str,
) -> String {
    let mut out = String::new();
    header(&mut out, "510", transaction, issued);
    out.push_str("  <Count>\n    <EventIdentifier/>\n  <Election>\n");
    election_identifier(&mut out, definition);
    out.push_str("    <Contests>\n");
    for district in &definition.districts {
        let Some(totals) = tally
            .districts
            .iter()
            .find(|d| d.district == district.id)
            .map(|d| &d.totals)
        else {
            continue;
        };
        let _ = write!(
            out,
            "      <Contest>\n        <ContestIdentifier Id=\"{}\">\n          <ContestName>{}</ContestName>\n        </ContestIdentifier>\n        <TotalVotes>\n",
            escape(district.id.as_str()),
            escape(&district.name)
        );
        selections(&mut out, "          ", definition, totals);
        out.push_str("        </TotalVotes>\n");
        for station in &district.polling_stations {
            let Some(counts) = stations.get(station.id.as_str()) else {
                continue;
            };
            let _ = write!(
                out,
                "        <ReportingUnitVotes>\n          <ReportingUnitIdentifier Id=\"{}\">{}</ReportingUnitIdentifier>\n",
                escape(station.id.as_str()),
                escape(&station.name)
            );
            selections(&mut out, "          ", definition, counts);
            out.push_str("        </ReportingUnitVotes>\n");
        }
        out.push_str("      </Contest>\n");
    }
    out.push_str("    </Contests>\n  </Election>\n  </Count>\n</EML>\n");
    out
}

/// EML 520, the result: one `Contest` per apportionment unit (the whole
/// election, or each district), with each list's votes and whether it won
/// a seat (`Elected`). EML 520 names elected candidates, not a number of
/// seats per list; Vigil does not nominate candidates (preference votes),
/// so the seats per list are in the JSON API and the CSV, not here.
pub fn result_520(
    definition: &ElectionDefinition,
    tally: &ElectionTally,
    units: &[UnitSeats],
    transaction: &str,
    issued: &str,
) -> String {
    let mut out = String::new();
    header(&mut out, "520", transaction, issued);
    out.push_str("  <Result>\n  <Election>\n");
    election_identifier(&mut out, definition);
    for unit in units {
        let (id, name, totals) = match &unit.district {
            None => (
                "election".to_string(),
                definition.name.clone(),
                Some(&tally.totals),
            ),
            Some(district) => (
                district.to_string(),
                definition
                    .districts
                    .iter()
                    .find(|d| &d.id == district)
                    .map_or_else(|| district.to_string(), |d| d.name.clone()),
                tally
                    .districts
                    .iter()
                    .find(|d| &d.district == district)
                    .map(|d| &d.totals),
            ),
        };
        let won = match &unit.outcome {
            SeatsOutcome::Computed(Outcome::Complete { seats, .. }) => Some(seats),
            _ => None,
        };
        let _ = write!(
            out,
            "    <Contest>\n      <ContestIdentifier Id=\"{}\">\n        <ContestName>{}</ContestName>\n      </ContestIdentifier>\n",
            escape(&id),
            escape(&name)
        );
        for (i, list) in definition.lists.iter().enumerate() {
            let votes = totals.and_then(|t| t.lists.get(i)).map_or(0, |c| c.total);
            let elected = won.and_then(|w| w.get(i)).is_some_and(|s| *s > 0);
            let _ = write!(
                out,
                "      <Selection>\n        <AffiliationIdentifier Id=\"{}\">\n          <RegisteredName>{}</RegisteredName>\n        </AffiliationIdentifier>\n        <Votes>{votes}</Votes>\n        <Elected>{}</Elected>\n      </Selection>\n",
                list.number,
                escape(&list.name),
                if elected { "yes" } else { "no" }
            );
        }
        out.push_str("    </Contest>\n");
    }
    out.push_str("  </Election>\n  </Result>\n</EML>\n");
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::results::domain::tally;
    use crate::results::domain::{ListCount, StationId};
    use std::collections::BTreeMap;

    fn fixtures() -> Vec<String> {
        vec![
            include_str!("../../../tests/fixtures/eml/candidates-230b.eml.xml").to_string(),
            include_str!("../../../tests/fixtures/eml/election-110a.eml.xml").to_string(),
            include_str!("../../../tests/fixtures/eml/stations-110b.eml.xml").to_string(),
        ]
    }

    fn options() -> EmlImport {
        EmlImport {
            method: "d_hondt".into(),
            release_at: "2030-03-20T21:00:00Z".into(),
            seats: None,
            id: None,
        }
    }

    fn imported() -> ElectionDefinition {
        let json = definition_from_eml(&fixtures(), &options()).unwrap();
        ElectionDefinition::from_json(json.to_string().as_bytes()).unwrap()
    }

    #[test]
    fn an_eml_110_and_230_set_becomes_a_definition() {
        let definition = imported();
        assert_eq!(definition.id.as_str(), "gr2030_vigilstad");
        assert_eq!(definition.name, "Gemeenteraad Vigilstad 2030");
        assert_eq!(definition.date, "2030-03-20");
        assert_eq!(definition.category.as_deref(), Some("GR"));
        assert_eq!(definition.apportionment.seats, Some(9));
        let lists: Vec<(u32, &str, Vec<&str>)> = definition
            .lists
            .iter()
            .map(|l| {
                (
                    l.number,
                    l.name.as_str(),
                    l.candidates.iter().map(String::as_str).collect(),
                )
            })
            .collect();
        assert_eq!(
            lists,
            [
                (1, "Lokaal Belang", vec!["Anna de Vries", "B.J. Jansen"]),
                (2, "Groen & Sociaal", vec!["Chris Bakker"])
            ]
        );
        assert_eq!(definition.districts.len(), 1);
        assert_eq!(definition.districts[0].name, "Vigilstad & Omgeving");
        let stations: Vec<(&str, &str, u64)> = definition
            .stations()
            .map(|(_, s)| (s.id.as_str(), s.name.as_str(), s.registered_voters))
            .collect();
        assert_eq!(
            stations,
            [
                ("ps-1", "Polling station 1, Vigilstad", 1320),
                ("ps-2", "Polling station 2, Oosterdorp", 875)
            ]
        );
    }

    #[test]
    fn what_eml_does_not_say_comes_from_the_caller() {
        let mut given = options();
        given.seats = Some(11);
        given.id = Some("vigilstad-2030".into());
        let json = definition_from_eml(&fixtures(), &given).unwrap();
        assert_eq!(json["apportionment"]["seats"], 11);
        assert_eq!(json["id"], "vigilstad-2030");
        // Without 110a there is no NumberOfSeats to fall back on.
        let without_110a = vec![fixtures()[0].clone(), fixtures()[2].clone()];
        let errors = definition_from_eml(&without_110a, &options()).unwrap_err();
        assert_eq!(errors[0].field, "seats");
    }

    #[test]
    fn broken_documents_are_named() {
        let mut documents = fixtures();
        documents[1] =
            "<EML xmlns=\"urn:oasis:names:tc:evs:schema:eml\" Id=\"110a\"><Election>".into();
        let errors = definition_from_eml(&documents, &options()).unwrap_err();
        assert_eq!(errors[0].field, "documents[1]");
        assert!(
            errors[0].message.starts_with("not well-formed XML"),
            "{}",
            errors[0].message
        );

        let not_eml = vec!["<html><body/></html>".to_string()];
        let errors = definition_from_eml(&not_eml, &options()).unwrap_err();
        assert!(errors[0].message.starts_with("not an EML document"));

        let count = vec![fixtures()[0].replace("Id=\"230b\"", "Id=\"510b\"")];
        let errors = definition_from_eml(&count, &options()).unwrap_err();
        assert!(
            errors[0]
                .message
                .contains("EML 510b is not an election definition")
        );

        let mut bad_voters = fixtures();
        bad_voters[2] = bad_voters[2].replace(">875<", ">many<");
        let errors = definition_from_eml(&bad_voters, &options()).unwrap_err();
        assert!(
            errors[0]
                .message
                .contains("polling station 2: its number of registered voters \"many\""),
            "{errors:?}"
        );
        // No candidate lists at all.
        let errors = definition_from_eml(&fixtures()[1..], &options()).unwrap_err();
        assert!(
            errors
                .iter()
                .any(|e| e.message.starts_with("no candidate lists"))
        );
    }

    fn counts(a: u64, b: u64, green: u64) -> StationCounts {
        StationCounts {
            voters: a + b + green + 3,
            votes_cast: a + b + green + 3,
            blank: 2,
            invalid: 1,
            lists: vec![
                ListCount {
                    total: a + b,
                    candidates: vec![a, b],
                },
                ListCount {
                    total: green,
                    candidates: vec![green],
                },
            ],
        }
    }

    /// The text of every element named `name`, in document order.
    fn texts(xml: &str, name: &str) -> Vec<String> {
        let doc = Document::parse(xml).unwrap();
        named(doc.root_element(), name)
            .map(|n| n.text().unwrap_or("").to_string())
            .collect()
    }

    #[test]
    fn the_count_and_the_result_are_written_as_eml_510_and_520() {
        let definition = imported();
        let stations: HashMap<StationId, StationCounts> = [
            (StationId::parse("ps-1").unwrap(), counts(400, 100, 300)),
            (StationId::parse("ps-2").unwrap(), counts(200, 50, 250)),
        ]
        .into();
        let tally = tally::tally(&definition, &stations);
        let units = tally::seats(&definition, &tally, &BTreeMap::new());
        let by_id: HashMap<&str, StationCounts> = stations
            .iter()
            .map(|(k, v)| (k.as_str(), v.clone()))
            .collect();

        let count = count_510(&definition, &tally, &by_id, "42", "2030-03-21");
        let doc = Document::parse(&count).unwrap();
        assert_eq!(doc.root_element().attribute("Id"), Some("510"));
        assert_eq!(
            doc.root_element().tag_name().namespace(),
            Some(EML_NAMESPACE)
        );
        assert_eq!(texts(&count, "TransactionId"), ["42"]);
        assert_eq!(texts(&count, "ReportingUnitVotes").len(), 2);
        // Totals first (list 1, its two candidates, list 2, its candidate),
        // then each station in definition order.
        assert_eq!(
            texts(&count, "ValidVotes"),
            [
                "750", "600", "150", "550", "550", "500", "400", "100", "300", "300", "250", "200",
                "50", "250", "250"
            ]
        );
        assert_eq!(texts(&count, "Cast"), ["1306", "803", "503"]);
        assert_eq!(
            texts(&count, "RegisteredName")[..2],
            ["Lokaal Belang", "Groen & Sociaal"]
        );
        assert!(count.contains("Groen &amp; Sociaal"), "escaped in the text");

        let result = result_520(&definition, &tally, &units, "42", "2030-03-21");
        assert_eq!(
            Document::parse(&result)
                .unwrap()
                .root_element()
                .attribute("Id"),
            Some("520")
        );
        assert_eq!(texts(&result, "Votes"), ["750", "550"]);
        // D'Hondt, 9 seats, 750 against 550: 5 and 4, both elected.
        assert_eq!(texts(&result, "Elected"), ["yes", "yes"]);
        assert_eq!(texts(&result, "ElectionCategory"), ["GR"]);
    }
}
