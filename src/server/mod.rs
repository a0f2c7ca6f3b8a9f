//! `crampcheck serve`: the same engine as the CLI behind a local HTTP server
//! (axum on tokio). The KB is loaded once and shared read-only by every
//! request; handlers call the very functions the CLI calls
//! ([`crate::cmd::check::run_document`], [`crate::cmd::suggest::run_document`])
//! and the same renderers, so the API returns the CLI's documents byte for
//! byte.
//!
//! Routes: `GET /` (the pharmacist's page, assets embedded in the binary),
//! `POST /api/check`, `POST /api/suggest`, `GET /api/kb`, `GET /healthz`,
//! and the CDS Hooks service (`GET /cds-services`, `POST /cds-services/{id}`).
//!
//! Hardening: a body size limit per route, a medication count limit, a
//! per-field length limit and a request timeout ([`Limits`]); bad input is a
//! 4xx with a JSON error naming the field, never a panic; the request log
//! holds method, route, status and duration only — never a body, a query
//! string or a path that is not one of ours, so no patient data reaches it.

pub mod api;
pub mod cds;
pub mod error;
pub mod page;

use crate::cli::Level;
use crate::clinical::Severity;
use crate::kb::KbIndex;
use axum::Router;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use std::future::Future;
use std::io::Write;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tower_http::timeout::TimeoutLayer;

/// Request limits. Requests over them get a 4xx naming the limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest JSON API request body, in bytes.
    pub api_body_bytes: usize,
    /// Largest CDS Hooks request body, in bytes (prefetch Bundles are big).
    pub cds_body_bytes: usize,
    /// Most medications in one request (API list, or draft orders plus
    /// active medications in a hook request).
    pub max_medications: usize,
    /// Most conditions in one API request.
    pub max_conditions: usize,
    /// Longest string field, in characters.
    pub max_field_chars: usize,
    /// Most resources looked at in one hook request.
    pub max_resources: usize,
    /// Time allowed for one request, body included.
    pub timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            api_body_bytes: 64 * 1024,
            cds_body_bytes: 2 * 1024 * 1024,
            max_medications: 200,
            max_conditions: 50,
            max_field_chars: 500,
            max_resources: 5_000,
            timeout: Duration::from_secs(10),
        }
    }
}

/// Everything a handler needs, shared by all requests.
#[derive(Debug)]
pub struct AppState {
    /// The knowledge base, loaded once at start.
    pub kb: KbIndex,
    /// Request limits.
    pub limits: Limits,
    /// The lowest severity that becomes a CDS Hooks card.
    pub card_level: Severity,
    /// Whether to log requests to stderr.
    pub log: bool,
    /// Checks that may run at once: one a core. A check the timeout gave
    /// up on still runs to its end, so without a bound, requests that time
    /// out could pile up work without limit.
    pub checks: Arc<tokio::sync::Semaphore>,
}

impl AppState {
    /// State with the default limits, cards from `moderate` up, no log.
    pub fn new(kb: KbIndex) -> Self {
        AppState {
            kb,
            limits: Limits::default(),
            card_level: Severity::Moderate,
            log: false,
            checks: Arc::new(tokio::sync::Semaphore::new(
                std::thread::available_parallelism().map_or(2, usize::from),
            )),
        }
    }
}

/// The severity a `--card-level` names.
pub fn level_severity(level: Level) -> Severity {
    match level {
        Level::Contraindicated => Severity::Contraindicated,
        Level::Major => Severity::Major,
        Level::Moderate => Severity::Moderate,
        Level::Minor => Severity::Minor,
        Level::Info => Severity::Info,
    }
}

/// Runs a request's checking on the blocking pool. Checking is CPU work
/// with no await in it: run on the async workers it would hold one up, and
/// the request timeout, which can only act at an await, could not answer
/// 408 until it was done.
/// At most [`AppState::checks`] run at once; a request waiting its turn
/// still meets the timeout.
pub async fn off_the_runtime<T: Send + 'static>(
    checks: &Arc<tokio::sync::Semaphore>,
    work: impl FnOnce() -> Result<T, error::ApiError> + Send + 'static,
) -> Result<T, error::ApiError> {
    let permit = Arc::clone(checks)
        .acquire_owned()
        .await
        .map_err(|e| error::ApiError::internal(format!("the server is stopping: {e}")))?;
    tokio::task::spawn_blocking(move || {
        let answer = work();
        drop(permit);
        answer
    })
    .await
    .unwrap_or_else(|e| Err(error::ApiError::internal(format!("the check stopped: {e}"))))
}

