//! Reading a plan outline, written as plain text or Markdown, into the plan
//! document the import route creates.
//!
//! Outlines are written by people, not programs: headings come in many words
//! ("Strategic Area 1:", "Priority 1 —", "## Pillar 2"), goals are numbered "1.",
//! "1)" or "Goal 1.1:", lines get cut off, and labels such as "Goals:" stand where a
//! heading should. Each line is first classified on its own ([`Line`]), then placed
//! by what came before it ([`Reader`]). Nothing is dropped silently: a line that fits
//! nowhere comes back in [`Outline::unplaced`], and every guess comes back as a note
//! that names its line.

use std::cmp::Reverse;
use std::collections::HashSet;
use std::ops::Range;

use chrono::{Datelike, NaiveDate};
use serde::Serialize;
use serde_json::{Value, json};
use utoipa::ToSchema;

use crate::error::FieldError;
use crate::models::GoalStatus;
use crate::models::goal::MAX_LEVELS;
use crate::validation::{LONG_TEXT, SHORT_TEXT};

/// Longest goal title, in characters: plans state goals as whole sentences.
const GOAL_TITLE: usize = 500;
/// Longest goal code the import takes, in characters.
const MAX_CODE: usize = 32;
/// The area for goals written before any area heading.
const IMPLICIT_AREA: &str = "Strategic Area 1";
/// A line this long or shorter that says who approved the plan is the approval line
/// and is left out of the summary; a longer one is prose that mentions the approval.
const APPROVAL_LINE: usize = 160;
const MONTHS: &str =
    "January February March April May June July August September October November December";
/// Words that open an area heading, longest first so that "Strategic Area" wins over "Area".
const AREA_WORDS: &str = "strategic priority|strategic direction|strategic pillar|strategic theme|\
    strategic area|priority area|focus area|goal area|priority|direction|pillar|theme|area";
/// Words that may open a numbered goal: "Goal 1:", "Objective 1.2:".
const GOAL_WORDS: &str = "strategic objective|strategic goal|sub-goal|subgoal|objective|strategy|\
    goal|initiative|action";
/// A label line ("Goals:", "Key Objectives:") names one of these ...
const LABEL_NOUNS: &str = "goals|objectives|strategies|actions|initiatives|tactics|outcomes|\
    priorities|pillars|areas|directions|themes|sub-goals|subgoals";
/// ... and has no other words but these.
const LABEL_MODIFIERS: &str = "key|strategic|our|and|&|focus|goal";
/// Annotations that mark a goal's status: "(Done)", "(On hold)".
const MARKS: &[(GoalStatus, &str)] = &[
    (GoalStatus::Completed, "completed|complete|done|achieved"),
    (GoalStatus::OnTrack, "in progress|ongoing|underway|on track"),
    (GoalStatus::AtRisk, "at risk"),
    (GoalStatus::OffTrack, "off track|delayed|behind schedule"),
    (GoalStatus::OnHold, "on hold|paused|deferred"),
    (GoalStatus::Discontinued, "discontinued|dropped|cancelled"),
    (GoalStatus::NotStarted, "not started"),
];

/// What an outline says, as an import document, and what could not be placed.
#[derive(Debug, Clone, PartialEq)]
pub struct Outline {
    /// The plan document to import: the plan's fields, its `areas`, their `goals`,
    /// and each goal's `sub_goals` and `status_updates`, as JSON.
    pub document: Value,
    /// Non-empty lines that belong nowhere, with their 1-based line numbers.
    pub unplaced: Vec<UnplacedLine>,
    /// Assumptions the parser made, each naming its line, e.g. "line 25: goals before
    /// any area heading were put in an area named \"Strategic Area 1\"".
    pub notes: Vec<String>,
}

/// A line of an outline that belongs to no part of the plan, so it was not imported.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[schema(example = json!({"line": 52, "text": "Questions? Write to the planning committee."}))]
pub struct UnplacedLine {
    /// The line's number in the outline, from 1.
    #[schema(minimum = 1, maximum = 2147483647, format = Int32)]
    pub line: usize,
    /// The line as written, without surrounding spaces.
    #[schema(max_length = 2097152)]
    pub text: String,
}

/// Reads an outline into a plan document. Fails, saying what was expected, when the
/// outline has no title, no period that can be read, or no goals.
pub fn parse(text: &str) -> Result<Outline, Vec<FieldError>> {
    let raw: Vec<&str> = text.lines().collect();
    let lines: Vec<Line> = raw.iter().map(|line| classify(line)).collect();
    let Some(title_at) = lines
        .iter()
        .position(|l| !matches!(l, Line::Blank | Line::Rule))
    else {
        return Err(vec![FieldError::new(
            "",
            "the outline is empty: expected the plan's title on the first line, such as \"Core Strategic Plan 2022-2025\", then its areas and numbered goals",
        )]);
    };
    let mut errors = Vec::new();
    let title = match &lines[title_at] {
        Line::Text(text) | Line::Bullet(_, text) => Some(text.clone()),
        Line::Heading(None, _, title) => Some(title.clone()),
        _ => {
            errors.push(FieldError::new(
                line_field(title_at),
                "expected the plan's title on the first line, such as \"Core Strategic Plan 2022-2025\", before any area, label or goal",
            ));
            None
        }
    };
    // The plan's own facts (period, approval, value proposition) come before its structure.
    let first = title_at + usize::from(title.is_some());
    let body = lines.iter().position(Line::starts_body);
    let body = body.unwrap_or(lines.len()).max(first);
    let mut reader = Reader::new(&raw, lines, body);
    let notes = &mut reader.notes;
    let approval = find_approval(&raw, first..body, notes);
    let found = find_period(&raw, (title_at, title.as_deref()), first..body, notes);
    let period = found.map_err(|error| errors.push(error)).ok();
    let period_end = period.as_ref().map(|p| p.end);
    reader.status_date = approval.on.or(period_end).unwrap_or_default();
    reader.skip = [approval.line, period.as_ref().and_then(|p| p.line)];
    reader.read(first);
    if reader.goals.is_empty() {
        errors.push(FieldError::new(
            "",
            "no recognisable structure: expected numbered goals such as \"1. ...\" under headings such as \"Strategic Area 1: ...\"",
        ));
    }
    match (title, period) {
        (Some(title), Some(period)) if errors.is_empty() => {
            Ok(reader.finish((title_at, &title), &period, approval))
        }
        _ => Err(errors),
    }
}

/// The `field` of an error about the 0-based line `at`.
fn line_field(at: usize) -> String {
    format!("line {}", at + 1)
}

// ----- Lines, judged on their own -----

/// What one line of an outline is, judged on its own.
#[derive(Debug, Clone, PartialEq)]
enum Line {
    /// Empty, or only spaces: ends a paragraph.
    Blank,
    /// A Markdown horizontal rule (`---`): ends the goal above it.
    Rule,
    /// "Goals:", "Objectives:": structure, not content.
    Label,
    /// A heading: its number, Markdown level and title. An area heading has a number
    /// ("Strategic Area 2: ...", "## Priority 1 — ..."); a plain Markdown heading has
    /// none, and is an area only if goals follow it.
    Heading(Option<u32>, Option<usize>, String),
    /// A numbered goal ("1. ...", "1.1) ...", "Goal 1.2: ..."): its indent, number and text.
    Goal(usize, Vec<u32>, String),
    /// An unnumbered bullet ("- ..."), with its indent: a sub-goal under a goal, else text.
    Bullet(usize, String),
    /// Anything else.
    Text(String),
}

impl Line {
    /// Whether the plan's structure (its goals and numbered areas) starts here.
    fn starts_body(&self) -> bool {
        matches!(self, Line::Goal(..) | Line::Heading(Some(_), ..))
    }

    /// For a value proposition heading, the text that follows it on the same line.
    fn value_proposition(&self) -> Option<&str> {
        match self {
            Line::Text(text) => value_proposition_heading(text, false),
            Line::Heading(None, _, title) => value_proposition_heading(title, true),
            _ => None,
        }
    }
}

