//! The one error type of the service and its `application/problem+json` body (RFC 9457).
//!
//! Every failure, from a malformed body to a database outage, becomes an [`ApiError`]
//! in exactly one place and leaves as a [`Problem`]. Internal details are logged
//! (with the request id, by the request log middleware) and never sent.
//!
//! This module knows no HTTP framework and no connection pool: the HTTP layer
//! renders an [`ApiError`] (`api::problem`), and the pool's error converts in `db`.

use diesel::result::{DatabaseErrorKind, Error as DieselError};
use serde::Serialize;
use utoipa::ToSchema;

/// Seconds a client is asked to wait before retrying while the database is unreachable.
pub const RETRY_AFTER_SECONDS: u32 = 5;
/// Most field errors one answer lists; a body of thousands of unknown keys is told
/// about its first ones.
pub const MAX_FIELD_ERRORS: usize = 100;
/// Longest field name, message and detail sent back, in characters: they may
/// quote what the client sent.
const MAX_FIELD: usize = 200;
const MAX_MESSAGE: usize = 1000;
const MAX_DETAIL: usize = 2000;

/// One bad input field and the rule it breaks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[schema(example = json!({"field": "period_end", "message": "must be on or after period_start (2025-06-30)"}))]
pub struct FieldError {
    /// Where the problem is: a body field (`title`), a query parameter (`limit`), or
    /// empty for the body as a whole.
    #[schema(max_length = 200)]
    pub field: String,
    /// What is wrong and what would be accepted.
    #[schema(max_length = 1000)]
    pub message: String,
}

impl FieldError {
    /// A problem with one named field.
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: truncate(field.into(), MAX_FIELD),
            message: truncate(message.into(), MAX_MESSAGE),
        }
    }
}

/// An error response, as described by RFC 9457 (Problem Details for HTTP APIs).
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "type": "tag:strategy-tracker,2026:problems/validation-failed",
    "title": "The request body breaks a rule",
    "status": 422,
    "detail": "2 fields are invalid; see errors.",
    "errors": [
        {"field": "title", "message": "is required"},
        {"field": "statuss", "message": "is not a field of this resource"}
    ]
}))]
pub struct Problem {
    /// A URI that identifies the kind of problem; stable, so clients may switch on it.
    #[serde(rename = "type")]
    #[schema(max_length = 100)]
    pub problem_type: String,
    /// A short summary of the kind of problem; the same for every occurrence.
    #[schema(max_length = 100)]
    pub title: String,
    /// The HTTP status code of this response.
    #[schema(minimum = 400, maximum = 599)]
    pub status: u16,
    /// What went wrong this time, and how to fix it.
    #[schema(max_length = 2000)]
    pub detail: String,
    /// For invalid input: every bad field and the rule it breaks (the first 100).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(max_items = 100, nullable = false)]
    pub errors: Option<Vec<FieldError>>,
}

/// Everything that can go wrong while answering a request.
#[derive(Debug)]
pub enum ApiError {
    /// The request could not be read: malformed JSON, a bad query parameter or header.
    BadRequest {
        detail: String,
        errors: Vec<FieldError>,
    },
    /// The route needs a token and the request has none, or not a working one;
    /// `error` is RFC 6750's code for the `WWW-Authenticate` challenge.
    Unauthorized {
        error: Option<&'static str>,
        detail: String,
    },
    /// The token works but lacks the scope the route needs.
    Forbidden { scope: &'static str },
    /// The token (or, without one, the client address) used up its requests for
    /// now; carries the seconds until the next is allowed.
    TooManyRequests { retry_after: u64 },
    /// The request body was not JSON.
    UnsupportedMediaType(String),
    /// The request body is larger than the configured limit (in bytes).
    PayloadTooLarge(usize),
    /// Well-formed input that breaks one or more rules.
    Invalid(Vec<FieldError>),
    /// No such resource or route.
    NotFound(String),
    /// An id in the body names no resource.
    UnknownReference(FieldError),
    /// The path exists but not with this method; carries the methods it has.
    MethodNotAllowed(Vec<String>),
    /// The request conflicts with the current state, e.g. deleting a resource that has children.
    Conflict(String),
    /// A request with the same `Idempotency-Key` is still being answered.
    StillRunning,
    /// `If-Match` names a version the item no longer has; carries its current ETag.
    PreconditionFailed { etag: String },
    /// The server requires `If-Match` on writes and the request has none.
    PreconditionRequired,
    /// The database cannot be reached right now.
    Unavailable(String),
    /// The request was not answered within the configured timeout (in seconds):
    /// the database did not answer in time, or the body came too slowly.
    TimedOut(u64),
    /// As many large answers (plan documents, tracking sheets) as the instance
    /// renders at once were being rendered for the whole time the request could wait.
    Busy,
    /// A bug or an unexpected failure; the text is logged, never sent.
    Internal(String),
}

impl ApiError {
    /// A 422 for a single field.
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Invalid(vec![FieldError::new(field, message)])
    }

