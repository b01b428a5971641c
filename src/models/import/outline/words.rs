//! Small text helpers shared by the readers of lines, dates and annotations:
//! matching opening words without regard to case, trimming separators, and cutting
//! text to a field's length.

/// Whether `word` is one of the `|`-separated `list`.
pub(super) fn one_of(list: &str, word: &str) -> bool {
    list.split('|').any(|known| known == word)
}

/// `text` after the first word of the `|`-separated `list` that opens it, and its spaces.
pub(super) fn strip_any_word<'a>(text: &'a str, list: &str) -> Option<&'a str> {
    list.split('|').find_map(|word| strip_word(text, word))
}

/// `text` after `word` (in any case) and the spaces after it, if a space follows it.
pub(super) fn strip_word<'a>(text: &'a str, word: &str) -> Option<&'a str> {
    let rest = strip_prefix_ci(text, word)?;
    rest.starts_with(char::is_whitespace)
        .then(|| rest.trim_start())
}

/// `text` without the punctuation that separates a number from its title: "1.1) — Title".
pub(super) fn trim_separators(text: &str) -> &str {
    let separator = |c: char| c.is_whitespace() || ":.)-–—".contains(c);
    text.trim_start_matches(separator).trim_end()
}

/// `text` after `prefix`, compared without regard to ASCII case.
pub(super) fn strip_prefix_ci<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
    let head = text.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &text[prefix.len()..])
}

/// `text` cut to at most `max` characters at a word boundary, with an ellipsis.
pub(super) fn shorten(text: &str, max: usize) -> String {
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
