//! Seat apportionment for Vigil's results pillar, with no I/O: highest
//! averages (D'Hondt, Sainte-Laguë and its modified form) and largest
//! remainders (Hare and Droop quotas), legal thresholds, exact rational
//! arithmetic, every step explained, and drawing of lots on ties: the
//! computation stops with the tied lists and resumes with the lots drawn.
#![forbid(unsafe_code)]

mod fraction;

pub use fraction::Fraction;
use serde::Serialize;
use thiserror::Error;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Quota {
    /// votes / seats
    Hare,
    /// ⌊votes / (seats + 1)⌋ + 1
    Droop,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    /// Divisors 1, 2, 3, …
    DHondt,
    /// Divisors 1, 3, 5, …
    SainteLague,
    /// Divisors d, 3, 5, … with a larger first divisor d (1.4 in Norway,
    /// 1.2 in Sweden since 2018), as a fraction `numerator / denominator`.
    ModifiedSainteLague {
        first_divisor: (u32, u32),
    },
    LargestRemainder(Quota),
    /// Dutch municipal councils (Kieswet art. P 5–P 9): Hare quota; residual
    /// seats by highest averages from 19 seats, else by largest remainders
    /// for lists with at least 3/4 of the quota (one each), then unique
    /// highest averages; a list with more than half the votes gets more than
    /// half the seats (P 9). List exhaustion (P 10) is not covered.
    DutchCouncil,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct List {
    pub name: String,
    pub votes: u64,
    /// This list's own threshold, when the law sets another one for it
    /// (for example a higher one for coalitions); else the input's.
    pub threshold: Option<Fraction>,
}

#[derive(Clone, Debug)]
pub struct Input {
    pub seats: u32,
    pub lists: Vec<List>,
    pub method: Method,
    /// The share of all list votes a list needs to take part (e.g. 5/100).
    pub threshold: Option<Fraction>,
    /// Lots already drawn, in the order they were asked for: each the index
    /// of the list drawn.
    pub drawn: Vec<usize>,
}

/// One step of the computation, in order, so that it can be checked by hand.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "step", rename_all = "snake_case")]
pub enum Step {
    /// A list below the threshold takes no part.
    BelowThreshold {
        list: usize,
        share: Fraction,
        threshold: Fraction,
    },
    Quota {
        quota: Fraction,
    },
    FullSeats {
        list: usize,
        seats: u32,
        remainder: Fraction,
    },
    /// A seat to the list with the highest average.
    HighestAverage {
        seat: u32,
        list: usize,
        average: Fraction,
    },
    /// A seat to the list with the largest remainder.
    LargestRemainder {
        seat: u32,
        list: usize,
        remainder: Fraction,
    },
    /// Art. P 9: the last residual seat moves to the list with an absolute majority of votes.
    AbsoluteMajority {
        from: usize,
        to: usize,
    },
    /// A tie decided by the lot drawn.
    LotDrawn {
        seat: u32,
        list: usize,
        among: Vec<usize>,
    },
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Outcome {
    Complete {
        seats: Vec<u32>,
        steps: Vec<Step>,
    },
    /// Lists tie for fewer seats than they are: lots must be drawn among
    /// `tied` for seat `seat` (then add the list drawn to `Input::drawn` and
    /// compute again).
    DrawingOfLotsRequired {
        seat: u32,
        tied: Vec<usize>,
        steps: Vec<Step>,
    },
}

#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum ApportionError {
    #[error("there are no seats to apportion")]
    NoSeats,
    #[error("no list has votes (after the threshold)")]
    NoVotes,
    #[error("the threshold must be a share between 0 and 1")]
    BadThreshold,
    #[error("lot {index} drew list {list}, which was not among the tied lists {tied:?}")]
    DrawnNotTied {
        index: usize,
        list: usize,
        tied: Vec<usize>,
    },
    #[error("{unused} lots were given that no tie asked for")]
    UnusedLots { unused: usize },
}

/// The next lot from `drawn`, checked against the tie.
struct Lots<'a> {
    drawn: &'a [usize],
    used: usize,
}

