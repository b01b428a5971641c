use actix_web::http::Method;
use serde_json::{Value, json};

use crate::common::{TestApp, error_fields, error_message, id_of};
use crate::helpers::{app_with_goal, update_path, updates_path};

/// Posts an update with this status, progress and `as_of` date; returns it.
async fn post(app: &TestApp, goal_id: &str, status: &str, progress: Value, as_of: &str) -> Value {
    let body = json!({ "status": status, "progress_percent": progress, "as_of": as_of });
    app.post(&updates_path(goal_id), body).await.created()
}

/// An older update (at_risk, 10 %, January) and then the latest (on_track, 40 %, March).
async fn older_and_latest(app: &TestApp, goal_id: &str) -> (Value, Value) {
    let older = post(app, goal_id, "at_risk", json!(10), "2024-01-31").await;
    let latest = post(app, goal_id, "on_track", json!(40), "2024-03-31").await;
    (older, latest)
}

/// Checks the goal's `status` and `progress_percent` as GET /api/v1/goals/{id} shows them.
async fn assert_goal(app: &TestApp, goal_id: &str, status: &str, progress: Value) {
    let path = format!("/api/v1/goals/{goal_id}");
    let goal = app.get(&path).await.expect(200);
    let shown = (&goal["status"], &goal["progress_percent"]);
    assert_eq!(shown, (&json!(status), &progress), "the goal's state");
}

/// Posts these updates (status, progress, as_of) to a new goal in this order, then
/// checks the goal's status and progress.
async fn assert_goal_after(posted: &[(&str, Value, &str)], status: &str, progress: Value) {
    let (app, goal_id) = app_with_goal().await;
    for (update_status, update_progress, as_of) in posted {
        let progress = update_progress.clone();
        post(&app, &goal_id, update_status, progress, as_of).await;
    }
    assert_goal(&app, &goal_id, status, progress).await;
}

/// The `as_of` dates of a list page, in order.
fn dates(page: &Value) -> Vec<String> {
    let items = page["items"].as_array().expect("an items array");
    let as_of = |item: &Value| item["as_of"].as_str().expect("an as_of").to_owned();
    items.iter().map(as_of).collect()
}

/// POSTs `body` to the goal and expects a 422 naming `field`; returns the problem.
async fn refused(app: &TestApp, goal_id: &str, body: Value, field: &str) -> Value {
    let problem = app.post(&updates_path(goal_id), body).await.problem(422);
    let fields = error_fields(&problem);
    assert!(fields.iter().any(|f| f == field), "{field} in {problem}");
    problem
}

#[actix_web::test]
async fn a_status_update_is_recorded_and_read_back() {
    let (app, goal_id) = app_with_goal().await;
    let body = json!({ "status": "on_track", "progress_percent": 40,
        "note": "Four of six webinars booked.", "author": "Core staff", "as_of": "2024-03-31" });

    let reply = app.post(&updates_path(&goal_id), body.clone()).await;
    let location = reply.header("location").expect("a Location header");
    let update = reply.created();

    for field in ["status", "progress_percent", "note", "author", "as_of"] {
        assert_eq!(update[field], body[field], "{field} echoed");
    }
    assert_eq!(update["goal_id"], goal_id.as_str());
    assert_eq!(location, update_path(&update));
    assert_eq!(app.get(&location).await.expect(200), update);
}

#[actix_web::test]
async fn as_of_defaults_to_today_in_utc() {
    let (app, goal_id) = app_with_goal().await;

    let body = json!({ "status": "at_risk" });
    let update = app.post(&updates_path(&goal_id), body).await.created();

    let today = chrono::Utc::now().date_naive().to_string();
    assert_eq!(update["as_of"], today.as_str());
    assert_eq!(update["progress_percent"], Value::Null);
    assert_goal(&app, &goal_id, "at_risk", Value::Null).await;
}

#[actix_web::test]
async fn a_goal_without_updates_has_not_started() {
    assert_goal_after(&[], "not_started", Value::Null).await;
}

#[actix_web::test]
async fn an_older_update_posted_later_does_not_change_the_goal() {
    let newer = ("on_track", json!(40), "2024-03-31");
    let older = ("at_risk", json!(10), "2024-01-31");
    assert_goal_after(&[newer, older], "on_track", json!(40)).await;
}

#[actix_web::test]
async fn of_two_updates_as_of_the_same_day_the_later_recorded_counts() {
    let first = ("at_risk", json!(10), "2024-03-31");
    let second = ("on_track", json!(20), "2024-03-31");
    assert_goal_after(&[first, second], "on_track", json!(20)).await;
}

#[actix_web::test]
async fn a_latest_update_without_progress_leaves_the_goal_without_progress() {
    let older = ("on_track", json!(40), "2024-01-31");
    let latest = ("on_hold", Value::Null, "2024-03-31");
    assert_goal_after(&[older, latest], "on_hold", Value::Null).await;
}

