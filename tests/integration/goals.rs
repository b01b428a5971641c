use actix_web::http::Method;
use serde_json::{Value, json};

use crate::common::{Reply, TestApp, error_fields, error_message, goal_path, id_of};

const UNKNOWN_ID: &str = "0193a3c4-5b6e-7f00-8a1b-2c3d4e5f6a7b";

fn area_goals(area_id: &str) -> String {
    format!("/api/v1/areas/{area_id}/goals")
}

fn plan_goals(plan_id: &str) -> String {
    format!("/api/v1/plans/{plan_id}/goals")
}

/// "code title" of each goal of a list page, in list order.
fn labels(page: &Value) -> Vec<String> {
    let items = page["items"].as_array().expect("an items array");
    let label = |goal: &Value| format!("{} {}", goal["code"], goal["title"]).replace('"', "");
    items.iter().map(label).collect()
}

/// The labels of the first page of the list at `path`.
async fn outline(app: &TestApp, path: &str) -> Vec<String> {
    labels(&app.get(path).await.expect(200))
}

/// Posts a status update to the goal; returns its address.
async fn report(app: &TestApp, goal: &Value, status: &str) -> String {
    let path = format!("{}/status-updates", goal_path(goal));
    let body = json!({ "status": status, "progress_percent": 40 });
    let update = app.post(&path, body).await.created();
    format!("/api/v1/status-updates/{}", id_of(&update))
}

/// The service with one plan and one strategic area, where most tests work.
struct Area {
    app: TestApp,
    plan_id: String,
    id: String,
}

impl Area {
    async fn new() -> Self {
        let app = TestApp::spawn().await;
        let (plan_id, id) = app.plan_with_area().await;
        Self { app, plan_id, id }
    }

    /// Another area of the same plan.
    async fn sibling_area(&self) -> String {
        id_of(&self.app.create_area(&self.plan_id, "Publications").await)
    }

    async fn create(&self, body: Value) -> Value {
        self.app.create_goal(&self.id, body).await
    }

    /// Top-level goals with these titles, created in this order.
    async fn goals<const N: usize>(&self, titles: [&str; N]) -> [Value; N] {
        let mut created = Vec::new();
        for title in titles {
            created.push(self.create(json!({ "title": title })).await);
        }
        created.try_into().expect("one goal per title")
    }

    async fn sub_goal(&self, parent: &Value, title: &str) -> Value {
        let body = json!({ "title": title, "parent_goal_id": parent["id"] });
        self.create(body).await
    }

    /// The labels of the area's goal list with this query string (may be empty).
    async fn outline(&self, query: &str) -> Vec<String> {
        outline(&self.app, &format!("{}?{query}", area_goals(&self.id))).await
    }

    /// The fields named by the 400 answer to the area's goal list with this query.
    async fn bad_query(&self, query: &str) -> Vec<String> {
        let path = format!("{}?{query}", area_goals(&self.id));
        error_fields(&self.app.get(&path).await.problem(400))
    }

    async fn post(&self, body: Value) -> Reply {
        self.app.post(&area_goals(&self.id), body).await
    }

    async fn patch(&self, goal: &Value, body: Value) -> Reply {
        self.app.patch(&goal_path(goal), body).await
    }

    /// The fields a refused create names.
    async fn create_refused(&self, body: Value) -> Vec<String> {
        error_fields(&self.post(body).await.problem(422))
    }

    /// The fields a refused patch names.
    async fn patch_refused(&self, goal: &Value, body: Value) -> Vec<String> {
        error_fields(&self.patch(goal, body).await.problem(422))
    }
}

