//! `HEAD` is answered as `GET` without its body, as RFC 9110 (§9.3.2) asks of
//! every resource that answers `GET`: the method is read as `GET` before routing,
//! so the same route, access rule and entity tag apply, and actix's HTTP/1 encoder,
//! which remembers that the request was `HEAD`, sends the headers (with the
//! `Content-Length` the body would have) and no body.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::middleware::Next;

/// Middleware: see the module documentation.
pub async fn as_get(
    mut request: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    if request.method() == Method::HEAD {
        request.head_mut().method = Method::GET;
    }
    next.call(request).await
}
