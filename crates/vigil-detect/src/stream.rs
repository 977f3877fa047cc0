//! Out-of-core building blocks: the networks of [`crate::network`], computed
//! from actions that arrive sorted by (object, time) instead of from a
//! dataset held in memory. The caller (the `vigil detect --external`
//! command) sorts on disk; these pieces only need memory for the accounts,
//! the actions inside one window, and the edges.
//!
//! The pipeline, each step fed in the order the previous one sorted:
//! 1. rows grouped by message id, in file order within a message:
//!    [`MessageRows`] decides what each row contributes to each network
//!    (the dataset's reading of repeated ids, reposts, empty URLs);
//! 2. actions grouped by object, in time order: [`WindowPairs`] (or
//!    [`SimilarWindow`] for similar text) emits every directed co-action
//!    `(source account, source message, target account)`;
//! 3. co-actions sorted and deduplicated: [`count_edges`] weighs each pair
//!    of accounts by its distinct source messages.

use std::collections::VecDeque;

use rustc_hash::{FxHashMap, FxHashSet};

use crate::dataset::{AccountIx, Post, Semantics};
use crate::network::{Edge, NetworkKind, Params};
use crate::similar::{jaccard_at_least, prefix_len};
use crate::text;

/// One action: a message of an account at a time, on some object.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct StreamAction {
    pub time: f64,
    /// Any identity of the message, the same for every action of it.
    pub message: u64,
    pub account: AccountIx,
}

/// What one row contributes to one network: an action on `key` (the
/// shared object, replied post, normalised text or URL; empty for co-post),
/// or, for similar text, the text to compare.
#[derive(Debug, PartialEq, Eq)]
pub enum Contribution {
    Key(String),
    Text(String),
}

/// Reads the rows of one message id, in file order, as the in-memory
/// dataset reads them.
pub struct MessageRows {
    semantics: Semantics,
    similarity: f64,
    links: FxHashSet<String>,
    first: bool,
}

impl MessageRows {
    pub fn new(semantics: Semantics, params: &Params) -> Self {
        Self {
            semantics,
            similarity: params.similarity,
            links: FxHashSet::default(),
            first: true,
        }
    }

    /// Starts the rows of another message.
    pub fn next_message(&mut self) {
        self.links.clear();
        self.first = true;
    }

    /// Whether the row to come is the message's first (its post); a later
    /// row is a repeated id.
    pub fn at_first_row(&self) -> bool {
        self.first
    }

    /// Calls `emit(kind index, contribution)` for each of `kinds` this row
    /// contributes to. A repeated id contributes only under the toolkit's
    /// semantics, and only its URLs (with its own account and time). Rows
    /// with a NaN time co-occur with nothing.
    pub fn row(
        &mut self,
        post: &Post,
        kinds: &[NetworkKind],
        mut emit: impl FnMut(usize, Contribution),
    ) {
        let first = std::mem::replace(&mut self.first, false);
        if (!first && self.semantics == Semantics::Clean) || post.time.is_nan() {
            return;
        }
        let toolkit = self.semantics == Semantics::Toolkit;
        let repost = post.shared().is_some();
        for (k, kind) in kinds.iter().enumerate() {
            if !first && *kind != NetworkKind::CoLink {
                continue;
            }
            match kind {
                NetworkKind::CoRetweet => {
                    if let Some(object) = post.shared() {
                        emit(k, Contribution::Key(object.to_owned()));
                    }
                }
                NetworkKind::CoReply => {
                    if let (false, Some(reply)) = (repost, post.reply()) {
                        emit(k, Contribution::Key(reply.to_owned()));
                    }
                }
                NetworkKind::CoTweet => {
                    if !repost {
                        let n = text::normalise(&post.text);
                        if toolkit || !n.is_empty() {
                            emit(k, Contribution::Key(n));
                        }
                    }
                }
                NetworkKind::CoPost => emit(k, Contribution::Key(String::new())),
                NetworkKind::CoSimilarTweet => {
                    if !repost {
                        emit(
                            k,
                            if self.similarity <= 0.0 {
                                // Every pair is similar: co-post over non-reposts.
                                Contribution::Key(String::new())
                            } else {
                                Contribution::Text(post.text.clone())
                            },
                        );
                    }
                }
                NetworkKind::CoLink => {
                    // URLs shared in reposts are ignored; a URL counts once
                    // per message, with the row that brought it first.
                    if repost {
                        continue;
                    }
                    for url in &post.urls {
                        if (toolkit || !url.is_empty()) && self.links.insert(url.clone()) {
                            emit(k, Contribution::Key(url.clone()));
                        }
                    }
                }
            }
        }
    }
}

/// The window test seen from the source: `target` within ±window of
/// `source` (inclusive), computed as the in-memory engine and the
/// toolkit's SQL compute it.
fn in_window(source: f64, target: f64, window: f64) -> bool {
    target >= source - window && target <= source + window
}

