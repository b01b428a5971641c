//! A whole plan as one document: the plan, its areas in order, each area's goals in
//! order with their sub-goals nested, and each goal's status updates. The member
//! portal draws a plan from one of these; `import` reads the same shape back.

use std::collections::HashMap;

use diesel::{ExpressionMethods, JoinOnDsl, NullableExpressionMethods, QueryDsl, SelectableHelper};
use diesel_async::RunQueryDsl;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::Conn;
use super::area::Area;
use super::derived::progress::{self, GoalFacts};
use super::plan::Plan;
use super::status_update::{self, StatusUpdate};
use super::tables::{
    self, areas::AreaRow, goals::Goal, plans::PlanRow, status_updates::StatusUpdateRow,
    status_updates::latest_id_of,
};
use crate::error::ApiError;
use crate::models::event::snapshot::{self, Followed};
use crate::schema::{areas, goals, status_updates};

/// The SQL queries [`export`] makes, whatever the size of the plan: the plan, its
/// areas, its goals, their status updates and the updates' measurements (the last
/// two not with [`UpdatesInDocument::None`]).
pub const EXPORT_QUERIES: usize = 5;

/// Which status updates a document carries for each goal.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum UpdatesInDocument {
    /// Every status update, newest first.
    #[default]
    All,
    /// Only the latest status update.
    Latest,
    /// No status updates.
    None,
}

/// A whole plan: its fields, then its strategic areas in order.
#[derive(Debug, Serialize, ToSchema)]
pub struct PlanDocument {
    #[serde(flatten)]
    pub plan: Plan,
    /// The change feed's position the document reflects, read with its rows:
    /// every change up to it is in the document, none after it. A portal keeps its
    /// copy by following the plan's changes from here
    /// (`/events?plan_id=...&after=`). Of a document `as_of` a day, the plan's last
    /// change by the end of that day.
    #[schema(minimum = 0, maximum = 9007199254740991_i64)]
    pub feed_position: i64,
    /// The plan's strategic areas, in order.
    #[schema(max_items = 200)]
    pub areas: Vec<AreaDocument>,
}

/// A strategic area with its goals.
#[derive(Debug, Serialize, ToSchema)]
pub struct AreaDocument {
    #[serde(flatten)]
    pub area: Area,
    /// The area's goals (not its sub-goals, which are nested in their goal), in order.
    #[schema(max_items = 5000)]
    pub goals: Vec<GoalDocument>,
}

/// A goal with its status updates and sub-goals.
#[derive(Debug, Serialize, ToSchema)]
pub struct GoalDocument {
    #[serde(flatten)]
    pub goal: Goal,
    /// The goal's status updates, newest first (as many as `updates` asked for).
    #[schema(max_items = 50000)]
    pub status_updates: Vec<StatusUpdate>,
    /// The goal's sub-goals, in order, each with its own.
    #[schema(no_recursion, max_items = 5000)]
    pub sub_goals: Vec<GoalDocument>,
}

/// The plan as one document, in [`EXPORT_QUERIES`] queries at most.
pub async fn export(
    conn: &mut Conn,
    plan_id: Uuid,
    updates: UpdatesInDocument,
) -> Result<PlanDocument, ApiError> {
    snapshot::read(conn, Followed::Plan(plan_id), async |conn, position| {
        export_in_snapshot(conn, plan_id, updates, position).await
    })
    .await
}

/// The document of [`export`], read in its snapshot.
async fn export_in_snapshot(
    conn: &mut Conn,
    plan_id: Uuid,
    updates: UpdatesInDocument,
    feed_position: i64,
) -> Result<PlanDocument, ApiError> {
    let plan = tables::plans::get_row(conn, plan_id).await?;
    let areas = areas::table
        .filter(areas::plan_id.eq(plan_id))
        .order_by(areas::position)
        .select(AreaRow::as_select())
        .load(conn)
        .await?;
    let goals = goals::table
        .filter(goals::plan_id.eq(plan_id))
        .order_by((goals::sort_key, goals::id))
        .select(Goal::as_select())
        .load(conn)
        .await?;
    let goal_ids: Vec<Uuid> = goals.iter().map(|goal| goal.id).collect();
    let updates = load_updates(conn, &goal_ids, updates).await?;
    Ok(assemble(plan, areas, goals, updates, feed_position))
}

