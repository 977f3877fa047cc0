//! Exact similar-text matching inside a time window: a set-similarity join
//! with the prefix filter (AllPairs). Tokens are ranked rarest first; two
//! token sets A and B can reach Jaccard ≥ t only if the first
//! |A| − ⌈t·|A|⌉ + 1 tokens of A share a token with the first
//! |B| − ⌈t·|B|⌉ + 1 tokens of B, so only texts sharing a prefix token in
//! the window are compared, and every comparison is the exact Jaccard,
//! computed as Python computes it (`len(a & b) / len(a | b)` in f64).

use rayon::prelude::*;
use rustc_hash::FxHashMap;

use crate::dataset::{AccountIx, Dataset, NONE, PostIx};
use crate::network::{Actions, Params};
use crate::text;

pub(crate) struct SimilarIndex {
    threshold: f64,
    /// Token ranks of each eligible post, rarest first (CSR by slot).
    tokens: Vec<u32>,
    token_start: Vec<u32>,
    post_slot: Vec<u32>,
    /// Action positions (time-ordered) whose prefix holds each token.
    postings: Vec<Vec<u32>>,
    /// Slot of the post at each action position.
    position_slot: Vec<u32>,
}

impl SimilarIndex {
    /// Tokenises the eligible posts and returns the actions (one per post
    /// with enough tokens) to sort by time.
    pub fn build(
        d: &Dataset,
        eligible: &[PostIx],
        params: &Params,
    ) -> (Self, Vec<(u32, f64, PostIx, AccountIx)>) {
        let token_lists: Vec<Vec<String>> = eligible
            .par_iter()
            .map(|&p| text::toolkit_tokens(d.post_text(p)))
            .collect();
        let mut ids: FxHashMap<&str, u32> = FxHashMap::default();
        let mut frequency: Vec<u32> = Vec::new();
        let mut names: Vec<&str> = Vec::new();
        let mut raw: Vec<Vec<u32>> = Vec::with_capacity(token_lists.len());
        for list in &token_lists {
            let mut row = Vec::with_capacity(list.len());
            for token in list {
                let id = *ids.entry(token.as_str()).or_insert_with(|| {
                    frequency.push(0);
                    names.push(token.as_str());
                    (frequency.len() - 1) as u32
                });
                frequency[id as usize] += 1;
                row.push(id);
            }
            raw.push(row);
        }
        // Rank: rarest first, ties by text, so the order is reproducible.
        let mut order: Vec<u32> = (0..frequency.len() as u32).collect();
        order.sort_unstable_by(|&a, &b| {
            frequency[a as usize]
                .cmp(&frequency[b as usize])
                .then(names[a as usize].cmp(names[b as usize]))
        });
        let mut rank = vec![0u32; order.len()];
        for (r, &id) in order.iter().enumerate() {
            rank[id as usize] = r as u32;
        }
        let min_tokens = params.min_tokens.max(1.0);
        let mut tokens = Vec::new();
        let mut token_start = vec![0u32];
        let mut post_slot = vec![NONE; d.posts()];
        let mut rows = Vec::new();
        for (&p, row) in eligible.iter().zip(raw) {
            // `MinDocSizeSimilarity`: a text with fewer tokens is similar to
            // nothing; so is an empty one.
            if (row.len() as f64) < min_tokens {
                continue;
            }
            let mut ranked: Vec<u32> = row.iter().map(|&id| rank[id as usize]).collect();
            ranked.sort_unstable();
            post_slot[p as usize] = (token_start.len() - 1) as u32;
            tokens.extend_from_slice(&ranked);
            token_start.push(tokens.len() as u32);
            rows.push((0, d.post_time(p), p, d.post_account(p)));
        }
        let index = Self {
            threshold: params.similarity,
            tokens,
            token_start,
            post_slot,
            postings: vec![Vec::new(); order.len()],
            position_slot: Vec::new(),
        };
        (index, rows)
    }

    /// Builds the prefix postings over the sorted actions.
    pub fn finish(mut self, actions: &Actions) -> Self {
        self.position_slot = actions
            .post
            .iter()
            .map(|&p| self.post_slot[p as usize])
            .collect();
        let mut postings = std::mem::take(&mut self.postings);
        for (pos, &slot) in self.position_slot.iter().enumerate() {
            for &token in self.prefix(slot) {
                postings[token as usize].push(pos as u32);
            }
        }
        self.postings = postings;
        self
    }

    fn set(&self, slot: u32) -> &[u32] {
        let s = self.token_start.get(slot as usize).copied().unwrap_or(0) as usize;
        let e = self
            .token_start
            .get(slot as usize + 1)
            .copied()
            .unwrap_or(0) as usize;
        self.tokens.get(s..e).unwrap_or(&[])
    }

    fn prefix(&self, slot: u32) -> &[u32] {
        let set = self.set(slot);
        set.get(..prefix_len(set.len(), self.threshold))
            .unwrap_or(&[])
    }

    fn similar(&self, a: u32, b: u32) -> bool {
        jaccard_at_least(self.set(a), self.set(b), self.threshold)
    }

    /// Calls `f` with every action within ±window of `p` whose text is
    /// similar to p's (p itself included). `seen` is scratch of one entry
    /// per action.
    pub fn partners(
        &self,
        actions: &Actions,
        p: usize,
        window: f64,
        seen: &mut [u32],
        mut f: impl FnMut(usize),
    ) {
        let slot = self.position_slot[p];
        let t = actions.time[p];
        let (lo, hi) = (t - window, t + window);
        for &token in self.prefix(slot) {
            let list = &self.postings[token as usize];
            let start = list.partition_point(|&q| actions.time[q as usize] < lo);
            for &q in &list[start..] {
                let q = q as usize;
                if actions.time[q] > hi {
                    break;
                }
                if seen[q] == p as u32 {
                    continue;
                }
                seen[q] = p as u32;
                if self.similar(slot, self.position_slot[q]) {
                    f(q);
                }
            }
        }
    }
}

/// Length of the prefix filter of a set of `n` tokens: |A| − ⌈t·|A|⌉ + 1,
/// with ⌈t·n⌉ rounded down a hair so that float error can only lengthen
/// the prefix (still exact, never a missed pair).
pub(crate) fn prefix_len(n: usize, threshold: f64) -> usize {
    let overlap = ((threshold * n as f64) - 1e-9).ceil().max(1.0) as usize;
    (n + 1).saturating_sub(overlap).clamp(1, n.max(1)).min(n)
}

/// Whether two token sets, each sorted the same way, have a Jaccard
/// similarity of at least `threshold`, computed as Python computes it
/// (`len(a & b) / len(a | b)` in f64).
pub(crate) fn jaccard_at_least(x: &[u32], y: &[u32], threshold: f64) -> bool {
    let (small, large) = if x.len() <= y.len() {
        (x.len(), y.len())
    } else {
        (y.len(), x.len())
    };
    if large == 0 || (small as f64 / large as f64) < threshold {
        return false;
    }
    let (mut i, mut j, mut common) = (0, 0, 0usize);
    while i < x.len() && j < y.len() {
        match x[i].cmp(&y[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                common += 1;
                i += 1;
                j += 1;
            }
        }
    }
    let union = x.len() + y.len() - common;
    common as f64 / union as f64 >= threshold
}
