//! Reads cost the same however much history piles up: with thousands of goals and
//! tens of thousands of status updates and events in the database (and statistics
//! that say so), no list, item, document, sheet or history read makes PostgreSQL
//! scan a large table from end to end. PostgreSQL's own counters tell: every read
//! route is called on a fresh server, and `pg_stat_user_tables.seq_scan` of the large
//! tables must not move.

use std::time::Duration;

use actix_web::http::Method;
use chrono::{Days, Utc};
use diesel::{Connection, QueryableByName, RunQueryDsl};
use serde_json::{Value, json};
use strategy_tracker::db::SetupConnection;

use crate::common::{TestDatabase, client, id_of, import_plan, send_with, start, test_config};

const PLANS: usize = 20;
/// Goals of each plan: 10 areas of 4 goals with 4 sub-goals each.
const AREAS: usize = 10;
const GOALS_PER_AREA: usize = 4;
const SUB_GOALS: usize = 4;
/// Older status updates added to every goal, in SQL.
const UPDATES_PER_GOAL: i32 = 15;
/// The tables that grow with an association's years of use.
const LARGE_TABLES: [&str; 3] = ["goals", "status_updates", "events"];

fn plan_document(n: usize) -> Value {
    let goal = |code: String| json!({"title": format!("Goal {code}"), "owner": "Committee"});
    let areas: Vec<Value> = (1..=AREAS)
        .map(|a| {
            let goals: Vec<Value> = (1..=GOALS_PER_AREA)
                .map(|g| {
                    let mut top = goal(g.to_string());
                    top["sub_goals"] = (1..=SUB_GOALS).map(|s| goal(format!("{g}.{s}"))).collect();
                    top
                })
                .collect();
            json!({"title": format!("Area {a}"), "goals": goals})
        })
        .collect();
    json!({"title": format!("Plan {n}"), "period_start": "2025-01-01", "period_end": "2027-12-31",
           "status": "active", "areas": areas})
}

/// Runs `sql` on the test database from a plain thread (the set-up connection runs
/// its own runtime), and reads back rows of `T`.
fn query<T: QueryableByName<diesel::pg::Pg> + Send + 'static>(url: &str, sql: &str) -> Vec<T> {
    let (url, sql) = (url.to_owned(), sql.to_owned());
    std::thread::spawn(move || {
        let mut conn = SetupConnection::establish(&url).expect("the test database");
        diesel::sql_query(sql)
            .load(&mut conn)
            .expect("the statement runs")
    })
    .join()
    .expect("the SQL thread ends")
}

#[derive(QueryableByName, Debug, PartialEq)]
struct SeqScans {
    #[diesel(sql_type = diesel::sql_types::Text)]
    table: String,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    seq_scan: i64,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    rows: i64,
}

fn seq_scans(url: &str) -> Vec<SeqScans> {
    let tables = LARGE_TABLES.map(|t| format!("'{t}'")).join(", ");
    query(
        url,
        &format!(
            "SELECT s.relname::text AS table, s.seq_scan, c.reltuples::bigint AS rows \
             FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid \
             WHERE s.relname IN ({tables}) ORDER BY s.relname"
        ),
    )
}

#[derive(QueryableByName)]
struct Done {
    #[diesel(sql_type = diesel::sql_types::Bool)]
    #[allow(dead_code, reason = "read only to run the statement")]
    done: bool,
}

