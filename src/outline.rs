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

use std::collections::HashSet;
use std::ops::Range;

use chrono::NaiveDate;
use serde::Serialize;
use serde_json::{Map, Value, json};
use utoipa::ToSchema;

use crate::error::FieldError;
use crate::models::GoalStatus;
use crate::models::goal::MAX_LEVELS;
use crate::validation::{LONG_TEXT, SHORT_TEXT};

/// Longest goal title, in characters: plans state goals as whole sentences.
const GOAL_TITLE: usize = 500;
/// The area for goals written before any area heading.
const IMPLICIT_AREA: &str = "Strategic Area 1";
/// A line this long or shorter that says who approved the plan is the approval line
/// and is not repeated in the summary; a longer one is prose that mentions it.
const APPROVAL_LINE: usize = 160;
const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
/// Words that open an area heading, longest first so that "Strategic Area" wins over "Area".
const AREA_WORDS: &[&str] = &[
    "strategic priority",
    "strategic direction",
    "strategic pillar",
    "strategic theme",
    "strategic area",
    "priority area",
    "focus area",
    "goal area",
    "priority",
    "direction",
    "pillar",
    "theme",
    "area",
];
/// Words that may open a numbered goal: "Goal 1:", "Objective 1.2:".
const GOAL_WORDS: &[&str] = &[
    "strategic objective",
    "strategic goal",
    "sub-goal",
    "subgoal",
    "objective",
    "strategy",
    "goal",
    "initiative",
    "action",
];
/// A label line ("Goals:", "Key Objectives:") names one of these ...
const LABEL_NOUNS: &[&str] = &[
    "goals",
    "objectives",
    "strategies",
    "actions",
    "initiatives",
    "tactics",
    "outcomes",
    "priorities",
    "pillars",
    "areas",
    "directions",
    "themes",
    "sub-goals",
    "subgoals",
];
/// ... and has no words but these besides.
const LABEL_MODIFIERS: &[&str] = &["key", "strategic", "our", "and", "&", "focus", "goal"];

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
    #[schema(minimum = 1)]
    pub line: usize,
    /// The line as written, without surrounding spaces.
    pub text: String,
}

