//! Whole plans as documents: export, import (JSON and outline) and their round trip.

use actix_web::http::Method;
use serde_json::{Value, json};
use strategy_tracker::models::document::{self, EXPORT_QUERIES, UpdatesInDocument};
use strategy_tracker::models::event::{self, snapshot};
use uuid::Uuid;

use crate::common::{Reply, TestApp, error_fields, id_of};

const CORE_OUTLINE: &str = include_str!("../../examples/core-strategic-plan-2022-2025.txt");

async fn import(app: &TestApp, query: &str, content_type: &str, body: Vec<u8>) -> Reply {
    app.raw(
        Method::POST,
        &format!("/api/v1/plans/import{query}"),
        Some(content_type),
        body,
    )
    .await
}

async fn import_document(app: &TestApp, document: &Value) -> Reply {
    import(
        app,
        "",
        "application/json",
        document.to_string().into_bytes(),
    )
    .await
}

async fn document(app: &TestApp, plan_id: &str, query: &str) -> Value {
    app.get(&format!("/api/v1/plans/{plan_id}/document{query}"))
        .await
        .expect(200)
}

/// A plan with two areas, goals, a sub-goal and status updates, made through the API.
async fn sample_plan(app: &TestApp) -> String {
    let plan_id = id_of(&app.create_plan(json!({"status": "active"})).await);
    let first = id_of(&app.create_area(&plan_id, "Member Engagement").await);
    let second = id_of(&app.create_area(&plan_id, "Career Building").await);
    let goal = app
        .create_goal(&first, json!({"title": "Engage members", "owner": "Board"}))
        .await;
    let sub_goal = app
        .create_goal(
            &first,
            json!({"title": "Survey members", "parent_goal_id": goal["id"]}),
        )
        .await;
    app.create_goal(&second, json!({"title": "Offer courses", "code": "C"}))
        .await;
    for (status, as_of) in [("on_track", "2024-01-31"), ("completed", "2024-03-31")] {
        app.post(
            &format!("/api/v1/goals/{}/status-updates", id_of(&sub_goal)),
            json!({"status": status, "as_of": as_of, "progress_percent": 100}),
        )
        .await
        .created();
    }
    plan_id
}

/// The document without what the server sets (ids, timestamps), to compare two plans.
fn without_server_fields(mut value: Value) -> Value {
    match &mut value {
        Value::Object(object) => {
            for key in [
                "id",
                "plan_id",
                "area_id",
                "goal_id",
                "parent_goal_id",
                "created_at",
                "updated_at",
                "feed_position",
            ] {
                object.remove(key);
            }
            for child in object.values_mut() {
                *child = without_server_fields(child.take());
            }
        }
        Value::Array(items) => {
            for item in items.iter_mut() {
                *item = without_server_fields(item.take());
            }
        }
        _ => {}
    }
    value
}

#[actix_web::test]
async fn the_document_nests_areas_goals_sub_goals_and_updates_in_order() {
    let app = TestApp::spawn().await;
    let plan_id = sample_plan(&app).await;

    let all = document(&app, &plan_id, "").await;
    let latest = document(&app, &plan_id, "?updates=latest").await;
    let none = document(&app, &plan_id, "?updates=none").await;

    let areas = all["areas"].as_array().expect("areas");
    assert_eq!(
        areas.iter().map(|a| a["title"].clone()).collect::<Vec<_>>(),
        ["Member Engagement", "Career Building"]
    );
    let goal = &areas[0]["goals"][0];
    assert_eq!(
        (goal["code"].as_str(), goal["owner"].as_str()),
        (Some("1"), Some("Board"))
    );
    let sub_goal = &goal["sub_goals"][0];
    assert_eq!(sub_goal["code"], "1.1");
    assert_eq!(sub_goal["status"], "completed");
    let dates: Vec<&Value> = sub_goal["status_updates"]
        .as_array()
        .expect("updates")
        .iter()
        .map(|u| &u["as_of"])
        .collect();
    assert_eq!(dates, ["2024-03-31", "2024-01-31"], "newest first");
    assert_eq!(
        latest["areas"][0]["goals"][0]["sub_goals"][0]["status_updates"]
            .as_array()
            .map(Vec::len),
        Some(1)
    );
    assert_eq!(
        none["areas"][0]["goals"][0]["sub_goals"][0]["status_updates"],
        json!([])
    );
    assert_eq!(all["areas"][1]["goals"][0]["code"], "C");
    assert_eq!(all["title"], "Core Strategic Plan 2022-2025");
}

