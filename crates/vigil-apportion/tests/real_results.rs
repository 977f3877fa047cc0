//! Apportionments of real elections, and properties of the methods.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test
use proptest::prelude::*;
use vigil_apportion::{Fraction, Input, List, Method, Outcome, Quota, apportion};

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

// ---------- national elections: official votes against official seats ----------
//
// Each case takes the valid votes as the electoral authority published them
// and checks that the method gives the seats the authority declared. The
// figures were transcribed from copies of the official files (no network
// here) and cross-checked: the totals add up to the published totals, and
// the seats computed here are the declared ones, party by party.

/// A list named for the failure message, with its own threshold if any.
fn list(name: &str, votes: u64, threshold: Option<Fraction>) -> List {
    List {
        name: name.into(),
        votes,
        threshold,
    }
}

fn percent(p: u128) -> Fraction {
    Fraction::new(p, 100).unwrap()
}

fn complete(input: &Input) -> Vec<u32> {
    match apportion(input).unwrap() {
        Outcome::Complete { seats, .. } => seats,
        other => panic!("{other:?}"),
    }
}

/// Germany, Bundestag election of 23 February 2025: 630 seats by
/// Sainte-Laguë/Schepers over the second votes of parties with 5 % or more
/// (§ 4 BWahlG), the SSW as a national-minority party exempt. Final result
/// of the Federal Electoral Committee, 14 March 2025 (Die Bundeswahlleiterin,
/// https://www.bundeswahlleiterin.de/bundestagswahlen/2025/ergebnisse.html,
/// open data kerg2.csv; seats: https://www.bundestag.de/dokumente/textarchiv/2025/kw11-bundeswahlausschuss-1056272):
/// CDU 164, AfD 152, SPD 120, GRÜNE 85, Die Linke 64, CSU 44, SSW 1; BSW
/// (4.981 %) and FDP (4.3 %) below the threshold. "Others" are the remaining
/// 20 parties' votes together (4.42 %; each alone is below 5 % too), so the
/// threshold is taken of all 49,649,512 valid second votes.
#[test]
fn bundestag_2025_sainte_lague_with_threshold_and_minority_exemption() {
    let lists = vec![
        list("CDU", 11_196_374, None),
        list("AfD", 10_328_780, None),
        list("SPD", 8_149_124, None),
        list("GRÜNE", 5_762_380, None),
        list("Die Linke", 4_356_532, None),
        list("CSU", 2_964_028, None),
        list("SSW", 76_138, Some(Fraction::whole(0))),
        list("BSW", 2_472_947, None),
        list("FDP", 2_148_757, None),
        list("others", 49_649_512 - 47_455_060, None),
    ];
    assert_eq!(lists.iter().map(|l| l.votes).sum::<u64>(), 49_649_512);
    let input = Input {
        seats: 630,
        lists,
        method: Method::SainteLague,
        threshold: Some(percent(5)),
        drawn: Vec::new(),
    };
    assert_eq!(complete(&input), [164, 152, 120, 85, 64, 44, 1, 0, 0, 0]);
}

/// Germany, Bundestag election of 18 September 2005: the 598 seats were
/// first apportioned among the parties by Hare/Niemeyer (largest remainders
/// with the Hare quota, § 6 BWahlG as then in force), before overhang seats.
/// Final result (Der Bundeswahlleiter, https://www.bundeswahlleiterin.de/bundestagswahlen/2005.html):
/// second votes of the parties above 5 %;
/// seats before overhang SPD 213, CDU 173, CSU 46, FDP 61, Die Linke. 54,
/// GRÜNE 51 (with 9 and 7 overhang seats: 222 and 180 of 614).
#[test]
fn bundestag_2005_hare_niemeyer() {
    let input = Input {
        seats: 598,
        lists: vec![
            list("SPD", 16_194_665, None),
            list("CDU", 13_136_740, None),
            list("CSU", 3_494_309, None),
            list("FDP", 4_648_144, None),
            list("Die Linke.", 4_118_194, None),
            list("GRÜNE", 3_838_326, None),
        ],
        method: Method::LargestRemainder(Quota::Hare),
        threshold: None,
        drawn: Vec::new(),
    };
    assert_eq!(complete(&input), [213, 173, 46, 61, 54, 51]);
}

