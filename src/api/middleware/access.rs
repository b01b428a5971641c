//! Who is calling and what they may do. Every operation of the OpenAPI document
//! declares its security (the handlers' `security(...)`), and this middleware
//! enforces exactly that, so the document cannot promise what the service does not
//! do, and a route without a declared scope cannot start:
//!
//! - `security(())`: anyone (health checks, the document itself);
//! - `security((), ("bearer" = ["read"]))`: anyone may read what is not a draft
//!   (unless public reading is off); drafts need `read`, and without it are a 404,
//!   as if they did not exist;
//! - `security(("bearer" = [scope]))`: a token with that scope.
//!
//! No token where one is needed, or one that does not work, is a 401 with a
//! `WWW-Authenticate: Bearer` challenge; a working token without the scope a 403
//! naming it. Each request also counts against its rate limit here.

mod token_check;

use std::future::{Ready, ready};
use std::sync::Arc;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::http::header::{AUTHORIZATION, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{FromRequest, HttpMessage, HttpRequest, web};
use uuid::Uuid;

pub use self::token_check::TokenCache;
use super::client_address;
use super::rate_limit::{Client, RateLimiter};
use crate::api::connection::{pool_of, pooled};
use crate::api::route_table::{Operation, RouteTable, parameter};
use crate::error::ApiError;
use crate::models::api_token::secret::{LENGTH, PREFIX, TokenSecret, is_token_byte};
use crate::models::api_token::{Scope, StoredToken};
use crate::models::plan::{self, Contained};
use crate::models::{PlanStatus, TextEnum};

/// What an operation asks of its caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    Anyone,
    /// Anyone may read what is not a draft; drafts need `read`.
    PublicRead,
    Needs(Scope),
}

impl Rule {
    /// The rule an operation's `security` declares, or `None` if it declares none
    /// this service knows (which stops the service from starting).
    pub fn declared(security: &serde_json::Value) -> Option<Self> {
        let requirements = security.as_array()?;
        let scopes: Vec<Option<Scope>> = requirements
            .iter()
            .map(|requirement| {
                let scheme = requirement.as_object()?.get("bearer")?.as_array()?;
                match scheme.as_slice() {
                    [scope] => scope.as_str().and_then(Scope::parse),
                    _ => None,
                }
            })
            .collect();
        let anyone = requirements
            .iter()
            .any(|requirement| requirement.as_object().is_some_and(|r| r.is_empty()));
        match (anyone, scopes.as_slice()) {
            (true, [None]) => Some(Self::Anyone),
            (true, [None, Some(Scope::Read)]) => Some(Self::PublicRead),
            (false, [Some(scope)]) => Some(Self::Needs(*scope)),
            _ => None,
        }
    }
}

/// Public reads whose handlers hide drafts themselves, for callers without `read`,
/// in a read they make anyway: the goal in the query that reads it, the document
/// and the sheet from their plan's row (or their cached copy, which is of the
/// plan's current version). Asking the plan's status first would be one more
/// query; a path listed here that is not a public read stops the service.
const HIDING_DRAFTS_THEMSELVES: &[&str] = &[
    "/api/v1/goals/{goal_id}",
    "/api/v1/plans/{plan_id}/document",
    "/api/v1/plans/{plan_id}/tracking-sheet",
];

/// The rules of every operation, the token cache and the rate limits.
pub struct AccessControl {
    routes: Arc<RouteTable>,
    /// Each operation's rule, in the order of `routes.operations()`.
    rules: Vec<Rule>,
    /// Whether each operation's handler hides drafts itself, in the same order.
    hides_drafts: Vec<bool>,
    public_reading: bool,
    tokens: Arc<TokenCache>,
    limiter: RateLimiter,
}

impl AccessControl {
    /// Reads every operation's rule from the route table; an error names an
    /// operation that declares no rule this service knows.
    pub fn new(
        routes: Arc<RouteTable>,
        public_reading: bool,
        tokens: Arc<TokenCache>,
        limiter: RateLimiter,
    ) -> Result<Self, String> {
        let rules: Vec<Rule> = routes
            .operations()
            .iter()
            .map(rule_of)
            .collect::<Result<_, _>>()?;
        let hides_drafts: Vec<bool> = routes
            .operations()
            .iter()
            .map(|operation| {
                operation.method == Method::GET
                    && HIDING_DRAFTS_THEMSELVES.contains(&operation.pattern.as_str())
            })
            .collect();
        let public = |at: usize| rules[at] == Rule::PublicRead;
        for path in HIDING_DRAFTS_THEMSELVES {
            if !(0..rules.len()).any(|at| hides_drafts[at] && public(at)) {
                return Err(format!(
                    "GET {path} is said to hide drafts itself (access::HIDING_DRAFTS_THEMSELVES), but is no public read"
                ));
            }
        }
        Ok(Self {
            routes,
            rules,
            hides_drafts,
            public_reading,
            tokens,
            limiter,
        })
    }

    /// The rate limits, for the metrics to count their refusals.
    pub fn limiter(&self) -> &RateLimiter {
        &self.limiter
    }