#[actix_web::test]
async fn the_document_of_an_unknown_plan_is_a_404_and_a_bad_updates_value_a_400() {
    let app = TestApp::spawn().await;
    let plan_id = sample_plan(&app).await;

    app.get("/api/v1/plans/0193a3c4-5b6e-7f00-8a1b-2c3d4e5f6a7b/document")
        .await
        .problem(404);
    let problem = app
        .get(&format!("/api/v1/plans/{plan_id}/document?updates=some"))
        .await
        .problem(400);

    assert_eq!(error_fields(&problem), ["updates"]);
}

#[actix_web::test]
async fn an_exported_plan_imports_as_the_same_document() {
    let app = TestApp::spawn().await;
    let plan_id = sample_plan(&app).await;
    let exported = document(&app, &plan_id, "").await;

    let reply = import_document(&app, &exported).await;
    let location = reply.header("location").expect("a Location header");
    let report = reply.expect(201);
    let copy_id = report["plan_id"].as_str().expect("the new plan's id");

    assert_eq!(location, format!("/api/v1/plans/{copy_id}"));
    assert_eq!(
        report["created"],
        json!({"areas": 2, "goals": 3, "status_updates": 2})
    );
    let copy = document(&app, copy_id, "").await;
    assert_eq!(without_server_fields(copy), without_server_fields(exported));
}

#[actix_web::test]
async fn a_dry_run_reports_what_it_would_create_and_writes_nothing() {
    let app = TestApp::spawn().await;
    let plan_id = sample_plan(&app).await;
    let exported = document(&app, &plan_id, "").await;

    let body = exported.to_string().into_bytes();
    let report = import(&app, "?dry_run=true", "application/json", body)
        .await
        .expect(200);

    assert_eq!(
        (report["dry_run"].as_bool(), report["plan_id"].as_str()),
        (Some(true), None)
    );
    assert_eq!(report["created"]["goals"], 3);
    let plans = app.get("/api/v1/plans").await.expect(200);
    assert_eq!(plans["items"].as_array().map(Vec::len), Some(1));
}

#[actix_web::test]
async fn every_problem_of_a_document_is_named_by_its_pointer_and_nothing_is_written() {
    let app = TestApp::spawn().await;
    let document = json!({
        "title": "Plan",
        "period_start": "2024-01-01",
        "period_end": "2026-12-31",
        "areas": [
            {"title": "One", "goals": [
                {"title": "A", "code": "X"},
                {"title": "", "sub_goals": [{"title": "B", "position": 2}]},
                {"title": "C", "code": "X", "status_updates": [{"status": "done"}]},
                {"title": "D", "sub_goals": null}
            ]},
            {"titel": "Two", "goals": "none"}
        ]
    });

    let problem = import_document(&app, &document).await.problem(422);

    let mut fields = error_fields(&problem);
    fields.sort();
    assert_eq!(
        fields,
        [
            "/areas/0/goals/1/sub_goals/0/position",
            "/areas/0/goals/1/title",
            "/areas/0/goals/2/code",
            "/areas/0/goals/2/status_updates/0/status",
            "/areas/0/goals/3/sub_goals",
            "/areas/1/goals",
            "/areas/1/titel",
            "/areas/1/title",
        ]
    );
    assert_eq!(
        app.get("/api/v1/plans").await.expect(200)["items"],
        json!([])
    );
}

#[actix_web::test]
async fn a_document_nested_deeper_than_eight_levels_is_refused() {
    let app = TestApp::spawn().await;
    let mut goal = json!({"title": "level 9"});
    for level in (1..=8).rev() {
        goal = json!({"title": format!("level {level}"), "sub_goals": [goal]});
    }
    let document = json!({"title": "Deep", "period_start": "2024-01-01", "period_end": "2024-12-31",
                          "areas": [{"title": "Area", "goals": [goal]}]});

    let problem = import_document(&app, &document).await.problem(422);

    let field = &error_fields(&problem)[0];
    assert!(field.ends_with("/sub_goals"), "{problem}");
    assert!(field.matches("sub_goals").count() == 8, "{field}");
}

