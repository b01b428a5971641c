//! Rate limits: each token, and each client address for calls without one, may make
//! so many requests a minute, with bursts up to that many. One token bucket per
//! client, shared by all the instance's workers (one map behind a lock), so the
//! limit holds whatever worker a request lands on. Answers carry the `RateLimit`
//! and `RateLimit-Policy` headers of the IETF draft (draft-ietf-httpapi-ratelimit-headers),
//! and a refusal a `Retry-After`.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use actix_web::http::header::{HeaderMap, HeaderName, HeaderValue, RETRY_AFTER};
use uuid::Uuid;

/// The draft's header with the client's remaining quota.
pub const RATELIMIT: HeaderName = HeaderName::from_static("ratelimit");
/// The draft's header with the policy: quota and window.
pub const RATELIMIT_POLICY: HeaderName = HeaderName::from_static("ratelimit-policy");
/// The window the limits are counted over, in seconds.
const WINDOW_SECONDS: u32 = 60;
/// The kinds of client, as `RateLimit-Policy` names their policies.
const KINDS: [&str; 2] = ["token", "address"];
/// Buckets kept before full (idle) ones are swept out.
const SWEEP_AT: usize = 10_000;

/// Who a request counts against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Client {
    Token(Uuid),
    Address(IpAddr),
}

/// The limits of one instance, per minute; 0 turns a limit off.
pub struct RateLimiter {
    per_token: u32,
    per_address: u32,
    buckets: Mutex<HashMap<Client, Bucket>>,
    /// Requests refused, by kind of client (as in `KINDS`), for the metrics.
    refused: [AtomicU64; KINDS.len()],
}

struct Bucket {
    requests: f64,
    updated: Instant,
}

/// What one request was allowed, for its response headers.
#[derive(Debug, Clone, Copy)]
pub struct Allowance {
    policy: &'static str,
    quota: u32,
    remaining: u32,
    /// Seconds until the bucket is full again.
    reset: u64,
    /// Seconds until the next request is allowed, when this one was refused.
    pub refused_for: Option<u64>,
}

impl RateLimiter {
    pub fn new(per_token: u32, per_address: u32) -> Self {
        Self {
            per_token,
            per_address,
            buckets: Mutex::new(HashMap::new()),
            refused: [const { AtomicU64::new(0) }; KINDS.len()],
        }
    }

    /// The requests refused so far, by kind of client: `token` and `address`, as
    /// the `RateLimit-Policy` header names them.
    pub fn refusals(&self) -> impl Iterator<Item = (&'static str, u64)> + '_ {
        (KINDS.into_iter()).zip(self.refused.iter().map(|n| n.load(Ordering::Relaxed)))
    }

    /// Counts one request of `client`; `None` when its kind of client has no limit.
    pub fn take(&self, client: Client) -> Option<Allowance> {
        let (quota, kind) = match client {
            Client::Token(_) => (self.per_token, 0),
            Client::Address(_) => (self.per_address, 1),
        };
        let policy = KINDS[kind];
        if quota == 0 {
            return None;
        }
        let capacity = f64::from(quota);
        let per_second = capacity / f64::from(WINDOW_SECONDS);
        let now = Instant::now();
        let mut buckets = self
            .buckets
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if buckets.len() >= SWEEP_AT {
            buckets.retain(|client, bucket| {
                let quota = match client {
                    Client::Token(_) => self.per_token,
                    Client::Address(_) => self.per_address,
                };
                let rate = f64::from(quota) / f64::from(WINDOW_SECONDS);
                bucket.requests + rate * now.duration_since(bucket.updated).as_secs_f64()
                    < f64::from(quota)
            });
        }
        let bucket = buckets.entry(client).or_insert(Bucket {
            requests: capacity,
            updated: now,
        });
        let refilled = (bucket.requests
            + per_second * now.duration_since(bucket.updated).as_secs_f64())
        .min(capacity);
        bucket.updated = now;
        let refused_for = if refilled >= 1.0 {
            bucket.requests = refilled - 1.0;
            None
        } else {
            bucket.requests = refilled;
            self.refused[kind].fetch_add(1, Ordering::Relaxed);
            Some(((1.0 - refilled) / per_second).ceil().max(1.0) as u64)
        };
        Some(Allowance {
            policy,
            quota,
            remaining: bucket.requests.floor() as u32,
            reset: ((capacity - bucket.requests) / per_second).ceil() as u64,
            refused_for,
        })
    }
}

impl Allowance {
    /// Adds the `RateLimit-Policy` and `RateLimit` headers, and `Retry-After` to a refusal.
    pub fn add_headers(&self, headers: &mut HeaderMap) {
        let Allowance {
            policy,
            quota,
            remaining,
            reset,
            refused_for,
        } = *self;
        let value = |text: String| HeaderValue::from_str(&text).expect("digits and ASCII names");
        headers.insert(
            RATELIMIT_POLICY,
            value(format!("\"{policy}\";q={quota};w={WINDOW_SECONDS}")),
        );
        headers.insert(
            RATELIMIT,
            value(format!("\"{policy}\";r={remaining};t={reset}")),
        );
        if let Some(seconds) = refused_for {
            headers.insert(RETRY_AFTER, value(seconds.to_string()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_up_to_the_quota_passes_then_the_next_waits() {
        let limiter = RateLimiter::new(3, 0);
        let client = Client::Token(Uuid::nil());
        for remaining in [2, 1, 0] {
            let allowance = limiter.take(client).expect("tokens are limited");
            assert_eq!(allowance.refused_for, None);
            assert_eq!(allowance.remaining, remaining);
        }
        let refused = limiter.take(client).expect("tokens are limited");
        // 3 a minute: one every 20 seconds.
        assert!(matches!(refused.refused_for, Some(19 | 20)), "{refused:?}");
        assert!(
            limiter
                .take(Client::Address(IpAddr::from([127, 0, 0, 1])))
                .is_none(),
            "a limit of 0 is no limit"
        );
    }
}
