//! `vigil detect`: coordination networks from social-media files.
//!
//! Reads posts (input.rs), computes each requested network with the engine
//! in `vigil-detect`, and writes the findings (output.rs: edge list,
//! GraphML, nodes, groups with evidence, summary; stix.rs: a STIX bundle,
//! optionally pushed to a Vigil collection).

mod external;
mod input;
mod output;
mod pieces;
mod stix;

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, bail};
use clap::{Args, Subcommand, ValueEnum};
use vigil_detect::coornet::{self, CoornetParams};
use vigil_detect::coortweet::{self, CoortweetParams};
use vigil_detect::groups::{Group, groups};
use vigil_detect::synth::{self, Profile};
use vigil_detect::{CoAction, Columns, Dataset, Edge, Network, NetworkKind, Params, Semantics};

pub use input::Format;

#[derive(Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct DetectArgs {
    #[command(subcommand)]
    command: Option<DetectCommand>,
    #[command(flatten)]
    run: RunArgs,
}

#[derive(Subcommand)]
enum DetectCommand {
    /// Write seeded synthetic posts with planted coordinated groups (toolkit CSV)
    Synth(SynthArgs),
    /// Tokenise JSON strings read line by line from stdin, as the toolkit does (for the differential test)
    #[command(hide = true)]
    Tokenize,
}

#[derive(Args)]
struct SynthArgs {
    /// light, medium or heavy (popularity skew and repost delay)
    #[arg(long, default_value = "light")]
    profile: String,
    /// Number of posts
    #[arg(long, default_value_t = 100_000)]
    posts: usize,
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Output file (stdout when absent); `.gz` compresses
    #[arg(long)]
    output: Option<PathBuf>,
    /// Also write the planted groups here (one line per group, accounts separated by spaces)
    #[arg(long)]
    planted: Option<PathBuf>,
}

/// Whose definition of coordination to follow.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Compat {
    /// Vigil: the toolkit's semantics with its quirks fixed
    None,
    /// coordination-network-toolkit 1.5.2, edge for edge, quirks included
    Toolkit,
    /// CooRTweet 2.1: undirected, minimum participation, edges above a weight quantile
    Coortweet,
    /// CooRnet: coordinated link sharing in fixed bins of an estimated interval
    Coornet,
}

#[derive(Args)]
struct RunArgs {
    /// Input files: CSV, JSONL, optionally gzip-compressed
    files: Vec<PathBuf>,
    /// Networks to compute, comma-separated: co_retweet (alias co_share), co_reply, co_tweet,
    /// co_similar_tweet, co_link, co_post [default: all but co_post]
    #[arg(long = "network", value_delimiter = ',')]
    networks: Vec<String>,
    #[arg(long, value_enum, default_value_t = Compat::None)]
    compat: Compat,
    #[arg(long, value_enum, default_value_t = Format::Auto)]
    format: Format,
    /// Column mapping for named CSV/JSONL, e.g. message_id=post_id,account=account_id,object=hashtag_id,urls=url_id,time=timestamp
    #[arg(long)]
    columns: Option<String>,
    /// Seconds either side, inclusive [default: 60; toolkit: 1; coortweet: 10]
    #[arg(long)]
    time_window: Option<f64>,
    #[arg(long, default_value_t = 2)]
    min_edge_weight: u32,
    #[arg(long, default_value_t = 0.8)]
    similarity_threshold: f64,
    /// Texts with fewer distinct tokens are similar to nothing
    #[arg(long, default_value_t = 1.0)]
    min_document_size_similarity: f64,
    /// Keep edges from an account to itself in the outputs
    #[arg(long)]
    include_self_loops: bool,
    /// Write the edge list (CSV) here; `-` for stdout (the default without --out-dir)
    #[arg(long)]
    output: Option<PathBuf>,
    /// Write every output into this directory: edges.csv, network.graphml, nodes.csv,
    /// groups.json, evidence.csv, summary.json, findings.stix.json
    #[arg(long)]
    out_dir: Option<PathBuf>,
    /// Co-actions kept as evidence per edge
    #[arg(long, default_value_t = 10)]
    evidence_limit: usize,
    /// Co-actions kept as evidence in all, per network: past it, fewer per
    /// edge (at least one), with a warning. About 50 bytes each in memory
    #[arg(long, default_value_t = EVIDENCE_BUDGET)]
    evidence_budget: usize,
    /// TLP of the STIX findings: clear, green, amber, amber+strict, red
    #[arg(long, default_value = "amber")]
    tlp: String,
    /// Send the STIX findings to this TAXII collection URL of a Vigil server
    #[arg(long)]
    push: Option<String>,
    /// API token for --push
    #[arg(long, env = "VIGIL_TOKEN", hide_env_values = true)]
    token: Option<String>,
    /// Replace account ids and names by pseudonyms in every output
    #[arg(long)]
    redact: bool,
    /// No progress bar and no summary on stderr
    #[arg(long)]
    quiet: bool,
    /// Inputs larger than memory: sort on disk instead of holding the posts
    /// (toolkit networks only; no evidence is collected)
    #[arg(long)]
    external: bool,
    /// With --external: MiB of sort buffers (peak memory is two to three times this)
    #[arg(long, default_value_t = 1024)]
    memory: usize,
    /// With --external: directory for the sort's temporary files [default: the system's]
    #[arg(long)]
    temp_dir: Option<PathBuf>,
    /// CooRTweet: minimum actions of an account
    #[arg(long, default_value_t = 2)]
    min_participation: u32,
    /// CooRTweet: edges must weigh more than this quantile of the weights
    #[arg(long, default_value_t = 0.5)]
    edge_weight_quantile: f64,
    /// CooRnet: coordination interval in seconds [default: estimated from the data]
    #[arg(long)]
    coordination_interval: Option<f64>,
    /// CooRnet: edges must weigh at least this quantile of the weights
    #[arg(long, default_value_t = 0.9)]
    percentile_edge_weight: f64,
}

