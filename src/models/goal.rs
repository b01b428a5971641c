//! Goals and sub-goals: a tree under each strategic area, numbered "1", "1.1", ...

mod status;
mod tree;

pub use status::{refresh_plan_statuses, refresh_status};
use tree::check_parent;
pub use tree::{Place, renumber};

use chrono::{DateTime, NaiveDate, Utc};
use diesel::{
    AsChangeset, BoolExpressionMethods, ExpressionMethods, Insertable, OptionalExtension, QueryDsl,
    Queryable, Selectable, SelectableHelper,
};
use diesel_async::RunQueryDsl;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;
use uuid::Uuid;

use super::patch::patch_schema;
use super::positions::Siblings;
use super::writer::Writer;
use super::{Conn, GoalStatus, area, plan};
use crate::error::ApiError;
use crate::models::validation::{self, FieldReader, LONG_TEXT, Rule, SHORT_TEXT, input_body};
use crate::pagination::{Page, PageRequest};
use crate::schema::{goals, status_updates};

/// Longest goal title, in characters: plans state goals as whole sentences.
const GOAL_TITLE: usize = 500;
/// Longest custom goal code, in characters.
const CODE_LENGTH: usize = 32;
/// Deepest nesting of goals: a goal is level 1, its sub-goals level 2, and so on.
/// It bounds a derived code's length (eight levels of positions and dots).
pub const MAX_LEVELS: usize = 8;

/// A goal of a strategic area, or a sub-goal of another goal.
#[derive(Debug, Clone, Queryable, Selectable, Serialize, Deserialize, ToSchema)]
#[diesel(table_name = goals, check_for_backend(diesel::pg::Pg))]
#[schema(example = json!({
    "id": "0193a3c4-7b12-7d22-8e3f-4a5b6c7d8e9f",
    "plan_id": "0193a3c4-5b6e-7f00-8a1b-2c3d4e5f6a7b",
    "area_id": "0193a3c4-6a00-7c11-9d2e-3f4a5b6c7d8e",
    "parent_goal_id": "0193a3c4-7a00-7c11-9d2e-3f4a5b6c7d8e",
    "position": 2,
    "code": "2.2",
    "title": "Align journals on single platform and general practices",
    "description": null,
    "owner": "Publications Committee",
    "start_date": "2023-01-01",
    "due_date": "2025-08-31",
    "status": "completed",
    "progress_percent": 100,
    "created_at": "2026-11-27T12:00:00Z",
    "updated_at": "2026-11-27T12:00:00Z"
}))]
pub struct Goal {
    /// The goal's id.
    pub id: Uuid,
    /// The plan the goal belongs to (that of its area).
    pub plan_id: Uuid,
    /// The strategic area the goal belongs to.
    pub area_id: Uuid,
    /// The goal this one is a sub-goal of; null for a goal of the area itself.
    pub parent_goal_id: Option<Uuid>,
    /// The goal's place among its siblings, from 1.
    #[schema(minimum = 1, maximum = 2147483647)]
    pub position: i32,
    /// The goal's number as the plan shows it: the one a client set, or one derived
    /// from positions ("2" for the second goal of its area, "2.1" for its first sub-goal).
    #[schema(max_length = 200)]
    pub code: String,
    /// What the goal sets out to do.
    #[schema(max_length = 500)]
    pub title: String,
    /// More about the goal.
    #[schema(max_length = 10000)]
    pub description: Option<String>,
    /// Who is responsible: a committee, section or person.
    #[schema(max_length = 200)]
    pub owner: Option<String>,
    /// When work on the goal starts.
    pub start_date: Option<NaiveDate>,
    /// When the goal is due; on or after `start_date`.
    pub due_date: Option<NaiveDate>,
    /// The status of the goal's latest status update; `not_started` without one.
    pub status: GoalStatus,
    /// The progress of the goal's latest status update, 0 to 100. When that update
    /// gives none, the mean `percent_of_target` of the goal's measures that have a
    /// value, rounded, as of the goal's last change (a status update, or a measure
    /// changed or deleted). Null when neither gives one.
    #[schema(minimum = 0, maximum = 100)]
    pub progress_percent: Option<i16>,
    /// When the goal was created.
    pub created_at: DateTime<Utc>,
    /// When the goal was last changed, including by a status update or renumbering.
    pub updated_at: DateTime<Utc>,
}

