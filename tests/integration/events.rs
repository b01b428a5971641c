use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use actix_web::http::Method;
use chrono::{Days, Utc};
use diesel_async::RunQueryDsl;
use futures_util::future::{join, join_all};
use serde_json::{Value, json};

use crate::common::{TestApp, error_fields, id_of};
use crate::helpers::{app_sql, connect, create_token, send_as};

/// A page of the change feed with this query string.
async fn feed(app: &TestApp, query: &str) -> Value {
    app.get(&format!("/api/v1/events?{query}"))
        .await
        .expect(200)
}

/// The fields named by the 400 answer to the feed with this query string.
async fn feed_refused(app: &TestApp, query: &str) -> Vec<String> {
    let reply = app.get(&format!("/api/v1/events?{query}")).await;
    error_fields(&reply.problem(400))
}

fn items(page: &Value) -> &Vec<Value> {
    page["items"].as_array().expect("an items array")
}

fn seq(event: &Value) -> i64 {
    event["seq"].as_i64().expect("a seq")
}

/// (resource_type, resource_id, action) of each event, in order.
fn summary(events: &[Value]) -> Vec<(String, String, String)> {
    let text = |value: &Value| value.as_str().expect("a string").to_owned();
    let row = |e: &Value| {
        (
            text(&e["resource_type"]),
            text(&e["resource_id"]),
            text(&e["action"]),
        )
    };
    events.iter().map(row).collect()
}

async fn status_update(app: &TestApp, goal_id: &str, status: &str, as_of: &str) -> Value {
    let body = json!({ "status": status, "progress_percent": 40, "as_of": as_of });
    app.post(&format!("/api/v1/goals/{goal_id}/status-updates"), body)
        .await
        .created()
}

#[actix_web::test]
async fn a_goals_history_tells_who_changed_what_and_why_newest_first() {
    let app = TestApp::spawn().await;
    let (_, area_id) = app.plan_with_area().await;
    let goal = app
        .create_goal(&area_id, json!({ "title": "Align journals" }))
        .await;
    let path = format!("/api/v1/goals/{}", id_of(&goal));
    let body = json!({
        "title": "Align journals on a single platform",
        "revision_note": "Revised by the board, March 2024",
    });

    let (_, token) = create_token(&app, "board-secretary", &["write"]).await;
    let updated = send_as(&app.address, Some(&token), Method::PATCH, &path, Some(body)).await;

    let updated = updated.expect(200);
    assert_eq!(updated["title"], "Align journals on a single platform");
    assert!(
        updated.get("revision_note").is_none(),
        "the note is not a field"
    );
    let history = app.get(&format!("{path}/history")).await.expect(200);
    let events = items(&history);
    let newest = &events[0];
    assert_eq!(newest["action"], "updated");
    assert_eq!(newest["resource_type"], "goal");
    assert_eq!(
        newest["changes"]["title"],
        json!({ "old": "Align journals", "new": "Align journals on a single platform" })
    );
    assert_eq!(newest["actor"], "board-secretary");
    assert_eq!(newest["revision_note"], "Revised by the board, March 2024");
    let created = events.last().expect("the created event");
    assert_eq!(created["action"], "created");
    assert_eq!(created["actor"], crate::common::TEST_TOKEN_NAME);
    assert_eq!(created["revision_note"], Value::Null);
    assert_eq!(
        created["changes"]["title"],
        json!({ "old": null, "new": "Align journals" })
    );
    // Created with the code it shows, so no renumbering event in between.
    assert_eq!(created["changes"]["code"]["new"], "1");
    assert_eq!(events.len(), 2, "created, then the PATCH: {events:?}");
    let created_at = created["changes"]["created_at"]["new"]
        .as_str()
        .unwrap_or("");
    assert_eq!(
        created_at, goal["created_at"],
        "timestamps as the goal shows them"
    );
    for internal in ["custom_code", "sort_key"] {
        assert!(
            events.iter().all(|e| e["changes"].get(internal).is_none()),
            "{internal} shows"
        );
    }
    let seqs: Vec<i64> = events.iter().map(seq).collect();
    assert!(
        seqs.windows(2).all(|pair| pair[0] > pair[1]),
        "newest first: {seqs:?}"
    );

    let mut paged = Vec::new();
    let mut query = "limit=1".to_owned();
    loop {
        let page = app
            .get(&format!("{path}/history?{query}"))
            .await
            .expect(200);
        paged.extend(items(&page).iter().cloned());
        match page["next_cursor"].as_str() {
            Some(cursor) => query = format!("limit=1&cursor={cursor}"),
            None => break,
        }
    }
    assert_eq!(&paged, events, "paging one at a time lists the same events");
    let unknown = "/api/v1/goals/0193a3c4-5b6e-7f00-8a1b-2c3d4e5f6a7b/history";
    app.get(unknown).await.problem(404);
}