/// What `raw` is, from its own words: structure is recognised by its opening words
/// and numbers, whatever the Markdown, bullets or indentation around them.
fn classify(raw: &str) -> Line {
    let trimmed = raw.trim();
    let bare = trimmed.replace(' ', "");
    if bare.len() >= 3
        && bare.starts_with(['-', '*', '_'])
        && bare.chars().all(|c| bare.starts_with(c))
    {
        return Line::Rule;
    }
    let indent = indent_of(raw);
    let text = plain(trimmed);
    let (level, text) = markdown_heading(&text);
    let (bullet, text) = strip_bullet(text);
    if text.is_empty() {
        return Line::Blank;
    }
    if let Some((number, title)) = area_heading(text, level.is_some()) {
        return Line::Heading(Some(number), level, title.to_owned());
    }
    if let Some((code, keyword, title)) = numbered(text) {
        // "## 1. Advocacy" heads an area; "### 1.1 ..." or "## Goal 1: ..." is a goal.
        if level.is_some() && !keyword && code.len() == 1 {
            return Line::Heading(Some(code[0]), level, title.to_owned());
        }
        return Line::Goal(indent, code, title.to_owned());
    }
    match (level, bullet) {
        _ if is_label(text) => Line::Label,
        (Some(_), _) => Line::Heading(None, level, text.to_owned()),
        (None, true) => Line::Bullet(indent, text.to_owned()),
        (None, false) => Line::Text(text.to_owned()),
    }
}

/// `text` without Markdown links (`[text](url)` → `text`), emphasis markers and
/// control characters (a stray NUL is no text a plan can hold).
fn plain(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(open) = rest.find('[') {
        out.push_str(&rest[..open]);
        rest = &rest[open + 1..];
        let close = rest.find("](").filter(|&at| !rest[..at].contains('['));
        match close.and_then(|close| Some((close, rest[close..].find(')')? + close))) {
            Some((close, end)) => {
                out.push_str(&rest[..close]);
                rest = &rest[end + 1..];
            }
            None => out.push('['),
        }
    }
    out.push_str(rest);
    out.retain(|c| !c.is_control());
    let out = out.replace("**", "").replace("__", "");
    // A whole line in italics: "*Approved by the Board on ...*" (but "* item" is a bullet).
    let inner = out
        .strip_prefix(['*', '_'])
        .and_then(|o| o.strip_suffix(['*', '_']));
    let inner = inner.filter(|inner| !inner.starts_with(' '));
    inner.unwrap_or(&out).trim().to_owned()
}

/// The Markdown heading level (`## ...` is 2) and the heading's text.
fn markdown_heading(text: &str) -> (Option<usize>, &str) {
    let hashes = text.len() - text.trim_start_matches('#').len();
    let rest = &text[hashes..];
    if (1..=6).contains(&hashes) && (rest.is_empty() || rest.starts_with(' ')) {
        (Some(hashes), rest.trim().trim_end_matches('#').trim_end())
    } else {
        (None, text)
    }
}

/// Whether `text` is a list item, and its text without the bullet.
fn strip_bullet(text: &str) -> (bool, &str) {
    let bullets = ["- ", "* ", "+ ", "• ", "– "];
    match bullets.iter().find_map(|b| text.strip_prefix(b)) {
        Some(rest) => (true, rest.trim_start()),
        None => (false, text),
    }
}

/// "Strategic Area 2: Title" → (2, "Title"). Outside a Markdown heading the number must
/// be followed by punctuation or nothing: "Priority 1 goals were met" is prose.
fn area_heading(text: &str, markdown: bool) -> Option<(u32, &str)> {
    let rest = strip_any_word(text, AREA_WORDS)?;
    let (code, rest) = dotted_number(rest)?;
    let punctuation = [':', '.', ')', '-', '–', '—'];
    let punctuated = rest.trim_start().starts_with(punctuation);
    let separated = rest.is_empty() || punctuated || markdown && rest.starts_with(' ');
    let title = trim_separators(rest);
    (code.len() == 1 && separated).then_some((code[0], if title.is_empty() { text } else { title }))
}

/// A numbered goal's number, whether a word such as "Goal" opened it, and its text.
fn numbered(text: &str) -> Option<(Vec<u32>, bool, &str)> {
    let after_word = strip_any_word(text, GOAL_WORDS);
    let (code, rest) = dotted_number(after_word.unwrap_or(text))?;
    let closed = rest.starts_with(['.', ')']);
    let rest = rest.strip_prefix(['.', ')']).unwrap_or(rest);
    // A lone number is a goal's only when closed ("1." or "1)"): "2024 was ..." is prose.
    let numbering = after_word.is_some() || closed || code.len() > 1;
    let separated = rest.starts_with(|c: char| c.is_whitespace() || ":-–—".contains(c));
    let title = trim_separators(rest);
    let goal = numbering && separated && !title.is_empty();
    goal.then_some((code, after_word.is_some(), title))
}

/// "2.2.1 rest" → ([2, 2, 1], " rest"); each part has one to three digits.
fn dotted_number(text: &str) -> Option<(Vec<u32>, &str)> {
    let mut code = Vec::new();
    let mut rest = text;
    loop {
        let digits = rest.len() - rest.trim_start_matches(|c: char| c.is_ascii_digit()).len();
        if !(1..=3).contains(&digits) {
            return None;
        }
        code.push(rest[..digits].parse().ok()?);
        rest = &rest[digits..];
        match rest.strip_prefix('.') {
            Some(next) if next.starts_with(|c: char| c.is_ascii_digit()) => rest = next,
            _ => return Some((code, rest)),
        }
    }
}

/// Whether `text` only names what follows: "Goals:", "Key Objectives", "Strategic Priorities:".
fn is_label(text: &str) -> bool {
    let lower = text.trim_end_matches(':').to_lowercase();
    let mut words = lower.split_whitespace();
    words.clone().any(|word| one_of(LABEL_NOUNS, word))
        && words.all(|word| one_of(LABEL_NOUNS, word) || one_of(LABEL_MODIFIERS, word))
}

/// For a line that heads the value proposition, the text after it on the same line
/// ("Value proposition: ..."). A long sentence that mentions one is not a heading.
fn value_proposition_heading(text: &str, markdown: bool) -> Option<&str> {
    let at = text.to_ascii_lowercase().find("value proposition")?;
    let after = text[at + "value proposition".len()..].trim_start();
    if let Some(inline) = after.strip_prefix(':').filter(|_| at <= 40) {
        return Some(inline.trim());
    }
    (markdown || heading_like(text)).then_some("")
}

/// Whether a plain-text line reads as a heading: short, and not ending a sentence.
fn heading_like(text: &str) -> bool {
    text.chars().count() <= 100 && !text.ends_with(['.', '!', '?', ',', ';'])
}

/// Whether `word` is one of the `|`-separated `list`.
fn one_of(list: &str, word: &str) -> bool {
    list.split('|').any(|known| known == word)
}

/// `text` after the first word of the `|`-separated `list` that opens it, and its spaces.
fn strip_any_word<'a>(text: &'a str, list: &str) -> Option<&'a str> {
    list.split('|').find_map(|word| strip_word(text, word))
}

/// `text` after `word` (in any case) and the spaces after it, if a space follows it.
fn strip_word<'a>(text: &'a str, word: &str) -> Option<&'a str> {
    let rest = strip_prefix_ci(text, word)?;
    rest.starts_with(char::is_whitespace)
        .then(|| rest.trim_start())
}

/// `text` without the punctuation that separates a number from its title: "1.1) — Title".
fn trim_separators(text: &str) -> &str {
    let separator = |c: char| c.is_whitespace() || ":.)-–—".contains(c);
    text.trim_start_matches(separator).trim_end()
}

/// How far a line is indented, in bytes of leading white space.
fn indent_of(raw: &str) -> usize {
    raw.len() - raw.trim_start().len()
}

// ----- The period, the approval and dates -----

/// The plan's period; `line` is the line it came from when that line says nothing else.
struct Period {
    start: NaiveDate,
    end: NaiveDate,
    line: Option<usize>,
}

/// Who approved the plan and when; `line` is the approval line, left out of the summary.
#[derive(Default)]
struct Approval {
    line: Option<usize>,
    by: Option<String>,
    on: Option<NaiveDate>,
}

