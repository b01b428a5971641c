//! The tracking sheet sent back as CSV: read and checked against a small plan by
//! `sheet_import::read_and_check`, the code the import route runs before it writes.
//! Whatever the bytes, it answers without panicking: the rows that are right, or
//! every problem, each naming a row the file has (or the file as a whole).
#![no_main]

use std::sync::LazyLock;

use chrono::NaiveDate;
use libfuzzer_sys::fuzz_target;
use strategy_tracker::models::GoalStatus;
use strategy_tracker::models::sheet_import::{SheetSource, read_and_check};
use strategy_tracker::models::tracking_sheet::{SheetMeasure, TrackingSheetRow};
use uuid::Uuid;

/// The day the import runs: fixed, so that a crash reproduces on any day. After
/// every date of the seeds (which come from the Core plan of 2022-2025).
const TODAY: NaiveDate = NaiveDate::from_ymd_opt(2026, 1, 15).expect("a valid date");

/// The plan's sheet: goals "1", "1.1" and "2" in area 1 and another "2" in area 2
/// (codes repeat across areas), with measures, two of the same name. The seeds in
/// `fuzz/seeds/sheet_csv/` name these ids, codes and measure columns, so that their
/// rows get past the goal lookup into the checks of their cells.
static SHEET: LazyLock<Vec<TrackingSheetRow>> = LazyLock::new(|| {
    vec![
        goal(1, "1", 1, GoalStatus::OnTrack, &["Members"]),
        goal(2, "1.1", 1, GoalStatus::NotStarted, &["Members", "Members"]),
        goal(3, "2", 1, GoalStatus::Completed, &[]),
        goal(4, "2", 2, GoalStatus::AtRisk, &["Webinars"]),
    ]
});

/// A goal with id `00000000-0000-0000-0000-0000000000<n>` and measures with ids
/// `00000000-0000-0000-0000-0000000001<n><i>`.
fn goal(n: u128, code: &str, area: i32, status: GoalStatus, measures: &[&str]) -> TrackingSheetRow {
    TrackingSheetRow {
        area_position: area,
        area_title: format!("Area {area}"),
        goal_id: Uuid::from_u128(n),
        code: code.to_owned(),
        title: format!("Goal {code}"),
        owner: None,
        status,
        progress_percent: Some(40),
        due_date: None,
        latest_update_as_of: NaiveDate::from_ymd_opt(2024, 3, 31),
        latest_update_author: Some("Core staff".to_owned()),
        latest_update_note: None,
        measures: (0u128..)
            .zip(measures)
            .map(|(i, name)| SheetMeasure {
                measure_id: Uuid::from_u128(0x100 + n * 0x10 + i),
                name: (*name).to_owned(),
                unit: None,
                current_value: Some(4.0),
                target: 6.0,
            })
            .collect(),
    }
}

fuzz_target!(|data: &[u8]| {
    let source = SheetSource::Csv(data.to_vec());
    match read_and_check(&source, &SHEET, TODAY) {
        Ok(rows) => {
            for row in &rows {
                assert!(row.as_of <= TODAY.succ_opt().expect("a valid date"));
                assert!(row.progress_percent.is_none_or(|p| (0..=100).contains(&p)));
            }
        }
        Err(errors) => {
            assert!(!errors.is_empty(), "refused without a reason");
            let lines = line_count(data);
            for error in &errors {
                assert!(
                    !error.message.is_empty(),
                    "a problem without a message: {error:?}"
                );
                // `<line>/<column>`, `<line>`, or no line for the file as a whole
                // (not UTF-8, empty): the line must be one the file has.
                let first = error.field.split('/').next().unwrap_or_default();
                if let Ok(line) = first.parse::<usize>() {
                    assert!(
                        (1..=lines).contains(&line),
                        "{error:?} names line {line}; the file has {lines}"
                    );
                } else {
                    assert!(
                        error.field.is_empty(),
                        "{error:?} names neither a line nor the file"
                    );
                }
            }
        }
    }
});

/// The file's lines, as the CSV reader numbers them: ended by CRLF, LF or a lone CR
/// (a lone CR inside quotes ends no line there, so this is an upper bound).
fn line_count(data: &[u8]) -> usize {
    let text = String::from_utf8_lossy(data);
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    1 + text
        .replace("\r\n", "\n")
        .chars()
        .filter(|c| matches!(c, '\n' | '\r'))
        .count()
}