input_body! {
    /// The fields of a goal a client writes. On create, `title` is required. A goal's
    /// `status` and `progress_percent` come from its status updates.
    #[derive(Debug, Clone, Insertable, AsChangeset, ToSchema)]
    #[diesel(table_name = goals, treat_none_as_null = true)]
    #[schema(example = json!({
        "title": "Develop member engagement campaign",
        "owner": "Membership Committee",
        "due_date": "2025-08-31"
    }))]
    pub struct GoalInput {
        /// Makes the goal a sub-goal of this goal, which must be in the same area and
        /// must not be the goal itself or one of its sub-goals. Null: a goal of the area.
        pub parent_goal_id: Option<Uuid>,
        /// The goal's place among its siblings, from 1; past the end means the end,
        /// where a new goal, or one moved to another parent, goes unless told
        /// otherwise. The siblings close up or make way, so positions stay 1 to n.
        #[schema(minimum = 1, maximum = 2147483647, nullable = false)]
        #[diesel(skip_insertion, skip_update)]
        pub position: Option<i32>,
        /// A code to show instead of the derived one (such as "A" or "1.4b"): letters,
        /// digits, `.`, `_` and `-`, starting and ending with a letter or digit, at most
        /// 32 characters, unique in the area. Null returns to the derived code.
        #[diesel(column_name = custom_code)]
        #[schema(
            max_length = 32,
            pattern = "^[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?$"
        )]
        pub code: Option<String>,
        /// What the goal sets out to do; 1 to 500 characters, not blank.
        #[schema(
            min_length = 1,
            max_length = 500,
            pattern = "^[^\\u0000]*[^\\s\\u0000][^\\u0000]*$"
        )]
        pub title: String,
        /// More about the goal; at most 10,000 characters.
        #[schema(max_length = 10000, pattern = "^[^\\u0000]*$")]
        pub description: Option<String>,
        /// Who is responsible; at most 200 characters.
        #[schema(max_length = 200, pattern = "^[^\\u0000]*$")]
        pub owner: Option<String>,
        /// When work on the goal starts.
        pub start_date: Option<NaiveDate>,
        /// When the goal is due; on or after `start_date`.
        pub due_date: Option<NaiveDate>,
    }
}

/// The stored goal a merge patch applies to.
pub struct CurrentGoal<'a> {
    pub goal: &'a Goal,
    pub custom_code: Option<String>,
}

patch_schema!(GoalPatch, GoalInput, "a goal");

impl GoalInput {
    /// Reads a create body (`current` is `None`) or a merge patch over `current`.
    /// `position` is only what the body asked for.
    pub fn read(body: Value, current: Option<&CurrentGoal>) -> Result<Self, ApiError> {
        let mut r = FieldReader::new(body, Self::FIELDS, &read_only())?;
        let goal = current.map(|c| c.goal);
        let parent_goal_id = r.optional(
            "parent_goal_id",
            goal.map(|g| g.parent_goal_id),
            validation::id,
        );
        let position = r.if_present("position", validation::integer(1, i64::from(i32::MAX)));
        let code = r.optional("code", current.map(|c| c.custom_code.clone()), code());
        let title = r.required(
            "title",
            goal.map(|g| g.title.clone()),
            validation::title(GOAL_TITLE),
        );
        let description = r.optional(
            "description",
            goal.map(|g| g.description.clone()),
            validation::text(LONG_TEXT),
        );
        let owner = r.optional(
            "owner",
            goal.map(|g| g.owner.clone()),
            validation::text(SHORT_TEXT),
        );
        let start_date = r.optional("start_date", goal.map(|g| g.start_date), validation::date);
        let due_date = r.optional("due_date", goal.map(|g| g.due_date), validation::date);
        r.dates_in_order(
            ("start_date", start_date),
            ("due_date", due_date),
            current.is_none(),
        )?;
        if let (Some(goal), Some(parent)) = (goal, parent_goal_id)
            && goal.id == parent
        {
            r.reject::<()>("parent_goal_id", "must not be the goal itself".to_owned());
        }
        let input = (|| {
            Some(Self {
                parent_goal_id,
                position,
                code,
                title: title?,
                description,
                owner,
                start_date,
                due_date,
            })
        })();
        r.finish(input)
    }
}

fn read_only() -> Vec<(&'static str, &'static str)> {
    let why_status = "a goal's status and progress are those of its latest status update; post one to /api/v1/goals/{goal_id}/status-updates";
    let mut fields = validation::SERVER_SET.to_vec();
    fields.extend([
        ("status", why_status),
        ("progress_percent", why_status),
        (
            "area_id",
            "a goal belongs to the area in the URL it was created under",
        ),
        ("plan_id", "a goal belongs to the plan of its area"),
    ]);
    fields
}

