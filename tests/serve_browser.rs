//! End-to-end: the pharmacist's page in headless Chromium (Debian's
//! `chromium` and `chromedriver`, driven over WebDriver with fantoccini).
//! Enters a list with clarithromycin, proposes quinine with the keyboard
//! alone, and checks that the major interaction is shown; then asks "which
//! cramp drug?". Screenshots and the printed page (PDF) go to target/tmp/
//! for review.
//!
//! Without chromedriver the test says so and passes, unless
//! CRAMPCHECK_REQUIRE_BROWSER is set (as `.ci/run` does after installing it).

mod serve_support;

use fantoccini::key::Key;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;
use serve_support::TestServer;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const CHROMIUM: &str = "/usr/bin/chromium";

/// chromedriver, stopped when dropped.
struct Driver {
    child: Child,
    port: u16,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or_else(|e| panic!("no free port: {e}"))
}

fn start_driver() -> Driver {
    let port = free_port();
    let child = Command::new(CHROMEDRIVER)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("chromedriver: {e}"));
    let driver = Driver { child, port };
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "chromedriver did not start");
        std::thread::sleep(Duration::from_millis(100));
    }
    driver
}

async fn connect(port: u16, profile: &Path) -> Client {
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".to_owned(),
        json!({
            "binary": CHROMIUM,
            "args": [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--no-first-run",
                "--disable-dev-shm-usage", "--window-size=1280,2200",
                format!("--user-data-dir={}", profile.display()),
            ],
        }),
    );
    ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(caps)
        .connect(&format!("http://127.0.0.1:{port}"))
        .await
        .unwrap_or_else(|e| panic!("WebDriver session: {e}"))
}

fn screenshot_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(name)
}

async fn active_id(client: &Client) -> String {
    let active = client
        .active_element()
        .await
        .unwrap_or_else(|e| panic!("active element: {e}"));
    active.attr("id").await.ok().flatten().unwrap_or_default()
}

