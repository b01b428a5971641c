//! Annotations in parentheses after a goal's title that say something about the
//! goal: its status ("(Done)", "(On hold)"), a revision ("(Revised March 2024)") or
//! when it was added ("(New goal as of 2023)").

use chrono::NaiveDate;
use serde_json::{Value, json};

use super::dates::month_year;
use super::words::{one_of, trim_separators};
use crate::models::GoalStatus;

/// Annotations that mark a goal's status: "(Done)", "(On hold)".
const MARKS: &[(GoalStatus, &str)] = &[
    (GoalStatus::Completed, "completed|complete|done|achieved"),
    (GoalStatus::OnTrack, "in progress|ongoing|underway|on track"),
    (GoalStatus::AtRisk, "at risk"),
    (GoalStatus::OffTrack, "off track|delayed|behind schedule"),
    (GoalStatus::OnHold, "on hold|paused|deferred"),
    (GoalStatus::Discontinued, "discontinued|dropped|cancelled"),
    (GoalStatus::NotStarted, "not started"),
];

/// What an annotation in parentheses says about a goal.
enum Annotation {
    Update(NaiveDate, Value),
    Start(NaiveDate),
}

/// A goal's title without the annotations in parentheses that say something about
/// it ("(Completed)", "(Revision March 2024)", "(New goal as of 2023)"), and what they say.
/// A status mark speaks for `status_date`: the day the plan was approved, else the end
/// of its period.
pub(super) fn annotations(
    text: &str,
    status_date: NaiveDate,
) -> (String, Vec<(NaiveDate, Value)>, Option<NaiveDate>) {
    let (mut title, mut updates, mut start_date) = (String::new(), Vec::new(), None);
    let mut rest = text;
    let group = |rest: &str| {
        rest.find('(')
            .and_then(|o| Some((o, o + rest[o..].find(')')?)))
    };
    while let Some((open, close)) = group(rest) {
        title.push_str(&rest[..open]);
        match annotation(&rest[open + 1..close], status_date) {
            Some(Annotation::Update(as_of, update)) => updates.push((as_of, update)),
            Some(Annotation::Start(date)) => start_date = Some(date),
            None => title.push_str(&rest[open..=close]),
        }
        rest = &rest[close + 1..];
    }
    title.push_str(rest);
    let title = title.split_whitespace().collect::<Vec<_>>().join(" ");
    let title = title.replace(" .", ".").replace(" ,", ",");
    (trim_separators(&title).to_owned(), updates, start_date)
}

/// What the text inside one pair of parentheses says, if it is an annotation.
fn annotation(inside: &str, status_date: NaiveDate) -> Option<Annotation> {
    let said = inside.trim().trim_end_matches(['.', '!']).to_lowercase();
    let update = |status: GoalStatus, as_of: NaiveDate, note: String| {
        let progress = (status == GoalStatus::Completed).then_some(100);
        let update =
            json!({"status": status, "progress_percent": progress, "as_of": as_of, "note": note});
        Some(Annotation::Update(as_of, update))
    };
    if let Some(&(status, _)) = MARKS.iter().find(|(_, words)| one_of(words, &said)) {
        let said = if status == GoalStatus::Completed {
            "completed"
        } else {
            &said
        };
        return update(
            status,
            status_date,
            format!("Marked {said} in the plan outline"),
        );
    }
    let first = said.split_whitespace().next()?.trim_end_matches([':', '.']);
    if one_of("revision|revised|updated|update|rev", first) {
        let (as_of, when) = month_year(&said)?;
        return update(GoalStatus::OnTrack, as_of, format!("Revised in {when}"));
    }
    // "(New goal as of 2023)", "(New in 2023)", "(Added 2023)"; not a longer aside.
    let new = first == "added" || first == "new" && said.split_whitespace().count() <= 5;
    let (start, _) = month_year(&said).filter(|_| new)?;
    Some(Annotation::Start(start))
}
