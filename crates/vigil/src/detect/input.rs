//! Reading posts: the toolkit's positional CSV, CSV with named columns (and
//! a column mapping), JSONL; gzip transparently; streamed, with a progress
//! bar on a terminal. A malformed row is reported with its line number and
//! skipped; the rest are read.

use std::borrow::Cow;
use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::sync::mpsc;

use anyhow::{Context, bail};
use indicatif::{ProgressBar, ProgressStyle};
use vigil_detect::{Columns, Intake, Post, PostBatch, PostFields, Semantics};

use super::external::{External, SpillError};
use super::pieces;

/// Where batches of checked rows go: the in-memory dataset, or the
/// external sort.
pub trait PostSink {
    fn semantics(&self) -> Semantics;
    /// The columns the sink keeps (see [`Columns`]).
    fn columns(&self) -> Columns;
    /// Takes a batch; returns a batch to clear and refill (this one or an
    /// earlier one). An error stops the run.
    fn accept(&mut self, batch: PostBatch) -> Result<Option<PostBatch>, SpillError>;
}

impl PostSink for Intake<'_> {
    fn semantics(&self) -> Semantics {
        Intake::semantics(self)
    }
    fn columns(&self) -> Columns {
        Intake::columns(self)
    }
    fn accept(&mut self, batch: PostBatch) -> Result<Option<PostBatch>, SpillError> {
        Ok(self.push(batch))
    }
}

impl PostSink for External {
    fn semantics(&self) -> Semantics {
        External::semantics(self)
    }
    fn columns(&self) -> Columns {
        Columns::ALL
    }
    fn accept(&mut self, batch: PostBatch) -> Result<Option<PostBatch>, SpillError> {
        for row in 0..batch.len() {
            self.push(batch.post(row))?;
        }
        Ok(Some(batch))
    }
}

/// How a file's rows are laid out.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Guess from the name and the header: JSONL for `.jsonl`/`.ndjson`,
    /// otherwise CSV, positional when the header is the toolkit's.
    Auto,
    /// coordination-network-toolkit CSV: `message_id, user_id, username,
    /// repost_id, reply_id, message, timestamp, urls`, by position.
    Toolkit,
    /// CSV with a header; columns found by name (see `--columns`).
    Csv,
    /// One JSON object per line; fields found by name (see `--columns`).
    Jsonl,
}

/// The fields of a post, and the column names that fill them when no
/// mapping is given (the toolkit's, CooRTweet's and common ones).
const FIELDS: &[(&str, &[&str])] = &[
    (
        "message_id",
        &["message_id", "content_id", "post_id", "id", "tweet_id"],
    ),
    (
        "account",
        &["user_id", "account_id", "author_id", "account"],
    ),
    ("username", &["username", "screen_name", "account_name"]),
    (
        "object",
        &[
            "repost_id",
            "object_id",
            "retweet_id",
            "retweeted_id",
            "shared_object",
        ],
    ),
    ("reply_to", &["reply_id", "in_reply_to", "reply_to"]),
    ("text", &["message", "text", "content"]),
    (
        "time",
        &["timestamp", "timestamp_share", "time", "created_at"],
    ),
    ("urls", &["urls", "url", "url_id", "expanded_url"]),
];

const TOOLKIT_HEADER: [&str; 8] = [
    "message_id",
    "user_id",
    "username",
    "repost_id",
    "reply_id",
    "message",
    "timestamp",
    "urls",
];

/// A column mapping that does not fit a file: nothing is read from it.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct MappingError(String);

/// Column names per field, from `--columns field=column,…` and the defaults.
#[derive(Clone, Debug, Default)]
pub struct Mapping {
    explicit: Vec<(String, String)>,
}

impl Mapping {
    pub fn parse(spec: Option<&str>) -> anyhow::Result<Self> {
        let mut explicit = Vec::new();
        for part in spec
            .unwrap_or("")
            .split(',')
            .map(str::trim)
            .filter(|p| !p.is_empty())
        {
            let Some((field, column)) = part.split_once('=') else {
                bail!("--columns: {part:?} is not field=column");
            };
            let field = match field.trim() {
                "user_id" | "account_id" => "account",
                "repost_id" | "object_id" => "object",
                "reply_id" => "reply_to",
                "message" => "text",
                "timestamp" | "timestamp_share" => "time",
                "url" => "urls",
                other => other,
            };
            if !FIELDS.iter().any(|(f, _)| *f == field) {
                let known: Vec<&str> = FIELDS.iter().map(|(f, _)| *f).collect();
                bail!(
                    "--columns: unknown field {field:?}; the fields are {}",
                    known.join(", ")
                );
            }
            explicit.push((field.to_owned(), column.trim().to_owned()));
        }
        Ok(Self { explicit })
    }

