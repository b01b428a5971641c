//! The tracking sheet's CSV form: its columns, its cells and its file name.

use std::collections::{BTreeSet, HashMap};

use chrono::NaiveDate;
use uuid::Uuid;

use super::{Sheet, SheetMeasure, TrackingSheetRow};
use crate::csv::{Cell, Table};
use crate::models::TextEnum;
use crate::models::tables::measures::MeasureRow;

/// The columns of the CSV form before the measures', named as the JSON fields are.
pub(crate) const FIXED_COLUMNS: [&str; 12] = [
    "area_position",
    "area_title",
    "goal_id",
    "code",
    "title",
    "owner",
    "status",
    "progress_percent",
    "due_date",
    "latest_update_as_of",
    "latest_update_author",
    "latest_update_note",
];

/// The column name of each measure, in the order given: its name, numbered from
/// " (2)" on when an earlier measure of the same goal has the same name, so that no
/// two measures of a goal share a column.
pub(crate) fn column_names<'a>(measures: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    let mut seen: HashMap<&str, usize> = HashMap::new();
    measures
        .into_iter()
        .map(|name| {
            let count = seen.entry(name).or_default();
            *count += 1;
            match *count {
                1 => name.to_owned(),
                n => format!("{name} ({n})"),
            }
        })
        .collect()
}

/// Every measure column name of the plan, sorted.
pub(super) fn measure_columns(measures: &[MeasureRow]) -> Vec<String> {
    let mut of_goal: HashMap<Uuid, Vec<&str>> = HashMap::new();
    for row in measures {
        of_goal.entry(row.goal_id).or_default().push(&row.name);
    }
    let names: BTreeSet<String> = of_goal.into_values().flat_map(column_names).collect();
    names.into_iter().collect()
}

impl Sheet {
    /// The sheet as CSV: a header row of the JSON field names, then one row per
    /// goal, with `measure:<name>:current` and `measure:<name>:target` columns for
    /// every measure of the plan (sorted by name; empty for goals without it).
    /// UTF-8 with a byte order mark, CRLF line ends, RFC 4180 quoting, and text
    /// cells made safe against formula injection (see [`crate::csv`]).
    pub fn to_csv(&self) -> String {
        let measure_headers: Vec<String> = self
            .measure_columns
            .iter()
            .flat_map(|name| {
                [
                    format!("measure:{name}:current"),
                    format!("measure:{name}:target"),
                ]
            })
            .collect();
        let mut table = Table::new(
            FIXED_COLUMNS
                .into_iter()
                .chain(measure_headers.iter().map(String::as_str)),
        );
        for row in &self.sheet.rows {
            table.row(csv_row(row, &self.measure_columns));
        }
        table.finish()
    }

    /// The CSV file's name: the plan's title as an ASCII slug, then
    /// `-tracking-sheet-` and the day, such as
    /// `core-strategic-plan-2022-2025-tracking-sheet-2026-11-27.csv`.
    pub fn file_name(&self) -> String {
        format!(
            "{}-tracking-sheet-{}.csv",
            slug(&self.plan_title),
            self.as_of
        )
    }
}

fn csv_row(row: &TrackingSheetRow, measure_columns: &[String]) -> Vec<Cell> {
    let text = |value: &str| Cell::Text(value.to_owned());
    let date = |value: Option<NaiveDate>| value.map_or(Cell::Empty, |d| Cell::Text(d.to_string()));
    let mut cells = vec![
        Cell::Number(f64::from(row.area_position)),
        text(&row.area_title),
        Cell::Text(row.goal_id.to_string()),
        text(&row.code),
        text(&row.title),
        Cell::from(row.owner.clone()),
        text(row.status.as_str()),
        row.progress_percent
            .map_or(Cell::Empty, |p| Cell::Number(f64::from(p))),
        date(row.due_date),
        date(row.latest_update_as_of),
        Cell::from(row.latest_update_author.clone()),
        Cell::from(row.latest_update_note.clone()),
    ];
    let names = column_names(row.measures.iter().map(|m| m.name.as_str()));
    let by_column: HashMap<&str, &SheetMeasure> = names
        .iter()
        .map(String::as_str)
        .zip(&row.measures)
        .collect();
    for column in measure_columns {
        match by_column.get(column.as_str()) {
            Some(measure) => cells.extend([
                measure.current_value.map_or(Cell::Empty, Cell::Number),
                Cell::Number(measure.target),
            ]),
            None => cells.extend([Cell::Empty, Cell::Empty]),
        }
    }
    cells
}

/// Lower-case ASCII letters and digits, with a `-` for each run of anything else:
/// safe in a `Content-Disposition` file name and on every file system. At most 80
/// characters; `plan` if nothing is left.
fn slug(title: &str) -> String {
    let mut slug = String::new();
    for c in title.chars() {
        if c.is_ascii_alphanumeric() {
            slug.push(c.to_ascii_lowercase());
        } else if !slug.is_empty() && !slug.ends_with('-') {
            slug.push('-');
        }
    }
    slug.truncate(80);
    let slug = slug.trim_end_matches('-');
    if slug.is_empty() {
        "plan".to_owned()
    } else {
        slug.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::{column_names, slug};

    #[test]
    fn a_slug_is_lower_case_ascii_words_joined_by_dashes() {
        assert_eq!(
            slug("Core Strategic Plan 2022-2025"),
            "core-strategic-plan-2022-2025"
        );
        assert_eq!(slug("  Café: \"Plan\" / 2024!  "), "caf-plan-2024");
        assert_eq!(slug("Über"), "ber");
        assert_eq!(slug("日本"), "plan");
        assert_eq!(slug(&"a".repeat(200)).len(), 80);
    }

    #[test]
    fn measures_of_a_goal_that_share_a_name_get_numbered_columns() {
        assert_eq!(
            column_names(["Webinars", "Members", "Webinars", "Webinars"]),
            ["Webinars", "Members", "Webinars (2)", "Webinars (3)"]
        );
    }
}
