//! Reading an import document into a draft: every level is read as its create
//! body would be, and every problem is named by its JSON pointer.

use std::collections::HashSet;

use serde_json::Value;

use super::{
    IGNORED_IN_AREA, IGNORED_IN_GOAL, IGNORED_IN_PLAN, IGNORED_IN_UPDATE, ImportCounts, MAX_AREAS,
    MAX_GOALS, MAX_UPDATES, ignored_keys,
};
use crate::error::{ApiError, FieldError};
use crate::models::area::AreaInput;
use crate::models::derived::goal_codes::MAX_LEVELS;
use crate::models::goal::GoalInput;
use crate::models::plan::PlanInput;
use crate::models::status_update::StatusUpdateInput;

/// A document, read and checked, ready to write.
#[derive(Debug)]
pub struct PlanDraft {
    pub(super) plan: PlanInput,
    pub(super) areas: Vec<AreaDraft>,
    counts: ImportCounts,
}

#[derive(Debug)]
pub(super) struct AreaDraft {
    pub(super) input: AreaInput,
    pub(super) goals: Vec<GoalDraft>,
}

#[derive(Debug)]
pub(super) struct GoalDraft {
    /// Where the goal is in the document, for problems found later.
    pointer: String,
    pub(super) input: GoalInput,
    pub(super) updates: Vec<StatusUpdateInput>,
    pub(super) sub_goals: Vec<GoalDraft>,
}

impl PlanDraft {
    /// How many areas, goals and status updates the document holds.
    pub fn counts(&self) -> ImportCounts {
        self.counts
    }
}

/// Reads a document; a 422 names every problem by its JSON pointer.
pub fn read(document: Value) -> Result<PlanDraft, ApiError> {
    let mut reader = Reader::default();
    let draft = reader.plan(document);
    if reader.counts.areas > MAX_AREAS {
        reader.error("/areas", format!("a plan has at most {MAX_AREAS} areas"));
    }
    if reader.counts.goals > MAX_GOALS {
        reader.error("", format!("a document holds at most {MAX_GOALS} goals"));
    }
    if reader.counts.status_updates > MAX_UPDATES {
        reader.error(
            "",
            format!("a document holds at most {MAX_UPDATES} status updates"),
        );
    }
    match draft {
        Some(draft) if reader.errors.is_empty() => Ok(draft),
        _ => Err(ApiError::Invalid(reader.errors)),
    }
}

/// Walks a document, collecting every problem with its JSON pointer.
#[derive(Default)]
struct Reader {
    errors: Vec<FieldError>,
    counts: ImportCounts,
}

impl Reader {
    fn error(&mut self, pointer: &str, message: impl Into<String>) {
        self.errors.push(FieldError::new(pointer, message));
    }

    fn plan(&mut self, document: Value) -> Option<PlanDraft> {
        let (fields, [areas]) = self.split(document, "", IGNORED_IN_PLAN, ["areas"])?;
        let plan = self.take("", PlanInput::read(fields, None));
        let areas: Vec<AreaDraft> = areas
            .into_iter()
            .enumerate()
            .filter_map(|(index, area)| self.area(area, index))
            .collect();
        Some(PlanDraft {
            plan: plan?,
            areas,
            counts: self.counts,
        })
    }

    fn area(&mut self, area: Value, index: usize) -> Option<AreaDraft> {
        self.counts.areas += 1;
        let pointer = format!("/areas/{index}");
        let (fields, [goals]) = self.split(area, &pointer, IGNORED_IN_AREA, ["goals"])?;
        let input = self.take(&pointer, AreaInput::read(fields, None));
        let mut goals = self.goals(goals, &pointer, "goals", 1);
        let input = input?;
        self.check_position(&pointer, input.position, index);
        self.check_codes(&mut goals, None, &mut HashSet::new());
        Some(AreaDraft { input, goals })
    }

    fn goals(
        &mut self,
        goals: Vec<Value>,
        parent: &str,
        key: &str,
        level: usize,
    ) -> Vec<GoalDraft> {
        if !goals.is_empty() && level > MAX_LEVELS {
            self.error(
                &format!("{parent}/{key}"),
                format!("nests goals {level} levels deep; a plan nests at most {MAX_LEVELS}"),
            );
            return Vec::new();
        }
        goals
            .into_iter()
            .enumerate()
            .filter_map(|(index, goal)| {
                self.goal(goal, &format!("{parent}/{key}/{index}"), index, level)
            })
            .collect()
    }

