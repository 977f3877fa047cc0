//! Exact similar-text matching inside a time window: a set-similarity join
//! with the prefix filter (AllPairs). Tokens are ranked rarest first; two
//! token sets A and B can reach Jaccard ≥ t only if the first
//! |A| − ⌈t·|A|⌉ + 1 tokens of A share a token with the first
//! |B| − ⌈t·|B|⌉ + 1 tokens of B, so only texts sharing a prefix token in
//! the window are compared, and every comparison is the exact Jaccard,
//! computed as Python computes it (`len(a & b) / len(a | b)` in f64).

use rayon::prelude::*;

use crate::dataset::{AccountIx, Dataset, Interner, NONE, PostIx, row_of};
use crate::network::{Actions, Params};
use crate::text;

/// Posts tokenised per chunk on each core.
const TOKEN_CHUNK: usize = 16_384;

/// An action whose prefix holds a token.
#[derive(Clone, Copy, Default)]
struct Posting {
    time: f64,
    /// Position of the action.
    pos: u32,
    /// Token set of its post.
    slot: u32,
}

/// The token sets of a chunk of posts, as ids in the chunk's own
/// vocabulary, then as ranks.
#[derive(Default)]
struct ChunkTokens {
    words: Interner,
    /// Posts of the chunk with each word.
    frequency: Vec<u32>,
    /// Each word's id in the merged vocabulary.
    global: Vec<u32>,
    /// Each post's distinct words, sorted.
    ids: Vec<u32>,
    /// End of each post's ids.
    ends: Vec<u32>,
}

impl ChunkTokens {
    fn tokenise(tokenizer: &mut text::Tokenizer, d: &Dataset, posts: &[PostIx]) -> Self {
        let mut chunk = Self::default();
        for &p in posts {
            let first = chunk.ids.len();
            tokenizer.each_token(d.post_text(p), |t| chunk.ids.push(chunk.words.intern(t)));
            // A token set: each word once.
            chunk.ids[first..].sort_unstable();
            dedup_tail(&mut chunk.ids, first);
            chunk.frequency.resize(chunk.words.len(), 0);
            for &w in &chunk.ids[first..] {
                chunk.frequency[w as usize] += 1;
            }
            chunk.ends.push(chunk.ids.len() as u32);
        }
        chunk
    }

    /// Replaces each post's words by their ranks, sorted; a set of fewer
    /// than `min_tokens` tokens is emptied.
    fn rank(&mut self, rank: &[u32], min_tokens: f64) {
        let mut start = 0usize;
        let mut kept = 0usize;
        for end in &mut self.ends {
            let len = *end as usize - start;
            if len as f64 >= min_tokens {
                for i in start..*end as usize {
                    self.ids[kept] = rank[self.global[self.ids[i] as usize] as usize];
                    kept += 1;
                }
                self.ids[kept - len..kept].sort_unstable();
            }
            start = *end as usize;
            *end = kept as u32;
        }
        self.ids.truncate(kept);
    }
}

/// Removes repeats from the sorted tail `v[first..]`.
fn dedup_tail(v: &mut Vec<u32>, first: usize) {
    let mut kept = first;
    for i in first..v.len() {
        if i == first || v[i] != v[kept - 1] {
            v[kept] = v[i];
            kept += 1;
        }
    }
    v.truncate(kept);
}

pub(crate) struct SimilarIndex {
    threshold: f64,
    /// Seconds either side, from the parameters the index is built with:
    /// the partner table holds the partners within this window.
    window: f64,
    /// Token ranks of each eligible post, rarest first (CSR by slot).
    tokens: Vec<u32>,
    token_start: Vec<u32>,
    post_slot: Vec<u32>,
    /// Action positions (time-ordered) whose prefix holds each token.
    postings: Vec<Posting>,
    /// Start of each token's postings (CSR by token).
    posting_start: Vec<u32>,
    /// Where each action stands in the postings of each of its prefix
    /// tokens (by position, in prefix order; CSR by `own_start`): its
    /// window is found by scanning out from there, with no search.
    own: Vec<u32>,
    own_start: Vec<u32>,
    /// Slot of the post at each action position.
    position_slot: Vec<u32>,
    /// The partners of every action, found once (see [`Self::partner_table`]);
    /// None when there were too many to keep.
    table: Option<PartnerTable>,
}

/// The similar partners of each action position (CSR).
struct PartnerTable {
    start: Vec<u32>,
    list: Vec<u32>,
}

/// Partners kept in a [`PartnerTable`] at most (1 GiB); beyond, each
/// action's partners are found again each time they are asked for.
const PARTNER_BUDGET: usize = 1 << 28;

/// Actions whose partners are found together on one core.
const PARTNER_CHUNK: usize = 4096;