/// The period from a "Period: ..." line, else from the first year range in the title
/// or an early line.
fn find_period(
    raw: &[&str],
    (title_at, title): (usize, Option<&str>),
    early: Range<usize>,
    notes: &mut Vec<(usize, String)>,
) -> Result<Period, FieldError> {
    let labelled = |at: usize| Some((at, period_label(&plain(raw[at]))?.to_owned()));
    if let Some((at, dates)) = early.clone().find_map(labelled) {
        let (start, end) = explicit_period(&dates).ok_or_else(|| FieldError::new(
            line_field(at),
            "expected the plan's period as two dates, such as \"Period: 2022-01-01 to 2025-06-30\", or as years, such as \"Period: 2022-2025\"",
        ))?;
        let line = Some(at);
        return Ok(Period { start, end, line });
    }
    let lines = title.map(|title| (title_at, title.to_owned())).into_iter();
    let mut lines = lines.chain(early.map(|at| (at, plain(raw[at]))));
    let found = lines.find_map(|(at, text)| Some((at, year_range(&text)?, heading_like(&text))));
    let Some((at, (start, end), heading)) = found else {
        return Err(FieldError::new(
            "",
            "no plan period found: expected a year range such as \"2022-2025\" in the title or a line near the top, or a line such as \"Period: 2022-01-01 to 2025-06-30\"",
        ));
    };
    // Many plans do not run with the calendar year: say how to give the exact dates.
    let (first, last) = (start.year(), end.year());
    notes.push((at, format!("the plan period {first}-{last} was read as {start} to {end}; a line such as \"Period: {first}-07-01 to {last}-06-30\" gives exact dates")));
    // A line such as "Strategic Plan 2023–2026" under the title is a subtitle, not summary.
    let line = (at != title_at && heading).then_some(at);
    Ok(Period { start, end, line })
}

/// The text after a label such as "Period:" or "Plan period:".
fn period_label(text: &str) -> Option<&str> {
    let (label, rest) = text.split_once(':')?;
    let label = label.trim().to_ascii_lowercase();
    (label.ends_with("period") && label.split_whitespace().count() <= 3).then_some(rest)
}

/// "2022-09-01 to 2025-08-31", or years as in [`year_range`].
fn explicit_period(text: &str) -> Option<(NaiveDate, NaiveDate)> {
    let words: Vec<&str> = text.split_whitespace().collect();
    if let Some((at, count, start)) = find_date(&words)
        && let Some((_, _, end)) = find_date(&words[at + count..])
    {
        return (start <= end).then_some((start, end));
    }
    year_range(text)
}

/// The first range of years in `text` ("2022-2025", "2022 – 2025", "2022 to 2025",
/// "FY2024-FY2026", "2024-26"), as January 1 of the first to December 31 of the last.
fn year_range(text: &str) -> Option<(NaiveDate, NaiveDate)> {
    let digits =
        |text: &str| text.len() - text.trim_start_matches(|c: char| c.is_ascii_digit()).len();
    (0..text.len()).find_map(|at| {
        let (before, rest) = (text.get(..at)?, &text[at..]);
        let first = year_number(rest.get(..4)?).filter(|_| digits(rest) == 4)?;
        if before.ends_with(|c: char| c.is_ascii_digit()) {
            return None;
        }
        let rest = rest[4..].trim_start();
        let separators = ["-", "–", "—", "to ", "through ", "until "];
        let rest = separators
            .iter()
            .find_map(|sep| strip_prefix_ci(rest, sep))?;
        let rest = rest.trim_start();
        let rest = strip_prefix_ci(rest, "fy").unwrap_or(rest);
        let after = &rest[digits(rest)..];
        // "2022-01-01" is a date, not the years 2022 to 2001.
        if after.starts_with(['-', '/']) && digits(&after[1..]) > 0 {
            return None;
        }
        let last = match digits(rest) {
            4 => rest[..4].parse().ok()?,
            2 => first / 100 * 100 + rest[..2].parse::<i32>().ok()?,
            _ => return None,
        };
        let start = NaiveDate::from_ymd_opt(first, 1, 1)?;
        let end = NaiveDate::from_ymd_opt(last, 12, 31)?;
        (first..=first + 20).contains(&last).then_some((start, end))
    })
}

/// `text` after `prefix`, compared without regard to ASCII case.
fn strip_prefix_ci<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
    let head = text.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &text[prefix.len()..])
}

/// Who approved (or adopted) the plan and when, from the first early line that says so:
/// "Updated Plan Approved by the Core Board of Directors April 18, 2024".
fn find_approval(raw: &[&str], early: Range<usize>, notes: &mut Vec<(usize, String)>) -> Approval {
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

/// The first date among `words` ("April 18, 2024", "18 April 2024", "2024-04-18"): the
/// index of its first word, how many words it takes, and the date.
fn find_date(words: &[&str]) -> Option<(usize, usize, NaiveDate)> {
    let punctuation = |c: char| !c.is_alphanumeric() && c != '-';
    let word = |k: usize| Some(words.get(k)?.trim_matches(punctuation));
    (0..words.len()).find_map(|k| {
        let iso = word(k).filter(|word| word.len() == 10);
        if let Some(date) = iso.and_then(|word| NaiveDate::parse_from_str(word, "%Y-%m-%d").ok()) {
            return Some((k, 1, date));
        }
        let (a, b, year) = (word(k)?, word(k + 1)?, year_number(word(k + 2)?)?);
        let (month, day) = match month_number(a) {
            Some(month) => (month, day_number(b)?),
            None => (month_number(b)?, day_number(a)?),
        };
        Some((k, 3, NaiveDate::from_ymd_opt(year, month, day)?))
    })
}

/// The first "March 2024" (as its first day) or bare year (as January 1) in `text`,
/// and how to say it.
fn month_year(text: &str) -> Option<(NaiveDate, String)> {
    let words: Vec<&str> = text.split(|c: char| !c.is_alphanumeric()).collect();
    let month = words.windows(2).find_map(|pair| {
        let (month, year) = (month_number(pair[0])?, year_number(pair[1])?);
        let name = MONTHS.split(' ').nth(month as usize - 1)?;
        let date = NaiveDate::from_ymd_opt(year, month, 1)?;
        Some((date, format!("{name} {year}")))
    });
    month.or_else(|| {
        let year = words.iter().find_map(|word| year_number(word))?;
        Some((NaiveDate::from_ymd_opt(year, 1, 1)?, year.to_string()))
    })
}

/// "March", "Mar", "Sept" → 3, 3, 9.
fn month_number(word: &str) -> Option<u32> {
    let word = word.to_ascii_lowercase();
    let known = |month: &str| word.len() >= 3 && month.to_ascii_lowercase().starts_with(&word);
    Some(MONTHS.split(' ').position(known)? as u32 + 1)
}

/// "18", "18th" → 18.
fn day_number(word: &str) -> Option<u32> {
    let digits = word.trim_end_matches(|c: char| c.is_ascii_alphabetic());
    let day = digits.parse().ok().filter(|_| digits.len() <= 2)?;
    (1..=31).contains(&day).then_some(day)
}

/// "2024" → 2024: four digits, a year a plan could be in.
fn year_number(word: &str) -> Option<i32> {
    let year = word.parse().ok().filter(|_| word.len() == 4)?;
    (1900..=2100).contains(&year).then_some(year)
}

/// `text` cut to at most `max` characters at a word boundary, with an ellipsis.
fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let cut: String = text.chars().take(max - 1).collect();
    // At the last space, unless that would drop more than half.
    let space = cut.rfind(char::is_whitespace).unwrap_or(0);
    let end = if space > cut.len() / 2 {
        space
    } else {
        cut.len()
    };
    format!("{}…", cut[..end].trim_end())
}

// ----- Placing lines -----

/// Paragraphs gathered from lines of the outline, with their (0-based) line numbers.
#[derive(Debug, Default)]
struct Text(Vec<(usize, String)>);

impl Text {
    fn push(&mut self, at: usize, text: &str) {
        self.0.push((at, text.to_owned()));
    }

    /// Lines next to each other make a paragraph (a list item keeps its own line);
    /// paragraphs are separated by a blank line, as in the outline.
    fn joined(&self) -> Option<String> {
        let mut lines: Vec<&(usize, String)> = self.0.iter().collect();
        lines.sort_by_key(|(at, _)| *at);
        let mut out = String::new();
        let mut previous: Option<usize> = None;
        for (at, text) in lines {
            out.push_str(
                match (previous.map(|p| p + 1 == *at), text.starts_with("- ")) {
                    (None, _) => "",
                    (Some(false), _) => "\n\n",
                    (Some(true), true) => "\n",
                    (Some(true), false) => " ",
                },
            );
            out.push_str(text);
            previous = Some(*at);
        }
        (!out.is_empty()).then_some(out)
    }
}

/// Where a line of text that is not structure goes.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
enum Target {
    #[default]
    Summary,
    ValueProposition,
    /// The latest area's description.
    Area,
    /// The description of this goal.
    Goal(usize),
    /// Unplaced.
    Nowhere,
}

