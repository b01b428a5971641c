//! The cache of rendered plan documents and tracking sheets (`api::cache`), as
//! readers meet it: an unchanged plan is served without reading its rows (a change
//! made behind the change feed's back stays unseen, and a read costs one statement,
//! the plan's version), every kind of write is seen at once on this instance and on
//! another, gzip and plain answers are the same bytes with the same tag, a matching
//! `If-None-Match` is a 304 without a render, `CACHE_BYTES` bounds it (0: off),
//! identical misses render once, a turn that would come too late is a 503, and a
//! plan switched back to draft is hidden at once everywhere.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use actix_web::http::Method;
use actix_web::rt::time::sleep;
use diesel_async::SimpleAsyncConnection;
use futures_util::future::join_all;
use serde_json::{Value, json};
use strategy_tracker::api::cache::RENDERS_AT_ONCE;
use strategy_tracker::api::middleware::conditional::etag_of;
use uuid::Uuid;

use crate::common::{Reply, TEST_TOKEN, TestApp, client, id_of, send_with};
use crate::helpers::{app_sql, connect, create_measure, create_token, send_as, updates_path};
use crate::metrics::{Samples, free_address, promtool_check, scrape};

fn document_path(plan_id: &str) -> String {
    format!("/api/v1/plans/{plan_id}/document")
}

fn goal_path(goal_id: &str) -> String {
    format!("/api/v1/goals/{goal_id}")
}

fn sheet_path(plan_id: &str) -> String {
    format!("/api/v1/plans/{plan_id}/tracking-sheet?format=csv")
}

/// A published plan with `goals` goals in one area, the first with a measure
/// ("Webinars", target 6); the plan's, the first goal's and the measure's ids.
async fn published_plan(app: &TestApp, goals: usize) -> (String, String, String) {
    let plan_id = id_of(&app.create_plan(json!({ "status": "active" })).await);
    let area_id = id_of(&app.create_area(&plan_id, "Member Engagement").await);
    let mut ids = Vec::new();
    for n in 0..goals {
        let title = format!("Offer blog and webinar opportunities to members, number {n}");
        let goal = app
            .create_goal(
                &area_id,
                json!({ "title": title, "owner": "Programs Committee" }),
            )
            .await;
        ids.push(id_of(&goal));
    }
    let measure = json!({ "name": "Webinars", "target": 6 });
    let measure_id = id_of(&create_measure(app, &ids[0], measure).await);
    (plan_id, ids.swap_remove(0), measure_id)
}

/// The service with its metrics on, and their address.
async fn app_with_metrics(
    configure: impl FnOnce(&mut strategy_tracker::config::Config),
) -> (TestApp, String) {
    let metrics = free_address();
    let app = TestApp::spawn_with(|config| {
        config.metrics_addr = Some(metrics.clone());
        configure(config);
    })
    .await;
    (app, metrics)
}

/// The cache's hits, misses and bytes held, from a scrape that promtool accepts.
async fn cache_counts(metrics: &str) -> (f64, f64, f64) {
    let text = scrape(metrics).await;
    promtool_check(&text);
    let samples = Samples::parse(&text);
    let value = |name| samples.value(name, &[]);
    (
        value("strategy_tracker_render_cache_hits_total"),
        value("strategy_tracker_render_cache_misses_total"),
        value("strategy_tracker_render_cache_bytes"),
    )
}

/// Renames the goal in SQL with the triggers off, as a restore or a hand repair
/// might: the rows change, the plan's version does not.
async fn rename_behind_the_feeds_back(app: &TestApp, goal_id: &str, title: &str) {
    let mut conn = connect(app).await;
    conn.batch_execute(&format!(
        "SET session_replication_role = replica; \
         UPDATE goals SET title = '{title}' WHERE id = '{goal_id}'"
    ))
    .await
    .expect("the goal is renamed");
}

/// The titles of the document's top-level goals.
fn goal_titles(document: &Value) -> Vec<String> {
    document["areas"][0]["goals"]
        .as_array()
        .expect("goals")
        .iter()
        .map(|goal| goal["title"].as_str().expect("a title").to_owned())
        .collect()
}

