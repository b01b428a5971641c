//! Plans: the top of the tree.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::{
    AsChangeset, BoolExpressionMethods, ExpressionMethods, Insertable, OptionalExtension, QueryDsl,
    QueryableByName, SelectableHelper,
};
use diesel_async::RunQueryDsl;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;
use uuid::Uuid;

use super::derived::progress::{self, Progress, RollUp};
use super::patch::patch_schema;
use super::tables::plans::{PlanRow, get_row, lock};
use super::writer::Writer;
use super::{Conn, PlanStatus};
use crate::error::ApiError;
use crate::models::event::snapshot::{self, Followed};
use crate::models::validation::{self, FieldReader, LONG_TEXT, SHORT_TEXT, input_body};
use crate::pagination::{Page, PageRequest};
use crate::schema::{areas, plans};

/// A multi-year strategic plan as adopted by the association's board, with the
/// progress of its goals.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "0193a3c4-5b6e-7f00-8a1b-2c3d4e5f6a7b",
    "title": "Core Strategic Plan 2022-2025",
    "summary": "A continuation of the work outlined in the first Strategic Action Plan.",
    "value_proposition": "At some phases of your career, you will need Core. At other phases, Core will need you.",
    "period_start": "2022-09-01",
    "period_end": "2025-08-31",
    "status": "active",
    "approved_by": "Core Board of Directors",
    "approved_on": "2024-04-18",
    "predecessor_plan_id": null,
    "created_at": "2026-11-27T12:00:00Z",
    "updated_at": "2026-11-27T12:00:00Z",
    "progress": {
        "goal_count": 12,
        "by_status": {
            "not_started": 3, "on_track": 5, "at_risk": 1, "off_track": 0,
            "on_hold": 0, "completed": 3, "discontinued": 0
        },
        "percent_complete": 41.7
    }
}))]
pub struct Plan {
    /// The plan's id.
    pub id: Uuid,
    /// The plan's name as members know it.
    #[schema(max_length = 200)]
    pub title: String,
    /// A short description of the plan and how it came about.
    #[schema(max_length = 10000)]
    pub summary: Option<String>,
    /// What the association offers its members, in the plan's own words.
    #[schema(max_length = 10000)]
    pub value_proposition: Option<String>,
    /// The first day the plan is in effect.
    pub period_start: NaiveDate,
    /// The last day the plan is in effect; on or after `period_start`.
    pub period_end: NaiveDate,
    /// Where the plan is in its life.
    pub status: PlanStatus,
    /// Who approved the plan, such as the board of directors.
    #[schema(max_length = 200)]
    pub approved_by: Option<String>,
    /// The day the plan (or its latest revision) was approved.
    pub approved_on: Option<NaiveDate>,
    /// The plan this one continues, if any.
    pub predecessor_plan_id: Option<Uuid>,
    /// When the plan was created.
    pub created_at: DateTime<Utc>,
    /// When the plan was last changed.
    pub updated_at: DateTime<Utc>,
    /// How far along the plan is, rolled up from the goals and sub-goals of all its areas.
    pub progress: Progress,
}

impl Plan {
    /// The plan as sent: its row and its progress (see also [`Self::rolled_up`]).
    pub fn new(row: PlanRow, progress: Progress) -> Self {
        Self {
            id: row.id,
            title: row.title,
            summary: row.summary,
            value_proposition: row.value_proposition,
            period_start: row.period_start,
            period_end: row.period_end,
            status: row.status,
            approved_by: row.approved_by,
            approved_on: row.approved_on,
            predecessor_plan_id: row.predecessor_plan_id,
            created_at: row.created_at,
            updated_at: row.updated_at,
            progress,
        }
    }

    /// The plan as sent, with its progress taken from `roll_up` (that of a plan
    /// without goals if `roll_up` has no entry for it).
    pub fn rolled_up(row: PlanRow, roll_up: &RollUp) -> Self {
        let progress = roll_up.plan(row.id);
        Self::new(row, progress)
    }
}

