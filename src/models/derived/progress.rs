//! Progress roll-up: how far along a plan and each of its strategic areas are,
//! computed from the status and progress of their goals and sub-goals.
//!
//! [`roll_up`] is pure, so a caller that already holds the goals (such as a whole
//! plan's document) computes every plan's and area's progress without another
//! query; [`for_plans`] and [`for_areas`] load the goals they need in one query.

use std::collections::{HashMap, HashSet};

use diesel::{ExpressionMethods, QueryDsl, Queryable, Selectable, SelectableHelper};
use diesel_async::RunQueryDsl;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::error::ApiError;
use crate::models::tables::goals::Goal;
use crate::models::{Conn, GoalStatus};
use crate::schema::goals;

/// How many goals and sub-goals, at every level, have each status. Every status
/// is always present, with 0 when no goal has it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, ToSchema)]
#[schema(example = json!({
    "not_started": 3, "on_track": 5, "at_risk": 1, "off_track": 0,
    "on_hold": 0, "completed": 3, "discontinued": 0
}))]
pub struct StatusCounts {
    /// Goals with no status update yet.
    #[schema(maximum = 2147483647)]
    pub not_started: u32,
    /// Goals progressing as planned.
    #[schema(maximum = 2147483647)]
    pub on_track: u32,
    /// Goals progressing, but that may miss their date or target.
    #[schema(maximum = 2147483647)]
    pub at_risk: u32,
    /// Goals that will miss their date or target without a change of course.
    #[schema(maximum = 2147483647)]
    pub off_track: u32,
    /// Goals paused on purpose.
    #[schema(maximum = 2147483647)]
    pub on_hold: u32,
    /// Goals done.
    #[schema(maximum = 2147483647)]
    pub completed: u32,
    /// Goals dropped from the plan's work.
    #[schema(maximum = 2147483647)]
    pub discontinued: u32,
}

impl StatusCounts {
    /// Counts one more goal with this status.
    pub fn add(&mut self, status: GoalStatus) {
        let count = match status {
            GoalStatus::NotStarted => &mut self.not_started,
            GoalStatus::OnTrack => &mut self.on_track,
            GoalStatus::AtRisk => &mut self.at_risk,
            GoalStatus::OffTrack => &mut self.off_track,
            GoalStatus::OnHold => &mut self.on_hold,
            GoalStatus::Completed => &mut self.completed,
            GoalStatus::Discontinued => &mut self.discontinued,
        };
        *count += 1;
    }
}

/// How far along a plan or strategic area is, rolled up from its goals and
/// sub-goals as they are now.
///
/// `goal_count` and `by_status` count goals and sub-goals at every level.
///
/// `percent_complete` is the mean, over the top-level goals (those of the area; for
/// a plan, those of all its areas, each weighing the same), of each goal's value:
///
/// - 100 if the goal's status is `completed` (whatever its sub-goals say);
/// - otherwise, if it has sub-goals, the mean of its sub-goals' values, worked out
///   the same way at every level (sub-goals roll up into their parent rather than
///   being counted again);
/// - otherwise its `progress_percent`, or 0 when its latest status update gave none.
///
/// `discontinued` goals, with their sub-goals, are left out of every mean: they are
/// no longer part of the plan's work. A goal whose sub-goals are all discontinued
/// counts by its own progress.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, ToSchema)]
#[schema(example = json!({
    "goal_count": 12,
    "by_status": {
        "not_started": 3, "on_track": 5, "at_risk": 1, "off_track": 0,
        "on_hold": 0, "completed": 3, "discontinued": 0
    },
    "percent_complete": 41.7
}))]
pub struct Progress {
    /// How many goals and sub-goals there are, at every level, whatever their status.
    #[schema(maximum = 2147483647)]
    pub goal_count: u32,
    /// How many goals and sub-goals, at every level, have each status.
    pub by_status: StatusCounts,
    /// From 0.0 to 100.0, with one decimal: the mean value of the top-level goals
    /// that are not discontinued, a goal's value being worked out as this object's
    /// description says; null when there is no such goal.
    #[schema(minimum = 0, maximum = 100, example = 41.7)]
    pub percent_complete: Option<f64>,
}

