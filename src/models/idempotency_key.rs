//! The idempotency store: the responses of POSTs sent with an `Idempotency-Key`,
//! kept for 24 hours, and the claims that let one request with a key run at a
//! time (see `api::middleware::idempotency` for the HTTP side).
//!
//! A claim is a transaction holding an advisory lock on the key; the request's
//! work runs in it, and [`save_and_commit`] records the response in it, so a key
//! is recorded if and only if its work committed.

use diesel::dsl::{IntervalDsl, now};
use diesel::sql_types::Timestamptz;
use diesel::{ExpressionMethods, IntoSql, OptionalExtension, QueryDsl};
use diesel_async::{AnsiTransactionManager, RunQueryDsl, TransactionManager};
use serde_json::Value;
use uuid::Uuid;

use super::Conn;
use super::prepared::prepared;
use crate::error::ApiError;
use crate::schema::idempotency_keys;

/// The advisory lock class under which a key is held while its request runs.
const LOCK_CLASS: i32 = 0x6964_656d; // "idem"

/// A key as the token that sent it owns it: another token's same key is another key.
pub struct OwnedKey {
    pub token_id: Uuid,
    pub key: String,
}

/// A response recorded for a key, and what made its request (its fingerprint).
pub struct SavedResponse {
    pub fingerprint: Vec<u8>,
    pub status: u16,
    /// Header names and values, in the order they were sent.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

/// Opens a transaction on `conn` that holds `key` until it ends, or answers
/// [`ApiError::StillRunning`] while another request holds it.
pub async fn claim(conn: &mut Conn, key: &OwnedKey) -> Result<(), ApiError> {
    AnsiTransactionManager::begin_transaction(conn).await?;
    let held: Result<bool, ApiError> = async {
        #[derive(diesel::QueryableByName)]
        struct Claimed {
            #[diesel(sql_type = diesel::sql_types::Bool)]
            claimed: bool,
        }
        let claimed: Claimed = prepared(
            diesel::sql_query(
                "SELECT pg_try_advisory_xact_lock($1, hashtext($2::text || $3)) AS claimed",
            )
            .bind::<diesel::sql_types::Integer, _>(LOCK_CLASS)
            .bind::<diesel::sql_types::Uuid, _>(key.token_id)
            .bind::<diesel::sql_types::Text, _>(&key.key),
        )
        .get_result(&mut *conn)
        .await?;
        Ok(claimed.claimed)
    }
    .await;
    match held {
        Ok(true) => Ok(()),
        outcome => {
            let _ = release(conn).await;
            Err(outcome.err().unwrap_or(ApiError::StillRunning))
        }
    }
}

/// Ends a claim, recording nothing: whatever its transaction did rolls back.
pub async fn release(conn: &mut Conn) -> Result<(), ApiError> {
    Ok(AnsiTransactionManager::rollback_transaction(conn).await?)
}

/// The response recorded for the key in the last 24 hours, if any. Also clears out
/// expired keys, skipping any another transaction is clearing.
pub async fn saved_response(
    conn: &mut Conn,
    key: &OwnedKey,
) -> Result<Option<SavedResponse>, ApiError> {
    prepared(diesel::sql_query(
        "DELETE FROM idempotency_keys WHERE (token_id, key) IN ( \
             SELECT token_id, key FROM idempotency_keys \
             WHERE created_at < now() - interval '24 hours' \
             LIMIT 100 FOR UPDATE SKIP LOCKED)",
    ))
    .execute(conn)
    .await?;
    let row: Option<(Vec<u8>, i16, Value, Vec<u8>)> = idempotency_keys::table
        .find((key.token_id, &key.key))
        .filter(idempotency_keys::created_at.gt(now.into_sql::<Timestamptz>() - 24.hours()))
        .select((
            idempotency_keys::fingerprint,
            idempotency_keys::status,
            idempotency_keys::headers,
            idempotency_keys::body,
        ))
        .first(conn)
        .await
        .optional()?;
    Ok(
        row.map(|(fingerprint, status, headers, body)| SavedResponse {
            fingerprint,
            status: u16::try_from(status).unwrap_or(200),
            headers: (headers.as_array().into_iter().flatten())
                .filter_map(|pair| {
                    Some((pair[0].as_str()?.to_owned(), pair[1].as_str()?.to_owned()))
                })
                .collect(),
            body,
        }),
    )
}

/// Records the response for the key in the claim's transaction, and commits the
/// two together; on failure, rolls both back.
pub async fn save_and_commit(
    conn: &mut Conn,
    key: &OwnedKey,
    response: &SavedResponse,
) -> Result<(), ApiError> {
    match save(conn, key, response).await {
        Ok(()) => Ok(AnsiTransactionManager::commit_transaction(conn).await?),
        Err(error) => {
            let _ = release(conn).await;
            Err(error)
        }
    }
}

async fn save(conn: &mut Conn, key: &OwnedKey, response: &SavedResponse) -> Result<(), ApiError> {
    let headers: Vec<[&str; 2]> = (response.headers.iter())
        .map(|(name, value)| [name.as_str(), value.as_str()])
        .collect();
    let headers = serde_json::to_value(headers).expect("header pairs serialize");
    let status = i16::try_from(response.status).expect("HTTP statuses fit in 16 bits");
    let (fingerprint, body) = (&response.fingerprint, &response.body);
    diesel::insert_into(idempotency_keys::table)
        .values((
            idempotency_keys::token_id.eq(key.token_id),
            idempotency_keys::key.eq(&key.key),
            idempotency_keys::fingerprint.eq(fingerprint),
            idempotency_keys::status.eq(status),
            idempotency_keys::headers.eq(&headers),
            idempotency_keys::body.eq(body),
        ))
        .on_conflict((idempotency_keys::token_id, idempotency_keys::key))
        .do_update()
        .set((
            idempotency_keys::fingerprint.eq(fingerprint),
            idempotency_keys::status.eq(status),
            idempotency_keys::headers.eq(&headers),
            idempotency_keys::body.eq(body),
            idempotency_keys::created_at.eq(diesel::dsl::now),
        ))
        .execute(conn)
        .await?;
    Ok(())
}
