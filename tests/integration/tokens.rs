//! API tokens as their users and admins meet them: made through the API or the
//! command line and shown once, stored only as a hash, refused at once (on every
//! instance) when revoked or expired, managed only with the admin scope, and never
//! written to the logs.

use std::process::{Command, Output};
use std::time::{Duration, Instant};

use actix_web::http::Method;
use actix_web::rt::time::sleep;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, TimeDelta, Utc};
use diesel::QueryableByName;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde_json::{Value, json};
use strategy_tracker::models::api_token::secret::TokenSecret;

use crate::common::{Reply, TEST_TOKEN, TestApp, TestDatabase, detail, error_fields, id_of};
use crate::helpers::{Served, app_sql, connect, create_token, send_as};

/// How soon a revocation or expiry must reach an instance that had the token
/// cached. The instance that revoked forgets at once; others hear of it through a
/// PostgreSQL notification, which arrives asynchronously, in milliseconds on one
/// machine: a second is generous and still "at once" for whoever revoked.
const AT_ONCE: Duration = Duration::from_secs(1);

/// A path that needs the read scope: the change feed (a page, answered at once).
const NEEDS_READ: &str = "/api/v1/events?limit=1";

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

/// Reads the change feed (which needs `read`) at `address` with `token`.
async fn read_as(address: &str, token: &str) -> Reply {
    send_as(address, Some(token), Method::GET, NEEDS_READ, None).await
}

/// A token's record, as an admin sees it.
async fn record(app: &TestApp, id: &str) -> Value {
    app.get(&format!("/api/v1/tokens/{id}")).await.expect(200)
}

fn time(value: &Value) -> DateTime<Utc> {
    value
        .as_str()
        .and_then(|text| DateTime::parse_from_rfc3339(text).ok())
        .unwrap_or_else(|| panic!("a timestamp, not {value}"))
        .with_timezone(&Utc)
}

/// Whether `a` and `b` are within `slack` of each other.
fn close(a: DateTime<Utc>, b: DateTime<Utc>, slack: TimeDelta) -> bool {
    (a - b).abs() <= slack
}

/// Uses `token` at `address` until that instance answers it from its cache, so
/// that a test of revocation or expiry proves the cache lets go, not merely that
/// the database says no. An instance caches only once its notification listener
/// is connected (shortly after start); a lookup in the database writes
/// `last_used_at`, a cache hit does not, so two uses that leave it unchanged
/// prove the second came from the cache.
async fn use_until_cached(app: &TestApp, address: &str, token: &str, id: &str) {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        read_as(address, token).await.expect(200);
        let before = record(app, id).await["last_used_at"].clone();
        read_as(address, token).await.expect(200);
        if record(app, id).await["last_used_at"] == before {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "the instance at {address} never served the token from its cache"
        );
        sleep(Duration::from_millis(20)).await;
    }
}

/// Uses `token` at `address` until it is refused, which must happen within
/// [`AT_ONCE`]; the 401's problem document.
async fn refused_within_a_second(address: &str, token: &str) -> Value {
    let started = Instant::now();
    loop {
        let reply = read_as(address, token).await;
        if reply.status == 401 {
            return unauthorized(reply);
        }
        assert_eq!(reply.status, 200, "{}", reply.text());
        assert!(
            started.elapsed() < AT_ONCE,
            "the instance at {address} still took the token {:?} later",
            started.elapsed()
        );
        sleep(Duration::from_millis(10)).await;
    }
}

/// The problem of a 401 for a token that does not work, after checking the
/// challenge says so.
fn unauthorized(reply: Reply) -> Value {
    let challenge = reply
        .header("www-authenticate")
        .expect("a 401 challenges with WWW-Authenticate");
    assert!(challenge.contains("error=\"invalid_token\""), "{challenge}");
    reply.problem(401)
}

#[derive(QueryableByName)]
struct Text {
    #[diesel(sql_type = diesel::sql_types::Text)]
    text: String,
}

