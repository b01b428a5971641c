//! The HTTP contract every route shares: problem documents, request ids, body
//! limits, 404/405, health checks, the OpenAPI document and database outages.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use actix_web::http::Method;
use serde_json::json;

use crate::common::{TestApp, TestDatabase, client, send, server_url, start, test_config};

#[actix_web::test]
async fn the_served_openapi_document_is_the_committed_one() {
    let app = TestApp::spawn().await;

    let served = app.get("/api/v1/openapi.json").await;

    assert_eq!(served.status, 200);
    let committed =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/openapi/openapi.json"))
            .expect("openapi/openapi.json is committed");
    assert!(
        served.text() == committed,
        "openapi/openapi.json differs from the served document; refresh it with:\n    cargo run -- openapi > openapi/openapi.json"
    );
    let document = served.json();
    assert_eq!(document["openapi"], "3.1.0");
    assert!(document["paths"]["/api/v1/goals/{goal_id}"]["patch"]["responses"]["422"].is_object());
}

#[actix_web::test]
async fn interactive_documentation_is_served_at_docs() {
    let app = TestApp::spawn().await;

    let redirect = app.get("/docs").await;
    let page = app.get("/docs/").await;

    assert_eq!(redirect.status, 308);
    assert_eq!(redirect.header("location").as_deref(), Some("/docs/"));
    assert_eq!(page.status, 200);
    assert!(page.text().contains("swagger"), "{}", page.text());
}

#[actix_web::test]
async fn health_checks_answer_ok() {
    let app = TestApp::spawn().await;

    assert_eq!(
        app.get("/healthz").await.expect(200),
        json!({"status": "ok"})
    );
    assert_eq!(
        app.get("/readyz").await.expect(200),
        json!({"status": "ok"})
    );
}

#[actix_web::test]
async fn every_response_carries_a_request_id_and_a_client_one_is_kept() {
    let app = TestApp::spawn().await;

    let generated = app.get("/healthz").await.header("x-request-id");
    let mut request = client().get(format!("{}/api/v1/plans/nope", app.address));
    request = request.insert_header(("X-Request-Id", "portal-sync-42"));
    let response = request.send().await.expect("an answer");

    assert!(generated.is_some_and(|id| id.len() == 36));
    assert_eq!(
        response.headers().get("x-request-id").map(|v| v.as_bytes()),
        Some(&b"portal-sync-42"[..])
    );
}

/// A proxy's own format of request id must not cost the request: it is replaced.
#[actix_web::test]
async fn a_malformed_request_id_is_replaced_not_refused() {
    let app = TestApp::spawn().await;

    for sent in ["has spaces", &"x".repeat(129), ""] {
        let reply = app
            .send_with(
                Method::GET,
                "/api/v1/plans",
                &[("X-Request-Id", sent)],
                None,
            )
            .await;
        let id = reply.header("x-request-id").expect("a request id");
        assert!(id != sent && id.len() == 36, "{sent:?} gave {id:?}");
        reply.expect(200);
    }
}

#[actix_web::test]
async fn an_unknown_route_is_a_404_problem() {
    let app = TestApp::spawn().await;

    let problem = app.get("/api/v1/strategies").await.problem(404);

    assert!(crate::common::detail(&problem).contains("/api/v1/strategies"));
}

#[actix_web::test]
async fn a_wrong_method_is_a_405_problem_naming_the_allowed_ones() {
    let app = TestApp::spawn().await;

    let reply = app
        .request(
            Method::PUT,
            "/api/v1/plans/0193a3c4-5b6e-7f00-8a1b-2c3d4e5f6a7b",
            None,
        )
        .await;

    assert_eq!(
        reply.header("allow").as_deref(),
        Some("GET, HEAD, DELETE, PATCH")
    );
    reply.problem(405);
    let reply = app.request(Method::DELETE, "/api/v1/plans", None).await;
    assert_eq!(reply.header("allow").as_deref(), Some("GET, HEAD, POST"));
}

#[actix_web::test]
async fn head_answers_as_get_does_without_the_body() {
    let app = TestApp::spawn().await;
    let plan = app
        .create_plan(json!({"title": "Core", "status": "active"}))
        .await;
    let path = format!("/api/v1/plans/{}", plan["id"].as_str().expect("an id"));

    let got = app.request(Method::GET, &path, None).await;
    let head = app.request(Method::HEAD, &path, None).await;
    let missing = app
        .request(
            Method::HEAD,
            "/api/v1/plans/0193a3c4-5b6e-7f00-8a1b-2c3d4e5f6a7b",
            None,
        )
        .await;

    assert_eq!(head.status, 200);
    assert!(head.body.is_empty(), "HEAD sent a body");
    assert_eq!(head.header("etag"), got.header("etag"));
    assert_eq!(
        head.header("content-length"),
        Some(got.body.len().to_string())
    );
    assert_eq!(missing.status, 404);
    assert!(missing.body.is_empty());
}