    /// The rule and pattern of the operation a request is for, and whether its
    /// handler hides drafts itself.
    fn operation(&self, method: &Method, path: &str) -> Option<(Rule, &str, bool)> {
        let (index, operation) = self.routes.operation(method, path)?;
        Some((
            self.rules[index],
            operation.pattern.as_str(),
            self.hides_drafts[index],
        ))
    }
}

/// The operation's declared rule, checked for what the service can enforce.
fn rule_of(operation: &Operation) -> Result<Rule, String> {
    let (method, path) = (&operation.method, &operation.pattern);
    let rule = Rule::declared(&operation.security).ok_or_else(|| {
        format!("{method} {path} declares no access rule: give its #[utoipa::path] a security(...)")
    })?;
    // Drafts are hidden by the path's first id, so a public route's must name
    // something that belongs to a plan.
    if rule == Rule::PublicRead
        && let Some(name) = path.split('/').find_map(parameter)
        && contained(name, Uuid::nil()).is_none()
    {
        return Err(format!(
            "{method} {path} is public, but drafts cannot be hidden behind its {{{name}}}: say in access::contained what it names"
        ));
    }
    Ok(rule)
}

/// The caller of a request, as the access check found it.
#[derive(Debug, Clone, Default)]
pub struct Access {
    token: Option<Arc<StoredToken>>,
}

impl Access {
    /// Who changes are recorded as made by: the token's name.
    pub fn actor(&self) -> &str {
        self.token
            .as_ref()
            .map_or("anonymous", |token| token.record.name.as_str())
    }

    /// The token's id, which idempotency keys belong to.
    pub fn token_id(&self) -> Option<Uuid> {
        self.token.as_ref().map(|token| token.record.id)
    }

    /// Whether draft plans are visible to the caller.
    pub fn reads_drafts(&self) -> bool {
        self.has(Scope::Read)
    }

    fn has(&self, scope: Scope) -> bool {
        self.token
            .as_ref()
            .is_some_and(|token| token.record.grants(scope))
    }
}

impl FromRequest for Access {
    type Error = actix_web::Error;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(request: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(Ok(request
            .extensions()
            .get::<Self>()
            .cloned()
            .unwrap_or_default()))
    }
}

/// Middleware: see the module documentation.
pub async fn check_access(
    request: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    if let Err(error) = refuse_token_in_query(request.query_string()) {
        return Ok(request.error_response(error));
    }
    let control = request
        .app_data::<web::Data<AccessControl>>()
        .expect("the app has its access control")
        .clone();
    // The path as the router will see it, percent-encoding decoded: `/api/v1/%74okens`
    // must meet the rule of `/api/v1/tokens`, and `%30...` the draft check of an id.
    let path = request.match_info().as_str().to_owned();
    // Health checks, the document, Swagger UI and unknown paths are for anyone.
    let Some((rule, pattern, hides_drafts)) = control
        .operation(request.method(), &path)
        .filter(|(rule, _, _)| *rule != Rule::Anyone)
    else {
        return Ok(next.call(request).await?.map_into_boxed_body());
    };
    let identified = identify(&request, &control.tokens).await;
    let client = match &identified {
        Ok(Some(token)) => Client::Token(token.record.id),
        _ => Client::Address(client_address::of(&request)),
    };
    let allowance = control.limiter.take(client);
    let admitted = match (
        allowance.and_then(|allowance| allowance.refused_for),
        identified,
    ) {
        (Some(retry_after), _) => Err(ApiError::TooManyRequests { retry_after }),
        (None, Err(error)) => Err(error),
        (None, Ok(token)) => {
            let route = Route {
                pattern,
                path: &path,
                hides_drafts,
            };
            admit(&control, &request, route, rule, Access { token }).await
        }
    };
    let mut response = match admitted {
        Ok(access) => {
            request.extensions_mut().insert(access);
            next.call(request).await?.map_into_boxed_body()
        }
        Err(error) => request.error_response(error),
    };
    if let Some(allowance) = allowance {
        allowance.add_headers(response.headers_mut());
    }
    Ok(response)
}

/// The operation a request is for, as the access check looked it up.
struct Route<'a> {
    pattern: &'a str,
    path: &'a str,
    /// Whether the handler hides drafts itself ([`HIDING_DRAFTS_THEMSELVES`]).
    hides_drafts: bool,
}

/// Lets the caller through if the rule allows it, hiding drafts from those
/// without `read` (unless the handler does).
async fn admit(
    control: &AccessControl,
    request: &ServiceRequest,
    route: Route<'_>,
    rule: Rule,
    access: Access,
) -> Result<Access, ApiError> {
    let needed = match rule {
        Rule::Anyone => None,
        Rule::PublicRead if control.public_reading => None,
        Rule::PublicRead => Some(Scope::Read),
        Rule::Needs(scope) => Some(scope),
    };
    if let Some(scope) = needed {
        if access.token.is_none() {
            return Err(ApiError::Unauthorized {
                error: None,
                detail: format!(
                    "this needs an API token with the {} scope, sent as Authorization: Bearer <token> (with curl: -H \"Authorization: Bearer $TOKEN\")",
                    scope.as_str()
                ),
            });
        }
        if !access.has(scope) {
            return Err(ApiError::Forbidden {
                scope: scope.as_str(),
            });
        }
    }
    if rule == Rule::PublicRead && !access.reads_drafts() && !route.hides_drafts {
        hide_drafts(request, route.pattern, route.path).await?;
    }
    Ok(access)
}

