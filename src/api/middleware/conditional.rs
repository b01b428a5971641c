//! Conditional requests (RFC 9110 §13). Every item, list, plan document and
//! tracking sheet carries a strong `ETag`, the SHA-256 of its bytes, so it changes
//! exactly when what the client would see changes. A GET whose `If-None-Match`
//! matches answers 304 without a body; a PATCH or DELETE whose `If-Match` no longer
//! matches answers 412 with the current tag, and changes nothing.

use std::future::{Ready, ready};

use actix_web::body::{self, BoxBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::{Method, StatusCode, header};
use actix_web::middleware::Next;
use actix_web::{FromRequest, HttpRequest, HttpResponse, web};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::api::extract::header_text;
use crate::error::ApiError;
use crate::models::Conn;
use crate::models::writer::Writer;

/// Longest `If-Match` or `If-None-Match` header accepted, in characters.
pub const MAX_CONDITION_LENGTH: usize = 255;

/// Whether writes must be conditional: with `require_if_match`, a PATCH or DELETE
/// without `If-Match` is refused (428), so no editor can overwrite unseen changes.
#[derive(Debug, Clone, Copy, Default)]
pub struct WritePolicy {
    pub require_if_match: bool,
}

/// The strong entity tag of a representation: `"` + 32 hex digits of its SHA-256 + `"`.
pub fn etag_of(bytes: &[u8]) -> String {
    etag_of_hashed(Sha256::new_with_prefix(bytes))
}

/// The entity tag of the bytes `hasher` was given, for a representation hashed as
/// it is written (`api::cache`), which is never whole in memory.
pub fn etag_of_hashed(hasher: Sha256) -> String {
    let digest = hasher.finalize();
    let hex: String = digest[..16]
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect();
    format!("\"{hex}\"")
}

/// A JSON response for one item, with its entity tag.
pub fn item_response(status: StatusCode, item: &impl Serialize) -> HttpResponse {
    let body = serde_json::to_vec(item).expect("responses always serialize");
    HttpResponse::build(status)
        .content_type("application/json")
        .insert_header((header::ETAG, etag_of(&body)))
        .body(body)
}

/// One entity tag of a condition header: weak (`W/"..."`) or strong, and its text
/// between the quotes.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Tag {
    weak: bool,
    opaque: String,
}

/// A parsed `If-Match` or `If-None-Match`: `*`, or a list of entity tags.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Condition {
    Any,
    Tags(Vec<Tag>),
}

impl Condition {
    /// Reads the header, or says what is wrong with it (a 400 naming it).
    fn parse(name: &str, value: &header::HeaderValue) -> Result<Self, ApiError> {
        let rule = format!(
            "send the ETag exactly as the server gave it, quotes included (with curl: -H '{name}: \"...\"'), or *"
        );
        let malformed = |why: &str| ApiError::bad_parameter(name, format!("{why}; {rule}"));
        let text = header_text(name, value, MAX_CONDITION_LENGTH, &rule)?;
        if text == "*" {
            return Ok(Self::Any);
        }
        let mut tags = Vec::new();
        let mut rest = text;
        while !rest.is_empty() {
            let (weak, quoted) = match rest.strip_prefix("W/") {
                Some(after) => (true, after),
                None => (false, rest),
            };
            let Some(inner) = quoted.strip_prefix('"') else {
                return Err(malformed("is not a list of quoted entity tags"));
            };
            let Some(end) = inner.find('"') else {
                return Err(malformed("has an entity tag without its closing quote"));
            };
            tags.push(Tag {
                weak,
                opaque: inner[..end].to_owned(),
            });
            rest = inner[end + 1..].trim_start();
            if !rest.is_empty() {
                rest = rest
                    .strip_prefix(',')
                    .ok_or_else(|| malformed("must separate entity tags with commas"))?
                    .trim_start();
            }
        }
        Ok(Self::Tags(tags))
    }

    /// Strong comparison, as `If-Match` uses: a weak tag never matches.
    fn matches_strongly(&self, etag: &str) -> bool {
        match self {
            Self::Any => true,
            Self::Tags(tags) => tags
                .iter()
                .any(|tag| !tag.weak && quoted(&tag.opaque) == etag),
        }
    }

    /// Weak comparison, as `If-None-Match` uses.
    fn matches_weakly(&self, etag: &str) -> bool {
        match self {
            Self::Any => true,
            Self::Tags(tags) => tags.iter().any(|tag| quoted(&tag.opaque) == etag),
        }
    }
}

fn quoted(opaque: &str) -> String {
    format!("\"{opaque}\"")
}

