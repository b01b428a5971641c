//! How request parts become values or problems: JSON bodies, query strings and ids
//! in paths, plus the answer for paths and methods that do not exist.

use std::future::{Ready, ready};

use actix_web::dev::Payload;
use actix_web::error::JsonPayloadError;
use actix_web::{FromRequest, HttpRequest, web};
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
    let whole_error = match web::Query::<T>::from_query(query) {
        Ok(parsed) => return Ok(parsed.into_inner()),
        Err(error) => error,
    };
    // Parse each parameter alone to learn which ones are at fault.
    let errors: Vec<FieldError> = query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .filter_map(|pair| {
            let error = web::Query::<T>::from_query(pair).err()?;
            let name = pair.split('=').next().unwrap_or(pair);
            Some(FieldError::new(name, describe(&error.to_string())))
        })
        .collect();
    let detail = match errors.as_slice() {
        [] => describe(&whole_error.to_string()),
        [one] => format!("query parameter {}: {}", one.field, one.message),
        many => format!("{} query parameters are invalid; see errors", many.len()),
    };
    Err(ApiError::BadRequest { detail, errors })
}

/// serde's message without the "Query deserialize error: " prefix actix adds.
fn describe(message: &str) -> String {
    message
        .strip_prefix("Query deserialize error: ")
        .unwrap_or(message)
        .to_owned()
}
