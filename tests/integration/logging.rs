//! The service's logs as an operator's collector reads them: the real binary with
//! `LOG_FORMAT=json` (or text), its output read back line by line.

use actix_web::http::Method;
use serde_json::{Value, json};

use crate::common::{TEST_TOKEN, TEST_TOKEN_NAME, TestDatabase, client, send_with};
use crate::helpers::Served;

const TRACEPARENT: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
const TRACE_ID: &str = "4bf92f3577b34da6a3ce929d0e0e4736";

/// Creates a token as the test suite's admin token, with a `traceparent`; the
/// answer's request id, the new token's id and the new token itself.
async fn create_token(address: &str) -> (String, String, String) {
    let reply = send_with(
        &client(),
        address,
        Method::POST,
        "/api/v1/tokens",
        &[("traceparent", TRACEPARENT)],
        Some(json!({ "name": "portal", "scopes": ["read"] })),
    )
    .await;
    let request_id = reply.header("x-request-id").expect("a request id");
    let created = reply.created();
    let field = |name: &str| created[name].as_str().expect("a string").to_owned();
    (request_id, field("id"), field("token"))
}

/// The lines of `log` that carry `request_id`.
fn lines_of<'a>(lines: &'a [Value], request_id: &str) -> Vec<&'a Value> {
    lines
        .iter()
        .filter(|line| line["request_id"] == request_id)
        .collect()
}

#[actix_web::test]
async fn json_lines_carry_the_request_on_every_line_and_never_a_token() {
    let database = TestDatabase::new();
    let (served, address) = Served::start_with(
        &database.url(),
        &[("LOG_FORMAT", "json"), ("RUST_LOG", "info")],
    )
    .await;
    let (request_id, token_id, token) = create_token(&address).await;
    // A route with an id in it.
    let read = send_with(
        &client(),
        &address,
        Method::GET,
        &format!("/api/v1/tokens/{token_id}"),
        &[],
        None,
    )
    .await;
    let read_id = read.header("x-request-id").expect("a request id");
    read.expect(200);
    let log = served.stop();

    let lines: Vec<Value> = log
        .lines()
        .map(|line| {
            let value: Value = serde_json::from_str(line)
                .unwrap_or_else(|error| panic!("not a JSON line ({error}): {line}"));
            for field in ["timestamp", "level", "target", "message"] {
                assert!(value[field].is_string(), "no {field} in {line}");
            }
            value
        })
        .collect();
    let of_creation = lines_of(&lines, &request_id);
    let access = of_creation
        .iter()
        .find(|line| line["target"] == "strategy_tracker::api::middleware::request_log")
        .unwrap_or_else(|| panic!("no access line for {request_id}:\n{log}"));
    assert_eq!(access["method"], "POST", "{access}");
    assert_eq!(access["route"], "/api/v1/tokens", "{access}");
    assert_eq!(access["status"], 201, "{access}");
    assert!(
        access["latency_ms"].as_f64().is_some_and(|ms| ms > 0.0),
        "{access}"
    );
    assert!(
        access["bytes"].as_u64().is_some_and(|bytes| bytes > 0),
        "{access}"
    );
    assert_eq!(access["token_name"], TEST_TOKEN_NAME, "{access}");
    assert_eq!(access["trace_id"], TRACE_ID, "{access}");
    // A line the handler wrote, not the middleware, carries the same request.
    let audit = of_creation
        .iter()
        .find(|line| line["message"] == "API token created")
        .unwrap_or_else(|| panic!("the handler's line lacks {request_id}:\n{log}"));
    assert_eq!(audit["api_token_id"], token_id.as_str(), "{audit}");
    assert_eq!(audit["trace_id"], TRACE_ID, "{audit}");
    // The route template, not the path with its id; no trace id where none was sent.
    let read_line = lines_of(&lines, &read_id);
    assert_eq!(read_line.len(), 1, "{log}");
    assert_eq!(read_line[0]["route"], "/api/v1/tokens/{token_id}", "{log}");
    assert_eq!(read_line[0]["path"], format!("/api/v1/tokens/{token_id}"));
    assert!(read_line[0].get("trace_id").is_none(), "{log}");
    for secret in [TEST_TOKEN, &token] {
        assert!(!log.contains(secret), "the log holds a token:\n{log}");
    }
}

#[actix_web::test]
async fn text_lines_carry_the_request_id_too() {
    let database = TestDatabase::new();
    let (served, address) = Served::start_with(&database.url(), &[("RUST_LOG", "info")]).await;
    let (request_id, _, token) = create_token(&address).await;
    let log = served.stop();

    let tagged = format!(" request_id={request_id} trace_id={TRACE_ID}");
    let audit = log
        .lines()
        .find(|line| line.contains("API token created"))
        .unwrap_or_else(|| panic!("no line for the new token:\n{log}"));
    assert!(audit.ends_with(&tagged), "{audit}");
    let access = log
        .lines()
        .find(|line| line.contains("POST /api/v1/tokens 201"))
        .unwrap_or_else(|| panic!("no access line:\n{log}"));
    assert!(access.contains(" token_name=\"test suite\""), "{access}");
    assert!(access.ends_with(&tagged), "{access}");
    for secret in [TEST_TOKEN, &token] {
        assert!(!log.contains(secret), "the log holds a token:\n{log}");
    }
}

#[actix_web::test]
async fn an_invalid_log_format_is_refused_naming_the_setting() {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_strategy-tracker"))
        .arg("openapi")
        .env("LOG_FORMAT", "xml")
        .output()
        .expect("the binary runs");

    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert_eq!(
        stderr.trim(),
        "error: invalid value 'xml' for LOG_FORMAT (--log-format): must be one of text, json"
    );
}
