//! The rows of a tracking sheet sent back, from either form, as text cells: a CSV
//! file (its header row, then its records) or a JSON array of sheet rows. Problems
//! of form are collected here; what the cells say is checked in [`super::check`].

use std::collections::HashSet;

use serde_json::Value;

use crate::csv;
use crate::error::FieldError;
use crate::models::tracking_sheet::FIXED_COLUMNS;

/// Which of its goal's measures a cell is for.
#[derive(Debug)]
pub(super) enum MeasureKey {
    /// By the measure's id (JSON `measures[].measure_id`).
    Id(String),
    /// By its column name, as the export names it: CSV `measure:<name>:current`,
    /// JSON `measures[].name`.
    Column(String),
}

/// A value given for a measure, with where it is for problems.
#[derive(Debug)]
pub(super) struct MeasureCell {
    pub field: String,
    pub key: MeasureKey,
    pub value: Option<String>,
}

/// One row, its cells as text; an empty cell (or JSON `null`) is `None`.
#[derive(Debug, Default)]
pub(super) struct RawRow {
    /// The CSV file's line number, or the JSON array's index.
    pub row: usize,
    pub goal_id: Option<String>,
    pub area_position: Option<String>,
    pub code: Option<String>,
    pub status: Option<String>,
    pub progress_percent: Option<String>,
    pub as_of: Option<String>,
    pub author: Option<String>,
    pub note: Option<String>,
    pub measures: Vec<MeasureCell>,
}

impl RawRow {
    /// The field for a problem with this row's `column`: `<row>/<column>`.
    pub fn at(&self, column: &str) -> String {
        format!("{}/{column}", self.row)
    }

    /// The cell of `column` that the import reads, with what a JSON row holds in
    /// it; `None` for the goal's own columns (title, owner, ...), which are read but
    /// not imported: they are changed on the goal, not by a status update.
    fn cell_mut(&mut self, column: &str) -> Option<(&mut Option<String>, Kind)> {
        Some(match column {
            "goal_id" => (&mut self.goal_id, Kind::Text),
            "area_position" => (&mut self.area_position, Kind::Number),
            "code" => (&mut self.code, Kind::Text),
            "status" => (&mut self.status, Kind::Text),
            "progress_percent" => (&mut self.progress_percent, Kind::Number),
            "latest_update_as_of" => (&mut self.as_of, Kind::Text),
            "latest_update_author" => (&mut self.author, Kind::Text),
            "latest_update_note" => (&mut self.note, Kind::Text),
            _ => return None,
        })
    }
}

