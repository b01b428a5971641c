use chrono::{Datelike, Days, NaiveDate, Utc};
use serde_json::{Value, json};

use crate::common::{TestApp, error_fields, id_of};
use crate::helpers::{app_with_goal, create_measure, measures_path, update_path, updates_path};

fn measure_path(measure: &Value) -> String {
    format!("/api/v1/measures/{}", id_of(measure))
}

/// Posts an update as of `as_of` recording these (measure, value) pairs; returns it.
async fn record(app: &TestApp, goal_id: &str, as_of: &str, values: &[(&Value, f64)]) -> Value {
    let measurements: Vec<Value> = values
        .iter()
        .map(|(measure, value)| json!({ "measure_id": id_of(measure), "value": value }))
        .collect();
    let body = json!({ "status": "on_track", "as_of": as_of, "measurements": measurements });
    app.post(&updates_path(goal_id), body).await.created()
}

/// The measure's current value and percent of target, as GET shows them.
async fn standing(app: &TestApp, measure: &Value) -> (Value, Value) {
    let measure = app.get(&measure_path(measure)).await.expect(200);
    (
        measure["current_value"].clone(),
        measure["percent_of_target"].clone(),
    )
}

fn today() -> NaiveDate {
    Utc::now().date_naive()
}

#[actix_web::test]
async fn a_measure_is_created_read_listed_changed_and_deleted() {
    let (app, goal_id) = app_with_goal().await;
    let body = json!({ "name": "Blog and webinar opportunities", "unit": "opportunities",
        "target": 6, "period": "per_year" });

    let reply = app.post(&measures_path(&goal_id), body).await;
    let location = reply.header("location").expect("a Location header");
    let measure = reply.created();
    let second = create_measure(&app, &goal_id, json!({ "name": "Members", "target": 2500 })).await;
    let list = app.get(&measures_path(&goal_id)).await.expect(200);
    let patch = json!({ "unit": null, "target": 8, "direction": "decrease" });
    let changed = app.patch(&location, patch).await.expect(200);
    app.delete(&location).await.expect(204);

    assert_eq!(location, measure_path(&measure));
    assert_eq!(measure["goal_id"], goal_id.as_str());
    let defaults = (&second["baseline"], &second["direction"], &second["period"]);
    assert_eq!(defaults, (&json!(0.0), &json!("increase"), &json!("total")));
    assert_eq!(
        (&measure["current_value"], &measure["percent_of_target"]),
        (&Value::Null, &Value::Null),
        "no value recorded yet"
    );
    let ids: Vec<String> = list["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(id_of)
        .collect();
    assert_eq!(
        ids,
        [id_of(&measure), id_of(&second)],
        "in order of creation"
    );
    assert_eq!(
        changed["name"], "Blog and webinar opportunities",
        "absent fields stay"
    );
    assert_eq!(
        (&changed["unit"], &changed["target"]),
        (&Value::Null, &json!(8.0))
    );
    assert_eq!(changed["direction"], "decrease");
    app.get(&location).await.problem(404);
}

#[actix_web::test]
async fn measures_of_an_unknown_goal_or_an_unknown_measure_are_not_found() {
    let (app, _) = app_with_goal().await;
    let unknown = "0193a3c4-5b6e-7f00-8a1b-2c3d4e5f6a7b";
    let path = format!("/api/v1/measures/{unknown}");

    app.get(&measures_path(unknown)).await.problem(404);
    let body = json!({ "name": "Members", "target": 1 });
    app.post(&measures_path(unknown), body.clone())
        .await
        .problem(404);
    app.get(&path).await.problem(404);
    app.get(&format!("{path}/history")).await.problem(404);
    app.patch(&path, body).await.problem(404);
    app.delete(&path).await.problem(404);
}

#[actix_web::test]
async fn every_bad_field_of_a_measure_is_reported_at_once() {
    let (app, goal_id) = app_with_goal().await;
    let body = json!({ "name": "  ", "unit": "u".repeat(51), "baseline": 1e16,
        "target": "6", "direction": "up", "period": "weekly", "goal_id": goal_id,
        "current_value": 3, "colour": "red" });

    let problem = app.post(&measures_path(&goal_id), body).await.problem(422);
    let missing = app
        .post(&measures_path(&goal_id), json!({}))
        .await
        .problem(422);
    let measure = create_measure(&app, &goal_id, json!({ "name": "Members", "target": 1 })).await;
    let nulls = json!({ "name": null, "target": null, "period": null });
    let cleared = app.patch(&measure_path(&measure), nulls).await.problem(422);

    let mut fields = error_fields(&problem);
    fields.sort();
    let expected = [
        "baseline",
        "colour",
        "current_value",
        "direction",
        "goal_id",
        "name",
        "period",
        "target",
        "unit",
    ];
    assert_eq!(fields, expected);
    assert_eq!(error_fields(&missing), ["name", "target"]);
    assert_eq!(error_fields(&cleared), ["name", "target", "period"]);
    let list = app.get(&measures_path(&goal_id)).await.expect(200);
    assert_eq!(
        list["items"].as_array().map(Vec::len),
        Some(1),
        "nothing else written"
    );
}

#[actix_web::test]
async fn a_status_update_records_measurements_and_a_patch_replaces_them() {
    let (app, goal_id) = app_with_goal().await;
    let webinars = create_measure(&app, &goal_id, json!({ "name": "Webinars", "target": 6 })).await;
    let members = create_measure(&app, &goal_id, json!({ "name": "Members", "target": 10 })).await;

    let update = record(
        &app,
        &goal_id,
        "2024-03-31",
        &[(&members, 7.0), (&webinars, 2.0)],
    )
    .await;
    let read = app.get(&update_path(&update)).await.expect(200);
    let kept = app
        .patch(&update_path(&update), json!({ "note": "More" }))
        .await
        .expect(200);
    let replace = json!({ "measurements": [{ "measure_id": id_of(&members), "value": 8.5 }] });
    let replaced = app.patch(&update_path(&update), replace).await.expect(200);
    let list = app.get(&updates_path(&goal_id)).await.expect(200);
    let cleared = app
        .patch(&update_path(&update), json!({ "measurements": [] }))
        .await
        .expect(200);

    let both = json!([{ "measure_id": id_of(&webinars), "value": 2.0 },
        { "measure_id": id_of(&members), "value": 7.0 }]);
    assert_eq!(
        update["measurements"], both,
        "in the order the measures were made"
    );
    assert_eq!(read, update);
    assert_eq!(kept["measurements"], both, "left out, they stay");
    let only = json!([{ "measure_id": id_of(&members), "value": 8.5 }]);
    assert_eq!(replaced["measurements"], only);
    assert_eq!(list["items"][0]["measurements"], only);
    assert_eq!(cleared["measurements"], json!([]));
    let without = app
        .post(&updates_path(&goal_id), json!({ "status": "at_risk" }))
        .await;
    assert_eq!(without.created()["measurements"], json!([]));
}

#[actix_web::test]
async fn measurements_must_be_values_of_the_goals_own_measures_once_each() {
    let app = TestApp::spawn().await;
    let (_, area_id) = app.plan_with_area().await;
    let goal_id = id_of(&app.create_goal(&area_id, json!({})).await);
    let other_goal = id_of(&app.create_goal(&area_id, json!({ "title": "Other" })).await);
    let own = create_measure(&app, &goal_id, json!({ "name": "Webinars", "target": 6 })).await;
    let others = create_measure(&app, &other_goal, json!({ "name": "Members", "target": 9 })).await;
    let item =
        |measure: &Value, value: Value| json!({ "measure_id": id_of(measure), "value": value });
    let updates = updates_path(&goal_id);
    let post = |measurements: Value| {
        let body = json!({ "status": "on_track", "measurements": measurements });
        app.post(&updates, body)
    };

    let wrong_goal = post(json!([item(&others, json!(1))])).await.problem(422);
    let twice = post(json!([item(&own, json!(1)), item(&own, json!(2))]))
        .await
        .problem(422);
    let unknown_id = json!([{ "measure_id": "0193a3c4-5b6e-7f00-8a1b-2c3d4e5f6a7b", "value": 1 }]);
    let unknown = post(unknown_id).await.problem(404);
    let bad_items = json!([{ "measure_id": "x", "value": "3", "unit": "u" }, 4, { "value": 1e16 }]);
    let malformed = post(bad_items).await.problem(422);
    let not_a_list = post(json!({ "measure_id": id_of(&own) }))
        .await
        .problem(422);
    let update = record(&app, &goal_id, "2024-03-31", &[(&own, 1.0)]).await;
    let patch = json!({ "measurements": [item(&others, json!(2))] });
    let patched = app.patch(&update_path(&update), patch).await.problem(422);

    assert_eq!(error_fields(&wrong_goal), ["measurements/0/measure_id"]);
    assert_eq!(error_fields(&twice), ["measurements/1/measure_id"]);
    assert_eq!(error_fields(&unknown), ["measurements/0/measure_id"]);
    let expected = [
        "measurements/0/unit",
        "measurements/0/measure_id",
        "measurements/0/value",
        "measurements/1",
        "measurements/2/measure_id",
        "measurements/2/value",
    ];
    assert_eq!(error_fields(&malformed), expected);
    assert_eq!(error_fields(&not_a_list), ["measurements"]);
    assert_eq!(error_fields(&patched), ["measurements/0/measure_id"]);
    let updates = app.get(&updates_path(&goal_id)).await.expect(200);
    assert_eq!(
        updates["items"].as_array().map(Vec::len),
        Some(1),
        "only the valid one"
    );
    let kept = app.get(&update_path(&update)).await.expect(200);
    assert_eq!(
        kept["measurements"], update["measurements"],
        "the failed patch wrote nothing"
    );
}

#[actix_web::test]
async fn a_measure_with_recorded_values_is_deleted_only_with_cascade() {
    let (app, goal_id) = app_with_goal().await;
    let measure = create_measure(&app, &goal_id, json!({ "name": "Webinars", "target": 6 })).await;
    let update = record(&app, &goal_id, "2024-03-31", &[(&measure, 2.0)]).await;

    let conflict = app.delete(&measure_path(&measure)).await.problem(409);
    let goal_conflict = app
        .delete(&format!("/api/v1/goals/{goal_id}"))
        .await
        .problem(409);
    app.get(&measure_path(&measure)).await.expect(200);
    let cascade = format!("{}?cascade=true", measure_path(&measure));
    app.delete(&cascade).await.expect(204);

    assert!(crate::common::detail(&conflict).contains("cascade=true"));
    assert!(crate::common::detail(&goal_conflict).contains("1 measure(s)"));
    app.get(&measure_path(&measure)).await.problem(404);
    let kept = app.get(&update_path(&update)).await.expect(200);
    assert_eq!(
        kept["measurements"],
        json!([]),
        "the update stays, without the value"
    );
}

#[actix_web::test]
async fn a_total_stands_at_its_latest_value_by_as_of() {
    let (app, goal_id) = app_with_goal().await;
    let body = json!({ "name": "Members", "baseline": 100, "target": 200 });
    let members = create_measure(&app, &goal_id, body).await;

    record(&app, &goal_id, "2024-06-30", &[(&members, 150.0)]).await;
    let older = record(&app, &goal_id, "2024-03-31", &[(&members, 120.0)]).await;
    let first = standing(&app, &members).await;
    app.patch(&update_path(&older), json!({ "as_of": "2024-09-30" }))
        .await
        .expect(200);
    let moved = standing(&app, &members).await;
    let patch = json!({ "baseline": 300, "target": 100, "direction": "decrease" });
    let decreasing = app.patch(&measure_path(&members), patch).await.expect(200);

    assert_eq!(
        first,
        (json!(150.0), json!(50.0)),
        "an older update posted later does not count"
    );
    assert_eq!(
        moved,
        (json!(120.0), json!(20.0)),
        "the latest by as_of does"
    );
    let shown = (
        &decreasing["current_value"],
        &decreasing["percent_of_target"],
    );
    assert_eq!(
        shown,
        (&json!(120.0), &json!(90.0)),
        "300 down to 120 of the way to 100"
    );
}

#[actix_web::test]
async fn percent_of_target_stays_within_0_and_100_in_either_direction() {
    let (app, goal_id) = app_with_goal().await;
    let up = json!({ "name": "Members", "baseline": 100, "target": 200 });
    let up = create_measure(&app, &goal_id, up).await;
    let down = json!({ "name": "Costs", "baseline": 50, "target": 20, "direction": "decrease" });
    let down = create_measure(&app, &goal_id, down).await;

    record(&app, &goal_id, "2024-01-31", &[(&up, 90.0), (&down, 60.0)]).await;
    let wrong_way = (standing(&app, &up).await, standing(&app, &down).await);
    record(&app, &goal_id, "2024-02-29", &[(&up, 250.0), (&down, 10.0)]).await;
    let past_target = (standing(&app, &up).await, standing(&app, &down).await);
    record(&app, &goal_id, "2024-03-31", &[(&up, 133.0), (&down, 40.0)]).await;
    let between = (standing(&app, &up).await, standing(&app, &down).await);

    assert_eq!(wrong_way.0.1, json!(0.0));
    assert_eq!(wrong_way.1.1, json!(0.0));
    assert_eq!(
        (past_target.0.1.clone(), past_target.1.1.clone()),
        (json!(100.0), json!(100.0))
    );
    assert_eq!(between.0, (json!(133.0), json!(33.0)));
    assert_eq!(between.1, (json!(40.0), json!(33.3)), "one decimal");
}

#[actix_web::test]
async fn a_per_period_measure_sums_the_values_of_the_current_period_only() {
    let (app, goal_id) = app_with_goal().await;
    let yearly = json!({ "name": "Webinars", "target": 6, "period": "per_year" });
    let yearly = create_measure(&app, &goal_id, yearly).await;
    let monthly = json!({ "name": "Posts", "target": 4, "period": "per_month" });
    let monthly = create_measure(&app, &goal_id, monthly).await;
    let today = today();
    let first_of_year = today.with_ordinal(1).expect("January 1st");
    let first_of_month = today.with_day(1).expect("the 1st");
    let day_before = |date: NaiveDate| date.checked_sub_days(Days::new(1)).expect("a day");

    let dates = [day_before(first_of_year), first_of_year, today];
    for (date, value) in dates.iter().zip([5.0, 1.0, 2.0]) {
        record(&app, &goal_id, &date.to_string(), &[(&yearly, value)]).await;
    }
    let dates = [day_before(first_of_month), first_of_month];
    for (date, value) in dates.iter().zip([3.0, 1.0]) {
        record(&app, &goal_id, &date.to_string(), &[(&monthly, value)]).await;
    }

    // Last year's value is left out; this year's two (one, on January 1st) count.
    assert_eq!(standing(&app, &yearly).await, (json!(3.0), json!(50.0)));
    assert_eq!(standing(&app, &monthly).await, (json!(1.0), json!(25.0)));
}

#[actix_web::test]
async fn a_per_period_measure_without_values_this_period_stands_at_zero() {
    let (app, goal_id) = app_with_goal().await;
    let quarterly = json!({ "name": "Reports", "target": 2, "period": "per_quarter" });
    let quarterly = create_measure(&app, &goal_id, quarterly).await;

    record(&app, &goal_id, "2020-01-31", &[(&quarterly, 2.0)]).await;

    assert_eq!(standing(&app, &quarterly).await, (json!(0.0), json!(0.0)));
}

#[actix_web::test]
async fn a_measures_history_lists_its_values_newest_first_page_by_page() {
    let (app, goal_id) = app_with_goal().await;
    let measure = create_measure(&app, &goal_id, json!({ "name": "Webinars", "target": 6 })).await;
    let other = create_measure(&app, &goal_id, json!({ "name": "Members", "target": 6 })).await;
    for (as_of, value) in [
        ("2024-02-29", 2.0),
        ("2024-04-30", 4.0),
        ("2024-01-31", 1.0),
    ] {
        record(&app, &goal_id, as_of, &[(&measure, value), (&other, 9.0)]).await;
    }
    record(&app, &goal_id, "2024-05-31", &[]).await;

    let (mut seen, mut links) = (Vec::new(), Vec::new());
    let path = format!("{}/history", measure_path(&measure));
    let mut query = "limit=2".to_owned();
    loop {
        let reply = app.get(&format!("{path}?{query}")).await;
        links.push(reply.header("link").is_some());
        let page = reply.expect(200);
        for item in page["items"].as_array().expect("items") {
            seen.push((item["as_of"].clone(), item["value"].clone()));
            assert!(item["status_update_id"].is_string());
        }
        let Some(cursor) = page["next_cursor"].as_str() else {
            break;
        };
        query = format!("limit=2&cursor={cursor}");
    }

    let newest_first = [
        ("2024-04-30", 4.0),
        ("2024-02-29", 2.0),
        ("2024-01-31", 1.0),
    ]
    .map(|(as_of, value)| (json!(as_of), json!(value)));
    assert_eq!(seen, newest_first);
    assert_eq!(links, [true, false]);
}

#[actix_web::test]
async fn an_exported_document_carries_measurements_and_imports_without_them() {
    let (app, goal_id) = app_with_goal().await;
    let goal = app
        .get(&format!("/api/v1/goals/{goal_id}"))
        .await
        .expect(200);
    let plan_id = goal["plan_id"].as_str().expect("a plan id").to_owned();
    let measure = create_measure(&app, &goal_id, json!({ "name": "Webinars", "target": 6 })).await;
    record(&app, &goal_id, "2024-03-31", &[(&measure, 2.0)]).await;

    let path = format!("/api/v1/plans/{plan_id}/document");
    let exported = app.get(&path).await.expect(200);
    let imported = app.post("/api/v1/plans/import", exported.clone()).await;

    let update = &exported["areas"][0]["goals"][0]["status_updates"][0];
    let recorded = json!([{ "measure_id": id_of(&measure), "value": 2.0 }]);
    assert_eq!(update["measurements"], recorded);
    assert_eq!(imported.expect(201)["created"]["status_updates"], 1);
}

/// The goal's progress, as GET shows it.
async fn goal_progress(app: &TestApp, goal_id: &str) -> Value {
    app.get(&format!("/api/v1/goals/{goal_id}"))
        .await
        .expect(200)["progress_percent"]
        .clone()
}

#[actix_web::test]
async fn a_goal_without_progress_in_its_latest_update_takes_it_from_its_measures() {
    let (app, goal_id) = app_with_goal().await;
    let members = create_measure(
        &app,
        &goal_id,
        json!({"name": "Members", "baseline": 100, "target": 200}),
    )
    .await;
    let events = create_measure(&app, &goal_id, json!({"name": "Events", "target": 4})).await;
    let no_value_yet = goal_progress(&app, &goal_id).await;

    record(&app, &goal_id, "2024-03-31", &[(&members, 150.0)]).await;
    let one_measure = goal_progress(&app, &goal_id).await;
    record(
        &app,
        &goal_id,
        "2024-06-30",
        &[(&members, 150.0), (&events, 4.0)],
    )
    .await;
    let both_measures = goal_progress(&app, &goal_id).await;
    let explicit = json!({"status": "on_track", "as_of": "2024-07-31", "progress_percent": 10});
    app.post(&updates_path(&goal_id), explicit).await.created();
    let own_progress = goal_progress(&app, &goal_id).await;

    assert_eq!(no_value_yet, Value::Null);
    assert_eq!(one_measure, 50, "halfway from 100 to 200 members");
    assert_eq!(both_measures, 75, "the mean of 50% and 100%");
    assert_eq!(own_progress, 10, "an update's own progress wins");
}

#[actix_web::test]
async fn a_goal_measured_progress_follows_a_changed_target_and_a_deleted_measure() {
    let (app, goal_id) = app_with_goal().await;
    let members = create_measure(&app, &goal_id, json!({"name": "Members", "target": 200})).await;
    let events = create_measure(&app, &goal_id, json!({"name": "Events", "target": 10})).await;
    record(
        &app,
        &goal_id,
        "2024-03-31",
        &[(&members, 100.0), (&events, 10.0)],
    )
    .await;
    assert_eq!(goal_progress(&app, &goal_id).await, 75);

    app.patch(&measure_path(&members), json!({"target": 400}))
        .await
        .expect(200);
    let after_new_target = goal_progress(&app, &goal_id).await;
    app.delete(&format!("{}?cascade=true", measure_path(&events)))
        .await
        .expect(204);
    let after_delete = goal_progress(&app, &goal_id).await;

    assert_eq!(after_new_target, 63, "the mean of 25% and 100%, rounded");
    assert_eq!(after_delete, 25);
}