/// A custom code: see [`GoalInput::code`].
fn code() -> impl Rule<String> {
    let text = validation::text(CODE_LENGTH);
    move |value| {
        let code = text(value)?;
        let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-');
        let ends_ok = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric());
        if code.chars().all(allowed) && ends_ok(code.chars().next()) && ends_ok(code.chars().last())
        {
            Ok(code)
        } else {
            Err(format!(
                "must be letters, digits, '.', '_' or '-', starting and ending with a letter or digit (got {code:?})"
            ))
        }
    }
}

/// Which goals a list shows.
#[derive(Debug, Clone, Copy)]
pub enum GoalScope {
    Plan(Uuid),
    Area(Uuid),
}

/// Filters of the goal lists.
#[derive(Debug, Default)]
pub struct GoalFilter {
    pub status: Option<GoalStatus>,
    pub owner: Option<String>,
    pub parent_goal_id: Option<Uuid>,
    pub top_level: bool,
    pub updated_since: Option<DateTime<Utc>>,
}

/// The position of a goal in a list: plan order, depth first.
#[derive(Serialize, Deserialize)]
struct GoalKey(Vec<i32>, Uuid);

/// Lists goals and sub-goals in plan order: each goal followed by its sub-goals.
pub async fn list(
    conn: &mut Conn,
    scope: GoalScope,
    filter: &GoalFilter,
    page: &PageRequest,
) -> Result<Page<Goal>, ApiError> {
    let mut query = goals::table
        .select((Goal::as_select(), goals::sort_key))
        .into_boxed();
    match scope {
        GoalScope::Plan(plan_id) => {
            plan::get_row(conn, plan_id).await?;
            query = query.filter(goals::plan_id.eq(plan_id));
        }
        GoalScope::Area(area_id) => {
            area::get_row(conn, area_id).await?;
            query = query.filter(goals::area_id.eq(area_id));
        }
    }
    if let Some(status) = filter.status {
        query = query.filter(goals::status.eq(status));
    }
    if let Some(owner) = &filter.owner {
        query = query.filter(goals::owner.eq(owner.clone()));
    }
    if let Some(parent) = filter.parent_goal_id {
        query = query.filter(goals::parent_goal_id.eq(parent));
    }
    if filter.top_level {
        query = query.filter(goals::parent_goal_id.is_null());
    }
    if let Some(since) = filter.updated_since {
        query = query.filter(goals::updated_at.ge(since));
    }
    if let Some(GoalKey(sort_key, id)) = page.after()? {
        query = query.filter(
            goals::sort_key
                .gt(sort_key.clone())
                .or(goals::sort_key.eq(sort_key).and(goals::id.gt(id))),
        );
    }
    let rows: Vec<(Goal, Vec<i32>)> = query
        .order_by((goals::sort_key, goals::id))
        .limit(page.fetch_limit())
        .load(conn)
        .await?;
    let page = page.page(rows, |(goal, sort_key)| GoalKey(sort_key.clone(), goal.id));
    Ok(Page {
        items: page.items.into_iter().map(|(goal, _)| goal).collect(),
        next_cursor: page.next_cursor,
    })
}

/// The goal with this id.
pub async fn get(conn: &mut Conn, id: Uuid) -> Result<Goal, ApiError> {
    goals::table
        .find(id)
        .select(Goal::as_select())
        .first(conn)
        .await
        .optional()?
        .ok_or_else(|| ApiError::not_found("goal", id))
}

/// Finds the goal and locks its plan (see [`plan::lock`]); the goal as it is then,
/// with the code a client set, if any.
async fn get_locking_plan(conn: &mut Conn, id: Uuid) -> Result<(Goal, Option<String>), ApiError> {
    let plan_id = get(conn, id).await?.plan_id;
    plan::lock(conn, plan_id).await?;
    let goal = goals::table
        .find(id)
        .select((Goal::as_select(), goals::custom_code))
        .first(conn)
        .await?;
    Ok(goal)
}

/// The goal as its writers see it, its plan locked (see [`get_locking_plan`]).
pub async fn get_locked(conn: &mut Conn, id: Uuid) -> Result<Goal, ApiError> {
    get_locking_plan(conn, id).await?;
    get(conn, id).await
}