/// Sweden, Riksdag election of 11 September 2022: 349 seats; the fixed
/// constituency seats and the 39 adjustment seats together make each
/// party's national total its share by modified Sainte-Laguë (first divisor
/// 1.2, Vallagen 14 kap.) among parties with 4 % of the votes or more. Final
/// result (Valmyndigheten, https://www.val.se/valresultat/riksdag-region-och-kommun/2022/valresultat.html):
/// S 107, SD 73, M 68, V 24, C 24, KD 19, MP 18, L 16; 6,477,970 valid votes
/// ("others": every party below 4 % together, 1.5 %).
#[test]
fn riksdag_2022_modified_sainte_lague_with_threshold() {
    let parties = [
        ("S", 1_964_474),
        ("SD", 1_330_325),
        ("M", 1_237_428),
        ("V", 437_050),
        ("C", 434_945),
        ("KD", 345_712),
        ("MP", 329_242),
        ("L", 298_542),
    ];
    let mut lists: Vec<List> = parties.iter().map(|(n, v)| list(n, *v, None)).collect();
    let named: u64 = lists.iter().map(|l| l.votes).sum();
    lists.push(list("others", 6_477_970 - named, None));
    let input = Input {
        seats: 349,
        lists,
        method: Method::ModifiedSainteLague {
            first_divisor: (6, 5),
        },
        threshold: Some(percent(4)),
        drawn: Vec::new(),
    };
    assert_eq!(complete(&input), [107, 73, 68, 24, 24, 19, 18, 16, 0]);
}

