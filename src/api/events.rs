//! The change feed (`/api/v1/events`) and the revision history of plans, areas and
//! goals (`/api/v1/{plans,areas,goals}/{id}/history`).

use std::time::Duration;

use actix_web::{HttpRequest, HttpResponse, get, web};
use futures_util::future::{Either, select};
use serde::Deserialize;
use tokio::sync::watch;
use utoipa::IntoParams;
use uuid::Uuid;

use super::connection::ReadConn;
use super::extract::QueryParams;
use super::middleware::deadline::Deadline;
use super::{PageParams, list_body, page_response};
use crate::error::ApiError;
use crate::models::Conn;
use crate::models::event::{self, Event, FeedFilter, FeedPage, MAX_FEED_PAGE, ResourceType};
use crate::shutdown::Stopping;

list_body!(EventList, Event, "events");

/// Longest long poll, in seconds.
const MAX_WAIT_SECONDS: u64 = 60;
/// How often a long poll looks again even without a notification, in case the
/// notifications are lost (the listener's connection broke, say).
const RECHECK: Duration = Duration::from_secs(1);

/// Query parameters of [`list_events`].
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct FeedParams {
    /// Only events numbered above this: 0 (when left out) for the whole feed, or
    /// the `next_after` of the previous page.
    #[param(minimum = 0, maximum = 9007199254740991_i64)]
    after: Option<i64>,
    /// Only events of this plan and what it contains.
    plan_id: Option<Uuid>,
    /// Only events about this kind of resource.
    resource_type: Option<ResourceType>,
    /// Most events on one page, 1 to 1000; 100 when left out.
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<u32>,
    /// Seconds to wait, up to 60, for an event after `after` when there is none yet
    /// (a long poll); the page comes back as soon as one is committed. 0 (when left
    /// out) answers at once.
    #[param(minimum = 0, maximum = 60)]
    wait: Option<u64>,
}

/// Follow the change feed
///
/// Every change to a plan, area, goal, status update, measure or measurement, in
/// the order it was committed, numbered 1, 2, 3, ... without gaps: the same number
/// always names the same event. A client keeps a copy in sync by remembering one
/// number: ask with `after` set to the `next_after` of the last page, apply the
/// events, repeat (with `wait` to be told at once). Deleting a resource deletes
/// what it contains, and the feed has an event for each.
#[utoipa::path(
    security(("bearer" = ["read"])),
    tag = "changes",
    params(FeedParams),
    responses((status = 200, description = "The events after `after`, oldest first", body = FeedPage))
)]
#[get("/events")]
pub async fn list_events(
    request: HttpRequest,
    signal: web::Data<FeedSignal>,
    stopping: web::Data<Stopping>,
    QueryParams(params): QueryParams<FeedParams>,
    mut conn: ReadConn,
) -> Result<HttpResponse, ApiError> {
    let filter = FeedFilter {
        after: params.after.unwrap_or(0),
        plan_id: params.plan_id,
        resource_type: params.resource_type,
        limit: params.limit.unwrap_or(100),
    };
    if filter.after < 0 {
        return Err(ApiError::bad_parameter(
            "after",
            format!(
                "must be 0 or more (got {}): an event's number, or 0 for the start",
                filter.after
            ),
        ));
    }
    if !(1..=MAX_FEED_PAGE).contains(&filter.limit) {
        return Err(ApiError::bad_parameter(
            "limit",
            format!("must be from 1 to {MAX_FEED_PAGE} (got {})", filter.limit),
        ));
    }
    let wait = params.wait.unwrap_or(0);
    if wait > MAX_WAIT_SECONDS {
        return Err(ApiError::bad_parameter(
            "wait",
            format!("must be from 0 to {MAX_WAIT_SECONDS} seconds (got {wait})"),
        ));
    }
    // Waiting for an event is not waiting on the database.
    Deadline::extend(&request, Duration::from_secs(wait));
    let deadline = tokio::time::Instant::now() + Duration::from_secs(wait);
    let mut notified = signal.0.clone();
    loop {
        notified.borrow_and_update();
        let page = event::feed(&mut conn, &filter).await?;
        let now = tokio::time::Instant::now();
        match page {
            Some(page) => return Ok(HttpResponse::Ok().json(page)),
            // A stopping service answers at once, so that the client polls again
            // (another instance) instead of being cut off at the end of the grace.
            None if now >= deadline || stopping.has_begun() => {
                return Ok(HttpResponse::Ok().json(FeedPage {
                    items: Vec::new(),
                    next_after: filter.after,
                    newest_seq: filter.after,
                }));
            }
            None => {
                let pause = RECHECK.min(deadline - now);
                let event = std::pin::pin!(tokio::time::timeout(pause, notified.changed()));
                match select(event, std::pin::pin!(stopping.wait())).await {
                    Either::Left((Ok(Ok(())) | Err(_), _)) | Either::Right(_) => {}
                    // No listener: look again after the pause.
                    Either::Left((Ok(Err(_)), _)) => tokio::time::sleep(pause).await,
                }
            }
        }
    }
}

