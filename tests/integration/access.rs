//! Who may do what, as a caller meets it over HTTP: every operation of the served
//! OpenAPI document needs exactly the scope a table here gives it (so a new route
//! fails until someone decides its scope), and the service enforces it; draft
//! plans are invisible without `read`, indistinguishable from ids that name
//! nothing; public reading can be turned off; a bad `Authorization` header is a 401
//! that says what is wrong, without telling an unknown token from a wrong secret;
//! tokens are refused in URLs; changes are recorded under the token's name; and
//! idempotency keys belong to the token that sent them.

use std::collections::BTreeSet;

use actix_web::http::Method;
use chrono::{Days, Utc};
use serde_json::{Value, json};
use strategy_tracker::models::api_token::secret::TokenSecret;
use uuid::Uuid;

// ---------------------------------------------------------------------------
// The table: what each operation asks of its caller
// ---------------------------------------------------------------------------

/// What an operation asks of its caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    /// Anyone, with or without a token: health checks and the document.
    Anyone,
    /// Anyone for what is not a draft; drafts need `read`.
    Public,
    /// A token with this scope.
    Scope(&'static str),
}

use Expect::{Anyone, Public, Scope};

use crate::common::{Reply, TEST_TOKEN, TestApp, detail, error_fields, id_of};
use crate::helpers::{app_sql, create_token, send_as};

impl Expect {
    /// The `security` the OpenAPI document must declare for this expectation.
    fn security(self) -> Value {
        match self {
            Anyone => json!([{}]),
            Public => json!([{}, { "bearer": ["read"] }]),
            Scope(scope) => json!([{ "bearer": [scope] }]),
        }
    }
}

/// Every operation of the service and what it asks. A route added to the service
/// but not here fails `every_route_in_the_openapi_document_has_the_scope_this_table_gives_it`
/// until someone decides who may call it.
///
/// The DELETEs come last, leaves before what contains them, because with the
/// right token they delete the fixtures the other rows use.
const ROUTES: &[(&str, &str, Expect)] = &[
    ("GET", "/healthz", Anyone),
    ("GET", "/readyz", Anyone),
    ("GET", "/api/v1/openapi.json", Anyone),
    // Plans
    ("GET", "/api/v1/plans", Public),
    ("POST", "/api/v1/plans", Scope("write")),
    ("POST", "/api/v1/plans/import", Scope("write")),
    ("GET", "/api/v1/plans/{plan_id}", Public),
    ("PATCH", "/api/v1/plans/{plan_id}", Scope("write")),
    ("GET", "/api/v1/plans/{plan_id}/document", Public),
    ("GET", "/api/v1/plans/{plan_id}/tracking-sheet", Public),
    ("GET", "/api/v1/plans/{plan_id}/goals", Public),
    ("GET", "/api/v1/plans/{plan_id}/history", Scope("read")),
    (
        "POST",
        "/api/v1/plans/{plan_id}/status-updates/import",
        Scope("write"),
    ),
    // Areas
    ("GET", "/api/v1/plans/{plan_id}/areas", Public),
    ("POST", "/api/v1/plans/{plan_id}/areas", Scope("write")),
    ("GET", "/api/v1/areas/{area_id}", Public),
    ("PATCH", "/api/v1/areas/{area_id}", Scope("write")),
    ("GET", "/api/v1/areas/{area_id}/history", Scope("read")),
    // Goals
    ("GET", "/api/v1/areas/{area_id}/goals", Public),
    ("POST", "/api/v1/areas/{area_id}/goals", Scope("write")),
    ("GET", "/api/v1/goals/{goal_id}", Public),
    ("PATCH", "/api/v1/goals/{goal_id}", Scope("write")),
    ("GET", "/api/v1/goals/{goal_id}/history", Scope("read")),
    // Status updates
    ("GET", "/api/v1/goals/{goal_id}/status-updates", Public),
    (
        "POST",
        "/api/v1/goals/{goal_id}/status-updates",
        Scope("write"),
    ),
    ("GET", "/api/v1/status-updates/{update_id}", Public),
    (
        "PATCH",
        "/api/v1/status-updates/{update_id}",
        Scope("write"),
    ),
    // Measures
    ("GET", "/api/v1/goals/{goal_id}/measures", Public),
    ("POST", "/api/v1/goals/{goal_id}/measures", Scope("write")),
    ("GET", "/api/v1/measures/{measure_id}", Public),
    ("PATCH", "/api/v1/measures/{measure_id}", Scope("write")),
    ("GET", "/api/v1/measures/{measure_id}/history", Public),
    // The change feed
    ("GET", "/api/v1/events", Scope("read")),
    // Tokens
    ("GET", "/api/v1/tokens", Scope("admin")),
    ("POST", "/api/v1/tokens", Scope("admin")),
    ("GET", "/api/v1/tokens/{token_id}", Scope("admin")),
    // Deletions, last (see above).
    (
        "DELETE",
        "/api/v1/status-updates/{update_id}",
        Scope("write"),
    ),
    ("DELETE", "/api/v1/measures/{measure_id}", Scope("write")),
    ("DELETE", "/api/v1/goals/{goal_id}", Scope("write")),
    ("DELETE", "/api/v1/areas/{area_id}", Scope("write")),
    ("DELETE", "/api/v1/plans/{plan_id}", Scope("write")),
    ("DELETE", "/api/v1/tokens/{token_id}", Scope("admin")),
];

