//! `strategy-tracker import FILE` and `strategy-tracker export PLAN_ID`: the import
//! and export routes' code, run from the command line against the database.

use std::path::Path;

use diesel_async::{AsyncConnection, AsyncPgConnection};
use serde::Serialize;
use uuid::Uuid;

use crate::config::Config;
use crate::db::{self, SetupError};
use crate::error::ApiError;
use crate::models::document::{self, UpdatesInDocument};
use crate::models::import::{self, Source};

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
    with_database(config, async |conn| {
        import::run(conn, source, dry_run).await
    })
}

/// Prints the plan as one JSON document.
pub fn export(config: &Config, plan_id: Uuid) -> Result<(), SetupError> {
    with_database(config, async |conn| {
        document::export(conn, plan_id, UpdatesInDocument::All).await
    })
}

/// Runs `work` on one connection to the (migrated) database and prints its result
/// as JSON; a problem is told the way the API tells it.
fn with_database<T: Serialize>(
    config: &Config,
    work: impl AsyncFnOnce(&mut AsyncPgConnection) -> Result<T, ApiError>,
) -> Result<(), SetupError> {
    db::prepare(&config.database_url)?;
    let result = actix_web::rt::System::new().block_on(async {
        let mut conn = AsyncPgConnection::establish(&config.database_url).await?;
        Ok::<_, SetupError>(work(&mut conn).await)
    })?;
    match result {
        Ok(value) => {
            println!("{}", serde_json::to_string_pretty(&value)?);
            Ok(())
        }
        Err(error) => Err(serde_json::to_string_pretty(&error.problem())?.into()),
    }
}
