//! `/api/v1/areas/{area_id}/goals`, `/api/v1/plans/{plan_id}/goals` and `/api/v1/goals/{goal_id}`.

use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, web};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::Value;
use utoipa::IntoParams;
use uuid::Uuid;

use super::connection::{ReadConn, WriteConn};
use super::extract::QueryParams;
use super::middleware::access::Access;
use super::middleware::conditional::IfMatch;
use super::{
    DeleteParams, created, delete_item, list_body, owner_filter, page_response, patch_item,
};
use crate::error::ApiError;
use crate::models::Conn;
use crate::models::GoalStatus;
use crate::models::goal::{self, Goal, GoalFilter, GoalInput, GoalPatch, GoalScope};
use crate::models::writer::Writer;
use crate::pagination::PageRequest;

list_body!(GoalList, Goal, "goals", followed);

/// Query parameters of the goal lists.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct GoalListParams {
    /// Only goals with this status.
    status: Option<GoalStatus>,
    /// Only goals with exactly this owner.
    #[param(max_length = 200, pattern = "^[^\\u0000]*$")]
    owner: Option<String>,
    /// Only the sub-goals of this goal.
    parent_goal_id: Option<Uuid>,
    /// Only goals that are not sub-goals (`true`); all goals when left out.
    top_level: Option<bool>,
    /// Only goals changed at or after this time (RFC 3339, such as
    /// `2026-11-27T12:00:00Z`), to bring a copy up to date. Deleted goals are not
    /// listed: the change feed (`/api/v1/events`) tells of them.
    updated_since: Option<DateTime<Utc>>,
    /// Most goals on one page, 1 to 200; 50 when left out.
    #[param(minimum = 1, maximum = 200)]
    limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    #[param(max_length = 1024)]
    cursor: Option<String>,
}

impl GoalListParams {
    /// Filters combine: a goal is listed when it passes all of them.
    fn split(self) -> Result<(GoalFilter, PageRequest), ApiError> {
        let filter = GoalFilter {
            status: self.status,
            owner: owner_filter(self.owner)?,
            parent_goal_id: self.parent_goal_id,
            top_level: self.top_level.unwrap_or(false),
            updated_since: self.updated_since,
        };
        Ok((filter, PageRequest::new(self.limit, self.cursor)?))
    }
}

/// List every goal of a plan
///
/// Goals and sub-goals of all the plan's areas, in plan order: area by area, each
/// goal followed by its sub-goals ("1", "1.1", "1.2", "2", ...).
#[utoipa::path(
    security((), ("bearer" = ["read"])),
    tag = "goals",
    params(("plan_id" = Uuid, Path, description = "The plan's id"), GoalListParams),
    responses((status = 200, description = "A page of goals", body = GoalList,
        headers(("Link" = String, description = "The next page, as `<url>; rel=\"next\"`, when there is one"))))
)]
#[get("/plans/{plan_id}/goals")]
pub async fn list_plan_goals(
    request: HttpRequest,
    plan_id: web::Path<Uuid>,
    QueryParams(params): QueryParams<GoalListParams>,
    mut conn: ReadConn,
) -> Result<HttpResponse, ApiError> {
    let (filter, page) = params.split()?;
    let scope = GoalScope::Plan(*plan_id);
    let goals = goal::list(&mut conn, scope, &filter, &page).await?;
    Ok(page_response(&request, goals))
}

/// List the goals of a strategic area
///
/// Goals and sub-goals of the area in plan order: each goal followed by its sub-goals.
#[utoipa::path(
    security((), ("bearer" = ["read"])),
    tag = "goals",
    params(("area_id" = Uuid, Path, description = "The area's id"), GoalListParams),
    responses((status = 200, description = "A page of goals", body = GoalList,
        headers(("Link" = String, description = "The next page, as `<url>; rel=\"next\"`, when there is one"))))
)]
#[get("/areas/{area_id}/goals")]
pub async fn list_area_goals(
    request: HttpRequest,
    area_id: web::Path<Uuid>,
    QueryParams(params): QueryParams<GoalListParams>,
    mut conn: ReadConn,
) -> Result<HttpResponse, ApiError> {
    let (filter, page) = params.split()?;
    let scope = GoalScope::Area(*area_id);
    let goals = goal::list(&mut conn, scope, &filter, &page).await?;
    Ok(page_response(&request, goals))
}

