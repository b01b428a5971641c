//! How an [`ApiError`] is answered over HTTP: its status, the headers that go with
//! it (`Retry-After`, `Allow`, `WWW-Authenticate`, `ETag`) and its problem document
//! as `application/problem+json`.

use actix_web::http::{StatusCode, header};
use actix_web::{HttpResponse, ResponseError};

use crate::error::{ApiError, RETRY_AFTER_SECONDS};

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.status()).expect("every error has a valid HTTP status")
    }

    fn error_response(&self) -> HttpResponse {
        let mut response = HttpResponse::build(self.status_code());
        response.content_type("application/problem+json");
        match self {
            Self::Unavailable(_) | Self::TimedOut(_) | Self::Busy => {
                response.insert_header((header::RETRY_AFTER, RETRY_AFTER_SECONDS));
            }
            Self::MethodNotAllowed(allow) => {
                response.insert_header((header::ALLOW, allow.join(", ")));
            }
            Self::StillRunning => {
                response.insert_header((header::RETRY_AFTER, 1));
            }
            Self::Unauthorized { error, detail } => {
                let challenge = match error {
                    Some(error) => format!(
                        "Bearer realm=\"strategy-tracker\", error=\"{error}\", error_description=\"{}\"",
                        quotable(detail)
                    ),
                    None => "Bearer realm=\"strategy-tracker\"".to_owned(),
                };
                response.insert_header((header::WWW_AUTHENTICATE, challenge));
            }
            Self::Forbidden { scope } => {
                response.insert_header((
                    header::WWW_AUTHENTICATE,
                    format!("Bearer realm=\"strategy-tracker\", error=\"insufficient_scope\", scope=\"{scope}\""),
                ));
            }
            Self::TooManyRequests { retry_after } => {
                response.insert_header((header::RETRY_AFTER, *retry_after));
            }
            Self::PreconditionFailed { etag } => {
                response.insert_header((header::ETAG, etag.clone()));
            }
            _ => {}
        }
        response.json(self.problem())
    }
}

/// `text` as RFC 6750 allows inside a quoted challenge parameter: printable ASCII
/// without quotes or backslashes (a token's name may have any character).
fn quotable(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '"' | '\\' => '\'',
            ' '..='~' => c,
            _ => '?',
        })
        .collect()
}
