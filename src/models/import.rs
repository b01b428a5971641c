//! Importing a whole plan from one document, the shape [`super::document::export`]
//! writes: everything is read and checked first, every problem reported at once
//! with a JSON pointer to where it is, then written in one transaction.
//!
//! Ids, timestamps, derived fields (a goal's status and progress, the progress
//! summaries) and parent ids (the nesting says them) are ignored, so an export
//! imports as is. Importing a document twice makes two plans.

use std::collections::HashSet;

use diesel::{ExpressionMethods, QueryDsl};
use diesel_async::{AsyncConnection, RunQueryDsl};
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;
use uuid::Uuid;

use super::Conn;
use super::area::AreaInput;
use super::goal::{self, GoalInput, MAX_LEVELS, Place};
use super::plan::PlanInput;
use super::status_update::StatusUpdateInput;
use crate::error::{ApiError, FieldError};
use crate::openapi::PlanImport;
use crate::outline::{self, UnplacedLine};
use crate::schema::{areas, goals, plans, status_updates};

/// Most strategic areas in one document.
pub const MAX_AREAS: usize = 200;
/// Most goals and sub-goals, at every level, in one document.
pub const MAX_GOALS: usize = 5_000;
/// Most status updates in one document.
pub const MAX_UPDATES: usize = 50_000;

/// Keys of an exported document that the server sets, at every level.
const SERVER_SET: &[&str] = &["id", "created_at", "updated_at", "progress"];
const AREA_SET: &[&str] = &["plan_id"];
const GOAL_SET: &[&str] = &[
    "plan_id",
    "area_id",
    "parent_goal_id",
    "status",
    "progress_percent",
];
// Measurements name measures of the exported plan, which documents do not carry.
const UPDATE_SET: &[&str] = &["goal_id", "measurements"];

/// A document, read and checked, ready to write.
#[derive(Debug)]
pub struct PlanDraft {
    plan: PlanInput,
    areas: Vec<AreaDraft>,
    counts: ImportCounts,
}

#[derive(Debug)]
struct AreaDraft {
    input: AreaInput,
    goals: Vec<GoalDraft>,
}

#[derive(Debug)]
struct GoalDraft {
    /// Where the goal is in the document, for problems found later.
    pointer: String,
    input: GoalInput,
    updates: Vec<StatusUpdateInput>,
    sub_goals: Vec<GoalDraft>,
}

/// How much an import creates.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, ToSchema)]
pub struct ImportCounts {
    /// Strategic areas.
    #[schema(minimum = 0, maximum = 200, format = Int32)]
    pub areas: usize,
    /// Goals and sub-goals, at every level.
    #[schema(minimum = 0, maximum = 5000, format = Int32)]
    pub goals: usize,
    /// Status updates.
    #[schema(minimum = 0, maximum = 50000, format = Int32)]
    pub status_updates: usize,
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

/// Checks what only the database can tell: the predecessor plan exists.
pub async fn check(conn: &mut Conn, draft: &PlanDraft) -> Result<(), ApiError> {
    let Some(predecessor) = draft.plan.predecessor_plan_id else {
        return Ok(());
    };
    let found: i64 = plans::table
        .find(predecessor)
        .count()
        .get_result(conn)
        .await?;
    if found == 0 {
        return Err(ApiError::unknown_reference(
            "/predecessor_plan_id",
            format!("no plan has the id {predecessor}"),
        ));
    }
    Ok(())
}

/// Writes the plan in one transaction and returns its id: all of it or nothing.
pub async fn write(conn: &mut Conn, draft: PlanDraft) -> Result<Uuid, ApiError> {
    conn.transaction(async |conn| {
        check(conn, &draft).await?;
        let plan_id = Uuid::now_v7();
        diesel::insert_into(plans::table)
            .values((plans::id.eq(plan_id), &draft.plan))
            .execute(conn)
            .await?;
        let mut rows = Rows::default();
        for (index, area) in draft.areas.into_iter().enumerate() {
            rows.area(plan_id, place(index), area);
        }
        for chunk in rows.areas.chunks(1_000) {
            diesel::insert_into(areas::table)
                .values(chunk)
                .execute(conn)
                .await?;
        }
        for chunk in rows.goals.chunks(1_000) {
            diesel::insert_into(goals::table)
                .values(chunk)
                .execute(conn)
                .await?;
        }
        for chunk in rows.updates.chunks(2_000) {
            diesel::insert_into(status_updates::table)
                .values(chunk)
                .execute(conn)
                .await?;
        }
        goal::renumber(conn, plan_id).await?;
        goal::refresh_plan_statuses(conn, plan_id).await?;
        Ok(plan_id)
    })
    .await
}

fn place(index: usize) -> i32 {
    i32::try_from(index + 1).expect("documents hold far fewer than 2^31 items")
}

type AreaRow = (
    diesel::dsl::Eq<areas::id, Uuid>,
    diesel::dsl::Eq<areas::plan_id, Uuid>,
    diesel::dsl::Eq<areas::position, i32>,
    AreaInput,
);
type GoalRow = (
    diesel::dsl::Eq<goals::id, Uuid>,
    diesel::dsl::Eq<goals::plan_id, Uuid>,
    diesel::dsl::Eq<goals::area_id, Uuid>,
    diesel::dsl::Eq<goals::position, i32>,
    diesel::dsl::Eq<goals::code, String>,
    diesel::dsl::Eq<goals::sort_key, Vec<i32>>,
    GoalInput,
);
type UpdateRow = (
    diesel::dsl::Eq<status_updates::id, Uuid>,
    diesel::dsl::Eq<status_updates::goal_id, Uuid>,
    StatusUpdateInput,
);

/// The rows of a draft, parents before children, ready for batch inserts.
#[derive(Default)]
struct Rows {
    areas: Vec<AreaRow>,
    goals: Vec<GoalRow>,
    updates: Vec<UpdateRow>,
}

impl Rows {
    fn area(&mut self, plan_id: Uuid, position: i32, area: AreaDraft) {
        let area_id = Uuid::now_v7();
        self.areas.push((
            areas::id.eq(area_id),
            areas::plan_id.eq(plan_id),
            areas::position.eq(position),
            area.input,
        ));
        let top = Place::top_of_area(position);
        for (index, goal) in area.goals.into_iter().enumerate() {
            self.goal((plan_id, area_id), None, &top, place(index), goal);
        }
    }

