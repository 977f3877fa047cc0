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
    /// Whether `semantics` accepts this post.
    pub fn check(&self, semantics: Semantics) -> Result<(), PostError> {
        self.fields().check(semantics)
    }

    /// The post's single-valued fields, borrowed.
    pub fn fields(&self) -> PostFields<'_> {
        PostFields {
            message_id: &self.message_id,
            account: &self.account,
            username: &self.username,
            shared_object: self.shared_object.as_deref().unwrap_or(""),
            reply_to: self.reply_to.as_deref().unwrap_or(""),
            text: &self.text,
            time: self.time,
        }
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

/// The single-valued fields of one row, borrowed from wherever it was
/// read (an empty object or reply column is no object).
#[derive(Clone, Copy, Debug, Default)]
pub struct PostFields<'a> {
    pub message_id: &'a str,
    pub account: &'a str,
    pub username: &'a str,
    pub shared_object: &'a str,
    pub reply_to: &'a str,
    pub text: &'a str,
    pub time: f64,
}

impl PostFields<'_> {
    /// Whether `semantics` accepts this row: Vigil refuses empty ids and
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

/// Row `row` of a table stored as rows end to end (`starts[row]` to
/// `starts[row + 1]`); empty when out of range.
pub(crate) fn row_of<'a, T>(starts: &[u32], items: &'a [T], row: usize) -> &'a [T] {
    let start = starts.get(row).copied().unwrap_or(0) as usize;
    let end = starts.get(row + 1).copied().unwrap_or(0) as usize;
    items.get(start..end).unwrap_or(&[])
}

/// The columns a dataset keeps beyond message ids, accounts and times: a
/// run that computes one network need not intern every text, URL and
/// object of the file. Whether a post is a repost is always kept.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Columns {
    /// Shared objects, interned (co-retweet, evidence labels).
    pub objects: bool,
    /// Replied posts, interned (co-reply).
    pub replies: bool,
    /// Texts (co-tweet, similar text, evidence).
    pub texts: bool,
    /// URLs (co-link, evidence).
    pub links: bool,
    /// Usernames, for node labels (no network uses them).
    pub usernames: bool,
}

impl Columns {
    pub const ALL: Columns = Columns {
        objects: true,
        replies: true,
        texts: true,
        links: true,
        usernames: true,
    };
    pub const FEWEST: Columns = Columns {
        objects: false,
        replies: false,
        texts: false,
        links: false,
        usernames: false,
    };

    pub fn and(self, other: Columns) -> Columns {
        Columns {
            objects: self.objects || other.objects,
            replies: self.replies || other.replies,
            texts: self.texts || other.texts,
            links: self.links || other.links,
            usernames: self.usernames || other.usernames,
        }
    }
}

/// Marks "an object not kept" in the shared-object column (see [`Columns`]).
const SOME_OBJECT: u32 = 0;

/// Index of an account in a dataset.
pub type AccountIx = u32;
/// Index of a post (a distinct message id) in a dataset.
pub type PostIx = u32;
/// Index of an interned object (shared post, replied post, URL, text).
pub type KeyIx = u32;

pub(crate) use crate::intern::{Interner, NONE, Strings, hash_of};

/// One URL of one message: the toolkit's `message_url` row, which keeps the
/// account and time of the row it came from.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Link {
    pub post: PostIx,
    pub url: KeyIx,
    pub account: AccountIx,
    pub time: f64,
}

/// Rows read and checked, stored by column, waiting to be taken into a
/// dataset (see [`Intake`]). A reader fills one batch while the dataset
/// takes in the one before; batches are cleared and refilled, not
/// reallocated.
#[derive(Default, Debug)]
pub struct PostBatch {
    message_id: Strings,
    account: Strings,
    username: Strings,
    shared: Strings,
    reply: Strings,
    text: Strings,
    time: Vec<f64>,
    urls: Strings,
    /// End of each row's URLs in `urls`.
    url_end: Vec<u32>,
    /// Rows the reader expects in all (0: unknown): the dataset makes
    /// room for them once, instead of growing and copying its columns.
    pub expected_rows: usize,
}

