//! `vigil detect --external`: networks of inputs larger than memory. The
//! posts are never all in memory: rows are sorted on disk by message id
//! (to read repeated ids as the in-memory dataset does), each network's
//! actions by (object, time), and the co-actions by (source, target,
//! message); the engine's streaming pieces (`vigil_detect::stream`) work
//! between the sorts. Memory holds the accounts, one window of actions,
//! the edges found, and two to three times the `--memory` budget of sort
//! buffers and batches.
//!
//! Evidence is not collected in this mode (it would need the posts again).

mod sorter;

use std::io::BufRead;
use std::path::Path;
use std::sync::Arc;

use rayon::prelude::*;
use vigil_detect::stream::{
    self, Contribution, MessageRows, SimilarWindow, StreamAction, WindowPairs,
};
use vigil_detect::{AccountIx, Dataset, Edge, NetworkKind, Params, Post, Semantics};

use sorter::{
    Record, Sorter, SpillDir, first_u32, get_str, get_u32, get_u64, put_str, put_u32, put_u64,
    string_of,
};

/// A row as read, numbered in file order.
#[derive(Clone, Debug)]
struct Row {
    seq: u64,
    post: Post,
}

impl PartialEq for Row {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other).is_eq()
    }
}
impl Eq for Row {}
impl PartialOrd for Row {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Row {
    /// By message id, then file order: a message's first row comes first.
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.post
            .message_id
            .cmp(&other.post.message_id)
            .then(self.seq.cmp(&other.seq))
    }
}

fn put_opt(out: &mut Vec<u8>, s: Option<&str>) {
    match s {
        None => put_u32(out, u32::MAX),
        Some(s) => put_str(out, s),
    }
}

fn get_opt(input: &mut impl BufRead) -> std::io::Result<Option<String>> {
    match get_u32(input)? {
        u32::MAX => Ok(None),
        len => string_of(input, len as usize).map(Some),
    }
}

impl Record for Row {
    fn encode(&self, out: &mut Vec<u8>) {
        let p = &self.post;
        put_str(out, &p.message_id);
        put_u64(out, self.seq);
        put_str(out, &p.account);
        put_str(out, &p.username);
        put_opt(out, p.shared_object.as_deref());
        put_opt(out, p.reply_to.as_deref());
        put_str(out, &p.text);
        put_u64(out, p.time.to_bits());
        put_u32(out, p.urls.len() as u32);
        for url in &p.urls {
            put_str(out, url);
        }
    }
    fn decode(input: &mut impl BufRead) -> std::io::Result<Option<Self>> {
        let Some(len) = first_u32(input)? else {
            return Ok(None);
        };
        let message_id = string_of(input, len as usize)?;
        let seq = get_u64(input)?;
        let mut post = Post {
            message_id,
            account: get_str(input)?,
            username: get_str(input)?,
            shared_object: get_opt(input)?,
            reply_to: get_opt(input)?,
            text: get_str(input)?,
            time: f64::from_bits(get_u64(input)?),
            urls: Vec::new(),
        };
        for _ in 0..get_u32(input)? {
            post.urls.push(get_str(input)?);
        }
        Ok(Some(Row { seq, post }))
    }
    fn size(&self) -> usize {
        let p = &self.post;
        p.message_id.len()
            + p.account.len()
            + p.username.len()
            + p.shared_object.as_ref().map_or(0, String::len)
            + p.reply_to.as_ref().map_or(0, String::len)
            + p.text.len()
            + p.urls.iter().map(|u| u.len() + 24).sum::<usize>()
    }
}

/// One action of one network, ordered by (object, time).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct ActionRecord {
    key: String,
    /// The time's bits in an order that sorts as the numbers do.
    time: u64,
    message: u64,
    account: AccountIx,
    /// The text, for similar text only.
    text: String,
}

