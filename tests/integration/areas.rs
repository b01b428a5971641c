use serde_json::{Value, json};

use crate::common::{Reply, TestApp, error_fields, goal_path, id_of};
use crate::helpers::area_path;

/// A plan with areas of these titles, created in order; returns the plan id and the area ids.
async fn plan_with_areas(app: &TestApp, titles: &[&str]) -> (String, Vec<String>) {
    let plan_id = id_of(&app.create_plan(json!({})).await);
    let mut ids = Vec::new();
    for title in titles {
        ids.push(id_of(&app.create_area(&plan_id, title).await));
    }
    (plan_id, ids)
}

fn areas_path(plan_id: &str) -> String {
    format!("/api/v1/plans/{plan_id}/areas")
}

/// The titles of a list page's items, in order.
fn titles(page: &Value) -> Vec<String> {
    let items = page["items"].as_array().expect("an items array");
    let title = |item: &Value| item["title"].as_str().expect("a title").to_owned();
    items.iter().map(title).collect()
}

/// The titles of the plan's areas in list order, after checking positions run 1 to n.
async fn area_titles(app: &TestApp, plan_id: &str) -> Vec<String> {
    let list = app.get(&areas_path(plan_id)).await.expect(200);
    let items = list["items"].as_array().expect("an items array");
    let positions: Vec<Value> = items.iter().map(|area| area["position"].clone()).collect();
    let dense: Vec<Value> = (1..=items.len()).map(|n| json!(n)).collect();
    assert_eq!(positions, dense, "positions are 1 to n");
    titles(&list)
}

/// POSTs an area with these fields and expects a 422 naming `field`.
async fn refused_area(app: &TestApp, plan_id: &str, body: Value, field: &str) {
    let problem = app.post(&areas_path(plan_id), body).await.problem(422);
    let fields = error_fields(&problem);
    assert!(fields.iter().any(|f| f == field), "{field} in {problem}");
}

/// PATCHes the area and expects a 422 naming `field` only.
async fn refused_patch(app: &TestApp, area_id: &str, body: Value, field: &str) {
    let problem = app.patch(&area_path(area_id), body).await.problem(422);
    assert_eq!(error_fields(&problem), [field], "{problem}");
}

/// POSTs an area "Outreach" at this position.
async fn outreach_at(app: &TestApp, plan_id: &str, position: Value) -> Reply {
    let body = json!({ "title": "Outreach", "position": position });
    app.post(&areas_path(plan_id), body).await
}

/// Areas Advocacy and Careers, then Outreach created at `position`; the titles after.
async fn order_after_creating_at(position: i32) -> Vec<String> {
    let app = TestApp::spawn().await;
    let (plan_id, _) = plan_with_areas(&app, &["Advocacy", "Careers"]).await;
    let reply = outreach_at(&app, &plan_id, json!(position)).await;
    let location = reply.header("location");
    let created = reply.created();
    assert_eq!(location, Some(area_path(&id_of(&created))));
    assert_eq!(
        created["position"],
        position.min(3),
        "a position past the end is the end"
    );
    area_titles(&app, &plan_id).await
}

/// Areas A to D, then the one at `from` (1-based) moved to `to`; the titles after.
async fn order_after_moving(from: usize, to: i32) -> Vec<String> {
    let app = TestApp::spawn().await;
    let (plan_id, ids) = plan_with_areas(&app, &["A", "B", "C", "D"]).await;
    let (path, body) = (area_path(&ids[from - 1]), json!({ "position": to }));
    let moved = app.patch(&path, body).await.expect(200);
    assert_eq!(
        moved["position"],
        to.min(4),
        "a position past the end is the end"
    );
    area_titles(&app, &plan_id).await
}

#[actix_web::test]
async fn new_areas_are_numbered_from_one_in_the_order_they_are_created() {
    let app = TestApp::spawn().await;

    let (plan_id, ids) = plan_with_areas(&app, &["Advocacy", "Careers", "Publications"]).await;

    let first = app.get(&area_path(&ids[0])).await.expect(200);
    let third = app.get(&area_path(&ids[2])).await.expect(200);
    assert_eq!(first["plan_id"], plan_id.as_str());
    assert_eq!(first["description"], Value::Null);
    assert_eq!(first["position"], 1);
    assert_eq!(third["position"], 3);
    let expected = ["Advocacy", "Careers", "Publications"];
    assert_eq!(area_titles(&app, &plan_id).await, expected);
}

#[actix_web::test]
async fn an_area_created_at_position_one_moves_the_others_down() {
    let order = order_after_creating_at(1).await;

    assert_eq!(order, ["Outreach", "Advocacy", "Careers"]);
}

#[actix_web::test]
async fn an_area_created_one_past_the_last_position_is_appended() {
    let order = order_after_creating_at(3).await;

    assert_eq!(order, ["Advocacy", "Careers", "Outreach"]);
}

