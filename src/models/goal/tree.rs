//! Where goals sit in their area's tree: the place (shown code and plan order)
//! derived from positions and custom codes, the checks on a new parent, and the
//! renumbering after a change of structure.

use diesel::{ExpressionMethods, OptionalExtension, QueryDsl, QueryableByName};
use diesel_async::RunQueryDsl;
use uuid::Uuid;

use super::MAX_LEVELS;
use crate::error::ApiError;
use crate::models::Conn;
use crate::schema::goals;

/// Where a goal sits: the code it shows and its plan order, as [`renumber`]
/// derives them from positions and custom codes.
pub struct Place {
    /// `None` for the top of an area, whose goals are numbered "1", "2", ...
    code: Option<String>,
    sort_key: Vec<i32>,
}

impl Place {
    /// The place of the goals of the area at this position.
    pub fn top_of_area(area_position: i32) -> Self {
        Self {
            code: None,
            sort_key: vec![area_position],
        }
    }

    /// The place of a goal with this code and sort key.
    pub fn of(code: String, sort_key: Vec<i32>) -> Self {
        Self {
            code: Some(code),
            sort_key,
        }
    }

    /// The place of the goal at `position` under this one, showing `custom` if set.
    pub fn child(&self, position: i32, custom: Option<&str>) -> (String, Vec<i32>) {
        let code = match (custom, &self.code) {
            (Some(custom), _) => custom.to_owned(),
            (None, Some(parent)) => format!("{parent}.{position}"),
            (None, None) => position.to_string(),
        };
        let mut sort_key = self.sort_key.clone();
        sort_key.push(position);
        (code, sort_key)
    }
}

/// A new parent must be a goal of the same area, not the goal itself or one of its
/// sub-goals (which would make a cycle), and not so deep that the goal or its
/// sub-goals would pass [`MAX_LEVELS`]. The parent's place, if there is one.
pub(super) async fn check_parent(
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

/// Recomputes every goal's derived code and plan order in the plan after a change
/// of structure (a goal or area added, moved or removed, or a custom code changed).
/// Touches only the rows whose values change.
///
/// Two goals of an area must not end up with one code (a custom one equal to
/// another, or to one derived from positions): the change then conflicts with the
/// goals as they are (409), and the caller's transaction rolls back.
pub async fn renumber(conn: &mut Conn, plan_id: Uuid) -> Result<(), ApiError> {
    diesel::sql_query(
        "WITH RECURSIVE tree(id, code, sort_key) AS ( \
             SELECT g.id, COALESCE(g.custom_code, g.position::text), ARRAY[a.position, g.position] \
             FROM goals g JOIN areas a ON a.id = g.area_id \
             WHERE g.plan_id = $1 AND g.parent_goal_id IS NULL \
             UNION ALL \
             SELECT g.id, COALESCE(g.custom_code, tree.code || '.' || g.position), \
                    tree.sort_key || g.position \
             FROM goals g JOIN tree ON g.parent_goal_id = tree.id) \
         UPDATE goals SET code = tree.code, sort_key = tree.sort_key, updated_at = now() \
         FROM tree \
         WHERE goals.id = tree.id \
           AND (goals.code, goals.sort_key) IS DISTINCT FROM (tree.code, tree.sort_key)",
    )
    .bind::<diesel::sql_types::Uuid, _>(plan_id)
    .execute(conn)
    .await?;
    let shared_code: Option<String> = goals::table
        .filter(goals::plan_id.eq(plan_id))
        .group_by((goals::area_id, goals::code))
        .having(diesel::dsl::count_star().gt(1))
        .select(goals::code)
        .first(conn)
        .await
        .optional()?;
    match shared_code {
        None => Ok(()),
        Some(code) => Err(ApiError::Conflict(format!(
            "after this change two goals of one area would both have the code \"{code}\"; choose another code, or clear the custom one that repeats it (PATCH the goal with \"code\": null)"
        ))),
    }
}
