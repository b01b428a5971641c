//! Status updates: what staff record about a goal's progress, dated by `as_of`.
//! Every write here also refreshes the goal's derived status in the same transaction.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::{AsChangeset, ExpressionMethods, Insertable, QueryDsl, SelectableHelper};
use diesel_async::RunQueryDsl;
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;
use uuid::Uuid;

use super::derived::goal_status;
use super::measurement::{self, Measurement, MeasurementInput};
use super::patch::patch_schema;
use super::tables::{self, status_updates::StatusUpdateRow};
use super::writer::Writer;
use super::{Conn, GoalStatus};
use crate::error::ApiError;
use crate::models::event::snapshot::{self, Followed};
use crate::models::validation::{self, FieldReader, LONG_TEXT, SHORT_TEXT, input_body};
use crate::pagination::{Page, PageRequest};
use crate::schema::status_updates;
use tables::status_updates::{NewestFirstKey, get_row};

/// A report on a goal's progress as of a date.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "0193a3c4-8c00-7e33-9f40-5b6c7d8e9fa0",
    "goal_id": "0193a3c4-7b12-7d22-8e3f-4a5b6c7d8e9f",
    "status": "on_track",
    "progress_percent": 40,
    "note": "Four of the six blog and webinar opportunities for this year are booked.",
    "author": "Core staff",
    "as_of": "2024-03-31",
    "measurements": [{"measure_id": "0193a3c4-9d00-7e44-8a51-6c7d8e9fa0b1", "value": 4}],
    "created_at": "2026-11-27T12:00:00Z",
    "updated_at": "2026-11-27T12:00:00Z"
}))]
pub struct StatusUpdate {
    /// The status update's id.
    pub id: Uuid,
    /// The goal the update reports on.
    pub goal_id: Uuid,
    /// How the goal is doing.
    pub status: GoalStatus,
    /// How far along the goal is, 0 to 100, if the update says.
    #[schema(minimum = 0, maximum = 100)]
    pub progress_percent: Option<i16>,
    /// What happened, what is next, what is in the way.
    #[schema(max_length = 10000)]
    pub note: Option<String>,
    /// Who reported.
    #[schema(max_length = 200)]
    pub author: Option<String>,
    /// The date the update speaks for.
    pub as_of: NaiveDate,
    /// The values the update records for its goal's measures, dated by `as_of`;
    /// in the order the measures were created.
    #[schema(max_items = 100)]
    pub measurements: Vec<Measurement>,
    /// When the update was recorded.
    pub created_at: DateTime<Utc>,
    /// When the update was last changed.
    pub updated_at: DateTime<Utc>,
}

impl StatusUpdate {
    /// The update as sent: its row and its measurements.
    pub fn new(row: StatusUpdateRow, measurements: Vec<Measurement>) -> Self {
        Self {
            id: row.id,
            goal_id: row.goal_id,
            status: row.status,
            progress_percent: row.progress_percent,
            note: row.note,
            author: row.author,
            as_of: row.as_of,
            measurements,
            created_at: row.created_at,
            updated_at: row.updated_at,
        }
    }
}

/// The updates as sent, each with its measurements: one query for them all.
pub async fn with_measurements(
    conn: &mut Conn,
    rows: Vec<StatusUpdateRow>,
) -> Result<Vec<StatusUpdate>, ApiError> {
    let ids: Vec<Uuid> = rows.iter().map(|row| row.id).collect();
    let mut measurements = measurement::of_updates(conn, &ids).await?;
    Ok(rows
        .into_iter()
        .map(|row| {
            let of_row = measurements.remove(&row.id).unwrap_or_default();
            StatusUpdate::new(row, of_row)
        })
        .collect())
}