#[actix_web::test]
async fn an_area_created_past_the_end_goes_at_the_end() {
    let order = order_after_creating_at(9).await;

    assert_eq!(order, ["Advocacy", "Careers", "Outreach"]);
}

#[actix_web::test]
async fn a_new_area_position_must_be_a_whole_number_from_one() {
    let app = TestApp::spawn().await;
    let (plan_id, _) = plan_with_areas(&app, &["Advocacy", "Careers"]).await;

    for position in [json!(0), json!(1.5), json!(-1), Value::Null] {
        let problem = outreach_at(&app, &plan_id, position).await.problem(422);
        assert_eq!(error_fields(&problem), ["position"]);
    }

    assert_eq!(area_titles(&app, &plan_id).await, ["Advocacy", "Careers"]);
}

#[actix_web::test]
async fn moving_an_area_up_makes_the_others_make_way() {
    assert_eq!(order_after_moving(4, 2).await, ["A", "D", "B", "C"]);
}

#[actix_web::test]
async fn moving_an_area_down_makes_the_others_close_up() {
    assert_eq!(order_after_moving(1, 3).await, ["B", "C", "A", "D"]);
}

#[actix_web::test]
async fn an_area_moved_past_the_end_goes_to_the_end() {
    assert_eq!(order_after_moving(2, 99).await, ["A", "C", "D", "B"]);
}

#[actix_web::test]
async fn an_area_cannot_move_to_zero_or_null_or_a_string() {
    let app = TestApp::spawn().await;
    let (plan_id, ids) = plan_with_areas(&app, &["A", "B", "C"]).await;

    for position in [json!(0), Value::Null, json!("2")] {
        refused_patch(&app, &ids[0], json!({ "position": position }), "position").await;
    }

    assert_eq!(area_titles(&app, &plan_id).await, ["A", "B", "C"]);
}

#[actix_web::test]
async fn deleting_an_area_closes_the_gap() {
    let app = TestApp::spawn().await;
    let (plan_id, ids) = plan_with_areas(&app, &["A", "B", "C"]).await;

    app.delete(&area_path(&ids[1])).await.expect(204);

    app.get(&area_path(&ids[1])).await.problem(404);
    assert_eq!(area_titles(&app, &plan_id).await, ["A", "C"]);
}

#[actix_web::test]
async fn an_area_needs_a_title_that_is_not_blank_and_has_no_nul() {
    let app = TestApp::spawn().await;
    let (plan_id, _) = plan_with_areas(&app, &[]).await;

    for title in [
        Value::Null,
        json!(""),
        json!("   "),
        json!("Member\u{0}Engagement"),
    ] {
        refused_area(&app, &plan_id, json!({ "title": title }), "title").await;
    }
    let untitled = json!({ "description": "Speak up." });
    refused_area(&app, &plan_id, untitled, "title").await;

    let titles = area_titles(&app, &plan_id).await;
    assert!(titles.is_empty(), "nothing was created");
}

#[actix_web::test]
async fn unknown_and_server_set_fields_are_refused_by_name() {
    let app = TestApp::spawn().await;
    let (plan_id, ids) = plan_with_areas(&app, &["Advocacy"]).await;
    let other_plan = id_of(&app.create_plan(json!({})).await);
    let body =
        json!({ "title": "Careers", "titel": "Careers", "plan_id": other_plan, "id": ids[0] });

    let problem = app.post(&areas_path(&plan_id), body).await.problem(422);
    refused_patch(&app, &ids[0], json!({ "plan_id": other_plan }), "plan_id").await;

    let mut fields = error_fields(&problem);
    fields.sort();
    assert_eq!(fields, ["id", "plan_id", "titel"]);
    assert_eq!(area_titles(&app, &plan_id).await, ["Advocacy"]);
    assert!(area_titles(&app, &other_plan).await.is_empty());
}

#[actix_web::test]
async fn a_description_may_have_10000_characters_but_not_more() {
    let app = TestApp::spawn().await;
    let (plan_id, _) = plan_with_areas(&app, &[]).await;
    let longest = "d".repeat(10_000);

    let body = json!({ "title": "Advocacy", "description": format!("{longest}d") });
    refused_area(&app, &plan_id, body, "description").await;
    let body = json!({ "title": "Advocacy", "description": longest });
    let created = app.post(&areas_path(&plan_id), body).await.created();

    assert_eq!(created["description"].as_str().map(str::len), Some(10_000));
}

#[actix_web::test]
async fn a_patch_keeps_absent_fields_and_null_clears_the_description() {
    let app = TestApp::spawn().await;
    let (plan_id, _) = plan_with_areas(&app, &[]).await;
    let body = json!({ "title": "Advocacy", "description": "Speak for members." });
    let created = app.post(&areas_path(&plan_id), body).await.created();
    let path = area_path(&id_of(&created));
    let (rename, clear) = (json!({ "title": "Policy" }), json!({ "description": null }));

    let renamed = app.patch(&path, rename).await.expect(200);
    let cleared = app.patch(&path, clear).await.expect(200);

    assert_eq!(renamed["description"], "Speak for members.");
    assert_eq!(cleared["title"], "Policy");
    assert_eq!(cleared["description"], Value::Null);
    assert_eq!(app.get(&path).await.expect(200), cleared);
}

