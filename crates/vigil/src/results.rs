//! `vigil results`: define an election from its JSON definition (on the
//! server's machine), and verify published results as any observer can.
use crate::StoreArgs;
use anyhow::{Context, anyhow};
use clap::{Args, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;
use vigil_server::core::audit::Actor;
use vigil_server::core::config::ConfigLayer;
use vigil_server::core::server::open_store;
use vigil_server::results::domain::ElectionDefinition;
use vigil_server::results::domain::eml::{EmlImport, definition_from_eml};
use vigil_server::results::service;
use vigil_server::results::verify::{ResultsReport, verify_results};
use vigil_tlog::LogVerifier;

#[derive(Args)]
pub struct ResultsArgs {
    #[command(flatten)]
    store: StoreArgs,
    #[command(subcommand)]
    command: ResultsCommand,
}

#[derive(Subcommand)]
enum ResultsCommand {
    /// Define an election (or replace its definition while nothing is typed)
    /// from a JSON definition, or from OASIS EML documents: 110 (the
    /// election and its polling stations; 110a and 110b in EML_NL) and 230
    /// (the candidate lists), given together (docs/results.md)
    Import {
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// The organisation running it (id or exact name)
        #[arg(long)]
        org: String,
        /// EML: the apportionment method (d_hondt, sainte_lague,
        /// modified_sainte_lague, largest_remainder_hare,
        /// largest_remainder_droop, dutch_council)
        #[arg(long, default_value = "d_hondt")]
        method: String,
        /// EML: the legal release time of the results (RFC 3339)
        #[arg(long)]
        release_at: Option<String>,
        /// EML: the seats, when the documents give no NumberOfSeats
        #[arg(long)]
        seats: Option<u32>,
        /// EML: the election's id [default: the EML ElectionIdentifier]
        #[arg(long)]
        id: Option<String>,
        /// Print the JSON definition instead of defining the election
        #[arg(long)]
        dry_run: bool,
    },
    /// Download an election's published results and the whole log, check
    /// every station's figures against the log, re-add every total and
    /// recompute the seats. Exits 0 only when everything agrees, 1 naming
    /// each discrepancy otherwise.
    Verify {
        /// The election's id
        election: String,
        /// The server, e.g. https://results.example.eu
        #[arg(long)]
        url: String,
        /// The log's published verifier key; without it the server's /log/key is trusted
        #[arg(long)]
        key: Option<String>,
        /// Print the report as JSON
        #[arg(long)]
        json: bool,
    },
}

fn invalid(files: &str, fields: &[vigil_server::core::error::FieldError]) -> anyhow::Error {
    anyhow!(
        "{files}: not a valid election definition:\n{}",
        fields
            .iter()
            .map(|f| format!("  {}: {}", f.field, f.message))
            .collect::<Vec<_>>()
            .join("\n")
    )
}

fn print_report(report: &ResultsReport, json: bool) -> anyhow::Result<ExitCode> {
    if json {
        println!("{}", serde_json::to_string_pretty(report)?);
    } else if report.ok() {
        if report.embargoed {
            println!(
                "OK: {} is embargoed; {} accepted results are committed in the log of {} leaves",
                report.election, report.stations_checked, report.tree_size
            );
        } else {
            println!(
                "OK: {}: {} station results match the log of {} leaves ({} committed before the release time); totals re-added and seats recomputed agree{}",
                report.election,
                report.stations_checked,
                report.tree_size,
                report.committed_before_release,
                report
                    .seats_per_list
                    .as_ref()
                    .map(|s| format!("; seats per list {s:?}"))
                    .unwrap_or_default()
            );
        }
    } else {
        println!(
            "FAILED: {} discrepancies in {}:",
            report.problems.len(),
            report.election
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

pub async fn run(args: ResultsArgs) -> anyhow::Result<ExitCode> {
    match args.command {
        ResultsCommand::Import {
            files,
            org,
            method,
            release_at,
            seats,
            id,
            dry_run,
        } => {
            let texts = files
                .iter()
                .map(|f| std::fs::read(f).with_context(|| format!("reading {}", f.display())))
                .collect::<anyhow::Result<Vec<_>>>()?;
            let names = files
                .iter()
                .map(|f| f.display().to_string())
                .collect::<Vec<_>>()
                .join(", ");
            let is_json = |t: &[u8]| t.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{');
            let text = match texts.as_slice() {
                [one] if is_json(one) => one.clone(),
                _ if texts.iter().any(|t| is_json(t)) => {
                    return Err(anyhow!(
                        "give one JSON definition, or EML documents only (110 and 230)"
                    ));
                }
                _ => {
                    let release_at = release_at.ok_or_else(|| {
                        anyhow!("EML does not say when results are released: give --release-at")
                    })?;
                    let documents = texts
                        .into_iter()
                        .map(|t| {
                            String::from_utf8(t)
                                .map_err(|_| anyhow!("an EML document is not UTF-8"))
                        })
                        .collect::<anyhow::Result<Vec<_>>>()?;
                    let options = EmlImport {
                        method,
                        release_at,
                        seats,
                        id,
                    };
                    let definition = definition_from_eml(&documents, &options)
                        .map_err(|fields| invalid(&names, &fields))?;
                    serde_json::to_vec_pretty(&definition)?
                }
            };
            if dry_run {
                ElectionDefinition::from_json(&text).map_err(|fields| invalid(&names, &fields))?;
                println!("{}", String::from_utf8_lossy(&text));
                return Ok(ExitCode::SUCCESS);
            }
            let settings = args.store.settings(ConfigLayer::default())?;
            let (db, _) = open_store(&settings).await?;
            let organisation = crate::admin::resolve_org(&db, &org).await?;
            let result = service::define_election(
                &db,
                &Actor::CommandLine,
                &vigil_server::core::ids::OrganisationId::from_stored(organisation),
                &text,
            )
            .await;
            db.close().await;
            let election = result.map_err(|e| match e {
                vigil_server::core::error::ApiError::Invalid { fields, .. } => {
                    invalid(&names, &fields)
                }
                other => anyhow!(other),
            })?;
            println!(
                "election {} (version {}): {} polling stations",
                election.id,
                election.version,
                election.definition.station_count()
            );
            Ok(ExitCode::SUCCESS)
        }
        ResultsCommand::Verify {
            election,
            url,
            key,
            json,
        } => {
            let key = key
                .as_deref()
                .map(LogVerifier::parse)
                .transpose()
                .context("--key is not a verifier key")?;
            let report =
                tokio::task::spawn_blocking(move || verify_results(&url, &election, key.as_ref()))
                    .await??;
            print_report(&report, json)
        }
    }
}
