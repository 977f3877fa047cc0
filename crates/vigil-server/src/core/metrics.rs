//! Prometheus text exposition: request counts and latencies per route, and
//! the size of the transparency log.
use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::time::Duration;

const BUCKETS: [f64; 10] = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0];

#[derive(Default)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

#[derive(Default)]
pub struct Metrics {
    requests: Mutex<BTreeMap<(String, String, u16), u64>>,
    latencies: Mutex<BTreeMap<(String, String), Histogram>>,
}

/// Escapes a label value (backslash, quote, newline).
fn label(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

impl Metrics {
    pub fn observe(&self, method: &str, route: &str, status: u16, elapsed: Duration) {
        if let Ok(mut requests) = self.requests.lock() {
            *requests
                .entry((method.to_string(), route.to_string(), status))
                .or_default() += 1;
        }
        if let Ok(mut latencies) = self.latencies.lock() {
            let histogram = latencies
                .entry((method.to_string(), route.to_string()))
                .or_default();
            let seconds = elapsed.as_secs_f64();
            for (i, bound) in BUCKETS.iter().enumerate() {
                if seconds <= *bound {
                    histogram.counts[i] += 1;
                }
            }
            histogram.count += 1;
            histogram.sum += seconds;
        }
    }

    pub fn render(&self, log_size: u64, checkpoint_size: u64) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "# HELP vigil_http_requests_total HTTP requests answered, by route and status."
        );
        let _ = writeln!(out, "# TYPE vigil_http_requests_total counter");
        if let Ok(requests) = self.requests.lock() {
            for ((method, route, status), count) in requests.iter() {
                let _ = writeln!(
                    out,
                    "vigil_http_requests_total{{method=\"{}\",route=\"{}\",status=\"{status}\"}} {count}",
                    label(method),
                    label(route)
                );
            }
        }
        let _ = writeln!(
            out,
            "# HELP vigil_http_request_duration_seconds Time to answer HTTP requests."
        );
        let _ = writeln!(out, "# TYPE vigil_http_request_duration_seconds histogram");
        if let Ok(latencies) = self.latencies.lock() {
            for ((method, route), histogram) in latencies.iter() {
                let labels = format!("method=\"{}\",route=\"{}\"", label(method), label(route));
                for (bound, count) in BUCKETS.iter().zip(histogram.counts) {
                    let _ = writeln!(
                        out,
                        "vigil_http_request_duration_seconds_bucket{{{labels},le=\"{bound}\"}} {count}"
                    );
                }
                let _ = writeln!(
                    out,
                    "vigil_http_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {}",
                    histogram.count
                );
                let _ = writeln!(
                    out,
                    "vigil_http_request_duration_seconds_sum{{{labels}}} {}",
                    histogram.sum
                );
                let _ = writeln!(
                    out,
                    "vigil_http_request_duration_seconds_count{{{labels}}} {}",
                    histogram.count
                );
            }
        }
        let _ = writeln!(out, "# HELP vigil_log_size Leaves in the transparency log.");
        let _ = writeln!(out, "# TYPE vigil_log_size gauge");
        let _ = writeln!(out, "vigil_log_size {log_size}");
        let _ = writeln!(
            out,
            "# HELP vigil_log_checkpoint_size Tree size of the latest signed checkpoint."
        );
        let _ = writeln!(out, "# TYPE vigil_log_checkpoint_size gauge");
        let _ = writeln!(out, "vigil_log_checkpoint_size {checkpoint_size}");
        out
    }
}
