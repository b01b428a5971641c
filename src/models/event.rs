//! The change feed and revision history. Database triggers queue an event for
//! every row a transaction creates, changes or deletes (see the change feed
//! migrations); [`sequence`] numbers the committed ones, and this module reads
//! them back. Events are numbered without gaps, in the order they were numbered,
//! which for any one resource is the order its changes committed, so a client that
//! remembers the last number it saw can always continue from it.

pub mod rebuild;
pub mod snapshot;

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use diesel::{
    ExpressionMethods, OptionalExtension, QueryDsl, Queryable, Selectable, SelectableHelper,
};
use diesel_async::RunQueryDsl;
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;
use uuid::Uuid;

use super::prepared::prepared;
use super::{Conn, TextEnum};
use crate::error::ApiError;
use crate::pagination::{Page, PageRequest};
use crate::schema::{event_counter, events};

/// Longest revision note, in characters.
pub const REVISION_NOTE_LENGTH: usize = 1000;
/// Most events one page of the feed holds.
pub const MAX_FEED_PAGE: u32 = 1000;

text_enum! {
    /// The kind of resource an event is about.
    ResourceType {
        /// A plan.
        Plan = "plan",
        /// A strategic area.
        Area = "area",
        /// A goal or sub-goal.
        Goal = "goal",
        /// A status update.
        StatusUpdate = "status_update",
        /// A measure of a goal.
        Measure = "measure",
        /// A value a status update records for a measure (an item of its `measurements`).
        Measurement = "measurement",
    }
}

text_enum! {
    /// What happened to the resource.
    EventAction {
        /// It was made; `changes` holds every field, each with `old` null.
        Created = "created",
        /// Some of its fields changed; `changes` holds those.
        Updated = "updated",
        /// It was deleted, by itself or with what contained it; `changes` holds
        /// every field it had, each with `new` null.
        Deleted = "deleted",
    }
}

/// An event as stored.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = events, check_for_backend(diesel::pg::Pg))]
pub struct EventRow {
    pub seq: i64,
    pub occurred_at: DateTime<Utc>,
    pub actor: String,
    pub resource_type: ResourceType,
    pub resource_id: Uuid,
    pub plan_id: Option<Uuid>,
    pub action: EventAction,
    pub changes: Value,
    pub revision_note: Option<String>,
}

/// One field's value before and after a change.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct FieldChange {
    /// The value before; null on create, or when it was null.
    pub old: Value,
    /// The value after; null on delete, or when it became null.
    pub new: Value,
}

/// One change to one resource, as the change feed and the history list it.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({
    "seq": 42,
    "occurred_at": "2026-11-27T12:00:00Z",
    "actor": "core-staff",
    "resource_type": "goal",
    "resource_id": "0193a3c4-7b12-7d22-8e3f-4a5b6c7d8e9f",
    "plan_id": "0193a3c4-5b6e-7f00-8a1b-2c3d4e5f6a7b",
    "action": "updated",
    "changes": {"title": {"old": "Align journals", "new": "Align journals on a single platform"}},
    "revision_note": "Revised by the board, March 2024"
}))]
pub struct Event {
    /// The event's number: events are numbered 1, 2, 3, ... without gaps, in the
    /// order their changes were committed.
    #[schema(minimum = 1, maximum = 9007199254740991_i64)]
    pub seq: i64,
    /// When the change was made (the start of its transaction).
    pub occurred_at: DateTime<Utc>,
    /// Who made it: the name of the API token it was made with, `command line
    /// (<user>)` for the command line's imports, `migration` for what existed before
    /// the feed did, and `anonymous` for changes made before the service had tokens.
    #[schema(max_length = 200)]
    pub actor: String,
    pub resource_type: ResourceType,
    /// The id of the resource that changed.
    pub resource_id: Uuid,
    /// The plan the resource belongs to.
    pub plan_id: Option<Uuid>,
    pub action: EventAction,
    /// The fields that changed, by name, each with its old and new value. Fields
    /// kept for the service's own use are left out.
    pub changes: BTreeMap<String, FieldChange>,
    /// The `revision_note` of the PATCH that made the change, if it gave one.
    #[schema(max_length = 1000)]
    pub revision_note: Option<String>,
}