    fn goal(
        &mut self,
        goal: Value,
        pointer: &str,
        index: usize,
        level: usize,
    ) -> Option<GoalDraft> {
        self.counts.goals += 1;
        let (fields, [updates, sub_goals]) = self.split(
            goal,
            pointer,
            IGNORED_IN_GOAL,
            ["status_updates", "sub_goals"],
        )?;
        let input = self.take(pointer, GoalInput::read(fields, None));
        let updates: Vec<StatusUpdateInput> = updates
            .into_iter()
            .enumerate()
            .filter_map(|(index, update)| {
                self.counts.status_updates += 1;
                let at = format!("{pointer}/status_updates/{index}");
                let (fields, []) = self.split(update, &at, IGNORED_IN_UPDATE, [])?;
                self.take(&at, StatusUpdateInput::read(fields, None))
            })
            .collect();
        let sub_goals = self.goals(sub_goals, pointer, "sub_goals", level + 1);
        let input = input?;
        self.check_position(pointer, input.position, index);
        Some(GoalDraft {
            pointer: pointer.to_owned(),
            input,
            updates,
            sub_goals,
        })
    }

    /// In a document, the order of each list gives the positions; one that is
    /// given must agree with it.
    fn check_position(&mut self, pointer: &str, position: Option<i32>, index: usize) {
        let expected = super::place(index);
        if position.is_some_and(|given| given != expected) {
            self.error(
                &format!("{pointer}/position"),
                format!(
                    "must be {expected}: in a document, positions follow the order of the list"
                ),
            );
        }
    }

    /// A custom code must not repeat another goal's code in the area, whether that
    /// code is custom or derived from positions. A code equal to the derived one is
    /// not custom at all, so an exported plan imports with its derived codes.
    fn check_codes(
        &mut self,
        goals: &mut [GoalDraft],
        parent_code: Option<&str>,
        seen: &mut HashSet<String>,
    ) {
        for (index, goal) in goals.iter_mut().enumerate() {
            let derived = match parent_code {
                Some(parent) => format!("{parent}.{}", index + 1),
                None => (index + 1).to_string(),
            };
            if goal.input.code.as_deref() == Some(derived.as_str()) {
                goal.input.code = None;
            }
            let code = goal.input.code.clone().unwrap_or(derived);
            if !seen.insert(code.clone()) {
                self.error(
                    &format!("{}/code", goal.pointer),
                    format!("\"{code}\" is already the code of another goal in this area"),
                );
            }
            self.check_codes(&mut goal.sub_goals, Some(&code), seen);
        }
    }

    /// Splits an object into its own fields and its `N` nested lists, dropping the
    /// keys an import ignores.
    fn split<const N: usize>(
        &mut self,
        value: Value,
        pointer: &str,
        ignored: &'static [&'static str],
        nested: [&str; N],
    ) -> Option<(Value, [Vec<Value>; N])> {
        let Value::Object(mut object) = value else {
            self.error(pointer, "must be a JSON object");
            return None;
        };
        for key in ignored_keys(ignored) {
            object.remove(key);
        }
        let lists = nested.map(|key| match object.remove(key) {
            None => Vec::new(),
            Some(Value::Array(items)) => items,
            Some(_) => {
                self.error(
                    &format!("{pointer}/{key}"),
                    "must be an array; leave it out for none",
                );
                Vec::new()
            }
        });
        Some((Value::Object(object), lists))
    }

    /// The value read, or its problems recorded under `pointer`.
    fn take<T>(&mut self, pointer: &str, read: Result<T, ApiError>) -> Option<T> {
        match read {
            Ok(value) => Some(value),
            Err(ApiError::Invalid(errors)) => {
                for error in errors {
                    let at = if error.field.is_empty() {
                        pointer.to_owned()
                    } else {
                        format!("{pointer}/{}", error.field)
                    };
                    self.errors.push(FieldError::new(at, error.message));
                }
                None
            }
            Err(other) => {
                self.error(pointer, other.problem().detail);
                None
            }
        }
    }
}
