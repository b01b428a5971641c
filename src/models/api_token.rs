//! API tokens: what a client shows to read drafts, change plans or manage tokens.
//! Each has a name (the actor of every change made with it), scopes, an optional
//! expiry and a last-used time, and can be revoked; revoked tokens stay listed so
//! that the names in the history keep meaning something.

pub mod secret;

use chrono::{DateTime, Duration, Utc};
use diesel::{
    BoolExpressionMethods, ExpressionMethods, OptionalExtension, QueryDsl, Queryable, Selectable,
    SelectableHelper,
};
use diesel_async::RunQueryDsl;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;
use uuid::Uuid;

use self::secret::{SecretDigest, TokenSecret};
use super::writer::Writer;
use super::{Conn, TextEnum};
use crate::error::ApiError;
use crate::models::validation::{self, FieldReader, input_body};
use crate::pagination::{Page, PageRequest};
use crate::schema::api_tokens;

/// Longest token name, in characters.
pub const NAME_LENGTH: usize = 100;
/// Longest lifetime a token can be given, in days (ten years).
pub const MAX_LIFETIME_DAYS: i64 = 3650;

text_enum! {
    /// What a token may do.
    Scope {
        /// Read everything, draft plans included.
        Read = "read",
        /// Create, change and delete plans and their contents, and import them; reading
        /// comes with it, as a change starts from what is there.
        Write = "write",
        /// Create, list and revoke tokens.
        Admin = "admin",
    }
}

/// A token as listed: never the token itself, which only its creator ever sees.
#[derive(Debug, Clone, Serialize, ToSchema, Queryable, Selectable)]
#[diesel(table_name = api_tokens, check_for_backend(diesel::pg::Pg))]
#[schema(example = json!({
    "id": "5f0c2a9e-3b1d-4c6e-9f7a-8b2c1d0e4f3a",
    "name": "member portal",
    "scopes": ["read"],
    "created_at": "2026-11-27T12:00:00Z",
    "expires_at": "2027-02-25T12:00:00Z",
    "last_used_at": "2026-11-27T12:05:00Z",
    "revoked_at": null
}))]
pub struct ApiToken {
    /// The token's id: how it is revoked, and the first part of the token after `stk_`.
    pub id: Uuid,
    /// Who or what uses the token; recorded as the actor of every change made with it.
    #[schema(min_length = 1, max_length = 100)]
    pub name: String,
    /// What the token may do.
    #[schema(min_items = 1, max_items = 3)]
    pub scopes: Vec<Scope>,
    /// When the token was created.
    pub created_at: DateTime<Utc>,
    /// When the token stops working; null if it does not expire.
    pub expires_at: Option<DateTime<Utc>>,
    /// When the token was last used, give or take a minute (each instance notes a use
    /// when it looks the token up, then trusts its cache for up to a minute); null if
    /// never.
    pub last_used_at: Option<DateTime<Utc>>,
    /// When the token was revoked; null while it is in use.
    pub revoked_at: Option<DateTime<Utc>>,
}

impl ApiToken {
    /// Whether the token may do what `scope` allows; `write` includes `read`.
    pub fn grants(&self, scope: Scope) -> bool {
        self.scopes.contains(&scope)
            || (scope == Scope::Read && self.scopes.contains(&Scope::Write))
    }
}

/// A token just created, with the token itself: shown this once, never stored.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedToken {
    #[serde(flatten)]
    pub record: ApiToken,
    /// The token, to send as `Authorization: Bearer <token>`. It is shown only in
    /// this response: the service keeps a hash of it, not the token.
    #[schema(min_length = 69, max_length = 69, pattern = "^stk_[A-Za-z0-9_-]{65}$")]
    pub token: String,
}

/// A token as checked on each request: its record and the digest of its secret.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = api_tokens, check_for_backend(diesel::pg::Pg))]
pub struct StoredToken {
    #[diesel(embed)]
    pub record: ApiToken,
    secret_sha256: Vec<u8>,
}

impl StoredToken {
    /// Whether `secret` is this token, compared in constant time.
    pub fn is_presented_by(&self, secret: &TokenSecret) -> bool {
        let stored: SecretDigest = self.secret_sha256.as_slice().try_into().unwrap_or_default();
        secret.matches(&stored)
    }
}

input_body! {
    /// The fields of a new token.
    #[derive(Debug, Clone, Deserialize, ToSchema)]
    #[schema(example = json!({"name": "member portal", "scopes": ["read"], "expires_in_days": 90}))]
    pub struct TokenInput {
        /// Who or what will use the token, such as `member portal` or `jane (sheet
        /// script)`: recorded as the actor of every change made with it. 1 to 100
        /// characters, not blank, and not the name of another token in use.
        #[schema(
            min_length = 1,
            max_length = 100,
            pattern = "^[^\\u0000]*[^\\s\\u0000][^\\u0000]*$"
        )]
        pub name: String,
        /// What the token may do: `read` (everything, drafts included), `write` (create,
        /// change, delete and import; includes `read`), `admin` (manage tokens). A scope
        /// listed twice counts once.
        #[schema(min_items = 1, max_items = 3)]
        pub scopes: Vec<Scope>,
        /// Days until the token stops working, 1 to 3650; left out or null, it works
        /// until revoked.
        #[schema(minimum = 1, maximum = 3650)]
        pub expires_in_days: Option<i64>,
    }
}

