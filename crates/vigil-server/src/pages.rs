//! Server-rendered pages. Every value is escaped on output.

/// Escapes text for HTML element content and quoted attributes.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// The landing page: what this server is and where to look.
pub fn home(origin: &str, verifier_key: &str, log_size: u64) -> String {
    format!(
        r#"<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Vigil</title></head>
<body>
<main>
<h1>Vigil</h1>
<p>An open election-integrity platform. Everything stored here goes through a transparency log that anyone can verify.</p>
<h2>Public records</h2>
<ul>
<li><a href="/results">Election results</a>: every polling station's figures, the seats, and how to check them against the log</li>
<li><a href="/ads">Political ads</a>: who sponsored and paid for each ad, how much, whom it targeted; downloads and compliance checks</li>
<li><a href="/login">Sign in</a> (contact points, analysts, typists, coordinators, filers, regulators)</li>
</ul>
<h2>Transparency log</h2>
<dl>
<dt>Origin</dt><dd><code>{origin}</code></dd>
<dt>Verifier key</dt><dd><code>{key}</code></dd>
<dt>Leaves</dt><dd>{log_size}</dd>
</dl>
<p>Signed checkpoint: <a href="/log/checkpoint">/log/checkpoint</a> · tiles under <code>/log/tile/</code> · state: <a href="/api/log">/api/log</a></p>
<p>Verify it yourself: <code>vigil log verify --url THIS-SERVER --key '{key}'</code></p>
<h2>For developers</h2>
<p>API description: <a href="/api/openapi.json">/api/openapi.json</a> · health: <a href="/healthz">/healthz</a>, <a href="/readyz">/readyz</a> · <a href="/metrics">/metrics</a></p>
</main>
</body>
</html>
"#,
        origin = escape(origin),
        key = escape(verifier_key),
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn escapes_markup() {
        assert_eq!(
            super::escape("<a href=\"x\">&'"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
    }
}
