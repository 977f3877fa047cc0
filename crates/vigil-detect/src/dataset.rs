//! Posts as they come in, and the interned, column-oriented dataset the
//! networks are computed from.

use rayon::prelude::*;
use rustc_hash::{FxHashMap, FxHashSet};
use serde::Serialize;

/// Which tool's reading of the data to follow.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Semantics {
    /// coordination-network-toolkit 1.5.2, quirks included: a repeated
    /// message id keeps its first row but still adds the URLs of later rows,
    /// an empty URL is a URL, a mention-only text is a text, a message
    /// co-occurs with itself.
    Toolkit,
    /// The toolkit's semantics with its quirks fixed (Vigil's default).
    Clean,
}

/// One post as read from a file.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Post {
    pub message_id: String,
    pub account: String,
    /// Display name; personal data, only used for node labels.
    pub username: String,
    /// The object this post shares: the retweeted post, or any object column
    /// mapped to it (hashtag, image hash, domain).
    pub shared_object: Option<String>,
    pub reply_to: Option<String>,
    pub text: String,
    /// Seconds; any consistent origin.
    pub time: f64,
    pub urls: Vec<String>,
}

impl Post {
    /// Whether `semantics` accepts this post: Vigil refuses empty ids and
    /// non-finite times; the toolkit takes an empty id as an id like any
    /// other and stores NaN as NULL.
    pub fn check(&self, semantics: Semantics) -> Result<(), PostError> {
        if semantics == Semantics::Toolkit {
            return Ok(());
        }
        if self.message_id.is_empty() {
            return Err(PostError::EmptyMessageId);
        }
        if self.account.is_empty() {
            return Err(PostError::EmptyAccount);
        }
        if !self.time.is_finite() {
            return Err(PostError::NonFiniteTime);
        }
        Ok(())
    }

    /// The object a repost shares (an empty column is no object).
    pub fn shared(&self) -> Option<&str> {
        self.shared_object.as_deref().filter(|s| !s.is_empty())
    }

    /// The post replied to (an empty column is no reply).
    pub fn reply(&self) -> Option<&str> {
        self.reply_to.as_deref().filter(|s| !s.is_empty())
    }
}

/// Why a post was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PostError {
    #[error("the message id is empty")]
    EmptyMessageId,
    #[error("the account id is empty")]
    EmptyAccount,
    #[error("the timestamp is not a finite number")]
    NonFiniteTime,
}

/// Index of an account in a dataset.
pub type AccountIx = u32;
/// Index of a post (a distinct message id) in a dataset.
pub type PostIx = u32;
/// Index of an interned object (shared post, replied post, URL, text).
pub type KeyIx = u32;

/// Marks "no object" in the per-post key columns.
pub(crate) const NONE: u32 = u32::MAX;

/// Strings stored end to end in one buffer: no allocation per string.
#[derive(Default, Debug)]
pub(crate) struct Strings {
    text: String,
    /// Start of each string in `text`; the next start (or the end) ends it.
    starts: Vec<usize>,
}

impl Strings {
    fn push(&mut self, s: &str) -> u32 {
        let ix = u32::try_from(self.starts.len()).unwrap_or(NONE - 1);
        self.starts.push(self.text.len());
        self.text.push_str(s);
        ix
    }
    pub(crate) fn get(&self, ix: u32) -> &str {
        let ix = ix as usize;
        let Some(&start) = self.starts.get(ix) else {
            return "";
        };
        let end = self.starts.get(ix + 1).copied().unwrap_or(self.text.len());
        self.text.get(start..end).unwrap_or("")
    }
    fn len(&self) -> usize {
        self.starts.len()
    }
}

/// Strings interned to dense indices (a million ids are one buffer and a
/// table of indices). Entries keep their hash: growing the table does not
/// hash the strings again.
#[derive(Default, Debug)]
pub struct Interner {
    table: hashbrown::HashTable<(u64, u32)>,
    strings: Strings,
}

fn hash_of(name: &str) -> u64 {
    use std::hash::BuildHasher;
    rustc_hash::FxBuildHasher.hash_one(name)
}

