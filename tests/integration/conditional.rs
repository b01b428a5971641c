//! Conditional requests: entity tags on every item and list, 304 for an unchanged
//! copy, 412 for a change based on a stale copy, 428 when writes must be conditional.

use actix_web::http::Method;
use futures_util::future::join_all;
use serde_json::{Value, json};

use crate::common::{Reply, TestApp, error_fields, id_of, send_with};

/// One of each resource: (item path, a valid patch) for plan, area, goal, status
/// update and measure.
async fn one_of_each(app: &TestApp) -> Vec<(String, Value)> {
    let (plan_id, area_id) = app.plan_with_area().await;
    let goal = app.create_goal(&area_id, json!({})).await;
    let goal_id = id_of(&goal);
    let update = app
        .post(
            &format!("/api/v1/goals/{goal_id}/status-updates"),
            json!({"status": "on_track"}),
        )
        .await
        .created();
    let measure = app
        .post(
            &format!("/api/v1/goals/{goal_id}/measures"),
            json!({"name": "Webinars", "target": 6}),
        )
        .await
        .created();
    vec![
        (
            format!("/api/v1/plans/{plan_id}"),
            json!({"title": "Revised plan"}),
        ),
        (
            format!("/api/v1/areas/{area_id}"),
            json!({"title": "Revised area"}),
        ),
        (
            format!("/api/v1/goals/{goal_id}"),
            json!({"title": "Revised goal"}),
        ),
        (
            format!("/api/v1/status-updates/{}", id_of(&update)),
            json!({"note": "Revised"}),
        ),
        (
            format!("/api/v1/measures/{}", id_of(&measure)),
            json!({"target": 8}),
        ),
    ]
}

fn etag(reply: &Reply) -> String {
    let etag = reply.header("etag").expect("an ETag header");
    assert!(
        etag.len() == 34 && etag.starts_with('"') && etag.ends_with('"'),
        "a strong, quoted tag: {etag}"
    );
    etag
}

#[actix_web::test]
async fn an_unchanged_item_answers_304_and_a_changed_one_its_new_version() {
    let app = TestApp::spawn().await;
    for (path, patch) in one_of_each(&app).await {
        let first = app.get(&path).await;
        let tag = etag(&first);
        assert_eq!(first.status, 200);

        let again = app.get_with(&path, &[("If-None-Match", &tag)]).await;
        assert_eq!(again.status, 304, "{path}");
        assert!(again.body.is_empty(), "a 304 has no body");
        assert_eq!(etag(&again), tag);

        let changed = app.patch(&path, patch).await;
        assert_eq!(changed.status, 200, "{path}: {}", changed.text());
        let new_tag = etag(&changed);
        assert_ne!(new_tag, tag, "{path}: a change changes the tag");
        let fresh = app.get_with(&path, &[("If-None-Match", &tag)]).await;
        assert_eq!(fresh.status, 200, "{path}: the old tag no longer matches");
        assert_eq!(
            etag(&fresh),
            new_tag,
            "{path}: PATCH answers the tag GET gives"
        );
    }
}

#[actix_web::test]
async fn lists_documents_and_sheets_are_tagged_and_cached_as_a_whole() {
    let app = TestApp::spawn().await;
    let (plan_id, area_id) = app.plan_with_area().await;
    app.create_goal(&area_id, json!({})).await;
    let paths = [
        "/api/v1/plans".to_owned(),
        format!("/api/v1/plans/{plan_id}/areas"),
        format!("/api/v1/plans/{plan_id}/goals"),
        format!("/api/v1/plans/{plan_id}/document"),
        format!("/api/v1/plans/{plan_id}/tracking-sheet"),
        format!("/api/v1/plans/{plan_id}/tracking-sheet?format=csv"),
    ];
    let mut tags = Vec::new();
    for path in &paths {
        let tag = etag(&app.get(path).await);
        let again = app.get_with(path, &[("If-None-Match", &tag)]).await;
        assert_eq!(again.status, 304, "{path}");
        tags.push(tag);
    }
    assert_ne!(tags[4], tags[5], "the CSV sheet is another representation");

    // A new goal changes every one of them but the plan list.
    app.create_goal(&area_id, json!({"title": "Second goal"}))
        .await;
    for (path, tag) in paths.iter().zip(&tags).skip(2) {
        let reply = app.get_with(path, &[("If-None-Match", tag)]).await;
        assert_eq!(reply.status, 200, "{path} shows the new goal");
    }
}

#[actix_web::test]
async fn a_change_based_on_a_stale_copy_is_refused_with_the_current_tag() {
    let app = TestApp::spawn().await;
    for (path, patch) in one_of_each(&app).await {
        let stale = etag(&app.get(&path).await);
        let current = etag(&app.patch(&path, json!({})).await);

        let refused = app
            .send_with(
                Method::PATCH,
                &path,
                &[("If-Match", &stale)],
                Some(patch.clone()),
            )
            .await;
        assert_eq!(refused.header("etag").as_deref(), Some(current.as_str()));
        let problem = refused.problem(412);
        assert!(problem["detail"].as_str().unwrap_or("").contains(&current));
        let gone = app
            .send_with(Method::DELETE, &path, &[("If-Match", &stale)], None)
            .await;
        gone.problem(412);
        assert_eq!(
            etag(&app.get(&path).await),
            current,
            "{path}: nothing changed"
        );

        let applied = app
            .send_with(Method::PATCH, &path, &[("If-Match", &current)], Some(patch))
            .await;
        assert_eq!(applied.status, 200, "{path}: {}", applied.text());
    }
}