#[actix_web::test]
async fn no_read_scans_a_large_table_from_end_to_end() {
    let database = TestDatabase::new();
    let url = database.url();
    let config = test_config(url.clone());
    let http = client();

    // The data, loaded through the API, then years of status updates in SQL.
    let (address, loader) = start(&config);
    let mut plans = Vec::new();
    for n in 0..PLANS {
        plans.push(import_plan(&http, &address, &plan_document(n)).await);
    }
    loader.stop(true).await;
    query::<Done>(
        &url,
        &format!(
            "WITH added AS (INSERT INTO status_updates (id, goal_id, status, progress_percent, as_of) \
             SELECT gen_random_uuid(), goals.id, 'on_track', n, date '2024-12-31' - n \
             FROM goals CROSS JOIN generate_series(1, {UPDATES_PER_GOAL}) n RETURNING 1) \
             SELECT count(*) > 0 AS done FROM added"
        ),
    );
    std::thread::spawn({
        let url = url.clone();
        move || {
            let mut conn = SetupConnection::establish(&url).expect("the test database");
            // Numbered, as a service's sequencer would have done long since.
            diesel::sql_query("SELECT sequence_events()")
                .execute(&mut conn)
                .expect("the queued events are numbered");
            // Recorded two days ago, so that `as_of` yesterday replays the history.
            diesel::sql_query("UPDATE events SET occurred_at = occurred_at - interval '2 days'")
                .execute(&mut conn)
                .expect("the history moves back");
            diesel::sql_query("VACUUM ANALYZE")
                .execute(&mut conn)
                .expect("statistics are gathered");
            diesel::sql_query("SELECT pg_stat_reset()")
                .execute(&mut conn)
                .expect("counters are reset");
        }
    })
    .join()
    .expect("the statistics thread ends");

    // Every read, on a server whose connections have done nothing else.
    let (address, server) = start(&config);
    let plan = &plans[PLANS / 2];
    let get = async |path: String| {
        let reply = send_with(&http, &address, Method::GET, &path, &[], None).await;
        assert_eq!(reply.status, 200, "{path}: {}", reply.text());
        reply
    };
    let areas = get(format!("/api/v1/plans/{plan}/areas")).await.json();
    let area = id_of(&areas["items"][3]);
    let goals = get(format!("/api/v1/plans/{plan}/goals?limit=200"))
        .await
        .json();
    let goal = id_of(&goals["items"][57]);
    let updates = get(format!("/api/v1/goals/{goal}/status-updates"))
        .await
        .json();
    let update = id_of(&updates["items"][0]);
    let yesterday = Utc::now().date_naive() - Days::new(1);
    for path in [
        // A page of a tenth of the plans: their progress needs their goals only. (A
        // page of all of them needs every goal, which a scan reads best.)
        "/api/v1/plans?limit=2".to_owned(),
        "/api/v1/plans?status=active&limit=2".to_owned(),
        format!("/api/v1/plans/{plan}"),
        format!("/api/v1/plans/{plan}/goals?status=on_track&limit=50"),
        format!("/api/v1/plans/{plan}/goals?top_level=true"),
        format!("/api/v1/plans/{plan}/goals?owner=Committee"),
        format!("/api/v1/areas/{area}"),
        format!("/api/v1/areas/{area}/goals"),
        format!("/api/v1/goals/{goal}"),
        format!("/api/v1/goals/{goal}/status-updates?as_of_from=2024-06-01"),
        format!("/api/v1/status-updates/{update}"),
        format!("/api/v1/goals/{goal}/measures"),
        format!("/api/v1/plans/{plan}/document"),
        format!("/api/v1/plans/{plan}/document?updates=latest"),
        format!("/api/v1/plans/{plan}/document?as_of={yesterday}"),
        format!("/api/v1/plans/{plan}/tracking-sheet"),
        format!("/api/v1/plans/{plan}/tracking-sheet?format=csv&stale_since=2025-01-01"),
        format!("/api/v1/events?plan_id={plan}&limit=100"),
        "/api/v1/events?after=1000&limit=100".to_owned(),
        format!("/api/v1/plans/{plan}/history"),
        format!("/api/v1/areas/{area}/history"),
        format!("/api/v1/goals/{goal}/history"),
    ] {
        get(path).await;
    }
    // Closing the connections makes their backends hand in their counters.
    server.stop(true).await;

    let mut scans = seq_scans(&url);
    for _ in 0..50 {
        std::thread::sleep(Duration::from_millis(100));
        let again = seq_scans(&url);
        if again == scans {
            break;
        }
        scans = again;
    }
    assert_eq!(scans.len(), LARGE_TABLES.len(), "{scans:?}");
    for table in &scans {
        assert!(table.rows > 3_000, "too small to prove anything: {table:?}");
        assert_eq!(table.seq_scan, 0, "a read scanned all of {table:?}");
    }
}
