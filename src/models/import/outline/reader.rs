//! Placing each line by what came before it: areas, goals numbered "2.3" under
//! "2", bullets nested by indent under the goal above, and text into the summary,
//! the value proposition, a description, or unplaced.

use chrono::NaiveDate;
use serde_json::Value;

use super::annotations::annotations;
use super::lines::{Line, indent_of};
use super::words::shorten;
use crate::models::derived::goal_codes::MAX_LEVELS;
use crate::models::validation::SHORT_TEXT;

/// Paragraphs gathered from lines of the outline, with their (0-based) line numbers.
#[derive(Debug, Default)]
pub(super) struct Text(pub(super) Vec<(usize, String)>);

impl Text {
    pub(super) fn push(&mut self, at: usize, text: &str) {
        self.0.push((at, text.to_owned()));
    }

    /// Lines next to each other make a paragraph (a list item keeps its own line);
    /// paragraphs are separated by a blank line, as in the outline.
    pub(super) fn joined(&self) -> Option<String> {
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

/// Longest goal title, in characters: plans state goals as whole sentences.
pub(super) const GOAL_TITLE: usize = 500;

/// The area for goals written before any area heading.
const IMPLICIT_AREA: &str = "Strategic Area 1";

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
pub(super) struct Area {
    pub(super) line: usize,
    pub(super) title: String,
    /// The number in its heading (none for a plain Markdown heading): goals "1.1",
    /// "1.2" under "Priority 1" are goals of the area.
    pub(super) number: Option<u32>,
    /// Its Markdown heading level: deeper headings under it are text.
    level: Option<usize>,
    pub(super) description: Text,
    bullets_are_goals: bool,
    pub(super) dropped: bool,
}

/// A goal as read, in the flat list of all goals; `parent` links make the tree.
pub(super) struct Goal {
    pub(super) line: usize,
    pub(super) area: usize,
    pub(super) parent: Option<usize>,
    indent: usize,
    /// The goal's line or its latest continuation line.
    last_line: usize,
    pub(super) code: Option<String>,
    pub(super) title: String,
    pub(super) description: Text,
    pub(super) start_date: Option<NaiveDate>,
    /// Status updates, with the date each speaks for.
    pub(super) updates: Vec<(NaiveDate, Value)>,
}

/// Reads the lines after the title, in order, keeping track of where text goes.
#[derive(Default)]
pub(super) struct Reader<'a> {
    pub(super) raw: &'a [&'a str],
    lines: Vec<Line>,
    /// Where the structure starts: only lines before it can head the value proposition.
    body: usize,
    /// A paragraph set apart after the last goal or bullet ends the outline: not the goal's.
    last_goal_line: Option<usize>,
    /// For each line, whether a numbered goal follows before the next heading.
    numbered_ahead: Vec<bool>,
    /// The date of statuses the outline marks: the approval date, else the period's end.
    pub(super) status_date: NaiveDate,
    /// The approval and period lines: facts of the plan, not summary text.
    pub(super) skip: [Option<usize>; 2],
    target: Target,
    pub(super) summary: Text,
    pub(super) value_proposition: Text,
    pub(super) areas: Vec<Area>,
    pub(super) goals: Vec<Goal>,
    /// The latest numbered goal at each depth of numbering in the current area.
    open: Vec<Option<usize>>,
    /// The latest numbered goal in the current area: unnumbered bullets go under it.
    anchor: Option<usize>,
    /// (indent, goal) of the unnumbered bullets since the anchor, to nest them by indent.
    bullets: Vec<(usize, usize)>,
    pub(super) notes: Vec<(usize, String)>,
    pub(super) unplaced: Vec<usize>,
}

impl<'a> Reader<'a> {
    pub(super) fn new(raw: &'a [&'a str], lines: Vec<Line>, body: usize) -> Self {
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

    pub(super) fn note(&mut self, at: usize, message: String) {
        self.notes.push((at, message));
    }

    /// Places every line from `first` on.
    pub(super) fn read(&mut self, first: usize) {
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
        let (mut title, updates, start_date) = annotations(text, self.status_date);
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

    /// `text` cut to `max` characters, with a note when it had to be.
    pub(super) fn shortened(&mut self, at: usize, text: &str, max: usize, what: &str) -> String {
        let length = text.chars().count();
        if length > max {
            let note = format!(
                "the {what} is {length} characters, more than the {max} allowed; it was cut at a word boundary"
            );
            self.note(at, note);
        }
        shorten(text, max)
    }
}
