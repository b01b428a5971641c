//! The service's settings: every one is a flag with a matching environment
//! variable, read once in `main` (see [`crate::cli`]) and passed down. This module
//! knows nothing of the rest of the crate.

use clap::{ArgAction, Args};

/// The request body limit when none is configured: 2 MiB.
pub const DEFAULT_BODY_LIMIT: usize = 2 * 1024 * 1024;

/// The service's settings.
#[derive(Debug, Clone, Args)]
pub struct Config {
    /// PostgreSQL connection URL; the database is created if it does not exist.
    #[arg(
        long,
        env = "DATABASE_URL",
        global = true,
        default_value = "postgres://postgres@127.0.0.1:5432/strategy_tracker"
    )]
    pub database_url: String,

    /// Address and port to listen on.
    #[arg(
        long,
        env = "LISTEN_ADDR",
        global = true,
        default_value = "127.0.0.1:8080"
    )]
    pub listen_addr: String,

    /// Most database connections the service holds open.
    #[arg(long, env = "DATABASE_POOL_SIZE", global = true, default_value_t = 16,
          value_parser = clap::value_parser!(u16).range(1..))]
    pub pool_size: u16,

    /// Seconds to wait for a database connection before answering 503.
    #[arg(long, env = "DATABASE_TIMEOUT_SECONDS", global = true, default_value_t = 5,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub database_timeout_seconds: u64,

    /// Seconds a request may take before it is answered 503, so that a database that
    /// stops answering holds no request longer; long polls of the change feed get
    /// their `wait` on top.
    #[arg(long, env = "REQUEST_TIMEOUT_SECONDS", global = true, default_value_t = 30,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub request_timeout_seconds: u64,

    /// Seconds a stopping service (`SIGTERM`) gives the requests in flight to finish
    /// before it cuts them off and exits.
    #[arg(
        long,
        env = "SHUTDOWN_GRACE_SECONDS",
        global = true,
        default_value_t = 20
    )]
    pub shutdown_grace_seconds: u64,

    /// Largest request body accepted, in bytes (2 MiB by default).
    #[arg(long, env = "BODY_LIMIT_BYTES", global = true, default_value_t = DEFAULT_BODY_LIMIT)]
    pub body_limit_bytes: usize,

    /// Refuse PATCH and DELETE requests without `If-Match` (428), so that no editor
    /// overwrites a change they have not seen.
    #[arg(long, env = "REQUIRE_IF_MATCH", global = true)]
    pub require_if_match: bool,

    /// Origins whose browser pages may call the API (CORS), comma-separated, such as
    /// `https://members.example.org`; none when not set.
    #[arg(
        long,
        env = "CORS_ALLOWED_ORIGINS",
        global = true,
        value_delimiter = ','
    )]
    pub cors_allowed_origins: Vec<String>,

    /// Whether plans that are not drafts may be read without a token. With `false`,
    /// every read needs a token with the read scope.
    #[arg(long, env = "PUBLIC_READING", global = true, default_value_t = true,
          action = ArgAction::Set)]
    pub public_reading: bool,

    /// Requests a minute each token may make, in bursts of up to as many; 0 for no limit.
    #[arg(
        long,
        env = "RATE_LIMIT_PER_TOKEN",
        global = true,
        default_value_t = 1200
    )]
    pub rate_limit_per_token: u32,

    /// Requests a minute each client address may make without a token (or with one
    /// that does not work), in bursts of up to as many; 0 for no limit.
    #[arg(
        long,
        env = "RATE_LIMIT_PER_ADDRESS",
        global = true,
        default_value_t = 300
    )]
    pub rate_limit_per_address: u32,

    /// HTTP worker threads; one per CPU core when not set.
    #[arg(long, env = "WORKERS", global = true)]
    pub workers: Option<usize>,

    /// Address and port to serve Prometheus metrics on, at `/metrics`, such as
    /// `127.0.0.1:9090`; off when not set. A listener of its own, so that the API's
    /// address (often public) does not show them.
    #[arg(long, env = "METRICS_ADDR", global = true)]
    pub metrics_addr: Option<String>,
}
