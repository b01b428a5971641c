//! The integration tests, one binary: the real service over real HTTP, each test
//! against its own PostgreSQL database cloned from a migrated template (`common`,
//! which the benchmarks include too). One module per resource or area; `helpers`
//! holds what several of them share on top of the harness.

mod common;
mod helpers;

mod access;
mod areas;
mod backup;
mod cache;
mod conditional;
mod cors;
mod documents;
mod events;
mod feed_positions;
mod goals;
mod idempotency;
mod layers;
mod logging;
mod measures;
mod metrics;
mod migrations;
mod operations;
mod plans;
mod progress;
mod query_plans;
mod rate_limits;
mod service;
mod sheet_import;
mod status_updates;
mod tls;
mod tokens;
mod tracking_sheet;
