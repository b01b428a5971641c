//! The HTTP API: one module per resource, handlers thin (extract, call the model,
//! answer), every route registered in [`routes`].

pub mod areas;
pub mod cache;
pub mod connection;
pub mod documents;
pub mod events;
pub mod extract;
pub mod fallback;
pub mod goals;
pub mod measures;
pub mod metrics;
pub mod middleware;
pub mod notifications;
pub mod plans;
pub mod problem;
pub mod route_table;
pub mod sequencer;
pub mod service;
pub mod sheet_import;
pub mod status_updates;
pub mod tokens;
pub mod tracking_sheet;

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::IntoParams;
use utoipa_actix_web::scope;
use utoipa_actix_web::service_config::ServiceConfig;

use self::connection::WriteConn;
use self::middleware::conditional::{IfMatch, item_response};
use crate::error::ApiError;
use crate::models::Conn;
use crate::models::patch::take_revision_note;
use crate::models::validation::SHORT_TEXT;
use crate::models::writer::Writer;
use crate::pagination::{Page, PageRequest};

/// Every route of the service, for the app and for the OpenAPI document alike.
pub fn routes(config: &mut ServiceConfig) {
    config
        .service(service::healthz)
        .service(service::readyz)
        .service(
            scope::scope("/api/v1")
                .service(service::get_openapi_document)
                .service(plans::list_plans)
                .service(plans::create_plan)
                .service(documents::import_plan)
                .service(documents::get_plan_document)
                .service(tracking_sheet::get_tracking_sheet)
                .service(plans::get_plan)
                .service(plans::update_plan)
                .service(plans::delete_plan)
                .service(areas::list_areas)
                .service(areas::create_area)
                .service(areas::get_area)
                .service(areas::update_area)
                .service(areas::delete_area)
                .service(goals::list_plan_goals)
                .service(goals::list_area_goals)
                .service(goals::create_goal)
                .service(goals::get_goal)
                .service(goals::update_goal)
                .service(goals::delete_goal)
                .service(sheet_import::import_status_updates)
                .service(status_updates::list_status_updates)
                .service(status_updates::create_status_update)
                .service(status_updates::get_status_update)
                .service(status_updates::update_status_update)
                .service(status_updates::delete_status_update)
                .service(measures::list_measures)
                .service(measures::create_measure)
                .service(measures::get_measure)
                .service(measures::update_measure)
                .service(measures::delete_measure)
                .service(measures::list_measure_history)
                .service(events::list_events)
                .service(events::plan_history)
                .service(events::area_history)
                .service(events::goal_history)
                .service(tokens::list_tokens)
                .service(tokens::create_token)
                .service(tokens::get_token)
                .service(tokens::revoke_token),
        );
}

/// Adds `name` to the answer's `Vary` header, in the one header line it has: caches
/// must keep answers apart by that request header.
pub fn vary_on(headers: &mut header::HeaderMap, name: &str) {
    let merged = match headers
        .get(header::VARY)
        .and_then(|vary| vary.to_str().ok())
    {
        Some(vary)
            if vary
                .split(',')
                .any(|known| known.trim().eq_ignore_ascii_case(name)) =>
        {
            return;
        }
        Some(vary) => format!("{vary}, {name}"),
        None => name.to_owned(),
    };
    if let Ok(value) = header::HeaderValue::from_str(&merged) {
        headers.insert(header::VARY, value);
    }
}

/// `201 Created` with the new resource, its entity tag, and its address in `Location`.
fn created(location: String, body: impl Serialize) -> HttpResponse {
    let mut response = item_response(StatusCode::CREATED, &body);
    response.headers_mut().insert(
        header::LOCATION,
        header::HeaderValue::from_str(&location).expect("locations are ASCII paths"),
    );
    response
}