/// What the roll-up needs to know of a goal: its place in the tree, its status and
/// its progress.
#[derive(Debug, Clone, Copy, PartialEq, Queryable, Selectable)]
#[diesel(table_name = goals, check_for_backend(diesel::pg::Pg))]
pub struct GoalFacts {
    pub id: Uuid,
    pub plan_id: Uuid,
    pub area_id: Uuid,
    pub parent_goal_id: Option<Uuid>,
    pub status: GoalStatus,
    pub progress_percent: Option<i16>,
}

impl From<&Goal> for GoalFacts {
    fn from(goal: &Goal) -> Self {
        Self {
            id: goal.id,
            plan_id: goal.plan_id,
            area_id: goal.area_id,
            parent_goal_id: goal.parent_goal_id,
            status: goal.status,
            progress_percent: goal.progress_percent,
        }
    }
}

/// The progress of every plan and area that has goals among those rolled up.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RollUp {
    /// By plan id. A plan's entry is only whole if all of its goals were rolled up.
    pub plans: HashMap<Uuid, Progress>,
    /// By area id. An area's entry is only whole if all of its goals were rolled up.
    pub areas: HashMap<Uuid, Progress>,
}

impl RollUp {
    /// The plan's progress; that of a plan without goals when none were rolled up.
    pub fn plan(&self, plan_id: Uuid) -> Progress {
        self.plans.get(&plan_id).copied().unwrap_or_default()
    }

    /// The area's progress; that of an area without goals when none were rolled up.
    pub fn area(&self, area_id: Uuid) -> Progress {
        self.areas.get(&area_id).copied().unwrap_or_default()
    }
}

/// Rolls the goals up into the progress of their plans and areas (see [`Progress`]).
/// A goal whose parent is not among `goals` counts as a top-level goal.
pub fn roll_up(goals: &[GoalFacts]) -> RollUp {
    let ids: HashSet<Uuid> = goals.iter().map(|goal| goal.id).collect();
    let mut children: HashMap<Uuid, Vec<&GoalFacts>> = HashMap::new();
    let mut top_level = Vec::new();
    let mut plans: HashMap<Uuid, Tally> = HashMap::new();
    let mut areas: HashMap<Uuid, Tally> = HashMap::new();
    for goal in goals {
        plans.entry(goal.plan_id).or_default().count(goal.status);
        areas.entry(goal.area_id).or_default().count(goal.status);
        match goal.parent_goal_id.filter(|parent| ids.contains(parent)) {
            Some(parent) => children.entry(parent).or_default().push(goal),
            None => top_level.push(goal),
        }
    }
    for goal in top_level {
        if goal.status != GoalStatus::Discontinued {
            let value = value_of(goal, &children);
            plans.entry(goal.plan_id).or_default().add(value);
            areas.entry(goal.area_id).or_default().add(value);
        }
    }
    let finish = |tallies: HashMap<Uuid, Tally>| {
        tallies
            .into_iter()
            .map(|(id, tally)| (id, tally.progress()))
            .collect()
    };
    RollUp {
        plans: finish(plans),
        areas: finish(areas),
    }
}

/// A goal's value, from 0 to 100 (see [`Progress`]). Goals reached from a top-level
/// goal form a tree (each has one parent), so the recursion ends.
fn value_of(goal: &GoalFacts, children: &HashMap<Uuid, Vec<&GoalFacts>>) -> f64 {
    if goal.status == GoalStatus::Completed {
        return 100.0;
    }
    let counted = children
        .get(&goal.id)
        .into_iter()
        .flatten()
        .filter(|child| child.status != GoalStatus::Discontinued);
    let mut tally = Tally::default();
    for child in counted {
        tally.add(value_of(child, children));
    }
    tally
        .mean()
        .unwrap_or_else(|| f64::from(goal.progress_percent.unwrap_or(0)))
}

/// Counts and the sum of values, on the way to a [`Progress`].
#[derive(Default)]
struct Tally {
    goal_count: u32,
    by_status: StatusCounts,
    sum: f64,
    values: u32,
}

impl Tally {
    fn count(&mut self, status: GoalStatus) {
        self.goal_count += 1;
        self.by_status.add(status);
    }

    fn add(&mut self, value: f64) {
        self.sum += value;
        self.values += 1;
    }

    fn mean(&self) -> Option<f64> {
        (self.values > 0).then(|| self.sum / f64::from(self.values))
    }

