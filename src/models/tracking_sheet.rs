//! The tracking sheet: one row per goal and sub-goal of a plan, in plan order, with
//! its latest status update and its measures — the spreadsheet associations keep
//! their plan in, as JSON or as CSV (see [`Sheet::to_csv`]).

mod spreadsheet;

pub(crate) use spreadsheet::{FIXED_COLUMNS, column_names};

use std::collections::{BTreeSet, HashMap};

use chrono::{NaiveDate, Utc};
use diesel::{
    ExpressionMethods, JoinOnDsl, NullableExpressionMethods, QueryDsl, Queryable, SelectableHelper,
};
use diesel_async::RunQueryDsl;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::derived::standing;
use super::tables::{self, measures::MeasureRow, status_updates::latest_id_of};
use super::{Conn, GoalStatus, PlanStatus};
use crate::error::ApiError;
use crate::models::event::snapshot::{self, Followed};
use crate::schema::{areas, goals, measures, status_updates};

/// The SQL queries [`get`] makes, whatever the size of the plan: the plan, its goals
/// with their areas and latest updates, the plan's measures, and their measurements.
pub const SHEET_QUERIES: usize = 4;

/// A plan's tracking sheet: where every goal stands, one row per goal.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "plan_id": "0193a3c4-5b6e-7f00-8a1b-2c3d4e5f6a7b",
    "feed_position": 42,
    "rows": [{
        "area_position": 1,
        "area_title": "Member Engagement",
        "goal_id": "0193a3c4-7b12-7d22-8e3f-4a5b6c7d8e9f",
        "code": "1.2",
        "title": "Offer blog and webinar opportunities",
        "owner": "Programs Committee",
        "status": "on_track",
        "progress_percent": 40,
        "due_date": "2025-08-31",
        "latest_update_as_of": "2024-03-31",
        "latest_update_author": "Core staff",
        "latest_update_note": "Four of the six opportunities for this year are booked.",
        "measures": [{
            "measure_id": "0193a3c4-9d00-7e44-8a51-6c7d8e9fa0b1",
            "name": "Blog and webinar opportunities",
            "unit": "opportunities",
            "current_value": 4,
            "target": 6
        }]
    }]
}))]
pub struct TrackingSheet {
    /// The plan the sheet is of.
    pub plan_id: Uuid,
    /// The change feed's position the sheet reflects, read with its rows: every
    /// change up to it is in the sheet, none after it. Follow the plan's changes
    /// from here (`/events?plan_id=...&after=`). The CSV form sends it as the
    /// `Feed-Position` header.
    #[schema(minimum = 0, maximum = 9007199254740991_i64)]
    pub feed_position: i64,
    /// The goals and sub-goals that pass the filters, in plan order: area by area,
    /// each goal followed by its sub-goals ("1", "1.1", "1.2", "2", ...).
    #[schema(max_items = 1000000)]
    pub rows: Vec<TrackingSheetRow>,
}

/// One goal or sub-goal of the tracking sheet.
#[derive(Debug, Serialize, ToSchema)]
pub struct TrackingSheetRow {
    /// The number of the goal's strategic area in the plan ("Strategic Area 2").
    #[schema(minimum = 1, maximum = 2147483647)]
    pub area_position: i32,
    /// The title of the goal's strategic area.
    #[schema(max_length = 200)]
    pub area_title: String,
    /// The goal's id.
    pub goal_id: Uuid,
    /// The goal's number as the plan shows it ("2.1").
    #[schema(max_length = 200)]
    pub code: String,
    /// What the goal sets out to do.
    #[schema(max_length = 500)]
    pub title: String,
    /// Who is responsible for the goal.
    #[schema(max_length = 200)]
    pub owner: Option<String>,
    /// The status of the goal's latest status update; `not_started` without one.
    pub status: GoalStatus,
    /// The progress of the goal's latest status update, 0 to 100; null if it gave none.
    #[schema(minimum = 0, maximum = 100)]
    pub progress_percent: Option<i16>,
    /// When the goal is due.
    pub due_date: Option<NaiveDate>,
    /// The date the goal's latest status update speaks for; null without one.
    pub latest_update_as_of: Option<NaiveDate>,
    /// Who wrote the latest status update.
    #[schema(max_length = 200)]
    pub latest_update_author: Option<String>,
    /// What the latest status update says.
    #[schema(max_length = 10000)]
    pub latest_update_note: Option<String>,
    /// The goal's measures, in the order they were created.
    #[schema(max_items = 10000)]
    pub measures: Vec<SheetMeasure>,
}

