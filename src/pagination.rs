//! Keyset pagination: a page is the rows after the last key of the previous page,
//! so pages stay correct while rows are added and cost the same however deep a
//! client reads. The key travels as an opaque cursor (base64url of its JSON).

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::ApiError;

/// Page size when the client does not choose one.
pub const DEFAULT_LIMIT: u32 = 50;
/// Largest page a client may ask for.
pub const MAX_LIMIT: u32 = 200;
/// Longest cursor, in bytes; those this service makes are far shorter.
const MAX_CURSOR: usize = 1024;

/// One page of a list, before it becomes a response.
#[derive(Debug, Serialize)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
    /// The change-feed position the page reflects, for the lists of what the feed
    /// tells of (`models::event::snapshot`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub feed_position: Option<i64>,
}

/// What a client asked for: how many rows, after which key.
#[derive(Debug, Clone)]
pub struct PageRequest {
    limit: u32,
    cursor: Option<String>,
}

impl PageRequest {
    /// Checks the `limit` and `cursor` query parameters.
    pub fn new(limit: Option<u32>, cursor: Option<String>) -> Result<Self, ApiError> {
        let limit = limit.unwrap_or(DEFAULT_LIMIT);
        if !(1..=MAX_LIMIT).contains(&limit) {
            return Err(ApiError::bad_parameter(
                "limit",
                format!("must be from 1 to {MAX_LIMIT} (got {limit})"),
            ));
        }
        Ok(Self { limit, cursor })
    }

    /// The key to continue after, decoded from the cursor.
    pub fn after<K: DeserializeOwned>(&self) -> Result<Option<K>, ApiError> {
        let Some(cursor) = &self.cursor else {
            return Ok(None);
        };
        (cursor.len() <= MAX_CURSOR)
            .then(|| URL_SAFE_NO_PAD.decode(cursor).ok())
            .flatten()
            .and_then(|json| serde_json::from_slice(&json).ok())
            .map(Some)
            .ok_or_else(|| {
                ApiError::bad_parameter(
                    "cursor",
                    "is not a cursor this list returned; pass the next_cursor of the previous page unchanged, or leave it out to start from the first page",
                )
            })
    }

    /// How many rows to fetch: one more than the page, to learn whether another page follows.
    pub fn fetch_limit(&self) -> i64 {
        i64::from(self.limit) + 1
    }

    /// Cuts the fetched rows to the page and makes the cursor of the next one.
    pub fn page<T, K: Serialize>(&self, mut rows: Vec<T>, key: impl Fn(&T) -> K) -> Page<T> {
        let limit = self.limit as usize;
        let next_cursor = if rows.len() > limit {
            rows.truncate(limit);
            rows.last().map(|last| {
                let json = serde_json::to_vec(&key(last))
                    .expect("cursor keys are plain values that always serialize");
                URL_SAFE_NO_PAD.encode(json)
            })
        } else {
            None
        };
        Page {
            items: rows,
            next_cursor,
            feed_position: None,
        }
    }
}
