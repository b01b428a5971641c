//! strategy-tracker: the system of record for an association's strategic plan
//! (value proposition, strategic areas, goals and sub-goals) and for the progress
//! staff record on every goal. A JSON REST API over PostgreSQL; see `README.md`.

pub mod api;
pub mod cli;
pub mod config;
pub mod csv;
pub mod db;
pub mod error;
pub mod logging;
pub mod models;
pub mod openapi;
pub mod pagination;
pub mod schema;
pub mod shutdown;
pub mod startup;
