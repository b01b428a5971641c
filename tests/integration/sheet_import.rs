//! Status updates from the tracking sheet: the export → edit → import round trip,
//! the unchanged and duplicate rules, dry runs, every bad-input rule, and the fixed
//! number of queries.

use awc::http::Method;
use chrono::{Days, Utc};
use serde_json::{Value, json};
use strategy_tracker::models::sheet_import::{self, IMPORT_QUERIES, SheetSource};
use strategy_tracker::models::writer::Writer;
use uuid::Uuid;

use crate::common::{Reply, TestApp, error_fields, error_message, id_of};
use crate::helpers::updates_path;

/// Two areas whose first goals share the code "1" (as "2.2" repeats in the Core plan).
struct Sample {
    plan_id: String,
    /// Area 1, goal "1": a `Webinars` measure and one update (on track, 2024-03-31, 2).
    engage: String,
    /// Area 1, goal "2": one update whose note a CSV must quote.
    survey: String,
    /// Area 2, goal "1": no update.
    courses: String,
}

async fn sample(app: &TestApp) -> Sample {
    let plan_id = id_of(&app.create_plan(json!({})).await);
    let first = id_of(&app.create_area(&plan_id, "Member Engagement").await);
    let second = id_of(&app.create_area(&plan_id, "Career Building").await);
    let engage = id_of(&app.create_goal(&first, json!({"title": "Engage"})).await);
    let survey = id_of(&app.create_goal(&first, json!({"title": "Survey"})).await);
    let courses = id_of(&app.create_goal(&second, json!({"title": "Courses"})).await);
    let measure = app
        .post(
            &format!("/api/v1/goals/{engage}/measures"),
            json!({"name": "Webinars", "target": 6}),
        )
        .await
        .created();
    app.post(
        &updates_path(&engage),
        json!({"status": "on_track", "as_of": "2024-03-31", "author": "Core staff",
               "measurements": [{"measure_id": id_of(&measure), "value": 2}]}),
    )
    .await
    .created();
    app.post(
        &updates_path(&survey),
        json!({"status": "at_risk", "as_of": "2024-02-29", "note": "=Late, \"again\"\nsee minutes"}),
    )
    .await
    .created();
    Sample {
        plan_id,
        engage,
        survey,
        courses,
    }
}

fn import_path(plan_id: &str, query: &str) -> String {
    format!("/api/v1/plans/{plan_id}/status-updates/import{query}")
}

async fn import_csv(app: &TestApp, plan_id: &str, csv: &str) -> Reply {
    let path = import_path(plan_id, "");
    app.raw(
        Method::POST,
        &path,
        Some("text/csv"),
        csv.as_bytes().to_vec(),
    )
    .await
}

async fn updates(app: &TestApp, goal_id: &str) -> Vec<Value> {
    let page = app.get(&updates_path(goal_id)).await.expect(200);
    page["items"].as_array().expect("items").clone()
}

async fn goal(app: &TestApp, goal_id: &str) -> Value {
    app.get(&format!("/api/v1/goals/{goal_id}"))
        .await
        .expect(200)
}

/// The outcome of each row of a report, with its row number.
fn outcomes(report: &Value) -> Vec<(u64, String)> {
    report["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .map(|row| {
            let outcome = row["outcome"].as_str().expect("an outcome").to_owned();
            (row["row"].as_u64().expect("a row"), outcome)
        })
        .collect()
}

/// The exported CSV with the cells of the row of `goal_id` changed: `column = value`.
fn edit(csv: &str, goal_id: &str, changes: &[(&str, &str)]) -> String {
    let lines: Vec<&str> = csv.split("\r\n").collect();
    let header: Vec<&str> = lines[0].trim_start_matches('\u{feff}').split(',').collect();
    let edited: Vec<String> = lines
        .iter()
        .map(|line| {
            if !line.contains(goal_id) {
                return (*line).to_owned();
            }
            let mut cells: Vec<String> = line.split(',').map(str::to_owned).collect();
            for (column, value) in changes {
                let at = header
                    .iter()
                    .position(|name| name == column)
                    .expect("a column");
                cells[at] = (*value).to_owned();
            }
            cells.join(",")
        })
        .collect();
    edited.join("\r\n")
}

