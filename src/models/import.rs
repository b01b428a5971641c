//! Importing a whole plan from one document, the shape [`super::document::export`]
//! writes: everything is read and checked first, every problem reported at once
//! with a JSON pointer to where it is, then written in one transaction.
//!
//! Ids, timestamps, derived fields (a goal's status and progress, the progress
//! summaries) and parent ids (the nesting says them) are ignored, so an export
//! imports as is. Importing a document twice makes two plans.

//!
//! Its parts: [`read`] walks a document into a draft, naming every problem;
//! [`write`] checks the draft against the database and writes it; [`outline`] reads
//! a plan outline (text or Markdown) into a document; [`schema`] describes the
//! document for the OpenAPI document.

pub mod outline;
mod read;
pub mod schema;
mod write;

use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;
use uuid::Uuid;

pub use self::read::{PlanDraft, read};
pub use self::schema::PlanImport;
pub use self::write::{check, write};
use super::validation::SERVER_SET;
use super::writer::Writer;
use crate::error::ApiError;
use outline::UnplacedLine;

/// Most strategic areas in one document.
pub const MAX_AREAS: usize = 200;
/// Most goals and sub-goals, at every level, in one document.
pub const MAX_GOALS: usize = 5_000;
/// Most status updates in one document.
pub const MAX_UPDATES: usize = 50_000;

/// Keys of an exported document that an import ignores at each level, beside
/// those the server sets everywhere ([`ignored_keys`]): parent ids (the nesting
/// says them) and what the server derives (and the position an export reflects).
pub const IGNORED_IN_PLAN: &[&str] = &["feed_position"];
pub const IGNORED_IN_AREA: &[&str] = &["plan_id"];
pub const IGNORED_IN_GOAL: &[&str] = &[
    "plan_id",
    "area_id",
    "parent_goal_id",
    "status",
    "progress_percent",
];
/// Measurements name measures of the exported plan, which documents do not carry.
pub const IGNORED_IN_UPDATE: &[&str] = &["goal_id", "measurements"];

/// Every key an import ignores at a level: what the server sets on every resource,
/// the progress summaries of plans and areas, and the level's own (`level`).
pub fn ignored_keys(level: &'static [&'static str]) -> impl Iterator<Item = &'static str> {
    SERVER_SET
        .iter()
        .map(|(name, _)| *name)
        .chain(["progress"])
        .chain(level.iter().copied())
}

/// How much an import creates.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, ToSchema)]
pub struct ImportCounts {
    /// Strategic areas.
    #[schema(minimum = 0, maximum = 200, format = Int32)]
    pub areas: usize,
    /// Goals and sub-goals, at every level.
    #[schema(minimum = 0, maximum = 5000, format = Int32)]
    pub goals: usize,
    /// Status updates.
    #[schema(minimum = 0, maximum = 50000, format = Int32)]
    pub status_updates: usize,
}

/// What a client sends to import.
pub enum Source {
    /// A plan document, the shape an export has.
    Document(Value),
    /// A plan outline in plain text or Markdown (see [`crate::models::import::outline`]).
    Outline(String),
}

/// The answer to an import.
#[derive(Debug, Serialize, ToSchema)]
pub struct ImportReport {
    /// The new plan's id; null on a dry run, which writes nothing.
    pub plan_id: Option<Uuid>,
    /// Whether this was a dry run.
    pub dry_run: bool,
    /// What the import created or, on a dry run, would create.
    pub created: ImportCounts,
    /// The document as read; for an outline, the parse to check before trusting it.
    #[schema(value_type = PlanImport)]
    pub document: Value,
    /// Lines of an outline that fit nowhere, with their numbers; empty for a document.
    #[schema(max_items = 10000)]
    pub unplaced: Vec<UnplacedLine>,
    /// What the outline reader assumed, each naming its line; empty for a document.
    #[schema(schema_with = notes_schema)]
    pub notes: Vec<String>,
}

fn notes_schema() -> utoipa::openapi::schema::Array {
    let note = utoipa::openapi::schema::ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::Type::String)
        .max_length(Some(1000));
    utoipa::openapi::schema::ArrayBuilder::new()
        .items(note)
        .max_items(Some(10_000))
        .description(Some(
            "What the outline reader assumed, each naming its line; empty for a document.",
        ))
        .build()
}

/// Reads `source`, checks it and, unless `dry_run`, creates the plan.
pub async fn run(
    writer: &mut Writer<'_>,
    source: Source,
    dry_run: bool,
) -> Result<ImportReport, ApiError> {
    let (document, unplaced, notes) = match source {
        Source::Document(document) => (document, Vec::new(), Vec::new()),
        Source::Outline(text) => {
            let outline = outline::parse(&text).map_err(ApiError::Invalid)?;
            (outline.document, outline.unplaced, outline.notes)
        }
    };
    let draft = read(document.clone())?;
    let created = draft.counts();
    let plan_id = if dry_run {
        check(writer.reader(), &draft).await?;
        None
    } else {
        Some(write(writer, draft).await?)
    };
    Ok(ImportReport {
        plan_id,
        dry_run,
        created,
        document,
        unplaced,
        notes,
    })
}

/// The position of the item at `index` in its list.
fn place(index: usize) -> i32 {
    i32::try_from(index + 1).expect("documents hold far fewer than 2^31 items")
}