/// An area with goals "A" (with "A1") and "B", and a second area of the same plan
/// with "C" (with "C1"), created out of plan order; plus a goal in another plan.
async fn two_areas() -> (Area, String) {
    let area = Area::new().await;
    let second = area.sibling_area().await;
    let c = area.app.create_goal(&second, json!({ "title": "C" })).await;
    let [a, _] = area.goals(["A", "B"]).await;
    let c1 = json!({ "title": "C1", "parent_goal_id": c["id"] });
    area.app.create_goal(&second, c1).await;
    area.sub_goal(&a, "A1").await;
    let (_, elsewhere) = area.app.plan_with_area().await;
    area.app.create_goal(&elsewhere, json!({})).await;
    (area, second)
}

const PLAN_ORDER: [&str; 5] = ["1 A", "1.1 A1", "2 B", "1 C", "1.1 C1"];

#[actix_web::test]
async fn creating_a_goal_answers_201_with_its_location_and_a_not_started_status() {
    let area = Area::new().await;

    let reply = area.post(json!({ "title": "Grow" })).await;

    let location = reply.header("location").expect("a Location header");
    let goal = reply.created();
    assert_eq!(location, goal_path(&goal));
    assert_eq!(goal["status"], "not_started");
    assert_eq!(goal["progress_percent"], Value::Null);
    assert_eq!(goal["code"], "1");
    assert_eq!(area.app.get(&location).await.expect(200), goal);
}

#[actix_web::test]
async fn goals_are_numbered_by_position_and_sub_goals_after_their_parent() {
    let area = Area::new().await;
    let [_, second] = area.goals(["A", "B"]).await;

    area.sub_goal(&second, "B1").await;
    let last = area.sub_goal(&second, "B2").await;

    assert_eq!(last["code"], "2.2");
    assert_eq!(last["parent_goal_id"], second["id"]);
    assert_eq!(area.outline("").await, ["1 A", "2 B", "2.1 B1", "2.2 B2"]);
}

#[actix_web::test]
async fn creating_at_a_position_shifts_later_siblings_and_their_codes() {
    let area = Area::new().await;
    let [old_first] = area.goals(["A"]).await;
    area.sub_goal(&old_first, "A1").await;

    let inserted = area.create(json!({ "title": "New", "position": 1 })).await;

    assert_eq!(inserted["code"], "1");
    assert_eq!(area.outline("").await, ["1 New", "2 A", "2.1 A1"]);
}

#[actix_web::test]
async fn a_custom_code_is_shown_and_its_sub_goals_derive_from_it() {
    let area = Area::new().await;

    let lettered = area.create(json!({ "title": "X", "code": "A" })).await;
    area.sub_goal(&lettered, "Under A").await;
    let odd = area.create(json!({ "title": "Y", "code": "1.4b" })).await;
    area.sub_goal(&odd, "Under 1.4b").await;

    assert_eq!(lettered["code"], "A");
    let expected = ["A X", "A.1 Under A", "1.4b Y", "1.4b.1 Under 1.4b"];
    assert_eq!(area.outline("").await, expected);
}

#[actix_web::test]
async fn patching_code_to_null_returns_to_the_derived_code() {
    let area = Area::new().await;
    let lettered = area.create(json!({ "title": "X", "code": "A" })).await;
    area.sub_goal(&lettered, "Under").await;

    let reverted = area.patch(&lettered, json!({ "code": null })).await;

    assert_eq!(reverted.expect(200)["code"], "1");
    assert_eq!(area.outline("").await, ["1 X", "1.1 Under"]);
}

#[actix_web::test]
async fn a_code_already_used_in_the_area_is_a_conflict() {
    let area = Area::new().await;
    area.create(json!({ "code": "A" })).await;
    let [second, third] = area.goals(["B", "C"]).await;
    let again = json!({ "title": "D", "code": "A" });
    let before = area.outline("").await;

    let on_create = area.post(again.clone()).await.problem(409);
    let custom_on_patch = area
        .patch(&second, json!({ "code": "A" }))
        .await
        .problem(409);
    let derived_on_patch = area
        .patch(&third, json!({ "code": "2" }))
        .await
        .problem(409);

    for problem in [on_create, custom_on_patch, derived_on_patch] {
        assert!(
            crate::common::detail(&problem).contains("code"),
            "{problem}"
        );
    }
    assert_eq!(area.outline("").await, before, "nothing changed");
    let other_area = area.sibling_area().await;
    area.app.create_goal(&other_area, again).await;
}

