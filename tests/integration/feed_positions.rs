//! A portal's copy of a plan, as the README tells it to keep one: read the plan
//! document (or a list), then follow the change feed from the `feed_position` it
//! carries. Raced against writers on two instances and in another process (whose
//! commits wait in the feed's queue until a pass numbers them), every copy must
//! meet each change exactly once, from the value it holds, and end equal to the
//! plan as a fresh read shows it.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use actix_web::http::Method;
use actix_web::rt::time::sleep;
use futures_util::future::join_all;
use serde_json::{Value, json};

use crate::common::{TestApp, client, id_of, send_with};
use crate::helpers::{app_sql, updates_path};

/// Goals of the raced plan.
const GOALS: usize = 4;
/// Writes of each writer over HTTP.
const WRITES: usize = 15;

/// What a portal keeps of a plan: each goal's title, status and progress, and
/// the ids of the status updates it has seen.
#[derive(Debug, PartialEq)]
struct PortalCopy {
    goals: BTreeMap<String, BTreeMap<&'static str, Value>>,
    updates: BTreeSet<String>,
}

/// The goal fields the copy keeps.
const KEPT: [&str; 3] = ["title", "status", "progress_percent"];

impl PortalCopy {
    fn of_goals<'a>(goals: impl Iterator<Item = &'a Value>, with_updates: bool) -> Self {
        let mut copy = Self {
            goals: BTreeMap::new(),
            updates: BTreeSet::new(),
        };
        for goal in goals {
            let kept = KEPT.iter().map(|&field| (field, goal[field].clone()));
            copy.goals.insert(id_of(goal), kept.collect());
            if with_updates {
                let updates = goal["status_updates"].as_array().expect("updates");
                copy.updates.extend(updates.iter().map(id_of));
            }
        }
        copy
    }

    fn of_document(document: &Value) -> Self {
        let areas = document["areas"].as_array().expect("areas");
        let goals = areas
            .iter()
            .flat_map(|area| area["goals"].as_array().expect("goals"));
        Self::of_goals(goals, true)
    }

    /// Applies one event of the feed, which must start from what the copy holds:
    /// a change the copy already has, or one it missed, would not.
    fn apply(&mut self, event: &Value, with_updates: bool) {
        let id = event["resource_id"].as_str().expect("an id").to_owned();
        match (event["resource_type"].as_str(), event["action"].as_str()) {
            (Some("goal"), Some("updated")) => {
                let goal = self.goals.get_mut(&id).expect("a goal of the copy");
                for field in KEPT {
                    let Some(change) = event["changes"].get(field) else {
                        continue;
                    };
                    assert_eq!(
                        goal[field], change["old"],
                        "event {} changes {field} of goal {id} from a value the copy does not hold",
                        event["seq"]
                    );
                    goal.insert(field, change["new"].clone());
                }
            }
            (Some("status_update"), Some("created")) if with_updates => {
                assert!(
                    self.updates.insert(id),
                    "event {} creates a status update the copy already has",
                    event["seq"]
                );
            }
            _ => {}
        }
    }
}

/// A portal's follow of the plan's changes from `position` to the newest.
async fn follow(
    app: &TestApp,
    plan_id: &str,
    mut position: i64,
    copy: &mut PortalCopy,
    with_updates: bool,
) {
    loop {
        let page = app
            .get(&format!(
                "/api/v1/events?plan_id={plan_id}&after={position}&limit=1000"
            ))
            .await
            .expect(200);
        for event in page["items"].as_array().expect("items") {
            copy.apply(event, with_updates);
        }
        let next = page["next_after"].as_i64().expect("next_after");
        if next == page["newest_seq"].as_i64().expect("newest_seq") {
            return;
        }
        position = next;
    }
}

/// A plan of [`GOALS`] goals; its id and theirs.
async fn plan(app: &TestApp) -> (String, Vec<String>) {
    let (plan_id, area_id) = app.plan_with_area().await;
    let mut goals = Vec::new();
    for n in 0..GOALS {
        let goal = app
            .create_goal(&area_id, json!({ "title": format!("Goal {n}") }))
            .await;
        goals.push(id_of(&goal));
    }
    (plan_id, goals)
}

