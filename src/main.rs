use std::net::TcpListener;
use std::process::ExitCode;

use clap::Parser;
use strategy_tracker::config::{Cli, Command, Config, TokensCommand, UpdatesCommand};
use strategy_tracker::{db, openapi, plan_files, shutdown, startup, token_commands};

fn main() -> ExitCode {
    let cli = Cli::parse();
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info")).init();
    let outcome = match cli.command.unwrap_or(Command::Serve) {
        Command::Openapi => {
            print!("{}", openapi::to_json(&openapi::document()));
            Ok(())
        }
        Command::Migrate => db::prepare(&cli.config.database_url),
        Command::Serve => serve(&cli.config),
        Command::Import { file, dry_run } => plan_files::import(&cli.config, &file, dry_run),
        Command::Export { plan_id } => plan_files::export(&cli.config, plan_id),
        Command::Sheet { plan_id, csv } => plan_files::sheet(&cli.config, plan_id, csv),
        Command::Updates(UpdatesCommand::Import {
            plan_id,
            file,
            dry_run,
        }) => plan_files::import_updates(&cli.config, plan_id, &file, dry_run),
        Command::Tokens(TokensCommand::Create {
            name,
            scopes,
            expires_in,
        }) => token_commands::create(&cli.config, name, scopes, expires_in),
        Command::Tokens(TokensCommand::List) => token_commands::list(&cli.config),
        Command::Tokens(TokensCommand::Revoke { token }) => {
            token_commands::revoke(&cli.config, &token)
        }
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            log::error!("{error}");
            ExitCode::FAILURE
        }
    }
}

fn serve(config: &Config) -> Result<(), db::SetupError> {
    db::prepare(&config.database_url)
        .map_err(|error| format!("cannot prepare the database: {error}"))?;
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
