//! What the cells of a row say, checked against the plan's goals and measures:
//! every problem of every row is collected, with the row and the column.

use std::collections::HashMap;

use chrono::{Days, NaiveDate};
use uuid::Uuid;

use super::read::{MeasureKey, RawRow};
use crate::error::FieldError;
use crate::models::measure::VALUE_LIMIT;
use crate::models::tracking_sheet::{TrackingSheetRow, column_names};
use crate::models::validation::{LONG_TEXT, SHORT_TEXT};
use crate::models::{GoalStatus, TextEnum};

/// A row whose every cell is right, with the goal it is for as the sheet shows it.
#[derive(Debug)]
pub struct Checked<'a> {
    /// The row, as in the problems' fields: the CSV line or the JSON index.
    pub row: usize,
    /// The goal the row is for, as the sheet shows it.
    pub goal: &'a TrackingSheetRow,
    /// The status the row gives.
    pub status: GoalStatus,
    /// The progress the row gives; `None` for an empty cell.
    pub progress_percent: Option<i16>,
    /// The date the row speaks for (today when the cell is empty).
    pub as_of: NaiveDate,
    /// Who wrote the row's update.
    pub author: Option<String>,
    /// What the row's update says.
    pub note: Option<String>,
    /// The values given for the goal's measures, by measure id.
    pub values: Vec<(Uuid, f64)>,
}

/// The plan's goals, by id and by code.
pub(super) struct Goals<'a> {
    by_id: HashMap<Uuid, &'a TrackingSheetRow>,
    by_code: HashMap<&'a str, Vec<&'a TrackingSheetRow>>,
}

impl<'a> Goals<'a> {
    pub fn new(rows: &'a [TrackingSheetRow]) -> Self {
        let mut by_code: HashMap<&str, Vec<&TrackingSheetRow>> = HashMap::new();
        for row in rows {
            by_code.entry(row.code.as_str()).or_default().push(row);
        }
        Self {
            by_id: rows.iter().map(|row| (row.goal_id, row)).collect(),
            by_code,
        }
    }

    /// The row's goal: by `goal_id`, else by `code` (and `area_position`, as codes
    /// repeat across areas).
    fn of(&self, raw: &RawRow) -> Result<&'a TrackingSheetRow, FieldError> {
        // Checked even beside a goal_id, which names the goal alone: a malformed
        // cell is told wherever it is.
        let area = match &raw.area_position {
            None => None,
            Some(position) => Some(
                position
                    .trim()
                    .parse::<i32>()
                    .ok()
                    .filter(|position| *position >= 1)
                    .ok_or_else(|| {
                        FieldError::new(
                            raw.at("area_position"),
                            "must be the number of one of the plan's areas",
                        )
                    })?,
            ),
        };
        text(raw.code.as_deref(), SHORT_TEXT)
            .map_err(|message| FieldError::new(raw.at("code"), message))?;
        if let Some(id) = &raw.goal_id {
            let id = Uuid::parse_str(id.trim())
                .map_err(|_| FieldError::new(raw.at("goal_id"), "must be a goal's id (a UUID)"))?;
            return self
                .by_id
                .get(&id)
                .copied()
                .ok_or_else(|| FieldError::new(raw.at("goal_id"), "names no goal of this plan"));
        }
        let Some(code) = &raw.code else {
            return Err(FieldError::new(
                raw.at("goal_id"),
                "is required, or code (with area_position when the code is used in more than one area)",
            ));
        };
        let goals: Vec<_> = self
            .by_code
            .get(code.trim())
            .into_iter()
            .flatten()
            .filter(|goal| area.is_none_or(|area| goal.area_position == area))
            .collect();
        match goals.as_slice() {
            [goal] => Ok(goal),
            [] => Err(FieldError::new(
                raw.at("code"),
                match area {
                    Some(area) => format!("is not the code of a goal in area {area} of this plan"),
                    None => "is not the code of a goal of this plan".to_owned(),
                },
            )),
            many => {
                let areas: Vec<String> = many
                    .iter()
                    .map(|goal| goal.area_position.to_string())
                    .collect();
                Err(FieldError::new(
                    raw.at("code"),
                    format!(
                        "is the code of goals in areas {}; give area_position (or goal_id) to say which",
                        areas.join(" and ")
                    ),
                ))
            }
        }
    }
}