/// A PATCH of one item: the body's `revision_note` goes on the change's events,
/// `If-Match` is checked against the item as `current` reads it, then `update`
/// applies the rest of the body; the item as changed, with its new entity tag.
async fn patch_item<T: Serialize>(
    mut conn: WriteConn,
    if_match: &IfMatch,
    mut body: Value,
    current: impl AsyncFnOnce(&mut Conn) -> Result<T, ApiError>,
    update: impl AsyncFnOnce(&mut Writer<'_>, Value) -> Result<T, ApiError>,
) -> Result<HttpResponse, ApiError> {
    let note = take_revision_note(&mut body)?;
    let mut writer = conn.writer(note.as_deref()).await?;
    let item = if_match
        .write(&mut writer, current, async |writer| {
            update(writer, body).await
        })
        .await?;
    Ok(item_response(StatusCode::OK, &item))
}

/// A DELETE of one item, with `If-Match` checked against the item as `current`
/// reads it: `204 No Content`.
async fn delete_item<T: Serialize>(
    mut conn: WriteConn,
    if_match: &IfMatch,
    current: impl AsyncFnOnce(&mut Conn) -> Result<T, ApiError>,
    delete: impl AsyncFnOnce(&mut Writer<'_>) -> Result<(), ApiError>,
) -> Result<HttpResponse, ApiError> {
    if_match
        .write(&mut conn.writer(None).await?, current, delete)
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// A page of a list, with a `Link: <...>; rel="next"` header when another page follows.
fn page_response<T: Serialize>(request: &HttpRequest, page: Page<T>) -> HttpResponse {
    let mut response = HttpResponse::Ok();
    if let Some(cursor) = &page.next_cursor {
        let info = request.connection_info();
        let mut query: Vec<&str> = request
            .query_string()
            .split('&')
            .filter(|pair| !pair.is_empty() && !pair.starts_with("cursor="))
            .collect();
        let cursor_pair = format!("cursor={cursor}");
        query.push(&cursor_pair);
        let next = format!(
            "{}://{}{}?{}",
            info.scheme(),
            info.host(),
            request.path(),
            query.join("&")
        );
        response.insert_header((header::LINK, format!("<{next}>; rel=\"next\"")));
    }
    response.json(page)
}

/// An `owner` filter, which is at most as long as owners are: a longer one could
/// match nothing, so it is told as a mistake (400), not answered with nothing.
fn owner_filter(owner: Option<String>) -> Result<Option<String>, ApiError> {
    if owner
        .as_ref()
        .is_some_and(|owner| owner.chars().count() > SHORT_TEXT)
    {
        return Err(ApiError::bad_parameter(
            "owner",
            format!("must be at most {SHORT_TEXT} characters long, as owners are"),
        ));
    }
    Ok(owner)
}

/// The `cascade` switch of every DELETE.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DeleteParams {
    /// `true` also deletes everything the resource contains. Without it, deleting a
    /// resource that still has children answers 409 and deletes nothing.
    #[serde(default)]
    cascade: bool,
}

/// Query parameters of a list that only pages.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PageParams {
    /// Most items on one page, 1 to 200; 50 when left out.
    #[param(minimum = 1, maximum = 200)]
    limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    #[param(max_length = 1024)]
    cursor: Option<String>,
}

impl PageParams {
    fn page(self) -> Result<PageRequest, ApiError> {
        PageRequest::new(self.limit, self.cursor)
    }
}

/// Query parameters of a list that pages and can bring a copy up to date.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ChangedSinceParams {
    /// Only items changed at or after this time (RFC 3339, such as
    /// `2026-11-27T12:00:00Z`), to bring a copy up to date. Deleted items are not
    /// listed: the change feed (`/api/v1/events`) tells of them.
    updated_since: Option<DateTime<Utc>>,
    /// Most items on one page, 1 to 200; 50 when left out.
    #[param(minimum = 1, maximum = 200)]
    limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    #[param(max_length = 1024)]
    cursor: Option<String>,
}

impl ChangedSinceParams {
    fn split(self) -> Result<(Option<DateTime<Utc>>, PageRequest), ApiError> {
        Ok((
            self.updated_since,
            PageRequest::new(self.limit, self.cursor)?,
        ))
    }
}

/// Declares the documented body of a list response for one item type; with
/// `followed`, for a list of what the change feed tells of, with its position.
macro_rules! list_body {
    ($name:ident, $item:ty, $what:literal) => {
        list_body!(@declare $name, $item, $what, {});
    };
    ($name:ident, $item:ty, $what:literal, followed) => {
        list_body!(@declare $name, $item, $what, {
            /// The change feed's position this page reflects, read with its rows:
            /// every change up to it is in the page, none after it. Follow the feed
            /// from here (`after`, with the list's plan as `plan_id`; for the list of
            /// plans, the whole feed). Each page has its own: a list read page by
            /// page follows from its first page's, and meets again the changes made
            /// while it paged.
            #[schema(minimum = 0, maximum = 9007199254740991_i64)]
            pub feed_position: i64,
        });
    };
    (@declare $name:ident, $item:ty, $what:literal, { $($more:tt)* }) => {
        #[doc = concat!("A page of ", $what, ".")]
        #[derive(Debug, serde::Serialize, utoipa::ToSchema)]
        pub struct $name {
            #[doc = concat!("The ", $what, " of this page, in list order.")]
            #[schema(max_items = 200)]
            pub items: Vec<$item>,
            /// Pass as `cursor` to get the next page; null on the last page.
            #[schema(max_length = 1024)]
            pub next_cursor: Option<String>,
            $($more)*
        }
    };
}
use list_body;
