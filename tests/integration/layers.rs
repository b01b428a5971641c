//! The architecture's layer rules, checked against `src/` itself so that they cannot
//! drift from the code. Every file's paths (`use` trees, `crate::`, `super::`,
//! `self::`, names a `use` or a `mod` brought in, HTTP crates) are resolved to
//! absolute paths, comments and literals aside; no database, no dependency.

mod source;

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use source::{Reference, file_of, references_in, tokens, tree};

/// Rules 1 to 4: a layer, what it must not import (an HTTP crate or a top-level
/// module; `*` is any other module), and why.
type Rule = (&'static str, &'static [&'static str], &'static str);
const MODELS: Rule = (
    "models",
    &[
        "actix_web",
        "utoipa_actix_web",
        "api",
        "openapi",
        "cli",
        "startup",
    ],
    "the domain layer (models) must not import HTTP or the document",
);
const API: Rule = (
    "api",
    &["schema"],
    "HTTP code (api) must not reach the tables (schema)",
);
const CONFIG: Rule = (
    "config",
    &["*"],
    "config must not import any other crate module",
);
const ERROR: Rule = (
    "error",
    &["actix_web", "utoipa_actix_web", "db"],
    "error must not import HTTP or db",
);

/// Every reference that breaks `rule`, as "file:line imports path: rule".
fn violations((layer, forbidden, rule): Rule) -> Vec<String> {
    let broken = |r: &&Reference| {
        let in_crate = r.to[0] == "crate";
        let target = if in_crate { r.to.get(1) } else { r.to.first() };
        let any = in_crate && forbidden.contains(&"*");
        target.is_some_and(|t| t != layer && (any || forbidden.contains(&t.as_str())))
    };
    let in_layer = |r: &&Reference| r.from.first().is_some_and(|m| m == layer);
    let found = tree().1.iter().filter(in_layer).filter(broken);
    found.map(|r| format!("{r}: {rule}")).collect()
}

fn assert_none(broken: Vec<String>) {
    let report = format!("{} violation(s):\n{}", broken.len(), broken.join("\n"));
    assert!(broken.is_empty(), "{report}");
}

/// The shortest chain of imports from `start` to `goal`, both included.
fn shortest_chain<'a>(
    edges: &BTreeMap<&'a str, BTreeMap<&'a str, &Reference>>,
    start: &'a str,
    goal: &str,
) -> Option<Vec<&'a str>> {
    let (mut seen, mut queue) = (BTreeSet::from([start]), VecDeque::from([vec![start]]));
    while let Some(path) = queue.pop_front() {
        let last = path[path.len() - 1];
        if last == goal {
            return Some(path);
        }
        for &next in edges.get(last).into_iter().flat_map(BTreeMap::keys) {
            if seen.insert(next) {
                queue.push_back([&path[..], &[next]].concat());
            }
        }
    }
    None
}