impl PostBatch {
    /// Adds a row with its URLs, if `semantics` accepts it.
    pub fn push<'a>(
        &mut self,
        semantics: Semantics,
        row: PostFields<'_>,
        urls: impl IntoIterator<Item = &'a str>,
    ) -> Result<(), PostError> {
        row.check(semantics)?;
        self.message_id.push(row.message_id);
        self.account.push(row.account);
        self.username.push(row.username);
        self.shared.push(row.shared_object);
        self.reply.push(row.reply_to);
        self.text.push(row.text);
        self.time.push(row.time);
        for url in urls {
            self.urls.push(url);
        }
        self.url_end
            .push(u32::try_from(self.urls.len()).unwrap_or(u32::MAX));
        Ok(())
    }

    pub fn push_post(&mut self, semantics: Semantics, post: &Post) -> Result<(), PostError> {
        self.push(
            semantics,
            post.fields(),
            post.urls.iter().map(String::as_str),
        )
    }

    pub fn len(&self) -> usize {
        self.time.len()
    }
    pub fn is_empty(&self) -> bool {
        self.time.is_empty()
    }
    pub fn clear(&mut self) {
        for strings in [
            &mut self.message_id,
            &mut self.account,
            &mut self.username,
            &mut self.shared,
            &mut self.reply,
            &mut self.text,
            &mut self.urls,
        ] {
            strings.clear();
        }
        self.time.clear();
        self.url_end.clear();
        self.expected_rows = 0;
    }

    /// The fields of row `row` (`0..len()`).
    pub fn fields(&self, row: usize) -> PostFields<'_> {
        let ix = row as u32;
        PostFields {
            message_id: self.message_id.get(ix),
            account: self.account.get(ix),
            username: self.username.get(ix),
            shared_object: self.shared.get(ix),
            reply_to: self.reply.get(ix),
            text: self.text.get(ix),
            time: self.time.get(row).copied().unwrap_or(f64::NAN),
        }
    }

    /// The URLs of row `row`.
    pub fn urls(&self, row: usize) -> impl Iterator<Item = &str> {
        let start = match row {
            0 => 0,
            _ => self.url_end.get(row - 1).copied().unwrap_or(0),
        };
        let end = self.url_end.get(row).copied().unwrap_or(start);
        (start..end).map(|u| self.urls.get(u))
    }

    /// Row `row` as an owned post.
    pub fn post(&self, row: usize) -> Post {
        let f = self.fields(row);
        let optional = |s: &str| (!s.is_empty()).then(|| s.to_owned());
        Post {
            message_id: f.message_id.to_owned(),
            account: f.account.to_owned(),
            username: f.username.to_owned(),
            shared_object: optional(f.shared_object),
            reply_to: optional(f.reply_to),
            text: f.text.to_owned(),
            time: f.time,
            urls: self.urls(row).map(str::to_owned).collect(),
        }
    }
}

/// The post of each row of a batch, and whether the row is its first.
type RowIds = Vec<(PostIx, bool)>;

/// Batches smaller than this are taken in on one core (a single post, a
/// test's few rows).
const PARALLEL_ROWS: usize = 4096;

/// Takes batches of rows into a dataset, in file order. The columns are
/// taken in side by side on all cores (accounts, objects, texts and URLs
/// are separate tables), and the message ids of the next batch are
/// interned meanwhile: the message ids decide which rows are first, the
/// rest depends on nothing else, so the dataset is the same as taking the
/// rows one by one. Dropping the intake takes in the last batch.
pub struct Intake<'d> {
    dataset: &'d mut Dataset,
    /// The batch whose message ids are interned and whose other columns
    /// are not yet taken in.
    pending: Option<(PostBatch, RowIds)>,
    spare_ids: RowIds,
}

impl<'d> Intake<'d> {
    pub fn new(dataset: &'d mut Dataset) -> Self {
        Self {
            dataset,
            pending: None,
            spare_ids: Vec::new(),
        }
    }

    pub fn semantics(&self) -> Semantics {
        self.dataset.semantics
    }

    /// The columns the dataset keeps: readers need not fill the others.
    pub fn columns(&self) -> Columns {
        self.dataset.columns
    }

    /// Takes `batch` in; returns a batch that is completely taken in, to be
    /// cleared and refilled.
    pub fn push(&mut self, batch: PostBatch) -> Option<PostBatch> {
        if batch.expected_rows > batch.len() && self.dataset.posts() == 0 {
            self.dataset.reserve_like(&batch);
        }
        let mut ids = std::mem::take(&mut self.spare_ids);
        let done = self.pending.take();
        self.dataset
            .take_in(Some(&batch), &mut ids, done.as_ref().map(|(b, i)| (b, i)));
        self.pending = Some((batch, ids));
        done.map(|(batch, ids)| {
            self.spare_ids = ids;
            batch
        })
    }
}