#[actix_web::test]
async fn an_exported_sheet_with_two_rows_edited_imports_as_two_updates() {
    let app = TestApp::spawn().await;
    let s = sample(&app).await;
    let export = app
        .get(&format!(
            "/api/v1/plans/{}/tracking-sheet?format=csv",
            s.plan_id
        ))
        .await
        .text();
    let csv = edit(
        &export,
        &s.engage,
        &[
            ("status", "at_risk"),
            ("latest_update_as_of", "2024-06-30"),
            ("latest_update_note", "One webinar was cancelled"),
            ("measure:Webinars:current", "3"),
        ],
    );
    let csv = edit(
        &csv,
        &s.courses,
        &[("status", "on_track"), ("progress_percent", "50")],
    );
    // LF line ends, as some editors save them, read the same.
    let csv = csv.replace("\r\n", "\n");

    let report = import_csv(&app, &s.plan_id, &csv).await.expect(200);

    assert_eq!(report["dry_run"], false);
    assert_eq!(report["created"], 2);
    assert_eq!(report["skipped_unchanged"], 1);
    assert_eq!(report["skipped_duplicate"], 0);
    assert_eq!(
        outcomes(&report),
        [
            (2, "created".to_owned()),
            // The survey's note spans two lines of the file.
            (3, "unchanged".to_owned()),
            (5, "created".to_owned())
        ]
    );
    let engage_updates = updates(&app, &s.engage).await;
    assert_eq!(engage_updates.len(), 2);
    assert_eq!(
        engage_updates[0]["id"],
        report["rows"][0]["status_update_id"]
    );
    assert_eq!(engage_updates[0]["as_of"], "2024-06-30");
    assert_eq!(engage_updates[0]["author"], "Core staff");
    assert_eq!(engage_updates[0]["measurements"][0]["value"], 3.0);
    assert_eq!(goal(&app, &s.engage).await["status"], "at_risk");
    let courses = updates(&app, &s.courses).await;
    assert_eq!(courses.len(), 1);
    assert_eq!(courses[0]["as_of"], Utc::now().date_naive().to_string());
    assert_eq!(goal(&app, &s.courses).await["status"], "on_track");
    assert_eq!(goal(&app, &s.courses).await["progress_percent"], 50);
    assert_eq!(updates(&app, &s.survey).await.len(), 1);

    // The same file again records nothing: its rows are now what the goals say.
    let again = import_csv(&app, &s.plan_id, &csv).await.expect(200);
    assert_eq!(again["created"], 0);
    assert_eq!(again["skipped_unchanged"], 3);
    assert_eq!(updates(&app, &s.engage).await.len(), 2);
}

#[actix_web::test]
async fn an_update_already_recorded_on_the_rows_date_is_not_recorded_twice() {
    let app = TestApp::spawn().await;
    let s = sample(&app).await;
    let rows = json!([{"goal_id": s.courses, "status": "at_risk", "latest_update_as_of": "2024-05-01",
                       "latest_update_note": "Waiting on the venue"}]);
    let path = import_path(&s.plan_id, "");
    let first = app.post(&path, rows.clone()).await.expect(200);
    let recorded = first["rows"][0]["status_update_id"].clone();
    assert_eq!(first["created"], 1);
    // A newer update makes the row differ from the latest again.
    app.post(
        &updates_path(&s.courses),
        json!({"status": "on_track", "as_of": "2024-06-01"}),
    )
    .await
    .created();

    let again = app.post(&path, rows).await.expect(200);

    assert_eq!(again["created"], 0);
    assert_eq!(again["skipped_duplicate"], 1);
    assert_eq!(again["rows"][0]["outcome"], "duplicate");
    assert_eq!(again["rows"][0]["status_update_id"], recorded);
    assert_eq!(updates(&app, &s.courses).await.len(), 2);
}

