//! Command line and configuration: every setting is a flag with a matching
//! environment variable, read once in `main` and passed down.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use uuid::Uuid;

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

    /// HTTP worker threads; one per CPU core when not set.
    #[arg(long, env = "WORKERS", global = true)]
    pub workers: Option<usize>,
}