    fn progress(&self) -> Progress {
        Progress {
            goal_count: self.goal_count,
            by_status: self.by_status,
            percent_complete: self.mean().map(|mean| (mean * 10.0).round() / 10.0),
        }
    }
}

/// The progress of these plans, from all their goals in one query.
pub async fn for_plans(conn: &mut Conn, plan_ids: &[Uuid]) -> Result<RollUp, ApiError> {
    if plan_ids.is_empty() {
        return Ok(RollUp::default());
    }
    let goals: Vec<GoalFacts> = goals::table
        .filter(goals::plan_id.eq_any(plan_ids))
        .select(GoalFacts::as_select())
        .load(conn)
        .await?;
    Ok(roll_up(&goals))
}

/// The progress of these areas, from all their goals in one query. The result's
/// `plans` only cover these areas' goals.
pub async fn for_areas(conn: &mut Conn, area_ids: &[Uuid]) -> Result<RollUp, ApiError> {
    if area_ids.is_empty() {
        return Ok(RollUp::default());
    }
    let goals: Vec<GoalFacts> = goals::table
        .filter(goals::area_id.eq_any(area_ids))
        .select(GoalFacts::as_select())
        .load(conn)
        .await?;
    Ok(roll_up(&goals))
}

#[cfg(test)]
mod tests {
    use super::*;

    const PLAN: Uuid = Uuid::from_u128(1);
    const AREA: Uuid = Uuid::from_u128(2);
    const OTHER_AREA: Uuid = Uuid::from_u128(3);

    /// Builds goals with ids 100, 101, ... in the order they are added.
    #[derive(Default)]
    struct Goals(Vec<GoalFacts>);

    impl Goals {
        fn add(
            &mut self,
            area: Uuid,
            parent: Option<Uuid>,
            status: GoalStatus,
            progress: Option<i16>,
        ) -> Uuid {
            let id = Uuid::from_u128(100 + self.0.len() as u128);
            self.0.push(GoalFacts {
                id,
                plan_id: PLAN,
                area_id: area,
                parent_goal_id: parent,
                status,
                progress_percent: progress,
            });
            id
        }

        fn top(&mut self, status: GoalStatus, progress: Option<i16>) -> Uuid {
            self.add(AREA, None, status, progress)
        }

        fn sub(&mut self, parent: Uuid, status: GoalStatus, progress: Option<i16>) -> Uuid {
            self.add(AREA, Some(parent), status, progress)
        }

        fn plan_percent(&self) -> Option<f64> {
            roll_up(&self.0).plan(PLAN).percent_complete
        }
    }

    use GoalStatus::{Completed, Discontinued, NotStarted, OnHold, OnTrack};

    #[test]
    fn no_goals_means_no_percent_and_zero_counts() {
        let roll_up = roll_up(&[]);

        assert_eq!(roll_up.plan(PLAN), Progress::default());
        assert_eq!(roll_up.area(AREA).percent_complete, None);
        assert_eq!(roll_up.area(AREA).goal_count, 0);
    }

    #[test]
    fn goals_at_every_level_are_counted_by_status() {
        let mut goals = Goals::default();
        let top = goals.top(OnTrack, Some(50));
        let sub = goals.sub(top, Completed, None);
        goals.sub(sub, Discontinued, None);
        goals.add(OTHER_AREA, None, NotStarted, None);

        let roll_up = roll_up(&goals.0);

        let plan = roll_up.plan(PLAN);
        assert_eq!(plan.goal_count, 4);
        let expected = StatusCounts {
            not_started: 1,
            on_track: 1,
            completed: 1,
            discontinued: 1,
            ..StatusCounts::default()
        };
        assert_eq!(plan.by_status, expected);
        assert_eq!(roll_up.area(AREA).goal_count, 3);
        assert_eq!(roll_up.area(OTHER_AREA).by_status.not_started, 1);
    }

    #[test]
    fn a_goal_without_sub_goals_counts_by_its_progress_or_zero() {
        let mut goals = Goals::default();
        goals.top(OnTrack, Some(40));
        goals.top(NotStarted, None);

        assert_eq!(goals.plan_percent(), Some(20.0));
    }