/// The scopes a token may have; each caller of the table test has exactly one.
const SCOPES: [&str; 3] = ["read", "write", "admin"];

/// Whether a token with only `held` may do what `needed` allows: `write` includes
/// `read`, `admin` includes nothing else.
fn grants(held: &str, needed: &str) -> bool {
    held == needed || (held == "write" && needed == "read")
}

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

/// A new token with these scopes: the token itself.
async fn token(app: &TestApp, name: &str, scopes: &[&str]) -> String {
    create_token(app, name, scopes).await.1
}

/// A GET without a token, as a member's browser sends it.
async fn anonymous_get(app: &TestApp, path: &str) -> Reply {
    send_as(&app.address, None, Method::GET, path, None).await
}

/// A GET with exactly these `Authorization` header values (none, one or several).
async fn get_with_authorization(app: &TestApp, path: &str, values: &[&str]) -> Reply {
    let mut request = crate::common::anonymous_client().get(format!("{}{path}", app.address));
    for value in values {
        request = request.append_header(("Authorization", *value));
    }
    let mut response = request.send().await.expect("the server answers");
    let body = response.body().await.expect("the body arrives");
    Reply {
        status: response.status().as_u16(),
        headers: response.headers().clone(),
        body: body.to_vec(),
    }
}

/// The plan, area, goal, status update and measure that path parameters name.
struct Fixtures {
    plan_id: String,
    area_id: String,
    goal_id: String,
    update_id: String,
    measure_id: String,
}

impl Fixtures {
    /// A plan with this `status`, one area, one goal with a measure, and a status
    /// update that records a value of the measure (so its history has an entry).
    async fn create(app: &TestApp, status: &str) -> Self {
        let plan = app
            .create_plan(json!({ "title": format!("A {status} plan"), "status": status }))
            .await;
        assert_eq!(plan["status"], status);
        let plan_id = id_of(&plan);
        let area_id = id_of(&app.create_area(&plan_id, "Member Engagement").await);
        let goal_id = id_of(&app.create_goal(&area_id, json!({})).await);
        let measure = app
            .post(
                &format!("/api/v1/goals/{goal_id}/measures"),
                json!({ "name": "Members", "target": 10 }),
            )
            .await
            .created();
        let measure_id = id_of(&measure);
        let update = json!({
            "status": "on_track",
            "progress_percent": 40,
            "as_of": "2024-03-31",
            "measurements": [{ "measure_id": measure_id, "value": 4 }],
        });
        let update = app
            .post(&format!("/api/v1/goals/{goal_id}/status-updates"), update)
            .await
            .created();
        Self {
            plan_id,
            area_id,
            goal_id,
            update_id: id_of(&update),
            measure_id,
        }
    }