/// Reads an outline into a plan document. Fails, naming what was expected, when the
/// outline has no title, no period that can be read, or no goals.
pub fn parse(text: &str) -> Result<Outline, Vec<FieldError>> {
    let raw: Vec<&str> = text.lines().collect();
    let lines: Vec<Line> = raw.iter().map(|line| classify(line)).collect();
    let Some(title_at) = lines
        .iter()
        .position(|line| !matches!(line, Line::Blank | Line::Rule))
    else {
        return Err(vec![FieldError::new(
            "",
            "the outline is empty: expected the plan's title on the first line, such as \"Core Strategic Plan 2022-2025\", then its areas and numbered goals",
        )]);
    };
    let mut errors = Vec::new();
    let title = match &lines[title_at] {
        Line::Text(text) | Line::Bullet { text, .. } => Some(text.clone()),
        Line::Area {
            title,
            explicit: false,
            ..
        } => Some(title.clone()),
        _ => {
            errors.push(FieldError::new(
                line_field(title_at),
                "expected the plan's title on the first line, such as \"Core Strategic Plan 2022-2025\", before any area, label or goal",
            ));
            None
        }
    };
    let first_body = title_at + usize::from(title.is_some());
    // The plan's own facts (period, approval, value proposition) come before its structure.
    let body_start = lines
        .iter()
        .position(Line::starts_body)
        .unwrap_or(lines.len());
    let early = first_body..body_start.max(first_body);

    let mut reader = Reader::new(&raw, lines, early.end);
    let approval = find_approval(&raw, early.clone(), &mut reader.notes);
    let period = match find_period(&raw, title_at, title.as_deref(), early, &mut reader.notes) {
        Ok(period) => Some(period),
        Err(error) => {
            errors.push(error);
            None
        }
    };
    reader.status_date = approval
        .on
        .or(period.as_ref().map(|p| p.end))
        .unwrap_or_default();
    reader.skip = [approval.line, period.as_ref().and_then(|p| p.line)];
    reader.read(first_body..raw.len());
    if reader.goals.is_empty() {
        errors.push(FieldError::new(
            "",
            "no recognisable structure: expected numbered goals such as \"1. ...\" under headings such as \"Strategic Area 1: ...\"",
        ));
    }
    match (title, period) {
        (Some(title), Some(period)) if errors.is_empty() => {
            let title = reader.shortened(title_at, &title, SHORT_TEXT, "plan title");
            Ok(reader.finish(title, &period, approval))
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
    /// An area heading ("Strategic Area 2: ...", "## Priority 1 — ...": `explicit`), or
    /// any other Markdown heading (not `explicit`: an area if goals follow it).
    Area {
        number: Option<u32>,
        title: String,
        level: Option<usize>,
        explicit: bool,
    },
    /// A numbered goal ("1. ...", "1.1) ...", "Goal 1.2: ..."), behind a bullet or not.
    Goal {
        code: Vec<u32>,
        indent: usize,
        text: String,
    },
    /// An unnumbered bullet ("- ..."): a sub-goal under a goal, otherwise text.
    Bullet { indent: usize, text: String },
    /// "Goals:", "Objectives:": structure, not content.
    Label,
    /// Anything else.
    Text(String),
}

impl Line {
    /// Whether the plan's structure (its goals and named areas) starts here.
    fn starts_body(&self) -> bool {
        matches!(self, Line::Goal { .. } | Line::Area { explicit: true, .. })
    }

    /// For a value proposition heading, the text that follows it on the same line.
    fn value_proposition(&self) -> Option<&str> {
        match self {
            Line::Text(text) => value_proposition_heading(text, false),
            Line::Area {
                title,
                explicit: false,
                ..
            } => value_proposition_heading(title, true),
            _ => None,
        }
    }
}

fn classify(raw: &str) -> Line {
    let trimmed = raw.trim();
    if trimmed.is_empty() {
        return Line::Blank;
    }
    if trimmed.len() >= 3
        && ["-", "*", "_"]
            .iter()
            .any(|c| trimmed.replace(' ', "").replace(c, "").is_empty())
    {
        return Line::Rule;
    }
    let indent = raw.len() - raw.trim_start().len();
    let text = plain(trimmed);
    let (level, text) = markdown_heading(&text);
    let (bullet, text) = strip_bullet(text);
    if let Some((number, title)) = area_heading(text, level.is_some()) {
        return Line::Area {
            number: Some(number),
            title,
            level,
            explicit: true,
        };
    }
    if let Some((code, keyword, title)) = numbered(text) {
        // "## 1. Advocacy" heads an area; "### 1.1 ..." or "## Goal 1: ..." is a goal.
        if level.is_some() && !keyword && code.len() == 1 {
            return Line::Area {
                number: Some(code[0]),
                title: title.to_owned(),
                level,
                explicit: true,
            };
        }
        return Line::Goal {
            code,
            indent,
            text: title.to_owned(),
        };
    }
    if is_label(text) {
        return Line::Label;
    }
    match (level, bullet) {
        (Some(_), _) => Line::Area {
            number: None,
            title: text.to_owned(),
            level,
            explicit: false,
        },
        (None, true) => Line::Bullet {
            indent,
            text: text.to_owned(),
        },
        (None, false) => Line::Text(text.to_owned()),
    }
}

/// `text` without Markdown links (`[text](url)` → `text`) and emphasis markers.
fn plain(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(open) = rest.find('[') {
        out.push_str(&rest[..open]);
        let inside = &rest[open + 1..];
        let link = inside.find(']').and_then(|close| {
            let url = inside[close + 1..].strip_prefix('(')?;
            Some((close, url.find(')')? + close + 3))
        });
        match link {
            Some((close, end)) => {
                out.push_str(&inside[..close]);
                rest = &inside[end..];
            }
            None => {
                out.push('[');
                rest = inside;
            }
        }
    }
    out.push_str(rest);
    let out = out.replace("**", "").replace("__", "");
    // A whole line in italics: "*Approved by the Board on ...*".
    let inner = out
        .strip_prefix(['*', '_'])
        .and_then(|o| o.strip_suffix(['*', '_']));
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

fn strip_bullet(text: &str) -> (bool, &str) {
    match ["- ", "* ", "+ ", "• ", "– "]
        .iter()
        .find_map(|b| text.strip_prefix(b))
    {
        Some(rest) => (true, rest.trim_start()),
        None => (false, text),
    }
}

/// "Strategic Area 2: Title" → (2, "Title"). In plain text the number must be followed
/// by punctuation or nothing, so that prose such as "Priority 1 goals were met" is not a heading.
fn area_heading(text: &str, heading: bool) -> Option<(u32, String)> {
    let rest = AREA_WORDS.iter().find_map(|word| strip_word(text, word))?;
    let (code, rest) = dotted_number(rest)?;
    let punctuated = rest.is_empty() || rest.starts_with([':', '.', ')', '-', '–', '—']);
    if code.len() != 1 || !(punctuated || heading && rest.starts_with(' ')) {
        return None;
    }
    let title = trim_separators(rest);
    Some((
        code[0],
        if title.is_empty() { text } else { title }.to_owned(),
    ))
}

/// A numbered goal's number, whether a word such as "Goal" opened it, and its text.
fn numbered(text: &str) -> Option<(Vec<u32>, bool, &str)> {
    let after_word = GOAL_WORDS.iter().find_map(|word| strip_word(text, word));
    let (code, rest) = dotted_number(after_word.unwrap_or(text))?;
    let (closed, rest) = match rest.strip_prefix(['.', ')']) {
        Some(rest) => (true, rest),
        None => (false, rest),
    };
    // A lone number is a goal's only when closed ("1." or "1)"), so "2024 was ..." is prose.
    let numbering = after_word.is_some() || closed || code.len() > 1;
    let separated = rest.starts_with(|c: char| c.is_whitespace() || ":-–—".contains(c));
    let title = trim_separators(rest);
    (numbering && separated && !title.is_empty()).then_some((code, after_word.is_some(), title))
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

fn is_label(text: &str) -> bool {
    let lower = text.trim_end_matches(':').to_lowercase();
    let words: Vec<&str> = lower.split_whitespace().collect();
    words.iter().any(|word| LABEL_NOUNS.contains(word))
        && words
            .iter()
            .all(|word| LABEL_NOUNS.contains(word) || LABEL_MODIFIERS.contains(word))
}

/// For a line that heads the value proposition, the text after it on the same line
/// ("Value proposition: ..."). A long sentence that mentions one is not a heading.
fn value_proposition_heading(text: &str, heading: bool) -> Option<&str> {
    let at = text.to_ascii_lowercase().find("value proposition")?;
    let after = text[at + "value proposition".len()..].trim_start();
    if let Some(inline) = after.strip_prefix(':').filter(|_| at <= 40) {
        return Some(inline.trim());
    }
    let short = text.chars().count() <= 100 && !text.ends_with(['.', '!', '?', ',', ';']);
    (heading || short).then_some("")
}

/// `text` after `word` (any case) and the spaces after it; `None` unless a space follows it.
fn strip_word<'a>(text: &'a str, word: &str) -> Option<&'a str> {
    let rest = strip_prefix_ci(text, word)?;
    rest.starts_with(char::is_whitespace)
        .then(|| rest.trim_start())
}

fn strip_prefix_ci<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
    let head = text.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &text[prefix.len()..])
}