#[actix_web::test]
async fn patching_position_reorders_siblings_densely_and_codes_follow() {
    let area = Area::new().await;
    let [a, _, c] = area.goals(["A", "B", "C"]).await;
    area.sub_goal(&a, "A1").await;

    let moved = area.patch(&c, json!({ "position": 1 })).await.expect(200);

    assert_eq!(moved["position"], 1);
    // Derived codes are the positions: 1, 2, 3 with no gap or repeat.
    assert_eq!(area.outline("").await, ["1 C", "2 A", "2.1 A1", "3 B"]);
}

#[actix_web::test]
async fn patching_the_parent_moves_a_goal_with_its_sub_goals_to_the_end_of_its_new_siblings() {
    let area = Area::new().await;
    let [a, b, _] = area.goals(["A", "B", "C"]).await;
    area.sub_goal(&a, "A1").await;
    area.sub_goal(&b, "B1").await;

    let moved = area.patch(&b, json!({ "parent_goal_id": a["id"] })).await;

    assert_eq!(moved.expect(200)["parent_goal_id"], a["id"]);
    let expected = ["1 A", "1.1 A1", "1.2 B", "1.2.1 B1", "2 C"];
    assert_eq!(area.outline("").await, expected);
}

#[actix_web::test]
async fn patching_the_parent_with_a_position_moves_the_goal_to_that_place() {
    let area = Area::new().await;
    let [a, b] = area.goals(["A", "B"]).await;
    area.sub_goal(&a, "A1").await;

    let body = json!({ "parent_goal_id": a["id"], "position": 1 });
    area.patch(&b, body).await.expect(200);

    assert_eq!(area.outline("").await, ["1 A", "1.1 B", "1.2 A1"]);
}

#[actix_web::test]
async fn patching_the_parent_to_null_makes_a_sub_goal_a_goal_of_the_area() {
    let area = Area::new().await;
    let [a] = area.goals(["A"]).await;
    let a1 = area.sub_goal(&a, "A1").await;
    area.sub_goal(&a, "A2").await;

    let moved = area.patch(&a1, json!({ "parent_goal_id": null })).await;

    assert_eq!(moved.expect(200)["parent_goal_id"], Value::Null);
    assert_eq!(area.outline("").await, ["1 A", "1.1 A2", "2 A1"]);
}

#[actix_web::test]
async fn a_create_body_breaking_a_rule_is_refused_naming_the_field() {
    let area = Area::new().await;
    let parent = |id: &str| json!({ "title": "T", "parent_goal_id": id });
    let dates = json!({ "title": "T", "start_date": "2025-01-01", "due_date": "2024-12-31" });
    let cases = [
        (json!({ "owner": "Board" }), "title"),
        (json!({ "title": " " }), "title"),
        (json!({ "title": "é".repeat(501) }), "title"),
        (json!({ "title": "A\u{0}B" }), "title"),
        (json!({ "title": "T", "titel": "T" }), "titel"),
        (json!({ "title": "T", "code": "-x" }), "code"),
        (json!({ "title": "T", "code": "a b" }), "code"),
        (json!({ "title": "T", "position": 0 }), "position"),
        (json!({ "title": "T", "position": null }), "position"),
        (parent("not-a-uuid"), "parent_goal_id"),
        (dates, "due_date"),
    ];

    for (body, field) in cases {
        assert_eq!(area.create_refused(body.clone()).await, [field], "{body}");
    }
    let unknown_parent = area.post(parent(UNKNOWN_ID)).await.problem(404);
    assert_eq!(error_fields(&unknown_parent), ["parent_goal_id"]);
    assert_eq!(area.outline("").await, Vec::<String>::new());
    let longest = json!({ "title": "é".repeat(500), "code": "x-1.b_2" });
    area.create(longest).await;
}

