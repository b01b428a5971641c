//! A whole plan as one document: `GET /api/v1/plans/{plan_id}/document` and
//! `POST /api/v1/plans/import`.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use chrono::NaiveDate;
use serde::Deserialize;
use utoipa::IntoParams;
use uuid::Uuid;

use super::cache::{Key, Representation, RepresentationCache, Shape};
use super::connection::{ReadPool, WriteConn};
use super::extract::{BodyLimit, QueryParams, Sent, parse_json, read_json_or_text};
use super::middleware::access::Access;

use crate::error::ApiError;
use crate::models::document::{self, PlanDocument, UpdatesInDocument};
use crate::models::event::rebuild;
use crate::models::import::{self, ImportReport, PlanImport, Source};
use crate::models::plan::{self, Contained};
use crate::models::{Conn, PlanStatus};

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
    request: HttpRequest,
    access: Access,
    plan_id: web::Path<Uuid>,
    QueryParams(params): QueryParams<DocumentParams>,
    reads: ReadPool,
    cache: web::Data<RepresentationCache>,
) -> Result<HttpResponse, ApiError> {
    let (plan_id, updates) = (*plan_id, params.updates.unwrap_or_default());
    if let Some(day) = params.as_of {
        return document_as_of(&access, &mut *reads.conn().await?, plan_id, day, updates).await;
    }
    let key = Key::read(&reads, plan_id, Shape::Document(updates)).await?;
    cache
        .answer(&request, &access, key, async || {
            let document = document::export(&mut *reads.conn().await?, plan_id, updates).await?;
            Representation::json(&document, document.plan.status == PlanStatus::Draft)
        })
        .await
}

/// The document as the plan stood at the end of `day`, rebuilt from its history.
/// The access check leaves this route's drafts to its handler (`access`), so
/// without read this hides the plans that are drafts now as well as then.
async fn document_as_of(
    access: &Access,
    conn: &mut Conn,
    plan_id: Uuid,
    day: NaiveDate,
    updates: UpdatesInDocument,
) -> Result<HttpResponse, ApiError> {
    let hidden = || ApiError::not_found("plan", plan_id);
    if !access.reads_drafts() {
        // Only a plan that exists now, published, shows its past: a deleted plan
        // may never have been public, and even its dates would tell of it.
        let now = plan::status_containing(conn, Contained::Plan(plan_id)).await?;
        if matches!(now, None | Some(PlanStatus::Draft)) {
            return Err(hidden());
        }
    }
    let document = rebuild::document_as_of(conn, plan_id, day, updates).await?;
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
