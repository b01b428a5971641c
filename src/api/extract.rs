//! How request parts become values or problems: JSON bodies, query strings and ids
//! in paths, plus the answer for paths and methods that do not exist.

use std::collections::HashSet;
use std::future::{Ready, ready};

use actix_web::dev::Payload;
use actix_web::error::JsonPayloadError;
use actix_web::http::header::{ContentType, HeaderValue};
use actix_web::{FromRequest, HttpMessage, HttpRequest, web};
use serde::de::DeserializeOwned;

use crate::error::{ApiError, FieldError};

/// JSON body settings: the size limit and how each failure is told to the client.
pub fn json_config(body_limit: usize) -> web::JsonConfig {
    web::JsonConfig::default()
        .limit(body_limit)
        .error_handler(move |error, _request| json_error(error, body_limit).into())
}

fn json_error(error: JsonPayloadError, body_limit: usize) -> ApiError {
    match error {
        JsonPayloadError::OverflowKnownLength { .. } | JsonPayloadError::Overflow { .. } => {
            ApiError::PayloadTooLarge(body_limit)
        }
        JsonPayloadError::ContentType => ApiError::UnsupportedMediaType(
            "send the body as JSON with the header Content-Type: application/json (with curl: -H 'Content-Type: application/json')".to_owned(),
        ),
        JsonPayloadError::Deserialize(error) if error.is_eof() && error.line() == 1 && error.column() == 0 => {
            ApiError::BadRequest {
                detail: "the request body is empty; send a JSON object".to_owned(),
                errors: Vec::new(),
            }
        }
        JsonPayloadError::Deserialize(error) => ApiError::BadRequest {
            detail: format!("the body is not valid JSON: {error}"),
            errors: Vec::new(),
        },
        other => ApiError::BadRequest {
            detail: format!("the body could not be read: {other}"),
            errors: Vec::new(),
        },
    }
}

/// Ids in paths: a segment that is not a UUID names nothing (see [`super::fallback::not_an_id`]).
pub fn path_config() -> web::PathConfig {
    web::PathConfig::default()
        .error_handler(|_error, request| super::fallback::not_an_id(request).into())
}

/// Query parameters read into `T`, which denies unknown fields. Each bad parameter
/// is named in the 400 answer, not only the first.
#[derive(Debug)]
pub struct QueryParams<T>(pub T);

impl<T: DeserializeOwned> FromRequest for QueryParams<T> {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(request: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(parse_query(request.query_string()).map(QueryParams))
    }
}

fn parse_query<T: DeserializeOwned>(query: &str) -> Result<T, ApiError> {
    let mut errors = misused_parameters(query);
    let mut whole_error = String::new();
    if errors.is_empty() {
        match web::Query::<T>::from_query(query) {
            Ok(parsed) => return Ok(parsed.into_inner()),
            Err(error) => whole_error = describe(&error.to_string()),
        }
        // Parse each parameter alone to learn which ones are at fault.
        errors = query
            .split('&')
            .filter(|pair| !pair.is_empty())
            .filter_map(|pair| {
                let error = web::Query::<T>::from_query(pair).err()?;
                let name = pair.split('=').next().unwrap_or(pair);
                Some(FieldError::new(name, describe(&error.to_string())))
            })
            .collect();
    }
    let detail = match errors.as_slice() {
        [] => whole_error,
        [one] => format!("query parameter {}: {}", one.field, one.message),
        many => format!("{} query parameters are invalid; see errors", many.len()),
    };
    Err(ApiError::BadRequest { detail, errors })
}

/// What is wrong with the parameters whatever the route: one given twice, which
/// serde reports without its name, and a NUL character, which PostgreSQL takes in
/// no text.
fn misused_parameters(query: &str) -> Vec<FieldError> {
    let Ok(pairs) = web::Query::<Vec<(String, String)>>::from_query(query) else {
        return Vec::new();
    };
    let mut seen = HashSet::new();
    let mut errors: Vec<FieldError> = Vec::new();
    for (name, value) in pairs.iter() {
        let message = if value.contains('\0') || name.contains('\0') {
            "holds a NUL character (%00), which no value may"
        } else if !seen.insert(name) {
            "is given more than once; give it once"
        } else {
            continue;
        };
        if !errors.iter().any(|error| &error.field == name) {
            errors.push(FieldError::new(name, message));
        }
    }
    errors
}

/// serde's message without the "Query deserialize error: " prefix actix adds.
fn describe(message: &str) -> String {
    message
        .strip_prefix("Query deserialize error: ")
        .unwrap_or(message)
        .to_owned()
}

/// The request body limit, in bytes, as configured: the routes that read their
/// body themselves (imports of JSON or text) enforce it with [`read_json_or_text`].
#[derive(Debug, Clone, Copy)]
pub struct BodyLimit(pub usize);

/// How a body that may be JSON or text was sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sent {
    Json,
    Text,
}

/// Reads a body sent as JSON (`application/json` or `+json`) or as one of the
/// `text/<subtype>` types in `text_types`, whole and within `limit` (else a 413).
/// Any other content type is a 415 whose detail is `what_to_send`.
pub async fn read_json_or_text(
    request: &HttpRequest,
    body: web::Payload,
    limit: usize,
    text_types: &[&str],
    what_to_send: &str,
) -> Result<(Sent, web::Bytes), ApiError> {
    let mime = request
        .mime_type()
        .ok()
        .flatten()
        .unwrap_or(ContentType::octet_stream().0);
    let sent = if mime.subtype() == "json" || mime.suffix().is_some_and(|suffix| suffix == "json") {
        Sent::Json
    } else if mime.type_() == "text" && text_types.contains(&mime.subtype().as_str()) {
        Sent::Text
    } else {
        return Err(ApiError::UnsupportedMediaType(what_to_send.to_owned()));
    };
    let bytes = body
        .to_bytes_limited(limit)
        .await
        .map_err(|_| ApiError::PayloadTooLarge(limit))?
        .map_err(|error| ApiError::BadRequest {
            detail: format!("the body could not be read: {error}"),
            errors: Vec::new(),
        })?;
    Ok((sent, bytes))
}

/// Parses a JSON body, or says where it breaks.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice(bytes).map_err(|error| ApiError::BadRequest {
        detail: format!("the body is not valid JSON: {error}"),
        errors: Vec::new(),
    })
}

/// What [`header_text`] accepts, as the OpenAPI document states it: printable
/// ASCII (space to `~`; no tab or other control character), not blank.
pub const PRINTABLE_HEADER: &str = "^[ -~]*[!-~][ -~]*$";

/// A request header's value, trimmed: 1 to `max_length` characters of printable
/// ASCII ([`PRINTABLE_HEADER`]), or a 400 naming the header and ending with
/// `rule`, what to send.
pub fn header_text<'a>(
    name: &str,
    value: &'a HeaderValue,
    max_length: usize,
    rule: &str,
) -> Result<&'a str, ApiError> {
    let bad = |why: String| ApiError::bad_parameter(name, format!("{why}; {rule}"));
    // `HeaderValue::to_str` also lets a tab through, which the document refuses.
    let text = value
        .to_str()
        .ok()
        .filter(|text| text.bytes().all(|byte| (b' '..=b'~').contains(&byte)))
        .ok_or_else(|| {
            bad("is not printable ASCII (a tab or other control character is not)".to_owned())
        })?;
    if text.len() > max_length {
        return Err(bad(format!("is longer than {max_length} characters")));
    }
    let text = text.trim();
    if text.is_empty() {
        return Err(bad("is empty".to_owned()));
    }
    Ok(text)
}
