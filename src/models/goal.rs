//! Goals and sub-goals: a tree under each strategic area, numbered "1", "1.1", ...

use chrono::{DateTime, NaiveDate, Utc};
use diesel::{
    AsChangeset, BoolExpressionMethods, ExpressionMethods, Insertable, JoinOnDsl,
    OptionalExtension, QueryDsl, QueryableByName, SelectableHelper,
};
use diesel_async::RunQueryDsl;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;
use uuid::Uuid;

use super::derived::goal_codes::{self, MAX_LEVELS, Place};
use super::derived::positions::Siblings;
use super::patch::patch_schema;
use super::tables;
/// A goal is shown as it is stored.
pub use super::tables::goals::{Goal, get};
use super::writer::Writer;
use super::{Conn, GoalStatus, PlanStatus, area};
use crate::error::ApiError;
use crate::models::event::snapshot::{self, Followed};
use crate::models::validation::{self, FieldReader, LONG_TEXT, Rule, SHORT_TEXT, input_body};
use crate::pagination::{Page, PageRequest};
use crate::schema::{goals, plans, status_updates};

/// Longest goal title, in characters: plans state goals as whole sentences.
const GOAL_TITLE: usize = 500;
/// Longest custom goal code, in characters.
const CODE_LENGTH: usize = 32;

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
    let followed = match scope {
        GoalScope::Plan(plan_id) => Followed::Plan(plan_id),
        GoalScope::Area(area_id) => Followed::Area(area_id),
    };
    snapshot::page(conn, followed, async |conn| {
        list_in_snapshot(conn, scope, filter, page).await
    })
    .await
}

/// One page of [`list`], read in the snapshot that [`snapshot::page`] takes.
async fn list_in_snapshot(
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
            tables::plans::get_row(conn, plan_id).await?;
            query = query.filter(goals::plan_id.eq(plan_id));
        }
        GoalScope::Area(area_id) => {
            tables::areas::get_row(conn, area_id).await?;
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
        feed_position: page.feed_position,
    })
}

/// Finds the goal and locks its plan (see [`plan::lock`]); the goal as it is then,
/// with the code a client set, if any.
async fn get_locking_plan(conn: &mut Conn, id: Uuid) -> Result<(Goal, Option<String>), ApiError> {
    let plan_id = get(conn, id).await?.plan_id;
    tables::plans::lock(conn, plan_id).await?;
    let goal = goals::table
        .find(id)
        .select((Goal::as_select(), goals::custom_code))
        .first(conn)
        .await?;
    Ok(goal)
}

/// The goal with this id, if the caller may see it: for one who may not read
/// drafts (`drafts_visible` false), a goal of a draft plan is a 404 like an id that
/// names nothing, found by the same query that reads the goal, so that the access
/// check need not ask first (it leaves this route's drafts to its handler).
pub async fn get_visible(
    conn: &mut Conn,
    id: Uuid,
    drafts_visible: bool,
) -> Result<Goal, ApiError> {
    if drafts_visible {
        return get(conn, id).await;
    }
    goals::table
        .inner_join(plans::table.on(plans::id.eq(goals::plan_id)))
        .filter(goals::id.eq(id))
        .filter(plans::status.ne(PlanStatus::Draft))
        .select(Goal::as_select())
        .first(conn)
        .await
        .optional()?
        .ok_or_else(|| ApiError::not_found("goal", id))
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
            goal_codes::renumber(conn, area.plan_id).await?;
            get(conn, id).await
        })
        .await
}

