//! Backup and restore as OPERATIONS.md tells the operator to do them: `pg_dump -Fc`
//! of a live database, `pg_restore` into a fresh one, and the service started on
//! the restored database (with `MIGRATE_ON_START=false`, so that it refuses to
//! start unless the restore brought the migrations' record too) serves the same
//! plan document and the same change feed.

use std::path::PathBuf;
use std::process::Command;

use actix_web::http::Method;
use serde_json::{Value, json};

use crate::common::{TestApp, TestDatabase, admin_sql, client, import_plan, send};
use crate::helpers::{Served, updates_path};

const CORE_PLAN: &str = include_str!("../../examples/core-strategic-plan-2022-2025.json");

/// A PostgreSQL client program, from the installed server's own directory: on
/// Debian, `pg_dump` on the PATH is a wrapper that may pick another version.
fn pg_program(name: &str) -> PathBuf {
    let output = Command::new("pg_config")
        .arg("--bindir")
        .output()
        .expect("pg_config runs (Debian's postgresql package)");
    assert!(output.status.success(), "pg_config --bindir failed");
    PathBuf::from(
        String::from_utf8(output.stdout)
            .expect("a UTF-8 path")
            .trim(),
    )
    .join(name)
}

/// Runs a PostgreSQL client program and fails the test with what it said.
fn run(program: &str, args: &[&str]) {
    let output = Command::new(pg_program(program))
        .args(args)
        .output()
        .unwrap_or_else(|error| panic!("{program} runs: {error}"));
    assert!(
        output.status.success(),
        "{program} {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// The plan document (with each goal's latest update) and the whole change feed,
/// as the service at `address` answers them: what the member portal reads.
async fn served_state(address: &str, plan_id: &str) -> (Vec<u8>, Value) {
    let get = |path: String| async move {
        send(&client(), address, Method::GET, &path, None, Vec::new()).await
    };
    let document = get(format!("/api/v1/plans/{plan_id}/document?updates=latest")).await;
    assert_eq!(document.status, 200, "{}", document.text());
    let feed = get("/api/v1/events?after=0&limit=1000".to_owned()).await;
    assert_eq!(feed.status, 200, "{}", feed.text());
    (document.body, feed.json())
}

/// A file removed when dropped, so that a failing test leaves no dump behind.
struct Removed(PathBuf);

impl Drop for Removed {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

#[actix_web::test]
async fn a_restored_dump_serves_the_same_plan_document_and_change_feed() {
    let app = TestApp::spawn().await;
    let document: Value = serde_json::from_str(CORE_PLAN).expect("the example is JSON");
    let plan_id = import_plan(&client(), &app.address, &document).await;
    let goals = app
        .get(&format!("/api/v1/plans/{plan_id}/goals"))
        .await
        .expect(200);
    let goal_id = goals["items"][0]["id"].as_str().expect("a goal id");
    app.post(
        &updates_path(goal_id),
        json!({"status": "at_risk", "progress_percent": 35, "note": "Vendor cancelled"}),
    )
    .await
    .created();
    let before = served_state(&app.address, &plan_id).await;

    let dump = Removed(std::env::temp_dir().join(format!("{}.dump", app.database.name)));
    let dump_path = dump.0.to_str().expect("a UTF-8 temporary path");
    run(
        "pg_dump",
        &["-Fc", "-d", &app.database.url(), "-f", dump_path],
    );
    // A fresh, empty database, as OPERATIONS.md has it: from template0, so that
    // nothing added to template1 gets in the way of the restore.
    let restored = TestDatabase::unmade();
    admin_sql(format!(
        "CREATE DATABASE \"{}\" TEMPLATE template0",
        restored.name
    ));
    let restored_url = restored.url();
    run(
        "pg_restore",
        &[
            "--no-owner",
            "--exit-on-error",
            "-d",
            &restored_url,
            dump_path,
        ],
    );

    let (served, address) =
        Served::start_with(&restored_url, &[("MIGRATE_ON_START", "false")]).await;
    let after = served_state(&address, &plan_id).await;
    drop(served);
    assert_eq!(
        String::from_utf8_lossy(&after.0),
        String::from_utf8_lossy(&before.0),
        "the restored database serves another plan document"
    );
    assert_eq!(after.1, before.1, "the restored change feed differs");
}
