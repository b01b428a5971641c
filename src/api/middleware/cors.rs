//! Cross-origin calls (CORS) from the member portal's pages in a browser: allowed
//! only from the origins the service is configured with, none by default. Tokens
//! travel in a header, never in cookies, so credentials are not allowed.

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::{HttpResponse, web};

/// The request headers a browser page may send: those the API reads.
const ALLOWED_HEADERS: &str =
    "Authorization, Content-Type, If-Match, If-None-Match, Idempotency-Key";
/// The response headers a browser page may read beyond the simple ones.
const EXPOSED_HEADERS: &str = "ETag, Location, Link, Retry-After, Idempotent-Replayed, X-Request-Id, \
     Content-Disposition, WWW-Authenticate, RateLimit, RateLimit-Policy";
/// How long a browser may keep a preflight answer, in seconds.
const PREFLIGHT_MAX_AGE: &str = "600";

/// The origins whose pages may call the API, as `scheme://host[:port]`.
#[derive(Debug, Clone, Default)]
pub struct AllowedOrigins(Vec<String>);

impl AllowedOrigins {
    /// Checks each configured origin: a scheme and a host, nothing after.
    pub fn new(origins: &[String]) -> Result<Self, String> {
        let mut allowed = Vec::new();
        for origin in origins.iter().map(|origin| origin.trim()) {
            let host = origin
                .strip_prefix("https://")
                .or_else(|| origin.strip_prefix("http://"));
            match host {
                Some(host) if !host.is_empty() && !host.contains(['/', '?', '#', '*']) => {
                    allowed.push(origin.to_ascii_lowercase());
                }
                _ => {
                    return Err(format!(
                        "CORS origin {origin:?} must be a scheme and host such as https://members.example.org (no path, no trailing slash, no wildcard)"
                    ));
                }
            }
        }
        Ok(Self(allowed))
    }

    fn allows(&self, origin: &str) -> bool {
        self.0
            .iter()
            .any(|allowed| allowed.eq_ignore_ascii_case(origin))
    }
}

/// Answers preflight requests from allowed origins, and marks the answers to their
/// requests as readable by them. Requests from other origins are served as if
/// CORS did not exist, so the browser keeps their answers from the page.
pub async fn cross_origin(
    request: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let configured = request
        .app_data::<web::Data<AllowedOrigins>>()
        .filter(|origins| !origins.0.is_empty())
        .cloned();
    let Some(origins) = configured else {
        return Ok(next.call(request).await?.map_into_boxed_body());
    };
    let origin = request
        .headers()
        .get(header::ORIGIN)
        .filter(|origin| origin.to_str().is_ok_and(|origin| origins.allows(origin)))
        .cloned();
    let preflight = request.method() == Method::OPTIONS
        && request
            .headers()
            .contains_key(header::ACCESS_CONTROL_REQUEST_METHOD);
    let mut response = match (&origin, preflight) {
        (Some(origin), true) => {
            let answer = HttpResponse::build(StatusCode::NO_CONTENT)
                .insert_header((header::ACCESS_CONTROL_ALLOW_ORIGIN, origin.clone()))
                .insert_header((
                    header::ACCESS_CONTROL_ALLOW_METHODS,
                    "GET, POST, PATCH, DELETE",
                ))
                .insert_header((header::ACCESS_CONTROL_ALLOW_HEADERS, ALLOWED_HEADERS))
                .insert_header((header::ACCESS_CONTROL_MAX_AGE, PREFLIGHT_MAX_AGE))
                .finish();
            request.into_response(answer)
        }
        (Some(origin), false) => {
            let mut response = next.call(request).await?.map_into_boxed_body();
            let headers = response.headers_mut();
            headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin.clone());
            headers.insert(
                header::ACCESS_CONTROL_EXPOSE_HEADERS,
                HeaderValue::from_static(EXPOSED_HEADERS),
            );
            response
        }
        (None, _) => next.call(request).await?.map_into_boxed_body(),
    };
    // Caches must not give one origin's answer to another.
    crate::api::vary_on(response.headers_mut(), "Origin");
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::AllowedOrigins;

    #[test]
    fn origins_are_a_scheme_and_a_host() {
        let ok = AllowedOrigins::new(&[
            "https://members.example.org".to_owned(),
            "http://localhost:3000".to_owned(),
        ])
        .expect("valid origins");
        assert!(ok.allows("https://MEMBERS.example.org"));
        assert!(!ok.allows("https://members.example.org.evil.test"));
        for bad in [
            "members.example.org",
            "https://example.org/",
            "https://*.example.org",
            "https://",
        ] {
            let error = AllowedOrigins::new(&[bad.to_owned()]).expect_err(bad);
            assert!(error.contains("scheme and host"), "{bad}: {error}");
        }
    }
}