#[actix_web::test]
async fn editing_the_latest_update_changes_the_goal_and_editing_an_older_one_does_not() {
    let (app, goal_id) = app_with_goal().await;
    let (older, latest) = older_and_latest(&app, &goal_id).await;

    let body = json!({ "status": "completed", "progress_percent": 100 });
    let edited = app.patch(&update_path(&latest), body).await.expect(200);
    let body = json!({ "status": "off_track", "progress_percent": 5 });
    app.patch(&update_path(&older), body).await.expect(200);

    assert_eq!(edited["status"], "completed");
    assert_eq!(edited["progress_percent"], 100);
    assert_eq!(edited["as_of"], "2024-03-31", "an absent field is kept");
    assert_goal(&app, &goal_id, "completed", json!(100)).await;
}

#[actix_web::test]
async fn moving_an_older_update_past_the_latest_makes_it_the_goal_status() {
    let (app, goal_id) = app_with_goal().await;
    let (older, _) = older_and_latest(&app, &goal_id).await;

    let body = json!({ "as_of": "2024-06-30" });
    app.patch(&update_path(&older), body).await.expect(200);

    assert_goal(&app, &goal_id, "at_risk", json!(10)).await;
}

#[actix_web::test]
async fn deleting_updates_falls_back_to_the_previous_one_then_to_not_started() {
    let (app, goal_id) = app_with_goal().await;
    let (older, latest) = older_and_latest(&app, &goal_id).await;

    app.delete(&update_path(&latest)).await.expect(204);
    assert_goal(&app, &goal_id, "at_risk", json!(10)).await;
    app.delete(&update_path(&older)).await.expect(204);

    assert_goal(&app, &goal_id, "not_started", Value::Null).await;
    app.get(&update_path(&latest)).await.problem(404);
}

#[actix_web::test]
async fn updates_list_newest_first_and_filter_by_as_of_inclusively() {
    let (app, goal_id) = app_with_goal().await;
    for as_of in ["2024-02-29", "2024-04-30", "2024-01-31", "2024-03-31"] {
        post(&app, &goal_id, "on_track", Value::Null, as_of).await;
    }
    let path = updates_path(&goal_id);

    let all = app.get(&path).await.expect(200);
    let query = "as_of_from=2024-02-29&as_of_to=2024-03-31";
    let between = app.get(&format!("{path}?{query}")).await.expect(200);
    let from = format!("{path}?as_of_from=2024-03-31");
    let from = app.get(&from).await.expect(200);

    let newest_first = ["2024-04-30", "2024-03-31", "2024-02-29", "2024-01-31"];
    assert_eq!(dates(&all), newest_first);
    assert_eq!(dates(&between), ["2024-03-31", "2024-02-29"]);
    assert_eq!(dates(&from), ["2024-04-30", "2024-03-31"]);
}

#[actix_web::test]
async fn bad_date_filters_are_bad_requests_naming_the_parameter() {
    let (app, goal_id) = app_with_goal().await;
    let path = updates_path(&goal_id);

    let not_a_date = app.get(&format!("{path}?as_of_from=2024-13-01")).await;
    let not_a_day = app.get(&format!("{path}?as_of_to=2024-02-30")).await;

    assert_eq!(error_fields(&not_a_date.problem(400)), ["as_of_from"]);
    assert_eq!(error_fields(&not_a_day.problem(400)), ["as_of_to"]);
}

#[actix_web::test]
async fn a_reversed_date_range_matches_nothing() {
    let (app, goal_id) = app_with_goal().await;
    older_and_latest(&app, &goal_id).await;

    let query = "as_of_from=2024-03-31&as_of_to=2024-01-31";
    let page = app
        .get(&format!("{}?{query}", updates_path(&goal_id)))
        .await;

    assert_eq!(page.expect(200)["items"], json!([]));
}

#[actix_web::test]
async fn paging_through_updates_visits_each_once_newest_first() {
    let (app, goal_id) = app_with_goal().await;
    let as_of = ["04-30", "03-31", "02-29", "02-29", "01-31"].map(|d| format!("2024-{d}"));
    for date in as_of.iter().rev() {
        post(&app, &goal_id, "on_track", Value::Null, date).await;
    }

    let (mut seen, mut ids, mut links) = (Vec::new(), Vec::new(), Vec::new());
    let mut query = "limit=2".to_owned();
    let path = updates_path(&goal_id);
    while links.len() < as_of.len() {
        let reply = app.get(&format!("{path}?{query}")).await;
        links.push(reply.header("link").is_some());
        let page = reply.expect(200);
        seen.extend(dates(&page));
        ids.extend(page["items"].as_array().expect("items").iter().map(id_of));
        let Some(cursor) = page["next_cursor"].as_str() else {
            break;
        };
        query = format!("limit=2&cursor={cursor}");
    }

    assert_eq!(links, [true, true, false], "Link only while pages follow");
    assert_eq!(seen, as_of);
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), as_of.len(), "every update once");
}