/// Creates a goal in the area from a create body.
pub async fn create(writer: &mut Writer<'_>, area_id: Uuid, body: Value) -> Result<Goal, ApiError> {
    let input = GoalInput::read(body, None)?;
    writer
        .transaction(async |conn| {
            let area = area::get_locking_plan(conn, area_id).await?;
            let parent = check_parent(conn, area_id, None, input.parent_goal_id).await?;
            let siblings = Siblings::GoalsUnder {
                area_id,
                parent: input.parent_goal_id,
            };
            let position = siblings.insert_at(conn, input.position).await?;
            let id = Uuid::now_v7();
            // Its code and order as `renumber` will see them, so that the goal's
            // history starts with the code it shows.
            let (code, sort_key) = parent
                .unwrap_or_else(|| Place::top_of_area(area.position))
                .child(position, input.code.as_deref());
            diesel::insert_into(goals::table)
                .values((
                    goals::id.eq(id),
                    goals::plan_id.eq(area.plan_id),
                    goals::area_id.eq(area_id),
                    goals::position.eq(position),
                    goals::code.eq(code),
                    goals::sort_key.eq(sort_key),
                    &input,
                ))
                .execute(conn)
                .await?;
            renumber(conn, area.plan_id).await?;
            get(conn, id).await
        })
        .await
}

/// Applies a JSON merge patch to the goal; a new parent or position moves it.
pub async fn update(writer: &mut Writer<'_>, id: Uuid, patch: Value) -> Result<Goal, ApiError> {
    writer
        .transaction(async |conn| {
            let (goal, custom_code) = get_locking_plan(conn, id).await?;
            let current = CurrentGoal {
                goal: &goal,
                custom_code,
            };
            let input = GoalInput::read(patch, Some(&current))?;
            let old_place = Siblings::GoalsUnder {
                area_id: goal.area_id,
                parent: goal.parent_goal_id,
            };
            let position = if input.parent_goal_id == goal.parent_goal_id {
                let to = input.position.unwrap_or(goal.position);
                old_place.move_within(conn, goal.position, to).await?
            } else {
                check_parent(conn, goal.area_id, Some(id), input.parent_goal_id).await?;
                old_place.close_gap(conn, goal.position).await?;
                let new_place = Siblings::GoalsUnder {
                    area_id: goal.area_id,
                    parent: input.parent_goal_id,
                };
                new_place.insert_at(conn, input.position).await?
            };
            diesel::update(goals::table.find(id))
                .set((
                    &input,
                    goals::position.eq(position),
                    goals::updated_at.eq(diesel::dsl::now),
                ))
                .execute(conn)
                .await?;
            renumber(conn, goal.plan_id).await?;
            get(conn, id).await
        })
        .await
}

/// Deletes the goal; with `cascade`, also its sub-goals and all their status
/// updates and measures.
pub async fn delete(writer: &mut Writer<'_>, id: Uuid, cascade: bool) -> Result<(), ApiError> {
    writer.transaction(async |conn| {
        let (goal, _) = get_locking_plan(conn, id).await?;
        let sub_goals: i64 = goals::table
            .filter(goals::parent_goal_id.eq(id))
            .count()
            .get_result(conn)
            .await?;
        let updates: i64 = status_updates::table
            .filter(status_updates::goal_id.eq(id))
            .count()
            .get_result(conn)
            .await?;
        let measures = super::measure::count_of_goal(conn, id).await?;
        if (sub_goals > 0 || updates > 0 || measures > 0) && !cascade {
            return Err(ApiError::Conflict(format!(
                "the goal still has {sub_goals} sub-goal(s), {updates} status update(s) and {measures} measure(s); delete them first, or repeat the request with ?cascade=true to delete the goal with its sub-goals and all their status updates and measures"
            )));
        }
        diesel::delete(goals::table.find(id)).execute(conn).await?;
        Siblings::GoalsUnder {
            area_id: goal.area_id,
            parent: goal.parent_goal_id,
        }
        .close_gap(conn, goal.position)
        .await?;
        renumber(conn, goal.plan_id).await?;
        Ok(())
    })
    .await
}

/// Locks the goal's row until the transaction ends (see [`refresh_status`]).
pub async fn lock(conn: &mut Conn, id: Uuid) -> Result<Goal, ApiError> {
    goals::table
        .find(id)
        .select(Goal::as_select())
        .for_no_key_update()
        .first(conn)
        .await
        .optional()?
        .ok_or_else(|| ApiError::not_found("goal", id))
}