/// f64 → u64 preserving order (`f64::total_cmp`), and back.
fn ordered_time(t: f64) -> u64 {
    let bits = t.to_bits();
    if bits >> 63 == 1 {
        !bits
    } else {
        bits | 1 << 63
    }
}
fn time_of(key: u64) -> f64 {
    f64::from_bits(if key >> 63 == 1 {
        key & !(1 << 63)
    } else {
        !key
    })
}

impl Record for ActionRecord {
    fn encode(&self, out: &mut Vec<u8>) {
        put_str(out, &self.key);
        put_u64(out, self.time);
        put_u64(out, self.message);
        put_u32(out, self.account);
        put_str(out, &self.text);
    }
    fn decode(input: &mut impl BufRead) -> std::io::Result<Option<Self>> {
        let Some(len) = first_u32(input)? else {
            return Ok(None);
        };
        Ok(Some(Self {
            key: string_of(input, len as usize)?,
            time: get_u64(input)?,
            message: get_u64(input)?,
            account: get_u32(input)?,
            text: get_str(input)?,
        }))
    }
    fn size(&self) -> usize {
        self.key.len() + self.text.len()
    }
}

/// A directed co-action: (source rank, target rank, source message).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct CoActionRecord(u32, u32, u64);

impl Record for CoActionRecord {
    fn encode(&self, out: &mut Vec<u8>) {
        put_u32(out, self.0);
        put_u32(out, self.1);
        put_u64(out, self.2);
    }
    fn decode(input: &mut impl BufRead) -> std::io::Result<Option<Self>> {
        let Some(source) = first_u32(input)? else {
            return Ok(None);
        };
        Ok(Some(Self(source, get_u32(input)?, get_u64(input)?)))
    }
    fn size(&self) -> usize {
        0
    }
}

/// Writing a spill file failed: the run cannot go on (not a damaged input).
#[derive(Debug, thiserror::Error)]
#[error("{0:#}")]
pub struct SpillError(pub anyhow::Error);

/// Collects the rows of every input file, sorted on disk.
pub struct External {
    semantics: Semantics,
    dir: Arc<SpillDir>,
    budget: usize,
    rows: Sorter<Row>,
}

/// One network computed out of core.
pub struct ExternalNetwork {
    pub kind: NetworkKind,
    /// Directed edges, self-loops included, sorted by (source id, target id).
    pub edges: Vec<Edge>,
    pub actions: u64,
    pub candidate_pairs: u64,
}

impl External {
    /// `budget`: bytes of sort buffers; spill files go under `temp`.
    pub fn new(semantics: Semantics, budget: usize, temp: &Path) -> anyhow::Result<Self> {
        let dir = SpillDir::new(temp)?;
        Ok(Self {
            semantics,
            rows: Sorter::new(dir.clone(), budget, false),
            dir,
            budget,
        })
    }

    pub fn semantics(&self) -> Semantics {
        self.semantics
    }

    /// Takes one row (checked by the reader, as for the in-memory dataset).
    pub fn push(&mut self, post: Post) -> Result<(), SpillError> {
        let seq = self.rows.len;
        self.rows.push(Row { seq, post }).map_err(SpillError)
    }