#[actix_web::test]
async fn an_unknown_goal_or_update_is_not_found() {
    let (app, _) = app_with_goal().await;
    let unknown = "0193a3c4-5b6e-7f00-8a1b-2c3d4e5f6a7b";
    let body = json!({ "status": "on_track" });
    let path = format!("/api/v1/status-updates/{unknown}");

    let updates = updates_path(unknown);
    app.get(&updates).await.problem(404);
    app.post(&updates, body.clone()).await.problem(404);
    app.get(&path).await.problem(404);
    app.patch(&path, body).await.problem(404);
    app.delete(&path).await.problem(404);
}

#[actix_web::test]
async fn status_is_required_and_must_be_a_goal_status() {
    let (app, goal_id) = app_with_goal().await;

    refused(&app, &goal_id, json!({ "progress_percent": 10 }), "status").await;
    let problem = refused(&app, &goal_id, json!({ "status": "done" }), "status").await;

    let message = error_message(&problem, "status");
    let allowed = "not_started on_track at_risk off_track on_hold completed discontinued";
    for value in allowed.split(' ') {
        assert!(message.contains(value), "{value} listed in {message:?}");
    }
}

#[actix_web::test]
async fn progress_percent_must_be_a_whole_number_from_0_to_100() {
    let (app, goal_id) = app_with_goal().await;

    for progress in [json!(-1), json!(101), json!(50.5), json!("50")] {
        let body = json!({ "status": "on_track", "progress_percent": progress });
        refused(&app, &goal_id, body, "progress_percent").await;
    }
    let page = app.get(&updates_path(&goal_id)).await.expect(200);
    let lowest = post(&app, &goal_id, "on_track", json!(0), "2024-01-31").await;
    let highest = post(&app, &goal_id, "completed", json!(100), "2024-02-29").await;

    assert_eq!(page["items"], json!([]), "nothing was recorded");
    assert_eq!(lowest["progress_percent"], 0);
    assert_eq!(highest["progress_percent"], 100);
}

#[actix_web::test]
async fn as_of_must_be_a_real_date() {
    let (app, goal_id) = app_with_goal().await;
    let (_, latest) = older_and_latest(&app, &goal_id).await;

    for as_of in ["31/03/2024", "2024-02-30", "2024-3-31"] {
        let body = json!({ "status": "on_track", "as_of": as_of });
        refused(&app, &goal_id, body, "as_of").await;
    }
    let body = json!({ "as_of": null });
    let problem = app.patch(&update_path(&latest), body).await.problem(422);

    assert_eq!(error_fields(&problem), ["as_of"]);
    assert_eq!(app.get(&update_path(&latest)).await.expect(200), latest);
}

#[actix_web::test]
async fn goal_id_and_overlong_notes_are_refused() {
    let (app, goal_id) = app_with_goal().await;
    let note = "n".repeat(10_001);

    let with_goal_id = json!({ "status": "on_track", "goal_id": goal_id });
    refused(&app, &goal_id, with_goal_id, "goal_id").await;
    let with_long_note = json!({ "status": "on_track", "note": note });
    refused(&app, &goal_id, with_long_note, "note").await;

    assert_goal(&app, &goal_id, "not_started", Value::Null).await;
}

#[actix_web::test]
async fn every_bad_field_is_reported_at_once() {
    let (app, goal_id) = app_with_goal().await;
    let body = json!({ "status": "done", "progress_percent": 101, "as_of": "soon", "colour": 1 });

    let problem = app.post(&updates_path(&goal_id), body).await.problem(422);

    let mut fields = error_fields(&problem);
    fields.sort();
    assert_eq!(fields, ["as_of", "colour", "progress_percent", "status"]);
}

#[actix_web::test]
async fn malformed_json_is_a_bad_request_and_a_non_json_body_is_unsupported() {
    let (app, goal_id) = app_with_goal().await;
    let path = updates_path(&goal_id);
    let (typed, body) = (Some("application/json"), br#"{"status":"on_track"}"#);
    let cut = body[..20].to_vec();

    let malformed = app.raw(Method::POST, &path, typed, cut).await;
    let untyped = app.raw(Method::POST, &path, None, body.to_vec()).await;
    let plain = Some("text/plain");
    let text = app.raw(Method::POST, &path, plain, body.to_vec()).await;

    malformed.problem(400);
    untyped.problem(415);
    text.problem(415);
    assert_eq!(app.get(&path).await.expect(200)["items"], json!([]));
}

#[actix_web::test]
async fn a_goal_with_status_updates_is_deleted_only_with_cascade() {
    let (app, goal_id) = app_with_goal().await;
    let (_, latest) = older_and_latest(&app, &goal_id).await;
    let goal_path = format!("/api/v1/goals/{goal_id}");

    app.delete(&goal_path).await.problem(409);
    let kept = app.get(&update_path(&latest)).await.expect(200);
    let cascade = format!("{goal_path}?cascade=true");
    app.delete(&cascade).await.expect(204);

    assert_eq!(kept, latest);
    app.get(&goal_path).await.problem(404);
    app.get(&update_path(&latest)).await.problem(404);
}
