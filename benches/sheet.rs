//! The tracking sheet of a plan with 1,000 goals and 20,000 status updates (JSON and
//! CSV), and a 1,000-row bulk update, served by the real service over HTTP from a
//! real PostgreSQL, against a baseline taken in the same run (a single-plan GET):
//! these machines are shared, so ratios travel better than milliseconds.
//!
//! Run: `cargo bench --bench sheet` (PostgreSQL as for the tests).

#[path = "../tests/common/mod.rs"]
mod common;

use std::time::{Duration, Instant};

use actix_web::http::Method;
use common::{client, import_plan, send, start_for_bench};
use serde_json::{Value, json};

const ROUNDS: usize = 20;

fn large_plan() -> Value {
    let update = |n: usize| json!({"status": "on_track", "progress_percent": n * 5, "as_of": format!("2024-{:02}-{:02}", n % 12 + 1, n % 28 + 1)});
    let goal = |n: usize| {
        json!({"title": format!("Goal {n}"), "owner": "Membership Committee",
                                 "status_updates": (0..20).map(update).collect::<Vec<_>>()})
    };
    let area = |n: usize| json!({"title": format!("Area {n}"), "goals": (0..25).map(goal).collect::<Vec<_>>()});
    json!({"title": "Large plan", "period_start": "2024-01-01", "period_end": "2027-12-31",
           "areas": (0..40).map(area).collect::<Vec<_>>()})
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

fn millis(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1e3
}

fn main() {
    actix_web::rt::System::new().block_on(async {
        let (_database, address, _server) = start_for_bench(32 * 1024 * 1024);
        let http = client();
        let get =
            async |path: &str| send(&http, &address, Method::GET, path, None, Vec::new()).await;
        let plan_id = import_plan(&http, &address, &large_plan()).await;
        let sheet = format!("/api/v1/plans/{plan_id}/tracking-sheet");
        let rows: Vec<Value> = get(&sheet).await.json()["rows"]
            .as_array()
            .expect("rows")
            .clone();

        let mut timings = Vec::new();
        for (name, path) in [
            (
                "GET /api/v1/plans/{id} (baseline)",
                format!("/api/v1/plans/{plan_id}"),
            ),
            ("GET .../tracking-sheet (JSON)", sheet.clone()),
            (
                "GET .../tracking-sheet?format=csv",
                format!("{sheet}?format=csv"),
            ),
        ] {
            let mut times = Vec::with_capacity(ROUNDS);
            for _ in 0..ROUNDS {
                let started = Instant::now();
                let reply = get(&path).await;
                times.push(started.elapsed());
                assert_eq!(reply.status, 200, "{path}: {}", reply.text());
            }
            timings.push((name, median(times)));
        }
        // Each round gives every goal a progress no earlier round gave it, so every
        // row becomes a new update (one identical to an update already recorded that
        // day would be skipped as a duplicate).
        let mut times = Vec::with_capacity(ROUNDS / 2);
        for round in 0..ROUNDS / 2 {
            let status = if round % 2 == 0 {
                "at_risk"
            } else {
                "on_track"
            };
            let edited: Vec<Value> = rows
                .iter()
                .map(|row| {
                    json!({"goal_id": row["goal_id"], "status": status, "progress_percent": round,
                                  "latest_update_as_of": "2025-01-31"})
                })
                .collect();
            let body = Value::from(edited).to_string().into_bytes();
            let path = format!("/api/v1/plans/{plan_id}/status-updates/import");
            let started = Instant::now();
            let reply = send(
                &http,
                &address,
                Method::POST,
                &path,
                Some("application/json"),
                body,
            )
            .await;
            times.push(started.elapsed());
            assert_eq!(reply.status, 200, "{}", reply.text());
            assert_eq!(reply.json()["created"], rows.len(), "every row is recorded");
        }
        timings.push(("POST .../status-updates/import (1,000 rows)", median(times)));

        println!("plan: 40 areas x 25 goals x 20 updates (1,000 goals, 20,000 updates); medians");
        let baseline = timings[0].1;
        for (name, time) in timings {
            println!(
                "{name:<46} {:>8.2} ms  {:>6.1}x baseline",
                millis(time),
                time.as_secs_f64() / baseline.as_secs_f64()
            );
        }
    });
}