impl TokenInput {
    /// Reads a create body, naming every bad field.
    pub fn read(body: Value) -> Result<Self, ApiError> {
        let mut r = FieldReader::new(
            body,
            Self::FIELDS,
            &[
                ("id", "ids are assigned by the server"),
                ("token", "tokens are made by the server, at random"),
                (
                    "expires_at",
                    "send expires_in_days, the token's lifetime in days",
                ),
                (
                    "revoked_at",
                    "revoke a token with DELETE /api/v1/tokens/{token_id}",
                ),
            ],
        )?;
        let name = r.required("name", None, validation::title(NAME_LENGTH));
        let scopes = r.required("scopes", None, scopes);
        let expires_in_days = r.optional(
            "expires_in_days",
            None,
            validation::integer(1, MAX_LIFETIME_DAYS),
        );
        let input = match (name, scopes) {
            (Some(name), Some(scopes)) => Some(Self {
                name,
                scopes,
                expires_in_days,
            }),
            _ => None,
        };
        r.finish(input)
    }
}

/// One to three scopes.
fn scopes(value: &Value) -> Result<Vec<Scope>, String> {
    let rule = format!(
        "must be a list of one to three scopes from {}",
        Scope::VALUES.join(", ")
    );
    let Value::Array(items) = value else {
        return Err(rule);
    };
    if items.len() > Scope::VALUES.len() {
        return Err(rule);
    }
    let mut scopes = Vec::new();
    for item in items {
        let scope = validation::one_of::<Scope>(item)?;
        if !scopes.contains(&scope) {
            scopes.push(scope);
        }
    }
    if scopes.is_empty() {
        return Err(rule);
    }
    Ok(scopes)
}

/// Creates a token; the answer holds the token itself, which is stored nowhere.
pub async fn create(writer: &mut Writer<'_>, input: TokenInput) -> Result<CreatedToken, ApiError> {
    let secret = TokenSecret::generate()
        .map_err(|error| ApiError::Internal(format!("no randomness for a token: {error}")))?;
    let expires_at = input
        .expires_in_days
        .map(|days| Utc::now() + Duration::days(days));
    let record = writer
        .transaction(async |conn| {
            let inserted = diesel::insert_into(api_tokens::table)
                .values((
                    api_tokens::id.eq(secret.id),
                    api_tokens::name.eq(input.name.trim()),
                    api_tokens::scopes.eq(&input.scopes),
                    api_tokens::secret_sha256.eq(secret.digest().as_slice()),
                    api_tokens::expires_at.eq(expires_at),
                ))
                .returning(ApiToken::as_returning())
                .get_result(conn)
                .await?;
            Ok(inserted)
        })
        .await?;
    Ok(CreatedToken {
        record,
        token: secret.to_string(),
    })
}

/// The position of a token in the list: newest first.
#[derive(Serialize, Deserialize)]
struct TokenKey(DateTime<Utc>, Uuid);

/// Every token, revoked ones included, newest first.
pub async fn list(conn: &mut Conn, page: &PageRequest) -> Result<Page<ApiToken>, ApiError> {
    let mut query = api_tokens::table.select(ApiToken::as_select()).into_boxed();
    if let Some(TokenKey(created_at, id)) = page.after()? {
        query = query.filter(
            api_tokens::created_at
                .lt(created_at)
                .or(api_tokens::created_at
                    .eq(created_at)
                    .and(api_tokens::id.lt(id))),
        );
    }
    let rows = query
        .order_by((api_tokens::created_at.desc(), api_tokens::id.desc()))
        .limit(page.fetch_limit())
        .load(conn)
        .await?;
    Ok(page.page(rows, |token| TokenKey(token.created_at, token.id)))
}

/// One token's record.
pub async fn get(conn: &mut Conn, id: Uuid) -> Result<ApiToken, ApiError> {
    api_tokens::table
        .find(id)
        .select(ApiToken::as_select())
        .first(conn)
        .await
        .optional()?
        .ok_or_else(|| ApiError::not_found("token", id))
}

/// The token in use named `name`, for the command line's `tokens revoke NAME`.
pub async fn find_in_use_by_name(conn: &mut Conn, name: &str) -> Result<ApiToken, ApiError> {
    api_tokens::table
        .filter(api_tokens::name.eq(name))
        .filter(api_tokens::revoked_at.is_null())
        .select(ApiToken::as_select())
        .first(conn)
        .await
        .optional()?
        .ok_or_else(|| ApiError::NotFound(format!("no token in use is named {name:?}")))
}

/// Revokes a token, at once on every instance (see the migration's trigger).
/// Revoking a revoked token changes nothing.
pub async fn revoke(writer: &mut Writer<'_>, id: Uuid) -> Result<ApiToken, ApiError> {
    writer
        .transaction(async |conn| {
            diesel::update(api_tokens::table.find(id))
                .set(api_tokens::revoked_at.eq(diesel::dsl::sql::<
                    diesel::sql_types::Nullable<diesel::sql_types::Timestamptz>,
                >("coalesce(revoked_at, now())")))
                .returning(ApiToken::as_returning())
                .get_result(conn)
                .await
                .optional()?
                .ok_or_else(|| ApiError::not_found("token", id))
        })
        .await
}

/// The stored token with this id, if there is one, to check a presented token against.
pub async fn find(conn: &mut Conn, id: Uuid) -> Result<Option<StoredToken>, ApiError> {
    Ok(api_tokens::table
        .find(id)
        .select(StoredToken::as_select())
        .first(conn)
        .await
        .optional()?)
}

/// Notes that the token was just used.
pub async fn mark_used(conn: &mut Conn, id: Uuid) -> Result<(), ApiError> {
    diesel::update(api_tokens::table.find(id))
        .set(api_tokens::last_used_at.eq(Utc::now()))
        .execute(conn)
        .await?;
    Ok(())
}
