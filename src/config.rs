//! The service's settings: every one is a flag with a matching environment
//! variable, read once in `main` (see [`crate::cli`]) and passed down. This module
//! knows nothing of the rest of the crate.

use std::path::PathBuf;

use clap::{ArgAction, Args, ValueEnum};

/// The request body limit when none is configured: 2 MiB.
pub const DEFAULT_BODY_LIMIT: usize = 2 * 1024 * 1024;

/// The service's settings.
#[derive(Debug, Clone, Args)]
pub struct Config {
    /// PostgreSQL connection URL; the database is created if it does not exist.
    /// `?sslmode=` as libpq: disable, prefer (the default), require, verify-ca,
    /// verify-full; `&sslrootcert=PATH` names the CA to check the server against.
    #[arg(
        long,
        env = "DATABASE_URL",
        global = true,
        hide_env_values = true,
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

    /// A file holding the PostgreSQL connection URL, read instead of `DATABASE_URL`
    /// (for Docker and Kubernetes secrets); surrounding whitespace is ignored.
    #[arg(
        long,
        env = "DATABASE_URL_FILE",
        global = true,
        conflicts_with = "database_url"
    )]
    pub database_url_file: Option<PathBuf>,

    /// A PEM file of the CA certificates the database server's certificate must be
    /// signed by (as `sslrootcert` in `DATABASE_URL`); the system's roots otherwise.
    #[arg(long, env = "DATABASE_CA_FILE", global = true)]
    pub database_ca_file: Option<PathBuf>,

    /// How log lines are written: `text` for people, or `json`, one object a line
    /// (timestamp, level, target, message and the request's fields) for log
    /// collectors. `RUST_LOG` chooses which lines, as always.
    #[arg(long, env = "LOG_FORMAT", global = true, value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
}

/// How log lines are written (see [`Config::log_format`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

impl Config {
    /// The settings given as files (`DATABASE_URL_FILE`) read into the settings they
    /// stand for. An error names the setting and the file, never what it holds.
    pub fn read_secret_files(mut self) -> Result<Self, String> {
        if let Some(path) = &self.database_url_file {
            let text = std::fs::read_to_string(path).map_err(|error| {
                format!("DATABASE_URL_FILE: cannot read {}: {error}", path.display())
            })?;
            if text.trim().is_empty() {
                return Err(format!("DATABASE_URL_FILE: {} is empty", path.display()));
            }
            self.database_url = text.trim().to_owned();
        }
        Ok(self)
    }
}

/// `url` with its password, if it has one, as `***`, whether in the user
/// information or a `password=` parameter: the only way a database URL is shown, in
/// messages and logs alike. The user information ends at the last `@` before the
/// query, so a password with an unescaped `/` or `@` is hidden too.
pub fn redacted(url: &str) -> String {
    let (head, query) = url.split_once('?').unwrap_or((url, ""));
    let head = match head.find("://").map(|at| at + 3) {
        Some(start) => match head.rfind('@').filter(|at| *at > start) {
            Some(at) => match head[start..at].find(':') {
                Some(colon) => format!("{}:***{}", &head[..start + colon], &head[at..]),
                None => head.to_owned(),
            },
            None => head.to_owned(),
        },
        None => head.to_owned(),
    };
    if query.is_empty() {
        return head;
    }
    let query: Vec<&str> = query
        .split('&')
        .map(|pair| {
            if pair.starts_with("password=") {
                "password=***"
            } else {
                pair
            }
        })
        .collect();
    format!("{head}?{}", query.join("&"))
}

#[cfg(test)]
mod tests {
    use super::redacted;

    #[test]
    fn the_password_is_hidden_and_the_rest_shown() {
        for (url, shown) in [
            (
                "postgres://app:s3cret@db:5432/st?sslmode=require",
                "postgres://app:***@db:5432/st?sslmode=require",
            ),
            ("postgres://app:p/a@ss@db/st", "postgres://app:***@db/st"),
            ("postgres://app@db/st", "postgres://app@db/st"),
            (
                "postgres://db/st?user=x&password=s3cret",
                "postgres://db/st?user=x&password=***",
            ),
            ("not a url", "not a url"),
        ] {
            assert_eq!(redacted(url), shown);
        }
    }
}
