//! The `measures` table: its rows, finding and locking one, and counting a goal's.

use chrono::{DateTime, Utc};
use diesel::{
    ExpressionMethods, OptionalExtension, QueryDsl, Queryable, Selectable, SelectableHelper,
};
use diesel_async::RunQueryDsl;
use uuid::Uuid;

use crate::error::ApiError;
use crate::models::{Conn, MeasureDirection, MeasurePeriod};
use crate::schema::measures;

/// A measure's row as stored; [`Measure::new`] adds its current value and progress.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = measures, check_for_backend(diesel::pg::Pg))]
pub struct MeasureRow {
    pub id: Uuid,
    pub goal_id: Uuid,
    pub name: String,
    pub unit: Option<String>,
    pub baseline: f64,
    pub target: f64,
    pub direction: MeasureDirection,
    pub period: MeasurePeriod,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// The measure's row, or a 404.
pub async fn get_row(conn: &mut Conn, id: Uuid) -> Result<MeasureRow, ApiError> {
    measures::table
        .find(id)
        .select(MeasureRow::as_select())
        .first(conn)
        .await
        .optional()?
        .ok_or_else(|| ApiError::not_found("measure", id))
}

/// The measure's row, locked until the transaction ends.
pub async fn lock(conn: &mut Conn, id: Uuid) -> Result<MeasureRow, ApiError> {
    measures::table
        .find(id)
        .select(MeasureRow::as_select())
        .for_no_key_update()
        .first(conn)
        .await
        .optional()?
        .ok_or_else(|| ApiError::not_found("measure", id))
}

/// How many measures the goal has.
pub async fn count_of_goal(conn: &mut Conn, goal_id: Uuid) -> Result<i64, ApiError> {
    let count = measures::table
        .filter(measures::goal_id.eq(goal_id))
        .count()
        .get_result(conn)
        .await?;
    Ok(count)
}
