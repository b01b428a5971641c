//! `POST /api/v1/plans/{plan_id}/status-updates/import`: a round of status updates
//! from the tracking sheet, sent back as CSV or JSON.

use actix_web::{HttpRequest, HttpResponse, post, web};
use chrono::NaiveDate;
use serde::Deserialize;
use serde_json::Value;
use utoipa::openapi::schema::{ArrayBuilder, Schema};
use utoipa::openapi::{Ref, RefOr};
use utoipa::{IntoParams, PartialSchema, ToSchema};
use uuid::Uuid;

use super::connection::WriteConn;
use super::extract::{BodyLimit, QueryParams, Sent, parse_json, read_json_or_text};
use crate::error::ApiError;
use crate::models::GoalStatus;
use crate::models::sheet_import::{self, SheetImportReport, SheetSource};

/// Query parameters of [`import_status_updates`].
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SheetImportParams {
    /// `true` reads and checks the sheet and reports what it would record,
    /// writing nothing.
    dry_run: Option<bool>,
}

/// A row of the tracking sheet sent back as JSON: the shape the JSON sheet's rows
/// have. The goal is `goal_id`, or `code` with `area_position` when the code is
/// used in more than one area. The goal's own fields (`area_title`, `title`,
/// `owner`, `due_date`) are read but not imported.
#[derive(Debug, ToSchema)]
#[schema(example = json!({
    "goal_id": "0193a3c4-7b12-7d22-8e3f-4a5b6c7d8e9f",
    "status": "at_risk",
    "progress_percent": 30,
    "latest_update_as_of": "2024-06-30",
    "latest_update_author": "Core staff",
    "latest_update_note": "One webinar was cancelled.",
    "measures": [{"name": "Webinars", "current_value": 3}]
}))]
pub struct SheetRowInput {
    /// The goal's strategic area, by number: with `code`, when codes repeat across areas.
    #[schema(minimum = 1, maximum = 2147483647)]
    pub area_position: Option<i32>,
    /// Read but not imported: any value.
    pub area_title: Option<Value>,
    /// The goal the row is for.
    pub goal_id: Option<Uuid>,
    /// The goal's code ("2.1"), when `goal_id` is not given.
    #[schema(max_length = 200)]
    pub code: Option<String>,
    /// Read but not imported: any value.
    pub title: Option<Value>,
    /// Read but not imported: any value.
    pub owner: Option<Value>,
    /// How the goal is doing.
    pub status: GoalStatus,
    /// How far along the goal is, 0 to 100.
    #[schema(minimum = 0, maximum = 100)]
    pub progress_percent: Option<i16>,
    /// Read but not imported: any value.
    pub due_date: Option<Value>,
    /// The date the new update speaks for (today, UTC, when null); at most a day ahead.
    pub latest_update_as_of: Option<NaiveDate>,
    /// Who reported.
    #[schema(max_length = 200, pattern = "^[^\\u0000]*$")]
    pub latest_update_author: Option<String>,
    /// What the new update says.
    #[schema(max_length = 10000, pattern = "^[^\\u0000]*$")]
    pub latest_update_note: Option<String>,
    /// Values for the goal's measures; a null `current_value` records none.
    #[schema(max_items = 100)]
    pub measures: Option<Vec<SheetMeasureInput>>,
}

/// The tracking sheet sent back as JSON: its rows, at most as many as a body can
/// hold.
pub enum SheetRowsInput {}

/// Most rows a JSON body may state: more than a body within the limit can hold.
const MAX_ROWS: usize = 100_000;

// By hand: utoipa takes no `max_items` on a newtype, and every array must be bounded.
impl PartialSchema for SheetRowsInput {
    fn schema() -> RefOr<Schema> {
        ArrayBuilder::new()
            .items(Ref::from_schema_name(SheetRowInput::name()))
            .max_items(Some(MAX_ROWS))
            .description(Some(
                "The rows of the tracking sheet, as its JSON form has them.",
            ))
            .into()
    }
}