input_body! {
    /// The fields of a plan a client writes. On create, `title`, `period_start` and
    /// `period_end` are required; `status` defaults to `draft`.
    #[derive(Debug, Clone, Insertable, AsChangeset, ToSchema)]
    #[diesel(table_name = plans, treat_none_as_null = true)]
    #[schema(example = json!({
        "title": "Core Strategic Plan 2022-2025",
        "value_proposition": "At some phases of your career, you will need Core. At other phases, Core will need you.",
        "period_start": "2022-09-01",
        "period_end": "2025-08-31",
        "status": "active",
        "approved_by": "Core Board of Directors",
        "approved_on": "2024-04-18"
    }))]
    pub struct PlanInput {
        /// The plan's name as members know it; 1 to 200 characters, not blank.
        #[schema(
            min_length = 1,
            max_length = 200,
            pattern = "^[^\\u0000]*[^\\s\\u0000][^\\u0000]*$"
        )]
        pub title: String,
        /// A short description of the plan; at most 10,000 characters.
        #[schema(max_length = 10000, pattern = "^[^\\u0000]*$")]
        pub summary: Option<String>,
        /// What the association offers its members; at most 10,000 characters.
        #[schema(max_length = 10000, pattern = "^[^\\u0000]*$")]
        pub value_proposition: Option<String>,
        /// The first day the plan is in effect.
        pub period_start: NaiveDate,
        /// The last day the plan is in effect; on or after `period_start`.
        pub period_end: NaiveDate,
        /// Where the plan is in its life; a new plan is a `draft` unless told otherwise.
        #[schema(default = "draft", required = false)]
        pub status: PlanStatus,
        /// Who approved the plan; at most 200 characters.
        #[schema(max_length = 200, pattern = "^[^\\u0000]*$")]
        pub approved_by: Option<String>,
        /// The day the plan was approved.
        pub approved_on: Option<NaiveDate>,
        /// The id of the plan this one continues; it must exist and must not be this
        /// plan or one that continues it.
        pub predecessor_plan_id: Option<Uuid>,
    }
}

patch_schema!(PlanPatch, PlanInput, "a plan");

impl PlanInput {
    /// Reads a create body (`current` is `None`) or a merge patch over `current`.
    pub fn read(body: Value, current: Option<&PlanRow>) -> Result<Self, ApiError> {
        let mut r = FieldReader::new(body, Self::FIELDS, validation::SERVER_SET)?;
        let title = r.required(
            "title",
            current.map(|c| c.title.clone()),
            validation::title(SHORT_TEXT),
        );
        let summary = r.optional(
            "summary",
            current.map(|c| c.summary.clone()),
            validation::text(LONG_TEXT),
        );
        let value_proposition = r.optional(
            "value_proposition",
            current.map(|c| c.value_proposition.clone()),
            validation::text(LONG_TEXT),
        );
        let period_start = r.required(
            "period_start",
            current.map(|c| c.period_start),
            validation::date,
        );
        let period_end = r.required(
            "period_end",
            current.map(|c| c.period_end),
            validation::date,
        );
        let status = r.required(
            "status",
            Some(current.map_or(PlanStatus::Draft, |c| c.status)),
            validation::one_of,
        );
        let approved_by = r.optional(
            "approved_by",
            current.map(|c| c.approved_by.clone()),
            validation::text(SHORT_TEXT),
        );
        let approved_on = r.optional(
            "approved_on",
            current.map(|c| c.approved_on),
            validation::date,
        );
        let predecessor_plan_id = r.optional(
            "predecessor_plan_id",
            current.map(|c| c.predecessor_plan_id),
            validation::id,
        );
        r.dates_in_order(
            ("period_start", period_start),
            ("period_end", period_end),
            current.is_none(),
        )?;
        if let (Some(plan), Some(predecessor)) = (current, predecessor_plan_id)
            && plan.id == predecessor
        {
            r.reject::<()>(
                "predecessor_plan_id",
                "must not be the plan itself".to_owned(),
            );
        }
        let input = (|| {
            Some(Self {
                title: title?,
                summary,
                value_proposition,
                period_start: period_start?,
                period_end: period_end?,
                status: status?,
                approved_by,
                approved_on,
                predecessor_plan_id,
            })
        })();
        r.finish(input)
    }
}