    /// Computes `kinds` over the rows: returns the accounts (no posts kept)
    /// and each network.
    pub fn compute(
        self,
        kinds: &[NetworkKind],
        params: Params,
    ) -> anyhow::Result<(Dataset, Vec<ExternalNetwork>)> {
        let semantics = self.semantics;
        let mut dataset = Dataset::new(semantics);
        let share = self.budget / kinds.len().max(1);
        let mut sorters: Vec<Sorter<ActionRecord>> = kinds
            .iter()
            .map(|_| Sorter::new(self.dir.clone(), share, false))
            .collect();
        // Rows by message id: decide what each contributes.
        let mut rows = self.rows.finish()?;
        let mut reader = MessageRows::new(semantics, &params);
        let mut current: Option<String> = None;
        let mut message = 0u64;
        while let Some(Row { post, .. }) = rows.next_record()? {
            if current.as_deref() != Some(post.message_id.as_str()) {
                reader.next_message();
                message += 1;
                current = Some(post.message_id.clone());
            }
            let first = reader.at_first_row();
            if !first {
                dataset.duplicate_rows += 1;
                if semantics == Semantics::Clean {
                    continue;
                }
            }
            let account = dataset.note_account(&post.account, &post.username);
            if first {
                dataset.count_post(account);
            }
            let mut failed = None;
            reader.row(&post, kinds, |k, contribution| {
                let (key, text) = match contribution {
                    Contribution::Key(key) => (key, String::new()),
                    Contribution::Text(text) => (String::new(), text),
                };
                let record = ActionRecord {
                    key,
                    time: ordered_time(post.time),
                    message,
                    account,
                    text,
                };
                if let (None, Some(sorter)) = (&failed, sorters.get_mut(k))
                    && let Err(e) = sorter.push(record)
                {
                    failed = Some(e);
                }
            });
            if let Some(e) = failed {
                return Err(e);
            }
        }
        drop(rows);
        // Accounts ranked by id, so that co-actions sorted by rank come out
        // in the order of the edge list.
        let (order, rank) = dataset.account_ranks();
        let mut networks = Vec::new();
        for (kind, sorter) in kinds.iter().zip(sorters) {
            let actions = sorter.len;
            let mut coactions = Sorter::new(self.dir.clone(), self.budget, true);
            let candidate_pairs = if *kind == NetworkKind::CoSimilarTweet && params.similarity > 0.0
            {
                similar_coactions(sorter, &params, semantics, &rank, &mut coactions)?
            } else {
                window_coactions(
                    sorter,
                    batch_size(self.budget),
                    params.window,
                    semantics,
                    &rank,
                    &mut coactions,
                )?
            };
            let mut merged = coactions.finish()?;
            let mut failed = None;
            let records = std::iter::from_fn(|| match merged.next_record() {
                Ok(r) => r.map(|CoActionRecord(s, t, m)| (s, t, m)),
                Err(e) => {
                    failed = Some(e);
                    None
                }
            });
            let mut edges = Vec::new();
            stream::count_edges(records, params.min_weight, |e| {
                edges.push(Edge {
                    source: order[e.source as usize],
                    target: order[e.target as usize],
                    weight: e.weight,
                });
            });
            if let Some(e) = failed {
                return Err(e);
            }
            networks.push(ExternalNetwork {
                kind: *kind,
                edges,
                actions,
                candidate_pairs,
            });
        }
        Ok((dataset, networks))
    }
}

/// Actions gathered before their objects are scanned in parallel (an
/// object with more actions is scanned as it streams by): a share of the
/// memory budget, as each may yield several co-actions.
fn batch_size(budget: usize) -> usize {
    (budget / 256).max(1024)
}

