//! Starts `crampcheck serve`'s application in-process on 127.0.0.1 with an
//! ephemeral port, and a small HTTP client (ureq) for the tests. Nothing
//! leaves the loopback interface.
#![allow(dead_code)]

use crampcheck::kb::{KbSource, load};
use crampcheck::server::{self, AppState};
use serde_json::Value;
use std::sync::Arc;
use std::sync::mpsc;
use std::thread::JoinHandle;

/// A running server; stops (gracefully) when dropped.
pub struct TestServer {
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl TestServer {
    /// Starts a server on the embedded KB with default settings.
    pub fn start() -> Self {
        Self::start_with(|_| {})
    }

    /// Starts a server after `configure` has adjusted its state.
    pub fn start_with(configure: impl FnOnce(&mut AppState)) -> Self {
        let kb = load(&KbSource::Embedded).unwrap_or_else(|e| panic!("KB: {e}"));
        let mut state = AppState::new(kb);
        configure(&mut state);
        let app = server::app(Arc::new(state));
        let (addr_tx, addr_rx) = mpsc::channel();
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .unwrap_or_else(|e| panic!("runtime: {e}"));
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                    .await
                    .unwrap_or_else(|e| panic!("bind: {e}"));
                let addr = listener
                    .local_addr()
                    .unwrap_or_else(|e| panic!("addr: {e}"));
                let _ = addr_tx.send(addr);
                server::run(listener, app, async move {
                    let _ = stop_rx.await;
                })
                .await
                .unwrap_or_else(|e| panic!("serve: {e}"));
            });
        });
        let addr = addr_rx
            .recv()
            .unwrap_or_else(|e| panic!("server did not start: {e}"));
        TestServer {
            base: format!("http://{addr}"),
            stop: Some(stop_tx),
            thread: Some(thread),
        }
    }

    /// The full URL of `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// An HTTP answer: status, content type and body.
#[derive(Debug)]
pub struct Answer {
    /// HTTP status.
    pub status: u16,
    /// Content-Type header.
    pub content_type: String,
    /// Body bytes.
    pub body: Vec<u8>,
    /// Every header, names lowercase.
    pub headers: Vec<(String, String)>,
}

impl Answer {
    /// The body as JSON.
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }

    /// The value of header `name` (lowercase), or "".
    pub fn header(&self, name: &str) -> &str {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map_or("", |(_, v)| v.as_str())
    }

    /// The body as text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .new_agent()
}

fn answer(response: Result<ureq::http::Response<ureq::Body>, ureq::Error>) -> Answer {
    let mut response = response.unwrap_or_else(|e| panic!("request failed: {e}"));
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let status = response.status().as_u16();
    let headers = response
        .headers()
        .iter()
        .map(|(n, v)| (n.as_str().to_owned(), v.to_str().unwrap_or("").to_owned()))
        .collect();
    let body = response
        .body_mut()
        .with_config()
        .limit(64 * 1024 * 1024)
        .read_to_vec()
        .unwrap_or_else(|e| panic!("read body: {e}"));
    Answer {
        status,
        content_type,
        body,
        headers,
    }
}

/// GET `url`.
pub fn get(url: &str) -> Answer {
    answer(agent().get(url).call())
}

/// POST `body` to `url` with extra headers.
pub fn post(url: &str, body: &[u8], headers: &[(&str, &str)]) -> Answer {
    let mut request = agent().post(url).header("content-type", "application/json");
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    answer(request.send(body))
}

/// POST a JSON value.
pub fn post_json(url: &str, body: &Value) -> Answer {
    post(url, body.to_string().as_bytes(), &[])
}