    /// A 400 for a single query parameter or header.
    pub fn bad_parameter(field: impl Into<String>, message: impl Into<String>) -> Self {
        let error = FieldError::new(field, message);
        Self::BadRequest {
            detail: format!("{}: {}", error.field, error.message),
            errors: vec![error],
        }
    }

    /// A 404 for an id in the body that names no resource.
    pub fn unknown_reference(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::UnknownReference(FieldError::new(field, message))
    }

    /// A 404 for a resource kind (`plan`, `goal`, ...) and the id that was asked for.
    pub fn not_found(kind: &str, id: impl std::fmt::Display) -> Self {
        Self::NotFound(format!("no {kind} has the id {id}"))
    }

    fn kind(&self) -> (&'static str, &'static str) {
        match self {
            Self::BadRequest { .. } => ("bad-request", "The request could not be read"),
            Self::Unauthorized { .. } => ("unauthorized", "A valid API token is required"),
            Self::Forbidden { .. } => ("forbidden", "The API token lacks a scope"),
            Self::TooManyRequests { .. } => ("too-many-requests", "Too many requests"),
            Self::UnsupportedMediaType(_) => {
                ("unsupported-media-type", "The request body must be JSON")
            }
            Self::PayloadTooLarge(_) => ("payload-too-large", "The request body is too large"),
            Self::Invalid(_) => ("validation-failed", "The request body breaks a rule"),
            Self::NotFound(_) | Self::UnknownReference(_) => ("not-found", "Not found"),
            Self::MethodNotAllowed(_) => ("method-not-allowed", "Method not allowed"),
            Self::Conflict(_) => ("conflict", "The request conflicts with the current state"),
            Self::StillRunning => ("still-running", "The same request is still being answered"),
            Self::PreconditionFailed { .. } => (
                "precondition-failed",
                "The resource changed since it was read",
            ),
            Self::PreconditionRequired => ("precondition-required", "If-Match is required"),
            Self::Unavailable(_) | Self::TimedOut(_) => (
                "service-unavailable",
                "The database is unavailable; retry shortly",
            ),
            Self::Busy => ("busy", "The service is busy; retry shortly"),
            Self::Internal(_) => ("internal-error", "Internal server error"),
        }
    }

    /// The HTTP status code this error is answered with.
    pub fn status(&self) -> u16 {
        match self {
            Self::BadRequest { .. } => 400,
            Self::Unauthorized { .. } => 401,
            Self::Forbidden { .. } => 403,
            Self::TooManyRequests { .. } => 429,
            Self::UnsupportedMediaType(_) => 415,
            Self::PayloadTooLarge(_) => 413,
            Self::Invalid(_) => 422,
            Self::NotFound(_) | Self::UnknownReference(_) => 404,
            Self::MethodNotAllowed(_) => 405,
            Self::Conflict(_) | Self::StillRunning => 409,
            Self::PreconditionFailed { .. } => 412,
            Self::PreconditionRequired => 428,
            Self::Unavailable(_) | Self::TimedOut(_) | Self::Busy => 503,
            Self::Internal(_) => 500,
        }
    }

