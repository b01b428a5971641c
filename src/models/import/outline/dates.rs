//! Years, dates and month names as plans write them: "2022-2025", "FY2024-FY26",
//! "April 18, 2024", "18 April 2024", "2024-04-18", "March 2024".

use chrono::NaiveDate;

use super::words::strip_prefix_ci;

/// Month names in order; a word of three letters or more that opens one names that
/// month ("Mar", "Sept").
const MONTHS: &str =
    "January February March April May June July August September October November December";

/// The first range of years in `text` ("2022-2025", "2022 – 2025", "2022 to 2025",
/// "FY2024-FY2026", "2024-26"), as January 1 of the first to December 31 of the last.
pub(super) fn year_range(text: &str) -> Option<(NaiveDate, NaiveDate)> {
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

/// The first date among `words` ("April 18, 2024", "18 April 2024", "2024-04-18"): the
/// index of its first word, how many words it takes, and the date.
pub(super) fn find_date(words: &[&str]) -> Option<(usize, usize, NaiveDate)> {
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
pub(super) fn month_year(text: &str) -> Option<(NaiveDate, String)> {
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
