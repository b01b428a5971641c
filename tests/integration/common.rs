// The harness: each test gets the real service on its own port, over real HTTP,
// against its own PostgreSQL database cloned from a migrated template. No inner
// attributes or `//!` docs here: `tests/common/mod.rs` includes this file for the
// benchmarks.

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::net::TcpListener;
use std::path::Path;
use std::sync::OnceLock;

use actix_web::dev::ServerHandle;
use actix_web::http::Method;
use actix_web::http::header::HeaderMap;
use diesel::{Connection, RunQueryDsl};
use serde_json::{Value, json};
use strategy_tracker::config::{Config, DEFAULT_CACHE_BYTES, LogFormat};
use strategy_tracker::db::{self, SetupConnection};
use strategy_tracker::models::api_token::secret::TokenSecret;
use strategy_tracker::startup;
use uuid::Uuid;

/// The server the tests run against; `TEST_DATABASE_URL` overrides it.
pub fn server_url() -> String {
    std::env::var("TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

/// The URL of database `name` on the test server.
pub fn database_url(name: &str) -> String {
    db::with_database_name(&server_url(), name).expect("TEST_DATABASE_URL names a database")
}

/// The token every test client sends unless told otherwise: it has every scope, is
/// named "test suite", and is in every test database (made here, not at random,
/// so that every test process knows it).
pub const TEST_TOKEN: &str =
    "stk_EBESExQVFhcYGRobHB0eHwQEFCQ0RFRkdISUpLTE1OT1BRUlNUVVZXWFlaW1xdXl8";
/// The id of [`TEST_TOKEN`].
pub fn test_token_id() -> Uuid {
    TokenSecret::parse(TEST_TOKEN)
        .expect("the test token is well formed")
        .id
}

/// The name changes made with [`TEST_TOKEN`] are recorded under.
pub const TEST_TOKEN_NAME: &str = "test suite";

/// A migrated database named after the migrations' contents, with [`TEST_TOKEN`],
/// made once per test process, and cloned for every test (far faster than
/// migrating each one).
fn template() -> &'static str {
    static TEMPLATE: OnceLock<String> = OnceLock::new();
    TEMPLATE.get_or_init(|| {
        let name = format!(
            "strategy_tracker_template_{:016x}",
            migrations_fingerprint()
        );
        let url = database_url(&name);
        // A plain thread: the set-up connection runs its own runtime.
        std::thread::spawn(move || {
            db::prepare(&db::Connector::new(&url, None).expect("a valid URL"))
                .expect("the template database migrates");
            let token = TokenSecret::parse(TEST_TOKEN).expect("the test token is well formed");
            let digest: String = token.digest().iter().map(|b| format!("{b:02x}")).collect();
            let mut conn =
                SetupConnection::establish(&url).expect("the template accepts connections");
            diesel::sql_query(format!(
                "INSERT INTO api_tokens (id, name, scopes, secret_sha256) \
                 VALUES ('{}', '{TEST_TOKEN_NAME}', '{{read,write,admin}}', '\\x{digest}') \
                 ON CONFLICT (id) DO NOTHING",
                token.id
            ))
            .execute(&mut conn)
            .expect("the test token is stored");
        })
        .join()
        .expect("the template thread finishes");
        name
    })
}

fn migrations_fingerprint() -> u64 {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
    let mut files: Vec<_> = walk(&dir);
    files.sort();
    let mut hasher = DefaultHasher::new();
    TEST_TOKEN.hash(&mut hasher);
    for file in files {
        file.hash(&mut hasher);
        std::fs::read(&file)
            .expect("migration files are readable")
            .hash(&mut hasher);
    }
    hasher.finish()
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    std::fs::read_dir(dir)
        .expect("the migrations directory exists")
        .flat_map(|entry| {
            let path = entry.expect("a readable directory entry").path();
            if path.is_dir() {
                walk(&path)
            } else {
                vec![path]
            }
        })
        .collect()
}

/// Runs `sql` on the test server's maintenance database, from a plain thread.
pub fn admin_sql(sql: String) {
    let url = server_url();
    std::thread::spawn(move || {
        let mut conn =
            SetupConnection::establish(&url).expect("the test server accepts connections");
        diesel::sql_query(sql).execute(&mut conn)
    })
    .join()
    .expect("the admin thread finishes")
    .expect("the admin statement succeeds");
}

/// A fresh database cloned from the template; dropped with the value.
pub struct TestDatabase {
    pub name: String,
}

impl TestDatabase {
    pub fn new() -> Self {
        let template = template();
        let name = format!("strategy_tracker_test_{}", Uuid::now_v7().simple());
        admin_sql(format!(
            "CREATE DATABASE \"{name}\" TEMPLATE \"{template}\""
        ));
        Self { name }
    }

    /// A name for a database that does not exist yet, for what creates it; dropped
    /// with the value if it was made.
    pub fn unmade() -> Self {
        Self {
            name: format!("strategy_tracker_test_{}", Uuid::now_v7().simple()),
        }
    }

    pub fn url(&self) -> String {
        database_url(&self.name)
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        admin_sql(format!(
            "DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)",
            self.name
        ));
    }
}

/// A configuration for a test server on `database_url`.
pub fn test_config(database_url: String) -> Config {
    Config {
        database_url,
        listen_addr: "127.0.0.1:0".to_owned(),
        pool_size: 4,
        database_timeout_seconds: 2,
        request_timeout_seconds: 30,
        shutdown_grace_seconds: 5,
        body_limit_bytes: 64 * 1024,
        require_if_match: false,
        cors_allowed_origins: Vec::new(),
        public_reading: true,
        rate_limit_per_token: 0,
        rate_limit_per_address: 0,
        workers: Some(1),
        database_url_file: None,
        database_ca_file: None,
        log_format: LogFormat::Text,
        trusted_proxies: Vec::new(),
        migrate_on_start: true,
        metrics_addr: None,
        cache_bytes: DEFAULT_CACHE_BYTES,
    }
}

/// The service, running on a port of its own against a database of its own.
pub struct TestApp {
    pub address: String,
    pub database: TestDatabase,
    server: ServerHandle,
    client: awc::Client,
}

impl TestApp {
    /// Starts the service on a fresh database.
    pub async fn spawn() -> Self {
        Self::spawn_with(|_| {}).await
    }

    /// Starts the service on a fresh database, with settings changed by `configure`.
    pub async fn spawn_with(configure: impl FnOnce(&mut Config)) -> Self {
        let database = TestDatabase::new();
        let mut config = test_config(database.url());
        configure(&mut config);
        let (address, server) = start(&config);
        Self {
            address,
            database,
            server,
            client: client(),
        }
    }

    pub async fn get(&self, path: &str) -> Reply {
        self.request(Method::GET, path, None).await
    }

    pub async fn post(&self, path: &str, body: Value) -> Reply {
        self.request(Method::POST, path, Some(body)).await
    }

    pub async fn patch(&self, path: &str, body: Value) -> Reply {
        self.request(Method::PATCH, path, Some(body)).await
    }

    pub async fn delete(&self, path: &str) -> Reply {
        self.request(Method::DELETE, path, None).await
    }

    /// GET with these request headers, such as `Accept`.
    pub async fn get_with(&self, path: &str, headers: &[(&str, &str)]) -> Reply {
        let mut request = self.client.get(format!("{}{path}", self.address));
        for &header in headers {
            request = request.insert_header(header);
        }
        finish(request, Vec::new()).await
    }

    /// A second instance of the service on this one's database; its base URL.
    /// It stops when the returned handle is dropped.
    pub fn second_instance(&self) -> (String, ServerHandle) {
        start(&test_config(self.database.url()))
    }

    /// Sends `body` as JSON (or nothing) with these request headers.
    pub async fn send_with(
        &self,
        method: Method,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<Value>,
    ) -> Reply {
        send_with(&self.client, &self.address, method, path, headers, body).await
    }

    /// Sends `body` as JSON, or nothing.
    pub async fn request(&self, method: Method, path: &str, body: Option<Value>) -> Reply {
        match body {
            Some(body) => {
                self.raw(
                    method,
                    path,
                    Some("application/json"),
                    body.to_string().into_bytes(),
                )
                .await
            }
            None => self.raw(method, path, None, Vec::new()).await,
        }
    }

    /// Sends exactly these bytes with this content type.
    pub async fn raw(
        &self,
        method: Method,
        path: &str,
        content_type: Option<&str>,
        body: Vec<u8>,
    ) -> Reply {
        send(
            &self.client,
            &self.address,
            method,
            path,
            content_type,
            body,
        )
        .await
    }

    /// Creates a plan with these fields on top of valid defaults; returns it.
    pub async fn create_plan(&self, fields: Value) -> Value {
        self.create_plan_reply(fields).await.created()
    }

    /// Posts a plan with these fields on top of valid defaults.
    pub async fn create_plan_reply(&self, fields: Value) -> Reply {
        let mut body = json!({
            "title": "Core Strategic Plan 2022-2025",
            "period_start": "2022-09-01",
            "period_end": "2025-08-31",
        });
        merge(&mut body, fields);
        self.post("/api/v1/plans", body).await
    }

    /// Creates an area in the plan; returns it.
    pub async fn create_area(&self, plan_id: &str, title: &str) -> Value {
        self.post(
            &format!("/api/v1/plans/{plan_id}/areas"),
            json!({ "title": title }),
        )
        .await
        .created()
    }

    /// Creates a goal in the area with these fields (a title is added if missing).
    pub async fn create_goal(&self, area_id: &str, fields: Value) -> Value {
        let mut body = json!({ "title": "Develop member engagement campaign" });
        merge(&mut body, fields);
        self.post(&format!("/api/v1/areas/{area_id}/goals"), body)
            .await
            .created()
    }

    /// A plan with one area; returns (plan id, area id).
    pub async fn plan_with_area(&self) -> (String, String) {
        let plan = self.create_plan(json!({})).await;
        let plan_id = id_of(&plan);
        let area = self.create_area(&plan_id, "Member Engagement").await;
        (plan_id, id_of(&area))
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        // Stop accepting and close the pool before the database is dropped.
        drop(self.server.stop(false));
    }
}

/// Imports a plan document through the API of the service at `address`; the new
/// plan's id.
pub async fn import_plan(client: &awc::Client, address: &str, document: &Value) -> String {
    let body = document.to_string().into_bytes();
    let path = "/api/v1/plans/import";
    let reply = send(
        client,
        address,
        Method::POST,
        path,
        Some("application/json"),
        body,
    )
    .await;
    assert_eq!(reply.status, 201, "{}", reply.text());
    reply.json()["plan_id"]
        .as_str()
        .expect("a plan id")
        .to_owned()
}

/// Starts the service with `config`; returns its base URL and handle.
pub fn start(config: &Config) -> (String, ServerHandle) {
    let listener = TcpListener::bind(&config.listen_addr).expect("a free port on loopback");
    let address = format!("http://{}", listener.local_addr().expect("a bound address"));
    let (server, _stopping) = startup::run(listener, config).expect("the server starts");
    let handle = server.handle();
    actix_web::rt::spawn(server);
    (address, handle)
}

/// A client that sends [`TEST_TOKEN`] with every request, as a staff script would.
pub fn client() -> awc::Client {
    awc::Client::builder()
        .timeout(std::time::Duration::from_secs(30))
        .disable_redirects()
        .add_default_header(("Authorization", format!("Bearer {TEST_TOKEN}")))
        .finish()
}

/// A client that sends no token, as a member's browser would.
pub fn anonymous_client() -> awc::Client {
    awc::Client::builder()
        .timeout(std::time::Duration::from_secs(30))
        .disable_redirects()
        .finish()
}

pub async fn send(
    client: &awc::Client,
    address: &str,
    method: Method,
    path: &str,
    content_type: Option<&str>,
    body: Vec<u8>,
) -> Reply {
    let mut request = client.request(method, format!("{address}{path}"));
    if let Some(content_type) = content_type {
        request = request.insert_header(("Content-Type", content_type));
    }
    finish(request, body).await
}

/// Sends `body` as JSON (or nothing) with these request headers to `address`.
pub async fn send_with(
    client: &awc::Client,
    address: &str,
    method: Method,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<Value>,
) -> Reply {
    let mut request = client.request(method, format!("{address}{path}"));
    for &header in headers {
        request = request.insert_header(header);
    }
    let body = match body {
        Some(body) => {
            request = request.insert_header(("Content-Type", "application/json"));
            body.to_string().into_bytes()
        }
        None => Vec::new(),
    };
    finish(request, body).await
}

/// Sends the request with `body` and reads the whole answer.
async fn finish(request: awc::ClientRequest, body: Vec<u8>) -> Reply {
    let mut response = request.send_body(body).await.expect("the server answers");
    let body = response
        .body()
        .limit(16 * 1024 * 1024)
        .await
        .expect("the body arrives");
    Reply {
        status: response.status().as_u16(),
        headers: response.headers().clone(),
        body: body.to_vec(),
    }
}

/// What the server answered.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|error| {
            panic!(
                "status {}: body is not JSON ({error}): {}",
                self.status,
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .map(|value| value.to_str().expect("an ASCII header").to_owned())
    }

    /// The body of a `201 Created`, after checking the status and `Location`.
    pub fn created(self) -> Value {
        assert_eq!(
            self.status,
            201,
            "expected 201, got {}: {}",
            self.status,
            self.text()
        );
        let body = self.json();
        let location = self.header("location").expect("a Location header");
        assert!(
            location.ends_with(&id_of(&body)),
            "Location {location} names the new resource"
        );
        body
    }

    /// The body, after checking the status.
    pub fn expect(self, status: u16) -> Value {
        assert_eq!(
            self.status,
            status,
            "unexpected status; body: {}",
            self.text()
        );
        if self.body.is_empty() {
            Value::Null
        } else {
            self.json()
        }
    }

    /// The problem document, after checking the status and content type.
    pub fn problem(self, status: u16) -> Value {
        assert_eq!(
            self.status,
            status,
            "unexpected status; body: {}",
            self.text()
        );
        assert_eq!(
            self.header("content-type").as_deref(),
            Some("application/problem+json"),
            "errors are problem documents"
        );
        let problem = self.json();
        assert_eq!(problem["status"], status);
        assert!(problem["detail"].as_str().is_some_and(|d| !d.is_empty()));
        problem
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// The fields named in a problem's `errors`, in order.
pub fn error_fields(problem: &Value) -> Vec<String> {
    problem["errors"]
        .as_array()
        .expect("an errors array")
        .iter()
        .map(|error| error["field"].as_str().expect("a field name").to_owned())
        .collect()
}

/// The message for `field` in a problem's `errors`.
pub fn error_message(problem: &Value, field: &str) -> String {
    problem["errors"]
        .as_array()
        .expect("an errors array")
        .iter()
        .find(|error| error["field"] == field)
        .unwrap_or_else(|| panic!("no error for {field} in {problem}"))["message"]
        .as_str()
        .expect("a message")
        .to_owned()
}

/// The address of a goal.
pub fn goal_path(goal: &Value) -> String {
    format!("/api/v1/goals/{}", id_of(goal))
}

/// The `detail` of a problem document.
pub fn detail(problem: &Value) -> &str {
    problem["detail"].as_str().expect("a detail")
}

pub fn id_of(resource: &Value) -> String {
    resource["id"].as_str().expect("an id").to_owned()
}

fn merge(target: &mut Value, fields: Value) {
    if let (Some(target), Value::Object(fields)) = (target.as_object_mut(), fields) {
        target.extend(fields);
    }
}

/// A connection to `database_url` that counts the statements it runs, to prove that
/// an operation takes a fixed number of queries.
pub async fn counting_connection(
    database_url: &str,
) -> (diesel_async::AsyncPgConnection, QueryCount) {
    use diesel::connection::InstrumentationEvent;
    use diesel_async::AsyncConnection;

    let mut conn = diesel_async::AsyncPgConnection::establish(database_url)
        .await
        .expect("a connection");
    let count = QueryCount::default();
    let counter = count.0.clone();
    conn.set_instrumentation(move |event: InstrumentationEvent<'_>| {
        if let InstrumentationEvent::StartQuery { .. } = event {
            counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        }
    });
    (conn, count)
}

/// How many statements a [`counting_connection`] has run.
#[derive(Debug, Clone, Default)]
pub struct QueryCount(std::sync::Arc<std::sync::atomic::AtomicUsize>);

impl QueryCount {
    pub fn get(&self) -> usize {
        self.0.load(std::sync::atomic::Ordering::SeqCst)
    }
}