/// A strategic area as read, with where it starts.
#[derive(Default)]
struct Area {
    line: usize,
    title: String,
    /// The number in its heading (none for a plain Markdown heading): goals "1.1",
    /// "1.2" under "Priority 1" are goals of the area.
    number: Option<u32>,
    /// Its Markdown heading level: deeper headings under it are text.
    level: Option<usize>,
    description: Text,
    bullets_are_goals: bool,
    dropped: bool,
}

/// A goal as read, in the flat list of all goals; `parent` links make the tree.
struct Goal {
    line: usize,
    area: usize,
    parent: Option<usize>,
    indent: usize,
    /// The goal's line or its latest continuation line.
    last_line: usize,
    code: Option<String>,
    title: String,
    description: Text,
    start_date: Option<NaiveDate>,
    /// Status updates, with the date each speaks for.
    updates: Vec<(NaiveDate, Value)>,
}

/// What an annotation in parentheses says about a goal.
enum Annotation {
    Update(NaiveDate, Value),
    Start(NaiveDate),
}

/// Reads the lines after the title, in order, keeping track of where text goes.
#[derive(Default)]
struct Reader<'a> {
    raw: &'a [&'a str],
    lines: Vec<Line>,
    /// Where the structure starts: only lines before it can head the value proposition.
    body: usize,
    /// A paragraph set apart after the last goal or bullet ends the outline: not the goal's.
    last_goal_line: Option<usize>,
    /// For each line, whether a numbered goal follows before the next heading.
    numbered_ahead: Vec<bool>,
    /// The date of statuses the outline marks: the approval date, else the period's end.
    status_date: NaiveDate,
    /// The approval and period lines: facts of the plan, not summary text.
    skip: [Option<usize>; 2],
    target: Target,
    summary: Text,
    value_proposition: Text,
    areas: Vec<Area>,
    goals: Vec<Goal>,
    /// The latest numbered goal at each depth of numbering in the current area.
    open: Vec<Option<usize>>,
    /// The latest numbered goal in the current area: unnumbered bullets go under it.
    anchor: Option<usize>,
    /// (indent, goal) of the unnumbered bullets since the anchor, to nest them by indent.
    bullets: Vec<(usize, usize)>,
    notes: Vec<(usize, String)>,
    unplaced: Vec<usize>,
}

