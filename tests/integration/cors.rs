//! Cross-origin calls from the member portal's browser pages: only from the
//! configured origins, none by default.

use actix_web::http::Method;
use serde_json::json;

use crate::common::TestApp;

const PORTAL: &str = "https://members.example.org";

async fn portal_app() -> TestApp {
    TestApp::spawn_with(|config| config.cors_allowed_origins = vec![PORTAL.to_owned()]).await
}

async fn preflight(app: &TestApp, origin: &str) -> crate::common::Reply {
    let headers = [
        ("Origin", origin),
        ("Access-Control-Request-Method", "PATCH"),
        ("Access-Control-Request-Headers", "if-match, content-type"),
    ];
    app.send_with(
        Method::OPTIONS,
        "/api/v1/plans/0193a3c4-5b6e-7f00-8a1b-2c3d4e5f6a7b",
        &headers,
        None,
    )
    .await
}

#[actix_web::test]
async fn without_configured_origins_no_page_elsewhere_may_read_the_answers() {
    let app = TestApp::spawn().await;

    let reply = app.get_with("/api/v1/plans", &[("Origin", PORTAL)]).await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.header("access-control-allow-origin"), None);
    let reply = preflight(&app, PORTAL).await;
    assert_eq!(reply.header("access-control-allow-origin"), None);
    assert_eq!(reply.status, 405, "OPTIONS is not a method of the API");
}

#[actix_web::test]
async fn the_portal_may_read_answers_and_the_headers_it_needs() {
    let app = portal_app().await;
    app.create_plan(json!({})).await;

    let reply = app.get_with("/api/v1/plans", &[("Origin", PORTAL)]).await;
    assert_eq!(reply.status, 200);
    assert_eq!(
        reply.header("access-control-allow-origin").as_deref(),
        Some(PORTAL)
    );
    let exposed = reply
        .header("access-control-expose-headers")
        .unwrap_or_default();
    for header in ["ETag", "Location", "Link", "Idempotent-Replayed"] {
        assert!(exposed.contains(header), "{header} in {exposed}");
    }
    assert!(reply.header("vary").unwrap_or_default().contains("Origin"));
    assert_eq!(reply.header("access-control-allow-credentials"), None);

    // Problems too, so the page can show what to fix.
    let missing = app
        .get_with(
            "/api/v1/plans/0193a3c4-5b6e-7f00-8a1b-2c3d4e5f6a7b",
            &[("Origin", PORTAL)],
        )
        .await;
    assert_eq!(
        missing.header("access-control-allow-origin").as_deref(),
        Some(PORTAL)
    );
    missing.problem(404);
}

#[actix_web::test]
async fn the_portal_s_preflight_allows_the_api_s_methods_and_headers() {
    let app = portal_app().await;

    let reply = preflight(&app, PORTAL).await;
    assert_eq!(reply.status, 204);
    assert_eq!(
        reply.header("access-control-allow-origin").as_deref(),
        Some(PORTAL)
    );
    let methods = reply
        .header("access-control-allow-methods")
        .unwrap_or_default();
    assert!(
        methods.contains("PATCH") && methods.contains("DELETE"),
        "{methods}"
    );
    let headers = reply
        .header("access-control-allow-headers")
        .unwrap_or_default();
    for header in ["Authorization", "If-Match", "Idempotency-Key"] {
        assert!(headers.contains(header), "{header} in {headers}");
    }
}

#[actix_web::test]
async fn other_origins_get_no_leave_to_read() {
    let app = portal_app().await;
    for origin in [
        "https://evil.example.com",
        "https://members.example.org.evil.test",
        "null",
    ] {
        let reply = app.get_with("/api/v1/plans", &[("Origin", origin)]).await;
        assert_eq!(
            reply.header("access-control-allow-origin"),
            None,
            "{origin}"
        );
        let reply = preflight(&app, origin).await;
        assert_eq!(
            reply.header("access-control-allow-origin"),
            None,
            "{origin}"
        );
        assert_ne!(reply.status, 204, "{origin}");
    }
}