    /// The problem document sent to the client.
    pub fn problem(&self) -> Problem {
        let (slug, title) = self.kind();
        let (detail, errors) = match self {
            Self::BadRequest { detail, errors } => {
                (detail.clone(), (!errors.is_empty()).then(|| errors.clone()))
            }
            Self::Invalid(errors) => {
                let detail = match errors.as_slice() {
                    [one] if one.field.is_empty() => one.message.clone(),
                    [one] => format!("{}: {}", one.field, one.message),
                    many => format!("{} fields are invalid; see errors.", many.len()),
                };
                (detail, Some(errors.clone()))
            }
            Self::UnknownReference(error) => (
                format!("{}: {}", error.field, error.message),
                Some(vec![error.clone()]),
            ),
            Self::Unauthorized { detail, .. } => (
                detail.clone(),
                Some(vec![FieldError::new("Authorization", detail.clone())]),
            ),
            Self::Forbidden { scope } => (
                format!("this needs a token with the {scope} scope, which this token does not have; an admin can create one with: strategy-tracker tokens create --name NAME --scope {scope}"),
                None,
            ),
            Self::TooManyRequests { retry_after } => (
                format!("this token (or, without one, this address) has used up its requests for now; retry in {retry_after} seconds"),
                None,
            ),
            Self::UnsupportedMediaType(detail)
            | Self::NotFound(detail)
            | Self::Conflict(detail) => (detail.clone(), None),
            Self::StillRunning => (
                "a request with this Idempotency-Key is still being answered; retry it in a moment to get its response".to_owned(),
                None,
            ),
            Self::PreconditionFailed { etag } => (
                format!(
                    "the resource changed since you read it: its ETag is now {etag}, not the one in If-Match; GET it again, apply your change to what it says now, and send that ETag"
                ),
                None,
            ),
            Self::PreconditionRequired => (
                "this service requires If-Match on PATCH and DELETE, so no change overwrites one you have not seen: GET the resource, then send its ETag header back (with curl: -H 'If-Match: \"...\"')".to_owned(),
                None,
            ),
            Self::PayloadTooLarge(limit) => (
                format!("the body must be at most {limit} bytes"),
                None,
            ),
            Self::MethodNotAllowed(allow) => (
                format!("this path accepts {}", allow.join(", ")),
                None,
            ),
            Self::Unavailable(_) => (
                format!("the database cannot be reached; retry in {RETRY_AFTER_SECONDS} seconds"),
                None,
            ),
            Self::TimedOut(seconds) => (
                format!("the request was not answered within {seconds} seconds: the database did not answer in time (or the request body arrived too slowly); retry in {RETRY_AFTER_SECONDS} seconds. A write may have been applied: repeat it with the same Idempotency-Key, which applies it only once"),
                None,
            ),
            Self::Busy => (
                format!("too many large answers (plan documents, tracking sheets) are being prepared at once for this one to be ready in time; retry in {RETRY_AFTER_SECONDS} seconds"),
                None,
            ),
            Self::Internal(_) => (
                "something went wrong on our side; the X-Request-Id header identifies this request in our logs".to_owned(),
                None,
            ),
        };
        Problem {
            problem_type: format!("tag:strategy-tracker,2026:problems/{slug}"),
            title: title.to_owned(),
            status: self.status(),
            detail: truncate(detail, MAX_DETAIL),
            errors: errors.map(|mut errors| {
                errors.truncate(MAX_FIELD_ERRORS);
                errors
            }),
        }
    }
}

/// `text` cut to `max` characters, with an ellipsis when cut.
fn truncate(text: String, max: usize) -> String {
    match text.char_indices().nth(max.saturating_sub(1)) {
        Some((at, _)) if text.chars().count() > max => format!("{}…", &text[..at]),
        _ => text,
    }
}

impl std::fmt::Display for ApiError {
    /// The log line: for server-side failures this carries the internal cause.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Internal(cause) => write!(f, "internal error: {cause}"),
            Self::Unavailable(cause) => write!(f, "database unavailable: {cause}"),
            other => f.write_str(&other.problem().detail),
        }
    }
}

impl From<DieselError> for ApiError {
    fn from(error: DieselError) -> Self {
        match &error {
            DieselError::DatabaseError(kind, info) => match kind {
                DatabaseErrorKind::UnableToSendCommand | DatabaseErrorKind::ClosedConnection => {
                    Self::Unavailable(error.to_string())
                }
                // PostgreSQL shutting down ends each session with 57P01, which arrives
                // with no specific kind.
                DatabaseErrorKind::Unknown
                    if info.message().starts_with("terminating connection") =>
                {
                    Self::Unavailable(error.to_string())
                }
                DatabaseErrorKind::UniqueViolation => match info.constraint_name() {
                    Some("goals_code_unique") => {
                        Self::invalid("code", "is already the code of another goal in this area")
                    }
                    Some("api_tokens_name_in_use") => Self::Conflict(
                        "another token in use has this name; names tell tokens apart in the change feed, so choose another, or revoke that token first".to_owned(),
                    ),
                    _ => Self::Conflict(
                        "the change collides with another that was made at the same time; retry it"
                            .to_owned(),
                    ),
                },
                // A parent deleted while this request was in flight.
                DatabaseErrorKind::ForeignKeyViolation => Self::Conflict(
                    "a resource this change refers to was deleted meanwhile; re-read it and retry"
                        .to_owned(),
                ),
                _ => Self::Internal(error.to_string()),
            },
            _ => Self::Internal(error.to_string()),
        }
    }
}