#[actix_web::test]
async fn a_delete_with_the_current_tag_or_a_star_goes_through() {
    let app = TestApp::spawn().await;
    let (plan_id, area_id) = app.plan_with_area().await;
    let goal = app.create_goal(&area_id, json!({})).await;
    let goal_path = format!("/api/v1/goals/{}", id_of(&goal));
    let tag = etag(&app.get(&goal_path).await);

    app.send_with(Method::DELETE, &goal_path, &[("If-Match", &tag)], None)
        .await
        .expect(204);
    app.get(&goal_path).await.problem(404);

    let area_path = format!("/api/v1/areas/{area_id}");
    app.send_with(Method::DELETE, &area_path, &[("If-Match", "*")], None)
        .await
        .expect(204);
    let star_on_nothing = app
        .send_with(Method::DELETE, &area_path, &[("If-Match", "*")], None)
        .await;
    star_on_nothing.problem(404);
    app.get(&format!("/api/v1/plans/{plan_id}"))
        .await
        .expect(200);
}

#[actix_web::test]
async fn malformed_conditions_are_told_apart_from_stale_ones() {
    let app = TestApp::spawn().await;
    let (path, _) = one_of_each(&app).await.remove(0);
    let long = format!("\"{}\"", "a".repeat(300));
    for bad in ["abc", "\"unclosed", long.as_str()] {
        let reply = app
            .send_with(Method::PATCH, &path, &[("If-Match", bad)], Some(json!({})))
            .await;
        assert_eq!(error_fields(&reply.problem(400)), ["If-Match"], "{bad}");
        let reply = app.get_with(&path, &[("If-None-Match", bad)]).await;
        assert_eq!(
            error_fields(&reply.problem(400)),
            ["If-None-Match"],
            "{bad}"
        );
    }
    // A weak tag never matches for a change, even the current one's text.
    let tag = etag(&app.get(&path).await);
    let weak = format!("W/{tag}");
    let reply = app
        .send_with(
            Method::PATCH,
            &path,
            &[("If-Match", &weak)],
            Some(json!({})),
        )
        .await;
    reply.problem(412);
    // But does for a read.
    let reply = app.get_with(&path, &[("If-None-Match", &weak)]).await;
    assert_eq!(reply.status, 304);
}

#[actix_web::test]
async fn a_service_that_requires_if_match_refuses_unconditional_writes() {
    let app = TestApp::spawn_with(|config| config.require_if_match = true).await;
    for (path, patch) in one_of_each(&app).await {
        let before = app.get(&path).await.expect(200);

        let problem = app.patch(&path, patch.clone()).await.problem(428);
        assert!(
            problem["detail"]
                .as_str()
                .unwrap_or("")
                .contains("If-Match")
        );
        app.delete(&path).await.problem(428);
        assert_eq!(
            app.get(&path).await.expect(200),
            before,
            "{path}: nothing changed"
        );

        let tag = etag(&app.get(&path).await);
        let reply = app
            .send_with(Method::PATCH, &path, &[("If-Match", &tag)], Some(patch))
            .await;
        assert_eq!(reply.status, 200, "{path}: {}", reply.text());
    }
}

/// Twenty editors send a change based on the same version, half of them to a
/// second instance of the service on the same database: exactly one wins.
#[actix_web::test]
async fn of_twenty_racing_changes_to_one_version_exactly_one_wins() {
    let app = TestApp::spawn().await;
    let (_, area_id) = app.plan_with_area().await;
    let goal = app.create_goal(&area_id, json!({})).await;
    let path = format!("/api/v1/goals/{}", id_of(&goal));
    let tag = etag(&app.get(&path).await);
    let (second, _second_server) = app.second_instance();
    let client = crate::common::client();

    let replies = join_all((0..20).map(|editor| {
        let address = if editor % 2 == 0 {
            &app.address
        } else {
            &second
        };
        let (client, path, tag) = (&client, &path, &tag);
        async move {
            let body = json!({"title": format!("Version of editor {editor}")});
            let headers = [("If-Match", tag.as_str())];
            send_with(client, address, Method::PATCH, path, &headers, Some(body)).await
        }
    }))
    .await;

    let statuses: Vec<u16> = replies.iter().map(|reply| reply.status).collect();
    assert_eq!(
        statuses.iter().filter(|&&s| s == 200).count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|&&s| s == 412).count(),
        19,
        "{statuses:?}"
    );
    let winner = replies
        .iter()
        .find(|reply| reply.status == 200)
        .expect("a winner");
    let stored = app.get(&path).await.expect(200);
    assert_eq!(stored["title"], winner.json()["title"]);
}
