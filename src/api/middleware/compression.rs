//! gzip for answers worth compressing (the plan document, tracking sheets, long
//! lists) when the client accepts it. Smaller answers go as they are: setting up a
//! compressor takes a few hundred kilobytes of zeroed state, which for a goal's
//! kilobyte of JSON cost more than the bytes it saved (it was a sixth of the time
//! of every GET under load, in page faults and memset).

use std::io::Write;

use actix_web::body::{self, BodySize, BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderMap, HeaderValue};
use actix_web::middleware::Next;
use flate2::Compression;
use flate2::write::GzEncoder;

use crate::error::ApiError;

/// Smallest body compressed, in bytes: about one network packet.
pub const MIN_COMPRESSED: usize = 1400;

/// Middleware: see the module documentation.
pub async fn gzip(
    request: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let accepted = accepts_gzip(request.headers());
    let mut response = next.call(request).await?.map_into_boxed_body();
    // Whether an answer is compressed depends on this request header, so caches
    // must keep them apart.
    crate::api::vary_on(response.headers_mut(), "Accept-Encoding");
    let worth_it = match response.response().body().size() {
        BodySize::Sized(size) => size >= MIN_COMPRESSED as u64,
        _ => false,
    };
    let status = response.status();
    // An answer already encoded is a cached gzip body (`api::cache`): as it is.
    if !accepted
        || !worth_it
        || response.headers().contains_key(header::CONTENT_ENCODING)
        || matches!(status, StatusCode::NO_CONTENT | StatusCode::PARTIAL_CONTENT)
    {
        return Ok(response);
    }
    let (request, response) = response.into_parts();
    let (mut head, body) = response.into_parts();
    let compressed = body::to_bytes(body)
        .await
        .map_err(|error| ApiError::Internal(format!("a response body failed: {error}")))
        .and_then(|bytes| compress(&bytes))?;
    head.headers_mut()
        .insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
    Ok(ServiceResponse::new(
        request,
        head.set_body(compressed).map_into_boxed_body(),
    ))
}

/// `bytes` gzipped, as this middleware sends them.
fn compress(bytes: &[u8]) -> Result<Vec<u8>, ApiError> {
    let mut encoder = encoder(Vec::with_capacity(bytes.len() / 4));
    encoder
        .write_all(bytes)
        .and_then(|()| encoder.finish())
        .map_err(|error| ApiError::Internal(format!("gzip failed: {error}")))
}

/// A gzip stream into `out`, compressed as this middleware compresses: the
/// representation cache (`api::cache`) writes its bodies through one.
pub fn encoder<W: Write>(out: W) -> GzEncoder<W> {
    GzEncoder::new(out, Compression::fast())
}

/// Whether `Accept-Encoding` allows gzip: named (or `*`) without `q=0`.
pub fn accepts_gzip(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT_ENCODING)
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .any(|coding| {
            let mut parts = coding.split(';').map(str::trim);
            let name = parts.next().unwrap_or_default();
            let refused = parts.any(|parameter| {
                parameter
                    .strip_prefix("q=")
                    .and_then(|q| q.parse::<f32>().ok())
                    .is_some_and(|q| q == 0.0)
            });
            (name.eq_ignore_ascii_case("gzip") || name == "*") && !refused
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn accepts(value: &str) -> bool {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::ACCEPT_ENCODING,
            HeaderValue::from_str(value).expect("a header value"),
        );
        accepts_gzip(&headers)
    }

    #[test]
    fn gzip_is_used_when_the_client_allows_it() {
        assert!(accepts("gzip"));
        assert!(accepts("br, GZIP;q=0.5"));
        assert!(accepts("*"));
        assert!(!accepts("br"));
        assert!(!accepts("gzip;q=0, br"));
        assert!(!accepts("identity"));
        assert!(!accepts_gzip(&HeaderMap::new()));
    }
}