    /// For each field, the index of its column in `header` (None when
    /// absent). A mapped column missing from the header is an error.
    fn resolve(&self, header: &[String]) -> anyhow::Result<[Option<usize>; 8]> {
        let mut out = [None; 8];
        for (i, (field, defaults)) in FIELDS.iter().enumerate() {
            if let Some((_, column)) = self.explicit.iter().find(|(f, _)| f == field) {
                let Some(ix) = header.iter().position(|h| h == column) else {
                    return Err(MappingError(format!(
                        "the column {column:?} mapped to {field} is not in the file; its columns are: {}",
                        header.join(", ")
                    ))
                    .into());
                };
                out[i] = Some(ix);
            } else {
                out[i] = defaults
                    .iter()
                    .find_map(|d| header.iter().position(|h| h == d));
            }
        }
        for (i, required) in [(0, "message_id"), (1, "account"), (6, "time")] {
            if out[i].is_none() {
                return Err(MappingError(format!(
                    "no column for {required}: name it with --columns {required}=COLUMN (the file's columns are: {})",
                    header.join(", ")
                ))
                .into());
            }
        }
        Ok(out)
    }
}

/// What went wrong with the input, kept for the summary.
#[derive(Debug, Default, serde::Serialize)]
pub struct InputReport {
    pub files: Vec<String>,
    pub rows_read: u64,
    pub rows_rejected: u64,
    pub duplicate_rows: u64,
    /// The first rejected rows, `file:line: reason`.
    pub rejected_examples: Vec<String>,
    /// Files that ended early (truncated or corrupt); rows before the damage were kept.
    pub damaged_files: Vec<String>,
}

const EXAMPLES: usize = 20;

impl InputReport {
    fn reject(&mut self, file: &str, line: u64, reason: impl std::fmt::Display) {
        self.rows_rejected += 1;
        let message = format!("{file}:{line}: {reason}");
        if self.rejected_examples.len() < EXAMPLES {
            eprintln!("warning: {message}; row skipped");
            self.rejected_examples.push(message);
        }
    }
}

/// Python's `float()`: surrounding whitespace, `_` between digits,
/// `inf`/`nan` in any case. ISO 8601 times are accepted outside the
/// toolkit's compatibility mode.
pub fn parse_time(text: &str, iso: bool) -> Option<f64> {
    // The common case, whole seconds since the epoch: digits only, exact
    // as an f64 below 2^53 (what `float()` gives).
    if (1..=15).contains(&text.len())
        && text.bytes().all(|b| b.is_ascii_digit())
        && let Ok(seconds) = text.parse::<u64>()
    {
        return Some(seconds as f64);
    }
    let t = text.trim_matches(vigil_detect::text::is_python_space);
    let cleaned: std::borrow::Cow<str> = if t.contains('_') {
        let chars: Vec<char> = t.chars().collect();
        let ok = chars.iter().enumerate().all(|(i, &c)| {
            c != '_'
                || (i > 0
                    && i + 1 < chars.len()
                    && chars[i - 1].is_ascii_digit()
                    && chars[i + 1].is_ascii_digit())
        });
        if !ok {
            return None;
        }
        t.replace('_', "").into()
    } else {
        t.into()
    };
    if let Ok(v) = cleaned.parse::<f64>() {
        return Some(v);
    }
    if iso {
        let parsed =
            time::OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339).ok()?;
        return Some(parsed.unix_timestamp_nanos() as f64 / 1e9);
    }
    None
}

