//! One log line per request (method, path, status, latency, request id, client
//! address), and the
//! request id in an `X-Request-Id` response header so a user can quote it.

use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use uuid::Uuid;

use super::client_address;

/// The header that carries the request id both ways.
pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Middleware: see the module documentation. A client may send its own
/// `X-Request-Id` (up to 128 letters, digits, `-`, `_`, `.`) to trace a call end to end.
pub async fn request_log(
    request: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let started = Instant::now();
    let request_id = request
        .headers()
        .get(&REQUEST_ID)
        .filter(|value| is_acceptable_id(value))
        .cloned()
        .unwrap_or_else(|| {
            HeaderValue::from_str(&Uuid::now_v7().to_string())
                .expect("a UUID is a valid header value")
        });
    let method = request.method().clone();
    let path = request.path().to_owned();
    let client = client_address::of(&request);
    // An error, rather than a response, is answered by the server itself (a
    // request past its deadline): logged the same, without the header.
    let outcome = next.call(request).await;
    let (status, error) = match &outcome {
        Ok(response) => (response.status(), response.response().error()),
        Err(error) => (error.as_response_error().status_code(), Some(error)),
    };
    let id = request_id.to_str().unwrap_or_default().to_owned();
    if status.is_server_error()
        && let Some(error) = error
    {
        log::error!("request {id} failed: {error}");
    }
    log::info!(
        "{method} {path} {} {:.1}ms request_id={id} client={client}",
        status.as_u16(),
        started.elapsed().as_secs_f64() * 1000.0
    );
    let mut response = outcome?;
    response.headers_mut().insert(REQUEST_ID, request_id);
    Ok(response)
}

fn is_acceptable_id(value: &HeaderValue) -> bool {
    let bytes = value.as_bytes();
    !bytes.is_empty()
        && bytes.len() <= 128
        && bytes
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}