#[actix_web::test]
async fn an_unchanged_plans_document_and_sheet_are_served_without_reading_its_rows() {
    let (app, metrics) = app_with_metrics(|_| {}).await;
    let (plan_id, goal_id, _) = published_plan(&app, 1).await;
    let first = app.get(&document_path(&plan_id)).await.expect(200);
    let sheet = app.get(&sheet_path(&plan_id)).await;
    assert_eq!(sheet.status, 200, "{}", sheet.text());
    let (hits, misses, bytes) = cache_counts(&metrics).await;
    assert_eq!((hits, misses), (0.0, 2.0));
    assert!(bytes > 0.0, "both are held");

    rename_behind_the_feeds_back(&app, &goal_id, "Renamed behind the feed").await;
    let again = app.get(&document_path(&plan_id)).await.expect(200);
    assert_eq!(again, first, "the rows were not read again");
    let sheet_again = app.get(&sheet_path(&plan_id)).await;
    assert_eq!(sheet_again.body, sheet.body);
    assert_eq!(cache_counts(&metrics).await.0, 2.0, "two hits");

    // Another shape is rendered afresh, and sees the rows as they are.
    let fresh = app
        .get(&format!("{}?updates=none", document_path(&plan_id)))
        .await
        .expect(200);
    assert_eq!(goal_titles(&fresh), ["Renamed behind the feed"]);
    assert_eq!(cache_counts(&metrics).await.1, 3.0);
}

/// Reads the plan's document and sheet from each instance; the answers.
async fn read_both(addresses: &[&str; 2], plan_id: &str) -> Vec<(Value, String)> {
    let http = client();
    let mut answers = Vec::new();
    for address in addresses {
        let get = async |path: &str| send_with(&http, address, Method::GET, path, &[], None).await;
        let document = get(&document_path(plan_id)).await.expect(200);
        let sheet = get(&sheet_path(plan_id)).await;
        assert_eq!(sheet.status, 200, "{}", sheet.text());
        answers.push((document, sheet.text()));
    }
    answers
}

#[actix_web::test]
async fn every_kind_of_write_is_served_at_once_by_this_instance_and_another() {
    let app = TestApp::spawn().await;
    let (other, _other_server) = app.second_instance();
    let both = [app.address.as_str(), other.as_str()];
    let (plan_id, goal_id, measure_id) = published_plan(&app, 2).await;
    read_both(&both, &plan_id).await;

    // Each write on this instance, each read at once on both, their caches warm.
    app.patch(&goal_path(&goal_id), json!({ "title": "Renamed" }))
        .await
        .expect(200);
    for (document, sheet) in read_both(&both, &plan_id).await {
        assert_eq!(goal_titles(&document)[0], "Renamed");
        assert!(sheet.contains(",Renamed,"), "{sheet}");
    }

    let update = json!({ "status": "at_risk", "note": "Two of six booked",
        "measurements": [{ "measure_id": measure_id, "value": 2 }] });
    let update = app.post(&updates_path(&goal_id), update).await.created();
    for (document, sheet) in read_both(&both, &plan_id).await {
        let goal = &document["areas"][0]["goals"][0];
        assert_eq!(goal["status"], "at_risk");
        assert_eq!(goal["status_updates"][0]["note"], "Two of six booked");
        assert!(sheet.contains(",Two of six booked,2,6\r\n"), "{sheet}");
    }

    let values = json!({ "measurements": [{ "measure_id": measure_id, "value": 5 }] });
    app.patch(
        &format!("/api/v1/status-updates/{}", id_of(&update)),
        values,
    )
    .await
    .expect(200);
    for (_, sheet) in read_both(&both, &plan_id).await {
        assert!(sheet.contains(",Two of six booked,5,6\r\n"), "{sheet}");
    }

    app.delete(&format!("{}?cascade=true", goal_path(&goal_id)))
        .await
        .expect(204);
    for (document, sheet) in read_both(&both, &plan_id).await {
        assert_eq!(goal_titles(&document).len(), 1, "{document}");
        assert!(!sheet.contains("Renamed"), "{sheet}");
    }
}

