//! `vigil bench log`: throughput of writes through the transparency log,
//! inclusion-proof latency, and `vigil log verify` against `sha256sum` over
//! the same bytes. Results are written up in docs/benchmarks.md.
use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use sqlx::Row;
use std::io::Write;
use std::path::PathBuf;
use std::time::{Duration, Instant};
use vigil_server::core::config::ConfigLayer;
use vigil_server::core::db::Db;
use vigil_server::core::ledger::record::Record;
use vigil_server::core::ledger::verify::verify_store;
use vigil_server::core::ledger::{RecordWrite, insert_records, kinds};
use vigil_server::core::server::open_store;

#[derive(Args)]
pub struct BenchArgs {
    #[command(subcommand)]
    command: BenchCommand,
}

#[derive(Subcommand)]
enum BenchCommand {
    /// Append records through the log, prove inclusion, verify; compare with sha256sum
    Log {
        /// A fresh, empty directory for the SQLite store [default: a new temporary one]
        #[arg(long)]
        data_dir: Option<PathBuf>,
        /// Run on this (empty) PostgreSQL database instead
        #[arg(long)]
        database_url: Option<String>,
        /// Records written one per transaction
        #[arg(long, default_value_t = 2_000)]
        single: u64,
        /// Records written in batched transactions (the tree then has about this many leaves)
        #[arg(long, default_value_t = 1_000_000)]
        batched: u64,
        /// Records per batched transaction
        #[arg(long, default_value_t = 1_000)]
        batch: u64,
        /// Inclusion proofs to time
        #[arg(long, default_value_t = 1_000)]
        proofs: u64,
    },
    /// A synthetic national election typed twice, for bench/results (docs/benchmarks.md)
    ResultsElection {
        /// A fresh directory for the SQLite store
        #[arg(long)]
        data_dir: Option<PathBuf>,
        /// Use this (empty) PostgreSQL database instead
        #[arg(long)]
        database_url: Option<String>,
        /// Polling stations (in 20 districts)
        #[arg(long, default_value_t = 10_000)]
        stations: usize,
        /// Seconds from now until the results are released
        #[arg(long, default_value_t = 0)]
        release_in: u64,
    },
    /// Political ads: import, search latency and bulk export over a synthetic repository
    Ads {
        /// A fresh directory for the SQLite store
        #[arg(long)]
        data_dir: Option<PathBuf>,
        /// Use this (empty) PostgreSQL database instead
        #[arg(long)]
        database_url: Option<String>,
        /// Synthetic ads imported
        #[arg(long, default_value_t = 1_000_000)]
        ads: usize,
        /// Searches timed (six shapes)
        #[arg(long, default_value_t = 200)]
        queries: usize,
        /// Search and export the ads an earlier run imported into this store
        #[arg(long)]
        reuse: bool,
    },
    /// Live stream: many subscribers on loopback, publish-to-receive latency
    Stream {
        /// Concurrent Server-Sent Events subscribers
        #[arg(long, default_value_t = 2_000)]
        subscribers: usize,
        /// Objects published, one at a time
        #[arg(long, default_value_t = 20)]
        rounds: usize,
    },
}

fn bench_record(n: u64) -> Record {
    // About the size of a small real record (an audit event).
    let body = format!(
        "{{\"n\":{n},\"station\":\"PS-{:05}\",\"note\":\"benchmark record written through the transparency log\"}}",
        n % 100_000
    );
    Record::new(
        &kinds::BENCH_RECORD,
        format!("bench-{n:010}"),
        1,
        vec![body.into()],
    )
}

async fn write_batch(db: &Db, first: u64, count: u64) -> anyhow::Result<()> {
    let records: Vec<Record> = (first..first + count).map(bench_record).collect();
    let writes = RecordWrite::all(&records);
    let mut tx = db.write().await?;
    insert_records(&mut tx, &writes).await?;
    tx.commit().await?;
    Ok(())
}

fn per_second(count: u64, elapsed: Duration) -> f64 {
    count as f64 / elapsed.as_secs_f64().max(1e-9)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted.get(index).copied().unwrap_or_default()
}

pub async fn run(args: BenchArgs) -> anyhow::Result<()> {
    match args.command {
        BenchCommand::Log {
            data_dir,
            database_url,
            single,
            batched,
            batch,
            proofs,
        } => log(data_dir, database_url, (single, batched, batch, proofs)).await,
        BenchCommand::ResultsElection {
            data_dir,
            database_url,
            stations,
            release_in,
        } => crate::bench_results::run(data_dir, database_url, stations, release_in).await,
        BenchCommand::Ads {
            data_dir,
            database_url,
            ads,
            queries,
            reuse,
        } => crate::bench_ads::run(data_dir, database_url, ads, queries, reuse).await,
        BenchCommand::Stream {
            subscribers,
            rounds,
        } => crate::bench_stream::run(subscribers, rounds).await,
    }
}

