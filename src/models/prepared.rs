//! Hand-written SQL that stays prepared on its connection.
//!
//! diesel never caches a `sql_query` (or a query with a `dsl::sql` fragment): it
//! cannot tell a fixed text from one built with values spliced in, and a cache keyed
//! by every such text would grow without end. Uncached, every run of a statement is
//! two round trips (prepare, then execute) and a fresh plan. Our hand-written
//! statements are fixed texts (at most a few variants each), so [`prepared`] tells
//! diesel that they are safe to keep: they are then prepared once per connection,
//! keyed by their text, and run in one round trip.

use diesel::QueryResult;
use diesel::pg::Pg;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};

/// A query whose SQL text is fixed, kept prepared on each connection it runs on.
pub struct Prepared<Q>(Q);

/// Marks `query` as safe to keep prepared. Only for SQL whose text is a constant (or
/// one of a few), never text with values in it: those go in binds.
pub fn prepared<Q>(query: Q) -> Prepared<Q> {
    Prepared(query)
}

impl<Q: QueryFragment<Pg>> QueryFragment<Pg> for Prepared<Q> {
    fn walk_ast<'b>(&'b self, pass: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        self.0.walk_ast(pass)
    }

    fn is_safe_to_cache_prepared(&self, _backend: &Pg) -> QueryResult<bool> {
        Ok(true)
    }
}

/// Without a static id, diesel keys the cached statement by its SQL text and the
/// types of its binds.
impl<Q> QueryId for Prepared<Q> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<Q: Query> Query for Prepared<Q> {
    type SqlType = Q::SqlType;
}
