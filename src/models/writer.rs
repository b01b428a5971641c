//! How data is changed: only through a [`Writer`], which knows who makes the change
//! and why, and attributes every transaction it opens to them.
//!
//! The change feed's triggers read the actor and the revision note from settings
//! local to the transaction (`set_config(..., true)`), which [`Writer::transaction`]
//! sets as its first statement. Being local, they end with the transaction: a
//! pooled connection carries nothing over to the next request, and a change made
//! without a writer is recorded as `anonymous`, never as the previous request's
//! actor.

use diesel_async::{AnsiTransactionManager, RunQueryDsl, TransactionManager};

use super::Conn;
use super::prepared::prepared;
use crate::error::ApiError;

/// A connection to make changes on, with who makes them and why.
pub struct Writer<'c> {
    conn: &'c mut Conn,
    actor: &'c str,
    revision_note: Option<&'c str>,
    /// Whether the connection is in a transaction this writer already attributed
    /// (inside [`Writer::atomically`]), so that nested ones need not again.
    attributed: bool,
}

impl<'c> Writer<'c> {
    /// Changes made on `conn` by `actor` (an API token's name, or the command
    /// line's user), for the reason `revision_note` gives, if any.
    pub fn new(conn: &'c mut Conn, actor: &'c str, revision_note: Option<&'c str>) -> Self {
        Self {
            conn,
            actor,
            revision_note,
            attributed: false,
        }
    }

    /// Runs `work` in one attributed transaction (a savepoint inside another):
    /// committed when it succeeds, rolled back when it fails.
    pub async fn transaction<R>(
        &mut self,
        work: impl AsyncFnOnce(&mut Conn) -> Result<R, ApiError>,
    ) -> Result<R, ApiError> {
        let (actor, revision_note, attributed) = (self.actor, self.revision_note, self.attributed);
        in_transaction(self.conn, async |conn| {
            if !attributed {
                attribute(conn, actor, revision_note).await?;
            }
            work(conn).await
        })
        .await
    }

    /// Runs `work` with a writer whose every step is part of one attributed
    /// transaction: for a check and the change it guards (`If-Match`), which must
    /// see the same state.
    pub async fn atomically<R>(
        &mut self,
        work: impl AsyncFnOnce(&mut Writer<'_>) -> Result<R, ApiError>,
    ) -> Result<R, ApiError> {
        let (actor, revision_note) = (self.actor, self.revision_note);
        in_transaction(self.conn, async |conn| {
            attribute(conn, actor, revision_note).await?;
            let mut inner = Writer {
                conn,
                actor,
                revision_note,
                attributed: true,
            };
            work(&mut inner).await
        })
        .await
    }

    /// The connection, for what a change reads before or around its transaction
    /// (checks, the state `If-Match` compares). Writes go through
    /// [`Self::transaction`].
    pub fn reader(&mut self) -> &mut Conn {
        self.conn
    }
}

/// Runs `work` in one transaction, or in a savepoint when one is open: committed
/// (released) when it succeeds, rolled back when it fails. Begun by hand rather
/// than with diesel's `transaction`, whose closure must be `Send`: the steps of a
/// request borrow its state, which is not.
pub async fn in_transaction<R>(
    conn: &mut Conn,
    work: impl AsyncFnOnce(&mut Conn) -> Result<R, ApiError>,
) -> Result<R, ApiError> {
    AnsiTransactionManager::begin_transaction(conn).await?;
    let outcome = work(conn).await;
    end(conn, outcome).await
}

/// Runs `work` in a transaction begun with the statement `begin` (a `BEGIN` with
/// its isolation level), which must not be nested: committed when it succeeds,
/// rolled back when it fails.
pub async fn in_transaction_begun_with<R>(
    conn: &mut Conn,
    begin: &str,
    work: impl AsyncFnOnce(&mut Conn) -> Result<R, ApiError>,
) -> Result<R, ApiError> {
    AnsiTransactionManager::begin_transaction_sql(conn, begin).await?;
    let outcome = work(conn).await;
    end(conn, outcome).await
}

/// Ends the open transaction (or savepoint) as its work went.
async fn end<R>(conn: &mut Conn, outcome: Result<R, ApiError>) -> Result<R, ApiError> {
    match outcome {
        Ok(done) => {
            AnsiTransactionManager::commit_transaction(conn).await?;
            Ok(done)
        }
        Err(error) => {
            // A connection whose rollback fails is discarded by the pool.
            let _ = AnsiTransactionManager::rollback_transaction(conn).await;
            Err(error)
        }
    }
}

/// Says who is making the changes of the open transaction, and why, for the events
/// its writes record.
async fn attribute(
    conn: &mut Conn,
    actor: &str,
    revision_note: Option<&str>,
) -> Result<(), ApiError> {
    prepared(
        diesel::sql_query(
            "SELECT set_config('strategy_tracker.actor', $1, true), \
                    set_config('strategy_tracker.revision_note', $2, true)",
        )
        .bind::<diesel::sql_types::Text, _>(actor)
        .bind::<diesel::sql_types::Text, _>(revision_note.unwrap_or("")),
    )
    .execute(conn)
    .await?;
    Ok(())
}
