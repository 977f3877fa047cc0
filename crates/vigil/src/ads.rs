//! `vigil ads import`: ads from the Meta Ad Library API's JSON, Google's
//! political-ads bundle (creative-stats CSV) or the generic JSON Lines and
//! CSV formats, into the repository, on the server's machine (docs/ads.md).
//! `vigil ads redact-notice` and `expire-notices`: erasing notifiers'
//! identities on request or after the retention period.
use crate::StoreArgs;
use anyhow::{Context, anyhow};
use clap::{Args, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use vigil_server::ads::import::{Format, ImportOptions, read};
use vigil_server::ads::service;
use vigil_server::core::config::ConfigLayer;
use vigil_server::core::server::open_store;

#[derive(Args)]
pub struct AdsArgs {
    #[command(flatten)]
    store: StoreArgs,
    #[command(subcommand)]
    command: AdsCommand,
}

#[derive(Subcommand)]
enum AdsCommand {
    /// Import ads; bad rows are named with their line and the good ones
    /// kept (exit 1 if any was refused); importing the same file again
    /// changes nothing
    Import {
        file: PathBuf,
        /// meta (Ad Library API JSON or JSON Lines), google
        /// (google-political-ads-creative-stats.csv), jsonl (generic) or csv
        /// (generic: columns named as the filing form's fields, docs/ads.md)
        #[arg(long)]
        format: String,
        /// The account importing (a filer or regulator); its organisation holds the ads
        #[arg(long)]
        user: String,
        /// Country of dissemination for rows that give none (ISO 3166-1 alpha-2)
        #[arg(long)]
        country: Option<String>,
        /// Language for rows that give none (ISO 639-1; Google gives none)
        #[arg(long)]
        language: Option<String>,
        /// Which Spend_Range_* columns to read (Google)
        #[arg(long, default_value = "EUR")]
        currency: String,
        /// Link every ad to this election of the calendar
        #[arg(long)]
        election: Option<String>,
        /// Print the report as JSON
        #[arg(long)]
        json: bool,
    },
    /// Erase the name and email of a citizen's notice (the notifier's
    /// request); the notice stays, the log still verifies
    RedactNotice { tracking: String },
    /// Erase the identities of notices decided longer ago than the
    /// retention (the server does this every hour)
    ExpireNotices {
        /// Days after the decision [default: 90]
        #[arg(long)]
        older_than_days: Option<u64>,
    },
}

pub async fn run(args: AdsArgs) -> anyhow::Result<ExitCode> {
    let settings = args.store.settings(ConfigLayer::default())?;
    match args.command {
        AdsCommand::Import {
            file,
            format,
            user,
            country,
            language,
            currency,
            election,
            json,
        } => {
            let options = ImportOptions {
                country,
                language,
                currency: Some(currency),
                election,
                today: vigil_server::core::time::Timestamp::now()
                    .to_string()
                    .chars()
                    .take(10)
                    .collect(),
            };
            import(&settings, file, &format, &user, options, json).await
        }
        AdsCommand::RedactNotice { tracking } => {
            let (db, _) = open_store(&settings).await?;
            let result = vigil_server::ads::notices::redact(
                &db,
                &vigil_server::core::audit::Actor::CommandLine,
                &tracking,
            )
            .await;
            db.close().await;
            result?;
            println!("{tracking}: the notifier's name and email are erased");
            Ok(ExitCode::SUCCESS)
        }
        AdsCommand::ExpireNotices { older_than_days } => {
            let retention = older_than_days
                .map_or(vigil_server::ads::notices::IDENTITY_RETENTION, |days| {
                    std::time::Duration::from_secs(days.saturating_mul(24 * 3600))
                });
            let (db, _) = open_store(&settings).await?;
            let result = vigil_server::ads::notices::expire_identities(&db, retention).await;
            db.close().await;
            println!("{} notices' identities erased", result?);
            Ok(ExitCode::SUCCESS)
        }
    }
}

async fn import(
    settings: &vigil_server::core::config::Settings,
    file: PathBuf,
    format: &str,
    user: &str,
    options: ImportOptions,
    json: bool,
) -> anyhow::Result<ExitCode> {
    let format =
        Format::parse(format).ok_or_else(|| anyhow!("--format: meta, google, jsonl or csv"))?;
    let bytes = std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?;
    let rows = read(format, &bytes, &options).map_err(|e| anyhow!("{}: {e}", file.display()))?;
    let (db, _) = open_store(settings).await?;
    let principal = vigil_server::accounts::service::principal_of(&db, user).await?;
    let bar = if std::io::stderr().is_terminal() {
        ProgressBar::new(rows.len() as u64)
    } else {
        ProgressBar::hidden()
    };
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} ads {per_sec}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let result = service::import(&db, &principal, rows, &|n| bar.inc(n)).await;
    bar.finish_and_clear();
    db.close().await;
    let report = result?;
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        println!(
            "{}: {} added, {} updated, {} unchanged, {} refused",
            file.display(),
            report.added,
            report.updated,
            report.unchanged,
            report.rejected.len()
        );
        for row in report.rejected.iter().take(50) {
            eprintln!("{}:{}: {}", file.display(), row.line, row.message);
        }
        if report.rejected.len() > 50 {
            eprintln!(
                "… and {} more refused rows (--json lists all)",
                report.rejected.len() - 50
            );
        }
    }
    Ok(if report.rejected.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
