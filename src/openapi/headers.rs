//! The headers every operation takes and gives by its method, and the responses
//! they bring: entity tags and conditional requests, and idempotency keys; and the
//! request id every operation takes and every response gives.

use utoipa::ToSchema;
use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::path::{HttpMethod, Operation, ParameterBuilder, ParameterIn};
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::{
    ContentBuilder, OpenApi as Document, Ref, RefOr, Required, Response, ResponseBuilder,
};

use crate::api::extract::PRINTABLE_HEADER;
use crate::api::middleware::conditional::MAX_CONDITION_LENGTH;
use crate::api::middleware::idempotency::MAX_KEY_LENGTH;
use crate::api::middleware::request_log::MAX_REQUEST_ID_LENGTH;
use crate::api::tokens::TOKENS_PATH;
use crate::error::{ApiError, Problem};

/// The length of the entity tags the service makes: 32 hex digits in quotes.
const ETAG_LENGTH: usize = 34;

/// Adds the headers and their responses to every operation under `/api/v1/`.
pub fn add_headers(document: &mut Document) {
    let components = document.components.get_or_insert_with(Default::default);
    for (name, mut response) in shared_responses() {
        super::errors::add_rate_limit_headers(&mut response.headers);
        components
            .responses
            .insert(name.to_owned(), RefOr::T(response));
    }
    for (path, item) in document.paths.paths.iter_mut() {
        if !path.starts_with("/api/v1/") || path.ends_with("openapi.json") {
            continue;
        }
        let is_import = path.ends_with("/import");
        // Its answer holds a new token, which is never stored, so never replayed.
        let replayable = path != TOKENS_PATH;
        for (method, operation) in super::operations(item) {
            add_to(operation, &method, is_import, replayable);
        }
    }
}

fn add_to(operation: &mut Operation, method: &HttpMethod, is_import: bool, replayable: bool) {
    let parameters = operation.parameters.get_or_insert_with(Vec::new);
    let responses = &mut operation.responses.responses;
    let refer = |name: &str| RefOr::Ref(Ref::from_response_name(name));
    match method {
        HttpMethod::Get => {
            parameters.push(header_parameter(
                "If-None-Match",
                "The `ETag` of the copy the client has: if it still matches, the answer is 304 with no body.",
                ENTITY_TAGS,
                MAX_CONDITION_LENGTH,
            ));
            responses.insert("304".to_owned(), refer("NotModified"));
        }
        HttpMethod::Post if replayable => {
            parameters.push(header_parameter(
                "Idempotency-Key",
                "Makes the request safe to retry: a retry with the same key and the same request, within 24 hours, gets the first response back (with `Idempotent-Replayed: true`) and does nothing again. Use a new key, such as a fresh UUID, for each new request.",
                PRINTABLE_HEADER,
                MAX_KEY_LENGTH,
            ));
        }
        HttpMethod::Patch | HttpMethod::Delete => {
            parameters.push(header_parameter(
                "If-Match",
                "The `ETag` of the version the change is meant for: if the resource changed since, the answer is 412 and nothing changes. Required when the service runs with `REQUIRE_IF_MATCH`.",
                ENTITY_TAGS,
                MAX_CONDITION_LENGTH,
            ));
            responses.insert("412".to_owned(), refer("PreconditionFailed"));
            responses.insert("428".to_owned(), refer("PreconditionRequired"));
        }
        _ => {}
    }
    for (status, response) in responses.iter_mut() {
        let RefOr::T(response) = response else {
            continue;
        };
        let gives_item = match method {
            HttpMethod::Get => status == "200",
            HttpMethod::Post => status == "201" && !is_import,
            HttpMethod::Patch => status == "200",
            _ => false,
        };
        if gives_item {
            response.headers.insert("ETag".to_owned(), etag_header());
        }
        if matches!(method, HttpMethod::Post) && replayable && status.starts_with('2') {
            response.headers.insert(
                "Idempotent-Replayed".to_owned(),
                RefOr::T(HeaderBuilder::new()
                    .schema(Some(
                        ObjectBuilder::new()
                            .schema_type(Type::String)
                            .enum_values(Some(["true"]))
                            .max_length(Some(4)),
                    ))
                    .description(Some(
                        "`true` when this is the recorded response to an earlier request with the same `Idempotency-Key`",
                    ))
                    .build()),
            );
        }
    }
}

/// What a request id may be made of, as `api::middleware::request_log` keeps it.
const REQUEST_ID_PATTERN: &str = "^[A-Za-z0-9._-]+$";