/// The token the request presents, if any, checked.
async fn identify(
    request: &ServiceRequest,
    tokens: &TokenCache,
) -> Result<Option<Arc<StoredToken>>, ApiError> {
    let mut values = request.headers().get_all(AUTHORIZATION);
    let Some(value) = values.next() else {
        return Ok(None);
    };
    if values.next().is_some() {
        return Err(malformed("send one Authorization header, not several"));
    }
    let secret = bearer_token(value)?;
    let pool = pool_of(request.request());
    tokens
        .check(&secret, async || pooled(&pool).await)
        .await
        .map(Some)
}

/// The token of an `Authorization: Bearer <token>` header.
fn bearer_token(value: &HeaderValue) -> Result<TokenSecret, ApiError> {
    let text = value
        .to_str()
        .map_err(|_| malformed("the Authorization header must be ASCII: Bearer <token>"))?;
    let (scheme, token) = text.trim().split_once(' ').unwrap_or((text.trim(), ""));
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(malformed(
            "the Authorization header must be Bearer <token> (with curl: -H \"Authorization: Bearer $TOKEN\"); no other scheme is accepted",
        ));
    }
    if token.trim().is_empty() {
        return Err(malformed(
            "the Authorization header has no token after Bearer; is the variable that should hold it empty?",
        ));
    }
    TokenSecret::parse(token.trim()).map_err(|why| ApiError::Unauthorized {
        error: Some("invalid_token"),
        detail: why.to_owned(),
    })
}

fn malformed(detail: &str) -> ApiError {
    ApiError::Unauthorized {
        error: Some("invalid_request"),
        detail: detail.to_owned(),
    }
}

/// Tokens in URLs end up in logs, browser histories and proxies: a query with one
/// (or with RFC 6750's `access_token`) is refused, before anything else.
fn refuse_token_in_query(query: &str) -> Result<(), ApiError> {
    // Decoded as the handlers decode it, so that `stk%5F...` is a token too.
    let pairs = web::Query::<Vec<(String, String)>>::from_query(query)
        .map(web::Query::into_inner)
        .unwrap_or_default();
    match pairs
        .iter()
        .find(|(name, value)| name == "access_token" || holds_token(value))
    {
        Some((name, _)) => Err(ApiError::bad_parameter(
            name.as_str(),
            "API tokens are not accepted in the URL, where logs and browser histories keep them: send the token in the Authorization header (with curl: -H \"Authorization: Bearer $TOKEN\"), and as this one has been in a URL, consider revoking it and using a new one",
        )),
        None => Ok(()),
    }
}

/// Whether `text` has something shaped like a token in it.
fn holds_token(text: &str) -> bool {
    text.match_indices(PREFIX).any(|(at, _)| {
        let rest = &text.as_bytes()[at + PREFIX.len()..];
        rest.len() >= LENGTH - PREFIX.len()
            && rest[..LENGTH - PREFIX.len()]
                .iter()
                .all(|byte| is_token_byte(*byte))
    })
}

/// A 404 for a path into a draft plan, the same a missing id gets, so that a draft's
/// existence is not revealed. Ids that are not UUIDs or name nothing are left to
/// the handler, which answers them the same way.
async fn hide_drafts(request: &ServiceRequest, pattern: &str, path: &str) -> Result<(), ApiError> {
    let Some((name, id)) = first_path_id(pattern, path) else {
        return Ok(());
    };
    let Some((item, kind)) = contained(name, id) else {
        return Ok(());
    };
    let pool = pool_of(request.request());
    let status = plan::status_containing(&mut *pooled(&pool).await?, item).await?;
    match status {
        Some(PlanStatus::Draft) => Err(ApiError::not_found(kind, id)),
        _ => Ok(()),
    }
}

/// The first id in a path and the name the pattern gives it:
/// `/api/v1/goals/{goal_id}/measures` gives `goal_id`. `None` if the pattern has no
/// id, or the path's is not a UUID (the handler answers that with its 404).
fn first_path_id<'a>(pattern: &'a str, path: &str) -> Option<(&'a str, Uuid)> {
    let (name, text) = pattern
        .split('/')
        .zip(path.split('/'))
        .find_map(|(part, text)| Some((parameter(part)?, text)))?;
    Some((name, Uuid::try_parse(text).ok()?))
}

/// What a path id names, and how its 404 calls it.
fn contained(name: &str, id: Uuid) -> Option<(Contained, &'static str)> {
    Some(match name {
        "plan_id" => (Contained::Plan(id), "plan"),
        "area_id" => (Contained::Area(id), "strategic area"),
        "goal_id" => (Contained::Goal(id), "goal"),
        "update_id" => (Contained::StatusUpdate(id), "status update"),
        "measure_id" => (Contained::Measure(id), "measure"),
        _ => return None,
    })
}