#[actix_web::test]
async fn a_patch_breaking_a_rule_is_refused_naming_the_field_and_changes_nothing() {
    let area = Area::new().await;
    let dates = json!({ "start_date": "2024-01-01", "due_date": "2024-06-30" });
    let goal = area.create(dates).await;
    let cases = [
        (json!({ "title": null, "owner": "Board" }), "title"),
        (json!({ "position": null }), "position"),
        (json!({ "code": "a b" }), "code"),
        (
            json!({ "start_date": "2024-07-05", "due_date": "2024-07-01" }),
            "due_date",
        ),
    ];

    for (body, field) in cases {
        let fields = area.patch_refused(&goal, body.clone()).await;
        assert_eq!(fields, [field], "{body}");
    }
    let after_stored_due_date = json!({ "start_date": "2024-07-01" });
    let conflict = area.patch(&goal, after_stored_due_date).await.problem(409);
    assert!(
        crate::common::detail(&conflict).contains("send both"),
        "{conflict}"
    );

    assert_eq!(area.app.get(&goal_path(&goal)).await.expect(200), goal);
}

#[actix_web::test]
async fn status_and_progress_are_refused_pointing_to_status_updates() {
    let area = Area::new().await;
    let [goal] = area.goals(["A"]).await;
    let body = json!({ "title": "T", "status": "on_track", "progress_percent": 50 });

    let on_create = area.post(body.clone()).await.problem(422);
    let on_patch = area.patch(&goal, body).await.problem(422);

    for problem in [on_create, on_patch] {
        for field in ["status", "progress_percent"] {
            let message = error_message(&problem, field);
            assert!(message.contains("status update"), "{message}");
        }
    }
}

#[actix_web::test]
async fn several_bad_fields_are_all_reported_in_one_answer() {
    let area = Area::new().await;
    let body = json!({ "title": " ", "titel": "T", "position": 0, "code": "a b",
                       "due_date": "31/12/2025", "status": "on_track" });

    let mut fields = area.create_refused(body).await;

    fields.sort();
    let expected = ["code", "due_date", "position", "status", "titel", "title"];
    assert_eq!(fields, expected);
}

#[actix_web::test]
async fn a_parent_in_another_area_is_refused_whether_in_the_same_plan_or_not() {
    let area = Area::new().await;
    let [local] = area.goals(["Local"]).await;
    let same_plan = area.sibling_area().await;
    let (_, other_plan) = area.app.plan_with_area().await;

    for foreign_area in [same_plan, other_plan] {
        let foreign = area.app.create_goal(&foreign_area, json!({})).await;
        let body = json!({ "title": "Sub", "parent_goal_id": foreign["id"] });

        assert_eq!(area.create_refused(body.clone()).await, ["parent_goal_id"]);
        assert_eq!(area.patch_refused(&local, body).await, ["parent_goal_id"]);
    }
}

#[actix_web::test]
async fn a_goal_cannot_be_moved_under_itself_or_its_own_sub_goals() {
    let area = Area::new().await;
    let [a] = area.goals(["A"]).await;
    let a1 = area.sub_goal(&a, "A1").await;
    let a1a = area.sub_goal(&a1, "A1a").await;

    for parent in [&a, &a1, &a1a] {
        let body = json!({ "parent_goal_id": parent["id"] });

        assert_eq!(area.patch_refused(&a, body).await, ["parent_goal_id"]);
    }
    assert_eq!(area.outline("").await, ["1 A", "1.1 A1", "1.1.1 A1a"]);
}

