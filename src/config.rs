//! Command line and configuration: every setting is a flag with a matching
//! environment variable, read once in `main` and passed down.

use std::path::PathBuf;

use clap::{ArgAction, Args, Parser, Subcommand};
use uuid::Uuid;

use crate::models::TextEnum;
use crate::models::api_token::{MAX_LIFETIME_DAYS, Scope};

/// strategy-tracker: the system of record for an association's strategic plan and
/// the progress staff record on it.
#[derive(Debug, Parser)]
#[command(name = "strategy-tracker", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub config: Config,
}

/// What to do; `serve` when none is given.
#[derive(Debug, Clone, Subcommand)]
pub enum Command {
    /// Apply pending database migrations, then serve the API (the default).
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Print the OpenAPI document and exit.
    Openapi,
    /// Create a plan from a file: a JSON plan document (*.json) or a plan outline in
    /// text or Markdown (anything else). Prints the import report as JSON.
    Import {
        /// The file to read.
        file: PathBuf,
        /// Read and check the file and report what it would create, writing nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// Print a plan as one JSON document, the shape `import` reads.
    Export {
        /// The plan's id.
        plan_id: Uuid,
    },
    /// Print a plan's tracking sheet: one row per goal with its latest status
    /// update and measures, as JSON or as CSV for a spreadsheet.
    Sheet {
        /// The plan's id.
        plan_id: Uuid,
        /// Print CSV (UTF-8 with a byte order mark) instead of JSON.
        #[arg(long)]
        csv: bool,
    },
    /// Status updates of a plan's goals.
    #[command(subcommand)]
    Updates(UpdatesCommand),
    /// API tokens: how the first admin token is made on a fresh install.
    #[command(subcommand)]
    Tokens(TokensCommand),
}

/// What to do with API tokens.
#[derive(Debug, Clone, Subcommand)]
pub enum TokensCommand {
    /// Create a token and print it: it is shown only this once.
    Create {
        /// Who or what will use it, such as "member portal"; recorded as the actor of
        /// every change made with it.
        #[arg(long)]
        name: String,
        /// What it may do: read (everything, drafts included), write (create, change,
        /// delete, import; includes read), admin (manage tokens). Repeat the flag or
        /// separate with commas: --scope read,write.
        #[arg(long = "scope", required = true, value_delimiter = ',', value_parser = parse_scope)]
        scopes: Vec<Scope>,
        /// How long it works, in days, such as 90d; until revoked when left out.
        #[arg(long, value_parser = parse_days)]
        expires_in: Option<i64>,
    },
    /// List every token, revoked ones included (never the tokens themselves).
    List,
    /// Revoke a token, by id or by the name of a token in use; it stops working at once.
    Revoke {
        /// The token's id, or its name.
        token: String,
    },
}

fn parse_scope(text: &str) -> Result<Scope, String> {
    Scope::parse(text.trim()).ok_or_else(|| format!("must be one of {}", Scope::VALUES.join(", ")))
}

/// `90d` (or `90`): a number of days, 1 to ten years.
fn parse_days(text: &str) -> Result<i64, String> {
    text.strip_suffix('d')
        .unwrap_or(text)
        .parse()
        .ok()
        .filter(|days| (1..=MAX_LIFETIME_DAYS).contains(days))
        .ok_or_else(|| {
            format!("must be a number of days from 1 to {MAX_LIFETIME_DAYS}, such as 90d")
        })
}

/// What to do with status updates.
#[derive(Debug, Clone, Subcommand)]
pub enum UpdatesCommand {
    /// Record a round of status updates from the plan's tracking sheet, edited: a
    /// CSV file, or a JSON array of sheet rows (*.json). Prints the report as JSON.
    Import {
        /// The plan's id.
        plan_id: Uuid,
        /// The file to read.
        file: PathBuf,
        /// Read and check the file and report what it would record, writing nothing.
        #[arg(long)]
        dry_run: bool,
    },
}

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
}