async fn log(
    data_dir: Option<PathBuf>,
    database_url: Option<String>,
    (single, batched, batch, proofs): (u64, u64, u64, u64),
) -> anyhow::Result<()> {
    let temporary = std::env::temp_dir().join(format!("vigil-bench-{}", std::process::id()));
    let data_dir = data_dir.unwrap_or_else(|| temporary.clone());
    let settings = ConfigLayer {
        data_dir: Some(data_dir.clone()),
        database_url: database_url.clone(),
        ..ConfigLayer::default()
    }
    .resolve()?;
    let (db, ledger) = open_store(&settings).await?;
    if ledger.size().await? > 1 {
        bail!("the benchmark needs an empty store");
    }
    println!(
        "store: {}",
        if database_url.is_some() {
            "PostgreSQL"
        } else {
            "SQLite"
        }
    );

    let started = Instant::now();
    for n in 0..single {
        write_batch(&db, n, 1).await?;
    }
    let elapsed = started.elapsed();
    println!(
        "one record per transaction: {single} records in {:.2} s = {:.0} records/s",
        elapsed.as_secs_f64(),
        per_second(single, elapsed)
    );

    let started = Instant::now();
    let mut written = 0;
    while written < batched {
        let count = batch.min(batched - written);
        write_batch(&db, single + written, count).await?;
        written += count;
    }
    let elapsed = started.elapsed();
    println!(
        "batched ({batch} per transaction): {batched} records in {:.2} s = {:.0} records/s",
        elapsed.as_secs_f64(),
        per_second(batched, elapsed)
    );

    let signed = ledger.checkpoint().await?;
    let size = signed.checkpoint.size;
    let mut latencies = Vec::with_capacity(proofs as usize);
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    for _ in 0..proofs {
        // xorshift: a fixed, reproducible spread of leaf indexes.
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let index = state % size;
        let started = Instant::now();
        let proof = ledger.inclusion_proof(index, Some(size)).await?;
        latencies.push(started.elapsed());
        if proof.tree_size != size {
            bail!("proof against the wrong size");
        }
    }
    latencies.sort();
    println!(
        "inclusion proof at {size} leaves: p50 {:.2} ms, p99 {:.2} ms (over {proofs} proofs, from the database)",
        percentile(&latencies, 0.5).as_secs_f64() * 1e3,
        percentile(&latencies, 0.99).as_secs_f64() * 1e3
    );

    let verifier =
        vigil_server::core::server::load_or_create_signer(&settings.log_key, None)?.verifier();
    let started = Instant::now();
    let report = verify_store(&db, &verifier, None).await?;
    let verify_time = started.elapsed();
    if !report.ok() {
        bail!(
            "verification failed on an untouched store: {:?}",
            report.problems.first()
        );
    }
    println!(
        "vigil log verify: {} leaves, {} records in {:.2} s",
        report.tree_size,
        report.records_checked,
        verify_time.as_secs_f64()
    );

    // The same bytes the verifier hashes: every leaf entry and every record body.
    let dump = data_dir.join("hashed-bytes.bin");
    let mut file = std::io::BufWriter::new(std::fs::File::create(&dump)?);
    let mut bytes = 0usize;
    for row in sqlx::query("SELECT entry FROM tlog_leaves ORDER BY idx")
        .fetch_all(db.pool())
        .await?
    {
        let entry: String = row.try_get(0)?;
        bytes += entry.len();
        file.write_all(entry.as_bytes())?;
    }
    for row in sqlx::query("SELECT body FROM bench_records")
        .fetch_all(db.pool())
        .await?
    {
        let body: String = row.try_get(0)?;
        bytes += body.len();
        file.write_all(body.as_bytes())?;
    }
    file.flush()?;
    drop(file);
    let started = Instant::now();
    let status = std::process::Command::new("sha256sum")
        .arg(&dump)
        .stdout(std::process::Stdio::null())
        .status()
        .context("running sha256sum")?;
    let sha_time = started.elapsed();
    if !status.success() {
        bail!("sha256sum failed");
    }
    println!(
        "sha256sum over the same {:.1} MB: {:.2} s; verify / sha256sum = {:.1}x",
        bytes as f64 / 1e6,
        sha_time.as_secs_f64(),
        verify_time.as_secs_f64() / sha_time.as_secs_f64().max(1e-9)
    );
    db.close().await;
    if data_dir == temporary {
        let _ = std::fs::remove_dir_all(&temporary);
    } else {
        let _ = std::fs::remove_file(&dump);
    }
    Ok(())
}
