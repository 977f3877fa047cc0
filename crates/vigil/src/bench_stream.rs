//! `vigil bench stream`: a server on a fresh SQLite store with the demo
//! data, many Server-Sent Events subscribers on loopback, and objects
//! published one at a time over TAXII; reports how long each took to reach
//! every subscriber (publish request sent → event read by the subscriber).
use anyhow::{Context, bail};
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::sync::mpsc;
use vigil_server::accounts::service as accounts;
use vigil_server::accounts::store as accounts_store;
use vigil_server::alerts::domain::CommunityId;
use vigil_server::alerts::store as alerts_store;
use vigil_server::core::audit::Actor;
use vigil_server::core::config::ConfigLayer;
use vigil_server::core::server::Server;

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted.get(index).copied().unwrap_or_default()
}

/// One subscriber: reads its stream and reports each benchmark round it sees.
async fn subscriber(
    address: std::net::SocketAddr,
    token: String,
    ready: mpsc::UnboundedSender<()>,
    seen: mpsc::UnboundedSender<(usize, Instant)>,
) -> anyhow::Result<()> {
    let mut stream = tokio::net::TcpStream::connect(address).await?;
    stream
        .write_all(format!("GET /api/stream HTTP/1.1\r\nHost: bench\r\nAuthorization: Bearer {token}\r\nAccept: text/event-stream\r\n\r\n").as_bytes())
        .await?;
    let mut lines = BufReader::new(stream).lines();
    let status = lines.next_line().await?.unwrap_or_default();
    if !status.contains(" 200 ") {
        bail!("the stream answered {status}");
    }
    while let Some(line) = lines.next_line().await? {
        if line.is_empty() {
            break;
        }
    }
    let _ = ready.send(());
    while let Some(line) = lines.next_line().await? {
        if let Some(rest) = line.split("\"name\":\"bench round ").nth(1) {
            let round: usize = rest
                .split('"')
                .next()
                .and_then(|n| n.parse().ok())
                .unwrap_or(usize::MAX);
            let _ = seen.send((round, Instant::now()));
        }
    }
    Ok(())
}

pub async fn run(subscribers: usize, rounds: usize) -> anyhow::Result<()> {
    let data_dir = std::env::temp_dir().join(format!("vigil-bench-stream-{}", std::process::id()));
    let settings = ConfigLayer {
        data_dir: Some(data_dir.clone()),
        listen: Some("127.0.0.1:0".into()),
        ..ConfigLayer::default()
    }
    .resolve()?;
    let server = Server::bind(settings).await?;
    let address = server.local_addr()?;
    let db = server.state.db.clone();
    vigil_server::demo::seed(&db)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let user = accounts_store::user_by_username(db.pool(), "ee.analyst")
        .await?
        .context("demo user")?
        .user;
    let (_, token) = accounts::create_token(&db, &Actor::System, user.id.as_str(), "bench", None)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let community = CommunityId::from_stored("eu-ras".into());
    let collection = alerts_store::collections_of(db.pool(), &community)
        .await?
        .into_iter()
        .find(|c| c.alias.as_deref() == Some("ee2029-fimi"))
        .context("demo collection")?;
    let identity = accounts_store::organisation(db.pool(), user.organisation_id.as_str())
        .await?
        .context("organisation")?
        .stix_identity;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let serving = tokio::spawn(server.run_until(async {
        let _ = stopped.await;
    }));

    let (ready_tx, mut ready_rx) = mpsc::unbounded_channel();
    let (seen_tx, mut seen_rx) = mpsc::unbounded_channel();
    let connecting = Instant::now();
    for _ in 0..subscribers {
        let (token, ready, seen) = (token.clone(), ready_tx.clone(), seen_tx.clone());
        tokio::spawn(async move {
            if let Err(e) = subscriber(address, token, ready, seen).await {
                eprintln!("subscriber: {e:#}");
            }
        });
    }
    for _ in 0..subscribers {
        tokio::time::timeout(Duration::from_secs(120), ready_rx.recv())
            .await
            .context("subscribers connecting")?;
    }
    println!(
        "{subscribers} subscribers connected in {:.2} s",
        connecting.elapsed().as_secs_f64()
    );

    let url = format!(
        "http://{address}/taxii2/eu-ras/collections/{}/objects/",
        collection.id.as_str()
    );
    let mut latencies = Vec::with_capacity(subscribers * rounds);
    let mut missed = 0;
    for round in 0..rounds {
        let object = serde_json::json!({"objects": [{
            "type": "campaign", "spec_version": "2.1", "id": format!("campaign--{}", uuid::Uuid::new_v4()),
            "created": "2029-04-05T00:00:00.000Z", "modified": "2029-04-05T00:00:00.000Z",
            "created_by_ref": identity, "name": format!("bench round {round}"),
            "object_marking_refs": ["marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"],
        }]});
        let (url, token) = (url.clone(), token.clone());
        let sent = Instant::now();
        tokio::task::spawn_blocking(move || {
            ureq::post(&url)
                .header("authorization", &format!("Bearer {token}"))
                .header("accept", "application/taxii+json;version=2.1")
                .header("content-type", "application/taxii+json;version=2.1")
                .send(object.to_string())
        })
        .await??;
        let mut received = 0;
        let deadline = sent + Duration::from_secs(10);
        while received < subscribers {
            match tokio::time::timeout_at(deadline.into(), seen_rx.recv()).await {
                Ok(Some((r, at))) if r == round => {
                    latencies.push(at - sent);
                    received += 1;
                }
                Ok(Some(_)) => {}
                _ => break,
            }
        }
        missed += subscribers - received;
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    latencies.sort();
    println!(
        "publish-to-receive over {} deliveries ({rounds} objects × {subscribers} subscribers): p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms; missed {missed}",
        latencies.len(),
        percentile(&latencies, 0.5).as_secs_f64() * 1e3,
        percentile(&latencies, 0.99).as_secs_f64() * 1e3,
        latencies.last().copied().unwrap_or_default().as_secs_f64() * 1e3,
    );
    let _ = stop.send(());
    serving.await??;
    let _ = std::fs::remove_dir_all(&data_dir);
    if missed > 0 {
        bail!("{missed} deliveries did not arrive within 10 s");
    }
    Ok(())
}
