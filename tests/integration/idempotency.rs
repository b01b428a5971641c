//! Idempotent retries: a POST with an `Idempotency-Key` does its work once.

use actix_web::http::Method;
use diesel::{Connection, RunQueryDsl};
use serde_json::{Value, json};
use strategy_tracker::db::SetupConnection;

use crate::common::{TestApp, error_fields, id_of};
use crate::helpers::app_sql;

fn plan_body(title: &str) -> Value {
    json!({"title": title, "period_start": "2022-09-01", "period_end": "2025-08-31"})
}

async fn post_plan(app: &TestApp, key: &str, body: Value) -> crate::common::Reply {
    app.send_with(
        Method::POST,
        "/api/v1/plans",
        &[("Idempotency-Key", key)],
        Some(body),
    )
    .await
}

async fn plan_count(app: &TestApp) -> usize {
    let plans = app.get("/api/v1/plans").await.expect(200);
    plans["items"].as_array().expect("items").len()
}

#[actix_web::test]
async fn a_retried_post_creates_one_resource_and_answers_as_the_first_time() {
    let app = TestApp::spawn().await;
    let key = "0193a3c4-0000-7000-8000-000000000001";

    let first = post_plan(&app, key, plan_body("Core Strategic Plan")).await;
    let retry = post_plan(&app, key, plan_body("Core Strategic Plan")).await;

    assert_eq!(first.status, 201);
    assert_eq!(retry.status, 201);
    assert_eq!(retry.body, first.body, "the same body, byte for byte");
    for header in ["location", "etag", "content-type"] {
        assert_eq!(retry.header(header), first.header(header), "{header}");
    }
    assert_eq!(retry.header("idempotent-replayed").as_deref(), Some("true"));
    assert_eq!(first.header("idempotent-replayed"), None);
    assert_eq!(plan_count(&app).await, 1);
}

#[actix_web::test]
async fn the_same_key_with_another_request_is_refused() {
    let app = TestApp::spawn().await;
    post_plan(&app, "key-1", plan_body("First")).await.created();

    let reply = post_plan(&app, "key-1", plan_body("Second")).await;
    let problem = reply.problem(422);
    assert_eq!(error_fields(&problem), ["Idempotency-Key"]);
    let plan = app.create_plan(json!({})).await;
    let area = app
        .send_with(
            Method::POST,
            &format!("/api/v1/plans/{}/areas", id_of(&plan)),
            &[("Idempotency-Key", "key-1")],
            Some(json!({"title": "Advocacy"})),
        )
        .await;
    area.problem(422);
    assert_eq!(plan_count(&app).await, 2);
}

#[actix_web::test]
async fn a_retry_while_the_first_is_running_is_told_to_wait() {
    let app = TestApp::spawn().await;
    let url = app.database.url();
    // Another instance is answering this key: it holds the key's lock.
    let (release, released) = std::sync::mpsc::channel::<()>();
    let (taken, lock_taken) = std::sync::mpsc::channel::<()>();
    let token_id = crate::common::test_token_id();
    let holder = std::thread::spawn(move || {
        let mut conn = SetupConnection::establish(&url).expect("a connection");
        // The lock the service takes for the test token's key.
        let lock = format!("1768187245, hashtext('{token_id}' || 'slow-key')");
        diesel::sql_query(format!("SELECT pg_advisory_lock({lock})"))
            .execute(&mut conn)
            .expect("the lock is free");
        taken.send(()).expect("the test waits");
        // Until the test is done with it. Released explicitly: a closed connection's
        // locks go only when the server notices, which may be after the retry.
        released.recv().ok();
        diesel::sql_query(format!("SELECT pg_advisory_unlock({lock})"))
            .execute(&mut conn)
            .expect("the lock is held");
    });
    lock_taken.recv().expect("the lock is taken");

    let reply = post_plan(&app, "slow-key", plan_body("Core")).await;
    assert_eq!(reply.header("retry-after").as_deref(), Some("1"));
    reply.problem(409);
    assert_eq!(plan_count(&app).await, 0);

    drop(release);
    holder.join().expect("the holder ends");
    post_plan(&app, "slow-key", plan_body("Core"))
        .await
        .created();
}

#[actix_web::test]
async fn a_request_that_failed_records_nothing_and_may_be_retried_fixed() {
    let app = TestApp::spawn().await;
    let refused = post_plan(&app, "fix-me", json!({"title": "No dates"})).await;
    refused.problem(422);

    let fixed = post_plan(&app, "fix-me", plan_body("With dates")).await;
    assert_eq!(fixed.created()["title"], "With dates");
}

#[actix_web::test]
async fn keys_expire_after_a_day_and_are_cleared_out() {
    let app = TestApp::spawn().await;
    let first = post_plan(&app, "old-key", plan_body("Core"))
        .await
        .created();
    post_plan(&app, "other-key", plan_body("Other"))
        .await
        .created();
    app_sql(
        &app,
        "UPDATE idempotency_keys SET created_at = now() - interval '25 hours'",
    )
    .await;

    let again = post_plan(&app, "old-key", plan_body("Core")).await;
    assert_eq!(again.header("idempotent-replayed"), None);
    assert_ne!(id_of(&again.created()), id_of(&first), "a new plan");
    assert_eq!(plan_count(&app).await, 3);
    // The expired key of the other request was cleared out on the way.
    let reused = post_plan(&app, "other-key", plan_body("Not the same body")).await;
    reused.created();
}

#[actix_web::test]
async fn imports_are_idempotent_too() {
    let app = TestApp::spawn().await;
    let outline = "Core Strategic Plan 2022-2025\n\nStrategic Area 1: Advocacy\n\n1. Speak up\n";
    let import = async || {
        let client = crate::common::client();
        let request = client
            .post(format!("{}/api/v1/plans/import", app.address))
            .insert_header(("Idempotency-Key", "import-1"))
            .insert_header(("Content-Type", "text/plain"));
        let mut response = request.send_body(outline).await.expect("an answer");
        let body = response.body().await.expect("a body");
        (response.status().as_u16(), body)
    };
    let (first_status, first_body) = import().await;
    let (second_status, second_body) = import().await;
    assert_eq!((first_status, second_status), (201, 201));
    assert_eq!(first_body, second_body);
    assert_eq!(plan_count(&app).await, 1);
}

#[actix_web::test]
async fn malformed_keys_are_refused() {
    let app = TestApp::spawn().await;
    let long = "k".repeat(256);
    // The document allows printable ASCII only: a tab is a control character.
    for key in ["", "   ", long.as_str(), "a\tb"] {
        let reply = post_plan(&app, key, plan_body("Core")).await;
        assert_eq!(
            error_fields(&reply.problem(400)),
            ["Idempotency-Key"],
            "{key:?}"
        );
    }
    assert_eq!(plan_count(&app).await, 0);
}