impl Lots<'_> {
    fn draw(&mut self, tied: &[usize]) -> Result<Option<usize>, ApportionError> {
        let Some(&list) = self.drawn.get(self.used) else {
            return Ok(None);
        };
        if !tied.contains(&list) {
            return Err(ApportionError::DrawnNotTied {
                index: self.used,
                list,
                tied: tied.to_vec(),
            });
        }
        self.used += 1;
        Ok(Some(list))
    }
}

pub fn apportion(input: &Input) -> Result<Outcome, ApportionError> {
    if input.seats == 0 {
        return Err(ApportionError::NoSeats);
    }
    let total: u128 = input.lists.iter().map(|l| u128::from(l.votes)).sum();
    if total == 0 {
        return Err(ApportionError::NoVotes);
    }
    let mut steps = Vec::new();
    let mut eligible = vec![true; input.lists.len()];
    for (index, list) in input.lists.iter().enumerate() {
        let Some(threshold) = list.threshold.or(input.threshold) else {
            continue;
        };
        if threshold > Fraction::whole(1) {
            return Err(ApportionError::BadThreshold);
        }
        let share = Fraction::new(u128::from(list.votes), total).ok_or(ApportionError::NoVotes)?;
        if share < threshold {
            eligible[index] = false;
            steps.push(Step::BelowThreshold {
                list: index,
                share,
                threshold,
            });
        }
    }
    let votes: Vec<u128> = input
        .lists
        .iter()
        .zip(&eligible)
        .map(|(l, ok)| if *ok { u128::from(l.votes) } else { 0 })
        .collect();
    if votes.iter().all(|v| *v == 0) {
        return Err(ApportionError::NoVotes);
    }
    let mut lots = Lots {
        drawn: &input.drawn,
        used: 0,
    };
    let outcome = match input.method {
        Method::LargestRemainder(quota) => {
            largest_remainder(input.seats, &votes, quota, &mut lots, steps)?
        }
        Method::DutchCouncil => dutch_council(input.seats, &votes, &mut lots, steps)?,
        divisor_method => highest_averages(input.seats, &votes, divisor_method, &mut lots, steps)?,
    };
    if matches!(outcome, Outcome::Complete { .. }) && lots.used < input.drawn.len() {
        return Err(ApportionError::UnusedLots {
            unused: input.drawn.len() - lots.used,
        });
    }
    Ok(outcome)
}

/// The divisor for a list that has `seats` seats: (numerator, denominator).
fn divisor(method: Method, seats: u32) -> (u128, u128) {
    let seats = u128::from(seats);
    match method {
        Method::DHondt => (seats + 1, 1),
        Method::ModifiedSainteLague {
            first_divisor: (numerator, denominator),
        } if seats == 0 => (u128::from(numerator), u128::from(denominator).max(1)),
        _ => (2 * seats + 1, 1),
    }
}

fn highest_averages(
    seats: u32,
    votes: &[u128],
    method: Method,
    lots: &mut Lots<'_>,
    mut steps: Vec<Step>,
) -> Result<Outcome, ApportionError> {
    let mut won = vec![0u32; votes.len()];
    for seat in 1..=seats {
        let averages: Vec<Option<Fraction>> = votes
            .iter()
            .zip(&won)
            .map(|(v, w)| {
                let (numerator, denominator) = divisor(method, *w);
                (*v > 0)
                    .then(|| Fraction::new(v * denominator, numerator))
                    .flatten()
            })
            .collect();
        let Some(best) = averages.iter().flatten().max().copied() else {
            return Err(ApportionError::NoVotes);
        };
        let tied: Vec<usize> = (0..votes.len())
            .filter(|&i| averages[i] == Some(best))
            .collect();
        let left = seats - seat + 1;
        let list = if tied.len() as u64 <= u64::from(left) {
            // Every tied list gets a seat within the seats left: no lot needed.
            tied[0]
        } else {
            match lots.draw(&tied)? {
                Some(list) => {
                    steps.push(Step::LotDrawn {
                        seat,
                        list,
                        among: tied,
                    });
                    list
                }
                None => return Ok(Outcome::DrawingOfLotsRequired { seat, tied, steps }),
            }
        };
        won[list] += 1;
        steps.push(Step::HighestAverage {
            seat,
            list,
            average: best,
        });
    }
    Ok(Outcome::Complete { seats: won, steps })
}