/// Directed co-actions of actions on one object, fed in time order.
pub struct WindowPairs {
    window: f64,
    self_match: bool,
    live: VecDeque<StreamAction>,
    /// Pairs of actions examined.
    pub candidate_pairs: u64,
}

impl WindowPairs {
    /// `self_match`: a message co-occurs with itself (the toolkit 1.5.2).
    pub fn new(window: f64, self_match: bool) -> Self {
        Self {
            window,
            self_match,
            live: VecDeque::new(),
            candidate_pairs: 0,
        }
    }

    /// Starts another object.
    pub fn next_object(&mut self) {
        self.live.clear();
    }

    /// Adds the next action of the current object (times never decrease)
    /// and calls `emit(source account, source message, target account)`
    /// for every co-action it closes, in both directions.
    pub fn push(&mut self, a: StreamAction, mut emit: impl FnMut(AccountIx, u64, AccountIx)) {
        if a.time.is_nan() {
            return;
        }
        let w = self.window;
        // Each direction tests the window from its own source, so an
        // action leaves only when neither direction can reach it.
        while let Some(q) = self.live.front() {
            if in_window(a.time, q.time, w) || in_window(q.time, a.time, w) {
                break;
            }
            self.live.pop_front();
        }
        for q in &self.live {
            pair(a, *q, w, self.self_match, &mut emit);
        }
        self.candidate_pairs += self.live.len() as u64 * 2 + 1;
        if self.self_match {
            emit(a.account, a.message, a.account);
        }
        self.live.push_back(a);
    }
}

/// Emits the co-actions between a new action `a` and an earlier `q`.
fn pair(
    a: StreamAction,
    q: StreamAction,
    w: f64,
    self_match: bool,
    emit: &mut impl FnMut(AccountIx, u64, AccountIx),
) {
    if a.message == q.message && !self_match {
        return;
    }
    if in_window(a.time, q.time, w) {
        emit(a.account, a.message, q.account);
    }
    if in_window(q.time, a.time, w) {
        emit(q.account, q.message, a.account);
    }
}

/// Directed co-actions of texts whose token sets have a Jaccard similarity
/// of at least the threshold, fed in time order. Exact, like the in-memory
/// join: the prefix filter only skips pairs that cannot reach the
/// threshold. Tokens are ordered by first appearance, latest first (later
/// tokens tend to be rarer), which any consistent order allows.
pub struct SimilarWindow {
    window: f64,
    threshold: f64,
    min_tokens: f64,
    self_match: bool,
    vocabulary: FxHashMap<String, u32>,
    live: VecDeque<LiveText>,
    /// Sequence number of `live[0]`.
    first_live: u64,
    next_seq: u64,
    /// Live texts (by sequence number) whose prefix holds each token; stale
    /// entries are dropped when read and in periodic sweeps.
    postings: FxHashMap<u32, VecDeque<u64>>,
    evicted_since_sweep: usize,
    /// Pairs of texts compared.
    pub candidate_pairs: u64,
}

struct LiveText {
    action: StreamAction,
    /// Complemented token ids, ascending: later tokens first, so the prefix
    /// comes first.
    tokens: Vec<u32>,
    /// Sequence number of the last text compared with this one.
    compared_with: u64,
}

impl SimilarWindow {
    pub fn new(params: &Params, self_match: bool) -> Self {
        Self {
            window: params.window,
            threshold: params.similarity,
            min_tokens: params.min_tokens.max(1.0),
            self_match,
            vocabulary: FxHashMap::default(),
            live: VecDeque::new(),
            first_live: 0,
            next_seq: 0,
            postings: FxHashMap::default(),
            evicted_since_sweep: 0,
            candidate_pairs: 0,
        }
    }

    /// Adds the next text (times never decrease) and emits its co-actions
    /// with the texts before it, in both directions.
    pub fn push(
        &mut self,
        a: StreamAction,
        text: &str,
        mut emit: impl FnMut(AccountIx, u64, AccountIx),
    ) {
        if a.time.is_nan() {
            return;
        }
        let mut tokens: Vec<u32> = text::toolkit_tokens(text)
            .into_iter()
            .map(|t| {
                let n = self.vocabulary.len() as u32;
                !*self.vocabulary.entry(t).or_insert(n)
            })
            .collect();
        // `MinDocSizeSimilarity`: a text with fewer tokens is similar to
        // nothing; so is an empty one.
        if (tokens.len() as f64) < self.min_tokens {
            return;
        }
        tokens.sort_unstable();
        self.evict(a.time);
        let prefix = &tokens[..prefix_len(tokens.len(), self.threshold)];
        let seq = self.next_seq;
        for &token in prefix {
            let Some(list) = self.postings.get_mut(&token) else {
                continue;
            };
            while list.front().is_some_and(|&s| s < self.first_live) {
                list.pop_front();
            }
            for &s in list.iter() {
                let Some(q) = self.live.get_mut((s - self.first_live) as usize) else {
                    continue;
                };
                if q.compared_with == seq {
                    continue;
                }
                q.compared_with = seq;
                self.candidate_pairs += 1;
                if jaccard_at_least(&tokens, &q.tokens, self.threshold) {
                    pair(a, q.action, self.window, self.self_match, &mut emit);
                }
            }
        }
        if self.self_match {
            emit(a.account, a.message, a.account);
        }
        for &token in prefix {
            self.postings.entry(token).or_default().push_back(seq);
        }
        self.live.push_back(LiveText {
            action: a,
            tokens,
            compared_with: u64::MAX,
        });
        self.next_seq += 1;
    }

