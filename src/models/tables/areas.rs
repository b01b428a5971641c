//! The `areas` table: its rows, and finding one.

use chrono::{DateTime, Utc};
use diesel::{OptionalExtension, QueryDsl, Queryable, Selectable, SelectableHelper};
use diesel_async::RunQueryDsl;
use serde::Deserialize;
use uuid::Uuid;

use crate::error::ApiError;
use crate::models::Conn;
use crate::schema::areas;

/// An area's row as stored; [`Area::new`] adds its progress.
#[derive(Debug, Clone, Queryable, Selectable, Deserialize)]
#[diesel(table_name = areas, check_for_backend(diesel::pg::Pg))]
pub struct AreaRow {
    pub id: Uuid,
    pub plan_id: Uuid,
    pub position: i32,
    pub title: String,
    pub description: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// The area's row, without its progress: for checking that it exists.
pub async fn get_row(conn: &mut Conn, id: Uuid) -> Result<AreaRow, ApiError> {
    areas::table
        .find(id)
        .select(AreaRow::as_select())
        .first(conn)
        .await
        .optional()?
        .ok_or_else(|| ApiError::not_found("strategic area", id))
}