/// Events are numbered from one counter whose lock is held to commit: concurrent
/// writers must still leave the numbers 1, 2, 3, ... each used once.
#[actix_web::test]
async fn the_feed_is_gapless_and_without_duplicates_under_concurrent_writers() {
    let app = TestApp::spawn().await;
    let mut areas = Vec::new();
    for _ in 0..4 {
        areas.push(app.plan_with_area().await.1);
    }
    let creates = (0..40).map(|n| {
        let title = format!("Goal {n}");
        app.create_goal(&areas[n % areas.len()], json!({ "title": title }))
    });
    let goals: BTreeSet<String> = join_all(creates).await.iter().map(id_of).collect();

    let (mut after, mut newest, mut events) = (0, 0, Vec::new());
    loop {
        let page = feed(&app, &format!("after={after}&limit=7")).await;
        let page_items = items(&page);
        if page_items.is_empty() {
            assert_eq!(page["next_after"], after);
            break;
        }
        assert!(page_items.len() <= 7);
        events.extend(page_items.iter().cloned());
        after = page["next_after"].as_i64().expect("a next_after");
        newest = page["newest_seq"].as_i64().expect("a newest_seq");
    }

    let seqs: Vec<i64> = events.iter().map(seq).collect();
    assert_eq!(seqs, (1..=newest).collect::<Vec<_>>());
    let created_goals: BTreeSet<String> = summary(&events)
        .into_iter()
        .filter(|(kind, _, action)| kind == "goal" && action == "created")
        .map(|(_, id, _)| id)
        .collect();
    assert_eq!(created_goals, goals);
}

#[actix_web::test]
async fn the_feed_filters_by_plan_and_resource_type() {
    let app = TestApp::spawn().await;
    let (plan, area) = app.plan_with_area().await;
    let goal = id_of(&app.create_goal(&area, json!({})).await);
    let (_, other_area) = app.plan_with_area().await;
    let other_goal = id_of(&app.create_goal(&other_area, json!({})).await);
    let everything = feed(&app, "").await;

    let of_plan = feed(&app, &format!("plan_id={plan}")).await;
    let goals = feed(&app, "resource_type=goal").await;

    let expected: Vec<&Value> = (items(&everything).iter())
        .filter(|event| event["plan_id"] == plan.as_str())
        .collect();
    assert_eq!(items(&of_plan).iter().collect::<Vec<_>>(), expected);
    let ids: BTreeSet<String> = summary(items(&of_plan)).into_iter().map(|e| e.1).collect();
    assert_eq!(ids, BTreeSet::from([plan.clone(), area, goal.clone()]));
    assert!(
        items(&goals)
            .iter()
            .all(|event| event["resource_type"] == "goal")
    );
    let goal_ids: BTreeSet<String> = summary(items(&goals)).into_iter().map(|e| e.1).collect();
    assert_eq!(goal_ids, BTreeSet::from([goal, other_goal]));
    // A page that is not full skips past the other plan's newer events.
    let newest = everything["newest_seq"].clone();
    assert!(seq(items(&of_plan).last().expect("an event")) < newest.as_i64().expect("a seq"));
    assert_eq!(of_plan["next_after"], newest);
    assert_eq!(of_plan["newest_seq"], newest);
    let full = feed(&app, &format!("plan_id={plan}&limit=1")).await;
    assert_eq!(full["next_after"], seq(&items(&full)[0]));
    let rest = feed(
        &app,
        &format!("plan_id={plan}&after={}", full["next_after"]),
    )
    .await;
    assert_eq!(items(&rest)[..], items(&of_plan)[1..]);
}