/// Filters of the plan list.
#[derive(Debug, Default)]
pub struct PlanFilter {
    pub status: Option<PlanStatus>,
    pub updated_since: Option<DateTime<Utc>>,
    /// Whether drafts are listed: only for callers who may read them.
    pub include_drafts: bool,
}

/// The position of a plan in the list: newest period first.
#[derive(Serialize, Deserialize)]
struct PlanKey(NaiveDate, Uuid);

/// Lists plans, newest period first.
pub async fn list(
    conn: &mut Conn,
    filter: &PlanFilter,
    page: &PageRequest,
) -> Result<Page<Plan>, ApiError> {
    let followed = Followed::Everything;
    snapshot::page(conn, followed, async |conn| {
        list_in_snapshot(conn, filter, page).await
    })
    .await
}

/// One page of [`list`], read in the snapshot that [`snapshot::page`] takes.
async fn list_in_snapshot(
    conn: &mut Conn,
    filter: &PlanFilter,
    page: &PageRequest,
) -> Result<Page<Plan>, ApiError> {
    let mut query = plans::table.select(PlanRow::as_select()).into_boxed();
    if let Some(status) = filter.status {
        query = query.filter(plans::status.eq(status));
    }
    if let Some(since) = filter.updated_since {
        query = query.filter(plans::updated_at.ge(since));
    }
    if !filter.include_drafts {
        query = query.filter(plans::status.ne(PlanStatus::Draft));
    }
    if let Some(PlanKey(start, id)) = page.after()? {
        query = query.filter(
            plans::period_start
                .lt(start)
                .or(plans::period_start.eq(start).and(plans::id.lt(id))),
        );
    }
    let rows = query
        .order_by((plans::period_start.desc(), plans::id.desc()))
        .limit(page.fetch_limit())
        .load(conn)
        .await?;
    let page = page.page(rows, |plan| PlanKey(plan.period_start, plan.id));
    let ids: Vec<Uuid> = page.items.iter().map(|plan| plan.id).collect();
    let roll_up = progress::for_plans(conn, &ids).await?;
    Ok(Page {
        items: (page.items.into_iter())
            .map(|row| Plan::rolled_up(row, &roll_up))
            .collect(),
        next_cursor: page.next_cursor,
        feed_position: page.feed_position,
    })
}

/// The plan with this id, with its progress.
pub async fn get(conn: &mut Conn, id: Uuid) -> Result<Plan, ApiError> {
    let row = get_row(conn, id).await?;
    with_progress(conn, row).await
}

/// The plan with its progress, from its goals as they are now.
async fn with_progress(conn: &mut Conn, row: PlanRow) -> Result<Plan, ApiError> {
    let progress = progress::for_plans(conn, &[row.id]).await?.plan(row.id);
    Ok(Plan::new(row, progress))
}

/// The plan as its writers see it, locked (see [`lock`]): what `If-Match` is checked against.
pub async fn get_locked(conn: &mut Conn, id: Uuid) -> Result<Plan, ApiError> {
    let row = lock(conn, id).await?;
    with_progress(conn, row).await
}

/// Creates a plan from a create body.
pub async fn create(writer: &mut Writer<'_>, body: Value) -> Result<Plan, ApiError> {
    let input = PlanInput::read(body, None)?;
    writer
        .transaction(async |conn| {
            check_predecessor(conn, None, input.predecessor_plan_id).await?;
            let row = diesel::insert_into(plans::table)
                .values((plans::id.eq(Uuid::now_v7()), &input))
                .returning(PlanRow::as_returning())
                .get_result(conn)
                .await?;
            // A new plan has no goals yet.
            Ok(Plan::new(row, Progress::default()))
        })
        .await
}

/// Applies a JSON merge patch to the plan.
pub async fn update(writer: &mut Writer<'_>, id: Uuid, patch: Value) -> Result<Plan, ApiError> {
    writer
        .transaction(async |conn| {
            let current = lock(conn, id).await?;
            let input = PlanInput::read(patch, Some(&current))?;
            if input.predecessor_plan_id != current.predecessor_plan_id {
                check_predecessor(conn, Some(id), input.predecessor_plan_id).await?;
            }
            let row = diesel::update(plans::table.find(id))
                .set((&input, plans::updated_at.eq(diesel::dsl::now)))
                .returning(PlanRow::as_returning())
                .get_result(conn)
                .await?;
            with_progress(conn, row).await
        })
        .await
}