input_body! {
    /// The fields of a status update a client writes. On create, `status` is required
    /// and `as_of` defaults to today (UTC).
    #[derive(Debug, Clone, Insertable, AsChangeset, ToSchema)]
    #[diesel(table_name = status_updates, treat_none_as_null = true)]
    #[schema(example = json!({
        "status": "on_track",
        "progress_percent": 40,
        "note": "Four of the six blog and webinar opportunities for this year are booked.",
        "author": "Core staff",
        "as_of": "2024-03-31"
    }))]
    pub struct StatusUpdateInput {
        /// How the goal is doing.
        pub status: GoalStatus,
        /// How far along the goal is, 0 to 100.
        #[schema(minimum = 0, maximum = 100)]
        pub progress_percent: Option<i16>,
        /// What happened, what is next, what is in the way; at most 10,000 characters.
        #[schema(max_length = 10000, pattern = "^[^\\u0000]*$")]
        pub note: Option<String>,
        /// Who reported; at most 200 characters.
        #[schema(max_length = 200, pattern = "^[^\\u0000]*$")]
        pub author: Option<String>,
        /// The date the update speaks for, such as the end of a reporting quarter (it
        /// may be ahead of today, for a report prepared early); a new update speaks
        /// for today (UTC) unless told otherwise.
        #[schema(required = false)]
        pub as_of: NaiveDate,
        /// Values for the goal's measures, each measure at most once, dated by `as_of`.
        /// In a PATCH, the list replaces the update's measurements (`[]` removes them);
        /// left out, they stay.
        #[schema(max_items = 100, nullable = false, required = false)]
        #[diesel(skip_insertion, skip_update)]
        pub measurements: Option<Vec<MeasurementInput>>,
    }
}

patch_schema!(StatusUpdatePatch, StatusUpdateInput, "a status update");

impl StatusUpdateInput {
    /// Reads a create body (`current` is `None`) or a merge patch over `current`.
    /// `measurements` is only what the body gave; whether its measures are the
    /// goal's is checked with the database ([`measurement::check`]).
    pub fn read(body: Value, current: Option<&StatusUpdateRow>) -> Result<Self, ApiError> {
        let mut fields = validation::SERVER_SET.to_vec();
        fields.push((
            "goal_id",
            "a status update belongs to the goal in the URL it was posted to",
        ));
        let mut r = FieldReader::new(body, Self::FIELDS, &fields)?;
        let status = r.required("status", current.map(|c| c.status), validation::one_of);
        let progress_percent = r.optional(
            "progress_percent",
            current.map(|c| c.progress_percent),
            validation::integer(0, 100),
        );
        let note = r.optional(
            "note",
            current.map(|c| c.note.clone()),
            validation::text(LONG_TEXT),
        );
        let author = r.optional(
            "author",
            current.map(|c| c.author.clone()),
            validation::text(SHORT_TEXT),
        );
        let today = Utc::now().date_naive();
        let as_of = r.required(
            "as_of",
            Some(current.map_or(today, |c| c.as_of)),
            validation::date,
        );
        let measurements = r.objects(
            "measurements",
            measurement::MAX_PER_UPDATE,
            MeasurementInput::read,
        );
        let input = (|| {
            Some(Self {
                status: status?,
                progress_percent,
                note,
                author,
                as_of: as_of?,
                measurements,
            })
        })();
        r.finish(input)
    }
}

/// Filters of the status update list.
#[derive(Debug, Default)]
pub struct StatusUpdateFilter {
    /// Only updates with `as_of` on or after this date.
    pub as_of_from: Option<NaiveDate>,
    /// Only updates with `as_of` on or before this date.
    pub as_of_to: Option<NaiveDate>,
    /// Only updates changed at or after this time.
    pub updated_since: Option<DateTime<Utc>>,
}

/// Lists the goal's status updates, newest first (by `as_of`, then `created_at`).
pub async fn list(
    conn: &mut Conn,
    goal_id: Uuid,
    filter: &StatusUpdateFilter,
    page: &PageRequest,
) -> Result<Page<StatusUpdate>, ApiError> {
    let followed = Followed::Goal(goal_id);
    snapshot::page(conn, followed, async |conn| {
        list_in_snapshot(conn, goal_id, filter, page).await
    })
    .await
}

/// One page of [`list`], read in the snapshot that [`snapshot::page`] takes.
async fn list_in_snapshot(
    conn: &mut Conn,
    goal_id: Uuid,
    filter: &StatusUpdateFilter,
    page: &PageRequest,
) -> Result<Page<StatusUpdate>, ApiError> {
    tables::goals::get(conn, goal_id).await?;
    let mut query = status_updates::table
        .filter(status_updates::goal_id.eq(goal_id))
        .select(StatusUpdateRow::as_select())
        .into_boxed();
    if let Some(since) = filter.updated_since {
        query = query.filter(status_updates::updated_at.ge(since));
    }
    if let Some(from) = filter.as_of_from {
        query = query.filter(status_updates::as_of.ge(from));
    }
    if let Some(to) = filter.as_of_to {
        query = query.filter(status_updates::as_of.le(to));
    }
    if let Some(key) = page.after::<NewestFirstKey>()? {
        query = query.filter(key.older());
    }
    let rows = query
        .order_by((
            status_updates::as_of.desc(),
            status_updates::created_at.desc(),
            status_updates::id.desc(),
        ))
        .limit(page.fetch_limit())
        .load(conn)
        .await?;
    let page = page.page(rows, |update| {
        NewestFirstKey::new(update.as_of, update.created_at, update.id)
    });
    Ok(Page {
        items: with_measurements(conn, page.items).await?,
        next_cursor: page.next_cursor,
        feed_position: page.feed_position,
    })
}