#[actix_web::test]
async fn a_goal_created_past_the_end_goes_at_the_end() {
    let area = Area::new().await;
    area.goals(["A", "B"]).await;

    let past_the_end = area.create(json!({ "title": "C", "position": 40 })).await;

    assert_eq!(past_the_end["position"], 3);
    assert_eq!(area.outline("").await, ["1 A", "2 B", "3 C"]);
}

#[actix_web::test]
async fn a_goal_moved_past_the_end_goes_to_the_end() {
    let area = Area::new().await;
    let [a, b, _] = area.goals(["A", "B", "C"]).await;

    area.patch(&a, json!({ "position": 9 })).await.expect(200);
    let under_b = json!({ "parent_goal_id": b["id"], "position": 2 });
    let moved = area.patch(&a, under_b).await.expect(200);

    assert_eq!(moved["code"], "1.1");
    assert_eq!(area.outline("").await, ["1 B", "1.1 A", "2 C"]);
}

#[actix_web::test]
async fn a_move_to_position_zero_is_refused_and_moves_nothing() {
    let area = Area::new().await;
    let [a, _, _] = area.goals(["A", "B", "C"]).await;

    let fields = area.patch_refused(&a, json!({ "position": 0 })).await;

    assert_eq!(fields, ["position"]);
    assert_eq!(area.outline("").await, ["1 A", "2 B", "3 C"]);
}

#[actix_web::test]
async fn a_patch_keeps_absent_fields_and_null_clears_optional_ones() {
    let area = Area::new().await;
    let body = json!({ "code": "A", "description": "More members", "owner": "Board",
                       "start_date": "2024-01-01", "due_date": "2024-12-31" });
    let goal = area.create(body).await;
    let optional = ["description", "owner", "start_date", "due_date"];
    let clear = json!({ "description": null, "owner": null, "start_date": null, "due_date": null });

    let renamed = area.patch(&goal, json!({ "title": "New" })).await;
    let cleared = area.patch(&goal, clear).await.expect(200);

    let renamed = renamed.expect(200);
    assert_eq!(renamed["title"], "New");
    let kept = ["code", "position", "parent_goal_id"];
    for field in optional.iter().chain(&kept) {
        assert_eq!(renamed[field], goal[field], "{field} is kept");
    }
    for field in optional {
        assert_eq!(cleared[field], Value::Null, "{field} is cleared");
    }
    assert_eq!(cleared["title"], "New");
    assert_eq!(area.app.get(&goal_path(&goal)).await.expect(200), cleared);
}

#[actix_web::test]
async fn the_plan_list_shows_every_goal_of_the_plan_in_plan_order_and_an_area_list_its_own() {
    let (area, second) = two_areas().await;

    let plan_list = outline(&area.app, &plan_goals(&area.plan_id)).await;
    let area_list = outline(&area.app, &area_goals(&second)).await;

    assert_eq!(plan_list, PLAN_ORDER);
    assert_eq!(area_list, ["1 C", "1.1 C1"]);
}

#[actix_web::test]
async fn moving_an_area_reorders_the_plan_goal_list() {
    let (area, second) = two_areas().await;

    let path = format!("/api/v1/areas/{second}");
    let moved = area.app.patch(&path, json!({ "position": 1 })).await;

    moved.expect(200);

    let listed = outline(&area.app, &plan_goals(&area.plan_id)).await;
    assert_eq!(listed, ["1 C", "1.1 C1", "1 A", "1.1 A1", "2 B"]);
}

#[actix_web::test]
async fn the_lists_filter_by_status_owner_parent_and_top_level() {
    let area = Area::new().await;
    let [a, b] = area.goals(["A", "B"]).await;
    area.sub_goal(&a, "A1").await;
    let owned = json!({ "title": "C", "owner": "Membership Committee" });
    area.create(owned).await;
    report(&area.app, &b, "at_risk").await;
    let by_parent = format!("parent_goal_id={}", id_of(&a));

    assert_eq!(area.outline("status=at_risk").await, ["2 B"]);
    let not_started = area.outline("status=not_started").await;
    assert_eq!(not_started, ["1 A", "1.1 A1", "3 C"]);
    assert_eq!(area.outline("owner=Membership%20Committee").await, ["3 C"]);
    assert_eq!(area.outline(&by_parent).await, ["1.1 A1"]);
    assert_eq!(area.outline("top_level=true").await, ["1 A", "2 B", "3 C"]);
}

