//! What the tests of several areas share on top of the harness (`crate::common`):
//! addresses, a goal to hang things on, tokens made through the API, requests sent
//! as another caller, SQL on a test's own database, and the service run as a
//! process, for what only its output shows.

use std::fs::File;
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use actix_web::http::Method;
use actix_web::rt::time::sleep;
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

/// The real service, run as a process; killed when dropped, so that a failing
/// test leaves nothing behind.
pub struct Served {
    child: Child,
    log: std::path::PathBuf,
}

impl Served {
    /// Starts `strategy-tracker serve` on a free port with debug logging, its
    /// output to a file (a pipe could fill up and stall it); its base URL.
    pub async fn start(database_url: &str) -> (Self, String) {
        Self::start_with(database_url, &[("RUST_LOG", "debug")]).await
    }

    /// Starts it with these environment variables too (such as `LOG_FORMAT`).
    pub async fn start_with(database_url: &str, env: &[(&str, &str)]) -> (Self, String) {
        let port = {
            let listener = TcpListener::bind("127.0.0.1:0").expect("a free port");
            listener.local_addr().expect("an address").port()
        };
        let log = std::env::temp_dir().join(format!(
            "strategy-tracker-served-{}.log",
            uuid::Uuid::now_v7().simple()
        ));
        let file = File::create(&log).expect("a log file");
        let child = Command::new(env!("CARGO_BIN_EXE_strategy-tracker"))
            .arg("serve")
            .env("DATABASE_URL", database_url)
            .env("LISTEN_ADDR", format!("127.0.0.1:{port}"))
            .env("WORKERS", "1")
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(file.try_clone().expect("a second handle"))
            .stderr(file)
            .spawn()
            .expect("the service starts");
        let mut served = Self { child, log };
        let address = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            // Say why at once if it gave up (say, another process took the port).
            if let Ok(Some(status)) = served.child.try_wait() {
                let log = std::fs::read_to_string(&served.log).unwrap_or_default();
                panic!("the service exited with {status}:\n{log}");
            }
            let up = crate::common::anonymous_client()
                .get(format!("{address}/healthz"))
                .send()
                .await
                .is_ok_and(|response| response.status() == 200);
            if up {
                return (served, address);
            }
            assert!(Instant::now() < deadline, "the service never came up");
            sleep(Duration::from_millis(50)).await;
        }
    }

    /// Stops the service; all it wrote.
    /// Stops the service as an operator would (SIGTERM), so that it writes out its
    /// log before it exits; its log.
    pub fn stop(mut self) -> String {
        let stopped = std::process::Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(stopped.success(), "the service takes SIGTERM");
        self.child.wait().expect("the service stops and is reaped");
        std::fs::read_to_string(&self.log).expect("the log is readable")
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.log);
    }
}
