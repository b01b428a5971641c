//! Keeps the positions of siblings (a plan's areas, the goals under one parent)
//! unique and dense, 1 to n, as items are added, moved and removed. Callers hold
//! the plan's lock; the unique constraints on positions are checked at commit, so
//! the shifts below may pass through duplicates.

use diesel::{ExpressionMethods, PgExpressionMethods, QueryDsl};
use diesel_async::RunQueryDsl;
use uuid::Uuid;

use crate::error::ApiError;
use crate::models::Conn;
use crate::schema::{areas, goals};

/// A set of items ordered by `position`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Siblings {
    /// The strategic areas of a plan.
    AreasOf(Uuid),
    /// The goals of an area with this parent (`None`: the area's top-level goals).
    GoalsUnder { area_id: Uuid, parent: Option<Uuid> },
}

impl Siblings {
    /// How many items the set has.
    pub async fn count(self, conn: &mut Conn) -> Result<i64, ApiError> {
        let count = match self {
            Self::AreasOf(plan_id) => {
                areas::table
                    .filter(areas::plan_id.eq(plan_id))
                    .count()
                    .get_result(conn)
                    .await?
            }
            Self::GoalsUnder { area_id, parent } => {
                goals::table
                    .filter(goals::area_id.eq(area_id))
                    .filter(goals::parent_goal_id.is_not_distinct_from(parent))
                    .count()
                    .get_result(conn)
                    .await?
            }
        };
        Ok(count)
    }

    /// Opens a gap for an item joining the set at `requested` and returns its
    /// position: the end when `requested` is `None` or past the end.
    pub async fn insert_at(self, conn: &mut Conn, requested: Option<i32>) -> Result<i32, ApiError> {
        let end = self.count(conn).await? + 1;
        let position = clamp(requested, end);
        self.shift(conn, position, i32::MAX, 1).await?;
        Ok(position)
    }

    /// Closes the gap an item leaving `position` leaves behind.
    pub async fn close_gap(self, conn: &mut Conn, position: i32) -> Result<(), ApiError> {
        self.shift(conn, position + 1, i32::MAX, -1).await
    }

    /// Makes way for an item of the set moving from `from` to `to` (the end when
    /// past it) and returns where it goes.
    pub async fn move_within(self, conn: &mut Conn, from: i32, to: i32) -> Result<i32, ApiError> {
        if from == to {
            return Ok(to);
        }
        let to = clamp(Some(to), self.count(conn).await?);
        match from.cmp(&to) {
            std::cmp::Ordering::Less => self.shift(conn, from + 1, to, -1).await?,
            std::cmp::Ordering::Greater => self.shift(conn, to, from - 1, 1).await?,
            std::cmp::Ordering::Equal => {}
        }
        Ok(to)
    }

    /// Adds `delta` to the positions from `first` to `last`, inclusive.
    async fn shift(
        self,
        conn: &mut Conn,
        first: i32,
        last: i32,
        delta: i32,
    ) -> Result<(), ApiError> {
        let now = diesel::dsl::now;
        match self {
            Self::AreasOf(plan_id) => {
                diesel::update(areas::table)
                    .filter(areas::plan_id.eq(plan_id))
                    .filter(areas::position.between(first, last))
                    .set((
                        areas::position.eq(areas::position + delta),
                        areas::updated_at.eq(now),
                    ))
                    .execute(conn)
                    .await?;
            }
            Self::GoalsUnder { area_id, parent } => {
                diesel::update(goals::table)
                    .filter(goals::area_id.eq(area_id))
                    .filter(goals::parent_goal_id.is_not_distinct_from(parent))
                    .filter(goals::position.between(first, last))
                    .set((
                        goals::position.eq(goals::position + delta),
                        goals::updated_at.eq(now),
                    ))
                    .execute(conn)
                    .await?;
            }
        }
        Ok(())
    }
}

/// The requested position, or `last` when it is left out or past it. Positions
/// below 1 are refused when the body is read.
fn clamp(requested: Option<i32>, last: i64) -> i32 {
    let last = i32::try_from(last).expect("a list holds fewer than 2^31 items");
    requested.map_or(last, |position| position.min(last))
}
