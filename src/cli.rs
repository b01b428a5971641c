//! The command line: `strategy-tracker [COMMAND]`, serving the API by default. The
//! other commands run the same domain code as the routes, against the database
//! directly: imports and exports of plan files ([`plan_files`]) and API tokens
//! ([`token_commands`]), which is how the first admin token is made, and the
//! container's health check ([`healthcheck`]).

mod healthcheck;
mod plan_files;
mod token_commands;

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::error::{ContextKind, ContextValue};
use clap::{CommandFactory, Parser, Subcommand};
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
    /// Apply pending database migrations (unless MIGRATE_ON_START is false), then
    /// serve the API (the default).
    Serve,
    /// Apply pending database migrations and exit. Instances migrating at once take
    /// turns, so each migration is applied once.
    Migrate {
        /// Apply nothing: list the pending migrations on standard output and exit
        /// with status 1 if there are any (0 if there are none), for a deploy
        /// pipeline.
        #[arg(long)]
        check: bool,
    },
    /// Exit with status 0 if the service answers 200 on /readyz within a few
    /// seconds, non-zero otherwise: a container's HEALTHCHECK, with no curl needed.
    Healthcheck {
        /// The URL to ask, such as http://127.0.0.1:8080/readyz (plain HTTP; /readyz
        /// when it has no path). By default, LISTEN_ADDR's (127.0.0.1 for 0.0.0.0).
        #[arg(long)]
        url: Option<String>,
    },
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

/// Parses the command line and checks the settings, sets up logging and runs the
/// command; the exit code says whether it worked (its error is logged). Invalid
/// settings exit with status 2, as clap does for a bad command line, before
/// anything touches the database.
pub fn main() -> ExitCode {
    let cli = match parse() {
        Ok(cli) => cli,
        Err(exit) => return exit,
    };
    logging::init(cli.config.log_format);
    let exit = run(cli);
    logging::flush();
    exit
}

/// Runs the command line's command, once the logger is installed.
fn run(cli: Cli) -> ExitCode {
    // A setting that cannot be used is a usage error, as clap's own: exit status 2.
    let config = match cli.config.read_secret_files() {
        Ok(config) => config,
        Err(message) => {
            log::error!("{message}");
            return ExitCode::from(INVALID_SETTING);
        }
    };
    let outcome = match cli.command.unwrap_or(Command::Serve) {
        Command::Openapi => {
            print!("{}", openapi::to_json(&openapi::document()));
            Ok(())
        }
        Command::Migrate { check: false } => db::Connector::from_config(&config)
            .map_err(db::SetupError::from)
            .and_then(|connector| db::prepare(&connector)),
        Command::Migrate { check: true } => check_migrations(&config),
        Command::Healthcheck { url } => healthcheck::check(&config, url.as_deref()),
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

/// The exit status of an invalid setting, the same as clap's for a bad command line.
const INVALID_SETTING: u8 = 2;

/// The command line and settings, or the exit code after saying what is wrong:
/// an invalid setting in one line that names its environment variable (what an
/// operator sets), with no `--help` hint after it.
fn parse() -> Result<Cli, ExitCode> {
    let cli = Cli::try_parse().map_err(|error| match invalid_setting(&error) {
        Some(line) => {
            eprintln!("{line}");
            ExitCode::from(INVALID_SETTING)
        }
        // Help, the version, a wrong subcommand or argument: as clap says it.
        None => {
            // Nothing more can be said if the terminal is gone.
            let _ = error.print();
            ExitCode::from(u8::try_from(error.exit_code()).unwrap_or(INVALID_SETTING))
        }
    })?;
    cli.config.check().map_err(|rule| {
        eprintln!("error: {rule}");
        ExitCode::from(INVALID_SETTING)
    })?;
    Ok(cli)
}

/// clap's first line for a setting's invalid value (`error: invalid value '0' for
/// '--workers <WORKERS>': ...`), naming the setting by its environment variable
/// and flag instead; `None` for errors that are not about a setting's value.
fn invalid_setting(error: &clap::Error) -> Option<String> {
    let Some(ContextValue::String(argument)) = error.get(ContextKind::InvalidArg) else {
        return None;
    };
    let long = argument.strip_prefix("--")?.split([' ', '=', '[']).next()?;
    let command = Cli::command();
    let setting = command
        .get_arguments()
        .find(|arg| arg.get_long() == Some(long))?
        .get_env()?
        .to_str()?
        .to_owned();
    let rendered = error.render().to_string();
    let line = rendered.lines().next()?;
    let line = line.replace(&format!("'{argument}'"), &format!("{setting} (--{long})"));
    // The rule of a setting with a few values is clap's next line: kept on this one.
    Some(
        match rendered
            .lines()
            .find_map(|l| l.trim().strip_prefix("[possible values: "))
        {
            Some(values) => format!("{line}: must be one of {}", values.trim_end_matches(']')),
            None => line,
        },
    )
}

/// `migrate --check`: the pending migrations on standard output, and an error
/// (exit status 1) if there are any.
fn check_migrations(config: &Config) -> Result<(), db::SetupError> {
    let pending = db::pending(&db::Connector::from_config(config)?)?;
    if pending.is_empty() {
        log::info!("no migrations are pending");
        return Ok(());
    }
    for name in &pending {
        println!("{name}");
    }
    Err(pending_error(&pending).into())
}

fn pending_error(pending: &[String]) -> String {
    format!(
        "{} migrations are pending ({}): apply them with `strategy-tracker migrate`",
        pending.len(),
        pending.join(", ")
    )
}

/// Migrates the database (or, with MIGRATE_ON_START=false, checks that nothing is
/// pending), then serves the API until a signal stops it.
fn serve(config: &Config) -> Result<(), db::SetupError> {
    let connector = db::Connector::from_config(config)?;
    if config.migrate_on_start {
        db::prepare(&connector).map_err(|error| format!("cannot prepare the database: {error}"))?;
    } else {
        let pending = db::pending(&connector)
            .map_err(|error| format!("cannot check the database's migrations: {error}"))?;
        if !pending.is_empty() {
            return Err(format!(
                "{}, or set MIGRATE_ON_START=true; not serving an outdated schema",
                pending_error(&pending)
            )
            .into());
        }
    }
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
