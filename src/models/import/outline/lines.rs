//! Classifying one line of an outline on its own: a title, a heading, a label, a
//! numbered goal, a bullet, a rule, or text. Where the line goes is the [`Reader`]'s
//! business; here only its own words count.
//!
//! [`Reader`]: super::reader::Reader

use super::words::{one_of, strip_any_word, trim_separators};

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

/// What one line of an outline is, judged on its own.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Line {
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
    pub(super) fn starts_body(&self) -> bool {
        matches!(self, Line::Goal(..) | Line::Heading(Some(_), ..))
    }

    /// For a value proposition heading, the text that follows it on the same line.
    pub(super) fn value_proposition(&self) -> Option<&str> {
        match self {
            Line::Text(text) => value_proposition_heading(text, false),
            Line::Heading(None, _, title) => value_proposition_heading(title, true),
            _ => None,
        }
    }
}

/// What `raw` is, from its own words: structure is recognised by its opening words
/// and numbers, whatever the Markdown, bullets or indentation around them.
pub(super) fn classify(raw: &str) -> Line {
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
pub(super) fn plain(text: &str) -> String {
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
pub(super) fn heading_like(text: &str) -> bool {
    text.chars().count() <= 100 && !text.ends_with(['.', '!', '?', ',', ';'])
}

/// How far a line is indented, in bytes of leading white space.
pub(super) fn indent_of(raw: &str) -> usize {
    raw.len() - raw.trim_start().len()
}