    /// Ids that name nothing, one of each kind.
    fn unknown() -> Self {
        let random = || Uuid::now_v7().to_string();
        Self {
            plan_id: random(),
            area_id: random(),
            goal_id: random(),
            update_id: random(),
            measure_id: random(),
        }
    }

    fn ids(&self) -> [&str; 5] {
        [
            &self.plan_id,
            &self.area_id,
            &self.goal_id,
            &self.update_id,
            &self.measure_id,
        ]
    }

    /// `template` with each `{..._id}` replaced by the fixture's id (and `{token_id}`
    /// by `token_id`); a parameter this test does not know fails loudly, so that a
    /// new kind of route gets a fixture.
    fn fill(&self, template: &str, token_id: &str) -> String {
        template
            .split('/')
            .map(|segment| match segment {
                "{plan_id}" => &self.plan_id,
                "{area_id}" => &self.area_id,
                "{goal_id}" => &self.goal_id,
                "{update_id}" => &self.update_id,
                "{measure_id}" => &self.measure_id,
                "{token_id}" => token_id,
                other if other.starts_with('{') => {
                    panic!("{template}: give the test a fixture for {other}")
                }
                other => other,
            })
            .collect::<Vec<_>>()
            .join("/")
    }

    /// `text` with every id of these fixtures replaced by `<id>`, to compare
    /// answers about different ids.
    fn without_ids(&self, text: &str) -> String {
        self.ids()
            .iter()
            .fold(text.to_owned(), |text, id| text.replace(id, "<id>"))
    }
}

/// The (METHOD, path) of every operation in the served document, with its
/// `security`.
async fn served_operations(app: &TestApp) -> Vec<(String, String, Value)> {
    let document = anonymous_get(app, "/api/v1/openapi.json").await.expect(200);
    let methods = [
        "get", "put", "post", "delete", "options", "head", "patch", "trace",
    ];
    let mut operations = Vec::new();
    for (path, item) in document["paths"].as_object().expect("paths") {
        for (method, operation) in item.as_object().expect("a path item") {
            if methods.contains(&method.as_str()) {
                let security = operation.get("security").cloned().unwrap_or(Value::Null);
                operations.push((method.to_uppercase(), path.clone(), security));
            }
        }
    }
    operations
}

/// The `WWW-Authenticate` challenge of a 401 or 403, checked to be a Bearer one.
fn bearer_challenge(reply: &Reply, what: &str) -> String {
    let challenge = reply
        .header("www-authenticate")
        .unwrap_or_else(|| panic!("{what}: a {} has a WWW-Authenticate", reply.status));
    assert!(challenge.starts_with("Bearer"), "{what}: {challenge}");
    challenge
}

/// The names of a reply's headers, without those that differ on every answer.
fn header_names(reply: &Reply) -> BTreeSet<String> {
    reply
        .headers
        .keys()
        .map(|name| name.as_str().to_owned())
        .filter(|name| !["date", "x-request-id"].contains(&name.as_str()))
        .collect()
}

/// Checks one route of the table with one caller (`token` with only `scope`, or
/// no token), and what the caller is told.
fn check_caller(what: &str, expect: Expect, scope: Option<&str>, method: &str, reply: Reply) {
    let what = format!("{what} with {}", scope.unwrap_or("no token"));
    let allowed = match (expect, scope) {
        (Anyone | Public, _) => true,
        (Scope(needed), Some(held)) => grants(held, needed),
        (Scope(_), None) => false,
    };
    if allowed {
        assert!(
            ![401, 403].contains(&reply.status) && reply.status < 500,
            "{what}: {} {}",
            reply.status,
            reply.text()
        );
        // Every fixture exists and is published, so a permitted read succeeds.
        if method == "GET" {
            assert_eq!(reply.status, 200, "{what}: {}", reply.text());
        }
        return;
    }
    let Scope(needed) = expect else {
        unreachable!("only scoped routes refuse")
    };
    match scope {
        None => {
            let challenge = bearer_challenge(&reply, &what);
            let problem = reply.problem(401);
            assert!(
                !challenge.contains("error="),
                "{what}: no token is not an error in the token (RFC 6750): {challenge}"
            );
            assert!(
                detail(&problem).contains(&format!("the {needed} scope")),
                "{what}: {problem}"
            );
        }
        Some(_) => {
            let challenge = bearer_challenge(&reply, &what);
            let problem = reply.problem(403);
            assert!(
                challenge.contains(&format!("scope=\"{needed}\"")),
                "{what}: {challenge}"
            );
            assert!(
                detail(&problem).contains(&format!("the {needed} scope")),
                "{what}: {problem}"
            );
        }
    }
}