fn largest_remainder(
    seats: u32,
    votes: &[u128],
    quota_kind: Quota,
    lots: &mut Lots<'_>,
    mut steps: Vec<Step>,
) -> Result<Outcome, ApportionError> {
    let total: u128 = votes.iter().sum();
    let quota = match quota_kind {
        Quota::Hare => Fraction::new(total, u128::from(seats)).ok_or(ApportionError::NoSeats)?,
        Quota::Droop => Fraction::whole(total / (u128::from(seats) + 1) + 1),
    };
    steps.push(Step::Quota { quota });
    let mut won = vec![0u32; votes.len()];
    let mut remainders = vec![Fraction::whole(0); votes.len()];
    for (list, v) in votes.iter().enumerate() {
        if *v == 0 {
            continue;
        }
        let exact = Fraction::divide(*v, quota).ok_or(ApportionError::NoVotes)?;
        let full = u32::try_from(exact.floor()).unwrap_or(u32::MAX);
        won[list] = full;
        remainders[list] = exact.minus_whole(u128::from(full));
        steps.push(Step::FullSeats {
            list,
            seats: full,
            remainder: remainders[list],
        });
    }
    let mut seat: u32 = won.iter().sum::<u32>();
    // Remainder seats, at most one per list per round.
    while seat < seats {
        let mut candidates: Vec<usize> = (0..votes.len()).filter(|&i| votes[i] > 0).collect();
        while seat < seats && !candidates.is_empty() {
            let Some(best) = candidates.iter().map(|&i| remainders[i]).max() else {
                break;
            };
            let tied: Vec<usize> = candidates
                .iter()
                .copied()
                .filter(|&i| remainders[i] == best)
                .collect();
            let left = seats - seat;
            let list = if tied.len() as u64 <= u64::from(left) {
                tied[0]
            } else {
                match lots.draw(&tied)? {
                    Some(list) => {
                        steps.push(Step::LotDrawn {
                            seat: seat + 1,
                            list,
                            among: tied,
                        });
                        list
                    }
                    None => {
                        return Ok(Outcome::DrawingOfLotsRequired {
                            seat: seat + 1,
                            tied,
                            steps,
                        });
                    }
                }
            };
            seat += 1;
            won[list] += 1;
            candidates.retain(|&i| i != list);
            steps.push(Step::LargestRemainder {
                seat,
                list,
                remainder: best,
            });
        }
    }
    Ok(Outcome::Complete { seats: won, steps })
}

/// Who gets seat `seat` among `tied` lists when `left` seats remain: the
/// first if every tied list will get one anyway, else the lot drawn (or
/// `None`: lots must be drawn).
fn pick(
    seat: u32,
    tied: Vec<usize>,
    left: u32,
    lots: &mut Lots<'_>,
    steps: &mut Vec<Step>,
) -> Result<Result<usize, Vec<usize>>, ApportionError> {
    if tied.len() as u64 <= u64::from(left) {
        return Ok(Ok(tied[0]));
    }
    match lots.draw(&tied)? {
        Some(list) => {
            steps.push(Step::LotDrawn {
                seat,
                list,
                among: tied,
            });
            Ok(Ok(list))
        }
        None => Ok(Err(tied)),
    }
}

/// The lists among `candidates` with the greatest `score`.
fn best_of(
    candidates: &[usize],
    score: impl Fn(usize) -> Fraction,
) -> Option<(Fraction, Vec<usize>)> {
    let best = candidates.iter().map(|&i| score(i)).max()?;
    Some((
        best,
        candidates
            .iter()
            .copied()
            .filter(|&i| score(i) == best)
            .collect(),
    ))
}

