//! CooRnet's coordinated link sharing (Giglietto et al., 2020): the
//! coordination interval is estimated from the data, shares of a URL fall
//! into fixed bins of that width from the URL's first share, a bin with two
//! or more shares is coordinated, and two accounts are linked by the number
//! of distinct URLs both shared in coordinated bins; edges at or above the
//! `percentile_edge_weight` quantile are kept.

use rustc_hash::{FxHashMap, FxHashSet};

use crate::dataset::{AccountIx, Dataset, PostIx};
use crate::network::{CoAction, Edge, NetworkKind, Params, Shared, build_actions};
use crate::stats::quantile;

#[derive(Clone, Copy, Debug)]
pub struct CoornetParams {
    /// Seconds; estimated from the data when None.
    pub interval: Option<f64>,
    /// Share of the quickest URLs (by second share) used for the estimate.
    pub q: f64,
    /// Share of a URL's shares to reach.
    pub p: f64,
    pub percentile_edge_weight: f64,
}

impl Default for CoornetParams {
    fn default() -> Self {
        Self {
            interval: None,
            q: 0.1,
            p: 0.5,
            percentile_edge_weight: 0.9,
        }
    }
}

pub struct CoornetNetwork {
    /// Seconds, a whole number of at least 1 (R's `cut` takes whole seconds).
    pub interval: f64,
    pub estimated: bool,
    pub threshold: f64,
    /// Kept edges, source < target by id.
    pub edges: Vec<(Edge, Vec<CoAction>)>,
    pub coordinated_shares: u64,
}

/// An account's first coordinated share of a URL: (account, post, time).
type Member = (AccountIx, PostIx, f64);

/// A URL's shares as (time, post, account), sorted by time then input order.
type Shares = Vec<(f64, PostIx, AccountIx)>;

fn shares_by_url(d: &Dataset) -> Vec<(u32, Shares)> {
    let (actions, _) = build_actions(d, NetworkKind::CoLink, &Params::default());
    let mut out: Vec<(u32, Shares)> = Vec::new();
    for i in 0..actions.len() {
        let g = actions.group[i];
        if out.last().is_none_or(|(last, _)| *last != g) {
            out.push((g, Vec::new()));
        }
        if let Some((_, list)) = out.last_mut() {
            list.push((actions.time[i], actions.post[i], actions.account[i]));
        }
    }
    out
}

/// `estimate_coord_interval(q, p)`.
pub fn estimate_interval(urls: &[(u32, Shares)], q: f64, p: f64) -> f64 {
    let multi: Vec<&Shares> = urls
        .iter()
        .map(|(_, s)| s)
        .filter(|s| s.len() > 1)
        .collect();
    let second: Vec<f64> = multi.iter().map(|s| s[1].0 - s[0].0).collect();
    let Some(limit) = quantile(&second, q) else {
        return 1.0;
    };
    let reach: Vec<f64> = multi
        .iter()
        .filter(|s| s[1].0 - s[0].0 <= limit)
        .filter_map(|s| {
            let n = s.len() as f64;
            s.iter()
                .enumerate()
                .filter(|(rank, _)| (*rank as f64 + 1.0) / n > p)
                .map(|(_, share)| share.0 - s[0].0)
                .reduce(f64::min)
        })
        .collect();
    let interval = quantile(&reach, p).unwrap_or(1.0).trunc();
    if interval < 1.0 { 1.0 } else { interval }
}