#[actix_web::test]
async fn a_patch_cannot_clear_the_title() {
    let app = TestApp::spawn().await;
    let (_, ids) = plan_with_areas(&app, &["Advocacy"]).await;

    refused_patch(&app, &ids[0], json!({ "title": null }), "title").await;

    let area = app.get(&area_path(&ids[0])).await.expect(200);
    assert_eq!(area["title"], "Advocacy");
}

#[actix_web::test]
async fn an_area_with_goals_is_kept_when_deleted_without_cascade() {
    let app = TestApp::spawn().await;
    let (plan_id, area_id) = app.plan_with_area().await;
    let goal = goal_path(&app.create_goal(&area_id, json!({})).await);

    app.delete(&area_path(&area_id)).await.problem(409);

    app.get(&area_path(&area_id)).await.expect(200);
    app.get(&goal).await.expect(200);
    assert_eq!(area_titles(&app, &plan_id).await, ["Member Engagement"]);
}

#[actix_web::test]
async fn cascade_deletes_an_area_with_its_goals_and_their_status_updates() {
    let app = TestApp::spawn().await;
    let (plan_id, area_id) = app.plan_with_area().await;
    let goal = goal_path(&app.create_goal(&area_id, json!({})).await);
    let body = json!({ "status": "on_track" });
    let update = app.post(&format!("{goal}/status-updates"), body).await;
    let update = update.created();
    let update = format!("/api/v1/status-updates/{}", id_of(&update));
    let cascade = format!("{}?cascade=true", area_path(&area_id));

    app.delete(&cascade).await.expect(204);

    for gone in [area_path(&area_id), goal, update] {
        app.get(&gone).await.problem(404);
    }
    assert!(area_titles(&app, &plan_id).await.is_empty());
}

#[actix_web::test]
async fn an_unknown_area_or_plan_is_not_found() {
    let app = TestApp::spawn().await;
    let unknown = "0193a3c4-5b6e-7f00-8a1b-2c3d4e5f6a7b";
    let (path, list) = (area_path(unknown), areas_path(unknown));
    let body = json!({ "title": "A" });

    app.get(&path).await.problem(404);
    app.patch(&path, body.clone()).await.problem(404);
    app.delete(&path).await.problem(404);
    app.get(&list).await.problem(404);
    app.post(&list, body).await.problem(404);
}

#[actix_web::test]
async fn paging_through_areas_visits_each_once_in_order() {
    let app = TestApp::spawn().await;
    let names = ["A", "B", "C", "D", "E"];
    let (plan_id, _) = plan_with_areas(&app, &names).await;

    let (mut seen, mut cursors) = (Vec::new(), Vec::new());
    let mut next = Some(format!("{}?limit=2", areas_path(&plan_id)));
    while let Some(path) = next.take().filter(|_| cursors.len() < names.len()) {
        let reply = app.get(&path).await;
        let link = reply.header("link");
        let page = reply.expect(200);
        seen.extend(titles(&page));
        cursors.push(page["next_cursor"].is_string());
        // Follow the Link header, `<http://host/path?query>; rel="next"`.
        let prefix = format!("<{}", app.address);
        let target = |link: String| {
            let rest = link.strip_prefix(&prefix)?;
            Some(rest.strip_suffix(">; rel=\"next\"")?.to_owned())
        };
        next = link.map(|link| target(link).expect("a Link to the next page here"));
    }

    assert_eq!(
        cursors,
        [true, true, false],
        "next_cursor null on the last page"
    );
    assert_eq!(seen, names);
}

#[actix_web::test]
async fn goal_codes_are_numbered_per_area_and_plan_goals_follow_area_order() {
    let app = TestApp::spawn().await;
    let (plan_id, ids) = plan_with_areas(&app, &["Advocacy", "Careers"]).await;
    let first = app.create_goal(&ids[0], json!({ "title": "Speak" })).await;
    let second = app.create_goal(&ids[1], json!({ "title": "Mentor" })).await;
    let plan_goals = format!("/api/v1/plans/{plan_id}/goals");
    let before = app.get(&plan_goals).await.expect(200);

    let body = json!({ "position": 1 });
    app.patch(&area_path(&ids[1]), body).await.expect(200);

    assert_eq!(first["code"], "1");
    assert_eq!(second["code"], "1");
    assert_eq!(titles(&before), ["Speak", "Mentor"]);
    let after = app.get(&plan_goals).await.expect(200);
    assert_eq!(titles(&after), ["Mentor", "Speak"]);
}