/// Deletes the plan; with `cascade`, also its areas, goals and status updates.
pub async fn delete(writer: &mut Writer<'_>, id: Uuid, cascade: bool) -> Result<(), ApiError> {
    writer.transaction(async |conn| {
        lock(conn, id).await?;
        let area_count: i64 = areas::table
            .filter(areas::plan_id.eq(id))
            .count()
            .get_result(conn)
            .await?;
        if area_count > 0 && !cascade {
            return Err(ApiError::Conflict(format!(
                "the plan still has {area_count} strategic area(s); delete them first, or repeat the request with ?cascade=true to delete the plan with all its areas, goals and status updates"
            )));
        }
        diesel::delete(plans::table.find(id)).execute(conn).await?;
        Ok(())
    })
    .await
}

/// The predecessor must exist and must not continue (directly or not) the plan itself.
async fn check_predecessor(
    conn: &mut Conn,
    plan_id: Option<Uuid>,
    predecessor: Option<Uuid>,
) -> Result<(), ApiError> {
    let Some(predecessor) = predecessor else {
        return Ok(());
    };
    // The predecessor and every plan it continues, nearest first; UNION stops at a cycle.
    let chain: Vec<ChainLink> = diesel::sql_query(
        "WITH RECURSIVE chain(id) AS ( \
             SELECT id FROM plans WHERE id = $1 \
             UNION \
             SELECT p.predecessor_plan_id FROM plans p JOIN chain ON p.id = chain.id \
             WHERE p.predecessor_plan_id IS NOT NULL) \
         SELECT id FROM chain",
    )
    .bind::<diesel::sql_types::Uuid, _>(predecessor)
    .load(conn)
    .await?;
    if chain.is_empty() {
        return Err(ApiError::unknown_reference(
            "predecessor_plan_id",
            format!("no plan has the id {predecessor}"),
        ));
    }
    if plan_id.is_some_and(|id| chain.iter().any(|link| link.id == id)) {
        return Err(ApiError::invalid(
            "predecessor_plan_id",
            "would make the plan continue itself: that plan already continues this one",
        ));
    }
    Ok(())
}

#[derive(QueryableByName)]
struct ChainLink {
    #[diesel(sql_type = diesel::sql_types::Uuid)]
    id: Uuid,
}

/// Something a path can name, for finding the plan it belongs to.
#[derive(Debug, Clone, Copy)]
pub enum Contained {
    Plan(Uuid),
    Area(Uuid),
    Goal(Uuid),
    StatusUpdate(Uuid),
    Measure(Uuid),
}

/// The status of the plan `item` belongs to; `None` if `item` does not exist.
pub async fn status_containing(
    conn: &mut Conn,
    item: Contained,
) -> Result<Option<PlanStatus>, ApiError> {
    use crate::schema::{goals, measures, status_updates};
    use diesel::JoinOnDsl;
    let goals_with_plans =
        || goals::table.inner_join(plans::table.on(plans::id.eq(goals::plan_id)));
    let status = match item {
        Contained::Plan(id) => {
            plans::table
                .find(id)
                .select(plans::status)
                .first(conn)
                .await
        }
        Contained::Area(id) => {
            areas::table
                .inner_join(plans::table)
                .filter(areas::id.eq(id))
                .select(plans::status)
                .first(conn)
                .await
        }
        Contained::Goal(id) => {
            goals_with_plans()
                .filter(goals::id.eq(id))
                .select(plans::status)
                .first(conn)
                .await
        }
        Contained::StatusUpdate(id) => {
            status_updates::table
                .inner_join(goals_with_plans())
                .filter(status_updates::id.eq(id))
                .select(plans::status)
                .first(conn)
                .await
        }
        Contained::Measure(id) => {
            measures::table
                .inner_join(goals_with_plans())
                .filter(measures::id.eq(id))
                .select(plans::status)
                .first(conn)
                .await
        }
    };
    Ok(status.optional()?)
}
