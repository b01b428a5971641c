//! Reading a plan outline, written as plain text or Markdown, into the plan
//! document the import route creates.
//!
//! Outlines are written by people, not programs: headings come in many words
//! ("Strategic Area 1:", "Priority 1 —", "## Pillar 2"), goals are numbered "1.",
//! "1)" or "Goal 1.1:", lines get cut off, and labels such as "Goals:" stand where a
//! heading should. Each line is first classified on its own ([`Line`]), then placed
//! by what came before it ([`Reader`]). Nothing is dropped silently: a line that fits
//! nowhere comes back in [`Outline::unplaced`], and every guess comes back as a note
//! that names its line.

mod annotations;
mod approval;
mod dates;
mod document;
mod lines;
mod period;
mod reader;
mod words;

use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use crate::error::FieldError;
use approval::find_approval;
use lines::{Line, classify};
use period::find_period;
use reader::Reader;

/// What an outline says, as an import document, and what could not be placed.
#[derive(Debug, Clone, PartialEq)]
pub struct Outline {
    /// The plan document to import: the plan's fields, its `areas`, their `goals`,
    /// and each goal's `sub_goals` and `status_updates`, as JSON.
    pub document: Value,
    /// Non-empty lines that belong nowhere, with their 1-based line numbers.
    pub unplaced: Vec<UnplacedLine>,
    /// Assumptions the parser made, each naming its line, e.g. "line 25: goals before
    /// any area heading were put in an area named \"Strategic Area 1\"".
    pub notes: Vec<String>,
}

/// A line of an outline that belongs to no part of the plan, so it was not imported.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[schema(example = json!({"line": 52, "text": "Questions? Write to the planning committee."}))]
pub struct UnplacedLine {
    /// The line's number in the outline, from 1.
    #[schema(minimum = 1, maximum = 2147483647, format = Int32)]
    pub line: usize,
    /// The line as written, without surrounding spaces.
    #[schema(max_length = 2097152)]
    pub text: String,
}

/// Reads an outline into a plan document. Fails, saying what was expected, when the
/// outline has no title, no period that can be read, or no goals.
pub fn parse(text: &str) -> Result<Outline, Vec<FieldError>> {
    let raw: Vec<&str> = text.lines().collect();
    let lines: Vec<Line> = raw.iter().map(|line| classify(line)).collect();
    let Some(title_at) = lines
        .iter()
        .position(|l| !matches!(l, Line::Blank | Line::Rule))
    else {
        return Err(vec![FieldError::new(
            "",
            "the outline is empty: expected the plan's title on the first line, such as \"Core Strategic Plan 2022-2025\", then its areas and numbered goals",
        )]);
    };
    let mut errors = Vec::new();
    let title = match &lines[title_at] {
        Line::Text(text) | Line::Bullet(_, text) => Some(text.clone()),
        Line::Heading(None, _, title) => Some(title.clone()),
        _ => {
            errors.push(FieldError::new(
                line_field(title_at),
                "expected the plan's title on the first line, such as \"Core Strategic Plan 2022-2025\", before any area, label or goal",
            ));
            None
        }
    };
    // The plan's own facts (period, approval, value proposition) come before its structure.
    let first = title_at + usize::from(title.is_some());
    let body = lines.iter().position(Line::starts_body);
    let body = body.unwrap_or(lines.len()).max(first);
    let mut reader = Reader::new(&raw, lines, body);
    let notes = &mut reader.notes;
    let approval = find_approval(&raw, first..body, notes);
    let found = find_period(&raw, (title_at, title.as_deref()), first..body, notes);
    let period = found.map_err(|error| errors.push(error)).ok();
    let period_end = period.as_ref().map(|p| p.end);
    reader.status_date = approval.on.or(period_end).unwrap_or_default();
    reader.skip = [approval.line, period.as_ref().and_then(|p| p.line)];
    reader.read(first);
    if reader.goals.is_empty() {
        errors.push(FieldError::new(
            "",
            "no recognisable structure: expected numbered goals such as \"1. ...\" under headings such as \"Strategic Area 1: ...\"",
        ));
    }
    match (title, period) {
        (Some(title), Some(period)) if errors.is_empty() => {
            Ok(reader.finish((title_at, &title), &period, approval))
        }
        _ => Err(errors),
    }
}

/// The `field` of an error about the 0-based line `at`.
fn line_field(at: usize) -> String {
    format!("line {}", at + 1)
}

#[cfg(test)]
mod tests;
