//! What the tests of several areas share on top of the harness (`crate::common`):
//! addresses, a goal to hang things on, tokens made through the API, requests sent
//! as another caller, and SQL on a test's own database.

use actix_web::http::Method;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use serde_json::{Value, json};

use crate::common::{Reply, TestApp, anonymous_client, id_of, send_with};

/// The address of an area.
pub fn area_path(area_id: &str) -> String {
    format!("/api/v1/areas/{area_id}")
}

/// The address of a goal's measures.
pub fn measures_path(goal_id: &str) -> String {
    format!("/api/v1/goals/{goal_id}/measures")
}

/// The address of a goal's status updates.
pub fn updates_path(goal_id: &str) -> String {
    format!("/api/v1/goals/{goal_id}/status-updates")
}

/// The address of a status update.
pub fn update_path(update: &Value) -> String {
    format!("/api/v1/status-updates/{}", id_of(update))
}

/// The service on a fresh database with one plan, area and goal; the goal's id.
pub async fn app_with_goal() -> (TestApp, String) {
    let app = TestApp::spawn().await;
    let (_, area_id) = app.plan_with_area().await;
    let goal_id = id_of(&app.create_goal(&area_id, json!({})).await);
    (app, goal_id)
}

/// Creates a measure of the goal with these fields; returns it.
pub async fn create_measure(app: &TestApp, goal_id: &str, fields: Value) -> Value {
    app.post(&measures_path(goal_id), fields).await.created()
}

/// Creates a token through the API with the all-scopes test token; its record
/// (with `token`) after checking the 201, and the token itself.
pub async fn create_token(app: &TestApp, name: &str, scopes: &[&str]) -> (Value, String) {
    let created = app
        .post("/api/v1/tokens", json!({ "name": name, "scopes": scopes }))
        .await
        .created();
    let token = created["token"]
        .as_str()
        .expect("the token itself")
        .to_owned();
    (created, token)
}

/// Sends `body` as JSON (or nothing) to the instance at `address` with `token` as
/// the bearer, or with no token at all, and no other credentials.
pub async fn send_as(
    address: &str,
    token: Option<&str>,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> Reply {
    let authorization = token.map(|token| format!("Bearer {token}"));
    let headers: Vec<(&str, &str)> = authorization
        .iter()
        .map(|value| ("Authorization", value.as_str()))
        .collect();
    send_with(&anonymous_client(), address, method, path, &headers, body).await
}

/// A connection to the app's own database.
pub async fn connect(app: &TestApp) -> AsyncPgConnection {
    AsyncPgConnection::establish(&app.database.url())
        .await
        .expect("the test database accepts connections")
}

/// Runs `statement` on the app's own database, as another process would.
pub async fn app_sql(app: &TestApp, statement: &str) {
    let mut conn = connect(app).await;
    diesel::sql_query(statement)
        .execute(&mut conn)
        .await
        .unwrap_or_else(|error| panic!("{statement}: {error}"));
}
