//! The `status_updates` table: its rows, finding one, and the newest-first order
//! that decides a goal's status.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::dsl::sql;
use diesel::expression::BoxableExpression;
use diesel::pg::Pg;
use diesel::sql_types::{Bool, Date, Timestamptz};
use diesel::{OptionalExtension, QueryDsl, Queryable, Selectable, SelectableHelper};
use diesel_async::RunQueryDsl;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::ApiError;
use crate::models::{Conn, GoalStatus};
use crate::schema::status_updates;

/// A status update's row as stored; [`StatusUpdate::new`] adds its measurements.
#[derive(Debug, Clone, Queryable, Selectable, Deserialize)]
#[diesel(table_name = status_updates, check_for_backend(diesel::pg::Pg))]
pub struct StatusUpdateRow {
    pub id: Uuid,
    pub goal_id: Uuid,
    pub status: GoalStatus,
    pub progress_percent: Option<i16>,
    pub note: Option<String>,
    pub author: Option<String>,
    pub as_of: NaiveDate,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// The position of a status update in newest-first order (by `as_of`, then by when
/// it was recorded): for its list, and for the lists of what updates record.
#[derive(Serialize, Deserialize)]
pub struct NewestFirstKey(NaiveDate, DateTime<Utc>, Uuid);

impl NewestFirstKey {
    pub fn new(as_of: NaiveDate, created_at: DateTime<Utc>, id: Uuid) -> Self {
        Self(as_of, created_at, id)
    }

    /// The status updates that come after this one: a row comparison, which
    /// PostgreSQL walks along its newest-first index.
    pub fn older<QS>(&self) -> Box<dyn BoxableExpression<QS, Pg, SqlType = Bool>> {
        let Self(as_of, created_at, id) = *self;
        Box::new(
            sql::<Bool>("(status_updates.as_of, status_updates.created_at, status_updates.id) < (")
                .bind::<Date, _>(as_of)
                .sql(", ")
                .bind::<Timestamptz, _>(created_at)
                .sql(", ")
                .bind::<diesel::sql_types::Uuid, _>(id)
                .sql(")"),
        )
    }
}

pub async fn get_row(conn: &mut Conn, id: Uuid) -> Result<StatusUpdateRow, ApiError> {
    status_updates::table
        .find(id)
        .select(StatusUpdateRow::as_select())
        .first(conn)
        .await
        .optional()?
        .ok_or_else(|| ApiError::not_found("status update", id))
}

/// The id of the latest status update (by `as_of`, then when it was recorded, as a
/// goal's status is) of the goal whose id is `$goal_id`, as an expression for a
/// query over goals: one step down the `status_updates_newest_first` index, however
/// many updates the goal has. A macro, as the expression's type names the query
/// it stands in.
macro_rules! latest_id_of {
    ($goal_id:expr) => {{
        let newest = diesel::alias!(crate::schema::status_updates as newest);
        newest
            .filter(
                newest
                    .field(crate::schema::status_updates::goal_id)
                    .eq($goal_id),
            )
            .order_by((
                newest.field(crate::schema::status_updates::as_of).desc(),
                newest
                    .field(crate::schema::status_updates::created_at)
                    .desc(),
                newest.field(crate::schema::status_updates::id).desc(),
            ))
            .select(newest.field(crate::schema::status_updates::id))
            .limit(1)
            .single_value()
    }};
}
pub(crate) use latest_id_of;
