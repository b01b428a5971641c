//! The error responses of each operation, as references to shared ones.

use utoipa::ToSchema;
use utoipa::openapi::path::{HttpMethod, Operation, ParameterIn};
use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, SchemaFormat, Type};
use utoipa::openapi::{
    ContentBuilder, HeaderBuilder, OpenApi as Document, Ref, RefOr, Response, ResponseBuilder,
};

use std::collections::BTreeMap;

use utoipa::openapi::header::Header;

use crate::api::middleware::access::Rule;
use crate::error::{ApiError, FieldError, Problem};

/// The shared error responses: name, status, description and an example error.
const ERRORS: [(&str, u16, &str); 11] = [
    (
        "BadRequest",
        400,
        "The request could not be read: malformed JSON, an empty body, or a bad query parameter or header (named in `errors`). A token in the URL is refused this way too: send it in the `Authorization` header.",
    ),
    (
        "Unauthorized",
        401,
        "The operation needs an API token and the request has none, or one that does not work (malformed, unknown, expired or revoked; `detail` says which). Send `Authorization: Bearer <token>`.",
    ),
    (
        "Forbidden",
        403,
        "The token works but lacks the scope this operation needs; `detail` and `WWW-Authenticate` name it.",
    ),
    (
        "TooManyRequests",
        429,
        "The token (or, without one, the client address) has used up its requests for now; retry after the number of seconds in `Retry-After`.",
    ),
    (
        "NotFound",
        404,
        "No resource has the id in the path (or it is not a UUID), or an id in the body names no resource (that field is named in `errors`).",
    ),
    (
        "Conflict",
        409,
        "The request conflicts with the current state: the resource still has children (repeat with `cascade=true`), it changed at the same moment, or a request with the same `Idempotency-Key` is still running (retry after `Retry-After` seconds).",
    ),
    (
        "PayloadTooLarge",
        413,
        "The body is larger than the server accepts (2 MiB unless configured otherwise).",
    ),
    (
        "UnsupportedMediaType",
        415,
        "The body is not sent as `application/json`.",
    ),
    (
        "ValidationFailed",
        422,
        "The body is JSON but breaks rules; `errors` names every bad field and the rule it breaks.",
    ),
    (
        "InternalError",
        500,
        "A failure on the server's side; the `X-Request-Id` header identifies it in the logs.",
    ),
    (
        "ServiceUnavailable",
        503,
        "The database cannot be reached, or did not answer within the request timeout, or (for a plan's document and tracking sheet) too many large answers are being prepared at once; retry after the number of seconds in `Retry-After` (a write repeated with its `Idempotency-Key` is applied once).",
    ),
];

/// Adds the shared error responses and refers each operation to those it can give.
pub fn add_error_responses(document: &mut Document) {
    let components = document.components.get_or_insert_with(Default::default);
    for (name, status, description) in ERRORS {
        let mut response = shared_response(status, description);
        if (400..500).contains(&status) {
            add_rate_limit_headers(&mut response.headers);
        }
        components
            .responses
            .insert(name.to_owned(), RefOr::T(response));
    }
    for (path, item) in document.paths.paths.iter_mut() {
        let uses_database =
            path.starts_with("/api/v1/") && !path.ends_with("openapi.json") || path == "/readyz";
        for (method, operation) in super::operations(item) {
            add_errors(operation, path, &method, uses_database);
            add_access_errors(operation);
        }
    }
}

fn shared_response(status: u16, description: &str) -> Response {
    let example = serde_json::to_value(example_problem(status)).unwrap_or_default();
    let mut response = ResponseBuilder::new().description(description).content(
        "application/problem+json",
        ContentBuilder::new()
            .schema(Some(Ref::from_schema_name(Problem::name())))
            .example(Some(example))
            .build(),
    );
    if status == 503 || status == 429 {
        let seconds = ObjectBuilder::new()
            .schema_type(Type::Integer)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::Int32)))
            .minimum(Some(1))
            .maximum(Some(3600));
        response = response.header(
            "Retry-After",
            HeaderBuilder::new()
                .schema(Some(seconds))
                .description(Some("Seconds to wait before retrying"))
                .build(),
        );
    }
    if status == 401 || status == 403 {
        response = response.header(
            "WWW-Authenticate",
            HeaderBuilder::new()
                .schema(Some(
                    ObjectBuilder::new()
                        .schema_type(Type::String)
                        .pattern(Some("^Bearer realm=\"strategy-tracker\"")),
                ))
                .description(Some(
                    "The Bearer challenge (RFC 6750), with `error` and, for a 403, the `scope` needed",
                ))
                .build(),
        );
    }
    response.build()
}

