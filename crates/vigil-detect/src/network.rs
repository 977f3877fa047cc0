//! Coordination networks: two accounts are linked when they act on the same
//! object (shared post, replied post, text, URL, or anything at all for
//! co-post) within a time window of each other.
//!
//! The semantics are the toolkit's: for every ordered pair of accounts
//! (A, B), the weight is the number of distinct messages of A that have at
//! least one action of B on the same object within ±window (inclusive); the
//! network is directed and the weights are asymmetric. The computation
//! shards by A over all cores: each worker walks A's actions, scans the
//! neighbours of each action in (object, time) order, and counts each B once
//! per message of A with a per-account stamp, so that no candidate pair is
//! ever stored.

use rayon::prelude::*;
use serde::Serialize;

use crate::dataset::{AccountIx, Columns, Dataset, KeyIx, NONE, PostIx, Semantics, row_of};
use crate::similar::SimilarIndex;
use crate::text;

/// The kinds of network, named as the toolkit names them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum NetworkKind {
    /// Sharing the same object: retweeted post, or any object column.
    CoRetweet,
    /// Replying to the same post.
    CoReply,
    /// Posting the same normalised text.
    CoTweet,
    /// Posting texts whose token sets have a Jaccard similarity at or above
    /// the threshold.
    CoSimilarTweet,
    /// Sharing the same URL.
    CoLink,
    /// Posting anything.
    CoPost,
}

impl NetworkKind {
    pub const ALL: [NetworkKind; 6] = [
        NetworkKind::CoRetweet,
        NetworkKind::CoReply,
        NetworkKind::CoTweet,
        NetworkKind::CoSimilarTweet,
        NetworkKind::CoLink,
        NetworkKind::CoPost,
    ];

    pub fn name(self) -> &'static str {
        match self {
            NetworkKind::CoRetweet => "co_retweet",
            NetworkKind::CoReply => "co_reply",
            NetworkKind::CoTweet => "co_tweet",
            NetworkKind::CoSimilarTweet => "co_similar_tweet",
            NetworkKind::CoLink => "co_link",
            NetworkKind::CoPost => "co_post",
        }
    }

    /// The columns of a dataset this network is computed from.
    pub fn columns(self) -> Columns {
        let fewest = Columns::FEWEST;
        match self {
            NetworkKind::CoRetweet => Columns {
                objects: true,
                ..fewest
            },
            NetworkKind::CoReply => Columns {
                replies: true,
                ..fewest
            },
            NetworkKind::CoTweet | NetworkKind::CoSimilarTweet => Columns {
                texts: true,
                ..fewest
            },
            NetworkKind::CoLink => Columns {
                links: true,
                ..fewest
            },
            NetworkKind::CoPost => fewest,
        }
    }

    /// Parses a toolkit name; `co_share` is an alias of `co_retweet` and
    /// `co_similar` of `co_similar_tweet`.
    pub fn parse(name: &str) -> Option<Self> {
        match name.replace('-', "_").as_str() {
            "co_retweet" | "co_share" => Some(NetworkKind::CoRetweet),
            "co_reply" => Some(NetworkKind::CoReply),
            "co_tweet" => Some(NetworkKind::CoTweet),
            "co_similar_tweet" | "co_similar" => Some(NetworkKind::CoSimilarTweet),
            "co_link" => Some(NetworkKind::CoLink),
            "co_post" => Some(NetworkKind::CoPost),
            _ => None,
        }
    }
}

/// Parameters of one network computation.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct Params {
    /// Seconds either side, inclusive.
    pub window: f64,
    /// Edges lighter than this are dropped (per direction).
    pub min_weight: u32,
    /// Jaccard threshold for similar text.
    pub similarity: f64,
    /// Texts with fewer distinct tokens are never similar to anything (the
    /// toolkit CLI's `--min_document_size_similarity`).
    pub min_tokens: f64,
}

impl Default for Params {
    fn default() -> Self {
        Self {
            window: 60.0,
            min_weight: 2,
            similarity: 0.8,
            min_tokens: 1.0,
        }
    }
}