/// Poland, Sejm election of 15 October 2023: 460 seats in 41 constituencies,
/// each by D'Hondt among the committees that passed the national threshold
/// (Kodeks wyborczy art. 196–197: 5 % for a party, 8 % for a coalition
/// committee, none for a national minority's committee). Results of the
/// National Electoral Commission (Państwowa Komisja Wyborcza: its notice of
/// 17 October 2023 on the Sejm results, and https://sejmsenat2023.pkw.gov.pl):
/// PiS 194, KO 157, Trzecia Droga 65, Lewica 26, Konfederacja 18, the German
/// minority (MN) 0. Votes per constituency in list order PiS, KO (coalition),
/// TD (coalition), Lewica, Konfederacja, MN (only in constituency 21, Opole).
#[test]
fn sejm_2023_dhondt_per_constituency_with_coalition_thresholds() {
    const SEATS: [u32; 41] = [
        12, 8, 14, 12, 13, 15, 12, 12, 10, 9, 12, 8, 14, 10, 9, 10, 9, 12, 20, 12, 12, 11, 15, 14,
        12, 14, 9, 7, 9, 9, 12, 9, 16, 8, 10, 12, 9, 9, 10, 8, 12,
    ];
    const VOTES: [[u64; 6]; 41] = [
        [174643, 169540, 53958, 47715, 31770, 0],
        [107797, 120188, 39215, 25806, 19478, 0],
        [206899, 286713, 106624, 88089, 54132, 0],
        [162603, 186914, 80426, 52959, 34266, 0],
        [183131, 158719, 84308, 60473, 34232, 0],
        [294847, 131712, 102894, 37083, 54325, 0],
        [231882, 79501, 59577, 25691, 35594, 0],
        [143530, 195091, 77933, 47911, 33672, 0],
        [122433, 187527, 54283, 55770, 25428, 0],
        [184929, 86083, 54479, 25340, 30247, 0],
        [221031, 138038, 77313, 41188, 36383, 0],
        [156308, 88408, 54585, 22036, 28754, 0],
        [232430, 232799, 127693, 83633, 58435, 0],
        [229587, 68804, 49487, 13594, 37301, 0],
        [196433, 68690, 75229, 16152, 32241, 0],
        [195218, 99146, 75526, 28848, 28877, 0],
        [190418, 82003, 54690, 20874, 28593, 0],
        [262236, 100902, 83681, 26149, 44299, 0],
        [345380, 741286, 227127, 230648, 124220, 0],
        [231905, 257470, 110086, 51556, 51573, 0],
        [150022, 161241, 61155, 34763, 31150, 25778],
        [241790, 70054, 60938, 19750, 38080, 0],
        [347688, 119259, 83676, 32828, 63854, 0],
        [258277, 126971, 114898, 29478, 59648, 0],
        [155318, 257009, 90599, 57967, 38406, 0],
        [199709, 258909, 92793, 56887, 49203, 0],
        [163506, 127677, 64778, 34601, 34909, 0],
        [117756, 94313, 47698, 30497, 21256, 0],
        [116827, 139711, 51681, 35673, 26934, 0],
        [145230, 114404, 47525, 26117, 30527, 0],
        [162458, 193596, 69825, 44509, 35240, 0],
        [112389, 114519, 37221, 81646, 21512, 0],
        [310266, 137941, 90975, 45048, 43197, 0],
        [105373, 95410, 46101, 24269, 19590, 0],
        [126432, 129339, 63007, 31631, 27119, 0],
        [194416, 154990, 87628, 46222, 37838, 0],
        [162192, 100580, 69740, 39761, 29208, 0],
        [120301, 144114, 72996, 32378, 28370, 0],
        [116666, 262779, 98589, 73345, 35182, 0],
        [101023, 124625, 39776, 28101, 19379, 0],
        [159575, 222427, 69957, 52032, 32942, 0],
    ];
    const NAMES: [&str; 6] = ["PiS", "KO", "TD", "Lewica", "Konfederacja", "MN"];
    const VALID: u64 = 21_596_674;
    let national: Vec<u64> = (0..6).map(|p| VOTES.iter().map(|d| d[p]).sum()).collect();
    assert_eq!(
        national,
        [
            7_640_854, 6_629_402, 3_110_670, 1_859_018, 1_547_364, 25_778
        ],
        "the constituencies add up to PKW's national totals"
    );
    assert_eq!(SEATS.iter().sum::<u32>(), 460);
    // The national threshold, through the same engine: every committee
    // passes (the committees below it are "others", 3.7 %).
    let thresholds = [
        None,
        Some(percent(8)),
        Some(percent(8)),
        None,
        None,
        Some(Fraction::whole(0)),
    ];
    let mut lists: Vec<List> = (0..6)
        .map(|p| list(NAMES[p], national[p], thresholds[p]))
        .collect();
    lists.push(list("others", VALID - national.iter().sum::<u64>(), None));
    let Outcome::Complete { steps, .. } = apportion(&Input {
        seats: 460,
        lists,
        method: Method::DHondt,
        threshold: Some(percent(5)),
        drawn: Vec::new(),
    })
    .unwrap() else {
        panic!()
    };
    let below: Vec<usize> = steps
        .iter()
        .filter_map(|s| match s {
            vigil_apportion::Step::BelowThreshold { list, .. } => Some(*list),
            _ => None,
        })
        .collect();
    assert_eq!(below, [6], "only the others fall below the threshold");
    // Then D'Hondt in each constituency.
    let mut seats = [0u32; 6];
    for (district, votes) in SEATS.iter().zip(&VOTES) {
        let won = complete(&Input {
            seats: *district,
            lists: (0..6).map(|p| list(NAMES[p], votes[p], None)).collect(),
            method: Method::DHondt,
            threshold: None,
            drawn: Vec::new(),
        });
        for (total, w) in seats.iter_mut().zip(won) {
            *total += w;
        }
    }
    assert_eq!(seats, [194, 157, 65, 26, 18, 0]);
}