fn trim_separators(text: &str) -> &str {
    text.trim_start_matches(|c: char| c.is_whitespace() || ":.)-–—".contains(c))
        .trim_end()
}

// ----- Dates, the period and the approval -----

/// The plan's period; `line` is the "Period: ..." line it was read from, if any.
struct Period {
    start: NaiveDate,
    end: NaiveDate,
    line: Option<usize>,
}

/// Who approved the plan and when; `line` is the approval line, kept out of the summary.
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
    title_at: usize,
    title: Option<&str>,
    early: Range<usize>,
    notes: &mut Vec<(usize, String)>,
) -> Result<Period, FieldError> {
    for at in early.clone() {
        let text = plain(raw[at]);
        let Some(rest) = period_label(&text) else {
            continue;
        };
        return explicit_period(rest)
            .map(|(start, end)| Period { start, end, line: Some(at) })
            .ok_or_else(|| FieldError::new(
                line_field(at),
                "expected the plan's period as two dates, such as \"Period: 2022-01-01 to 2025-06-30\", or as years, such as \"Period: 2022-2025\"",
            ));
    }
    let lines = title.map(|title| (title_at, title.to_owned())).into_iter();
    let lines = lines.chain(early.map(|at| (at, plain(raw[at]))));
    let Some((at, (start, end))) = lines
        .into_iter()
        .find_map(|(at, text)| Some((at, year_range(&text)?)))
    else {
        return Err(FieldError::new(
            "",
            "no plan period found: expected a year range such as \"2022-2025\" in the title or a line near the top, or a line such as \"Period: 2022-01-01 to 2025-06-30\"",
        ));
    };
    // Most plans do not run with the calendar year; say how to give the exact dates.
    let (first, last) = (&start.to_string()[..4], &end.to_string()[..4]);
    notes.push((at, format!(
        "the plan period {first}-{last} was read as {start} to {end}; a line such as \"Period: {first}-07-01 to {last}-06-30\" gives exact dates"
    )));
    Ok(Period {
        start,
        end,
        line: None,
    })
}

/// The text after a label such as "Period:" or "Plan period:".
fn period_label(text: &str) -> Option<&str> {
    let (label, rest) = text.split_once(':')?;
    let label = label.trim().to_ascii_lowercase();
    (label.ends_with("period") && label.split_whitespace().count() <= 3).then_some(rest)
}

/// "2022-09-01 to 2025-08-31", or years as in [`year_range`].
fn explicit_period(text: &str) -> Option<(NaiveDate, NaiveDate)> {
    if let Some((_, end_of_first, start)) = find_date(text)
        && let Some((_, _, end)) = find_date(&text[end_of_first..])
    {
        return (start <= end).then_some((start, end));
    }
    year_range(text)
}

/// The first range of years in `text` ("2022-2025", "2022 – 2025", "2022 to 2025",
/// "FY2024-FY2026", "2024-26") as January 1 of the first to December 31 of the last.
fn year_range(text: &str) -> Option<(NaiveDate, NaiveDate)> {
    let year_at = |at: usize| {
        let digits = text.get(at..at + 4)?;
        let alone = !text[..at].ends_with(|c: char| c.is_ascii_digit())
            && !text[at + 4..].starts_with(|c: char| c.is_ascii_digit());
        alone.then(|| year_number(digits)).flatten()
    };
    (0..text.len()).find_map(|at| {
        let first = year_at(at)?;
        let rest = text[at + 4..].trim_start();
        let separators = ["-", "–", "—", "to ", "through ", "until "];
        let rest = separators
            .iter()
            .find_map(|sep| strip_prefix_ci(rest, sep))?
            .trim_start();
        let rest = strip_prefix_ci(rest, "fy").unwrap_or(rest);
        let digits = rest.len() - rest.trim_start_matches(|c: char| c.is_ascii_digit()).len();
        let after = &rest[digits..];
        // "2022-01-01" is a date, not the years 2022 to 2001.
        if after.starts_with(['-', '/']) && after[1..].starts_with(|c: char| c.is_ascii_digit()) {
            return None;
        }
        let last = match digits {
            4 => rest[..4].parse().ok()?,
            2 => first / 100 * 100 + rest[..2].parse::<i32>().ok()?,
            _ => return None,
        };
        if !(first..=first + 20).contains(&last) {
            return None;
        }
        Some((
            NaiveDate::from_ymd_opt(first, 1, 1)?,
            NaiveDate::from_ymd_opt(last, 12, 31)?,
        ))
    })
}

