//! Apportionments of real elections, and properties of the methods.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test
use proptest::prelude::*;
use vigil_apportion::{Input, List, Method, Outcome, Quota, apportion};

fn input(seats: u32, votes: &[u64], method: Method) -> Input {
    Input {
        seats,
        lists: votes
            .iter()
            .enumerate()
            .map(|(i, v)| List {
                name: format!("list {}", i + 1),
                votes: *v,
                threshold: None,
            })
            .collect(),
        method,
        threshold: None,
        drawn: Vec::new(),
    }
}

/// A Dutch municipal council election of 2026 (33 seats, highest averages,
/// Kieswet art. P 7), anonymised by the Electoral Council and used as a test
/// case in its Abacus software (kiesraad/abacus,
/// backend/apportionment/src/seat_assignment/mod.rs,
/// `test_with_drawing_of_lots_one_list_drawn`, "Actual case from GR2026"):
/// the last seat ties at an average of 617 between lists 3 and 9, lots are
/// drawn, list 9 is drawn; final seats [13,7,2,4,1,3,2,0,1].
#[test]
fn municipal_council_2026_needs_a_drawing_of_lots() {
    let mut case = input(
        33,
        &[8268, 4892, 1851, 2586, 1074, 1852, 1337, 573, 617],
        Method::DHondt,
    );
    match apportion(&case).unwrap() {
        Outcome::DrawingOfLotsRequired { seat, tied, .. } => {
            assert_eq!((seat, tied), (33, vec![2, 8]))
        }
        other => panic!("{other:?}"),
    }
    case.drawn = vec![8];
    let Outcome::Complete { seats, steps } = apportion(&case).unwrap() else {
        panic!()
    };
    assert_eq!(seats, vec![13, 7, 2, 4, 1, 3, 2, 0, 1]);
    assert_eq!(steps.len(), 34, "33 seats and the lot");
}

proptest! {
    /// Every method hands out exactly the seats, or stops for lots.
    #[test]
    fn seats_add_up(votes in prop::collection::vec(1u64..100_000, 1..12), seats in 1u32..60, method in 0usize..6) {
        let method = [Method::DHondt, Method::SainteLague, Method::ModifiedSainteLague { first_divisor: (7, 5) }, Method::DutchCouncil,
            Method::LargestRemainder(Quota::Hare), Method::LargestRemainder(Quota::Droop)][method];
        if let Outcome::Complete { seats: won, .. } = apportion(&input(seats, &votes, method)).unwrap() {
            prop_assert_eq!(won.iter().sum::<u32>(), seats);
        }
    }

    /// Under a divisor method a list with more votes never gets fewer seats.
    #[test]
    fn more_votes_never_fewer_seats(votes in prop::collection::vec(1u64..100_000, 2..12), seats in 1u32..60, method in 0usize..3) {
        let method = [Method::DHondt, Method::SainteLague, Method::ModifiedSainteLague { first_divisor: (6, 5) }][method];
        if let Outcome::Complete { seats: won, .. } = apportion(&input(seats, &votes, method)).unwrap() {
            for i in 0..votes.len() {
                for j in 0..votes.len() {
                    if votes[i] > votes[j] {
                        prop_assert!(won[i] >= won[j], "{:?} → {:?}", votes, won);
                    }
                }
            }
        }
    }
}

/// A Dutch municipal council election of 2022 with fewer than 19 seats
/// (Kieswet art. P 8 and P 9), anonymised by the Electoral Council and used
/// in Abacus's tests (kiesraad/abacus,
/// backend/apportionment/src/seat_assignment/mod.rs,
/// `test_with_absolute_majority_of_votes_but_not_seats`, "Actual case from
/// GR2022"): 15 seats, full seats [7,2,1,1,1], residual seats by largest
/// remainders to lists 2, 3 and 4, then list 1 (50.4 % of the votes) takes
/// list 4's seat: [8,3,2,1,1].
#[test]
fn municipal_council_2022_absolute_majority() {
    let Outcome::Complete { seats, steps } = apportion(&input(
        15,
        &[2571, 977, 567, 536, 453],
        Method::DutchCouncil,
    ))
    .unwrap() else {
        panic!()
    };
    assert_eq!(seats, vec![8, 3, 2, 1, 1]);
    assert!(steps.contains(&vigil_apportion::Step::AbsoluteMajority { from: 3, to: 0 }));
    // The same rules from 19 seats are highest averages: the 2026 case above.
    let mut case = input(
        33,
        &[8268, 4892, 1851, 2586, 1074, 1852, 1337, 573, 617],
        Method::DutchCouncil,
    );
    case.drawn = vec![8];
    let Outcome::Complete { seats, .. } = apportion(&case).unwrap() else {
        panic!()
    };
    assert_eq!(seats, vec![13, 7, 2, 4, 1, 3, 2, 0, 1]);
}
