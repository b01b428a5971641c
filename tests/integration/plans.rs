use serde_json::{Value, json};

use crate::common::{TestApp, error_fields, error_message, id_of};

#[actix_web::test]
async fn a_plan_is_created_read_back_and_listed() {
    let app = TestApp::spawn().await;

    let plan = app
        .create_plan(json!({
            "value_proposition": "At some phases of your career, you will need Core.",
            "status": "active",
            "approved_by": "Core Board of Directors",
            "approved_on": "2024-04-18"
        }))
        .await;

    assert_eq!(plan["title"], "Core Strategic Plan 2022-2025");
    assert_eq!(plan["status"], "active");
    assert_eq!(plan["approved_on"], "2024-04-18");
    assert_eq!(plan["summary"], Value::Null);
    let fetched = app
        .get(&format!("/api/v1/plans/{}", id_of(&plan)))
        .await
        .expect(200);
    assert_eq!(fetched, plan);
    let list = app.get("/api/v1/plans").await.expect(200);
    assert_eq!(list["items"], json!([plan]));
    assert_eq!(list["next_cursor"], Value::Null);
}

#[actix_web::test]
async fn a_new_plan_is_a_draft_unless_told_otherwise() {
    let app = TestApp::spawn().await;

    let plan = app.create_plan(json!({})).await;

    assert_eq!(plan["status"], "draft");
}

#[actix_web::test]
async fn every_bad_field_of_a_plan_is_named_at_once() {
    let app = TestApp::spawn().await;

    let problem = app
        .post(
            "/api/v1/plans",
            json!({
                "titel": "Typo",
                "summary": 42,
                "period_start": "2022-13-01",
                "period_end": "31/08/2025",
                "status": "actve",
                "approved_by": "x".repeat(201),
                "id": "0193a3c4-5b6e-7f00-8a1b-2c3d4e5f6a7b"
            }),
        )
        .await
        .problem(422);

    let mut fields = error_fields(&problem);
    fields.sort();
    assert_eq!(
        fields,
        [
            "approved_by",
            "id",
            "period_end",
            "period_start",
            "status",
            "summary",
            "titel",
            "title"
        ]
    );
    assert!(error_message(&problem, "titel").contains("not a field"));
    assert_eq!(error_message(&problem, "title"), "is required");
    assert!(error_message(&problem, "status").contains("draft, active, completed, archived"));
    assert!(error_message(&problem, "approved_by").contains("at most 200"));
    assert!(error_message(&problem, "id").contains("assigned by the server"));
    assert_eq!(
        app.get("/api/v1/plans").await.expect(200)["items"],
        json!([])
    );
}

#[actix_web::test]
async fn a_plan_period_must_not_end_before_it_starts() {
    let app = TestApp::spawn().await;

    let problem = app
        .post(
            "/api/v1/plans",
            json!({"title": "Plan", "period_start": "2025-01-01", "period_end": "2024-12-31"}),
        )
        .await
        .problem(422);

    assert_eq!(error_fields(&problem), ["period_end"]);
}

#[actix_web::test]
async fn blank_titles_and_nul_characters_are_refused() {
    let app = TestApp::spawn().await;

    for (title, rule) in [("   ", "empty"), ("Core\u{0}Plan", "NUL")] {
        let problem = app
            .post(
                "/api/v1/plans",
                json!({"title": title, "period_start": "2022-09-01", "period_end": "2025-08-31"}),
            )
            .await
            .problem(422);

        assert!(error_message(&problem, "title").contains(rule), "{problem}");
    }
}

#[actix_web::test]
async fn a_patch_changes_only_what_it_names_and_null_clears() {
    let app = TestApp::spawn().await;
    let plan = app
        .create_plan(json!({"summary": "First draft", "approved_by": "Core Board"}))
        .await;
    let path = format!("/api/v1/plans/{}", id_of(&plan));

    let patched = app
        .patch(&path, json!({"status": "active", "summary": null}))
        .await
        .expect(200);

    assert_eq!(patched["status"], "active");
    assert_eq!(patched["summary"], Value::Null);
    assert_eq!(patched["approved_by"], "Core Board");
    assert_eq!(patched["title"], plan["title"]);
    assert_ne!(patched["updated_at"], plan["updated_at"]);
    assert_eq!(app.get(&path).await.expect(200), patched);
}

#[actix_web::test]
async fn a_patch_that_breaks_a_rule_changes_nothing() {
    let app = TestApp::spawn().await;
    let plan = app.create_plan(json!({})).await;
    let path = format!("/api/v1/plans/{}", id_of(&plan));

    let problem = app
        .patch(
            &path,
            json!({"title": null, "period_end": "2030-13-01", "status": "active"}),
        )
        .await
        .problem(422);

    assert_eq!(error_fields(&problem), ["title", "period_end"]);
    assert_eq!(app.get(&path).await.expect(200), plan);
}

#[actix_web::test]
async fn a_patch_that_moves_one_date_past_the_stored_other_is_a_conflict() {
    let app = TestApp::spawn().await;
    let plan = app.create_plan(json!({})).await;
    let path = format!("/api/v1/plans/{}", id_of(&plan));

    let problem = app
        .patch(&path, json!({"period_start": "2030-01-01"}))
        .await
        .problem(409);
    let both = app
        .patch(
            &path,
            json!({"period_start": "2030-01-01", "period_end": "2033-12-31"}),
        )
        .await
        .expect(200);

    assert!(
        crate::common::detail(&problem).contains("period_end (2025-08-31)"),
        "{problem}"
    );
    assert_eq!(both["period_start"], "2030-01-01");
}