// ---------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------

#[actix_web::test]
async fn every_route_in_the_openapi_document_has_the_scope_this_table_gives_it() {
    let app = TestApp::spawn().await;

    // The table covers exactly the served operations, no more, no fewer.
    let served = served_operations(&app).await;
    let in_document: BTreeSet<(String, String)> = served
        .iter()
        .map(|(method, path, _)| (method.clone(), path.clone()))
        .collect();
    let in_table: BTreeSet<(String, String)> = ROUTES
        .iter()
        .map(|(method, path, _)| ((*method).to_owned(), (*path).to_owned()))
        .collect();
    assert_eq!(in_table.len(), ROUTES.len(), "the table lists each once");
    let untabled: Vec<_> = in_document.difference(&in_table).collect();
    let unserved: Vec<_> = in_table.difference(&in_document).collect();
    assert!(
        untabled.is_empty(),
        "decide who may call these and add them to ROUTES: {untabled:?}"
    );
    assert!(unserved.is_empty(), "not in the document: {unserved:?}");

    // The document declares what the table says, so clients are told the truth.
    for (method, path, security) in &served {
        let (_, _, expect) = ROUTES
            .iter()
            .find(|(m, p, _)| m == method && p == path)
            .expect("checked above");
        assert_eq!(*security, expect.security(), "{method} {path}");
    }

    // Real resources of a published plan for every path parameter, and one
    // caller per scope.
    let fixtures = Fixtures::create(&app, "active").await;
    let token_id = id_of(&create_token(&app, "to be looked at", &["read"]).await.0);
    let mut callers = vec![(None, None)];
    for scope in SCOPES {
        let token = token(&app, &format!("only {scope}"), &[scope]).await;
        callers.push((Some(scope), Some(token)));
    }

    for &(method, template, expect) in ROUTES {
        let path = fixtures.fill(template, &token_id);
        let what = format!("{method} {template}");
        let method = Method::from_bytes(method.as_bytes()).expect("a method");
        // Writes get an empty object: whatever the body's fate, it is not for
        // the access check to decide.
        let body = (method == Method::POST || method == Method::PATCH).then(|| json!({}));
        for (scope, token) in &callers {
            let reply = send_as(
                &app.address,
                token.as_deref(),
                method.clone(),
                &path,
                body.clone(),
            )
            .await;
            check_caller(&what, expect, *scope, method.as_str(), reply);
        }
    }
}

