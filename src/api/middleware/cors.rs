//! Cross-origin calls (CORS) from the member portal's pages in a browser: allowed
//! only from the origins the service is configured with, none by default. Tokens
//! travel in a header, never in cookies, so credentials are not allowed.
//!
//! The `actix-cors` crate does the work ([`AllowedOrigins::middleware`]). Around it,
//! [`as_documented`] does the two things it cannot be configured to do.

use actix_cors::Cors;
use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderMap, HeaderValue};
use actix_web::middleware::{Condition, Next};

/// The methods of the API a browser page may call.
const ALLOWED_METHODS: &str = "GET, POST, PATCH, DELETE";
/// The request headers a browser page may send: those the API reads.
const ALLOWED_HEADERS: &str =
    "Authorization, Content-Type, If-Match, If-None-Match, Idempotency-Key";
/// The response headers a browser page may read beyond the simple ones.
const EXPOSED_HEADERS: &str = "ETag, Location, Link, Retry-After, Idempotent-Replayed, X-Request-Id, \
     Content-Disposition, WWW-Authenticate, RateLimit, RateLimit-Policy";
/// How long a browser may keep a preflight answer, in seconds.
const PREFLIGHT_MAX_AGE: usize = 600;

/// The origins whose pages may call the API, as `scheme://host[:port]`.
#[derive(Debug, Clone, Default)]
pub struct AllowedOrigins(Vec<String>);

impl AllowedOrigins {
    /// The configured origins, which their setting's parser has checked and
    /// lowercased, as browsers send them (`actix-cors` compares them exactly).
    pub fn new(origins: &[String]) -> Self {
        Self(origins.to_vec())
    }

    /// Answers preflight requests from allowed origins, and marks the answers to
    /// their requests as readable by them (with `Vary: Origin`). Requests from
    /// other origins are served without CORS headers, so the browser keeps their
    /// answers from the page; their preflights are refused (`400`). Without
    /// configured origins the service is left as if CORS did not exist.
    ///
    /// Built in each worker: the middleware is not `Send`.
    pub fn middleware(&self) -> Condition<Cors> {
        let cors = self
            .0
            .iter()
            .fold(Cors::default(), |cors, origin| cors.allowed_origin(origin))
            .allowed_methods(ALLOWED_METHODS.split(", "))
            .allowed_headers(ALLOWED_HEADERS.split(", "))
            .expose_headers(EXPOSED_HEADERS.split(", "))
            .max_age(PREFLIGHT_MAX_AGE)
            // Served, without CORS headers, rather than refused: as if CORS did not exist.
            .block_on_origin_mismatch(false);
        Condition::new(!self.0.is_empty(), cors)
    }
}

/// Wraps `actix-cors` for what it cannot be configured to do:
/// - it answers a preflight `200 OK` with an empty body; it is `204 No Content`;
/// - it writes the lists of names in lower case (`HeaderName` keeps them so) and in
///   a hash set's random order; names are case-insensitive, but the lists are
///   written as the API's documentation spells them, in a fixed order.
///
/// It changes only the headers `actix-cors` set, so who gets them stays its choice.
pub async fn as_documented(
    request: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let mut response = next
        .call(request)
        .await
        .map_err(|mut error| {
            // `actix-cors` adds its headers to the answer made from an error too.
            error.add_response_mapper(|mut response| {
                spell_out(response.headers_mut());
                response
            });
            error
        })?
        .map_into_boxed_body();
    // Only a preflight answer lists the allowed methods.
    let preflight_answer = response
        .headers()
        .contains_key(header::ACCESS_CONTROL_ALLOW_METHODS);
    spell_out(response.headers_mut());
    if preflight_answer && response.status() == StatusCode::OK {
        *response.response_mut().status_mut() = StatusCode::NO_CONTENT;
    }
    Ok(response)
}

/// Writes the lists `actix-cors` set as the constants above spell them.
fn spell_out(headers: &mut HeaderMap) {
    for (name, spelled) in [
        (header::ACCESS_CONTROL_ALLOW_METHODS, ALLOWED_METHODS),
        (header::ACCESS_CONTROL_ALLOW_HEADERS, ALLOWED_HEADERS),
        (header::ACCESS_CONTROL_EXPOSE_HEADERS, EXPOSED_HEADERS),
    ] {
        if let Some(value) = headers.get_mut(name) {
            *value = HeaderValue::from_static(spelled);
        }
    }
}
