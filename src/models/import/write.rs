//! Writing a draft: one transaction, batch inserts, then the derived codes and
//! statuses worked out once for the whole plan.

use diesel::{ExpressionMethods, QueryDsl};
use diesel_async::RunQueryDsl;
use uuid::Uuid;

use super::place;
use super::read::{AreaDraft, GoalDraft, PlanDraft};
use crate::error::ApiError;
use crate::models::Conn;
use crate::models::area::AreaInput;
use crate::models::derived::{
    goal_codes::{self, Place},
    goal_status,
};
use crate::models::goal::GoalInput;
use crate::models::status_update::StatusUpdateInput;
use crate::models::writer::Writer;
use crate::schema::{areas, goals, plans, status_updates};

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
pub async fn write(writer: &mut Writer<'_>, draft: PlanDraft) -> Result<Uuid, ApiError> {
    writer
        .transaction(async |conn| {
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
            goal_codes::renumber(conn, plan_id).await?;
            goal_status::refresh_plan_statuses(conn, plan_id).await?;
            Ok(plan_id)
        })
        .await
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