impl<'a> Reader<'a> {
    fn new(raw: &'a [&'a str], lines: Vec<Line>, body: usize) -> Self {
        let mut numbered_ahead = vec![false; lines.len() + 1];
        for (at, line) in lines.iter().enumerate().rev() {
            numbered_ahead[at] = match line {
                Line::Goal(..) => true,
                Line::Heading(..) => false,
                _ => numbered_ahead[at + 1],
            };
        }
        let is_goal = |line: &Line| matches!(line, Line::Goal(..) | Line::Bullet(..));
        let last_goal_line = lines.iter().rposition(is_goal);
        Self {
            raw,
            lines,
            body,
            last_goal_line,
            numbered_ahead,
            ..Self::default()
        }
    }

    fn note(&mut self, at: usize, message: String) {
        self.notes.push((at, message));
    }

    /// Places every line from `first` on.
    fn read(&mut self, first: usize) {
        for at in first..self.lines.len() {
            let line = self.lines[at].clone();
            if self.skip.contains(&Some(at)) {
                continue;
            }
            if let Some(inline) = line.value_proposition().filter(|_| at < self.body) {
                self.target = Target::ValueProposition;
                if !inline.is_empty() {
                    self.value_proposition.push(at, inline);
                }
                continue;
            }
            let area_level = self.areas.last().and_then(|area| area.level);
            let in_preamble = matches!(self.target, Target::Summary | Target::ValueProposition);
            match line {
                Line::Rule if matches!(self.target, Target::Goal(_)) => {
                    self.target = Target::Nowhere;
                }
                Line::Label if in_preamble => self.target = Target::Nowhere,
                Line::Blank | Line::Rule | Line::Label => {}
                // A deeper plain heading inside an area ("### Background") is its text.
                Line::Heading(None, Some(level), title)
                    if area_level.is_some_and(|l| l < level) =>
                {
                    self.push_text(at, &title);
                }
                Line::Heading(number, level, title) => self.start_area(at, &title, number, level),
                Line::Goal(indent, code, text) => self.add_numbered_goal(at, indent, &code, &text),
                Line::Bullet(indent, text) => self.add_bullet(at, indent, &text),
                Line::Text(text) => self.push_text(at, &text),
            }
        }
    }

    /// Starts an area: the text that follows is its description, until its first goal.
    fn start_area(&mut self, at: usize, title: &str, number: Option<u32>, level: Option<usize>) {
        let title = self.shortened(at, title, SHORT_TEXT, "area title");
        self.areas.push(Area {
            line: at,
            title,
            number,
            level,
            ..Area::default()
        });
        self.target = Target::Area;
        self.open.clear();
        self.anchor = None;
        self.bullets.clear();
    }

    /// A goal numbered "2.3" goes under the latest goal numbered one level up in its area.
    fn add_numbered_goal(&mut self, at: usize, indent: usize, code: &[u32], text: &str) {
        if self.areas.is_empty() {
            let note = format!(
                "goals before any area heading were put in an area named \"{IMPLICIT_AREA}\""
            );
            self.note(at, note);
            self.start_area(at, IMPLICIT_AREA, Some(1), None);
        }
        let area = self.areas.len() - 1;
        let depth = code.len();
        let dotted = |code: &[u32]| {
            code.iter()
                .map(u32::to_string)
                .collect::<Vec<_>>()
                .join(".")
        };
        let up = depth.checked_sub(2);
        let parent = up.and_then(|up| self.open.get(up).copied().flatten());
        // "1.1" under "Priority 1", with no goal "1": the area's number opens its goals' numbers.
        let numbered_by_area = depth == 2 && self.areas[area].number == Some(code[0]);
        let title = self.areas[area].title.clone();
        let (number, up) = (dotted(code), dotted(&code[..depth - 1]));
        if depth > 1 && parent.is_none() && !numbered_by_area {
            let note = format!(
                "goal {number} has no goal {up} before it in its area, so it was put directly under the area \"{title}\""
            );
            self.note(at, note);
        }
        let goal = self.add_goal(at, parent, Some(number), indent, text);
        self.open.resize(depth, None);
        self.open[depth - 1] = Some(goal);
        self.anchor = Some(goal);
        self.bullets.clear();
    }

    /// An unnumbered bullet is a sub-goal under a numbered goal (nested by indent), a
    /// goal of an area that has no numbered goals, or else text.
    fn add_bullet(&mut self, at: usize, indent: usize, text: &str) {
        let in_goals = matches!(self.target, Target::Goal(_));
        let in_area = in_goals || self.target == Target::Area;
        let area_goal = self.anchor.is_none() && in_area && !self.numbered_ahead[at];
        if !(in_goals && self.anchor.is_some() || area_goal) {
            return self.push_text(at, &format!("- {text}"));
        }
        let area = self.areas.last_mut().filter(|area| !area.bullets_are_goals);
        if let Some(area) = area.filter(|_| area_goal) {
            area.bullets_are_goals = true;
            let title = &area.title;
            let note = format!(
                "the area \"{title}\" has no numbered goals, so its bullets were read as its goals"
            );
            self.note(at, note);
        }
        // The bullets above with a smaller indent, of which the nearest is the parent.
        self.bullets.retain(|&(above, _)| above < indent);
        let parent = self.bullets.last().map(|&(_, goal)| goal).or(self.anchor);
        let goal = self.add_goal(at, parent, None, indent, text);
        self.bullets.push((indent, goal));
    }

    /// Adds a goal under `parent` (or its area), its annotations read from its text.
    fn add_goal(
        &mut self,
        at: usize,
        parent: Option<usize>,
        code: Option<String>,
        indent: usize,
        text: &str,
    ) -> usize {
        // Deeper than a plan nests: a sibling of the deepest goal it can go under.
        let mut parent = parent;
        while let Some(goal) = parent.filter(|&goal| self.level(goal) >= MAX_LEVELS) {
            parent = self.goals[goal].parent;
            let note = format!(
                "goals nest at most {MAX_LEVELS} levels deep, so this one was put at level {MAX_LEVELS}"
            );
            self.note(at, note);
        }
        let (mut title, updates, start_date) = self.annotations(text);
        if title.is_empty() {
            title = text.to_owned();
        }
        let mut description = Text::default();
        let length = title.chars().count();
        if length > GOAL_TITLE {
            let note = format!(
                "the goal title is {length} characters, more than the {GOAL_TITLE} allowed; it was cut at a word boundary and kept whole in the description"
            );
            self.note(at, note);
            description.push(at, &title);
            title = shorten(&title, GOAL_TITLE);
        }
        self.goals.push(Goal {
            line: at,
            area: self.areas.len() - 1,
            parent,
            indent,
            last_line: at,
            code,
            title,
            description,
            start_date,
            updates,
        });
        self.target = Target::Goal(self.goals.len() - 1);
        self.goals.len() - 1
    }

    /// Makes the goals' codes unique in their area, as the import requires. A goal
    /// without a number is numbered by its place ("2.1" for the first under "2"), which
    /// may be a number the outline gave another goal; a number may also be repeated.
    fn settle_codes(
        &mut self,
        goals: &[usize],
        parent: Option<&str>,
        seen: &mut HashSet<String>,
        children: &[Vec<usize>],
    ) {
        for (index, &goal) in goals.iter().enumerate() {
            let derived =
                parent.map_or((index + 1).to_string(), |up| format!("{up}.{}", index + 1));
            let given = self.goals[goal]
                .code
                .take()
                .filter(|code| code.len() <= MAX_CODE);
            let mut code = given.clone().unwrap_or_else(|| derived.clone());
            let clash = seen.contains(&code);
            if clash {
                let taken = code.clone();
                let mut suffixed = ('b'..='z').map(|letter| format!("{taken}{letter}"));
                code = suffixed
                    .find(|code| !seen.contains(code))
                    .unwrap_or(derived);
                let note = format!(
                    "the number {taken} is already another goal's in this area, so this goal is numbered {code}"
                );
                self.note(self.goals[goal].line, note);
            }
            seen.insert(code.clone());
            // The outline's number, or a new one; a goal without either is numbered by its place.
            self.goals[goal].code = (given.is_some() || clash).then(|| code.clone());
            self.settle_codes(&children[goal], Some(&code), seen, children);
        }
    }

    /// A goal's level: 1 for a goal of its area, 2 for its sub-goals, ...
    fn level(&self, goal: usize) -> usize {
        std::iter::successors(Some(goal), |&goal| self.goals[goal].parent).count()
    }

    /// Text that is not structure goes where the outline is: the summary, the value
    /// proposition, an area's description, a goal's description, or unplaced.
    fn push_text(&mut self, at: usize, text: &str) {
        let indent = indent_of(self.raw[at]);
        let more_goals = self.last_goal_line.is_some_and(|last| at < last);
        match self.target {
            Target::Summary => self.summary.push(at, text),
            Target::ValueProposition => self.value_proposition.push(at, text),
            Target::Area => {
                if let Some(area) = self.areas.last_mut() {
                    area.description.push(at, text);
                }
            }
            // A continuation: the next line, an indented one, or a paragraph between goals.
            Target::Goal(goal)
                if at == self.goals[goal].last_line + 1
                    || indent > self.goals[goal].indent
                    || more_goals =>
            {
                self.goals[goal].description.push(at, text);
                self.goals[goal].last_line = at;
            }
            Target::Goal(_) | Target::Nowhere => {
                self.target = Target::Nowhere;
                self.unplaced.push(at);
            }
        }
    }

    /// A goal's title without the annotations in parentheses that say something about
    /// it ("(Completed)", "(Revision March 2024)", "(New goal as of 2023)"), and what they say.
    fn annotations(&self, text: &str) -> (String, Vec<(NaiveDate, Value)>, Option<NaiveDate>) {
        let (mut title, mut updates, mut start_date) = (String::new(), Vec::new(), None);
        let mut rest = text;
        let group = |rest: &str| {
            rest.find('(')
                .and_then(|o| Some((o, o + rest[o..].find(')')?)))
        };
        while let Some((open, close)) = group(rest) {
            title.push_str(&rest[..open]);
            match self.annotation(&rest[open + 1..close]) {
                Some(Annotation::Update(as_of, update)) => updates.push((as_of, update)),
                Some(Annotation::Start(date)) => start_date = Some(date),
                None => title.push_str(&rest[open..=close]),
            }
            rest = &rest[close + 1..];
        }
        title.push_str(rest);
        let title = title.split_whitespace().collect::<Vec<_>>().join(" ");
        let title = title.replace(" .", ".").replace(" ,", ",");
        (trim_separators(&title).to_owned(), updates, start_date)
    }

    /// What the text inside one pair of parentheses says, if it is an annotation.
    fn annotation(&self, inside: &str) -> Option<Annotation> {
        let said = inside.trim().trim_end_matches(['.', '!']).to_lowercase();
        let update = |status: GoalStatus, as_of: NaiveDate, note: String| {
            let progress = (status == GoalStatus::Completed).then_some(100);
            let update = json!({"status": status, "progress_percent": progress, "as_of": as_of, "note": note});
            Some(Annotation::Update(as_of, update))
        };
        if let Some(&(status, _)) = MARKS.iter().find(|(_, words)| one_of(words, &said)) {
            let said = if status == GoalStatus::Completed {
                "completed"
            } else {
                &said
            };
            return update(
                status,
                self.status_date,
                format!("Marked {said} in the plan outline"),
            );
        }
        let first = said.split_whitespace().next()?.trim_end_matches([':', '.']);
        if one_of("revision|revised|updated|update|rev", first) {
            let (as_of, when) = month_year(&said)?;
            return update(GoalStatus::OnTrack, as_of, format!("Revised in {when}"));
        }
        // "(New goal as of 2023)", "(New in 2023)", "(Added 2023)"; not a longer aside.
        let new = first == "added" || first == "new" && said.split_whitespace().count() <= 5;
        let (start, _) = month_year(&said).filter(|_| new)?;
        Some(Annotation::Start(start))
    }

    /// `text` cut to `max` characters, with a note when it had to be.
    fn shortened(&mut self, at: usize, text: &str, max: usize, what: &str) -> String {
        let length = text.chars().count();
        if length > max {
            let note = format!(
                "the {what} is {length} characters, more than the {max} allowed; it was cut at a word boundary"
            );
            self.note(at, note);
        }
        shorten(text, max)
    }

    /// A plain Markdown heading with no goals under it is not an area: before the first
    /// goal it is part of the introduction, after the last one it is not part of the plan.
    fn settle_headings_without_goals(&mut self) {
        let with_goals: HashSet<usize> = self.goals.iter().map(|goal| goal.area).collect();
        let (Some(&first), Some(&last)) = (with_goals.iter().min(), with_goals.iter().max()) else {
            return;
        };
        for (index, area) in self.areas.iter_mut().enumerate() {
            if area.number.is_some() || with_goals.contains(&index) {
                continue;
            }
            let message = if index < first {
                // "Mission: To advance ...": a paragraph of the introduction.
                let colon = if area.title.ends_with([':', '.', '?', '!']) {
                    ""
                } else {
                    ":"
                };
                self.summary
                    .push(area.line, &format!("{}{colon}", area.title));
                self.summary.0.append(&mut area.description.0);
                "has no goals under it, so it and its text were put in the summary"
            } else if index > last {
                self.unplaced.push(area.line);
                self.unplaced
                    .extend(area.description.0.iter().map(|(at, _)| at));
                "comes after the last goal, so it and its text were not imported"
            } else {
                "has no goals under it; it was imported as an area without goals"
            };
            area.dropped = index < first || index > last;
            let note = format!("the heading \"{}\" {message}", area.title);
            self.notes.push((area.line, note));
        }
    }

    /// The plan document: the goal tree built from its parent links, codes made
    /// unique, keys without a value left out; with the notes in line order.
    fn finish(
        mut self,
        (title_at, title): (usize, &str),
        period: &Period,
        approval: Approval,
    ) -> Outline {
        let title = self.shortened(title_at, title, SHORT_TEXT, "plan title");
        self.settle_headings_without_goals();
        let mut children = vec![Vec::new(); self.goals.len()];
        let mut roots = vec![Vec::new(); self.areas.len()];
        for (id, goal) in self.goals.iter().enumerate() {
            match goal.parent {
                Some(parent) => children[parent].push(id),
                None => roots[goal.area].push(id),
            }
        }
        for roots in &roots {
            self.settle_codes(roots, None, &mut HashSet::new(), &children);
        }
        let mut notes = std::mem::take(&mut self.notes);
        let mut areas = Vec::new();
        for (area, roots) in self
            .areas
            .iter()
            .zip(&roots)
            .filter(|(area, _)| !area.dropped)
        {
            let description = long_text(&area.description, &mut notes);
            let goals: Vec<Value> = roots
                .iter()
                .map(|&id| self.goal_json(id, &children, &mut notes))
                .collect();
            areas.push(json!({"title": area.title, "description": description, "goals": goals}));
        }
        let document = json!({
            "title": title,
            "summary": long_text(&self.summary, &mut notes),
            "value_proposition": long_text(&self.value_proposition, &mut notes),
            "period_start": period.start,
            "period_end": period.end,
            "approved_by": approval.by,
            "approved_on": approval.on,
            "areas": areas,
        });
        notes.sort_by_key(|(at, _)| *at);
        let notes = notes
            .into_iter()
            .map(|(at, note)| format!("line {}: {note}", at + 1));
        self.unplaced.sort_unstable();
        self.unplaced.dedup();
        let text = |at: usize| self.raw[at].trim().to_owned();
        let unplaced = self.unplaced.iter().map(|&at| UnplacedLine {
            line: at + 1,
            text: text(at),
        });
        let (document, unplaced, notes) = (pruned(document), unplaced.collect(), notes.collect());
        Outline {
            document,
            unplaced,
            notes,
        }
    }

    /// A goal and its sub-goals as the document has them, status updates newest first.
    fn goal_json(
        &self,
        id: usize,
        children: &[Vec<usize>],
        notes: &mut Vec<(usize, String)>,
    ) -> Value {
        let goal = &self.goals[id];
        let mut updates = goal.updates.clone();
        updates.sort_by_key(|(as_of, _)| Reverse(*as_of));
        let updates: Vec<Value> = updates.into_iter().map(|(_, update)| update).collect();
        let sub_goals: Vec<Value> = children[id]
            .iter()
            .map(|&sub| self.goal_json(sub, children, notes))
            .collect();
        json!({
            "title": goal.title,
            "code": goal.code,
            "description": long_text(&goal.description, notes),
            "start_date": goal.start_date,
            "status_updates": updates,
            "sub_goals": sub_goals,
        })
    }
}

