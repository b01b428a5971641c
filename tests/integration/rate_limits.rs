//! Rate limits: each token, and each address for calls without a working token, may
//! make so many requests a minute; past that a 429 with `Retry-After`, and every
//! counted answer says what is left in the `RateLimit` headers. The limit holds
//! across the workers of an instance. Behind a trusted proxy the address is the
//! client's it forwards; from anyone else forwarding headers change nothing.

use actix_web::http::Method;
use serde_json::json;

use strategy_tracker::config::Network;

use crate::common::{Reply, TEST_TOKEN, TestApp};

/// GET /api/v1/plans with these headers, from a client that sends nothing else.
async fn list_plans(app: &TestApp, headers: &[(&str, &str)]) -> Reply {
    crate::common::send_with(
        &crate::common::anonymous_client(),
        &app.address,
        Method::GET,
        "/api/v1/plans",
        headers,
        None,
    )
    .await
}

fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

#[actix_web::test]
async fn a_token_gets_its_quota_then_a_429_saying_when_to_retry() {
    let app = TestApp::spawn_with(|config| config.rate_limit_per_token = 5).await;
    let test_token = bearer(TEST_TOKEN);
    let other = app
        .post(
            "/api/v1/tokens",
            json!({ "name": "portal", "scopes": ["read"] }),
        )
        .await
        .created();
    let other = bearer(other["token"].as_str().expect("a token"));

    // The POST above was the test token's first request of five.
    for left in (0..4).rev() {
        let reply = list_plans(&app, &[("Authorization", &test_token)]).await;
        assert_eq!(reply.status, 200);
        assert_eq!(
            reply.header("ratelimit-policy").as_deref(),
            Some("\"token\";q=5;w=60")
        );
        let remaining = reply.header("ratelimit").unwrap_or_default();
        assert!(
            remaining.starts_with(&format!("\"token\";r={left};t=")),
            "{remaining}"
        );
    }

    let refused = list_plans(&app, &[("Authorization", &test_token)]).await;
    let retry_after: u64 = refused
        .header("retry-after")
        .and_then(|seconds| seconds.parse().ok())
        .expect("a Retry-After in seconds");
    // Five a minute: the next one comes back within 12 seconds.
    assert!((1..=12).contains(&retry_after), "{retry_after}");
    let problem = refused.problem(429);
    assert!(
        problem["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("retry in"),
        "{problem}"
    );

    // Another token has a quota of its own.
    assert_eq!(
        list_plans(&app, &[("Authorization", &other)]).await.status,
        200
    );
    // Health checks are never counted.
    let health = crate::common::send_with(
        &crate::common::anonymous_client(),
        &app.address,
        Method::GET,
        "/healthz",
        &[("Authorization", &test_token)],
        None,
    )
    .await;
    assert_eq!(health.status, 200);
    assert_eq!(health.header("ratelimit"), None);
}

#[actix_web::test]
async fn calls_without_a_working_token_count_against_their_address() {
    let app = TestApp::spawn_with(|config| {
        config.rate_limit_per_token = 100;
        config.rate_limit_per_address = 3;
    })
    .await;
    let made_up = strategy_tracker::models::api_token::secret::TokenSecret::generate()
        .expect("randomness")
        .to_string();

    // Guessing tokens uses up the address's quota like anonymous reads do.
    assert_eq!(list_plans(&app, &[]).await.status, 200);
    for _ in 0..2 {
        let reply = list_plans(&app, &[("Authorization", &bearer(&made_up))]).await;
        assert_eq!(reply.status, 401);
        assert_eq!(
            reply.header("ratelimit-policy").as_deref(),
            Some("\"address\";q=3;w=60")
        );
    }
    let refused = list_plans(&app, &[("Authorization", &bearer(&made_up))]).await;
    assert!(refused.header("retry-after").is_some());
    refused.problem(429);
    list_plans(&app, &[]).await.problem(429);

    // A working token from the same address is counted apart.
    let reply = list_plans(&app, &[("Authorization", &bearer(TEST_TOKEN))]).await;
    assert_eq!(reply.status, 200);
    assert_eq!(
        reply.header("ratelimit-policy").as_deref(),
        Some("\"token\";q=100;w=60")
    );
}

#[actix_web::test]
async fn the_limit_holds_across_workers() {
    const QUOTA: u32 = 20;
    let app = TestApp::spawn_with(|config| {
        config.workers = Some(2);
        config.rate_limit_per_token = QUOTA;
    })
    .await;

    // Sixty requests at once, each on a connection of its own, so that both
    // workers take some.
    let replies = futures_util::future::join_all((0..60).map(|_| async {
        crate::common::send_with(
            &crate::common::client(),
            &app.address,
            Method::GET,
            "/api/v1/plans",
            &[],
            None,
        )
        .await
        .status
    }))
    .await;

    let served = replies.iter().filter(|status| **status == 200).count();
    let refused = replies.iter().filter(|status| **status == 429).count();
    assert_eq!(served + refused, 60, "{replies:?}");
    // One more may have trickled back in (one every three seconds) while they ran.
    assert!(
        (QUOTA as usize..=QUOTA as usize + 1).contains(&served),
        "{served} served"
    );
}

#[actix_web::test]
async fn without_limits_nothing_is_counted_or_announced() {
    let app = TestApp::spawn().await;
    for _ in 0..5 {
        let reply = list_plans(&app, &[]).await;
        assert_eq!(reply.status, 200);
        assert_eq!(reply.header("ratelimit"), None);
        assert_eq!(reply.header("ratelimit-policy"), None);
    }
}

fn networks(list: &[&str]) -> Vec<Network> {
    list.iter()
        .map(|text| Network::parse(text).expect("a valid network"))
        .collect()
}

#[actix_web::test]
async fn forwarding_headers_from_an_untrusted_address_do_not_escape_its_limit() {
    // The test client is 127.0.0.1: trusted by nobody, then not among the proxies.
    for trusted in [vec![], networks(&["10.0.0.1", "192.168.0.0/16"])] {
        let app = TestApp::spawn_with(|config| {
            config.rate_limit_per_address = 2;
            config.trusted_proxies = trusted.clone();
        })
        .await;
        let spoofed = [
            [
                ("X-Forwarded-For", "203.0.113.1"),
                ("Forwarded", "for=203.0.113.1"),
            ],
            [
                ("X-Forwarded-For", "203.0.113.2"),
                ("Forwarded", "for=\"[2001:db8::2]\""),
            ],
            [
                ("X-Forwarded-For", "203.0.113.3"),
                ("Forwarded", "for=203.0.113.3"),
            ],
        ];
        let mut statuses = Vec::new();
        for headers in &spoofed {
            statuses.push(list_plans(&app, headers).await.status);
        }
        assert_eq!(statuses, [200, 200, 429], "trusting {trusted:?}");
    }
}

#[actix_web::test]
async fn behind_a_trusted_proxy_each_forwarded_client_has_a_limit_of_its_own() {
    let app = TestApp::spawn_with(|config| {
        config.rate_limit_per_address = 1;
        config.trusted_proxies = networks(&["127.0.0.1", "::1"]);
    })
    .await;
    let status = async |headers: &[(&str, &str)]| list_plans(&app, headers).await.status;

    assert_eq!(status(&[("X-Forwarded-For", "203.0.113.1")]).await, 200);
    assert_eq!(status(&[("X-Forwarded-For", "203.0.113.1")]).await, 429);
    assert_eq!(status(&[("X-Forwarded-For", "203.0.113.2")]).await, 200);
    // What a client wrote left of what the proxy appended does not make it anew.
    assert_eq!(
        status(&[("X-Forwarded-For", "198.51.100.7, 203.0.113.2")]).await,
        429
    );
    // RFC 7239's header, with an IPv6 client and its port.
    let forwarded = [("Forwarded", "for=\"[2001:db8::1]:4711\";proto=https")];
    assert_eq!(status(&forwarded).await, 200);
    assert_eq!(status(&forwarded).await, 429);
    // Without a forwarding header the proxy's own address is the client.
    assert_eq!(status(&[]).await, 200);
    assert_eq!(status(&[]).await, 429);
}