#[test]
fn the_reader_sees_grouped_relative_and_http_paths_but_not_comments_or_strings() {
    let text = r##"//! See crate::api (a doc comment).
use crate::{db, models::{self, plan::Plan as P}};
use actix_web::web; /* crate::cli /* nested */ crate::cli */
pub(crate) fn f<'a>(_: &'a str) { ('"', "crate::\"cli", r#"crate::cli"#, crate::startup::run()); }
#[cfg(test)]
mod tests {
    use super::*;
    use super::super::super::schema::plans;
}
use self::child::X;
mod child;
fn g() { models::goal::list(); child::y(); P::new(); }
"##;
    let seen = references_in("src/models/plan.rs", text)
        .into_iter()
        .map(|r| format!("{}:{}", r.line, r.to.join("::")));
    let expected = "2:crate::db 2:crate::models 2:crate::models::plan::Plan 3:actix_web::web \
        4:crate::startup::run 7:crate::models::plan 8:crate::schema::plans \
        10:crate::models::plan::child::X 12:crate::models::goal::list \
        12:crate::models::plan::child::y 12:crate::models::plan::Plan::new";
    assert_eq!(seen.collect::<Vec<_>>().join(" "), expected);
    let http = |r: &Reference| r.from[0] == "api" && r.to[0] == "actix_web";
    assert!(
        tree().1.iter().any(http),
        "no actix_web seen in src/api: src/ is not read"
    );
}

#[test]
fn the_domain_layer_knows_no_http_and_no_document() {
    assert_none(violations(MODELS));
}

#[test]
fn http_code_does_not_reach_the_tables() {
    assert_none(violations(API));
}

#[test]
fn config_and_error_stand_below_everything() {
    assert_none([violations(CONFIG), violations(ERROR)].concat());
}

#[test]
fn the_top_level_modules_import_each_other_in_no_cycle() {
    let lib = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/src/lib.rs"));
    let lib = tokens(&lib.expect("src/lib.rs is readable"));
    let top: BTreeSet<&str> = lib
        .windows(2)
        .filter(|w| w[0].0 == "mod")
        .map(|w| w[1].0.as_str())
        .collect();
    let mut edges: BTreeMap<&str, BTreeMap<&str, &Reference>> = BTreeMap::new();
    for r in &tree().1 {
        let (Some(a), Some(b)) = (r.from.first(), r.to.get(1).filter(|_| r.to[0] == "crate"))
        else {
            continue;
        };
        if a != b && top.contains(a.as_str()) && top.contains(b.as_str()) {
            edges.entry(a).or_default().entry(b).or_insert(r);
        }
    }
    // For every import a -> b, the shortest way back from b to a, if any, closes a
    // cycle; rotated to start at its least module, each cycle is told once.
    let mut cycles = BTreeSet::new();
    for (&a, targets) in &edges {
        for back in targets.keys().filter_map(|&b| shortest_chain(&edges, b, a)) {
            let mut cycle = [&[a][..], &back[..back.len() - 1]].concat();
            let least = (0..cycle.len()).min_by_key(|&k| cycle[k]).unwrap_or(0);
            cycle.rotate_left(least);
            cycles.insert(cycle);
        }
    }
    let broken = cycles.iter().map(|cycle| {
        let chain = [&cycle[..], &cycle[..1]].concat();
        let imports: String = chain
            .windows(2)
            .map(|w| format!("\n    {}", edges[w[0]][w[1]]))
            .collect();
        let rule = "the top-level modules must not import each other in a cycle";
        format!("{}: {rule}{imports}", chain.join(" -> "))
    });
    assert_none(broken.collect());
}

#[test]
fn no_two_model_files_import_each_other_outside_one_aggregate() {
    let mut edges: BTreeMap<(&Vec<String>, Vec<String>), &Reference> = BTreeMap::new();
    let in_models = |m: &[String]| m.first().is_some_and(|m| m == "models");
    for r in tree().1.iter().filter(|r| in_models(&r.from)) {
        if let Some(to) = file_of(&r.to).filter(|to| in_models(to) && *to != r.from) {
            edges.entry((&r.from, to)).or_insert(r);
        }
    }
    // A file's aggregate is the folder right below models (models::import::outline::lines
    // is in `import`); models.rs is in none, so it is never excused.
    let aggregate = |module: &[String]| module.get(1).cloned();
    let rule = "model files must not import each other unless in one aggregate folder";
    let broken = edges
        .iter()
        .filter(|((a, b), _)| **a < *b)
        .filter_map(|((a, b), there)| {
            let back = edges.get(&(b, a.to_vec()))?;
            let excused = aggregate(a).is_some() && aggregate(a) == aggregate(b);
            (!excused).then(|| {
                format!(
                    "{} <-> {}: {rule}\n    {there}\n    {back}",
                    a.join("::"),
                    b.join("::")
                )
            })
        });
    assert_none(broken.collect());
}
