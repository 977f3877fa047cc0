//! `vigil`: the server, administration, log verification and benchmarks.
#![forbid(unsafe_code)]

mod admin;
mod ads;
mod bench;
mod bench_ads;
mod bench_results;
mod bench_stream;
mod detect;
mod log;
mod results;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;
use vigil_server::core::config::{ConfigLayer, Settings};
use vigil_server::core::server::{Server, backend_name};

/// mimalloc: the server and the verifier allocate from many threads at once,
/// where glibc's allocator spent a fifth of the verifier's time.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(name = "vigil", version, about = "Vigil: an open election-integrity platform", long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the web service (JSON APIs, the transparency log, web pages)
    Serve(ServeArgs),
    /// Administer organisations, users, API tokens and the audit trail
    Admin(admin::AdminArgs),
    /// Verify or sign the transparency log
    Log(log::LogArgs),
    /// Print the OpenAPI 3.1 description of the HTTP API
    Openapi,
    /// Measure throughput and latency (see docs/benchmarks.md)
    Bench(bench::BenchArgs),
    /// Find coordinated accounts in social-media data (see docs/detection.md)
    Detect(detect::DetectArgs),
    /// Define elections and verify published results (see docs/results.md)
    Results(results::ResultsArgs),
    /// Import political ads into the repository (see docs/ads.md)
    Ads(ads::AdsArgs),
}

/// Where the store is: shared by every command that opens it. Flags win over
/// environment variables, which win over the configuration file.
#[derive(Args, Clone, Default)]
pub struct StoreArgs {
    /// TOML configuration file
    #[arg(long, env = "VIGIL_CONFIG", global = true)]
    config: Option<PathBuf>,
    /// Directory for the SQLite database and the log key [default: ./vigil-data]
    #[arg(long, env = "VIGIL_DATA_DIR", global = true)]
    data_dir: Option<PathBuf>,
    /// Use PostgreSQL instead, e.g. postgres://vigil@db/vigil
    #[arg(long, env = "VIGIL_DATABASE_URL", global = true)]
    database_url: Option<String>,
    /// The log's signing key file [default: DATA_DIR/log-signing.key]
    #[arg(long, env = "VIGIL_LOG_KEY", global = true)]
    log_key: Option<PathBuf>,
}

impl StoreArgs {
    fn layer(&self) -> ConfigLayer {
        ConfigLayer {
            data_dir: self.data_dir.clone(),
            database_url: self.database_url.clone(),
            log_key: self.log_key.clone(),
            ..ConfigLayer::default()
        }
    }

    /// Flags and environment over the configuration file.
    pub fn settings(&self, extra: ConfigLayer) -> anyhow::Result<Settings> {
        let file = match &self.config {
            Some(path) => ConfigLayer::from_file(path)?,
            None => ConfigLayer::default(),
        };
        Ok(extra.over(self.layer()).over(file).resolve()?)
    }
}

#[derive(Args)]
struct ServeArgs {
    #[command(flatten)]
    store: StoreArgs,
    /// Address to listen on [default: 127.0.0.1:8080]
    #[arg(long, env = "VIGIL_LISTEN")]
    listen: Option<String>,
    /// Origin line of the log (e.g. vigil.example-emb.eu/log), used when its key is first created
    #[arg(long, env = "VIGIL_LOG_ORIGIN")]
    log_origin: Option<String>,
    /// Seconds between signed checkpoints [default: 10]
    #[arg(long, env = "VIGIL_CHECKPOINT_INTERVAL")]
    checkpoint_interval: Option<u64>,
    /// Public URL; https:// makes session cookies Secure
    #[arg(long, env = "VIGIL_PUBLIC_URL")]
    public_url: Option<String>,
    /// Largest request body accepted, in bytes [default: 10485760]
    #[arg(long, env = "VIGIL_MAX_BODY_BYTES")]
    max_body_bytes: Option<usize>,
    /// Days a decided citizen's notice about an ad keeps the notifier's
    /// name and email [default: 90]
    #[arg(long, env = "VIGIL_NOTICE_RETENTION_DAYS")]
    notice_retention_days: Option<u64>,
    /// Seed demonstration organisations and users into an empty store
    #[arg(long)]
    demo: bool,
}

