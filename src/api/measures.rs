//! `/api/v1/goals/{goal_id}/measures` and `/api/v1/measures/{measure_id}`, with a
//! measure's history.

use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, web};
use serde_json::Value;
use uuid::Uuid;

use super::connection::{ReadConn, WriteConn};
use super::extract::QueryParams;
use super::middleware::conditional::IfMatch;
use super::{
    ChangedSinceParams, DeleteParams, PageParams, created, delete_item, list_body, page_response,
    patch_item,
};
use crate::error::ApiError;
use crate::models::Conn;
use crate::models::measure::{self, Measure, MeasureInput, MeasurePatch};
use crate::models::measurement::{self, DatedMeasurement};
use crate::models::writer::Writer;

list_body!(MeasureList, Measure, "measures", followed);
list_body!(
    DatedMeasurementList,
    DatedMeasurement,
    "measurements",
    followed
);

/// List a goal's measures
///
/// In the order they were created, each with its current value and percent of target.
#[utoipa::path(
    security((), ("bearer" = ["read"])),
    tag = "measures",
    params(("goal_id" = Uuid, Path, description = "The goal's id"), ChangedSinceParams),
    responses((status = 200, description = "A page of measures", body = MeasureList,
        headers(("Link" = String, description = "The next page, as `<url>; rel=\"next\"`, when there is one"))))
)]
#[get("/goals/{goal_id}/measures")]
pub async fn list_measures(
    request: HttpRequest,
    goal_id: web::Path<Uuid>,
    QueryParams(params): QueryParams<ChangedSinceParams>,
    mut conn: ReadConn,
) -> Result<HttpResponse, ApiError> {
    let (updated_since, page) = params.split()?;
    let conn = &mut conn;
    let measures = measure::list(conn, *goal_id, updated_since, &page).await?;
    Ok(page_response(&request, measures))
}

/// Add a measure to a goal
///
/// A measurable target, such as "6 blog and webinar opportunities a year". Status
/// updates of the goal then record its values in their `measurements`.
#[utoipa::path(
    security(("bearer" = ["write"])),
    tag = "measures",
    params(("goal_id" = Uuid, Path, description = "The goal's id")),
    request_body = MeasureInput,
    responses((status = 201, description = "The measure was created", body = Measure,
        headers(("Location" = String, description = "The new measure's address"))))
)]
#[post("/goals/{goal_id}/measures")]
pub async fn create_measure(
    goal_id: web::Path<Uuid>,
    body: web::Json<Value>,
    mut conn: WriteConn,
) -> Result<HttpResponse, ApiError> {
    let measure =
        measure::create(&mut conn.writer(None).await?, *goal_id, body.into_inner()).await?;
    Ok(created(format!("/api/v1/measures/{}", measure.id), measure))
}

/// Get a measure
///
/// With its current value and percent of target as of today (UTC).
#[utoipa::path(
    security((), ("bearer" = ["read"])),
    tag = "measures",
    params(("measure_id" = Uuid, Path, description = "The measure's id")),
    responses((status = 200, description = "The measure", body = Measure))
)]
#[get("/measures/{measure_id}")]
pub async fn get_measure(
    measure_id: web::Path<Uuid>,
    mut conn: ReadConn,
) -> Result<HttpResponse, ApiError> {
    let measure = measure::get(&mut conn, *measure_id).await?;
    Ok(HttpResponse::Ok().json(measure))
}

/// Update a measure
///
/// A JSON merge patch (RFC 7396). The values status updates recorded stay; the
/// current value and percent of target follow the new settings.
#[utoipa::path(
    security(("bearer" = ["write"])),
    tag = "measures",
    params(("measure_id" = Uuid, Path, description = "The measure's id")),
    request_body = MeasurePatch,
    responses((status = 200, description = "The measure as changed", body = Measure))
)]
#[patch("/measures/{measure_id}")]
pub async fn update_measure(
    if_match: IfMatch,
    measure_id: web::Path<Uuid>,
    body: web::Json<Value>,
    conn: WriteConn,
) -> Result<HttpResponse, ApiError> {
    let id = *measure_id;
    let current = async |conn: &mut Conn| measure::get_locked(conn, id).await;
    let update = async |writer: &mut Writer<'_>, patch| measure::update(writer, id, patch).await;
    patch_item(conn, &if_match, body.into_inner(), current, update).await
}

/// Delete a measure
///
/// A measure for which status updates recorded values is only deleted with
/// `cascade=true`, which removes those values from the updates (the updates stay).
#[utoipa::path(
    security(("bearer" = ["write"])),
    tag = "measures",
    params(("measure_id" = Uuid, Path, description = "The measure's id"), DeleteParams),
    responses((status = 204, description = "The measure was deleted"))
)]
#[delete("/measures/{measure_id}")]
pub async fn delete_measure(
    if_match: IfMatch,
    measure_id: web::Path<Uuid>,
    QueryParams(params): QueryParams<DeleteParams>,
    conn: WriteConn,
) -> Result<HttpResponse, ApiError> {
    let id = *measure_id;
    let current = async |conn: &mut Conn| measure::get_locked(conn, id).await;
    let delete = async |writer: &mut Writer<'_>| measure::delete(writer, id, params.cascade).await;
    delete_item(conn, &if_match, current, delete).await
}

/// List a measure's history
///
/// The values status updates recorded for the measure, newest first: by the
/// update's `as_of`, then by when it was recorded.
#[utoipa::path(
    security((), ("bearer" = ["read"])),
    tag = "measures",
    params(("measure_id" = Uuid, Path, description = "The measure's id"), PageParams),
    responses((status = 200, description = "A page of the measure's values", body = DatedMeasurementList,
        headers(("Link" = String, description = "The next page, as `<url>; rel=\"next\"`, when there is one"))))
)]
#[get("/measures/{measure_id}/history")]
pub async fn list_measure_history(
    request: HttpRequest,
    measure_id: web::Path<Uuid>,
    QueryParams(params): QueryParams<PageParams>,
    mut conn: ReadConn,
) -> Result<HttpResponse, ApiError> {
    let page = params.page()?;
    let history = measurement::history(&mut conn, *measure_id, &page).await?;
    Ok(page_response(&request, history))
}
