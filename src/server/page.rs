//! The pharmacist's page: one HTML file, one script and one stylesheet from
//! `assets/`, embedded in the binary (`include_str!`) so the server needs no
//! files and the page loads nothing from the network.

use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};

/// The page.
pub const INDEX_HTML: &str = include_str!("../../assets/index.html");
/// Its script: calls the JSON API and renders the documents.
pub const APP_JS: &str = include_str!("../../assets/app.js");
/// Its stylesheet, screen and print.
pub const STYLE_CSS: &str = include_str!("../../assets/style.css");

fn asset(body: &'static str, content_type: &'static str) -> Response {
    (
        [(header::CONTENT_TYPE, HeaderValue::from_static(content_type))],
        body,
    )
        .into_response()
}

/// `GET /`.
pub async fn index() -> Response {
    asset(INDEX_HTML, "text/html; charset=utf-8")
}

/// `GET /app.js`.
pub async fn script() -> Response {
    asset(APP_JS, "text/javascript; charset=utf-8")
}

/// `GET /style.css`.
pub async fn style() -> Response {
    asset(STYLE_CSS, "text/css; charset=utf-8")
}
