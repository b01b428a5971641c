use serde_json::{Value, json};

use crate::common::{TestApp, goal_path, id_of};
use crate::helpers::area_path;

const STATUSES: [&str; 7] = [
    "not_started",
    "on_track",
    "at_risk",
    "off_track",
    "on_hold",
    "completed",
    "discontinued",
];

fn plan_path(plan_id: &str) -> String {
    format!("/api/v1/plans/{plan_id}")
}

/// The `progress` a plan or area should show: these goals by status (the others 0)
/// and this percent.
fn progress(by_status: &[(&str, u32)], percent: Value) -> Value {
    let count = |status: &str| {
        let found = by_status.iter().find(|(name, _)| *name == status);
        found.map_or(0, |(_, count)| *count)
    };
    let counts: serde_json::Map<String, Value> = STATUSES
        .iter()
        .map(|status| (status.to_string(), json!(count(status))))
        .collect();
    let goal_count: u32 = by_status.iter().map(|(_, count)| count).sum();
    json!({ "goal_count": goal_count, "by_status": counts, "percent_complete": percent })
}

/// The progress of a plan or area without goals.
fn no_goals() -> Value {
    progress(&[], Value::Null)
}

/// The `progress` of the plan or area at `path`.
async fn progress_at(app: &TestApp, path: &str) -> Value {
    app.get(path).await.expect(200)["progress"].clone()
}

/// The percent complete of the plan or area at `path`.
async fn percent_at(app: &TestApp, path: &str) -> Value {
    progress_at(app, path).await["percent_complete"].clone()
}

/// Posts a status update to the goal; returns the update.
async fn report(app: &TestApp, goal: &Value, status: &str, progress: Value) -> Value {
    let path = format!("{}/status-updates", goal_path(goal));
    let body = json!({ "status": status, "progress_percent": progress });
    app.post(&path, body).await.created()
}

/// The service with one plan and one area, where most tests work.
struct Plan {
    app: TestApp,
    id: String,
    area_id: String,
}

impl Plan {
    async fn new() -> Self {
        let app = TestApp::spawn().await;
        let (id, area_id) = app.plan_with_area().await;
        Self { app, id, area_id }
    }

    /// Another area of the plan.
    async fn area(&self, title: &str) -> String {
        id_of(&self.app.create_area(&self.id, title).await)
    }

    /// A top-level goal of `area_id` with this status and progress (none posted
    /// for `not_started`).
    async fn goal_in(&self, area_id: &str, status: &str, progress: Value) -> Value {
        let goal = self.app.create_goal(area_id, json!({})).await;
        self.report_unless_not_started(&goal, status, progress)
            .await;
        goal
    }

    /// A top-level goal of the first area.
    async fn goal(&self, status: &str, progress: Value) -> Value {
        self.goal_in(&self.area_id, status, progress).await
    }

    /// A sub-goal of `parent` with this status and progress.
    async fn sub_goal(&self, parent: &Value, status: &str, progress: Value) -> Value {
        let area_id = parent["area_id"].as_str().expect("an area id");
        let body = json!({ "parent_goal_id": parent["id"] });
        let goal = self.app.create_goal(area_id, body).await;
        self.report_unless_not_started(&goal, status, progress)
            .await;
        goal
    }

    async fn report_unless_not_started(&self, goal: &Value, status: &str, progress: Value) {
        if status != "not_started" || !progress.is_null() {
            report(&self.app, goal, status, progress).await;
        }
    }

    async fn plan_progress(&self) -> Value {
        progress_at(&self.app, &plan_path(&self.id)).await
    }

    async fn area_progress(&self) -> Value {
        progress_at(&self.app, &area_path(&self.area_id)).await
    }

    async fn plan_percent(&self) -> Value {
        percent_at(&self.app, &plan_path(&self.id)).await
    }

    async fn area_percent(&self) -> Value {
        percent_at(&self.app, &area_path(&self.area_id)).await
    }
}

#[actix_web::test]
async fn a_new_plan_and_area_show_no_goals_and_no_percent() {
    let app = TestApp::spawn().await;

    let plan = app.create_plan(json!({})).await;
    let area = app.create_area(&id_of(&plan), "Member Engagement").await;

    assert_eq!(plan["progress"], no_goals());
    assert_eq!(area["progress"], no_goals());
    assert_eq!(
        progress_at(&app, &plan_path(&id_of(&plan))).await,
        no_goals()
    );
    assert_eq!(
        progress_at(&app, &area_path(&id_of(&area))).await,
        no_goals()
    );
}