#[actix_web::test]
async fn a_dry_run_reports_what_it_would_record_and_writes_nothing() {
    let app = TestApp::spawn().await;
    let s = sample(&app).await;
    let rows = json!([
        {"goal_id": s.courses, "status": "completed", "measures": []},
        {"code": "1", "area_position": 1, "status": "on_track", "progress_percent": null,
         "measures": [{"name": "Webinars", "current_value": 2}]}
    ]);

    let report = app
        .post(&import_path(&s.plan_id, "?dry_run=true"), rows)
        .await
        .expect(200);

    assert_eq!(report["dry_run"], true);
    assert_eq!(
        outcomes(&report),
        [(0, "created".to_owned()), (1, "unchanged".to_owned())]
    );
    assert_eq!(report["rows"][0]["status_update_id"], Value::Null);
    assert_eq!(report["rows"][1]["code"], "1");
    assert_eq!(report["rows"][1]["goal_id"], s.engage.as_str());
    assert!(updates(&app, &s.courses).await.is_empty());
    assert_eq!(goal(&app, &s.courses).await["status"], "not_started");
}

#[actix_web::test]
async fn every_bad_row_is_reported_with_its_row_and_column_and_nothing_is_written() {
    let app = TestApp::spawn().await;
    let s = sample(&app).await;
    let soon = Utc::now().date_naive() + Days::new(2);
    let csv = format!(
        "goal_id,code,area_position,status,progress_percent,latest_update_as_of,measure:Webinars:current\r\n\
         {courses},,,completed,,,\r\n\
         ,1,,on_track,,,\r\n\
         ,9,,on_track,,,\r\n\
         {unknown},,,on_track,,,\r\n\
         {engage},,,finished,101,{soon},lots\r\n\
         {survey},,,on_track,,,5\r\n\
         {survey},,,on_track,,\r\n\
         x\"y,,,on_track,,,\r\n\
         {courses},,,on_track,,,\r\n",
        courses = s.courses,
        engage = s.engage,
        survey = s.survey,
        unknown = Uuid::now_v7(),
    );

    let problem = import_csv(&app, &s.plan_id, &csv).await.problem(422);

    assert_eq!(
        error_fields(&problem),
        [
            "3/code",
            "4/code",
            "5/goal_id",
            "6/status",
            "6/progress_percent",
            "6/latest_update_as_of",
            "6/measure:Webinars:current",
            "7/measure:Webinars:current",
            "8",
            "9",
            "10/goal_id",
        ]
    );
    assert!(error_message(&problem, "9").contains("quote"));
    assert!(error_message(&problem, "3/code").contains("areas 1 and 2"));
    assert!(
        error_message(&problem, "7/measure:Webinars:current").contains("not a measure of goal 2")
    );
    assert!(error_message(&problem, "8").contains("has 6 fields where the header row has 7"));
    assert!(error_message(&problem, "10/goal_id").contains("row 2"));
    assert!(
        updates(&app, &s.courses).await.is_empty(),
        "all rows or none"
    );
}