/// The text column `text` of every row `query` returns.
async fn texts(conn: &mut AsyncPgConnection, query: &str) -> Vec<String> {
    let rows: Vec<Text> = diesel::sql_query(query)
        .load(conn)
        .await
        .unwrap_or_else(|error| panic!("{query}: {error}"));
    rows.into_iter().map(|row| row.text).collect()
}

/// Every row of every table of the app's database, as JSON text (`bytea` as hex):
/// all a stolen backup would hold.
async fn database_dump(app: &TestApp) -> String {
    let mut conn = connect(app).await;
    let tables = texts(
        &mut conn,
        "SELECT quote_ident(table_schema) || '.' || quote_ident(table_name) AS text \
         FROM information_schema.tables \
         WHERE table_type = 'BASE TABLE' \
           AND table_schema NOT IN ('pg_catalog', 'information_schema')",
    )
    .await;
    assert!(tables.iter().any(|table| table.ends_with("api_tokens")));
    let mut dump = String::new();
    for table in tables {
        let query = format!("SELECT row_to_json(t)::text AS text FROM {table} t");
        for row in texts(&mut conn, &query).await {
            dump.push_str(&row);
            dump.push('\n');
        }
    }
    dump
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// The ways a token's secret could be written down: the token, its secret part
/// (the last 43 characters), and the secret's bytes in hex (as PostgreSQL shows
/// bytea) and as a list (as the database driver's debug log shows parameters).
fn secret_forms(token: &str) -> Vec<String> {
    let secret_part = &token[token.len() - 43..];
    let bytes = URL_SAFE_NO_PAD
        .decode(secret_part)
        .expect("the secret part is base64url");
    vec![
        token.to_owned(),
        secret_part.to_owned(),
        hex(&bytes),
        format!("{bytes:?}"),
    ]
}

/// Runs the real binary with these arguments against the app's database, off the
/// test's runtime thread (the service's notification listener runs there and must
/// keep listening meanwhile).
async fn cli(app: &TestApp, args: &[&str]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_strategy-tracker"));
    command
        .args(args)
        .env("DATABASE_URL", app.database.url())
        .env("USER", "token-keeper")
        // Errors still show; routine lines do not clutter what is asserted on.
        .env("RUST_LOG", "error");
    actix_web::rt::task::spawn_blocking(move || command.output())
        .await
        .expect("the command's thread finishes")
        .expect("the command runs")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

// ---------------------------------------------------------------------------
// Creating, listing, reading
// ---------------------------------------------------------------------------

#[actix_web::test]
async fn a_token_made_through_the_api_is_shown_once_and_works_at_once() {
    let app = TestApp::spawn().await;
    let requested_at = Utc::now();

    let reply = app
        .post(
            "/api/v1/tokens",
            json!({ "name": "member portal", "scopes": ["read"], "expires_in_days": 90 }),
        )
        .await;

    // The answer holds a secret: no cache may keep it.
    assert_eq!(reply.header("cache-control").as_deref(), Some("no-store"));
    let location = reply.header("location").expect("a Location header");
    let created = reply.created();
    let id = id_of(&created);
    assert_eq!(location, format!("/api/v1/tokens/{id}"));
    let token = created["token"].as_str().expect("the token itself");
    assert_eq!(token.len(), 69, "{token}");
    assert!(token.starts_with("stk_"), "{token}");
    let parsed = TokenSecret::parse(token).expect("the token is well formed");
    assert_eq!(parsed.id.to_string(), id, "the token carries its id");
    assert_eq!(created["name"], "member portal");
    assert_eq!(created["scopes"], json!(["read"]));
    assert!(close(
        time(&created["created_at"]),
        requested_at,
        TimeDelta::minutes(1)
    ));
    assert!(created["last_used_at"].is_null());
    assert!(created["revoked_at"].is_null());

    // Works at once, and it is the token that makes it work.
    let without = send_as(&app.address, None, Method::GET, NEEDS_READ, None).await;
    assert_eq!(without.status, 401, "{}", without.text());
    read_as(&app.address, token).await.expect(200);

    // Listed, but the token itself is never shown again.
    let list = app.get("/api/v1/tokens").await;
    assert!(!list.text().contains(token), "{}", list.text());
    let list = list.expect(200);
    let items = list["items"].as_array().expect("items");
    let listed = items
        .iter()
        .find(|item| item["id"] == id.as_str())
        .expect("the new token is listed");
    assert_eq!(listed["name"], "member portal");
    assert!(
        items.iter().all(|item| item.get("token").is_none()),
        "{list}"
    );

    let shown = record(&app, &id).await;
    assert!(shown.get("token").is_none(), "{shown}");
    let last_used = time(&shown["last_used_at"]);
    assert!(last_used >= requested_at - TimeDelta::seconds(1) && last_used <= Utc::now());
    let expires = time(&shown["expires_at"]);
    assert!(
        close(
            expires,
            requested_at + TimeDelta::days(90),
            TimeDelta::minutes(1)
        ),
        "expires_at {expires} is not 90 days after {requested_at}"
    );
}

#[actix_web::test]
async fn bad_token_bodies_are_refused_naming_each_bad_field() {
    let app = TestApp::spawn().await;
    let read = json!(["read"]);
    let cases = [
        (json!({ "scopes": read }), vec!["name"]),
        (json!({ "name": "   ", "scopes": read }), vec!["name"]),
        (
            json!({ "name": "n".repeat(101), "scopes": read }),
            vec!["name"],
        ),
        (json!({ "name": "portal", "scopes": [] }), vec!["scopes"]),
        (
            json!({ "name": "portal", "scopes": ["delete"] }),
            vec!["scopes"],
        ),
        (
            json!({ "name": "portal", "scopes": read, "expires_in_days": 0 }),
            vec!["expires_in_days"],
        ),
        (
            json!({ "name": "portal", "scopes": read, "expires_in_days": 3651 }),
            vec!["expires_in_days"],
        ),
        (
            json!({ "name": "portal", "scopes": read, "colour": "red" }),
            vec!["colour"],
        ),
        // One answer names every mistake, not just the first.
        (
            json!({ "name": "", "scopes": ["delete"], "expires_in_days": 0, "token": "stk_x" }),
            vec!["token", "name", "scopes", "expires_in_days"],
        ),
    ];

    for (body, fields) in cases {
        let reply = app.post("/api/v1/tokens", body.clone()).await;
        let problem = reply.problem(422);
        assert_eq!(error_fields(&problem), fields, "{body}: {problem}");
    }
    let problem = app
        .post(
            "/api/v1/tokens",
            json!({ "name": "p", "scopes": ["delete"] }),
        )
        .await
        .problem(422);
    assert!(
        problem.to_string().contains("read, write, admin"),
        "an unknown scope is told the scopes there are: {problem}"
    );

    // Nothing was made; the limits themselves are allowed.
    let listed = app.get("/api/v1/tokens").await.expect(200);
    assert_eq!(
        listed["items"].as_array().map(Vec::len),
        Some(1),
        "{listed}"
    );
    app.post(
        "/api/v1/tokens",
        json!({ "name": "n".repeat(100), "scopes": read, "expires_in_days": 3650 }),
    )
    .await
    .created();
    // A scope listed twice counts once.
    let made = app
        .post(
            "/api/v1/tokens",
            json!({ "name": "short-lived", "scopes": ["write", "read", "write"], "expires_in_days": 1 }),
        )
        .await
        .created();
    assert_eq!(made["scopes"], json!(["write", "read"]));
}

#[actix_web::test]
async fn a_name_belongs_to_one_token_in_use_and_is_free_again_once_it_is_revoked() {
    let app = TestApp::spawn().await;
    let (first, _) = create_token(&app, "sheet script", &["write"]).await;

    let again = app
        .post(
            "/api/v1/tokens",
            json!({ "name": "sheet script", "scopes": ["read"] }),
        )
        .await;
    let problem = again.problem(409);
    assert!(detail(&problem).contains("has this name"), "{problem}");

    app.delete(&format!("/api/v1/tokens/{}", id_of(&first)))
        .await
        .expect(204);
    let (second, token) = create_token(&app, "sheet script", &["read"]).await;
    assert_ne!(id_of(&second), id_of(&first));
    read_as(&app.address, &token).await.expect(200);
}

// ---------------------------------------------------------------------------
// At rest
// ---------------------------------------------------------------------------

#[actix_web::test]
async fn the_database_keeps_only_a_hash_of_each_token() {
    let app = TestApp::spawn().await;
    let (_, api_token) = create_token(&app, "portal", &["write"]).await;
    // Use it for a write with an idempotency key, so that the feed and the
    // recorded responses have rows made with it too.
    send_as(
        &app.address,
        Some(&api_token),
        Method::POST,
        "/api/v1/plans",
        Some(json!({
            "title": "Core Strategic Plan 2022-2025",
            "period_start": "2022-09-01",
            "period_end": "2025-08-31",
        })),
    )
    .await
    .created();
    let with_key = crate::common::send_with(
        &crate::common::anonymous_client(),
        &app.address,
        Method::POST,
        "/api/v1/plans",
        &[
            ("Authorization", &format!("Bearer {api_token}")),
            ("Idempotency-Key", "plan-2026"),
        ],
        Some(json!({
            "title": "Plan 2026",
            "period_start": "2026-01-01",
            "period_end": "2026-12-31",
        })),
    )
    .await;
    with_key.created();
    let made = cli(
        &app,
        &["tokens", "create", "--name", "cli", "--scope", "read"],
    )
    .await;
    assert!(made.status.success(), "{made:?}");
    let cli_token = stdout(&made).trim().to_owned();
    assert_eq!(cli_token.len(), 69, "{made:?}");

    let dump = database_dump(&app).await;

    assert!(
        dump.contains("plan-2026"),
        "the dump covers idempotency keys"
    );
    assert!(dump.contains("\"portal\""), "the dump covers the tokens");
    for token in [&api_token, &cli_token] {
        for form in secret_forms(token) {
            assert!(!dump.contains(&form), "the database holds {form}");
        }
    }
    let mut conn = connect(&app).await;
    for token in [&api_token, &cli_token] {
        let secret = TokenSecret::parse(token).expect("a well-formed token");
        let stored = texts(
            &mut conn,
            &format!(
                "SELECT encode(secret_sha256, 'hex') AS text FROM api_tokens WHERE id = '{}'",
                secret.id
            ),
        )
        .await;
        assert_eq!(stored, vec![hex(&secret.digest())], "SHA-256 of the secret");
    }
}

// ---------------------------------------------------------------------------
// Revocation and expiry
// ---------------------------------------------------------------------------

#[actix_web::test]
async fn a_revoked_token_is_refused_at_once_on_every_instance() {
    let app = TestApp::spawn().await;
    let (second, second_handle) = app.second_instance();
    let (created, token) = create_token(&app, "member portal", &["read"]).await;
    let id = id_of(&created);
    use_until_cached(&app, &app.address, &token, &id).await;
    use_until_cached(&app, &second, &token, &id).await;

    app.delete(&format!("/api/v1/tokens/{id}"))
        .await
        .expect(204);

    // The instance that revoked does not wait for any notification.
    let problem = unauthorized(read_as(&app.address, &token).await);
    assert!(
        detail(&problem).contains("\"member portal\" was revoked"),
        "{problem}"
    );
    // The other one hears of it from PostgreSQL, asynchronously but within a second.
    let problem = refused_within_a_second(&second, &token).await;
    assert!(detail(&problem).contains("was revoked"), "{problem}");

    // Revoking again changes nothing, and the record says when it happened.
    let revoked_at = record(&app, &id).await["revoked_at"].clone();
    assert!(close(time(&revoked_at), Utc::now(), TimeDelta::minutes(1)));
    app.delete(&format!("/api/v1/tokens/{id}"))
        .await
        .expect(204);
    assert_eq!(record(&app, &id).await["revoked_at"], revoked_at);
    // Still listed, so that the names in the history keep meaning something.
    let listed = app.get("/api/v1/tokens").await.expect(200);
    assert!(listed.to_string().contains(&id), "{listed}");

    let unknown = "00000000-0000-4000-8000-000000000000";
    app.delete(&format!("/api/v1/tokens/{unknown}"))
        .await
        .problem(404);
    second_handle.stop(false).await;
}

#[actix_web::test]
async fn tokens_revoked_on_the_command_line_stop_working_at_once() {
    let app = TestApp::spawn().await;
    let (by_name, by_name_token) = create_token(&app, "board laptop", &["read"]).await;
    let (by_id, by_id_token) = create_token(&app, "old script", &["write"]).await;
    for (record, token, how) in [
        (&by_name, &by_name_token, "board laptop".to_owned()),
        (&by_id, &by_id_token, id_of(&by_id)),
    ] {
        let name = record["name"].as_str().expect("a name");
        use_until_cached(&app, &app.address, token, &id_of(record)).await;

        let output = cli(&app, &["tokens", "revoke", &how]).await;

        assert!(output.status.success(), "{output:?}");
        assert!(stderr(&output).contains(name), "{output:?}");
        // The command is another process: the service hears of it from PostgreSQL.
        let problem = refused_within_a_second(&app.address, token).await;
        assert!(detail(&problem).contains("was revoked"), "{problem}");
    }

    let nobody = cli(&app, &["tokens", "revoke", "nobody"]).await;
    assert!(!nobody.status.success(), "{nobody:?}");
    assert!(stderr(&nobody).contains("nobody"), "{nobody:?}");
    // A revoked token's name names no token in use.
    let again = cli(&app, &["tokens", "revoke", "board laptop"]).await;
    assert!(!again.status.success(), "{again:?}");
}

#[actix_web::test]
async fn a_token_whose_expiry_is_moved_into_the_past_is_refused_at_once() {
    let app = TestApp::spawn().await;
    let (created, token) = create_token(&app, "contractor", &["read"]).await;
    let id = id_of(&created);
    use_until_cached(&app, &app.address, &token, &id).await;

    // Another process shortens its life: the trigger tells every instance.
    app_sql(
        &app,
        &format!(
            "UPDATE api_tokens SET expires_at = now() - interval '1 minute' WHERE id = '{id}'"
        ),
    )
    .await;

    let problem = refused_within_a_second(&app.address, &token).await;
    assert!(
        detail(&problem).contains("\"contractor\" expired"),
        "{problem}"
    );
}

#[actix_web::test]
async fn a_cached_token_is_refused_the_moment_it_expires() {
    let app = TestApp::spawn().await;
    let (created, token) = create_token(&app, "two-second guest", &["read"]).await;
    let id = id_of(&created);
    // Set before the token is used, so that the notification this sends has
    // nothing to clear: only the check of every request can refuse it later.
    app_sql(
        &app,
        &format!(
            "UPDATE api_tokens SET expires_at = now() + interval '2 seconds' WHERE id = '{id}'"
        ),
    )
    .await;
    let expires = time(&record(&app, &id).await["expires_at"]);
    use_until_cached(&app, &app.address, &token, &id).await;

    let wait = (expires - Utc::now() + TimeDelta::milliseconds(50))
        .to_std()
        .expect("the token was cached before it expired");
    sleep(wait).await;

    // No polling: the very first request after the expiry is refused.
    let problem = unauthorized(read_as(&app.address, &token).await);
    assert!(detail(&problem).contains("expired"), "{problem}");
}

// ---------------------------------------------------------------------------
// The command line
// ---------------------------------------------------------------------------

#[actix_web::test]
async fn the_command_line_prints_a_new_token_alone_and_lists_tokens_without_them() {
    let app = TestApp::spawn().await;

    let made = cli(
        &app,
        &[
            "tokens",
            "create",
            "--name",
            "member portal",
            "--scope",
            "read",
            "--expires-in",
            "90d",
        ],
    )
    .await;

    assert!(made.status.success(), "{made:?}");
    // Exactly one line, so that TOKEN=$(strategy-tracker tokens create ...) works.
    let printed = stdout(&made);
    let token = printed.strip_suffix('\n').expect("a line");
    assert!(!token.contains('\n'), "{printed:?}");
    assert_eq!(token.len(), 69, "{printed:?}");
    assert!(token.starts_with("stk_"), "{printed:?}");
    assert!(stderr(&made).contains("member portal"), "{made:?}");
    read_as(&app.address, token).await.expect(200);
    let id = TokenSecret::parse(token)
        .expect("well formed")
        .id
        .to_string();
    let shown = record(&app, &id).await;
    assert_eq!(shown["scopes"], json!(["read"]));
    assert!(close(
        time(&shown["expires_at"]),
        Utc::now() + TimeDelta::days(90),
        TimeDelta::minutes(1)
    ));

    let bogus = cli(
        &app,
        &["tokens", "create", "--name", "x", "--scope", "bogus"],
    )
    .await;
    assert!(!bogus.status.success(), "{bogus:?}");
    assert!(stderr(&bogus).contains("read, write, admin"), "{bogus:?}");
    assert!(bogus.stdout.is_empty(), "{bogus:?}");

    let list = cli(&app, &["tokens", "list"]).await;
    assert!(list.status.success(), "{list:?}");
    let table = stdout(&list);
    let line = table
        .lines()
        .find(|line| line.contains("member portal"))
        .unwrap_or_else(|| panic!("the token is listed:\n{table}"));
    assert!(line.contains("read") && line.contains(&id), "{line}");
    for form in secret_forms(token) {
        assert!(!table.contains(&form), "{table}");
    }
}

// ---------------------------------------------------------------------------
// Scopes
// ---------------------------------------------------------------------------

#[actix_web::test]
async fn only_admin_tokens_manage_tokens_and_admin_alone_changes_no_plan() {
    let app = TestApp::spawn().await;
    let (_, write) = create_token(&app, "editor", &["write"]).await;
    let (_, admin) = create_token(&app, "token keeper", &["admin"]).await;
    let plan = json!({
        "title": "Core Strategic Plan 2022-2025",
        "period_start": "2022-09-01",
        "period_end": "2025-08-31",
    });

    let listing = send_as(
        &app.address,
        Some(&write),
        Method::GET,
        "/api/v1/tokens",
        None,
    )
    .await;
    assert_eq!(
        listing.header("www-authenticate").as_deref(),
        Some("Bearer realm=\"strategy-tracker\", error=\"insufficient_scope\", scope=\"admin\"")
    );
    let problem = listing.problem(403);
    assert!(detail(&problem).contains("admin scope"), "{problem}");
    let body = json!({ "name": "escalation", "scopes": ["admin"] });
    send_as(
        &app.address,
        Some(&write),
        Method::POST,
        "/api/v1/tokens",
        Some(body),
    )
    .await
    .problem(403);
    send_as(
        &app.address,
        Some(&write),
        Method::POST,
        "/api/v1/plans",
        Some(plan.clone()),
    )
    .await
    .created();

    let problem = send_as(
        &app.address,
        Some(&admin),
        Method::POST,
        "/api/v1/plans",
        Some(plan),
    )
    .await
    .problem(403);
    assert!(detail(&problem).contains("write scope"), "{problem}");
    let body = json!({ "name": "new portal", "scopes": ["read"] });
    let made = send_as(
        &app.address,
        Some(&admin),
        Method::POST,
        "/api/v1/tokens",
        Some(body),
    )
    .await
    .created();
    assert_eq!(made["scopes"], json!(["read"]));
    send_as(
        &app.address,
        Some(&admin),
        Method::GET,
        "/api/v1/tokens",
        None,
    )
    .await
    .expect(200);
}

// ---------------------------------------------------------------------------
// Logs
// ---------------------------------------------------------------------------

#[actix_web::test]
async fn tokens_never_reach_the_logs() {
    let database = TestDatabase::new();
    let (served, address) = Served::start(&database.url()).await;
    let created = send_as(
        &address,
        Some(TEST_TOKEN),
        Method::POST,
        "/api/v1/tokens",
        Some(json!({ "name": "portal", "scopes": ["read"] })),
    )
    .await
    .created();
    let token = created["token"].as_str().expect("a token").to_owned();
    // Well formed, but issued by no one.
    let stranger = TokenSecret::generate().expect("randomness").to_string();

    read_as(&address, &token).await.expect(200);
    unauthorized(read_as(&address, &stranger).await);
    // A token cut short, and one under another scheme.
    let cut = &token[..60];
    send_as(&address, Some(cut), Method::GET, NEEDS_READ, None)
        .await
        .problem(401);
    crate::common::send_with(
        &crate::common::anonymous_client(),
        &address,
        Method::GET,
        NEEDS_READ,
        &[("Authorization", &format!("Basic {token}"))],
        None,
    )
    .await
    .problem(401);
    // Tokens in the URL are refused, and must not be logged with it either.
    for query in [
        format!("access_token={token}"),
        format!("access_token={stranger}"),
        format!("cursor={token}"),
    ] {
        let path = format!("/api/v1/events?{query}");
        send_as(&address, None, Method::GET, &path, None)
            .await
            .problem(400);
    }
    let log = served.stop();

    // The log is not simply empty: each request has its line.
    assert!(log.contains("GET /api/v1/events 200"), "{log}");
    assert!(log.contains("GET /api/v1/events 401"), "{log}");
    assert!(log.contains("GET /api/v1/events 400"), "{log}");
    for secret in [TEST_TOKEN, &token, &stranger] {
        for form in secret_forms(secret) {
            assert!(!log.contains(&form), "the log holds {form}:\n{log}");
        }
    }
    assert!(
        !log.contains(cut),
        "the log holds a token cut short:\n{log}"
    );
}

/// The router percent-decodes a path before it routes it (`%74` is `t`), so the
/// access check must judge the decoded path: when it judged the path as sent, it
/// found no rule for `/api/v1/%74okens` and let anyone make themselves an admin
/// token, read the feed, and see drafts through a `%30...` id.
#[actix_web::test]
async fn a_percent_encoded_path_gets_the_same_access_check() {
    let app = TestApp::spawn().await;
    let draft = app.create_plan(json!({})).await;
    assert_eq!(draft["status"], "draft");
    let id = id_of(&draft);
    // The same id with its first character percent-encoded.
    let encoded_id = format!("%{:02X}{}", id.as_bytes()[0], &id[1..]);
    let body = json!({ "name": "intruder", "scopes": ["admin", "write", "read"] });

    let made = send_as(
        &app.address,
        None,
        Method::POST,
        "/api/v1/%74okens",
        Some(body),
    )
    .await;
    let listed = send_as(&app.address, None, Method::GET, "/api/v1/%74okens", None).await;
    let feed = send_as(&app.address, None, Method::GET, "/api/v1/%65vents", None).await;
    let shown = send_as(
        &app.address,
        None,
        Method::GET,
        &format!("/api/v1/plans/{encoded_id}"),
        None,
    )
    .await;

    assert_eq!(made.status, 401, "anyone made a token: {}", made.text());
    assert_eq!(
        listed.status,
        401,
        "anyone listed tokens: {}",
        listed.text()
    );
    assert_eq!(feed.status, 401, "anyone read the feed: {}", feed.text());
    assert_eq!(shown.status, 404, "anyone saw a draft: {}", shown.text());
}