    fn goal(
        &mut self,
        (plan_id, area_id): (Uuid, Uuid),
        parent: Option<Uuid>,
        parent_place: &Place,
        position: i32,
        goal: GoalDraft,
    ) {
        let goal_id = Uuid::now_v7();
        let mut input = goal.input;
        input.parent_goal_id = parent;
        // As `renumber` derives them, so that each goal's history starts with them.
        let (code, sort_key) = parent_place.child(position, input.code.as_deref());
        let own_place = Place::of(code.clone(), sort_key.clone());
        self.goals.push((
            goals::id.eq(goal_id),
            goals::plan_id.eq(plan_id),
            goals::area_id.eq(area_id),
            goals::position.eq(position),
            goals::code.eq(code),
            goals::sort_key.eq(sort_key),
            input,
        ));
        for update in goal.updates {
            self.updates.push((
                status_updates::id.eq(Uuid::now_v7()),
                status_updates::goal_id.eq(goal_id),
                update,
            ));
        }
        for (index, sub_goal) in goal.sub_goals.into_iter().enumerate() {
            self.goal(
                (plan_id, area_id),
                Some(goal_id),
                &own_place,
                place(index),
                sub_goal,
            );
        }
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
        let (fields, [areas]) = self.split(document, "", &[], ["areas"])?;
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
        let (fields, [goals]) = self.split(area, &pointer, AREA_SET, ["goals"])?;
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
        let (fields, [updates, sub_goals]) =
            self.split(goal, pointer, GOAL_SET, ["status_updates", "sub_goals"])?;
        let input = self.take(pointer, GoalInput::read(fields, None));
        let updates: Vec<StatusUpdateInput> = updates
            .into_iter()
            .enumerate()
            .filter_map(|(index, update)| {
                self.counts.status_updates += 1;
                let at = format!("{pointer}/status_updates/{index}");
                let (fields, []) = self.split(update, &at, UPDATE_SET, [])?;
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
        let expected = self::place(index);
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
    /// keys the server sets.
    fn split<const N: usize>(
        &mut self,
        value: Value,
        pointer: &str,
        server_set: &[&str],
        nested: [&str; N],
    ) -> Option<(Value, [Vec<Value>; N])> {
        let Value::Object(mut object) = value else {
            self.error(pointer, "must be a JSON object");
            return None;
        };
        for key in SERVER_SET.iter().chain(server_set) {
            object.remove(*key);
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

/// What a client sends to import.
pub enum Source {
    /// A plan document, the shape an export has.
    Document(Value),
    /// A plan outline in plain text or Markdown (see [`crate::outline`]).
    Outline(String),
}

/// The answer to an import.
#[derive(Debug, Serialize, ToSchema)]
pub struct ImportReport {
    /// The new plan's id; null on a dry run, which writes nothing.
    pub plan_id: Option<Uuid>,
    /// Whether this was a dry run.
    pub dry_run: bool,
    /// What the import created or, on a dry run, would create.
    pub created: ImportCounts,
    /// The document as read; for an outline, the parse to check before trusting it.
    #[schema(value_type = PlanImport)]
    pub document: Value,
    /// Lines of an outline that fit nowhere, with their numbers; empty for a document.
    #[schema(max_items = 10000)]
    pub unplaced: Vec<UnplacedLine>,
    /// What the outline reader assumed, each naming its line; empty for a document.
    #[schema(schema_with = notes_schema)]
    pub notes: Vec<String>,
}

fn notes_schema() -> utoipa::openapi::schema::Array {
    let note = utoipa::openapi::schema::ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::Type::String)
        .max_length(Some(1000));
    utoipa::openapi::schema::ArrayBuilder::new()
        .items(note)
        .max_items(Some(10_000))
        .description(Some(
            "What the outline reader assumed, each naming its line; empty for a document.",
        ))
        .build()
}

/// Reads `source`, checks it and, unless `dry_run`, creates the plan.
pub async fn run(conn: &mut Conn, source: Source, dry_run: bool) -> Result<ImportReport, ApiError> {
    let (document, unplaced, notes) = match source {
        Source::Document(document) => (document, Vec::new(), Vec::new()),
        Source::Outline(text) => {
            let outline = outline::parse(&text).map_err(ApiError::Invalid)?;
            (outline.document, outline.unplaced, outline.notes)
        }
    };
    let draft = read(document.clone())?;
    let created = draft.counts();
    let plan_id = if dry_run {
        check(conn, &draft).await?;
        None
    } else {
        Some(write(conn, draft).await?)
    };
    Ok(ImportReport {
        plan_id,
        dry_run,
        created,
        document,
        unplaced,
        notes,
    })
}
