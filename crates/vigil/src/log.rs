//! `vigil log`: verify the transparency log (offline against a store, or
//! online against a server) and sign checkpoints.
use crate::StoreArgs;
use anyhow::{Context, anyhow};
use clap::{Args, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;
use vigil_server::core::config::ConfigLayer;
use vigil_server::core::db::Db;
use vigil_server::core::ledger::remote::verify_remote;
use vigil_server::core::ledger::verify::{Report, verify_store};
use vigil_server::core::server::{load_or_create_signer, open_store};
use vigil_tlog::{LogSigner, LogVerifier};

#[derive(Args)]
pub struct LogArgs {
    #[command(flatten)]
    store: StoreArgs,
    #[command(subcommand)]
    command: LogCommand,
}

#[derive(Subcommand)]
enum LogCommand {
    /// Recompute every leaf from the stored records, rebuild the tree and
    /// check it against the signed checkpoints. Exits 0 when all is well,
    /// 1 naming each problem otherwise.
    Verify {
        /// Verify a running server over HTTP instead (e.g. https://vigil.example.eu)
        #[arg(long)]
        url: Option<String>,
        /// The log's published verifier key (name+keyid+key). Without it, the
        /// key file in the data directory (offline) or the server's /log/key
        /// (online) is trusted.
        #[arg(long)]
        key: Option<String>,
        /// A signed checkpoint saved earlier, which the log must still extend
        #[arg(long)]
        since: Option<PathBuf>,
        /// Save the checkpoint that verified, for a later --since
        #[arg(long)]
        save_checkpoint: Option<PathBuf>,
        /// Print the report as JSON
        #[arg(long)]
        json: bool,
    },
    /// Sign a checkpoint of the current tree now and print it
    Checkpoint,
}

fn print_report(report: &Report, json: bool) -> anyhow::Result<ExitCode> {
    if json {
        println!("{}", serde_json::to_string_pretty(report)?);
    } else if report.ok() {
        println!(
            "OK: {} leaves, root {}; checkpoint of size {} verified; {} records checked{}",
            report.tree_size,
            report.root,
            report
                .checkpoint_size
                .map_or_else(|| "-".to_string(), |s| s.to_string()),
            report.records_checked,
            if report.redacted_records > 0 {
                format!(" ({} with personal data redacted)", report.redacted_records)
            } else {
                String::new()
            }
        );
    } else {
        println!(
            "FAILED: {} problem(s) in a log of {} leaves:",
            report.problems.len(),
            report.tree_size
        );
        for problem in &report.problems {
            println!("  {}: {}", problem.subject, problem.problem);
        }
    }
    Ok(if report.ok() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

pub async fn run(args: LogArgs) -> anyhow::Result<ExitCode> {
    match args.command {
        LogCommand::Verify {
            url,
            key,
            since,
            save_checkpoint,
            json,
        } => {
            let key = key
                .as_deref()
                .map(LogVerifier::parse)
                .transpose()
                .context("--key is not a verifier key")?;
            let since = since
                .as_ref()
                .map(|path| {
                    std::fs::read_to_string(path)
                        .with_context(|| format!("reading {}", path.display()))
                })
                .transpose()?;
            let (report, verifier) = match url {
                Some(url) => {
                    let since = since.clone();
                    tokio::task::spawn_blocking(move || {
                        verify_remote(&url, key.as_ref(), since.as_deref())
                    })
                    .await??
                }
                None => {
                    let settings = args.store.settings(ConfigLayer::default())?;
                    if settings.database_url.starts_with("sqlite:")
                        && !settings.data_dir.join("vigil.db").exists()
                    {
                        return Err(anyhow!("no Vigil store in {}", settings.data_dir.display()));
                    }
                    let verifier = match key {
                        Some(key) => key,
                        None => {
                            let text =
                                std::fs::read_to_string(&settings.log_key).with_context(|| {
                                    format!(
                                        "reading the log key {} (or pass --key)",
                                        settings.log_key.display()
                                    )
                                })?;
                            LogSigner::from_private_key(&text)?.verifier()
                        }
                    };
                    let db = Db::connect(&settings.database_url).await?;
                    let report = verify_store(&db, &verifier, since.as_deref()).await?;
                    db.close().await;
                    (report, verifier)
                }
            };
            if let Some(path) = save_checkpoint
                && report.ok()
                && let Some(note) = &report.checkpoint_note
            {
                verifier.verify(note)?;
                std::fs::write(&path, note)
                    .with_context(|| format!("writing {}", path.display()))?;
            }
            print_report(&report, json)
        }
        LogCommand::Checkpoint => {
            let settings = args.store.settings(ConfigLayer::default())?;
            load_or_create_signer(&settings.log_key, None)?;
            let (db, ledger) = open_store(&settings).await?;
            let signed = ledger.checkpoint().await?;
            print!("{}", signed.note);
            db.close().await;
            Ok(ExitCode::SUCCESS)
        }
    }
}
