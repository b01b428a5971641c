//! `strategy-tracker import FILE`, `strategy-tracker export PLAN_ID`,
//! `strategy-tracker sheet PLAN_ID` and `strategy-tracker updates import PLAN_ID
//! FILE`: the import, export, tracking sheet and sheet import routes' code, run
//! from the command line against the database.

use std::io::Write;
use std::path::Path;

use serde::Serialize;
use uuid::Uuid;

use crate::config::Config;
use crate::db::{self, SetupError};
use crate::error::ApiError;
use crate::models::document::{self, UpdatesInDocument};
use crate::models::event;
use crate::models::import::{self, Source};
use crate::models::sheet_import::{self, SheetSource};
use crate::models::tracking_sheet::{self, SheetFilter};
use crate::models::writer::Writer;

/// Creates a plan from `file` (or, with `dry_run`, checks it) and prints the report.
pub fn import(config: &Config, file: &Path, dry_run: bool) -> Result<(), SetupError> {
    let text = std::fs::read_to_string(file)
        .map_err(|error| format!("cannot read {}: {error}", file.display()))?;
    let source = if file
        .extension()
        .is_some_and(|extension| extension == "json")
    {
        let document = serde_json::from_str(&text)
            .map_err(|error| format!("{} is not valid JSON: {error}", file.display()))?;
        Source::Document(document)
    } else {
        Source::Outline(text)
    };
    with_database(config, async |writer| {
        import::run(writer, source, dry_run).await
    })
}

/// Records the status updates of an edited tracking sheet (or, with `dry_run`,
/// checks it) and prints the report: `file` is CSV, or JSON rows if it ends in
/// `.json`.
pub fn import_updates(
    config: &Config,
    plan_id: Uuid,
    file: &Path,
    dry_run: bool,
) -> Result<(), SetupError> {
    let bytes =
        std::fs::read(file).map_err(|error| format!("cannot read {}: {error}", file.display()))?;
    let source = if file
        .extension()
        .is_some_and(|extension| extension == "json")
    {
        let rows = serde_json::from_slice(&bytes)
            .map_err(|error| format!("{} is not valid JSON: {error}", file.display()))?;
        SheetSource::Rows(rows)
    } else {
        SheetSource::Csv(bytes)
    };
    with_database(config, async |writer| {
        sheet_import::run(writer, plan_id, source, dry_run).await
    })
}

/// Prints the plan as one JSON document.
pub fn export(config: &Config, plan_id: Uuid) -> Result<(), SetupError> {
    with_database(config, async |writer| {
        document::export(writer.reader(), plan_id, UpdatesInDocument::All).await
    })
}

/// Prints the plan's tracking sheet: as JSON, or with `csv` as the CSV file the
/// route sends (byte order mark included, so that a redirect to a file opens in a
/// spreadsheet as a download would).
pub fn sheet(config: &Config, plan_id: Uuid, csv: bool) -> Result<(), SetupError> {
    let sheet = on_database(config, async |writer| {
        tracking_sheet::get(writer.reader(), plan_id, &SheetFilter::default()).await
    })?;
    if csv {
        std::io::stdout()
            .lock()
            .write_all(sheet.to_csv().as_bytes())?;
        Ok(())
    } else {
        print_json(&sheet.sheet)
    }
}

/// Runs `work` on one connection to the (migrated) database and prints its result
/// as JSON; a problem is told the way the API tells it.
fn with_database<T: Serialize>(
    config: &Config,
    work: impl AsyncFnOnce(&mut Writer<'_>) -> Result<T, ApiError>,
) -> Result<(), SetupError> {
    print_json(&on_database(config, work)?)
}

/// Runs `work` on one connection to the (migrated) database; a problem becomes the
/// problem document the API would send. Changes are recorded in the change feed as
/// made from the command line, by the user running it.
pub(crate) fn on_database<T>(
    config: &Config,
    work: impl AsyncFnOnce(&mut Writer<'_>) -> Result<T, ApiError>,
) -> Result<T, SetupError> {
    let connector = db::Connector::from_config(config)?;
    db::prepare(&connector)?;
    let result = actix_web::rt::System::new().block_on(async {
        let mut conn = connector.connect().await?;
        let actor = std::env::var("USER").map_or_else(
            |_| "command line".to_owned(),
            |user| format!("command line ({user})"),
        );
        let done = work(&mut Writer::new(&mut conn, &actor, None)).await;
        // Numbered at once, and followers told, without waiting for a service's
        // sequencer to come by.
        let numbered = match done {
            Ok(value) => event::sequence(&mut conn).await.map(|_| value),
            Err(error) => Err(error),
        };
        Ok::<_, SetupError>(numbered)
    })?;
    result.map_err(
        |error| match serde_json::to_string_pretty(&error.problem()) {
            Ok(problem) => problem.into(),
            Err(error) => error.into(),
        },
    )
}

fn print_json(value: &impl Serialize) -> Result<(), SetupError> {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}