/// A column of the CSV header.
enum Column {
    Fixed(&'static str),
    /// `measure:<name>:current`, with the name.
    Current(String),
    /// `measure:<name>:target`: the measure's own, read but not imported.
    Ignored,
}

/// The rows of a CSV file, in the export's columns (any order, any subset that
/// names the goal and its status).
pub(super) fn from_csv(bytes: &[u8], errors: &mut Vec<FieldError>) -> Vec<RawRow> {
    let Ok(text) = std::str::from_utf8(bytes) else {
        errors.push(FieldError::new(
            "",
            "the file is not UTF-8 text; save it from the spreadsheet as \"CSV UTF-8\"",
        ));
        return Vec::new();
    };
    let (records, syntax) = csv::parse(text);
    errors.extend(
        syntax
            .iter()
            .map(|error| FieldError::new(error.line.to_string(), error.message)),
    );
    let mut records = records.into_iter();
    let Some(header) = records.next() else {
        errors.push(FieldError::new(
            "",
            "the file is empty; send the tracking sheet's header row, then its rows",
        ));
        return Vec::new();
    };
    let mut seen = HashSet::new();
    let columns: Vec<Column> = header
        .fields
        .iter()
        .map(|name| {
            let name = csv::restored(name);
            let field = format!("{}/{name}", header.line);
            if !seen.insert(name) {
                errors.push(FieldError::new(field, "appears twice in the header row"));
                return Column::Ignored;
            }
            if let Some(fixed) = FIXED_COLUMNS.iter().find(|column| **column == name) {
                return Column::Fixed(fixed);
            }
            if let Some(rest) = name.strip_prefix("measure:") {
                if let Some(measure) = rest.strip_suffix(":current") {
                    return Column::Current(measure.to_owned());
                }
                if rest.ends_with(":target") {
                    return Column::Ignored;
                }
            }
            errors.push(FieldError::new(
                field,
                "is not a column of the tracking sheet (see its CSV export for the columns)",
            ));
            Column::Ignored
        })
        .collect();
    for required in ["status"] {
        if !seen.contains(required) {
            errors.push(FieldError::new(
                format!("{}/{required}", header.line),
                "is a column every sheet needs, and the header row lacks it",
            ));
        }
    }
    if !seen.contains("goal_id") && !seen.contains("code") {
        errors.push(FieldError::new(
            format!("{}/goal_id", header.line),
            "the header row needs a goal_id or a code column, which say each row's goal",
        ));
    }
    let mut rows = Vec::new();
    for record in records {
        if record.fields.len() != columns.len() {
            errors.push(FieldError::new(
                record.line.to_string(),
                format!(
                    "has {} fields where the header row has {}",
                    record.fields.len(),
                    columns.len()
                ),
            ));
            continue;
        }
        let mut row = RawRow {
            row: record.line,
            ..RawRow::default()
        };
        for (column, field) in columns.iter().zip(&record.fields) {
            let value = Some(csv::restored(field).to_owned()).filter(|value| !value.is_empty());
            match column {
                Column::Fixed(name) => {
                    if let Some((cell, _)) = row.cell_mut(name) {
                        *cell = value;
                    }
                }
                Column::Current(name) => row.measures.push(MeasureCell {
                    field: row.at(&format!("measure:{name}:current")),
                    key: MeasureKey::Column(name.clone()),
                    value,
                }),
                Column::Ignored => {}
            }
        }
        rows.push(row);
    }
    rows
}

/// The rows of a JSON array of tracking sheet rows (the shape the JSON sheet sends).
pub(super) fn from_json(body: &Value, errors: &mut Vec<FieldError>) -> Vec<RawRow> {
    let Value::Array(items) = body else {
        errors.push(FieldError::new(
            "",
            "send a JSON array of tracking sheet rows, or the sheet as text/csv",
        ));
        return Vec::new();
    };
    let mut rows = Vec::new();
    for (index, item) in items.iter().enumerate() {
        let Value::Object(fields) = item else {
            errors.push(FieldError::new(
                index.to_string(),
                "must be an object: a row of the tracking sheet",
            ));
            continue;
        };
        let mut row = RawRow {
            row: index,
            ..RawRow::default()
        };
        for (key, value) in fields {
            let field = row.at(key);
            if key == "measures" {
                row.measures = measures(&field, value, errors);
            } else if !FIXED_COLUMNS.contains(&key.as_str()) {
                errors.push(FieldError::new(
                    field,
                    "is not a field of a tracking sheet row",
                ));
            } else if let Some((slot, kind)) = row.cell_mut(key) {
                match cell(value, kind) {
                    Ok(value) => *slot = value,
                    Err(message) => errors.push(FieldError::new(field, message)),
                }
            }
        }
        rows.push(row);
    }
    rows
}

const MEASURE_FIELDS: [&str; 5] = ["measure_id", "name", "unit", "current_value", "target"];
/// Most measures one row may give values for, as the schema says.
const MAX_MEASURES: usize = 100;

fn measures(field: &str, value: &Value, errors: &mut Vec<FieldError>) -> Vec<MeasureCell> {
    let Value::Array(items) = value else {
        errors.push(FieldError::new(field, "must be an array of measures"));
        return Vec::new();
    };
    if items.len() > MAX_MEASURES {
        errors.push(FieldError::new(
            field,
            format!(
                "holds {} measures; a row holds at most {MAX_MEASURES}",
                items.len()
            ),
        ));
        return Vec::new();
    }
    let mut cells = Vec::new();
    for (index, item) in items.iter().enumerate() {
        let at = format!("{field}/{index}");
        let Value::Object(measure) = item else {
            errors.push(FieldError::new(
                at,
                "must be an object: a measure of the row",
            ));
            continue;
        };
        for key in measure.keys() {
            if !MEASURE_FIELDS.contains(&key.as_str()) {
                errors.push(FieldError::new(
                    format!("{at}/{key}"),
                    "is not a field of a sheet measure",
                ));
            }
        }
        let mut text = |key: &str, kind: Kind| {
            cell(measure.get(key).unwrap_or(&Value::Null), kind).map_err(|message| {
                errors.push(FieldError::new(format!("{at}/{key}"), message));
            })
        };
        let (Ok(id), Ok(name), Ok(value)) = (
            text("measure_id", Kind::Text),
            text("name", Kind::Text),
            text("current_value", Kind::Number),
        ) else {
            continue;
        };
        let key = match (id, name) {
            (Some(id), _) => MeasureKey::Id(id),
            (None, Some(name)) => MeasureKey::Column(name),
            (None, None) => {
                errors.push(FieldError::new(
                    at,
                    "needs a measure_id or a name, which say the measure",
                ));
                continue;
            }
        };
        cells.push(MeasureCell {
            field: format!("{at}/current_value"),
            key,
            value,
        });
    }
    cells
}

/// What a JSON row's column holds, as the schema of a row sent back says.
#[derive(Debug, Clone, Copy)]
enum Kind {
    Text,
    Number,
}

/// A JSON value as a cell's text, if it is of the column's kind (or null).
fn cell(value: &Value, kind: Kind) -> Result<Option<String>, &'static str> {
    match (value, kind) {
        (Value::Null, _) => Ok(None),
        (Value::String(text), Kind::Text) if text.is_empty() => Ok(None),
        (Value::String(text), Kind::Text) => Ok(Some(text.clone())),
        (Value::Number(number), Kind::Number) => Ok(Some(number.to_string())),
        (_, Kind::Text) => Err("must be text or null"),
        (_, Kind::Number) => Err("must be a number or null"),
    }
}