impl Drop for Intake<'_> {
    fn drop(&mut self) {
        if let Some((batch, ids)) = self.pending.take() {
            self.dataset
                .take_in(None, &mut Vec::new(), Some((&batch, &ids)));
        }
    }
}

/// The accounts of a dataset: ids, display names, distinct posts.
#[derive(Default, Debug)]
struct Accounts {
    ids: Interner,
    seen: Seen,
}

/// What is known of each account besides its id.
#[derive(Default, Debug)]
struct Seen {
    labels: Labels,
    /// Distinct posts of each account.
    posts: Vec<u32>,
}

impl Accounts {
    /// Records an account seen in a row, with its username.
    fn note(&mut self, id: &str, username: &str) -> AccountIx {
        let account = self.ids.intern(id);
        self.seen.note(account, username);
        account
    }
}

impl Seen {
    /// Records a row of `account` (an index just interned), with its
    /// username.
    fn note(&mut self, account: AccountIx, username: &str) {
        if account as usize == self.posts.len() {
            self.posts.push(0);
        }
        self.labels.note(account, username, self.posts.len());
    }

    /// Counts a distinct post of `account`.
    fn count_post(&mut self, account: AccountIx) {
        if let Some(n) = self.posts.get_mut(account as usize) {
            *n += 1;
        }
    }
}

/// The label of each account: the greatest username of its rows, as the
/// toolkit labels a node with `max(username)`. The usernames of rows are
/// kept as they come and compared when a label is first asked for (most
/// runs never ask): reading then pays an append per row, not a lookup
/// and a comparison. Folded to one per account when they outnumber the
/// accounts, so that memory stays bounded by the accounts.
#[derive(Default, Debug)]
struct Labels {
    names: Strings,
    accounts: Vec<AccountIx>,
    /// The greatest of `names` for each account, once asked for.
    greatest: std::sync::OnceLock<Vec<u32>>,
}

/// Usernames kept before folding, at least.
const LABELS_FOLDED_AT: usize = 1 << 22;

impl Labels {
    fn note(&mut self, account: AccountIx, username: &str, accounts: usize) {
        self.note_folding_at(account, username, accounts, LABELS_FOLDED_AT);
    }

    fn note_folding_at(
        &mut self,
        account: AccountIx,
        username: &str,
        accounts: usize,
        fold_at: usize,
    ) {
        // No username is the least of them: "" is the label anyway.
        if username.is_empty() {
            return;
        }
        if self.names.len() >= fold_at.max(2 * accounts) {
            let greatest = self.rows_of_greatest(accounts);
            let mut folded = Strings::default();
            let mut folded_accounts = Vec::new();
            for (account, &row) in greatest.iter().enumerate() {
                if row != NONE {
                    folded.push(self.names.get(row));
                    folded_accounts.push(account as AccountIx);
                }
            }
            self.names = folded;
            self.accounts = folded_accounts;
        }
        self.greatest = std::sync::OnceLock::new();
        self.names.push(username);
        self.accounts.push(account);
    }

    /// The row of the greatest username of each of `accounts` accounts.
    fn rows_of_greatest(&self, accounts: usize) -> Vec<u32> {
        let mut greatest = vec![NONE; accounts];
        for (row, &account) in self.accounts.iter().enumerate() {
            let row = row as u32;
            if let Some(best) = greatest.get_mut(account as usize)
                && (*best == NONE || self.names.get(row) > self.names.get(*best))
            {
                *best = row;
            }
        }
        greatest
    }

    fn get(&self, account: AccountIx, accounts: usize) -> &str {
        let greatest = self
            .greatest
            .get_or_init(|| self.rows_of_greatest(accounts));
        match greatest.get(account as usize) {
            Some(&row) if row != NONE => self.names.get(row),
            _ => "",
        }
    }
}

