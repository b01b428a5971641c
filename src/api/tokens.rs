//! `/api/v1/tokens` and `/api/v1/tokens/{token_id}`: API tokens, managed with an
//! admin token. The first admin token is made on the command line
//! (`strategy-tracker tokens create`).

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, delete, get, post, web};
use serde_json::Value;
use uuid::Uuid;

use super::connection::{ReadConn, WriteConn};
use super::extract::QueryParams;
use super::middleware::access::TokenCache;
use super::middleware::conditional::IfMatch;
use super::{PageParams, created, delete_item, list_body, page_response};
use crate::error::ApiError;
use crate::models::TextEnum;
use crate::models::api_token::{self, ApiToken, CreatedToken, TokenInput};

list_body!(TokenList, ApiToken, "tokens");

/// Where tokens are listed and created.
pub const TOKENS_PATH: &str = "/api/v1/tokens";

/// List API tokens
///
/// Every token, revoked ones included, newest first; never the tokens themselves.
#[utoipa::path(
    security(("bearer" = ["admin"])),
    tag = "tokens",
    params(PageParams),
    responses((status = 200, description = "A page of tokens", body = TokenList,
        headers(("Link" = String, description = "The next page, as `<url>; rel=\"next\"`, when there is one"))))
)]
#[get("/tokens")]
pub async fn list_tokens(
    request: HttpRequest,
    QueryParams(params): QueryParams<PageParams>,
    mut conn: ReadConn,
) -> Result<HttpResponse, ApiError> {
    let page = params.page()?;
    let tokens = api_token::list(&mut conn, &page).await?;
    Ok(page_response(&request, tokens))
}

/// Create an API token
///
/// The answer holds the token itself, shown this once: the service keeps only a
/// hash of it. Store it where its user keeps secrets.
#[utoipa::path(
    security(("bearer" = ["admin"])),
    tag = "tokens",
    request_body = TokenInput,
    responses((status = 201, description = "The token was created; `token` is the token itself", body = CreatedToken,
        headers(
            ("Location" = String, description = "The new token's address"),
            ("Cache-Control" = String, description = "`no-store`: the answer holds a secret")
        )))
)]
#[post("/tokens")]
pub async fn create_token(
    body: web::Json<Value>,
    mut conn: WriteConn,
) -> Result<HttpResponse, ApiError> {
    let input = TokenInput::read(body.into_inner())?;
    let token = api_token::create(&mut conn.writer(None).await?, input).await?;
    // For the operators' audit trail, beside the access line that names who made it.
    let scopes: Vec<&str> = token
        .record
        .scopes
        .iter()
        .map(|scope| scope.as_str())
        .collect();
    log::info!(
        api_token_id:% = token.record.id,
        api_token_name = token.record.name.as_str(),
        scopes = scopes.join(",").as_str();
        "API token created"
    );
    let mut response = created(format!("/api/v1/tokens/{}", token.record.id), &token);
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-store"),
    );
    Ok(response)
}

/// Get an API token
///
/// The token's record: its name, scopes, expiry, last use and revocation; never the
/// token itself.
#[utoipa::path(
    security(("bearer" = ["admin"])),
    tag = "tokens",
    params(("token_id" = Uuid, Path, description = "The token's id")),
    responses((status = 200, description = "The token's record", body = ApiToken))
)]
#[get("/tokens/{token_id}")]
pub async fn get_token(
    token_id: web::Path<Uuid>,
    mut conn: ReadConn,
) -> Result<HttpResponse, ApiError> {
    let token = api_token::get(&mut conn, *token_id).await?;
    Ok(HttpResponse::Ok().json(token))
}

/// Revoke an API token
///
/// The token stops working at once, on every instance. Its record stays, with
/// `revoked_at`, so that the changes made with it still name a known token.
/// Revoking a revoked token changes nothing.
#[utoipa::path(
    security(("bearer" = ["admin"])),
    tag = "tokens",
    params(("token_id" = Uuid, Path, description = "The token's id")),
    responses((status = 204, description = "The token is revoked"))
)]
#[delete("/tokens/{token_id}")]
pub async fn revoke_token(
    cache: web::Data<TokenCache>,
    if_match: IfMatch,
    token_id: web::Path<Uuid>,
    conn: WriteConn,
) -> Result<HttpResponse, ApiError> {
    let id = *token_id;
    let response = delete_item(
        conn,
        &if_match,
        async |conn| api_token::get(conn, id).await,
        async |writer| api_token::revoke(writer, id).await.map(drop),
    )
    .await?;
    // Other instances hear of it from the database; this one does not wait to.
    cache.clear();
    log::info!(api_token_id:% = id; "API token revoked");
    Ok(response)
}