async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let settings = args.store.settings(ConfigLayer {
        listen: args.listen,
        log_origin: args.log_origin,
        checkpoint_interval_seconds: args.checkpoint_interval,
        public_url: args.public_url,
        max_body_bytes: args.max_body_bytes,
        notice_retention_days: args.notice_retention_days,
        ..ConfigLayer::default()
    })?;
    let server = Server::bind(settings).await?;
    let address = server.local_addr()?;
    let state = server.state.clone();
    println!(
        "Vigil is serving on http://{address}/ ({})",
        backend_name(&state.db)
    );
    println!(
        "Transparency log {} ({} leaves)",
        state.ledger.origin(),
        state.ledger.size().await?
    );
    println!("Verifier key: {}", state.ledger.verifier_key());
    if args.demo {
        let seeded = vigil_server::demo::seed(&state.db)
            .await
            .context("seeding the demo data")?;
        if seeded && let Some(bundle) = detect::demo_findings() {
            let objects = bundle["objects"].as_array().cloned().unwrap_or_default();
            vigil_server::demo::add_detection_findings(&state.db, objects)
                .await
                .context("adding the demo detection finding")?;
        }
        println!(
            "Demo logins (password {:?}){}:",
            vigil_server::demo::DEMO_PASSWORD,
            if seeded { "" } else { ", seeded earlier" }
        );
        for login in vigil_server::demo::LOGINS {
            println!(
                "  {:<12} {:<14} {}",
                login.username, login.roles, login.organisation
            );
        }
        let password = vigil_server::demo::DEMO_PASSWORD;
        println!("Try:");
        println!("  curl -u admin:{password} http://{address}/api/me");
        println!(
            "  curl -u ee.analyst:{password} -H 'Accept: application/taxii+json;version=2.1' http://{address}/taxii2/eu-ras/collections/"
        );
        println!("  curl -u ee.analyst:{password} http://{address}/api/alerts");
        println!("  curl -N -u pt.analyst:{password} http://{address}/api/stream   (live events)");
        println!("  (Rapid Alert System: docs/rapid-alert-system.md)");
        println!(
            "  Results: http://{address}/results/vila-demo-2029 (embargoed for 45 s after the first start, then published; docs/results.md)"
        );
        println!(
            "  vigil results verify vila-demo-2029 --url http://{address}   (re-add, recompute the seats, check every figure against the log)"
        );
        println!(
            "  Political ads: http://{address}/ads and http://{address}/ads/elections/vila-demo-2029 (spending against limits, findings; docs/ads.md)"
        );
        println!(
            "  (Detection: the report \"Coordinated behaviour: …\" in ee2029-fimi was pushed by `vigil detect`; docs/detection.md)"
        );
    }
    server.run().await
}

fn init_tracing() {
    use tracing_subscriber::EnvFilter;
    let filter =
        EnvFilter::try_from_env("VIGIL_LOG").unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn"));
    let json = std::env::var("VIGIL_LOG_FORMAT").is_ok_and(|f| f == "json");
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if json {
        builder.json().init();
    } else {
        builder.init();
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_tracing();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(2);
        }
    };
    let result: anyhow::Result<ExitCode> = runtime.block_on(async {
        match cli.command {
            Command::Serve(args) => serve(args).await.map(|()| ExitCode::SUCCESS),
            Command::Admin(args) => admin::run(args).await.map(|()| ExitCode::SUCCESS),
            Command::Log(args) => log::run(args).await,
            Command::Openapi => {
                print!("{}", vigil_server::core::server::openapi_text());
                Ok(ExitCode::SUCCESS)
            }
            Command::Bench(args) => bench::run(args).await.map(|()| ExitCode::SUCCESS),
            // CPU-bound work on rayon's threads; the runtime just waits.
            Command::Detect(args) => detect::run(args),
            Command::Results(args) => results::run(args).await,
            Command::Ads(args) => ads::run(args).await,
        }
    });
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}