pub fn run(args: DetectArgs) -> anyhow::Result<ExitCode> {
    match args.command {
        Some(DetectCommand::Synth(s)) => synth_command(s).map(|()| ExitCode::SUCCESS),
        Some(DetectCommand::Tokenize) => tokenize_command().map(|()| ExitCode::SUCCESS),
        None => detect(args.run),
    }
}

/// The findings of one network, whatever tool's definition made them.
pub struct Finding<'d> {
    pub dataset: &'d Dataset,
    pub edge_type: String,
    pub directed: bool,
    pub edges: Vec<Edge>,
    /// Evidence per edge (same order), filled only when outputs need it.
    pub evidence: Vec<Vec<CoAction>>,
    /// Connected groups of the edges, largest first (set by `finish`).
    pub groups: Vec<Group>,
    /// Actions the network was computed over (toolkit and Vigil modes).
    pub actions: Option<usize>,
    pub candidate_pairs: u64,
    pub seconds: f64,
    /// Facts of the method (thresholds, estimated interval).
    pub method: serde_json::Value,
}

impl Finding<'_> {
    /// Groups the edges and records the time spent since `started`.
    fn finish(mut self, started: Instant) -> Self {
        self.groups = groups(self.dataset.accounts(), &self.edges);
        self.seconds = started.elapsed().as_secs_f64();
        self
    }
}