fn add_errors(operation: &mut Operation, path: &str, method: &HttpMethod, uses_database: bool) {
    let has_query_or_headers = operation.parameters.iter().flatten().any(|parameter| {
        matches!(parameter, RefOr::T(p) if matches!(p.parameter_in, ParameterIn::Query | ParameterIn::Header))
    });
    let has_body = operation.request_body.is_some();
    let writes = matches!(
        method,
        HttpMethod::Post | HttpMethod::Patch | HttpMethod::Delete
    );
    let mut add = |status: u16, applies: bool| {
        if applies {
            let (name, ..) = ERRORS
                .iter()
                .find(|(_, s, _)| *s == status)
                .expect("every status added has a shared response");
            operation.responses.responses.insert(
                status.to_string(),
                RefOr::Ref(Ref::from_response_name(*name)),
            );
        }
    };
    add(400, has_query_or_headers || has_body);
    // A body may name other resources by id (`parent_goal_id`).
    add(404, path.contains('{') || has_body);
    add(409, writes && uses_database);
    add(413, has_body);
    add(415, has_body);
    add(422, has_body);
    add(500, true);
    add(503, uses_database);
}

/// The answers of the access check (`crate::api::access`): 401 and 403 where a
/// token can be needed, 429 where requests are counted; and the rate limit headers
/// on every answer of a counted operation.
fn add_access_errors(operation: &mut Operation) {
    let security = serde_json::to_value(&operation.security).unwrap_or_default();
    if matches!(Rule::declared(&security), None | Some(Rule::Anyone)) {
        return;
    }
    for (status, name) in [
        ("401", "Unauthorized"),
        ("403", "Forbidden"),
        ("429", "TooManyRequests"),
    ] {
        operation
            .responses
            .responses
            .insert(status.to_owned(), RefOr::Ref(Ref::from_response_name(name)));
    }
    for response in operation.responses.responses.values_mut() {
        if let RefOr::T(response) = response {
            add_rate_limit_headers(&mut response.headers);
        }
    }
}

/// The `RateLimit-Policy` and `RateLimit` headers of the IETF draft, as
/// `crate::api::rate_limit` sends them on the answers to counted operations.
pub fn add_rate_limit_headers(headers: &mut BTreeMap<String, RefOr<Header>>) {
    for (name, pattern, description) in [
        (
            "RateLimit-Policy",
            r#"^"(token|address)";q=[0-9]{1,10};w=60$"#,
            "The limit that applies: `\"token\";q=1200;w=60` is 1,200 requests a minute for the token (`\"address\"` for calls without one); absent where no limit applies",
        ),
        (
            "RateLimit",
            r#"^"(token|address)";r=[0-9]{1,10};t=[0-9]{1,10}$"#,
            "What is left of it: `\"token\";r=1187;t=1` is 1,187 requests left, and the whole quota back in 1 second; absent where no limit applies",
        ),
    ] {
        headers.insert(
            name.to_owned(),
            HeaderBuilder::new()
                .schema(Some(
                    ObjectBuilder::new()
                        .schema_type(Type::String)
                        .pattern(Some(pattern)),
                ))
                .description(Some(description))
                .build()
                .into(),
        );
    }
}

fn example_problem(status: u16) -> Problem {
    let error = match status {
        400 => ApiError::bad_parameter("limit", "must be from 1 to 200 (got 500)"),
        401 => ApiError::Unauthorized {
            error: Some("invalid_token"),
            detail: "the token \"member portal\" expired on 2027-02-25 12:00 UTC; ask an admin for a new one".to_owned(),
        },
        403 => ApiError::Forbidden { scope: "write" },
        429 => ApiError::TooManyRequests { retry_after: 3 },
        404 => ApiError::not_found("plan", "0193a3c4-5b6e-7f00-8a1b-2c3d4e5f6a7b"),
        409 => ApiError::Conflict("the plan still has 3 strategic area(s); delete them first, or repeat the request with ?cascade=true to delete the plan with all its areas, goals and status updates".to_owned()),
        413 => ApiError::PayloadTooLarge(2 * 1024 * 1024),
        415 => ApiError::UnsupportedMediaType("send the body as JSON with the header Content-Type: application/json (with curl: -H 'Content-Type: application/json')".to_owned()),
        422 => ApiError::Invalid(vec![
            FieldError::new("title", "is required"),
            FieldError::new("period_end", "must be a date written YYYY-MM-DD, such as 2025-06-30 (got \"June 2025\")"),
        ]),
        503 => ApiError::Unavailable(String::new()),
        _ => ApiError::Internal(String::new()),
    };
    error.problem()
}