/// Documents `X-Request-Id` on every operation, under `/api/v1/` or not, and on
/// every response, shared ones included: the request log middleware answers every
/// request with one. Run after the other responses are added.
pub fn add_request_id(document: &mut Document) {
    let components = document.components.get_or_insert_with(Default::default);
    for response in components.responses.values_mut() {
        if let RefOr::T(response) = response {
            response
                .headers
                .insert("X-Request-Id".to_owned(), request_id_header());
        }
    }
    // Only on the answers: a request's own id is never refused (a malformed one is
    // replaced), so a request parameter with a schema would promise a refusal the
    // service does not make.
    for item in document.paths.paths.values_mut() {
        for (_, operation) in super::operations(item) {
            for response in operation.responses.responses.values_mut() {
                if let RefOr::T(response) = response {
                    response
                        .headers
                        .insert("X-Request-Id".to_owned(), request_id_header());
                }
            }
        }
    }
}

fn request_id_header() -> RefOr<utoipa::openapi::header::Header> {
    RefOr::T(
        HeaderBuilder::new()
            .schema(Some(
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .min_length(Some(1))
                    .max_length(Some(MAX_REQUEST_ID_LENGTH))
                    .pattern(Some(REQUEST_ID_PATTERN)),
            ))
            .description(Some(
                "The request's id: the `X-Request-Id` the request sent, if it was 1 to 128 letters, digits, `-`, `_` or `.` (such as the id a proxy or your own system logs it under), else a new UUID. It is on every log line of the request; quote it when reporting a problem.",
            ))
            .build(),
    )
}

/// `*`, or a list of entity tags (RFC 9110 §8.8.3), as `If-Match` and
/// `If-None-Match` take them.
const ENTITY_TAGS: &str = r#"^(\*|(W/)?"[!#-~]*"( *, *(W/)?"[!#-~]*")*)$"#;

fn header_parameter(
    name: &str,
    description: &str,
    pattern: &str,
    max_length: usize,
) -> RefOr<utoipa::openapi::path::Parameter> {
    let schema = ObjectBuilder::new()
        .schema_type(Type::String)
        .min_length(Some(1))
        .max_length(Some(max_length))
        .pattern(Some(pattern));
    RefOr::T(
        ParameterBuilder::new()
            .name(name)
            .parameter_in(ParameterIn::Header)
            .required(Required::False)
            .description(Some(description))
            .schema(Some(schema))
            .build(),
    )
}

fn etag_header() -> RefOr<utoipa::openapi::header::Header> {
    RefOr::T(
        HeaderBuilder::new()
            .schema(Some(
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .min_length(Some(ETAG_LENGTH))
                    .max_length(Some(ETAG_LENGTH))
                    .pattern(Some("^\"[0-9a-f]{32}\"$")),
            ))
            .description(Some(
                "The strong entity tag of this representation; it changes whenever the representation does. Send it back in `If-None-Match` (reads) or `If-Match` (changes).",
            ))
            .build(),
    )
}

/// 304, 412 and 428.
fn shared_responses() -> [(&'static str, Response); 3] {
    let problem = |error: ApiError| {
        ContentBuilder::new()
            .schema(Some(Ref::from_schema_name(Problem::name())))
            .example(Some(
                serde_json::to_value(error.problem()).expect("problems serialize"),
            ))
            .build()
    };
    let etag = || match etag_header() {
        RefOr::T(header) => header,
        RefOr::Ref(_) => unreachable!("etag_header builds the header itself"),
    };
    [
        (
            "NotModified",
            ResponseBuilder::new()
                .description("The representation is unchanged since the `ETag` in `If-None-Match`: use the copy you have. No body.")
                .header("ETag", etag())
                .build(),
        ),
        (
            "PreconditionFailed",
            ResponseBuilder::new()
                .description("The resource changed since the `ETag` in `If-Match` was read; nothing was changed. `ETag` carries the current one: read the resource again and reapply the change.")
                .header("ETag", etag())
                .content(
                    "application/problem+json",
                    problem(ApiError::PreconditionFailed {
                        etag: "\"5d41402abc4b2a76b9719d911017c592\"".to_owned(),
                    }),
                )
                .build(),
        ),
        (
            "PreconditionRequired",
            ResponseBuilder::new()
                .description("The service requires `If-Match` on PATCH and DELETE, and the request had none.")
                .content("application/problem+json", problem(ApiError::PreconditionRequired))
                .build(),
        ),
    ]
}
