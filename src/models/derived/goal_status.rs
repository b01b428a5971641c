//! A goal's derived status and progress: those of its latest status update, or
//! its measures' when the update gives no progress.

use std::collections::HashMap;

use chrono::Utc;
use diesel::{ExpressionMethods, QueryDsl, SelectableHelper};
use diesel_async::RunQueryDsl;
use uuid::Uuid;

use super::standing;
use crate::error::ApiError;
use crate::models::Conn;
use crate::models::prepared::prepared;
use crate::models::tables::{self, measures::MeasureRow};
use crate::schema::{goals, measures};

/// Sets the goal's status and progress to those of its latest status update (by
/// `as_of`, then `created_at`), or `not_started` without one. When that update gives
/// no progress, the goal takes it from its measures (see [`progress_of_measures`]).
/// Callers hold the goal's lock, so concurrent updates of one goal are applied one
/// after the other.
pub async fn refresh_status(conn: &mut Conn, goal_id: Uuid) -> Result<(), ApiError> {
    refresh_statuses(conn, StatusScope::Goal, goal_id).await
}

/// [`refresh_status`] for every goal of a plan at once, as after an import.
pub async fn refresh_plan_statuses(conn: &mut Conn, plan_id: Uuid) -> Result<(), ApiError> {
    refresh_statuses(conn, StatusScope::Plan, plan_id).await
}

#[derive(Clone, Copy)]
enum StatusScope {
    Goal,
    Plan,
}

async fn refresh_statuses(conn: &mut Conn, scope: StatusScope, id: Uuid) -> Result<(), ApiError> {
    let (goal_ids, progress): (Vec<Uuid>, Vec<i16>) = progress_of_measures(conn, scope, id)
        .await?
        .into_iter()
        .unzip();
    let column = match scope {
        StatusScope::Goal => "id",
        StatusScope::Plan => "plan_id",
    };
    // One of two texts (by goal or by plan), so kept prepared like a constant one.
    prepared(
        diesel::sql_query(format!(
            "UPDATE goals SET status = COALESCE(latest.status, 'not_started'), \
                          progress_percent = COALESCE(latest.progress_percent, measured.progress), \
                          updated_at = now() \
         FROM goals target \
         LEFT JOIN LATERAL ( \
             SELECT status, progress_percent FROM status_updates \
             WHERE goal_id = target.id \
             ORDER BY as_of DESC, created_at DESC, id DESC LIMIT 1) latest ON true \
         LEFT JOIN unnest($2::uuid[], $3::smallint[]) AS measured(goal_id, progress) \
             ON measured.goal_id = target.id \
         WHERE goals.id = target.id AND target.{column} = $1 \
           AND (goals.status, goals.progress_percent) \
               IS DISTINCT FROM (COALESCE(latest.status, 'not_started'), \
                                 COALESCE(latest.progress_percent, measured.progress))"
        ))
        .bind::<diesel::sql_types::Uuid, _>(id)
        .bind::<diesel::sql_types::Array<diesel::sql_types::Uuid>, _>(goal_ids)
        .bind::<diesel::sql_types::Array<diesel::sql_types::SmallInt>, _>(progress),
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// The progress the goals in `scope` take from their measures when their latest
/// update gives none: the mean `percent_of_target` of the goal's measures that have
/// a value, as of today (UTC), rounded to a whole percent. Goals without such a
/// measure are left out. Two queries whatever the number of goals.
async fn progress_of_measures(
    conn: &mut Conn,
    scope: StatusScope,
    id: Uuid,
) -> Result<Vec<(Uuid, i16)>, ApiError> {
    let of_scope = measures::table.inner_join(goals::table).into_boxed();
    let of_scope = match scope {
        StatusScope::Goal => of_scope.filter(goals::id.eq(id)),
        StatusScope::Plan => of_scope.filter(goals::plan_id.eq(id)),
    };
    let rows: Vec<MeasureRow> = of_scope.select(MeasureRow::as_select()).load(conn).await?;
    let ids: Vec<Uuid> = rows.iter().map(|row| row.id).collect();
    let points = tables::measurements::points_of(conn, &ids).await?;
    let today = Utc::now().date_naive();
    let mut percents: HashMap<Uuid, Vec<f64>> = HashMap::new();
    for row in rows {
        let goal_id = row.goal_id;
        let points = points.get(&row.id).map_or(&[][..], Vec::as_slice);
        if let (_, Some(percent)) = standing::of(&row, points, today) {
            percents.entry(goal_id).or_default().push(percent);
        }
    }
    Ok(percents
        .into_iter()
        .map(|(goal_id, percents)| {
            let mean = percents.iter().sum::<f64>() / percents.len() as f64;
            (goal_id, mean.round() as i16)
        })
        .collect())
}
