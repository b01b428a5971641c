//! Measurements: the values a status update records for its goal's measures, dated
//! by the update's `as_of`. They are written with their update, in its transaction.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, NaiveDate, Utc};
use diesel::{ExpressionMethods, QueryDsl};
use diesel_async::RunQueryDsl;
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;
use uuid::Uuid;

use super::Conn;
use super::measure;
use super::tables::{self, status_updates::NewestFirstKey};
use crate::error::{ApiError, FieldError};
use crate::models::event::snapshot::{self, Followed};
use crate::models::validation::{self, FieldReader, input_body};
use crate::pagination::{Page, PageRequest};
use crate::schema::{measurements, measures, status_updates};

/// Most measurements one status update records: more than any goal has measures.
pub const MAX_PER_UPDATE: usize = 100;

/// The value a status update records for one of its goal's measures.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[schema(example = json!({"measure_id": "0193a3c4-9d00-7e44-8a51-6c7d8e9fa0b1", "value": 4}))]
pub struct Measurement {
    /// The measure the value is for.
    pub measure_id: Uuid,
    /// The measured value, as of the update's `as_of`.
    #[schema(format = Double)]
    pub value: f64,
}

input_body! {
    /// A value for one of the goal's measures, as a client writes it in a status update.
    #[derive(Debug, Clone, PartialEq, ToSchema)]
    #[schema(example = json!({"measure_id": "0193a3c4-9d00-7e44-8a51-6c7d8e9fa0b1", "value": 4}))]
    pub struct MeasurementInput {
        /// A measure of the update's goal; each measure at most once per update.
        pub measure_id: Uuid,
        /// The measured value: a count, an amount or a rate, from -10^15 to 10^15.
        #[schema(format = Double, minimum = -1e15, maximum = 1e15)]
        pub value: f64,
    }
}

impl MeasurementInput {
    /// Reads one item of a status update's `measurements`.
    pub fn read(body: Value) -> Result<Self, ApiError> {
        let mut r = FieldReader::new(body, Self::FIELDS, &[])?;
        let measure_id = r.required("measure_id", None, validation::id);
        let value = r.required("value", None, measure::value());
        let input = (|| {
            Some(Self {
                measure_id: measure_id?,
                value: value?,
            })
        })();
        r.finish(input)
    }
}

/// Checks `inputs` against the measures of the goal: an id that names no measure
/// is a 404 naming it (as for any id in a body); a measure of another goal, or one
/// given twice, is a 422 naming every such item.
pub async fn check(
    conn: &mut Conn,
    goal_id: Uuid,
    inputs: &[MeasurementInput],
) -> Result<(), ApiError> {
    let ids: Vec<Uuid> = inputs.iter().map(|input| input.measure_id).collect();
    let goal_of: HashMap<Uuid, Uuid> = measures::table
        .filter(measures::id.eq_any(&ids))
        .select((measures::id, measures::goal_id))
        .load(conn)
        .await?
        .into_iter()
        .collect();
    let field = |index: usize| format!("measurements/{index}/measure_id");
    if let Some((index, input)) = inputs
        .iter()
        .enumerate()
        .find(|(_, input)| !goal_of.contains_key(&input.measure_id))
    {
        return Err(ApiError::unknown_reference(
            field(index),
            format!("no measure has the id {}", input.measure_id),
        ));
    }
    let mut seen = HashSet::new();
    let mut errors = Vec::new();
    for (index, input) in inputs.iter().enumerate() {
        if goal_of[&input.measure_id] != goal_id {
            errors.push(FieldError::new(
                field(index),
                format!(
                    "is a measure of another goal; a status update records values for its own goal's measures (list them at /api/v1/goals/{goal_id}/measures)"
                ),
            ));
        } else if !seen.insert(input.measure_id) {
            errors.push(FieldError::new(
                field(index),
                "repeats a measure given earlier in the list; an update records one value per measure",
            ));
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ApiError::Invalid(errors))
    }
}