/// A directed, weighted edge between two accounts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Edge {
    pub source: AccountIx,
    pub target: AccountIx,
    pub weight: u32,
}

impl Edge {
    pub fn is_loop(&self) -> bool {
        self.source == self.target
    }
}

/// What two co-occurring actions had in common.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shared {
    Object(KeyIx),
    Reply(KeyIx),
    Text,
    Url(KeyIx),
    Nothing,
}

impl Shared {
    /// What the actions of a network kind share, given their group.
    pub(crate) fn of(kind: NetworkKind, group: u32) -> Shared {
        match kind {
            NetworkKind::CoRetweet => Shared::Object(group),
            NetworkKind::CoReply => Shared::Reply(group),
            NetworkKind::CoLink => Shared::Url(group),
            NetworkKind::CoTweet | NetworkKind::CoSimilarTweet => Shared::Text,
            NetworkKind::CoPost => Shared::Nothing,
        }
    }
}

/// One pair of actions behind an edge: the evidence an analyst checks.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CoAction {
    pub source_post: PostIx,
    pub target_post: PostIx,
    pub shared: Shared,
    /// Target time minus source time, in seconds.
    pub delta: f64,
}

/// Actions of one network kind, sorted by (object, time), with each
/// account's actions listed by message.
pub(crate) struct Actions {
    pub time: Vec<f64>,
    pub account: Vec<AccountIx>,
    pub post: Vec<PostIx>,
    pub group: Vec<u32>,
    /// Positions of each account's actions, ordered by message (CSR).
    pub by_account: Vec<u32>,
    pub account_start: Vec<u32>,
}

impl Actions {
    /// `rows` are (group, time, post, account); rows with a NaN time never
    /// co-occur with anything (SQLite stores NaN as NULL) and are left out.
    pub fn new(mut rows: Vec<(u32, f64, PostIx, AccountIx)>, accounts: usize) -> Self {
        rows.retain(|r| !r.1.is_nan());
        rows.par_sort_unstable_by(|a, b| {
            a.0.cmp(&b.0).then(a.1.total_cmp(&b.1)).then(a.2.cmp(&b.2))
        });
        let mut account_start = vec![0u32; accounts + 1];
        for r in &rows {
            if let Some(c) = account_start.get_mut(r.3 as usize + 1) {
                *c += 1;
            }
        }
        for i in 1..account_start.len() {
            account_start[i] += account_start[i - 1];
        }
        let mut fill = account_start.clone();
        let mut by_account = vec![0u32; rows.len()];
        for (pos, r) in rows.iter().enumerate() {
            if let Some(slot) = fill.get_mut(r.3 as usize) {
                by_account[*slot as usize] = pos as u32;
                *slot += 1;
            }
        }
        let post: Vec<PostIx> = rows.iter().map(|r| r.2).collect();
        for a in 0..accounts {
            let (s, e) = (account_start[a] as usize, account_start[a + 1] as usize);
            by_account[s..e].sort_unstable_by_key(|&p| (post[p as usize], p));
        }
        Self {
            time: rows.iter().map(|r| r.1).collect(),
            account: rows.iter().map(|r| r.3).collect(),
            group: rows.iter().map(|r| r.0).collect(),
            post,
            by_account,
            account_start,
        }
    }

    pub fn len(&self) -> usize {
        self.time.len()
    }

    fn of_account(&self, account: usize) -> &[u32] {
        row_of(&self.account_start, &self.by_account, account)
    }

    /// Calls `f` with every action on the same object within ±window of the
    /// action at `p`, itself included.
    #[inline]
    fn window_partners(&self, p: usize, window: f64, mut f: impl FnMut(usize)) {
        let (g, t) = (self.group[p], self.time[p]);
        let (lo, hi) = (t - window, t + window);
        let mut q = p;
        while q > 0 && self.group[q - 1] == g && self.time[q - 1] >= lo {
            q -= 1;
        }
        while q < self.len() && self.group[q] == g && self.time[q] <= hi {
            f(q);
            q += 1;
        }
    }
}