/// The text, if there is any, cut to the longest text a field holds.
fn long_text(text: &Text, notes: &mut Vec<(usize, String)>) -> Option<String> {
    let joined = text.joined()?;
    let length = joined.chars().count();
    if length > LONG_TEXT {
        let at = text.0.iter().map(|(at, _)| *at).min().unwrap_or_default();
        let note = format!(
            "the text from this line on is {length} characters, more than the {LONG_TEXT} a field holds; it was cut at a word boundary"
        );
        notes.push((at, note));
    }
    Some(shorten(&joined, LONG_TEXT))
}

/// `value` without nulls and empty lists: a document leaves out keys with no value.
fn pruned(value: Value) -> Value {
    let present =
        |value: &Value| !value.is_null() && value.as_array().is_none_or(|l| !l.is_empty());
    match value {
        Value::Object(object) => {
            let object = object.into_iter().filter(|(_, value)| present(value));
            Value::Object(object.map(|(key, value)| (key, pruned(value))).collect())
        }
        Value::Array(items) => Value::Array(items.into_iter().map(pruned).collect()),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CORE: &str = include_str!("../examples/core-strategic-plan-2022-2025.txt");

    /// Another association's plan, in Markdown: "Priority N —" headings, "Goal 1.1:"
    /// lines behind bullets, sub-bullets, a link, a closing remark.
    const MARKDOWN: &str = "\
# Library Futures Association: Strategic Plan FY2024-FY2026

*Adopted by the LFA Council on 12 March 2024.*

Three years to put members' work at the centre of the field.
Each priority below has an owner on the Council.

## Our value proposition

LFA is where people who build library technology learn from each other.

## Priority 1 — Advocacy

Speak for libraries wherever policy is made.

### Goals

- **Goal 1.1:** Publish a [policy agenda](https://lfa.example/agenda) (Done)
  - Draft the agenda with the policy committee
  - Consult members at the annual meeting
- Goal 1.2: Testify at two state hearings a year (At risk)
  Work with state chapters to find the hearings.

## Priority 2 — Learning

- Goal 2.1: Launch a certificate program (New in 2025)
  - Goal 2.1.1: Pilot it with 20 learners (Updated June 2025)

---

Questions? Write to plan@lfa.example.
";

    /// Another association's plan, in plain text: "Pillar" headings, "1)" numbering,
    /// an en dash year range on a subtitle line, "(Done)" and "(Added 2024)".
    const PLAIN: &str = "\
Riverside Historical Society
Strategic Plan 2023–2026

Approved by the Board of Trustees, 18 November 2023

PILLAR 1: COLLECTIONS
Care for what we hold, and let people see it.
Objectives:
1) Digitise the photograph archive (Done)
2) Rehouse the map collection (Added 2024)
   Needs a climate-controlled room.
Pillar 2 – Community
1) Run four public talks a year (In progress)
2) Recruit ten new volunteers (Revised September 2024) (On hold)
   - Partner with the local college
   - Start a volunteer newsletter
