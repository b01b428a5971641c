//! CSV as spreadsheets read it: RFC 4180 quoting, CRLF line ends, a UTF-8 byte
//! order mark, and text cells made safe against formula injection; and the reader
//! of what a spreadsheet sends back ([`parse`]).
//!
//! Written by hand: the one table the service writes and reads needs a few dozen
//! lines, not a crate, and the rules below are ours to state and test.

mod read;

pub use read::{Record, SyntaxError, parse};

/// The UTF-8 byte order mark. Excel reads a CSV file without one in the machine's
/// legacy code page, so "Café" or "Zoë" would arrive garbled; with it, every
/// spreadsheet reads UTF-8. CSV libraries skip it (Python's `utf-8-sig`, for one).
pub const BOM: &str = "\u{feff}";

/// The media type of what [`Table`] writes.
pub const CONTENT_TYPE: &str = "text/csv; charset=utf-8";

/// One cell of a row.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    /// Free text, as people typed it: made safe against formula injection.
    Text(String),
    /// A number, written as is: a spreadsheet must read "-3" as minus three.
    Number(f64),
    /// Nothing.
    Empty,
}

impl From<Option<String>> for Cell {
    fn from(text: Option<String>) -> Self {
        text.map_or(Self::Empty, Self::Text)
    }
}

/// A CSV document under construction: a header row, then rows of cells.
#[derive(Debug)]
pub struct Table {
    text: String,
}

impl Table {
    /// A table that starts with the byte order mark and this header row.
    pub fn new<'a>(header: impl IntoIterator<Item = &'a str>) -> Self {
        let mut table = Self {
            text: BOM.to_owned(),
        };
        table.row(header.into_iter().map(|name| Cell::Text(name.to_owned())));
        table
    }

    /// Appends one row, ended by CRLF as RFC 4180 has it.
    pub fn row(&mut self, cells: impl IntoIterator<Item = Cell>) {
        for (index, cell) in cells.into_iter().enumerate() {
            if index > 0 {
                self.text.push(',');
            }
            match cell {
                Cell::Text(text) => self.text.push_str(&quoted(&defused(text))),
                Cell::Number(number) => self.text.push_str(&number.to_string()),
                Cell::Empty => {}
            }
        }
        self.text.push_str("\r\n");
    }

    /// The whole document.
    pub fn finish(self) -> String {
        self.text
    }
}

/// Text a spreadsheet would run as a formula (`=`, `+`, `-`, `@`), or one that
/// starts with a tab or carriage return (which some strip before looking for
/// those), gets a leading `'`: shown as text, never run. This is OWASP's advice
/// against CSV injection; a note such as "=HYPERLINK(...)" from a status update
/// must not become a live link in the board's spreadsheet.
fn defused(text: String) -> String {
    match text.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{text}"),
        _ => text,
    }
}

/// The field as RFC 4180 writes it: in double quotes, with quotes doubled, when it
/// holds a comma, a quote or a line break; as is otherwise.
fn quoted(text: &str) -> String {
    if text.contains([',', '"', '\r', '\n']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_owned()
    }
}

/// The text a spreadsheet would show for a cell [`defused`] wrote: the leading `'`
/// taken off again, so that a sheet exported and read back says what it said.
pub fn restored(text: &str) -> &str {
    match text.strip_prefix('\'') {
        Some(rest) if rest.starts_with(['=', '+', '-', '@', '\t', '\r']) => rest,
        _ => text,
    }
}

#[cfg(test)]
mod tests {
    use super::{BOM, Cell, Table};

    fn text(value: &str) -> Cell {
        Cell::Text(value.to_owned())
    }

    #[test]
    fn a_table_is_a_bom_a_header_and_crlf_rows() {
        let mut table = Table::new(["code", "value"]);
        table.row([text("1.1"), Cell::Number(2.5)]);
        table.row([Cell::Empty, Cell::Number(-3.0)]);

        assert_eq!(
            table.finish(),
            format!("{BOM}code,value\r\n1.1,2.5\r\n,-3\r\n")
        );
    }

    #[test]
    fn commas_quotes_and_line_breaks_are_quoted() {
        let mut table = Table::new(["a"]);
        for value in ["x, y", "say \"hi\"", "two\nlines", "cr\rend", "plain"] {
            table.row([text(value)]);
        }

        let rows: Vec<String> = table.finish().split("\r\n").map(str::to_owned).collect();
        assert_eq!(
            rows[1..],
            [
                "\"x, y\"",
                "\"say \"\"hi\"\"\"",
                "\"two\nlines\"",
                "\"cr\rend\"",
                "plain",
                ""
            ]
        );
    }

    #[test]
    fn text_that_a_spreadsheet_would_run_is_defused_but_numbers_are_not() {
        let mut table = Table::new(["a"]);
        for value in ["=SUM(A1)", "+1", "-2+3", "@x", "\tx", "=1,2", "a=b"] {
            table.row([text(value)]);
        }
        table.row([Cell::Number(-3.0)]);

        let rows: Vec<String> = table.finish().split("\r\n").map(str::to_owned).collect();
        assert_eq!(
            rows[1..],
            [
                "'=SUM(A1)",
                "'+1",
                "'-2+3",
                "'@x",
                "'\tx",
                "\"'=1,2\"",
                "a=b",
                "-3",
                ""
            ]
        );
    }
}