/// Reads every file into `sink`.
pub fn read_files(
    paths: &[std::path::PathBuf],
    format: Format,
    mapping: &Mapping,
    sink: &mut impl PostSink,
    progress: bool,
) -> anyhow::Result<InputReport> {
    let mut report = InputReport::default();
    for path in paths {
        let name = path.display().to_string();
        report.files.push(name.clone());
        let (reader, bar, size) = open(path, progress)?;
        let format = match format {
            Format::Auto => {
                let lower = name.to_ascii_lowercase();
                let lower = lower.trim_end_matches(".gz");
                if lower.ends_with(".jsonl") || lower.ends_with(".ndjson") {
                    Format::Jsonl
                } else {
                    Format::Csv
                }
            }
            other => other,
        };
        let source = Source {
            reader,
            size,
            name: &name,
            format,
            piece_bytes: PIECE_BYTES,
        };
        let outcome = read_file(source, mapping, sink, &mut report);
        bar.finish_and_clear();
        if let Err(damage) = outcome {
            if damage.is::<MappingError>() || damage.is::<SpillError>() {
                return Err(damage.context(name));
            }
            eprintln!("error: {name}: {damage:#}; the rows read before it are kept");
            report.damaged_files.push(format!("{name}: {damage:#}"));
        }
    }
    if report.rows_rejected > EXAMPLES as u64 {
        eprintln!(
            "warning: {} rows skipped in all (first {EXAMPLES} shown)",
            report.rows_rejected
        );
    }
    Ok(report)
}

/// Counts the compressed bytes read, for the progress bar.
struct Counted<R> {
    inner: R,
    bar: ProgressBar,
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.bar.inc(n as u64);
        Ok(n)
    }
}

/// The file's reader, its progress bar, and its size when it is not
/// compressed.
fn open(
    path: &Path,
    progress: bool,
) -> anyhow::Result<(Box<dyn BufRead + Send>, ProgressBar, Option<u64>)> {
    let file = File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let size = file.metadata().map(|m| m.len()).unwrap_or(0);
    let bar = if progress && std::io::IsTerminal::is_terminal(&std::io::stderr()) {
        let bar = ProgressBar::new(size);
        if let Ok(style) =
            ProgressStyle::with_template("{msg} [{bar:30}] {bytes}/{total_bytes} ({eta})")
        {
            bar.set_style(style.progress_chars("=> "));
        }
        bar.set_message(format!("reading {}", path.display()));
        bar
    } else {
        ProgressBar::hidden()
    };
    let mut reader = BufReader::with_capacity(
        1 << 20,
        Counted {
            inner: file,
            bar: bar.clone(),
        },
    );
    let gzip = reader
        .fill_buf()
        .map(|b| b.starts_with(&[0x1f, 0x8b]))
        .unwrap_or(false);
    let reader: Box<dyn BufRead + Send> = if gzip {
        Box::new(BufReader::with_capacity(
            1 << 20,
            flate2::bufread::MultiGzDecoder::new(reader),
        ))
    } else {
        Box::new(reader)
    };
    Ok((reader, bar, (!gzip).then_some(size)))
}

/// An opened file.
struct Source<'n> {
    reader: Box<dyn BufRead + Send>,
    /// Its size when known (not compressed).
    size: Option<u64>,
    name: &'n str,
    format: Format,
    /// Bytes per piece of a CSV file (see [`read_csv`]).
    piece_bytes: usize,
}

/// Rows in file order, parsed on threads of their own: parsers fill
/// batches while the sink takes in the batch before. Rows refused by the
/// sink's semantics are reported with their lines and left out.
fn read_file(
    Source {
        reader,
        size,
        name,
        format,
        piece_bytes,
    }: Source<'_>,
    mapping: &Mapping,
    sink: &mut impl PostSink,
    report: &mut InputReport,
) -> anyhow::Result<()> {
    let semantics = sink.semantics();
    let keep = sink.columns();
    let (full, batches) = mpsc::sync_channel::<PostBatch>(2);
    let (spare, spares) = mpsc::channel::<PostBatch>();
    std::thread::scope(|scope| {
        let parser = scope.spawn(move || {
            let mut rows = Rows {
                semantics,
                keep,
                name,
                report,
                batch: PostBatch::default(),
                full,
                spares,
                size,
                bytes_read: 0,
                batches_sent: 0,
            };
            let toolkit = semantics == Semantics::Toolkit;
            let outcome = match format {
                Format::Jsonl => read_jsonl(reader, mapping, &mut rows, toolkit),
                _ => read_csv(
                    reader,
                    format == Format::Toolkit,
                    mapping,
                    &mut rows,
                    toolkit,
                    piece_bytes,
                ),
            };
            // The rows before damage to the file are kept.
            let flushed = rows.send();
            outcome.and(flushed)
        });
        let mut taken = Ok(());
        for batch in batches.iter() {
            match sink.accept(batch) {
                Ok(Some(mut done)) => {
                    done.clear();
                    // The parser may have finished: the batch is not needed.
                    let _ = spare.send(done);
                }
                Ok(None) => {}
                Err(e) => {
                    taken = Err(e);
                    break;
                }
            }
        }
        // Dropping the receiver stops a parser still sending.
        drop(batches);
        let parsed = parser
            .join()
            .unwrap_or_else(|_| Err(anyhow::anyhow!("the parser of {name} failed")));
        taken?;
        parsed
    })
}

