//! The OpenAPI 3.1 document: the paths come from the handlers' `#[utoipa::path]`
//! (collected by [`crate::api::routes`]); the error responses and the links
//! between operations are derived from the shape of each operation, so the
//! document says what the server really does.

mod errors;
mod headers;
mod links;

use actix_web::App;
use serde_json::Value;
use utoipa::OpenApi;
use utoipa::openapi::extensions::ExtensionsBuilder;
use utoipa::openapi::path::{HttpMethod, Operation, PathItem};
use utoipa::openapi::schema::{AdditionalProperties, Schema};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::server::{Server, ServerBuilder};
use utoipa::openapi::{OpenApi as Document, RefOr};
use utoipa_actix_web::AppExt;

use crate::api::tracking_sheet::SheetFormat;
use crate::config::DEFAULT_BODY_LIMIT;
use crate::error::{FieldError, Problem};
use crate::models::document::UpdatesInDocument;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "strategy-tracker",
        description = "The system of record for an association's strategic plan — its value \
proposition, strategic areas, goals and sub-goals, with their measurable targets — and for \
the status updates staff record on every goal.\n\nConventions: ids are UUIDs; dates are `YYYY-MM-DD`; timestamps are RFC 3339 \
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
        (name = "measures", description = "Measurable targets of a goal, whose values status updates record"),
        (name = "changes", description = "The change feed and the revision history of plans, areas and goals"),
        (name = "tokens", description = "API tokens, managed with an admin token"),
        (name = "service", description = "Health checks and this document"),
    ),
    components(schemas(Problem, FieldError, UpdatesInDocument, SheetFormat))
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
    document.servers = Some(vec![server()]);
    add_bearer_scheme(&mut document);
    headers::add_headers(&mut document);
    errors::add_error_responses(&mut document);
    links::add_links(&mut document);
    headers::add_request_id(&mut document);
    refuse_unknown_fields(&mut document);
    require_response_fields(&mut document);
    document
}

/// Every field of a resource or list is always sent (null when empty), so the
/// response schemas require them all, and clients need not handle "absent".
/// Bodies a client writes, and problem documents (whose `errors` may be left out),
/// keep their own.
fn require_response_fields(document: &mut Document) {
    let Some(components) = document.components.as_mut() else {
        return;
    };
    for (name, schema) in components.schemas.iter_mut() {
        let written = ["Input", "Patch", "Import"]
            .iter()
            .any(|suffix| name.ends_with(suffix));
        if let RefOr::T(Schema::Object(object)) = schema
            && !written
            && name != "Problem"
        {
            object.required = object.properties.keys().cloned().collect();
        }
    }
}

/// The one security scheme: API tokens sent as `Authorization: Bearer <token>`.
/// Each operation names the scope it needs (see `crate::api::access`).
fn add_bearer_scheme(document: &mut Document) {
    let scheme = HttpBuilder::new()
        .scheme(HttpAuthScheme::Bearer)
        .bearer_format("stk_ followed by 65 letters, digits, - and _")
        .description(Some(
            "An API token, sent as `Authorization: Bearer <token>` (never in the URL). Scopes: `read` (everything, drafts included), `write` (create, change, delete and import; includes `read`), `admin` (manage tokens). Each operation's security names the scope it needs; operations that also list an empty requirement may be called without a token, and then hide draft plans (as a 404), unless the service runs with `PUBLIC_READING=false`. The first admin token is made with `strategy-tracker tokens create --name NAME --scope admin`.",
        ))
        .build();
    document
        .components
        .get_or_insert_with(Default::default)
        .security_schemes
        .insert("bearer".to_owned(), RefOr::T(SecurityScheme::Http(scheme)));
}

/// The API is served from wherever the document is: a relative server, so a
/// generated client only needs the base URL of the association's instance.
fn server() -> Server {
    ServerBuilder::new()
        .url("/")
        .description(Some(
            "The instance that serves this document: production for the association, local in development",
        ))
        // For inventories: this is the public API, not an internal one.
        .extensions(Some(ExtensionsBuilder::new().add("x-internal", false).build()))
        .build()
}

/// The bound stated for a CSV answer (the tracking sheet), in characters: far past
/// any plan's sheet (one of 1,000 goals whose every field is as long as allowed is
/// about 25 million), so that clients and linters see the text bounded.
const MAX_CSV_LENGTH: usize = 1024 * 1024 * 1024;

/// Strings whose format fixes their length say so (`maxLength`), as do the
/// headers the server sends and the text bodies it takes (bounded by the default
/// body limit), so that clients and linters see every string bounded. Done on the
/// JSON, as utoipa's model cannot read back every schema it writes.
fn bound_strings_in(json: &mut Value, bound: Option<usize>) {
    match json {
        Value::Object(object) => {
            let is_string = match object.get("type") {
                Some(Value::String(kind)) => kind == "string",
                Some(Value::Array(kinds)) => kinds.iter().any(|kind| kind == "string"),
                _ => false,
            };
            if is_string && !object.contains_key("maxLength") && !object.contains_key("enum") {
                let max_length = match object.get("format").and_then(Value::as_str) {
                    Some("uuid") => Some(36),
                    Some("date") => Some(10),
                    Some("date-time") => Some(32),
                    _ => bound,
                };
                if let Some(max_length) = max_length {
                    object.insert("maxLength".to_owned(), Value::from(max_length));
                }
            }
            for (key, child) in object.iter_mut() {
                let bound = match key.as_str() {
                    "headers" => Some(2048),
                    // Field names, as maps keyed by them (an event's `changes`) use:
                    // PostgreSQL's identifiers are at most 63 bytes.
                    "propertyNames" => Some(63),
                    "text/markdown" | "text/plain" => Some(DEFAULT_BODY_LIMIT),
                    "text/csv" => Some(MAX_CSV_LENGTH),
                    _ => bound,
                };
                bound_strings_in(child, bound);
            }
        }
        Value::Array(items) => items
            .iter_mut()
            .for_each(|item| bound_strings_in(item, bound)),
        _ => {}
    }
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

/// The operations of a path, with their methods (the service answers these four).
fn operations(item: &mut PathItem) -> impl Iterator<Item = (HttpMethod, &mut Operation)> {
    [
        (HttpMethod::Get, item.get.as_mut()),
        (HttpMethod::Post, item.post.as_mut()),
        (HttpMethod::Patch, item.patch.as_mut()),
        (HttpMethod::Delete, item.delete.as_mut()),
    ]
    .into_iter()
    .filter_map(|(method, operation)| Some((method, operation?)))
}

/// The document as served: pretty JSON with a final newline, like the committed copy.
pub fn to_json(document: &Document) -> String {
    let mut json = serde_json::to_value(document).expect("the OpenAPI document serializes");
    bound_strings_in(&mut json, None);
    let mut text = serde_json::to_string_pretty(&json).expect("JSON always prints");
    text.push('\n');
    text
}