#[actix_web::test]
async fn the_core_outline_imports_with_its_goals_completions_and_revisions() {
    let app = TestApp::spawn().await;

    let reply = import(&app, "", "text/markdown", CORE_OUTLINE.as_bytes().to_vec()).await;
    let report = reply.expect(201);
    let plan_id = report["plan_id"].as_str().expect("a plan id");
    let plan = document(&app, plan_id, "").await;

    assert_eq!(plan["approved_by"], "Core Board of Directors");
    assert_eq!(plan["approved_on"], "2024-04-18");
    let first_area = &plan["areas"][0];
    let codes: Vec<&Value> = first_area["goals"]
        .as_array()
        .expect("goals")
        .iter()
        .map(|g| &g["code"])
        .collect();
    assert_eq!(codes, ["1", "2", "3"]);
    assert_eq!(
        first_area["goals"][0]["sub_goals"].as_array().map(Vec::len),
        Some(3)
    );
    let revised = &first_area["goals"][1]["sub_goals"][1];
    assert_eq!(revised["code"], "2.2");
    assert_eq!(revised["status_updates"][0]["as_of"], "2024-03-01");
    assert!(
        revised["status_updates"][0]["note"]
            .as_str()
            .is_some_and(|n| n.contains("March 2024"))
    );
    assert_eq!(
        first_area["goals"][2]["sub_goals"][2]["start_date"],
        "2023-01-01"
    );
    let career = &plan["areas"][1];
    assert_eq!(career["title"], "Career Building and Recognition");
    let completed: Vec<(&Value, &Value)> = career["goals"][0]["sub_goals"]
        .as_array()
        .expect("sub-goals")
        .iter()
        .map(|g| (&g["code"], &g["status"]))
        .collect();
    assert_eq!(
        completed,
        [
            (&json!("2.2"), &json!("completed")),
            (&json!("2.3"), &json!("completed"))
        ]
    );
}

#[actix_web::test]
async fn an_outline_dry_run_shows_the_parse_and_an_outline_without_structure_is_refused() {
    let app = TestApp::spawn().await;

    let preview = import(
        &app,
        "?dry_run=true",
        "text/plain",
        CORE_OUTLINE.as_bytes().to_vec(),
    )
    .await
    .expect(200);
    let nothing = import(
        &app,
        "",
        "text/plain",
        b"Just a note to the board.".to_vec(),
    )
    .await
    .problem(422);

    assert_eq!(
        preview["document"]["areas"][1]["title"],
        "Career Building and Recognition"
    );
    assert!(
        preview["notes"]
            .as_array()
            .is_some_and(|notes| !notes.is_empty())
    );
    assert!(!crate::common::detail(&nothing).is_empty());
    assert_eq!(
        app.get("/api/v1/plans").await.expect(200)["items"],
        json!([])
    );
}

#[actix_web::test]
async fn an_import_in_another_format_is_a_415_and_an_oversized_one_a_413() {
    let app = TestApp::spawn().await;

    let problem = import(&app, "", "application/pdf", b"%PDF".to_vec())
        .await
        .problem(415);
    let oversized = import(&app, "", "text/plain", vec![b'x'; 70 * 1024]).await;

    assert!(crate::common::detail(&problem).contains("text/markdown"));
    oversized.problem(413);
}

/// Exports `plan_id` on a connection that counts its queries.
async fn queries_to_export(database_url: &str, plan_id: Uuid, updates: UpdatesInDocument) -> usize {
    let (mut conn, queries) = crate::common::counting_connection(database_url).await;
    // What the import queued is numbered first, as the sequencer soon would.
    event::sequence(&mut conn).await.expect("a pass");
    let before = queries.get();
    document::export(&mut conn, plan_id, updates)
        .await
        .expect("the plan exports");
    queries.get() - before - snapshot::STATEMENTS
}

