//! Plan outlines as people write them (plain text or Markdown), read by
//! `strategy_tracker::models::import::outline::parse`. Whatever the text, the parser answers without
//! panicking; a refusal names at least one problem, and every document it makes is
//! one the import accepts (as the unit test `any_text_is_read_or_refused_and_what_is_read_imports`
//! checks for random token soups; here libFuzzer steers the text).
#![no_main]

use libfuzzer_sys::fuzz_target;
use strategy_tracker::models::import::{self, outline};

fuzz_target!(|data: &[u8]| {
    // The import route takes the outline as text: bytes that are not UTF-8 never
    // reach the parser.
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match outline::parse(text) {
        Ok(read) => {
            let lines = text.lines().count();
            for unplaced in &read.unplaced {
                assert!(
                    (1..=lines).contains(&unplaced.line),
                    "unplaced line {} of {lines}",
                    unplaced.line
                );
            }
            if let Err(error) = import::read(read.document) {
                panic!(
                    "read into a document the import refuses: {:?}",
                    error.problem()
                );
            }
        }
        Err(errors) => assert!(!errors.is_empty(), "refused without a reason"),
    }
});
