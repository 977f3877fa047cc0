//! Browser-test helpers: Debian's `chromium` and `chromium-driver` (which
//! `scripts/test` installs) driven over WebDriver with fantoccini.
//! Screenshots go to `target/screenshots/` (CI artefacts).
use fantoccini::{Client, ClientBuilder, Locator};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use vigil_server::demo::DEMO_PASSWORD;

pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
pub const CHROMIUM: &str = "/usr/bin/chromium";
pub const DESKTOP: (u32, u32) = (1280, 900);
pub const PHONE: (u32, u32) = (390, 844);

/// A chromedriver process, stopped when dropped.
pub struct Driver {
    child: Child,
    pub url: String,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn start_driver() -> Driver {
    assert!(
        std::path::Path::new(CHROMEDRIVER).exists() && std::path::Path::new(CHROMIUM).exists(),
        "browser tests need Debian's chromium and chromium-driver (scripts/test installs them: apt-get install chromium chromium-driver)"
    );
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new(CHROMEDRIVER)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "chromedriver did not start");
        std::thread::sleep(Duration::from_millis(100));
    }
    Driver {
        child,
        url: format!("http://127.0.0.1:{port}"),
    }
}

/// A new browser with its own profile (its own cookies).
pub async fn browser(driver: &Driver) -> Client {
    let mut capabilities = serde_json::Map::new();
    capabilities.insert(
        "goog:chromeOptions".into(),
        serde_json::json!({
            "binary": CHROMIUM,
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--window-size=1280,900", "--lang=en-GB"],
        }),
    );
    let client = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(capabilities)
        .connect(&driver.url)
        .await
        .unwrap();
    client.set_window_size(DESKTOP.0, DESKTOP.1).await.unwrap();
    client
}

pub fn screenshot_dir() -> std::path::PathBuf {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

pub async fn screenshot(client: &Client, name: &str) {
    let png = client.screenshot().await.unwrap();
    std::fs::write(screenshot_dir().join(format!("{name}.png")), png).unwrap();
}

/// The page at desktop and at phone width.
pub async fn screenshots(client: &Client, name: &str) {
    screenshot(client, &format!("{name}-desktop")).await;
    client.set_window_size(PHONE.0, PHONE.1).await.unwrap();
    screenshot(client, &format!("{name}-phone")).await;
    client.set_window_size(DESKTOP.0, DESKTOP.1).await.unwrap();
}

/// Polls until `check` holds, for at most 15 seconds.
pub async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + Duration::from_secs(15);
    while !check().await {
        assert!(Instant::now() < deadline, "timed out waiting for: {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Signs in through the login page and checks where the user lands.
pub async fn sign_in(client: &Client, base: &str, username: &str, password: &str, landing: &str) {
    client.goto(&format!("{base}/login")).await.unwrap();
    fill(client, "username", username).await;
    fill(client, "password", password).await;
    client
        .find(Locator::Css("form.stack button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    // The sign-in goes through redirects (to `/`, then to the user's section).
    eventually(&format!("{username} to land on {landing}"), || async {
        client
            .current_url()
            .await
            .is_ok_and(|url| url.path().starts_with(landing))
    })
    .await;
    wait_for(client, Locator::Css("h1")).await;
}

/// Signs an analyst in; they land on the live feed.
pub async fn login(client: &Client, base: &str, username: &str) {
    sign_in(client, base, username, DEMO_PASSWORD, "/feed").await;
}

pub async fn fill(client: &Client, id: &str, text: &str) {
    let field = client.find(Locator::Id(id)).await.unwrap();
    field.clear().await.unwrap();
    field.send_keys(text).await.unwrap();
}

/// The element, once it is there (at most 15 seconds).
pub async fn wait_for(client: &Client, locator: Locator<'_>) -> fantoccini::elements::Element {
    client
        .wait()
        .at_most(Duration::from_secs(15))
        .for_element(locator)
        .await
        .unwrap_or_else(|e| panic!("waiting for {locator:?}: {e}"))
}

pub async fn select(client: &Client, id: &str, value: &str) {
    client
        .find(Locator::Id(id))
        .await
        .unwrap()
        .select_by_value(value)
        .await
        .unwrap();
}

pub async fn page(client: &Client) -> String {
    client.source().await.unwrap()
}

pub async fn click(client: &Client, css: &str) {
    client
        .find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("no {css}: {e}"))
        .click()
        .await
        .unwrap();
}
