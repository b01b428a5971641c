//! One access line per request (method, route template, path, status, latency,
//! bytes, the token's name (never the token) and the client's address), the request id in an
//! `X-Request-Id` response header so a user can quote it, and the request id and
//! the trace id of a W3C `traceparent` on every line logged while the request is
//! served (see [`crate::logging`]).

use std::time::Instant;

use actix_web::body::{BodySize, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{HttpMessage, web};
use uuid::Uuid;

use super::access::Access;
use super::client_address;
use crate::api::route_table::RouteTable;
use crate::logging::{self, RequestContext};

/// The header that carries the request id both ways.
pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The longest request id a client may send.
pub const MAX_REQUEST_ID_LENGTH: usize = 128;

/// The W3C Trace Context header a tracing proxy or client sends.
const TRACEPARENT: HeaderName = HeaderName::from_static("traceparent");

/// Middleware: see the module documentation. A client may send its own
/// `X-Request-Id` (up to 128 letters, digits, `-`, `_`, `.`) to trace a call end to
/// end; any other is replaced, as is an invalid `traceparent` ignored, so that a
/// proxy's odd header never costs a request.
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
            let id = Uuid::now_v7();
            HeaderValue::from_str(id.as_hyphenated().encode_lower(&mut Uuid::encode_buffer()))
                .expect("a UUID is a valid header value")
        });
    let context = RequestContext {
        request_id: request_id
            .to_str()
            .expect("request ids are ASCII")
            .to_owned(),
        trace_id: request
            .headers()
            .get(&TRACEPARENT)
            .and_then(|value| trace_id(value.as_bytes())),
    };
    // Found before the request goes on (it is not ours after), in the service's own
    // table: actix's `match_pattern` would run a regular expression per route.
    let routes = request.app_data::<web::Data<RouteTable>>().cloned();
    // HEAD is served as GET (see `middleware::head`), and documented as GET.
    let lookup = match *request.method() {
        Method::HEAD => Method::GET,
        ref method => method.clone(),
    };
    let route = routes
        .as_deref()
        .and_then(|routes| routes.operation(&lookup, request.match_info().as_str()))
        .map(|(_, operation)| operation.pattern.as_str());
    let method = request.method().clone();
    let path = request.path().to_owned();
    let client = client_address::of(&request).to_string();
    logging::within_request(context, async move {
        // An error, rather than a response, is answered by the server itself (a
        // request past its deadline): logged the same, without the header.
        let outcome = next.call(request).await;
        let (status, error) = match &outcome {
            Ok(response) => (response.status(), response.response().error()),
            Err(error) => (error.as_response_error().status_code(), Some(error)),
        };
        if status.is_server_error()
            && let Some(error) = error
        {
            log::error!("request failed: {error}");
        }
        let (bytes, access) = match &outcome {
            Ok(response) => (
                match response.response().body().size() {
                    BodySize::Sized(bytes) => Some(bytes),
                    BodySize::None => Some(0),
                    BodySize::Stream => None,
                },
                response.request().extensions().get::<Access>().cloned(),
            ),
            Err(_) => (None, None),
        };
        let token_name = access
            .as_ref()
            .filter(|access| access.token_id().is_some())
            .map(Access::actor);
        log::info!(
            method = method.as_str(),
            route,
            path = path.as_str(),
            status = status.as_u16(),
            latency_ms = started.elapsed().as_micros() as f64 / 1000.0,
            bytes,
            token_name,
            client = client.as_str();
            "{method} {path} {}",
            status.as_u16()
        );
        let mut response = outcome?;
        response.headers_mut().insert(REQUEST_ID, request_id);
        Ok(response)
    })
    .await
}

fn is_acceptable_id(value: &HeaderValue) -> bool {
    let bytes = value.as_bytes();
    !bytes.is_empty()
        && bytes.len() <= MAX_REQUEST_ID_LENGTH
        && bytes
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

/// The trace id of a version-00 `traceparent`
/// (`00-<32 hex trace id>-<16 hex parent id>-<2 hex flags>`, lowercase), unless the
/// header is malformed or either id is all zeros, which W3C Trace Context says to
/// ignore.
fn trace_id(header: &[u8]) -> Option<String> {
    let text = std::str::from_utf8(header).ok()?;
    let mut parts = text.split('-');
    let (Some("00"), Some(trace), Some(parent), Some(flags), None) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return None;
    };
    let hex = |part: &str, length: usize| {
        part.len() == length && part.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
    };
    let zero = |part: &str| part.bytes().all(|b| b == b'0');
    (hex(trace, 32) && hex(parent, 16) && hex(flags, 2) && !zero(trace) && !zero(parent))
        .then(|| trace.to_owned())
}

#[cfg(test)]
mod tests {
    use super::trace_id;

    #[test]
    fn a_valid_traceparent_gives_its_trace_id() {
        assert_eq!(
            trace_id(b"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01").as_deref(),
            Some("4bf92f3577b34da6a3ce929d0e0e4736")
        );
    }

    #[test]
    fn an_invalid_traceparent_is_ignored() {
        for header in [
            &b""[..],
            b"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",
            b"01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            b"00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
            b"00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            b"00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
            b"00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01",
            b"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-00",
            b"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0g",
        ] {
            assert_eq!(
                trace_id(header),
                None,
                "{}",
                String::from_utf8_lossy(header)
            );
        }
    }
}