#[actix_web::test]
async fn a_feed_position_beyond_the_newest_event_and_bad_limits_are_refused() {
    let app = TestApp::spawn().await;
    app.plan_with_area().await;
    let newest = feed(&app, "").await["newest_seq"].as_i64().expect("a seq");

    assert_eq!(
        feed_refused(&app, &format!("after={}", newest + 1)).await,
        ["after"]
    );
    assert_eq!(feed_refused(&app, "after=-1").await, ["after"]);
    assert_eq!(feed_refused(&app, "limit=0").await, ["limit"]);
    assert_eq!(feed_refused(&app, "limit=1001").await, ["limit"]);
    assert_eq!(feed_refused(&app, "wait=61").await, ["wait"]);
    assert_eq!(
        feed_refused(&app, "resource_type=widget").await,
        ["resource_type"]
    );
    assert_eq!(
        items(&feed(&app, &format!("after={newest}")).await).len(),
        0
    );
}

/// How soon a waiting long poll must answer once an event commits. The service is
/// woken by the notification the event's trigger sends at commit, in milliseconds
/// on one machine; without it, only the recheck a second later (or a slower
/// poll) would answer, and that must fail here.
const WAKE_UP: Duration = Duration::from_millis(500);

#[actix_web::test]
async fn a_long_poll_answers_as_soon_as_an_event_commits() {
    let app = TestApp::spawn().await;
    let plan_id = id_of(&app.create_plan(json!({})).await);
    let newest = feed(&app, "").await["newest_seq"].as_i64().expect("a seq");

    let query = format!("after={newest}&wait=10");
    let poll = async {
        let page = feed(&app, &query).await;
        (page, Instant::now())
    };
    let write = async {
        // Long enough for the poll to be waiting; short of its first recheck.
        actix_web::rt::time::sleep(Duration::from_millis(300)).await;
        // Before the write is sent, so at or before the commit.
        let sent = Instant::now();
        (app.create_area(&plan_id, "Publications").await, sent)
    };
    let ((page, answered), (area, sent)) = join(poll, write).await;

    let wake_up = answered.saturating_duration_since(sent);
    assert!(
        wake_up < WAKE_UP,
        "the long poll answered {wake_up:?} after the event's write was sent (at most {WAKE_UP:?})"
    );
    let first = &items(&page)[0];
    assert_eq!(seq(first), newest + 1);
    assert_eq!(first["resource_type"], "area");
    assert_eq!(first["resource_id"], area["id"]);
    assert_eq!(first["action"], "created");
}

#[actix_web::test]
async fn a_long_poll_without_news_answers_an_empty_page_at_its_deadline_even_past_the_request_timeout()
 {
    // Waiting for news is not waiting on the database: the request timeout does
    // not cut a long poll short.
    let app = TestApp::spawn_with(|config| config.request_timeout_seconds = 1).await;
    app.create_plan(json!({})).await;
    let newest = feed(&app, "").await["newest_seq"].as_i64().expect("a seq");
    let started = Instant::now();

    let page = feed(&app, &format!("after={newest}&wait=2")).await;

    let elapsed = started.elapsed();
    assert!(elapsed >= Duration::from_millis(1900), "took {elapsed:?}");
    assert!(elapsed < Duration::from_secs(5), "took {elapsed:?}");
    assert_eq!(items(&page).len(), 0);
    assert_eq!(page["next_after"], newest);
}

