//! The plan's period: from a "Period: ..." line, else from the first year range in
//! the title or an early line.

use std::ops::Range;

use chrono::{Datelike, NaiveDate};

use super::dates::{find_date, year_range};
use super::line_field;
use super::lines::{heading_like, plain};
use crate::error::FieldError;

/// The plan's period; `line` is the line it came from when that line says nothing else.
pub(super) struct Period {
    pub(super) start: NaiveDate,
    pub(super) end: NaiveDate,
    pub(super) line: Option<usize>,
}

/// The period from a "Period: ..." line, else from the first year range in the title
/// or an early line.
pub(super) fn find_period(
    raw: &[&str],
    (title_at, title): (usize, Option<&str>),
    early: Range<usize>,
    notes: &mut Vec<(usize, String)>,
) -> Result<Period, FieldError> {
    let labelled = |at: usize| Some((at, period_label(&plain(raw[at]))?.to_owned()));
    if let Some((at, dates)) = early.clone().find_map(labelled) {
        let (start, end) = explicit_period(&dates).ok_or_else(|| FieldError::new(
            line_field(at),
            "expected the plan's period as two dates, such as \"Period: 2022-01-01 to 2025-06-30\", or as years, such as \"Period: 2022-2025\"",
        ))?;
        let line = Some(at);
        return Ok(Period { start, end, line });
    }
    let lines = title.map(|title| (title_at, title.to_owned())).into_iter();
    let mut lines = lines.chain(early.map(|at| (at, plain(raw[at]))));
    let found = lines.find_map(|(at, text)| Some((at, year_range(&text)?, heading_like(&text))));
    let Some((at, (start, end), heading)) = found else {
        return Err(FieldError::new(
            "",
            "no plan period found: expected a year range such as \"2022-2025\" in the title or a line near the top, or a line such as \"Period: 2022-01-01 to 2025-06-30\"",
        ));
    };
    // Many plans do not run with the calendar year: say how to give the exact dates.
    let (first, last) = (start.year(), end.year());
    notes.push((at, format!("the plan period {first}-{last} was read as {start} to {end}; a line such as \"Period: {first}-07-01 to {last}-06-30\" gives exact dates")));
    // A line such as "Strategic Plan 2023–2026" under the title is a subtitle, not summary.
    let line = (at != title_at && heading).then_some(at);
    Ok(Period { start, end, line })
}

/// The text after a label such as "Period:" or "Plan period:".
fn period_label(text: &str) -> Option<&str> {
    let (label, rest) = text.split_once(':')?;
    let label = label.trim().to_ascii_lowercase();
    (label.ends_with("period") && label.split_whitespace().count() <= 3).then_some(rest)
}

/// "2022-09-01 to 2025-08-31", or years as in [`year_range`].
fn explicit_period(text: &str) -> Option<(NaiveDate, NaiveDate)> {
    let words: Vec<&str> = text.split_whitespace().collect();
    if let Some((at, count, start)) = find_date(&words)
        && let Some((_, _, end)) = find_date(&words[at + count..])
    {
        return (start <= end).then_some((start, end));
    }
    year_range(text)
}