/// A measure of a goal, as the tracking sheet shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct SheetMeasure {
    /// The measure's id.
    pub measure_id: Uuid,
    /// What is counted or measured.
    #[schema(max_length = 200)]
    pub name: String,
    /// The unit of the values, if any.
    #[schema(max_length = 50)]
    pub unit: Option<String>,
    /// Where the measure stands today (UTC), as the measure's own `current_value`
    /// says: the latest value of a `total` measure, the sum within the current
    /// period of a per-period one; null while no value has been recorded.
    #[schema(format = Double)]
    pub current_value: Option<f64>,
    /// The value to reach, in all or in each period.
    #[schema(format = Double)]
    pub target: f64,
}

/// Which goals the sheet shows; a goal is shown when it passes every filter given.
/// Comparable, as the sheets rendered for each filter are cached apart.
#[derive(Debug, Default, Clone, PartialEq, Eq, Hash)]
pub struct SheetFilter {
    /// Goals of this strategic area (none if it is not one of the plan's).
    pub area_id: Option<Uuid>,
    /// Goals with this status.
    pub status: Option<GoalStatus>,
    /// Goals with exactly this owner.
    pub owner: Option<String>,
    /// Goals due strictly before this date (goals without a due date are left out).
    pub due_before: Option<NaiveDate>,
    /// Goals with no status update dated on or after this date, including goals
    /// with no update at all: the "who hasn't reported" list.
    pub stale_since: Option<NaiveDate>,
}

/// The tracking sheet with what its CSV form needs besides.
#[derive(Debug)]
pub struct Sheet {
    /// The sheet as JSON sends it.
    pub sheet: TrackingSheet,
    /// The plan's title, which names the CSV file.
    pub plan_title: String,
    /// The day the sheet speaks for (UTC): measures' current values are as of it.
    pub as_of: NaiveDate,
    /// The plan's status: a draft's sheet is for callers who may read drafts.
    pub plan_status: PlanStatus,
    /// The measure columns of the CSV form: every measure of the plan, not only of
    /// the goals shown, so that the columns stay the same whatever the filters.
    measure_columns: Vec<String>,
}

/// The plan's tracking sheet, read in one snapshot with the feed position it
/// reflects.
pub async fn get(conn: &mut Conn, plan_id: Uuid, filter: &SheetFilter) -> Result<Sheet, ApiError> {
    snapshot::read(conn, Followed::Plan(plan_id), async |conn, position| {
        read(conn, plan_id, filter, position).await
    })
    .await
}

/// The rows of the whole sheet as a transaction already open sees them: for the
/// sheet's import, which compares a file with them.
pub async fn current_rows(
    conn: &mut Conn,
    plan_id: Uuid,
) -> Result<Vec<TrackingSheetRow>, ApiError> {
    // The position is not sent anywhere, so it is not read.
    let sheet = read(conn, plan_id, &SheetFilter::default(), 0).await?;
    Ok(sheet.sheet.rows)
}

