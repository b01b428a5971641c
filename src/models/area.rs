//! Strategic areas: the numbered parts of a plan ("Strategic Area 2").

use chrono::{DateTime, Utc};
use diesel::{
    AsChangeset, BoolExpressionMethods, ExpressionMethods, Insertable, QueryDsl, SelectableHelper,
};
use diesel_async::RunQueryDsl;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;
use uuid::Uuid;

use super::Conn;
use super::derived::goal_codes;
use super::derived::positions::Siblings;
use super::derived::progress::{self, Progress, RollUp};
use super::patch::patch_schema;
use super::tables::{self, areas::AreaRow};
use super::writer::Writer;
use crate::error::ApiError;
use crate::models::event::snapshot::{self, Followed};
use crate::models::validation::{self, FieldReader, LONG_TEXT, SHORT_TEXT, input_body};
use crate::pagination::{Page, PageRequest};
use crate::schema::{areas, goals};

/// A strategic area of a plan, with the progress of its goals.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "0193a3c4-6a00-7c11-9d2e-3f4a5b6c7d8e",
    "plan_id": "0193a3c4-5b6e-7f00-8a1b-2c3d4e5f6a7b",
    "position": 2,
    "title": "Career Building and Recognition",
    "description": "Help members develop skills throughout their careers.",
    "created_at": "2026-11-27T12:00:00Z",
    "updated_at": "2026-11-27T12:00:00Z",
    "progress": {
        "goal_count": 4,
        "by_status": {
            "not_started": 1, "on_track": 2, "at_risk": 0, "off_track": 0,
            "on_hold": 0, "completed": 1, "discontinued": 0
        },
        "percent_complete": 62.5
    }
}))]
pub struct Area {
    /// The area's id.
    pub id: Uuid,
    /// The plan the area belongs to.
    pub plan_id: Uuid,
    /// The area's place in the plan, from 1: "Strategic Area 2" has position 2.
    #[schema(minimum = 1, maximum = 2147483647)]
    pub position: i32,
    /// The area's name.
    #[schema(max_length = 200)]
    pub title: String,
    /// What the area is about.
    #[schema(max_length = 10000)]
    pub description: Option<String>,
    /// When the area was created.
    pub created_at: DateTime<Utc>,
    /// When the area was last changed (including when its position moved).
    pub updated_at: DateTime<Utc>,
    /// How far along the area is, rolled up from its goals and sub-goals.
    pub progress: Progress,
}

impl Area {
    /// The area as sent: its row and its progress (see also [`Self::rolled_up`]).
    pub fn new(row: AreaRow, progress: Progress) -> Self {
        Self {
            id: row.id,
            plan_id: row.plan_id,
            position: row.position,
            title: row.title,
            description: row.description,
            created_at: row.created_at,
            updated_at: row.updated_at,
            progress,
        }
    }

    /// The area as sent, with its progress taken from `roll_up` (that of a area
    /// without goals if `roll_up` has no entry for it).
    pub fn rolled_up(row: AreaRow, roll_up: &RollUp) -> Self {
        let progress = roll_up.area(row.id);
        Self::new(row, progress)
    }
}

input_body! {
    /// The fields of a strategic area a client writes. On create, `title` is required.
    #[derive(Debug, Clone, Insertable, AsChangeset, ToSchema)]
    #[diesel(table_name = areas, treat_none_as_null = true)]
    #[schema(example = json!({
        "title": "Career Building and Recognition",
        "description": "Help members develop skills throughout their careers."
    }))]
    pub struct AreaInput {
        /// The area's place in the plan, from 1; past the end means the end, where a
        /// new area goes unless told otherwise. The other areas close up or make way,
        /// so positions stay 1 to n.
        #[schema(minimum = 1, maximum = 2147483647, nullable = false)]
        #[diesel(skip_insertion, skip_update)]
        pub position: Option<i32>,
        /// The area's name; 1 to 200 characters, not blank.
        #[schema(
            min_length = 1,
            max_length = 200,
            pattern = "^[^\\u0000]*[^\\s\\u0000][^\\u0000]*$"
        )]
        pub title: String,
        /// What the area is about; at most 10,000 characters.
        #[schema(max_length = 10000, pattern = "^[^\\u0000]*$")]
        pub description: Option<String>,
    }
}

patch_schema!(AreaPatch, AreaInput, "a strategic area");

impl AreaInput {
    /// Reads a create body (`current` is `None`) or a merge patch over `current`.
    pub fn read(body: Value, current: Option<&AreaRow>) -> Result<Self, ApiError> {
        let mut r = FieldReader::new(body, Self::FIELDS, &read_only())?;
        let position = r.if_present("position", validation::integer(1, i64::from(i32::MAX)));
        let title = r.required(
            "title",
            current.map(|c| c.title.clone()),
            validation::title(SHORT_TEXT),
        );
        let description = r.optional(
            "description",
            current.map(|c| c.description.clone()),
            validation::text(LONG_TEXT),
        );
        let input = (|| {
            Some(Self {
                position,
                title: title?,
                description,
            })
        })();
        r.finish(input)
    }
}

fn read_only() -> Vec<(&'static str, &'static str)> {
    let mut fields = validation::SERVER_SET.to_vec();
    fields.push((
        "plan_id",
        "an area belongs to the plan in the URL it was created under",
    ));
    fields
}

/// The position of an area in the list: plan order.
#[derive(Serialize, Deserialize)]
struct AreaKey(i32, Uuid);