#[actix_web::test]
async fn drafts_are_a_404_without_read_exactly_like_ids_that_name_nothing() {
    let app = TestApp::spawn().await;
    let draft = Fixtures::create(&app, "draft").await;
    let published = Fixtures::create(&app, "active").await;
    let unknown = Fixtures::unknown();
    let reader = token(&app, "member portal", &["read"]).await;

    // Every public read of something in a plan: derived from the table, so a new
    // public route is covered as soon as it is listed there.
    let public_reads: Vec<&str> = ROUTES
        .iter()
        .filter(|(method, path, expect)| {
            *method == "GET" && *expect == Public && path.contains('{')
        })
        .map(|(_, path, _)| *path)
        .collect();
    assert!(public_reads.len() >= 13, "{public_reads:?}");

    for template in public_reads {
        let hidden = anonymous_get(&app, &draft.fill(template, "")).await;
        let missing = anonymous_get(&app, &unknown.fill(template, "")).await;
        assert_eq!(hidden.status, 404, "{template}: {}", hidden.text());
        assert_eq!(missing.status, 404, "{template}: {}", missing.text());
        // Byte for byte the same once the ids are set aside (each names the id it
        // was asked for), and with the same headers: a member cannot tell that a
        // draft exists (also when they ask for gzip: see
        // `a_drafts_404_is_compressed_like_any_other`).
        assert_eq!(
            draft.without_ids(&hidden.text()),
            unknown.without_ids(&missing.text()),
            "{template}"
        );
        assert_eq!(header_names(&hidden), header_names(&missing), "{template}");
        assert_eq!(
            hidden.header("content-type"),
            missing.header("content-type")
        );

        // The published plan's is there for anyone; with read, so is the draft's.
        let open = anonymous_get(&app, &published.fill(template, "")).await;
        assert_eq!(open.status, 200, "{template}: {}", open.text());
        let read = send_as(
            &app.address,
            Some(&reader),
            Method::GET,
            &draft.fill(template, ""),
            None,
        )
        .await;
        assert_eq!(read.status, 200, "{template} with read: {}", read.text());
    }

    // The list of plans shows the published plan to anyone, the draft only to read.
    let listed = |page: &Value| -> Vec<String> {
        page["items"]
            .as_array()
            .expect("items")
            .iter()
            .map(id_of)
            .collect()
    };
    let anonymous = listed(&anonymous_get(&app, "/api/v1/plans").await.expect(200));
    assert_eq!(anonymous, [published.plan_id.as_str()]);
    let with_read = send_as(
        &app.address,
        Some(&reader),
        Method::GET,
        "/api/v1/plans",
        None,
    )
    .await;
    let with_read = listed(&with_read.expect(200));
    assert!(with_read.contains(&draft.plan_id), "{with_read:?}");
    assert!(with_read.contains(&published.plan_id), "{with_read:?}");
    // Nor does asking for drafts by name show them.
    let drafts = anonymous_get(&app, "/api/v1/plans?status=draft").await;
    assert_eq!(listed(&drafts.expect(200)), Vec::<String>::new());
}

/// A draft's 404 is made by the access check, an unknown id's by the handler; both
/// must go through response compression alike. Every browser sends
/// `Accept-Encoding: gzip`, and when only the second came back gzipped
/// (`Content-Encoding`, `Vary`), that told a draft from an id that names nothing.
#[actix_web::test]
async fn a_drafts_404_is_compressed_like_any_other() {
    let app = TestApp::spawn().await;
    let draft = Fixtures::create(&app, "draft").await;
    let unknown = Fixtures::unknown();
    let gzip = [("Accept-Encoding", "gzip")];
    for template in ["/api/v1/plans/{plan_id}", "/api/v1/goals/{goal_id}"] {
        let get = async |fixtures: &Fixtures| {
            let path = fixtures.fill(template, "");
            let client = crate::common::anonymous_client();
            crate::common::send_with(&client, &app.address, Method::GET, &path, &gzip, None).await
        };
        let hidden = get(&draft).await;
        let missing = get(&unknown).await;
        assert_eq!((hidden.status, missing.status), (404, 404), "{template}");
        assert_eq!(
            hidden.header("content-encoding"),
            missing.header("content-encoding"),
            "{template}"
        );
        assert_eq!(header_names(&hidden), header_names(&missing), "{template}");
    }
}

/// Once a draft is deleted, the access check no longer finds it to hide; the
/// document's `as_of` must still not answer "when the plan had been deleted" or
/// "before the plan's history starts (its creation day)" to anyone, where an id
/// that names nothing gets "no plan has the id": that would reveal that a draft
/// which was never public existed.
#[actix_web::test]
async fn a_deleted_drafts_past_is_hidden_like_the_draft() {
    let app = TestApp::spawn().await;
    let gone = Fixtures::create(&app, "draft").await;
    let path = format!("/api/v1/plans/{}?cascade=true", gone.plan_id);
    app.delete(&path).await.expect(204);
    let unknown = Fixtures::unknown();
    let today = Utc::now().date_naive();
    for day in [today, today - Days::new(30)] {
        let template = format!("/api/v1/plans/{{plan_id}}/document?as_of={day}");
        let hidden = anonymous_get(&app, &gone.fill(&template, "")).await;
        let missing = anonymous_get(&app, &unknown.fill(&template, "")).await;
        assert_eq!(hidden.status, missing.status, "{day}");
        assert_eq!(
            gone.without_ids(&hidden.text()),
            unknown.without_ids(&missing.text()),
            "{day}"
        );
    }
}