/// How partners of an action are found.
pub(crate) enum Partners {
    /// Same group, within the window.
    Window,
    /// Similar token sets within the window.
    Similar(Box<SimilarIndex>),
}

/// A computed network, with what is needed to explain each edge.
pub struct Network<'d> {
    pub dataset: &'d Dataset,
    pub kind: NetworkKind,
    pub params: Params,
    actions: Actions,
    partners: Partners,
    self_match: bool,
    /// Directed edges, self-loops included, sorted by (source id, target id).
    pub edges: Vec<Edge>,
    /// Pairs of actions examined (the cost of the computation).
    pub candidate_pairs: u64,
}

struct Scratch {
    /// Per account: the last message of the source it was counted for,
    /// and how many messages so far (side by side: one cache miss per
    /// partner, not two).
    marks: Vec<Mark>,
    touched: Vec<AccountIx>,
    seen: Vec<u32>,
}

#[derive(Clone, Copy)]
struct Mark {
    stamp: PostIx,
    count: u32,
}

const UNMARKED: Mark = Mark {
    stamp: NONE,
    count: 0,
};

impl<'d> Network<'d> {
    /// Computes the network of `kind` over `dataset`.
    pub fn compute(dataset: &'d Dataset, kind: NetworkKind, params: Params) -> Self {
        let toolkit = dataset.semantics == Semantics::Toolkit;
        let (actions, partners) = build_actions(dataset, kind, &params);
        let mut network = Network {
            dataset,
            kind,
            params,
            actions,
            partners,
            // The toolkit 1.5.2 counts a message as co-occurring with itself.
            self_match: toolkit,
            edges: Vec::new(),
            candidate_pairs: 0,
        };
        network.run();
        network
    }

    fn run(&mut self) {
        let accounts = self.dataset.accounts();
        let min_weight = self.params.min_weight.max(1);
        // The toolkit's order: by source id, then target id, as text. The
        // sources are taken in that order and each one's targets sorted, so
        // that the edges come out in order without a sort of them all.
        let (order, rank) = self.dataset.account_ranks();
        let candidates: Vec<usize> = order
            .iter()
            .map(|&a| a as usize)
            .filter(|&a| {
                let own = self.actions.of_account(a);
                distinct_posts(own, &self.actions.post) >= min_weight as usize
            })
            .collect();
        let results: Vec<(Vec<Edge>, u64)> = candidates
            .par_chunks(256)
            .map_init(
                || Scratch {
                    marks: vec![UNMARKED; accounts],
                    touched: Vec::new(),
                    seen: self.new_seen(),
                },
                |scratch, chunk| {
                    let mut edges = Vec::new();
                    let mut pairs = 0u64;
                    for &a in chunk {
                        let first = edges.len();
                        pairs += self.account_edges(a, min_weight, scratch, &mut edges);
                        edges[first..].sort_unstable_by_key(|e| rank[e.target as usize]);
                    }
                    (edges, pairs)
                },
            )
            .collect();
        self.candidate_pairs = results.iter().map(|r| r.1).sum();
        let mut edges = Vec::with_capacity(results.iter().map(|r| r.0.len()).sum());
        for (part, _) in results {
            edges.extend_from_slice(&part);
        }
        self.edges = edges;
    }

    fn account_edges(
        &self,
        a: usize,
        min_weight: u32,
        s: &mut Scratch,
        out: &mut Vec<Edge>,
    ) -> u64 {
        let mut pairs = 0u64;
        s.touched.clear();
        for &p in self.actions.of_account(a) {
            let p = p as usize;
            let m1 = self.actions.post[p];
            let Scratch {
                marks,
                touched,
                seen,
            } = s;
            let mut visit = |q: usize| {
                pairs += 1;
                let m2 = self.actions.post[q];
                if m2 == m1 && !self.self_match {
                    return;
                }
                let u2 = self.actions.account[q] as usize;
                let mark = &mut marks[u2];
                if mark.stamp != m1 {
                    mark.stamp = m1;
                    if mark.count == 0 {
                        touched.push(u2 as AccountIx);
                    }
                    mark.count += 1;
                }
            };
            self.for_each_partner(p, seen, &mut visit);
        }
        for &u2 in &s.touched {
            let c = std::mem::replace(&mut s.marks[u2 as usize], UNMARKED).count;
            if c >= min_weight {
                out.push(Edge {
                    source: a as AccountIx,
                    target: u2,
                    weight: c,
                });
            }
        }
        pairs
    }