/// Columns a client never sees: a goal's custom code shows as its `code`, and its
/// plan order as its `position` among its siblings.
const INTERNAL_COLUMNS: &[(ResourceType, &str)] = &[
    (ResourceType::Goal, "custom_code"),
    (ResourceType::Goal, "sort_key"),
];

impl From<EventRow> for Event {
    fn from(row: EventRow) -> Self {
        let changes = match row.changes {
            Value::Object(fields) => fields
                .into_iter()
                .filter(|(name, _)| !INTERNAL_COLUMNS.contains(&(row.resource_type, name)))
                .map(|(name, mut change)| {
                    let change = FieldChange {
                        old: as_sent(&name, change["old"].take()),
                        new: as_sent(&name, change["new"].take()),
                    };
                    (name, change)
                })
                .collect(),
            _ => BTreeMap::new(),
        };
        Self {
            seq: row.seq,
            occurred_at: row.occurred_at,
            actor: row.actor,
            resource_type: row.resource_type,
            resource_id: row.resource_id,
            plan_id: row.plan_id,
            action: row.action,
            changes,
            revision_note: row.revision_note,
        }
    }
}

/// A value as the resource itself sends it: timestamps (`*_at`) are written by
/// PostgreSQL as `...+00:00`, and the API writes them `...Z`.
fn as_sent(name: &str, value: Value) -> Value {
    match &value {
        Value::String(text) if name.ends_with("_at") => DateTime::parse_from_rfc3339(text)
            .map(|time| serde_json::json!(time.with_timezone(&Utc)))
            .unwrap_or(value),
        _ => value,
    }
}

/// Which events the feed lists.
#[derive(Debug, Default)]
pub struct FeedFilter {
    /// Only events numbered above this.
    pub after: i64,
    pub plan_id: Option<Uuid>,
    pub resource_type: Option<ResourceType>,
    pub limit: u32,
}

/// A page of the feed.
#[derive(Debug, Serialize, ToSchema)]
pub struct FeedPage {
    /// The events after `after` that pass the filters, oldest first.
    #[schema(max_items = 1000)]
    pub items: Vec<Event>,
    /// Pass as `after` to continue: the number of the last event on this page or,
    /// when the page is not full, of the newest event (every event up to it that
    /// passes the filters is on this page or an earlier one).
    #[schema(minimum = 0, maximum = 9007199254740991_i64)]
    pub next_after: i64,
    /// The number of the newest event of all, filtered or not.
    #[schema(minimum = 0, maximum = 9007199254740991_i64)]
    pub newest_seq: i64,
}

/// The number of the newest event; 0 before any. Events committed but not yet
/// numbered are not counted: see [`sequence`].
pub async fn newest_seq(conn: &mut Conn) -> Result<i64, ApiError> {
    Ok(event_counter::table
        .select(event_counter::last_seq)
        .first(conn)
        .await?)
}

/// Numbers every committed event still queued (one pass of the sequencer, taking
/// turns with the passes of other connections and instances) and returns the
/// newest event's number. Readers of the feed and of histories call it first, so
/// that they see every change committed before they asked; with nothing queued it
/// is one cheap query that takes no lock.
pub async fn sequence(conn: &mut Conn) -> Result<i64, ApiError> {
    #[derive(diesel::QueryableByName)]
    struct Newest {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        sequence_events: i64,
    }
    let newest: Newest = prepared(diesel::sql_query("SELECT sequence_events()"))
        .get_result(conn)
        .await?;
    Ok(newest.sequence_events)
}

/// Vacuums the queue of events. Every numbered event leaves a dead row there, which
/// every later pass (and every reader's look for queued events) would walk past
/// until a vacuum; autovacuum may be slow to come, or off, and the sequencer does not
/// wait for it.
pub async fn vacuum_queue(conn: &mut Conn) -> Result<(), ApiError> {
    diesel::sql_query("VACUUM event_queue")
        .execute(conn)
        .await?;
    Ok(())
}