impl SimilarIndex {
    /// Tokenises the eligible posts and returns the actions (one per post
    /// with enough tokens) to sort by time.
    pub fn build(
        d: &Dataset,
        eligible: &[PostIx],
        params: &Params,
    ) -> (Self, Vec<(u32, f64, PostIx, AccountIx)>) {
        // Each chunk of posts is tokenised on its own core with its own
        // vocabulary; the vocabularies are merged after (far fewer words
        // than tokens), and each chunk's sets are then ranked on its core.
        let mut chunks: Vec<ChunkTokens> = eligible
            .par_chunks(TOKEN_CHUNK)
            .map_init(text::Tokenizer::default, |tokenizer, posts| {
                ChunkTokens::tokenise(tokenizer, d, posts)
            })
            .collect();
        let mut words = Interner::default();
        let mut frequency: Vec<u32> = Vec::new();
        for chunk in &mut chunks {
            chunk.global = (0..chunk.words.len() as u32)
                .map(|w| words.intern(chunk.words.name(w)))
                .collect();
            frequency.resize(words.len(), 0);
            for (&g, &n) in chunk.global.iter().zip(&chunk.frequency) {
                frequency[g as usize] += n;
            }
        }
        // Rank: rarest first, ties by text, so the order is reproducible.
        let mut order: Vec<u32> = (0..frequency.len() as u32).collect();
        order.par_sort_unstable_by(|&a, &b| {
            frequency[a as usize]
                .cmp(&frequency[b as usize])
                .then(words.name(a).cmp(words.name(b)))
        });
        let mut rank = vec![0u32; order.len()];
        for (r, &id) in order.iter().enumerate() {
            rank[id as usize] = r as u32;
        }
        // `MinDocSizeSimilarity`: a text with fewer tokens is similar to
        // nothing; so is an empty one.
        let min_tokens = params.min_tokens.max(1.0);
        chunks
            .par_iter_mut()
            .for_each(|chunk| chunk.rank(&rank, min_tokens));
        let mut tokens = Vec::with_capacity(chunks.iter().map(|c| c.ids.len()).sum());
        let mut token_start = vec![0u32];
        let mut post_slot = vec![NONE; d.posts()];
        let mut rows = Vec::new();
        for (chunk, posts) in chunks.iter().zip(eligible.chunks(TOKEN_CHUNK)) {
            let mut start = 0usize;
            for (&p, &end) in posts.iter().zip(&chunk.ends) {
                let set = &chunk.ids[start..end as usize];
                start = end as usize;
                if set.is_empty() {
                    continue;
                }
                post_slot[p as usize] = (token_start.len() - 1) as u32;
                tokens.extend_from_slice(set);
                token_start.push(tokens.len() as u32);
                rows.push((0, d.post_time(p), p, d.post_account(p)));
            }
        }
        let index = Self {
            threshold: params.similarity,
            window: params.window,
            tokens,
            token_start,
            post_slot,
            postings: Vec::new(),
            posting_start: vec![0; order.len() + 1],
            own: Vec::new(),
            own_start: Vec::new(),
            position_slot: Vec::new(),
            table: None,
        };
        (index, rows)
    }

    /// Builds the prefix postings over the sorted actions: each token's
    /// list is in time order, and holds the times, so that a window is
    /// found and scanned in one stretch of memory; then the partner table.
    pub fn finish(mut self, actions: &Actions) -> Self {
        self.position_slot = actions
            .post
            .iter()
            .map(|&p| self.post_slot[p as usize])
            .collect();
        let mut start = std::mem::take(&mut self.posting_start);
        for &slot in &self.position_slot {
            for &token in self.prefix(slot) {
                start[token as usize + 1] += 1;
            }
        }
        for i in 1..start.len() {
            start[i] += start[i - 1];
        }
        let mut fill = start.clone();
        let total = start.last().copied().unwrap_or(0) as usize;
        let mut postings = vec![Posting::default(); total];
        let mut own = Vec::with_capacity(total);
        let mut own_start = Vec::with_capacity(self.position_slot.len() + 1);
        own_start.push(0u32);
        for (pos, &slot) in self.position_slot.iter().enumerate() {
            for &token in self.prefix(slot) {
                let at = &mut fill[token as usize];
                postings[*at as usize] = Posting {
                    time: actions.time[pos],
                    pos: pos as u32,
                    slot,
                };
                own.push(*at - start[token as usize]);
                *at += 1;
            }
            own_start.push(own.len() as u32);
        }
        self.postings = postings;
        self.own = own;
        self.own_start = own_start;
        self.posting_start = start;
        self.table = self.partner_table(actions);
        self
    }

