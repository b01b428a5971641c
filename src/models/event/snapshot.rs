//! Reads that say which change-feed position they reflect, so that a portal can
//! read a plan document (or a list) and follow the feed from exactly there: every
//! event up to the position is in what it read, and none after it.
//!
//! The rows are read in one REPEATABLE READ snapshot, and the position is the
//! newest numbered event of the plan (or of all) in that snapshot. Every numbered
//! event is then in the rows (a pass commits its events after the changes they
//! tell of). The converse needs one more thing: no event the snapshot sees may
//! still be queued, for it would be numbered later, after the position, and the
//! portal would get a change it already has. So the read looks for one of its
//! plan's events in the queue, in its snapshot; finding one (a write that has
//! just committed, which the sequencer numbers within milliseconds), it numbers the
//! queue and tries again, and at last reads with the sequencer's lock taken before
//! its snapshot, numbering exactly what that snapshot sees.

use diesel::sql_types::{BigInt, Nullable, Uuid as SqlUuid};
use diesel_async::RunQueryDsl;
use uuid::Uuid;

use super::sequence;
use crate::error::ApiError;
use crate::models::Conn;
use crate::models::prepared::prepared;
use crate::models::writer::in_transaction_begun_with;
use crate::pagination::Page;

/// Whose changes a read reflects: the plan that holds what it lists (named by the
/// plan or by something in it), or everything.
#[derive(Debug, Clone, Copy)]
pub enum Followed {
    Plan(Uuid),
    Area(Uuid),
    Goal(Uuid),
    Measure(Uuid),
    Everything,
}

impl Followed {
    /// The position in the snapshot, or `None` when an event the snapshot sees is
    /// still queued. Of a plan, its newest event's number (0 before any): a reader
    /// follows `/events?plan_id=...` from it.
    async fn position(self, conn: &mut Conn) -> Result<Option<i64>, ApiError> {
        #[derive(diesel::QueryableByName)]
        struct Position {
            #[diesel(sql_type = Nullable<BigInt>)]
            position: Option<i64>,
        }
        let (plan, id) = match self {
            Self::Plan(id) => ("$1", id),
            Self::Area(id) => ("(SELECT plan_id FROM areas WHERE id = $1)", id),
            Self::Goal(id) => ("(SELECT plan_id FROM goals WHERE id = $1)", id),
            Self::Measure(id) => (
                "(SELECT goals.plan_id FROM measures JOIN goals ON goals.id = measures.goal_id \
                  WHERE measures.id = $1)",
                id,
            ),
            Self::Everything => {
                let position: Position = prepared(diesel::sql_query(
                    "SELECT CASE WHEN EXISTS (SELECT FROM event_queue) THEN NULL \
                            ELSE (SELECT last_seq FROM event_counter) END AS position",
                ))
                .get_result(conn)
                .await?;
                return Ok(position.position);
            }
        };
        // The plan is one value (an InitPlan), so that each probe below is one step
        // down an index: the queue's by plan, and the events' by plan and number
        // backwards. Not a join, which would aggregate over the plan's whole history.
        // One of four texts, so kept prepared like a constant one.
        let position: Position = prepared(
            diesel::sql_query(format!(
                "SELECT CASE WHEN EXISTS (SELECT FROM event_queue WHERE plan_id = followed.id) \
                         THEN NULL \
                         ELSE COALESCE((SELECT seq FROM events WHERE plan_id = followed.id \
                                        ORDER BY seq DESC LIMIT 1), 0) END AS position \
             FROM (SELECT {plan} AS id) followed"
            ))
            .bind::<SqlUuid, _>(id),
        )
        .get_result(conn)
        .await?;
        Ok(position.position)
    }
}

/// The statements a snapshot read adds to its own when none of its events is
/// queued: `BEGIN`, the position, `COMMIT`.
pub const STATEMENTS: usize = 3;

/// Tries at reading without the sequencer's lock: the first finds a just-committed
/// event queued only while the sequencer has not yet come by; a plan written to
/// without pause may keep the second from succeeding too.
const UNLOCKED_TRIES: usize = 2;

/// `read` in one snapshot, given the feed position the snapshot reflects.
pub async fn read<T>(
    conn: &mut Conn,
    followed: Followed,
    read: impl AsyncFn(&mut Conn, i64) -> Result<T, ApiError>,
) -> Result<T, ApiError> {
    for attempt in 0..UNLOCKED_TRIES {
        if attempt > 0 {
            sequence(conn).await?;
        }
        let found = in_transaction_begun_with(
            conn,
            "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
            async |conn| match followed.position(conn).await? {
                Some(position) => Ok(Some(read(conn, position).await?)),
                None => Ok(None),
            },
        )
        .await?;
        if let Some(found) = found {
            return Ok(found);
        }
    }
    // The lock is taken before the snapshot (LOCK TABLE, unlike a query, takes none),
    // so the pass numbers exactly the events the snapshot sees, and none can be
    // numbered by another pass before this one commits.
    in_transaction_begun_with(
        conn,
        "BEGIN ISOLATION LEVEL REPEATABLE READ",
        async |conn| {
            diesel::sql_query("LOCK TABLE event_counter IN EXCLUSIVE MODE")
                .execute(conn)
                .await?;
            sequence(conn).await?;
            let position = followed.position(conn).await?.ok_or_else(|| {
                ApiError::Internal("events stayed queued through a locked pass".to_owned())
            })?;
            read(conn, position).await
        },
    )
    .await
}

/// A page of a list, read in one snapshot, with the position it reflects.
pub async fn page<T>(
    conn: &mut Conn,
    followed: Followed,
    read_page: impl AsyncFn(&mut Conn) -> Result<Page<T>, ApiError>,
) -> Result<Page<T>, ApiError> {
    read(conn, followed, async |conn, position| {
        let page = read_page(conn).await?;
        Ok(Page {
            feed_position: Some(position),
            ..page
        })
    })
    .await
}
