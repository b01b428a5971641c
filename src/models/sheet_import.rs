//! Bulk status updates from the tracking sheet: a user edits the sheet the export
//! gave (CSV or JSON) and sends it back; each row that says something new about its
//! goal becomes a status update. All rows or none, in a fixed number of queries.

mod check;
mod read;

use std::collections::HashMap;

use chrono::{NaiveDate, Utc};
use diesel::sql_types::{Array, Date, Double, Nullable, SmallInt, Text, Uuid as SqlUuid};
use diesel::{ExpressionMethods, QueryDsl, SelectableHelper};
use diesel_async::RunQueryDsl;
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;
use uuid::Uuid;

pub use self::check::Checked;
use self::check::Goals;
use super::derived::goal_status;
use super::tables::status_updates::StatusUpdateRow;
use super::tracking_sheet::{self, TrackingSheetRow};
use super::writer::Writer;
use super::{Conn, TextEnum, measurement};
use crate::error::{ApiError, FieldError};
use crate::schema::{goals, status_updates};

/// The SQL statements an import that writes makes, whatever the number of rows:
/// BEGIN, the change's attribution (who made it), the lock on the plan's goals, the sheet ([`tracking_sheet::SHEET_QUERIES`]),
/// the updates already recorded on the rows' dates and their measurements, one
/// insert of the updates and one of their measurements, the goals' statuses (with
/// the two reads of measured progress they need), COMMIT. A dry run makes the same,
/// less the writes and the status refresh.
pub const IMPORT_QUERIES: usize = 11 + tracking_sheet::SHEET_QUERIES;

/// A sheet sent back: the CSV file's bytes or a JSON array of sheet rows.
#[derive(Debug)]
pub enum SheetSource {
    /// The CSV file, as sent (its encoding is checked here).
    Csv(Vec<u8>),
    /// The JSON array of rows.
    Rows(Value),
}

/// What became of one row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RowOutcome {
    /// A new status update was recorded (in a dry run: would be).
    Created,
    /// The row says what the goal's latest update says: nothing to record.
    Unchanged,
    /// The goal already has an identical update with the row's date (the file was
    /// sent before): not recorded twice.
    Duplicate,
}

/// What an import of the tracking sheet did, or in a dry run would do.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "dry_run": false, "created": 1, "skipped_unchanged": 1, "skipped_duplicate": 0,
    "rows": [
        {"row": 2, "goal_id": "0193a3c4-7b12-7d22-8e3f-4a5b6c7d8e9f", "code": "1.2",
         "outcome": "created", "status_update_id": "0193a3c4-8c00-7e33-9f40-5b6c7d8e9fa0"},
        {"row": 3, "goal_id": "0193a3c4-7b12-7d22-8e3f-4a5b6c7d8ea0", "code": "2",
         "outcome": "unchanged", "status_update_id": null}
    ]
}))]
pub struct SheetImportReport {
    /// Whether this was a dry run, which wrote nothing.
    pub dry_run: bool,
    /// How many rows became (or would become) a new status update.
    #[schema(minimum = 0, maximum = 2147483647)]
    pub created: u32,
    /// How many rows said nothing new.
    #[schema(minimum = 0, maximum = 2147483647)]
    pub skipped_unchanged: u32,
    /// How many rows repeated an update already recorded.
    #[schema(minimum = 0, maximum = 2147483647)]
    pub skipped_duplicate: u32,
    /// Every row, in the order sent.
    #[schema(max_items = 1000000)]
    pub rows: Vec<SheetImportRow>,
}

/// What became of one row of the sheet.
#[derive(Debug, Serialize, ToSchema)]
pub struct SheetImportRow {
    /// The row: the CSV file's line number (the header is line 1), or the index in
    /// the JSON array (from 0).
    #[schema(minimum = 0, maximum = 2147483647)]
    pub row: u32,
    /// The goal the row is for.
    pub goal_id: Uuid,
    /// The goal's code.
    #[schema(max_length = 200)]
    pub code: String,
    /// What became of the row.
    pub outcome: RowOutcome,
    /// The new status update (`created`, not in a dry run) or the one already
    /// recorded (`duplicate`); null otherwise.
    pub status_update_id: Option<Uuid>,
}