fn detect(args: RunArgs) -> anyhow::Result<ExitCode> {
    // Transparent huge pages are zeroed 2 MiB at a time as the columns
    // grow; measured on the benchmark machine, that made a run's system
    // time vary from 0.05 to 1.5 s. Pages of 4 KiB cost a steady 0.2 s.
    // Best effort: a kernel that refuses leaves the run as it was.
    let _ = nix::sys::prctl::set_thp_disable(true);
    if args.files.is_empty() {
        bail!("no input files (see vigil detect --help)");
    }
    if !(0.0..=1.0).contains(&args.similarity_threshold) {
        bail!("--similarity-threshold must be between 0 and 1");
    }
    let tlp = vigil_stix::Tlp::from_name(&args.tlp)
        .with_context(|| format!("unknown TLP {:?}", args.tlp))?;
    if args.push.is_some() && args.token.is_none() {
        bail!("--push needs an API token (--token or VIGIL_TOKEN)");
    }
    let kinds = network_kinds(&args)?;
    let semantics = if args.compat == Compat::Toolkit {
        Semantics::Toolkit
    } else {
        Semantics::Clean
    };
    let window = args.time_window.unwrap_or(match args.compat {
        Compat::Toolkit => 1.0,
        Compat::Coortweet => 10.0,
        _ => 60.0,
    });
    if window.is_nan() || window < 0.0 {
        bail!("--time-window must be a number of seconds, 0 or more");
    }
    let params = Params {
        window,
        min_weight: args.min_edge_weight,
        similarity: args.similarity_threshold,
        min_tokens: args.min_document_size_similarity,
    };
    let detailed = args.out_dir.is_some() || args.push.is_some();
    // The columns the networks are computed from; outputs that show the
    // posts, and the other tools' modes, keep them all.
    let columns = if detailed || !matches!(args.compat, Compat::None | Compat::Toolkit) {
        Columns::ALL
    } else {
        kinds
            .iter()
            .fold(Columns::FEWEST, |c, kind| c.and(kind.columns()))
    };
    let started = Instant::now();
    let mapping = input::Mapping::parse(args.columns.as_deref())?;
    let (dataset, report, mut external_networks) = if args.external {
        if !matches!(args.compat, Compat::None | Compat::Toolkit) {
            bail!(
                "--external computes the toolkit's networks (the default or --compat toolkit) only"
            );
        }
        let temp = args.temp_dir.clone().unwrap_or_else(std::env::temp_dir);
        let mut sink = external::External::new(semantics, args.memory.max(1) << 20, &temp)?;
        let mut report =
            input::read_files(&args.files, args.format, &mapping, &mut sink, !args.quiet)?;
        if !args.quiet {
            eprintln!(
                "{} rows read; sorting and computing on disk",
                report.rows_read
            );
        }
        let (dataset, networks) = sink.compute(&kinds, params)?;
        report.duplicate_rows = dataset.duplicate_rows;
        (dataset, report, Some(networks.into_iter()))
    } else {
        let mut dataset = Dataset::with_columns(semantics, columns);
        let mut intake = vigil_detect::Intake::new(&mut dataset);
        let read = input::read_files(&args.files, args.format, &mapping, &mut intake, !args.quiet);
        drop(intake);
        let mut report = read?;
        report.duplicate_rows = dataset.duplicate_rows;
        (dataset, report, None)
    };
    let read_seconds = started.elapsed().as_secs_f64();
    let evidence_limit = if detailed { args.evidence_limit } else { 0 };
    let mut findings = Vec::new();
    for kind in kinds {
        let t = Instant::now();
        let finding = match args.compat {
            Compat::None | Compat::Toolkit => match external_networks.as_mut() {
                Some(computed) => {
                    let n = computed.next().context("an external network is missing")?;
                    let edges = n
                        .edges
                        .into_iter()
                        .filter(|e| args.include_self_loops || !e.is_loop())
                        .collect();
                    let mut f = toolkit_finding(&dataset, n.kind, params, edges, Vec::new());
                    f.actions = Some(n.actions as usize);
                    f.candidate_pairs = n.candidate_pairs;
                    f.method["external"] = true.into();
                    f
                }
                None => network_finding(
                    &dataset,
                    kind,
                    params,
                    args.include_self_loops,
                    Evidence {
                        per_edge: evidence_limit,
                        budget: args.evidence_budget,
                    },
                ),
            },
            Compat::Coortweet => {
                let p = CoortweetParams {
                    window,
                    min_participation: args.min_participation,
                    edge_weight: args.edge_weight_quantile,
                };
                let n = coortweet::network(&dataset, kind, p, args.evidence_limit);
                let method = serde_json::json!({
                        "definition": "CooRTweet 2.1 (detect_groups + generate_coordinated_network, subgraph 1)",
                        "time_window": window, "min_participation": p.min_participation, "edge_weight": p.edge_weight,
                        "weight_threshold": n.threshold, "edges_before_threshold": n.all_edges, "accounts_before_threshold": n.all_accounts,
                        "edges": n.edges.iter().map(|e| serde_json::json!({
                            "avg_time_delta": e.avg_time_delta, "n_content_id": e.n_content_id,
                            "n_content_id_y": e.n_content_id_y, "edge_symmetry_score": e.edge_symmetry_score,
                        })).collect::<Vec<_>>(),
                });
                let (edges, evidence) = n.edges.into_iter().map(|e| (e.edge, e.evidence)).unzip();
                Finding {
                    dataset: &dataset,
                    edge_type: kind.name().to_owned(),
                    directed: false,
                    edges,
                    evidence,
                    groups: Vec::new(),
                    actions: None,
                    candidate_pairs: n.co_shares,
                    seconds: 0.0,
                    method,
                }
            }
            Compat::Coornet => {
                let p = CoornetParams {
                    interval: args.coordination_interval,
                    percentile_edge_weight: args.percentile_edge_weight,
                    ..CoornetParams::default()
                };
                let n = coornet::network(&dataset, p, args.evidence_limit);
                let method = serde_json::json!({
                        "definition": "CooRnet (estimate_coord_interval + get_coord_shares + build_coord_graph)",
                        "coordination_interval": n.interval, "interval_estimated": n.estimated,
                        "percentile_edge_weight": p.percentile_edge_weight, "weight_threshold": n.threshold,
                        "coordinated_shares": n.coordinated_shares,
                });
                let (edges, evidence) = n.edges.into_iter().unzip();
                Finding {
                    dataset: &dataset,
                    edge_type: "coordinated_link_sharing".to_owned(),
                    directed: false,
                    edges,
                    evidence,
                    groups: Vec::new(),
                    actions: None,
                    candidate_pairs: n.coordinated_shares,
                    seconds: 0.0,
                    method,
                }
            }
        };
        findings.push(finding.finish(t));
    }
    let names = output::Names::new(&dataset, args.redact);
    if let Some(path) = &args.output {
        output::write_edges_to(path, &findings, &names)?;
    } else if args.out_dir.is_none() {
        output::write_edges_to(&PathBuf::from("-"), &findings, &names)?;
    }
    let summary = output::summary(
        &report,
        read_seconds,
        &findings,
        started.elapsed().as_secs_f64(),
    );
    // No group, no findings to describe: the STIX bundle is left out.
    let bundle = if detailed {
        stix::bundle(&findings, &names, tlp)
    } else {
        None
    };
    if let Some(dir) = &args.out_dir {
        output::write_directory(dir, &findings, &names, &summary, bundle.as_ref())?;
    }
    if !args.quiet {
        eprintln!("{}", output::summary_text(&summary));
    }
    if let Some(url) = &args.push {
        let Some(bundle) = &bundle else {
            bail!("no coordinated group was found: nothing was pushed to {url}");
        };
        stix::push(url, args.token.as_deref().unwrap_or_default(), bundle)?;
    }
    Ok(if report.damaged_files.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// The demo's detection finding: the groups planted in seeded synthetic
/// posts, found in Vigil's default mode (retweets, links, identical texts)
/// with their evidence, as the STIX bundle `--push` would send.
pub fn demo_findings() -> Option<serde_json::Value> {
    let data = synth::generate(Profile::Light, 100_000, 2029);
    let mut dataset = Dataset::new(Semantics::Clean);
    for post in data.posts {
        // Generated posts are valid; a refused one would only be left out.
        let _ = dataset.push(post);
    }
    let started = Instant::now();
    let findings: Vec<Finding> = [
        NetworkKind::CoRetweet,
        NetworkKind::CoLink,
        NetworkKind::CoTweet,
    ]
    .into_iter()
    .map(|kind| {
        let evidence = Evidence {
            per_edge: 10,
            budget: EVIDENCE_BUDGET,
        };
        network_finding(&dataset, kind, Params::default(), false, evidence).finish(started)
    })
    .collect();
    let names = output::Names::new(&dataset, false);
    stix::bundle(&findings, &names, vigil_stix::Tlp::Amber)
}

/// A finding of the toolkit's definition (Vigil's or the toolkit's
/// semantics, following the dataset's).
fn toolkit_finding(
    dataset: &Dataset,
    kind: NetworkKind,
    params: Params,
    edges: Vec<Edge>,
    evidence: Vec<Vec<CoAction>>,
) -> Finding<'_> {
    let definition = match dataset.semantics {
        Semantics::Toolkit => "coordination-network-toolkit 1.5.2",
        Semantics::Clean => "vigil",
    };
    Finding {
        dataset,
        edge_type: kind.name().to_owned(),
        directed: true,
        edges,
        evidence,
        groups: Vec::new(),
        actions: None,
        candidate_pairs: 0,
        seconds: 0.0,
        method: serde_json::json!({"definition": definition, "params": params}),
    }
}

/// Co-actions of evidence kept in all, per network, by default.
const EVIDENCE_BUDGET: usize = 20_000_000;

/// How much evidence a finding keeps.
#[derive(Clone, Copy, Debug)]
pub struct Evidence {
    /// Co-actions per edge at most (0: no evidence).
    pub per_edge: usize,
    /// Co-actions in all at most (each edge keeps at least one).
    pub budget: usize,
}

/// Computes one network in memory, with up to `evidence.per_edge`
/// co-actions of evidence per edge (fewer when the edges are many).
pub fn network_finding(
    dataset: &Dataset,
    kind: NetworkKind,
    params: Params,
    include_self_loops: bool,
    evidence: Evidence,
) -> Finding<'_> {
    let evidence_limit = evidence.per_edge;
    let mut network = Network::compute(dataset, kind, params);
    let mut edges = std::mem::take(&mut network.edges);
    if !include_self_loops {
        edges.retain(|e| !e.is_loop());
    }
    // Evidence takes about 50 bytes a co-action: tens of millions of edges
    // with ten each would not fit in memory, so the co-actions per edge are
    // cut to keep the total within a budget (at least one per edge).
    let per_edge = evidence_limit.min((evidence.budget / edges.len().max(1)).max(1));
    if per_edge < evidence_limit {
        eprintln!(
            "warning: {}: {} edges; evidence kept for {per_edge} co-action(s) per edge instead of {evidence_limit}",
            kind.name(),
            edges.len()
        );
    }
    let evidence = if evidence_limit > 0 {
        network.evidence_all(&edges, per_edge)
    } else {
        Vec::new()
    };
    let mut finding = toolkit_finding(dataset, kind, params, edges, evidence);
    finding.method["evidence_per_edge"] = per_edge.into();
    finding.actions = Some(network.actions());
    finding.candidate_pairs = network.candidate_pairs;
    finding
}

