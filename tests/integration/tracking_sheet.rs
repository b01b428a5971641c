//! The tracking sheet: rows in plan order with their latest update and measures,
//! its filters, its CSV form (quoting, formula injection, file name), content
//! negotiation, and its fixed number of queries.

use chrono::Utc;
use serde_json::{Value, json};
use strategy_tracker::models::event::{self, snapshot};
use strategy_tracker::models::tracking_sheet::{self, SHEET_QUERIES, SheetFilter};
use uuid::Uuid;

use crate::common::{Reply, TestApp, error_fields, id_of};
use crate::helpers::{create_measure, updates_path};

/// The sample plan, with the ids the tests look for.
struct Sample {
    plan_id: String,
    first_area: String,
    second_area: String,
    /// Goal "1": owner "Board", due 2025-06-30, one update (2023-12-31, at risk)
    /// recording its two measures.
    engage: String,
    /// Goal "1.1": three updates; the latest by `as_of` is not the last posted.
    survey: String,
    /// Goal "C": text that a spreadsheet would run as formulas.
    formulas: String,
    /// Goal "2": no update, no owner, no measure.
    courses: String,
}

async fn post_update(app: &TestApp, goal_id: &str, body: Value) {
    app.post(&updates_path(goal_id), body).await.created();
}

/// Two areas: "Member Engagement" with goal 1 and sub-goal 1.1, and "Career
/// Building" with goals C and 2 (see [`Sample`]).
async fn sample_plan(app: &TestApp) -> Sample {
    let plan_id = id_of(&app.create_plan(json!({})).await);
    let first_area = id_of(&app.create_area(&plan_id, "Member Engagement").await);
    let second_area = id_of(&app.create_area(&plan_id, "Career Building").await);
    let engage = id_of(
        &app.create_goal(
            &first_area,
            json!({"title": "Engage members, old and new", "owner": "Board", "due_date": "2025-06-30"}),
        )
        .await,
    );
    let survey = id_of(
        &app.create_goal(
            &first_area,
            json!({"title": "Survey members", "parent_goal_id": engage,
                   "owner": "Marketing Committee", "due_date": "2024-12-31"}),
        )
        .await,
    );
    let formulas = id_of(
        &app.create_goal(
            &second_area,
            json!({"title": "=SUM(A1)", "owner": "@x", "code": "C", "due_date": "2026-01-01"}),
        )
        .await,
    );
    let courses = id_of(
        &app.create_goal(&second_area, json!({"title": "Offer courses"}))
            .await,
    );

    let webinars = id_of(
        &create_measure(
            app,
            &engage,
            json!({"name": "Webinars", "unit": "webinars", "target": 6}),
        )
        .await,
    );
    let balance =
        id_of(&create_measure(app, &engage, json!({"name": "Balance", "target": 10})).await);
    post_update(
        app,
        &engage,
        json!({"status": "at_risk", "as_of": "2023-12-31", "note": "Plan, \"draft\" 2",
               "measurements": [{"measure_id": webinars, "value": 4},
                                {"measure_id": balance, "value": -3}]}),
    )
    .await;
    for (status, as_of, note) in [
        ("at_risk", "2024-01-31", "older"),
        ("on_track", "2024-03-31", "Line one\nline two"),
        ("off_track", "2024-02-29", "posted last, but older"),
    ] {
        let mut body = json!({"status": status, "as_of": as_of, "note": note});
        if as_of == "2024-03-31" {
            body["progress_percent"] = json!(40);
            body["author"] = json!("Core staff");
        }
        post_update(app, &survey, body).await;
    }
    let attendees =
        id_of(&create_measure(app, &formulas, json!({"name": "Attendees", "target": 100})).await);
    post_update(
        app,
        &formulas,
        json!({"status": "completed", "as_of": "2024-06-30", "note": "+1", "author": "-2+3",
               "measurements": [{"measure_id": attendees, "value": 50}]}),
    )
    .await;
    Sample {
        plan_id,
        first_area,
        second_area,
        engage,
        survey,
        formulas,
        courses,
    }
}

fn sheet_path(plan_id: &str, query: &str) -> String {
    format!("/api/v1/plans/{plan_id}/tracking-sheet{query}")
}

async fn sheet(app: &TestApp, plan_id: &str, query: &str) -> Value {
    app.get(&sheet_path(plan_id, query)).await.expect(200)
}

