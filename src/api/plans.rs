//! `/api/v1/plans` and `/api/v1/plans/{plan_id}`.

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
use super::{DeleteParams, created, delete_item, list_body, page_response, patch_item};
use crate::error::ApiError;
use crate::models::Conn;
use crate::models::PlanStatus;
use crate::models::plan::{self, Plan, PlanFilter, PlanInput, PlanPatch};
use crate::models::writer::Writer;
use crate::pagination::PageRequest;

list_body!(PlanList, Plan, "plans", followed);

/// Query parameters of [`list_plans`].
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PlanListParams {
    /// Only plans with this status.
    status: Option<PlanStatus>,
    /// Only plans changed at or after this time (RFC 3339, such as
    /// `2026-11-27T12:00:00Z`), to bring a copy up to date. Deleted plans are not
    /// listed: the change feed (`/api/v1/events`) tells of them.
    updated_since: Option<DateTime<Utc>>,
    /// Most plans on one page, 1 to 200; 50 when left out.
    #[param(minimum = 1, maximum = 200)]
    limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    #[param(max_length = 1024)]
    cursor: Option<String>,
}

/// List plans
///
/// Plans, newest period first. Drafts are listed only for a token with `read`.
#[utoipa::path(
    security((), ("bearer" = ["read"])),
    tag = "plans",
    params(PlanListParams),
    responses((status = 200, description = "A page of plans", body = PlanList,
        headers(("Link" = String, description = "The next page, as `<url>; rel=\"next\"`, when there is one"))))
)]
#[get("/plans")]
pub async fn list_plans(
    request: HttpRequest,
    access: Access,
    QueryParams(params): QueryParams<PlanListParams>,
    mut conn: ReadConn,
) -> Result<HttpResponse, ApiError> {
    let page = PageRequest::new(params.limit, params.cursor)?;
    let filter = PlanFilter {
        status: params.status,
        updated_since: params.updated_since,
        include_drafts: access.reads_drafts(),
    };
    let plans = plan::list(&mut conn, &filter, &page).await?;
    Ok(page_response(&request, plans))
}

/// Create a plan
///
/// A new plan is a `draft` unless the body gives another `status`.
#[utoipa::path(
    security(("bearer" = ["write"])),
    tag = "plans",
    request_body = PlanInput,
    responses((status = 201, description = "The plan was created", body = Plan,
        headers(("Location" = String, description = "The new plan's address"))))
)]
#[post("/plans")]
pub async fn create_plan(
    body: web::Json<Value>,
    mut conn: WriteConn,
) -> Result<HttpResponse, ApiError> {
    let plan = plan::create(&mut conn.writer(None).await?, body.into_inner()).await?;
    Ok(created(format!("/api/v1/plans/{}", plan.id), plan))
}

/// Get a plan
///
/// The plan's own fields; its areas and goals are listed by `list_areas` and `list_plan_goals`.
#[utoipa::path(
    security((), ("bearer" = ["read"])),
    tag = "plans",
    params(("plan_id" = Uuid, Path, description = "The plan's id")),
    responses((status = 200, description = "The plan", body = Plan))
)]
#[get("/plans/{plan_id}")]
pub async fn get_plan(
    plan_id: web::Path<Uuid>,
    mut conn: ReadConn,
) -> Result<HttpResponse, ApiError> {
    let plan = plan::get(&mut conn, *plan_id).await?;
    Ok(HttpResponse::Ok().json(plan))
}

/// Update a plan
///
/// A JSON merge patch (RFC 7396; `application/json` or `application/merge-patch+json`):
/// fields left out keep their value, `null` clears a field that may be empty.
#[utoipa::path(
    security(("bearer" = ["write"])),
    tag = "plans",
    params(("plan_id" = Uuid, Path, description = "The plan's id")),
    request_body = PlanPatch,
    responses((status = 200, description = "The plan as changed", body = Plan))
)]
#[patch("/plans/{plan_id}")]
pub async fn update_plan(
    if_match: IfMatch,
    plan_id: web::Path<Uuid>,
    body: web::Json<Value>,
    conn: WriteConn,
) -> Result<HttpResponse, ApiError> {
    let id = *plan_id;
    let current = async |conn: &mut Conn| plan::get_locked(conn, id).await;
    let update = async |writer: &mut Writer<'_>, patch| plan::update(writer, id, patch).await;
    patch_item(conn, &if_match, body.into_inner(), current, update).await
}

/// Delete a plan
///
/// A plan that still has strategic areas is only deleted with `cascade=true`,
/// which deletes its areas, goals and status updates with it.
#[utoipa::path(
    security(("bearer" = ["write"])),
    tag = "plans",
    params(("plan_id" = Uuid, Path, description = "The plan's id"), DeleteParams),
    responses((status = 204, description = "The plan was deleted"))
)]
#[delete("/plans/{plan_id}")]
pub async fn delete_plan(
    if_match: IfMatch,
    plan_id: web::Path<Uuid>,
    QueryParams(params): QueryParams<DeleteParams>,
    conn: WriteConn,
) -> Result<HttpResponse, ApiError> {
    let id = *plan_id;
    let current = async |conn: &mut Conn| plan::get_locked(conn, id).await;
    let delete = async |writer: &mut Writer<'_>| plan::delete(writer, id, params.cascade).await;
    delete_item(conn, &if_match, current, delete).await
}