#[actix_web::test]
async fn a_trailing_or_doubled_slash_is_a_404_not_a_405() {
    let app = TestApp::spawn().await;
    let plan = app.create_plan(json!({"title": "Core"})).await;
    let id = plan["id"].as_str().expect("an id");

    for path in [
        format!("/api/v1/plans/{id}/"),
        format!("/api/v1/plans//{id}"),
        "/api/v1//plans".to_owned(),
        "/api/v1/plans/".to_owned(),
    ] {
        let reply = app.request(Method::PATCH, &path, Some(json!({}))).await;
        let problem = reply.problem(404);
        assert!(
            crate::common::detail(&problem).contains(&path),
            "{path}: {problem}"
        );
    }
}

#[actix_web::test]
async fn an_id_that_is_not_a_uuid_is_a_404_problem() {
    let app = TestApp::spawn().await;

    let problem = app.get("/api/v1/goals/42").await.problem(404);

    assert!(crate::common::detail(&problem).contains("UUID"));
}

#[actix_web::test]
async fn malformed_json_is_a_400_problem_that_says_where() {
    let app = TestApp::spawn().await;

    let problem = app
        .raw(
            Method::POST,
            "/api/v1/plans",
            Some("application/json"),
            b"{\"title\": \"x\",}".to_vec(),
        )
        .await
        .problem(400);

    assert!(
        crate::common::detail(&problem).contains("line 1"),
        "{problem}"
    );
}

#[actix_web::test]
async fn an_empty_body_is_a_400_problem() {
    let app = TestApp::spawn().await;

    let problem = app
        .raw(
            Method::POST,
            "/api/v1/plans",
            Some("application/json"),
            Vec::new(),
        )
        .await
        .problem(400);

    assert!(crate::common::detail(&problem).contains("empty"));
}

#[actix_web::test]
async fn a_body_that_is_not_an_object_is_a_422_problem() {
    let app = TestApp::spawn().await;

    let problem = app
        .post("/api/v1/plans", json!(["title"]))
        .await
        .problem(422);

    assert_eq!(crate::common::error_fields(&problem), [""]);
}

#[actix_web::test]
async fn a_body_sent_without_the_json_content_type_is_a_415_problem() {
    let app = TestApp::spawn().await;

    for content_type in [
        None,
        Some("application/x-www-form-urlencoded"),
        Some("text/plain"),
    ] {
        let problem = app
            .raw(Method::POST, "/api/v1/plans", content_type, b"{}".to_vec())
            .await
            .problem(415);

        assert!(crate::common::detail(&problem).contains("application/json"));
    }
}

#[actix_web::test]
async fn a_merge_patch_content_type_is_accepted() {
    let app = TestApp::spawn().await;
    let plan = app.create_plan(json!({})).await;

    let reply = app
        .raw(
            Method::PATCH,
            &format!("/api/v1/plans/{}", crate::common::id_of(&plan)),
            Some("application/merge-patch+json"),
            br#"{"status": "active"}"#.to_vec(),
        )
        .await;

    assert_eq!(reply.expect(200)["status"], "active");
}

#[actix_web::test]
async fn a_body_over_the_limit_is_a_413_problem_and_nothing_is_written() {
    let app = TestApp::spawn().await;
    let summary = "x".repeat(70 * 1024);

    let reply = app
        .post(
            "/api/v1/plans",
            json!({"title": "Big", "summary": summary, "period_start": "2022-01-01", "period_end": "2023-01-01"}),
        )
        .await;

    reply.problem(413);
    assert_eq!(
        app.get("/api/v1/plans").await.expect(200)["items"],
        json!([])
    );
}

/// A TCP relay to PostgreSQL that can be cut, to play a database outage.
struct Relay {
    port: u16,
    up: Arc<AtomicBool>,
    open: Arc<Mutex<Vec<TcpStream>>>,
}

impl Relay {
    fn start(target: String) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("a free port");
        let port = listener.local_addr().expect("an address").port();
        let up = Arc::new(AtomicBool::new(true));
        let open = Arc::new(Mutex::new(Vec::new()));
        let (accept_up, accept_open) = (up.clone(), open.clone());
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                if !accept_up.load(Ordering::SeqCst) {
                    continue; // dropped: the connection is refused
                }
                let Ok(server) = TcpStream::connect(&target) else {
                    continue;
                };
                let mut open = accept_open.lock().expect("the relay's list");
                open.extend([
                    client.try_clone().expect("a clone"),
                    server.try_clone().expect("a clone"),
                ]);
                pipe(
                    client.try_clone().expect("a clone"),
                    server.try_clone().expect("a clone"),
                );
                pipe(server, client);
            }
        });
        Self { port, up, open }
    }

    fn cut(&self) {
        self.up.store(false, Ordering::SeqCst);
        for stream in self.open.lock().expect("the relay's list").drain(..) {
            let _ = stream.shutdown(Shutdown::Both);
        }
    }

    fn restore(&self) {
        self.up.store(true, Ordering::SeqCst);
    }
}