/// Who approved (or adopted) the plan and when, from the first early line that says so:
/// "Updated Plan Approved by the Core Board of Directors April 18, 2024".
fn find_approval(raw: &[&str], early: Range<usize>, notes: &mut Vec<(usize, String)>) -> Approval {
    for at in early {
        let text = plain(raw[at]);
        let lower = text.to_ascii_lowercase();
        let phrases = ["approved by ", "adopted by "];
        let Some(from) = phrases
            .iter()
            .find_map(|p| lower.find(p).map(|i| i + p.len()))
        else {
            continue;
        };
        let after = &text[from..];
        let date = find_date(after);
        let by = &after[..date.map_or(after.len(), |(start, _, _)| start)];
        let ends = [" on ", ",", ";", ". ", " at ", " in "];
        let cut = ends
            .iter()
            .filter_map(|end| by.to_ascii_lowercase().find(end))
            .min();
        let by = by[..cut.unwrap_or(by.len())].trim().trim_end_matches('.');
        let by = strip_word(by, "the").unwrap_or(by);
        if date.is_none() {
            notes.push((at, "no approval date could be read; expected one such as \"April 18, 2024\" or \"2024-04-18\"".to_owned()));
        }
        return Approval {
            line: (text.chars().count() <= APPROVAL_LINE).then_some(at),
            by: (!by.is_empty()).then(|| shorten(by, SHORT_TEXT)),
            on: date.map(|(_, _, date)| date),
        };
    }
    Approval::default()
}

/// The first date in `text` ("April 18, 2024", "18 April 2024", "2024-04-18") and the
/// byte range it spans.
fn find_date(text: &str) -> Option<(usize, usize, NaiveDate)> {
    let words = words(text);
    let word = |k: usize| words.get(k).map(|&(_, word)| word);
    (0..words.len()).find_map(|k| {
        let (date, count) = match NaiveDate::parse_from_str(word(k)?, "%Y-%m-%d") {
            Ok(date) => (date, 1),
            Err(_) => {
                let (a, b, year) = (word(k)?, word(k + 1)?, year_number(word(k + 2)?)?);
                let (month, day) = match month_number(a) {
                    Some(month) => (month, day_number(b)?),
                    None => (month_number(b)?, day_number(a)?),
                };
                (NaiveDate::from_ymd_opt(year, month, day)?, 3)
            }
        };
        let (last_at, last) = words[k + count - 1];
        Some((words[k].0, last_at + last.len(), date))
    })
}

/// The first "March 2024" (as its first day) or bare year (as January 1) in `text`,
/// with how to say it.
fn month_year(text: &str) -> Option<(NaiveDate, String)> {
    let words = words(text);
    let month = words.windows(2).find_map(|pair| {
        let (month, year) = (month_number(pair[0].1)?, year_number(pair[1].1)?);
        let name = MONTHS[month as usize - 1];
        Some((
            NaiveDate::from_ymd_opt(year, month, 1)?,
            format!("{name} {year}"),
        ))
    });
    month.or_else(|| {
        let year = words.iter().find_map(|&(_, word)| year_number(word))?;
        Some((NaiveDate::from_ymd_opt(year, 1, 1)?, year.to_string()))
    })
}

/// The words of `text` without surrounding punctuation, with their byte offsets.
fn words(text: &str) -> Vec<(usize, &str)> {
    let punctuation = |c: char| !c.is_alphanumeric() && c != '-';
    let mut words = Vec::new();
    let mut start = None;
    for (at, c) in text.char_indices().chain([(text.len(), ' ')]) {
        match (c.is_whitespace(), start) {
            (true, Some(from)) => {
                let word = &text[from..at];
                let trimmed = word.trim_matches(punctuation);
                if !trimmed.is_empty() {
                    let lead = word.len() - word.trim_start_matches(punctuation).len();
                    words.push((from + lead, trimmed));
                }
                start = None;
            }
            (false, None) => start = Some(at),
            _ => {}
        }
    }
    words
}

/// "March", "Mar", "Sept" → 3, 3, 9.
fn month_number(word: &str) -> Option<u32> {
    let word = word.to_ascii_lowercase();
    let known = |month: &&str| word.len() >= 3 && month.to_ascii_lowercase().starts_with(&word);
    MONTHS
        .iter()
        .position(|month| known(&month))
        .map(|index| index as u32 + 1)
}