#[actix_web::test]
async fn a_plan_continues_an_existing_plan_but_never_itself() {
    let app = TestApp::spawn().await;
    let first = app
        .create_plan(json!({"title": "Strategic Action Plan 2021-2022"}))
        .await;
    let second = app
        .create_plan(json!({"predecessor_plan_id": id_of(&first)}))
        .await;
    assert_eq!(second["predecessor_plan_id"], first["id"]);

    let missing = app
        .create_plan_reply(json!({"predecessor_plan_id": "0193a3c4-5b6e-7f00-8a1b-2c3d4e5f6a7b"}))
        .await
        .problem(404);
    assert!(error_message(&missing, "predecessor_plan_id").contains("no plan"));

    let first_path = format!("/api/v1/plans/{}", id_of(&first));
    for predecessor in [id_of(&first), id_of(&second)] {
        let problem = app
            .patch(&first_path, json!({"predecessor_plan_id": predecessor}))
            .await
            .problem(422);
        assert_eq!(error_fields(&problem), ["predecessor_plan_id"]);
    }
}

#[actix_web::test]
async fn plans_list_newest_period_first_in_pages_with_a_next_link() {
    let app = TestApp::spawn().await;
    for year in [2019, 2022, 2016, 2025, 2013] {
        app.create_plan(json!({
            "title": format!("Plan {year}"),
            "period_start": format!("{year}-09-01"),
            "period_end": format!("{}-08-31", year + 3),
        }))
        .await;
    }

    let first = app.get("/api/v1/plans?limit=2").await;
    let link = first
        .header("link")
        .expect("a Link header on a page with a next one");
    let first = first.expect(200);
    let cursor = first["next_cursor"]
        .as_str()
        .expect("a next cursor")
        .to_owned();
    assert!(link.contains(&format!("cursor={cursor}")) && link.ends_with("rel=\"next\""));
    let second = app
        .get(&format!("/api/v1/plans?limit=2&cursor={cursor}"))
        .await
        .expect(200);
    let last_cursor = second["next_cursor"]
        .as_str()
        .expect("a third page")
        .to_owned();
    let last = app
        .get(&format!("/api/v1/plans?limit=2&cursor={last_cursor}"))
        .await;
    assert_eq!(last.header("link"), None);
    let last = last.expect(200);

    let titles: Vec<&str> = [&first, &second, &last]
        .iter()
        .flat_map(|page| page["items"].as_array().expect("items"))
        .map(|plan| plan["title"].as_str().expect("a title"))
        .collect();
    assert_eq!(
        titles,
        [
            "Plan 2025",
            "Plan 2022",
            "Plan 2019",
            "Plan 2016",
            "Plan 2013"
        ]
    );
    assert_eq!(last["next_cursor"], Value::Null);
}

#[actix_web::test]
async fn plans_filter_by_status() {
    let app = TestApp::spawn().await;
    app.create_plan(json!({"title": "Old", "status": "archived"}))
        .await;
    let active = app
        .create_plan(json!({"title": "Current", "status": "active"}))
        .await;

    let list = app.get("/api/v1/plans?status=active").await.expect(200);

    assert_eq!(list["items"], json!([active]));
}

#[actix_web::test]
async fn bad_list_parameters_are_named() {
    let app = TestApp::spawn().await;

    for (query, field) in [
        ("limit=0", "limit"),
        ("limit=201", "limit"),
        ("limit=ten", "limit"),
        ("status=actve", "status"),
        ("staus=active", "staus"),
        ("cursor=not-a-cursor", "cursor"),
        ("limit=1&limit=2", "limit"),
        ("status=active%00", "status"),
    ] {
        let problem = app
            .get(&format!("/api/v1/plans?{query}"))
            .await
            .problem(400);

        assert_eq!(error_fields(&problem), [field], "{query}: {problem}");
    }
}

#[actix_web::test]
async fn a_plan_with_areas_is_deleted_only_with_cascade() {
    let app = TestApp::spawn().await;
    let (plan_id, area_id) = app.plan_with_area().await;
    let goal = app.create_goal(&area_id, json!({})).await;
    let path = format!("/api/v1/plans/{plan_id}");

    let problem = app.delete(&path).await.problem(409);
    assert!(crate::common::detail(&problem).contains("cascade=true"));
    app.get(&path).await.expect(200);

    app.delete(&format!("{path}?cascade=true"))
        .await
        .expect(204);
    app.get(&path).await.problem(404);
    app.get(&format!("/api/v1/areas/{area_id}"))
        .await
        .problem(404);
    app.get(&format!("/api/v1/goals/{}", id_of(&goal)))
        .await
        .problem(404);
}

#[actix_web::test]
async fn an_empty_plan_is_deleted_and_then_gone() {
    let app = TestApp::spawn().await;
    let plan = app.create_plan(json!({})).await;
    let path = format!("/api/v1/plans/{}", id_of(&plan));

    app.delete(&path).await.expect(204);

    let problem = app.get(&path).await.problem(404);
    assert!(crate::common::detail(&problem).contains(&id_of(&plan)));
    app.delete(&path).await.problem(404);
    app.patch(&path, json!({"title": "Again"}))
        .await
        .problem(404);
}
