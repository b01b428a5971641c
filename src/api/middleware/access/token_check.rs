//! Checks a presented token against the database, through a small in-memory cache
//! so that a portal's every request does not cost a query. The cache holds a token
//! only while this instance listens for token changes: a revocation anywhere (API,
//! command line, SQL) clears it as soon as PostgreSQL delivers the notification, and
//! on the instance that revoked, before the revocation's response is sent.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::Utc;

use crate::error::ApiError;
use crate::models::Conn;
use crate::models::api_token::secret::TokenSecret;
use crate::models::api_token::{self, ApiToken, StoredToken};

/// Most tokens kept at once; an association has a handful, so reaching it means
/// someone is presenting made-up ids, and the cache simply starts over.
const CAPACITY: usize = 1024;
/// How long a token is trusted without asking the database, in case a notification
/// is lost; also how often its last-used time is written.
const FRESH_FOR: Duration = Duration::from_secs(60);

/// Tokens recently checked, by id.
#[derive(Default)]
pub struct TokenCache {
    entries: Mutex<HashMap<uuid::Uuid, (Arc<StoredToken>, Instant)>>,
    /// Whether the notifications that keep the cache true are arriving.
    listening: AtomicBool,
    /// Bumped by every clearing, so that a lookup that began before a revocation
    /// does not put back what the revocation cleared.
    generation: AtomicU64,
    /// Checks answered from the cache, and those that asked the database (the
    /// cache off included), for the metrics.
    hits: AtomicU64,
    misses: AtomicU64,
}

impl TokenCache {
    /// Forgets every token; the next request with each asks the database.
    pub fn clear(&self) {
        self.generation.fetch_add(1, Ordering::SeqCst);
        self.lock().clear();
    }

    /// Turns the cache on while notifications arrive, off when they stop.
    pub fn set_listening(&self, listening: bool) {
        self.clear();
        self.listening.store(listening, Ordering::SeqCst);
    }

    /// Checks answered from the cache, and checks that asked the database.
    pub fn hits_and_misses(&self) -> (u64, u64) {
        (
            self.hits.load(Ordering::Relaxed),
            self.misses.load(Ordering::Relaxed),
        )
    }

    fn get(&self, id: uuid::Uuid) -> Option<Arc<StoredToken>> {
        if !self.listening.load(Ordering::SeqCst) {
            return None;
        }
        self.lock()
            .get(&id)
            .filter(|(_, fetched)| fetched.elapsed() < FRESH_FOR)
            .map(|(token, _)| token.clone())
    }

    fn put(&self, generation: u64, token: Arc<StoredToken>) {
        let mut entries = self.lock();
        if !self.listening.load(Ordering::SeqCst)
            || self.generation.load(Ordering::SeqCst) != generation
        {
            return;
        }
        if entries.len() >= CAPACITY {
            entries.clear();
        }
        entries.insert(token.record.id, (token, Instant::now()));
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<uuid::Uuid, (Arc<StoredToken>, Instant)>> {
        // A panic while holding the lock leaves a map that is still a valid cache.
        self.entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The token `secret` presents, if it works now; a 401 saying why if not.
    /// `connect` is only called when the cache cannot answer.
    pub async fn check<C: std::ops::DerefMut<Target = Conn>>(
        &self,
        secret: &TokenSecret,
        connect: impl AsyncFnOnce() -> Result<C, ApiError>,
    ) -> Result<Arc<StoredToken>, ApiError> {
        let stored = match self.get(secret.id) {
            Some(token) => {
                self.hits.fetch_add(1, Ordering::Relaxed);
                Some(token)
            }
            None => {
                self.misses.fetch_add(1, Ordering::Relaxed);
                let generation = self.generation.load(Ordering::SeqCst);
                let mut conn = connect().await?;
                let found = api_token::find(&mut conn, secret.id).await?.map(Arc::new);
                if let Some(token) = &found
                    && token.is_presented_by(secret)
                    && usable(&token.record).is_ok()
                {
                    api_token::mark_used(&mut conn, token.record.id).await?;
                    self.put(generation, token.clone());
                }
                found
            }
        };
        // An unknown id and a wrong secret get the same answer after the same work.
        let presented = match &stored {
            Some(token) => token.is_presented_by(secret),
            None => {
                std::hint::black_box(secret.matches(&[0; 32]));
                false
            }
        };
        match stored {
            Some(token) if presented => usable(&token.record).map(|()| token),
            _ => Err(invalid_token(
                "the token is not one this service issued; check that it was copied whole, or ask an admin for a new one",
            )),
        }
    }
}

/// Whether a genuine token may be used now: not revoked, not expired.
fn usable(token: &ApiToken) -> Result<(), ApiError> {
    if let Some(revoked) = token.revoked_at {
        return Err(invalid_token(&format!(
            "the token \"{}\" was revoked on {}; ask an admin for a new one",
            token.name,
            revoked.format("%Y-%m-%d %H:%M UTC")
        )));
    }
    match token.expires_at {
        Some(expiry) if expiry <= Utc::now() => Err(invalid_token(&format!(
            "the token \"{}\" expired on {}; ask an admin for a new one",
            token.name,
            expiry.format("%Y-%m-%d %H:%M UTC")
        ))),
        _ => Ok(()),
    }
}

/// A 401 for a token that was read but does not work.
pub fn invalid_token(detail: &str) -> ApiError {
    ApiError::Unauthorized {
        error: Some("invalid_token"),
        detail: detail.to_owned(),
    }
}