/// Reads the sheet, checks every row against the plan and records the new status
/// updates (with `dry_run`, only reports what it would record).
pub async fn run(
    writer: &mut Writer<'_>,
    plan_id: Uuid,
    source: SheetSource,
    dry_run: bool,
) -> Result<SheetImportReport, ApiError> {
    writer
        .transaction(async |conn| {
            // Locked first, so that no update lands between the comparison and the write.
            goals::table
                .filter(goals::plan_id.eq(plan_id))
                .select(goals::id)
                .for_no_key_update()
                .load::<Uuid>(conn)
                .await?;
            let current = tracking_sheet::current_rows(conn, plan_id).await?;
            let rows = read_and_check(&source, &current, Utc::now().date_naive())
                .map_err(ApiError::Invalid)?;
            let same_day = same_day_updates(conn, &rows).await?;
            let mut report = SheetImportReport {
                dry_run,
                created: 0,
                skipped_unchanged: 0,
                skipped_duplicate: 0,
                rows: Vec::with_capacity(rows.len()),
            };
            let mut new = Vec::new();
            for row in &rows {
                let (outcome, status_update_id) = if unchanged(row) {
                    report.skipped_unchanged += 1;
                    (RowOutcome::Unchanged, None)
                } else if let Some(id) = duplicate_of(row, &same_day) {
                    report.skipped_duplicate += 1;
                    (RowOutcome::Duplicate, Some(id))
                } else {
                    report.created += 1;
                    let id = Uuid::now_v7();
                    new.push((id, row));
                    (RowOutcome::Created, (!dry_run).then_some(id))
                };
                report.rows.push(SheetImportRow {
                    row: u32::try_from(row.row).unwrap_or(u32::MAX),
                    goal_id: row.goal.goal_id,
                    code: row.goal.code.clone(),
                    outcome,
                    status_update_id,
                });
            }
            if !dry_run {
                insert(conn, &new).await?;
                goal_status::refresh_plan_statuses(conn, plan_id).await?;
            }
            Ok(report)
        })
        .await
}

/// Reads the sheet and checks every row against the plan's sheet rows (`sheet_rows`,
/// as [`tracking_sheet::get`] gives them unfiltered), with `today` as the latest day
/// a row may be dated (plus one): the rows that are right, or every problem of form
/// and of content, row by row. Needs no database, so that the import's parsing and
/// checking can be tested and fuzzed (`fuzz/fuzz_targets/sheet_csv.rs`) on the same
/// code path [`run`] takes.
pub fn read_and_check<'a>(
    source: &SheetSource,
    sheet_rows: &'a [TrackingSheetRow],
    today: NaiveDate,
) -> Result<Vec<Checked<'a>>, Vec<FieldError>> {
    let mut errors = Vec::new();
    let raw_rows = match source {
        SheetSource::Csv(bytes) => read::from_csv(bytes, &mut errors),
        SheetSource::Rows(rows) => read::from_json(rows, &mut errors),
    };
    let goals = Goals::new(sheet_rows);
    let rows = check::rows(&goals, &raw_rows, today, &mut errors);
    if errors.is_empty() {
        Ok(rows)
    } else {
        // Problems of form and of content were found apart: told row by row.
        errors.sort_by_key(|error| row_of(&error.field));
        Err(errors)
    }
}

/// The row a problem's field (`<row>/<column>` or `<row>`) names; 0 for the file.
fn row_of(field: &str) -> usize {
    field
        .split('/')
        .next()
        .and_then(|row| row.parse().ok())
        .unwrap_or(0)
}

/// The row says what the sheet says: the latest update's status, progress and note,
/// and each measure's current value.
fn unchanged(row: &Checked) -> bool {
    // An empty progress cell says nothing, like an empty measure cell: the goal's
    // progress then comes from its measures.
    row.status == row.goal.status
        && (row.progress_percent.is_none() || row.progress_percent == row.goal.progress_percent)
        && row.note == row.goal.latest_update_note
        && changed_values(row).is_empty()
}

/// The values that differ from the measures' current values: those the new update
/// records (a value left as it was is not recorded again, which for a per-period
/// measure would count it twice).
fn changed_values(row: &Checked) -> Vec<(Uuid, f64)> {
    row.values
        .iter()
        .copied()
        .filter(|(id, value)| {
            let current = row.goal.measures.iter().find(|m| m.measure_id == *id);
            current.and_then(|m| m.current_value) != Some(*value)
        })
        .collect()
}