/// The rows of one file, batched for the sink.
struct Rows<'r> {
    semantics: Semantics,
    /// The columns the sink keeps: the others are not copied.
    keep: Columns,
    name: &'r str,
    report: &'r mut InputReport,
    batch: PostBatch,
    full: mpsc::SyncSender<PostBatch>,
    spares: mpsc::Receiver<PostBatch>,
    /// Bytes of the file (when known) and bytes read so far: the first
    /// batch tells the sink how many rows to expect.
    size: Option<u64>,
    bytes_read: u64,
    batches_sent: u64,
}

/// Rows per batch: large enough that taking a batch in on all cores is
/// worth it, small enough that two of them are a few MB.
const BATCH_ROWS: usize = 16_384;

/// The sink stopped taking rows (its error is the one reported).
#[derive(Debug, thiserror::Error)]
#[error("the rows were no longer taken")]
struct Stopped;

impl Rows<'_> {
    fn reject(&mut self, line: u64, reason: impl std::fmt::Display) {
        self.report.reject(self.name, line, reason);
    }

    fn push<'a>(
        &mut self,
        line: u64,
        fields: PostFields<'_>,
        urls: impl IntoIterator<Item = &'a str>,
    ) -> anyhow::Result<()> {
        if let Err(e) = self.batch.push(self.semantics, fields, urls) {
            self.reject(line, e);
        } else if self.batch.len() >= BATCH_ROWS {
            self.send()?;
        }
        Ok(())
    }

    /// Hands the batch to the sink and starts another.
    fn send(&mut self) -> anyhow::Result<()> {
        if self.batch.is_empty() {
            return Ok(());
        }
        let next = self.spares.try_recv().unwrap_or_default();
        let batch = std::mem::replace(&mut self.batch, next);
        self.hand_over(batch)
    }

    /// Hands a batch to the sink. The first tells the sink how many rows
    /// to expect.
    fn hand_over(&mut self, mut batch: PostBatch) -> anyhow::Result<()> {
        if self.batches_sent == 0
            && let Some(size) = self.size
            && self.bytes_read > 0
        {
            let rows = batch.len() as f64 * size as f64 / self.bytes_read as f64;
            batch.expected_rows = rows as usize;
        }
        self.batches_sent += 1;
        self.full.send(batch).map_err(|_| Stopped)?;
        Ok(())
    }
}

/// Leaves out the fields whose columns the sink does not keep (usernames,
/// replied posts, texts, URLs): they are then neither copied nor split.
fn skip_unkept<T>(fields: &mut [Option<T>; 8], keep: Columns) {
    let fields_kept = [
        (2, keep.usernames),
        (4, keep.replies),
        (5, keep.texts),
        (7, keep.links),
    ];
    for (field, kept) in fields_kept {
        if !kept && let Some(f) = fields.get_mut(field) {
            *f = None;
        }
    }
}

/// Python opens text files with universal newlines: a CR or CRLF inside a
/// quoted field arrives as LF. Reproduced in the toolkit's mode (`crlf`:
/// whether the row holds a CR at all, found once per row).
fn universal_newlines(field: &str, crlf: bool) -> Cow<'_, str> {
    if crlf && field.contains('\r') {
        Cow::Owned(field.replace("\r\n", "\n").replace('\r', "\n"))
    } else {
        Cow::Borrowed(field)
    }
}

