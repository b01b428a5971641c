//! `strategy-tracker tokens create|list|revoke`: API tokens from the command line,
//! which is how the first admin token is made on a fresh install. Whoever can run
//! the service's command against its database already has every power a token
//! could give.

use uuid::Uuid;

use super::plan_files::on_database;
use crate::config::Config;
use crate::db::SetupError;
use crate::models::TextEnum;
use crate::models::api_token::{self, ApiToken, Scope, TokenInput};
use crate::pagination::PageRequest;

/// Creates a token and prints it alone on standard output, so that a script can
/// capture it (`TOKEN=$(strategy-tracker tokens create ...)`); what it is goes to
/// standard error.
pub fn create(
    config: &Config,
    name: String,
    scopes: Vec<Scope>,
    expires_in_days: Option<i64>,
) -> Result<(), SetupError> {
    // Read as the API reads a body, so that both tell the same mistakes the same way.
    let body = serde_json::json!({
        "name": name,
        "scopes": scopes,
        "expires_in_days": expires_in_days,
    });
    let created = on_database(config, async |writer| {
        api_token::create(writer, TokenInput::read(body)?).await
    })?;
    let record = &created.record;
    eprintln!(
        "Created token \"{}\" ({}) with scopes {}, {}. It is shown only now: keep it where its user keeps secrets.",
        record.name,
        record.id,
        scope_list(record),
        record.expires_at.map_or_else(
            || "until revoked".to_owned(),
            |expiry| format!("until {}", expiry.format("%Y-%m-%d %H:%M UTC"))
        ),
    );
    println!("{}", created.token);
    Ok(())
}

/// Prints every token as a table, newest first.
pub fn list(config: &Config) -> Result<(), SetupError> {
    let tokens = on_database(config, async |writer| {
        let mut all = Vec::new();
        let mut page = PageRequest::new(None, None)?;
        loop {
            let found = api_token::list(writer.reader(), &page).await?;
            all.extend(found.items);
            match found.next_cursor {
                Some(cursor) => page = PageRequest::new(None, Some(cursor))?,
                None => return Ok(all),
            }
        }
    })?;
    let when = |time: Option<chrono::DateTime<chrono::Utc>>| {
        time.map_or_else(
            || "-".to_owned(),
            |time| time.format("%Y-%m-%d %H:%M").to_string(),
        )
    };
    println!(
        "{:<36}  {:<24}  {:<16}  {:<16}  {:<16}  {:<16}  REVOKED",
        "ID", "NAME", "SCOPES", "CREATED", "EXPIRES", "LAST USED"
    );
    for token in &tokens {
        println!(
            "{:<36}  {:<24}  {:<16}  {:<16}  {:<16}  {:<16}  {}",
            token.id,
            token.name,
            scope_list(token),
            when(Some(token.created_at)),
            when(token.expires_at),
            when(token.last_used_at),
            when(token.revoked_at),
        );
    }
    Ok(())
}

/// Revokes the token with this id, or the token in use with this name.
pub fn revoke(config: &Config, token: &str) -> Result<(), SetupError> {
    let revoked = on_database(config, async |writer| {
        let id = match Uuid::try_parse(token) {
            Ok(id) => id,
            Err(_) => {
                api_token::find_in_use_by_name(writer.reader(), token.trim())
                    .await?
                    .id
            }
        };
        api_token::revoke(writer, id).await
    })?;
    eprintln!(
        "Revoked token \"{}\" ({}); it no longer works.",
        revoked.name, revoked.id
    );
    Ok(())
}

fn scope_list(token: &ApiToken) -> String {
    let names: Vec<&str> = token.scopes.iter().map(|scope| scope.as_str()).collect();
    names.join(",")
}