#[actix_web::test]
async fn deleting_a_plan_with_cascade_records_the_deletion_of_everything_in_it() {
    let app = TestApp::spawn().await;
    let (plan_id, area_id) = app.plan_with_area().await;
    let goal = id_of(&app.create_goal(&area_id, json!({})).await);
    let sub_goal = json!({ "title": "Survey members", "parent_goal_id": goal });
    let sub_goal = id_of(&app.create_goal(&area_id, sub_goal).await);
    let update = id_of(&status_update(&app, &goal, "on_track", "2024-03-31").await);
    let before = feed(&app, "").await["newest_seq"].clone();

    app.delete(&format!("/api/v1/plans/{plan_id}?cascade=true"))
        .await
        .expect(204);

    let page = feed(&app, &format!("plan_id={plan_id}&after={before}")).await;
    let deleted: BTreeSet<(String, String)> = summary(items(&page))
        .into_iter()
        .map(|(kind, id, action)| {
            assert_eq!(action, "deleted");
            (kind, id)
        })
        .collect();
    let expected = [
        ("plan", plan_id.clone()),
        ("area", area_id),
        ("goal", goal.clone()),
        ("goal", sub_goal),
        ("status_update", update),
    ];
    let expected = expected.map(|(kind, id)| (kind.to_owned(), id));
    assert_eq!(deleted, BTreeSet::from(expected));
    let history = app.get(&format!("/api/v1/plans/{plan_id}/history")).await;
    let history = history.expect(200);
    assert_eq!(items(&history)[0]["action"], "deleted");
    assert_eq!(items(&history)[0]["changes"]["id"]["new"], Value::Null);
    let goal_history = app.get(&format!("/api/v1/goals/{goal}/history")).await;
    assert_eq!(items(&goal_history.expect(200))[0]["action"], "deleted");
}

/// Every event is moved 40 days back, so the state before the later changes is
/// the state at the end of that day.
#[actix_web::test]
async fn a_document_as_of_an_earlier_day_is_the_document_as_it_was_then() {
    let app = TestApp::spawn().await;
    let (plan_id, area_id) = app.plan_with_area().await;
    let goal = id_of(
        &app.create_goal(&area_id, json!({ "title": "Engage" }))
            .await,
    );
    let sub_goal = json!({ "title": "Survey members", "parent_goal_id": goal });
    let sub_goal = id_of(&app.create_goal(&area_id, sub_goal).await);
    status_update(&app, &goal, "at_risk", "2024-01-31").await;
    let document_path = format!("/api/v1/plans/{plan_id}/document");
    let then = app.get(&document_path).await.expect(200);
    app_sql(
        &app,
        "UPDATE events SET occurred_at = occurred_at - interval '40 days'",
    )
    .await;

    let title = json!({ "title": "Engage every member", "revision_note": "Board, March" });
    app.patch(&format!("/api/v1/goals/{goal}"), title)
        .await
        .expect(200);
    status_update(&app, &goal, "on_track", "2024-03-31").await;
    app.delete(&format!("/api/v1/goals/{sub_goal}?cascade=true"))
        .await
        .expect(204);
    app.create_goal(&area_id, json!({ "title": "Offer courses" }))
        .await;

    let today = Utc::now().date_naive();
    let day = |days_ago: u64| today.checked_sub_days(Days::new(days_ago)).expect("a day");
    let as_of = |day| format!("{document_path}?as_of={day}");
    assert_eq!(app.get(&as_of(day(40))).await.expect(200), then);
    assert_ne!(app.get(&document_path).await.expect(200), then);
    let before_history = app.get(&as_of(day(41))).await.problem(404);
    assert_eq!(error_fields(&before_history), ["as_of"]);
    // Today, or a day that has begun somewhere east of UTC: the plan as it is.
    let now = app.get(&document_path).await.expect(200);
    assert_eq!(app.get(&as_of(today)).await.expect(200), now);
    let tomorrow = today.checked_add_days(Days::new(1)).expect("a day");
    assert_eq!(app.get(&as_of(tomorrow)).await.expect(200), now);
}

