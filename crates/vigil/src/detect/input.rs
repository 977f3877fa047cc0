//! Reading posts: the toolkit's positional CSV, CSV with named columns (and
//! a column mapping), JSONL; gzip transparently; streamed, with a progress
//! bar on a terminal. A malformed row is reported with its line number and
//! skipped; the rest are read.

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;

use anyhow::{Context, bail};
use indicatif::{ProgressBar, ProgressStyle};
use vigil_detect::{Dataset, Post, PostError, Semantics};

use super::external::{External, SpillError};

/// Where rows go: the in-memory dataset, or the external sort.
pub trait PostSink {
    fn semantics(&self) -> Semantics;
    /// `Ok(Some(reason))` when the row is refused; an error stops the run.
    fn accept(&mut self, post: &Post) -> Result<Option<PostError>, SpillError>;
}

impl PostSink for Dataset {
    fn semantics(&self) -> Semantics {
        self.semantics
    }
    fn accept(&mut self, post: &Post) -> Result<Option<PostError>, SpillError> {
        Ok(self.push(post).err())
    }
}

impl PostSink for External {
    fn semantics(&self) -> Semantics {
        External::semantics(self)
    }
    fn accept(&mut self, post: &Post) -> Result<Option<PostError>, SpillError> {
        External::accept(self, post)
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
    let toolkit = sink.semantics() == Semantics::Toolkit;
    for path in paths {
        let name = path.display().to_string();
        report.files.push(name.clone());
        let (reader, bar) = open(path, progress)?;
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
        let outcome = match format {
            Format::Jsonl => read_jsonl(reader, &name, mapping, sink, &mut report, toolkit),
            _ => read_csv(
                reader,
                &name,
                format == Format::Toolkit,
                mapping,
                sink,
                &mut report,
                toolkit,
            ),
        };
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

fn open(path: &Path, progress: bool) -> anyhow::Result<(Box<dyn BufRead>, ProgressBar)> {
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
    let reader: Box<dyn BufRead> = if gzip {
        Box::new(BufReader::with_capacity(
            1 << 20,
            flate2::bufread::MultiGzDecoder::new(reader),
        ))
    } else {
        Box::new(reader)
    };
    Ok((reader, bar))
}

/// Python opens text files with universal newlines: a CR or CRLF inside a
/// quoted field arrives as LF. Reproduced in the toolkit's mode.
fn push_universal_newlines(target: &mut String, field: &str, toolkit: bool) {
    if toolkit && field.contains('\r') {
        target.push_str(&field.replace("\r\n", "\n").replace('\r', "\n"));
    } else {
        target.push_str(field);
    }
}

fn split_urls_into(urls: &mut Vec<String>, field: &str, toolkit: bool) {
    if toolkit {
        // `row[-1].split(" ")`: an empty field is one empty URL.
        urls.extend(field.split(' ').map(str::to_owned));
    } else {
        urls.extend(field.split_whitespace().map(str::to_owned));
    }
}

fn split_urls(field: &str, toolkit: bool) -> Vec<String> {
    let mut urls = Vec::new();
    split_urls_into(&mut urls, field, toolkit);
    urls
}

fn read_csv(
    reader: Box<dyn BufRead>,
    name: &str,
    positional: bool,
    mapping: &Mapping,
    sink: &mut impl PostSink,
    report: &mut InputReport,
    toolkit: bool,
) -> anyhow::Result<()> {
    let mut csv = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(reader);
    let mut record = csv::StringRecord::new();
    if !csv.read_record(&mut record).context("reading the header")? {
        return Ok(());
    }
    let header: Vec<String> = record
        .iter()
        .map(|h| h.trim_start_matches('\u{feff}').to_owned())
        .collect();
    let positional = positional
        || (header.len() == 8
            && header.iter().zip(TOOLKIT_HEADER).all(|(h, t)| h == t)
            && mapping.explicit.is_empty());
    let columns: [Option<usize>; 8] = if positional {
        [
            Some(0),
            Some(1),
            Some(2),
            Some(3),
            Some(4),
            Some(5),
            Some(6),
            Some(7),
        ]
    } else {
        mapping.resolve(&header)?
    };
    // One record and one post, refilled row after row (no allocation per
    // field).
    let mut post = Post::default();
    loop {
        match csv.read_record(&mut record) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => {
                if e.is_io_error() {
                    return Err(anyhow::Error::new(e)
                        .context(format!("reading after row {}", report.rows_read)));
                }
                let line = e.position().map_or(0, |p| p.line());
                report.reject(name, line, e);
                continue;
            }
        }
        let line = record.position().map_or(0, |p| p.line());
        report.rows_read += 1;
        if positional && record.len() != 8 {
            report.reject(
                name,
                line,
                format!("{} fields where the toolkit format has 8", record.len()),
            );
            continue;
        }
        let field = |i: usize| columns[i].and_then(|c| record.get(c));
        let Some(time) = field(6).and_then(|t| parse_time(t, !toolkit)) else {
            report.reject(
                name,
                line,
                format!(
                    "the timestamp {:?} is not a number",
                    field(6).unwrap_or_default()
                ),
            );
            continue;
        };
        post.time = time;
        fill(&mut post.message_id, field(0), toolkit);
        fill(&mut post.account, field(1), toolkit);
        fill(&mut post.username, field(2), toolkit);
        fill_optional(&mut post.shared_object, field(3), toolkit);
        fill_optional(&mut post.reply_to, field(4), toolkit);
        fill(&mut post.text, field(5), toolkit);
        post.urls.clear();
        match field(7) {
            Some(u) => split_urls_into(&mut post.urls, u, toolkit),
            None if toolkit => post.urls.push(String::new()),
            None => {}
        }
        if let Some(e) = sink.accept(&post)? {
            report.reject(name, line, e);
        }
    }
    Ok(())
}

/// Refills `target` with a field (empty when absent), reusing its buffer.
fn fill(target: &mut String, field: Option<&str>, toolkit: bool) {
    target.clear();
    if let Some(value) = field {
        push_universal_newlines(target, value, toolkit);
    }
}

fn fill_optional(target: &mut Option<String>, field: Option<&str>, toolkit: bool) {
    match (field, target.as_mut()) {
        (None, _) => *target = None,
        (Some(value), Some(buffer)) => {
            buffer.clear();
            push_universal_newlines(buffer, value, toolkit);
        }
        (Some(value), None) => {
            let mut buffer = String::new();
            push_universal_newlines(&mut buffer, value, toolkit);
            *target = Some(buffer);
        }
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
    reader: Box<dyn BufRead>,
    name: &str,
    mapping: &Mapping,
    sink: &mut impl PostSink,
    report: &mut InputReport,
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
        report.rows_read += 1;
        let object = match serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(&line)
        {
            Ok(o) => o,
            Err(e) => {
                report.reject(name, line_no, format!("not a JSON object: {e}"));
                continue;
            }
        };
        let fields = match &mut fields {
            Some(fields) => fields,
            None => {
                let keys: Vec<String> = object.keys().cloned().collect();
                let resolved = mapping.resolve(&keys)?;
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
            report.reject(
                name,
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
                .map(|u| split_urls(&u, toolkit))
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
        if let Some(e) = sink.accept(&post)? {
            report.reject(name, line_no, e);
        }
    }
    Ok(())
}
