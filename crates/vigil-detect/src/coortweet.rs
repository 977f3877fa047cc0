//! CooRTweet's definition of coordination (Righetti & Balluff, 2.1):
//! `detect_groups` then `generate_coordinated_network(subgraph = 1)`.
//!
//! 1. Accounts with fewer than `min_participation` actions are dropped.
//! 2. Every pair of actions on the same object at most `window` seconds
//!    apart (inclusive) is a co-share, unless both are by the same account,
//!    are the same content, or either content is the object itself.
//! 3. Co-shares are kept only where one of the two contents belongs to an
//!    account with at least `min_participation` contents among the
//!    co-shares.
//! 4. The network is undirected; an edge's weight is its number of
//!    co-shares; edges whose weight exceeds the `edge_weight` quantile
//!    (R type 7, strictly greater) are kept.

use rustc_hash::{FxHashMap, FxHashSet};

use crate::dataset::{AccountIx, Dataset, PostIx};
use crate::network::{CoAction, Edge, NetworkKind, Params, Shared, build_actions};
use crate::stats::quantile;

#[derive(Clone, Copy, Debug)]
pub struct CoortweetParams {
    pub window: f64,
    pub min_participation: u32,
    /// Quantile of the weights an edge must exceed (0.5: the median).
    pub edge_weight: f64,
}

/// One undirected edge with CooRTweet's attributes.
#[derive(Clone, Debug)]
pub struct CoortweetEdge {
    pub edge: Edge,
    pub avg_time_delta: f64,
    pub n_content_id: u32,
    pub n_content_id_y: u32,
    pub edge_symmetry_score: f64,
    pub evidence: Vec<CoAction>,
}

pub struct CoortweetNetwork {
    /// Edges above the threshold, source < target by id.
    pub edges: Vec<CoortweetEdge>,
    /// Every edge before thresholding, and the accounts they touch.
    pub all_edges: usize,
    pub all_accounts: usize,
    pub threshold: f64,
    pub co_shares: u64,
}

struct Pair {
    older: usize,
    newer: usize,
}

pub fn network(
    d: &Dataset,
    kind: NetworkKind,
    params: CoortweetParams,
    evidence_limit: usize,
) -> CoortweetNetwork {
    let base = Params {
        window: params.window,
        ..Params::default()
    };
    let (actions, _) = build_actions(d, kind, &base);
    let mut per_account = vec![0u32; d.accounts()];
    for &a in &actions.account {
        per_account[a as usize] += 1;
    }
    let active = |a: AccountIx| per_account[a as usize] >= params.min_participation;
    let object_name = |g: u32| match kind {
        NetworkKind::CoRetweet | NetworkKind::CoReply => Some(d.objects.name(g)),
        NetworkKind::CoLink => Some(d.urls.name(g)),
        _ => None,
    };
    // 2. co-shares within the window.
    let mut pairs: Vec<Pair> = Vec::new();
    let n = actions.len();
    for i in 0..n {
        if !active(actions.account[i]) {
            continue;
        }
        let object = object_name(actions.group[i]);
        if object == Some(d.message_id(actions.post[i])) {
            continue;
        }
        let mut j = i + 1;
        while j < n
            && actions.group[j] == actions.group[i]
            && actions.time[j] - actions.time[i] <= params.window
        {
            let ok = active(actions.account[j])
                && actions.account[j] != actions.account[i]
                && actions.post[j] != actions.post[i]
                && object != Some(d.message_id(actions.post[j]));
            if ok {
                pairs.push(Pair { older: i, newer: j });
            }
            j += 1;
        }
    }
    // 3. minimum participation among the co-shared contents.
    let contents: FxHashSet<PostIx> = pairs
        .iter()
        .flat_map(|p| [actions.post[p.older], actions.post[p.newer]])
        .collect();
    let mut participating = vec![0u32; d.accounts()];
    for i in 0..n {
        if active(actions.account[i]) && contents.contains(&actions.post[i]) {
            participating[actions.account[i] as usize] += 1;
        }
    }
    let counts = |i: usize| participating[actions.account[i] as usize] >= params.min_participation;
    pairs.retain(|p| counts(p.older) || counts(p.newer));
    // 4. the undirected network.
    struct Acc {
        weight: u32,
        delta_sum: f64,
        older: FxHashSet<PostIx>,
        newer: FxHashSet<PostIx>,
        evidence: Vec<CoAction>,
    }
    let mut edges: FxHashMap<(AccountIx, AccountIx), Acc> = FxHashMap::default();
    for p in &pairs {
        let (a, b) = (actions.account[p.older], actions.account[p.newer]);
        let key = if d.account_id(a) <= d.account_id(b) {
            (a, b)
        } else {
            (b, a)
        };
        let acc = edges.entry(key).or_insert_with(|| Acc {
            weight: 0,
            delta_sum: 0.0,
            older: FxHashSet::default(),
            newer: FxHashSet::default(),
            evidence: Vec::new(),
        });
        let delta = actions.time[p.newer] - actions.time[p.older];
        acc.weight += 1;
        acc.delta_sum += delta;
        acc.older.insert(actions.post[p.older]);
        acc.newer.insert(actions.post[p.newer]);
        if acc.evidence.len() < evidence_limit {
            acc.evidence.push(CoAction {
                source_post: actions.post[p.older],
                target_post: actions.post[p.newer],
                shared: Shared::of(kind, actions.group[p.older]),
                delta,
            });
        }
    }
    let all_accounts = edges
        .keys()
        .flat_map(|&(a, b)| [a, b])
        .collect::<FxHashSet<_>>()
        .len();
    let weights: Vec<f64> = edges.values().map(|e| f64::from(e.weight)).collect();
    let threshold = quantile(&weights, params.edge_weight).unwrap_or(0.0);
    let all_edges = edges.len();
    let mut kept: Vec<CoortweetEdge> = edges
        .into_iter()
        .filter(|(_, acc)| f64::from(acc.weight) > threshold)
        .map(|((a, b), acc)| {
            let (x, y) = (acc.older.len() as u32, acc.newer.len() as u32);
            CoortweetEdge {
                edge: Edge {
                    source: a,
                    target: b,
                    weight: acc.weight,
                },
                avg_time_delta: acc.delta_sum / f64::from(acc.weight),
                n_content_id: x,
                n_content_id_y: y,
                edge_symmetry_score: f64::from(x.min(y)) / f64::from(x.max(y).max(1)),
                evidence: acc.evidence,
            }
        })
        .collect();
    kept.sort_by(|x, y| {
        d.account_id(x.edge.source)
            .cmp(d.account_id(y.edge.source))
            .then_with(|| d.account_id(x.edge.target).cmp(d.account_id(y.edge.target)))
    });
    CoortweetNetwork {
        edges: kept,
        all_edges,
        all_accounts,
        threshold,
        co_shares: pairs.len() as u64,
    }
}