/// Applies a JSON merge patch to the goal; a new parent or position moves it.
pub async fn update(writer: &mut Writer<'_>, id: Uuid, patch: Value) -> Result<Goal, ApiError> {
    let moving = moves(&patch);
    writer
        .transaction(async |conn| {
            let (goal, custom_code) = if moving {
                get_locking_plan(conn, id).await?
            } else {
                get_locking_goal(conn, id).await?
            };
            let current = CurrentGoal {
                goal: &goal,
                custom_code,
            };
            let input = GoalInput::read(patch, Some(&current))?;
            let old_place = Siblings::GoalsUnder {
                area_id: goal.area_id,
                parent: goal.parent_goal_id,
            };
            let position = if !moving {
                goal.position
            } else if input.parent_goal_id == goal.parent_goal_id {
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
            let changed = diesel::update(goals::table.find(id))
                .set((
                    &input,
                    goals::position.eq(position),
                    goals::updated_at.eq(diesel::dsl::now),
                ))
                .returning(Goal::as_returning());
            if !moving {
                return Ok(changed.get_result(conn).await?);
            }
            changed.execute(conn).await?;
            goal_codes::renumber(conn, goal.plan_id).await?;
            get(conn, id).await
        })
        .await
}

/// The fields of a patch that can move a goal or change codes: its own, its
/// siblings' and its sub-goals'.
const MOVING_FIELDS: [&str; 3] = ["parent_goal_id", "position", "code"];

/// Whether `patch` can move the goal or change codes. Only then does a change take
/// its plan's lock, as positions and codes depend on the siblings'; any other
/// change (a title, an owner, dates) locks the goal alone, so that edits of
/// different goals of one plan do not take turns.
pub fn moves(patch: &Value) -> bool {
    patch
        .as_object()
        .is_none_or(|fields| MOVING_FIELDS.iter().any(|name| fields.contains_key(*name)))
}

/// The goal as a change that does not move it sees it: its row locked, its plan not.
async fn get_locking_goal(conn: &mut Conn, id: Uuid) -> Result<(Goal, Option<String>), ApiError> {
    goals::table
        .find(id)
        .select((Goal::as_select(), goals::custom_code))
        .for_no_key_update()
        .first(conn)
        .await
        .optional()?
        .ok_or_else(|| ApiError::not_found("goal", id))
}

/// The goal as a PATCH with `patch` must check it (`If-Match`): with the locks
/// [`update`] takes.
pub async fn get_locked_for_patch(
    conn: &mut Conn,
    id: Uuid,
    patch: &Value,
) -> Result<Goal, ApiError> {
    if moves(patch) {
        get_locked(conn, id).await
    } else {
        Ok(get_locking_goal(conn, id).await?.0)
    }
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
        let measures = tables::measures::count_of_goal(conn, id).await?;
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
        goal_codes::renumber(conn, goal.plan_id).await?;
        Ok(())
    })
    .await
}

/// A new parent must be a goal of the same area, not the goal itself or one of its
/// sub-goals (which would make a cycle), and not so deep that the goal or its
/// sub-goals would pass [`MAX_LEVELS`]. The parent's place, if there is one.
async fn check_parent(
    conn: &mut Conn,
    area_id: Uuid,
    goal_id: Option<Uuid>,
    parent: Option<Uuid>,
) -> Result<Option<Place>, ApiError> {
    let Some(parent) = parent else {
        return Ok(None);
    };
    let parent_row: Option<(Uuid, String, Vec<i32>)> = goals::table
        .find(parent)
        .select((goals::area_id, goals::code, goals::sort_key))
        .first(conn)
        .await
        .optional()?;
    let Some((parent_area, parent_code, parent_key)) = parent_row else {
        return Err(ApiError::unknown_reference(
            "parent_goal_id",
            format!("no goal has the id {parent}"),
        ));
    };
    if parent_area != area_id {
        return Err(ApiError::invalid(
            "parent_goal_id",
            "is a goal of another strategic area; a sub-goal must be in its parent's area",
        ));
    }
    let below = match goal_id {
        Some(goal_id) => descendants(conn, goal_id).await?,
        None => Vec::new(),
    };
    if below.iter().any(|d| d.id == parent) {
        return Err(ApiError::invalid(
            "parent_goal_id",
            "is a sub-goal of this goal; a goal cannot be moved under its own sub-goal",
        ));
    }
    // The sort key holds the area's position, then one position per level.
    let level = parent_key.len();
    let deepest = level + below.iter().map(|d| d.depth as usize).max().unwrap_or(0);
    if deepest > MAX_LEVELS {
        return Err(ApiError::invalid(
            "parent_goal_id",
            format!(
                "would nest goals {deepest} levels deep; a plan nests at most {MAX_LEVELS} (as in 1.2.3.4.5.6.7.8)"
            ),
        ));
    }
    Ok(Some(Place::of(parent_code, parent_key)))
}

/// The goal's sub-goals at every level, with how many levels below it they are.
async fn descendants(conn: &mut Conn, goal_id: Uuid) -> Result<Vec<Descendant>, ApiError> {
    let below = diesel::sql_query(
        "WITH RECURSIVE below(id, depth) AS ( \
             SELECT id, 1 FROM goals WHERE parent_goal_id = $1 \
             UNION ALL \
             SELECT g.id, below.depth + 1 FROM goals g JOIN below ON g.parent_goal_id = below.id) \
         SELECT id, depth FROM below",
    )
    .bind::<diesel::sql_types::Uuid, _>(goal_id)
    .load(conn)
    .await?;
    Ok(below)
}

#[derive(QueryableByName)]
struct Descendant {
    #[diesel(sql_type = diesel::sql_types::Uuid)]
    id: Uuid,
    #[diesel(sql_type = diesel::sql_types::Integer)]
    depth: i32,
}
