//! The CSV reader: RFC 4180 as spreadsheets save it, every problem with its line.

use super::BOM;

/// One record of a CSV document: its fields, and the line of the file it starts on
/// (the header is line 1), by which problems are reported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// The file's line number where the record starts.
    pub line: usize,
    /// The fields, unquoted.
    pub fields: Vec<String>,
}

/// Where a CSV document breaks RFC 4180, and how.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
    /// The file's line number.
    pub line: usize,
    /// What is wrong.
    pub message: &'static str,
}

/// Reads a CSV document as RFC 4180 has it, and as spreadsheets save it: with or
/// without a leading byte order mark, with CRLF or LF line ends. Blank lines are
/// skipped. A record with a quoting problem is left out and reported, and reading
/// goes on with the next line, so that every problem is told at once.
pub fn parse(text: &str) -> (Vec<Record>, Vec<SyntaxError>) {
    let mut reader = Reader::default();
    let mut chars = text.strip_prefix(BOM).unwrap_or(text).chars().peekable();
    while let Some(c) = chars.next() {
        if reader.broken {
            if c == '\n' {
                reader.line += 1;
                reader.start_record();
            }
        } else if reader.quoted {
            match c {
                '"' if chars.peek() == Some(&'"') => {
                    chars.next();
                    reader.field.push('"');
                }
                '"' => {
                    reader.quoted = false;
                    reader.closed = true;
                }
                _ => {
                    reader.line += usize::from(c == '\n');
                    reader.field.push(c);
                }
            }
        } else {
            match c {
                ',' => reader.end_field(),
                // The LF that follows ends the record.
                '\r' if chars.peek() == Some(&'\n') => {}
                '\n' | '\r' => {
                    reader.end_record();
                    reader.line += 1;
                    reader.start_record();
                }
                _ if reader.closed => reader.fail("text follows the closing quote of a field"),
                '"' if reader.field.is_empty() => {
                    reader.quoted = true;
                    reader.started = true;
                }
                '"' => reader.fail(
                    "a quote inside a field that does not start with one; quote the whole field and double its quotes",
                ),
                _ => {
                    reader.started = true;
                    reader.field.push(c);
                }
            }
        }
    }
    if reader.quoted {
        reader.line = reader.record_line;
        reader.fail("a quoted field is never closed");
    } else if !reader.broken {
        reader.end_record();
    }
    (reader.records, reader.errors)
}

/// The state of [`parse`].
#[derive(Debug)]
struct Reader {
    records: Vec<Record>,
    errors: Vec<SyntaxError>,
    fields: Vec<String>,
    field: String,
    line: usize,
    record_line: usize,
    /// Inside a quoted field.
    quoted: bool,
    /// The field's closing quote has been read.
    closed: bool,
    /// The field has begun (with a quote or a character).
    started: bool,
    /// The record is broken: skip to the end of the line.
    broken: bool,
}

impl Default for Reader {
    fn default() -> Self {
        Self {
            records: Vec::new(),
            errors: Vec::new(),
            fields: Vec::new(),
            field: String::new(),
            line: 1,
            record_line: 1,
            quoted: false,
            closed: false,
            started: false,
            broken: false,
        }
    }
}

impl Reader {
    fn end_field(&mut self) {
        self.fields.push(std::mem::take(&mut self.field));
        self.closed = false;
        self.started = true;
    }

    fn end_record(&mut self) {
        if self.fields.is_empty() && !self.started {
            return;
        }
        self.end_field();
        self.records.push(Record {
            line: self.record_line,
            fields: std::mem::take(&mut self.fields),
        });
    }

    fn start_record(&mut self) {
        self.fields.clear();
        self.field.clear();
        self.record_line = self.line;
        self.closed = false;
        self.started = false;
        self.broken = false;
    }

    fn fail(&mut self, message: &'static str) {
        self.errors.push(SyntaxError {
            line: self.line,
            message,
        });
        self.broken = true;
    }
}

#[cfg(test)]
mod tests {
    use super::{Record, SyntaxError, parse};
    use crate::csv::{Cell, Table, restored};

    fn text(value: &str) -> Cell {
        Cell::Text(value.to_owned())
    }

    fn fields(records: &[Record]) -> Vec<(usize, Vec<&str>)> {
        records
            .iter()
            .map(|r| (r.line, r.fields.iter().map(String::as_str).collect()))
            .collect()
    }

    #[test]
    fn what_the_writer_writes_the_reader_reads_back() {
        let values = ["x, y", "say \"hi\"", "two\nlines", "=SUM(A1)", "", "plain"];
        let mut table = Table::new(["a", "b"]);
        for value in values {
            table.row([text(value), Cell::Number(-3.5)]);
        }
        let (records, errors) = parse(&table.finish());

        assert_eq!(errors, []);
        let read: Vec<String> = records[1..]
            .iter()
            .map(|r| restored(&r.fields[0]).to_owned())
            .collect();
        assert_eq!(read, values);
        assert_eq!(records[4].line, 6, "the line after a two-line field");
        assert!(records[1..].iter().all(|r| r.fields[1] == "-3.5"));
    }

    #[test]
    fn lf_line_ends_blank_lines_and_no_bom_are_fine() {
        let (records, errors) = parse("a,b\n\n1,\n,2");
        assert_eq!(errors, []);
        assert_eq!(
            fields(&records),
            [(1, vec!["a", "b"]), (3, vec!["1", ""]), (4, vec!["", "2"])]
        );
    }

    #[test]
    fn every_quoting_problem_is_reported_with_its_line() {
        let (records, errors) = parse("a,b\r\nx\"y,1\r\n\"ok\",2\r\n\"z\"w,3\r\n\"open,4\r\n");
        assert_eq!(
            fields(&records),
            [(1, vec!["a", "b"]), (3, vec!["ok", "2"])]
        );
        let lines: Vec<usize> = errors.iter().map(|e: &SyntaxError| e.line).collect();
        assert_eq!(lines, [2, 4, 5]);
    }
}