impl Interner {
    pub fn intern(&mut self, name: &str) -> u32 {
        self.intern_new(name).0
    }
    /// The index of `name`, and whether it was new.
    pub fn intern_new(&mut self, name: &str) -> (u32, bool) {
        let Self { table, strings } = self;
        let hash = hash_of(name);
        match table.entry(
            hash,
            |&(h, ix)| h == hash && strings.get(ix) == name,
            |&(h, _)| h,
        ) {
            hashbrown::hash_table::Entry::Occupied(e) => (e.get().1, false),
            hashbrown::hash_table::Entry::Vacant(e) => {
                let ix = strings.push(name);
                e.insert((hash, ix));
                (ix, true)
            }
        }
    }
    pub fn get(&self, name: &str) -> Option<u32> {
        let hash = hash_of(name);
        self.table
            .find(hash, |&(h, ix)| h == hash && self.strings.get(ix) == name)
            .map(|&(_, ix)| ix)
    }
    pub fn name(&self, ix: u32) -> &str {
        self.strings.get(ix)
    }
    pub fn len(&self) -> usize {
        self.strings.len()
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// One URL of one message: the toolkit's `message_url` row, which keeps the
/// account and time of the row it came from.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Link {
    pub post: PostIx,
    pub url: KeyIx,
    pub account: AccountIx,
    pub time: f64,
}

/// The posts of one analysis, interned and stored by column.
#[derive(Debug)]
pub struct Dataset {
    pub semantics: Semantics,
    pub(crate) accounts: Interner,
    usernames: Vec<String>,
    /// Distinct posts of each account.
    account_posts: Vec<u32>,
    pub(crate) message_ids: Interner,
    pub(crate) post_account: Vec<AccountIx>,
    pub(crate) post_time: Vec<f64>,
    pub(crate) post_shared: Vec<KeyIx>,
    pub(crate) post_reply: Vec<KeyIx>,
    pub(crate) post_text: Strings,
    pub(crate) objects: Interner,
    pub(crate) urls: Interner,
    pub(crate) links: Vec<Link>,
    link_seen: FxHashSet<(PostIx, KeyIx)>,
    /// Rows whose message id had been seen before.
    pub duplicate_rows: u64,
}

impl Dataset {
    pub fn new(semantics: Semantics) -> Self {
        Self {
            semantics,
            accounts: Interner::default(),
            usernames: Vec::new(),
            account_posts: Vec::new(),
            message_ids: Interner::default(),
            post_account: Vec::new(),
            post_time: Vec::new(),
            post_shared: Vec::new(),
            post_reply: Vec::new(),
            post_text: Strings::default(),
            objects: Interner::default(),
            urls: Interner::default(),
            links: Vec::new(),
            link_seen: FxHashSet::default(),
            duplicate_rows: 0,
        }
    }

    /// Adds one post. A refused post changes nothing.
    pub fn push(&mut self, post: impl std::borrow::Borrow<Post>) -> Result<(), PostError> {
        let post = post.borrow();
        post.check(self.semantics)?;
        let clean = self.semantics == Semantics::Clean;
        let (post_ix, new) = self.message_ids.intern_new(&post.message_id);
        if !new {
            self.duplicate_rows += 1;
            if clean {
                return Ok(());
            }
        }
        let account = self.note_account(&post.account, &post.username);
        let shared = post.shared();
        let repost = shared.is_some();
        if new {
            self.count_post(account);
            self.post_account.push(account);
            self.post_time.push(post.time);
            self.post_shared
                .push(shared.map_or(NONE, |s| self.objects.intern(s)));
            let reply = post.reply();
            self.post_reply
                .push(reply.map_or(NONE, |s| self.objects.intern(s)));
            self.post_text.push(&post.text);
        }
        // URLs shared in reposts are ignored, as by the toolkit.
        if !repost {
            for url in &post.urls {
                if clean && url.is_empty() {
                    continue;
                }
                let url = self.urls.intern(url);
                if self.link_seen.insert((post_ix, url)) {
                    self.links.push(Link {
                        post: post_ix,
                        url,
                        account,
                        time: post.time,
                    });
                }
            }
        }
        Ok(())
    }