/// Co-actions of every object: objects scanned in parallel batches, an
/// object larger than a batch (co-post has a single one) in one pass.
fn window_coactions(
    sorter: Sorter<ActionRecord>,
    batch: usize,
    window: f64,
    semantics: Semantics,
    rank: &[u32],
    out: &mut Sorter<CoActionRecord>,
) -> anyhow::Result<u64> {
    let self_match = stream::self_match(semantics);
    let coaction =
        |s: AccountIx, m: u64, t: AccountIx| CoActionRecord(rank[s as usize], rank[t as usize], m);
    let mut sorted = sorter.finish()?;
    let mut pairs = 0u64;
    // Whole objects waiting for a parallel scan; the last may be growing.
    let mut groups: Vec<Vec<StreamAction>> = Vec::new();
    let mut batched = 0usize;
    // The current object, when too large to wait: scanned as it comes.
    let mut streaming: Option<WindowPairs> = None;
    let mut found = Vec::new();
    let mut last_key: Option<String> = None;
    while let Some(a) = sorted.next_record()? {
        let action = StreamAction {
            time: time_of(a.time),
            message: a.message,
            account: a.account,
        };
        if last_key.as_deref() != Some(a.key.as_str()) {
            if let Some(scan) = streaming.take() {
                pairs += scan.candidate_pairs;
            }
            if batched >= batch {
                pairs += scan_groups(&mut groups, window, self_match, &coaction, out)?;
                batched = 0;
            }
            groups.push(Vec::new());
            last_key = Some(a.key);
        }
        if let Some(scan) = streaming.as_mut() {
            scan.push(action, |s, m, t| found.push(coaction(s, m, t)));
            for r in found.drain(..) {
                out.push(r)?;
            }
            continue;
        }
        let Some(group) = groups.last_mut() else {
            continue;
        };
        group.push(action);
        batched += 1;
        if group.len() > batch {
            let big = groups.pop().unwrap_or_default();
            pairs += scan_groups(&mut groups, window, self_match, &coaction, out)?;
            batched = 0;
            let mut scan = WindowPairs::new(window, self_match);
            for a in big {
                scan.push(a, |s, m, t| found.push(coaction(s, m, t)));
                for r in found.drain(..) {
                    out.push(r)?;
                }
            }
            streaming = Some(scan);
        }
    }
    if let Some(scan) = streaming {
        pairs += scan.candidate_pairs;
    }
    pairs += scan_groups(&mut groups, window, self_match, &coaction, out)?;
    Ok(pairs)
}

/// Scans whole objects in parallel and empties `groups`.
fn scan_groups(
    groups: &mut Vec<Vec<StreamAction>>,
    window: f64,
    self_match: bool,
    coaction: &(impl Fn(AccountIx, u64, AccountIx) -> CoActionRecord + Sync),
    out: &mut Sorter<CoActionRecord>,
) -> anyhow::Result<u64> {
    let found: Vec<(Vec<CoActionRecord>, u64)> = groups
        .par_iter()
        .map(|group| {
            let mut scan = WindowPairs::new(window, self_match);
            let mut found = Vec::new();
            for &a in group {
                scan.push(a, |s, m, t| found.push(coaction(s, m, t)));
            }
            found.sort_unstable();
            found.dedup();
            (found, scan.candidate_pairs)
        })
        .collect();
    groups.clear();
    let mut pairs = 0;
    for (records, n) in found {
        pairs += n;
        for r in records {
            out.push(r)?;
        }
    }
    Ok(pairs)
}

/// Co-actions of similar texts, in one time-ordered pass.
fn similar_coactions(
    sorter: Sorter<ActionRecord>,
    params: &Params,
    semantics: Semantics,
    rank: &[u32],
    out: &mut Sorter<CoActionRecord>,
) -> anyhow::Result<u64> {
    let mut sorted = sorter.finish()?;
    let mut scan = SimilarWindow::new(params, stream::self_match(semantics));
    let mut found = Vec::new();
    while let Some(a) = sorted.next_record()? {
        let action = StreamAction {
            time: time_of(a.time),
            message: a.message,
            account: a.account,
        };
        scan.push(action, &a.text, |s, m, t| {
            found.push(CoActionRecord(rank[s as usize], rank[t as usize], m));
        });
        for r in found.drain(..) {
            out.push(r)?;
        }
    }
    Ok(scan.candidate_pairs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_keep_their_order_through_the_key() {
        let times = [
            f64::NEG_INFINITY,
            -1e9,
            -0.5,
            -0.0,
            0.0,
            1e-300,
            1.5,
            1e12,
            f64::INFINITY,
        ];
        for w in times.windows(2) {
            assert!(ordered_time(w[0]) < ordered_time(w[1]), "{w:?}");
        }
        for t in times {
            assert_eq!(time_of(ordered_time(t)).to_bits(), t.to_bits());
        }
    }
}