/// The rows that are right; each problem goes to `errors`.
pub(super) fn rows<'a>(
    goals: &Goals<'a>,
    raw_rows: &[RawRow],
    today: NaiveDate,
    errors: &mut Vec<FieldError>,
) -> Vec<Checked<'a>> {
    let mut row_of_goal: HashMap<Uuid, usize> = HashMap::new();
    let mut checked = Vec::new();
    for raw in raw_rows {
        let before = errors.len();
        let mut fail =
            |column: &str, message: String| errors.push(FieldError::new(raw.at(column), message));
        let goal = goals
            .of(raw)
            .map_err(|error| fail_with(&mut fail, error))
            .ok();
        if let Some(goal) = goal
            && let Some(earlier) = row_of_goal.insert(goal.goal_id, raw.row)
        {
            let column = if raw.goal_id.is_some() {
                "goal_id"
            } else {
                "code"
            };
            fail(
                column,
                format!("is the goal of row {earlier} as well; a goal takes one row"),
            );
        }
        let status = match raw.status.as_deref().map(str::trim) {
            None => {
                fail("status", "is required".to_owned());
                None
            }
            Some(text) => GoalStatus::parse(text).or_else(|| {
                fail(
                    "status",
                    format!("must be one of {}", GoalStatus::VALUES.join(", ")),
                );
                None
            }),
        };
        let progress_percent =
            raw.progress_percent
                .as_deref()
                .and_then(|text| match text.trim().parse::<f64>() {
                    Ok(value) if (0.0..=100.0).contains(&value) && value.fract() == 0.0 =>
                    {
                        #[expect(
                            clippy::cast_possible_truncation,
                            reason = "a whole number from 0 to 100"
                        )]
                        Some(value as i16)
                    }
                    _ => {
                        fail(
                            "progress_percent",
                            "must be a whole number from 0 to 100".to_owned(),
                        );
                        None
                    }
                });
        let latest = today + Days::new(1);
        let as_of = match raw.as_of.as_deref().map(str::trim) {
            None => Some(today),
            Some(text) => match NaiveDate::parse_from_str(text, "%Y-%m-%d") {
                Ok(date) if date > latest => {
                    fail(
                        "latest_update_as_of",
                        format!("is more than a day ahead of today ({today}, UTC)"),
                    );
                    None
                }
                Ok(date) => Some(date),
                Err(_) => {
                    fail(
                        "latest_update_as_of",
                        "must be a date, YYYY-MM-DD".to_owned(),
                    );
                    None
                }
            },
        };
        let author = text(raw.author.as_deref(), SHORT_TEXT)
            .map_err(|m| fail("latest_update_author", m))
            .ok()
            .flatten();
        let note = text(raw.note.as_deref(), LONG_TEXT)
            .map_err(|m| fail("latest_update_note", m))
            .ok()
            .flatten();
        let mut values = Vec::new();
        for cell in &raw.measures {
            let Some(value) = &cell.value else { continue };
            let number = value
                .trim()
                .parse::<f64>()
                .ok()
                .filter(|n| n.is_finite() && n.abs() <= VALUE_LIMIT);
            let Some(number) = number else {
                errors.push(FieldError::new(
                    &cell.field,
                    format!("must be a number from -{VALUE_LIMIT:e} to {VALUE_LIMIT:e}"),
                ));
                continue;
            };
            let Some(goal) = goal else { continue };
            let names = column_names(goal.measures.iter().map(|m| m.name.as_str()));
            let measure =
                goal.measures
                    .iter()
                    .zip(&names)
                    .find(|(measure, name)| match &cell.key {
                        MeasureKey::Id(id) => {
                            measure.measure_id.to_string() == id.trim().to_lowercase()
                        }
                        MeasureKey::Column(column) => *name == column,
                    });
            match measure {
                Some((measure, _)) => values.push((measure.measure_id, number)),
                None => errors.push(FieldError::new(
                    &cell.field,
                    format!("is not a measure of goal {}", goal.code),
                )),
            }
        }
        if errors.len() > before {
            continue;
        }
        if let (Some(goal), Some(status), Some(as_of)) = (goal, status, as_of) {
            checked.push(Checked {
                row: raw.row,
                goal,
                status,
                progress_percent,
                as_of,
                author,
                note,
                values,
            });
        }
    }
    checked
}

fn fail_with(fail: &mut impl FnMut(&str, String), error: FieldError) {
    let column = error
        .field
        .split_once('/')
        .map_or("", |(_, column)| column)
        .to_owned();
    fail(&column, error.message);
}

/// Text of at most `max` characters, without NUL (which PostgreSQL cannot store).
fn text(value: Option<&str>, max: usize) -> Result<Option<String>, String> {
    let Some(value) = value else { return Ok(None) };
    if value.contains('\0') {
        return Err("must not contain NUL characters".to_owned());
    }
    let length = value.chars().count();
    if length > max {
        return Err(format!(
            "must be at most {max} characters long (it is {length})"
        ));
    }
    Ok(Some(value.to_owned()))
}
