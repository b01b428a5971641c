//! Reading `src/` for the layer rules: every file's module path, and every path it
//! names (`use` trees, `crate::`, `super::`, `self::`, names a `use` or a `mod`
//! brought in, HTTP crates), resolved to absolute paths, comments and literals
//! aside.

use std::collections::{BTreeSet, HashMap};
use std::path::Path;
use std::sync::OnceLock;

/// The crates that make code HTTP code.
pub const HTTP: &[&str] = &["actix_web", "utoipa_actix_web"];

/// A path named in a file; `to` starts with `crate` or an HTTP crate.
pub struct Reference {
    pub file: String,
    pub line: usize,
    pub from: Vec<String>,
    pub to: Vec<String>,
}

impl std::fmt::Display for Reference {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}:{} imports {}",
            self.file,
            self.line,
            self.to.join("::")
        )
    }
}

/// `src/`, read once for all the tests: every file's module path, every reference.
pub fn tree() -> &'static (BTreeSet<Vec<String>>, Vec<Reference>) {
    static TREE: OnceLock<(BTreeSet<Vec<String>>, Vec<Reference>)> = OnceLock::new();
    TREE.get_or_init(|| {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let (mut modules, mut references, mut dirs) =
            (BTreeSet::new(), vec![], vec![root.join("src")]);
        while let Some(dir) = dirs.pop() {
            for entry in std::fs::read_dir(&dir).expect("src/ is readable") {
                let path = entry.expect("a directory entry").path();
                let file = path
                    .strip_prefix(root)
                    .expect("a path under the crate")
                    .to_string_lossy()
                    .replace('\\', "/");
                if path.is_dir() {
                    dirs.push(path);
                } else if file.ends_with(".rs") {
                    let text = std::fs::read_to_string(&path).expect("a readable source file");
                    modules.insert(module_of(&file));
                    references.extend(references_in(&file, &text));
                }
            }
        }
        (modules, references)
    })
}

/// `src/api/middleware/access.rs` is `api::middleware::access`; lib.rs and main.rs the root.
fn module_of(file: &str) -> Vec<String> {
    match file.trim_start_matches("src/").trim_end_matches(".rs") {
        "lib" | "main" => vec![],
        path => path.split('/').map(str::to_owned).collect(),
    }
}

/// The code's tokens and their lines: identifiers (`$crate` is one), `::`, and single
/// punctuation. Comments, strings and char literals are skipped: a path in a doc
/// comment or a message is no import.
pub fn tokens(text: &str) -> Vec<(String, usize)> {
    let c: Vec<char> = text.chars().collect();
    let word = |k: usize| {
        c.get(k)
            .is_some_and(|ch| ch.is_alphanumeric() || *ch == '_')
    };
    let (mut out, mut line, mut i) = (vec![], 1, 0);
    while i < c.len() {
        let next = c.get(i + 1).copied();
        // A raw string starts at `r` or `br`, then as many `#` as end it after its `"`.
        let r = i + usize::from(c[i] == 'b' && next == Some('r'));
        let hashes = c[r + 1..].iter().take_while(|&&h| h == '#').count();
        let end = match c[i] {
            '/' if next == Some('/') => (i..c.len()).find(|&k| c[k] == '\n').unwrap_or(c.len()),
            '/' if next == Some('*') => {
                let (mut depth, mut k) = (0, i);
                while k < c.len() && (depth > 0 || k == i) {
                    let pair = (c[k], c.get(k + 1).copied());
                    depth += match pair {
                        ('/', Some('*')) => 1,
                        ('*', Some('/')) => -1,
                        _ => 0,
                    };
                    k += if matches!(pair, ('/', Some('*')) | ('*', Some('/'))) {
                        2
                    } else {
                        1
                    };
                }
                k
            }
            'b' | 'r'
                if c[r] == 'r'
                    && !word(i.wrapping_sub(1))
                    && c.get(r + hashes + 1) == Some(&'"') =>
            {
                let closes =
                    |k: &usize| c[*k] == '"' && c[k + 1..].iter().take(hashes).all(|&h| h == '#');
                (r + hashes + 2..c.len())
                    .find(closes)
                    .map_or(c.len(), |k| k + hashes + 1)
            }
            '"' => {
                let mut k = i + 1;
                while k < c.len() && c[k] != '"' {
                    k += if c[k] == '\\' { 2 } else { 1 };
                }
                k + 1
            }
            // A char literal ('x', '\'', '\u{..}'); a lifetime ('a) has no closing quote.
            '\'' if next == Some('\\') || c.get(i + 2) == Some(&'\'') => {
                let from = i + 2 + usize::from(next == Some('\\'));
                (from..c.len())
                    .find(|&k| c[k] == '\'')
                    .map_or(c.len(), |k| k + 1)
            }
            ch => {
                let len = match ch {
                    _ if word(i) || ch == '$' => 1 + (i + 1..).take_while(|&k| word(k)).count(),
                    ':' if next == Some(':') => 2,
                    _ => 1,
                };
                if !ch.is_whitespace() {
                    out.push((c[i..i + len].iter().collect(), line));
                }
                i + len
            }
        };
        line += c[i..end.min(c.len())]
            .iter()
            .filter(|&&ch| ch == '\n')
            .count();
        i = end;
    }
    out
}

