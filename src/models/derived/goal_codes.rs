//! Where goals sit in their area's tree: the place (shown code and plan order)
//! derived from positions and custom codes, and the renumbering after a change of
//! structure.

use diesel::{ExpressionMethods, OptionalExtension, QueryDsl};
use diesel_async::RunQueryDsl;
use uuid::Uuid;

use crate::error::ApiError;
use crate::models::Conn;
use crate::models::prepared::prepared;
use crate::schema::goals;

/// Deepest nesting of goals: a goal is level 1, its sub-goals level 2, and so on.
/// It bounds a derived code's length (eight levels of positions and dots).
pub const MAX_LEVELS: usize = 8;

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

/// Recomputes every goal's derived code and plan order in the plan after a change
/// of structure (a goal or area added, moved or removed, or a custom code changed).
/// Touches only the rows whose values change.
///
/// Two goals of an area must not end up with one code (a custom one equal to
/// another, or to one derived from positions): the change then conflicts with the
/// goals as they are (409), and the caller's transaction rolls back.
pub async fn renumber(conn: &mut Conn, plan_id: Uuid) -> Result<(), ApiError> {
    prepared(
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
        .bind::<diesel::sql_types::Uuid, _>(plan_id),
    )
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