#[actix_web::test]
async fn following_the_next_links_visits_every_goal_once_in_order() {
    let (area, _) = two_areas().await;
    let mut path = Some(format!("{}?limit=2", plan_goals(&area.plan_id)));
    let mut seen = Vec::new();

    while let Some(current) = path.take() {
        let reply = area.app.get(&current).await;
        let link = reply.header("link");
        let page = reply.expect(200);
        seen.extend(labels(&page));
        if let Some(cursor) = page["next_cursor"].as_str() {
            let link = link.expect("a Link header while a next page exists");
            assert!(link.contains(cursor), "{link}");
            let next = link.strip_prefix(&format!("<{}", area.app.address));
            let next = next.and_then(|rest| rest.strip_suffix(">; rel=\"next\""));
            path = Some(next.expect("<this server's URL>; rel=\"next\"").to_owned());
        } else {
            assert_eq!(link, None, "no Link header on the last page");
        }
    }

    assert_eq!(seen, PLAN_ORDER);
}

#[actix_web::test]
async fn a_bad_list_parameter_is_a_bad_request_naming_it() {
    let area = Area::new().await;
    let cases = [
        ("cursor=bm90LWEtY3Vyc29y", "cursor"),
        ("limit=0", "limit"),
        ("limit=201", "limit"),
        ("colour=red&limit=5", "colour"),
    ];

    for (query, field) in cases {
        assert_eq!(area.bad_query(query).await, [field], "{query}");
    }
    assert_eq!(area.outline("limit=200").await, Vec::<String>::new());
}

#[actix_web::test]
async fn deleting_a_goal_answers_204_and_later_siblings_move_up() {
    let area = Area::new().await;
    let [a, b, _] = area.goals(["A", "B", "C"]).await;
    area.sub_goal(&b, "B1").await;

    let reply = area.app.delete(&goal_path(&a)).await;

    assert_eq!((reply.status, reply.body.len()), (204, 0));
    area.app.get(&goal_path(&a)).await.problem(404);
    assert_eq!(area.outline("").await, ["1 B", "1.1 B1", "2 C"]);
}

#[actix_web::test]
async fn a_goal_with_sub_goals_or_status_updates_is_not_deleted_without_cascade() {
    let area = Area::new().await;
    let [a, b] = area.goals(["A", "B"]).await;
    area.sub_goal(&a, "A1").await;
    report(&area.app, &b, "on_track").await;

    for goal in [&a, &b] {
        area.app.delete(&goal_path(goal)).await.problem(409);
    }

    assert_eq!(area.outline("").await, ["1 A", "1.1 A1", "2 B"]);
}

#[actix_web::test]
async fn deleting_with_cascade_removes_the_goal_with_its_sub_goals() {
    let area = Area::new().await;
    let [a, _] = area.goals(["A", "B"]).await;
    let a1 = area.sub_goal(&a, "A1").await;
    let a1a = area.sub_goal(&a1, "A1a").await;
    let update = report(&area.app, &a1, "on_track").await;

    let path = format!("{}?cascade=true", goal_path(&a));
    area.app.delete(&path).await.expect(204);

    for goal in [&a, &a1, &a1a] {
        area.app.get(&goal_path(goal)).await.problem(404);
    }
    area.app.get(&update).await.problem(404);
    assert_eq!(area.outline("").await, ["1 B"]);
}