fn is_ident(token: &str) -> bool {
    token.starts_with(|c: char| c.is_alphabetic() || c == '_' || c == '$')
}

/// Parses a path or use tree at `t[i]` (`a::b::{self, c::D as E, f::*}`), pushing
/// each leaf as (path, line it starts on, name it binds); returns the index after it.
type Leaf = (Vec<String>, usize, Option<String>);
fn use_tree(t: &[(String, usize)], mut i: usize, prefix: &[String], out: &mut Vec<Leaf>) -> usize {
    let (mut path, line) = (prefix.to_vec(), t.get(i).map_or(0, |t| t.1));
    let is = |k: usize, s: &str| t.get(k).is_some_and(|t| t.0 == s);
    loop {
        match t.get(i).map(|t| t.0.as_str()) {
            Some("{") => {
                i += 1;
                while i < t.len() && !is(i, "}") {
                    let after = use_tree(t, i, &path, out);
                    i = if is(after, ",") {
                        after + 1
                    } else {
                        after.max(i + 1)
                    };
                }
                return i + 1;
            }
            Some(segment) if is_ident(segment) && segment != "as" => {
                path.push(segment.to_owned());
                i += 1;
                if is(i, "::") {
                    i += 1;
                    continue;
                }
                let mut name = Some(segment.to_owned()).filter(|s| s != "self");
                name = name.or_else(|| prefix.last().cloned());
                if is(i, "as") {
                    (name, i) = (t.get(i + 1).map(|t| t.0.clone()), i + 2);
                }
                out.push((path, line, name));
                return i;
            }
            // A glob, or `::<T>` after a path: it ends here and binds no name.
            _ => {
                if path.len() > prefix.len() {
                    out.push((path, line, None));
                }
                return i;
            }
        }
    }
}

/// Every path in one file, resolved against the (inline) module it is written in.
pub fn references_in(file: &str, text: &str) -> Vec<Reference> {
    let (t, from) = (tokens(text), module_of(file));
    let absolute = |m: &[String]| [&["crate".to_owned()], m].concat();
    // What a bare path may start with: child modules, crate paths a `use` brought in.
    let mut names: HashMap<String, Vec<String>> = HashMap::new();
    let (mut braces, mut inline, mut out, mut i) = (vec![], vec![], vec![], 0);
    while i < t.len() {
        let here = [&from[..], &inline[..]].concat();
        let token = t[i].0.as_str();
        match token {
            "{" => braces.push(false),
            // Every `}` closes a brace; one that opened an inline `mod` leaves it.
            "}" if braces.pop() == Some(true) => drop(inline.pop()),
            "mod" if t.get(i + 1).is_some_and(|n| is_ident(&n.0)) => {
                let child = t[i + 1].0.clone();
                names.insert(
                    child.clone(),
                    absolute(&[&here[..], std::slice::from_ref(&child)].concat()),
                );
                if t.get(i + 2).is_some_and(|n| n.0 == "{") {
                    braces.push(true);
                    inline.push(child);
                    i += 3;
                    continue;
                }
            }
            _ => {}
        }
        let is_use = token == "use";
        let starts = is_ident(token) && t.get(i + 1).is_some_and(|n| n.0 == "::");
        if !is_use && !(starts && (i == 0 || t[i - 1].0 != "::")) {
            i += 1;
            continue;
        }
        let mut leaves = vec![];
        i = use_tree(&t, i + usize::from(is_use), &[], &mut leaves);
        for (path, line, name) in leaves {
            let mut to = match path[0].as_str() {
                "crate" | "$crate" => absolute(&[]),
                "self" => absolute(&here),
                "super" => absolute(&here[..here.len().saturating_sub(1)]),
                http if HTTP.contains(&http) => vec![http.to_owned()],
                other => match names.get(other) {
                    Some(known) => known.clone(),
                    None => continue,
                },
            };
            for segment in &path[1..] {
                match segment.as_str() {
                    "super" if to.len() > 1 => drop(to.pop()),
                    "self" | "super" => {}
                    _ => to.push(segment.clone()),
                }
            }
            if let Some(name) = name.filter(|_| is_use && to[0] == "crate") {
                names.insert(name, to.clone());
            }
            let (file, from) = (file.to_owned(), from.clone());
            out.push(Reference {
                file,
                line,
                from,
                to,
            });
        }
    }
    out
}

/// The file a crate path lands in: the longest prefix of it that is a file's module.
pub fn file_of(to: &[String]) -> Option<Vec<String>> {
    let mut prefixes = (1..=to.len()).rev().map(|n| to[1..n].to_vec());
    prefixes
        .find(|m| tree().0.contains(m))
        .filter(|_| to[0] == "crate")
}