    /// Records an account seen in a row; the node keeps the greatest
    /// username seen, as the toolkit labels a node with `max(username)`.
    pub fn note_account(&mut self, id: &str, username: &str) -> AccountIx {
        let account = self.accounts.intern(id);
        if account as usize == self.usernames.len() {
            self.usernames.push(username.to_owned());
            self.account_posts.push(0);
        } else if let Some(name) = self.usernames.get_mut(account as usize)
            && username > name.as_str()
        {
            username.clone_into(name);
        }
        account
    }

    /// Counts a distinct post of `account` (for datasets that stream their
    /// posts instead of keeping them).
    pub fn count_post(&mut self, account: AccountIx) {
        if let Some(n) = self.account_posts.get_mut(account as usize) {
            *n += 1;
        }
    }

    /// Distinct posts counted, kept or streamed.
    pub fn posts_counted(&self) -> u64 {
        self.account_posts.iter().map(|&n| u64::from(n)).sum()
    }

    /// Posts kept in memory (indices `0..posts()`).
    pub fn posts(&self) -> usize {
        self.post_account.len()
    }
    pub fn accounts(&self) -> usize {
        self.accounts.len()
    }
    pub fn account_id(&self, account: AccountIx) -> &str {
        self.accounts.name(account)
    }
    pub fn account_ix(&self, id: &str) -> Option<AccountIx> {
        self.accounts.get(id)
    }
    pub fn username(&self, account: AccountIx) -> &str {
        self.usernames
            .get(account as usize)
            .map_or("", String::as_str)
    }
    pub fn message_id(&self, post: PostIx) -> &str {
        self.message_ids.name(post)
    }
    pub fn post_account(&self, post: PostIx) -> AccountIx {
        self.post_account
            .get(post as usize)
            .copied()
            .unwrap_or(NONE)
    }
    pub fn post_time(&self, post: PostIx) -> f64 {
        self.post_time
            .get(post as usize)
            .copied()
            .unwrap_or(f64::NAN)
    }
    pub fn post_text(&self, post: PostIx) -> &str {
        self.post_text.get(post)
    }
    pub fn shared_object(&self, post: PostIx) -> Option<&str> {
        let key = self.post_shared.get(post as usize).copied().unwrap_or(NONE);
        (key != NONE).then(|| self.objects.name(key))
    }
    pub fn reply_to(&self, post: PostIx) -> Option<&str> {
        let key = self.post_reply.get(post as usize).copied().unwrap_or(NONE);
        (key != NONE).then(|| self.objects.name(key))
    }
    /// The URLs recorded for each of `posts` (from every row with its id),
    /// in one pass over the links.
    pub fn urls_of(&self, posts: &[PostIx]) -> FxHashMap<PostIx, Vec<&str>> {
        let wanted: FxHashSet<PostIx> = posts.iter().copied().collect();
        let mut out: FxHashMap<PostIx, Vec<&str>> = FxHashMap::default();
        for link in self.links.iter().filter(|l| wanted.contains(&l.post)) {
            out.entry(link.post)
                .or_default()
                .push(self.urls.name(link.url));
        }
        out
    }

    /// The readable name of what a co-action shared.
    pub fn shared_label(&self, shared: crate::network::Shared) -> &str {
        use crate::network::Shared;
        match shared {
            Shared::Object(k) | Shared::Reply(k) => self.objects.name(k),
            Shared::Url(k) => self.urls.name(k),
            Shared::Text | Shared::Nothing => "",
        }
    }

    /// Accounts in the order of their ids as text (`order`), and the
    /// position of each account in that order (`rank`).
    pub fn account_ranks(&self) -> (Vec<AccountIx>, Vec<u32>) {
        let mut order: Vec<AccountIx> = (0..self.accounts() as AccountIx).collect();
        order.par_sort_unstable_by(|&a, &b| self.account_id(a).cmp(self.account_id(b)));
        let mut rank = vec![0u32; order.len()];
        for (r, &a) in order.iter().enumerate() {
            rank[a as usize] = r as u32;
        }
        (order, rank)
    }

    /// Distinct posts per account.
    pub fn posts_per_account(&self) -> &[u32] {
        &self.account_posts
    }
}