async fn drive(client: &Client, base: &str) {
    client
        .goto(&format!("{base}/"))
        .await
        .unwrap_or_else(|e| panic!("goto: {e}"));
    // The KB pick list loads before we type.
    client
        .wait()
        .for_element(Locator::Css("#therapies option[value='quinine']"))
        .await
        .unwrap_or_else(|e| panic!("KB did not load: {e}"));
    // Keyboard only: Tab from the top reaches the skip link, then the list.
    let body = client
        .find(Locator::Css("body"))
        .await
        .unwrap_or_else(|e| panic!("body: {e}"));
    body.send_keys(&Key::Tab.to_string())
        .await
        .unwrap_or_else(|e| panic!("tab: {e}"));
    let mut reached = Vec::new();
    for _ in 0..3 {
        reached.push(active_id(client).await);
        let active = client
            .active_element()
            .await
            .unwrap_or_else(|e| panic!("active: {e}"));
        if reached.last().is_some_and(|id| id == "meds") {
            break;
        }
        active
            .send_keys(&Key::Tab.to_string())
            .await
            .unwrap_or_else(|e| panic!("tab: {e}"));
    }
    assert_eq!(
        reached.last().map(String::as_str),
        Some("meds"),
        "focus order: {reached:?}"
    );
    let meds = client
        .active_element()
        .await
        .unwrap_or_else(|e| panic!("active: {e}"));
    // A line starting with `#` is a medication too (a numbered list), never
    // left out unseen.
    meds.send_keys(
        "clarithromycin 500 mg bid\nfurosemid 40 mg daily\n#3 warfarin 5 mg\nzzqqxy 10 mg",
    )
    .await
    .unwrap_or_else(|e| panic!("type meds: {e}"));
    let propose = client
        .find(Locator::Id("propose"))
        .await
        .unwrap_or_else(|e| panic!("propose: {e}"));
    propose
        .send_keys(&format!("quinine{}", Key::Enter))
        .await
        .unwrap_or_else(|e| panic!("type propose: {e}"));
    let major = client
        .wait()
        .at_most(Duration::from_secs(20))
        .for_element(Locator::Css(".finding.sev-major"))
        .await
        .unwrap_or_else(|e| panic!("no major finding shown: {e}"));
    let findings = client
        .find_all(Locator::Css(".finding.sev-major"))
        .await
        .unwrap_or_else(|e| panic!("findings: {e}"));
    let mut texts = Vec::new();
    for f in &findings {
        texts.push(f.text().await.unwrap_or_default());
    }
    let interaction = texts
        .iter()
        .find(|t| t.contains("quinine + clarithromycin"))
        .unwrap_or_else(|| panic!("major interaction not shown: {texts:?}"));
    let page = client
        .find(Locator::Id("results"))
        .await
        .unwrap_or_else(|e| panic!("results: {e}"))
        .text()
        .await
        .unwrap_or_default();
    assert!(
        page.contains("quinine + warfarin"),
        "the #3 line was checked: {page}"
    );
    for part in ["MAJOR", "Why:", "What to do:", "Sources"] {
        assert!(
            interaction.contains(part),
            "finding lacks {part}: {interaction}"
        );
    }
    drop(major);
    let verdict = client
        .find(Locator::Id("verdict"))
        .await
        .unwrap_or_else(|e| panic!("verdict: {e}"))
        .text()
        .await
        .unwrap_or_default();
    assert!(verdict.contains("AVOID"), "{verdict}");
    let unresolved = client
        .find(Locator::Css("tr.row-unresolved"))
        .await
        .unwrap_or_else(|e| panic!("unresolved name not highlighted: {e}"))
        .text()
        .await
        .unwrap_or_default();
    assert!(unresolved.contains("zzqqxy"), "{unresolved}");
    // Results take focus so a screen reader or keyboard user lands there.
    assert_eq!(active_id(client).await, "results");
    let png = client
        .screenshot()
        .await
        .unwrap_or_else(|e| panic!("screenshot: {e}"));
    std::fs::write(screenshot_path("serve-page-check.png"), png)
        .unwrap_or_else(|e| panic!("write screenshot: {e}"));
    // The printout for the chart: a PDF without the form.
    let config = fantoccini::wd::PrintConfiguration::builder()
        .build()
        .unwrap_or_else(|e| panic!("print configuration: {e}"));
    let pdf = client
        .print(config)
        .await
        .unwrap_or_else(|e| panic!("print: {e}"));
    assert!(pdf.starts_with(b"%PDF"), "not a PDF");
    std::fs::write(screenshot_path("serve-page-print.pdf"), pdf)
        .unwrap_or_else(|e| panic!("write PDF: {e}"));

    let suggest = client
        .find(Locator::Id("suggest-button"))
        .await
        .unwrap_or_else(|e| panic!("suggest button: {e}"));
    suggest
        .send_keys(&Key::Enter.to_string())
        .await
        .unwrap_or_else(|e| panic!("suggest: {e}"));
    let table = client
        .wait()
        .at_most(Duration::from_secs(20))
        .for_element(Locator::Css("table.therapies"))
        .await
        .unwrap_or_else(|e| panic!("no therapy table: {e}"))
        .text()
        .await
        .unwrap_or_default();
    assert!(table.contains("quinine"), "{table}");
    let png = client
        .screenshot()
        .await
        .unwrap_or_else(|e| panic!("screenshot: {e}"));
    std::fs::write(screenshot_path("serve-page-suggest.png"), png)
        .unwrap_or_else(|e| panic!("write screenshot: {e}"));
}

#[test]
fn page_shows_the_major_quinine_clarithromycin_finding_in_headless_chromium() {
    if !Path::new(CHROMEDRIVER).exists() || !Path::new(CHROMIUM).exists() {
        assert!(
            std::env::var_os("CRAMPCHECK_REQUIRE_BROWSER").is_none(),
            "chromium/chromedriver missing but CRAMPCHECK_REQUIRE_BROWSER is set"
        );
        eprintln!("skipped: {CHROMEDRIVER} or {CHROMIUM} not installed");
        return;
    }
    let server = TestServer::start();
    let driver = start_driver();
    let profile = tempfile::tempdir().unwrap_or_else(|e| panic!("profile dir: {e}"));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap_or_else(|e| panic!("runtime: {e}"));
    runtime.block_on(async {
        let client = connect(driver.port, profile.path()).await;
        drive(&client, &server.base).await;
        let _ = client.close().await;
    });
}