/// Lists the plan's areas in order.
pub async fn list(
    conn: &mut Conn,
    plan_id: Uuid,
    updated_since: Option<DateTime<Utc>>,
    page: &PageRequest,
) -> Result<Page<Area>, ApiError> {
    let followed = Followed::Plan(plan_id);
    snapshot::page(conn, followed, async |conn| {
        list_in_snapshot(conn, plan_id, updated_since, page).await
    })
    .await
}

/// One page of [`list`], read in the snapshot that [`snapshot::page`] takes.
async fn list_in_snapshot(
    conn: &mut Conn,
    plan_id: Uuid,
    updated_since: Option<DateTime<Utc>>,
    page: &PageRequest,
) -> Result<Page<Area>, ApiError> {
    tables::plans::get_row(conn, plan_id).await?;
    let mut query = areas::table
        .filter(areas::plan_id.eq(plan_id))
        .select(AreaRow::as_select())
        .into_boxed();
    if let Some(since) = updated_since {
        query = query.filter(areas::updated_at.ge(since));
    }
    if let Some(AreaKey(position, id)) = page.after()? {
        query = query.filter(
            areas::position
                .gt(position)
                .or(areas::position.eq(position).and(areas::id.gt(id))),
        );
    }
    let rows = query
        .order_by((areas::position, areas::id))
        .limit(page.fetch_limit())
        .load(conn)
        .await?;
    let page = page.page(rows, |area| AreaKey(area.position, area.id));
    let ids: Vec<Uuid> = page.items.iter().map(|area| area.id).collect();
    let roll_up = progress::for_areas(conn, &ids).await?;
    Ok(Page {
        items: (page.items.into_iter())
            .map(|row| Area::rolled_up(row, &roll_up))
            .collect(),
        next_cursor: page.next_cursor,
        feed_position: page.feed_position,
    })
}

/// The area with this id, with its progress.
pub async fn get(conn: &mut Conn, id: Uuid) -> Result<Area, ApiError> {
    let row = tables::areas::get_row(conn, id).await?;
    with_progress(conn, row).await
}

/// The area with its progress, from its goals as they are now.
async fn with_progress(conn: &mut Conn, row: AreaRow) -> Result<Area, ApiError> {
    let progress = progress::for_areas(conn, &[row.id]).await?.area(row.id);
    Ok(Area::new(row, progress))
}

/// Finds the area and locks its plan (see [`plan::lock`]); the area's row as it is then.
pub async fn get_locking_plan(conn: &mut Conn, id: Uuid) -> Result<AreaRow, ApiError> {
    let plan_id = tables::areas::get_row(conn, id).await?.plan_id;
    tables::plans::lock(conn, plan_id).await?;
    tables::areas::get_row(conn, id).await
}

/// The area as its writers see it, its plan locked (see [`get_locking_plan`]).
pub async fn get_locked(conn: &mut Conn, id: Uuid) -> Result<Area, ApiError> {
    get_locking_plan(conn, id).await?;
    get(conn, id).await
}

/// Creates an area in the plan from a create body.
pub async fn create(writer: &mut Writer<'_>, plan_id: Uuid, body: Value) -> Result<Area, ApiError> {
    let input = AreaInput::read(body, None)?;
    writer
        .transaction(async |conn| {
            tables::plans::lock(conn, plan_id).await?;
            let siblings = Siblings::AreasOf(plan_id);
            let position = siblings.insert_at(conn, input.position).await?;
            let row = diesel::insert_into(areas::table)
                .values((
                    areas::id.eq(Uuid::now_v7()),
                    areas::plan_id.eq(plan_id),
                    areas::position.eq(position),
                    &input,
                ))
                .returning(AreaRow::as_returning())
                .get_result(conn)
                .await?;
            goal_codes::renumber(conn, plan_id).await?;
            // A new area has no goals yet.
            Ok(Area::new(row, Progress::default()))
        })
        .await
}

/// Applies a JSON merge patch to the area; a new position moves the others.
pub async fn update(writer: &mut Writer<'_>, id: Uuid, patch: Value) -> Result<Area, ApiError> {
    writer
        .transaction(async |conn| {
            let current = get_locking_plan(conn, id).await?;
            let input = AreaInput::read(patch, Some(&current))?;
            let requested = input.position.unwrap_or(current.position);
            let position = Siblings::AreasOf(current.plan_id)
                .move_within(conn, current.position, requested)
                .await?;
            let row = diesel::update(areas::table.find(id))
                .set((
                    &input,
                    areas::position.eq(position),
                    areas::updated_at.eq(diesel::dsl::now),
                ))
                .returning(AreaRow::as_returning())
                .get_result(conn)
                .await?;
            if position != current.position {
                goal_codes::renumber(conn, current.plan_id).await?;
            }
            with_progress(conn, row).await
        })
        .await
}

/// Deletes the area; with `cascade`, also its goals and their status updates.
pub async fn delete(writer: &mut Writer<'_>, id: Uuid, cascade: bool) -> Result<(), ApiError> {
    writer.transaction(async |conn| {
        let area = get_locking_plan(conn, id).await?;
        let goal_count: i64 = goals::table
            .filter(goals::area_id.eq(id))
            .count()
            .get_result(conn)
            .await?;
        if goal_count > 0 && !cascade {
            return Err(ApiError::Conflict(format!(
                "the strategic area still has {goal_count} goal(s); delete them first, or repeat the request with ?cascade=true to delete the area with its goals and their status updates"
            )));
        }
        diesel::delete(areas::table.find(id)).execute(conn).await?;
        Siblings::AreasOf(area.plan_id)
            .close_gap(conn, area.position)
            .await?;
        goal_codes::renumber(conn, area.plan_id).await?;
        Ok(())
    })
    .await
}
