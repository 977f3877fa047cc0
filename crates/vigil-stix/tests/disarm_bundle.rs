//! The DISARM bundle shipped in `data/disarm/` loads, is complete, and every
//! object in it passes Vigil's STIX checks (so it can be served as is).
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test
use vigil_stix::{DisarmCatalogue, StixObject};

fn shipped() -> DisarmCatalogue {
    let bytes = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../data/disarm/DISARM.json"
    ))
    .unwrap();
    DisarmCatalogue::from_bundle(&bytes).unwrap()
}

#[test]
fn shipped_bundle_has_every_technique_and_tactic() {
    let catalogue = shipped();
    assert_eq!(catalogue.techniques().count(), 391);
    assert_eq!(
        catalogue.techniques().filter(|t| t.subtechnique).count(),
        288
    );
    assert_eq!(catalogue.tactics().len(), 16);
    assert_eq!(catalogue.objects().len(), 698);
    assert_eq!(
        catalogue.technique("T0002").unwrap().name,
        "Facilitate State Propaganda"
    );
    assert!(catalogue.technique("T0001").is_none());
}

#[test]
fn shipped_objects_pass_the_stix_checks() {
    for object in shipped().objects() {
        let id = object["id"].as_str().unwrap().to_string();
        StixObject::parse(object.clone()).unwrap_or_else(|e| panic!("{id}: {e}"));
    }
}
