//! Measures: a goal's countable targets ("6 blog and webinar opportunities a year"),
//! with their current value and progress worked out from the measurements status
//! updates record (see [`current_value`] and [`percent_of_target`]).

use chrono::{DateTime, NaiveDate, Utc};
use diesel::{AsChangeset, ExpressionMethods, Insertable, QueryDsl, SelectableHelper};
use diesel_async::RunQueryDsl;
use serde_json::Value;
use utoipa::ToSchema;
use uuid::Uuid;

use super::derived::goal_status;
use super::derived::standing;
use super::patch::patch_schema;
use super::tables::{self, measurements::Point, measures::MeasureRow};
use super::writer::Writer;
use super::{Conn, MeasureDirection, MeasurePeriod};
use crate::error::ApiError;
use crate::models::event::snapshot::{self, Followed};
use crate::models::validation::{self, FieldReader, Rule, SHORT_TEXT, input_body};
use crate::pagination::{Page, PageRequest};
use crate::schema::measures;
use tables::measures::{get_row, lock};

/// Longest unit, in characters ("webinars", "members", "USD").
const UNIT_LENGTH: usize = 50;
/// Largest magnitude of a baseline, target or measured value: far past any count
/// or amount, and small enough that sums of many values stay finite and exact to
/// the unit.
pub const VALUE_LIMIT: f64 = 1e15;

/// A number a measure holds or a measurement records: see [`VALUE_LIMIT`].
pub fn value() -> impl Rule<f64> {
    validation::number(-VALUE_LIMIT, VALUE_LIMIT)
}

/// A measurable target of a goal, with where it stands. Status updates of the goal
/// record its values (`measurements`), each dated by the update's `as_of`.
#[derive(Debug, Clone, serde::Serialize, ToSchema)]
#[schema(example = json!({
    "id": "0193a3c4-9d00-7e44-8a51-6c7d8e9fa0b1",
    "goal_id": "0193a3c4-7b12-7d22-8e3f-4a5b6c7d8e9f",
    "name": "Blog and webinar opportunities",
    "unit": "opportunities",
    "baseline": 0,
    "target": 6,
    "direction": "increase",
    "period": "per_year",
    "current_value": 4,
    "percent_of_target": 66.7,
    "created_at": "2026-11-27T12:00:00Z",
    "updated_at": "2026-11-27T12:00:00Z"
}))]
pub struct Measure {
    /// The measure's id.
    pub id: Uuid,
    /// The goal the measure belongs to.
    pub goal_id: Uuid,
    /// What is counted or measured.
    #[schema(max_length = 200)]
    pub name: String,
    /// The unit of the values, if any ("members", "USD", "%").
    #[schema(max_length = 50)]
    pub unit: Option<String>,
    /// The value when work on the goal started; progress of a `total` measure counts from it.
    #[schema(format = Double)]
    pub baseline: f64,
    /// The value to reach: in all (`total`), or in each calendar period.
    #[schema(format = Double)]
    pub target: f64,
    /// Whether the value should rise (`increase`) or fall (`decrease`) to the target.
    pub direction: MeasureDirection,
    /// What the target counts: the value itself, or the sum in each calendar period.
    pub period: MeasurePeriod,
    /// Where the measure stands today (UTC). For a `total` measure: the latest value
    /// recorded (that of the status update latest by `as_of`, then by when it was
    /// recorded). For a per-period measure: the sum of the values whose update's
    /// `as_of` falls in the current calendar year, quarter or month (0 when none
    /// does). Null while no value has been recorded.
    #[schema(format = Double)]
    pub current_value: Option<f64>,
    /// How far the measure is toward its target, 0.0 to 100.0 with one decimal;
    /// null while no value has been recorded. For a `total` measure: the share of
    /// the way from `baseline` to `target` covered by `current_value`, in the
    /// measure's direction, so a value that moved the wrong way is 0 and one past
    /// the target is 100. A per-period measure counts from 0 in each period:
    /// `current_value` / `target` for `increase`, and for `decrease` (a ceiling for
    /// the period) 100 while `current_value` stays at or under the target, else 0.
    /// A target already met at the starting point is 100 unless the value moved
    /// past it the wrong way.
    #[schema(minimum = 0, maximum = 100, example = 66.7)]
    pub percent_of_target: Option<f64>,
    /// When the measure was created.
    pub created_at: DateTime<Utc>,
    /// When the measure was last changed (not when a value was recorded).
    pub updated_at: DateTime<Utc>,
}