#[actix_web::test]
async fn lists_updated_since_a_time_show_only_what_changed_from_then() {
    let app = TestApp::spawn().await;
    let plan_id = id_of(&app.create_plan(json!({})).await);
    let first = app.create_area(&plan_id, "Member Engagement").await;
    let second = id_of(&app.create_area(&plan_id, "Publications").await);
    let areas = format!("/api/v1/plans/{plan_id}/areas");

    let rename = json!({ "title": "Journals" });
    let changed = app.patch(&format!("/api/v1/areas/{second}"), rename).await;
    let changed = changed.expect(200);

    let since = |at: &Value| at.as_str().expect("a timestamp").replace('+', "%2B");
    let since_change = format!("{areas}?updated_since={}", since(&changed["updated_at"]));
    let page = app.get(&since_change).await.expect(200);
    assert_eq!(items(&page).iter().map(id_of).collect::<Vec<_>>(), [second]);
    let since_first = format!("{areas}?updated_since={}", since(&first["updated_at"]));
    assert_eq!(items(&app.get(&since_first).await.expect(200)).len(), 2);
    let plans = format!(
        "/api/v1/plans?updated_since={}",
        since(&changed["updated_at"])
    );
    assert_eq!(items(&app.get(&plans).await.expect(200)).len(), 0);
    let malformed = app.get(&format!("{areas}?updated_since=yesterday")).await;
    assert_eq!(error_fields(&malformed.problem(400)), ["updated_since"]);
}

#[actix_web::test]
async fn a_bad_revision_note_is_refused_and_changes_nothing() {
    let app = TestApp::spawn().await;
    let (_, area_id) = app.plan_with_area().await;
    let goal = app
        .create_goal(&area_id, json!({ "title": "Engage" }))
        .await;
    let path = format!("/api/v1/goals/{}", id_of(&goal));
    let newest = feed(&app, "").await["newest_seq"].clone();
    for note in [json!(5), json!("n".repeat(1001)), json!(["a note"])] {
        let body = json!({ "title": "Renamed", "revision_note": note });
        let reply = app.patch(&path, body).await;
        assert_eq!(error_fields(&reply.problem(422)), ["revision_note"]);
    }

    assert_eq!(app.get(&path).await.expect(200)["title"], "Engage");
    assert_eq!(
        feed(&app, "").await["newest_seq"],
        newest,
        "no event was recorded"
    );
    let long_enough = json!({ "title": "Renamed", "revision_note": "n".repeat(1000) });
    assert_eq!(
        app.patch(&path, long_enough).await.expect(200)["title"],
        "Renamed"
    );
}

#[actix_web::test]
async fn changes_made_from_the_command_line_say_so() {
    let app = TestApp::spawn().await;
    let outline = std::env::temp_dir().join(format!("outline-{}.txt", app.database.name));
    std::fs::write(
        &outline,
        "Core Strategic Plan 2022-2025\n\nStrategic Area 1: Advocacy\n\n1. Speak up\n",
    )
    .expect("a temporary file");

    let output = std::process::Command::new(env!("CARGO_BIN_EXE_strategy-tracker"))
        .arg("import")
        .arg(&outline)
        .env("DATABASE_URL", app.database.url())
        .env("USER", "board-clerk")
        .env("RUST_LOG", "error")
        .output()
        .expect("the command runs");
    std::fs::remove_file(&outline).ok();

    assert!(output.status.success(), "{output:?}");
    let report: Value = serde_json::from_slice(&output.stdout).expect("a JSON report");
    let plan_id = report["plan_id"].as_str().expect("a plan id");
    let history = app
        .get(&format!("/api/v1/plans/{plan_id}/history"))
        .await
        .expect(200);
    assert_eq!(items(&history)[0]["actor"], "command line (board-clerk)");
}