/// The URLs of a column: the toolkit's `row[-1].split(" ")` (an empty or
/// missing column is one empty URL), otherwise the words of the column.
fn split_urls(field: Option<&str>, toolkit: bool) -> impl Iterator<Item = &str> {
    let separator = move |c: char| if toolkit { c == ' ' } else { c.is_whitespace() };
    field
        .unwrap_or("")
        .split(separator)
        .filter(move |u| toolkit || !u.is_empty())
}

/// Bytes per piece of a CSV file parsed on its own (see [`pieces`]).
const PIECE_BYTES: usize = 1 << 20;

/// Reads a CSV file: one thread cuts it into pieces that start at a
/// record, parsers on all cores turn the pieces into batches of posts,
/// and this thread hands the batches to the sink in file order, with the
/// rows rejected, so that everything is as if read row by row.
fn read_csv(
    reader: Box<dyn BufRead + Send>,
    positional: bool,
    mapping: &Mapping,
    rows: &mut Rows<'_>,
    toolkit: bool,
    piece_bytes: usize,
) -> anyhow::Result<()> {
    let parsers = std::thread::available_parallelism().map_or(2, |n| n.get().clamp(1, 8));
    let (header_sent, header) = mpsc::sync_channel::<Vec<u8>>(1);
    let (piece_senders, piece_receivers): (Vec<_>, Vec<_>) = (0..parsers)
        .map(|_| mpsc::sync_channel::<Vec<u8>>(2))
        .unzip();
    let (free_buffer, free_buffers) = mpsc::sync_channel::<Vec<u8>>(2 * parsers + 2);
    let spare_batches = &std::sync::Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        let cutter = scope.spawn(move || {
            let mut reader = reader;
            let mut next = 0;
            pieces::cut(
                &mut reader,
                piece_bytes,
                &mut || {
                    let room = 2 * piece_bytes;
                    free_buffers
                        .try_recv()
                        .unwrap_or_else(|_| Vec::with_capacity(room))
                },
                &mut |piece| {
                    let to = match next {
                        0 => header_sent.send(piece),
                        n => piece_senders[(n - 1) % parsers].send(piece),
                    };
                    next += 1;
                    to.is_ok()
                },
            )
        });
        let Ok(header) = header.recv() else {
            // No header: an empty file, or one damaged before its first row.
            return match cutter.join() {
                Ok(cut) => cut.context("reading the header"),
                Err(_) => bail!("the reader of the file failed"),
            };
        };
        let shape = CsvShape::new(&header, positional, mapping, rows, toolkit)?;
        rows.bytes_read = header.len() as u64;
        let mut line = Lines::default().at(&header, header.len());
        let (done_senders, done): (Vec<_>, Vec<_>) = (0..parsers)
            .map(|_| mpsc::sync_channel::<(Vec<u8>, Parsed)>(2))
            .unzip();
        for (pieces, parsed) in piece_receivers.into_iter().zip(done_senders) {
            scope.spawn(move || {
                for piece in pieces.iter() {
                    let out = shape.parse(&piece, spare_batches);
                    if parsed.send((piece, out)).is_err() {
                        return;
                    }
                }
            });
        }
        // Pieces go to the parsers in turn, and come back in the same turn.
        for parser in (0..parsers).cycle() {
            let Some(Ok((mut piece, parsed))) = done.get(parser).map(mpsc::Receiver::recv) else {
                break;
            };
            for (at, reason) in parsed.rejects {
                rows.reject(line + at - 1, reason);
            }
            line += parsed.lines;
            rows.report.rows_read += parsed.rows;
            rows.bytes_read += piece.len() as u64;
            piece.clear();
            let _ = free_buffer.try_send(piece);
            for batch in parsed.batches {
                rows.hand_over(batch)?;
                if let Ok(mut spare) = spare_batches.lock() {
                    spare.extend(rows.spares.try_iter());
                }
            }
        }
        drop(done);
        match cutter.join() {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(anyhow::Error::new(e)
                .context(format!("reading after row {}", rows.report.rows_read))),
            Err(_) => bail!("the reader of the file failed"),
        }
    })
}

/// Line numbers of records, from their offsets in increasing order.
struct Lines {
    offset: usize,
    line: u64,
}

impl Default for Lines {
    fn default() -> Self {
        Self { offset: 0, line: 1 }
    }
}