#[actix_web::test]
async fn a_plan_as_it_stood_while_a_draft_is_hidden_like_the_draft() {
    let app = TestApp::spawn().await;
    let plan = app.create_plan(json!({ "status": "draft" })).await;
    let plan_id = id_of(&plan);
    let document = format!("/api/v1/plans/{plan_id}/document");
    app.patch(
        &format!("/api/v1/plans/{plan_id}"),
        json!({ "status": "active" }),
    )
    .await
    .expect(200);
    // The plan was made (as a draft) yesterday, and published today.
    app_sql(
        &app,
        &format!(
            "UPDATE events SET occurred_at = occurred_at - interval '1 day' \
             WHERE resource_id = '{plan_id}' AND action = 'created'"
        ),
    )
    .await;
    let today = Utc::now().date_naive();
    let yesterday = today - Days::new(1);

    let now = anonymous_get(&app, &format!("{document}?as_of={today}")).await;
    assert_eq!(now.expect(200)["status"], "active");
    let then = anonymous_get(&app, &format!("{document}?as_of={yesterday}")).await;
    let unknown = Uuid::now_v7();
    let missing = anonymous_get(
        &app,
        &format!("/api/v1/plans/{unknown}/document?as_of={yesterday}"),
    )
    .await;
    assert_eq!(
        then.problem(404)["detail"]
            .as_str()
            .map(|d| d.replace(&plan_id, "<id>")),
        missing.problem(404)["detail"]
            .as_str()
            .map(|d| d.replace(&unknown.to_string(), "<id>")),
    );
    let reader = token(&app, "member portal", &["read"]).await;
    let then = send_as(
        &app.address,
        Some(&reader),
        Method::GET,
        &format!("{document}?as_of={yesterday}"),
        None,
    )
    .await;
    assert_eq!(then.expect(200)["status"], "draft");
}

#[actix_web::test]
async fn without_public_reading_every_read_needs_the_read_scope() {
    let app = TestApp::spawn_with(|config| config.public_reading = false).await;
    let plan = app.create_plan(json!({ "status": "active" })).await;
    let path = format!("/api/v1/plans/{}", id_of(&plan));
    let reader = token(&app, "member portal", &["read"]).await;
    let admin = token(&app, "token keeper", &["admin"]).await;

    let anonymous = anonymous_get(&app, &path).await;
    bearer_challenge(&anonymous, "anonymous");
    assert!(detail(&anonymous.problem(401)).contains("the read scope"));
    let list = anonymous_get(&app, "/api/v1/plans").await;
    list.problem(401);

    let read = send_as(&app.address, Some(&reader), Method::GET, &path, None).await;
    assert_eq!(read.expect(200)["id"], plan["id"]);

    let admin_only = send_as(&app.address, Some(&admin), Method::GET, &path, None).await;
    let challenge = bearer_challenge(&admin_only, "admin only");
    assert!(challenge.contains("scope=\"read\""), "{challenge}");
    assert!(detail(&admin_only.problem(403)).contains("the read scope"));

    // Health checks and the document stay open: load balancers and client
    // generators have no token.
    anonymous_get(&app, "/healthz").await.expect(200);
    anonymous_get(&app, "/api/v1/openapi.json")
        .await
        .expect(200);
}

