//! Per-table access, one file a table: its rows as stored, finding one by id
//! (`get_row`), locking it (`lock`), counting what it holds. Nothing here spans
//! tables or decides anything: the operations above (`models::plan`, ...) do, and
//! what the database keeps derived across tables is in `models::derived`. A file
//! here imports no other file of `models` but the shared types in `models` itself.

pub mod areas;
pub mod goals;
pub mod measurements;
pub mod measures;
pub mod plans;
pub mod status_updates;
