//! What an operator meets running the binary: settings refused before anything
//! touches the database (one line naming the variable, exit status 2), migrations
//! applied on start or only by `migrate` (`MIGRATE_ON_START`, `migrate --check`),
//! instances migrating at once, and `healthcheck` for a container.

use std::fs::File;
use std::net::TcpListener;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use diesel::{Connection, QueryableByName, RunQueryDsl};
use strategy_tracker::db::SetupConnection;

use crate::common::{TestApp, TestDatabase, server_url};

/// What a finished run of the binary said.
struct Run {
    /// `None` if it was still running at the deadline (and was killed).
    code: Option<i32>,
    stdout: String,
    stderr: String,
    took: Duration,
}

/// Runs the binary with these arguments and only these environment variables (so
/// that none of the test's own leak in), for up to `limit`.
fn run_for(limit: Duration, args: &[&str], env: &[(&str, &str)]) -> Run {
    let name = format!("strategy-tracker-ops-{}", uuid::Uuid::now_v7().simple());
    let out_path = std::env::temp_dir().join(format!("{name}.out"));
    let err_path = std::env::temp_dir().join(format!("{name}.err"));
    let started = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_strategy-tracker"))
        .args(args)
        .env_clear()
        // A panic would show its backtrace, which the tests look for.
        .env("RUST_BACKTRACE", "1")
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        // Files, not pipes: a pipe could fill up and stall the process.
        .stdout(File::create(&out_path).expect("an output file"))
        .stderr(File::create(&err_path).expect("an error file"))
        .spawn()
        .expect("the binary starts");
    let code = loop {
        if let Some(status) = child.try_wait().expect("the process can be waited on") {
            break status.code();
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let read = |path: &std::path::Path| {
        let text = std::fs::read_to_string(path).unwrap_or_default();
        let _ = std::fs::remove_file(path);
        text
    };
    Run {
        code,
        stdout: read(&out_path),
        stderr: read(&err_path),
        took: started.elapsed(),
    }
}

fn run(args: &[&str], env: &[(&str, &str)]) -> Run {
    run_for(Duration::from_secs(30), args, env)
}

#[derive(QueryableByName)]
struct Text {
    #[diesel(sql_type = diesel::sql_types::Text)]
    value: String,
}

/// Runs a query of one text column `value` on `url`, from a plain thread.
fn texts(url: String, sql: String) -> Vec<String> {
    std::thread::spawn(move || {
        let mut conn = SetupConnection::establish(&url).expect("the database accepts connections");
        diesel::sql_query(sql)
            .load::<Text>(&mut conn)
            .expect("the query runs")
            .into_iter()
            .map(|row| row.value)
            .collect()
    })
    .join()
    .expect("the query's thread finishes")
}

fn database_exists(name: &str) -> bool {
    texts(
        server_url(),
        "SELECT datname::text AS value FROM pg_database".to_owned(),
    )
    .iter()
    .any(|existing| existing == name)
}

/// The versions recorded as applied in the database at `url`, in order.
fn applied_versions(url: String) -> Vec<String> {
    texts(
        url,
        "SELECT version::text AS value FROM __diesel_schema_migrations ORDER BY version".to_owned(),
    )
}

/// The migrations under `migrations/`, by directory name, oldest first.
fn migration_names() -> Vec<String> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .expect("the migrations directory")
        .map(|entry| {
            entry
                .expect("an entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    names.sort();
    names
}

/// A port nothing listens on (as far as anyone can tell a moment later).
fn closed_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .expect("a free port")
        .local_addr()
        .expect("an address")
        .port()
}

/// Environment variables and their values.
type Settings<'a> = &'a [(&'a str, &'a str)];

#[test]
fn every_invalid_setting_is_one_line_naming_it_and_nothing_is_migrated() {
    let database = TestDatabase::unmade();
    let url = database.url();
    let cases: &[(Settings, &[&str])] = &[
        (&[("WORKERS", "0")], &["WORKERS", "at least 1"]),
        (
            &[("WORKERS", "4"), ("DATABASE_POOL_SIZE", "2")],
            &["DATABASE_POOL_SIZE", "WORKERS", "must be at least"],
        ),
        (
            &[("DATABASE_POOL_SIZE", "many")],
            &["DATABASE_POOL_SIZE", "'many'"],
        ),
        (
            &[("REQUEST_TIMEOUT_SECONDS", "30s")],
            &["REQUEST_TIMEOUT_SECONDS", "'30s'"],
        ),
        (
            &[("RATE_LIMIT_PER_ADDRESS", "-1")],
            &["RATE_LIMIT_PER_ADDRESS"],
        ),
        (
            &[("PUBLIC_READING", "maybe")],
            &["PUBLIC_READING", "true or false"],
        ),
        (
            &[("REQUIRE_IF_MATCH", "on")],
            &["REQUIRE_IF_MATCH", "true or false"],
        ),
        (
            &[("MIGRATE_ON_START", "later")],
            &["MIGRATE_ON_START", "true or false"],
        ),
        (
            &[(
                "CORS_ALLOWED_ORIGINS",
                "https://members.example.org,https://portal.example.org/",
            )],
            &["CORS_ALLOWED_ORIGINS", "no trailing slash"],
        ),
        (
            &[("TRUSTED_PROXIES", "10.0.0.0/8,proxy.internal")],
            &["TRUSTED_PROXIES", "'proxy.internal'", "networks such as"],
        ),
        (
            &[("TRUSTED_PROXIES", "10.0.0.1/8")],
            &["TRUSTED_PROXIES", "bits set past its /8"],
        ),
        (
            &[("LISTEN_ADDR", "8080")],
            &["LISTEN_ADDR", "a host and a port"],
        ),
        (
            &[("CACHE_BYTES", "32MB")],
            &["CACHE_BYTES", "'32MB'", "whole number of bytes"],
        ),
    ];
    for (settings, says) in cases {
        let mut env = vec![("DATABASE_URL", url.as_str())];
        env.extend_from_slice(settings);
        let run = run(&["serve"], &env);
        let context = format!("{settings:?}: {:?} {}", run.code, run.stderr);
        assert_eq!(run.code, Some(2), "{context}");
        assert_eq!(
            run.stderr.trim_end().lines().count(),
            1,
            "one line: {context}"
        );
        for words in *says {
            assert!(run.stderr.contains(words), "{words:?} in {context}");
        }
        let lowered = run.stderr.to_lowercase();
        assert!(
            !lowered.contains("panicked") && !lowered.contains("backtrace"),
            "{context}"
        );
        assert!(
            !database_exists(&database.name),
            "nothing created: {context}"
        );
    }
}

#[test]
fn migrations_are_applied_by_migrate_and_checked_without_changing_anything() {
    let database = TestDatabase::unmade();
    let url = database.url();
    let env = [("DATABASE_URL", url.as_str()), ("RUST_LOG", "info")];
    let every = migration_names();

    // A deploy pipeline's check on a database not made yet: everything is pending.
    let check = run(&["migrate", "--check"], &env);
    assert_eq!(check.code, Some(1), "{}", check.stderr);
    assert_eq!(check.stdout.lines().collect::<Vec<_>>(), every);
    assert!(
        check.stderr.contains("strategy-tracker migrate"),
        "{}",
        check.stderr
    );
    assert!(
        !database_exists(&database.name),
        "the check creates nothing"
    );

    // With MIGRATE_ON_START off (spelled `no`), serve refuses rather than migrating.
    let mut off = env.to_vec();
    off.push(("MIGRATE_ON_START", "no"));
    let refused = run(&["serve"], &off);
    assert_eq!(refused.code, Some(1), "{}", refused.stderr);
    assert!(
        refused.stderr.contains("MIGRATE_ON_START"),
        "{}",
        refused.stderr
    );
    assert!(refused.stderr.contains(&every[0]), "{}", refused.stderr);
    assert!(!database_exists(&database.name), "serve created nothing");

    let migrated = run(&["migrate"], &env);
    assert_eq!(migrated.code, Some(0), "{}", migrated.stderr);
    let check = run(&["migrate", "--check"], &env);
    assert_eq!(check.code, Some(0), "{}", check.stderr);
    assert_eq!(check.stdout, "");
    assert!(
        check.stderr.contains("no migrations are pending"),
        "{}",
        check.stderr
    );
}

#[test]
fn migrate_check_lists_only_what_a_database_lacks() {
    let database = TestDatabase::new();
    let every = migration_names();
    let latest = every.last().expect("a migration");
    let version: String = latest
        .split('_')
        .next()
        .expect("a version")
        .replace('-', "");
    let deleted = texts(
        database.url(),
        format!(
            "DELETE FROM __diesel_schema_migrations WHERE version = '{version}' \
             RETURNING version::text AS value"
        ),
    );
    assert_eq!(deleted, [version]);
    let check = run(
        &["migrate", "--check"],
        &[("DATABASE_URL", &database.url())],
    );
    assert_eq!(check.code, Some(1), "{}", check.stderr);
    assert_eq!(check.stdout.trim_end(), latest.as_str());
}

#[test]
fn instances_migrating_at_once_apply_each_migration_once() {
    let database = TestDatabase::unmade();
    let url = database.url();
    let runs: Vec<Run> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..3)
            .map(|_| {
                scope.spawn(|| {
                    run(
                        &["migrate"],
                        &[("DATABASE_URL", &url), ("RUST_LOG", "info")],
                    )
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|handle| handle.join().expect("the run's thread finishes"))
            .collect()
    });
    for run in &runs {
        assert_eq!(run.code, Some(0), "{}", run.stderr);
    }
    let logged: Vec<&str> = runs
        .iter()
        .flat_map(|run| run.stderr.lines())
        .filter_map(|line| line.split("applied migration ").nth(1))
        .collect();
    let versions: Vec<String> = migration_names()
        .iter()
        .map(|name| name.split('_').next().expect("a version").replace('-', ""))
        .collect();
    let mut sorted = logged.clone();
    sorted.sort_unstable();
    assert_eq!(sorted, versions, "each applied once in all: {logged:?}");
    assert_eq!(applied_versions(url.clone()), versions);
}

#[actix_web::test]
async fn healthcheck_passes_only_while_the_service_is_ready() {
    let app = TestApp::spawn().await;
    let ready_url = app.address.clone();
    let ready = actix_web::rt::task::spawn_blocking(move || {
        run(&["healthcheck", "--url", &ready_url], &[])
    })
    .await
    .expect("the check's thread finishes");
    assert_eq!(ready.code, Some(0), "{}", ready.stderr);

    // The service with its database unreachable answers /readyz 503.
    let down = TestApp::spawn_with(|config| {
        config.database_url = format!("postgres://postgres@127.0.0.1:{}/none", closed_port());
    })
    .await;
    let down_url = format!("{}/readyz", down.address);
    let unready =
        actix_web::rt::task::spawn_blocking(move || run(&["healthcheck", "--url", &down_url], &[]))
            .await
            .expect("the check's thread finishes");
    assert_eq!(unready.code, Some(1), "{}", unready.stderr);
    assert!(unready.stderr.contains("503"), "{}", unready.stderr);
}

#[test]
fn healthcheck_fails_fast_when_nothing_answers() {
    // Where LISTEN_ADDR says the service listens (every address: asked on loopback).
    let listen = format!("0.0.0.0:{}", closed_port());
    let refused = run(&["healthcheck"], &[("LISTEN_ADDR", &listen)]);
    assert_eq!(refused.code, Some(1), "{}", refused.stderr);
    assert!(refused.took < Duration::from_secs(2), "{:?}", refused.took);
    assert!(refused.stderr.contains("127.0.0.1"), "{}", refused.stderr);

    // A service that takes the connection and never answers.
    let hung = TcpListener::bind("127.0.0.1:0").expect("a free port");
    let url = format!("http://{}/readyz", hung.local_addr().expect("an address"));
    let silent = run(&["healthcheck", "--url", &url], &[]);
    assert_eq!(silent.code, Some(1), "{}", silent.stderr);
    assert!(silent.took < Duration::from_secs(10), "{:?}", silent.took);
}