#[actix_web::test]
async fn gzip_and_plain_answers_are_the_same_bytes_and_a_matching_tag_is_a_304_from_the_cache() {
    let (app, metrics) = app_with_metrics(|_| {}).await;
    let (plan_id, _, _) = published_plan(&app, 20).await;
    let gzip = [("Accept-Encoding", "gzip")];
    for path in [document_path(&plan_id), sheet_path(&plan_id)] {
        let plain = app.get(&path).await;
        let compressed = app.get_with(&path, &gzip).await;
        let compressed_again = app.get_with(&path, &gzip).await;
        assert_eq!((plain.status, compressed.status), (200, 200), "{path}");
        assert_eq!(plain.header("content-encoding"), None, "{path}");
        assert_eq!(
            compressed.header("content-encoding").as_deref(),
            Some("gzip")
        );
        let mut unzipped = Vec::new();
        flate2::read::GzDecoder::new(compressed.body.as_slice())
            .read_to_end(&mut unzipped)
            .expect("a gzip stream");
        assert_eq!(unzipped, plain.body, "{path}");
        assert_eq!(compressed_again.body, compressed.body, "{path}");
        // The tag names the representation's plain bytes, whichever way it is sent.
        let etag = plain.header("etag").expect("an ETag");
        assert_eq!(etag, etag_of(&plain.body), "{path}");
        assert_eq!(compressed.header("etag"), Some(etag.clone()), "{path}");

        for headers in [vec![], gzip.to_vec()] {
            let mut conditional = headers.clone();
            conditional.push(("If-None-Match", etag.as_str()));
            let not_modified = app.get_with(&path, &conditional).await;
            assert_eq!(not_modified.status, 304, "{path} {headers:?}");
            assert!(not_modified.body.is_empty());
            assert_eq!(not_modified.header("etag"), Some(etag.clone()));
            let vary = not_modified.header("vary").unwrap_or_default();
            assert!(vary.contains("Accept-Encoding"), "{path}: {vary}");
        }
    }
    let (hits, misses, _) = cache_counts(&metrics).await;
    assert_eq!(misses, 2.0, "one render each; the 304s rendered nothing");
    assert_eq!(hits, 8.0);
}

#[actix_web::test]
async fn a_cache_of_0_bytes_or_smaller_than_an_answer_keeps_nothing() {
    for bound in [0, 1024] {
        let (app, metrics) = app_with_metrics(|config| config.cache_bytes = bound).await;
        let (plan_id, goal_id, _) = published_plan(&app, 3).await;
        app.get(&document_path(&plan_id)).await.expect(200);
        rename_behind_the_feeds_back(&app, &goal_id, "Renamed behind the feed").await;
        let second = app.get(&document_path(&plan_id)).await.expect(200);
        assert_eq!(
            goal_titles(&second)[0],
            "Renamed behind the feed",
            "{bound}"
        );
        assert_eq!(cache_counts(&metrics).await, (0.0, 2.0, 0.0), "{bound}");
    }
}

/// The 404 of `reply`, with the id it names set aside.
fn hidden_detail(reply: Reply, id: &str) -> String {
    let problem = reply.problem(404);
    problem["detail"]
        .as_str()
        .expect("a detail")
        .replace(id, "<id>")
}

#[actix_web::test]
async fn a_plan_switched_back_to_draft_is_hidden_at_once_on_every_instance() {
    let app = TestApp::spawn().await;
    let (other, _other_server) = app.second_instance();
    let (plan_id, goal_id, _) = published_plan(&app, 1).await;
    let reader = create_token(&app, "member portal", &["read"]).await.1;
    // Published since yesterday, so that yesterday's document is the plan's too.
    let sql = "UPDATE events SET occurred_at = occurred_at - interval '1 day' WHERE plan_id = ";
    app_sql(&app, &format!("{sql}'{plan_id}'")).await;
    let today = chrono::Utc::now().date_naive();
    let yesterday = today - chrono::Days::new(1);
    let paths = |plan_id: &str, goal_id: &str| {
        [
            goal_path(goal_id),
            document_path(plan_id),
            format!("{}?updates=latest", document_path(plan_id)),
            format!("{}?as_of={today}", document_path(plan_id)),
            format!("{}?as_of={yesterday}", document_path(plan_id)),
            sheet_path(plan_id),
            format!("/api/v1/plans/{plan_id}/tracking-sheet"),
        ]
    };
    for address in [&app.address, &other] {
        for path in paths(&plan_id, &goal_id) {
            let reply = send_as(address, None, Method::GET, &path, None).await;
            assert_eq!(reply.status, 200, "{path}: {}", reply.text());
        }
    }

    app.patch(
        &format!("/api/v1/plans/{plan_id}"),
        json!({ "status": "draft" }),
    )
    .await
    .expect(200);
    let unknown = Uuid::now_v7().to_string();
    for address in [&app.address, &other] {
        for (path, nothing) in paths(&plan_id, &goal_id)
            .iter()
            .zip(paths(&unknown, &unknown))
        {
            let hidden = send_as(address, None, Method::GET, path, None).await;
            let missing = send_as(address, None, Method::GET, &nothing, None).await;
            let id = if path.contains("/goals/") {
                &goal_id
            } else {
                &plan_id
            };
            assert_eq!(
                hidden_detail(hidden, id),
                hidden_detail(missing, &unknown),
                "{address}{path}"
            );
            let read = send_as(address, Some(&reader), Method::GET, path, None).await;
            assert_eq!(
                read.status,
                200,
                "{address}{path} with read: {}",
                read.text()
            );
        }
    }
}