/// Makes `inputs` the measurements of the status update, in place of any it had.
pub async fn replace(
    conn: &mut Conn,
    update_id: Uuid,
    inputs: &[MeasurementInput],
) -> Result<(), ApiError> {
    diesel::delete(measurements::table.filter(measurements::status_update_id.eq(update_id)))
        .execute(conn)
        .await?;
    let rows: Vec<_> = inputs
        .iter()
        .map(|input| {
            (
                measurements::id.eq(Uuid::now_v7()),
                measurements::measure_id.eq(input.measure_id),
                measurements::status_update_id.eq(update_id),
                measurements::value.eq(input.value),
            )
        })
        .collect();
    if !rows.is_empty() {
        diesel::insert_into(measurements::table)
            .values(rows)
            .execute(conn)
            .await?;
    }
    Ok(())
}

/// The measurements of each of these status updates, in the order their measures
/// were created; one query whatever the number of updates.
pub async fn of_updates(
    conn: &mut Conn,
    update_ids: &[Uuid],
) -> Result<HashMap<Uuid, Vec<Measurement>>, ApiError> {
    let rows: Vec<(Uuid, Uuid, f64)> = measurements::table
        .filter(measurements::status_update_id.eq_any(update_ids))
        .order_by((measurements::status_update_id, measurements::measure_id))
        .select((
            measurements::status_update_id,
            measurements::measure_id,
            measurements::value,
        ))
        .load(conn)
        .await?;
    let mut of_update: HashMap<Uuid, Vec<Measurement>> = HashMap::new();
    for (update_id, measure_id, value) in rows {
        of_update
            .entry(update_id)
            .or_default()
            .push(Measurement { measure_id, value });
    }
    Ok(of_update)
}

/// A measurement with the date it speaks for, as a measure's history lists it.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({
    "status_update_id": "0193a3c4-8c00-7e33-9f40-5b6c7d8e9fa0",
    "as_of": "2024-03-31",
    "value": 4
}))]
pub struct DatedMeasurement {
    /// The status update that recorded the value.
    pub status_update_id: Uuid,
    /// The date the value speaks for: its status update's `as_of`.
    pub as_of: NaiveDate,
    /// The measured value.
    #[schema(format = Double)]
    pub value: f64,
}

/// The measure's measurements, newest first (by the `as_of` of their status update,
/// then by when it was recorded).
pub async fn history(
    conn: &mut Conn,
    measure_id: Uuid,
    page: &PageRequest,
) -> Result<Page<DatedMeasurement>, ApiError> {
    let followed = Followed::Measure(measure_id);
    snapshot::page(conn, followed, async |conn| {
        history_in_snapshot(conn, measure_id, page).await
    })
    .await
}

/// One page of [`history`], read in the snapshot that [`snapshot::page`] takes.
async fn history_in_snapshot(
    conn: &mut Conn,
    measure_id: Uuid,
    page: &PageRequest,
) -> Result<Page<DatedMeasurement>, ApiError> {
    tables::measures::get_row(conn, measure_id).await?;
    let mut query = measurements::table
        .inner_join(status_updates::table)
        .filter(measurements::measure_id.eq(measure_id))
        .select((
            status_updates::id,
            status_updates::as_of,
            status_updates::created_at,
            measurements::value,
        ))
        .into_boxed();
    if let Some(key) = page.after::<NewestFirstKey>()? {
        query = query.filter(key.older());
    }
    let rows: Vec<(Uuid, NaiveDate, DateTime<Utc>, f64)> = query
        .order_by((
            status_updates::as_of.desc(),
            status_updates::created_at.desc(),
            status_updates::id.desc(),
        ))
        .limit(page.fetch_limit())
        .load(conn)
        .await?;
    let page = page.page(rows, |(id, as_of, created_at, _)| {
        NewestFirstKey::new(*as_of, *created_at, *id)
    });
    Ok(Page {
        items: page
            .items
            .into_iter()
            .map(|(status_update_id, as_of, _, value)| DatedMeasurement {
                status_update_id,
                as_of,
                value,
            })
            .collect(),
        next_cursor: page.next_cursor,
        feed_position: page.feed_position,
    })
}
