//! The OpenAPI 3.1 document: the paths come from the handlers' `#[utoipa::path]`
//! (collected by [`crate::api::routes`]), the error responses from the shape of
//! each operation, so every documented error is one the server really sends.

use actix_web::App;
use utoipa::openapi::path::{HttpMethod, Operation, ParameterIn};
use utoipa::openapi::schema::{AdditionalProperties, Schema};
use utoipa::openapi::{
    ContentBuilder, HeaderBuilder, OpenApi as Document, Ref, RefOr, ResponseBuilder,
};
use utoipa::{Modify, OpenApi, PartialSchema, ToSchema};
use utoipa_actix_web::AppExt;

use crate::error::{ApiError, FieldError, Problem};
use crate::models::area::AreaInput;
use crate::models::goal::GoalInput;
use crate::models::plan::PlanInput;
use crate::models::status_update::StatusUpdateInput;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "strategy-tracker",
        description = "The system of record for an association's strategic plan — its value \
proposition, strategic areas, goals and sub-goals — and for the status updates staff record \
on every goal.\n\nConventions: ids are UUIDs; dates are `YYYY-MM-DD`; timestamps are RFC 3339 \
in UTC. Lists are pages of `items` with a `next_cursor` (and a `Link: rel=\"next\"` header). \
PATCH bodies are JSON merge patches. Every error is an `application/problem+json` document; \
for invalid input its `errors` name every bad field. Every response carries an `X-Request-Id` \
header.",
        license(name = "MIT", identifier = "MIT")
    ),
    tags(
        (name = "plans", description = "Strategic plans, as adopted by the board"),
        (name = "areas", description = "The numbered strategic areas of a plan"),
        (name = "goals", description = "Goals and sub-goals of a strategic area, numbered \"1\", \"1.1\", ..."),
        (name = "status updates", description = "Progress reports on a goal; the latest sets the goal's status"),
        (name = "service", description = "Health checks and this document"),
    ),
    components(schemas(Problem, FieldError))
)]
struct ApiDoc;

/// The OpenAPI document the server serves and `openapi/openapi.json` holds.
pub fn document() -> Document {
    let (_, document) = App::new()
        .into_utoipa_app()
        .openapi(ApiDoc::openapi())
        .configure(crate::api::routes)
        .split_for_parts();
    let mut document = document;
    ErrorResponses.modify(&mut document);
    refuse_unknown_fields(&mut document);
    document
}

/// Request bodies refuse fields they do not know (a typo in a script is a 422,
/// never silently ignored), so their schemas say `additionalProperties: false`.
fn refuse_unknown_fields(document: &mut Document) {
    let Some(components) = document.components.as_mut() else {
        return;
    };
    for (name, schema) in components.schemas.iter_mut() {
        if let RefOr::T(Schema::Object(object)) = schema
            && (name.ends_with("Input") || name.ends_with("Patch"))
        {
            object.additional_properties = Some(Box::new(AdditionalProperties::FreeForm(false)));
        }
    }
}

/// The document as served: pretty JSON with a final newline, like the committed copy.
pub fn to_json(document: &Document) -> String {
    let mut json = document
        .to_pretty_json()
        .expect("the OpenAPI document always serializes");
    json.push('\n');
    json
}

/// Declares the body of a PATCH: the create body's schema with no field required.
macro_rules! patch_schema {
    ($patch:ident, $input:ty, $what:literal) => {
        #[doc = concat!("A JSON merge patch of ", $what, ": the fields to change. Fields left out keep their value; `null` clears a field that may be empty.")]
        pub enum $patch {}

        impl PartialSchema for $patch {
            fn schema() -> RefOr<Schema> {
                patch_of(<$input as PartialSchema>::schema(), $what)
            }
        }

        impl ToSchema for $patch {
            fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
                <$input as ToSchema>::schemas(schemas);
            }
        }
    };
}

patch_schema!(PlanPatch, PlanInput, "a plan");
patch_schema!(AreaPatch, AreaInput, "a strategic area");
patch_schema!(GoalPatch, GoalInput, "a goal");
patch_schema!(StatusUpdatePatch, StatusUpdateInput, "a status update");

fn patch_of(schema: RefOr<Schema>, what: &str) -> RefOr<Schema> {
    match schema {
        RefOr::T(Schema::Object(mut object)) => {
            object.required.clear();
            object.description = Some(format!(
                "A JSON merge patch of {what}: the fields to change. Fields left out keep their value; `null` clears a field that may be empty."
            ));
            object.examples = Vec::new();
            RefOr::T(Schema::Object(object))
        }
        other => other,
    }
}

/// Adds the error responses each operation can give, as references to shared ones.
struct ErrorResponses;

/// The shared error responses: name, status, description and an example error.
const ERRORS: [(&str, u16, &str); 8] = [
    (
        "BadRequest",
        400,
        "The request could not be read: malformed JSON, an empty body, or a bad query parameter (named in `errors`).",
    ),
    (
        "NotFound",
        404,
        "No resource has the id in the path (or it is not a UUID), or an id in the body names no resource (that field is named in `errors`).",
    ),
    (
        "Conflict",
        409,
        "The request conflicts with the current state: the resource still has children (repeat with `cascade=true`), or it changed at the same moment.",
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

impl Modify for ErrorResponses {
    fn modify(&self, document: &mut Document) {
        let components = document.components.get_or_insert_with(Default::default);
        for (name, status, description) in ERRORS {
            let mut response = ResponseBuilder::new().description(description).content(
                "application/problem+json",
                ContentBuilder::new()
                    .schema(Some(Ref::from_schema_name(Problem::name())))
                    .example(Some(
                        serde_json::to_value(example_problem(status)).unwrap_or_default(),
                    ))
                    .build(),
            );
            if status == 503 {
                response = response.header(
                    "Retry-After",
                    HeaderBuilder::new()
                        .schema(Some(u32::schema()))
                        .description(Some("Seconds to wait before retrying"))
                        .build(),
                );
            }
            components
                .responses
                .insert(name.to_owned(), RefOr::T(response.build()));
        }
        for (path, item) in document.paths.paths.iter_mut() {
            let uses_database = path.starts_with("/api/v1/") && !path.ends_with("openapi.json")
                || path == "/readyz";
            for method in [
                HttpMethod::Get,
                HttpMethod::Post,
                HttpMethod::Patch,
                HttpMethod::Delete,
            ] {
                let operation = match method {
                    HttpMethod::Get => item.get.as_mut(),
                    HttpMethod::Post => item.post.as_mut(),
                    HttpMethod::Patch => item.patch.as_mut(),
                    _ => item.delete.as_mut(),
                };
                if let Some(operation) = operation {
                    add_errors(operation, path, &method, uses_database);
                }
            }
        }
    }
}

fn add_errors(operation: &mut Operation, path: &str, method: &HttpMethod, uses_database: bool) {
    let has_query =
        operation.parameters.iter().flatten().any(
            |parameter| matches!(parameter, RefOr::T(p) if p.parameter_in == ParameterIn::Query),
        );
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
    add(400, has_query || has_body);
    add(404, path.contains('{'));
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
