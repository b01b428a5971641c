//! The test harness (`tests/integration/common.rs`) for the benchmarks
//! (`benches/*.rs` include this file), with the one starter only they use.

#![allow(dead_code, reason = "each benchmark uses its own part of the harness")]

include!("../integration/common.rs");

/// For benchmarks: the service with two workers and this body limit, on a fresh
/// database; the database (dropped with it), the base URL and the server's handle.
pub fn start_for_bench(body_limit: usize) -> (TestDatabase, String, ServerHandle) {
    let database = TestDatabase::new();
    let mut config = test_config(database.url());
    config.body_limit_bytes = body_limit;
    config.workers = Some(2);
    let (address, server) = start(&config);
    (database, address, server)
}
