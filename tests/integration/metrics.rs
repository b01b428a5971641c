//! Prometheus metrics on their own listener (`METRICS_ADDR`): a real scrape after
//! real requests, checked by Prometheus's own parser and linter (`promtool check
//! metrics`, which `scripts/test` installs), and the numbers held to the requests
//! that were made.

use std::collections::BTreeMap;
use std::io::Write;
use std::net::TcpListener;
use std::process::{Command, Stdio};
use std::time::Duration;

use actix_web::http::Method;
use diesel::QueryableByName;
use diesel_async::RunQueryDsl;
use serde_json::json;
use strategy_tracker::startup;
use uuid::Uuid;

use crate::common::{TestApp, TestDatabase, anonymous_client, goal_path, send, test_config};
use crate::helpers::connect;

const GOAL: &str = "/api/v1/goals/{goal_id}";

/// An address for the metrics listener. The service binds `METRICS_ADDR` itself,
/// as in production, so the test takes a port the kernel has just handed out and
/// let go of.
pub fn free_address() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("a free port on loopback");
    listener.local_addr().expect("a bound address").to_string()
}

/// `GET /metrics` on the metrics listener: its text, after checking its type.
pub async fn scrape(address: &str) -> String {
    let reply = send(
        &anonymous_client(),
        &format!("http://{address}"),
        Method::GET,
        "/metrics",
        None,
        Vec::new(),
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(
        reply.header("content-type").as_deref(),
        Some("text/plain; version=0.0.4; charset=utf-8")
    );
    reply.text()
}

/// Runs `promtool check metrics` on `text`; panics with what it said if it objects
/// to anything, format or naming.
pub fn promtool_check(text: &str) {
    let promtool = std::env::var("PROMTOOL").unwrap_or_else(|_| "promtool".to_owned());
    let mut child = Command::new(&promtool)
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|error| {
            panic!("cannot run {promtool} ({error}): scripts/test sets PROMTOOL from scripts/ensure-promtool")
        });
    child
        .stdin
        .take()
        .expect("a pipe")
        .write_all(text.as_bytes())
        .expect("promtool reads the scrape");
    let output = child.wait_with_output().expect("promtool finishes");
    assert!(
        output.status.success(),
        "promtool check metrics: {}{}\n{text}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// The samples of a scrape: name, labels, value.
pub struct Samples(Vec<(String, BTreeMap<String, String>, f64)>);

impl Samples {
    /// Reads the samples of the text format (promtool has checked its syntax).
    pub fn parse(text: &str) -> Self {
        let sample = |line: &str| {
            let (series, value) = line.rsplit_once(' ').expect("a sample has a value");
            let value = value.parse().expect("a number");
            let Some((name, labels)) = series.split_once('{') else {
                return (series.to_owned(), BTreeMap::new(), value);
            };
            let mut pairs = BTreeMap::new();
            let mut rest = labels.strip_suffix('}').expect("labels end with }");
            while let Some((label, after)) = rest.split_once("=\"") {
                let (mut text, mut chars) = (String::new(), after.char_indices());
                let end = loop {
                    match chars.next().expect("a closing quote") {
                        (_, '\\') => text.push(chars.next().expect("an escaped character").1),
                        (at, '"') => break at,
                        (_, c) => text.push(c),
                    }
                };
                pairs.insert(label.to_owned(), text);
                rest = after[end + 1..].trim_start_matches(',');
            }
            (name.to_owned(), pairs, value)
        };
        let lines = text.lines().filter(|line| !line.starts_with('#'));
        Self(lines.map(sample).collect())
    }

    /// The value of the sample with exactly these labels.
    fn get(&self, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
        let wanted: BTreeMap<String, String> = labels
            .iter()
            .map(|&(label, value)| (label.to_owned(), value.to_owned()))
            .collect();
        self.0
            .iter()
            .find(|(n, l, _)| n == name && *l == wanted)
            .map(|&(_, _, value)| value)
    }

    pub fn value(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        self.get(name, labels)
            .unwrap_or_else(|| panic!("no sample {name} {labels:?}"))
    }
}

#[derive(QueryableByName)]
struct Newest {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    seq: i64,
}

#[actix_web::test]
async fn a_scrape_passes_promtool_and_counts_each_request_by_route_template_and_status() {
    let metrics = free_address();
    let app = TestApp::spawn_with(|config| config.metrics_addr = Some(metrics.clone())).await;
    let (_, area_id) = app.plan_with_area().await;
    let goal = goal_path(&app.create_goal(&area_id, json!({})).await);
    for _ in 0..3 {
        app.get(&goal).await.expect(200);
    }
    let unknown = format!("/api/v1/goals/{}", Uuid::now_v7());
    for _ in 0..2 {
        app.get(&unknown).await.problem(404);
    }
    assert_eq!(app.request(Method::HEAD, &goal, None).await.status, 200);
    app.get("/no/such/page").await.problem(404);
    // Not on the API's listener.
    app.get("/metrics").await.problem(404);

    let text = scrape(&metrics).await;
    promtool_check(&text);
    let samples = Samples::parse(&text);

    let requests = |route, method, status| {
        let labels = [("route", route), ("method", method), ("status", status)];
        samples.value("strategy_tracker_http_requests_total", &labels)
    };
    assert_eq!(requests(GOAL, "GET", "200"), 3.0);
    assert_eq!(requests(GOAL, "GET", "404"), 2.0);
    assert_eq!(requests(GOAL, "HEAD", "200"), 1.0);
    assert_eq!(requests("/api/v1/plans", "POST", "201"), 1.0);
    assert_eq!(requests("unmatched", "GET", "404"), 2.0);
    assert!(
        !text.contains(&unknown[1..]),
        "raw paths never become labels"
    );

    let latency = "strategy_tracker_http_request_duration_seconds";
    let goal_gets = [("route", GOAL), ("method", "GET")];
    assert_eq!(samples.value(&format!("{latency}_count"), &goal_gets), 5.0);
    assert!(samples.value(&format!("{latency}_sum"), &goal_gets) > 0.0);
    let buckets: Vec<f64> = ["0.001", "0.01", "0.1", "1", "10", "+Inf"]
        .iter()
        .map(|le| {
            samples.value(
                &format!("{latency}_bucket"),
                &[goal_gets[0], goal_gets[1], ("le", le)],
            )
        })
        .collect();
    assert!(
        buckets.windows(2).all(|pair| pair[0] <= pair[1]),
        "{buckets:?}"
    );
    assert_eq!(buckets.last(), Some(&5.0));
    // The scrape is on the other listener: nothing of the API's is in flight.
    assert_eq!(
        samples.value("strategy_tracker_http_requests_in_flight", &[]),
        0.0
    );

    // The test configuration: a pool of 4 on one worker.
    assert_eq!(
        samples.value("strategy_tracker_db_pool_max_connections", &[]),
        4.0
    );
    let open = samples.value("strategy_tracker_db_pool_connections", &[]);
    let idle = samples.value("strategy_tracker_db_pool_idle_connections", &[]);
    assert!(open >= 1.0 && idle <= open, "open {open}, idle {idle}");
    assert_eq!(
        samples.value("strategy_tracker_db_pool_waiting_requests", &[]),
        0.0
    );

    let newest: Newest = diesel::sql_query("SELECT max(seq) AS seq FROM events")
        .get_result(&mut connect(&app).await)
        .await
        .expect("the events are readable");
    assert!(newest.seq >= 3, "a plan, an area and a goal were created");
    assert_eq!(
        samples.value("strategy_tracker_change_feed_newest_seq", &[]),
        newest.seq as f64
    );

    // Every request to a documented operation but the health checks and the
    // document checks its token: 3 creations, 5 GETs and the HEAD.
    let hits = samples.value("strategy_tracker_token_cache_hits_total", &[]);
    let misses = samples.value("strategy_tracker_token_cache_misses_total", &[]);
    assert_eq!(hits + misses, 9.0, "hits {hits}, misses {misses}");
    assert!(misses >= 1.0, "the first check asks the database");
    assert_eq!(
        samples.value(
            "strategy_tracker_build_info",
            &[("version", env!("CARGO_PKG_VERSION"))]
        ),
        1.0
    );
}

#[actix_web::test]
async fn rate_limit_refusals_are_counted_by_kind_of_client() {
    let metrics = free_address();
    let app = TestApp::spawn_with(|config| {
        config.metrics_addr = Some(metrics.clone());
        config.rate_limit_per_address = 2;
    })
    .await;
    let anonymous = anonymous_client();
    let mut statuses = Vec::new();
    for _ in 0..3 {
        let reply = send(
            &anonymous,
            &app.address,
            Method::GET,
            "/api/v1/plans",
            None,
            Vec::new(),
        )
        .await;
        statuses.push(reply.status);
    }
    assert_eq!(statuses, [200, 200, 429]);

    let text = scrape(&metrics).await;
    promtool_check(&text);
    let samples = Samples::parse(&text);
    let refusals = "strategy_tracker_rate_limit_refusals_total";
    assert_eq!(samples.value(refusals, &[("kind", "address")]), 1.0);
    assert_eq!(samples.value(refusals, &[("kind", "token")]), 0.0);
    let labels = [
        ("route", "/api/v1/plans"),
        ("method", "GET"),
        ("status", "429"),
    ];
    assert_eq!(
        samples.value("strategy_tracker_http_requests_total", &labels),
        1.0
    );
}

#[actix_web::test]
async fn the_metrics_listener_stops_with_the_service_and_a_taken_address_is_named() {
    let database = TestDatabase::new();
    let metrics = free_address();
    let mut config = test_config(database.url());
    config.metrics_addr = Some(metrics.clone());
    let listener = TcpListener::bind("127.0.0.1:0").expect("a free port");
    let (server, stopping) = startup::run(listener, &config).expect("the service starts");
    actix_web::rt::spawn(server);
    scrape(&metrics).await;

    // A second instance on the same metrics address: one line naming the setting.
    let listener = TcpListener::bind("127.0.0.1:0").expect("a free port");
    let error = startup::run(listener, &config)
        .err()
        .expect("the address is taken");
    assert!(
        error
            .to_string()
            .starts_with(&format!("cannot listen on METRICS_ADDR {metrics}: ")),
        "{error}"
    );

    // As on SIGTERM (shutdown::on_signal).
    stopping.begin();
    for _ in 0..50 {
        if std::net::TcpStream::connect(&metrics).is_err() {
            return;
        }
        actix_web::rt::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the metrics listener is still open after the service began to stop");
}