/// The whole application: every route, the limits and the request log.
pub fn app(state: Arc<AppState>) -> Router {
    let limits = state.limits;
    let api = Router::new()
        .route("/api/check", post(api::check))
        .route("/api/suggest", post(api::suggest))
        .layer(DefaultBodyLimit::max(limits.api_body_bytes));
    let hooks = Router::new()
        .route("/cds-services", get(cds::discovery))
        .route("/cds-services/{id}", post(cds::hook))
        .layer(DefaultBodyLimit::max(limits.cds_body_bytes));
    Router::new()
        .route("/", get(page::index))
        .route("/app.js", get(page::script))
        .route("/style.css", get(page::style))
        .route("/healthz", get(api::healthz))
        .route("/api/kb", get(api::kb_info))
        .merge(api)
        .merge(hooks)
        .fallback(error::not_found)
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            limits.timeout,
        ))
        .layer(middleware::from_fn(json_errors))
        .layer(middleware::from_fn(security_headers))
        .layer(middleware::from_fn_with_state(state.clone(), log_request))
        .with_state(state)
}

/// Serves `app` on `listener` until `shutdown` completes, then finishes the
/// requests in flight.
pub async fn run(
    listener: tokio::net::TcpListener,
    app: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await
}

/// Completes on SIGINT (Ctrl-C) or, on Unix, SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        // If the handler cannot be installed, wait for SIGTERM alone.
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}

/// The answers the framework gives without a body (a method a route does
/// not take, a request over the time limit) get the JSON error body every
/// other error has.
async fn json_errors(request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    let message = match response.status() {
        StatusCode::METHOD_NOT_ALLOWED => "this path does not take that method",
        StatusCode::REQUEST_TIMEOUT => "the request took longer than the time limit",
        _ => return response,
    };
    if response.headers().contains_key(header::CONTENT_TYPE) {
        return response;
    }
    let mut answer = error::ApiError {
        status: response.status(),
        field: None,
        message: message.to_owned(),
    }
    .into_response();
    // 405 says which methods the path takes.
    if let Some(allow) = response.headers().get(header::ALLOW) {
        answer.headers_mut().insert(header::ALLOW, allow.clone());
    }
    answer
}

/// Headers on every response: no caching (answers hold patient data), no
/// content sniffing, no referrer, and a policy that lets the page load
/// nothing but its own embedded assets.
async fn security_headers(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; \
             img-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
        ),
    );
    response
}

/// The routes we serve, as logged. Any other path is logged as `-`, because
/// a path we do not serve is client text and could hold anything.
const LOGGED_PATHS: [&str; 9] = [
    "/",
    "/app.js",
    "/style.css",
    "/healthz",
    "/api/kb",
    "/api/check",
    "/api/suggest",
    "/cds-services",
    "/cds-services/{id}",
];

fn logged_path(path: &str) -> &'static str {
    if let Some(id) = path.strip_prefix("/cds-services/")
        && cds::SERVICES.iter().any(|s| s.id == id)
    {
        return "/cds-services/{id}";
    }
    LOGGED_PATHS
        .iter()
        .find(|p| **p == path && !p.contains('{'))
        .copied()
        .unwrap_or("-")
}

/// The method as logged: an extension method is client text and could
/// hold anything (a patient's name), so it is logged as `-`.
fn logged_method(method: &axum::http::Method) -> &'static str {
    use axum::http::Method;
    [
        Method::GET,
        Method::POST,
        Method::PUT,
        Method::DELETE,
        Method::HEAD,
        Method::OPTIONS,
        Method::PATCH,
        Method::CONNECT,
        Method::TRACE,
    ]
    .iter()
    .find(|m| *m == method)
    .map_or("-", |m| m.as_str())
}

/// Logs method, route, status and duration — nothing from the body.
async fn log_request(State(state): State<Arc<AppState>>, request: Request, next: Next) -> Response {
    if !state.log {
        return next.run(request).await;
    }
    let start = Instant::now();
    let method = logged_method(request.method());
    let path = logged_path(request.uri().path());
    let response = next.run(request).await;
    let micros = start.elapsed().as_micros();
    // A closed stderr must not fail the request.
    let _ = writeln!(
        std::io::stderr().lock(),
        "{method} {path} {} {micros}us",
        response.status().as_u16()
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_that_are_not_ours_are_not_logged() {
        assert_eq!(logged_path("/api/check"), "/api/check");
        assert_eq!(
            logged_path("/cds-services/crampcheck-order-select"),
            "/cds-services/{id}"
        );
        assert_eq!(logged_path("/cds-services/{id}"), "-");
        assert_eq!(logged_path("/patient/john-smith-quinine"), "-");
        assert_eq!(logged_path("/cds-services/john-smith"), "-");
    }

    #[test]
    fn methods_that_are_not_standard_are_not_logged() {
        use axum::http::Method;
        assert_eq!(logged_method(&Method::POST), "POST");
        let custom = Method::from_bytes(b"SMITHJOHN").map(|m| logged_method(&m));
        assert_eq!(custom.ok(), Some("-"));
    }
}
