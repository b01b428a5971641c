//! A whole plan as one document: `GET /api/v1/plans/{plan_id}/document` and
//! `POST /api/v1/plans/import`.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use chrono::NaiveDate;
use serde::Deserialize;
use utoipa::IntoParams;
use uuid::Uuid;

use super::connection::{ReadConn, WriteConn};
use super::extract::{BodyLimit, QueryParams, Sent, parse_json, read_json_or_text};
use super::middleware::access::Access;

use crate::error::ApiError;
use crate::models::PlanStatus;
use crate::models::document::{self, PlanDocument, UpdatesInDocument};
use crate::models::event::rebuild;
use crate::models::import::{self, ImportReport, PlanImport, Source};
use crate::models::plan::{self, Contained};

/// Query parameters of [`get_plan_document`].
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DocumentParams {
    /// Which status updates each goal carries: `all` (newest first, when left out),
    /// `latest`, or `none`.
    updates: Option<UpdatesInDocument>,
    /// The plan as it stood at the end of this day (UTC, `YYYY-MM-DD`), rebuilt from
    /// its history: what the plan said before a revision. Today or a later day
    /// gives the plan as it is now. Without a token with `read`, a day on which the
    /// plan was a draft, and any day of a deleted plan, is a 404 as for an unknown id.
    as_of: Option<NaiveDate>,
}

/// Get a whole plan as one document
///
/// The plan with its areas in order, each area's goals in order with their
/// sub-goals nested, and each goal's status updates: everything the portal needs
/// to draw the plan, in one request. Plans and areas carry their progress summary.
/// The same shape imports with `import_plan`. With `as_of`, the plan as it stood at
/// the end of that day, rebuilt from its history; a day before the plan existed
/// (or after it was deleted) is a 404 naming `as_of`.
#[utoipa::path(
    security((), ("bearer" = ["read"])),
    tag = "plans",
    params(("plan_id" = Uuid, Path, description = "The plan's id"), DocumentParams),
    responses((status = 200, description = "The plan as one document", body = PlanDocument))
)]
#[get("/plans/{plan_id}/document")]
pub async fn get_plan_document(
    access: Access,
    plan_id: web::Path<Uuid>,
    QueryParams(params): QueryParams<DocumentParams>,
    mut conn: ReadConn,
) -> Result<HttpResponse, ApiError> {
    let updates = params.updates.unwrap_or_default();
    let conn = &mut conn;
    let hidden = || ApiError::not_found("plan", *plan_id);
    let document = match params.as_of {
        None => document::export(conn, *plan_id, updates).await?,
        Some(day) => {
            // Without read, only a plan that exists now shows its past: a deleted
            // plan may never have been public, and even its dates would tell of it.
            let exists = plan::status_containing(conn, Contained::Plan(*plan_id)).await?;
            if exists.is_none() && !access.reads_drafts() {
                return Err(hidden());
            }
            rebuild::document_as_of(conn, *plan_id, day, updates).await?
        }
    };
    // A plan that was still a draft on that day was not public then either.
    if document.plan.status == PlanStatus::Draft && !access.reads_drafts() {
        return Err(hidden());
    }
    Ok(HttpResponse::Ok().json(document))
}

/// Query parameters of [`import_plan`].
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ImportParams {
    /// `true` reads and checks the document and reports what it would create,
    /// writing nothing.
    dry_run: Option<bool>,
}

/// Import a whole plan
///
/// Creates a plan with its areas, goals, sub-goals and status updates from one
/// document, in one transaction: all of it or nothing. The body is either a plan
/// document as JSON (the shape `get_plan_document` answers; ids, timestamps and
/// derived fields are ignored), or a plan outline as `text/markdown` or
/// `text/plain`: a title with its years, "Strategic Area N: Title" (or Markdown)
/// headings, numbered goals "1." and sub-goals "1.1.", and annotations such as
/// "(Completed)", "(Revision March 2024)" or "(New goal as of 2023)". Every problem
/// is reported at once, with a JSON pointer (or an outline line) to where it is.
/// Importing the same document twice creates two plans.
#[utoipa::path(
    security(("bearer" = ["write"])),
    tag = "plans",
    params(ImportParams),
    request_body(content(
        (PlanImport = "application/json"),
        (String = "text/markdown"),
        (String = "text/plain")
    )),
    responses(
        (status = 201, description = "The plan was created", body = ImportReport,
            headers(("Location" = String, description = "The new plan's address"))),
        (status = 200, description = "Dry run: what the import would create; nothing was written", body = ImportReport)
    )
)]
#[post("/plans/import")]
pub async fn import_plan(
    request: HttpRequest,
    limit: web::Data<BodyLimit>,
    body: web::Payload,
    QueryParams(params): QueryParams<ImportParams>,
    mut conn: WriteConn,
) -> Result<HttpResponse, ApiError> {
    let source = read_source(&request, body, limit.0).await?;
    let dry_run = params.dry_run.unwrap_or(false);
    let report = import::run(&mut conn.writer(None).await?, source, dry_run).await?;
    Ok(match report.plan_id {
        Some(plan_id) => HttpResponse::Created()
            .insert_header((header::LOCATION, format!("/api/v1/plans/{plan_id}")))
            .json(report),
        None => HttpResponse::Ok().json(report),
    })
}

/// The body, by its content type: a JSON document or a text outline.
async fn read_source(
    request: &HttpRequest,
    body: web::Payload,
    limit: usize,
) -> Result<Source, ApiError> {
    let what_to_send = "send a plan document as application/json, or a plan outline as text/markdown or text/plain (with curl: -H 'Content-Type: text/markdown' --data-binary @plan.md)";
    let (sent, bytes) =
        read_json_or_text(request, body, limit, &["markdown", "plain"], what_to_send).await?;
    match sent {
        Sent::Json => parse_json(&bytes).map(Source::Document),
        Sent::Text => String::from_utf8(bytes.to_vec())
            .map(Source::Outline)
            .map_err(|_| ApiError::BadRequest {
                detail: "the outline is not UTF-8 text".to_owned(),
                errors: Vec::new(),
            }),
    }
}