impl ToSchema for SheetRowsInput {
    fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
        schemas.push((SheetRowInput::name().into_owned(), SheetRowInput::schema()));
        <SheetRowInput as ToSchema>::schemas(schemas);
    }
}

/// A measure's value in a row sent back as JSON: the measure by `measure_id`, or by
/// `name` as the sheet names it.
#[derive(Debug, ToSchema)]
pub struct SheetMeasureInput {
    /// The measure.
    pub measure_id: Option<Uuid>,
    /// The measure's name, when `measure_id` is not given.
    #[schema(max_length = 200)]
    pub name: Option<String>,
    /// Read but not imported: any value.
    pub unit: Option<Value>,
    /// The measure's value as of the row's date.
    #[schema(format = Double, minimum = -1e15, maximum = 1e15)]
    pub current_value: Option<f64>,
    /// Read but not imported: any value.
    pub target: Option<Value>,
}

/// Import status updates from the tracking sheet
///
/// The body is the tracking sheet as `get_tracking_sheet` gives it, edited: a CSV
/// file (`text/csv`, UTF-8 with or without a byte order mark, CRLF or LF line ends,
/// RFC 4180 quoting; any subset of the export's columns that has `status` and
/// `goal_id` or `code`) or a JSON array of sheet rows. A row is matched to its goal
/// by `goal_id`, or by `code` (with `area_position` when the code is used in more
/// than one area). A row whose status, progress, note or a measure value
/// (`measure:<name>:current`) differs from the goal's latest update becomes a new
/// status update, dated `latest_update_as_of` (today, UTC, when empty), by
/// `latest_update_author`, recording the measure values that changed. A row that
/// repeats an update the goal already has on that date is skipped, so sending the
/// same file twice does not record anything twice. All rows or none: any bad row
/// is a 422 naming every problem as `<row>/<column>`, where the row is the CSV
/// file's line number (the header is line 1) or the JSON array's index. Answers
/// 200 with what became of each row, also when updates were recorded (they are
/// many; each row gives its update's id).
#[utoipa::path(
    security(("bearer" = ["write"])),
    tag = "status updates",
    params(("plan_id" = Uuid, Path, description = "The plan's id"), SheetImportParams),
    request_body(content(
        (SheetRowsInput = "application/json"),
        (String = "text/csv", example = "goal_id,status,progress_percent,latest_update_as_of,latest_update_note\r\n0193a3c4-7b12-7d22-8e3f-4a5b6c7d8e9f,at_risk,30,2024-06-30,\"One webinar was cancelled, one moved\"\r\n")
    )),
    responses((status = 200, description = "What became of each row; in a dry run, nothing was written", body = SheetImportReport))
)]
#[post("/plans/{plan_id}/status-updates/import")]
pub async fn import_status_updates(
    request: HttpRequest,
    limit: web::Data<BodyLimit>,
    plan_id: web::Path<Uuid>,
    body: web::Payload,
    QueryParams(params): QueryParams<SheetImportParams>,
    mut conn: WriteConn,
) -> Result<HttpResponse, ApiError> {
    let source = read_source(&request, body, limit.0).await?;
    let dry_run = params.dry_run.unwrap_or(false);
    let report =
        sheet_import::run(&mut conn.writer(None).await?, *plan_id, source, dry_run).await?;
    Ok(HttpResponse::Ok().json(report))
}

/// The body, by its content type: CSV bytes (their encoding is checked with the
/// rows) or JSON.
async fn read_source(
    request: &HttpRequest,
    body: web::Payload,
    limit: usize,
) -> Result<SheetSource, ApiError> {
    let what_to_send = "send the tracking sheet as text/csv (with curl: -H 'Content-Type: text/csv' --data-binary @sheet.csv), or its rows as application/json";
    let (sent, bytes) = read_json_or_text(request, body, limit, &["csv"], what_to_send).await?;
    match sent {
        Sent::Json => parse_json(&bytes).map(SheetSource::Rows),
        Sent::Text => Ok(SheetSource::Csv(bytes.to_vec())),
    }
}