#[actix_web::test]
async fn goals_and_sub_goals_at_every_level_are_counted_by_status() {
    let plan = Plan::new().await;
    let one = plan.goal("on_track", json!(50)).await;
    let one_one = plan.sub_goal(&one, "at_risk", json!(20)).await;
    plan.sub_goal(&one_one, "completed", Value::Null).await;
    plan.sub_goal(&one_one, "discontinued", Value::Null).await;
    plan.goal("on_hold", Value::Null).await;
    let other_area = plan.area("Publications").await;
    plan.goal_in(&other_area, "not_started", Value::Null).await;
    plan.goal_in(&other_area, "off_track", json!(5)).await;

    let area = plan.area_progress().await;
    let whole_plan = plan.plan_progress().await;
    let other = progress_at(&plan.app, &area_path(&other_area)).await;

    assert_eq!(area["goal_count"], 5);
    let area_counts = [
        ("on_track", 1),
        ("at_risk", 1),
        ("completed", 1),
        ("discontinued", 1),
        ("on_hold", 1),
    ];
    assert_eq!(
        area["by_status"],
        progress(&area_counts, Value::Null)["by_status"]
    );
    assert_eq!(
        other["by_status"],
        progress(&[("not_started", 1), ("off_track", 1)], Value::Null)["by_status"]
    );
    assert_eq!(whole_plan["goal_count"], 7);
    assert_eq!(whole_plan["by_status"]["not_started"], 1);
    assert_eq!(whole_plan["by_status"]["off_track"], 1);
    assert_eq!(whole_plan["by_status"]["on_track"], 1);
}

#[actix_web::test]
async fn a_goal_without_sub_goals_counts_by_its_progress_or_zero() {
    let plan = Plan::new().await;
    plan.goal("on_track", json!(40)).await;
    plan.goal("on_hold", Value::Null).await;
    plan.goal("not_started", Value::Null).await;

    let expected = [("on_track", 1), ("on_hold", 1), ("not_started", 1)];
    assert_eq!(plan.area_progress().await, progress(&expected, json!(13.3)));
    assert_eq!(plan.plan_progress().await, progress(&expected, json!(13.3)));
}

#[actix_web::test]
async fn sub_goals_roll_up_into_their_parent_at_every_level() {
    let plan = Plan::new().await;
    // 1 (its own 99 % is not counted) has 1.1 at 30 and 1.2, whose 1.2.1 at 90 and
    // 1.2.2 at 10 make 50: 1 is worth 40. With 2 at 70 the area is at 55.
    let one = plan.goal("on_track", json!(99)).await;
    plan.sub_goal(&one, "on_track", json!(30)).await;
    let one_two = plan.sub_goal(&one, "at_risk", json!(1)).await;
    plan.sub_goal(&one_two, "on_track", json!(90)).await;
    plan.sub_goal(&one_two, "off_track", json!(10)).await;
    plan.goal("on_track", json!(70)).await;

    assert_eq!(plan.area_percent().await, 55.0);
    assert_eq!(plan.plan_percent().await, 55.0);
}

#[actix_web::test]
async fn a_completed_goal_counts_as_done_whatever_its_sub_goals_say() {
    let plan = Plan::new().await;
    let done = plan.goal("completed", json!(20)).await;
    plan.sub_goal(&done, "not_started", Value::Null).await;
    plan.sub_goal(&done, "off_track", json!(10)).await;
    plan.goal("on_track", json!(0)).await;
    let parent = plan.goal("on_track", json!(0)).await;
    plan.sub_goal(&parent, "completed", Value::Null).await;
    plan.sub_goal(&parent, "on_track", json!(50)).await;

    // (100 + 0 + 75) / 3
    assert_eq!(plan.area_percent().await, 58.3);
}

#[actix_web::test]
async fn discontinued_goals_are_left_out_of_every_mean() {
    let plan = Plan::new().await;
    let parent = plan.goal("on_track", json!(0)).await;
    plan.sub_goal(&parent, "on_track", json!(60)).await;
    plan.sub_goal(&parent, "discontinued", json!(0)).await;
    let dropped = plan.goal("discontinued", json!(0)).await;
    plan.sub_goal(&dropped, "completed", Value::Null).await;
    let alone = plan.goal("on_track", json!(20)).await;
    plan.sub_goal(&alone, "discontinued", json!(100)).await;

    // 1 is its one counted sub-goal (60); 3 has only a discontinued one: its own 20.
    assert_eq!(plan.area_percent().await, 40.0);
    let counts = plan.area_progress().await["by_status"].clone();
    assert_eq!(counts["discontinued"], 3, "still counted by status");
}

#[actix_web::test]
async fn only_discontinued_goals_leave_no_percent() {
    let plan = Plan::new().await;
    plan.goal("discontinued", json!(30)).await;

    let expected = progress(&[("discontinued", 1)], Value::Null);
    assert_eq!(plan.area_progress().await, expected);
    assert_eq!(plan.plan_progress().await, expected);
}

