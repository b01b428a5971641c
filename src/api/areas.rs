//! `/api/v1/plans/{plan_id}/areas` and `/api/v1/areas/{area_id}`.

use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, web};
use serde::Deserialize;
use serde_json::Value;
use utoipa::IntoParams;
use uuid::Uuid;

use super::extract::QueryParams;
use super::{Db, DeleteParams, connection, created, list_body, page_response};
use crate::error::ApiError;
use crate::models::area::{self, Area, AreaInput};
use crate::openapi::AreaPatch;
use crate::pagination::PageRequest;

list_body!(AreaList, Area, "strategic areas");

/// Query parameters of [`list_areas`].
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AreaListParams {
    /// Most areas on one page, 1 to 200; 50 when left out.
    #[param(minimum = 1, maximum = 200)]
    limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    #[param(max_length = 1024)]
    cursor: Option<String>,
}

/// List a plan's strategic areas
///
/// In plan order (by position).
#[utoipa::path(
    tag = "areas",
    params(("plan_id" = Uuid, Path, description = "The plan's id"), AreaListParams),
    responses((status = 200, description = "A page of strategic areas", body = AreaList,
        headers(("Link" = String, description = "The next page, as `<url>; rel=\"next\"`, when there is one"))))
)]
#[get("/plans/{plan_id}/areas")]
pub async fn list_areas(
    request: HttpRequest,
    db: Db,
    plan_id: web::Path<Uuid>,
    QueryParams(params): QueryParams<AreaListParams>,
) -> Result<HttpResponse, ApiError> {
    let page = PageRequest::new(params.limit, params.cursor)?;
    let areas = area::list(&mut *connection(&db).await?, *plan_id, &page).await?;
    Ok(page_response(&request, areas))
}

/// Create a strategic area in a plan
///
/// The area goes at `position` (the end when left out); the areas after it move down one place.
#[utoipa::path(
    tag = "areas",
    params(("plan_id" = Uuid, Path, description = "The plan's id")),
    request_body = AreaInput,
    responses((status = 201, description = "The area was created", body = Area,
        headers(("Location" = String, description = "The new area's address"))))
)]
#[post("/plans/{plan_id}/areas")]
pub async fn create_area(
    db: Db,
    plan_id: web::Path<Uuid>,
    body: web::Json<Value>,
) -> Result<HttpResponse, ApiError> {
    let area = area::create(&mut *connection(&db).await?, *plan_id, body.into_inner()).await?;
    Ok(created(format!("/api/v1/areas/{}", area.id), area))
}

/// Get a strategic area
///
/// The area's own fields; its goals are listed by `list_area_goals`.
#[utoipa::path(
    tag = "areas",
    params(("area_id" = Uuid, Path, description = "The area's id")),
    responses((status = 200, description = "The strategic area", body = Area))
)]
#[get("/areas/{area_id}")]
pub async fn get_area(db: Db, area_id: web::Path<Uuid>) -> Result<HttpResponse, ApiError> {
    let area = area::get(&mut *connection(&db).await?, *area_id).await?;
    Ok(HttpResponse::Ok().json(area))
}

/// Update a strategic area
///
/// A JSON merge patch (RFC 7396). A new `position` moves the area; the others
/// close up or make way and the codes of the plan's goals stay in order.
#[utoipa::path(
    tag = "areas",
    params(("area_id" = Uuid, Path, description = "The area's id")),
    request_body = AreaPatch,
    responses((status = 200, description = "The area as changed", body = Area))
)]
#[patch("/areas/{area_id}")]
pub async fn update_area(
    db: Db,
    area_id: web::Path<Uuid>,
    body: web::Json<Value>,
) -> Result<HttpResponse, ApiError> {
    let area = area::update(&mut *connection(&db).await?, *area_id, body.into_inner()).await?;
    Ok(HttpResponse::Ok().json(area))
}

/// Delete a strategic area
///
/// An area that still has goals is only deleted with `cascade=true`, which
/// deletes its goals and their status updates with it. The areas after it move up.
#[utoipa::path(
    tag = "areas",
    params(("area_id" = Uuid, Path, description = "The area's id"), DeleteParams),
    responses((status = 204, description = "The area was deleted"))
)]
#[delete("/areas/{area_id}")]
pub async fn delete_area(
    db: Db,
    area_id: web::Path<Uuid>,
    QueryParams(params): QueryParams<DeleteParams>,
) -> Result<HttpResponse, ApiError> {
    area::delete(&mut *connection(&db).await?, *area_id, params.cascade).await?;
    Ok(HttpResponse::NoContent().finish())
}
