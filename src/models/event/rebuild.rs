//! A plan document as it stood at the end of a past day, rebuilt from the plan's
//! events: "what did our plan say before the revision?"

use std::collections::HashMap;

use chrono::{DateTime, Days, NaiveDate, Utc};
use diesel::{ExpressionMethods, OptionalExtension, QueryDsl, SelectableHelper};
use diesel_async::RunQueryDsl;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
use uuid::Uuid;

use super::{EventAction, EventRow, ResourceType};
use crate::error::ApiError;
use crate::models::Conn;
use crate::models::document::{self, PlanDocument, UpdatesInDocument};
use crate::models::measurement::Measurement;
use crate::models::status_update::StatusUpdate;
use crate::models::tables::{
    areas::AreaRow, goals::Goal, plans::PlanRow, status_updates::StatusUpdateRow,
};
use crate::schema::events;

/// Every row of the plan as it stood after the events so far, by kind and id.
#[derive(Default)]
struct Rows(HashMap<(ResourceType, Uuid), Map<String, Value>>);

impl Rows {
    /// Applies one event: a new row, new values for some columns, or no row.
    fn apply(&mut self, event: EventRow) {
        let key = (event.resource_type, event.resource_id);
        if event.action == EventAction::Deleted {
            self.0.remove(&key);
            return;
        }
        let row = self.0.entry(key).or_default();
        if let Value::Object(changes) = event.changes {
            for (column, mut change) in changes {
                row.insert(column, change["new"].take());
            }
        }
    }

    /// The rows of one kind, read as `T`.
    fn of<T: DeserializeOwned>(&self, kind: ResourceType) -> Result<Vec<T>, ApiError> {
        self.0
            .iter()
            .filter(|((row_kind, _), _)| *row_kind == kind)
            .map(|(_, row)| read_row(row))
            .collect()
    }
}

fn read_row<T: DeserializeOwned>(row: &Map<String, Value>) -> Result<T, ApiError> {
    T::deserialize(Value::Object(row.clone()))
        .map_err(|error| ApiError::Internal(format!("an event history does not rebuild: {error}")))
}

/// The plan as it stood at the end of `day` (UTC), in the shape of
/// [`document::export`]; a 404 naming `as_of` when the plan did not exist then.
pub async fn document_as_of(
    conn: &mut Conn,
    plan_id: Uuid,
    day: NaiveDate,
    updates: UpdatesInDocument,
) -> Result<PlanDocument, ApiError> {
    let end_of_day: DateTime<Utc> = day
        .checked_add_days(Days::new(1))
        .unwrap_or(NaiveDate::MAX)
        .and_hms_opt(0, 0, 0)
        .expect("midnight exists")
        .and_utc();
    // Today's changes too, numbered or not.
    super::sequence(conn).await?;
    let history: Vec<EventRow> = events::table
        .filter(events::plan_id.eq(plan_id))
        .filter(events::occurred_at.lt(end_of_day))
        .order_by(events::seq)
        .select(EventRow::as_select())
        .load(conn)
        .await?;
    // The newest event applied: following the feed from it gives every later change.
    let feed_position = history.last().map_or(0, |event| event.seq);
    let mut rows = Rows::default();
    for event in history {
        rows.apply(event);
    }
    let Some(plan) = rows.0.get(&(ResourceType::Plan, plan_id)) else {
        return Err(not_then(conn, plan_id, day).await?);
    };
    let plan: PlanRow = read_row(plan)?;
    let mut areas: Vec<AreaRow> = rows.of(ResourceType::Area)?;
    areas.sort_by_key(|area| area.position);
    let mut goals: Vec<GoalRow> = rows.of(ResourceType::Goal)?;
    goals.sort_by(|a, b| (&a.sort_key, a.goal.id).cmp(&(&b.sort_key, b.goal.id)));
    let goals = goals.into_iter().map(|row| row.goal).collect();
    let status_updates = match updates {
        UpdatesInDocument::None => Vec::new(),
        _ => updates_of(&rows, updates)?,
    };
    Ok(document::assemble(
        plan,
        areas,
        goals,
        status_updates,
        feed_position,
    ))
}

/// The status updates the document carries, each with its measurements, grouped by
/// goal and newest first, as [`document::export`] orders them.
fn updates_of(rows: &Rows, updates: UpdatesInDocument) -> Result<Vec<StatusUpdate>, ApiError> {
    let mut measurements_of: HashMap<Uuid, Vec<Measurement>> = HashMap::new();
    for row in rows.of::<MeasurementRow>(ResourceType::Measurement)? {
        measurements_of
            .entry(row.status_update_id)
            .or_default()
            .push(Measurement {
                measure_id: row.measure_id,
                value: row.value,
            });
    }
    let mut update_rows: Vec<StatusUpdateRow> = rows.of(ResourceType::StatusUpdate)?;
    update_rows.sort_by(|a, b| {
        (a.goal_id, b.as_of, b.created_at, b.id).cmp(&(b.goal_id, a.as_of, a.created_at, a.id))
    });
    if updates == UpdatesInDocument::Latest {
        update_rows.dedup_by_key(|update| update.goal_id);
    }
    Ok(update_rows
        .into_iter()
        .map(|row| {
            let mut measurements = measurements_of.remove(&row.id).unwrap_or_default();
            measurements.sort_by_key(|measurement| measurement.measure_id);
            StatusUpdate::new(row, measurements)
        })
        .collect())
}

/// A goal's row, with the plan order it is listed in.
#[derive(serde::Deserialize)]
struct GoalRow {
    #[serde(flatten)]
    goal: Goal,
    sort_key: Vec<i32>,
}

/// A measurement's row, as its events record it.
#[derive(serde::Deserialize)]
struct MeasurementRow {
    measure_id: Uuid,
    status_update_id: Uuid,
    value: f64,
}

/// Why the plan has no state at the end of `day`: unknown altogether (404 for the
/// plan), not yet made, or deleted by then (404s naming `as_of`).
async fn not_then(conn: &mut Conn, plan_id: Uuid, day: NaiveDate) -> Result<ApiError, ApiError> {
    let first: Option<DateTime<Utc>> = events::table
        .filter(events::resource_type.eq(ResourceType::Plan))
        .filter(events::resource_id.eq(plan_id))
        .order_by(events::seq)
        .select(events::occurred_at)
        .first(conn)
        .await
        .optional()?;
    let Some(first) = first else {
        return Ok(ApiError::not_found("plan", plan_id));
    };
    let message = if first.date_naive() > day {
        format!(
            "is {day}, before the plan's history starts ({}); ask for that day or later",
            first.date_naive()
        )
    } else {
        format!("is {day}, when the plan had been deleted; ask for an earlier day")
    };
    Ok(ApiError::unknown_reference("as_of", message))
}
