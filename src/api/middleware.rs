//! What every request passes through on its way to a handler and back, in the
//! order `startup::run` wraps them (outermost first): the request log, the
//! metrics' counts (only with `METRICS_ADDR`), `HEAD` as `GET`, CORS,
//! compression, the deadline, access control (tokens, scopes, drafts, rate
//! limits), entity tags, and idempotent retries.

pub mod access;
pub mod client_address;
pub mod compression;
pub mod conditional;
pub mod cors;
pub mod deadline;
pub mod head;
pub mod idempotency;
pub mod metrics;
pub mod rate_limit;
pub mod request_log;
