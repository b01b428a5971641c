//! How long the whole-plan document takes for a large plan: 50 areas × 20 goals ×
//! 10 status updates (1,000 goals, 10,000 updates), served by the real service over
//! HTTP from a real PostgreSQL, measured against baselines taken in the same run
//! (these machines are shared, so ratios travel better than milliseconds).
//!
//! Run: `cargo bench --bench document` (PostgreSQL as for the tests).

#[path = "../tests/common/mod.rs"]
mod common;

use std::time::{Duration, Instant};

use actix_web::http::Method;
use common::{client, import_plan, send, start_for_bench};
use serde_json::{Value, json};

const ROUNDS: usize = 60;

fn large_plan() -> Value {
    let update = |n: usize| {
        json!({"status": "on_track", "progress_percent": n * 10,
               "as_of": format!("2024-{:02}-15", n + 1), "note": "Quarterly report"})
    };
    let goal = |n: usize| {
        json!({"title": format!("Goal {n}: grow member engagement"), "owner": "Membership Committee",
               "status_updates": (0..10).map(update).collect::<Vec<_>>()})
    };
    let area = |n: usize| json!({"title": format!("Strategic Area {n}"), "goals": (0..20).map(goal).collect::<Vec<_>>()});
    json!({"title": "Large plan", "period_start": "2024-01-01", "period_end": "2027-12-31",
           "areas": (0..50).map(area).collect::<Vec<_>>()})
}

/// Median and 95th percentile of `ROUNDS` sequential GETs of `path`, after a warm-up.
async fn measure(http: &awc::Client, address: &str, path: &str) -> (Duration, Duration) {
    for _ in 0..5 {
        send(http, address, Method::GET, path, None, Vec::new()).await;
    }
    let mut times: Vec<Duration> = Vec::with_capacity(ROUNDS);
    for _ in 0..ROUNDS {
        let started = Instant::now();
        let reply = send(http, address, Method::GET, path, None, Vec::new()).await;
        times.push(started.elapsed());
        assert_eq!(reply.status, 200, "{path}: {}", reply.text());
    }
    times.sort();
    (times[ROUNDS / 2], times[ROUNDS * 95 / 100])
}

fn main() {
    actix_web::rt::System::new().block_on(async {
        let (_database, address, _server) = start_for_bench(16 * 1024 * 1024);
        let http = client();
        let plan_id = import_plan(&http, &address, &large_plan()).await;
        let document = format!("/api/v1/plans/{plan_id}/document");
        let size = send(&http, &address, Method::GET, &document, None, Vec::new())
            .await
            .body
            .len();

        let baselines = [
            ("GET /healthz (HTTP alone)", "/healthz".to_owned()),
            (
                "GET /api/v1/plans/{id} (one plan)",
                format!("/api/v1/plans/{plan_id}"),
            ),
        ];
        let measured = [
            ("GET .../document (10,000 updates)", document.clone()),
            (
                "GET .../document?updates=latest",
                format!("{document}?updates=latest"),
            ),
            (
                "GET .../document?updates=none",
                format!("{document}?updates=none"),
            ),
        ];
        println!(
            "plan: 50 areas x 20 goals x 10 updates; full document {} KiB; {ROUNDS} rounds each",
            size / 1024
        );
        let (one_plan, _) = measure(&http, &address, &baselines[1].1).await;
        for (name, path) in baselines.iter().chain(&measured) {
            let (median, p95) = measure(&http, &address, path).await;
            println!(
                "{name:<40} median {:>7.2} ms  p95 {:>7.2} ms  {:>6.1}x one plan",
                median.as_secs_f64() * 1e3,
                p95.as_secs_f64() * 1e3,
                median.as_secs_f64() / one_plan.as_secs_f64()
            );
        }
    });
}
