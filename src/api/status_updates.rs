//! `/api/v1/goals/{goal_id}/status-updates` and `/api/v1/status-updates/{update_id}`.

use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, web};
use chrono::{DateTime, NaiveDate, Utc};
use serde::Deserialize;
use serde_json::Value;
use utoipa::IntoParams;
use uuid::Uuid;

use super::connection::{ReadConn, WriteConn};
use super::extract::QueryParams;
use super::middleware::conditional::IfMatch;
use super::{created, delete_item, list_body, page_response, patch_item};
use crate::error::ApiError;
use crate::models::Conn;
use crate::models::status_update::{
    self, StatusUpdate, StatusUpdateFilter, StatusUpdateInput, StatusUpdatePatch,
};
use crate::models::writer::Writer;
use crate::pagination::PageRequest;

list_body!(StatusUpdateList, StatusUpdate, "status updates", followed);

/// Query parameters of [`list_status_updates`].
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct StatusUpdateListParams {
    /// Only updates as of this date or later (`YYYY-MM-DD`).
    as_of_from: Option<NaiveDate>,
    /// Only updates as of this date or earlier (`YYYY-MM-DD`).
    as_of_to: Option<NaiveDate>,
    /// Only updates changed at or after this time (RFC 3339, such as
    /// `2026-11-27T12:00:00Z`), to bring a copy up to date. Deleted updates are not
    /// listed: the change feed (`/api/v1/events`) tells of them.
    updated_since: Option<DateTime<Utc>>,
    /// Most updates on one page, 1 to 200; 50 when left out.
    #[param(minimum = 1, maximum = 200)]
    limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    #[param(max_length = 1024)]
    cursor: Option<String>,
}

/// List a goal's status updates
///
/// Newest first: by `as_of`, then by when they were recorded. The filters combine,
/// so a range that ends before it starts matches nothing.
#[utoipa::path(
    security((), ("bearer" = ["read"])),
    tag = "status updates",
    params(("goal_id" = Uuid, Path, description = "The goal's id"), StatusUpdateListParams),
    responses((status = 200, description = "A page of status updates", body = StatusUpdateList,
        headers(("Link" = String, description = "The next page, as `<url>; rel=\"next\"`, when there is one"))))
)]
#[get("/goals/{goal_id}/status-updates")]
pub async fn list_status_updates(
    request: HttpRequest,
    goal_id: web::Path<Uuid>,
    QueryParams(params): QueryParams<StatusUpdateListParams>,
    mut conn: ReadConn,
) -> Result<HttpResponse, ApiError> {
    let page = PageRequest::new(params.limit, params.cursor)?;
    let filter = StatusUpdateFilter {
        as_of_from: params.as_of_from,
        as_of_to: params.as_of_to,
        updated_since: params.updated_since,
    };
    let updates = status_update::list(&mut conn, *goal_id, &filter, &page).await?;
    Ok(page_response(&request, updates))
}

/// Post a status update on a goal
///
/// If it is the goal's latest update (by `as_of`, then by when it was recorded),
/// the goal takes its `status` and `progress_percent`.
#[utoipa::path(
    security(("bearer" = ["write"])),
    tag = "status updates",
    params(("goal_id" = Uuid, Path, description = "The goal's id")),
    request_body = StatusUpdateInput,
    responses((status = 201, description = "The status update was recorded", body = StatusUpdate,
        headers(("Location" = String, description = "The new status update's address"))))
)]
#[post("/goals/{goal_id}/status-updates")]
pub async fn create_status_update(
    goal_id: web::Path<Uuid>,
    body: web::Json<Value>,
    mut conn: WriteConn,
) -> Result<HttpResponse, ApiError> {
    let update =
        status_update::create(&mut conn.writer(None).await?, *goal_id, body.into_inner()).await?;
    Ok(created(
        format!("/api/v1/status-updates/{}", update.id),
        update,
    ))
}

/// Get a status update
///
/// One progress report on a goal.
#[utoipa::path(
    security((), ("bearer" = ["read"])),
    tag = "status updates",
    params(("update_id" = Uuid, Path, description = "The status update's id")),
    responses((status = 200, description = "The status update", body = StatusUpdate))
)]
#[get("/status-updates/{update_id}")]
pub async fn get_status_update(
    update_id: web::Path<Uuid>,
    mut conn: ReadConn,
) -> Result<HttpResponse, ApiError> {
    let update = status_update::get(&mut conn, *update_id).await?;
    Ok(HttpResponse::Ok().json(update))
}

/// Update a status update
///
/// A JSON merge patch (RFC 7396). The goal's status follows if this is, or
/// becomes, its latest update.
#[utoipa::path(
    security(("bearer" = ["write"])),
    tag = "status updates",
    params(("update_id" = Uuid, Path, description = "The status update's id")),
    request_body = StatusUpdatePatch,
    responses((status = 200, description = "The status update as changed", body = StatusUpdate))
)]
#[patch("/status-updates/{update_id}")]
pub async fn update_status_update(
    if_match: IfMatch,
    update_id: web::Path<Uuid>,
    body: web::Json<Value>,
    conn: WriteConn,
) -> Result<HttpResponse, ApiError> {
    let id = *update_id;
    let current = async |conn: &mut Conn| status_update::get_locked(conn, id).await;
    let update =
        async |writer: &mut Writer<'_>, patch| status_update::update(writer, id, patch).await;
    patch_item(conn, &if_match, body.into_inner(), current, update).await
}

/// Delete a status update
///
/// The goal's status falls back to its latest remaining update, or `not_started`.
#[utoipa::path(
    security(("bearer" = ["write"])),
    tag = "status updates",
    params(("update_id" = Uuid, Path, description = "The status update's id")),
    responses((status = 204, description = "The status update was deleted"))
)]
#[delete("/status-updates/{update_id}")]
pub async fn delete_status_update(
    if_match: IfMatch,
    update_id: web::Path<Uuid>,
    conn: WriteConn,
) -> Result<HttpResponse, ApiError> {
    let id = *update_id;
    let current = async |conn: &mut Conn| status_update::get_locked(conn, id).await;
    let delete = async |writer: &mut Writer<'_>| status_update::delete(writer, id).await;
    delete_item(conn, &if_match, current, delete).await
}
