//! Who approved the plan and when, from a line such as "Approved by the Board of
//! Directors April 18, 2024".

use std::ops::Range;

use chrono::NaiveDate;

use super::dates::find_date;
use super::lines::plain;
use super::words::{shorten, strip_word};
use crate::models::validation::SHORT_TEXT;

/// A line this long or shorter that says who approved the plan is the approval line
/// and is left out of the summary; a longer one is prose that mentions the approval.
const APPROVAL_LINE: usize = 160;

/// Who approved the plan and when; `line` is the approval line, left out of the summary.
#[derive(Default)]
pub(super) struct Approval {
    pub(super) line: Option<usize>,
    pub(super) by: Option<String>,
    pub(super) on: Option<NaiveDate>,
}

/// Who approved (or adopted) the plan and when, from the first early line that says so:
/// "Updated Plan Approved by the Core Board of Directors April 18, 2024".
pub(super) fn find_approval(
    raw: &[&str],
    early: Range<usize>,
    notes: &mut Vec<(usize, String)>,
) -> Approval {
    for at in early {
        let text = plain(raw[at]);
        let lower = text.to_ascii_lowercase();
        let phrases = ["approved by ", "adopted by "];
        let Some(from) = phrases.iter().find_map(|p| Some(lower.find(p)? + p.len())) else {
            continue;
        };
        let words: Vec<&str> = text[from..].split_whitespace().collect();
        let date = find_date(&words);
        // Who: the words up to the date, "on", "at", "in" or the end of a clause.
        let mut by = Vec::new();
        for word in &words[..date.map_or(words.len(), |(at, _, _)| at)] {
            if ["on", "at", "in"].contains(&word.to_lowercase().as_str()) {
                break;
            }
            by.push(word.trim_end_matches([',', ';', '.']));
            if word.ends_with([',', ';', '.']) {
                break;
            }
        }
        let by = by.join(" ");
        let by = strip_word(&by, "the").unwrap_or(&by);
        if date.is_none() {
            let note = "no approval date could be read; expected one such as \"April 18, 2024\" or \"2024-04-18\"";
            notes.push((at, note.to_owned()));
        }
        return Approval {
            line: (text.chars().count() <= APPROVAL_LINE).then_some(at),
            by: (!by.is_empty()).then(|| shorten(by, SHORT_TEXT)),
            on: date.map(|(_, _, date)| date),
        };
    }
    Approval::default()
}