/// The posts of one analysis, interned and stored by column.
#[derive(Debug)]
pub struct Dataset {
    pub semantics: Semantics,
    columns: Columns,
    accounts: Accounts,
    pub(crate) message_ids: Interner,
    pub(crate) post_account: Vec<AccountIx>,
    pub(crate) post_time: Vec<f64>,
    pub(crate) post_shared: Vec<KeyIx>,
    pub(crate) post_reply: Vec<KeyIx>,
    pub(crate) post_text: Strings,
    pub(crate) objects: Interner,
    pub(crate) urls: Interner,
    pub(crate) links: Vec<Link>,
    /// Each post's first link (its first row's links are contiguous).
    first_link: Vec<u32>,
    /// The URLs of posts with repeated rows (the toolkit's semantics):
    /// a URL is linked once per post.
    repeat_urls: FxHashMap<PostIx, Vec<KeyIx>>,
    /// Rows whose message id had been seen before.
    pub duplicate_rows: u64,
}

impl Dataset {
    pub fn new(semantics: Semantics) -> Self {
        Self::with_columns(semantics, Columns::ALL)
    }

    /// A dataset that keeps only `columns` (see [`Columns`]).
    pub fn with_columns(semantics: Semantics, columns: Columns) -> Self {
        Self {
            semantics,
            columns,
            accounts: Accounts::default(),
            message_ids: Interner::default(),
            post_account: Vec::new(),
            post_time: Vec::new(),
            post_shared: Vec::new(),
            post_reply: Vec::new(),
            post_text: Strings::default(),
            objects: Interner::default(),
            urls: Interner::default(),
            links: Vec::new(),
            first_link: Vec::new(),
            repeat_urls: FxHashMap::default(),
            duplicate_rows: 0,
        }
    }

    /// Adds one post. A refused post changes nothing. (Readers of many
    /// posts fill [`PostBatch`]es and take them in with an [`Intake`].)
    pub fn push(&mut self, post: impl std::borrow::Borrow<Post>) -> Result<(), PostError> {
        let mut batch = PostBatch::default();
        batch.push_post(self.semantics, post.borrow())?;
        Intake::new(self).push(batch);
        Ok(())
    }

    /// Makes room for the rows the batch expects, in the proportions of
    /// the batch (most columns grow with the rows; accounts and objects
    /// repeat, and are left to grow).
    fn reserve_like(&mut self, batch: &PostBatch) {
        // The expected rows are an estimate from the first rows: a tenth
        // more room costs address space only, while growing a column
        // copies it. (The message ids' table is written whole when made,
        // and sized as estimated.)
        let scale = batch.expected_rows as f64 / batch.len().max(1) as f64;
        self.message_ids.reserve_like(&batch.message_id, scale);
        let scale = scale * 1.1;
        let rows = (batch.expected_rows as f64 * 1.1) as usize;
        if self.columns.texts {
            self.post_text.reserve_like(&batch.text, scale);
        }
        for column in [
            &mut self.post_shared,
            &mut self.post_reply,
            &mut self.post_account,
        ] {
            column.reserve(rows);
        }
        self.post_time.reserve(rows);
        if self.columns.links {
            let links = (batch.urls.len() as f64 * scale) as usize;
            self.links.reserve(links);
            self.first_link.reserve(rows);
        }
    }

    /// Interns the message ids of `next` into `next_ids` while taking in
    /// the other columns of `done` (whose message ids were interned before).
    fn take_in(
        &mut self,
        next: Option<&PostBatch>,
        next_ids: &mut RowIds,
        done: Option<(&PostBatch, &RowIds)>,
    ) {
        let Dataset {
            semantics,
            columns,
            accounts,
            message_ids,
            post_account,
            post_time,
            post_shared,
            post_reply,
            post_text,
            objects,
            urls,
            links,
            first_link,
            repeat_urls,
            duplicate_rows,
        } = self;
        let mut intern_next = || {
            if let Some(batch) = next {
                intern_ids(message_ids, duplicate_rows, batch, next_ids);
            }
        };
        let Some((batch, ids)) = done else {
            intern_next();
            return;
        };
        // The toolkit keeps a repeated id's account and URLs (not its
        // other columns); Vigil skips the row.
        let keep_repeats = *semantics == Semantics::Toolkit;
        let mut row_account = Vec::new();
        let links_before = links.len();
        let mut accounts_part = || {
            take_accounts(
                accounts,
                post_account,
                &mut row_account,
                batch,
                ids,
                keep_repeats,
                columns.usernames,
            );
        };
        let columns = *columns;
        let mut objects_part = || {
            take_objects(
                objects,
                post_shared,
                post_reply,
                post_time,
                batch,
                ids,
                columns,
            )
        };
        let mut text_part = || {
            if columns.texts {
                take_texts(post_text, batch, ids);
            }
        };
        let mut links_part = || {
            if !columns.links {
                return;
            }
            take_links(
                urls,
                links,
                first_link,
                repeat_urls,
                batch,
                ids,
                keep_repeats,
            )
        };
        if batch.len() >= PARALLEL_ROWS {
            rayon::join(
                || rayon::join(intern_next, accounts_part),
                || rayon::join(|| rayon::join(objects_part, text_part), links_part),
            );
        } else {
            intern_next();
            accounts_part();
            objects_part();
            text_part();
            links_part();
        }
        // A link keeps the account of the row it came from (see `take_links`).
        for link in links.iter_mut().skip(links_before) {
            link.account = row_account
                .get(link.account as usize)
                .copied()
                .unwrap_or(NONE);
        }
    }

