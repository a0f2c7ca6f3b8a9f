//! The JSON error every endpoint answers with:
//! `{"error": "<message>", "field": "<field or null>"}` and a 4xx/5xx status.
//! Malformed JSON, wrong types and limits are 400 (413 for an oversized
//! body); values the engine refuses (an out-of-range lab, an unknown
//! condition, a proposed drug it cannot resolve) are 422.

use crate::cmd::RequestError;
use axum::extract::rejection::BytesRejection;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// An error answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// The request field at fault (`medications[3]`, `egfr`, ...), if one is.
    pub field: Option<String>,
    /// What is wrong, in words.
    pub message: String,
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    error: &'a str,
    field: Option<&'a str>,
}

impl ApiError {
    /// A 400 about `field`.
    pub fn bad_field(field: impl Into<String>, message: impl Into<String>) -> Self {
        ApiError {
            status: StatusCode::BAD_REQUEST,
            field: Some(field.into()),
            message: message.into(),
        }
    }

    /// A 500: the work for a request stopped without an answer.
    pub fn internal(message: impl Into<String>) -> Self {
        ApiError {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            field: None,
            message: message.into(),
        }
    }

    /// A 400 about the request as a whole.
    pub fn bad_request(message: impl Into<String>) -> Self {
        ApiError {
            status: StatusCode::BAD_REQUEST,
            field: None,
            message: message.into(),
        }
    }
}

impl From<RequestError> for ApiError {
    fn from(err: RequestError) -> Self {
        match err {
            RequestError::Input { field, message } => ApiError {
                status: StatusCode::UNPROCESSABLE_ENTITY,
                field: Some(field),
                message,
            },
            RequestError::Kb(message) => ApiError {
                status: StatusCode::INTERNAL_SERVER_ERROR,
                field: None,
                message,
            },
        }
    }
}

impl From<BytesRejection> for ApiError {
    fn from(rejection: BytesRejection) -> Self {
        let status = rejection.status();
        ApiError {
            status,
            field: None,
            message: if status == StatusCode::PAYLOAD_TOO_LARGE {
                "request body too large".to_owned()
            } else {
                format!("cannot read the request body: {}", rejection.body_text())
            },
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            error: &self.message,
            field: self.field.as_deref(),
        };
        (self.status, axum::Json(body)).into_response()
    }
}

/// The answer for a path we do not serve.
pub async fn not_found() -> ApiError {
    ApiError {
        status: StatusCode::NOT_FOUND,
        field: None,
        message: "not found".to_owned(),
    }
}