#[actix_web::test]
async fn bad_files_are_refused_whole() {
    let app = TestApp::spawn().await;
    let s = sample(&app).await;
    let path = import_path(&s.plan_id, "");

    let problem = import_csv(&app, &s.plan_id, "goal_id,colour,status\r\n")
        .await
        .problem(422);
    assert_eq!(error_fields(&problem), ["1/colour"]);
    let problem = import_csv(&app, &s.plan_id, "title\r\n").await.problem(422);
    assert_eq!(error_fields(&problem), ["1/status", "1/goal_id"]);
    let problem = import_csv(&app, &s.plan_id, "").await.problem(422);
    assert_eq!(error_fields(&problem), [""]);
    let latin1 = b"code,status,latest_update_note\r\n2,on_track,Caf\xe9\r\n".to_vec();
    let problem = app
        .raw(Method::POST, &path, Some("text/csv"), latin1)
        .await
        .problem(422);
    assert!(error_message(&problem, "").contains("UTF-8"));

    let problem = app
        .post(
            &path,
            json!([{"goal_id": s.courses, "status": "on_track", "colour": "red",
                             "measures": [{"current_value": 1}]}, 3]),
        )
        .await
        .problem(422);
    assert_eq!(error_fields(&problem), ["0/colour", "0/measures/0", "1"]);
    // A JSON row's values have the types its schema gives; the goal's own columns
    // are read but not imported, whatever they hold.
    let too_many: Vec<Value> = (0..101).map(|n| json!({"name": format!("M{n}")})).collect();
    let problem = app
        .post(
            &path,
            json!([{"goal_id": s.courses, "status": "on_track", "latest_update_note": 12345,
                    "progress_percent": "30", "title": 42, "owner": ["x"], "due_date": "soon"},
                   {"goal_id": s.engage, "status": "on_track", "measures": too_many,
                    "area_position": 1.5},
                   {"goal_id": s.survey, "status": "on_track", "code": "x".repeat(201),
                    "measures": [{"name": 7, "current_value": "3", "unit": 1, "target": "x"}]}]),
        )
        .await
        .problem(422);
    assert_eq!(
        error_fields(&problem),
        [
            "0/latest_update_note",
            "0/progress_percent",
            "1/measures",
            "1/area_position",
            "2/measures/0/name",
            "2/measures/0/current_value",
            "2/code",
        ]
    );
    assert!(error_message(&problem, "1/measures").contains("at most 100"));
    let problem = app.post(&path, json!({"rows": []})).await.problem(422);
    assert_eq!(error_fields(&problem), [""]);

    let big = format!("code,status\r\n{}", "1,on_track\r\n".repeat(7000));
    import_csv(&app, &s.plan_id, &big).await.problem(413);
    let text = app
        .raw(Method::POST, &path, Some("text/plain"), b"code".to_vec())
        .await;
    text.problem(415);
    let unknown_plan = import_path(&Uuid::now_v7().to_string(), "");
    app.post(&unknown_plan, json!([])).await.problem(404);
}

/// The statements one import makes, counted on its connection.
async fn queries_for_import(
    database_url: &str,
    plan_id: &str,
    rows: Value,
    dry_run: bool,
) -> usize {
    let (mut conn, queries) = crate::common::counting_connection(database_url).await;
    let plan_id = Uuid::parse_str(plan_id).expect("a UUID");
    let mut writer = Writer::new(&mut conn, "sheet script", None);
    sheet_import::run(&mut writer, plan_id, SheetSource::Rows(rows), dry_run)
        .await
        .expect("the import runs");
    queries.get()
}

#[actix_web::test]
async fn an_import_takes_the_same_few_queries_whatever_the_number_of_rows() {
    let app = TestApp::spawn().await;
    let url = app.database.url();
    let mut counts = Vec::new();
    for goals in [1, 8] {
        let (plan_id, area_id) = app.plan_with_area().await;
        let mut rows = Vec::new();
        for n in 0..goals {
            let goal = id_of(
                &app.create_goal(&area_id, json!({"title": format!("Goal {n}")}))
                    .await,
            );
            let path = format!("/api/v1/goals/{goal}/measures");
            app.post(&path, json!({"name": "Count", "target": 10}))
                .await
                .created();
            rows.push(
                json!({"goal_id": goal, "status": "on_track", "latest_update_as_of": "2024-01-31",
                             "measures": [{"name": "Count", "current_value": n}]}),
            );
        }
        let rows = Value::Array(rows);
        counts.push([
            queries_for_import(&url, &plan_id, rows.clone(), true).await,
            queries_for_import(&url, &plan_id, rows.clone(), false).await,
            queries_for_import(&url, &plan_id, rows, false).await,
        ]);
    }

    let write = IMPORT_QUERIES;
    // A dry run writes nothing, so it neither inserts (2) nor refreshes statuses (3).
    assert_eq!(counts, [[write - 5, write, write]; 2]);
}