    /// The partners of every action, found in time order: the postings
    /// that neighbouring actions scan are then the same few, in cache,
    /// where the network's walk account by account (each account's
    /// actions scattered over the whole period) missed the cache at every
    /// posting list. None when they exceed [`PARTNER_BUDGET`].
    fn partner_table(&self, actions: &Actions) -> Option<PartnerTable> {
        use std::sync::atomic::{AtomicUsize, Ordering};
        let kept = AtomicUsize::new(0);
        let chunks: Option<Vec<(Vec<u32>, Vec<u32>)>> = (0..actions.len().div_ceil(PARTNER_CHUNK))
            .into_par_iter()
            .map_init(
                || vec![NONE; actions.len()],
                |seen, chunk| {
                    let first = chunk * PARTNER_CHUNK;
                    let last = (first + PARTNER_CHUNK).min(actions.len());
                    let mut counts = Vec::with_capacity(last - first);
                    let mut list = Vec::new();
                    for p in first..last {
                        let before = list.len();
                        self.scan_partners(actions, p, seen, |q| list.push(q as u32));
                        counts.push((list.len() - before) as u32);
                    }
                    let total = kept.fetch_add(list.len(), Ordering::Relaxed) + list.len();
                    (total <= PARTNER_BUDGET).then_some((counts, list))
                },
            )
            .collect();
        let chunks = chunks?;
        let mut start = Vec::with_capacity(actions.len() + 1);
        start.push(0u32);
        let mut list = Vec::with_capacity(kept.into_inner());
        for (counts, part) in chunks {
            for n in counts {
                start.push(start.last().copied().unwrap_or(0) + n);
            }
            list.extend_from_slice(&part);
        }
        Some(PartnerTable { start, list })
    }

    /// Whether [`Self::partners`] needs its `seen` scratch.
    pub fn needs_scratch(&self) -> bool {
        self.table.is_none()
    }

    fn postings_of(&self, token: u32) -> &[Posting] {
        row_of(&self.posting_start, &self.postings, token as usize)
    }

    fn set(&self, slot: u32) -> &[u32] {
        row_of(&self.token_start, &self.tokens, slot as usize)
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
    /// per action when [`Self::needs_scratch`].
    pub fn partners(&self, actions: &Actions, p: usize, seen: &mut [u32], f: impl FnMut(usize)) {
        match &self.table {
            Some(table) => row_of(&table.start, &table.list, p)
                .iter()
                .map(|&q| q as usize)
                .for_each(f),
            None => self.scan_partners(actions, p, seen, f),
        }
    }

    /// [`Self::partners`] found in the postings.
    fn scan_partners(
        &self,
        actions: &Actions,
        p: usize,
        seen: &mut [u32],
        mut f: impl FnMut(usize),
    ) {
        let slot = self.position_slot[p];
        let t = actions.time[p];
        let (lo, hi) = (t - self.window, t + self.window);
        let own = row_of(&self.own_start, &self.own, p);
        for (&token, &at) in self.prefix(slot).iter().zip(own) {
            let list = self.postings_of(token);
            let mut start = at as usize;
            while start > 0 && list[start - 1].time >= lo {
                start -= 1;
            }
            for q in &list[start..] {
                if q.time > hi {
                    break;
                }
                let seen = &mut seen[q.pos as usize];
                if *seen == p as u32 {
                    continue;
                }
                *seen = p as u32;
                if self.similar(slot, q.slot) {
                    f(q.pos as usize);
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::network::{NetworkKind, Partners, build_actions};

    #[test]
    fn the_partner_table_lists_what_the_postings_give() {
        let data = crate::synth::generate(crate::synth::Profile::Light, 20_000, 7);
        let mut d = Dataset::new(crate::Semantics::Clean);
        for post in data.posts {
            d.push(post).unwrap();
        }
        let window = 600.0;
        let params = Params {
            window,
            similarity: 0.5,
            ..Params::default()
        };
        let (actions, Partners::Similar(index)) =
            build_actions(&d, NetworkKind::CoSimilarTweet, &params)
        else {
            panic!("similar text has a similarity index");
        };
        assert!(!index.needs_scratch(), "the table fits its budget");
        let mut seen = vec![NONE; actions.len()];
        let mut others = 0;
        for p in 0..actions.len() {
            let mut scanned = Vec::new();
            index.scan_partners(&actions, p, &mut seen, |q| scanned.push(q));
            let mut listed = Vec::new();
            index.partners(&actions, p, &mut [], |q| listed.push(q));
            assert_eq!(listed, scanned, "partners of action {p}");
            others += listed.iter().filter(|&&q| q != p).count();
        }
        assert!(others > 1_000, "{others} partners: too few to test");
    }
}