/// The status updates of these goals, grouped by goal then newest first: by goal id,
/// so that PostgreSQL reads the goals' own entries of the `status_updates_newest_first`
/// index, not every update of every plan.
async fn load_updates(
    conn: &mut Conn,
    goal_ids: &[Uuid],
    updates: UpdatesInDocument,
) -> Result<Vec<StatusUpdate>, ApiError> {
    let newest_first = (
        status_updates::goal_id,
        status_updates::as_of.desc(),
        status_updates::created_at.desc(),
        status_updates::id.desc(),
    );
    let rows = match updates {
        UpdatesInDocument::None => return Ok(Vec::new()),
        UpdatesInDocument::All => {
            status_updates::table
                .filter(status_updates::goal_id.eq_any(goal_ids))
                .order_by(newest_first)
                .select(StatusUpdateRow::as_select())
                .load(conn)
                .await?
        }
        UpdatesInDocument::Latest => {
            status_updates::table
                .inner_join(
                    goals::table.on(status_updates::id.nullable().eq(latest_id_of!(goals::id))),
                )
                .filter(goals::id.eq_any(goal_ids))
                .order_by(newest_first)
                .select(StatusUpdateRow::as_select())
                .load(conn)
                .await?
        }
    };
    status_update::with_measurements(conn, rows).await
}

/// Nests goals (in plan order) under their areas and parents, with their updates,
/// and rolls their progress up into the areas and the plan.
pub(super) fn assemble(
    plan: PlanRow,
    areas: Vec<AreaRow>,
    goals: Vec<Goal>,
    updates: Vec<StatusUpdate>,
    feed_position: i64,
) -> PlanDocument {
    let roll_up = progress::roll_up(&goals.iter().map(GoalFacts::from).collect::<Vec<_>>());
    let mut updates_of: HashMap<Uuid, Vec<StatusUpdate>> = HashMap::new();
    for update in updates {
        updates_of.entry(update.goal_id).or_default().push(update);
    }
    // Plan order lists every goal before its sub-goals, so each list stays in order.
    let mut top_level_of: HashMap<Uuid, Vec<Goal>> = HashMap::new();
    let mut children_of: HashMap<Uuid, Vec<Goal>> = HashMap::new();
    for goal in goals {
        match goal.parent_goal_id {
            Some(parent) => children_of.entry(parent).or_default().push(goal),
            None => top_level_of.entry(goal.area_id).or_default().push(goal),
        }
    }
    let mut nest = Nest {
        children_of,
        updates_of,
    };
    let areas = areas
        .into_iter()
        .map(|area| {
            let goals = top_level_of.remove(&area.id).unwrap_or_default();
            let progress = roll_up.area(area.id);
            AreaDocument {
                goals: goals.into_iter().map(|goal| nest.goal(goal)).collect(),
                area: Area::new(area, progress),
            }
        })
        .collect();
    let progress = roll_up.plan(plan.id);
    PlanDocument {
        plan: Plan::new(plan, progress),
        feed_position,
        areas,
    }
}

struct Nest {
    children_of: HashMap<Uuid, Vec<Goal>>,
    updates_of: HashMap<Uuid, Vec<StatusUpdate>>,
}

impl Nest {
    fn goal(&mut self, goal: Goal) -> GoalDocument {
        let children = self.children_of.remove(&goal.id).unwrap_or_default();
        GoalDocument {
            status_updates: self.updates_of.remove(&goal.id).unwrap_or_default(),
            sub_goals: children.into_iter().map(|child| self.goal(child)).collect(),
            goal,
        }
    }
}
