//! The error responses of each operation, as references to shared ones.

use utoipa::ToSchema;
use utoipa::openapi::path::{HttpMethod, Operation, ParameterIn};
use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, SchemaFormat, Type};
use utoipa::openapi::{
    ContentBuilder, HeaderBuilder, OpenApi as Document, Ref, RefOr, Response, ResponseBuilder,
};

use crate::error::{ApiError, FieldError, Problem};

/// The shared error responses: name, status, description and an example error.
const ERRORS: [(&str, u16, &str); 8] = [
    (
        "BadRequest",
        400,
        "The request could not be read: malformed JSON, an empty body, or a bad query parameter or header (named in `errors`).",
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
        "The database cannot be reached; retry after the number of seconds in `Retry-After`.",
    ),
];

/// Adds the shared error responses and refers each operation to those it can give.
pub fn add_error_responses(document: &mut Document) {
    let components = document.components.get_or_insert_with(Default::default);
    for (name, status, description) in ERRORS {
        components.responses.insert(
            name.to_owned(),
            RefOr::T(shared_response(status, description)),
        );
    }
    for (path, item) in document.paths.paths.iter_mut() {
        let uses_database =
            path.starts_with("/api/v1/") && !path.ends_with("openapi.json") || path == "/readyz";
        for (method, operation) in super::operations(item) {
            add_errors(operation, path, &method, uses_database);
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
    if status == 503 {
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

fn example_problem(status: u16) -> Problem {
    let error = match status {
        400 => ApiError::bad_parameter("limit", "must be from 1 to 200 (got 500)"),
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
