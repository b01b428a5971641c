//! What the change feed costs on the write path: each write measured with the event
//! triggers on and off, in alternate rounds of the same run, over HTTP against the
//! real service and PostgreSQL, beside a baseline read (a single-plan GET). These
//! machines are shared, so ratios travel better than milliseconds.
//!
//! Run: `cargo bench --bench writes` (PostgreSQL as for the tests).

#[path = "../tests/common/mod.rs"]
mod common;

use std::time::{Duration, Instant};

use actix_web::http::Method;
use common::{client, import_plan, send, start_for_bench};
use diesel::{Connection, RunQueryDsl};
use serde_json::{Value, json};
use strategy_tracker::db::SetupConnection;

const ROUNDS: usize = 30; // progress_percent 0 to 59 below
const GOALS: usize = 200;
const TABLES: [&str; 6] = [
    "plans",
    "areas",
    "goals",
    "status_updates",
    "measures",
    "measurements",
];

/// Turns the event triggers (the only triggers of our own) on or off.
fn record_events(database_url: &str, on: bool) {
    let url = database_url.to_owned();
    std::thread::spawn(move || {
        let mut conn = SetupConnection::establish(&url).expect("the bench database");
        let verb = if on { "ENABLE" } else { "DISABLE" };
        for table in TABLES {
            diesel::sql_query(format!("ALTER TABLE {table} {verb} TRIGGER USER"))
                .execute(&mut conn)
                .expect("the table exists");
        }
    })
    .join()
    .expect("the trigger thread ends");
}

fn median(mut times: Vec<Duration>) -> f64 {
    times.sort();
    times[times.len() / 2].as_secs_f64() * 1e3
}

fn main() {
    actix_web::rt::System::new().block_on(async {
        let (database, address, _server) = start_for_bench(8 * 1024 * 1024);
        let http = client();
        let call = async |method: Method, path: &str, body: Option<Value>| {
            let (content_type, bytes) = match body {
                Some(body) => (Some("application/json"), body.to_string().into_bytes()),
                None => (None, Vec::new()),
            };
            let reply = send(&http, &address, method, path, content_type, bytes).await;
            assert!(reply.status < 300, "{path}: {} {}", reply.status, reply.text());
            reply
        };
        let goals: Vec<Value> = (0..GOALS).map(|n| json!({"title": format!("Goal {n}")})).collect();
        let plan = json!({"title": "Bench plan", "period_start": "2024-01-01", "period_end": "2027-12-31",
                          "areas": [{"title": "Area", "goals": goals}]});
        let plan_id = import_plan(&http, &address, &plan).await;
        let sheet = call(Method::GET, &format!("/api/v1/plans/{plan_id}/tracking-sheet"), None).await.json();
        let goal_ids: Vec<String> = sheet["rows"].as_array().expect("rows").iter()
            .map(|row| row["goal_id"].as_str().expect("an id").to_owned())
            .collect();
        let goal = format!("/api/v1/goals/{}", goal_ids[0]);

        let mut times: [[Vec<Duration>; 2]; 4] = Default::default();
        for round in 0..ROUNDS {
            for (on, events) in [(true, 0), (false, 1)] {
                record_events(&database.url(), on);
                let mut time = async |slot: usize, method: Method, path: String, body: Option<Value>| {
                    let started = Instant::now();
                    call(method, &path, body).await;
                    times[slot][events].push(started.elapsed());
                };
                time(0, Method::GET, format!("/api/v1/plans/{plan_id}"), None).await;
                time(1, Method::PATCH, goal.clone(), Some(json!({"title": format!("Round {round} {on}")}))).await;
                let update = json!({"status": "on_track", "progress_percent": round});
                time(2, Method::POST, format!("{goal}/status-updates"), Some(update)).await;
                // Every goal gets a new update: each row differs from every earlier
                // one (an update identical to one already recorded that day is skipped).
                let progress = round * 2 + events;
                let rows: Vec<Value> = goal_ids.iter()
                    .map(|id| json!({"goal_id": id, "status": "on_track", "progress_percent": progress}))
                    .collect();
                time(3, Method::POST, format!("/api/v1/plans/{plan_id}/status-updates/import"), Some(Value::from(rows))).await;
            }
        }
        record_events(&database.url(), true);

        let baseline = median(std::mem::take(&mut times[0][0]));
        println!("medians of {ROUNDS} rounds each, events on vs off, same run; baseline = single-plan GET {baseline:.2} ms");
        for (slot, name) in [(1, "PATCH a goal's title"), (2, "POST a status update"), (3, "bulk update of 200 goals")] {
            let [on, off] = std::mem::take(&mut times[slot]);
            let (on, off) = (median(on), median(off));
            println!(
                "{name:<28} with events {on:8.2} ms ({:5.1}x baseline)  without {off:8.2} ms ({:5.1}x)  cost {:+.0}%",
                on / baseline,
                off / baseline,
                (on / off - 1.0) * 100.0
            );
        }
    });
}
