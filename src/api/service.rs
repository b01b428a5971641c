//! The service's own routes: liveness, readiness and the OpenAPI document.

use actix_web::{HttpResponse, get, web};
use diesel_async::RunQueryDsl;
use serde::Serialize;
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{AdditionalProperties, ObjectBuilder, Schema, Type};
use utoipa::{PartialSchema, ToSchema};

use super::connection::pooled;
use crate::db::Pool;
use crate::error::ApiError;

/// The OpenAPI document as served, serialized once at start-up.
pub struct OpenApiJson(pub String);

/// An OpenAPI 3.1 document, as <https://spec.openapis.org/oas/v3.1.0> describes it.
pub enum OpenApiDocument {}

impl PartialSchema for OpenApiDocument {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::Object)
            .description(Some(
                "An OpenAPI 3.1 document, as https://spec.openapis.org/oas/v3.1.0 describes it",
            ))
            .additional_properties(Some(AdditionalProperties::FreeForm(true)))
            .into()
    }
}

impl ToSchema for OpenApiDocument {}

/// The answer of the health routes.
#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    /// Always `ok`; a failure is a problem document instead.
    #[schema(example = "ok", max_length = 2)]
    pub status: &'static str,
}

/// Liveness
///
/// Answers as long as the process serves HTTP; it does not touch the database.
#[utoipa::path(
    security(()),
    tag = "service",
    responses((status = 200, description = "The service is running", body = Health))
)]
#[get("/healthz")]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(Health { status: "ok" })
}

/// Readiness
///
/// Answers 200 when the database answers a query, 503 when it does not, within
/// the database timeout (`DATABASE_TIMEOUT_SECONDS`).
#[utoipa::path(
    security(()),
    tag = "service",
    responses((status = 200, description = "The service and its database are ready", body = Health))
)]
#[get("/readyz")]
pub async fn readyz(pool: web::Data<Pool>) -> Result<HttpResponse, ApiError> {
    // A probe must answer promptly: a database that holds the query (frozen, cut
    // off) is not ready, and the probe says so at the same timeout as a refusal.
    let timeout = pool
        .timeouts()
        .wait
        .expect("every pool waits DATABASE_TIMEOUT_SECONDS at most");
    let check = async {
        diesel::sql_query("SELECT 1")
            .execute(&mut *pooled(&pool).await?)
            .await?;
        Ok::<_, ApiError>(())
    };
    tokio::time::timeout(timeout, check)
        .await
        .map_err(|_| ApiError::Unavailable("no answer to SELECT 1 in time".to_owned()))??;
    Ok(HttpResponse::Ok().json(Health { status: "ok" }))
}

/// The OpenAPI document
///
/// This document: every route, parameter, body, response and error of the API.
/// The same text is committed as `openapi/openapi.json`.
#[utoipa::path(
    security(()),
    tag = "service",
    responses((status = 200, description = "The OpenAPI 3.1 document", body = OpenApiDocument))
)]
#[get("/openapi.json")]
pub async fn get_openapi_document(document: web::Data<OpenApiJson>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(document.0.clone())
}