    /// Records an account seen in a row (see [`Accounts::note`]).
    pub fn note_account(&mut self, id: &str, username: &str) -> AccountIx {
        self.accounts.note(id, username)
    }

    /// Counts a distinct post of `account` (for datasets that stream their
    /// posts instead of keeping them).
    pub fn count_post(&mut self, account: AccountIx) {
        self.accounts.seen.count_post(account);
    }

    /// Distinct posts counted, kept or streamed.
    pub fn posts_counted(&self) -> u64 {
        self.accounts.seen.posts.iter().map(|&n| u64::from(n)).sum()
    }

    /// Posts kept in memory (indices `0..posts()`).
    pub fn posts(&self) -> usize {
        self.post_account.len()
    }
    pub fn accounts(&self) -> usize {
        self.accounts.ids.len()
    }
    pub fn account_id(&self, account: AccountIx) -> &str {
        self.accounts.ids.name(account)
    }
    pub fn account_ix(&self, id: &str) -> Option<AccountIx> {
        self.accounts.ids.get(id)
    }
    pub fn username(&self, account: AccountIx) -> &str {
        self.accounts.seen.labels.get(account, self.accounts())
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
    /// The object a repost shares; `""` when the dataset does not keep
    /// objects (see [`Columns`]).
    pub fn shared_object(&self, post: PostIx) -> Option<&str> {
        let key = self.post_shared.get(post as usize).copied().unwrap_or(NONE);
        let kept = self.columns.objects;
        (key != NONE).then(|| if kept { self.objects.name(key) } else { "" })
    }
    /// The post replied to; None also when the dataset does not keep
    /// replies (see [`Columns`]).
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
        &self.accounts.seen.posts
    }
}

fn intern_ids(ids: &mut Interner, repeats: &mut u64, batch: &PostBatch, out: &mut RowIds) {
    out.clear();
    let names = (0..batch.len() as u32).map(|row| Some(batch.message_id.get(row)));
    ids.intern_each(names, |interned| {
        let (post, first) = interned.unwrap_or((NONE, false));
        if !first {
            *repeats += 1;
        }
        out.push((post, first));
    });
}

/// The account of each row (`row_account`; NONE for a skipped row) and of
/// each new post.
fn take_accounts(
    accounts: &mut Accounts,
    post_account: &mut Vec<AccountIx>,
    row_account: &mut Vec<AccountIx>,
    batch: &PostBatch,
    ids: &RowIds,
    keep_repeats: bool,
    usernames: bool,
) {
    row_account.clear();
    let Accounts {
        ids: account_ids,
        seen,
    } = accounts;
    let taken = |&(_, first): &(PostIx, bool)| first || keep_repeats;
    let names = ids
        .iter()
        .zip(0u32..)
        .map(|(id, row)| taken(id).then(|| batch.account.get(row)));
    let mut rows = ids.iter().zip(0u32..);
    account_ids.intern_each(names, |interned| {
        let (Some((&(_, first), row)), Some((account, _))) = (rows.next(), interned) else {
            row_account.push(NONE);
            return;
        };
        let username = if usernames {
            batch.username.get(row)
        } else {
            ""
        };
        seen.note(account, username);
        row_account.push(account);
        if first {
            seen.count_post(account);
            post_account.push(account);
        }
    });
}