/// "18", "18th" → 18.
fn day_number(word: &str) -> Option<u32> {
    let digits = word.trim_end_matches(|c: char| c.is_ascii_alphabetic());
    let suffix = &word[digits.len()..].to_ascii_lowercase();
    let plain = ["", "st", "nd", "rd", "th"].contains(&suffix.as_str()) && digits.len() <= 2;
    plain
        .then(|| digits.parse().ok())
        .flatten()
        .filter(|day| (1..=31).contains(day))
}

fn year_number(word: &str) -> Option<i32> {
    let year = (word.len() == 4).then(|| word.parse().ok()).flatten()?;
    (1900..=2100).contains(&year).then_some(year)
}

/// `text` cut to at most `max` characters at a word boundary, with an ellipsis.
fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let cut: String = text.chars().take(max - 1).collect();
    let word_end = cut
        .rfind(char::is_whitespace)
        .filter(|&at| at > cut.len() / 2);
    format!("{}…", cut[..word_end.unwrap_or(cut.len())].trim_end())
}

fn indent_of(raw: &str) -> usize {
    raw.len() - raw.trim_start().len()
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
            if let Some(previous) = previous {
                out.push_str(match () {
                    () if *at != previous + 1 => "\n\n",
                    () if text.starts_with("- ") => "\n",
                    () => " ",
                });
            }
            out.push_str(text);
            previous = Some(*at);
        }
        (!out.is_empty()).then_some(out)
    }
}

/// Where a line of text that is not structure goes.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Target {
    Summary,
    ValueProposition,
    /// The latest area's description.
    Area,
    /// The description of this goal.
    Goal(usize),
    /// Unplaced.
    Nowhere,
}

struct Area {
    line: usize,
    title: String,
    /// The number in its heading: goals "1.1", "1.2" under "Priority 1" are its goals.
    number: Option<u32>,
    /// Its Markdown heading level; deeper headings under it are text.
    level: Option<usize>,
    /// Named as an area ("Pillar 2: ..."), not just a Markdown heading.
    explicit: bool,
    description: Text,
    codes: HashSet<String>,
    bullets_noted: bool,
    kept: bool,
}

struct Goal {
    area: usize,
    parent: Option<usize>,
    indent: usize,
    /// The goal's line or its latest continuation line.
    last_line: usize,
    code: Option<String>,
    title: String,
    description: Text,
    start_date: Option<NaiveDate>,
    updates: Vec<Update>,
}

#[derive(Clone)]
struct Update {
    status: GoalStatus,
    progress: Option<u8>,
    as_of: NaiveDate,
    note: String,
}

enum Annotation {
    Update(Update),
    Start(NaiveDate),
}

/// Annotations that mark a goal's status, and how they are written.
const MARKS: &[(&[&str], GoalStatus)] = &[
    (
        &["completed", "complete", "done", "achieved", "accomplished"],
        GoalStatus::Completed,
    ),
    (
        &["in progress", "ongoing", "underway", "on track"],
        GoalStatus::OnTrack,
    ),
    (&["at risk"], GoalStatus::AtRisk),
    (
        &["off track", "delayed", "behind schedule"],
        GoalStatus::OffTrack,
    ),
    (&["on hold", "paused", "deferred"], GoalStatus::OnHold),
    (
        &["discontinued", "dropped", "cancelled", "canceled"],
        GoalStatus::Discontinued,
    ),
    (&["not started"], GoalStatus::NotStarted),
];

/// Reads the lines after the title, in order, keeping track of where text goes.
struct Reader<'a> {
    raw: &'a [&'a str],
    lines: Vec<Line>,
    /// Where the structure starts: only lines before it can head the value proposition.
    body_start: usize,
    /// A paragraph set apart after the last goal or bullet is the outline's ending, not the goal's.
    last_goal_line: Option<usize>,
    /// For each line, whether a numbered goal follows before the next heading.
    numbered_ahead: Vec<bool>,
    /// The date of status updates the outline marks: the approval date, else the period end.
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
    /// (indent, goal) of the unnumbered bullets since the anchor, for nesting by indent.
    bullets: Vec<(usize, usize)>,
    notes: Vec<(usize, String)>,
    unplaced: Vec<usize>,
}