/// Create a goal or sub-goal in a strategic area
///
/// With `parent_goal_id`, the new goal is a sub-goal of that goal. Its `code` is
/// derived from its place ("2.3") unless one is given.
#[utoipa::path(
    security(("bearer" = ["write"])),
    tag = "goals",
    params(("area_id" = Uuid, Path, description = "The area's id")),
    request_body = GoalInput,
    responses((status = 201, description = "The goal was created", body = Goal,
        headers(("Location" = String, description = "The new goal's address"))))
)]
#[post("/areas/{area_id}/goals")]
pub async fn create_goal(
    area_id: web::Path<Uuid>,
    body: web::Json<Value>,
    mut conn: WriteConn,
) -> Result<HttpResponse, ApiError> {
    let goal = goal::create(&mut conn.writer(None).await?, *area_id, body.into_inner()).await?;
    Ok(created(format!("/api/v1/goals/{}", goal.id), goal))
}

/// Get a goal
///
/// With its `code`, and the `status` and `progress_percent` of its latest status update.
#[utoipa::path(
    security((), ("bearer" = ["read"])),
    tag = "goals",
    params(("goal_id" = Uuid, Path, description = "The goal's id")),
    responses((status = 200, description = "The goal", body = Goal))
)]
#[get("/goals/{goal_id}")]
pub async fn get_goal(
    access: Access,
    goal_id: web::Path<Uuid>,
    mut conn: ReadConn,
) -> Result<HttpResponse, ApiError> {
    let goal = goal::get_visible(&mut conn, *goal_id, access.reads_drafts()).await?;
    Ok(HttpResponse::Ok().json(goal))
}

/// Update a goal
///
/// A JSON merge patch (RFC 7396). A new `position` or `parent_goal_id` moves the
/// goal (with its sub-goals); siblings close up or make way and derived codes follow.
#[utoipa::path(
    security(("bearer" = ["write"])),
    tag = "goals",
    params(("goal_id" = Uuid, Path, description = "The goal's id")),
    request_body = GoalPatch,
    responses((status = 200, description = "The goal as changed", body = Goal))
)]
#[patch("/goals/{goal_id}")]
pub async fn update_goal(
    if_match: IfMatch,
    goal_id: web::Path<Uuid>,
    body: web::Json<Value>,
    conn: WriteConn,
) -> Result<HttpResponse, ApiError> {
    let id = *goal_id;
    let patch = body.into_inner();
    let current = async |conn: &mut Conn| goal::get_locked_for_patch(conn, id, &patch).await;
    let update = async |writer: &mut Writer<'_>, patch| goal::update(writer, id, patch).await;
    patch_item(conn, &if_match, patch.clone(), current, update).await
}

/// Delete a goal
///
/// A goal that still has sub-goals, status updates or measures is only deleted
/// with `cascade=true`, which deletes them with it. The goals after it move up.
#[utoipa::path(
    security(("bearer" = ["write"])),
    tag = "goals",
    params(("goal_id" = Uuid, Path, description = "The goal's id"), DeleteParams),
    responses((status = 204, description = "The goal was deleted"))
)]
#[delete("/goals/{goal_id}")]
pub async fn delete_goal(
    if_match: IfMatch,
    goal_id: web::Path<Uuid>,
    QueryParams(params): QueryParams<DeleteParams>,
    conn: WriteConn,
) -> Result<HttpResponse, ApiError> {
    let id = *goal_id;
    let current = async |conn: &mut Conn| goal::get_locked(conn, id).await;
    let delete = async |writer: &mut Writer<'_>| goal::delete(writer, id, params.cascade).await;
    delete_item(conn, &if_match, current, delete).await
}