/// The events after `filter.after`, oldest first. `None` when there are none yet,
/// so a long poll can wait; an `after` beyond the newest event is a 400.
pub async fn feed(conn: &mut Conn, filter: &FeedFilter) -> Result<Option<FeedPage>, ApiError> {
    // Numbered first: every event up to it has committed, so the page below,
    // bounded by it, cannot miss one that is numbered while it is read.
    let newest = sequence(conn).await?;
    if filter.after > newest {
        return Err(ApiError::bad_parameter(
            "after",
            format!(
                "is {} but the newest event is {newest}; pass a number you were given (0 to start from the beginning)",
                filter.after
            ),
        ));
    }
    let mut query = events::table
        .filter(events::seq.gt(filter.after))
        .filter(events::seq.le(newest))
        .into_boxed();
    if let Some(plan_id) = filter.plan_id {
        query = query.filter(events::plan_id.eq(plan_id));
    }
    if let Some(resource_type) = filter.resource_type {
        query = query.filter(events::resource_type.eq(resource_type));
    }
    let rows: Vec<EventRow> = query
        .order_by(events::seq)
        .limit(i64::from(filter.limit))
        .select(EventRow::as_select())
        .load(conn)
        .await?;
    if rows.is_empty() && filter.after == newest {
        return Ok(None);
    }
    let full = rows.len() == filter.limit as usize;
    let next_after = match rows.last() {
        Some(last) if full => last.seq,
        _ => newest,
    };
    Ok(Some(FeedPage {
        items: rows.into_iter().map(Event::from).collect(),
        next_after,
        newest_seq: newest,
    }))
}

/// The events of one resource, newest first; a 404 if it never had any.
pub async fn history(
    conn: &mut Conn,
    resource_type: ResourceType,
    id: Uuid,
    page: &PageRequest,
) -> Result<Page<Event>, ApiError> {
    sequence(conn).await?;
    let mut query = events::table
        .filter(events::resource_type.eq(resource_type))
        .filter(events::resource_id.eq(id))
        .into_boxed();
    if let Some(before) = page.after::<i64>()? {
        query = query.filter(events::seq.lt(before));
    } else {
        let any: Option<i64> = events::table
            .filter(events::resource_type.eq(resource_type))
            .filter(events::resource_id.eq(id))
            .select(events::seq)
            .first(conn)
            .await
            .optional()?;
        if any.is_none() {
            let kind = resource_type.as_str().replace('_', " ");
            return Err(ApiError::NotFound(format!(
                "no {kind} has the id {id}, now or in its history"
            )));
        }
    }
    let rows: Vec<EventRow> = query
        .order_by(events::seq.desc())
        .limit(page.fetch_limit())
        .select(EventRow::as_select())
        .load(conn)
        .await?;
    let page = page.page(rows, |row| row.seq);
    Ok(Page {
        items: page.items.into_iter().map(Event::from).collect(),
        next_cursor: page.next_cursor,
        feed_position: page.feed_position,
    })
}

/// A number that changes whenever anything of the plan does: the newest change-feed
/// number among the plan's events (0 before any), after numbering the queue when one
/// of the plan's committed events is in it (the database's `plan_version`, one
/// statement; a pass for another plan's events is not waited for). Every change to a plan or
/// to anything in it writes an event (the triggers), so a representation rendered
/// after reading this is at least as new as the number says, whichever instance
/// made the change; the cache of rendered documents and sheets keys on it.
pub async fn plan_version(conn: &mut Conn, plan_id: Uuid) -> Result<i64, ApiError> {
    #[derive(diesel::QueryableByName)]
    struct Version {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        plan_version: i64,
    }
    let version: Version = prepared(
        diesel::sql_query("SELECT plan_version($1)").bind::<diesel::sql_types::Uuid, _>(plan_id),
    )
    .get_result(conn)
    .await?;
    Ok(version.plan_version)
}