    /// Scratch for [`Self::for_each_partner`]: one entry per action for
    /// similar text, none otherwise.
    fn new_seen(&self) -> Vec<u32> {
        match &self.partners {
            Partners::Similar(index) if index.needs_scratch() => vec![NONE; self.actions.len()],
            Partners::Similar(_) => Vec::new(),
            Partners::Window => Vec::new(),
        }
    }

    /// Calls `f` with every partner of the action at `p` (itself included).
    /// `seen` may be reused across calls as long as each `p` is probed once.
    fn for_each_partner(&self, p: usize, seen: &mut [u32], f: impl FnMut(usize)) {
        match &self.partners {
            Partners::Window => self.actions.window_partners(p, self.params.window, f),
            Partners::Similar(index) => index.partners(&self.actions, p, seen, f),
        }
    }

    /// The pairs of actions behind an edge, at most `limit` of them, in the
    /// source's message order.
    pub fn evidence(&self, edge: &Edge, limit: usize) -> Vec<CoAction> {
        self.evidence_all(std::slice::from_ref(edge), limit)
            .pop()
            .unwrap_or_default()
    }

    /// The evidence of many edges (same order), at most `limit` co-actions
    /// each: one scan of each source account's actions serves all its edges.
    pub fn evidence_all(&self, edges: &[Edge], limit: usize) -> Vec<Vec<CoAction>> {
        let mut by_source: Vec<usize> = (0..edges.len()).collect();
        by_source.sort_unstable_by_key(|&i| edges[i].source);
        let sources: Vec<&[usize]> = by_source
            .chunk_by(|&a, &b| edges[a].source == edges[b].source)
            .collect();
        let found: Vec<Vec<(usize, Vec<CoAction>)>> = sources
            .par_iter()
            .map_init(
                || self.new_seen(),
                |seen, indices| {
                    let targets: rustc_hash::FxHashMap<AccountIx, usize> = indices
                        .iter()
                        .enumerate()
                        .map(|(k, &i)| (edges[i].target, k))
                        .collect();
                    let mut out: Vec<Vec<CoAction>> = vec![Vec::new(); indices.len()];
                    let source = edges[indices[0]].source as usize;
                    for &p in self.actions.of_account(source) {
                        let p = p as usize;
                        let m1 = self.actions.post[p];
                        self.for_each_partner(p, seen, |q| {
                            let m2 = self.actions.post[q];
                            if m2 == m1 && !self.self_match {
                                return;
                            }
                            if let Some(&k) = targets.get(&self.actions.account[q])
                                && out[k].len() < limit
                            {
                                out[k].push(CoAction {
                                    source_post: m1,
                                    target_post: m2,
                                    shared: Shared::of(self.kind, self.actions.group[p]),
                                    delta: self.actions.time[q] - self.actions.time[p],
                                });
                            }
                        });
                    }
                    indices.iter().copied().zip(out).collect()
                },
            )
            .collect();
        let mut evidence = vec![Vec::new(); edges.len()];
        for (i, list) in found.into_iter().flatten() {
            evidence[i] = list;
        }
        evidence
    }

    /// Number of actions this network was computed over.
    pub fn actions(&self) -> usize {
        self.actions.len()
    }
}

fn distinct_posts(positions: &[u32], post: &[PostIx]) -> usize {
    let mut n = 0;
    let mut last = NONE;
    for &p in positions {
        let m = post[p as usize];
        if m != last {
            n += 1;
            last = m;
        }
    }
    n
}