/// An update of the row's goal, dated as the row, that says what the row says.
fn duplicate_of(
    row: &Checked,
    same_day: &HashMap<(Uuid, NaiveDate), Vec<SameDay>>,
) -> Option<Uuid> {
    let updates = same_day.get(&(row.goal.goal_id, row.as_of))?;
    updates
        .iter()
        .find(|(update, measurements)| {
            update.status == row.status
                && update.progress_percent == row.progress_percent
                && update.note == row.note
                && update.author == row.author
                && measurements.iter().all(|m| {
                    row.values
                        .iter()
                        .any(|(id, value)| *id == m.measure_id && *value == m.value)
                })
        })
        .map(|(update, _)| update.id)
}

type SameDay = (StatusUpdateRow, Vec<measurement::Measurement>);

/// The updates already recorded for the rows' goals on the rows' dates, with their
/// measurements: two queries.
async fn same_day_updates(
    conn: &mut Conn,
    rows: &[Checked<'_>],
) -> Result<HashMap<(Uuid, NaiveDate), Vec<SameDay>>, ApiError> {
    let goal_ids: Vec<Uuid> = rows.iter().map(|row| row.goal.goal_id).collect();
    let dates: Vec<NaiveDate> = rows.iter().map(|row| row.as_of).collect();
    let updates: Vec<StatusUpdateRow> = status_updates::table
        .filter(status_updates::goal_id.eq_any(&goal_ids))
        .filter(status_updates::as_of.eq_any(&dates))
        .select(StatusUpdateRow::as_select())
        .load(conn)
        .await?;
    let ids: Vec<Uuid> = updates.iter().map(|update| update.id).collect();
    let mut measurements = measurement::of_updates(conn, &ids).await?;
    let mut same_day: HashMap<_, Vec<SameDay>> = HashMap::new();
    for update in updates {
        let of_update = measurements.remove(&update.id).unwrap_or_default();
        same_day
            .entry((update.goal_id, update.as_of))
            .or_default()
            .push((update, of_update));
    }
    Ok(same_day)
}

/// Records the new updates and their measurements: two statements whatever their
/// number, each binding one array per column (`unnest`), so that no row count can
/// reach PostgreSQL's limit on bound parameters.
async fn insert(conn: &mut Conn, new: &[(Uuid, &Checked<'_>)]) -> Result<(), ApiError> {
    let rows = new.iter().map(|(_, row)| row);
    diesel::sql_query(
        "INSERT INTO status_updates (id, goal_id, status, progress_percent, note, author, as_of) \
         SELECT * FROM unnest($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind::<Array<SqlUuid>, _>(new.iter().map(|(id, _)| *id).collect::<Vec<_>>())
    .bind::<Array<SqlUuid>, _>(rows.clone().map(|row| row.goal.goal_id).collect::<Vec<_>>())
    .bind::<Array<Text>, _>(
        rows.clone()
            .map(|row| row.status.as_str())
            .collect::<Vec<_>>(),
    )
    .bind::<Array<Nullable<SmallInt>>, _>(
        rows.clone()
            .map(|row| row.progress_percent)
            .collect::<Vec<_>>(),
    )
    .bind::<Array<Nullable<Text>>, _>(rows.clone().map(|row| row.note.clone()).collect::<Vec<_>>())
    .bind::<Array<Nullable<Text>>, _>(
        rows.clone()
            .map(|row| row.author.clone())
            .collect::<Vec<_>>(),
    )
    .bind::<Array<Date>, _>(rows.map(|row| row.as_of).collect::<Vec<_>>())
    .execute(conn)
    .await?;
    let values: Vec<(Uuid, Uuid, f64)> = new
        .iter()
        .flat_map(|(update_id, row)| {
            changed_values(row)
                .into_iter()
                .map(move |(measure_id, value)| (*update_id, measure_id, value))
        })
        .collect();
    diesel::sql_query(
        "INSERT INTO measurements (id, status_update_id, measure_id, value) \
         SELECT * FROM unnest($1, $2, $3, $4)",
    )
    .bind::<Array<SqlUuid>, _>(values.iter().map(|_| Uuid::now_v7()).collect::<Vec<_>>())
    .bind::<Array<SqlUuid>, _>(values.iter().map(|v| v.0).collect::<Vec<_>>())
    .bind::<Array<SqlUuid>, _>(values.iter().map(|v| v.1).collect::<Vec<_>>())
    .bind::<Array<Double>, _>(values.iter().map(|v| v.2).collect::<Vec<_>>())
    .execute(conn)
    .await?;
    Ok(())
}