    fn evict(&mut self, now: f64) {
        let w = self.window;
        while let Some(q) = self.live.front() {
            if in_window(now, q.action.time, w) || in_window(q.action.time, now, w) {
                break;
            }
            self.live.pop_front();
            self.first_live += 1;
            self.evicted_since_sweep += 1;
        }
        // Tokens never probed again would keep their stale entries: sweep
        // them once as many texts have left as are live (bounded memory).
        if self.evicted_since_sweep > 4096 && self.evicted_since_sweep > self.live.len() {
            let first = self.first_live;
            self.postings.retain(|_, list| {
                while list.front().is_some_and(|&s| s < first) {
                    list.pop_front();
                }
                !list.is_empty()
            });
            self.evicted_since_sweep = 0;
        }
    }
}

/// Weighs each pair of accounts by its distinct source messages, from
/// co-actions `(source, target, message)` sorted in that order (repeats
/// allowed), and calls `emit` for every edge of at least `min_weight`, in
/// the order of the input.
pub fn count_edges(
    coactions: impl IntoIterator<Item = (AccountIx, AccountIx, u64)>,
    min_weight: u32,
    mut emit: impl FnMut(Edge),
) {
    let min_weight = min_weight.max(1);
    let mut current: Option<(AccountIx, AccountIx, u64)> = None;
    let mut weight = 0u32;
    let mut flush = |pair: Option<(AccountIx, AccountIx, u64)>, weight: u32| {
        if let Some((source, target, _)) = pair
            && weight >= min_weight
        {
            emit(Edge {
                source,
                target,
                weight,
            });
        }
    };
    for c in coactions {
        match current {
            Some(p) if p == c => {}
            Some(p) if (p.0, p.1) == (c.0, c.1) => {
                weight += 1;
                current = Some(c);
            }
            _ => {
                flush(current, weight);
                current = Some(c);
                weight = 1;
            }
        }
    }
    flush(current, weight);
}

/// Whether the given semantics count a message as co-occurring with itself.
pub fn self_match(semantics: Semantics) -> bool {
    semantics == Semantics::Toolkit
}

#[cfg(test)]
mod tests {
    use super::*;

    fn act(time: f64, message: u64, account: u32) -> StreamAction {
        StreamAction {
            time,
            message,
            account,
        }
    }

    #[test]
    fn window_pairs_are_directed_and_inclusive() {
        let mut w = WindowPairs::new(10.0, false);
        let mut out = Vec::new();
        for a in [act(0.0, 1, 0), act(10.0, 2, 1), act(20.5, 3, 2)] {
            w.push(a, |s, m, t| out.push((s, m, t)));
        }
        out.sort_unstable();
        // 20.5 is 10.5 after 10: outside the window both ways.
        assert_eq!(out, vec![(0, 1, 1), (1, 2, 0)]);
    }

    #[test]
    fn self_match_adds_the_loop() {
        let mut w = WindowPairs::new(0.0, true);
        let mut out = Vec::new();
        w.push(act(5.0, 7, 3), |s, m, t| out.push((s, m, t)));
        assert_eq!(out, vec![(3, 7, 3)]);
    }

    #[test]
    fn counting_uses_distinct_messages() {
        let mut edges = Vec::new();
        count_edges(
            [(0, 1, 5), (0, 1, 5), (0, 1, 6), (0, 2, 5), (1, 0, 9)],
            2,
            |e| edges.push(e),
        );
        assert_eq!(
            edges,
            vec![Edge {
                source: 0,
                target: 1,
                weight: 2
            }]
        );
    }

    #[test]
    fn repeated_ids_only_add_urls_under_the_toolkit() {
        let kinds = [NetworkKind::CoLink, NetworkKind::CoRetweet];
        let post = |urls: &[&str]| Post {
            message_id: "m".into(),
            account: "a".into(),
            urls: urls.iter().map(|u| u.to_string()).collect(),
            ..Post::default()
        };
        for (semantics, expected) in [
            (Semantics::Toolkit, vec!["x", "", "y"]),
            (Semantics::Clean, vec!["x"]),
        ] {
            let mut rows = MessageRows::new(semantics, &Params::default());
            let mut got = Vec::new();
            for p in [post(&["x", "", "x"]), post(&["y", "x"])] {
                rows.row(&p, &kinds, |_, c| match c {
                    Contribution::Key(k) => got.push(k),
                    Contribution::Text(_) => unreachable!(),
                });
            }
            assert_eq!(got, expected, "{semantics:?}");
        }
    }
}