#[actix_web::test]
async fn a_bad_authorization_header_is_a_401_that_says_what_is_wrong() {
    let app = TestApp::spawn().await;
    let generated = TokenSecret::generate().expect("randomness").to_string();
    let bearer = |token: &str| format!("Bearer {token}");
    let cases: [(&str, Vec<String>, &str, &str); 9] = [
        (
            "another scheme",
            vec!["Basic abc".to_owned()],
            "invalid_request",
            "Bearer <token>",
        ),
        (
            "no token after Bearer (an empty $TOKEN)",
            vec!["Bearer".to_owned()],
            "invalid_request",
            "no token after Bearer",
        ),
        (
            "a wrong prefix",
            vec![bearer(&TEST_TOKEN.replacen("stk_", "stq_", 1))],
            "invalid_token",
            "starts with \"stk_\"",
        ),
        (
            "one character short",
            vec![bearer(&TEST_TOKEN[..TEST_TOKEN.len() - 1])],
            "invalid_token",
            "69 characters",
        ),
        (
            "one character too many",
            vec![bearer(&format!("{TEST_TOKEN}A"))],
            "invalid_token",
            "69 characters",
        ),
        (
            "a character tokens do not have",
            vec![bearer(&format!(
                "{}!{}",
                &TEST_TOKEN[..30],
                &TEST_TOKEN[31..]
            ))],
            "invalid_token",
            "only letters, digits",
        ),
        (
            // Only token characters, but the id's last one carries bits no id has.
            "a token whose id cannot be one",
            vec![bearer(&format!(
                "{}B{}",
                &TEST_TOKEN[..25],
                &TEST_TOKEN[26..]
            ))],
            "invalid_token",
            "not a token this service issued",
        ),
        (
            "a well-formed token this service never issued",
            vec![bearer(&generated)],
            "invalid_token",
            "not one this service issued",
        ),
        (
            "two Authorization headers",
            vec![bearer(TEST_TOKEN), bearer(TEST_TOKEN)],
            "invalid_request",
            "one Authorization header",
        ),
    ];

    for (what, values, error, told) in cases {
        let values: Vec<&str> = values.iter().map(String::as_str).collect();
        // A public route: a token that is sent must work, even where none is needed.
        let reply = get_with_authorization(&app, "/api/v1/plans", &values).await;
        let challenge = bearer_challenge(&reply, what);
        assert!(
            challenge.contains(&format!("error=\"{error}\"")),
            "{what}: {challenge}"
        );
        let text = reply.text();
        let problem = reply.problem(401);
        assert!(detail(&problem).contains(told), "{what}: {problem}");
        assert_eq!(error_fields(&problem), ["Authorization"], "{what}");
        // What was sent is not echoed: a near-miss token is still mostly a secret.
        for value in &values {
            let sent = value.trim_start_matches("Bearer ");
            if sent.len() > 8 {
                assert!(!text.contains(sent), "{what}: echoed in {text}");
                assert!(!challenge.contains(sent), "{what}: echoed in {challenge}");
            }
        }
    }

    // The test token's id with another secret: answered exactly as an id that was
    // never issued, so guessing tells nothing about which ids exist.
    let known_id = format!("{}{}", &TEST_TOKEN[..26], &generated[26..]);
    let wrong_secret = get_with_authorization(&app, "/api/v1/plans", &[&bearer(&known_id)]).await;
    let unknown = get_with_authorization(&app, "/api/v1/plans", &[&bearer(&generated)]).await;
    assert_eq!(wrong_secret.status, 401);
    assert_eq!(wrong_secret.status, unknown.status);
    assert_eq!(wrong_secret.body, unknown.body, "{}", wrong_secret.text());
    assert_eq!(
        wrong_secret.header("www-authenticate"),
        unknown.header("www-authenticate")
    );
    assert_eq!(header_names(&wrong_secret), header_names(&unknown));
}

#[actix_web::test]
async fn a_token_in_the_url_is_refused_and_not_repeated() {
    let app = TestApp::spawn().await;
    for (parameter, query) in [
        ("access_token", format!("access_token={TEST_TOKEN}")),
        ("foo", format!("foo={TEST_TOKEN}")),
        ("foo", format!("limit=5&foo={TEST_TOKEN}")),
        // Percent-encoded or inside a longer value, it is still a token in a URL.
        ("access_token", format!("access%5Ftoken={TEST_TOKEN}")),
        ("foo", format!("foo=stk%5F{}", &TEST_TOKEN[4..])),
        ("foo", format!("foo=Bearer+{TEST_TOKEN}")),
    ] {
        let reply = anonymous_get(&app, &format!("/api/v1/plans?{query}")).await;
        // Neither the body nor any header repeats the token, which would put it
        // in yet more logs.
        assert!(
            !reply.text().contains(&TEST_TOKEN[4..]),
            "{query}: {}",
            reply.text()
        );
        for (name, value) in &reply.headers {
            let value = value.to_str().unwrap_or_default();
            assert!(
                !value.contains(&TEST_TOKEN[4..]),
                "{query}: {name}: {value}"
            );
        }
        let problem = reply.problem(400);
        assert_eq!(error_fields(&problem), [parameter], "{query}");
        assert!(
            detail(&problem).contains("Authorization header"),
            "{query}: {problem}"
        );
    }
}