fn pipe(mut from: TcpStream, mut to: TcpStream) {
    std::thread::spawn(move || {
        let mut buffer = [0; 16 * 1024];
        while let Ok(read @ 1..) = from.read(&mut buffer) {
            if to.write_all(&buffer[..read]).is_err() {
                break;
            }
        }
        let _ = to.shutdown(Shutdown::Both);
    });
}

#[actix_web::test]
async fn while_the_database_is_down_requests_get_503_and_service_recovers_by_itself() {
    let database = TestDatabase::new();
    let server = server_url();
    let authority_start = server
        .find('@')
        .map_or(server.find("://").expect("a URL") + 3, |at| at + 1);
    let authority_end = authority_start + server[authority_start..].find('/').expect("a path");
    let relay = Relay::start(server[authority_start..authority_end].to_owned());
    let via_relay = format!(
        "{}127.0.0.1:{}/{}",
        &server[..authority_start],
        relay.port,
        database.name
    );
    let (address, _server) = start(&test_config(via_relay));
    let http = client();
    let get = |path: &'static str| send(&http, &address, Method::GET, path, None, Vec::new());
    assert_eq!(get("/api/v1/plans").await.status, 200);

    relay.cut();
    let started = Instant::now();
    let down = get("/api/v1/plans").await;
    let ready = get("/readyz").await;
    let live = get("/healthz").await;

    assert!(
        started.elapsed() < Duration::from_secs(10),
        "no hang while the database is down"
    );
    assert_eq!(down.header("retry-after").as_deref(), Some("5"));
    down.problem(503);
    ready.problem(503);
    assert_eq!(live.status, 200);

    relay.restore();
    let deadline = Instant::now() + Duration::from_secs(15);
    let mut status = 0;
    while Instant::now() < deadline && status != 200 {
        status = get("/api/v1/plans").await.status;
        actix_web::rt::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(status, 200, "the service recovers without a restart");
    assert_eq!(get("/readyz").await.status, 200);
}

#[actix_web::test]
async fn a_body_of_many_unknown_fields_is_told_about_the_first_hundred() {
    let app = TestApp::spawn().await;
    let body: serde_json::Map<String, serde_json::Value> = (0..150)
        .map(|n| (format!("field_{n:03}"), json!(n)))
        .collect();

    let problem = app.post("/api/v1/plans", body.into()).await.problem(422);

    let fields = crate::common::error_fields(&problem);
    assert_eq!(fields.len(), 100);
    assert_eq!(fields[0], "field_000");
}

#[actix_web::test]
async fn a_request_the_database_holds_past_the_request_timeout_is_a_503_and_changes_nothing() {
    use diesel_async::{AsyncConnection, SimpleAsyncConnection};

    let app = TestApp::spawn_with(|config| config.request_timeout_seconds = 1).await;
    let plan = app.create_plan(json!({"title": "Held plan"})).await;
    let plan_path = format!("/api/v1/plans/{}", plan["id"].as_str().expect("an id"));
    // Another session holds the plan's row, as a stalled database would hold the query.
    let mut holder = diesel_async::AsyncPgConnection::establish(&app.database.url())
        .await
        .expect("a connection");
    holder
        .batch_execute(&format!(
            "BEGIN; SELECT 1 FROM plans WHERE id = '{}' FOR UPDATE",
            plan["id"].as_str().expect("an id")
        ))
        .await
        .expect("the lock");

    let started = Instant::now();
    let held = app.patch(&plan_path, json!({"title": "Changed"})).await;
    let waited = started.elapsed();

    assert_eq!(held.header("retry-after").as_deref(), Some("5"));
    let problem = held.problem(503);
    assert!(
        crate::common::detail(&problem).contains("not answered within 1 seconds"),
        "{problem}"
    );
    assert!(waited < Duration::from_secs(3), "answered after {waited:?}");
    holder.batch_execute("ROLLBACK").await.expect("the release");
    assert_eq!(app.get(&plan_path).await.expect(200)["title"], "Held plan");
    let retried = app.patch(&plan_path, json!({"title": "Changed"})).await;
    assert_eq!(retried.expect(200)["title"], "Changed");
}

#[actix_web::test]
async fn a_client_sending_its_body_slowly_holds_no_database_connection() {
    // One connection in all: if the slow import held it while its body trickles
    // in, every other request would wait for it and get a 503.
    let app = TestApp::spawn_with(|config| {
        config.pool_size = 1;
        config.workers = Some(1);
        config.database_timeout_seconds = 1;
    })
    .await;
    let address = app.address.trim_start_matches("http://").to_owned();
    let mut slow = TcpStream::connect(&address).expect("the service listens");
    let head = format!(
        "POST /api/v1/plans/import HTTP/1.1\r\nHost: {address}\r\nAuthorization: Bearer {}\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{{\"title\": ",
        crate::common::TEST_TOKEN
    );
    slow.write_all(head.as_bytes()).expect("the head is sent");
    actix_web::rt::time::sleep(Duration::from_millis(300)).await;

    let reply = app.get("/api/v1/plans").await;

    assert_eq!(reply.status, 200, "{}", reply.text());
    drop(slow);
}