fn network_kinds(args: &RunArgs) -> anyhow::Result<Vec<NetworkKind>> {
    if args.compat == Compat::Coornet {
        return Ok(vec![NetworkKind::CoLink]);
    }
    if args.networks.is_empty() {
        return Ok(match args.compat {
            Compat::Coortweet => vec![NetworkKind::CoRetweet],
            _ => NetworkKind::ALL
                .iter()
                .copied()
                .filter(|k| *k != NetworkKind::CoPost)
                .collect(),
        });
    }
    args.networks
        .iter()
        .map(|n| NetworkKind::parse(n.trim()).with_context(|| format!("unknown network {n:?}: co_retweet, co_reply, co_tweet, co_similar_tweet, co_link, co_post")))
        .collect()
}

fn synth_command(args: SynthArgs) -> anyhow::Result<()> {
    let profile = Profile::parse(&args.profile)
        .with_context(|| format!("unknown profile {:?}: light, medium, heavy", args.profile))?;
    let data = synth::generate(profile, args.posts, args.seed);
    let sink: Box<dyn Write> = match &args.output {
        Some(path) => {
            let file = std::fs::File::create(path)
                .with_context(|| format!("cannot create {}", path.display()))?;
            if path.extension().is_some_and(|e| e == "gz") {
                Box::new(flate2::write::GzEncoder::new(
                    file,
                    flate2::Compression::fast(),
                ))
            } else {
                Box::new(file)
            }
        }
        None => Box::new(std::io::stdout().lock()),
    };
    output::write_toolkit_csv(sink, &data.posts)?;
    if let Some(path) = &args.planted {
        let lines: Vec<String> = data.planted.iter().map(|g| g.join(" ")).collect();
        std::fs::write(path, lines.join("\n") + "\n")
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(())
}

fn tokenize_command() -> anyhow::Result<()> {
    use std::io::BufRead;
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    for line in std::io::stdin().lock().lines() {
        let text: String =
            serde_json::from_str(&line?).context("each line must be a JSON string")?;
        let answer = serde_json::json!({
            "tokens": vigil_detect::text::toolkit_tokens(&text),
            "normalised": vigil_detect::text::normalise(&text),
        });
        writeln!(out, "{answer}")?;
    }
    Ok(())
}