/// A document of `areas` areas, each with `goals` goals that have a sub-goal and
/// `updates` status updates.
fn generated_document(areas: usize, goals: usize, updates: usize) -> Value {
    let update =
        |n: usize| json!({"status": "on_track", "as_of": format!("2024-01-{:02}", n % 28 + 1)});
    let goal = |n: usize| {
        json!({"title": format!("Goal {n}"),
               "status_updates": (0..updates).map(update).collect::<Vec<_>>(),
               "sub_goals": [{"title": format!("Sub-goal of {n}")}]})
    };
    let area = |n: usize| json!({"title": format!("Area {n}"), "goals": (0..goals).map(goal).collect::<Vec<_>>()});
    json!({"title": "Generated", "period_start": "2024-01-01", "period_end": "2026-12-31",
           "areas": (0..areas).map(area).collect::<Vec<_>>()})
}

#[actix_web::test]
async fn a_document_takes_the_same_few_queries_whatever_the_size_of_the_plan() {
    let app = TestApp::spawn().await;
    let url = app.database.url();
    let mut counts = Vec::new();
    for (areas, goals, updates) in [(1, 1, 1), (6, 8, 3)] {
        let report = import_document(&app, &generated_document(areas, goals, updates))
            .await
            .expect(201);
        let plan_id = Uuid::parse_str(report["plan_id"].as_str().expect("an id")).expect("a UUID");
        counts.push([
            queries_to_export(&url, plan_id, UpdatesInDocument::All).await,
            queries_to_export(&url, plan_id, UpdatesInDocument::None).await,
        ]);
    }

    // Without updates, neither the updates nor their measurements are read.
    assert_eq!(counts, [[EXPORT_QUERIES, EXPORT_QUERIES - 2]; 2]);
}

#[actix_web::test]
async fn large_answers_are_gzipped_for_clients_that_accept_it_small_ones_are_not() {
    use std::io::Read;

    let app = TestApp::spawn().await;
    let report = import(&app, "", "text/markdown", CORE_OUTLINE.as_bytes().to_vec()).await;
    let plan_id = report.expect(201)["plan_id"]
        .as_str()
        .expect("a plan id")
        .to_owned();
    let document = format!("/api/v1/plans/{plan_id}/document");
    let gzip = [("Accept-Encoding", "gzip, br")];
    let send = async |path: &str, headers: &[(&str, &str)]| {
        crate::common::send_with(
            &crate::common::client(),
            &app.address,
            Method::GET,
            path,
            headers,
            None,
        )
        .await
    };

    let plain = send(&document, &[("Accept-Encoding", "identity")]).await;
    let compressed = send(&document, &gzip).await;

    assert_eq!(plain.header("content-encoding"), None);
    assert_eq!(
        compressed.header("content-encoding").as_deref(),
        Some("gzip")
    );
    assert!(
        compressed.body.len() * 3 < plain.body.len(),
        "{} vs {}",
        compressed.body.len(),
        plain.body.len()
    );
    let mut unzipped = Vec::new();
    flate2::read::GzDecoder::new(compressed.body.as_slice())
        .read_to_end(&mut unzipped)
        .expect("a gzip stream");
    assert_eq!(unzipped, plain.body);
    // The same representation, so the same entity tag, and caches keep them apart.
    assert_eq!(compressed.header("etag"), plain.header("etag"));
    for reply in [&plain, &compressed] {
        assert!(
            reply
                .header("vary")
                .unwrap_or_default()
                .contains("Accept-Encoding")
        );
    }
    // A goal's JSON is smaller than a packet: not worth a compressor.
    let whole: Value = serde_json::from_slice(&plain.body).expect("JSON");
    let goal_id = whole["areas"][0]["goals"][0]["id"]
        .as_str()
        .expect("a goal");
    let small = send(&format!("/api/v1/goals/{goal_id}"), &gzip).await;
    assert!(small.body.len() < 1400, "{}", small.body.len());
    assert_eq!(small.header("content-encoding"), None);
    small.expect(200);
    // Refused with q=0, nothing is compressed.
    let refused = send(&document, &[("Accept-Encoding", "gzip;q=0")]).await;
    assert_eq!(refused.header("content-encoding"), None);
}
