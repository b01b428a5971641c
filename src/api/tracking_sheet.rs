//! `GET /api/v1/plans/{plan_id}/tracking-sheet`: the plan's tracking sheet, as JSON
//! or as a CSV file for spreadsheets.

use actix_web::http::header::{self, Accept, HeaderValue, Quality};
use actix_web::{HttpMessage, HttpRequest, HttpResponse, get, web};
use chrono::NaiveDate;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::cache::{Key, Representation, RepresentationCache, Shape};
use super::connection::ReadPool;
use super::extract::QueryParams;
use super::middleware::access::Access;
use super::owner_filter;
use crate::error::ApiError;
use crate::models::tracking_sheet::{self, SheetFilter, TrackingSheet};
use crate::models::{GoalStatus, PlanStatus};

/// The form of the tracking sheet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SheetFormat {
    /// A JSON `TrackingSheet`.
    Json,
    /// A CSV file (`text/csv`) for spreadsheets.
    Csv,
}

/// Query parameters of [`get_tracking_sheet`].
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct TrackingSheetParams {
    /// Only goals of this strategic area.
    area_id: Option<Uuid>,
    /// Only goals with this status.
    status: Option<GoalStatus>,
    /// Only goals with exactly this owner.
    #[param(max_length = 200, pattern = "^[^\\u0000]*$")]
    owner: Option<String>,
    /// Only goals due before this date (not on it); goals without a due date are left out.
    due_before: Option<NaiveDate>,
    /// Only goals with no status update dated on or after this date, including
    /// goals with no update at all: the "who hasn't reported" list.
    stale_since: Option<NaiveDate>,
    /// `json` or `csv`; when given, it wins over the `Accept` header.
    format: Option<SheetFormat>,
}

impl TrackingSheetParams {
    /// Filters combine: a goal is shown when it passes all of them.
    fn filter(self) -> Result<SheetFilter, ApiError> {
        Ok(SheetFilter {
            area_id: self.area_id,
            status: self.status,
            owner: owner_filter(self.owner)?,
            due_before: self.due_before,
            stale_since: self.stale_since,
        })
    }
}

/// Get a plan's tracking sheet
///
/// One row per goal and sub-goal, in plan order: its area, code, title, owner,
/// status, progress and due date, the date, author and note of its latest status
/// update, and each of its measures with its current value and target. Filters
/// combine. JSON unless `format=csv`, or the `Accept` header prefers `text/csv`:
/// then a CSV file (UTF-8 with a byte order mark, so that spreadsheets read accents
/// right; CRLF line ends; RFC 4180 quoting) with a header row of the JSON field
/// names and a `measure:<name>:current` and `measure:<name>:target` column for every
/// measure name of the plan, sorted. Text cells that begin with `=`, `+`, `-`, `@`,
/// a tab or a carriage return are prefixed with `'`, so a spreadsheet shows them
/// rather than runs them; numbers are written as they are.
#[utoipa::path(
    security((), ("bearer" = ["read"])),
    tag = "plans",
    params(("plan_id" = Uuid, Path, description = "The plan's id"), TrackingSheetParams),
    responses((status = 200, description = "The tracking sheet, as JSON or CSV",
        content(
            (TrackingSheet = "application/json"),
            (String = "text/csv", example = "\u{feff}area_position,area_title,goal_id,code,title,owner,status,progress_percent,due_date,latest_update_as_of,latest_update_author,latest_update_note,measure:Webinars:current,measure:Webinars:target\r\n1,Member Engagement,0193a3c4-7b12-7d22-8e3f-4a5b6c7d8e9f,1.2,Offer webinars,Programs Committee,on_track,40,2025-08-31,2024-03-31,Core staff,\"Four booked, two to go\",4,6\r\n")
        ),
        headers(
            ("Content-Disposition" = String, description = "With CSV: `attachment; filename=\"<plan-title>-tracking-sheet-YYYY-MM-DD.csv\"`"),
            ("Feed-Position" = String, description = "With CSV: the change feed's position the sheet reflects, a whole number (the JSON form's `feed_position`)"),
            ("Vary" = String, description = "`Accept`: the form depends on it")
        )))
)]
#[get("/plans/{plan_id}/tracking-sheet")]
pub async fn get_tracking_sheet(
    request: HttpRequest,
    access: Access,
    plan_id: web::Path<Uuid>,
    QueryParams(params): QueryParams<TrackingSheetParams>,
    reads: ReadPool,
    cache: web::Data<RepresentationCache>,
) -> Result<HttpResponse, ApiError> {
    let plan_id = *plan_id;
    let format = params.format.unwrap_or_else(|| negotiated(&request));
    let filter = params.filter()?;
    let csv = format == SheetFormat::Csv;
    let shape = Shape::Sheet {
        filter: filter.clone(),
        csv,
    };
    let key = Key::read(&reads, plan_id, shape).await?;
    let mut response = cache
        .answer(&request, &access, key, async || {
            let sheet = tracking_sheet::get(&mut *reads.conn().await?, plan_id, &filter).await?;
            let draft = sheet.plan_status == PlanStatus::Draft;
            match csv {
                true => Representation::csv(
                    &sheet.to_csv(),
                    &sheet.file_name(),
                    sheet.sheet.feed_position,
                    draft,
                ),
                false => Representation::json(&sheet.sheet, draft),
            }
        })
        .await?;
    // Caches must keep the JSON and the CSV apart.
    response
        .headers_mut()
        .insert(header::VARY, HeaderValue::from_static("Accept"));
    Ok(response)
}

/// The form the `Accept` header prefers: CSV for `text/csv` (or `text/*`) ranked
/// above JSON, else JSON — also when the header is missing, unreadable or names
/// neither, as the JSON routes answer JSON whatever it says.
fn negotiated(request: &HttpRequest) -> SheetFormat {
    let Some(Accept(items)) = request.get_header::<Accept>() else {
        return SheetFormat::Json;
    };
    // `q=0` means "not this one".
    let acceptable = Accept(
        items
            .into_iter()
            .filter(|item| item.quality > Quality::ZERO)
            .collect(),
    );
    for mime in acceptable.ranked() {
        match (mime.type_().as_str(), mime.subtype().as_str()) {
            ("text", "csv" | "*") => return SheetFormat::Csv,
            ("application", "json" | "*") | ("*", "*") => return SheetFormat::Json,
            _ => {}
        }
    }
    SheetFormat::Json
}