fn dutch_council(
    seats: u32,
    votes: &[u128],
    lots: &mut Lots<'_>,
    mut steps: Vec<Step>,
) -> Result<Outcome, ApportionError> {
    let total: u128 = votes.iter().sum();
    // Art. P 5: the quota (kiesdeler) is the votes divided by the seats.
    let quota = Fraction::new(total, u128::from(seats)).ok_or(ApportionError::NoSeats)?;
    steps.push(Step::Quota { quota });
    let mut won = vec![0u32; votes.len()];
    let mut remainders = vec![Fraction::whole(0); votes.len()];
    // Art. P 6: full seats.
    for (list, v) in votes.iter().enumerate().filter(|(_, v)| **v > 0) {
        let exact = Fraction::divide(*v, quota).ok_or(ApportionError::NoVotes)?;
        won[list] = u32::try_from(exact.floor()).unwrap_or(u32::MAX);
        remainders[list] = exact.minus_whole(u128::from(won[list]));
        steps.push(Step::FullSeats {
            list,
            seats: won[list],
            remainder: remainders[list],
        });
    }
    let mut seat: u32 = won.iter().sum();
    let mut last_residual = None;
    let average = |won: &[u32], i: usize| {
        Fraction::new(votes[i], u128::from(won[i]) + 1).unwrap_or(Fraction::whole(0))
    };
    let voting: Vec<usize> = (0..votes.len()).filter(|&i| votes[i] > 0).collect();
    // Residual seats: (rule, lists that may still take one under it).
    let mut rounds: Vec<(u8, Vec<usize>)> = if seats >= 19 {
        // Art. P 7: highest averages.
        vec![(0, voting.clone())]
    } else {
        // Art. P 8: largest remainders for lists with at least 3/4 of the quota,
        // then unique highest averages, then (in theory) highest averages.
        let threshold = |i: usize| {
            Fraction::whole(votes[i] * 4)
                >= Fraction::new(quota.numerator() * 3, quota.denominator()).unwrap_or(quota)
        };
        vec![
            (
                1,
                voting.iter().copied().filter(|&i| threshold(i)).collect(),
            ),
            (2, voting.clone()),
            (0, voting.clone()),
        ]
    };
    for (rule, candidates) in rounds.iter_mut() {
        while seat < seats && !candidates.is_empty() {
            let scored = |i: usize| {
                if *rule == 1 {
                    remainders[i]
                } else {
                    average(&won, i)
                }
            };
            let Some((best, tied)) = best_of(candidates, scored) else {
                break;
            };
            let list = match pick(seat + 1, tied, seats - seat, lots, &mut steps)? {
                Ok(list) => list,
                Err(tied) => {
                    return Ok(Outcome::DrawingOfLotsRequired {
                        seat: seat + 1,
                        tied,
                        steps,
                    });
                }
            };
            seat += 1;
            won[list] += 1;
            last_residual = Some(list);
            steps.push(if *rule == 1 {
                Step::LargestRemainder {
                    seat,
                    list,
                    remainder: best,
                }
            } else {
                Step::HighestAverage {
                    seat,
                    list,
                    average: best,
                }
            });
            if *rule != 0 {
                // One seat per list under this rule.
                candidates.retain(|&i| i != list);
            }
        }
    }
    // Art. P 9: more than half the votes, at most half the seats.
    if let (Some(from), Some(to)) = (
        last_residual,
        (0..votes.len()).find(|&i| votes[i] * 2 > total),
    ) && u64::from(won[to]) * 2 <= u64::from(seats)
        && from != to
    {
        won[from] -= 1;
        won[to] += 1;
        steps.push(Step::AbsoluteMajority { from, to });
    }
    Ok(Outcome::Complete { seats: won, steps })
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn input(seats: u32, votes: &[u64], method: Method) -> Input {
        Input {
            seats,
            lists: votes
                .iter()
                .enumerate()
                .map(|(i, v)| List {
                    name: format!("L{}", i + 1),
                    votes: *v,
                    threshold: None,
                })
                .collect(),
            method,
            threshold: None,
            drawn: Vec::new(),
        }
    }

    fn seats(outcome: Outcome) -> Vec<u32> {
        match outcome {
            Outcome::Complete { seats, .. } => seats,
            other => panic!("not complete: {other:?}"),
        }
    }

    #[test]
    fn textbook_example_differs_by_method() {
        // Votes 53,000 / 24,000 / 23,000 for 7 seats (a standard textbook case).
        let votes = [53_000, 24_000, 23_000];
        assert_eq!(
            seats(apportion(&input(7, &votes, Method::DHondt)).unwrap()),
            vec![4, 2, 1]
        );
        assert_eq!(
            seats(apportion(&input(7, &votes, Method::SainteLague)).unwrap()),
            vec![3, 2, 2]
        );
        assert_eq!(
            seats(apportion(&input(7, &votes, Method::LargestRemainder(Quota::Hare))).unwrap()),
            vec![4, 2, 1]
        );
        assert_eq!(
            seats(apportion(&input(7, &votes, Method::LargestRemainder(Quota::Droop))).unwrap()),
            vec![4, 2, 1]
        );
    }

    #[test]
    fn modified_sainte_lague_holds_back_small_lists() {
        // With a first divisor of 1.4 the small list's first seat costs more.
        let votes = [1_000, 80];
        assert_eq!(
            seats(apportion(&input(8, &votes, Method::SainteLague)).unwrap()),
            vec![7, 1]
        );
        assert_eq!(
            seats(
                apportion(&input(
                    8,
                    &votes,
                    Method::ModifiedSainteLague {
                        first_divisor: (7, 5)
                    }
                ))
                .unwrap()
            ),
            vec![8, 0]
        );
    }

    #[test]
    fn threshold_excludes_and_is_explained() {
        let mut case = input(10, &[600, 360, 40], Method::DHondt);
        case.threshold = Fraction::new(5, 100);
        let Outcome::Complete { seats, steps } = apportion(&case).unwrap() else {
            panic!()
        };
        assert_eq!(seats, vec![6, 4, 0]);
        assert!(matches!(steps[0], Step::BelowThreshold { list: 2, .. }));
    }

    #[test]
    fn a_coalition_can_have_a_higher_threshold() {
        let mut case = input(10, &[600, 364, 36], Method::DHondt);
        case.threshold = Fraction::new(3, 100);
        // 3.6 % clears the general 3 %…
        let Outcome::Complete { steps, .. } = apportion(&case).unwrap() else {
            panic!()
        };
        assert!(
            !steps
                .iter()
                .any(|s| matches!(s, Step::BelowThreshold { .. }))
        );
        // …but not the 8 % the law sets for a coalition.
        case.lists[2].threshold = Fraction::new(8, 100);
        let Outcome::Complete { steps, .. } = apportion(&case).unwrap() else {
            panic!()
        };
        assert!(matches!(steps[0], Step::BelowThreshold { list: 2, .. }));
    }

    #[test]
    fn ties_stop_for_lots_and_resume() {
        let case = input(1, &[100, 100, 50], Method::DHondt);
        match apportion(&case).unwrap() {
            Outcome::DrawingOfLotsRequired { seat, tied, .. } => {
                assert_eq!((seat, tied), (1, vec![0, 1]))
            }
            other => panic!("{other:?}"),
        }
        let mut drawn = case.clone();
        drawn.drawn = vec![1];
        assert_eq!(seats(apportion(&drawn).unwrap()), vec![0, 1, 0]);
        drawn.drawn = vec![2];
        assert!(matches!(
            apportion(&drawn),
            Err(ApportionError::DrawnNotTied { .. })
        ));
        drawn.drawn = vec![1, 0];
        assert_eq!(
            apportion(&drawn),
            Err(ApportionError::UnusedLots { unused: 1 })
        );
        // Two seats for two tied lists need no lot.
        assert_eq!(
            seats(apportion(&input(2, &[100, 100, 50], Method::DHondt)).unwrap()),
            vec![1, 1, 0]
        );
    }

    #[test]
    fn bad_input_is_named() {
        assert_eq!(
            apportion(&input(0, &[1], Method::DHondt)),
            Err(ApportionError::NoSeats)
        );
        assert_eq!(
            apportion(&input(3, &[0, 0], Method::DHondt)),
            Err(ApportionError::NoVotes)
        );
        let mut case = input(3, &[10, 5], Method::DHondt);
        case.threshold = Fraction::new(3, 2);
        assert_eq!(apportion(&case), Err(ApportionError::BadThreshold));
    }
}