impl<'a> Reader<'a> {
    fn new(raw: &'a [&'a str], lines: Vec<Line>, body_start: usize) -> Self {
        let mut numbered_ahead = vec![false; lines.len() + 1];
        for at in (0..lines.len()).rev() {
            numbered_ahead[at] = match lines[at] {
                Line::Goal { .. } => true,
                Line::Area { .. } => false,
                _ => numbered_ahead[at + 1],
            };
        }
        let last_goal_line = lines
            .iter()
            .rposition(|line| matches!(line, Line::Goal { .. } | Line::Bullet { .. }));
        Self {
            raw,
            lines,
            body_start,
            last_goal_line,
            numbered_ahead,
            status_date: NaiveDate::default(),
            skip: [None; 2],
            target: Target::Summary,
            summary: Text::default(),
            value_proposition: Text::default(),
            areas: Vec::new(),
            goals: Vec::new(),
            open: Vec::new(),
            anchor: None,
            bullets: Vec::new(),
            notes: Vec::new(),
            unplaced: Vec::new(),
        }
    }

    fn note(&mut self, at: usize, message: String) {
        self.notes.push((at, message));
    }

    fn read(&mut self, lines: Range<usize>) {
        for at in lines {
            if self.skip.contains(&Some(at)) {
                continue;
            }
            let line = self.lines[at].clone();
            if at < self.body_start
                && let Some(inline) = line.value_proposition()
            {
                self.target = Target::ValueProposition;
                if !inline.is_empty() {
                    self.value_proposition.push(at, inline);
                }
                continue;
            }
            match line {
                Line::Blank => {}
                Line::Rule => {
                    if let Target::Goal(_) = self.target {
                        self.target = Target::Nowhere;
                    }
                }
                Line::Label => {
                    if let Target::Summary | Target::ValueProposition = self.target {
                        self.target = Target::Nowhere;
                    }
                }
                Line::Area {
                    level: Some(level),
                    explicit: false,
                    title,
                    ..
                } if self
                    .areas
                    .last()
                    .and_then(|area| area.level)
                    .is_some_and(|l| level > l) =>
                {
                    self.push_text(at, &title);
                }
                Line::Area {
                    number,
                    title,
                    level,
                    explicit,
                } => {
                    self.start_area(at, number, &title, level, explicit);
                }
                Line::Goal { code, indent, text } => {
                    self.add_numbered_goal(at, &code, indent, &text)
                }
                Line::Bullet { indent, text } => self.add_bullet(at, indent, &text),
                Line::Text(text) => self.push_text(at, &text),
            }
        }
    }

    fn start_area(
        &mut self,
        at: usize,
        number: Option<u32>,
        title: &str,
        level: Option<usize>,
        explicit: bool,
    ) {
        let title = self.shortened(at, title, SHORT_TEXT, "area title");
        self.areas.push(Area {
            line: at,
            title,
            number,
            level,
            explicit,
            description: Text::default(),
            codes: HashSet::new(),
            bullets_noted: false,
            kept: true,
        });
        self.target = Target::Area;
        self.open.clear();
        self.anchor = None;
        self.bullets.clear();
    }

    /// A goal numbered "2.3" goes under the latest goal numbered one level up in its area.
    fn add_numbered_goal(&mut self, at: usize, code: &[u32], indent: usize, text: &str) {
        if self.areas.is_empty() {
            self.note(
                at,
                format!(
                    "goals before any area heading were put in an area named \"{IMPLICIT_AREA}\""
                ),
            );
            self.start_area(at, Some(1), IMPLICIT_AREA, None, true);
        }
        let area = self.areas.len() - 1;
        let depth = code.len();
        let number = |code: &[u32]| {
            code.iter()
                .map(u32::to_string)
                .collect::<Vec<_>>()
                .join(".")
        };
        let parent = depth
            .checked_sub(2)
            .and_then(|up| self.open.get(up).copied().flatten());
        // "1.1" under "Priority 1" (with no goal "1"): the area's number opens its goals' numbers.
        let numbered_by_area = depth == 2 && self.areas[area].number == Some(code[0]);
        if depth > 1 && parent.is_none() && !numbered_by_area {
            let message = format!(
                "goal {} has no goal {} before it in its area, so it was put directly under the area \"{}\"",
                number(code),
                number(&code[..depth - 1]),
                self.areas[area].title
            );
            self.note(at, message);
        }
        let code = number(code);
        let code = if self.areas[area].codes.insert(code.clone()) {
            Some(code)
        } else {
            let message = format!(
                "the number {code} is used twice in the area \"{}\"; this goal was imported without it and is numbered by its position",
                self.areas[area].title
            );
            self.note(at, message);
            None
        };
        let goal = self.add_goal(at, parent, code, indent, text);
        self.open.truncate(depth);
        self.open.resize(depth, None);
        self.open[depth - 1] = Some(goal);
        self.anchor = Some(goal);
        self.bullets.clear();
    }

    /// An unnumbered bullet is a sub-goal under a numbered goal (nested by indent), a
    /// goal of an area that has no numbered goals, or else text.
    fn add_bullet(&mut self, at: usize, indent: usize, text: &str) {
        let under_goal = matches!(self.target, Target::Goal(_)) && self.anchor.is_some();
        let area_goal = self.anchor.is_none()
            && matches!(self.target, Target::Area | Target::Goal(_))
            && !self.numbered_ahead[at];
        if !under_goal && !area_goal {
            return self.push_text(at, &format!("- {text}"));
        }
        if let Some(area) = self
            .areas
            .last_mut()
            .filter(|area| area_goal && !area.bullets_noted)
        {
            area.bullets_noted = true;
            let message = format!(
                "the area \"{}\" has no numbered goals, so its bullets were read as its goals",
                area.title
            );
            self.note(at, message);
        }
        while self
            .bullets
            .last()
            .is_some_and(|&(above, _)| above >= indent)
        {
            self.bullets.pop();
        }
        let parent = self.bullets.last().map(|&(_, goal)| goal).or(self.anchor);
        let goal = self.add_goal(at, parent, None, indent, text);
        self.bullets.push((indent, goal));
    }

    fn add_goal(
        &mut self,
        at: usize,
        mut parent: Option<usize>,
        code: Option<String>,
        indent: usize,
        text: &str,
    ) -> usize {
        let (mut title, updates, start_date) = self.annotations(text);
        if parent.is_some_and(|goal| self.level(goal) >= MAX_LEVELS) {
            while let Some(goal) = parent.filter(|&goal| self.level(goal) >= MAX_LEVELS) {
                parent = self.goals[goal].parent;
            }
            self.note(at, format!("goals nest at most {MAX_LEVELS} levels deep, so this one was put at level {MAX_LEVELS}"));
        }
        if title.is_empty() {
            title = text.to_owned();
        }
        let mut description = Text::default();
        let length = title.chars().count();
        if length > GOAL_TITLE {
            self.note(at, format!("the goal title is {length} characters, more than the {GOAL_TITLE} allowed; it was cut at a word boundary and kept whole in the description"));
            description.push(at, &title);
            title = shorten(&title, GOAL_TITLE);
        }
        self.goals.push(Goal {
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

    /// A goal's level: 1 for a goal of its area, 2 for its sub-goals, ...
    fn level(&self, goal: usize) -> usize {
        std::iter::successors(Some(goal), |&goal| self.goals[goal].parent).count()
    }

    fn push_text(&mut self, at: usize, text: &str) {
        match self.target {
            Target::Summary => self.summary.push(at, text),
            Target::ValueProposition => self.value_proposition.push(at, text),
            Target::Area => {
                if let Some(area) = self.areas.last_mut() {
                    area.description.push(at, text);
                }
            }
            Target::Goal(goal) => {
                let indent = indent_of(self.raw[at]);
                let more_goals = self.last_goal_line.is_some_and(|last| at < last);
                let goal = &mut self.goals[goal];
                if at == goal.last_line + 1 || indent > goal.indent || more_goals {
                    goal.description.push(at, text);
                    goal.last_line = at;
                } else {
                    self.target = Target::Nowhere;
                    self.unplaced.push(at);
                }
            }
            Target::Nowhere => self.unplaced.push(at),
        }
    }

    /// The goal's title without the annotations in parentheses that say something about
    /// it ("(Completed)", "(Revision March 2024)", "(New goal as of 2023)"), and what they say.
    fn annotations(&self, text: &str) -> (String, Vec<Update>, Option<NaiveDate>) {
        let (mut title, mut updates, mut start_date) = (String::new(), Vec::new(), None);
        let mut rest = text;
        while let Some(open) = rest.find('(') {
            let Some(length) = rest[open..].find(')') else {
                break;
            };
            title.push_str(&rest[..open]);
            match self.annotation(&rest[open + 1..open + length]) {
                Some(Annotation::Update(update)) => updates.push(update),
                Some(Annotation::Start(date)) => start_date = Some(date),
                None => title.push_str(&rest[open..=open + length]),
            }
            rest = &rest[open + length + 1..];
        }
        title.push_str(rest);
        let title = title.split_whitespace().collect::<Vec<_>>().join(" ");
        let title = title.replace(" .", ".").replace(" ,", ",");
        (trim_separators(&title).to_owned(), updates, start_date)
    }

    fn annotation(&self, inside: &str) -> Option<Annotation> {
        let said = inside.trim().trim_end_matches(['.', '!']).to_lowercase();
        if let Some(&(words, status)) = MARKS
            .iter()
            .find(|(words, _)| words.contains(&said.as_str()))
        {
            let completed = status == GoalStatus::Completed;
            return Some(Annotation::Update(Update {
                status,
                progress: completed.then_some(100),
                as_of: self.status_date,
                note: format!(
                    "Marked {} in the plan outline",
                    if completed { words[0] } else { &said }
                ),
            }));
        }
        let first = said.split_whitespace().next()?.trim_end_matches([':', '.']);
        if ["revision", "revised", "updated", "update", "rev"].contains(&first) {
            let (as_of, when) = month_year(&said)?;
            let note = format!("Revised in {when}");
            return Some(Annotation::Update(Update {
                status: GoalStatus::OnTrack,
                progress: None,
                as_of,
                note,
            }));
        }
        // "(New goal as of 2023)", "(New in 2023)", "(Added 2023)"; not a longer aside.
        if first == "added" || first == "new" && said.split_whitespace().count() <= 5 {
            return Some(Annotation::Start(month_year(&said)?.0));
        }
        None
    }

    fn shortened(&mut self, at: usize, text: &str, max: usize, what: &str) -> String {
        let length = text.chars().count();
        if length > max {
            self.note(at, format!("the {what} is {length} characters, more than the {max} allowed; it was cut at a word boundary"));
        }
        shorten(text, max)
    }

    /// A Markdown heading with no goals under it is not an area: before the first goal
    /// it is part of the introduction, after the last one it is not part of the plan.
    fn settle_headings_without_goals(&mut self) {
        let with_goals: HashSet<usize> = self.goals.iter().map(|goal| goal.area).collect();
        let (Some(&first), Some(&last)) = (with_goals.iter().min(), with_goals.iter().max()) else {
            return;
        };
        for (index, area) in self.areas.iter_mut().enumerate() {
            if area.explicit || with_goals.contains(&index) {
                continue;
            }
            let message = if index < first {
                area.kept = false;
                self.summary.push(area.line, &area.title);
                self.summary.0.append(&mut area.description.0);
                "so it and its text were put in the summary"
            } else if index > last {
                area.kept = false;
                self.unplaced.push(area.line);
                self.unplaced
                    .extend(area.description.0.iter().map(|(at, _)| at));
                "and it comes after the last goal, so it and its text were not imported"
            } else {
                "it was imported as an area without goals"
            };
            self.notes.push((
                area.line,
                format!(
                    "the heading \"{}\" has no goals under it; {message}",
                    area.title
                ),
            ));
        }
    }

    fn finish(mut self, title: String, period: &Period, approval: Approval) -> Outline {
        self.settle_headings_without_goals();
        let mut notes = std::mem::take(&mut self.notes);
        let mut plan = Map::new();
        plan.insert("title".into(), title.into());
        insert_text(&mut plan, "summary", &self.summary, &mut notes);
        insert_text(
            &mut plan,
            "value_proposition",
            &self.value_proposition,
            &mut notes,
        );
        plan.insert("period_start".into(), json!(period.start));
        plan.insert("period_end".into(), json!(period.end));
        if let Some(by) = approval.by {
            plan.insert("approved_by".into(), by.into());
        }
        if let Some(on) = approval.on {
            plan.insert("approved_on".into(), json!(on));
        }
        let mut children = vec![Vec::new(); self.goals.len()];
        let mut roots = vec![Vec::new(); self.areas.len()];
        for (id, goal) in self.goals.iter().enumerate() {
            match goal.parent {
                Some(parent) => children[parent].push(id),
                None => roots[goal.area].push(id),
            }
        }
        let mut areas = Vec::new();
        for (index, area) in self.areas.iter().enumerate().filter(|(_, area)| area.kept) {
            let mut object = Map::new();
            object.insert("title".into(), area.title.clone().into());
            insert_text(&mut object, "description", &area.description, &mut notes);
            let goals = roots[index]
                .iter()
                .map(|&goal| goal_json(&self.goals, &children, goal, &mut notes));
            insert_list(&mut object, "goals", goals.collect());
            areas.push(Value::Object(object));
        }
        insert_list(&mut plan, "areas", areas);

        notes.sort_by_key(|(at, _)| *at);
        self.unplaced.sort_unstable();
        self.unplaced.dedup();
        Outline {
            document: Value::Object(plan),
            unplaced: self
                .unplaced
                .iter()
                .map(|&at| UnplacedLine {
                    line: at + 1,
                    text: self.raw[at].trim().to_owned(),
                })
                .collect(),
            notes: notes
                .into_iter()
                .map(|(at, note)| format!("line {}: {note}", at + 1))
                .collect(),
        }
    }
}

fn goal_json(
    goals: &[Goal],
    children: &[Vec<usize>],
    id: usize,
    notes: &mut Vec<(usize, String)>,
) -> Value {
    let goal = &goals[id];
    let mut object = Map::new();
    object.insert("title".into(), goal.title.clone().into());
    if let Some(code) = &goal.code {
        object.insert("code".into(), code.clone().into());
    }
    insert_text(&mut object, "description", &goal.description, notes);
    if let Some(start_date) = goal.start_date {
        object.insert("start_date".into(), json!(start_date));
    }
    let mut updates = goal.updates.clone();
    updates.sort_by_key(|update| std::cmp::Reverse(update.as_of));
    let updates = updates.into_iter().map(|update| {
        let mut object = Map::new();
        object.insert("status".into(), json!(update.status));
        if let Some(progress) = update.progress {
            object.insert("progress_percent".into(), progress.into());
        }
        object.insert("as_of".into(), json!(update.as_of));
        object.insert("note".into(), update.note.into());
        Value::Object(object)
    });
    insert_list(&mut object, "status_updates", updates.collect());
    let sub_goals = children[id]
        .iter()
        .map(|&sub| goal_json(goals, children, sub, notes));
    insert_list(&mut object, "sub_goals", sub_goals.collect());
    Value::Object(object)
}

/// Sets `key` to the text, if there is any, cut to the longest text a field holds.
fn insert_text(
    object: &mut Map<String, Value>,
    key: &str,
    text: &Text,
    notes: &mut Vec<(usize, String)>,
) {
    let Some(joined) = text.joined() else {
        return;
    };
    let length = joined.chars().count();
    if length > LONG_TEXT {
        let at = text.0.iter().map(|(at, _)| *at).min().unwrap_or_default();
        notes.push((at, format!("the {key} is {length} characters, more than the {LONG_TEXT} allowed; it was cut at a word boundary")));
    }
    object.insert(key.into(), shorten(&joined, LONG_TEXT).into());
}

/// Sets `key` to the list, unless it is empty: a document leaves out keys with no value.
fn insert_list(object: &mut Map<String, Value>, key: &str, items: Vec<Value>) {
    if !items.is_empty() {
        object.insert(key.into(), items.into());
    }
}