impl Measure {
    /// The measure as sent, with its value and progress as of `today` from `points`
    /// (its measurements).
    pub fn new(row: MeasureRow, points: &[Point], today: NaiveDate) -> Self {
        let (current_value, percent_of_target) = standing::of(&row, points, today);
        Self {
            id: row.id,
            goal_id: row.goal_id,
            name: row.name,
            unit: row.unit,
            baseline: row.baseline,
            target: row.target,
            direction: row.direction,
            period: row.period,
            current_value,
            percent_of_target,
            created_at: row.created_at,
            updated_at: row.updated_at,
        }
    }
}

input_body! {
    /// The fields of a measure a client writes. On create, `name` and `target` are
    /// required; `baseline` defaults to 0, `direction` to `increase` and `period` to `total`.
    #[derive(Debug, Clone, Insertable, AsChangeset, ToSchema)]
    #[diesel(table_name = measures, treat_none_as_null = true)]
    #[schema(example = json!({
        "name": "Blog and webinar opportunities",
        "unit": "opportunities",
        "target": 6,
        "period": "per_year"
    }))]
    pub struct MeasureInput {
        /// What is counted or measured; 1 to 200 characters, not blank.
        #[schema(
            min_length = 1,
            max_length = 200,
            pattern = "^[^\\u0000]*[^\\s\\u0000][^\\u0000]*$"
        )]
        pub name: String,
        /// The unit of the values; at most 50 characters.
        #[schema(max_length = 50, pattern = "^[^\\u0000]*$")]
        pub unit: Option<String>,
        /// The value when work on the goal started, from -10^15 to 10^15; 0 unless told otherwise.
        #[schema(format = Double, minimum = -1e15, maximum = 1e15, default = 0, required = false)]
        pub baseline: f64,
        /// The value to reach, in all or in each period, from -10^15 to 10^15.
        #[schema(format = Double, minimum = -1e15, maximum = 1e15)]
        pub target: f64,
        /// Whether the value should rise or fall to the target; `increase` unless told otherwise.
        #[schema(default = "increase", required = false)]
        pub direction: MeasureDirection,
        /// What the target counts; `total` unless told otherwise.
        #[schema(default = "total", required = false)]
        pub period: MeasurePeriod,
    }
}

patch_schema!(MeasurePatch, MeasureInput, "a measure");

impl MeasureInput {
    /// Reads a create body (`current` is `None`) or a merge patch over `current`.
    pub fn read(body: Value, current: Option<&MeasureRow>) -> Result<Self, ApiError> {
        let mut read_only = validation::SERVER_SET.to_vec();
        let derived = "it is worked out from the measurements status updates record";
        read_only.extend([
            (
                "goal_id",
                "a measure belongs to the goal in the URL it was created under",
            ),
            ("current_value", derived),
            ("percent_of_target", derived),
        ]);
        let mut r = FieldReader::new(body, Self::FIELDS, &read_only)?;
        let name = r.required(
            "name",
            current.map(|c| c.name.clone()),
            validation::title(SHORT_TEXT),
        );
        let unit = r.optional(
            "unit",
            current.map(|c| c.unit.clone()),
            validation::text(UNIT_LENGTH),
        );
        let baseline = r.required(
            "baseline",
            Some(current.map_or(0.0, |c| c.baseline)),
            value(),
        );
        let target = r.required("target", current.map(|c| c.target), value());
        let direction = r.required(
            "direction",
            Some(current.map_or(MeasureDirection::Increase, |c| c.direction)),
            validation::one_of,
        );
        let period = r.required(
            "period",
            Some(current.map_or(MeasurePeriod::Total, |c| c.period)),
            validation::one_of,
        );
        let input = (|| {
            Some(Self {
                name: name?,
                unit,
                baseline: baseline?,
                target: target?,
                direction: direction?,
                period: period?,
            })
        })();
        r.finish(input)
    }
}

/// The measures as sent, with their values as of today (UTC): one query for all.
async fn with_values(conn: &mut Conn, rows: Vec<MeasureRow>) -> Result<Vec<Measure>, ApiError> {
    let ids: Vec<Uuid> = rows.iter().map(|row| row.id).collect();
    let points = tables::measurements::points_of(conn, &ids).await?;
    let today = Utc::now().date_naive();
    Ok(rows
        .into_iter()
        .map(|row| {
            let of_row = points.get(&row.id).map_or(&[][..], Vec::as_slice);
            Measure::new(row, of_row, today)
        })
        .collect())
}

async fn with_value(conn: &mut Conn, row: MeasureRow) -> Result<Measure, ApiError> {
    let mut measures = with_values(conn, vec![row]).await?;
    Ok(measures.remove(0))
}