/// Times, shared objects and replied posts of new posts; objects not kept
/// (see [`Columns`]) are only told apart from none.
fn take_objects<'b>(
    objects: &mut Interner,
    post_shared: &mut Vec<KeyIx>,
    post_reply: &mut Vec<KeyIx>,
    post_time: &mut Vec<f64>,
    batch: &'b PostBatch,
    ids: &RowIds,
    columns: Columns,
) {
    let first_rows = || {
        ids.iter()
            .zip(0u32..)
            .filter(|(id, _)| id.1)
            .map(|(_, row)| row)
    };
    let shared_before = post_shared.len();
    // Two names per new post, in this order: its shared object and the
    // post it replies to (None: empty, or not kept).
    let kept = |s: &'b str, kept: bool| (kept && !s.is_empty()).then_some(s);
    let names = first_rows().flat_map(|row| {
        [
            kept(batch.shared.get(row), columns.objects),
            kept(batch.reply.get(row), columns.replies),
        ]
    });
    let mut column = [post_shared, post_reply];
    let mut names_seen = 0usize;
    objects.intern_each(names, |interned| {
        column[names_seen % 2].push(interned.map_or(NONE, |(key, _)| key));
        names_seen += 1;
    });
    let [post_shared, _] = column;
    if !columns.objects {
        // An object not kept is only told apart from none.
        for (key, row) in post_shared[shared_before..].iter_mut().zip(first_rows()) {
            if !batch.shared.get(row).is_empty() {
                *key = SOME_OBJECT;
            }
        }
    }
    post_time
        .extend(first_rows().map(|row| batch.time.get(row as usize).copied().unwrap_or(f64::NAN)));
}

fn take_texts(post_text: &mut Strings, batch: &PostBatch, ids: &RowIds) {
    for (row, _) in ids.iter().enumerate().filter(|(_, id)| id.1) {
        post_text.push(batch.text.get(row as u32));
    }
}

/// The URLs of each kept row that is not a repost (URLs shared in reposts
/// are ignored, as by the toolkit), once per message. A new link's account
/// is its row in the batch until `take_in` puts the row's account there.
fn take_links(
    urls: &mut Interner,
    links: &mut Vec<Link>,
    first_link: &mut Vec<u32>,
    repeat_urls: &mut FxHashMap<PostIx, Vec<KeyIx>>,
    batch: &PostBatch,
    ids: &RowIds,
    keep_repeats: bool,
) {
    for (row, &(post, first)) in ids.iter().enumerate() {
        let start = links.len();
        if first {
            first_link.push(start as u32);
        }
        if !(first || keep_repeats) || !batch.shared.get(row as u32).is_empty() {
            continue;
        }
        for url in batch.urls(row) {
            if !keep_repeats && url.is_empty() {
                continue;
            }
            let url = urls.intern(url);
            let new = if first {
                // A row's own URLs may repeat.
                !links[start..].iter().any(|l| l.url == url)
            } else {
                // A repeated row (rare): the post's URLs so far, from its
                // first row's links on first need.
                let seen = repeat_urls.entry(post).or_insert_with(|| {
                    let from = first_link.get(post as usize).copied().unwrap_or(u32::MAX);
                    links
                        .get(from as usize..)
                        .unwrap_or(&[])
                        .iter()
                        .take_while(|l| l.post == post)
                        .map(|l| l.url)
                        .collect()
                });
                let new = !seen.contains(&url);
                if new {
                    seen.push(url);
                }
                new
            };
            if new {
                links.push(Link {
                    post,
                    url,
                    account: row as u32,
                    time: batch.time[row],
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_node_is_labelled_with_its_greatest_username_across_folds() {
        let mut labels = Labels::default();
        let rows = [
            (0, "bob"),
            (1, ""),
            (0, "alice"),
            (2, "zed"),
            (0, "carol"),
            (2, "amy"),
            (1, "x"),
            (0, "bobby"),
            (2, ""),
        ];
        for (i, &(account, name)) in rows.iter().enumerate() {
            // Folds whenever more than 3 names are kept (3 accounts).
            labels.note_folding_at(account, name, 3, 3);
            if i == 3 {
                assert_eq!(labels.get(0, 3), "bob");
                assert_eq!(labels.get(1, 3), "");
            }
        }
        assert_eq!(labels.names.len(), 4, "folded once, at six names");
        assert_eq!(labels.get(0, 3), "carol");
        assert_eq!(labels.get(1, 3), "x");
        assert_eq!(labels.get(2, 3), "zed");
        assert_eq!(labels.get(3, 3), "");
    }
}
