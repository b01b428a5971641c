//! The command line: `strategy-tracker [COMMAND]`, serving the API by default. The
//! other commands run the same domain code as the routes, against the database
//! directly: imports and exports of plan files ([`plan_files`]) and API tokens
//! ([`token_commands`]), which is how the first admin token is made.

mod plan_files;
mod token_commands;

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use uuid::Uuid;

use crate::config::Config;
use crate::models::TextEnum;
use crate::models::api_token::{MAX_LIFETIME_DAYS, Scope};
use crate::{db, logging, openapi, shutdown, startup};

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

/// Parses the command line, sets up logging and runs the command; the exit code
/// says whether it worked (its error is logged).
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    logging::init(cli.config.log_format);
    // A setting that cannot be used is a usage error, as clap's own: exit status 2.
    let config = match cli.config.read_secret_files() {
        Ok(config) => config,
        Err(message) => {
            log::error!("{message}");
            return ExitCode::from(2);
        }
    };
    let outcome = match cli.command.unwrap_or(Command::Serve) {
        Command::Openapi => {
            print!("{}", openapi::to_json(&openapi::document()));
            Ok(())
        }
        Command::Migrate => db::Connector::from_config(&config)
            .map_err(db::SetupError::from)
            .and_then(|connector| db::prepare(&connector)),
        Command::Serve => serve(&config),
        Command::Import { file, dry_run } => plan_files::import(&config, &file, dry_run),
        Command::Export { plan_id } => plan_files::export(&config, plan_id),
        Command::Sheet { plan_id, csv } => plan_files::sheet(&config, plan_id, csv),
        Command::Updates(UpdatesCommand::Import {
            plan_id,
            file,
            dry_run,
        }) => plan_files::import_updates(&config, plan_id, &file, dry_run),
        Command::Tokens(TokensCommand::Create {
            name,
            scopes,
            expires_in,
        }) => token_commands::create(&config, name, scopes, expires_in),
        Command::Tokens(TokensCommand::List) => token_commands::list(&config),
        Command::Tokens(TokensCommand::Revoke { token }) => token_commands::revoke(&config, &token),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            log::error!("{error}");
            ExitCode::FAILURE
        }
    }
}

/// Migrates the database, then serves the API until a signal stops it.
fn serve(config: &Config) -> Result<(), db::SetupError> {
    let connector = db::Connector::from_config(config)?;
    db::prepare(&connector).map_err(|error| format!("cannot prepare the database: {error}"))?;
    let listener = TcpListener::bind(&config.listen_addr)
        .map_err(|error| format!("cannot listen on {}: {error}", config.listen_addr))?;
    let address = listener.local_addr()?;
    actix_web::rt::System::new().block_on(async {
        let (server, stopping) = startup::run(listener, config)?;
        actix_web::rt::spawn(shutdown::on_signal(server.handle(), stopping));
        log::info!("serving on http://{address}");
        server.await
    })?;
    Ok(())
}