#[actix_web::test]
async fn changes_are_recorded_under_the_name_of_the_token_that_made_them() {
    let app = TestApp::spawn().await;
    let (_, area_id) = app.plan_with_area().await;
    let goal = app
        .create_goal(&area_id, json!({ "title": "Offer webinars" }))
        .await;
    let path = format!("/api/v1/goals/{}", id_of(&goal));
    let jane = token(&app, "sheet script (jane)", &["write"]).await;

    let patch = json!({ "title": "Offer six webinars" });
    send_as(&app.address, Some(&jane), Method::PATCH, &path, Some(patch))
        .await
        .expect(200);

    let history = send_as(
        &app.address,
        Some(&jane),
        Method::GET,
        &format!("{path}/history"),
        None,
    )
    .await;
    let history = history.expect(200);
    let newest = &history["items"][0];
    assert_eq!(newest["action"], "updated");
    assert_eq!(newest["actor"], "sheet script (jane)");
    // The goal's creation, with the test token, keeps its own name.
    let items = history["items"].as_array().expect("items");
    assert_eq!(
        items.last().expect("the creation")["actor"],
        crate::common::TEST_TOKEN_NAME
    );
}

#[actix_web::test]
async fn an_idempotency_key_belongs_to_the_token_that_sent_it() {
    let app = TestApp::spawn().await;
    let first = token(&app, "first script", &["write"]).await;
    let second = token(&app, "second script", &["write"]).await;
    let key = "nightly-import-2026-11-27";
    let body = json!({
        "title": "Core Strategic Plan 2022-2025",
        "period_start": "2022-09-01",
        "period_end": "2025-08-31",
    });
    let post = async |token: &str| {
        let authorization = format!("Bearer {token}");
        crate::common::send_with(
            &crate::common::anonymous_client(),
            &app.address,
            Method::POST,
            "/api/v1/plans",
            &[("Authorization", &authorization), ("Idempotency-Key", key)],
            Some(body.clone()),
        )
        .await
    };

    let by_first = post(&first).await;
    let by_second = post(&second).await;
    // Each did its own work: another token's same key is another key.
    assert_eq!(by_first.header("idempotent-replayed"), None);
    assert_eq!(by_second.header("idempotent-replayed"), None);
    let first_plan = id_of(&by_first.created());
    let second_plan = id_of(&by_second.created());
    assert_ne!(first_plan, second_plan);

    // A retry is still answered from the sender's own first answer.
    let retry = post(&first).await;
    assert_eq!(retry.header("idempotent-replayed").as_deref(), Some("true"));
    assert_eq!(id_of(&retry.created()), first_plan);
    let retry = post(&second).await;
    assert_eq!(retry.header("idempotent-replayed").as_deref(), Some("true"));
    assert_eq!(id_of(&retry.created()), second_plan);

    // Token creation takes no key: its answer holds a token, which is never stored.
    let token_ids = async || -> Vec<String> {
        let page = app.get("/api/v1/tokens").await.expect(200);
        page["items"]
            .as_array()
            .expect("items")
            .iter()
            .map(id_of)
            .collect()
    };
    let tokens_before = token_ids().await;
    let refused = app
        .send_with(
            Method::POST,
            "/api/v1/tokens",
            &[("Idempotency-Key", key)],
            Some(json!({ "name": "retried", "scopes": ["read"] })),
        )
        .await;
    assert_eq!(error_fields(&refused.problem(400)), ["Idempotency-Key"]);
    assert_eq!(token_ids().await, tokens_before, "no token was made");
}