impl Lines {
    /// The line (from 1) of byte `at` of `bytes`.
    fn at(&mut self, bytes: &[u8], at: usize) -> u64 {
        let at = at.clamp(self.offset, bytes.len());
        self.line += memchr::memchr_iter(b'\n', &bytes[self.offset..at]).count() as u64;
        self.offset = at;
        self.line
    }
}

/// How the records of a CSV file are read, as its header says.
#[derive(Clone, Copy)]
struct CsvShape {
    semantics: Semantics,
    /// The record's field for each post field (None: not read).
    columns: [Option<usize>; 8],
    /// The toolkit's eight columns by position.
    positional: bool,
    toolkit: bool,
}

/// The posts of one piece of a CSV file, and its rows rejected (line
/// within the piece, reason).
#[derive(Default)]
struct Parsed {
    batches: Vec<PostBatch>,
    rejects: Vec<(u64, String)>,
    rows: u64,
    /// Newlines in the piece.
    lines: u64,
}

impl CsvShape {
    fn new(
        header: &[u8],
        positional: bool,
        mapping: &Mapping,
        rows: &Rows<'_>,
        toolkit: bool,
    ) -> anyhow::Result<Self> {
        let mut csv = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(header);
        let mut record = csv::StringRecord::new();
        csv.read_record(&mut record).context("reading the header")?;
        let header: Vec<String> = record
            .iter()
            .map(|h| h.trim_start_matches('\u{feff}').to_owned())
            .collect();
        let positional = positional
            || (header.len() == 8
                && header.iter().zip(TOOLKIT_HEADER).all(|(h, t)| h == t)
                && mapping.explicit.is_empty());
        let mut columns: [Option<usize>; 8] = if positional {
            std::array::from_fn(Some)
        } else {
            mapping.resolve(&header)?
        };
        skip_unkept(&mut columns, rows.keep);
        Ok(Self {
            semantics: rows.semantics,
            columns,
            positional,
            toolkit,
        })
    }

    /// The posts of a piece that starts at a record.
    fn parse(&self, piece: &[u8], spare: &std::sync::Mutex<Vec<PostBatch>>) -> Parsed {
        let new_batch = || {
            spare
                .lock()
                .ok()
                .and_then(|mut s| s.pop())
                .unwrap_or_default()
        };
        let mut out = Parsed::default();
        let mut batch = new_batch();
        // The piece is checked as UTF-8 once as a whole (a row of posts is
        // mostly text, often not ASCII): its fields are then read in place.
        let piece = Piece {
            bytes: piece,
            text: simdutf8::basic::from_utf8(piece).ok(),
            has_cr: self.toolkit && memchr::memchr(b'\r', piece).is_some(),
        };
        // One record, refilled row after row (no allocation per field).
        let mut record = pieces::Record::default();
        let mut records = pieces::Records::new(piece.bytes);
        let mut lines = Lines::default();
        while records.next_into(&mut record) {
            out.rows += 1;
            if let Err(reason) = self.take(&record, &piece, &mut batch) {
                out.rejects
                    .push((lines.at(piece.bytes, record.start()), reason));
            } else if batch.len() >= BATCH_ROWS {
                out.batches.push(std::mem::replace(&mut batch, new_batch()));
            }
        }
        if !batch.is_empty() {
            out.batches.push(batch);
        }
        out.lines = lines.at(piece.bytes, piece.bytes.len()) - 1;
        out
    }

    /// Adds a record to the batch, or says why not.
    fn take(
        &self,
        record: &pieces::Record,
        piece: &Piece<'_>,
        batch: &mut PostBatch,
    ) -> Result<(), String> {
        if self.positional && record.len() != 8 {
            return Err(format!(
                "{} fields where the toolkit format has 8",
                record.len()
            ));
        }
        let Some(fields) = Utf8Row::new(record, piece) else {
            return Err("the row is not valid UTF-8".to_owned());
        };
        let field = |i: usize| self.columns[i].and_then(|c| fields.get(c));
        let Some(time) = field(6).and_then(|t| parse_time(t, !self.toolkit)) else {
            return Err(format!(
                "the timestamp {:?} is not a number",
                field(6).unwrap_or_default()
            ));
        };
        let crlf = piece.has_cr && record.raw(piece.bytes).contains(&b'\r');
        let text = |i: usize| universal_newlines(field(i).unwrap_or(""), crlf);
        let (message_id, account, username) = (text(0), text(1), text(2));
        let (shared_object, reply_to, message) = (text(3), text(4), text(5));
        let fields = PostFields {
            message_id: &message_id,
            account: &account,
            username: &username,
            shared_object: &shared_object,
            reply_to: &reply_to,
            text: &message,
            time,
        };
        batch
            .push(self.semantics, fields, split_urls(field(7), self.toolkit))
            .map_err(|e| e.to_string())
    }
}