/// Lists the goal's measures in the order they were created.
pub async fn list(
    conn: &mut Conn,
    goal_id: Uuid,
    updated_since: Option<DateTime<Utc>>,
    page: &PageRequest,
) -> Result<Page<Measure>, ApiError> {
    let followed = Followed::Goal(goal_id);
    snapshot::page(conn, followed, async |conn| {
        list_in_snapshot(conn, goal_id, updated_since, page).await
    })
    .await
}

/// One page of [`list`], read in the snapshot that [`snapshot::page`] takes.
async fn list_in_snapshot(
    conn: &mut Conn,
    goal_id: Uuid,
    updated_since: Option<DateTime<Utc>>,
    page: &PageRequest,
) -> Result<Page<Measure>, ApiError> {
    tables::goals::get(conn, goal_id).await?;
    let mut query = measures::table
        .filter(measures::goal_id.eq(goal_id))
        .select(MeasureRow::as_select())
        .into_boxed();
    if let Some(since) = updated_since {
        query = query.filter(measures::updated_at.ge(since));
    }
    // Ids are UUID v7, so their order is the order of creation.
    if let Some(after) = page.after::<Uuid>()? {
        query = query.filter(measures::id.gt(after));
    }
    let rows = query
        .order_by(measures::id)
        .limit(page.fetch_limit())
        .load(conn)
        .await?;
    let page = page.page(rows, |row| row.id);
    Ok(Page {
        items: with_values(conn, page.items).await?,
        next_cursor: page.next_cursor,
        feed_position: page.feed_position,
    })
}

/// The measure with this id, with its current value and progress.
pub async fn get(conn: &mut Conn, id: Uuid) -> Result<Measure, ApiError> {
    let row = get_row(conn, id).await?;
    with_value(conn, row).await
}

/// The measure as its writers see it: its goal locked first, as everywhere, then itself.
pub async fn get_locked(conn: &mut Conn, id: Uuid) -> Result<Measure, ApiError> {
    let goal_id = get_row(conn, id).await?.goal_id;
    tables::goals::lock(conn, goal_id).await?;
    let row = lock(conn, id).await?;
    with_value(conn, row).await
}

/// Creates a measure of the goal from a create body.
pub async fn create(
    writer: &mut Writer<'_>,
    goal_id: Uuid,
    body: Value,
) -> Result<Measure, ApiError> {
    let input = MeasureInput::read(body, None)?;
    writer
        .transaction(async |conn| {
            tables::goals::get(conn, goal_id).await?;
            let row = diesel::insert_into(measures::table)
                .values((
                    measures::id.eq(Uuid::now_v7()),
                    measures::goal_id.eq(goal_id),
                    &input,
                ))
                .returning(MeasureRow::as_returning())
                .get_result(conn)
                .await?;
            Ok(Measure::new(row, &[], Utc::now().date_naive()))
        })
        .await
}

/// Applies a JSON merge patch to the measure; its recorded values stay, and a goal
/// that takes its progress from its measures follows.
pub async fn update(writer: &mut Writer<'_>, id: Uuid, patch: Value) -> Result<Measure, ApiError> {
    let row = writer
        .transaction(async |conn| {
            // The goal first, as everywhere: its progress may follow the new target.
            let goal_id = get_row(conn, id).await?.goal_id;
            tables::goals::lock(conn, goal_id).await?;
            let current = lock(conn, id).await?;
            let input = MeasureInput::read(patch, Some(&current))?;
            let row = diesel::update(measures::table.find(id))
                .set((&input, measures::updated_at.eq(diesel::dsl::now)))
                .returning(MeasureRow::as_returning())
                .get_result(conn)
                .await?;
            goal_status::refresh_status(conn, row.goal_id).await?;
            Ok::<_, ApiError>(row)
        })
        .await?;
    with_value(writer.reader(), row).await
}

/// Deletes the measure; with `cascade`, also the values status updates recorded for it.
pub async fn delete(writer: &mut Writer<'_>, id: Uuid, cascade: bool) -> Result<(), ApiError> {
    writer.transaction(async |conn| {
        let goal_id = get_row(conn, id).await?.goal_id;
        // Status updates record values under their goal's lock, so none is added
        // between the count and the delete.
        tables::goals::lock(conn, goal_id).await?;
        lock(conn, id).await?;
        let recorded = tables::measurements::count_of(conn, id).await?;
        if recorded > 0 && !cascade {
            return Err(ApiError::Conflict(format!(
                "status updates recorded {recorded} value(s) for the measure; remove them from those updates' measurements first, or repeat the request with ?cascade=true to delete the measure with its values"
            )));
        }
        diesel::delete(measures::table.find(id))
            .execute(conn)
            .await?;
        goal_status::refresh_status(conn, goal_id).await?;
        Ok(())
    })
    .await
}