/// Writers on both instances (titles and status updates) and, between them,
/// changes from another process that no instance sees commit.
async fn write(app: &TestApp, second: &str, goals: &[String]) {
    let client = client();
    let writers = (0..4).map(|writer| {
        let (client, goals) = (&client, goals);
        async move {
            let address = if writer % 2 == 0 {
                &app.address
            } else {
                second
            };
            for n in 0..WRITES {
                let goal = &goals[(writer + n) % goals.len()];
                let reply = if n % 2 == 0 {
                    let body = json!({ "title": format!("Title {writer}.{n}") });
                    let path = format!("/api/v1/goals/{goal}");
                    send_with(client, address, Method::PATCH, &path, &[], Some(body)).await
                } else {
                    let body = json!({ "status": "on_track", "progress_percent": n * 5 });
                    let path = updates_path(goal);
                    send_with(client, address, Method::POST, &path, &[], Some(body)).await
                };
                assert!(reply.status < 300, "a write failed: {}", reply.status);
                if writer == 0 {
                    let sql = format!(
                        "UPDATE goals SET title = 'Behind the service {n}' WHERE id = '{goal}'"
                    );
                    app_sql(app, &sql).await;
                }
            }
        }
    });
    join_all(writers).await;
}

/// Bootstraps taken while the writers run, `read` giving a copy and its position.
async fn bootstraps(
    app: &TestApp,
    second: &str,
    goals: &[String],
    read: impl AsyncFn(&TestApp) -> (PortalCopy, i64),
) -> Vec<(PortalCopy, i64)> {
    let writing = write(app, second, goals);
    let reading = async {
        let mut taken = Vec::new();
        for _ in 0..8 {
            taken.push(read(app).await);
            sleep(Duration::from_millis(15)).await;
        }
        taken
    };
    let ((), taken) = futures_util::future::join(writing, reading).await;
    taken
}

#[actix_web::test]
async fn a_portal_that_follows_from_its_documents_position_ends_with_the_plan_as_it_is() {
    let app = TestApp::spawn().await;
    let (second, _server) = app.second_instance();
    let (plan_id, goals) = plan(&app).await;
    let path = format!("/api/v1/plans/{plan_id}/document");
    let taken = bootstraps(&app, &second, &goals, async |app| {
        let document = app.get(&path).await.expect(200);
        let position = document["feed_position"].as_i64().expect("a feed_position");
        (PortalCopy::of_document(&document), position)
    })
    .await;
    let fresh = app.get(&path).await.expect(200);
    let now = PortalCopy::of_document(&fresh);
    assert_eq!(now.updates.len(), 4 * (WRITES / 2), "every update was made");
    let positions: BTreeSet<i64> = taken.iter().map(|(_, position)| *position).collect();
    assert!(
        positions.len() > 2,
        "the copies were taken at {positions:?}: too few moments"
    );
    for (mut copy, position) in taken {
        follow(&app, &plan_id, position, &mut copy, true).await;
        assert_eq!(
            copy, now,
            "the copy taken at {position}, followed, is not the plan"
        );
    }
    // An unchanged plan's document, sheet and CSV sheet all say where it stands.
    let position = fresh["feed_position"].clone();
    let sheet = format!("/api/v1/plans/{plan_id}/tracking-sheet");
    assert_eq!(app.get(&sheet).await.expect(200)["feed_position"], position);
    let csv = app.get(&format!("{sheet}?format=csv")).await;
    assert_eq!(csv.header("feed-position"), Some(position.to_string()));
}

#[actix_web::test]
async fn a_portal_that_follows_from_a_lists_position_ends_with_the_goals_as_they_are() {
    let app = TestApp::spawn().await;
    let (second, _server) = app.second_instance();
    let (plan_id, goals) = plan(&app).await;
    let path = format!("/api/v1/plans/{plan_id}/goals?limit=200");
    let of_list = |page: &Value| {
        let items = page["items"].as_array().expect("items");
        PortalCopy::of_goals(items.iter(), false)
    };
    let taken = bootstraps(&app, &second, &goals, async |app| {
        let page = app.get(&path).await.expect(200);
        let position = page["feed_position"].as_i64().expect("a feed_position");
        (of_list(&page), position)
    })
    .await;
    let now = of_list(&app.get(&path).await.expect(200));
    for (mut copy, position) in taken {
        follow(&app, &plan_id, position, &mut copy, false).await;
        assert_eq!(
            copy, now,
            "the list taken at {position}, followed, is not the plan"
        );
    }
}