/// The codes of the sheet's rows, in order.
async fn codes(app: &TestApp, plan_id: &str, query: &str) -> Vec<String> {
    sheet(app, plan_id, query).await["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .map(|row| row["code"].as_str().expect("a code").to_owned())
        .collect()
}

/// The body as text, after checking that it is CSV.
fn csv_text(reply: &Reply) -> String {
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(
        reply.header("content-type").as_deref(),
        Some("text/csv; charset=utf-8")
    );
    String::from_utf8(reply.body.clone()).expect("UTF-8")
}

#[actix_web::test]
async fn rows_come_in_plan_order_with_the_latest_update_and_measures() {
    let app = TestApp::spawn().await;
    let s = sample_plan(&app).await;

    let sheet = sheet(&app, &s.plan_id, "").await;

    assert_eq!(sheet["plan_id"], s.plan_id);
    let rows = sheet["rows"].as_array().expect("rows");
    let ids: Vec<&str> = rows
        .iter()
        .map(|row| row["goal_id"].as_str().expect("an id"))
        .collect();
    assert_eq!(ids, [&s.engage, &s.survey, &s.formulas, &s.courses]);
    assert_eq!(
        rows[1],
        json!({
            "area_position": 1, "area_title": "Member Engagement", "goal_id": s.survey,
            "code": "1.1", "title": "Survey members", "owner": "Marketing Committee",
            "status": "on_track", "progress_percent": 40, "due_date": "2024-12-31",
            "latest_update_as_of": "2024-03-31", "latest_update_author": "Core staff",
            "latest_update_note": "Line one\nline two", "measures": []
        })
    );
    let measures = &rows[0]["measures"];
    assert_eq!(
        measures[0]["name"], "Webinars",
        "in the order they were created"
    );
    assert_eq!(
        (
            &measures[0]["unit"],
            &measures[0]["current_value"],
            &measures[0]["target"]
        ),
        (&json!("webinars"), &json!(4.0), &json!(6.0))
    );
    assert_eq!(
        (
            &measures[1]["name"],
            &measures[1]["unit"],
            &measures[1]["current_value"]
        ),
        (&json!("Balance"), &Value::Null, &json!(-3.0))
    );
    assert_eq!(
        (
            &rows[2]["area_position"],
            &rows[2]["area_title"],
            &rows[2]["code"]
        ),
        (&json!(2), &json!("Career Building"), &json!("C"))
    );
    assert_eq!(
        rows[3],
        json!({
            "area_position": 2, "area_title": "Career Building", "goal_id": s.courses,
            "code": "2", "title": "Offer courses", "owner": null, "status": "not_started",
            "progress_percent": null, "due_date": null, "latest_update_as_of": null,
            "latest_update_author": null, "latest_update_note": null, "measures": []
        }),
        "a goal without updates has every field, null where empty"
    );
}

#[actix_web::test]
async fn each_filter_narrows_the_rows_and_they_combine() {
    let app = TestApp::spawn().await;
    let s = sample_plan(&app).await;
    let plan = &s.plan_id;

    assert_eq!(
        codes(&app, plan, &format!("?area_id={}", s.second_area)).await,
        ["C", "2"]
    );
    assert_eq!(codes(&app, plan, "?status=on_track").await, ["1.1"]);
    assert_eq!(codes(&app, plan, "?status=not_started").await, ["2"]);
    assert_eq!(codes(&app, plan, "?owner=Board").await, ["1"]);
    assert_eq!(codes(&app, plan, "?owner=%40x").await, ["C"]);
    assert_eq!(
        codes(&app, plan, "?due_before=2025-06-30").await,
        ["1.1"],
        "due before, not on, the date; goals without a due date left out"
    );
    assert_eq!(
        codes(&app, plan, "?due_before=2025-07-01").await,
        ["1", "1.1"]
    );
    assert_eq!(
        codes(
            &app,
            plan,
            &format!("?area_id={}&status=on_track", s.first_area)
        )
        .await,
        ["1.1"]
    );
    assert!(
        codes(
            &app,
            plan,
            &format!("?area_id={}&owner=Board", s.second_area)
        )
        .await
        .is_empty()
    );
}

#[actix_web::test]
async fn stale_since_lists_goals_without_an_update_on_or_after_the_date() {
    let app = TestApp::spawn().await;
    let s = sample_plan(&app).await;
    let plan = &s.plan_id;

    // Latest updates: 1 on 2023-12-31, 1.1 on 2024-03-31, C on 2024-06-30, 2 never.
    assert_eq!(codes(&app, plan, "?stale_since=2023-12-31").await, ["2"]);
    assert_eq!(
        codes(&app, plan, "?stale_since=2024-03-31").await,
        ["1", "2"]
    );
    assert_eq!(
        codes(&app, plan, "?stale_since=2024-04-01").await,
        ["1", "1.1", "2"]
    );
    assert_eq!(
        codes(&app, plan, "?stale_since=2024-07-01").await,
        ["1", "1.1", "C", "2"]
    );
    assert_eq!(
        codes(
            &app,
            plan,
            &format!("?stale_since=2024-04-01&area_id={}", s.first_area)
        )
        .await,
        ["1", "1.1"]
    );
    assert_eq!(codes(&app, plan, "?stale_since=1999-01-01").await, ["2"]);
}

#[actix_web::test]
async fn the_csv_form_is_quoted_defused_and_named_for_the_plan() {
    let app = TestApp::spawn().await;
    let s = sample_plan(&app).await;

    let reply = app.get(&sheet_path(&s.plan_id, "?format=csv")).await;

    let text = csv_text(&reply);
    let today = Utc::now().date_naive();
    assert_eq!(
        reply.header("content-disposition"),
        Some(format!(
            "attachment; filename=\"core-strategic-plan-2022-2025-tracking-sheet-{today}.csv\""
        ))
    );
    assert!(
        text.starts_with('\u{feff}'),
        "a byte order mark, for spreadsheets"
    );
    let lines: Vec<&str> = text['\u{feff}'.len_utf8()..].split("\r\n").collect();
    assert_eq!(
        lines[0],
        "area_position,area_title,goal_id,code,title,owner,status,progress_percent,due_date,\
         latest_update_as_of,latest_update_author,latest_update_note,\
         measure:Attendees:current,measure:Attendees:target,measure:Balance:current,\
         measure:Balance:target,measure:Webinars:current,measure:Webinars:target"
    );
    assert_eq!(
        lines[1],
        format!(
            "1,Member Engagement,{},1,\"Engage members, old and new\",Board,at_risk,33,2025-06-30,\
             2023-12-31,,\"Plan, \"\"draft\"\" 2\",,,-3,10,4,6",
            s.engage
        ),
        "commas and quotes are quoted; the numeric -3 stays a number; with no progress of \
         its own the goal shows its measures' (33)"
    );
    assert_eq!(
        lines[2],
        format!(
            "1,Member Engagement,{},1.1,Survey members,Marketing Committee,on_track,40,2024-12-31,\
             2024-03-31,Core staff,\"Line one\nline two\",,,,,,",
            s.survey
        ),
        "a line break stays inside its quoted field"
    );
    assert_eq!(
        lines[3],
        format!(
            "2,Career Building,{},C,'=SUM(A1),'@x,completed,50,2026-01-01,2024-06-30,'-2+3,'+1,50,100,,,,",
            s.formulas
        ),
        "text a spreadsheet would run starts with a quote"
    );
    assert_eq!(
        lines[4],
        format!(
            "2,Career Building,{},2,Offer courses,,not_started,,,,,,,,,,,",
            s.courses
        )
    );
    assert_eq!(
        lines[5..],
        [""],
        "every line, the last included, ends with CRLF"
    );
}

#[actix_web::test]
async fn an_explicit_format_wins_over_the_accept_header() {
    let app = TestApp::spawn().await;
    let s = sample_plan(&app).await;
    let get = |query: &'static str, accept: Option<&'static str>| {
        let path = sheet_path(&s.plan_id, query);
        let app = &app;
        async move {
            let headers: Vec<(&str, &str)> = accept.map(|a| ("Accept", a)).into_iter().collect();
            app.get_with(&path, &headers).await
        }
    };
    let is_csv = |reply: &Reply| {
        assert_eq!(reply.status, 200, "{}", reply.text());
        // The format follows Accept (and compression Accept-Encoding).
        let vary = reply.header("vary").unwrap_or_default();
        assert!(
            vary.split(',').any(|name| name.trim() == "Accept"),
            "{vary}"
        );
        match reply.header("content-type").as_deref() {
            Some("text/csv; charset=utf-8") => true,
            Some("application/json") => false,
            other => panic!("unexpected content type {other:?}"),
        }
    };

    assert!(!is_csv(&get("", None).await), "JSON by default");
    assert!(is_csv(&get("", Some("text/csv")).await));
    assert!(is_csv(&get("", Some("text/csv, application/json")).await));
    assert!(!is_csv(
        &get("", Some("text/csv;q=0.5, application/json")).await
    ));
    assert!(!is_csv(&get("", Some("text/csv;q=0, */*")).await));
    assert!(
        !is_csv(&get("", Some("text/html")).await),
        "JSON when neither is named"
    );
    assert!(is_csv(&get("?format=csv", None).await));
    assert!(is_csv(&get("?format=csv", Some("application/json")).await));
    assert!(!is_csv(&get("?format=json", Some("text/csv")).await));
    let json = get("?format=json", Some("text/csv")).await;
    assert_eq!(json.json()["rows"].as_array().map(Vec::len), Some(4));
    assert_eq!(json.header("content-disposition"), None);
}

#[actix_web::test]
async fn an_unknown_plan_is_a_404_in_either_form() {
    let app = TestApp::spawn().await;
    let unknown = Uuid::now_v7().to_string();

    let json = app.get(&sheet_path(&unknown, "")).await.problem(404);
    let csv = app
        .get_with(&sheet_path(&unknown, ""), &[("Accept", "text/csv")])
        .await
        .problem(404);

    assert!(crate::common::detail(&json).contains(&unknown));
    assert_eq!(json, csv);
}

#[actix_web::test]
async fn a_bad_or_unknown_filter_is_a_400_naming_it() {
    let app = TestApp::spawn().await;
    let (plan_id, _) = app.plan_with_area().await;
    let long_owner = format!("?owner={}", "o".repeat(201));

    for (query, field) in [
        ("?due_before=soon", "due_before"),
        ("?stale_since=2024-02-30", "stale_since"),
        ("?status=done", "status"),
        ("?area_id=7", "area_id"),
        ("?format=xlsx", "format"),
        ("?areaid=7", "areaid"),
        (long_owner.as_str(), "owner"),
        // PostgreSQL takes no NUL in text: once a 500.
        ("?owner=Board%00", "owner"),
    ] {
        let problem = app.get(&sheet_path(&plan_id, query)).await.problem(400);
        assert_eq!(error_fields(&problem), [field], "{query}");
    }
    let both = app
        .get(&sheet_path(&plan_id, "?status=done&due_before=soon"))
        .await
        .problem(400);
    assert_eq!(error_fields(&both), ["status", "due_before"]);
}

#[actix_web::test]
async fn the_command_line_prints_the_same_sheet() {
    let app = TestApp::spawn().await;
    let s = sample_plan(&app).await;
    let run = |csv: bool| {
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_strategy-tracker"));
        command
            .args(["sheet", &s.plan_id])
            .env("DATABASE_URL", app.database.url())
            .env("RUST_LOG", "error");
        if csv {
            command.arg("--csv");
        }
        let output = command.output().expect("the command runs");
        assert!(output.status.success(), "{output:?}");
        output.stdout
    };

    let printed_csv = run(true);
    let printed_json: Value = serde_json::from_slice(&run(false)).expect("JSON");

    let served_csv = app.get(&sheet_path(&s.plan_id, "?format=csv")).await.body;
    assert_eq!(
        String::from_utf8(printed_csv),
        String::from_utf8(served_csv)
    );
    assert_eq!(printed_json, sheet(&app, &s.plan_id, "").await);
}

/// Reads the sheet on a connection that counts its queries.
async fn queries_for_sheet(database_url: &str, plan_id: &str, filter: &SheetFilter) -> usize {
    let (mut conn, queries) = crate::common::counting_connection(database_url).await;
    let plan_id = Uuid::parse_str(plan_id).expect("a UUID");
    // What the writes queued is numbered first, as the sequencer soon would.
    event::sequence(&mut conn).await.expect("a pass");
    let before = queries.get();
    tracking_sheet::get(&mut conn, plan_id, filter)
        .await
        .expect("the sheet reads");
    queries.get() - before - snapshot::STATEMENTS
}

/// A plan of `goals` goals in one area, each with a sub-goal, `updates` status
/// updates and a measure with a value in each update.
async fn generated_plan(app: &TestApp, goals: usize, updates: usize) -> String {
    let (plan_id, area_id) = app.plan_with_area().await;
    for n in 0..goals {
        let goal = id_of(
            &app.create_goal(&area_id, json!({"title": format!("Goal {n}")}))
                .await,
        );
        app.create_goal(
            &area_id,
            json!({"title": "Sub-goal", "parent_goal_id": goal}),
        )
        .await;
        let measure = id_of(
            &create_measure(
                app,
                &goal,
                json!({"name": format!("Measure {n}"), "target": 10}),
            )
            .await,
        );
        for day in 1..=updates {
            post_update(
                app,
                &goal,
                json!({"status": "on_track", "as_of": format!("2024-01-{day:02}"),
                       "measurements": [{"measure_id": measure, "value": day}]}),
            )
            .await;
        }
    }
    plan_id
}

#[actix_web::test]
async fn a_sheet_takes_the_same_few_queries_whatever_the_size_of_the_plan() {
    let app = TestApp::spawn().await;
    let url = app.database.url();
    let filtered = SheetFilter {
        stale_since: "2024-01-02".parse().ok(),
        due_before: "2030-01-01".parse().ok(),
        ..SheetFilter::default()
    };
    let mut counts = Vec::new();
    for (goals, updates) in [(0, 0), (1, 1), (8, 3)] {
        let plan_id = generated_plan(&app, goals, updates).await;
        counts.push([
            queries_for_sheet(&url, &plan_id, &SheetFilter::default()).await,
            queries_for_sheet(&url, &plan_id, &filtered).await,
        ]);
    }

    assert_eq!(counts, [[SHEET_QUERIES; 2]; 3]);
}
