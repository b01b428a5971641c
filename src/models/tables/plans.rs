//! The `plans` table: its rows, and finding and locking one.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::{OptionalExtension, QueryDsl, Queryable, Selectable, SelectableHelper};
use diesel_async::RunQueryDsl;
use serde::Deserialize;
use uuid::Uuid;

use crate::error::ApiError;
use crate::models::{Conn, PlanStatus};
use crate::schema::plans;

/// A plan's row as stored; [`Plan::new`] adds its progress.
#[derive(Debug, Clone, Queryable, Selectable, Deserialize)]
#[diesel(table_name = plans, check_for_backend(diesel::pg::Pg))]
pub struct PlanRow {
    pub id: Uuid,
    pub title: String,
    pub summary: Option<String>,
    pub value_proposition: Option<String>,
    pub period_start: NaiveDate,
    pub period_end: NaiveDate,
    pub status: PlanStatus,
    pub approved_by: Option<String>,
    pub approved_on: Option<NaiveDate>,
    pub predecessor_plan_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// The plan's row, without its progress: for checking that it exists.
pub async fn get_row(conn: &mut Conn, id: Uuid) -> Result<PlanRow, ApiError> {
    plans::table
        .find(id)
        .select(PlanRow::as_select())
        .first(conn)
        .await
        .optional()?
        .ok_or_else(|| ApiError::not_found("plan", id))
}

/// Locks the plan's row until the transaction ends, so that changes to the order of
/// its areas and goals happen one at a time.
pub async fn lock(conn: &mut Conn, id: Uuid) -> Result<PlanRow, ApiError> {
    plans::table
        .find(id)
        .select(PlanRow::as_select())
        .for_no_key_update()
        .first(conn)
        .await
        .optional()?
        .ok_or_else(|| ApiError::not_found("plan", id))
}