/// The plan's tracking sheet, in [`SHEET_QUERIES`] queries, as at `feed_position`.
async fn read(
    conn: &mut Conn,
    plan_id: Uuid,
    filter: &SheetFilter,
    feed_position: i64,
) -> Result<Sheet, ApiError> {
    let plan = tables::plans::get_row(conn, plan_id).await?;
    let goal_rows = load_goals(conn, plan_id, filter).await?;
    let plan_measures: Vec<MeasureRow> = measures::table
        .inner_join(goals::table)
        .filter(goals::plan_id.eq(plan_id))
        .order_by(measures::id)
        .select(MeasureRow::as_select())
        .load(conn)
        .await?;
    let measure_columns = spreadsheet::measure_columns(&plan_measures);
    let shown: BTreeSet<Uuid> = goal_rows.iter().map(|goal| goal.goal_id).collect();
    let mut measures_of: HashMap<Uuid, Vec<MeasureRow>> = HashMap::new();
    for row in plan_measures {
        if shown.contains(&row.goal_id) {
            measures_of.entry(row.goal_id).or_default().push(row);
        }
    }
    let ids: Vec<Uuid> = measures_of.values().flatten().map(|row| row.id).collect();
    let points = tables::measurements::points_of(conn, &ids).await?;
    let as_of = Utc::now().date_naive();
    let sheet_measure = |row: MeasureRow| SheetMeasure {
        current_value: standing::current_value(
            row.period,
            points.get(&row.id).map_or(&[][..], Vec::as_slice),
            as_of,
        ),
        measure_id: row.id,
        name: row.name,
        unit: row.unit,
        target: row.target,
    };
    let rows = goal_rows
        .into_iter()
        .map(|goal| {
            let measures = measures_of.remove(&goal.goal_id).unwrap_or_default();
            goal.with_measures(measures.into_iter().map(sheet_measure).collect())
        })
        .collect();
    Ok(Sheet {
        sheet: TrackingSheet {
            plan_id,
            feed_position,
            rows,
        },
        plan_title: plan.title,
        as_of,
        plan_status: plan.status,
        measure_columns,
    })
}

/// A goal's row as [`load_goals`] reads it: a sheet row without its measures.
#[derive(Queryable)]
struct GoalLine {
    area_position: i32,
    area_title: String,
    goal_id: Uuid,
    code: String,
    title: String,
    owner: Option<String>,
    status: GoalStatus,
    progress_percent: Option<i16>,
    due_date: Option<NaiveDate>,
    latest_update_as_of: Option<NaiveDate>,
    latest_update_author: Option<String>,
    latest_update_note: Option<String>,
}

impl GoalLine {
    fn with_measures(self, measures: Vec<SheetMeasure>) -> TrackingSheetRow {
        TrackingSheetRow {
            area_position: self.area_position,
            area_title: self.area_title,
            goal_id: self.goal_id,
            code: self.code,
            title: self.title,
            owner: self.owner,
            status: self.status,
            progress_percent: self.progress_percent,
            due_date: self.due_date,
            latest_update_as_of: self.latest_update_as_of,
            latest_update_author: self.latest_update_author,
            latest_update_note: self.latest_update_note,
            measures,
        }
    }
}

/// The goals that pass the filters, in plan order, each with its area and its
/// latest status update (by `as_of`, then `created_at`, as a goal's status is): one
/// query, which finds each goal's latest update with one step down the
/// `status_updates_newest_first` index, however many updates the goal has.
async fn load_goals(
    conn: &mut Conn,
    plan_id: Uuid,
    filter: &SheetFilter,
) -> Result<Vec<GoalLine>, ApiError> {
    let mut query = goals::table
        .inner_join(areas::table)
        .left_join(
            status_updates::table.on(status_updates::id.nullable().eq(latest_id_of!(goals::id))),
        )
        .filter(goals::plan_id.eq(plan_id))
        .select((
            areas::position,
            areas::title,
            goals::id,
            goals::code,
            goals::title,
            goals::owner,
            goals::status,
            goals::progress_percent,
            goals::due_date,
            status_updates::as_of.nullable(),
            status_updates::author.nullable(),
            status_updates::note.nullable(),
        ))
        .order_by((goals::sort_key, goals::id))
        .into_boxed();
    if let Some(area_id) = filter.area_id {
        query = query.filter(goals::area_id.eq(area_id));
    }
    if let Some(status) = filter.status {
        query = query.filter(goals::status.eq(status));
    }
    if let Some(owner) = &filter.owner {
        query = query.filter(goals::owner.eq(owner.clone()));
    }
    if let Some(due_before) = filter.due_before {
        query = query.filter(goals::due_date.lt(due_before));
    }
    if let Some(since) = filter.stale_since {
        // An alias: the query already joins `status_updates` for the latest update.
        // Per goal, so that the index answers it.
        let recent = diesel::alias!(status_updates as recent);
        let reported = recent
            .filter(recent.field(status_updates::goal_id).eq(goals::id))
            .filter(recent.field(status_updates::as_of).ge(since));
        query = query.filter(diesel::dsl::not(diesel::dsl::exists(reported)));
    }
    Ok(query.load(conn).await?)
}
