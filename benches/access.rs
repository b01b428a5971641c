//! What checking a token costs per request. Two measures, in the same run:
//!
//! 1. In process, the check itself (`TokenCache::check`): a token the cache holds
//!    (SHA-256 of the secret, a map lookup, a constant-time compare) against one it
//!    must fetch from PostgreSQL (after a revocation cleared the cache, say).
//! 2. Over HTTP against the real service, in alternate rounds: GET of a published
//!    goal with a token (checked from the cache), and without one (no token to check,
//!    but, as drafts must stay hidden, one query for the goal's plan status).
//!
//! The baseline is the GET with a token: the check's share of a whole request is the
//! ratio. These machines are shared, so ratios travel better than times.
//!
//! Run: `cargo bench --bench access` (PostgreSQL as for the tests).

#[path = "../tests/common/mod.rs"]
mod common;

use std::time::{Duration, Instant};

use actix_web::http::Method;
use common::{TEST_TOKEN, anonymous_client, client, send_with, start_for_bench};
use diesel_async::{AsyncConnection, AsyncPgConnection};
use serde_json::json;
use strategy_tracker::api::middleware::access::TokenCache;
use strategy_tracker::error::ApiError;
use strategy_tracker::models::api_token::secret::TokenSecret;

const HITS: u32 = 100_000;
const MISSES: u32 = 300;
const ROUNDS: usize = 20;
const REQUESTS_PER_ROUND: usize = 50;

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

fn main() {
    actix_web::rt::System::new().block_on(async {
        let (database, address, _server) = start_for_bench(1024 * 1024);

        // 1. The check in process.
        let secret = TokenSecret::parse(TEST_TOKEN).expect("the test token parses");
        let mut conn = AsyncPgConnection::establish(&database.url())
            .await
            .expect("the bench database");
        let cache = TokenCache::default();
        cache.set_listening(true);
        let mut check = async |cache: &TokenCache| {
            let conn = &mut conn;
            cache
                .check(&secret, async move || Ok::<_, ApiError>(conn))
                .await
                .expect("the test token works");
        };
        let started = Instant::now();
        for _ in 0..MISSES {
            cache.clear();
            check(&cache).await;
        }
        let miss = started.elapsed() / MISSES;
        let started = Instant::now();
        for _ in 0..HITS {
            check(&cache).await;
        }
        let hit = started.elapsed() / HITS;

        // 2. Whole requests over HTTP.
        let staff = client();
        let member = anonymous_client();
        let post = async |path: String, body: serde_json::Value| {
            let reply = send_with(&staff, &address, Method::POST, &path, &[], Some(body)).await;
            assert_eq!(reply.status, 201, "{}", reply.text());
            reply.json()["id"].as_str().expect("an id").to_owned()
        };
        let plan = post(
            "/api/v1/plans".to_owned(),
            json!({"title": "Bench plan", "period_start": "2024-01-01",
                   "period_end": "2027-12-31", "status": "active"}),
        )
        .await;
        let area = post(
            format!("/api/v1/plans/{plan}/areas"),
            json!({"title": "Area"}),
        )
        .await;
        let goal = post(
            format!("/api/v1/areas/{area}/goals"),
            json!({"title": "Goal"}),
        )
        .await;
        let path = format!("/api/v1/goals/{goal}");
        let mut with_token = Vec::new();
        let mut without = Vec::new();
        for _ in 0..ROUNDS {
            for (http, times) in [(&staff, &mut with_token), (&member, &mut without)] {
                for _ in 0..REQUESTS_PER_ROUND {
                    let started = Instant::now();
                    let reply = send_with(http, &address, Method::GET, &path, &[], None).await;
                    times.push(started.elapsed());
                    assert_eq!(reply.status, 200);
                }
            }
        }
        let baseline = median(with_token);
        let anonymous = median(without);

        let share = |time: Duration| time.as_secs_f64() / baseline.as_secs_f64();
        println!("token check, in process ({HITS} hits, {MISSES} misses):");
        println!(
            "  cached:            {:>9.2} µs  ({:.4}x a GET with a token)",
            hit.as_secs_f64() * 1e6,
            share(hit)
        );
        println!(
            "  from the database: {:>9.2} µs  ({:.3}x a GET with a token)",
            miss.as_secs_f64() * 1e6,
            share(miss)
        );
        println!(
            "GET of a goal over HTTP, medians of {} requests each, alternate rounds:",
            ROUNDS * REQUESTS_PER_ROUND
        );
        println!(
            "  with a token (baseline): {:>7.3} ms",
            baseline.as_secs_f64() * 1e3
        );
        println!(
            "  without a token:         {:>7.3} ms  ({:.2}x; one query to keep drafts hidden)",
            anonymous.as_secs_f64() * 1e3,
            share(anonymous)
        );
    });
}
