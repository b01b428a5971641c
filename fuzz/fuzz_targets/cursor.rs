//! Pagination cursors, as clients send them back in `?cursor=`: decoded by
//! `PageRequest::after` into the key of the list. Whatever the text, decoding
//! answers without panicking: a key, or a 400 naming the `cursor` parameter. And a
//! key that decodes is one the list can continue from: the cursor the list makes
//! for it (`PageRequest::page`) decodes to the same key.
#![no_main]

use chrono::{DateTime, NaiveDate, Utc};
use libfuzzer_sys::fuzz_target;
use serde::Serialize;
use serde::de::DeserializeOwned;
use strategy_tracker::error::ApiError;
use strategy_tracker::pagination::PageRequest;
use uuid::Uuid;

// The lists' keys are private tuple structs; serde reads and writes a tuple struct
// as a JSON array, exactly as the tuple of its fields, so these are their cursors.

/// `status_update::NewestFirstKey` (status updates, measurements): `as_of`,
/// `created_at`, id.
type NewestFirstKey = (NaiveDate, DateTime<Utc>, Uuid);
/// `goal::GoalKey`: the goal's sort key (its path of positions), id.
type GoalKey = (Vec<i32>, Uuid);
/// `plan::PlanKey`: period start, id.
type PlanKey = (NaiveDate, Uuid);

fuzz_target!(|data: &[u8]| {
    // A query parameter is text: bytes that are not UTF-8 never reach the decoder.
    let Ok(cursor) = std::str::from_utf8(data) else {
        return;
    };
    let page = match PageRequest::new(Some(1), Some(cursor.to_owned())) {
        Ok(page) => page,
        Err(error) => panic!("a valid limit refused: {:?}", error.problem()),
    };
    round_trip::<NewestFirstKey>(&page);
    round_trip::<GoalKey>(&page);
    round_trip::<PlanKey>(&page);
    round_trip::<i64>(&page);
});

fn round_trip<K>(page: &PageRequest)
where
    K: DeserializeOwned + Serialize + Clone + PartialEq + std::fmt::Debug,
{
    let key = match page.after::<K>() {
        Ok(Some(key)) => key,
        Ok(None) => panic!("a cursor was given, yet none was read"),
        Err(ApiError::BadRequest { errors, .. }) => {
            assert!(
                errors.len() == 1 && errors[0].field == "cursor",
                "{errors:?}"
            );
            return;
        }
        Err(error) => panic!("not a 400 for the cursor: {:?}", error.problem()),
    };
    // Two rows for a page of one: the page has a next cursor, made from the key.
    let next = page
        .page(vec![key.clone(), key.clone()], Clone::clone)
        .next_cursor;
    let Some(next) = next else {
        panic!("no next cursor for a full page");
    };
    let again = PageRequest::new(Some(1), Some(next.clone()))
        .ok()
        .and_then(|page| page.after::<K>().ok().flatten());
    assert_eq!(
        again.as_ref(),
        Some(&key),
        "cursor {next:?} made for {key:?}"
    );
}