/// A relay between the service and PostgreSQL that counts the statements sent
/// through it: each extended-protocol `Execute` and simple `Query` message. The
/// server's own statistics come in late (an idle connection hands them in after
/// up to ten seconds); this count is exact and at once.
struct StatementCounter {
    port: u16,
    statements: Arc<AtomicUsize>,
}

impl StatementCounter {
    /// Relays every connection made to it to the PostgreSQL server of `url`.
    fn to(url: &str) -> Self {
        let authority = url
            .split_once("://")
            .and_then(|(_, rest)| rest.split(['/', '?']).next())
            .and_then(|authority| authority.rsplit('@').next())
            .expect("a URL with a host")
            .to_owned();
        let listener = TcpListener::bind("127.0.0.1:0").expect("a free port");
        let port = listener.local_addr().expect("an address").port();
        let statements = Arc::new(AtomicUsize::new(0));
        let counted = statements.clone();
        std::thread::spawn(move || {
            for client in listener.incoming() {
                let client = client.expect("a connection to relay");
                let server = TcpStream::connect(&authority).expect("PostgreSQL answers");
                let (mut from_server, mut to_client) = (
                    server.try_clone().expect("a socket"),
                    client.try_clone().expect("a socket"),
                );
                std::thread::spawn(move || std::io::copy(&mut from_server, &mut to_client));
                let counted = counted.clone();
                std::thread::spawn(move || relay_counting(client, server, &counted));
            }
        });
        Self { port, statements }
    }

    /// `url` through this relay, in plain text so that its messages can be read.
    fn url(&self, url: &str) -> String {
        let (scheme, rest) = url.split_once("://").expect("a URL");
        let (user, rest) = rest.split_once('@').expect("a user");
        let path = &rest[rest.find('/').expect("a database")..];
        let joiner = if path.contains('?') { '&' } else { '?' };
        format!(
            "{scheme}://{user}@127.0.0.1:{}{path}{joiner}sslmode=disable",
            self.port
        )
    }

    fn count(&self) -> usize {
        self.statements.load(Ordering::SeqCst)
    }
}

/// Copies what the client sends to the server, counting its statements: after the
/// startup message (a length, then its body), messages are a type byte, a length
/// that counts itself, and a body.
fn relay_counting(
    mut client: TcpStream,
    mut server: TcpStream,
    statements: &AtomicUsize,
) -> std::io::Result<()> {
    let mut length = [0; 4];
    client.read_exact(&mut length)?;
    let mut startup = vec![0; (u32::from_be_bytes(length) as usize).saturating_sub(4)];
    client.read_exact(&mut startup)?;
    server.write_all(&length)?;
    server.write_all(&startup)?;
    loop {
        let mut head = [0; 5];
        client.read_exact(&mut head)?;
        let size = u32::from_be_bytes([head[1], head[2], head[3], head[4]]) as usize;
        let mut body = vec![0; size.saturating_sub(4)];
        client.read_exact(&mut body)?;
        if matches!(head[0], b'E' | b'Q') {
            statements.fetch_add(1, Ordering::SeqCst);
        }
        server.write_all(&head)?;
        server.write_all(&body)?;
    }
}

/// The statements the service sends for each of 20 GETs of `path` (after one
/// that warms its caches and its connection).
async fn statements_per_read(
    app: &TestApp,
    counter: &StatementCounter,
    path: &str,
    token: Option<&str>,
) -> f64 {
    const READS: usize = 20;
    let get = async || {
        let reply = send_as(&app.address, token, Method::GET, path, None).await;
        assert_eq!(reply.status, 200, "{path}: {}", reply.text());
    };
    get().await;
    let before = counter.count();
    for _ in 0..READS {
        get().await;
    }
    (counter.count() - before) as f64 / READS as f64
}

