//! Idempotent retries: a POST with an `Idempotency-Key` header runs once. Its work
//! and its response are committed in one transaction, so a retry with the same key
//! and body gets the first response back (status, headers and body, plus
//! `Idempotent-Replayed: true`) without the work being done again. The same key
//! with another request is a 422; a retry while the first is still running, a 409.
//! Keys live in PostgreSQL, so every instance sees them, for 24 hours, and belong to
//! the token that sent them: another token's same key is another key. A request
//! that fails records nothing: once its cause is fixed, the same key runs it.
//! Token creation takes no key: its answer holds a token, which is never stored.

use actix_web::body::{self, BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::http::{Method, StatusCode, header};
use actix_web::middleware::Next;
use actix_web::{HttpMessage, HttpResponse, web};
use futures_util::StreamExt;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::access::Access;
use crate::api::connection::{HeldConnection, Pooled, pool_of, pooled, sequencer_of};
use crate::api::extract::{BodyLimit, header_text};
use crate::api::tokens::TOKENS_PATH;
use crate::db::Pool;
use crate::error::ApiError;
use crate::models::idempotency_key::{self, OwnedKey, SavedResponse};

/// The request header that names a retry-safe request.
pub const HEADER: &str = "Idempotency-Key";
/// Longest key accepted, in characters.
pub const MAX_KEY_LENGTH: usize = 255;
/// The response header that marks a replayed response.
const REPLAYED: &str = "Idempotent-Replayed";

/// Runs a POST that has an `Idempotency-Key` once (see the module documentation);
/// every other request passes through.
pub async fn once_per_key(
    mut request: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let key = match request.headers().get(HEADER) {
        Some(value) if request.method() == Method::POST => value,
        _ => return Ok(next.call(request).await?.map_into_boxed_body()),
    };
    // A key belongs to a token; a request without one (to a path that does not
    // exist, say) is answered as if it had no key.
    let Some(token_id) = request
        .extensions()
        .get::<Access>()
        .and_then(Access::token_id)
    else {
        return Ok(next.call(request).await?.map_into_boxed_body());
    };
    let key = match read_key(key).and_then(|key| owned_key(&request, token_id, key)) {
        Ok(key) => key,
        Err(error) => return Ok(request.error_response(error)),
    };
    let limit = request
        .app_data::<web::Data<BodyLimit>>()
        .map_or(crate::config::DEFAULT_BODY_LIMIT, |limit| limit.0);
    let body = match read_body(&mut request, limit).await {
        Ok(body) => body,
        Err(error) => return Ok(request.error_response(error)),
    };
    let fingerprint = fingerprint(&request, &body);
    request.set_payload(body.into());
    let pool = pool_of(request.request());
    let mut conn = match claim(&pool, &key).await {
        Ok(conn) => conn,
        Err(error) => return Ok(request.error_response(error)),
    };
    match idempotency_key::saved_response(&mut conn, &key).await {
        Ok(None) => {}
        Ok(Some(first)) => {
            let answer = if first.fingerprint == fingerprint {
                Ok(replay(first))
            } else {
                Err(ApiError::invalid(
                    HEADER,
                    "was first used with a different request (method, path, query, content type or body) in the last 24 hours; use a new key for a new request",
                ))
            };
            // The lookup wrote nothing; ending the claim releases the key.
            let ended = idempotency_key::release(&mut conn).await;
            return Ok(match answer.and_then(|reply| ended.map(|()| reply)) {
                Ok(reply) => ServiceResponse::new(request.request().clone(), reply),
                Err(error) => request.error_response(error),
            });
        }
        Err(error) => return Ok(request.error_response(error)),
    }
    let held = HeldConnection::new(conn);
    request.extensions_mut().insert(held.clone());
    let response = next.call(request).await?;
    let mut conn = held
        .take()
        .expect("the handler gives the held connection back when it drops it");
    if !response.status().is_success() {
        // Whatever the handler began rolls back with the key: nothing is recorded.
        let _ = idempotency_key::release(&mut conn).await;
        return Ok(response.map_into_boxed_body());
    }
    let (http_request, response) = response.into_parts();
    let (head, body) = response.into_parts();
    let body = body::to_bytes(body)
        .await
        .map_err(|error| ApiError::Internal(format!("a response body failed: {}", error.into())))?;
    let saved = SavedResponse {
        fingerprint,
        status: head.status().as_u16(),
        headers: (head.headers().iter())
            .filter_map(|(name, value)| {
                Some((name.as_str().to_owned(), value.to_str().ok()?.to_owned()))
            })
            .collect(),
        body: body.to_vec(),
    };
    let committed = idempotency_key::save_and_commit(&mut conn, &key, &saved).await;
    sequencer_of(&http_request).wake();
    Ok(match committed {
        Ok(()) => ServiceResponse::new(http_request, head.set_body(body).map_into_boxed_body()),
        Err(error) => ServiceResponse::from_err(error, http_request).map_into_boxed_body(),
    })
}

/// The key of the request's token; token creation refuses keys.
fn owned_key(request: &ServiceRequest, token_id: Uuid, key: String) -> Result<OwnedKey, ApiError> {
    // Decoded, as the router sees it: `/api/v1/%74okens` is token creation too.
    if request.match_info().as_str() == TOKENS_PATH {
        return Err(ApiError::bad_parameter(
            HEADER,
            "is not taken when creating a token, as the answer holds the token and is never stored; leave it out, and if an answer is lost, list the tokens and revoke the one it made",
        ));
    }
    Ok(OwnedKey { token_id, key })
}

/// The key, if it is 1 to 255 printable ASCII characters.
fn read_key(value: &HeaderValue) -> Result<String, ApiError> {
    let rule = format!(
        "use 1 to {MAX_KEY_LENGTH} printable ASCII characters, such as a UUID made for this request"
    );
    header_text(HEADER, value, MAX_KEY_LENGTH, &rule).map(str::to_owned)
}

/// The whole request body, within the body limit (a 413 past it).
async fn read_body(request: &mut ServiceRequest, limit: usize) -> Result<web::Bytes, ApiError> {
    let mut payload = request.take_payload();
    let mut body = web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|error| ApiError::BadRequest {
            detail: format!("the body could not be read: {error}"),
            errors: Vec::new(),
        })?;
        if body.len() + chunk.len() > limit {
            return Err(ApiError::PayloadTooLarge(limit));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}

/// What makes two requests the same: method, path and query, content type and
/// body. Each part is hashed with its length, and a header with whether it was
/// sent at all, so that no two different requests run together.
fn fingerprint(request: &ServiceRequest, body: &[u8]) -> Vec<u8> {
    let header = |name| request.headers().get(name).map(HeaderValue::as_bytes);
    let mut hash = Sha256::new();
    for part in [
        Some(request.method().as_str().as_bytes()),
        Some(request.uri().path().as_bytes()),
        Some(request.query_string().as_bytes()),
        header(header::CONTENT_TYPE.as_str()),
        Some(body),
    ] {
        hash.update([u8::from(part.is_some())]);
        let part = part.unwrap_or_default();
        hash.update((part.len() as u64).to_be_bytes());
        hash.update(part);
    }
    hash.finalize().to_vec()
}

/// A connection whose transaction holds the key, or a 409 while another request
/// holds it.
async fn claim(pool: &Pool, key: &OwnedKey) -> Result<Pooled, ApiError> {
    let mut conn = pooled(pool).await?;
    idempotency_key::claim(&mut conn, key).await?;
    Ok(conn)
}

/// The recorded response, sent again with `Idempotent-Replayed: true`.
fn replay(saved: SavedResponse) -> HttpResponse {
    let status = StatusCode::from_u16(saved.status).unwrap_or(StatusCode::OK);
    let mut response = HttpResponse::build(status);
    for (name, value) in &saved.headers {
        if let (Ok(name), Ok(value)) = (
            HeaderName::try_from(name.as_str()),
            HeaderValue::from_str(value),
        ) {
            response.append_header((name, value));
        }
    }
    response.insert_header((REPLAYED, "true"));
    response.body(saved.body)
}
