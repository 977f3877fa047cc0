//! `vigil log verify --url`: what anyone can check of a running server without
//! its database. Downloads the signed checkpoint and every entry bundle
//! (c2sp.org/tlog-tiles), rebuilds the tree and compares roots.
use super::verify::Report;
use anyhow::{Context, bail};
use vigil_tlog::{
    CompactRange, LeafEntry, LogVerifier, TILE_WIDTH, TilePath, leaf_hash, tile_width,
};

fn get(agent: &ureq::Agent, url: &str) -> anyhow::Result<Vec<u8>> {
    let mut response = agent
        .get(url)
        .call()
        .with_context(|| format!("GET {url}"))?;
    let body = response
        .body_mut()
        .with_config()
        .limit(64 * 1024 * 1024)
        .read_to_vec()
        .with_context(|| format!("reading {url}"))?;
    Ok(body)
}

/// Splits an entry bundle into its entries.
fn split_bundle(bytes: &[u8]) -> anyhow::Result<Vec<&[u8]>> {
    let mut entries = Vec::new();
    let mut rest = bytes;
    while !rest.is_empty() {
        let Some((length, tail)) = rest.split_first_chunk::<2>() else {
            bail!("entry bundle ends inside a length prefix");
        };
        let length = usize::from(u16::from_be_bytes(*length));
        if tail.len() < length {
            bail!("entry bundle ends inside an entry");
        }
        entries.push(&tail[..length]);
        rest = &tail[length..];
    }
    Ok(entries)
}

/// Calls `f` with every entry of the first `size` leaves served at `base`, in order.
fn each_entry(
    agent: &ureq::Agent,
    base: &str,
    size: u64,
    mut f: impl FnMut(&[u8]),
) -> anyhow::Result<()> {
    let mut index = 0u64;
    while let Some(width) = tile_width(None, index, size) {
        let path = TilePath {
            level: None,
            index,
            width,
        };
        let bytes = get(agent, &format!("{base}/log/tile/{}", path.to_path()))?;
        let entries = split_bundle(&bytes)?;
        if entries.len() as u64 != width {
            bail!(
                "entry bundle {} holds {} entries, expected {width}",
                path.to_path(),
                entries.len()
            );
        }
        entries.into_iter().for_each(&mut f);
        index += 1;
        if width < TILE_WIDTH {
            break;
        }
    }
    Ok(())
}

/// A served log, checked against its signed checkpoint: every leaf entry.
pub struct DownloadedLog {
    pub verifier: LogVerifier,
    pub checkpoint: vigil_tlog::SignedCheckpoint,
    /// Each leaf's entry, decoded (`None`: malformed).
    pub entries: Vec<Option<LeafEntry>>,
}

pub fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .timeout_global(Some(std::time::Duration::from_secs(60)))
        .build()
        .into()
}

/// The verifier key (given, or the server's own `/log/key`) and the served checkpoint note.
fn key_and_checkpoint(
    agent: &ureq::Agent,
    base: &str,
    key: Option<&LogVerifier>,
) -> anyhow::Result<(LogVerifier, String)> {
    let verifier = match key {
        Some(key) => key.clone(),
        None => {
            let text = String::from_utf8(get(agent, &format!("{base}/log/key"))?)?;
            LogVerifier::parse(text.trim())
                .context("the server's /log/key is not a verifier key")?
        }
    };
    let note = String::from_utf8(get(agent, &format!("{base}/log/checkpoint"))?)?;
    Ok((verifier, note))
}

/// Downloads the signed checkpoint and every entry of the log at `base`,
/// and checks that they rebuild the checkpoint's root.
pub fn download_log(base: &str, key: Option<&LogVerifier>) -> anyhow::Result<DownloadedLog> {
    let base = base.trim_end_matches('/');
    let agent = agent();
    let (verifier, note) = key_and_checkpoint(&agent, base, key)?;
    let checkpoint = verifier
        .verify(&note)
        .context("the served checkpoint does not verify with the log key")?;
    let mut range = CompactRange::new();
    let mut entries = Vec::new();
    each_entry(&agent, base, checkpoint.checkpoint.size, |entry| {
        range.push(leaf_hash(entry));
        entries.push(LeafEntry::decode(entry).ok());
    })?;
    if range.root() != checkpoint.checkpoint.root {
        bail!(
            "the served log entries do not rebuild the signed checkpoint of size {}",
            checkpoint.checkpoint.size
        );
    }
    Ok(DownloadedLog {
        verifier,
        checkpoint,
        entries,
    })
}

/// Fetches a JSON document.
pub fn get_json(base: &str, path: &str) -> anyhow::Result<serde_json::Value> {
    let url = format!("{}{path}", base.trim_end_matches('/'));
    let body = get(&agent(), &url)?;
    serde_json::from_slice(&body).with_context(|| format!("{url} did not return JSON"))
}

/// Verifies the log served at `base` (e.g. `http://host:8080`). Without a
/// `key`, the server's own `/log/key` is used, which proves only consistency.
pub fn verify_remote(
    base: &str,
    key: Option<&LogVerifier>,
    since: Option<&str>,
) -> anyhow::Result<(Report, LogVerifier)> {
    let base = base.trim_end_matches('/');
    let agent = agent();
    let (verifier, note) = key_and_checkpoint(&agent, base, key)?;
    let mut report = Report::default();
    let signed = verifier
        .verify(&note)
        .context("the served checkpoint does not verify with the log key")?;
    let since = since
        .map(|note| {
            verifier
                .verify(note)
                .context("the --since checkpoint does not verify with the log key")
        })
        .transpose()?;
    let size = signed.checkpoint.size;
    let mut range = CompactRange::new();
    let mut since_root = None;
    each_entry(&agent, base, size, |entry| {
        if let Err(e) = LeafEntry::decode(entry) {
            report.problems.push(super::verify::Problem {
                subject: format!("log leaf {}", range.size()),
                problem: format!("entry is malformed: {e}"),
            });
        }
        range.push(leaf_hash(entry));
        report.records_checked += 1;
        if since
            .as_ref()
            .is_some_and(|s| s.checkpoint.size == range.size())
        {
            since_root = Some(range.root());
        }
    })?;
    report.tree_size = range.size();
    report.root = range.root().to_hex();
    if range.root() != signed.checkpoint.root {
        report.problems.push(super::verify::Problem {
            subject: format!("checkpoint {size}"),
            problem: "its root differs from the tree rebuilt from the served entries".into(),
        });
    } else {
        report.checkpoint_size = Some(size);
        report.checkpoint_note = Some(note.clone());
    }
    if let Some(since) = since {
        let ok = if since.checkpoint.size == 0 {
            true
        } else {
            since_root == Some(since.checkpoint.root)
        };
        if !ok {
            report.problems.push(super::verify::Problem {
                subject: format!("--since checkpoint {}", since.checkpoint.size),
                problem: "the served log does not extend it: history was rewritten or truncated"
                    .into(),
            });
        }
    }
    Ok((report, verifier))
}
