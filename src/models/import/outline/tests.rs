//! Whole outlines read end to end: the Core plan, plans of other associations in
//! Markdown and plain text, and the outlines that are refused.

use serde_json::{Value, json};

use super::reader::GOAL_TITLE;
use super::{Outline, UnplacedLine, parse};
use crate::error::FieldError;

const CORE: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/examples/core-strategic-plan-2022-2025.txt"
));

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
    assert!(value_proposition.starts_with("At some phases of your career, you will need Core."));
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
            "1", "1>1.1", "1>1.2", "1>1.3", "2", "2>2.1", "2>2.2", "3", "3>3.1", "3>3.2", "3>3.3"
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
        outline.notes[0]
            .starts_with("line 1: the plan period 2024-2026 was read as 2024-01-01 to 2026-12-31")
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