async fn history(
    request: HttpRequest,
    conn: &mut Conn,
    resource_type: ResourceType,
    id: Uuid,
    params: PageParams,
) -> Result<HttpResponse, ApiError> {
    let page = params.page()?;
    let events = event::history(conn, resource_type, id, &page).await?;
    Ok(page_response(&request, events))
}

/// A plan's revision history
///
/// The plan's own changes, newest first: who made each, when, the fields it
/// changed from what to what, and the PATCH's `revision_note`. Also for a deleted
/// plan. The changes within the plan are in the change feed (`plan_id`).
#[utoipa::path(
    security(("bearer" = ["read"])),
    tag = "changes",
    params(("plan_id" = Uuid, Path, description = "The plan's id"), PageParams),
    responses((status = 200, description = "A page of the plan's events, newest first", body = EventList,
        headers(("Link" = String, description = "The next page, as `<url>; rel=\"next\"`, when there is one"))))
)]
#[get("/plans/{plan_id}/history")]
pub async fn plan_history(
    request: HttpRequest,
    plan_id: web::Path<Uuid>,
    QueryParams(params): QueryParams<PageParams>,
    mut conn: ReadConn,
) -> Result<HttpResponse, ApiError> {
    history(request, &mut conn, ResourceType::Plan, *plan_id, params).await
}

/// A strategic area's revision history
///
/// The area's changes, newest first, as for a plan's history.
#[utoipa::path(
    security(("bearer" = ["read"])),
    tag = "changes",
    params(("area_id" = Uuid, Path, description = "The area's id"), PageParams),
    responses((status = 200, description = "A page of the area's events, newest first", body = EventList,
        headers(("Link" = String, description = "The next page, as `<url>; rel=\"next\"`, when there is one"))))
)]
#[get("/areas/{area_id}/history")]
pub async fn area_history(
    request: HttpRequest,
    area_id: web::Path<Uuid>,
    QueryParams(params): QueryParams<PageParams>,
    mut conn: ReadConn,
) -> Result<HttpResponse, ApiError> {
    history(request, &mut conn, ResourceType::Area, *area_id, params).await
}

/// A goal's revision history
///
/// The goal's changes, newest first, as for a plan's history: edits, moves and
/// renumbering, and the status and progress its status updates gave it.
#[utoipa::path(
    security(("bearer" = ["read"])),
    tag = "changes",
    params(("goal_id" = Uuid, Path, description = "The goal's id"), PageParams),
    responses((status = 200, description = "A page of the goal's events, newest first", body = EventList,
        headers(("Link" = String, description = "The next page, as `<url>; rel=\"next\"`, when there is one"))))
)]
#[get("/goals/{goal_id}/history")]
pub async fn goal_history(
    request: HttpRequest,
    goal_id: web::Path<Uuid>,
    QueryParams(params): QueryParams<PageParams>,
    mut conn: ReadConn,
) -> Result<HttpResponse, ApiError> {
    history(request, &mut conn, ResourceType::Goal, *goal_id, params).await
}

/// Tells long polls that events were committed: woken by the notification the
/// event triggers send at commit (see [`super::notifications`]).
pub struct FeedSignal(pub(super) watch::Receiver<u64>);