    #[test]
    fn sub_goals_roll_up_into_their_parent_at_every_level() {
        let mut goals = Goals::default();
        // 1 has 1.1 (its own 1.1.1 at 30 and 1.1.2 at 90: 60) and 1.2 at 0: 30.
        let one = goals.top(OnTrack, Some(99));
        let one_one = goals.sub(one, OnTrack, Some(5));
        goals.sub(one_one, OnTrack, Some(30));
        goals.sub(one_one, OnTrack, Some(90));
        goals.sub(one, NotStarted, None);
        // 2 at 70, counted once however many sub-goals 1 has.
        goals.top(OnHold, Some(70));

        assert_eq!(goals.plan_percent(), Some(50.0));
    }

    #[test]
    fn a_completed_goal_is_100_whatever_its_sub_goals_say() {
        let mut goals = Goals::default();
        let done = goals.top(Completed, Some(10));
        goals.sub(done, NotStarted, None);
        goals.top(OnTrack, Some(0));

        assert_eq!(goals.plan_percent(), Some(50.0));
    }

    #[test]
    fn discontinued_goals_are_left_out_of_every_mean() {
        let mut goals = Goals::default();
        let parent = goals.top(OnTrack, Some(0));
        goals.sub(parent, OnTrack, Some(80));
        goals.sub(parent, Discontinued, Some(0));
        let dropped = goals.top(Discontinued, None);
        goals.sub(dropped, Completed, None);

        assert_eq!(goals.plan_percent(), Some(80.0));
    }

    #[test]
    fn a_goal_whose_sub_goals_are_all_discontinued_counts_by_its_own_progress() {
        let mut goals = Goals::default();
        let parent = goals.top(OnTrack, Some(35));
        goals.sub(parent, Discontinued, Some(100));

        assert_eq!(goals.plan_percent(), Some(35.0));
    }

    #[test]
    fn only_discontinued_goals_means_no_percent() {
        let mut goals = Goals::default();
        goals.top(Discontinued, Some(50));

        let progress = roll_up(&goals.0).plan(PLAN);

        assert_eq!(progress.percent_complete, None);
        assert_eq!(progress.goal_count, 1);
    }

    #[test]
    fn a_plan_weighs_the_top_level_goals_of_all_its_areas_alike() {
        let mut goals = Goals::default();
        goals.top(Completed, None);
        goals.top(Completed, None);
        goals.add(OTHER_AREA, None, OnTrack, Some(40));

        let roll_up = roll_up(&goals.0);

        assert_eq!(roll_up.plan(PLAN).percent_complete, Some(80.0));
        assert_eq!(roll_up.area(AREA).percent_complete, Some(100.0));
        assert_eq!(roll_up.area(OTHER_AREA).percent_complete, Some(40.0));
    }

    #[test]
    fn the_percent_is_rounded_to_one_decimal() {
        let mut thirds = Goals::default();
        thirds.top(Completed, None);
        thirds.top(NotStarted, None);
        thirds.top(NotStarted, None);
        let mut two_thirds = Goals::default();
        two_thirds.top(Completed, None);
        two_thirds.top(Completed, None);
        two_thirds.top(NotStarted, None);
        let mut twelfths = Goals::default();
        for progress in [100, 100, 100, 100, 100, 0, 0, 0, 0, 0, 0, 0] {
            twelfths.top(OnTrack, Some(progress));
        }

        assert_eq!(thirds.plan_percent(), Some(33.3));
        assert_eq!(two_thirds.plan_percent(), Some(66.7));
        assert_eq!(twelfths.plan_percent(), Some(41.7));
    }

    #[test]
    fn a_goal_whose_parent_was_not_given_counts_as_top_level() {
        let mut goals = Goals::default();
        goals.sub(Uuid::from_u128(999), OnTrack, Some(60));

        assert_eq!(goals.plan_percent(), Some(60.0));
    }

    #[test]
    fn progress_without_goals_sends_every_status_and_a_null_percent() {
        let json = serde_json::to_value(Progress::default()).expect("serializes");

        assert_eq!(
            json,
            serde_json::json!({
                "goal_count": 0,
                "by_status": {
                    "not_started": 0, "on_track": 0, "at_risk": 0, "off_track": 0,
                    "on_hold": 0, "completed": 0, "discontinued": 0
                },
                "percent_complete": null
            })
        );
    }
}
