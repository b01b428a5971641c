//! Building the plan document from what the [`Reader`] placed: headings without goals
//! settled, the goal tree built from its parent links, codes made unique, long text
//! cut to its field, and keys without a value left out.

use std::cmp::Reverse;
use std::collections::HashSet;

use serde_json::{Value, json};

use super::approval::Approval;
use super::period::Period;
use super::reader::{Reader, Text};
use super::words::shorten;
use super::{Outline, UnplacedLine};
use crate::models::validation::{LONG_TEXT, SHORT_TEXT};

/// Longest goal code the import takes, in characters.
const MAX_CODE: usize = 32;

impl Reader<'_> {
    /// The plan document: the goal tree built from its parent links, codes made
    /// unique, keys without a value left out; with the notes in line order.
    pub(super) fn finish(
        mut self,
        (title_at, title): (usize, &str),
        period: &Period,
        approval: Approval,
    ) -> Outline {
        let title = self.shortened(title_at, title, SHORT_TEXT, "plan title");
        self.settle_headings_without_goals();
        let mut children = vec![Vec::new(); self.goals.len()];
        let mut roots = vec![Vec::new(); self.areas.len()];
        for (id, goal) in self.goals.iter().enumerate() {
            match goal.parent {
                Some(parent) => children[parent].push(id),
                None => roots[goal.area].push(id),
            }
        }
        for roots in &roots {
            self.settle_codes(roots, None, &mut HashSet::new(), &children);
        }
        let mut notes = std::mem::take(&mut self.notes);
        let mut areas = Vec::new();
        for (area, roots) in self
            .areas
            .iter()
            .zip(&roots)
            .filter(|(area, _)| !area.dropped)
        {
            let description = long_text(&area.description, &mut notes);
            let goals: Vec<Value> = roots
                .iter()
                .map(|&id| self.goal_json(id, &children, &mut notes))
                .collect();
            areas.push(json!({"title": area.title, "description": description, "goals": goals}));
        }
        let document = json!({
            "title": title,
            "summary": long_text(&self.summary, &mut notes),
            "value_proposition": long_text(&self.value_proposition, &mut notes),
            "period_start": period.start,
            "period_end": period.end,
            "approved_by": approval.by,
            "approved_on": approval.on,
            "areas": areas,
        });
        notes.sort_by_key(|(at, _)| *at);
        let notes = notes
            .into_iter()
            .map(|(at, note)| format!("line {}: {note}", at + 1));
        self.unplaced.sort_unstable();
        self.unplaced.dedup();
        let text = |at: usize| self.raw[at].trim().to_owned();
        let unplaced = self.unplaced.iter().map(|&at| UnplacedLine {
            line: at + 1,
            text: text(at),
        });
        let (document, unplaced, notes) = (pruned(document), unplaced.collect(), notes.collect());
        Outline {
            document,
            unplaced,
            notes,
        }
    }

    /// A goal and its sub-goals as the document has them, status updates newest first.
    fn goal_json(
        &self,
        id: usize,
        children: &[Vec<usize>],
        notes: &mut Vec<(usize, String)>,
    ) -> Value {
        let goal = &self.goals[id];
        let mut updates = goal.updates.clone();
        updates.sort_by_key(|(as_of, _)| Reverse(*as_of));
        let updates: Vec<Value> = updates.into_iter().map(|(_, update)| update).collect();
        let sub_goals: Vec<Value> = children[id]
            .iter()
            .map(|&sub| self.goal_json(sub, children, notes))
            .collect();
        json!({
            "title": goal.title,
            "code": goal.code,
            "description": long_text(&goal.description, notes),
            "start_date": goal.start_date,
            "status_updates": updates,
            "sub_goals": sub_goals,
        })
    }

    /// A plain Markdown heading with no goals under it is not an area: before the first
    /// goal it is part of the introduction, after the last one it is not part of the plan.
    fn settle_headings_without_goals(&mut self) {
        let with_goals: HashSet<usize> = self.goals.iter().map(|goal| goal.area).collect();
        let (Some(&first), Some(&last)) = (with_goals.iter().min(), with_goals.iter().max()) else {
            return;
        };
        for (index, area) in self.areas.iter_mut().enumerate() {
            if area.number.is_some() || with_goals.contains(&index) {
                continue;
            }
            let message = if index < first {
                // "Mission: To advance ...": a paragraph of the introduction.
                let colon = if area.title.ends_with([':', '.', '?', '!']) {
                    ""
                } else {
                    ":"
                };
                self.summary
                    .push(area.line, &format!("{}{colon}", area.title));
                self.summary.0.append(&mut area.description.0);
                "has no goals under it, so it and its text were put in the summary"
            } else if index > last {
                self.unplaced.push(area.line);
                self.unplaced
                    .extend(area.description.0.iter().map(|(at, _)| at));
                "comes after the last goal, so it and its text were not imported"
            } else {
                "has no goals under it; it was imported as an area without goals"
            };
            area.dropped = index < first || index > last;
            let note = format!("the heading \"{}\" {message}", area.title);
            self.notes.push((area.line, note));
        }
    }

    /// Makes the goals' codes unique in their area, as the import requires. A goal
    /// without a number is numbered by its place ("2.1" for the first under "2"), which
    /// may be a number the outline gave another goal; a number may also be repeated.
    fn settle_codes(
        &mut self,
        goals: &[usize],
        parent: Option<&str>,
        seen: &mut HashSet<String>,
        children: &[Vec<usize>],
    ) {
        for (index, &goal) in goals.iter().enumerate() {
            let derived =
                parent.map_or((index + 1).to_string(), |up| format!("{up}.{}", index + 1));
            let given = self.goals[goal]
                .code
                .take()
                .filter(|code| code.len() <= MAX_CODE);
            let mut code = given.clone().unwrap_or_else(|| derived.clone());
            let clash = seen.contains(&code);
            if clash {
                let taken = code.clone();
                let mut suffixed = ('b'..='z').map(|letter| format!("{taken}{letter}"));
                code = suffixed
                    .find(|code| !seen.contains(code))
                    .unwrap_or(derived);
                let note = format!(
                    "the number {taken} is already another goal's in this area, so this goal is numbered {code}"
                );
                self.note(self.goals[goal].line, note);
            }
            seen.insert(code.clone());
            // The outline's number, or a new one; a goal without either is numbered by its place.
            self.goals[goal].code = (given.is_some() || clash).then(|| code.clone());
            self.settle_codes(&children[goal], Some(&code), seen, children);
        }
    }
}

/// The text, if there is any, cut to the longest text a field holds.
fn long_text(text: &Text, notes: &mut Vec<(usize, String)>) -> Option<String> {
    let joined = text.joined()?;
    let length = joined.chars().count();
    if length > LONG_TEXT {
        let at = text.0.iter().map(|(at, _)| *at).min().unwrap_or_default();
        let note = format!(
            "the text from this line on is {length} characters, more than the {LONG_TEXT} a field holds; it was cut at a word boundary"
        );
        notes.push((at, note));
    }
    Some(shorten(&joined, LONG_TEXT))
}

/// `value` without nulls and empty lists: a document leaves out keys with no value.
fn pruned(value: Value) -> Value {
    let present =
        |value: &Value| !value.is_null() && value.as_array().is_none_or(|l| !l.is_empty());
    match value {
        Value::Object(object) => {
            let object = object.into_iter().filter(|(_, value)| present(value));
            Value::Object(object.map(|(key, value)| (key, pruned(value))).collect())
        }
        Value::Array(items) => Value::Array(items.into_iter().map(pruned).collect()),
        other => other,
    }
}