/// Gives every successful GET its entity tag, and answers 304 Not Modified when the
/// request's `If-None-Match` already names it.
pub async fn entity_tags(
    request: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    if request.method() != Method::GET {
        return Ok(next.call(request).await?.map_into_boxed_body());
    }
    let condition = match request.headers().get(header::IF_NONE_MATCH) {
        None => None,
        Some(value) => match Condition::parse("If-None-Match", value) {
            Ok(condition) => Some(condition),
            Err(error) => return Ok(request.error_response(error)),
        },
    };
    let response = next.call(request).await?;
    if response.status() != StatusCode::OK {
        return Ok(response.map_into_boxed_body());
    }
    // A cached representation (`api::cache`) comes with the tag of its plain bytes,
    // worked out once when it was rendered: hashing a megabyte for every reader
    // would cost most of what the cache saves, and its body may be gzipped.
    if let Some(etag) = response.headers().get(header::ETAG) {
        let etag = etag.to_str().unwrap_or_default().to_owned();
        let response = response.map_into_boxed_body();
        return Ok(match condition {
            Some(condition) if condition.matches_weakly(&etag) => {
                let (request, response) = response.into_parts();
                ServiceResponse::new(request, not_modified(etag, response.headers()))
            }
            _ => response,
        });
    }
    let (request, response) = response.into_parts();
    let (head, body) = response.into_parts();
    let bytes = body::to_bytes(body)
        .await
        .map_err(|error| ApiError::Internal(format!("a response body failed: {}", error.into())))?;
    let etag = etag_of(&bytes);
    if condition.is_some_and(|condition| condition.matches_weakly(&etag)) {
        return Ok(ServiceResponse::new(
            request,
            not_modified(etag, head.headers()),
        ));
    }
    let mut response = head.set_body(bytes).map_into_boxed_body();
    response.headers_mut().insert(
        header::ETAG,
        header::HeaderValue::from_str(&etag).expect("an entity tag is ASCII"),
    );
    Ok(ServiceResponse::new(request, response))
}

/// 304 Not Modified for the representation tagged `etag`, keeping the `Vary` of
/// the answer it stands for.
fn not_modified(etag: String, headers: &header::HeaderMap) -> HttpResponse {
    let mut not_modified = HttpResponse::NotModified();
    not_modified.insert_header((header::ETAG, etag));
    if let Some(vary) = headers.get(header::VARY) {
        not_modified.insert_header((header::VARY, vary.clone()));
    }
    not_modified.finish()
}

/// The `If-Match` of a PATCH or DELETE, if it has one.
#[derive(Debug)]
pub struct IfMatch(Option<Condition>);

impl FromRequest for IfMatch {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(request: &HttpRequest, _: &mut Payload) -> Self::Future {
        let required = request
            .app_data::<web::Data<WritePolicy>>()
            .is_some_and(|policy| policy.require_if_match);
        ready(match request.headers().get(header::IF_MATCH) {
            Some(value) => Condition::parse("If-Match", value).map(|c| Self(Some(c))),
            None if required => Err(ApiError::PreconditionRequired),
            None => Ok(Self(None)),
        })
    }
}

impl IfMatch {
    /// Runs `write` if the item still has the entity tag the client named: `current`
    /// locks the item as its writers do and reads it, so of two clients racing with
    /// the same tag exactly one writes and the other gets 412. Both in one
    /// transaction. Without `If-Match`, just `write`.
    pub async fn write<T: Serialize, R>(
        &self,
        writer: &mut Writer<'_>,
        current: impl AsyncFnOnce(&mut Conn) -> Result<T, ApiError>,
        write: impl AsyncFnOnce(&mut Writer<'_>) -> Result<R, ApiError>,
    ) -> Result<R, ApiError> {
        let Some(condition) = &self.0 else {
            return write(writer).await;
        };
        writer
            .atomically(async |writer| {
                let item = current(writer.reader()).await?;
                let etag = etag_of(&serde_json::to_vec(&item).expect("items always serialize"));
                if !condition.matches_strongly(&etag) {
                    return Err(ApiError::PreconditionFailed { etag });
                }
                write(writer).await
            })
            .await
    }
}

#[cfg(test)]
mod tests {
    use actix_web::http::header::HeaderValue;

    use super::{Condition, Tag, etag_of};

    fn parse(text: &str) -> Result<Condition, String> {
        Condition::parse("If-Match", &HeaderValue::from_str(text).expect("ASCII"))
            .map_err(|error| error.to_string())
    }

    #[test]
    fn entity_tags_are_quoted_hashes_of_the_bytes() {
        let tag = etag_of(b"{\"a\":1}");
        assert_eq!(tag.len(), 34);
        assert!(tag.starts_with('"') && tag.ends_with('"'));
        assert_eq!(tag, etag_of(b"{\"a\":1}"));
        assert_ne!(tag, etag_of(b"{\"a\":2}"));
    }

    #[test]
    fn conditions_read_star_and_lists_of_tags() {
        assert_eq!(parse("*"), Ok(Condition::Any));
        let list = parse(r#""abc", W/"d,e" ,"f""#).expect("a valid list");
        let tag = |weak, opaque: &str| Tag {
            weak,
            opaque: opaque.to_owned(),
        };
        assert_eq!(
            list,
            Condition::Tags(vec![tag(false, "abc"), tag(true, "d,e"), tag(false, "f")])
        );
        assert!(list.matches_strongly("\"abc\""));
        assert!(
            !list.matches_strongly("\"d,e\""),
            "weak tags never match strongly"
        );
        assert!(list.matches_weakly("\"d,e\""));
    }

    #[test]
    fn malformed_conditions_say_what_is_wrong() {
        for (text, why) in [
            ("abc", "quoted entity tags"),
            ("\"abc", "closing quote"),
            ("\"a\" \"b\"", "commas"),
            ("  ", "is empty"),
        ] {
            let error = parse(text).expect_err(text);
            assert!(error.contains(why), "{text:?}: {error}");
        }
        let long = format!("\"{}\"", "a".repeat(300));
        assert!(parse(&long).expect_err("too long").contains("255"));
    }
}