#[actix_web::test]
async fn a_delete_whose_renumbering_would_repeat_a_custom_code_is_a_conflict() {
    let area = Area::new().await;
    let [first] = area.goals(["A"]).await;
    area.create(json!({ "title": "B", "code": "2" })).await;
    area.goals(["C"]).await;

    // Closing the gap would derive "2" for C, the code B already shows.
    let reply = area.app.delete(&goal_path(&first)).await;

    reply.problem(409);
    assert_eq!(area.outline("").await, ["1 A", "2 B", "3 C"]);
}

#[actix_web::test]
async fn an_unknown_or_malformed_id_is_a_404_problem() {
    let app = TestApp::spawn().await;
    app.get(&area_goals(UNKNOWN_ID)).await.problem(404);
    app.get(&plan_goals(UNKNOWN_ID)).await.problem(404);

    for id in [UNKNOWN_ID, "not-a-uuid"] {
        let path = format!("/api/v1/goals/{id}");
        for method in [Method::GET, Method::PATCH, Method::DELETE] {
            let body = (method == Method::PATCH).then(|| json!({ "title": "T" }));

            app.request(method, &path, body).await.problem(404);
        }
    }
}

#[actix_web::test]
async fn goals_nest_at_most_eight_levels_deep() {
    let area = Area::new().await;
    let [top] = area.goals(["1"]).await;
    let mut deepest = top.clone();
    for level in 2..=8 {
        deepest = area.sub_goal(&deepest, &format!("level {level}")).await;
    }
    assert_eq!(deepest["code"], "1.1.1.1.1.1.1.1");

    let ninth = json!({ "title": "too deep", "parent_goal_id": deepest["id"] });
    let too_deep = area.create_refused(ninth).await;
    let [other] = area.goals(["2"]).await;
    let under_other = area.sub_goal(&other, "2.1").await;
    let moved_under = json!({ "parent_goal_id": under_other["id"] });
    let subtree_too_deep = area.patch_refused(&top, moved_under).await;

    assert_eq!(too_deep, ["parent_goal_id"]);
    assert_eq!(subtree_too_deep, ["parent_goal_id"]);
}

#[actix_web::test]
async fn an_edit_that_does_not_move_a_goal_does_not_wait_for_its_plans_lock() {
    use diesel_async::RunQueryDsl;

    let app = TestApp::spawn().await;
    let (plan_id, area_id) = app.plan_with_area().await;
    let first = app.create_goal(&area_id, json!({ "title": "First" })).await;
    let second = app
        .create_goal(&area_id, json!({ "title": "Second" }))
        .await;

    // Another writer holds the plan's lock, as a reordering of its goals does.
    let mut holder = crate::helpers::connect(&app).await;
    for statement in [
        "BEGIN".to_owned(),
        format!("SELECT 1 FROM plans WHERE id = '{plan_id}' FOR UPDATE"),
    ] {
        diesel::sql_query(statement)
            .execute(&mut holder)
            .await
            .expect("the plan is locked");
    }
    let edited = app
        .patch(
            &goal_path(&first),
            json!({ "title": "First, renamed", "owner": "Board" }),
        )
        .await
        .expect(200);
    assert_eq!(edited["title"], "First, renamed");
    assert_eq!(edited["code"], "1");

    // A move does wait: its siblings' positions and codes depend on it.
    let second_path = goal_path(&second);
    let moved = app.patch(&second_path, json!({ "position": 1 }));
    let release = async {
        actix_web::rt::time::sleep(std::time::Duration::from_millis(300)).await;
        let code = app.get(&second_path).await.expect(200)["code"].clone();
        diesel::sql_query("COMMIT")
            .execute(&mut holder)
            .await
            .expect("COMMIT");
        code
    };
    let (moved, code_while_locked) = futures_util::future::join(moved, release).await;
    assert_eq!(code_while_locked, "2", "the move waited for the plan");
    assert_eq!(moved.expect(200)["code"], "1");
    assert_eq!(app.get(&goal_path(&first)).await.expect(200)["code"], "2");
}