pub fn network(d: &Dataset, params: CoornetParams, evidence_limit: usize) -> CoornetNetwork {
    let urls = shares_by_url(d);
    let estimated = params.interval.is_none();
    let interval = params.interval.map_or_else(
        || estimate_interval(&urls, params.q, params.p),
        |i| i.trunc().max(1.0),
    );
    // Per URL: the accounts with a share in a coordinated bin (first such share kept as evidence).
    let mut coordinated_shares = 0u64;
    let mut url_accounts: Vec<(u32, Vec<Member>)> = Vec::new();
    for (url, shares) in &urls {
        let accounts: FxHashSet<AccountIx> = shares.iter().map(|s| s.2).collect();
        if shares.len() < 2 || accounts.len() < 2 {
            continue;
        }
        let start = shares[0].0.floor();
        let mut bins: FxHashMap<i64, Vec<usize>> = FxHashMap::default();
        for (i, s) in shares.iter().enumerate() {
            bins.entry(((s.0 - start) / interval).floor() as i64)
                .or_default()
                .push(i);
        }
        let mut members: Vec<Member> = Vec::new();
        for idx in bins.values().filter(|b| b.len() >= 2) {
            coordinated_shares += idx.len() as u64;
            members.extend(idx.iter().map(|&i| (shares[i].2, shares[i].1, shares[i].0)));
        }
        members.sort_by(|a, b| a.0.cmp(&b.0).then(a.2.total_cmp(&b.2)));
        members.dedup_by_key(|m| m.0);
        if members.len() >= 2 {
            url_accounts.push((*url, members));
        }
    }
    let mut weights: FxHashMap<(AccountIx, AccountIx), (u32, Vec<CoAction>)> = FxHashMap::default();
    for (url, members) in &url_accounts {
        for (i, a) in members.iter().enumerate() {
            for b in &members[i + 1..] {
                let (x, y) = if d.account_id(a.0) <= d.account_id(b.0) {
                    (a, b)
                } else {
                    (b, a)
                };
                let entry = weights.entry((x.0, y.0)).or_default();
                entry.0 += 1;
                if entry.1.len() < evidence_limit {
                    entry.1.push(CoAction {
                        source_post: x.1,
                        target_post: y.1,
                        shared: Shared::Url(*url),
                        delta: y.2 - x.2,
                    });
                }
            }
        }
    }
    let all: Vec<f64> = weights.values().map(|w| f64::from(w.0)).collect();
    let threshold = quantile(&all, params.percentile_edge_weight).unwrap_or(0.0);
    let mut edges: Vec<(Edge, Vec<CoAction>)> = weights
        .into_iter()
        .filter(|(_, w)| f64::from(w.0) >= threshold)
        .map(|((a, b), (w, ev))| {
            (
                Edge {
                    source: a,
                    target: b,
                    weight: w,
                },
                ev,
            )
        })
        .collect();
    edges.sort_by(|x, y| {
        d.account_id(x.0.source)
            .cmp(d.account_id(y.0.source))
            .then_with(|| d.account_id(x.0.target).cmp(d.account_id(y.0.target)))
    });
    CoornetNetwork {
        interval,
        estimated,
        threshold,
        edges,
        coordinated_shares,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dataset::{Post, Semantics};

    fn share(d: &mut Dataset, id: &str, account: &str, url: &str, time: f64) {
        d.push(Post {
            message_id: id.into(),
            account: account.into(),
            time,
            urls: vec![url.into()],
            ..Post::default()
        })
        .unwrap();
    }

    #[test]
    fn bins_are_fixed_from_the_first_share_not_sliding() {
        // Shares at 0, 9 and 12 s with a 10 s interval: R bins {0, 9} | {12}.
        let mut d = Dataset::new(Semantics::Clean);
        share(&mut d, "1", "a", "u", 100.0);
        share(&mut d, "2", "b", "u", 109.0);
        share(&mut d, "3", "c", "u", 112.0);
        let n = network(
            &d,
            CoornetParams {
                interval: Some(10.0),
                percentile_edge_weight: 0.0,
                ..CoornetParams::default()
            },
            10,
        );
        let pairs: Vec<(&str, &str)> = n
            .edges
            .iter()
            .map(|(e, _)| (d.account_id(e.source), d.account_id(e.target)))
            .collect();
        assert_eq!(pairs, vec![("a", "b")]);
        assert_eq!(n.coordinated_shares, 2);
    }

    #[test]
    fn the_interval_is_the_median_time_to_half_the_shares_of_the_quickest_urls() {
        let mut d = Dataset::new(Semantics::Clean);
        // URL x: shares at 0, 2, 4, 40 → second share after 2 s, >50% reached at 4 s.
        for (i, t) in [0.0, 2.0, 4.0, 40.0].iter().enumerate() {
            share(&mut d, &format!("x{i}"), &format!("a{i}"), "x", *t);
        }
        // URL y: second share after 100 s: not among the quickest 10%.
        for (i, t) in [0.0, 100.0, 200.0].iter().enumerate() {
            share(&mut d, &format!("y{i}"), &format!("b{i}"), "y", *t);
        }
        let n = network(&d, CoornetParams::default(), 10);
        assert!(n.estimated);
        assert_eq!(n.interval, 4.0);
    }
}