/// The actions of one network kind: (group, time, post, account) rows.
pub(crate) fn build_actions(
    d: &Dataset,
    kind: NetworkKind,
    params: &Params,
) -> (Actions, Partners) {
    let posts = 0..d.posts() as u32;
    let row = |g: u32, p: u32| (g, d.post_time[p as usize], p, d.post_account[p as usize]);
    let not_repost = |p: &u32| d.post_shared[*p as usize] == NONE;
    let rows: Vec<(u32, f64, PostIx, AccountIx)> = match kind {
        NetworkKind::CoRetweet => posts
            .filter(|&p| d.post_shared[p as usize] != NONE)
            .map(|p| row(d.post_shared[p as usize], p))
            .collect(),
        NetworkKind::CoReply => posts
            .filter(not_repost)
            .filter(|&p| d.post_reply[p as usize] != NONE)
            .map(|p| row(d.post_reply[p as usize], p))
            .collect(),
        NetworkKind::CoTweet => same_text_rows(d),
        NetworkKind::CoLink => d
            .links
            .iter()
            .map(|l| (l.url, l.time, l.post, l.account))
            .collect(),
        NetworkKind::CoPost => posts.map(|p| row(0, p)).collect(),
        NetworkKind::CoSimilarTweet => {
            if params.similarity <= 0.0 {
                // Every pair is similar enough: co-post over non-reposts.
                posts.filter(not_repost).map(|p| row(0, p)).collect()
            } else {
                let eligible: Vec<u32> = posts.filter(not_repost).collect();
                let (index, rows) = SimilarIndex::build(d, &eligible, params);
                let actions = Actions::new(rows, d.accounts());
                let index = index.finish(&actions);
                return (actions, Partners::Similar(Box::new(index)));
            }
        }
    };
    (Actions::new(rows, d.accounts()), Partners::Window)
}

/// Co-tweet actions: each post that is not a repost, grouped by its
/// normalised text. Texts are normalised per chunk on all cores, then
/// interned in shards by hash, each shard on its own core (the group
/// numbers differ from a one-by-one numbering; no result depends on them).
fn same_text_rows(d: &Dataset) -> Vec<(u32, f64, PostIx, AccountIx)> {
    use crate::dataset::{Interner, Strings};
    const CHUNK: usize = 16_384;
    const SHARDS: usize = 16;
    let toolkit = d.semantics == Semantics::Toolkit;
    let posts: Vec<PostIx> = (0..d.posts() as u32).collect();
    // Per chunk: the normalised texts of its posts (None: not an action).
    let chunks: Vec<(Strings, Vec<(PostIx, u64)>)> = posts
        .par_chunks(CHUNK)
        .map(|chunk| {
            let mut key = String::new();
            let mut texts = Strings::default();
            let mut kept = Vec::new();
            for &p in chunk {
                if d.post_shared[p as usize] != NONE {
                    continue;
                }
                text::normalise_into(d.post_text(p), &mut key);
                // A text of mentions only is empty: the toolkit matches such
                // texts with each other, Vigil does not.
                if toolkit || !key.is_empty() {
                    texts.push(&key);
                    kept.push((p, crate::dataset::hash_of(&key)));
                }
            }
            (texts, kept)
        })
        .collect();
    let shard_of = |hash: u64| (hash >> 60) as usize % SHARDS;
    let shards: Vec<(usize, Vec<(PostIx, u32)>)> = (0..SHARDS)
        .into_par_iter()
        .map(|shard| {
            let mut keys = Interner::default();
            let mut grouped = Vec::new();
            for (texts, kept) in &chunks {
                for (i, &(p, hash)) in kept.iter().enumerate() {
                    if shard_of(hash) == shard {
                        grouped.push((p, keys.intern(texts.get(i as u32))));
                    }
                }
            }
            (keys.len(), grouped)
        })
        .collect();
    let mut rows = Vec::with_capacity(shards.iter().map(|s| s.1.len()).sum());
    let mut offset = 0u32;
    for (groups, grouped) in shards {
        rows.extend(grouped.into_iter().map(|(p, g)| {
            (
                offset + g,
                d.post_time[p as usize],
                p,
                d.post_account[p as usize],
            )
        }));
        offset += groups as u32;
    }
    rows
}