#[actix_web::test]
async fn a_published_goal_and_an_unchanged_document_cost_one_statement_a_read() {
    let mut counter = None;
    let app = TestApp::spawn_with(|config| {
        let relay = StatementCounter::to(&config.database_url);
        config.database_url = relay.url(&config.database_url);
        counter = Some(relay);
    })
    .await;
    let counter = counter.expect("the relay was set up");
    let (plan_id, goal_id, _) = published_plan(&app, 3).await;
    let goal = goal_path(&goal_id);
    // One statement a read, and now and then the sequencer's pass (every five
    // seconds, on a connection of its own through the same relay): below 1.2.
    let one_a_read = |per_read: f64| (1.0..1.2).contains(&per_read);
    // Without a token, the draft check is in the goal's own query.
    let per_read = statements_per_read(&app, &counter, &goal, None).await;
    assert!(one_a_read(per_read), "{per_read} statements a read");
    // The plan's version, and nothing of its rows.
    let document = document_path(&plan_id);
    for token in [None, Some(TEST_TOKEN)] {
        let per_read = statements_per_read(&app, &counter, &document, token).await;
        assert!(one_a_read(per_read), "{per_read} statements a read");
    }
}

/// Holds every row of `plans` locked until the connection commits: renders wait.
async fn lock_plans(app: &TestApp) -> diesel_async::AsyncPgConnection {
    let mut conn = connect(app).await;
    conn.batch_execute("BEGIN; LOCK TABLE plans IN ACCESS EXCLUSIVE MODE")
        .await
        .expect("the plans are locked");
    conn
}

#[actix_web::test]
async fn identical_misses_wait_for_one_render() {
    let (app, metrics) = app_with_metrics(|_| {}).await;
    let (plan_id, _, _) = published_plan(&app, 2).await;
    let mut lock = lock_plans(&app).await;
    let path = document_path(&plan_id);
    let readers = join_all((0..8).map(|_| app.get(&path)));
    let release = async {
        sleep(Duration::from_millis(500)).await;
        lock.batch_execute("COMMIT")
            .await
            .expect("the lock is let go");
    };
    let (replies, ()) = futures_util::future::join(readers, release).await;
    let first = &replies[0];
    for reply in &replies {
        assert_eq!(reply.status, 200, "{}", reply.text());
        assert_eq!(reply.body, first.body);
    }
    let (hits, misses, _) = cache_counts(&metrics).await;
    assert_eq!((hits, misses), (7.0, 1.0));
}

#[actix_web::test]
async fn a_render_whose_turn_would_come_after_the_deadline_is_a_503_in_time() {
    let app = TestApp::spawn_with(|config| {
        config.request_timeout_seconds = 3;
        config.pool_size = 8;
    })
    .await;
    let (plan_id, _, _) = published_plan(&app, 1).await;
    let mut lock = lock_plans(&app).await;
    let app = &app;
    // Every turn taken by a render waiting on the lock, each of a sheet of its own,
    // until the deadline cuts them off; one more request, soon after, gives up
    // waiting for a turn before that, at nine tenths of its own time.
    let sheet = |n: usize| format!("{}&owner=Committee%20{n}", sheet_path(&plan_id));
    let taken = join_all((0..RENDERS_AT_ONCE).map(|n| {
        let path = sheet(n);
        async move { app.get(&path).await }
    }));
    let late = async {
        sleep(Duration::from_millis(150)).await;
        let started = std::time::Instant::now();
        (app.get(&sheet(RENDERS_AT_ONCE)).await, started.elapsed())
    };
    let (taken, (late, waited)) = futures_util::future::join(taken, late).await;
    for reply in taken {
        assert_eq!(
            reply.status,
            503,
            "cut off by the deadline: {}",
            reply.text()
        );
    }
    assert!(
        waited < Duration::from_secs(3),
        "{waited:?}: {}",
        late.text()
    );
    assert_eq!(late.header("retry-after").as_deref(), Some("5"));
    let problem = late.problem(503);
    assert!(
        problem["type"]
            .as_str()
            .is_some_and(|t| t.ends_with("/busy")),
        "{problem}"
    );
    lock.batch_execute("COMMIT")
        .await
        .expect("the lock is let go");
    let after = app.get(&sheet(RENDERS_AT_ONCE)).await;
    assert_eq!(after.status, 200, "the turns came back: {}", after.text());
}