/// The status update with this id.
pub async fn get(conn: &mut Conn, id: Uuid) -> Result<StatusUpdate, ApiError> {
    let row = get_row(conn, id).await?;
    with_measurement(conn, row).await
}

async fn with_measurement(conn: &mut Conn, row: StatusUpdateRow) -> Result<StatusUpdate, ApiError> {
    let mut updates = with_measurements(conn, vec![row]).await?;
    Ok(updates.remove(0))
}

/// Checks the measurements the body gave against the goal's measures and writes
/// them to the update in place of its old ones; leaves them when the body gave none.
async fn write_measurements(
    conn: &mut Conn,
    goal_id: Uuid,
    update_id: Uuid,
    input: &StatusUpdateInput,
) -> Result<(), ApiError> {
    if let Some(measurements) = &input.measurements {
        measurement::check(conn, goal_id, measurements).await?;
        measurement::replace(conn, update_id, measurements).await?;
    }
    Ok(())
}

/// Records a status update on the goal, with its measurements, and makes it the
/// goal's status if it is the latest.
pub async fn create(
    writer: &mut Writer<'_>,
    goal_id: Uuid,
    body: Value,
) -> Result<StatusUpdate, ApiError> {
    let input = StatusUpdateInput::read(body, None)?;
    writer
        .transaction(async |conn| {
            tables::goals::lock(conn, goal_id).await?;
            let update = diesel::insert_into(status_updates::table)
                .values((
                    status_updates::id.eq(Uuid::now_v7()),
                    status_updates::goal_id.eq(goal_id),
                    &input,
                ))
                .returning(StatusUpdateRow::as_returning())
                .get_result(conn)
                .await?;
            write_measurements(conn, goal_id, update.id, &input).await?;
            goal_status::refresh_status(conn, goal_id).await?;
            with_measurement(conn, update).await
        })
        .await
}

/// Applies a JSON merge patch to the status update (a `measurements` list replaces
/// its measurements), and refreshes its goal's status.
pub async fn update(
    writer: &mut Writer<'_>,
    id: Uuid,
    patch: Value,
) -> Result<StatusUpdate, ApiError> {
    writer
        .transaction(async |conn| {
            let current = lock_with_goal(conn, id).await?;
            let input = StatusUpdateInput::read(patch, Some(&current))?;
            let update = diesel::update(status_updates::table.find(id))
                .set((&input, status_updates::updated_at.eq(diesel::dsl::now)))
                .returning(StatusUpdateRow::as_returning())
                .get_result(conn)
                .await?;
            write_measurements(conn, current.goal_id, id, &input).await?;
            goal_status::refresh_status(conn, current.goal_id).await?;
            with_measurement(conn, update).await
        })
        .await
}

/// Deletes the status update with its measurements; the goal falls back to its
/// previous latest update.
pub async fn delete(writer: &mut Writer<'_>, id: Uuid) -> Result<(), ApiError> {
    writer
        .transaction(async |conn| {
            let current = lock_with_goal(conn, id).await?;
            diesel::delete(status_updates::table.find(id))
                .execute(conn)
                .await?;
            goal_status::refresh_status(conn, current.goal_id).await?;
            Ok(())
        })
        .await
}

/// The status update as its writers see it, its goal locked.
pub async fn get_locked(conn: &mut Conn, id: Uuid) -> Result<StatusUpdate, ApiError> {
    let row = lock_with_goal(conn, id).await?;
    with_measurement(conn, row).await
}

/// The status update, after locking its goal (see [`goal::refresh_status`]).
async fn lock_with_goal(conn: &mut Conn, id: Uuid) -> Result<StatusUpdateRow, ApiError> {
    let goal_id = get_row(conn, id).await?.goal_id;
    tables::goals::lock(conn, goal_id).await?;
    get_row(conn, id).await
}
