//! `/api/v1/plans/{plan_id}/areas` and `/api/v1/areas/{area_id}`.

use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, web};
use serde_json::Value;
use uuid::Uuid;

use super::connection::{ReadConn, WriteConn};
use super::extract::QueryParams;
use super::middleware::conditional::IfMatch;
use super::{
    ChangedSinceParams, DeleteParams, created, delete_item, list_body, page_response, patch_item,
};
use crate::error::ApiError;
use crate::models::Conn;
use crate::models::area::{self, Area, AreaInput, AreaPatch};
use crate::models::writer::Writer;

list_body!(AreaList, Area, "strategic areas", followed);

/// List a plan's strategic areas
///
/// In plan order (by position).
#[utoipa::path(
    security((), ("bearer" = ["read"])),
    tag = "areas",
    params(("plan_id" = Uuid, Path, description = "The plan's id"), ChangedSinceParams),
    responses((status = 200, description = "A page of strategic areas", body = AreaList,
        headers(("Link" = String, description = "The next page, as `<url>; rel=\"next\"`, when there is one"))))
)]
#[get("/plans/{plan_id}/areas")]
pub async fn list_areas(
    request: HttpRequest,
    plan_id: web::Path<Uuid>,
    QueryParams(params): QueryParams<ChangedSinceParams>,
    mut conn: ReadConn,
) -> Result<HttpResponse, ApiError> {
    let (updated_since, page) = params.split()?;
    let areas = area::list(&mut conn, *plan_id, updated_since, &page).await?;
    Ok(page_response(&request, areas))
}

/// Create a strategic area in a plan
///
/// The area goes at `position` (the end when left out); the areas after it move down one place.
#[utoipa::path(
    security(("bearer" = ["write"])),
    tag = "areas",
    params(("plan_id" = Uuid, Path, description = "The plan's id")),
    request_body = AreaInput,
    responses((status = 201, description = "The area was created", body = Area,
        headers(("Location" = String, description = "The new area's address"))))
)]
#[post("/plans/{plan_id}/areas")]
pub async fn create_area(
    plan_id: web::Path<Uuid>,
    body: web::Json<Value>,
    mut conn: WriteConn,
) -> Result<HttpResponse, ApiError> {
    let area = area::create(&mut conn.writer(None).await?, *plan_id, body.into_inner()).await?;
    Ok(created(format!("/api/v1/areas/{}", area.id), area))
}

/// Get a strategic area
///
/// The area's own fields; its goals are listed by `list_area_goals`.
#[utoipa::path(
    security((), ("bearer" = ["read"])),
    tag = "areas",
    params(("area_id" = Uuid, Path, description = "The area's id")),
    responses((status = 200, description = "The strategic area", body = Area))
)]
#[get("/areas/{area_id}")]
pub async fn get_area(
    area_id: web::Path<Uuid>,
    mut conn: ReadConn,
) -> Result<HttpResponse, ApiError> {
    let area = area::get(&mut conn, *area_id).await?;
    Ok(HttpResponse::Ok().json(area))
}

/// Update a strategic area
///
/// A JSON merge patch (RFC 7396). A new `position` moves the area; the others
/// close up or make way and the codes of the plan's goals stay in order.
#[utoipa::path(
    security(("bearer" = ["write"])),
    tag = "areas",
    params(("area_id" = Uuid, Path, description = "The area's id")),
    request_body = AreaPatch,
    responses((status = 200, description = "The area as changed", body = Area))
)]
#[patch("/areas/{area_id}")]
pub async fn update_area(
    if_match: IfMatch,
    area_id: web::Path<Uuid>,
    body: web::Json<Value>,
    conn: WriteConn,
) -> Result<HttpResponse, ApiError> {
    let id = *area_id;
    let current = async |conn: &mut Conn| area::get_locked(conn, id).await;
    let update = async |writer: &mut Writer<'_>, patch| area::update(writer, id, patch).await;
    patch_item(conn, &if_match, body.into_inner(), current, update).await
}

/// Delete a strategic area
///
/// An area that still has goals is only deleted with `cascade=true`, which
/// deletes its goals and their status updates with it. The areas after it move up.
#[utoipa::path(
    security(("bearer" = ["write"])),
    tag = "areas",
    params(("area_id" = Uuid, Path, description = "The area's id"), DeleteParams),
    responses((status = 204, description = "The area was deleted"))
)]
#[delete("/areas/{area_id}")]
pub async fn delete_area(
    if_match: IfMatch,
    area_id: web::Path<Uuid>,
    QueryParams(params): QueryParams<DeleteParams>,
    conn: WriteConn,
) -> Result<HttpResponse, ApiError> {
    let id = *area_id;
    let current = async |conn: &mut Conn| area::get_locked(conn, id).await;
    let delete = async |writer: &mut Writer<'_>| area::delete(writer, id, params.cascade).await;
    delete_item(conn, &if_match, current, delete).await
}
