//! The `goals` table: a goal's row (which is how the API shows it), and finding
//! and locking one.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::{OptionalExtension, QueryDsl, Queryable, Selectable, SelectableHelper};
use diesel_async::RunQueryDsl;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::error::ApiError;
use crate::models::{Conn, GoalStatus};
use crate::schema::goals;

/// A goal of a strategic area, or a sub-goal of another goal.
#[derive(Debug, Clone, Queryable, Selectable, Serialize, Deserialize, ToSchema)]
#[diesel(table_name = goals, check_for_backend(diesel::pg::Pg))]
#[schema(example = json!({
    "id": "0193a3c4-7b12-7d22-8e3f-4a5b6c7d8e9f",
    "plan_id": "0193a3c4-5b6e-7f00-8a1b-2c3d4e5f6a7b",
    "area_id": "0193a3c4-6a00-7c11-9d2e-3f4a5b6c7d8e",
    "parent_goal_id": "0193a3c4-7a00-7c11-9d2e-3f4a5b6c7d8e",
    "position": 2,
    "code": "2.2",
    "title": "Align journals on single platform and general practices",
    "description": null,
    "owner": "Publications Committee",
    "start_date": "2023-01-01",
    "due_date": "2025-08-31",
    "status": "completed",
    "progress_percent": 100,
    "created_at": "2026-11-27T12:00:00Z",
    "updated_at": "2026-11-27T12:00:00Z"
}))]
pub struct Goal {
    /// The goal's id.
    pub id: Uuid,
    /// The plan the goal belongs to (that of its area).
    pub plan_id: Uuid,
    /// The strategic area the goal belongs to.
    pub area_id: Uuid,
    /// The goal this one is a sub-goal of; null for a goal of the area itself.
    pub parent_goal_id: Option<Uuid>,
    /// The goal's place among its siblings, from 1.
    #[schema(minimum = 1, maximum = 2147483647)]
    pub position: i32,
    /// The goal's number as the plan shows it: the one a client set, or one derived
    /// from positions ("2" for the second goal of its area, "2.1" for its first sub-goal).
    #[schema(max_length = 200)]
    pub code: String,
    /// What the goal sets out to do.
    #[schema(max_length = 500)]
    pub title: String,
    /// More about the goal.
    #[schema(max_length = 10000)]
    pub description: Option<String>,
    /// Who is responsible: a committee, section or person.
    #[schema(max_length = 200)]
    pub owner: Option<String>,
    /// When work on the goal starts.
    pub start_date: Option<NaiveDate>,
    /// When the goal is due; on or after `start_date`.
    pub due_date: Option<NaiveDate>,
    /// The status of the goal's latest status update; `not_started` without one.
    pub status: GoalStatus,
    /// The progress of the goal's latest status update, 0 to 100. When that update
    /// gives none, the mean `percent_of_target` of the goal's measures that have a
    /// value, rounded, as of the goal's last change (a status update, or a measure
    /// changed or deleted). Null when neither gives one.
    #[schema(minimum = 0, maximum = 100)]
    pub progress_percent: Option<i16>,
    /// When the goal was created.
    pub created_at: DateTime<Utc>,
    /// When the goal was last changed, including by a status update or renumbering.
    pub updated_at: DateTime<Utc>,
}

/// The goal with this id.
pub async fn get(conn: &mut Conn, id: Uuid) -> Result<Goal, ApiError> {
    goals::table
        .find(id)
        .select(Goal::as_select())
        .first(conn)
        .await
        .optional()?
        .ok_or_else(|| ApiError::not_found("goal", id))
}

/// Locks the goal's row until the transaction ends (see [`refresh_status`]).
pub async fn lock(conn: &mut Conn, id: Uuid) -> Result<Goal, ApiError> {
    goals::table
        .find(id)
        .select(Goal::as_select())
        .for_no_key_update()
        .first(conn)
        .await
        .optional()?
        .ok_or_else(|| ApiError::not_found("goal", id))
}