#[actix_web::test]
async fn a_plan_weighs_the_top_level_goals_of_all_its_areas_alike() {
    let plan = Plan::new().await;
    plan.goal("completed", Value::Null).await;
    plan.goal("completed", Value::Null).await;
    let other_area = plan.area("Publications").await;
    let small = plan.goal_in(&other_area, "on_track", json!(40)).await;
    plan.sub_goal(&small, "on_track", json!(40)).await;
    let empty_area = plan.area("Outreach").await;

    assert_eq!(plan.area_percent().await, 100.0);
    assert_eq!(percent_at(&plan.app, &area_path(&other_area)).await, 40.0);
    assert_eq!(
        percent_at(&plan.app, &area_path(&empty_area)).await,
        Value::Null
    );
    assert_eq!(plan.plan_percent().await, 80.0);
}

#[actix_web::test]
async fn lists_show_each_plan_and_area_with_its_own_progress() {
    let plan = Plan::new().await;
    plan.goal("completed", Value::Null).await;
    let other_area = plan.area("Publications").await;
    plan.goal_in(&other_area, "on_track", json!(30)).await;
    let other_plan = plan
        .app
        .create_plan(json!({ "period_start": "2021-01-01" }))
        .await;

    let plans = plan.app.get("/api/v1/plans").await.expect(200);
    let areas_path = format!("/api/v1/plans/{}/areas", plan.id);
    let areas = plan.app.get(&areas_path).await.expect(200);

    let done = progress(&[("completed", 1)], json!(100.0));
    let started = progress(&[("on_track", 1)], json!(30.0));
    let both = progress(&[("completed", 1), ("on_track", 1)], json!(65.0));
    assert_eq!(plans["items"][0]["id"], plan.id.as_str());
    assert_eq!(plans["items"][0]["progress"], both);
    assert_eq!(plans["items"][1]["id"], other_plan["id"]);
    assert_eq!(plans["items"][1]["progress"], no_goals());
    assert_eq!(areas["items"][0]["progress"], done);
    assert_eq!(areas["items"][1]["progress"], started);
    let fetched = plan.app.get(&area_path(&plan.area_id)).await.expect(200);
    assert_eq!(areas["items"][0], fetched, "a listed area is as fetched");
}

#[actix_web::test]
async fn patch_answers_show_the_current_progress() {
    let plan = Plan::new().await;
    plan.goal("on_track", json!(25)).await;
    let expected = progress(&[("on_track", 1)], json!(25.0));

    let body = json!({ "title": "Renamed" });
    let patched_plan = plan.app.patch(&plan_path(&plan.id), body.clone()).await;
    let patched_area = plan.app.patch(&area_path(&plan.area_id), body).await;

    assert_eq!(patched_plan.expect(200)["progress"], expected);
    assert_eq!(patched_area.expect(200)["progress"], expected);
}

#[actix_web::test]
async fn progress_follows_status_updates_as_they_are_posted_edited_and_deleted() {
    let plan = Plan::new().await;
    let goal = plan.goal("not_started", Value::Null).await;
    plan.goal("completed", Value::Null).await;
    assert_eq!(plan.plan_percent().await, 50.0);

    let update = report(&plan.app, &goal, "on_track", json!(60)).await;
    assert_eq!(plan.plan_percent().await, 80.0);
    assert_eq!(plan.area_progress().await["by_status"]["on_track"], 1);

    let update_path = format!("/api/v1/status-updates/{}", id_of(&update));
    let body = json!({ "status": "discontinued" });
    plan.app.patch(&update_path, body).await.expect(200);
    assert_eq!(plan.plan_percent().await, 100.0);
    assert_eq!(plan.area_progress().await["by_status"]["discontinued"], 1);

    plan.app.delete(&update_path).await.expect(204);
    let expected = progress(&[("not_started", 1), ("completed", 1)], json!(50.0));
    assert_eq!(plan.plan_progress().await, expected);
    assert_eq!(plan.area_progress().await, expected);
}

#[actix_web::test]
async fn deleting_or_moving_goals_changes_the_progress() {
    let plan = Plan::new().await;
    let parent = plan.goal("on_track", json!(10)).await;
    let sub = plan.sub_goal(&parent, "completed", Value::Null).await;
    let other_area = plan.area("Publications").await;
    assert_eq!(plan.area_percent().await, 100.0);

    // A sub-goal moved to the top level stands on its own; its old parent is at 10.
    let body = json!({ "parent_goal_id": null });
    plan.app.patch(&goal_path(&sub), body).await.expect(200);
    assert_eq!(plan.area_percent().await, 55.0);

    let cascade = format!("{}?cascade=true", goal_path(&sub));
    plan.app.delete(&cascade).await.expect(204);
    assert_eq!(plan.area_percent().await, 10.0);
    let other = progress_at(&plan.app, &area_path(&other_area)).await;
    assert_eq!(other, no_goals());
}
