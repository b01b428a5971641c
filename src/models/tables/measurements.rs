//! The `measurements` table: the values status updates record for measures, read
//! with what orders them (their update's date).

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use diesel::{ExpressionMethods, QueryDsl};
use diesel_async::RunQueryDsl;
use uuid::Uuid;

use crate::error::ApiError;
use crate::models::Conn;
use crate::schema::{measurements, status_updates};

/// One measurement of a measure with what orders it: the `as_of` and recording
/// time of its status update, then that update's id.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Point {
    pub as_of: NaiveDate,
    pub recorded_at: DateTime<Utc>,
    pub update_id: Uuid,
    pub value: f64,
}

/// Every measurement of these measures, by measure, for their current values; one
/// query whatever the number of measures. A measure has at most one measurement
/// per status update of its goal, so all are read rather than only those the
/// current period and the latest value need.
pub async fn points_of(
    conn: &mut Conn,
    measure_ids: &[Uuid],
) -> Result<HashMap<Uuid, Vec<Point>>, ApiError> {
    let rows: Vec<(Uuid, NaiveDate, DateTime<Utc>, Uuid, f64)> = measurements::table
        .inner_join(status_updates::table)
        .filter(measurements::measure_id.eq_any(measure_ids))
        .select((
            measurements::measure_id,
            status_updates::as_of,
            status_updates::created_at,
            status_updates::id,
            measurements::value,
        ))
        .load(conn)
        .await?;
    let mut points: HashMap<Uuid, Vec<Point>> = HashMap::new();
    for (measure_id, as_of, recorded_at, update_id, value) in rows {
        points.entry(measure_id).or_default().push(Point {
            as_of,
            recorded_at,
            update_id,
            value,
        });
    }
    Ok(points)
}

/// How many measurements the measure has.
pub async fn count_of(conn: &mut Conn, measure_id: Uuid) -> Result<i64, ApiError> {
    let count = measurements::table
        .filter(measurements::measure_id.eq(measure_id))
        .count()
        .get_result(conn)
        .await?;
    Ok(count)
}