#[actix_web::test]
async fn a_transaction_left_open_never_puts_an_event_behind_a_followers_position() {
    let app = TestApp::spawn().await;
    let (_, area_id) = app.plan_with_area().await;
    let slow_goal = id_of(&app.create_goal(&area_id, json!({ "title": "Slow" })).await);
    let start = feed(&app, "").await["newest_seq"].as_i64().expect("a seq");

    // A transaction changes a goal and stays open while the API writes others.
    let mut open = connect(&app).await;
    diesel::sql_query("BEGIN")
        .execute(&mut open)
        .await
        .expect("BEGIN");
    diesel::sql_query(format!(
        "UPDATE goals SET title = 'Slow, changed' WHERE id = '{slow_goal}'"
    ))
    .execute(&mut open)
    .await
    .expect("the open transaction's update");
    for n in 0..3 {
        app.create_goal(&area_id, json!({ "title": format!("Fast {n}") }))
            .await;
    }
    let seen = feed(&app, &format!("after={start}")).await;
    let position = seen["next_after"].as_i64().expect("a next_after");
    assert_eq!(
        items(&seen).len() as i64,
        position - start,
        "the writes that committed are in the feed, without waiting for the open one"
    );
    diesel::sql_query("COMMIT")
        .execute(&mut open)
        .await
        .expect("COMMIT");

    let after = feed(&app, &format!("after={position}")).await;
    let late: Vec<_> = items(&after)
        .iter()
        .map(|e| (seq(e), e["resource_id"].clone()))
        .collect();
    assert_eq!(
        late,
        vec![(position + 1, json!(slow_goal))],
        "the open transaction's change comes after the follower's position"
    );
    // Read again from the start: the same events, in the same order, as followed.
    let again = feed(&app, &format!("after={start}")).await;
    let followed: Vec<_> = items(&seen).iter().chain(items(&after)).cloned().collect();
    assert_eq!(items(&again), &followed);
}

#[actix_web::test]
async fn changes_to_one_goal_through_two_instances_are_in_the_feed_in_the_order_they_committed() {
    let app = TestApp::spawn().await;
    let (second, _server) = app.second_instance();
    let (_, area_id) = app.plan_with_area().await;
    let goal_id = id_of(&app.create_goal(&area_id, json!({ "title": "Raced" })).await);
    let path = format!("/api/v1/goals/{goal_id}");
    let client = crate::common::client();
    let writes = (0..20).map(|n| {
        let address = if n % 2 == 0 { &app.address } else { &second };
        let body = json!({ "title": format!("Title {n}") });
        crate::common::send_with(&client, address, Method::PATCH, &path, &[], Some(body))
    });
    for reply in join_all(writes).await {
        reply.expect(200);
    }
    // And ten more from another process, committed before any pass numbers them.
    for n in 20..30 {
        let sql = format!("UPDATE goals SET title = 'Title {n}' WHERE id = '{goal_id}'");
        app_sql(&app, &sql).await;
    }

    let history = app
        .get(&format!("{path}/history?limit=100"))
        .await
        .expect(200);
    let mut titles: Vec<(Value, Value)> = items(&history)
        .iter()
        .filter(|e| e["action"] == "updated")
        .map(|e| {
            (
                e["changes"]["title"]["old"].clone(),
                e["changes"]["title"]["new"].clone(),
            )
        })
        .collect();
    titles.reverse();
    assert_eq!(titles.len(), 30);
    // Each change starts from the title the one before it left: numbered in the
    // order the writers, queued on the goal's lock, committed.
    assert_eq!(titles[0].0, "Raced");
    for pair in titles.windows(2) {
        assert_eq!(
            pair[1].0, pair[0].1,
            "a change numbered out of commit order"
        );
    }
    let now = app.get(&path).await.expect(200);
    assert_eq!(now["title"], titles[29].1);
    assert_eq!(now["title"], "Title 29");
}