/// A piece of a CSV file being parsed.
struct Piece<'p> {
    bytes: &'p [u8],
    /// The piece as text, when it is all UTF-8.
    text: Option<&'p str>,
    /// Whether a CR is anywhere in it (toolkit mode only).
    has_cr: bool,
}

/// The fields of a CSV row, as text.
struct Utf8Row<'r> {
    record: &'r pieces::Record,
    piece: &'r Piece<'r>,
}

impl<'r> Utf8Row<'r> {
    /// None when a field is not UTF-8 (as the csv crate's string records
    /// have it; a field boundary inside a character makes both fields
    /// invalid). In a piece that is all UTF-8, every field is: fields
    /// begin and end at ASCII bytes.
    fn new(record: &'r pieces::Record, piece: &'r Piece<'r>) -> Option<Self> {
        let row = Self { record, piece };
        (0..record.len())
            .all(|i| row.get(i).is_some())
            .then_some(row)
    }

    fn get(&self, i: usize) -> Option<&'r str> {
        if let Some(text) = self.piece.text
            && let Some(span) = self.record.piece_span(i)
        {
            return text.get(span);
        }
        let bytes = self.record.field(self.piece.bytes, i)?;
        simdutf8::basic::from_utf8(bytes).ok()
    }
}

fn json_text(value: &serde_json::Value) -> Option<String> {
    match value {
        serde_json::Value::Null => None,
        serde_json::Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

fn read_jsonl(
    reader: Box<dyn BufRead + Send>,
    mapping: &Mapping,
    rows: &mut Rows<'_>,
    toolkit: bool,
) -> anyhow::Result<()> {
    // The first object's keys fix, for each field, the key that fills it.
    let mut fields: Option<[Option<String>; 8]> = None;
    for (i, line) in reader.lines().enumerate() {
        let line_no = i as u64 + 1;
        let line = line.with_context(|| format!("reading line {line_no}"))?;
        if line.trim().is_empty() {
            continue;
        }
        rows.report.rows_read += 1;
        let object = match serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(&line)
        {
            Ok(o) => o,
            Err(e) => {
                rows.reject(line_no, format!("not a JSON object: {e}"));
                continue;
            }
        };
        let fields = match &mut fields {
            Some(fields) => fields,
            None => {
                let keys: Vec<String> = object.keys().cloned().collect();
                let mut resolved = mapping.resolve(&keys)?;
                skip_unkept(&mut resolved, rows.keep);
                fields.insert(resolved.map(|c| c.and_then(|c| keys.get(c).cloned())))
            }
        };
        let get = |f: usize| fields[f].as_ref().and_then(|k| object.get(k));
        let text = |f: usize| get(f).and_then(json_text);
        let time = match get(6) {
            Some(serde_json::Value::Number(n)) => n.as_f64(),
            Some(serde_json::Value::String(s)) => parse_time(s, !toolkit),
            _ => None,
        };
        let Some(time) = time else {
            rows.reject(
                line_no,
                format!(
                    "the timestamp {:?} is not a number",
                    get(6).map(ToString::to_string).unwrap_or_default()
                ),
            );
            continue;
        };
        let urls = match get(7) {
            Some(serde_json::Value::Array(items)) => items.iter().filter_map(json_text).collect(),
            Some(v) => json_text(v)
                .map(|u| split_urls(Some(&u), toolkit).map(str::to_owned).collect())
                .unwrap_or_default(),
            None => Vec::new(),
        };
        let post = Post {
            message_id: text(0).unwrap_or_default(),
            account: text(1).unwrap_or_default(),
            username: text(2).unwrap_or_default(),
            shared_object: text(3),
            reply_to: text(4),
            text: text(5).unwrap_or_default(),
            time,
            urls,
        };
        rows.push(line_no, post.fields(), post.urls.iter().map(String::as_str))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Keeps every post it is given.
    struct Collect(Vec<Post>);

    impl PostSink for Collect {
        fn semantics(&self) -> Semantics {
            Semantics::Toolkit
        }
        fn columns(&self) -> Columns {
            Columns::ALL
        }
        fn accept(&mut self, batch: PostBatch) -> Result<Option<PostBatch>, SpillError> {
            self.0.extend((0..batch.len()).map(|row| batch.post(row)));
            Ok(Some(batch))
        }
    }

    fn read_in_pieces(bytes: &[u8], piece_bytes: usize) -> (Vec<Post>, InputReport) {
        let mut sink = Collect(Vec::new());
        let mut report = InputReport::default();
        let source = Source {
            reader: Box::new(std::io::Cursor::new(bytes.to_vec())),
            size: Some(bytes.len() as u64),
            name: "posts.csv",
            format: Format::Auto,
            piece_bytes,
        };
        read_file(source, &Mapping::default(), &mut sink, &mut report).unwrap();
        (sink.0, report)
    }

    #[test]
    fn a_file_read_in_pieces_is_the_file_read_whole() {
        // Texts with quoted newlines, CRs and quotes, CRLF line ends, and
        // bad rows, whose lines are counted as the rows are written.
        let mut csv =
            b"message_id,user_id,username,repost_id,reply_id,message,timestamp,urls\n".to_vec();
        let mut line = 2;
        let mut bad_lines = Vec::new();
        for i in 0..600u32 {
            let text = match i % 6 {
                0 => "\"two\nlines, one \"\"quote\"\"\"".to_owned(),
                1 => "\"cr\r\nin a text\"".to_owned(),
                2 => format!("plain {i}"),
                _ => String::new(),
            };
            let time = if i % 97 == 0 {
                "soon".to_owned()
            } else {
                (1000 + i).to_string()
            };
            let row = match i % 131 {
                7 => format!("m{i},u{},,,,{text},{time}", i % 9),
                _ => format!(
                    "m{i},u{},N{},r{},,{text},{time},http://x/{}",
                    i % 9,
                    i % 9,
                    i % 4,
                    i % 5
                ),
            };
            if i % 97 == 0 || i % 131 == 7 {
                bad_lines.push(line);
            }
            csv.extend_from_slice(row.as_bytes());
            csv.extend_from_slice(if i % 4 == 0 { b"\r\n" } else { b"\n" });
            line += 1 + row.matches('\n').count() as u64;
        }
        let (whole, whole_report) = read_in_pieces(&csv, 1 << 20);
        assert_eq!(whole.len(), 600 - bad_lines.len());
        let lines: Vec<u64> = whole_report
            .rejected_examples
            .iter()
            .map(|e| e.split(':').nth(1).unwrap().parse().unwrap())
            .collect();
        assert_eq!(lines, bad_lines);
        for piece_bytes in [1, 50, 4096] {
            let (posts, report) = read_in_pieces(&csv, piece_bytes);
            assert_eq!(posts, whole, "{piece_bytes}");
            assert_eq!(report.rejected_examples, whole_report.rejected_examples);
            assert_eq!(
                (report.rows_read, report.rows_rejected),
                (whole_report.rows_read, whole_report.rows_rejected)
            );
        }
    }

    #[test]
    fn times_are_read_as_python_float_reads_them() {
        for (text, seconds) in [
            ("1777593603", 1777593603.0),
            ("007", 7.0),
            ("999999999999999", 999_999_999_999_999.0),
            ("9999999999999999999", 1e19),
            (" 12\t", 12.0),
            ("1_000", 1000.0),
            ("12.5", 12.5),
            ("-3", -3.0),
            ("1e3", 1000.0),
        ] {
            assert_eq!(parse_time(text, false), Some(seconds), "{text:?}");
        }
        assert!(parse_time("NaN", false).is_some_and(f64::is_nan));
        for bad in ["", "1__0", "_1", "soon", "2026-12-03T12:00:00Z"] {
            assert_eq!(parse_time(bad, false), None, "{bad:?}");
        }
        assert_eq!(
            parse_time("2026-12-03T12:00:00Z", true),
            Some(1_796_299_200.0)
        );
    }
}