3) Open a reading room on Saturdays (Discontinued)
4) Publish a walking-tour map (Complete) (see the 2022 survey)
";

    fn read(text: &str) -> Outline {
        match parse(text) {
            Ok(outline) => outline,
            Err(errors) => panic!("the outline should parse: {errors:?}"),
        }
    }

    fn rejected(text: &str) -> Vec<FieldError> {
        match parse(text) {
            Ok(outline) => panic!("the outline should not parse: {:?}", outline.document),
            Err(errors) => errors,
        }
    }

    fn list<'a>(value: &'a Value, key: &str) -> &'a [Value] {
        value[key].as_array().map_or(&[], Vec::as_slice)
    }

    /// The goal (at any depth) with `code` in `area`.
    fn goal<'a>(area: &'a Value, code: &str) -> &'a Value {
        fn find<'a>(goals: &'a [Value], code: &str) -> Option<&'a Value> {
            goals.iter().find_map(|goal| {
                (goal["code"] == code)
                    .then_some(goal)
                    .or_else(|| find(list(goal, "sub_goals"), code))
            })
        }
        find(list(area, "goals"), code).unwrap_or_else(|| panic!("no goal {code} in {area}"))
    }

    /// Every goal's code in plan order, "-" for a goal without one, nesting shown by
    /// the parent's code: "2>2.2" is 2.2 under 2.
    fn tree(area: &Value) -> Vec<String> {
        fn walk(goals: &[Value], parent: &str, out: &mut Vec<String>) {
            for goal in goals {
                let code = goal["code"].as_str().unwrap_or("-");
                out.push(if parent.is_empty() {
                    code.to_owned()
                } else {
                    format!("{parent}>{code}")
                });
                walk(list(goal, "sub_goals"), code, out);
            }
        }
        let mut out = Vec::new();
        walk(list(area, "goals"), "", &mut out);
        out
    }

    fn titles(goals: &[Value]) -> Vec<&str> {
        goals
            .iter()
            .map(|goal| goal["title"].as_str().unwrap_or_default())
            .collect()
    }

    #[test]
    fn the_core_plan_reads_as_its_board_approved_it() {
        let outline = read(CORE);
        let plan = &outline.document;
        assert_eq!(plan["title"], "Core Strategic Plan 2022-2025");
        assert_eq!(
            (&plan["period_start"], &plan["period_end"]),
            (&json!("2022-01-01"), &json!("2025-12-31"))
        );
        assert_eq!(plan["approved_by"], "Core Board of Directors");
        assert_eq!(plan["approved_on"], "2024-04-18");
        let value_proposition = plan["value_proposition"].as_str().unwrap_or_default();
        assert!(
            value_proposition.starts_with("At some phases of your career, you will need Core.")
        );
        // The introduction, its links as plain text, without the approval line.
        let summary = plan["summary"].as_str().unwrap_or_default();
        assert!(summary.starts_with("The Core Strategic Plan is a continuation of the work outlined in the first Strategic Action Plan, which"));
        assert!(summary.ends_with("Please see the Strategic Goals Tracking Sheet for updates on goals listed but not yet completed."));
        assert!(!summary.contains("Approved by") && !summary.contains("](#)"));

        let areas = list(plan, "areas");
        assert_eq!(areas.len(), 2);
        let (first, second) = (&areas[0], &areas[1]);
        assert_eq!(first["title"], "Strategic Area 1");
        assert_eq!(
            tree(first),
            [
                "1", "1>1.1", "1>1.2", "1>1.3", "2", "2>2.1", "2>2.2", "3", "3>3.1", "3>3.2",
                "3>3.3"
            ]
        );
        assert_eq!(
            goal(first, "1")["title"],
            "Develop overall member engagement and public relations campaign"
        );
        for code in ["2.2", "3.1"] {
            let revised = goal(first, code);
            assert!(
                !revised["title"]
                    .as_str()
                    .unwrap_or_default()
                    .contains("Revision")
            );
            assert_eq!(
                revised["status_updates"],
                json!([{"status": "on_track", "as_of": "2024-03-01", "note": "Revised in March 2024"}])
            );
        }
        assert!(
            goal(first, "2.2")["title"]
                .as_str()
                .unwrap_or_default()
                .starts_with("Identify specific recruitment activities")
        );
        let new_goal = goal(first, "3.3");
        assert_eq!(new_goal["start_date"], "2023-01-01");
        assert!(
            new_goal["title"]
                .as_str()
                .unwrap_or_default()
                .starts_with("Work with board")
        );
        assert!(goal(first, "1.2").get("status_updates").is_none());

        assert_eq!(second["title"], "Career Building and Recognition");
        assert_eq!(
            second["description"],
            "Help members develop skills throughout the"
        );
        assert_eq!(tree(second), ["2", "2>2.2", "2>2.3"]);
        assert_eq!(
            goal(second, "2")["title"],
            "Offer continuing education programs t"
        );
        assert_eq!(
            titles(list(goal(second, "2"), "sub_goals")),
            [
                "Align journals on single platform and general practices",
                "Develop Core handbook for leadership expectations, policies, and procedures"
            ]
        );
        for code in ["2.2", "2.3"] {
            assert_eq!(
                goal(second, code)["status_updates"],
                json!([{"status": "completed", "progress_percent": 100, "as_of": "2024-04-18", "note": "Marked completed in the plan outline"}])
            );
        }

        // Every line found its place; the guesses are told.
        assert_eq!(outline.unplaced, []);
        assert_eq!(
            outline.notes,
            [
                "line 3: the plan period 2022-2025 was read as 2022-01-01 to 2025-12-31; a line such as \"Period: 2022-07-01 to 2025-06-30\" gives exact dates",
                "line 25: goals before any area heading were put in an area named \"Strategic Area 1\"",
            ]
        );
    }

    #[test]
    fn a_markdown_outline_with_priorities_and_goal_lines() {
        let outline = read(MARKDOWN);
        let plan = &outline.document;
        assert_eq!(
            plan["title"],
            "Library Futures Association: Strategic Plan FY2024-FY2026"
        );
        assert_eq!(
            (&plan["period_start"], &plan["period_end"]),
            (&json!("2024-01-01"), &json!("2026-12-31"))
        );
        assert_eq!(
            (&plan["approved_by"], &plan["approved_on"]),
            (&json!("LFA Council"), &json!("2024-03-12"))
        );
        assert_eq!(
            plan["summary"],
            "Three years to put members' work at the centre of the field. Each priority below has an owner on the Council."
        );
        assert_eq!(
            plan["value_proposition"],
            "LFA is where people who build library technology learn from each other."
        );

        let areas = list(plan, "areas");
        assert_eq!(titles(areas), ["Advocacy", "Learning"]);
        let (advocacy, learning) = (&areas[0], &areas[1]);
        assert_eq!(
            advocacy["description"],
            "Speak for libraries wherever policy is made."
        );
        // "Goal 1.1" under "Priority 1" is a goal of the area; plain bullets are its sub-goals.
        assert_eq!(tree(advocacy), ["1.1", "1.1>-", "1.1>-", "1.2"]);
        let agenda = goal(advocacy, "1.1");
        assert_eq!(agenda["title"], "Publish a policy agenda");
        assert_eq!(agenda["status_updates"][0]["status"], "completed");
        assert_eq!(agenda["status_updates"][0]["as_of"], "2024-03-12");
        assert_eq!(
            titles(list(agenda, "sub_goals")),
            [
                "Draft the agenda with the policy committee",
                "Consult members at the annual meeting"
            ]
        );
        let hearings = goal(advocacy, "1.2");
        assert_eq!(hearings["title"], "Testify at two state hearings a year");
        assert_eq!(
            hearings["description"],
            "Work with state chapters to find the hearings."
        );
        assert_eq!(
            hearings["status_updates"],
            json!([{"status": "at_risk", "as_of": "2024-03-12", "note": "Marked at risk in the plan outline"}])
        );

        assert_eq!(tree(learning), ["2.1", "2.1>2.1.1"]);
        assert_eq!(goal(learning, "2.1")["start_date"], "2025-01-01");
        assert_eq!(
            goal(learning, "2.1.1")["status_updates"][0]["as_of"],
            "2025-06-01"
        );

        // The closing remark is not part of the plan, and the user is told so.
        assert_eq!(
            outline.unplaced,
            [UnplacedLine {
                line: 31,
                text: "Questions? Write to plan@lfa.example.".into()
            }]
        );
        assert_eq!(outline.notes.len(), 1, "{:?}", outline.notes);
        assert!(
            outline.notes[0].starts_with(
                "line 1: the plan period 2024-2026 was read as 2024-01-01 to 2026-12-31"
            )
        );
    }

    #[test]
    fn a_plain_text_outline_with_pillars() {
        let outline = read(PLAIN);
        let plan = &outline.document;
        assert_eq!(plan["title"], "Riverside Historical Society");
        // The subtitle gave the period and is not taken for an introduction.
        assert_eq!(
            (&plan["period_start"], &plan["period_end"]),
            (&json!("2023-01-01"), &json!("2026-12-31"))
        );
        assert!(plan.get("summary").is_none() && plan.get("value_proposition").is_none());
        assert_eq!(
            (&plan["approved_by"], &plan["approved_on"]),
            (&json!("Board of Trustees"), &json!("2023-11-18"))
        );

        let areas = list(plan, "areas");
        assert_eq!(titles(areas), ["COLLECTIONS", "Community"]);
        let (collections, community) = (&areas[0], &areas[1]);
        assert_eq!(
            collections["description"],
            "Care for what we hold, and let people see it."
        );
        assert_eq!(tree(collections), ["1", "2"]);
        assert_eq!(
            goal(collections, "1")["status_updates"][0]["status"],
            "completed"
        );
        assert_eq!(
            goal(collections, "1")["status_updates"][0]["as_of"],
            "2023-11-18"
        );
        let map = goal(collections, "2");
        assert_eq!(
            (&map["title"], &map["start_date"]),
            (&json!("Rehouse the map collection"), &json!("2024-01-01"))
        );
        assert_eq!(map["description"], "Needs a climate-controlled room.");

        assert_eq!(tree(community), ["1", "2", "2>-", "2>-", "3", "4"]);
        assert_eq!(
            goal(community, "1")["status_updates"][0]["status"],
            "on_track"
        );
        // Newest first: the revision of September 2024 comes before the approval-day status.
        let statuses: Vec<(&Value, &Value)> = list(goal(community, "2"), "status_updates")
            .iter()
            .map(|update| (&update["status"], &update["as_of"]))
            .collect();
        assert_eq!(
            statuses,
            [
                (&json!("on_track"), &json!("2024-09-01")),
                (&json!("on_hold"), &json!("2023-11-18"))
            ]
        );
        assert_eq!(
            goal(community, "3")["status_updates"][0]["status"],
            "discontinued"
        );
        // A remark in parentheses that says nothing about status stays in the title.
        assert_eq!(
            goal(community, "4")["title"],
            "Publish a walking-tour map (see the 2022 survey)"
        );
        assert_eq!(
            goal(community, "4")["status_updates"][0]["progress_percent"],
            100
        );

        assert_eq!(outline.unplaced, []);
        assert_eq!(outline.notes.len(), 1, "{:?}", outline.notes);
        assert!(outline.notes[0].starts_with("line 2: the plan period 2023-2026"));
    }

    #[test]
    fn headings_without_numbers_exact_dates_and_bullets_as_goals() {
        let outline = read(
            "# Open Data Guild Plan 2024-26\n\
             Period: 2024-07-01 to 2026-06-30\n\
             \n\
             ## Introduction\n\
             We wrote this plan with members.\n\
             \n\
             ## Standards\n\
             - Publish a metadata profile\n\
             \x20 - Consult the working groups\n\
             - Run a validator service\n\
             \n\
             ## Appendix\n\
             Glossary of terms.\n",
        );
        let plan = &outline.document;
        // The explicit dates win over the years in the title.
        assert_eq!(
            (&plan["period_start"], &plan["period_end"]),
            (&json!("2024-07-01"), &json!("2026-06-30"))
        );
        assert_eq!(
            plan["summary"],
            "Introduction: We wrote this plan with members."
        );
        let areas = list(plan, "areas");
        assert_eq!(titles(areas), ["Standards"]);
        assert_eq!(tree(&areas[0]), ["-", "->-", "-"]);
        assert_eq!(
            titles(list(&areas[0], "goals")),
            ["Publish a metadata profile", "Run a validator service"]
        );
        assert_eq!(
            outline.unplaced,
            [
                UnplacedLine {
                    line: 12,
                    text: "## Appendix".into()
                },
                UnplacedLine {
                    line: 13,
                    text: "Glossary of terms.".into()
                },
            ]
        );
        assert_eq!(
            outline.notes,
            [
                "line 4: the heading \"Introduction\" has no goals under it, so it and its text were put in the summary",
                "line 8: the area \"Standards\" has no numbered goals, so its bullets were read as its goals",
                "line 12: the heading \"Appendix\" comes after the last goal, so it and its text were not imported",
            ]
        );
    }

    #[test]
    fn a_deep_outline_nests_to_eight_levels() {
        let mut text = String::from("Deep Plan 2024-2027\n\nStrategic Area 1: Depth\n");
        for depth in 1..=9 {
            text.push_str(&format!("{}. Level {depth}\n", vec!["1"; depth].join(".")));
        }
        text.push_str("2. Another goal\n2.1.1. Skips a level\n");
        let outline = read(&text);
        let area = &list(&outline.document, "areas")[0];
        let mut level = goal(area, "1");
        for depth in 2..=8 {
            level = &list(level, "sub_goals")[0];
            assert_eq!(level["title"], format!("Level {depth}"));
        }
        // The ninth level cannot be stored: it becomes a sibling of the eighth.
        let seventh = goal(area, "1.1.1.1.1.1.1");
        assert_eq!(titles(list(seventh, "sub_goals")), ["Level 8", "Level 9"]);
        // "2.1.1" has no "2.1" to go under: it goes under the area, and the user is told.
        assert_eq!(
            titles(list(area, "goals")),
            ["Level 1", "Another goal", "Skips a level"]
        );
        assert_eq!(goal(area, "2.1.1")["code"], "2.1.1");
        assert_eq!(
            outline.notes[1..],
            [
                "line 12: goals nest at most 8 levels deep, so this one was put at level 8",
                "line 14: goal 2.1.1 has no goal 2.1 before it in its area, so it was put directly under the area \"Depth\"",
            ]
        );
    }

    #[test]
    fn an_empty_outline_asks_for_a_title() {
        for text in ["", "\n   \n\t\n"] {
            let errors = rejected(text);
            assert_eq!(errors.len(), 1);
            assert_eq!(errors[0].field, "");
            assert!(
                errors[0]
                    .message
                    .starts_with("the outline is empty: expected the plan's title")
            );
        }
        let errors = rejected("1. Grow membership 2024-2026\n");
        assert_eq!(errors[0].field, "line 1");
        assert!(
            errors[0]
                .message
                .contains("expected the plan's title on the first line")
        );
    }

    #[test]
    fn an_outline_without_goals_says_what_structure_is_expected() {
        let errors = rejected("Our Plan 2024-2026\n\nWe will do great things together.\n");
        assert_eq!(
            errors,
            [FieldError::new(
                "",
                "no recognisable structure: expected numbered goals such as \"1. ...\" under headings such as \"Strategic Area 1: ...\""
            )]
        );
    }

    #[test]
    fn an_outline_without_a_period_says_how_to_give_one() {
        let errors = rejected("Our Plan\n\nArea 1: Members\n1. Grow membership\n");
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].field, "");
        assert!(
            errors[0].message.contains("\"2022-2025\"")
                && errors[0]
                    .message
                    .contains("Period: 2022-01-01 to 2025-06-30")
        );
        // Every problem at once.
        assert_eq!(rejected("Our Plan\n\nSome words.\n").len(), 2);
        // A period line that cannot be read is named by its line.
        let errors = rejected("Our Plan\nPeriod: from spring until done\n1. Grow membership\n");
        assert_eq!(errors[0].field, "line 2");
        assert!(
            errors[0]
                .message
                .starts_with("expected the plan's period as two dates")
        );
    }

    #[test]
    fn long_titles_are_cut_at_a_word_and_kept_whole_in_the_description() {
        let long = "word ".repeat(120);
        let outline = read(&format!("Plan 2024-2025\n\n1. {long}\n"));
        let goal = &list(&list(&outline.document, "areas")[0], "goals")[0];
        let title = goal["title"].as_str().unwrap_or_default();
        assert!(title.chars().count() <= GOAL_TITLE && title.ends_with("word…"));
        assert_eq!(goal["description"], long.trim());
        assert!(
            outline
                .notes
                .iter()
                .any(|note| note.starts_with("line 3: the goal title is 599 characters"))
        );
    }

    #[test]
    fn year_ranges_and_dates_in_the_ways_plans_write_them() {
        let years =
            |text: &str| year_range(text).map(|(start, end)| (start.to_string(), end.to_string()));
        let range = Some(("2022-01-01".to_owned(), "2025-12-31".to_owned()));
        for text in [
            "Plan 2022-2025",
            "Plan 2022–2025",
            "2022 - 2025",
            "from 2022 to 2025",
            "FY2022-FY2025",
            "2022-25",
        ] {
            assert_eq!(years(text), range, "{text}");
        }
        for text in [
            "2022-01-01",
            "updated 2024-04",
            "2025-2022",
            "12022-2025",
            "in 2022",
        ] {
            assert_eq!(years(text), None, "{text}");
        }
        let date = |text: &str| {
            find_date(&text.split_whitespace().collect::<Vec<_>>())
                .map(|(_, _, date)| date.to_string())
        };
        for text in [
            "April 18, 2024",
            "on 18 April 2024.",
            "2024-04-18",
            "Apr 18th 2024",
        ] {
            assert_eq!(date(text).as_deref(), Some("2024-04-18"), "{text}");
        }
        assert_eq!(date("April 2024"), None);
    }

    #[test]
    fn a_repeated_number_gets_a_letter() {
        let outline =
            read("Plan 2024-2026\n\nArea 1: Members\n1. Grow\n2. Keep\n2. Welcome\n3. Thank\n");
        let area = &list(&outline.document, "areas")[0];
        assert_eq!(tree(area), ["1", "2", "2b", "3"]);
        assert_eq!(
            outline.notes[1],
            "line 6: the number 2 is already another goal's in this area, so this goal is numbered 2b"
        );
    }

    /// Whatever the text, the parser answers without panicking, and every document it
    /// makes is one the import accepts: titles, lengths, depths, unique codes.
    #[test]
    fn any_text_is_read_or_refused_and_what_is_read_imports() {
        let tokens = [
            "1.",
            "1.1",
            "2)",
            "Goal ",
            "## ",
            "# ",
            "- ",
            "  ",
            "(",
            ")",
            "Done",
            "2024",
            "–",
            "-",
            "26",
            "é",
            "€",
            "[",
            "](",
            "Period:",
            "approved by ",
            "\n",
            "\n\n",
            " ",
            "Area 1:",
            "Pillar 2 —",
            "value proposition",
            "*",
            "FY",
            "Goals:",
            "---",
            "\t",
            "\0",
            "2022-2025\n",
            "\n1. Grow ",
            "\n  1.1 Teach ",
            "\nGoal 2.1: Lead ",
            "\n- Sub ",
            "\n  - Deep ",
            "\n### Area ",
            "(Completed)",
            "(Added 2023)",
            "(Revised March 2024)",
        ];
        let mut seed: u64 = 7;
        let mut next = || {
            seed = seed
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (seed >> 33) as usize
        };
        for round in 0..3_000 {
            let mut text = String::from(if round % 3 == 0 {
                ""
            } else {
                "Plan 2022-2025\n"
            });
            for _ in 0..next() % 80 {
                text.push_str(tokens[next() % tokens.len()]);
            }
            match parse(&text) {
                Ok(outline) => {
                    if let Err(error) = crate::models::import::read(outline.document) {
                        panic!(
                            "{text:?} was read into a document the import refuses: {:?}",
                            error.problem()
                        );
                    }
                }
                Err(errors) => assert!(!errors.is_empty(), "{text:?}"),
            }
        }
    }
}
