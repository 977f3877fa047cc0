//! Posts as they come in, and the interned, column-oriented dataset the
//! networks are computed from.

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

/// Strings interned to dense indices.
#[derive(Default, Debug)]
pub struct Interner {
    map: FxHashMap<Box<str>, u32>,
    names: Vec<Box<str>>,
}

impl Interner {
    pub fn intern(&mut self, name: &str) -> u32 {
        if let Some(&ix) = self.map.get(name) {
            return ix;
        }
        let ix = u32::try_from(self.names.len()).unwrap_or(NONE - 1);
        self.map.insert(name.into(), ix);
        self.names.push(name.into());
        ix
    }
    pub fn get(&self, name: &str) -> Option<u32> {
        self.map.get(name).copied()
    }
    pub fn name(&self, ix: u32) -> &str {
        self.names.get(ix as usize).map_or("", |n| n)
    }
    pub fn len(&self) -> usize {
        self.names.len()
    }
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
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
    pub(crate) message_ids: Interner,
    pub(crate) post_account: Vec<AccountIx>,
    pub(crate) post_time: Vec<f64>,
    pub(crate) post_shared: Vec<KeyIx>,
    pub(crate) post_reply: Vec<KeyIx>,
    pub(crate) post_text: Vec<Box<str>>,
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
            message_ids: Interner::default(),
            post_account: Vec::new(),
            post_time: Vec::new(),
            post_shared: Vec::new(),
            post_reply: Vec::new(),
            post_text: Vec::new(),
            objects: Interner::default(),
            urls: Interner::default(),
            links: Vec::new(),
            link_seen: FxHashSet::default(),
            duplicate_rows: 0,
        }
    }

    /// Adds one post. A refused post changes nothing.
    pub fn push(&mut self, post: Post) -> Result<(), PostError> {
        // The toolkit takes an empty id as an id like any other.
        let clean = self.semantics == Semantics::Clean;
        if clean && post.message_id.is_empty() {
            return Err(PostError::EmptyMessageId);
        }
        if clean && post.account.is_empty() {
            return Err(PostError::EmptyAccount);
        }
        if clean && !post.time.is_finite() {
            return Err(PostError::NonFiniteTime);
        }
        let known = self.message_ids.get(&post.message_id);
        if known.is_some() {
            self.duplicate_rows += 1;
            if clean {
                return Ok(());
            }
        }
        let account = self.accounts.intern(&post.account);
        if account as usize == self.usernames.len() {
            self.usernames.push(post.username.clone());
        } else if let Some(name) = self.usernames.get_mut(account as usize) {
            // The toolkit labels a node with max(username).
            if post.username > *name {
                name.clone_from(&post.username);
            }
        }
        let shared = post.shared_object.as_deref().filter(|s| !s.is_empty());
        let post_ix = match known {
            Some(ix) => ix,
            None => {
                let ix = self.message_ids.intern(&post.message_id);
                self.post_account.push(account);
                self.post_time.push(post.time);
                self.post_shared
                    .push(shared.map_or(NONE, |s| self.objects.intern(s)));
                let reply = post.reply_to.as_deref().filter(|s| !s.is_empty());
                self.post_reply
                    .push(reply.map_or(NONE, |s| self.objects.intern(s)));
                self.post_text.push(post.text.into_boxed_str());
                ix
            }
        };
        // URLs shared in reposts are ignored, as by the toolkit.
        if shared.is_none() {
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
        self.post_text.get(post as usize).map_or("", |t| t)
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

    /// Posts per account.
    pub fn posts_per_account(&self) -> Vec<u32> {
        let mut counts = vec![0u32; self.accounts.len()];
        for &a in &self.post_account {
            if let Some(c) = counts.get_mut(a as usize) {
                *c += 1;
            }
        }
        counts
    }
}
